/* table_core: printers for core/v1 kinds (pods, nodes, services, events,
 * volumes, ...), cell for cell what upstream's internalversion printers
 * compute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/table.h"
#include "api/table-internal.h"
#include "lib/util.h"

#define NAME(o) cn_tbl_str(o, "metadata.name")

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool nonempty(const char *s)
{
    return s && *s;
}

/* --- pods --- */

static const cn_tbl_col pod_cols[] = {
    CN_COL_NAME,
    CN_COL("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    CN_COL("Status", "string", "The aggregate status of the containers in this pod."),
    CN_COL("Restarts", "string", "The number of times the containers in this pod have been restarted "
                                 "and when the last container in this pod has restarted."),
    CN_COL_AGE,
    CN_COL_WIDE("IP", "string", "podIP address allocated to the pod. Routable at least within the cluster."),
    CN_COL_WIDE("Node", "string", "NodeName indicates in which node this pod is scheduled."),
    CN_COL_WIDE("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other "
                                            "pods on the node."),
    CN_COL_WIDE("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod "
                                             "readiness."),
};

static bool restartable_init(const json_t *spec, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
        if (streq(json_string_value(json_object_get(c, "name")), name))
            return streq(json_string_value(json_object_get(c, "restartPolicy")), "Always");
    }
    return false;
}

static bool has_condition(const json_t *st, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(st, "conditions"), i, c) {
        if (streq(json_string_value(json_object_get(c, "type")), type))
            return streq(json_string_value(json_object_get(c, "status")), "True");
    }
    return false;
}

static void set_reason(char **reason, char *s)
{
    free(*reason);
    *reason = s;
}

/* Track the latest lastState.terminated.finishedAt. */
static void note_finish(const json_t *cs, int64_t *last)
{
    int64_t t;
    const char *f = cn_tbl_str(cs, "lastState.terminated.finishedAt");
    if (f && cn_time_parse(f, &t) == 0 && t > *last) *last = t;
}

static void pod_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *spec = json_object_get(obj, "spec"), *st = json_object_get(obj, "status");
    const char *phase = cn_tbl_str(st, "phase");
    const char *st_reason = cn_tbl_str(st, "reason");
    int64_t restarts = 0, rinit_restarts = 0, ready = 0;
    int64_t total = (int64_t)cn_tbl_count(spec, "containers");
    int64_t last = INT64_MIN, last_rinit = INT64_MIN;
    char *reason = cn_strdup(nonempty(st_reason) ? st_reason : phase ? phase : "");
    size_t i;
    json_t *c;

    json_array_foreach(json_object_get(st, "conditions"), i, c) {
        if (streq(cn_tbl_str(c, "type"), "PodScheduled") && streq(cn_tbl_str(c, "reason"), "SchedulingGated"))
            set_reason(&reason, cn_strdup("SchedulingGated"));
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
        if (streq(cn_tbl_str(c, "restartPolicy"), "Always")) total++;
    }

    bool initializing = false;
    const json_t *ics = json_object_get(st, "initContainerStatuses");
    json_array_foreach(ics, i, c) {
        bool sidecar = restartable_init(spec, cn_tbl_str(c, "name"));
        int64_t rc = cn_tbl_int(c, "restartCount", 0);
        restarts += rc;
        note_finish(c, &last);
        if (sidecar) {
            rinit_restarts += rc;
            note_finish(c, &last_rinit);
        }
        const json_t *term = cn_tbl_get(c, "state.terminated");
        const char *wreason = cn_tbl_str(c, "state.waiting.reason");
        if (term && cn_tbl_int(term, "exitCode", 0) == 0) continue;
        if (sidecar && cn_tbl_bool(c, "started", false)) {
            if (cn_tbl_bool(c, "ready", false)) ready++;
            continue;
        }
        if (term) {
            const char *tr = cn_tbl_str(term, "reason");
            if (nonempty(tr))
                set_reason(&reason, cn_asprintf("Init:%s", tr));
            else if (cn_tbl_int(term, "signal", 0) != 0)
                set_reason(&reason, cn_asprintf("Init:Signal:%lld", (long long)cn_tbl_int(term, "signal", 0)));
            else
                set_reason(&reason, cn_asprintf("Init:ExitCode:%lld", (long long)cn_tbl_int(term, "exitCode", 0)));
        } else if (cn_tbl_get(c, "state.waiting") && nonempty(wreason) && !streq(wreason, "PodInitializing")) {
            set_reason(&reason, cn_asprintf("Init:%s", wreason));
        } else {
            set_reason(&reason, cn_asprintf("Init:%zu/%zu", i, cn_tbl_count(spec, "initContainers")));
        }
        initializing = true;
        break;
    }

    if (!initializing || has_condition(st, "Initialized")) {
        restarts = rinit_restarts;
        last = last_rinit;
        bool running = false;
        char *error_reason = NULL;
        const json_t *css = json_object_get(st, "containerStatuses");
        for (size_t k = json_array_size(css); k-- > 0;) {
            c = json_array_get(css, k);
            restarts += cn_tbl_int(c, "restartCount", 0);
            note_finish(c, &last);
            const json_t *term = cn_tbl_get(c, "state.terminated");
            const char *wreason = cn_tbl_str(c, "state.waiting.reason");
            if (cn_tbl_get(c, "state.waiting") && nonempty(wreason)) {
                set_reason(&reason, cn_strdup(wreason));
            } else if (term) {
                const char *tr = cn_tbl_str(term, "reason");
                if (nonempty(tr))
                    set_reason(&reason, cn_strdup(tr));
                else if (cn_tbl_int(term, "signal", 0) != 0)
                    set_reason(&reason, cn_asprintf("Signal:%lld", (long long)cn_tbl_int(term, "signal", 0)));
                else
                    set_reason(&reason, cn_asprintf("ExitCode:%lld", (long long)cn_tbl_int(term, "exitCode", 0)));
                if (cn_tbl_int(term, "exitCode", 0) != 0) set_reason(&error_reason, cn_strdup(reason));
            } else if (cn_tbl_bool(c, "ready", false) && cn_tbl_get(c, "state.running")) {
                running = true;
                ready++;
            }
        }
        /* a container still running flips "Completed" back */
        if (streq(reason, "Completed")) {
            if (running && has_condition(st, "Ready"))
                set_reason(&reason, cn_strdup("Running"));
            else if (error_reason)
                set_reason(&reason, cn_strdup(error_reason));
            else if (running)
                set_reason(&reason, cn_strdup("NotReady"));
        }
        free(error_reason);
    }

    if (cn_tbl_deleting(obj) && streq(st_reason, "NodeLost"))
        set_reason(&reason, cn_strdup("Unknown"));
    else if (cn_tbl_deleting(obj) && !streq(phase, "Succeeded") && !streq(phase, "Failed"))
        set_reason(&reason, cn_strdup("Terminating"));

    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_asprintf("%lld/%lld", (long long)ready, (long long)total));
    cn_tbl_add_own(cells, reason);
    if (restarts != 0 && last != INT64_MIN) {
        char ago[32];
        cn_human_duration(now - last, ago);
        cn_tbl_add_own(cells, cn_asprintf("%lld (%s ago)", (long long)restarts, ago));
    } else {
        cn_tbl_add_own(cells, cn_asprintf("%lld", (long long)restarts));
    }
    cn_tbl_add_age(cells, obj, now);

    /* wide */
    const char *ip = cn_tbl_str(json_array_get(json_object_get(st, "podIPs"), 0), "ip");
    if (!nonempty(ip)) ip = cn_tbl_str(st, "podIP");
    const char *node = cn_tbl_str(spec, "nodeName"), *nom = cn_tbl_str(st, "nominatedNodeName");
    cn_tbl_adds(cells, nonempty(ip) ? ip : "<none>");
    cn_tbl_adds(cells, nonempty(node) ? node : "<none>");
    cn_tbl_adds(cells, nonempty(nom) ? nom : "<none>");
    const json_t *gates = json_object_get(spec, "readinessGates");
    if (json_array_size(gates) > 0) {
        size_t t = 0;
        json_array_foreach(gates, i, c) {
            const char *ct = cn_tbl_str(c, "conditionType");
            size_t j;
            json_t *cond;
            json_array_foreach(json_object_get(st, "conditions"), j, cond) {
                if (streq(cn_tbl_str(cond, "type"), ct)) {
                    if (streq(cn_tbl_str(cond, "status"), "True")) t++;
                    break;
                }
            }
        }
        cn_tbl_add_own(cells, cn_asprintf("%zu/%zu", t, json_array_size(gates)));
    } else {
        cn_tbl_adds(cells, "<none>");
    }
}

/* --- namespaces, nodes --- */

static const cn_tbl_col namespace_cols[] = {
    CN_COL_NAME,
    CN_COL("Status", "string", "The status of the namespace"),
    CN_COL_AGE,
};

static void namespace_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "status.phase"));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col node_cols[] = {
    CN_COL_NAME,
    CN_COL("Status", "string", "The status of the node"),
    CN_COL("Roles", "string", "The roles of the node"),
    CN_COL_AGE,
    CN_COL("Version", "string", "Kubelet Version reported by the node."),
    CN_COL_WIDE("Internal-IP", "string", "List of addresses reachable to the node."),
    CN_COL_WIDE("External-IP", "string", "List of addresses reachable to the node."),
    CN_COL_WIDE("OS-Image", "string", "OS Image reported by the node from /etc/os-release."),
    CN_COL_WIDE("Kernel-Version", "string", "Kernel Version reported by the node from 'uname -r'."),
    CN_COL_WIDE("Container-Runtime", "string", "ContainerRuntime Version reported by the node through "
                                               "runtime remote API."),
};

static const char *node_address(const json_t *obj, const char *type)
{
    size_t i;
    json_t *a;
    json_array_foreach(cn_tbl_get(obj, "status.addresses"), i, a) {
        if (streq(cn_tbl_str(a, "type"), type)) {
            const char *s = cn_tbl_str(a, "address");
            return s ? s : "";
        }
    }
    return "<none>";
}

static void node_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_buf status;
    cn_buf_init(&status);
    size_t i;
    json_t *c;
    const char *ready = NULL;
    /* the last Ready condition wins, as in upstream's map */
    json_array_foreach(cn_tbl_get(obj, "status.conditions"), i, c) {
        if (streq(cn_tbl_str(c, "type"), "Ready")) ready = streq(cn_tbl_str(c, "status"), "True") ? "Ready" : "NotReady";
    }
    cn_buf_adds(&status, ready ? ready : "Unknown");
    if (cn_tbl_bool(obj, "spec.unschedulable", false)) cn_buf_adds(&status, ",SchedulingDisabled");

    const json_t *labels = cn_tbl_get(obj, "metadata.labels");
    size_t n = json_is_object(labels) ? json_object_size(labels) : 0, nr = 0;
    const char **roles = cn_calloc(n ? n : 1, sizeof(*roles));
    const char *k;
    json_t *v;
    if (n) {
        json_object_foreach((json_t *)labels, k, v) {
            const char *role = NULL;
            if (cn_str_has_prefix(k, "node-role.kubernetes.io/")) role = k + strlen("node-role.kubernetes.io/");
            else if (strcmp(k, "kubernetes.io/role") == 0) role = json_string_value(v);
            if (!nonempty(role)) continue;
            bool dup = false;
            for (size_t j = 0; j < nr && !dup; j++) dup = strcmp(roles[j], role) == 0;
            if (!dup) roles[nr++] = role;
        }
    }
    cn_tbl_sort_strs(roles, nr);
    cn_buf rb;
    cn_buf_init(&rb);
    for (i = 0; i < nr; i++) cn_buf_addf(&rb, "%s%s", i ? "," : "", roles[i]);
    free(roles);

    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_buf_detach(&status, NULL));
    if (rb.len == 0) {
        cn_buf_release(&rb);
        cn_tbl_adds(cells, "<none>");
    } else {
        cn_tbl_add_own(cells, cn_buf_detach(&rb, NULL));
    }
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_adds(cells, cn_tbl_str(obj, "status.nodeInfo.kubeletVersion"));
    cn_tbl_adds(cells, node_address(obj, "InternalIP"));
    cn_tbl_adds(cells, node_address(obj, "ExternalIP"));
    static const char *const info[] = { "status.nodeInfo.osImage", "status.nodeInfo.kernelVersion",
                                        "status.nodeInfo.containerRuntimeVersion" };
    for (i = 0; i < 3; i++) {
        const char *s = cn_tbl_str(obj, info[i]);
        cn_tbl_adds(cells, nonempty(s) ? s : "<unknown>");
    }
}

/* --- services, endpoints --- */

static const cn_tbl_col service_cols[] = {
    CN_COL_NAME,
    CN_COL("Type", "string", "type determines how the Service is exposed."),
    CN_COL("Cluster-IP", "string", "clusterIP is the IP address of the service."),
    CN_COL("External-IP", "string", "externalIPs is a list of IP addresses for which nodes in the cluster "
                                    "will also accept traffic for this service."),
    CN_COL("Port(s)", "string", "The list of ports that are exposed by this service."),
    CN_COL_AGE,
    CN_COL_WIDE("Selector", "string", "Route service traffic to pods with label keys and values matching "
                                      "this selector."),
};

static void join_strings(cn_buf *b, const json_t *arr)
{
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s) {
        if (b->len) cn_buf_addc(b, ',');
        cn_buf_adds(b, json_string_value(s) ? json_string_value(s) : "");
    }
}

static char *service_external_ip(const json_t *obj)
{
    const char *type = cn_tbl_str(obj, "spec.type");
    const json_t *ext = cn_tbl_get(obj, "spec.externalIPs");
    cn_buf b;
    cn_buf_init(&b);
    if (streq(type, "ClusterIP") || streq(type, "NodePort")) {
        join_strings(&b, ext);
        if (b.len == 0) cn_buf_adds(&b, "<none>");
    } else if (streq(type, "LoadBalancer")) {
        /* sorted, de-duplicated ingress IPs (or hostnames), then externalIPs */
        const json_t *ing = cn_tbl_get(obj, "status.loadBalancer.ingress");
        size_t n = json_array_size(ing), nv = 0, i;
        const char **v = cn_calloc(n ? n : 1, sizeof(*v));
        json_t *e;
        json_array_foreach(ing, i, e) {
            const char *s = cn_tbl_str(e, "ip");
            if (!nonempty(s)) s = cn_tbl_str(e, "hostname");
            if (!nonempty(s)) continue;
            bool dup = false;
            for (size_t j = 0; j < nv && !dup; j++) dup = strcmp(v[j], s) == 0;
            if (!dup) v[nv++] = s;
        }
        cn_tbl_sort_strs(v, nv);
        for (i = 0; i < nv; i++) cn_buf_addf(&b, "%s%s", i ? "," : "", v[i]);
        free(v);
        join_strings(&b, ext);
        if (b.len == 0) cn_buf_adds(&b, "<pending>");
    } else if (streq(type, "ExternalName")) {
        const char *s = cn_tbl_str(obj, "spec.externalName");
        cn_buf_adds(&b, s ? s : "");
    } else {
        cn_buf_adds(&b, "<unknown>");
    }
    return cn_buf_detach(&b, NULL);
}

static void service_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const char *ip = json_string_value(json_array_get(cn_tbl_get(obj, "spec.clusterIPs"), 0));
    if (!nonempty(ip)) ip = cn_tbl_str(obj, "spec.clusterIP");
    cn_buf ports;
    cn_buf_init(&ports);
    size_t i;
    json_t *p;
    json_array_foreach(cn_tbl_get(obj, "spec.ports"), i, p) {
        const char *proto = cn_tbl_str(p, "protocol");
        if (!proto) proto = "TCP";
        int64_t np = cn_tbl_int(p, "nodePort", 0);
        if (i) cn_buf_addc(&ports, ',');
        if (np > 0)
            cn_buf_addf(&ports, "%lld:%lld/%s", (long long)cn_tbl_int(p, "port", 0), (long long)np, proto);
        else
            cn_buf_addf(&ports, "%lld/%s", (long long)cn_tbl_int(p, "port", 0), proto);
    }
    if (ports.len == 0) cn_buf_adds(&ports, "<none>");

    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.type"));
    cn_tbl_adds(cells, nonempty(ip) ? ip : "<none>");
    cn_tbl_add_own(cells, service_external_ip(obj));
    cn_tbl_add_own(cells, cn_buf_detach(&ports, NULL));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_own(cells, cn_tbl_labels(cn_tbl_get(obj, "spec.selector")));
}

static const cn_tbl_col endpoints_cols[] = {
    CN_COL_NAME,
    CN_COL("Endpoints", "string", "The set of all endpoints is the union of all subsets."),
    CN_COL_AGE,
};

static void add_hostport(cn_buf *b, const char *ip, int64_t port)
{
    if (b->len) cn_buf_addc(b, ',');
    if (ip && strchr(ip, ':')) cn_buf_addf(b, "[%s]:%lld", ip, (long long)port);
    else cn_buf_addf(b, "%s:%lld", ip ? ip : "", (long long)port);
}

static void endpoints_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *subsets = json_object_get(obj, "subsets");
    cn_tbl_adds(cells, NAME(obj));
    if (json_array_size(subsets) == 0) {
        cn_tbl_adds(cells, "<none>");
        cn_tbl_add_age(cells, obj, now);
        return;
    }
    const size_t max = 3;
    size_t listed = 0, count = 0, i, j, k;
    bool more = false;
    cn_buf b;
    cn_buf_init(&b);
    json_t *ss, *port, *addr;
    json_array_foreach(subsets, i, ss) {
        const json_t *addrs = json_object_get(ss, "addresses"), *ports = json_object_get(ss, "ports");
        if (json_array_size(ports) == 0) {
            count += json_array_size(addrs);
            json_array_foreach(addrs, k, addr) {
                if (listed == max) {
                    more = true;
                    break;
                }
                if (b.len) cn_buf_addc(&b, ',');
                cn_buf_adds(&b, cn_tbl_str(addr, "ip") ? cn_tbl_str(addr, "ip") : "");
                listed++;
            }
            continue;
        }
        json_array_foreach(ports, j, port) {
            count += json_array_size(addrs);
            json_array_foreach(addrs, k, addr) {
                if (listed == max) {
                    more = true;
                    break;
                }
                add_hostport(&b, cn_tbl_str(addr, "ip"), cn_tbl_int(port, "port", 0));
                listed++;
            }
        }
    }
    if (more) cn_buf_addf(&b, " + %zu more...", count - max);
    cn_tbl_add_own(cells, cn_buf_detach(&b, NULL));
    cn_tbl_add_age(cells, obj, now);
}

/* --- config and identity --- */

static const cn_tbl_col configmap_cols[] = {
    CN_COL_NAME,
    CN_COL("Data", "string", "Data contains the configuration data."),
    CN_COL_AGE,
};

static void configmap_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, (int64_t)(cn_tbl_count(obj, "data") + cn_tbl_count(obj, "binaryData")));
    cn_tbl_add_age(cells, obj, now);
}

static const cn_tbl_col secret_cols[] = {
    CN_COL_NAME,
    CN_COL("Type", "string", "Used to facilitate programmatic handling of secret data."),
    CN_COL("Data", "string", "Data contains the secret data."),
    CN_COL_AGE,
};

static void secret_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_str(obj, "type"));
    cn_tbl_addi(cells, (int64_t)cn_tbl_count(obj, "data"));
    cn_tbl_add_age(cells, obj, now);
}

/* serviceaccounts print Name, Age (their Secrets column left upstream in 1.24). */
static const cn_tbl_col serviceaccount_cols[] = { CN_COL_NAME, CN_COL_AGE };

static void name_age(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_age(cells, obj, now);
}

/* --- events --- */

static const cn_tbl_col event_cols[] = {
    CN_COL("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
    CN_COL("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
    CN_COL("Reason", "string", "This should be a short, machine understandable string that gives the "
                               "reason for the transition into the object's current status."),
    CN_COL("Object", "string", "The object that this event is about."),
    CN_COL_WIDE("Subobject", "string", "If referring to a piece of an object instead of an entire object, "
                                       "this string should contain a valid JSON/Go field access statement."),
    CN_COL_WIDE("Source", "string", "The component reporting this event."),
    CN_COL("Message", "string", "A human-readable description of the status of this operation."),
    CN_COL_WIDE("First Seen", "string", "The time at which the event was first recorded."),
    CN_COL_WIDE("Count", "string", "The number of times this event has occurred."),
    { "Name", "string", "name", CN_TBL_DESC_NAME, 1 },
};

static char *trim_dup(const char *s)
{
    if (!s) return cn_strdup("");
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f') s++;
    size_t n = strlen(s);
    while (n && strchr(" \t\n\r\v\f", s[n - 1])) n--;
    return cn_strndup(s, n);
}

static void event_cells(const json_t *obj, int64_t now, json_t *cells)
{
    char first[32], lastb[32];
    const char *ft = cn_tbl_str(obj, "firstTimestamp"), *lt = cn_tbl_str(obj, "lastTimestamp");
    cn_tbl_since(nonempty(ft) ? ft : cn_tbl_str(obj, "eventTime"), now, first);
    if (nonempty(lt)) cn_tbl_since(lt, now, lastb);
    else memcpy(lastb, first, sizeof(lastb));
    int64_t count = cn_tbl_int(obj, "count", 0);
    const json_t *series = json_object_get(obj, "series");
    if (json_is_object(series)) {
        cn_tbl_since(cn_tbl_str(series, "lastObservedTime"), now, lastb);
        count = cn_tbl_int(series, "count", 0);
    } else if (count == 0) {
        count = 1;      /* singleton events of the events.k8s.io API carry no count */
    }

    const char *kind = cn_tbl_str(obj, "involvedObject.kind"), *iname = cn_tbl_str(obj, "involvedObject.name");
    char *lkind = cn_strdup(kind ? kind : "");
    for (char *p = lkind; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    char *target = nonempty(iname) ? cn_asprintf("%s/%s", lkind, iname) : cn_strdup(lkind);
    free(lkind);

    const char *comp = cn_tbl_str(obj, "source.component"), *host = cn_tbl_str(obj, "source.host");
    if (!nonempty(comp)) comp = cn_tbl_str(obj, "reportingComponent");
    if (!nonempty(host)) host = cn_tbl_str(obj, "reportingInstance");
    char *source = nonempty(host) ? cn_asprintf("%s, %s", comp ? comp : "", host) : cn_strdup(comp ? comp : "");

    cn_tbl_adds(cells, lastb);
    cn_tbl_adds(cells, cn_tbl_str(obj, "type"));
    cn_tbl_adds(cells, cn_tbl_str(obj, "reason"));
    cn_tbl_add_own(cells, target);
    cn_tbl_adds(cells, cn_tbl_str(obj, "involvedObject.fieldPath"));
    cn_tbl_add_own(cells, source);
    cn_tbl_add_own(cells, trim_dup(cn_tbl_str(obj, "message")));
    cn_tbl_adds(cells, first);
    cn_tbl_addi(cells, count);
    cn_tbl_adds(cells, NAME(obj));
}

/* --- volumes --- */

static char *access_modes(const json_t *modes)
{
    static const struct { const char *mode, *abbr; } m[] = {
        { "ReadWriteOnce", "RWO" }, { "ReadOnlyMany", "ROX" },
        { "ReadWriteMany", "RWX" }, { "ReadWriteOncePod", "RWOP" },
    };
    cn_buf b;
    cn_buf_init(&b);
    for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
        size_t i;
        json_t *v;
        json_array_foreach(modes, i, v) {
            if (streq(json_string_value(v), m[k].mode)) {
                if (b.len) cn_buf_addc(&b, ',');
                cn_buf_adds(&b, m[k].abbr);
                break;
            }
        }
    }
    return cn_buf_detach(&b, NULL);
}

/* Beta annotation first, then spec.storageClassName. */
static const char *storage_class(const json_t *obj)
{
    const char *a = json_string_value(json_object_get(cn_tbl_get(obj, "metadata.annotations"),
                                                      "volume.beta.kubernetes.io/storage-class"));
    if (a) return a;
    const char *s = cn_tbl_str(obj, "spec.storageClassName");
    return s ? s : "";
}

static const char *quantity(const json_t *obj, const char *path)
{
    const json_t *q = cn_tbl_get(obj, path);
    if (json_is_string(q)) return json_string_value(q);
    return "0";     /* a zero Quantity prints as 0 */
}

static const cn_tbl_col pv_cols[] = {
    CN_COL_NAME,
    CN_COL("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity."),
    CN_COL("Access Modes", "string", "accessModes contains all ways the volume can be mounted."),
    CN_COL("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent "
                                       "volume when released from its claim."),
    CN_COL("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim."),
    CN_COL("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and "
                              "PersistentVolumeClaim."),
    CN_COL("StorageClass", "string", "StorageClass of the pv"),
    CN_COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    CN_COL("Reason", "string", "reason is a brief CamelCase string that describes any failure."),
    CN_COL_AGE,
    CN_COL_WIDE("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a "
                                        "formatted filesystem or to remain in raw block state."),
};

static void pv_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *claim = cn_tbl_get(obj, "spec.claimRef");
    const char *vac = cn_tbl_str(obj, "spec.volumeAttributesClassName");
    const char *mode = cn_tbl_str(obj, "spec.volumeMode");
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, quantity(obj, "spec.capacity.storage"));
    cn_tbl_add_own(cells, access_modes(cn_tbl_get(obj, "spec.accessModes")));
    cn_tbl_adds(cells, cn_tbl_str(obj, "spec.persistentVolumeReclaimPolicy"));
    cn_tbl_adds(cells, cn_tbl_deleting(obj) ? "Terminating" : cn_tbl_str(obj, "status.phase"));
    if (json_is_object(claim)) {
        const char *ns = cn_tbl_str(claim, "namespace"), *n = cn_tbl_str(claim, "name");
        cn_tbl_add_own(cells, cn_asprintf("%s/%s", ns ? ns : "", n ? n : ""));
    } else {
        cn_tbl_adds(cells, "");
    }
    cn_tbl_adds(cells, storage_class(obj));
    cn_tbl_adds(cells, vac ? vac : "<unset>");
    cn_tbl_adds(cells, cn_tbl_str(obj, "status.reason"));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_adds(cells, mode ? mode : "<unset>");
}

static const cn_tbl_col pvc_cols[] = {
    CN_COL_NAME,
    CN_COL("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
    CN_COL("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim."),
    CN_COL("Capacity", "string", "capacity represents the actual resources of the underlying volume."),
    CN_COL("Access Modes", "string", "accessModes contains the actual access modes the volume backing the PVC has."),
    CN_COL("StorageClass", "string", "StorageClass of the pvc"),
    CN_COL("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    CN_COL_AGE,
    CN_COL_WIDE("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim."),
};

static void pvc_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const char *vol = cn_tbl_str(obj, "spec.volumeName");
    const char *vac = cn_tbl_str(obj, "spec.volumeAttributesClassName");
    const char *mode = cn_tbl_str(obj, "spec.volumeMode");
    bool bound = nonempty(vol);
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_adds(cells, cn_tbl_deleting(obj) ? "Terminating" : cn_tbl_str(obj, "status.phase"));
    cn_tbl_adds(cells, vol);
    cn_tbl_adds(cells, bound ? quantity(obj, "status.capacity.storage") : "");
    if (bound) cn_tbl_add_own(cells, access_modes(cn_tbl_get(obj, "status.accessModes")));
    else cn_tbl_adds(cells, "");
    cn_tbl_adds(cells, storage_class(obj));
    cn_tbl_adds(cells, vac ? vac : "<unset>");
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_adds(cells, mode ? mode : "<unset>");
}

/* --- quotas --- */

static const cn_tbl_col quota_cols[] = {
    CN_COL_NAME,
    CN_COL("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    CN_COL("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use "
                              "independent of contention on the node."),
    CN_COL_AGE,
};

static void quota_cells(const json_t *obj, int64_t now, json_t *cells)
{
    const json_t *hard = cn_tbl_get(obj, "status.hard"), *used = cn_tbl_get(obj, "status.used");
    size_t n = json_is_object(hard) ? json_object_size(hard) : 0, i = 0;
    const char **names = cn_calloc(n ? n : 1, sizeof(*names));
    const char *k;
    json_t *v;
    if (n) json_object_foreach((json_t *)hard, k, v) names[i++] = k;
    cn_tbl_sort_strs(names, n);
    cn_buf req, lim;
    cn_buf_init(&req);
    cn_buf_init(&lim);
    for (i = 0; i < n; i++) {
        cn_buf *w = cn_str_has_prefix(names[i], "limits.") ? &lim : &req;
        const char *u = json_string_value(json_object_get(used, names[i]));
        const char *h = json_string_value(json_object_get(hard, names[i]));
        cn_buf_addf(w, "%s%s: %s/%s", w->len ? ", " : "", names[i], u ? u : "0", h ? h : "0");
    }
    free(names);
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_own(cells, cn_buf_detach(&req, NULL));
    cn_tbl_add_own(cells, cn_buf_detach(&lim, NULL));
    cn_tbl_add_age(cells, obj, now);
}

/* --- replication controllers, pod templates --- */

static const cn_tbl_col rc_cols[] = {
    CN_COL_NAME,
    CN_COL("Desired", "integer", "Replicas is the number of desired replicas."),
    CN_COL("Current", "integer", "Replicas is the most recently observed number of replicas."),
    CN_COL("Ready", "integer", "The number of ready replicas for this replication controller."),
    CN_COL_AGE,
    CN_COL_WIDE("Containers", "string", "Names of each container in the template."),
    CN_COL_WIDE("Images", "string", "Images referenced by each container in the template."),
    CN_COL_WIDE("Selector", "string", "Selector is a label query over pods that should match the Replicas count."),
};

static void rc_cells(const json_t *obj, int64_t now, json_t *cells)
{
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_addi(cells, cn_tbl_int(obj, "spec.replicas", 0));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.replicas", 0));
    cn_tbl_addi(cells, cn_tbl_int(obj, "status.readyReplicas", 0));
    cn_tbl_add_age(cells, obj, now);
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "spec.template.spec"));
    cn_tbl_add_own(cells, cn_tbl_labels(cn_tbl_get(obj, "spec.selector")));
}

static const cn_tbl_col podtemplate_cols[] = {
    CN_COL_NAME,
    CN_COL("Containers", "string", "Names of each container in the template."),
    CN_COL("Images", "string", "Images referenced by each container in the template."),
    CN_COL("Pod Labels", "string", "The labels for the pod template."),
};

static void podtemplate_cells(const json_t *obj, int64_t now, json_t *cells)
{
    (void)now;
    cn_tbl_adds(cells, NAME(obj));
    cn_tbl_add_containers(cells, cn_tbl_get(obj, "template.spec"));
    cn_tbl_add_own(cells, cn_tbl_labels(cn_tbl_get(obj, "template.metadata.labels")));
}

const cn_tbl_kind cn_tbl_core_kinds[] = {
    CN_TBL_KIND("", "pods", pod_cols, pod_cells),
    CN_TBL_KIND("", "namespaces", namespace_cols, namespace_cells),
    CN_TBL_KIND("", "nodes", node_cols, node_cells),
    CN_TBL_KIND("", "services", service_cols, service_cells),
    CN_TBL_KIND("", "endpoints", endpoints_cols, endpoints_cells),
    CN_TBL_KIND("", "configmaps", configmap_cols, configmap_cells),
    CN_TBL_KIND("", "secrets", secret_cols, secret_cells),
    CN_TBL_KIND("", "serviceaccounts", serviceaccount_cols, name_age),
    CN_TBL_KIND("", "events", event_cols, event_cells),
    CN_TBL_KIND("", "persistentvolumes", pv_cols, pv_cells),
    CN_TBL_KIND("", "persistentvolumeclaims", pvc_cols, pvc_cells),
    CN_TBL_KIND("", "resourcequotas", quota_cols, quota_cells),
    CN_TBL_KIND("", "replicationcontrollers", rc_cols, rc_cells),
    CN_TBL_KIND("", "podtemplates", podtemplate_cols, podtemplate_cells),
};
const size_t cn_tbl_core_nkinds = sizeof(cn_tbl_core_kinds) / sizeof(cn_tbl_core_kinds[0]);
