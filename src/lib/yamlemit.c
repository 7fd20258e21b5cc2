/* yamlemit: JSON to block-style YAML (see yamlemit.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/yamlemit.h"

/* Plain scalars YAML 1.1 would type (bool, null) or that would not parse
 * back as the same string; anything doubtful is quoted. */
static int needs_quotes(const char *s)
{
    static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "y", "n",
                                          "null", "~" };
    if (!*s || s[0] == ' ' || s[strlen(s) - 1] == ' ') return 1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(s, words[i])) return 1;
    /* Indicators and number-like forms (.inf, -1, +1). */
    if (strchr("-+.", s[0])) return 1;
    /* Leading digit: a version (1.32.0), an address (10.99.0.1) or a
     * quantity (8Gi) read back as strings, but a number (1.32, 1e3) or
     * YAML 1.1's hex, octal, sexagesimal and timestamp forms would not. */
    if (isdigit((unsigned char)s[0])) {
        char *end;
        (void)strtod(s, &end);
        if (*end == '\0' || strpbrk(s, "xo_:-eE")) return 1;
    }
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || strchr("-._/+@ ()=", c))) return 1;
    }
    return 0;
}

static void emit_string(cn_buf *out, const char *s)
{
    if (!needs_quotes(s)) {
        cn_buf_adds(out, s);
        return;
    }
    json_t *j = json_string(s);
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    cn_buf_adds(out, q ? q : "\"\"");
    free(q);
    json_decref(j);
}

static int is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

static int is_empty(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0);
}

static void emit_scalar(cn_buf *out, const json_t *v)
{
    if (json_is_string(v)) emit_string(out, json_string_value(v));
    else if (json_is_object(v)) cn_buf_adds(out, "{}");
    else if (json_is_array(v)) cn_buf_adds(out, "[]");
    else {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        cn_buf_adds(out, s ? s : "null");
        free(s);
    }
}

static void indent(cn_buf *out, int n)
{
    for (int i = 0; i < n; i++) cn_buf_addc(out, ' ');
}

static void emit_node(cn_buf *out, const json_t *v, int ind, int first_inline);

/* A map's entries at column ind; the first one on the current line when
 * first_inline (after "- "). */
static void emit_map(cn_buf *out, const json_t *v, int ind, int first_inline)
{
    const char *k;
    const json_t *e;
    int first = 1;
    json_object_foreach((json_t *)v, k, e) {
        if (!(first && first_inline)) indent(out, ind);
        first = 0;
        emit_string(out, k);
        cn_buf_addc(out, ':');
        if (is_scalar(e) || is_empty(e)) {
            cn_buf_addc(out, ' ');
            emit_scalar(out, e);
            cn_buf_addc(out, '\n');
        } else {
            cn_buf_addc(out, '\n');
            /* Lists sit at the key's column, as kubectl prints them. */
            emit_node(out, e, json_is_array(e) ? ind : ind + 2, 0);
        }
    }
}

static void emit_list(cn_buf *out, const json_t *v, int ind, int first_inline)
{
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!(i == 0 && first_inline)) indent(out, ind);
        cn_buf_adds(out, "- ");
        if (is_scalar(e) || is_empty(e)) {
            emit_scalar(out, e);
            cn_buf_addc(out, '\n');
        } else {
            emit_node(out, e, ind + 2, 1);
        }
    }
}

static void emit_node(cn_buf *out, const json_t *v, int ind, int first_inline)
{
    if (json_is_object(v) && json_object_size(v)) emit_map(out, v, ind, first_inline);
    else if (json_is_array(v) && json_array_size(v)) emit_list(out, v, ind, first_inline);
    else {
        if (!first_inline) indent(out, ind);
        emit_scalar(out, v);
        cn_buf_addc(out, '\n');
    }
}

void cn_yaml_emit(cn_buf *out, const json_t *v)
{
    emit_node(out, v, 0, 0);
}
