/* fuzz_imageref: the image store's parsers on one input each run — an
 * image reference (normalising must be idempotent: the normalised name
 * parses to itself), a manifest or index (every descriptor kept has a valid
 * digest; failures are -EBADMSG), an image config, and a dockerconfigjson
 * text searched for credentials. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 65536

static void fuzz_ref(const char *text)
{
    cn_imgref r = { 0 }, r2 = { 0 };
    cn_err e = CN_ERR_INIT;
    if (cn_imgref_parse(text, &r, &e) == 0) {
        if (!r.domain || !*r.domain || !r.repo || !*r.repo || (!r.tag && !r.digest)) abort();
        if (r.digest && !cn_image_digest_valid(r.digest)) abort();
        if (cn_imgref_parse(r.name, &r2, &e) != 0 || strcmp(r.name, r2.name) != 0) abort();
    } else if (e.code != 400 || !e.message || r.name) {
        abort();
    }
    cn_imgref_clear(&r);
    cn_imgref_clear(&r2);
    cn_err_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = cn_strndup((const char *)data, size);
    if (strlen(text) == size) fuzz_ref(text);

    cn_image_manifest m = { 0 };
    cn_err e = CN_ERR_INIT;
    int rc = cn_image_manifest_parse((const char *)data, size, &m, &e);
    if (rc == 0) {
        if (!m.is_index && !cn_image_digest_valid(m.config.digest)) abort();
        for (size_t i = 0; i < m.ndescs; i++)
            if (!cn_image_digest_valid(m.descs[i].digest)) abort();
        size_t pos = 0;
        if (m.is_index && cn_image_index_pick(&m, "amd64", &pos) == 0 && pos >= m.ndescs) abort();
        cn_image_manifest_clear(&m);
    } else if (rc != -EBADMSG || !e.message || m.descs) {
        abort();
    }
    cn_err_clear(&e);

    cn_image_config c = { 0 };
    rc = cn_image_config_parse((const char *)data, size, &c, &e);
    if (rc == 0) {
        for (size_t i = 0; i < c.ndiff_ids; i++)
            if (!cn_image_digest_valid(c.diff_ids[i])) abort();
        if (!c.workdir || !c.user) abort();
        cn_image_config_clear(&c);
    } else if (rc != -EBADMSG) {
        abort();
    }
    cn_err_clear(&e);

    const char *cfgs[] = { text };
    char *u = NULL, *p = NULL;
    if (cn_image_auth_find(cfgs, 1, "reg:5000", &u, &p) == 0 && (!u || !p)) abort();
    free(u);
    free(p);
    free(text);
    return 0;
}
