/* fuzz_http: raw bytes into a plain-HTTP cn_http server over a loopback
 * socket. The server must answer or close, never crash or hang; every
 * request accessor and a stream response are exercised by the handler. */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/http.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cn_http_server *srv;

static ssize_t fill(void *ud, char *buf, size_t max)
{
    int *left = ud;
    if (*left <= 0) return -1;
    (*left)--;
    return max < 6 ? -1 : (ssize_t)(memcpy(buf, "event\n", 6), 6);
}

static void handler(cn_http_req *r, void *ud)
{
    (void)ud;
    const char *vals[4];
    size_t n = cn_http_query_all(r, "a", vals, 4), len = 0;
    for (size_t i = 0; i < n; i++) len += strlen(vals[i]);
    const char *q = cn_http_query(r, "watch");
    const char *h = cn_http_header(r, "content-type");
    const char *body = cn_http_body(r, &len);
    const char *cn;
    cn_http_client_cert(r, &cn, NULL, NULL);
    (void)cn_http_remote(r);
    if (q && strcmp(cn_http_path(r), "/s") == 0) {
        int *left = cn_malloc(sizeof *left);
        *left = 3;
        cn_http_respond_stream(r, 200, "application/json", fill, free, left);
        return;
    }
    cn_http_add_header(r, "X-Method", cn_http_method(r));
    cn_http_respond(r, h ? 200 : 404, "text/plain", body, len);
}

static void stop(void)
{
    cn_http_stop(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!srv) {
        cn_err e = CN_ERR_INIT;
        cn_http_config cfg = { .listen = "127.0.0.1:0", .plain = true, .max_body = 4096,
                               .idle_timeout_s = 2, .handler = handler };
        if (cn_http_start(&cfg, &srv, &e) < 0) abort();
        atexit(stop);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cn_http_port(srv)) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) abort();
    (void)send(fd, data, size, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    char buf[4096];
    int64_t end = cn_now_ms() + 5000;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = end - cn_now_ms();
        if (left <= 0) abort();   /* the server neither answered nor closed */
        if (poll(&p, 1, (int)left) <= 0) continue;
        if (recv(fd, buf, sizeof buf, 0) <= 0) break;
    }
    close(fd);
    return 0;
}
