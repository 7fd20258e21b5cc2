/* alloc: what the API server hands out to Services — a cluster IP from the
 * service CIDR (default 10.43.0.0/16, as k3s) and node ports from
 * 30000-32767 — the way upstream's REST storage for services does.
 *
 * Several servers may share one store (HA over etcd), so nothing held in
 * memory can say what is free. Each address or port in use has a claim key
 * in the store, created before the Service that holds it is written:
 *
 *   /registry/cairn.io/serviceipclaims/<ip>
 *   /registry/cairn.io/servicenodeportclaims/<port>
 *
 * value {"namespace","name","uid","createdAt"(epoch s)}. The store's create
 * fails atomically with -EEXIST on an existing key, on every backend, so of
 * two servers picking the same address only one gets it; the other picks
 * again. The prefixes lie outside every API resource's keys, so claims never
 * appear in lists or watches of objects.
 *
 * Life of a claim: made by cn_alloc_service (the write's transaction,
 * cn_alloc_txn); dropped by cn_alloc_finish if the write fails; the old
 * version's claims that the new one no longer holds are dropped once the
 * write succeeded; all of them go when the Service is deleted
 * (cn_alloc_release_service). A crash in between leaves an orphan or a
 * Service without a claim: cn_alloc_repair, run by the controller loop like
 * upstream's repair controllers, deletes claims older than a minute that no
 * Service holds and claims what Services hold without one (stores written
 * before claims existed). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/util.h"

#define NODE_PORT_MIN 30000
#define NODE_PORT_MAX 32767
#define IP_CLAIMS "/registry/cairn.io/serviceipclaims/"
#define PORT_CLAIMS "/registry/cairn.io/servicenodeportclaims/"
/* A claim younger than this may belong to a write still in flight. */
#define CLAIM_GRACE_S 60
/* Claims lost to another server in one allocation before giving up. */
#define MAX_RACES 64

struct cn_alloc {
    uint32_t net, mask;     /* service CIDR, host order */
    int prefix;
};

/* One claimed address (IPv4, host order) or node port. */
struct claim {
    bool port;
    uint32_t value;
    int64_t rev;            /* the claim's mod revision when known, else 0 */
};

struct claims {
    struct claim *v;
    size_t n;
};

struct cn_alloc_txn {
    char *ns, *name, *uid;
    struct claims made;     /* created here: released if the write fails */
    struct claims drop;     /* held by the old version only: released after it */
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
    al->mask = 0xffffffffu << (32 - prefix);
    al->net = ntohl(a.s_addr) & al->mask;
    *out = al;
    return 0;
}

void cn_alloc_free(cn_alloc *al)
{
    free(al);
}

static void claims_push(struct claims *c, bool port, uint32_t value, int64_t rev)
{
    c->v = cn_realloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (struct claim){ port, value, rev };
}

static void txn_free(cn_alloc_txn *t)
{
    if (!t) return;
    free(t->ns);
    free(t->name);
    free(t->uid);
    free(t->made.v);
    free(t->drop.v);
    free(t);
}

static void ip_string(uint32_t h, char out[INET_ADDRSTRLEN])
{
    struct in_addr a = { htonl(h) };
    inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

static bool parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1) return false;
    *out = ntohl(a.s_addr);
    return true;
}

static char *claim_key(bool port, uint32_t v)
{
    if (port) return cn_asprintf(PORT_CLAIMS "%u", v);
    char ip[INET_ADDRSTRLEN];
    ip_string(v, ip);
    return cn_asprintf(IP_CLAIMS "%s", ip);
}

/* The claim a key names; false for keys that are not one of ours. */
static bool claim_of_key(const char *key, struct claim *c)
{
    int64_t p;
    if (cn_str_has_prefix(key, IP_CLAIMS)) {
        c->port = false;
        return parse_ip(key + strlen(IP_CLAIMS), &c->value);
    }
    if (cn_str_has_prefix(key, PORT_CLAIMS) && cn_parse_int64(key + strlen(PORT_CLAIMS), &p) == 0 &&
        p >= NODE_PORT_MIN && p <= NODE_PORT_MAX) {
        c->port = true;
        c->value = (uint32_t)p;
        return true;
    }
    return false;
}

static const char *owner_uid(const json_t *claim)
{
    const char *u = json_string_value(json_object_get(claim, "uid"));
    return u ? u : "";
}

/* Create the claim for (port, v) owned by t. 0: claimed (recorded in
 * t->made); 1: already held by this same Service; -EEXIST: someone else's;
 * other negative errno: the store failed (err filled). */
static int claim(cn_apiserver *s, cn_alloc_txn *t, bool port, uint32_t v, cn_err *err)
{
    char *key = claim_key(port, v);
    json_t *val = json_pack("{s:s,s:s,s:s,s:I}", "namespace", t->ns, "name", t->name, "uid", t->uid,
                            "createdAt", (json_int_t)cn_wall_s());
    char *text = json_dumps(val, JSON_COMPACT);
    int64_t rev = 0;
    cn_err serr = CN_ERR_INIT;
    int r = cn_store_create(s->store, key, text, strlen(text), &rev, &serr);
    if (r == 0) {
        claims_push(&t->made, port, v, rev);
    } else if (r == -EEXIST) {
        cn_kv kv = { 0 };
        if (cn_store_get(s->store, key, &kv, NULL) == 0) {
            json_t *o = json_loadb(kv.value, kv.value_len, 0, NULL);
            if (o && *t->uid && !strcmp(owner_uid(o), t->uid)) r = 1;
            json_decref(o);
            cn_kv_release(&kv);
        }
    } else {
        cn_err_move(err, &serr);
    }
    cn_err_clear(&serr);
    free(text);
    json_decref(val);
    free(key);
    return r;
}

/* Dry run: would claiming (port, v) for t succeed? */
static bool claimable(cn_apiserver *s, const cn_alloc_txn *t, bool port, uint32_t v)
{
    char *key = claim_key(port, v);
    cn_kv kv = { 0 };
    bool ok = true;
    if (cn_store_get(s->store, key, &kv, NULL) == 0) {
        json_t *o = json_loadb(kv.value, kv.value_len, 0, NULL);
        ok = o && *t->uid && !strcmp(owner_uid(o), t->uid);
        json_decref(o);
        cn_kv_release(&kv);
    }
    free(key);
    return ok;
}

/* Delete the claim for (port, v) if uid owns it. rev > 0: exactly that
 * version of the claim (one this transaction made). */
static void release(cn_apiserver *s, bool port, uint32_t v, const char *uid, int64_t rev)
{
    char *key = claim_key(port, v);
    if (rev <= 0) {
        cn_kv kv = { 0 };
        if (cn_store_get(s->store, key, &kv, NULL) == 0) {
            json_t *o = json_loadb(kv.value, kv.value_len, 0, NULL);
            if (o && uid && !strcmp(owner_uid(o), uid)) rev = kv.mod_rev;
            json_decref(o);
            cn_kv_release(&kv);
        }
    }
    if (rev > 0) cn_store_delete(s->store, key, rev, NULL, NULL, NULL);
    free(key);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

struct taken {
    bool port;
    uint32_t *v;
    size_t n;
};

static int collect_claim(void *ud, const cn_kv *kv)
{
    struct taken *tk = ud;
    struct claim c;
    if (claim_of_key(kv->key, &c) && c.port == tk->port) {
        tk->v = cn_realloc(tk->v, (tk->n + 1) * sizeof *tk->v);
        tk->v[tk->n++] = c.value;
    }
    return 0;
}

/* Every claimed value of one kind, sorted: where a random pick starts from.
 * A claim made after this read only costs one -EEXIST and a retry. */
static int read_taken(cn_apiserver *s, bool port, struct taken *tk, cn_err *err)
{
    tk->port = port;
    int r = cn_obj_foreach(s, port ? PORT_CLAIMS : IP_CLAIMS, collect_claim, tk, err);
    if (r < 0) return r;
    if (tk->n) qsort(tk->v, tk->n, sizeof *tk->v, cmp_u32);
    return 0;
}

static bool is_taken(const struct taken *tk, uint32_t x)
{
    return tk->n && bsearch(&x, tk->v, tk->n, sizeof *tk->v, cmp_u32);
}

/* Pick and claim a free value: random start, linear probe (spreads values
 * like upstream). Range: ip: offsets 2 .. size-2 of the CIDR (not the
 * network, .1 for the kubernetes Service, nor broadcast); port: the node
 * port range. *got = 0 when the range is full. */
static int pick(cn_apiserver *s, cn_alloc_txn *t, bool port, bool dry_run, uint32_t *got, cn_err *err)
{
    cn_alloc *al = s->alloc;
    struct taken tk = { 0 };
    *got = 0;
    int r = read_taken(s, port, &tk, err);
    if (r < 0) goto out;
    uint32_t size = port ? NODE_PORT_MAX - NODE_PORT_MIN + 1 : ~al->mask + 1u, start;
    cn_random(&start, sizeof start);
    int races = 0;
    for (uint32_t i = 0; i < size; i++) {
        uint32_t off = (start + i) % size, v;
        if (port) {
            v = NODE_PORT_MIN + off;
        } else {
            if (off < 2 || off == size - 1) continue;
            v = al->net + off;
        }
        if (is_taken(&tk, v)) continue;
        /* This transaction's own earlier picks (several node ports). */
        bool mine = false;
        for (size_t k = 0; k < t->made.n; k++)
            if (t->made.v[k].port == port && t->made.v[k].value == v) mine = true;
        if (mine) continue;
        if (dry_run) {
            if (!claimable(s, t, port, v)) continue;
            *got = v;
            break;
        }
        r = claim(s, t, port, v, err);
        if (r == 0) {
            *got = v;
            break;
        }
        if (r != -EEXIST && r != 1) goto out;
        r = 0;
        /* Lost a race with another server: keep probing, boundedly. */
        if (++races >= MAX_RACES) {
            cn_err_internal(err, "Internal error occurred: failed to allocate a %s: too many concurrent allocations",
                            port ? "nodePort" : "serviceIP");
            r = -EAGAIN;
            goto out;
        }
    }
out:
    free(tk.v);
    return r;
}

static void invalid(cn_err *err, const char *name, const char *field, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 422 Invalid with one FieldValueInvalid cause; value is rendered as Go
 * prints it (already quoted when a string). */
static void invalid(cn_err *err, const char *name, const char *field, const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    cn_err_invalid(err, "Service \"%s\" is invalid: %s: Invalid value: %s: %s", name, field, value, msg);
    cn_err_set_details(err, name, "", "Service");
    cn_err_add_cause(err, "FieldValueInvalid", field, "Invalid value: %s: %s", value, msg);
    free(msg);
}

static bool needs_node_ports(const char *type)
{
    return type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"));
}

static const char *svc_type(const json_t *spec)
{
    const char *type = json_string_value(json_object_get(spec, "type"));
    return type ? type : "ClusterIP";
}

/* Node ports of a spec (non-zero ones), as a set for comparison. */
static bool has_node_port(const json_t *spec, json_int_t np)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
        if (np > 0 && json_integer_value(json_object_get(p, "nodePort")) == np) return true;
    return false;
}

static bool same_node_ports(const json_t *a, const json_t *b)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(a, "ports"), i, p) {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np > 0 && !has_node_port(b, np)) return false;
    }
    json_array_foreach(json_object_get(b, "ports"), i, p) {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np > 0 && !has_node_port(a, np)) return false;
    }
    return true;
}

static bool same_json(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

/* Upstream's dropTypeDependentFields: a type change that leaves a value the
 * new type cannot have, unchanged from the old version, clears it, so
 * `kubectl patch -p '{"spec":{"type":"ClusterIP"}}'` on a NodePort works. */
static void drop_type_dependent(json_t *spec, const json_t *ospec)
{
    const char *type = svc_type(spec), *otype = svc_type(ospec);
    if (strcmp(otype, "ExternalName") && !strcmp(type, "ExternalName")) {
        const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
        const char *oip = json_string_value(json_object_get(ospec, "clusterIP"));
        if (!ip || !*ip || (oip && !strcmp(ip, oip))) {
            json_object_del(spec, "clusterIP");
            json_object_del(spec, "clusterIPs");
        }
        if (same_json(json_object_get(spec, "ipFamilies"), json_object_get(ospec, "ipFamilies")))
            json_object_del(spec, "ipFamilies");
        if (same_json(json_object_get(spec, "ipFamilyPolicy"), json_object_get(ospec, "ipFamilyPolicy")))
            json_object_del(spec, "ipFamilyPolicy");
    }
    if (needs_node_ports(otype) && !needs_node_ports(type) && same_node_ports(spec, ospec)) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(spec, "ports"), i, p) json_object_del(p, "nodePort");
    }
}

static int alloc_cluster_ip(cn_apiserver *s, cn_alloc_txn *t, json_t *spec, const json_t *ospec,
                            bool dry_run, cn_err *err)
{
    cn_alloc *al = s->alloc;
    const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
    const char *oip = ospec ? json_string_value(json_object_get(ospec, "clusterIP")) : NULL;
    uint32_t h;
    int r = 0;
    if (ip && !strcmp(ip, "None")) {
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
    } else if (ip && *ip && oip && !strcmp(ip, oip)) {
        /* unchanged: already held (claimed, or repaired) */
    } else if (ip && *ip) {
        if (!parse_ip(ip, &h)) {
            char *v = cn_asprintf("\"%s\"", ip);
            invalid(err, t->name, "spec.clusterIP", v, "must be a valid IP address");
            free(v);
            return -EINVAL;
        }
        char *v = cn_asprintf("[]string{\"%s\"}", ip);
        if ((h & al->mask) != al->net) {
            char nb[INET_ADDRSTRLEN];
            ip_string(al->net, nb);
            invalid(err, t->name, "spec.clusterIPs", v,
                    "failed to allocate IP %s: provided IP is not in the valid range. The range of valid IPs is %s/%d",
                    ip, nb, al->prefix);
            r = -EINVAL;
        } else if (dry_run ? !claimable(s, t, false, h) : (r = claim(s, t, false, h, err)) == -EEXIST) {
            invalid(err, t->name, "spec.clusterIPs", v, "failed to allocate IP %s: provided IP is already allocated", ip);
            r = -EINVAL;
        }
        free(v);
        if (r < 0) return r;
        r = 0;
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
    } else {
        r = pick(s, t, false, dry_run, &h, err);
        if (r < 0) return r;
        if (!h) return cn_err_internal(err, "Internal error occurred: failed to allocate a serviceIP: range is full"), -ENOSPC;
        char buf[INET_ADDRSTRLEN];
        ip_string(h, buf);
        json_object_set_new(spec, "clusterIP", json_string(buf));
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", buf));
    }
    if (!json_object_get(spec, "ipFamilies")) json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
    if (!json_object_get(spec, "ipFamilyPolicy")) json_object_set_new(spec, "ipFamilyPolicy", json_string("SingleStack"));
    return 0;
}

static int alloc_node_ports(cn_apiserver *s, cn_alloc_txn *t, json_t *spec, const json_t *ospec,
                            bool dry_run, cn_err *err)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p) {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np > 0) {
            if (ospec && has_node_port(ospec, np)) continue;   /* held already */
            bool again = false;     /* same port, other protocol: one claim */
            for (size_t k = 0; k < t->made.n; k++)
                if (t->made.v[k].port && t->made.v[k].value == (uint32_t)np) again = true;
            if (again) continue;
            char field[64], v[24];
            snprintf(field, sizeof field, "spec.ports[%zu].nodePort", i);
            snprintf(v, sizeof v, "%lld", (long long)np);
            if (np < NODE_PORT_MIN || np > NODE_PORT_MAX) {
                invalid(err, t->name, field, v,
                        "provided port is not in the valid range. The range of valid ports is %d-%d",
                        NODE_PORT_MIN, NODE_PORT_MAX);
                return -EINVAL;
            }
            int r = 0;
            if (dry_run ? !claimable(s, t, true, (uint32_t)np) : (r = claim(s, t, true, (uint32_t)np, err)) == -EEXIST) {
                invalid(err, t->name, field, v, "provided port is already allocated");
                return -EINVAL;
            }
            if (r < 0) return r;
            continue;
        }
        uint32_t got;
        int r = pick(s, t, true, dry_run, &got, err);
        if (r < 0) return r;
        if (!got) return cn_err_internal(err, "Internal error occurred: failed to allocate a nodePort: range is full"), -ENOSPC;
        json_object_set_new(p, "nodePort", json_integer(got));
    }
    return 0;
}

/* What the old version held that the new one does not: released once the
 * new version is stored. */
static void plan_drops(cn_alloc_txn *t, const json_t *spec, const json_t *ospec)
{
    uint32_t oh, h;
    const char *type = svc_type(spec);
    if (parse_ip(json_string_value(json_object_get(ospec, "clusterIP")), &oh) &&
        (!strcmp(type, "ExternalName") || !parse_ip(json_string_value(json_object_get(spec, "clusterIP")), &h) ||
         h != oh))
        claims_push(&t->drop, false, oh, 0);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ospec, "ports"), i, p) {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np < NODE_PORT_MIN || np > NODE_PORT_MAX) continue;
        if (needs_node_ports(type) && has_node_port(spec, np)) continue;
        bool dup = false;
        for (size_t k = 0; k < t->drop.n; k++)
            if (t->drop.v[k].port && t->drop.v[k].value == (uint32_t)np) dup = true;
        if (!dup) claims_push(&t->drop, true, (uint32_t)np, 0);
    }
}

int cn_alloc_service(cn_apiserver *s, json_t *svc, const json_t *old, bool dry_run,
                     cn_alloc_txn **txn, cn_err *err)
{
    *txn = NULL;
    json_t *spec = json_object_get(svc, "spec");
    if (!s->alloc || !json_is_object(spec)) return 0;
    const json_t *meta = json_object_get(svc, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    const json_t *ospec = old ? json_object_get(old, "spec") : NULL;
    cn_alloc_txn *t = cn_calloc(1, sizeof *t);
    t->name = cn_strdup(name ? name : "");
    t->ns = cn_strdup(ns ? ns : "");
    t->uid = cn_strdup(uid ? uid : "");
    int r = 0;
    if (json_is_object(ospec)) drop_type_dependent(spec, ospec);
    const char *type = svc_type(spec);
    if (strcmp(type, "ExternalName")) {
        r = alloc_cluster_ip(s, t, spec, ospec, dry_run, err);
        if (r < 0) goto fail;
    }
    if (needs_node_ports(type)) {
        r = alloc_node_ports(s, t, spec, ospec, dry_run, err);
        if (r < 0) goto fail;
    }
    if (dry_run) {
        txn_free(t);
        return 0;
    }
    if (json_is_object(ospec)) plan_drops(t, spec, ospec);
    *txn = t;
    return 0;
fail:
    cn_alloc_finish(s, t, false);
    return r;
}

void cn_alloc_finish(cn_apiserver *s, cn_alloc_txn *txn, bool stored)
{
    if (!txn) return;
    const struct claims *c = stored ? &txn->drop : &txn->made;
    for (size_t i = 0; i < c->n; i++) release(s, c->v[i].port, c->v[i].value, txn->uid, c->v[i].rev);
    txn_free(txn);
}

void cn_alloc_release_service(cn_apiserver *s, const json_t *svc)
{
    const json_t *spec = json_object_get(svc, "spec");
    const char *uid = json_string_value(json_object_get(json_object_get(svc, "metadata"), "uid"));
    uint32_t h;
    if (!s->alloc || !uid) return;
    if (parse_ip(json_string_value(json_object_get(spec, "clusterIP")), &h)) release(s, false, h, uid, 0);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p) {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        if (np >= NODE_PORT_MIN && np <= NODE_PORT_MAX) release(s, true, (uint32_t)np, uid, 0);
    }
}

/* --- repair --- */

/* A snapshot of one claim or of one value a Service holds. */
struct entry {
    bool port;
    uint32_t value;
    const char *uid;        /* owner (claim) or holder (Service) */
    json_t *doc;            /* claim value or Service, owns the strings */
    char *key;              /* claim key */
    int64_t rev;            /* claim mod revision */
};

struct entries {
    struct entry *v;
    size_t n;
};

static void entries_release(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        json_decref(es->v[i].doc);
        free(es->v[i].key);
    }
    free(es->v);
}

static void entries_push(struct entries *es, struct entry e)
{
    es->v = cn_realloc(es->v, (es->n + 1) * sizeof *es->v);
    es->v[es->n++] = e;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->port != y->port) return x->port ? 1 : -1;
    return x->value < y->value ? -1 : x->value > y->value;
}

/* First entry with (port, value) in a sorted array, or NULL. */
static const struct entry *find_entry(const struct entries *es, bool port, uint32_t value)
{
    size_t lo = 0, hi = es->n;
    struct entry want = { .port = port, .value = value };
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_entry(&es->v[mid], &want) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < es->n && !cmp_entry(&es->v[lo], &want) ? &es->v[lo] : NULL;
}

static bool held_by(const struct entries *held, bool port, uint32_t value, const char *uid)
{
    const struct entry *e = find_entry(held, port, value);
    for (; e && e < held->v + held->n && e->port == port && e->value == value; e++)
        if (!strcmp(e->uid, uid)) return true;
    return false;
}

static int collect_claims(void *ud, const cn_kv *kv)
{
    struct claim c;
    if (!claim_of_key(kv->key, &c)) return 0;
    json_t *o = json_loadb(kv->value, kv->value_len, 0, NULL);
    entries_push(ud, (struct entry){ c.port, c.value, owner_uid(o), o, cn_strdup(kv->key), kv->mod_rev });
    return 0;
}

struct held_ctx {
    cn_alloc *al;
    struct entries *held;
};

static int collect_held(void *ud, const cn_kv *kv)
{
    struct held_ctx *hc = ud;
    json_t *svc = json_loadb(kv->value, kv->value_len, 0, NULL);
    const json_t *spec = json_object_get(svc, "spec");
    const char *uid = json_string_value(json_object_get(json_object_get(svc, "metadata"), "uid"));
    uint32_t h;
    if (!uid) {
        json_decref(svc);
        return 0;
    }
    if (strcmp(svc_type(spec), "ExternalName") && parse_ip(json_string_value(json_object_get(spec, "clusterIP")), &h)) {
        if ((h & hc->al->mask) == hc->al->net)
            entries_push(hc->held, (struct entry){ false, h, uid, json_incref(svc), NULL, 0 });
        else
            cn_warn("the cluster IP of service \"%s\" is outside the service CIDR; ignoring", kv->key);
    }
    if (needs_node_ports(svc_type(spec))) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(spec, "ports"), i, p) {
            json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
            if (np >= NODE_PORT_MIN && np <= NODE_PORT_MAX)
                entries_push(hc->held, (struct entry){ true, (uint32_t)np, uid, json_incref(svc), NULL, 0 });
        }
    }
    json_decref(svc);
    return 0;
}

/* Does the stored Service named by a claim hold it? Read afresh: the
 * snapshot may predate the write the claim was made for. */
static bool owner_holds(cn_apiserver *s, const cn_resource *svc_res, const struct entry *c)
{
    const char *ns = json_string_value(json_object_get(c->doc, "namespace"));
    const char *name = json_string_value(json_object_get(c->doc, "name"));
    json_t *svc = NULL;
    if (!ns || !name) return false;
    cn_err e = CN_ERR_INIT;
    int r = cn_obj_get(s, svc_res, ns, name, &svc, NULL, &e);
    cn_err_clear(&e);
    if (r == -ENOENT) return false;
    if (r < 0) return true;     /* cannot tell: keep it */
    bool holds = false;
    const json_t *spec = json_object_get(svc, "spec");
    const char *uid = json_string_value(json_object_get(json_object_get(svc, "metadata"), "uid"));
    uint32_t h;
    if (uid && !strcmp(uid, c->uid)) {
        if (c->port) holds = needs_node_ports(svc_type(spec)) && has_node_port(spec, c->value);
        else holds = parse_ip(json_string_value(json_object_get(spec, "clusterIP")), &h) && h == c->value;
    }
    json_decref(svc);
    return holds;
}

static void describe(const struct entry *e, char out[64])
{
    char ip[INET_ADDRSTRLEN];
    if (e->port) {
        snprintf(out, 64, "node port %u", e->value);
        return;
    }
    ip_string(e->value, ip);
    snprintf(out, 64, "cluster IP \"%s\"", ip);
}

int cn_alloc_repair(cn_apiserver *s, cn_err *err)
{
    if (!s->alloc) return 0;
    const cn_resource *svc_res = cn_registry_lookup(s->reg, "", "v1", "services");
    if (!svc_res) return 0;
    struct entries claims = { 0 }, held = { 0 };
    struct held_ctx hc = { s->alloc, &held };
    size_t removed = 0, added = 0;
    int64_t now = cn_wall_s();
    char what[64];
    /* Claims first, Services second: a Service stored after the claims were
     * read claimed before it was stored, so claiming again finds its own. */
    int r = cn_obj_foreach(s, IP_CLAIMS, collect_claims, &claims, err);
    if (r >= 0) r = cn_obj_foreach(s, PORT_CLAIMS, collect_claims, &claims, err);
    char *prefix = cn_resource_key_prefix(svc_res);
    if (r >= 0) r = cn_obj_foreach(s, prefix, collect_held, &hc, err);
    free(prefix);
    if (r < 0) goto out;
    if (claims.n) qsort(claims.v, claims.n, sizeof *claims.v, cmp_entry);
    if (held.n) qsort(held.v, held.n, sizeof *held.v, cmp_entry);

    for (size_t i = 0; i < claims.n; i++) {
        const struct entry *c = &claims.v[i];
        json_int_t at = json_integer_value(json_object_get(c->doc, "createdAt"));
        if (now - at < CLAIM_GRACE_S || held_by(&held, c->port, c->value, c->uid)) continue;
        if (owner_holds(s, svc_res, c)) continue;
        /* Only that version: a claim made again meanwhile stays. */
        if (cn_store_delete(s->store, c->key, c->rev, NULL, NULL, NULL) == 0) {
            describe(c, what);
            cn_info("released the claim on %s: no service holds it", what);
            removed++;
        }
    }
    for (size_t i = 0; i < held.n; i++) {
        const struct entry *h = &held.v[i];
        if (find_entry(&claims, h->port, h->value)) continue;
        const json_t *meta = json_object_get(h->doc, "metadata");
        const char *ns = json_string_value(json_object_get(meta, "namespace"));
        const char *name = json_string_value(json_object_get(meta, "name"));
        cn_alloc_txn t = { .ns = (char *)(ns ? ns : ""), .name = (char *)(name ? name : ""), .uid = (char *)h->uid };
        cn_err e = CN_ERR_INIT;
        int cr = claim(s, &t, h->port, h->value, &e);
        describe(h, what);
        if (cr == 0) added++;
        else if (cr == -EEXIST)     /* upstream's repair reports it too */
            cn_warn("%s of service \"%s/%s\" is held by another service as well", what, t.ns, t.name);
        free(t.made.v);
        cn_err_clear(&e);
    }
    if (removed || added)
        cn_info("service allocation repair: %zu orphan claims released, %zu missing claims made", removed, added);
out:
    entries_release(&claims);
    entries_release(&held);
    return r < 0 ? r : 0;
}
