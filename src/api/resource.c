/* resource: the registry of served resources. Built-ins come from the
 * static table in resource_builtin.c; custom resources are built from CRD
 * objects. A custom entry owns a private deep copy of its CRD, and its
 * strings point into that copy, so an entry is one allocation plus the
 * JSON it keeps. Replaced or removed entries move to a retired list and
 * are freed only by cn_registry_free: request handlers hold plain
 * pointers across the lock. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/resource-internal.h"
#include "lib/util.h"

#define MAX_CRD_VERSIONS 32
#define MAX_NAMES 64          /* shortNames, categories */
#define DNS_LABEL_MAX 63

typedef struct custom_entry {
    cn_resource res;          /* first: a cn_resource* of a custom entry is its entry */
    json_t *crd;              /* owned deep copy; every string below points into it */
    char *list_kind;          /* owned when defaulted */
    char *singular;           /* owned when defaulted */
    char *api_version;        /* "group/version" */
    const char **short_names; /* owned array, borrowed strings */
    const char **categories;
    struct custom_entry *next_retired;
} custom_entry;

struct cn_registry {
    pthread_rwlock_t lock;
    custom_entry **live;      /* sorted by group, version priority, plural */
    size_t nlive, cap;
    custom_entry *retired;
    uint64_t generation;
};

cn_registry *cn_registry_new(void)
{
    cn_registry *r = cn_calloc(1, sizeof *r);
    pthread_rwlock_init(&r->lock, NULL);
    return r;
}

static void entry_free(custom_entry *e)
{
    json_decref(e->res.crd_version);
    json_decref(e->crd);
    free(e->list_kind);
    free(e->singular);
    free(e->api_version);
    free(e->short_names);
    free(e->categories);
    free(e);
}

void cn_registry_free(cn_registry *r)
{
    if (!r) return;
    cn_openapi_v2_forget(r);
    for (size_t i = 0; i < r->nlive; i++) entry_free(r->live[i]);
    while (r->retired) {
        custom_entry *e = r->retired;
        r->retired = e->next_retired;
        entry_free(e);
    }
    free(r->live);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

/* --- lookups --- */

static bool gv_eq(const cn_resource *res, const char *group, const char *version)
{
    return !strcmp(res->group, group) && !strcmp(res->version, version);
}

const cn_resource *cn_registry_lookup(cn_registry *r, const char *group,
                                      const char *version, const char *plural)
{
    if (!group || !version || !plural) return NULL;
    for (size_t i = 0; i < cn_builtin_count; i++) {
        const cn_resource *b = &cn_builtin_resources[i];
        if (!strcmp(b->plural, plural) && gv_eq(b, group, version)) return b;
    }
    const cn_resource *found = NULL;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->nlive && !found; i++) {
        const cn_resource *c = &r->live[i]->res;
        if (!strcmp(c->plural, plural) && gv_eq(c, group, version)) found = c;
    }
    pthread_rwlock_unlock(&r->lock);
    return found;
}

const cn_resource *cn_registry_by_kind(cn_registry *r, const char *group,
                                       const char *version, const char *kind)
{
    if (!group || !version || !kind) return NULL;
    for (size_t i = 0; i < cn_builtin_count; i++) {
        const cn_resource *b = &cn_builtin_resources[i];
        if (!strcmp(b->kind, kind) && gv_eq(b, group, version)) return b;
    }
    const cn_resource *found = NULL;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->nlive && !found; i++) {
        const cn_resource *c = &r->live[i]->res;
        if (!strcmp(c->kind, kind) && gv_eq(c, group, version)) found = c;
    }
    pthread_rwlock_unlock(&r->lock);
    return found;
}

bool cn_registry_has_group_version(cn_registry *r, const char *group, const char *version)
{
    if (!group || !version) return false;
    for (size_t i = 0; i < cn_builtin_count; i++)
        if (gv_eq(&cn_builtin_resources[i], group, version)) return true;
    bool found = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->nlive && !found; i++) found = gv_eq(&r->live[i]->res, group, version);
    pthread_rwlock_unlock(&r->lock);
    return found;
}

uint64_t cn_registry_generation(cn_registry *r)
{
    pthread_rwlock_rdlock(&r->lock);
    uint64_t g = r->generation;
    pthread_rwlock_unlock(&r->lock);
    return g;
}

void cn_registry_snapshot(cn_registry *r, cn_res_snapshot *s)
{
    pthread_rwlock_rdlock(&r->lock);
    s->n = cn_builtin_count + r->nlive;
    s->items = cn_malloc(s->n * sizeof *s->items);
    for (size_t i = 0; i < cn_builtin_count; i++) s->items[i] = &cn_builtin_resources[i];
    for (size_t i = 0; i < r->nlive; i++) s->items[cn_builtin_count + i] = &r->live[i]->res;
    s->generation = r->generation;
    pthread_rwlock_unlock(&r->lock);
}

void cn_res_snapshot_release(cn_res_snapshot *s)
{
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

void cn_registry_foreach(cn_registry *r, void (*fn)(const cn_resource *res, void *ud), void *ud)
{
    for (size_t i = 0; i < cn_builtin_count; i++) fn(&cn_builtin_resources[i], ud);
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->nlive; i++) fn(&r->live[i]->res, ud);
    pthread_rwlock_unlock(&r->lock);
}

/* --- names --- */

char *cn_resource_key_prefix(const cn_resource *res)
{
    if (!res->group[0]) return cn_asprintf("/registry/%s/", res->plural);
    return cn_asprintf("/registry/%s/%s/", res->group, res->plural);
}

const char *cn_resource_api_version(const cn_resource *res)
{
    if (res->flags & CN_RES_CUSTOM) return ((const custom_entry *)res)->api_version;
    const char *av = cn_builtin_api_version(res->group, res->version);
    return av ? av : res->version;
}

/* Parse "v<major>[(alpha|beta)<minor>]"; kind 3 = GA, 2 = beta, 1 = alpha,
 * 0 = not Kubernetes-shaped (sorted last, alphabetically). */
static int parse_version(const char *v, long *major, long *minor)
{
    *major = *minor = 0;
    if (v[0] != 'v' || !isdigit((unsigned char)v[1])) return 0;
    const char *p = v + 1;
    while (isdigit((unsigned char)*p) && *major < 100000) *major = *major * 10 + (*p++ - '0');
    if (isdigit((unsigned char)*p)) return 0;
    if (!*p) return 3;
    int kind;
    if (cn_str_has_prefix(p, "beta")) kind = 2, p += 4;
    else if (cn_str_has_prefix(p, "alpha")) kind = 1, p += 5;
    else return 0;
    if (!isdigit((unsigned char)*p)) return 0;
    while (isdigit((unsigned char)*p) && *minor < 100000) *minor = *minor * 10 + (*p++ - '0');
    return *p ? 0 : kind;
}

int cn_version_priority_cmp(const char *a, const char *b)
{
    long amaj, amin, bmaj, bmin;
    int ak = parse_version(a, &amaj, &amin), bk = parse_version(b, &bmaj, &bmin);
    if (ak != bk) return bk - ak;
    if (ak == 0) return strcmp(a, b);
    if (amaj != bmaj) return amaj > bmaj ? -1 : 1;
    if (amin != bmin) return amin > bmin ? -1 : 1;
    return 0;
}

/* --- CRDs --- */

static bool dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DNS_LABEL_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i > 0 && i + 1 < n)) return false;
    }
    return true;
}

static bool dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253) return false;
    const char *p = s;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        char label[DNS_LABEL_MAX + 1];
        if (len == 0 || len > DNS_LABEL_MAX) return false;
        memcpy(label, p, len);
        label[len] = '\0';
        if (!dns_label(label)) return false;
        if (!dot) return true;
        p = dot + 1;
    }
}

static const char *str_at(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Kind-like identifiers: a letter, then letters and digits. */
static bool kind_name(const char *s)
{
    if (!s || !isalpha((unsigned char)s[0]) || strlen(s) > 253) return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p)) return false;
    return true;
}

static const char **name_list(const json_t *arr, const char *field, cn_err *err, int *rc)
{
    if (!arr) return NULL;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_NAMES) {
        *rc = cn_err_invalid(err, "spec.names.%s: must be a list of at most %d names", field, MAX_NAMES);
        return NULL;
    }
    if (json_array_size(arr) == 0) return NULL;
    const char **out = cn_calloc(json_array_size(arr) + 1, sizeof *out);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        if (!s || !dns_label(s)) {
            *rc = cn_err_invalid(err, "spec.names.%s[%zu]: must be a lowercase RFC 1123 label", field, i);
            free(out);
            return NULL;
        }
        out[i] = s;
    }
    return out;
}

static char *lower_dup(const char *s)
{
    char *d = cn_strdup(s);
    for (char *p = d; *p; p++) *p = (char)tolower((unsigned char)*p);
    return d;
}

/* Build one entry for version object `ver` of the (copied) CRD. */
static custom_entry *entry_new(json_t *crd, const json_t *ver, cn_err *err, int *rc)
{
    const json_t *spec = json_object_get(crd, "spec");
    const json_t *names = json_object_get(spec, "names");
    custom_entry *e = cn_calloc(1, sizeof *e);
    e->crd = json_incref(crd);
    cn_resource *res = &e->res;
    res->group = str_at(spec, "group");
    res->version = str_at(ver, "name");
    res->kind = str_at(names, "kind");
    res->plural = str_at(names, "plural");
    res->list_kind = str_at(names, "listKind");
    if (!res->list_kind || !res->list_kind[0]) res->list_kind = e->list_kind = cn_asprintf("%sList", res->kind);
    res->singular = str_at(names, "singular");
    if (!res->singular || !res->singular[0]) res->singular = e->singular = lower_dup(res->kind);
    const char *scope = str_at(spec, "scope");
    res->namespaced = !scope || strcmp(scope, "Cluster") != 0;
    e->short_names = name_list(json_object_get(names, "shortNames"), "shortNames", err, rc);
    if (*rc < 0) goto fail;
    e->categories = name_list(json_object_get(names, "categories"), "categories", err, rc);
    if (*rc < 0) goto fail;
    res->short_names = e->short_names;
    res->categories = e->categories;
    res->flags = CN_RES_CUSTOM;
    const json_t *subs = json_object_get(ver, "subresources");
    if (!subs) subs = json_object_get(spec, "subresources"); /* v1beta1 leftovers */
    if (json_is_object(json_object_get(subs, "status"))) res->flags |= CN_RES_STATUS;
    const json_t *scale = json_object_get(subs, "scale");
    if (json_is_object(scale)) {
        res->flags |= CN_RES_SCALE;
        res->scale_spec_path = str_at(scale, "specReplicasPath");
        res->scale_status_path = str_at(scale, "statusReplicasPath");
        res->scale_selector_path = str_at(scale, "labelSelectorPath");
        if (!res->scale_spec_path || !res->scale_status_path) {
            *rc = cn_err_invalid(err, "spec.versions[%s].subresources.scale: specReplicasPath and "
                                 "statusReplicasPath are required", res->version);
            goto fail;
        }
    }
    res->crd_version = json_incref((json_t *)ver);
    res->crd_name = str_at(json_object_get(crd, "metadata"), "name");
    e->api_version = cn_asprintf("%s/%s", res->group, res->version);
    return e;
fail:
    entry_free(e);
    return NULL;
}

/* The CRD-level checks; versions are checked as entries are built. */
static int check_crd(const json_t *crd, cn_err *err)
{
    const json_t *spec = json_object_get(crd, "spec");
    const json_t *names = json_object_get(spec, "names");
    const char *name = str_at(json_object_get(crd, "metadata"), "name");
    const char *group = str_at(spec, "group");
    const char *plural = str_at(names, "plural");
    const char *kind = str_at(names, "kind");
    const char *scope = str_at(spec, "scope");
    const json_t *versions = json_object_get(spec, "versions");

    if (!json_is_object(crd) || !json_is_object(spec))
        return cn_err_invalid(err, "spec: Required value");
    if (!name || !name[0]) return cn_err_invalid(err, "metadata.name: Required value");
    if (!group || !group[0]) return cn_err_invalid(err, "spec.group: Required value");
    if (!dns_subdomain(group) || !strchr(group, '.'))
        return cn_err_invalid(err, "spec.group: Invalid value: \"%s\": should be a domain with at least one dot",
                              group);
    if (!plural || !plural[0]) return cn_err_invalid(err, "spec.names.plural: Required value");
    if (!dns_label(plural))
        return cn_err_invalid(err, "spec.names.plural: Invalid value: \"%s\": a lowercase RFC 1123 label "
                              "must consist of lower case alphanumeric characters or '-'", plural);
    if (!kind || !kind[0]) return cn_err_invalid(err, "spec.names.kind: Required value");
    if (!kind_name(kind)) return cn_err_invalid(err, "spec.names.kind: Invalid value: \"%s\"", kind);
    const char *list_kind = str_at(names, "listKind");
    if (list_kind && list_kind[0] && !kind_name(list_kind))
        return cn_err_invalid(err, "spec.names.listKind: Invalid value: \"%s\"", list_kind);
    const char *singular = str_at(names, "singular");
    if (singular && singular[0] && !dns_label(singular))
        return cn_err_invalid(err, "spec.names.singular: Invalid value: \"%s\"", singular);
    if (scope && strcmp(scope, "Namespaced") && strcmp(scope, "Cluster"))
        return cn_err_invalid(err, "spec.scope: Unsupported value: \"%s\": supported values: "
                              "\"Cluster\", \"Namespaced\"", scope);
    if (!json_is_array(versions) || json_array_size(versions) == 0)
        return cn_err_invalid(err, "spec.versions: Invalid value: must have exactly one version marked as storage version");
    if (json_array_size(versions) > MAX_CRD_VERSIONS)
        return cn_err_invalid(err, "spec.versions: Too many: must have at most %d items", MAX_CRD_VERSIONS);
    size_t i;
    const json_t *v;
    json_array_foreach(versions, i, v) {
        const char *vn = str_at(v, "name");
        if (!vn || !dns_label(vn))
            return cn_err_invalid(err, "spec.versions[%zu].name: Invalid value: must be a DNS label", i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(vn, str_at(json_array_get(versions, j), "name") ?: ""))
                return cn_err_invalid(err, "spec.versions[%zu].name: Duplicate value: \"%s\"", i, vn);
    }
    char *want = cn_asprintf("%s.%s", plural, group);
    bool ok = !strcmp(want, name);
    free(want);
    if (!ok)
        return cn_err_invalid(err, "metadata.name: Invalid value: \"%s\": must be spec.names.plural+\".\"+spec.group",
                              name);
    return 0;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const custom_entry *a = *(custom_entry *const *)pa, *b = *(custom_entry *const *)pb;
    int c = strcmp(a->res.group, b->res.group);
    if (c) return c;
    c = cn_version_priority_cmp(a->res.version, b->res.version);
    if (c) return c;
    return strcmp(a->res.plural, b->res.plural);
}

/* Another CRD, or a built-in, already serving group/version/plural? */
static bool conflicts(cn_registry *r, const cn_resource *res, const char *crd_name)
{
    for (size_t i = 0; i < cn_builtin_count; i++) {
        const cn_resource *b = &cn_builtin_resources[i];
        if (!strcmp(b->group, res->group) && (!strcmp(b->plural, res->plural) || !strcmp(b->kind, res->kind)))
            return true;
    }
    for (size_t i = 0; i < r->nlive; i++) {
        const cn_resource *c = &r->live[i]->res;
        if (strcmp(c->crd_name, crd_name) && !strcmp(c->group, res->group) &&
            (!strcmp(c->plural, res->plural) || !strcmp(c->kind, res->kind)))
            return true;
    }
    return false;
}

/* Move the live entries of crd_name to the retired list (write lock held). */
static bool retire(cn_registry *r, const char *crd_name)
{
    size_t w = 0;
    bool any = false;
    for (size_t i = 0; i < r->nlive; i++) {
        custom_entry *e = r->live[i];
        if (!strcmp(e->res.crd_name, crd_name)) {
            e->next_retired = r->retired;
            r->retired = e;
            any = true;
        } else {
            r->live[w++] = e;
        }
    }
    r->nlive = w;
    return any;
}

int cn_registry_put_crd(cn_registry *r, const json_t *crd, cn_err *err)
{
    int rc = check_crd(crd, err);
    if (rc < 0) return rc;

    json_t *copy = json_deep_copy(crd);
    const json_t *versions = json_object_get(json_object_get(copy, "spec"), "versions");
    const char *crd_name = str_at(json_object_get(copy, "metadata"), "name");
    custom_entry *fresh[MAX_CRD_VERSIONS];
    size_t nfresh = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(versions, i, v) {
        if (!json_is_true(json_object_get(v, "served"))) continue;
        custom_entry *e = entry_new(copy, v, err, &rc);
        if (!e) goto fail;
        fresh[nfresh++] = e;
    }

    pthread_rwlock_wrlock(&r->lock);
    /* Status updates re-put an unchanged spec: keep entries and generation. */
    for (i = 0; i < r->nlive; i++) {
        const custom_entry *e = r->live[i];
        if (!strcmp(e->res.crd_name, crd_name) &&
            json_equal(json_object_get(e->crd, "spec"), json_object_get(copy, "spec"))) {
            pthread_rwlock_unlock(&r->lock);
            for (i = 0; i < nfresh; i++) entry_free(fresh[i]);
            json_decref(copy);
            return 0;
        }
    }
    for (i = 0; i < nfresh; i++) {
        if (conflicts(r, &fresh[i]->res, crd_name)) {
            pthread_rwlock_unlock(&r->lock);
            rc = cn_err_invalid(err, "spec.names.plural: Invalid value: \"%s\": %s/%s is already served",
                                fresh[i]->res.plural, fresh[i]->res.group, fresh[i]->res.version);
            goto fail;
        }
    }
    retire(r, crd_name);
    if (r->nlive + nfresh > r->cap) {
        r->cap = (r->nlive + nfresh) * 2 + 8;
        r->live = cn_realloc(r->live, r->cap * sizeof *r->live);
    }
    for (i = 0; i < nfresh; i++) r->live[r->nlive++] = fresh[i];
    qsort(r->live, r->nlive, sizeof *r->live, cmp_entry);
    r->generation++;
    pthread_rwlock_unlock(&r->lock);
    json_decref(copy);
    return 0;

fail:
    for (i = 0; i < nfresh; i++) entry_free(fresh[i]);
    json_decref(copy);
    return rc < 0 ? rc : -EINVAL;
}

void cn_registry_remove_crd(cn_registry *r, const char *crd_name)
{
    if (!crd_name) return;
    pthread_rwlock_wrlock(&r->lock);
    if (retire(r, crd_name)) r->generation++;
    pthread_rwlock_unlock(&r->lock);
}
