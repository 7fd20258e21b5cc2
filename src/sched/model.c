/* model: pods and nodes parsed once from their JSON into the integer and
 * C-string form the scheduling cycle reads (sched-internal.h), plus the
 * small string map the cache indexes use. Parsing is lenient: the API
 * server has validated the objects, so a field of an unexpected shape is
 * simply absent here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/quantity.h"
#include "lib/util.h"
#include "sched/sched-internal.h"

/* ---- string map ---- */

static char tomb[1];

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

bool cn_sc_map_live(const sc_map *m, size_t i)
{
    return m->keys[i] && m->keys[i] != tomb;
}

static size_t map_find(const sc_map *m, const char *key)
{
    size_t mask = m->cap - 1, i = hash_str(key) & mask;
    while (m->keys[i]) {
        if (m->keys[i] != tomb && !strcmp(m->keys[i], key)) return i;
        i = (i + 1) & mask;
    }
    return SIZE_MAX;
}

void *cn_sc_map_get(const sc_map *m, const char *key)
{
    if (!m->cap) return NULL;
    size_t i = map_find(m, key);
    return i == SIZE_MAX ? NULL : m->vals[i];
}

/* Rehash, dropping tombstones, to a load of at most 1/4, so the next
 * rehash is at least cap/4 inserts away whatever the churn. */
static void map_grow(sc_map *m)
{
    size_t live = 0;
    for (size_t i = 0; i < m->cap; i++) live += cn_sc_map_live(m, i);
    sc_map n = { .cap = 16 };
    while ((live + 1) * 4 > n.cap) n.cap *= 2;
    n.keys = cn_calloc(n.cap, sizeof *n.keys);
    n.vals = cn_calloc(n.cap, sizeof *n.vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!cn_sc_map_live(m, i)) continue;
        size_t j = hash_str(m->keys[i]) & (n.cap - 1);
        while (n.keys[j]) j = (j + 1) & (n.cap - 1);
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
        n.len++;
    }
    free(m->keys);
    free(m->vals);
    *m = n;
}

void **cn_sc_map_slot(sc_map *m, const char *key)
{
    if (m->cap) {
        size_t i = map_find(m, key);
        if (i != SIZE_MAX) return &m->vals[i];
    }
    /* tombstones count as used so probes stay short; grow (and drop them)
     * at half full */
    if ((m->len + 1) * 2 > m->cap) map_grow(m);
    size_t mask = m->cap - 1, i = hash_str(key) & mask;
    while (m->keys[i] && m->keys[i] != tomb) i = (i + 1) & mask;
    m->keys[i] = cn_strdup(key);
    m->vals[i] = NULL;
    m->len++;
    return &m->vals[i];
}

void *cn_sc_map_del(sc_map *m, const char *key)
{
    if (!m->cap) return NULL;
    size_t i = map_find(m, key);
    if (i == SIZE_MAX) return NULL;
    void *v = m->vals[i];
    free(m->keys[i]);
    m->keys[i] = tomb;
    m->vals[i] = NULL;
    /* len keeps counting the tombstone until the next grow, so the table
     * never fills up with them */
    return v;
}

void cn_sc_map_clear(sc_map *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (!cn_sc_map_live(m, i)) continue;
        if (free_val) free_val(m->vals[i]);
        free(m->keys[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- quantities ---- */

/* Integer form of a quantity through lib/quantity (cpu in milli). */
int cn_sc_quantity(const char *s, bool milli, int64_t *out)
{
    if (!s || !*s) return -EINVAL;
    return milli ? cn_quantity_milli(s, out) : cn_quantity_value(s, out);
}

/* ---- helpers ---- */

static char *dup_str(const json_t *v)
{
    return cn_strdup(json_is_string(v) ? json_string_value(v) : "");
}

static const json_t *jpath(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

static void labels_parse(sc_labels *l, const json_t *obj)
{
    memset(l, 0, sizeof *l);
    if (!json_is_object(obj) || !json_object_size(obj)) return;
    size_t n = json_object_size(obj);
    l->k = cn_calloc(n, sizeof *l->k);
    l->v = cn_calloc(n, sizeof *l->v);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!json_is_string(v)) continue;
        l->k[l->n] = cn_strdup(k);
        l->v[l->n] = cn_strdup(json_string_value(v));
        l->n++;
    }
}

static void labels_free(sc_labels *l)
{
    for (size_t i = 0; i < l->n; i++) { free(l->k[i]); free(l->v[i]); }
    free(l->k);
    free(l->v);
}

static bool labels_equal(const sc_labels *a, const sc_labels *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        const char *v = cn_sc_label(b, a->k[i]);
        if (!v || strcmp(v, a->v[i])) return false;
    }
    return true;
}

const char *cn_sc_label(const sc_labels *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->k[i], key)) return l->v[i];
    return NULL;
}

int64_t cn_sc_res_x(const sc_res *r, const char *name)
{
    for (size_t i = 0; i < r->nx; i++)
        if (!strcmp(r->x[i].name, name)) return r->x[i].v;
    return 0;
}

static void res_set_x(sc_res *r, const char *name, int64_t v, bool add)
{
    for (size_t i = 0; i < r->nx; i++)
        if (!strcmp(r->x[i].name, name)) { r->x[i].v = add ? r->x[i].v + v : v; return; }
    r->x = cn_realloc(r->x, (r->nx + 1) * sizeof *r->x);
    r->x[r->nx].name = cn_strdup(name);
    r->x[r->nx].v = v;
    r->nx++;
}

static void res_free(sc_res *r)
{
    for (size_t i = 0; i < r->nx; i++) free(r->x[i].name);
    free(r->x);
    memset(r, 0, sizeof *r);
}

/* Parse a resource list into r (adding to it when add, else max'ing). */
static void res_parse(sc_res *r, const json_t *list, bool add)
{
    const char *k;
    json_t *v;
    if (!json_is_object(list)) return;
    json_object_foreach((json_t *)list, k, v) {
        int64_t q;
        const char *s = json_string_value(v);
        char num[32];
        if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        }
        if (!s || cn_sc_quantity(s, !strcmp(k, "cpu"), &q) < 0) continue;
        int64_t *f = !strcmp(k, "cpu") ? &r->cpu : !strcmp(k, "memory") ? &r->mem
                   : !strcmp(k, "ephemeral-storage") ? &r->eph : !strcmp(k, "pods") ? &r->pods : NULL;
        if (f) {
            *f = add ? *f + q : (q > *f ? q : *f);
        } else if (strchr(k, '/') || cn_str_has_prefix(k, "hugepages-")) {
            int64_t cur = cn_sc_res_x(r, k);
            res_set_x(r, k, add ? q : (q > cur ? q : cur), false);
        }
    }
}

static void res_max(sc_res *dst, const sc_res *o)
{
    if (o->cpu > dst->cpu) dst->cpu = o->cpu;
    if (o->mem > dst->mem) dst->mem = o->mem;
    if (o->eph > dst->eph) dst->eph = o->eph;
    for (size_t i = 0; i < o->nx; i++)
        if (o->x[i].v > cn_sc_res_x(dst, o->x[i].name)) res_set_x(dst, o->x[i].name, o->x[i].v, false);
}

static void res_add(sc_res *dst, const sc_res *o)
{
    dst->cpu += o->cpu;
    dst->mem += o->mem;
    dst->eph += o->eph;
    for (size_t i = 0; i < o->nx; i++) res_set_x(dst, o->x[i].name, o->x[i].v, true);
}

static enum sc_op op_parse(const char *s)
{
    if (!strcmp(s, "In")) return SC_IN;
    if (!strcmp(s, "NotIn")) return SC_NOTIN;
    if (!strcmp(s, "Exists")) return SC_EXISTS;
    if (!strcmp(s, "DoesNotExist")) return SC_DNE;
    if (!strcmp(s, "Gt")) return SC_GT;
    if (!strcmp(s, "Lt")) return SC_LT;
    return SC_IN;
}

static void req_add(sc_sel *s, const char *key, enum sc_op op, const json_t *vals)
{
    s->r = cn_realloc(s->r, (s->n + 1) * sizeof *s->r);
    sc_req *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    r->key = cn_strdup(key);
    r->op = op;
    if (json_is_string(vals)) {
        r->vals = cn_calloc(1, sizeof *r->vals);
        r->vals[r->nv++] = cn_strdup(json_string_value(vals));
    } else if (json_is_array(vals) && json_array_size(vals)) {
        r->vals = cn_calloc(json_array_size(vals), sizeof *r->vals);
        size_t i;
        json_t *v;
        json_array_foreach(vals, i, v)
            if (json_is_string(v)) r->vals[r->nv++] = cn_strdup(json_string_value(v));
    }
    if ((op == SC_GT || op == SC_LT) && r->nv) r->num = strtoll(r->vals[0], NULL, 10);
}

/* matchExpressions array (and matchLabels object) into s. */
static void sel_parse_exprs(sc_sel *s, const json_t *exprs)
{
    size_t i;
    json_t *e;
    json_array_foreach(exprs, i, e) {
        const char *key = json_string_value(json_object_get(e, "key"));
        const char *op = json_string_value(json_object_get(e, "operator"));
        if (key && op) req_add(s, key, op_parse(op), json_object_get(e, "values"));
    }
}

static void sel_parse(sc_sel *s, const json_t *ls)
{
    memset(s, 0, sizeof *s);
    if (!json_is_object(ls)) { s->none = true; return; }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(ls, "matchLabels"), k, v) req_add(s, k, SC_IN, v);
    sel_parse_exprs(s, json_object_get(ls, "matchExpressions"));
}

static void sel_free(sc_sel *s)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->r[i].nv; j++) free(s->r[i].vals[j]);
        free(s->r[i].vals);
        free(s->r[i].key);
    }
    free(s->r);
}

void cn_sc_sel_free(sc_sel *s)
{
    sel_free(s);
    memset(s, 0, sizeof *s);
}

void cn_sc_sel_copy(sc_sel *dst, const sc_sel *src)
{
    memset(dst, 0, sizeof *dst);
    dst->none = src->none;
    dst->n = src->n;
    dst->r = cn_calloc(src->n + 1, sizeof *dst->r);
    for (size_t i = 0; i < src->n; i++) {
        const sc_req *r = &src->r[i];
        sc_req *o = &dst->r[i];
        o->key = cn_strdup(r->key);
        o->op = r->op;
        o->num = r->num;
        o->nv = r->nv;
        o->vals = cn_calloc(r->nv + 1, sizeof *o->vals);
        for (size_t j = 0; j < r->nv; j++) o->vals[j] = cn_strdup(r->vals[j]);
    }
}

void cn_sc_sel_sig(cn_buf *b, const sc_sel *s)
{
    if (s->none) { cn_buf_adds(b, "!none"); return; }
    for (size_t i = 0; i < s->n; i++) {
        cn_buf_addf(b, "%s\x02%d", s->r[i].key, (int)s->r[i].op);
        for (size_t j = 0; j < s->r[i].nv; j++) cn_buf_addf(b, "\x03%s", s->r[i].vals[j]);
        cn_buf_addc(b, '\x04');
    }
}

static bool req_matches(const sc_req *r, const char *v)
{
    switch (r->op) {
    case SC_IN:
    case SC_NOTIN: {
        bool in = false;
        if (v)
            for (size_t i = 0; i < r->nv && !in; i++) in = !strcmp(r->vals[i], v);
        return r->op == SC_IN ? in : !in;
    }
    case SC_EXISTS: return v != NULL;
    case SC_DNE: return v == NULL;
    case SC_GT:
    case SC_LT: {
        if (!v || !*v) return false;
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (*end || errno) return false;
        return r->op == SC_GT ? n > r->num : n < r->num;
    }
    }
    return false;
}

bool cn_sc_sel_matches(const sc_sel *s, const sc_labels *l)
{
    if (s->none) return false;
    for (size_t i = 0; i < s->n; i++)
        if (!req_matches(&s->r[i], cn_sc_label(l, s->r[i].key))) return false;
    return true;
}

static void nterm_parse(sc_nterm *t, const json_t *term, int32_t weight)
{
    memset(t, 0, sizeof *t);
    sel_parse_exprs(&t->exprs, json_object_get(term, "matchExpressions"));
    sel_parse_exprs(&t->fields, json_object_get(term, "matchFields"));
    t->weight = weight;
}

static void pterms_parse(const json_t *arr, bool weighted, size_t *n, sc_pterm **out)
{
    *n = 0;
    *out = NULL;
    if (!json_is_array(arr) || !json_array_size(arr)) return;
    *out = cn_calloc(json_array_size(arr), sizeof **out);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const json_t *t = weighted ? json_object_get(e, "podAffinityTerm") : e;
        sc_pterm *p = &(*out)[(*n)++];
        sel_parse(&p->sel, json_object_get(t, "labelSelector"));
        p->topo = dup_str(json_object_get(t, "topologyKey"));
        const json_t *nsel = json_object_get(t, "namespaceSelector");
        /* an empty namespaceSelector means all namespaces; a non-empty one
         * is treated as all namespaces too (namespace labels are not
         * followed), which errs on the side of honouring the rule */
        p->all_ns = json_is_object(nsel);
        const json_t *nss = json_object_get(t, "namespaces");
        if (json_is_array(nss) && json_array_size(nss)) {
            p->ns = cn_calloc(json_array_size(nss), sizeof *p->ns);
            size_t j;
            json_t *s;
            json_array_foreach(nss, j, s) p->ns[p->nns++] = dup_str(s);
        }
        p->weight = weighted ? (int32_t)json_integer_value(json_object_get(e, "weight")) : 0;
    }
}

static void pterms_free(size_t n, sc_pterm *t)
{
    for (size_t i = 0; i < n; i++) {
        sel_free(&t[i].sel);
        free(t[i].topo);
        for (size_t j = 0; j < t[i].nns; j++) free(t[i].ns[j]);
        free(t[i].ns);
    }
    free(t);
}

static enum sc_effect effect_parse(const char *s)
{
    if (!s || !*s) return SC_EFF_ANY;
    if (!strcmp(s, "NoSchedule")) return SC_NOSCHEDULE;
    if (!strcmp(s, "PreferNoSchedule")) return SC_PREFERNOSCHEDULE;
    if (!strcmp(s, "NoExecute")) return SC_NOEXECUTE;
    return SC_EFF_ANY;
}

/* ---- pods ---- */

#define DEFAULT_MILLI_CPU 100          /* upstream's non-zero request defaults */
#define DEFAULT_MEMORY (200LL * 1024 * 1024)

static void containers_requests(const json_t *spec, sc_res *req, int64_t *nz_cpu, int64_t *nz_mem,
                                size_t *nports, sc_port **ports)
{
    sc_res sum = { 0 }, init = { 0 };
    int64_t nzc = 0, nzm = 0, inzc = 0, inzm = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c) {
        sc_res one = { 0 };
        res_parse(&one, jpath(c, "resources", "requests"), true);
        nzc += one.cpu ? one.cpu : DEFAULT_MILLI_CPU;
        nzm += one.mem ? one.mem : DEFAULT_MEMORY;
        res_add(&sum, &one);
        res_free(&one);
        size_t j;
        json_t *port;
        json_array_foreach(json_object_get(c, "ports"), j, port) {
            json_int_t hp = json_integer_value(json_object_get(port, "hostPort"));
            if (hp <= 0) continue;
            *ports = cn_realloc(*ports, (*nports + 1) * sizeof **ports);
            sc_port *p = &(*ports)[(*nports)++];
            const char *proto = json_string_value(json_object_get(port, "protocol"));
            snprintf(p->proto, sizeof p->proto, "%s", proto && *proto ? proto : "TCP");
            const char *ip = json_string_value(json_object_get(port, "hostIP"));
            p->ip = cn_strdup(ip && *ip ? ip : "0.0.0.0");
            p->port = (int32_t)hp;
        }
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
        sc_res one = { 0 };
        res_parse(&one, jpath(c, "resources", "requests"), true);
        /* a restartable (sidecar) init container keeps running: it adds up */
        const char *rp = json_string_value(json_object_get(c, "restartPolicy"));
        if (rp && !strcmp(rp, "Always")) {
            res_add(&sum, &one);
            nzc += one.cpu;
            nzm += one.mem;
        } else {
            res_max(&init, &one);
            if (one.cpu > inzc) inzc = one.cpu;
            if (one.mem > inzm) inzm = one.mem;
        }
        res_free(&one);
    }
    res_max(&sum, &init);
    if (inzc > nzc) nzc = inzc;
    if (inzm > nzm) nzm = inzm;
    sc_res over = { 0 };
    res_parse(&over, json_object_get(spec, "overhead"), true);
    res_add(&sum, &over);
    nzc += over.cpu;
    nzm += over.mem;
    res_free(&over);
    res_free(&init);
    sum.pods = 1;
    *req = sum;
    *nz_cpu = nzc;
    *nz_mem = nzm;
}

static void tols_parse(cn_sched_pod *p, const json_t *arr)
{
    if (!json_is_array(arr) || !json_array_size(arr)) return;
    p->tols = cn_calloc(json_array_size(arr), sizeof *p->tols);
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t) {
        sc_tol *o = &p->tols[p->ntols++];
        o->key = dup_str(json_object_get(t, "key"));
        o->value = dup_str(json_object_get(t, "value"));
        const char *op = json_string_value(json_object_get(t, "operator"));
        o->exists = op && !strcmp(op, "Exists");
        o->effect = effect_parse(json_string_value(json_object_get(t, "effect")));
    }
}

cn_sched_pod *cn_sched_pod_parse(json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!name) return NULL;
    cn_sched_pod *p = cn_calloc(1, sizeof *p);
    p->obj = json_incref(obj);
    p->name = cn_strdup(name);
    p->ns = dup_str(json_object_get(meta, "namespace"));
    p->uid = dup_str(json_object_get(meta, "uid"));
    p->node_name = dup_str(json_object_get(spec, "nodeName"));
    const char *sn = json_string_value(json_object_get(spec, "schedulerName"));
    p->scheduler = cn_strdup(sn && *sn ? sn : "default-scheduler");
    p->pc_name = dup_str(json_object_get(spec, "priorityClassName"));
    const json_t *prio = json_object_get(spec, "priority");
    p->has_priority = json_is_integer(prio);
    p->priority = (int32_t)json_integer_value(prio);
    p->deleting = json_object_get(meta, "deletionTimestamp") != NULL;
    const char *pp = json_string_value(json_object_get(spec, "preemptionPolicy"));
    p->never_preempt = pp && !strcmp(pp, "Never");
    const char *phase = json_string_value(jpath(obj, "status", "phase"));
    p->terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
    const char *ct = json_string_value(json_object_get(meta, "creationTimestamp"));
    if (ct) cn_time_parse(ct, &p->created);
    labels_parse(&p->labels, json_object_get(meta, "labels"));
    containers_requests(spec, &p->req, &p->nz_cpu, &p->nz_mem, &p->nports, &p->ports);
    labels_parse(&p->node_selector, json_object_get(spec, "nodeSelector"));

    const json_t *aff = json_object_get(spec, "affinity");
    const json_t *na = json_object_get(aff, "nodeAffinity");
    const json_t *rq = jpath(json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution"),
                             "nodeSelectorTerms", NULL);
    size_t i;
    json_t *t;
    if (json_is_array(rq) && json_array_size(rq)) {
        p->req_terms = cn_calloc(json_array_size(rq), sizeof *p->req_terms);
        json_array_foreach(rq, i, t) nterm_parse(&p->req_terms[p->nreq_terms++], t, 0);
    } else if (json_is_array(rq)) {
        /* an empty nodeSelectorTerms list matches no node */
        p->req_terms = cn_calloc(1, sizeof *p->req_terms);
        p->nreq_terms = 0;
    }
    const json_t *pf = json_object_get(na, "preferredDuringSchedulingIgnoredDuringExecution");
    if (json_is_array(pf) && json_array_size(pf)) {
        p->pref_terms = cn_calloc(json_array_size(pf), sizeof *p->pref_terms);
        json_array_foreach(pf, i, t)
            nterm_parse(&p->pref_terms[p->npref_terms++], json_object_get(t, "preference"),
                        (int32_t)json_integer_value(json_object_get(t, "weight")));
    }
    const json_t *pa = json_object_get(aff, "podAffinity"), *paa = json_object_get(aff, "podAntiAffinity");
    pterms_parse(json_object_get(pa, "requiredDuringSchedulingIgnoredDuringExecution"), false, &p->naff, &p->aff);
    pterms_parse(json_object_get(paa, "requiredDuringSchedulingIgnoredDuringExecution"), false, &p->nanti, &p->anti);
    pterms_parse(json_object_get(pa, "preferredDuringSchedulingIgnoredDuringExecution"), true, &p->npaff, &p->paff);
    pterms_parse(json_object_get(paa, "preferredDuringSchedulingIgnoredDuringExecution"), true, &p->npanti, &p->panti);
    tols_parse(p, json_object_get(spec, "tolerations"));

    const json_t *tsc = json_object_get(spec, "topologySpreadConstraints");
    if (json_is_array(tsc) && json_array_size(tsc)) {
        p->spread = cn_calloc(json_array_size(tsc), sizeof *p->spread);
        json_array_foreach(tsc, i, t) {
            sc_spread *s = &p->spread[p->nspread++];
            s->max_skew = (int32_t)json_integer_value(json_object_get(t, "maxSkew"));
            if (s->max_skew < 1) s->max_skew = 1;
            const json_t *md = json_object_get(t, "minDomains");
            s->min_domains = json_is_integer(md) ? (int32_t)json_integer_value(md) : 1;
            s->topo = dup_str(json_object_get(t, "topologyKey"));
            const char *w = json_string_value(json_object_get(t, "whenUnsatisfiable"));
            s->hard = !w || strcmp(w, "ScheduleAnyway");
            sel_parse(&s->sel, json_object_get(t, "labelSelector"));
            /* matchLabelKeys: the pod's own values join the selector */
            size_t j;
            json_t *k;
            json_array_foreach(json_object_get(t, "matchLabelKeys"), j, k) {
                const char *v = json_is_string(k) ? cn_sc_label(&p->labels, json_string_value(k)) : NULL;
                if (v) {
                    json_t *vs = json_string(v);
                    req_add(&s->sel, json_string_value(k), SC_IN, vs);
                    json_decref(vs);
                }
            }
        }
    }
    return p;
}

void cn_sched_pod_free(cn_sched_pod *p)
{
    if (!p) return;
    json_decref(p->obj);
    free(p->ns); free(p->name); free(p->uid); free(p->node_name);
    free(p->scheduler); free(p->pc_name);
    res_free(&p->req);
    labels_free(&p->labels);
    labels_free(&p->node_selector);
    for (size_t i = 0; i < p->nreq_terms; i++) { sel_free(&p->req_terms[i].exprs); sel_free(&p->req_terms[i].fields); }
    free(p->req_terms);
    for (size_t i = 0; i < p->npref_terms; i++) { sel_free(&p->pref_terms[i].exprs); sel_free(&p->pref_terms[i].fields); }
    free(p->pref_terms);
    for (size_t i = 0; i < p->ntols; i++) { free(p->tols[i].key); free(p->tols[i].value); }
    free(p->tols);
    pterms_free(p->naff, p->aff);
    pterms_free(p->nanti, p->anti);
    pterms_free(p->npaff, p->paff);
    pterms_free(p->npanti, p->panti);
    for (size_t i = 0; i < p->nspread; i++) { free(p->spread[i].topo); sel_free(&p->spread[i].sel); }
    free(p->spread);
    for (size_t i = 0; i < p->nports; i++) free(p->ports[i].ip);
    free(p->ports);
    free(p);
}

/* ---- nodes ---- */

cn_sched_node *cn_sched_node_parse(const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!name) return NULL;
    cn_sched_node *n = cn_calloc(1, sizeof *n);
    n->name = cn_strdup(name);
    labels_parse(&n->labels, json_object_get(meta, "labels"));
    n->unschedulable = json_is_true(json_object_get(spec, "unschedulable"));
    const json_t *taints = json_object_get(spec, "taints");
    if (json_is_array(taints) && json_array_size(taints)) {
        n->taints = cn_calloc(json_array_size(taints), sizeof *n->taints);
        size_t i;
        json_t *t;
        json_array_foreach(taints, i, t) {
            sc_taint *o = &n->taints[n->ntaints++];
            o->key = dup_str(json_object_get(t, "key"));
            o->value = dup_str(json_object_get(t, "value"));
            o->effect = effect_parse(json_string_value(json_object_get(t, "effect")));
        }
    }
    const json_t *status = json_object_get(obj, "status");
    const json_t *alloc = json_object_get(status, "allocatable");
    res_parse(&n->alloc, json_object_size(alloc) ? alloc : json_object_get(status, "capacity"), true);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (type && st && !strcmp(type, "Ready")) {
            n->ready = !strcmp(st, "True");
            n->unknown = !strcmp(st, "Unknown");
        }
    }
    return n;
}

static void node_release(cn_sched_node *n)
{
    free(n->name);
    labels_free(&n->labels);
    for (size_t i = 0; i < n->ntaints; i++) { free(n->taints[i].key); free(n->taints[i].value); }
    free(n->taints);
    res_free(&n->alloc);
    res_free(&n->used);
    free(n->pods);
    free(n->ports);
}

void cn_sched_node_free(cn_sched_node *n)
{
    if (!n) return;
    node_release(n);
    free(n);
}

static bool res_equal(const sc_res *a, const sc_res *b)
{
    if (a->cpu != b->cpu || a->mem != b->mem || a->eph != b->eph || a->pods != b->pods || a->nx != b->nx)
        return false;
    for (size_t i = 0; i < a->nx; i++)
        if (cn_sc_res_x(b, a->x[i].name) != a->x[i].v) return false;
    return true;
}

bool cn_sched_node_differs(const cn_sched_node *a, const cn_sched_node *b)
{
    if (a->ready != b->ready || a->unknown != b->unknown || a->unschedulable != b->unschedulable ||
        a->ntaints != b->ntaints || !labels_equal(&a->labels, &b->labels) || !res_equal(&a->alloc, &b->alloc))
        return true;
    for (size_t i = 0; i < a->ntaints; i++)
        if (strcmp(a->taints[i].key, b->taints[i].key) || strcmp(a->taints[i].value, b->taints[i].value) ||
            a->taints[i].effect != b->taints[i].effect)
            return true;
    return false;
}

void cn_sc_res_add(sc_res *dst, const sc_res *o, int sign)
{
    dst->cpu += sign * o->cpu;
    dst->mem += sign * o->mem;
    dst->eph += sign * o->eph;
    dst->pods += sign * o->pods;
    for (size_t i = 0; i < o->nx; i++) res_set_x(dst, o->x[i].name, sign * o->x[i].v, true);
}

/* The new parse of a node takes over the old one's accounting. */
void cn_sc_node_move_state(cn_sched_node *dst, cn_sched_node *src)
{
    res_free(&dst->used);
    dst->used = src->used;
    memset(&src->used, 0, sizeof src->used);
    dst->nz_cpu = src->nz_cpu;
    dst->nz_mem = src->nz_mem;
    dst->npods = src->npods; dst->podcap = src->podcap; dst->pods = src->pods;
    src->pods = NULL; src->npods = src->podcap = 0;
    dst->nports = src->nports; dst->portcap = src->portcap; dst->ports = src->ports;
    src->ports = NULL; src->nports = src->portcap = 0;
    dst->slot = src->slot;
    dst->nanti = src->nanti;
    for (size_t i = 0; i < dst->npods; i++) dst->pods[i]->node = dst;
}
