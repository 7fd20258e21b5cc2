/* leader: the Lease-based elector (see leader.h for the model). The thread
 * owns the lease I/O and the "observed record" bookkeeping; the mutex guards
 * only what callers read (leader flag, time of the last good write). */
#include "api/leader.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/util.h"

struct cn_leader {
    cn_store *store;
    char *key, *ns, *name, *identity;
    int64_t lease_ms, deadline_ms, retry_ms;
    void (*on_change)(void *ud, bool leader);
    void *ud;

    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cond;         /* CLOCK_MONOTONIC; state changes and stop */
    bool stopping, frozen;
    bool leader;                 /* the thread's last verdict */
    int64_t renewed_ms;          /* monotonic start of the last good write */

    /* Thread-only: the record as last seen, and when it was first seen. */
    json_t *observed;
    int64_t observed_ms;
};

/* "2006-01-02T15:04:05.000000Z" (metav1.MicroTime). */
static void micro_time(char out[64])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000));
}

static int64_t lease_seconds(const cn_leader *l)
{
    return (l->lease_ms + 999) / 1000;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (ms < 0) ms = 0;
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool is_leader_locked(const cn_leader *l)
{
    return l->leader && !l->stopping && cn_now_ms() - l->renewed_ms < l->deadline_ms;
}

static json_t *new_lease(const cn_leader *l, json_t *spec)
{
    char uid[37], ts[32];
    cn_uuid(uid);
    cn_time_rfc3339(cn_wall_s(), ts);
    return json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s},s:o}", "apiVersion", "coordination.k8s.io/v1",
                     "kind", "Lease", "metadata", "name", l->name, "namespace", l->ns, "uid", uid,
                     "creationTimestamp", ts, "spec", spec);
}

static int write_lease(cn_leader *l, json_t *obj, int64_t expect_rev)
{
    size_t len;
    char *val = cn_obj_to_store(obj, &len);
    int r = expect_rev ? cn_store_update(l->store, l->key, val, len, expect_rev, NULL, NULL)
                       : cn_store_create(l->store, l->key, val, len, NULL, NULL);
    free(val);
    return r == -EEXIST ? -ESTALE : r;   /* a lost create race is a conflict like any other */
}

static void observe(cn_leader *l, const json_t *spec, int64_t when)
{
    json_decref(l->observed);
    l->observed = json_deep_copy(spec);
    l->observed_ms = when;
}

/* client-go's tryAcquireOrRenew. Returns 1 when we hold the lease (our write
 * went through), 0 when another holder's lease is still valid, -ESTALE when
 * our write lost a race, other negative errno on store failure. */
static int try_acquire_or_renew(cn_leader *l)
{
    char now[64];
    micro_time(now);
    cn_kv kv = { 0 };
    int r = cn_store_get(l->store, l->key, &kv, NULL);
    if (r == -ENOENT) {
        json_t *spec = json_pack("{s:s,s:I,s:s,s:s,s:i}", "holderIdentity", l->identity,
                                 "leaseDurationSeconds", (json_int_t)lease_seconds(l),
                                 "acquireTime", now, "renewTime", now, "leaseTransitions", 0);
        json_t *obj = new_lease(l, spec);
        r = write_lease(l, obj, 0);
        if (r >= 0) {
            observe(l, spec, cn_now_ms());
            cn_info("leader: \"%s\" acquired lease %s/%s", l->identity, l->ns, l->name);
        }
        json_decref(obj);
        return r < 0 ? r : 1;
    }
    if (r < 0) return r;

    json_t *obj = cn_obj_from_store(kv.value, kv.value_len, kv.mod_rev, NULL);
    int64_t rev = kv.mod_rev;
    cn_kv_release(&kv);
    if (!obj) return -EIO;
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(obj, "spec", spec);
    }
    if (!l->observed || !json_equal(spec, l->observed)) observe(l, spec, cn_now_ms());

    const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
    json_int_t secs = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    int64_t dur_ms = secs > 0 ? (int64_t)secs * 1000 : l->lease_ms;
    bool mine = holder && !strcmp(holder, l->identity);
    if (holder && *holder && !mine && l->observed_ms + dur_ms > cn_now_ms()) {
        json_decref(obj);
        return 0;
    }
    json_int_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
    if (!mine) {
        json_object_set_new(spec, "acquireTime", json_string(now));
        json_object_set_new(spec, "leaseTransitions", json_integer(transitions + 1));
    }
    json_object_set_new(spec, "holderIdentity", json_string(l->identity));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer((json_int_t)lease_seconds(l)));
    json_object_set_new(spec, "renewTime", json_string(now));
    r = write_lease(l, obj, rev);
    if (r >= 0) {
        observe(l, spec, cn_now_ms());
        if (!mine) cn_info("leader: \"%s\" acquired lease %s/%s", l->identity, l->ns, l->name);
    }
    json_decref(obj);
    return r < 0 ? r : 1;
}

/* client-go's release: empty holder, so others need not wait out the lease. */
static void release(cn_leader *l)
{
    char now[64];
    micro_time(now);
    cn_kv kv = { 0 };
    if (cn_store_get(l->store, l->key, &kv, NULL) < 0) return;
    json_t *obj = cn_obj_from_store(kv.value, kv.value_len, kv.mod_rev, NULL);
    json_t *spec = json_object_get(obj, "spec");
    const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
    if (holder && !strcmp(holder, l->identity)) {
        json_object_set_new(spec, "holderIdentity", json_string(""));
        json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
        json_object_set_new(spec, "acquireTime", json_string(now));
        json_object_set_new(spec, "renewTime", json_string(now));
        if (write_lease(l, obj, kv.mod_rev) >= 0)
            cn_info("leader: released lease %s/%s", l->ns, l->name);
    }
    json_decref(obj);
    cn_kv_release(&kv);
}

static void *elect_main(void *arg)
{
    cn_leader *l = arg;
    bool reported = false;
    pthread_mutex_lock(&l->mu);
    while (!l->stopping) {
        int64_t wait_ms = l->retry_ms;
        if (!l->frozen) {
            pthread_mutex_unlock(&l->mu);
            int64_t t0 = cn_now_ms();
            int r = try_acquire_or_renew(l);
            if (r == -ESTALE) {
                /* Someone wrote the lease meanwhile: look again now, which
                 * settles whether they hold it (0) or we may (1). */
                t0 = cn_now_ms();
                r = try_acquire_or_renew(l);
            }
            pthread_mutex_lock(&l->mu);
            /* A stuck thread can lapse and recover without ever having
             * reported the lapse: report the recovery anyway, so loops
             * that stopped resync. */
            if (r == 1 && reported && !is_leader_locked(l)) reported = false;
            if (r == 1) {
                l->leader = true;
                l->renewed_ms = t0;
            } else if (r >= 0 || r == -ESTALE) {
                l->leader = false;
            } else if (l->leader) {
                cn_warn("leader: cannot renew lease %s/%s: %s", l->ns, l->name, strerror(-r));
            }
            if (!l->leader) {
                /* Followers jitter (client-go's 1.2 factor) so they do not
                 * knock together. */
                uint16_t j;
                cn_random(&j, sizeof j);
                wait_ms += (int64_t)(l->retry_ms * (j % 200) / 1000);
            }
        }
        bool now_leader = is_leader_locked(l);
        if (now_leader != reported) {
            reported = now_leader;
            pthread_cond_broadcast(&l->cond);
            if (!now_leader)
                cn_info("leader: \"%s\" is no longer leader of %s/%s", l->identity, l->ns, l->name);
            if (l->on_change) {
                pthread_mutex_unlock(&l->mu);
                l->on_change(l->ud, now_leader);
                pthread_mutex_lock(&l->mu);
            }
        }
        if (l->stopping) break;
        struct timespec ts;
        deadline_in(&ts, wait_ms);
        pthread_cond_timedwait(&l->cond, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int cn_leader_start(cn_store *store, const cn_leader_config *cfg, cn_leader **out, cn_err *err)
{
    int64_t lease = cfg->lease_ms ? cfg->lease_ms : CN_LEADER_LEASE_MS;
    int64_t deadline = cfg->renew_deadline_ms ? cfg->renew_deadline_ms : CN_LEADER_RENEW_DEADLINE_MS;
    int64_t retry = cfg->retry_ms ? cfg->retry_ms : CN_LEADER_RETRY_MS;
    if (!(lease > deadline && deadline > retry && retry > 0))
        return cn_err_set(err, 400, "BadRequest",
                          "leader election: want lease duration > renew deadline > retry period > 0");
    if (!cfg->key || !cfg->ns || !cfg->name || !cfg->identity || !*cfg->identity)
        return cn_err_set(err, 400, "BadRequest", "leader election: lease key, name and identity required");
    cn_leader *l = cn_calloc(1, sizeof *l);
    l->store = store;
    l->key = cn_strdup(cfg->key);
    l->ns = cn_strdup(cfg->ns);
    l->name = cn_strdup(cfg->name);
    l->identity = cn_strdup(cfg->identity);
    l->lease_ms = lease;
    l->deadline_ms = deadline;
    l->retry_ms = retry;
    l->on_change = cfg->on_change;
    l->ud = cfg->ud;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cond, &ca);
    pthread_condattr_destroy(&ca);
    int r = pthread_create(&l->thread, NULL, elect_main, l);
    if (r != 0) {
        cn_leader_stop(l, false);
        return cn_err_internal(err, "cannot start leader election thread: %s", strerror(r)), -r;
    }
    l->started = true;
    *out = l;
    return 0;
}

void cn_leader_stop(cn_leader *l, bool rel)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    bool held = l->leader;   /* even past the deadline: the record may still name us */
    l->stopping = true;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
    if (l->started) pthread_join(l->thread, NULL);
    if (rel && held) release(l);
    json_decref(l->observed);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cond);
    free(l->key);
    free(l->ns);
    free(l->name);
    free(l->identity);
    free(l);
}

bool cn_leader_is_leader(cn_leader *l)
{
    if (!l) return false;
    pthread_mutex_lock(&l->mu);
    bool r = is_leader_locked(l);
    pthread_mutex_unlock(&l->mu);
    return r;
}

bool cn_leader_wait(cn_leader *l, bool was, int64_t timeout_ms)
{
    int64_t end = timeout_ms < 0 ? INT64_MAX : cn_now_ms() + timeout_ms;
    pthread_mutex_lock(&l->mu);
    bool cur;
    while ((cur = is_leader_locked(l)) == was && !l->stopping) {
        int64_t now = cn_now_ms();
        if (now >= end) break;
        int64_t wake = end;
        /* Leadership can lapse with no thread action: wake at the deadline. */
        if (cur && l->renewed_ms + l->deadline_ms < wake) wake = l->renewed_ms + l->deadline_ms;
        if (wake - now > 3600000) wake = now + 3600000;
        struct timespec ts;
        deadline_in(&ts, wake - now);
        pthread_cond_timedwait(&l->cond, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    return cur;
}

const char *cn_leader_identity(const cn_leader *l)
{
    return l->identity;
}

void cn_leader_freeze(cn_leader *l, bool frozen)
{
    pthread_mutex_lock(&l->mu);
    l->frozen = frozen;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
}

char *cn_leader_new_identity(void)
{
    char host[HOST_NAME_MAX + 1] = "";
    char uid[37];
    if (gethostname(host, sizeof host) < 0 || !*host) snprintf(host, sizeof host, "localhost");
    host[HOST_NAME_MAX] = '\0';
    cn_uuid(uid);
    return cn_asprintf("%s_%s", host, uid);
}
