/* etcd-internal: the etcd v3 JSON-gateway client shared by etcd-client.c
 * (transport: curl handle pool, endpoint failover, retries, error mapping,
 * base64) and etcd.c (the store backend on top of it).
 *
 * Requests are POSTs of one JSON object to /v3/<service>/<method>; keys and
 * values travel base64-encoded and int64 fields arrive as JSON strings. */
#ifndef CN_ETCD_INTERNAL_H
#define CN_ETCD_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/util.h"
#include "store/store.h"

typedef struct cn_etcd_client cn_etcd_client;

int cn_etcd_client_new(const cn_etcd_config *cfg, cn_etcd_client **out, cn_err *err);
/* Stops every running stream (they return -ESHUTDOWN) and frees the client.
 * No call may be in flight. */
void cn_etcd_client_free(cn_etcd_client *c);
/* Makes running and future streams return -ESHUTDOWN promptly. */
void cn_etcd_client_shutdown(cn_etcd_client *c);

/* A read: retried on any transport failure and on every retryable etcd
 * error, on the next endpoint, within a few seconds. */
#define CN_ETCD_READ 0
/* A write: retried only while it is certain that etcd did not apply it
 * (nothing was sent, or etcd refused it before proposing). */
#define CN_ETCD_WRITE 1

/* POST req to path (e.g. "/v3/kv/range") and parse the answer into *resp
 * (caller json_decref). An etcd error in the answer becomes a negative errno
 * and cn_err: -ERANGE (410) compacted, -EAGAIN (503) unavailable after
 * retries, -ETIMEDOUT (504) write outcome unknown, -EFBIG (413), -ENOSPC,
 * -EIO (500) anything else. Messages name the endpoint. */
int cn_etcd_call(cn_etcd_client *c, const char *path, json_t *req, int kind,
                 json_t **resp, cn_err *err);

/* A streaming POST (watch). fn is called once per message of the stream;
 * returning > 0 ends the stream successfully, < 0 ends it with that error.
 * Returns 0 when fn ended it, -ESHUTDOWN on shutdown, or a negative errno
 * when the stream broke (and moves to the next endpoint for next time).
 * idle_s > 0 ends a stream that receives nothing for that long (-ETIMEDOUT). */
typedef int (*cn_etcd_msg_fn)(void *ud, json_t *msg, cn_err *err);
int cn_etcd_stream(cn_etcd_client *c, const char *path, json_t *req, int idle_s,
                   cn_etcd_msg_fn fn, void *ud, cn_err *err);

/* The endpoint requests currently go to (for messages). */
const char *cn_etcd_endpoint(cn_etcd_client *c);

/* ---- JSON / base64 helpers ---- */
/* A base64 JSON string for bytes. */
json_t *cn_etcd_b64_json(const void *data, size_t len);
/* An int64 field that may be a JSON string or number; absent = 0. */
int64_t cn_etcd_i64(json_t *obj, const char *name);

/* ---- gRPC codec (etcd-grpc.c), for the experimental gRPC transport ---- */
/* The gRPC method ("/etcdserverpb.KV/Range") of a unary gateway path, or
 * NULL when the path has none here (watch, anything else). */
const char *cn_etcd_grpc_method(const char *path);
/* The protobuf request for the gateway JSON request req of path, appended to
 * out. -EINVAL (and err) for a field the codec does not know. */
int cn_etcd_pb_encode(const char *path, json_t *req, cn_buf *out, cn_err *err);
/* The gateway JSON shape of a protobuf answer to path (caller json_decref). */
int cn_etcd_pb_decode(const char *path, const void *data, size_t len, json_t **out, cn_err *err);

#endif
