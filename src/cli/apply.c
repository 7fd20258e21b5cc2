/* apply: `cairn apply -f FILE` — the declarative fleet (docs/cli-fleet.md):
 * a multi-document YAML or JSON stream of fleet.cairn.io/v1 LogicalNetwork,
 * Host and Cluster objects. Each missing object is created, each present
 * one gets the given spec as a merge patch when that changes anything, in
 * dependency order (logical networks, then hosts, then clusters), and a
 * line per object says what happened as kubectl does
 * ("cluster.fleet.cairn.io/c1 created|configured|unchanged"). --wait then
 * follows every cluster's operation until it ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "bridge/fleet.h"
#include "bridge/fleetcli.h"
#include "cli/bridgecli.h"
#include "cli/cli.h"
#include "lib/pki.h"
#include "lib/util.h"
#include "lib/yaml.h"

static const struct kind {
    const char *kind, *plural, *lower;
    void (*defaults)(json_t *obj);
} kinds[] = {   /* in apply order */
    { "LogicalNetwork", "logicalnetworks", "logicalnetwork", cn_fleet_default_lnet },
    { "Host", "hosts", "host", NULL },
    { "Cluster", "clusters", "cluster", cn_fleet_default_cluster },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* Whether the merge patch {spec: want} would change live's spec, once
 * the bridge's defaults are filled into both (a spec that leaves fields
 * to their defaults is not a change). */
static int spec_changes(const struct kind *k, const json_t *live, const json_t *want, bool *changes, cn_err *err)
{
    json_t *merged = NULL;
    int r = cn_patch_merge(json_object_get(live, "spec"), json_object_get(want, "spec"), &merged, err);
    if (r < 0) return r;
    json_t *a = json_pack("{s:o}", "spec", merged);
    json_t *b = json_pack("{s:O*}", "spec", json_object_get(live, "spec"));
    if (!json_object_get(b, "spec")) json_object_set_new(b, "spec", json_object());
    if (k->defaults) {
        k->defaults(a);
        k->defaults(b);
    }
    *changes = !cn_json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return 0;
}

/* The documents of the stream, Lists flattened, nulls dropped; a kind or
 * group apply does not manage is an error before anything is written. */
static int load(const char *file, json_t **out, cn_err *err)
{
    char *text = NULL;
    size_t len;
    json_t *docs = NULL, *objs = json_array();
    int r = cn_read_file(!strcmp(file, "-") ? "/dev/stdin" : file, &text, &len, err);
    if (r == 0 && (r = cn_yaml_parse_all(text, len, &docs, err)) < 0) cn_err_wrap(err, "%s", file);
    size_t i, j;
    json_t *d, *e;
    json_array_foreach(docs, i, d) {
        if (json_is_null(d)) continue;
        if (!strcmp(cn_json_str_at(d, "kind"), "List")) {
            json_array_foreach(json_object_get(d, "items"), j, e) json_array_append(objs, e);
        } else {
            json_array_append(objs, d);
        }
    }
    json_array_foreach(objs, i, d) {
        if (r < 0) break;
        const char *kind = cn_json_str_at(d, "kind");
        bool known = false;
        for (size_t k = 0; k < NKINDS; k++) known |= !strcmp(kinds[k].kind, kind);
        if (!json_is_object(d) || strcmp(cn_json_str_at(d, "apiVersion"), CN_FLEET_API_VERSION) || !known)
            r = cn_err_bad_request(err, "%s: object %zu (%s %s) is not a %s LogicalNetwork, Host or Cluster", file,
                                   i + 1, *kind ? kind : "no kind", cn_json_str_at(d, "apiVersion"),
                                   CN_FLEET_API_VERSION);
        else if (!*cn_meta_str(d, "name"))
            r = cn_err_bad_request(err, "%s: object %zu (%s) has no metadata.name", file, i + 1, kind);
    }
    json_decref(docs);
    free(text);
    if (r < 0) {
        json_decref(objs);
        return r;
    }
    *out = objs;
    return 0;
}

/* Apply one object; prints its line. *gen: the Cluster's generation now. */
static int apply_one(cn_client *c, const struct kind *k, const json_t *obj, bool dry, int64_t *gen, cn_err *err)
{
    const char *name = cn_meta_str(obj, "name");
    _cleanup_free_ char *path = cn_bcli_path(k->plural, name);
    _cleanup_free_ char *coll = cn_bcli_path(k->plural, NULL);
    const char *q = dry ? "?dryRun=All" : "";
    json_t *live = NULL, *out = NULL;
    const char *what = NULL;
    int r = cn_client_get(c, path, &live, err);
    if (r < 0 && err->code == 404) {
        cn_err_clear(err);
        json_t *o = json_deep_copy(obj);
        json_object_del(o, "status");
        _cleanup_free_ char *p = cn_asprintf("%s%s", coll, q);
        r = cn_client_create(c, p, o, &out, err);
        json_decref(o);
        what = "created";
    } else if (r == 0) {
        bool changes = false;
        r = spec_changes(k, live, obj, &changes, err);
        if (r == 0 && changes) {
            json_t *patch = json_pack("{s:O}", "spec", json_object_get(obj, "spec"));
            _cleanup_free_ char *p = cn_asprintf("%s%s", path, q);
            r = cn_client_patch(c, p, CN_PATCH_MERGE, patch, &out, err);
            json_decref(patch);
            what = "configured";
        } else if (r == 0) {
            out = json_incref(live);
            what = "unchanged";
        }
    }
    if (r == 0) {
        printf("%s.%s/%s %s%s\n", k->lower, CN_FLEET_GROUP, name, what, dry ? " (server dry run)" : "");
        *gen = json_integer_value(json_object_get(json_object_get(out, "metadata"), "generation"));
    } else {
        cn_err_wrap(err, "%s.%s/%s", k->lower, CN_FLEET_GROUP, name);
    }
    json_decref(live);
    json_decref(out);
    return r;
}

static int cmd_apply(cn_bargs *a)
{
    const char *file = cn_bargs_get(a, "filename");
    if (!file) return cn_bargs_usage_error(a, "-f FILE is required (- for stdin)");
    int64_t timeout;
    if (cn_bargs_int(a, "timeout", 1, 7 * 86400, CN_BCLI_DEFAULT_TIMEOUT, &timeout) < 0) return 2;
    bool dry = cn_bargs_has(a, "dry-run"), wait = cn_bargs_has(a, "wait") && !dry;
    cn_err err = CN_ERR_INIT;
    json_t *objs = NULL, *waits = json_array();
    int rc = 0;
    if (load(file, &objs, &err) < 0) {
        rc = cn_bcli_fail(&err);
        goto out;
    }
    cn_client *c = cn_bcli_client(a);
    if (!c) {
        rc = 1;
        goto out;
    }
    for (size_t k = 0; k < NKINDS; k++) {
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) {
            if (strcmp(cn_json_str_at(o, "kind"), kinds[k].kind)) continue;
            int64_t gen = 0;
            if (apply_one(c, &kinds[k], o, dry, &gen, &err) < 0) {
                /* As kubectl: report, go on with the rest, fail at the end. */
                rc = cn_bcli_fail(&err);
                cn_err_clear(&err);
                continue;
            }
            if (!strcmp(kinds[k].kind, "Cluster"))
                json_array_append_new(waits, json_pack("{s:s, s:I}", "name", cn_meta_str(o, "name"), "gen",
                                                       (json_int_t)gen));
        }
    }
    if (!wait) goto out;
    size_t i;
    json_t *w;
    json_array_foreach(waits, i, w) {
        const char *name = cn_json_str_at(w, "name");
        fprintf(stderr, "waiting for cluster.%s/%s\n", CN_FLEET_GROUP, name);
        if (cn_bcli_wait_cluster(c, name, json_integer_value(json_object_get(w, "gen")), false, timeout)) rc = 1;
    }
out:
    json_decref(objs);
    json_decref(waits);
    cn_err_clear(&err);
    return rc;
}

/* `cairn apply` is one verb; the table gives it the shared parser and help. */
static const cn_bflag apply_flags[] = {
    { "filename", 'f', "FILE", "YAML (multi-document) or JSON objects to apply; - for stdin (required)", false },
    { "wait", 0, NULL, "then wait until every Cluster of the file is Succeeded, with progress", false },
    { "dry-run", 0, NULL, "send every change as a server dry run: admission checks, nothing is written", false },
    CN_BFLAG_TIMEOUT,
    { NULL, 0, NULL, NULL, false },
};

static const char apply_more[] =
    "Objects: fleet.cairn.io/v1 LogicalNetwork, Host and Cluster (docs/cli-fleet.md has\n"
    "a complete fleet.yaml). A missing object is created; a present one gets the given\n"
    "spec as a merge patch if that changes it (defaults count as unchanged); status\n"
    "and other metadata in the file are ignored. Nothing is deleted. Exit 1 if any\n"
    "object failed (the others are still applied).\n";

static const cn_bverb apply_verb = {
    "apply", NULL, 0, 0, "create or update the fleet objects of a file, in dependency order", apply_flags,
    cmd_apply, NULL, apply_more,
};

int cn_cmd_apply(int argc, char **argv)
{
    /* Reuse the verb machinery: present "apply" as the verb of a group of one. */
    const cn_bverb verbs[] = { apply_verb, { NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL } };
    char *args[argc + 1];
    args[0] = (char *)"cairn";
    for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
    return cn_bcli_main("cairn", "Apply fleet objects.", verbs, argc + 1, args);
}
