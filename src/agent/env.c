/* env: a container's environment as the kubelet computes it
 * (makeEnvironmentVariables): envFrom first, then env in order, each value
 * $(VAR)-expanded against what came before, valueFrom resolved from
 * ConfigMaps, Secrets and the downward API. Also the downward API values
 * themselves (fieldRef, resourceFieldRef), which downwardAPI volumes reuse,
 * and the decoding of ConfigMap/Secret data. */
#include "agent/podspec-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/quantity.h"
#include "lib/util.h"

#define MAX_DATA_VALUE (4u << 20)   /* a ConfigMap/Secret is at most ~1 MiB; bound the decode */

/* ---- small JSON helpers ---- */

const char *cn_ps_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

bool cn_ps_bool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

const json_t *cn_ps_container(const json_t *pod, const char *name)
{
    static const char *const lists[] = { "containers", "initContainers", "ephemeralContainers" };
    const json_t *spec = json_object_get(pod, "spec");
    for (size_t l = 0; l < sizeof lists / sizeof *lists; l++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c) {
            const char *n = cn_ps_str(c, "name");
            if (n && name && !strcmp(n, name)) return c;
        }
    }
    return NULL;
}

/* ---- ordered environment ---- */

void cn_ps_env_set(cn_ps_env *e, const char *name, const char *value)
{
    for (size_t i = 0; i < e->n; i++) {
        if (!strcmp(e->names[i], name)) {
            free(e->values[i]);
            e->values[i] = cn_strdup(value);
            return;
        }
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->names = cn_realloc(e->names, e->cap * sizeof *e->names);
        e->values = cn_realloc(e->values, e->cap * sizeof *e->values);
    }
    e->names[e->n] = cn_strdup(name);
    e->values[e->n] = cn_strdup(value);
    e->n++;
}

const char *cn_ps_env_get(const cn_ps_env *e, const char *name)
{
    for (; e; e = e->fallback)
        for (size_t i = 0; i < e->n; i++)
            if (!strcmp(e->names[i], name)) return e->values[i];
    return NULL;
}

void cn_ps_env_release(cn_ps_env *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    free(e->names);
    free(e->values);
    memset(e, 0, sizeof *e);
}

/* ---- $(VAR) expansion ---- */

char *cn_ps_expand(const char *in, const cn_ps_env *vars, char **missing)
{
    cn_buf out, miss;
    cn_buf_init(&out);
    cn_buf_init(&miss);
    size_t len = strlen(in), checkpoint = 0;
    for (size_t cur = 0; cur < len; cur++) {
        if (in[cur] != '$' || cur + 1 >= len) continue;
        cn_buf_add(&out, in + checkpoint, cur - checkpoint);
        const char *rest = in + cur + 1;
        size_t advance = 1;
        if (*rest == '$') {
            cn_buf_addc(&out, '$');                  /* escaped */
        } else if (*rest == '(') {
            const char *close = strchr(rest, ')');
            if (!close) {
                cn_buf_adds(&out, "$(");             /* incomplete: literal */
            } else {
                char *name = cn_strndup(rest + 1, (size_t)(close - rest - 1));
                const char *v = cn_ps_env_get(vars, name);
                if (v) cn_buf_adds(&out, v);
                else if (!missing) cn_buf_addf(&out, "$(%s)", name);
                if ((!v || !*v) && missing) {
                    if (miss.len) cn_buf_adds(&miss, ", ");
                    cn_buf_adds(&miss, name);
                }
                free(name);
                advance = (size_t)(close - rest) + 1;
            }
        } else {
            cn_buf_addc(&out, '$');                  /* a lone operator */
            cn_buf_addc(&out, *rest);
        }
        cur += advance;
        checkpoint = cur + 1;
    }
    if (checkpoint < len) cn_buf_add(&out, in + checkpoint, len - checkpoint);
    if (missing) *missing = miss.len ? cn_buf_detach(&miss, NULL) : NULL;
    cn_buf_release(&miss);
    if (!out.data) cn_buf_adds(&out, "");
    return cn_buf_detach(&out, NULL);
}

/* ---- ConfigMap / Secret data ---- */

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const cn_ps_kv *)a)->key, ((const cn_ps_kv *)b)->key);
}

static int data_add(cn_ps_data *d, const char *key, const json_t *v, bool b64)
{
    const char *s = json_string_value(v);
    if (!s) return -EINVAL;
    cn_ps_kv kv = { .key = cn_strdup(key) };
    if (b64) {
        int r = cn_base64_decode(s, json_string_length(v), MAX_DATA_VALUE, &kv.val, &kv.len);
        if (r < 0) {
            free(kv.key);
            return r;
        }
    } else {
        kv.len = json_string_length(v);
        kv.val = cn_strndup(s, kv.len);
    }
    d->kv = cn_realloc(d->kv, (d->n + 1) * sizeof *d->kv);
    d->kv[d->n++] = kv;
    return 0;
}

int cn_ps_data_load(const cn_podspec_env *env, bool secret, const char *ns, const char *name,
                    cn_ps_data *out, cn_err *err)
{
    const char *what = secret ? "secret" : "configmap";
    json_t *obj = NULL;
    cn_ps_data d = { 0 };
    int r;
    if (!name) return cn_err_invalid(err, "%s name is empty", what);
    if (!env->fetch) return cn_err_internal(err, "couldn't get %s %s/%s, no kubeClient defined", what, ns, name);
    cn_err ferr = CN_ERR_INIT;
    r = env->fetch(env->ud, secret ? "secrets" : "configmaps", ns, name, &obj, &ferr);
    if (r == -ENOENT) {
        cn_err_clear(&ferr);
        cn_err_set(err, 404, "NotFound", "%s \"%s\" not found", what, name);
        return -ENOENT;
    }
    if (r < 0) {
        cn_err_move(err, &ferr);
        if (!err || !err->message) cn_err_internal(err, "couldn't get %s %s/%s", what, ns, name);
        return r;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(obj, "data"), k, v) {
        if ((r = data_add(&d, k, v, secret)) < 0) goto bad;
    }
    if (!secret) {
        json_object_foreach(json_object_get(obj, "binaryData"), k, v) {
            if ((r = data_add(&d, k, v, true)) < 0) goto bad;
        }
    }
    if (d.n) qsort(d.kv, d.n, sizeof *d.kv, kv_cmp);
    json_decref(obj);
    *out = d;
    return 0;
bad:
    cn_err_internal(err, "%s %s/%s: the value of key \"%s\" is malformed", what, ns, name, k);
    json_decref(obj);
    cn_ps_data_release(&d);
    return -EINVAL;
}

const cn_ps_kv *cn_ps_data_get(const cn_ps_data *d, const char *key)
{
    cn_ps_kv want = { .key = (char *)key };
    return d->n ? bsearch(&want, d->kv, d->n, sizeof *d->kv, kv_cmp) : NULL;
}

void cn_ps_data_release(cn_ps_data *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->kv[i].key);
        free(d->kv[i].val);
    }
    free(d->kv);
    d->kv = NULL;
    d->n = 0;
}

/* ---- downward API ---- */

/* Go's %q for the map rendering of labels/annotations (printable UTF-8
 * kept as is). */
static void add_quoted(cn_buf *b, const char *s)
{
    cn_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': cn_buf_adds(b, "\\\""); break;
        case '\\': cn_buf_adds(b, "\\\\"); break;
        case '\n': cn_buf_adds(b, "\\n"); break;
        case '\t': cn_buf_adds(b, "\\t"); break;
        case '\r': cn_buf_adds(b, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) cn_buf_addf(b, "\\x%02x", *p);
            else cn_buf_addc(b, (char)*p);
        }
    }
    cn_buf_addc(b, '"');
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* upstream fieldpath.FormatMap: sorted k="v" lines, no trailing newline. */
static char *format_map(const json_t *m)
{
    size_t n = json_object_size(m), i = 0;
    const char **keys = cn_calloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, str_cmp);
    cn_buf b;
    cn_buf_init(&b);
    for (i = 0; i < n; i++) {
        if (i) cn_buf_addc(&b, '\n');
        cn_buf_adds(&b, keys[i]);
        cn_buf_addc(&b, '=');
        const char *val = json_string_value(json_object_get(m, keys[i]));
        add_quoted(&b, val ? val : "");
    }
    free(keys);
    if (!b.data) cn_buf_adds(&b, "");
    return cn_buf_detach(&b, NULL);
}

static const char *node_internal_ip(const json_t *node)
{
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "addresses"), i, a) {
        const char *t = cn_ps_str(a, "type");
        if (t && !strcmp(t, "InternalIP")) return cn_ps_str(a, "address");
    }
    return NULL;
}

/* "k" out of "['k']" (also ["k"]); NULL if malformed. */
static char *subscript(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || s[0] != '[' || s[n - 1] != ']' || (s[1] != '\'' && s[1] != '"') || s[n - 2] != s[1])
        return NULL;
    return cn_strndup(s + 2, n - 4);
}

int cn_ps_field_value(const cn_podspec_env *env, const json_t *pod, const char *pod_ip,
                      const char *path, char **out, cn_err *err)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *status = json_object_get(pod, "status");
    const char *v = NULL;
    if (!path) return cn_err_invalid(err, "fieldRef without fieldPath");
    if (!strcmp(path, "spec.nodeName")) v = cn_ps_str(spec, "nodeName");
    else if (!strcmp(path, "spec.serviceAccountName")) v = cn_ps_str(spec, "serviceAccountName");
    else if (!strcmp(path, "status.hostIP") || !strcmp(path, "status.hostIPs")) {
        v = cn_ps_str(status, "hostIP");
        if (!v) v = node_internal_ip(env->node);
    } else if (!strcmp(path, "status.podIP")) {
        v = pod_ip && *pod_ip ? pod_ip : cn_ps_str(status, "podIP");
    } else if (!strcmp(path, "status.podIPs")) {
        cn_buf b;
        cn_buf_init(&b);
        size_t i;
        const json_t *ip;
        json_array_foreach(json_object_get(status, "podIPs"), i, ip) {
            const char *s = cn_ps_str(ip, "ip");
            if (!s) continue;
            if (b.len) cn_buf_addc(&b, ',');
            cn_buf_adds(&b, s);
        }
        if (!b.len && pod_ip) cn_buf_adds(&b, pod_ip);
        if (!b.len) cn_buf_adds(&b, "");
        *out = cn_buf_detach(&b, NULL);
        return 0;
    } else if (!strcmp(path, "metadata.name")) v = cn_ps_str(meta, "name");
    else if (!strcmp(path, "metadata.namespace")) v = cn_ps_str(meta, "namespace");
    else if (!strcmp(path, "metadata.uid")) v = cn_ps_str(meta, "uid");
    else if (!strcmp(path, "metadata.labels") || !strcmp(path, "metadata.annotations")) {
        *out = format_map(json_object_get(meta, path + 9));
        return 0;
    } else if (cn_str_has_prefix(path, "metadata.labels[") || cn_str_has_prefix(path, "metadata.annotations[")) {
        bool labels = cn_str_has_prefix(path, "metadata.labels[");
        char *key = subscript(path + (labels ? 15 : 20));
        if (!key) return cn_err_invalid(err, "unsupported fieldPath: %s", path);
        v = json_string_value(json_object_get(json_object_get(meta, labels ? "labels" : "annotations"), key));
        free(key);
    } else {
        return cn_err_invalid(err, "unsupported fieldPath: %s", path);
    }
    *out = cn_strdup(v ? v : "");
    return 0;
}

static const char *resource_quantity(const cn_podspec_env *env, const json_t *ctr,
                                     bool limits, const char *res)
{
    const json_t *r = json_object_get(ctr, "resources");
    const char *q = cn_ps_str(json_object_get(r, limits ? "limits" : "requests"), res);
    if (q) return q;
    if (!limits) return cn_ps_str(json_object_get(r, "limits"), res);   /* API defaulting */
    return cn_ps_str(json_object_get(json_object_get(env->node, "status"), "allocatable"), res);
}

int cn_ps_resource_value(const cn_podspec_env *env, const json_t *ctr, const json_t *sel,
                         char **out, cn_err *err)
{
    const char *res = cn_ps_str(sel, "resource");
    const char *divisor = cn_ps_str(sel, "divisor");
    bool limits;
    if (res && cn_str_has_prefix(res, "limits.")) limits = true;
    else if (res && cn_str_has_prefix(res, "requests.")) limits = false;
    else return cn_err_invalid(err, "unsupported container resource : %s", res ? res : "");
    const char *name = res + (limits ? 7 : 9);
    bool cpu = !strcmp(name, "cpu");
    if (!cpu && strcmp(name, "memory") && strcmp(name, "ephemeral-storage") &&
        !cn_str_has_prefix(name, "hugepages-"))
        return cn_err_invalid(err, "unsupported container resource : %s", res);
    const char *q = resource_quantity(env, ctr, limits, name);
    int64_t val = 0, div = cpu ? 1000 : 1;   /* divisor "1" (also for a zero divisor) */
    int r = 0;
    if (q) r = cpu ? cn_quantity_milli(q, &val) : cn_quantity_value(q, &val);
    if (r < 0) return cn_err_invalid(err, "quantity %s of %s is malformed", q, res);
    if (divisor) {
        __int128 nano;
        if (cn_quantity_parse(divisor, &nano) < 0 || nano < 0)
            return cn_err_invalid(err, "divisor %s of %s is malformed", divisor, res);
        if (nano != 0) {
            r = cpu ? cn_quantity_milli(divisor, &div) : cn_quantity_value(divisor, &div);
            if (r < 0 || div <= 0)
                return cn_err_invalid(err, "divisor %s of %s is malformed", divisor, res);
        }
    }
    /* ceiling, as upstream's math.Ceil(value / divisor) */
    int64_t c = val / div + ((val % div) > 0 ? 1 : 0);
    *out = cn_asprintf("%lld", (long long)c);
    return 0;
}

/* ---- the container's environment ---- */

static bool optional_of(const json_t *ref)
{
    return cn_ps_bool(ref, "optional");
}

/* A cache of the ConfigMaps/Secrets one container references. */
typedef struct data_cache {
    char **names;
    bool *secret;
    cn_ps_data *data;
    size_t n;
} data_cache;

static int cache_get(data_cache *c, const cn_podspec_env *env, bool secret, const char *ns,
                     const char *name, const cn_ps_data **out, cn_err *err)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->secret[i] == secret && !strcmp(c->names[i], name)) {
            *out = &c->data[i];
            return 0;
        }
    }
    cn_ps_data d;
    int r = cn_ps_data_load(env, secret, ns, name, &d, err);
    if (r < 0) return r;
    c->names = cn_realloc(c->names, (c->n + 1) * sizeof *c->names);
    c->secret = cn_realloc(c->secret, (c->n + 1) * sizeof *c->secret);
    c->data = cn_realloc(c->data, (c->n + 1) * sizeof *c->data);
    c->names[c->n] = cn_strdup(name);
    c->secret[c->n] = secret;
    c->data[c->n] = d;
    *out = &c->data[c->n++];
    return 0;
}

static void cache_release(data_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        cn_ps_data_release(&c->data[i]);
    }
    free(c->names);
    free(c->secret);
    free(c->data);
}

/* envFrom: every key of the ConfigMap/Secret, with the prefix. */
static int env_from(const cn_podspec_env *env, data_cache *cache, const char *ns,
                    const json_t *ef, cn_ps_env *out, cn_err *err)
{
    const json_t *ref = json_object_get(ef, "configMapRef");
    bool secret = false;
    if (!ref) {
        ref = json_object_get(ef, "secretRef");
        secret = true;
    }
    if (!ref) return cn_err_invalid(err, "envFrom needs configMapRef or secretRef");
    const cn_ps_data *d;
    int r = cache_get(cache, env, secret, ns, cn_ps_str(ref, "name"), &d, err);
    if (r == -ENOENT && optional_of(ref)) {
        cn_err_clear(err);
        return 0;
    }
    if (r < 0) return r;
    const char *prefix = cn_ps_str(ef, "prefix");
    for (size_t i = 0; i < d->n; i++) {
        if (!*d->kv[i].key || strchr(d->kv[i].key, '=')) continue;   /* not an env name */
        char *name = cn_asprintf("%s%s", prefix ? prefix : "", d->kv[i].key);
        cn_ps_env_set(out, name, d->kv[i].val);
        free(name);
    }
    return 0;
}

/* valueFrom of one env entry; *skip when optional and absent. */
static int value_from(const cn_podspec_env *env, data_cache *cache, const json_t *pod,
                      const json_t *ctr, const char *pod_ip, const json_t *vf, char **val,
                      bool *skip, cn_err *err)
{
    const char *ns = cn_ps_str(json_object_get(pod, "metadata"), "namespace");
    const json_t *ref;
    if ((ref = json_object_get(vf, "fieldRef")))
        return cn_ps_field_value(env, pod, pod_ip, cn_ps_str(ref, "fieldPath"), val, err);
    if ((ref = json_object_get(vf, "resourceFieldRef"))) {
        const char *cname = cn_ps_str(ref, "containerName");
        const json_t *c = cname ? cn_ps_container(pod, cname) : ctr;
        if (!c) return cn_err_invalid(err, "resourceFieldRef: container \"%s\" not found", cname);
        return cn_ps_resource_value(env, c, ref, val, err);
    }
    bool secret = false;
    ref = json_object_get(vf, "configMapKeyRef");
    if (!ref) {
        ref = json_object_get(vf, "secretKeyRef");
        secret = true;
    }
    if (!ref) return cn_err_invalid(err, "valueFrom has no source");
    const char *name = cn_ps_str(ref, "name"), *key = cn_ps_str(ref, "key");
    const cn_ps_data *d;
    int r = cache_get(cache, env, secret, ns, name, &d, err);
    if (r == -ENOENT && optional_of(ref)) {
        cn_err_clear(err);
        *skip = true;
        return 0;
    }
    if (r < 0) return r;
    const cn_ps_kv *kv = key ? cn_ps_data_get(d, key) : NULL;
    if (!kv) {
        if (optional_of(ref)) {
            *skip = true;
            return 0;
        }
        return cn_err_set(err, 404, "NotFound", "couldn't find key %s in %s %s/%s", key ? key : "",
                          secret ? "Secret" : "ConfigMap", ns, name);
    }
    *val = cn_strdup(kv->val);
    return 0;
}

int cn_ps_kube_env(const cn_podspec_env *env, const json_t *pod, const json_t *ctr,
                   const char *pod_ip, cn_ps_env *out, cn_err *err)
{
    const char *ns = cn_ps_str(json_object_get(pod, "metadata"), "namespace");
    data_cache cache = { 0 };
    cn_ps_env e = { 0 }, svc = { 0 };
    int r = 0;
    size_t i;
    const json_t *item;
    if (!ns) ns = "default";
    /* $(VAR) sees the container's names first, then the service env */
    for (i = 0; i < env->nservice_env; i++) {
        const char *kv = env->service_env[i], *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq || eq == kv) continue;
        char *name = cn_strndup(kv, (size_t)(eq - kv));
        cn_ps_env_set(&svc, name, eq + 1);
        free(name);
    }
    e.fallback = &svc;
    /* env overrides envFrom: envFrom first */
    json_array_foreach(json_object_get(ctr, "envFrom"), i, item) {
        if ((r = env_from(env, &cache, ns, item, &e, err)) < 0) goto done;
    }
    json_array_foreach(json_object_get(ctr, "env"), i, item) {
        const char *name = cn_ps_str(item, "name");
        const char *value = json_string_value(json_object_get(item, "value"));
        const json_t *vf = json_object_get(item, "valueFrom");
        char *val = NULL;
        bool skip = false;
        if (!name) {
            r = cn_err_invalid(err, "env[%zu]: name is required", i);
            goto done;
        }
        if (value && *value) {
            val = cn_ps_expand(value, &e, NULL);
        } else if (vf) {
            if ((r = value_from(env, &cache, pod, ctr, pod_ip, vf, &val, &skip, err)) < 0) goto done;
            if (skip) continue;
        }
        cn_ps_env_set(&e, name, val ? val : "");
        free(val);
    }
    e.fallback = NULL;
    for (i = 0; i < svc.n; i++)
        if (!cn_ps_env_get(&e, svc.names[i])) cn_ps_env_set(&e, svc.names[i], svc.values[i]);
    *out = e;
    e = (cn_ps_env){ 0 };
done:
    cn_ps_env_release(&e);
    cn_ps_env_release(&svc);
    cache_release(&cache);
    return r;
}
