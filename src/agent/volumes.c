/* volumes: a pod's volumes materialised on the node under
 * pod_dir/volumes/<name>, as the kubelet's volume plugins do.
 *
 *   emptyDir               a 0777 directory; medium Memory: a tmpfs (sizeLimit)
 *   configMap, secret,     files written by the atomic writer below; secret
 *   downwardAPI, projected volumes live on a tmpfs so they never touch disk
 *   hostPath               symlink to the host path, after the allow list and
 *                          the type check
 *   persistentVolumeClaim  symlink to the bound PV's hostPath/local path
 *
 * The atomic writer is the kubelet's AtomicWriter: the files go to a fresh
 * "..<timestamp>.XXXXXX" directory, then the "..data" symlink is swapped
 * to it with one rename, and each user-visible name is a symlink through
 * "..data" — a reader sees either the old or the new set of files, never a
 * mix. Unchanged content is not rewritten. */
#include "agent/podspec-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/jwt.h"
#include "lib/quantity.h"
#include "lib/util.h"

#define DATA_LINK "..data"
#define DATA_TMP "..data_tmp"
#define DEFAULT_MODE 0644
#define DEFAULT_TOKEN_TTL 3600
#define MAX_FILE (8u << 20)

/* ---- filesystem helpers ---- */

char *cn_ps_read_fd(int fd, size_t max, size_t *len)
{
    cn_buf b;
    cn_buf_init(&b);
    char chunk[8192];
    ssize_t n;
    while (b.len <= max && (n = read(fd, chunk, sizeof chunk)) > 0) cn_buf_add(&b, chunk, (size_t)n);
    close(fd);
    if (!b.data) cn_buf_adds(&b, "");
    return cn_buf_detach(&b, len);
}

/* A mount point: another filesystem than its parent's. */
static bool is_mountpoint(const char *path)
{
    struct stat st, pst;
    char *parent = cn_asprintf("%s/..", path);
    bool r = lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && stat(parent, &pst) == 0 && st.st_dev != pst.st_dev;
    free(parent);
    return r;
}

/* Remove name under dirfd recursively: never follows a symlink, never
 * crosses into another filesystem (a mount left behind stays). */
static int rm_tree_at(int at, const char *name, dev_t dev)
{
    struct stat st;
    if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode)) return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -errno : 0;
    if (st.st_dev != dev) return -EBUSY;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        int rr = rm_tree_at(dirfd(d), de->d_name, dev);
        if (rr < 0 && !r) r = rr;
    }
    closedir(d);
    if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !r) r = -errno;
    return r;
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) return errno == ENOENT ? 0 : -errno;
    return rm_tree_at(AT_FDCWD, path, st.st_dev);
}

/* Point link at target (atomically replaced when it differs). */
static int ensure_symlink(const char *link, const char *target)
{
    char cur[PATH_MAX];
    ssize_t n = readlink(link, cur, sizeof cur - 1);
    if (n >= 0) {
        cur[n] = '\0';
        if (!strcmp(cur, target)) return 0;
    }
    char *tmp = cn_asprintf("%s.tmp", link);
    unlink(tmp);
    int r = 0;
    if (symlink(target, tmp) < 0) r = -errno;
    else if (rename(tmp, link) < 0) {
        r = -errno;
        unlink(tmp);
    }
    free(tmp);
    return r;
}

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? NULL : cn_ps_read_fd(fd, MAX_FILE, len);
}

/* ---- the atomic writer ---- */

typedef struct file {
    char *path;         /* relative, validated */
    char *data;
    size_t len;
    mode_t mode;
} file;

typedef struct payload {
    file *f;
    size_t n;
    int64_t gid;        /* the pod's fsGroup, or -1 */
} payload;

static void payload_add(payload *p, const char *path, const char *data, size_t len, mode_t mode)
{
    for (size_t i = 0; i < p->n; i++) {
        if (!strcmp(p->f[i].path, path)) {          /* a later source wins, as upstream */
            free(p->f[i].data);
            p->f[i].data = cn_malloc(len + 1);
            memcpy(p->f[i].data, data, len);
            p->f[i].data[len] = '\0';
            p->f[i].len = len;
            p->f[i].mode = mode;
            return;
        }
    }
    p->f = cn_realloc(p->f, (p->n + 1) * sizeof *p->f);
    file *f = &p->f[p->n++];
    f->path = cn_strdup(path);
    f->data = cn_malloc(len + 1);
    memcpy(f->data, data, len);
    f->data[len] = '\0';
    f->len = len;
    f->mode = mode;
}

static void payload_release(payload *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->f[i].path);
        free(p->f[i].data);
    }
    free(p->f);
    p->f = NULL;
    p->n = 0;
}

/* upstream validatePath: relative, no "..", not starting with "..". */
static int check_path(const char *p, cn_err *err)
{
    if (!*p || p[0] == '/' || cn_str_has_prefix(p, ".."))
        return cn_err_invalid(err, "invalid path %s: must be relative and may not start with '..'", p);
    for (const char *s = p; (s = strstr(s, "..")); s += 2) {
        if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return cn_err_invalid(err, "invalid path %s: must not contain '..'", p);
    }
    if (strlen(p) > 4096) return cn_err_invalid(err, "invalid path: too long");
    return 0;
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *p = cn_asprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0) n += S_ISDIR(st.st_mode) ? count_files(p) : 1;
        free(p);
    }
    closedir(d);
    return n;
}

/* Does the directory hold exactly this payload? */
static bool same_payload(const char *dir, const payload *p)
{
    if (count_files(dir) != p->n) return false;
    for (size_t i = 0; i < p->n; i++) {
        char *path = cn_asprintf("%s/%s", dir, p->f[i].path);
        struct stat st;
        size_t len;
        char *data = lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? read_file(path, &len) : NULL;
        bool same = data && len == p->f[i].len && !memcmp(data, p->f[i].data, len) &&
                    (st.st_mode & 07777) == p->f[i].mode;
        free(data);
        free(path);
        if (!same) return false;
    }
    return true;
}

static int write_payload_file(const char *tsdir, const file *f)
{
    char *path = cn_asprintf("%s/%s", tsdir, f->path);
    char *slash = strrchr(path, '/');
    int r = 0;
    *slash = '\0';
    r = cn_mkdir_p(path, 0755);
    *slash = '/';
    if (r == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) r = -errno;
        else {
            size_t off = 0;
            while (off < f->len && r == 0) {
                ssize_t n = write(fd, f->data + off, f->len - off);
                if (n < 0) r = -errno;
                else off += (size_t)n;
            }
            if (r == 0 && fchmod(fd, f->mode) < 0) r = -errno;
            if (close(fd) < 0 && r == 0) r = -errno;
        }
    }
    free(path);
    return r;
}

/* The kubelet's SetVolumeOwnership for a read-only volume: everything
 * group-owned by fsGroup, directories setgid and group-searchable (file
 * modes were masked with 0440 already, so unchanged content compares equal). */
static void own_tree(const char *path, gid_t gid)
{
    struct stat st;
    if (lstat(path, &st) < 0 || S_ISLNK(st.st_mode)) return;
    if (lchown(path, (uid_t)-1, gid) < 0) return;
    if (!S_ISDIR(st.st_mode)) return;
    chmod(path, (st.st_mode & 07777) | 02550);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *child = cn_asprintf("%s/%s", path, de->d_name);
        own_tree(child, gid);
        free(child);
    }
    if (d) closedir(d);
}

static bool top_level_in(const payload *p, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < p->n; i++)
        if (!strncmp(p->f[i].path, name, n) && (p->f[i].path[n] == '\0' || p->f[i].path[n] == '/')) return true;
    return false;
}

static int atomic_write(const char *dir, const payload *p, cn_err *err)
{
    char cur[PATH_MAX];
    char *link = cn_asprintf("%s/%s", dir, DATA_LINK);
    char *old = NULL, *ts = NULL;
    int r = 0;
    ssize_t n = readlink(link, cur, sizeof cur - 1);
    if (n > 0) {
        cur[n] = '\0';
        old = cn_asprintf("%s/%s", dir, cur);
        if (!strchr(cur, '/') && same_payload(old, p)) goto done;
    }
    /* 1. the new timestamped directory with every file */
    struct timespec now;
    struct tm tm;
    char stamp[64];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &tm);
    ts = cn_asprintf("%s/%s%09ldXXXXXX", dir, stamp, (long)now.tv_nsec);
    if (!mkdtemp(ts)) {
        r = cn_err_internal(err, "mkdtemp in %s: %s", dir, strerror(errno));
        goto done;
    }
    chmod(ts, 0755);
    for (size_t i = 0; i < p->n; i++) {
        if ((r = write_payload_file(ts, &p->f[i])) < 0) {
            cn_err_internal(err, "write %s: %s", p->f[i].path, strerror(-r));
            rm_tree(ts);
            goto done;
        }
    }
    if (p->gid >= 0) own_tree(ts, (gid_t)p->gid);
    /* 2. swap ..data in one rename */
    char *tmp = cn_asprintf("%s/%s", dir, DATA_TMP);
    unlink(tmp);
    if (symlink(strrchr(ts, '/') + 1, tmp) < 0 || rename(tmp, link) < 0) {
        r = cn_err_internal(err, "swap %s: %s", link, strerror(errno));
        unlink(tmp);
        free(tmp);
        rm_tree(ts);
        goto done;
    }
    free(tmp);
    /* 3. user-visible names through ..data; stale ones go */
    for (size_t i = 0; i < p->n; i++) {
        char *top = cn_strdup(p->f[i].path);
        char *slash = strchr(top, '/');
        if (slash) *slash = '\0';
        char *l = cn_asprintf("%s/%s", dir, top), *target = cn_asprintf("%s/%s", DATA_LINK, top);
        int rr = ensure_symlink(l, target);
        if (rr < 0 && !r) r = cn_err_internal(err, "symlink %s: %s", l, strerror(-rr));
        free(l);
        free(target);
        free(top);
    }
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (cn_str_has_prefix(de->d_name, "..") || !strcmp(de->d_name, ".")) continue;
        if (top_level_in(p, de->d_name)) continue;
        char *l = cn_asprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(l, &st) == 0 && S_ISLNK(st.st_mode)) unlink(l);
        free(l);
    }
    if (d) closedir(d);
    /* 4. the old generation */
    if (old && n > 0 && !strchr(cur, '/') && cn_str_has_prefix(cur, "..")) rm_tree(old);
done:
    free(link);
    free(old);
    free(ts);
    return r;
}

/* ---- sources of file content ---- */

static mode_t mode_of(const json_t *obj, const char *key, mode_t def)
{
    const json_t *m = json_object_get(obj, key);
    if (json_is_integer(m) && json_integer_value(m) >= 0 && json_integer_value(m) <= 0777)
        return (mode_t)json_integer_value(m);
    return def;
}

/* configMap or secret source (a volume or a projected source). */
static int add_data_source(const cn_podspec_env *env, const char *ns, const json_t *src, bool secret,
                           mode_t defmode, payload *p, cn_err *err)
{
    const char *name = cn_ps_str(src, secret && json_object_get(src, "secretName") ? "secretName" : "name");
    bool optional = cn_ps_bool(src, "optional");
    cn_ps_data d;
    int r = cn_ps_data_load(env, secret, ns, name, &d, err);
    if (r == -ENOENT && optional) {
        cn_err_clear(err);
        return 0;
    }
    if (r < 0) return r;
    const json_t *items = json_object_get(src, "items");
    if (json_array_size(items)) {
        size_t i;
        const json_t *it;
        json_array_foreach(items, i, it) {
            const char *key = cn_ps_str(it, "key"), *path = cn_ps_str(it, "path");
            const cn_ps_kv *kv = key ? cn_ps_data_get(&d, key) : NULL;
            if (!kv) {
                if (optional) continue;
                r = cn_err_invalid(err, secret ? "references non-existent secret key: %s"
                                               : "configmap references non-existent config key: %s",
                                   key ? key : "");
                break;
            }
            if ((r = check_path(path ? path : "", err)) < 0) break;
            payload_add(p, path, kv->val, kv->len, mode_of(it, "mode", defmode));
        }
    } else {
        for (size_t i = 0; i < d.n && r == 0; i++) {
            if ((r = check_path(d.kv[i].key, err)) < 0) break;
            payload_add(p, d.kv[i].key, d.kv[i].val, d.kv[i].len, defmode);
        }
    }
    cn_ps_data_release(&d);
    return r;
}

static int add_downward(const cn_podspec_env *env, const json_t *pod, const json_t *items,
                        mode_t defmode, payload *p, cn_err *err)
{
    const char *pod_ip = cn_ps_str(json_object_get(pod, "status"), "podIP");
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) {
        const char *path = cn_ps_str(it, "path");
        const json_t *fr = json_object_get(it, "fieldRef"), *rr = json_object_get(it, "resourceFieldRef");
        char *val = NULL;
        int r = check_path(path ? path : "", err);
        if (r < 0) return r;
        if (fr) {
            r = cn_ps_field_value(env, pod, pod_ip, cn_ps_str(fr, "fieldPath"), &val, err);
        } else if (rr) {
            const char *cname = cn_ps_str(rr, "containerName");
            const json_t *c = cname ? cn_ps_container(pod, cname) : NULL;
            if (!c) return cn_err_invalid(err, "resourceFieldRef of %s: container \"%s\" not found", path, cname ? cname : "");
            r = cn_ps_resource_value(env, c, rr, &val, err);
        } else {
            return cn_err_invalid(err, "downwardAPI item %s has neither fieldRef nor resourceFieldRef", path);
        }
        if (r < 0) return r;
        payload_add(p, path, val, strlen(val), mode_of(it, "mode", defmode));
        free(val);
    }
    return 0;
}

/* Decode the "iat" and "exp" claims of a JWT; false if it has none. */
static bool jwt_times(const char *tok, int64_t *iat, int64_t *exp)
{
    const char *dot1 = strchr(tok, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2) return false;
    char *raw = NULL;
    size_t len;
    bool ok = false;
    if (cn_base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), 64 * 1024, &raw, &len) == 0) {
        json_t *j = json_loadb(raw, len, 0, NULL);
        if (json_is_integer(json_object_get(j, "exp")) && json_is_integer(json_object_get(j, "iat"))) {
            *iat = json_integer_value(json_object_get(j, "iat"));
            *exp = json_integer_value(json_object_get(j, "exp"));
            ok = true;
        }
        json_decref(j);
    }
    free(raw);
    return ok;
}

static int add_token(const cn_podspec_env *env, const json_t *pod, const char *voldir,
                     const json_t *src, mode_t defmode, payload *p, cn_err *err)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const char *path = cn_ps_str(src, "path"), *aud = cn_ps_str(src, "audience");
    const char *sa = cn_ps_str(json_object_get(pod, "spec"), "serviceAccountName");
    json_int_t ttl = json_integer_value(json_object_get(src, "expirationSeconds"));
    int r = check_path(path ? path : "", err);
    if (r < 0) return r;
    if (ttl <= 0) ttl = DEFAULT_TOKEN_TTL;
    /* reuse the token written last time until 80% of its life, as the kubelet */
    char *old_path = cn_asprintf("%s/%s/%s", voldir, DATA_LINK, path);
    size_t len;
    char *old = read_file(old_path, &len);
    free(old_path);
    int64_t iat, exp;
    if (old && jwt_times(old, &iat, &exp) && cn_wall_s() < iat + (exp - iat) * 8 / 10) {
        payload_add(p, path, old, len, defmode);
        free(old);
        return 0;
    }
    free(old);
    if (!env->token) return cn_err_internal(err, "service account tokens are not available on this node");
    char *tok = NULL;
    r = env->token(env->ud, cn_ps_str(meta, "namespace") ? cn_ps_str(meta, "namespace") : "default",
                   sa ? sa : "default", aud, ttl, cn_ps_str(meta, "name"), cn_ps_str(meta, "uid"),
                   &tok, &exp, err);
    if (r < 0) return r;
    payload_add(p, path, tok, strlen(tok), defmode);
    free(tok);
    return 0;
}

static int projected(const cn_podspec_env *env, const json_t *pod, const char *dir,
                     const json_t *spec, payload *p, cn_err *err)
{
    const char *ns = cn_ps_str(json_object_get(pod, "metadata"), "namespace");
    mode_t defmode = mode_of(spec, "defaultMode", DEFAULT_MODE);
    size_t i;
    const json_t *s, *x;
    if (!ns) ns = "default";
    json_array_foreach(json_object_get(spec, "sources"), i, s) {
        int r;
        if ((x = json_object_get(s, "configMap"))) r = add_data_source(env, ns, x, false, defmode, p, err);
        else if ((x = json_object_get(s, "secret"))) r = add_data_source(env, ns, x, true, defmode, p, err);
        else if ((x = json_object_get(s, "downwardAPI"))) r = add_downward(env, pod, json_object_get(x, "items"), defmode, p, err);
        else if ((x = json_object_get(s, "serviceAccountToken"))) r = add_token(env, pod, dir, x, defmode, p, err);
        else {
            const char *k = json_object_iter_key(json_object_iter((json_t *)s));
            r = cn_err_invalid(err, "projected source %s is not supported by this node", k ? k : "(empty)");
        }
        if (r < 0) return r;
    }
    return 0;
}

/* ---- hostPath and persistentVolumeClaim ---- */

static bool under_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/') n--;
    if (n == 1 && prefix[0] == '/') return true;
    return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

static bool host_path_allowed(const cn_podspec_env *env, const char *path)
{
    for (size_t i = 0; i < env->nhost_path_allow; i++) {
        if (!under_prefix(path, env->host_path_allow[i])) continue;
        /* an existing path must also resolve under the (resolved) prefix */
        char real[PATH_MAX], rprefix[PATH_MAX];
        if (!realpath(path, real)) return true;
        if (!realpath(env->host_path_allow[i], rprefix)) snprintf(rprefix, sizeof rprefix, "%s", env->host_path_allow[i]);
        if (under_prefix(real, rprefix)) return true;
    }
    return false;
}

static int host_path_type(const char *path, const char *type, cn_err *err)
{
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (!type || !*type) {
        /* unset: no check; a missing path is created as a directory, as containerd does */
        if (!exists && cn_mkdir_p(path, 0755) < 0) return cn_err_internal(err, "mkdir %s: %s", path, strerror(errno));
        return 0;
    }
    if (!strcmp(type, "DirectoryOrCreate") && !exists) {
        if (cn_mkdir_p(path, 0755) < 0) return cn_err_internal(err, "mkdir %s: %s", path, strerror(errno));
        exists = stat(path, &st) == 0;
    } else if (!strcmp(type, "FileOrCreate") && !exists) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return cn_err_internal(err, "create %s: %s", path, strerror(errno));
        close(fd);
        exists = stat(path, &st) == 0;
    }
    const char *what;
    bool ok;
    if (!strcmp(type, "Directory") || !strcmp(type, "DirectoryOrCreate")) { what = "a directory"; ok = S_ISDIR(st.st_mode); }
    else if (!strcmp(type, "File") || !strcmp(type, "FileOrCreate")) { what = "a file"; ok = S_ISREG(st.st_mode); }
    else if (!strcmp(type, "Socket")) { what = "a socket file"; ok = S_ISSOCK(st.st_mode); }
    else if (!strcmp(type, "CharDevice")) { what = "a character device"; ok = S_ISCHR(st.st_mode); }
    else if (!strcmp(type, "BlockDevice")) { what = "a block device"; ok = S_ISBLK(st.st_mode); }
    else return cn_err_invalid(err, "hostPath type \"%s\" is not supported", type);
    if (!exists || !ok) return cn_err_invalid(err, "hostPath type check failed: %s is not %s", path, what);
    return 0;
}

static bool has_backsteps(const char *p)
{
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/')) return true;
    return false;
}

static int host_path(const cn_podspec_env *env, const json_t *hp, const char *dir, cn_err *err)
{
    const char *path = cn_ps_str(hp, "path");
    if (!path || path[0] != '/' || has_backsteps(path))
        return cn_err_invalid(err, "hostPath \"%s\" must be an absolute path without '..'", path ? path : "");
    if (!host_path_allowed(env, path)) {
        cn_buf b;
        cn_buf_init(&b);
        for (size_t i = 0; i < env->nhost_path_allow; i++)
            cn_buf_addf(&b, "%s%s", i ? ", " : "", env->host_path_allow[i]);
        int r = cn_err_set(err, 403, "Forbidden", "hostPath \"%s\" is not allowed by this node (allowed: %s)",
                           path, b.len ? b.data : "none");
        cn_buf_release(&b);
        return r;
    }
    int r = host_path_type(path, cn_ps_str(hp, "type"), err);
    if (r < 0) return r;
    if ((r = ensure_symlink(dir, path)) < 0) return cn_err_internal(err, "symlink %s: %s", dir, strerror(-r));
    return 0;
}

static int pvc(const cn_podspec_env *env, const char *ns, const json_t *src, const char *dir, cn_err *err)
{
    const char *claim = cn_ps_str(src, "claimName");
    json_t *pvc_obj = NULL, *pv = NULL;
    int r;
    if (!claim) return cn_err_invalid(err, "persistentVolumeClaim without claimName");
    if (!env->fetch) return cn_err_internal(err, "no API access to read persistentvolumeclaim \"%s\"", claim);
    r = env->fetch(env->ud, "persistentvolumeclaims", ns, claim, &pvc_obj, err);
    if (r == -ENOENT) return cn_err_set(err, 404, "NotFound", "persistentvolumeclaim \"%s\" not found", claim);
    if (r < 0) return r;
    const char *phase = cn_ps_str(json_object_get(pvc_obj, "status"), "phase");
    const char *pv_name = cn_ps_str(json_object_get(pvc_obj, "spec"), "volumeName");
    if (!phase || strcmp(phase, "Bound") || !pv_name) {
        r = cn_err_set(err, 409, "Conflict", "error processing PVC %s/%s: PVC is not bound", ns, claim);
        goto done;
    }
    r = env->fetch(env->ud, "persistentvolumes", NULL, pv_name, &pv, err);
    if (r == -ENOENT) r = cn_err_set(err, 404, "NotFound", "persistentvolume \"%s\" not found", pv_name);
    if (r < 0) goto done;
    const json_t *spec = json_object_get(pv, "spec");
    const json_t *hp = json_object_get(spec, "hostPath"), *local = json_object_get(spec, "local");
    const char *path = cn_ps_str(hp ? hp : local, "path");
    if (!path || path[0] != '/') {
        r = cn_err_invalid(err, "persistentvolume \"%s\": only hostPath and local volumes are supported by this node", pv_name);
        goto done;
    }
    /* an administrator's PV: no allow list, but its type is checked */
    if ((r = host_path_type(path, hp ? cn_ps_str(hp, "type") : "Directory", err)) < 0) goto done;
    if ((r = ensure_symlink(dir, path)) < 0) r = cn_err_internal(err, "symlink %s: %s", dir, strerror(-r));
done:
    json_decref(pvc_obj);
    json_decref(pv);
    return r;
}

/* ---- tmpfs ---- */

static int ensure_tmpfs(const char *dir, int64_t size, const char *mode, cn_err *err)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) return cn_err_internal(err, "mkdir %s: %s", dir, strerror(errno));
    if (is_mountpoint(dir)) return 0;
    char opts[64];
    if (size > 0) snprintf(opts, sizeof opts, "mode=%s,size=%lld", mode, (long long)size);
    else snprintf(opts, sizeof opts, "mode=%s", mode);
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return cn_err_internal(err, "mount tmpfs on %s: %s", dir, strerror(errno));
    return 0;
}

/* ---- one volume ---- */

static int setup_one(const cn_podspec_env *env, const json_t *pod, const char *ns,
                     const json_t *vol, const char *dir, cn_err *err)
{
    const json_t *x;
    const json_t *fsg = json_object_get(json_object_get(json_object_get(pod, "spec"), "securityContext"), "fsGroup");
    int64_t gid = json_is_integer(fsg) && json_integer_value(fsg) >= 0 && json_integer_value(fsg) <= UINT32_MAX - 1
                  ? json_integer_value(fsg) : -1;
    payload p = { .gid = gid };
    int r;
    if ((x = json_object_get(vol, "emptyDir"))) {
        const char *medium = cn_ps_str(x, "medium");
        if (medium && !strcmp(medium, "Memory")) {
            int64_t size = 0;
            const char *limit = cn_ps_str(x, "sizeLimit");
            if (limit && cn_quantity_value(limit, &size) < 0)
                return cn_err_invalid(err, "sizeLimit %s is malformed", limit);
            if ((r = ensure_tmpfs(dir, size, "0777", err)) < 0) return r;
        } else if (medium) {
            return cn_err_invalid(err, "emptyDir medium \"%s\" is not supported by this node", medium);
        } else if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
            return cn_err_internal(err, "mkdir %s: %s", dir, strerror(errno));
        }
        chmod(dir, 0777);     /* past the umask, as the kubelet */
        /* fsGroup: group-owned and setgid, so new files inherit the group */
        if (gid >= 0 && (lchown(dir, (uid_t)-1, (gid_t)gid) < 0 || chmod(dir, 02777) < 0))
            return cn_err_internal(err, "fsGroup ownership of %s: %s", dir, strerror(errno));
        return 0;
    }
    if ((x = json_object_get(vol, "hostPath"))) return host_path(env, x, dir, err);
    if ((x = json_object_get(vol, "persistentVolumeClaim"))) return pvc(env, ns, x, dir, err);
    bool secret = false;
    if ((x = json_object_get(vol, "configMap"))) r = add_data_source(env, ns, x, false, mode_of(x, "defaultMode", DEFAULT_MODE), &p, err);
    else if ((x = json_object_get(vol, "secret"))) {
        secret = true;
        r = add_data_source(env, ns, x, true, mode_of(x, "defaultMode", DEFAULT_MODE), &p, err);
    } else if ((x = json_object_get(vol, "downwardAPI")))
        r = add_downward(env, pod, json_object_get(x, "items"), mode_of(x, "defaultMode", DEFAULT_MODE), &p, err);
    else if ((x = json_object_get(vol, "projected"))) {
        secret = true;      /* may hold secrets and tokens */
        r = projected(env, pod, dir, x, &p, err);
    } else {
        const char *type = NULL, *k;
        json_t *v;
        json_object_foreach((json_t *)vol, k, v) if (strcmp(k, "name")) { type = k; break; }
        return cn_err_invalid(err, "volume type \"%s\" is not supported by this node", type ? type : "(none)");
    }
    if (r == 0) r = secret ? ensure_tmpfs(dir, 0, "0755", err)
                           : (mkdir(dir, 0755) < 0 && errno != EEXIST ? cn_err_internal(err, "mkdir %s: %s", dir, strerror(errno)) : 0);
    if (gid >= 0)
        for (size_t i = 0; i < p.n; i++) p.f[i].mode |= 0440;
    if (r == 0 && gid >= 0 && lchown(dir, (uid_t)-1, (gid_t)gid) < 0)
        r = cn_err_internal(err, "fsGroup ownership of %s: %s", dir, strerror(errno));
    if (r == 0) r = atomic_write(dir, &p, err);
    payload_release(&p);
    return r;
}

int cn_volumes_setup(const cn_podspec_env *env, const json_t *pod, const char *pod_dir, cn_err *err)
{
    const char *ns = cn_ps_str(json_object_get(pod, "metadata"), "namespace");
    char *vols = cn_asprintf("%s/volumes", pod_dir);
    int r = cn_mkdir_p(vols, 0750);
    size_t i;
    const json_t *vol;
    if (r < 0) {
        r = cn_err_internal(err, "mkdir %s: %s", vols, strerror(-r));
        goto done;
    }
    if (!ns) ns = "default";
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "volumes"), i, vol) {
        const char *name = cn_ps_str(vol, "name");
        if (!name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
            r = cn_err_invalid(err, "volume %zu has an invalid name", i);
            goto done;
        }
        char *dir = cn_asprintf("%s/%s", vols, name);
        r = setup_one(env, pod, ns, vol, dir, err);
        free(dir);
        if (r < 0) {
            cn_err_wrap(err, "MountVolume.SetUp failed for volume \"%s\" ", name);
            goto done;
        }
    }
done:
    free(vols);
    return r;
}

int cn_ps_volume_source(const char *pod_dir, const char *name, char **out, cn_err *err)
{
    char *dir = cn_asprintf("%s/volumes/%s", pod_dir, name);
    struct stat st;
    if (lstat(dir, &st) < 0) {
        free(dir);
        return cn_err_set(err, 404, "NotFound", "volume \"%s\" is not set up", name);
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(dir, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            free(dir);
            *out = cn_strdup(target);
            return 0;
        }
    }
    *out = dir;
    return 0;
}

int cn_volumes_teardown(const char *pod_dir, cn_err *err)
{
    char *vols = cn_asprintf("%s/volumes", pod_dir);
    DIR *d = opendir(vols);
    int r = 0;
    if (!d) {
        r = errno == ENOENT ? 0 : cn_err_internal(err, "open %s: %s", vols, strerror(errno));
        free(vols);
        return r;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *p = cn_asprintf("%s/%s", vols, de->d_name);
        if (is_mountpoint(p) && umount2(p, MNT_DETACH) < 0 && !r)
            r = cn_err_internal(err, "unmount %s: %s", p, strerror(errno));
        free(p);
    }
    closedir(d);
    int rr = rm_tree(vols);
    if (rr < 0 && !r) r = cn_err_internal(err, "remove %s: %s", vols, strerror(-rr));
    free(vols);
    return r;
}
