/* table-internal: what table.c (dispatch, helpers, custom resources) shares
 * with the per-group printers in table_core.c and table_apps.c. */
#ifndef CN_TABLE_INTERNAL_H
#define CN_TABLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CN_TBL_DESC_NAME "Name must be unique within a namespace. Is required when creating resources, " \
    "although some resources may allow a client to request the generation of an appropriate name " \
    "automatically. Name is primarily intended for creation idempotence and configuration definition. " \
    "Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define CN_TBL_DESC_AGE "CreationTimestamp is a timestamp representing the server time when this object " \
    "was created. It is not guaranteed to be set in happens-before order across separate operations. " \
    "Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by " \
    "the system. Read-only. Null for lists. More info: " \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

/* One column definition; priority 1 = only with -o wide. */
typedef struct cn_tbl_col {
    const char *name, *type, *format, *desc;
    int priority;
} cn_tbl_col;

#define CN_COL_NAME { "Name", "string", "name", CN_TBL_DESC_NAME, 0 }
#define CN_COL_AGE { "Age", "string", "", CN_TBL_DESC_AGE, 0 }
#define CN_COL(n, t, d) { n, t, "", d, 0 }
#define CN_COL_WIDE(n, t, d) { n, t, "", d, 1 }

/* Appends one row's cells (all columns, wide ones included: the server
 * always prints wide and kubectl hides priority > 0 columns). */
typedef void cn_tbl_cells_fn(const json_t *obj, int64_t now, json_t *cells);

typedef struct cn_tbl_kind {
    const char *group, *plural;
    const cn_tbl_col *cols;
    size_t ncols;
    cn_tbl_cells_fn *cells;
} cn_tbl_kind;

#define CN_TBL_KIND(g, p, cols, fn) { g, p, cols, sizeof(cols) / sizeof(cols[0]), fn }

extern const cn_tbl_kind cn_tbl_core_kinds[];
extern const size_t cn_tbl_core_nkinds;
extern const cn_tbl_kind cn_tbl_apps_kinds[];
extern const size_t cn_tbl_apps_nkinds;

/* Dotted-path lookup ("status.nodeInfo.kubeletVersion"); NULL if absent. */
const json_t *cn_tbl_get(const json_t *obj, const char *path);
const char *cn_tbl_str(const json_t *obj, const char *path);       /* NULL unless a string */
int64_t cn_tbl_int(const json_t *obj, const char *path, int64_t dflt);
bool cn_tbl_bool(const json_t *obj, const char *path, bool dflt);
size_t cn_tbl_count(const json_t *obj, const char *path);            /* array/object size */
bool cn_tbl_deleting(const json_t *obj);

void cn_tbl_adds(json_t *cells, const char *s);      /* NULL adds "" */
void cn_tbl_add_own(json_t *cells, char *s);         /* takes s */
void cn_tbl_addi(json_t *cells, int64_t v);
void cn_tbl_addb(json_t *cells, bool v);
/* Human time since an RFC 3339 timestamp; "<unknown>" if missing/bad. */
void cn_tbl_since(const char *ts, int64_t now, char out[32]);
void cn_tbl_add_since(json_t *cells, const char *ts, int64_t now);
void cn_tbl_add_age(json_t *cells, const json_t *obj, int64_t now);

/* "a=1,b=2" sorted by key; "<none>" when empty. Caller frees. */
char *cn_tbl_labels(const json_t *map);
/* metav1.LabelSelector as a selector string ("app=web,tier in (a,b)");
 * "" when empty or absent. Caller frees. */
char *cn_tbl_selector(const json_t *sel);
/* Same, but "<none>" when empty (metav1.FormatLabelSelector). */
char *cn_tbl_format_selector(const json_t *sel);
/* Appends the Containers and Images cells of a pod spec. */
void cn_tbl_add_containers(json_t *cells, const json_t *podspec);
/* Sorts an array of C strings in place. */
void cn_tbl_sort_strs(const char **v, size_t n);

#endif
