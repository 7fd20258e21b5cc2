/* Unit tests for YAML -> JSON conversion. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "lib/yaml.h"
#include "lib/util.h"
#include "test.h"

/* Converts one document and returns compact sorted JSON, or "ERR:<code>". */
static char *conv(const char *y)
{
    json_t *o = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_yaml_parse(y, strlen(y), &o, &e) < 0) {
        char *s = cn_asprintf("ERR:%d", e.code);
        cn_err_clear(&e);
        return s;
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(o);
    return s;
}

static char *conv_all(const char *y)
{
    json_t *o = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_yaml_parse_all(y, strlen(y), &o, &e) < 0) {
        char *s = cn_asprintf("ERR:%d", e.code);
        cn_err_clear(&e);
        return s;
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(o);
    return s;
}

#define CHECK_Y(y, want) do { char *_c = conv(y); CHECK_STR(_c, want); free(_c); } while (0)
#define CHECK_YA(y, want) do { char *_c = conv_all(y); CHECK_STR(_c, want); free(_c); } while (0)

static void test_structure(void)
{
    CHECK_Y("", "null");
    CHECK_Y("# just a comment\n", "null");
    CHECK_Y("a: 1\nb: x\n", "{\"a\":1,\"b\":\"x\"}");
    CHECK_Y("- 1\n- two\n- [3, 4]\n", "[1,\"two\",[3,4]]");
    CHECK_Y("{\"a\": [1, {\"b\": null}]}", "{\"a\":[1,{\"b\":null}]}");
    CHECK_Y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    app: web\n"
            "data:\n  k: v\n",
            "{\"apiVersion\":\"v1\",\"data\":{\"k\":\"v\"},\"kind\":\"ConfigMap\","
            "\"metadata\":{\"labels\":{\"app\":\"web\"},\"name\":\"x\"}}");
    CHECK_Y("a:\n", "{\"a\":null}");
    CHECK_Y("a: []\nb: {}\n", "{\"a\":[],\"b\":{}}");
    CHECK_Y("hello", "\"hello\"");
    /* first document only */
    CHECK_Y("a: 1\n---\nb: 2\n", "{\"a\":1}");
    CHECK_Y("---\na: 1\n", "{\"a\":1}");
}

static void test_scalars(void)
{
    CHECK_Y("[null, ~, Null, NULL, '', \"\"]", "[null,null,null,null,\"\",\"\"]");
    CHECK_Y("[true, True, TRUE, false, yes, no, on, off, y, n, Yes, OFF]",
            "[true,true,true,false,true,false,true,false,true,false,true,false]");
    CHECK_Y("['true', \"yes\", !!str on]", "[\"true\",\"yes\",\"on\"]");
    CHECK_Y("[0, 42, -7, +3, 0x1F, 0o17, 017, 0b101, 1_000]", "[0,42,-7,3,31,15,15,5,1000]");
    CHECK_Y("[08, 1.5, -0.25, .5, 1e3, 2.0, 1.]", "[8,1.5,-0.25,0.5,1000,2,1]");
    CHECK_Y("[9223372036854775807, -9223372036854775808]",
            "[9223372036854775807,-9223372036854775808]");
    CHECK_Y("[1e400, 0x, 12abc, 1.2.3, -, +, 0xZZ]",
            "[\"1e400\",\"0x\",\"12abc\",\"1.2.3\",\"-\",\"+\",\"0xZZ\"]");
    CHECK_Y("- '1'\n- \"2\"\n- |\n  3\n", "[\"1\",\"2\",\"3\\n\"]");
    CHECK_Y("v: 2024-01-02\n", "{\"v\":\"2024-01-02\"}");
    CHECK_Y("v: 1.2.3.4\n", "{\"v\":\"1.2.3.4\"}");
    CHECK_Y("v: nginx:1.25\n", "{\"v\":\"nginx:1.25\"}");
    CHECK_Y("s: |\n  line1\n  line2\n", "{\"s\":\"line1\\nline2\\n\"}");
    CHECK_Y("s: >\n  folded\n  text\n", "{\"s\":\"folded text\\n\"}");
    CHECK_Y("s: \"tab\\there \\u00e9\"\n", "{\"s\":\"tab\\there \xc3\xa9\"}");
    CHECK_Y("s: 'it''s'\n", "{\"s\":\"it's\"}");
    /* explicit tags */
    CHECK_Y("[!!str 1, !!int \"2\", !!float 3, !!bool \"true\", !!null \"\", !!str null]",
            "[\"1\",2,3,true,null,\"null\"]");
    CHECK_Y("[!!float 1.5, !custom text, ! 12]", "[1.5,\"text\",\"12\"]");
    CHECK_Y("x: !!int abc\n", "ERR:400");
    CHECK_Y("x: !!bool 1\n", "ERR:400");
    CHECK_Y("x: !!null 0\n", "ERR:400");
    /* JSON can hold neither NaN nor infinities */
    CHECK_Y("x: .nan\n", "ERR:400");
    CHECK_Y("x: .inf\n", "ERR:400");
    CHECK_Y("x: -.Inf\n", "ERR:400");
    CHECK_Y("x: '.inf'\n", "{\"x\":\".inf\"}");
}

static void test_keys(void)
{
    CHECK_Y("1: a\n", "{\"1\":\"a\"}");
    CHECK_Y("0x10: a\n", "{\"16\":\"a\"}");
    CHECK_Y("true: a\n", "{\"true\":\"a\"}");
    CHECK_Y("yes: a\n", "{\"true\":\"a\"}");   /* go-yaml v2 bool key */
    CHECK_Y("1.5: a\n", "{\"1.5\":\"a\"}");
    CHECK_Y("1.0: a\n", "{\"1\":\"a\"}");
    CHECK_Y("1e7: a\n", "{\"1e+07\":\"a\"}");
    CHECK_Y(".inf: a\n", "{\".inf\":\"a\"}");
    CHECK_Y("'1': a\n", "{\"1\":\"a\"}");
    CHECK_Y("~: a\n", "ERR:400");
    CHECK_Y("? [a]\n: b\n", "ERR:400");
    CHECK_Y("? {a: 1}\n: b\n", "ERR:400");
    /* duplicates, including ones that only collide after stringification */
    CHECK_Y("a: 1\na: 2\n", "ERR:400");
    CHECK_Y("1: a\n'1': b\n", "ERR:400");
    CHECK_Y("m:\n  x: 1\n  y: 2\n  x: 3\n", "ERR:400");
    CHECK_Y("a: {x: 1}\nb: {x: 1}\n", "{\"a\":{\"x\":1},\"b\":{\"x\":1}}");
    CHECK_Y("<<: {a: 1}\n", "ERR:400");
}

static void test_errors(void)
{
    CHECK_Y("a: b: c\n", "ERR:400");
    CHECK_Y("a: [1, 2\n", "ERR:400");
    CHECK_Y("\"unterminated\n", "ERR:400");
    CHECK_Y("a: 1\n b: 2\n", "ERR:400");
    /* aliases refused: billion laughs */
    CHECK_Y("a: &x [1, 2]\nb: *x\n", "ERR:400");
    CHECK_Y("a: &x 1\n", "{\"a\":1}");   /* an unused anchor is harmless */
    CHECK_Y("a: \"\\0\"\n", "ERR:400");   /* NUL has no place in our strings */

    json_t *o = (json_t *)1;
    cn_err e = CN_ERR_INIT;
    const char *y = "a: 1\nb: [\n";
    CHECK(cn_yaml_parse(y, strlen(y), &o, &e) < 0);
    CHECK(o == NULL);
    CHECK_INT(e.code, 400);
    CHECK_STR(e.reason, "BadRequest");
    CHECK(e.message && strstr(e.message, "error converting YAML to JSON: yaml: line "));
    cn_err_clear(&e);

    y = "a: 1\na: 2\n";
    CHECK(cn_yaml_parse(y, strlen(y), &o, &e) < 0);
    CHECK(e.message && strstr(e.message, "line 2"));
    CHECK(e.message && strstr(e.message, "\"a\" already set"));
    cn_err_clear(&e);

    /* depth is bounded, also for flow style */
    cn_buf b;
    cn_buf_init(&b);
    for (int i = 0; i < 300; i++) cn_buf_addc(&b, '[');
    for (int i = 0; i < 300; i++) cn_buf_addc(&b, ']');
    CHECK(cn_yaml_parse(b.data, b.len, &o, &e) < 0);
    CHECK(e.message && strstr(e.message, "depth"));
    cn_err_clear(&e);
    cn_buf_reset(&b);
    for (int i = 0; i < 150; i++) cn_buf_addc(&b, '[');
    for (int i = 0; i < 150; i++) cn_buf_addc(&b, ']');
    CHECK(cn_yaml_parse(b.data, b.len, &o, &e) == 0);
    json_decref(o);
    cn_buf_release(&b);

    /* the input need not be NUL-terminated */
    const char buf[] = { 'a', ':', ' ', '1', 'x' };
    CHECK(cn_yaml_parse(buf, 4, &o, &e) == 0);
    CHECK_INT(json_integer_value(json_object_get(o, "a")), 1);
    json_decref(o);
}

static void test_json_fallback(void)
{
    /* escapes libyaml refuses but JSON allows */
    CHECK_Y("{\"k\": \"\\ud83d\\ude00 a\\/b\"}", "{\"k\":\"\xf0\x9f\x98\x80 a/b\"}");
    CHECK_YA("[\"\\ud83d\\ude00\"]", "[[\"\xf0\x9f\x98\x80\"]]");
    /* still refused: duplicates, non-JSON YAML errors, nesting beyond the bound */
    CHECK_Y("{\"k\": \"\\/\", \"k\": 1}", "ERR:400");
    CHECK_Y("a: \"\\ud83d\\ude00\"\n", "ERR:400");   /* YAML, not JSON: no fallback */
    cn_buf b;
    cn_buf_init(&b);
    for (int i = 0; i < 300; i++) cn_buf_addc(&b, '[');
    cn_buf_adds(&b, "\"\\/\"");
    for (int i = 0; i < 300; i++) cn_buf_addc(&b, ']');
    json_t *o = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_yaml_parse(b.data, b.len, &o, &e) < 0);
    CHECK_INT(e.code, 400);
    cn_err_clear(&e);
    cn_buf_release(&b);
}

static void test_all(void)
{
    CHECK_YA("", "[]");
    CHECK_YA("a: 1\n", "[{\"a\":1}]");
    CHECK_YA("a: 1\n---\nb: 2\n", "[{\"a\":1},{\"b\":2}]");
    CHECK_YA("---\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n---\n",
             "[{\"a\":1},{\"b\":2}]");
    CHECK_YA("a: 1\n---\nb: [\n", "ERR:400");
    CHECK_YA("a: 1\n---\nb: *x\n", "ERR:400");
    CHECK_YA("- 1\n---\nx\n", "[[1],\"x\"]");
}

int main(void)
{
    TEST_RUN(test_structure);
    TEST_RUN(test_scalars);
    TEST_RUN(test_keys);
    TEST_RUN(test_errors);
    TEST_RUN(test_json_fallback);
    TEST_RUN(test_all);
    return TEST_DONE();
}
