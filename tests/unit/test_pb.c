/* Unit tests for the protobuf request decoder (src/api/pb.c): the bytes
 * kubectl 1.32 sends, hand-encoded messages, and hostile input. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/pb.h"
#include "test.h"

/* A tiny protobuf writer for building test bodies. */
typedef struct enc {
    uint8_t b[4096];
    size_t n;
} enc;

static void e_varint(enc *e, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        e->b[e->n++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void e_key(enc *e, int num, int wt)
{
    e_varint(e, (uint64_t)num << 3 | (unsigned)wt);
}

static void e_int(enc *e, int num, int64_t v)
{
    e_key(e, num, 0);
    e_varint(e, (uint64_t)v);
}

static void e_bytes(enc *e, int num, const void *p, size_t n)
{
    e_key(e, num, 2);
    e_varint(e, n);
    memcpy(e->b + e->n, p, n);
    e->n += n;
}

static void e_str(enc *e, int num, const char *s)
{
    e_bytes(e, num, s, strlen(s));
}

static void e_msg(enc *e, int num, const enc *sub)
{
    e_bytes(e, num, sub->b, sub->n);
}

static void e_map(enc *e, int num, const char *k, const char *v)
{
    enc ent = { .n = 0 };
    e_str(&ent, 1, k);
    e_str(&ent, 2, v);
    e_msg(e, num, &ent);
}

/* Wrap a message in the "k8s\0" + runtime.Unknown envelope. */
static void envelope(enc *out, const char *api_version, const char *kind, const enc *raw)
{
    enc tm = { .n = 0 };
    e_str(&tm, 1, api_version);
    e_str(&tm, 2, kind);
    out->n = 0;
    memcpy(out->b, "k8s", 4);
    out->n = 4;
    e_msg(out, 1, &tm);
    e_msg(out, 2, raw);
    e_str(out, 3, "");
    e_str(out, 4, "");
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void check_json(const json_t *got, const char *want)
{
    json_error_t je;
    json_t *w = json_loads(want, 0, &je);
    CHECK(w != NULL);
    char *a = dump(got), *b = dump(w);
    CHECK_STR(a, b);
    free(a);
    free(b);
    json_decref(w);
}

static void test_configmap_observed(void)
{
    /* kubectl create configmap foo --from-literal=a=b (1.32, §5) */
    static const uint8_t body[] = {
        0x6b, 0x38, 0x73, 0x00,
        0x0a, 0x0f, 0x0a, 0x02, 'v', '1', 0x12, 0x09, 'C', 'o', 'n', 'f', 'i', 'g', 'M', 'a', 'p',
        0x12, 0x1d,
        0x0a, 0x13, 0x0a, 0x03, 'f', 'o', 'o', 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00,
        0x32, 0x00, 0x38, 0x00, 0x42, 0x00,
        0x12, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, 'b',
        0x1a, 0x00, 0x22, 0x00,
    };
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body, sizeof body, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"foo\"},"
                    "\"data\":{\"a\":\"b\"}}");
    json_decref(out);
    cn_err_clear(&err);
}

static void test_secret(void)
{
    enc meta = { .n = 0 }, sec = { .n = 0 }, body;
    e_str(&meta, 1, "s1");
    e_str(&meta, 3, "default");
    e_msg(&sec, 1, &meta);
    enc ent = { .n = 0 };
    e_str(&ent, 1, "k");
    e_bytes(&ent, 2, "\x00\xff\x10", 3);
    e_msg(&sec, 2, &ent);
    e_map(&sec, 2, "empty", "");
    e_str(&sec, 3, "");           /* type "" -> omitted */
    e_map(&sec, 4, "plain", "");  /* stringData keeps "" */
    envelope(&body, "v1", "Secret", &sec);
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s1\",\"namespace\":\"default\"},"
                    "\"data\":{\"k\":\"AP8Q\",\"empty\":\"\"},\"stringData\":{\"plain\":\"\"}}");
    json_decref(out);
    cn_err_clear(&err);
}

static void test_deployment(void)
{
    enc meta = { .n = 0 }, sel = { .n = 0 }, port = { .n = 0 }, env = { .n = 0 }, res = { .n = 0 },
        ctr = { .n = 0 }, pod = { .n = 0 }, tmpl = { .n = 0 }, tmeta = { .n = 0 }, spec = { .n = 0 },
        strat = { .n = 0 }, ru = { .n = 0 }, ios = { .n = 0 }, dep = { .n = 0 }, q = { .n = 0 }, ent = { .n = 0 },
        ts = { .n = 0 }, body;
    e_str(&meta, 1, "web");
    e_str(&meta, 2, "");
    e_map(&meta, 11, "app", "web");
    e_int(&ts, 1, 1700000000);
    e_msg(&meta, 8, &ts);
    e_map(&sel, 1, "app", "web");
    e_int(&port, 3, 80);
    e_str(&port, 4, "TCP");
    e_int(&port, 2, 0);           /* hostPort 0 -> omitted */
    e_str(&env, 1, "MODE");
    e_str(&env, 2, "");
    e_str(&q, 1, "100m");
    e_str(&ent, 1, "cpu");
    e_msg(&ent, 2, &q);
    e_msg(&res, 1, &ent);         /* limits */
    e_str(&ctr, 1, "nginx");
    e_str(&ctr, 2, "nginx:1.27");
    e_msg(&ctr, 6, &port);
    e_msg(&ctr, 7, &env);
    e_msg(&ctr, 8, &res);
    e_str(&ctr, 3, "sh");         /* command, repeated string */
    e_str(&ctr, 3, "");
    e_int(&ctr, 16, 0);           /* stdin false -> omitted */
    e_msg(&pod, 2, &ctr);
    e_int(&pod, 4, 0);            /* terminationGracePeriodSeconds *int64 -> kept */
    e_map(&tmeta, 11, "app", "web");
    e_msg(&tmpl, 1, &tmeta);
    e_msg(&tmpl, 2, &pod);
    e_int(&ios, 1, 1);
    e_int(&ios, 2, 0);
    e_str(&ios, 3, "25%");
    e_msg(&ru, 2, &ios);          /* maxSurge */
    e_str(&strat, 1, "RollingUpdate");
    e_msg(&strat, 2, &ru);
    e_int(&spec, 1, 0);           /* replicas *int32 = 0 -> kept */
    e_msg(&spec, 2, &sel);
    e_msg(&spec, 3, &tmpl);
    e_msg(&spec, 4, &strat);
    e_int(&spec, 5, 0);           /* minReadySeconds 0 -> omitted */
    e_int(&spec, 99, 7);          /* unknown field -> skipped */
    e_msg(&dep, 1, &meta);
    e_msg(&dep, 2, &spec);
    e_bytes(&dep, 3, "", 0);      /* empty status -> {} */
    envelope(&body, "apps/v1", "Deployment", &dep);
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out,
               "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
               "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"},\"creationTimestamp\":\"2023-11-14T22:13:20Z\"},"
               "\"spec\":{\"replicas\":0,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
               "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"25%\"}},"
               "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
               "\"terminationGracePeriodSeconds\":0,"
               "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27\",\"command\":[\"sh\",\"\"],"
               "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
               "\"env\":[{\"name\":\"MODE\"}],\"resources\":{\"limits\":{\"cpu\":\"100m\"}}}]}}},"
               "\"status\":{}}");
    json_decref(out);
    cn_err_clear(&err);
}

static void test_ssar(void)
{
    enc ra = { .n = 0 }, spec = { .n = 0 }, meta = { .n = 0 }, st = { .n = 0 }, ssar = { .n = 0 }, body;
    e_str(&ra, 1, "default");
    e_str(&ra, 2, "get");
    e_str(&ra, 3, "");
    e_str(&ra, 5, "pods");
    e_msg(&spec, 1, &ra);
    e_int(&st, 1, 0);
    e_msg(&ssar, 1, &meta);
    e_msg(&ssar, 2, &spec);
    e_msg(&ssar, 3, &st);
    envelope(&body, "authorization.k8s.io/v1", "SelfSubjectAccessReview", &ssar);
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
                    "\"metadata\":{},\"spec\":{\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":\"get\","
                    "\"resource\":\"pods\"}},\"status\":{}}");
    json_decref(out);
    cn_err_clear(&err);
}

static void test_delete_options(void)
{
    enc del = { .n = 0 }, body;
    e_int(&del, 1, 0);            /* gracePeriodSeconds *int64 = 0 -> kept */
    e_str(&del, 4, "Background"); /* propagationPolicy */
    envelope(&body, "v1", "DeleteOptions", &del);
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"gracePeriodSeconds\":0,"
                    "\"propagationPolicy\":\"Background\"}");
    json_decref(out);
    envelope(&body, "meta.k8s.io/v1", "DeleteOptions", &del);
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    json_decref(out);
    cn_err_clear(&err);
}

static void test_special_types(void)
{
    /* Lease: MicroTime renewTime; CRD: JSONSchemaPropsOrBool and raw JSON. */
    enc ts = { .n = 0 }, spec = { .n = 0 }, lease = { .n = 0 }, body;
    e_int(&ts, 1, 86400 + 3661);
    e_int(&ts, 2, 123456789);
    e_str(&spec, 1, "node-a");
    e_msg(&spec, 4, &ts);
    e_int(&spec, 5, 0);            /* leaseTransitions *int32 kept */
    e_msg(&lease, 2, &spec);
    envelope(&body, "coordination.k8s.io/v1", "Lease", &lease);
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":"
                    "\"node-a\",\"renewTime\":\"1970-01-02T01:01:01.123456Z\",\"leaseTransitions\":0}}");
    json_decref(out);

    const cn_message *jsp = NULL;
    const cn_message *crd = cn_schema_for_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
    CHECK(crd != NULL);
    /* walk CRD -> spec -> versions -> schema -> openAPIV3Schema */
    const cn_field *f = cn_schema_field(crd, "spec");
    f = f ? cn_schema_field(f->msg, "versions") : NULL;
    f = f ? cn_schema_field(f->msg, "schema") : NULL;
    f = f ? cn_schema_field(f->msg, "openAPIV3Schema") : NULL;
    if (f) jsp = f->msg;
    CHECK(jsp != NULL);
    if (!jsp) return;
    CHECK(cn_schema_field(jsp, "$ref") != NULL);
    CHECK(cn_schema_field(jsp, "x-kubernetes-preserve-unknown-fields") != NULL);
    enc orbool = { .n = 0 }, raw = { .n = 0 }, props = { .n = 0 };
    e_int(&orbool, 1, 1);
    e_str(&raw, 1, "{\"x\":[1,2]}");
    e_str(&props, 5, "object");       /* type */
    e_msg(&props, 30, &orbool);       /* additionalProperties: true */
    e_msg(&props, 8, &raw);           /* default */
    e_int(&props, 38, 1);             /* x-kubernetes-preserve-unknown-fields */
    CHECK_INT(cn_pb_decode_message(props.b, props.n, jsp, &out, &err), 0);
    check_json(out, "{\"type\":\"object\",\"additionalProperties\":true,\"default\":{\"x\":[1,2]},"
                    "\"x-kubernetes-preserve-unknown-fields\":true}");
    json_decref(out);
    /* raw that is not JSON */
    raw.n = 0;
    e_str(&raw, 1, "\x0a\x01");
    props.n = 0;
    e_msg(&props, 8, &raw);
    CHECK(cn_pb_decode_message(props.b, props.n, jsp, &out, &err) < 0);
    CHECK_INT(err.code, 400);
    cn_err_clear(&err);
}

static void test_packed_and_whoami(void)
{
    /* SubjectAccessReview status is nothing packed; use a SelfSubjectReview
     * with extra (map of ExtraValue) and a TokenRequest with packed-free
     * int64, plus a packed repeated int32 via ServiceSpec? None in core, so
     * check the ExtraValue wrapper here. */
    enc ev = { .n = 0 }, ent = { .n = 0 }, ui = { .n = 0 }, st = { .n = 0 }, ssr = { .n = 0 }, body;
    e_str(&ev, 1, "a");
    e_str(&ev, 1, "b");
    e_str(&ent, 1, "scopes");
    e_msg(&ent, 2, &ev);
    e_str(&ui, 1, "alice");
    e_str(&ui, 3, "devs");
    e_msg(&ui, 4, &ent);
    e_msg(&st, 1, &ui);
    e_msg(&ssr, 2, &st);
    envelope(&body, "authentication.k8s.io/v1", "SelfSubjectReview", &ssr);
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\",\"status\":"
                    "{\"userInfo\":{\"username\":\"alice\",\"groups\":[\"devs\"],\"extra\":{\"scopes\":[\"a\",\"b\"]}}}}");
    json_decref(out);

    /* TokenRequest: expirationSeconds *int64 */
    enc tspec = { .n = 0 }, tr = { .n = 0 };
    e_str(&tspec, 1, "https://kubernetes.default.svc");
    e_int(&tspec, 4, 3600);
    e_msg(&tr, 2, &tspec);
    envelope(&body, "authentication.k8s.io/v1", "TokenRequest", &tr);
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":"
                    "{\"audiences\":[\"https://kubernetes.default.svc\"],\"expirationSeconds\":3600}}");
    json_decref(out);

    /* Packed repeated int32: Pod securityContext supplementalGroups (int64). */
    enc psc = { .n = 0 }, pod = { .n = 0 }, p = { .n = 0 }, packed = { .n = 0 };
    e_varint(&packed, 1000);
    e_varint(&packed, 0);
    e_varint(&packed, 5);
    e_msg(&psc, 4, &packed);
    e_int(&psc, 4, 7);                /* and one unpacked */
    e_msg(&pod, 14, &psc);
    e_msg(&p, 2, &pod);
    envelope(&body, "v1", "Pod", &p);
    CHECK_INT(cn_pb_decode(body.b, body.n, &out, &err), 0);
    check_json(out, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"securityContext\":"
                    "{\"supplementalGroups\":[1000,0,5,7]}}}");
    json_decref(out);
    cn_err_clear(&err);
}

static void test_bad_input(void)
{
    json_t *out = NULL;
    cn_err err = CN_ERR_INIT;
    static const uint8_t nomagic[] = { 0x0a, 0x00 };
    CHECK(cn_pb_decode(nomagic, sizeof nomagic, &out, &err) == -EINVAL);
    CHECK_INT(err.code, 400);
    CHECK(out == NULL);
    cn_err_clear(&err);

    /* every truncation of a valid body is an error or a clean decode */
    enc cm = { .n = 0 }, meta = { .n = 0 }, body;
    e_str(&meta, 1, "x");
    e_msg(&cm, 1, &meta);
    e_map(&cm, 2, "k", "v");
    envelope(&body, "v1", "ConfigMap", &cm);
    for (size_t n = 0; n < body.n; n++) {
        int r = cn_pb_decode(body.b, n, &out, &err);
        CHECK(r == 0 || r == -EINVAL);
        if (r < 0) CHECK_INT(err.code, 400);
        json_decref(out);
        out = NULL;
        cn_err_clear(&err);
    }
    /* a length running past the end */
    static const uint8_t overrun[] = { 0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f, 0x0a };
    CHECK(cn_pb_decode(overrun, sizeof overrun, &out, &err) == -EINVAL);
    cn_err_clear(&err);
    /* a field of the wrong wire type */
    enc wrong = { .n = 0 };
    e_int(&wrong, 1, 5);              /* metadata as a varint */
    envelope(&body, "v1", "ConfigMap", &wrong);
    CHECK(cn_pb_decode(body.b, body.n, &out, &err) == -EINVAL);
    CHECK_INT(err.code, 400);
    cn_err_clear(&err);
    /* invalid UTF-8 in a string */
    enc u = { .n = 0 }, um = { .n = 0 };
    e_str(&um, 1, "\xff\xfe");
    e_msg(&u, 1, &um);
    envelope(&body, "v1", "ConfigMap", &u);
    CHECK(cn_pb_decode(body.b, body.n, &out, &err) == -EINVAL);
    cn_err_clear(&err);
    /* unknown kind */
    envelope(&body, "example.com/v1", "Widget", &cm);
    CHECK(cn_pb_decode(body.b, body.n, &out, &err) == -ENOTSUP);
    CHECK_INT(err.code, 415);
    CHECK(err.message && strstr(err.message, "Widget"));
    cn_err_clear(&err);
    /* no typeMeta */
    static const uint8_t notm[] = { 0x6b, 0x38, 0x73, 0x00, 0x12, 0x00 };
    CHECK(cn_pb_decode(notm, sizeof notm, &out, &err) == -EINVAL);
    cn_err_clear(&err);
    /* deep nesting: JSONSchemaProps properties within properties */
    const cn_message *crd = cn_schema_for_kind("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
    const cn_field *f = cn_schema_field(crd, "spec");
    f = f ? cn_schema_field(f->msg, "versions") : NULL;
    f = f ? cn_schema_field(f->msg, "schema") : NULL;
    f = f ? cn_schema_field(f->msg, "openAPIV3Schema") : NULL;
    CHECK(f != NULL);
    if (f) {
        enc *levels = calloc(1, sizeof(enc));
        for (int i = 0; i < 200 && levels->n < 3000; i++) {
            enc ent = { .n = 0 }, next = { .n = 0 };
            e_str(&ent, 1, "p");
            e_msg(&ent, 2, levels);
            e_msg(&next, 29, &ent);   /* properties */
            *levels = next;
        }
        CHECK(cn_pb_decode_message(levels->b, levels->n, f->msg, &out, &err) == -EINVAL);
        CHECK(err.message && strstr(err.message, "deep"));
        cn_err_clear(&err);
        free(levels);
    }
    /* over-long varint */
    static const uint8_t longv[] = { 0x6b, 0x38, 0x73, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    CHECK(cn_pb_decode(longv, sizeof longv, &out, &err) == -EINVAL);
    cn_err_clear(&err);
}

int main(void)
{
    TEST_RUN(test_configmap_observed);
    TEST_RUN(test_secret);
    TEST_RUN(test_deployment);
    TEST_RUN(test_ssar);
    TEST_RUN(test_delete_options);
    TEST_RUN(test_special_types);
    TEST_RUN(test_packed_and_whoami);
    TEST_RUN(test_bad_input);
    return TEST_DONE();
}
