/* image_ref: the pure parsing half of the image store — image references
 * normalised as docker/containerd do, registry credentials looked up in
 * dockerconfigjson texts, and OCI/Docker manifests, indexes and configs.
 * No I/O here, so the unit test and the fuzz target drive it directly. */
#include "agent/image-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "lib/base64.h"

#define MAX_NAME 255
#define MAX_TAG 128

static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
static bool is_hex(char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); }

bool cn_image_digest_valid(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71) return false;
    for (size_t i = 7; i < 71; i++)
        if (!is_hex(d[i])) return false;
    return true;
}

void cn_image_sha256(const void *data, size_t len, char out[72])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    cn_image_hexdigest(md, out);
}

void cn_image_hexdigest(const unsigned char md[32], char out[72])
{
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++) {
        out[7 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
        out[8 + 2 * i] = "0123456789abcdef"[md[i] & 15];
    }
    out[71] = '\0';
}

/* One path component: lowercase alphanumerics joined by '.', '_', '__'
 * or runs of '-' (the distribution grammar, slightly relaxed on runs). */
static bool component_ok(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-') return false;
    return true;
}

static bool domain_ok(const char *s, size_t n)
{
    if (n == 0 || n > MAX_NAME) return false;
    size_t colon = n;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ':') {
            if (colon != n) return false;
            colon = i;
        } else if (colon != n) {
            if (c < '0' || c > '9') return false;     /* port digits */
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '-')) {
            return false;
        }
    }
    return colon != 0 && colon != n - 1;
}

static bool tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > MAX_TAG) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
    }
    return true;
}

static int bad_ref(cn_err *err, const char *s, const char *why)
{
    cn_err_set(err, 400, "BadRequest", "invalid reference \"%s\": %s", s, why);
    return -EINVAL;
}

int cn_imgref_parse(const char *s, cn_imgref *out, cn_err *err)
{
    if (!s || !*s) return bad_ref(err, "", "empty");
    if (strlen(s) > 2 * MAX_NAME) return bad_ref(err, s, "too long");
    _cleanup_free_ char *work = cn_strdup(s);
    _cleanup_free_ char *digest = NULL, *tag = NULL, *domain = NULL, *repo = NULL;
    char *at = strchr(work, '@');
    if (at) {
        *at = '\0';
        if (strncmp(at + 1, "sha256:", 7) != 0) return bad_ref(err, s, "unsupported digest algorithm");
        if (!cn_image_digest_valid(at + 1)) return bad_ref(err, s, "invalid digest");
        digest = cn_strdup(at + 1);
    }
    char *slash = strrchr(work, '/');
    char *colon = strrchr(slash ? slash : work, ':');
    if (colon) {
        *colon = '\0';
        if (!tag_ok(colon + 1)) return bad_ref(err, s, "invalid tag");
        tag = cn_strdup(colon + 1);
    }
    char *name = work;
    char *first = strchr(name, '/');
    if (first && (memchr(name, '.', (size_t)(first - name)) || memchr(name, ':', (size_t)(first - name)) ||
                  ((size_t)(first - name) == 9 && !strncmp(name, "localhost", 9)))) {
        if (!domain_ok(name, (size_t)(first - name))) return bad_ref(err, s, "invalid registry host");
        domain = cn_strndup(name, (size_t)(first - name));
        name = first + 1;
    } else {
        domain = cn_strdup("docker.io");
    }
    if (strlen(name) > MAX_NAME) return bad_ref(err, s, "repository name too long");
    for (const char *p = name;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!component_ok(p, n)) {
            for (size_t i = 0; i < n; i++)
                if (p[i] >= 'A' && p[i] <= 'Z') return bad_ref(err, s, "repository name must be lowercase");
            return bad_ref(err, s, "invalid repository name");
        }
        if (!e) break;
        p = e + 1;
    }
    if (!strcmp(domain, "index.docker.io")) {
        free(domain);
        domain = cn_strdup("docker.io");
    }
    if (!strcmp(domain, "docker.io") && !strchr(name, '/'))
        repo = cn_asprintf("library/%s", name);
    else
        repo = cn_strdup(name);
    /* Checked on the normalised name, so normalising twice agrees. */
    if (strlen(domain) + 1 + strlen(repo) > MAX_NAME) return bad_ref(err, s, "repository name too long");
    if (!tag && !digest) tag = cn_strdup("latest");
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_addf(&b, "%s/%s", domain, repo);
    if (tag) cn_buf_addf(&b, ":%s", tag);
    if (digest) cn_buf_addf(&b, "@%s", digest);
    out->name = cn_buf_detach(&b, NULL);
    out->domain = CN_TAKE_PTR(domain);
    out->repo = CN_TAKE_PTR(repo);
    out->tag = CN_TAKE_PTR(tag);
    out->digest = CN_TAKE_PTR(digest);
    return 0;
}

void cn_imgref_clear(cn_imgref *r)
{
    if (!r) return;
    free(r->domain);
    free(r->repo);
    free(r->tag);
    free(r->digest);
    free(r->name);
    memset(r, 0, sizeof *r);
}

const char *cn_imgref_endpoint(const char *domain)
{
    return strcmp(domain, "docker.io") ? domain : "registry-1.docker.io";
}

/* The host part of a dockerconfig key: "https://host:5000/v1/" -> "host:5000". */
static char *auth_key_host(const char *key)
{
    const char *p = strstr(key, "://");
    p = p ? p + 3 : key;
    size_t n = strcspn(p, "/");
    char *h = cn_strndup(p, n);
    if (!strcmp(h, "index.docker.io") || !strcmp(h, "registry-1.docker.io")) {
        free(h);
        h = cn_strdup("docker.io");
    }
    return h;
}

static int auth_from_entry(json_t *ent, char **user, char **pass)
{
    const char *u = json_string_value(json_object_get(ent, "username"));
    const char *p = json_string_value(json_object_get(ent, "password"));
    const char *a = json_string_value(json_object_get(ent, "auth"));
    if (a && *a) {
        char *dec = NULL;
        size_t len = 0;
        if (cn_base64_decode(a, strlen(a), 4096, &dec, &len) < 0) return -EINVAL;
        char *c = memchr(dec, ':', len);
        if (!c || strlen(dec) != len) {
            free(dec);
            return -EINVAL;
        }
        *user = cn_strndup(dec, (size_t)(c - dec));
        *pass = cn_strdup(c + 1);
        free(dec);
        return 0;
    }
    if (u && p) {
        *user = cn_strdup(u);
        *pass = cn_strdup(p);
        return 0;
    }
    return -EINVAL;
}

int cn_image_auth_find(const char *const *cfgs, size_t n, const char *domain, char **user, char **pass)
{
    for (size_t i = 0; i < n; i++) {
        if (!cfgs[i]) continue;
        json_t *root = json_loads(cfgs[i], 0, NULL);
        if (!json_is_object(root)) {
            json_decref(root);
            continue;
        }
        /* kubernetes.io/dockerconfigjson wraps in "auths"; legacy .dockercfg does not. */
        json_t *auths = json_object_get(root, "auths");
        if (!json_is_object(auths)) auths = root;
        const char *key;
        json_t *ent;
        int rc = -ENOENT;
        json_object_foreach(auths, key, ent) {
            _cleanup_free_ char *host = auth_key_host(key);
            if (strcmp(host, domain) != 0 || !json_is_object(ent)) continue;
            if (auth_from_entry(ent, user, pass) == 0) {
                rc = 0;
                break;
            }
        }
        json_decref(root);
        if (rc == 0) return 0;
    }
    return -ENOENT;
}

/* ---- manifests ---- */

static const char *str_at(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int bad_manifest(cn_err *err, const char *why)
{
    cn_err_set(err, 502, "BadGateway", "malformed manifest: %s", why);
    return -EBADMSG;
}

static void desc_clear(cn_image_desc *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->os);
    free(d->arch);
    free(d->variant);
    free(d->ref_name);
    memset(d, 0, sizeof *d);
}

static int desc_parse(json_t *o, cn_image_desc *d, cn_err *err)
{
    if (!json_is_object(o)) return bad_manifest(err, "descriptor is not an object");
    const char *dg = str_at(o, "digest");
    if (!cn_image_digest_valid(dg)) return bad_manifest(err, "descriptor without a valid sha256 digest");
    json_t *sz = json_object_get(o, "size");
    if (sz && (!json_is_integer(sz) || json_integer_value(sz) < 0))
        return bad_manifest(err, "descriptor size is not a non-negative integer");
    d->digest = cn_strdup(dg);
    d->media_type = cn_strdup(str_at(o, "mediaType"));
    d->size = sz ? json_integer_value(sz) : -1;
    json_t *plat = json_object_get(o, "platform");
    if (json_is_object(plat)) {
        d->os = cn_strdup(str_at(plat, "os"));
        d->arch = cn_strdup(str_at(plat, "architecture"));
        d->variant = cn_strdup(str_at(plat, "variant"));
    }
    json_t *ann = json_object_get(o, "annotations");
    const char *rn = str_at(ann, "io.containerd.image.name");
    if (!rn) rn = str_at(ann, "org.opencontainers.image.ref.name");
    d->ref_name = cn_strdup(rn);
    return 0;
}

int cn_image_manifest_parse(const char *body, size_t len, cn_image_manifest *out, cn_err *err)
{
    int rc;
    cn_image_manifest m = { 0 };
    json_error_t jerr;
    json_t *root = len > CN_IMAGE_MAX_JSON ? NULL : json_loadb(body, len, 0, &jerr);
    if (!json_is_object(root)) {
        rc = bad_manifest(err, "not a JSON object");
        goto out;
    }
    json_t *sv = json_object_get(root, "schemaVersion");
    if (json_is_integer(sv) && json_integer_value(sv) == 1) {
        rc = bad_manifest(err, "schema 1 manifests are not supported");
        goto out;
    }
    const char *mt = str_at(root, "mediaType");
    json_t *manifests = json_object_get(root, "manifests");
    json_t *layers = json_object_get(root, "layers");
    if (mt && (strstr(mt, "manifest.list") || strstr(mt, "image.index")))
        m.is_index = true;
    else if (mt && (strstr(mt, "manifest.v") || strstr(mt, "image.manifest")))
        m.is_index = false;
    else if (mt) {
        rc = bad_manifest(err, "unsupported media type");
        goto out;
    } else
        m.is_index = json_is_array(manifests) && !layers;
    json_t *arr = m.is_index ? manifests : layers;
    if (!json_is_array(arr)) {
        rc = bad_manifest(err, m.is_index ? "index without manifests" : "manifest without layers");
        goto out;
    }
    if (!m.is_index && (rc = desc_parse(json_object_get(root, "config"), &m.config, err)) < 0) goto out;
    size_t n = json_array_size(arr);
    if (n > 4096) {
        rc = bad_manifest(err, "too many entries");
        goto out;
    }
    m.descs = cn_calloc(n ? n : 1, sizeof *m.descs);
    for (size_t i = 0; i < n; i++) {
        if ((rc = desc_parse(json_array_get(arr, i), &m.descs[i], err)) < 0) goto out;
        m.ndescs++;
    }
    *out = m;
    memset(&m, 0, sizeof m);
    rc = 0;
out:
    cn_image_manifest_clear(&m);
    json_decref(root);
    return rc;
}

void cn_image_manifest_clear(cn_image_manifest *m)
{
    if (!m) return;
    desc_clear(&m->config);
    for (size_t i = 0; i < m->ndescs; i++) desc_clear(&m->descs[i]);
    free(m->descs);
    memset(m, 0, sizeof *m);
}

const char *cn_image_host_arch(void)
{
    static const struct { const char *uname, *go; } map[] = {
        { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" }, { "armv6l", "arm" },
        { "i686", "386" }, { "i386", "386" }, { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
        { "riscv64", "riscv64" },
    };
    struct utsname u;
    if (uname(&u) == 0)
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(u.machine, map[i].uname)) return map[i].go;
    return "amd64";
}

int cn_image_index_pick(const cn_image_manifest *idx, const char *arch, size_t *pos)
{
    if (!arch) arch = cn_image_host_arch();
    for (size_t i = 0; i < idx->ndescs; i++) {
        const cn_image_desc *d = &idx->descs[i];
        if (d->os && !strcmp(d->os, "linux") && d->arch && !strcmp(d->arch, arch)) {
            *pos = i;
            return 0;
        }
    }
    return -ENOENT;
}

static int strv_from_json(json_t *a, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!a || json_is_null(a)) return 0;
    if (!json_is_array(a) || json_array_size(a) > 65536) return -EBADMSG;
    size_t len = json_array_size(a);
    char **v = cn_calloc(len + 1, sizeof *v);
    for (size_t i = 0; i < len; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) {
            for (size_t k = 0; k < i; k++) free(v[k]);
            free(v);
            return -EBADMSG;
        }
        v[i] = cn_strdup(s);
    }
    *out = v;
    *n = len;
    return 0;
}

int cn_image_config_parse(const char *body, size_t len, cn_image_config *out, cn_err *err)
{
    int rc = 0;
    cn_image_config c = { 0 };
    json_t *root = len > CN_IMAGE_MAX_JSON ? NULL : json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        cn_err_set(err, 502, "BadGateway", "malformed image config: not a JSON object");
        rc = -EBADMSG;
        goto out;
    }
    json_t *cfg = json_object_get(root, "config");
    json_t *rootfs = json_object_get(root, "rootfs");
    if (strv_from_json(json_object_get(cfg, "Entrypoint"), &c.entrypoint, &c.nentrypoint) < 0 ||
        strv_from_json(json_object_get(cfg, "Cmd"), &c.cmd, &c.ncmd) < 0 ||
        strv_from_json(json_object_get(cfg, "Env"), &c.env, &c.nenv) < 0 ||
        strv_from_json(json_object_get(rootfs, "diff_ids"), &c.diff_ids, &c.ndiff_ids) < 0) {
        cn_err_set(err, 502, "BadGateway", "malformed image config: a list holds a non-string");
        rc = -EBADMSG;
        goto out;
    }
    for (size_t i = 0; i < c.ndiff_ids; i++)
        if (!cn_image_digest_valid(c.diff_ids[i])) {
            cn_err_set(err, 502, "BadGateway", "malformed image config: bad diff id");
            rc = -EBADMSG;
            goto out;
        }
    const char *wd = str_at(cfg, "WorkingDir"), *user = str_at(cfg, "User");
    c.workdir = cn_strdup(wd ? wd : "");
    c.user = cn_strdup(user ? user : "");
    *out = c;
    memset(&c, 0, sizeof c);
out:
    cn_image_config_clear(&c);
    json_decref(root);
    return rc;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

void cn_image_config_clear(cn_image_config *c)
{
    if (!c) return;
    strv_free(c->entrypoint, c->nentrypoint);
    strv_free(c->cmd, c->ncmd);
    strv_free(c->env, c->nenv);
    strv_free(c->diff_ids, c->ndiff_ids);
    free(c->workdir);
    free(c->user);
    memset(c, 0, sizeof *c);
}
