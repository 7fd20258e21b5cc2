#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "api/auth.h"
#include "api/admission.h"
#include "test.h"

static void test_tokens(void)
{
    char path[] = "/tmp/cairn-tokens-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nt1,alice,u1,\"system:masters,devs\"\nt2,bob\n");
    fclose(f);
    cn_tokens *t = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_tokens_load(path, &t, &e) == 0);
    cn_user u = { 0 };
    CHECK(cn_tokens_lookup(t, "t1", &u) == 0);
    CHECK_STR(u.name, "alice");
    CHECK_INT(u.ngroups, 2);
    CHECK(cn_user_in_group(&u, "system:masters"));
    CHECK(cn_user_in_group(&u, "devs"));
    cn_user_release(&u);
    CHECK(cn_tokens_lookup(t, "t2", &u) == 0);
    CHECK_STR(u.name, "bob");
    CHECK_INT(u.ngroups, 0);
    cn_user_release(&u);
    CHECK(cn_tokens_lookup(t, "t3", &u) == -ENOENT);
    CHECK(cn_tokens_lookup(t, "t", &u) == -ENOENT);
    cn_tokens_free(t);
    unlink(path);
}

static void test_bad_token_file(void)
{
    char path[] = "/tmp/cairn-tokens-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "lonely\n");
    fclose(f);
    cn_tokens *t = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK(cn_tokens_load(path, &t, &e) < 0);
    CHECK(e.message != NULL);
    cn_err_clear(&e);
    cn_tokens_free(t);
    unlink(path);
    CHECK(cn_tokens_load("/nonexistent/tokens", &t, &e) < 0);
    cn_err_clear(&e);
    cn_tokens_free(t);
}

static void test_bootstrap_authorizer(void)
{
    char *mg[] = { "system:masters", "system:authenticated" }, *og[] = { "system:authenticated" };
    cn_user master = { .name = "a", .groups = mg, .ngroups = 2 };
    cn_user other = { .name = "b", .groups = og, .ngroups = 1 };
    cn_authz_attrs get_pods = { .verb = "get", .group = "", .resource = "pods", .ns = "default", .resource_request = true };
    cn_authz_attrs disc = { .verb = "get", .path = "/apis" };
    cn_authz_attrs ssar = { .verb = "create", .group = "authorization.k8s.io", .resource = "selfsubjectaccessreviews", .resource_request = true };
    const char *reason = NULL;
    CHECK(cn_authorize_bootstrap(NULL, &master, &get_pods, &reason));
    CHECK(!cn_authorize_bootstrap(NULL, &other, &get_pods, &reason));
    CHECK(reason != NULL);
    CHECK(cn_authorize_bootstrap(NULL, &other, &disc, &reason));
    CHECK(cn_authorize_bootstrap(NULL, &other, &ssar, &reason));

    /* Nodes: what the kubelet does, nothing more. */
    char *ng[] = { "system:nodes", "system:authenticated" };
    cn_user node = { .name = "system:node:n1", .groups = ng, .ngroups = 2 };
    cn_authz_attrs pod_status = { .verb = "patch", .group = "", .resource = "pods", .subresource = "status", .ns = "default", .resource_request = true };
    cn_authz_attrs lease = { .verb = "update", .group = "coordination.k8s.io", .resource = "leases", .ns = "kube-node-lease", .resource_request = true };
    cn_authz_attrs other_lease = { .verb = "update", .group = "coordination.k8s.io", .resource = "leases", .ns = "kube-system", .resource_request = true };
    cn_authz_attrs create_pod = { .verb = "create", .group = "", .resource = "pods", .ns = "default", .resource_request = true };
    cn_authz_attrs del_deploy = { .verb = "delete", .group = "apps", .resource = "deployments", .ns = "default", .resource_request = true };
    cn_authz_attrs secret = { .verb = "get", .group = "", .resource = "secrets", .ns = "default", .resource_request = true };
    CHECK(cn_authorize_bootstrap(NULL, &node, &get_pods, &reason));
    CHECK(cn_authorize_bootstrap(NULL, &node, &pod_status, &reason));
    CHECK(cn_authorize_bootstrap(NULL, &node, &lease, &reason));
    CHECK(cn_authorize_bootstrap(NULL, &node, &secret, &reason));
    CHECK(!cn_authorize_bootstrap(NULL, &node, &other_lease, &reason));
    CHECK(!cn_authorize_bootstrap(NULL, &node, &create_pod, &reason));
    CHECK(!cn_authorize_bootstrap(NULL, &node, &del_deploy, &reason));
    CHECK(!cn_authorize_bootstrap(NULL, &other, &pod_status, &reason));
}

static int deny(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    (*(int *)ud)++;
    return cn_err_set(err, 403, "Forbidden", "denied");
}

static int mutate(void *ud, const cn_admit_attrs *a, json_t *obj, cn_err *err)
{
    (*(int *)ud)++;
    json_object_set_new(obj, "mutated", json_true());
    return 0;
}

static void test_admission_chain(void)
{
    cn_admission *ch = cn_admission_new();
    int nm = 0, nv = 0;
    cn_admission_add(ch, true, "m", mutate, &nm);
    cn_admission_add(ch, false, "v", deny, &nv);
    json_t *o = json_object();
    cn_admit_attrs a = { .op = CN_ADMIT_CREATE };
    cn_err e = CN_ERR_INIT;
    CHECK(cn_admission_mutate(ch, &a, o, &e) == 0);
    CHECK(json_is_true(json_object_get(o, "mutated")));
    CHECK(cn_admission_validate(ch, &a, o, &e) < 0);
    CHECK_INT(e.code, 403);
    CHECK_INT(nm, 1);
    CHECK_INT(nv, 1);
    cn_err_clear(&e);
    json_decref(o);
    cn_admission_free(ch);
}

int main(void)
{
    TEST_RUN(test_tokens);
    TEST_RUN(test_bad_token_file);
    TEST_RUN(test_bootstrap_authorizer);
    TEST_RUN(test_admission_chain);
    return TEST_DONE();
}
