/* admit: the fleet admission plugin. Mutating: the defaults of
 * docs/fleet-api.md (Cluster, LogicalNetwork). Validating: the fleet
 * model's admission (fleet.h) of a Host, LogicalNetwork or Cluster create
 * or spec change, and of deletes, against the fleet as stored now. The
 * snapshot is listed through the in-process client (reads do not take the
 * serialization lock the write holds, so this cannot deadlock), and since
 * fleet.cairn.io writes are serialized, two requests never both pass on the
 * same free capacity or IPs. Status writes and metadata-only updates (the
 * controller's finalizers) are not checked: they claim nothing. */
#include "bridge/admit.h"

#include <string.h>

#include "bridge/crds.h"
#include "bridge/fleet.h"
#include "api/patch.h"
#include "lib/util.h"

static bool is_fleet(const cn_admit_attrs *a)
{
    return !strcmp(a->res->group, CN_FLEET_GROUP) && !a->sub;
}

static int mutate(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    (void)ud;
    (void)err;
    if (!is_fleet(a) || a->op == CN_ADMIT_DELETE) return 0;
    if (!strcmp(a->res->plural, "clusters")) cn_fleet_default_cluster(obj);
    else if (!strcmp(a->res->plural, "logicalnetworks")) cn_fleet_default_lnet(obj);
    return 0;
}

static int list_items(cn_client *c, const char *plural, json_t **items, cn_err *err)
{
    char *path = cn_client_path(CN_FLEET_GROUP, CN_FLEET_VERSION, NULL, plural, NULL, NULL);
    json_t *list = NULL;
    int r = cn_client_get(c, path, &list, err);
    free(path);
    *items = NULL;
    if (r == 0) *items = json_incref(json_object_get(list, "items"));
    json_decref(list);
    return r;
}

/* The fleet as stored now (caller frees). */
static int snapshot(cn_client *c, cn_fleet **out, cn_err *err)
{
    json_t *hosts = NULL, *lnets = NULL, *clusters = NULL, *vms = NULL;
    int r = list_items(c, "hosts", &hosts, err);
    if (r == 0) r = list_items(c, "logicalnetworks", &lnets, err);
    if (r == 0) r = list_items(c, "clusters", &clusters, err);
    if (r == 0) r = list_items(c, "virtualmachines", &vms, err);
    *out = r == 0 ? cn_fleet_new(hosts, lnets, clusters, vms) : NULL;
    if (r < 0) cn_err_wrap(err, "fleet admission: cannot list the fleet");
    json_decref(hosts);
    json_decref(lnets);
    json_decref(clusters);
    json_decref(vms);
    return r;
}

static int validate(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    cn_client *c = ud;
    if (!is_fleet(a)) return 0;
    const char *p = a->res->plural;
    bool checked = !strcmp(p, "hosts") || !strcmp(p, "logicalnetworks") || !strcmp(p, "clusters");
    if (!checked) return 0;
    if (a->op == CN_ADMIT_UPDATE) {
        /* Finalizers, labels, deletion: nothing claimed or changed. */
        if (cn_json_equal(json_object_get(obj, "spec"), json_object_get(a->old, "spec"))) return 0;
    }
    cn_fleet *f = NULL;
    int r = snapshot(c, &f, err);
    if (r < 0) return r;
    if (a->op == CN_ADMIT_DELETE) r = cn_fleet_admit_delete(f, a->res->kind, a->name, err);
    else if (!strcmp(p, "hosts")) r = cn_fleet_admit_host(f, obj, a->old, err);
    else if (!strcmp(p, "logicalnetworks")) r = cn_fleet_admit_lnet(f, obj, a->old, err);
    else r = cn_fleet_admit_cluster(f, obj, a->old, err);
    cn_fleet_free(f);
    return r;
}

void cn_bridge_admission_register(cn_apiserver *s, cn_client *c)
{
    cn_apiserver_add_admission(s, true, "FleetDefaults", mutate, NULL);
    cn_apiserver_add_admission(s, false, "FleetAdmission", validate, c);
}
