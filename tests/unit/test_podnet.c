/* Tests for agent/podnet: IPAM, the bridge, wiring a pod namespace, routes.
 * Needs root. The whole test runs in a private network namespace it
 * unshares at the start (the "node"); each "pod" is a child process that
 * unshares its own and is reached through /proc/PID/ns/net, so nothing is
 * mounted and nothing touches the machine's own namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/podnet-internal.h"
#include "agent/podnet.h"
#include "test.h"

static char tmpdir[] = "/tmp/test_podnet.XXXXXX";

static char *state_dir(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static cn_podnet *open_net(const char *dir, const char *block)
{
    cn_podnet_config cfg = { .dir = state_dir(dir), .bridge = "tbr0", .block = block };
    cn_podnet *n = NULL;
    cn_err err = CN_ERR_INIT;
    int rc = cn_podnet_open(&cfg, &n, &err);
    if (rc < 0) fprintf(stderr, "open: %s\n", err.message);
    cn_err_clear(&err);
    return n;
}

static uint32_t be(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

/* ---- IPAM ---- */

static void test_ipam(void)
{
    /* /29: .0 network, .1 gateway, .7 broadcast: five pod addresses. */
    cn_podnet *n = open_net("ipam", "10.250.0.0/29");
    CHECK(n != NULL);
    if (!n) return;
    char ips[5][64];
    const char *owners[5] = { "pod-a", "pod-b", "pod-c", "pod-d", "pod-e" };
    for (int i = 0; i < 5; i++) {
        CHECK_INT(cn_podnet_ip_alloc(n, owners[i], ips[i], NULL), 0);
        CHECK(strcmp(ips[i], "10.250.0.0") && strcmp(ips[i], "10.250.0.1") && strcmp(ips[i], "10.250.0.7"));
        for (int j = 0; j < i; j++) CHECK(strcmp(ips[i], ips[j]) != 0);
    }
    char again[64];
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-c", again, NULL), 0);
    CHECK_STR(again, ips[2]);
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-f", again, &err), -ENOSPC);
    CHECK(err.message && strstr(err.message, "no free address"));
    cn_err_clear(&err);
    CHECK_INT(cn_podnet_ip_alloc(n, "", again, NULL), -EINVAL);
    CHECK_INT(cn_podnet_ip_alloc(n, "a/b", again, NULL), -EINVAL);

    /* Persisted: a new instance (an agent restart) sees the same. */
    cn_podnet_close(n);
    n = open_net("ipam", "10.250.0.0/29");
    CHECK(n != NULL);
    if (!n) return;
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-a", again, NULL), 0);
    CHECK_STR(again, ips[0]);
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-f", again, NULL), -ENOSPC);

    /* Release frees exactly the owner's address. */
    CHECK_INT(cn_podnet_ip_release(n, "pod-c"), 1);
    CHECK_INT(cn_podnet_ip_release(n, "pod-c"), 0);
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-f", again, NULL), 0);
    CHECK_STR(again, ips[2]);

    /* Reconcile keeps the live owners only. */
    const char *live[] = { "pod-a", "pod-f" };
    CHECK_INT(cn_podnet_ip_reconcile(n, live, 2), 3);
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-a", again, NULL), 0);
    CHECK_STR(again, ips[0]);
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-f", again, NULL), 0);
    CHECK_STR(again, ips[2]);
    char fresh[3][64];
    for (int i = 0; i < 3; i++) CHECK_INT(cn_podnet_ip_alloc(n, owners[1 + i + (i >= 1)], fresh[i], NULL), 0);
    CHECK_INT(cn_podnet_ip_alloc(n, "pod-g", again, NULL), -ENOSPC);
    cn_podnet_close(n);
}

/* The node got another block (its Node was made again): the old block's
 * addresses are not handed out and reconcile removes them. */
static void test_ipam_new_block(void)
{
    cn_podnet *n = open_net("moved", "10.250.6.0/29");
    CHECK(n != NULL);
    if (!n) return;
    char ip[64];
    CHECK_INT(cn_podnet_ip_alloc(n, "o1", ip, NULL), 0);
    CHECK_STR(ip, "10.250.6.2");
    cn_podnet_close(n);
    n = open_net("moved", "10.250.7.0/29");
    CHECK(n != NULL);
    if (!n) return;
    CHECK_INT(cn_podnet_ip_alloc(n, "o1", ip, NULL), 0);
    CHECK_STR(ip, "10.250.7.2");
    const char *live[] = { "o1" };
    CHECK_INT(cn_podnet_ip_reconcile(n, live, 1), 1);
    CHECK_INT(cn_podnet_ip_alloc(n, "o1", ip, NULL), 0);
    CHECK_STR(ip, "10.250.7.2");
    cn_podnet_close(n);
}

/* Two instances on one directory (two agents, or an agent and its
 * restarted self) allocating at once never share an address. */
struct racer { cn_podnet *n; const char *prefix; char ips[12][64]; int ok; };

static void *race(void *ud)
{
    struct racer *r = ud;
    for (int i = 0; i < 12; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "%s-%d", r->prefix, i);
        if (cn_podnet_ip_alloc(r->n, owner, r->ips[r->ok], NULL) == 0) r->ok++;
    }
    return NULL;
}

static void test_ipam_race(void)
{
    cn_podnet *a = open_net("race", "10.250.1.0/27"), *b = open_net("race", "10.250.1.0/27");
    CHECK(a && b);
    if (!a || !b) return;
    struct racer ra = { a, "x", {{0}}, 0 }, rb = { b, "y", {{0}}, 0 };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &ra);
    pthread_create(&tb, NULL, race, &rb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    /* 29 pod addresses, 24 asked for: all succeed, all distinct. */
    CHECK_INT(ra.ok, 12);
    CHECK_INT(rb.ok, 12);
    for (int i = 0; i < ra.ok; i++)
        for (int j = 0; j < rb.ok; j++) CHECK(strcmp(ra.ips[i], rb.ips[j]) != 0);
    cn_podnet_close(a);
    cn_podnet_close(b);
}

/* ---- the bridge ---- */

static int bridge_addrs(cn_nl *nl, cn_nl_addr *out, size_t *n)
{
    unsigned idx = 0;
    if (cn_nl_link_index(nl, "tbr0", &idx) < 0 || !idx) return -1;
    return cn_nl_addr_list(nl, idx, out, 8, n);
}

static void test_bridge(void)
{
    cn_nl *nl = NULL;
    CHECK_INT(cn_nl_open(-1, &nl), 0);
    if (!nl) return;
    cn_podnet *n = open_net("br", "10.250.2.0/24");
    CHECK(n != NULL);
    cn_nl_addr a[8];
    size_t na = 0;
    CHECK_INT(bridge_addrs(nl, a, &na), 0);
    CHECK_INT(na, 1);
    CHECK(na == 1 && a[0].ip == be("10.250.2.1") && a[0].prefix == 24);
    cn_podnet_close(n);
    /* Again: fine, same state. */
    n = open_net("br", "10.250.2.0/24");
    CHECK(n != NULL);
    cn_podnet_close(n);
    CHECK_INT(bridge_addrs(nl, a, &na), 0);
    CHECK_INT(na, 1);
    /* Another block: the old gateway goes. */
    n = open_net("br", "10.250.3.0/24");
    CHECK(n != NULL);
    cn_podnet_close(n);
    CHECK_INT(bridge_addrs(nl, a, &na), 0);
    CHECK(na == 1 && a[0].ip == be("10.250.3.1"));
    char buf[8] = "";
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) > 0);
    if (fd >= 0) close(fd);
    CHECK(buf[0] == '1');
    cn_podnet_config bad = { .dir = state_dir("br"), .block = "10.250.3.1/24" };
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_podnet_open(&bad, &n, &err), -EINVAL);
    cn_err_clear(&err);
    cn_nl_close(nl);
}

/* ---- a pod ---- */

/* A child in its own network namespace that, for every byte read on cmd,
 * connects to the address:port that follows and answers "1" or "0". */
typedef struct pod { pid_t pid; int cmd, res; char ns[64]; } pod;

static void pod_main(int cmd, int res)
{
    struct { char ip[16]; uint16_t port; } req;
    while (read(cmd, &req, sizeof req) == (ssize_t)sizeof req) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(req.port) };
        inet_pton(AF_INET, req.ip, &sa.sin_addr);
        char ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? '1' : '0';
        close(s);
        if (write(res, &ok, 1) != 1) break;
    }
    _exit(0);
}

static int pod_start(pod *p)
{
    int c[2], r[2], ready[2];
    if (pipe(c) < 0 || pipe(r) < 0 || pipe(ready) < 0) return -1;
    p->pid = fork();
    if (p->pid == 0) {
        char ok = unshare(CLONE_NEWNET) == 0 ? '1' : '0';
        if (write(ready[1], &ok, 1) != 1) _exit(1);
        close(c[1]);
        close(r[0]);
        pod_main(c[0], r[1]);
    }
    close(c[0]);
    close(r[1]);
    close(ready[1]);
    char ok = '0';
    if (read(ready[0], &ok, 1) != 1) ok = '0';
    close(ready[0]);
    p->cmd = c[1];
    p->res = r[0];
    snprintf(p->ns, sizeof p->ns, "/proc/%d/ns/net", (int)p->pid);
    return ok == '1' ? 0 : -1;
}

static void pod_stop(pod *p)
{
    /* Not EOF on cmd: a later pod inherited our end of that pipe. */
    kill(p->pid, SIGKILL);
    close(p->cmd);
    close(p->res);
    waitpid(p->pid, NULL, 0);
}

static bool pod_connect(pod *p, const char *ip, uint16_t port)
{
    struct { char ip[16]; uint16_t port; } req = { "", port };
    snprintf(req.ip, sizeof req.ip, "%s", ip);
    char ok = '0';
    if (write(p->cmd, &req, sizeof req) != (ssize_t)sizeof req || read(p->res, &ok, 1) != 1) return false;
    return ok == '1';
}

static int listen_on(const char *ip, uint16_t *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, ip, &sa.sin_addr);
    socklen_t len = sizeof sa;
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 8) < 0 ||
        getsockname(s, (struct sockaddr *)&sa, &len) < 0) {
        close(s);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return s;
}

/* The address the last accepted connection came from. */
static void accepted_from(int ls, char out[INET_ADDRSTRLEN])
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    out[0] = '\0';
    struct pollfd pfd = { ls, POLLIN, 0 };
    if (poll(&pfd, 1, 10000) != 1) return;   /* the handshake's last ACK may still be on its way */
    int s = accept(ls, (struct sockaddr *)&sa, &len);
    if (s < 0) return;
    inet_ntop(AF_INET, &sa.sin_addr, out, INET_ADDRSTRLEN);
    close(s);
}

struct attach_job { cn_podnet *n; const char *ns, *owner, *ip; int rc; };

static void *attach_thread(void *ud)
{
    struct attach_job *j = ud;
    j->rc = cn_podnet_attach(j->n, j->ns, j->owner, j->ip, NULL);
    /* Still in the node's namespace: a socket made here is the node's. */
    unsigned idx = 0;
    cn_nl *nl = NULL;
    if (j->rc == 0 && (cn_nl_open(-1, &nl) < 0 || cn_nl_link_index(nl, "tbr0", &idx) < 0 || !idx)) j->rc = -99;
    cn_nl_close(nl);
    return NULL;
}

static void test_attach(void)
{
    cn_podnet *n = open_net("pods", "10.250.4.0/24");
    CHECK(n != NULL);
    if (!n) return;
    pod p;
    CHECK_INT(pod_start(&p), 0);
    char ip[64];
    CHECK_INT(cn_podnet_ip_alloc(n, "uid-1", ip, NULL), 0);
    cn_err err = CN_ERR_INIT;
    int rc = cn_podnet_attach(n, p.ns, "uid-1", ip, &err);
    CHECK_INT(rc, 0);
    if (rc < 0) fprintf(stderr, "attach: %s\n", err.message);
    cn_err_clear(&err);
    /* Twice is fine. */
    CHECK_INT(cn_podnet_attach(n, p.ns, "uid-1", ip, NULL), 0);
    CHECK_INT(cn_podnet_attach(n, p.ns, "uid-1", "10.250.9.9", NULL), -EINVAL);
    CHECK_INT(cn_podnet_attach(n, p.ns, "uid-1", "10.250.4.1", NULL), -EINVAL);

    cn_nl *nl = NULL;
    CHECK_INT(cn_nl_open(-1, &nl), 0);
    unsigned idx = 0;
    /* The host end: cn + 10 hex digits. */
    char host[16];
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = "uid-1"; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    snprintf(host, sizeof host, "cn%010llx", (unsigned long long)(h >> 24));
    CHECK_INT(cn_nl_link_index(nl, host, &idx), 0);
    CHECK(idx != 0);

    /* The pod reaches the gateway, and through its default route an
     * address of the node that is outside the block. */
    uint16_t port = 0;
    int ls = listen_on("10.250.4.1", &port);
    CHECK(ls >= 0);
    char from[INET_ADDRSTRLEN];
    CHECK(pod_connect(&p, "10.250.4.1", port));
    accepted_from(ls, from);
    CHECK_STR(from, ip);
    unsigned lo = 0;
    CHECK_INT(cn_nl_link_index(nl, "lo", &lo), 0);
    CHECK_INT(cn_nl_link_up(nl, lo, 0), 0);
    CHECK_INT(cn_nl_addr_add(nl, lo, be("192.0.2.1"), 32), 0);
    uint16_t port2 = 0;
    int ls2 = listen_on("192.0.2.1", &port2);
    CHECK(ls2 >= 0);
    CHECK(pod_connect(&p, "192.0.2.1", port2));
    accepted_from(ls2, from);
    CHECK_STR(from, ip);

    /* A second pod on the same bridge reaches the first one. */
    pod q;
    CHECK_INT(pod_start(&q), 0);
    char ip2[64];
    CHECK_INT(cn_podnet_ip_alloc(n, "uid-2", ip2, NULL), 0);
    /* From another thread, as a kubelet's worker would: setns moves only
     * the calling thread, which must come back to the node's namespace. */
    struct attach_job job = { n, q.ns, "uid-2", ip2, -1 };
    pthread_t t;
    pthread_create(&t, NULL, attach_thread, &job);
    pthread_join(t, NULL);
    CHECK_INT(job.rc, 0);
    char self_ns[64] = "", node_ns[64] = "";
    CHECK(readlink("/proc/thread-self/ns/net", self_ns, sizeof self_ns - 1) > 0);
    CHECK(readlink("/proc/self/ns/net", node_ns, sizeof node_ns - 1) > 0);
    CHECK_STR(self_ns, node_ns);
    CHECK(pod_connect(&q, "10.250.4.1", port));
    accepted_from(ls, from);
    CHECK_STR(from, ip2);

    /* Detach: the host end is gone, the pod is cut off; twice is fine. */
    CHECK_INT(cn_podnet_detach(n, "uid-1", NULL), 0);
    CHECK_INT(cn_podnet_detach(n, "uid-1", NULL), 0);
    CHECK_INT(cn_nl_link_index(nl, host, &idx), 0);
    CHECK_INT(idx, 0);
    CHECK(!pod_connect(&p, "10.250.4.1", port));
    /* And attach again brings it back. */
    CHECK_INT(cn_podnet_attach(n, p.ns, "uid-1", ip, NULL), 0);
    CHECK(pod_connect(&p, "10.250.4.1", port));
    accepted_from(ls, from);
    CHECK_STR(from, ip);

    /* The bridge was removed behind the agent's back: the next attach
     * makes it again. */
    unsigned br = 0;
    CHECK_INT(cn_nl_link_index(nl, "tbr0", &br), 0);
    CHECK_INT(cn_nl_link_del(nl, br), 0);
    pod r;
    CHECK_INT(pod_start(&r), 0);
    char ip3[64];
    CHECK_INT(cn_podnet_ip_alloc(n, "uid-3", ip3, NULL), 0);
    CHECK_INT(cn_podnet_attach(n, r.ns, "uid-3", ip3, NULL), 0);
    close(ls);
    ls = listen_on("10.250.4.1", &port);
    CHECK(ls >= 0);
    CHECK(pod_connect(&r, "10.250.4.1", port));
    accepted_from(ls, from);
    CHECK_STR(from, ip3);
    pod_stop(&r);

    close(ls);
    close(ls2);
    cn_nl_close(nl);
    pod_stop(&p);
    pod_stop(&q);
    cn_podnet_close(n);
}

/* ---- routes ---- */

static size_t owned_routes(cn_nl_route *out, size_t max)
{
    cn_nl *nl = NULL;
    cn_nl_route *r = NULL;
    size_t n = 0;
    if (cn_nl_open(-1, &nl) < 0) return 0;
    if (cn_nl_route_list(nl, CN_PODNET_RTPROT, &r, &n) < 0) n = 0;
    for (size_t i = 0; i < n && i < max; i++) out[i] = r[i];
    free(r);
    cn_nl_close(nl);
    return n;
}

static void test_routes(void)
{
    cn_podnet *n = open_net("routes", "10.250.5.0/24");
    CHECK(n != NULL);
    if (!n) return;
    cn_nl *nl = NULL;
    CHECK_INT(cn_nl_open(-1, &nl), 0);
    /* Someone else's route, which must survive. */
    CHECK_INT(cn_nl_route_replace(nl, be("10.253.0.0"), 24, be("10.250.5.6"), RTPROT_STATIC), 0);

    cn_podnet_route want[] = {
        { "10.251.0.0/24", "10.250.5.6" },
        { "10.252.0.0/24", "10.250.5.5" },
        { "10.250.5.0/24", "10.250.5.9" },   /* our own block: skipped */
    };
    CHECK_INT(cn_podnet_set_routes(n, want, 3, NULL), 0);
    cn_nl_route got[8];
    size_t ng = owned_routes(got, 8);
    CHECK_INT(ng, 2);
    CHECK_INT(cn_podnet_set_routes(n, want, 3, NULL), 0);
    CHECK_INT(owned_routes(got, 8), 2);

    cn_podnet_route next[] = { { "10.251.0.0/24", "10.250.5.5" } };
    CHECK_INT(cn_podnet_set_routes(n, next, 1, NULL), 0);
    ng = owned_routes(got, 8);
    CHECK_INT(ng, 1);
    CHECK(ng == 1 && got[0].dst == be("10.251.0.0") && got[0].via == be("10.250.5.5"));

    /* From Nodes: ourselves and a Node without a block or address are
     * skipped. */
    json_error_t je;
    json_t *nodes = json_loads(
        "[{\"metadata\":{\"name\":\"me\"},\"spec\":{\"podCIDR\":\"10.250.5.0/24\"},"
        "  \"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.250.5.9\"}]}},"
        " {\"metadata\":{\"name\":\"b\"},\"spec\":{\"podCIDRs\":[\"fd00::/64\",\"10.251.0.0/24\"]},"
        "  \"status\":{\"addresses\":[{\"type\":\"Hostname\",\"address\":\"b\"},"
        "                             {\"type\":\"InternalIP\",\"address\":\"10.250.5.4\"}]}},"
        " {\"metadata\":{\"name\":\"c\"},\"spec\":{},"
        "  \"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.250.5.3\"}]}},"
        " {\"metadata\":{\"name\":\"d\"},\"spec\":{\"podCIDR\":\"10.252.0.0/24\"}}]", 0, &je);
    CHECK(nodes != NULL);
    CHECK_INT(cn_podnet_set_routes_from_nodes(n, nodes, "me", NULL), 0);
    json_decref(nodes);
    ng = owned_routes(got, 8);
    CHECK_INT(ng, 1);
    CHECK(ng == 1 && got[0].dst == be("10.251.0.0") && got[0].via == be("10.250.5.4"));

    cn_podnet_route bad[] = { { "10.254.0.0/24", "172.31.255.1" } };   /* not reachable */
    cn_err err = CN_ERR_INIT;
    CHECK(cn_podnet_set_routes(n, bad, 1, &err) < 0);
    CHECK(err.message != NULL);
    cn_err_clear(&err);
    CHECK_INT(cn_podnet_set_routes(n, NULL, 0, NULL), 0);
    CHECK_INT(owned_routes(got, 8), 0);
    cn_nl_route *all = NULL;
    size_t nall = 0;
    CHECK_INT(cn_nl_route_list(nl, RTPROT_STATIC, &all, &nall), 0);
    CHECK_INT(nall, 1);
    free(all);
    cn_nl_close(nl);
    cn_podnet_close(n);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skip: test_podnet needs root (network namespaces)\n");
        return 0;
    }
    if (unshare(CLONE_NEWNET) < 0) {
        printf("skip: cannot create a network namespace: %s\n", strerror(errno));
        return 0;
    }
    if (!mkdtemp(tmpdir)) return 1;
    TEST_RUN(test_ipam);
    TEST_RUN(test_ipam_new_block);
    TEST_RUN(test_ipam_race);
    TEST_RUN(test_bridge);
    TEST_RUN(test_attach);
    TEST_RUN(test_routes);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    return TEST_DONE();
}
