/* ssa: field ownership (metadata.managedFields) and server-side apply.
 * See ssa.h for the model. The semantics are those of the Kubernetes
 * "Server-Side Apply" documentation; the code is cairn's own.
 *
 * Internally a field set is "flat": a JSON object whose keys are paths,
 * the path elements ("f:spec", "k:{\"name\":\"x\"}", ".") joined by SEP,
 * each mapped to true. Flat sets make union, difference and lookup plain
 * object operations; they are turned into FieldsV1 trees only at the edge
 * (managedFields entries as stored and served). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/ssa.h"
#include "lib/util.h"

#define SEP '\x1f'
#define SEP_S "\x1f"
#define MAX_DEPTH 64
#define MAX_ENTRIES 256
#define MAX_MANAGER 128

/* ---- paths ------------------------------------------------------------ */

typedef struct path {
    cn_buf b;
    int depth;
} path;

static size_t path_push(path *p, const char *el)
{
    size_t mark = p->b.len;
    if (p->b.len) cn_buf_addc(&p->b, SEP);
    cn_buf_adds(&p->b, el);
    p->depth++;
    return mark;
}

static void path_pop(path *p, size_t mark)
{
    p->b.len = mark;
    p->b.data[mark] = '\0';
    p->depth--;
}

static void set_add(json_t *set, const char *p)
{
    if (*p) json_object_set_new(set, p, json_true());
}

/* ---- field sets of objects -------------------------------------------- */

static void walk_node(json_t *set, path *p, const json_t *v, const cn_field *f, bool typed);

/* Members upstream marks atomic (+structType=atomic, +mapType=atomic):
 * owned and replaced as a whole. */
static bool atomic_member(const cn_message *m, const char *k, const cn_field *f)
{
    if (!f || f->repeated) return false;
    if (f->type == CN_T_MESSAGE && f->msg && !strcmp(f->msg->name, "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"))
        return true;
    if (f->type != CN_T_MAP || !m) return false;
    return (!strcmp(k, "nodeSelector") && !strcmp(m->name, "io.k8s.api.core.v1.PodSpec")) ||
           (!strcmp(k, "selector") && !strcmp(m->name, "io.k8s.api.core.v1.ServiceSpec"));
}

static void walk_struct(json_t *set, path *p, const json_t *obj, const cn_message *m)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (json_is_null(v) || strchr(k, SEP)) continue;
        const cn_field *f = m ? cn_schema_field(m, k) : NULL;
        char *el = cn_asprintf("f:%s", k);
        size_t mark = path_push(p, el);
        free(el);
        if (atomic_member(m, k, f)) set_add(set, p->b.data);
        else walk_node(set, p, v, f, f != NULL);
        path_pop(p, mark);
    }
}

/* Container and Service ports are keyed by port and protocol upstream
 * (+listMapKey=protocol), the protocol defaulting to TCP; the schema table
 * has the port alone (the strategic merge key). */
static bool keyed_by_protocol(const cn_field *f)
{
    return f->merge_key && (!strcmp(f->merge_key, "containerPort") || !strcmp(f->merge_key, "port")) &&
           f->msg && cn_schema_field(f->msg, "protocol");
}

/* The key of an item of an associative list, compact JSON, or NULL. */
static char *item_key(const json_t *item, const cn_field *f)
{
    const char *merge_key = f->merge_key;
    json_t *kv = json_object_get(item, merge_key);
    if (!kv || json_is_null(kv) || json_is_object(kv) || json_is_array(kv)) return NULL;
    json_t *k = json_object();
    json_object_set(k, merge_key, kv);
    if (keyed_by_protocol(f)) {
        json_t *pr = json_object_get(item, "protocol");
        json_object_set_new(k, "protocol", json_is_string(pr) ? json_incref(pr) : json_string("TCP"));
    }
    char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(k);
    return s;
}

static void walk_list(json_t *set, path *p, const json_t *arr, const cn_field *f)
{
    bool keyed = f->merge_key && f->type == CN_T_MESSAGE && f->msg;
    bool setlike = !f->merge_key && f->type != CN_T_MESSAGE && f->type != CN_T_RAW;
    size_t i;
    json_t *it;
    if (json_array_size(arr) == 0 || (!keyed && !setlike) ||
        (f->strategy != CN_PS_MERGE && f->strategy != CN_PS_MERGE_RETAIN)) {
        set_add(set, p->b.data);
        return;
    }
    /* Items without their key cannot be addressed: the list is atomic. */
    json_array_foreach(arr, i, it) {
        if (keyed ? !json_is_object(it) || !json_object_get(it, f->merge_key)
                  : json_is_object(it) || json_is_array(it)) {
            set_add(set, p->b.data);
            return;
        }
    }
    json_array_foreach(arr, i, it) {
        char *s = keyed ? item_key(it, f) : json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) continue;
        char *el = cn_asprintf("%s:%s", keyed ? "k" : "v", s);
        free(s);
        size_t mark = path_push(p, el);
        free(el);
        if (keyed) {
            size_t m2 = path_push(p, ".");
            set_add(set, p->b.data);
            path_pop(p, m2);
            if (p->depth < MAX_DEPTH) walk_struct(set, p, it, f->msg);
        } else {
            set_add(set, p->b.data);
        }
        path_pop(p, mark);
    }
}

static void walk_node(json_t *set, path *p, const json_t *v, const cn_field *f, bool typed)
{
    if (p->depth >= MAX_DEPTH) {
        set_add(set, p->b.data);
        return;
    }
    if (!typed) {
        if (json_is_object(v) && json_object_size(v)) walk_struct(set, p, v, NULL);
        else set_add(set, p->b.data);
        return;
    }
    if (f->repeated) {
        if (json_is_array(v)) walk_list(set, p, v, f);
        else set_add(set, p->b.data);
        return;
    }
    if (f->type == CN_T_MAP && json_is_object(v) && json_object_size(v)) {
        const char *k;
        json_t *mv;
        json_object_foreach((json_t *)v, k, mv) {
            if (json_is_null(mv) || strchr(k, SEP)) continue;
            char *el = cn_asprintf("f:%s", k);
            size_t mark = path_push(p, el);
            free(el);
            if (f->elem == CN_T_MESSAGE && f->msg && json_is_object(mv) && json_object_size(mv))
                walk_struct(set, p, mv, f->msg);
            else
                set_add(set, p->b.data);
            path_pop(p, mark);
        }
        return;
    }
    if (f->type == CN_T_MESSAGE && f->msg && json_is_object(v) && json_object_size(v)) {
        walk_struct(set, p, v, f->msg);
        return;
    }
    set_add(set, p->b.data);
}

/* ---- custom resources: structural schema markers --------------------- */

static const json_t *cr_child(const json_t *sch, const char *k)
{
    const json_t *c = json_object_get(json_object_get(sch, "properties"), k);
    if (c) return c;
    const json_t *ap = json_object_get(sch, "additionalProperties");
    return json_is_object(ap) ? ap : NULL;
}

static bool cr_is(const json_t *sch, const char *marker, const char *value)
{
    const char *v = json_string_value(json_object_get(sch, marker));
    return v && !strcmp(v, value);
}

/* The key of an item of a list-type=map list (compact JSON), or NULL when
 * the item lacks one of the keys. */
static char *cr_item_key(const json_t *item, const json_t *keys)
{
    if (!json_is_object(item) || !json_array_size(keys)) return NULL;
    json_t *k = json_object();
    size_t i;
    json_t *kn;
    json_array_foreach(keys, i, kn) {
        json_t *kv = json_object_get(item, json_string_value(kn) ? json_string_value(kn) : "");
        if (!kv || json_is_object(kv) || json_is_array(kv) || json_is_null(kv)) {
            json_decref(k);
            return NULL;
        }
        json_object_set(k, json_string_value(kn), kv);
    }
    char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(k);
    return s;
}

static void walk_cr(json_t *set, path *p, const json_t *v, const json_t *sch);

static void walk_cr_members(json_t *set, path *p, const json_t *obj, const json_t *sch)
{
    const char *k;
    json_t *mv;
    json_object_foreach((json_t *)obj, k, mv) {
        if (json_is_null(mv) || strchr(k, SEP)) continue;
        char *el = cn_asprintf("f:%s", k);
        size_t mark = path_push(p, el);
        free(el);
        walk_cr(set, p, mv, cr_child(sch, k));
        path_pop(p, mark);
    }
}

static void walk_cr(json_t *set, path *p, const json_t *v, const json_t *sch)
{
    if (p->depth >= MAX_DEPTH) {
        set_add(set, p->b.data);
        return;
    }
    if (json_is_object(v) && json_object_size(v) && !cr_is(sch, "x-kubernetes-map-type", "atomic")) {
        walk_cr_members(set, p, v, sch);
        return;
    }
    bool map = cr_is(sch, "x-kubernetes-list-type", "map"), isset = cr_is(sch, "x-kubernetes-list-type", "set");
    if (!json_is_array(v) || !json_array_size(v) || (!map && !isset)) {
        set_add(set, p->b.data);
        return;
    }
    const json_t *keys = json_object_get(sch, "x-kubernetes-list-map-keys"), *items = json_object_get(sch, "items");
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it) {
        char *key = map ? cr_item_key(it, keys) : NULL;
        bool addressable = map ? key != NULL : !json_is_object(it) && !json_is_array(it);
        free(key);
        if (!addressable) {
            set_add(set, p->b.data);    /* not addressable: atomic */
            return;
        }
    }
    json_array_foreach(v, i, it) {
        char *s = map ? cr_item_key(it, keys) : json_dumps(it, JSON_COMPACT | JSON_ENCODE_ANY);
        char *el = cn_asprintf("%s:%s", map ? "k" : "v", s);
        free(s);
        size_t mark = path_push(p, el);
        free(el);
        if (map) {
            size_t m2 = path_push(p, ".");
            set_add(set, p->b.data);
            path_pop(p, m2);
            walk_cr_members(set, p, it, items);
        } else {
            set_add(set, p->b.data);
        }
        path_pop(p, mark);
    }
}

/* Merge of an apply config into a custom resource: a merge patch, except
 * that list-type=map lists merge by key, list-type=set lists add their
 * new members, and atomic maps are replaced. */
static json_t *cr_merge(const json_t *live, const json_t *cfg, const json_t *sch, int depth)
{
    if (json_is_object(cfg) && depth < MAX_DEPTH && !cr_is(sch, "x-kubernetes-map-type", "atomic")) {
        json_t *out = json_is_object(live) ? json_deep_copy(live) : json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)cfg, k, v) {
            if (json_is_null(v)) json_object_del(out, k);
            else json_object_set_new(out, k, cr_merge(json_object_get(out, k), v, cr_child(sch, k), depth + 1));
        }
        return out;
    }
    bool map = cr_is(sch, "x-kubernetes-list-type", "map"), isset = cr_is(sch, "x-kubernetes-list-type", "set");
    if (json_is_array(cfg) && json_is_array(live) && (map || isset) && depth < MAX_DEPTH) {
        const json_t *keys = json_object_get(sch, "x-kubernetes-list-map-keys"), *items = json_object_get(sch, "items");
        json_t *out = json_deep_copy(live);
        size_t i, j;
        json_t *ci, *li;
        json_array_foreach(cfg, i, ci) {
            char *ck = map ? cr_item_key(ci, keys) : NULL;
            bool found = false;
            json_array_foreach(out, j, li) {
                char *lk = map ? cr_item_key(li, keys) : NULL;
                bool same = map ? ck && lk && !strcmp(ck, lk) : cn_json_equal(ci, li);
                free(lk);
                if (!same) continue;
                if (map) json_array_set_new(out, j, cr_merge(li, ci, items, depth + 1));
                found = true;
                break;
            }
            free(ck);
            if (!found) json_array_append_new(out, cr_merge(NULL, ci, items, depth + 1));
        }
        return out;
    }
    return json_deep_copy(cfg);
}

static const char *const managed_meta[] = { "labels", "annotations", "finalizers", "ownerReferences", NULL };

static json_t *field_set(const json_t *obj, const cn_ssa_opts *o)
{
    json_t *set = json_object();
    path p = { .depth = 0 };
    cn_buf_init(&p.b);
    cn_buf_adds(&p.b, "");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || json_is_null(v) || strchr(k, SEP)) continue;
        bool is_status = !strcmp(k, "status");
        if (o->scope == CN_SSA_MAIN && is_status) continue;
        if (o->scope == CN_SSA_STATUS && !is_status) continue;
        if (!strcmp(k, "metadata")) {
            const cn_message *mm = cn_schema_object_meta();
            for (int i = 0; managed_meta[i]; i++) {
                json_t *mv = json_object_get(v, managed_meta[i]);
                if (!mv || json_is_null(mv)) continue;
                char *el = cn_asprintf("f:metadata" SEP_S "f:%s", managed_meta[i]);
                size_t mark = path_push(&p, el);
                free(el);
                p.depth++;
                const cn_field *f = cn_schema_field(mm, managed_meta[i]);
                walk_node(set, &p, mv, f, f != NULL);
                p.depth--;
                path_pop(&p, mark);
            }
            continue;
        }
        const cn_field *f = o->schema ? cn_schema_field(o->schema, k) : NULL;
        char *el = cn_asprintf("f:%s", k);
        size_t mark = path_push(&p, el);
        free(el);
        if (!o->schema && o->cr_schema) walk_cr(set, &p, v, cr_child(o->cr_schema, k));
        else if (atomic_member(o->schema, k, f)) set_add(set, p.b.data);
        else walk_node(set, &p, v, f, f != NULL);
        path_pop(&p, mark);
    }
    cn_buf_release(&p.b);
    return set;
}


/* ---- FieldsV1 trees <-> flat sets -------------------------------------- */

static json_t *flat_to_tree(const json_t *flat)
{
    json_t *root = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)flat, k, v) {
        json_t *node = root;
        const char *s = k;
        while (*s) {
            const char *e = strchr(s, SEP);
            size_t n = e ? (size_t)(e - s) : strlen(s);
            json_t *child = json_object_getn(node, s, n);
            if (!json_is_object(child)) {
                child = json_object();
                json_object_setn_new(node, s, n, child);
            }
            node = child;
            s = e ? e + 1 : s + n;
        }
    }
    return root;
}

static bool valid_element(const char *k)
{
    if (!strcmp(k, ".")) return true;
    if (strchr(k, SEP)) return false;
    if (k[0] && k[1] == ':' && (k[0] == 'f' || k[0] == 'k' || k[0] == 'v' || k[0] == 'i')) return true;
    return false;
}

static int tree_to_flat(const json_t *tree, path *p, json_t *flat, cn_err *err)
{
    if (!json_is_object(tree)) return cn_err_bad_request(err, "metadata.managedFields: Invalid value: fieldsV1 must be an object");
    if (p->depth >= MAX_DEPTH) return cn_err_bad_request(err, "metadata.managedFields: Invalid value: fieldsV1 is nested too deeply");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tree, k, v) {
        if (!valid_element(k))
            return cn_err_bad_request(err, "metadata.managedFields: Invalid value: \"%.64s\": not a fieldsV1 path element", k);
        if (!json_is_object(v))
            return cn_err_bad_request(err, "metadata.managedFields: Invalid value: fieldsV1 members must be objects");
        size_t mark = path_push(p, k);
        int r = 0;
        if (!strcmp(k, ".") || json_object_size(v) == 0) set_add(flat, p->b.data);
        if (strcmp(k, ".") && json_object_size(v)) r = tree_to_flat(v, p, flat, err);
        path_pop(p, mark);
        if (r < 0) return r;
    }
    return 0;
}

static int tree_flat(const json_t *tree, json_t **out, cn_err *err)
{
    path p = { .depth = 0 };
    cn_buf_init(&p.b);
    cn_buf_adds(&p.b, "");
    json_t *flat = json_object();
    int r = tree_to_flat(tree, &p, flat, err);
    cn_buf_release(&p.b);
    if (r < 0) {
        json_decref(flat);
        return r;
    }
    *out = flat;
    return 0;
}

int cn_ssa_field_set(const json_t *obj, const cn_ssa_opts *opts, json_t **out, cn_err *err)
{
    (void)err;
    json_t *flat = field_set(obj, opts);
    *out = flat_to_tree(flat);
    json_decref(flat);
    return 0;
}

/* ---- navigating objects by path --------------------------------------- */

/* The child of node named by element el (n bytes), or NULL; *idx is the
 * array index when node is a list. */
static json_t *step(json_t *node, const char *el, size_t n, size_t *idx)
{
    if (n < 2 || el[1] != ':') return NULL;
    if (el[0] == 'f') return json_is_object(node) ? json_object_getn(node, el + 2, n - 2) : NULL;
    if (!json_is_array(node)) return NULL;
    if (el[0] == 'i') {
        size_t i = 0;
        for (size_t j = 2; j < n; j++) {
            if (el[j] < '0' || el[j] > '9' || i > 1000000) return NULL;
            i = i * 10 + (size_t)(el[j] - '0');
        }
        *idx = i;
        return json_array_get(node, i);
    }
    json_t *want = json_loadb(el + 2, n - 2, JSON_DECODE_ANY, NULL);
    if (!want) return NULL;
    json_t *found = NULL, *it;
    size_t i;
    json_array_foreach(node, i, it) {
        bool match;
        if (el[0] == 'k') {
            match = json_is_object(it) && json_is_object(want);
            const char *kk;
            json_t *kv;
            json_object_foreach(want, kk, kv) {
                json_t *iv = json_object_get(it, kk);
                /* An item without a protocol is a TCP port (see keyed_by_protocol). */
                if (!iv && !strcmp(kk, "protocol") && json_is_string(kv) && !strcmp(json_string_value(kv), "TCP"))
                    continue;
                if (match && !cn_json_equal(iv, kv)) match = false;
            }
        } else {
            match = cn_json_equal(it, want);
        }
        if (match) {
            found = it;
            *idx = i;
            break;
        }
    }
    json_decref(want);
    return found;
}

static bool ends_with_dot(const char *p)
{
    size_t n = strlen(p);
    return n == 1 ? p[0] == '.' : n >= 2 && p[n - 1] == '.' && p[n - 2] == SEP;
}

/* Walk obj along path (a trailing "." names the node itself). *parent and
 * the last element (for removal) are set when the node is found. */
static json_t *get_path(const json_t *obj, const char *p, json_t **parent, const char **last,
                        size_t *lastn, size_t *idx)
{
    json_t *node = (json_t *)obj, *par = NULL;
    const char *s = p, *le = NULL;
    size_t ln = 0, ix = 0;
    while (node && *s) {
        const char *e = strchr(s, SEP);
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (!(n == 1 && s[0] == '.')) {
            par = node;
            le = s;
            ln = n;
            node = step(node, s, n, &ix);
        }
        s = e ? e + 1 : s + n;
    }
    if (parent) *parent = par;
    if (last) *last = le;
    if (lastn) *lastn = ln;
    if (idx) *idx = ix;
    return node;
}

static void remove_path(json_t *obj, const char *p)
{
    json_t *parent;
    const char *last;
    size_t n, idx;
    if (!get_path(obj, p, &parent, &last, &n, &idx) || !parent) return;
    if (json_is_object(parent)) json_object_deln(parent, last + 2, n - 2);
    else if (json_is_array(parent)) json_array_remove(parent, idx);
}

/* ".spec.containers[name=\"main\"].image", as upstream prints paths. */
static char *display_path(const char *p)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "");
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, SEP);
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n >= 2 && s[0] == 'f') {
            cn_buf_addc(&b, '.');
            cn_buf_add(&b, s + 2, n - 2);
        } else if (n >= 2 && (s[0] == 'k' || s[0] == 'v')) {
            json_t *j = json_loadb(s + 2, n - 2, JSON_DECODE_ANY, NULL);
            cn_buf_addc(&b, '[');
            if (s[0] == 'k' && json_is_object(j)) {
                const char *kk;
                json_t *kv;
                bool first = true;
                json_object_foreach(j, kk, kv) {
                    char *vs = json_dumps(kv, JSON_COMPACT | JSON_ENCODE_ANY);
                    cn_buf_addf(&b, "%s%s=%s", first ? "" : ",", kk, vs ? vs : "");
                    free(vs);
                    first = false;
                }
            } else {
                cn_buf_addc(&b, '=');
                cn_buf_add(&b, s + 2, n - 2);
            }
            cn_buf_addc(&b, ']');
            json_decref(j);
        } else if (n >= 2 && s[0] == 'i') {
            cn_buf_addc(&b, '[');
            cn_buf_add(&b, s + 2, n - 2);
            cn_buf_addc(&b, ']');
        }
        s = e ? e + 1 : s + n;
    }
    return cn_buf_detach(&b, NULL);
}

/* ---- managedFields entries -------------------------------------------- */

typedef struct entry {
    char *manager, *operation, *api_version, *subresource, *time;
    json_t *set;    /* flat */
} entry;

typedef struct entries {
    entry *v;
    size_t n;
} entries;

static void entries_release(entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        entry *e = &es->v[i];
        free(e->manager);
        free(e->operation);
        free(e->api_version);
        free(e->subresource);
        free(e->time);
        json_decref(e->set);
    }
    free(es->v);
    es->v = NULL;
    es->n = 0;
}

static char *dup_or_null(const json_t *s)
{
    const char *v = json_string_value(s);
    return v && *v ? cn_strdup(v) : NULL;
}

static int check_entry(const json_t *e, cn_err *err)
{
    if (!json_is_object(e)) return cn_err_bad_request(err, "metadata.managedFields: Invalid value: entries must be objects");
    json_t *m = json_object_get(e, "manager"), *op = json_object_get(e, "operation");
    json_t *ft = json_object_get(e, "fieldsType");
    if (m && !json_is_string(m)) return cn_err_bad_request(err, "metadata.managedFields.manager: Invalid value: must be a string");
    if (json_string_length(m) > MAX_MANAGER)
        return cn_err_bad_request(err, "metadata.managedFields.manager: Too long: may not be more than %d bytes", MAX_MANAGER);
    const char *ops = json_string_value(op);
    if (!ops || (strcmp(ops, "Apply") && strcmp(ops, "Update")))
        return cn_err_bad_request(err, "metadata.managedFields.operation: Unsupported value: \"%s\": supported values: \"Apply\", \"Update\"",
                                  ops ? ops : "");
    if (ft && !json_is_null(ft) && (!json_is_string(ft) || strcmp(json_string_value(ft), "FieldsV1")))
        return cn_err_bad_request(err, "metadata.managedFields.fieldsType: Unsupported value: \"%s\": supported values: \"FieldsV1\"",
                                  json_string_value(ft) ? json_string_value(ft) : "");
    static const char *const strs[] = { "apiVersion", "time", "subresource", NULL };
    for (int i = 0; strs[i]; i++) {
        json_t *v = json_object_get(e, strs[i]);
        if (v && !json_is_null(v) && !json_is_string(v))
            return cn_err_bad_request(err, "metadata.managedFields.%s: Invalid value: must be a string", strs[i]);
    }
    return 0;
}

static int entries_parse(const json_t *mf, entries *es, cn_err *err)
{
    es->v = NULL;
    es->n = 0;
    if (!mf || json_is_null(mf)) return 0;
    if (!json_is_array(mf)) return cn_err_bad_request(err, "metadata.managedFields: Invalid value: must be a list");
    if (json_array_size(mf) > MAX_ENTRIES)
        return cn_err_bad_request(err, "metadata.managedFields: Too many: must have at most %d entries", MAX_ENTRIES);
    es->v = cn_calloc(json_array_size(mf) + 1, sizeof *es->v);
    size_t i;
    json_t *e;
    json_array_foreach(mf, i, e) {
        int r = check_entry(e, err);
        json_t *set = NULL;
        json_t *fv = json_object_get(e, "fieldsV1");
        if (r == 0) r = fv && !json_is_null(fv) ? tree_flat(fv, &set, err) : (set = json_object(), 0);
        if (r < 0) {
            entries_release(es);
            return r;
        }
        entry *x = &es->v[es->n++];
        x->manager = cn_strdup(json_string_value(json_object_get(e, "manager")) ? json_string_value(json_object_get(e, "manager")) : "");
        x->operation = cn_strdup(json_string_value(json_object_get(e, "operation")));
        x->api_version = dup_or_null(json_object_get(e, "apiVersion"));
        x->subresource = dup_or_null(json_object_get(e, "subresource"));
        x->time = dup_or_null(json_object_get(e, "time"));
        x->set = set;
    }
    return 0;
}

static bool str_eq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

static long entry_find(const entries *es, const char *manager, const char *op, const char *sub)
{
    for (size_t i = 0; i < es->n; i++)
        if (str_eq(es->v[i].manager, manager) && str_eq(es->v[i].operation, op) &&
            str_eq(es->v[i].subresource, sub))
            return (long)i;
    return -1;
}

static size_t entry_get(entries *es, const cn_ssa_opts *o, const char *op)
{
    long i = entry_find(es, o->manager, op, o->subresource);
    if (i >= 0) return (size_t)i;
    es->v = cn_realloc(es->v, (es->n + 1) * sizeof *es->v);
    entry *x = &es->v[es->n];
    memset(x, 0, sizeof *x);
    x->manager = cn_strdup(o->manager);
    x->operation = cn_strdup(op);
    x->subresource = o->subresource && *o->subresource ? cn_strdup(o->subresource) : NULL;
    x->set = json_object();
    return es->n++;
}

static void entry_stamp(entry *x, const cn_ssa_opts *o)
{
    char ts[32];
    if (o->now) {
        snprintf(ts, sizeof ts, "%s", o->now);
    } else {
        cn_time_rfc3339(cn_wall_s(), ts);
    }
    free(x->time);
    x->time = cn_strdup(ts);
    free(x->api_version);
    x->api_version = o->api_version ? cn_strdup(o->api_version) : NULL;
}

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->manager, y->manager);
    if (!c) c = strcmp(x->operation, y->operation);
    if (!c) c = strcmp(x->subresource ? x->subresource : "", y->subresource ? y->subresource : "");
    return c;
}

/* The managedFields array: empty entries dropped, stable order. */
static json_t *entries_json(entries *es)
{
    if (es->n > 1) qsort(es->v, es->n, sizeof *es->v, entry_cmp);
    json_t *a = json_array();
    for (size_t i = 0; i < es->n; i++) {
        entry *x = &es->v[i];
        if (json_object_size(x->set) == 0) continue;
        json_t *e = json_object();
        json_object_set_new(e, "manager", json_string(x->manager));
        json_object_set_new(e, "operation", json_string(x->operation));
        if (x->api_version) json_object_set_new(e, "apiVersion", json_string(x->api_version));
        if (x->time) json_object_set_new(e, "time", json_string(x->time));
        json_object_set_new(e, "fieldsType", json_string("FieldsV1"));
        json_object_set_new(e, "fieldsV1", flat_to_tree(x->set));
        if (x->subresource) json_object_set_new(e, "subresource", json_string(x->subresource));
        json_array_append_new(a, e);
    }
    return a;
}

static void set_managed(json_t *obj, json_t *mf)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    if (json_array_size(mf)) json_object_set_new(meta, "managedFields", mf);
    else {
        json_decref(mf);
        json_object_del(meta, "managedFields");
    }
}

static json_t *managed_of(const json_t *obj)
{
    return json_object_get(json_object_get(obj, "metadata"), "managedFields");
}

int cn_ssa_check_managed_fields(const json_t *mf, cn_err *err)
{
    entries es;
    int r = entries_parse(mf, &es, err);
    entries_release(&es);
    return r;
}

bool cn_ssa_same_ignoring_managed(const json_t *a, const json_t *b)
{
    if (!a || !b) return a == b;
    json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
    json_t *mx = json_object_get(x, "metadata"), *my = json_object_get(y, "metadata");
    json_object_del(mx, "resourceVersion");
    json_object_del(my, "resourceVersion");
    json_object_del(mx, "managedFields");
    json_object_del(my, "managedFields");
    bool eq = cn_json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

bool cn_ssa_same_entries(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b)) return false;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *x = json_deep_copy(json_array_get(a, i)), *y = json_deep_copy(json_array_get(b, i));
        json_object_del(x, "time");
        json_object_del(y, "time");
        bool eq = cn_json_equal(x, y);
        json_decref(x);
        json_decref(y);
        if (!eq) return false;
    }
    return true;
}

char *cn_ssa_manager_from_user_agent(const char *ua)
{
    size_t n = 0;
    while (ua && ua[n] && ua[n] != '/' && n < MAX_MANAGER) n++;
    if (!n) return cn_strdup("unknown");
    char *m = cn_malloc(n + 1);
    memcpy(m, ua, n);
    m[n] = '\0';
    return m;
}

/* ---- apply ------------------------------------------------------------ */

static bool differs(const json_t *live, const json_t *cfg, const char *p)
{
    json_t *lv = get_path(live, p, NULL, NULL, NULL, NULL);
    json_t *cv = get_path(cfg, p, NULL, NULL, NULL, NULL);
    if (ends_with_dot(p)) return !lv != !cv;
    if (!lv || !cv) return lv != cv;
    return !cn_json_equal(lv, cv);
}

/* Does a manager other than entry `me` own p, or anything below it? */
static bool owned_by_others(const entries *es, long me, const char *p)
{
    size_t n = strlen(p);
    if (ends_with_dot(p)) n = n > 1 ? n - 2 : 0;
    for (size_t i = 0; i < es->n; i++) {
        if ((long)i == me) continue;
        if (json_object_get(es->v[i].set, p)) return true;
        const char *q;
        json_t *v;
        json_object_foreach(es->v[i].set, q, v)
            if (!strncmp(q, p, n) && (n == 0 || q[n] == SEP)) return true;
    }
    return false;
}

static char *manager_display(const entry *x)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_addf(&b, "\"%s\"", x->manager);
    if (x->subresource) cn_buf_addf(&b, " with subresource \"%s\"", x->subresource);
    if (!strcmp(x->operation, "Update")) cn_buf_addf(&b, " using %s", x->api_version ? x->api_version : "");
    return cn_buf_detach(&b, NULL);
}

static int conflict_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(json_string_value(json_array_get(x, 0)), json_string_value(json_array_get(y, 0)));
    return c ? c : strcmp(json_string_value(json_array_get(x, 1)), json_string_value(json_array_get(y, 1)));
}

/* conflicts: array of [manager display, path display]. */
static int conflict_error(json_t *conflicts, cn_err *err)
{
    size_t n = json_array_size(conflicts);
    json_t **v = cn_calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = json_array_get(conflicts, i);
    qsort(v, n, sizeof *v, conflict_cmp);
    cn_buf m;
    cn_buf_init(&m);
    if (n == 1) {
        cn_buf_addf(&m, "Apply failed with 1 conflict: conflict with %s: %s",
                    json_string_value(json_array_get(v[0], 0)), json_string_value(json_array_get(v[0], 1)));
    } else {
        cn_buf_addf(&m, "Apply failed with %zu conflicts: ", n);
        for (size_t i = 0; i < n; i++) {
            const char *mgr = json_string_value(json_array_get(v[i], 0));
            if (i == 0 || strcmp(mgr, json_string_value(json_array_get(v[i - 1], 0))))
                cn_buf_addf(&m, "%sconflicts with %s:", i ? "\n" : "", mgr);
            cn_buf_addf(&m, "\n- %s", json_string_value(json_array_get(v[i], 1)));
        }
    }
    cn_err_set(err, 409, "Conflict", "%s", m.data);
    for (size_t i = 0; i < n; i++)
        cn_err_add_cause(err, "FieldManagerConflict", json_string_value(json_array_get(v[i], 1)),
                         "conflict with %s", json_string_value(json_array_get(v[i], 0)));
    cn_buf_release(&m);
    free(v);
    return -EBUSY;
}

int cn_ssa_apply(const json_t *live, const json_t *config, const cn_ssa_opts *o,
                 json_t **out, bool *changed, cn_err *err)
{
    entries es = { 0 };
    json_t *cfg = NULL, *applied = NULL, *base = NULL, *merged = NULL, *conflicts = NULL;
    int r;
    *out = NULL;
    *changed = true;
    if (!o->manager || !*o->manager) {
        r = cn_err_set(err, 422, "Invalid",
                       "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
        cn_err_add_cause(err, "FieldValueRequired", "fieldManager", "Required value: is required for apply patch");
        goto done;
    }
    if (!json_is_object(config)) {
        r = cn_err_bad_request(err, "the apply configuration must be an object");
        goto done;
    }
    if (json_array_size(json_object_get(json_object_get(config, "metadata"), "managedFields"))) {
        r = cn_err_bad_request(err, "metadata.managedFields must be nil");
        goto done;
    }
    cfg = json_deep_copy(config);
    json_object_del(json_object_get(cfg, "metadata"), "managedFields");
    r = entries_parse(live ? managed_of(live) : NULL, &es, err);
    if (r < 0) {
        /* Stored junk must not block writes: start over. */
        cn_err_clear(err);
        es.v = NULL;
        es.n = 0;
        r = 0;
    }
    applied = field_set(cfg, o);
    long me = entry_find(&es, o->manager, "Apply", o->subresource);

    conflicts = json_array();
    const char *p;
    json_t *v;
    if (live) {
        json_object_foreach(applied, p, v) {
            if (!differs(live, cfg, p)) continue;
            for (size_t i = 0; i < es.n; i++) {
                if ((long)i == me || !json_object_get(es.v[i].set, p)) continue;
                if (o->force) {
                    json_object_del(es.v[i].set, p);
                    continue;
                }
                char *md = manager_display(&es.v[i]), *pd = display_path(p);
                json_array_append_new(conflicts, json_pack("[s,s]", md, pd));
                free(md);
                free(pd);
            }
        }
    }
    if (json_array_size(conflicts)) {
        r = conflict_error(conflicts, err);
        goto done;
    }

    base = live ? json_deep_copy(live) : json_object();
    if (me >= 0) {
        json_object_foreach(es.v[me].set, p, v)
            if (!json_object_get(applied, p) && !owned_by_others(&es, me, p)) remove_path(base, p);
    }
    if (o->schema) r = cn_patch_strategic(base, cfg, o->schema, &merged, err);
    else if (o->cr_schema) merged = cr_merge(base, cfg, o->cr_schema, 0);
    else r = cn_patch_merge(base, cfg, &merged, err);
    if (r < 0) goto done;
    if (!json_is_object(merged)) {
        r = cn_err_bad_request(err, "the apply configuration did not produce an object");
        goto done;
    }
    /* A non-empty object that is a leaf of the applied set is atomic: the
     * config's value replaces the live one instead of merging into it. */
    json_object_foreach(applied, p, v) {
        json_t *cv = get_path(cfg, p, NULL, NULL, NULL, NULL);
        if (!json_is_object(cv) || !json_object_size(cv) || ends_with_dot(p)) continue;
        json_t *parent;
        const char *last;
        size_t ln, idx;
        if (get_path(merged, p, &parent, &last, &ln, &idx) && json_is_object(parent) && last[0] == 'f')
            json_object_setn_new(parent, last + 2, ln - 2, json_deep_copy(cv));
    }
    size_t mi = entry_get(&es, o, "Apply");
    json_decref(es.v[mi].set);
    es.v[mi].set = json_incref(applied);
    entry_stamp(&es.v[mi], o);
    json_t *mf = entries_json(&es);
    *changed = !live || !cn_ssa_same_ignoring_managed(live, merged) || !cn_ssa_same_entries(managed_of(live), mf);
    set_managed(merged, mf);
    *out = CN_TAKE_PTR(merged);
    r = 0;
done:
    entries_release(&es);
    json_decref(cfg);
    json_decref(applied);
    json_decref(base);
    json_decref(merged);
    json_decref(conflicts);
    return r;
}

/* ---- update ----------------------------------------------------------- */

int cn_ssa_track_update(const json_t *old, json_t *nobj, const cn_ssa_opts *o, cn_err *err)
{
    entries es = { 0 };
    json_t *oldset = NULL, *newset = NULL, *changed = NULL, *removed = NULL;
    int r = 0;
    if (!o->manager || !*o->manager) return cn_err_internal(err, "field manager missing");
    if (old && entries_parse(managed_of(old), &es, err) < 0) {
        cn_err_clear(err);
        es.v = NULL;
        es.n = 0;
    }
    oldset = old ? field_set(old, o) : json_object();
    newset = field_set(nobj, o);
    changed = json_object();
    removed = json_object();
    const char *p;
    json_t *v;
    json_object_foreach(newset, p, v) {
        if (!json_object_get(oldset, p) || (!ends_with_dot(p) && differs(old, nobj, p)))
            set_add(changed, p);
    }
    json_object_foreach(oldset, p, v)
        if (!json_object_get(newset, p)) set_add(removed, p);
    if (json_object_size(changed) || json_object_size(removed)) {
        for (size_t i = 0; i < es.n; i++) {
            json_object_foreach(changed, p, v) json_object_del(es.v[i].set, p);
            json_object_foreach(removed, p, v) json_object_del(es.v[i].set, p);
        }
        if (json_object_size(changed)) {
            size_t mi = entry_get(&es, o, "Update");
            json_object_update(es.v[mi].set, changed);
            entry_stamp(&es.v[mi], o);
        }
        set_managed(nobj, entries_json(&es));
    } else {
        json_t *omf = old ? managed_of(old) : NULL;
        set_managed(nobj, omf ? json_deep_copy(omf) : json_array());
    }
    entries_release(&es);
    json_decref(oldset);
    json_decref(newset);
    json_decref(changed);
    json_decref(removed);
    return r;
}
