/* validate_core: validation of core/v1 kinds (Pod and pod specs, Service,
 * ConfigMap, Secret, Namespace, Node, PersistentVolume(Claim), LimitRange,
 * ResourceQuota, Binding). Rules and messages follow upstream's
 * pkg/apis/core/validation for the fields users set; the rest is accepted. */
#include "api/validate-internal.h"
#include "lib/base64.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const protocols[] = { "SCTP", "TCP", "UDP", NULL };
static const char *const restart_all[] = { "Always", "OnFailure", "Never", NULL };
static const char *const pull_policies[] = { "Always", "IfNotPresent", "Never", NULL };
static const char *const dns_policies[] = { "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None", NULL };
static const char *const access_modes[] = { "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod", NULL };

#define MAX_CONFIG_BYTES (1024 * 1024)

/* --- pod spec --- */

static bool name_seen(json_t *seen, const char *name)
{
    if (json_object_get(seen, name)) return true;
    json_object_set_new(seen, name, json_true());
    return false;
}

static void container_ports(cn_vctx *v, const json_t *c, json_t *port_names)
{
    const json_t *ports = cn_v_arr(v, c, "ports");
    size_t i;
    const json_t *p;
    json_array_foreach((json_t *)ports, i, p) {
        size_t m1 = cn_v_push(v, "ports"), m2 = cn_v_pushi(v, i);
        const char *name = cn_v_str(v, p, "name");
        if (name && *name) {
            const char *msg = cn_check_iana_svc_name(name);
            if (msg) cn_v_invalid_str(v, "name", name, "%s", msg);
            else if (name_seen(port_names, name)) cn_v_duplicate(v, "name", json_object_get(p, "name"));
        }
        cn_v_port(v, p, "containerPort", true);
        int64_t hp;
        if (cn_v_int(v, p, "hostPort", &hp) && hp != 0 && (hp < 1 || hp > 65535))
            cn_v_invalid_int(v, "hostPort", hp, "must be between 1 and 65535, inclusive");
        cn_v_enum(v, p, "protocol", false, protocols);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
}

static void env_name(cn_vctx *v, const char *name)
{
    if (!name || !*name) {
        cn_v_required(v, "name", NULL);
        return;
    }
    bool ok = !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; *p && ok; p++) {
        char c = *p;
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == '.';
    }
    if (!ok)
        cn_v_invalid_str(v, "name", name,
                         "a valid environment variable name must consist of alphabetic characters, "
                         "digits, '_', '-', or '.', and must not start with a digit (e.g. "
                         "'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
                         "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')");
}

static bool quantity_of(const json_t *val, __int128 *q)
{
    if (json_is_string(val)) return cn_quantity_parse(json_string_value(val), q) == 0;
    if (json_is_integer(val)) {
        *q = (__int128)json_integer_value(val) * 1000000000;
        return true;
    }
    return false;
}

static void resources(cn_vctx *v, const json_t *res)
{
    if (!res) return;
    size_t m = cn_v_push(v, "resources");
    const json_t *lim = cn_v_obj(v, res, "limits"), *req = cn_v_obj(v, res, "requests");
    size_t m2 = cn_v_push(v, "limits");
    cn_v_resource_list(v, lim, true);
    cn_v_pop(v, m2);
    m2 = cn_v_push(v, "requests");
    cn_v_resource_list(v, req, true);
    const char *k;
    const json_t *rq;
    json_object_foreach((json_t *)req, k, rq) {
        const json_t *lq = json_object_get(lim, k);
        __int128 a, b;
        if (!lq || !quantity_of(rq, &a) || !quantity_of(lq, &b) || a <= b) continue;
        cn_buf key, lbuf;
        cn_buf_init(&key);
        cn_buf_init(&lbuf);
        cn_buf_addf(&key, "[%s]", k);
        if (json_is_string(lq)) cn_buf_adds(&lbuf, json_string_value(lq));
        else cn_v_render(&lbuf, lq);
        cn_v_invalid(v, key.data, rq, "must be less than or equal to %s limit of %s", k, lbuf.data);
        cn_buf_release(&key);
        cn_buf_release(&lbuf);
    }
    cn_v_pop(v, m2);
    cn_v_pop(v, m);
}

/* A probe's port: a number in range or an IANA service name (a named
 * container port). */
static void probe_port(cn_vctx *v, const json_t *act)
{
    const json_t *port = json_object_get(act, "port");
    if (!port) {
        cn_v_required(v, "port", NULL);
    } else if (json_is_string(port)) {
        const char *msg = cn_check_iana_svc_name(json_string_value(port));
        if (msg) cn_v_invalid_str(v, "port", json_string_value(port), "%s", msg);
    } else {
        cn_v_port(v, act, "port", true);
    }
}

static void probe(cn_vctx *v, const json_t *c, const char *key, bool success_must_be_one)
{
    const json_t *pr = cn_v_obj(v, c, key);
    if (!pr) return;
    size_t m = cn_v_push(v, key);
    static const char *const handlers[] = { "exec", "httpGet", "tcpSocket", "grpc" };
    int n = 0;
    for (size_t i = 0; i < 4; i++) {
        if (!json_object_get(pr, handlers[i])) continue;
        if (++n > 1) {
            cn_v_forbidden(v, handlers[i], "may not specify more than 1 handler type");
            continue;
        }
        const json_t *act = cn_v_obj(v, pr, handlers[i]);
        size_t m2 = cn_v_push(v, handlers[i]);
        if (i == 0 && !json_array_size(json_object_get(act, "command"))) cn_v_required(v, "command", NULL);
        if (i == 1 || i == 2) probe_port(v, act);
        if (i == 1) {
            static const char *const schemes[] = { "HTTP", "HTTPS", NULL };
            cn_v_enum(v, act, "scheme", false, schemes);
        }
        if (i == 3) cn_v_port(v, act, "port", true);
        cn_v_pop(v, m2);
    }
    if (n == 0) cn_v_required(v, NULL, "must specify a handler type");
    static const char *const nums[] = { "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                        "successThreshold", "failureThreshold", "terminationGracePeriodSeconds" };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) cn_v_nonneg(v, pr, nums[i]);
    int64_t st;
    if (success_must_be_one && cn_v_int(v, pr, "successThreshold", &st) && st != 1)
        cn_v_invalid_int(v, "successThreshold", st, "must be 1");
    cn_v_pop(v, m);
}

static void container(cn_vctx *v, const json_t *c, json_t *names, json_t *port_names,
                      const json_t *volumes, bool init)
{
    if (!json_is_object(c)) {
        cn_v_invalid(v, NULL, c, "must be an object");
        return;
    }
    const char *name = cn_v_str(v, c, "name");
    if (!name || !*name) cn_v_required(v, "name", NULL);
    else {
        const char *msg = cn_check_dns1123_label(name);
        if (msg) cn_v_invalid_str(v, "name", name, "%s", msg);
        else if (name_seen(names, name)) cn_v_duplicate(v, "name", json_object_get(c, "name"));
    }
    const char *image = cn_v_str(v, c, "image");
    if (!image || !*image) cn_v_required(v, "image", NULL);
    cn_v_enum(v, c, "imagePullPolicy", false, pull_policies);
    container_ports(v, c, port_names);

    const json_t *env = cn_v_arr(v, c, "env");
    size_t i;
    const json_t *e;
    json_array_foreach((json_t *)env, i, e) {
        size_t m1 = cn_v_push(v, "env"), m2 = cn_v_pushi(v, i);
        env_name(v, cn_v_str(v, e, "name"));
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }

    const json_t *mounts = cn_v_arr(v, c, "volumeMounts");
    json_t *paths = json_object();
    json_array_foreach((json_t *)mounts, i, e) {
        size_t m1 = cn_v_push(v, "volumeMounts"), m2 = cn_v_pushi(v, i);
        const char *vn = cn_v_str(v, e, "name");
        if (!vn || !*vn) cn_v_required(v, "name", NULL);
        else if (!json_object_get(volumes, vn)) cn_v_not_found(v, "name", json_object_get(e, "name"));
        const char *mp = cn_v_str(v, e, "mountPath");
        if (!mp || !*mp) cn_v_required(v, "mountPath", NULL);
        else if (name_seen(paths, mp)) cn_v_invalid_str(v, "mountPath", mp, "must be unique");
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_decref(paths);

    resources(v, cn_v_obj(v, c, "resources"));
    bool sidecar = init && json_object_get(c, "restartPolicy");
    if (init && !sidecar) {
        static const char *const probes[] = { "livenessProbe", "readinessProbe", "startupProbe" };
        for (size_t k = 0; k < 3; k++)
            if (json_object_get(c, probes[k]))
                cn_v_forbidden(v, probes[k], "may not be set for init containers without restartPolicy=Always");
    } else {
        probe(v, c, "livenessProbe", true);
        probe(v, c, "readinessProbe", false);
        probe(v, c, "startupProbe", true);
    }
    if (init) {
        const char *rp = cn_v_str(v, c, "restartPolicy");
        static const char *const always[] = { "Always", NULL };
        if (rp && !cn_v_in(rp, always)) cn_v_unsupported(v, "restartPolicy", json_object_get(c, "restartPolicy"), always);
    } else if (json_object_get(c, "restartPolicy")) {
        cn_v_forbidden(v, "restartPolicy", "may not be set for non-init containers");
    }
}

static void pod_volumes(cn_vctx *v, const json_t *spec, json_t *vols)
{
    const json_t *arr = cn_v_arr(v, spec, "volumes");
    size_t i;
    const json_t *vol;
    json_array_foreach((json_t *)arr, i, vol) {
        size_t m1 = cn_v_push(v, "volumes"), m2 = cn_v_pushi(v, i);
        const char *name = cn_v_str(v, vol, "name");
        if (!name || !*name) cn_v_required(v, "name", NULL);
        else {
            const char *msg = cn_check_dns1123_label(name);
            if (msg) cn_v_invalid_str(v, "name", name, "%s", msg);
            else if (name_seen(vols, name)) cn_v_duplicate(v, "name", json_object_get(vol, "name"));
        }
        size_t sources = json_is_object(vol) ? json_object_size(vol) - (json_object_get(vol, "name") != NULL) : 0;
        if (sources == 0) cn_v_required(v, NULL, "must specify a volume type");
        else if (sources > 1) cn_v_forbidden(v, NULL, "may not specify more than 1 volume type");
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
}

void cn_v_pod_spec(cn_vctx *v, const json_t *spec, const json_t *old_spec, const char *const *restart)
{
    (void)old_spec;
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        return;
    }
    json_t *vols = json_object(), *names = json_object(), *port_names = json_object();
    pod_volumes(v, spec, vols);

    const json_t *cs = cn_v_arr(v, spec, "containers");
    if (!json_array_size(cs)) cn_v_required(v, "containers", NULL);
    size_t i;
    const json_t *c;
    json_array_foreach((json_t *)cn_v_arr(v, spec, "initContainers"), i, c) {
        size_t m1 = cn_v_push(v, "initContainers"), m2 = cn_v_pushi(v, i);
        container(v, c, names, port_names, vols, true);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_array_foreach((json_t *)cs, i, c) {
        size_t m1 = cn_v_push(v, "containers"), m2 = cn_v_pushi(v, i);
        container(v, c, names, port_names, vols, false);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_decref(vols);
    json_decref(names);
    json_decref(port_names);

    const char *rp = cn_v_str(v, spec, "restartPolicy");
    const char *const *allowed = restart ? restart : restart_all;
    if (!rp || !*rp) {
        if (restart) cn_v_required(v, "restartPolicy", NULL);
        else cn_v_unsupported(v, "restartPolicy", NULL, restart_all);
    } else if (!cn_v_in(rp, allowed)) {
        cn_v_unsupported(v, "restartPolicy", json_object_get(spec, "restartPolicy"), allowed);
    }
    cn_v_enum(v, spec, "dnsPolicy", false, dns_policies);
    int64_t n;
    if (cn_v_int(v, spec, "activeDeadlineSeconds", &n) && n < 1)
        cn_v_invalid_int(v, "activeDeadlineSeconds", n, "must be between 1 and 2147483647, inclusive");
    cn_v_nonneg(v, spec, "terminationGracePeriodSeconds");
    const char *sa = cn_v_str(v, spec, "serviceAccountName");
    if (sa && *sa) cn_v_dns_subdomain_field(v, "serviceAccountName", sa);
    const char *node = cn_v_str(v, spec, "nodeName");
    if (node && *node) cn_v_dns_subdomain_field(v, "nodeName", node);
    const char *host = cn_v_str(v, spec, "hostname");
    if (host && *host) cn_v_dns_label_field(v, "hostname", host);
    size_t m = cn_v_push(v, "nodeSelector");
    cn_v_labels(v, cn_v_obj(v, spec, "nodeSelector"));
    cn_v_pop(v, m);
}

void cn_v_pod_template(cn_vctx *v, const json_t *tmpl, const char *const *restart)
{
    size_t m = cn_v_push(v, "template");
    if (!tmpl) {
        cn_v_required(v, NULL, NULL);
        cn_v_pop(v, m);
        return;
    }
    const json_t *meta = cn_v_obj(v, tmpl, "metadata");
    size_t m2 = cn_v_push(v, "metadata");
    size_t m3 = cn_v_push(v, "labels");
    cn_v_labels(v, cn_v_obj(v, meta, "labels"));
    cn_v_pop(v, m3);
    cn_v_pop(v, m2);
    m2 = cn_v_push(v, "spec");
    cn_v_pod_spec(v, cn_v_obj(v, tmpl, "spec"), NULL, restart);
    cn_v_pop(v, m2);
    cn_v_pop(v, m);
}

static void pod(cn_vctx *v, const json_t *obj, const json_t *old)
{
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    cn_v_pod_spec(v, spec, old ? json_object_get(old, "spec") : NULL, NULL);
    cn_v_pop(v, m);
    if (!old || !spec) return;
    /* Pod updates may only change images, activeDeadlineSeconds,
     * tolerations (additions) and terminationGracePeriodSeconds. */
    const json_t *ospec = json_object_get(old, "spec");
    if (!json_is_object(ospec)) return;
    json_t *a = json_deep_copy(spec), *b = json_deep_copy(ospec);
    static const char *const mutable_keys[] = { "activeDeadlineSeconds", "tolerations",
        "terminationGracePeriodSeconds", "nodeName", NULL };
    for (size_t i = 0; mutable_keys[i]; i++) {
        json_object_del(a, mutable_keys[i]);
        json_object_del(b, mutable_keys[i]);
    }
    static const char *const lists[] = { "containers", "initContainers", NULL };
    for (size_t l = 0; lists[l]; l++) {
        json_t *ca = json_object_get(a, lists[l]), *cb = json_object_get(b, lists[l]);
        size_t i;
        json_t *c;
        json_array_foreach(ca, i, c) json_object_del(c, "image");
        json_array_foreach(cb, i, c) json_object_del(c, "image");
    }
    if (!json_equal(a, b))
        cn_v_forbidden(v, "spec", "pod updates may not change fields other than `spec.containers[*].image`,"
                       "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                       "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                       "(allow it to be set to 1 if it was previously negative)");
    json_decref(a);
    json_decref(b);
}

/* --- Service --- */

static const char *const svc_types[] = { "ClusterIP", "ExternalName", "LoadBalancer", "NodePort", NULL };
static const char *const affinities[] = { "ClientIP", "None", NULL };

static void service(cn_vctx *v, const json_t *obj, const json_t *old)
{
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        goto out;
    }
    const char *type = cn_v_str(v, spec, "type");
    if (!type) type = "ClusterIP";
    if (!cn_v_in(type, svc_types)) cn_v_unsupported(v, "type", json_object_get(spec, "type"), svc_types);
    cn_v_enum(v, spec, "sessionAffinity", false, affinities);
    const char *cip = cn_v_str(v, spec, "clusterIP");
    bool headless = cip && !strcmp(cip, "None");
    const json_t *ports = cn_v_arr(v, spec, "ports");
    if (!strcmp(type, "ExternalName")) {
        const char *en = cn_v_str(v, spec, "externalName");
        if (!en || !*en) cn_v_required(v, "externalName", NULL);
        else cn_v_dns_subdomain_field(v, "externalName", en);
    } else if (!json_array_size(ports) && !headless) {
        cn_v_required(v, "ports", NULL);
    }
    if (headless && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer")))
        cn_v_invalid_str(v, "clusterIPs[0]", "None", "may not be set to 'None' for %s services", type);
    bool node_ports = !strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer");
    json_t *names = json_object(), *pp = json_object();
    size_t i;
    const json_t *p;
    json_array_foreach((json_t *)ports, i, p) {
        size_t m1 = cn_v_push(v, "ports"), m2 = cn_v_pushi(v, i);
        const char *name = cn_v_str(v, p, "name");
        if (!name || !*name) {
            if (json_array_size(ports) > 1) cn_v_required(v, "name", NULL);
        } else {
            const char *msg = cn_check_dns1123_label(name);
            if (msg) cn_v_invalid_str(v, "name", name, "%s", msg);
            else if (name_seen(names, name)) cn_v_duplicate(v, "name", json_object_get(p, "name"));
        }
        cn_v_port(v, p, "port", true);
        cn_v_enum(v, p, "protocol", false, protocols);
        const json_t *tp = json_object_get(p, "targetPort");
        if (json_is_integer(tp)) {
            json_int_t t = json_integer_value(tp);
            if (t < 1 || t > 65535) cn_v_invalid_int(v, "targetPort", t, "must be between 1 and 65535, inclusive");
        } else if (json_is_string(tp)) {
            const char *msg = cn_check_iana_svc_name(json_string_value(tp));
            if (msg) cn_v_invalid(v, "targetPort", tp, "%s", msg);
        } else if (tp && !json_is_null(tp)) {
            cn_v_invalid(v, "targetPort", tp, "must be an integer or a string");
        }
        int64_t np;
        if (cn_v_int(v, p, "nodePort", &np) && np != 0) {
            if (!node_ports)
                cn_v_forbidden(v, "nodePort", "may not be used when `type` is '%s'", type);
            else if (np < 30000 || np > 32767)
                cn_v_invalid_int(v, "nodePort", np, "provided port is not in the valid range. The range of valid ports is 30000-32767");
        }
        int64_t port = 0;
        cn_v_int(v, p, "port", &port);
        const char *proto = cn_v_sget(p, "protocol");
        char *key = cn_asprintf("%lld/%s", (long long)port, proto ? proto : "TCP");
        if (name_seen(pp, key)) {
            json_t *d = json_pack("{s:I,s:s}", "port", (json_int_t)port, "protocol", proto ? proto : "TCP");
            cn_v_duplicate(v, NULL, d);
            json_decref(d);
        }
        free(key);
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    json_decref(names);
    json_decref(pp);
    size_t m3 = cn_v_push(v, "selector");
    cn_v_labels(v, cn_v_obj(v, spec, "selector"));
    cn_v_pop(v, m3);
    if (old) {
        const json_t *ospec = json_object_get(old, "spec");
        const char *ocip = cn_v_sget(ospec, "clusterIP");
        /* An empty clusterIP on update means "keep"; the REST layer copies it. */
        if (ocip && *ocip && cip && *cip && strcmp(ocip, cip) &&
            strcmp(type, "ExternalName") && strcmp(cn_v_sget(ospec, "type") ? cn_v_sget(ospec, "type") : "", "ExternalName"))
            cn_v_immutable(v, "clusterIP", json_object_get(spec, "clusterIP"));
    }
out:
    cn_v_pop(v, m);
}

/* --- ConfigMap / Secret --- */

static const char *check_config_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 253) return n ? "must be no more than 253 characters" :
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
    for (const char *p = k; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                   "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
                   "is '[-._a-zA-Z0-9]+')";
    }
    if (!strcmp(k, ".")) return "must not be '.'";
    if (!strcmp(k, "..")) return "must not be '..'";
    if (!strncmp(k, "..", 2)) return "must not start with '..'";
    return NULL;
}

/* Standard base64 with padding; returns the decoded length or -1. */
static long b64_decoded_len(const char *s)
{
    size_t n = strlen(s);
    if (n % 4) return -1;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') {
            if (i < n - 2) return -1;
            pad++;
            continue;
        }
        if (pad || cn_base64_value((unsigned char)s[i]) < 0) return -1;
    }
    return (long)(n / 4 * 3 - pad);
}

/* Validates data-like maps; returns the payload byte count. */
static size_t config_map(cn_vctx *v, const char *member, const json_t *map, bool base64,
                         const json_t *other, const char *other_name)
{
    size_t total = 0;
    size_t m = cn_v_push(v, member);
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)map, k, val) {
        cn_buf key;
        cn_buf_init(&key);
        cn_buf_addf(&key, "[%s]", k);
        const char *msg = check_config_key(k);
        if (msg) cn_v_invalid_str(v, key.data, k, "%s", msg);
        if (other && json_object_get(other, k))
            cn_v_invalid_str(v, key.data, k, "duplicate of key present in %s", other_name);
        if (!json_is_string(val)) {
            cn_v_invalid(v, key.data, val, "must be a string");
        } else if (base64) {
            long d = b64_decoded_len(json_string_value(val));
            if (d < 0) cn_v_invalid(v, key.data, val, "illegal base64 data");
            else total += (size_t)d;
        } else {
            total += json_string_length(val);
        }
        cn_buf_release(&key);
    }
    cn_v_pop(v, m);
    return total;
}

static void immutable_data(cn_vctx *v, const json_t *obj, const json_t *old)
{
    if (!old || !json_is_true(json_object_get(old, "immutable"))) return;
    if (!json_is_true(json_object_get(obj, "immutable")))
        cn_v_forbidden(v, "immutable", "field is immutable when `immutable` is set");
    static const char *const keys[] = { "data", "binaryData", NULL };
    for (size_t i = 0; keys[i]; i++) {
        json_t *a = json_object_get(obj, keys[i]), *b = json_object_get(old, keys[i]);
        bool ea = !a || !json_object_size(a), eb = !b || !json_object_size(b);
        if ((ea && eb) || (a && b && json_equal(a, b))) continue;
        cn_v_forbidden(v, keys[i], "field is immutable when `immutable` is set");
    }
}

static void configmap(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *data = cn_v_obj(v, obj, "data"), *bin = cn_v_obj(v, obj, "binaryData");
    size_t total = config_map(v, "data", data, false, bin, "binaryData");
    total += config_map(v, "binaryData", bin, true, NULL, NULL);
    if (total > MAX_CONFIG_BYTES)
        cn_v_cause(v, "FieldValueTooLong", "data", "Too long: may not be more than %d bytes", MAX_CONFIG_BYTES);
    immutable_data(v, obj, old);
}

static void secret(cn_vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *data = cn_v_obj(v, obj, "data");
    size_t total = config_map(v, "data", data, true, NULL, NULL);
    if (total > MAX_CONFIG_BYTES)
        cn_v_cause(v, "FieldValueTooLong", "data", "Too long: may not be more than %d bytes", MAX_CONFIG_BYTES);
    const char *type = cn_v_str(v, obj, "type");
    if (!type) type = "Opaque";
    static const struct { const char *type; const char *keys[2]; } need[] = {
        { "kubernetes.io/tls", { "tls.crt", "tls.key" } },
        { "kubernetes.io/dockerconfigjson", { ".dockerconfigjson", NULL } },
        { "kubernetes.io/dockercfg", { ".dockercfg", NULL } },
        { "kubernetes.io/ssh-auth", { "ssh-privatekey", NULL } },
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        if (strcmp(type, need[i].type)) continue;
        for (size_t j = 0; j < 2 && need[i].keys[j]; j++) {
            if (json_object_get(data, need[i].keys[j])) continue;
            char *f = cn_asprintf("data[%s]", need[i].keys[j]);
            cn_v_required(v, f, NULL);
            free(f);
        }
    }
    if (!strcmp(type, "kubernetes.io/basic-auth") && !json_object_get(data, "username") &&
        !json_object_get(data, "password")) {
        cn_v_required(v, "data[username]", NULL);
        cn_v_required(v, "data[password]", NULL);
    }
    if (!strcmp(type, "kubernetes.io/service-account-token")) {
        const char *sa = cn_v_sget(json_object_get(json_object_get(obj, "metadata"), "annotations"),
                                   "kubernetes.io/service-account.name");
        if (!sa || !*sa) cn_v_required(v, "metadata.annotations[kubernetes.io/service-account.name]", NULL);
    }
    if (old) {
        const char *ot = cn_v_sget(old, "type");
        if (strcmp(ot ? ot : "Opaque", type)) cn_v_immutable(v, "type", json_object_get(obj, "type"));
    }
    immutable_data(v, obj, old);
}

/* --- cluster objects --- */

static void namespace_(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    const json_t *fins = cn_v_arr(v, json_object_get(obj, "spec"), "finalizers");
    size_t i;
    const json_t *f;
    json_array_foreach((json_t *)fins, i, f) {
        size_t m = cn_v_push(v, "spec.finalizers");
        const char *s = json_string_value(f);
        if (!s) cn_v_invalid(v, NULL, f, "must be a string");
        else {
            const char *msg = cn_check_qualified_name(s);
            if (msg) cn_v_invalid_str(v, NULL, s, "%s", msg);
            else if (!strchr(s, '/') && strcmp(s, "kubernetes"))
                cn_v_invalid_str(v, NULL, s, "name is neither a standard finalizer name nor is it fully qualified");
        }
        cn_v_pop(v, m);
    }
}

static int64_t pvc_spec_changes(const json_t *a, const json_t *b)
{
    json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
    json_t *rx = json_object_get(x, "resources"), *ry = json_object_get(y, "resources");
    json_object_del(rx, "requests");
    json_object_del(ry, "requests");
    if (rx && !json_object_size(rx)) json_object_del(x, "resources");
    if (ry && !json_object_size(ry)) json_object_del(y, "resources");
    json_object_del(x, "volumeAttributesClassName");
    json_object_del(y, "volumeAttributesClassName");
    /* The binder fills these in after creation. */
    static const char *const late[] = { "volumeName", "storageClassName", NULL };
    for (size_t i = 0; late[i]; i++) {
        const char *ov = cn_v_sget(y, late[i]);
        if (!ov || !*ov) {
            json_object_del(x, late[i]);
            json_object_del(y, late[i]);
        }
    }
    int64_t diff = !json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return diff;
}

static void access_mode_list(cn_vctx *v, const json_t *spec)
{
    const json_t *am = cn_v_arr(v, spec, "accessModes");
    if (!json_array_size(am)) {
        cn_v_required(v, "accessModes", NULL);
        return;
    }
    size_t i;
    const json_t *a;
    json_array_foreach((json_t *)am, i, a) {
        if (!cn_v_in(json_string_value(a), access_modes))
            cn_v_unsupported(v, "accessModes", a, access_modes);
    }
}

static void pvc(cn_vctx *v, const json_t *obj, const json_t *old)
{
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        goto out;
    }
    access_mode_list(v, spec);
    const json_t *res = cn_v_obj(v, spec, "resources");
    const json_t *req = cn_v_obj(v, res, "requests");
    const json_t *st = json_object_get(req, "storage");
    __int128 q;
    if (!st) cn_v_required(v, "resources[storage]", NULL);
    else if (quantity_of(st, &q) && q <= 0) cn_v_invalid(v, "resources[storage]", st, "must be greater than zero");
    size_t m2 = cn_v_push(v, "resources");
    size_t m3 = cn_v_push(v, "requests");
    cn_v_resource_list(v, req, true);
    cn_v_pop(v, m3);
    m3 = cn_v_push(v, "limits");
    cn_v_resource_list(v, cn_v_obj(v, res, "limits"), true);
    cn_v_pop(v, m3);
    cn_v_pop(v, m2);
    static const char *const modes[] = { "Block", "Filesystem", NULL };
    cn_v_enum(v, spec, "volumeMode", false, modes);
    if (old && pvc_spec_changes(spec, json_object_get(old, "spec")))
        cn_v_forbidden(v, NULL, "spec is immutable after creation except resources.requests and "
                       "volumeAttributesClassName for bound claims");
out:
    cn_v_pop(v, m);
}

static void pv(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    size_t m = cn_v_push(v, "spec");
    const json_t *spec = cn_v_obj(v, obj, "spec");
    if (!spec) {
        cn_v_required(v, NULL, NULL);
        goto out;
    }
    const json_t *cap = cn_v_obj(v, spec, "capacity");
    if (!json_object_size(cap)) cn_v_required(v, "capacity", NULL);
    else if (!json_object_get(cap, "storage")) cn_v_required(v, "capacity[storage]", NULL);
    size_t m2 = cn_v_push(v, "capacity");
    cn_v_resource_list(v, cap, true);
    cn_v_pop(v, m2);
    access_mode_list(v, spec);
    static const char *const reclaim[] = { "Delete", "Recycle", "Retain", NULL };
    cn_v_enum(v, spec, "persistentVolumeReclaimPolicy", false, reclaim);
    static const char *const modes[] = { "Block", "Filesystem", NULL };
    cn_v_enum(v, spec, "volumeMode", false, modes);
    static const char *const sources[] = { "hostPath", "local", "nfs", "csi", "iscsi", "fc",
        "rbd", "cephfs", "glusterfs", "flexVolume", "awsElasticBlockStore", "gcePersistentDisk",
        "azureDisk", "azureFile", "vsphereVolume", "cinder", "portworxVolume", "flocker",
        "quobyte", "scaleIO", "storageos", "photonPersistentDisk", NULL };
    int n = 0;
    for (size_t i = 0; sources[i]; i++) n += json_object_get(spec, sources[i]) != NULL;
    if (n == 0) cn_v_required(v, NULL, "must specify a volume type");
    else if (n > 1) cn_v_forbidden(v, NULL, "may not specify more than 1 volume type");
out:
    cn_v_pop(v, m);
}

static void limitrange(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    static const char *const types[] = { "Container", "PersistentVolumeClaim", "Pod", NULL };
    size_t m = cn_v_push(v, "spec");
    const json_t *lims = cn_v_arr(v, cn_v_obj(v, obj, "spec"), "limits");
    size_t i;
    const json_t *l;
    json_array_foreach((json_t *)lims, i, l) {
        size_t m1 = cn_v_push(v, "limits"), m2 = cn_v_pushi(v, i);
        cn_v_enum(v, l, "type", true, types);
        static const char *const lists[] = { "max", "min", "default", "defaultRequest",
            "maxLimitRequestRatio", NULL };
        for (size_t k = 0; lists[k]; k++) {
            size_t m3 = cn_v_push(v, lists[k]);
            cn_v_resource_list(v, cn_v_obj(v, l, lists[k]), true);
            cn_v_pop(v, m3);
        }
        cn_v_pop(v, m2);
        cn_v_pop(v, m1);
    }
    cn_v_pop(v, m);
}

static void quota(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    size_t m = cn_v_push(v, "spec"), m2 = cn_v_push(v, "hard");
    cn_v_resource_list(v, cn_v_obj(v, cn_v_obj(v, obj, "spec"), "hard"), true);
    cn_v_pop(v, m2);
    cn_v_pop(v, m);
}

static void binding(cn_vctx *v, const json_t *obj, const json_t *old)
{
    (void)old;
    const json_t *t = cn_v_obj(v, obj, "target");
    const char *name = cn_v_str(v, t, "name");
    if (!name || !*name) cn_v_required(v, "target.name", NULL);
    const char *kind = cn_v_str(v, t, "kind");
    if (kind && *kind && strcmp(kind, "Node"))
        cn_v_invalid_str(v, "target.kind", kind, "must be empty or 'Node'");
}

/* A CIDR as upstream's IsValidCIDR takes it (net.ParseCIDR): an IPv4 or
 * IPv6 address, "/", a prefix length that fits it. */
static int cidr_family(const char *s)
{
    const char *slash = strchr(s, '/');
    char ip[INET6_ADDRSTRLEN];
    int64_t len;
    if (!slash || (size_t)(slash - s) >= sizeof ip || cn_parse_int64(slash + 1, &len) < 0 || !slash[1] ||
        len < 0)
        return 0;
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip, buf) == 1) return len <= 32 ? 4 : 0;
    if (inet_pton(AF_INET6, ip, buf) == 1) return len <= 128 ? 6 : 0;
    return 0;
}

/* The node's pod CIDRs: spec.podCIDRs, or [spec.podCIDR] when only that is
 * set (v1 keeps both; the first of podCIDRs is podCIDR). Borrowed/new. */
static json_t *pod_cidrs(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    json_t *l = json_object_get(spec, "podCIDRs");
    if (json_array_size(l)) return json_incref(l);
    const char *one = json_string_value(json_object_get(spec, "podCIDR"));
    return one && *one ? json_pack("[s]", one) : json_array();
}

static void node_pod_cidrs(cn_vctx *v, const json_t *obj, const json_t *old)
{
    json_t *now = pod_cidrs(obj);
    const json_t *spec = json_object_get(obj, "spec");
    const char *one = json_string_value(json_object_get(spec, "podCIDR"));
    size_t i;
    json_t *c;
    int fam[2] = { 0, 0 };
    json_array_foreach(now, i, c) {
        const char *s = json_string_value(c);
        int f = s ? cidr_family(s) : 0;
        char field[48];
        snprintf(field, sizeof field, "spec.podCIDRs[%zu]", i);
        if (!f) cn_v_invalid(v, field, c, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
        if (i < 2) fam[i] = f;
    }
    if (json_array_size(now) > 2)
        cn_v_invalid(v, "spec.podCIDRs", now, "may specify no more than one CIDR for each IP family");
    else if (json_array_size(now) == 2 && fam[0] && fam[0] == fam[1])
        cn_v_invalid(v, "spec.podCIDRs", now, "may specify no more than one CIDR for each IP family");
    if (one && *one && json_array_size(now) && strcmp(one, json_string_value(json_array_get(now, 0)) ?: ""))
        cn_v_invalid_str(v, "spec.podCIDR", one, "must be the same as spec.podCIDRs[0]");
    if (old) {
        /* The node IPAM controller assigns a block once: a block in use
         * must never move under the node's pods. */
        json_t *was = pod_cidrs(old);
        if (json_array_size(was) && !json_equal(was, now))
            cn_v_forbidden(v, "spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
        json_decref(was);
    }
    json_decref(now);
}

static void node(cn_vctx *v, const json_t *obj, const json_t *old)
{
    node_pod_cidrs(v, obj, old);
    const json_t *spec = cn_v_obj(v, obj, "spec");
    const json_t *taints = cn_v_arr(v, spec, "taints");
    static const char *const effects[] = { "NoExecute", "NoSchedule", "PreferNoSchedule", NULL };
    size_t i;
    const json_t *t;
    json_array_foreach((json_t *)taints, i, t) {
        size_t m = cn_v_push(v, "spec.taints"), m2 = cn_v_pushi(v, i);
        const char *key = cn_v_str(v, t, "key");
        if (!key || !*key) cn_v_required(v, "key", NULL);
        else cn_v_qualified_name_field(v, "key", key);
        cn_v_enum(v, t, "effect", true, effects);
        cn_v_pop(v, m2);
        cn_v_pop(v, m);
    }
}

cn_kind_validator cn_v_core_validator(const char *kind)
{
    static const struct { const char *kind; cn_kind_validator fn; } t[] = {
        { "Pod", pod }, { "Service", service }, { "ConfigMap", configmap }, { "Secret", secret },
        { "Namespace", namespace_ }, { "PersistentVolumeClaim", pvc }, { "PersistentVolume", pv },
        { "LimitRange", limitrange }, { "ResourceQuota", quota }, { "Binding", binding },
        { "Node", node },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].kind, kind)) return t[i].fn;
    return NULL;
}
