/* cache: the scheduler's picture of the cluster — every node with the sum
 * of its pods' requests, its host ports and its pods, every pod that has a
 * node (bound, or assumed by us while the binding is in flight), and the
 * indexes the inter-pod rules need so a scheduling cycle never scans all
 * pods: assigned pods by label pair, and pods with required anti-affinity
 * by a label pair their terms require. Fed by sched.c's informer handlers
 * under its lock; read by algo.c. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sched/sched-internal.h"

static void plist_add(sc_plist *l, cn_sched_pod *p)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->p = cn_realloc(l->p, l->cap * sizeof *l->p);
    }
    l->p[l->n++] = p;
}

static void plist_del(sc_plist *l, cn_sched_pod *p)
{
    /* newest last: search from the end, pods leave roughly LIFO in churn */
    for (size_t i = l->n; i-- > 0;)
        if (l->p[i] == p) { l->p[i] = l->p[--l->n]; return; }
}

static void plist_free(void *v)
{
    sc_plist *l = v;
    if (!l) return;
    free(l->p);
    free(l);
}

static sc_plist *index_list(sc_map *m, const char *k, const char *v, bool create)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s=%s", k, v);
    if (!create) return cn_sc_map_get(m, buf);
    void **slot = cn_sc_map_slot(m, buf);
    if (!*slot) *slot = cn_calloc(1, sizeof(sc_plist));
    return *slot;
}

void cn_sched_cache_init(cn_sched_cache *c)
{
    memset(c, 0, sizeof *c);
    c->anti_other = cn_calloc(1, sizeof *c->anti_other);
    c->rng = 0x9e3779b97f4a7c15ULL;
}

static void memo_free(void *v)
{
    sc_memo *m = v;
    free(m->ns);
    free(m->topo);
    cn_sc_sel_free(&m->sel);
    cn_sc_map_clear(&m->counts, NULL);
    free(m);
}

static void domains_free(void *v)
{
    sc_map *m = v;
    cn_sc_map_clear(m, NULL);
    free(m);
}

static void memo_apply(sc_memo *m, const cn_sched_pod *p, const cn_sched_node *n, int by)
{
    if (p->deleting || strcmp(m->ns, p->ns) || !cn_sc_sel_matches(&m->sel, &p->labels)) return;
    const char *v = cn_sc_label(&n->labels, m->topo);
    if (!v) return;
    void **slot = cn_sc_map_slot(&m->counts, v);
    *slot = (void *)((intptr_t)*slot + by);
}

static void memos_apply(cn_sched_cache *c, const cn_sched_pod *p, const cn_sched_node *n, int by)
{
    for (size_t i = 0; i < c->memos.cap; i++)
        if (cn_sc_map_live(&c->memos, i)) memo_apply(c->memos.vals[i], p, n, by);
}

static void domains_apply(cn_sched_cache *c, const cn_sched_node *n, int by)
{
    for (size_t i = 0; i < c->domains.cap; i++) {
        if (!cn_sc_map_live(&c->domains, i)) continue;
        const char *v = cn_sc_label(&n->labels, c->domains.keys[i]);
        if (!v) continue;
        sc_map *m = c->domains.vals[i];
        void **slot = cn_sc_map_slot(m, v);
        *slot = (void *)((intptr_t)*slot + by);
        if (!*slot) cn_sc_map_del(m, v);
    }
}

static void pod_free_v(void *v) { cn_sched_pod_free(v); }
static void node_free_v(void *v) { cn_sched_node_free(v); }

void cn_sched_cache_release(cn_sched_cache *c)
{
    cn_sc_map_clear(&c->pods, pod_free_v);
    cn_sc_map_clear(&c->nodes, node_free_v);
    cn_sc_map_clear(&c->by_label, plist_free);
    cn_sc_map_clear(&c->anti_by_label, plist_free);
    cn_sc_map_clear(&c->pclasses, NULL);
    cn_sc_map_clear(&c->memos, memo_free);
    cn_sc_map_clear(&c->domains, domains_free);
    plist_free(c->anti_other);
    free(c->node_arr);
    memset(c, 0, sizeof *c);
}

/* The label pair an anti-affinity term requires (k In [v]), to key the
 * term on; NULL when it has none. */
static const sc_req *term_key(const sc_pterm *t)
{
    for (size_t i = 0; i < t->sel.n; i++)
        if (t->sel.r[i].op == SC_IN && t->sel.r[i].nv == 1) return &t->sel.r[i];
    return NULL;
}

static void rebuild_ports(cn_sched_node *n)
{
    n->nports = 0;
    for (size_t i = 0; i < n->npods; i++) {
        cn_sched_pod *p = n->pods[i];
        for (size_t j = 0; j < p->nports; j++) {
            if (n->nports == n->portcap) {
                n->portcap = n->portcap ? n->portcap * 2 : 8;
                n->ports = cn_realloc(n->ports, n->portcap * sizeof *n->ports);
            }
            n->ports[n->nports++] = p->ports[j];
        }
    }
}

/* Count p on node n and in the label indexes. */
static void attach(cn_sched_cache *c, cn_sched_pod *p, cn_sched_node *n)
{
    p->node = n;
    if (n->npods == n->podcap) {
        n->podcap = n->podcap ? n->podcap * 2 : 8;
        n->pods = cn_realloc(n->pods, n->podcap * sizeof *n->pods);
    }
    p->node_slot = n->npods;
    n->pods[n->npods++] = p;
    cn_sc_res_add(&n->used, &p->req, 1);
    n->nz_cpu += p->nz_cpu;
    n->nz_mem += p->nz_mem;
    if (p->nports) rebuild_ports(n);
    if (c->memos.len) memos_apply(c, p, n, 1);
    for (size_t i = 0; i < p->labels.n; i++)
        plist_add(index_list(&c->by_label, p->labels.k[i], p->labels.v[i], true), p);
    if (p->nanti) {
        n->nanti++;
        for (size_t i = 0; i < p->nanti; i++) {
            const sc_req *r = term_key(&p->anti[i]);
            plist_add(r ? index_list(&c->anti_by_label, r->key, r->vals[0], true) : c->anti_other, p);
        }
    }
}

static void detach(cn_sched_cache *c, cn_sched_pod *p)
{
    cn_sched_node *n = p->node;
    if (!n) return;
    size_t s = p->node_slot;
    n->pods[s] = n->pods[--n->npods];
    n->pods[s]->node_slot = s;
    cn_sc_res_add(&n->used, &p->req, -1);
    n->nz_cpu -= p->nz_cpu;
    n->nz_mem -= p->nz_mem;
    if (p->nports) rebuild_ports(n);
    if (c->memos.len) memos_apply(c, p, n, -1);
    for (size_t i = 0; i < p->labels.n; i++) {
        sc_plist *l = index_list(&c->by_label, p->labels.k[i], p->labels.v[i], false);
        if (l) plist_del(l, p);
    }
    if (p->nanti) {
        n->nanti--;
        for (size_t i = 0; i < p->nanti; i++) {
            const sc_req *r = term_key(&p->anti[i]);
            sc_plist *l = r ? index_list(&c->anti_by_label, r->key, r->vals[0], false) : c->anti_other;
            if (l) plist_del(l, p);
        }
    }
    p->node = NULL;
}

cn_sched_node *cn_sched_cache_node(cn_sched_cache *c, const char *name)
{
    return cn_sc_map_get(&c->nodes, name);
}

cn_sched_node *cn_sched_cache_set_node(cn_sched_cache *c, cn_sched_node *n)
{
    void **slot = cn_sc_map_slot(&c->nodes, n->name);
    cn_sched_node *old = *slot;
    *slot = n;
    if (old) {
        /* the memos and domains count by the node's labels: take the
         * node's pods out under the old labels, back in under the new */
        if (c->memos.len)
            for (size_t i = 0; i < old->npods; i++) memos_apply(c, old->pods[i], old, -1);
        domains_apply(c, old, -1);
        cn_sc_node_move_state(n, old);
        c->node_arr[n->slot] = n;
        cn_sched_node_free(old);
        domains_apply(c, n, 1);
        if (c->memos.len)
            for (size_t i = 0; i < n->npods; i++) memos_apply(c, n->pods[i], n, 1);
        return n;
    }
    domains_apply(c, n, 1);
    if (c->nnodes == c->nodecap) {
        c->nodecap = c->nodecap ? c->nodecap * 2 : 64;
        c->node_arr = cn_realloc(c->node_arr, c->nodecap * sizeof *c->node_arr);
    }
    n->slot = c->nnodes;
    c->node_arr[c->nnodes++] = n;
    /* pods that named this node before it was known */
    for (size_t i = 0; i < c->pods.cap; i++) {
        if (!cn_sc_map_live(&c->pods, i)) continue;
        cn_sched_pod *p = c->pods.vals[i];
        if (!p->node && !strcmp(p->node_name, n->name)) attach(c, p, n);
    }
    return n;
}

void cn_sched_cache_del_node(cn_sched_cache *c, const char *name)
{
    cn_sched_node *n = cn_sc_map_del(&c->nodes, name);
    if (!n) return;
    /* its pods stay known (they still hold their node name) but count
     * nowhere until a node of that name comes back */
    while (n->npods) detach(c, n->pods[n->npods - 1]);
    domains_apply(c, n, -1);
    size_t s = n->slot;
    c->node_arr[s] = c->node_arr[--c->nnodes];
    c->node_arr[s]->slot = s;
    cn_sched_node_free(n);
}

static char *pod_key(const char *ns, const char *name, char buf[512])
{
    snprintf(buf, 512, "%s/%s", ns, name);
    return buf;
}

cn_sched_pod *cn_sched_cache_pod(cn_sched_cache *c, const char *ns, const char *name)
{
    char key[512];
    return cn_sc_map_get(&c->pods, pod_key(ns, name, key));
}

void cn_sched_cache_add_pod(cn_sched_cache *c, cn_sched_pod *p)
{
    char key[512];
    void **slot = cn_sc_map_slot(&c->pods, pod_key(p->ns, p->name, key));
    cn_sched_pod *old = *slot;
    if (old) {
        detach(c, old);
        cn_sched_pod_free(old);
    }
    *slot = p;
    cn_sched_node *n = cn_sc_map_get(&c->nodes, p->node_name);
    if (n) attach(c, p, n);
}

void cn_sched_cache_del_pod(cn_sched_cache *c, const char *ns, const char *name)
{
    char key[512];
    cn_sched_pod *p = cn_sc_map_del(&c->pods, pod_key(ns, name, key));
    if (!p) return;
    detach(c, p);
    cn_sched_pod_free(p);
}

void cn_sched_cache_unassign(cn_sched_cache *c, cn_sched_pod *p)
{
    detach(c, p);
}

void cn_sched_cache_reassign(cn_sched_cache *c, cn_sched_pod *p)
{
    cn_sched_node *n = cn_sc_map_get(&c->nodes, p->node_name);
    if (n && !p->node) attach(c, p, n);
}

const sc_plist *cn_sched_cache_with_label(cn_sched_cache *c, const char *k, const char *v)
{
    return index_list(&c->by_label, k, v, false);
}

/* PriorityClasses: value + 1 stored so that 0 means absent; the global
 * default under the empty name. */
void cn_sched_cache_set_pclass(cn_sched_cache *c, const char *name, int32_t value, bool global_default)
{
    *cn_sc_map_slot(&c->pclasses, name) = (void *)(intptr_t)((int64_t)value + ((int64_t)1 << 33));
    if (global_default) *cn_sc_map_slot(&c->pclasses, "") = (void *)(intptr_t)((int64_t)value + ((int64_t)1 << 33));
}

void cn_sched_cache_del_pclass(cn_sched_cache *c, const char *name)
{
    cn_sc_map_del(&c->pclasses, name);
}

void cn_sched_cache_resolve_priority(cn_sched_cache *c, cn_sched_pod *p)
{
    if (p->has_priority) return;
    void *v = cn_sc_map_get(&c->pclasses, p->pc_name);
    if (!v && !*p->pc_name) v = cn_sc_map_get(&c->pclasses, "");
    if (v) p->priority = (int32_t)((int64_t)(intptr_t)v - ((int64_t)1 << 33));
}

enum { MAX_MEMOS = 64 };

sc_memo *cn_sched_cache_memo(cn_sched_cache *c, const char *ns, const char *topo, const sc_sel *sel)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_addf(&b, "%s\x01%s\x01", ns, topo);
    cn_sc_sel_sig(&b, sel);
    cn_buf_addc(&b, '\0');
    sc_memo *m = cn_sc_map_get(&c->memos, b.data);
    if (!m) {
        if (c->memos.len >= MAX_MEMOS) {
            /* forget the least recently used */
            size_t lru = SIZE_MAX;
            for (size_t i = 0; i < c->memos.cap; i++)
                if (cn_sc_map_live(&c->memos, i) &&
                    (lru == SIZE_MAX || ((sc_memo *)c->memos.vals[i])->used < ((sc_memo *)c->memos.vals[lru])->used))
                    lru = i;
            char *k = cn_strdup(c->memos.keys[lru]);
            memo_free(cn_sc_map_del(&c->memos, k));
            free(k);
            /* drop the tombstones too: the memo map is walked on every attach */
            sc_map fresh = { 0 };
            for (size_t i = 0; i < c->memos.cap; i++)
                if (cn_sc_map_live(&c->memos, i)) *cn_sc_map_slot(&fresh, c->memos.keys[i]) = c->memos.vals[i];
            cn_sc_map_clear(&c->memos, NULL);
            c->memos = fresh;
        }
        m = cn_calloc(1, sizeof *m);
        m->ns = cn_strdup(ns);
        m->topo = cn_strdup(topo);
        cn_sc_sel_copy(&m->sel, sel);
        for (size_t i = 0; i < c->pods.cap; i++) {
            if (!cn_sc_map_live(&c->pods, i)) continue;
            cn_sched_pod *p = c->pods.vals[i];
            if (p->node) memo_apply(m, p, p->node, 1);
        }
        *cn_sc_map_slot(&c->memos, b.data) = m;
    }
    m->used = ++c->tick;
    cn_buf_release(&b);
    return m;
}

const sc_map *cn_sched_cache_domains(cn_sched_cache *c, const char *key)
{
    sc_map *m = cn_sc_map_get(&c->domains, key);
    if (m) return m;
    m = cn_calloc(1, sizeof *m);
    for (size_t i = 0; i < c->nnodes; i++) {
        const char *v = cn_sc_label(&c->node_arr[i]->labels, key);
        if (!v) continue;
        void **slot = cn_sc_map_slot(m, v);
        *slot = (void *)((intptr_t)*slot + 1);
    }
    *cn_sc_map_slot(&c->domains, key) = m;
    return m;
}
