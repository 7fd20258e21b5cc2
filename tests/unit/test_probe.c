/* Tests for agent/probe: validation, and real httpGet/tcpSocket attempts
 * against listeners that a forked child serves inside its own network
 * namespace (unshare(CLONE_NEWNET): only its loopback, never the
 * machine's), reached through netns_path = /proc/<child>/ns/net. Exec
 * probes run against a stand-in cn_ctr_exec_sync defined here (the real
 * one needs runc; the lead's e2e exercises it). */
#define _GNU_SOURCE
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/podspec.h"
#include "lib/util.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fprintf(stderr, "bad test JSON: %s: %s\n", e.text, text);
    return j;
}

/* ---- stand-in runtime exec ---- */

static int64_t last_timeout_ms;

int cn_ctr_exec_sync(cn_runtime *rt, const char *id, const char *const *argv, int64_t timeout_ms,
                     int *exit_code, char **output, cn_err *err)
{
    last_timeout_ms = timeout_ms;
    *output = NULL;
    if (!strcmp(argv[0], "ok")) {
        *exit_code = 0;
        return 0;
    }
    if (!strcmp(argv[0], "fail")) {
        *exit_code = 1;
        *output = cn_strdup("cat: /tmp/healthy: No such file or directory\n");
        return 0;
    }
    if (!strcmp(argv[0], "hang")) return -ETIMEDOUT;
    return cn_err_set(err, 404, "NotFound", "container %s is not running", id);
}

/* ---- the server child ---- */

static pid_t server;
static char tls_dir[64];

static int listen_on(int port, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, backlog) < 0) _exit(3);
    return fd;
}

static void reply(int c, const char *status)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "HTTP/1.1 %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    if (write(c, buf, (size_t)n) < 0) _exit(4);
}

static void serve(int ready_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) < 0) _exit(2);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) _exit(2);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) _exit(2);
    close(s);
    int http = listen_on(8080, 16);
    int tcp = listen_on(9090, 16);
    (void)tcp;
    /* 9091: a full accept queue, so further SYNs are dropped and a connect times out */
    int full = listen_on(9091, 0);
    (void)full;
    for (int i = 0; i < 3; i++) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(9091), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        connect(c, (struct sockaddr *)&a, sizeof a);
    }
    usleep(100 * 1000);     /* let the fillers' handshakes land; the tests only need the queue full */
    if (write(ready_fd, "r", 1) != 1) _exit(2);
    close(ready_fd);
    for (;;) {
        int c = accept(http, NULL, NULL);
        if (c < 0) continue;
        char req[4096];
        ssize_t n = recv(c, req, sizeof req - 1, 0);
        if (n <= 0) {
            close(c);
            continue;
        }
        req[n] = '\0';
        if (!strncmp(req, "GET /ok ", 8)) reply(c, "200 OK");
        else if (!strncmp(req, "GET /fail ", 10)) reply(c, "500 Internal Server Error");
        else if (!strncmp(req, "GET /redirect ", 14)) reply(c, "302 Found");
        else if (!strncmp(req, "GET /hdr ", 9))
            reply(c, strstr(req, "\r\nX-Test: yes\r\n") && strstr(req, "\r\nUser-Agent: kube-probe/1.32\r\n") &&
                     strstr(req, "\r\nHost: 127.0.0.1:8080\r\n") ? "200 OK" : "400 Bad Request");
        else if (!strncmp(req, "GET /garbage ", 13)) {
            if (write(c, "garbage\r\n", 9) < 0) _exit(4);
        } else if (!strncmp(req, "GET /hang ", 10)) continue;     /* never answer, keep it open */
        else reply(c, "404 Not Found");
        close(c);
    }
}

static char netns[64];

static int start_server(void)
{
    int p[2];
    if (pipe(p) < 0) return -1;
    server = fork();
    if (server == 0) {
        close(p[0]);
        serve(p[1]);
        _exit(0);
    }
    close(p[1]);
    char c;
    ssize_t n = read(p[0], &c, 1);
    close(p[0]);
    snprintf(netns, sizeof netns, "/proc/%d/ns/net", (int)server);
    return n == 1 ? 0 : -1;
}

/* An HTTPS server (openssl s_server, self-signed) on 8443 in the server's
 * namespace; our own child, so we kill and reap it. */
static pid_t tls_server;

static void start_tls(void)
{
    if (!*tls_dir) return;
    tls_server = fork();
    if (tls_server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char cert[128], key[128];
        snprintf(cert, sizeof cert, "%s/cert.pem", tls_dir);
        snprintf(key, sizeof key, "%s/key.pem", tls_dir);
        int ns = open(netns, O_RDONLY | O_CLOEXEC), null = open("/dev/null", O_RDWR);
        if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) _exit(126);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:8443", "-cert", cert, "-key", key,
               "-www", "-quiet", (char *)NULL);
        _exit(127);
    }
    /* ready when a tcpSocket probe to it succeeds (bounded: 10 s) */
    json_t *probe = J("{\"tcpSocket\": {\"port\": 8443}}");
    cn_probe_target t = { .netns_path = netns, .pod_ip = "127.0.0.1" };
    for (int i = 0; i < 200; i++) {
        char *msg = NULL;
        cn_probe_result r = cn_probe_run(&t, probe, &msg);
        free(msg);
        if (r == CN_PROBE_SUCCESS) break;
        usleep(50 * 1000);
    }
    json_decref(probe);
}

/* ---- tests ---- */


static json_t *ctr;

static cn_probe_result run(const char *probe_json, const char *kind, char **msg)
{
    json_t *probe = J(probe_json);
    cn_probe_target t = { .ctr_id = "c1", .netns_path = netns, .pod_ip = "127.0.0.1", .ctr = ctr, .kind = kind };
    cn_probe_result r = cn_probe_run(&t, probe, msg);
    json_decref(probe);
    return r;
}

static void expect(const char *probe_json, const char *kind, cn_probe_result want, const char *want_msg)
{
    char *msg = NULL;
    cn_probe_result r = run(probe_json, kind, &msg);
    CHECK_INT(r, want);
    if (want_msg) CHECK_STR(msg, want_msg);
    else if (msg) {
        fprintf(stderr, "unexpected message: %s\n", msg);
        CHECK(msg == NULL);
    }
    free(msg);
}

static void test_http(void)
{
    expect("{\"httpGet\": {\"path\": \"/ok\", \"port\": 8080}}", "Liveness", CN_PROBE_SUCCESS, NULL);
    expect("{\"httpGet\": {\"path\": \"/ok\", \"port\": \"http\"}}", "Liveness", CN_PROBE_SUCCESS, NULL);   /* named port */
    expect("{\"httpGet\": {\"path\": \"/fail\", \"port\": 8080}}", "Liveness", CN_PROBE_FAILURE,
           "Liveness probe failed: HTTP probe failed with statuscode: 500");
    expect("{\"httpGet\": {\"path\": \"/redirect\", \"port\": 8080}}", "Readiness", CN_PROBE_SUCCESS, NULL);
    expect("{\"httpGet\": {\"path\": \"/hdr\", \"port\": 8080, \"httpHeaders\": [{\"name\": \"X-Test\", \"value\": \"yes\"}]}}",
           "Readiness", CN_PROBE_SUCCESS, NULL);
    expect("{\"httpGet\": {\"path\": \"/hdr\", \"port\": 8080}}", NULL, CN_PROBE_FAILURE,
           "HTTP probe failed with statuscode: 400");
    expect("{\"httpGet\": {\"path\": \"/hang\", \"port\": 8080}, \"timeoutSeconds\": 1}", "Startup", CN_PROBE_FAILURE,
           "Startup probe failed: Get \"http://127.0.0.1:8080/hang\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
    expect("{\"httpGet\": {\"path\": \"/ok\", \"port\": 8081}}", "Liveness", CN_PROBE_FAILURE,
           "Liveness probe failed: Get \"http://127.0.0.1:8081/ok\": dial tcp 127.0.0.1:8081: connect: connection refused");
    char *msg = NULL;
    CHECK_INT(run("{\"httpGet\": {\"path\": \"/garbage\", \"port\": 8080}}", NULL, &msg), CN_PROBE_FAILURE);
    CHECK(msg && strstr(msg, "malformed HTTP response \"garbage\""));
    free(msg);
}

static void test_https(void)
{
    if (!*tls_dir) {
        printf("skipped https: no openssl\n");
        return;
    }
    expect("{\"httpGet\": {\"path\": \"/\", \"port\": 8443, \"scheme\": \"HTTPS\"}, \"timeoutSeconds\": 5}", "Liveness",
           CN_PROBE_SUCCESS, NULL);
    /* TLS spoken to a plain HTTP server fails */
    char *msg = NULL;
    CHECK_INT(run("{\"httpGet\": {\"path\": \"/ok\", \"port\": 8080, \"scheme\": \"HTTPS\"}, \"timeoutSeconds\": 2}", NULL, &msg),
              CN_PROBE_FAILURE);
    CHECK(msg && cn_str_has_prefix(msg, "Get \"https://127.0.0.1:8080/ok\": "));
    free(msg);
}

static void test_tcp(void)
{
    expect("{\"tcpSocket\": {\"port\": 9090}}", "Readiness", CN_PROBE_SUCCESS, NULL);
    expect("{\"tcpSocket\": {\"port\": 9092}}", "Readiness", CN_PROBE_FAILURE,
           "Readiness probe failed: dial tcp 127.0.0.1:9092: connect: connection refused");
    expect("{\"tcpSocket\": {\"port\": 9091}, \"timeoutSeconds\": 1}", "Liveness", CN_PROBE_FAILURE,
           "Liveness probe failed: dial tcp 127.0.0.1:9091: i/o timeout");
    expect("{\"tcpSocket\": {\"port\": 9090, \"host\": \"127.0.0.1\"}}", NULL, CN_PROBE_SUCCESS, NULL);
}

static void test_namespace_untouched(void)
{
    char before[64] = "", after[64] = "";
    ssize_t n = readlink("/proc/thread-self/ns/net", before, sizeof before - 1);
    CHECK(n > 0);
    expect("{\"tcpSocket\": {\"port\": 9090}}", NULL, CN_PROBE_SUCCESS, NULL);
    n = readlink("/proc/thread-self/ns/net", after, sizeof after - 1);
    CHECK(n > 0);
    CHECK_STR(after, before);
    /* a namespace that does not exist: the probe errors, nothing else */
    json_t *probe = J("{\"tcpSocket\": {\"port\": 9090}}");
    cn_probe_target t = { .netns_path = "/proc/0/ns/nope", .pod_ip = "127.0.0.1", .ctr = ctr, .kind = "Liveness" };
    char *msg = NULL;
    CHECK_INT(cn_probe_run(&t, probe, &msg), CN_PROBE_ERROR);
    CHECK(msg && cn_str_has_prefix(msg, "Liveness probe errored: entering the pod network namespace"));
    free(msg);
    json_decref(probe);
}

static void test_exec(void)
{
    expect("{\"exec\": {\"command\": [\"ok\"]}, \"timeoutSeconds\": 5}", "Liveness", CN_PROBE_SUCCESS, NULL);
    CHECK_INT(last_timeout_ms, 5000);
    expect("{\"exec\": {\"command\": [\"fail\", \"x\"]}}", "Liveness", CN_PROBE_FAILURE,
           "Liveness probe failed: cat: /tmp/healthy: No such file or directory\n");
    CHECK_INT(last_timeout_ms, 1000);
    expect("{\"exec\": {\"command\": [\"hang\", \"a b\"]}}", "Liveness", CN_PROBE_FAILURE,
           "Liveness probe failed: command \"hang a b\" timed out");
    expect("{\"exec\": {\"command\": [\"gone\"]}}", "Readiness", CN_PROBE_ERROR,
           "Readiness probe errored: container c1 is not running");
}

static void check_bad(const char *probe_json, const char *want)
{
    json_t *probe = J(probe_json);
    cn_err err = CN_ERR_INIT;
    CHECK_INT(cn_probe_check(probe, ctr, &err), -EINVAL);
    CHECK_STR(err.message, want);
    cn_err_clear(&err);
    json_decref(probe);
}

static void test_check(void)
{
    cn_err err = CN_ERR_INIT;
    json_t *ok = J("{\"httpGet\": {\"path\": \"/\", \"port\": \"http\", \"scheme\": \"HTTPS\"}, \"periodSeconds\": 0, \"failureThreshold\": 5}");
    CHECK_INT(cn_probe_check(ok, ctr, &err), 0);
    json_decref(ok);
    check_bad("{}", "probe: must specify a handler type");
    check_bad("[]", "probe: must be an object");
    check_bad("{\"exec\": {\"command\": [\"x\"]}, \"tcpSocket\": {\"port\": 1}}", "probe: may not specify more than 1 handler type");
    check_bad("{\"exec\": {\"command\": []}}", "probe.exec.command: Required value");
    check_bad("{\"tcpSocket\": {\"port\": 0}}", "probe.tcpSocket: port: Invalid value: 0: must be between 1 and 65535, inclusive");
    check_bad("{\"tcpSocket\": {\"port\": 70000}}", "probe.tcpSocket: port: Invalid value: 70000: must be between 1 and 65535, inclusive");
    check_bad("{\"httpGet\": {\"port\": \"metrics\"}}",
              "probe.httpGet: port: Invalid value: \"metrics\": the container has no port named \"metrics\"");
    check_bad("{\"httpGet\": {\"port\": 80, \"scheme\": \"FTP\"}}",
              "probe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\"");
    check_bad("{\"tcpSocket\": {\"port\": 80}, \"periodSeconds\": -1}",
              "probe.periodSeconds: Invalid value: -1: must be greater than or equal to 0");
    check_bad("{\"tcpSocket\": {\"port\": 80}, \"timeoutSeconds\": \"1\"}", "probe.timeoutSeconds: must be an integer");
    check_bad("{\"grpc\": {\"port\": 80}}", "probe.grpc: gRPC probes are not supported by this node");
    check_bad("{\"httpGet\": {\"port\": 80, \"httpHeaders\": [{\"name\": \"X\", \"value\": \"a\\r\\nB: c\"}]}}",
              "probe.httpGet.httpHeaders[0]: Invalid value: a header name and value without line breaks");
    /* a malformed probe given to cn_probe_run is an error result, not a crash */
    char *msg = NULL;
    CHECK_INT(run("{\"tcpSocket\": {}}", "Liveness", &msg), CN_PROBE_ERROR);
    CHECK_STR(msg, "Liveness probe errored: probe.tcpSocket: port: Required value");
    free(msg);
}

int main(void)
{
    ctr = J("{\"name\": \"c\", \"ports\": [{\"name\": \"http\", \"containerPort\": 8080}]}");
    snprintf(tls_dir, sizeof tls_dir, "/tmp/test_probe.XXXXXX");
    if (!mkdtemp(tls_dir)) tls_dir[0] = '\0';
    else {
        char *cmd = cn_asprintf("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=probe -days 1 "
                                "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1", tls_dir, tls_dir);
        if (system(cmd) != 0) {
            rmdir(tls_dir);
            tls_dir[0] = '\0';
        }
        free(cmd);
    }
    TEST_RUN(test_check);
    TEST_RUN(test_exec);
    if (geteuid() != 0) {
        printf("skipped network probes: need root (network namespace)\n");
    } else if (start_server() < 0) {
        fprintf(stderr, "cannot start the server in a network namespace\n");
        test_cases_failed++;
    } else {
        TEST_RUN(test_http);
        start_tls();
        TEST_RUN(test_https);
        TEST_RUN(test_tcp);
        TEST_RUN(test_namespace_untouched);
    }
    if (tls_server > 0) {
        kill(tls_server, SIGKILL);
        waitpid(tls_server, NULL, 0);
    }
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    json_decref(ctr);
    if (*tls_dir) {
        char *cmd = cn_asprintf("rm -rf '%s'", tls_dir);
        if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tls_dir);
        free(cmd);
    }
    return TEST_DONE();
}
