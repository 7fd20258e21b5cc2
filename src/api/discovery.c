/* discovery: the documents kubectl reads to build its RESTMapper, in the
 * legacy form (/api, /apis, /api/v1, /apis/G/V) and the aggregated form
 * (apidiscovery.k8s.io v2 and v2beta1, identical but for apiVersion).
 * Everything is derived from one registry snapshot per call, so a CRD
 * shows up in the very next request after it is put. */
#include <stdlib.h>
#include <string.h>

#include "api/resource-internal.h"
#include "lib/util.h"

typedef struct group_info {
    const char *name;
    const char **versions;    /* preference order */
    size_t nv, cap;
} group_info;

typedef struct group_set {
    group_info *g;
    size_t n;
} group_set;

static void add_version(group_info *gi, const char *version)
{
    for (size_t i = 0; i < gi->nv; i++)
        if (!strcmp(gi->versions[i], version)) return;
    if (gi->nv == gi->cap) {
        gi->cap = gi->cap ? gi->cap * 2 : 4;
        gi->versions = cn_realloc(gi->versions, gi->cap * sizeof *gi->versions);
    }
    size_t at = gi->nv;
    while (at > 0 && cn_version_priority_cmp(version, gi->versions[at - 1]) < 0) {
        gi->versions[at] = gi->versions[at - 1];
        at--;
    }
    gi->versions[at] = version;
    gi->nv++;
}

/* Groups in first-appearance order of the snapshot (built-ins as in the
 * table, then custom groups alphabetically); core included as "". */
static void groups_of(const cn_res_snapshot *s, group_set *gs)
{
    gs->g = cn_calloc(s->n ? s->n : 1, sizeof *gs->g);
    gs->n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const cn_resource *res = s->items[i];
        group_info *gi = NULL;
        for (size_t j = 0; j < gs->n && !gi; j++)
            if (!strcmp(gs->g[j].name, res->group)) gi = &gs->g[j];
        if (!gi) {
            gi = &gs->g[gs->n++];
            gi->name = res->group;
        }
        add_version(gi, res->version);
    }
}

static void group_set_release(group_set *gs)
{
    for (size_t i = 0; i < gs->n; i++) free(gs->g[i].versions);
    free(gs->g);
}

static json_t *str_array(const char *const *v)
{
    json_t *a = json_array();
    for (; v && *v; v++) json_array_append_new(a, json_string(*v));
    return a;
}

static json_t *response_kind(const char *group, const char *version, const char *kind)
{
    return json_pack("{s:s, s:s, s:s}", "group", group ? group : "", "version", version ? version : "",
                     "kind", kind);
}

/* --- aggregated --- */

static json_t *agg_resource(const cn_resource *res)
{
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:o}", "resource", res->plural,
                          "responseKind", response_kind(NULL, NULL, res->kind),
                          "scope", res->namespaced ? "Namespaced" : "Cluster",
                          "singularResource", res->singular, "verbs", str_array(cn_resource_verbs(res)));
    if (res->short_names && res->short_names[0])
        json_object_set_new(o, "shortNames", str_array(res->short_names));
    if (res->categories && res->categories[0])
        json_object_set_new(o, "categories", str_array(res->categories));
    cn_subres subs[CN_MAX_SUBRES];
    size_t n = cn_resource_subresources(res, subs);
    if (n) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "subresource", subs[i].name,
                                               "responseKind",
                                               response_kind(subs[i].group, subs[i].version, subs[i].kind),
                                               "verbs", str_array(subs[i].verbs)));
        json_object_set_new(o, "subresources", a);
    }
    return o;
}

static json_t *agg_group(const cn_res_snapshot *s, const group_info *gi)
{
    json_t *versions = json_array();
    for (size_t v = 0; v < gi->nv; v++) {
        json_t *resources = json_array();
        for (size_t i = 0; i < s->n; i++) {
            const cn_resource *res = s->items[i];
            if (!strcmp(res->group, gi->name) && !strcmp(res->version, gi->versions[v]))
                json_array_append_new(resources, agg_resource(res));
        }
        json_array_append_new(versions, json_pack("{s:s, s:o, s:s}", "version", gi->versions[v],
                                                  "resources", resources, "freshness", "Current"));
    }
    return json_pack("{s:{s:s, s:n}, s:o}", "metadata", "name", gi->name, "creationTimestamp",
                     "versions", versions);
}

/* core: only the "" group; otherwise every named group. */
static json_t *agg_list(cn_registry *r, int agg, bool core)
{
    cn_res_snapshot s;
    group_set gs;
    cn_registry_snapshot(r, &s);
    groups_of(&s, &gs);
    json_t *items = json_array();
    for (size_t i = 0; i < gs.n; i++)
        if ((gs.g[i].name[0] == '\0') == core) json_array_append_new(items, agg_group(&s, &gs.g[i]));
    group_set_release(&gs);
    cn_res_snapshot_release(&s);
    return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                     agg == 1 ? "apidiscovery.k8s.io/v2beta1" : "apidiscovery.k8s.io/v2",
                     "metadata", "items", items);
}

/* --- legacy --- */

json_t *cn_discovery_core(cn_registry *r, int agg)
{
    if (agg) return agg_list(r, agg, true);
    return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress", "");
}

static json_t *group_version(const char *group, const char *version)
{
    char *gv = cn_asprintf("%s/%s", group, version);
    json_t *o = json_pack("{s:s, s:s}", "groupVersion", gv, "version", version);
    free(gv);
    return o;
}

json_t *cn_discovery_groups(cn_registry *r, int agg)
{
    if (agg) return agg_list(r, agg, false);
    cn_res_snapshot s;
    group_set gs;
    cn_registry_snapshot(r, &s);
    groups_of(&s, &gs);
    json_t *groups = json_array();
    for (size_t i = 0; i < gs.n; i++) {
        const group_info *gi = &gs.g[i];
        if (!gi->name[0]) continue;
        json_t *versions = json_array();
        for (size_t v = 0; v < gi->nv; v++)
            json_array_append_new(versions, group_version(gi->name, gi->versions[v]));
        json_array_append_new(groups, json_pack("{s:s, s:o, s:o}", "name", gi->name, "versions", versions,
                                                "preferredVersion", group_version(gi->name, gi->versions[0])));
    }
    group_set_release(&gs);
    cn_res_snapshot_release(&s);
    return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", groups);
}

static json_t *legacy_resource(const cn_resource *res)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", res->plural, "singularName", res->singular,
                          "namespaced", res->namespaced, "kind", res->kind,
                          "verbs", str_array(cn_resource_verbs(res)));
    if (res->short_names && res->short_names[0])
        json_object_set_new(o, "shortNames", str_array(res->short_names));
    if (res->categories && res->categories[0])
        json_object_set_new(o, "categories", str_array(res->categories));
    return o;
}

static json_t *legacy_subresource(const cn_resource *res, const cn_subres *sub)
{
    char *name = cn_asprintf("%s/%s", res->plural, sub->name);
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", res->singular,
                          "namespaced", res->namespaced, "kind", sub->kind, "verbs", str_array(sub->verbs));
    free(name);
    if (sub->group) {
        json_object_set_new(o, "group", json_string(sub->group));
        json_object_set_new(o, "version", json_string(sub->version));
    }
    return o;
}

json_t *cn_discovery_resources(cn_registry *r, const char *group, const char *version)
{
    if (!group || !version) return NULL;
    cn_res_snapshot s;
    cn_registry_snapshot(r, &s);
    json_t *resources = json_array();
    bool any = false;
    for (size_t i = 0; i < s.n; i++) {
        const cn_resource *res = s.items[i];
        if (strcmp(res->group, group) || strcmp(res->version, version)) continue;
        any = true;
        json_array_append_new(resources, legacy_resource(res));
        cn_subres subs[CN_MAX_SUBRES];
        size_t n = cn_resource_subresources(res, subs);
        for (size_t j = 0; j < n; j++) json_array_append_new(resources, legacy_subresource(res, &subs[j]));
    }
    cn_res_snapshot_release(&s);
    if (!any) {
        json_decref(resources);
        return NULL;
    }
    char *gv = group[0] ? cn_asprintf("%s/%s", group, version) : cn_strdup(version);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                          "groupVersion", gv, "resources", resources);
    free(gv);
    return o;
}
