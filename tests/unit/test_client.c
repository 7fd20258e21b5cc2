/* Unit tests of src/client: the work queue on its own; the local and
 * kubeconfig transports, watches and informers against a real API server
 * started in this process (SQLite in a temporary directory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/apiserver.h"
#include "client/client.h"
#include "client/events.h"
#include "client/informer.h"
#include "client/workqueue.h"
#include "lib/strmap.h"
#include "lib/util.h"
#include "test.h"

static void test_strmap(void)
{
    cn_strmap *m = cn_strmap_new();
    char k[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "k%d", i);
        CHECK(cn_strmap_put(m, k, (void *)(intptr_t)(i + 1)) == NULL);
    }
    CHECK_INT((int)cn_strmap_len(m), 1000);
    CHECK((intptr_t)cn_strmap_get(m, "k500") == 501);
    CHECK((intptr_t)cn_strmap_put(m, "k500", (void *)7) == 501);
    CHECK((intptr_t)cn_strmap_del(m, "k500") == 7);
    CHECK(!cn_strmap_has(m, "k500"));
    CHECK(cn_strmap_get(m, "nope") == NULL);
    CHECK_INT((int)cn_strmap_len(m), 999);
    cn_strmap_free(m, NULL);
}

static void test_workqueue(void)
{
    cn_workqueue *q = cn_workqueue_new(40);
    cn_workqueue_add(q, "a");
    cn_workqueue_add(q, "b");
    cn_workqueue_add(q, "a");                 /* deduplicated */
    CHECK_INT((int)cn_workqueue_len(q), 2);
    char *k = cn_workqueue_get(q);
    CHECK_STR(k, "a");
    cn_workqueue_add(q, "a");                 /* while processing: not handed out twice */
    char *k2 = cn_workqueue_get(q);
    CHECK_STR(k2, "b");
    CHECK(cn_workqueue_get_timeout(q, 20) == NULL);
    cn_workqueue_done(q, k);                  /* ... but queued again when done */
    char *k3 = cn_workqueue_get_timeout(q, 100);
    CHECK_STR(k3, "a");
    cn_workqueue_done(q, k2);
    cn_workqueue_done(q, k3);
    free(k); free(k2); free(k3);

    /* Backoff grows per key (5, 10, 20, 40 capped) and forget resets it. */
    for (int i = 0; i < 5; i++) cn_workqueue_add_rate_limited(q, "x");
    CHECK_INT(cn_workqueue_requeues(q, "x"), 5);
    int64_t t0 = cn_now_ms();
    k = cn_workqueue_get_timeout(q, 1000);
    CHECK_STR(k, "x");
    CHECK(cn_now_ms() - t0 < 900);
    cn_workqueue_done(q, k);
    free(k);
    cn_workqueue_forget(q, "x");
    CHECK_INT(cn_workqueue_requeues(q, "x"), 0);

    cn_workqueue_add_after(q, "later", 50);
    CHECK(cn_workqueue_get_timeout(q, 10) == NULL);
    k = cn_workqueue_get_timeout(q, 1000);
    CHECK_STR(k, "later");
    cn_workqueue_done(q, k);
    free(k);
    cn_workqueue_shutdown(q);
    CHECK(cn_workqueue_get(q) == NULL);
    cn_workqueue_free(q);

    char ns[254], name[254];
    CHECK(cn_key_split("default/web", ns, name));
    CHECK_STR(ns, "default");
    CHECK_STR(name, "web");
    CHECK(cn_key_split("node-1", ns, name) && !ns[0]);
    CHECK(!cn_key_split("a/b/c", ns, name));
    CHECK(!cn_key_split("/b", ns, name));
}

static void test_paths(void)
{
    char *p = cn_client_path("apps", "v1", "default", "deployments", "web", "scale");
    CHECK_STR(p, "/apis/apps/v1/namespaces/default/deployments/web/scale");
    free(p);
    p = cn_client_path("", "v1", NULL, "nodes", NULL, NULL);
    CHECK_STR(p, "/api/v1/nodes");
    free(p);
    p = cn_client_escape("app=web,tier in (a b)");
    CHECK_STR(p, "app%3Dweb%2Ctier%20in%20%28a%20b%29");
    free(p);
}

typedef struct seen {
    int adds, updates, deletes;
} seen;

static void on_add(void *ud, const json_t *o) { ((seen *)ud)->adds++; (void)o; }
static void on_update(void *ud, const json_t *a, const json_t *b) { ((seen *)ud)->updates++; (void)a; (void)b; }
static void on_delete(void *ud, const json_t *o) { ((seen *)ud)->deletes++; (void)o; }

static bool count(void *ud, const json_t *o) { (*(int *)ud)++; (void)o; return true; }

static json_t *configmap(const char *name, const char *v)
{
    return json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                     "metadata", "name", name, "data", "k", v);
}

static void exercise(cn_client *c, const char *tag)
{
    cn_err err = CN_ERR_INIT;
    json_t *out = NULL;
    char name[64];
    snprintf(name, sizeof name, "cm-%s", tag);
    json_t *cm = configmap(name, "1");
    CHECK_INT(cn_client_create(c, "/api/v1/namespaces/default/configmaps", cm, &out, &err), 0);
    CHECK_STR(cn_meta_str(out, "name"), name);
    json_decref(out);
    /* A second create is a 409 AlreadyExists carried in err. */
    CHECK(cn_client_create(c, "/api/v1/namespaces/default/configmaps", cm, NULL, &err) < 0);
    CHECK_INT(err.code, 409);
    CHECK_STR(err.reason, "AlreadyExists");
    cn_err_clear(&err);
    json_decref(cm);
    char *path = cn_client_path("", "v1", "default", "configmaps", name, NULL);
    json_t *patch = json_pack("{s:{s:s}}", "data", "k", "2");
    CHECK_INT(cn_client_patch(c, path, CN_PATCH_MERGE, patch, &out, &err), 0);
    CHECK_STR(cn_json_str_at(out, "data.k"), "2");
    json_decref(out);
    json_decref(patch);
    CHECK_INT(cn_client_delete(c, path, NULL, NULL, &err), 0);
    CHECK(cn_client_get(c, path, &out, &err) < 0);
    CHECK_INT(err.code, 404);
    CHECK_STR(err.reason, "NotFound");
    cn_err_clear(&err);
    free(path);
}

static void test_against_server(void)
{
    char dir[] = "/tmp/cn-test-client-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    cn_apiserver_config cfg = { .data_dir = dir, .listen = "127.0.0.1:0", .no_fsync = true };
    cn_apiserver *srv = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_apiserver_start(&cfg, &srv, &err), 0);
    if (!srv) return;

    static const char *const groups[] = { "system:masters", NULL };
    cn_client *local = NULL, *remote = NULL;
    CHECK_INT(cn_client_new_local(cn_apiserver_handle, srv, "test", groups, &local, &err), 0);
    CHECK_INT(cn_client_new_kubeconfig(cn_apiserver_kubeconfig(srv), &remote, &err), 0);
    exercise(local, "local");
    if (remote) exercise(remote, "remote");

    /* Informers over both transports see adds, updates and deletes. */
    cn_client *cs[2] = { local, remote };
    for (int t = 0; t < 2 && cs[t]; t++) {
        seen s = { 0 };
        cn_informer *inf = cn_informer_new(cs[t], "/api/v1/configmaps");
        cn_informer_handler h = { on_add, on_update, on_delete, &s };
        cn_informer_add_handler(inf, &h);
        CHECK_INT(cn_informer_start(inf, &err), 0);
        CHECK(cn_informer_wait_synced(inf, 5000));
        int before = s.adds;
        json_t *cm = configmap("watched", "1");
        CHECK_INT(cn_client_create(local, "/api/v1/namespaces/default/configmaps", cm, NULL, &err), 0);
        json_decref(cm);
        char *path = cn_client_path("", "v1", "default", "configmaps", "watched", NULL);
        json_t *patch = json_pack("{s:{s:s}}", "data", "k", "2");
        CHECK_INT(cn_client_patch(local, path, CN_PATCH_MERGE, patch, NULL, &err), 0);
        json_decref(patch);
        for (int i = 0; i < 100 && s.updates < 1; i++) usleep(20000);
        json_t *got = cn_informer_get(inf, "default", "watched");
        CHECK(got != NULL);
        CHECK_STR(cn_json_str_at(got, "data.k"), "2");
        CHECK_STR(json_string_value(json_object_get(got, "kind")), "ConfigMap");
        json_decref(got);
        int n = 0;
        cn_informer_foreach_ns(inf, "default", count, &n);
        CHECK(n >= 1);
        CHECK_INT(cn_client_delete(local, path, NULL, NULL, &err), 0);
        for (int i = 0; i < 100 && s.deletes < 1; i++) usleep(20000);
        CHECK_INT(s.adds, before + 1);
        CHECK(s.updates >= 1);
        CHECK_INT(s.deletes, 1);
        CHECK(cn_informer_get(inf, "default", "watched") == NULL);
        free(path);
        cn_informer_free(inf);
    }

    /* Events: a repeat bumps the count of the same Event. */
    cn_recorder *rec = cn_recorder_new(local, "test-component");
    json_t *obj = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "apiVersion", "v1", "kind", "Pod",
                            "metadata", "name", "p", "namespace", "default", "uid", "u-1");
    for (int i = 0; i < 3; i++) cn_recorder_event(rec, obj, "Warning", "FailedScheduling", "no nodes (%d)", 0);
    json_t *list = NULL;
    int64_t count_seen = 0;
    for (int i = 0; i < 100 && count_seen < 3; i++) {
        usleep(20000);
        if (cn_client_get(local, "/api/v1/namespaces/default/events", &list, &err) == 0) {
            json_t *item = json_array_get(json_object_get(list, "items"), 0);
            count_seen = json_integer_value(json_object_get(item, "count"));
            CHECK_INT((int)json_array_size(json_object_get(list, "items")), 1);
            json_decref(list);
        }
        cn_err_clear(&err);
    }
    CHECK_INT((int)count_seen, 3);
    json_decref(obj);
    cn_recorder_free(rec);

    cn_client_free(local);
    cn_client_free(remote);
    cn_apiserver_stop(srv);
    cn_err_clear(&err);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
}

int main(void)
{
    TEST_RUN(test_strmap);
    TEST_RUN(test_workqueue);
    TEST_RUN(test_paths);
    TEST_RUN(test_against_server);
    return TEST_DONE();
}
