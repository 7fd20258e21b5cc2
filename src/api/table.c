/* table: server-side printing (meta.k8s.io/v1 Table). Finds the printer for
 * a resource (built-in kinds live in table_core.c / table_apps.c, with the
 * column sets of upstream's pkg/printers/internalversion), prints custom
 * resources through their CRD's additionalPrinterColumns, and falls back to
 * upstream's default convertor (Name, Created At) or Name, Age. Also holds
 * the cell helpers the printers share. */
#include "api/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jsonpath.h"
#include "api/table-internal.h"
#include "lib/util.h"

/* --- helpers shared by the printers --- */

const json_t *cn_tbl_get(const json_t *obj, const char *path)
{
    const json_t *cur = obj;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur)) return NULL;
        cur = json_object_getn(cur, p, n);
        p += n;
        if (*p == '.') p++;
    }
    return cur;
}

const char *cn_tbl_str(const json_t *obj, const char *path)
{
    return json_string_value(cn_tbl_get(obj, path));
}

int64_t cn_tbl_int(const json_t *obj, const char *path, int64_t dflt)
{
    const json_t *v = cn_tbl_get(obj, path);
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    return dflt;
}

bool cn_tbl_bool(const json_t *obj, const char *path, bool dflt)
{
    const json_t *v = cn_tbl_get(obj, path);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

size_t cn_tbl_count(const json_t *obj, const char *path)
{
    const json_t *v = cn_tbl_get(obj, path);
    if (json_is_array(v)) return json_array_size(v);
    if (json_is_object(v)) return json_object_size(v);
    return 0;
}

bool cn_tbl_deleting(const json_t *obj)
{
    const char *d = cn_tbl_str(obj, "metadata.deletionTimestamp");
    return d && *d;
}

void cn_tbl_adds(json_t *cells, const char *s)
{
    json_t *v = json_string(s ? s : "");
    json_array_append_new(cells, v ? v : json_string("<invalid>"));
}

void cn_tbl_add_own(json_t *cells, char *s)
{
    cn_tbl_adds(cells, s);
    free(s);
}

void cn_tbl_addi(json_t *cells, int64_t v)
{
    json_array_append_new(cells, json_integer(v));
}

void cn_tbl_addb(json_t *cells, bool v)
{
    json_array_append_new(cells, json_boolean(v));
}

void cn_tbl_since(const char *ts, int64_t now, char out[32])
{
    int64_t t;
    if (!ts || !*ts || cn_time_parse(ts, &t) < 0) {
        memcpy(out, "<unknown>", sizeof("<unknown>"));
        return;
    }
    cn_human_duration(now - t, out);
}

void cn_tbl_add_since(json_t *cells, const char *ts, int64_t now)
{
    char b[32];
    cn_tbl_since(ts, now, b);
    cn_tbl_adds(cells, b);
}

void cn_tbl_add_age(json_t *cells, const json_t *obj, int64_t now)
{
    cn_tbl_add_since(cells, cn_tbl_str(obj, "metadata.creationTimestamp"), now);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void cn_tbl_sort_strs(const char **v, size_t n)
{
    if (n > 1) qsort(v, n, sizeof(*v), cmp_str);
}

/* Joins sorted "k=v" pairs of a string map. */
static char *join_map(const json_t *map)
{
    size_t n = json_is_object(map) ? json_object_size(map) : 0, i = 0;
    if (n == 0) return cn_strdup("");
    const char **keys = cn_calloc(n, sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v) keys[i++] = k;
    cn_tbl_sort_strs(keys, n);
    cn_buf b;
    cn_buf_init(&b);
    for (i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(map, keys[i]));
        cn_buf_addf(&b, "%s%s=%s", i ? "," : "", keys[i], val ? val : "");
    }
    free(keys);
    return cn_buf_detach(&b, NULL);
}

char *cn_tbl_labels(const json_t *map)
{
    char *s = join_map(map);
    if (!*s) {
        free(s);
        return cn_strdup("<none>");
    }
    return s;
}

/* One requirement of a selector, with its key for sorting. */
typedef struct req {
    const char *key;
    char *text;
} req;

static int cmp_req(const void *a, const void *b)
{
    const req *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->text, y->text);
}

char *cn_tbl_selector(const json_t *sel)
{
    const json_t *ml = json_object_get(sel, "matchLabels");
    const json_t *me = json_object_get(sel, "matchExpressions");
    size_t n = (json_is_object(ml) ? json_object_size(ml) : 0) + (json_is_array(me) ? json_array_size(me) : 0);
    if (n == 0) return cn_strdup("");
    req *rs = cn_calloc(n, sizeof(*rs));
    size_t nr = 0, i;
    const char *k;
    json_t *v;
    if (json_is_object(ml)) {
        json_object_foreach((json_t *)ml, k, v) {
            rs[nr].key = k;
            rs[nr++].text = cn_asprintf("%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
        }
    }
    if (json_is_array(me)) {
        json_array_foreach(me, i, v) {
            const char *key = json_string_value(json_object_get(v, "key"));
            const char *op = json_string_value(json_object_get(v, "operator"));
            if (!key || !op) continue;
            const json_t *vals = json_object_get(v, "values");
            size_t nv = json_is_array(vals) ? json_array_size(vals) : 0, j;
            const char **sv = cn_calloc(nv ? nv : 1, sizeof(*sv));
            size_t ns = 0;
            json_t *e;
            json_array_foreach(vals, j, e) if (json_is_string(e)) sv[ns++] = json_string_value(e);
            cn_tbl_sort_strs(sv, ns);
            cn_buf b;
            cn_buf_init(&b);
            if (strcmp(op, "Exists") == 0) {
                cn_buf_adds(&b, key);
            } else if (strcmp(op, "DoesNotExist") == 0) {
                cn_buf_addf(&b, "!%s", key);
            } else {
                cn_buf_addf(&b, "%s %s (", key, strcmp(op, "NotIn") == 0 ? "notin" : "in");
                for (j = 0; j < ns; j++) cn_buf_addf(&b, "%s%s", j ? "," : "", sv[j]);
                cn_buf_addc(&b, ')');
            }
            free(sv);
            rs[nr].key = key;
            rs[nr++].text = cn_buf_detach(&b, NULL);
        }
    }
    qsort(rs, nr, sizeof(*rs), cmp_req);
    cn_buf b;
    cn_buf_init(&b);
    for (i = 0; i < nr; i++) {
        cn_buf_addf(&b, "%s%s", i ? "," : "", rs[i].text);
        free(rs[i].text);
    }
    free(rs);
    return cn_buf_detach(&b, NULL);
}

char *cn_tbl_format_selector(const json_t *sel)
{
    char *s = cn_tbl_selector(sel);
    if (!*s) {
        free(s);
        return cn_strdup("<none>");
    }
    return s;
}

void cn_tbl_add_containers(json_t *cells, const json_t *podspec)
{
    const json_t *cs = json_object_get(podspec, "containers");
    cn_buf names, images;
    cn_buf_init(&names);
    cn_buf_init(&images);
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c) {
        const char *n = json_string_value(json_object_get(c, "name"));
        const char *im = json_string_value(json_object_get(c, "image"));
        if (i) {
            cn_buf_addc(&names, ',');
            cn_buf_addc(&images, ',');
        }
        cn_buf_adds(&names, n ? n : "");
        cn_buf_adds(&images, im ? im : "");
    }
    cn_tbl_add_own(cells, cn_buf_detach(&names, NULL));
    cn_tbl_add_own(cells, cn_buf_detach(&images, NULL));
}

/* --- human durations (apimachinery duration.HumanDuration) --- */

void cn_human_duration(int64_t seconds, char out[32])
{
    if (seconds < -1) {
        snprintf(out, 32, "<invalid>");
        return;
    }
    if (seconds < 0) seconds = 0;
    if (seconds < 120) {
        snprintf(out, 32, "%llds", (long long)seconds);
        return;
    }
    long long minutes = seconds / 60;
    if (minutes < 10) {
        long long s = seconds % 60;
        if (s == 0) snprintf(out, 32, "%lldm", minutes);
        else snprintf(out, 32, "%lldm%llds", minutes, s);
        return;
    }
    if (minutes < 180) {
        snprintf(out, 32, "%lldm", minutes);
        return;
    }
    long long hours = seconds / 3600;
    if (hours < 8) {
        long long m = minutes % 60;
        if (m == 0) snprintf(out, 32, "%lldh", hours);
        else snprintf(out, 32, "%lldh%lldm", hours, m);
    } else if (hours < 48) {
        snprintf(out, 32, "%lldh", hours);
    } else if (hours < 24 * 8) {
        long long h = hours % 24;
        if (h == 0) snprintf(out, 32, "%lldd", hours / 24);
        else snprintf(out, 32, "%lldd%lldh", hours / 24, h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(out, 32, "%lldd", hours / 24);
    } else if (hours < 24 * 365 * 8) {
        long long dy = (hours / 24) % 365;
        if (dy == 0) snprintf(out, 32, "%lldy", hours / 24 / 365);
        else snprintf(out, 32, "%lldy%lldd", hours / 24 / 365, dy);
    } else {
        snprintf(out, 32, "%lldy", hours / 24 / 365);
    }
}

/* --- fallbacks --- */

/* Upstream's default table convertor (rest.NewDefaultTableConvertor), used
 * by kinds without a printer: roles, limit ranges, CRDs, API services... */
static const cn_tbl_col created_at_cols[] = {
    CN_COL_NAME,
    { "Created At", "date", "", CN_TBL_DESC_AGE, 0 },
};

static void created_at_cells(const json_t *obj, int64_t now, json_t *cells)
{
    (void)now;
    cn_tbl_adds(cells, cn_tbl_str(obj, "metadata.name"));
    int64_t t;
    const char *ts = cn_tbl_str(obj, "metadata.creationTimestamp");
    char b[32];
    if (!ts || cn_time_parse(ts, &t) < 0) t = -62135596800LL;  /* Go's zero time */
    cn_time_rfc3339(t, b);
    cn_tbl_adds(cells, b);
}

static const cn_tbl_col name_age_cols[] = { CN_COL_NAME, CN_COL_AGE };

static void name_age_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, cn_tbl_str(obj, "metadata.name"));
    cn_tbl_add_age(cells, obj, now);
}

static const char *const created_at_plurals[] = {
    "roles", "clusterroles", "limitranges", "customresourcedefinitions", "apiservices", NULL,
};

static const cn_tbl_kind created_at_kind = CN_TBL_KIND("", "", created_at_cols, created_at_cells);
static const cn_tbl_kind name_age_kind = CN_TBL_KIND("", "", name_age_cols, name_age_cells);

static const cn_tbl_kind *find_kind(const cn_resource *res)
{
    const char *g = res->group ? res->group : "";
    const char *p = res->plural ? res->plural : "";
    const struct { const cn_tbl_kind *k; size_t n; } sets[] = {
        { cn_tbl_core_kinds, cn_tbl_core_nkinds },
        { cn_tbl_apps_kinds, cn_tbl_apps_nkinds },
    };
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        for (size_t i = 0; i < sets[s].n; i++) {
            const cn_tbl_kind *k = &sets[s].k[i];
            if (strcmp(k->plural, p) == 0 && strcmp(k->group, g) == 0) return k;
        }
    }
    for (size_t i = 0; created_at_plurals[i]; i++)
        if (strcmp(created_at_plurals[i], p) == 0) return &created_at_kind;
    return &name_age_kind;
}

static json_t *col_json(const char *name, const char *type, const char *format, const char *desc,
                        int64_t priority)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", name ? name : "", "type", type ? type : "string",
                     "format", format ? format : "", "description", desc ? desc : "",
                     "priority", (json_int_t)priority);
}

/* --- custom resources: additionalPrinterColumns --- */

static const json_t *crd_columns(const cn_resource *res)
{
    const json_t *cols = json_object_get(res->crd_version, "additionalPrinterColumns");
    return json_is_array(cols) && json_array_size(cols) > 0 ? cols : NULL;
}

static json_t *cr_columns(const cn_resource *res)
{
    json_t *out = json_array();
    json_array_append_new(out, col_json("Name", "string", "name", CN_TBL_DESC_NAME, 0));
    const json_t *cols = crd_columns(res);
    if (!cols) {
        /* apiextensions serves an Age column when none are declared */
        json_array_append_new(out, col_json("Age", "date", "", CN_TBL_DESC_AGE, 0));
        return out;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        const char *path = json_string_value(json_object_get(c, "jsonPath"));
        const char *desc = json_string_value(json_object_get(c, "description"));
        char *dflt = NULL;
        if (!desc || !*desc)
            desc = dflt = cn_asprintf("Custom resource definition column (in JSONPath format): %s",
                                      path ? path : "");
        json_array_append_new(out, col_json(json_string_value(json_object_get(c, "name")),
                                            json_string_value(json_object_get(c, "type")),
                                            json_string_value(json_object_get(c, "format")), desc,
                                            json_integer_value(json_object_get(c, "priority"))));
        free(dflt);
    }
    return out;
}

/* Text of a value as kube's JSONPath printer shows it, for string columns. */
static json_t *value_text(const json_t *v)
{
    char b[64];
    switch (json_typeof(v)) {
    case JSON_STRING: return json_string(json_string_value(v));
    case JSON_INTEGER:
        snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
        return json_string(b);
    case JSON_REAL:
        snprintf(b, sizeof(b), "%.17g", json_real_value(v));
        /* shortest form that round-trips, as Go prints float64 */
        for (int prec = 1; prec <= 17; prec++) {
            char t[64];
            snprintf(t, sizeof(t), "%.*g", prec, json_real_value(v));
            if (strtod(t, NULL) == json_real_value(v)) {
                memcpy(b, t, sizeof(b));
                break;
            }
        }
        return json_string(b);
    case JSON_TRUE: return json_string("true");
    case JSON_FALSE: return json_string("false");
    case JSON_NULL: return json_null();
    default: {
        char *s = json_dumps(v, JSON_COMPACT);
        json_t *r = s ? json_string(s) : json_null();
        free(s);
        return r ? r : json_null();
    }
    }
}

static json_t *cr_cell(const char *type, const json_t *v, int64_t now)
{
    if (!v || json_is_null(v)) return json_null();
    if (!type || strcmp(type, "string") == 0) return value_text(v);
    if (strcmp(type, "integer") == 0) {
        if (json_is_integer(v)) return json_integer(json_integer_value(v));
        if (json_is_real(v)) return json_integer((json_int_t)json_real_value(v));
    } else if (strcmp(type, "number") == 0) {
        if (json_is_number(v)) return json_real(json_number_value(v));
    } else if (strcmp(type, "boolean") == 0) {
        if (json_is_boolean(v)) return json_boolean(json_is_true(v));
    } else if (strcmp(type, "date") == 0) {
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            int64_t t;
            char b[32];
            if (!*s || strcmp(s, "null") == 0) return json_string("<unknown>");
            if (cn_time_parse(s, &t) < 0) return json_string("<invalid>");
            cn_human_duration(now - t, b);
            return json_string(b);
        }
    }
    return json_null();
}

static json_t *cr_cells(const cn_resource *res, const json_t *obj, int64_t now)
{
    json_t *cells = json_array();
    cn_tbl_adds(cells, cn_tbl_str(obj, "metadata.name"));
    const json_t *cols = crd_columns(res);
    if (!cols) {
        cn_tbl_add_age(cells, obj, now);
        return cells;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        const char *path = json_string_value(json_object_get(c, "jsonPath"));
        cn_jsonpath *jp = NULL;
        if (!path || cn_jsonpath_parse(path, &jp) < 0) {
            json_array_append_new(cells, json_null());
            continue;
        }
        const json_t *v = cn_jsonpath_first(jp, obj);
        json_array_append_new(cells, cr_cell(json_string_value(json_object_get(c, "type")), v, now));
        cn_jsonpath_free(jp);
    }
    return cells;
}

/* --- public API --- */

json_t *cn_table_columns(const cn_resource *res)
{
    if (!res) return json_array();
    if (res->flags & CN_RES_CUSTOM) return cr_columns(res);
    const cn_tbl_kind *k = find_kind(res);
    json_t *out = json_array();
    for (size_t i = 0; i < k->ncols; i++) {
        const cn_tbl_col *c = &k->cols[i];
        json_array_append_new(out, col_json(c->name, c->type, c->format, c->desc, c->priority));
    }
    return out;
}

json_t *cn_table_cells(const cn_resource *res, const json_t *obj, int64_t now)
{
    if (!res || !json_is_object(obj)) return json_array();
    if (res->flags & CN_RES_CUSTOM) return cr_cells(res, obj, now);
    const cn_tbl_kind *k = find_kind(res);
    json_t *cells = json_array();
    k->cells(obj, now, cells);
    return cells;
}
