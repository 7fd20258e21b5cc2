/* fleetstatus: the bridge controller's bookkeeping on hosts and logical
 * networks, refreshed on every resync from the fleet model's view
 * (cn_fleet_host_allocated, cn_fleet_lnet_pools): each Host's
 * status.allocated (the vCPUs, memory and VMs placed on it) and each
 * LogicalNetwork's status.provisioningState and status.ipPools (IPs held
 * by VMs and control-plane endpoints, and free), written only when they
 * change. */
#include "bridge/ctrl-internal.h"

#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

static void put_if_changed(cn_client *c, const char *plural, const json_t *obj, json_t *want)
{
    const json_t *cur = json_object_get(obj, "status");
    bool same = true;
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) if (!json_equal(v, json_object_get(cur, key))) same = false;
    if (same) {
        json_decref(want);
        return;
    }
    cn_err err = CN_ERR_INIT;
    if (cn_bridge_patch_status(c, plural, cn_meta_str(obj, "name"), want, &err) < 0)
        cn_debug("%s \"%s\": recording its status: %s", plural, cn_meta_str(obj, "name"), err.message);
    cn_err_clear(&err);
}

void cn_bridge_refresh_status(cn_client *c, const cn_fleet *f, cn_informer *hosts, cn_informer *lnets)
{
    json_t *items = cn_bridge_items(hosts);
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) {
        json_t *a = cn_fleet_host_allocated(f, cn_meta_str(o, "name"));
        if (a) put_if_changed(c, "hosts", o, json_pack("{s:o}", "allocated", a));
    }
    json_decref(items);
    items = cn_bridge_items(lnets);
    json_array_foreach(items, i, o) {
        json_t *p = cn_fleet_lnet_pools(f, cn_meta_str(o, "name"));
        if (p) put_if_changed(c, "logicalnetworks", o, json_pack("{s:s,s:o}", "provisioningState", "Succeeded", "ipPools", p));
    }
    json_decref(items);
}
