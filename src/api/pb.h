/* pb: decoding of Kubernetes protobuf request bodies
 * (application/vnd.kubernetes.protobuf), which kubectl 1.32+ sends for the
 * typed clients. The envelope is "k8s\0" + runtime.Unknown{typeMeta, raw};
 * raw is decoded through the schema table into the same JSON model that a
 * JSON body would give (apiVersion and kind set from typeMeta). Hostile
 * input is bounded: nesting depth, lengths, and total output size. */
#ifndef CN_PB_H
#define CN_PB_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/err.h"
#include "api/schema.h"

/* Decode an enveloped body. On success *out is a new reference. Errors:
 * -EINVAL with a 400 BadRequest in err; -ENOTSUP (415) if the kind has no
 * schema. */
int cn_pb_decode(const uint8_t *buf, size_t len, json_t **out, cn_err *err);

/* Decode a bare message of type m (no envelope). */
int cn_pb_decode_message(const uint8_t *buf, size_t len, const cn_message *m,
                         json_t **out, cn_err *err);

#endif
