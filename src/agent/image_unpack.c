/* image_unpack: one image layer (a tar, gzip/zstd-compressed or not) into a
 * directory, with libarchive. Two readers are chained so the layer is read
 * once: the outer one only decompresses ("raw" format) and its output is
 * hashed to check the diff id, the inner one reads that stream as a tar.
 *
 * Entries are written below an absolute prefix (the store's dir, resolved
 * with realpath at open, so the prefix holds no symlink) instead of after a
 * chdir, which would move every thread of the agent. So libarchive's
 * NOABSOLUTEPATHS cannot be used; absolute names and ".." are refused here,
 * and SECURE_SYMLINKS refuses writing through a symlink the layer made.
 *
 * Whiteouts (the OCI layer spec) are turned into overlayfs's form after the
 * tar is written: ".wh.NAME" -> a 0:0 character device NAME, ".wh..wh..opq"
 * -> xattr trusted.overlay.opaque=y on its directory. */
#define _GNU_SOURCE 1   /* nftw, FTW_* */
#include "agent/image-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define READ_BLOCK (64u << 10)

typedef struct chain {
    struct archive *outer;
    EVP_MD_CTX *md;
    char buf[READ_BLOCK];
    int err;              /* negative errno from the outer reader */
} chain;

static la_ssize_t chain_read(struct archive *a, void *ud, const void **out)
{
    (void)a;
    chain *c = ud;
    la_ssize_t n = archive_read_data(c->outer, c->buf, sizeof c->buf);
    if (n < 0) {
        c->err = -EBADMSG;
        archive_set_error(a, EIO, "decompressing layer: %s", archive_error_string(c->outer));
        return -1;
    }
    EVP_DigestUpdate(c->md, c->buf, (size_t)n);
    *out = c->buf;
    return n;
}

/* Names as tar writes them: "./a/b", "a/b/", "a//b". Normalised in place
 * to "a/b"; "" for the root itself. -EBADMSG for absolute or ".." names. */
static int clean_name(char *s)
{
    if (s[0] == '/') return -EBADMSG;
    char *w = s;
    for (char *p = s; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') return -EBADMSG;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (w != s) *w++ = '/';
            memmove(w, p, n);
            w += n;
        }
        p += n;
        while (*p == '/') p++;
    }
    *w = '\0';
    return 0;
}

/* Walk rel below dest refusing (-ENOTDIR) any component that exists and
 * is not a real directory — a symlink the layer planted must not be
 * followed. create: mkdir the missing ones (mkdir -p), else skip them. */
static int walk_dirs(const char *dest, const char *rel, bool create)
{
    cn_buf p;
    cn_buf_init(&p);
    cn_buf_adds(&p, dest);
    int rc = 0;
    for (const char *s = rel; *s && rc == 0;) {
        size_t n = strcspn(s, "/");
        cn_buf_addc(&p, '/');
        cn_buf_add(&p, s, n);
        struct stat st;
        if (lstat(p.data, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) rc = -ENOTDIR;
        } else if (create && (errno != ENOENT || mkdir(p.data, 0755) < 0)) {
            rc = -errno;
        }
        s += n;
        while (*s == '/') s++;
    }
    cn_buf_release(&p);
    return rc;
}

typedef struct fixup {
    char *dir;       /* relative directory */
    char *name;      /* whiteout target, NULL for an opaque marker */
} fixup;

static int apply_fixups(const char *dest, fixup *f, size_t n, cn_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = walk_dirs(dest, f[i].dir, true);
        if (rc < 0) {
            cn_err_set(err, 502, "BadGateway", "layer whiteout below \"%s\": %s", f[i].dir, strerror(-rc));
            return rc == -ENOTDIR ? -EBADMSG : rc;
        }
        _cleanup_free_ char *path = f[i].name
            ? cn_asprintf("%s/%s%s%s", dest, f[i].dir, *f[i].dir ? "/" : "", f[i].name)
            : cn_asprintf("%s/%s", dest, f[i].dir);
        if (f[i].name) {
            /* A layer that both whites out and recreates NAME: the file wins. */
            struct stat st;
            if (lstat(path, &st) == 0) continue;
            if (mknod(path, S_IFCHR | 0000, makedev(0, 0)) < 0) {
                rc = -errno;
                cn_err_set(err, 500, "InternalError", "creating whiteout \"%s\": %s", path, strerror(errno));
                return rc;
            }
        } else if (lsetxattr(path, "trusted.overlay.opaque", "y", 1, 0) < 0) {
            rc = -errno;
            cn_err_set(err, 500, "InternalError", "marking \"%s\" opaque: %s", path, strerror(errno));
            return rc;
        }
    }
    return 0;
}

static int archive_rc(struct archive *a, const char *what, const char *name, cn_err *err)
{
    int e = archive_errno(a);
    if (e == ENOSPC || e == EDQUOT) {
        cn_err_set(err, 507, "InsufficientStorage", "unpacking layer: no space left on device");
        return -ENOSPC;
    }
    cn_err_set(err, 502, "BadGateway", "%s \"%s\": %s", what, name, archive_error_string(a));
    return -EBADMSG;
}

/* Metadata the filesystem cannot take (an xattr namespace, an owner when
 * not root) is a warning we accept; a full disk never is. */
static bool failed(struct archive *a, int r)
{
    if (r < ARCHIVE_WARN) return true;
    return r == ARCHIVE_WARN && (archive_errno(a) == ENOSPC || archive_errno(a) == EDQUOT);
}

int cn_image_unpack(const char *blob_path, const char *dest, const char *diff_id, uint64_t *bytes, cn_err *err)
{
    int rc = 0;
    uint64_t total = 0;
    fixup *fix = NULL;
    size_t nfix = 0;
    struct archive *in = NULL, *out = NULL;
    chain *c = cn_calloc(1, sizeof *c);
    c->md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
    if (mkdir(dest, 0755) < 0) {
        rc = -errno;
        cn_err_set(err, 500, "InternalError", "creating \"%s\": %s", dest, strerror(errno));
        goto out;
    }
    c->outer = archive_read_new();
    archive_read_support_filter_all(c->outer);
    archive_read_support_format_raw(c->outer);
    struct archive_entry *ent;
    if (archive_read_open_filename(c->outer, blob_path, READ_BLOCK) != ARCHIVE_OK ||
        archive_read_next_header(c->outer, &ent) != ARCHIVE_OK) {
        rc = archive_rc(c->outer, "reading layer", blob_path, err);
        goto out;
    }
    in = archive_read_new();
    archive_read_support_format_tar(in);
    if (archive_read_open(in, c, NULL, chain_read, NULL) != ARCHIVE_OK) {
        rc = archive_rc(in, "reading layer", blob_path, err);
        goto out;
    }
    out = archive_write_disk_new();
    /* Numeric owners as stored (no name lookup: the names are the image's,
     * not this host's); modes, xattrs, ACLs and times kept. */
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                                            ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    for (;;) {
        int r = archive_read_next_header(in, &ent);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            rc = c->err ? c->err : archive_rc(in, "reading layer", blob_path, err);
            if (c->err) cn_err_set(err, 502, "BadGateway", "%s", archive_error_string(in));
            goto out;
        }
        /* A copy: set_pathname below frees the entry's own string. */
        _cleanup_free_ char *orig = cn_strdup(archive_entry_pathname(ent) ?: "");
        _cleanup_free_ char *name = cn_strdup(orig);
        if (clean_name(name) < 0) {
            cn_err_set(err, 502, "BadGateway", "refusing layer entry \"%s\": path escapes the layer", orig);
            rc = -EBADMSG;
            goto out;
        }
        if (!*name) continue;                 /* "./" itself: dest already exists */
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
            const char *target = base + strlen(WH_PREFIX);
            bool opaque = !strcmp(base, WH_OPAQUE);
            if (!opaque && (!*target || !strcmp(target, ".") || !strcmp(target, ".."))) {
                cn_err_set(err, 502, "BadGateway", "refusing layer entry \"%s\": bad whiteout", orig);
                rc = -EBADMSG;
                goto out;
            }
            fix = cn_realloc(fix, (nfix + 1) * sizeof *fix);
            fix[nfix].dir = cn_strndup(name, base == name ? 0 : (size_t)(base - name - 1));
            fix[nfix].name = opaque ? NULL : cn_strdup(target);
            nfix++;
            continue;
        }
        const char *hl = archive_entry_hardlink(ent);
        if (hl) {
            _cleanup_free_ char *t = cn_strdup(hl);
            if (clean_name(t) < 0 || !*t) {
                cn_err_set(err, 502, "BadGateway", "refusing layer entry \"%s\": hard link escapes the layer", orig);
                rc = -EBADMSG;
                goto out;
            }
            /* link(2) follows symlinks in the target's parents: refuse those. */
            char *slash = strrchr(t, '/');
            if (slash) {
                *slash = '\0';
                int pc = walk_dirs(dest, t, false);
                *slash = '/';
                if (pc < 0) {
                    cn_err_set(err, 502, "BadGateway", "refusing layer entry \"%s\": hard link through a symlink", orig);
                    rc = -EBADMSG;
                    goto out;
                }
            }
            _cleanup_free_ char *abs = cn_asprintf("%s/%s", dest, t);
            archive_entry_set_hardlink(ent, abs);
        }
        _cleanup_free_ char *abs = cn_asprintf("%s/%s", dest, name);
        archive_entry_set_pathname(ent, abs);
        if (failed(out, archive_write_header(out, ent))) {
            rc = archive_rc(out, "refusing layer entry", orig, err);
            goto out;
        }
        if (archive_entry_filetype(ent) == AE_IFREG && !hl) {
            const void *blk;
            size_t len;
            la_int64_t off;
            while ((r = archive_read_data_block(in, &blk, &len, &off)) == ARCHIVE_OK) {
                /* Not "< ARCHIVE_WARN": a failed write(2) (ENOSPC...) is only
                 * a warning to libarchive. */
                if (archive_write_data_block(out, blk, len, off) != ARCHIVE_OK) {
                    rc = archive_rc(out, "writing layer entry", orig, err);
                    goto out;
                }
                total += len;
            }
            if (r != ARCHIVE_EOF) {
                rc = c->err ? c->err : archive_rc(in, "reading layer entry", orig, err);
                if (c->err) cn_err_set(err, 502, "BadGateway", "%s", archive_error_string(in));
                goto out;
            }
        }
        if (failed(out, archive_write_finish_entry(out))) {
            rc = archive_rc(out, "writing layer entry", orig, err);
            goto out;
        }
    }
    /* The tar's end-of-archive blocks and padding are part of the diff id. */
    for (la_ssize_t n; (n = archive_read_data(c->outer, c->buf, sizeof c->buf)) > 0;)
        EVP_DigestUpdate(c->md, c->buf, (size_t)n);
    if (failed(out, archive_write_close(out))) {
        rc = archive_rc(out, "finishing layer", dest, err);
        goto out;
    }
    if ((rc = apply_fixups(dest, fix, nfix, err)) < 0) goto out;
    if (diff_id) {
        unsigned char md[32];
        unsigned int mdlen = 0;
        char got[72];
        EVP_DigestFinal_ex(c->md, md, &mdlen);
        cn_image_hexdigest(md, got);
        if (strcmp(got, diff_id) != 0) {
            cn_err_set(err, 502, "BadGateway", "layer diff id mismatch: expected %s, got %s", diff_id, got);
            rc = -EBADMSG;
            goto out;
        }
    }
    if (bytes) *bytes = total;
out:
    for (size_t i = 0; i < nfix; i++) {
        free(fix[i].dir);
        free(fix[i].name);
    }
    free(fix);
    if (out) archive_write_free(out);
    if (in) archive_read_free(in);
    if (c->outer) archive_read_free(c->outer);
    EVP_MD_CTX_free(c->md);
    free(c);
    return rc;
}

/* nftw has no user pointer; the sum is per thread. */
static _Thread_local uint64_t tree_sum;

static int sum_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag != FTW_NS) tree_sum += (uint64_t)st->st_blocks * 512;
    return 0;
}

uint64_t cn_image_tree_bytes(const char *path)
{
    tree_sum = 0;
    nftw(path, sum_one, 32, FTW_PHYS | FTW_MOUNT);
    return tree_sum;
}
