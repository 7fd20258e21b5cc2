/* daemonset: the DaemonSet controller (see daemonset.h). Node eligibility
 * is pure (unit-tested); a sync groups the DaemonSet's pods by node, makes
 * each eligible node have exactly one, rolls old pods forward within
 * maxUnavailable, and writes status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/daemonset.h"
#include "ctrl/wl.h"
#include "lib/strmap.h"
#include "lib/log.h"
#include "lib/util.h"

#define HASH_LABEL "controller-revision-hash"

/* ---------------------------------------------------------------- pure -- */

bool cn_ds_tolerates(const json_t *tol, const json_t *taint)
{
    const char *teff = json_string_value(json_object_get(tol, "effect"));
    const char *tkey = json_string_value(json_object_get(tol, "key"));
    const char *op = json_string_value(json_object_get(tol, "operator"));
    const char *eff = json_string_value(json_object_get(taint, "effect"));
    const char *key = json_string_value(json_object_get(taint, "key"));
    if (teff && *teff && (!eff || strcmp(teff, eff) != 0)) return false;
    if (tkey && *tkey && (!key || strcmp(tkey, key) != 0)) return false;
    if (op && !strcmp(op, "Exists")) return true;
    if (op && *op && strcmp(op, "Equal") != 0) return false;
    /* Equal (or empty) with an empty key is not a wildcard */
    if (!tkey || !*tkey) return false;
    const char *tv = json_string_value(json_object_get(tol, "value"));
    const char *v = json_string_value(json_object_get(taint, "value"));
    return !strcmp(tv ? tv : "", v ? v : "");
}

json_t *cn_ds_tolerations(const json_t *pod_spec)
{
    static const struct { const char *key, *effect; } autos[] = {
        { "node.kubernetes.io/not-ready", "NoExecute" },
        { "node.kubernetes.io/unreachable", "NoExecute" },
        { "node.kubernetes.io/disk-pressure", "NoSchedule" },
        { "node.kubernetes.io/memory-pressure", "NoSchedule" },
        { "node.kubernetes.io/pid-pressure", "NoSchedule" },
        { "node.kubernetes.io/unschedulable", "NoSchedule" },
        { "node.kubernetes.io/network-unavailable", "NoSchedule" },
    };
    json_t *have = json_object_get(pod_spec, "tolerations");
    json_t *out = json_is_array(have) ? json_deep_copy(have) : json_array();
    bool host_net = json_is_true(json_object_get(pod_spec, "hostNetwork"));
    size_t n = sizeof autos / sizeof autos[0] - (host_net ? 0 : 1);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        size_t j;
        json_t *t;
        json_array_foreach(out, j, t) {
            const char *k = json_string_value(json_object_get(t, "key"));
            const char *e = json_string_value(json_object_get(t, "effect"));
            if (k && e && !strcmp(k, autos[i].key) && !strcmp(e, autos[i].effect)) found = true;
        }
        if (!found)
            json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "key", autos[i].key, "operator", "Exists",
                                                 "effect", autos[i].effect));
    }
    return out;
}

static bool str_in(const json_t *values, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(values, i, x) {
        const char *s = json_string_value(x);
        if (s && v && !strcmp(s, v)) return true;
    }
    return false;
}

static bool int_cmp(const char *have, const json_t *values, bool gt)
{
    int64_t a, b;
    const char *s = json_string_value(json_array_get(values, 0));
    if (json_array_size(values) != 1 || !have || !s) return false;
    if (cn_parse_int64(have, &a) < 0 || cn_parse_int64(s, &b) < 0) return false;
    return gt ? a > b : a < b;
}

/* One requirement against a value (NULL: the key is absent). */
static bool req_matches(const json_t *req, const char *have)
{
    const char *op = json_string_value(json_object_get(req, "operator"));
    const json_t *values = json_object_get(req, "values");
    if (!op) return false;
    if (!strcmp(op, "In")) return have && str_in(values, have);
    if (!strcmp(op, "NotIn")) return !have || !str_in(values, have);
    if (!strcmp(op, "Exists")) return have != NULL;
    if (!strcmp(op, "DoesNotExist")) return have == NULL;
    if (!strcmp(op, "Gt")) return int_cmp(have, values, true);
    if (!strcmp(op, "Lt")) return int_cmp(have, values, false);
    return false;
}

static bool term_matches(const json_t *term, const json_t *node)
{
    const json_t *exprs = json_object_get(term, "matchExpressions");
    const json_t *fields = json_object_get(term, "matchFields");
    if (json_array_size(exprs) == 0 && json_array_size(fields) == 0) return false;
    const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
    size_t i;
    json_t *r;
    json_array_foreach(exprs, i, r) {
        const char *key = json_string_value(json_object_get(r, "key"));
        const char *have = key ? json_string_value(json_object_get(labels, key)) : NULL;
        if (!req_matches(r, have)) return false;
    }
    json_array_foreach(fields, i, r) {
        const char *key = json_string_value(json_object_get(r, "key"));
        if (!key || strcmp(key, "metadata.name") != 0) return false;
        if (!req_matches(r, cn_meta_str(node, "name"))) return false;
    }
    return true;
}

bool cn_ds_node_selector_matches(const json_t *selector, const json_t *node)
{
    size_t i;
    json_t *term;
    json_array_foreach(json_object_get(selector, "nodeSelectorTerms"), i, term)
        if (term_matches(term, node)) return true;
    return false;
}

void cn_ds_node_check(const json_t *pod_spec, const json_t *node, bool *should_run, bool *should_continue)
{
    *should_run = *should_continue = false;
    const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(pod_spec, "nodeSelector"), k, v) {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0) return;
    }
    const json_t *req = json_object_get(json_object_get(json_object_get(pod_spec, "affinity"), "nodeAffinity"),
                                        "requiredDuringSchedulingIgnoredDuringExecution");
    if (req && !cn_ds_node_selector_matches(req, node)) return;
    const json_t *tols = json_object_get(pod_spec, "tolerations");
    bool run = true, cont = true;
    size_t i, j;
    json_t *taint, *tol;
    json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, taint) {
        const char *eff = json_string_value(json_object_get(taint, "effect"));
        if (!eff || (strcmp(eff, "NoSchedule") != 0 && strcmp(eff, "NoExecute") != 0)) continue;
        bool ok = false;
        json_array_foreach(tols, j, tol) if (cn_ds_tolerates(tol, taint)) { ok = true; break; }
        if (ok) continue;
        run = false;
        if (!strcmp(eff, "NoExecute")) cont = false;
    }
    *should_run = run;
    *should_continue = cont;
}

const char *cn_ds_pod_node(const json_t *pod)
{
    const char *n = cn_json_str_at(pod, "spec.nodeName");
    if (*n) return n;
    const json_t *terms = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(pod, "spec"), "affinity"), "nodeAffinity"),
                        "requiredDuringSchedulingIgnoredDuringExecution"),
        "nodeSelectorTerms");
    size_t i, j;
    json_t *term, *r;
    json_array_foreach(terms, i, term) {
        json_array_foreach(json_object_get(term, "matchFields"), j, r) {
            const char *key = json_string_value(json_object_get(r, "key"));
            const char *op = json_string_value(json_object_get(r, "operator"));
            const json_t *vals = json_object_get(r, "values");
            if (key && op && !strcmp(key, "metadata.name") && !strcmp(op, "In") && json_array_size(vals) == 1)
                return json_string_value(json_array_get(vals, 0));
        }
    }
    return "";
}

/* ----------------------------------------------------------- controller -- */

typedef struct ds_ctrl {
    cn_client *c;
    cn_informer *dss, *pods, *nodes, *revs;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_wl_expect *exp;
    cn_recorder *rec;
} ds_ctrl;

static void enqueue(ds_ctrl *dc, const json_t *ds)
{
    char *key = cn_ctrl_key(ds);
    cn_workqueue_add(dc->q, key);
    free(key);
}

static void ds_add(void *ud, const json_t *obj) { enqueue(ud, obj); }
static void ds_update(void *ud, const json_t *old, const json_t *obj) { (void)old; enqueue(ud, obj); }
static void ds_delete(void *ud, const json_t *obj)
{
    ds_ctrl *dc = ud;
    char *key = cn_ctrl_key(obj);
    cn_wl_expect_forget(dc->exp, key);
    free(key);
}

static void owned_event(ds_ctrl *dc, const json_t *obj, int adds, int dels)
{
    const char *owner = cn_wl_controller_name(obj, "DaemonSet");
    if (!owner) return;
    char *key = cn_asprintf("%s/%s", cn_meta_str(obj, "namespace"), owner);
    if (adds || dels) cn_wl_expect_observed(dc->exp, key, adds, dels);
    cn_workqueue_add(dc->q, key);
    free(key);
}

static void pod_add(void *ud, const json_t *obj) { owned_event(ud, obj, 1, 0); }
static void pod_update(void *ud, const json_t *old, const json_t *obj)
{
    owned_event(ud, obj, 0, !cn_wl_pod_terminating(old) && cn_wl_pod_terminating(obj));
}
static void pod_delete(void *ud, const json_t *obj) { owned_event(ud, obj, 0, cn_wl_pod_terminating(obj) ? 0 : 1); }

static bool enqueue_all(void *ud, const json_t *ds)
{
    enqueue(ud, ds);
    return true;
}

static void node_add(void *ud, const json_t *obj)
{
    (void)obj;
    ds_ctrl *dc = ud;
    cn_informer_foreach(dc->dss, enqueue_all, dc);
}

static void node_update(void *ud, const json_t *old, const json_t *obj)
{
    /* only what eligibility reads: heartbeats must not wake every DaemonSet */
    if (json_equal(json_object_get(json_object_get(old, "metadata"), "labels"),
                   json_object_get(json_object_get(obj, "metadata"), "labels")) &&
        json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec")))
        return;
    node_add(ud, obj);
}

static void node_delete(void *ud, const json_t *obj) { node_add(ud, obj); }

static bool collect(void *ud, const json_t *obj)
{
    json_array_append(ud, (json_t *)obj);
    return true;
}

/* The pod spec a daemon pod for any node gets, before pinning. */
static json_t *ds_pod_spec(const json_t *ds)
{
    json_t *spec = json_deep_copy(json_object_get(json_object_get(json_object_get(ds, "spec"), "template"), "spec"));
    if (!spec) spec = json_object();
    json_object_set_new(spec, "tolerations", cn_ds_tolerations(spec));
    return spec;
}

static int create_pod(ds_ctrl *dc, const json_t *ds, const char *node, const char *hash, cn_err *err)
{
    json_t *pod = cn_wl_from_template(json_object_get(json_object_get(ds, "spec"), "template"), ds, "apps/v1",
                                      "DaemonSet");
    json_t *meta = json_object_get(pod, "metadata");
    json_object_set_new(meta, "generateName", json_sprintf("%s-", cn_meta_str(ds, "name")));
    json_t *labels = json_object_get(meta, "labels");
    json_object_set_new(labels, HASH_LABEL, json_string(hash));
    json_object_set_new(labels, "pod-template-generation",
                        json_sprintf("%lld", (long long)cn_wl_int(ds, "metadata.generation", 1)));
    json_t *spec = json_object_get(pod, "spec");
    json_object_set_new(spec, "tolerations", cn_ds_tolerations(spec));
    /* pinned by affinity, bound by the scheduler (upstream's
     * ReplaceDaemonSetPodNodeNameNodeAffinity) */
    json_t *aff = json_object_get(spec, "affinity");
    if (!json_is_object(aff)) json_object_set_new(spec, "affinity", aff = json_object());
    json_t *na = json_object_get(aff, "nodeAffinity");
    if (!json_is_object(na)) json_object_set_new(aff, "nodeAffinity", na = json_object());
    json_t *req = json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
    if (!json_is_object(req)) json_object_set_new(na, "requiredDuringSchedulingIgnoredDuringExecution", req = json_object());
    json_object_set_new(req, "nodeSelectorTerms",
                        json_pack("[{s:[{s:s,s:s,s:[s]}]}]", "matchFields", "key", "metadata.name",
                                  "operator", "In", "values", node));
    char *coll = cn_client_path("", "v1", cn_meta_str(ds, "namespace"), "pods", NULL, NULL);
    json_t *created = NULL;
    int r = cn_client_create(dc->c, coll, pod, &created, err);
    if (r == 0)
        cn_recorder_event(dc->rec, ds, "Normal", "SuccessfulCreate", "Created pod: %s", cn_meta_str(created, "name"));
    else
        cn_recorder_event(dc->rec, ds, "Warning", "FailedCreate", "Error creating: %s", err->message ? err->message : "");
    json_decref(created);
    json_decref(pod);
    free(coll);
    return r;
}

static int delete_pod(ds_ctrl *dc, const json_t *ds, const char *pod_name, cn_err *err)
{
    char *path = cn_client_path("", "v1", cn_meta_str(ds, "namespace"), "pods", pod_name, NULL);
    int r = cn_client_delete(dc->c, path, NULL, NULL, err);
    free(path);
    if (r < 0 && err->code == 404) {
        /* already gone: no event will tick the expectation off */
        cn_err_clear(err);
        return 1;
    }
    if (r == 0) cn_recorder_event(dc->rec, ds, "Normal", "SuccessfulDelete", "Deleted pod: %s", pod_name);
    return r;
}

static int cmp_created(const void *a, const void *b)
{
    int64_t ta = cn_wl_time(*(json_t *const *)a, "metadata.creationTimestamp");
    int64_t tb = cn_wl_time(*(json_t *const *)b, "metadata.creationTimestamp");
    if (ta != tb) return ta < tb ? -1 : 1;
    return strcmp(cn_meta_str(*(json_t *const *)a, "name"), cn_meta_str(*(json_t *const *)b, "name"));
}

static bool is_new(const json_t *pod, const char *hash)
{
    const char *h = json_string_value(json_object_get(json_object_get(json_object_get(pod, "metadata"), "labels"),
                                                      HASH_LABEL));
    return h && !strcmp(h, hash);
}

static bool gone_pods(void *ud, const char *key, void *val)
{
    (void)key;
    size_t i;
    json_t *pod;
    json_array_foreach((json_t *)val, i, pod)
        if (!cn_wl_pod_terminating(pod)) json_array_append_new(ud, json_string(cn_meta_str(pod, "name")));
    return true;
}

static void free_pods(void *val) { json_decref(val); }

void cn_ds_plan_compute(const json_t *ds, const json_t *nodes, const json_t *pods, const char *hash,
                        int64_t now, cn_ds_plan *p)
{
    memset(p, 0, sizeof *p);
    p->create = json_array();
    p->del = json_array();
    json_t *spec = ds_pod_spec(ds);
    int64_t min_ready = cn_wl_int(ds, "spec.minReadySeconds", 0);
    bool rolling = strcmp(cn_json_str_at(ds, "spec.updateStrategy.type"), "OnDelete") != 0;
    size_t nn = json_array_size(nodes), np = json_array_size(pods);
    json_t **pp = cn_calloc(np + 1, sizeof *pp);
    for (size_t i = 0; i < np; i++) pp[i] = json_array_get(pods, i);
    qsort(pp, np, sizeof *pp, cmp_created);
    /* node name -> its pods, oldest first (one pass, not nodes x pods) */
    cn_strmap *by_node = cn_strmap_new();
    for (size_t j = 0; j < np; j++) {
        const char *nn_ = cn_ds_pod_node(pp[j]);
        json_t *arr = cn_strmap_get(by_node, nn_);
        if (!arr) cn_strmap_put(by_node, nn_, arr = json_array());
        json_array_append(arr, pp[j]);
    }
    /* rolling update candidates */
    json_t *replace_now = json_array(), *candidates = json_array();
    int64_t unavailable = 0;
    for (size_t i = 0; i < nn; i++) {
        const json_t *node = json_array_get(nodes, i);
        const char *nname = cn_meta_str(node, "name");
        bool run, cont;
        cn_ds_node_check(spec, node, &run, &cont);
        /* this node's daemon pods, oldest first */
        json_t *mine = json_array(), *all = cn_strmap_del(by_node, nname), *pd;
        size_t nterm = 0, j0;
        json_array_foreach(all, j0, pd) {
            if (cn_wl_pod_terminating(pd)) nterm++;
            else json_array_append(mine, pd);
        }
        json_decref(all);
        size_t nm = json_array_size(mine);
        if (run) p->desired++;
        if (nm > 0 && run) {
            p->current++;
            json_t *first = json_array_get(mine, 0);
            if (cn_wl_pod_ready(first)) p->ready++;
            if (cn_wl_pod_available(first, min_ready, now)) p->available++;
            if (is_new(first, hash)) p->updated++;
        } else if (nm > 0) {
            p->misscheduled++;
        }
        if (run && nm == 0) {
            /* as upstream, a new pod waits until the old one is gone
             * (host ports, node-local state) */
            if (!nterm) json_array_append_new(p->create, json_string(nname));
            unavailable++;
        } else if (nm > 0 && !cont) {
            size_t j;
            json_t *pod;
            json_array_foreach(mine, j, pod) json_array_append_new(p->del, json_string(cn_meta_str(pod, "name")));
        } else if (nm > 0) {
            /* failed pods go (and come back); of several, the oldest stays */
            size_t kept = 0, j;
            json_t *pod, *keep = NULL;
            json_array_foreach(mine, j, pod) {
                if (!strcmp(cn_json_str_at(pod, "status.phase"), "Failed") ||
                    !strcmp(cn_json_str_at(pod, "status.phase"), "Succeeded") || kept > 0) {
                    json_array_append_new(p->del, json_string(cn_meta_str(pod, "name")));
                } else {
                    kept++;
                    keep = pod;
                }
            }
            if (!keep && run) {
                json_array_append_new(p->create, json_string(nname));
                unavailable++;
            } else if (keep && run && rolling) {
                if (is_new(keep, hash)) {
                    if (!cn_wl_pod_available(keep, min_ready, now)) unavailable++;
                } else if (!cn_wl_pod_available(keep, min_ready, now)) {
                    json_array_append_new(replace_now, json_string(cn_meta_str(keep, "name")));
                } else {
                    json_array_append_new(candidates, json_string(cn_meta_str(keep, "name")));
                }
            }
            if (keep && run && min_ready > 0 && cn_wl_pod_ready(keep) && !cn_wl_pod_available(keep, min_ready, now))
                p->requeue_ms = min_ready * 1000;
        }
        json_decref(mine);
    }
    /* pods on nodes that are gone */
    cn_strmap_foreach(by_node, gone_pods, p->del);
    cn_strmap_free(by_node, free_pods);
    if (rolling) {
        int64_t max_unavail = cn_wl_scaled(json_object_get(json_object_get(
            json_object_get(json_object_get(ds, "spec"), "updateStrategy"), "rollingUpdate"), "maxUnavailable"),
            p->desired, true, 1);
        if (max_unavail < 1) max_unavail = 1;   /* validation forbids 0 with maxSurge 0 */
        int64_t room = max_unavail - unavailable;
        json_array_extend(p->del, replace_now);
        for (size_t j = 0; j < json_array_size(candidates) && room > 0; j++, room--)
            json_array_append(p->del, json_array_get(candidates, j));
    }
    json_decref(replace_now);
    json_decref(candidates);
    json_decref(spec);
    free(pp);
}

static bool rev_in_use(const json_t *pods, const char *hash)
{
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod) if (is_new(pod, hash)) return true;
    return false;
}

static int ds_sync(void *ud, const char *key)
{
    ds_ctrl *dc = ud;
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return 0;
    json_t *ds = cn_informer_get(dc->dss, ns, name);
    if (!ds) {
        cn_wl_expect_forget(dc->exp, key);
        return 0;
    }
    int ret = 0;
    cn_err err = CN_ERR_INIT;
    json_t *pods = json_array(), *nodes = json_array(), *revs = json_array();
    cn_ds_plan p;
    memset(&p, 0, sizeof p);
    cn_wl_history h = { 0 };
    const char **in_use = NULL;
    if (cn_wl_pod_terminating(ds)) goto out;
    const char *uid = cn_meta_str(ds, "uid");
    cn_informer_foreach_owned(dc->pods, uid, collect, pods);
    cn_informer_foreach_owned(dc->revs, uid, collect, revs);
    cn_informer_foreach(dc->nodes, collect, nodes);
    /* revisions pods still carry are kept */
    size_t nr = json_array_size(revs);
    in_use = cn_calloc(nr + 1, sizeof *in_use);
    size_t k = 0, i;
    json_t *r;
    json_array_foreach(revs, i, r) {
        const char *rh = json_string_value(json_object_get(json_object_get(json_object_get(r, "metadata"), "labels"),
                                                           HASH_LABEL));
        if (rh && rev_in_use(pods, rh)) in_use[k++] = cn_meta_str(r, "name");
    }
    if (cn_wl_history_sync(dc->c, ds, "apps/v1", "DaemonSet", revs, HASH_LABEL, in_use, &h, &err) < 0) {
        ret = -EAGAIN;
        goto out;
    }
    int64_t now = cn_wall_s();
    cn_ds_plan_compute(ds, nodes, pods, h.hash, now, &p);
    if (!cn_wl_expect_satisfied(dc->exp, key)) {
        /* look again soon: if an event was lost the expectation expires */
        cn_workqueue_add_after(dc->q, key, 1000);
    } else {
        size_t nc = json_array_size(p.create), nd = json_array_size(p.del);
        if (nc || nd) cn_wl_expect_set(dc->exp, key, (int)nc, (int)nd);
        json_t *v;
        json_array_foreach(p.del, i, v) {
            int dr = delete_pod(dc, ds, json_string_value(v), &err);
            if (dr != 0) cn_wl_expect_observed(dc->exp, key, 0, 1);
            if (dr < 0) {
                ret = -EIO;
                cn_err_clear(&err);
            }
        }
        json_array_foreach(p.create, i, v) {
            if (create_pod(dc, ds, json_string_value(v), h.hash, &err) < 0) {
                cn_wl_expect_observed(dc->exp, key, (int)(nc - i), 0);
                ret = -EIO;
                cn_err_clear(&err);
                break;
            }
        }
    }
    /* status */
    json_t *old = json_object_get(ds, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    json_object_set_new(st, "desiredNumberScheduled", json_integer(p.desired));
    json_object_set_new(st, "currentNumberScheduled", json_integer(p.current));
    json_object_set_new(st, "numberMisscheduled", json_integer(p.misscheduled));
    json_object_set_new(st, "numberReady", json_integer(p.ready));
    json_object_set_new(st, "updatedNumberScheduled", json_integer(p.updated));
    if (p.available) json_object_set_new(st, "numberAvailable", json_integer(p.available));
    else json_object_del(st, "numberAvailable");
    if (p.desired - p.available > 0) json_object_set_new(st, "numberUnavailable", json_integer(p.desired - p.available));
    else json_object_del(st, "numberUnavailable");
    json_object_set_new(st, "observedGeneration", json_integer(cn_wl_int(ds, "metadata.generation", 1)));
    if (cn_ctrl_put_status(dc->c, "apps", "v1", "daemonsets", ds, st) < 0) ret = -EAGAIN;
    json_decref(st);
    if (ret == 0 && p.requeue_ms > 0) cn_workqueue_add_after(dc->q, key, p.requeue_ms);
out:
    free(in_use);
    cn_wl_history_release(&h);
    json_decref(p.create);
    json_decref(p.del);
    json_decref(pods);
    json_decref(nodes);
    json_decref(revs);
    json_decref(ds);
    cn_err_clear(&err);
    return ret;
}

static void rev_add(void *ud, const json_t *obj) { owned_event(ud, obj, 0, 0); }
static void rev_update(void *ud, const json_t *old, const json_t *obj) { (void)old; owned_event(ud, obj, 0, 0); }

static int ds_start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    ds_ctrl *dc = cn_calloc(1, sizeof *dc);
    dc->c = ctx->client;
    dc->exp = cn_wl_expect_new();
    dc->rec = cn_recorder_new(ctx->client, "daemonset-controller");
    dc->q = cn_workqueue_new(0);
    dc->dss = cn_informers_get(ctx->inf, "apps", "v1", "daemonsets");
    dc->pods = cn_informers_get(ctx->inf, "", "v1", "pods");
    dc->nodes = cn_informers_get(ctx->inf, "", "v1", "nodes");
    dc->revs = cn_informers_get(ctx->inf, "apps", "v1", "controllerrevisions");
    cn_informer_handler dh = { ds_add, ds_update, ds_delete, dc };
    cn_informer_handler ph = { pod_add, pod_update, pod_delete, dc };
    cn_informer_handler nh = { node_add, node_update, node_delete, dc };
    cn_informer_handler rh = { rev_add, rev_update, rev_add, dc };
    cn_informer_add_handler(dc->dss, &dh);
    cn_informer_add_handler(dc->pods, &ph);
    cn_informer_add_handler(dc->nodes, &nh);
    cn_informer_add_handler(dc->revs, &rh);
    dc->w = cn_ctrl_workers_start(ctx, "daemonset", dc->q, ctx->cfg && ctx->cfg->workers ? ctx->cfg->workers : 2,
                                  ds_sync, dc);
    *state = dc;
    return 0;
}

static void ds_stop(void *state)
{
    ds_ctrl *dc = state;
    if (!dc) return;
    cn_ctrl_workers_stop(dc->w);
    cn_workqueue_free(dc->q);
    cn_recorder_free(dc->rec);
    cn_wl_expect_free(dc->exp);
    free(dc);
}

const cn_controller cn_daemonset_controller = { "daemonset", ds_start, ds_stop };
