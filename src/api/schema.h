/* schema: the shape of the built-in Kubernetes types, one table for all of
 * the server's needs: protobuf field numbers (request decoding), known
 * fields (strict field validation), list merge keys and strategies
 * (strategic merge patch), and field types (OpenAPI, explain).
 *
 * The facts (names, numbers, merge keys) are those of the published API
 * (k8s.io/api generated.proto and types.go struct tags); the table is
 * written for cairn. Tables are static and immutable. */
#ifndef CN_SCHEMA_H
#define CN_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

typedef enum cn_ftype {
    CN_T_STRING,        /* proto string */
    CN_T_BYTES,         /* proto bytes -> base64 string in JSON */
    CN_T_BOOL,
    CN_T_INT32,
    CN_T_INT64,
    CN_T_DOUBLE,
    CN_T_MESSAGE,       /* nested message: .msg */
    CN_T_TIME,          /* metav1.Time / MicroTime -> RFC 3339 string */
    CN_T_QUANTITY,      /* resource.Quantity -> string */
    CN_T_INT_OR_STRING, /* intstr.IntOrString -> number or string */
    CN_T_RAW,           /* runtime.RawExtension / JSON -> any JSON value */
    CN_T_MAP,           /* map<string, elem>: .elem (+ .msg for messages) */
} cn_ftype;

enum cn_patch_strategy {
    CN_PS_REPLACE = 0,     /* lists are replaced (default) */
    CN_PS_MERGE,           /* list merged by merge_key (or as a set of primitives) */
    CN_PS_RETAIN_KEYS,     /* map: $retainKeys */
    CN_PS_MERGE_RETAIN,    /* both: merge + retainKeys (volumes) */
};

typedef struct cn_message cn_message;

typedef struct cn_field {
    const char *name;          /* JSON name */
    int number;                /* protobuf field number */
    cn_ftype type;
    bool repeated;             /* a JSON array of `type` */
    cn_ftype elem;             /* CN_T_MAP: the value type */
    const cn_message *msg;     /* CN_T_MESSAGE (or map of messages): the nested type */
    enum cn_patch_strategy strategy;
    const char *merge_key;     /* CN_PS_MERGE on a list of messages; NULL for primitives */
    /* Added members (compatible: appended). */
    bool optional;             /* a Go pointer: a present zero value is kept */
    bool inlined;              /* json ",inline" member: name is NULL, the
                                * fields of .msg appear in the parent object
                                * (cn_schema_field looks through it) */
    bool micro_time;           /* CN_T_TIME: metav1.MicroTime (6 fraction digits) */
} cn_field;

struct cn_message {
    const char *name;          /* "io.k8s.api.core.v1.PodSpec" style or short "PodSpec" */
    const cn_field *fields;
    size_t nfields;
};

/* The top-level message of a built-in kind, or NULL (custom resources). */
const cn_message *cn_schema_for_kind(const char *group, const char *version, const char *kind);
/* Field by JSON name, or NULL. Looks through inlined members. Top-level
 * kinds (and messages embedding TypeMeta) list "apiVersion" and "kind" with
 * number 0, which never matches on the wire. A CN_T_RAW field may carry a
 * .msg: the protobuf wrapper of a custom-JSON type (JSONSchemaPropsOrBool,
 * ExtraValue, ...); it is not a JSON object schema. */
const cn_field *cn_schema_field(const cn_message *m, const char *json_name);
/* Field by protobuf number, or NULL. */
const cn_field *cn_schema_field_by_number(const cn_message *m, int number);

/* Well-known messages shared by many kinds. */
const cn_message *cn_schema_object_meta(void);
const cn_message *cn_schema_delete_options(void);

/* The kind table, for tests and generators (OpenAPI): entry i of
 * cn_schema_nkinds(), or NULL past the end. Out-pointers may be NULL. */
size_t cn_schema_nkinds(void);
const cn_message *cn_schema_kind_at(size_t i, const char **group, const char **version,
                                    const char **kind);

#endif
