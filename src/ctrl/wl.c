/* wl: helpers shared by the DaemonSet, StatefulSet, Job and CronJob
 * controllers (see wl.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/wl.h"
#include "lib/util.h"

/* --- pods --- */

bool cn_wl_pod_terminating(const json_t *pod)
{
    return json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;
}

bool cn_wl_pod_terminal(const json_t *pod)
{
    const char *ph = cn_json_str_at(pod, "status.phase");
    return !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed");
}

bool cn_wl_pod_active(const json_t *pod)
{
    return !cn_wl_pod_terminating(pod) && !cn_wl_pod_terminal(pod);
}

json_t *cn_wl_condition(const json_t *obj, const char *type)
{
    json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, type)) return c;
    }
    return NULL;
}

bool cn_wl_condition_true(const json_t *obj, const char *type)
{
    const char *s = json_string_value(json_object_get(cn_wl_condition(obj, type), "status"));
    return s && !strcmp(s, "True");
}

bool cn_wl_pod_ready(const json_t *pod)
{
    return cn_wl_condition_true(pod, "Ready");
}

bool cn_wl_pod_running_ready(const json_t *pod)
{
    return !strcmp(cn_json_str_at(pod, "status.phase"), "Running") && cn_wl_pod_ready(pod);
}

int64_t cn_wl_time(const json_t *obj, const char *dotted)
{
    const char *s = cn_json_str_at(obj, dotted);
    int64_t t;
    if (!s || !*s || cn_time_parse(s, &t) < 0) return 0;
    return t;
}

bool cn_wl_pod_available(const json_t *pod, int64_t min_ready_s, int64_t now)
{
    if (!cn_wl_pod_running_ready(pod)) return false;
    if (min_ready_s <= 0) return true;
    const char *lt = json_string_value(json_object_get(cn_wl_condition(pod, "Ready"), "lastTransitionTime"));
    int64_t t;
    if (!lt || cn_time_parse(lt, &t) < 0) return false;
    return t + min_ready_s <= now;
}

/* --- children --- */

json_t *cn_wl_owner_ref(const json_t *owner, const char *api_version, const char *kind)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "apiVersion", api_version, "kind", kind,
                     "name", cn_meta_str(owner, "name"), "uid", cn_meta_str(owner, "uid"),
                     "controller", 1, "blockOwnerDeletion", 1);
}

json_t *cn_wl_from_template(const json_t *tmpl, const json_t *owner, const char *api_version,
                            const char *kind)
{
    json_t *tmeta = json_object_get(tmpl, "metadata");
    json_t *meta = json_object();
    json_object_set_new(meta, "namespace", json_string(cn_meta_str(owner, "namespace")));
    json_t *labels = json_object_get(tmeta, "labels");
    json_object_set_new(meta, "labels", labels ? json_deep_copy(labels) : json_object());
    json_t *ann = json_object_get(tmeta, "annotations");
    if (ann) json_object_set_new(meta, "annotations", json_deep_copy(ann));
    json_t *fin = json_object_get(tmeta, "finalizers");
    if (fin) json_object_set_new(meta, "finalizers", json_deep_copy(fin));
    json_object_set_new(meta, "ownerReferences", json_pack("[o]", cn_wl_owner_ref(owner, api_version, kind)));
    json_t *spec = json_object_get(tmpl, "spec");
    return json_pack("{s:o,s:o}", "metadata", meta, "spec", spec ? json_deep_copy(spec) : json_object());
}

const char *cn_wl_controller_name(const json_t *obj, const char *kind)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r) {
        if (!json_is_true(json_object_get(r, "controller"))) continue;
        const char *k = json_string_value(json_object_get(r, "kind"));
        if (!k || strcmp(k, kind) != 0) return NULL;
        return json_string_value(json_object_get(r, "name"));
    }
    return NULL;
}

int64_t cn_wl_int(const json_t *obj, const char *dotted, int64_t def)
{
    const json_t *cur = obj;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key) return def;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        p = dot ? dot + 1 : p + n;
    }
    return json_is_integer(cur) ? json_integer_value(cur) : def;
}

int64_t cn_wl_scaled(const json_t *v, int64_t total, bool round_up, int64_t def)
{
    if (json_is_integer(v)) return json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s) return def;
    size_t n = strlen(s);
    int64_t pct;
    if (n < 2 || s[n - 1] != '%') {
        return cn_parse_int64(s, &pct) == 0 ? pct : def;
    }
    char buf[24];
    if (n - 1 >= sizeof buf) return def;
    memcpy(buf, s, n - 1);
    buf[n - 1] = '\0';
    if (cn_parse_int64(buf, &pct) < 0 || pct < 0) return def;
    return round_up ? (pct * total + 99) / 100 : pct * total / 100;
}

/* --- expectations --- */

typedef struct expect_ent {
    char *key;
    int adds, dels;
    int64_t at_ms;
    struct expect_ent *next;
} expect_ent;

struct cn_wl_expect {
    pthread_mutex_t mu;
    expect_ent *head;
};

#define EXPECT_TTL_MS (5 * 60 * 1000)

cn_wl_expect *cn_wl_expect_new(void)
{
    cn_wl_expect *x = cn_calloc(1, sizeof *x);
    pthread_mutex_init(&x->mu, NULL);
    return x;
}

void cn_wl_expect_free(cn_wl_expect *x)
{
    if (!x) return;
    for (expect_ent *e = x->head, *n; e; e = n) {
        n = e->next;
        free(e->key);
        free(e);
    }
    pthread_mutex_destroy(&x->mu);
    free(x);
}

static expect_ent **expect_find(cn_wl_expect *x, const char *key)
{
    expect_ent **pp = &x->head;
    while (*pp && strcmp((*pp)->key, key) != 0) pp = &(*pp)->next;
    return pp;
}

void cn_wl_expect_set(cn_wl_expect *x, const char *key, int adds, int dels)
{
    pthread_mutex_lock(&x->mu);
    expect_ent **pp = expect_find(x, key);
    if (!*pp) {
        *pp = cn_calloc(1, sizeof **pp);
        (*pp)->key = cn_strdup(key);
    }
    (*pp)->adds = adds;
    (*pp)->dels = dels;
    (*pp)->at_ms = cn_now_ms();
    pthread_mutex_unlock(&x->mu);
}

void cn_wl_expect_observed(cn_wl_expect *x, const char *key, int adds, int dels)
{
    pthread_mutex_lock(&x->mu);
    expect_ent *e = *expect_find(x, key);
    if (e) {
        e->adds -= adds;
        e->dels -= dels;
    }
    pthread_mutex_unlock(&x->mu);
}

bool cn_wl_expect_satisfied(cn_wl_expect *x, const char *key)
{
    pthread_mutex_lock(&x->mu);
    expect_ent *e = *expect_find(x, key);
    bool ok = !e || (e->adds <= 0 && e->dels <= 0) || cn_now_ms() - e->at_ms > EXPECT_TTL_MS;
    pthread_mutex_unlock(&x->mu);
    return ok;
}

void cn_wl_expect_forget(cn_wl_expect *x, const char *key)
{
    pthread_mutex_lock(&x->mu);
    expect_ent **pp = expect_find(x, key);
    if (*pp) {
        expect_ent *e = *pp;
        *pp = e->next;
        free(e->key);
        free(e);
    }
    pthread_mutex_unlock(&x->mu);
}

/* --- ControllerRevisions --- */

char *cn_wl_hash(const json_t *obj, int64_t collision_count)
{
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    free(s);
    if (collision_count >= 0) {
        for (int i = 0; i < 8; i++) {
            h ^= (uint32_t)(collision_count >> (i * 8)) & 0xff;
            h *= 16777619u;
        }
    }
    char dec[16];
    snprintf(dec, sizeof dec, "%u", h);
    for (char *p = dec; *p; p++) *p = alnum[(unsigned char)*p % (sizeof alnum - 1)];
    return cn_strdup(dec);
}

json_t *cn_wl_revision_data(const json_t *owner)
{
    json_t *tmpl = json_object_get(json_object_get(owner, "spec"), "template");
    json_t *t = tmpl ? json_deep_copy(tmpl) : json_object();
    json_object_set_new(t, "$patch", json_string("replace"));
    return json_pack("{s:{s:o}}", "spec", "template", t);
}

static bool name_in(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (!strcmp(*list, name)) return true;
    return false;
}

static int cmp_rev(const void *a, const void *b)
{
    int64_t ra = json_integer_value(json_object_get(*(json_t *const *)a, "revision"));
    int64_t rb = json_integer_value(json_object_get(*(json_t *const *)b, "revision"));
    return ra < rb ? -1 : ra > rb;
}

int cn_wl_history_sync(cn_client *c, const json_t *owner, const char *api_version,
                       const char *kind, const json_t *revisions, const char *hash_label,
                       const char *const *in_use, cn_wl_history *out, cn_err *err)
{
    const char *ns = cn_meta_str(owner, "namespace"), *oname = cn_meta_str(owner, "name");
    json_t *data = cn_wl_revision_data(owner);
    int64_t collisions = cn_wl_int(owner, "status.collisionCount", 0);
    char *hash = cn_wl_hash(data, collisions);
    char *name = cn_asprintf("%s-%s", oname, hash);
    char *coll = cn_client_path("apps", "v1", ns, "controllerrevisions", NULL, NULL);
    int64_t maxrev = 0, currev = 0;
    const json_t *cur = NULL;
    size_t i;
    json_t *r;
    int ret = 0;
    json_array_foreach(revisions, i, r) {
        int64_t n = cn_wl_int(r, "revision", 0);
        if (n > maxrev) maxrev = n;
        if (!strcmp(cn_meta_str(r, "name"), name)) {
            cur = r;
            currev = n;
        }
    }
    if (cur && currev < maxrev) {
        /* a rollback to an old template: it becomes the newest revision */
        char *path = cn_client_path("apps", "v1", ns, "controllerrevisions", name, NULL);
        json_t *patch = json_pack("{s:I}", "revision", (json_int_t)(maxrev + 1));
        ret = cn_client_patch(c, path, CN_PATCH_MERGE, patch, NULL, err);
        json_decref(patch);
        free(path);
        currev = maxrev + 1;
    } else if (!cur) {
        json_t *labels = json_deep_copy(json_object_get(
            json_object_get(json_object_get(json_object_get(owner, "spec"), "template"), "metadata"), "labels"));
        if (!labels) labels = json_object();
        json_object_set_new(labels, hash_label, json_string(hash));
        json_t *rev = json_pack("{s:s,s:s,s:{s:s,s:s,s:o,s:[o]},s:O,s:I}", "apiVersion", "apps/v1",
                                "kind", "ControllerRevision", "metadata", "name", name, "namespace", ns,
                                "labels", labels, "ownerReferences",
                                cn_wl_owner_ref(owner, api_version, kind), "data", data,
                                "revision", (json_int_t)(maxrev + 1));
        ret = cn_client_create(c, coll, rev, NULL, err);
        json_decref(rev);
        if (ret < 0 && err && err->code == 409) {
            /* already there (an informer behind us): take it */
            cn_err_clear(err);
            ret = 0;
        }
        currev = maxrev + 1;
    }
    if (ret == 0) {
        /* prune the oldest unused revisions beyond the limit */
        int64_t limit = cn_wl_int(owner, "spec.revisionHistoryLimit", 10);
        size_t n = json_array_size(revisions), k = 0;
        json_t **old = cn_calloc(n + 1, sizeof *old);
        json_array_foreach(revisions, i, r)
            if (strcmp(cn_meta_str(r, "name"), name) != 0) old[k++] = r;
        qsort(old, k, sizeof *old, cmp_rev);
        int64_t excess = (int64_t)k - limit;
        for (size_t j = 0; j < k && excess > 0; j++) {
            const char *rn = cn_meta_str(old[j], "name");
            if (name_in(rn, in_use)) continue;
            char *path = cn_client_path("apps", "v1", ns, "controllerrevisions", rn, NULL);
            cn_err e2 = CN_ERR_INIT;
            if (cn_client_delete(c, path, NULL, NULL, &e2) == 0 || e2.code == 404) excess--;
            cn_err_clear(&e2);
            free(path);
        }
        free(old);
        out->name = name;
        out->hash = hash;
        out->revision = currev;
        name = hash = NULL;
    }
    json_decref(data);
    free(coll);
    free(name);
    free(hash);
    return ret;
}

void cn_wl_history_release(cn_wl_history *h)
{
    free(h->name);
    free(h->hash);
    h->name = h->hash = NULL;
}
