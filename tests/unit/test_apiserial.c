/* Unit tests of the API server hooks an embedding command uses (`cairn
 * bridge`): admission plugins added after start, serialized writes of one
 * API group (never two in admission at once), validating admission of
 * deletes, and a 409 from admission answered as is (not taken for a lost
 * write race and retried). Against a real server in this process. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/apiserver.h"
#include "client/client.h"
#include "lib/util.h"
#include "test.h"

static atomic_int in_flight, max_in_flight, deletes_seen;

static bool is_cm(const cn_admit_attrs *a) { return !a->res->group[0] && !strcmp(a->res->plural, "configmaps"); }

static int admit(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    (void)ud;
    (void)obj;
    if (!is_cm(a) || a->sub) return 0;
    if (a->op == CN_ADMIT_DELETE) {
        deletes_seen++;
        if (a->name && !strcmp(a->name, "keep"))
            return cn_err_set(err, 403, "Forbidden", "configmap \"keep\" is kept");
        return 0;
    }
    if (a->op == CN_ADMIT_UPDATE && a->name && !strcmp(a->name, "busy"))
        return cn_err_set(err, 409, "Conflict", "configmap \"busy\" has an operation in progress");
    int n = ++in_flight;
    int m = max_in_flight;
    while (n > m && !atomic_compare_exchange_weak(&max_in_flight, &m, n)) {}
    /* Long enough that unserialized writers would overlap. */
    struct timespec ts = { 0, 20 * 1000000L };
    nanosleep(&ts, NULL);
    in_flight--;
    return 0;
}

static bool hook_ran;

/* Plugins go in before the server listens. */
static int before_serve(cn_apiserver *s, void *ud, cn_err *err)
{
    (void)ud;
    (void)err;
    cn_apiserver_add_admission(s, false, "Test", admit, NULL);
    hook_ran = true;
    return 0;
}

struct writer {
    cn_client *c;
    int id;
    int created;
};

static void *write_some(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "w%d-%d", w->id, i);
        json_t *cm = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                               "metadata", "name", name, "data", "k", "v");
        cn_err err = CN_ERR_INIT;
        if (cn_client_create(w->c, "/api/v1/namespaces/default/configmaps", cm, NULL, &err) == 0) w->created++;
        cn_err_clear(&err);
        json_decref(cm);
    }
    return NULL;
}

static void test_serialized_group(void)
{
    char dir[] = "/tmp/cn-test-apiserial-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* The core group is serialized here: configmaps stand in for the fleet kinds. */
    cn_apiserver_config cfg = { .data_dir = dir, .listen = "127.0.0.1:0", .no_fsync = true, .serialize_group = "",
                                .before_serve = before_serve };
    cn_apiserver *srv = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_apiserver_start(&cfg, &srv, &err), 0);
    if (!srv) return;
    CHECK(hook_ran);
    static const char *const groups[] = { "system:masters", NULL };
    cn_client *c = NULL;
    CHECK_INT(cn_client_new_local(cn_apiserver_handle, srv, "test", groups, &c, &err), 0);

    struct writer w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){ c, i, 0 };
        pthread_create(&t[i], NULL, write_some, &w[i]);
    }
    int created = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        created += w[i].created;
    }
    CHECK_INT(created, 12);
    CHECK_INT(atomic_load(&max_in_flight), 1);

    /* Deletes pass validating admission, which may refuse them. */
    json_t *cm = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name", "keep");
    CHECK_INT(cn_client_create(c, "/api/v1/namespaces/default/configmaps", cm, NULL, &err), 0);
    json_decref(cm);
    CHECK(cn_client_delete(c, "/api/v1/namespaces/default/configmaps/keep", NULL, NULL, &err) < 0);
    CHECK_INT(err.code, 403);
    CHECK_STR(err.message, "configmap \"keep\" is kept");
    cn_err_clear(&err);
    CHECK_INT(cn_client_get(c, "/api/v1/namespaces/default/configmaps/keep", NULL, &err), 0);
    CHECK_INT(cn_client_delete(c, "/api/v1/namespaces/default/configmaps/w0-0", NULL, NULL, &err), 0);
    CHECK(atomic_load(&deletes_seen) >= 2);

    /* A 409 from admission is the answer, with its message. */
    cm = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name", "busy");
    CHECK_INT(cn_client_create(c, "/api/v1/namespaces/default/configmaps", cm, NULL, &err), 0);
    json_decref(cm);
    json_t *patch = json_pack("{s:{s:s}}", "data", "k", "2");
    CHECK(cn_client_patch(c, "/api/v1/namespaces/default/configmaps/busy", CN_PATCH_MERGE, patch, NULL, &err) < 0);
    CHECK_INT(err.code, 409);
    CHECK_STR(err.message, "configmap \"busy\" has an operation in progress");
    cn_err_clear(&err);
    json_decref(patch);

    cn_client_free(c);
    cn_apiserver_stop(srv);
    cn_rm_rf(dir);
}

int main(void)
{
    TEST_RUN(test_serialized_group);
    return TEST_DONE();
}
