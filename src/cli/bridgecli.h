/* bridgecli: what `cairn cluster`, `cairn fleet` and `cairn apply` share —
 * a table-driven flag parser that also writes every --help (so no flag is
 * undocumented), the connection to the bridge (--kubeconfig, else
 * $CAIRN_BRIDGE_KUBECONFIG, else /var/lib/cairn/bridge/kubeconfig),
 * printing objects (-o json|yaml) and errors, and waiting on a cluster's
 * long-running operation with progress on stderr.
 *
 * Exit codes of every verb: 0 success, 1 an error from the API or a failed
 * operation ("error: <message>" on stderr), 2 a bad command line (usage on
 * stderr). */
#ifndef CN_BRIDGECLI_H
#define CN_BRIDGECLI_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "client/client.h"
#include "lib/err.h"

#define CN_BCLI_DEFAULT_KUBECONFIG "/var/lib/cairn/bridge/kubeconfig"
#define CN_BCLI_KUBECONFIG_ENV "CAIRN_BRIDGE_KUBECONFIG"
#define CN_BCLI_DEFAULT_TIMEOUT 1800   /* seconds a waiting verb waits */

typedef struct cn_bflag {
    const char *name;       /* long name without "--" */
    char short_name;        /* 0: none */
    const char *arg;        /* NULL: a switch; else the metavariable */
    const char *help;       /* says the default */
    bool repeat;            /* may be given several times */
} cn_bflag;

typedef struct cn_bargs cn_bargs;

typedef struct cn_bverb {
    const char *name;
    const char *synopsis;   /* positional part, e.g. "NAME" */
    int min_pos, max_pos;
    const char *summary;
    const cn_bflag *flags;  /* terminated by { NULL } */
    int (*run)(cn_bargs *a);
    const struct cn_bverb *sub;   /* a group of verbs (run NULL) */
    const char *more;       /* extra help text (examples), or NULL */
} cn_bverb;

/* Flags every verb has. */
#define CN_BFLAG_OUTPUT { "output", 'o', "FORMAT", "json or yaml: print the object(s) instead of a table", false }
#define CN_BFLAG_NO_WAIT { "no-wait", 0, NULL, "return once the change is accepted (default: wait and show progress)", false }
#define CN_BFLAG_TIMEOUT { "timeout", 0, "SECONDS", "how long to wait for the operation (default 1800)", false }

/* Run the verb named by argv[1] of table verbs (argv[0] is the group, e.g.
 * "cluster"); prog is "cairn cluster". */
int cn_bcli_main(const char *prog, const char *summary, const cn_bverb *verbs, int argc, char **argv);

/* Parsed values. */
const char *cn_bargs_pos(const cn_bargs *a, size_t i);   /* NULL past the end */
size_t cn_bargs_npos(const cn_bargs *a);
const char *cn_bargs_get(const cn_bargs *a, const char *flag);   /* last value, NULL if absent */
bool cn_bargs_has(const cn_bargs *a, const char *flag);
/* Every value of a repeatable flag as a new array of strings. */
json_t *cn_bargs_all(const cn_bargs *a, const char *flag);
/* An integer flag in [min, max]; def when absent. On a bad value prints
 * the usage error and returns -EINVAL (the verb returns 2). */
int cn_bargs_int(cn_bargs *a, const char *flag, int64_t min, int64_t max, int64_t def, int64_t *out);
/* Print "PROG VERB: MESSAGE" and the usage hint to stderr; returns 2. */
int cn_bargs_usage_error(cn_bargs *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The output format: NULL (table), "json" or "yaml". */
const char *cn_bargs_format(const cn_bargs *a);

/* The bridge client (connected on first use); NULL after printing an error. */
cn_client *cn_bcli_client(cn_bargs *a);

/* "error: <message>" on stderr; returns 1. */
int cn_bcli_fail(const cn_err *err);
/* Print v as JSON or YAML on stdout. */
void cn_bcli_print(const json_t *v, const char *format);
/* A list of objects as a List for -o json|yaml. */
json_t *cn_bcli_list_object(json_t *items);
/* /apis/fleet.cairn.io/v1/<plural>[/<name>] (owned). */
char *cn_bcli_path(const char *plural, const char *name);
/* GET the items of a fleet collection (new reference) or NULL with err. */
json_t *cn_bcli_list(cn_client *c, const char *plural, cn_err *err);
/* Seconds since an RFC 3339 timestamp as kubectl's age ("<unknown>"). */
void cn_bcli_age(const char *ts, char out[24]);

/* Following a change of object `name` of `plural` and the Operations
 * while it runs: the callbacks see the object (NULL once it is gone) and
 * every Operation that changes, print progress and set done (1) or fail.
 * Embed it first in a struct of the caller's own state. */
typedef struct cn_bfollow cn_bfollow;
struct cn_bfollow {
    const char *plural, *name;
    const char *what;           /* for messages: `cluster "c1"` */
    void (*object)(cn_bfollow *f, cn_client *c, const json_t *obj);
    void (*operation)(cn_bfollow *f, const json_t *op);
    int64_t t0;                 /* set by cn_bfollow_run */
    int done;                   /* 0 waiting, 1 done, -1 failed */
    char *last, *fail;          /* owned */
    json_t *seen;               /* progress lines printed (a set) */
};
/* A "[  4.1s] STATE: MESSAGE" line on stderr, once per distinct line. */
void cn_bfollow_progress(cn_bfollow *f, const char *state, const char *msg);
void cn_bfollow_fail(cn_bfollow *f, const char *msg);
/* Until done or timeout_s; a restarting bridge or a cut watch is read
 * again. 0 when done; 1 after "error: WHAT: ..." (failed, timed out, or an
 * API error). */
int cn_bfollow_run(cn_bfollow *f, cn_client *c, int64_t timeout_s);

/* Wait for the change made at metadata.generation `generation` of cluster
 * `name` (deleting: until the cluster is gone) and print progress lines
 * ("[  4.1s] Provisioning: 2/6 nodes Ready") on stderr. 0 when it
 * Succeeded, 1 (after "error: ...") when it Failed or timed out. */
int cn_bcli_wait_cluster(cn_client *c, const char *name, int64_t generation, bool deleting, int64_t timeout_s);

/* Shared by cluster.c and fleet.c (`cairn fleet ip-plan` takes the flags
 * of `cairn cluster create`). */
/* The flags that describe a new cluster. */
#define CLUSTER_SPEC_FLAGS \
    { "lnet", 0, "LNET", "the logical network its node VMs are on (required)", false }, \
    { "kubernetes-version", 0, "V", "Kubernetes version (default: the newest, see get-versions)", false }, \
    { "control-plane-count", 0, "N", "control-plane nodes: 1, 3 or 5 (default 1)", false }, \
    { "control-plane-vm-size", 0, "SIZE", "VM size of the control-plane nodes (default Standard_A4_v2)", false }, \
    { "control-plane-ip", 0, "IP", "control-plane endpoint: in the network's prefix, outside its pools (default: one from the pools)", false }, \
    { "nodepool-name", 0, "P", "name of the first node pool (default nodepool1)", false }, \
    { "node-count", 0, "N", "nodes of the first node pool, 1-64 (default 1)", false }, \
    { "node-vm-size", 0, "SIZE", "VM size of its nodes (default Standard_A4_v2)", false }, \
    { "pod-cidr", 0, "CIDR", "pod network (default 10.244.0.0/16)", false }, \
    { "service-cidr", 0, "CIDR", "service network (default 10.96.0.0/12; may not overlap the lnet's prefix)", false }, \
    { "lb-pool", 0, "START-END", "load-balancer IP range: in the prefix, outside the pools", true }, \
    { "labels", 0, "K=V[,K=V]", "node labels of the first pool", true }, \
    { "node-taints", 0, "K[=V]:EFFECT[,...]", "node taints of the first pool", true }

/* The Cluster object those flags describe: 0, or 2 after a usage error. */
int cn_cluster_from_flags(cn_bargs *a, const char *name, json_t **out);
/* Table rows (header first) for clusters: NAME VERSION CONTROL-PLANE NODES
 * STATE HEALTH ENDPOINT LNET AGE. */
json_t *cn_cluster_table(const json_t *clusters);
/* Print table rows (cn_fleetcli_table) on stdout; takes the reference. */
void cn_bcli_print_rows(json_t *rows);

/* A delete's consent: --yes, or "Delete WHAT? [y/N]" answered y on a
 * terminal (what: e.g. `cluster "c1"`, detail added to the question);
 * false after printing "error: not deleting WHAT ...". */
bool cn_bcli_consent(cn_bargs *a, const char *what, const char *detail);
/* `list` of a fleet kind: -o json|yaml prints the List, else rows(items)
 * as a table (none on stderr when empty). The verb's exit code. */
int cn_bcli_list_cmd(cn_bargs *a, const char *plural, json_t *(*rows)(const json_t *items), const char *none);

#endif
