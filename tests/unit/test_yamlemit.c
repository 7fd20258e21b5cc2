/* Unit tests for yamlemit: the exact block layout kubectl users expect,
 * quoting of strings YAML would read as something else, and round trips
 * through lib/yaml's parser for objects of every shape. */
#include <stdlib.h>
#include <string.h>

#include "lib/yaml.h"
#include "lib/yamlemit.h"
#include "test.h"

static char *emit(const json_t *v)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_yaml_emit(&b, v);
    return cn_buf_detach(&b, NULL);
}

static void test_layout(void)
{
    json_t *v = json_loads("{\"kind\":\"Cluster\",\"spec\":{\"controlPlane\":{\"count\":3},"
                           "\"nodePools\":[{\"name\":\"np1\",\"labels\":{\"team\":\"web\"}},{\"name\":\"np2\"}],"
                           "\"tags\":[\"a\",\"b\"],\"empty\":{},\"none\":[]}}", 0, NULL);
    char *s = emit(v);
    CHECK_STR(s, "kind: Cluster\n"
                 "spec:\n"
                 "  controlPlane:\n"
                 "    count: 3\n"
                 "  nodePools:\n"
                 "  - name: np1\n"
                 "    labels:\n"
                 "      team: web\n"
                 "  - name: np2\n"
                 "  tags:\n"
                 "  - a\n"
                 "  - b\n"
                 "  empty: {}\n"
                 "  none: []\n");
    free(s);
    json_decref(v);
}

static void test_quoting(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "10.99.0.1", "10.99.0.1\n" }, { "1.32.0", "1.32.0\n" }, { "Standard_A4_v2", "Standard_A4_v2\n" },
        { "8Gi", "8Gi\n" }, { "1.32", "\"1.32\"\n" }, { "123", "\"123\"\n" }, { "1e3", "\"1e3\"\n" },
        { "true", "\"true\"\n" }, { "No", "\"No\"\n" }, { "null", "\"null\"\n" }, { "", "\"\"\n" },
        { "-x", "\"-x\"\n" }, { "a: b", "\"a: b\"\n" }, { "#c", "\"#c\"\n" }, { "2026-11-27", "\"2026-11-27\"\n" },
        { "0x1F", "\"0x1F\"\n" }, { "a\nb", "\"a\\nb\"\n" }, { " lead", "\" lead\"\n" },
        { "dedicated=web:NoSchedule", "\"dedicated=web:NoSchedule\"\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = json_string(cases[i].in);
        char *s = emit(v);
        CHECK_STR(s, cases[i].out);
        free(s);
        json_decref(v);
    }
    json_t *n = json_pack("[i,f,b,n]", 7, 1.5, 1);
    char *s = emit(n);
    CHECK_STR(s, "- 7\n- 1.5\n- true\n- null\n");
    free(s);
    json_decref(n);
}

static void test_round_trip(void)
{
    static const char *const docs[] = {
        "{\"a\":\"1\",\"b\":1,\"c\":[[1,2],[\"x\",{\"y\":\"no\"}]],\"d\":{\"e\":{\"f\":[{}]}},\"g\":\"\"}",
        "[{\"name\":\"c1-cp-0\",\"phase\":\"Running\",\"pid\":1234},{\"k\":\"v: w\"}]",
        "{\"value\":\"apiVersion: v1\\nclusters:\\n- cluster: {}\\n\",\"t\":\"2026-11-27T06:00:00.123Z\"}",
        "\"scalar\"",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY, NULL), *back = NULL;
        char *s = emit(v);
        cn_err err = CN_ERR_INIT;
        CHECK_INT(cn_yaml_parse(s, strlen(s), &back, &err), 0);
        CHECK(json_equal(v, back));
        if (!json_equal(v, back)) fprintf(stderr, "round trip of %s gave:\n%s", docs[i], s);
        cn_err_clear(&err);
        json_decref(back);
        json_decref(v);
        free(s);
    }
}

int main(void)
{
    TEST_RUN(test_layout);
    TEST_RUN(test_quoting);
    TEST_RUN(test_round_trip);
    return TEST_DONE();
}
