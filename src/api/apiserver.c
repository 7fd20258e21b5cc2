/* apiserver: start-up wiring and the request entry point: health and
 * version endpoints, discovery and OpenAPI, authentication, authorization,
 * and routing of resource paths to the verbs in rest*.c. */
#include "api/apiserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/join.h"
#include "api/nscache.h"
#include "api/rest-internal.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_PATH_PARTS 12

static void reply_raw_json(cn_reqctx *c, int code, const char *ctype, json_t *j)
{
    char *body = json_dumps(j, JSON_COMPACT);
    cn_http_respond(c->http, code, ctype, body, strlen(body));
    free(body);
    json_decref(j);
}

static void reply_version(cn_reqctx *c)
{
    json_t *v = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
        "major", CN_K8S_MAJOR, "minor", CN_K8S_MINOR, "gitVersion", CN_K8S_GIT_VERSION,
        "gitCommit", "0000000000000000000000000000000000000000", "gitTreeState", "clean",
        "buildDate", "2026-11-26T00:00:00Z", "goVersion", "c17", "compiler", "gcc",
        "platform", "linux/amd64");
    cn_rest_reply(c, 200, v);
}

/* Which aggregated discovery form the client accepts: 2 (v2), 1 (v2beta1), 0. */
static int discovery_form(cn_reqctx *c)
{
    const char *accept = cn_http_header(c->http, "Accept");
    if (!accept || !strstr(accept, "as=APIGroupDiscoveryList")) return 0;
    /* Answer the first form the client lists. */
    const char *v2 = strstr(accept, "v=v2;"), *v2b = strstr(accept, "v=v2beta1");
    if (v2 && (!v2b || v2 < v2b)) return 2;
    if (v2b) return 1;
    return 0;
}

static void reply_discovery(cn_reqctx *c, json_t *doc, int agg)
{
    if (!agg) {
        cn_rest_reply(c, 200, doc);
        return;
    }
    reply_raw_json(c, 200, agg == 2
        ? "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        : "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", doc);
}

static void not_found(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    cn_err_set(&e, 404, "NotFound", "the server could not find the requested resource");
    cn_rest_reply_err(c, &e);
}

/* Split in place on '/'; empty segments are skipped like upstream's router. */
static int split_path(char *path, char **parts)
{
    int n = 0;
    char *p = path;
    while (*p) {
        while (*p == '/') *p++ = '\0';
        if (!*p) break;
        if (n == MAX_PATH_PARTS) return -1;
        parts[n++] = p;
        while (*p && *p != '/') p++;
    }
    return n;
}

/* Authentication: client certificate, else bearer token. */
static int authenticate(cn_reqctx *c, cn_err *err)
{
    const char *cn = NULL;
    const char *const *orgs = NULL;
    size_t norgs = 0;
    cn_user *u = &c->user;
    if (cn_http_client_cert(c->http, &cn, &orgs, &norgs) && cn && *cn) {
        u->name = cn_strdup(cn);
        u->uid = cn_strdup("");
        u->groups = cn_calloc(norgs + 1, sizeof *u->groups);
        for (size_t i = 0; i < norgs; i++) u->groups[u->ngroups++] = cn_strdup(orgs[i]);
    } else {
        const char *h = cn_http_header(c->http, "Authorization");
        if (!h || strncasecmp(h, "Bearer ", 7) != 0 ||
            cn_tokens_lookup(c->srv->tokens, h + 7, u) < 0)
            return cn_err_set(err, 401, "Unauthorized", "Unauthorized");
    }
    u->groups = cn_realloc(u->groups, (u->ngroups + 1) * sizeof *u->groups);
    u->groups[u->ngroups++] = cn_strdup("system:authenticated");
    return 0;
}

static const char *verb_for(cn_reqctx *c, bool collection)
{
    const char *m = c->method;
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
        if (c->q.watch) return "watch";
        return collection ? "list" : "get";
    }
    if (!strcmp(m, "POST")) return "create";
    if (!strcmp(m, "PUT")) return "update";
    if (!strcmp(m, "PATCH")) return "patch";
    if (!strcmp(m, "DELETE")) return collection ? "deletecollection" : "delete";
    return m;
}

static int accept_table(cn_reqctx *c)
{
    const char *accept = cn_http_header(c->http, "Accept");
    if (!accept || !strstr(accept, "as=Table") || !strstr(accept, "g=meta.k8s.io")) return 0;
    return strstr(accept, "v=v1;") || strstr(accept, "v=v1,") ||
           cn_str_has_suffix(accept, "v=v1") ? 1 : 2;
}

static const char *query_get(void *ud, const char *name)
{
    return cn_http_query(ud, name);
}

static void method_not_allowed(cn_reqctx *c)
{
    cn_err e = CN_ERR_INIT;
    cn_err_set(&e, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    cn_rest_reply_err(c, &e);
}

/* Route /api/v1/... and /apis/G/V/... (parts after the group-version). */
static void route_resource(cn_reqctx *c, char **p, int n)
{
    cn_err e = CN_ERR_INIT;
    /* [namespaces/NS/]RES[/NAME[/SUB]] ; namespaces/NAME[/SUB] is itself a resource. */
    if (n >= 3 && !strcmp(p[0], "namespaces")) {
        const cn_resource *r3 = cn_registry_lookup(c->srv->reg, c->group, c->version, p[2]);
        if (r3 && r3->namespaced) {
            c->ns = p[1];
            p += 2;
            n -= 2;
        }
    }
    if (n < 1 || n > 3) return not_found(c);
    c->plural = p[0];
    c->name = n >= 2 ? p[1] : NULL;
    c->sub = n >= 3 ? p[2] : NULL;
    c->res = cn_registry_lookup(c->srv->reg, c->group, c->version, c->plural);
    if (!c->res) return not_found(c);
    if (c->ns && !c->res->namespaced) return not_found(c);

    bool collection = c->name == NULL;
    if (c->res->namespaced && !c->ns && !(c->res->flags & CN_RES_CREATE_ONLY)) {
        /* Without a namespace only list and watch across all namespaces make sense. */
        if (c->name) return not_found(c);
        if (strcmp(c->method, "GET") && strcmp(c->method, "HEAD")) return method_not_allowed(c);
    }
    const char *verb = verb_for(c, collection);
    cn_authz_attrs a = {
        .verb = verb, .group = c->group, .version = c->version, .resource = c->plural,
        .subresource = c->sub, .ns = c->ns, .name = c->name, .resource_request = true,
    };
    const char *reason = "forbidden";
    if (!c->srv->authorize(c->srv->authorize_ud, &c->user, &a, &reason)) {
        cn_buf m;
        cn_buf_init(&m);
        cn_buf_adds(&m, c->plural);
        if (c->name) cn_buf_addf(&m, " \"%s\"", c->name);
        cn_buf_addf(&m, " is forbidden: User \"%s\" cannot %s resource \"%s%s%s\" in API group \"%s\"",
                    c->user.name, verb, c->plural, c->sub ? "/" : "", c->sub ? c->sub : "", c->group);
        if (c->ns) cn_buf_addf(&m, " in the namespace \"%s\"", c->ns);
        cn_buf_addf(&m, ": %s", reason);
        cn_err_set(&e, 403, "Forbidden", "%s", m.data);
        cn_buf_release(&m);
        cn_err_set_details(&e, c->name, c->group, c->plural);
        return cn_rest_reply_err(c, &e);
    }

    if (c->res->flags & CN_RES_CREATE_ONLY) {
        if (strcmp(c->method, "POST") || c->name) return method_not_allowed(c);
        return cn_rest_review(c);
    }
    if (c->sub) {
        if (!strcmp(c->sub, "status") && (c->res->flags & CN_RES_STATUS)) {
            if (!strcmp(c->method, "GET")) return cn_rest_get(c);
            if (!strcmp(c->method, "PUT")) return cn_rest_update(c);
            if (!strcmp(c->method, "PATCH")) return cn_rest_patch(c);
            return method_not_allowed(c);
        }
        return cn_rest_subresource(c);
    }
    const char *m = c->method;
    if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
        if (collection) return c->q.watch ? cn_rest_watch(c) : cn_rest_list(c);
        if (c->q.watch) return not_found(c);
        return cn_rest_get(c);
    }
    /* Writes of the serialized group (apiserver.h) pass admission and
     * reach the store one at a time. */
    bool serial = c->srv->serialize_group && !strcmp(c->res->group, c->srv->serialize_group);
    if (serial) pthread_mutex_lock(&c->srv->serial_lock);
    if (!strcmp(m, "POST")) {
        if (!collection) method_not_allowed(c);
        else cn_rest_create(c);
    } else if (!strcmp(m, "PUT") && !collection) {
        cn_rest_update(c);
    } else if (!strcmp(m, "PATCH") && !collection) {
        cn_rest_patch(c);
    } else if (!strcmp(m, "DELETE")) {
        if (collection) cn_rest_delete_collection(c);
        else cn_rest_delete(c);
    } else {
        method_not_allowed(c);
    }
    if (serial) pthread_mutex_unlock(&c->srv->serial_lock);
}

void cn_apiserver_handle(cn_http_req *req, void *ud)
{
    cn_reqctx ctx = { .srv = ud, .http = req, .method = cn_http_method(req) };
    cn_reqctx *c = &ctx;
    cn_err e = CN_ERR_INIT;
    char *path = cn_strdup(cn_http_path(req));
    char *parts[MAX_PATH_PARTS];
    int n = split_path(path, parts);
    int64_t t0 = cn_now_ms();

    if (n < 0) {
        not_found(c);
        goto out;
    }
    /* Unauthenticated endpoints. */
    if (n == 1 && (!strcmp(parts[0], "livez") || !strcmp(parts[0], "readyz") ||
                   !strcmp(parts[0], "healthz"))) {
        cn_http_respond(req, 200, "text/plain; charset=utf-8", "ok", 2);
        goto out;
    }
    if (n == 1 && !strcmp(parts[0], "version")) {
        reply_version(c);
        goto out;
    }
    /* Server join (join.c): checks its own bearer token. */
    if (n == 1 && !strcmp(parts[0], "cacerts")) {
        cn_join_serve_cacerts(c);
        goto out;
    }
    if (n == 3 && !strcmp(parts[0], "cairn") && !strcmp(parts[1], "v1") &&
        !strcmp(parts[2], "server-bootstrap")) {
        cn_join_serve_bootstrap(c);
        goto out;
    }
    if (n == 3 && !strcmp(parts[0], "cairn") && !strcmp(parts[1], "v1") &&
        !strcmp(parts[2], "node-bootstrap")) {
        cn_join_serve_node(c);
        goto out;
    }
    if (authenticate(c, &e) < 0) {
        cn_rest_reply_err(c, &e);
        goto out;
    }
    if (cn_query_parse(query_get, req, &c->q, &e) < 0) {
        cn_rest_reply_err(c, &e);
        goto out;
    }
    c->table = accept_table(c);

    bool api = n >= 1 && !strcmp(parts[0], "api");
    bool apis = n >= 1 && !strcmp(parts[0], "apis");
    bool resource_path = (api && n >= 3) || (apis && n >= 4);
    if (!resource_path) {
        cn_authz_attrs a = { .verb = "get", .path = cn_http_path(req) };
        const char *reason = "forbidden";
        if (!c->srv->authorize(c->srv->authorize_ud, &c->user, &a, &reason)) {
            cn_err_set(&e, 403, "Forbidden", "forbidden: User \"%s\" cannot get path \"%s\": %s",
                       c->user.name, cn_http_path(req), reason);
            cn_rest_reply_err(c, &e);
            goto out;
        }
        if (strcmp(c->method, "GET") && strcmp(c->method, "HEAD")) {
            method_not_allowed(c);
        } else if (api && n == 1) {
            int agg = discovery_form(c);
            reply_discovery(c, cn_discovery_core(c->srv->reg, agg), agg);
        } else if (apis && n == 1) {
            int agg = discovery_form(c);
            reply_discovery(c, cn_discovery_groups(c->srv->reg, agg), agg);
        } else if (api && n == 2) {
            json_t *d = cn_discovery_resources(c->srv->reg, "", parts[1]);
            d ? cn_rest_reply(c, 200, d) : not_found(c);
        } else if (apis && n == 3) {
            json_t *d = cn_discovery_resources(c->srv->reg, parts[1], parts[2]);
            d ? cn_rest_reply(c, 200, d) : not_found(c);
        } else if (apis && n == 2) {
            /* APIGroup for one group. */
            json_t *groups = cn_discovery_groups(c->srv->reg, 0), *found = NULL, *g;
            size_t i;
            json_array_foreach(json_object_get(groups, "groups"), i, g)
                if (!strcmp(json_string_value(json_object_get(g, "name")) ?: "", parts[1]))
                    found = json_incref(g);
            json_decref(groups);
            if (found) {
                json_object_set_new(found, "kind", json_string("APIGroup"));
                json_object_set_new(found, "apiVersion", json_string("v1"));
                cn_rest_reply(c, 200, found);
            } else {
                not_found(c);
            }
        } else if (n == 2 && !strcmp(parts[0], "openapi") && !strcmp(parts[1], "v2")) {
            /* kubectl 1.27/1.28 accept only the protobuf form. The reply
             * type is upstream's dotted one: kubectl asks for ".v2@v1.0"
             * but Go's mime parser rejects '@' in a Content-Type. */
            const char *accept = cn_http_header(req, "Accept");
            uint8_t *pb;
            size_t len;
            if (accept && strstr(accept, "protobuf") && cn_openapi_v2_proto(c->srv->reg, &pb, &len) >= 0) {
                cn_http_respond(req, 200, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
                                (const char *)pb, len);
                free(pb);
            } else {
                reply_raw_json(c, 200, "application/json", cn_openapi_v2_json(c->srv->reg));
            }
        } else if (n == 2 && !strcmp(parts[0], "openapi") && !strcmp(parts[1], "v3")) {
            cn_rest_reply(c, 200, cn_openapi_v3_index(c->srv->reg));
        } else if (n >= 3 && !strcmp(parts[0], "openapi") && !strcmp(parts[1], "v3")) {
            const char *p = cn_http_path(req) + strlen("/openapi/v3/");
            json_t *d = cn_openapi_v3_doc(c->srv->reg, p);
            if (d) {
                cn_http_add_header(req, "Cache-Control", "public, immutable");
                cn_rest_reply(c, 200, d);
            } else {
                not_found(c);
            }
        } else {
            not_found(c);
        }
        goto out;
    }
    if (api) {
        c->group = "";
        c->version = parts[1];
        route_resource(c, parts + 2, n - 2);
    } else {
        c->group = parts[1];
        c->version = parts[2];
        route_resource(c, parts + 3, n - 3);
    }
out:
    cn_debug("%s %s user=%s %lldms", c->method, cn_http_path(req), c->user.name ? c->user.name : "-",
             (long long)(cn_now_ms() - t0));
    cn_err_clear(&e);
    cn_user_release(&c->user);
    json_decref(c->warnings);
    free(path);
}

static char *url_host(const char *listen, const char *advertise)
{
    if (advertise) return cn_strdup(advertise);
    const char *colon = strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) : strlen(listen);
    char *host = cn_strndup(listen, hl);
    if (!*host || !strcmp(host, "0.0.0.0")) {
        free(host);
        return cn_strdup("127.0.0.1");
    }
    if (!strcmp(host, "::") || !strcmp(host, "[::]")) {
        free(host);
        return cn_strdup("127.0.0.1");
    }
    return host;
}

/* mkdir -p: the data dir's parents (/var/lib/cairn, ~/.cairn) may not exist yet. */
static int mkdir_parents(const char *path)
{
    char *p = cn_strdup(path);
    int r = 0;
    for (char *q = p + 1; *q && r == 0; q++) {
        if (*q != '/') continue;
        *q = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) r = -1;
        *q = '/';
    }
    if (r == 0 && mkdir(p, 0700) < 0 && errno != EEXIST) r = -1;
    free(p);
    return r;
}

/* The config's DefaultTolerationSeconds value: 0 = 300, -1 = 0. */
static int64_t toleration_s(int64_t v) { return v == 0 ? 300 : v < 0 ? 0 : v; }

/* The watch cache's tap: the caches that must see every change before a
 * writer is answered. */
static void store_tap(void *ud, const cn_event *e)
{
    cn_apiserver *s = ud;
    cn_nscache_on_event(s->nscache, e);
    cn_quota_on_event(s, e);
}

/* The identity the server presents to node agents (podproxy.c), kept in
 * DATA/pki/kubelet-client.{crt,key}; issued from the CA when missing. */
static int kubelet_client_ensure(cn_apiserver *s, cn_err *err)
{
    char *crt = cn_asprintf("%s/pki/kubelet-client.crt", s->data_dir);
    char *key = cn_asprintf("%s/pki/kubelet-client.key", s->data_dir);
    int r = 0;
    if (cn_read_file(crt, &s->kubelet_client_cert, NULL, NULL) == 0 &&
        cn_read_file(key, &s->kubelet_client_key, NULL, NULL) == 0)
        goto done;
    free(s->kubelet_client_cert);
    free(s->kubelet_client_key);
    s->kubelet_client_cert = s->kubelet_client_key = NULL;
    static const char *const orgs[] = { "system:masters" };
    r = cn_pki_issue_client(&s->pki, "kube-apiserver-kubelet-client", orgs, 1, 3650,
                            &s->kubelet_client_cert, &s->kubelet_client_key, err);
    if (r == 0) r = cn_write_file_atomic(key, s->kubelet_client_key, strlen(s->kubelet_client_key),
                                         0600, err);
    if (r == 0) r = cn_write_file_atomic(crt, s->kubelet_client_cert,
                                         strlen(s->kubelet_client_cert), 0644, err);
done:
    free(crt);
    free(key);
    return r;
}

int cn_apiserver_start(const cn_apiserver_config *cfg, cn_apiserver **out, cn_err *err)
{
    cn_apiserver *s = cn_calloc(1, sizeof *s);
    int r;
    s->data_dir = cn_strdup(cfg->data_dir);
    s->authorize = cn_authorize_bootstrap;
    s->admission = cn_admission_new();
    cn_priority_register(s);
    cn_admit_default_tolerations(s->admission, toleration_s(cfg->default_not_ready_toleration_s),
                                 toleration_s(cfg->default_unreachable_toleration_s));
    cn_quota_admission_register(s);
    if (cfg->serialize_group) s->serialize_group = cn_strdup(cfg->serialize_group);
    pthread_mutex_init(&s->serial_lock, NULL);
    pthread_mutex_init(&s->ctl_lock, NULL);
    pthread_cond_init(&s->ctl_cond, NULL);

    if (mkdir_parents(cfg->data_dir) < 0) {
        r = -errno;
        cn_err_internal(err, "cannot create data dir \"%s\": %s", cfg->data_dir, strerror(-r));
        goto fail;
    }
    if (cfg->join_url && (r = cn_join_fetch(cfg->data_dir, cfg->join_url, cfg->token, err)) < 0)
        goto fail;
    {
        /* The host the kubeconfig names must be in the certificate too. */
        const char **sans = cn_calloc(cfg->ntls_sans + 1, sizeof *sans);
        for (size_t i = 0; i < cfg->ntls_sans; i++) sans[i] = cfg->tls_sans[i];
        char *host = url_host(cfg->listen, cfg->advertise_host);
        if (host[0] == '[') {
            memmove(host, host + 1, strlen(host));
            host[strcspn(host, "]")] = 0;
        }
        sans[cfg->ntls_sans] = host;
        r = cn_pki_ensure(cfg->data_dir, sans, cfg->ntls_sans + 1, &s->pki, err);
        free(host);
        free(sans);
    }
    if (r < 0) goto fail;
    r = kubelet_client_ensure(s, err);
    if (r < 0) goto fail;
    r = cn_token_ensure(cfg->data_dir, s->pki.ca_cert_pem, cfg->token, &s->join_token, err);
    if (r < 0) goto fail;
    r = cn_tokens_load(cfg->token_auth_file, &s->tokens, err);
    if (r < 0) goto fail;
    r = cn_alloc_new(cfg->service_cidr ? cfg->service_cidr : "10.43.0.0/16", &s->alloc, err);
    if (r < 0) goto fail;

    cn_store_options so = { .no_fsync = cfg->no_fsync, .keep_revisions = cfg->history_revisions,
                            .compact_interval_s = cfg->compact_interval_s };
    if (cfg->datastore_endpoint) {
        cn_etcd_config ec = { .endpoints = cfg->datastore_endpoint, .prefix = cfg->etcd_prefix,
                              .cafile = cfg->datastore_cafile, .certfile = cfg->datastore_certfile,
                              .keyfile = cfg->datastore_keyfile };
        r = cn_store_open_etcd(&ec, &so, &s->store, err);
    } else {
        char *dbpath = cn_asprintf("%s/state.db", cfg->data_dir);
        r = cn_store_open_sqlite(dbpath, &so, &s->store, err);
        free(dbpath);
    }
    if (r < 0) goto fail;
    s->wc = cn_watchcache_new(s->store, 0, 0);
    s->nscache = cn_nscache_new("/registry/namespaces/");
    cn_watchcache_set_tap(s->wc, store_tap, s);
    s->reg = cn_registry_new();

    r = cn_ctl_bootstrap(s, err);
    if (r < 0) goto fail;
    if (cfg->before_serve && (r = cfg->before_serve(s, cfg->before_serve_ud, err)) < 0) goto fail;

    cn_http_config hc = {
        .listen = cfg->listen,
        .cert_pem = s->pki.server_cert_pem,
        .key_pem = s->pki.server_key_pem,
        .client_ca_pem = s->pki.ca_cert_pem,
        .max_connections = cfg->max_connections,
        .idle_timeout_s = cfg->idle_timeout_s,
        .handler = cn_apiserver_handle,
        .ud = s,
    };
    r = cn_http_start(&hc, &s->http, err);
    if (r < 0) goto fail;

    char *host = url_host(cfg->listen, cfg->advertise_host);
    bool v6 = strchr(host, ':') != NULL;
    char *url = cn_asprintf("https://%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
                            cn_http_port(s->http));
    s->kubeconfig_path = cn_asprintf("%s/kubeconfig", cfg->data_dir);
    r = cn_kubeconfig_write(s->kubeconfig_path, "cairn", url, s->pki.ca_cert_pem,
                            s->pki.admin_cert_pem, s->pki.admin_key_pem, err);
    free(url);
    free(host);
    if (r < 0) goto fail;

    r = cn_ctl_start(s, cfg, err);
    if (r < 0) goto fail;
    *out = s;
    return 0;
fail:
    cn_apiserver_stop(s);
    return r;
}

void cn_apiserver_stop(cn_apiserver *s)
{
    if (!s) return;
    cn_ctl_stop(s);
    if (s->wc) cn_watchcache_close(s->wc);
    cn_http_stop(s->http);
    cn_watchcache_free(s->wc);
    cn_nscache_free(s->nscache);    /* after the tap's last call */
    cn_quota_cache_free(s->quota);
    s->quota = NULL;
    cn_store_free(s->store);
    cn_registry_free(s->reg);
    cn_admission_free(s->admission);
    cn_alloc_free(s->alloc);
    cn_tokens_free(s->tokens);
    cn_pki_release(&s->pki);
    free(s->kubelet_client_cert);
    free(s->kubelet_client_key);
    free(s->join_token);
    pthread_mutex_destroy(&s->ctl_lock);
    pthread_cond_destroy(&s->ctl_cond);
    pthread_mutex_destroy(&s->serial_lock);
    free(s->serialize_group);
    free(s->kubeconfig_path);
    free(s->data_dir);
    free(s);
}

int cn_apiserver_port(const cn_apiserver *s) { return cn_http_port(s->http); }
const char *cn_apiserver_kubeconfig(const cn_apiserver *s) { return s->kubeconfig_path; }

void cn_apiserver_add_admission(cn_apiserver *s, bool mutating, const char *name,
                                cn_admit_fn fn, void *ud)
{
    cn_admission_add(s->admission, mutating, name, fn, ud);
}

cn_leader *cn_apiserver_elector(cn_apiserver *s, cn_role role)
{
    return role == CN_ROLE_SCHEDULER ? s->elect_sched : s->elect_cm;
}
