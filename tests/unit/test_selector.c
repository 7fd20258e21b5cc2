/* Unit tests for label and field selectors. */
#include <stdlib.h>
#include <jansson.h>

#include "api/selector.h"
#include "lib/util.h"
#include "test.h"

static json_t *J(const char *s)
{
    return json_loads(s, 0, NULL);
}

/* Parses text and returns its canonical form (or "ERR:<code>"). */
static char *canon(const char *text)
{
    cn_selector *s = NULL;
    cn_err e = CN_ERR_INIT;
    char *out;
    if (cn_selector_parse(text, &s, &e) < 0) {
        out = malloc(32);
        snprintf(out, 32, "ERR:%d", e.code);
        cn_err_clear(&e);
        return out;
    }
    out = cn_selector_string(s);
    cn_selector_free(s);
    return out;
}

#define CHECK_CANON(text, want) do { char *_c = canon(text); CHECK_STR(_c, want); free(_c); } while (0)

static bool matches(const char *sel, const char *labels)
{
    cn_selector *s = NULL;
    cn_err e = CN_ERR_INIT;
    if (cn_selector_parse(sel, &s, &e) < 0) {
        fprintf(stderr, "parse of %s failed: %s\n", sel, e.message);
        cn_err_clear(&e);
        return false;
    }
    json_t *l = labels ? J(labels) : NULL;
    bool m = cn_selector_matches(s, l);
    json_decref(l);
    cn_selector_free(s);
    return m;
}

static void test_parse_forms(void)
{
    CHECK_CANON("", "");
    CHECK_CANON("   ", "");
    CHECK_CANON("app=web", "app=web");
    CHECK_CANON("app==web", "app==web");
    CHECK_CANON("app!=web", "app!=web");
    CHECK_CANON("app", "app");
    CHECK_CANON("!app", "!app");
    CHECK_CANON("  ! app ", "!app");
    CHECK_CANON("tier in (db,api)", "tier in (api,db)");
    CHECK_CANON("tier in(db, api ,db)", "tier in (api,db)");
    CHECK_CANON("tier notin (x)", "tier notin (x)");
    CHECK_CANON("a>5", "a>5");
    CHECK_CANON("a < 10", "a<10");
    CHECK_CANON("app=", "app=");
    CHECK_CANON("app=,b", "app=,b");
    CHECK_CANON("x in (a,)", "x in (,a)");
    /* sorted by key */
    CHECK_CANON("z=1,a=2,m", "a=2,m,z=1");
    CHECK_CANON("tier in (api,db),!canary", "!canary,tier in (api,db)");
    CHECK_CANON("example.com/app=web", "example.com/app=web");
    CHECK_CANON("a=in", "a=in");
    CHECK_CANON("a in (in,notin)", "a in (in,notin)");
}

static void test_parse_errors(void)
{
    CHECK_CANON("a,", "ERR:400");
    CHECK_CANON(",a", "ERR:400");
    CHECK_CANON("a,,b", "ERR:400");
    CHECK_CANON("a b", "ERR:400");
    CHECK_CANON("a in x", "ERR:400");
    CHECK_CANON("a in ()", "ERR:400");
    CHECK_CANON("a in (x", "ERR:400");
    CHECK_CANON("a notin", "ERR:400");
    CHECK_CANON("a>x", "ERR:400");
    CHECK_CANON("a>", "ERR:400");
    CHECK_CANON("a=(b)", "ERR:400");
    CHECK_CANON("!", "ERR:400");
    CHECK_CANON("!a=b", "ERR:400");
    CHECK_CANON("=b", "ERR:400");
    CHECK_CANON("a=b c", "ERR:400");
    CHECK_CANON("-a=b", "ERR:400");            /* name must start alnum */
    CHECK_CANON("a/b/c=d", "ERR:400");
    CHECK_CANON("/a=b", "ERR:400");
    CHECK_CANON("Example.com/a=b", "ERR:400"); /* prefix is lowercase DNS */
    CHECK_CANON("a=b@c", "ERR:400");
    CHECK_CANON("a=-b", "ERR:400");
    CHECK_CANON("a=0123456789012345678901234567890123456789012345678901234567890123", "ERR:400");
    CHECK_CANON("0123456789012345678901234567890123456789012345678901234567890123=a", "ERR:400");
    CHECK_CANON("a<>b", "ERR:400");

    cn_selector *s = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_selector_parse("a b", &s, &e) < 0);
    CHECK(s == NULL);
    CHECK_STR(e.reason, "BadRequest");
    CHECK(e.message && strstr(e.message, "unable to parse requirement"));
    CHECK(e.message && strstr(e.message, "'b'"));
    cn_err_clear(&e);
    CHECK(cn_selector_parse("a=b@c", &s, &e) < 0);
    CHECK(e.message && strstr(e.message, "b@c"));
    cn_err_clear(&e);

    /* bounded: too many requirements */
    cn_buf b;
    cn_buf_init(&b);
    for (int i = 0; i < 300; i++) cn_buf_addf(&b, "%sk%d", i ? "," : "", i);
    CHECK(cn_selector_parse(b.data, &s, &e) < 0);
    CHECK_INT(e.code, 400);
    cn_err_clear(&e);
    cn_buf_release(&b);
}

static void test_matching(void)
{
    const char *l = "{\"app\":\"web\",\"tier\":\"api\",\"n\":\"7\"}";
    CHECK(matches("", l));
    CHECK(matches("", NULL));
    CHECK(matches("app=web", l));
    CHECK(matches("app==web", l));
    CHECK(!matches("app=db", l));
    CHECK(!matches("app=web", NULL));
    CHECK(matches("app!=db", l));
    CHECK(!matches("app!=web", l));
    CHECK(matches("missing!=x", l));           /* != matches when absent */
    CHECK(matches("missing!=x", NULL));
    CHECK(matches("app", l));
    CHECK(!matches("missing", l));
    CHECK(matches("!missing", l));
    CHECK(!matches("!app", l));
    CHECK(matches("tier in (api,db)", l));
    CHECK(!matches("tier in (db)", l));
    CHECK(!matches("missing in (db)", l));
    CHECK(matches("tier notin (db)", l));
    CHECK(!matches("tier notin (api)", l));
    CHECK(matches("missing notin (api)", l));  /* notin matches when absent */
    CHECK(matches("n>5", l));
    CHECK(!matches("n>7", l));
    CHECK(matches("n<8", l));
    CHECK(!matches("n<7", l));
    CHECK(!matches("app>1", l));               /* non-integer label value */
    CHECK(!matches("missing<100", l));
    CHECK(matches("app=web,tier in (api),!canary", l));
    CHECK(!matches("app=web,tier in (db)", l));
    CHECK(matches("app=", "{\"app\":\"\"}"));
    CHECK(!matches("app=", "{}"));
}

static void test_from_json(void)
{
    cn_selector *s = NULL;
    cn_err e = CN_ERR_INIT;
    json_t *j;
    char *str;

    CHECK(cn_selector_from_json(NULL, &s, &e) == 0);
    CHECK(cn_selector_empty(s));
    cn_selector_free(s);

    j = J("{}");
    CHECK(cn_selector_from_json(j, &s, &e) == 0);
    CHECK(cn_selector_empty(s));
    CHECK(cn_selector_matches(s, NULL));
    cn_selector_free(s);
    json_decref(j);

    j = J("{\"matchLabels\":{\"app\":\"web\",\"a\":\"b\"},\"matchExpressions\":["
          "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"db\",\"api\"]},"
          "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]},"
          "{\"key\":\"x\",\"operator\":\"Exists\"},"
          "{\"key\":\"y\",\"operator\":\"DoesNotExist\",\"values\":[]}]}");
    CHECK(cn_selector_from_json(j, &s, &e) == 0);
    str = cn_selector_string(s);
    CHECK_STR(str, "a=b,app=web,env notin (prod),tier in (api,db),x,!y");
    free(str);
    json_t *l = J("{\"a\":\"b\",\"app\":\"web\",\"tier\":\"db\",\"x\":\"\"}");
    CHECK(cn_selector_matches(s, l));
    json_object_set_new(l, "y", json_string("1"));
    CHECK(!cn_selector_matches(s, l));
    json_decref(l);
    CHECK(!cn_selector_empty(s));
    cn_selector_free(s);
    json_decref(j);

    static const char *const bad[] = {
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
        "{\"matchExpressions\":[{\"operator\":\"Exists\"}]}",
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[1]}]}",
        "{\"matchExpressions\":{}}",
        "{\"matchLabels\":{\"a\":1}}",
        "{\"matchLabels\":{\"a b\":\"c\"}}",
        "{\"matchLabels\":{\"a\":\"c d\"}}",
        "{\"matchLabels\":[]}",
        "[]",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        j = J(bad[i]);
        CHECK(j != NULL);
        s = (cn_selector *)1;
        CHECK(cn_selector_from_json(j, &s, &e) < 0);
        CHECK(s == NULL);
        CHECK_INT(e.code, 400);
        cn_err_clear(&e);
        json_decref(j);
    }
    j = J("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}");
    cn_selector_from_json(j, &s, &e);
    CHECK(e.message && strstr(e.message, "\"Foo\" is not a valid"));
    cn_err_clear(&e);
    json_decref(j);
    /* err may be NULL (callers that only want a yes/no) */
    j = J("[]");
    CHECK(cn_selector_from_json(j, &s, NULL) < 0);
    json_decref(j);
}

static const char *const pod_fields[] = { "spec.nodeName", "status.phase", NULL };
static const char *const node_fields[] = { "spec.unschedulable", NULL };
static const char *const event_fields[] = { "involvedObject.kind", "involvedObject.name", "type",
                                            "source", NULL };

static int fsel(const char *text, const char *const *allowed, cn_fieldsel **s, cn_err *e)
{
    *s = NULL;
    return cn_fieldsel_parse(text, allowed, s, e);
}

static void test_fieldsel_parse(void)
{
    cn_fieldsel *s;
    cn_err e = CN_ERR_INIT;

    CHECK(fsel("", pod_fields, &s, &e) == 0);
    CHECK(s != NULL);
    CHECK(cn_fieldsel_exact(s, "metadata.name") == NULL);
    cn_fieldsel_free(s);

    CHECK(fsel("metadata.name=p1", NULL, &s, &e) == 0);
    CHECK_STR(cn_fieldsel_exact(s, "metadata.name"), "p1");
    CHECK(cn_fieldsel_exact(s, "metadata.namespace") == NULL);
    cn_fieldsel_free(s);

    CHECK(fsel("metadata.namespace==ns,metadata.name!=x", NULL, &s, &e) == 0);
    CHECK_STR(cn_fieldsel_exact(s, "metadata.namespace"), "ns");
    CHECK(cn_fieldsel_exact(s, "metadata.name") == NULL);
    cn_fieldsel_free(s);

    CHECK(fsel("metadata.name=a\\,b\\=c\\\\d", NULL, &s, &e) == 0);
    CHECK_STR(cn_fieldsel_exact(s, "metadata.name"), "a,b=c\\d");
    cn_fieldsel_free(s);

    CHECK(fsel("spec.nodeName=n1,", pod_fields, &s, &e) == 0);
    cn_fieldsel_free(s);

    CHECK(fsel("spec.nodeName=", pod_fields, &s, &e) == 0);
    cn_fieldsel_free(s);

    /* errors */
    CHECK(fsel("spec.foo=x", pod_fields, &s, &e) < 0);
    CHECK(s == NULL);
    CHECK_INT(e.code, 400);
    CHECK_STR(e.reason, "BadRequest");
    CHECK(e.message && strstr(e.message, "\"spec.foo\" is not a known field selector"));
    CHECK(e.message && strstr(e.message, "\"metadata.name\", \"metadata.namespace\", \"spec.nodeName\""));
    cn_err_clear(&e);
    CHECK(fsel("spec.nodeName=x", NULL, &s, &e) < 0);
    CHECK(e.message && strstr(e.message, "only \"metadata.name\", \"metadata.namespace\""));
    cn_err_clear(&e);
    CHECK(fsel("metadata.name", NULL, &s, &e) < 0);
    CHECK_INT(e.code, 400);
    cn_err_clear(&e);
    CHECK(fsel("metadata.name=a=b", NULL, &s, &e) < 0);
    CHECK(e.message && strstr(e.message, "unescaped"));
    cn_err_clear(&e);
    CHECK(fsel("metadata.name=a\\x", NULL, &s, &e) < 0);
    CHECK(e.message && strstr(e.message, "invalid escape sequence"));
    cn_err_clear(&e);
    CHECK(fsel("metadata.name=a\\", NULL, &s, &e) < 0);
    CHECK_INT(e.code, 400);
    cn_err_clear(&e);
    CHECK(fsel(" metadata.name=a", NULL, &s, &e) < 0);   /* no trimming, as upstream */
    cn_err_clear(&e);
}

static bool fmatch(const char *text, const char *const *allowed, const char *obj)
{
    cn_fieldsel *s;
    cn_err e = CN_ERR_INIT;
    if (fsel(text, allowed, &s, &e) < 0) {
        fprintf(stderr, "fieldsel %s: %s\n", text, e.message);
        cn_err_clear(&e);
        return false;
    }
    json_t *o = J(obj);
    bool m = cn_fieldsel_matches(s, o);
    json_decref(o);
    cn_fieldsel_free(s);
    return m;
}

static void test_fieldsel_match(void)
{
    const char *pod = "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\"},"
                      "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}";
    CHECK(fmatch("metadata.name=p1", NULL, pod));
    CHECK(!fmatch("metadata.name=p2", NULL, pod));
    CHECK(fmatch("metadata.name!=p2", NULL, pod));
    CHECK(fmatch("metadata.namespace=ns,spec.nodeName=n1", pod_fields, pod));
    CHECK(!fmatch("metadata.namespace=ns,spec.nodeName!=n1", pod_fields, pod));
    CHECK(fmatch("status.phase!=Succeeded,status.phase!=Failed", pod_fields, pod));
    const char *pending = "{\"metadata\":{\"name\":\"p2\"},\"spec\":{}}";
    CHECK(fmatch("spec.nodeName=", pod_fields, pending));    /* missing = "" */
    CHECK(!fmatch("spec.nodeName=n1", pod_fields, pending));
    CHECK(fmatch("metadata.namespace=", NULL, pending));

    const char *node = "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"unschedulable\":true}}";
    CHECK(fmatch("spec.unschedulable=true", node_fields, node));
    CHECK(!fmatch("spec.unschedulable=false", node_fields, node));
    CHECK(fmatch("spec.unschedulable=false", node_fields, "{\"spec\":{}}"));
    CHECK(fmatch("spec.unschedulable=false", node_fields, "{}"));

    const char *ev = "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p1\"},\"type\":\"Warning\","
                     "\"source\":{\"component\":\"kubelet\"}}";
    CHECK(fmatch("involvedObject.kind=Pod,involvedObject.name=p1", event_fields, ev));
    CHECK(fmatch("type=Warning", event_fields, ev));
    CHECK(fmatch("source=kubelet", event_fields, ev));
    CHECK(!fmatch("involvedObject.kind=Node", event_fields, ev));
    /* a path through a non-object gives "" */
    CHECK(fmatch("type=", (const char *const[]){ "type", NULL }, "{\"type\":{\"a\":1}}"));
}

int main(void)
{
    TEST_RUN(test_parse_forms);
    TEST_RUN(test_parse_errors);
    TEST_RUN(test_matching);
    TEST_RUN(test_from_json);
    TEST_RUN(test_fieldsel_parse);
    TEST_RUN(test_fieldsel_match);
    return TEST_DONE();
}
