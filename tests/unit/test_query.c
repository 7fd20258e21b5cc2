/* Unit tests for query parameter parsing and continue tokens. */
#include <stdlib.h>
#include <string.h>

#include "api/query.h"
#include "lib/util.h"
#include "test.h"

/* A query string as a NULL-terminated list of name, value pairs. */
static const char *get(void *ud, const char *name)
{
    const char *const *kv = ud;
    for (size_t i = 0; kv[i]; i += 2)
        if (!strcmp(kv[i], name)) return kv[i + 1];
    return NULL;
}

static int parse(const char *const *kv, cn_query *q, cn_err *e)
{
    return cn_query_parse(get, (void *)kv, q, e);
}

static void test_defaults(void)
{
    const char *kv[] = { "timeout", "32s", NULL };   /* unknown parameters are ignored */
    cn_query q;
    cn_err e = CN_ERR_INIT;
    CHECK(parse(kv, &q, &e) == 0);
    CHECK(q.label_selector == NULL);
    CHECK(q.field_selector == NULL);
    CHECK_INT(q.limit, 0);
    CHECK(q.continue_token == NULL);
    CHECK(q.resource_version == NULL);
    CHECK(!q.watch);
    CHECK(!q.dry_run);
    CHECK_INT(q.field_validation, CN_FV_STRICT_DEFAULT);
    CHECK_INT(q.include_object, CN_INCLUDE_METADATA);
    CHECK_INT(q.grace_period_seconds, -1);
    CHECK_INT(q.tail_lines, -1);
    CHECK(q.propagation_policy == NULL);
    CHECK_INT(e.code, 0);
}

static void test_kubectl_requests(void)
{
    cn_query q;
    cn_err e = CN_ERR_INIT;
    const char *list[] = { "limit", "500", "labelSelector", "tier in (api,db),!canary",
                           "fieldSelector", "metadata.name=x", "continue", "abc", NULL };
    CHECK(parse(list, &q, &e) == 0);
    CHECK_INT(q.limit, 500);
    CHECK_STR(q.label_selector, "tier in (api,db),!canary");
    CHECK_STR(q.field_selector, "metadata.name=x");
    CHECK_STR(q.continue_token, "abc");

    const char *watch[] = { "allowWatchBookmarks", "true", "fieldSelector", "metadata.name=X",
                            "resourceVersion", "123", "timeoutSeconds", "417", "watch", "true",
                            "sendInitialEvents", "false", NULL };
    CHECK(parse(watch, &q, &e) == 0);
    CHECK(q.watch);
    CHECK(q.allow_bookmarks);
    CHECK(!q.send_initial_events);
    CHECK_INT(q.timeout_seconds, 417);
    CHECK_STR(q.resource_version, "123");

    const char *w1[] = { "watch", "1", NULL };
    CHECK(parse(w1, &q, &e) == 0);
    CHECK(q.watch);
    const char *w0[] = { "watch", "false", NULL };
    CHECK(parse(w0, &q, &e) == 0);
    CHECK(!q.watch);

    const char *create[] = { "fieldManager", "kubectl-create", "fieldValidation", "Strict",
                             "dryRun", "All", NULL };
    CHECK(parse(create, &q, &e) == 0);
    CHECK_STR(q.field_manager, "kubectl-create");
    CHECK_INT(q.field_validation, CN_FV_STRICT);
    CHECK(q.dry_run);

    const char *ssa[] = { "fieldManager", "kubectl", "fieldValidation", "Ignore", "force", "true", NULL };
    CHECK(parse(ssa, &q, &e) == 0);
    CHECK(q.force);
    CHECK_INT(q.field_validation, CN_FV_IGNORE);
    const char *warn[] = { "fieldValidation", "Warn", NULL };
    CHECK(parse(warn, &q, &e) == 0);
    CHECK_INT(q.field_validation, CN_FV_WARN);

    const char *del[] = { "gracePeriodSeconds", "0", "propagationPolicy", "Foreground", NULL };
    CHECK(parse(del, &q, &e) == 0);
    CHECK_INT(q.grace_period_seconds, 0);
    CHECK_STR(q.propagation_policy, "Foreground");

    const char *logs[] = { "container", "main", "follow", "true", "tailLines", "5", NULL };
    CHECK(parse(logs, &q, &e) == 0);
    CHECK_STR(q.container, "main");
    CHECK(q.follow);
    CHECK_INT(q.tail_lines, 5);

    const char *sort[] = { "includeObject", "Object", NULL };
    CHECK(parse(sort, &q, &e) == 0);
    CHECK_INT(q.include_object, CN_INCLUDE_OBJECT);
    const char *none[] = { "includeObject", "None", "resourceVersionMatch", "NotOlderThan",
                           "resourceVersion", "0", NULL };
    CHECK(parse(none, &q, &e) == 0);
    CHECK_INT(q.include_object, CN_INCLUDE_NONE);
    CHECK_STR(q.resource_version_match, "NotOlderThan");
    CHECK_INT(e.code, 0);
}

static void expect_400(const char *name, const char *value, const char *msg_part)
{
    const char *kv[] = { name, value, NULL };
    cn_query q;
    q.limit = 12345;
    cn_err e = CN_ERR_INIT;
    CHECK(parse(kv, &q, &e) < 0);
    CHECK_INT(e.code, 400);
    CHECK_STR(e.reason, "BadRequest");
    CHECK_INT(q.limit, 12345);   /* output untouched on failure */
    if (msg_part && !(e.message && strstr(e.message, msg_part))) {
        fprintf(stderr, "  %s=%s: message \"%s\" lacks \"%s\"\n", name, value,
                e.message ? e.message : "(null)", msg_part);
        CHECK(0);
    }
    cn_err_clear(&e);
}

static void test_bad_values(void)
{
    expect_400("limit", "-1", "limit");
    expect_400("limit", "ten", "limit");
    expect_400("limit", "10x", NULL);
    expect_400("limit", "", NULL);
    expect_400("limit", "99999999999999999999", NULL);
    expect_400("timeoutSeconds", "-5", "timeoutSeconds");
    expect_400("timeoutSeconds", "5s", NULL);
    expect_400("tailLines", "-1", NULL);
    expect_400("gracePeriodSeconds", "soon", NULL);
    expect_400("watch", "yes", "watch");
    expect_400("follow", "2", NULL);
    expect_400("dryRun", "Server", "Unsupported value: \"Server\": supported values: \"All\"");
    expect_400("dryRun", "", "Unsupported value");
    expect_400("fieldValidation", "strict", "Unsupported value: \"strict\"");
    expect_400("propagationPolicy", "Cascade",
               "supported values: \"Foreground\", \"Background\", \"Orphan\"");
    expect_400("includeObject", "All", NULL);
    expect_400("resourceVersionMatch", "Newest", NULL);
    char longmgr[200];
    memset(longmgr, 'm', sizeof longmgr - 1);
    longmgr[sizeof longmgr - 1] = '\0';
    expect_400("fieldManager", longmgr, "fieldManager");
    expect_400("fieldManager", "bad\nmanager", NULL);
    /* exactly 128 is fine */
    longmgr[128] = '\0';
    const char *kv[] = { "fieldManager", longmgr, NULL };
    cn_query q;
    cn_err e = CN_ERR_INIT;
    CHECK(parse(kv, &q, &e) == 0);
}

static void test_grace_negative(void)
{
    const char *kv[] = { "gracePeriodSeconds", "-3", NULL };
    cn_query q;
    cn_err e = CN_ERR_INIT;
    CHECK(parse(kv, &q, &e) == 0);
    CHECK_INT(q.grace_period_seconds, 1);
}

static void test_continue(void)
{
    cn_err e = CN_ERR_INIT;
    int64_t rv = 0;
    char *key = NULL;
    char *tok = cn_continue_encode(42, "/registry/configmaps/ns/b");
    CHECK(tok != NULL);
    CHECK(tok && !strchr(tok, '=') && !strchr(tok, '+') && !strchr(tok, '/'));   /* URL-safe */
    CHECK(cn_continue_decode(tok, &rv, &key, &e) == 0);
    CHECK_INT(rv, 42);
    CHECK_STR(key, "/registry/configmaps/ns/b");
    free(key);
    key = NULL;
    free(tok);

    /* every length mod 3 survives the round trip */
    const char *keys[] = { "a", "ab", "abc", "abcd", "/x/\xc3\xa9/y", NULL };
    for (int i = 0; keys[i]; i++) {
        tok = cn_continue_encode(i + 1, keys[i]);
        CHECK(cn_continue_decode(tok, &rv, &key, &e) == 0);
        CHECK_STR(key, keys[i]);
        CHECK_INT(rv, i + 1);
        free(key);
        key = NULL;
        free(tok);
    }

    /* a hand-made standard-alphabet, padded token is accepted too:
     * {"v":1,"rv":7,"start":"k"} */
    CHECK(cn_continue_decode("eyJ2IjoxLCJydiI6Nywic3RhcnQiOiJrIn0=", &rv, &key, &e) == 0);
    CHECK_INT(rv, 7);
    CHECK_STR(key, "k");
    free(key);
    key = NULL;

    static const char *const bad[] = {
        "",
        "!!!!",
        "a",
        "e30",                                           /* {} */
        "eyJ2IjoxLCJydiI6N30",                           /* {"v":1,"rv":7} */
        "eyJ2IjoyLCJydiI6Nywic3RhcnQiOiJrIn0",           /* v=2 */
        "eyJ2IjoxLCJydiI6LTEsInN0YXJ0IjoiayJ9",          /* rv=-1 */
        "eyJ2IjoxLCJydiI6Nywic3RhcnQiOiIvYS8uLi9iIn0",   /* start=/a/../b */
        "eyJ2IjoxLCJydiI6Nywic3RhcnQiOiIifQ",            /* start="" */
        "eyJ2IjoxLCJydiI6Nywic3RhcnQiOjV9",              /* start=5 */
        "eyJ2IjoxLCJydiI6Nywic3RhcnQiOiJrIiwieCI6MX0",   /* extra key */
        "bm90IGpzb24",                                   /* not json */
        "eyJ2IjoxLCJydiI6Nywic3RhcnQiOiJrIn0===",        /* too much padding */
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        rv = 99;
        key = NULL;
        int r = cn_continue_decode(bad[i], &rv, &key, &e);
        if (r >= 0) fprintf(stderr, "  accepted bad token %d: %s\n", i, bad[i]);
        CHECK(r < 0);
        CHECK(key == NULL);
        CHECK_INT(rv, 99);
        CHECK_INT(e.code, 400);
        CHECK(e.message && strstr(e.message, "continue key is not valid"));
        cn_err_clear(&e);
    }
    char *huge = cn_malloc(10000);
    memset(huge, 'A', 9999);
    huge[9999] = '\0';
    CHECK(cn_continue_decode(huge, &rv, &key, &e) < 0);
    cn_err_clear(&e);
    free(huge);
}

int main(void)
{
    TEST_RUN(test_defaults);
    TEST_RUN(test_kubectl_requests);
    TEST_RUN(test_bad_values);
    TEST_RUN(test_grace_negative);
    TEST_RUN(test_continue);
    return TEST_DONE();
}
