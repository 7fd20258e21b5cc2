/* test_jsonpath: the JSONPath subset used by CRD printer columns. */
#include <errno.h>
#include <stdlib.h>

#include "api/jsonpath.h"
#include "test.h"

static json_t *doc;

/* Evaluate expr on doc and return the matches as compact JSON (caller frees). */
static char *eval_str(const char *expr)
{
    cn_jsonpath *p = NULL;
    if (cn_jsonpath_parse(expr, &p) < 0) return strdup("ERR");
    json_t *r = cn_jsonpath_eval(p, doc);
    char *s = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(r);
    cn_jsonpath_free(p);
    return s;
}

#define CHECK_EVAL(expr, want) do { char *_s = eval_str(expr); CHECK_STR(_s, want); free(_s); } while (0)

static void test_fields(void)
{
    CHECK_EVAL(".spec.replicas", "[3]");
    CHECK_EVAL("{.spec.replicas}", "[3]");
    CHECK_EVAL("$.spec.replicas", "[3]");
    CHECK_EVAL("spec.replicas", "[3]");
    CHECK_EVAL(".metadata.labels.app", "[\"web\"]");
    CHECK_EVAL(".metadata.labels['app.kubernetes.io/name']", "[\"shop\"]");
    CHECK_EVAL(".metadata.labels[\"app.kubernetes.io/name\"]", "[\"shop\"]");
    CHECK_EVAL(".spec.missing", "[]");
    CHECK_EVAL(".spec.replicas.deeper", "[]");
    CHECK_EVAL(".", "[" "{\"spec\":{\"replicas\":3,\"items\":[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"n\":2},"
                    "{\"name\":\"c\",\"n\":3}]},\"metadata\":{\"labels\":{\"app\":\"web\","
                    "\"app.kubernetes.io/name\":\"shop\"}},\"status\":{\"conditions\":[{\"type\":"
                    "\"Synced\",\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}" "]");
}

static void test_arrays(void)
{
    CHECK_EVAL(".spec.items[0].name", "[\"a\"]");
    CHECK_EVAL(".spec.items[-1].name", "[\"c\"]");
    CHECK_EVAL(".spec.items[5].name", "[]");
    CHECK_EVAL(".spec.items[*].name", "[\"a\",\"b\",\"c\"]");
    CHECK_EVAL(".spec.items.*.n", "[1,2,3]");
    CHECK_EVAL(".spec.items[1:].name", "[\"b\",\"c\"]");
    CHECK_EVAL(".spec.items[:2].name", "[\"a\",\"b\"]");
    CHECK_EVAL(".spec.items[0:3:2].name", "[\"a\",\"c\"]");
    CHECK_EVAL(".spec.items[0,2].name", "[\"a\",\"c\"]");
    CHECK_EVAL("..name", "[\"a\",\"b\",\"c\"]");
}

static void test_filters(void)
{
    CHECK_EVAL(".status.conditions[?(@.type==\"Ready\")].status", "[\"True\"]");
    CHECK_EVAL(".status.conditions[?(@.type == 'Synced')].status", "[\"False\"]");
    CHECK_EVAL(".status.conditions[?(@.type!=\"Ready\")].type", "[\"Synced\"]");
    CHECK_EVAL(".status.conditions[?(@.type==\"Nope\")].status", "[]");
    CHECK_EVAL(".spec.items[?(@.n>1)].name", "[\"b\",\"c\"]");
    CHECK_EVAL(".spec.items[?(@.n<=1)].name", "[\"a\"]");
    CHECK_EVAL(".spec.items[?(@.n==2.0)].name", "[\"b\"]");
    CHECK_EVAL(".spec.items[?(@.name)].n", "[1,2,3]");
    CHECK_EVAL(".spec.items[?(@.nope)].n", "[]");
}

static void test_errors(void)
{
    cn_jsonpath *p = NULL;
    CHECK_INT(cn_jsonpath_parse(".a[", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse(".a[?(@.b==)]", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse(".a[?(@.b=='x'", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse(".a[\"x]", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse(".a[1:2:0]", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse("...a", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse(".a b", &p), -EINVAL);
    CHECK_INT(cn_jsonpath_parse(".a[99999999999999999999]", &p), -EINVAL);
    /* nested filters are bounded */
    CHECK_INT(cn_jsonpath_parse(".a[?(@.b[?(@.c[?(@.d[?(@.e[?(@.f[?(@.g)])])])])])]", &p), -EINVAL);
    /* too many steps */
    char big[600];
    size_t n = 0;
    for (int i = 0; i < 100; i++) { memcpy(big + n, ".a", 2); n += 2; }
    big[n] = '\0';
    CHECK_INT(cn_jsonpath_parse(big, &p), -EINVAL);
    CHECK(cn_jsonpath_first(NULL, doc) == NULL);
}

static void test_first(void)
{
    cn_jsonpath *p = NULL;
    CHECK_INT(cn_jsonpath_parse(".spec.items[*].n", &p), 0);
    const json_t *v = cn_jsonpath_first(p, doc);
    CHECK(v && json_integer_value(v) == 1);
    cn_jsonpath_free(p);
}

int main(void)
{
    doc = json_loads("{\"spec\":{\"replicas\":3,\"items\":[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"n\":2},"
                     "{\"name\":\"c\",\"n\":3}]},\"metadata\":{\"labels\":{\"app\":\"web\","
                     "\"app.kubernetes.io/name\":\"shop\"}},\"status\":{\"conditions\":[{\"type\":"
                     "\"Synced\",\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                     0, NULL);
    TEST_RUN(test_fields);
    TEST_RUN(test_arrays);
    TEST_RUN(test_filters);
    TEST_RUN(test_errors);
    TEST_RUN(test_first);
    json_decref(doc);
    return TEST_DONE();
}
