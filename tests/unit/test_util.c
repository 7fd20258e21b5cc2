#include <errno.h>
#include <stdlib.h>
#include "lib/util.h"
#include "lib/err.h"
#include "test.h"

static void test_parse_int(void)
{
    int64_t v;
    CHECK(cn_parse_int64("42", &v) == 0 && v == 42);
    CHECK(cn_parse_int64("-9223372036854775808", &v) == 0 && v == INT64_MIN);
    CHECK(cn_parse_int64("9223372036854775808", &v) == -EINVAL);
    CHECK(cn_parse_int64("12a", &v) == -EINVAL);
    CHECK(cn_parse_int64("", &v) == -EINVAL);
    CHECK(cn_parse_int64("-", &v) == -EINVAL);
}

static void test_time(void)
{
    int64_t t;
    char buf[32];
    CHECK(cn_time_parse("2024-02-29T12:34:56Z", &t) == 0);
    cn_time_rfc3339(t, buf);
    CHECK_STR(buf, "2024-02-29T12:34:56Z");
    CHECK(cn_time_parse("2024-02-29T12:34:56.123+01:00", &t) == 0);
    cn_time_rfc3339(t, buf);
    CHECK_STR(buf, "2024-02-29T11:34:56Z");
    CHECK(cn_time_parse("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    CHECK(cn_time_parse("2024-13-01T00:00:00Z", &t) < 0);
    CHECK(cn_time_parse("yesterday", &t) < 0);
}

static void test_buf(void)
{
    cn_buf b;
    cn_buf_init(&b);
    for (int i = 0; i < 1000; i++) cn_buf_addf(&b, "%d,", i);
    CHECK(cn_str_has_prefix(b.data, "0,1,2,"));
    CHECK(cn_str_has_suffix(b.data, "998,999,"));
    size_t len;
    char *s = cn_buf_detach(&b, &len);
    CHECK(len == strlen(s));
    free(s);
    CHECK(b.data == NULL);
}

static void test_err_status(void)
{
    cn_err e = CN_ERR_INIT;
    cn_err_invalid(&e, "Namespace \"x\" is invalid");
    cn_err_set_details(&e, "x", "", "Namespace");
    cn_err_add_cause(&e, "FieldValueInvalid", "metadata.name", "Invalid value: \"x\"");
    json_t *st = cn_err_status(&e);
    CHECK_INT(json_integer_value(json_object_get(st, "code")), 422);
    CHECK_STR(json_string_value(json_object_get(st, "reason")), "Invalid");
    json_t *c = json_array_get(json_object_get(json_object_get(st, "details"), "causes"), 0);
    CHECK_STR(json_string_value(json_object_get(c, "field")), "metadata.name");
    json_decref(st);
    cn_err_clear(&e);
    CHECK(e.code == 0 && e.message == NULL);
}

static void test_uuid(void)
{
    char a[37], b[37];
    cn_uuid(a);
    cn_uuid(b);
    CHECK(strlen(a) == 36 && a[14] == '4');
    CHECK(strcmp(a, b) != 0);
}

int main(void)
{
    TEST_RUN(test_parse_int);
    TEST_RUN(test_time);
    TEST_RUN(test_buf);
    TEST_RUN(test_err_status);
    TEST_RUN(test_uuid);
    return TEST_DONE();
}
