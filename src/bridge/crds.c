/* crds: the fleet API's CustomResourceDefinitions, written as YAML here
 * (readable next to docs/fleet-api.md) and installed through the bridge's
 * in-process client. Structural schemas type every field the bridge reads;
 * free-form maps (labels, capacity) keep unknown fields. */
#include "bridge/crds.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "lib/yaml.h"

#define CRD_HEAD(plural, singular, kind, shorts) \
    "apiVersion: apiextensions.k8s.io/v1\n" \
    "kind: CustomResourceDefinition\n" \
    "metadata: {name: " plural ".fleet.cairn.io}\n" \
    "spec:\n" \
    "  group: fleet.cairn.io\n" \
    "  scope: Cluster\n" \
    "  names: {plural: " plural ", singular: " singular ", kind: " kind ", listKind: " kind "List, shortNames: " shorts ", categories: [fleet]}\n" \
    "  versions:\n" \
    "  - name: v1\n" \
    "    served: true\n" \
    "    storage: true\n" \
    "    subresources: {status: {}}\n"

#define COLUMNS "    additionalPrinterColumns:\n"
#define SPEC_SCHEMA \
    "    schema:\n" \
    "      openAPIV3Schema:\n" \
    "        type: object\n" \
    "        properties:\n" \
    "          spec:\n" \
    "            type: object\n" \
    "            properties:\n"
#define STATUS_SCHEMA \
    "          status:\n" \
    "            type: object\n" \
    "            properties:\n"
#define FREE_MAP "{type: object, x-kubernetes-preserve-unknown-fields: true}"
#define STR "{type: string}"
#define INT "{type: integer}"
#define BOOL "{type: boolean}"
#define STRS "{type: array, items: {type: string}}"
#define AGE "    - {name: AGE, type: date, jsonPath: .metadata.creationTimestamp}\n"

static const char host_crd[] =
    CRD_HEAD("hosts", "host", "Host", "[fhost]")
    COLUMNS
    "    - {name: PHASE, type: string, jsonPath: .status.phase}\n"
    "    - {name: CPU, type: string, jsonPath: .spec.capacity.cpu}\n"
    "    - {name: MEMORY, type: string, jsonPath: .spec.capacity.memory}\n"
    "    - {name: VMS, type: integer, jsonPath: .status.allocated.vms}\n"
    AGE
    SPEC_SCHEMA
    "              address: " STR "\n"
    "              capacity: " FREE_MAP "\n"
    "              maintenance: " BOOL "\n"
    STATUS_SCHEMA
    "              phase: " STR "\n"
    "              message: " STR "\n"
    "              lastHeartbeatTime: " STR "\n"
    "              vms: {type: array, items: " FREE_MAP "}\n"
    "              allocated: " FREE_MAP "\n";

static const char lnet_crd[] =
    CRD_HEAD("logicalnetworks", "logicalnetwork", "LogicalNetwork", "[lnet]")
    COLUMNS
    "    - {name: PREFIX, type: string, jsonPath: .spec.addressPrefix}\n"
    "    - {name: GATEWAY, type: string, jsonPath: .spec.gateway}\n"
    "    - {name: STATE, type: string, jsonPath: .status.provisioningState}\n"
    AGE
    SPEC_SCHEMA
    "              addressPrefix: " STR "\n"
    "              gateway: " STR "\n"
    "              dnsServers: " STRS "\n"
    "              vlan: " INT "\n"
    "              vmSwitchName: " STR "\n"
    "              ipAllocationMethod: " STR "\n"
    "              ipPools:\n"
    "                type: array\n"
    "                items: {type: object, properties: {name: " STR ", start: " STR ", end: " STR "}}\n"
    STATUS_SCHEMA
    "              provisioningState: " STR "\n"
    "              ipPools: {type: array, items: " FREE_MAP "}\n";

static const char cluster_crd[] =
    CRD_HEAD("clusters", "cluster", "Cluster", "[fcl]")
    COLUMNS
    "    - {name: STATE, type: string, jsonPath: .status.provisioningState}\n"
    "    - {name: VERSION, type: string, jsonPath: .spec.kubernetesVersion}\n"
    "    - {name: CONTROL-PLANE, type: integer, jsonPath: .spec.controlPlane.count}\n"
    "    - {name: NODES, type: integer, jsonPath: .status.nodes.total}\n"
    "    - {name: ENDPOINT, type: string, jsonPath: .status.controlPlaneEndpoint}\n"
    AGE
    SPEC_SCHEMA
    "              kubernetesVersion: " STR "\n"
    "              logicalNetwork: " STR "\n"
    "              controlPlane: {type: object, properties: {count: " INT ", vmSize: " STR ", endpoint: " STR "}}\n"
    "              nodePools:\n"
    "                type: array\n"
    "                items:\n"
    "                  type: object\n"
    "                  properties:\n"
    "                    name: " STR "\n"
    "                    count: " INT "\n"
    "                    vmSize: " STR "\n"
    "                    osType: " STR "\n"
    "                    labels: " FREE_MAP "\n"
    "                    taints: " STRS "\n"
    "              networking:\n"
    "                type: object\n"
    "                properties:\n"
    "                  podCidr: " STR "\n"
    "                  serviceCidr: " STR "\n"
    "                  loadBalancerPools: {type: array, items: {type: object, properties: {start: " STR ", end: " STR "}}}\n"
    STATUS_SCHEMA
    "              provisioningState: " STR "\n"
    "              message: " STR "\n"
    "              operation: " STR "\n"
    "              observedGeneration: " INT "\n"
    "              controlPlaneEndpoint: " STR "\n"
    "              kubernetesVersion: " STR "\n"
    "              health: " STR "\n"
    "              lastHeartbeatTime: " STR "\n"
    "              nodes: {type: object, properties: {total: " INT ", ready: " INT "}}\n"
    "              controlPlaneStatus: {type: array, items: " FREE_MAP "}\n"
    "              nodePools: {type: array, items: " FREE_MAP "}\n";

static const char vm_crd[] =
    CRD_HEAD("virtualmachines", "virtualmachine", "VirtualMachine", "[vm, vms]")
    COLUMNS
    "    - {name: CLUSTER, type: string, jsonPath: .spec.cluster}\n"
    "    - {name: ROLE, type: string, jsonPath: .spec.role}\n"
    "    - {name: HOST, type: string, jsonPath: .spec.host}\n"
    "    - {name: IP, type: string, jsonPath: .spec.ip}\n"
    "    - {name: PHASE, type: string, jsonPath: .status.phase}\n"
    AGE
    SPEC_SCHEMA
    "              cluster: " STR "\n"
    "              role: " STR "\n"
    "              pool: " STR "\n"
    "              vmSize: " STR "\n"
    "              cpu: " INT "\n"
    "              memoryMiB: " INT "\n"
    "              gpus: " INT "\n"
    "              host: " STR "\n"
    "              ip: " STR "\n"
    "              prefixLength: " INT "\n"
    "              gateway: " STR "\n"
    "              dnsServers: " STRS "\n"
    "              vmSwitchName: " STR "\n"
    "              kubernetesVersion: " STR "\n"
    "              controlPlaneEndpoint: " STR "\n"
    "              pkiSecret: " STR "\n"
    "              podCidr: " STR "\n"
    "              serviceCidr: " STR "\n"
    "              etcdMembers: {type: array, items: {type: object, properties: {name: " STR ", ip: " STR "}}}\n"
    "              labels: " FREE_MAP "\n"
    "              taints: " STRS "\n"
    "              running: " BOOL "\n"
    STATUS_SCHEMA
    "              phase: " STR "\n"
    "              host: " STR "\n"
    "              message: " STR "\n"
    "              startedAt: " STR "\n";

static const char op_crd[] =
    CRD_HEAD("operations", "operation", "Operation", "[op, ops]")
    COLUMNS
    "    - {name: TARGET, type: string, jsonPath: .spec.target.name}\n"
    "    - {name: TYPE, type: string, jsonPath: .spec.type}\n"
    "    - {name: STATE, type: string, jsonPath: .status.provisioningState}\n"
    "    - {name: MESSAGE, type: string, jsonPath: .status.message}\n"
    AGE
    SPEC_SCHEMA
    "              type: " STR "\n"
    "              target: {type: object, properties: {kind: " STR ", name: " STR "}}\n"
    STATUS_SCHEMA
    "              provisioningState: " STR "\n"
    "              message: " STR "\n"
    "              startTime: " STR "\n"
    "              endTime: " STR "\n";

static const char *const crds[] = { host_crd, lnet_crd, cluster_crd, vm_crd, op_crd };
#define NCRDS (sizeof crds / sizeof crds[0])

static const char CRD_COLLECTION[] = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/* Create one CRD, or replace the spec of the stored one with ours. */
static int put_crd(cn_client *c, json_t *crd, cn_err *err)
{
    int r = cn_client_create(c, CRD_COLLECTION, crd, NULL, err);
    if (r == 0 || err->code != 409) return r;
    cn_err_clear(err);
    const char *name = cn_meta_str(crd, "name");
    char *path = cn_asprintf("%s/%s", CRD_COLLECTION, name);
    json_t *cur = NULL;
    r = cn_client_get(c, path, &cur, err);
    if (r == 0) {
        json_object_set(cur, "spec", json_object_get(crd, "spec"));
        r = cn_client_update(c, path, cur, NULL, err);
    }
    json_decref(cur);
    free(path);
    return r;
}

static bool established(const json_t *crd)
{
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(json_object_get(crd, "status"), "conditions"), i, cond) {
        if (!strcmp(cn_json_str_at(cond, "type"), "Established") && !strcmp(cn_json_str_at(cond, "status"), "True"))
            return true;
    }
    return false;
}

int cn_bridge_install_crds(cn_client *c, int timeout_ms, cn_err *err)
{
    int r = 0;
    json_t *objs[NCRDS] = { 0 };
    json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                           "metadata", "name", CN_FLEET_NAMESPACE);
    r = cn_client_create(c, "/api/v1/namespaces", ns, NULL, err);
    if (r < 0 && err->code == 409) {
        cn_err_clear(err);
        r = 0;
    }
    if (r < 0) {
        cn_err_wrap(err, "namespace %s", CN_FLEET_NAMESPACE);
        goto done;
    }
    for (size_t i = 0; i < NCRDS; i++) {
        r = cn_yaml_parse(crds[i], strlen(crds[i]), &objs[i], err);
        if (r < 0) goto done;
        r = put_crd(c, objs[i], err);
        if (r < 0) {
            cn_err_wrap(err, "custom resource definition %s", cn_meta_str(objs[i], "name"));
            goto done;
        }
    }
    /* The API server marks a CRD Established once its names are accepted;
     * poll briefly (this happens once at start). */
    int64_t deadline = cn_now_ms() + timeout_ms;
    for (size_t i = 0; i < NCRDS; i++) {
        char *path = cn_asprintf("%s/%s", CRD_COLLECTION, cn_meta_str(objs[i], "name"));
        for (;;) {
            json_t *cur = NULL;
            r = cn_client_get(c, path, &cur, err);
            bool ok = r == 0 && established(cur);
            json_decref(cur);
            if (ok) break;
            if (r == 0 && cn_now_ms() >= deadline)
                r = cn_err_set(err, 504, "Timeout", "custom resource definition %s: not Established after %d ms",
                               cn_meta_str(objs[i], "name"), timeout_ms);
            if (r < 0) break;
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
        }
        free(path);
        if (r < 0) goto done;
    }
done:
    for (size_t i = 0; i < NCRDS; i++) json_decref(objs[i]);
    json_decref(ns);
    return r;
}
