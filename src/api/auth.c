/* auth: static token authentication and the bootstrap authorizer. */
#include "api/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct cn_token_entry {
    char *token;
    cn_user user;
};

struct cn_tokens {
    struct cn_token_entry *items;
    size_t n;
};

void cn_user_release(cn_user *u)
{
    if (!u) return;
    free(u->name);
    free(u->uid);
    for (size_t i = 0; i < u->ngroups; i++) free(u->groups[i]);
    free(u->groups);
    memset(u, 0, sizeof *u);
}

bool cn_user_in_group(const cn_user *u, const char *group)
{
    for (size_t i = 0; i < u->ngroups; i++)
        if (strcmp(u->groups[i], group) == 0) return true;
    return false;
}

static void user_add_group(cn_user *u, const char *g, size_t len)
{
    u->groups = cn_realloc(u->groups, (u->ngroups + 1) * sizeof *u->groups);
    u->groups[u->ngroups++] = cn_strndup(g, len);
}

/* Split one CSV line into at most 4 fields; a field may be double-quoted. */
static int csv_fields(const char *line, char *out[4])
{
    int n = 0;
    const char *p = line;
    while (*p && n < 4) {
        cn_buf b;
        cn_buf_init(&b);
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"') p++;
                cn_buf_addc(&b, *p++);
            }
            if (*p != '"') { cn_buf_release(&b); return -EINVAL; }
            p++;
        } else {
            while (*p && *p != ',') cn_buf_addc(&b, *p++);
        }
        out[n++] = cn_buf_detach(&b, NULL);
        if (*p == ',') p++;
        else break;
    }
    return n;
}

int cn_tokens_load(const char *path, cn_tokens **out, cn_err *err)
{
    cn_tokens *t = cn_calloc(1, sizeof *t);
    *out = t;
    if (!path) return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        cn_err_internal(err, "cannot open token file \"%s\": %s", path, strerror(e));
        return -e;
    }
    char line[8192];
    int lineno = 0, r = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *fields[4] = { 0 };
        int n = csv_fields(line, fields);
        if (n < 2 || !fields[0][0] || !fields[1][0]) {
            for (int i = 0; i < 4; i++) free(fields[i]);
            cn_err_internal(err, "token file \"%s\" line %d: want token,user[,uid[,\"groups\"]]",
                            path, lineno);
            r = -EINVAL;
            break;
        }
        t->items = cn_realloc(t->items, (t->n + 1) * sizeof *t->items);
        struct cn_token_entry *e = &t->items[t->n++];
        memset(e, 0, sizeof *e);
        e->token = fields[0];
        e->user.name = fields[1];
        e->user.uid = n > 2 ? fields[2] : cn_strdup("");
        if (n > 3) {
            const char *g = fields[3];
            while (*g) {
                size_t len = strcspn(g, ",");
                if (len) user_add_group(&e->user, g, len);
                g += len;
                if (*g == ',') g++;
            }
            free(fields[3]);
        }
    }
    fclose(f);
    return r;
}

void cn_tokens_free(cn_tokens *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].token);
        cn_user_release(&t->items[i].user);
    }
    free(t->items);
    free(t);
}

static bool ct_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++) d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

int cn_tokens_lookup(const cn_tokens *t, const char *token, cn_user *u)
{
    for (size_t i = 0; t && i < t->n; i++) {
        if (!ct_equal(t->items[i].token, token)) continue;
        const cn_user *src = &t->items[i].user;
        memset(u, 0, sizeof *u);
        u->name = cn_strdup(src->name);
        u->uid = cn_strdup(src->uid);
        for (size_t g = 0; g < src->ngroups; g++)
            user_add_group(u, src->groups[g], strlen(src->groups[g]));
        return 0;
    }
    return -ENOENT;
}

static bool is_verb(const cn_authz_attrs *a, const char *const *verbs)
{
    for (; *verbs; verbs++)
        if (a->verb && !strcmp(a->verb, *verbs)) return true;
    return false;
}

/* What a node agent (group system:nodes, user system:node:NAME) needs, as
 * upstream's system:node role: read what its pods use, write its Node,
 * Lease, pods' status and events, delete its pods once stopped. Unlike
 * upstream's Node authorizer it does not yet narrow reads to the objects
 * of the node's own pods (that comes with RBAC). */
static bool node_allowed(const cn_user *u, const cn_authz_attrs *a)
{
    static const char *const read[] = { "get", "list", "watch", NULL };
    static const char *const write[] = { "create", "update", "patch", NULL };
    if (!cn_user_in_group(u, "system:nodes") || !a->resource_request || !a->resource) return false;
    const char *r = a->resource, *sub = a->subresource ? a->subresource : "";
    const char *g = a->group ? a->group : "";
    if (!*g && (!strcmp(r, "pods") || !strcmp(r, "configmaps") || !strcmp(r, "secrets") ||
                !strcmp(r, "services") || !strcmp(r, "endpoints") || !strcmp(r, "persistentvolumeclaims") ||
                !strcmp(r, "persistentvolumes") || !strcmp(r, "nodes") || !strcmp(r, "namespaces")) &&
        !*sub && is_verb(a, read))
        return true;
    if (!*g && !strcmp(r, "nodes") && is_verb(a, write)) return true;          /* incl. nodes/status */
    if (!*g && !strcmp(r, "pods") && !strcmp(sub, "status") && is_verb(a, write)) return true;
    if (!*g && !strcmp(r, "pods") && !*sub && a->verb && !strcmp(a->verb, "delete")) return true;
    if (!*g && !strcmp(r, "serviceaccounts") && !strcmp(sub, "token") && a->verb && !strcmp(a->verb, "create")) return true;
    if ((!*g || !strcmp(g, "events.k8s.io")) && !strcmp(r, "events") && (is_verb(a, write) || is_verb(a, read))) return true;
    if (!strcmp(g, "coordination.k8s.io") && !strcmp(r, "leases") && a->ns && !strcmp(a->ns, "kube-node-lease") &&
        (is_verb(a, write) || is_verb(a, read) || !strcmp(a->verb, "delete")))
        return true;
    if (!strcmp(g, "storage.k8s.io") && is_verb(a, read)) return true;
    return false;
}

bool cn_authorize_bootstrap(void *ud, const cn_user *u, const cn_authz_attrs *a,
                            const char **reason)
{
    (void)ud;
    if (cn_user_in_group(u, "system:masters")) return true;
    if (node_allowed(u, a)) return true;
    if (!a->resource_request && a->path &&
        (!strcmp(a->path, "/api") || !strcmp(a->path, "/apis") ||
         cn_str_has_prefix(a->path, "/api/") || cn_str_has_prefix(a->path, "/apis/") ||
         cn_str_has_prefix(a->path, "/openapi/")))
        return true;
    /* Everyone may ask who they are and what they may do. */
    if (a->resource_request && a->verb && !strcmp(a->verb, "create") &&
        (!strcmp(a->resource, "selfsubjectaccessreviews") ||
         !strcmp(a->resource, "selfsubjectrulesreviews") ||
         !strcmp(a->resource, "selfsubjectreviews")))
        return true;
    *reason = "only members of system:masters (and nodes, for what the kubelet does) are authorized until RBAC is enabled";
    return false;
}
