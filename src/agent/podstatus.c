/* podstatus: the pod status the kubelet writes, built from its view of the
 * pod's containers — phase, conditions, container and init container
 * statuses with state/lastState/restartCount, IPs and start time — with
 * upstream's rules (pkg/kubelet/kubelet_pods.go getPhase and friends), so
 * `kubectl get/describe` read the same as on any Kubernetes node.
 * Pure: it reads a kl_pod and returns JSON; kubelet.c decides when to
 * write it. Condition transition times are kept from the last status
 * written while the condition's value stays the same. */
#include <string.h>

#include "agent/kubelet-internal.h"
#include "lib/util.h"

const char *cn_kl_restart_policy(const json_t *pod)
{
    const char *p = cn_json_str_at(pod, "spec.restartPolicy");
    return p && *p ? p : "Always";
}

bool cn_kl_should_restart(const char *policy, int exit_code)
{
    if (!strcmp(policy, "Always")) return true;
    if (!strcmp(policy, "OnFailure")) return exit_code != 0;
    return false;
}

static bool ctr_running(const kl_ctr *c) { return c->created && c->have_st && c->st.state == CN_CTR_RUNNING; }
static bool ctr_exited(const kl_ctr *c) { return c->created && c->have_st && c->st.state != CN_CTR_RUNNING; }

/* Init containers: all ended with 0 (in order)? *failed when one ended
 * non-zero under restartPolicy Never (the pod fails). */
static bool inits_done(const kl_pod *p, bool *failed)
{
    const char *policy = cn_kl_restart_policy(p->pod);
    *failed = false;
    for (size_t i = 0; i < p->ninit; i++) {
        const kl_ctr *c = &p->ctrs[i];
        if (ctr_exited(c) && c->st.exit_code == 0) continue;
        if (ctr_exited(c) && !strcmp(policy, "Never")) *failed = true;
        return false;
    }
    return true;
}

const char *cn_kl_pod_phase(const kl_pod *p)
{
    bool init_failed;
    if (!inits_done(p, &init_failed)) return init_failed ? "Failed" : "Pending";
    int waiting = 0, running = 0, stopped = 0, succeeded = 0;
    for (size_t i = p->ninit; i < p->nctrs; i++) {
        const kl_ctr *c = &p->ctrs[i];
        if (ctr_running(c)) running++;
        else if (ctr_exited(c)) {
            stopped++;
            if (c->st.exit_code == 0) succeeded++;
        } else if (c->have_last) stopped++;      /* waiting to restart after a crash */
        else waiting++;
    }
    if (waiting > 0) return "Pending";
    if (running > 0) return "Running";
    if (stopped == 0) return "Pending";
    const char *policy = cn_kl_restart_policy(p->pod);
    if (!strcmp(policy, "Always")) return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (!strcmp(policy, "Never")) return "Failed";
    return "Running";
}

static void put_time(json_t *o, const char *k, int64_t ms)
{
    char t[32];
    cn_time_rfc3339(ms > 0 ? ms / 1000 : cn_wall_s(), t);
    json_object_set_new(o, k, json_string(t));
}

static json_t *terminated(const cn_ctr_status *st, const char *id)
{
    const char *reason = st->oom_killed ? "OOMKilled"
                       : st->exit_code == 128 && st->message ? "StartError"
                       : st->exit_code == 0 ? "Completed" : "Error";
    json_t *t = json_pack("{s:i,s:s}", "exitCode", st->exit_code, "reason", reason);
    if (st->exit_code > 128 && st->exit_code < 160) json_object_set_new(t, "signal", json_integer(st->exit_code - 128));
    if (st->message && *st->message) json_object_set_new(t, "message", json_string(st->message));
    put_time(t, "startedAt", st->started_ms ? st->started_ms : st->finished_ms);
    put_time(t, "finishedAt", st->finished_ms);
    json_object_set_new(t, "containerID", json_sprintf("cairn://%s", id));
    return t;
}

const json_t *cn_kl_ctr_spec(const json_t *pod, const kl_ctr *c)
{
    const json_t *arr = json_object_get(json_object_get(pod, "spec"), c->init ? "initContainers" : "containers");
    size_t i;
    const json_t *x;
    json_array_foreach(arr, i, x) if (!strcmp(json_string_value(json_object_get(x, "name")) ?: "", c->name)) return x;
    return NULL;
}

static json_t *ctr_status(const kl_pod *p, const kl_ctr *c)
{
    const json_t *spec = cn_kl_ctr_spec(p->pod, c);
    json_t *s = json_pack("{s:s,s:s,s:i}", "name", c->name,
                          "image", json_string_value(json_object_get(spec, "image")) ?: "",
                          "restartCount", c->restarts);
    json_object_set_new(s, "imageID", json_string(c->image_digest ? c->image_digest : ""));
    json_t *state;
    bool running = ctr_running(c);
    if (running) {
        state = json_object();
        json_t *r = json_object();
        put_time(r, "startedAt", c->st.started_ms);
        json_object_set_new(state, "running", r);
    } else if (ctr_exited(c) && !c->reason) {
        state = json_pack("{s:o}", "terminated", terminated(&c->st, c->id));
    } else {
        json_t *w = json_pack("{s:s}", "reason", c->reason ? c->reason : c->init ? "PodInitializing" : "ContainerCreating");
        if (c->message && *c->message) json_object_set_new(w, "message", json_string(c->message));
        state = json_pack("{s:o}", "waiting", w);
    }
    json_object_set_new(s, "state", state);
    json_t *last = json_object();
    if (c->have_last) json_object_set_new(last, "terminated", terminated(&c->last, c->id));
    json_object_set_new(s, "lastState", last);
    if (c->created) json_object_set_new(s, "containerID", json_sprintf("cairn://%s", c->id));
    json_object_set_new(s, "ready", json_boolean(running && c->ready && !c->init));
    json_object_set_new(s, "started", json_boolean(running && c->started));
    return s;
}

/* The previous transition time of condition type when its status is the
 * same, so times move only on change. */
static const char *prev_time(const json_t *last, const char *type, const char *status)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(last, "conditions"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", type)) continue;
        if (strcmp(json_string_value(json_object_get(c, "status")) ?: "", status)) return NULL;
        return json_string_value(json_object_get(c, "lastTransitionTime"));
    }
    return NULL;
}

static void cond(json_t *arr, const json_t *last, const char *type, bool ok, const char *reason,
                 const char *msg)
{
    const char *st = ok ? "True" : "False";
    json_t *c = json_pack("{s:s,s:s,s:n}", "type", type, "status", st, "lastProbeTime");
    const char *t = prev_time(last, type, st);
    if (t) json_object_set_new(c, "lastTransitionTime", json_string(t));
    else put_time(c, "lastTransitionTime", 0);
    if (!ok && reason) json_object_set_new(c, "reason", json_string(reason));
    if (!ok && msg && *msg) json_object_set_new(c, "message", json_string(msg));
    json_array_append_new(arr, c);
}

json_t *cn_kl_pod_status(const kl_pod *p, const char *host_ip, int64_t now_s)
{
    (void)now_s;
    const char *phase = cn_kl_pod_phase(p);
    bool finished = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
    bool init_failed;
    bool inited = inits_done(p, &init_failed);
    cn_buf unready, uninit;
    cn_buf_init(&unready);
    cn_buf_init(&uninit);
    for (size_t i = 0; i < p->nctrs; i++) {
        const kl_ctr *c = &p->ctrs[i];
        if (c->init) {
            if (!(ctr_exited(c) && c->st.exit_code == 0)) cn_buf_addf(&uninit, "%s%s", uninit.len ? " " : "", c->name);
        } else if (!(ctr_running(c) && c->ready)) {
            cn_buf_addf(&unready, "%s%s", unready.len ? " " : "", c->name);
        }
    }
    bool ready = !finished && inited && unready.len == 0;
    char *umsg = unready.len ? cn_asprintf("containers with unready status: [%s]", unready.data) : NULL;
    char *imsg = uninit.len ? cn_asprintf("containers with incomplete status: [%s]", uninit.data) : NULL;
    const json_t *last = p->last_status;
    json_t *conds = json_array();
    cond(conds, last, "PodReadyToStartContainers", p->net_ok && !finished, NULL, NULL);
    cond(conds, last, "Initialized", inited, "ContainersNotInitialized", imsg);
    cond(conds, last, "Ready", ready, finished ? "PodCompleted" : "ContainersNotReady", finished ? NULL : umsg);
    cond(conds, last, "ContainersReady", ready, finished ? "PodCompleted" : "ContainersNotReady", finished ? NULL : umsg);
    cond(conds, last, "PodScheduled", true, NULL, NULL);
    free(umsg);
    free(imsg);
    cn_buf_release(&unready);
    cn_buf_release(&uninit);

    json_t *st = json_pack("{s:s,s:o}", "phase", phase, "conditions", conds);
    if (host_ip) {
        json_object_set_new(st, "hostIP", json_string(host_ip));
        json_object_set_new(st, "hostIPs", json_pack("[{s:s}]", "ip", host_ip));
    }
    if (p->ip[0]) {
        json_object_set_new(st, "podIP", json_string(p->ip));
        json_object_set_new(st, "podIPs", json_pack("[{s:s}]", "ip", p->ip));
    }
    if (p->start_s) {
        char t[32];
        cn_time_rfc3339(p->start_s, t);
        json_object_set_new(st, "startTime", json_string(t));
    }
    json_t *cs = json_array(), *ics = json_array();
    for (size_t i = 0; i < p->nctrs; i++) json_array_append_new(p->ctrs[i].init ? ics : cs, ctr_status(p, &p->ctrs[i]));
    json_object_set_new(st, "containerStatuses", cs);
    if (p->ninit) json_object_set_new(st, "initContainerStatuses", ics);
    else json_decref(ics);
    return st;
}
