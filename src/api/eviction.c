/* eviction: the pods/eviction subresource, which `kubectl drain` uses.
 * An eviction is a delete that honours the PodDisruptionBudget covering the
 * pod, as upstream's EvictionREST:
 *
 *   pod terminal, Pending or already deleting ........ delete at once
 *   no PDB selects the pod ............................ delete at once
 *   more than one PDB selects it ...................... 500
 *   pod not Ready and the budget is healthy
 *     (currentHealthy >= desiredHealthy > 0), or
 *     unhealthyPodEvictionPolicy AlwaysAllow ......... delete at once
 *   status not yet observed (observedGeneration) ...... 429, retry
 *   disruptionsAllowed == 0 ........................... 429 TooManyRequests
 *   otherwise: disruptionsAllowed - 1 and the pod in status.disruptedPods,
 *   written with the PDB's resourceVersion as precondition (a conflict
 *   starts over with fresh state), then the pod is deleted.
 *
 * The disruption controller (ctrl/disruption.c) recomputes the status from
 * the pods and drops disruptedPods entries once the pod is gone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "api/selector.h"
#include "lib/util.h"

#define EVICTION_ATTEMPTS 5
#define MAX_DISRUPTED_PODS 2000

static bool pod_ready(const json_t *pod)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, "Ready"))
            return !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
    }
    return false;
}

static bool pdb_can_be_ignored(const json_t *pod)
{
    const char *ph = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
    if (ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed") || !strcmp(ph, "Pending"))) return true;
    return cn_obj_deleting(pod);
}

struct pdb_match {
    const json_t *labels;
    json_t *found;      /* array of matching PDBs */
    int64_t rev;        /* of the first */
};

static int match_pdb(void *ud, const cn_kv *kv)
{
    struct pdb_match *m = ud;
    json_t *pdb = cn_obj_from_store(kv->value, kv->value_len, kv->mod_rev, NULL);
    if (!pdb) return 0;
    cn_selector *sel = NULL;
    json_t *js = json_object_get(json_object_get(pdb, "spec"), "selector");
    /* A PDB with a null selector selects nothing in policy/v1; an empty
     * one ({}) selects every pod of the namespace. */
    if (json_is_object(js) && cn_selector_from_json(js, &sel, NULL) == 0 &&
        cn_selector_matches(sel, m->labels)) {
        if (!json_array_size(m->found)) m->rev = kv->mod_rev;
        json_array_append(m->found, pdb);
    }
    cn_selector_free(sel);
    json_decref(pdb);
    return 0;
}

static void set_condition(json_t *st, bool allowed)
{
    char ts[32];
    cn_time_rfc3339(cn_wall_s(), ts);
    json_t *conds = json_object_get(st, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(st, "conditions", conds);
    }
    json_t *c = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(conds, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "type")) ?: "", "DisruptionAllowed")) c = v;
    const char *status = allowed ? "True" : "False";
    if (c && !strcmp(json_string_value(json_object_get(c, "status")) ?: "", status)) return;
    if (!c) {
        c = json_object();
        json_array_append_new(conds, c);
    }
    json_object_set_new(c, "type", json_string("DisruptionAllowed"));
    json_object_set_new(c, "status", json_string(status));
    json_object_set_new(c, "reason", json_string(allowed ? "SufficientPods" : "InsufficientPods"));
    json_object_set_new(c, "message", json_string(""));
    json_object_set_new(c, "lastTransitionTime", json_string(ts));
    json_object_set_new(c, "observedGeneration",
                        json_integer(json_integer_value(json_object_get(st, "observedGeneration"))));
}

/* 0: go ahead and delete; 1: the PDB changed under us, start over; < 0:
 * refused (err set). */
static int check_and_decrement(cn_apiserver *s, const cn_resource *pdbres, json_t *pdb, int64_t rev,
                               const char *pod, bool dry_run, cn_err *err)
{
    json_t *meta = cn_obj_meta(pdb);
    json_t *st = json_object_get(pdb, "status");
    const char *name = cn_obj_name(pdb);
    json_int_t gen = json_integer_value(json_object_get(meta, "generation"));
    json_int_t obs = json_integer_value(json_object_get(st, "observedGeneration"));
    json_int_t allowed = json_integer_value(json_object_get(st, "disruptionsAllowed"));
    if (obs < gen || !json_is_object(st)) {
        cn_err_set(err, 429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
        cn_err_add_cause(err, "DisruptionBudget", NULL,
                         "The disruption budget %s is still being processed by the server.", name);
        return -EAGAIN;
    }
    if (allowed < 0)
        return cn_err_set(err, 403, "Forbidden", "pdb disruptions allowed is negative");
    json_t *dp = json_object_get(st, "disruptedPods");
    if (json_object_size(dp) > MAX_DISRUPTED_PODS)
        return cn_err_set(err, 403, "Forbidden", "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
    if (allowed == 0) {
        cn_err_set(err, 429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
        cn_err_add_cause(err, "DisruptionBudget", NULL,
                         "The disruption budget %s needs %lld healthy pods and has %lld currently", name,
                         (long long)json_integer_value(json_object_get(st, "desiredHealthy")),
                         (long long)json_integer_value(json_object_get(st, "currentHealthy")));
        return -EAGAIN;
    }
    if (dry_run) return 0;
    json_object_set_new(st, "disruptionsAllowed", json_integer(allowed - 1));
    if (allowed - 1 == 0) set_condition(st, false);
    if (!json_is_object(dp)) {
        dp = json_object();
        json_object_set_new(st, "disruptedPods", dp);
    }
    char ts[32];
    cn_time_rfc3339(cn_wall_s(), ts);
    json_object_set_new(dp, pod, json_string(ts));
    char *key = cn_obj_key(pdbres, cn_obj_namespace(pdb), name);
    size_t len;
    char *val = cn_obj_to_store(pdb, &len);
    int64_t nrev;
    cn_err serr = CN_ERR_INIT;
    int r = cn_store_update(s->store, key, val, len, rev, &nrev, &serr);
    free(key);
    free(val);
    cn_err_clear(&serr);
    if (r == -ESTALE || r == -ENOENT) return 1;
    if (r < 0) return cn_err_internal(err, "storage error while updating the disruption budget %s", name);
    return 0;
}

/* Decide whether the pod may go; 0 = delete it. */
static int admit_eviction(cn_reqctx *c, cn_err *err)
{
    const cn_resource *pdbres = cn_registry_lookup(c->srv->reg, "policy", "v1", "poddisruptionbudgets");
    for (int attempt = 0; attempt < EVICTION_ATTEMPTS; attempt++) {
        json_t *pod = NULL;
        int r = cn_obj_get(c->srv, c->res, c->ns, c->name, &pod, NULL, err);
        if (r < 0) return r;
        if (!pdbres || pdb_can_be_ignored(pod)) {
            json_decref(pod);
            return 0;
        }
        struct pdb_match m = { json_object_get(json_object_get(pod, "metadata"), "labels"), json_array(), 0 };
        char *prefix = cn_obj_key(pdbres, c->ns, "");
        r = cn_obj_foreach(c->srv, prefix, match_pdb, &m, err);
        free(prefix);
        bool ready = pod_ready(pod);
        json_decref(pod);
        if (r < 0) {
            json_decref(m.found);
            return r;
        }
        size_t n = json_array_size(m.found);
        if (n > 1) {
            json_decref(m.found);
            return cn_err_internal(err, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        }
        if (n == 0) {
            json_decref(m.found);
            return 0;
        }
        json_t *pdb = json_array_get(m.found, 0);
        json_t *st = json_object_get(pdb, "status");
        const char *policy = json_string_value(json_object_get(json_object_get(pdb, "spec"),
                                                               "unhealthyPodEvictionPolicy"));
        json_int_t cur = json_integer_value(json_object_get(st, "currentHealthy"));
        json_int_t want = json_integer_value(json_object_get(st, "desiredHealthy"));
        if (!ready && ((policy && !strcmp(policy, "AlwaysAllow")) || (cur >= want && want > 0))) {
            json_decref(m.found);
            return 0;
        }
        r = check_and_decrement(c->srv, pdbres, pdb, m.rev, c->name, c->q.dry_run, err);
        json_decref(m.found);
        if (r != 1) return r;
    }
    return cn_err_set(err, 429, "TooManyRequests", "Cannot evict pod: the disruption budget kept changing, try again");
}

void cn_rest_eviction(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    json_t *ev = NULL, *out = NULL;
    bool gone;
    if (strcmp(c->method, "POST")) {
        cn_err_set(&e, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        goto fail;
    }
    if (cn_obj_decode_body(c, &ev, &e) < 0) goto fail;
    if (admit_eviction(c, &e) < 0) goto fail;
    json_t *opts = json_object_get(ev, "deleteOptions");
    json_t *empty = json_object();
    int r = cn_rest_delete_object(c->srv, c->res, c->ns, c->name, json_is_object(opts) ? opts : empty,
                                  c->q.dry_run, &out, &gone, &e);
    json_decref(empty);
    json_decref(out);
    if (r < 0) goto fail;
    json_decref(ev);
    cn_rest_reply(c, 201, json_pack("{s:s,s:s,s:{},s:s,s:i}", "kind", "Status", "apiVersion", "v1",
                                    "metadata", "status", "Success", "code", 201));
    return;
fail:
    json_decref(ev);
    cn_rest_reply_err(c, &e);
    cn_err_clear(&e);
}
