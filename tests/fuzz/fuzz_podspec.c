/* fuzz_podspec: a pod's JSON through what the agent computes from it
 * without touching the node: $(VAR) expansion of the raw text, every
 * container's environment (env/envFrom with the downward API; ConfigMaps
 * and Secrets come from a fixed fake) and probe validation. Text without
 * a '$' expands to itself; the text also goes through resolv.conf
 * parsing (as the node's) and the pod's dnsPolicy/dnsConfig; nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "agent/podspec-internal.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 16384

static int fake_fetch(void *ud, const char *resource, const char *ns, const char *name,
                      json_t **out, cn_err *err)
{
    (void)ud; (void)ns;
    if (!strcmp(name, "cm") && !strcmp(resource, "configmaps")) {
        *out = json_pack("{s:{s:s,s:s}}", "data", "a", "1", "b", "$(a)");
        return 0;
    }
    if (!strcmp(name, "s") && !strcmp(resource, "secrets")) {
        *out = json_pack("{s:{s:s,s:s}}", "data", "k", "dmFsdWU=", "bad", "!!");
        return 0;
    }
    cn_err_set(err, 404, "NotFound", "not found");
    return -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    char *text = cn_strndup((const char *)data, size);
    cn_ps_env vars = { 0 };
    cn_ps_env_set(&vars, "a", "x");
    char *missing = NULL;
    char *e1 = cn_ps_expand(text, &vars, NULL), *e2 = cn_ps_expand(text, &vars, &missing);
    if (!strchr(text, '$') && (strcmp(e1, text) || strcmp(e2, text))) abort();
    free(e1);
    free(e2);
    free(missing);
    cn_ps_env_release(&vars);

    json_t *pod = json_loadb((const char *)data, size, 0, NULL);
    json_t *node = json_pack("{s:{s:{s:s,s:s}}}", "status", "allocatable", "cpu", "4", "memory", "8Gi");
    cn_podspec_env env = { .fetch = fake_fetch, .node = node, .cluster_dns = "10.96.0.10" };
    /* the text as the node's resolv.conf, and the pod's own DNS settings */
    free(cn_podspec_resolv_conf(&env, pod, text));
    free(cn_podspec_resolv_conf(NULL, pod, "nameserver 1.1.1.1\nsearch a\noptions ndots:1\n"));
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
        cn_ps_env out = { 0 };
        cn_err err = CN_ERR_INIT;
        if (cn_ps_kube_env(&env, pod, c, "10.0.0.1", &out, &err) == 0) cn_ps_env_release(&out);
        cn_err_clear(&err);
        static const char *const probes[] = { "livenessProbe", "readinessProbe", "startupProbe" };
        for (size_t k = 0; k < 3; k++) {
            const json_t *p = json_object_get(c, probes[k]);
            if (p) cn_probe_check(p, c, &err);
            cn_err_clear(&err);
        }
    }
    json_decref(node);
    json_decref(pod);
    free(text);
    return 0;
}
