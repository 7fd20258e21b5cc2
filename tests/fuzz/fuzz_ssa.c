/* fuzz_ssa: field ownership on arbitrary objects. Input "<live>\n---\n<config>"
 * (see fuzz_split.h): live's managedFields (client-supplied shape, possibly
 * junk) are checked, config is applied onto live with and without a schema
 * and force, and live -> config is tracked as an update. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/ssa.h"
#include "fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const json_t *live, const json_t *cfg, const cn_message *schema, bool force,
                const json_t *cr_schema)
{
    cn_ssa_opts o = { .manager = "fuzz", .api_version = "apps/v1", .schema = schema, .cr_schema = cr_schema,
                      .scope = force ? CN_SSA_MAIN : CN_SSA_ALL, .force = force,
                      .now = "2026-01-01T00:00:00Z" };
    json_t *out = NULL;
    bool changed;
    cn_err err = CN_ERR_INIT;
    int r = cn_ssa_apply(live, cfg, &o, &out, &changed, &err);
    if ((r < 0) != (out == NULL)) abort();
    if (r < 0 && err.code != 400 && err.code != 409 && err.code != 422) abort();
    if (r >= 0 && cn_ssa_check_managed_fields(json_object_get(json_object_get(out, "metadata"), "managedFields"), &err) < 0)
        abort();
    json_decref(out);
    cn_err_clear(&err);
    json_t *n = json_deep_copy(cfg);
    if (cn_ssa_track_update(live, n, &o, &err) < 0) abort();
    json_decref(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT) return 0;
    const char *a, *b;
    size_t alen, blen;
    fuzz_split(data, size, &a, &alen, &b, &blen);
    json_t *live = json_loadb(a, alen, 0, NULL);
    json_t *cfg = json_loadb(b, blen, 0, NULL);
    if (live && cfg) {
        cn_err err = CN_ERR_INIT;
        int r = cn_ssa_check_managed_fields(json_object_get(json_object_get(live, "metadata"), "managedFields"), &err);
        if (r < 0 && err.code != 400) abort();
        cn_err_clear(&err);
        const cn_message *dep = cn_schema_for_kind("apps", "v1", "Deployment");
        one(live, cfg, dep, false, NULL);
        one(live, cfg, dep, true, NULL);
        one(live, cfg, NULL, false, NULL);
        /* A custom resource schema with every marker ssa reads. */
        static json_t *crs;
        if (!crs)
            crs = json_loads("{\"properties\":{\"spec\":{\"properties\":{"
                             "\"items\":{\"x-kubernetes-list-type\":\"map\",\"x-kubernetes-list-map-keys\":[\"name\",\"zone\"],"
                             "\"items\":{\"properties\":{\"sub\":{\"x-kubernetes-list-type\":\"set\"}}}},"
                             "\"tags\":{\"x-kubernetes-list-type\":\"set\"},"
                             "\"sel\":{\"x-kubernetes-map-type\":\"atomic\"}},"
                             "\"additionalProperties\":{\"x-kubernetes-list-type\":\"map\",\"x-kubernetes-list-map-keys\":[\"k\"]}}}}",
                             0, NULL);
        one(live, cfg, NULL, true, crs);
    }
    json_decref(live);
    json_decref(cfg);
    return 0;
}
