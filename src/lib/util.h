/* util: allocation wrappers, a growable byte buffer and cleanup helpers.
 * Every other module allocates through cn_malloc & co.; they abort on OOM
 * (like git's xmalloc) because no caller can do anything better, and they
 * give one place to hook fault injection later. */
#ifndef CN_UTIL_H
#define CN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

void *cn_malloc(size_t n);
void *cn_calloc(size_t nmemb, size_t size);
void *cn_realloc(void *p, size_t n);
char *cn_strdup(const char *s);            /* NULL in, NULL out */
char *cn_strndup(const char *s, size_t n);
char *cn_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cn_vasprintf(const char *fmt, va_list ap);

/* Free *p and set it to NULL; for use with __attribute__((cleanup)). */
void cn_freep(void *p);
#define _cleanup_free_ __attribute__((cleanup(cn_freep)))

/* Move ownership out of a cleanup-scoped variable. */
#define CN_TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

/* Growable byte buffer; always NUL-terminated; owns its memory. */
typedef struct cn_buf {
    char *data;
    size_t len;
    size_t cap;
} cn_buf;

void cn_buf_init(cn_buf *b);
void cn_buf_release(cn_buf *b);
void cn_buf_reset(cn_buf *b);
void cn_buf_add(cn_buf *b, const void *data, size_t n);
void cn_buf_adds(cn_buf *b, const char *s);
void cn_buf_addc(cn_buf *b, char c);
void cn_buf_addf(cn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *cn_buf_detach(cn_buf *b, size_t *len);   /* caller frees; buffer reset */

bool cn_str_has_prefix(const char *s, const char *prefix);
bool cn_str_has_suffix(const char *s, const char *suffix);

/* Strict decimal parse of a whole string into int64; -EINVAL on junk or
 * overflow. Replaces atoi/strtol at call sites (banned on API input). */
int cn_parse_int64(const char *s, int64_t *out);

/* Monotonic and wall clocks. */
int64_t cn_now_ms(void);           /* CLOCK_MONOTONIC */
int64_t cn_wall_s(void);           /* seconds since the epoch */
/* RFC 3339 UTC "2006-01-02T15:04:05Z" into a 21+ byte buffer. */
void cn_time_rfc3339(int64_t epoch_s, char out[32]);
/* Parse RFC 3339 (with Z or offset, optional fraction); -EINVAL if bad. */
int cn_time_parse(const char *s, int64_t *epoch_s);

/* Random UUIDv4 string into a 37-byte buffer (from getrandom). */
void cn_uuid(char out[37]);
/* Fill buf with n random bytes (getrandom; aborts if the kernel fails). */
void cn_random(void *buf, size_t n);

/* mkdir -p: every missing directory of path with mode; 0 or -errno. */
int cn_mkdir_p(const char *path, unsigned mode);
/* rm -rf that stays on path's filesystem (never descends into a mount
 * point, never follows symlinks); a missing path is 0. */
int cn_rm_rf(const char *path);

#endif
