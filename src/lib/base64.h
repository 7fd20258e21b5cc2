/* base64: standard base64 (RFC 4648 §4, padded), one implementation for
 * every place that speaks it: Secret data, protobuf bytes rendered as JSON,
 * etcd's JSON gateway, kubeconfig certificate data, the bench and tools.
 * (query.c's continue tokens use the URL-safe alphabet and stay there.) */
#ifndef CN_BASE64_H
#define CN_BASE64_H

#include <stddef.h>
#include "lib/util.h"

/* The 6-bit value of a standard-alphabet character, or -1. */
int cn_base64_value(unsigned char c);

/* Append the padded encoding of len bytes to out. */
void cn_base64_encode(cn_buf *out, const void *data, size_t len);

/* Decode in_len characters (trailing '=' optional). *out is malloc'ed,
 * NUL-terminated, owned by the caller. -EINVAL on a character outside the
 * alphabet or an impossible length, -EFBIG if more than max bytes would
 * result; *out untouched on failure. */
int cn_base64_decode(const char *in, size_t in_len, size_t max, char **out, size_t *out_len);

#endif
