/* bench/common: what every benchmark needs around the thing it measures —
 * clocks, a free loopback port, a child process and its RSS.
 * Linked into each bench_ executable. */
#ifndef CN_BENCH_H
#define CN_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int64_t bn_now_us(void);                 /* CLOCK_MONOTONIC */
int bn_free_port(void);                  /* a loopback port free right now */
long bn_rss_kib(pid_t pid);              /* VmRSS, -1 if unknown */
/* fork + exec argv[0] with stdout and stderr into log; the child's pid. */
pid_t bn_spawn(char *const argv[], const char *log);
/* SIGTERM, then SIGKILL after 5 s; reaps it. */
void bn_stop(pid_t pid);

#endif
