/* fleet: the snapshot of the fleet's objects, their parsing, defaults and
 * admission (fleet.h). Admission reads every field with its type checked
 * (a malformed object is a 422 naming the field, never a crash), then the
 * rules of docs/fleet-api.md in the order a user fixes them: the object
 * itself, what it may not change, what it refers to, its networks, then
 * the fleet's limits and capacity (placement.h) and the IP pools
 * (ipplan.h). The demand admission sees is the whole committed one: every
 * VM that exists and every VM that admitted clusters still want. */
#include "bridge/fleet-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/cidr.h"
#include "lib/quantity.h"
#include "lib/util.h"

static const char *const versions[] = { "1.30.8", "1.30.9", "1.31.4", "1.31.5", "1.32.0" };
#define NVERSIONS (sizeof versions / sizeof versions[0])

const char *const *cn_fleet_versions(size_t *n)
{
    *n = NVERSIONS;
    return versions;
}

const char *cn_fleet_default_version(void) { return versions[NVERSIONS - 1]; }

/* 422 naming the field, and 409 for a limit or a conflict with the fleet
 * (fmt is a literal; both evaluate to the errno to return). */
#define invalid(err, field, fmt, ...) (cn_err_invalid((err), "%s: " fmt, (field), ##__VA_ARGS__), -EINVAL)
#define conflict(err, ...) (cn_err_set((err), 409, "Conflict", __VA_ARGS__), -ENOSPC)

/* ---- typed field access: missing is NULL/default, a wrong type a 422 ---- */

static const json_t *child(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}
static const char *str_at(const json_t *o, const char *key) { return json_string_value(child(o, key)); }

static int get_obj(const json_t *o, const char *key, const char *field, const json_t **out, cn_err *err)
{
    const json_t *v = child(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v)) return invalid(err, field, "must be an object");
    *out = v;
    return 0;
}

static int get_str(const json_t *o, const char *key, const char *field, bool required, const char **out, cn_err *err)
{
    const json_t *v = child(o, key);
    *out = NULL;
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v))) {
        if (required) return invalid(err, field, "is required");
        return 0;
    }
    if (!json_is_string(v)) return invalid(err, field, "must be a string");
    *out = json_string_value(v);
    return 0;
}

/* An integer in [lo, hi], def when missing; rule is the message. */
static int get_int(const json_t *o, const char *key, const char *field, long long def, long long lo, long long hi,
                   const char *rule, long long *out, cn_err *err)
{
    const json_t *v = child(o, key);
    *out = def;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return invalid(err, field, "%s", rule);
    *out = json_integer_value(v);
    return 0;
}

static int get_ip(const json_t *o, const char *key, const char *field, bool required, uint32_t *out, cn_err *err)
{
    const char *s;
    int rc = get_str(o, key, field, required, &s, err);
    *out = 0;
    if (rc < 0 || !s) return rc;
    if (cn_ip4_parse(s, out) < 0) return invalid(err, field, "\"%s\" is not an IPv4 address", s);
    return 0;
}

static int get_cidr(const json_t *o, const char *key, const char *field, const char *def, const char **str,
                    uint32_t *net, int *prefix, cn_err *err)
{
    int rc = get_str(o, key, field, false, str, err);
    if (rc < 0) return rc;
    if (!*str) *str = def;
    if (cn_cidr4_parse(*str, net, prefix) < 0)
        return invalid(err, field, "\"%s\" is not an IPv4 CIDR like %s", *str, def);
    return 0;
}

/* A Kubernetes quantity given as a string or a whole number. */
static int get_quantity(const json_t *o, const char *key, const char *field, bool required, int64_t *out, cn_err *err)
{
    const json_t *v = child(o, key);
    *out = 0;
    if (!v || json_is_null(v)) return required ? invalid(err, field, "is required") : 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && cn_quantity_value(json_string_value(v), out) == 0 && *out >= 0) return 0;
    return invalid(err, field, "must be a quantity like 128Gi");
}

static bool dns_label(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (c != '-' || i == 0 || i == n - 1)) return false;
    }
    return true;
}

static const char *name_of(const json_t *obj) { return str_at(child(obj, "metadata"), "name"); }

/* An object whose metadata.name is a DNS label of at most max. */
static int check_object(const json_t *obj, const char *kind, size_t max, const char *why, cn_err *err)
{
    if (!json_is_object(obj)) return invalid(err, "object", "must be a JSON object");
    const char *name = name_of(obj);
    if (!name) return invalid(err, "metadata.name", "is required");
    if (!dns_label(name, max))
        return invalid(err, "metadata.name", "\"%s\": a %s name must be a lowercase DNS label of 1 to %zu characters "
                       "(a-z, 0-9, '-'; starting and ending with a letter or digit)%s", name, kind, max, why);
    return 0;
}

/* ---- parsing ---- */

static int parse_host(const json_t *obj, fhost *h, cn_err *err)
{
    const json_t *spec, *cap, *status;
    long long cpu, gpus;
    int64_t mem = 0, storage = 0;
    int rc;
    memset(h, 0, sizeof *h);
    h->name = name_of(obj);
    if (!h->name) return invalid(err, "metadata.name", "is required");
    if ((rc = get_obj(obj, "spec", "spec", &spec, err)) < 0) return rc;
    if ((rc = get_obj(spec, "capacity", "spec.capacity", &cap, err)) < 0) return rc;
    if (!cap) return invalid(err, "spec.capacity", "is required (cpu, memory)");
    /* vCPUs as a number or a quantity string ("32"), whole and >= 1. */
    int64_t milli = 0;
    const json_t *jc = child(cap, "cpu");
    if (!jc || json_is_null(jc)) return invalid(err, "spec.capacity.cpu", "is required (vCPUs, at least 1)");
    if (json_is_integer(jc)) milli = json_integer_value(jc) > 1 << 20 ? -1 : json_integer_value(jc) * 1000;
    else if (!json_is_string(jc) || cn_quantity_milli(json_string_value(jc), &milli) < 0) milli = -1;
    if (milli < 1000 || milli % 1000 || milli > (1000LL << 20))
        return invalid(err, "spec.capacity.cpu", "must be a whole number of vCPUs, at least 1");
    cpu = milli / 1000;
    if ((rc = get_quantity(cap, "memory", "spec.capacity.memory", true, &mem, err)) < 0) return rc;
    if (mem < 1024 * 1024) return invalid(err, "spec.capacity.memory", "must be at least 1Mi");
    if ((rc = get_quantity(cap, "storage", "spec.capacity.storage", false, &storage, err)) < 0) return rc;
    if ((rc = get_int(cap, "gpus", "spec.capacity.gpus", 0, 0, 64, "must be a whole number from 0 to 64", &gpus,
                      err)) < 0)
        return rc;
    const json_t *maint = child(spec, "maintenance");
    if (maint && !json_is_boolean(maint) && !json_is_null(maint))
        return invalid(err, "spec.maintenance", "must be true or false");
    if ((rc = get_obj(obj, "status", "status", &status, err)) < 0) return rc;
    h->vcpu = (int)cpu;
    h->mem_mib = mem / (1024 * 1024);
    h->gpus = (int)gpus;
    h->phase = str_at(status, "phase");
    if (!h->phase) h->phase = "";
    h->maintenance = json_is_true(maint);
    h->schedulable = !h->maintenance && (!*h->phase || !strcmp(h->phase, "Ready"));
    return 0;
}

static void lnet_release(flnet *n)
{
    free(n->ranges);
    free(n->pool_names);
    memset(n, 0, sizeof *n);
}

static int parse_lnet(const json_t *obj, flnet *n, cn_err *err)
{
    const json_t *spec;
    long long vlan;
    int rc;
    memset(n, 0, sizeof *n);
    n->name = name_of(obj);
    n->net.name = n->name;
    if (!n->name) return invalid(err, "metadata.name", "is required");
    if ((rc = get_obj(obj, "spec", "spec", &spec, err)) < 0) return rc;
    const char *pfx;
    if ((rc = get_str(spec, "addressPrefix", "spec.addressPrefix", true, &pfx, err)) < 0) return rc;
    if (cn_cidr4_parse(pfx, &n->net.net, &n->net.prefix) < 0)
        return invalid(err, "spec.addressPrefix", "\"%s\" is not an IPv4 network like 10.99.0.0/24", pfx);
    if ((rc = get_ip(spec, "gateway", "spec.gateway", true, &n->net.gateway, err)) < 0) return rc;
    if ((rc = get_int(spec, "vlan", "spec.vlan", 0, 0, 4094, "must be a VLAN id from 0 (none) to 4094", &vlan,
                      err)) < 0)
        return rc;
    n->vlan = (int)vlan;
    if ((rc = get_str(spec, "vmSwitchName", "spec.vmSwitchName", false, &n->vmswitch, err)) < 0) return rc;
    if ((rc = get_str(spec, "ipAllocationMethod", "spec.ipAllocationMethod", false, &n->method, err)) < 0) return rc;
    if (!n->method) n->method = "Static";
    n->dns = child(spec, "dnsServers");
    if (n->dns && !json_is_null(n->dns)) {
        if (!json_is_array(n->dns)) return invalid(err, "spec.dnsServers", "must be a list of IPv4 addresses");
        size_t i;
        const json_t *d;
        json_array_foreach(n->dns, i, d) {
            uint32_t ip;
            if (!json_is_string(d) || cn_ip4_parse(json_string_value(d), &ip) < 0)
                return invalid(err, "spec.dnsServers", "entry %zu is not an IPv4 address", i);
        }
    } else {
        n->dns = NULL;
    }
    const json_t *pools = child(spec, "ipPools");
    if (pools && !json_is_null(pools) && !json_is_array(pools))
        return invalid(err, "spec.ipPools", "must be a list of {name, start, end}");
    size_t np = json_array_size(pools);
    n->ranges = cn_calloc(np + 1, sizeof *n->ranges);
    n->pool_names = cn_calloc(np + 1, sizeof *n->pool_names);
    for (size_t i = 0; i < np; i++) {
        const json_t *p = json_array_get(pools, i);
        char field[64];
        snprintf(field, sizeof field, "spec.ipPools[%zu]", i);
        if (!json_is_object(p)) return invalid(err, field, "must be an object {name, start, end}");
        const char *pname;
        snprintf(field, sizeof field, "spec.ipPools[%zu].name", i);
        if ((rc = get_str(p, "name", field, false, &pname, err)) < 0) return rc;
        n->pool_names[i] = pname ? pname : "";
        snprintf(field, sizeof field, "spec.ipPools[%zu].start", i);
        if ((rc = get_ip(p, "start", field, true, &n->ranges[i].start, err)) < 0) return rc;
        snprintf(field, sizeof field, "spec.ipPools[%zu].end", i);
        if ((rc = get_ip(p, "end", field, true, &n->ranges[i].end, err)) < 0) return rc;
    }
    n->npools = np;
    n->net.pools = n->ranges;
    n->net.npools = np;
    return 0;
}

/* A ranges list {start, end} such as loadBalancerPools. */
static int parse_ranges(const json_t *arr, const char *field, cn_ip_range *out, size_t max, size_t *n, cn_err *err)
{
    *n = 0;
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr)) return invalid(err, field, "must be a list of {start, end}");
    if (json_array_size(arr) > max) return invalid(err, field, "at most %zu ranges", max);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *r = json_array_get(arr, i);
        char f[96];
        int rc;
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        if (!json_is_object(r)) return invalid(err, f, "must be an object {start, end}");
        snprintf(f, sizeof f, "%s[%zu].start", field, i);
        if ((rc = get_ip(r, "start", f, true, &out[i].start, err)) < 0) return rc;
        snprintf(f, sizeof f, "%s[%zu].end", field, i);
        if ((rc = get_ip(r, "end", f, true, &out[i].end, err)) < 0) return rc;
    }
    *n = json_array_size(arr);
    return 0;
}

static int parse_pool(const json_t *p, size_t i, fpool *out, cn_err *err)
{
    char field[64];
    long long count;
    int rc;
    memset(out, 0, sizeof *out);
    snprintf(field, sizeof field, "spec.nodePools[%zu]", i);
    if (!json_is_object(p)) return invalid(err, field, "must be an object {name, count, vmSize, ...}");
    snprintf(field, sizeof field, "spec.nodePools[%zu].name", i);
    if ((rc = get_str(p, "name", field, true, &out->name, err)) < 0) return rc;
    snprintf(field, sizeof field, "spec.nodePools[%zu].count", i);
    if ((rc = get_int(p, "count", field, 1, 1, CN_PL_MAX_POOL_NODES, "must be an integer between 1 and 64", &count,
                      err)) < 0)
        return rc;
    out->count = (int)count;
    snprintf(field, sizeof field, "spec.nodePools[%zu].vmSize", i);
    if ((rc = get_str(p, "vmSize", field, false, &out->size, err)) < 0) return rc;
    if (!out->size) out->size = FLEET_DEFAULT_SIZE;
    snprintf(field, sizeof field, "spec.nodePools[%zu].osType", i);
    if ((rc = get_str(p, "osType", field, false, &out->os, err)) < 0) return rc;
    if (!out->os) out->os = "Linux";
    out->labels = child(p, "labels");
    if (json_is_null(out->labels)) out->labels = NULL;
    if (out->labels) {
        const char *k;
        const json_t *v;
        snprintf(field, sizeof field, "spec.nodePools[%zu].labels", i);
        if (!json_is_object(out->labels)) return invalid(err, field, "must be a map of strings");
        json_object_foreach((json_t *)out->labels, k, v)
            if (!json_is_string(v)) return invalid(err, field, "label \"%s\" must be a string", k);
    }
    out->taints = child(p, "taints");
    if (json_is_null(out->taints)) out->taints = NULL;
    if (out->taints) {
        size_t j;
        const json_t *v;
        snprintf(field, sizeof field, "spec.nodePools[%zu].taints", i);
        if (!json_is_array(out->taints)) return invalid(err, field, "must be a list of \"key=value:Effect\" strings");
        json_array_foreach(out->taints, j, v)
            if (!json_is_string(v))
                return invalid(err, field, "entry %zu must be a string like key=value:NoSchedule", j);
    }
    return 0;
}

int cn_fl_parse_cluster(const json_t *obj, fcluster *c, cn_err *err)
{
    const json_t *spec, *cp, *net, *status, *meta;
    long long count;
    int rc;
    memset(c, 0, sizeof *c);
    c->obj = obj;
    c->name = name_of(obj);
    if (!json_is_object(obj)) return invalid(err, "object", "must be a JSON object");
    if (!c->name) return invalid(err, "metadata.name", "is required");
    if ((rc = get_obj(obj, "metadata", "metadata", &meta, err)) < 0) return rc;
    c->deleting = child(meta, "deletionTimestamp") && !json_is_null(child(meta, "deletionTimestamp"));
    if ((rc = get_obj(obj, "spec", "spec", &spec, err)) < 0) return rc;
    if (!spec) return invalid(err, "spec", "is required");
    if ((rc = get_str(spec, "kubernetesVersion", "spec.kubernetesVersion", false, &c->version, err)) < 0) return rc;
    if (!c->version) c->version = cn_fleet_default_version();
    if ((rc = get_str(spec, "logicalNetwork", "spec.logicalNetwork", true, &c->lnet, err)) < 0) return rc;
    if ((rc = get_obj(spec, "controlPlane", "spec.controlPlane", &cp, err)) < 0) return rc;
    if ((rc = get_int(cp, "count", "spec.controlPlane.count", 1, 1, 5, "must be 1, 3 or 5", &count, err)) < 0)
        return rc;
    if (count != 1 && count != 3 && count != 5) return invalid(err, "spec.controlPlane.count", "must be 1, 3 or 5");
    c->cp_count = (int)count;
    if ((rc = get_str(cp, "vmSize", "spec.controlPlane.vmSize", false, &c->cp_size, err)) < 0) return rc;
    if (!c->cp_size) c->cp_size = FLEET_DEFAULT_SIZE;
    if ((rc = get_str(cp, "endpoint", "spec.controlPlane.endpoint", false, &c->endpoint, err)) < 0) return rc;
    if ((rc = get_ip(cp, "endpoint", "spec.controlPlane.endpoint", false, &c->cp_ip, err)) < 0) return rc;
    const json_t *pools = child(spec, "nodePools");
    if (!pools || json_is_null(pools) || !json_is_array(pools) || json_array_size(pools) < 1 ||
        json_array_size(pools) > CN_PL_MAX_POOLS)
        return invalid(err, "spec.nodePools", "must be a list of 1 to 16 node pools");
    c->npools = json_array_size(pools);
    for (size_t i = 0; i < c->npools; i++)
        if ((rc = parse_pool(json_array_get(pools, i), i, &c->pools[i], err)) < 0) return rc;
    if ((rc = get_obj(spec, "networking", "spec.networking", &net, err)) < 0) return rc;
    if ((rc = get_cidr(net, "podCidr", "spec.networking.podCidr", "10.244.0.0/16", &c->pod_cidr, &c->pod_net,
                       &c->pod_prefix, err)) < 0)
        return rc;
    if ((rc = get_cidr(net, "serviceCidr", "spec.networking.serviceCidr", "10.96.0.0/12", &c->svc_cidr,
                       &c->svc_net, &c->svc_prefix, err)) < 0)
        return rc;
    if ((rc = parse_ranges(child(net, "loadBalancerPools"), "spec.networking.loadBalancerPools", c->lb, FLEET_MAX_LB,
                           &c->nlb, err)) < 0)
        return rc;
    /* Status is the bridge's own: read leniently. */
    status = child(obj, "status");
    c->state = str_at(status, "provisioningState");
    const char *ep = str_at(status, "controlPlaneEndpoint");
    if (!ep || cn_ip4_parse(ep, &c->recorded_ep) < 0) c->recorded_ep = 0;
    return 0;
}

/* A VM is kept if it names itself and its cluster; the rest is read as
 * far as it is well formed. */
static int parse_vm(const json_t *obj, fvm *v)
{
    const json_t *spec = child(obj, "spec");
    memset(v, 0, sizeof *v);
    v->obj = obj;
    v->name = name_of(obj);
    v->cluster = str_at(spec, "cluster");
    if (!v->name || !v->cluster) return -EINVAL;
    const char *role = str_at(spec, "role");
    v->pool = str_at(spec, "pool");
    if ((role && !strcmp(role, "controlPlane")) || (v->pool && !*v->pool)) v->pool = NULL;
    v->size = str_at(spec, "vmSize");
    v->host = str_at(spec, "host");
    if (!v->host) v->host = "";
    const char *ip = str_at(spec, "ip");
    if (!ip || cn_ip4_parse(ip, &v->ip) < 0) v->ip = 0;
    const json_t *dt = child(child(obj, "metadata"), "deletionTimestamp");
    v->deleting = dt && !json_is_null(dt);
    const char *dash = strrchr(v->name, '-');
    int64_t idx;
    v->index = dash && cn_parse_int64(dash + 1, &idx) == 0 && idx >= 0 ? (long)idx : -1;
    return 0;
}

/* ---- the snapshot ---- */

static int cmp_cluster(const void *a, const void *b)
{
    return strcmp(((const fcluster *)a)->name, ((const fcluster *)b)->name);
}

static int cmp_vm(const void *a, const void *b) { return strcmp(((const fvm *)a)->name, ((const fvm *)b)->name); }

static json_t *keep(cn_fleet *f, const json_t *o)
{
    json_t *c = json_deep_copy(o);
    json_array_append_new(f->objs, c);
    return c;
}

cn_fleet *cn_fleet_new(const json_t *hosts, const json_t *lnets, const json_t *clusters, const json_t *vms)
{
    cn_fleet *f = cn_calloc(1, sizeof *f);
    f->objs = json_array();
    f->hosts = cn_calloc(json_array_size(hosts) + 1, sizeof *f->hosts);
    f->lnets = cn_calloc(json_array_size(lnets) + 1, sizeof *f->lnets);
    f->clusters = cn_calloc(json_array_size(clusters) + 1, sizeof *f->clusters);
    f->vms = cn_calloc(json_array_size(vms) + 1, sizeof *f->vms);
    size_t i;
    const json_t *o;
    json_array_foreach(hosts, i, o) {
        if (json_is_object(o) && parse_host(keep(f, o), &f->hosts[f->nhosts], NULL) == 0 &&
            cn_fl_find_host(f, f->hosts[f->nhosts].name) < 0)
            f->nhosts++;
    }
    json_array_foreach(lnets, i, o) {
        flnet *n = &f->lnets[f->nlnets];
        if (json_is_object(o) && parse_lnet(keep(f, o), n, NULL) == 0 && !cn_fl_find_lnet(f, n->name)) f->nlnets++;
        else lnet_release(n);
    }
    json_array_foreach(clusters, i, o) {
        if (json_is_object(o) && cn_fl_parse_cluster(keep(f, o), &f->clusters[f->nclusters], NULL) == 0 &&
            !cn_fl_find_cluster(f, f->clusters[f->nclusters].name))
            f->nclusters++;
    }
    json_array_foreach(vms, i, o) {
        if (json_is_object(o) && parse_vm(keep(f, o), &f->vms[f->nvms]) == 0 && !cn_fl_find_vm(f, f->vms[f->nvms].name))
            f->nvms++;
    }
    qsort(f->clusters, f->nclusters, sizeof *f->clusters, cmp_cluster);
    qsort(f->vms, f->nvms, sizeof *f->vms, cmp_vm);
    return f;
}

void cn_fleet_free(cn_fleet *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nlnets; i++) lnet_release(&f->lnets[i]);
    free(f->hosts);
    free(f->lnets);
    free(f->clusters);
    free(f->vms);
    json_decref(f->objs);
    free(f);
}

int cn_fl_find_host(const cn_fleet *f, const char *name)
{
    for (size_t i = 0; name && i < f->nhosts; i++)
        if (!strcmp(f->hosts[i].name, name)) return (int)i;
    return -1;
}

const flnet *cn_fl_find_lnet(const cn_fleet *f, const char *name)
{
    for (size_t i = 0; name && i < f->nlnets; i++)
        if (!strcmp(f->lnets[i].name, name)) return &f->lnets[i];
    return NULL;
}

const fcluster *cn_fl_find_cluster(const cn_fleet *f, const char *name)
{
    for (size_t i = 0; name && i < f->nclusters; i++)
        if (!strcmp(f->clusters[i].name, name)) return &f->clusters[i];
    return NULL;
}

const fvm *cn_fl_find_vm(const cn_fleet *f, const char *name)
{
    for (size_t i = 0; name && i < f->nvms; i++)
        if (!strcmp(f->vms[i].name, name)) return &f->vms[i];
    return NULL;
}

/* ---- shared arithmetic ---- */

int cn_fl_wanted(const fcluster *c, int pool, const char *surge_pool, int surge)
{
    if (c->deleting) return 0;
    if (pool < 0) return c->cp_count;
    int n = c->pools[pool].count;
    if (surge_pool && surge > 0 && !strcmp(surge_pool, c->pools[pool].name)) n += surge;
    return n;
}

static bool same_pool(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

size_t cn_fl_count_set(const cn_fleet *f, const char *cluster, const char *pool, bool all)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nvms; i++)
        if (!strcmp(f->vms[i].cluster, cluster) && same_pool(f->vms[i].pool, pool) && (all || !f->vms[i].deleting))
            n++;
    return n;
}

size_t cn_fl_cluster_nodes(const fcluster *c)
{
    size_t n = (size_t)c->cp_count;
    for (size_t i = 0; i < c->npools; i++) n += (size_t)c->pools[i].count;
    return n;
}

bool cn_fl_in_pools(const flnet *n, uint32_t ip)
{
    for (size_t i = 0; i < n->npools; i++)
        if (ip >= n->ranges[i].start && ip <= n->ranges[i].end) return true;
    return false;
}

bool cn_fl_vm_on_lnet(const cn_fleet *f, const fvm *v, const flnet *n)
{
    const fcluster *c = cn_fl_find_cluster(f, v->cluster);
    return !c || !strcmp(c->lnet, n->name);
}

size_t cn_fl_reserve(const cn_fleet *f, const fcluster *c, const flnet *n, size_t *held)
{
    *held = 0;
    for (size_t k = 0; k < f->nvms; k++)
        if (!strcmp(f->vms[k].cluster, c->name) && f->vms[k].ip && cn_fl_in_pools(n, f->vms[k].ip)) (*held)++;
    size_t want = cn_fl_cluster_nodes(c) + 1;
    size_t nodes = c->deleting || *held > want ? *held : want;
    bool ep = !c->cp_ip && (!c->deleting || (c->recorded_ep && cn_fl_in_pools(n, c->recorded_ep)));
    return nodes + ep;
}

uint32_t cn_fl_endpoint(const fcluster *c) { return c->cp_ip ? c->cp_ip : c->recorded_ep; }

/* ---- the placement view ---- */

void cn_plview_init(plview *p, const cn_fleet *f)
{
    memset(p, 0, sizeof *p);
    p->hosts = cn_calloc(f->nhosts + 1, sizeof *p->hosts);
    for (size_t i = 0; i < f->nhosts; i++)
        p->hosts[i] = (cn_pl_host){ f->hosts[i].name, f->hosts[i].vcpu, f->hosts[i].mem_mib, f->hosts[i].gpus,
                                    f->hosts[i].schedulable };
    p->f.hosts = p->hosts;
    p->f.nhosts = f->nhosts;
}

void cn_plview_add(plview *p, const char *cluster, const char *pool, const char *size, int host)
{
    if (p->nvms == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->vms = cn_realloc(p->vms, p->cap * sizeof *p->vms);
    }
    p->vms[p->nvms++] = (cn_pl_vm){ cluster, pool, size, host };
}

void cn_plview_add_real(plview *p, const cn_fleet *f, const char *skip_cluster, const char *skip_vm, bool skip_failing)
{
    for (size_t i = 0; i < f->nvms; i++) {
        const fvm *v = &f->vms[i];
        /* A skipped cluster's VMs on their way out still take their room. */
        if (skip_cluster && !strcmp(v->cluster, skip_cluster) && !v->deleting) continue;
        if (skip_vm && !strcmp(v->name, skip_vm)) continue;
        int h = cn_fl_find_host(f, v->host);
        if (skip_failing && !v->deleting && (h < 0 || !f->hosts[h].schedulable)) continue;
        /* A VM on its way out keeps its room but belongs to no set. */
        cn_plview_add(p, v->deleting ? NULL : v->cluster, v->pool, v->size, h);
    }
}

void cn_plview_add_missing(plview *p, const cn_fleet *f, const char *skip)
{
    for (size_t i = 0; i < f->nclusters; i++) {
        const fcluster *c = &f->clusters[i];
        if (skip && !strcmp(c->name, skip)) continue;
        for (int s = -1; s < (int)c->npools; s++) {
            const char *pool = s < 0 ? NULL : c->pools[s].name;
            const char *size = s < 0 ? c->cp_size : c->pools[s].size;
            size_t have = cn_fl_count_set(f, c->name, pool, false);
            for (size_t k = have; k < (size_t)cn_fl_wanted(c, s, NULL, 0); k++)
                cn_plview_add(p, c->name, pool, size, cn_pl_place_one(cn_plview_get(p), c->name, pool, size, false));
        }
    }
}

const cn_pl_fleet *cn_plview_get(plview *p)
{
    p->f.vms = p->vms;
    p->f.nvms = p->nvms;
    return &p->f;
}

void cn_plview_release(plview *p)
{
    free(p->hosts);
    free(p->vms);
    memset(p, 0, sizeof *p);
}

/* ---- defaults ---- */

static json_t *obj_at(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        v = json_object();
        json_object_set_new(o, key, v);
    }
    return v;
}

static void set_default(json_t *o, const char *key, json_t *v)
{
    if (json_is_object(o) && (!json_object_get(o, key) || json_is_null(json_object_get(o, key))))
        json_object_set(o, key, v);
    json_decref(v);
}

void cn_fleet_default_cluster(json_t *cluster)
{
    if (!json_is_object(cluster)) return;
    json_t *spec = obj_at(cluster, "spec");
    if (!json_is_object(spec)) return;
    set_default(spec, "kubernetesVersion", json_string(cn_fleet_default_version()));
    json_t *cp = obj_at(spec, "controlPlane");
    set_default(cp, "count", json_integer(1));
    set_default(cp, "vmSize", json_string(FLEET_DEFAULT_SIZE));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "nodePools"), i, p) {
        set_default(p, "count", json_integer(1));
        set_default(p, "vmSize", json_string(FLEET_DEFAULT_SIZE));
        set_default(p, "osType", json_string("Linux"));
    }
    json_t *net = obj_at(spec, "networking");
    set_default(net, "podCidr", json_string("10.244.0.0/16"));
    set_default(net, "serviceCidr", json_string("10.96.0.0/12"));
}

void cn_fleet_default_lnet(json_t *lnet)
{
    if (!json_is_object(lnet)) return;
    json_t *spec = obj_at(lnet, "spec");
    set_default(spec, "vlan", json_integer(0));
    set_default(spec, "ipAllocationMethod", json_string("Static"));
}

/* ---- versions ---- */

/* "1.31.4" -> {1, 31, 4}; false unless three dot-separated numbers. */
static bool parse_version(const char *s, long v[3])
{
    for (int i = 0; i < 3; i++) {
        if (!s || *s < '0' || *s > '9') return false;
        v[i] = 0;
        while (*s >= '0' && *s <= '9' && v[i] < 100000) v[i] = v[i] * 10 + (*s++ - '0');
        if (i < 2 && *s++ != '.') return false;
    }
    return s && !*s;
}

static bool version_known(const char *s)
{
    for (size_t i = 0; s && i < NVERSIONS; i++)
        if (!strcmp(versions[i], s)) return true;
    return false;
}

static int check_version(const char *to, const char *from, cn_err *err)
{
    if (!version_known(to)) {
        cn_buf b;
        cn_buf_init(&b);
        for (size_t i = 0; i < NVERSIONS; i++) cn_buf_addf(&b, "%s%s", i ? ", " : "", versions[i]);
        int rc = invalid(err, "spec.kubernetesVersion", "\"%s\" is not supported (supported: %s)", to, b.data);
        cn_buf_release(&b);
        return rc;
    }
    long a[3], b[3];
    if (!from || !strcmp(from, to) || !parse_version(from, a) || !parse_version(to, b)) return 0;
    int cmp = a[0] != b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] != b[1] ? (a[1] < b[1] ? -1 : 1)
            : a[2] != b[2] ? (a[2] < b[2] ? -1 : 1) : 0;
    if (cmp > 0)
        return invalid(err, "spec.kubernetesVersion", "%s -> %s: Kubernetes versions are never downgraded", from, to);
    if (a[0] != b[0] || b[1] > a[1] + 1)
        return invalid(err, "spec.kubernetesVersion", "%s -> %s: upgrades go one minor version at a time "
                       "(upgrade to %ld.%ld.x first)", from, to, a[0], a[1] + 1);
    return 0;
}

/* ---- host admission ---- */

int cn_fleet_admit_host(const cn_fleet *f, const json_t *obj, const json_t *old, cn_err *err)
{
    fhost h;
    int rc;
    if ((rc = check_object(obj, "host", 63, "", err)) < 0) return rc;
    if ((rc = parse_host(obj, &h, err)) < 0) return rc;
    if (!old && cn_fl_find_host(f, h.name) < 0 && f->nhosts >= CN_PL_MAX_HOSTS)
        return conflict(err, "the fleet has %zu hosts, the most it may have: host \"%s\" cannot join (remove a "
                        "host first)", f->nhosts, h.name);
    return 0;
}

/* ---- logical network admission ---- */

static void pool_desc(const flnet *n, size_t i, char *out, size_t len)
{
    char a[CN_IP4_STRLEN], b[CN_IP4_STRLEN];
    cn_ip4_str(n->ranges[i].start, a);
    cn_ip4_str(n->ranges[i].end, b);
    if (*n->pool_names[i]) snprintf(out, len, "%s (%s-%s)", n->pool_names[i], a, b);
    else snprintf(out, len, "%s-%s", a, b);
}

static const fcluster *lnet_user(const cn_fleet *f, const char *lnet)
{
    for (size_t i = 0; i < f->nclusters; i++)
        if (!strcmp(f->clusters[i].lnet, lnet)) return &f->clusters[i];
    return NULL;
}

/* Only new pools appended: the old spec equals the new one cut back to
 * the old pools. */
static bool only_pools_appended(const json_t *obj, const json_t *old)
{
    json_t *a = json_deep_copy(child(obj, "spec")), *b = json_deep_copy(child(old, "spec"));
    bool ok = false;
    if (json_is_object(a) && json_is_object(b)) {
        json_t *pa = json_object_get(a, "ipPools"), *pb = json_object_get(b, "ipPools");
        size_t nb = json_array_size(pb);
        ok = json_array_size(pa) >= nb;
        for (size_t i = 0; ok && i < nb; i++) ok = json_equal(json_array_get(pa, i), json_array_get(pb, i));
        json_object_del(a, "ipPools");
        json_object_del(b, "ipPools");
        ok = ok && json_equal(a, b);
    }
    json_decref(a);
    json_decref(b);
    return ok;
}

static int admit_lnet_parsed(const cn_fleet *f, const flnet *n, cn_err *err)
{
    char d1[80], d2[80];
    if (!n->dns || !json_array_size(n->dns))
        return invalid(err, "spec.dnsServers", "at least one DNS server is required (AKS Arc needs them)");
    if (strcmp(n->method, "Static"))
        return invalid(err, "spec.ipAllocationMethod", "\"%s\": AKS Arc supports Static only", n->method);
    if (!n->npools) return invalid(err, "spec.ipPools", "at least one static IP pool is required");
    if (!n->vmswitch) return invalid(err, "spec.vmSwitchName", "is required (the switch VM NICs join on every host)");
    int rc = cn_lnet_check(&n->net, err);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n->npools; i++)
        for (size_t j = 0; j < i; j++)
            if (*n->pool_names[i] && !strcmp(n->pool_names[i], n->pool_names[j]))
                return invalid(err, "spec.ipPools", "pool name \"%s\" is used twice", n->pool_names[i]);
    for (size_t k = 0; k < f->nlnets; k++) {
        const flnet *o = &f->lnets[k];
        if (!strcmp(o->name, n->name) || o->vlan != n->vlan) continue;
        for (size_t i = 0; i < n->npools; i++)
            for (size_t j = 0; j < o->npools; j++) {
                if (n->ranges[i].start > o->ranges[j].end || o->ranges[j].start > n->ranges[i].end) continue;
                pool_desc(n, i, d1, sizeof d1);
                pool_desc(o, j, d2, sizeof d2);
                return conflict(err, "logical network \"%s\": IP pool %s overlaps pool %s of logical network \"%s\" "
                                "on VLAN %d", n->name, d1, d2, o->name, n->vlan);
            }
    }
    return 0;
}

int cn_fleet_admit_lnet(const cn_fleet *f, const json_t *obj, const json_t *old, cn_err *err)
{
    flnet n;
    int rc;
    if ((rc = check_object(obj, "logical network", 63, "", err)) < 0) return rc;
    json_t *o = json_deep_copy(obj), *od = old ? json_deep_copy(old) : NULL;
    cn_fleet_default_lnet(o);
    cn_fleet_default_lnet(od);
    rc = parse_lnet(o, &n, err);
    if (rc == 0 && od && !json_equal(child(o, "spec"), child(od, "spec"))) {
        const fcluster *user = lnet_user(f, n.name);
        if (user && !only_pools_appended(o, od))
            rc = conflict(err, "logical network \"%s\" is used by cluster \"%s\": while clusters use it, only new IP "
                          "pools may be appended to it", n.name, user->name);
    }
    if (rc == 0 && (!od || !json_equal(child(o, "spec"), child(od, "spec")))) rc = admit_lnet_parsed(f, &n, err);
    lnet_release(&n);
    json_decref(o);
    json_decref(od);
    return rc;
}

/* ---- deletion ---- */

int cn_fleet_admit_delete(const cn_fleet *f, const char *kind, const char *name, cn_err *err)
{
    if (!kind || !name) return 0;
    /* The Kind or the resource's plural, as the admission plugin has it. */
    if (!strcasecmp(kind, "LogicalNetwork") || !strcasecmp(kind, "logicalnetworks")) {
        const fcluster *user = lnet_user(f, name);
        if (user)
            return conflict(err, "logical network \"%s\" is used by cluster \"%s\": delete the cluster first", name,
                            user->name);
    } else if (!strcasecmp(kind, "Host") || !strcasecmp(kind, "hosts")) {
        cn_buf b;
        size_t n = 0;
        cn_buf_init(&b);
        for (size_t i = 0; i < f->nvms; i++) {
            if (strcmp(f->vms[i].host, name)) continue;
            if (n < 5) cn_buf_addf(&b, "%s%s", n ? ", " : "", f->vms[i].name);
            n++;
        }
        if (n > 5) cn_buf_addf(&b, ", ...");
        int rc = 0;
        if (n)
            rc = conflict(err, "host \"%s\" still has %zu VM%s placed on it (%s): move them away first (set "
                          "spec.maintenance: true to drain it)", name, n, n == 1 ? "" : "s", b.data);
        cn_buf_release(&b);
        return rc;
    }
    return 0;
}

/* ---- cluster admission ---- */

static int immutable(cn_err *err, const char *field, const char *was, const char *now)
{
    return invalid(err, field, "cannot be changed after the cluster is created (was %s%s%s, now %s%s%s)",
                   was ? "\"" : "", was ? was : "unset", was ? "\"" : "", now ? "\"" : "", now ? now : "unset",
                   now ? "\"" : "");
}

static bool str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static int check_update(const fcluster *c, const fcluster *o, cn_err *err)
{
    if (o->state && strcmp(o->state, "Succeeded") && strcmp(o->state, "Failed"))
        return conflict(err, "cluster \"%s\" has an operation in progress (%s): one at a time", c->name, o->state);
    if (!str_eq(c->lnet, o->lnet)) return immutable(err, "spec.logicalNetwork", o->lnet, c->lnet);
    if (!str_eq(c->endpoint, o->endpoint))
        return immutable(err, "spec.controlPlane.endpoint", o->endpoint, c->endpoint);
    if (!str_eq(c->cp_size, o->cp_size)) return immutable(err, "spec.controlPlane.vmSize", o->cp_size, c->cp_size);
    if (c->cp_count != o->cp_count)
        return invalid(err, "spec.controlPlane.count", "the control plane's size cannot change after the cluster is "
                       "created (was %d, now %d)", o->cp_count, c->cp_count);
    if (!str_eq(c->pod_cidr, o->pod_cidr)) return immutable(err, "spec.networking.podCidr", o->pod_cidr, c->pod_cidr);
    if (!str_eq(c->svc_cidr, o->svc_cidr))
        return immutable(err, "spec.networking.serviceCidr", o->svc_cidr, c->svc_cidr);
    if (c->nlb != o->nlb || (c->nlb && memcmp(c->lb, o->lb, c->nlb * sizeof *c->lb)))
        return invalid(err, "spec.networking.loadBalancerPools", "cannot be changed after the cluster is created");
    for (size_t i = 0; i < c->npools; i++)
        for (size_t j = 0; j < o->npools; j++) {
            if (strcmp(c->pools[i].name, o->pools[j].name)) continue;
            char field[64];
            snprintf(field, sizeof field, "spec.nodePools[%zu].vmSize", i);
            if (strcmp(c->pools[i].size, o->pools[j].size))
                return immutable(err, field, o->pools[j].size, c->pools[i].size);
            snprintf(field, sizeof field, "spec.nodePools[%zu].osType", i);
            if (strcmp(c->pools[i].os, o->pools[j].os)) return immutable(err, field, o->pools[j].os, c->pools[i].os);
        }
    return 0;
}

static cn_cluster_net cluster_net(const fcluster *c, uint32_t cp_ip)
{
    return (cn_cluster_net){ .name = c->name, .cp_ip = cp_ip, .pod_net = c->pod_net, .pod_prefix = c->pod_prefix,
                             .svc_net = c->svc_net, .svc_prefix = c->svc_prefix, .lb = c->lb, .nlb = c->nlb };
}

static int check_networks(const cn_fleet *f, const fcluster *c, const flnet *n, cn_err *err)
{
    cn_cluster_net *others = cn_calloc(f->nclusters + 1, sizeof *others);
    size_t no = 0;
    for (size_t i = 0; i < f->nclusters; i++) {
        const fcluster *o = &f->clusters[i];
        if (strcmp(o->name, c->name) && !strcmp(o->lnet, n->name)) others[no++] = cluster_net(o, cn_fl_endpoint(o));
    }
    cn_cluster_net me = cluster_net(c, c->cp_ip);
    int rc = cn_ipplan_check_cluster(&n->net, &me, others, no, err);
    free(others);
    return rc;
}

/* The cluster as placement.h sees it; pools has room for every pool. */
static cn_pl_request pl_request(const fcluster *c, cn_pl_pool *pools)
{
    for (size_t i = 0; i < c->npools; i++)
        pools[i] = (cn_pl_pool){ c->pools[i].name, c->pools[i].count, c->pools[i].size, c->pools[i].os };
    return (cn_pl_request){ c->name, c->cp_count, c->cp_size, pools, c->npools };
}

static int check_request(const fcluster *c, cn_err *err)
{
    cn_pl_pool pools[CN_PL_MAX_POOLS];
    cn_pl_request r = pl_request(c, pools);
    int rc = cn_pl_check_request(&r, err);
    if (rc < 0 && err) cn_err_wrap(err, "spec");
    return rc;
}

static int check_placement(const cn_fleet *f, const fcluster *c, cn_err *err)
{
    plview p;
    cn_plview_init(&p, f);
    cn_plview_add_real(&p, f, c->name, NULL, false);
    cn_plview_add_missing(&p, f, c->name);
    cn_pl_pool pools[CN_PL_MAX_POOLS];
    cn_pl_request r = pl_request(c, pools);
    size_t nclusters = 0;
    for (size_t i = 0; i < f->nclusters; i++) nclusters += strcmp(f->clusters[i].name, c->name) != 0;
    size_t nout = cn_pl_request_vms(&r);
    int *hosts = cn_calloc(nout + 1, sizeof *hosts);
    cn_pl_fleet *pf = (cn_pl_fleet *)cn_plview_get(&p);
    pf->nclusters = nclusters;
    int rc = cn_pl_place(pf, &r, hosts, nout, err);
    free(hosts);
    cn_plview_release(&p);
    return rc;
}

/* Whether the pools hold every cluster's IPs: what each other cluster on
 * the lnet reserves (cn_fl_reserve), the IPs VMs of clusters gone keep
 * until they are, and this cluster's own need. */
static int check_ips(const cn_fleet *f, const fcluster *c, const flnet *n, cn_err *err)
{
    size_t total = 0, others = 0, held;
    for (size_t i = 0; i < n->npools; i++) total += (size_t)(n->ranges[i].end - n->ranges[i].start) + 1;
    for (size_t i = 0; i < f->nclusters; i++) {
        const fcluster *o = &f->clusters[i];
        if (strcmp(o->name, c->name) && !strcmp(o->lnet, n->name)) others += cn_fl_reserve(f, o, n, &held);
    }
    /* VMs of clusters gone, and this cluster's being deleted, hold theirs
     * until they are gone. */
    for (size_t k = 0; k < f->nvms; k++) {
        const fvm *v = &f->vms[k];
        bool gone = !cn_fl_find_cluster(f, v->cluster) || (v->deleting && !strcmp(v->cluster, c->name));
        if (gone && v->ip && cn_fl_in_pools(n, v->ip)) others++;
    }
    cn_cluster_net me = cluster_net(c, c->cp_ip);
    size_t nodes = cn_fl_cluster_nodes(c), need = cn_ipplan_pool_need(nodes, &me);
    size_t nfree = total > others ? total - others : 0;
    if (need <= nfree) return 0;
    cn_buf b;
    cn_buf_init(&b);
    for (size_t i = 0; i < n->npools; i++) {
        char d[80];
        pool_desc(n, i, d, sizeof d);
        cn_buf_addf(&b, "%s%s", i ? ", " : "", d);
    }
    int rc = conflict(err, "logical network \"%s\": cluster \"%s\" needs %zu IPs (%zu node VMs, 1 upgrade surge%s) "
                      "and only %zu are free in its pool%s %s (%zu short)", n->name, c->name, need, nodes,
                      c->cp_ip ? "" : ", 1 control-plane endpoint", nfree, n->npools == 1 ? "" : "s", b.data,
                      need - nfree);
    cn_buf_release(&b);
    return rc;
}

/* Whether the new spec wants a VM the old did not: a new pool or a count
 * up (the control plane's count and sizes cannot change). */
static bool demand_grows(const fcluster *c, const fcluster *o)
{
    for (size_t i = 0; i < c->npools; i++) {
        size_t j = 0;
        while (j < o->npools && strcmp(c->pools[i].name, o->pools[j].name)) j++;
        if (j == o->npools || c->pools[i].count > o->pools[j].count) return true;
    }
    return false;
}

int cn_fleet_admit_cluster(const cn_fleet *f, const json_t *obj, const json_t *old, cn_err *err)
{
    fcluster c, o;
    int rc;
    if ((rc = check_object(obj, "cluster", 40, " (its VM names append -cp-N and -<pool>-N)", err)) < 0) return rc;
    json_t *co = json_deep_copy(obj), *oo = old ? json_deep_copy(old) : NULL;
    cn_fleet_default_cluster(co);
    cn_fleet_default_cluster(oo);
    if ((rc = cn_fl_parse_cluster(co, &c, err)) < 0) goto out;
    bool has_old = oo && cn_fl_parse_cluster(oo, &o, NULL) == 0;
    if (has_old && json_equal(child(co, "spec"), child(oo, "spec"))) goto out;   /* metadata or status only */
    if (has_old && (rc = check_update(&c, &o, err)) < 0) goto out;
    const flnet *n = cn_fl_find_lnet(f, c.lnet);
    if (!n) {
        rc = invalid(err, "spec.logicalNetwork", "logical network \"%s\" does not exist", c.lnet);
        goto out;
    }
    /* A version dropped from the catalogue does not block other changes. */
    if (!has_old || strcmp(c.version, o.version))
        if ((rc = check_version(c.version, has_old ? o.version : NULL, err)) < 0) goto out;
    if ((rc = check_request(&c, err)) < 0) goto out;
    if ((rc = check_networks(f, &c, n, err)) < 0) goto out;
    /* Fewer or the same VMs (a scale-down, labels, an upgrade) ask nothing
     * more of the fleet: allowed even while it is short of a host. */
    if (has_old && !demand_grows(&c, &o)) goto out;
    if ((rc = check_placement(f, &c, err)) < 0) goto out;
    rc = check_ips(f, &c, n, err);
out:
    json_decref(co);
    json_decref(oo);
    return rc;
}
