/* host: the host agent's loops (see host.h): registration, the heartbeat
 * thread (with self-fencing), and the reconcile loop that turns the
 * VirtualMachines assigned to this host into running sandboxes (vm.c). */
#define _GNU_SOURCE
#include "host/host.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/informer.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/util.h"

#define GROUP "fleet.cairn.io"
#define VERSION "v1"
#define FINALIZER "fleet.cairn.io/vm"
#define SECRET_NS "fleet-system"
#define RETRY_MS 5000          /* a VM that failed to start is tried again after this */
#define SECRET_MAX (1 << 20)

typedef struct vmrun {
    char *name;
    pid_t pid;                 /* its VM init; 0 when not running */
    char phase[16];
    char *message;
    int64_t started_s;         /* wall clock */
    int64_t retry_at;          /* monotonic ms */
} vmrun;

typedef struct host {
    const cn_host_config *cfg;
    cn_client *c;
    cn_informer *inf;
    volatile int *stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool kick;
    vmrun *vms;                /* under mu: the heartbeat reads it */
    size_t nvms;
    bool fenced;               /* under mu */
    int64_t last_hb_ok;        /* under mu: monotonic ms of the last heartbeat that went through */
    bool need_relist;          /* under mu */
} host;

/* ---- small helpers ---- */

static void now_rfc3339_ms(char out[40])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The value at a dotted path of obj, or NULL (borrowed). */
static json_t *at(const json_t *obj, const char *dotted)
{
    json_t *v = (json_t *)obj;
    const char *p = dotted;
    while (v && *p) {
        size_t n = strcspn(p, ".");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        v = json_object_get(v, key);
        p += n + (p[n] == '.');
    }
    return v;
}

static void kick(host *h)
{
    pthread_mutex_lock(&h->mu);
    h->kick = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void on_add(void *ud, const json_t *o) { (void)o; kick(ud); }
static void on_update(void *ud, const json_t *a, const json_t *b) { (void)a; (void)b; kick(ud); }

static char *host_path(const host *h, const char *sub)
{
    return cn_client_path(GROUP, VERSION, NULL, "hosts", h->cfg->name, sub);
}

static vmrun *find_run(host *h, const char *name)
{
    for (size_t i = 0; i < h->nvms; i++)
        if (!strcmp(h->vms[i].name, name)) return &h->vms[i];
    return NULL;
}

static vmrun *add_run(host *h, const char *name)
{
    pthread_mutex_lock(&h->mu);
    h->vms = cn_realloc(h->vms, (h->nvms + 1) * sizeof *h->vms);
    vmrun *r = &h->vms[h->nvms++];
    memset(r, 0, sizeof *r);
    r->name = cn_strdup(name);
    snprintf(r->phase, sizeof r->phase, "Pending");
    pthread_mutex_unlock(&h->mu);
    return r;
}

static void drop_run(host *h, vmrun *r)
{
    pthread_mutex_lock(&h->mu);
    free(r->name);
    free(r->message);
    size_t i = (size_t)(r - h->vms);
    memmove(r, r + 1, (h->nvms - i - 1) * sizeof *r);
    h->nvms--;
    pthread_mutex_unlock(&h->mu);
}

static void set_phase(host *h, vmrun *r, const char *phase, const char *msg)
{
    pthread_mutex_lock(&h->mu);
    snprintf(r->phase, sizeof r->phase, "%s", phase);
    free(r->message);
    r->message = cn_strdup(msg ? msg : "");
    pthread_mutex_unlock(&h->mu);
}

/* ---- registration and heartbeat ---- */

static json_t *host_spec(const cn_host_config *cfg)
{
    return json_pack("{s:s, s:{s:I, s:s, s:s, s:I}}", "address", cfg->address ? cfg->address : "",
                     "capacity", "cpu", (json_int_t)cfg->cpu, "memory", cfg->memory,
                     "storage", cfg->storage_capacity, "gpus", (json_int_t)cfg->gpus);
}

/* Create the Host, or update its spec (address, capacity) keeping what
 * users set (maintenance). */
static int register_host(host *h, cn_err *err)
{
    char *path = host_path(h, NULL);
    json_t *spec = host_spec(h->cfg);
    int rc = cn_client_get(h->c, path, NULL, err);
    if (rc == 0) {
        json_t *patch = json_pack("{s:O}", "spec", spec);
        rc = cn_client_patch(h->c, path, CN_PATCH_MERGE, patch, NULL, err);
        json_decref(patch);
    } else if (err->code == 404) {
        cn_err_clear(err);
        char *coll = cn_client_path(GROUP, VERSION, NULL, "hosts", NULL, NULL);
        json_t *obj = json_pack("{s:s, s:s, s:{s:s}, s:O}", "apiVersion", GROUP "/" VERSION, "kind", "Host",
                                "metadata", "name", h->cfg->name, "spec", spec);
        rc = cn_client_create(h->c, coll, obj, NULL, err);
        json_decref(obj);
        free(coll);
    }
    json_decref(spec);
    free(path);
    return rc;
}

static int heartbeat(host *h, cn_err *err)
{
    char ts[40];
    now_rfc3339_ms(ts);
    json_t *vms = json_array();
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->nvms; i++)
        if (h->vms[i].pid > 0)
            json_array_append_new(vms, json_pack("{s:s, s:s, s:i}", "name", h->vms[i].name, "phase",
                                                 h->vms[i].phase, "pid", (int)h->vms[i].pid));
    pthread_mutex_unlock(&h->mu);
    json_t *patch = json_pack("{s:{s:s, s:o}}", "status", "lastHeartbeatTime", ts, "vms", vms);
    char *path = host_path(h, "status");
    int rc = cn_client_patch(h->c, path, CN_PATCH_MERGE, patch, NULL, err);
    if (rc < 0 && err->code == 404) {
        /* Someone deleted the Host: register again. */
        cn_err_clear(err);
        if ((rc = register_host(h, err)) == 0) rc = cn_client_patch(h->c, path, CN_PATCH_MERGE, patch, NULL, err);
    }
    json_decref(patch);
    free(path);
    return rc;
}

static void *heartbeat_main(void *arg)
{
    host *h = arg;
    while (!*h->stop) {
        cn_err err = CN_ERR_INIT;
        int64_t t0 = cn_now_ms();
        if (heartbeat(h, &err) == 0) {
            pthread_mutex_lock(&h->mu);
            h->last_hb_ok = cn_now_ms();
            if (h->fenced) {
                cn_info("host %s: heartbeats go through again; lifting the fence", h->cfg->name);
                h->fenced = false;
                h->need_relist = true;
                h->kick = true;
                pthread_cond_signal(&h->cv);
            }
            pthread_mutex_unlock(&h->mu);
        } else {
            cn_warn("host %s: heartbeat failed: %s", h->cfg->name, err.message ? err.message : "?");
        }
        cn_err_clear(&err);
        int64_t left = h->cfg->heartbeat_ms - (cn_now_ms() - t0);
        while (left > 0 && !*h->stop) {
            int64_t step = left > 200 ? 200 : left;
            struct timespec ts = { step / 1000, (long)(step % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            left -= step;
        }
    }
    return NULL;
}

/* ---- VM objects ---- */

static int read_pki(host *h, const json_t *vm, cn_vm_pki *out, cn_err *err)
{
    const char *sec = cn_json_str_at(vm, "spec.pkiSecret");
    if (!*sec) return cn_err_bad_request(err, "spec.pkiSecret is empty");
    char *path = cn_client_path("", "v1", SECRET_NS, "secrets", sec, NULL);
    json_t *obj = NULL;
    int rc = cn_client_get(h->c, path, &obj, err);
    free(path);
    if (rc < 0) {
        cn_err_wrap(err, "reading Secret %s/%s", SECRET_NS, sec);
        return rc;
    }
    static const char *const keys[] = { "ca.crt", "ca.key", "sa.key", "sa.pub", "token" };
    char **dst[] = { &out->ca_crt, &out->ca_key, &out->sa_key, &out->sa_pub, &out->token };
    json_t *data = json_object_get(obj, "data");
    for (size_t i = 0; i < 5; i++) {
        const char *b = json_string_value(json_object_get(data, keys[i]));
        size_t n;
        if (b && cn_base64_decode(b, strlen(b), SECRET_MAX, dst[i], &n) < 0) {
            rc = cn_err_bad_request(err, "Secret %s/%s: %s is not base64", SECRET_NS, sec, keys[i]);
            break;
        }
    }
    if (out->token) out->token[strcspn(out->token, "\r\n")] = 0;
    json_decref(obj);
    return rc;
}

static bool has_finalizer(const json_t *vm)
{
    size_t i;
    json_t *f;
    json_array_foreach(at(vm, "metadata.finalizers"), i, f)
        if (json_is_string(f) && !strcmp(json_string_value(f), FINALIZER)) return true;
    return false;
}

static void remove_finalizer(host *h, const json_t *vm)
{
    json_t *keep = json_array(), *f;
    size_t i;
    json_array_foreach(at(vm, "metadata.finalizers"), i, f)
        if (!json_is_string(f) || strcmp(json_string_value(f), FINALIZER)) json_array_append(keep, f);
    json_t *patch = json_pack("{s:{s:o, s:s}}", "metadata", "finalizers", keep, "resourceVersion",
                              cn_meta_str(vm, "resourceVersion"));
    char *path = cn_client_path(GROUP, VERSION, NULL, "virtualmachines", cn_meta_str(vm, "name"), NULL);
    cn_err err = CN_ERR_INIT;
    if (cn_client_patch(h->c, path, CN_PATCH_MERGE, patch, NULL, &err) < 0 && err.code != 404)
        cn_warn("host %s: removing the finalizer of vm %s: %s", h->cfg->name, cn_meta_str(vm, "name"),
                err.message ? err.message : "?");
    else
        cn_info("host %s: vm %s deleted (disk removed)", h->cfg->name, cn_meta_str(vm, "name"));
    cn_err_clear(&err);
    json_decref(patch);
    free(path);
}

/* Write the VM's status when it differs from what the object says. */
static void report(host *h, const json_t *vm, const vmrun *r)
{
    char started[32] = "";
    if (r->started_s) cn_time_rfc3339(r->started_s, started);
    const char *msg = r->message ? r->message : "";
    if (!strcmp(cn_json_str_at(vm, "status.phase"), r->phase) &&
        !strcmp(cn_json_str_at(vm, "status.host"), h->cfg->name) &&
        !strcmp(cn_json_str_at(vm, "status.message"), msg) &&
        !strcmp(cn_json_str_at(vm, "status.startedAt"), started))
        return;
    json_t *st = json_pack("{s:s, s:s, s:s}", "phase", r->phase, "host", h->cfg->name, "message", msg);
    json_object_set_new(st, "startedAt", r->started_s ? json_string(started) : json_null());
    json_t *patch = json_pack("{s:o}", "status", st);
    char *path = cn_client_path(GROUP, VERSION, NULL, "virtualmachines", cn_meta_str(vm, "name"), "status");
    cn_err err = CN_ERR_INIT;
    if (cn_client_patch(h->c, path, CN_PATCH_MERGE, patch, NULL, &err) < 0 && err.code != 404)
        cn_warn("host %s: status of vm %s: %s", h->cfg->name, cn_meta_str(vm, "name"), err.message ? err.message : "?");
    cn_err_clear(&err);
    json_decref(patch);
    free(path);
}

static void stop_run(host *h, vmrun *r, const char *why)
{
    if (r->pid > 0 || why) cn_info("host %s: stopping vm %s (%s)", h->cfg->name, r->name, why ? why : "stopped");
    cn_vm_stop(&h->cfg->vm, r->name, r->pid);
    pthread_mutex_lock(&h->mu);
    r->pid = 0;
    r->started_s = 0;
    pthread_mutex_unlock(&h->mu);
}

static void start_run(host *h, const json_t *vm, vmrun *r)
{
    cn_err err = CN_ERR_INIT;
    cn_vm_pki pki = { 0 };
    pid_t pid = 0;
    set_phase(h, r, "Starting", "");
    report(h, vm, r);
    int rc = read_pki(h, vm, &pki, &err);
    if (rc == 0) rc = cn_vm_start(&h->cfg->vm, vm, &pki, &pid, &err);
    cn_vm_pki_release(&pki);
    if (rc < 0) {
        cn_warn("host %s: vm %s failed to start: %s", h->cfg->name, r->name, err.message ? err.message : "?");
        set_phase(h, r, "Failed", err.message);
        r->retry_at = cn_now_ms() + RETRY_MS;
    } else {
        cn_info("host %s: vm %s started (init pid %d)", h->cfg->name, r->name, (int)pid);
        pthread_mutex_lock(&h->mu);
        r->pid = pid;
        r->started_s = cn_wall_s();
        pthread_mutex_unlock(&h->mu);
        set_phase(h, r, "Running", "");
    }
    cn_err_clear(&err);
}

/* One VM object against what runs here. */
static void reconcile_vm(host *h, const json_t *vm)
{
    const char *name = cn_meta_str(vm, "name");
    bool mine = !strcmp(cn_json_str_at(vm, "spec.host"), h->cfg->name);
    bool deleting = *cn_meta_str(vm, "deletionTimestamp") != 0;
    bool running = json_is_true(at(vm, "spec.running"));
    vmrun *r = find_run(h, name);

    if (r && r->pid > 0 && !cn_vm_alive(r->pid)) {
        cn_warn("host %s: the init of vm %s exited; starting it again", h->cfg->name, name);
        stop_run(h, r, "its init exited");
        set_phase(h, r, "Failed", "the VM init exited; restarting");
        r->retry_at = cn_now_ms() + RETRY_MS;
    }
    if (!mine) {
        /* Moved away (failover, rebalancing) or never here: the new host
         * reports its status. */
        if (r) {
            stop_run(h, r, "assigned to another host");
            drop_run(h, r);
        }
        return;
    }
    if (deleting) {
        if (r) {
            stop_run(h, r, "deleted");
            drop_run(h, r);
        } else {
            cn_vm_stop(&h->cfg->vm, name, 0);
        }
        if (has_finalizer(vm)) {
            int rc = cn_vm_remove_disk(&h->cfg->vm, name);
            if (rc < 0) cn_warn("host %s: removing the disk of vm %s: %s", h->cfg->name, name, strerror(-rc));
            else remove_finalizer(h, vm);
        }
        return;
    }
    if (!r) r = add_run(h, name);
    if (running && r->pid == 0 && cn_now_ms() >= r->retry_at) start_run(h, vm, r);
    else if (!running && r->pid > 0) {
        stop_run(h, r, "spec.running is false");
        set_phase(h, r, "Stopped", "");
    } else if (!running && strcmp(r->phase, "Stopped") != 0) {
        set_phase(h, r, "Stopped", "");
    }
    report(h, vm, r);
}

static bool collect(void *ud, const json_t *obj)
{
    json_array_append(ud, (json_t *)obj);
    return true;
}

static json_t *list_vms(host *h, cn_err *err)
{
    char *path = cn_client_path(GROUP, VERSION, NULL, "virtualmachines", NULL, NULL);
    json_t *out = NULL, *items = NULL;
    if (cn_client_get(h->c, path, &out, err) == 0) items = json_incref(json_object_get(out, "items"));
    json_decref(out);
    free(path);
    return items;
}

static bool in_list(const json_t *items, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
        if (!strcmp(cn_meta_str(o, "name"), name)) return true;
    return false;
}

static void reconcile_all(host *h, const json_t *items)
{
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o) reconcile_vm(h, o);
    /* Running here but gone from the API (deleted without our finalizer). */
    for (size_t k = 0; k < h->nvms;) {
        if (!in_list(items, h->vms[k].name)) {
            stop_run(h, &h->vms[k], "its VirtualMachine is gone");
            drop_run(h, &h->vms[k]);
        } else {
            k++;
        }
    }
}

/* At start: adopt the VM inits of an earlier run that are still assigned
 * here; stop everything else of this host; remove the disks of VMs that
 * no longer exist (only with a list in hand). */
static void startup(host *h, const json_t *items)
{
    size_t n;
    char **local = cn_vm_local_list(&h->cfg->vm, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *vm = NULL, *o;
        size_t k;
        json_array_foreach(items, k, o)
            if (!strcmp(cn_meta_str(o, "name"), local[i])) vm = o;
        pid_t pid = cn_vm_find(&h->cfg->vm, local[i]);
        bool keep = vm && !strcmp(cn_json_str_at(vm, "spec.host"), h->cfg->name) &&
                    json_is_true(at(vm, "spec.running")) && !*cn_meta_str(vm, "deletionTimestamp");
        if (keep && pid > 0) {
            cn_info("host %s: adopting vm %s (init pid %d)", h->cfg->name, local[i], (int)pid);
            vmrun *r = add_run(h, local[i]);
            r->pid = pid;
            int64_t t = 0;
            r->started_s = cn_time_parse(cn_json_str_at(vm, "status.startedAt"), &t) == 0 ? t : cn_wall_s();
            set_phase(h, r, "Running", "");
        } else {
            cn_info("host %s: cleaning up leftover vm %s", h->cfg->name, local[i]);
            cn_vm_stop(&h->cfg->vm, local[i], pid);
        }
        free(local[i]);
    }
    free(local);
    char *vms = cn_asprintf("%s/vms", h->cfg->vm.storage);
    DIR *d = opendir(vms);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || in_list(items, e->d_name)) continue;
        cn_info("host %s: removing the disk of vm %s, which no longer exists", h->cfg->name, e->d_name);
        cn_vm_remove_disk(&h->cfg->vm, e->d_name);
    }
    if (d) closedir(d);
    free(vms);
}

static void wait_kick(host *h, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    while (!h->kick && !*h->stop)
        if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0) break;
    h->kick = false;
    pthread_mutex_unlock(&h->mu);
}

static void sleep_unless_stopped(volatile int *stop, int ms)
{
    for (int i = 0; i < ms / 100 && !*stop; i++) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

int cn_host_run(const cn_host_config *cfg, volatile int *stop, cn_err *err)
{
    host h = { .cfg = cfg, .stop = stop };
    pthread_t hb;
    bool hb_started = false;
    json_t *items = NULL;
    int rc;
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    if ((rc = cn_client_new_kubeconfig(cfg->kubeconfig, &h.c, err)) < 0) goto out;
    cn_client_set_agent(h.c, "cairn-host");

    /* Register (the bridge may not be up yet: keep trying). */
    while (!*stop) {
        cn_err e = CN_ERR_INIT;
        if (register_host(&h, &e) == 0) {
            cn_info("host %s: registered with the bridge", cfg->name);
            cn_err_clear(&e);
            break;
        }
        cn_warn("host %s: registering: %s", cfg->name, e.message ? e.message : "?");
        cn_err_clear(&e);
        sleep_unless_stopped(stop, 1000);
    }
    while (!*stop) {
        cn_err e = CN_ERR_INIT;
        items = list_vms(&h, &e);
        if (items) break;
        cn_warn("host %s: listing virtual machines: %s", cfg->name, e.message ? e.message : "?");
        cn_err_clear(&e);
        sleep_unless_stopped(stop, 1000);
    }
    if (*stop) goto done;
    startup(&h, items);
    json_decref(items);
    items = NULL;

    char *path = cn_client_path(GROUP, VERSION, NULL, "virtualmachines", NULL, NULL);
    h.inf = cn_informer_new(h.c, path);
    free(path);
    cn_informer_handler hd = { on_add, on_update, on_add, &h };
    cn_informer_add_handler(h.inf, &hd);
    if ((rc = cn_informer_start(h.inf, err)) < 0) goto out;
    h.last_hb_ok = cn_now_ms();
    if (pthread_create(&hb, NULL, heartbeat_main, &h) != 0) {
        rc = cn_err_internal(err, "starting the heartbeat thread");
        goto out;
    }
    hb_started = true;

    while (!*stop) {
        wait_kick(&h, 1000);
        if (*stop) break;
        pthread_mutex_lock(&h.mu);
        /* Judged here, not in the heartbeat thread: a heartbeat to an
         * unreachable bridge may hang until the client's timeout. */
        int64_t silent = cn_now_ms() - h.last_hb_ok;
        if (!h.fenced && silent > cfg->fence_after_ms) {
            cn_error("host %s: no heartbeat for %lld ms: fencing myself, stopping every VM "
                     "(the bridge restarts them elsewhere)", cfg->name, (long long)silent);
            h.fenced = true;
        }
        bool fenced = h.fenced, relist = h.need_relist;
        h.need_relist = false;
        pthread_mutex_unlock(&h.mu);
        if (fenced) {
            for (size_t i = 0; i < h.nvms; i++)
                if (h.vms[i].pid > 0) {
                    stop_run(&h, &h.vms[i], "fenced: no heartbeat");
                    set_phase(&h, &h.vms[i], "Stopped", "host fenced itself (no heartbeat)");
                }
            continue;
        }
        if (!cn_informer_wait_synced(h.inf, 0)) continue;
        if (relist) {
            /* After a fence the cache may be behind: start nothing from it. */
            cn_err e = CN_ERR_INIT;
            items = list_vms(&h, &e);
            cn_err_clear(&e);
            if (!items) {
                pthread_mutex_lock(&h.mu);
                h.need_relist = true;
                pthread_mutex_unlock(&h.mu);
                continue;
            }
        } else {
            items = json_array();
            cn_informer_foreach(h.inf, collect, items);
        }
        reconcile_all(&h, items);
        json_decref(items);
        items = NULL;
    }
done:
    rc = 0;
out:
    if (hb_started) pthread_join(hb, NULL);
    cn_informer_free(h.inf);
    json_decref(items);
    for (size_t i = 0; i < h.nvms; i++) {
        free(h.vms[i].name);
        free(h.vms[i].message);
    }
    free(h.vms);
    cn_client_free(h.c);
    pthread_mutex_destroy(&h.mu);
    pthread_cond_destroy(&h.cv);
    return rc;
}
