/* test_admit_tolerations: the DefaultTolerationSeconds admission plugin —
 * new pods get 300 s (or the configured) NoExecute tolerations of the
 * not-ready and unreachable taints unless they tolerate them already. */
#include <stdlib.h>
#include <string.h>

#include "api/admission.h"
#include "api/resource.h"
#include "test.h"

static cn_registry *reg;

static json_t *admit(cn_admission *ch, const char *plural, cn_admit_op op, const char *sub, const char *pod)
{
    json_t *obj = json_loads(pod, 0, NULL);
    cn_admit_attrs a = { .op = op, .res = cn_registry_lookup(reg, "", "v1", plural), .sub = sub, .ns = "default",
                         .name = "p" };
    cn_err err = CN_ERR_INIT;
    CHECK(cn_admission_mutate(ch, &a, obj, &err) == 0);
    cn_err_clear(&err);
    return obj;
}

static const char *tol(const json_t *pod, size_t i, const char *field, char buf[64])
{
    json_t *t = json_array_get(json_object_get(json_object_get(pod, "spec"), "tolerations"), i);
    json_t *v = json_object_get(t, field);
    if (json_is_integer(v)) snprintf(buf, 64, "%lld", (long long)json_integer_value(v));
    else snprintf(buf, 64, "%s", json_string_value(v) ? json_string_value(v) : "(none)");
    return buf;
}

static size_t ntol(const json_t *pod)
{
    return json_array_size(json_object_get(json_object_get(pod, "spec"), "tolerations"));
}

static void test_defaults(void)
{
    char b[64];
    cn_admission *ch = cn_admission_new();
    cn_admit_default_tolerations(ch, 300, 120);
    json_t *p = admit(ch, "pods", CN_ADMIT_CREATE, NULL, "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    CHECK_INT(ntol(p), 2);
    CHECK_STR(tol(p, 0, "key", b), "node.kubernetes.io/not-ready");
    CHECK_STR(tol(p, 0, "operator", b), "Exists");
    CHECK_STR(tol(p, 0, "effect", b), "NoExecute");
    CHECK_STR(tol(p, 0, "tolerationSeconds", b), "300");
    CHECK_STR(tol(p, 1, "key", b), "node.kubernetes.io/unreachable");
    CHECK_STR(tol(p, 1, "tolerationSeconds", b), "120");
    json_decref(p);

    /* An own toleration of a key (any NoExecute or empty effect) is kept alone. */
    p = admit(ch, "pods", CN_ADMIT_CREATE, NULL,
              "{\"spec\":{\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
              "\"tolerationSeconds\":3}]}}");
    CHECK_INT(ntol(p), 2);
    CHECK_STR(tol(p, 0, "tolerationSeconds", b), "3");
    CHECK_STR(tol(p, 1, "key", b), "node.kubernetes.io/not-ready");
    json_decref(p);

    /* Tolerating everything: nothing added. A NoSchedule-only one does not count. */
    p = admit(ch, "pods", CN_ADMIT_CREATE, NULL, "{\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}");
    CHECK_INT(ntol(p), 1);
    json_decref(p);
    p = admit(ch, "pods", CN_ADMIT_CREATE, NULL,
              "{\"spec\":{\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
              "\"effect\":\"NoSchedule\"}]}}");
    CHECK_INT(ntol(p), 3);
    json_decref(p);

    /* Only pod creates: updates, subresources and other kinds are left alone. */
    p = admit(ch, "pods", CN_ADMIT_UPDATE, NULL, "{\"spec\":{}}");
    CHECK_INT(ntol(p), 0);
    json_decref(p);
    p = admit(ch, "pods", CN_ADMIT_CREATE, "binding", "{\"spec\":{}}");
    CHECK_INT(ntol(p), 0);
    json_decref(p);
    p = admit(ch, "configmaps", CN_ADMIT_CREATE, NULL, "{\"spec\":{}}");
    CHECK_INT(ntol(p), 0);
    json_decref(p);
    cn_admission_free(ch);

    /* 0 s is a valid choice (evict at once). */
    ch = cn_admission_new();
    cn_admit_default_tolerations(ch, 0, 0);
    p = admit(ch, "pods", CN_ADMIT_CREATE, NULL, "{\"spec\":{}}");
    CHECK_STR(tol(p, 1, "tolerationSeconds", b), "0");
    json_decref(p);
    cn_admission_free(ch);
}

int main(void)
{
    reg = cn_registry_new();
    TEST_RUN(test_defaults);
    cn_registry_free(reg);
    return TEST_DONE();
}
