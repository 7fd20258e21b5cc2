/* resource: the registry of served resources (built-in table + CRDs), and
 * what is derived from it: discovery documents and OpenAPI v3.
 *
 * Built-in resources are static. Custom resources come and go with their
 * CRDs; a cn_resource returned by a lookup stays valid for the life of the
 * registry (replaced entries are retired, not freed, until cn_registry_free),
 * so request handlers need no reference counting. Thread-safe. */
#ifndef CN_RESOURCE_H
#define CN_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/err.h"

enum {
    CN_RES_STATUS  = 1 << 0,   /* has a /status subresource (status split from spec) */
    CN_RES_SCALE   = 1 << 1,   /* has /scale (autoscaling/v1 Scale) */
    CN_RES_CUSTOM  = 1 << 2,   /* served from a CRD */
    CN_RES_LOG     = 1 << 3,   /* pods/log */
    CN_RES_BINDING = 1 << 4,   /* pods/binding */
    CN_RES_NO_SPEC_GENERATION = 1 << 5, /* no metadata.generation tracking (e.g. configmaps keep it absent) */
    CN_RES_CREATE_ONLY = 1 << 6, /* virtual create-only kinds (reviews, token requests) */
    CN_RES_EVICTION = 1 << 7,   /* pods/eviction */
};

typedef struct cn_resource {
    const char *group;         /* "" for the core group */
    const char *version;       /* "v1" */
    const char *kind;          /* "Deployment" */
    const char *list_kind;     /* "DeploymentList" */
    const char *plural;        /* "deployments" */
    const char *singular;      /* "deployment" */
    bool namespaced;
    const char *const *short_names;  /* NULL-terminated or NULL */
    const char *const *categories;   /* NULL-terminated or NULL ("all") */
    unsigned flags;
    /* For /scale on custom resources: JSON paths (".spec.replicas") from
     * the CRD; NULL for built-ins (which use spec.replicas/status.replicas
     * and spec.selector). */
    const char *scale_spec_path, *scale_status_path, *scale_selector_path;
    /* Custom resources: the CRD version object (schema, printer columns,
     * subresources) this entry was built from; NULL for built-ins. */
    json_t *crd_version;
    const char *crd_name;      /* "foos.example.com" for custom, else NULL */
} cn_resource;

typedef struct cn_registry cn_registry;

cn_registry *cn_registry_new(void);
void cn_registry_free(cn_registry *r);

/* By URL parts (plural may not include a subresource). NULL if unknown. */
const cn_resource *cn_registry_lookup(cn_registry *r, const char *group,
                                      const char *version, const char *plural);
/* By group/version/kind. */
const cn_resource *cn_registry_by_kind(cn_registry *r, const char *group,
                                       const char *version, const char *kind);
/* Is group/version served at all? */
bool cn_registry_has_group_version(cn_registry *r, const char *group, const char *version);

/* Add or replace the resources of a CRD object (apiextensions.k8s.io/v1);
 * every served version becomes a resource. Returns -EINVAL with err if the
 * CRD cannot be served. */
int cn_registry_put_crd(cn_registry *r, const json_t *crd, cn_err *err);
void cn_registry_remove_crd(cn_registry *r, const char *crd_name);
/* Bumped by every CRD change (ETags, discovery caches). */
uint64_t cn_registry_generation(cn_registry *r);

/* Iterate all resources (built-in and custom) under the read lock. */
void cn_registry_foreach(cn_registry *r, void (*fn)(const cn_resource *res, void *ud), void *ud);

/* Discovery documents, new references. `agg` selects the aggregated form:
 * 0 = legacy, 2 = apidiscovery v2, 1 = v2beta1 (apiVersion differs). */
json_t *cn_discovery_core(cn_registry *r, int agg);          /* GET /api */
json_t *cn_discovery_groups(cn_registry *r, int agg);        /* GET /apis */
/* GET /api/v1 or /apis/G/V: APIResourceList, or NULL if not served. */
json_t *cn_discovery_resources(cn_registry *r, const char *group, const char *version);

/* OpenAPI v3: the index (GET /openapi/v3) and one group-version document
 * (gv_path "api/v1" or "apis/apps/v1"); NULL if not served. */
json_t *cn_openapi_v3_index(cn_registry *r);
json_t *cn_openapi_v3_doc(cn_registry *r, const char *gv_path);

/* OpenAPI v2 (GET /openapi/v2): the Swagger 2.0 document of every served
 * kind (new reference), and the same document as a gnostic
 * openapi.v2.Document protobuf message (what kubectl 1.27/1.28 require),
 * cached per registry generation. *out is a copy the caller frees. */
json_t *cn_openapi_v2_json(cn_registry *r);
int cn_openapi_v2_proto(cn_registry *r, uint8_t **out, size_t *len);

/* The storage key prefix of a resource: "/registry/<res>/" where <res> is
 * plural for the core group and "<group>/<plural>" otherwise. Caller frees. */
char *cn_resource_key_prefix(const cn_resource *res);
/* "apps/v1" or "v1". Static or registry-owned storage. */
const char *cn_resource_api_version(const cn_resource *res);

#endif
