/* test_deployment: the Deployment controller's pure decisions
 * (deployment_util.c): fenceposts, hashes, annotations, a simulated
 * rolling update that must never drop below replicas - maxUnavailable nor
 * exceed replicas + maxSurge, proportional scaling, conditions and the
 * revision-history cleanup. */
#include <stdlib.h>
#include <string.h>

#include "ctrl/deployment-internal.h"
#include "lib/util.h"
#include "test.h"

static json_t *dep(int replicas, const char *surge, const char *unavail)
{
    json_t *d = json_pack("{s:{s:s, s:s, s:I, s:{s:s}}, s:{s:I, s:{s:s, s:{}}, s:{s:{s:{s:s}}, s:{s:[{s:s, s:s}]}},"
                          " s:I, s:I}}",
                          "metadata", "name", "web", "namespace", "default", "generation", (json_int_t)1,
                          "annotations", "kubernetes.io/change-cause", "v1",
                          "spec", "replicas", (json_int_t)replicas, "strategy", "type", "RollingUpdate",
                          "rollingUpdate", "template", "metadata", "labels", "app", "web", "spec", "containers",
                          "name", "web", "image", "nginx:1", "revisionHistoryLimit", (json_int_t)2,
                          "progressDeadlineSeconds", (json_int_t)600);
    json_t *ru = json_object_get(json_object_get(json_object_get(d, "spec"), "strategy"), "rollingUpdate");
    if (surge) json_object_set_new(ru, "maxSurge", surge[strlen(surge) - 1] == '%' ? json_string(surge)
                                                                                  : json_integer(strtol(surge, NULL, 10)));
    if (unavail) json_object_set_new(ru, "maxUnavailable", unavail[strlen(unavail) - 1] == '%' ? json_string(unavail)
                                                                                            : json_integer(strtol(unavail, NULL, 10)));
    return d;
}

static json_t *rs(const char *name, int replicas, int available, int64_t created)
{
    char ts[32];
    cn_time_rfc3339(created, ts);
    return json_pack("{s:{s:s, s:s, s:s}, s:{s:I}, s:{s:I, s:I, s:I}}", "metadata", "name", name, "namespace", "default",
                     "creationTimestamp", ts, "spec", "replicas", (json_int_t)replicas, "status", "replicas",
                     (json_int_t)replicas, "readyReplicas", (json_int_t)available, "availableReplicas",
                     (json_int_t)available);
}

static void test_fenceposts(void)
{
    int64_t s, u;
    json_t *d = dep(10, "25%", "25%");
    cn_dep_fenceposts(d, &s, &u);
    CHECK_INT(s, 3);   /* 2.5 rounds up */
    CHECK_INT(u, 2);   /* 2.5 rounds down */
    json_decref(d);
    d = dep(3, "0", "0%");
    cn_dep_fenceposts(d, &s, &u);
    CHECK_INT(s, 0);
    CHECK_INT(u, 1);   /* both zero: one may be unavailable */
    json_decref(d);
    d = dep(2, "1", "5");
    CHECK_INT(cn_dep_max_unavailable(d), 2);   /* capped at replicas */
    CHECK_INT(cn_dep_max_surge(d), 1);
    json_decref(d);
    d = dep(4, NULL, NULL);   /* defaults 25% */
    CHECK_INT(cn_dep_max_surge(d), 1);
    CHECK_INT(cn_dep_max_unavailable(d), 1);
    json_object_set_new(json_object_get(json_object_get(d, "spec"), "strategy"), "type", json_string("Recreate"));
    CHECK_INT(cn_dep_max_surge(d), 0);
    CHECK_INT(cn_dep_max_unavailable(d), 0);
    json_decref(d);
}

static void test_hash(void)
{
    json_t *d = dep(3, NULL, NULL);
    const json_t *t = json_object_get(json_object_get(d, "spec"), "template");
    char a[16], b[16], c[16];
    cn_dep_hash(t, -1, a);
    cn_dep_hash(t, -1, b);
    cn_dep_hash(t, 1, c);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    for (const char *p = a; *p; p++) CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *p) != NULL);
    /* Go's zero values ("resources": {}) change neither equality nor hash. */
    json_t *t2 = json_deep_copy(t);
    json_t *c0 = json_array_get(json_object_get(json_object_get(t2, "spec"), "containers"), 0);
    json_object_set_new(c0, "resources", json_object());
    json_object_set_new(json_object_get(json_object_get(t2, "metadata"), "labels"), "pod-template-hash", json_string(a));
    CHECK(cn_dep_equal_ignore_hash(t, t2));
    cn_dep_hash(t2, -1, b);   /* hashes see the label: RS templates are never hashed */
    json_object_del(json_object_get(json_object_get(t2, "metadata"), "labels"), "pod-template-hash");
    cn_dep_hash(t2, -1, b);
    CHECK_STR(a, b);
    json_object_set_new(c0, "image", json_string("nginx:2"));
    CHECK(!cn_dep_equal_ignore_hash(t, t2));
    json_decref(t2);
    json_decref(d);
}

static void test_annotations(void)
{
    json_t *d = dep(3, "1", "0");
    json_t *r = rs("web-a", 0, 0, 100);
    CHECK(cn_dep_set_new_rs_annotations(d, r, 1, false));
    CHECK_STR(cn_dep_annotation(r, CN_DEP_REVISION), "1");
    CHECK_STR(cn_dep_annotation(r, CN_DEP_DESIRED), "3");
    CHECK_STR(cn_dep_annotation(r, CN_DEP_MAX), "4");
    CHECK_STR(cn_dep_annotation(r, "kubernetes.io/change-cause"), "v1");
    CHECK(!cn_dep_set_new_rs_annotations(d, r, 1, true));   /* nothing new */
    CHECK(cn_dep_set_new_rs_annotations(d, r, 3, true));    /* a rollback raises it */
    CHECK_STR(cn_dep_annotation(r, CN_DEP_REVISION), "3");
    CHECK_STR(cn_dep_annotation(r, CN_DEP_REVISION_HISTORY), "1");
    CHECK_INT(cn_dep_revision(r), 3);
    CHECK(cn_dep_set_revision(d, 3));
    CHECK(!cn_dep_set_revision(d, 3));
    CHECK_INT(cn_dep_revision(d), 3);
    json_decref(r);
    json_decref(d);
}

/* Plays a whole rolling update: each round the controller takes one step
 * on what the RS statuses say; pods of a shrunk RS go at once, new pods
 * become ready one round after they are asked for; statuses catch up only
 * every `lag` rounds (stale, as right after a scale-down). Real
 * availability never drops below replicas - maxUnavailable and the sizes
 * never exceed replicas + maxSurge. */
static void rollout(int replicas, const char *surge, const char *unavail, int lag)
{
    json_t *d = dep(replicas, surge, unavail);
    int64_t ms = cn_dep_max_surge(d), mu = cn_dep_max_unavailable(d);
    cn_rsv old, nw;
    json_t *o = rs("web-old", replicas, replicas, 100), *n = rs("web-new", 0, 0, 200);
    cn_rsv_init(&old, o);
    cn_rsv_init(&nw, n);
    cn_rsv *olds[] = { &old };
    cn_dep_plan p = { d, &nw, olds, 1 };
    int64_t old_ready = replicas, new_ready = 0, new_asked = 0;
    int rounds = 0;
    while ((nw.replicas != replicas || old.replicas != 0 || new_ready != replicas) && rounds < 200) {
        rounds++;
        if (!cn_dep_reconcile_new(&p)) cn_dep_reconcile_old(&p);
        CHECK(nw.replicas + old.replicas <= replicas + ms);
        if (old_ready > old.replicas) old_ready = old.replicas;     /* deleted at once */
        CHECK(old_ready + new_ready >= replicas - mu);
        new_ready = new_asked < nw.replicas ? new_asked : nw.replicas;   /* last round's pods are ready */
        new_asked = nw.replicas;
        if (rounds % lag == 0) {
            old.available = old.status_replicas = old_ready;
            nw.available = nw.status_replicas = new_ready;
        }
    }
    CHECK(rounds < 200);
    CHECK_INT(nw.replicas, replicas);
    CHECK_INT(old.replicas, 0);
    cn_rsv_release(&old);
    cn_rsv_release(&nw);
    json_decref(o);
    json_decref(n);
    json_decref(d);
}

static void test_rolling(void)
{
    for (int lag = 1; lag <= 3; lag++) {
        rollout(3, "25%", "25%", lag);
        rollout(10, "25%", "25%", lag);
        rollout(5, "0", "1", lag);
        rollout(5, "2", "0", lag);
        rollout(1, "1", "0", lag);
        rollout(7, "100%", "0", lag);
        rollout(20, "10%", "30%", lag);
    }
}

/* Old pods that are not available are removed first and cost nothing. */
static void test_unhealthy_first(void)
{
    json_t *d = dep(4, "0", "1");
    json_t *o = rs("web-old", 4, 2, 100), *n = rs("web-new", 0, 0, 200);
    cn_rsv old, nw;
    cn_rsv_init(&old, o);
    cn_rsv_init(&nw, n);
    cn_rsv *olds[] = { &old };
    cn_dep_plan p = { d, &nw, olds, 1 };
    CHECK(!cn_dep_reconcile_new(&p));   /* no surge: the new RS waits */
    CHECK(cn_dep_reconcile_old(&p));
    /* maxScaledDown = 4 - 3 - 0 = 1: one unhealthy pod goes; availability 2 < 3 so nothing more. */
    CHECK_INT(old.replicas, 3);
    cn_rsv_release(&old);
    cn_rsv_release(&nw);
    json_decref(o);
    json_decref(n);
    json_decref(d);
}

/* Right after a scale-down the old RS's status still counts the pods
 * being deleted: the next step must not trust it. Seen in e2e: 10
 * replicas, maxUnavailable 2, old RS just cut from 6 to 3 (status still
 * says 6 available), new RS 10 with 6 available. */
static void test_stale_status(void)
{
    json_t *d = dep(10, "25%", "25%");
    json_t *o = rs("web-old", 3, 6, 100), *n = rs("web-new", 10, 6, 200);
    cn_rsv old, nw;
    cn_rsv_init(&old, o);
    cn_rsv_init(&nw, n);
    cn_rsv *olds[] = { &old };
    cn_dep_plan p = { d, &nw, olds, 1 };
    CHECK(!cn_dep_reconcile_new(&p));
    cn_dep_reconcile_old(&p);
    /* Really available: 3 old + 6 new = 9; the floor is 8: one may go. */
    CHECK_INT(old.replicas, 2);
    cn_rsv_release(&old);
    cn_rsv_release(&nw);
    json_decref(o);
    json_decref(n);
    json_decref(d);
}

static void test_proportional(void)
{
    /* 10 replicas mid-rollout (surge 3): old 8, new 5; scaled to 20. */
    json_t *d = dep(20, "3", "2");
    json_t *o = rs("web-old", 8, 8, 100), *n = rs("web-new", 5, 0, 200);
    json_object_set_new(json_object_get(o, "metadata"), "annotations",
                        json_pack("{s:s, s:s}", CN_DEP_DESIRED, "10", CN_DEP_MAX, "13"));
    json_object_set_new(json_object_get(n, "metadata"), "annotations",
                        json_pack("{s:s, s:s}", CN_DEP_DESIRED, "10", CN_DEP_MAX, "13"));
    cn_rsv old, nw;
    cn_rsv_init(&old, o);
    cn_rsv_init(&nw, n);
    cn_rsv *olds[] = { &old };
    cn_dep_plan p = { d, &nw, olds, 1 };
    CHECK(cn_dep_is_scaling_event(&p));
    cn_dep_scale(&p);
    /* allowed 23 = 20 + 3; 10 to add: old 8*23/13 = 14.15 -> +6, new 5*23/13 = 8.8 -> +4. */
    CHECK_INT(old.replicas + nw.replicas, 23);
    CHECK_INT(old.replicas, 14);
    CHECK_INT(nw.replicas, 9);
    CHECK(old.touch && nw.touch);
    cn_rsv_release(&old);
    cn_rsv_release(&nw);
    json_decref(o);
    json_decref(n);
    json_decref(d);

    /* One active RS takes everything. */
    d = dep(2, NULL, NULL);
    n = rs("web-new", 5, 5, 200);
    cn_rsv_init(&nw, n);
    cn_dep_plan q = { d, &nw, NULL, 0 };
    cn_dep_scale(&q);
    CHECK_INT(nw.replicas, 2);
    cn_rsv_release(&nw);
    json_decref(n);
    json_decref(d);
}

static void test_status(void)
{
    json_t *d = dep(3, "1", "1");
    json_t *o = rs("web-old", 1, 1, 100), *n = rs("web-new", 3, 2, 200);
    cn_rsv old, nw;
    cn_rsv_init(&old, o);
    cn_rsv_init(&nw, n);
    cn_rsv *olds[] = { &old };
    cn_dep_plan p = { d, &nw, olds, 1 };
    json_t *st = cn_dep_calc_status(&p, 1000);
    CHECK_INT(json_integer_value(json_object_get(st, "replicas")), 4);
    CHECK_INT(json_integer_value(json_object_get(st, "updatedReplicas")), 3);
    CHECK_INT(json_integer_value(json_object_get(st, "availableReplicas")), 3);
    CHECK_INT(json_integer_value(json_object_get(st, "unavailableReplicas")), 1);
    CHECK_INT(json_integer_value(json_object_get(st, "observedGeneration")), 1);
    const json_t *c = cn_dep_cond(st, "Available");
    CHECK_STR(json_string_value(json_object_get(c, "reason")), CN_DEP_MIN_AVAILABLE);
    cn_dep_rollout_conditions(&p, st, 1000);
    c = cn_dep_cond(st, "Progressing");
    CHECK_STR(json_string_value(json_object_get(c, "reason")), CN_DEP_RS_UPDATED);
    CHECK_STR(json_string_value(json_object_get(c, "message")), "ReplicaSet \"web-new\" is progressing.");
    /* Stuck: the same status 601 s later times out. */
    json_object_set(d, "status", st);
    json_t *st2 = cn_dep_calc_status(&p, 1700);
    CHECK(cn_dep_timed_out(d, st2, 1700));
    CHECK_INT(cn_dep_requeue_after(d, st2, 1000), 601);
    cn_dep_rollout_conditions(&p, st2, 1700);
    c = cn_dep_cond(st2, "Progressing");
    CHECK_STR(json_string_value(json_object_get(c, "reason")), CN_DEP_TIMED_OUT);
    CHECK_STR(json_string_value(json_object_get(c, "status")), "False");
    /* Complete: NewReplicaSetAvailable. */
    old.replicas = old.status_replicas = old.available = 0;
    nw.available = 3;
    json_t *st3 = cn_dep_calc_status(&p, 1800);
    cn_dep_rollout_conditions(&p, st3, 1800);
    c = cn_dep_cond(st3, "Progressing");
    CHECK_STR(json_string_value(json_object_get(c, "reason")), CN_DEP_NEW_RS_AVAILABLE);
    CHECK(cn_dep_complete(d, st3));
    json_decref(st);
    json_decref(st2);
    json_decref(st3);
    cn_rsv_release(&old);
    cn_rsv_release(&nw);
    json_decref(o);
    json_decref(n);
    json_decref(d);
}

static void test_cleanup(void)
{
    json_t *d = dep(3, NULL, NULL);   /* revisionHistoryLimit 2 */
    json_t *objs[4];
    cn_rsv v[4];
    cn_rsv *olds[4];
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "web-%d", i);
        objs[i] = rs(name, i == 3 ? 1 : 0, 0, 100 + i);
        char rev[8];
        snprintf(rev, sizeof rev, "%d", 4 - i);   /* newest created has the oldest revision */
        json_object_set_new(json_object_get(objs[i], "metadata"), "annotations",
                            json_pack("{s:s}", CN_DEP_REVISION, rev));
        json_object_set_new(json_object_get(objs[i], "status"), "replicas", json_integer(0));
        cn_rsv_init(&v[i], objs[i]);
        olds[i] = &v[i];
    }
    cn_dep_plan p = { d, NULL, olds, 4 };
    size_t idx[4];
    size_t n = cn_dep_cleanup(&p, idx);
    /* 4 old, limit 2: the two lowest revisions (web-3 rev 1, web-2 rev 2)
     * are candidates; web-3 still has a replica, so only web-2 goes. */
    CHECK_INT(n, 1);
    CHECK_INT(idx[0], 2);
    for (int i = 0; i < 4; i++) {
        cn_rsv_release(&v[i]);
        json_decref(objs[i]);
    }
    json_decref(d);
}

int main(void)
{
    TEST_RUN(test_fenceposts);
    TEST_RUN(test_hash);
    TEST_RUN(test_annotations);
    TEST_RUN(test_rolling);
    TEST_RUN(test_unhealthy_first);
    TEST_RUN(test_stale_status);
    TEST_RUN(test_proportional);
    TEST_RUN(test_status);
    TEST_RUN(test_cleanup);
    return TEST_DONE();
}
