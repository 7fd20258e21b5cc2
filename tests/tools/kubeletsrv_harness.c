/* kubeletsrv_harness: the agent's kubelet endpoint on 127.0.0.1 with a
 * made-up pod, for tests/e2e/e2e_stream.sh to drive through `cairn server`
 * and the real kubectl.
 *
 *   kubeletsrv_harness CA_PEM_FILE DIR
 *
 * Pod default/web has containers "app" (log DIR/app.log, previous instance
 * DIR/app.prev.log, running while DIR/app.running exists) and "side" (log
 * DIR/side.log, not running). exec runs the command here with fork+exec
 * instead of runc. Port-forward dials in this process's own network
 * namespace, where a TCP echo server listens. Writes "KUBELET_PORT
 * ECHO_PORT" to DIR/ports once serving; runs until SIGTERM/SIGINT. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/kubeletsrv.h"
#include "lib/pki.h"
#include "lib/util.h"

static const char *dir;

static char *in_dir(const char *name) { return cn_asprintf("%s/%s", dir, name); }

static bool exists(const char *name)
{
    char *p = in_dir(name);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static int lookup(void *ud, const char *ns, const char *pod, const char *ctr,
                  cn_kubeletsrv_target *out, cn_err *err)
{
    (void)ud;
    if (strcmp(ns, "default") || strcmp(pod, "web"))
        return cn_err_set(err, 404, "NotFound", "pods \"%s\" not found", pod), -ENOENT;
    out->netns_path = cn_strdup("/proc/self/ns/net");
    if (!ctr) return 0;
    if (!*ctr || !strcmp(ctr, "app")) {
        out->running = exists("app.running");
        out->ctr_id = cn_strdup("ctr-app");
        out->log_path = in_dir("app.log");
        out->prev_log_path = in_dir("app.prev.log");
        return 0;
    }
    if (!strcmp(ctr, "side")) {
        out->log_path = in_dir("side.log");
        out->ctr_id = cn_strdup("ctr-side");
        return 0;
    }
    cn_kubeletsrv_target_release(out);
    return cn_err_set(err, 404, "NotFound", "container \"%s\" in pod \"%s\" is not valid", ctr,
                      pod), -ENOENT;
}

/* cn_ctr_exec's contract, with a plain fork+exec on this host. */
static int local_exec(cn_runtime *rt, const char *id, const char *const *argv, bool tty,
                      int in, int out, int errfd, pid_t *pid, int *pty_master, cn_err *err)
{
    (void)rt;
    (void)id;
    int master = -1;
    pid_t p = tty ? forkpty(&master, NULL, NULL, NULL) : fork();
    if (p < 0) return cn_err_internal(err, "fork: %s", strerror(errno)), -errno;
    if (p == 0) {
        if (!tty) {
            int nul = open("/dev/null", O_RDWR);
            dup2(in >= 0 ? in : nul, 0);
            dup2(out >= 0 ? out : nul, 1);
            dup2(errfd >= 0 ? errfd : nul, 2);
        }
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "exec: \"%s\": executable file not found in $PATH\n", argv[0]);
        _exit(127);
    }
    *pid = p;
    if (tty) *pty_master = master;
    return 0;
}

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) break;
    close(fd);
    return NULL;
}

static void *echo_main(void *arg)
{
    int ls = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) continue;
        pthread_t t;
        if (pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd) == 0) pthread_detach(t);
        else close(fd);
    }
    return NULL;
}

static int echo_start(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0)
        return -1;
    pthread_t t;
    pthread_create(&t, NULL, echo_main, (void *)(intptr_t)ls);
    pthread_detach(t);
    return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CA_PEM_FILE DIR\n", argv[0]);
        return 2;
    }
    dir = argv[2];
    cn_err e = CN_ERR_INIT;
    char *ca = NULL;
    if (cn_read_file(argv[1], &ca, NULL, &e) < 0) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int echo = echo_start();
    char *data = in_dir("data");
    cn_kubeletsrv_config cfg = { .data_dir = data, .address = "127.0.0.1", .port = -1,
                                 .client_ca_pem = ca, .node_name = "stream-node",
                                 .node_ip = "127.0.0.1", .exec_fn = local_exec,
                                 .lookup = lookup };
    cn_kubeletsrv *s = NULL;
    if (echo < 0 || cn_kubeletsrv_start(&cfg, &s, &e) < 0) {
        fprintf(stderr, "start: %s\n", e.message ? e.message : "echo listener");
        return 1;
    }
    char *ports = in_dir("ports"), *tmp = in_dir("ports.tmp");
    FILE *f = fopen(tmp, "w");
    fprintf(f, "%d %d\n", cn_kubeletsrv_port(s), echo);
    fclose(f);
    rename(tmp, ports);
    int sig;
    sigwait(&set, &sig);
    cn_kubeletsrv_stop(s);
    free(ports);
    free(tmp);
    free(data);
    free(ca);
    return 0;
}
