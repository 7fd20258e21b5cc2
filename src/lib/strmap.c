/* strmap: see strmap.h. */
#include "lib/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    void *val;
    char key[];
} entry;

struct cn_strmap {
    entry **b;
    size_t nb, n;
};

uint64_t cn_str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

cn_strmap *cn_strmap_new(void)
{
    cn_strmap *m = cn_calloc(1, sizeof *m);
    m->nb = 16;
    m->b = cn_calloc(m->nb, sizeof *m->b);
    return m;
}

void cn_strmap_free(cn_strmap *m, void (*free_val)(void *))
{
    if (!m) return;
    for (size_t i = 0; i < m->nb; i++) {
        for (entry *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            if (free_val) free_val(e->val);
            free(e);
        }
    }
    free(m->b);
    free(m);
}

static entry **find(const cn_strmap *m, const char *key, uint64_t h)
{
    entry **pp = &m->b[h & (m->nb - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key))) pp = &(*pp)->next;
    return pp;
}

void *cn_strmap_get(const cn_strmap *m, const char *key)
{
    entry *e = *find(m, key, cn_str_hash(key));
    return e ? e->val : NULL;
}

bool cn_strmap_has(const cn_strmap *m, const char *key) { return *find(m, key, cn_str_hash(key)) != NULL; }

static void grow(cn_strmap *m)
{
    size_t nb = m->nb * 2;
    entry **b = cn_calloc(nb, sizeof *b);
    for (size_t i = 0; i < m->nb; i++) {
        for (entry *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

void *cn_strmap_put(cn_strmap *m, const char *key, void *val)
{
    uint64_t h = cn_str_hash(key);
    entry **pp = find(m, key, h);
    if (*pp) {
        void *old = (*pp)->val;
        (*pp)->val = val;
        return old;
    }
    size_t kl = strlen(key);
    entry *e = cn_malloc(sizeof *e + kl + 1);
    memcpy(e->key, key, kl + 1);
    e->hash = h;
    e->val = val;
    e->next = NULL;
    *pp = e;
    if (++m->n > m->nb) grow(m);
    return NULL;
}

void *cn_strmap_del(cn_strmap *m, const char *key)
{
    entry **pp = find(m, key, cn_str_hash(key));
    entry *e = *pp;
    if (!e) return NULL;
    *pp = e->next;
    void *v = e->val;
    free(e);
    m->n--;
    return v;
}

size_t cn_strmap_len(const cn_strmap *m) { return m->n; }

void cn_strmap_foreach(const cn_strmap *m, bool (*fn)(void *ud, const char *key, void *val), void *ud)
{
    for (size_t i = 0; i < m->nb; i++)
        for (entry *e = m->b[i]; e; e = e->next)
            if (!fn(ud, e->key, e->val)) return;
}
