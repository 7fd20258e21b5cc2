/* query: Kubernetes request query parameters checked in one place, and the
 * opaque continue token of paged lists (base64url of a small JSON object,
 * decoded strictly since clients hand it back to us verbatim). */
#include "api/query.h"

#include <errno.h>
#include <string.h>
#include <jansson.h>

#include "lib/util.h"

#define FIELD_MANAGER_MAX 128
#define CONTINUE_MAX      4096   /* encoded token length */

/* strconv.ParseBool's spellings, which is what the apiserver's parameter
 * codec accepts; an empty value means false. */
static int parse_bool(const char *name, const char *v, bool *out, cn_err *err)
{
    static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
    static const char *const no[] = { "", "0", "f", "F", "false", "FALSE", "False" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!strcmp(v, yes[i])) { *out = true; return 0; }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (!strcmp(v, no[i])) { *out = false; return 0; }
    return cn_err_bad_request(err, "%s: Invalid value: \"%.64s\": strconv.ParseBool: parsing \"%.64s\": "
                              "invalid syntax", name, v, v);
}

static int parse_nonneg(const char *name, const char *v, int64_t *out, cn_err *err)
{
    int64_t n;
    if (cn_parse_int64(v, &n) < 0)
        return cn_err_bad_request(err, "%s: Invalid value: \"%.64s\": must be an integer", name, v);
    if (n < 0)
        return cn_err_bad_request(err, "%s: Invalid value: %lld: must be greater than or equal to 0",
                                  name, (long long)n);
    *out = n;
    return 0;
}

/* Returns the index of v in vals, or a 400 listing the supported values. */
static int one_of(const char *name, const char *v, const char *const *vals, size_t n, cn_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v, vals[i])) return (int)i;
    cn_buf b;
    cn_buf_init(&b);
    for (size_t i = 0; i < n; i++) cn_buf_addf(&b, "%s\"%s\"", i ? ", " : "", vals[i]);
    int r = cn_err_bad_request(err, "%s: Unsupported value: \"%.64s\": supported values: %s",
                               name, v, b.data);
    cn_buf_release(&b);
    return r;
}

#define NVALS(a) (sizeof(a) / sizeof *(a))

int cn_query_parse(const char *(*get)(void *ud, const char *name), void *ud,
                   cn_query *out, cn_err *err)
{
    cn_query q = { 0 };
    const char *v;
    int r;
    q.grace_period_seconds = -1;
    q.tail_lines = -1;

    q.label_selector = get(ud, "labelSelector");
    q.field_selector = get(ud, "fieldSelector");
    q.continue_token = get(ud, "continue");
    if (q.continue_token && !*q.continue_token) q.continue_token = NULL;
    q.resource_version = get(ud, "resourceVersion");
    q.container = get(ud, "container");
    if ((v = get(ud, "limit")) && (r = parse_nonneg("limit", v, &q.limit, err)) < 0) return r;
    if ((v = get(ud, "resourceVersionMatch")) && *v) {
        static const char *const m[] = { "NotOlderThan", "Exact" };
        if ((r = one_of("resourceVersionMatch", v, m, NVALS(m), err)) < 0) return r;
        q.resource_version_match = v;
    }
    if ((v = get(ud, "watch")) && (r = parse_bool("watch", v, &q.watch, err)) < 0) return r;
    if ((v = get(ud, "allowWatchBookmarks")) &&
        (r = parse_bool("allowWatchBookmarks", v, &q.allow_bookmarks, err)) < 0)
        return r;
    if ((v = get(ud, "timeoutSeconds")) &&
        (r = parse_nonneg("timeoutSeconds", v, &q.timeout_seconds, err)) < 0)
        return r;
    if ((v = get(ud, "sendInitialEvents")) &&
        (r = parse_bool("sendInitialEvents", v, &q.send_initial_events, err)) < 0)
        return r;
    if ((v = get(ud, "includeObject")) && *v) {
        /* indexes follow enum cn_include_object */
        static const char *const io[] = { "Metadata", "None", "Object" };
        if ((r = one_of("includeObject", v, io, NVALS(io), err)) < 0) return r;
        q.include_object = (enum cn_include_object)r;
    }
    if ((v = get(ud, "dryRun"))) {
        static const char *const dr[] = { "All" };
        if ((r = one_of("dryRun", v, dr, NVALS(dr), err)) < 0) return r;
        q.dry_run = true;
    }
    if ((v = get(ud, "fieldValidation")) && *v) {
        static const char *const fv[] = { "Ignore", "Warn", "Strict" };
        if ((r = one_of("fieldValidation", v, fv, NVALS(fv), err)) < 0) return r;
        q.field_validation = r == 0 ? CN_FV_IGNORE : r == 1 ? CN_FV_WARN : CN_FV_STRICT;
    }
    if ((v = get(ud, "fieldManager"))) {
        size_t n = strlen(v);
        if (n > FIELD_MANAGER_MAX)
            return cn_err_bad_request(err, "fieldManager: Too long: may not be more than %d bytes",
                                      FIELD_MANAGER_MAX);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
                return cn_err_bad_request(err, "fieldManager: Invalid value: \"%.128s\": must only "
                                          "contain printable characters", v);
        q.field_manager = v;
    }
    if ((v = get(ud, "force")) && (r = parse_bool("force", v, &q.force, err)) < 0) return r;
    if ((v = get(ud, "gracePeriodSeconds")) && *v) {
        if (cn_parse_int64(v, &q.grace_period_seconds) < 0)
            return cn_err_bad_request(err, "gracePeriodSeconds: Invalid value: \"%.64s\": must be an integer", v);
        /* -1 is our "not given"; the apiserver treats negative grace as
         * "delete promptly", i.e. 1 second. */
        if (q.grace_period_seconds < 0) q.grace_period_seconds = 1;
    }
    if ((v = get(ud, "propagationPolicy")) && *v) {
        static const char *const pp[] = { "Foreground", "Background", "Orphan" };
        if ((r = one_of("propagationPolicy", v, pp, NVALS(pp), err)) < 0) return r;
        q.propagation_policy = v;
    }
    if ((v = get(ud, "follow")) && (r = parse_bool("follow", v, &q.follow, err)) < 0) return r;
    if ((v = get(ud, "tailLines")) && (r = parse_nonneg("tailLines", v, &q.tail_lines, err)) < 0)
        return r;
    *out = q;
    return 0;
}

/* ------------------------------------------------------------------ */
/* continue token */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64_encode(const unsigned char *in, size_t n)
{
    cn_buf b;
    cn_buf_init(&b);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t k = n - i;
        if (k > 1) v |= (uint32_t)in[i + 1] << 8;
        if (k > 2) v |= in[i + 2];
        cn_buf_addc(&b, b64url[(v >> 18) & 63]);
        cn_buf_addc(&b, b64url[(v >> 12) & 63]);
        if (k > 1) cn_buf_addc(&b, b64url[(v >> 6) & 63]);
        if (k > 2) cn_buf_addc(&b, b64url[v & 63]);
    }
    return cn_buf_detach(&b, NULL);
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

/* Accepts the URL and standard alphabets, with or without padding (the
 * token may have been re-encoded by a client). */
static int b64_decode(const char *s, cn_buf *out)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '=') n--;
    if (strlen(s) - n > 2 || n % 4 == 1) return -EINVAL;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64_val(s[i]);
        if (d < 0) return -EINVAL;
        acc = (acc << 6) | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            cn_buf_addc(out, (char)((acc >> bits) & 0xff));
        }
    }
    /* leftover bits must be zero for a canonical encoding */
    if (bits && (acc & ((1u << bits) - 1))) return -EINVAL;
    return 0;
}

char *cn_continue_encode(int64_t rev, const char *last_key)
{
    json_t *o = json_pack("{s:i,s:I,s:s}", "v", 1, "rv", (json_int_t)rev, "start",
                          last_key ? last_key : "");
    if (!o) return NULL;   /* last_key not UTF-8: callers use store keys, never happens */
    char *js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!js) return NULL;
    char *tok = b64_encode((const unsigned char *)js, strlen(js));
    free(js);
    return tok;
}

/* The start key is a store key: reject anything path.Clean would change
 * in its middle so a token cannot walk out of the listed prefix. */
static bool key_is_clean(const char *k)
{
    if (!*k || strstr(k, "//") || strstr(k, "/./") || strstr(k, "/../")) return false;
    if (cn_str_has_suffix(k, "/.") || cn_str_has_suffix(k, "/..")) return false;
    if (!strcmp(k, ".") || !strcmp(k, "..") || cn_str_has_prefix(k, "./") || cn_str_has_prefix(k, "../"))
        return false;
    return true;
}

int cn_continue_decode(const char *token, int64_t *rev, char **last_key, cn_err *err)
{
    cn_buf raw;
    json_t *o = NULL;
    int r;
    cn_buf_init(&raw);
    *last_key = NULL;
    if (!token || !*token) {
        r = cn_err_bad_request(err, "continue key is not valid: empty");
        goto done;
    }
    if (strlen(token) > CONTINUE_MAX) {
        r = cn_err_bad_request(err, "continue key is not valid: too long");
        goto done;
    }
    if (b64_decode(token, &raw) < 0) {
        r = cn_err_bad_request(err, "continue key is not valid: illegal base64 data");
        goto done;
    }
    json_error_t je;
    o = json_loadb(raw.data, raw.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        r = cn_err_bad_request(err, "continue key is not valid: not a continue token");
        goto done;
    }
    const json_t *jv = json_object_get(o, "v"), *jrv = json_object_get(o, "rv"),
                 *js = json_object_get(o, "start");
    if (json_object_size(o) != 3 || !json_is_integer(jv) || !json_is_integer(jrv) || !json_is_string(js)) {
        r = cn_err_bad_request(err, "continue key is not valid: not a continue token");
        goto done;
    }
    if (json_integer_value(jv) != 1) {
        r = cn_err_bad_request(err, "continue key is not valid: unsupported version %lld",
                               (long long)json_integer_value(jv));
        goto done;
    }
    if (json_integer_value(jrv) < 0) {
        r = cn_err_bad_request(err, "continue key is not valid: incorrect encoded start resourceVersion");
        goto done;
    }
    const char *start = json_string_value(js);
    if (strlen(start) != json_string_length(js) || !key_is_clean(start)) {
        r = cn_err_bad_request(err, "continue key is not valid: bad start key");
        goto done;
    }
    *rev = json_integer_value(jrv);
    *last_key = cn_strdup(start);
    r = 0;
done:
    json_decref(o);
    cn_buf_release(&raw);
    return r;
}
