/* test_image: the image store's parsers and unpacker (src/agent/image*.c):
 * reference normalisation, dockerconfigjson credential matching, manifest/
 * index/config parsing and platform choice, layer unpacking with overlay
 * whiteouts and hostile entries (tars built here with libarchive), diff id
 * and blob digest verification, the store end to end through cn_image_import
 * of an OCI archive built here (get, list, remove, gc), and pulls from a
 * fake registry (libmicrohttpd) that wants the Bearer token flow. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <archive.h>
#include <archive_entry.h>
#include <microhttpd.h>

#include "agent/image.h"
#include "agent/image-internal.h"
#include "lib/base64.h"
#include "test.h"

static char tmpdir[] = "/tmp/cairn-test-image.XXXXXX";

static void test_refs(void)
{
    static const struct { const char *in, *name, *domain, *repo; } ok[] = {
        { "busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox" },
        { "busybox:1.36", "docker.io/library/busybox:1.36", "docker.io", "library/busybox" },
        { "library/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox" },
        { "docker.io/busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox" },
        { "index.docker.io/x/y:z", "docker.io/x/y:z", "docker.io", "x/y" },
        { "user/app:v1", "docker.io/user/app:v1", "docker.io", "user/app" },
        { "127.0.0.1:5000/x/y:tag", "127.0.0.1:5000/x/y:tag", "127.0.0.1:5000", "x/y" },
        { "localhost/app", "localhost/app:latest", "localhost", "app" },
        { "registry.example.com/a/b/c", "registry.example.com/a/b/c:latest", "registry.example.com", "a/b/c" },
        { "reg:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "reg:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "reg:5000", "app" },
        { "app:v2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "docker.io/library/app:v2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "docker.io", "library/app" },
        { "a.b/my_app-x.y:Tag_1.0-rc", "a.b/my_app-x.y:Tag_1.0-rc", "a.b", "my_app-x.y" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cn_imgref r = { 0 };
        cn_err e = CN_ERR_INIT;
        CHECK_INT(cn_imgref_parse(ok[i].in, &r, &e), 0);
        CHECK_STR(r.name, ok[i].name);
        CHECK_STR(r.domain, ok[i].domain);
        CHECK_STR(r.repo, ok[i].repo);
        cn_imgref_clear(&r);
        cn_err_clear(&e);
    }
    static const char *const bad[] = {
        "", "Busybox", "busybox:", "busybox@sha256:123", "busybox@md5:0123", ":tag", "/busybox", "a//b",
        "busybox:tag with space", "host:port/x", "x/-y", "x/y-", "reg:5000/app:-tag",
        "x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cn_imgref r = { 0 };
        cn_err e = CN_ERR_INIT;
        int rc = cn_imgref_parse(bad[i], &r, &e);
        if (rc != -EINVAL) fprintf(stderr, "accepted bad ref \"%s\"\n", bad[i]);
        CHECK_INT(rc, -EINVAL);
        CHECK(e.message && strstr(e.message, "invalid reference"));
        CHECK(r.name == NULL);
        cn_err_clear(&e);
    }
    CHECK_STR(cn_imgref_endpoint("docker.io"), "registry-1.docker.io");
    CHECK_STR(cn_imgref_endpoint("r:5000"), "r:5000");
}

static void test_auth(void)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, "alice:pa:ss", 11);
    char *c1 = cn_asprintf("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"%s\"},"
                           "\"reg:5000\":{\"username\":\"bob\",\"password\":\"pw\"}}}", b.data);
    const char *c2 = "{\"http://other:80/v2/\":{\"username\":\"carol\",\"password\":\"x\"}}";  /* legacy .dockercfg */
    const char *junk = "not json";
    const char *cfgs[] = { junk, c1, c2 };
    char *u = NULL, *p = NULL;
    CHECK_INT(cn_image_auth_find(cfgs, 3, "docker.io", &u, &p), 0);
    CHECK_STR(u, "alice");
    CHECK_STR(p, "pa:ss");
    free(u); free(p); u = p = NULL;
    CHECK_INT(cn_image_auth_find(cfgs, 3, "reg:5000", &u, &p), 0);
    CHECK_STR(u, "bob");
    CHECK_STR(p, "pw");
    free(u); free(p); u = p = NULL;
    CHECK_INT(cn_image_auth_find(cfgs, 3, "other:80", &u, &p), 0);
    CHECK_STR(u, "carol");
    free(u); free(p); u = p = NULL;
    CHECK_INT(cn_image_auth_find(cfgs, 3, "reg", &u, &p), -ENOENT);
    CHECK_INT(cn_image_auth_find(cfgs, 3, "reg:5001", &u, &p), -ENOENT);
    CHECK_INT(cn_image_auth_find(NULL, 0, "reg:5000", &u, &p), -ENOENT);
    /* An undecodable auth entry is skipped, not fatal; a later text may match. */
    const char *broken = "{\"auths\":{\"reg:5000\":{\"auth\":\"!!!\"}}}";
    const char *cfgs2[] = { broken, c1 };
    CHECK_INT(cn_image_auth_find(cfgs2, 2, "reg:5000", &u, &p), 0);
    CHECK_STR(u, "bob");
    free(u); free(p);
    free(c1);
    cn_buf_release(&b);
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static void test_manifests(void)
{
    cn_image_manifest m = { 0 };
    cn_err e = CN_ERR_INIT;
    const char *oci = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":10},"
                      "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2 "\",\"size\":20},"
                      "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" D3 "\",\"size\":30}]}";
    CHECK_INT(cn_image_manifest_parse(oci, strlen(oci), &m, &e), 0);
    CHECK(!m.is_index);
    CHECK_STR(m.config.digest, D1);
    CHECK_INT(m.ndescs, 2);
    CHECK_STR(m.descs[1].digest, D3);
    CHECK_INT(m.descs[1].size, 30);
    cn_image_manifest_clear(&m);

    const char *list = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
                       "\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
                       "{\"digest\":\"" D2 "\",\"size\":1,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}},"
                       "{\"digest\":\"" D3 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    CHECK_INT(cn_image_manifest_parse(list, strlen(list), &m, &e), 0);
    CHECK(m.is_index);
    size_t pos = 99;
    CHECK_INT(cn_image_index_pick(&m, "amd64", &pos), 0);
    CHECK_INT(pos, 2);
    CHECK_INT(cn_image_index_pick(&m, "arm64", &pos), 0);
    CHECK_INT(pos, 0);
    CHECK_INT(cn_image_index_pick(&m, "s390x", &pos), -ENOENT);
    cn_image_manifest_clear(&m);

    /* An OCI layout's index.json has no mediaType: known by shape. */
    const char *layout = "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\",\"size\":3,"
                         "\"annotations\":{\"org.opencontainers.image.ref.name\":\"x:1\"}}]}";
    CHECK_INT(cn_image_manifest_parse(layout, strlen(layout), &m, &e), 0);
    CHECK(m.is_index);
    CHECK_STR(m.descs[0].ref_name, "x:1");
    cn_image_manifest_clear(&m);

    static const char *const bad[] = {
        "", "[]", "{\"schemaVersion\":1,\"fsLayers\":[]}",
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[]}",
        "{\"config\":{\"digest\":\"sha256:12\"},\"layers\":[]}",
        "{\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"digest\":\"md5:00\"}]}",
        "{\"config\":{\"digest\":\"" D1 "\"},\"layers\":[{\"digest\":\"" D2 "\",\"size\":-1}]}",
        "{\"mediaType\":\"text/html\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(cn_image_manifest_parse(bad[i], strlen(bad[i]), &m, &e), -EBADMSG);
        CHECK(m.descs == NULL);
    }
    cn_err_clear(&e);

    cn_image_config c = { 0 };
    const char *cfg = "{\"config\":{\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"Env\":[\"PATH=/bin\"],"
                      "\"WorkingDir\":\"/w\",\"User\":\"1000:1000\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]}}";
    CHECK_INT(cn_image_config_parse(cfg, strlen(cfg), &c, &e), 0);
    CHECK_INT(c.nentrypoint, 2);
    CHECK_STR(c.cmd[0], "echo hi");
    CHECK_STR(c.env[0], "PATH=/bin");
    CHECK_STR(c.workdir, "/w");
    CHECK_STR(c.user, "1000:1000");
    CHECK_INT(c.ndiff_ids, 1);
    cn_image_config_clear(&c);
    const char *badcfg = "{\"config\":{\"Cmd\":[1]},\"rootfs\":{\"diff_ids\":[]}}";
    CHECK_INT(cn_image_config_parse(badcfg, strlen(badcfg), &c, &e), -EBADMSG);
    cn_err_clear(&e);

    char d[72];
    cn_image_sha256("", 0, d);
    CHECK_STR(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(cn_image_digest_valid(d));
    CHECK(!cn_image_digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
}

/* ---- tars ---- */

typedef struct tent {
    const char *name;
    char type;            /* f file, d dir, l symlink, h hard link */
    const char *data;     /* content, or link target */
    int mode;
} tent;

static void make_tar(const char *path, const tent *e, size_t n, bool gz)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gz) archive_write_add_filter_gzip(a);
    archive_write_open_filename(a, path);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *x = archive_entry_new();
        archive_entry_set_pathname(x, e[i].name);
        archive_entry_set_uid(x, 1000 + (int)i);
        archive_entry_set_gid(x, 2000);
        archive_entry_set_mtime(x, 1000000, 0);
        switch (e[i].type) {
        case 'd': archive_entry_set_filetype(x, AE_IFDIR); break;
        case 'l': archive_entry_set_filetype(x, AE_IFLNK); archive_entry_set_symlink(x, e[i].data); break;
        case 'h': archive_entry_set_filetype(x, AE_IFREG); archive_entry_set_hardlink(x, e[i].data); break;
        default:
            archive_entry_set_filetype(x, AE_IFREG);
            archive_entry_set_size(x, (la_int64_t)strlen(e[i].data ? e[i].data : ""));
        }
        archive_entry_set_perm(x, (mode_t)(e[i].mode ? e[i].mode : (e[i].type == 'd' ? 0755 : 0644)));
        archive_write_header(a, x);
        if (e[i].type == 'f' && e[i].data) archive_write_data(a, e[i].data, strlen(e[i].data));
        archive_entry_free(x);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static void file_digest(const char *path, char out[72])
{
    cn_buf b;
    cn_buf_init(&b);
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) cn_buf_add(&b, buf, n);
    if (f) fclose(f);
    cn_image_sha256(b.data ? b.data : "", b.len, out);
    cn_buf_release(&b);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    cn_buf b;
    cn_buf_init(&b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) cn_buf_add(&b, buf, n);
    fclose(f);
    return cn_buf_detach(&b, NULL);
}

static void test_unpack(void)
{
    const tent layer[] = {
        { "./", 'd', NULL, 0755 },
        { "./etc/", 'd', NULL, 0755 },
        { "./etc/hosts", 'f', "127.0.0.1 localhost\n", 0644 },
        { "./etc/secret", 'f', "s", 0600 },
        { "./etc/.wh.gone", 'f', "", 0 },
        { "./.wh.rootgone", 'f', "", 0 },
        { "./opq/", 'd', NULL, 0700 },
        { "./opq/.wh..wh..opq", 'f', "", 0 },
        { "./opq/new", 'f', "n", 0 },
        { "./deep/er/.wh.x", 'f', "", 0 },
        { "./bin/", 'd', NULL, 0 },
        { "./bin/busybox", 'f', "#!fake", 0755 },
        { "./bin/sh", 'l', "busybox", 0777 },
        { "./bin/abs", 'l', "/etc/hosts", 0777 },
        { "./bin/hl", 'h', "./bin/busybox", 0 },
    };
    char *plain = cn_asprintf("%s/l.tar", tmpdir), *gz = cn_asprintf("%s/l.tar.gz", tmpdir);
    make_tar(plain, layer, sizeof layer / sizeof layer[0], false);
    make_tar(gz, layer, sizeof layer / sizeof layer[0], true);
    char diff[72];
    file_digest(plain, diff);
    cn_err e = CN_ERR_INIT;
    uint64_t bytes = 0;
    char *dest = cn_asprintf("%s/u1", tmpdir);
    CHECK_INT(cn_image_unpack(gz, dest, diff, &bytes, &e), 0);
    if (e.message) fprintf(stderr, "unpack: %s\n", e.message);
    CHECK_INT(bytes, 20 + 1 + 1 + 6);
    char *p = cn_asprintf("%s/etc/hosts", dest);
    char *txt = slurp(p);
    CHECK_STR(txt, "127.0.0.1 localhost\n");
    free(txt);
    struct stat st;
    free(p);
    p = cn_asprintf("%s/etc/secret", dest);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600);
    if (geteuid() == 0) CHECK(st.st_uid == 1003 && st.st_gid == 2000);
    free(p);
    p = cn_asprintf("%s/bin/sh", dest);
    char lnk[64] = "";
    CHECK(readlink(p, lnk, sizeof lnk - 1) == 7 && !strcmp(lnk, "busybox"));
    free(p);
    p = cn_asprintf("%s/bin/hl", dest);
    struct stat st2;
    char *p2 = cn_asprintf("%s/bin/busybox", dest);
    CHECK(stat(p, &st) == 0 && stat(p2, &st2) == 0 && st.st_ino == st2.st_ino);
    free(p);
    free(p2);
    p = cn_asprintf("%s/etc/.wh.gone", dest);
    CHECK(lstat(p, &st) < 0);          /* the marker itself is not written */
    free(p);
    if (geteuid() == 0) {
        static const char *const wh[] = { "etc/gone", "rootgone", "deep/er/x" };
        for (size_t i = 0; i < 3; i++) {
            p = cn_asprintf("%s/%s", dest, wh[i]);
            CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
            free(p);
        }
        p = cn_asprintf("%s/opq", dest);
        char v[8] = "";
        CHECK(lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y');
        CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0700);
        free(p);
        p = cn_asprintf("%s/etc", dest);
        CHECK(lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) < 0);
        free(p);
    }
    cn_rm_rf(dest);
    free(dest);

    /* Uncompressed layers too; a wrong diff id is refused. */
    dest = cn_asprintf("%s/u2", tmpdir);
    CHECK_INT(cn_image_unpack(plain, dest, diff, NULL, &e), 0);
    cn_rm_rf(dest);
    CHECK_INT(cn_image_unpack(gz, dest, D1, NULL, &e), -EBADMSG);
    CHECK(e.message && strstr(e.message, "diff id mismatch"));
    cn_rm_rf(dest);
    /* dest must be new: a half-unpacked leftover is never reused. */
    mkdir(dest, 0755);
    CHECK(cn_image_unpack(gz, dest, diff, NULL, &e) < 0);
    cn_rm_rf(dest);
    free(dest);
    /* Not a tar at all. */
    dest = cn_asprintf("%s/u3", tmpdir);
    char *junk = cn_asprintf("%s/junk", tmpdir);
    FILE *f = fopen(junk, "w");
    fputs("this is not a tar archive, not even close; it is just some text", f);
    fclose(f);
    CHECK_INT(cn_image_unpack(junk, dest, NULL, NULL, &e), -EBADMSG);
    cn_rm_rf(dest);
    free(dest);
    free(junk);
    cn_err_clear(&e);
    free(plain);
    free(gz);
}

static void test_hostile(void)
{
    char *outside = cn_asprintf("%s/outside", tmpdir);
    mkdir(outside, 0755);
    char *victim = cn_asprintf("%s/victim", outside);
    FILE *f = fopen(victim, "w");
    fputs("original", f);
    fclose(f);
    const tent dotdot[] = { { "../outside/victim", 'f', "pwned", 0 } };
    const tent dotdot2[] = { { "a/../../outside/victim", 'f', "pwned", 0 } };
    const tent absolute[] = { { "/etc/cairn-test-pwned", 'f', "pwned", 0 } };
    tent symesc[] = { { "link", 'l', outside, 0 }, { "link/victim", 'f', "pwned", 0 } };
    tent symesc2[] = { { "link", 'l', "../outside", 0 }, { "link/new", 'f', "pwned", 0 } };
    const tent hlesc[] = { { "hl", 'h', "../outside/victim", 0 } };
    tent hlsym[] = { { "link", 'l', outside, 0 }, { "hl", 'h', "link/victim", 0 } };
    tent whsym[] = { { "link", 'l', outside, 0 }, { "link/.wh.victim", 'f', "", 0 } };
    const tent badwh[] = { { "a/.wh...", 'f', "", 0 } };
    struct { const tent *e; size_t n; const char *what; } cases[] = {
        { dotdot, 1, "dotdot" }, { dotdot2, 1, "dotdot2" }, { absolute, 1, "absolute" },
        { symesc, 2, "symlink escape" }, { symesc2, 2, "relative symlink escape" },
        { hlesc, 1, "hard link escape" }, { hlsym, 2, "hard link through symlink" },
        { whsym, 2, "whiteout through symlink" }, { badwh, 1, "bad whiteout" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *tar = cn_asprintf("%s/h%zu.tar", tmpdir, i), *dest = cn_asprintf("%s/hd%zu", tmpdir, i);
        make_tar(tar, cases[i].e, cases[i].n, i % 2);
        cn_err e = CN_ERR_INIT;
        int rc = cn_image_unpack(tar, dest, NULL, NULL, &e);
        if (rc != -EBADMSG) fprintf(stderr, "hostile case \"%s\": rc %d (%s)\n", cases[i].what, rc, e.message ? e.message : "");
        CHECK_INT(rc, -EBADMSG);
        CHECK(e.message != NULL);
        cn_err_clear(&e);
        cn_rm_rf(dest);
        free(tar);
        free(dest);
    }
    char *txt = slurp(victim);
    CHECK_STR(txt, "original");
    free(txt);
    char *nf = cn_asprintf("%s/new", outside);
    struct stat st;
    CHECK(lstat(nf, &st) < 0);
    CHECK(lstat("/etc/cairn-test-pwned", &st) < 0);
    free(nf);
    free(victim);
    free(outside);
}

/* ---- the store, through an OCI archive built here ---- */

typedef struct blob { char digest[72]; char *data; size_t len; } blob;

static void blob_of(blob *b, char *data, size_t len)
{
    b->data = data;
    b->len = len;
    cn_image_sha256(data, len, b->digest);
}

static void add_file(struct archive *a, const char *name, const void *data, size_t len)
{
    struct archive_entry *x = archive_entry_new();
    archive_entry_set_pathname(x, name);
    archive_entry_set_filetype(x, AE_IFREG);
    archive_entry_set_perm(x, 0644);
    archive_entry_set_size(x, (la_int64_t)len);
    archive_write_header(a, x);
    archive_write_data(a, data, len);
    archive_entry_free(x);
}

/* One image: blobs [layer, config, manifest], owned by the caller. corrupt:
 * the layer's bytes are changed after its digest was taken. */
static void make_image(const char *content, bool corrupt, blob out[3])
{
    char *ltar = cn_asprintf("%s/layer-%s.tar", tmpdir, content), *lgz = cn_asprintf("%s.gz", ltar);
    const tent files[] = { { "etc/", 'd', NULL, 0 }, { "etc/content", 'f', content, 0 } };
    make_tar(ltar, files, 2, false);
    make_tar(lgz, files, 2, true);
    char diff[72];
    file_digest(ltar, diff);
    struct stat st;
    stat(lgz, &st);
    blob_of(&out[0], slurp(lgz), (size_t)st.st_size);
    char *c = cn_asprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"A=%s\"]},"
                          "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", content, diff);
    blob_of(&out[1], c, strlen(c));
    char *m = cn_asprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                          "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                          "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu}]}",
                          out[1].digest, out[1].len, out[0].digest, out[0].len);
    blob_of(&out[2], m, strlen(m));
    if (corrupt) out[0].data[out[0].len / 2] ^= 0x55;
    free(ltar);
    free(lgz);
}

static void blobs_free(blob *b, size_t n)
{
    for (size_t i = 0; i < n; i++) free(b[i].data);
}

/* An OCI archive with one image named refname; corrupt: a blob whose
 * content does not match its name. id gets the config digest. */
static void make_oci_archive(const char *path, const char *refname, const char *content, bool corrupt, char id[72])
{
    blob bl[3];
    make_image(content, corrupt, bl);
    char *idx = cn_asprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                            "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
                            bl[2].digest, bl[2].len, refname);
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, path);
    add_file(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    add_file(a, "index.json", idx, strlen(idx));
    for (size_t i = 0; i < 3; i++) {
        char *name = cn_asprintf("blobs/sha256/%s", bl[i].digest + 7);
        add_file(a, name, bl[i].data, bl[i].len);
        free(name);
    }
    archive_write_close(a);
    archive_write_free(a);
    memcpy(id, bl[1].digest, 72);
    blobs_free(bl, 3);
    free(idx);
}

static void test_store(void)
{
    char *dir = cn_asprintf("%s/store", tmpdir);
    cn_image_store_config cfg = { .dir = dir };
    cn_image_store *s = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK_INT(cn_image_store_open(&cfg, &s, &e), 0);
    if (!s) return;
    char *arch = cn_asprintf("%s/a.tar", tmpdir), *arch2 = cn_asprintf("%s/b.tar", tmpdir);
    char id1[72], id2[72], idbad[72];
    make_oci_archive(arch, "example.org/unit/one:1", "one", false, id1);
    make_oci_archive(arch2, "two:2", "two", false, id2);
    char **names = NULL;
    CHECK_INT(cn_image_import(s, arch, &names, &e), 0);
    if (e.message) fprintf(stderr, "import: %s\n", e.message);
    CHECK(names && names[0] && !strcmp(names[0], "example.org/unit/one:1") && !names[1]);
    for (char **p = names; p && *p; p++) free(*p);
    free(names);
    CHECK_INT(cn_image_import(s, arch2, NULL, &e), 0);

    cn_image *img = NULL;
    CHECK_INT(cn_image_get(s, "example.org/unit/one:1", &img, &e), 0);
    if (img) {
        CHECK_STR(img->id, id1);
        CHECK_INT(img->ncmd, 1);
        CHECK_STR(img->env[0], "A=one");
        CHECK_INT(img->nlayers, 1);
        char *p = cn_asprintf("%s/etc/content", img->layers[0]);
        char *txt = slurp(p);
        CHECK_STR(txt, "one");
        free(txt);
        free(p);
        CHECK(img->size > 0);
        cn_image_free(img);
        img = NULL;
    }
    CHECK_INT(cn_image_get(s, "docker.io/library/two:2", &img, &e), 0);
    cn_image_free(img);
    img = NULL;
    CHECK_INT(cn_image_get(s, "nope:1", &img, &e), -ENOENT);
    CHECK(img == NULL);
    /* only_if_missing finds it locally without any registry. */
    CHECK_INT(cn_image_pull(s, "two:2", NULL, 0, true, &img, &e), 0);
    cn_image_free(img);
    img = NULL;

    /* A blob that does not match its digest: refused, nothing half-stored. */
    char *arch3 = cn_asprintf("%s/c.tar", tmpdir);
    make_oci_archive(arch3, "bad:1", "bad", true, idbad);
    CHECK_INT(cn_image_import(s, arch3, NULL, &e), -EBADMSG);
    CHECK(e.message && strstr(e.message, "digest mismatch"));
    CHECK_INT(cn_image_get(s, "bad:1", &img, &e), -ENOENT);

    cn_image **v = NULL;
    size_t n = 0;
    CHECK_INT(cn_image_list(s, &v, &n, &e), 0);
    CHECK_INT(n, 2);
    cn_image_list_free(v, n);

    /* gc keeps what is in use; remove + prune drop the rest. */
    uint64_t freed = 0, used0 = 0, used1 = 0, avail = 0;
    CHECK_INT(cn_image_disk_usage(s, &used0, &avail), 0);
    CHECK(used0 > 0 && avail > 0);
    CHECK_INT(cn_image_prune(s, NULL, 0, &freed, &e), 0);
    CHECK_INT(cn_image_list(s, &v, &n, &e), 0);
    CHECK_INT(n, 2);
    cn_image_list_free(v, n);
    CHECK_INT(cn_image_remove(s, "example.org/unit/one:1", &e), 0);
    CHECK_INT(cn_image_remove(s, "example.org/unit/one:1", &e), -ENOENT);
    const char *in_use[] = { id1 };
    CHECK_INT(cn_image_prune(s, in_use, 1, &freed, &e), 0);
    CHECK_INT(cn_image_list(s, &v, &n, &e), 0);
    CHECK_INT(n, 2);                  /* one named, one unnamed but in use */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i]->id, id1)) CHECK_STR(v[i]->ref, "");
    cn_image_list_free(v, n);
    CHECK_INT(cn_image_prune(s, NULL, 0, &freed, &e), 0);
    CHECK(freed > 0);
    CHECK_INT(cn_image_gc(s, (const char *[]){ id2 }, 1, 0, &freed, &e), 0);
    CHECK_INT(cn_image_get(s, "two:2", &img, &e), 0);
    cn_image_free(img);
    img = NULL;
    CHECK_INT(cn_image_gc(s, NULL, 0, 1, &freed, &e), 0);
    CHECK(freed > 0);
    CHECK_INT(cn_image_list(s, &v, &n, &e), 0);
    CHECK_INT(n, 0);
    cn_image_list_free(v, n);
    CHECK_INT(cn_image_disk_usage(s, &used1, NULL), 0);
    CHECK(used1 < used0);
    cn_image_store_close(s);

    /* The index survives a reopen; tmp/ leftovers of dead writers go. */
    char *stale = cn_asprintf("%s/tmp/999999999-0-stale", dir);
    mkdir(stale, 0755);
    CHECK_INT(cn_image_store_open(&cfg, &s, &e), 0);
    struct stat st;
    CHECK(lstat(stale, &st) < 0);
    CHECK_INT(cn_image_import(s, arch, NULL, &e), 0);
    cn_image_store_close(s);
    CHECK_INT(cn_image_store_open(&cfg, &s, &e), 0);
    CHECK_INT(cn_image_get(s, "example.org/unit/one:1", &img, &e), 0);
    cn_image_free(img);
    cn_image_store_close(s);
    cn_err_clear(&e);
    free(stale); free(arch); free(arch2); free(arch3); free(dir);
}

/* ---- pulls from a fake registry: Bearer tokens, errors, sharing ---- */

#define TOKEN "tok-1"

typedef struct fake {
    struct MHD_Daemon *d;
    int port;
    blob img[3], bad[3], big[3];    /* big: a manifest that understates the layer's size */
    char basic[128];             /* "Basic base64(alice:pw)" */
    atomic_int layer_gets, tokens;
} fake;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body, size_t len,
                             const char *hname, const char *hval)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (hname) MHD_add_response_header(r, hname, hval);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result fake_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)method; (void)version; (void)upload; (void)upload_size; (void)con_cls;
    fake *f = cls;
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!strcmp(url, "/token")) {
        const char *scope = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "scope");
        if (!authz || strcmp(authz, f->basic) != 0 || !scope || strncmp(scope, "repository:", 11) != 0)
            return reply(c, 401, "{}", 2, NULL, NULL);
        atomic_fetch_add(&f->tokens, 1);
        return reply(c, 200, "{\"token\":\"" TOKEN "\"}", 17, NULL, NULL);
    }
    if (strncmp(url, "/v2/", 4) != 0) return reply(c, 404, "", 0, NULL, NULL);
    const char *repo = url + 4, *kind = strchr(repo, '/');
    if (!kind) return reply(c, 404, "", 0, NULL, NULL);
    char *rname = cn_strndup(repo, (size_t)(kind - repo));
    if (!authz || strcmp(authz, "Bearer " TOKEN) != 0) {
        char *ch = cn_asprintf("Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\",scope=\"repository:%s:pull\"",
                               f->port, rname);
        enum MHD_Result r = reply(c, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}", 37, "WWW-Authenticate", ch);
        free(ch);
        free(rname);
        return r;
    }
    blob *b = !strcmp(rname, "img") ? f->img : !strcmp(rname, "corrupt") ? f->bad : !strcmp(rname, "big") ? f->big : NULL;
    free(rname);
    if (!b) return reply(c, 404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\"}]}", 35, NULL, NULL);
    if (cn_str_has_prefix(kind, "/manifests/")) {
        const char *ref = kind + 11;
        if (strcmp(ref, "1") != 0 && strcmp(ref, b[2].digest) != 0)
            return reply(c, 404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}", 39, NULL, NULL);
        return reply(c, 200, b[2].data, b[2].len, "Docker-Content-Digest", b[2].digest);
    }
    if (cn_str_has_prefix(kind, "/blobs/")) {
        for (int i = 0; i < 2; i++) {
            if (strcmp(kind + 7, b[i].digest) != 0) continue;
            if (b == f->img && i == 0) {
                atomic_fetch_add(&f->layer_gets, 1);
                usleep(100 * 1000);    /* widen the window for the concurrent pullers */
            }
            return reply(c, 200, b[i].data, b[i].len, NULL, NULL);
        }
    }
    return reply(c, 404, "", 0, NULL, NULL);
}

typedef struct puller {
    cn_image_store *s;
    const char *ref;
    const char *const *cfgs;
    int rc;
} puller;

static void *pull_thread(void *ud)
{
    puller *p = ud;
    cn_image *img = NULL;
    cn_err e = CN_ERR_INIT;
    p->rc = cn_image_pull(p->s, p->ref, p->cfgs, 1, false, &img, &e);
    if (p->rc < 0) fprintf(stderr, "pull: %s\n", e.message ? e.message : "");
    cn_image_free(img);
    cn_err_clear(&e);
    return NULL;
}

static void test_registry(void)
{
    fake f = { 0 };
    make_image("reg", false, f.img);
    make_image("corrupt", true, f.bad);
    make_image("big", false, f.big);
    {
        /* The same layer, declared 10 bytes long. */
        char *m = cn_asprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                              "\"config\":{\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"digest\":\"%s\",\"size\":10}]}",
                              f.big[1].digest, f.big[1].len, f.big[0].digest);
        free(f.big[2].data);
        blob_of(&f.big[2], m, strlen(m));
    }
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_adds(&b, "Basic ");
    cn_base64_encode(&b, "alice:pw", 8);
    snprintf(f.basic, sizeof f.basic, "%s", b.data);
    cn_buf_release(&b);
    f.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                           fake_handler, &f, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
    CHECK(f.d != NULL);
    if (!f.d) return;
    f.port = MHD_get_daemon_info(f.d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char host[32];
    snprintf(host, sizeof host, "127.0.0.1:%d", f.port);
    const char *insecure[] = { host };
    char *dir = cn_asprintf("%s/regstore", tmpdir);
    cn_image_store_config cfg = { .dir = dir, .insecure = insecure, .ninsecure = 1, .timeout_s = 5 };
    cn_image_store *s = NULL;
    cn_err e = CN_ERR_INIT;
    CHECK_INT(cn_image_store_open(&cfg, &s, &e), 0);
    char *good = cn_asprintf("{\"auths\":{\"%s\":{\"username\":\"alice\",\"password\":\"pw\"}}}", host);
    char *bad = cn_asprintf("{\"auths\":{\"%s\":{\"username\":\"alice\",\"password\":\"nope\"}}}", host);
    const char *goodv[] = { good }, *badv[] = { bad };
    char *ref = cn_asprintf("%s/img:1", host);
    cn_image *img = NULL;

    CHECK_INT(cn_image_pull(s, ref, NULL, 0, false, &img, &e), -EACCES);
    CHECK(e.message && strstr(e.message, "failed to pull and unpack image") && strstr(e.message, "401"));
    CHECK_INT(cn_image_pull(s, ref, badv, 1, false, &img, &e), -EACCES);
    CHECK(img == NULL);

    /* Four pod workers pulling the same image: one layer download. */
    puller p[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (puller){ .s = s, .ref = ref, .cfgs = goodv };
        pthread_create(&th[i], NULL, pull_thread, &p[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(p[i].rc, 0);
    }
    CHECK_INT(atomic_load(&f.layer_gets), 1);
    CHECK(atomic_load(&f.tokens) >= 1);
    CHECK_INT(cn_image_get(s, ref, &img, &e), 0);
    if (img) {
        CHECK_STR(img->id, f.img[1].digest);
        char *rd = cn_asprintf("%s/img@%s", host, f.img[2].digest);
        CHECK_STR(img->repo_digest, rd);
        free(rd);
        cn_image_free(img);
        img = NULL;
    }
    /* A wrong secret and a right one at the same time: not merged. */
    puller pb = { .s = s, .ref = ref, .cfgs = badv }, pg = { .s = s, .ref = ref, .cfgs = goodv };
    pthread_create(&th[0], NULL, pull_thread, &pb);
    pthread_create(&th[1], NULL, pull_thread, &pg);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    CHECK_INT(pb.rc, -EACCES);
    CHECK_INT(pg.rc, 0);

    /* By digest, and found by repo digest locally. */
    char *dref = cn_asprintf("%s/img@%s", host, f.img[2].digest);
    CHECK_INT(cn_image_pull(s, dref, goodv, 1, false, &img, &e), 0);
    cn_image_free(img);
    img = NULL;
    CHECK_INT(atomic_load(&f.layer_gets), 1);

    char *nope = cn_asprintf("%s/nope:1", host), *want = cn_asprintf("failed to pull and unpack image \"%s\"", nope);
    CHECK_INT(cn_image_pull(s, nope, goodv, 1, false, &img, &e), -ENOENT);
    CHECK(e.message && strstr(e.message, want) && strstr(e.message, "not found"));
    char *notag = cn_asprintf("%s/img:2", host);
    CHECK_INT(cn_image_pull(s, notag, goodv, 1, false, &img, &e), -ENOENT);

    char *cref = cn_asprintf("%s/corrupt:1", host);
    CHECK_INT(cn_image_pull(s, cref, goodv, 1, false, &img, &e), -EBADMSG);
    CHECK(e.message && strstr(e.message, "digest mismatch"));
    char *bpath = cn_asprintf("%s/blobs/sha256/%s", dir, f.bad[0].digest + 7);
    struct stat st;
    CHECK(lstat(bpath, &st) < 0);

    char *bigref = cn_asprintf("%s/big:1", host);
    CHECK_INT(cn_image_pull(s, bigref, goodv, 1, false, &img, &e), -EBADMSG);
    CHECK(e.message && strstr(e.message, "larger than 10 bytes"));
    free(bigref);

    MHD_stop_daemon(f.d);
    CHECK_INT(cn_image_pull(s, ref, goodv, 1, false, &img, &e), -EHOSTUNREACH);
    CHECK(e.message && strstr(e.message, "failed to do request"));
    /* IfNotPresent needs no registry. */
    CHECK_INT(cn_image_pull(s, ref, goodv, 1, true, &img, &e), 0);
    cn_image_free(img);

    cn_image_store_close(s);
    cn_err_clear(&e);
    blobs_free(f.img, 3);
    blobs_free(f.bad, 3);
    blobs_free(f.big, 3);
    free(dir); free(good); free(bad); free(ref); free(dref); free(nope); free(want); free(notag); free(cref); free(bpath);
}

/* A full disk while unpacking is -ENOSPC, not a corrupt layer (root: a
 * 256 KiB tmpfs). */
static void test_enospc(void)
{
    if (geteuid() != 0) {
        printf("skip test_enospc: not root\n");
        return;
    }
    char *small = cn_asprintf("%s/small", tmpdir);
    mkdir(small, 0755);
    if (mount("tmpfs", small, "tmpfs", 0, "size=256k") < 0) {
        printf("skip test_enospc: cannot mount tmpfs\n");
        free(small);
        return;
    }
    char *big = cn_malloc(1u << 20);
    memset(big, 'x', (1u << 20) - 1);
    big[(1u << 20) - 1] = '\0';
    const tent files[] = { { "big", 'f', big, 0 } };
    char *tar = cn_asprintf("%s/big.tar.gz", tmpdir), *dest = cn_asprintf("%s/layer", small);
    make_tar(tar, files, 1, true);
    cn_err e = CN_ERR_INIT;
    CHECK_INT(cn_image_unpack(tar, dest, NULL, NULL, &e), -ENOSPC);
    CHECK(e.message && strstr(e.message, "no space left"));
    cn_err_clear(&e);
    umount2(small, MNT_DETACH);
    free(big); free(tar); free(dest); free(small);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    TEST_RUN(test_refs);
    TEST_RUN(test_auth);
    TEST_RUN(test_manifests);
    TEST_RUN(test_unpack);
    TEST_RUN(test_hostile);
    TEST_RUN(test_enospc);
    TEST_RUN(test_store);
    TEST_RUN(test_registry);
    cn_rm_rf(tmpdir);
    return TEST_DONE();
}
