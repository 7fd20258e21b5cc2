/* bridgecli: the shared machinery of the fleet CLI (see bridgecli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/fleetcli.h"
#include "cli/bridgecli.h"
#include "lib/util.h"
#include "lib/yamlemit.h"

struct cn_bargs {
    const char *prog;           /* "cairn cluster create" */
    const cn_bverb *verb;
    char **pos;
    size_t npos;
    json_t *vals;               /* flag name -> array of values ("" for switches) */
    cn_client *client;
};

static const cn_bflag common_flags[] = {
    { "kubeconfig", 0, "FILE", "the bridge's kubeconfig (default $" CN_BCLI_KUBECONFIG_ENV
      ", else " CN_BCLI_DEFAULT_KUBECONFIG ")", false },
    { "help", 'h', NULL, "show this help", false },
    { NULL, 0, NULL, NULL, false },
};

/* ---- help ---- */

static void print_flags(FILE *f, const cn_bflag *flags)
{
    for (const cn_bflag *fl = flags; fl && fl->name; fl++) {
        char left[64];
        if (fl->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", fl->short_name, fl->name, fl->arg ? " " : "",
                     fl->arg ? fl->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", fl->name, fl->arg ? " " : "", fl->arg ? fl->arg : "");
        if (strlen(left) > 32) fprintf(f, "  %s\n  %-32s", left, "");
        else fprintf(f, "  %-32s", left);
        fprintf(f, " %s%s\n", fl->help,
                fl->repeat ? " (repeatable)" : "");
    }
}

static void verb_help(FILE *f, const char *prog, const cn_bverb *v)
{
    fprintf(f, "usage: %s%s%s [flags]\n\n%s\n", prog, v->synopsis ? " " : "", v->synopsis ? v->synopsis : "",
            v->summary);
    fprintf(f, "\nflags:\n");
    print_flags(f, v->flags);
    print_flags(f, common_flags);
    if (v->more) fprintf(f, "\n%s", v->more);
}

static void group_help(FILE *f, const char *prog, const char *summary, const cn_bverb *verbs)
{
    fprintf(f, "usage: %s COMMAND [flags]\n\n%s\n\ncommands:\n", prog, summary);
    for (const cn_bverb *v = verbs; v->name; v++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", v->name, v->synopsis ? " " : "", v->synopsis ? v->synopsis : "");
        fprintf(f, "  %-28s %s\n", left, v->summary);
    }
    fprintf(f, "\nRun '%s COMMAND --help' for the flags of a command.\n", prog);
}

/* ---- parsing ---- */

static const cn_bflag *find_flag(const cn_bverb *v, const char *name, size_t len, char short_name)
{
    const cn_bflag *lists[] = { v->flags, common_flags };
    for (size_t i = 0; i < 2; i++)
        for (const cn_bflag *fl = lists[i]; fl && fl->name; fl++) {
            if (short_name && fl->short_name == short_name) return fl;
            if (!short_name && strlen(fl->name) == len && !strncmp(fl->name, name, len)) return fl;
        }
    return NULL;
}

int cn_bargs_usage_error(cn_bargs *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", a->prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n");
    verb_help(stderr, a->prog, a->verb);
    return 2;
}

static void add_value(cn_bargs *a, const cn_bflag *fl, const char *val)
{
    json_t *arr = json_object_get(a->vals, fl->name);
    if (!arr) {
        arr = json_array();
        json_object_set_new(a->vals, fl->name, arr);
    }
    if (!fl->repeat) json_array_clear(arr);
    json_array_append_new(arr, json_string(val));
}

/* 0, or 2 after a usage error. */
static int parse(cn_bargs *a, int argc, char **argv)
{
    bool rest = false;
    for (int i = 0; i < argc; i++) {
        char *s = argv[i];
        const cn_bflag *fl = NULL;
        const char *val = NULL;
        if (rest || s[0] != '-' || s[1] == '\0') {
            a->pos[a->npos++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            rest = true;
            continue;
        }
        if (s[1] == '-') {
            const char *eq = strchr(s + 2, '=');
            size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
            fl = find_flag(a->verb, s + 2, len, 0);
            if (!fl) return cn_bargs_usage_error(a, "unknown flag --%.*s", (int)len, s + 2);
            if (eq && !fl->arg) return cn_bargs_usage_error(a, "--%s takes no value", fl->name);
            val = eq ? eq + 1 : NULL;
        } else {
            fl = find_flag(a->verb, NULL, 0, s[1]);
            if (!fl) return cn_bargs_usage_error(a, "unknown flag -%c", s[1]);
            if (s[2] && !fl->arg) return cn_bargs_usage_error(a, "-%c takes no value", s[1]);
            val = s[2] ? s + 2 : NULL;
        }
        if (fl->arg && !val) {
            if (i + 1 >= argc) return cn_bargs_usage_error(a, "--%s needs a value (%s)", fl->name, fl->arg);
            val = argv[++i];
        }
        add_value(a, fl, fl->arg ? val : "");
    }
    return 0;
}

const char *cn_bargs_pos(const cn_bargs *a, size_t i)
{
    return i < a->npos ? a->pos[i] : NULL;
}

size_t cn_bargs_npos(const cn_bargs *a)
{
    return a->npos;
}

const char *cn_bargs_get(const cn_bargs *a, const char *flag)
{
    json_t *arr = json_object_get(a->vals, flag);
    size_t n = json_array_size(arr);
    return n ? json_string_value(json_array_get(arr, n - 1)) : NULL;
}

bool cn_bargs_has(const cn_bargs *a, const char *flag)
{
    return json_array_size(json_object_get(a->vals, flag)) > 0;
}

json_t *cn_bargs_all(const cn_bargs *a, const char *flag)
{
    json_t *arr = json_object_get(a->vals, flag);
    return arr ? json_copy(arr) : json_array();
}

int cn_bargs_int(cn_bargs *a, const char *flag, int64_t min, int64_t max, int64_t def, int64_t *out)
{
    const char *s = cn_bargs_get(a, flag);
    int64_t v = def;
    if (s && (cn_parse_int64(s, &v) < 0 || v < min || v > max)) {
        cn_bargs_usage_error(a, "--%s: \"%s\" is not a whole number from %lld to %lld", flag, s,
                             (long long)min, (long long)max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

const char *cn_bargs_format(const cn_bargs *a)
{
    return cn_bargs_get(a, "output");
}

static int run_verb(const char *prog, const cn_bverb *v, int argc, char **argv)
{
    cn_bargs a = { .prog = prog, .verb = v, .vals = json_object() };
    a.pos = cn_calloc((size_t)argc + 1, sizeof *a.pos);
    int rc = parse(&a, argc, argv);
    if (rc) goto out;
    if (cn_bargs_has(&a, "help")) {
        verb_help(stdout, prog, v);
        goto out;
    }
    if ((int)a.npos < v->min_pos || (int)a.npos > v->max_pos) {
        rc = a.npos < (size_t)v->min_pos ? cn_bargs_usage_error(&a, "missing %s", v->synopsis)
                                         : cn_bargs_usage_error(&a, "unexpected argument \"%s\"", a.pos[v->max_pos]);
        goto out;
    }
    const char *fmt = cn_bargs_format(&a);
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "yaml")) {
        rc = cn_bargs_usage_error(&a, "-o: \"%s\" is not json or yaml", fmt);
        goto out;
    }
    rc = v->run(&a);
out:
    cn_client_free(a.client);
    json_decref(a.vals);
    free(a.pos);
    return rc;
}

int cn_bcli_main(const char *prog, const char *summary, const cn_bverb *verbs, int argc, char **argv)
{
    if (argc < 2) {
        group_help(stderr, prog, summary, verbs);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        group_help(stdout, prog, summary, verbs);
        return 0;
    }
    for (const cn_bverb *v = verbs; v->name; v++) {
        if (strcmp(v->name, argv[1])) continue;
        _cleanup_free_ char *sub = cn_asprintf("%s %s", prog, v->name);
        if (v->sub) return cn_bcli_main(sub, v->summary, v->sub, argc - 1, argv + 1);
        return run_verb(sub, v, argc - 2, argv + 2);
    }
    fprintf(stderr, "%s: unknown command \"%s\"\n\n", prog, argv[1]);
    group_help(stderr, prog, summary, verbs);
    return 2;
}

/* ---- the bridge ---- */

cn_client *cn_bcli_client(cn_bargs *a)
{
    if (a->client) return a->client;
    const char *path = cn_bargs_get(a, "kubeconfig");
    if (!path || !*path) path = getenv(CN_BCLI_KUBECONFIG_ENV);
    if (!path || !*path) path = CN_BCLI_DEFAULT_KUBECONFIG;
    cn_err err = CN_ERR_INIT;
    if (cn_client_new_kubeconfig(path, &a->client, &err) < 0) {
        fprintf(stderr, "error: cannot use the bridge's kubeconfig (--kubeconfig, $%s): %s\n",
                CN_BCLI_KUBECONFIG_ENV, err.message ? err.message : "failed");
        cn_err_clear(&err);
        return NULL;
    }
    cn_client_set_agent(a->client, "cairn-cli");
    return a->client;
}

int cn_bcli_fail(const cn_err *err)
{
    fprintf(stderr, "error: %s\n", err && err->message ? err->message : "failed");
    return 1;
}

/* kubectl hides managedFields unless asked; so do we (on a copy). */
static void strip_managed(json_t *v)
{
    json_object_del(json_object_get(v, "metadata"), "managedFields");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v, "items"), i, e) strip_managed(e);
}

void cn_bcli_print(const json_t *in, const char *format)
{
    json_t *v = json_deep_copy(in);
    strip_managed(v);
    if (format && !strcmp(format, "yaml")) {
        cn_buf b;
        cn_buf_init(&b);
        cn_yaml_emit(&b, v);
        fputs(b.data ? b.data : "", stdout);
        cn_buf_release(&b);
    } else {
        char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
        printf("%s\n", s ? s : "null");
        free(s);
    }
    json_decref(v);
}

void cn_bcli_print_rows(json_t *rows)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_fleetcli_table(&b, rows);
    fputs(b.data ? b.data : "", stdout);
    cn_buf_release(&b);
    json_decref(rows);
}

json_t *cn_bcli_list_object(json_t *items)
{
    return json_pack("{s:s, s:s, s:{}, s:O}", "apiVersion", "v1", "kind", "List", "metadata", "items",
                     items ? items : json_array());
}

char *cn_bcli_path(const char *plural, const char *name)
{
    return cn_client_path(CN_FLEET_GROUP, CN_FLEET_VERSION, NULL, plural, name, NULL);
}

json_t *cn_bcli_list(cn_client *c, const char *plural, cn_err *err)
{
    _cleanup_free_ char *path = cn_bcli_path(plural, NULL);
    json_t *list = NULL;
    if (cn_client_get(c, path, &list, err) < 0) return NULL;
    json_t *items = json_incref(json_object_get(list, "items"));
    json_decref(list);
    return items ? items : json_array();
}

void cn_bcli_age(const char *ts, char out[24])
{
    int64_t t;
    if (!ts || cn_time_parse(ts, &t) < 0) {
        snprintf(out, 24, "<unknown>");
        return;
    }
    cn_fleetcli_age(cn_wall_s() - t, out);
}

/* "PROMPT [y/N]" on a terminal; false when stdin is not one. */
static bool confirm(const char *prompt)
{
    if (!isatty(STDIN_FILENO)) return false;
    fprintf(stderr, "%s [y/N] ", prompt);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return false;
    return line[0] == 'y' || line[0] == 'Y';
}

bool cn_bcli_consent(cn_bargs *a, const char *what, const char *detail)
{
    if (cn_bargs_has(a, "yes")) return true;
    _cleanup_free_ char *q = cn_asprintf("Delete %s%s?", what, detail ? detail : "");
    if (confirm(q)) return true;
    fprintf(stderr, "error: not deleting %s (confirm on a terminal or pass --yes)\n", what);
    return false;
}

int cn_bcli_list_cmd(cn_bargs *a, const char *plural, json_t *(*rows)(const json_t *items), const char *none)
{
    cn_client *c = cn_bcli_client(a);
    if (!c) return 1;
    cn_err err = CN_ERR_INIT;
    json_t *items = cn_bcli_list(c, plural, &err);
    int rc = 0;
    if (!items) {
        rc = cn_bcli_fail(&err);
    } else if (cn_bargs_format(a)) {
        json_t *l = cn_bcli_list_object(items);
        cn_bcli_print(l, cn_bargs_format(a));
        json_decref(l);
    } else if (!json_array_size(items)) {
        fprintf(stderr, "%s\n", none);
    } else {
        cn_bcli_print_rows(rows(items));
    }
    json_decref(items);
    cn_err_clear(&err);
    return rc;
}


/* ---- following a change ---- */

void cn_bfollow_progress(cn_bfollow *f, const char *st, const char *msg)
{
    if (!st || !*st) return;
    _cleanup_free_ char *line = cn_asprintf("%s%s%s", st, msg && *msg ? ": " : "", msg ? msg : "");
    /* The object and its Operation arrive on two streams in no common
     * order, so an older state may come after a newer one: a line already
     * printed is not printed again. */
    if (!f->seen) f->seen = json_object();
    if (json_object_get(f->seen, line)) return;
    json_object_set_new(f->seen, line, json_true());
    fprintf(stderr, "[%6.1fs] %s\n", (double)(cn_now_ms() - f->t0) / 1000.0, line);
    free(f->last);
    f->last = CN_TAKE_PTR(line);
}

void cn_bfollow_fail(cn_bfollow *f, const char *msg)
{
    f->done = -1;
    free(f->fail);
    f->fail = cn_strdup(msg && *msg ? msg : "the operation failed");
}

/* One pass: read the object, then follow it and the Operations until the
 * answer, the deadline or a broken stream (then the caller reads again).
 * Watches start from the resourceVersions just read, so nothing between
 * the read and the watch is missed. */
static int follow_pass(cn_bfollow *f, cn_client *c, int64_t deadline, cn_err *err)
{
    _cleanup_free_ char *path = cn_bcli_path(f->plural, f->name);
    _cleanup_free_ char *coll = cn_bcli_path(f->plural, NULL);
    _cleanup_free_ char *esc = cn_client_escape(f->name);
    _cleanup_free_ char *owatch = cn_asprintf("%s?fieldSelector=metadata.name%%3D%s", coll, esc);
    _cleanup_free_ char *ocoll = cn_bcli_path("operations", NULL);
    _cleanup_free_ char *olist = cn_asprintf("%s?limit=1", ocoll);
    json_t *obj = NULL, *ops = NULL;
    cn_client_watch *w1 = NULL, *w2 = NULL;
    int r = cn_client_get(c, path, &obj, err);
    if (r < 0 && err->code == 404) {
        f->object(f, c, NULL);
        r = 0;
    }
    if (r < 0 || f->done) goto out;
    f->object(f, c, obj);
    if (f->done) goto out;
    if ((r = cn_client_get(c, olist, &ops, err)) < 0 ||
        (r = cn_client_watch_start(c, owatch, cn_json_str_at(obj, "metadata.resourceVersion"), &w1, err)) < 0 ||
        (r = cn_client_watch_start(c, ocoll, cn_json_str_at(ops, "metadata.resourceVersion"), &w2, err)) < 0)
        goto out;
    while (!f->done && cn_now_ms() < deadline) {
        cn_watch_event ev;
        if ((r = cn_client_watch_next(w1, 200, &ev, err)) < 0) goto out;
        if (r == 1) {
            if (!strcmp(cn_meta_str(ev.object, "name"), f->name) && strcmp(ev.type, "BOOKMARK"))
                f->object(f, c, strcmp(ev.type, "DELETED") ? ev.object : NULL);
            json_decref(ev.object);
            continue;
        }
        if ((r = cn_client_watch_next(w2, 200, &ev, err)) < 0) goto out;
        if (r == 1) {
            if (strcmp(ev.type, "BOOKMARK") && strcmp(ev.type, "DELETED")) f->operation(f, ev.object);
            json_decref(ev.object);
        }
    }
    r = 0;
out:
    cn_client_watch_free(w1);
    cn_client_watch_free(w2);
    json_decref(obj);
    json_decref(ops);
    return r;
}

int cn_bfollow_run(cn_bfollow *f, cn_client *c, int64_t timeout_s)
{
    f->t0 = cn_now_ms();
    int64_t deadline = f->t0 + timeout_s * 1000;
    cn_err err = CN_ERR_INIT;
    int rc = 1;
    while (!f->done && cn_now_ms() < deadline) {
        cn_err_clear(&err);
        if (follow_pass(f, c, deadline, &err) < 0 && !f->done) {
            /* The bridge restarting, or a watch expired or cut: read again
             * after a pause (an unreachable server answers at once). Any
             * other answer is final. */
            if (err.code != 503 && err.code != 410 && err.code != 0 && err.code != 500) break;
            struct timespec ts = { 0, 500 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    if (f->done == 1) rc = 0;
    else if (f->done == -1) fprintf(stderr, "error: %s: %s\n", f->what, f->fail);
    else if (err.message && err.code != 503 && err.code != 410 && err.code != 0 && err.code != 500)
        cn_bcli_fail(&err);
    else
        fprintf(stderr, "error: %s: not done after %llds (--timeout); it goes on in the bridge\n", f->what,
                (long long)timeout_s);
    cn_err_clear(&err);
    free(f->last);
    free(f->fail);
    json_decref(f->seen);
    f->last = f->fail = NULL;
    f->seen = NULL;
    return rc;
}

/* ---- a cluster's operation ---- */

typedef struct cluster_wait {
    cn_bfollow f;               /* first: the callbacks get it */
    int64_t generation;
    bool deleting;
    char *op;                   /* the cluster's status.operation */
} cluster_wait;

static bool terminal(const char *st)
{
    return !strcmp(st, "Succeeded") || !strcmp(st, "Failed");
}

static void see_operation(cn_bfollow *f, const json_t *op)
{
    cluster_wait *w = (cluster_wait *)f;
    if (!w->op || strcmp(cn_meta_str(op, "name"), w->op)) return;
    const char *st = cn_json_str_at(op, "status.provisioningState");
    /* While deleting, the last operation may be an older one that failed;
     * only the Delete operation's failure ends the wait. */
    if (w->deleting && strcmp(cn_json_str_at(op, "spec.type"), "Delete")) return;
    cn_bfollow_progress(f, st, cn_json_str_at(op, "status.message"));
    if (w->deleting && !strcmp(st, "Failed")) cn_bfollow_fail(f, cn_json_str_at(op, "status.message"));
}

static void see_cluster(cn_bfollow *f, cn_client *c, const json_t *cl)
{
    cluster_wait *w = (cluster_wait *)f;
    if (!cl) {
        if (w->deleting) f->done = 1;
        else cn_bfollow_fail(f, "the cluster was deleted");
        return;
    }
    const char *st = cn_json_str_at(cl, "status.provisioningState");
    const char *msg = cn_json_str_at(cl, "status.message");
    const char *op = cn_json_str_at(cl, "status.operation");
    json_int_t og = json_integer_value(json_object_get(json_object_get(cl, "status"), "observedGeneration"));
    /* Until the controller has seen this change, the status still tells
     * of the previous operation (often "Succeeded", or "Failed"): not our
     * answer. A delete is answered by the cluster going away, or by its
     * Delete operation failing (see_operation). */
    bool current = w->deleting ? !terminal(st) : og >= w->generation;
    if (!current && terminal(st))
        st = "Accepted", msg = w->deleting ? "waiting for the bridge to start deleting"
                                           : "waiting for the bridge to pick up the change";
    cn_bfollow_progress(f, st, msg);
    if (*op && (!w->op || strcmp(w->op, op))) {
        /* A new operation: show where it is now (its later changes come
         * through the watch). */
        free(w->op);
        w->op = cn_strdup(op);
        _cleanup_free_ char *opath = cn_bcli_path("operations", op);
        json_t *o = NULL;
        cn_err err = CN_ERR_INIT;
        if (cn_client_get(c, opath, &o, &err) == 0) see_operation(f, o);
        json_decref(o);
        cn_err_clear(&err);
    }
    if (f->done || w->deleting || !current || !terminal(st)) return;
    if (!strcmp(st, "Failed")) cn_bfollow_fail(f, msg);
    else f->done = 1;
}

int cn_bcli_wait_cluster(cn_client *c, const char *name, int64_t generation, bool deleting, int64_t timeout_s)
{
    _cleanup_free_ char *what = cn_asprintf("cluster \"%s\"", name);
    cluster_wait w = {
        .f = { .plural = "clusters", .name = name, .what = what, .object = see_cluster, .operation = see_operation },
        .generation = generation, .deleting = deleting,
    };
    int rc = cn_bfollow_run(&w.f, c, timeout_s);
    if (rc == 0)
        fprintf(stderr, "[%6.1fs] %s\n", (double)(cn_now_ms() - w.f.t0) / 1000.0, deleting ? "Deleted" : "Done");
    free(w.op);
    return rc;
}
