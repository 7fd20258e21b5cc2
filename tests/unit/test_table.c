/* test_table: Table columns and cells as upstream's printers produce them. */
#include <stdlib.h>

#include "api/table.h"
#include "test.h"

/* 2024-01-01T00:00:00Z */
#define T0 1704067200LL
#define NOW (T0 + 3600)

static cn_resource res(const char *group, const char *plural)
{
    cn_resource r;
    memset(&r, 0, sizeof(r));
    r.group = group;
    r.version = "v1";
    r.plural = plural;
    return r;
}

/* Column names joined with "|", priority-1 ones suffixed with "*". */
static char *col_names(const char *group, const char *plural)
{
    cn_resource r = res(group, plural);
    json_t *cols = cn_table_columns(&r);
    char buf[1024] = "";
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        if (i) strcat(buf, "|");
        strcat(buf, json_string_value(json_object_get(c, "name")));
        if (json_integer_value(json_object_get(c, "priority")) > 0) strcat(buf, "*");
    }
    json_decref(cols);
    return strdup(buf);
}

/* Cells of obj (JSON text) as compact JSON. */
static char *cells_of(const cn_resource *r, const char *obj_json, int64_t now)
{
    json_error_t e;
    json_t *obj = json_loads(obj_json, 0, &e);
    if (!obj) {
        fprintf(stderr, "bad test json: %s\n", e.text);
        return strdup("BADJSON");
    }
    json_t *cells = cn_table_cells(r, obj, now);
    char *s = json_dumps(cells, JSON_COMPACT);
    json_decref(cells);
    json_decref(obj);
    return s;
}

/* One cell (index i) as a string or compact JSON. */
static char *cell(const char *group, const char *plural, const char *obj_json, size_t i)
{
    cn_resource r = res(group, plural);
    json_t *obj = json_loads(obj_json, 0, NULL);
    if (!obj) return strdup("BADJSON");
    json_t *cells = cn_table_cells(&r, obj, NOW);
    json_t *c = json_array_get(cells, i);
    char *s = json_is_string(c) ? strdup(json_string_value(c)) : json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(cells);
    json_decref(obj);
    return s ? s : strdup("(null)");
}

#define CHECK_COLS(g, p, want) do { char *_s = col_names(g, p); CHECK_STR(_s, want); free(_s); } while (0)
#define CHECK_CELL(g, p, obj, i, want) do { char *_s = cell(g, p, obj, i); CHECK_STR(_s, want); free(_s); } while (0)

static void test_human_duration(void)
{
    static const struct { int64_t s; const char *want; } cases[] = {
        { -5, "<invalid>" }, { -1, "0s" }, { 0, "0s" }, { 59, "59s" }, { 119, "119s" },
        { 120, "2m" }, { 125, "2m5s" }, { 599, "9m59s" }, { 600, "10m" }, { 10799, "179m" },
        { 10800, "3h" }, { 3 * 3600 + 60, "3h1m" }, { 8 * 3600 - 1, "7h59m" }, { 8 * 3600, "8h" },
        { 47 * 3600 + 3599, "47h" }, { 48 * 3600, "2d" }, { 50 * 3600, "2d2h" },
        { 8 * 86400 - 1, "7d23h" }, { 8 * 86400, "8d" }, { 729 * 86400, "729d" },
        { 730 * 86400, "2y" }, { 731 * 86400, "2y1d" }, { 8 * 365 * 86400 - 86400, "7y364d" },
        { 8 * 365 * 86400, "8y" }, { 20 * 365 * 86400LL, "20y" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        cn_human_duration(cases[i].s, out);
        CHECK_STR(out, cases[i].want);
    }
}

static void test_columns(void)
{
    CHECK_COLS("", "pods", "Name|Ready|Status|Restarts|Age|IP*|Node*|Nominated Node*|Readiness Gates*");
    CHECK_COLS("", "namespaces", "Name|Status|Age");
    CHECK_COLS("", "nodes", "Name|Status|Roles|Age|Version|Internal-IP*|External-IP*|OS-Image*|"
                            "Kernel-Version*|Container-Runtime*");
    CHECK_COLS("", "services", "Name|Type|Cluster-IP|External-IP|Port(s)|Age|Selector*");
    CHECK_COLS("", "configmaps", "Name|Data|Age");
    CHECK_COLS("", "secrets", "Name|Type|Data|Age");
    CHECK_COLS("", "events", "Last Seen|Type|Reason|Object|Subobject*|Source*|Message|First Seen*|Count*|Name*");
    CHECK_COLS("", "persistentvolumes", "Name|Capacity|Access Modes|Reclaim Policy|Status|Claim|StorageClass|"
                                        "VolumeAttributesClass|Reason|Age|VolumeMode*");
    CHECK_COLS("", "persistentvolumeclaims", "Name|Status|Volume|Capacity|Access Modes|StorageClass|"
                                             "VolumeAttributesClass|Age|VolumeMode*");
    CHECK_COLS("apps", "deployments", "Name|Ready|Up-to-date|Available|Age|Containers*|Images*|Selector*");
    CHECK_COLS("apps", "replicasets", "Name|Desired|Current|Ready|Age|Containers*|Images*|Selector*");
    CHECK_COLS("apps", "statefulsets", "Name|Ready|Age|Containers*|Images*");
    CHECK_COLS("batch", "jobs", "Name|Status|Completions|Duration|Age|Containers*|Images*|Selector*");
    CHECK_COLS("batch", "cronjobs", "Name|Schedule|Timezone|Suspend|Active|Last Schedule|Age|Containers*|"
                                    "Images*|Selector*");
    CHECK_COLS("storage.k8s.io", "storageclasses", "Name|Provisioner|ReclaimPolicy|VolumeBindingMode|"
                                                   "AllowVolumeExpansion|Age");
    CHECK_COLS("rbac.authorization.k8s.io", "rolebindings", "Name|Role|Age|Users*|Groups*|ServiceAccounts*");
    CHECK_COLS("rbac.authorization.k8s.io", "roles", "Name|Created At");
    CHECK_COLS("apiextensions.k8s.io", "customresourcedefinitions", "Name|Created At");
    CHECK_COLS("", "limitranges", "Name|Created At");
    CHECK_COLS("example.com", "widgets", "Name|Age");
    /* a group mismatch does not pick another group's printer */
    CHECK_COLS("example.com", "deployments", "Name|Age");

    cn_resource r = res("", "pods");
    json_t *cols = cn_table_columns(&r);
    json_t *name = json_array_get(cols, 0), *restarts = json_array_get(cols, 3);
    CHECK_STR(json_string_value(json_object_get(name, "format")), "name");
    CHECK_STR(json_string_value(json_object_get(restarts, "format")), "");
    CHECK_STR(json_string_value(json_object_get(restarts, "type")), "string");
    CHECK(json_string_length(json_object_get(name, "description")) > 0);
    json_decref(cols);
}

static void test_cell_counts_match_columns(void)
{
    static const char *const kinds[][2] = {
        { "", "pods" }, { "", "nodes" }, { "", "services" }, { "", "events" }, { "", "endpoints" },
        { "", "persistentvolumes" }, { "", "persistentvolumeclaims" }, { "", "resourcequotas" },
        { "apps", "deployments" }, { "apps", "daemonsets" }, { "batch", "cronjobs" }, { "batch", "jobs" },
        { "rbac.authorization.k8s.io", "clusterrolebindings" }, { "discovery.k8s.io", "endpointslices" },
        { "networking.k8s.io", "ingresses" }, { "rbac.authorization.k8s.io", "clusterroles" },
        { "admissionregistration.k8s.io", "validatingadmissionpolicybindings" }, { "x.io", "things" },
    };
    json_t *empty = json_object();
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        cn_resource r = res(kinds[i][0], kinds[i][1]);
        json_t *cols = cn_table_columns(&r), *cells = cn_table_cells(&r, empty, NOW);
        if (json_array_size(cols) != json_array_size(cells))
            fprintf(stderr, "mismatch for %s\n", kinds[i][1]);
        CHECK_INT(json_array_size(cells), json_array_size(cols));
        json_decref(cols);
        json_decref(cells);
    }
    json_decref(empty);
}

static void test_pod_basic(void)
{
    cn_resource r = res("", "pods");
    char *s = cells_of(&r,
        "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\"},"
        "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
        "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}},"
        "{\"name\":\"b\",\"ready\":false,\"restartCount\":0,\"state\":{\"running\":{}}}]}}", NOW);
    CHECK_STR(s, "[\"web\",\"1/2\",\"Running\",\"0\",\"60m\",\"10.0.0.5\",\"n1\",\"<none>\",\"<none>\"]");
    free(s);
    s = cells_of(&r, "{\"metadata\":{\"name\":\"p\"}}", NOW);
    CHECK_STR(s, "[\"p\",\"0/0\",\"\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
    free(s);
}

static void test_pod_status(void)
{
    const char *pending =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
        "\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}";
    CHECK_CELL("", "pods", pending, 2, "ContainerCreating");
    CHECK_CELL("", "pods", pending, 1, "0/1");

    const char *crash =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":5,"
        "\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":\"2024-01-01T00:55:00Z\"}},"
        "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}";
    CHECK_CELL("", "pods", crash, 2, "CrashLoopBackOff");
    CHECK_CELL("", "pods", crash, 3, "5 (5m ago)");

    const char *completed =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
        "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}";
    CHECK_CELL("", "pods", completed, 2, "Completed");

    const char *error =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,"
        "\"state\":{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\"}}}]}}";
    CHECK_CELL("", "pods", error, 2, "Error");

    const char *exitcode =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\","
        "\"state\":{\"terminated\":{\"exitCode\":137}}}]}}";
    CHECK_CELL("", "pods", exitcode, 2, "ExitCode:137");

    /* one container completed with an error, another still running: NotReady */
    const char *mixed =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
        "\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
        "{\"name\":\"a\",\"ready\":false,\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
        "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}]}}";
    /* statuses are walked last to first, so "a" (Completed) decides; b runs */
    CHECK_CELL("", "pods", mixed, 2, "NotReady");

    const char *init =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
        "\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
        "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":0}}},"
        "{\"name\":\"i2\",\"state\":{\"running\":{}}}],"
        "\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}";
    CHECK_CELL("", "pods", init, 2, "Init:1/2");

    const char *init_crash =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],"
        "\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
        "{\"name\":\"i1\",\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}";
    CHECK_CELL("", "pods", init_crash, 2, "Init:CrashLoopBackOff");
    CHECK_CELL("", "pods", init_crash, 3, "3");

    const char *init_err =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],"
        "\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
        "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}}}]}}";
    CHECK_CELL("", "pods", init_err, 2, "Init:Error");

    /* a started restartable init container (sidecar) counts toward Ready */
    const char *sidecar =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\"}],"
        "\"containers\":[{\"name\":\"a\"}]},"
        "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"}],"
        "\"initContainerStatuses\":[{\"name\":\"s\",\"started\":true,\"ready\":true,\"restartCount\":1,"
        "\"state\":{\"running\":{}}}],"
        "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}}}]}}";
    CHECK_CELL("", "pods", sidecar, 1, "2/2");
    CHECK_CELL("", "pods", sidecar, 2, "Running");
    CHECK_CELL("", "pods", sidecar, 3, "1");

    const char *terminating =
        "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2024-01-01T00:59:00Z\"},"
        "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\"}}";
    CHECK_CELL("", "pods", terminating, 2, "Terminating");
    const char *term_done =
        "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2024-01-01T00:59:00Z\"},"
        "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Succeeded\"}}";
    CHECK_CELL("", "pods", term_done, 2, "Succeeded");
    const char *evicted =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{},\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\"}}";
    CHECK_CELL("", "pods", evicted, 2, "Evicted");
    const char *gated =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{},\"status\":{\"phase\":\"Pending\",\"conditions\":["
        "{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}";
    CHECK_CELL("", "pods", gated, 2, "SchedulingGated");
    const char *gates =
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"readinessGates\":[{\"conditionType\":\"x/a\"},"
        "{\"conditionType\":\"x/b\"}]},\"status\":{\"podIPs\":[{\"ip\":\"fd00::1\"}],\"conditions\":["
        "{\"type\":\"x/a\",\"status\":\"True\"}]}}";
    CHECK_CELL("", "pods", gates, 8, "1/2");
    CHECK_CELL("", "pods", gates, 5, "fd00::1");
}

static void test_service(void)
{
    const char *cip =
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.43.0.10\","
        "\"clusterIPs\":[\"10.43.0.10\"],\"selector\":{\"tier\":\"fe\",\"app\":\"web\"},"
        "\"ports\":[{\"port\":80,\"protocol\":\"TCP\"},{\"port\":53,\"protocol\":\"UDP\"}]}}";
    CHECK_CELL("", "services", cip, 1, "ClusterIP");
    CHECK_CELL("", "services", cip, 2, "10.43.0.10");
    CHECK_CELL("", "services", cip, 3, "<none>");
    CHECK_CELL("", "services", cip, 4, "80/TCP,53/UDP");
    CHECK_CELL("", "services", cip, 6, "app=web,tier=fe");

    const char *np =
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"type\":\"NodePort\",\"clusterIPs\":[\"10.43.0.11\"],"
        "\"externalIPs\":[\"1.2.3.4\"],\"ports\":[{\"port\":80,\"nodePort\":30080,\"protocol\":\"TCP\"}]}}";
    CHECK_CELL("", "services", np, 3, "1.2.3.4");
    CHECK_CELL("", "services", np, 4, "80:30080/TCP");
    CHECK_CELL("", "services", np, 6, "<none>");

    const char *lb_pending =
        "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.43.0.12\"],"
        "\"ports\":[]}}";
    CHECK_CELL("", "services", lb_pending, 3, "<pending>");
    CHECK_CELL("", "services", lb_pending, 4, "<none>");
    const char *lb =
        "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\",\"externalIPs\":[\"9.9.9.9\"]},"
        "\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"5.6.7.8\"},{\"hostname\":\"a.example\"},"
        "{\"ip\":\"1.2.3.4\"},{\"ip\":\"5.6.7.8\"}]}}}";
    CHECK_CELL("", "services", lb, 3, "1.2.3.4,5.6.7.8,a.example,9.9.9.9");
    CHECK_CELL("", "services", lb, 2, "<none>");
    const char *ext =
        "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}";
    CHECK_CELL("", "services", ext, 3, "db.example.com");
    const char *headless =
        "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"type\":\"ClusterIP\",\"clusterIPs\":[\"None\"]}}";
    CHECK_CELL("", "services", headless, 2, "None");
}

static void test_endpoints(void)
{
    const char *ep =
        "{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"},"
        "{\"ip\":\"fd00::3\"},{\"ip\":\"10.0.0.4\"}],\"ports\":[{\"port\":80},{\"port\":443}]}]}";
    CHECK_CELL("", "endpoints", ep, 1, "10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 5 more...");
    CHECK_CELL("", "endpoints", "{\"metadata\":{\"name\":\"e\"}}", 1, "<none>");
    CHECK_CELL("", "endpoints", "{\"metadata\":{\"name\":\"e\"},\"subsets\":[{\"addresses\":[{\"ip\":\"1.1.1.1\"}]}]}",
               1, "1.1.1.1");
    const char *slice =
        "{\"metadata\":{\"name\":\"s\"},\"addressType\":\"IPv4\",\"ports\":[{\"port\":80},{\"name\":\"x\"}],"
        "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},{\"addresses\":[\"10.0.0.2\",\"10.0.0.3\",\"10.0.0.4\"]}]}";
    CHECK_CELL("discovery.k8s.io", "endpointslices", slice, 1, "IPv4");
    CHECK_CELL("discovery.k8s.io", "endpointslices", slice, 2, "80,x");
    CHECK_CELL("discovery.k8s.io", "endpointslices", slice, 3, "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...");
    CHECK_CELL("discovery.k8s.io", "endpointslices", "{\"metadata\":{\"name\":\"s\"}}", 3, "<unset>");
}

static void test_workloads(void)
{
    const char *dep =
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"},"
        "\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"dev\"]},"
        "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"}]},\"template\":{\"spec\":{\"containers\":["
        "{\"name\":\"nginx\",\"image\":\"nginx:1.25\"},{\"name\":\"side\",\"image\":\"busybox\"}]}}},"
        "\"status\":{\"readyReplicas\":2,\"updatedReplicas\":3,\"availableReplicas\":2}}";
    CHECK_CELL("apps", "deployments", dep, 1, "2/3");
    CHECK_CELL("apps", "deployments", dep, 2, "3");
    CHECK_CELL("apps", "deployments", dep, 3, "2");
    CHECK_CELL("apps", "deployments", dep, 5, "nginx,side");
    CHECK_CELL("apps", "deployments", dep, 6, "nginx:1.25,busybox");
    CHECK_CELL("apps", "deployments", dep, 7, "app=web,!canary,env in (dev,prod)");
    CHECK_CELL("apps", "deployments", "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":0}}", 1, "0/0");

    CHECK_CELL("apps", "replicasets", "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"replicas\":2}}", 1, "2");
    CHECK_CELL("apps", "replicasets", "{\"metadata\":{\"name\":\"r\"}}", 7, "<none>");
    CHECK_CELL("apps", "statefulsets",
               "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"replicas\":3},\"status\":{\"readyReplicas\":1}}", 1, "1/3");
    CHECK_CELL("apps", "daemonsets",
               "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":"
               "{\"kubernetes.io/os\":\"linux\"}}}},\"status\":{\"desiredNumberScheduled\":2}}", 6, "kubernetes.io/os=linux");

    const char *job =
        "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"completions\":1},\"status\":{\"succeeded\":1,"
        "\"startTime\":\"2024-01-01T00:00:00Z\",\"completionTime\":\"2024-01-01T00:00:42Z\","
        "\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}";
    CHECK_CELL("batch", "jobs", job, 1, "Complete");
    CHECK_CELL("batch", "jobs", job, 2, "1/1");
    CHECK_CELL("batch", "jobs", job, 3, "42s");
    const char *running = "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"parallelism\":3},"
                          "\"status\":{\"startTime\":\"2024-01-01T00:00:00Z\"}}";
    CHECK_CELL("batch", "jobs", running, 1, "Running");
    CHECK_CELL("batch", "jobs", running, 2, "0/1 of 3");
    CHECK_CELL("batch", "jobs", running, 3, "60m");
    CHECK_CELL("batch", "jobs", "{\"metadata\":{\"name\":\"j\"},\"status\":{\"conditions\":"
                                "[{\"type\":\"Suspended\",\"status\":\"True\"}]}}", 1, "Suspended");
    CHECK_CELL("batch", "jobs", "{\"metadata\":{\"name\":\"j\"},\"status\":{\"conditions\":"
                                "[{\"type\":\"Failed\",\"status\":\"True\"}]}}", 1, "Failed");

    const char *cj =
        "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"schedule\":\"*/5 * * * *\",\"suspend\":false},"
        "\"status\":{\"active\":[{}],\"lastScheduleTime\":\"2024-01-01T00:55:00Z\"}}";
    CHECK_CELL("batch", "cronjobs", cj, 1, "*/5 * * * *");
    CHECK_CELL("batch", "cronjobs", cj, 2, "<none>");
    CHECK_CELL("batch", "cronjobs", cj, 3, "False");
    CHECK_CELL("batch", "cronjobs", cj, 4, "1");
    CHECK_CELL("batch", "cronjobs", cj, 5, "5m");
}

static void test_misc_kinds(void)
{
    CHECK_CELL("", "configmaps", "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"b\":\"2\"},"
                                 "\"binaryData\":{\"c\":\"AA==\"}}", 1, "3");
    CHECK_CELL("", "secrets", "{\"metadata\":{\"name\":\"s\"},\"type\":\"Opaque\",\"data\":{\"a\":\"MQ==\"}}", 2, "1");
    CHECK_CELL("", "namespaces", "{\"metadata\":{\"name\":\"n\"},\"status\":{\"phase\":\"Active\"}}", 1, "Active");

    const char *node =
        "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\","
        "\"node-role.kubernetes.io/master\":\"true\",\"kubernetes.io/role\":\"edge\"}},"
        "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\","
        "\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}],\"nodeInfo\":{\"kubeletVersion\":"
        "\"v1.30.0\"},\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.1.2\"}]}}";
    CHECK_CELL("", "nodes", node, 1, "Ready,SchedulingDisabled");
    CHECK_CELL("", "nodes", node, 2, "control-plane,edge,master");
    CHECK_CELL("", "nodes", node, 4, "v1.30.0");
    CHECK_CELL("", "nodes", node, 5, "192.168.1.2");
    CHECK_CELL("", "nodes", node, 6, "<none>");
    CHECK_CELL("", "nodes", node, 7, "<unknown>");
    CHECK_CELL("", "nodes", "{\"metadata\":{\"name\":\"n\"}}", 1, "Unknown");
    CHECK_CELL("", "nodes", "{\"metadata\":{\"name\":\"n\"}}", 2, "<none>");
    CHECK_CELL("", "nodes", "{\"metadata\":{\"name\":\"n\"},\"status\":{\"conditions\":[{\"type\":\"Ready\","
                            "\"status\":\"Unknown\"}]}}", 1, "NotReady");

    const char *sc_default =
        "{\"metadata\":{\"name\":\"local-path\",\"annotations\":{\"storageclass.kubernetes.io/is-default-class\":"
        "\"true\"}},\"provisioner\":\"rancher.io/local-path\",\"volumeBindingMode\":\"WaitForFirstConsumer\"}";
    CHECK_CELL("storage.k8s.io", "storageclasses", sc_default, 0, "local-path (default)");
    CHECK_CELL("storage.k8s.io", "storageclasses", sc_default, 2, "Delete");
    CHECK_CELL("storage.k8s.io", "storageclasses", sc_default, 3, "WaitForFirstConsumer");
    CHECK_CELL("storage.k8s.io", "storageclasses", sc_default, 4, "false");
    CHECK_CELL("storage.k8s.io", "storageclasses", "{\"metadata\":{\"name\":\"slow\",\"annotations\":"
               "{\"storageclass.kubernetes.io/is-default-class\":\"false\"}}}", 0, "slow");

    const char *pv =
        "{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":\"5Gi\"},\"accessModes\":"
        "[\"ReadWriteMany\",\"ReadWriteOnce\"],\"persistentVolumeReclaimPolicy\":\"Retain\",\"claimRef\":"
        "{\"namespace\":\"default\",\"name\":\"data\"},\"storageClassName\":\"fast\"},\"status\":{\"phase\":\"Bound\"}}";
    CHECK_CELL("", "persistentvolumes", pv, 1, "5Gi");
    CHECK_CELL("", "persistentvolumes", pv, 2, "RWO,RWX");
    CHECK_CELL("", "persistentvolumes", pv, 5, "default/data");
    CHECK_CELL("", "persistentvolumes", pv, 6, "fast");
    CHECK_CELL("", "persistentvolumes", pv, 7, "<unset>");
    const char *pvc_pending = "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]},"
                              "\"status\":{\"phase\":\"Pending\"}}";
    CHECK_CELL("", "persistentvolumeclaims", pvc_pending, 1, "Pending");
    CHECK_CELL("", "persistentvolumeclaims", pvc_pending, 3, "");
    CHECK_CELL("", "persistentvolumeclaims", pvc_pending, 4, "");
    const char *pvc = "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"volumeName\":\"pv1\",\"volumeMode\":\"Filesystem\"},"
                      "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOncePod\"]}}";
    CHECK_CELL("", "persistentvolumeclaims", pvc, 3, "1Gi");
    CHECK_CELL("", "persistentvolumeclaims", pvc, 4, "RWOP");
    CHECK_CELL("", "persistentvolumeclaims", pvc, 8, "Filesystem");

    const char *rb =
        "{\"metadata\":{\"name\":\"rb\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"},\"subjects\":["
        "{\"kind\":\"User\",\"name\":\"alice\"},{\"kind\":\"ServiceAccount\",\"namespace\":\"ns\",\"name\":\"sa\"},"
        "{\"kind\":\"User\",\"name\":\"bob\"},{\"kind\":\"Group\",\"name\":\"devs\"}]}";
    CHECK_CELL("rbac.authorization.k8s.io", "rolebindings", rb, 1, "ClusterRole/view");
    CHECK_CELL("rbac.authorization.k8s.io", "rolebindings", rb, 3, "alice, bob");
    CHECK_CELL("rbac.authorization.k8s.io", "rolebindings", rb, 4, "devs");
    CHECK_CELL("rbac.authorization.k8s.io", "rolebindings", rb, 5, "ns/sa");
    CHECK_CELL("rbac.authorization.k8s.io", "roles",
               "{\"metadata\":{\"name\":\"r\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\"}}", 1,
               "2024-01-01T00:00:00Z");

    const char *quota =
        "{\"metadata\":{\"name\":\"q\"},\"status\":{\"hard\":{\"pods\":\"10\",\"limits.cpu\":\"2\","
        "\"requests.cpu\":\"1\"},\"used\":{\"pods\":\"3\",\"requests.cpu\":\"500m\"}}}";
    CHECK_CELL("", "resourcequotas", quota, 1, "pods: 3/10, requests.cpu: 500m/1");
    CHECK_CELL("", "resourcequotas", quota, 2, "limits.cpu: 0/2");

    CHECK_CELL("coordination.k8s.io", "leases", "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"holderIdentity\":"
               "\"node-1\"}}", 1, "node-1");
    CHECK_CELL("admissionregistration.k8s.io", "validatingadmissionpolicies",
               "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"validations\":[{},{}],\"paramKind\":{\"apiVersion\":"
               "\"v1\",\"kind\":\"ConfigMap\"}}}", 2, "v1/ConfigMap");
    CHECK_CELL("admissionregistration.k8s.io", "validatingadmissionpolicybindings",
               "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"policyName\":\"p\",\"paramRef\":{\"name\":\"cfg\"}}}",
               2, "*/cfg");
}

static void test_events(void)
{
    const char *ev =
        "{\"metadata\":{\"name\":\"web.17a\"},\"type\":\"Warning\",\"reason\":\"BackOff\","
        "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web\",\"fieldPath\":\"spec.containers{a}\"},"
        "\"source\":{\"component\":\"kubelet\",\"host\":\"n1\"},\"message\":\"  Back-off restarting\\n\","
        "\"firstTimestamp\":\"2024-01-01T00:00:00Z\",\"lastTimestamp\":\"2024-01-01T00:58:00Z\",\"count\":7}";
    cn_resource r = res("", "events");
    char *s = cells_of(&r, ev, NOW);
    CHECK_STR(s, "[\"2m\",\"Warning\",\"BackOff\",\"pod/web\",\"spec.containers{a}\",\"kubelet, n1\","
                 "\"Back-off restarting\",\"60m\",7,\"web.17a\"]");
    free(s);
    const char *ev2 =
        "{\"metadata\":{\"name\":\"e\"},\"involvedObject\":{\"kind\":\"Node\"},\"reportingComponent\":\"ctl\","
        "\"eventTime\":\"2024-01-01T00:59:30.123456Z\"}";
    CHECK_CELL("", "events", ev2, 0, "30s");
    CHECK_CELL("", "events", ev2, 3, "node");
    CHECK_CELL("", "events", ev2, 5, "ctl");
    CHECK_CELL("", "events", ev2, 7, "30s");
    CHECK_CELL("", "events", ev2, 8, "1");
    CHECK_CELL("", "events", "{\"metadata\":{\"name\":\"e\"},\"series\":{\"count\":4,\"lastObservedTime\":"
               "\"2024-01-01T00:59:50Z\"},\"count\":1}", 0, "10s");
}

static void test_crd_columns(void)
{
    json_t *ver = json_loads(
        "{\"name\":\"v1\",\"additionalPrinterColumns\":["
        "{\"name\":\"Replicas\",\"type\":\"integer\",\"jsonPath\":\".spec.replicas\"},"
        "{\"name\":\"Ready\",\"type\":\"string\",\"jsonPath\":\".status.conditions[?(@.type==\\\"Ready\\\")].status\","
        "\"description\":\"Readiness\"},"
        "{\"name\":\"App\",\"type\":\"string\",\"jsonPath\":\".metadata.labels.app\",\"priority\":1},"
        "{\"name\":\"Ratio\",\"type\":\"number\",\"jsonPath\":\".spec.ratio\"},"
        "{\"name\":\"On\",\"type\":\"boolean\",\"jsonPath\":\".spec.on\"},"
        "{\"name\":\"First\",\"type\":\"string\",\"jsonPath\":\".spec.items[*].name\"},"
        "{\"name\":\"Count\",\"type\":\"string\",\"jsonPath\":\".spec.replicas\"},"
        "{\"name\":\"Missing\",\"type\":\"string\",\"jsonPath\":\".spec.nope\"},"
        "{\"name\":\"Age\",\"type\":\"date\",\"jsonPath\":\".metadata.creationTimestamp\"}]}", 0, NULL);
    cn_resource r = res("example.com", "widgets");
    r.flags = CN_RES_CUSTOM;
    r.crd_version = ver;
    json_t *cols = cn_table_columns(&r);
    CHECK_INT(json_array_size(cols), 10);
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 0), "name")), "Name");
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 0), "format")), "name");
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 1), "type")), "integer");
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 1), "description")),
              "Custom resource definition column (in JSONPath format): .spec.replicas");
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 2), "description")), "Readiness");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(cols, 3), "priority")), 1);
    json_decref(cols);

    char *s = cells_of(&r,
        "{\"metadata\":{\"name\":\"w1\",\"labels\":{\"app\":\"shop\"},\"creationTimestamp\":\"2024-01-01T00:00:00Z\"},"
        "\"spec\":{\"replicas\":3,\"ratio\":0.5,\"on\":true,\"items\":[{\"name\":\"x\"},{\"name\":\"y\"}]},"
        "\"status\":{\"conditions\":[{\"type\":\"Synced\",\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}",
        NOW);
    CHECK_STR(s, "[\"w1\",3,\"True\",\"shop\",0.5,true,\"x\",\"3\",null,\"60m\"]");
    free(s);
    s = cells_of(&r, "{\"metadata\":{\"name\":\"w2\",\"creationTimestamp\":\"junk\"},\"spec\":{\"replicas\":\"3\"}}", NOW);
    CHECK_STR(s, "[\"w2\",null,null,null,null,null,null,\"3\",null,\"<invalid>\"]");
    free(s);
    json_decref(ver);

    /* no printer columns: Name and a date-typed Age */
    json_t *plain = json_loads("{\"name\":\"v1\"}", 0, NULL);
    r.crd_version = plain;
    cols = cn_table_columns(&r);
    CHECK_INT(json_array_size(cols), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 1), "name")), "Age");
    CHECK_STR(json_string_value(json_object_get(json_array_get(cols, 1), "type")), "date");
    json_decref(cols);
    s = cells_of(&r, "{\"metadata\":{\"name\":\"w\",\"creationTimestamp\":\"2024-01-01T00:00:00Z\"}}", NOW);
    CHECK_STR(s, "[\"w\",\"60m\"]");
    free(s);
    json_decref(plain);
}

int main(void)
{
    TEST_RUN(test_human_duration);
    TEST_RUN(test_columns);
    TEST_RUN(test_cell_counts_match_columns);
    TEST_RUN(test_pod_basic);
    TEST_RUN(test_pod_status);
    TEST_RUN(test_service);
    TEST_RUN(test_endpoints);
    TEST_RUN(test_workloads);
    TEST_RUN(test_misc_kinds);
    TEST_RUN(test_events);
    TEST_RUN(test_crd_columns);
    return TEST_DONE();
}
