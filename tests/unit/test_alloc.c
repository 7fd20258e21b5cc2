/* Unit tests for Service address allocation (alloc.c) against a real
 * SQLite store: two "servers" (two allocators over one store, as in HA)
 * allocating from many threads never hand out one address twice; a taken
 * address is refused with upstream's words; claims go away with a failed
 * write, a type change and a delete; repair removes orphans and claims what
 * Services hold without a claim. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/rest-internal.h"
#include "lib/util.h"
#include "test.h"

#define IP_CLAIMS "/registry/cairn.io/serviceipclaims/"
#define PORT_CLAIMS "/registry/cairn.io/servicenodeportclaims/"

static char dir[256];

/* Two servers sharing one store and one registry. */
struct env {
    cn_store *store;
    cn_registry *reg;
    cn_apiserver srv[2];
};

static void env_open(struct env *e, const char *name, const char *cidr)
{
    memset(e, 0, sizeof *e);
    char *p = cn_asprintf("%s/%s.db", dir, name);
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_store_open_sqlite(p, &(cn_store_options){ .no_fsync = true }, &e->store, &err), 0);
    free(p);
    e->reg = cn_registry_new();
    for (int i = 0; i < 2; i++) {
        e->srv[i].store = e->store;
        e->srv[i].reg = e->reg;
        CHECK_INT(cn_alloc_new(cidr, &e->srv[i].alloc, &err), 0);
    }
    cn_err_clear(&err);
}

static void env_close(struct env *e)
{
    for (int i = 0; i < 2; i++) cn_alloc_free(e->srv[i].alloc);
    cn_registry_free(e->reg);
    cn_store_free(e->store);
}

static json_t *service(const char *name, const char *type, const char *ip, int node_port)
{
    char uid[37];
    cn_uuid(uid);
    json_t *port = json_pack("{s:i}", "port", 80);
    if (node_port) json_object_set_new(port, "nodePort", json_integer(node_port));
    json_t *spec = json_pack("{s:s,s:[o]}", "type", type, "ports", port);
    if (ip) json_object_set_new(spec, "clusterIP", json_string(ip));
    return json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:o}", "apiVersion", "v1", "kind", "Service",
                     "metadata", "name", name, "namespace", "default", "uid", uid, "spec", spec);
}

static const char *spec_str(const json_t *svc, const char *k)
{
    return json_string_value(json_object_get(json_object_get(svc, "spec"), k));
}

static json_int_t node_port(const json_t *svc)
{
    return json_integer_value(json_object_get(json_array_get(json_object_get(json_object_get(svc, "spec"), "ports"), 0), "nodePort"));
}

static int64_t count(cn_store *s, const char *prefix)
{
    int64_t n = -1;
    cn_store_count(s, prefix, &n, NULL);
    return n;
}

static bool exists(cn_store *s, const char *key)
{
    cn_kv kv = { 0 };
    bool ok = cn_store_get(s, key, &kv, NULL) == 0;
    cn_kv_release(&kv);
    return ok;
}

/* Store a Service as the REST layer would after allocation. */
static void store_service(cn_store *s, const json_t *svc)
{
    char *key = cn_asprintf("/registry/services/default/%s", json_string_value(json_object_get(json_object_get(svc, "metadata"), "name")));
    char *v = json_dumps(svc, JSON_COMPACT);
    CHECK_INT(cn_store_create(s, key, v, strlen(v), NULL, NULL), 0);
    free(v);
    free(key);
}

#define THREADS 8
#define PER_THREAD 4

struct worker {
    cn_apiserver *srv;
    int id;
    char ips[PER_THREAD][INET_ADDRSTRLEN + 1];
    int ports[PER_THREAD];
    int ok, full, other;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char name[32];
        snprintf(name, sizeof name, "s-%d-%d", w->id, i);
        json_t *svc = service(name, "NodePort", NULL, 0);
        cn_alloc_txn *t = NULL;
        cn_err e = CN_ERR_INIT;
        int r = cn_alloc_service(w->srv, svc, NULL, false, &t, &e);
        if (r == 0) {
            snprintf(w->ips[w->ok], sizeof w->ips[0], "%s", spec_str(svc, "clusterIP"));
            w->ports[w->ok] = (int)node_port(svc);
            w->ok++;
            cn_alloc_finish(w->srv, t, true);
        } else if (r == -ENOSPC && e.code == 500 && strstr(e.message, "failed to allocate a serviceIP: range is full")) {
            w->full++;
        } else {
            fprintf(stderr, "unexpected allocation failure %d: %s\n", r, e.message);
            w->other++;
        }
        cn_err_clear(&e);
        json_decref(svc);
    }
    return NULL;
}

/* 32 creates over a /28 (13 usable addresses) from 8 threads on two
 * servers: exactly 13 succeed, all distinct, the rest are "range is full". */
static void test_concurrent_no_duplicates(void)
{
    struct env env;
    env_open(&env, "concurrent", "10.9.0.0/28");
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].srv = &env.srv[i % 2];
        w[i].id = i;
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    int ok = 0, full = 0, other = 0, dups = 0;
    for (int i = 0; i < THREADS; i++) {
        ok += w[i].ok;
        full += w[i].full;
        other += w[i].other;
        for (int a = 0; a < w[i].ok; a++)
            for (int j = i; j < THREADS; j++)
                for (int b = (j == i ? a + 1 : 0); b < w[j].ok; b++) {
                    if (!strcmp(w[i].ips[a], w[j].ips[b])) dups++;
                    if (w[i].ports[a] == w[j].ports[b]) dups++;
                }
        for (int a = 0; a < w[i].ok; a++) {
            CHECK(strncmp(w[i].ips[a], "10.9.0.", 7) == 0);
            CHECK(strcmp(w[i].ips[a], "10.9.0.0") && strcmp(w[i].ips[a], "10.9.0.1") && strcmp(w[i].ips[a], "10.9.0.15"));
            CHECK(w[i].ports[a] >= 30000 && w[i].ports[a] <= 32767);
        }
    }
    CHECK_INT(dups, 0);
    CHECK_INT(ok, 13);
    CHECK_INT(full, THREADS * PER_THREAD - 13);
    CHECK_INT(other, 0);
    CHECK_INT(count(env.store, IP_CLAIMS), 13);
    CHECK_INT(count(env.store, PORT_CLAIMS), 13);
    env_close(&env);
}

/* A chosen address or port that is taken: 422 with upstream's message. */
static void test_taken_refused(void)
{
    struct env env;
    env_open(&env, "taken", "10.43.0.0/16");
    cn_err e = CN_ERR_INIT;
    cn_alloc_txn *t = NULL;
    json_t *a = service("a", "NodePort", "10.43.0.10", 30080);
    CHECK_INT(cn_alloc_service(&env.srv[0], a, NULL, false, &t, &e), 0);
    cn_alloc_finish(&env.srv[0], t, true);
    CHECK(exists(env.store, IP_CLAIMS "10.43.0.10"));
    CHECK(exists(env.store, PORT_CLAIMS "30080"));

    json_t *b = service("b", "ClusterIP", "10.43.0.10", 0);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, false, &t, &e), -EINVAL);
    CHECK_INT(e.code, 422);
    CHECK_STR(e.message, "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.43.0.10\"}: "
                         "failed to allocate IP 10.43.0.10: provided IP is already allocated");
    cn_err_clear(&e);
    json_decref(b);

    b = service("b", "NodePort", NULL, 30080);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, false, &t, &e), -EINVAL);
    CHECK_INT(e.code, 422);
    CHECK_STR(e.message, "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
    cn_err_clear(&e);
    /* The cluster IP picked before the port failed is released again. */
    CHECK_INT(count(env.store, IP_CLAIMS), 1);
    json_decref(b);

    /* Dry run checks, claims nothing. */
    b = service("b", "ClusterIP", "10.43.0.10", 0);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, true, &t, &e), -EINVAL);
    cn_err_clear(&e);
    json_decref(b);
    b = service("b", "NodePort", "10.43.0.11", 0);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, true, &t, &e), 0);
    CHECK(t == NULL);
    CHECK(node_port(b) > 0);
    CHECK_INT(count(env.store, IP_CLAIMS), 1);
    CHECK_INT(count(env.store, PORT_CLAIMS), 1);
    json_decref(b);

    /* Failed write: claims go; the address can be had again. */
    b = service("b", "ClusterIP", "10.43.0.12", 0);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, false, &t, &e), 0);
    CHECK(exists(env.store, IP_CLAIMS "10.43.0.12"));
    cn_alloc_finish(&env.srv[1], t, false);
    CHECK(!exists(env.store, IP_CLAIMS "10.43.0.12"));
    json_decref(b);

    /* Delete frees everything; a new Service may take the same values. */
    cn_alloc_release_service(&env.srv[1], a);
    CHECK_INT(count(env.store, IP_CLAIMS), 0);
    CHECK_INT(count(env.store, PORT_CLAIMS), 0);
    b = service("b", "NodePort", "10.43.0.10", 30080);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, false, &t, &e), 0);
    cn_alloc_finish(&env.srv[1], t, true);
    /* ...and a stale delete of the old owner does not free the new one's. */
    cn_alloc_release_service(&env.srv[0], a);
    CHECK(exists(env.store, IP_CLAIMS "10.43.0.10"));
    CHECK(exists(env.store, PORT_CLAIMS "30080"));
    json_decref(b);
    json_decref(a);
    cn_err_clear(&e);
    env_close(&env);
}

/* NodePort → ClusterIP drops the node ports (upstream's
 * dropTypeDependentFields) and their claims once the update is stored;
 * → ExternalName drops the cluster IP too. */
static void test_type_change(void)
{
    struct env env;
    env_open(&env, "typechange", "10.43.0.0/16");
    cn_err e = CN_ERR_INIT;
    cn_alloc_txn *t = NULL;
    json_t *old = service("np", "NodePort", NULL, 0);
    CHECK_INT(cn_alloc_service(&env.srv[0], old, NULL, false, &t, &e), 0);
    cn_alloc_finish(&env.srv[0], t, true);
    CHECK_INT(count(env.store, PORT_CLAIMS), 1);

    json_t *nw = json_deep_copy(old);
    json_object_set_new(json_object_get(nw, "spec"), "type", json_string("ClusterIP"));
    CHECK_INT(cn_alloc_service(&env.srv[1], nw, old, false, &t, &e), 0);
    CHECK_INT(node_port(nw), 0);
    CHECK_STR(spec_str(nw, "clusterIP"), spec_str(old, "clusterIP"));
    CHECK_INT(count(env.store, PORT_CLAIMS), 1);    /* not before the write */
    cn_alloc_finish(&env.srv[1], t, true);
    CHECK_INT(count(env.store, PORT_CLAIMS), 0);
    CHECK_INT(count(env.store, IP_CLAIMS), 1);

    json_t *en = json_deep_copy(nw);
    json_object_set_new(json_object_get(en, "spec"), "type", json_string("ExternalName"));
    json_object_set_new(json_object_get(en, "spec"), "externalName", json_string("example.com"));
    CHECK_INT(cn_alloc_service(&env.srv[0], en, nw, false, &t, &e), 0);
    CHECK(spec_str(en, "clusterIP") == NULL);
    cn_alloc_finish(&env.srv[0], t, true);
    CHECK_INT(count(env.store, IP_CLAIMS), 0);

    /* A failed update releases the new claims, keeps the old ones. */
    json_t *base = service("np2", "NodePort", NULL, 0);
    CHECK_INT(cn_alloc_service(&env.srv[0], base, NULL, false, &t, &e), 0);
    cn_alloc_finish(&env.srv[0], t, true);
    json_t *np2 = json_deep_copy(base);
    json_object_set_new(json_array_get(json_object_get(json_object_get(np2, "spec"), "ports"), 0), "nodePort",
                        json_integer(node_port(base) == 31111 ? 31112 : 31111));
    CHECK_INT(cn_alloc_service(&env.srv[0], np2, base, false, &t, &e), 0);
    CHECK_INT(count(env.store, PORT_CLAIMS), 2);
    cn_alloc_finish(&env.srv[0], t, false);
    CHECK_INT(count(env.store, PORT_CLAIMS), 1);
    char *k = cn_asprintf(PORT_CLAIMS "%lld", (long long)node_port(base));
    CHECK(exists(env.store, k));
    free(k);
    json_decref(base);
    json_decref(np2);
    json_decref(en);
    json_decref(nw);
    json_decref(old);
    cn_err_clear(&e);
    env_close(&env);
}

static void put_claim(cn_store *s, const char *key, const char *name, const char *uid, int64_t at)
{
    char *v = cn_asprintf("{\"namespace\":\"default\",\"name\":\"%s\",\"uid\":\"%s\",\"createdAt\":%lld}",
                          name, uid, (long long)at);
    CHECK_INT(cn_store_create(s, key, v, strlen(v), NULL, NULL), 0);
    free(v);
}

/* Orphans older than a minute go, young ones stay (a write may be in
 * flight), and Services stored without claims get them. */
static void test_repair(void)
{
    struct env env;
    env_open(&env, "repair", "10.43.0.0/16");
    cn_err e = CN_ERR_INIT;
    int64_t now = cn_wall_s();
    /* A Service from before claims existed. */
    json_t *legacy = service("legacy", "NodePort", "10.43.1.1", 30001);
    store_service(env.store, legacy);
    /* A Service holding its claims properly. */
    json_t *held = service("held", "ClusterIP", "10.43.1.2", 0);
    store_service(env.store, held);
    const char *held_uid = json_string_value(json_object_get(json_object_get(held, "metadata"), "uid"));
    put_claim(env.store, IP_CLAIMS "10.43.1.2", "held", held_uid, now - 3600);
    /* Orphans: no such Service; a Service that does not hold it; a uid
     * that is not the Service's (deleted and re-created). Plus a young one. */
    put_claim(env.store, IP_CLAIMS "10.43.2.1", "gone", "u-gone", now - 120);
    put_claim(env.store, PORT_CLAIMS "30002", "held", held_uid, now - 120);
    put_claim(env.store, IP_CLAIMS "10.43.2.2", "legacy", "u-other", now - 120);
    put_claim(env.store, IP_CLAIMS "10.43.2.3", "inflight", "u-new", now);

    CHECK_INT(cn_alloc_repair(&env.srv[0], &e), 0);
    CHECK(exists(env.store, IP_CLAIMS "10.43.1.1"));
    CHECK(exists(env.store, PORT_CLAIMS "30001"));
    CHECK(exists(env.store, IP_CLAIMS "10.43.1.2"));
    CHECK(!exists(env.store, IP_CLAIMS "10.43.2.1"));
    CHECK(!exists(env.store, PORT_CLAIMS "30002"));
    CHECK(!exists(env.store, IP_CLAIMS "10.43.2.2"));
    CHECK(exists(env.store, IP_CLAIMS "10.43.2.3"));
    CHECK_INT(count(env.store, IP_CLAIMS), 3);
    CHECK_INT(count(env.store, PORT_CLAIMS), 1);
    /* Claims are outside every resource's keys. */
    CHECK_INT(count(env.store, "/registry/services/"), 2);

    /* The repaired claim now protects the legacy Service's address. */
    cn_alloc_txn *t = NULL;
    json_t *b = service("b", "ClusterIP", "10.43.1.1", 0);
    CHECK_INT(cn_alloc_service(&env.srv[1], b, NULL, false, &t, &e), -EINVAL);
    CHECK_INT(e.code, 422);
    cn_err_clear(&e);
    /* A second pass changes nothing. */
    CHECK_INT(cn_alloc_repair(&env.srv[1], &e), 0);
    CHECK_INT(count(env.store, IP_CLAIMS), 3);
    CHECK_INT(count(env.store, PORT_CLAIMS), 1);
    json_decref(b);
    json_decref(held);
    json_decref(legacy);
    env_close(&env);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/cn-alloc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_concurrent_no_duplicates);
    TEST_RUN(test_taken_refused);
    TEST_RUN(test_type_change);
    TEST_RUN(test_repair);
    char *cmd = cn_asprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return TEST_DONE();
}
