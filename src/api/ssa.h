/* ssa: server-side apply and field ownership (metadata.managedFields).
 *
 * A field set is the FieldsV1 tree of a part of an object: "f:<name>" for
 * struct and map members, "k:<compact JSON key>" for items of associative
 * lists (lists with a merge key in the schema table), "v:<compact JSON>"
 * for items of sets of primitives, "." for a node that is itself a member.
 * Every other list is atomic (a leaf). Custom resources (no schema): maps
 * recurse, lists are atomic.
 *
 * Apply computes the applied set of a configuration, refuses changes to
 * fields another manager owns (409 unless forced), removes fields the
 * manager applied before and no longer applies (when nobody else owns
 * them), merges the configuration and records the manager's Apply entry.
 * Every other write records an Update entry for the fields it changed and
 * takes them away from the other managers. */
#ifndef CN_SSA_H
#define CN_SSA_H

#include <stdbool.h>
#include <jansson.h>
#include "lib/err.h"
#include "api/schema.h"

/* Which part of an object a write may own. */
enum cn_ssa_scope {
    CN_SSA_ALL = 0,     /* everything (kinds without a status subresource) */
    CN_SSA_MAIN,        /* everything but .status */
    CN_SSA_STATUS,      /* only .status (the /status subresource) */
};

typedef struct cn_ssa_opts {
    const char *manager;      /* fieldManager; required */
    const char *api_version;  /* "apps/v1" */
    const char *subresource;  /* "status", "scale" or NULL */
    const cn_message *schema; /* NULL: custom resource */
    enum cn_ssa_scope scope;
    bool force;               /* apply: take conflicting fields over */
    const char *now;          /* RFC 3339 time for the entry; NULL: the clock */
    /* Custom resources (schema NULL): the CRD version's openAPIV3Schema, for
     * x-kubernetes-list-type (map: keyed by x-kubernetes-list-map-keys; set)
     * and x-kubernetes-map-type: atomic. NULL: maps granular, lists atomic. */
    const json_t *cr_schema;
} cn_ssa_opts;

/* The FieldsV1 set of obj (within opts->scope; of metadata only labels,
 * annotations, finalizers and ownerReferences). New reference in *out. */
int cn_ssa_field_set(const json_t *obj, const cn_ssa_opts *opts, json_t **out, cn_err *err);

/* Server-side apply of config onto live (NULL: the object does not exist).
 * *out is the new object with its metadata.managedFields (new reference).
 * 409 Conflict (reason "Conflict", causes FieldManagerConflict) when
 * another manager owns a field the config changes and !opts->force.
 * *changed tells whether anything but entry times differs from live. */
int cn_ssa_apply(const json_t *live, const json_t *config, const cn_ssa_opts *opts,
                 json_t **out, bool *changed, cn_err *err);

/* Record a non-apply write: old (NULL for a create) became nobj. Sets
 * nobj's metadata.managedFields from old's (or from nobj's own when
 * old is NULL and they are well formed). */
int cn_ssa_track_update(const json_t *old, json_t *nobj, const cn_ssa_opts *opts, cn_err *err);

/* A managedFields value as a client may send it: an array of entries with
 * manager, operation (Apply|Update), fieldsType FieldsV1 and a well-formed
 * fieldsV1. 400 BadRequest otherwise. */
int cn_ssa_check_managed_fields(const json_t *mf, cn_err *err);

/* Equality of two objects ignoring resourceVersion and managedFields. */
bool cn_ssa_same_ignoring_managed(const json_t *a, const json_t *b);

/* managedFields arrays equal but for entry times. */
bool cn_ssa_same_entries(const json_t *a, const json_t *b);

/* The manager name of a request without fieldManager: the User-Agent up
 * to its first '/', at most 128 bytes. Caller frees. */
char *cn_ssa_manager_from_user_agent(const char *ua);

#endif
