/* test_sim: the node simulator's pure parts — flag parsing, names and
 * addresses, the Node/Lease/pod-status documents, restart rules and the
 * timer heap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sim.h"
#include "agent/timerheap.h"
#include "client/client.h"
#include "lib/util.h"
#include "test.h"

static void test_duration(void)
{
    int64_t ms;
    CHECK(cn_sim_parse_duration("1s", &ms) == 0 && ms == 1000);
    CHECK(cn_sim_parse_duration("10", &ms) == 0 && ms == 10000);
    CHECK(cn_sim_parse_duration("1.5s", &ms) == 0 && ms == 1500);
    CHECK(cn_sim_parse_duration("300ms", &ms) == 0 && ms == 300);
    CHECK(cn_sim_parse_duration("2m", &ms) == 0 && ms == 120000);
    CHECK(cn_sim_parse_duration("1h", &ms) == 0 && ms == 3600000);
    CHECK(cn_sim_parse_duration("0s", &ms) == 0 && ms == 0);
    CHECK(cn_sim_parse_duration("0.25", &ms) == 0 && ms == 250);
    CHECK(cn_sim_parse_duration("", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration("s", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration("-1s", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration("1.s", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration("1d", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration("10000h", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration("99999999999", &ms) == -EINVAL);
    CHECK(cn_sim_parse_duration(NULL, &ms) == -EINVAL);
}

static void test_quantity(void)
{
    CHECK(cn_sim_quantity_ok("32"));
    CHECK(cn_sim_quantity_ok("250m"));
    CHECK(cn_sim_quantity_ok("256Gi"));
    CHECK(cn_sim_quantity_ok("1.5Ti"));
    CHECK(cn_sim_quantity_ok("1e3"));
    CHECK(cn_sim_quantity_ok("110"));
    CHECK(!cn_sim_quantity_ok(""));
    CHECK(!cn_sim_quantity_ok("Gi"));
    CHECK(!cn_sim_quantity_ok("12GB"));
    CHECK(!cn_sim_quantity_ok("1e"));
    CHECK(!cn_sim_quantity_ok("abc"));
}

static void test_kv_taint(void)
{
    char a[] = "nvidia.com/gpu=4", b[] = "novalue", c[] = "=x";
    cn_sim_kv kv;
    CHECK(cn_sim_parse_kv(a, &kv));
    CHECK_STR(kv.key, "nvidia.com/gpu");
    CHECK_STR(kv.value, "4");
    CHECK(!cn_sim_parse_kv(b, &kv));
    CHECK(!cn_sim_parse_kv(c, &kv));

    cn_sim_taint t;
    CHECK(cn_sim_parse_taint("dedicated=gpu:NoSchedule", &t) == 0);
    CHECK_STR(t.key, "dedicated");
    CHECK_STR(t.value, "gpu");
    CHECK_STR(t.effect, "NoSchedule");
    cn_sim_taint_release(&t);
    CHECK(cn_sim_parse_taint("example.com/x:NoExecute", &t) == 0);
    CHECK_STR(t.key, "example.com/x");
    CHECK_STR(t.value, "");
    CHECK_STR(t.effect, "NoExecute");
    cn_sim_taint_release(&t);
    CHECK(cn_sim_parse_taint("k=v", &t) == -EINVAL);
    CHECK(cn_sim_parse_taint("k=v:Sometimes", &t) == -EINVAL);
    CHECK(cn_sim_parse_taint(":NoSchedule", &t) == -EINVAL);
    CHECK(cn_sim_parse_taint("=v:NoSchedule", &t) == -EINVAL);
}

static cn_sim_config base_config(void)
{
    return (cn_sim_config){ .nodes = 10, .prefix = "sim-", .cpu = "32", .memory = "256Gi", .pods = "110",
                            .ephemeral = "1Ti", .zones = 3, .hosts = 4, .lease_duration_s = 40 };
}

static void test_names(void)
{
    cn_sim_config cfg = base_config();
    char *n = cn_sim_node_name(&cfg, 7);
    CHECK_STR(n, "sim-0007");
    free(n);
    CHECK_INT(cn_sim_node_index(&cfg, "sim-0007"), 7);
    CHECK_INT(cn_sim_node_index(&cfg, "sim-0010"), -1);     /* beyond --nodes */
    CHECK_INT(cn_sim_node_index(&cfg, "sim-007"), -1);
    CHECK_INT(cn_sim_node_index(&cfg, "sim-00a7"), -1);
    CHECK_INT(cn_sim_node_index(&cfg, "other-0001"), -1);
    CHECK_INT(cn_sim_node_index(&cfg, NULL), -1);
    cfg.first_index = 20000;
    cfg.nodes = 5000;
    n = cn_sim_node_name(&cfg, 42);
    CHECK_STR(n, "sim-20042");
    free(n);
    CHECK_INT(cn_sim_node_index(&cfg, "sim-20042"), 42);
    CHECK_INT(cn_sim_node_index(&cfg, "sim-0042"), -1);
    CHECK_INT(cn_sim_node_index(&cfg, "sim-020042"), -1);

    char ip[16], cidr[20];
    cn_sim_node_ip(0, ip);
    CHECK_STR(ip, "10.1.0.1");
    cn_sim_node_ip(300, ip);
    CHECK_STR(ip, "10.1.1.47");
    cn_sim_pod_cidr(5, cidr);
    CHECK_STR(cidr, "10.42.5.0/24");
    cn_sim_pod_cidr(4999, cidr);
    CHECK_STR(cidr, "10.61.135.0/24");
    cn_sim_pod_ip(5, 2, ip);
    CHECK_STR(ip, "10.42.5.2");
}

static void test_node_object(void)
{
    cn_sim_config cfg = base_config();
    cn_sim_kv ext[] = { { "nvidia.com/gpu", "4" } };
    cn_sim_kv lab[] = { { "tier", "gold" } };
    cn_sim_taint taint;
    CHECK(cn_sim_parse_taint("dedicated=gpu:NoSchedule", &taint) == 0);
    cfg.extended = ext;
    cfg.nextended = 1;
    cfg.labels = lab;
    cfg.nlabels = 1;
    cfg.taints = &taint;
    cfg.ntaints = 1;
    json_t *n = cn_sim_node_object(&cfg, 4, 1700000000);
    CHECK_STR(cn_json_str_at(n, "metadata.name"), "sim-0004");
    json_t *labels = json_object_get(json_object_get(n, "metadata"), "labels");
    CHECK_STR(json_string_value(json_object_get(labels, "kubernetes.io/hostname")), "sim-0004");
    CHECK_STR(json_string_value(json_object_get(labels, "topology.kubernetes.io/zone")), "zone-1");
    CHECK_STR(json_string_value(json_object_get(labels, "cairn.io/host")), "host-1");   /* 3 per host */
    CHECK_STR(json_string_value(json_object_get(labels, "node.kubernetes.io/instance-type")), "simulated");
    CHECK_STR(json_string_value(json_object_get(labels, "tier")), "gold");
    CHECK_STR(cn_json_str_at(n, "spec.podCIDR"), "10.42.4.0/24");
    json_t *t = json_array_get(json_object_get(json_object_get(n, "spec"), "taints"), 0);
    CHECK_STR(json_string_value(json_object_get(t, "key")), "dedicated");
    CHECK_STR(json_string_value(json_object_get(t, "effect")), "NoSchedule");
    json_t *st = json_object_get(n, "status");
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "capacity"), "cpu")), "32");
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "allocatable"), "nvidia.com/gpu")), "4");
    CHECK_STR(cn_json_str_at(st, "nodeInfo.kubeletVersion"), CN_SIM_KUBELET_VERSION);
    json_t *ready = json_array_get(json_object_get(st, "conditions"), 3);
    CHECK_STR(json_string_value(json_object_get(ready, "type")), "Ready");
    CHECK_STR(json_string_value(json_object_get(ready, "status")), "True");
    CHECK_STR(json_string_value(json_object_get(ready, "reason")), "KubeletReady");
    json_t *addr = json_array_get(json_object_get(st, "addresses"), 0);
    CHECK_STR(json_string_value(json_object_get(addr, "address")), "10.1.0.5");
    json_decref(n);
    cn_sim_taint_release(&taint);

    json_t *l = cn_sim_lease_object("sim-0004", "u-1", 40, 1700000000123LL);
    CHECK_STR(cn_json_str_at(l, "metadata.namespace"), "kube-node-lease");
    CHECK_STR(cn_json_str_at(l, "spec.holderIdentity"), "sim-0004");
    CHECK_STR(cn_json_str_at(l, "spec.renewTime"), "2023-11-14T22:13:20.123000Z");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(l, "spec"), "leaseDurationSeconds")), 40);
    json_t *owner = json_array_get(json_object_get(json_object_get(l, "metadata"), "ownerReferences"), 0);
    CHECK_STR(json_string_value(json_object_get(owner, "uid")), "u-1");
    json_decref(l);
}

static const char *cond_status(const json_t *status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
        if (!strcmp(cn_json_str_at(c, "type"), type)) return cn_json_str_at(c, "status");
    return NULL;
}

static void test_pod_status(void)
{
    json_t *pod = json_loads("{\"metadata\":{\"name\":\"p\",\"uid\":\"U1\"},\"spec\":{\"restartPolicy\":\"Never\","
                             "\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\"}],"
                             "\"containers\":[{\"name\":\"a\",\"image\":\"nginx:1\"},{\"name\":\"b\",\"image\":\"redis\"}]}}",
                             0, NULL);
    cn_sim_pod_state st = { .phase = CN_SIM_RUNNING, .start_s = 1700000000, .running_s = 1700000000,
                            .host_ip = "10.1.0.1", .pod_ip = "10.42.0.2" };
    json_t *s = cn_sim_pod_status(pod, &st);
    CHECK_STR(cn_json_str_at(s, "phase"), "Running");
    CHECK_STR(cn_json_str_at(s, "podIP"), "10.42.0.2");
    CHECK_STR(cn_json_str_at(s, "hostIP"), "10.1.0.1");
    CHECK_STR(cn_json_str_at(s, "startTime"), "2023-11-14T22:13:20Z");
    CHECK_STR(cond_status(s, "Ready"), "True");
    CHECK_STR(cond_status(s, "ContainersReady"), "True");
    CHECK_STR(cond_status(s, "Initialized"), "True");
    CHECK_STR(cond_status(s, "PodScheduled"), "True");
    CHECK_STR(cond_status(s, "PodReadyToStartContainers"), "True");
    json_t *cs = json_object_get(s, "containerStatuses");
    CHECK_INT(json_array_size(cs), 2);
    CHECK_STR(cn_json_str_at(json_array_get(cs, 1), "containerID"), "sim://U1/b");
    CHECK_STR(cn_json_str_at(json_array_get(cs, 1), "state.running.startedAt"), "2023-11-14T22:13:20Z");
    CHECK(json_is_true(json_object_get(json_array_get(cs, 0), "ready")));
    CHECK_STR(cn_json_str_at(json_array_get(json_object_get(s, "initContainerStatuses"), 0), "state.terminated.reason"),
              "Completed");
    json_decref(s);

    st.phase = CN_SIM_FAILED;
    st.exit_code = 3;
    st.finished_s = 1700000010;
    s = cn_sim_pod_status(pod, &st);
    CHECK_STR(cn_json_str_at(s, "phase"), "Failed");
    CHECK_STR(cond_status(s, "Ready"), "False");
    json_t *c0 = json_array_get(json_object_get(s, "containerStatuses"), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(c0, "state"), "terminated"), "exitCode")), 3);
    CHECK_STR(cn_json_str_at(c0, "state.terminated.reason"), "Error");
    CHECK(json_is_false(json_object_get(c0, "ready")));
    json_decref(s);

    st.phase = CN_SIM_RUNNING;
    st.restarts = 2;
    s = cn_sim_pod_status(pod, &st);
    c0 = json_array_get(json_object_get(s, "containerStatuses"), 0);
    CHECK_INT(json_integer_value(json_object_get(c0, "restartCount")), 2);
    CHECK_STR(cn_json_str_at(c0, "lastState.terminated.finishedAt"), "2023-11-14T22:13:30Z");
    json_decref(s);
    json_decref(pod);

    CHECK(cn_sim_restarts("Always", 0));
    CHECK(cn_sim_restarts(NULL, 0));
    CHECK(cn_sim_restarts("OnFailure", 1));
    CHECK(!cn_sim_restarts("OnFailure", 0));
    CHECK(!cn_sim_restarts("Never", 1));
    CHECK(!cn_sim_restarts("Never", 0));
}

static void test_timerheap(void)
{
    cn_timerheap h;
    cn_timer t;
    cn_timerheap_init(&h);
    CHECK(cn_timerheap_next(&h) == INT64_MAX);
    CHECK(!cn_timerheap_pop_due(&h, 1000, &t));
    /* Pseudo-random due times come out sorted; equal ones in insertion order. */
    unsigned x = 12345;
    for (int i = 0; i < 1000; i++) {
        x = x * 1103515245 + 12345;
        cn_timerheap_push(&h, (x >> 8) % 500, 1, i, 0, NULL);
    }
    cn_timerheap_push(&h, 100, 2, -1, 1, "first");
    cn_timerheap_push(&h, 100, 2, -1, 2, "second");
    CHECK_INT(cn_timerheap_len(&h), 1002);
    CHECK(!cn_timerheap_pop_due(&h, -1, &t));
    int64_t last = -1;
    int seen = 0, order = 0;
    bool sorted = true;
    while (cn_timerheap_pop_due(&h, 10000, &t)) {
        if (t.due_ms < last) sorted = false;
        last = t.due_ms;
        if (t.kind == 2) {
            order = order * 10 + (int)t.gen;
            free(t.key);
        }
        seen++;
    }
    CHECK(sorted);
    CHECK_INT(seen, 1002);
    CHECK_INT(order, 12);
    /* Not due yet stays; release frees queued keys. */
    cn_timerheap_push(&h, 50, 0, 0, 0, "k");
    CHECK(!cn_timerheap_pop_due(&h, 49, &t));
    CHECK_INT(cn_timerheap_next(&h), 50);
    cn_timerheap_release(&h);
}

int main(void)
{
    TEST_RUN(test_duration);
    TEST_RUN(test_quantity);
    TEST_RUN(test_kv_taint);
    TEST_RUN(test_names);
    TEST_RUN(test_node_object);
    TEST_RUN(test_pod_status);
    TEST_RUN(test_timerheap);
    return TEST_DONE();
}
