/* drain: kubectl drain / uncordon against a cluster's API (drain.h). */
#include "bridge/drain.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/* How often a refused eviction is retried and a gone pod looked for
 * (kubectl: 5 s between eviction retries; shorter here since the bridge
 * waits on this before the next step of an operation). */
#define DRAIN_POLL_MS 500

typedef enum { P_EVICT, P_WAIT, P_GONE } pod_state;

typedef struct drain_pod {
    char *ns, *name, *uid;
    pod_state state;
    char *why;          /* the last refusal, for the timeout message */
} drain_pod;

static int set_unschedulable(cn_client *c, const char *node, bool on, cn_err *err)
{
    char *path = cn_client_path("", "v1", NULL, "nodes", node, NULL);
    json_t *patch = json_pack("{s:{s:b}}", "spec", "unschedulable", on);
    int r = cn_client_patch(c, path, CN_PATCH_MERGE, patch, NULL, err);
    if (r < 0 && err && err->code == 404) r = -ENOENT;
    json_decref(patch);
    free(path);
    return r;
}

int cn_bridge_uncordon(cn_client *cluster, const char *node, cn_err *err)
{
    return set_unschedulable(cluster, node, false, err);
}

/* What kubectl drain --ignore-daemonsets --force leaves alone: a mirror
 * pod (the kubelet's copy of a static pod: deleting it does nothing) and
 * a pod its DaemonSet would put straight back. */
static bool skipped(const json_t *pod)
{
    const json_t *meta = json_object_get(pod, "metadata");
    if (json_object_get(json_object_get(meta, "annotations"), "kubernetes.io/config.mirror")) return true;
    size_t i;
    const json_t *ref;
    json_array_foreach(json_object_get(meta, "ownerReferences"), i, ref) {
        if (json_is_true(json_object_get(ref, "controller")) &&
            !strcmp(cn_json_str_at(ref, "kind"), "DaemonSet"))
            return true;
    }
    return false;
}

static int list_pods(cn_client *c, const char *node, drain_pod **out, size_t *n, cn_err *err)
{
    char *sel = cn_asprintf("spec.nodeName=%s", node);
    char *esc = cn_client_escape(sel);
    char *path = cn_asprintf("/api/v1/pods?fieldSelector=%s", esc);
    json_t *list = NULL;
    int r = cn_client_get(c, path, &list, err);
    *out = NULL;
    *n = 0;
    if (r == 0) {
        const json_t *items = json_object_get(list, "items");
        *out = cn_calloc(json_array_size(items) + 1, sizeof **out);
        size_t i;
        const json_t *pod;
        json_array_foreach(items, i, pod) {
            if (skipped(pod)) continue;
            drain_pod *p = &(*out)[(*n)++];
            p->ns = cn_strdup(cn_meta_str(pod, "namespace"));
            p->name = cn_strdup(cn_meta_str(pod, "name"));
            p->uid = cn_strdup(cn_meta_str(pod, "uid"));
        }
    }
    json_decref(list);
    free(path);
    free(esc);
    free(sel);
    return r;
}

/* One eviction attempt: P_WAIT when accepted, P_GONE when the pod is
 * already gone, P_EVICT again (with why set) when a budget refused it now;
 * < 0 on any other error. */
static int evict(cn_client *c, drain_pod *p, cn_err *err)
{
    char *path = cn_client_path("", "v1", p->ns, "pods", p->name, "eviction");
    json_t *body = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "policy/v1", "kind", "Eviction",
                             "metadata", "name", p->name, "namespace", p->ns);
    cn_err e = CN_ERR_INIT;
    int r = cn_client_create(c, path, body, NULL, &e);
    if (r == 0) {
        p->state = P_WAIT;
    } else if (e.code == 404) {
        p->state = P_GONE;
        r = 0;
    } else if (e.code == 429) {
        if (!p->why) cn_info("drain: pod %s/%s: eviction refused, retrying: %s", p->ns, p->name, e.message ? e.message : "429");
        free(p->why);
        p->why = cn_strdup(e.message ? e.message : "the disruption budget does not allow it now");
        r = 0;
    } else {
        cn_err_move(err, &e);
        cn_err_wrap(err, "evict pod %s/%s", p->ns, p->name);
    }
    cn_err_clear(&e);
    json_decref(body);
    free(path);
    return r;
}

/* Whether an evicted pod is gone: not found, or the name now belongs to
 * another pod (a StatefulSet's replacement). */
static int check_gone(cn_client *c, drain_pod *p, cn_err *err)
{
    char *path = cn_client_path("", "v1", p->ns, "pods", p->name, NULL);
    json_t *pod = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_client_get(c, path, &pod, &e);
    if (r == 0 && strcmp(cn_meta_str(pod, "uid"), p->uid)) p->state = P_GONE;
    else if (r < 0 && e.code == 404) p->state = P_GONE, r = 0;
    else if (r < 0) cn_err_move(err, &e);
    if (p->state == P_WAIT) {
        free(p->why);
        p->why = cn_strdup("still terminating");
    }
    cn_err_clear(&e);
    json_decref(pod);
    free(path);
    return r;
}

int cn_bridge_drain(cn_client *cluster, const char *node, int timeout_s, cn_err *err)
{
    drain_pod *pods = NULL;
    size_t n = 0;
    int64_t deadline = cn_now_ms() + (int64_t)(timeout_s > 0 ? timeout_s : 0) * 1000;
    int r = set_unschedulable(cluster, node, true, err);
    if (r < 0) {
        if (r == -ENOENT) cn_err_wrap(err, "drain node %s", node);
        goto out;
    }
    if ((r = list_pods(cluster, node, &pods, &n, err)) < 0) goto out;
    cn_info("drain: node %s cordoned, evicting %zu pods", node, n);
    for (;;) {
        size_t left = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
            if (pods[i].state == P_EVICT) r = evict(cluster, &pods[i], err);
            if (r == 0 && pods[i].state == P_WAIT) r = check_gone(cluster, &pods[i], err);
            if (pods[i].state != P_GONE) left++;
        }
        if (r < 0 || left == 0) break;
        if (cn_now_ms() >= deadline) {
            const drain_pod *p = NULL;
            for (size_t i = 0; i < n && !p; i++)
                if (pods[i].state != P_GONE) p = &pods[i];
            cn_err_set(err, 504, "Timeout", "drain node %s: %zu pods left after %d s, e.g. %s/%s: %s", node, left,
                       timeout_s, p->ns, p->name, p->why ? p->why : "not evicted yet");
            r = -ETIMEDOUT;
            break;
        }
        usleep(DRAIN_POLL_MS * 1000);
    }
    if (r == 0) cn_info("drain: node %s drained", node);
out:
    for (size_t i = 0; i < n; i++) {
        free(pods[i].ns);
        free(pods[i].name);
        free(pods[i].uid);
        free(pods[i].why);
    }
    free(pods);
    return r;
}
