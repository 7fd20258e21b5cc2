/* remotecmd: `kubectl exec` sessions over WebSocket, the channel protocols
 * v5.channel.k8s.io and v4.channel.k8s.io: every binary message starts
 * with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (a Status as
 * JSON when the command ends: Success, or Failure with reason
 * NonZeroExitCode and the exit code in details.causes), 4 resize
 * ({"Width":w,"Height":h}), and in v5 255 "close" (the next byte names the
 * channel closed: the client's stdin ended). Clients without WebSockets
 * (kubectl before 1.30) get the same channels as SPDY/3.1 streams. */
#ifndef CN_AGENT_REMOTECMD_H
#define CN_AGENT_REMOTECMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "agent/runtime.h"
#include "lib/err.h"

/* Starts the command as cn_ctr_exec does (same contract). */
typedef int (*cn_exec_fn)(cn_runtime *rt, const char *id, const char *const *argv, bool tty,
                          int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid,
                          int *pty_master, cn_err *err);

/* The protocols we speak, best first, for cn_ws_pick_protocol. */
extern const char *const cn_remotecmd_protocols[];
extern const size_t cn_remotecmd_nprotocols;

typedef struct cn_remotecmd {
    cn_exec_fn exec;
    cn_runtime *rt;
    char *ctr_id;             /* owned */
    char **argv;              /* owned, NULL-terminated */
    bool in, out, err, tty;
    bool v5;                  /* the close channel exists */
    bool spdy;                /* SPDY streams instead of WebSocket channels */
} cn_remotecmd;
void cn_remotecmd_release(cn_remotecmd *rc);

/* Runs the session on fd (after the 101) until the command ends and its
 * output is sent, or the client goes away. */
void cn_remotecmd_serve_ws(cn_remotecmd *rc, int fd, const char *extra, size_t nextra);
/* The same over SPDY/3.1 (X-Stream-Protocol-Version v4.channel.k8s.io):
 * the client's streams "error", "stdin", "stdout", "stderr", "resize". */
void cn_remotecmd_serve_spdy(cn_remotecmd *rc, int fd, const char *extra, size_t nextra);

#endif
