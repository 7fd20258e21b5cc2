/* podworker: one pod's sync — the kubelet's reconcile of what runs on the
 * node against the pod object. Called from the work queue (never two syncs
 * of one pod at once), after any change of the pod, a container's exit, a
 * probe result or a back-off timer. Each call moves the pod on as far as
 * it can without waiting: sandbox and IP, volumes, then init containers in
 * order, then the containers, with restarts after exponential back-off;
 * and for a pod being deleted, SIGTERM, the grace period, SIGKILL, cleanup
 * and the final delete. The status is written when it changed.
 *
 * Locking: k->mu guards every kl_pod field that other threads read (the
 * probe thread, the kubelet endpoint's lookup). A sync holds it except
 * around calls that block (runtime, registry, API, network), where it
 * works on copies. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/kubelet-internal.h"
#include "agent/kubeletsrv.h"
#include "agent/podspec.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/quantity.h"
#include "lib/util.h"

#define RESET_AFTER_MS (600 * 1000)      /* a container that ran this long starts its back-off anew */

char *cn_kl_ctr_id(const char *uid, const char *name, int instance)
{
    return cn_asprintf("%s_%s_%d", uid, name, instance);
}

char *cn_kl_log_path(const cn_kubelet *k, const char *uid, const char *name, int instance)
{
    return cn_asprintf("%s/pods/%s/logs/%s/%d.log", k->data_dir, uid, name, instance);
}

static void ctr_release(kl_ctr *c)
{
    free(c->name);
    free(c->id);
    cn_ctr_status_release(&c->st);
    cn_ctr_status_release(&c->last);
    free(c->reason);
    free(c->message);
    free(c->image_id);
    free(c->image_digest);
    free(c->kill_reason);
}

void cn_kl_pod_free(kl_pod *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nctrs; i++) ctr_release(&p->ctrs[i]);
    free(p->ctrs);
    free(p->uid);
    free(p->ns);
    free(p->name);
    free(p->key);
    free(p->netns);
    free(p->pod_dir);
    json_decref(p->pod);
    json_decref(p->last_status);
    free(p);
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = cn_strdup(v);
}

static void set_waiting(kl_ctr *c, const char *reason, const char *msg)
{
    set_str(&c->reason, reason);
    set_str(&c->message, msg);
}

kl_pod *cn_kl_pod_new(cn_kubelet *k, const json_t *obj)
{
    kl_pod *p = cn_calloc(1, sizeof *p);
    p->uid = cn_strdup(cn_meta_str(obj, "uid"));
    p->ns = cn_strdup(cn_meta_str(obj, "namespace"));
    p->name = cn_strdup(cn_meta_str(obj, "name"));
    p->key = cn_asprintf("%s/%s", p->ns, p->name);
    p->pod_dir = cn_asprintf("%s/pods/%s", k->data_dir, p->uid);
    p->pod = json_incref((json_t *)obj);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *inits = json_object_get(spec, "initContainers"), *ctrs = json_object_get(spec, "containers");
    p->ninit = json_array_size(inits);
    p->nctrs = p->ninit + json_array_size(ctrs);
    p->ctrs = cn_calloc(p->nctrs ? p->nctrs : 1, sizeof *p->ctrs);
    for (size_t i = 0; i < p->nctrs; i++) {
        const json_t *c = i < p->ninit ? json_array_get(inits, i) : json_array_get(ctrs, i - p->ninit);
        p->ctrs[i].name = cn_strdup(json_string_value(json_object_get(c, "name")) ?: "");
        p->ctrs[i].init = i < p->ninit;
        p->ctrs[i].owner = p;
    }
    return p;
}

/* Events need kind and apiVersion, which list items lack. */
void cn_kl_event(cn_kubelet *k, const kl_pod *p, const char *type, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = cn_vasprintf(fmt, ap);
    va_end(ap);
    json_t *ref = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "kind", "Pod", "apiVersion", "v1", "metadata",
                            "name", p->name, "namespace", p->ns, "uid", p->uid);
    cn_recorder_event(k->rec, ref, type, reason, "%s", msg);
    json_decref(ref);
    free(msg);
}

static void podspec_env(cn_kubelet *k, cn_podspec_env *env, const json_t *node)
{
    memset(env, 0, sizeof *env);
    env->fetch = cn_podspec_client_fetch;
    env->token = cn_podspec_client_token;
    env->ud = k->client;
    env->node = node;
    env->host_path_allow = k->cfg.host_path_allow;
    env->nhost_path_allow = k->cfg.nhost_path_allow;
}

/* ---- write the status ---- */

static void write_status(cn_kubelet *k, kl_pod *p)
{
    json_t *st = cn_kl_pod_status(p, k->node_ip, cn_wall_s());
    if (p->last_status && json_equal(st, p->last_status)) {
        json_decref(st);
        return;
    }
    char *path = cn_client_path("", "v1", p->ns, "pods", p->name, "status");
    json_t *body = json_pack("{s:O}", "status", st);
    pthread_mutex_unlock(&k->mu);
    cn_err err = CN_ERR_INIT;
    int r = cn_client_patch(k->client, path, CN_PATCH_MERGE, body, NULL, &err);
    pthread_mutex_lock(&k->mu);
    if (r >= 0 || err.code == 404) {
        json_decref(p->last_status);
        p->last_status = json_incref(st);
    } else {
        cn_warn("agent: status of pod %s: %s", p->key, err.message ? err.message : "failed");
        cn_workqueue_add_after(k->q, p->key, 1000);
    }
    cn_err_clear(&err);
    json_decref(body);
    json_decref(st);
    free(path);
}

/* ---- containers ---- */

/* What the container wrote to its terminationMessagePath (at most 4 KiB,
 * as upstream), or NULL. Called with k->mu held; reads one small file. */
static char *termination_message(cn_kubelet *k, const kl_ctr *c)
{
    (void)k;
    kl_pod *p = c->owner;
    if (!p) return NULL;
    char *path = cn_asprintf("%s/containers/%s/termination-log", p->pod_dir, c->name);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f) return NULL;
    char buf[4097];
    size_t n = fread(buf, 1, 4096, f);
    fclose(f);
    buf[n] = 0;
    return n ? cn_strdup(buf) : NULL;
}

static void refresh(cn_kubelet *k, kl_ctr *c)
{
    /* An ended instance stays ended: no runtime read (nor termination
     * message read) on every later sync. */
    if (!c->created || (c->have_st && c->st.state == CN_CTR_EXITED)) return;
    cn_ctr_status st = { 0 };
    cn_err err = CN_ERR_INIT;
    char *id = cn_strdup(c->id);
    pthread_mutex_unlock(&k->mu);
    int r = cn_ctr_get(k->rt, id, &st, &err);
    pthread_mutex_lock(&k->mu);
    free(id);
    if (r >= 0) {
        if (st.state != CN_CTR_RUNNING && !st.message) st.message = termination_message(k, c);
        cn_ctr_status_release(&c->st);
        c->st = st;
        c->have_st = true;
    } else if (r == -ENOENT && c->have_st && c->st.state == CN_CTR_RUNNING) {
        /* Gone under us (removed by hand): report it as ended. */
        c->st.state = CN_CTR_EXITED;
        c->st.exit_code = 137;
        c->st.finished_ms = cn_wall_s() * 1000;
    }
    cn_err_clear(&err);
}

static int64_t now_wall_ms(void) { return cn_wall_s() * 1000; }

/* The running instance ended and will be started again: remember how it
 * ended and when it may restart. */
static void schedule_restart(cn_kubelet *k, kl_pod *p, kl_ctr *c)
{
    cn_ctr_status_release(&c->last);
    c->last = c->st;
    memset(&c->st, 0, sizeof c->st);
    c->have_last = true;
    c->have_st = false;
    c->created = false;
    c->ready = false;
    c->kill_pending = false;
    c->stopping = false;
    int64_t ran = c->last.finished_ms - c->last.started_ms;
    if (ran >= RESET_AFTER_MS) c->backoff_ms = 0;
    int64_t delay = c->backoff_ms;
    c->backoff_ms = delay ? delay * 2 : k->cfg.backoff_initial_ms;
    if (c->backoff_ms > k->cfg.backoff_max_ms) c->backoff_ms = k->cfg.backoff_max_ms;
    c->retry_at_ms = cn_now_ms() + delay;
    if (delay > 0) {
        char *msg = cn_asprintf("back-off %llds restarting failed container=%s pod=%s_%s(%s)",
                                (long long)(delay / 1000), c->name, p->name, p->ns, p->uid);
        set_waiting(c, "CrashLoopBackOff", msg);
        cn_kl_event(k, p, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", c->name,
              p->name, p->ns, p->uid);
        free(msg);
        cn_workqueue_add_after(k->q, p->key, delay);
    } else {
        set_waiting(c, NULL, NULL);
    }
}

static const char *pull_policy(const json_t *spec, const char *image)
{
    const char *pp = json_string_value(json_object_get(spec, "imagePullPolicy"));
    if (pp && *pp) return pp;
    const char *slash = strrchr(image, '/');
    const char *last = slash ? slash + 1 : image;
    if (strchr(image, '@')) return "IfNotPresent";
    const char *colon = strchr(last, ':');
    return !colon || !strcmp(colon + 1, "latest") ? "Always" : "IfNotPresent";
}

/* The dockerconfigjson texts of the pod's imagePullSecrets (owned array). */
static size_t pull_secrets(cn_kubelet *k, const json_t *pod, char ***out)
{
    const json_t *refs = json_object_get(json_object_get(pod, "spec"), "imagePullSecrets");
    const char *ns = cn_meta_str(pod, "namespace");
    size_t n = 0, i;
    const json_t *ref;
    char **v = cn_calloc(json_array_size(refs) + 1, sizeof *v);
    json_array_foreach(refs, i, ref) {
        const char *name = json_string_value(json_object_get(ref, "name"));
        json_t *sec = NULL;
        cn_err err = CN_ERR_INIT;
        if (name && cn_podspec_client_fetch(k->client, "secrets", ns, name, &sec, &err) >= 0) {
            const json_t *data = json_object_get(sec, "data");
            const char *b = json_string_value(json_object_get(data, ".dockerconfigjson"));
            if (!b) b = json_string_value(json_object_get(data, ".dockercfg"));
            size_t len = 0;
            char *txt = NULL;
            if (b && cn_base64_decode(b, strlen(b), (size_t)1 << 20, &txt, &len) >= 0) v[n++] = txt;
        } else {
            cn_warn("agent: pod %s/%s: image pull secret \"%s\": %s", ns, cn_meta_str(pod, "name"), name ?: "",
                    err.message ? err.message : "unusable");
        }
        cn_err_clear(&err);
        json_decref(sec);
    }
    *out = v;
    return n;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Image for container c: pulled as its policy says. NULL with the waiting
 * reason set when it cannot be had (now). */
static cn_image *get_image(cn_kubelet *k, kl_pod *p, kl_ctr *c, const json_t *spec)
{
    const char *image = json_string_value(json_object_get(spec, "image")) ?: "";
    const char *policy = pull_policy(spec, image);
    int64_t now = cn_now_ms();
    if (c->pull_retry_at_ms > now) {
        char *msg = cn_asprintf("Back-off pulling image \"%s\"", image);
        set_waiting(c, "ImagePullBackOff", msg);
        free(msg);
        cn_workqueue_add_after(k->q, p->key, c->pull_retry_at_ms - now);
        return NULL;
    }
    cn_image *img = NULL;
    cn_err err = CN_ERR_INIT;
    char *ref = cn_strdup(image);
    json_t *pod = json_incref(p->pod);
    pthread_mutex_unlock(&k->mu);
    int r;
    if (!strcmp(policy, "Never")) {
        r = cn_image_get(k->images, ref, &img, &err);
        if (r < 0) {
            cn_err_clear(&err);
            cn_err_set(&err, 400, "ErrImageNeverPull",
                       "Container image \"%s\" is not present with pull policy of Never", ref);
        }
    } else {
        bool if_missing = !strcmp(policy, "IfNotPresent");
        if (if_missing && cn_image_get(k->images, ref, &img, &err) >= 0) {
            r = 0;
            pthread_mutex_lock(&k->mu);
            cn_kl_event(k, p, "Normal", "Pulled", "Container image \"%s\" already present on machine", ref);
            pthread_mutex_unlock(&k->mu);
        } else {
            cn_err_clear(&err);
            char **cfgs = NULL;
            size_t ncfg = pull_secrets(k, pod, &cfgs);
            pthread_mutex_lock(&k->mu);
            cn_kl_event(k, p, "Normal", "Pulling", "Pulling image \"%s\"", ref);
            pthread_mutex_unlock(&k->mu);
            int64_t t0 = cn_now_ms();
            r = cn_image_pull(k->images, ref, (const char *const *)cfgs, ncfg, false, &img, &err);
            free_strv(cfgs, ncfg);
            pthread_mutex_lock(&k->mu);
            if (r >= 0)
                cn_kl_event(k, p, "Normal", "Pulled", "Successfully pulled image \"%s\" in %.3fs", ref,
                      (cn_now_ms() - t0) / 1000.0);
            pthread_mutex_unlock(&k->mu);
        }
    }
    pthread_mutex_lock(&k->mu);
    json_decref(pod);
    if (r < 0) {
        bool never = !strcmp(policy, "Never");
        const char *msg = err.message ? err.message : "failed";
        set_waiting(c, never ? "ErrImageNeverPull" : "ErrImagePull", msg);
        cn_kl_event(k, p, "Warning", "Failed", "%s", msg);
        if (!never) {
            c->pull_backoff_ms = c->pull_backoff_ms ? c->pull_backoff_ms * 2 : k->cfg.backoff_initial_ms;
            if (c->pull_backoff_ms > k->cfg.backoff_max_ms) c->pull_backoff_ms = k->cfg.backoff_max_ms;
            c->pull_retry_at_ms = cn_now_ms() + c->pull_backoff_ms;
            cn_kl_event(k, p, "Normal", "BackOff", "Back-off pulling image \"%s\"", ref);
        }
        cn_workqueue_add_after(k->q, p->key, never ? 10000 : c->pull_backoff_ms);
        img = NULL;
    } else {
        c->pull_backoff_ms = 0;
        c->pull_retry_at_ms = 0;
        set_str(&c->image_id, img->id);
        set_str(&c->image_digest, img->repo_digest ? img->repo_digest : img->id);
    }
    cn_err_clear(&err);
    free(ref);
    return img;
}

static void arm_probes(cn_kubelet *k, kl_pod *p, kl_ctr *c, const json_t *spec)
{
    static const char *const names[KL_NPROBES] = { "startupProbe", "livenessProbe", "readinessProbe" };
    c->gen++;
    memset(c->probe_ok, 0, sizeof c->probe_ok);
    memset(c->probe_fail, 0, sizeof c->probe_fail);
    c->started = !json_object_get(spec, "startupProbe");
    c->ready = !json_object_get(spec, "readinessProbe");
    char *key = cn_asprintf("%s/%s", p->uid, c->name);
    for (int i = 0; i < KL_NPROBES; i++) {
        const json_t *pr = json_object_get(spec, names[i]);
        if (!pr) continue;
        int64_t delay = json_integer_value(json_object_get(pr, "initialDelaySeconds"));
        cn_timerheap_push(&k->probes, cn_now_ms() + delay * 1000, i, 0, c->gen, key);
    }
    free(key);
    pthread_cond_signal(&k->probe_cv);
}

/* Start the next instance of c. Leaves a waiting reason on failure. */
static void start_ctr(cn_kubelet *k, kl_pod *p, kl_ctr *c, const json_t *node)
{
    const json_t *spec = cn_kl_ctr_spec(p->pod, c);
    if (!spec) return;
    cn_image *img = get_image(k, p, c, spec);
    if (!img) return;
    cn_podspec_env env;
    podspec_env(k, &env, node);
    cn_podspec_ctr pc;
    memset(&pc, 0, sizeof pc);
    cn_err err = CN_ERR_INIT;
    json_t *pod = json_incref(p->pod), *cspec = json_incref((json_t *)spec);
    char ip[64];
    memcpy(ip, p->ip, sizeof ip);
    char *pod_dir = cn_strdup(p->pod_dir);
    int instance = c->have_last || c->created ? c->restarts + 1 : c->restarts;
    char *id = cn_kl_ctr_id(p->uid, c->name, instance);
    char *log = cn_kl_log_path(k, p->uid, c->name, instance);
    char *meta = cn_asprintf("{\"namespace\":\"%s\",\"pod\":\"%s\",\"uid\":\"%s\",\"container\":\"%s\",\"instance\":%d}",
                             p->ns, p->name, p->uid, c->name, instance);
    char *uid = cn_strdup(p->uid);
    char *old = instance >= 2 ? cn_kl_ctr_id(p->uid, c->name, instance - 2) : NULL;
    char *oldlog = instance >= 2 ? cn_kl_log_path(k, p->uid, c->name, instance - 2) : NULL;
    pthread_mutex_unlock(&k->mu);

    int r = cn_podspec_container(&env, pod, cspec, img, pod_dir, ip, &pc, &err);
    if (r >= 0) {
        pc.spec.id = id;
        pc.spec.pod = uid;
        pc.spec.log_path = log;
        pc.spec.meta = meta;
        pc.spec.layers = (const char *const *)img->layers;
        pc.spec.nlayers = img->nlayers;
        /* The instance before the previous one is of no more use. */
        if (old) {
            cn_err e2 = CN_ERR_INIT;
            cn_ctr_remove(k->rt, old, &e2);
            cn_err_clear(&e2);
            unlink(oldlog);
        }
        r = cn_ctr_start(k->rt, &pc.spec, &err);
        cn_podspec_ctr_release(&pc);
        pthread_mutex_lock(&k->mu);
        if (c->have_last || c->created) c->restarts = instance;
        c->created = true;
        set_str(&c->id, id);
        c->have_st = false;
        set_waiting(c, NULL, NULL);
        c->stopping = false;
        c->kill_pending = false;
        refresh(k, c);
        if (r < 0) {
            cn_kl_event(k, p, "Warning", "Failed", "Error: %s", err.message ? err.message : "failed to start container");
            if (!c->have_st) {   /* the runtime kept no record: report the failure ourselves */
                c->have_st = true;
                c->st.state = CN_CTR_EXITED;
                c->st.exit_code = 128;
                c->st.finished_ms = now_wall_ms();
                c->st.message = cn_strdup(err.message);
            }
        } else {
            cn_kl_event(k, p, "Normal", "Created", "Created container %s", c->name);
            cn_kl_event(k, p, "Normal", "Started", "Started container %s", c->name);
            arm_probes(k, p, c, spec);
        }
    } else {
        pthread_mutex_lock(&k->mu);
        set_waiting(c, "CreateContainerConfigError", err.message);
        cn_kl_event(k, p, "Warning", "Failed", "Error: %s", err.message ? err.message : "bad container config");
        cn_workqueue_add_after(k->q, p->key, k->cfg.backoff_initial_ms);
    }
    cn_err_clear(&err);
    cn_image_free(img);
    json_decref(pod);
    json_decref(cspec);
    free(pod_dir);
    free(id);
    free(log);
    free(meta);
    free(uid);
    free(old);
    free(oldlog);
}

static int64_t grace_ms(const kl_pod *p)
{
    const json_t *g = json_object_get(json_object_get(p->pod, "metadata"), "deletionGracePeriodSeconds");
    if (!g) g = json_object_get(json_object_get(p->pod, "spec"), "terminationGracePeriodSeconds");
    return g ? json_integer_value(g) * 1000 : 30000;
}

/* Ask c to stop (SIGTERM now, SIGKILL after grace). True while it runs. */
static bool stop_ctr(cn_kubelet *k, kl_pod *p, kl_ctr *c, int64_t grace, const char *why)
{
    refresh(k, c);
    if (!c->created || !c->have_st || c->st.state != CN_CTR_RUNNING) return false;
    int64_t now = cn_now_ms();
    int sig = 0;
    if (!c->stopping) {
        c->stopping = true;
        c->stop_deadline_ms = now + grace;
        sig = grace > 0 ? SIGTERM : SIGKILL;
        cn_kl_event(k, p, "Normal", "Killing", "%s", why);
    } else if (now >= c->stop_deadline_ms) {
        sig = SIGKILL;
    }
    if (sig) {
        char *id = cn_strdup(c->id);
        pthread_mutex_unlock(&k->mu);
        cn_err err = CN_ERR_INIT;
        cn_ctr_signal(k->rt, id, sig, &err);
        cn_err_clear(&err);
        pthread_mutex_lock(&k->mu);
        free(id);
    }
    int64_t left = c->stop_deadline_ms - now;
    cn_workqueue_add_after(k->q, p->key, left > 0 ? left + 50 : 500);
    return true;
}

/* Everything the pod holds on the node goes: containers (all instances),
 * network, sandbox, volumes; logs too when the pod is gone for good. */
static void teardown(cn_kubelet *k, kl_pod *p, bool remove_dir)
{
    char *uid = cn_strdup(p->uid), *dir = cn_strdup(p->pod_dir);
    bool had_net = p->net_ok;
    p->net_ok = false;
    p->sandbox_ok = false;
    p->vols_ok = !remove_dir && p->vols_ok;
    pthread_mutex_unlock(&k->mu);
    cn_err err = CN_ERR_INIT;
    cn_ctr_status *all = NULL;
    size_t n = 0;
    if (cn_ctr_list(k->rt, &all, &n, &err) >= 0) {
        for (size_t i = 0; i < n; i++) {
            if (!all[i].pod || strcmp(all[i].pod, uid)) continue;
            if (all[i].state == CN_CTR_RUNNING) cn_ctr_stop(k->rt, all[i].id, 0, &err);
            cn_err_clear(&err);
            if (remove_dir) cn_ctr_remove(k->rt, all[i].id, &err);
            cn_err_clear(&err);
        }
        cn_ctr_list_free(all, n);
    }
    cn_err_clear(&err);
    if (k->net) {
        if (had_net || remove_dir) cn_podnet_detach(k->net, uid, &err);
        cn_err_clear(&err);
        cn_podnet_ip_release(k->net, uid);
    }
    cn_sandbox_remove(k->rt, uid, &err);
    cn_err_clear(&err);
    if (remove_dir) {
        cn_volumes_teardown(dir, &err);
        cn_err_clear(&err);
        cn_rm_rf(dir);
    }
    pthread_mutex_lock(&k->mu);
    free(uid);
    free(dir);
}

/* Pod being deleted: stop everything, clean up, then the final delete. */
static void terminate(cn_kubelet *k, kl_pod *p)
{
    bool running = false;
    int64_t grace = grace_ms(p);
    for (size_t i = 0; i < p->nctrs; i++) {
        char *why = cn_asprintf("Stopping container %s", p->ctrs[i].name);
        running |= stop_ctr(k, p, &p->ctrs[i], grace, why);
        free(why);
    }
    if (running) return;
    write_status(k, p);
    teardown(k, p, true);
    char *path = cn_client_path("", "v1", p->ns, "pods", p->name, NULL);
    json_t *opts = json_pack("{s:I,s:{s:s}}", "gracePeriodSeconds", (json_int_t)0, "preconditions", "uid", p->uid);
    pthread_mutex_unlock(&k->mu);
    cn_err err = CN_ERR_INIT;
    int r = cn_client_delete(k->client, path, opts, NULL, &err);
    pthread_mutex_lock(&k->mu);
    if (r < 0 && err.code != 404 && err.code != 409) {
        cn_warn("agent: deleting pod %s: %s", p->key, err.message ? err.message : "failed");
        cn_workqueue_add_after(k->q, p->key, 1000);
    }
    cn_err_clear(&err);
    json_decref(opts);
    free(path);
}

/* Sandbox, IP and volumes; false (with the reason recorded) until ready. */
static bool prepare(cn_kubelet *k, kl_pod *p, const json_t *node)
{
    cn_err err = CN_ERR_INIT;
    if (!p->sandbox_ok || !p->net_ok) {
        if (!k->net) {
            cn_workqueue_add_after(k->q, p->key, 1000);   /* no podCIDR yet */
            return false;
        }
        const char *hn = cn_json_str_at(p->pod, "spec.hostname");
        char *hostname = cn_strdup(hn && *hn ? hn : p->name);
        if (strlen(hostname) > 63) hostname[63] = 0;
        char *uid = cn_strdup(p->uid);
        char *netns = NULL;
        char ip[64] = "";
        pthread_mutex_unlock(&k->mu);
        int r = cn_sandbox_create(k->rt, uid, hostname, &netns, &err);
        if (r >= 0) r = cn_podnet_ip_alloc(k->net, uid, ip, &err);
        if (r >= 0) r = cn_podnet_attach(k->net, netns, uid, ip, &err);
        pthread_mutex_lock(&k->mu);
        free(hostname);
        free(uid);
        if (r < 0) {
            cn_kl_event(k, p, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: %s",
                  err.message ? err.message : "failed");
            cn_err_clear(&err);
            free(netns);
            cn_workqueue_add_rate_limited(k->q, p->key);
            return false;
        }
        free(p->netns);
        p->netns = netns;
        memcpy(p->ip, ip, sizeof p->ip);
        p->sandbox_ok = p->net_ok = true;
        if (!p->start_s) p->start_s = cn_wall_s();
    }
    if (!p->vols_ok || cn_now_ms() - p->vols_at_ms > 60000) {
        cn_podspec_env env;
        podspec_env(k, &env, node);
        json_t *pod = json_incref(p->pod);
        char *dir = cn_strdup(p->pod_dir);
        pthread_mutex_unlock(&k->mu);
        int r = cn_volumes_setup(&env, pod, dir, &err);
        pthread_mutex_lock(&k->mu);
        json_decref(pod);
        free(dir);
        p->vols_at_ms = cn_now_ms();
        if (r < 0) {
            cn_kl_event(k, p, "Warning", "FailedMount", "%s", err.message ? err.message : "volume setup failed");
            cn_err_clear(&err);
            if (!p->vols_ok) {
                cn_workqueue_add_after(k->q, p->key, k->cfg.backoff_initial_ms);
                return false;
            }
        } else {
            p->vols_ok = true;
        }
        cn_workqueue_add_after(k->q, p->key, 60000);
    }
    return true;
}

/* Move one container on: returns true when it is running or done (the
 * caller may go to the next init container). */
static bool drive(cn_kubelet *k, kl_pod *p, kl_ctr *c, const json_t *node)
{
    const char *policy = cn_kl_restart_policy(p->pod);
    refresh(k, c);
    if (c->created && c->have_st && c->st.state == CN_CTR_RUNNING) {
        if (c->kill_pending) {
            stop_ctr(k, p, c, grace_ms(p), c->kill_reason ? c->kill_reason : "Container will be restarted");
            return false;
        }
        return !c->init;
    }
    if (c->created && c->have_st) {
        /* It ended. */
        if (c->init && c->st.exit_code == 0) return true;
        bool again = c->kill_pending || cn_kl_should_restart(c->init && !strcmp(policy, "Always") ? "OnFailure" : policy,
                                                          c->st.exit_code);
        if (!again) return !c->init;
        schedule_restart(k, p, c);
    }
    if (!c->created) {
        int64_t now = cn_now_ms();
        if (c->retry_at_ms > now) {
            cn_workqueue_add_after(k->q, p->key, c->retry_at_ms - now);
            return false;
        }
        start_ctr(k, p, c, node);
        return c->created && !c->init && c->have_st;
    }
    return false;
}

static void run(cn_kubelet *k, kl_pod *p)
{
    json_t *node = cn_informer_get(k->nodes, NULL, k->node_name);
    if (!prepare(k, p, node)) goto out;
    size_t i = 0;
    for (; i < p->ninit; i++) {
        kl_ctr *c = &p->ctrs[i];
        if (!drive(k, p, c, node)) break;
        /* Running init containers are waited for; ended ones went on. */
        if (!(c->created && c->have_st && c->st.state != CN_CTR_RUNNING && c->st.exit_code == 0)) break;
    }
    if (i == p->ninit) {
        for (size_t j = p->ninit; j < p->nctrs; j++) drive(k, p, &p->ctrs[j], node);
    } else if (p->ninit) {
        /* Not initialised yet: the containers wait. */
        for (size_t j = p->ninit; j < p->nctrs; j++)
            if (!p->ctrs[j].created && !p->ctrs[j].reason) set_waiting(&p->ctrs[j], "PodInitializing", NULL);
    }
    const char *phase = cn_kl_pod_phase(p);
    if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) {
        /* Done for good: what it held on the network goes now; the
         * containers and logs stay for `kubectl logs` until deletion. */
        p->finished = true;
        write_status(k, p);
        teardown(k, p, false);
        goto out;
    }
out:
    json_decref(node);
}

/* ---- admission: what the scheduler would have refused ---- */

/* The pod's request of one resource as the scheduler counts it: the larger
 * of the biggest init container and the sum of the containers. */
static int64_t pod_request(const json_t *pod, const char *res, bool milli)
{
    const json_t *spec = json_object_get(pod, "spec");
    int64_t sum = 0, init_max = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, pass ? "initContainers" : "containers"), i, c) {
            const char *q = json_string_value(json_object_get(
                json_object_get(json_object_get(c, "resources"), "requests"), res));
            int64_t v = 0;
            if (q && (milli ? cn_quantity_milli(q, &v) : cn_quantity_value(q, &v)) < 0) v = 0;
            if (pass) init_max = v > init_max ? v : init_max;
            else sum += v;
        }
    }
    return sum > init_max ? sum : init_max;
}

struct used { const char *self; const char *res; bool milli; int64_t total; };

static bool add_used(void *ud, const char *key, void *val)
{
    (void)key;
    struct used *u = ud;
    kl_pod *q = val;
    if (q->finished || q->terminating || !strcmp(q->uid, u->self)) return true;
    u->total += pod_request(q->pod, u->res, u->milli);
    return true;
}

/* Like the kubelet's admission: a pod bound here (by hand, or racing
 * another) that does not fit what is left of allocatable fails at once
 * with upstream's OutOfcpu/OutOfmemory, instead of overcommitting. */
static bool admit(cn_kubelet *k, kl_pod *p, const json_t *node)
{
    static const struct { const char *res, *reason; bool milli; } rs[] = {
        { "cpu", "OutOfcpu", true }, { "memory", "OutOfmemory", false },
    };
    const json_t *alloc = json_object_get(json_object_get(node, "status"), "allocatable");
    for (size_t i = 0; i < 2; i++) {
        const char *cap_s = json_string_value(json_object_get(alloc, rs[i].res));
        int64_t cap = 0, want = pod_request(p->pod, rs[i].res, rs[i].milli);
        if (!cap_s || !want || (rs[i].milli ? cn_quantity_milli(cap_s, &cap) : cn_quantity_value(cap_s, &cap)) < 0)
            continue;
        struct used u = { .self = p->uid, .res = rs[i].res, .milli = rs[i].milli };
        cn_strmap_foreach(k->by_uid, add_used, &u);
        if (u.total + want <= cap) continue;
        char *msg = cn_asprintf("Pod was rejected: Node didn't have enough resource: %s, requested: %lld, used: %lld, capacity: %lld",
                                rs[i].res, (long long)want, (long long)u.total, (long long)cap);
        json_t *st = json_pack("{s:s,s:s,s:s}", "phase", "Failed", "reason", rs[i].reason, "message", msg);
        json_t *body = json_pack("{s:o}", "status", st);
        char *path = cn_client_path("", "v1", p->ns, "pods", p->name, "status");
        cn_kl_event(k, p, "Warning", rs[i].reason, "%s", msg);
        p->finished = true;
        pthread_mutex_unlock(&k->mu);
        cn_err err = CN_ERR_INIT;
        if (cn_client_patch(k->client, path, CN_PATCH_MERGE, body, NULL, &err) < 0)
            cn_warn("agent: rejecting pod %s: %s", p->key, err.message ? err.message : "failed");
        cn_err_clear(&err);
        pthread_mutex_lock(&k->mu);
        free(path);
        json_decref(body);
        free(msg);
        return false;
    }
    return true;
}

void cn_kl_sync(cn_kubelet *k, const char *key)
{
    char ns[254], name[254];
    if (!cn_key_split(key, ns, name)) return;
    json_t *obj = cn_informer_get(k->pods, ns, name);
    pthread_mutex_lock(&k->mu);
    const char *uid = cn_strmap_get(k->by_key, key);
    const char *obj_uid = obj ? cn_meta_str(obj, "uid") : NULL;
    kl_pod *old = uid && (!obj_uid || strcmp(uid, obj_uid)) ? cn_strmap_get(k->by_uid, uid) : NULL;
    if (old) {
        /* Deleted from the API (or replaced by a pod of the same name). */
        cn_info("agent: pod %s (uid %s) is gone: cleaning up", key, old->uid);
        for (size_t i = 0; i < old->nctrs; i++) old->ctrs[i].kill_pending = false;
        teardown(k, old, true);
        cn_strmap_del(k->by_uid, old->uid);
        free(cn_strmap_del(k->by_key, key));
        cn_kl_pod_free(old);
    }
    if (!obj) goto out;
    kl_pod *p = cn_strmap_get(k->by_uid, obj_uid);
    if (!p) {
        p = cn_kl_pod_new(k, obj);
        cn_strmap_put(k->by_uid, p->uid, p);
        free(cn_strmap_put(k->by_key, key, cn_strdup(p->uid)));
        const char *phase = cn_json_str_at(obj, "status.phase");
        bool done = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
        json_t *node = cn_informer_get(k->nodes, NULL, k->node_name);
        if (done) p->finished = true;   /* ended before (and its containers are gone) */
        else if (!json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp")) admit(k, p, node);
        json_decref(node);
    } else {
        json_decref(p->pod);
        p->pod = json_incref(obj);
    }
    if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp")) {
        p->terminating = true;
        terminate(k, p);
    } else if (!p->finished) {
        run(k, p);
        write_status(k, p);
    }
out:
    pthread_mutex_unlock(&k->mu);
    json_decref(obj);
}

/* ---- adoption ---- */

/* "<uid>_<name>_<n>" -> name and n, for containers of uid. */
static bool parse_id(const char *id, const char *uid, char name[254], int *n)
{
    size_t ul = strlen(uid);
    if (strncmp(id, uid, ul) || id[ul] != '_') return false;
    const char *rest = id + ul + 1, *us = strrchr(rest, '_');
    if (!us || (size_t)(us - rest) >= 254) return false;
    int64_t v;
    if (cn_parse_int64(us + 1, &v) < 0 || v < 0 || v > 1000000) return false;
    memcpy(name, rest, (size_t)(us - rest));
    name[us - rest] = 0;
    *n = (int)v;
    return true;
}

static void copy_status(cn_ctr_status *dst, const cn_ctr_status *src)
{
    *dst = *src;
    dst->id = cn_strdup(src->id);
    dst->pod = cn_strdup(src->pod);
    dst->meta = cn_strdup(src->meta);
    dst->message = cn_strdup(src->message);
}

void cn_kl_adopt(cn_kubelet *k, kl_pod *p, const cn_ctr_status *all, size_t n)
{
    for (size_t j = 0; j < p->nctrs; j++) {
        kl_ctr *c = &p->ctrs[j];
        int best = -1, prev = -1;
        const cn_ctr_status *bst = NULL, *pst = NULL;
        for (size_t i = 0; i < n; i++) {
            char name[254];
            int inst;
            if (!all[i].id || !parse_id(all[i].id, p->uid, name, &inst) || strcmp(name, c->name)) continue;
            if (inst > best) {
                prev = best;
                pst = bst;
                best = inst;
                bst = &all[i];
            } else if (inst > prev) {
                prev = inst;
                pst = &all[i];
            }
        }
        if (!bst) continue;
        c->created = true;
        c->restarts = best;
        set_str(&c->id, bst->id);
        copy_status(&c->st, bst);
        c->have_st = true;
        if (pst && prev == best - 1) {
            copy_status(&c->last, pst);
            c->have_last = true;
        }
        if (bst->state == CN_CTR_RUNNING) {
            const json_t *spec = cn_kl_ctr_spec(p->pod, c);
            if (spec) arm_probes(k, p, c, spec);
        }
    }
    if (p->nctrs) {
        /* Its sandbox and IP exist already: attach is idempotent. */
        p->start_s = cn_wall_s();
        const char *st = cn_json_str_at(p->pod, "status.startTime");
        int64_t s;
        if (st && cn_time_parse(st, &s) >= 0) p->start_s = s;
    }
}

/* ---- the kubelet endpoint's view ---- */

int cn_kl_lookup(void *ud, const char *ns, const char *pod, const char *container, cn_kubeletsrv_target *out,
              cn_err *err)
{
    cn_kubelet *k = ud;
    memset(out, 0, sizeof *out);
    char *key = cn_asprintf("%s/%s", ns, pod);
    int r = 0;
    pthread_mutex_lock(&k->mu);
    const char *uid = cn_strmap_get(k->by_key, key);
    kl_pod *p = uid ? cn_strmap_get(k->by_uid, uid) : NULL;
    if (!p) {
        r = cn_err_set(err, 404, "NotFound", "pods \"%s\" not found", pod);
        goto out;
    }
    out->netns_path = cn_strdup(p->netns);
    if (!container) goto out;
    kl_ctr *c = NULL;
    if (!*container) {
        const char *def = json_string_value(json_object_get(json_object_get(json_object_get(p->pod, "metadata"), "annotations"),
                                                            "kubectl.kubernetes.io/default-container"));
        for (size_t i = p->ninit; i < p->nctrs && !c; i++)
            if (!def || !strcmp(p->ctrs[i].name, def)) c = &p->ctrs[i];
    } else {
        for (size_t i = 0; i < p->nctrs && !c; i++)
            if (!strcmp(p->ctrs[i].name, container)) c = &p->ctrs[i];
    }
    if (!c) {
        r = cn_err_set(err, 400, "BadRequest", "container \"%s\" in pod \"%s\" is not valid", container, pod);
        goto out;
    }
    bool running = c->created && c->have_st && c->st.state == CN_CTR_RUNNING;
    if (running) out->ctr_id = cn_strdup(c->id);
    out->running = running;
    if (c->created) {
        out->log_path = cn_kl_log_path(k, p->uid, c->name, c->restarts);
        if (c->restarts > 0) out->prev_log_path = cn_kl_log_path(k, p->uid, c->name, c->restarts - 1);
    } else if (c->have_last) {
        /* Waiting to restart: both the current and the previous log are
         * the instance that ended, as upstream (lastState's container). */
        out->log_path = cn_kl_log_path(k, p->uid, c->name, c->restarts);
        out->prev_log_path = cn_kl_log_path(k, p->uid, c->name, c->restarts);
    } else {
        const char *why = c->reason ? c->reason : c->init ? "PodInitializing" : "ContainerCreating";
        if (!strcmp(why, "ErrImagePull")) why = "image can't be pulled";
        else if (!strcmp(why, "ImagePullBackOff")) why = "trying and failing to pull image";
        r = cn_err_bad_request(err, "container \"%s\" in pod \"%s\" is waiting to start: %s", c->name, pod, why);
    }
out:
    if (r < 0) cn_kubeletsrv_target_release(out);
    pthread_mutex_unlock(&k->mu);
    free(key);
    return r;
}
