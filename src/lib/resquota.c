/* resquota: quota accounting and LimitRange arithmetic (see resquota.h).
 * Wording of every message follows upstream's quota admission and
 * LimitRanger plugins, because users and scripts grep for them. */
#include "lib/resquota.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/quantity.h"
#include "lib/util.h"


char *cn_qty_format(int64_t milli, bool binary)
{
    if (milli % 1000) return cn_asprintf("%lldm", (long long)milli);
    int64_t v = milli / 1000;
    if (v == 0) return cn_strdup("0");
    if (binary) {
        static const char *const bins[] = { "Ei", "Pi", "Ti", "Gi", "Mi", "Ki" };
        for (int i = 0; i < 6; i++) {
            int64_t u = (int64_t)1 << (10 * (6 - i));
            if (v % u == 0) return cn_asprintf("%lld%s", (long long)(v / u), bins[i]);
        }
    }
    static const char *const decs[] = { "E", "P", "T", "G", "M", "k" };
    int64_t u = 1000000000000000000LL;
    for (int i = 0; i < 6; i++, u /= 1000)
        if (v % u == 0) return cn_asprintf("%lld%s", (long long)(v / u), decs[i]);
    return cn_asprintf("%lld", (long long)v);
}

bool cn_qty_is_bytes(const char *r)
{
    return strstr(r, "memory") || strstr(r, "storage") || strstr(r, "hugepages");
}

static int64_t qty_of(const json_t *v)
{
    int64_t m = 0;
    if (json_is_string(v) && cn_quantity_milli(json_string_value(v), &m) == 0) return m;
    if (json_is_integer(v)) return json_integer_value(v) * 1000;
    return 0;
}

static void usage_put(json_t *u, const char *k, int64_t milli)
{
    json_object_set_new(u, k, json_integer(json_integer_value(json_object_get(u, k)) + milli));
}

void cn_usage_add(json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)b, k, v) usage_put(a, k, json_integer_value(v));
}

static bool standard_compute(const char *r)
{
    return !strcmp(r, "cpu") || !strcmp(r, "memory") || !strcmp(r, "ephemeral-storage");
}

/* requests.X / limits.X of one container (requests default to limits, as
 * the API's defaulting does). */
static void container_usage(const json_t *c, json_t *u)
{
    json_t *res = json_object_get(c, "resources");
    json_t *req = json_object_get(res, "requests"), *lim = json_object_get(res, "limits");
    const char *k;
    json_t *v;
    json_object_foreach(req, k, v) {
        char *n = cn_asprintf("requests.%s", k);
        usage_put(u, n, qty_of(v));
        free(n);
        if (standard_compute(k)) usage_put(u, k, qty_of(v));
    }
    json_object_foreach(lim, k, v) {
        char *n = cn_asprintf("limits.%s", k);
        usage_put(u, n, qty_of(v));
        free(n);
        if (!json_object_get(req, k)) {
            n = cn_asprintf("requests.%s", k);
            usage_put(u, n, qty_of(v));
            free(n);
            if (standard_compute(k)) usage_put(u, k, qty_of(v));
        }
    }
}

static void pod_usage(const json_t *pod, json_t *u)
{
    json_t *spec = json_object_get(pod, "spec");
    json_t *sum = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c) container_usage(c, sum);
    /* Init containers run one at a time: the pod needs the larger of the
     * sum of its containers and its biggest init container. */
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
        json_t *one = json_object();
        container_usage(c, one);
        const char *k;
        json_t *v;
        json_object_foreach(one, k, v)
            if (json_integer_value(v) > json_integer_value(json_object_get(sum, k)))
                json_object_set(sum, k, v);
        json_decref(one);
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(spec, "overhead"), k, v) {
        char *n = cn_asprintf("requests.%s", k);
        usage_put(sum, n, qty_of(v));
        free(n);
        n = cn_asprintf("limits.%s", k);
        if (json_object_get(sum, n)) usage_put(sum, n, qty_of(v));
        free(n);
        if (standard_compute(k)) usage_put(sum, k, qty_of(v));
    }
    cn_usage_add(u, sum);
    json_decref(sum);
}

json_t *cn_quota_usage(const char *group, const char *plural, const json_t *obj)
{
    json_t *u = json_object();
    char *count = group && *group ? cn_asprintf("count/%s.%s", plural, group) : cn_asprintf("count/%s", plural);
    usage_put(u, count, 1000);
    free(count);
    if (group && *group) return u;
    if (!strcmp(plural, "pods")) {
        const char *ph = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
        if (ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))) return u;
        usage_put(u, "pods", 1000);
        pod_usage(obj, u);
    } else if (!strcmp(plural, "services")) {
        usage_put(u, "services", 1000);
        json_t *spec = json_object_get(obj, "spec");
        const char *type = json_string_value(json_object_get(spec, "type"));
        bool lb = type && !strcmp(type, "LoadBalancer");
        if (lb) usage_put(u, "services.loadbalancers", 1000);
        if (lb || (type && !strcmp(type, "NodePort"))) {
            size_t i;
            json_t *p;
            json_array_foreach(json_object_get(spec, "ports"), i, p) usage_put(u, "services.nodeports", 1000);
            if (!json_object_get(u, "services.nodeports")) usage_put(u, "services.nodeports", 0);
        }
    } else if (!strcmp(plural, "persistentvolumeclaims")) {
        usage_put(u, "persistentvolumeclaims", 1000);
        json_t *spec = json_object_get(obj, "spec");
        int64_t st = qty_of(json_object_get(json_object_get(json_object_get(spec, "resources"), "requests"), "storage"));
        usage_put(u, "requests.storage", st);
        const char *sc = json_string_value(json_object_get(spec, "storageClassName"));
        if (sc && *sc) {
            char *n = cn_asprintf("%s.storageclass.storage.k8s.io/requests.storage", sc);
            usage_put(u, n, st);
            free(n);
            n = cn_asprintf("%s.storageclass.storage.k8s.io/persistentvolumeclaims", sc);
            usage_put(u, n, 1000);
            free(n);
        }
    } else if (!strcmp(plural, "configmaps") || !strcmp(plural, "secrets") ||
               !strcmp(plural, "replicationcontrollers") || !strcmp(plural, "resourcequotas")) {
        usage_put(u, plural, 1000);
    }
    return u;
}

static bool best_effort(const json_t *pod)
{
    json_t *spec = json_object_get(pod, "spec");
    const char *lists[] = { "containers", "initContainers" };
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c) {
            json_t *res = json_object_get(c, "resources");
            if (json_object_size(json_object_get(res, "requests")) || json_object_size(json_object_get(res, "limits")))
                return false;
        }
    }
    return true;
}

static bool in_values(const json_t *values, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) if (!strcmp(json_string_value(v) ?: "", s)) return true;
    return false;
}

/* One scope (with an operator and values for a scopeSelector entry). */
static bool scope_matches(const char *scope, const char *op, const json_t *values, const json_t *pod)
{
    json_t *spec = json_object_get(pod, "spec");
    bool yes;
    if (!strcmp(scope, "Terminating") || !strcmp(scope, "NotTerminating")) {
        json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
        yes = json_is_integer(ads) && json_integer_value(ads) >= 0;
        if (!strcmp(scope, "NotTerminating")) yes = !yes;
    } else if (!strcmp(scope, "BestEffort") || !strcmp(scope, "NotBestEffort")) {
        yes = best_effort(pod);
        if (!strcmp(scope, "NotBestEffort")) yes = !yes;
    } else if (!strcmp(scope, "PriorityClass")) {
        const char *pc = json_string_value(json_object_get(spec, "priorityClassName")) ?: "";
        if (!op || !strcmp(op, "Exists")) return *pc != '\0';
        if (!strcmp(op, "DoesNotExist")) return *pc == '\0';
        yes = in_values(values, pc);
        if (!strcmp(op, "NotIn")) yes = !yes;
        return yes;
    } else {
        return false;   /* CrossNamespacePodAffinity and unknown scopes: not tracked here */
    }
    /* Other scopes through a scopeSelector: operator Exists / In ["..."]. */
    if (op && !strcmp(op, "DoesNotExist")) yes = !yes;
    return yes;
}

bool cn_quota_scope_matches(const json_t *quota, const char *group, const char *plural, const json_t *obj)
{
    json_t *spec = json_object_get(quota, "spec");
    json_t *scopes = json_object_get(spec, "scopes");
    json_t *exprs = json_object_get(json_object_get(spec, "scopeSelector"), "matchExpressions");
    if (!json_array_size(scopes) && !json_array_size(exprs)) return true;
    if ((group && *group) || strcmp(plural, "pods")) return false;
    size_t i;
    json_t *v;
    json_array_foreach(scopes, i, v)
        if (!scope_matches(json_string_value(v) ?: "", NULL, NULL, obj)) return false;
    json_array_foreach(exprs, i, v)
        if (!scope_matches(json_string_value(json_object_get(v, "scopeName")) ?: "",
                           json_string_value(json_object_get(v, "operator")), json_object_get(v, "values"), obj))
            return false;
    return true;
}

/* "a=1,b=2" over the given keys, sorted as upstream's prettyPrint. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *pretty(const json_t *keys, const json_t *vals_milli, const json_t *vals_str)
{
    size_t n = json_array_size(keys), i;
    const char **ks = cn_calloc(n ? n : 1, sizeof *ks);
    for (i = 0; i < n; i++) ks[i] = json_string_value(json_array_get(keys, i));
    qsort(ks, n, sizeof *ks, cmp_str);
    cn_buf b;
    cn_buf_init(&b);
    for (i = 0; i < n; i++) {
        if (i) cn_buf_addc(&b, ',');
        const char *sv = json_string_value(json_object_get(vals_str, ks[i]));
        if (vals_str && sv) {
            /* Canonicalise what the quota says ("2" stays "2"). */
            int64_t m;
            char *f = cn_quantity_milli(sv, &m) == 0 ? cn_qty_format(m, cn_qty_is_bytes(ks[i])) : cn_strdup(sv);
            cn_buf_addf(&b, "%s=%s", ks[i], f);
            free(f);
        } else {
            char *f = cn_qty_format(json_integer_value(json_object_get(vals_milli, ks[i])), cn_qty_is_bytes(ks[i]));
            cn_buf_addf(&b, "%s=%s", ks[i], f);
            free(f);
        }
    }
    free(ks);
    return cn_buf_detach(&b, NULL);
}

int cn_quota_check(const json_t *quota, const json_t *delta, char **msg)
{
    *msg = NULL;
    const char *name = json_string_value(json_object_get(json_object_get(quota, "metadata"), "name"));
    json_t *st = json_object_get(quota, "status");
    json_t *hard = json_object_get(st, "hard"), *used = json_object_get(st, "used");
    json_t *spec_hard = json_object_get(json_object_get(quota, "spec"), "hard");
    const char *k;
    json_t *v;
    json_t *unknown = json_array();
    json_object_foreach((json_t *)delta, k, v)
        if (json_object_get(spec_hard, k) && (!json_object_get(hard, k) || !json_object_get(used, k)))
            json_array_append_new(unknown, json_string(k));
    if (json_array_size(unknown)) {
        char *names = pretty(unknown, NULL, NULL);
        /* pretty() prints k=0; upstream lists only names. */
        cn_buf b;
        cn_buf_init(&b);
        for (char *p = names; *p; p++) {
            if (*p == '=') {
                while (p[1] && p[1] != ',') p++;
                continue;
            }
            cn_buf_addc(&b, *p);
        }
        free(names);
        char *list = cn_buf_detach(&b, NULL);
        *msg = cn_asprintf("status unknown for quota: %s, resources: %s", name ? name : "", list);
        free(list);
        json_decref(unknown);
        return 1;
    }
    json_decref(unknown);
    json_t *failed = json_array();
    json_object_foreach((json_t *)delta, k, v) {
        json_t *h = json_object_get(hard, k);
        if (!h || json_integer_value(v) == 0) continue;
        int64_t hv = qty_of(h), uv = qty_of(json_object_get(used, k));
        if (uv + json_integer_value(v) > hv) json_array_append_new(failed, json_string(k));
    }
    int r = 0;
    if (json_array_size(failed)) {
        char *req = pretty(failed, delta, NULL), *u = pretty(failed, NULL, used), *l = pretty(failed, NULL, hard);
        *msg = cn_asprintf("exceeded quota: %s, requested: %s, used: %s, limited: %s", name ? name : "", req, u, l);
        free(req);
        free(u);
        free(l);
        r = -1;
    }
    json_decref(failed);
    return r;
}

static const char *const compute_names[] = { "cpu", "limits.cpu", "limits.memory", "memory",
                                             "requests.cpu", "requests.memory" };

static void constraints_of(const json_t *c, const json_t *hard, json_t *missing)
{
    json_t *u = json_object();
    container_usage(c, u);
    const char *name = json_string_value(json_object_get(c, "name"));
    for (size_t i = 0; i < sizeof compute_names / sizeof compute_names[0]; i++) {
        const char *r = compute_names[i];
        if (!json_object_get(hard, r) || json_object_get(u, r)) continue;
        json_t *l = json_object_get(missing, r);
        if (!l) {
            l = json_array();
            json_object_set_new(missing, r, l);
        }
        json_array_append_new(l, json_string(name ? name : ""));
    }
    json_decref(u);
}

char *cn_quota_pod_constraints(const json_t *quota, const json_t *pod)
{
    json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    json_t *spec = json_object_get(pod, "spec");
    json_t *missing = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c) constraints_of(c, hard, missing);
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) constraints_of(c, hard, missing);
    char *out = NULL;
    if (json_object_size(missing)) {
        cn_buf b;
        cn_buf_init(&b);
        cn_buf_adds(&b, "must specify ");
        bool first = true;
        for (size_t j = 0; j < sizeof compute_names / sizeof compute_names[0]; j++) {
            json_t *l = json_object_get(missing, compute_names[j]);
            if (!l) continue;
            size_t n = json_array_size(l);
            const char **names = cn_calloc(n, sizeof *names);
            for (size_t k = 0; k < n; k++) names[k] = json_string_value(json_array_get(l, k));
            qsort(names, n, sizeof *names, cmp_str);
            cn_buf_addf(&b, "%s%s for: ", first ? "" : "; ", compute_names[j]);
            for (size_t k = 0; k < n; k++) {
                if (k && !strcmp(names[k], names[k - 1])) continue;
                cn_buf_addf(&b, "%s%s", k ? "," : "", names[k]);
            }
            free(names);
            first = false;
        }
        out = cn_buf_detach(&b, NULL);
    }
    json_decref(missing);
    return out;
}

bool cn_quota_charge(json_t *quota, const json_t *delta)
{
    json_t *st = json_object_get(quota, "status");
    json_t *hard = json_object_get(st, "hard"), *used = json_object_get(st, "used");
    if (!json_is_object(used)) return false;
    bool changed = false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)delta, k, v) {
        if (!json_object_get(hard, k) || json_integer_value(v) == 0) continue;
        int64_t nv = qty_of(json_object_get(used, k)) + json_integer_value(v);
        char *f = cn_qty_format(nv, cn_qty_is_bytes(k));
        json_object_set_new(used, k, json_string(f));
        free(f);
        changed = true;
    }
    return changed;
}

bool cn_quota_set_status(json_t *quota, const json_t *total)
{
    json_t *spec_hard = json_object_get(json_object_get(quota, "spec"), "hard");
    json_t *hard = json_object(), *used = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(spec_hard, k, v) {
        json_object_set(hard, k, v);
        char *f = cn_qty_format(json_integer_value(json_object_get(total, k)), cn_qty_is_bytes(k));
        json_object_set_new(used, k, json_string(f));
        free(f);
    }
    json_t *st = json_object_get(quota, "status");
    bool changed = !json_equal(json_object_get(st, "hard"), hard) || !json_equal(json_object_get(st, "used"), used);
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(quota, "status", st);
    }
    json_object_set_new(st, "hard", hard);
    json_object_set_new(st, "used", used);
    return changed;
}

/* ---- LimitRange ---- */

static const char *item_type(const json_t *it) { return json_string_value(json_object_get(it, "type")) ?: ""; }

/* Upstream's SetDefaults_LimitRangeItem for Container items: default from
 * max, defaultRequest from default, then from min. */
static void effective_defaults(const json_t *it, json_t *def, json_t *defreq)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(it, "default"), k, v) json_object_set(def, k, v);
    json_object_foreach(json_object_get(it, "max"), k, v) if (!json_object_get(def, k)) json_object_set(def, k, v);
    json_object_foreach(json_object_get(it, "defaultRequest"), k, v) json_object_set(defreq, k, v);
    json_object_foreach(def, k, v) if (!json_object_get(defreq, k)) json_object_set(defreq, k, v);
    json_object_foreach(json_object_get(it, "min"), k, v) if (!json_object_get(defreq, k)) json_object_set(defreq, k, v);
}

static json_t *ensure_obj(json_t *parent, const char *k)
{
    json_t *o = json_object_get(parent, k);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(parent, k, o);
    }
    return o;
}

static void set_list(cn_buf *note, const json_t *names, const char *what, const char *ctype, const char *cname)
{
    size_t n = json_array_size(names);
    if (!n) return;
    const char **ks = cn_calloc(n, sizeof *ks);
    for (size_t i = 0; i < n; i++) ks[i] = json_string_value(json_array_get(names, i));
    qsort(ks, n, sizeof *ks, cmp_str);
    if (note->len) cn_buf_adds(note, "; ");
    for (size_t i = 0; i < n; i++) cn_buf_addf(note, "%s%s", i ? ", " : "", ks[i]);
    cn_buf_addf(note, " %s for %s %s", what, ctype, cname);
    free(ks);
}

static void default_container(json_t *c, const json_t *def, const json_t *defreq, const char *ctype, cn_buf *note)
{
    if (!json_object_size(def) && !json_object_size(defreq)) return;
    json_t *res = ensure_obj(c, "resources");
    json_t *sreq = json_array(), *slim = json_array();
    const char *k;
    json_t *v;
    json_t *lim = json_object_get(res, "limits"), *req = json_object_get(res, "requests");
    json_object_foreach((json_t *)def, k, v) {
        if (json_object_get(lim, k)) continue;
        json_object_set(ensure_obj(res, "limits"), k, v);
        lim = json_object_get(res, "limits");
        json_array_append_new(slim, json_string(k));
    }
    json_object_foreach((json_t *)defreq, k, v) {
        if (json_object_get(req, k)) continue;
        json_object_set(ensure_obj(res, "requests"), k, v);
        req = json_object_get(res, "requests");
        json_array_append_new(sreq, json_string(k));
    }
    const char *cname = json_string_value(json_object_get(c, "name")) ?: "";
    set_list(note, sreq, "request", ctype, cname);
    set_list(note, slim, "limit", ctype, cname);
    json_decref(sreq);
    json_decref(slim);
}

char *cn_limitrange_apply(const json_t *lr, json_t *pod)
{
    json_t *def = json_object(), *defreq = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(json_object_get(lr, "spec"), "limits"), i, it)
        if (!strcmp(item_type(it), "Container")) effective_defaults(it, def, defreq);
    cn_buf note;
    cn_buf_init(&note);
    json_t *spec = json_object_get(pod, "spec");
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c) default_container(c, def, defreq, "container", &note);
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
        default_container(c, def, defreq, "init container", &note);
    json_decref(def);
    json_decref(defreq);
    if (!note.len) {
        cn_buf_release(&note);
        return NULL;
    }
    char *body = cn_buf_detach(&note, NULL);
    char *out = cn_asprintf("LimitRanger plugin set: %s", body);
    free(body);
    return out;
}

static void min_max(const json_t *it, const char *ltype, const json_t *req, const json_t *lim, json_t *errs)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(it, "min"), k, v) {
        const char *e = json_string_value(v) ?: "";
        json_t *rq = json_object_get(req, k), *lm = json_object_get(lim, k);
        if (!rq)
            json_array_append_new(errs, json_sprintf("minimum %s usage per %s is %s.  No request is specified", k, ltype, e));
        else if (qty_of(rq) < qty_of(v))
            json_array_append_new(errs, json_sprintf("minimum %s usage per %s is %s, but request is %s", k, ltype, e, json_string_value(rq) ?: ""));
        else if (lm && qty_of(lm) < qty_of(v))
            json_array_append_new(errs, json_sprintf("minimum %s usage per %s is %s, but limit is %s", k, ltype, e, json_string_value(lm) ?: ""));
    }
    json_object_foreach(json_object_get(it, "max"), k, v) {
        const char *e = json_string_value(v) ?: "";
        json_t *rq = json_object_get(req, k), *lm = json_object_get(lim, k);
        if (!lm)
            json_array_append_new(errs, json_sprintf("maximum %s usage per %s is %s.  No limit is specified", k, ltype, e));
        else if (qty_of(lm) > qty_of(v))
            json_array_append_new(errs, json_sprintf("maximum %s usage per %s is %s, but limit is %s", k, ltype, e, json_string_value(lm) ?: ""));
        else if (rq && qty_of(rq) > qty_of(v))
            json_array_append_new(errs, json_sprintf("maximum %s usage per %s is %s, but request is %s", k, ltype, e, json_string_value(rq) ?: ""));
    }
    json_object_foreach(json_object_get(it, "maxLimitRequestRatio"), k, v) {
        const char *e = json_string_value(v) ?: "";
        json_t *rq = json_object_get(req, k), *lm = json_object_get(lim, k);
        if (!lm) {
            json_array_append_new(errs, json_sprintf("%s max limit to request ratio per %s is %s, but no limit is specified", k, ltype, e));
        } else if (!rq || qty_of(rq) == 0) {
            json_array_append_new(errs, json_sprintf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", k, ltype, e));
        } else {
            double ratio = (double)qty_of(lm) / (double)qty_of(rq);
            if (ratio * 1000.0 > (double)qty_of(v))
                json_array_append_new(errs, json_sprintf("%s max limit to request ratio per %s is %s, but provided ratio is %f", k, ltype, e, ratio));
        }
    }
}

/* Sum of requests/limits over containers, as text quantities. */
static void pod_totals(const json_t *pod, json_t *req, json_t *lim)
{
    json_t *mr = json_object(), *ml = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
        json_t *res = json_object_get(c, "resources");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(res, "requests"), k, v) usage_put(mr, k, qty_of(v));
        json_object_foreach(json_object_get(res, "limits"), k, v) usage_put(ml, k, qty_of(v));
    }
    const char *k;
    json_t *v;
    json_object_foreach(mr, k, v) {
        char *f = cn_qty_format(json_integer_value(v), cn_qty_is_bytes(k));
        json_object_set_new(req, k, json_string(f));
        free(f);
    }
    json_object_foreach(ml, k, v) {
        char *f = cn_qty_format(json_integer_value(v), cn_qty_is_bytes(k));
        json_object_set_new(lim, k, json_string(f));
        free(f);
    }
    json_decref(mr);
    json_decref(ml);
}

void cn_limitrange_check(const json_t *lr, const char *kind, const json_t *obj, json_t *errs)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(json_object_get(lr, "spec"), "limits"), i, it) {
        const char *t = item_type(it);
        json_t *spec = json_object_get(obj, "spec");
        if (!strcmp(kind, "Pod") && !strcmp(t, "Container")) {
            size_t j;
            json_t *c;
            json_array_foreach(json_object_get(spec, "containers"), j, c) {
                json_t *res = json_object_get(c, "resources");
                min_max(it, "Container", json_object_get(res, "requests"), json_object_get(res, "limits"), errs);
            }
            json_array_foreach(json_object_get(spec, "initContainers"), j, c) {
                json_t *res = json_object_get(c, "resources");
                min_max(it, "Container", json_object_get(res, "requests"), json_object_get(res, "limits"), errs);
            }
        } else if (!strcmp(kind, "Pod") && !strcmp(t, "Pod")) {
            json_t *req = json_object(), *lim = json_object();
            pod_totals(obj, req, lim);
            min_max(it, "Pod", req, lim, errs);
            json_decref(req);
            json_decref(lim);
        } else if (!strcmp(kind, "PersistentVolumeClaim") && !strcmp(t, "PersistentVolumeClaim")) {
            json_t *req = json_object_get(json_object_get(spec, "resources"), "requests");
            /* A claim has no limit: max is checked against the request. */
            min_max(it, "PersistentVolumeClaim", req, req, errs);
        }
    }
}
