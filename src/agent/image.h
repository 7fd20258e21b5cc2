/* image: the node's image store — pulls OCI/Docker images from registries
 * speaking the OCI Distribution API, verifies every digest, unpacks layers
 * with libarchive (whiteouts honoured) into a content-addressed store shared
 * by all pods, and hands the runtime the layer directories for an overlayfs
 * rootfs. Also `cairn image import` of OCI archives for air-gapped nodes and
 * garbage collection under disk pressure.
 *
 * Layout under DIR (the agent's DATA/images):
 *   blobs/sha256/<hex>      manifests, configs, compressed layers (verified)
 *   layers/<hex>/           unpacked layer, <hex> = diff id (uncompressed digest)
 *   refs.json               "registry/repo:tag" and "...@sha256:" -> image
 *
 * References are normalised like containerd/docker: "busybox" is
 * "docker.io/library/busybox:latest"; "host:5000/x/y:tag", "x@sha256:...".
 * Thread-safe: the kubelet pulls from several pod workers at once; two pulls
 * of the same reference share one download. */
#ifndef CN_IMAGE_H
#define CN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/err.h"

typedef struct cn_image_store cn_image_store;

typedef struct cn_image_store_config {
    const char *dir;                       /* DATA/images, created if missing */
    const char *const *insecure;           /* "host:port" registries spoken to over plain HTTP */
    size_t ninsecure;
    int timeout_s;                         /* per HTTP request; 0 = 60 */
    const char *ca_file;                   /* PEM CAs for HTTPS registries; NULL = the system's */
} cn_image_store_config;

/* An image as stored: everything owned by the struct (cn_image_free). */
typedef struct cn_image {
    char *ref;           /* normalised reference asked for */
    char *id;            /* "sha256:<config digest>" (the image ID) */
    char *repo_digest;   /* "registry/repo@sha256:<manifest digest>" */
    char **entrypoint; size_t nentrypoint;  /* from the image config */
    char **cmd; size_t ncmd;
    char **env; size_t nenv;                /* "K=V" */
    char *workdir;       /* "" when unset */
    char *user;          /* "" when unset; "uid", "uid:gid", names resolved by the kubelet */
    char **layers; size_t nlayers;          /* absolute unpacked layer dirs, bottom first */
    uint64_t size;       /* bytes on disk of its layers */
} cn_image;

int cn_image_store_open(const cn_image_store_config *cfg, cn_image_store **out, cn_err *err);
void cn_image_store_close(cn_image_store *s);

/* Pull ref (or find it already complete locally when only_if_missing) and
 * return it. dockercfgs: contents of kubernetes.io/dockerconfigjson secrets
 * (the JSON text, {"auths":{"host":{"auth"|"username"+"password"}}}), tried
 * for the reference's registry; may be empty. Errors (err->message written
 * for a user, as kubectl describe shows them, after containerd: 'failed to
 * pull and unpack image "R": failed to resolve reference "R": not found'):
 *   -ENOENT        manifest unknown (or no linux/<arch> entry in an index)
 *   -EACCES        401/403 from the registry (bad or missing credentials)
 *   -EHOSTUNREACH  registry unreachable (connect/timeout/DNS)
 *   -EBADMSG       digest mismatch or malformed manifest
 *   -ENOSPC        disk full while unpacking
 *   -EIO           any other failure status from the registry (5xx...)
 *   -EINVAL        malformed reference */
int cn_image_pull(cn_image_store *s, const char *ref, const char *const *dockercfgs,
                  size_t ndockercfgs, bool only_if_missing, cn_image **out, cn_err *err);

/* Local lookup only; -ENOENT when not present. */
int cn_image_get(cn_image_store *s, const char *ref, cn_image **out, cn_err *err);
void cn_image_free(cn_image *img);

/* Load an OCI image layout archive (tar, as `skopeo copy ... oci-archive:F`
 * writes) or docker-archive; every image in it gets the refs its index names
 * (org.opencontainers.image.ref.name, normalised; a docker-archive's
 * RepoTags). Every blob is verified (-EBADMSG). *names_out (may be NULL)
 * receives a malloc'd NULL-terminated array of the refs loaded. */
int cn_image_import(cn_image_store *s, const char *path, char ***names_out, cn_err *err);

/* Every image: malloc'd array of cn_image (free each with cn_image_free
 * semantics via cn_image_list_free). */
int cn_image_list(cn_image_store *s, cn_image ***out, size_t *n, cn_err *err);
void cn_image_list_free(cn_image **imgs, size_t n);

/* Forget ref; its blobs/layers go at the next gc. */
int cn_image_remove(cn_image_store *s, const char *ref, cn_err *err);

/* Delete images not in in_use (image IDs), least recently used first, until
 * at least want_bytes are freed (0 = every unused image), then unreferenced
 * blobs and layers. *freed gets the bytes freed. */
int cn_image_gc(cn_image_store *s, const char *const *in_use, size_t nin_use,
                uint64_t want_bytes, uint64_t *freed, cn_err *err);

/* Delete only the images no reference names (after cn_image_remove, or
 * imported unnamed) and not in in_use, then unreferenced blobs and layers:
 * `cairn image prune`. */
int cn_image_prune(cn_image_store *s, const char *const *in_use, size_t nin_use, uint64_t *freed,
                   cn_err *err);

/* Bytes used by the store and free on its filesystem. */
int cn_image_disk_usage(cn_image_store *s, uint64_t *used, uint64_t *avail);

#endif
