/* image-internal: what the image store's files share (image.c the store,
 * image_ref.c references/auth/manifest parsing, image_registry.c the OCI
 * Distribution client, image_unpack.c layer unpacking). Not for other
 * modules; the unit test and fuzz target include it to reach the parsers. */
#ifndef CN_IMAGE_INTERNAL_H
#define CN_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/err.h"
#include "lib/util.h"

/* Largest manifest, index or config accepted (registries cap at 4 MiB). */
#define CN_IMAGE_MAX_JSON (4u << 20)

/* ---- references (image_ref.c) ---- */

/* A parsed, normalised reference. name is what the store keys on:
 * "domain/repo:tag", "domain/repo@sha256:..." or both "repo:tag@sha256:". */
typedef struct cn_imgref {
    char *domain;   /* "docker.io", "127.0.0.1:5000" */
    char *repo;     /* "library/busybox" */
    char *tag;      /* NULL when only a digest was given */
    char *digest;   /* "sha256:<64 hex>" or NULL */
    char *name;     /* normalised full reference */
} cn_imgref;

/* -EINVAL (err 400) on a malformed reference; out untouched then. */
int cn_imgref_parse(const char *s, cn_imgref *out, cn_err *err);
void cn_imgref_clear(cn_imgref *r);
/* The host to connect to for a domain ("docker.io" -> registry-1.docker.io). */
const char *cn_imgref_endpoint(const char *domain);

/* "sha256:<64 lowercase hex>"? */
bool cn_image_digest_valid(const char *d);
/* "sha256:<hex>" of data into out (72 bytes). */
void cn_image_sha256(const void *data, size_t len, char out[72]);
/* "sha256:<hex>" of a finished SHA-256. */
void cn_image_hexdigest(const unsigned char md[32], char out[72]);

/* Credentials for domain from dockerconfigjson texts (first match wins;
 * keys may be "host", "https://host/v1/", ...; docker.io matches the
 * index.docker.io keys). 0 with *user and *pass malloc'd, -ENOENT when none. */
int cn_image_auth_find(const char *const *cfgs, size_t n, const char *domain,
                       char **user, char **pass);

/* ---- manifests (image_ref.c) ---- */

typedef struct cn_image_desc {
    char *media_type;
    char *digest;
    int64_t size;
    char *os, *arch, *variant;  /* index entries: platform, NULL if absent */
    char *ref_name;             /* index entries: org.opencontainers.image.ref.name
                                 * or io.containerd.image.name, NULL if absent */
} cn_image_desc;

typedef struct cn_image_manifest {
    bool is_index;
    cn_image_desc config;                    /* manifests */
    cn_image_desc *descs; size_t ndescs;     /* layers, or index entries */
} cn_image_manifest;

/* Parse a manifest or index (by mediaType, else by shape). -EBADMSG with a
 * message on anything malformed (bad digest, missing fields, schema 1). */
int cn_image_manifest_parse(const char *body, size_t len, cn_image_manifest *out, cn_err *err);
void cn_image_manifest_clear(cn_image_manifest *m);
/* Index entry for os/arch (arch NULL = this machine's), -ENOENT if none. */
int cn_image_index_pick(const cn_image_manifest *idx, const char *arch, size_t *pos);
/* This machine's GOARCH name ("amd64", "arm64", ...). */
const char *cn_image_host_arch(void);

/* The parts of an image config the store keeps; owned. */
typedef struct cn_image_config {
    char **entrypoint; size_t nentrypoint;
    char **cmd; size_t ncmd;
    char **env; size_t nenv;
    char *workdir, *user;
    char **diff_ids; size_t ndiff_ids;
} cn_image_config;

int cn_image_config_parse(const char *body, size_t len, cn_image_config *out, cn_err *err);
void cn_image_config_clear(cn_image_config *c);

/* ---- registry client (image_registry.c) ---- */

typedef struct cn_registry cn_registry;

/* A client for one repository on one registry; credentials may be NULL
 * (anonymous). plain_http for registries listed as insecure; ca_file (may
 * be NULL: the system's CAs) verifies HTTPS ones. */
int cn_registry_open(const char *domain, const char *repo, bool plain_http, const char *ca_file,
                     const char *user, const char *pass, int timeout_s, cn_registry **out);
void cn_registry_close(cn_registry *r);
/* GET a manifest by tag or digest into body (at most CN_IMAGE_MAX_JSON);
 * *digest_hdr gets Docker-Content-Digest (or NULL). Errors as cn_image_pull:
 * -ENOENT, -EACCES, -EHOSTUNREACH, -EIO (other HTTP failures). */
int cn_registry_get_manifest(cn_registry *r, const char *reference, cn_buf *body,
                             char **digest_hdr, cn_err *err);
/* GET a blob into fd, hashing it; *got receives "sha256:<hex>" (72 bytes).
 * More than max bytes (the descriptor's size; < 0: no limit) is -EBADMSG. */
int cn_registry_get_blob(cn_registry *r, const char *digest, int64_t max, int fd, char got[72], cn_err *err);

/* ---- layers (image_unpack.c) ---- */

/* Unpack the (gzip/zstd/plain) tar layer in blob_path into dest (created,
 * must not exist). Whiteouts become overlayfs whiteouts; absolute names,
 * ".." and writes through symlinks are refused (-EBADMSG). If diff_id is
 * set the uncompressed stream must hash to it (-EBADMSG). *bytes gets the
 * bytes of file content unpacked. On failure dest may be partly written:
 * the caller removes it. */
int cn_image_unpack(const char *blob_path, const char *dest, const char *diff_id,
                    uint64_t *bytes, cn_err *err);

/* Bytes allocated on disk by a tree. */
uint64_t cn_image_tree_bytes(const char *path);

#endif
