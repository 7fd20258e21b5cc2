/* alloc: what the API server hands out to Services on create — a cluster
 * IP from the service CIDR (default 10.43.0.0/16, as k3s) and node ports
 * from 30000-32767 — the way upstream's REST storage for services does.
 *
 * What is in use is read from the stored Services; allocations made in the
 * last minute by this process are remembered too, so two concurrent creates
 * cannot both take the same address before either is stored. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "lib/util.h"

#define NODE_PORT_MIN 30000
#define NODE_PORT_MAX 32767
#define RECENT_MS 60000

struct recent {
    uint32_t value;     /* an IPv4 address (host order) or a port */
    bool port;
    int64_t at_ms;
};

struct cn_alloc {
    uint32_t net, mask;     /* service CIDR, host order */
    int prefix;
    pthread_mutex_t lock;
    struct recent *recent;
    size_t nrecent;
};

int cn_alloc_new(const char *cidr, cn_alloc **out, cn_err *err)
{
    char ip[64];
    const char *slash = strchr(cidr ? cidr : "", '/');
    int64_t prefix;
    struct in_addr a;
    if (!slash || (size_t)(slash - cidr) >= sizeof ip || cn_parse_int64(slash + 1, &prefix) < 0 ||
        prefix < 8 || prefix > 28)
        return cn_err_bad_request(err, "service CIDR \"%s\": want an IPv4 prefix like 10.43.0.0/16 (/8 to /28)",
                                  cidr ? cidr : "");
    memcpy(ip, cidr, (size_t)(slash - cidr));
    ip[slash - cidr] = '\0';
    if (inet_pton(AF_INET, ip, &a) != 1)
        return cn_err_bad_request(err, "service CIDR \"%s\": \"%s\" is not an IPv4 address", cidr, ip);
    cn_alloc *al = cn_calloc(1, sizeof *al);
    al->prefix = (int)prefix;
    al->mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    al->net = ntohl(a.s_addr) & al->mask;
    pthread_mutex_init(&al->lock, NULL);
    *out = al;
    return 0;
}

void cn_alloc_free(cn_alloc *al)
{
    if (!al) return;
    pthread_mutex_destroy(&al->lock);
    free(al->recent);
    free(al);
}

/* Used addresses and ports, from the store plus recent allocations. */
struct used {
    uint32_t *ips;
    size_t nips;
    uint32_t *ports;
    size_t nports;
    const char *skip_key;     /* the Service being updated */
};

static void push(uint32_t **v, size_t *n, uint32_t x)
{
    *v = cn_realloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = x;
}

static bool contains(const uint32_t *v, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

static int collect(void *ud, const cn_kv *kv)
{
    struct used *u = ud;
    if (u->skip_key && !strcmp(kv->key, u->skip_key)) return 0;
    json_t *o = json_loadb(kv->value, kv->value_len, 0, NULL);
    json_t *spec = json_object_get(o, "spec");
    struct in_addr a;
    const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
    if (ip && inet_pton(AF_INET, ip, &a) == 1) push(&u->ips, &u->nips, ntohl(a.s_addr));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p) {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np > 0) push(&u->ports, &u->nports, (uint32_t)np);
    }
    json_decref(o);
    return 0;
}

static void invalid(cn_err *err, const char *name, const char *field, const char *fmt, const char *value)
{
    cn_err_invalid(err, "Service \"%s\" is invalid: %s: Invalid value: \"%s\": %s", name, field, value, fmt);
    cn_err_set_details(err, name, "", "Service");
    cn_err_add_cause(err, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", value, fmt);
}

int cn_alloc_service(cn_apiserver *s, json_t *svc, const json_t *old, cn_err *err)
{
    cn_alloc *al = s->alloc;
    json_t *spec = json_object_get(svc, "spec");
    if (!al || !json_is_object(spec)) return 0;
    const char *type = json_string_value(json_object_get(spec, "type"));
    if (!type) type = "ClusterIP";
    const char *name = json_string_value(json_object_get(json_object_get(svc, "metadata"), "name"));
    if (!name) name = "";
    const json_t *ospec = old ? json_object_get(old, "spec") : NULL;
    int r = 0;
    struct used u = { 0 };
    char *skip = NULL;
    if (old) {
        const cn_resource *res = cn_registry_lookup(s->reg, "", "v1", "services");
        skip = cn_obj_key(res, json_string_value(json_object_get(json_object_get(old, "metadata"), "namespace")), name);
        u.skip_key = skip;
    }
    pthread_mutex_lock(&al->lock);
    int64_t now = cn_now_ms();
    size_t keep = 0;
    for (size_t i = 0; i < al->nrecent; i++)
        if (now - al->recent[i].at_ms < RECENT_MS) al->recent[keep++] = al->recent[i];
    al->nrecent = keep;
    cn_obj_foreach(s, "/registry/services/", collect, &u, NULL);
    for (size_t i = 0; i < al->nrecent; i++) {
        if (al->recent[i].port) push(&u.ports, &u.nports, al->recent[i].value);
        else push(&u.ips, &u.nips, al->recent[i].value);
    }

    /* Cluster IP. */
    if (strcmp(type, "ExternalName")) {
        const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
        const char *oip = ospec ? json_string_value(json_object_get(ospec, "clusterIP")) : NULL;
        struct in_addr a;
        if (ip && !strcmp(ip, "None")) {
            json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
        } else if (ip && *ip && oip && !strcmp(ip, oip)) {
            /* unchanged */
        } else if (ip && *ip) {
            if (inet_pton(AF_INET, ip, &a) != 1) {
                invalid(err, name, "spec.clusterIP", "must be a valid IP address", ip);
                r = -EINVAL;
                goto out;
            }
            uint32_t h = ntohl(a.s_addr);
            char range[64];
            struct in_addr n = { htonl(al->net) };
            char nb[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &n, nb, sizeof nb);
            snprintf(range, sizeof range, "%s/%d", nb, al->prefix);
            if ((h & al->mask) != al->net) {
                char msg[160];
                snprintf(msg, sizeof msg, "provided IP is not in the valid range. The range of valid IPs is %s", range);
                invalid(err, name, "spec.clusterIPs", msg, ip);
                r = -EINVAL;
                goto out;
            }
            if (contains(u.ips, u.nips, h)) {
                invalid(err, name, "spec.clusterIPs", "provided IP is already allocated", ip);
                r = -EINVAL;
                goto out;
            }
            al->recent = cn_realloc(al->recent, (al->nrecent + 1) * sizeof *al->recent);
            al->recent[al->nrecent++] = (struct recent){ h, false, now };
            json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
        } else {
            /* Random start, linear probe: spreads addresses like upstream. */
            uint32_t size = ~al->mask + 1u, start;
            cn_random(&start, sizeof start);
            uint32_t found = 0;
            for (uint32_t i = 0; i < size; i++) {
                uint32_t off = (start + i) % size;
                if (off < 2 || off == size - 1) continue;   /* network, .1 (kubernetes service), broadcast */
                if (!contains(u.ips, u.nips, al->net + off)) {
                    found = al->net + off;
                    break;
                }
            }
            if (!found) {
                cn_err_set(err, 500, "InternalError", "failed to allocate a serviceIP: range is full");
                r = -ENOSPC;
                goto out;
            }
            struct in_addr fa = { htonl(found) };
            char buf[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &fa, buf, sizeof buf);
            json_object_set_new(spec, "clusterIP", json_string(buf));
            json_object_set_new(spec, "clusterIPs", json_pack("[s]", buf));
            al->recent = cn_realloc(al->recent, (al->nrecent + 1) * sizeof *al->recent);
            al->recent[al->nrecent++] = (struct recent){ found, false, now };
        }
        if (!json_object_get(spec, "ipFamilies")) json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
        if (!json_object_get(spec, "ipFamilyPolicy")) json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
    }

    /* Node ports. */
    if (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer")) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(spec, "ports"), i, p) {
            json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
            bool had = false;
            size_t j;
            json_t *op;
            json_array_foreach(ospec ? json_object_get(ospec, "ports") : NULL, j, op)
                if (np > 0 && json_integer_value(json_object_get(op, "nodePort")) == np) had = true;
            if (np > 0) {
                if (had) continue;
                char field[64], v[24];
                snprintf(field, sizeof field, "spec.ports[%zu].nodePort", i);
                snprintf(v, sizeof v, "%lld", (long long)np);
                if (np < NODE_PORT_MIN || np > NODE_PORT_MAX) {
                    invalid(err, name, field, "provided port is not in the valid range. The range of valid ports is 30000-32767", v);
                    r = -EINVAL;
                    goto out;
                }
                if (contains(u.ports, u.nports, (uint32_t)np)) {
                    invalid(err, name, field, "provided port is already allocated", v);
                    r = -EINVAL;
                    goto out;
                }
                push(&u.ports, &u.nports, (uint32_t)np);
                continue;
            }
            uint32_t range = NODE_PORT_MAX - NODE_PORT_MIN + 1, start, got = 0;
            cn_random(&start, sizeof start);
            for (uint32_t k = 0; k < range; k++) {
                uint32_t port = NODE_PORT_MIN + (start + k) % range;
                if (!contains(u.ports, u.nports, port)) {
                    got = port;
                    break;
                }
            }
            if (!got) {
                cn_err_set(err, 500, "InternalError", "failed to allocate a nodePort: range is full");
                r = -ENOSPC;
                goto out;
            }
            json_object_set_new(p, "nodePort", json_integer(got));
            push(&u.ports, &u.nports, got);
            al->recent = cn_realloc(al->recent, (al->nrecent + 1) * sizeof *al->recent);
            al->recent[al->nrecent++] = (struct recent){ got, true, now };
        }
    }
out:
    pthread_mutex_unlock(&al->lock);
    free(u.ips);
    free(u.ports);
    free(skip);
    return r;
}
