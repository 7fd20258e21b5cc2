/* Tests for agent/podspec_client with a real in-process API server: the
 * fetch callback (found, missing), and volumes set up through it — a
 * ConfigMap and a service account token projected for a pod, the token
 * bound to the pod and verifiable with the server's pki/sa.pub. Mounts
 * happen in a private mount namespace (root). */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "agent/podspec.h"
#include "podspec_fake.h"
#include "api/apiserver.h"
#include "client/client.h"
#include "lib/jwt.h"
#include "lib/util.h"

static cn_client *cli;
static char dir[] = "/tmp/test_podspec_client.XXXXXX";


static void create(const char *plural, const char *json)
{
    cn_err err = CN_ERR_INIT;
    json_t *obj = json_loads(json, 0, NULL);
    char *path = cn_client_path("", "v1", "default", plural, NULL, NULL);
    int r = cn_client_create(cli, path, obj, NULL, &err);
    if (r < 0) fprintf(stderr, "create %s: %s\n", plural, err.message);
    CHECK_INT(r, 0);
    cn_err_clear(&err);
    free(path);
    json_decref(obj);
}

static void test_fetch(void)
{
    cn_err err = CN_ERR_INIT;
    json_t *out = NULL;
    CHECK_INT(cn_podspec_client_fetch(cli, "configmaps", "default", "cm", &out, &err), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(out, "data"), "a")), "1");
    json_decref(out);
    out = NULL;
    CHECK_INT(cn_podspec_client_fetch(cli, "configmaps", "default", "nope", &out, &err), -ENOENT);
    cn_err_clear(&err);
    CHECK_INT(cn_podspec_client_fetch(cli, "persistentvolumes", NULL, "nope", &out, &err), -ENOENT);
    cn_err_clear(&err);
}

static void test_volumes_through_api(void)
{
    cn_err err = CN_ERR_INIT;
    json_t *pod = NULL;
    char *path = cn_client_path("", "v1", "default", "pods", "p1", NULL);
    CHECK_INT(cn_client_get(cli, path, &pod, &err), 0);
    free(path);
    if (!pod) return;
    cn_podspec_env env = { .fetch = cn_podspec_client_fetch, .token = cn_podspec_client_token, .ud = cli };
    char *pod_dir = cn_asprintf("%s/pod", dir);
    int r = cn_volumes_setup(&env, pod, pod_dir, &err);
    if (r < 0) fprintf(stderr, "setup: %s\n", err.message);
    CHECK_INT(r, 0);
    char *f = cn_asprintf("%s/volumes/api/ca", pod_dir);
    char *v = slurp(f);
    CHECK_STR(v, "1");
    free(v);
    free(f);
    f = cn_asprintf("%s/volumes/api/token", pod_dir);
    char *tok = slurp(f);
    free(f);
    char *pubp = cn_asprintf("%s/server/pki/sa.pub", dir);
    char *pub = slurp(pubp);
    free(pubp);
    json_t *claims = NULL;
    CHECK(tok && pub && cn_jwt_verify_rs256(pub, tok, &claims, &err) == 0);
    const json_t *k8s = json_object_get(claims, "kubernetes.io");
    CHECK_STR(json_string_value(json_object_get(claims, "sub")), "system:serviceaccount:default:robot");
    CHECK_STR(json_string_value(json_object_get(json_object_get(k8s, "pod"), "name")), "p1");
    CHECK_STR(json_string_value(json_object_get(json_object_get(k8s, "pod"), "uid")),
              json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid")));
    CHECK_STR(json_string_value(json_array_get(json_object_get(claims, "aud"), 0)), "vault");
    CHECK_INT(json_integer_value(json_object_get(claims, "exp")) - json_integer_value(json_object_get(claims, "iat")), 1200);
    json_decref(claims);
    free(tok);
    free(pub);
    CHECK_INT(cn_volumes_teardown(pod_dir, &err), 0);
    cn_err_clear(&err);
    free(pod_dir);
    json_decref(pod);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skipped: needs root (mounts)\n");
        return 0;
    }
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return 1;
    if (!mkdtemp(dir)) return 1;
    char *data = cn_asprintf("%s/server", dir);
    cn_apiserver_config cfg = { .data_dir = data, .listen = "127.0.0.1:0", .no_fsync = true };
    cn_apiserver *srv = NULL;
    cn_err err = CN_ERR_INIT;
    static const char *const groups[] = { "system:masters", NULL };
    if (cn_apiserver_start(&cfg, &srv, &err) < 0 ||
        cn_client_new_local(cn_apiserver_handle, srv, "test", groups, &cli, &err) < 0) {
        fprintf(stderr, "server: %s\n", err.message);
        return 1;
    }
    create("serviceaccounts", "{\"metadata\": {\"name\": \"robot\"}}");
    create("configmaps", "{\"metadata\": {\"name\": \"cm\"}, \"data\": {\"a\": \"1\"}}");
    create("pods", "{\"metadata\": {\"name\": \"p1\"}, \"spec\": {\"serviceAccountName\": \"robot\","
                   "\"containers\": [{\"name\": \"c\", \"image\": \"busybox\"}],"
                   "\"volumes\": [{\"name\": \"api\", \"projected\": {\"sources\": ["
                   "  {\"serviceAccountToken\": {\"path\": \"token\", \"audience\": \"vault\", \"expirationSeconds\": 1200}},"
                   "  {\"configMap\": {\"name\": \"cm\", \"items\": [{\"key\": \"a\", \"path\": \"ca\"}]}}]}}]}}");
    TEST_RUN(test_fetch);
    TEST_RUN(test_volumes_through_api);
    cn_client_free(cli);
    cn_apiserver_stop(srv);
    char *cmd = cn_asprintf("umount -R '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", dir);
    free(cmd);
    free(data);
    return TEST_DONE();
}
