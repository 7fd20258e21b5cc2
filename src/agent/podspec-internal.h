/* podspec-internal: what podspec.c (containers), env.c (environment and
 * the downward API) and volumes.c (volume files) share. Not for use
 * outside the podspec module. */
#ifndef CN_PODSPEC_INTERNAL_H
#define CN_PODSPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "agent/podspec.h"
#include "lib/err.h"

/* An ordered name -> value list (an environment): set replaces a name in
 * place, or appends it, as containerd merges image and container env. */
typedef struct cn_ps_env {
    char **names, **values;
    size_t n, cap;
    const struct cn_ps_env *fallback;   /* looked up after these names (not owned) */
} cn_ps_env;

void cn_ps_env_set(cn_ps_env *e, const char *name, const char *value);
const char *cn_ps_env_get(const cn_ps_env *e, const char *name);
void cn_ps_env_release(cn_ps_env *e);

/* $(VAR) expansion as upstream's third_party/forked/golang/expansion:
 * defined names are replaced, undefined ones left as written, "$$" is
 * "$", an unclosed "$(" stays literal. missing (may be NULL) collects the
 * names that were undefined or empty, ", "-separated, for subPathExpr. */
char *cn_ps_expand(const char *in, const cn_ps_env *vars, char **missing);

/* The data of a ConfigMap (data + binaryData) or a Secret (data,
 * base64-decoded), sorted by key. */
typedef struct cn_ps_kv {
    char *key;
    char *val;      /* NUL-terminated; len bytes (may contain NULs) */
    size_t len;
} cn_ps_kv;

typedef struct cn_ps_data {
    cn_ps_kv *kv;
    size_t n;
} cn_ps_data;

/* Fetch and decode; -ENOENT with 'configmap "x" not found' / 'secret "x"
 * not found' when missing. */
int cn_ps_data_load(const cn_podspec_env *env, bool secret, const char *ns, const char *name,
                    cn_ps_data *out, cn_err *err);
const cn_ps_kv *cn_ps_data_get(const cn_ps_data *d, const char *key);
void cn_ps_data_release(cn_ps_data *d);

/* A fieldRef of the downward API (env and volumes): metadata.name,
 * namespace, uid, labels, annotations (whole or ['k']), spec.nodeName,
 * spec.serviceAccountName, status.hostIP(s), status.podIP(s). */
int cn_ps_field_value(const cn_podspec_env *env, const json_t *pod, const char *pod_ip,
                      const char *path, char **out, cn_err *err);
/* A resourceFieldRef {resource, divisor} of container ctr: limits default
 * to the node's allocatable, requests to the limits; rounded up. */
int cn_ps_resource_value(const cn_podspec_env *env, const json_t *ctr, const json_t *sel,
                         char **out, cn_err *err);
/* The container (or init/ephemeral container) named name, or NULL. */
const json_t *cn_ps_container(const json_t *pod, const char *name);

/* The kubelet's environment of container ctr (env and envFrom resolved,
 * declaration order), then env->service_env names not already defined;
 * without the image's env. */
int cn_ps_kube_env(const cn_podspec_env *env, const json_t *pod, const json_t *ctr,
                   const char *pod_ip, cn_ps_env *out, cn_err *err);

/* Small JSON helpers. */
const char *cn_ps_str(const json_t *obj, const char *key);   /* NULL unless a non-empty string */
bool cn_ps_bool(const json_t *obj, const char *key);         /* false unless true */

/* Read all of fd (closed), at most max bytes kept; malloc'd, NUL-terminated. */
char *cn_ps_read_fd(int fd, size_t max, size_t *len);

/* The port of a probe handler h: an integer 1..65535, or a named port of
 * the container; -EINVAL with a message. */
int cn_ps_probe_port(const json_t *h, const json_t *ctr, int *port, cn_err *err);

/* Where volume name lives on the node: pod_dir/volumes/<name>, or for
 * hostPath and persistentVolumeClaim the host directory its symlink there
 * points to. malloc'd; -ENOENT (err set) when setup has not made it. */
int cn_ps_volume_source(const char *pod_dir, const char *name, char **out, cn_err *err);

#endif
