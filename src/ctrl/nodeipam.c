/* nodeipam: see nodeipam.h. One work queue of Node names; a sync gives the
 * Node a block if it has none. Allocations are serialized by one mutex so
 * two workers never pick the same block; "pending" remembers blocks patched
 * onto Nodes whose update the informer has not shown yet. */
#include "ctrl/nodeipam.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/util.h"

#define DEFAULT_CLUSTER_CIDR "10.244.0.0/16"
#define DEFAULT_MASK 24
/* As upstream: at most 2^16 blocks (mask size - cluster prefix <= 16). */
#define MAX_BITS 16

typedef struct pending {
    char *node;
    uint32_t block;
} pending;

typedef struct ipam_ctrl {
    cn_ctrl_ctx *ctx;
    cn_informer *nodes;
    cn_workqueue *q;
    cn_ctrl_workers *w;
    cn_recorder *rec;
    uint32_t net;            /* cluster CIDR, host byte order */
    int prefix, mask;
    uint32_t nblocks;
    pthread_mutex_t mu;      /* below */
    unsigned char *used;     /* scratch, nblocks */
    uint32_t next;           /* next-fit cursor */
    pending *pend;
    size_t npend, cappend;
} ipam_ctrl;

static void block_str(const ipam_ctrl *c, uint32_t idx, char out[32])
{
    char ip[CN_IP4_STRLEN];
    cn_ip4_str(c->net + (idx << (32 - c->mask)), ip);
    snprintf(out, 32, "%s/%d", ip, c->mask);
}

/* Marks every block a Node's CIDR overlaps. */
static void mark_cidr(ipam_ctrl *c, const char *cidr)
{
    uint32_t n;
    int p;
    if (cn_cidr4_parse(cidr, &n, &p) < 0) return;
    uint64_t lo = n, hi = (uint64_t)n + (p == 0 ? 0x100000000ull : (1ull << (32 - p))) - 1;
    uint64_t clo = c->net, chi = (uint64_t)c->net + (c->prefix == 0 ? 0x100000000ull : (1ull << (32 - c->prefix))) - 1;
    if (hi < clo || lo > chi) return;
    if (lo < clo) lo = clo;
    if (hi > chi) hi = chi;
    for (uint64_t i = (lo - clo) >> (32 - c->mask); i <= (hi - clo) >> (32 - c->mask); i++)
        c->used[i] = 1;
}

static void mark_node(ipam_ctrl *c, const json_t *node)
{
    const json_t *spec = json_object_get(node, "spec");
    const char *one = json_string_value(json_object_get(spec, "podCIDR"));
    if (one && *one) mark_cidr(c, one);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "podCIDRs"), i, v)
        if (json_string_value(v)) mark_cidr(c, json_string_value(v));
}

static bool has_cidr(const json_t *node)
{
    const json_t *spec = json_object_get(node, "spec");
    const char *one = json_string_value(json_object_get(spec, "podCIDR"));
    return (one && *one) || json_array_size(json_object_get(spec, "podCIDRs")) > 0;
}

static bool visit_mark(void *ud, const json_t *node)
{
    mark_node(ud, node);
    return true;
}

/* Drops pending entries the informer has caught up with (the Node shows a
 * CIDR, or is gone) and marks the others. Under mu. */
static void mark_pending(ipam_ctrl *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->npend; i++) {
        json_t *node = cn_informer_get(c->nodes, NULL, c->pend[i].node);
        bool done = !node || has_cidr(node);
        json_decref(node);
        if (done) {
            free(c->pend[i].node);
            continue;
        }
        c->used[c->pend[i].block] = 1;
        c->pend[k++] = c->pend[i];
    }
    c->npend = k;
}

static bool is_pending(const ipam_ctrl *c, const char *name)
{
    for (size_t i = 0; i < c->npend; i++)
        if (!strcmp(c->pend[i].node, name)) return true;
    return false;
}

static void drop_pending(ipam_ctrl *c, const char *name)
{
    for (size_t i = 0; i < c->npend; i++) {
        if (strcmp(c->pend[i].node, name)) continue;
        free(c->pend[i].node);
        c->pend[i] = c->pend[--c->npend];
        return;
    }
}

/* A free block for name, recorded as pending; false when none is left. */
static bool take_block(ipam_ctrl *c, const char *name, uint32_t *idx)
{
    memset(c->used, 0, c->nblocks);
    cn_informer_foreach(c->nodes, visit_mark, c);
    mark_pending(c);
    for (uint32_t i = 0; i < c->nblocks; i++) {
        uint32_t b = (c->next + i) % c->nblocks;
        if (c->used[b]) continue;
        c->next = (b + 1) % c->nblocks;
        if (c->npend == c->cappend) {
            c->cappend = c->cappend ? c->cappend * 2 : 8;
            c->pend = cn_realloc(c->pend, c->cappend * sizeof *c->pend);
        }
        c->pend[c->npend++] = (pending){ cn_strdup(name), b };
        *idx = b;
        return true;
    }
    return false;
}

static void queue_node(ipam_ctrl *c, const json_t *node)
{
    if (!has_cidr(node)) cn_workqueue_add(c->q, cn_meta_str(node, "name"));
}

static bool visit_queue(void *ud, const json_t *node)
{
    queue_node(ud, node);
    return true;
}

static int sync(void *ud, const char *key)
{
    ipam_ctrl *c = ud;
    json_t *node = cn_informer_get(c->nodes, NULL, key);
    if (!node || has_cidr(node)) {
        json_decref(node);
        return 0;
    }
    uint32_t idx;
    pthread_mutex_lock(&c->mu);
    bool busy = is_pending(c, key);
    bool got = !busy && take_block(c, key, &idx);
    pthread_mutex_unlock(&c->mu);
    int rc = 0;
    if (busy) goto out;   /* patched already; the informer will show it */
    if (!got) {
        json_t *inv = json_deep_copy(node);
        json_object_set_new(inv, "kind", json_string("Node"));
        json_object_set_new(inv, "apiVersion", json_string("v1"));
        cn_recorder_event(c->rec, inv, "Normal", "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", key);
        json_decref(inv);
        cn_warn("node %s: no pod CIDR block left in the cluster CIDR", key);
        /* Not retried on a timer: blocks only come free when a Node goes
         * (or a patch of ours fails), and both queue the waiting Nodes. */
        goto out;
    }
    char cidr[32];
    block_str(c, idx, cidr);
    json_t *patch = json_pack("{s:{s:s,s:[s]}}", "spec", "podCIDR", cidr, "podCIDRs", cidr);
    char *path = cn_client_path("", "v1", NULL, "nodes", key, NULL);
    cn_err err = CN_ERR_INIT;
    rc = cn_client_patch(c->ctx->client, path, CN_PATCH_MERGE, patch, NULL, &err);
    if (rc == 0) {
        cn_info("node %s: pod CIDR %s", key, cidr);
    } else {
        /* 404: gone; 422: someone else gave it a CIDR first (the API keeps
         * the first). Either way this block was not used. */
        if (err.code != 404 && err.code != 422)
            cn_warn("node %s: setting pod CIDR %s: %s", key, cidr, err.message ? err.message : "?");
        rc = err.code == 404 || err.code == 422 ? 0 : -EAGAIN;
        pthread_mutex_lock(&c->mu);
        drop_pending(c, key);
        pthread_mutex_unlock(&c->mu);
        cn_informer_foreach(c->nodes, visit_queue, c);   /* the block is free again */
    }
    cn_err_clear(&err);
    free(path);
    json_decref(patch);
out:
    json_decref(node);
    return rc;
}

static void on_add(void *ud, const json_t *node) { queue_node(ud, node); }
static void on_update(void *ud, const json_t *old, const json_t *node)
{
    (void)old;
    queue_node(ud, node);
}

/* A Node went: its block is free, so Nodes waiting for one try again. */
static void on_delete(void *ud, const json_t *node)
{
    ipam_ctrl *c = ud;
    if (has_cidr(node)) cn_informer_foreach(c->nodes, visit_queue, c);
}

static int start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    const char *cidr = ctx->cfg->cluster_cidr ? ctx->cfg->cluster_cidr : DEFAULT_CLUSTER_CIDR;
    int mask = ctx->cfg->node_cidr_mask_size > 0 ? ctx->cfg->node_cidr_mask_size : DEFAULT_MASK;
    uint32_t net;
    int prefix;
    *state = NULL;
    if (!*cidr) return 0;   /* turned off */
    if (cn_cidr4_parse(cidr, &net, &prefix) < 0)
        return cn_err_internal(err, "cluster CIDR \"%s\" is not an IPv4 CIDR", cidr);
    if (mask < prefix || mask > 30 || mask - prefix > MAX_BITS)
        return cn_err_internal(err, "node CIDR mask size %d does not fit cluster CIDR %s (want %d..%d)", mask,
                               cidr, prefix, prefix + MAX_BITS < 30 ? prefix + MAX_BITS : 30);
    ipam_ctrl *c = cn_calloc(1, sizeof *c);
    c->ctx = ctx;
    c->net = net;
    c->prefix = prefix;
    c->mask = mask;
    c->nblocks = 1u << (mask - prefix);
    c->used = cn_calloc(c->nblocks, 1);
    pthread_mutex_init(&c->mu, NULL);
    c->rec = cn_recorder_new(ctx->client, "cidrAllocator");
    c->q = cn_workqueue_new(30000);
    c->nodes = cn_informers_get(ctx->inf, "", "v1", "nodes");
    cn_informer_handler h = { on_add, on_update, on_delete, c };
    cn_informer_add_handler(c->nodes, &h);
    c->w = cn_ctrl_workers_start(ctx, "nodeipam", c->q, ctx->cfg->workers, sync, c);
    *state = c;
    return 0;
}

static void stop(void *state)
{
    ipam_ctrl *c = state;
    if (!c) return;
    cn_ctrl_workers_stop(c->w);
    cn_workqueue_free(c->q);
    cn_recorder_free(c->rec);
    for (size_t i = 0; i < c->npend; i++) free(c->pend[i].node);
    free(c->pend);
    free(c->used);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const cn_controller cn_nodeipam_controller = { "nodeipam", start, stop };
