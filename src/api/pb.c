/* pb: Kubernetes protobuf request bodies to the JSON object model.
 *
 * A body is "k8s\0" + runtime.Unknown{1 typeMeta{1 apiVersion, 2 kind},
 * 2 raw, 3 contentEncoding, 4 contentType}; raw is the object encoded as
 * its own message and is walked field by field through the schema table.
 * The Go encoder writes zero scalars of non-pointer fields explicitly, so
 * those are dropped (they would be omitempty in JSON); pointer fields
 * (cn_field.optional), map values and list items keep their zero values.
 * Everything here reads hostile input: every length is checked against
 * the buffer, nesting is bounded, and so is the number of JSON values
 * produced. Errors are 400 BadRequest. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "api/pb.h"
#include "api/schema-internal.h"
#include "lib/base64.h"
#include "lib/util.h"

#define PB_MAX_DEPTH 64
#define PB_MAX_VALUES (1u << 20)      /* JSON values per body */
#define PB_MAX_BYTES (64u << 20)      /* string/bytes payload per body */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

typedef struct rd {
    const uint8_t *p;
    const uint8_t *end;
} rd;

typedef struct pb_ctx {
    cn_err *err;
    size_t values;
    size_t bytes;
} pb_ctx;

static int bad(pb_ctx *c, const cn_message *m, const char *what)
{
    return cn_err_bad_request(c->err, "invalid protobuf body: %s%s%s", what, m ? " in " : "",
                              m ? m->name : "");
}

static int charge(pb_ctx *c, size_t bytes)
{
    c->values++;
    c->bytes += bytes;
    if (c->values > PB_MAX_VALUES || c->bytes > PB_MAX_BYTES)
        return cn_err_bad_request(c->err, "protobuf body expands to too large an object");
    return 0;
}

static int rd_varint(rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return -EINVAL;
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1) return -EINVAL;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -EINVAL;
}

static int rd_fixed(rd *r, size_t n, uint64_t *out)
{
    if ((size_t)(r->end - r->p) < n) return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *out = v;
    return 0;
}

static int rd_len(rd *r, rd *sub)
{
    uint64_t n;
    if (rd_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p)) return -EINVAL;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int rd_key(rd *r, int *num, int *wt)
{
    uint64_t k;
    if (rd_varint(r, &k) < 0) return -EINVAL;
    uint64_t n = k >> 3;
    if (n == 0 || n > 536870911u) return -EINVAL;
    *num = (int)n;
    *wt = (int)(k & 7);
    return 0;
}

/* Groups are proto2 relics that Kubernetes never emits; refuse them. */
static int rd_skip(rd *r, int wt)
{
    uint64_t v;
    rd sub;
    switch (wt) {
    case WT_VARINT: return rd_varint(r, &v);
    case WT_I64: return rd_fixed(r, 8, &v);
    case WT_I32: return rd_fixed(r, 4, &v);
    case WT_LEN: return rd_len(r, &sub);
    default: return -EINVAL;
    }
}

/* ---- scalar rendering ---- */

static json_t *base64(const uint8_t *p, size_t n)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, p, n);
    json_t *s = json_stringn(b.data ? b.data : "", b.len);
    cn_buf_release(&b);
    return s;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Years 0001..9999, as Go's RFC 3339 marshalling accepts. */
#define PB_MIN_SECONDS (-62135596800LL)
#define PB_MAX_SECONDS 253402300799LL

static json_t *rfc3339(int64_t secs, int32_t nanos, bool micro)
{
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int mo, d;
    civil(days, &y, &mo, &d);
    char buf[96];  /* generous: the compiler cannot see the year range check */
    if (micro)
        snprintf(buf, sizeof buf, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06dZ", y, mo, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), nanos / 1000);
    else
        snprintf(buf, sizeof buf, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, mo, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    return json_string(buf);
}

/* ---- messages ---- */

static int decode_msg(pb_ctx *c, rd r, const cn_message *m, int depth, json_t **out);

/* A scalar of type t from the wire. *zero tells whether it is the type's
 * zero value (so the caller may drop it). */
static int scalar(pb_ctx *c, rd *r, int wt, cn_ftype t, const cn_message *m, json_t **out, bool *zero)
{
    uint64_t v;
    rd s;
    const uint8_t *start = r->p;
    *out = NULL;
    switch (t) {
    case CN_T_BOOL:
    case CN_T_INT32:
    case CN_T_INT64:
        if (wt != WT_VARINT || rd_varint(r, &v) < 0) return bad(c, m, "bad varint");
        *zero = v == 0;
        if (t == CN_T_BOOL) *out = json_boolean(v != 0);
        else if (t == CN_T_INT32) *out = json_integer((int32_t)(uint32_t)v);
        else *out = json_integer((json_int_t)(int64_t)v);
        break;
    case CN_T_DOUBLE: {
        if (wt != WT_I64 || rd_fixed(r, 8, &v) < 0) return bad(c, m, "bad double");
        double dv;
        memcpy(&dv, &v, sizeof dv);
        if (!isfinite(dv)) return bad(c, m, "non-finite number");
        *zero = dv == 0;
        *out = json_real(dv);
        break;
    }
    case CN_T_STRING:
        if (wt != WT_LEN || rd_len(r, &s) < 0) return bad(c, m, "bad string");
        *zero = s.p == s.end;
        *out = json_stringn((const char *)s.p, (size_t)(s.end - s.p));
        if (!*out) return bad(c, m, "string is not valid UTF-8");
        break;
    case CN_T_BYTES:
        if (wt != WT_LEN || rd_len(r, &s) < 0) return bad(c, m, "bad bytes");
        *zero = s.p == s.end;
        *out = base64(s.p, (size_t)(s.end - s.p));
        break;
    default:
        return bad(c, m, "internal: not a scalar");
    }
    if (!*out) return cn_err_internal(c->err, "out of memory decoding protobuf");
    return charge(c, (size_t)(r->p - start));
}

static int decode_time(pb_ctx *c, rd r, bool micro, json_t **out)
{
    int64_t secs = 0;
    int64_t nanos = 0;
    *out = NULL;
    while (r.p < r.end) {
        int num, wt;
        uint64_t v;
        if (rd_key(&r, &num, &wt) < 0) return bad(c, NULL, "bad key in Time");
        if ((num == 1 || num == 2) && wt == WT_VARINT) {
            if (rd_varint(&r, &v) < 0) return bad(c, NULL, "bad varint in Time");
            if (num == 1) secs = (int64_t)v;
            else nanos = (int32_t)(uint32_t)v;
        } else if (rd_skip(&r, wt) < 0) {
            return bad(c, NULL, "bad field in Time");
        }
    }
    if (secs == 0 && nanos == 0) return 0;   /* the zero Time: absent */
    if (secs < PB_MIN_SECONDS || secs > PB_MAX_SECONDS || nanos < 0 || nanos > 999999999)
        return bad(c, NULL, "Time out of range");
    *out = rfc3339(secs, (int32_t)nanos, micro);
    return charge(c, 32);
}

/* IntOrString {1 type, 2 intVal, 3 strVal}. *zero: the int 0. */
static int decode_intstr(pb_ctx *c, rd r, json_t **out, bool *zero)
{
    int64_t type = 0;
    int32_t iv = 0;
    rd sv = { NULL, NULL };
    *out = NULL;
    while (r.p < r.end) {
        int num, wt;
        uint64_t v;
        if (rd_key(&r, &num, &wt) < 0) return bad(c, NULL, "bad key in IntOrString");
        if ((num == 1 || num == 2) && wt == WT_VARINT) {
            if (rd_varint(&r, &v) < 0) return bad(c, NULL, "bad varint in IntOrString");
            if (num == 1) type = (int64_t)v;
            else iv = (int32_t)(uint32_t)v;
        } else if (num == 3 && wt == WT_LEN) {
            if (rd_len(&r, &sv) < 0) return bad(c, NULL, "bad string in IntOrString");
        } else if (rd_skip(&r, wt) < 0) {
            return bad(c, NULL, "bad field in IntOrString");
        }
    }
    if (type == 1) {
        *zero = sv.p == sv.end;
        *out = json_stringn(sv.p ? (const char *)sv.p : "", (size_t)(sv.end - sv.p));
        if (!*out) return bad(c, NULL, "IntOrString is not valid UTF-8");
    } else {
        *zero = iv == 0;
        *out = json_integer(iv);
    }
    return charge(c, (size_t)(sv.end - sv.p));
}

/* Messages of the form {1 string|bytes}: Quantity's string, and the raw
 * JSON of RawExtension, FieldsV1 and apiextensions JSON. */
static int decode_field1(pb_ctx *c, rd r, const char *what, rd *val)
{
    val->p = val->end = NULL;
    while (r.p < r.end) {
        int num, wt;
        if (rd_key(&r, &num, &wt) < 0) return bad(c, NULL, what);
        if (num == 1 && wt == WT_LEN) {
            if (rd_len(&r, val) < 0) return bad(c, NULL, what);
        } else if (rd_skip(&r, wt) < 0) {
            return bad(c, NULL, what);
        }
    }
    return 0;
}

static int decode_quantity(pb_ctx *c, rd r, json_t **out, bool *zero)
{
    rd s;
    *out = NULL;
    if (decode_field1(c, r, "bad Quantity", &s) < 0) return -EINVAL;
    *zero = s.p == s.end;
    *out = json_stringn(s.p ? (const char *)s.p : "", (size_t)(s.end - s.p));
    if (!*out) return bad(c, NULL, "Quantity is not valid UTF-8");
    return charge(c, (size_t)(s.end - s.p));
}

static int decode_rawjson(pb_ctx *c, rd r, json_t **out)
{
    rd s;
    *out = NULL;
    if (decode_field1(c, r, "bad raw JSON field", &s) < 0) return -EINVAL;
    if (s.p == s.end) return 0;
    json_error_t je;
    *out = json_loadb((const char *)s.p, (size_t)(s.end - s.p), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!*out) return cn_err_bad_request(c->err, "invalid protobuf body: embedded raw object is not JSON: %s", je.text);
    return charge(c, (size_t)(s.end - s.p));
}

static bool name_ends(const cn_message *m, const char *suffix)
{
    size_t n = strlen(m->name), k = strlen(suffix);
    return n >= k && !strcmp(m->name + n - k, suffix) && (n == k || m->name[n - k - 1] == '.');
}

/* Wrappers whose JSON form is not an object (see schema.h on CN_T_RAW). */
static int decode_wrapper(pb_ctx *c, rd r, const cn_message *w, int depth, json_t **out)
{
    json_t *o = NULL;
    *out = NULL;
    int ret = decode_msg(c, r, w, depth, &o);
    if (ret < 0) return ret;
    json_t *v = NULL;
    if (name_ends(w, "ExtraValue")) {
        v = json_object_get(o, "items");
        v = v ? json_incref(v) : json_array();
    } else if (name_ends(w, "JSONSchemaPropsOrArray")) {
        v = json_object_get(o, "jSONSchemas");
        if (json_array_size(v) == 0) v = json_object_get(o, "schema");
        json_incref(v);
    } else if (name_ends(w, "JSONSchemaPropsOrBool")) {
        v = json_object_get(o, "schema");
        v = v ? json_incref(v) : json_boolean(json_is_true(json_object_get(o, "allows")));
    } else if (name_ends(w, "JSONSchemaPropsOrStringArray")) {
        v = json_object_get(o, "property");
        if (json_array_size(v) == 0) v = json_object_get(o, "schema");
        json_incref(v);
    } else {
        ret = bad(c, w, "internal: unknown wrapper");
    }
    json_decref(o);
    *out = v;
    return ret;
}

/* One value of field f (a list item or map value when `keep`). */
static int value(pb_ctx *c, rd *r, int wt, const cn_field *f, cn_ftype t, const cn_message *m, int depth,
                 json_t **out, bool *zero)
{
    rd s;
    *zero = false;
    switch (t) {
    case CN_T_MESSAGE:
    case CN_T_TIME:
    case CN_T_QUANTITY:
    case CN_T_INT_OR_STRING:
    case CN_T_RAW:
        if (wt != WT_LEN || rd_len(r, &s) < 0) return bad(c, m, "bad embedded message");
        break;
    default:
        return scalar(c, r, wt, t, m, out, zero);
    }
    switch (t) {
    case CN_T_MESSAGE: return f->msg ? decode_msg(c, s, f->msg, depth + 1, out) : bad(c, m, "internal: no message");
    case CN_T_TIME: return decode_time(c, s, f->micro_time, out);
    case CN_T_QUANTITY: return decode_quantity(c, s, out, zero);
    case CN_T_INT_OR_STRING: return decode_intstr(c, s, out, zero);
    default:
        if (f->msg) return decode_wrapper(c, s, f->msg, depth + 1, out);
        return decode_rawjson(c, s, out);
    }
}

static bool packable(cn_ftype t)
{
    return t == CN_T_BOOL || t == CN_T_INT32 || t == CN_T_INT64 || t == CN_T_DOUBLE;
}

static int map_entry(pb_ctx *c, rd *r, int wt, const cn_field *f, const cn_message *m, int depth, json_t *obj)
{
    rd e;
    if (wt != WT_LEN || rd_len(r, &e) < 0) return bad(c, m, "bad map entry");
    rd key = { (const uint8_t *)"", (const uint8_t *)"" };
    json_t *val = NULL;
    int ret = 0;
    while (e.p < e.end) {
        int num, ewt;
        if (rd_key(&e, &num, &ewt) < 0) {
            ret = bad(c, m, "bad key in map entry");
            goto out;
        }
        if (num == 1) {
            if (ewt != WT_LEN || rd_len(&e, &key) < 0) {
                ret = bad(c, m, "bad map key");
                goto out;
            }
        } else if (num == 2) {
            bool zero;
            json_decref(val);
            val = NULL;
            ret = value(c, &e, ewt, f, f->elem, m, depth, &val, &zero);
            if (ret < 0) goto out;
        } else if (rd_skip(&e, ewt) < 0) {
            ret = bad(c, m, "bad field in map entry");
            goto out;
        }
    }
    if (!val) {
        /* An absent value is the zero value of the element type. */
        switch (f->elem) {
        case CN_T_MESSAGE: val = json_object(); break;
        case CN_T_BOOL: val = json_false(); break;
        case CN_T_INT32: case CN_T_INT64: case CN_T_INT_OR_STRING: val = json_integer(0); break;
        case CN_T_DOUBLE: val = json_real(0); break;
        case CN_T_RAW: val = f->msg && name_ends(f->msg, "ExtraValue") ? json_array() : json_null(); break;
        default: val = json_string(""); break;
        }
    }
    size_t klen = (size_t)(key.end - key.p);
    if (memchr(key.p, 0, klen)) {
        ret = bad(c, m, "map key contains NUL");
        goto out;
    }
    char *k = cn_strndup((const char *)key.p, klen);
    /* json_object_set_new takes val even when it fails */
    if (json_object_set_new(obj, k, val) < 0) ret = bad(c, m, "map key is not valid UTF-8");
    else ret = charge(c, klen);
    val = NULL;
    free(k);
out:
    json_decref(val);
    return ret;
}

static int decode_msg(pb_ctx *c, rd r, const cn_message *m, int depth, json_t **out)
{
    *out = NULL;
    if (depth > PB_MAX_DEPTH) return cn_err_bad_request(c->err, "protobuf body nests too deeply");
    json_t *obj = json_object();
    int ret = charge(c, 0);
    while (ret >= 0 && r.p < r.end) {
        int num, wt;
        if (rd_key(&r, &num, &wt) < 0) {
            ret = bad(c, m, "bad field key");
            break;
        }
        const cn_field *f = cn_schema_field_by_number(m, num);
        if (!f) {
            if (rd_skip(&r, wt) < 0) ret = bad(c, m, "bad unknown field");
            continue;
        }
        if (f->type == CN_T_MAP) {
            json_t *map = json_object_get(obj, f->name);
            if (!map) {
                map = json_object();
                json_object_set_new(obj, f->name, map);
            }
            ret = map_entry(c, &r, wt, f, m, depth + 1, map);
            continue;
        }
        if (f->repeated) {
            json_t *arr = json_object_get(obj, f->name);
            if (!arr) {
                arr = json_array();
                json_object_set_new(obj, f->name, arr);
            }
            if (packable(f->type) && wt == WT_LEN) {
                rd s;
                if (rd_len(&r, &s) < 0) {
                    ret = bad(c, m, "bad packed field");
                    break;
                }
                int ewt = f->type == CN_T_DOUBLE ? WT_I64 : WT_VARINT;
                while (ret >= 0 && s.p < s.end) {
                    json_t *v;
                    bool zero;
                    ret = scalar(c, &s, ewt, f->type, m, &v, &zero);
                    if (ret >= 0) json_array_append_new(arr, v);
                }
                continue;
            }
            json_t *v = NULL;
            bool zero;
            ret = value(c, &r, wt, f, f->type, m, depth, &v, &zero);
            if (ret >= 0) json_array_append_new(arr, v ? v : json_null());
            continue;
        }
        json_t *v = NULL;
        bool zero = false;
        ret = value(c, &r, wt, f, f->type, m, depth, &v, &zero);
        if (ret < 0) break;
        if (f->inlined) {
            if (json_is_object(v)) json_object_update(obj, v);
            json_decref(v);
        } else if (!v || (zero && !f->optional)) {
            json_decref(v);
            json_object_del(obj, f->name);   /* the last occurrence wins */
        } else if (f->type == CN_T_MESSAGE && json_is_object(json_object_get(obj, f->name))) {
            /* a repeated embedded message merges into the first one */
            json_object_update(json_object_get(obj, f->name), v);
            json_decref(v);
        } else {
            json_object_set_new(obj, f->name, v);
        }
    }
    if (ret < 0) {
        json_decref(obj);
        return ret;
    }
    *out = obj;
    return 0;
}

int cn_pb_decode_message(const uint8_t *buf, size_t len, const cn_message *m, json_t **out, cn_err *err)
{
    pb_ctx c = { err, 0, 0 };
    *out = NULL;
    if (!m) return cn_err_internal(err, "no schema for protobuf message");
    rd r = { buf, buf + len };
    if (!buf) r.p = r.end = (const uint8_t *)"";
    return decode_msg(&c, r, m, 0, out);
}

/* typeMeta {1 apiVersion, 2 kind} into NUL-terminated copies. */
static int type_meta(pb_ctx *c, rd r, char **api_version, char **kind)
{
    while (r.p < r.end) {
        int num, wt;
        rd s;
        if (rd_key(&r, &num, &wt) < 0) return bad(c, NULL, "bad typeMeta");
        if ((num == 1 || num == 2) && wt == WT_LEN) {
            if (rd_len(&r, &s) < 0) return bad(c, NULL, "bad typeMeta");
            size_t n = (size_t)(s.end - s.p);
            if (n > 253 || memchr(s.p, 0, n)) return bad(c, NULL, "bad typeMeta string");
            char **dst = num == 1 ? api_version : kind;
            free(*dst);
            *dst = cn_strndup((const char *)s.p, n);
        } else if (rd_skip(&r, wt) < 0) {
            return bad(c, NULL, "bad typeMeta");
        }
    }
    return 0;
}

int cn_pb_decode(const uint8_t *buf, size_t len, json_t **out, cn_err *err)
{
    static const uint8_t magic[4] = { 0x6b, 0x38, 0x73, 0x00 };
    pb_ctx c = { err, 0, 0 };
    char *api_version = NULL, *kind = NULL, *group = NULL;
    json_t *obj = NULL;
    rd raw = { NULL, NULL };
    bool have_raw = false;
    int ret = 0;

    *out = NULL;
    if (!buf || len < sizeof magic || memcmp(buf, magic, sizeof magic) != 0) {
        ret = cn_err_bad_request(err, "invalid protobuf body: missing the \"k8s\\0\" envelope prefix");
        goto out;
    }
    rd r = { buf + sizeof magic, buf + len };
    while (r.p < r.end) {
        int num, wt;
        rd s;
        if (rd_key(&r, &num, &wt) < 0) {
            ret = bad(&c, NULL, "bad envelope field");
            goto out;
        }
        if (num >= 1 && num <= 4) {
            if (wt != WT_LEN || rd_len(&r, &s) < 0) {
                ret = bad(&c, NULL, "bad envelope field");
                goto out;
            }
            if (num == 1 && (ret = type_meta(&c, s, &api_version, &kind)) < 0) goto out;
            if (num == 2) {
                raw = s;
                have_raw = true;
            }
            if (num == 3 && s.p != s.end) {
                ret = cn_err_set(err, 415, "UnsupportedMediaType",
                                 "protobuf body with a content encoding is not supported");
                goto out;
            }
        } else if (rd_skip(&r, wt) < 0) {
            ret = bad(&c, NULL, "bad envelope field");
            goto out;
        }
    }
    if (!api_version || !*api_version || !kind || !*kind) {
        ret = cn_err_bad_request(err, "invalid protobuf body: the envelope has no apiVersion or kind");
        goto out;
    }
    const char *slash = strchr(api_version, '/');
    const char *version = slash ? slash + 1 : api_version;
    group = slash ? cn_strndup(api_version, (size_t)(slash - api_version)) : cn_strdup("");
    const cn_message *m = cn_schema_for_kind(group, version, kind);
    if (!m) {
        cn_err_set(err, 415, "UnsupportedMediaType",
                   "protobuf bodies of kind %s (%s) are not supported; send JSON", kind, api_version);
        ret = -ENOTSUP;
        goto out;
    }
    if (!have_raw) raw.p = raw.end = (const uint8_t *)"";
    json_t *body = NULL;
    ret = decode_msg(&c, raw, m, 0, &body);
    if (ret < 0) goto out;
    obj = json_object();
    json_object_set_new(obj, "kind", json_string(kind));
    json_object_set_new(obj, "apiVersion", json_string(api_version));
    json_object_update(obj, body);
    json_decref(body);
    if (!json_is_string(json_object_get(obj, "kind")) || !json_is_string(json_object_get(obj, "apiVersion"))) {
        ret = bad(&c, NULL, "typeMeta is not valid UTF-8");
        goto out;
    }
    *out = obj;
    obj = NULL;
out:
    json_decref(obj);
    free(api_version);
    free(kind);
    free(group);
    return ret;
}
