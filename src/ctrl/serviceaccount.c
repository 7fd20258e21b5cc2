/* serviceaccount: every active namespace has a ServiceAccount named
 * "default" — kube-controller-manager's serviceaccount controller. It is
 * created when the namespace appears and again whenever it is deleted;
 * a Terminating namespace gets none (the API would refuse it anyway).
 * Work queue keys are namespace names. */
#include "ctrl/housekeeping.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

typedef struct sa_ctrl {
    cn_ctrl_ctx *ctx;
    cn_informer *ns, *sa;
    cn_workqueue *q;
    cn_ctrl_workers *w;
} sa_ctrl;

static void ns_changed(void *ud, const json_t *obj)
{
    sa_ctrl *c = ud;
    cn_workqueue_add(c->q, cn_meta_str(obj, "name"));
}

static void ns_updated(void *ud, const json_t *old, const json_t *obj)
{
    (void)old;
    ns_changed(ud, obj);
}

static void sa_deleted(void *ud, const json_t *obj)
{
    sa_ctrl *c = ud;
    if (!strcmp(cn_meta_str(obj, "name"), "default")) cn_workqueue_add(c->q, cn_meta_str(obj, "namespace"));
}

static int sync(void *ud, const char *ns)
{
    sa_ctrl *c = ud;
    json_t *nsobj = cn_informer_get(c->ns, NULL, ns);
    if (!nsobj) return 0;
    bool active = !*cn_meta_str(nsobj, "deletionTimestamp") &&
                  strcmp(cn_json_str_at(nsobj, "status.phase"), "Terminating");
    json_decref(nsobj);
    if (!active) return 0;
    json_t *have = cn_informer_get(c->sa, ns, "default");
    if (have) {
        json_decref(have);
        return 0;
    }
    json_t *sa = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                           "metadata", "name", "default", "namespace", ns);
    char *path = cn_client_path("", "v1", ns, "serviceaccounts", NULL, NULL);
    cn_err e = CN_ERR_INIT;
    int rc = cn_client_create(c->ctx->client, path, sa, NULL, &e);
    /* Already there (the cache lags) or the namespace is going: done. */
    if (rc < 0 && (e.code == 409 || e.code == 403 || e.code == 404)) rc = 0;
    else if (rc < 0) cn_warn("serviceaccount controller: namespace \"%s\": %s", ns, e.message ? e.message : "?");
    cn_err_clear(&e);
    free(path);
    json_decref(sa);
    return rc;
}

static int start(cn_ctrl_ctx *ctx, void **state, cn_err *err)
{
    (void)err;
    sa_ctrl *c = cn_calloc(1, sizeof *c);
    c->ctx = ctx;
    c->q = cn_workqueue_new(60000);
    c->ns = cn_informers_get(ctx->inf, "", "v1", "namespaces");
    c->sa = cn_informers_get(ctx->inf, "", "v1", "serviceaccounts");
    cn_informer_handler hn = { ns_changed, ns_updated, NULL, c };
    cn_informer_add_handler(c->ns, &hn);
    cn_informer_handler hs = { NULL, NULL, sa_deleted, c };
    cn_informer_add_handler(c->sa, &hs);
    c->w = cn_ctrl_workers_start(ctx, "serviceaccount", c->q, 1, sync, c);
    *state = c;
    return 0;
}

static void stop(void *state)
{
    sa_ctrl *c = state;
    cn_ctrl_workers_stop(c->w);
    cn_workqueue_free(c->q);
    free(c);
}

const cn_controller cn_ctrl_serviceaccount = { "serviceaccount", start, stop };
