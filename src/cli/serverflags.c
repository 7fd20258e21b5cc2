/* serverflags: the flags every command that runs an API server shares
 * (`cairn server`, `cairn bridge`): data dir, listener, certificate names,
 * log level, fsync and the etcd datastore; and duration parsing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "api/apiserver.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

const char cn_server_common_help[] =
    "  --data-dir DIR          state, certificates and kubeconfig (default: DIR above)\n"
    "  --listen HOST:PORT      HTTPS address to serve on (default: HOST:PORT above; port 0 picks one)\n"
    "  --tls-san NAME          extra DNS name or IP for the serving certificate (repeatable)\n"
    "  --advertise-host HOST   host name written into the kubeconfig (default: from --listen)\n"
    "  --log-level LEVEL       debug, info, warn or error (default info)\n"
    "  --no-fsync              do not fsync commits (tests and benchmarks only: loses data on power loss)\n"
    "  --datastore-endpoint URL[,URL...]\n"
    "                          use etcd 3.4+ at these endpoints instead of DATA-DIR/state.db;\n"
    "                          requests fail over between them (http:// or https://)\n"
    "  --etcd-prefix PREFIX    etcd key prefix in place of /registry (default /registry)\n"
    "  --datastore-cafile FILE CA that signs the etcd members' certificates (https endpoints)\n"
    "  --datastore-certfile FILE  client certificate for etcd\n"
    "  --datastore-keyfile FILE   its private key\n"
    "                          (env CAIRN_ETCD_TRANSPORT=grpc: experimental gRPC to etcd, https only)\n";

int cn_server_common_flag(const char *cmd, int opt, const char *arg, cn_apiserver_config *cfg,
                          const char **sans)
{
    switch (opt) {
    case CN_OPT_DATA: cfg->data_dir = arg; break;
    case CN_OPT_LISTEN: cfg->listen = arg; break;
    case CN_OPT_SAN:
        if (cfg->ntls_sans == CN_MAX_TLS_SANS) {
            fprintf(stderr, "cairn %s: too many --tls-san values (max %d)\n", cmd, CN_MAX_TLS_SANS);
            return -1;
        }
        sans[cfg->ntls_sans++] = arg;
        cfg->tls_sans = sans;
        break;
    case CN_OPT_ADV: cfg->advertise_host = arg; break;
    case CN_OPT_LOG:
        if (!strcmp(arg, "debug")) cn_log_set_level(CN_LOG_DEBUG);
        else if (!strcmp(arg, "info")) cn_log_set_level(CN_LOG_INFO);
        else if (!strcmp(arg, "warn")) cn_log_set_level(CN_LOG_WARN);
        else if (!strcmp(arg, "error")) cn_log_set_level(CN_LOG_ERROR);
        else {
            fprintf(stderr, "cairn %s: --log-level: unknown level \"%s\"\n", cmd, arg);
            return -1;
        }
        break;
    case CN_OPT_NOFSYNC: cfg->no_fsync = true; break;
    case CN_OPT_DS: cfg->datastore_endpoint = arg; break;
    case CN_OPT_DS_PREFIX: cfg->etcd_prefix = arg; break;
    case CN_OPT_DS_CA: cfg->datastore_cafile = arg; break;
    case CN_OPT_DS_CERT: cfg->datastore_certfile = arg; break;
    case CN_OPT_DS_KEY: cfg->datastore_keyfile = arg; break;
    default:
        fprintf(stderr, "cairn %s: unknown flag\n", cmd);
        return -1;
    }
    return 0;
}

int cn_cli_parse_duration_ms(const char *s, int64_t *out)
{
    int64_t whole = 0, frac = 0, scale = 1000;
    const char *p = s;
    int digits = 0, fdigits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++) whole = whole * 10 + (*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && fdigits < 3; p++, fdigits++) frac = frac * 10 + (*p - '0');
        if (fdigits == 0) return -EINVAL;
        for (int i = fdigits; i < 3; i++) frac *= 10;
    }
    if (!strcmp(p, "ms")) scale = 1;
    else if (!strcmp(p, "m")) scale = 60000;
    else if (*p && strcmp(p, "s")) return -EINVAL;
    if (digits == 0 || (scale == 1 && fdigits)) return -EINVAL;
    int64_t ms = scale == 1 ? whole : whole * scale + frac * (scale / 1000);
    if (ms <= 0 || ms > 86400000) return -EINVAL;
    *out = ms;
    return 0;
}
