/* test_hostmon: the bridge's host monitor (bridge/hostmon.c). The pure
 * parts directly (heartbeat judgement on the bridge's clock, what to do
 * about a VM); then the whole loop against a fake bridge API in this
 * process (an in-memory store behind cn_client_new_local's handler, so no
 * server, no process, no socket): a host that stops heartbeating becomes
 * NotReady and its VMs move, recorded in a Failover Operation that ends
 * when they run elsewhere; it comes back Ready and one VM at a time is
 * rebalanced onto it; a host put in maintenance gets its VMs drained
 * (here: the cluster cannot be reached, so the drain gives up at once) and
 * moved, in a HostMaintenance Operation. Timing only bounds waits. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/fleet.h"
#include "bridge/hostmon.h"
#include "lib/http.h"
#include "lib/util.h"
#include "test.h"

/* ---- pure parts ---- */

static json_t *host_obj(const char *name, const char *hb, bool maint)
{
    return json_pack("{s:{s:s},s:{s:b,s:{s:i,s:s}},s:{s:s}}", "metadata", "name", name, "spec", "maintenance", maint,
                     "capacity", "cpu", 64, "memory", "256Gi", "status", "lastHeartbeatTime", hb);
}

static void test_tracker(void)
{
    cn_hb_tracker *t = cn_hb_tracker_new();
    char msg[200];
    /* The heartbeat's own time is never compared with a clock: an old
     * stamp that keeps changing is a live host. */
    json_t *h = host_obj("h1", "2000-01-01T00:00:00Z", false);
    CHECK_STR(cn_hb_observe(t, h, 1000, 5000, msg, sizeof msg), "Ready");
    CHECK_STR(msg, "");
    CHECK_STR(cn_hb_observe(t, h, 5999, 5000, msg, sizeof msg), "Ready");
    CHECK_STR(cn_hb_observe(t, h, 6000, 5000, msg, sizeof msg), "NotReady");
    CHECK_STR(msg, "no heartbeat for 5 s (last 2000-01-01T00:00:00Z)");
    /* A new heartbeat: Ready, and the grace starts again from here. */
    json_decref(h);
    h = host_obj("h1", "2000-01-01T00:00:01Z", false);
    CHECK_STR(cn_hb_observe(t, h, 7000, 5000, msg, sizeof msg), "Ready");
    CHECK_STR(cn_hb_observe(t, h, 11999, 5000, msg, sizeof msg), "Ready");
    CHECK_STR(cn_hb_observe(t, h, 12000, 5000, msg, sizeof msg), "NotReady");
    /* Maintenance wins over both. */
    json_decref(h);
    h = host_obj("h1", "2000-01-01T00:00:01Z", true);
    CHECK_STR(cn_hb_observe(t, h, 20000, 5000, msg, sizeof msg), "Maintenance");
    CHECK(strstr(msg, "maintenance") != NULL);
    /* A host that never heartbeated gets a full grace from first sight. */
    json_t *h2 = json_pack("{s:{s:s}}", "metadata", "name", "h2");
    CHECK_STR(cn_hb_observe(t, h2, 50000, 5000, msg, sizeof msg), "Ready");
    CHECK_STR(cn_hb_observe(t, h2, 55000, 5000, msg, sizeof msg), "NotReady");
    CHECK_STR(msg, "no heartbeat for 5 s (last never)");
    json_decref(h);
    json_decref(h2);
    cn_hb_tracker_free(t);
}

static void test_decide(void)
{
    json_t *w = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", "c1-np1-0", "spec", "role", "worker");
    json_t *cp = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", "c1-cp-0", "spec", "role", "controlPlane");
    json_t *gone = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "x", "deletionTimestamp", "2026-01-01T00:00:00Z",
                             "spec", "role", "worker");
    CHECK_INT(cn_hostmon_decide(w, "Ready", false), CN_MOVE_NONE);
    CHECK_INT(cn_hostmon_decide(w, "", false), CN_MOVE_NONE);
    CHECK_INT(cn_hostmon_decide(w, "NotReady", false), CN_MOVE_FAILOVER);
    CHECK_INT(cn_hostmon_decide(cp, "NotReady", false), CN_MOVE_FAILOVER);
    CHECK_INT(cn_hostmon_decide(w, "Maintenance", false), CN_MOVE_DRAIN);
    CHECK_INT(cn_hostmon_decide(w, "Maintenance", true), CN_MOVE_MAINTENANCE);
    CHECK_INT(cn_hostmon_decide(cp, "Maintenance", false), CN_MOVE_MAINTENANCE);
    CHECK_INT(cn_hostmon_decide(gone, "NotReady", false), CN_MOVE_NONE);
    json_decref(w);
    json_decref(cp);
    json_decref(gone);
}

/* ---- a fake bridge API ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *store;     /* plural -> array of objects */
static int beats;         /* heartbeat counter */

static json_t *coll(const char *plural)
{
    json_t *a = json_object_get(store, plural);
    if (!a) json_object_set_new(store, plural, a = json_array());
    return a;
}

static json_t *named(json_t *arr, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) if (!strcmp(cn_meta_str(o, "name"), name)) return o;
    return NULL;
}

static void answer(cn_http_req *r, int code, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    cn_http_respond(r, code, "application/json", s, strlen(s));
    free(s);
    json_decref(body);
}

/* /apis/fleet.cairn.io/v1/<plural>[/<name>[/status]]: list, create,
 * merge-patch. Anything else (the clusters' Secrets) is 404. */
static void fake_api(cn_http_req *r, void *ud)
{
    (void)ud;
    const char *path = cn_http_path(r), *method = cn_http_method(r);
    const char *pre = "/apis/fleet.cairn.io/v1/";
    char plural[64] = "", name[128] = "", sub[16] = "";
    if (strncmp(path, pre, strlen(pre))) {
        answer(r, 404, json_pack("{s:s,s:s,s:s,s:i}", "kind", "Status", "reason", "NotFound", "message", "not found",
                                 "code", 404));
        return;
    }
    sscanf(path + strlen(pre), "%63[^/]/%127[^/]/%15s", plural, name, sub);
    size_t len;
    const char *body = cn_http_body(r, &len);
    json_t *in = len ? json_loadb(body, len, 0, NULL) : NULL;
    pthread_mutex_lock(&lock);
    json_t *c = coll(plural);
    if (!strcmp(method, "GET") && !*name) {
        answer(r, 200, json_pack("{s:O}", "items", c));
    } else if (!strcmp(method, "POST") && !*name && in) {
        json_object_del(in, "status");   /* a status subresource */
        json_array_append(c, in);
        answer(r, 201, json_incref(in));
    } else if (!strcmp(method, "PATCH") && *name && named(c, name) && in) {
        json_t *o = named(c, name);
        /* spec through the object, status through /status. */
        json_object_del(in, *sub ? "spec" : "status");
        json_object_update_recursive(o, in);
        answer(r, 200, json_incref(o));
    } else {
        answer(r, 404, json_pack("{s:s,s:s,s:s,s:i}", "kind", "Status", "reason", "NotFound", "message", "not found",
                                 "code", 404));
    }
    pthread_mutex_unlock(&lock);
    json_decref(in);
}

/* The fake's hosts: every live one heartbeats; every VM runs where it is
 * assigned (as the hosts would start it) unless its host is dead. */
static bool dead[4];
static volatile bool stop_beats;

static void *beat_main(void *arg)
{
    (void)arg;
    while (!stop_beats) {
        pthread_mutex_lock(&lock);
        beats++;
        char hb[32];
        snprintf(hb, sizeof hb, "beat-%d", beats);
        size_t i;
        json_t *o;
        json_array_foreach(coll("hosts"), i, o) {
            const char *n = cn_meta_str(o, "name");
            if (dead[n[1] - '0']) continue;
            json_object_set_new(json_object_get(o, "status"), "lastHeartbeatTime", json_string(hb));
        }
        json_array_foreach(coll("virtualmachines"), i, o) {
            const char *h = cn_json_str_at(o, "spec.host");
            if (dead[h[1] - '0']) continue;
            json_object_set_new(o, "status", json_pack("{s:s,s:s}", "phase", "Running", "host", h));
        }
        pthread_mutex_unlock(&lock);
        usleep(50000);
    }
    return NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read under the lock: a string at a dotted path of a named object. */
static char *get(const char *plural, const char *name, const char *dotted)
{
    pthread_mutex_lock(&lock);
    json_t *o = named(coll(plural), name);
    char *s = cn_strdup(o ? cn_json_str_at(o, dotted) : "");
    pthread_mutex_unlock(&lock);
    return s;
}

static bool is_str(const char *plural, const char *name, const char *dotted, const char *want)
{
    char *s = get(plural, name, dotted);
    bool ok = !strcmp(s, want);
    if (!ok) fprintf(stderr, "  %s/%s %s = \"%s\", want \"%s\"\n", plural, name, dotted, s, want);
    free(s);
    return ok;
}

static bool wait_str(const char *plural, const char *name, const char *dotted, const char *want)
{
    for (int64_t end = now_ms() + 30000; now_ms() < end; usleep(20000)) {
        char *s = get(plural, name, dotted);
        bool ok = !strcmp(s, want);
        free(s);
        if (ok) return true;
    }
    char *s = get(plural, name, dotted);
    fprintf(stderr, "  %s/%s %s = \"%s\", want \"%s\"\n", plural, name, dotted, s, want);
    free(s);
    return false;
}

static int count_on(const char *host)
{
    int n = 0;
    pthread_mutex_lock(&lock);
    size_t i;
    json_t *o;
    json_array_foreach(coll("virtualmachines"), i, o) n += !strcmp(cn_json_str_at(o, "spec.host"), host);
    pthread_mutex_unlock(&lock);
    return n;
}

static bool wait_count(const char *host, int want)
{
    for (int64_t end = now_ms() + 30000; now_ms() < end; usleep(20000))
        if (count_on(host) == want) return true;
    fprintf(stderr, "  %d VMs on %s, want %d\n", count_on(host), host, want);
    return false;
}

static void test_loop(void)
{
    store = json_object();
    /* Three hosts, a network, a 1+3 cluster placed by the fleet model. */
    json_t *hosts = json_array(), *lnets = json_array(), *clusters = json_array();
    for (int i = 1; i <= 3; i++) {
        char n[8];
        snprintf(n, sizeof n, "h%d", i);
        json_t *h = host_obj(n, "", false);
        json_array_append_new(hosts, h);
    }
    json_array_append_new(lnets, json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s,s:[s],s:s,s:[{s:s,s:s,s:s}]}}", "apiVersion",
                                           "fleet.cairn.io/v1", "kind", "LogicalNetwork", "metadata", "name", "lnet1",
                                           "spec", "addressPrefix", "10.220.0.0/24", "gateway", "10.220.0.1",
                                           "dnsServers", "10.220.0.1", "vmSwitchName", "vmswitch", "ipPools", "name",
                                           "vms", "start", "10.220.0.100", "end", "10.220.0.199"));
    json_t *c = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:{s:i},s:[{s:s,s:i}]}}", "apiVersion", "fleet.cairn.io/v1", "kind",
                          "Cluster", "metadata", "name", "c1", "spec", "logicalNetwork", "lnet1", "controlPlane",
                          "count", 1, "nodePools", "name", "np1", "count", 3);
    cn_fleet_default_cluster(c);
    json_array_append_new(clusters, c);
    cn_fleet *f = cn_fleet_new(hosts, lnets, clusters, NULL);
    json_t *cr = NULL, *rm = NULL;
    char *ep = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_fleet_plan_cluster(f, "c1", NULL, 0, &cr, &rm, &ep, &err), 0);
    cn_fleet_free(f);
    json_object_set_new(c, "status", json_pack("{s:s,s:s,s:s}", "provisioningState", "Succeeded", "health", "Healthy",
                                               "controlPlaneEndpoint", ep ? ep : ""));
    json_object_set(store, "hosts", hosts);
    json_object_set(store, "logicalnetworks", lnets);
    json_object_set(store, "clusters", clusters);
    json_object_set(store, "virtualmachines", cr ? cr : json_array());
    CHECK_INT(json_array_size(cr), 4);
    CHECK_INT(count_on("h1") + count_on("h2") + count_on("h3"), 4);
    int on_h1 = count_on("h1");
    CHECK(on_h1 >= 1);

    pthread_t beat;
    stop_beats = false;
    pthread_create(&beat, NULL, beat_main, NULL);
    cn_client *cl = NULL;
    CHECK_INT(cn_client_new_local(fake_api, NULL, "bridge", NULL, &cl, &err), 0);
    cn_hostmon *m = NULL;
    cn_hostmon_config cfg = { .grace_ms = 3000, .period_ms = 100, .drain_timeout_s = 2 };
    CHECK_INT(cn_hostmon_start(cl, &cfg, &m, &err), 0);
    CHECK(wait_str("hosts", "h1", "status.phase", "Ready"));

    /* h1 dies: NotReady after the grace, its VMs move, an Operation. */
    pthread_mutex_lock(&lock);
    dead[1] = true;
    pthread_mutex_unlock(&lock);
    CHECK(wait_str("hosts", "h1", "status.phase", "NotReady"));
    char *msg = get("hosts", "h1", "status.message");
    CHECK(!strncmp(msg, "no heartbeat for ", 17));
    free(msg);
    CHECK(wait_count("h1", 0));
    CHECK(is_str("hosts", "h2", "status.phase", "Ready"));
    CHECK(wait_str("operations", "h1-failover-1", "spec.type", "Failover"));
    /* ...and it ends once they run elsewhere (the fake hosts start them). */
    CHECK(wait_str("operations", "h1-failover-1", "status.provisioningState", "Succeeded"));
    msg = get("operations", "h1-failover-1", "status.message");
    CHECK_STR(msg, "every VM of host h1 runs on another host");
    free(msg);

    /* h1 returns: Ready; rebalancing brings VMs back, one at a time, the
     * workers after a drain (which gives up here: no cluster to reach). */
    pthread_mutex_lock(&lock);
    dead[1] = false;
    pthread_mutex_unlock(&lock);
    CHECK(wait_str("hosts", "h1", "status.phase", "Ready"));
    CHECK(wait_count("h1", 1));
    int total = count_on("h1") + count_on("h2") + count_on("h3");
    CHECK_INT(total, 4);
    CHECK(is_str("operations", "h1-failover-1", "status.provisioningState", "Succeeded"));

    /* h3 into maintenance: Maintenance, VMs drained and moved off. */
    pthread_mutex_lock(&lock);
    json_object_set_new(json_object_get(named(coll("hosts"), "h3"), "spec"), "maintenance", json_true());
    pthread_mutex_unlock(&lock);
    CHECK(wait_str("hosts", "h3", "status.phase", "Maintenance"));
    CHECK(wait_count("h3", 0));
    CHECK(wait_str("operations", "h3-hostmaintenance-1", "spec.type", "HostMaintenance"));
    CHECK(wait_str("operations", "h3-hostmaintenance-1", "status.provisioningState", "Succeeded"));
    CHECK_INT(count_on("h1") + count_on("h2"), 4);

    cn_hostmon_stop(m);
    stop_beats = true;
    pthread_join(beat, NULL);
    cn_client_free(cl);
    json_decref(cr);
    json_decref(rm);
    free(ep);
    json_decref(hosts);
    json_decref(lnets);
    json_decref(clusters);
    json_decref(store);
    cn_err_clear(&err);
}

int main(void)
{
    TEST_RUN(test_tracker);
    TEST_RUN(test_decide);
    TEST_RUN(test_loop);
    return TEST_DONE();
}
