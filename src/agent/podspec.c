/* podspec: one container of a Pod turned into a cn_ctr_spec, by the rules
 * the kubelet and containerd's CRI plugin apply between them: argv from
 * command/args over the image's entrypoint/cmd, env (image env overridden
 * by the kubelet's, see env.c), user and groups, security settings,
 * cgroup limits from resources, and the mounts (volumeMounts with subPath,
 * /etc/hosts, /etc/hostname, /etc/resolv.conf, the termination log). */
#include "agent/podspec-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/quantity.h"
#include "lib/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CLUSTER_DOMAIN "cluster.local"
#define CPU_PERIOD_US 100000
#define MIN_SHARES 2
#define MAX_SHARES 262144
#define MIN_QUOTA_US 1000
#define MAX_ID_FILE (1u << 20)

/* ---- owned storage of cn_podspec_ctr ---- */

static const char *own(cn_podspec_ctr *c, char *s)
{
    c->strs = cn_realloc(c->strs, (c->nstrs + 1) * sizeof *c->strs);
    c->strs[c->nstrs++] = s;
    return s;
}

static void push(char ***arr, size_t *n, char *s)
{
    *arr = cn_realloc(*arr, (*n + 2) * sizeof **arr);
    (*arr)[(*n)++] = s;
    (*arr)[*n] = NULL;
}

void cn_podspec_ctr_release(cn_podspec_ctr *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nargs; i++) free(c->args[i]);
    for (size_t i = 0; i < c->nenv; i++) free(c->env[i]);
    for (size_t i = 0; i < c->spec.ncap_add; i++) free(c->cap_add[i]);
    for (size_t i = 0; i < c->spec.ncap_drop; i++) free(c->cap_drop[i]);
    for (size_t i = 0; i < c->nstrs; i++) free(c->strs[i]);
    free(c->args);
    free(c->env);
    free(c->cwd);
    free(c->groups);
    free(c->cap_add);
    free(c->cap_drop);
    free(c->mounts);
    free(c->strs);
    memset(c, 0, sizeof *c);
}

/* ---- small file helpers ---- */

static int write_file_if_changed(const char *path, const char *content, mode_t mode)
{
    size_t len = strlen(content);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        char *buf = cn_malloc(len + 1);
        ssize_t n = read(fd, buf, len + 1);
        close(fd);
        bool same = n == (ssize_t)len && !memcmp(buf, content, len);
        free(buf);
        /* rewriting in place would be seen half-written; a rename leaves
         * running containers with the old inode: only write on change */
        if (same) return 0;
    }
    char *tmp = cn_asprintf("%s.tmp", path);
    int r = 0;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) r = -errno;
    else {
        if (write(fd, content, len) != (ssize_t)len) r = -EIO;
        if (fchmod(fd, mode) < 0 && !r) r = -errno;
        if (close(fd) < 0 && !r) r = -errno;
        if (!r && rename(tmp, path) < 0) r = -errno;
        if (r) unlink(tmp);
    }
    free(tmp);
    return r;
}

/* ---- user and groups ---- */

/* The image's /etc/<file>, from the top-most layer that has it; a whiteout
 * hides it. Never follows a symlink out of the layer. malloc'd or NULL. */
static char *layer_file(const cn_image *img, const char *file)
{
    for (size_t i = img ? img->nlayers : 0; i-- > 0;) {
        char *etc = cn_asprintf("%s/etc", img->layers[i]);
        struct stat st;
        char *wh = cn_asprintf("%s/.wh.%s", etc, file);
        bool hidden = lstat(wh, &st) == 0;
        free(wh);
        if (hidden) {
            free(etc);
            return NULL;
        }
        int dfd = -1;
        if (lstat(etc, &st) == 0 && S_ISDIR(st.st_mode))
            dfd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        free(etc);
        if (dfd < 0) continue;
        int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        close(dfd);
        if (fd >= 0) return cn_ps_read_fd(fd, MAX_ID_FILE, NULL);
    }
    return NULL;
}

static bool parse_id(const char *s, uint32_t *out)
{
    int64_t v;
    if (!s || !*s || cn_parse_int64(s, &v) < 0 || v < 0 || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

/* Field f (0-based) of the first line of an /etc/passwd- or group-style
 * file whose field `match_field` equals match. malloc'd or NULL. */
static char *id_lookup(const char *content, size_t match_field, const char *match, size_t f)
{
    if (!content) return NULL;
    for (const char *line = content; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = cn_strndup(line, len);
        char *fields[8] = { 0 };
        size_t nf = 0;
        for (char *p = l; nf < 8;) {
            fields[nf++] = p;
            char *colon = strchr(p, ':');
            if (!colon) break;
            *colon = '\0';
            p = colon + 1;
        }
        char *res = NULL;
        if (l[0] != '#' && match_field < nf && f < nf && !strcmp(fields[match_field], match))
            res = cn_strdup(fields[f]);
        free(l);
        if (res) return res;
        line = end ? end + 1 : line + len;
    }
    return NULL;
}

static void add_group(uint32_t **groups, size_t *n, uint32_t g)
{
    for (size_t i = 0; i < *n; i++)
        if ((*groups)[i] == g) return;
    *groups = cn_realloc(*groups, (*n + 1) * sizeof **groups);
    (*groups)[(*n)++] = g;
}

/* Every group of the user name lists (group file's 4th field). */
static void member_groups(const char *group, const char *user, uint32_t **groups, size_t *n)
{
    if (!group || !user) return;
    for (const char *line = group; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *l = cn_strndup(line, len);
        char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
        if (c3) {
            *c3 = '\0';
            uint32_t gid;
            for (char *m = c3 + 1; m && *m;) {
                char *comma = strchr(m, ',');
                if (comma) *comma = '\0';
                if (!strcmp(m, user) && parse_id(c2 + 1, &gid)) add_group(groups, n, gid);
                m = comma ? comma + 1 : NULL;
            }
        }
        free(l);
        line = end ? end + 1 : line + len;
    }
}

static const json_t *sc_field(const json_t *pod, const json_t *ctr, const char *key)
{
    const json_t *v = json_object_get(json_object_get(ctr, "securityContext"), key);
    if (v && !json_is_null(v)) return v;
    v = json_object_get(json_object_get(json_object_get(pod, "spec"), "securityContext"), key);
    return v && !json_is_null(v) ? v : NULL;
}

static bool json_id(const json_t *v, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX) return false;
    *out = (uint32_t)json_integer_value(v);
    return true;
}

static char *pod_label(const json_t *pod)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const char *uid = cn_ps_str(meta, "uid");
    return cn_asprintf("%s_%s(%s)", cn_ps_str(meta, "name") ? cn_ps_str(meta, "name") : "",
                       cn_ps_str(meta, "namespace") ? cn_ps_str(meta, "namespace") : "", uid ? uid : "");
}

static int resolve_user(const json_t *pod, const json_t *ctr, const cn_image *img,
                        cn_podspec_ctr *out, cn_err *err)
{
    const char *cname = cn_ps_str(ctr, "name");
    const json_t *run_as_user = sc_field(pod, ctr, "runAsUser");
    const json_t *run_as_group = sc_field(pod, ctr, "runAsGroup");
    const json_t *non_root = sc_field(pod, ctr, "runAsNonRoot");
    const char *iuser = img && img->user ? img->user : "";
    _cleanup_free_ char *passwd = layer_file(img, "passwd");
    _cleanup_free_ char *group = layer_file(img, "group");
    _cleanup_free_ char *uname = NULL, *gname = NULL, *label = pod_label(pod);
    _cleanup_free_ char *gid_s = NULL, *uid_s = NULL;
    uint32_t uid = 0, gid = 0;

    if (run_as_user && !json_id(run_as_user, &uid))
        return cn_err_invalid(err, "runAsUser of container %s is not a valid id", cname);
    if (!run_as_user && *iuser) {
        const char *colon = strchr(iuser, ':');
        uname = colon ? cn_strndup(iuser, (size_t)(colon - iuser)) : cn_strdup(iuser);
        gname = colon ? cn_strdup(colon + 1) : NULL;
    }
    if (json_is_true(non_root)) {
        if (run_as_user) {
            if (uid == 0)
                return cn_err_invalid(err, "container's runAsUser breaks non-root policy (pod: \"%s\", container: %s)",
                                      label, cname);
        } else if (!uname || (parse_id(uname, &uid) && uid == 0)) {
            return cn_err_invalid(err, "container has runAsNonRoot and image will run as root (pod: \"%s\", container: %s)",
                                  label, cname);
        } else if (!parse_id(uname, &uid)) {
            return cn_err_invalid(err, "container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: \"%s\", container: %s)",
                                  uname, label, cname);
        }
    }
    /* uid, and the primary gid from the image's passwd when it knows the user */
    if (uname && !parse_id(uname, &uid)) {
        uid_s = id_lookup(passwd, 0, uname, 2);
        if (!uid_s || !parse_id(uid_s, &uid))
            return cn_err_invalid(err, "unable to find user %s: no matching entries in passwd file", uname);
    }
    char idbuf[16];
    snprintf(idbuf, sizeof idbuf, "%u", uid);
    free(uid_s);
    uid_s = id_lookup(passwd, 2, idbuf, 0);      /* the user's name, for its groups */
    gid_s = id_lookup(passwd, 2, idbuf, 3);
    if (gid_s && !parse_id(gid_s, &gid)) gid = 0;
    if (gname && !parse_id(gname, &gid)) {
        free(gid_s);
        gid_s = id_lookup(group, 0, gname, 2);
        if (!gid_s || !parse_id(gid_s, &gid))
            return cn_err_invalid(err, "unable to find group %s: no matching entries in group file", gname);
    }
    if (run_as_group && !json_id(run_as_group, &gid))
        return cn_err_invalid(err, "runAsGroup of container %s is not a valid id", cname);
    out->spec.uid = uid;
    out->spec.gid = gid;
    size_t n = 0;
    add_group(&out->groups, &n, gid);
    member_groups(group, uid_s, &out->groups, &n);
    const json_t *psc = json_object_get(json_object_get(pod, "spec"), "securityContext");
    uint32_t g;
    if (json_id(json_object_get(psc, "fsGroup"), &g)) add_group(&out->groups, &n, g);
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(psc, "supplementalGroups"), i, v) {
        if (json_id(v, &g)) add_group(&out->groups, &n, g);
    }
    out->spec.groups = out->groups;
    out->spec.ngroups = n;
    return 0;
}

/* ---- security and resources ---- */

static void security(const json_t *pod, const json_t *ctr, cn_podspec_ctr *out)
{
    const json_t *sc = json_object_get(ctr, "securityContext");
    const json_t *caps = json_object_get(sc, "capabilities");
    size_t i;
    const json_t *v;
    out->spec.privileged = cn_ps_bool(sc, "privileged");
    out->spec.readonly_rootfs = cn_ps_bool(sc, "readOnlyRootFilesystem");
    const json_t *ape = json_object_get(sc, "allowPrivilegeEscalation");
    out->spec.no_new_privs = !out->spec.privileged && json_is_false(ape);
    json_array_foreach(json_object_get(caps, "add"), i, v) {
        if (json_string_value(v)) push(&out->cap_add, &out->spec.ncap_add, cn_strdup(json_string_value(v)));
    }
    json_array_foreach(json_object_get(caps, "drop"), i, v) {
        if (json_string_value(v)) push(&out->cap_drop, &out->spec.ncap_drop, cn_strdup(json_string_value(v)));
    }
    out->spec.cap_add = (const char *const *)out->cap_add;
    out->spec.cap_drop = (const char *const *)out->cap_drop;
    (void)pod;
}

static int resources(const json_t *ctr, cn_podspec_ctr *out, cn_err *err)
{
    const json_t *res = json_object_get(ctr, "resources");
    const json_t *lim = json_object_get(res, "limits"), *req = json_object_get(res, "requests");
    const char *cpu_req = cn_ps_str(req, "cpu"), *cpu_lim = cn_ps_str(lim, "cpu");
    const char *mem_lim = cn_ps_str(lim, "memory");
    int64_t milli = 0, v;
    if (!cpu_req) cpu_req = cpu_lim;     /* the API defaults requests to limits */
    if (cpu_req && cn_quantity_milli(cpu_req, &milli) < 0)
        return cn_err_invalid(err, "resources.requests.cpu %s is malformed", cpu_req);
    if (milli > (int64_t)MAX_SHARES * 1000 / 1024 + 1) milli = (int64_t)MAX_SHARES * 1000 / 1024 + 1;   /* no overflow */
    int64_t shares = milli * 1024 / 1000;
    if (shares < MIN_SHARES) shares = MIN_SHARES;
    if (shares > MAX_SHARES) shares = MAX_SHARES;
    out->spec.cpu_shares = (uint64_t)shares;
    out->spec.cpu_period_us = CPU_PERIOD_US;
    if (cpu_lim) {
        if (cn_quantity_milli(cpu_lim, &v) < 0)
            return cn_err_invalid(err, "resources.limits.cpu %s is malformed", cpu_lim);
        if (v > 0) {
            if (v > INT64_MAX / CPU_PERIOD_US) v = INT64_MAX / CPU_PERIOD_US;   /* no overflow */
            int64_t quota = v * CPU_PERIOD_US / 1000;
            out->spec.cpu_quota_us = quota < MIN_QUOTA_US ? MIN_QUOTA_US : quota;
        }
    }
    if (mem_lim) {
        if (cn_quantity_value(mem_lim, &v) < 0 || v < 0)
            return cn_err_invalid(err, "resources.limits.memory %s is malformed", mem_lim);
        out->spec.memory_limit = v;
    }
    return 0;
}

/* ---- argv and env ---- */

static int argv_env(const cn_podspec_env *env, const json_t *pod, const json_t *ctr,
                    const cn_image *img, const char *pod_ip, const char *hostname,
                    cn_podspec_ctr *out, cn_ps_env *kube, cn_err *err)
{
    cn_ps_env all = { 0 };
    int r = cn_ps_kube_env(env, pod, ctr, pod_ip, kube, err);
    if (r < 0) return r;
    /* containerd: default PATH, HOSTNAME, the image's env, then the kubelet's */
    cn_ps_env_set(&all, "PATH", DEFAULT_PATH);
    cn_ps_env_set(&all, "HOSTNAME", hostname);
    for (size_t i = 0; img && i < img->nenv; i++) {
        const char *eq = strchr(img->env[i], '=');
        if (!eq || eq == img->env[i]) continue;
        char *name = cn_strndup(img->env[i], (size_t)(eq - img->env[i]));
        cn_ps_env_set(&all, name, eq + 1);
        free(name);
    }
    for (size_t i = 0; i < kube->n; i++) cn_ps_env_set(&all, kube->names[i], kube->values[i]);
    for (size_t i = 0; i < all.n; i++)
        push(&out->env, &out->nenv, cn_asprintf("%s=%s", all.names[i], all.values[i]));
    cn_ps_env_release(&all);

    /* command replaces the entrypoint and drops the image's cmd; args alone replace cmd */
    const json_t *command = json_object_get(ctr, "command"), *args = json_object_get(ctr, "args");
    bool has_cmd = json_array_size(command) > 0, has_args = json_array_size(args) > 0;
    size_t i;
    const json_t *v;
    if (has_cmd) {
        json_array_foreach(command, i, v) push(&out->args, &out->nargs, cn_ps_expand(json_string_value(v) ? json_string_value(v) : "", kube, NULL));
    } else {
        for (size_t k = 0; img && k < img->nentrypoint; k++) push(&out->args, &out->nargs, cn_strdup(img->entrypoint[k]));
    }
    if (has_args) {
        json_array_foreach(args, i, v) push(&out->args, &out->nargs, cn_ps_expand(json_string_value(v) ? json_string_value(v) : "", kube, NULL));
    } else if (!has_cmd) {
        for (size_t k = 0; img && k < img->ncmd; k++) push(&out->args, &out->nargs, cn_strdup(img->cmd[k]));
    }
    if (!out->nargs)
        return cn_err_invalid(err, "failed to generate container spec: no command specified");
    out->spec.args = (const char *const *)out->args;
    out->spec.nargs = out->nargs;
    out->spec.env = (const char *const *)out->env;
    out->spec.nenv = out->nenv;
    return 0;
}

/* ---- mounts ---- */

static void add_mount(cn_podspec_ctr *c, const char *source, const char *dest, bool ro)
{
    c->mounts = cn_realloc(c->mounts, (c->nmounts + 1) * sizeof *c->mounts);
    c->mounts[c->nmounts++] = (cn_mount){
        .kind = CN_MOUNT_BIND, .source = own(c, cn_strdup(source)),
        .destination = own(c, cn_strdup(dest)), .readonly = ro,
    };
}

static bool has_dest(const cn_podspec_ctr *c, const char *dest)
{
    for (size_t i = 0; i < c->nmounts; i++)
        if (!strcmp(c->mounts[i].destination, dest)) return true;
    return false;
}

static bool has_dotdot(const char *p)
{
    for (const char *s = p; (s = strstr(s, "..")); s += 2) {
        bool start = s == p || s[-1] == '/';
        bool end = s[2] == '\0' || s[2] == '/';
        if (start && end) return true;
    }
    return false;
}

static bool inside(const char *path, const char *root)
{
    size_t n = strlen(root);
    return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/'));
}

/* root/sub with every component resolved and kept inside root (missing
 * directories created 0755, as the kubelet's safe mkdir). */
static int subpath_resolve(const char *root, const char *sub, char **out, cn_err *err)
{
    char real_root[PATH_MAX], cur[PATH_MAX], next[PATH_MAX];
    if (!realpath(root, real_root)) return cn_err_internal(err, "volume path %s: %s", root, strerror(errno));
    snprintf(cur, sizeof cur, "%s", real_root);
    char *copy = cn_strdup(sub), *save = copy;
    int r = 0;
    for (char *comp = copy; comp && *comp;) {
        char *slash = strchr(comp, '/');
        if (slash) *slash = '\0';
        if (*comp && strcmp(comp, ".")) {
            char joined[PATH_MAX];
            if ((size_t)snprintf(joined, sizeof joined, "%s/%s", cur, comp) >= sizeof joined) {
                r = cn_err_invalid(err, "subpath %s is too long", sub);
                break;
            }
            struct stat st;
            if (lstat(joined, &st) < 0 && errno == ENOENT && mkdir(joined, 0755) < 0 && errno != EEXIST) {
                r = cn_err_internal(err, "mkdir %s: %s", joined, strerror(errno));
                break;
            }
            if (!realpath(joined, next) || !inside(next, real_root)) {
                r = cn_err_invalid(err, "subpath \"%s\" not within volume path \"%s\"", joined, real_root);
                break;
            }
            snprintf(cur, sizeof cur, "%s", next);
        }
        comp = slash ? slash + 1 : NULL;
    }
    free(save);
    if (r == 0) *out = cn_strdup(cur);
    return r;
}

/* Volumes whose content the kubelet always mounts read-only. */
static bool api_data_volume(const json_t *vol)
{
    return json_object_get(vol, "configMap") || json_object_get(vol, "secret") ||
           json_object_get(vol, "downwardAPI") || json_object_get(vol, "projected");
}

static const json_t *pod_volume(const json_t *pod, const char *name)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "volumes"), i, v) {
        const char *n = cn_ps_str(v, "name");
        if (n && !strcmp(n, name)) return v;
    }
    return NULL;
}

static int volume_mounts(const json_t *pod, const json_t *ctr, const char *pod_dir,
                         const cn_ps_env *kube, cn_podspec_ctr *out, cn_err *err)
{
    const char *cname = cn_ps_str(ctr, "name");
    size_t i;
    const json_t *vm;
    json_array_foreach(json_object_get(ctr, "volumeMounts"), i, vm) {
        const char *name = cn_ps_str(vm, "name"), *dest = cn_ps_str(vm, "mountPath");
        const char *subpath = cn_ps_str(vm, "subPath"), *expr = cn_ps_str(vm, "subPathExpr");
        _cleanup_free_ char *src = NULL, *sub = NULL, *resolved = NULL;
        const json_t *vol = name ? pod_volume(pod, name) : NULL;
        if (!vol)
            return cn_err_invalid(err, "cannot find volume \"%s\" to mount into container \"%s\"", name ? name : "", cname);
        if (!dest || dest[0] != '/')
            return cn_err_invalid(err, "volumeMount \"%s\" of container \"%s\": mountPath must be absolute", name, cname);
        int r = cn_ps_volume_source(pod_dir, name, &src, err);
        if (r < 0) return r;
        if (expr) {
            _cleanup_free_ char *missing = NULL;
            sub = cn_ps_expand(expr, kube, &missing);
            if (missing)
                return cn_err_invalid(err, "missing value for %s", missing);
        } else if (subpath) {
            sub = cn_strdup(subpath);
        }
        if (sub && *sub) {
            if (sub[0] == '/')
                return cn_err_invalid(err, "error SubPath `%s` must not be an absolute path", sub);
            if (has_dotdot(sub))
                return cn_err_invalid(err, "error SubPath `%s` must not contain '..'", sub);
            r = subpath_resolve(src, sub, &resolved, err);
            if (r < 0) {
                cn_err_wrap(err, "failed to prepare subPath for volumeMount \"%s\" of container \"%s\"", name, cname);
                return r;
            }
        }
        bool ro = cn_ps_bool(vm, "readOnly") || api_data_volume(vol) ||
                  cn_ps_bool(json_object_get(vol, "persistentVolumeClaim"), "readOnly");
        add_mount(out, resolved ? resolved : src, dest, ro);
    }
    return 0;
}

/* The pod's hostname (spec.hostname or the name cut to 63) and FQDN. */
static void pod_hostname(const json_t *pod, char **hostname, char **fqdn)
{
    const json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
    const char *h = cn_ps_str(spec, "hostname");
    char *name = cn_strdup(h ? h : cn_ps_str(meta, "name") ? cn_ps_str(meta, "name") : "localhost");
    if (strlen(name) > 63) {
        name[63] = '\0';
        for (size_t n = 63; n > 0 && (name[n - 1] == '-' || name[n - 1] == '.'); n--) name[n - 1] = '\0';
    }
    const char *sub = cn_ps_str(spec, "subdomain"), *ns = cn_ps_str(meta, "namespace");
    *fqdn = sub ? cn_asprintf("%s.%s.%s.svc.%s", name, sub, ns ? ns : "default", CLUSTER_DOMAIN) : NULL;
    *hostname = name;
}

char *cn_podspec_hosts_file(const json_t *pod, const char *pod_ip)
{
    _cleanup_free_ char *hostname = NULL, *fqdn = NULL;
    pod_hostname(pod, &hostname, &fqdn);
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "# Kubernetes-managed hosts file.\n"
                    "127.0.0.1\tlocalhost\n"
                    "::1\tlocalhost ip6-localhost ip6-loopback\n"
                    "fe00::0\tip6-localnet\n"
                    "fe00::0\tip6-mcastprefix\n"
                    "fe00::1\tip6-allnodes\n"
                    "fe00::2\tip6-allrouters\n");
    if (pod_ip && *pod_ip) {
        if (fqdn) cn_buf_addf(&b, "%s\t%s\t%s\n", pod_ip, fqdn, hostname);
        else cn_buf_addf(&b, "%s\t%s\n", pod_ip, hostname);
    }
    const json_t *aliases = json_object_get(json_object_get(pod, "spec"), "hostAliases");
    if (json_array_size(aliases)) {
        cn_buf_adds(&b, "\n# Entries added by HostAliases.\n");
        size_t i, j;
        const json_t *a, *h;
        json_array_foreach(aliases, i, a) {
            const char *ip = cn_ps_str(a, "ip");
            if (!ip) continue;
            cn_buf_adds(&b, ip);
            json_array_foreach(json_object_get(a, "hostnames"), j, h) {
                if (json_string_value(h)) cn_buf_addf(&b, "\t%s", json_string_value(h));
            }
            cn_buf_addc(&b, '\n');
        }
    }
    return cn_buf_detach(&b, NULL);
}

static char *read_small(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? NULL : cn_ps_read_fd(fd, MAX_ID_FILE, NULL);
}

/* /etc/hosts, /etc/hostname, /etc/resolv.conf and the termination log,
 * unless a volumeMount already covers the path. */
static int pod_files(const cn_podspec_env *env, const json_t *pod, const json_t *ctr, const char *pod_dir, const char *pod_ip,
                     const char *hostname, cn_podspec_ctr *out, cn_err *err)
{
    const char *cname = cn_ps_str(ctr, "name");
    bool host_net = cn_ps_bool(json_object_get(pod, "spec"), "hostNetwork");
    _cleanup_free_ char *hosts = host_net ? read_small("/etc/hosts") : cn_podspec_hosts_file(pod, pod_ip);
    _cleanup_free_ char *node_resolv = read_small("/etc/resolv.conf");
    if (node_resolv && strstr(node_resolv, "nameserver 127.0.0.53")) {
        /* systemd-resolved's stub is the node's loopback, unreachable from a
         * pod: use the upstream servers it lists, as kubelets are told to */
        char *real = read_small("/run/systemd/resolve/resolv.conf");
        if (real) {
            free(node_resolv);
            node_resolv = real;
        }
    }
    _cleanup_free_ char *resolv = cn_podspec_resolv_conf(env, pod, node_resolv);
    _cleanup_free_ char *hn = cn_asprintf("%s\n", hostname);
    _cleanup_free_ char *p_hosts = cn_asprintf("%s/etc-hosts", pod_dir);
    _cleanup_free_ char *p_hostname = cn_asprintf("%s/etc-hostname", pod_dir);
    _cleanup_free_ char *p_resolv = cn_asprintf("%s/resolv.conf", pod_dir);
    _cleanup_free_ char *tdir = cn_asprintf("%s/containers/%s", pod_dir, cname);
    _cleanup_free_ char *tlog = cn_asprintf("%s/termination-log", tdir);
    const char *tpath = cn_ps_str(ctr, "terminationMessagePath");
    int r;
    if ((r = cn_mkdir_p(pod_dir, 0750)) < 0 ||
        (r = write_file_if_changed(p_hosts, hosts ? hosts : "", 0644)) < 0 ||
        (r = write_file_if_changed(p_hostname, hn, 0644)) < 0 ||
        (r = write_file_if_changed(p_resolv, resolv, 0644)) < 0 ||
        (r = cn_mkdir_p(tdir, 0750)) < 0)
        return cn_err_internal(err, "writing the files of pod directory %s: %s", pod_dir, strerror(-r));
    int fd = open(tlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) return cn_err_internal(err, "create %s: %s", tlog, strerror(errno));
    fchmod(fd, 0666);     /* any container user may write its message */
    close(fd);
    if (!has_dest(out, "/etc/hosts")) add_mount(out, p_hosts, "/etc/hosts", false);
    if (!has_dest(out, "/etc/hostname")) add_mount(out, p_hostname, "/etc/hostname", false);
    if (!has_dest(out, "/etc/resolv.conf")) add_mount(out, p_resolv, "/etc/resolv.conf", false);
    if (!tpath) tpath = "/dev/termination-log";
    if (!has_dest(out, tpath)) add_mount(out, tlog, tpath, false);
    return 0;
}

int cn_podspec_container(const cn_podspec_env *env, const json_t *pod, const json_t *ctr,
                         const cn_image *img, const char *pod_dir, const char *pod_ip,
                         cn_podspec_ctr *out, cn_err *err)
{
    cn_podspec_ctr c = { 0 };
    cn_ps_env kube = { 0 };
    _cleanup_free_ char *hostname = NULL, *fqdn = NULL;
    int r;
    if (!cn_ps_str(ctr, "name")) return cn_err_invalid(err, "container without a name");
    pod_hostname(pod, &hostname, &fqdn);
    if ((r = argv_env(env, pod, ctr, img, pod_ip, hostname, &c, &kube, err)) < 0) goto fail;
    const char *wd = cn_ps_str(ctr, "workingDir");
    if (!wd && img && img->workdir && *img->workdir) wd = img->workdir;
    c.cwd = cn_strdup(wd ? wd : "/");
    c.spec.cwd = c.cwd;
    if ((r = resolve_user(pod, ctr, img, &c, err)) < 0) goto fail;
    security(pod, ctr, &c);
    if ((r = resources(ctr, &c, err)) < 0) goto fail;
    if ((r = volume_mounts(pod, ctr, pod_dir, &kube, &c, err)) < 0) goto fail;
    if ((r = pod_files(env, pod, ctr, pod_dir, pod_ip, hostname, &c, err)) < 0) goto fail;
    c.spec.mounts = c.mounts;
    c.spec.nmounts = c.nmounts;
    if (img) {
        c.spec.layers = (const char *const *)img->layers;
        c.spec.nlayers = img->nlayers;
    }
    cn_ps_env_release(&kube);
    *out = c;
    return 0;
fail:
    cn_ps_env_release(&kube);
    cn_podspec_ctr_release(&c);
    return r;
}
