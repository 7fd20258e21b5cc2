/* Unit tests for nscache: what the watch tap and live reads teach it, in
 * revision order, and that only "active" is ever answered positively. */
#include <stdio.h>
#include <string.h>

#include "api/nscache.h"
#include "lib/util.h"
#include "test.h"

#define P "/registry/namespaces/"

static void ev(cn_nscache *c, cn_event_type t, int64_t rev, const char *key, const char *value)
{
    cn_event e = { .type = t, .rev = rev, .key = key, .value = value,
                   .value_len = value ? strlen(value) : 0 };
    cn_nscache_on_event(c, &e);
}

static void test_events(void)
{
    cn_nscache *c = cn_nscache_new(P);
    CHECK(!cn_nscache_active(c, "a"));
    ev(c, CN_EV_PUT, 5, P "a", "{\"metadata\":{\"name\":\"a\"}}");
    CHECK(cn_nscache_active(c, "a"));
    CHECK(!cn_nscache_active(c, "b"));
    /* Marked for deletion: no longer active. */
    ev(c, CN_EV_PUT, 6, P "a", "{\"metadata\":{\"name\":\"a\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}");
    CHECK(!cn_nscache_active(c, "a"));
    /* A value that only mentions the word in data is not a deletion. */
    ev(c, CN_EV_PUT, 7, P "x", "{\"metadata\":{\"name\":\"x\",\"labels\":{\"deletionTimestamp\":\"no\"}}}");
    CHECK(cn_nscache_active(c, "x"));
    ev(c, CN_EV_DELETE, 8, P "a", "{}");
    CHECK(!cn_nscache_active(c, "a"));
    ev(c, CN_EV_PUT, 9, P "a", "{\"metadata\":{\"name\":\"a\"}}");
    CHECK(cn_nscache_active(c, "a"));
    /* Other keys and nested keys are ignored. */
    ev(c, CN_EV_PUT, 10, "/registry/configmaps/a/b", "{}");
    ev(c, CN_EV_PUT, 11, P "a/b", "{}");
    CHECK(!cn_nscache_active(c, "a/b"));
    cn_nscache_free(c);
}

static void test_note_order(void)
{
    cn_nscache *c = cn_nscache_new(P);
    /* A live read is recorded... */
    cn_nscache_note(c, "n", 10, false);
    CHECK(cn_nscache_active(c, "n"));
    /* ...a newer delete from the tap wins... */
    ev(c, CN_EV_DELETE, 12, P "n", "{}");
    CHECK(!cn_nscache_active(c, "n"));
    /* ...and a late live read of the older state does not bring it back. */
    cn_nscache_note(c, "n", 10, false);
    CHECK(!cn_nscache_active(c, "n"));
    cn_nscache_note(c, "t", 3, true);
    CHECK(!cn_nscache_active(c, "t"));
    /* An older tap event never overrides a newer read. */
    cn_nscache_note(c, "m", 20, true);
    ev(c, CN_EV_PUT, 19, P "m", "{\"metadata\":{\"name\":\"m\"}}");
    CHECK(!cn_nscache_active(c, "m"));
    cn_nscache_free(c);
}

static void test_many(void)
{
    cn_nscache *c = cn_nscache_new(P);
    char key[64], name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, P "ns-%d", i);
        ev(c, CN_EV_PUT, i + 1, key, "{}");
    }
    int active = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "ns-%d", i);
        active += cn_nscache_active(c, name);
    }
    CHECK_INT(active, 5000);
    CHECK(!cn_nscache_active(c, "ns-5000"));
    cn_nscache_free(c);
}

/* After a feed reset nothing learnt before is trusted, and live reads of
 * objects older than the reset are not recorded (a lost change may follow
 * them); newer events and reads are. */
static void test_reset(void)
{
    cn_nscache *c = cn_nscache_new(P);
    ev(c, CN_EV_PUT, 5, P "a", "{}");
    CHECK(cn_nscache_active(c, "a"));
    cn_event r = { .type = CN_EV_RESET, .rev = 50, .key = "", .value = "" };
    cn_nscache_on_event(c, &r);
    CHECK(!cn_nscache_active(c, "a"));
    cn_nscache_note(c, "a", 5, false);
    CHECK(!cn_nscache_active(c, "a"));
    cn_nscache_note(c, "b", 60, false);
    CHECK(cn_nscache_active(c, "b"));
    ev(c, CN_EV_PUT, 61, P "a", "{}");
    CHECK(cn_nscache_active(c, "a"));
    cn_nscache_free(c);
}

int main(void)
{
    TEST_RUN(test_events);
    TEST_RUN(test_note_order);
    TEST_RUN(test_many);
    TEST_RUN(test_reset);
    return TEST_DONE();
}
