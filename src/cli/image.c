/* image: `cairn image` — the node's image store (src/agent/image.h) from
 * the command line: pull, import (air-gapped nodes), ls, rm, prune. It
 * works on the same store as `cairn agent` (DATA/images). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image.h"
#include "cli/cli.h"
#include "lib/util.h"

#define DEFAULT_DATA_DIR "/var/lib/cairn/agent"
#define MAX_REPEAT 64

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cairn image [flags] COMMAND [ARGS]\n"
        "\n"
        "The node's image store, shared with `cairn agent` (DATA/images).\n"
        "\n"
        "commands:\n"
        "  pull REF...    pull REF (name[:tag] or name@sha256:...) from its registry;\n"
        "                 several REFs are pulled concurrently\n"
        "  import FILE    load an OCI archive (skopeo copy ... oci-archive:FILE:NAME) or a\n"
        "                 docker-archive (docker save); images get the names the archive\n"
        "                 gives (org.opencontainers.image.ref.name, RepoTags)\n"
        "  ls             list images: reference, image ID, size\n"
        "  rm REF         forget REF; its layers go at the next prune\n"
        "  prune          delete every image no name points to, then unused files\n"
        "\n"
        "flags:\n"
        "  --data-dir DIR             the agent's data directory (default %s);\n"
        "                             the store is DIR/images\n"
        "  --insecure-registry H:P    speak plain HTTP to this registry (repeatable)\n"
        "  --registry-ca FILE         PEM CA certificates for HTTPS registries (default:\n"
        "                             the system's)\n"
        "  --docker-config FILE       registry credentials, a dockerconfigjson file as in\n"
        "                             a kubernetes.io/dockerconfigjson Secret (repeatable)\n"
        "  --if-not-present           pull: do nothing for an image already complete\n"
        "  --timeout SECONDS          connect and stall timeout per request (default 60)\n"
        "  -h, --help                 show this help\n",
        DEFAULT_DATA_DIR);
}

static void human(uint64_t b, char out[32])
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
    double v = (double)b;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000;
        u++;
    }
    snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int cmd_ls(cn_image_store *s, cn_err *err)
{
    cn_image **v = NULL;
    size_t n = 0;
    int rc = cn_image_list(s, &v, &n, err);
    if (rc < 0) return rc;
    printf("%-60s %-19s %s\n", "REF", "IMAGE ID", "SIZE");
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        human(v[i]->size, sz);
        printf("%-60s %-19.19s %s\n", *v[i]->ref ? v[i]->ref : "<none>", v[i]->id, sz);
    }
    cn_image_list_free(v, n);
    return 0;
}

typedef struct pull_job {
    pthread_t th;
    cn_image_store *s;
    const char *ref;
    char **cfgs;
    size_t ncfgs;
    bool if_missing;
    int rc;
    cn_err err;
    cn_image *img;
    int64_t ms;
} pull_job;

static void *pull_one(void *ud)
{
    pull_job *j = ud;
    int64_t t0 = cn_now_ms();
    j->rc = cn_image_pull(j->s, j->ref, (const char *const *)j->cfgs, j->ncfgs, j->if_missing, &j->img, &j->err);
    j->ms = cn_now_ms() - t0;
    return NULL;
}

/* Several references are pulled at once, one thread each, as the kubelet's
 * pod workers do (the store shares downloads between them). */
static int cmd_pull(cn_image_store *s, char **refs, size_t nrefs, char **cfgs, size_t ncfgs, bool if_missing)
{
    pull_job *jobs = cn_calloc(nrefs, sizeof *jobs);
    for (size_t i = 0; i < nrefs; i++) {
        jobs[i] = (pull_job){ .s = s, .ref = refs[i], .cfgs = cfgs, .ncfgs = ncfgs, .if_missing = if_missing };
        cn_err_clear(&jobs[i].err);
        if (nrefs == 1 || pthread_create(&jobs[i].th, NULL, pull_one, &jobs[i]) != 0) {
            pull_one(&jobs[i]);
            jobs[i].th = 0;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < nrefs; i++) {
        if (jobs[i].th) pthread_join(jobs[i].th, NULL);
        if (jobs[i].rc < 0) {
            fprintf(stderr, "cairn image: %s\n", jobs[i].err.message ? jobs[i].err.message : "failed");
            rc = jobs[i].rc;
        } else {
            char sz[32];
            human(jobs[i].img->size, sz);
            printf("%s: %s (%s, %zu layers) in %lld ms\n", jobs[i].img->ref, jobs[i].img->id, sz,
                   jobs[i].img->nlayers, (long long)jobs[i].ms);
        }
        cn_image_free(jobs[i].img);
        cn_err_clear(&jobs[i].err);
    }
    free(jobs);
    return rc;
}

static int cmd_import(cn_image_store *s, const char *path, cn_err *err)
{
    char **names = NULL;
    int64_t t0 = cn_now_ms();
    int rc = cn_image_import(s, path, &names, err);
    if (rc < 0) return rc;
    for (char **p = names; *p; p++) {
        printf("imported %s\n", *p);
        free(*p);
    }
    free(names);
    printf("in %lld ms\n", (long long)(cn_now_ms() - t0));
    return 0;
}

static int cmd_prune(cn_image_store *s, cn_err *err)
{
    uint64_t freed = 0;
    int rc = cn_image_prune(s, NULL, 0, &freed, err);
    if (rc < 0) return rc;
    char sz[32];
    human(freed, sz);
    printf("freed %s\n", sz);
    return 0;
}

/* The dockerconfigjson files' texts; NULL (message printed) on failure. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "cairn image: --docker-config: cannot open \"%s\": %s\n", path, strerror(errno));
        return NULL;
    }
    cn_buf b;
    cn_buf_init(&b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len < (1u << 20)) cn_buf_add(&b, buf, n);
    fclose(f);
    return cn_buf_detach(&b, NULL);
}

int cn_cmd_image(int argc, char **argv)
{
    enum { O_DATA = 1, O_INSECURE, O_DOCKERCFG, O_TIMEOUT, O_IFMISSING, O_CA };
    static const struct option opts[] = {
        { "data-dir", required_argument, NULL, O_DATA },
        { "insecure-registry", required_argument, NULL, O_INSECURE },
        { "docker-config", required_argument, NULL, O_DOCKERCFG },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "if-not-present", no_argument, NULL, O_IFMISSING },
        { "registry-ca", required_argument, NULL, O_CA },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *data = DEFAULT_DATA_DIR, *ca = NULL;
    const char *insecure[MAX_REPEAT];
    char *cfgs[MAX_REPEAT];
    size_t ninsecure = 0, ncfgs = 0;
    int64_t timeout = 0;
    bool if_missing = false;
    _cleanup_free_ char *dir = NULL;
    int rc = 2, c;
    cn_image_store *s = NULL;
    cn_err err = CN_ERR_INIT;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_DATA: data = optarg; break;
        case O_INSECURE:
            if (ninsecure == MAX_REPEAT) { fprintf(stderr, "cairn image: too many --insecure-registry\n"); goto out; }
            insecure[ninsecure++] = optarg;
            break;
        case O_DOCKERCFG:
            if (ncfgs == MAX_REPEAT) { fprintf(stderr, "cairn image: too many --docker-config\n"); goto out; }
            if (!(cfgs[ncfgs] = slurp(optarg))) { rc = 1; goto out; }
            ncfgs++;
            break;
        case O_TIMEOUT:
            if (cn_parse_int64(optarg, &timeout) < 0 || timeout < 1 || timeout > 3600) {
                fprintf(stderr, "cairn image: --timeout: want seconds from 1 to 3600, got \"%s\"\n", optarg);
                goto out;
            }
            break;
        case O_IFMISSING: if_missing = true; break;
        case O_CA: ca = optarg; break;
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        goto out;
    }
    const char *cmd = argv[optind];
    int nargs = argc - optind - 1;
    bool pull = !strcmp(cmd, "pull");
    bool one_arg = !strcmp(cmd, "import") || !strcmp(cmd, "rm");
    bool no_arg = !strcmp(cmd, "ls") || !strcmp(cmd, "prune");
    if ((!pull && !one_arg && !no_arg) || (pull && nargs < 1) || (one_arg && nargs != 1) || (no_arg && nargs != 0)) {
        fprintf(stderr, "cairn image: %s\n", pull || one_arg || no_arg ? "wrong number of arguments" : "unknown command");
        usage(stderr);
        goto out;
    }
    const char *arg = one_arg ? argv[optind + 1] : NULL;
    dir = cn_asprintf("%s/images", data);
    cn_image_store_config cfg = { .dir = dir, .insecure = insecure, .ninsecure = ninsecure, .timeout_s = (int)timeout,
                                  .ca_file = ca };
    rc = 1;
    if (cn_image_store_open(&cfg, &s, &err) < 0) goto fail;
    int r;
    if (pull) {
        rc = cmd_pull(s, argv + optind + 1, (size_t)nargs, cfgs, ncfgs, if_missing) < 0 ? 1 : 0;
        goto out;
    }
    if (!strcmp(cmd, "import")) r = cmd_import(s, arg, &err);
    else if (!strcmp(cmd, "rm")) r = cn_image_remove(s, arg, &err);
    else if (!strcmp(cmd, "ls")) r = cmd_ls(s, &err);
    else r = cmd_prune(s, &err);
    if (r < 0) goto fail;
    if (!strcmp(cmd, "rm")) printf("removed %s\n", arg);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "cairn image: %s\n", err.message ? err.message : "failed");
out:
    cn_image_store_close(s);
    cn_err_clear(&err);
    for (size_t i = 0; i < ncfgs; i++) free(cfgs[i]);
    return rc;
}
