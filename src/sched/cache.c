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

static void pod_free_v(void *v) { cn_sched_pod_free(v); }
static void node_free_v(void *v) { cn_sched_node_free(v); }

void cn_sched_cache_release(cn_sched_cache *c)
{
    cn_sc_map_clear(&c->pods, pod_free_v);
    cn_sc_map_clear(&c->nodes, node_free_v);
    cn_sc_map_clear(&c->by_label, plist_free);
    cn_sc_map_clear(&c->anti_by_label, plist_free);
    cn_sc_map_clear(&c->pclasses, NULL);
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
        cn_sc_node_move_state(n, old);
        c->node_arr[n->slot] = n;
        cn_sched_node_free(old);
        return n;
    }
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
