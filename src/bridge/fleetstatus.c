/* fleetstatus: the bridge controller's bookkeeping on hosts and logical
 * networks, refreshed on every resync: each Host's status.allocated (the
 * vCPUs, memory and VMs placed on it) and each LogicalNetwork's
 * status.ipPools (IPs used by VMs and control-plane endpoints, and free),
 * written only when they change. */
#include "bridge/ctrl-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/util.h"

/* ---- hosts' allocations (docs/fleet-api.md: Host status.allocated) ---- */

static bool sum_vm(void *ud, const json_t *vm)
{
    json_t *by_host = ud;
    const char *h = cn_json_str_at(vm, "spec.host");
    if (!*h) return true;
    json_t *a = json_object_get(by_host, h);
    if (!a) {
        a = json_pack("{s:i,s:i,s:i}", "cpu", 0, "mib", 0, "vms", 0);
        json_object_set_new(by_host, h, a);
    }
    const json_t *spec = json_object_get(vm, "spec");
    json_object_set_new(a, "cpu", json_integer(json_integer_value(json_object_get(a, "cpu")) + json_integer_value(json_object_get(spec, "cpu"))));
    json_object_set_new(a, "mib", json_integer(json_integer_value(json_object_get(a, "mib")) + json_integer_value(json_object_get(spec, "memoryMiB"))));
    json_object_set_new(a, "vms", json_integer(json_integer_value(json_object_get(a, "vms")) + 1));
    return true;
}

void cn_bridge_refresh_hosts(cn_client *c, cn_informer *hosts_inf, cn_informer *vms)
{
    json_t *by_host = json_object(), *hosts = cn_bridge_items(hosts_inf);
    cn_informer_foreach(vms, sum_vm, by_host);
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h) {
        json_t *a = json_object_get(by_host, cn_meta_str(h, "name"));
        json_int_t mib = json_integer_value(json_object_get(a, "mib"));
        char mem[32];
        if (mib % 1024 == 0) snprintf(mem, sizeof mem, "%lldGi", (long long)(mib / 1024));
        else snprintf(mem, sizeof mem, "%lldMi", (long long)mib);
        json_t *want = json_pack("{s:I,s:s,s:I}", "cpu", json_integer_value(json_object_get(a, "cpu")), "memory", mem,
                                 "vms", json_integer_value(json_object_get(a, "vms")));
        if (json_equal(want, json_object_get(json_object_get(h, "status"), "allocated"))) {
            json_decref(want);
            continue;
        }
        cn_err err = CN_ERR_INIT;
        if (cn_bridge_patch_status(c, "hosts", cn_meta_str(h, "name"), json_pack("{s:o}", "allocated", want), &err) < 0)
            cn_debug("host \"%s\": recording allocations: %s", cn_meta_str(h, "name"), err.message);
        cn_err_clear(&err);
    }
    json_decref(hosts);
    json_decref(by_host);
}

/* ---- logical networks' pool usage (docs/fleet-api.md: status.ipPools) ---- */

struct pool_use {
    uint32_t start, end;
    int used;
};

static void count_ip(struct pool_use *p, size_t n, const char *ip)
{
    uint32_t a;
    if (!*ip || cn_ip4_parse(ip, &a) < 0) return;
    for (size_t i = 0; i < n; i++)
        if (a >= p[i].start && a <= p[i].end) p[i].used++;
}

struct lnet_count {
    const char *lnet;
    struct pool_use *pools;
    size_t n;
    cn_informer *vms;
};

static bool count_cluster(void *ud, const json_t *cl)
{
    struct lnet_count *lc = ud;
    if (strcmp(cn_json_str_at(cl, "spec.logicalNetwork"), lc->lnet)) return true;
    count_ip(lc->pools, lc->n, cn_json_str_at(cl, "status.controlPlaneEndpoint"));
    json_t *vms = cn_bridge_cluster_vms(lc->vms, cn_meta_str(cl, "name"));
    size_t i;
    json_t *vm;
    json_array_foreach(vms, i, vm) count_ip(lc->pools, lc->n, cn_json_str_at(vm, "spec.ip"));
    json_decref(vms);
    return true;
}

void cn_bridge_refresh_lnets(cn_client *c, cn_informer *lnets_inf, cn_informer *clusters, cn_informer *vms)
{
    json_t *lnets = cn_bridge_items(lnets_inf);
    size_t i;
    json_t *l;
    json_array_foreach(lnets, i, l) {
        json_t *pools = json_object_get(json_object_get(l, "spec"), "ipPools");
        size_t n = json_array_size(pools), j;
        struct pool_use *pu = cn_calloc(n + 1, sizeof *pu);
        json_t *p;
        json_array_foreach(pools, j, p) {
            if (cn_ip4_parse(cn_json_str_at(p, "start"), &pu[j].start) < 0 ||
                cn_ip4_parse(cn_json_str_at(p, "end"), &pu[j].end) < 0)
                pu[j].start = 1, pu[j].end = 0;
        }
        struct lnet_count lc = { cn_meta_str(l, "name"), pu, n, vms };
        cn_informer_foreach(clusters, count_cluster, &lc);
        json_t *st = json_array();
        json_array_foreach(pools, j, p) {
            json_int_t size = pu[j].end >= pu[j].start ? (json_int_t)pu[j].end - pu[j].start + 1 : 0;
            json_array_append_new(st, json_pack("{s:s,s:s,s:s,s:i,s:I}", "name", cn_json_str_at(p, "name"),
                                                "start", cn_json_str_at(p, "start"), "end", cn_json_str_at(p, "end"),
                                                "used", pu[j].used, "available", size - pu[j].used));
        }
        free(pu);
        json_t *want = json_pack("{s:s,s:o}", "provisioningState", "Succeeded", "ipPools", st);
        json_t *cur = json_object_get(l, "status");
        if (json_equal(json_object_get(want, "ipPools"), json_object_get(cur, "ipPools")) &&
            !strcmp(cn_json_str_at(l, "status.provisioningState"), "Succeeded")) {
            json_decref(want);
            continue;
        }
        cn_err err = CN_ERR_INIT;
        if (cn_bridge_patch_status(c, "logicalnetworks", cn_meta_str(l, "name"), want, &err) < 0)
            cn_debug("logical network \"%s\": recording pool usage: %s", cn_meta_str(l, "name"), err.message);
        cn_err_clear(&err);
    }
    json_decref(lnets);
}
