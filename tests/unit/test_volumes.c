/* Tests for agent/volumes (root): configMap/secret/downwardAPI/projected
 * files with their modes and the "..data" swap on update, secrets and
 * memory emptyDirs on tmpfs, teardown. The test first moves itself into
 * a private mount namespace (unshare(CLONE_NEWNS) + rprivate /), so no
 * mount it makes is ever seen by, or left on, the machine. */
#define _GNU_SOURCE
#include "test.h"

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "agent/podspec.h"
#include "podspec_fake.h"
#include "lib/base64.h"
#include "lib/util.h"

static char tmpdir[64];
static int token_calls;
static int64_t token_iat;


static int fake_token(void *ud, const char *ns, const char *sa, const char *audience,
                      int64_t expiration_s, const char *pod_name, const char *pod_uid,
                      char **token, int64_t *exp, cn_err *err)
{
    token_calls++;
    char *claims = cn_asprintf("{\"iat\":%lld,\"exp\":%lld,\"sub\":\"system:serviceaccount:%s:%s\",\"aud\":\"%s\",\"pod\":\"%s\"}",
                               (long long)token_iat, (long long)(token_iat + expiration_s), ns, sa,
                               audience ? audience : "", pod_name);
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, claims, strlen(claims));
    while (b.len && b.data[b.len - 1] == '=') b.data[--b.len] = '\0';
    for (char *c = b.data; *c; c++) *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    *token = cn_asprintf("eyJhbGciOiJSUzI1NiJ9.%s.sig%d", b.data, token_calls);
    *exp = token_iat + expiration_s;
    cn_buf_release(&b);
    free(claims);
    return 0;
}



static char *P(const char *fmt, const char *a)
{
    return cn_asprintf(fmt, tmpdir, a);
}

static char *link_of(const char *path)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) return NULL;
    buf[n] = '\0';
    return cn_strdup(buf);
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static bool on_tmpfs(const char *path)
{
    struct statfs s;
    return statfs(path, &s) == 0 && s.f_type == TMPFS_MAGIC;
}

static bool mounted(const char *path)
{
    char *mi = slurp("/proc/self/mountinfo");
    bool r = mi && strstr(mi, path);
    free(mi);
    return r;
}

/* The content of pod/volumes/<rel> is want. */
#define FILE_IS(rel, want) do { char *_f = cn_asprintf("%s/pod/volumes/%s", tmpdir, (rel)); \
    char *_v = slurp(_f); CHECK_STR(_v, (want)); free(_f); free(_v); } while (0)

static const char *pod_json =
    "{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\", \"uid\": \"u1\", \"labels\": {\"app\": \"web\"}},"
    " \"spec\": {\"serviceAccountName\": \"robot\", \"containers\": [{\"name\": \"c\", \"resources\": {\"limits\": {\"memory\": \"64Mi\"}}}],"
    "  \"volumes\": ["
    "   {\"name\": \"cfg\", \"configMap\": {\"name\": \"cm\", \"defaultMode\": 416,"
    "      \"items\": [{\"key\": \"a\", \"path\": \"a.txt\"}, {\"key\": \"b\", \"path\": \"sub/b.txt\", \"mode\": 384}]}},"
    "   {\"name\": \"all\", \"configMap\": {\"name\": \"cm\"}},"
    "   {\"name\": \"opt\", \"configMap\": {\"name\": \"missing\", \"optional\": true}},"
    "   {\"name\": \"sec\", \"secret\": {\"secretName\": \"s\", \"defaultMode\": 256}},"
    "   {\"name\": \"down\", \"downwardAPI\": {\"items\": [{\"path\": \"labels\", \"fieldRef\": {\"fieldPath\": \"metadata.labels\"}},"
    "      {\"path\": \"mem\", \"resourceFieldRef\": {\"containerName\": \"c\", \"resource\": \"limits.memory\", \"divisor\": \"1Mi\"}}]}},"
    "   {\"name\": \"proj\", \"projected\": {\"defaultMode\": 420, \"sources\": ["
    "      {\"serviceAccountToken\": {\"path\": \"token\", \"audience\": \"api\", \"expirationSeconds\": 3600}},"
    "      {\"configMap\": {\"name\": \"cm\", \"items\": [{\"key\": \"a\", \"path\": \"ca.crt\"}]}},"
    "      {\"secret\": {\"name\": \"s\"}},"
    "      {\"downwardAPI\": {\"items\": [{\"path\": \"namespace\", \"fieldRef\": {\"fieldPath\": \"metadata.namespace\"}}]}}]}},"
    "   {\"name\": \"scratch\", \"emptyDir\": {}},"
    "   {\"name\": \"mem\", \"emptyDir\": {\"medium\": \"Memory\", \"sizeLimit\": \"4Mi\"}}"
    "  ]}}";

static void set_cm(const char *a, const char *b)
{
    char *s = cn_asprintf("{\"data\": {\"a\": \"%s\", \"b\": \"%s\"}}", a, b);
    json_object_set_new(db, "configmaps/ns/cm", J(s));
    free(s);
}

static void test_volumes(void)
{
    json_t *node = J("{\"status\": {\"allocatable\": {\"memory\": \"1Gi\"}}}");
    cn_podspec_env env = { .fetch = fake_fetch, .token = fake_token, .node = node };
    json_t *pod = J(pod_json);
    char *pod_dir = P("%s/%s", "pod");
    cn_err err = CN_ERR_INIT;
    db = json_object();
    set_cm("one", "two");
    json_object_set_new(db, "secrets/ns/s", J("{\"data\": {\"pw\": \"aHVudGVyMg==\"}}"));
    token_iat = cn_wall_s();

    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    if (err.message) fprintf(stderr, "setup: %s\n", err.message);

    /* configMap with items and modes, through ..data */
    char *f = P("%s/pod/volumes/cfg/%s", "a.txt"), *v = slurp(f), *l = link_of(f);
    CHECK_STR(v, "one");
    CHECK_STR(l, "..data/a.txt");
    CHECK_INT(mode_of(f), 0640);
    free(f); free(v); free(l);
    f = P("%s/pod/volumes/cfg/%s", "sub/b.txt");
    v = slurp(f);
    CHECK_STR(v, "two");
    CHECK_INT(mode_of(f), 0600);
    free(f); free(v);
    f = P("%s/pod/volumes/cfg/%s", "sub");
    l = link_of(f);
    CHECK_STR(l, "..data/sub");
    free(f); free(l);
    char *data = P("%s/pod/volumes/cfg/%s", "..data");
    char *gen1 = link_of(data);
    CHECK(gen1 && cn_str_has_prefix(gen1, ".."));
    f = P("%s/pod/volumes/all/%s", "b");
    v = slurp(f);
    CHECK_STR(v, "two");
    CHECK_INT(mode_of(f), 0644);
    free(f); free(v);
    f = P("%s/pod/volumes/%s", "opt");
    struct stat st;
    CHECK(stat(f, &st) == 0 && S_ISDIR(st.st_mode));          /* optional and missing: empty */
    free(f);

    /* secret: decoded, mode, on tmpfs */
    f = P("%s/pod/volumes/sec/%s", "pw");
    v = slurp(f);
    CHECK_STR(v, "hunter2");
    CHECK_INT(mode_of(f), 0400);
    CHECK(on_tmpfs(f));
    free(f); free(v);
    f = P("%s/pod/volumes/cfg/%s", "a.txt");
    CHECK(!on_tmpfs(f));
    free(f);

    /* downwardAPI */
    FILE_IS("down/labels", "app=\"web\"");
    FILE_IS("down/mem", "64");

    /* projected: token, configMap, secret, downwardAPI in one directory */
    CHECK_INT(token_calls, 1);
    f = P("%s/pod/volumes/proj/%s", "token");
    v = slurp(f);
    CHECK(v && cn_str_has_suffix(v, ".sig1"));
    CHECK_INT(mode_of(f), 0644);
    free(f); free(v);
    FILE_IS("proj/ca.crt", "one");
    FILE_IS("proj/pw", "hunter2");
    FILE_IS("proj/namespace", "ns");

    /* emptyDirs */
    f = P("%s/pod/volumes/%s", "scratch");
    CHECK_INT(mode_of(f), 0777);
    free(f);
    f = P("%s/pod/volumes/%s", "mem");
    CHECK(on_tmpfs(f));
    struct statfs sf;
    CHECK(statfs(f, &sf) == 0 && (long long)sf.f_blocks * sf.f_bsize == 4 << 20);
    free(f);

    /* refresh with nothing changed: same generation, token reused */
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    char *gen = link_of(data);
    CHECK_STR(gen, gen1);
    free(gen);
    CHECK_INT(token_calls, 1);

    /* update: a new generation swapped in whole, the old one gone */
    set_cm("uno", "dos");
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    char *gen2 = link_of(data);
    CHECK(gen2 && gen1 && strcmp(gen2, gen1));
    FILE_IS("cfg/a.txt", "uno");
    f = P("%s/pod/volumes/cfg/%s", gen1);
    CHECK(lstat(f, &st) < 0 && errno == ENOENT);
    free(f);
    /* a key gone from the ConfigMap disappears from the volume */
    json_object_set_new(db, "configmaps/ns/cm", J("{\"data\": {\"a\": \"x\"}}"));
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err) < 0, 1);   /* cfg item b is not optional */
    CHECK_STR(err.message, "MountVolume.SetUp failed for volume \"cfg\" : configmap references non-existent config key: b");
    cn_err_clear(&err);
    json_t *vols = json_object_get(json_object_get(pod, "spec"), "volumes");
    json_array_remove(vols, 0);                                   /* drop "cfg" */
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    f = P("%s/pod/volumes/all/%s", "b");
    CHECK(lstat(f, &st) < 0 && errno == ENOENT);
    free(f);
    FILE_IS("all/a", "x");

    /* an old token (past 80% of its life) is replaced */
    token_iat = cn_wall_s() - 3500;
    json_decref(db);
    db = json_object();
    set_cm("one", "two");
    json_object_set_new(db, "secrets/ns/s", J("{\"data\": {\"pw\": \"aHVudGVyMg==\"}}"));
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);     /* still fresh: reused */
    CHECK_INT(token_calls, 1);
    f = P("%s/pod/volumes/proj/%s", "token");
    /* force: rewrite the stored token as an old one */
    token_calls = 1;
    char *oldtok = NULL;
    int64_t exp;
    fake_token(NULL, "ns", "robot", "api", 3600, "p", "u1", &oldtok, &exp, &err);   /* sig2, iat old */
    token_iat = cn_wall_s();
    char *real = cn_asprintf("%s/pod/volumes/proj/..data/token", tmpdir);
    FILE *fp = fopen(real, "w");
    if (fp) {
        fputs(oldtok, fp);
        fclose(fp);
    }
    free(real);
    free(oldtok);
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    CHECK_INT(token_calls, 3);
    v = slurp(f);
    CHECK(v && cn_str_has_suffix(v, ".sig3"));
    free(f); free(v);

    /* missing non-optional configMap */
    json_object_del(db, "configmaps/ns/cm");
    CHECK(cn_volumes_setup(&env, pod, pod_dir, &err) < 0);
    CHECK_STR(err.message, "MountVolume.SetUp failed for volume \"all\" : configmap \"cm\" not found");
    cn_err_clear(&err);

    /* teardown: tmpfs unmounted, everything removed */
    char *vdir = P("%s/pod/%s", "volumes");
    CHECK(mounted(vdir));
    CHECK_INT(cn_volumes_teardown(pod_dir, &err), 0);
    CHECK(!mounted(vdir));
    CHECK(lstat(vdir, &st) < 0 && errno == ENOENT);
    CHECK_INT(cn_volumes_teardown(pod_dir, &err), 0);             /* again: nothing to do */
    free(vdir);
    free(data);
    free(gen1);
    free(gen2);
    free(pod_dir);
    json_decref(pod);
    json_decref(node);
    json_decref(db);
}

static void test_fs_group(void)
{
    json_t *node = J("{}");
    cn_podspec_env env = { .fetch = fake_fetch, .node = node };
    db = json_object();
    json_object_set_new(db, "secrets/ns/s", J("{\"data\": {\"pw\": \"aHVudGVyMg==\"}}"));
    json_t *pod = J("{\"metadata\": {\"name\": \"p\", \"namespace\": \"ns\"}, \"spec\": {\"securityContext\": {\"fsGroup\": 4321},"
                    "\"volumes\": [{\"name\": \"sec\", \"secret\": {\"secretName\": \"s\", \"defaultMode\": 256,"
                    "  \"items\": [{\"key\": \"pw\", \"path\": \"d/pw\"}]}}, {\"name\": \"scratch\", \"emptyDir\": {}}]}}");
    char *pod_dir = P("%s/%s", "fsg");
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    if (err.message) fprintf(stderr, "setup: %s\n", err.message);
    struct stat st;
    char *f = P("%s/fsg/volumes/sec/%s", "d/pw");
    CHECK(stat(f, &st) == 0 && (st.st_mode & 07777) == 0440 && st.st_gid == 4321);   /* 0400 | 0440 */
    free(f);
    f = P("%s/fsg/volumes/sec/%s", "..data/d");
    CHECK(stat(f, &st) == 0 && (st.st_mode & 02000) && st.st_gid == 4321);
    free(f);
    f = P("%s/fsg/volumes/sec/%s", "..data");
    char *gen1 = link_of(f);
    CHECK_INT(cn_volumes_setup(&env, pod, pod_dir, &err), 0);
    char *gen2 = link_of(f);
    CHECK_STR(gen2, gen1);                    /* the masked modes compare equal: no rewrite */
    free(gen1);
    free(gen2);
    free(f);
    f = P("%s/fsg/volumes/%s", "scratch");
    CHECK(stat(f, &st) == 0 && (st.st_mode & 07777) == 02777 && st.st_gid == 4321);
    free(f);
    CHECK_INT(cn_volumes_teardown(pod_dir, &err), 0);
    free(pod_dir);
    json_decref(pod);
    json_decref(node);
    json_decref(db);
    db = NULL;
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skipped: needs root (mounts)\n");
        return 0;
    }
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        perror("private mount namespace");
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_volumes.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    TEST_RUN(test_volumes);
    TEST_RUN(test_fs_group);
    /* the mount namespace dies with us; remove the files */
    char *cmd = cn_asprintf("umount -R '%s' 2>/dev/null; rm -rf '%s'", tmpdir, tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tmpdir);
    free(cmd);
    return TEST_DONE();
}
