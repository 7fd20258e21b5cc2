/* fleetcli: command-line values to fleet objects, and the CLI's tables
 * (see fleetcli.h). */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge/fleetcli.h"
#include "lib/cidr.h"

json_t *cn_fleetcli_split(const json_t *raw)
{
    json_t *out = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(raw, i, e) {
        const char *s = json_string_value(e);
        while (s && *s) {
            const char *comma = strchr(s, ',');
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            const char *b = s, *t = s + n;
            while (b < t && isspace((unsigned char)*b)) b++;
            while (t > b && isspace((unsigned char)t[-1])) t--;
            if (t > b) json_array_append_new(out, json_stringn(b, (size_t)(t - b)));
            s = comma ? comma + 1 : NULL;
        }
    }
    return out;
}

/* A label key or value: [A-Za-z0-9] at both ends, -_. and (key only) one
 * prefix "/" inside; the bridge and the cluster check the rest. */
static int label_word(const char *s, size_t n, int key)
{
    if (n == 0) return !key;
    if (n > (key ? 317 : 63)) return 0;
    if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) return 0;
    int slashes = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '/' && key && ++slashes == 1) continue;
        if (!isalnum(c) && !strchr("-_.", c)) return 0;
    }
    return 1;
}

int cn_fleetcli_labels(const json_t *raw, const char *flag, json_t **out, cn_err *err)
{
    json_t *pieces = cn_fleetcli_split(raw), *labels = json_object();
    size_t i;
    const json_t *e;
    int r = 0;
    json_array_foreach(pieces, i, e) {
        const char *s = json_string_value(e), *eq = strchr(s, '=');
        if (!eq || !label_word(s, (size_t)(eq - s), 1) || !label_word(eq + 1, strlen(eq + 1), 0)) {
            r = cn_err_bad_request(err, "%s: \"%s\" is not a label key=value", flag, s);
            break;
        }
        char *k = cn_strndup(s, (size_t)(eq - s));
        json_object_set_new(labels, k, json_string(eq + 1));
        free(k);
    }
    json_decref(pieces);
    if (r < 0) {
        json_decref(labels);
        return r;
    }
    *out = labels;
    return 0;
}

int cn_fleetcli_taints(const json_t *raw, const char *flag, json_t **out, cn_err *err)
{
    static const char *const effects[] = { "NoSchedule", "PreferNoSchedule", "NoExecute" };
    json_t *pieces = cn_fleetcli_split(raw);
    size_t i;
    const json_t *e;
    json_array_foreach(pieces, i, e) {
        const char *s = json_string_value(e), *colon = strrchr(s, ':');
        const char *eq = memchr(s, '=', colon ? (size_t)(colon - s) : 0);
        int ok = colon != NULL;
        if (ok) {
            size_t klen = eq ? (size_t)(eq - s) : (size_t)(colon - s);
            ok = label_word(s, klen, 1) && klen > 0 &&
                 (!eq || label_word(eq + 1, (size_t)(colon - eq - 1), 0));
        }
        int known = 0;
        for (size_t k = 0; ok && k < sizeof effects / sizeof effects[0]; k++)
            known |= !strcmp(colon + 1, effects[k]);
        if (!ok || !known) {
            int r = cn_err_bad_request(err, "%s: \"%s\" is not a taint key[=value]:NoSchedule|PreferNoSchedule|NoExecute",
                                       flag, s);
            json_decref(pieces);
            return r;
        }
    }
    *out = pieces;
    return 0;
}

int cn_fleetcli_lb_pools(const json_t *raw, const char *flag, json_t **out, cn_err *err)
{
    json_t *pieces = cn_fleetcli_split(raw), *pools = json_array();
    size_t i;
    const json_t *e;
    int r = 0;
    json_array_foreach(pieces, i, e) {
        const char *s = json_string_value(e), *dash = strchr(s, '-');
        uint32_t a = 0, b = 0;
        char *start = dash ? cn_strndup(s, (size_t)(dash - s)) : NULL;
        if (!dash || cn_ip4_parse(start, &a) < 0 || cn_ip4_parse(dash + 1, &b) < 0 || a > b) {
            free(start);
            r = cn_err_bad_request(err, "%s: \"%s\" is not an IPv4 range START-END with START <= END", flag, s);
            break;
        }
        json_array_append_new(pools, json_pack("{s:s, s:s}", "start", start, "end", dash + 1));
        free(start);
    }
    json_decref(pieces);
    if (r < 0) {
        json_decref(pools);
        return r;
    }
    *out = pools;
    return 0;
}

json_t *cn_fleetcli_find_pool(const json_t *pools, const char *name)
{
    size_t i;
    json_t *p;
    json_array_foreach(pools, i, p) {
        const char *n = json_string_value(json_object_get(p, "name"));
        if (n && name && !strcmp(n, name)) return p;
    }
    return NULL;
}

static json_t *object_at(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

json_t *cn_fleetcli_cluster(const cn_fleetcli_cluster_opts *o, cn_err *err)
{
    json_t *labels = NULL, *taints = NULL, *lbs = NULL;
    if (!o->name || !*o->name) {
        cn_err_bad_request(err, "a cluster name is required");
        return NULL;
    }
    if (!o->lnet || !*o->lnet) {
        cn_err_bad_request(err, "--lnet: a logical network is required");
        return NULL;
    }
    if ((o->labels && cn_fleetcli_labels(o->labels, "--labels", &labels, err) < 0) ||
        (o->taints && cn_fleetcli_taints(o->taints, "--node-taints", &taints, err) < 0) ||
        (o->lb_pools && cn_fleetcli_lb_pools(o->lb_pools, "--lb-pool", &lbs, err) < 0)) {
        json_decref(labels);
        json_decref(taints);
        return NULL;
    }
    json_t *c = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", CN_FLEET_API_VERSION,
                          "kind", "Cluster", "metadata", "name", o->name, "spec", "logicalNetwork", o->lnet);
    json_t *spec = json_object_get(c, "spec");
    if (o->version) json_object_set_new(spec, "kubernetesVersion", json_string(o->version));
    if (o->cp_count || o->cp_size || o->cp_ip) {
        json_t *cp = object_at(spec, "controlPlane");
        if (o->cp_count) json_object_set_new(cp, "count", json_integer(o->cp_count));
        if (o->cp_size) json_object_set_new(cp, "vmSize", json_string(o->cp_size));
        if (o->cp_ip) json_object_set_new(cp, "endpoint", json_string(o->cp_ip));
    }
    json_t *pool = json_pack("{s:s}", "name", o->pool ? o->pool : CN_FLEETCLI_DEFAULT_POOL);
    if (o->node_count) json_object_set_new(pool, "count", json_integer(o->node_count));
    if (o->node_size) json_object_set_new(pool, "vmSize", json_string(o->node_size));
    if (labels && json_object_size(labels)) json_object_set(pool, "labels", labels);
    if (taints && json_array_size(taints)) json_object_set(pool, "taints", taints);
    json_object_set_new(spec, "nodePools", json_pack("[o]", pool));
    if (o->pod_cidr) json_object_set_new(object_at(spec, "networking"), "podCidr", json_string(o->pod_cidr));
    if (o->service_cidr)
        json_object_set_new(object_at(spec, "networking"), "serviceCidr", json_string(o->service_cidr));
    if (lbs && json_array_size(lbs)) json_object_set(object_at(spec, "networking"), "loadBalancerPools", lbs);
    json_decref(labels);
    json_decref(taints);
    json_decref(lbs);
    return c;
}

json_t *cn_fleetcli_lnet(const cn_fleetcli_lnet_opts *o, cn_err *err)
{
    static const struct { const char *flag; size_t off; } required[] = {
        { "--address-prefix", offsetof(cn_fleetcli_lnet_opts, prefix) },
        { "--gateway", offsetof(cn_fleetcli_lnet_opts, gateway) },
        { "--ip-pool-start", offsetof(cn_fleetcli_lnet_opts, pool_start) },
        { "--ip-pool-end", offsetof(cn_fleetcli_lnet_opts, pool_end) },
    };
    if (!o->name || !*o->name) {
        cn_err_bad_request(err, "a logical network name is required");
        return NULL;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const char *v = *(const char *const *)((const char *)o + required[i].off);
        if (!v || !*v) {
            cn_err_bad_request(err, "%s is required", required[i].flag);
            return NULL;
        }
    }
    json_t *dns = cn_fleetcli_split(o->dns);
    if (!json_array_size(dns)) {
        json_decref(dns);
        cn_err_bad_request(err, "--dns-servers is required (AKS Arc needs a DNS server on every logical network)");
        return NULL;
    }
    json_t *l = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:o, s:s, s:[{s:s, s:s, s:s}]}}",
                          "apiVersion", CN_FLEET_API_VERSION, "kind", "LogicalNetwork",
                          "metadata", "name", o->name,
                          "spec", "addressPrefix", o->prefix, "gateway", o->gateway, "dnsServers", dns,
                          "ipAllocationMethod", "Static",
                          "ipPools", "name", "vms", "start", o->pool_start, "end", o->pool_end);
    json_t *spec = json_object_get(l, "spec");
    if (o->vlan >= 0) json_object_set_new(spec, "vlan", json_integer(o->vlan));
    if (o->vm_switch) json_object_set_new(spec, "vmSwitchName", json_string(o->vm_switch));
    return l;
}

/* ---- tables ---- */

static char *cell_text(const json_t *v)
{
    if (json_is_string(v)) return cn_strdup(json_string_value(v));
    if (!v || json_is_null(v)) return cn_strdup("");
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    return s ? s : cn_strdup("");
}

void cn_fleetcli_table(cn_buf *out, const json_t *rows)
{
    size_t ncols = 0, i, j;
    const json_t *row, *cell;
    json_array_foreach(rows, i, row)
        if (json_array_size(row) > ncols) ncols = json_array_size(row);
    if (!ncols) return;
    size_t *width = cn_calloc(ncols, sizeof *width);
    json_array_foreach(rows, i, row) json_array_foreach(row, j, cell) {
        char *t = cell_text(cell);
        if (strlen(t) > width[j]) width[j] = strlen(t);
        free(t);
    }
    json_array_foreach(rows, i, row) {
        size_t mark = out->len;
        for (j = 0; j < ncols; j++) {
            char *t = cell_text(json_array_get(row, j));
            cn_buf_adds(out, t);
            if (j + 1 < ncols)
                for (size_t k = strlen(t); k < width[j] + 3; k++) cn_buf_addc(out, ' ');
            free(t);
        }
        while (out->len > mark && out->data[out->len - 1] == ' ') out->data[--out->len] = '\0';
        cn_buf_addc(out, '\n');
    }
    free(width);
}

/* "usedByOthers" -> "USED BY OTHERS" (header) or "Used by others"
 * (label); acronyms keep their capitals in labels ("Pod CIDR", "IPs"). */
static void add_word(cn_buf *b, const char *w, size_t n, int header, int first)
{
    static const char *const acronyms[][2] = { { "cidr", "CIDR" }, { "cidrs", "CIDRs" }, { "ip", "IP" }, { "ips", "IPs" },
                                               { "dns", "DNS" }, { "vm", "VM" }, { "vms", "VMs" },
                                               { "vlan", "VLAN" }, { "cpu", "CPU" }, { "gpus", "GPUs" } };
    if (!header)
        for (size_t i = 0; i < sizeof acronyms / sizeof acronyms[0]; i++)
            if (strlen(acronyms[i][0]) == n && !strncasecmp(w, acronyms[i][0], n)) {
                cn_buf_adds(b, acronyms[i][1]);
                return;
            }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        cn_buf_addc(b, (char)(header || (first && i == 0) ? toupper(c) : tolower(c)));
    }
}

static char *words(const char *key, int header)
{
    cn_buf b;
    cn_buf_init(&b);
    const char *w = key;
    for (const char *p = key;; p++) {
        int boundary = !*p || *p == '_' || *p == '-' ||
                       (isupper((unsigned char)*p) && p != key && !isupper((unsigned char)p[-1]));
        if (!boundary) continue;
        if (p > w) {
            if (b.len) cn_buf_addc(&b, ' ');
            add_word(&b, w, (size_t)(p - w), header, w == key);
        }
        if (!*p) break;
        w = (*p == '_' || *p == '-') ? p + 1 : p;
    }
    return cn_buf_detach(&b, NULL);
}

static int array_of_objects(const json_t *v)
{
    return json_is_array(v) && json_array_size(v) && json_is_object(json_array_get(v, 0));
}

static void render_table_of(cn_buf *out, const json_t *arr)
{
    json_t *keys = json_array(), *rows = json_array(), *hdr = json_array();
    size_t i, j;
    const json_t *o, *k;
    json_array_foreach(arr, i, o) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)o, key, v) {
            int seen = 0;
            json_array_foreach(keys, j, k) seen |= !strcmp(json_string_value(k), key);
            if (!seen) json_array_append_new(keys, json_string(key));
        }
    }
    json_array_foreach(keys, j, k) {
        char *h = words(json_string_value(k), 1);
        json_array_append_new(hdr, json_string(h));
        free(h);
    }
    json_array_append_new(rows, hdr);
    json_array_foreach(arr, i, o) {
        json_t *row = json_array();
        json_array_foreach(keys, j, k) {
            const json_t *v = json_object_get(o, json_string_value(k));
            json_array_append_new(row, v ? json_incref((json_t *)v) : json_string(""));
        }
        json_array_append_new(rows, row);
    }
    cn_fleetcli_table(out, rows);
    json_decref(rows);
    json_decref(keys);
}

static void render_fields(cn_buf *out, const json_t *obj, int ind)
{
    const char *key;
    const json_t *v;
    /* Scalars first, then the nested objects, then the tables. */
    for (int pass = 0; pass < 3; pass++) json_object_foreach((json_t *)obj, key, v) {
        int kind = array_of_objects(v) ? 2 : json_is_object(v) ? 1 : 0;
        if (kind != pass) continue;
        char *label = words(key, 0);
        for (int i = 0; i < ind; i++) cn_buf_addc(out, ' ');
        if (kind == 0 && json_is_array(v)) {
            cn_buf_addf(out, "%s: ", label);
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e) {
                char *t = cell_text(e);
                cn_buf_addf(out, "%s%s", i ? ", " : "", t);
                free(t);
            }
            if (!json_array_size(v)) cn_buf_adds(out, "-");
            cn_buf_addc(out, '\n');
        } else if (kind == 0) {
            char *t = cell_text(v);
            cn_buf_addf(out, "%s: %s\n", label, *t ? t : "-");
            free(t);
        } else if (kind == 1) {
            cn_buf_addf(out, "%s:\n", label);
            render_fields(out, v, ind + 2);
        } else {
            cn_buf_addf(out, "\n%s:\n", label);
            render_table_of(out, v);
        }
        free(label);
    }
}

void cn_fleetcli_ip_plan_render(cn_buf *out, const json_t *report)
{
    render_fields(out, report, 0);
}

void cn_fleetcli_age(int64_t s, char out[24])
{
    if (s < 0) s = 0;
    if (s < 120) snprintf(out, 24, "%llds", (long long)s);
    else if (s < 2 * 3600) snprintf(out, 24, "%lldm", (long long)(s / 60));
    else if (s < 2 * 86400) snprintf(out, 24, "%lldh", (long long)(s / 3600));
    else snprintf(out, 24, "%lldd", (long long)(s / 86400));
}
