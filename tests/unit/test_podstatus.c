/* Unit tests for the kubelet's pod status (src/agent/podstatus.c): phase
 * rules, container states and reasons, conditions, restart policy. */
#include <stdlib.h>
#include <string.h>

#include "agent/kubelet-internal.h"
#include "lib/util.h"
#include "test.h"

static json_t *pod_json(const char *policy, int ninit, int nctrs)
{
    json_t *spec = json_pack("{s:s,s:[],s:[]}", "restartPolicy", policy, "initContainers", "containers");
    for (int i = 0; i < ninit; i++)
        json_array_append_new(json_object_get(spec, "initContainers"),
                              json_pack("{s:o,s:s}", "name", json_sprintf("init%d", i), "image", "busybox:1"));
    for (int i = 0; i < nctrs; i++)
        json_array_append_new(json_object_get(spec, "containers"),
                              json_pack("{s:o,s:s}", "name", json_sprintf("c%d", i), "image", "busybox:1"));
    return json_pack("{s:{s:s,s:s,s:s},s:o}", "metadata", "name", "p", "namespace", "default", "uid",
                     "0000-1111", "spec", spec);
}

static kl_pod *mk(const char *policy, int ninit, int nctrs)
{
    kl_pod *p = cn_calloc(1, sizeof *p);
    p->pod = pod_json(policy, ninit, nctrs);
    p->ninit = (size_t)ninit;
    p->nctrs = (size_t)(ninit + nctrs);
    p->ctrs = cn_calloc(p->nctrs, sizeof *p->ctrs);
    for (size_t i = 0; i < p->nctrs; i++) {
        p->ctrs[i].init = i < p->ninit;
        p->ctrs[i].name = i < p->ninit ? cn_asprintf("init%zu", i) : cn_asprintf("c%zu", i - p->ninit);
    }
    p->uid = cn_strdup("0000-1111");
    p->ns = cn_strdup("default");
    p->name = cn_strdup("p");
    p->key = cn_strdup("default/p");
    return p;
}

static void running(kl_ctr *c, bool ready)
{
    c->created = c->have_st = true;
    free(c->id);
    c->id = cn_strdup("x_c_0");
    c->st.state = CN_CTR_RUNNING;
    c->st.started_ms = 1700000000000;
    c->ready = ready;
    c->started = true;
}

static void exited(kl_ctr *c, int code, bool oom)
{
    c->created = c->have_st = true;
    free(c->id);
    c->id = cn_strdup("x_c_0");
    c->st.state = CN_CTR_EXITED;
    c->st.exit_code = code;
    c->st.oom_killed = oom;
    c->st.started_ms = 1700000000000;
    c->st.finished_ms = 1700000001000;
}

static const json_t *cond(const json_t *st, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(st, "conditions"), i, c)
        if (!strcmp(json_string_value(json_object_get(c, "type")), type)) return c;
    return NULL;
}

static const char *cs_at(const json_t *st, const char *list, size_t i, const char *dotted)
{
    return cn_json_str_at(json_array_get(json_object_get(st, list), i), dotted);
}

static void test_pending_then_running(void)
{
    kl_pod *p = mk("Always", 0, 2);
    CHECK_STR(cn_kl_pod_phase(p), "Pending");
    json_t *st = cn_kl_pod_status(p, "10.0.0.1", 0);
    CHECK_STR(cs_at(st, "containerStatuses", 0, "state.waiting.reason"), "ContainerCreating");
    CHECK_STR(cn_json_str_at(cond(st, "Ready"), "status"), "False");
    CHECK_STR(cn_json_str_at(cond(st, "Ready"), "message"), "containers with unready status: [c0 c1]");
    CHECK_STR(cn_json_str_at(st, "hostIP"), "10.0.0.1");
    CHECK(!json_object_get(st, "podIP"));
    json_decref(st);

    running(&p->ctrs[0], true);
    running(&p->ctrs[1], false);
    strcpy(p->ip, "10.244.1.5");
    p->net_ok = true;
    CHECK_STR(cn_kl_pod_phase(p), "Running");
    st = cn_kl_pod_status(p, "10.0.0.1", 0);
    CHECK_STR(cn_json_str_at(st, "podIP"), "10.244.1.5");
    CHECK_STR(cn_json_str_at(json_array_get(json_object_get(st, "podIPs"), 0), "ip"), "10.244.1.5");
    CHECK(json_object_get(json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0), "state"), "running"));
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0), "ready")));
    CHECK(json_is_false(json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 1), "ready")));
    CHECK_STR(cn_json_str_at(cond(st, "Ready"), "status"), "False");
    CHECK_STR(cn_json_str_at(cond(st, "PodReadyToStartContainers"), "status"), "True");
    /* Transition times stay put while a condition keeps its value. */
    json_t *c = (json_t *)cond(st, "Ready");
    json_object_set_new(c, "lastTransitionTime", json_string("2020-01-01T00:00:00Z"));
    p->last_status = st;
    json_t *st2 = cn_kl_pod_status(p, "10.0.0.1", 0);
    CHECK_STR(cn_json_str_at(cond(st2, "Ready"), "lastTransitionTime"), "2020-01-01T00:00:00Z");
    json_decref(st2);
    p->ctrs[1].ready = true;
    st2 = cn_kl_pod_status(p, "10.0.0.1", 0);
    CHECK_STR(cn_json_str_at(cond(st2, "Ready"), "status"), "True");
    CHECK(strcmp(cn_json_str_at(cond(st2, "Ready"), "lastTransitionTime"), "2020-01-01T00:00:00Z") != 0);
    json_decref(st2);
    cn_kl_pod_free(p);
}

static void test_phases_by_policy(void)
{
    kl_pod *p = mk("Never", 0, 2);
    exited(&p->ctrs[0], 0, false);
    exited(&p->ctrs[1], 0, false);
    CHECK_STR(cn_kl_pod_phase(p), "Succeeded");
    exited(&p->ctrs[1], 2, false);
    CHECK_STR(cn_kl_pod_phase(p), "Failed");
    running(&p->ctrs[1], true);
    CHECK_STR(cn_kl_pod_phase(p), "Running");
    cn_kl_pod_free(p);

    p = mk("OnFailure", 0, 1);
    exited(&p->ctrs[0], 1, false);
    CHECK_STR(cn_kl_pod_phase(p), "Running");
    exited(&p->ctrs[0], 0, false);
    CHECK_STR(cn_kl_pod_phase(p), "Succeeded");
    cn_kl_pod_free(p);

    p = mk("Always", 0, 1);
    exited(&p->ctrs[0], 0, false);
    CHECK_STR(cn_kl_pod_phase(p), "Running");
    cn_kl_pod_free(p);

    CHECK(cn_kl_should_restart("Always", 0));
    CHECK(cn_kl_should_restart("OnFailure", 1));
    CHECK(!cn_kl_should_restart("OnFailure", 0));
    CHECK(!cn_kl_should_restart("Never", 1));
}

static void test_terminated_reasons(void)
{
    kl_pod *p = mk("Never", 0, 3);
    exited(&p->ctrs[0], 137, true);
    exited(&p->ctrs[1], 3, false);
    exited(&p->ctrs[2], 128, false);
    p->ctrs[2].st.message = cn_strdup("exec: \"nope\": executable file not found in $PATH");
    json_t *st = cn_kl_pod_status(p, "10.0.0.1", 0);
    CHECK_STR(cs_at(st, "containerStatuses", 0, "state.terminated.reason"), "OOMKilled");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(
        json_array_get(json_object_get(st, "containerStatuses"), 0), "state"), "terminated"), "exitCode")), 137);
    CHECK_STR(cs_at(st, "containerStatuses", 1, "state.terminated.reason"), "Error");
    CHECK_STR(cs_at(st, "containerStatuses", 2, "state.terminated.reason"), "StartError");
    CHECK_STR(cs_at(st, "containerStatuses", 2, "state.terminated.message"),
              "exec: \"nope\": executable file not found in $PATH");
    CHECK_STR(cs_at(st, "containerStatuses", 1, "containerID"), "cairn://x_c_0");
    CHECK_STR(cn_json_str_at(st, "phase"), "Failed");
    CHECK_STR(cn_json_str_at(cond(st, "Ready"), "reason"), "PodCompleted");
    json_decref(st);
    cn_kl_pod_free(p);
}

static void test_crash_loop(void)
{
    kl_pod *p = mk("Always", 0, 1);
    kl_ctr *c = &p->ctrs[0];
    /* Ended, waiting out its back-off: waiting + lastState + restarts. */
    c->have_last = true;
    c->last.state = CN_CTR_EXITED;
    c->last.exit_code = 1;
    c->last.finished_ms = 1700000001000;
    c->id = cn_strdup("x_c_2");
    c->restarts = 2;
    c->reason = cn_strdup("CrashLoopBackOff");
    c->message = cn_strdup("back-off 20s restarting failed container=c0 pod=p_default(0000-1111)");
    CHECK_STR(cn_kl_pod_phase(p), "Running");
    json_t *st = cn_kl_pod_status(p, NULL, 0);
    CHECK_STR(cs_at(st, "containerStatuses", 0, "state.waiting.reason"), "CrashLoopBackOff");
    CHECK_STR(cs_at(st, "containerStatuses", 0, "lastState.terminated.reason"), "Error");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(st, "containerStatuses"), 0),
                                                 "restartCount")), 2);
    CHECK(!json_object_get(st, "hostIP"));
    json_decref(st);
    cn_kl_pod_free(p);
}

static void test_init_containers(void)
{
    kl_pod *p = mk("Always", 2, 1);
    CHECK_STR(cn_kl_pod_phase(p), "Pending");
    exited(&p->ctrs[0], 0, false);
    running(&p->ctrs[1], false);
    p->ctrs[2].reason = cn_strdup("PodInitializing");
    json_t *st = cn_kl_pod_status(p, NULL, 0);
    CHECK_STR(cn_json_str_at(st, "phase"), "Pending");
    CHECK_STR(cn_json_str_at(cond(st, "Initialized"), "status"), "False");
    CHECK_STR(cn_json_str_at(cond(st, "Initialized"), "message"), "containers with incomplete status: [init1]");
    CHECK_STR(cs_at(st, "initContainerStatuses", 0, "state.terminated.reason"), "Completed");
    CHECK_STR(cs_at(st, "containerStatuses", 0, "state.waiting.reason"), "PodInitializing");
    json_decref(st);
    exited(&p->ctrs[1], 0, false);
    running(&p->ctrs[2], true);
    st = cn_kl_pod_status(p, NULL, 0);
    CHECK_STR(cn_json_str_at(st, "phase"), "Running");
    CHECK_STR(cn_json_str_at(cond(st, "Initialized"), "status"), "True");
    CHECK_STR(cn_json_str_at(cond(st, "Ready"), "status"), "True");
    json_decref(st);
    cn_kl_pod_free(p);

    p = mk("Never", 1, 1);
    exited(&p->ctrs[0], 1, false);
    CHECK_STR(cn_kl_pod_phase(p), "Failed");
    cn_kl_pod_free(p);
}

int main(void)
{
    TEST_RUN(test_pending_then_running);
    TEST_RUN(test_phases_by_policy);
    TEST_RUN(test_terminated_reasons);
    TEST_RUN(test_crash_loop);
    TEST_RUN(test_init_containers);
    return TEST_DONE();
}
