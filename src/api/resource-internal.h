/* resource-internal: what resource.c, resource_builtin.c, discovery.c and
 * openapi.c share. Nothing outside those files includes this. */
#ifndef CN_RESOURCE_INTERNAL_H
#define CN_RESOURCE_INTERNAL_H

#include <stddef.h>
#include "api/resource.h"

/* The static table of built-in resources (resource_builtin.c), in the
 * order discovery lists them: core first, then groups roughly as upstream. */
extern const cn_resource cn_builtin_resources[];
extern const size_t cn_builtin_count;

/* "apps/v1" for a built-in group-version, NULL if not built in. */
const char *cn_builtin_api_version(const char *group, const char *version);

/* A consistent view of every served resource, built-ins first (table
 * order) then custom ones sorted by group, version priority and plural.
 * Pointers stay valid for the life of the registry; release frees only
 * the array. */
typedef struct cn_res_snapshot {
    const cn_resource **items;
    size_t n;
    uint64_t generation;
} cn_res_snapshot;

void cn_registry_snapshot(cn_registry *r, cn_res_snapshot *s);
void cn_res_snapshot_release(cn_res_snapshot *s);

/* Kubernetes version ordering (v1 > v1beta2 > v1beta1 > v1alpha1 > other):
 * < 0 when a is preferred over b. */
int cn_version_priority_cmp(const char *a, const char *b);

/* One subresource as discovery and OpenAPI describe it. group/version are
 * NULL when the response kind lives in the parent's group-version. */
typedef struct cn_subres {
    const char *name;            /* "status" */
    const char *group, *version; /* of the response kind, or NULL */
    const char *kind;            /* "Scale" */
    const char *const *verbs;
} cn_subres;

#define CN_MAX_SUBRES 8
/* Fill out[] (at most CN_MAX_SUBRES), in name order; returns the count. */
size_t cn_resource_subresources(const cn_resource *res, cn_subres out[CN_MAX_SUBRES]);
/* The verbs of the resource itself. */
const char *const *cn_resource_verbs(const cn_resource *res);

/* Drop openapi_v2.c's cached document of r (cn_registry_free). */
void cn_openapi_v2_forget(const cn_registry *r);

#endif
