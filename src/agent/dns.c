/* dns: a pod's /etc/resolv.conf from its dnsPolicy and dnsConfig, as the
 * kubelet computes it and containerd writes it ("search", "nameserver",
 * "options" lines). Without a cluster DNS server configured on the agent,
 * ClusterFirst falls back to the node's resolv.conf, as the kubelet does
 * when --cluster-dns is empty. */
#include "agent/podspec-internal.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MAX_NAMESERVERS 3        /* the resolver's limit; upstream validation too */
#define MAX_SEARCHES 32

typedef struct strlist {
    char **v;
    size_t n;
} strlist;

static void list_add(strlist *l, const char *s, size_t len, size_t max)
{
    if (!len || l->n >= max) return;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == len && !strncmp(l->v[i], s, len)) return;
    l->v = cn_realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = cn_strndup(s, len);
}

/* Options merge by name: "ndots:2" replaces "ndots:5". */
static void option_add(strlist *l, const char *s, size_t len)
{
    size_t nlen = 0;
    while (nlen < len && s[nlen] != ':') nlen++;
    for (size_t i = 0; i < l->n; i++) {
        if (!strncmp(l->v[i], s, nlen) && (l->v[i][nlen] == ':' || l->v[i][nlen] == '\0')) {
            free(l->v[i]);
            l->v[i] = cn_strndup(s, len);
            return;
        }
    }
    list_add(l, s, len, 64);
}

static void list_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

/* Each whitespace-separated word after the keyword of the line. */
static void words(const char *p, const char *end, strlist *l, bool options, size_t max)
{
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t') p++;
        if (p > w) {
            if (options) option_add(l, w, (size_t)(p - w));
            else list_add(l, w, (size_t)(p - w), max);
        }
    }
}

static void parse_resolv(const char *text, strlist *servers, strlist *searches, strlist *options)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if (cn_str_has_prefix(line, "nameserver ") || cn_str_has_prefix(line, "nameserver\t"))
            words(line + 11, end, servers, false, MAX_NAMESERVERS);
        else if (cn_str_has_prefix(line, "search ") || cn_str_has_prefix(line, "search\t")) {
            for (size_t i = 0; i < searches->n; i++) free(searches->v[i]);
            searches->n = 0;           /* the last search line wins, as in the resolver */
            words(line + 7, end, searches, false, MAX_SEARCHES);
        } else if (cn_str_has_prefix(line, "options ") || cn_str_has_prefix(line, "options\t"))
            words(line + 8, end, options, true, 0);
        line = *end ? end + 1 : end;
    }
}

static void from_json(const json_t *arr, strlist *l, bool options, size_t max)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        if (!s || strpbrk(s, " \t\r\n")) continue;
        if (options) option_add(l, s, strlen(s));
        else list_add(l, s, strlen(s), max);
    }
}

char *cn_podspec_resolv_conf(const cn_podspec_env *env, const json_t *pod, const char *node_resolv)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *policy = cn_ps_str(spec, "dnsPolicy");
    const char *ns = cn_ps_str(json_object_get(pod, "metadata"), "namespace");
    const char *domain = env && env->cluster_domain ? env->cluster_domain : "cluster.local";
    bool host_net = cn_ps_bool(spec, "hostNetwork");
    strlist servers = { 0 }, searches = { 0 }, options = { 0 };
    if (!policy) policy = "ClusterFirst";
    bool cluster = env && env->cluster_dns && *env->cluster_dns &&
                   (!strcmp(policy, "ClusterFirst") ? !host_net : !strcmp(policy, "ClusterFirstWithHostNet"));
    if (cluster) {
        strlist hs = { 0 }, hsearch = { 0 }, hopt = { 0 };
        list_add(&servers, env->cluster_dns, strlen(env->cluster_dns), MAX_NAMESERVERS);
        char *s1 = cn_asprintf("%s.svc.%s", ns ? ns : "default", domain), *s2 = cn_asprintf("svc.%s", domain);
        list_add(&searches, s1, strlen(s1), MAX_SEARCHES);
        list_add(&searches, s2, strlen(s2), MAX_SEARCHES);
        list_add(&searches, domain, strlen(domain), MAX_SEARCHES);
        free(s1);
        free(s2);
        parse_resolv(node_resolv, &hs, &hsearch, &hopt);     /* the node's searches follow */
        for (size_t i = 0; i < hsearch.n; i++) list_add(&searches, hsearch.v[i], strlen(hsearch.v[i]), MAX_SEARCHES);
        list_free(&hs);
        list_free(&hsearch);
        list_free(&hopt);
        option_add(&options, "ndots:5", 7);
    } else if (strcmp(policy, "None")) {
        parse_resolv(node_resolv, &servers, &searches, &options);       /* Default, or no cluster DNS */
    }
    const json_t *cfg = json_object_get(spec, "dnsConfig");
    from_json(json_object_get(cfg, "nameservers"), &servers, false, MAX_NAMESERVERS);
    from_json(json_object_get(cfg, "searches"), &searches, false, MAX_SEARCHES);
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(cfg, "options"), i, o) {
        const char *name = cn_ps_str(o, "name"), *value = cn_ps_str(o, "value");
        if (!name || strpbrk(name, " \t\r\n:") || (value && strpbrk(value, " \t\r\n"))) continue;
        char *opt = value ? cn_asprintf("%s:%s", name, value) : cn_strdup(name);
        option_add(&options, opt, strlen(opt));
        free(opt);
    }
    cn_buf b;
    cn_buf_init(&b);
    if (searches.n) {
        cn_buf_adds(&b, "search");
        for (i = 0; i < searches.n; i++) cn_buf_addf(&b, " %s", searches.v[i]);
        cn_buf_addc(&b, '\n');
    }
    for (i = 0; i < servers.n; i++) cn_buf_addf(&b, "nameserver %s\n", servers.v[i]);
    if (options.n) {
        cn_buf_adds(&b, "options");
        for (i = 0; i < options.n; i++) cn_buf_addf(&b, " %s", options.v[i]);
        cn_buf_addc(&b, '\n');
    }
    if (!b.data) cn_buf_adds(&b, "");
    list_free(&servers);
    list_free(&searches);
    list_free(&options);
    return cn_buf_detach(&b, NULL);
}
