/* query: the query parameters of a Kubernetes API request, parsed and
 * checked in one place (list/watch options, write options, delete options
 * given in the query), and the opaque continue token of paged lists. */
#ifndef CN_QUERY_H
#define CN_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/err.h"

enum cn_field_validation { CN_FV_STRICT_DEFAULT = 0, CN_FV_IGNORE, CN_FV_WARN, CN_FV_STRICT };
enum cn_include_object { CN_INCLUDE_METADATA = 0, CN_INCLUDE_NONE, CN_INCLUDE_OBJECT };

typedef struct cn_query {
    /* list / watch */
    const char *label_selector;     /* borrowed from the request, NULL if absent */
    const char *field_selector;
    int64_t limit;                  /* 0 = none */
    const char *continue_token;
    const char *resource_version;   /* raw string, NULL if absent */
    const char *resource_version_match;
    bool watch;
    bool allow_bookmarks;
    int64_t timeout_seconds;        /* 0 = none (watch) */
    bool send_initial_events;
    enum cn_include_object include_object;
    /* writes */
    bool dry_run;                   /* dryRun=All */
    enum cn_field_validation field_validation;
    const char *field_manager;
    bool force;                     /* apply force=true */
    /* delete (query form) */
    int64_t grace_period_seconds;   /* -1 = not given */
    const char *propagation_policy;
    /* logs */
    const char *container;
    bool follow;
    int64_t tail_lines;             /* -1 = not given */
} cn_query;

/* get(ud, name) returns the first value of a query parameter or NULL.
 * Unknown parameters are ignored (kubectl sends timeout=, etc.). Bad values
 * of known ones are 400 BadRequest. */
int cn_query_parse(const char *(*get)(void *ud, const char *name), void *ud,
                   cn_query *out, cn_err *err);

/* Continue token: opaque base64 of {"rv":N,"start":"<key after which to resume>"}.
 * encode: caller frees. decode: *start is a new string (caller frees);
 * malformed token is 400 BadRequest. */
char *cn_continue_encode(int64_t rev, const char *last_key);
int cn_continue_decode(const char *token, int64_t *rev, char **last_key, cn_err *err);

#endif
