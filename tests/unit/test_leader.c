/* Unit tests for leader election: two electors with different identities
 * on one SQLite store stand in for two servers on one etcd. Durations are
 * short (lease 1 s, the Lease field's unit; renew deadline 0.6 s; retry
 * 0.1 s) and every wait is on the elector's own condition with a bound.
 * Also: an in-process API server follows changes that reach its store
 * without passing through its REST layer (as writes through another
 * server do): CRDs become served and unserved, deleted namespaces are
 * finalized by the leader. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "api/leader.h"
#include "api/rest-internal.h"
#include "lib/util.h"
#include "store/store.h"
#include "test.h"

#define KEY "/registry/coordination.k8s.io/leases/kube-system/test-lease"

static char dir[] = "/tmp/cairn-test-leader-XXXXXX";

static cn_store *open_store(void)
{
    char *p = cn_asprintf("%s/state.db", dir);
    cn_store *s = NULL;
    CHECK_INT(cn_store_open_sqlite(p, &(cn_store_options){ .no_fsync = true }, &s, NULL), 0);
    free(p);
    return s;
}

static cn_leader *start(cn_store *s, const char *id)
{
    cn_leader_config c = { .key = KEY, .ns = "kube-system", .name = "test-lease", .identity = id,
                           .lease_ms = 1000, .renew_deadline_ms = 600, .retry_ms = 100 };
    cn_leader *l = NULL;
    CHECK_INT(cn_leader_start(s, &c, &l, NULL), 0);
    return l;
}

/* The stored lease's spec (new reference), or NULL. */
static json_t *lease_spec(cn_store *s)
{
    cn_kv kv = { 0 };
    if (cn_store_get(s, KEY, &kv, NULL) < 0) return NULL;
    json_t *o = json_loads(kv.value, 0, NULL);
    cn_kv_release(&kv);
    json_t *spec = json_incref(json_object_get(o, "spec"));
    json_decref(o);
    return spec;
}

static const char *spec_str(json_t *spec, const char *f)
{
    return json_string_value(json_object_get(spec, f));
}

static long long spec_int(json_t *spec, const char *f)
{
    return (long long)json_integer_value(json_object_get(spec, f));
}

static void test_config_checked(void)
{
    cn_store *s = open_store();
    cn_leader_config c = { .key = KEY, .ns = "kube-system", .name = "x", .identity = "a",
                           .lease_ms = 1000, .renew_deadline_ms = 1000, .retry_ms = 100 };
    cn_leader *l = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_leader_start(s, &c, &l, &e) < 0);
    CHECK(l == NULL);
    CHECK(e.message != NULL);
    cn_err_clear(&e);
    char *id = cn_leader_new_identity();
    CHECK(strchr(id, '_') != NULL);
    CHECK(strlen(strchr(id, '_') + 1) == 36);
    free(id);
    cn_store_free(s);
}

static void test_one_leader_and_takeover(void)
{
    cn_store *s = open_store();
    cn_store_delete(s, KEY, 0, NULL, NULL, NULL);
    cn_leader *a = start(s, "host-a_1");
    CHECK(cn_leader_wait(a, false, 3000));
    cn_leader *b = start(s, "host-b_2");
    /* b sees a valid lease held by a and stays follower. */
    CHECK(!cn_leader_wait(b, false, 500));
    CHECK(cn_leader_is_leader(a));

    json_t *spec = lease_spec(s);
    CHECK_STR(spec_str(spec, "holderIdentity"), "host-a_1");
    CHECK_INT(spec_int(spec, "leaseDurationSeconds"), 1);
    CHECK_INT(spec_int(spec, "leaseTransitions"), 0);
    const char *rt = spec_str(spec, "renewTime");
    CHECK(rt && strlen(rt) == 27 && rt[19] == '.' && rt[26] == 'Z');
    char *first_renew = cn_strdup(rt);
    json_decref(spec);

    /* Renewals advance renewTime while a holds. */
    usleep(300 * 1000);
    spec = lease_spec(s);
    CHECK(strcmp(spec_str(spec, "renewTime"), first_renew) > 0);
    CHECK_STR(spec_str(spec, "acquireTime"), spec_str(spec, "acquireTime"));
    json_decref(spec);
    free(first_renew);

    /* a dies without releasing: b must wait out the lease duration from
     * when it last saw the record change, and not less. */
    int64_t t0 = cn_now_ms();
    cn_leader_stop(a, false);
    CHECK(cn_leader_wait(b, false, 4000));
    int64_t took = cn_now_ms() - t0;
    CHECK(took >= 1000 - 150);   /* a's last renew may predate t0 by one retry */
    CHECK(took < 3000);
    spec = lease_spec(s);
    CHECK_STR(spec_str(spec, "holderIdentity"), "host-b_2");
    CHECK_INT(spec_int(spec, "leaseTransitions"), 1);
    json_decref(spec);

    /* b releases on a clean stop: a newcomer takes over at once. */
    cn_leader_stop(b, true);
    spec = lease_spec(s);
    CHECK_STR(spec_str(spec, "holderIdentity"), "");
    CHECK_INT(spec_int(spec, "leaseTransitions"), 1);
    json_decref(spec);
    t0 = cn_now_ms();
    cn_leader *c = start(s, "host-c_3");
    CHECK(cn_leader_wait(c, false, 3000));
    CHECK(cn_now_ms() - t0 < 500);
    spec = lease_spec(s);
    CHECK_STR(spec_str(spec, "holderIdentity"), "host-c_3");
    CHECK_INT(spec_int(spec, "leaseTransitions"), 2);
    json_decref(spec);
    cn_leader_stop(c, true);
    cn_store_free(s);
}

/* A leader that cannot renew (stuck thread, partition) stops being leader
 * after the renew deadline, before the lease expires for anyone else. */
static void test_renew_deadline(void)
{
    cn_store *s = open_store();
    cn_store_delete(s, KEY, 0, NULL, NULL, NULL);
    cn_leader *a = start(s, "host-a_1");
    CHECK(cn_leader_wait(a, false, 3000));
    cn_leader *b = start(s, "host-b_2");
    usleep(200 * 1000);
    CHECK(!cn_leader_is_leader(b));
    int64_t t0 = cn_now_ms();
    cn_leader_freeze(a, true);
    CHECK(!cn_leader_wait(a, true, 3000));
    int64_t lost = cn_now_ms() - t0;
    CHECK(lost <= 600 + 50);
    CHECK(!cn_leader_is_leader(a));
    /* b takes over only later: it waits out the full lease. */
    CHECK(!cn_leader_is_leader(b));
    CHECK(cn_leader_wait(b, false, 4000));
    CHECK(cn_now_ms() - t0 >= 1000 - 150);
    /* a, unfrozen, finds b holding the lease and stays follower. */
    cn_leader_freeze(a, false);
    CHECK(!cn_leader_wait(a, false, 500));
    CHECK(cn_leader_is_leader(b));
    json_t *spec = lease_spec(s);
    CHECK_STR(spec_str(spec, "holderIdentity"), "host-b_2");
    CHECK_INT(spec_int(spec, "leaseTransitions"), 1);
    json_decref(spec);
    cn_leader_stop(a, true);   /* not the holder: must not touch the lease */
    spec = lease_spec(s);
    CHECK_STR(spec_str(spec, "holderIdentity"), "host-b_2");
    json_decref(spec);
    cn_leader_stop(b, true);
    cn_store_free(s);
}

/* Someone else overwrites the lease (as another server winning a race
 * would): the leader turns follower on its next renew. */
static void test_lost_to_other_holder(void)
{
    cn_store *s = open_store();
    cn_store_delete(s, KEY, 0, NULL, NULL, NULL);
    cn_leader *a = start(s, "host-a_1");
    CHECK(cn_leader_wait(a, false, 3000));
    cn_kv kv = { 0 };
    CHECK_INT(cn_store_get(s, KEY, &kv, NULL), 0);
    json_t *o = json_loads(kv.value, 0, NULL);
    json_object_set_new(json_object_get(o, "spec"), "holderIdentity", json_string("intruder_9"));
    char *v = json_dumps(o, JSON_COMPACT);
    int r;
    do {   /* a may renew between our read and write: retry the CAS */
        r = cn_store_update(s, KEY, v, strlen(v), kv.mod_rev, NULL, NULL);
        if (r == -ESTALE) {
            cn_kv_release(&kv);
            CHECK_INT(cn_store_get(s, KEY, &kv, NULL), 0);
        }
    } while (r == -ESTALE);
    CHECK_INT(r, 0);
    free(v);
    json_decref(o);
    cn_kv_release(&kv);
    int64_t t0 = cn_now_ms();
    CHECK(!cn_leader_wait(a, true, 2000));
    CHECK(cn_now_ms() - t0 < 400);     /* one retry period, not the deadline */
    cn_leader_stop(a, true);
    cn_store_free(s);
}

/* Bounded wait for a condition the server reaches asynchronously. */
static bool eventually(bool (*cond)(cn_apiserver *s), cn_apiserver *s)
{
    for (int i = 0; i < 250; i++) {
        if (cond(s)) return true;
        usleep(20 * 1000);
    }
    return cond(s);
}

static bool gadgets_served(cn_apiserver *s)
{
    return cn_registry_lookup(s->reg, "example.com", "v1", "gadgets") != NULL;
}

static bool gadgets_unserved(cn_apiserver *s)
{
    return !gadgets_served(s);
}

static bool ns_gone(cn_apiserver *s)
{
    cn_kv kv = { 0 };
    int r = cn_store_get(s->store, "/registry/namespaces/gone", &kv, NULL);
    cn_kv_release(&kv);
    return r == -ENOENT && cn_store_get(s->store, "/registry/configmaps/gone/c1", &kv, NULL) == -ENOENT;
}

static int store_put(cn_apiserver *s, const char *key, const char *json)
{
    return cn_store_create(s->store, key, json, strlen(json), NULL, NULL);
}

static void test_server_follows_store(void)
{
    char *data = cn_asprintf("%s/server", dir);
    cn_apiserver_config cfg = { .data_dir = data, .listen = "127.0.0.1:0", .no_fsync = true,
                                .leader_lease_ms = 2000, .leader_renew_deadline_ms = 1500,
                                .leader_retry_ms = 200 };
    cn_apiserver *s = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_apiserver_start(&cfg, &s, &e);
    CHECK_INT(r, 0);
    if (r < 0) {
        fprintf(stderr, "start: %s\n", e.message);
        cn_err_clear(&e);
        free(data);
        return;
    }
    CHECK(cn_leader_wait(cn_apiserver_elector(s, CN_ROLE_CONTROLLER_MANAGER), false, 5000));
    CHECK(cn_leader_wait(cn_apiserver_elector(s, CN_ROLE_SCHEDULER), false, 5000));

    const char *crd_key = "/registry/apiextensions.k8s.io/customresourcedefinitions/gadgets.example.com";
    CHECK(!gadgets_served(s));
    CHECK_INT(store_put(s, crd_key,
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"gadgets.example.com\",\"uid\":\"u1\"},"
        "\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
        "\"names\":{\"plural\":\"gadgets\",\"singular\":\"gadget\",\"kind\":\"Gadget\","
        "\"listKind\":\"GadgetList\"},\"versions\":[{\"name\":\"v1\",\"served\":true,"
        "\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\","
        "\"x-kubernetes-preserve-unknown-fields\":true}}}]}}"), 0);
    CHECK(eventually(gadgets_served, s));
    CHECK_INT(cn_store_delete(s->store, crd_key, 0, NULL, NULL, NULL), 0);
    CHECK(eventually(gadgets_unserved, s));

    /* A namespace deleted through "another server": marked, with content. */
    CHECK_INT(store_put(s, "/registry/configmaps/gone/c1",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c1\","
        "\"namespace\":\"gone\",\"uid\":\"u2\"}}"), 0);
    CHECK_INT(store_put(s, "/registry/namespaces/gone",
        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"gone\","
        "\"uid\":\"u3\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
        "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Terminating\"}}"), 0);
    CHECK(eventually(ns_gone, s));

    cn_apiserver_stop(s);
    free(data);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    TEST_RUN(test_config_checked);
    TEST_RUN(test_one_leader_and_takeover);
    TEST_RUN(test_renew_deadline);
    TEST_RUN(test_lost_to_other_holder);
    TEST_RUN(test_server_follows_store);
    char *rm = cn_asprintf("rm -rf '%s/server'", dir);
    if (system(rm) != 0) fprintf(stderr, "cannot remove %s/server\n", dir);
    free(rm);
    char *db = cn_asprintf("%s/state.db", dir), *wal = cn_asprintf("%s-wal", db), *shm = cn_asprintf("%s-shm", db);
    unlink(db);
    unlink(wal);
    unlink(shm);
    rmdir(dir);
    free(db);
    free(wal);
    free(shm);
    return TEST_DONE();
}
