/* validate_apps: validation of the non-core built-in kinds: apps workloads,
 * batch Jobs and CronJobs, RBAC, coordination Leases, EndpointSlices,
 * StorageClasses and ValidatingAdmissionPolicies. Rules and messages follow
 * upstream's pkg/apis/<group>/validation for the fields users set.
 *
 * TODO: kinds validated by ObjectMeta rules only so far: Ingress,
 * IngressClass, NetworkPolicy, HorizontalPodAutoscaler, PodDisruptionBudget,
 * events.k8s.io Event, PriorityClass, CSIDriver/CSINode, mutating/validating
 * webhook configurations, ControllerRevision. Pod template affinity,
 * tolerations, probes and securityContext are not checked either. */
#include "api/validate-internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const restart_always[] = { "Always", NULL };
static const char *const restart_job[] = { "OnFailure", "Never", NULL };

/* selector + template shared by the four workload kinds. */
static void workload_selector(cn_vctx *v, const json_t *spec, const char *what)
{
    const json_t *sel = cn_v_obj(v, spec, "selector");
    const json_t *tmpl = cn_v_obj(v, spec, "template");
    if (!sel) {
        cn_v_required(v, "selector", NULL);
    } else {
        size_t m = cn_v_push(v, "selector");
        cn_v_label_selector(v, sel);
        if (!json_object_size(json_object_get(sel, "matchLabels")) &&
            !json_array_size(json_object_get(sel, "matchExpressions")))
            cn_v_invalid(v, NULL, sel, "empty selector is invalid for %s", what);
        cn_v_pop(v, m);
    }
    if (sel && tmpl) {
        const json_t *labels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
        if ((json_object_size(json_object_get(sel, "matchLabels")) ||
             json_array_size(json_object_get(sel, "matchExpressions"))) &&
            !cn_v_selector_matches(sel, labels))
            cn_v_invalid(v, "template.metadata.labels", labels ? labels : json_object_get(tmpl, "metadata"),
                         "`selector` does not match template `labels`");
    }
}

static const json_t *spec_of(cn_vctx *v, const json_t *obj)
{
    const json_t *spec = cn_v_obj(v, obj, "spec");
    if (!spec) cn_v_required(v, "spec", NULL);
    return spec;
}

static void int_or_percent(cn_vctx *v, const json_t *parent, const char *key)
{
    const json_t *j = json_object_get(parent, key);
    if (!j || json_is_null(j)) return;
    if (json_is_integer(j)) {
        if (json_integer_value(j) < 0) cn_v_invalid(v, key, j, "must be greater than or equal to 0");
        return;
    }
    const char *s = json_string_value(j);
    int64_t n;
    size_t len = s ? strlen(s) : 0;
    char *num = len ? cn_strndup(s, len - 1) : NULL;
    bool ok = len > 1 && s[len - 1] == '%' && cn_parse_int64(num, &n) == 0 && n >= 0;
    free(num);
    if (!ok) cn_v_invalid(v, key, j, "a valid percent string must be a numeric string followed by an ending '%%' (e.g. '1%%',  or '93%%', regex used for validation is '[0-9]+%%')");
    else if (n > 100) cn_v_invalid(v, key, j, "must not be greater than 100%%");
}

static bool is_zero(const json_t *j)
{
    if (!j) return false;
    if (json_is_integer(j)) return json_integer_value(j) == 0;
    const char *s = json_string_value(j);
    return s && !strcmp(s, "0%");
}

static void selector_immutable(cn_vctx *v, const json_t *obj, const json_t *old)
{
    if (!old) return;
    size_t m = cn_v_push(v, "spec");
    cn_v_same(v, json_object_get(obj, "spec"), json_object_get(old, "spec"), "selector");
    cn_v_pop(v, m);
}

static void deployment(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = spec_of(v, obj);
    if (!spec) return;
    size_t m = cn_v_push(v, "spec");
    cn_v_nonneg(v, spec, "replicas");
    cn_v_nonneg(v, spec, "minReadySeconds");
    cn_v_nonneg(v, spec, "revisionHistoryLimit");
    workload_selector(v, spec, "deployment");
    cn_v_pod_template(v, cn_v_obj(v, spec, "template"), restart_always);
    const json_t *st = cn_v_obj(v, spec, "strategy");
    static const char *const types[] = { "Recreate", "RollingUpdate", NULL };
    size_t m2 = cn_v_push(v, "strategy");
    const char *type = cn_v_str(v, st, "type");
    if (st) cn_v_enum(v, st, "type", true, types);
    const json_t *ru = cn_v_obj(v, st, "rollingUpdate");
    if (type && !strcmp(type, "Recreate") && ru) {
        cn_v_forbidden(v, "rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
    } else if (ru) {
        size_t m3 = cn_v_push(v, "rollingUpdate");
        int_or_percent(v, ru, "maxUnavailable");
        int_or_percent(v, ru, "maxSurge");
        const json_t *mu = json_object_get(ru, "maxUnavailable"), *ms = json_object_get(ru, "maxSurge");
        if (is_zero(mu) && (!ms || is_zero(ms)))
            cn_v_invalid(v, "maxUnavailable", mu, "may not be 0 when `maxSurge` is 0");
        cn_v_pop(v, m3);
    }
    cn_v_pop(v, m2);
    int64_t pd, mr = 0;
    if (cn_v_int(v, spec, "progressDeadlineSeconds", &pd)) {
        cn_v_int(v, spec, "minReadySeconds", &mr);
        if (pd <= mr) cn_v_invalid_int(v, "progressDeadlineSeconds", pd, "must be greater than minReadySeconds");
    }
    cn_v_pop(v, m);
    selector_immutable(v, obj, old);
}

static void replicaset(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = spec_of(v, obj);
    if (!spec) return;
    size_t m = cn_v_push(v, "spec");
    cn_v_nonneg(v, spec, "replicas");
    cn_v_nonneg(v, spec, "minReadySeconds");
    workload_selector(v, spec, "replicaset");
    cn_v_pod_template(v, cn_v_obj(v, spec, "template"), restart_always);
    cn_v_pop(v, m);
    selector_immutable(v, obj, old);
}

static void daemonset(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = spec_of(v, obj);
    if (!spec) return;
    size_t m = cn_v_push(v, "spec");
    cn_v_nonneg(v, spec, "minReadySeconds");
    cn_v_nonneg(v, spec, "revisionHistoryLimit");
    workload_selector(v, spec, "daemonset");
    cn_v_pod_template(v, cn_v_obj(v, spec, "template"), restart_always);
    static const char *const types[] = { "OnDelete", "RollingUpdate", NULL };
    const json_t *us = cn_v_obj(v, spec, "updateStrategy");
    size_t m2 = cn_v_push(v, "updateStrategy");
    if (us) cn_v_enum(v, us, "type", true, types);
    const json_t *ru = cn_v_obj(v, us, "rollingUpdate");
    if (ru) {
        size_t m3 = cn_v_push(v, "rollingUpdate");
        int_or_percent(v, ru, "maxUnavailable");
        int_or_percent(v, ru, "maxSurge");
        const json_t *mu = json_object_get(ru, "maxUnavailable"), *ms = json_object_get(ru, "maxSurge");
        if (is_zero(mu) && (!ms || is_zero(ms)))
            cn_v_invalid(v, "maxUnavailable", mu, "may not be 0 when `maxSurge` is 0");
        cn_v_pop(v, m3);
    }
    cn_v_pop(v, m2);
    cn_v_pop(v, m);
    selector_immutable(v, obj, old);
}

static void statefulset(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = spec_of(v, obj);
    if (!spec) return;
    size_t m = cn_v_push(v, "spec");
    cn_v_nonneg(v, spec, "replicas");
    cn_v_nonneg(v, spec, "minReadySeconds");
    cn_v_nonneg(v, spec, "revisionHistoryLimit");
    static const char *const pmp[] = { "OrderedReady", "Parallel", NULL };
    cn_v_enum(v, spec, "podManagementPolicy", false, pmp);
    static const char *const types[] = { "OnDelete", "RollingUpdate", NULL };
    const json_t *us = cn_v_obj(v, spec, "updateStrategy");
    size_t m2 = cn_v_push(v, "updateStrategy");
    if (us) cn_v_enum(v, us, "type", true, types);
    const json_t *ru = cn_v_obj(v, us, "rollingUpdate");
    size_t m3 = cn_v_push(v, "rollingUpdate");
    cn_v_nonneg(v, ru, "partition");
    cn_v_pop(v, m3);
    cn_v_pop(v, m2);
    const char *svc = cn_v_str(v, spec, "serviceName");
    if (svc && *svc) cn_v_dns_label_field(v, "serviceName", svc);
    workload_selector(v, spec, "statefulset");
    cn_v_pod_template(v, cn_v_obj(v, spec, "template"), restart_always);
    cn_v_pop(v, m);
    if (!old) return;
    json_t *a = json_deep_copy(spec), *b = json_deep_copy(json_object_get(old, "spec"));
    static const char *const mutable_keys[] = { "replicas", "ordinals", "template", "updateStrategy",
        "persistentVolumeClaimRetentionPolicy", "minReadySeconds", NULL };
    for (size_t i = 0; mutable_keys[i]; i++) {
        json_object_del(a, mutable_keys[i]);
        json_object_del(b, mutable_keys[i]);
    }
    if (!json_equal(a, b))
        cn_v_forbidden(v, "spec", "updates to statefulset spec for fields other than 'replicas', "
                       "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                       "and 'minReadySeconds' are forbidden");
    json_decref(a);
    json_decref(b);
}

/* --- batch --- */

void cn_v_job_spec(cn_vctx *v, const json_t *spec, bool in_cronjob)
{
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        return;
    }
    cn_v_nonneg(v, spec, "parallelism");
    cn_v_nonneg(v, spec, "completions");
    cn_v_nonneg(v, spec, "backoffLimit");
    cn_v_nonneg(v, spec, "ttlSecondsAfterFinished");
    int64_t n;
    if (cn_v_int(v, spec, "activeDeadlineSeconds", &n) && n <= 0)
        cn_v_invalid_int(v, "activeDeadlineSeconds", n, "must be greater than 0");
    static const char *const modes[] = { "NonIndexed", "Indexed", NULL };
    cn_v_enum(v, spec, "completionMode", false, modes);
    const char *mode = cn_v_sget(spec, "completionMode");
    if (mode && !strcmp(mode, "Indexed") && !json_is_integer(json_object_get(spec, "completions")))
        cn_v_required(v, "completions", "when completion mode is Indexed");
    const json_t *sel = cn_v_obj(v, spec, "selector");
    if (sel && !in_cronjob) {
        size_t m = cn_v_push(v, "selector");
        cn_v_label_selector(v, sel);
        cn_v_pop(v, m);
        const json_t *labels = json_object_get(json_object_get(json_object_get(spec, "template"),
                                                               "metadata"), "labels");
        if (!cn_v_selector_matches(sel, labels))
            cn_v_invalid(v, "template.metadata.labels", labels, "`selector` does not match template `labels`");
    }
    cn_v_pod_template(v, cn_v_obj(v, spec, "template"), restart_job);
}

static void job(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *spec = spec_of(v, obj);
    if (!spec) return;
    size_t m = cn_v_push(v, "spec");
    /* Defaulting generates the selector unless manualSelector is set. */
    if (!json_object_get(spec, "selector")) cn_v_required(v, "selector", NULL);
    cn_v_job_spec(v, spec, false);
    if (old) {
        const json_t *ospec = json_object_get(old, "spec");
        cn_v_same(v, spec, ospec, "selector");
        cn_v_same(v, spec, ospec, "completions");
        cn_v_same(v, spec, ospec, "completionMode");
        /* Upstream relaxes this for suspended Jobs (scheduling directives). */
        cn_v_same(v, spec, ospec, "template");
    }
    cn_v_pop(v, m);
}

static const struct { const char *name; int lo, hi; } cron_fields[] = {
    { "minute", 0, 59 }, { "hour", 0, 23 }, { "day of month", 1, 31 }, { "month", 1, 12 },
    { "day of week", 0, 6 },
};
static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
    "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static bool cron_value(const char *s, size_t n, int field, int *out)
{
    if (n == 0 || n > 9) return false;
    const char *const *names = field == 3 ? month_names : field == 4 ? dow_names : NULL;
    if (names && n == 3) {
        for (int i = 0; names[i]; i++)
            if (!strncasecmp(s, names[i], 3)) {
                *out = field == 3 ? i + 1 : i;
                return true;
            }
    }
    char buf[10];
    memcpy(buf, s, n);
    buf[n] = '\0';
    int64_t x;
    if (cn_parse_int64(buf, &x) < 0 || buf[0] == '+' || buf[0] == '-') return false;
    int hi = cron_fields[field].hi + (field == 4);  /* 7 = Sunday too */
    if (x < cron_fields[field].lo || x > hi) return false;
    *out = (int)x;
    return true;
}

/* One comma-separated element: * | ? | v | v-v, each with an optional /step. */
static bool cron_elem(const char *s, size_t n, int field)
{
    const char *slash = memchr(s, '/', n);
    size_t rn = slash ? (size_t)(slash - s) : n;
    if (slash) {
        size_t sn = n - rn - 1;
        char buf[10];
        int64_t step;
        if (sn == 0 || sn > 9) return false;
        memcpy(buf, slash + 1, sn);
        buf[sn] = '\0';
        if (cn_parse_int64(buf, &step) < 0 || step <= 0 || buf[0] == '+') return false;
    }
    if (rn == 1 && (s[0] == '*' || s[0] == '?')) return s[0] == '*' || field == 2 || field == 4;
    const char *dash = memchr(s, '-', rn);
    int a, b;
    if (!dash) return cron_value(s, rn, field, &a);
    if (!cron_value(s, (size_t)(dash - s), field, &a) ||
        !cron_value(dash + 1, rn - (size_t)(dash - s) - 1, field, &b))
        return false;
    return a <= b;
}

/* NULL when valid, else an error text like robfig/cron's. */
static const char *cron_check(const char *s)
{
    static const char *const macros[] = { "@yearly", "@annually", "@monthly", "@weekly", "@daily",
        "@midnight", "@hourly", NULL };
    if (s[0] == '@') {
        if (cn_v_in(s, macros) || cn_str_has_prefix(s, "@every ")) return NULL;
        return "unrecognized descriptor";
    }
    if (strstr(s, "TZ")) return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead";
    const char *p = s;
    int field = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        if (field >= 5) return "expected exactly 5 fields";
        const char *e = start;
        while (e < p) {
            const char *comma = memchr(e, ',', (size_t)(p - e));
            const char *end = comma ? comma : p;
            if (!cron_elem(e, (size_t)(end - e), field)) return "unparseable schedule";
            e = comma ? comma + 1 : p;
            if (comma && e == p) return "unparseable schedule";
        }
        field++;
    }
    return field == 5 ? NULL : "expected exactly 5 fields";
}

static void cronjob(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    const json_t *spec = spec_of(v, obj);
    if (!spec) return;
    size_t m = cn_v_push(v, "spec");
    const char *sched = cn_v_str(v, spec, "schedule");
    if (!sched || !*sched) cn_v_required(v, "schedule", NULL);
    else {
        const char *e = strlen(sched) > 256 ? "schedule too long" : cron_check(sched);
        if (e) cn_v_invalid_str(v, "schedule", sched, "%s", e);
    }
    static const char *const cp[] = { "Allow", "Forbid", "Replace", NULL };
    cn_v_enum(v, spec, "concurrencyPolicy", false, cp);
    cn_v_nonneg(v, spec, "startingDeadlineSeconds");
    cn_v_nonneg(v, spec, "successfulJobsHistoryLimit");
    cn_v_nonneg(v, spec, "failedJobsHistoryLimit");
    const json_t *jt = cn_v_obj(v, spec, "jobTemplate");
    size_t m2 = cn_v_push(v, "jobTemplate");
    if (!jt) cn_v_required(v, NULL, NULL);
    else {
        size_t m3 = cn_v_push(v, "spec");
        cn_v_job_spec(v, cn_v_obj(v, jt, "spec"), true);
        cn_v_pop(v, m3);
    }
    cn_v_pop(v, m2);
    cn_v_pop(v, m);
}

/* --- RBAC --- */

static void policy_rules(cn_vctx *v, const json_t *obj, bool namespaced)
{
    const json_t *rules = cn_v_arr(v, obj, "rules");
    size_t i;
    const json_t *r;
    json_array_foreach((json_t *)rules, i, r) {
        size_t m1 = cn_v_push(v, "rules"), m2 = cn_v_pushi(v, i);
        if (!json_array_size(json_object_get(r, "verbs")))
            cn_v_required(v, "verbs", "verbs must contain at least one value");
        size_t urls = json_array_size(json_object_get(r, "nonResourceURLs"));
        size_t groups = json_array_size(json_object_get(r, "apiGroups"));
        size_t res = json_array_size(json_object_get(r, "resources"));
        if (urls) {
            if (namespaced)
                cn_v_invalid(v, "nonResourceURLs", json_object_get(r, "nonResourceURLs"),
                             "namespaced rules cannot apply to non-resource URLs");
            if (groups || res)
                cn_v_invalid(v, "nonResourceURLs", json_object_get(r, "nonResourceURLs"),
                             "rules cannot apply to both regular resources and non-resource URLs");
        } else {
            if (!groups) cn_v_required(v, "apiGroups", "resource rules must supply at least one api group");
            if (!res) cn_v_required(v, "resources", "resource rules must supply at least one resource");
        }
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
}

static void role(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    policy_rules(v, obj, true);
}

static void clusterrole(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    policy_rules(v, obj, false);
}

static void role_binding(cn_vctx *v, const json_t *obj, const json_t *old, bool cluster)
{
    static const char *const rbac_group[] = { "rbac.authorization.k8s.io", NULL };
    static const char *const rb_kinds[] = { "Role", "ClusterRole", NULL };
    static const char *const crb_kinds[] = { "ClusterRole", NULL };
    static const char *const subject_kinds[] = { "ServiceAccount", "User", "Group", NULL };
    const json_t *ref = cn_v_obj(v, obj, "roleRef");
    size_t m = cn_v_push(v, "roleRef");
    const char *g = cn_v_str(v, ref, "apiGroup");
    if (!g || strcmp(g, rbac_group[0])) cn_v_unsupported(v, "apiGroup", json_object_get(ref, "apiGroup"), rbac_group);
    const char *const *kinds = cluster ? crb_kinds : rb_kinds;
    if (!cn_v_in(cn_v_str(v, ref, "kind"), kinds)) cn_v_unsupported(v, "kind", json_object_get(ref, "kind"), kinds);
    const char *name = cn_v_str(v, ref, "name");
    if (!name || !*name) cn_v_required(v, "name", NULL);
    cn_v_pop(v, m);

    const json_t *subs = cn_v_arr(v, obj, "subjects");
    size_t i;
    const json_t *s;
    json_array_foreach((json_t *)subs, i, s) {
        size_t m1 = cn_v_push(v, "subjects"), m2 = cn_v_pushi(v, i);
        const char *sn = cn_v_str(v, s, "name");
        if (!sn || !*sn) cn_v_required(v, "name", NULL);
        const char *kind = cn_v_str(v, s, "kind");
        const char *ag = cn_v_str(v, s, "apiGroup");
        if (!cn_v_in(kind, subject_kinds)) {
            cn_v_unsupported(v, "kind", json_object_get(s, "kind"), subject_kinds);
        } else if (!strcmp(kind, "ServiceAccount")) {
            static const char *const empty[] = { "", NULL };
            if (ag && *ag) cn_v_unsupported(v, "apiGroup", json_object_get(s, "apiGroup"), empty);
            if (sn && *sn) {
                const char *msg = cn_check_dns1123_subdomain(sn);
                if (msg) cn_v_invalid_str(v, "name", sn, "%s", msg);
            }
            const char *ns = cn_v_str(v, s, "namespace");
            if (cluster && (!ns || !*ns)) cn_v_required(v, "namespace", NULL);
        } else if (!ag || strcmp(ag, rbac_group[0])) {
            cn_v_unsupported(v, "apiGroup", json_object_get(s, "apiGroup"), rbac_group);
        }
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    if (old) {
        const json_t *a = json_object_get(obj, "roleRef"), *b = json_object_get(old, "roleRef");
        if (b && (!a || !json_equal((json_t *)a, (json_t *)b)))
            cn_v_invalid(v, "roleRef", a, "cannot change roleRef");
    }
}

static void rolebinding(cn_vctx *v, const json_t *obj, const json_t *old)
{
    role_binding(v, obj, old, false);
}

static void clusterrolebinding(cn_vctx *v, const json_t *obj, const json_t *old)
{
    role_binding(v, obj, old, true);
}

/* --- others --- */

static void lease(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    int64_t n;
    if (cn_v_int(v, spec, "leaseDurationSeconds", &n) && n <= 0)
        cn_v_invalid_int(v, "leaseDurationSeconds", n, "must be greater than 0");
    cn_v_nonneg(v, spec, "leaseTransitions");
    cn_v_pop(v, m);
}

static void endpointslice(cn_vctx *v, const json_t *obj, const json_t *old)
{
    static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
    cn_v_enum(v, obj, "addressType", true, types);
    if (old) cn_v_same(v, obj, old, "addressType");
    const json_t *eps = cn_v_arr(v, obj, "endpoints");
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)eps, i, e) {
        size_t m1 = cn_v_push(v, "endpoints"), m2 = cn_v_pushi(v, i);
        size_t n = json_array_size(cn_v_arr(v, e, "addresses"));
        if (n == 0) cn_v_required(v, "addresses", "must contain at least 1 address");
        else if (n > 100) cn_v_cause(v, "FieldValueTooMany", "addresses", "Too many: %zu: must have at most 100 items", n);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    const json_t *ports = cn_v_arr(v, obj, "ports");
    static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
    json_array_foreach((json_t *)ports, i, e) {
        size_t m1 = cn_v_push(v, "ports"), m2 = cn_v_pushi(v, i);
        const char *name = cn_v_str(v, e, "name");
        if (name && *name) cn_v_dns_label_field(v, "name", name);
        int64_t p;
        if (cn_v_int(v, e, "port", &p) && (p < 0 || p > 65535))
            cn_v_invalid_int(v, "port", p, "must be between 0 and 65535, inclusive");
        cn_v_enum(v, e, "protocol", false, protocols);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
}

static void storageclass(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const char *prov = cn_v_str(v, obj, "provisioner");
    if (!prov || !*prov) cn_v_required(v, "provisioner", NULL);
    else cn_v_qualified_name_field(v, "provisioner", prov);
    static const char *const reclaim[] = { "Delete", "Retain", NULL };
    static const char *const binding[] = { "Immediate", "WaitForFirstConsumer", NULL };
    cn_v_enum(v, obj, "reclaimPolicy", false, reclaim);
    cn_v_enum(v, obj, "volumeBindingMode", false, binding);
    if (!old) return;
    static const char *const fixed[] = { "parameters", "provisioner", "reclaimPolicy", "volumeBindingMode", NULL };
    for (size_t i = 0; fixed[i]; i++) {
        const json_t *a = json_object_get(obj, fixed[i]), *b = json_object_get(old, fixed[i]);
        if ((a || b) && !(a && b && json_equal((json_t *)a, (json_t *)b)))
            cn_v_forbidden(v, fixed[i], "updates to %s are forbidden.", fixed[i]);
    }
}

static void vap(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    static const char *const fp[] = { "Fail", "Ignore", NULL };
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        goto out;
    }
    cn_v_enum(v, spec, "failurePolicy", false, fp);
    const json_t *mc = cn_v_obj(v, spec, "matchConstraints");
    if (!mc) cn_v_required(v, "matchConstraints", NULL);
    else if (!json_array_size(json_object_get(mc, "resourceRules")))
        cn_v_required(v, "matchConstraints.resourceRules", NULL);
    const json_t *vals = cn_v_arr(v, spec, "validations");
    const json_t *aa = cn_v_arr(v, spec, "auditAnnotations");
    if (!json_array_size(vals) && !json_array_size(aa))
        cn_v_required(v, "validations", "validations or auditAnnotations must contain at least one item");
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)vals, i, e) {
        size_t m1 = cn_v_push(v, "validations"), m2 = cn_v_pushi(v, i);
        const char *x = cn_v_str(v, e, "expression");
        if (!x || !*x) cn_v_required(v, "expression", NULL);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_array_foreach((json_t *)aa, i, e) {
        size_t m1 = cn_v_push(v, "auditAnnotations"), m2 = cn_v_pushi(v, i);
        const char *x = cn_v_str(v, e, "valueExpression");
        if (!x || !*x) cn_v_required(v, "valueExpression", NULL);
        const char *k = cn_v_str(v, e, "key");
        if (!k || !*k) cn_v_required(v, "key", NULL);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_array_foreach((json_t *)cn_v_arr(v, spec, "variables"), i, e) {
        size_t m1 = cn_v_push(v, "variables"), m2 = cn_v_pushi(v, i);
        const char *n = cn_v_str(v, e, "name");
        if (!n || !*n) cn_v_required(v, "name", NULL);
        const char *x = cn_v_str(v, e, "expression");
        if (!x || !*x) cn_v_required(v, "expression", NULL);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
out:
    cn_v_pop(v, m);
}

static void vap_binding(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    static const char *const actions[] = { "Audit", "Deny", "Warn", NULL };
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    const char *pn = cn_v_str(v, spec, "policyName");
    if (!pn || !*pn) cn_v_required(v, "policyName", NULL);
    const json_t *va = cn_v_arr(v, spec, "validationActions");
    if (!json_array_size(va)) cn_v_required(v, "validationActions", NULL);
    json_t *seen = json_object();
    size_t i;
    const json_t *a;
    json_array_foreach((json_t *)va, i, a) {
        size_t m1 = cn_v_push(v, "validationActions"), m2 = cn_v_pushi(v, i);
        const char *s = json_string_value(a);
        if (!cn_v_in(s, actions)) cn_v_unsupported(v, NULL, a, actions);
        else if (json_object_get(seen, s)) cn_v_duplicate(v, NULL, a);
        else json_object_set_new(seen, s, json_true());
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_decref(seen);
    cn_v_pop(v, m);
}

cn_kind_validator cn_v_apps_validator(const char *group, const char *kind)
{
    static const struct { const char *group, *kind; cn_kind_validator fn; } t[] = {
        { "apps", "Deployment", deployment },
        { "apps", "ReplicaSet", replicaset },
        { "apps", "DaemonSet", daemonset },
        { "apps", "StatefulSet", statefulset },
        { "batch", "Job", job },
        { "batch", "CronJob", cronjob },
        { "rbac.authorization.k8s.io", "Role", role },
        { "rbac.authorization.k8s.io", "ClusterRole", clusterrole },
        { "rbac.authorization.k8s.io", "RoleBinding", rolebinding },
        { "rbac.authorization.k8s.io", "ClusterRoleBinding", clusterrolebinding },
        { "coordination.k8s.io", "Lease", lease },
        { "discovery.k8s.io", "EndpointSlice", endpointslice },
        { "storage.k8s.io", "StorageClass", storageclass },
        { "admissionregistration.k8s.io", "ValidatingAdmissionPolicy", vap },
        { "admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", vap_binding },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].group, group) && !strcmp(t[i].kind, kind)) return t[i].fn;
    return NULL;
}
