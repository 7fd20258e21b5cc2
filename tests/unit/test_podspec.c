/* Tests for agent/podspec: env (every valueFrom kind and the kubelet's
 * errors), $(VAR) expansion, command/args rules, user/groups, security,
 * resources, mounts with subPath (and its escapes), /etc/hosts, and the
 * hostPath allow list. Plain files in a temp dir; no root needed. */
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/podspec-internal.h"
#include "agent/podspec.h"
#include "podspec_fake.h"
#include "lib/util.h"

static char tmpdir[64];



static const char *const service_env[] = { "KUBERNETES_SERVICE_HOST=10.96.0.1", "OVERRIDE=svc", "bogus" };

static cn_podspec_env make_env(json_t *node)
{
    cn_podspec_env env = { .fetch = fake_fetch, .node = node, .service_env = service_env, .nservice_env = 3 };
    return env;
}

static const char *env_of(const cn_podspec_ctr *c, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < c->nenv; i++)
        if (!strncmp(c->env[i], name, n) && c->env[i][n] == '=') return c->env[i] + n + 1;
    return NULL;
}

static void setup_db(void)
{
    db = J("{"
           "\"configmaps/ns/cm\": {\"data\": {\"color\": \"blue\", \"size\": \"L\"}},"
           "\"configmaps/ns/bin\": {\"binaryData\": {\"raw\": \"aGk=\"}},"
           "\"secrets/ns/sec\": {\"data\": {\"password\": \"czNjcjN0\", \"user\": \"YWRtaW4=\"}},"
           "\"secrets/ns/bad\": {\"data\": {\"k\": \"!!\"}}"
           "}");
}

static json_t *node(void)
{
    return J("{\"metadata\": {\"name\": \"n1\"}, \"status\": {\"allocatable\": "
             "{\"cpu\": \"4\", \"memory\": \"8Gi\", \"ephemeral-storage\": \"100Gi\"},"
             "\"addresses\": [{\"type\": \"InternalIP\", \"address\": \"192.168.1.10\"}]}}");
}

static json_t *pod_with(const char *ctr_json)
{
    char *s = cn_asprintf("{\"metadata\": {\"name\": \"web-1\", \"namespace\": \"ns\", \"uid\": \"u-1\","
                          "\"labels\": {\"app\": \"web\", \"tier\": \"fe\"}, \"annotations\": {\"note\": \"a \\\"q\\\"\"}},"
                          "\"spec\": {\"nodeName\": \"n1\", \"serviceAccountName\": \"sa1\", \"containers\": [%s],"
                          "\"volumes\": [{\"name\": \"data\", \"emptyDir\": {}}, {\"name\": \"cfg\", \"configMap\": {\"name\": \"cm\"}}]},"
                          "\"status\": {\"podIP\": \"10.244.1.5\", \"podIPs\": [{\"ip\": \"10.244.1.5\"}, {\"ip\": \"fd00::5\"}]}}",
                          ctr_json);
    json_t *p = J(s);
    free(s);
    return p;
}

static int container(const char *ctr_json, const cn_image *img, cn_podspec_ctr *out, cn_err *err)
{
    json_t *n = node(), *pod = pod_with(ctr_json);
    cn_podspec_env env = make_env(n);
    char *dir = cn_asprintf("%s/pod", tmpdir);
    int r = cn_podspec_container(&env, pod, json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
                                 img, dir, "10.244.1.5", out, err);
    free(dir);
    json_decref(pod);
    json_decref(n);
    return r;
}

static void test_expand(void)
{
    cn_ps_env e = { 0 };
    cn_ps_env_set(&e, "A", "x");
    cn_ps_env_set(&e, "E", "");
    static const char *const cases[][2] = {
        { "$(A)", "x" }, { "a$(A)b", "axb" }, { "$(B)", "$(B)" }, { "$$(A)", "$(A)" },
        { "$$", "$" }, { "a$", "a$" }, { "$(A", "$(A" }, { "$x", "$x" }, { "$()", "$()" },
        { "$(A)$(A)", "xx" }, { "$(E)-", "-" }, { "", "" }, { "$$$(A)", "$x" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = cn_ps_expand(cases[i][0], &e, NULL);
        CHECK_STR(got, cases[i][1]);
        free(got);
    }
    char *missing = NULL;
    char *got = cn_ps_expand("$(A)/$(E)/$(Z)", &e, &missing);
    CHECK_STR(got, "x//");
    CHECK_STR(missing, "E, Z");
    free(got);
    free(missing);
    cn_ps_env_release(&e);
}

static void test_env_sources(void)
{
    char *img_env[] = { "PATH=/img/bin", "FROM_IMAGE=1", "OVERRIDE=image" };
    cn_image img = { .env = img_env, .nenv = 3 };
    char *cmd[] = { "sh" };
    img.cmd = cmd;
    img.ncmd = 1;
    cn_podspec_ctr c = { 0 };
    cn_err err = CN_ERR_INIT;
    int r = container("{\"name\": \"app\", \"resources\": {\"limits\": {\"cpu\": \"500m\"}, \"requests\": {\"memory\": \"100Mi\"}},"
                      "\"envFrom\": [{\"configMapRef\": {\"name\": \"cm\"}, \"prefix\": \"CM_\"}, {\"secretRef\": {\"name\": \"sec\"}},"
                      "              {\"configMapRef\": {\"name\": \"nope\", \"optional\": true}}],"
                      "\"env\": [{\"name\": \"OVERRIDE\", \"value\": \"ctr\"},"
                      " {\"name\": \"REF\", \"value\": \"$(CM_color)-$(user)-$(NOPE)-$$(CM_size)\"},"
                      " {\"name\": \"COLOR\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cm\", \"key\": \"color\"}}},"
                      " {\"name\": \"RAW\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"bin\", \"key\": \"raw\"}}},"
                      " {\"name\": \"PW\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\", \"key\": \"password\"}}},"
                      " {\"name\": \"OPT\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\", \"key\": \"x\", \"optional\": true}}},"
                      " {\"name\": \"OPT2\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"gone\", \"key\": \"x\", \"optional\": true}}},"
                      " {\"name\": \"NAME\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.name\"}}},"
                      " {\"name\": \"NS\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.namespace\"}}},"
                      " {\"name\": \"UID\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.uid\"}}},"
                      " {\"name\": \"APP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.labels['app']\"}}},"
                      " {\"name\": \"NOTE\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.annotations['note']\"}}},"
                      " {\"name\": \"NODE\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"spec.nodeName\"}}},"
                      " {\"name\": \"SA\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"spec.serviceAccountName\"}}},"
                      " {\"name\": \"HOSTIP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"status.hostIP\"}}},"
                      " {\"name\": \"PODIP\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"status.podIP\"}}},"
                      " {\"name\": \"PODIPS\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"status.podIPs\"}}},"
                      " {\"name\": \"CPU_LIM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.cpu\"}}},"
                      " {\"name\": \"CPU_LIM_M\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.cpu\", \"divisor\": \"1m\"}}},"
                      " {\"name\": \"CPU_REQ\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"requests.cpu\"}}},"
                      " {\"name\": \"MEM_LIM\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.memory\", \"divisor\": \"1Mi\"}}},"
                      " {\"name\": \"MEM_REQ\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"requests.memory\", \"divisor\": \"1Gi\"}}},"
                      " {\"name\": \"EPH\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.ephemeral-storage\", \"divisor\": \"1Gi\"}}},"
                      " {\"name\": \"EMPTY\"},"
                      " {\"name\": \"API\", \"value\": \"https://$(KUBERNETES_SERVICE_HOST)/\"}]}",
                      &img, &c, &err);
    CHECK_INT(r, 0);
    if (r < 0) {
        fprintf(stderr, "error: %s\n", err.message);
        cn_err_clear(&err);
        return;
    }
    CHECK_STR(c.env[0], "PATH=/img/bin");          /* image PATH replaces the default in place */
    CHECK_STR(c.env[1], "HOSTNAME=web-1");
    CHECK_STR(env_of(&c, "FROM_IMAGE"), "1");
    CHECK_STR(env_of(&c, "OVERRIDE"), "ctr");
    CHECK_STR(env_of(&c, "CM_color"), "blue");
    CHECK_STR(env_of(&c, "CM_size"), "L");
    CHECK_STR(env_of(&c, "user"), "admin");
    CHECK_STR(env_of(&c, "password"), "s3cr3t");
    CHECK_STR(env_of(&c, "REF"), "blue-admin-$(NOPE)-$(CM_size)");
    CHECK_STR(env_of(&c, "COLOR"), "blue");
    CHECK_STR(env_of(&c, "RAW"), "hi");
    CHECK_STR(env_of(&c, "PW"), "s3cr3t");
    CHECK(env_of(&c, "OPT") == NULL);
    CHECK(env_of(&c, "OPT2") == NULL);
    CHECK_STR(env_of(&c, "NAME"), "web-1");
    CHECK_STR(env_of(&c, "NS"), "ns");
    CHECK_STR(env_of(&c, "UID"), "u-1");
    CHECK_STR(env_of(&c, "APP"), "web");
    CHECK_STR(env_of(&c, "NOTE"), "a \"q\"");
    CHECK_STR(env_of(&c, "NODE"), "n1");
    CHECK_STR(env_of(&c, "SA"), "sa1");
    CHECK_STR(env_of(&c, "HOSTIP"), "192.168.1.10");
    CHECK_STR(env_of(&c, "PODIP"), "10.244.1.5");
    CHECK_STR(env_of(&c, "PODIPS"), "10.244.1.5,fd00::5");
    CHECK_STR(env_of(&c, "CPU_LIM"), "1");           /* 500m rounded up */
    CHECK_STR(env_of(&c, "CPU_LIM_M"), "500");
    CHECK_STR(env_of(&c, "CPU_REQ"), "1");           /* requests default to limits */
    CHECK_STR(env_of(&c, "MEM_LIM"), "8192");        /* no limit: node allocatable */
    CHECK_STR(env_of(&c, "MEM_REQ"), "1");           /* 100Mi / 1Gi rounded up */
    CHECK_STR(env_of(&c, "EPH"), "100");
    CHECK_STR(env_of(&c, "EMPTY"), "");
    CHECK_STR(env_of(&c, "API"), "https://10.96.0.1/");        /* the service env is a $(VAR) source */
    CHECK_STR(env_of(&c, "KUBERNETES_SERVICE_HOST"), "10.96.0.1");
    CHECK_STR(c.env[c.nenv - 1], "KUBERNETES_SERVICE_HOST=10.96.0.1");   /* appended last */
    /* env order: envFrom keys first, then env in order */
    const char *first = NULL;
    for (size_t i = 0; i < c.nenv; i++)
        if (cn_str_has_prefix(c.env[i], "CM_")) { first = c.env[i]; break; }
    CHECK_STR(first, "CM_color=blue");
    cn_podspec_ctr_release(&c);
}

static void expect_error(const char *ctr_json, const char *want)
{
    char *cmd[] = { "sh" };
    cn_image img = { .cmd = cmd, .ncmd = 1 };
    cn_podspec_ctr c = { 0 };
    cn_err err = CN_ERR_INIT;
    int r = container(ctr_json, &img, &c, &err);
    CHECK(r < 0);
    CHECK_STR(err.message, want);
    if (r >= 0) cn_podspec_ctr_release(&c);
    cn_err_clear(&err);
}

static void test_env_errors(void)
{
    expect_error("{\"name\": \"a\", \"env\": [{\"name\": \"X\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"nope\", \"key\": \"k\"}}}]}",
                 "configmap \"nope\" not found");
    expect_error("{\"name\": \"a\", \"env\": [{\"name\": \"X\", \"valueFrom\": {\"configMapKeyRef\": {\"name\": \"cm\", \"key\": \"k\"}}}]}",
                 "couldn't find key k in ConfigMap ns/cm");
    expect_error("{\"name\": \"a\", \"env\": [{\"name\": \"X\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"sec\", \"key\": \"k\"}}}]}",
                 "couldn't find key k in Secret ns/sec");
    expect_error("{\"name\": \"a\", \"env\": [{\"name\": \"X\", \"valueFrom\": {\"secretKeyRef\": {\"name\": \"nos\", \"key\": \"k\"}}}]}",
                 "secret \"nos\" not found");
    expect_error("{\"name\": \"a\", \"envFrom\": [{\"secretRef\": {\"name\": \"nos\"}}]}", "secret \"nos\" not found");
    expect_error("{\"name\": \"a\", \"envFrom\": [{\"secretRef\": {\"name\": \"bad\"}}]}",
                 "secret ns/bad: the value of key \"k\" is malformed");
    expect_error("{\"name\": \"a\", \"env\": [{\"name\": \"X\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"spec.bogus\"}}}]}",
                 "unsupported fieldPath: spec.bogus");
    expect_error("{\"name\": \"a\", \"env\": [{\"name\": \"X\", \"valueFrom\": {\"resourceFieldRef\": {\"resource\": \"limits.gpu\"}}}]}",
                 "unsupported container resource : limits.gpu");
}

static size_t argv_is(const cn_podspec_ctr *c, const char *const *want)
{
    size_t n = 0;
    while (want[n]) n++;
    if (c->spec.nargs != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(c->spec.args[i], want[i])) return 0;
    return 1;
}

static void test_command_args(void)
{
    char *ep[] = { "/entry", "-x" }, *cmd[] = { "serve", "--port=80" };
    cn_image img = { .entrypoint = ep, .nentrypoint = 2, .cmd = cmd, .ncmd = 2, .workdir = "/srv" };
    cn_podspec_ctr c = { 0 };
    cn_err err = CN_ERR_INIT;
    CHECK_INT(container("{\"name\": \"a\"}", &img, &c, &err), 0);
    CHECK(argv_is(&c, (const char *const[]){ "/entry", "-x", "serve", "--port=80", NULL }));
    CHECK_STR(c.spec.cwd, "/srv");
    cn_podspec_ctr_release(&c);
    CHECK_INT(container("{\"name\": \"a\", \"command\": [\"/bin/sh\", \"-c\"], \"workingDir\": \"/w\"}", &img, &c, &err), 0);
    CHECK(argv_is(&c, (const char *const[]){ "/bin/sh", "-c", NULL }));    /* image cmd dropped */
    CHECK_STR(c.spec.cwd, "/w");
    cn_podspec_ctr_release(&c);
    CHECK_INT(container("{\"name\": \"a\", \"args\": [\"run\", \"$(V)\", \"$$(V)\"], \"env\": [{\"name\": \"V\", \"value\": \"7\"}]}",
                        &img, &c, &err), 0);
    CHECK(argv_is(&c, (const char *const[]){ "/entry", "-x", "run", "7", "$(V)", NULL }));
    cn_podspec_ctr_release(&c);
    CHECK_INT(container("{\"name\": \"a\", \"command\": [\"echo\", \"$(V)\"], \"args\": [\"b\"], \"env\": [{\"name\": \"V\", \"value\": \"7\"}]}",
                        &img, &c, &err), 0);
    CHECK(argv_is(&c, (const char *const[]){ "echo", "7", "b", NULL }));
    cn_podspec_ctr_release(&c);
    cn_image none = { 0 };
    CHECK(container("{\"name\": \"a\"}", &none, &c, &err) < 0);
    CHECK(err.message && strstr(err.message, "no command specified"));
    cn_err_clear(&err);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_user(void)
{
    char *cmd[] = { "sh" };
    char l0[PATH_MAX], l1[PATH_MAX], p[PATH_MAX + 32];
    snprintf(l0, sizeof l0, "%s/layer0", tmpdir);
    snprintf(l1, sizeof l1, "%s/layer1", tmpdir);
    mkdir(l0, 0755);
    mkdir(l1, 0755);
    snprintf(p, sizeof p, "%s/etc", l0);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/etc", l1);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/etc/passwd", l0);
    write_file(p, "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002::/home/app:/bin/sh\n");
    snprintf(p, sizeof p, "%s/etc/passwd", l1);
    write_file(p, "root:x:0:0:root:/root:/bin/sh\napp:x:2001:2002::/home/app:/bin/sh\n");
    snprintf(p, sizeof p, "%s/etc/group", l1);
    write_file(p, "root:x:0:\napp:x:2002:\nwheel:x:10:app,other\nstaff:x:50:\n");
    char *layers[] = { l0, l1 };
    cn_image img = { .cmd = cmd, .ncmd = 1, .layers = layers, .nlayers = 2, .user = "app" };
    cn_podspec_ctr c = { 0 };
    cn_err err = CN_ERR_INIT;

    CHECK_INT(container("{\"name\": \"a\"}", &img, &c, &err), 0);
    CHECK_INT(c.spec.uid, 2001);                      /* the top-most layer's passwd */
    CHECK_INT(c.spec.gid, 2002);
    CHECK_INT(c.spec.ngroups, 2);
    if (c.spec.ngroups == 2) CHECK_INT(c.spec.groups[1], 10);   /* member of wheel */
    cn_podspec_ctr_release(&c);

    img.user = "1000:staff";
    CHECK_INT(container("{\"name\": \"a\"}", &img, &c, &err), 0);
    CHECK_INT(c.spec.uid, 1000);
    CHECK_INT(c.spec.gid, 50);
    cn_podspec_ctr_release(&c);

    img.user = "nobody";
    CHECK(container("{\"name\": \"a\"}", &img, &c, &err) < 0);
    CHECK_STR(err.message, "unable to find user nobody: no matching entries in passwd file");
    cn_err_clear(&err);

    /* runAsUser: container over pod (pod-level via a securityContext on the container here) */
    img.user = "";
    CHECK_INT(container("{\"name\": \"a\", \"securityContext\": {\"runAsUser\": 1001, \"runAsGroup\": 7}}", &img, &c, &err), 0);
    CHECK_INT(c.spec.uid, 1001);
    CHECK_INT(c.spec.gid, 7);
    cn_podspec_ctr_release(&c);
    CHECK_INT(container("{\"name\": \"a\", \"securityContext\": {\"runAsUser\": 2001}}", &img, &c, &err), 0);
    CHECK_INT(c.spec.gid, 2002);                      /* the passwd entry of the uid */
    cn_podspec_ctr_release(&c);

    CHECK(container("{\"name\": \"a\", \"securityContext\": {\"runAsNonRoot\": true}}", &img, &c, &err) < 0);
    CHECK_STR(err.message, "container has runAsNonRoot and image will run as root (pod: \"web-1_ns(u-1)\", container: a)");
    cn_err_clear(&err);
    CHECK(container("{\"name\": \"a\", \"securityContext\": {\"runAsNonRoot\": true, \"runAsUser\": 0}}", &img, &c, &err) < 0);
    CHECK(err.message && strstr(err.message, "runAsUser breaks non-root policy"));
    cn_err_clear(&err);
    img.user = "1000";
    CHECK_INT(container("{\"name\": \"a\", \"securityContext\": {\"runAsNonRoot\": true}}", &img, &c, &err), 0);
    CHECK_INT(c.spec.uid, 1000);
    CHECK_INT(c.spec.gid, 0);
    cn_podspec_ctr_release(&c);

    /* supplementalGroups and fsGroup from the pod's securityContext */
    json_t *n = node(), *pod = pod_with("{\"name\": \"a\"}");
    json_object_set_new(json_object_get(pod, "spec"), "securityContext",
                        J("{\"runAsUser\": 5, \"fsGroup\": 2000, \"supplementalGroups\": [3000, 2000]}"));
    cn_podspec_env env = make_env(n);
    char *dir = cn_asprintf("%s/pod", tmpdir);
    CHECK_INT(cn_podspec_container(&env, pod, json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
                                   &img, dir, "10.244.1.5", &c, &err), 0);
    CHECK_INT(c.spec.uid, 5);
    CHECK_INT(c.spec.ngroups, 3);
    if (c.spec.ngroups == 3) {
        CHECK_INT(c.spec.groups[0], 0);
        CHECK_INT(c.spec.groups[1], 2000);
        CHECK_INT(c.spec.groups[2], 3000);
    }
    cn_podspec_ctr_release(&c);
    free(dir);
    json_decref(pod);
    json_decref(n);
}

static void test_security_resources(void)
{
    char *cmd[] = { "sh" };
    cn_image img = { .cmd = cmd, .ncmd = 1 };
    cn_podspec_ctr c = { 0 };
    cn_err err = CN_ERR_INIT;
    CHECK_INT(container("{\"name\": \"a\", \"securityContext\": {\"capabilities\": {\"add\": [\"NET_ADMIN\"], \"drop\": [\"ALL\"]},"
                        "\"allowPrivilegeEscalation\": false, \"readOnlyRootFilesystem\": true},"
                        "\"resources\": {\"requests\": {\"cpu\": \"100m\"}, \"limits\": {\"cpu\": \"500m\", \"memory\": \"64Mi\"}}}",
                        &img, &c, &err), 0);
    CHECK_INT(c.spec.ncap_add, 1);
    CHECK_STR(c.spec.cap_add[0], "NET_ADMIN");
    CHECK_INT(c.spec.ncap_drop, 1);
    CHECK_STR(c.spec.cap_drop[0], "ALL");
    CHECK(c.spec.no_new_privs);
    CHECK(c.spec.readonly_rootfs);
    CHECK(!c.spec.privileged);
    CHECK_INT(c.spec.cpu_shares, 102);
    CHECK_INT(c.spec.cpu_quota_us, 50000);
    CHECK_INT(c.spec.cpu_period_us, 100000);
    CHECK_INT(c.spec.memory_limit, 64 << 20);
    cn_podspec_ctr_release(&c);

    CHECK_INT(container("{\"name\": \"a\", \"securityContext\": {\"privileged\": true, \"allowPrivilegeEscalation\": false}}", &img, &c, &err), 0);
    CHECK(c.spec.privileged);
    CHECK(!c.spec.no_new_privs);
    CHECK_INT(c.spec.cpu_shares, 2);                  /* BestEffort */
    CHECK_INT(c.spec.cpu_quota_us, 0);
    CHECK_INT(c.spec.memory_limit, 0);
    cn_podspec_ctr_release(&c);

    CHECK_INT(container("{\"name\": \"a\", \"resources\": {\"limits\": {\"cpu\": \"1m\"}}}", &img, &c, &err), 0);
    CHECK_INT(c.spec.cpu_shares, 2);                  /* request = limit = 1m: the minimum */
    CHECK_INT(c.spec.cpu_quota_us, 1000);             /* the minimum quota */
    cn_podspec_ctr_release(&c);
    CHECK_INT(container("{\"name\": \"a\", \"resources\": {\"requests\": {\"cpu\": \"2\"}}}", &img, &c, &err), 0);
    CHECK_INT(c.spec.cpu_shares, 2048);
    cn_podspec_ctr_release(&c);
    CHECK_INT(container("{\"name\": \"a\", \"resources\": {\"limits\": {\"cpu\": \"1e15\"}}}", &img, &c, &err), 0);
    CHECK_INT(c.spec.cpu_shares, 262144);             /* the maximum, without overflow */
    CHECK(c.spec.cpu_quota_us > 0);
    cn_podspec_ctr_release(&c);
    expect_error("{\"name\": \"a\", \"resources\": {\"limits\": {\"memory\": \"lots\"}}}",
                 "resources.limits.memory lots is malformed");
}

static const cn_mount *mount_at(const cn_podspec_ctr *c, const char *dest)
{
    for (size_t i = 0; i < c->spec.nmounts; i++)
        if (!strcmp(c->spec.mounts[i].destination, dest)) return &c->spec.mounts[i];
    return NULL;
}

static void test_mounts(void)
{
    char *cmd[] = { "sh" };
    cn_image img = { .cmd = cmd, .ncmd = 1 };
    cn_podspec_ctr c = { 0 };
    cn_err err = CN_ERR_INIT;
    char vol[PATH_MAX], p[PATH_MAX + 32];
    snprintf(vol, sizeof vol, "%s/pod/volumes/data", tmpdir);
    snprintf(p, sizeof p, "%s/pod/volumes", tmpdir);
    mkdir(p, 0755);
    mkdir(vol, 0777);
    snprintf(p, sizeof p, "%s/pod/volumes/cfg", tmpdir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/evil", vol);
    CHECK_INT(symlink("/etc", p), 0);
    snprintf(p, sizeof p, "%s/inner", vol);
    CHECK_INT(symlink("a", p), 0);

    CHECK_INT(container("{\"name\": \"a\", \"terminationMessagePath\": \"/tmp/msg\","
                        "\"env\": [{\"name\": \"POD\", \"valueFrom\": {\"fieldRef\": {\"fieldPath\": \"metadata.name\"}}}],"
                        "\"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/data\"},"
                        " {\"name\": \"data\", \"mountPath\": \"/sub\", \"subPath\": \"a/b\", \"readOnly\": true},"
                        " {\"name\": \"data\", \"mountPath\": \"/expr\", \"subPathExpr\": \"logs/$(POD)\"},"
                        " {\"name\": \"data\", \"mountPath\": \"/inner\", \"subPath\": \"inner\"},"
                        " {\"name\": \"cfg\", \"mountPath\": \"/cfg\"}]}", &img, &c, &err), 0);
    if (err.message) fprintf(stderr, "error: %s\n", err.message);
    const cn_mount *m = mount_at(&c, "/data");
    CHECK(m && !strcmp(m->source, vol) && !m->readonly);
    m = mount_at(&c, "/sub");
    snprintf(p, sizeof p, "%s/a/b", vol);
    CHECK(m && !strcmp(m->source, p) && m->readonly);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));   /* created */
    m = mount_at(&c, "/expr");
    snprintf(p, sizeof p, "%s/logs/web-1", vol);
    CHECK(m && !strcmp(m->source, p));
    m = mount_at(&c, "/inner");
    snprintf(p, sizeof p, "%s/a", vol);
    CHECK(m && !strcmp(m->source, p));                  /* a symlink inside the volume is fine */
    m = mount_at(&c, "/cfg");
    CHECK(m && m->readonly);                            /* configMap volumes are always read-only */
    m = mount_at(&c, "/etc/hosts");
    snprintf(p, sizeof p, "%s/pod/etc-hosts", tmpdir);
    CHECK(m && !strcmp(m->source, p));
    CHECK(mount_at(&c, "/etc/hostname") != NULL);
    CHECK(mount_at(&c, "/etc/resolv.conf") != NULL);
    m = mount_at(&c, "/tmp/msg");
    snprintf(p, sizeof p, "%s/pod/containers/a/termination-log", tmpdir);
    CHECK(m && !strcmp(m->source, p));
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0666);
    CHECK(mount_at(&c, "/dev/termination-log") == NULL);
    cn_podspec_ctr_release(&c);

    expect_error("{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/x\", \"subPath\": \"../etc\"}]}",
                 "error SubPath `../etc` must not contain '..'");
    expect_error("{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/x\", \"subPath\": \"/etc\"}]}",
                 "error SubPath `/etc` must not be an absolute path");
    char *want = cn_asprintf("failed to prepare subPath for volumeMount \"data\" of container \"a\": "
                             "subpath \"%s/evil\" not within volume path \"%s\"", vol, vol);
    expect_error("{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/x\", \"subPath\": \"evil/passwd\"}]}", want);
    free(want);
    expect_error("{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/x\", \"subPathExpr\": \"$(NOPE)\"}]}",
                 "missing value for NOPE");
    expect_error("{\"name\": \"a\", \"volumeMounts\": [{\"name\": \"other\", \"mountPath\": \"/x\"}]}",
                 "cannot find volume \"other\" to mount into container \"a\"");
}

static void test_hosts_file(void)
{
    json_t *pod = J("{\"metadata\": {\"name\": \"web-1\", \"namespace\": \"ns\"}, \"spec\": {\"hostname\": \"h\", \"subdomain\": \"sub\","
                    "\"hostAliases\": [{\"ip\": \"1.2.3.4\", \"hostnames\": [\"a.example\", \"b\"]}]}}");
    char *h = cn_podspec_hosts_file(pod, "10.244.1.5");
    CHECK_STR(h, "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                 "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
                 "10.244.1.5\th.sub.ns.svc.cluster.local\th\n\n# Entries added by HostAliases.\n1.2.3.4\ta.example\tb\n");
    free(h);
    json_decref(pod);
    pod = J("{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"}, \"spec\": {}}");
    h = cn_podspec_hosts_file(pod, "10.0.0.1");
    CHECK(h && cn_str_has_suffix(h, "fe00::2\tip6-allrouters\n10.0.0.1\tp\n"));
    free(h);
    json_decref(pod);
}

static void resolv_is(const char *cluster_dns, const char *pod_json, const char *want)
{
    static const char node_resolv[] = "# comment\nnameserver 1.1.1.1\nsearch a b\noptions ndots:2 edns0\n";
    cn_podspec_env env = { .cluster_dns = cluster_dns };
    json_t *pod = J(pod_json);
    char *got = cn_podspec_resolv_conf(&env, pod, node_resolv);
    CHECK_STR(got, want);
    free(got);
    json_decref(pod);
}

static void test_resolv(void)
{
    resolv_is(NULL, "{\"metadata\": {\"namespace\": \"ns\"}, \"spec\": {}}",
              "search a b\nnameserver 1.1.1.1\noptions ndots:2 edns0\n");
    resolv_is("10.96.0.10", "{\"metadata\": {\"namespace\": \"ns\"}, \"spec\": {}}",
              "search ns.svc.cluster.local svc.cluster.local cluster.local a b\nnameserver 10.96.0.10\noptions ndots:5\n");
    resolv_is("10.96.0.10", "{\"metadata\": {\"namespace\": \"ns\"}, \"spec\": {\"hostNetwork\": true}}",
              "search a b\nnameserver 1.1.1.1\noptions ndots:2 edns0\n");
    resolv_is("10.96.0.10", "{\"metadata\": {\"namespace\": \"ns\"}, \"spec\": {\"hostNetwork\": true, \"dnsPolicy\": \"ClusterFirstWithHostNet\"}}",
              "search ns.svc.cluster.local svc.cluster.local cluster.local a b\nnameserver 10.96.0.10\noptions ndots:5\n");
    resolv_is("10.96.0.10", "{\"spec\": {\"dnsPolicy\": \"None\", \"dnsConfig\": {\"nameservers\": [\"8.8.8.8\"], \"searches\": [\"x\"],"
              "\"options\": [{\"name\": \"ndots\", \"value\": \"3\"}, {\"name\": \"edns0\"}]}}}",
              "search x\nnameserver 8.8.8.8\noptions ndots:3 edns0\n");
    resolv_is(NULL, "{\"spec\": {\"dnsPolicy\": \"Default\", \"dnsConfig\": {\"nameservers\": [\"1.1.1.1\", \"9.9.9.9\"],"
              "\"searches\": [\"b\", \"c\"], \"options\": [{\"name\": \"ndots\", \"value\": \"1\"}]}}}",
              "search a b c\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions ndots:1 edns0\n");
    resolv_is(NULL, "{\"spec\": {\"dnsPolicy\": \"None\"}}", "");
}

static void test_downward_map(void)
{
    json_t *n = node(), *pod = pod_with("{\"name\": \"a\"}");
    cn_podspec_env env = make_env(n);
    char *v = NULL;
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_ps_field_value(&env, pod, NULL, "metadata.labels", &v, &err), 0);
    CHECK_STR(v, "app=\"web\"\ntier=\"fe\"");
    free(v);
    CHECK_INT(cn_ps_field_value(&env, pod, NULL, "metadata.annotations", &v, &err), 0);
    CHECK_STR(v, "note=\"a \\\"q\\\"\"");
    free(v);
    json_decref(pod);
    json_decref(n);
}

/* cn_volumes_setup of a pod with the one volume "h": hostPath path (type). */
static int host_path_setup(const cn_podspec_env *env, const char *pod_dir, const char *path,
                           const char *type, cn_err *err)
{
    char *s = cn_asprintf("{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"}, \"spec\": {\"volumes\": "
                          "[{\"name\": \"h\", \"hostPath\": {\"path\": \"%s\"%s%s%s}}]}}",
                          path, type ? ", \"type\": \"" : "", type ? type : "", type ? "\"" : "");
    json_t *pod = J(s);
    free(s);
    int r = cn_volumes_setup(env, pod, pod_dir, err);
    json_decref(pod);
    return r;
}

static void test_host_path_allow(void)
{
    char allowed[PATH_MAX], pod_dir[PATH_MAX], p[PATH_MAX + 32];
    snprintf(allowed, sizeof allowed, "%s/allowed", tmpdir);
    snprintf(pod_dir, sizeof pod_dir, "%s/hp-pod", tmpdir);
    mkdir(allowed, 0755);
    const char *allow[] = { allowed, "/srv/data" };
    json_t *n = node();
    cn_podspec_env env = make_env(n);
    env.host_path_allow = allow;
    env.nhost_path_allow = 2;
    cn_err err = CN_ERR_INIT;
    struct stat st;

    CHECK(host_path_setup(&env, pod_dir, "/etc", NULL, &err) < 0);
    char *want = cn_asprintf("MountVolume.SetUp failed for volume \"h\" : hostPath \"/etc\" is not allowed by this node (allowed: %s, /srv/data)", allowed);
    CHECK_STR(err.message, want);
    free(want);
    cn_err_clear(&err);
    /* a sibling with the same prefix string is not under the prefix */
    snprintf(p, sizeof p, "%sX/y", allowed);
    CHECK(host_path_setup(&env, pod_dir, p, NULL, &err) < 0);
    CHECK(err.message && strstr(err.message, "is not allowed by this node"));
    cn_err_clear(&err);
    /* a symlink under the prefix pointing out of it */
    snprintf(p, sizeof p, "%s/out", allowed);
    CHECK_INT(symlink("/etc", p), 0);
    CHECK(host_path_setup(&env, pod_dir, p, NULL, &err) < 0);
    CHECK(err.message && strstr(err.message, "is not allowed by this node"));
    cn_err_clear(&err);
    /* '..' is refused outright */
    snprintf(p, sizeof p, "%s/../etc", allowed);
    CHECK(host_path_setup(&env, pod_dir, p, NULL, &err) < 0);
    CHECK(err.message && strstr(err.message, "must be an absolute path without '..'"));
    cn_err_clear(&err);

    /* allowed: DirectoryOrCreate creates; the mount source is the host path */
    char *s = cn_asprintf("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"command\": [\"x\"],"
                          "\"volumeMounts\": [{\"name\": \"h\", \"mountPath\": \"/h\"}]}],"
                          "\"volumes\": [{\"name\": \"h\", \"hostPath\": {\"path\": \"%s/new/dir\", \"type\": \"DirectoryOrCreate\"}}]}}", allowed);
    json_t *pod = J(s);
    free(s);
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    snprintf(p, sizeof p, "%s/new/dir", allowed);
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    cn_podspec_ctr c = { 0 };
    CHECK_INT(cn_podspec_container(&env, pod, json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
                                   NULL, pod_dir, "10.0.0.1", &c, &err), 0);
    const cn_mount *m = mount_at(&c, "/h");
    CHECK(m && !strcmp(m->source, p));
    cn_podspec_ctr_release(&c);
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);     /* idempotent */
    json_decref(pod);

    /* type checks */
    CHECK(host_path_setup(&env, pod_dir, allowed, "File", &err) < 0);
    want = cn_asprintf("MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: %s is not a file", allowed);
    CHECK_STR(err.message, want);
    free(want);
    cn_err_clear(&err);
    snprintf(p, sizeof p, "%s/missing", allowed);
    CHECK(host_path_setup(&env, pod_dir, p, "Directory", &err) < 0);
    CHECK(err.message && strstr(err.message, "/missing is not a directory"));
    cn_err_clear(&err);
    CHECK(host_path_setup(&env, pod_dir, allowed, "Socket", &err) < 0);
    CHECK(err.message && strstr(err.message, "is not a socket file"));
    cn_err_clear(&err);
    snprintf(p, sizeof p, "%s/f", allowed);
    CHECK_INT(host_path_setup(&env, pod_dir, p, "FileOrCreate", &err), 0);
    CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode));

    /* no allow list: nothing allowed */
    env.nhost_path_allow = 0;
    CHECK(host_path_setup(&env, pod_dir, "/srv", NULL, &err) < 0);
    CHECK_STR(err.message, "MountVolume.SetUp failed for volume \"h\" : hostPath \"/srv\" is not allowed by this node (allowed: none)");
    cn_err_clear(&err);

    /* unsupported type */
    pod = J("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"volumes\": [{\"name\": \"n\", \"nfs\": {\"server\": \"x\", \"path\": \"/\"}}]}}");
    CHECK(cn_volumes_setup(&env, pod, pod_dir, &err) < 0);
    CHECK_STR(err.message, "MountVolume.SetUp failed for volume \"n\" : volume type \"nfs\" is not supported by this node");
    cn_err_clear(&err);
    json_decref(pod);
    CHECK_INT(cn_volumes_teardown(pod_dir, &err), 0);
    CHECK(stat(allowed, &st) == 0);                  /* teardown never follows the hostPath symlink */
    json_decref(n);
}

static void test_pvc(void)
{
    char pvdir[PATH_MAX], pod_dir[PATH_MAX];
    snprintf(pvdir, sizeof pvdir, "%s/pv1", tmpdir);
    snprintf(pod_dir, sizeof pod_dir, "%s/pvc-pod", tmpdir);
    mkdir(pvdir, 0755);
    char *s = cn_asprintf("{\"persistentvolumeclaims/ns/claim\": {\"spec\": {\"volumeName\": \"pv1\"}, \"status\": {\"phase\": \"Bound\"}},"
                          "\"persistentvolumeclaims/ns/pending\": {\"spec\": {}, \"status\": {\"phase\": \"Pending\"}},"
                          "\"persistentvolumeclaims/ns/nfs\": {\"spec\": {\"volumeName\": \"pv2\"}, \"status\": {\"phase\": \"Bound\"}},"
                          "\"persistentvolumes//pv1\": {\"spec\": {\"local\": {\"path\": \"%s\"}}},"
                          "\"persistentvolumes//pv2\": {\"spec\": {\"nfs\": {\"path\": \"/\"}}}}", pvdir);
    json_t *saved = db;
    db = J(s);
    free(s);
    json_t *n = node();
    cn_podspec_env env = make_env(n);
    cn_err err = CN_ERR_INIT;
    json_t *pod = J("{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"command\": [\"x\"],"
                    "\"volumeMounts\": [{\"name\": \"v\", \"mountPath\": \"/v\"}]}],"
                    "\"volumes\": [{\"name\": \"v\", \"persistentVolumeClaim\": {\"claimName\": \"claim\", \"readOnly\": true}}]}}");
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    cn_podspec_ctr c = { 0 };
    CHECK_INT(cn_podspec_container(&env, pod, json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
                                   NULL, pod_dir, NULL, &c, &err), 0);
    const cn_mount *m = mount_at(&c, "/v");
    CHECK(m && !strcmp(m->source, pvdir) && m->readonly);
    cn_podspec_ctr_release(&c);
    json_decref(pod);
    static const char *const bad[][2] = {
        { "pending", "MountVolume.SetUp failed for volume \"v\" : error processing PVC ns/pending: PVC is not bound" },
        { "gone", "MountVolume.SetUp failed for volume \"v\" : persistentvolumeclaim \"gone\" not found" },
        { "nfs", "MountVolume.SetUp failed for volume \"v\" : persistentvolume \"pv2\": only hostPath and local volumes are supported by this node" },
    };
    for (size_t i = 0; i < 3; i++) {
        s = cn_asprintf("{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"}, \"spec\": {\"volumes\": [{\"name\": \"v\", \"persistentVolumeClaim\": {\"claimName\": \"%s\"}}]}}", bad[i][0]);
        pod = J(s);
        free(s);
        CHECK(cn_volumes_setup(&env, pod, pod_dir, &err) < 0);
        CHECK_STR(err.message, bad[i][1]);
        cn_err_clear(&err);
        json_decref(pod);
    }
    CHECK_INT(cn_volumes_teardown(pod_dir, &err), 0);
    struct stat st;
    CHECK(stat(pvdir, &st) == 0);
    json_decref(db);
    db = saved;
    json_decref(n);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_podspec.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    setup_db();
    TEST_RUN(test_expand);
    TEST_RUN(test_env_sources);
    TEST_RUN(test_env_errors);
    TEST_RUN(test_command_args);
    TEST_RUN(test_user);
    TEST_RUN(test_security_resources);
    TEST_RUN(test_mounts);
    TEST_RUN(test_hosts_file);
    TEST_RUN(test_resolv);
    TEST_RUN(test_downward_map);
    TEST_RUN(test_host_path_allow);
    TEST_RUN(test_pvc);
    json_decref(db);
    char *cmd = cn_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tmpdir);
    free(cmd);
    return TEST_DONE();
}
