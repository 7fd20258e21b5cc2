/* kubelet: the node side of `cairn agent` (kubelet.h) — registration,
 * Lease, node status, routes to the other nodes' pod blocks, the pod watch
 * feeding a work queue of pod syncs (podworker.c), the probe threads,
 * adoption of the containers that outlived a previous agent, image garbage
 * collection, and the HTTPS endpoint for logs/exec/port-forward. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/kubelet-internal.h"
#include "agent/kubeletsrv.h"
#include "agent/podspec.h"
#include "agent/sim.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/quantity.h"
#include "lib/util.h"

#define DEFAULT_DATA "/var/lib/cairn/agent"

/* ---- machine facts ---- */

static int64_t read_int_file(const char *path)
{
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1) v = -1;
        fclose(f);
    }
    return v;
}

/* CPUs, bounded by our cgroup's quota when it has one. */
static int64_t machine_milli_cpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t milli = (n > 0 ? n : 1) * 1000;
    int64_t q = read_int_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    int64_t per = read_int_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (q > 0 && per > 0 && q * 1000 / per < milli) milli = q * 1000 / per;
    return milli;
}

static int64_t machine_memory(void)
{
    int64_t total = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemTotal: %lld kB", &kb) == 1) total = (int64_t)kb * 1024;
        fclose(f);
    }
    int64_t lim = read_int_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    if (lim > 0 && lim < total) total = lim;
    return total;
}

static char *default_node_ip(void)
{
    struct ifaddrs *ifs = NULL, *i;
    char *out = NULL;
    if (getifaddrs(&ifs) < 0) return NULL;
    for (i = ifs; i && !out; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
            continue;
        if (!strncmp(i->ifa_name, "cairn", 5) || !strncmp(i->ifa_name, "cn", 2)) continue;   /* our bridge/veths */
        char buf[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf)) out = cn_strdup(buf);
    }
    freeifaddrs(ifs);
    return out;
}

/* ---- the Node ---- */

static char *fmt_milli(int64_t m)
{
    return m % 1000 ? cn_asprintf("%lldm", (long long)m) : cn_asprintf("%lld", (long long)(m / 1000));
}

static json_t *resources(cn_kubelet *k, bool alloc)
{
    int64_t cpu = machine_milli_cpu(), mem = machine_memory();
    struct statvfs vfs;
    int64_t disk = statvfs(k->data_dir, &vfs) == 0 ? (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize : 0;
    if (alloc) {
        int64_t v;
        if (cn_quantity_milli(k->cfg.reserved_cpu, &v) == 0) cpu -= v;
        if (cn_quantity_value(k->cfg.reserved_memory, &v) == 0) mem -= v;
        if (cpu < 0) cpu = 0;
        if (mem < 0) mem = 0;
        disk = disk / 10 * 9;       /* upstream's default nodefs.available 10% */
    }
    char *c = fmt_milli(cpu);
    json_t *r = json_pack("{s:s,s:o,s:o,s:o,s:s,s:s}", "cpu", c,
                          "memory", json_sprintf("%lldKi", (long long)(mem / 1024)),
                          "ephemeral-storage", json_sprintf("%lld", (long long)disk),
                          "pods", json_sprintf("%d", k->cfg.max_pods), "hugepages-1Gi", "0", "hugepages-2Mi", "0");
    free(c);
    return r;
}

static json_t *conditions(const char *since)
{
    char now[32];
    cn_time_rfc3339(cn_wall_s(), now);
    json_t *a = json_array();
    static const char *const rows[][4] = {
        { "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available" },
        { "DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure" },
        { "PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available" },
        { "Ready", "True", "KubeletReady", "kubelet is posting ready status" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", rows[i][0], "status", rows[i][1],
                                           "reason", rows[i][2], "message", rows[i][3], "lastHeartbeatTime", now,
                                           "lastTransitionTime", since));
    return a;
}

static json_t *node_status(cn_kubelet *k, const char *since)
{
    struct utsname u;
    uname(&u);
    char *machine_id = NULL, *boot_id = NULL;
    size_t n;
    cn_err err = CN_ERR_INIT;
    if (cn_read_file("/etc/machine-id", &machine_id, &n, &err) < 0) machine_id = cn_strdup("");
    cn_err_clear(&err);
    if (cn_read_file("/proc/sys/kernel/random/boot_id", &boot_id, &n, &err) < 0) boot_id = cn_strdup("");
    cn_err_clear(&err);
    machine_id[strcspn(machine_id, "\n")] = 0;
    boot_id[strcspn(boot_id, "\n")] = 0;
    json_t *st = json_pack("{s:o,s:o,s:o,s:[{s:s,s:s},{s:s,s:s}],s:{s:{s:i}},s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}",
        "capacity", resources(k, false), "allocatable", resources(k, true), "conditions", conditions(since),
        "addresses", "type", "InternalIP", "address", k->node_ip, "type", "Hostname", "address", k->node_name,
        "daemonEndpoints", "kubeletEndpoint", "Port", k->cfg.port,
        "nodeInfo", "machineID", machine_id, "systemUUID", machine_id, "bootID", boot_id,
        "kernelVersion", u.release, "osImage", "cairn node (Linux)", "containerRuntimeVersion", "runc://cairn",
        "kubeletVersion", CN_KUBELET_VERSION, "kubeProxyVersion", CN_KUBELET_VERSION,
        "operatingSystem", "linux", "architecture", "amd64");
    free(machine_id);
    free(boot_id);
    return st;
}

static json_t *node_object(cn_kubelet *k, const char *since)
{
    json_t *labels = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kubernetes.io/hostname", k->node_name,
                               "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
                               "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch", "amd64");
    for (size_t i = 0; i < k->cfg.nlabels; i++)
        json_object_set_new(labels, k->cfg.labels[i].key, json_string(k->cfg.labels[i].value));
    json_t *spec = json_object();
    if (k->cfg.ntaints) {
        json_t *taints = json_array();
        for (size_t i = 0; i < k->cfg.ntaints; i++) {
            json_t *t = json_pack("{s:s, s:s}", "key", k->cfg.taints[i].key, "effect", k->cfg.taints[i].effect);
            if (k->cfg.taints[i].value && *k->cfg.taints[i].value)
                json_object_set_new(t, "value", json_string(k->cfg.taints[i].value));
            json_array_append_new(taints, t);
        }
        json_object_set_new(spec, "taints", taints);
    }
    return json_pack("{s:s,s:s,s:{s:s,s:o},s:o,s:o}", "apiVersion", "v1", "kind", "Node", "metadata", "name",
                     k->node_name, "labels", labels, "spec", spec, "status", node_status(k, since));
}

static char since_time[32];

static int post_status(cn_kubelet *k, cn_err *err)
{
    char *path = cn_client_path("", "v1", NULL, "nodes", k->node_name, "status");
    json_t *body = json_pack("{s:o}", "status", node_status(k, since_time));
    int r = cn_client_patch(k->client, path, CN_PATCH_MERGE, body, NULL, err);
    json_decref(body);
    free(path);
    return r;
}

static int lease_renew(cn_kubelet *k, cn_err *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    char mt[40];
    cn_sim_microtime(wall_ms, mt);
    char *path = cn_client_path("coordination.k8s.io", "v1", "kube-node-lease", "leases", k->node_name, NULL);
    json_t *patch = json_pack("{s:{s:s,s:s}}", "spec", "renewTime", mt, "holderIdentity", k->node_name);
    int r = cn_client_patch(k->client, path, CN_PATCH_MERGE, patch, NULL, err);
    json_decref(patch);
    free(path);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        char *coll = cn_client_path("coordination.k8s.io", "v1", "kube-node-lease", "leases", NULL, NULL);
        json_t *lease = cn_sim_lease_object(k->node_name, k->node_uid, k->cfg.lease_duration_s, wall_ms);
        r = cn_client_create(k->client, coll, lease, NULL, err);
        json_decref(lease);
        free(coll);
    }
    return r;
}

/* Create the Node, or take over the one that exists (after a restart):
 * labels we own are merged, status posted. */
static int node_register(cn_kubelet *k, cn_err *err)
{
    char *coll = cn_client_path("", "v1", NULL, "nodes", NULL, NULL);
    char *path = cn_client_path("", "v1", NULL, "nodes", k->node_name, NULL);
    json_t *node = node_object(k, since_time), *out = NULL;
    int r = cn_client_create(k->client, coll, node, &out, err);
    if (r < 0 && err->code == 409) {
        cn_err_clear(err);
        json_t *patch = json_pack("{s:{s:O}}", "metadata", "labels", json_object_get(json_object_get(node, "metadata"), "labels"));
        r = cn_client_patch(k->client, path, CN_PATCH_MERGE, patch, &out, err);
        json_decref(patch);
    }
    if (r >= 0) {
        free(k->node_uid);
        k->node_uid = cn_strdup(cn_meta_str(out, "uid"));
        r = post_status(k, err);
    }
    if (r >= 0) r = lease_renew(k, err);
    json_decref(node);
    json_decref(out);
    free(coll);
    free(path);
    return r;
}

/* ---- routes to the other nodes' blocks ---- */

static bool collect_node(void *ud, const json_t *node)
{
    json_array_append((json_t *)ud, (json_t *)node);
    return true;
}

static void sync_routes(cn_kubelet *k)
{
    pthread_mutex_lock(&k->mu);
    cn_podnet *net = k->net;
    pthread_mutex_unlock(&k->mu);
    if (!net) return;
    json_t *nodes = json_array();
    cn_informer_foreach(k->nodes, collect_node, nodes);
    cn_err err = CN_ERR_INIT;
    if (cn_podnet_set_routes_from_nodes(net, nodes, k->node_name, &err) < 0)
        cn_warn("agent: routes to other nodes: %s", err.message ? err.message : "failed");
    cn_err_clear(&err);
    json_decref(nodes);
}

static volatile int routes_dirty = 1;
static void on_node_change(void *ud, const json_t *obj) { (void)ud; (void)obj; routes_dirty = 1; }
static void on_node_update(void *ud, const json_t *old, const json_t *obj)
{
    (void)ud;
    if (!json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec"))) routes_dirty = 1;
    (void)obj;
}

/* ---- pods ---- */

static void enqueue(cn_kubelet *k, const json_t *pod)
{
    char *key = cn_asprintf("%s/%s", cn_meta_str(pod, "namespace"), cn_meta_str(pod, "name"));
    cn_workqueue_add(k->q, key);
    free(key);
}
static void on_pod_add(void *ud, const json_t *obj) { enqueue(ud, obj); }
static void on_pod_update(void *ud, const json_t *old, const json_t *obj) { (void)old; enqueue(ud, obj); }
static void on_pod_delete(void *ud, const json_t *obj) { enqueue(ud, obj); }

static void on_exit_cb(void *ud, const char *id)
{
    cn_kubelet *k = ud;
    const char *us = strchr(id, '_');
    if (!us) return;
    char *uid = cn_strndup(id, (size_t)(us - id));
    pthread_mutex_lock(&k->mu);
    kl_pod *p = k->by_uid ? cn_strmap_get(k->by_uid, uid) : NULL;
    if (p) cn_workqueue_add(k->q, p->key);
    pthread_mutex_unlock(&k->mu);
    free(uid);
}

static void *worker(void *arg)
{
    cn_kubelet *k = arg;
    char *key;
    while ((key = cn_workqueue_get(k->q))) {
        cn_kl_sync(k, key);
        cn_workqueue_done(k->q, key);
        free(key);
    }
    return NULL;
}

/* ---- probes ---- */

static const char *const probe_names[KL_NPROBES] = { "startupProbe", "livenessProbe", "readinessProbe" };

static kl_ctr *find_ctr(cn_kubelet *k, const char *key, kl_pod **pp)
{
    const char *slash = strchr(key, '/');
    if (!slash) return NULL;
    char *uid = cn_strndup(key, (size_t)(slash - key));
    kl_pod *p = cn_strmap_get(k->by_uid, uid);
    free(uid);
    if (!p) return NULL;
    *pp = p;
    for (size_t i = 0; i < p->nctrs; i++)
        if (!strcmp(p->ctrs[i].name, slash + 1)) return &p->ctrs[i];
    return NULL;
}

static int64_t probe_int(const json_t *pr, const char *f, int64_t def)
{
    const json_t *v = json_object_get(pr, f);
    return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : def;
}

static void probe_one(cn_kubelet *k, cn_timer *t)
{
    kl_pod *p = NULL;
    kl_ctr *c = find_ctr(k, t->key, &p);
    if (!c || c->gen != t->gen || !c->created || !c->have_st || c->st.state != CN_CTR_RUNNING) return;
    const json_t *spec = cn_kl_ctr_spec(p->pod, c);
    const json_t *pr = json_object_get(spec, probe_names[t->kind]);
    if (!pr) return;
    int64_t period = probe_int(pr, "periodSeconds", 10) * 1000;
    if (t->kind != KL_STARTUP && !c->started) {
        cn_timerheap_push(&k->probes, cn_now_ms() + 1000, t->kind, 0, t->gen, t->key);
        return;
    }
    json_t *prc = json_incref((json_t *)pr), *ctr = json_incref((json_t *)spec);
    char *id = cn_strdup(c->id), *netns = cn_strdup(p->netns), *ip = cn_strdup(p->ip);
    pthread_mutex_unlock(&k->mu);
    static const char *const what[KL_NPROBES] = { "Startup", "Liveness", "Readiness" };
    cn_probe_target tg = { .rt = k->rt, .ctr_id = id, .netns_path = netns, .pod_ip = ip, .ctr = ctr, .kind = what[t->kind] };
    char *msg = NULL;
    cn_probe_result res = cn_probe_run(&tg, prc, &msg);
    pthread_mutex_lock(&k->mu);
    free(id);
    free(netns);
    free(ip);
    c = find_ctr(k, t->key, &p);
    if (c && c->gen == t->gen) {
        int kind = t->kind;
        bool changed = false;
        if (res == CN_PROBE_SUCCESS) {
            c->probe_ok[kind]++;
            c->probe_fail[kind] = 0;
        } else {
            c->probe_fail[kind]++;
            c->probe_ok[kind] = 0;
            cn_kl_event(k, p, "Warning", "Unhealthy", "%s", msg ? msg : "probe failed");
        }
        int64_t fail_th = probe_int(prc, "failureThreshold", 3), ok_th = probe_int(prc, "successThreshold", 1);
        if (kind == KL_STARTUP) {
            if (res == CN_PROBE_SUCCESS && !c->started) c->started = changed = true;
            else if (c->probe_fail[kind] >= fail_th && !c->kill_pending) {
                c->kill_pending = changed = true;
                free(c->kill_reason);
                c->kill_reason = cn_asprintf("Container %s failed startup probe, will be restarted", c->name);
            }
        } else if (kind == KL_LIVENESS) {
            if (c->probe_fail[kind] >= fail_th && !c->kill_pending) {
                c->kill_pending = changed = true;
                free(c->kill_reason);
                c->kill_reason = cn_asprintf("Container %s failed liveness probe, will be restarted", c->name);
            }
        } else {
            if (!c->ready && c->probe_ok[kind] >= ok_th) c->ready = changed = true;
            else if (c->ready && c->probe_fail[kind] >= fail_th) {
                c->ready = false;
                changed = true;
            }
        }
        if (changed) cn_workqueue_add(k->q, p->key);
        bool again = !(kind == KL_STARTUP && c->started);
        if (again) cn_timerheap_push(&k->probes, cn_now_ms() + period, kind, 0, t->gen, t->key);
    }
    free(msg);
    json_decref(prc);
    json_decref(ctr);
}

static void *probe_thread(void *arg)
{
    cn_kubelet *k = arg;
    pthread_mutex_lock(&k->mu);
    while (!*k->stop) {
        int64_t now = cn_now_ms(), next = cn_timerheap_next(&k->probes);
        cn_timer t;
        if (next <= now && cn_timerheap_pop_due(&k->probes, now, &t)) {
            probe_one(k, &t);
            free(t.key);
            continue;
        }
        int64_t wait = next == INT64_MAX || next - now > 1000 ? 1000 : next - now;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += (time_t)(wait / 1000);
        ts.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&k->probe_cv, &k->mu, &ts);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

/* ---- adoption and cleanup at start ---- */

struct adopt { cn_kubelet *k; cn_ctr_status *all; size_t n; };

static bool adopt_pod(void *ud, const json_t *pod)
{
    struct adopt *a = ud;
    cn_kubelet *k = a->k;
    if (!cn_meta_str(pod, "uid")) return true;
    kl_pod *p = cn_kl_pod_new(k, pod);
    cn_kl_adopt(k, p, a->all, a->n);
    cn_strmap_put(k->by_uid, p->uid, p);
    free(cn_strmap_put(k->by_key, p->key, cn_strdup(p->uid)));
    return true;
}

/* Containers and sandboxes of pods that no longer exist (deleted while we
 * were down) go; the pods that do exist get their containers back. */
static void adopt_all(cn_kubelet *k)
{
    cn_err err = CN_ERR_INIT;
    struct adopt a = { .k = k };
    if (cn_ctr_list(k->rt, &a.all, &a.n, &err) < 0) {
        cn_warn("agent: listing containers: %s", err.message ? err.message : "failed");
        cn_err_clear(&err);
    }
    pthread_mutex_lock(&k->mu);
    cn_informer_foreach(k->pods, adopt_pod, &a);
    size_t adopted = 0, removed = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.all[i].pod && cn_strmap_get(k->by_uid, a.all[i].pod)) {
            adopted++;
            continue;
        }
        pthread_mutex_unlock(&k->mu);
        if (a.all[i].state == CN_CTR_RUNNING) cn_ctr_stop(k->rt, a.all[i].id, 0, &err);
        cn_err_clear(&err);
        cn_ctr_remove(k->rt, a.all[i].id, &err);
        cn_err_clear(&err);
        removed++;
        pthread_mutex_lock(&k->mu);
    }
    char **sbs = NULL;
    size_t nsb = 0;
    pthread_mutex_unlock(&k->mu);
    if (cn_sandbox_list(k->rt, &sbs, &nsb, &err) >= 0) {
        for (size_t i = 0; i < nsb; i++) {
            pthread_mutex_lock(&k->mu);
            bool live = cn_strmap_get(k->by_uid, sbs[i]) != NULL;
            pthread_mutex_unlock(&k->mu);
            if (!live) {
                cn_sandbox_remove(k->rt, sbs[i], &err);
                cn_err_clear(&err);
                char *dir = cn_asprintf("%s/pods/%s", k->data_dir, sbs[i]);
                cn_volumes_teardown(dir, &err);
                cn_err_clear(&err);
                cn_rm_rf(dir);
                free(dir);
            }
            free(sbs[i]);
        }
        free(sbs);
    }
    cn_err_clear(&err);
    cn_ctr_list_free(a.all, a.n);
    cn_info("agent: adopted %zu containers, removed %zu of pods that are gone", adopted, removed);
}

struct uids { char **v; size_t n, cap; };
static bool collect_uid(void *ud, const char *key, void *val)
{
    (void)val;
    struct uids *u = ud;
    if (u->n == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 32;
        u->v = cn_realloc(u->v, u->cap * sizeof *u->v);
    }
    u->v[u->n++] = cn_strdup(key);
    return true;
}

/* Once the node has its block: the bridge, then IPs of pods gone freed. */
static int open_net(cn_kubelet *k, cn_err *err)
{
    json_t *node = cn_informer_get(k->nodes, NULL, k->node_name);
    const char *cidr = cn_json_str_at(node, "spec.podCIDR");
    int r = 0;
    if (!cidr || !*cidr) {
        r = -EAGAIN;
        goto out;
    }
    char *dir = cn_asprintf("%s/net", k->data_dir);
    cn_podnet_config nc = { .dir = dir, .block = cidr };
    cn_podnet *net = NULL;
    r = cn_podnet_open(&nc, &net, err);
    free(dir);
    if (r < 0) goto out;
    struct uids u = { 0 };
    pthread_mutex_lock(&k->mu);
    cn_strmap_foreach(k->by_uid, collect_uid, &u);
    pthread_mutex_unlock(&k->mu);
    cn_podnet_ip_reconcile(net, (const char *const *)u.v, u.n);
    for (size_t i = 0; i < u.n; i++) free(u.v[i]);
    free(u.v);
    pthread_mutex_lock(&k->mu);
    k->net = net;
    k->pod_cidr = cn_strdup(cidr);
    pthread_mutex_unlock(&k->mu);
    cn_info("agent: pod network %s on bridge cairn0", cidr);
out:
    json_decref(node);
    return r;
}

/* ---- image garbage collection ---- */

static bool used_image(void *ud, const char *key, void *val)
{
    (void)key;
    struct uids *u = ud;
    kl_pod *p = val;
    for (size_t i = 0; i < p->nctrs; i++) {
        if (!p->ctrs[i].image_id) continue;
        if (u->n == u->cap) {
            u->cap = u->cap ? u->cap * 2 : 32;
            u->v = cn_realloc(u->v, u->cap * sizeof *u->v);
        }
        u->v[u->n++] = cn_strdup(p->ctrs[i].image_id);
    }
    return true;
}

static void image_gc(cn_kubelet *k)
{
    uint64_t used = 0, avail = 0;
    if (cn_image_disk_usage(k->images, &used, &avail) < 0) return;
    struct statvfs vfs;
    if (statvfs(k->data_dir, &vfs) < 0 || !vfs.f_blocks) return;
    uint64_t total = (uint64_t)vfs.f_blocks * vfs.f_frsize, free_b = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    uint64_t pct = (total - free_b) * 100 / total;
    if (pct < (uint64_t)k->cfg.image_gc_high) return;
    uint64_t want = (total - free_b) - total * (uint64_t)k->cfg.image_gc_low / 100;
    struct uids u = { 0 };
    pthread_mutex_lock(&k->mu);
    cn_strmap_foreach(k->by_uid, used_image, &u);
    pthread_mutex_unlock(&k->mu);
    uint64_t freed = 0;
    cn_err err = CN_ERR_INIT;
    if (cn_image_gc(k->images, (const char *const *)u.v, u.n, want, &freed, &err) < 0)
        cn_warn("agent: image garbage collection: %s", err.message ? err.message : "failed");
    else
        cn_info("agent: disk %llu%% used: image garbage collection freed %llu bytes", (unsigned long long)pct,
                (unsigned long long)freed);
    cn_err_clear(&err);
    for (size_t i = 0; i < u.n; i++) free(u.v[i]);
    free(u.v);
}

/* ---- run ---- */

static void defaults(cn_kubelet_config *c)
{
    if (!c->data_dir) c->data_dir = DEFAULT_DATA;
    if (!c->port) c->port = 10250;
    if (!c->reserved_cpu) c->reserved_cpu = "100m";
    if (!c->reserved_memory) c->reserved_memory = "256Mi";
    if (!c->max_pods) c->max_pods = 110;
    if (!c->heartbeat_ms) c->heartbeat_ms = 10000;
    if (!c->lease_duration_s) c->lease_duration_s = 40;
    if (!c->backoff_initial_ms) c->backoff_initial_ms = 10000;
    if (!c->backoff_max_ms) c->backoff_max_ms = 300000;
    if (!c->image_gc_high) c->image_gc_high = 85;
    if (!c->image_gc_low) c->image_gc_low = 80;
    if (!c->workers) c->workers = 8;
}

static void sleep_ms(volatile int *stop, int64_t ms)
{
    int64_t end = cn_now_ms() + ms;
    while (!*stop && cn_now_ms() < end) usleep(50000);
}

int cn_kubelet_run(const cn_kubelet_config *cfg, volatile int *stop, cn_err *err)
{
    /* A node agent should be small: glibc would give each of its ~20
     * threads an arena of its own, and RSS grows with them. */
    mallopt(M_ARENA_MAX, 2);
    cn_kubelet *k = cn_calloc(1, sizeof *k);
    k->cfg = *cfg;
    defaults(&k->cfg);
    k->stop = stop;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->probe_cv, NULL);
    cn_timerheap_init(&k->probes);
    k->by_uid = cn_strmap_new();
    k->by_key = cn_strmap_new();
    pthread_t *workers = NULL, probers[2];
    int nworkers = 0, nprobers = 0;
    cn_kubeletsrv *srv = NULL;
    int r;

    char host[256] = "";
    gethostname(host, sizeof host - 1);
    k->node_name = cn_strdup(cfg->node_name ? cfg->node_name : host);
    k->data_dir = cn_strdup(k->cfg.data_dir);
    k->node_ip = cfg->node_ip ? cn_strdup(cfg->node_ip) : default_node_ip();
    if (!k->node_ip) {
        r = cn_err_bad_request(err, "no --node-ip given and no IPv4 address found on an interface");
        goto out;
    }
    if ((r = cn_mkdir_p(k->data_dir, 0700)) < 0) {
        cn_err_set(err, 500, "InternalError", "data dir %s: %s", k->data_dir, strerror(-r));
        goto out;
    }
    if ((r = cn_client_new_kubeconfig(cfg->kubeconfig, &k->client, err)) < 0) goto out;
    cn_client_set_agent(k->client, "cairn-agent/" CN_KUBELET_VERSION);
    k->rec = cn_recorder_new(k->client, "kubelet");
    cn_runtime_config rc = { .dir = k->data_dir, .runc = cfg->runc, .on_exit = on_exit_cb, .ud = k };
    if ((r = cn_runtime_open(&rc, &k->rt, err)) < 0) goto out;
    char *imgdir = cn_asprintf("%s/images", k->data_dir);
    cn_image_store_config ic = { .dir = imgdir, .insecure = cfg->insecure, .ninsecure = cfg->ninsecure,
                                  .ca_file = cfg->registry_ca };
    r = cn_image_store_open(&ic, &k->images, err);
    free(imgdir);
    if (r < 0) goto out;

    cn_time_rfc3339(cn_wall_s(), since_time);
    while ((r = node_register(k, err)) < 0 && !*stop) {
        cn_warn("agent: registering node \"%s\": %s (retrying)", k->node_name, err->message ? err->message : "failed");
        cn_err_clear(err);
        sleep_ms(stop, 2000);
    }
    if (*stop) goto out;
    cn_info("agent: node \"%s\" registered (InternalIP %s)", k->node_name, k->node_ip);

    k->q = cn_workqueue_new(k->cfg.backoff_max_ms);
    k->nodes = cn_informer_new(k->client, "/api/v1/nodes");
    cn_informer_handler nh = { .on_add = on_node_change, .on_update = on_node_update, .on_delete = on_node_change, .ud = k };
    cn_informer_add_handler(k->nodes, &nh);
    char *sel = cn_asprintf("spec.nodeName=%s", k->node_name);
    char *esc = cn_client_escape(sel);
    char *ppath = cn_asprintf("/api/v1/pods?fieldSelector=%s", esc);
    k->pods = cn_informer_new(k->client, ppath);
    free(sel);
    free(esc);
    free(ppath);
    if ((r = cn_informer_start(k->nodes, err)) < 0 || (r = cn_informer_start(k->pods, err)) < 0) goto out;
    while (!*stop && !(cn_informer_wait_synced(k->nodes, 1000) && cn_informer_wait_synced(k->pods, 1000))) {}
    if (*stop) goto out;
    adopt_all(k);
    cn_informer_handler ph = { .on_add = on_pod_add, .on_update = on_pod_update, .on_delete = on_pod_delete, .ud = k };
    cn_informer_add_handler(k->pods, &ph);   /* tells of every cached pod first */

    workers = cn_calloc((size_t)k->cfg.workers, sizeof *workers);
    for (; nworkers < k->cfg.workers; nworkers++) pthread_create(&workers[nworkers], NULL, worker, k);
    for (; nprobers < 2; nprobers++) pthread_create(&probers[nprobers], NULL, probe_thread, k);

    cn_kubeletsrv_config sc = {
        .data_dir = k->data_dir, .port = k->cfg.port, .client_ca_pem = cn_client_ca_pem(k->client),
        .node_name = k->node_name, .node_ip = k->node_ip, .rt = k->rt, .lookup = cn_kl_lookup, .ud = k,
        .exec_fn = cn_ctr_exec,
    };
    if ((r = cn_kubeletsrv_start(&sc, &srv, err)) < 0) goto out;

    int64_t next_lease = cn_now_ms() + k->cfg.heartbeat_ms, next_status = cn_now_ms() + 60000;
    int64_t next_gc = cn_now_ms() + 300000, next_net_log = 0;
    while (!*stop) {
        int64_t now = cn_now_ms();
        cn_err e = CN_ERR_INIT;
        if (!k->net && open_net(k, &e) < 0 && now >= next_net_log) {
            cn_info("agent: waiting for the node IPAM controller to give node \"%s\" a podCIDR%s%s", k->node_name,
                    e.message ? ": " : "", e.message ? e.message : "");
            next_net_log = now + 10000;
        }
        cn_err_clear(&e);
        if (k->net && routes_dirty) {
            routes_dirty = 0;
            sync_routes(k);
        }
        if (now >= next_lease) {
            if (lease_renew(k, &e) < 0) cn_warn("agent: renewing lease: %s", e.message ? e.message : "failed");
            cn_err_clear(&e);
            next_lease = now + k->cfg.heartbeat_ms;
        }
        if (now >= next_status) {
            if (post_status(k, &e) < 0) cn_warn("agent: node status: %s", e.message ? e.message : "failed");
            cn_err_clear(&e);
            next_status = now + 60000;
        }
        if (now >= next_gc) {
            image_gc(k);
            next_gc = now + 300000;
        }
        sleep_ms(stop, 200);
    }
    r = 0;
out:
    cn_kubeletsrv_stop(srv);
    if (k->q) cn_workqueue_shutdown(k->q);
    for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
    pthread_mutex_lock(&k->mu);
    pthread_cond_broadcast(&k->probe_cv);
    pthread_mutex_unlock(&k->mu);
    for (int i = 0; i < nprobers; i++) pthread_join(probers[i], NULL);
    free(workers);
    cn_informer_free(k->pods);
    cn_informer_free(k->nodes);
    if (k->q) cn_workqueue_free(k->q);
    cn_strmap_free(k->by_uid, (void (*)(void *))cn_kl_pod_free);
    cn_strmap_free(k->by_key, free);
    cn_timerheap_release(&k->probes);
    if (k->net) cn_podnet_close(k->net);
    if (k->images) cn_image_store_close(k->images);
    if (k->rt) cn_runtime_close(k->rt);
    cn_recorder_free(k->rec);
    cn_client_free(k->client);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->probe_cv);
    free(k->node_name);
    free(k->node_ip);
    free(k->data_dir);
    free(k->node_uid);
    free(k->pod_cidr);
    free(k->ca_pem);
    free(k);
    return r;
}
