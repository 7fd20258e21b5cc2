/* nscache: namespaces known to be active (see nscache.h for why and how it
 * stays correct). An open-addressing hash table under a read-write lock:
 * creates read it on every request, namespace changes write it rarely. */
#define _GNU_SOURCE   /* memmem */
#include "api/nscache.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

typedef enum ns_state { NS_ACTIVE = 1, NS_TERMINATING, NS_GONE } ns_state;

typedef struct entry {
    char *name;          /* owned; NULL = empty slot */
    int64_t rev;
    ns_state state;
} entry;

struct cn_nscache {
    pthread_rwlock_t lock;
    char *prefix;
    size_t prefix_len;
    entry *slots;
    size_t cap, n;       /* cap is a power of two; n <= cap / 2 */
    int64_t floor;       /* after a feed reset: older knowledge is not trusted */
};

cn_nscache *cn_nscache_new(const char *prefix)
{
    cn_nscache *c = cn_calloc(1, sizeof *c);
    pthread_rwlock_init(&c->lock, NULL);
    c->prefix = cn_strdup(prefix);
    c->prefix_len = strlen(prefix);
    c->cap = 64;
    c->slots = cn_calloc(c->cap, sizeof *c->slots);
    return c;
}

void cn_nscache_free(cn_nscache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) free(c->slots[i].name);
    free(c->slots);
    free(c->prefix);
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

static size_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding name, or the empty slot where it belongs. */
static entry *find(entry *slots, size_t cap, const char *name, size_t len)
{
    size_t i = hash(name, len) & (cap - 1);
    while (slots[i].name && (strlen(slots[i].name) != len || memcmp(slots[i].name, name, len) != 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(cn_nscache *c)
{
    size_t ncap = c->cap * 2;
    entry *ns = cn_calloc(ncap, sizeof *ns);
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slots[i].name) continue;
        *find(ns, ncap, c->slots[i].name, strlen(c->slots[i].name)) = c->slots[i];
    }
    free(c->slots);
    c->slots = ns;
    c->cap = ncap;
}

/* The feed lost changes before rev: drop everything. A live read whose
 * object is older than rev may predate a lost change, so such reads are not
 * recorded either (those namespaces are read from the store each time until
 * they change again). */
static void forget(cn_nscache *c, int64_t rev)
{
    pthread_rwlock_wrlock(&c->lock);
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].name);
        c->slots[i].name = NULL;
    }
    c->n = 0;
    if (rev > c->floor) c->floor = rev;
    pthread_rwlock_unlock(&c->lock);
}

/* Under the write lock: record state at rev unless something newer is known. */
static void record(cn_nscache *c, const char *name, size_t len, int64_t rev, ns_state st)
{
    if (rev < c->floor) return;
    if ((c->n + 1) * 2 > c->cap) grow(c);
    entry *e = find(c->slots, c->cap, name, len);
    if (!e->name) {
        e->name = cn_strndup(name, len);
        c->n++;
    } else if (e->rev >= rev) {
        return;
    }
    e->rev = rev;
    e->state = st;
}

static bool has_deletion_timestamp(const char *value, size_t len)
{
    /* Cheap pre-check: most namespace writes are not deletions. */
    if (!value || !memmem(value, len, "deletionTimestamp", 17)) return false;
    json_t *o = json_loadb(value, len, 0, NULL);
    bool del = json_object_get(json_object_get(o, "metadata"), "deletionTimestamp") != NULL;
    json_decref(o);
    return del;
}

void cn_nscache_on_event(void *ud, const cn_event *e)
{
    cn_nscache *c = ud;
    if (e->type == CN_EV_RESET) {
        forget(c, e->rev);
        return;
    }
    if (strncmp(e->key, c->prefix, c->prefix_len) != 0) return;
    const char *name = e->key + c->prefix_len;
    size_t len = strlen(name);
    if (len == 0 || memchr(name, '/', len)) return;
    ns_state st = e->type == CN_EV_DELETE ? NS_GONE
                : has_deletion_timestamp(e->value, e->value_len) ? NS_TERMINATING : NS_ACTIVE;
    pthread_rwlock_wrlock(&c->lock);
    record(c, name, len, e->rev, st);
    pthread_rwlock_unlock(&c->lock);
}

bool cn_nscache_active(cn_nscache *c, const char *name)
{
    pthread_rwlock_rdlock(&c->lock);
    const entry *e = find(c->slots, c->cap, name, strlen(name));
    bool active = e->name && e->state == NS_ACTIVE;
    pthread_rwlock_unlock(&c->lock);
    return active;
}

void cn_nscache_note(cn_nscache *c, const char *name, int64_t rev, bool terminating)
{
    pthread_rwlock_wrlock(&c->lock);
    record(c, name, strlen(name), rev, terminating ? NS_TERMINATING : NS_ACTIVE);
    pthread_rwlock_unlock(&c->lock);
}
