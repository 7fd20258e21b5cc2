/* hk_workers: the worker pools of the housekeeping controllers, started
 * only once their own informers have synced (see housekeeping.h for why:
 * the factory-wide wait holds the factory lock). */
#include "ctrl/housekeeping.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/util.h"

struct cn_hk_workers {
    cn_ctrl_ctx *ctx;
    char *name;
    cn_workqueue *q;
    int n;
    cn_ctrl_sync_fn sync;
    void *ud;
    cn_informer **infs;
    size_t ninf;
    pthread_t thread;
    pthread_mutex_t lock;
    bool stop;
    cn_ctrl_workers *w;
};

static bool stopping(cn_hk_workers *w)
{
    pthread_mutex_lock(&w->lock);
    bool s = w->stop;
    pthread_mutex_unlock(&w->lock);
    return s;
}

static void *wait_then_start(void *ud)
{
    cn_hk_workers *w = ud;
    for (size_t i = 0; i < w->ninf; i++)
        while (!cn_informer_wait_synced(w->infs[i], 200))
            if (stopping(w)) return NULL;
    pthread_mutex_lock(&w->lock);
    if (!w->stop) w->w = cn_ctrl_workers_start(w->ctx, w->name, w->q, w->n, w->sync, w->ud);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

cn_hk_workers *cn_hk_workers_start(cn_ctrl_ctx *ctx, const char *name, cn_workqueue *q, int n,
                                   cn_ctrl_sync_fn sync, void *ud, cn_informer *const *infs, size_t ninf)
{
    cn_hk_workers *w = cn_calloc(1, sizeof *w);
    *w = (cn_hk_workers){ .ctx = ctx, .name = cn_strdup(name), .q = q, .n = n, .sync = sync, .ud = ud };
    w->infs = cn_calloc(ninf ? ninf : 1, sizeof *w->infs);
    for (size_t i = 0; i < ninf; i++) w->infs[i] = infs[i];
    w->ninf = ninf;
    pthread_mutex_init(&w->lock, NULL);
    if (pthread_create(&w->thread, NULL, wait_then_start, w) != 0) {
        cn_warn("controller %s: cannot start a thread", name);
        w->stop = true;
    }
    return w;
}

void cn_hk_workers_stop(cn_hk_workers *w)
{
    if (!w) return;
    bool joined = false;
    pthread_mutex_lock(&w->lock);
    if (!w->stop) joined = true;
    w->stop = true;
    pthread_mutex_unlock(&w->lock);
    if (joined) pthread_join(w->thread, NULL);
    if (w->w) cn_ctrl_workers_stop(w->w);
    else cn_workqueue_shutdown(w->q);
    free(w->infs);
    free(w->name);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
