/* simspec: the pure half of the node simulator — flag parsing and the
 * documents it writes (Node, Lease, pod status), kept apart from the
 * threads and the API calls in sim.c so they can be unit-tested. */
#include "agent/sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/quantity.h"
#include "lib/util.h"

/* ---- flags ---- */

int cn_sim_parse_duration(const char *s, int64_t *ms)
{
    int64_t whole = 0, frac = 0, fscale = 1;
    const char *p = s;
    int digits = 0, fdigits = 0;
    if (!s) return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 9) return -EINVAL;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
            if (fdigits >= 6) return -EINVAL;
            frac = frac * 10 + (*p - '0');
            fscale *= 10;
        }
        if (!fdigits) return -EINVAL;
    }
    if (!digits) return -EINVAL;
    int64_t unit;   /* milliseconds per unit */
    if (!*p || !strcmp(p, "s")) unit = 1000;
    else if (!strcmp(p, "ms")) unit = 1;
    else if (!strcmp(p, "m")) unit = 60000;
    else if (!strcmp(p, "h")) unit = 3600000;
    else return -EINVAL;
    int64_t v = whole * unit + frac * unit / fscale;
    if (v > 30LL * 86400000) return -EINVAL;
    *ms = v;
    return 0;
}

bool cn_sim_quantity_ok(const char *s)
{
    __int128 q;
    return cn_quantity_parse(s, &q) == 0 && q >= 0;
}

bool cn_sim_parse_kv(char *s, cn_sim_kv *kv)
{
    char *eq = s ? strchr(s, '=') : NULL;
    if (!eq || eq == s) return false;
    *eq = '\0';
    kv->key = s;
    kv->value = eq + 1;
    return true;
}

int cn_sim_parse_taint(const char *s, cn_sim_taint *t)
{
    *t = (cn_sim_taint){ 0 };
    char *buf = cn_strdup(s);
    char *colon = strrchr(buf, ':');
    if (!colon || colon == buf) goto bad;
    *colon = '\0';
    const char *effect = colon + 1;
    if (strcmp(effect, "NoSchedule") && strcmp(effect, "PreferNoSchedule") && strcmp(effect, "NoExecute"))
        goto bad;
    char *eq = strchr(buf, '=');
    if (eq) *eq = '\0';
    if (!*buf) goto bad;
    *t = (cn_sim_taint){ .key = buf, .value = eq ? eq + 1 : "", .effect = effect, .buf = buf };
    return 0;
bad:
    free(buf);
    return -EINVAL;
}

void cn_sim_taint_release(cn_sim_taint *t)
{
    free(t->buf);
    *t = (cn_sim_taint){ 0 };
}

/* ---- names and addresses ---- */

char *cn_sim_node_name(const cn_sim_config *cfg, int i)
{
    return cn_asprintf("%s%04d", cfg->prefix, cfg->first_index + i);
}

int cn_sim_node_index(const cn_sim_config *cfg, const char *name)
{
    size_t pl = strlen(cfg->prefix);
    if (!name || strncmp(name, cfg->prefix, pl)) return -1;
    const char *d = name + pl;
    if (strlen(d) < 4 || strlen(d) > 6) return -1;
    int v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return -1;
        v = v * 10 + (*d - '0');
    }
    /* %04d never yields a leading zero beyond four digits. */
    if (strlen(name + pl) > 4 && name[pl] == '0') return -1;
    v -= cfg->first_index;
    return v >= 0 && v < cfg->nodes ? v : -1;
}

void cn_sim_node_ip(int i, char out[16])
{
    snprintf(out, 16, "10.1.%d.%d", (i / 254) % 256, i % 254 + 1);
}

void cn_sim_pod_cidr(int i, char out[20])
{
    snprintf(out, 20, "10.%d.%d.0/24", 42 + (i / 256) % 200, i % 256);
}

void cn_sim_pod_ip(int i, int slot, char out[16])
{
    snprintf(out, 16, "10.%d.%d.%d", 42 + (i / 256) % 200, i % 256, slot);
}

void cn_sim_microtime(int64_t wall_ms, char out[40])
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.20s.%03d000Z", day, (int)(wall_ms % 1000));
}

/* ---- documents ---- */

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *message, const char *ts, bool heartbeat)
{
    json_t *c = json_pack("{s:s,s:s,s:s}", "type", type, "status", status, "lastTransitionTime", ts);
    if (heartbeat) json_object_set_new(c, "lastHeartbeatTime", json_string(ts));
    else json_object_set_new(c, "lastProbeTime", json_null());
    if (reason) json_object_set_new(c, "reason", json_string(reason));
    if (message) json_object_set_new(c, "message", json_string(message));
    return c;
}

static json_t *resources(const cn_sim_config *cfg)
{
    json_t *r = json_pack("{s:s,s:s,s:s,s:s}", "cpu", cfg->cpu, "memory", cfg->memory, "pods", cfg->pods,
                          "ephemeral-storage", cfg->ephemeral);
    for (size_t i = 0; i < cfg->nextended; i++)
        json_object_set_new(r, cfg->extended[i].key, json_string(cfg->extended[i].value));
    return r;
}

json_t *cn_sim_node_status(const cn_sim_config *cfg, int i, int64_t now_s)
{
    char ts[32], ip[16];
    _cleanup_free_ char *name = cn_sim_node_name(cfg, i);
    cn_time_rfc3339(now_s, ts);
    cn_sim_node_ip(i, ip);
    json_t *conds = json_array();
    json_array_append_new(conds, condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                                           "kubelet has sufficient memory available", ts, true));
    json_array_append_new(conds, condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                                           "kubelet has no disk pressure", ts, true));
    json_array_append_new(conds, condition("PIDPressure", "False", "KubeletHasSufficientPID",
                                           "kubelet has sufficient PID available", ts, true));
    json_array_append_new(conds, condition("Ready", "True", "KubeletReady",
                                           "kubelet is posting ready status (simulated)", ts, true));
    return json_pack("{s:o,s:o,s:o,s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:i}},s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}",
        "capacity", resources(cfg), "allocatable", resources(cfg), "conditions", conds,
        "addresses", "type", "InternalIP", "address", ip, "type", "Hostname", "address", name,
        "daemonEndpoints", "kubeletEndpoint", "Port", 10250,
        "nodeInfo", "machineID", "", "systemUUID", "", "bootID", "",
        "kernelVersion", "simulated", "osImage", "cairn simulated node",
        "containerRuntimeVersion", "sim://0.1", "kubeletVersion", CN_SIM_KUBELET_VERSION,
        "kubeProxyVersion", "", "operatingSystem", "linux", "architecture", "amd64");
}

json_t *cn_sim_node_object(const cn_sim_config *cfg, int i, int64_t now_s)
{
    _cleanup_free_ char *name = cn_sim_node_name(cfg, i);
    char cidr[20];
    cn_sim_pod_cidr(i, cidr);
    json_t *labels = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kubernetes.io/hostname", name,
                               "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
                               "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch", "amd64",
                               "node.kubernetes.io/instance-type", "simulated");
    if (cfg->zones > 0) {
        char *z = cn_asprintf("zone-%d", i % cfg->zones);
        json_object_set_new(labels, "topology.kubernetes.io/zone", json_string(z));
        free(z);
    }
    if (cfg->hosts > 0) {
        int per = (cfg->nodes + cfg->hosts - 1) / cfg->hosts;
        char *h = cn_asprintf("host-%d", i / (per ? per : 1));
        json_object_set_new(labels, "cairn.io/host", json_string(h));
        free(h);
    }
    for (size_t k = 0; k < cfg->nlabels; k++)
        json_object_set_new(labels, cfg->labels[k].key, json_string(cfg->labels[k].value));
    json_t *spec = json_pack("{s:s,s:[s],s:s}", "podCIDR", cidr, "podCIDRs", cidr, "providerID",
                             "sim://cairn");
    if (cfg->ntaints) {
        json_t *taints = json_array();
        for (size_t k = 0; k < cfg->ntaints; k++) {
            json_t *t = json_pack("{s:s,s:s}", "key", cfg->taints[k].key, "effect", cfg->taints[k].effect);
            if (cfg->taints[k].value[0])
                json_object_set_new(t, "value", json_string(cfg->taints[k].value));
            json_array_append_new(taints, t);
        }
        json_object_set_new(spec, "taints", taints);
    }
    return json_pack("{s:s,s:s,s:{s:s,s:o,s:{s:s}},s:o,s:o}", "apiVersion", "v1", "kind", "Node",
                     "metadata", "name", name, "labels", labels, "annotations",
                     "cairn.io/simulated", "true",
                     "spec", spec, "status", cn_sim_node_status(cfg, i, now_s));
}

json_t *cn_sim_lease_object(const char *name, const char *node_uid, int64_t duration_s, int64_t now_ms)
{
    char mt[40];
    cn_sim_microtime(now_ms, mt);
    json_t *lease = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:I,s:s}}", "apiVersion",
                              "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name,
                              "namespace", "kube-node-lease", "spec", "holderIdentity", name,
                              "leaseDurationSeconds", (json_int_t)duration_s, "renewTime", mt);
    if (node_uid && *node_uid)
        json_object_set_new(json_object_get(lease, "metadata"), "ownerReferences",
                            json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "v1", "kind", "Node",
                                      "name", name, "uid", node_uid));
    return lease;
}

/* ---- pods ---- */

bool cn_sim_restarts(const char *restart_policy, int exit_code)
{
    if (!restart_policy || !strcmp(restart_policy, "Always")) return true;
    if (!strcmp(restart_policy, "OnFailure")) return exit_code != 0;
    return false;   /* Never */
}

static json_t *container_statuses(const json_t *list, const char *uid, const cn_sim_pod_state *st,
                                  bool init)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    char run[32], start[32], fin[32];
    cn_time_rfc3339(st->running_s, run);
    cn_time_rfc3339(st->start_s, start);
    cn_time_rfc3339(st->finished_s, fin);
    json_array_foreach(list, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *image = json_string_value(json_object_get(c, "image"));
        if (!name) continue;
        char *cid = cn_asprintf("sim://%s/%s", uid, name);
        char *iid = cn_asprintf("sim://%s", image ? image : "");
        json_t *cs = json_pack("{s:s,s:s,s:s,s:s}", "name", name, "image", image ? image : "",
                               "imageID", iid, "containerID", cid);
        free(iid);
        bool running = !init && st->phase == CN_SIM_RUNNING;
        json_object_set_new(cs, "ready", json_boolean(running));
        json_object_set_new(cs, "started", json_boolean(running));
        json_object_set_new(cs, "restartCount", json_integer(init ? 0 : st->restarts));
        if (running) {
            json_object_set_new(cs, "state", json_pack("{s:{s:s}}", "running", "startedAt", run));
        } else {
            int code = init ? 0 : st->exit_code;
            json_object_set_new(cs, "state", json_pack("{s:{s:i,s:s,s:s,s:s,s:s}}", "terminated",
                                "exitCode", code, "reason", code ? "Error" : "Completed",
                                "startedAt", init ? start : run, "finishedAt", init ? start : fin,
                                "containerID", cid));
        }
        if (!init && st->restarts > 0)
            json_object_set_new(cs, "lastState", json_pack("{s:{s:i,s:s,s:s,s:s}}", "terminated",
                                "exitCode", st->exit_code, "reason", st->exit_code ? "Error" : "Completed",
                                "finishedAt", fin, "containerID", cid));
        else
            json_object_set_new(cs, "lastState", json_object());
        free(cid);
        json_array_append_new(out, cs);
    }
    return out;
}

json_t *cn_sim_pod_status(const json_t *pod, const cn_sim_pod_state *st)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    char start[32], now[32];
    cn_time_rfc3339(st->start_s, start);
    cn_time_rfc3339(st->phase == CN_SIM_RUNNING ? st->running_s : st->finished_s, now);
    bool running = st->phase == CN_SIM_RUNNING;
    const char *ready = running ? "True" : "False";
    const char *why = running ? NULL : "PodCompleted";
    json_t *conds = json_array();
    json_array_append_new(conds, condition("PodReadyToStartContainers", ready, NULL, NULL, running ? start : now, false));
    json_array_append_new(conds, condition("Initialized", "True", why, NULL, start, false));
    json_array_append_new(conds, condition("Ready", ready, why, NULL, now, false));
    json_array_append_new(conds, condition("ContainersReady", ready, why, NULL, now, false));
    json_array_append_new(conds, condition("PodScheduled", "True", NULL, NULL, start, false));
    json_t *status = json_pack("{s:s,s:o,s:s,s:[{s:s}],s:s,s:[{s:s}],s:s}",
        "phase", running ? "Running" : st->phase == CN_SIM_SUCCEEDED ? "Succeeded" : "Failed",
        "conditions", conds, "hostIP", st->host_ip, "hostIPs", "ip", st->host_ip,
        "podIP", st->pod_ip, "podIPs", "ip", st->pod_ip, "startTime", start);
    json_object_set_new(status, "containerStatuses",
                        container_statuses(json_object_get(spec, "containers"), uid ? uid : "", st, false));
    const json_t *inits = json_object_get(spec, "initContainers");
    if (json_array_size(inits))
        json_object_set_new(status, "initContainerStatuses", container_statuses(inits, uid ? uid : "", st, true));
    return status;
}
