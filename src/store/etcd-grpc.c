/* etcd-grpc: the protobuf codec behind the experimental gRPC transport of
 * etcd-client.c (CAIRN_ETCD_TRANSPORT=grpc).
 *
 * etcd.c builds and reads the JSON objects of etcd's v3 gateway; this file
 * translates those same objects to the etcdserverpb messages (KV Range, Txn,
 * Compaction) and decodes the answers back to the gateway's JSON shape
 * (bytes base64, int64 as strings, zero values left out), so etcd.c does not
 * know which transport carried a call. Field numbers are those of etcd
 * 3.4's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto. Requests may
 * only hold the fields listed here: an unknown one is an error rather than
 * silently dropped. */
#include "store/etcd-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

/* Values are at most a few MiB; base64 JSON fields decode to at most this. */
#define MAX_FIELD ((size_t)64 << 20)
/* Nesting of the messages we decode: Txn > ResponseOp > Range > KeyValue. */
#define MAX_DEPTH 8

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* ---- encoding ---- */

static void put_varint(cn_buf *b, uint64_t v)
{
    unsigned char q[10];
    size_t n = 0;
    do {
        q[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) q[n] |= 0x80;
        n++;
    } while (v);
    cn_buf_add(b, q, n);
}

static void put_tag(cn_buf *b, unsigned field, unsigned wt)
{
    put_varint(b, (uint64_t)field << 3 | wt);
}

static void put_len(cn_buf *b, unsigned field, const void *data, size_t len)
{
    put_tag(b, field, WT_LEN);
    put_varint(b, len);
    if (len) cn_buf_add(b, data, len);
}

typedef enum ftype { F_BYTES, F_INT, F_BOOL, F_ENUM } ftype;

typedef struct field {
    const char *name;
    unsigned num;
    ftype type;
    const char *const *names;   /* F_ENUM: value names by number */
    bool always;                /* a oneof member: encoded even when zero */
} field;

static const char *const cmp_results[] = { "EQUAL", "GREATER", "LESS", "NOT_EQUAL", NULL };
static const char *const cmp_targets[] = { "VERSION", "CREATE", "MOD", "VALUE", "LEASE", NULL };
static const char *const sort_orders[] = { "NONE", "ASCEND", "DESCEND", NULL };
static const char *const sort_targets[] = { "KEY", "VERSION", "CREATE", "MOD", "VALUE", NULL };

static const field range_req[] = {
    { "key", 1, F_BYTES, NULL, false },          { "range_end", 2, F_BYTES, NULL, false },
    { "limit", 3, F_INT, NULL, false },          { "revision", 4, F_INT, NULL, false },
    { "sort_order", 5, F_ENUM, sort_orders, false },
    { "sort_target", 6, F_ENUM, sort_targets, false },
    { "serializable", 7, F_BOOL, NULL, false },  { "keys_only", 8, F_BOOL, NULL, false },
    { "count_only", 9, F_BOOL, NULL, false },    { NULL, 0, 0, NULL, false },
};
static const field put_req[] = {
    { "key", 1, F_BYTES, NULL, false },          { "value", 2, F_BYTES, NULL, false },
    { "lease", 3, F_INT, NULL, false },          { "prev_kv", 4, F_BOOL, NULL, false },
    { "ignore_value", 5, F_BOOL, NULL, false },  { "ignore_lease", 6, F_BOOL, NULL, false },
    { NULL, 0, 0, NULL, false },
};
static const field delete_req[] = {
    { "key", 1, F_BYTES, NULL, false },          { "range_end", 2, F_BYTES, NULL, false },
    { "prev_kv", 3, F_BOOL, NULL, false },       { NULL, 0, 0, NULL, false },
};
static const field compare_fields[] = {
    { "result", 1, F_ENUM, cmp_results, false }, { "target", 2, F_ENUM, cmp_targets, false },
    { "key", 3, F_BYTES, NULL, false },          { "version", 4, F_INT, NULL, true },
    { "create_revision", 5, F_INT, NULL, true }, { "mod_revision", 6, F_INT, NULL, true },
    { "value", 7, F_BYTES, NULL, true },         { "lease", 8, F_INT, NULL, true },
    { "range_end", 64, F_BYTES, NULL, false },   { NULL, 0, 0, NULL, false },
};
static const field compaction_req[] = {
    { "revision", 1, F_INT, NULL, false },       { "physical", 2, F_BOOL, NULL, false },
    { NULL, 0, 0, NULL, false },
};

static int bad(cn_err *err, const char *what, const char *name)
{
    return cn_err_internal(err, "etcd grpc: %s \"%s\"", what, name), -EINVAL;
}

static int enc_field(cn_buf *b, const field *f, json_t *v, cn_err *err)
{
    switch (f->type) {
    case F_BYTES: {
        if (!json_is_string(v)) return bad(err, "not a base64 string:", f->name);
        char *raw = NULL;
        size_t n = 0;
        int r = cn_base64_decode(json_string_value(v), json_string_length(v), MAX_FIELD, &raw, &n);
        if (r < 0) return bad(err, "bad base64 in", f->name);
        if (n || f->always) put_len(b, f->num, raw, n);
        free(raw);
        return 0;
    }
    case F_INT: {
        int64_t x = 0;
        if (json_is_integer(v)) x = json_integer_value(v);
        else if (!json_is_string(v) || cn_parse_int64(json_string_value(v), &x) < 0)
            return bad(err, "not an integer:", f->name);
        if (x || f->always) {
            put_tag(b, f->num, WT_VARINT);
            put_varint(b, (uint64_t)x);
        }
        return 0;
    }
    case F_BOOL:
        if (!json_is_boolean(v)) return bad(err, "not a boolean:", f->name);
        if (json_is_true(v)) {
            put_tag(b, f->num, WT_VARINT);
            put_varint(b, 1);
        }
        return 0;
    case F_ENUM: {
        int64_t x = -1;
        if (json_is_integer(v)) x = json_integer_value(v);
        for (int i = 0; json_is_string(v) && f->names[i]; i++)
            if (strcmp(json_string_value(v), f->names[i]) == 0) x = i;
        if (x < 0) return bad(err, "unknown value of", f->name);
        if (x) {
            put_tag(b, f->num, WT_VARINT);
            put_varint(b, (uint64_t)x);
        }
        return 0;
    }
    }
    return bad(err, "unknown field type of", f->name);
}

static int enc_msg(cn_buf *b, const field *fields, json_t *obj, cn_err *err)
{
    if (!json_is_object(obj)) return bad(err, "not an object:", fields[0].name);
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        const field *f = fields;
        while (f->name && strcmp(f->name, name) != 0) f++;
        if (!f->name) return bad(err, "unsupported field", name);
        int r = enc_field(b, f, v, err);
        if (r < 0) return r;
    }
    return 0;
}

/* A nested message: encoded apart, then appended with its length. */
static int enc_sub(cn_buf *b, unsigned num, const field *fields, json_t *obj, cn_err *err)
{
    cn_buf sub;
    cn_buf_init(&sub);
    int r = enc_msg(&sub, fields, obj, err);
    if (r >= 0) put_len(b, num, sub.data, sub.len);
    cn_buf_release(&sub);
    return r;
}

/* RequestOp: oneof request_range = 1, request_put = 2, request_delete_range = 3. */
static int enc_op(cn_buf *b, unsigned num, json_t *op, cn_err *err)
{
    if (!json_is_object(op) || json_object_size(op) != 1) return bad(err, "bad op in", "txn");
    const char *name;
    json_t *v;
    cn_buf sub;
    cn_buf_init(&sub);
    int r = 0;
    json_object_foreach(op, name, v) {
        if (strcmp(name, "request_range") == 0) r = enc_sub(&sub, 1, range_req, v, err);
        else if (strcmp(name, "request_put") == 0) r = enc_sub(&sub, 2, put_req, v, err);
        else if (strcmp(name, "request_delete_range") == 0) r = enc_sub(&sub, 3, delete_req, v, err);
        else r = bad(err, "unsupported op", name);
    }
    if (r >= 0) put_len(b, num, sub.data, sub.len);
    cn_buf_release(&sub);
    return r;
}

static int enc_txn(cn_buf *b, json_t *req, cn_err *err)
{
    const char *name;
    json_t *v;
    json_object_foreach(req, name, v) {
        unsigned num = strcmp(name, "compare") == 0 ? 1 : strcmp(name, "success") == 0 ? 2
                     : strcmp(name, "failure") == 0 ? 3 : 0;
        if (!num) return bad(err, "unsupported field", name);
        if (!json_is_array(v)) return bad(err, "not an array:", name);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            int r = num == 1 ? enc_sub(b, 1, compare_fields, e, err) : enc_op(b, num, e, err);
            if (r < 0) return r;
        }
    }
    return 0;
}

const char *cn_etcd_grpc_method(const char *path)
{
    if (strcmp(path, "/v3/kv/range") == 0) return "/etcdserverpb.KV/Range";
    if (strcmp(path, "/v3/kv/txn") == 0) return "/etcdserverpb.KV/Txn";
    if (strcmp(path, "/v3/kv/compaction") == 0) return "/etcdserverpb.KV/Compact";
    return NULL;
}

int cn_etcd_pb_encode(const char *path, json_t *req, cn_buf *out, cn_err *err)
{
    if (!json_is_object(req)) return bad(err, "request is not an object for", path);
    if (strcmp(path, "/v3/kv/range") == 0) return enc_msg(out, range_req, req, err);
    if (strcmp(path, "/v3/kv/txn") == 0) return enc_txn(out, req, err);
    if (strcmp(path, "/v3/kv/compaction") == 0) return enc_msg(out, compaction_req, req, err);
    return bad(err, "no gRPC method for", path);
}

/* ---- decoding ---- */

typedef struct rd {
    const unsigned char *p, *end;
} rd;

static int get_varint(rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return -EIO;
        unsigned char c = *r->p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -EIO;
}

/* One field: its number, wire type, and either a varint or a byte range. */
typedef struct pbf {
    unsigned num, wt;
    uint64_t v;
    rd sub;
} pbf;

static int next_field(rd *r, pbf *f)
{
    uint64_t tag;
    if (get_varint(r, &tag) < 0 || tag >> 3 == 0 || tag >> 3 > 0x1fffffff) return -EIO;
    f->num = (unsigned)(tag >> 3);
    f->wt = (unsigned)(tag & 7);
    switch (f->wt) {
    case WT_VARINT:
        return get_varint(r, &f->v);
    case WT_I64:
    case WT_I32: {
        size_t n = f->wt == WT_I64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) return -EIO;
        r->p += n;
        return 0;
    }
    case WT_LEN: {
        uint64_t n;
        if (get_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p)) return -EIO;
        f->sub.p = r->p;
        f->sub.end = r->p + n;
        r->p += n;
        return 0;
    }
    default:
        return -EIO;
    }
}

static void set_i64(json_t *o, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)(int64_t)v);
    json_object_set_new(o, name, json_string(s));
}

static void set_bytes(json_t *o, const char *name, const rd *sub)
{
    json_object_set_new(o, name, cn_etcd_b64_json(sub->p, (size_t)(sub->end - sub->p)));
}

/* What a message's fields become in JSON. */
typedef enum kind { K_HEADER, K_KV, K_RANGE, K_PUT, K_DELETE, K_OP, K_TXN, K_COMPACT } kind;

static int dec(rd r, kind k, int depth, json_t **out);

/* A sub-message field: an object, or appended to an array for repeated. */
static int dec_sub(json_t *o, const char *name, const pbf *f, kind k, bool repeated, int depth)
{
    if (f->wt != WT_LEN) return -EIO;
    json_t *m = NULL;
    int r = dec(f->sub, k, depth + 1, &m);
    if (r < 0) return r;
    if (!repeated) return json_object_set_new(o, name, m), 0;
    json_t *a = json_object_get(o, name);
    if (!a) json_object_set_new(o, name, a = json_array());
    json_array_append_new(a, m);
    return 0;
}

static int dec(rd r, kind k, int depth, json_t **out)
{
    if (depth > MAX_DEPTH) return -EIO;
    json_t *o = json_object();
    int rc = 0;
    while (r.p < r.end && rc >= 0) {
        pbf f = { 0 };
        rc = next_field(&r, &f);
        if (rc < 0) break;
        bool vi = f.wt == WT_VARINT, ln = f.wt == WT_LEN;
        switch (k) {
        case K_HEADER:
            if (vi && (f.num == 1 || f.num == 2)) {     /* uint64 ids */
                char s[24];
                snprintf(s, sizeof s, "%llu", (unsigned long long)f.v);
                json_object_set_new(o, f.num == 1 ? "cluster_id" : "member_id", json_string(s));
            } else if (vi && f.num == 3) {
                set_i64(o, "revision", f.v);
            } else if (vi && f.num == 4) {
                set_i64(o, "raft_term", f.v);
            }
            break;
        case K_KV:
            if (ln && f.num == 1) set_bytes(o, "key", &f.sub);
            else if (ln && f.num == 5) set_bytes(o, "value", &f.sub);
            else if (vi && f.num == 2) set_i64(o, "create_revision", f.v);
            else if (vi && f.num == 3) set_i64(o, "mod_revision", f.v);
            else if (vi && f.num == 4) set_i64(o, "version", f.v);
            else if (vi && f.num == 6) set_i64(o, "lease", f.v);
            break;
        case K_RANGE:
            if (f.num == 1) rc = dec_sub(o, "header", &f, K_HEADER, false, depth);
            else if (f.num == 2) rc = dec_sub(o, "kvs", &f, K_KV, true, depth);
            else if (vi && f.num == 3 && f.v) json_object_set_new(o, "more", json_true());
            else if (vi && f.num == 4) set_i64(o, "count", f.v);
            break;
        case K_PUT:
            if (f.num == 1) rc = dec_sub(o, "header", &f, K_HEADER, false, depth);
            else if (f.num == 2) rc = dec_sub(o, "prev_kv", &f, K_KV, false, depth);
            break;
        case K_DELETE:
            if (f.num == 1) rc = dec_sub(o, "header", &f, K_HEADER, false, depth);
            else if (vi && f.num == 2) set_i64(o, "deleted", f.v);
            else if (f.num == 3) rc = dec_sub(o, "prev_kvs", &f, K_KV, true, depth);
            break;
        case K_OP:
            if (f.num == 1) rc = dec_sub(o, "response_range", &f, K_RANGE, false, depth);
            else if (f.num == 2) rc = dec_sub(o, "response_put", &f, K_PUT, false, depth);
            else if (f.num == 3) rc = dec_sub(o, "response_delete_range", &f, K_DELETE, false, depth);
            break;
        case K_TXN:
            if (f.num == 1) rc = dec_sub(o, "header", &f, K_HEADER, false, depth);
            else if (vi && f.num == 2 && f.v) json_object_set_new(o, "succeeded", json_true());
            else if (f.num == 3) rc = dec_sub(o, "responses", &f, K_OP, true, depth);
            break;
        case K_COMPACT:
            if (f.num == 1) rc = dec_sub(o, "header", &f, K_HEADER, false, depth);
            break;
        }
    }
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int cn_etcd_pb_decode(const char *path, const void *data, size_t len, json_t **out, cn_err *err)
{
    kind k;
    if (strcmp(path, "/v3/kv/range") == 0) k = K_RANGE;
    else if (strcmp(path, "/v3/kv/txn") == 0) k = K_TXN;
    else if (strcmp(path, "/v3/kv/compaction") == 0) k = K_COMPACT;
    else return bad(err, "no gRPC method for", path);
    rd r = { data, (const unsigned char *)data + len };
    int rc = dec(r, k, 0, out);
    if (rc < 0) return cn_err_internal(err, "etcd grpc: an unreadable answer to %s", path), rc;
    return 0;
}
