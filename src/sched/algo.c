/* algo: one scheduling cycle over the cache, as kube-scheduler's default
 * profile does it — pre-filter (inter-pod and spread counts, once per
 * cycle), filter nodes until enough feasible ones are found (adaptive
 * percentageOfNodesToScore, round-robin start), score them, pick the best.
 * When nothing fits: the upstream-style "0/N nodes are available: ..."
 * message, and preemption (find the node where evicting the fewest, lowest
 * priority pods makes the pod fit).
 *
 * Filter order and wording follow upstream's plugins: NodeUnschedulable,
 * TaintToleration (plus node readiness as the implied not-ready /
 * unreachable taints), NodeAffinity, NodePorts, NodeResourcesFit,
 * PodTopologySpread, InterPodAffinity; a node fails on the first plugin
 * that rejects it (resources report every insufficient resource). Pure
 * functions over the cache: no locks, no I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sched/sched-internal.h"

#define MSG_UNSCHED "node(s) were unschedulable"
#define MSG_AFFINITY "node(s) didn't match Pod's node affinity/selector"
#define MSG_PORTS "node(s) didn't have free ports for the requested pod ports"
#define MSG_SPREAD "node(s) didn't match pod topology spread constraints"
#define MSG_SPREAD_LABEL "node(s) didn't match pod topology spread constraints (missing required label)"
#define MSG_EXISTING_ANTI "node(s) didn't satisfy existing pods anti-affinity rules"
#define MSG_ANTI "node(s) didn't match pod anti-affinity rules"
#define MSG_AFF "node(s) didn't match pod affinity rules"
#define MSG_NO_VICTIMS "No preemption victims found for incoming pod"
#define MSG_NOT_HELPFUL "Preemption is not helpful for scheduling"

enum { MAX_REASONS = 8 };

typedef struct reasons {
    int n;
    bool unresolvable;          /* preemption cannot help on this node */
    char r[MAX_REASONS][200];
} reasons;

static void reason_add(reasons *r, bool unresolvable, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reason_add(reasons *r, bool unresolvable, const char *fmt, ...)
{
    if (!r || r->n >= MAX_REASONS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->r[r->n++], sizeof r->r[0], fmt, ap);
    va_end(ap);
    if (unresolvable) r->unresolvable = true;
}

/* Per-term sets of topology values (value -> count). */
typedef struct valset { sc_map m; } valset;

static void vs_inc(valset *v, const char *val, intptr_t by)
{
    void **s = cn_sc_map_slot(&v->m, val);
    *s = (void *)((intptr_t)*s + by);
}

static intptr_t vs_get(const valset *v, const char *val)
{
    return (intptr_t)cn_sc_map_get(&v->m, val);
}

typedef struct spread_state {
    /* slow path (the pod restricts its nodes): value -> matching pods + 1,
     * every eligible domain present; fast path: the cache's memo */
    valset counts;
    const sc_memo *memo;
    intptr_t min;
    size_t ndom;
} spread_state;

static intptr_t spread_cnt(const spread_state *st, const char *v)
{
    if (st->memo) return (intptr_t)cn_sc_map_get(&st->memo->counts, v);
    intptr_t c = vs_get(&st->counts, v);
    return c ? c - 1 : 0;
}

typedef struct cycle {
    cn_sched_cache *c;
    cn_sched_pod *p;
    /* existing pods' required anti-affinity matching p: forbidden (key, value) */
    size_t nforbid, forbidcap;
    const char **forbid;        /* key0, val0, key1, val1 ... (borrowed) */
    valset *anti, *aff;         /* per incoming term */
    bool aff_anywhere;          /* no pod matches the affinity terms, p matches its own */
    spread_state *spread;
    /* scoring */
    valset pref;                /* "key\x01value" -> summed preferred pod (anti-)affinity weight */
} cycle;

/* ---- helpers ---- */

static bool tolerates(const cn_sched_pod *p, const char *key, const char *value, enum sc_effect eff)
{
    for (size_t i = 0; i < p->ntols; i++) {
        const sc_tol *t = &p->tols[i];
        if (t->effect != SC_EFF_ANY && t->effect != eff) continue;
        if (*t->key && strcmp(t->key, key)) continue;
        if (!*t->key && !t->exists) continue;   /* empty key needs Exists */
        if (t->exists || !strcmp(t->value, value)) return true;
    }
    return false;
}

static bool nterm_matches(const sc_nterm *t, const cn_sched_node *n)
{
    if (!t->exprs.n && !t->fields.n) return false;   /* an empty term matches nothing */
    if (!cn_sc_sel_matches(&t->exprs, &n->labels)) return false;
    for (size_t i = 0; i < t->fields.n; i++) {
        const sc_req *r = &t->fields.r[i];
        if (strcmp(r->key, "metadata.name")) return false;
        bool in = false;
        for (size_t j = 0; j < r->nv && !in; j++) in = !strcmp(r->vals[j], n->name);
        if ((r->op == SC_IN) != in) return false;
    }
    return true;
}

static bool node_affinity_ok(const cn_sched_pod *p, const cn_sched_node *n)
{
    for (size_t i = 0; i < p->node_selector.n; i++) {
        const char *v = cn_sc_label(&n->labels, p->node_selector.k[i]);
        if (!v || strcmp(v, p->node_selector.v[i])) return false;
    }
    if (p->req_terms) {
        for (size_t i = 0; i < p->nreq_terms; i++)
            if (nterm_matches(&p->req_terms[i], n)) return true;
        return false;
    }
    return true;
}

/* Does a term owned by pod `owner` select pod q (namespace and labels)? */
static bool term_selects(const sc_pterm *t, const cn_sched_pod *owner, const cn_sched_pod *q)
{
    if (!t->all_ns) {
        bool ok = false;
        if (!t->nns) ok = !strcmp(owner->ns, q->ns);
        for (size_t i = 0; i < t->nns && !ok; i++) ok = !strcmp(t->ns[i], q->ns);
        if (!ok) return false;
    }
    return cn_sc_sel_matches(&t->sel, &q->labels);
}

static const sc_req *sel_key(const sc_sel *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].op == SC_IN && s->r[i].nv == 1) return &s->r[i];
    return NULL;
}

typedef void (*pod_fn)(cycle *cy, void *ud, cn_sched_pod *q);

/* Visit the assigned pods that may match selector s: the label index
 * narrows it to pods carrying one of its required pairs. */
static void for_candidates(cycle *cy, const sc_sel *s, pod_fn fn, void *ud)
{
    if (s->none) return;
    const sc_req *k = sel_key(s);
    if (k) {
        const sc_plist *l = cn_sched_cache_with_label(cy->c, k->key, k->vals[0]);
        for (size_t i = 0; l && i < l->n; i++) fn(cy, ud, l->p[i]);
        return;
    }
    sc_map *m = &cy->c->pods;
    for (size_t i = 0; i < m->cap; i++)
        if (cn_sc_map_live(m, i) && ((cn_sched_pod *)m->vals[i])->node) fn(cy, ud, m->vals[i]);
}

/* ---- pre-filter ---- */

static void forbid_add(cycle *cy, const char *key, const char *val)
{
    if (cy->nforbid == cy->forbidcap) {
        cy->forbidcap = cy->forbidcap ? cy->forbidcap * 2 : 8;
        cy->forbid = cn_realloc(cy->forbid, cy->forbidcap * 2 * sizeof *cy->forbid);
    }
    cy->forbid[2 * cy->nforbid] = key;
    cy->forbid[2 * cy->nforbid + 1] = val;
    cy->nforbid++;
}

static void existing_anti(cycle *cy, const cn_sched_pod *e)
{
    if (!e->node || e == cy->p) return;
    for (size_t i = 0; i < e->nanti; i++) {
        if (!term_selects(&e->anti[i], e, cy->p)) continue;
        const char *v = cn_sc_label(&e->node->labels, e->anti[i].topo);
        if (v) forbid_add(cy, e->anti[i].topo, v);
    }
}

typedef struct term_ud { const sc_pterm *t; valset *vs; intptr_t by; bool any; } term_ud;

static void term_count(cycle *cy, void *ud, cn_sched_pod *q)
{
    term_ud *u = ud;
    if (q == cy->p || !q->node || !term_selects(u->t, cy->p, q)) return;
    u->any = true;
    const char *v = cn_sc_label(&q->node->labels, u->t->topo);
    if (v) vs_inc(u->vs, v, u->by);
}

static bool spread_eligible(const cn_sched_pod *p, const cn_sched_node *n)
{
    /* nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore (the defaults) */
    return node_affinity_ok(p, n);
}

typedef struct spread_ud { const sc_spread *s; spread_state *st; } spread_ud;

static void spread_count(cycle *cy, void *ud, cn_sched_pod *q)
{
    spread_ud *u = ud;
    if (!q->node || q->deleting || strcmp(q->ns, cy->p->ns)) return;
    if (!cn_sc_sel_matches(&u->s->sel, &q->labels)) return;
    const char *v = cn_sc_label(&q->node->labels, u->s->topo);
    if (!v) return;
    void **slot = cn_sc_map_slot(&u->st->counts.m, v);
    /* only domains of eligible nodes count; they were registered first
     * with a count of 1 (0 would read as absent) */
    if (!*slot) { cn_sc_map_del(&u->st->counts.m, v); return; }
    if (!spread_eligible(cy->p, q->node)) return;
    *slot = (void *)((intptr_t)*slot + 1);
}

static void prefilter(cycle *cy)
{
    cn_sched_cache *c = cy->c;
    cn_sched_pod *p = cy->p;
    /* existing pods whose anti-affinity selects p */
    if (c->anti_other->n || c->anti_by_label.len) {
        for (size_t i = 0; i < p->labels.n; i++) {
            char key[512];
            snprintf(key, sizeof key, "%s=%s", p->labels.k[i], p->labels.v[i]);
            const sc_plist *l = cn_sc_map_get(&c->anti_by_label, key);
            for (size_t j = 0; l && j < l->n; j++) existing_anti(cy, l->p[j]);
        }
        for (size_t j = 0; j < c->anti_other->n; j++) existing_anti(cy, c->anti_other->p[j]);
    }
    if (p->nanti) {
        cy->anti = cn_calloc(p->nanti, sizeof *cy->anti);
        for (size_t i = 0; i < p->nanti; i++) {
            term_ud u = { &p->anti[i], &cy->anti[i], 1, false };
            for_candidates(cy, &p->anti[i].sel, term_count, &u);
        }
    }
    if (p->naff) {
        cy->aff = cn_calloc(p->naff, sizeof *cy->aff);
        bool any = false, self = true;
        for (size_t i = 0; i < p->naff; i++) {
            term_ud u = { &p->aff[i], &cy->aff[i], 1, false };
            for_candidates(cy, &p->aff[i].sel, term_count, &u);
            any |= u.any;
            self &= term_selects(&p->aff[i], p, p);
        }
        cy->aff_anywhere = !any && self;
    }
    if (p->nspread) {
        cy->spread = cn_calloc(p->nspread, sizeof *cy->spread);
        bool restricted = p->node_selector.n || p->req_terms;
        for (size_t i = 0; i < p->nspread; i++) {
            const sc_spread *s = &p->spread[i];
            spread_state *st = &cy->spread[i];
            if (!restricted) {
                /* every node is eligible: the kept counts and domains */
                st->memo = cn_sched_cache_memo(c, p->ns, s->topo, &s->sel);
                const sc_map *doms = cn_sched_cache_domains(c, s->topo);
                st->min = INTPTR_MAX;
                for (size_t j = 0; j < doms->cap; j++) {
                    if (!cn_sc_map_live(doms, j) || !doms->vals[j]) continue;
                    intptr_t v = (intptr_t)cn_sc_map_get(&st->memo->counts, doms->keys[j]);
                    st->ndom++;
                    if (v < st->min) st->min = v;
                }
                if (!st->ndom || (int32_t)st->ndom < s->min_domains) st->min = 0;
                continue;
            }
            for (size_t j = 0; j < c->nnodes; j++) {
                const cn_sched_node *n = c->node_arr[j];
                const char *v = cn_sc_label(&n->labels, s->topo);
                if (v && spread_eligible(p, n)) {
                    void **slot = cn_sc_map_slot(&st->counts.m, v);
                    if (!*slot) *slot = (void *)(intptr_t)1;
                }
            }
            spread_ud u = { s, st };
            for_candidates(cy, &s->sel, spread_count, &u);
            st->ndom = 0;
            st->min = INTPTR_MAX;
            for (size_t j = 0; j < st->counts.m.cap; j++) {
                if (!cn_sc_map_live(&st->counts.m, j)) continue;
                intptr_t v = (intptr_t)st->counts.m.vals[j] - 1;
                st->ndom++;
                if (v < st->min) st->min = v;
            }
            if (!st->ndom || (int32_t)st->ndom < s->min_domains) st->min = 0;
        }
    }
    if (p->npaff || p->npanti) {
        for (size_t i = 0; i < p->npaff + p->npanti; i++) {
            const sc_pterm *t = i < p->npaff ? &p->paff[i] : &p->panti[i - p->npaff];
            /* key the value set by topology key too: terms may differ in it */
            valset vs = { { 0 } };
            term_ud u = { t, &vs, i < p->npaff ? t->weight : -t->weight, false };
            for_candidates(cy, &t->sel, term_count, &u);
            for (size_t j = 0; j < vs.m.cap; j++) {
                if (!cn_sc_map_live(&vs.m, j)) continue;
                char key[512];
                snprintf(key, sizeof key, "%s\x01%s", t->topo, vs.m.keys[j]);
                vs_inc(&cy->pref, key, (intptr_t)vs.m.vals[j]);
            }
            cn_sc_map_clear(&vs.m, NULL);
        }
    }
}

static void cycle_release(cycle *cy)
{
    free(cy->forbid);
    for (size_t i = 0; cy->anti && i < cy->p->nanti; i++) cn_sc_map_clear(&cy->anti[i].m, NULL);
    for (size_t i = 0; cy->aff && i < cy->p->naff; i++) cn_sc_map_clear(&cy->aff[i].m, NULL);
    for (size_t i = 0; cy->spread && i < cy->p->nspread; i++) cn_sc_map_clear(&cy->spread[i].counts.m, NULL);
    free(cy->anti);
    free(cy->aff);
    free(cy->spread);
    cn_sc_map_clear(&cy->pref.m, NULL);
    cn_sched_cache *c = cy->c;
    cn_sched_pod *p = cy->p;
    memset(cy, 0, sizeof *cy);
    cy->c = c;
    cy->p = p;
}

/* ---- filter ---- */

static bool ports_conflict(const cn_sched_pod *p, const cn_sched_node *n)
{
    for (size_t i = 0; i < p->nports; i++)
        for (size_t j = 0; j < n->nports; j++) {
            const sc_port *a = &p->ports[i], *b = &n->ports[j];
            if (a->port != b->port || strcmp(a->proto, b->proto)) continue;
            if (!strcmp(a->ip, "0.0.0.0") || !strcmp(b->ip, "0.0.0.0") || !strcmp(a->ip, b->ip)) return true;
        }
    return false;
}

static bool fits_resources(const cn_sched_pod *p, const cn_sched_node *n, reasons *r)
{
    bool ok = true;
    if (n->used.pods + 1 > n->alloc.pods) { ok = false; reason_add(r, false, "Too many pods"); if (!r) return false; }
    if (p->req.cpu && n->used.cpu + p->req.cpu > n->alloc.cpu) { ok = false; reason_add(r, false, "Insufficient cpu"); if (!r) return false; }
    if (p->req.mem && n->used.mem + p->req.mem > n->alloc.mem) { ok = false; reason_add(r, false, "Insufficient memory"); if (!r) return false; }
    if (p->req.eph && n->used.eph + p->req.eph > n->alloc.eph) { ok = false; reason_add(r, false, "Insufficient ephemeral-storage"); if (!r) return false; }
    for (size_t i = 0; i < p->req.nx; i++) {
        const sc_xres *x = &p->req.x[i];
        if (x->v && cn_sc_res_x(&n->used, x->name) + x->v > cn_sc_res_x(&n->alloc, x->name)) {
            ok = false;
            reason_add(r, false, "Insufficient %s", x->name);
            if (!r) return false;
        }
    }
    return ok;
}

/* 0: the node passes; otherwise it fails (reasons in r when given). */
static int filter(cycle *cy, const cn_sched_node *n, reasons *r)
{
    const cn_sched_pod *p = cy->p;
    if (n->unschedulable && !tolerates(p, "node.kubernetes.io/unschedulable", "", SC_NOSCHEDULE)) {
        reason_add(r, true, MSG_UNSCHED);
        return -1;
    }
    for (size_t i = 0; i < n->ntaints; i++) {
        const sc_taint *t = &n->taints[i];
        if (t->effect != SC_NOSCHEDULE && t->effect != SC_NOEXECUTE) continue;
        if (!tolerates(p, t->key, t->value, t->effect)) {
            reason_add(r, true, "node(s) had untolerated taint {%s: %s}", t->key, t->value);
            return -1;
        }
    }
    if (!n->ready) {
        /* the taint the node lifecycle controller puts on such a node */
        const char *key = n->unknown ? "node.kubernetes.io/unreachable" : "node.kubernetes.io/not-ready";
        if (!tolerates(p, key, "", SC_NOSCHEDULE)) {
            reason_add(r, true, "node(s) had untolerated taint {%s: }", key);
            return -1;
        }
    }
    if (!node_affinity_ok(p, n)) {
        reason_add(r, true, MSG_AFFINITY);
        return -1;
    }
    if (p->nports && n->nports && ports_conflict(p, n)) {
        reason_add(r, false, MSG_PORTS);
        return -1;
    }
    if (!fits_resources(p, n, r)) return -1;
    for (size_t i = 0; i < p->nspread; i++) {
        const sc_spread *s = &p->spread[i];
        if (!s->hard) continue;
        const char *v = cn_sc_label(&n->labels, s->topo);
        if (!v) {
            reason_add(r, true, MSG_SPREAD_LABEL);
            return -1;
        }
        intptr_t cnt = spread_cnt(&cy->spread[i], v);
        intptr_t self = cn_sc_sel_matches(&s->sel, &p->labels) ? 1 : 0;
        if (cnt + self - cy->spread[i].min > s->max_skew) {
            reason_add(r, false, MSG_SPREAD);
            return -1;
        }
    }
    /* upstream's order: affinity, anti-affinity, existing pods' anti-affinity */
    for (size_t i = 0; i < p->naff; i++) {
        const char *v = cn_sc_label(&n->labels, p->aff[i].topo);
        if (!v || (!cy->aff_anywhere && !vs_get(&cy->aff[i], v))) {
            reason_add(r, true, MSG_AFF);
            return -1;
        }
    }
    for (size_t i = 0; i < p->nanti; i++) {
        const char *v = cn_sc_label(&n->labels, p->anti[i].topo);
        if (v && vs_get(&cy->anti[i], v)) {
            reason_add(r, false, MSG_ANTI);
            return -1;
        }
    }
    for (size_t i = 0; i < cy->nforbid; i++) {
        const char *v = cn_sc_label(&n->labels, cy->forbid[2 * i]);
        if (v && !strcmp(v, cy->forbid[2 * i + 1])) {
            reason_add(r, false, MSG_EXISTING_ANTI);
            return -1;
        }
    }
    return 0;
}

/* ---- score ---- */

typedef struct scored { cn_sched_node *n; int64_t base, naff, taint, ipa, spread; } scored;

static int64_t least_allocated(int64_t req, int64_t cap)
{
    if (cap <= 0 || req > cap) return 0;
    return (cap - req) * 100 / cap;
}

static void score_node(cycle *cy, scored *s)
{
    const cn_sched_pod *p = cy->p;
    const cn_sched_node *n = s->n;
    int64_t cpu = n->nz_cpu + p->nz_cpu, mem = n->nz_mem + p->nz_mem;
    int64_t la = (least_allocated(cpu, n->alloc.cpu) + least_allocated(mem, n->alloc.mem)) / 2;
    double fc = n->alloc.cpu > 0 ? (double)cpu / (double)n->alloc.cpu : 1;
    double fm = n->alloc.mem > 0 ? (double)mem / (double)n->alloc.mem : 1;
    if (fc > 1) fc = 1;
    if (fm > 1) fm = 1;
    double sd = (fc > fm ? fc - fm : fm - fc) / 2;
    int64_t ba = (int64_t)((1 - sd) * 100);
    s->base = la + ba;
    for (size_t i = 0; i < p->npref_terms; i++)
        if (nterm_matches(&p->pref_terms[i], n)) s->naff += p->pref_terms[i].weight;
    for (size_t i = 0; i < n->ntaints; i++)
        if (n->taints[i].effect == SC_PREFERNOSCHEDULE &&
            !tolerates(p, n->taints[i].key, n->taints[i].value, SC_PREFERNOSCHEDULE))
            s->taint++;
    if (p->npaff || p->npanti) {
        for (size_t i = 0; i < p->npaff + p->npanti; i++) {
            const sc_pterm *t = i < p->npaff ? &p->paff[i] : &p->panti[i - p->npaff];
            const char *v = cn_sc_label(&n->labels, t->topo);
            if (!v) continue;
            char key[512];
            snprintf(key, sizeof key, "%s\x01%s", t->topo, v);
            s->ipa += vs_get(&cy->pref, key);
            /* a topology key shared by several terms is summed once per
             * term above; later terms with the same key repeat it */
            for (size_t j = 0; j < i; j++) {
                const sc_pterm *o = j < p->npaff ? &p->paff[j] : &p->panti[j - p->npaff];
                if (!strcmp(o->topo, t->topo)) { s->ipa -= vs_get(&cy->pref, key); break; }
            }
        }
    }
    for (size_t i = 0; i < p->nspread; i++) {
        if (p->spread[i].hard) continue;
        const char *v = cn_sc_label(&n->labels, p->spread[i].topo);
        s->spread += v ? spread_cnt(&cy->spread[i], v) : 0;
    }
}

static int64_t total_score(const cn_sched_pod *p, const scored *s, const int64_t mx[4], const int64_t mn[4])
{
    int64_t t = s->base;
    if (p->npref_terms && mx[0] > 0) t += 2 * (s->naff * 100 / mx[0]);
    if (mx[1] > 0) t += 3 * (100 - s->taint * 100 / mx[1]);
    else t += 300;
    if ((p->npaff || p->npanti) && mx[2] > mn[2]) t += 2 * ((s->ipa - mn[2]) * 100 / (mx[2] - mn[2]));
    if (mx[3] > mn[3]) t += 2 * ((mx[3] - s->spread) * 100 / (mx[3] - mn[3]));
    return t;
}

static uint64_t rng_next(cn_sched_cache *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}

size_t cn_sched_num_to_find(size_t n, int pct)
{
    if (n < 100) return n;
    if (pct <= 0) {
        pct = 50 - (int)(n / 125);
        if (pct < 5) pct = 5;
    }
    if (pct >= 100) return n;
    size_t k = n * (size_t)pct / 100;
    return k < 100 ? 100 : k;
}

/* ---- failure message ---- */

typedef struct rcount { char *reason; size_t n; } rcount;

static int rc_cmp(const void *a, const void *b)
{
    return strcmp(((const rcount *)a)->reason, ((const rcount *)b)->reason);
}

static void tally(sc_map *m, const char *reason)
{
    void **s = cn_sc_map_slot(m, reason);
    *s = (void *)((intptr_t)*s + 1);
}

/* "N reason, M reason" sorted as upstream sorts them (as strings). */
static void render(cn_buf *b, sc_map *m)
{
    size_t n = 0;
    rcount *rc = cn_calloc(m->len + 1, sizeof *rc);
    for (size_t i = 0; i < m->cap; i++)
        if (cn_sc_map_live(m, i)) {
            rc[n].reason = cn_asprintf("%zu %s", (size_t)(intptr_t)m->vals[i], m->keys[i]);
            n++;
        }
    qsort(rc, n, sizeof *rc, rc_cmp);
    for (size_t i = 0; i < n; i++) {
        cn_buf_adds(b, i ? ", " : "");
        cn_buf_adds(b, rc[i].reason);
        free(rc[i].reason);
    }
    free(rc);
}

/* ---- preemption ---- */

static int victim_cmp(const void *a, const void *b)
{
    const cn_sched_pod *x = *(cn_sched_pod *const *)a, *y = *(cn_sched_pod *const *)b;
    if (x->priority != y->priority) return x->priority > y->priority ? -1 : 1;
    return x->created < y->created ? -1 : x->created > y->created;
}

/* What-if on node n: remove every lower-priority pod, see whether p fits,
 * then give back as many as possible (highest priority first). Returns the
 * victims (owned array) or NULL; r gets the reason when it does not help. */
static cn_sched_pod **victims_on(cycle *cy, cn_sched_node *n, size_t *nv, reasons *r)
{
    cn_sched_pod *p = cy->p;
    size_t nc = 0;
    cn_sched_pod **cand = cn_calloc(n->npods + 1, sizeof *cand);
    for (size_t i = 0; i < n->npods; i++)
        if (n->pods[i]->priority < p->priority && !n->pods[i]->deleting) cand[nc++] = n->pods[i];
    *nv = 0;
    if (!nc) {
        reason_add(r, false, MSG_NO_VICTIMS);
        free(cand);
        return NULL;
    }
    for (size_t i = 0; i < nc; i++) cn_sched_cache_unassign(cy->c, cand[i]);
    cycle_release(cy);
    prefilter(cy);
    reasons tmp = { 0 };
    if (filter(cy, n, &tmp) != 0) {
        for (size_t i = 0; i < nc; i++) cn_sched_cache_reassign(cy->c, cand[i]);
        reason_add(r, false, "%s", tmp.n ? tmp.r[0] : MSG_NO_VICTIMS);
        free(cand);
        cycle_release(cy);
        return NULL;
    }
    qsort(cand, nc, sizeof *cand, victim_cmp);
    cn_sched_pod **victims = cn_calloc(nc, sizeof *victims);
    for (size_t i = 0; i < nc; i++) {
        cn_sched_cache_reassign(cy->c, cand[i]);
        cycle_release(cy);
        prefilter(cy);
        if (filter(cy, n, NULL) != 0) {
            cn_sched_cache_unassign(cy->c, cand[i]);
            victims[(*nv)++] = cand[i];
        }
    }
    for (size_t i = 0; i < *nv; i++) cn_sched_cache_reassign(cy->c, victims[i]);
    cycle_release(cy);
    free(cand);
    return victims;
}

static void preempt(cycle *cy, const char *const *node_unresolvable, cn_sched_result *res, cn_buf *msg)
{
    cn_sched_cache *c = cy->c;
    sc_map why = { 0 };
    int64_t best_max = INT64_MAX, best_sum = INT64_MAX;
    size_t best_n = SIZE_MAX;
    for (size_t i = 0; i < c->nnodes; i++) {
        cn_sched_node *n = c->node_arr[i];
        if (node_unresolvable[i]) {
            tally(&why, MSG_NOT_HELPFUL);
            continue;
        }
        reasons r = { 0 };
        size_t nv = 0;
        cn_sched_pod **v = victims_on(cy, n, &nv, &r);
        if (!v) {
            tally(&why, r.n ? r.r[0] : MSG_NO_VICTIMS);
            continue;
        }
        int64_t mx = INT64_MIN, sum = 0;
        for (size_t j = 0; j < nv; j++) {
            if (v[j]->priority > mx) mx = v[j]->priority;
            sum += v[j]->priority;
        }
        if (mx < best_max || (mx == best_max && (sum < best_sum || (sum == best_sum && nv < best_n)))) {
            free(res->victims);
            res->victims = v;
            res->nvictims = nv;
            res->nominated = n;
            best_max = mx;
            best_sum = sum;
            best_n = nv;
        } else {
            free(v);
        }
    }
    if (!res->nominated) {
        cn_buf_addf(msg, " preemption: 0/%zu nodes are available: ", c->nnodes);
        render(msg, &why);
        cn_buf_adds(msg, ".");
    }
    cn_sc_map_clear(&why, NULL);
}

/* ---- the cycle ---- */

void cn_sched_schedule(cn_sched_cache *c, cn_sched_pod *p, int pct, bool want_preempt, cn_sched_result *res)
{
    memset(res, 0, sizeof *res);
    cycle cy = { .c = c, .p = p };
    prefilter(&cy);
    size_t n = c->nnodes, want = cn_sched_num_to_find(n, pct);
    size_t start = n ? c->next_start % n : 0, i;
    scored *fs = cn_calloc(want + 1, sizeof *fs);
    size_t nf = 0;
    for (i = 0; i < n && nf < want; i++) {
        cn_sched_node *node = c->node_arr[(start + i) % n];
        if (filter(&cy, node, NULL) == 0) fs[nf++].n = node;
    }
    c->next_start = n ? (start + i) % n : 0;
    res->evaluated = i;
    res->feasible = nf;
    if (nf) {
        int64_t mx[4] = { 0, 0, INT64_MIN, INT64_MIN }, mn[4] = { 0, 0, INT64_MAX, INT64_MAX };
        for (size_t j = 0; j < nf; j++) {
            score_node(&cy, &fs[j]);
            if (fs[j].naff > mx[0]) mx[0] = fs[j].naff;
            if (fs[j].taint > mx[1]) mx[1] = fs[j].taint;
            if (fs[j].ipa > mx[2]) mx[2] = fs[j].ipa;
            if (fs[j].ipa < mn[2]) mn[2] = fs[j].ipa;
            if (fs[j].spread > mx[3]) mx[3] = fs[j].spread;
            if (fs[j].spread < mn[3]) mn[3] = fs[j].spread;
        }
        int64_t best = INT64_MIN;
        size_t ties = 0;
        for (size_t j = 0; j < nf; j++) {
            int64_t t = total_score(p, &fs[j], mx, mn);
            if (t > best) { best = t; res->node = fs[j].n; ties = 1; }
            else if (t == best && rng_next(c) % ++ties == 0) res->node = fs[j].n;
        }
        free(fs);
        cycle_release(&cy);
        return;
    }
    free(fs);
    /* nothing fits: why, node by node (every node, for the message) */
    sc_map why = { 0 };
    const char **unres = cn_calloc(n + 1, sizeof *unres);
    for (i = 0; i < n; i++) {
        reasons r = { 0 };
        filter(&cy, c->node_arr[i], &r);
        for (int k = 0; k < r.n; k++) tally(&why, r.r[k]);
        unres[i] = r.unresolvable ? "" : NULL;
    }
    cn_buf msg;
    cn_buf_init(&msg);
    if (!n) cn_buf_adds(&msg, "no nodes available to schedule pods");
    else cn_buf_addf(&msg, "0/%zu nodes are available", n);
    if (why.len) {
        cn_buf_adds(&msg, ": ");
        render(&msg, &why);
    }
    cn_buf_adds(&msg, ".");
    if (want_preempt && p->never_preempt) cn_buf_adds(&msg, " preemption: not eligible due to preemptionPolicy=Never.");
    else if (want_preempt) preempt(&cy, unres, res, &msg);
    res->message = cn_buf_detach(&msg, NULL);
    cn_sc_map_clear(&why, NULL);
    free(unres);
    cycle_release(&cy);
}

void cn_sched_result_release(cn_sched_result *res)
{
    free(res->message);
    free(res->victims);
    memset(res, 0, sizeof *res);
}
