/* test_validate: validation of built-in kinds, CRDs and custom resources,
 * strict unknown-field detection and pruning. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "test.h"
#include "api/schema.h"
#include "api/validate.h"
#include "api/validate-internal.h"

static cn_resource res_of(const char *group, const char *kind, bool namespaced)
{
    cn_resource r;
    memset(&r, 0, sizeof r);
    r.group = group;
    r.version = "v1";
    r.kind = kind;
    r.namespaced = namespaced;
    return r;
}

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fprintf(stderr, "bad test JSON: %s: %s\n", e.text, s);
    return j;
}

/* Defaults + validate; returns the result, err filled. */
static int run(const cn_resource *r, const char *obj, const char *old, cn_err *err)
{
    json_t *o = J(obj), *po = old ? J(old) : NULL;
    cn_defaults_apply(r, o);
    if (po) cn_defaults_apply(r, po);
    int rc = cn_validate(r, o, po, err);
    json_decref(o);
    json_decref(po);
    return rc;
}

/* The cause with this field (and reason), or NULL. */
static const json_t *cause(const cn_err *err, const char *field, const char *reason)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(err->details, "causes"), i, c) {
        if (strcmp(json_string_value(json_object_get(c, "field")), field)) continue;
        if (reason && strcmp(json_string_value(json_object_get(c, "reason")), reason)) continue;
        return c;
    }
    return NULL;
}

static const char *cause_msg(const cn_err *err, const char *field)
{
    return json_string_value(json_object_get(cause(err, field, NULL), "message"));
}

static size_t ncauses(const cn_err *err)
{
    return json_array_size(json_object_get(err->details, "causes"));
}

static void dump(const cn_err *err)
{
    if (err->message) fprintf(stderr, "  err: %s\n", err->message);
}

#define POD_OK "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"}," \
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\"}]}}"

static void test_syntax(void)
{
    CHECK(cn_check_dns1123_label("my-name") == NULL);
    CHECK(cn_check_dns1123_label("123-abc") == NULL);
    CHECK(cn_check_dns1123_label("Bad_Name") != NULL);
    CHECK(cn_check_dns1123_label("-a") != NULL);
    CHECK(cn_check_dns1123_label("a.b") != NULL);
    CHECK_STR(cn_check_dns1123_label("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
              "must be no more than 63 characters");
    CHECK(cn_check_dns1123_subdomain("example.com") == NULL);
    CHECK(cn_check_dns1123_subdomain("a..b") != NULL);
    CHECK(cn_check_dns1123_subdomain("") != NULL);
    CHECK(cn_check_label_key("app.kubernetes.io/name") == NULL);
    CHECK(cn_check_label_key("App_Name") == NULL);
    CHECK_STR(cn_check_label_key("a/b/c"), "a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
              "and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
              "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
              "subdomain prefix and '/' (e.g. 'example.com/MyName')");
    CHECK_STR(cn_check_label_key("/x"), "prefix part must be non-empty");
    CHECK_STR(cn_check_label_key("x/"), "name part must be non-empty");
    CHECK(cn_check_label_key("Bad.Prefix/x") != NULL);
    CHECK(cn_check_label_value("") == NULL);
    CHECK(cn_check_label_value("v1.2_x") == NULL);
    CHECK(cn_check_label_value("-bad") != NULL);
    CHECK(cn_check_iana_svc_name("http") == NULL);
    CHECK_STR(cn_check_iana_svc_name("8080"), "must contain at least one letter (a-z)");
    CHECK_STR(cn_check_iana_svc_name("a-very-long-port-name"), "must be no more than 15 characters");
}

static void test_quantity(void)
{
    __int128 q;
    CHECK(cn_quantity_parse("100m", &q) == 0 && q == (__int128)100000000);
    CHECK(cn_quantity_parse("1Gi", &q) == 0 && q == (__int128)1073741824 * 1000000000);
    CHECK(cn_quantity_parse("2", &q) == 0 && q == (__int128)2000000000);
    CHECK(cn_quantity_parse("1e3", &q) == 0 && q == (__int128)1000 * 1000000000);
    CHECK(cn_quantity_parse("0.5", &q) == 0 && q == (__int128)500000000);
    CHECK(cn_quantity_parse(".5", &q) == 0 && q == (__int128)500000000);
    CHECK(cn_quantity_parse("1E", &q) == 0);
    CHECK(cn_quantity_parse("-1", &q) == 0 && q < 0);
    __int128 a, b;
    CHECK(cn_quantity_parse("0.1", &a) == 0 && cn_quantity_parse("100m", &b) == 0 && a == b);
    CHECK(cn_quantity_parse("1Gi", &a) == 0 && cn_quantity_parse("1073741824", &b) == 0 && a == b);
    CHECK(cn_quantity_parse("abc", &q) < 0);
    CHECK(cn_quantity_parse("1.2.3", &q) < 0);
    CHECK(cn_quantity_parse("", &q) < 0);
    CHECK(cn_quantity_parse("1Zi", &q) < 0);
    CHECK(cn_quantity_parse(".", &q) < 0);
    CHECK(cn_quantity_parse("1e999", &q) < 0);
}

static void test_namespace_bad_name(void)
{
    cn_resource r = res_of("", "Namespace", false);
    cn_err err = CN_ERR_INIT;
    int rc = run(&r, "{\"metadata\":{\"name\":\"Bad_Name\"}}", NULL, &err);
    CHECK(rc < 0);
    CHECK_INT(err.code, 422);
    CHECK_STR(err.reason, "Invalid");
    CHECK_STR(err.message, "Namespace \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": "
              "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
              "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
              "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
    CHECK_STR(json_string_value(json_object_get(err.details, "kind")), "Namespace");
    CHECK_STR(json_string_value(json_object_get(err.details, "name")), "Bad_Name");
    CHECK(json_object_get(err.details, "group") == NULL);
    const json_t *c = cause(&err, "metadata.name", "FieldValueInvalid");
    CHECK(c != NULL);
    CHECK(cn_str_has_prefix(json_string_value(json_object_get(c, "message")), "Invalid value: \"Bad_Name\": a lowercase"));
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"good\"}}", NULL, &err) == 0);
    CHECK(err.code == 0);
    CHECK(run(&r, "{\"metadata\":{}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "metadata.name"), "Required value: name or generateName is required");
    cn_err_clear(&err);
}

static void test_metadata(void)
{
    cn_resource r = res_of("", "ConfigMap", true);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, "{\"metadata\":{\"name\":\"a.b\",\"namespace\":\"default\","
              "\"labels\":{\"bad key!\":\"v\",\"ok\":\"-bad\"},\"finalizers\":[\"a/b/c\"],"
              "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"x\"}]}}", NULL, &err) < 0);
    const json_t *c = cause(&err, "metadata.labels", NULL);
    CHECK(c != NULL);
    CHECK(cn_str_has_prefix(json_string_value(json_object_get(c, "message")), "Invalid value: \"bad key!\": name part must"));
    CHECK(cause(&err, "metadata.finalizers", "FieldValueInvalid") != NULL);
    CHECK_STR(cause_msg(&err, "metadata.ownerReferences.uid"), "Invalid value: \"\": uid must not be empty");
    CHECK_INT(ncauses(&err), 4);
    /* several causes: aggregated in brackets */
    CHECK(strstr(err.message, "ConfigMap \"a.b\" is invalid: [") == err.message);
    cn_err_clear(&err);

    /* missing namespace on a namespaced kind; annotations too large */
    char *big = malloc(300 * 1024);
    memset(big, 'x', 300 * 1024 - 1);
    big[300 * 1024 - 1] = '\0';
    json_t *o = json_pack("{s:{s:s,s:{s:s}}}", "metadata", "name", "cm", "annotations", "a", big);
    free(big);
    CHECK(cn_validate(&r, o, NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "metadata.namespace"), "Required value");
    CHECK_STR(cause_msg(&err, "metadata.annotations"), "Too long: may not be more than 262144 bytes");
    json_decref(o);
    cn_err_clear(&err);

    /* RBAC names are path segments: capitals and ':' are fine, '/' is not */
    cn_resource cr = res_of("rbac.authorization.k8s.io", "ClusterRole", false);
    CHECK(run(&cr, "{\"metadata\":{\"name\":\"system:Admin\"},\"rules\":[]}", NULL, &err) == 0);
    CHECK(run(&cr, "{\"metadata\":{\"name\":\"a/b\"}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "metadata.name"), "Invalid value: \"a/b\": may not contain '/'");
    CHECK(strstr(err.message, "ClusterRole.rbac.authorization.k8s.io \"a/b\" is invalid") == err.message);
    CHECK_STR(json_string_value(json_object_get(err.details, "group")), "rbac.authorization.k8s.io");
    cn_err_clear(&err);

    /* Services use DNS-1035 labels */
    cn_resource svc = res_of("", "Service", true);
    CHECK(run(&svc, "{\"metadata\":{\"name\":\"1svc\",\"namespace\":\"d\"},\"spec\":{\"ports\":[{\"port\":80}]}}", NULL, &err) < 0);
    CHECK(cn_str_has_prefix(cause_msg(&err, "metadata.name"), "Invalid value: \"1svc\": a DNS-1035 label"));
    cn_err_clear(&err);
}

static void test_pod(void)
{
    cn_resource r = res_of("", "Pod", true);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, POD_OK, NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\"},\"spec\":{\"containers\":[]}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.containers"), "Required value");
    CHECK_STR(err.message, "Pod \"p\" is invalid: spec.containers: Required value");
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\"},\"spec\":{"
              "\"restartPolicy\":\"Sometimes\","
              "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"novol\"}],"
              "\"initContainers\":[{\"name\":\"a\",\"image\":\"busybox\"}],"
              "\"containers\":[{\"name\":\"a\",\"image\":\"x\","
              "  \"ports\":[{\"containerPort\":70000,\"protocol\":\"HTTP\",\"name\":\"8080\"},{\"containerPort\":80,\"name\":\"web\"},{\"containerPort\":81,\"name\":\"web\"}],"
              "  \"env\":[{\"name\":\"1BAD\"},{\"name\":\"GOOD_1.x-y\"}],"
              "  \"volumeMounts\":[{\"name\":\"missing\",\"mountPath\":\"/m\"},{\"name\":\"data\"}],"
              "  \"resources\":{\"requests\":{\"cpu\":\"2\",\"memory\":\"lots\"},\"limits\":{\"cpu\":\"1\"}}},"
              " {\"name\":\"Bad_C\"}]}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.restartPolicy"),
              "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"");
    CHECK_STR(cause_msg(&err, "spec.volumes[1].name"), "Duplicate value: \"data\"");
    CHECK_STR(cause_msg(&err, "spec.volumes[2]"), "Required value: must specify a volume type");
    CHECK_STR(cause_msg(&err, "spec.containers[0].name"), "Duplicate value: \"a\"");
    CHECK_STR(cause_msg(&err, "spec.containers[0].ports[0].containerPort"),
              "Invalid value: 70000: must be between 1 and 65535, inclusive");
    CHECK_STR(cause_msg(&err, "spec.containers[0].ports[0].protocol"),
              "Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
    CHECK_STR(cause_msg(&err, "spec.containers[0].ports[0].name"),
              "Invalid value: \"8080\": must contain at least one letter (a-z)");
    CHECK_STR(cause_msg(&err, "spec.containers[0].ports[2].name"), "Duplicate value: \"web\"");
    CHECK(cn_str_has_prefix(cause_msg(&err, "spec.containers[0].env[0].name"),
                            "Invalid value: \"1BAD\": a valid environment variable name"));
    CHECK(cause(&err, "spec.containers[0].env[1].name", NULL) == NULL);
    CHECK_STR(cause_msg(&err, "spec.containers[0].volumeMounts[0].name"), "Not found: \"missing\"");
    CHECK(cause(&err, "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound") != NULL);
    CHECK_STR(cause_msg(&err, "spec.containers[0].volumeMounts[1].mountPath"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.containers[0].resources.requests[cpu]"),
              "Invalid value: \"2\": must be less than or equal to cpu limit of 1");
    CHECK(cn_str_has_prefix(cause_msg(&err, "spec.containers[0].resources.requests[memory]"),
                            "Invalid value: \"lots\": quantities must match the regular expression"));
    CHECK(cn_str_has_prefix(cause_msg(&err, "spec.containers[1].name"), "Invalid value: \"Bad_C\": a lowercase RFC 1123 label"));
    CHECK_STR(cause_msg(&err, "spec.containers[1].image"), "Required value");
    cn_err_clear(&err);

    /* requests equal to limits in different units are fine */
    CHECK(run(&r, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\"},\"spec\":{\"containers\":[{\"name\":\"c\","
              "\"image\":\"x\",\"resources\":{\"requests\":{\"cpu\":\"0.1\",\"memory\":\"1Gi\"},"
              "\"limits\":{\"cpu\":\"100m\",\"memory\":\"1073741824\"}}}]}}", NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);

    /* update: only images may change */
    const char *newer = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.26\"}]}}";
    CHECK(run(&r, newer, POD_OK, &err) == 0);
    cn_err_clear(&err);
    const char *changed = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\",\"args\":[\"x\"]}]}}";
    CHECK(run(&r, changed, POD_OK, &err) < 0);
    CHECK(cause(&err, "spec", "FieldValueForbidden") != NULL);
    cn_err_clear(&err);

    /* probes: one handler, ports in range or named, liveness success 1 */
    CHECK(run(&r, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\"},\"spec\":{"
              "\"initContainers\":[{\"name\":\"i\",\"image\":\"x\",\"readinessProbe\":{\"exec\":{\"command\":[\"true\"]}}}],"
              "\"containers\":[{\"name\":\"c\",\"image\":\"x\","
              "\"livenessProbe\":{\"httpGet\":{\"port\":0},\"tcpSocket\":{\"port\":80},\"successThreshold\":2},"
              "\"readinessProbe\":{\"periodSeconds\":-1},"
              "\"startupProbe\":{\"tcpSocket\":{\"port\":\"no_such\"}}},"
              "{\"name\":\"d\",\"image\":\"x\",\"livenessProbe\":{\"exec\":{}},\"readinessProbe\":{\"httpGet\":{\"port\":\"http\",\"path\":\"/\"}}}]}}",
              NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.initContainers[0].readinessProbe"),
              "Forbidden: may not be set for init containers without restartPolicy=Always");
    CHECK_STR(cause_msg(&err, "spec.containers[0].livenessProbe.httpGet.port"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.containers[0].livenessProbe.tcpSocket"),
              "Forbidden: may not specify more than 1 handler type");
    CHECK_STR(cause_msg(&err, "spec.containers[0].livenessProbe.successThreshold"), "Invalid value: 2: must be 1");
    CHECK_STR(cause_msg(&err, "spec.containers[0].readinessProbe"), "Required value: must specify a handler type");
    CHECK(cause(&err, "spec.containers[0].readinessProbe.periodSeconds", NULL) != NULL);
    CHECK(cause(&err, "spec.containers[0].startupProbe.tcpSocket.port", NULL) != NULL);
    CHECK_STR(cause_msg(&err, "spec.containers[1].livenessProbe.exec.command"), "Required value");
    CHECK(cause(&err, "spec.containers[1].readinessProbe", NULL) == NULL);
    cn_err_clear(&err);
}

static void test_service(void)
{
    cn_resource r = res_of("", "Service", true);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"selector\":{\"app\":\"x\"},"
              "\"ports\":[{\"port\":80,\"targetPort\":\"http\"}]}}", NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.ports"), "Required value");
    cn_err_clear(&err);
    /* headless and ExternalName need no ports */
    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"clusterIP\":\"None\"}}", NULL, &err) == 0);
    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"type\":\"ExternalName\","
              "\"externalName\":\"db.example.com\"}}", NULL, &err) == 0);
    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"type\":\"ExternalName\"}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.externalName"), "Required value");
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"type\":\"Bogus\","
              "\"ports\":[{\"port\":80},{\"port\":0,\"name\":\"b\",\"targetPort\":99999},"
              "{\"port\":81,\"name\":\"c\",\"nodePort\":80}]}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.type"),
              "Unsupported value: \"Bogus\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"");
    CHECK_STR(cause_msg(&err, "spec.ports[0].name"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.ports[1].port"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.ports[1].targetPort"), "Invalid value: 99999: must be between 1 and 65535, inclusive");
    CHECK(cause(&err, "spec.ports[2].nodePort", "FieldValueForbidden") != NULL);
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"type\":\"NodePort\","
              "\"ports\":[{\"port\":80,\"nodePort\":80}]}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.ports[0].nodePort"),
              "Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767");
    cn_err_clear(&err);

    const char *old = "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"clusterIP\":\"10.0.0.5\",\"ports\":[{\"port\":80}]}}";
    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"clusterIP\":\"10.0.0.6\","
              "\"ports\":[{\"port\":80}]}}", old, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.clusterIP"), "Invalid value: \"10.0.0.6\": field is immutable");
    cn_err_clear(&err);
    CHECK(run(&r, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"spec\":{\"clusterIP\":\"10.0.0.5\","
              "\"ports\":[{\"port\":8080}]}}", old, &err) == 0);
    cn_err_clear(&err);
}

#define DEPLOY(sel, labels, extra) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\"},\"spec\":{" extra \
    "\"selector\":" sel ",\"template\":{\"metadata\":{\"labels\":" labels "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}"

/* Node spec.podCIDR(s): valid CIDRs, set once (the node IPAM controller's
 * contract with the agents), as upstream. */
static void test_node_pod_cidr(void)
{
    cn_resource r = res_of("", "Node", false);
    cn_err err = CN_ERR_INIT;
#define NODE(spec) "{\"metadata\":{\"name\":\"n\"},\"spec\":" spec "}"
    CHECK(run(&r, NODE("{}"), NULL, &err) == 0);
    CHECK(run(&r, NODE("{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]}"), NULL, &err) == 0);
    CHECK(run(&r, NODE("{\"podCIDRs\":[\"10.244.1.0/24\",\"fd00::/64\"]}"), NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);
    /* From "" to a block: the controller's patch. */
    CHECK(run(&r, NODE("{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]}"), NODE("{}"), &err) == 0);
    /* The same block again (any other update of the Node). */
    CHECK(run(&r, NODE("{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]}"),
              NODE("{\"podCIDR\":\"10.244.1.0/24\"}"), &err) == 0);
    dump(&err);
    cn_err_clear(&err);
    CHECK(run(&r, NODE("{\"podCIDR\":\"10.244.2.0/24\",\"podCIDRs\":[\"10.244.2.0/24\"]}"),
              NODE("{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]}"), &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.podCIDRs"),
              "Forbidden: node updates may not change podCIDR except from \"\" to valid");
    cn_err_clear(&err);
    CHECK(run(&r, NODE("{}"), NODE("{\"podCIDR\":\"10.244.1.0/24\"}"), &err) < 0);
    CHECK(cause(&err, "spec.podCIDRs", "FieldValueForbidden") != NULL);
    cn_err_clear(&err);
    CHECK(run(&r, NODE("{\"podCIDRs\":[\"10.244.1.300/24\"]}"), NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.podCIDRs[0]"),
              "Invalid value: \"10.244.1.300/24\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
    cn_err_clear(&err);
    CHECK(run(&r, NODE("{\"podCIDRs\":[\"10.244.1.0/24\",\"10.244.2.0/24\"]}"), NULL, &err) < 0);
    CHECK(cause(&err, "spec.podCIDRs", NULL) != NULL);
    cn_err_clear(&err);
    CHECK(run(&r, NODE("{\"podCIDR\":\"10.244.2.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"]}"), NULL, &err) < 0);
    CHECK(cause(&err, "spec.podCIDR", NULL) != NULL);
    cn_err_clear(&err);
#undef NODE
}

static void test_deployment(void)
{
    cn_resource r = res_of("apps", "Deployment", true);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\",\"tier\":\"fe\"}", ""), NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);
    CHECK(run(&r, DEPLOY("{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\"]}]}",
                         "{\"app\":\"web\"}", ""), NULL, &err) == 0);
    cn_err_clear(&err);

    CHECK(run(&r, DEPLOY("{\"matchLabels\":{\"app\":\"other\"}}", "{\"app\":\"web\"}", "\"replicas\":-1,"), NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.template.metadata.labels"),
              "Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`");
    CHECK_STR(cause_msg(&err, "spec.replicas"), "Invalid value: -1: must be greater than or equal to 0");
    CHECK(strstr(err.message, "Deployment.apps \"web\" is invalid: [") == err.message);
    CHECK_STR(json_string_value(json_object_get(err.details, "kind")), "Deployment");
    CHECK_STR(json_string_value(json_object_get(err.details, "group")), "apps");
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\"},\"spec\":{\"template\":{\"spec\":"
              "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.selector"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.template.spec.restartPolicy"), "Unsupported value: \"Never\": supported values: \"Always\"");
    cn_err_clear(&err);

    CHECK(run(&r, DEPLOY("{}", "{\"app\":\"web\"}", ""), NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.selector"), "Invalid value: {}: empty selector is invalid for deployment");
    cn_err_clear(&err);

    CHECK(run(&r, DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}",
                         "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":\"0%\"}},"),
              NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.strategy.rollingUpdate.maxUnavailable"), "Invalid value: 0: may not be 0 when `maxSurge` is 0");
    cn_err_clear(&err);

    /* selector is immutable */
    CHECK(run(&r, DEPLOY("{\"matchLabels\":{\"app\":\"web\",\"v\":\"2\"}}", "{\"app\":\"web\",\"v\":\"2\"}", ""),
              DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}", ""), &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.selector"), "Invalid value: {\"matchLabels\":{\"app\":\"web\",\"v\":\"2\"}}: field is immutable");
    CHECK_INT(ncauses(&err), 1);
    cn_err_clear(&err);
    /* scaling is fine */
    CHECK(run(&r, DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}", "\"replicas\":5,"),
              DEPLOY("{\"matchLabels\":{\"app\":\"web\"}}", "{\"app\":\"web\"}", ""), &err) == 0);
    cn_err_clear(&err);

    cn_resource ss = res_of("apps", "StatefulSet", true);
    const char *ss_old = DEPLOY("{\"matchLabels\":{\"app\":\"db\"}}", "{\"app\":\"db\"}", "\"serviceName\":\"db\",");
    CHECK(run(&ss, ss_old, NULL, &err) == 0);
    dump(&err);
    CHECK(run(&ss, DEPLOY("{\"matchLabels\":{\"app\":\"db\"}}", "{\"app\":\"db\"}", "\"serviceName\":\"db2\","), ss_old, &err) < 0);
    CHECK(cause(&err, "spec", "FieldValueForbidden") != NULL);
    cn_err_clear(&err);

    cn_resource ds = res_of("apps", "DaemonSet", true);
    CHECK(run(&ds, DEPLOY("{\"matchLabels\":{\"app\":\"d\"}}", "{\"app\":\"d\"}", ""), NULL, &err) == 0);
    cn_err_clear(&err);
}

static void test_batch(void)
{
    cn_resource r = res_of("batch", "Job", true);
    cn_err err = CN_ERR_INIT;
    const char *job = "{\"metadata\":{\"name\":\"j\",\"namespace\":\"d\",\"uid\":\"1234\"},\"spec\":{\"template\":{\"spec\":"
        "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}";
    CHECK(run(&r, job, NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);
    CHECK(run(&r, "{\"metadata\":{\"name\":\"j\",\"namespace\":\"d\",\"uid\":\"1\"},\"spec\":{\"backoffLimit\":-1,"
              "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.template.spec.restartPolicy"),
              "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
    CHECK_STR(cause_msg(&err, "spec.backoffLimit"), "Invalid value: -1: must be greater than or equal to 0");
    cn_err_clear(&err);
    /* template is immutable */
    CHECK(run(&r, "{\"metadata\":{\"name\":\"j\",\"namespace\":\"d\",\"uid\":\"1234\"},\"spec\":{\"template\":{\"spec\":"
              "{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\"}]}}}}", job, &err) < 0);
    CHECK(cause(&err, "spec.template", "FieldValueInvalid") != NULL);
    cn_err_clear(&err);

    cn_resource cj = res_of("batch", "CronJob", true);
    const char *good[] = { "*/5 * * * *", "0 0 * * 0", "@hourly", "0 9-17 * JAN-MAR mon-fri", "15,45 */2 1 * ?" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_t *o = J("{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":"
                      "{\"spec\":{\"restartPolicy\":\"OnFailure\",\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}}}}}");
        json_object_set_new(json_object_get(o, "spec"), "schedule", json_string(good[i]));
        cn_defaults_apply(&cj, o);
        int rc = cn_validate(&cj, o, NULL, &err);
        if (rc < 0) fprintf(stderr, "schedule %s: %s\n", good[i], err.message);
        CHECK(rc == 0);
        cn_err_clear(&err);
        json_decref(o);
    }
    const char *bad[] = { "bad", "* * * *", "60 * * * *", "* * * * * *", "@often", "1-x * * * *", "CRON_TZ=UTC * * * * *" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = J("{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":"
                      "{\"spec\":{\"restartPolicy\":\"OnFailure\",\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}}}}}");
        json_object_set_new(json_object_get(o, "spec"), "schedule", json_string(bad[i]));
        CHECK(cn_validate(&cj, o, NULL, &err) < 0);
        CHECK(cause(&err, "spec.schedule", "FieldValueInvalid") != NULL);
        cn_err_clear(&err);
        json_decref(o);
    }
    CHECK(run(&cj, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":"
              "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}}}}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.schedule"), "Required value");
    CHECK(cause(&err, "spec.jobTemplate.spec.template.spec.restartPolicy", "FieldValueNotSupported") != NULL);
    cn_err_clear(&err);
}

static void test_config(void)
{
    cn_resource cm = res_of("", "ConfigMap", true);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&cm, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"data\":{\"a.b_C-1\":\"x\"}}", NULL, &err) == 0);
    CHECK(run(&cm, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"data\":{\"bad key\":\"x\",\"..x\":\"y\"}}", NULL, &err) < 0);
    CHECK(cn_str_has_prefix(cause_msg(&err, "data[bad key]"), "Invalid value: \"bad key\": a valid config key must consist"));
    CHECK_STR(cause_msg(&err, "data[..x]"), "Invalid value: \"..x\": must not start with '..'");
    cn_err_clear(&err);
    const char *imm = "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"immutable\":true,\"data\":{\"a\":\"1\"}}";
    CHECK(run(&cm, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"immutable\":true,\"data\":{\"a\":\"2\"}}", imm, &err) < 0);
    CHECK_STR(cause_msg(&err, "data"), "Forbidden: field is immutable when `immutable` is set");
    cn_err_clear(&err);
    CHECK(run(&cm, imm, imm, &err) == 0);

    cn_resource s = res_of("", "Secret", true);
    CHECK(run(&s, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"eA==\"}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "data[tls.key]"), "Required value");
    CHECK(cause(&err, "data[tls.crt]", NULL) == NULL);
    cn_err_clear(&err);
    CHECK(run(&s, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"type\":\"kubernetes.io/dockerconfigjson\"}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "data[.dockerconfigjson]"), "Required value");
    cn_err_clear(&err);
    CHECK(run(&s, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"data\":{\"k\":\"not base64!\"}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "data[k]"), "Invalid value: \"not base64!\": illegal base64 data");
    cn_err_clear(&err);
    /* stringData is folded into data by defaulting */
    CHECK(run(&s, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"type\":\"kubernetes.io/basic-auth\","
              "\"stringData\":{\"username\":\"admin\"}}", NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);
    const char *sold = "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"data\":{\"k\":\"eA==\"}}";
    CHECK(run(&s, "{\"metadata\":{\"name\":\"s\",\"namespace\":\"d\"},\"type\":\"x/y\",\"data\":{\"k\":\"eA==\"}}", sold, &err) < 0);
    CHECK_STR(cause_msg(&err, "type"), "Invalid value: \"x/y\": field is immutable");
    cn_err_clear(&err);
}

static void test_storage_rbac_misc(void)
{
    cn_err err = CN_ERR_INIT;
    cn_resource pvc = res_of("", "PersistentVolumeClaim", true);
    CHECK(run(&pvc, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.accessModes"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.resources[storage]"), "Required value");
    cn_err_clear(&err);
    const char *pvc_old = "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
        "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}";
    CHECK(run(&pvc, pvc_old, NULL, &err) == 0);
    CHECK(run(&pvc, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
              "\"volumeName\":\"pv1\",\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}", pvc_old, &err) == 0);
    dump(&err);
    CHECK(run(&pvc, "{\"metadata\":{\"name\":\"c\",\"namespace\":\"d\"},\"spec\":{\"accessModes\":[\"ReadWriteMany\"],"
              "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}", pvc_old, &err) < 0);
    CHECK(cause(&err, "spec", "FieldValueForbidden") != NULL);
    cn_err_clear(&err);

    cn_resource pv = res_of("", "PersistentVolume", false);
    CHECK(run(&pv, "{\"metadata\":{\"name\":\"pv\"},\"spec\":{\"hostPath\":{\"path\":\"/x\"}}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.capacity"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.accessModes"), "Required value");
    cn_err_clear(&err);

    cn_resource sc = res_of("storage.k8s.io", "StorageClass", false);
    CHECK(run(&sc, "{\"metadata\":{\"name\":\"fast\"},\"reclaimPolicy\":\"Recycle\"}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "provisioner"), "Required value");
    CHECK_STR(cause_msg(&err, "reclaimPolicy"), "Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"");
    cn_err_clear(&err);

    cn_resource role = res_of("rbac.authorization.k8s.io", "Role", true);
    CHECK(run(&role, "{\"metadata\":{\"name\":\"r\",\"namespace\":\"d\"},\"rules\":[{\"apiGroups\":[\"\"],"
              "\"resources\":[\"pods\"]}]}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "rules[0].verbs"), "Required value: verbs must contain at least one value");
    cn_err_clear(&err);

    cn_resource rb = res_of("rbac.authorization.k8s.io", "RoleBinding", true);
    const char *rb_old = "{\"metadata\":{\"name\":\"b\",\"namespace\":\"d\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
        "\"kind\":\"Role\",\"name\":\"r\"},\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"default\"}]}";
    CHECK(run(&rb, rb_old, NULL, &err) == 0);
    dump(&err);
    CHECK(run(&rb, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"d\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
              "\"kind\":\"Role\",\"name\":\"r2\"},\"subjects\":[{\"kind\":\"Robot\",\"name\":\"x\"}]}", rb_old, &err) < 0);
    CHECK(cn_str_has_prefix(cause_msg(&err, "roleRef"), "Invalid value: {"));
    CHECK(strstr(cause_msg(&err, "roleRef"), "cannot change roleRef") != NULL);
    CHECK_STR(cause_msg(&err, "subjects[0].kind"),
              "Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"");
    cn_err_clear(&err);
    CHECK(run(&rb, "{\"metadata\":{\"name\":\"b\",\"namespace\":\"d\"},\"roleRef\":{\"kind\":\"Thing\"}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "roleRef.apiGroup"), "Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"");
    CHECK_STR(cause_msg(&err, "roleRef.kind"), "Unsupported value: \"Thing\": supported values: \"Role\", \"ClusterRole\"");
    CHECK_STR(cause_msg(&err, "roleRef.name"), "Required value");
    cn_err_clear(&err);

    cn_resource es = res_of("discovery.k8s.io", "EndpointSlice", true);
    CHECK(run(&es, "{\"metadata\":{\"name\":\"e\",\"namespace\":\"d\"},\"addressType\":\"IPv5\"}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "addressType"), "Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\", \"FQDN\"");
    cn_err_clear(&err);

    cn_resource vap = res_of("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", false);
    CHECK(run(&vap, "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"matchConstraints\":{\"resourceRules\":[{}]},"
              "\"validations\":[{\"expression\":\"\"}]}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.validations[0].expression"), "Required value");
    cn_err_clear(&err);
    CHECK(run(&vap, "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"matchConstraints\":{\"resourceRules\":[{}]}}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.validations"), "Required value: validations or auditAnnotations must contain at least one item");
    cn_err_clear(&err);

    cn_resource b = res_of("", "Binding", true);
    CHECK(run(&b, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\"},\"target\":{}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "target.name"), "Required value");
    cn_err_clear(&err);

    cn_resource lr = res_of("", "ResourceQuota", true);
    CHECK(run(&lr, "{\"metadata\":{\"name\":\"q\",\"namespace\":\"d\"},\"spec\":{\"hard\":{\"pods\":\"10\",\"cpu\":\"x\"}}}", NULL, &err) < 0);
    CHECK(cause(&err, "spec.hard[cpu]", "FieldValueInvalid") != NULL);
    CHECK(cause(&err, "spec.hard[pods]", NULL) == NULL);
    cn_err_clear(&err);
}

static const char crd_ok[] =
    "{\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"widgets\",\"kind\":\"Widget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{"
    "\"replicas\":{\"type\":\"integer\"},\"anything\":{\"x-kubernetes-preserve-unknown-fields\":true},"
    "\"port\":{\"x-kubernetes-int-or-string\":true}}}}}}}]}}";

static void test_crd(void)
{
    cn_resource r = res_of("apiextensions.k8s.io", "CustomResourceDefinition", false);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, crd_ok, NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);
    CHECK(run(&r, "{\"metadata\":{\"name\":\"wrong.example.com\"},\"spec\":{\"group\":\"example\",\"scope\":\"Global\","
              "\"names\":{\"plural\":\"widgets\",\"kind\":\"Widget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":false,"
              "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{\"spec\":{\"properties\":{}},"
              "\"list\":{\"type\":\"array\"}}}}},{\"name\":\"v2\",\"served\":true}]}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.group"), "Invalid value: \"example\": should be a domain with at least one dot");
    CHECK_STR(cause_msg(&err, "spec.scope"), "Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\"");
    CHECK_STR(cause_msg(&err, "spec.versions[0].schema.openAPIV3Schema.properties[spec].type"),
              "Required value: must not be empty for specified object fields");
    CHECK_STR(cause_msg(&err, "spec.versions[0].schema.openAPIV3Schema.properties[list].items"), "Required value: must be specified");
    CHECK_STR(cause_msg(&err, "spec.versions[1].schema.openAPIV3Schema"), "Required value: schemas are required");
    CHECK(cn_str_has_suffix(cause_msg(&err, "spec.versions"), "must have exactly one version marked as storage version"));
    CHECK_STR(cause_msg(&err, "metadata.name"), "Invalid value: \"wrong.example.com\": must be spec.names.plural+\".\"+spec.group");
    cn_err_clear(&err);
}

static const char cr_schema[] =
    "{\"name\":\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{"
    "\"spec\":{\"type\":\"object\",\"required\":[\"size\"],\"properties\":{"
    "  \"replicas\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,\"default\":1},"
    "  \"size\":{\"type\":\"string\",\"enum\":[\"S\",\"M\",\"L\"]},"
    "  \"name\":{\"type\":\"string\",\"pattern\":\"^[a-z]\\\\d+$\",\"maxLength\":5,\"minLength\":2},"
    "  \"tags\":{\"type\":\"array\",\"maxItems\":2,\"items\":{\"type\":\"string\"},\"x-kubernetes-list-type\":\"set\"},"
    "  \"port\":{\"x-kubernetes-int-or-string\":true},"
    "  \"note\":{\"type\":\"string\",\"nullable\":true},"
    "  \"ratio\":{\"type\":\"number\",\"exclusiveMaximum\":true,\"maximum\":1},"
    "  \"labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
    "  \"free\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true,\"properties\":{\"n\":{\"type\":\"integer\"}}},"
    "  \"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}}"
    "}},\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}}";

static cn_resource custom_res(json_t *ver)
{
    cn_resource r = res_of("example.com", "Widget", true);
    r.flags = CN_RES_CUSTOM;
    r.crd_version = ver;
    r.crd_name = "widgets.example.com";
    return r;
}

static void test_custom(void)
{
    json_t *ver = J(cr_schema);
    cn_resource r = custom_res(ver);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\",\"namespace\":\"d\"},"
              "\"spec\":{\"size\":\"M\",\"name\":\"a12\",\"tags\":[\"x\",\"y\"],\"port\":\"http\",\"note\":null,"
              "\"ratio\":0.5,\"labels\":{\"a\":\"b\"},\"free\":{\"n\":1,\"other\":[1]},\"items\":[{\"a\":\"x\"}]}}", NULL, &err) == 0);
    dump(&err);
    cn_err_clear(&err);

    CHECK(run(&r, "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\",\"namespace\":\"d\"},"
              "\"spec\":{\"replicas\":\"string\",\"name\":\"abcdefg\",\"tags\":[\"x\",\"x\",\"z\"],\"port\":true,"
              "\"ratio\":1,\"labels\":{\"a\":1},\"free\":{\"n\":\"x\"}}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.replicas"),
              "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"");
    CHECK(cause(&err, "spec.replicas", "FieldValueTypeInvalid") != NULL);
    CHECK_STR(cause_msg(&err, "spec.size"), "Required value");
    CHECK_STR(cause_msg(&err, "spec.name"), "Too long: may not be more than 5 bytes");
    CHECK(cause(&err, "spec.name", "FieldValueInvalid") != NULL);  /* pattern */
    CHECK_STR(cause_msg(&err, "spec.tags"), "Too many: 3: must have at most 2 items");
    CHECK_STR(cause_msg(&err, "spec.tags[1]"), "Duplicate value: \"x\"");
    CHECK(cause(&err, "spec.port", "FieldValueTypeInvalid") != NULL);
    CHECK_STR(cause_msg(&err, "spec.ratio"), "Invalid value: 1: spec.ratio in body should be less than 1");
    CHECK(cause(&err, "spec.labels.a", "FieldValueTypeInvalid") != NULL);
    CHECK(cause(&err, "spec.free.n", "FieldValueTypeInvalid") != NULL);
    CHECK(strstr(err.message, "Widget.example.com \"w\" is invalid: [") == err.message);
    cn_err_clear(&err);

    CHECK(run(&r, "{\"metadata\":{\"name\":\"w\",\"namespace\":\"d\"},\"spec\":{\"size\":\"XL\",\"replicas\":0,"
              "\"name\":\"ab\"}}", NULL, &err) < 0);
    CHECK_STR(cause_msg(&err, "spec.size"), "Unsupported value: \"XL\": supported values: \"S\", \"M\", \"L\"");
    CHECK_STR(cause_msg(&err, "spec.replicas"), "Invalid value: 0: spec.replicas in body should be greater than or equal to 1");
    CHECK_STR(cause_msg(&err, "spec.name"), "Invalid value: \"ab\": spec.name in body should match '^[a-z]\\d+$'");
    cn_err_clear(&err);

    /* metadata rules apply to custom resources too */
    CHECK(run(&r, "{\"metadata\":{\"name\":\"Bad\",\"namespace\":\"d\"},\"spec\":{\"size\":\"S\"}}", NULL, &err) < 0);
    CHECK(cause(&err, "metadata.name", "FieldValueInvalid") != NULL);
    CHECK_INT(ncauses(&err), 1);
    cn_err_clear(&err);

    /* defaults from the schema */
    json_t *o = J("{\"metadata\":{\"name\":\"w\",\"namespace\":\"d\"},\"spec\":{\"size\":\"S\"}}");
    cn_defaults_apply(&r, o);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 1);
    json_decref(o);
    json_decref(ver);
}

static void test_unknown_and_prune(void)
{
    json_t *ver = J(cr_schema);
    cn_resource r = custom_res(ver);
    json_t *o = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"},\"extra\":1,"
                  "\"spec\":{\"size\":\"S\",\"sizee\":\"M\",\"free\":{\"whatever\":{\"x\":1}},\"labels\":{\"k\":\"v\"},"
                  "\"items\":[{\"a\":\"x\",\"b\":\"y\"}]},\"status\":{\"any\":true}}");
    json_t *unknown = NULL;
    CHECK(cn_unknown_fields(&r, o, &unknown) == 0);
    CHECK_INT(json_array_size(unknown), 3);
    CHECK_STR(json_string_value(json_array_get(unknown, 0)), "extra");
    CHECK_STR(json_string_value(json_array_get(unknown, 1)), "spec.sizee");
    CHECK_STR(json_string_value(json_array_get(unknown, 2)), "spec.items[0].b");
    json_decref(unknown);

    cn_prune_custom(&r, o);
    json_t *want = J("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"},"
                     "\"spec\":{\"size\":\"S\",\"free\":{\"whatever\":{\"x\":1}},\"labels\":{\"k\":\"v\"},"
                     "\"items\":[{\"a\":\"x\"}]},\"status\":{\"any\":true}}");
    CHECK(json_equal(o, want));
    json_decref(want);
    CHECK(cn_unknown_fields(&r, o, &unknown) == 0);
    CHECK_INT(json_array_size(unknown), 0);
    json_decref(unknown);
    json_decref(o);
    json_decref(ver);

    /* built-in kinds: against the schema table (skipped for kinds without one) */
    cn_resource pod = res_of("", "Pod", true);
    o = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"bogus\":1},"
          "\"spec\":{\"foo\":1,\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"bar\":2,\"ports\":[{\"containerPort\":1,\"baz\":3}]}]}}");
    CHECK(cn_unknown_fields(&pod, o, &unknown) == 0);
    if (cn_schema_for_kind("", "v1", "Pod")) {
        CHECK_INT(json_array_size(unknown), 4);
        CHECK_STR(json_string_value(json_array_get(unknown, 0)), "metadata.bogus");
        CHECK_STR(json_string_value(json_array_get(unknown, 1)), "spec.foo");
        CHECK_STR(json_string_value(json_array_get(unknown, 2)), "spec.containers[0].bar");
        CHECK_STR(json_string_value(json_array_get(unknown, 3)), "spec.containers[0].ports[0].baz");
    }
    json_decref(unknown);
    json_decref(o);
    o = J(POD_OK);
    CHECK(cn_unknown_fields(&pod, o, &unknown) == 0);
    CHECK_INT(json_array_size(unknown), 0);
    json_decref(unknown);
    json_decref(o);
    cn_resource nokind = res_of("example.org", "NoSuchKind", true);
    o = J("{\"anything\":1}");
    CHECK(cn_unknown_fields(&nokind, o, &unknown) == 0);
    CHECK_INT(json_array_size(unknown), 0);
    json_decref(unknown);
    json_decref(o);
}

static void test_wrong_types(void)
{
    /* hostile shapes never crash and give causes */
    cn_resource r = res_of("apps", "Deployment", true);
    cn_err err = CN_ERR_INIT;
    CHECK(run(&r, "{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\",\"labels\":[]},\"spec\":{\"replicas\":\"3\","
              "\"selector\":\"app=x\",\"template\":{\"spec\":{\"containers\":{}}}}}", NULL, &err) < 0);
    CHECK(cause(&err, "spec.replicas", "FieldValueTypeInvalid") != NULL);
    CHECK(cause(&err, "spec.selector", "FieldValueTypeInvalid") != NULL);
    CHECK(cause(&err, "spec.template.spec.containers", "FieldValueTypeInvalid") != NULL);
    cn_err_clear(&err);
}

int main(void)
{
    TEST_RUN(test_syntax);
    TEST_RUN(test_quantity);
    TEST_RUN(test_namespace_bad_name);
    TEST_RUN(test_metadata);
    TEST_RUN(test_pod);
    TEST_RUN(test_service);
    TEST_RUN(test_deployment);
    TEST_RUN(test_batch);
    TEST_RUN(test_config);
    TEST_RUN(test_storage_rbac_misc);
    TEST_RUN(test_crd);
    TEST_RUN(test_custom);
    TEST_RUN(test_unknown_and_prune);
    TEST_RUN(test_wrong_types);
    TEST_RUN(test_node_pod_cidr);
    return TEST_DONE();
}
