/* sched-internal: what the scheduler's files share — the parsed forms of
 * pods and nodes (model.c), the cluster cache with its indexes (cache.c) and
 * the scheduling algorithm over it (algo.c: filters, scores, preemption).
 *
 * Everything here is pure data and pure functions: no threads, no API
 * calls, so the unit tests (tests/unit/test_sched.c) drive the algorithm
 * with JSON pods and nodes and no server. sched.c adds the informers,
 * queues, binder threads, status patches and events around it.
 *
 * Parsing happens once per object change, never per scheduling attempt: a
 * scheduling cycle reads integers and C strings only. */
#ifndef CN_SCHED_INTERNAL_H
#define CN_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---- small string map (open addressing; keys owned by the map) ---- */

typedef struct sc_map {
    size_t cap, len;            /* cap: power of two */
    char **keys;
    void **vals;
} sc_map;

void *cn_sc_map_get(const sc_map *m, const char *key);
/* Returns the slot of key, inserting it with value NULL when absent. */
void **cn_sc_map_slot(sc_map *m, const char *key);
/* Removes key; returns its value (or NULL). */
void *cn_sc_map_del(sc_map *m, const char *key);
void cn_sc_map_clear(sc_map *m, void (*free_val)(void *));
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->keys[i] && m->keys[i] != tomb) */
bool cn_sc_map_live(const sc_map *m, size_t i);

/* ---- parsed objects ---- */

typedef struct sc_labels {
    size_t n;
    char **k, **v;
} sc_labels;

const char *cn_sc_label(const sc_labels *l, const char *key);

typedef struct sc_xres { char *name; int64_t v; } sc_xres;

/* Resources as integers: cpu in millicores, the rest in units (bytes). */
typedef struct sc_res {
    int64_t cpu, mem, eph, pods;
    size_t nx;
    sc_xres *x;                 /* extended resources (nvidia.com/gpu, hugepages-*) */
} sc_res;

int64_t cn_sc_res_x(const sc_res *r, const char *name);

enum sc_op { SC_IN, SC_NOTIN, SC_EXISTS, SC_DNE, SC_GT, SC_LT };

typedef struct sc_req {
    char *key;
    enum sc_op op;
    size_t nv;
    char **vals;
    int64_t num;                /* Gt/Lt */
} sc_req;

/* A label selector (matchLabels folded into In requirements). none: a
 * null selector, which matches nothing (pod affinity terms). */
typedef struct sc_sel {
    bool none;
    size_t n;
    sc_req *r;
} sc_sel;

bool cn_sc_sel_matches(const sc_sel *s, const sc_labels *l);

typedef struct sc_nterm {       /* nodeSelectorTerm: ANDed */
    sc_sel exprs;
    sc_sel fields;              /* matchFields on metadata.name */
    int32_t weight;             /* preferred terms */
} sc_nterm;

enum sc_effect { SC_EFF_ANY, SC_NOSCHEDULE, SC_PREFERNOSCHEDULE, SC_NOEXECUTE };

typedef struct sc_taint { char *key, *value; enum sc_effect effect; } sc_taint;
typedef struct sc_tol { char *key, *value; bool exists; enum sc_effect effect; } sc_tol;

typedef struct sc_pterm {       /* pod (anti-)affinity term */
    sc_sel sel;
    char *topo;
    bool all_ns;                /* namespaceSelector {} */
    size_t nns;
    char **ns;                  /* empty and !all_ns: the pod's namespace */
    int32_t weight;
} sc_pterm;

typedef struct sc_spread {
    int32_t max_skew, min_domains;
    char *topo;
    bool hard;                  /* DoNotSchedule */
    sc_sel sel;
} sc_spread;

typedef struct sc_port { char proto[8]; char *ip; int32_t port; } sc_port;

typedef struct cn_sched_node cn_sched_node;

typedef struct cn_sched_pod {
    json_t *obj;                /* the object (owned reference) */
    char *ns, *name, *uid, *node_name, *scheduler, *pc_name;
    int32_t priority;
    bool has_priority, deleting, terminal;
    bool never_preempt;         /* preemptionPolicy: Never */
    int64_t created;            /* creationTimestamp, epoch seconds */
    sc_res req;                 /* max(sum containers, max init) + overhead */
    int64_t nz_cpu, nz_mem;     /* requests with upstream's non-zero defaults (scoring) */
    sc_labels labels;
    sc_labels node_selector;
    size_t nreq_terms;          /* required node affinity: ORed terms */
    sc_nterm *req_terms;
    size_t npref_terms;
    sc_nterm *pref_terms;
    size_t ntols;
    sc_tol *tols;
    size_t naff, nanti, npaff, npanti;
    sc_pterm *aff, *anti, *paff, *panti;   /* required / preferred */
    size_t nspread;
    sc_spread *spread;
    size_t nports;
    sc_port *ports;
    /* cache bookkeeping */
    cn_sched_node *node;        /* assigned (bound or assumed) */
    size_t node_slot;
    bool assumed;
    int64_t queued_ms;          /* when it entered the queue (latency) */
} cn_sched_pod;

struct cn_sched_node {
    char *name;
    sc_labels labels;
    size_t ntaints;
    sc_taint *taints;
    bool ready, unknown, unschedulable;
    sc_res alloc;
    /* cache bookkeeping */
    sc_res used;                /* sum of assigned pods' requests */
    int64_t nz_cpu, nz_mem;
    size_t npods, podcap;
    cn_sched_pod **pods;
    size_t nports, portcap;
    sc_port *ports;             /* borrowed from pods */
    size_t slot;                /* index in the cache's node array */
    size_t nanti;               /* assigned pods with required anti-affinity */
};

/* Parse; NULL on an object without a name. The pod keeps a reference. */
cn_sched_pod *cn_sched_pod_parse(json_t *obj);
void cn_sched_pod_free(cn_sched_pod *p);
cn_sched_node *cn_sched_node_parse(const json_t *obj);
void cn_sched_node_free(cn_sched_node *n);
/* Did anything the scheduler looks at change (labels, taints, allocatable,
 * readiness, unschedulable)? */
bool cn_sched_node_differs(const cn_sched_node *a, const cn_sched_node *b);
/* Accounting helpers for the cache: dst += sign * o; the new parse of a
 * node takes over the old one's pods and sums. */
void cn_sc_res_add(sc_res *dst, const sc_res *o, int sign);
void cn_sc_node_move_state(cn_sched_node *dst, cn_sched_node *src);
/* Quantity to integer: cpu in milli (rounded up), others in units. */
int cn_sc_quantity(const char *s, bool milli, int64_t *out);

/* ---- the cache ---- */

typedef struct cn_sched_cache {
    sc_map nodes;               /* name -> node */
    size_t nnodes, nodecap;
    cn_sched_node **node_arr;
    sc_map pods;                /* "ns/name" -> assigned pod */
    sc_map by_label;            /* "k=v" -> sc_plist of assigned pods */
    sc_map anti_by_label;       /* "k=v" -> sc_plist of assigned pods with anti-affinity keyed so */
    struct sc_plist *anti_other;/* anti-affinity pods whose terms have no k=v to key on */
    sc_map pclasses;            /* PriorityClass name -> (intptr_t)value+1 */
    sc_map memos;               /* signature -> sc_memo */
    sc_map domains;             /* topology key -> sc_map (value -> (intptr_t) nodes) */
    uint64_t tick;
    size_t next_start;          /* round-robin start of the node scan */
    uint64_t rng;
} cn_sched_cache;

typedef struct sc_plist { size_t n, cap; cn_sched_pod **p; } sc_plist;

/* Incrementally kept counts of assigned pods matching (namespace,
 * selector) per value of a topology key: what topology spread needs,
 * without a scan of all pods per cycle. Created on first use (one scan),
 * then kept current by every attach/detach. */
typedef struct sc_memo {
    char *ns, *topo;
    sc_sel sel;                 /* owned copy */
    sc_map counts;              /* value -> (intptr_t) count */
    uint64_t used;
} sc_memo;

void cn_sched_cache_init(cn_sched_cache *c);
void cn_sched_cache_release(cn_sched_cache *c);
/* Nodes: the cache owns n (an existing one of the same name is replaced,
 * keeping its pods). Returns the node kept. */
cn_sched_node *cn_sched_cache_set_node(cn_sched_cache *c, cn_sched_node *n);
void cn_sched_cache_del_node(cn_sched_cache *c, const char *name);
cn_sched_node *cn_sched_cache_node(cn_sched_cache *c, const char *name);
/* Pods with a node (bound, or assumed by us): the cache owns p. If the
 * node is not known yet the pod is still kept (and counted once the node
 * appears). A pod of the same key is replaced. */
void cn_sched_cache_add_pod(cn_sched_cache *c, cn_sched_pod *p);
/* Remove and free the pod of that key, if any. */
void cn_sched_cache_del_pod(cn_sched_cache *c, const char *ns, const char *name);
cn_sched_pod *cn_sched_cache_pod(cn_sched_cache *c, const char *ns, const char *name);
/* Detach/attach a pod from its node's accounting without freeing it
 * (preemption's what-if). */
void cn_sched_cache_unassign(cn_sched_cache *c, cn_sched_pod *p);
void cn_sched_cache_reassign(cn_sched_cache *c, cn_sched_pod *p);
void cn_sched_cache_set_pclass(cn_sched_cache *c, const char *name, int32_t value, bool global_default);
void cn_sched_cache_del_pclass(cn_sched_cache *c, const char *name);
/* Fill p->priority from its PriorityClass when the pod has none. */
void cn_sched_cache_resolve_priority(cn_sched_cache *c, cn_sched_pod *p);
const sc_plist *cn_sched_cache_with_label(cn_sched_cache *c, const char *k, const char *v);
/* The spread memo for (ns, topo, sel), created on first use. */
sc_memo *cn_sched_cache_memo(cn_sched_cache *c, const char *ns, const char *topo, const sc_sel *sel);
/* The values of topology key `key` over all nodes (value -> node count). */
const sc_map *cn_sched_cache_domains(cn_sched_cache *c, const char *key);
/* Selector copies (model.c). */
void cn_sc_sel_copy(sc_sel *dst, const sc_sel *src);
void cn_sc_sel_free(sc_sel *s);
/* A canonical text of a selector, appended to b. */
struct cn_buf;
void cn_sc_sel_sig(struct cn_buf *b, const sc_sel *s);

/* ---- the algorithm ---- */

typedef struct cn_sched_result {
    cn_sched_node *node;        /* chosen, or NULL */
    char *message;              /* on failure: "0/5 nodes are available: ..." (owned) */
    /* Preemption (when node == NULL and victims were found). */
    cn_sched_node *nominated;
    size_t nvictims;
    cn_sched_pod **victims;     /* borrowed from the cache */
    size_t feasible, evaluated;
} cn_sched_result;

/* One scheduling cycle for p (not in the cache) over the cache.
 * pct: percentageOfNodesToScore (0 adaptive). preempt: try preemption
 * when nothing fits. */
void cn_sched_schedule(cn_sched_cache *c, cn_sched_pod *p, int pct, bool preempt,
                       cn_sched_result *res);
void cn_sched_result_release(cn_sched_result *res);
/* The upstream number of feasible nodes to look for among n. */
size_t cn_sched_num_to_find(size_t n, int pct);

#endif
