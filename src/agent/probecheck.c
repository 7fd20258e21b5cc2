/* probecheck: validation of liveness/readiness/startup probes, apart from
 * probe.c (which runs them through the runtime) so that admission and
 * the fuzz target need no runtime. */
#include "agent/podspec-internal.h"

#include <errno.h>
#include <string.h>

#include "lib/util.h"

static const char *const handlers[] = { "exec", "httpGet", "tcpSocket", "grpc" };

/* The port of handler h: an integer, or a named port of the container. */
int cn_ps_probe_port(const json_t *h, const json_t *ctr, int *port, cn_err *err)
{
    const json_t *p = json_object_get(h, "port");
    if (json_is_integer(p)) {
        json_int_t v = json_integer_value(p);
        if (v < 1 || v > 65535)
            return cn_err_invalid(err, "port: Invalid value: %lld: must be between 1 and 65535, inclusive", (long long)v);
        *port = (int)v;
        return 0;
    }
    const char *name = json_string_value(p);
    if (!name || !*name) return cn_err_invalid(err, "port: Required value");
    int64_t num;
    if (cn_parse_int64(name, &num) == 0) {
        if (num < 1 || num > 65535)
            return cn_err_invalid(err, "port: Invalid value: \"%s\": must be between 1 and 65535, inclusive", name);
        *port = (int)num;
        return 0;
    }
    size_t i;
    const json_t *cp;
    json_array_foreach(json_object_get(ctr, "ports"), i, cp) {
        const char *n = cn_ps_str(cp, "name");
        json_int_t v = json_integer_value(json_object_get(cp, "containerPort"));
        if (n && !strcmp(n, name) && v >= 1 && v <= 65535) {
            *port = (int)v;
            return 0;
        }
    }
    return cn_err_invalid(err, "port: Invalid value: \"%s\": the container has no port named \"%s\"", name, name);
}

int cn_probe_check(const json_t *probe, const json_t *ctr, cn_err *err)
{
    static const char *const nonneg[] = { "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                          "successThreshold", "failureThreshold" };
    const char *handler = NULL;
    int port;
    if (!json_is_object(probe)) return cn_err_invalid(err, "probe: must be an object");
    for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++) {
        const json_t *h = json_object_get(probe, handlers[i]);
        if (!h || json_is_null(h)) continue;
        if (handler) return cn_err_invalid(err, "probe: may not specify more than 1 handler type");
        handler = handlers[i];
    }
    if (!handler) return cn_err_invalid(err, "probe: must specify a handler type");
    for (size_t i = 0; i < sizeof nonneg / sizeof *nonneg; i++) {
        const json_t *v = json_object_get(probe, nonneg[i]);
        if (!v || json_is_null(v)) continue;
        if (!json_is_integer(v)) return cn_err_invalid(err, "probe.%s: must be an integer", nonneg[i]);
        if (json_integer_value(v) < 0)
            return cn_err_invalid(err, "probe.%s: Invalid value: %lld: must be greater than or equal to 0",
                                  nonneg[i], (long long)json_integer_value(v));
    }
    const json_t *tg = json_object_get(probe, "terminationGracePeriodSeconds");
    if (tg && !json_is_null(tg) && (!json_is_integer(tg) || json_integer_value(tg) < 1))
        return cn_err_invalid(err, "probe.terminationGracePeriodSeconds: must be greater than 0");
    const json_t *h = json_object_get(probe, handler);
    if (!json_is_object(h)) return cn_err_invalid(err, "probe.%s: must be an object", handler);
    if (!strcmp(handler, "grpc"))
        return cn_err_invalid(err, "probe.grpc: gRPC probes are not supported by this node");
    if (!strcmp(handler, "exec")) {
        const json_t *cmd = json_object_get(h, "command");
        size_t i;
        const json_t *a;
        if (!json_array_size(cmd)) return cn_err_invalid(err, "probe.exec.command: Required value");
        json_array_foreach(cmd, i, a) {
            if (!json_is_string(a)) return cn_err_invalid(err, "probe.exec.command[%zu]: must be a string", i);
        }
        return 0;
    }
    int r = cn_ps_probe_port(h, ctr, &port, err);
    if (r < 0) {
        cn_err_wrap(err, "probe.%s", handler);
        return r;
    }
    if (!strcmp(handler, "httpGet")) {
        const char *scheme = cn_ps_str(h, "scheme");
        const char *path = json_string_value(json_object_get(h, "path"));
        if (scheme && strcmp(scheme, "HTTP") && strcmp(scheme, "HTTPS"))
            return cn_err_invalid(err, "probe.httpGet.scheme: Unsupported value: \"%s\": supported values: \"HTTP\", \"HTTPS\"", scheme);
        if (path && (strpbrk(path, "\r\n ") || (*path && *path != '/')))
            return cn_err_invalid(err, "probe.httpGet.path: Invalid value: \"%s\": must be an absolute path", path);
        size_t i;
        const json_t *hd;
        json_array_foreach(json_object_get(h, "httpHeaders"), i, hd) {
            const char *n = cn_ps_str(hd, "name");
            const char *v = json_string_value(json_object_get(hd, "value"));
            if (!n || strpbrk(n, "\r\n: ") || (v && strpbrk(v, "\r\n")))
                return cn_err_invalid(err, "probe.httpGet.httpHeaders[%zu]: Invalid value: a header name and value without line breaks", i);
        }
    }
    const char *host = json_string_value(json_object_get(h, "host"));
    if (host && strpbrk(host, "\r\n /"))
        return cn_err_invalid(err, "probe.%s.host: Invalid value: \"%s\"", handler, host);
    return 0;
}

