/* probe: the bridge's contact with the clusters it made. Each cluster's
 * API is reached with the admin kubeconfig the controller stored in
 * fleet-system/<cluster>-kubeconfig; a thread of its own lists every
 * cluster's Nodes every few seconds so that the reconcile loop never
 * waits on a connect timeout, and queues a cluster when what it sees
 * changes (a node became Ready, the API stopped answering). */
#include "bridge/ctrl-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge/crds.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/pki.h"
#include "lib/strmap.h"
#include "lib/util.h"

#define KUBECONFIG_MAX (256 * 1024)

int cn_bridge_cluster_client(cn_client *bridge, const char *name, cn_client **out, cn_err *err)
{
    *out = NULL;
    char *sname = cn_asprintf("%s-kubeconfig", name);
    char *path = cn_client_path("", "v1", CN_FLEET_NAMESPACE, "secrets", sname, NULL);
    json_t *secret = NULL;
    char *text = NULL, tmp[] = "/tmp/cairn-bridge-kc.XXXXXX";
    size_t len = 0;
    int fd = -1;
    int r = cn_client_get(bridge, path, &secret, err);
    if (r < 0) goto done;
    const char *b64 = cn_json_str_at(secret, "data.value");
    r = cn_base64_decode(b64, strlen(b64), KUBECONFIG_MAX, &text, &len);
    if (r < 0) {
        cn_err_internal(err, "secret %s/%s: value is not base64", CN_FLEET_NAMESPACE, sname);
        goto done;
    }
    /* The client reads a kubeconfig file: a private one, removed at once. */
    fd = mkstemp(tmp);
    if (fd < 0) {
        r = -errno;
        cn_err_internal(err, "temporary kubeconfig: %s", strerror(errno));
        goto done;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        r = -EIO;
        cn_err_internal(err, "temporary kubeconfig: short write");
        goto done;
    }
    r = cn_client_new_kubeconfig(tmp, out, err);
    if (r == 0) cn_client_set_agent(*out, "cairn-bridge");
done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    free(text);
    json_decref(secret);
    free(path);
    free(sname);
    return r;
}

struct seen {
    bool reached;
    int64_t last_ok_s;
    json_t *ready;
    char *error;
};

/* A cached cluster client and the Secret version it was made from. */
struct conn {
    cn_client *client;
    char *rv;
};

struct cn_bridge_probe {
    cn_client *bridge;
    cn_informer *clusters;
    cn_workqueue *q;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    cn_strmap *seen;          /* cluster -> struct seen (under lock) */
    cn_strmap *conns;         /* cluster -> struct conn (probe thread only) */
};

static void seen_free(void *p)
{
    struct seen *s = p;
    if (!s) return;
    json_decref(s->ready);
    free(s->error);
    free(s);
}

static void conn_free(void *p)
{
    struct conn *c = p;
    if (!c) return;
    cn_client_free(c->client);
    free(c->rv);
    free(c);
}

static bool node_ready(const json_t *node)
{
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, cond) {
        if (!strcmp(cn_json_str_at(cond, "type"), "Ready")) return !strcmp(cn_json_str_at(cond, "status"), "True");
    }
    return false;
}

/* The client for cluster name, made again when its Secret changed. */
static cn_client *conn_for(cn_bridge_probe *p, const char *name, cn_err *err)
{
    char *sname = cn_asprintf("%s-kubeconfig", name);
    char *path = cn_client_path("", "v1", CN_FLEET_NAMESPACE, "secrets", sname, NULL);
    json_t *secret = NULL;
    cn_client *out = NULL;
    if (cn_client_get(p->bridge, path, &secret, err) == 0) {
        const char *rv = cn_meta_str(secret, "resourceVersion");
        struct conn *c = cn_strmap_get(p->conns, name);
        if (c && !strcmp(c->rv, rv)) {
            out = c->client;
        } else {
            cn_client *nc = NULL;
            if (cn_bridge_cluster_client(p->bridge, name, &nc, err) == 0) {
                conn_free(cn_strmap_del(p->conns, name));
                c = cn_calloc(1, sizeof *c);
                c->client = nc;
                c->rv = cn_strdup(rv);
                cn_strmap_put(p->conns, name, c);
                out = nc;
            }
        }
    }
    json_decref(secret);
    free(path);
    free(sname);
    return out;
}

static void probe_one(cn_bridge_probe *p, const char *name)
{
    cn_err err = CN_ERR_INIT;
    json_t *nodes = NULL, *ready = json_object();
    cn_client *c = conn_for(p, name, &err);
    bool ok = c && cn_client_get(c, "/api/v1/nodes", &nodes, &err) == 0;
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(nodes, "items"), i, n)
        json_object_set_new(ready, cn_meta_str(n, "name"), json_boolean(node_ready(n)));
    if (!ok) cn_debug("cluster \"%s\": its API did not answer: %s", name, err.message ? err.message : "no kubeconfig yet");
    pthread_mutex_lock(&p->lock);
    struct seen *s = cn_strmap_get(p->seen, name);
    bool changed = !s || s->reached != ok || (ok && !json_equal(s->ready, ready));
    if (!s) {
        s = cn_calloc(1, sizeof *s);
        cn_strmap_put(p->seen, name, s);
    }
    s->reached = ok;
    if (ok) {
        s->last_ok_s = cn_wall_s();
        json_decref(s->ready);
        s->ready = json_incref(ready);
    }
    free(s->error);
    s->error = ok ? NULL : cn_strdup(err.message ? err.message : "no kubeconfig yet");
    pthread_mutex_unlock(&p->lock);
    if (changed) cn_workqueue_add(p->q, name);
    json_decref(nodes);
    json_decref(ready);
    cn_err_clear(&err);
}

static bool collect(void *ud, const json_t *obj)
{
    const char *ep = cn_json_str_at(obj, "status.controlPlaneEndpoint");
    if (*ep && !*cn_meta_str(obj, "deletionTimestamp"))
        json_array_append_new(ud, json_string(cn_meta_str(obj, "name")));
    return true;
}

struct gone {
    const json_t *names;
    json_t *drop;
};

static bool find_gone(void *ud, const char *key, void *val)
{
    (void)val;
    struct gone *g = ud;
    size_t i;
    json_t *n;
    json_array_foreach(g->names, i, n) if (!strcmp(json_string_value(n), key)) return true;
    json_array_append_new(g->drop, json_string(key));
    return true;
}

/* The clients of clusters no longer probed (deleted) are closed. */
static void drop_gone(cn_bridge_probe *p, const json_t *names)
{
    struct gone g = { names, json_array() };
    cn_strmap_foreach(p->conns, find_gone, &g);
    size_t i;
    json_t *n;
    json_array_foreach(g.drop, i, n) conn_free(cn_strmap_del(p->conns, json_string_value(n)));
    json_decref(g.drop);
}

static void *run(void *arg)
{
    cn_bridge_probe *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        pthread_mutex_unlock(&p->lock);
        json_t *names = json_array();
        cn_informer_foreach(p->clusters, collect, names);
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) {
            if (p->stop) break;
            probe_one(p, json_string_value(n));
        }
        drop_gone(p, names);
        json_decref(names);
        pthread_mutex_lock(&p->lock);
        if (p->stop) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += p->interval_ms / 1000;
        ts.tv_nsec += (p->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

cn_bridge_probe *cn_bridge_probe_start(cn_client *bridge, cn_informer *clusters, cn_workqueue *q,
                                       int64_t interval_ms)
{
    cn_bridge_probe *p = cn_calloc(1, sizeof *p);
    p->bridge = bridge;
    p->clusters = clusters;
    p->q = q;
    p->interval_ms = interval_ms;
    p->seen = cn_strmap_new();
    p->conns = cn_strmap_new();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        cn_bridge_probe_stop(p);
        return NULL;
    }
    return p;
}

void cn_bridge_probe_stop(cn_bridge_probe *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    bool running = !p->stop && p->thread;
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (running) pthread_join(p->thread, NULL);
    cn_strmap_free(p->seen, seen_free);
    cn_strmap_free(p->conns, conn_free);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

bool cn_bridge_probe_get(cn_bridge_probe *p, const char *cluster, cn_probe_view *v)
{
    *v = (cn_probe_view){ 0 };
    pthread_mutex_lock(&p->lock);
    struct seen *s = cn_strmap_get(p->seen, cluster);
    if (s) {
        v->reached = s->reached;
        v->last_ok_s = s->last_ok_s;
        v->ready = json_incref(s->ready);
        v->error = cn_strdup(s->error);
    }
    pthread_mutex_unlock(&p->lock);
    return s != NULL;
}

void cn_probe_view_release(cn_probe_view *v)
{
    json_decref(v->ready);
    free(v->error);
    *v = (cn_probe_view){ 0 };
}

void cn_bridge_probe_forget(cn_bridge_probe *p, const char *cluster)
{
    pthread_mutex_lock(&p->lock);
    seen_free(cn_strmap_del(p->seen, cluster));
    pthread_mutex_unlock(&p->lock);
}
