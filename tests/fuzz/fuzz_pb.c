/* fuzz_pb: arbitrary bytes into the protobuf request decoder, both as an
 * enveloped body and as a bare message of a few deep types. */
#include <stddef.h>
#include <stdint.h>

#include "api/pb.h"
#include "api/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    if (cn_pb_decode(data, size, &out, &err) >= 0) json_decref(out);
    cn_err_clear(&err);

    /* Bare messages: the first byte picks the type, so the corpus also
     * drives deep Pod and CRD decoding without a valid envelope. */
    if (size > 0) {
        static const char *const kinds[][3] = {
            { "", "v1", "Pod" },
            { "apps", "v1", "Deployment" },
            { "apiextensions.k8s.io", "v1", "CustomResourceDefinition" },
            { "", "v1", "Secret" },
        };
        const char *const *k = kinds[data[0] % 4];
        const cn_message *m = cn_schema_for_kind(k[0], k[1], k[2]);
        out = NULL;
        if (cn_pb_decode_message(data + 1, size - 1, m, &out, &err) >= 0) json_decref(out);
        cn_err_clear(&err);
    }
    return 0;
}
