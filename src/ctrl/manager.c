/* manager: runs the controllers of ctrl.h while this process leads, and the
 * worker pools they share. */
#include "ctrl/ctrl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/apps.h"
#include "ctrl/cronjob.h"
#include "ctrl/daemonset.h"
#include "ctrl/gc.h"
#include "ctrl/housekeeping.h"
#include "ctrl/job.h"
#include "ctrl/nodeipam.h"
#include "ctrl/nodelifecycle.h"
#include "ctrl/statefulset.h"
#include "lib/log.h"
#include "lib/util.h"

/* Every controller, in start order. One line per controller. */
static const cn_controller *const controllers[] = {
    &cn_ctrl_gc,
    &cn_ctrl_serviceaccount,
    &cn_ctrl_disruption,
    &cn_ctrl_endpoints,
    &cn_ctrl_resourcequota,
    &cn_nodelifecycle_controller,
    &cn_nodeipam_controller,
    &cn_ctrl_replicaset,
    &cn_ctrl_deployment,
    &cn_daemonset_controller,
    &cn_statefulset_controller,
    &cn_job_controller,
    &cn_cronjob_controller,
    NULL,
};

struct cn_ctrl_manager {
    cn_ctrl_config cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

typedef struct running {
    cn_ctrl_ctx ctx;
    void *state[sizeof controllers / sizeof controllers[0]];
    bool started[sizeof controllers / sizeof controllers[0]];
} running;

static bool stopping(cn_ctrl_manager *m)
{
    pthread_mutex_lock(&m->lock);
    bool s = m->stop;
    pthread_mutex_unlock(&m->lock);
    return s;
}

static void stop_all(running *rn)
{
    size_t n = sizeof controllers / sizeof controllers[0];
    /* Informers first: no handler may call into a controller being freed. */
    cn_informers_stop(rn->ctx.inf);
    for (size_t i = n; i-- > 0;) {
        if (rn->started[i] && controllers[i]->stop) controllers[i]->stop(rn->state[i]);
        rn->started[i] = false;
    }
    cn_informers_free(rn->ctx.inf);
    cn_recorder_free(rn->ctx.rec);
    rn->ctx.inf = NULL;
    rn->ctx.rec = NULL;
}

static void start_all(cn_ctrl_manager *m, running *rn)
{
    memset(rn, 0, sizeof *rn);
    rn->ctx.client = m->cfg.client;
    rn->ctx.cfg = &m->cfg;
    rn->ctx.inf = cn_informers_new(m->cfg.client);
    rn->ctx.rec = cn_recorder_new(m->cfg.client, "controller-manager");
    for (size_t i = 0; controllers[i]; i++) {
        cn_err err = CN_ERR_INIT;
        if (controllers[i]->start(&rn->ctx, &rn->state[i], &err) < 0)
            cn_warn("controller %s did not start: %s", controllers[i]->name,
                    err.message ? err.message : "?");
        else
            rn->started[i] = true;
        cn_err_clear(&err);
    }
    cn_err err = CN_ERR_INIT;
    if (cn_informers_start(rn->ctx.inf, &err) < 0) cn_warn("controllers: %s", err.message);
    cn_err_clear(&err);
}

static void *run(void *ud)
{
    cn_ctrl_manager *m = ud;
    running rn;
    while (!stopping(m)) {
        if (m->cfg.elector && !cn_leader_wait(m->cfg.elector, false, 1000)) continue;
        if (stopping(m)) break;
        cn_info("controllers: leading, starting the controllers");
        start_all(m, &rn);
        while (!stopping(m)) {
            if (m->cfg.elector) {
                if (!cn_leader_wait(m->cfg.elector, true, 1000)) break;
            } else {
                pthread_mutex_lock(&m->lock);
                if (!m->stop) pthread_cond_wait(&m->cond, &m->lock);
                pthread_mutex_unlock(&m->lock);
            }
        }
        if (!stopping(m)) cn_warn("controllers: lost the lease, stopping the controllers");
        stop_all(&rn);
    }
    return NULL;
}

int cn_ctrl_manager_start(const cn_ctrl_config *cfg, cn_ctrl_manager **out, cn_err *err)
{
    cn_ctrl_manager *m = cn_calloc(1, sizeof *m);
    m->cfg = *cfg;
    if (m->cfg.workers <= 0) m->cfg.workers = 2;
    if (m->cfg.node_monitor_grace_ms <= 0) m->cfg.node_monitor_grace_ms = 40000;
    if (m->cfg.node_monitor_period_ms <= 0) m->cfg.node_monitor_period_ms = 5000;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        free(m);
        return cn_err_internal(err, "controller manager: cannot start a thread");
    }
    *out = m;
    return 0;
}

void cn_ctrl_manager_stop(cn_ctrl_manager *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    m->stop = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    free(m);
}

/* ---- worker pools ---- */

struct cn_ctrl_workers {
    cn_ctrl_ctx *ctx;
    char *name;
    cn_workqueue *q;
    cn_ctrl_sync_fn sync;
    void *ud;
    pthread_t *threads;
    int n;
};

static void *work(void *ud)
{
    cn_ctrl_workers *w = ud;
    while (!cn_informers_wait_synced(w->ctx->inf, 1000))
        if (cn_workqueue_shutting_down(w->q)) return NULL;
    char *key;
    while ((key = cn_workqueue_get(w->q))) {
        if (w->sync(w->ud, key) < 0) cn_workqueue_add_rate_limited(w->q, key);
        else cn_workqueue_forget(w->q, key);
        cn_workqueue_done(w->q, key);
        free(key);
    }
    return NULL;
}

cn_ctrl_workers *cn_ctrl_workers_start(cn_ctrl_ctx *ctx, const char *name, cn_workqueue *q,
                                       int n, cn_ctrl_sync_fn sync, void *ud)
{
    cn_ctrl_workers *w = cn_calloc(1, sizeof *w);
    w->ctx = ctx;
    w->name = cn_strdup(name);
    w->q = q;
    w->sync = sync;
    w->ud = ud;
    w->threads = cn_calloc((size_t)(n > 0 ? n : 1), sizeof *w->threads);
    for (int i = 0; i < (n > 0 ? n : 1); i++) {
        if (pthread_create(&w->threads[w->n], NULL, work, w) == 0) w->n++;
        else cn_warn("controller %s: cannot start worker %d", name, i);
    }
    return w;
}

void cn_ctrl_workers_stop(cn_ctrl_workers *w)
{
    if (!w) return;
    cn_workqueue_shutdown(w->q);
    for (int i = 0; i < w->n; i++) pthread_join(w->threads[i], NULL);
    free(w->threads);
    free(w->name);
    free(w);
}

char *cn_ctrl_key(const json_t *obj)
{
    const char *ns = cn_meta_str(obj, "namespace");
    return *ns ? cn_asprintf("%s/%s", ns, cn_meta_str(obj, "name")) : cn_strdup(cn_meta_str(obj, "name"));
}

int cn_ctrl_put_status(cn_client *c, const char *group, const char *version, const char *plural,
                       const json_t *obj, const json_t *st)
{
    const json_t *old = json_object_get(obj, "status");
    if (old && json_equal((json_t *)st, (json_t *)old)) return 0;
    json_t *upd = json_deep_copy(obj);
    json_object_set(upd, "status", (json_t *)st);
    char *path = cn_client_path(group, version, cn_meta_str(obj, "namespace"), plural,
                                cn_meta_str(obj, "name"), "status");
    cn_err err = CN_ERR_INIT;
    int r = cn_client_update(c, path, upd, NULL, &err);
    if (r < 0 && err.code == 404) r = 0;
    else if (r < 0 && err.code != 409)
        cn_warn("%s %s/%s: status update: %s", plural, cn_meta_str(obj, "namespace"), cn_meta_str(obj, "name"),
                err.message ? err.message : "?");
    cn_err_clear(&err);
    free(path);
    json_decref(upd);
    return r < 0 ? -EAGAIN : 0;
}
