/* bench/pods: issue 6 item 8 — how fast a pod starts on one real node,
 * against two peers timed in the same run.
 *
 *   runc    bare `runc run` of a bundle whose rootfs is the busybox image,
 *           running `echo ready` (the floor: create -> exited);
 *   podman  `podman run` of the same image from an OCI layout (Debian
 *           podman, runc, cgroupfs, private --root/--runroot under the
 *           bench's temporary directory, its network inside a network
 *           namespace of the bench's own so netavark's bridge and
 *           iptables chains vanish with it), same command;
 *   cairn   `cairn server` on loopback + a real `cairn agent` pulling the
 *           image from Debian's docker-registry on 127.0.0.1 (pushed there
 *           with skopeo); pods created through the API, create -> phase
 *           Running and create -> Ready condition seen on a watch.
 *
 * For 1, 10 and 100 pods (or containers) started at once; p50/p99 over
 * several rounds (10 rounds of 1, 3 of 10, 1 of 100), the agent's RSS with
 * 100 pods, and the ratios p99 cairn / p99 runc and p99 cairn / p99 podman
 * (issue 6's goals: <= 2x and <= 0.5x; RSS <= 15 MiB). The image is built
 * here from /bin/busybox (busybox-static): rootfs -> tar layer -> OCI
 * layout. The cairn column is skipped, with the reason printed, when
 * `cairn agent` cannot run real nodes; the peers' figures still print.
 * Figures only: a benchmark never fails on a timing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <jansson.h>

#include "client/client.h"
#include "common/bench.h"
#include "lib/util.h"

#define MAX_PODS 1000

static const char *opt_cairn = "build/cairn";
static const char *opt_counts = "1,10,100";
static const char *opt_agent_flags = "";
static const char *opt_only = "runc,podman,cairn";
static const char *opt_node = "bench-node";
static const char *opt_agent_cmd = NULL;
static bool opt_host_network = false;
static double opt_timeout_s = 120;
static bool opt_keep = false;

static char dir[64];                 /* the bench's temporary directory */
static char netns[64];               /* podman's network namespace, "" if none */

/* ---- small process helpers ---- */

/* Run argv to completion, output into log (or /dev/null); its exit status,
 * -1 if it did not exit normally. */
static int run(char *const argv[], const char *log)
{
    pid_t pid = bn_spawn(argv, log ? log : "/dev/null");
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int sh(const char *script, const char *log)
{
    char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    return run(argv, log);
}

/* Why a process that exited says it did: the last unindented line of its
 * log that says "error", "fatal" or begins "cairn agent:", else the first
 * line (a command-line error comes first, then the usage). */
static void exit_reason(const char *path, char *out, size_t n)
{
    char line[512];
    bool have_first = false;
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t l = strlen(line);
        if (l == 0) continue;
        bool telling = line[0] != ' ' && line[0] != '\t' &&   /* not a --help line */
                       (strcasestr(line, "error") || strcasestr(line, "fatal") || cn_str_has_prefix(line, "cairn agent:"));
        if (have_first && !telling) continue;
        have_first = true;
        if (l >= n) l = n - 1;
        memcpy(out, line, l);
        out[l] = 0;
    }
    fclose(f);
}

/* Unmount everything below the bench directory, deepest first (podman's
 * storage and an agent's rootfs mounts), so the directory can go. */
static void unmount_below(const char *top)
{
    char *mnts[256];
    size_t n = 0;
    FILE *f = fopen("/proc/self/mounts", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f) && n < 256) {
        char src[1024], tgt[2048];
        if (sscanf(line, "%1023s %2047s", src, tgt) == 2 && cn_str_has_prefix(tgt, top)) mnts[n++] = cn_strdup(tgt);
    }
    if (f) fclose(f);
    while (n > 0) {
        n--;
        umount2(mnts[n], MNT_DETACH);
        free(mnts[n]);
    }
}

static int percentile_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n samples (sorted in place), in ms. */
static double pct(int64_t *v, size_t n, double p)
{
    if (n == 0) return -1;
    qsort(v, n, sizeof *v, percentile_cmp);
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return (double)v[k - 1] / 1000.0;
}

/* ---- the image: rootfs from /bin/busybox, OCI layout around it ---- */

/* $1: directory. Makes $1/rootfs and $1/oci (ref "busybox:1"): one gzip
 * layer whose diff_id is the rootfs tar's digest, an image config, a
 * manifest and index.json, all content-addressed by sha256. */
static const char image_script[] =
    "set -e; d=$1; r=$d/rootfs; b=$d/oci/blobs/sha256\n"
    "mkdir -p $r/bin $r/proc $r/dev $r/sys $r/tmp $r/etc $r/root $b\n"
    "cp /bin/busybox $r/bin/busybox\n"
    "for a in sh echo sleep true cat ls env; do ln -s busybox $r/bin/$a; done\n"
    "echo 'root:x:0:0:root:/root:/bin/sh' > $r/etc/passwd; echo 'root:x:0:' > $r/etc/group\n"
    "tar -C $r --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf $d/layer.tar .\n"
    "diff=$(sha256sum $d/layer.tar | cut -d' ' -f1); gzip -n -c $d/layer.tar > $d/layer.tgz; rm $d/layer.tar\n"
    "blob() { s=$(sha256sum $1 | cut -d' ' -f1); z=$(stat -c %s $1); mv $1 $b/$s; echo $s $z; }\n"
    "set -- $(blob $d/layer.tgz); lay=$1; lsz=$2\n"
    "printf '{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}' $(dpkg --print-architecture) $diff > $d/cfg\n"
    "set -- $(blob $d/cfg); cfg=$1; csz=$2\n"
    "printf '{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%s},"
    "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:%s\",\"size\":%s}]}'"
    " $cfg $csz $lay $lsz > $d/man\n"
    "set -- $(blob $d/man); man=$1; msz=$2\n"
    "printf '{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"digest\":\"sha256:%s\",\"size\":%s,\"annotations\":{\"org.opencontainers.image.ref.name\":\"busybox:1\"}}]}'"
    " $man $msz > $d/oci/index.json\n"
    "printf '{\"imageLayoutVersion\":\"1.0.0\"}' > $d/oci/oci-layout\n";

static int build_image(void)
{
    char *script = cn_asprintf("set -- %s/img; %s", dir, image_script), *log = cn_asprintf("%s/image.log", dir);
    int r = sh(script, log);
    if (r != 0) fprintf(stderr, "bench_pods: building the image failed (see %s)\n", log);
    free(script);
    free(log);
    return r == 0 ? 0 : -1;
}

/* ---- starting N at once and timing each to its end ---- */

/* fork + exec with stdout and stderr appended to log (bn_spawn truncates
 * it, and a burst shares one log). */
static pid_t spawn_append(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Spawn argv_for(i) for i < n at once; lat[i] = spawn -> exit in us, or -1
 * when it failed. Waits on pidfds, so each exit is timed as it happens. */
typedef char **(*argv_fn)(size_t i, void *ud);

static size_t burst(size_t n, argv_fn argv_for, void *ud, int64_t *lat, const char *log)
{
    pid_t *pid = cn_calloc(n, sizeof *pid);
    int64_t *t0 = cn_calloc(n, sizeof *t0);
    struct pollfd *pfd = cn_calloc(n, sizeof *pfd);
    size_t left = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        char **argv = argv_for(i, ud);
        t0[i] = bn_now_us();
        pid[i] = spawn_append(argv, log);
        for (char **a = argv; *a; a++) free(*a);
        free(argv);
        pfd[i].fd = pid[i] > 0 ? (int)syscall(SYS_pidfd_open, pid[i], 0) : -1;
        pfd[i].events = POLLIN;
        lat[i] = -1;
        if (pfd[i].fd >= 0) left++;
        else if (pid[i] > 0) waitpid(pid[i], NULL, 0);
    }
    while (left > 0) {
        if (poll(pfd, n, 1000) < 0 && errno != EINTR) break;
        int64_t now = bn_now_us();
        for (size_t i = 0; i < n; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & POLLIN)) continue;
            int st = 0;
            waitpid(pid[i], &st, 0);
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0) lat[i] = now - t0[i];
            close(pfd[i].fd);
            pfd[i].fd = -1;
            left--;
        }
    }
    for (size_t i = 0; i < n; i++) if (lat[i] < 0) failed++;
    free(pid);
    free(t0);
    free(pfd);
    return failed;
}

static char **vec(const char *first, ...)
{
    char **v = cn_calloc(64, sizeof *v);
    va_list ap;
    va_start(ap, first);
    size_t n = 0;
    for (const char *s = first; s && n < 63; s = va_arg(ap, const char *)) v[n++] = cn_strdup(s);
    va_end(ap);
    return v;
}

typedef struct peer_run { size_t round, n; char tag[16]; } peer_run;

static char **runc_argv(size_t i, void *ud)
{
    peer_run *p = ud;
    char *root = cn_asprintf("%s/runc-state", dir), *bundle = cn_asprintf("%s/bundle", dir),
         *id = cn_asprintf("b%zu-%zu-%zu", p->n, p->round, i);
    char **v = vec("/usr/bin/runc", "--root", root, "run", "--bundle", bundle, id, NULL);
    free(root);
    free(bundle);
    free(id);
    return v;
}

static const char *podman_flags[] = { "--cgroup-manager", "cgroupfs", "--events-backend", "file" };

/* nsenter --net=NS podman --root R --runroot RR <global flags> ... */
static char **podman_base(char **v, size_t *n)
{
    /* nsenter, not `ip netns exec`: that one mounts a fresh /sys, which
     * hides the cgroup mounts runc needs. */
    v[(*n)++] = cn_strdup("/usr/bin/nsenter");
    v[(*n)++] = cn_asprintf("--net=/run/netns/%s", netns);
    v[(*n)++] = cn_strdup("/usr/bin/podman");
    v[(*n)++] = cn_asprintf("--root=%s/podman/root", dir);
    v[(*n)++] = cn_asprintf("--runroot=%s/podman/run", dir);
    for (size_t k = 0; k < 4; k++) v[(*n)++] = cn_strdup(podman_flags[k]);
    return v;
}

static char **podman_argv(size_t i, void *ud)
{
    peer_run *p = ud;
    char **v = cn_calloc(64, sizeof *v);
    size_t n = 0;
    podman_base(v, &n);
    static const char *run_flags[] = { "run", "--runtime", "runc", "--ulimit", "nofile=1024:1024",
                                       "--ulimit", "nproc=1024:1024", "localhost/busybox:1", "echo", "ready" };
    for (size_t k = 0; k < 10; k++) {
        v[n++] = cn_strdup(run_flags[k]);
        if (k == 0) {
            v[n++] = cn_asprintf("--name=b%zu-%zu-%zu", p->n, p->round, i);
            /* Our own cgroup parent (not libpod_parent), removed at the end. */
            v[n++] = cn_asprintf("--cgroup-parent=/%s", strrchr(dir, '/') + 1);
        }
    }
    return v;
}

static int podman_cmd(const char *a, const char *b, const char *c, const char *log)
{
    char **v = cn_calloc(64, sizeof *v);
    size_t n = 0;
    podman_base(v, &n);
    v[n++] = cn_strdup(a);
    if (b) v[n++] = cn_strdup(b);
    if (c) v[n++] = cn_strdup(c);
    int r = run(v, log);
    for (size_t k = 0; k < n; k++) free(v[k]);
    free(v);
    return r;
}

/* The runc bundle: `runc spec`, then echo, no terminal, the image's rootfs
 * read-only (so one bundle serves every container at once). */
static int make_bundle(void)
{
    char *b = cn_asprintf("%s/bundle", dir), *cfg = cn_asprintf("%s/bundle/config.json", dir),
         *rootfs = cn_asprintf("%s/img/rootfs", dir);
    int ret = -1;
    mkdir(b, 0755);
    char *argv[] = { "/usr/bin/runc", "spec", "--bundle", b, NULL };
    json_t *c = NULL;
    if (run(argv, NULL) != 0 || !(c = json_load_file(cfg, 0, NULL))) goto out;
    json_t *proc = json_object_get(c, "process");
    json_object_set_new(proc, "terminal", json_false());
    json_object_set_new(proc, "args", json_pack("[ss]", "/bin/echo", "ready"));
    json_object_set_new(c, "root", json_pack("{s:s,s:b}", "path", rootfs, "readonly", 1));
    ret = json_dump_file(c, cfg, 0) == 0 ? 0 : -1;
out:
    json_decref(c);
    free(b);
    free(cfg);
    free(rootfs);
    return ret;
}

/* ---- figures ---- */

typedef struct row {
    long n;
    int64_t *s[5];          /* runc, podman, cairn running, cairn ready, cairn bound (us) */
    size_t ns[5];
    size_t fail[5];
    char note[3][160];      /* why a column has no figures */
} row;

static size_t rounds_for(long n)
{
    return n <= 1 ? 10 : n <= 10 ? 3 : 1;
}

static bool want(const char *what)
{
    return strstr(opt_only, what) != NULL;
}

static void peer_rows(row *rows, size_t nrows, int which)
{
    const char *name = which == 0 ? "runc" : "podman";
    for (size_t r = 0; r < nrows; r++) {
        long n = rows[r].n;
        size_t rounds = rounds_for(n);
        rows[r].s[which] = cn_calloc((size_t)n * rounds, sizeof(int64_t));
        for (size_t k = 0; k < rounds; k++) {
            peer_run p = { .round = k, .n = (size_t)n };
            int64_t *lat = rows[r].s[which] + rows[r].ns[which];
            char *log = cn_asprintf("%s/%s.log", dir, name);
            size_t failed = burst((size_t)n, which == 0 ? runc_argv : podman_argv, &p, lat, log);
            free(log);
            /* Keep only the successful samples. */
            size_t m = 0;
            for (size_t i = 0; i < (size_t)n; i++) if (lat[i] >= 0) lat[m++] = lat[i];
            rows[r].ns[which] += m;
            rows[r].fail[which] += failed;
            if (which == 0) {
                char *cmd = cn_asprintf("for c in $(runc --root %s/runc-state list -q); do "
                                        "runc --root %s/runc-state delete -f $c; done", dir, dir);
                sh(cmd, NULL);
                free(cmd);
            } else {
                podman_cmd("rm", "-a", "-f", NULL);
            }
        }
        printf("  %-6s %3ld at once: %zu samples, %zu failed\n", name, n, rows[r].ns[which], rows[r].fail[which]);
        fflush(stdout);
    }
}

static int podman_setup(void)
{
    snprintf(netns, sizeof netns, "cn-bench-pods-%d", (int)getpid());
    char *argv[] = { "/usr/bin/ip", "netns", "add", netns, NULL };
    if (run(argv, NULL) != 0) {
        netns[0] = 0;
        return -1;
    }
    char *src = cn_asprintf("oci:%s/img/oci:busybox:1", dir), *log = cn_asprintf("%s/podman.log", dir);
    int r = podman_cmd("pull", "-q", src, log);
    if (r == 0) {
        /* The oci: transport names the image after the directory; tag it. */
        char *cmd = cn_asprintf("id=$(nsenter --net=/run/netns/%s podman --root=%s/podman/root --runroot=%s/podman/run "
                                "--cgroup-manager cgroupfs --events-backend file images -q | head -n1) && "
                                "nsenter --net=/run/netns/%s podman --root=%s/podman/root --runroot=%s/podman/run "
                                "--cgroup-manager cgroupfs --events-backend file tag $id localhost/busybox:1",
                                netns, dir, dir, netns, dir, dir);
        r = sh(cmd, log);
        free(cmd);
    }
    /* One run first: podman initialises its database and network on it. */
    if (r == 0) {
        int64_t lat;
        peer_run p = { .round = 99, .n = 0 };
        r = burst(1, podman_argv, &p, &lat, log) == 0 ? 0 : -1;
        podman_cmd("rm", "-a", "-f", NULL);
    }
    free(src);
    free(log);
    return r;
}

static void podman_teardown(void)
{
    if (!netns[0]) return;
    podman_cmd("rm", "-a", "-f", NULL);
    podman_cmd("rmi", "-a", "-f", NULL);
    char *p = cn_asprintf("%s/podman", dir);
    unmount_below(p);
    free(p);
    char *argv[] = { "/usr/bin/ip", "netns", "del", netns, NULL };
    run(argv, NULL);
    netns[0] = 0;
    char *cmd = cn_asprintf("find /sys/fs/cgroup -depth -type d -path '*/%s*' -exec rmdir {} + 2>/dev/null",
                            strrchr(dir, '/') + 1);
    sh(cmd, NULL);
    free(cmd);
}

/* ---- cairn: server, registry, agent, pods through the API ---- */

typedef struct cairn {
    pid_t server, registry, agent;
    char kubeconfig[200], registry_addr[64], node[64];
    cn_client *c;
} cairn;

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static bool exited(pid_t pid, int *status)
{
    return pid > 0 && waitpid(pid, status, WNOHANG) == pid;
}

static bool node_ready(cn_client *c, const char *name)
{
    json_t *n = NULL;
    cn_err err = CN_ERR_INIT;
    bool ready = false;
    char *path = cn_asprintf("/api/v1/nodes/%s", name);
    if (cn_client_get(c, path, &n, &err) == 0) {
        size_t j;
        json_t *cond;
        json_array_foreach(json_object_get(json_object_get(n, "status"), "conditions"), j, cond)
            if (!strcmp(cn_json_str_at(cond, "type"), "Ready") && !strcmp(cn_json_str_at(cond, "status"), "True"))
                ready = true;
    }
    free(path);
    json_decref(n);
    cn_err_clear(&err);
    return ready;
}

/* Start everything; on failure *why says why the cairn column is empty. */
static int cairn_start(cairn *k, char *why, size_t whylen)
{
    if (access(opt_cairn, X_OK) != 0) {
        snprintf(why, whylen, "no cairn binary at %s (--cairn PATH)", opt_cairn);
        return -1;
    }
    char *datadir = cn_asprintf("%s/server", dir), *slog = cn_asprintf("%s/server.log", dir);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", bn_free_port());
    snprintf(k->kubeconfig, sizeof k->kubeconfig, "%s/kubeconfig", datadir);
    char *sargv[] = { (char *)opt_cairn, "server", "--data-dir", datadir, "--listen", listen,
                      "--log-level", "warn", NULL };
    k->server = bn_spawn(sargv, slog);
    cn_err err = CN_ERR_INIT;
    int ret = -1;
    for (int i = 0; i < 200 && !k->c; i++) {
        struct stat st;
        usleep(50000);
        if (stat(k->kubeconfig, &st) == 0 && cn_client_new_kubeconfig(k->kubeconfig, &k->c, &err) < 0)
            cn_err_clear(&err);
    }
    if (!k->c) {
        snprintf(why, whylen, "the server did not start (%s)", opt_keep ? slog : "--keep keeps its log");
        goto out;
    }

    /* The registry, and the image pushed into it. */
    int rport = bn_free_port();
    snprintf(k->registry_addr, sizeof k->registry_addr, "127.0.0.1:%d", rport);
    char *rcfg = cn_asprintf("%s/registry.yml", dir), *rlog = cn_asprintf("%s/registry.log", dir);
    FILE *f = fopen(rcfg, "w");
    if (f) {
        fprintf(f, "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s/registry\n"
                   "http:\n  addr: %s\n", dir, k->registry_addr);
        fclose(f);
    }
    char *rargv[] = { "/usr/bin/docker-registry", "serve", rcfg, NULL };
    k->registry = bn_spawn(rargv, rlog);
    for (int i = 0; i < 100 && !port_open(rport); i++) usleep(50000);
    char *src = cn_asprintf("oci:%s/img/oci:busybox:1", dir),
         *dst = cn_asprintf("docker://%s/busybox:1", k->registry_addr);
    char *cargv[] = { "/usr/bin/skopeo", "copy", "-q", "--dest-tls-verify=false", src, dst, NULL };
    int pushed = port_open(rport) ? run(cargv, rlog) : -1;
    free(src);
    free(dst);
    free(rcfg);
    if (pushed != 0) {
        snprintf(why, whylen, "could not push the image to docker-registry (%s)", opt_keep ? rlog : "--keep keeps its log");
        free(rlog);
        goto out;
    }
    free(rlog);

    /* The agent: one real node. */
    snprintf(k->node, sizeof k->node, "%s", opt_node);
    char *adata = cn_asprintf("%s/agent", dir), *alog = cn_asprintf("%s/agent.log", dir);
    char *cmd = opt_agent_cmd
        ? cn_asprintf("exec %s", opt_agent_cmd)
        : cn_asprintf("exec %s agent --kubeconfig %s --node-name %s --data-dir %s --node-ip 127.0.0.1 "
                      "--insecure-registry %s %s", opt_cairn, k->kubeconfig, k->node, adata,
                      k->registry_addr, opt_agent_flags);
    /* For --agent-cmd: what the default command line passes as flags. */
    setenv("CN_BENCH_CAIRN", opt_cairn, 1);
    setenv("CN_BENCH_KUBECONFIG", k->kubeconfig, 1);
    setenv("CN_BENCH_NODE", k->node, 1);
    setenv("CN_BENCH_DATA_DIR", adata, 1);
    setenv("CN_BENCH_REGISTRY", k->registry_addr, 1);
    char *aargv[] = { "/bin/sh", "-c", cmd, NULL };
    k->agent = bn_spawn(aargv, alog);
    int64_t t0 = cn_now_ms();
    int st = 0;
    bool gone = false;
    while (cn_now_ms() - t0 < 60000) {
        if ((gone = exited(k->agent, &st))) break;
        if (node_ready(k->c, k->node)) break;
        usleep(100000);
    }
    if (gone) {
        char line[200];
        exit_reason(alog, line, sizeof line);
        snprintf(why, whylen, "`cairn agent` exited with status %d: %s (%s)", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                 line, opt_keep ? alog : "--keep keeps its log");
        k->agent = -1;
    } else if (!node_ready(k->c, k->node)) {
        snprintf(why, whylen, "node %s not Ready within 60 s (%s)", k->node, opt_keep ? alog : "--keep keeps its log");
    } else {
        ret = 0;
    }
    free(adata);
    free(alog);
    free(cmd);
out:
    free(datadir);
    free(slog);
    return ret;
}

static void cairn_stop(cairn *k)
{
    cn_client_free(k->c);
    k->c = NULL;
    bn_stop(k->agent);
    bn_stop(k->registry);
    bn_stop(k->server);
}

/* One round of n pods: created from this thread, followed on a watch by
 * another. */
typedef struct pod_round {
    cairn *k;
    long n;
    char prefix[32];
    int64_t created[MAX_PODS], bound[MAX_PODS], running[MAX_PODS], ready[MAX_PODS];
    atomic_bool stop;
    char rv[64];
} pod_round;

static long pod_index(const pod_round *r, const char *name)
{
    size_t pl = strlen(r->prefix);
    if (strncmp(name, r->prefix, pl) != 0) return -1;
    int64_t i;
    if (cn_parse_int64(name + pl, &i) < 0 || i < 0 || i >= r->n) return -1;
    return (long)i;
}

static void *pod_watcher(void *arg)
{
    pod_round *r = arg;
    cn_client *c = NULL;
    cn_client_watch *w = NULL;
    cn_err err = CN_ERR_INIT;
    if (cn_client_new_kubeconfig(r->k->kubeconfig, &c, &err) < 0 ||
        cn_client_watch_start(c, "/api/v1/namespaces/default/pods", r->rv, &w, &err) < 0)
        goto out;
    while (!atomic_load(&r->stop)) {
        cn_watch_event ev;
        int got = cn_client_watch_next(w, 200, &ev, &err);
        if (got < 0) break;
        if (got == 0) continue;
        int64_t now = bn_now_us();
        long i = pod_index(r, cn_meta_str(ev.object, "name"));
        if (i >= 0 && !strcmp(ev.type, "MODIFIED")) {
            if (!r->bound[i] && cn_json_str_at(ev.object, "spec.nodeName")[0]) r->bound[i] = now;
            if (!r->running[i] && !strcmp(cn_json_str_at(ev.object, "status.phase"), "Running")) r->running[i] = now;
            size_t j;
            json_t *cond;
            json_array_foreach(json_object_get(json_object_get(ev.object, "status"), "conditions"), j, cond)
                if (!r->ready[i] && !strcmp(cn_json_str_at(cond, "type"), "Ready") &&
                    !strcmp(cn_json_str_at(cond, "status"), "True"))
                    r->ready[i] = now;
        }
        json_decref(ev.object);
    }
out:
    cn_client_watch_free(w);
    cn_client_free(c);
    cn_err_clear(&err);
    return NULL;
}

static json_t *pod_json(const char *name, const char *image)
{
    return json_pack("{s:s,s:s,s:{s:s},s:{s:i,s:s,s:[{s:s,s:s,s:s,s:[sss]}]}}",
                     "apiVersion", "v1", "kind", "Pod", "metadata", "name", name,
                     "spec", "terminationGracePeriodSeconds", 0, "restartPolicy", "Always",
                     "containers", "name", "c", "image", image, "imagePullPolicy", "IfNotPresent",
                     "command", "/bin/sh", "-c", "echo ready; exec sleep 3600");
}

static void delete_pods_and_wait(cairn *k)
{
    cn_err err = CN_ERR_INIT;
    json_t *list = NULL, *opts = json_pack("{s:i}", "gracePeriodSeconds", 0);
    if (cn_client_get(k->c, "/api/v1/namespaces/default/pods", &list, &err) == 0) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(list, "items"), i, p) {
            char *path = cn_asprintf("/api/v1/namespaces/default/pods/%s", cn_meta_str(p, "name"));
            if (cn_client_delete(k->c, path, opts, NULL, &err) < 0) cn_err_clear(&err);
            free(path);
        }
    }
    cn_err_clear(&err);
    json_decref(list);
    json_decref(opts);
    for (int64_t t0 = cn_now_ms(); cn_now_ms() - t0 < 60000; usleep(100000)) {
        list = NULL;
        size_t left = 1;
        if (cn_client_get(k->c, "/api/v1/namespaces/default/pods", &list, &err) == 0)
            left = json_array_size(json_object_get(list, "items"));
        cn_err_clear(&err);
        json_decref(list);
        if (left == 0) break;
    }
}

/* Returns how many of the n pods reached Ready; fills the samples. */
static long pod_round_run(cairn *k, long n, size_t round, row *rw, long *rss_kib)
{
    pod_round *r = cn_calloc(1, sizeof *r);
    r->k = k;
    r->n = n;
    snprintf(r->prefix, sizeof r->prefix, "p%ld-%zu-", n, round);
    cn_err err = CN_ERR_INIT;
    json_t *list = NULL;
    if (cn_client_get(k->c, "/api/v1/namespaces/default/pods?limit=1", &list, &err) == 0)
        snprintf(r->rv, sizeof r->rv, "%s", cn_json_str_at(list, "metadata.resourceVersion"));
    json_decref(list);
    cn_err_clear(&err);
    pthread_t wt;
    pthread_create(&wt, NULL, pod_watcher, r);
    usleep(200000);   /* the watch is open before the first create */
    char *image = cn_asprintf("%s/busybox:1", k->registry_addr);
    for (long i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%ld", r->prefix, i);
        json_t *pod = pod_json(name, image);
        r->created[i] = bn_now_us();
        if (cn_client_create(k->c, "/api/v1/namespaces/default/pods", pod, NULL, &err) < 0) {
            fprintf(stderr, "bench_pods: create %s: %s\n", name, err.message);
            cn_err_clear(&err);
            r->created[i] = 0;
        }
        json_decref(pod);
    }
    free(image);
    long ready = 0;
    for (int64_t t0 = cn_now_ms(); cn_now_ms() - t0 < (int64_t)(opt_timeout_s * 1000); usleep(50000)) {
        ready = 0;
        for (long i = 0; i < n; i++) if (r->ready[i] && r->running[i]) ready++;
        if (ready == n) break;
    }
    if (rss_kib) *rss_kib = bn_rss_kib(k->agent);
    atomic_store(&r->stop, true);
    pthread_join(wt, NULL);
    for (long i = 0; i < n; i++) {
        if (!r->created[i]) continue;
        if (r->running[i]) rw->s[2][rw->ns[2]++] = r->running[i] - r->created[i];
        else rw->fail[2]++;
        if (r->ready[i]) rw->s[3][rw->ns[3]++] = r->ready[i] - r->created[i];
        else rw->fail[3]++;
        if (r->bound[i]) rw->s[4][rw->ns[4]++] = r->bound[i] - r->created[i];
    }
    free(r);
    delete_pods_and_wait(k);
    return ready;
}

/* The cairn side runs in a network namespace of its own (lo only): the
 * agent's bridge, pod routes and veths stay out of the machine's namespace
 * and go with it. setns moves this thread, so the server, registry and
 * agent started from here, the watch thread and this thread's own API
 * connections all live there. *host_ns gets the way back. */
static int enter_node_netns(char *name, size_t len, int *host_ns)
{
    snprintf(name, len, "%s-node", strrchr(dir, '/') + 1);
    char *add[] = { "/usr/bin/ip", "netns", "add", name, NULL };
    if (run(add, NULL) != 0) return -1;
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int r = fd >= 0 && *host_ns >= 0 ? setns(fd, CLONE_NEWNET) : -1;
    if (fd >= 0) close(fd);
    char *up[] = { "/usr/bin/ip", "link", "set", "lo", "up", NULL };
    if (r == 0) r = run(up, NULL) == 0 ? 0 : -1;
    return r;
}

static void leave_node_netns(const char *name, int host_ns)
{
    if (host_ns >= 0) {
        if (setns(host_ns, CLONE_NEWNET) < 0) fprintf(stderr, "bench_pods: setns back: %s\n", strerror(errno));
        close(host_ns);
    }
    char *del[] = { "/usr/bin/ip", "netns", "del", (char *)name, NULL };
    if (name[0]) run(del, NULL);
}

static void cairn_rows(row *rows, size_t nrows, long *rss100, char *why, size_t whylen)
{
    cairn k = { .server = -1, .registry = -1, .agent = -1 };
    char ns[96] = "";
    int host_ns = -1;
    if (!opt_host_network && enter_node_netns(ns, sizeof ns, &host_ns) < 0) {
        snprintf(why, whylen, "could not make the node's network namespace");
        goto out;
    }
    if (cairn_start(&k, why, whylen) < 0) goto out;
    /* Warm-up: the first pod pulls and unpacks the image; the peers also
     * start from an image already local. */
    row warm = { .n = 1 };
    int64_t s2[1], s3[1], s4[1];
    warm.s[2] = s2;
    warm.s[3] = s3;
    warm.s[4] = s4;
    if (pod_round_run(&k, 1, 0, &warm, NULL) != 1) {
        snprintf(why, whylen, "the warm-up pod did not become Ready within %.0f s (%s)", opt_timeout_s,
                 opt_keep ? "see agent.log" : "--keep keeps the agent's log");
        goto out;
    }
    for (size_t r = 0; r < nrows; r++) {
        long n = rows[r].n;
        size_t rounds = rounds_for(n);
        rows[r].s[2] = cn_calloc((size_t)n * rounds, sizeof(int64_t));
        rows[r].s[3] = cn_calloc((size_t)n * rounds, sizeof(int64_t));
        rows[r].s[4] = cn_calloc((size_t)n * rounds, sizeof(int64_t));
        for (size_t k2 = 0; k2 < rounds; k2++) {
            long rss = -1;
            pod_round_run(&k, n, k2 + 1, &rows[r], n == 100 ? &rss : NULL);
            if (n == 100 && rss > 0) *rss100 = rss;
        }
        printf("  cairn  %3ld at once: %zu Running, %zu Ready, %zu not\n", n, rows[r].ns[2], rows[r].ns[3],
               rows[r].fail[3]);
        fflush(stdout);
    }
out:
    cairn_stop(&k);
    if (!opt_host_network) leave_node_netns(ns, host_ns);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_pods [--cairn PATH] [--counts 1,10,100] [--only runc,podman,cairn]\n"
            "                  [--agent-flags 'FLAGS'] [--agent-cmd 'CMD'] [--node-name N]\n"
            "                  [--timeout S] [--keep] [--host-network]\n"
            "  create -> Running / Ready latency of N pods started at once on one real node,\n"
            "  against bare `runc run` and `podman run` of the same busybox image\n"
            "  --counts       pods started at once, per row (default 1,10,100; at most 1000)\n"
            "  --only         which columns to run (default runc,podman,cairn)\n"
            "  --agent-flags  extra flags for `cairn agent` (after --kubeconfig --node-name\n"
            "                 --data-dir --node-ip 127.0.0.1 --insecure-registry, set by the bench)\n"
            "  --agent-cmd    run this shell command as the agent instead; it sees\n"
            "                 $CN_BENCH_CAIRN, $CN_BENCH_KUBECONFIG, $CN_BENCH_NODE,\n"
            "                 $CN_BENCH_DATA_DIR and $CN_BENCH_REGISTRY\n"
            "  --node-name N  the node the agent registers (default bench-node)\n"
            "  --host-network run server, registry and agent in this machine's network\n"
            "                 namespace instead of one of the bench's own (the agent's pod\n"
            "                 network then lands on the machine)\n"
            "  --timeout S    per round, until every pod is Ready (default 120)\n"
            "  --keep         keep the temporary directory (logs, image, bundle)\n");
}

static void print_cell(int64_t *s, size_t n)
{
    if (n == 0) printf(" %8s %8s |", "n/a", "n/a");
    else printf(" %8.1f %8.1f |", pct(s, n, 50), pct(s, n, 99));
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cairn") && i + 1 < argc) opt_cairn = argv[++i];
        else if (!strcmp(argv[i], "--counts") && i + 1 < argc) opt_counts = argv[++i];
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) opt_only = argv[++i];
        else if (!strcmp(argv[i], "--agent-flags") && i + 1 < argc) opt_agent_flags = argv[++i];
        else if (!strcmp(argv[i], "--agent-cmd") && i + 1 < argc) opt_agent_cmd = argv[++i];
        else if (!strcmp(argv[i], "--node-name") && i + 1 < argc) opt_node = argv[++i];
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) opt_timeout_s = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--keep")) opt_keep = true;
        else if (!strcmp(argv[i], "--host-network")) opt_host_network = true;
        else {
            usage();
            return 2;
        }
    }
    row rows[8];
    size_t nrows = 0;
    memset(rows, 0, sizeof rows);
    char counts[64];
    snprintf(counts, sizeof counts, "%s", opt_counts);
    for (char *save = NULL, *t = strtok_r(counts, ",", &save); t && nrows < 8; t = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (cn_parse_int64(t, &v) == 0 && v > 0 && v <= MAX_PODS) rows[nrows++].n = (long)v;
    }
    if (geteuid() != 0) fprintf(stderr, "bench_pods: runc, podman and the agent need root\n");
    setvbuf(stdout, NULL, _IOLBF, 0);   /* children must not inherit buffered lines */
    /* Not mkdtemp: podman names an image pulled from oci:DIR after DIR,
     * and an image name must be lowercase. */
    for (int tries = 0;; tries++) {
        uint32_t rnd;
        cn_random(&rnd, sizeof rnd);
        snprintf(dir, sizeof dir, "/tmp/cn-bench-pods-%08x", rnd);
        if (mkdir(dir, 0700) == 0) break;
        if (errno != EEXIST || tries > 10) return 1;
    }
    /* The cairn binary is run from the bench's own directory below. */
    char *abs_cairn = realpath(opt_cairn, NULL);
    if (abs_cairn) opt_cairn = abs_cairn;
    int rc = 1;
    if (build_image() < 0) goto out;
    printf("busybox image: %s/img (OCI layout and rootfs)\n", dir);

    if (want("runc")) {
        if (make_bundle() == 0) peer_rows(rows, nrows, 0);
        else snprintf(rows[0].note[0], sizeof rows[0].note[0], "could not make the runc bundle");
    }
    if (want("podman")) {
        if (podman_setup() == 0) peer_rows(rows, nrows, 1);
        else snprintf(rows[0].note[1], sizeof rows[0].note[1], "podman setup failed (%s)",
                      opt_keep ? "see podman.log" : "--keep keeps podman.log");
        podman_teardown();
    }
    long rss100 = -1;
    char why[400] = "";
    if (want("cairn")) cairn_rows(rows, nrows, &rss100, why, sizeof why);

    printf("\ncreate -> Running (ms; runc and podman: `run` of an echo container, start -> exit)\n");
    printf("|      | %-17s | %-17s | %-17s | %-17s | p99 ratio  | p99 ratio    |\n", "runc run", "podman run",
           "cairn -> Running", "cairn -> Ready");
    printf("| pods | %8s %8s | %8s %8s | %8s %8s | %8s %8s | cairn/runc | cairn/podman |\n", "p50", "p99", "p50",
           "p99", "p50", "p99", "p50", "p99");
    for (size_t r = 0; r < nrows; r++) {
        printf("| %4ld |", rows[r].n);
        double p99[4];
        for (int w = 0; w < 4; w++) {
            print_cell(rows[r].s[w], rows[r].ns[w]);
            p99[w] = rows[r].ns[w] ? pct(rows[r].s[w], rows[r].ns[w], 99) : -1;
        }
        if (p99[2] > 0 && p99[0] > 0) printf(" %9.2fx |", p99[2] / p99[0]);
        else printf(" %10s |", "n/a");
        if (p99[2] > 0 && p99[1] > 0) printf(" %11.2fx |\n", p99[2] / p99[1]);
        else printf(" %12s |\n", "n/a");
    }
    for (int w = 0; w < 2; w++)
        if (rows[0].note[w][0]) printf("%s: %s\n", w == 0 ? "runc" : "podman", rows[0].note[w]);
    for (size_t r = 0; r < nrows; r++)
        if (rows[r].ns[4])
            printf("cairn, %ld at once: create -> bound to the node (scheduler) p50 %.1f, p99 %.1f ms\n", rows[r].n,
                   pct(rows[r].s[4], rows[r].ns[4], 50), pct(rows[r].s[4], rows[r].ns[4], 99));
    if (want("cairn")) {
        if (why[0]) printf("cairn: skipped — %s\n", why);
        else if (rss100 > 0) printf("agent RSS with 100 pods Running: %.1f MiB (goal <= 15 MiB)\n", rss100 / 1024.0);
    }
    printf("goals (issue 6): p99 create -> Running <= 2x runc and <= 0.5x podman\n");
    rc = 0;
out:
    for (size_t r = 0; r < nrows; r++) for (int w = 0; w < 5; w++) free(rows[r].s[w]);
    unmount_below(dir);
    if (opt_keep) {
        printf("kept %s\n", dir);
    } else {
        char *cmd = cn_asprintf("rm -rf %s", dir);
        if (system(cmd) != 0) fprintf(stderr, "bench_pods: could not remove %s\n", dir);
        free(cmd);
    }
    free(abs_cairn);
    return rc;
}
