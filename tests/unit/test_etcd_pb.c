/* test_etcd_pb: the protobuf codec of the experimental etcd gRPC transport
 * (store/etcd-grpc.c), without etcd: requests built the way etcd.c builds
 * them must encode to the etcdserverpb bytes, and protobuf answers must
 * decode to the gateway JSON shape etcd.c reads. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd-internal.h"
#include "test.h"

static json_t *b64(const char *s)
{
    return cn_etcd_b64_json(s, strlen(s));
}

static bool encodes_to(const char *path, json_t *req, const char *want, size_t want_len)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_err e = CN_ERR_INIT;
    int r = cn_etcd_pb_encode(path, req, &b, &e);
    bool ok = r == 0 && b.len == want_len && memcmp(b.data, want, want_len) == 0;
    if (!ok) {
        fprintf(stderr, "encode %s: r=%d len=%zu want %zu:", path, r, b.len, want_len);
        for (size_t i = 0; i < b.len; i++) fprintf(stderr, " %02x", (unsigned char)b.data[i]);
        fprintf(stderr, "\n");
    }
    cn_buf_release(&b);
    cn_err_clear(&e);
    json_decref(req);
    return ok;
}

static void test_range_request(void)
{
    /* key "/a", range_end "/b", limit 500, revision 300 (two-byte varint). */
    static const char want[] = "\x0a\x02/a\x12\x02/b\x18\xf4\x03\x20\xac\x02";
    CHECK(encodes_to("/v3/kv/range",
                     json_pack("{s:o, s:o, s:I, s:s}", "key", b64("/a"), "range_end", b64("/b"),
                               "limit", (json_int_t)500, "revision", "300"),
                     want, sizeof want - 1));
    /* count_only; false booleans and zero integers are left out. */
    static const char want2[] = "\x0a\x01k\x48\x01";
    CHECK(encodes_to("/v3/kv/range",
                     json_pack("{s:o, s:b, s:b, s:I}", "key", b64("k"), "count_only", 1,
                               "serializable", 0, "limit", (json_int_t)0),
                     want2, sizeof want2 - 1));
}

static void test_txn_request(void)
{
    /* etcd.c's create: compare CREATE EQUAL create_revision 0 (a oneof
     * member, so the zero is sent), put on success, range on failure. */
    json_t *req = json_pack("{s:[{s:o, s:s, s:s, s:I}], s:[{s:{s:o, s:o}}], s:[{s:{s:o}}]}",
                            "compare", "key", b64("k"), "target", "CREATE", "result", "EQUAL",
                            "create_revision", (json_int_t)0,
                            "success", "request_put", "key", b64("k"), "value", b64("v"),
                            "failure", "request_range", "key", b64("k"));
    static const char want[] =
        "\x0a\x07" "\x1a\x01k" "\x10\x01" "\x28\x00"          /* compare: key, target, create_revision */
        "\x12\x08" "\x12\x06" "\x0a\x01k" "\x12\x01v"         /* success: request_put */
        "\x1a\x05" "\x0a\x03" "\x0a\x01k";                    /* failure: request_range */
    CHECK(encodes_to("/v3/kv/txn", req, want, sizeof want - 1));

    /* Update: MOD EQUAL mod_revision 7; delete with prev_kv. */
    req = json_pack("{s:[{s:o, s:s, s:s, s:I}], s:[{s:{s:o, s:b}}]}",
                    "compare", "key", b64("k"), "target", "MOD", "result", "GREATER",
                    "mod_revision", (json_int_t)7,
                    "success", "request_delete_range", "key", b64("k"), "prev_kv", 1);
    static const char want2[] =
        "\x0a\x09" "\x1a\x01k" "\x10\x02" "\x08\x01" "\x30\x07"
        "\x12\x07" "\x1a\x05" "\x0a\x01k" "\x18\x01";
    CHECK(encodes_to("/v3/kv/txn", req, want2, sizeof want2 - 1));

    static const char want3[] = "\x08\x2a";
    CHECK(encodes_to("/v3/kv/compaction", json_pack("{s:I}", "revision", (json_int_t)42), want3,
                     sizeof want3 - 1));
}

static void test_request_errors(void)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_err e = CN_ERR_INIT;
    json_t *req = json_pack("{s:o, s:b}", "key", b64("k"), "no_such_field", 1);
    CHECK_INT(cn_etcd_pb_encode("/v3/kv/range", req, &b, &e), -EINVAL);
    json_decref(req);
    cn_err_clear(&e);
    req = json_pack("{s:s}", "key", "not base64!");
    CHECK_INT(cn_etcd_pb_encode("/v3/kv/range", req, &b, &e), -EINVAL);
    json_decref(req);
    cn_err_clear(&e);
    req = json_pack("{s:[{s:o, s:s}]}", "compare", "key", b64("k"), "target", "BOGUS");
    CHECK_INT(cn_etcd_pb_encode("/v3/kv/txn", req, &b, &e), -EINVAL);
    json_decref(req);
    cn_err_clear(&e);
    req = json_pack("{s:[{s:{}}]}", "success", "request_txn");
    CHECK_INT(cn_etcd_pb_encode("/v3/kv/txn", req, &b, &e), -EINVAL);
    json_decref(req);
    cn_err_clear(&e);
    CHECK(cn_etcd_grpc_method("/v3/watch") == NULL);
    CHECK_STR(cn_etcd_grpc_method("/v3/kv/txn"), "/etcdserverpb.KV/Txn");
    cn_buf_release(&b);
}

static json_t *decode(const char *path, const char *data, size_t len)
{
    json_t *j = NULL;
    cn_err e = CN_ERR_INIT;
    int r = cn_etcd_pb_decode(path, data, len, &j, &e);
    cn_err_clear(&e);
    return r == 0 ? j : NULL;
}

static const char *str(json_t *o, const char *path)
{
    /* "a.b.0.c": objects by name, arrays by index (one digit). */
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)n, path);
        o = json_is_array(o) ? json_array_get(o, (size_t)(name[0] - '0')) : json_object_get(o, name);
        path += n + (dot ? 1 : 0);
    }
    return json_string_value(o);
}

static void test_range_response(void)
{
    /* header{cluster_id 2^63+1 (uint64), revision 300}, two kvs, more, count 5. */
    static const char pb[] =
        "\x0a\x0e" "\x08\x81\x80\x80\x80\x80\x80\x80\x80\x80\x01" "\x18\xac\x02"
        "\x12\x0e" "\x0a\x01k" "\x10\x05" "\x18\x09" "\x20\x02" "\x2a\x03val"
        "\x12\x03" "\x0a\x01m"
        "\x18\x01" "\x20\x05";
    json_t *j = decode("/v3/kv/range", pb, sizeof pb - 1);
    CHECK(j != NULL);
    CHECK_STR(str(j, "header.revision"), "300");
    CHECK_STR(str(j, "header.cluster_id"), "9223372036854775809");
    CHECK_INT(cn_etcd_i64(json_object_get(j, "header"), "revision"), 300);
    CHECK_STR(str(j, "kvs.0.key"), "aw==");
    CHECK_STR(str(j, "kvs.0.value"), "dmFs");
    CHECK_STR(str(j, "kvs.0.create_revision"), "5");
    CHECK_STR(str(j, "kvs.0.mod_revision"), "9");
    CHECK_STR(str(j, "kvs.0.version"), "2");
    CHECK_STR(str(j, "kvs.1.key"), "bQ==");
    CHECK(json_object_get(json_array_get(json_object_get(j, "kvs"), 1), "value") == NULL);
    CHECK(json_is_true(json_object_get(j, "more")));
    CHECK_STR(str(j, "count"), "5");
    json_decref(j);

    /* Empty: no kvs, no more, no count (as the gateway leaves them out). */
    j = decode("/v3/kv/range", "\x0a\x02\x18\x07", 4);
    CHECK(j && !json_object_get(j, "kvs") && !json_object_get(j, "more") &&
          !json_object_get(j, "count"));
    json_decref(j);
}

static void test_txn_response(void)
{
    /* succeeded = false; responses[0].response_range.kvs[0], then a
     * response_delete_range with deleted 1 and prev_kvs, a response_put. */
    static const char pb[] =
        "\x0a\x02\x18\x0b"
        "\x1a\x09" "\x0a\x07" "\x12\x05" "\x0a\x01k" "\x18\x04"
        "\x1a\x0b" "\x1a\x09" "\x10\x01" "\x1a\x05" "\x0a\x01k" "\x20\x03"
        "\x1a\x06" "\x12\x04" "\x0a\x02\x18\x0b";
    json_t *j = decode("/v3/kv/txn", pb, sizeof pb - 1);
    CHECK(j != NULL);
    CHECK(!json_is_true(json_object_get(j, "succeeded")));
    CHECK_STR(str(j, "header.revision"), "11");
    CHECK_STR(str(j, "responses.0.response_range.kvs.0.key"), "aw==");
    CHECK_STR(str(j, "responses.0.response_range.kvs.0.mod_revision"), "4");
    CHECK_STR(str(j, "responses.1.response_delete_range.deleted"), "1");
    CHECK_STR(str(j, "responses.1.response_delete_range.prev_kvs.0.version"), "3");
    CHECK_STR(str(j, "responses.2.response_put.header.revision"), "11");
    json_decref(j);

    j = decode("/v3/kv/txn", "\x10\x01", 2);
    CHECK(j && json_is_true(json_object_get(j, "succeeded")));
    json_decref(j);
}

static void test_bad_answers(void)
{
    /* Truncated varint, length past the end, bad wire type, field 0. */
    CHECK(decode("/v3/kv/range", "\x0a\x02\x18", 3) == NULL);
    CHECK(decode("/v3/kv/range", "\x12\x7f\x0a", 3) == NULL);
    CHECK(decode("/v3/kv/range", "\x0f\x00", 2) == NULL);
    CHECK(decode("/v3/kv/range", "\x00\x00", 2) == NULL);
    CHECK(decode("/v3/kv/range", "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12) == NULL);
    /* A sub-message field sent as a varint. */
    CHECK(decode("/v3/kv/txn", "\x1a\x02\x08\x01", 4) == NULL);
    /* Unknown fields of every wire type are skipped. */
    json_t *j = decode("/v3/kv/range", "\x78\x01\x79\x01\x02\x03\x04\x05\x06\x07\x08\x7d\x01\x02\x03\x04", 16);
    CHECK(j != NULL);
    json_decref(j);
}

int main(void)
{
    TEST_RUN(test_range_request);
    TEST_RUN(test_txn_request);
    TEST_RUN(test_request_errors);
    TEST_RUN(test_range_response);
    TEST_RUN(test_txn_response);
    TEST_RUN(test_bad_answers);
    return TEST_DONE();
}
