/* fleetcli: the pure part of the fleet CLI (`cairn cluster`, `cairn
 * fleet`, `cairn apply`, src/cli/): command-line values turned into the
 * fleet.cairn.io objects of docs/fleet-api.md, and the tables the CLI
 * prints. No I/O, no clock, so it is unit-tested (tests/unit/
 * test_fleetcli.c) and the bridge's own tools can reuse it. Flag values
 * that hold lists (labels, taints, DNS servers, load-balancer ranges) come
 * as arrays of the raw strings given, each of which may itself be
 * comma-separated ("--labels a=1,b=2 --labels c=3"). Errors are 400
 * BadRequest naming the flag and the value. */
#ifndef CN_FLEETCLI_H
#define CN_FLEETCLI_H

#include <stdint.h>
#include <jansson.h>
#include "lib/err.h"
#include "lib/util.h"

#define CN_FLEET_GROUP "fleet.cairn.io"
#define CN_FLEET_VERSION "v1"
#define CN_FLEET_API_VERSION "fleet.cairn.io/v1"
#define CN_FLEETCLI_DEFAULT_POOL "nodepool1"

/* The flags of `cairn cluster create` (and `cairn fleet ip-plan`). NULL or
 * 0 means not given: the field is left out and the bridge's defaults
 * apply (cn_fleet_default_cluster). */
typedef struct cn_fleetcli_cluster_opts {
    const char *name;
    const char *lnet;
    const char *version;
    int cp_count;
    const char *cp_size;
    const char *cp_ip;
    const char *pool;            /* name of the first node pool; NULL: nodepool1 */
    int node_count;
    const char *node_size;
    const char *pod_cidr;
    const char *service_cidr;
    const json_t *lb_pools;      /* "START-END" strings */
    const json_t *labels;        /* "k=v" strings */
    const json_t *taints;        /* "key[=value]:Effect" strings */
} cn_fleetcli_cluster_opts;

/* A new Cluster object, or NULL with err. */
json_t *cn_fleetcli_cluster(const cn_fleetcli_cluster_opts *o, cn_err *err);

typedef struct cn_fleetcli_lnet_opts {
    const char *name;
    const char *prefix;
    const char *gateway;
    const json_t *dns;           /* IP strings */
    const char *pool_start;
    const char *pool_end;
    int64_t vlan;                /* < 0: not given */
    const char *vm_switch;
} cn_fleetcli_lnet_opts;

/* A new LogicalNetwork object, or NULL with err. */
json_t *cn_fleetcli_lnet(const cn_fleetcli_lnet_opts *o, cn_err *err);

/* Every comma-separated piece of every string in raw, trimmed, empty ones
 * dropped. New reference (an empty array for NULL). */
json_t *cn_fleetcli_split(const json_t *raw);
/* "k=v" pieces to a labels object; flag names the flag in errors. */
int cn_fleetcli_labels(const json_t *raw, const char *flag, json_t **out, cn_err *err);
/* Taints "key[=value]:NoSchedule|PreferNoSchedule|NoExecute", validated. */
int cn_fleetcli_taints(const json_t *raw, const char *flag, json_t **out, cn_err *err);
/* Load-balancer ranges "START-END" (IPv4, start <= end) to [{start, end}]. */
int cn_fleetcli_lb_pools(const json_t *raw, const char *flag, json_t **out, cn_err *err);

/* The node pool `name` of a Cluster's spec.nodePools array, or NULL. */
json_t *cn_fleetcli_find_pool(const json_t *pools, const char *name);

/* An aligned table: rows is an array of arrays of strings (non-strings
 * printed as JSON), the first row the header; columns separated by three
 * spaces as kubectl does, no trailing blanks. */
void cn_fleetcli_table(cn_buf *out, const json_t *rows);

/* The report of cn_fleet_ip_plan as text: its scalar fields as
 * "Field: value" lines, and each array of objects (the pools, the
 * load-balancer ranges) as a table whose columns are the objects' keys. */
void cn_fleetcli_ip_plan_render(cn_buf *out, const json_t *report);

/* kubectl's age: 45s, 12m, 5h, 3d (0s for negative spans). */
void cn_fleetcli_age(int64_t seconds, char out[24]);

#endif
