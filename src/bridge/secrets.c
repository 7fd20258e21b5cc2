/* secrets: the two Secrets the bridge keeps for every cluster it makes
 * (docs/fleet-api.md): its PKI, which the hosts hand to the cluster's
 * servers (so every control-plane VM shares one CA and service-account
 * key, and agents join with the token), and the admin kubeconfig that
 * `cairn cluster get-credentials` returns and the bridge itself uses. */
#include "bridge/ctrl-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/crds.h"
#include "lib/base64.h"
#include "lib/pki.h"
#include "lib/util.h"

#define PEM_MAX (64 * 1024)

static char *secret_path(const char *cluster, const char *suffix)
{
    char *name = cn_asprintf("%s-%s", cluster, suffix);
    char *path = cn_client_path("", "v1", CN_FLEET_NAMESPACE, "secrets", name, NULL);
    free(name);
    return path;
}

/* 0 and *out (new reference), -ENOENT when absent, else < 0 with err. */
static int get_secret(cn_client *c, const char *cluster, const char *suffix, json_t **out, cn_err *err)
{
    char *path = secret_path(cluster, suffix);
    int r = cn_client_get(c, path, out, err);
    free(path);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        return -ENOENT;
    }
    return r;
}

static void put_data(json_t *data, const char *key, const char *value)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, value, strlen(value));
    json_object_set_new(data, key, json_string(b.data ? b.data : ""));
    cn_buf_release(&b);
}

static char *get_data(const json_t *secret, const char *key)
{
    const char *v = json_string_value(json_object_get(json_object_get(secret, "data"), key));
    char *out = NULL;
    size_t len;
    if (!v || cn_base64_decode(v, strlen(v), PEM_MAX, &out, &len) < 0) return NULL;
    return out;
}

static int create_secret(cn_client *c, const char *cluster, const char *suffix, json_t *data, cn_err *err)
{
    char *name = cn_asprintf("%s-%s", cluster, suffix);
    json_t *s = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:s,s:o}", "apiVersion", "v1", "kind", "Secret",
                          "metadata", "name", name, "namespace", CN_FLEET_NAMESPACE,
                          "labels", "fleet.cairn.io/cluster", cluster, "type", "Opaque", "data", data);
    char *path = cn_client_path("", "v1", CN_FLEET_NAMESPACE, "secrets", NULL, NULL);
    int r = cn_client_create(c, path, s, NULL, err);
    if (r < 0 && err->code == 409) {
        cn_err_clear(err);
        r = 0;
    }
    free(path);
    json_decref(s);
    free(name);
    return r;
}

/* A fresh CA, service-account key pair and join token. cn_pki_ensure
 * writes files: into a private directory removed at once. */
static int make_pki(const char *cluster, json_t **data, cn_err *err)
{
    char dir[] = "/tmp/cairn-bridge-pki.XXXXXX";
    cn_pki pki = { 0 };
    *data = NULL;
    if (!mkdtemp(dir)) return cn_err_internal(err, "temporary directory: %s", strerror(errno));
    int r = cn_pki_ensure(dir, NULL, 0, &pki, err);
    cn_rm_rf(dir);
    if (r < 0) {
        cn_err_wrap(err, "cluster \"%s\": making its CA", cluster);
        return r;
    }
    unsigned char rnd[16];
    char secret[33];
    cn_random(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(secret + 2 * i, 3, "%02x", rnd[i]);
    char *token = cn_token_format(pki.ca_cert_pem, secret);
    *data = json_object();
    put_data(*data, "ca.crt", pki.ca_cert_pem);
    put_data(*data, "ca.key", pki.ca_key_pem);
    put_data(*data, "sa.key", pki.sa_key_pem);
    put_data(*data, "sa.pub", pki.sa_pub_pem);
    put_data(*data, "token", token);
    free(token);
    cn_pki_release(&pki);
    return 0;
}

static int make_kubeconfig(const char *cluster, const json_t *pki_secret, const char *endpoint,
                           json_t **data, cn_err *err)
{
    cn_pki ca = { .ca_cert_pem = get_data(pki_secret, "ca.crt"), .ca_key_pem = get_data(pki_secret, "ca.key") };
    char *crt = NULL, *key = NULL;
    static const char *const orgs[] = { "system:masters" };
    *data = NULL;
    int r = cn_pki_issue_client(&ca, "cairn-admin", orgs, 1, 3650, &crt, &key, err);
    if (r == 0) {
        char *url = cn_asprintf("https://%s:6443", endpoint);
        char *text = cn_kubeconfig_render(cluster, url, ca.ca_cert_pem, crt, key);
        *data = json_object();
        put_data(*data, "value", text);
        free(text);
        free(url);
    } else {
        cn_err_wrap(err, "cluster \"%s\": admin certificate", cluster);
    }
    free(crt);
    free(key);
    free(ca.ca_cert_pem);
    free(ca.ca_key_pem);
    return r;
}

int cn_bridge_ensure_secrets(cn_client *c, const json_t *cluster, const char *endpoint, cn_err *err)
{
    const char *name = cn_meta_str(cluster, "name");
    json_t *pki = NULL, *kc = NULL, *data = NULL;
    int r = get_secret(c, name, "pki", &pki, err);
    if (r == -ENOENT) {
        r = make_pki(name, &data, err);
        if (r == 0) r = create_secret(c, name, "pki", data, err);
        data = NULL;
        if (r == 0) r = get_secret(c, name, "pki", &pki, err);
    }
    if (r < 0) goto done;
    r = get_secret(c, name, "kubeconfig", &kc, err);
    if (r == -ENOENT) {
        r = make_kubeconfig(name, pki, endpoint, &data, err);
        if (r == 0) r = create_secret(c, name, "kubeconfig", data, err);
    }
done:
    json_decref(pki);
    json_decref(kc);
    return r;
}

int cn_bridge_delete_secrets(cn_client *c, const char *cluster, cn_err *err)
{
    static const char *const suffixes[] = { "pki", "kubeconfig" };
    for (size_t i = 0; i < 2; i++) {
        char *path = secret_path(cluster, suffixes[i]);
        int r = cn_client_delete(c, path, NULL, NULL, err);
        free(path);
        if (r < 0 && err->code != 404) return r;
        cn_err_clear(err);
    }
    return 0;
}
