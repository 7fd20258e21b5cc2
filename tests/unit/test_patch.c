/* test_patch: the three patch types against the RFC appendix examples, the
 * bodies kubectl really sends (kubectl-surface.md §8), and their errors. */
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "lib/util.h"
#include "test.h"

/* ---- a small schema mirroring the merge keys of the real types ---- */

static const cn_field envvar_fields[] = {
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "value", 2, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message envvar_msg = { "EnvVar", envvar_fields, 2 };

static const cn_field port_fields[] = {
    { "containerPort", 3, CN_T_INT32, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "protocol", 4, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message port_msg = { "ContainerPort", port_fields, 3 };

static const cn_field container_fields[] = {
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "image", 2, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "args", 4, CN_T_STRING, true, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "ports", 6, CN_T_MESSAGE, true, 0, &port_msg, CN_PS_MERGE, "containerPort", false, false, false },
    { "env", 7, CN_T_MESSAGE, true, 0, &envvar_msg, CN_PS_MERGE, "name", false, false, false },
};
static const cn_message container_msg = { "Container", container_fields, 5 };

static const cn_field volume_fields[] = {
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "configMap", 2, CN_T_RAW, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "emptyDir", 3, CN_T_RAW, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message volume_msg = { "Volume", volume_fields, 3 };

static const cn_field podspec_fields[] = {
    { "volumes", 1, CN_T_MESSAGE, true, 0, &volume_msg, CN_PS_MERGE_RETAIN, "name", false, false, false },
    { "containers", 2, CN_T_MESSAGE, true, 0, &container_msg, CN_PS_MERGE, "name", false, false, false },
    { "initContainers", 20, CN_T_MESSAGE, true, 0, &container_msg, CN_PS_MERGE, "name", false, false, false },
    { "nodeSelector", 7, CN_T_MAP, false, CN_T_STRING, NULL, CN_PS_REPLACE, NULL, false, false, false },
    /* not a real field: a map of messages, to test that values are typed */
    { "sidecars", 99, CN_T_MAP, false, CN_T_MESSAGE, &container_msg, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message podspec_msg = { "PodSpec", podspec_fields, 5 };

static const cn_field meta_fields[] = {
    { "name", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "labels", 11, CN_T_MAP, false, CN_T_STRING, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "annotations", 12, CN_T_MAP, false, CN_T_STRING, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "finalizers", 14, CN_T_STRING, true, 0, NULL, CN_PS_MERGE, NULL, false, false, false },
};
static const cn_message meta_msg = { "ObjectMeta", meta_fields, 4 };

static const cn_field template_fields[] = {
    { "metadata", 1, CN_T_MESSAGE, false, 0, &meta_msg, CN_PS_REPLACE, NULL, false, false, false },
    { "spec", 2, CN_T_MESSAGE, false, 0, &podspec_msg, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message template_msg = { "PodTemplateSpec", template_fields, 2 };

static const cn_field rolling_fields[] = {
    { "maxUnavailable", 1, CN_T_INT_OR_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "maxSurge", 2, CN_T_INT_OR_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message rolling_msg = { "RollingUpdateDeployment", rolling_fields, 2 };

static const cn_field strategy_fields[] = {
    { "type", 1, CN_T_STRING, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "rollingUpdate", 2, CN_T_MESSAGE, false, 0, &rolling_msg, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message strategy_msg = { "DeploymentStrategy", strategy_fields, 2 };

static const cn_field dspec_fields[] = {
    { "replicas", 1, CN_T_INT32, false, 0, NULL, CN_PS_REPLACE, NULL, false, false, false },
    { "template", 3, CN_T_MESSAGE, false, 0, &template_msg, CN_PS_REPLACE, NULL, false, false, false },
    { "strategy", 4, CN_T_MESSAGE, false, 0, &strategy_msg, CN_PS_RETAIN_KEYS, NULL, false, false, false },
};
static const cn_message dspec_msg = { "DeploymentSpec", dspec_fields, 3 };

static const cn_field deploy_fields[] = {
    { "metadata", 1, CN_T_MESSAGE, false, 0, &meta_msg, CN_PS_REPLACE, NULL, false, false, false },
    { "spec", 2, CN_T_MESSAGE, false, 0, &dspec_msg, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message deploy_msg = { "Deployment", deploy_fields, 2 };

static const cn_field cm_fields[] = {
    { "metadata", 1, CN_T_MESSAGE, false, 0, &meta_msg, CN_PS_REPLACE, NULL, false, false, false },
    { "data", 2, CN_T_MAP, false, CN_T_STRING, NULL, CN_PS_REPLACE, NULL, false, false, false },
};
static const cn_message cm_msg = { "ConfigMap", cm_fields, 2 };

/* ---- helpers ---- */

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    if (!v) {
        fprintf(stderr, "bad test JSON: %s: %s\n", e.text, s);
        abort();
    }
    return v;
}

enum kind { K_JSON, K_MERGE, K_SMP };

/* Apply; on success compare (order of arrays matters, of keys does not);
 * on failure compare the HTTP code. want is JSON or NULL when code != 0.
 * Also checks that the inputs were not modified. */
static int run(enum kind k, const char *doc, const char *patch, const cn_message *schema,
               const char *want, int want_code)
{
    json_t *d = J(doc), *p = J(patch), *out = NULL;
    char *d0 = json_dumps(d, JSON_ENCODE_ANY | JSON_SORT_KEYS);
    char *p0 = json_dumps(p, JSON_ENCODE_ANY | JSON_SORT_KEYS);
    cn_err err = CN_ERR_INIT;
    int r = k == K_JSON ? cn_patch_json(d, p, &out, &err)
          : k == K_MERGE ? cn_patch_merge(d, p, &out, &err)
                         : cn_patch_strategic(d, p, schema, &out, &err);
    int ok = 1;
    if (want_code) {
        if (r >= 0 || err.code != want_code) {
            fprintf(stderr, "  want error %d, got r=%d code=%d (%s)\n", want_code, r, err.code,
                    err.message ? err.message : "");
            ok = 0;
        }
        if (out) ok = 0;
    } else if (r < 0) {
        fprintf(stderr, "  unexpected error %d %s: %s\n", err.code, err.reason, err.message);
        ok = 0;
    } else {
        json_t *w = J(want);
        if (!cn_json_equal(out, w)) {
            char *got = json_dumps(out, JSON_ENCODE_ANY | JSON_SORT_KEYS);
            fprintf(stderr, "  got  %s\n  want %s\n", got, want);
            free(got);
            ok = 0;
        }
        json_decref(w);
    }
    char *d1 = json_dumps(d, JSON_ENCODE_ANY | JSON_SORT_KEYS);
    char *p1 = json_dumps(p, JSON_ENCODE_ANY | JSON_SORT_KEYS);
    if (strcmp(d0, d1) != 0 || strcmp(p0, p1) != 0) {
        fprintf(stderr, "  input modified\n");
        ok = 0;
    }
    free(d0), free(d1), free(p0), free(p1);
    json_decref(d), json_decref(p), json_decref(out);
    cn_err_clear(&err);
    return ok;
}

#define JP(doc, patch, want) CHECK(run(K_JSON, doc, patch, NULL, want, 0))
#define JP_ERR(doc, patch, code) CHECK(run(K_JSON, doc, patch, NULL, NULL, code))
#define MP(doc, patch, want) CHECK(run(K_MERGE, doc, patch, NULL, want, 0))
#define SMP(schema, doc, patch, want) CHECK(run(K_SMP, doc, patch, schema, want, 0))
#define SMP_ERR(schema, doc, patch, code) CHECK(run(K_SMP, doc, patch, schema, NULL, code))

/* ---- cn_json_equal ---- */

static void test_equal(void)
{
    json_t *a = J("{\"a\":1,\"b\":[1,2.0,{\"x\":null}]}");
    json_t *b = J("{\"b\":[1.0,2,{\"x\":null}],\"a\":1}");
    json_t *c = J("{\"b\":[2,1,{\"x\":null}],\"a\":1}");
    json_t *d = J("{\"a\":1,\"b\":[1,2,{\"x\":null}],\"c\":1}");
    CHECK(cn_json_equal(a, b));
    CHECK(!cn_json_equal(a, c)); /* array order matters */
    CHECK(!cn_json_equal(a, d));
    CHECK(!cn_json_equal(a, NULL));
    json_t *s1 = J("\"1\""), *n1 = J("1"), *t = J("true"), *f = J("false");
    CHECK(!cn_json_equal(s1, n1));
    CHECK(!cn_json_equal(t, f));
    json_decref(a), json_decref(b), json_decref(c), json_decref(d);
    json_decref(s1), json_decref(n1), json_decref(t), json_decref(f);
}

/* ---- RFC 6902 ---- */

static void test_json_patch_rfc_appendix(void)
{
    /* A.1 - A.16 of RFC 6902 */
    JP("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
       "{\"baz\":\"qux\",\"foo\":\"bar\"}");
    JP("{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
       "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    JP("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}");
    JP("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
       "{\"foo\":[\"bar\",\"baz\"]}");
    JP("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
       "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    JP("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
       "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
       "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    JP("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}", "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
       "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    JP("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
       "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
       "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    JP_ERR("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", 422);
    JP("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
       "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    JP("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
       "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    JP_ERR("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", 422);
    JP("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", "{\"/\":9,\"~1\":10}");
    JP_ERR("{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", 422);
    JP("{\"foo\":[\"bar\"]}", "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
       "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
}

static void test_json_patch_more(void)
{
    /* ~1 in a key, as used for label and annotation keys with a slash */
    JP("{\"metadata\":{\"labels\":{\"app.kubernetes.io/name\":\"x\",\"a\":\"b\"}}}",
       "[{\"op\":\"remove\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\"}]",
       "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
    /* replace the whole document, copy, test 1 == 1.0 */
    JP("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}");
    JP("{\"a\":{\"x\":[1]}}", "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
                              "{\"op\":\"add\",\"path\":\"/b/x/0\",\"value\":0}]",
       "{\"a\":{\"x\":[1]},\"b\":{\"x\":[0,1]}}");
    JP("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":1.0}]", "{\"a\":1}");
    JP("{\"a\":[1,2]}", "[{\"op\":\"replace\",\"path\":\"/a/1\",\"value\":3}]", "{\"a\":[1,3]}");
    JP("{\"a\":[1,2]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":3}]", "{\"a\":[1,2,3]}");
    JP("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]", "{\"a\":{\"b\":1}}");
    JP("{\"a\":1}", "[]", "{\"a\":1}");
    /* the first failing op leaves nothing applied */
    JP_ERR("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\",\"value\":2},{\"op\":\"remove\",\"path\":\"/c\"}]", 422);
}

static void test_json_patch_errors(void)
{
    JP_ERR("{}", "{\"op\":\"add\",\"path\":\"/a\",\"value\":1}", 400); /* not an array */
    JP_ERR("{}", "[1]", 400);
    JP_ERR("{}", "[{\"path\":\"/a\",\"value\":1}]", 400);              /* op missing */
    JP_ERR("{}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", 400);
    JP_ERR("{}", "[{\"op\":\"add\",\"value\":1}]", 400);                 /* path missing */
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", 400);  /* no leading / */
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", 400);
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"/a~\",\"value\":1}]", 400);
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", 400);             /* value missing */
    JP_ERR("{}", "[{\"op\":\"move\",\"path\":\"/a\"}]", 400);            /* from missing */
    JP_ERR("{}", "[{\"op\":\"add\",\"path\":7,\"value\":1}]", 400);
    JP_ERR("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", 422);
    JP_ERR("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", 422);
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":1}]", 422);
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", 422);
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/01\"}]", 422);
    JP_ERR("{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/1\"}]", 422);
    JP_ERR("{\"a\":{\"b\":{}}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", 422);
    JP_ERR("{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/b\"}]", 422);
    JP_ERR("{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", 422);
    JP_ERR("{\"a\":\"s\"}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", 422);

    /* operation count bound */
    json_t *ops = json_array();
    for (int i = 0; i < 10001; i++)
        json_array_append_new(ops, json_pack("{s:s,s:s}", "op", "test", "path", ""));
    json_t *doc = json_object(), *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK(cn_patch_json(doc, ops, &out, &err) < 0);
    CHECK_INT(err.code, 400);
    cn_err_clear(&err);
    json_decref(ops);

    /* copy amplification bound: doubling a document 40 times */
    json_t *big = json_pack("{s:[i,i,i,i,i,i,i,i]}", "a", 1, 2, 3, 4, 5, 6, 7, 8);
    ops = json_array();
    json_array_append_new(ops, json_pack("{s:s,s:s,s:o}", "op", "add", "path", "/x", "value", big));
    for (int i = 0; i < 40; i++) {
        json_array_append_new(ops, json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "/x", "path", "/y"));
        json_array_append_new(ops, json_pack("{s:s,s:s,s:s}", "op", "move", "from", "/y", "path", "/x/a/-"));
    }
    /* each round copies the whole /x and nests it inside itself */
    int r = cn_patch_json(doc, ops, &out, &err);
    CHECK(r < 0);
    CHECK_INT(err.code, 422);
    cn_err_clear(&err);
    json_decref(ops);
    json_decref(doc);
    json_decref(out);
}

/* ---- RFC 7386 ---- */

static void test_merge_patch_rfc_appendix(void)
{
    MP("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    MP("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    MP("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    MP("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    MP("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    MP("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    MP("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}");
    MP("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    MP("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    MP("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    MP("{\"a\":\"foo\"}", "null", "null");
    MP("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    MP("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    MP("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    MP("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static void test_merge_patch_kubectl(void)
{
    /* kubectl label / label- (§8.2) */
    MP("{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\"}}}", "{\"metadata\":{\"labels\":{\"tier\":\"api\"}}}",
       "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"tier\":\"api\"}}}");
    MP("{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"tier\":\"api\"}}}",
       "{\"metadata\":{\"labels\":{\"tier\":null}}}", "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\"}}}");
}

static void test_merge_patch_depth(void)
{
    cn_buf b;
    cn_buf_init(&b);
    for (int i = 0; i < 150; i++) cn_buf_adds(&b, "{\"a\":");
    cn_buf_adds(&b, "1");
    for (int i = 0; i < 150; i++) cn_buf_addc(&b, '}');
    CHECK(run(K_MERGE, "{}", b.data, NULL, NULL, 400));
    CHECK(run(K_SMP, "{}", b.data, NULL, NULL, 400));
    cn_buf_release(&b);
}

/* ---- strategic merge patch ---- */

static const char *deploy_live =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
    " \"metadata\":{\"name\":\"web\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"old\\n\"}},"
    " \"spec\":{\"replicas\":2,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "   \"containers\":[{\"name\":\"main\",\"image\":\"nginx:1.25\","
    "                    \"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]},"
    "                   {\"name\":\"sidecar\",\"image\":\"busybox\"}]}}}}";

static void test_smp_kubectl_apply_deployment(void)
{
    /* the body client-side apply sends (kubectl-surface.md §8.3) */
    const char *patch =
        "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"new\\n\"}},"
        " \"spec\":{\"replicas\":3,\"template\":{\"spec\":{"
        "   \"$setElementOrder/containers\":[{\"name\":\"main\"}],"
        "   \"containers\":[{\"$setElementOrder/env\":[{\"name\":\"B\"}],\"env\":[{\"$patch\":\"delete\",\"name\":\"A\"}],"
        "                    \"image\":\"nginx:1.26\",\"name\":\"main\"},"
        "                   {\"$patch\":\"delete\",\"name\":\"sidecar\"}]}}}}";
    const char *want =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        " \"metadata\":{\"name\":\"web\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"new\\n\"}},"
        " \"spec\":{\"replicas\":3,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
        "   \"containers\":[{\"name\":\"main\",\"image\":\"nginx:1.26\",\"env\":[{\"name\":\"B\",\"value\":\"2\"}]}]}}}}";
    SMP(&deploy_msg, deploy_live, patch, want);
}

static void test_smp_kubectl_apply_configmap(void)
{
    SMP(&cm_msg,
        "{\"metadata\":{\"name\":\"c\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"x\"}},"
        " \"data\":{\"greeting\":\"hi\",\"mode\":\"prod\",\"keep\":\"1\"}}",
        "{\"data\":{\"greeting\":null,\"mode\":\"dev\"},"
        " \"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"y\\n\"}}}",
        "{\"metadata\":{\"name\":\"c\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"y\\n\"}},"
        " \"data\":{\"mode\":\"dev\",\"keep\":\"1\"}}");
}

static void test_smp_kubectl_commands(void)
{
    /* kubectl set image: order kept, the other container untouched */
    SMP(&deploy_msg, deploy_live,
        "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"main\"},{\"name\":\"sidecar\"}],"
        "\"containers\":[{\"image\":\"nginx:2\",\"name\":\"main\"}]}}}}",
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
        " \"metadata\":{\"name\":\"web\",\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"old\\n\"}},"
        " \"spec\":{\"replicas\":2,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
        "   \"containers\":[{\"name\":\"main\",\"image\":\"nginx:2\","
        "                    \"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]},"
        "                   {\"name\":\"sidecar\",\"image\":\"busybox\"}]}}}}");
    /* kubectl rollout restart */
    SMP(&deploy_msg, "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}}}}}",
        "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2024-01-01T00:00:00Z\"}}}}}",
        "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"},"
        "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2024-01-01T00:00:00Z\"}}}}}");
    /* kubectl uncordon: null deletes */
    SMP(NULL, "{\"spec\":{\"unschedulable\":true,\"podCIDR\":\"x\"}}", "{\"spec\":{\"unschedulable\":null}}",
        "{\"spec\":{\"podCIDR\":\"x\"}}");
}

static void test_smp_merge_lists(void)
{
    /* containers by name: patch one field of an existing item */
    SMP(&podspec_msg, "{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"2\"}]}",
        "{\"containers\":[{\"name\":\"b\",\"image\":\"3\"}]}",
        "{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\",\"image\":\"3\"}]}");
    /* a new item without $setElementOrder goes before the server-only
     * items, as upstream's order normalisation does */
    SMP(&podspec_msg, "{\"containers\":[{\"name\":\"a\",\"image\":\"1\"}]}",
        "{\"containers\":[{\"name\":\"n\",\"image\":\"9\"}]}",
        "{\"containers\":[{\"name\":\"n\",\"image\":\"9\"},{\"name\":\"a\",\"image\":\"1\"}]}");
    /* with $setElementOrder it goes where the client says */
    SMP(&podspec_msg, "{\"containers\":[{\"name\":\"a\",\"image\":\"1\"}]}",
        "{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"n\"}],\"containers\":[{\"name\":\"n\",\"image\":\"9\"}]}",
        "{\"containers\":[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"n\",\"image\":\"9\"}]}");
    /* ports merge by the integer containerPort */
    SMP(&container_msg,
        "{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"},{\"containerPort\":443}]}",
        "{\"ports\":[{\"containerPort\":443,\"name\":\"https\"}]}",
        "{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"},{\"containerPort\":443,\"name\":\"https\"}]}");
    /* a list without merge strategy is replaced */
    SMP(&container_msg, "{\"args\":[\"a\",\"b\"]}", "{\"args\":[\"c\"]}", "{\"args\":[\"c\"]}");
    /* nulls inside a merged item delete, inside a new item vanish */
    SMP(&container_msg, "{\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}",
        "{\"env\":[{\"name\":\"A\",\"value\":null},{\"name\":\"B\",\"value\":null}]}",
        "{\"env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}");
    /* $patch: replace as a list item replaces the list */
    SMP(&container_msg, "{\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\"}]}",
        "{\"env\":[{\"$patch\":\"replace\"},{\"name\":\"C\",\"value\":\"3\"}]}",
        "{\"env\":[{\"name\":\"C\",\"value\":\"3\"}]}");
    /* deleting an item that is not there is fine */
    SMP(&container_msg, "{\"env\":[{\"name\":\"A\"}]}", "{\"env\":[{\"$patch\":\"delete\",\"name\":\"Z\"}]}",
        "{\"env\":[{\"name\":\"A\"}]}");
    /* merge list absent in the live object */
    SMP(&container_msg, "{\"name\":\"c\"}", "{\"env\":[{\"name\":\"A\"},{\"$patch\":\"delete\",\"name\":\"B\"}]}",
        "{\"name\":\"c\",\"env\":[{\"name\":\"A\"}]}");
}

static void test_smp_set_element_order(void)
{
    /* reorder only (design doc "may contain elements not present in the patch list") */
    SMP(&container_msg, "{\"env\":[{\"name\":\"B\"},{\"name\":\"A\"}]}",
        "{\"$setElementOrder/env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}",
        "{\"env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}");
    /* names in the order but not in the list are ignored */
    SMP(&container_msg, "{\"env\":[{\"name\":\"A\"},{\"name\":\"B\"}]}",
        "{\"$setElementOrder/env\":[{\"name\":\"C\"},{\"name\":\"A\"},{\"name\":\"B\"}],"
        "\"env\":[{\"name\":\"A\",\"value\":\"a\"},{\"name\":\"B\",\"value\":\"b\"}]}",
        "{\"env\":[{\"name\":\"A\",\"value\":\"a\"},{\"name\":\"B\",\"value\":\"b\"}]}");
    /* the design doc's env example: server-only ENV5/ENV4 are interleaved
     * by their live position (upstream's mergeSortedSlice behaviour) */
    SMP(&container_msg,
        "{\"env\":[{\"name\":\"ENV2\"},{\"name\":\"ENV5\"},{\"name\":\"ENV1\"},{\"name\":\"ENV3\"},{\"name\":\"ENV4\"}]}",
        "{\"$setElementOrder/env\":[{\"name\":\"ENV1\"},{\"name\":\"ENV2\"},{\"name\":\"ENV6\"}],"
        "\"env\":[{\"name\":\"ENV3\",\"$patch\":\"delete\"},{\"name\":\"ENV6\",\"value\":\"new\"}]}",
        "{\"env\":[{\"name\":\"ENV5\"},{\"name\":\"ENV1\"},{\"name\":\"ENV2\"},{\"name\":\"ENV6\",\"value\":\"new\"},"
        "{\"name\":\"ENV4\"}]}");
    /* primitives */
    SMP(&meta_msg, "{\"finalizers\":[\"b\",\"a\"]}", "{\"$setElementOrder/finalizers\":[\"a\",\"b\"]}",
        "{\"finalizers\":[\"a\",\"b\"]}");
    SMP_ERR(&container_msg, "{\"env\":[]}", "{\"$setElementOrder/env\":[\"A\"]}", 400);
    SMP_ERR(&container_msg, "{\"env\":[]}", "{\"$setElementOrder/env\":{\"name\":\"A\"}}", 400);
}

static void test_smp_primitive_sets(void)
{
    /* finalizers merge as a set */
    SMP(&meta_msg, "{\"finalizers\":[\"a\",\"b\"]}", "{\"finalizers\":[\"b\",\"c\"]}",
        "{\"finalizers\":[\"a\",\"b\",\"c\"]}");
    SMP(&meta_msg, "{\"finalizers\":[\"a\",\"b\"]}", "{\"finalizers\":[\"a\"]}", "{\"finalizers\":[\"a\",\"b\"]}");
    SMP(&meta_msg, "{\"name\":\"x\"}", "{\"finalizers\":[\"a\",\"a\"]}", "{\"name\":\"x\",\"finalizers\":[\"a\"]}");
    /* $deleteFromPrimitiveList */
    SMP(&meta_msg, "{\"finalizers\":[\"a\",\"b\",\"c\"]}", "{\"$deleteFromPrimitiveList/finalizers\":[\"b\",\"z\"]}",
        "{\"finalizers\":[\"a\",\"c\"]}");
    SMP(&meta_msg, "{\"name\":\"x\"}", "{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}", "{\"name\":\"x\"}");
    SMP_ERR(&meta_msg, "{}", "{\"$deleteFromPrimitiveList/finalizers\":\"b\"}", 400);
    /* the design doc's finalizer example, all three directives together */
    SMP(&meta_msg, "{\"finalizers\":[\"b\",\"e\",\"a\",\"c\",\"d\"]}",
        "{\"$setElementOrder/finalizers\":[\"a\",\"b\",\"f\"],\"$deleteFromPrimitiveList/finalizers\":[\"c\"],"
        "\"finalizers\":[\"f\"]}",
        "{\"finalizers\":[\"e\",\"a\",\"b\",\"f\",\"d\"]}");
    /* a list of primitives replaced by $patch: replace */
    SMP(&meta_msg, "{\"finalizers\":[\"a\",\"b\"]}", "{\"finalizers\":[{\"$patch\":\"replace\"},\"c\"]}",
        "{\"finalizers\":[\"c\"]}");
}

static void test_smp_map_directives(void)
{
    /* $patch: replace on a map */
    SMP(&deploy_msg, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
        "{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"c\":\"3\"}}}",
        "{\"metadata\":{\"name\":\"x\",\"labels\":{\"c\":\"3\"}}}");
    /* $patch: delete on a map */
    SMP(&deploy_msg, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\"}}}",
        "{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}", "{\"metadata\":{\"name\":\"x\"}}");
    /* $patch: merge is the default */
    SMP(&deploy_msg, "{\"metadata\":{\"labels\":{\"a\":\"1\"}}}",
        "{\"metadata\":{\"labels\":{\"$patch\":\"merge\",\"b\":\"2\"}}}",
        "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}");
    /* $retainKeys: switching the Deployment strategy to Recreate */
    SMP(&deploy_msg,
        "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,\"maxUnavailable\":0}}}}",
        "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
        "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}");
    SMP(&podspec_msg, "{\"volumes\":[{\"name\":\"v\",\"configMap\":{\"name\":\"c\"}}]}",
        "{\"volumes\":[{\"$retainKeys\":[\"emptyDir\",\"name\"],\"emptyDir\":{},\"name\":\"v\"}]}",
        "{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}");
    SMP_ERR(&deploy_msg, "{}", "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":{}}}}", 400);
    SMP_ERR(&deploy_msg, "{}", "{\"spec\":{\"strategy\":{\"$retainKeys\":\"type\"}}}", 400);
    /* a map of messages: each value typed by f->msg */
    SMP(&podspec_msg, "{\"sidecars\":{\"s\":{\"name\":\"s\",\"env\":[{\"name\":\"A\"}]}}}",
        "{\"sidecars\":{\"s\":{\"env\":[{\"name\":\"B\"}]}}}",
        "{\"sidecars\":{\"s\":{\"name\":\"s\",\"env\":[{\"name\":\"B\"},{\"name\":\"A\"}]}}}");
    /* whole object deleted leaves an empty object */
    SMP(&deploy_msg, "{\"a\":1}", "{\"$patch\":\"delete\"}", "{}");
}

/* No key starting with '$' anywhere in v. */
static int no_directives(const json_t *v)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
            if (k[0] == '$' || !no_directives(c)) return 0;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
            if (!no_directives(c)) return 0;
    }
    return 1;
}

static void test_smp_unknown_fields(void)
{
    /* no schema: maps merge, lists replace, directives never survive */
    const char *patch =
        "{\"spec\":{\"replicas\":3,\"template\":{\"spec\":{"
        "   \"$setElementOrder/containers\":[{\"name\":\"main\"}],"
        "   \"containers\":[{\"$setElementOrder/env\":[{\"name\":\"B\"}],\"env\":[{\"$patch\":\"delete\",\"name\":\"A\"}],"
        "                    \"image\":\"nginx:1.26\",\"name\":\"main\"},"
        "                   {\"$patch\":\"delete\",\"name\":\"sidecar\"}]}}}}";
    json_t *d = J(deploy_live), *p = J(patch), *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK(cn_patch_strategic(d, p, NULL, &out, &err) == 0);
    CHECK(no_directives(out));
    json_t *want = J("[{\"env\":[],\"image\":\"nginx:1.26\",\"name\":\"main\"}]");
    CHECK(cn_json_equal(json_object_get(json_object_get(json_object_get(json_object_get(out, "spec"), "template"),
                                                        "spec"), "containers"), want));
    CHECK_INT(json_integer_value(json_object_get(json_object_get(out, "spec"), "replicas")), 3);
    json_decref(want), json_decref(out);
    /* with the schema too */
    CHECK(cn_patch_strategic(d, p, &deploy_msg, &out, &err) == 0);
    CHECK(no_directives(out));
    json_decref(out);
    json_decref(d), json_decref(p);

    SMP(&deploy_msg, "{\"spec\":{\"paused\":false,\"x\":{\"a\":[1,2],\"b\":1}}}",
        "{\"spec\":{\"paused\":true,\"x\":{\"a\":[3]}}}", "{\"spec\":{\"paused\":true,\"x\":{\"a\":[3],\"b\":1}}}");
    /* type change: the patch value wins */
    SMP(&deploy_msg, "{\"spec\":{\"template\":\"s\"}}", "{\"spec\":{\"template\":{\"metadata\":{\"name\":\"n\"}}}}",
        "{\"spec\":{\"template\":{\"metadata\":{\"name\":\"n\"}}}}");
}

static void test_smp_errors(void)
{
    SMP_ERR(&deploy_msg, "{}", "[]", 400);
    SMP_ERR(&deploy_msg, "{}", "\"x\"", 400);
    SMP_ERR(&podspec_msg, "{\"containers\":[]}", "{\"containers\":[{\"image\":\"x\"}]}", 400); /* no merge key */
    SMP_ERR(&podspec_msg, "{\"containers\":[]}", "{\"containers\":[\"x\"]}", 400);
    SMP_ERR(&podspec_msg, "{\"containers\":[]}", "{\"containers\":[{\"$patch\":\"delete\"}]}", 400);
    SMP_ERR(&podspec_msg, "{\"containers\":[]}", "{\"containers\":[{\"$patch\":\"bogus\",\"name\":\"a\"}]}", 400);
    SMP_ERR(&deploy_msg, "{}", "{\"metadata\":{\"$patch\":\"bogus\"}}", 400);
    SMP_ERR(&deploy_msg, "{}", "{\"metadata\":{\"$patch\":1}}", 400);
}

int main(void)
{
    TEST_RUN(test_equal);
    TEST_RUN(test_json_patch_rfc_appendix);
    TEST_RUN(test_json_patch_more);
    TEST_RUN(test_json_patch_errors);
    TEST_RUN(test_merge_patch_rfc_appendix);
    TEST_RUN(test_merge_patch_kubectl);
    TEST_RUN(test_merge_patch_depth);
    TEST_RUN(test_smp_kubectl_apply_deployment);
    TEST_RUN(test_smp_kubectl_apply_configmap);
    TEST_RUN(test_smp_kubectl_commands);
    TEST_RUN(test_smp_merge_lists);
    TEST_RUN(test_smp_set_element_order);
    TEST_RUN(test_smp_primitive_sets);
    TEST_RUN(test_smp_map_directives);
    TEST_RUN(test_smp_unknown_fields);
    TEST_RUN(test_smp_errors);
    return TEST_DONE();
}
