/* podspec_client: the cn_podspec_env callbacks over an API client, so the
 * kubelet only has to set env.fetch = cn_podspec_client_fetch,
 * env.token = cn_podspec_client_token and env.ud = its cn_client. */
#include "agent/podspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "lib/util.h"

int cn_podspec_client_fetch(void *ud, const char *resource, const char *ns, const char *name,
                            json_t **out, cn_err *err)
{
    char *path = cn_client_path("", "v1", ns, resource, name, NULL);
    int r = cn_client_get(ud, path, out, err);
    free(path);
    return r;
}

int cn_podspec_client_token(void *ud, const char *ns, const char *sa, const char *audience,
                            int64_t expiration_s, const char *pod_name, const char *pod_uid,
                            char **token, int64_t *exp, cn_err *err)
{
    json_t *spec = json_pack("{s:I}", "expirationSeconds", (json_int_t)expiration_s);
    if (audience && *audience) json_object_set_new(spec, "audiences", json_pack("[s]", audience));
    if (pod_name && *pod_name) {
        json_t *ref = json_pack("{s:s,s:s,s:s}", "apiVersion", "v1", "kind", "Pod", "name", pod_name);
        if (pod_uid && *pod_uid) json_object_set_new(ref, "uid", json_string(pod_uid));
        json_object_set_new(spec, "boundObjectRef", ref);
    }
    json_t *body = json_pack("{s:s,s:s,s:o}", "apiVersion", "authentication.k8s.io/v1", "kind", "TokenRequest",
                             "spec", spec);
    char *path = cn_client_path("", "v1", ns, "serviceaccounts", sa, "token");
    json_t *out = NULL;
    int r = cn_client_do(ud, "POST", path, NULL, body, &out, err);
    free(path);
    json_decref(body);
    if (r < 0) return r;
    const json_t *st = json_object_get(out, "status");
    const char *tok = json_string_value(json_object_get(st, "token"));
    const char *ts = json_string_value(json_object_get(st, "expirationTimestamp"));
    int64_t e;
    if (!tok || !*tok || !ts || cn_time_parse(ts, &e) < 0) {
        json_decref(out);
        return cn_err_internal(err, "the TokenRequest for serviceaccount %s/%s returned no token", ns, sa);
    }
    *token = cn_strdup(tok);
    *exp = e;
    json_decref(out);
    return 0;
}
