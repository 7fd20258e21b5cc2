/* image: the node's image store (contract in image.h). This file holds the
 * store itself: the refs index, pulls (manifest -> platform manifest ->
 * config -> layers), import of OCI archives, list/remove/gc.
 *
 * Invariants:
 *  - a file under blobs/ or layers/ is complete and verified: downloads and
 *    unpacks happen under tmp/ and are renamed in only after the digest (or
 *    diff id) matched; tmp/ entries carry the writer's pid and are removed
 *    at open when that process is gone.
 *  - refs.json is rewritten whole (temp + fsync + rename) under an flock of
 *    DIR/lock, and re-read under it, so the agent and a `cairn image`
 *    command may share a store.
 *  - within a process, work on one key (a ref, a blob, a layer) happens once
 *    at a time: later callers wait for the first and share its result
 *    (flight_begin/flight_end). gc excludes pulls by a rwlock.
 *
 * refs.json: {"refs": {NAME: {"id": ID, "repo_digest": R}},
 *             "images": {ID: {"manifest": D, "blobs": [D...],
 *                             "layers": [DIFFID...], "size": N, "last_used": T}}}
 */
#include "agent/image.h"
#include "agent/image-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>

typedef struct flight {
    struct flight *next;
    char *key;
    bool done;
    int rc;
    cn_err err;
    int waiters;
    pthread_cond_t cv;
} flight;

struct cn_image_store {
    char *dir;              /* realpath: unpack relies on a symlink-free prefix */
    char **insecure;
    size_t ninsecure;
    int timeout_s;
    char *ca_file;
    pthread_mutex_t mu;     /* flights */
    pthread_rwlock_t gc;    /* pulls and imports shared, gc exclusive */
    flight *flights;
    int lockfd;
};

/* ---- single flight ---- */

/* true: the caller leads and must call flight_end. false: another thread
 * led; *rc and err hold its result. */
static bool flight_begin(cn_image_store *s, const char *key, int *rc, cn_err *err)
{
    pthread_mutex_lock(&s->mu);
    for (flight *f = s->flights; f; f = f->next) {
        if (strcmp(f->key, key) != 0) continue;
        f->waiters++;
        while (!f->done) pthread_cond_wait(&f->cv, &s->mu);
        *rc = f->rc;
        if (f->rc < 0 && err) cn_err_set(err, f->err.code, f->err.reason, "%s", f->err.message ? f->err.message : "");
        if (--f->waiters == 0) {
            pthread_cond_destroy(&f->cv);
            cn_err_clear(&f->err);
            free(f->key);
            free(f);
        }
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    flight *f = cn_calloc(1, sizeof *f);
    f->key = cn_strdup(key);
    pthread_cond_init(&f->cv, NULL);
    f->next = s->flights;
    s->flights = f;
    pthread_mutex_unlock(&s->mu);
    return true;
}

static void flight_end(cn_image_store *s, const char *key, int rc, const cn_err *err)
{
    pthread_mutex_lock(&s->mu);
    for (flight **pp = &s->flights; *pp; pp = &(*pp)->next) {
        flight *f = *pp;
        if (strcmp(f->key, key) != 0) continue;
        *pp = f->next;
        f->done = true;
        f->rc = rc;
        if (rc < 0 && err) cn_err_set(&f->err, err->code, err->reason, "%s", err->message ? err->message : "");
        if (f->waiters == 0) {
            pthread_cond_destroy(&f->cv);
            cn_err_clear(&f->err);
            free(f->key);
            free(f);
        } else {
            pthread_cond_broadcast(&f->cv);
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- paths, files ---- */

static char *blob_path(cn_image_store *s, const char *digest)
{
    return cn_asprintf("%s/blobs/sha256/%s", s->dir, digest + 7);
}

static char *layer_path(cn_image_store *s, const char *diff_id)
{
    return cn_asprintf("%s/layers/%s", s->dir, diff_id + 7);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A fresh name under tmp/: "<pid>-<random>-<what>" (see clean_tmp). */
static char *tmp_path(cn_image_store *s, const char *what)
{
    unsigned r;
    cn_random(&r, sizeof r);
    return cn_asprintf("%s/tmp/%ld-%08x-%.16s", s->dir, (long)getpid(), r, what);
}

static int sys_err(cn_err *err, int e, const char *what, const char *path)
{
    if (e == ENOSPC || e == EDQUOT) {
        cn_err_set(err, 507, "InsufficientStorage", "%s \"%s\": no space left on device", what, path);
        return -ENOSPC;
    }
    cn_err_set(err, 500, "InternalError", "%s \"%s\": %s", what, path, strerror(e));
    return -e;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int read_file(const char *path, size_t max, cn_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = -errno; break; }
        if (n == 0) break;
        if (out->len + (size_t)n > max) { rc = -EFBIG; break; }
        cn_buf_add(out, buf, (size_t)n);
    }
    close(fd);
    return rc;
}

/* Publish tmp at final: fsync, rename, and keep the first copy if two
 * processes raced (content-addressed, so both are the same). */
static int publish(const char *tmp, int fd, const char *final)
{
    if (fd >= 0 && fsync(fd) < 0) return -errno;
    if (rename(tmp, final) < 0) {
        int e = errno;
        if ((e == ENOTEMPTY || e == EEXIST) && exists(final)) return cn_rm_rf(tmp);
        return -e;
    }
    return 0;
}

/* Store bytes already verified by the caller as blob digest. */
static int put_blob_bytes(cn_image_store *s, const char *digest, const void *data, size_t len, cn_err *err)
{
    _cleanup_free_ char *final = blob_path(s, digest);
    if (exists(final)) return 0;
    _cleanup_free_ char *tmp = tmp_path(s, digest + 7);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return sys_err(err, errno, "creating", tmp);
    int rc = write_all(fd, data, len);
    if (rc == 0) rc = publish(tmp, fd, final);
    close(fd);
    if (rc < 0) {
        unlink(tmp);
        return sys_err(err, -rc, "writing", final);
    }
    return 0;
}

/* ---- the refs index ---- */

static json_t *index_load(cn_image_store *s)
{
    _cleanup_free_ char *path = cn_asprintf("%s/refs.json", s->dir);
    json_t *j = json_load_file(path, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    if (!json_is_object(json_object_get(j, "refs"))) json_object_set_new(j, "refs", json_object());
    if (!json_is_object(json_object_get(j, "images"))) json_object_set_new(j, "images", json_object());
    return j;
}

static int index_save(cn_image_store *s, json_t *j, cn_err *err)
{
    _cleanup_free_ char *path = cn_asprintf("%s/refs.json", s->dir);
    _cleanup_free_ char *tmp = tmp_path(s, "refs.json");
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : write_all(fd, text, strlen(text));
    if (rc == 0) rc = publish(tmp, fd, path);
    if (fd >= 0) close(fd);
    free(text);
    if (rc < 0) {
        unlink(tmp);
        return sys_err(err, -rc, "writing", path);
    }
    return 0;
}

/* The index under the file lock: lock_index(s, LOCK_EX) ... unlock_index. */
static json_t *lock_index(cn_image_store *s, int how)
{
    pthread_mutex_lock(&s->mu);
    while (flock(s->lockfd, how) < 0 && errno == EINTR) {}
    return index_load(s);
}

static void unlock_index(cn_image_store *s, json_t *j)
{
    json_decref(j);
    flock(s->lockfd, LOCK_UN);
    pthread_mutex_unlock(&s->mu);
}

/* ---- open/close ---- */

/* Remove tmp/ leftovers of processes that are gone (a crash mid-pull). */
static void clean_tmp(cn_image_store *s)
{
    _cleanup_free_ char *tdir = cn_asprintf("%s/tmp", s->dir);
    DIR *d = opendir(tdir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        int64_t pid = 0;
        _cleanup_free_ char *p = cn_strndup(de->d_name, strcspn(de->d_name, "-"));
        if (cn_parse_int64(p, &pid) == 0 && pid > 0 && pid <= INT_MAX && (pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH))
            continue;
        _cleanup_free_ char *full = cn_asprintf("%s/%s", tdir, de->d_name);
        cn_rm_rf(full);
    }
    closedir(d);
}

int cn_image_store_open(const cn_image_store_config *cfg, cn_image_store **out, cn_err *err)
{
    if (!cfg || !cfg->dir || !*cfg->dir) return cn_err_set(err, 400, "BadRequest", "image store: no directory"), -EINVAL;
    int rc = cn_mkdir_p(cfg->dir, 0755);
    if (rc < 0) return sys_err(err, -rc, "creating", cfg->dir);
    char real[PATH_MAX];
    if (!realpath(cfg->dir, real)) return sys_err(err, errno, "resolving", cfg->dir);
    static const char *const subs[] = { "blobs/sha256", "layers", "tmp" };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        _cleanup_free_ char *p = cn_asprintf("%s/%s", real, subs[i]);
        if ((rc = cn_mkdir_p(p, 0755)) < 0) return sys_err(err, -rc, "creating", p);
    }
    _cleanup_free_ char *lock = cn_asprintf("%s/lock", real);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sys_err(err, errno, "opening", lock);
    cn_image_store *s = cn_calloc(1, sizeof *s);
    s->dir = cn_strdup(real);
    s->lockfd = fd;
    s->timeout_s = cfg->timeout_s > 0 ? cfg->timeout_s : 60;
    s->ca_file = cn_strdup(cfg->ca_file);
    s->insecure = cn_calloc(cfg->ninsecure + 1, sizeof *s->insecure);
    for (size_t i = 0; i < cfg->ninsecure; i++) s->insecure[i] = cn_strdup(cfg->insecure[i]);
    s->ninsecure = cfg->ninsecure;
    pthread_mutex_init(&s->mu, NULL);
    pthread_rwlock_init(&s->gc, NULL);
    clean_tmp(s);
    *out = s;
    return 0;
}

void cn_image_store_close(cn_image_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->ninsecure; i++) free(s->insecure[i]);
    free(s->insecure);
    free(s->ca_file);
    pthread_mutex_destroy(&s->mu);
    pthread_rwlock_destroy(&s->gc);
    if (s->lockfd >= 0) close(s->lockfd);
    free(s->dir);
    free(s);
}

/* ---- the image as handed out ---- */

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

void cn_image_free(cn_image *img)
{
    if (!img) return;
    free(img->ref);
    free(img->id);
    free(img->repo_digest);
    strv_free(img->entrypoint, img->nentrypoint);
    strv_free(img->cmd, img->ncmd);
    strv_free(img->env, img->nenv);
    free(img->workdir);
    free(img->user);
    strv_free(img->layers, img->nlayers);
    free(img);
}

void cn_image_list_free(cn_image **imgs, size_t n)
{
    for (size_t i = 0; i < n; i++) cn_image_free(imgs[i]);
    free(imgs);
}

/* Build a cn_image for record rec (of image id) from its config blob;
 * -ENOENT if a layer or the config is gone. */
static int image_from_record(cn_image_store *s, const char *ref, const char *id, const char *repo_digest,
                             json_t *rec, cn_image **out, cn_err *err)
{
    _cleanup_free_ char *cpath = blob_path(s, id);
    cn_buf body;
    cn_buf_init(&body);
    cn_image_config cfg = { 0 };
    int rc = read_file(cpath, CN_IMAGE_MAX_JSON, &body);
    if (rc < 0) {
        cn_buf_release(&body);
        cn_err_set(err, 404, "NotFound", "image \"%s\": config blob missing", ref);
        return -ENOENT;
    }
    rc = cn_image_config_parse(body.data, body.len, &cfg, err);
    cn_buf_release(&body);
    if (rc < 0) return rc;
    json_t *layers = json_object_get(rec, "layers");
    cn_image *img = cn_calloc(1, sizeof *img);
    img->ref = cn_strdup(ref);
    img->id = cn_strdup(id);
    img->repo_digest = cn_strdup(repo_digest ? repo_digest : "");
    img->entrypoint = CN_TAKE_PTR(cfg.entrypoint);
    img->nentrypoint = cfg.nentrypoint;
    img->cmd = CN_TAKE_PTR(cfg.cmd);
    img->ncmd = cfg.ncmd;
    img->env = CN_TAKE_PTR(cfg.env);
    img->nenv = cfg.nenv;
    img->workdir = CN_TAKE_PTR(cfg.workdir);
    img->user = CN_TAKE_PTR(cfg.user);
    cn_image_config_clear(&cfg);
    img->nlayers = json_array_size(layers);
    img->layers = cn_calloc(img->nlayers + 1, sizeof *img->layers);
    for (size_t i = 0; i < img->nlayers; i++) {
        const char *d = json_string_value(json_array_get(layers, i));
        if (!cn_image_digest_valid(d)) {
            img->nlayers = i;
            cn_image_free(img);
            cn_err_set(err, 500, "InternalError", "image \"%s\": corrupt record", ref);
            return -EBADMSG;
        }
        img->layers[i] = layer_path(s, d);
        if (!exists(img->layers[i])) {
            img->nlayers = i + 1;
            cn_image_free(img);
            cn_err_set(err, 404, "NotFound", "image \"%s\": a layer is missing", ref);
            return -ENOENT;
        }
    }
    img->size = (uint64_t)json_integer_value(json_object_get(rec, "size"));
    *out = img;
    return 0;
}

/* Find name in the index: its ref entry, else (for digest refs) any ref
 * of the same repository whose repo digest matches. */
static json_t *find_ref(json_t *idx, const cn_imgref *r)
{
    json_t *refs = json_object_get(idx, "refs");
    json_t *e = json_object_get(refs, r->name);
    if (e || !r->digest) return e;
    _cleanup_free_ char *rd = cn_asprintf("%s/%s@%s", r->domain, r->repo, r->digest);
    const char *k;
    json_object_foreach(refs, k, e)
        if (!strcmp(json_string_value(json_object_get(e, "repo_digest")) ?: "", rd)) return e;
    return NULL;
}

int cn_image_get(cn_image_store *s, const char *ref, cn_image **out, cn_err *err)
{
    cn_imgref r = { 0 };
    int rc = cn_imgref_parse(ref, &r, err);
    if (rc < 0) return rc;
    json_t *idx = lock_index(s, LOCK_EX);
    json_t *e = find_ref(idx, &r);
    const char *id = json_string_value(json_object_get(e, "id"));
    json_t *rec = id ? json_object_get(json_object_get(idx, "images"), id) : NULL;
    if (!rec) {
        cn_err_set(err, 404, "NotFound", "image \"%s\" not found", r.name);
        rc = -ENOENT;
        goto out;
    }
    rc = image_from_record(s, r.name, id, json_string_value(json_object_get(e, "repo_digest")), rec, out, err);
    if (rc == 0) {
        json_object_set_new(rec, "last_used", json_integer(cn_wall_s()));
        cn_err tmp = CN_ERR_INIT;
        index_save(s, idx, &tmp);    /* last_used is advisory: a failed save only ages it */
        cn_err_clear(&tmp);
    }
out:
    unlock_index(s, idx);
    cn_imgref_clear(&r);
    return rc;
}

/* ---- pulling ---- */

/* Where blobs come from: a registry, or (import) nowhere — they must be
 * in the store already. */
typedef struct source {
    cn_registry *reg;
    const char *name;     /* reference, for messages */
} source;

static int digest_mismatch(cn_err *err, const char *want, const char *got)
{
    cn_err_set(err, 502, "BadGateway", "failed to copy: digest mismatch for %s: got %s", want, got);
    return -EBADMSG;
}

/* Make blob digest present (downloading it if need be) and verified. */
static int ensure_blob(cn_image_store *s, source *src, const char *digest, int64_t size, cn_err *err)
{
    _cleanup_free_ char *final = blob_path(s, digest);
    if (exists(final)) return 0;
    if (!src->reg) {
        cn_err_set(err, 400, "BadRequest", "blob %s is missing from the archive", digest);
        return -EBADMSG;
    }
    _cleanup_free_ char *key = cn_asprintf("blob:%s", digest);
    _cleanup_free_ char *tmp = tmp_path(s, digest + 7);
    int rc = 0;
    if (!flight_begin(s, key, &rc, err)) return rc;
    if (exists(final)) goto done;
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = sys_err(err, errno, "creating", tmp);
        goto done;
    }
    char got[72];
    rc = cn_registry_get_blob(src->reg, digest, size, fd, got, err);
    if (rc == 0 && strcmp(got, digest) != 0) rc = digest_mismatch(err, digest, got);
    if (rc == 0 && (rc = publish(tmp, fd, final)) < 0) rc = sys_err(err, -rc, "storing", final);
    close(fd);
    if (rc < 0) unlink(tmp);
done:
    flight_end(s, key, rc, err);
    return rc;
}

static int read_blob(cn_image_store *s, const char *digest, cn_buf *out, cn_err *err)
{
    _cleanup_free_ char *p = blob_path(s, digest);
    int rc = read_file(p, CN_IMAGE_MAX_JSON, out);
    if (rc < 0) return sys_err(err, -rc, "reading", p);
    return 0;
}

/* Make layer diff_id present, unpacking blob digest (at most size bytes). */
static int ensure_layer(cn_image_store *s, source *src, const char *digest, int64_t size, const char *diff_id,
                        cn_err *err)
{
    _cleanup_free_ char *final = layer_path(s, diff_id);
    if (exists(final)) return 0;
    _cleanup_free_ char *key = cn_asprintf("layer:%s", diff_id);
    _cleanup_free_ char *blob = blob_path(s, digest);
    _cleanup_free_ char *tmp = tmp_path(s, diff_id + 7);
    int rc = 0;
    if (!flight_begin(s, key, &rc, err)) return rc;
    if (exists(final)) goto done;
    if ((rc = ensure_blob(s, src, digest, size, err)) < 0) goto done;
    rc = cn_image_unpack(blob, tmp, diff_id, NULL, err);
    if (rc == 0 && (rc = publish(tmp, -1, final)) < 0) rc = sys_err(err, -rc, "storing", final);
    if (rc < 0) cn_rm_rf(tmp);
done:
    flight_end(s, key, rc, err);
    return rc;
}

/* Fetch a manifest by tag or digest, verify it, store it as a blob; *digest
 * receives its digest. want: the digest it must have, or NULL. */
static int fetch_manifest(cn_image_store *s, source *src, const char *reference, const char *want,
                          cn_buf *body, char digest[72], cn_err *err)
{
    _cleanup_free_ char *hdr = NULL;
    if (want) {
        _cleanup_free_ char *p = blob_path(s, want);
        if (exists(p)) {
            memcpy(digest, want, 72);
            return read_blob(s, want, body, err);
        }
        if (!src->reg) {
            cn_err_set(err, 400, "BadRequest", "manifest %s is missing from the archive", want);
            return -EBADMSG;
        }
    }
    int rc = cn_registry_get_manifest(src->reg, reference, body, &hdr, err);
    if (rc < 0) return rc;
    cn_image_sha256(body->data, body->len, digest);
    if (want && strcmp(want, digest) != 0) return digest_mismatch(err, want, digest);
    if (!want && hdr && cn_image_digest_valid(hdr) && strcmp(hdr, digest) != 0) return digest_mismatch(err, hdr, digest);
    return put_blob_bytes(s, digest, body->data, body->len, err);
}

typedef struct record {
    char top[72];       /* what the reference resolved to (index or manifest) */
    char manifest[72];  /* the platform manifest */
    json_t *rec;        /* the images[] entry */
    char *id;
} record;

/* From a top-level manifest/index digest (already stored) to an image
 * whose config and layers are all present. */
static int load_image(cn_image_store *s, source *src, const char *reference, const char *want, record *out,
                      cn_err *err)
{
    cn_buf body;
    cn_buf_init(&body);
    cn_image_manifest m = { 0 };
    cn_image_config cfg = { 0 };
    int rc = fetch_manifest(s, src, reference, want, &body, out->top, err);
    if (rc < 0) {
        cn_err_wrap(err, "failed to resolve reference \"%s\"", src->name);
        goto out;
    }
    json_t *blobs = json_array();
    out->rec = json_object();
    json_object_set_new(out->rec, "blobs", blobs);
    json_array_append_new(blobs, json_string(out->top));
    if ((rc = cn_image_manifest_parse(body.data, body.len, &m, err)) < 0) goto out;
    memcpy(out->manifest, out->top, 72);
    if (m.is_index) {
        size_t pos;
        if (cn_image_index_pick(&m, NULL, &pos) < 0) {
            cn_err_set(err, 404, "NotFound", "no match for platform linux/%s in manifest %s", cn_image_host_arch(), out->top);
            rc = -ENOENT;
            goto out;
        }
        _cleanup_free_ char *d = cn_strdup(m.descs[pos].digest);
        cn_image_manifest_clear(&m);
        cn_buf_reset(&body);
        if ((rc = fetch_manifest(s, src, d, d, &body, out->manifest, err)) < 0) goto out;
        json_array_append_new(blobs, json_string(out->manifest));
        if ((rc = cn_image_manifest_parse(body.data, body.len, &m, err)) < 0) goto out;
        if (m.is_index) {
            cn_err_set(err, 502, "BadGateway", "nested index %s is not supported", out->manifest);
            rc = -EBADMSG;
            goto out;
        }
    }
    if ((rc = ensure_blob(s, src, m.config.digest, m.config.size, err)) < 0) goto out;
    json_array_append_new(blobs, json_string(m.config.digest));
    cn_buf_reset(&body);
    if ((rc = read_blob(s, m.config.digest, &body, err)) < 0) goto out;
    if ((rc = cn_image_config_parse(body.data, body.len, &cfg, err)) < 0) goto out;
    if (cfg.ndiff_ids != m.ndescs) {
        cn_err_set(err, 502, "BadGateway", "manifest has %zu layers but the config %zu diff ids", m.ndescs, cfg.ndiff_ids);
        rc = -EBADMSG;
        goto out;
    }
    json_t *layers = json_array();
    json_object_set_new(out->rec, "layers", layers);
    uint64_t size = 0;
    for (size_t i = 0; i < m.ndescs; i++) {
        if ((rc = ensure_layer(s, src, m.descs[i].digest, m.descs[i].size, cfg.diff_ids[i], err)) < 0) goto out;
        json_array_append_new(blobs, json_string(m.descs[i].digest));
        json_array_append_new(layers, json_string(cfg.diff_ids[i]));
        _cleanup_free_ char *lp = layer_path(s, cfg.diff_ids[i]);
        size += cn_image_tree_bytes(lp);
    }
    json_object_set_new(out->rec, "manifest", json_string(out->manifest));
    json_object_set_new(out->rec, "size", json_integer((json_int_t)size));
    json_object_set_new(out->rec, "last_used", json_integer(cn_wall_s()));
    out->id = cn_strdup(m.config.digest);
out:
    cn_buf_release(&body);
    cn_image_manifest_clear(&m);
    cn_image_config_clear(&cfg);
    return rc;
}

static void record_clear(record *r)
{
    json_decref(r->rec);
    free(r->id);
    memset(r, 0, sizeof *r);
}

/* Enter the image (and name -> it, if name) in the index. */
static int register_image(cn_image_store *s, const cn_imgref *name, const record *r, cn_err *err)
{
    json_t *idx = lock_index(s, LOCK_EX);
    json_object_set(json_object_get(idx, "images"), r->id, r->rec);
    if (name) {
        json_t *e = json_object();
        json_object_set_new(e, "id", json_string(r->id));
        _cleanup_free_ char *rd = cn_asprintf("%s/%s@%s", name->domain, name->repo, r->top);
        json_object_set_new(e, "repo_digest", json_string(rd));
        json_object_set_new(json_object_get(idx, "refs"), name->name, e);
    }
    int rc = index_save(s, idx, err);
    unlock_index(s, idx);
    return rc;
}

static bool is_insecure(cn_image_store *s, const char *domain)
{
    for (size_t i = 0; i < s->ninsecure; i++)
        if (!strcmp(s->insecure[i], domain)) return true;
    return false;
}

static int do_pull(cn_image_store *s, const cn_imgref *r, const char *user, const char *pass, cn_err *err)
{
    cn_registry *reg = NULL;
    if (cn_registry_open(r->domain, r->repo, is_insecure(s, r->domain), s->ca_file, user, pass, s->timeout_s, &reg) < 0) {
        cn_err_set(err, 500, "InternalError", "cannot create an HTTP client");
        return -ENOMEM;
    }
    source src = { .reg = reg, .name = r->name };
    record rec = { 0 };
    int rc = load_image(s, &src, r->digest ? r->digest : r->tag, r->digest, &rec, err);
    if (rc == 0) rc = register_image(s, r, &rec, err);
    record_clear(&rec);
    cn_registry_close(reg);
    return rc;
}

int cn_image_pull(cn_image_store *s, const char *ref, const char *const *dockercfgs, size_t ndockercfgs,
                  bool only_if_missing, cn_image **out, cn_err *err)
{
    cn_imgref r = { 0 };
    _cleanup_free_ char *key = NULL, *user = NULL, *pass = NULL, *cred = NULL;
    int rc = cn_imgref_parse(ref, &r, err);
    if (rc < 0) return rc;
    if (only_if_missing) {
        cn_err tmp = CN_ERR_INIT;
        rc = cn_image_get(s, r.name, out, &tmp);
        cn_err_clear(&tmp);
        if (rc == 0) goto out;
    }
    /* Pulls share a result only when they use the same credentials: a pod
     * with a wrong secret must not fail one with the right one. */
    cn_image_auth_find(dockercfgs, ndockercfgs, r.domain, &user, &pass);
    cred = cn_asprintf("%s:%s", user ? user : "", pass ? pass : "");
    char credsum[72];
    cn_image_sha256(cred, strlen(cred), credsum);
    key = cn_asprintf("ref:%s %s", r.name, credsum);
    pthread_rwlock_rdlock(&s->gc);
    if (flight_begin(s, key, &rc, err)) {
        rc = do_pull(s, &r, user, pass, err);
        flight_end(s, key, rc, err);
    }
    pthread_rwlock_unlock(&s->gc);
    if (rc == 0) rc = cn_image_get(s, r.name, out, err);
    else if (err && err->message && !cn_str_has_prefix(err->message, "failed to pull"))
        cn_err_wrap(err, "failed to pull and unpack image \"%s\"", r.name);
out:
    cn_imgref_clear(&r);
    return rc;
}

/* ---- import ---- */

/* Copy the current tar entry into the store as a blob; got receives its
 * digest, which must be want if want is set (blobs/sha256/<hex> entries). */
static int import_blob(cn_image_store *s, struct archive *a, const char *want, char got[72], cn_err *err)
{
    if (want) {
        memcpy(got, want, 72);
        _cleanup_free_ char *final = blob_path(s, want);
        if (exists(final)) return 0;
    }
    _cleanup_free_ char *tmp = tmp_path(s, "import");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return sys_err(err, errno, "creating", tmp);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    int rc = 0;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        if ((rc = write_all(fd, buf, (size_t)n)) < 0) {
            rc = sys_err(err, -rc, "writing", tmp);
            break;
        }
    }
    if (rc == 0 && n < 0) {
        cn_err_set(err, 400, "BadRequest", "reading archive: %s", archive_error_string(a));
        rc = -EBADMSG;
    }
    if (rc == 0) {
        unsigned char d[32];
        unsigned int dl = 0;
        EVP_DigestFinal_ex(md, d, &dl);
        cn_image_hexdigest(d, got);
        if (want && strcmp(got, want) != 0) rc = digest_mismatch(err, want, got);
    }
    _cleanup_free_ char *final = rc == 0 ? blob_path(s, got) : NULL;
    if (rc == 0 && (rc = publish(tmp, fd, final)) < 0) rc = sys_err(err, -rc, "storing", final);
    EVP_MD_CTX_free(md);
    close(fd);
    if (rc < 0) unlink(tmp);
    return rc;
}

static int read_entry(struct archive *a, const char *path, cn_buf *out, cn_err *err)
{
    la_ssize_t n;
    char buf[65536];
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        if (out->len + (size_t)n > CN_IMAGE_MAX_JSON) {
            cn_err_set(err, 400, "BadRequest", "a JSON file in \"%s\" is too large", path);
            return -EBADMSG;
        }
        cn_buf_add(out, buf, (size_t)n);
    }
    return 0;
}

/* Read the archive: blobs into the store; index.json (OCI) into idx;
 * manifest.json (docker-archive) into dman, with paths mapping the files
 * it names (layer tars, configs) to the digests they were stored as. */
static int import_read(cn_image_store *s, const char *path, cn_buf *idx, cn_buf *dman, json_t *paths, cn_err *err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        cn_err_set(err, 400, "BadRequest", "\"%s\" is not an OCI archive: %s", path, archive_error_string(a));
        rc = archive_errno(a) == ENOENT ? -ENOENT : -EBADMSG;
        goto out;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(e);
        if (!name || archive_entry_filetype(e) != AE_IFREG) continue;
        while (name[0] == '.' && name[1] == '/') name += 2;
        char got[72];
        if (!strcmp(name, "index.json")) {
            rc = read_entry(a, path, idx, err);
        } else if (!strcmp(name, "manifest.json")) {
            rc = read_entry(a, path, dman, err);
        } else if (cn_str_has_prefix(name, "blobs/sha256/")) {
            _cleanup_free_ char *want = cn_asprintf("sha256:%s", name + strlen("blobs/sha256/"));
            if (cn_image_digest_valid(want)) rc = import_blob(s, a, want, got, err);
        } else if (cn_str_has_suffix(name, ".tar") || cn_str_has_suffix(name, ".json")) {
            /* docker-archive: "<id>/layer.tar", "<hex>.json" */
            if ((rc = import_blob(s, a, NULL, got, err)) == 0) json_object_set_new(paths, name, json_string(got));
        }
        if (rc < 0) goto out;
    }
    if (r != ARCHIVE_EOF) {
        cn_err_set(err, 400, "BadRequest", "reading \"%s\": %s", path, archive_error_string(a));
        rc = -EBADMSG;
        goto out;
    }
    if (!idx->len && !dman->len) {
        cn_err_set(err, 400, "BadRequest", "\"%s\" is not an OCI archive nor a docker-archive (no index.json or manifest.json)", path);
        rc = -EBADMSG;
    }
out:
    archive_read_free(a);
    return rc;
}

/* Load one image (named names, maybe none) from stored blobs. */
static int import_one(cn_image_store *s, const char *path, const char *digest, const char *const *names, size_t nnames,
                      char ***out, size_t *nout, cn_err *err)
{
    record rec = { 0 };
    cn_imgref r = { 0 };
    bool named = nnames > 0 && cn_imgref_parse(names[0], &r, NULL) == 0;
    source src = { .reg = NULL, .name = named ? r.name : digest };
    int rc = load_image(s, &src, digest, digest, &rec, err);
    if (rc == 0) rc = register_image(s, named ? &r : NULL, &rec, err);
    if (rc == 0) {
        *out = cn_realloc(*out, (*nout + 2) * sizeof **out);
        (*out)[(*nout)++] = cn_strdup(named ? r.name : rec.id);
        (*out)[*nout] = NULL;
    }
    /* More names for the same image (docker-archive RepoTags). */
    for (size_t i = 1; rc == 0 && i < nnames; i++) {
        cn_imgref r2 = { 0 };
        if (cn_imgref_parse(names[i], &r2, NULL) == 0 && (rc = register_image(s, &r2, &rec, err)) == 0) {
            *out = cn_realloc(*out, (*nout + 2) * sizeof **out);
            (*out)[(*nout)++] = cn_strdup(r2.name);
            (*out)[*nout] = NULL;
        }
        cn_imgref_clear(&r2);
    }
    record_clear(&rec);
    cn_imgref_clear(&r);
    if (rc < 0) cn_err_wrap(err, "importing \"%s\"", path);
    return rc;
}

static int import_oci(cn_image_store *s, const char *path, const cn_buf *idxb, char ***names, size_t *nnames, cn_err *err)
{
    cn_image_manifest idx = { 0 };
    int rc = cn_image_manifest_parse(idxb->data, idxb->len, &idx, err);
    for (size_t i = 0; rc == 0 && i < idx.ndescs; i++) {
        const char *name = idx.descs[i].ref_name;
        rc = import_one(s, path, idx.descs[i].digest, &name, name ? 1 : 0, names, nnames, err);
    }
    cn_image_manifest_clear(&idx);
    return rc;
}

static int bad_docker_archive(cn_err *err, const char *path, const char *why)
{
    cn_err_set(err, 400, "BadRequest", "docker-archive \"%s\": %s", path, why);
    return -EBADMSG;
}

/* docker-archive (`docker save`, `skopeo copy ... docker-archive:`): a
 * manifest.json naming a config file and layer tars per image. The store
 * keeps a Docker v2 manifest written here for each, then loads it as any. */
static int import_docker(cn_image_store *s, const char *path, const cn_buf *dman, json_t *paths, char ***names,
                         size_t *nnames, cn_err *err)
{
    json_t *root = json_loadb(dman->data, dman->len, 0, NULL);
    int rc = json_is_array(root) ? 0 : bad_docker_archive(err, path, "manifest.json is not a list");
    size_t i;
    json_t *ent;
    json_array_foreach(root, i, ent) {
        if (rc < 0) break;
        const char *cfgd = json_string_value(json_object_get(paths, json_string_value(json_object_get(ent, "Config")) ?: ""));
        json_t *layers = json_object_get(ent, "Layers");
        if (!cfgd || !json_is_array(layers)) {
            rc = bad_docker_archive(err, path, "an image without its config or layers");
            break;
        }
        json_t *man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[]}", "schemaVersion", 2, "mediaType",
                                "application/vnd.docker.distribution.manifest.v2+json", "config", "mediaType",
                                "application/vnd.docker.container.image.v1+json", "digest", cfgd, "size",
                                (json_int_t)0, "layers");
        size_t k;
        json_t *lp;
        json_array_foreach(layers, k, lp) {
            const char *ld = json_string_value(json_object_get(paths, json_string_value(lp) ?: ""));
            if (!ld) {
                rc = bad_docker_archive(err, path, "a layer named in manifest.json is missing");
                break;
            }
            _cleanup_free_ char *bp = blob_path(s, ld);
            struct stat st;
            json_array_append_new(json_object_get(man, "layers"),
                                  json_pack("{s:s, s:s, s:I}", "mediaType", "application/vnd.docker.image.rootfs.diff.tar",
                                            "digest", ld, "size", (json_int_t)(stat(bp, &st) == 0 ? st.st_size : -1)));
        }
        _cleanup_free_ char *cp = blob_path(s, cfgd);
        struct stat st;
        json_object_set_new(json_object_get(man, "config"), "size", json_integer(stat(cp, &st) == 0 ? st.st_size : -1));
        char *text = rc == 0 ? json_dumps(man, JSON_COMPACT) : NULL;
        json_decref(man);
        if (!text) break;
        char d[72];
        cn_image_sha256(text, strlen(text), d);
        rc = put_blob_bytes(s, d, text, strlen(text), err);
        free(text);
        json_t *tags = json_object_get(ent, "RepoTags");
        size_t ntags = json_array_size(tags);
        const char **tv = cn_calloc(ntags + 1, sizeof *tv);
        for (size_t t = 0; t < ntags; t++) tv[t] = json_string_value(json_array_get(tags, t)) ?: "";
        if (rc == 0) rc = import_one(s, path, d, tv, ntags, names, nnames, err);
        free(tv);
    }
    json_decref(root);
    return rc;
}

int cn_image_import(cn_image_store *s, const char *path, char ***names_out, cn_err *err)
{
    cn_buf idxb, dman;
    cn_buf_init(&idxb);
    cn_buf_init(&dman);
    json_t *paths = json_object();
    char **names = cn_calloc(1, sizeof *names);
    size_t nnames = 0;
    pthread_rwlock_rdlock(&s->gc);
    int rc = import_read(s, path, &idxb, &dman, paths, err);
    if (rc == 0)
        rc = idxb.len ? import_oci(s, path, &idxb, &names, &nnames, err)
                      : import_docker(s, path, &dman, paths, &names, &nnames, err);
    pthread_rwlock_unlock(&s->gc);
    cn_buf_release(&idxb);
    cn_buf_release(&dman);
    json_decref(paths);
    if (rc == 0 && names_out) *names_out = CN_TAKE_PTR(names);
    for (size_t i = 0; names && i < nnames; i++) free(names[i]);
    free(names);
    return rc;
}

/* ---- list, remove, gc ---- */

int cn_image_list(cn_image_store *s, cn_image ***out, size_t *n, cn_err *err)
{
    json_t *idx = lock_index(s, LOCK_SH);
    json_t *refs = json_object_get(idx, "refs"), *images = json_object_get(idx, "images");
    size_t cap = json_object_size(refs) + json_object_size(images);
    cn_image **v = cn_calloc(cap + 1, sizeof *v);
    size_t k = 0;
    const char *key, *id;
    json_t *e, *rec;
    json_t *named = json_object();
    json_object_foreach(refs, key, e) {
        id = json_string_value(json_object_get(e, "id"));
        rec = id ? json_object_get(images, id) : NULL;
        cn_image *img = NULL;
        cn_err tmp = CN_ERR_INIT;
        if (rec && image_from_record(s, key, id, json_string_value(json_object_get(e, "repo_digest")), rec, &img, &tmp) == 0) {
            v[k++] = img;
            json_object_set_new(named, id, json_true());
        }
        cn_err_clear(&tmp);
    }
    /* Images no name points to (after rm, or imported unnamed): ref "". */
    json_object_foreach(images, id, rec) {
        if (json_object_get(named, id)) continue;
        cn_image *img = NULL;
        cn_err tmp = CN_ERR_INIT;
        if (image_from_record(s, "", id, "", rec, &img, &tmp) == 0) v[k++] = img;
        cn_err_clear(&tmp);
    }
    json_decref(named);
    unlock_index(s, idx);
    *out = v;
    *n = k;
    (void)err;
    return 0;
}

int cn_image_remove(cn_image_store *s, const char *ref, cn_err *err)
{
    cn_imgref r = { 0 };
    int rc = cn_imgref_parse(ref, &r, err);
    if (rc < 0) return rc;
    json_t *idx = lock_index(s, LOCK_EX);
    json_t *refs = json_object_get(idx, "refs");
    if (!json_object_get(refs, r.name)) {
        cn_err_set(err, 404, "NotFound", "image \"%s\" not found", r.name);
        rc = -ENOENT;
    } else {
        json_object_del(refs, r.name);
        rc = index_save(s, idx, err);
    }
    unlock_index(s, idx);
    cn_imgref_clear(&r);
    return rc;
}

static bool in_list(const char *id, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && !strcmp(v[i], id)) return true;
    return false;
}

/* Delete every entry of DIR/sub whose "sha256:<name>" is not in keep. */
static uint64_t sweep(cn_image_store *s, const char *sub, json_t *keep)
{
    _cleanup_free_ char *dpath = cn_asprintf("%s/%s", s->dir, sub);
    DIR *d = opendir(dpath);
    if (!d) return 0;
    uint64_t freed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        _cleanup_free_ char *dg = cn_asprintf("sha256:%s", de->d_name);
        if (json_object_get(keep, dg)) continue;
        _cleanup_free_ char *full = cn_asprintf("%s/%s", dpath, de->d_name);
        uint64_t b = cn_image_tree_bytes(full);
        if (cn_rm_rf(full) == 0) freed += b;
    }
    closedir(d);
    return freed;
}

/* Unnamed images not in use go first; then, unless only_unnamed, named
 * ones oldest first until want_bytes are freed (0: all unused). Then the
 * files no surviving image uses. */
static int gc_run(cn_image_store *s, const char *const *in_use, size_t nin_use, uint64_t want_bytes,
                  bool only_unnamed, uint64_t *freed, cn_err *err)
{
    pthread_rwlock_wrlock(&s->gc);
    json_t *idx = lock_index(s, LOCK_EX);
    json_t *refs = json_object_get(idx, "refs"), *images = json_object_get(idx, "images");
    uint64_t total = 0;
    const char *id, *key;
    json_t *rec, *e, *tmp;
    json_t *named = json_object();
    json_object_foreach(refs, key, e) {
        const char *rid = json_string_value(json_object_get(e, "id"));
        if (rid) json_object_set_new(named, rid, json_true());
    }
    json_object_foreach_safe(images, tmp, id, rec) {
        if (json_object_get(named, id) || in_list(id, in_use, nin_use)) continue;
        total += (uint64_t)json_integer_value(json_object_get(rec, "size"));
        json_object_del(images, id);
    }
    while (!only_unnamed && (want_bytes == 0 || total < want_bytes)) {
        const char *oldest = NULL;
        json_int_t t_old = 0;
        json_object_foreach(images, id, rec) {
            if (in_list(id, in_use, nin_use)) continue;
            json_int_t t = json_integer_value(json_object_get(rec, "last_used"));
            if (!oldest || t < t_old) {
                oldest = id;
                t_old = t;
            }
        }
        if (!oldest) break;
        _cleanup_free_ char *victim = cn_strdup(oldest);
        total += (uint64_t)json_integer_value(json_object_get(json_object_get(images, victim), "size"));
        json_object_foreach_safe(refs, tmp, key, e)
            if (!strcmp(json_string_value(json_object_get(e, "id")) ?: "", victim)) json_object_del(refs, key);
        json_object_del(images, victim);
    }
    json_decref(named);
    int rc = index_save(s, idx, err);
    uint64_t swept = 0;
    if (rc == 0) {
        /* What the surviving images still use; everything else goes. */
        json_t *keep_blobs = json_object(), *keep_layers = json_object();
        json_object_foreach(images, id, rec) {
            size_t i;
            json_t *v;
            json_object_set_new(keep_blobs, id, json_true());
            json_array_foreach(json_object_get(rec, "blobs"), i, v)
                if (json_is_string(v)) json_object_set_new(keep_blobs, json_string_value(v), json_true());
            json_array_foreach(json_object_get(rec, "layers"), i, v)
                if (json_is_string(v)) json_object_set_new(keep_layers, json_string_value(v), json_true());
        }
        swept = sweep(s, "blobs/sha256", keep_blobs) + sweep(s, "layers", keep_layers);
        json_decref(keep_blobs);
        json_decref(keep_layers);
    }
    unlock_index(s, idx);
    pthread_rwlock_unlock(&s->gc);
    if (freed) *freed = swept;
    return rc;
}

int cn_image_gc(cn_image_store *s, const char *const *in_use, size_t nin_use, uint64_t want_bytes,
                uint64_t *freed, cn_err *err)
{
    return gc_run(s, in_use, nin_use, want_bytes, false, freed, err);
}

int cn_image_prune(cn_image_store *s, const char *const *in_use, size_t nin_use, uint64_t *freed, cn_err *err)
{
    return gc_run(s, in_use, nin_use, 0, true, freed, err);
}

int cn_image_disk_usage(cn_image_store *s, uint64_t *used, uint64_t *avail)
{
    struct statvfs vfs;
    if (statvfs(s->dir, &vfs) < 0) return -errno;
    if (used) *used = cn_image_tree_bytes(s->dir);
    if (avail) *avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return 0;
}
