/* cli: the subcommands of the cairn binary, one file each (git's model). */
#ifndef CN_CLI_H
#define CN_CLI_H

#include <stdint.h>

int cn_cmd_server(int argc, char **argv);
int cn_cmd_agent(int argc, char **argv);
int cn_cmd_image(int argc, char **argv);
int cn_cmd_cluster(int argc, char **argv);
int cn_cmd_fleet(int argc, char **argv);
int cn_cmd_apply(int argc, char **argv);
int cn_cmd_bridge(int argc, char **argv);

/* Flags shared by the commands that run an API server (`cairn server`,
 * `cairn bridge`; serverflags.c): put CN_SERVER_COMMON_OPTIONS in the
 * getopt_long table and hand every option value >= CN_OPT_COMMON to
 * cn_server_common_flag. */
struct cn_apiserver_config;
enum {
    CN_OPT_COMMON = 0x1000,
    CN_OPT_DATA = CN_OPT_COMMON, CN_OPT_LISTEN, CN_OPT_SAN, CN_OPT_ADV, CN_OPT_LOG, CN_OPT_NOFSYNC,
    CN_OPT_DS, CN_OPT_DS_PREFIX, CN_OPT_DS_CA, CN_OPT_DS_CERT, CN_OPT_DS_KEY,
};
#define CN_SERVER_COMMON_OPTIONS \
    { "data-dir", required_argument, NULL, CN_OPT_DATA }, \
    { "listen", required_argument, NULL, CN_OPT_LISTEN }, \
    { "tls-san", required_argument, NULL, CN_OPT_SAN }, \
    { "advertise-host", required_argument, NULL, CN_OPT_ADV }, \
    { "log-level", required_argument, NULL, CN_OPT_LOG }, \
    { "no-fsync", no_argument, NULL, CN_OPT_NOFSYNC }, \
    { "datastore-endpoint", required_argument, NULL, CN_OPT_DS }, \
    { "etcd-prefix", required_argument, NULL, CN_OPT_DS_PREFIX }, \
    { "datastore-cafile", required_argument, NULL, CN_OPT_DS_CA }, \
    { "datastore-certfile", required_argument, NULL, CN_OPT_DS_CERT }, \
    { "datastore-keyfile", required_argument, NULL, CN_OPT_DS_KEY }
/* The --tls-san values go into sans (room for CN_MAX_TLS_SANS); cfg's
 * tls_sans must point at it. 0, or -1 after printing "cairn CMD: ..."
 * (exit status 2). */
#define CN_MAX_TLS_SANS 64
int cn_server_common_flag(const char *cmd, int opt, const char *arg, struct cn_apiserver_config *cfg,
                          const char **sans);
/* "2", "1.5", "1.5s", "300ms", "10m" -> milliseconds (at most 1 day). */
int cn_cli_parse_duration_ms(const char *s, int64_t *out);
/* The --help lines of those flags. */
extern const char cn_server_common_help[];

#endif
