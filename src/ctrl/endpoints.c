/* endpoints: Endpoints (core/v1) and EndpointSlices (discovery.k8s.io/v1)
 * for every Service with a selector — kube-controller-manager's endpoints
 * and endpointslice controllers in one, since both are a function of the
 * same Service and pods.
 *
 * For a Service, the pods of its namespace its selector matches become
 * addresses: Ready pods in addresses, the others (running, with an IP) in
 * notReadyAddresses (all in addresses with publishNotReadyAddresses);
 * each Service port resolves its targetPort by number or by the name of a
 * container port (a pod without that named port is left out of that
 * port's subset). Slices carry the same with conditions
 * (ready/serving/terminating), nodeName and targetRef, one slice per
 * distinct port set, named "<service>-<5 chars of its uid>[-N]" so a
 * restart finds them again; they are owned by the Service, so the garbage
 * collector removes them with it, and the controller does too.
 * Services without a selector are left to whoever writes their Endpoints.
 *
 * A slice holds at most 100 endpoints (upstream's default
 * --max-endpoints-per-slice); more make more slices of the same ports. */
#include "ctrl/housekeeping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

#define MANAGED_BY "endpointslice-controller.k8s.io"
#define MAX_PER_SLICE 100

/* ---- pure ---- */

bool cn_service_selects(const json_t *svc, const json_t *labels)
{
    json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
    if (!json_object_size(sel)) return false;
    const char *k;
    json_t *v;
    json_object_foreach(sel, k, v) {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || strcmp(have, json_string_value(v) ?: "")) return false;
    }
    return true;
}

static bool pod_ready(const json_t *pod)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
        if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", "Ready"))
            return !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
    return false;
}

static bool pod_terminal(const json_t *pod)
{
    const char *ph = cn_json_str_at(pod, "status.phase");
    return !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed");
}

/* The port a Service port reaches on pod, or 0 when the pod has no
 * container port of that name. */
static json_int_t target_port(const json_t *sp, const json_t *pod)
{
    json_t *tp = json_object_get(sp, "targetPort");
    if (json_is_integer(tp)) return json_integer_value(tp);
    const char *name = json_string_value(tp);
    if (!name || !*name) return json_integer_value(json_object_get(sp, "port"));
    const char *proto = json_string_value(json_object_get(sp, "protocol")) ?: "TCP";
    size_t i, j;
    json_t *c, *cp;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c)
        json_array_foreach(json_object_get(c, "ports"), j, cp) {
            const char *cpp = json_string_value(json_object_get(cp, "protocol")) ?: "TCP";
            if (!strcmp(json_string_value(json_object_get(cp, "name")) ?: "", name) && !strcmp(cpp, proto))
                return json_integer_value(json_object_get(cp, "containerPort"));
        }
    return 0;
}

/* The resolved ports of svc on pod, as EndpointPorts ([] when the Service
 * has no ports, as a headless one may). NULL when a named port is missing. */
static json_t *pod_ports(const json_t *svc, const json_t *pod)
{
    json_t *out = json_array();
    size_t i;
    json_t *sp;
    json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, sp) {
        json_int_t port = target_port(sp, pod);
        if (port <= 0) continue;
        json_t *ep = json_object();
        const char *name = json_string_value(json_object_get(sp, "name"));
        if (name && *name) json_object_set_new(ep, "name", json_string(name));
        json_object_set_new(ep, "port", json_integer(port));
        json_object_set_new(ep, "protocol", json_string(json_string_value(json_object_get(sp, "protocol")) ?: "TCP"));
        json_t *ap = json_object_get(sp, "appProtocol");
        if (json_is_string(ap)) json_object_set(ep, "appProtocol", ap);
        json_array_append_new(out, ep);
    }
    return out;
}

static const char *pod_ip(const json_t *pod) { return cn_json_str_at(pod, "status.podIP"); }

static json_t *target_ref(const json_t *pod)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "kind", "Pod", "namespace", cn_meta_str(pod, "namespace"),
                     "name", cn_meta_str(pod, "name"), "uid", cn_meta_str(pod, "uid"));
}

static json_t *endpoint_address(const json_t *svc, const json_t *pod)
{
    json_t *a = json_pack("{s:s}", "ip", pod_ip(pod));
    const char *node = cn_json_str_at(pod, "spec.nodeName");
    if (*node) json_object_set_new(a, "nodeName", json_string(node));
    const char *host = cn_json_str_at(pod, "spec.hostname"), *sub = cn_json_str_at(pod, "spec.subdomain");
    if (*host && *sub && !strcmp(sub, cn_meta_str(svc, "name"))) json_object_set_new(a, "hostname", json_string(host));
    json_object_set_new(a, "targetRef", target_ref(pod));
    return a;
}

/* An address's IP: "ip" of an EndpointAddress, addresses[0] of a slice
 * endpoint. */
static const char *addr_ip(const json_t *a)
{
    const char *ip = json_string_value(json_object_get(a, "ip"));
    return ip ? ip : json_string_value(json_array_get(json_object_get(a, "addresses"), 0)) ?: "";
}

static int cmp_ip(const void *a, const void *b)
{
    return strcmp(addr_ip(*(json_t *const *)a), addr_ip(*(json_t *const *)b));
}

/* Sort addresses (or slice endpoints) by IP (upstream's repacking sorts too). */
static void sort_addrs(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2) return;
    json_t **v = cn_calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp_ip);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, v[i]);
    free(v);
}

static json_t *service_labels(const json_t *svc)
{
    json_t *l = json_deep_copy(json_object_get(json_object_get(svc, "metadata"), "labels"));
    if (!json_is_object(l)) {
        json_decref(l);
        l = json_object();
    }
    if (!strcmp(cn_json_str_at(svc, "spec.clusterIP"), "None"))
        json_object_set_new(l, "service.kubernetes.io/headless", json_string(""));
    return l;
}

json_t *cn_endpoints_build(const json_t *svc, const json_t *pods)
{
    bool publish = json_is_true(json_object_get(json_object_get(svc, "spec"), "publishNotReadyAddresses"));
    json_t *groups = json_object();   /* ports JSON -> subset */
    json_t *order = json_array();
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) {
        if (!*pod_ip(pod) || pod_terminal(pod) || *cn_meta_str(pod, "deletionTimestamp")) continue;
        json_t *ports = pod_ports(svc, pod);
        if (!json_array_size(ports) && json_array_size(json_object_get(json_object_get(svc, "spec"), "ports"))) {
            json_decref(ports);
            continue;   /* no port of this Service is served by the pod */
        }
        char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *sub = json_object_get(groups, key);
        if (!sub) {
            sub = json_object();
            if (json_array_size(ports)) json_object_set(sub, "ports", ports);
            json_object_set_new(groups, key, sub);
            json_array_append_new(order, json_string(key));
        }
        free(key);
        json_decref(ports);
        const char *field = pod_ready(pod) || publish ? "addresses" : "notReadyAddresses";
        json_t *arr = json_object_get(sub, field);
        if (!arr) {
            arr = json_array();
            json_object_set_new(sub, field, arr);
        }
        json_array_append_new(arr, endpoint_address(svc, pod));
    }
    json_t *subsets = json_array();
    json_t *k;
    json_array_foreach(order, i, k) {
        json_t *sub = json_object_get(groups, json_string_value(k));
        sort_addrs(json_object_get(sub, "addresses"));
        sort_addrs(json_object_get(sub, "notReadyAddresses"));
        json_array_append(subsets, sub);
    }
    json_decref(groups);
    json_decref(order);
    json_t *ep = json_pack("{s:s,s:s,s:{s:s,s:s,s:o}}", "apiVersion", "v1", "kind", "Endpoints", "metadata",
                           "name", cn_meta_str(svc, "name"), "namespace", cn_meta_str(svc, "namespace"),
                           "labels", service_labels(svc));
    if (json_array_size(subsets)) json_object_set(ep, "subsets", subsets);
    json_decref(subsets);
    return ep;
}

static json_t *slice_endpoint(const json_t *pod)
{
    bool ready = pod_ready(pod), terminating = *cn_meta_str(pod, "deletionTimestamp") != '\0';
    json_t *e = json_pack("{s:[s],s:{s:b,s:b,s:b},s:o}", "addresses", pod_ip(pod), "conditions", "ready",
                          ready && !terminating, "serving", ready, "terminating", terminating,
                          "targetRef", target_ref(pod));
    const char *node = cn_json_str_at(pod, "spec.nodeName");
    if (*node) json_object_set_new(e, "nodeName", json_string(node));
    return e;
}

json_t *cn_endpointslices_build(const json_t *svc, const json_t *pods)
{
    json_t *groups = json_object();
    json_t *order = json_array();
    size_t i;
    json_t *pod;
    json_t *svc_ports = json_object_get(json_object_get(svc, "spec"), "ports");
    json_array_foreach(pods, i, pod) {
        if (!*pod_ip(pod) || pod_terminal(pod)) continue;
        json_t *ports = pod_ports(svc, pod);
        if (!json_array_size(ports) && json_array_size(svc_ports)) {
            json_decref(ports);
            continue;
        }
        const char *family = strchr(pod_ip(pod), ':') ? "IPv6" : "IPv4";
        json_t *kj = json_pack("{s:s,s:O}", "f", family, "p", ports);
        char *key = json_dumps(kj, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(kj);
        json_t *sl = json_object_get(groups, key);
        if (!sl) {
            sl = json_pack("{s:s,s:s,s:s,s:O,s:[]}", "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice",
                           "addressType", family, "ports", ports, "endpoints");
            json_object_set_new(groups, key, sl);
            json_array_append_new(order, json_string(key));
        }
        free(key);
        json_decref(ports);
        json_array_append_new(json_object_get(sl, "endpoints"), slice_endpoint(pod));
    }
    json_t *out = json_array();
    json_t *k;
    json_array_foreach(order, i, k) {
        json_t *sl = json_object_get(groups, json_string_value(k));
        json_t *eps = json_object_get(sl, "endpoints");
        sort_addrs(eps);   /* stable: no rewrite when nothing changed */
        /* At most MAX_PER_SLICE endpoints a slice, as upstream's default. */
        size_t n = json_array_size(eps);
        for (size_t from = 0; from < n; from += MAX_PER_SLICE) {
            json_t *part = json_deep_copy(sl);
            json_t *chunk = json_array();
            for (size_t j = from; j < n && j < from + MAX_PER_SLICE; j++) json_array_append(chunk, json_array_get(eps, j));
            json_object_set_new(part, "endpoints", chunk);
            json_array_append_new(out, part);
        }
    }
    json_decref(groups);
    json_decref(order);
    if (!json_array_size(out)) {
        /* No endpoints: one empty slice, as upstream keeps a placeholder. */
        json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:[],s:[]}", "apiVersion", "discovery.k8s.io/v1", "kind",
                                             "EndpointSlice", "addressType", "IPv4", "ports", "endpoints"));
    }
    json_t *sl;
    json_array_foreach(out, i, sl) {
        json_t *labels = service_labels(svc);
        json_object_set_new(labels, "kubernetes.io/service-name", json_string(cn_meta_str(svc, "name")));
        json_object_set_new(labels, "endpointslice.kubernetes.io/managed-by", json_string(MANAGED_BY));
        json_t *meta = json_pack("{s:s,s:o,s:[{s:s,s:s,s:s,s:s,s:b,s:b}]}", "namespace", cn_meta_str(svc, "namespace"),
                                 "labels", labels, "ownerReferences", "apiVersion", "v1", "kind", "Service",
                                 "name", cn_meta_str(svc, "name"), "uid", cn_meta_str(svc, "uid"),
                                 "controller", true, "blockOwnerDeletion", true);
        json_object_set_new(sl, "metadata", meta);
    }
    return out;
}

/* ---- controller ---- */

typedef struct ep_ctrl {
    cn_ctrl_ctx *ctx;
    cn_informer *svcs, *pods, *eps, *slices;
    cn_workqueue *q;
    cn_ctrl_workers *w;
} ep_ctrl;

static void queue_obj(ep_ctrl *c, const json_t *obj)
{
    char *key = cn_ctrl_key(obj);
    cn_workqueue_add(c->q, key);
    free(key);
}

static void svc_add(void *ud, const json_t *obj) { queue_obj(ud, obj); }
static void svc_upd(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    queue_obj(ud, obj);
}

struct pod_ev {
    ep_ctrl *c;
    const json_t *l[2];
};

static bool queue_selecting(void *ud, const json_t *svc)
{
    struct pod_ev *p = ud;
    if ((p->l[0] && cn_service_selects(svc, p->l[0])) || (p->l[1] && cn_service_selects(svc, p->l[1])))
        queue_obj(p->c, svc);
    return true;
}

static void pod_event(ep_ctrl *c, const json_t *old, const json_t *obj)
{
    struct pod_ev p = { c, { old ? json_object_get(json_object_get(old, "metadata"), "labels") : NULL,
                             json_object_get(json_object_get(obj, "metadata"), "labels") } };
    cn_informer_foreach_ns(c->svcs, cn_meta_str(obj, "namespace"), queue_selecting, &p);
}

static void pod_add(void *ud, const json_t *obj) { pod_event(ud, NULL, obj); }
static void pod_del(void *ud, const json_t *obj) { pod_event(ud, NULL, obj); }
static void pod_upd(void *ud, const json_t *old, const json_t *obj)
{
    /* Only what endpoints show: IP, readiness, labels, node, deletion. */
    if (!strcmp(pod_ip(old), pod_ip(obj)) && pod_ready(old) == pod_ready(obj) &&
        json_equal(json_object_get(json_object_get(old, "metadata"), "labels"),
                   json_object_get(json_object_get(obj, "metadata"), "labels")) &&
        !strcmp(cn_json_str_at(old, "spec.nodeName"), cn_json_str_at(obj, "spec.nodeName")) &&
        !strcmp(cn_meta_str(old, "deletionTimestamp"), cn_meta_str(obj, "deletionTimestamp")) &&
        !strcmp(cn_json_str_at(old, "status.phase"), cn_json_str_at(obj, "status.phase")))
        return;
    pod_event(ud, old, obj);
}

static void ep_del(void *ud, const json_t *obj) { queue_obj(ud, obj); }

static void slice_del(void *ud, const json_t *obj)
{
    ep_ctrl *c = ud;
    const char *svc = json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"),
                                                        "kubernetes.io/service-name"));
    if (!svc) return;
    char *key = cn_asprintf("%s/%s", cn_meta_str(obj, "namespace"), svc);
    cn_workqueue_add(c->q, key);
    free(key);
}

struct collect {
    const json_t *svc;
    const char *svc_name;
    json_t *out;
};

static bool collect_pod(void *ud, const json_t *pod)
{
    struct collect *s = ud;
    if (cn_service_selects(s->svc, json_object_get(json_object_get(pod, "metadata"), "labels")))
        json_array_append(s->out, (json_t *)pod);
    return true;
}

static bool collect_slice(void *ud, const json_t *sl)
{
    struct collect *s = ud;
    json_t *labels = json_object_get(json_object_get(sl, "metadata"), "labels");
    if (!strcmp(json_string_value(json_object_get(labels, "kubernetes.io/service-name")) ?: "", s->svc_name) &&
        !strcmp(json_string_value(json_object_get(labels, "endpointslice.kubernetes.io/managed-by")) ?: "", MANAGED_BY))
        json_array_append(s->out, (json_t *)sl);
    return true;
}

static int api_delete(ep_ctrl *c, const char *group, const char *plural, const char *ns, const char *name)
{
    char *path = cn_client_path(group, "v1", ns, plural, name, NULL);
    cn_err e = CN_ERR_INIT;
    int rc = cn_client_delete(c->ctx->client, path, NULL, NULL, &e);
    if (rc < 0 && e.code == 404) rc = 0;
    else if (rc < 0) cn_warn("endpoints controller: deleting %s: %s", path, e.message ? e.message : "?");
    cn_err_clear(&e);
    free(path);
    return rc;
}

/* Create want, or update have to want (keeping have's other metadata). */
static int apply(ep_ctrl *c, const char *group, const char *plural, const char *ns, json_t *want, const json_t *have,
                 const char *const *fields)
{
    cn_err e = CN_ERR_INIT;
    int rc = 0;
    if (!have) {
        char *path = cn_client_path(group, "v1", ns, plural, NULL, NULL);
        rc = cn_client_create(c->ctx->client, path, want, NULL, &e);
        free(path);
    } else {
        bool same = json_equal(json_object_get(json_object_get(have, "metadata"), "labels"),
                               json_object_get(json_object_get(want, "metadata"), "labels"));
        for (size_t i = 0; fields[i] && same; i++)
            same = json_equal(json_object_get(have, fields[i]), json_object_get(want, fields[i])) ||
                   (!json_object_get(want, fields[i]) && !json_array_size(json_object_get(have, fields[i])));
        if (same) return 0;
        json_t *upd = json_deep_copy(have);
        json_t *meta = json_object_get(upd, "metadata");
        json_object_set(meta, "labels", json_object_get(json_object_get(want, "metadata"), "labels"));
        json_t *owners = json_object_get(json_object_get(want, "metadata"), "ownerReferences");
        if (owners) json_object_set(meta, "ownerReferences", owners);
        for (size_t i = 0; fields[i]; i++) {
            json_t *v = json_object_get(want, fields[i]);
            if (v) json_object_set(upd, fields[i], v);
            else json_object_del(upd, fields[i]);
        }
        char *path = cn_client_path(group, "v1", ns, plural, cn_meta_str(have, "name"), NULL);
        rc = cn_client_update(c->ctx->client, path, upd, NULL, &e);
        free(path);
        json_decref(upd);
    }
    if (rc < 0 && e.code != 409 && e.code != 404 && e.code != 403)
        cn_warn("endpoints controller: %s %s/%s: %s", plural, ns, cn_meta_str(want, "name"), e.message ? e.message : "?");
    cn_err_clear(&e);
    return rc;
}

static char *slice_name(const json_t *svc, size_t i)
{
    char suffix[6] = "";
    const char *uid = cn_meta_str(svc, "uid");
    size_t n = 0;
    for (const char *p = uid; *p && n < 5; p++)
        if (*p != '-') suffix[n++] = *p;
    suffix[n] = '\0';
    /* Names are at most 63 characters: "<svc up to 50>-<5>[-NNN]". */
    return i ? cn_asprintf("%.50s-%s-%zu", cn_meta_str(svc, "name"), suffix, i)
             : cn_asprintf("%.50s-%s", cn_meta_str(svc, "name"), suffix);
}

static int sync(void *ud, const char *key)
{
    ep_ctrl *c = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *svc = cn_informer_get(c->svcs, ns, name);
    struct collect sl = { svc, name, json_array() };
    cn_informer_foreach_ns(c->slices, ns, collect_slice, &sl);
    int rc = 0;
    size_t i;
    json_t *s;
    if (!svc || !json_object_size(json_object_get(json_object_get(svc, "spec"), "selector")) ||
        !strcmp(cn_json_str_at(svc, "spec.type"), "ExternalName")) {
        /* Gone (its Endpoints go with it) or not ours to manage. */
        if (!svc) {
            json_t *ep = cn_informer_get(c->eps, ns, name);
            if (ep) rc = api_delete(c, "", "endpoints", ns, name);
            json_decref(ep);
        }
        json_array_foreach(sl.out, i, s)
            if (api_delete(c, "discovery.k8s.io", "endpointslices", ns, cn_meta_str(s, "name")) < 0) rc = -1;
        json_decref(sl.out);
        json_decref(svc);
        return rc;
    }
    struct collect pods = { svc, name, json_array() };
    cn_informer_foreach_ns(c->pods, ns, collect_pod, &pods);

    static const char *const ep_fields[] = { "subsets", NULL };
    json_t *ep = cn_endpoints_build(svc, pods.out);
    json_t *have = cn_informer_get(c->eps, ns, name);
    if (apply(c, "", "endpoints", ns, ep, have, ep_fields) < 0) rc = -1;
    json_decref(have);
    json_decref(ep);

    static const char *const sl_fields[] = { "addressType", "endpoints", "ports", NULL };
    json_t *want = cn_endpointslices_build(svc, pods.out);
    json_array_foreach(want, i, s) {
        char *sname = slice_name(svc, i);
        json_object_set_new(json_object_get(s, "metadata"), "name", json_string(sname));
        const json_t *cur = NULL;
        size_t j;
        json_t *h;
        json_array_foreach(sl.out, j, h) if (!strcmp(cn_meta_str(h, "name"), sname)) cur = h;
        if (apply(c, "discovery.k8s.io", "endpointslices", ns, s, cur, sl_fields) < 0) rc = -1;
        free(sname);
    }
    /* Slices no longer wanted. */
    json_array_foreach(sl.out, i, s) {
        bool keep = false;
        size_t j;
        json_t *w;
        json_array_foreach(want, j, w)
            if (!strcmp(cn_meta_str(w, "name"), cn_meta_str(s, "name"))) keep = true;
        if (!keep && api_delete(c, "discovery.k8s.io", "endpointslices", ns, cn_meta_str(s, "name")) < 0) rc = -1;
    }
    json_decref(want);
    json_decref(pods.out);
    json_decref(sl.out);
    json_decref(svc);
    return rc;
}

static int start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    ep_ctrl *c = cn_calloc(1, sizeof *c);
    c->ctx = ctx;
    c->q = cn_workqueue_new(60000);
    c->svcs = cn_informers_get(ctx->inf, "", "v1", "services");
    c->pods = cn_informers_get(ctx->inf, "", "v1", "pods");
    c->eps = cn_informers_get(ctx->inf, "", "v1", "endpoints");
    c->slices = cn_informers_get(ctx->inf, "discovery.k8s.io", "v1", "endpointslices");
    cn_informer_handler hs = { svc_add, svc_upd, svc_add, c };
    cn_informer_add_handler(c->svcs, &hs);
    cn_informer_handler hp = { pod_add, pod_upd, pod_del, c };
    cn_informer_add_handler(c->pods, &hp);
    cn_informer_handler he = { NULL, NULL, ep_del, c };
    cn_informer_add_handler(c->eps, &he);
    cn_informer_handler hl = { NULL, NULL, slice_del, c };
    cn_informer_add_handler(c->slices, &hl);
    c->w = cn_ctrl_workers_start(ctx, "endpoints", c->q, ctx->cfg->workers, sync, c);
    *state = c;
    return 0;
}

static void stop(void *state)
{
    ep_ctrl *c = state;
    cn_ctrl_workers_stop(c->w);
    cn_workqueue_free(c->q);
    free(c);
}

const cn_controller cn_ctrl_endpoints = { "endpoints", start, stop };
