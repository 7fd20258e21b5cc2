/* priority: the Priority admission plugin and the built-in PriorityClasses.
 *
 * As kube-apiserver's plugin: a pod created with spec.priorityClassName gets
 * spec.priority (and spec.preemptionPolicy) from that PriorityClass; without
 * one, from the class marked globalDefault, else priority 0. A pod naming a
 * class that does not exist, or setting spec.priority to something else, is
 * refused (403). The scheduler orders and preempts by spec.priority alone.
 * system-cluster-critical and system-node-critical exist from the first
 * start, as upstream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest-internal.h"
#include "lib/util.h"

static const struct { const char *name; int64_t value; const char *desc; } system_classes[] = {
    { "system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node." },
    { "system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary." },
};

static const cn_resource *pc_res(cn_apiserver *s)
{
    return cn_registry_lookup(s->reg, "scheduling.k8s.io", "v1", "priorityclasses");
}

int cn_priority_bootstrap(cn_apiserver *s, cn_err *err)
{
    for (size_t i = 0; i < sizeof system_classes / sizeof system_classes[0]; i++) {
        char *key = cn_obj_key(pc_res(s), NULL, system_classes[i].name);
        char uid[37], ts[32];
        cn_uuid(uid);
        cn_time_rfc3339(cn_wall_s(), ts);
        json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:I,s:s,s:s}", "apiVersion", "scheduling.k8s.io/v1",
                              "kind", "PriorityClass", "metadata", "name", system_classes[i].name, "uid", uid,
                              "creationTimestamp", ts, "value", (json_int_t)system_classes[i].value,
                              "description", system_classes[i].desc, "preemptionPolicy", "PreemptLowerPriority");
        size_t len;
        char *val = cn_obj_to_store(o, &len);
        cn_err serr = CN_ERR_INIT;
        int r = cn_store_create(s->store, key, val, len, NULL, &serr);
        if (r < 0 && r != -EEXIST) {
            cn_err_move(err, &serr);
        } else {
            r = 0;
        }
        cn_err_clear(&serr);
        json_decref(o);
        free(val);
        free(key);
        if (r < 0) return r;
    }
    return 0;
}

typedef struct find_default {
    json_t *best;
} find_default;

static int is_default(void *ud, const cn_kv *kv)
{
    find_default *f = ud;
    json_t *o = cn_obj_from_store(kv->value, kv->value_len, kv->mod_rev, NULL);
    if (o && json_is_true(json_object_get(o, "globalDefault"))) {
        /* Several defaults: the lowest value wins, as upstream. */
        if (!f->best || json_integer_value(json_object_get(o, "value")) <
                            json_integer_value(json_object_get(f->best, "value"))) {
            json_decref(f->best);
            f->best = json_incref(o);
        }
    }
    json_decref(o);
    return 0;
}

static int admit(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    cn_apiserver *s = ud;
    if (a->op != CN_ADMIT_CREATE || a->sub || a->res->group[0] || strcmp(a->res->plural, "pods"))
        return 0;
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) return 0;
    const char *cls = json_string_value(json_object_get(spec, "priorityClassName"));
    json_t *pc = NULL;
    int r = 0;
    if (cls && *cls) {
        cn_err gerr = CN_ERR_INIT;
        if (cn_obj_get(s, pc_res(s), NULL, cls, &pc, NULL, &gerr) < 0) {
            cn_err_clear(&gerr);
            return cn_err_set(err, 403, "Forbidden", "pods \"%s\" is forbidden: no PriorityClass with name %s was found",
                              a->name ? a->name : "", cls);
        }
    } else {
        find_default f = { NULL };
        char *prefix = cn_resource_key_prefix(pc_res(s));
        cn_err ferr = CN_ERR_INIT;
        cn_obj_foreach(s, prefix, is_default, &f, &ferr);
        cn_err_clear(&ferr);
        free(prefix);
        pc = f.best;
        if (pc) json_object_set_new(spec, "priorityClassName", json_string(cn_obj_name(pc)));
    }
    json_int_t value = pc ? json_integer_value(json_object_get(pc, "value")) : 0;
    json_t *given = json_object_get(spec, "priority");
    if (given && json_integer_value(given) != value) {
        r = cn_err_set(err, 403, "Forbidden",
                       "pods \"%s\" is forbidden: the integer value of priority (%lld) must not be provided in pod spec; "
                       "priority admission controller computed %lld from the given PriorityClass name",
                       a->name ? a->name : "", (long long)json_integer_value(given), (long long)value);
        goto out;
    }
    json_object_set_new(spec, "priority", json_integer(value));
    const char *pp = pc ? json_string_value(json_object_get(pc, "preemptionPolicy")) : NULL;
    if (!json_object_get(spec, "preemptionPolicy"))
        json_object_set_new(spec, "preemptionPolicy", json_string(pp ? pp : "PreemptLowerPriority"));
out:
    json_decref(pc);
    return r;
}

void cn_priority_register(cn_apiserver *s)
{
    cn_admission_add(s->admission, true, "Priority", admit, s);
}
