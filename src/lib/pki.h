/* pki: the cluster's certificate authority and certificates (OpenSSL 3).
 *
 * cn_pki_ensure makes DIR/pki/{ca,server,admin}.{crt,key} on first start and
 * reuses them later; the serving certificate is reissued (same CA) when the
 * wanted SAN set is not covered by the existing one. Keys are ECDSA P-256,
 * files 0600. */
#ifndef CN_PKI_H
#define CN_PKI_H

#include <stddef.h>
#include "lib/err.h"

typedef struct cn_pki {
    char *ca_cert_pem;
    char *ca_key_pem;
    char *server_cert_pem;
    char *server_key_pem;
    char *admin_cert_pem;     /* CN=cairn-admin, O=system:masters */
    char *admin_key_pem;
} cn_pki;

/* sans: extra DNS names or IP literals for the serving certificate; the
 * server always adds localhost, 127.0.0.1, ::1 and the host name. */
int cn_pki_ensure(const char *dir, const char *const *sans, size_t nsans,
                  cn_pki *out, cn_err *err);
void cn_pki_release(cn_pki *p);

/* Issue a client certificate signed by the CA (CN = user, O = groups). */
int cn_pki_issue_client(const cn_pki *p, const char *cn, const char *const *orgs,
                        size_t norgs, int days, char **cert_pem, char **key_pem,
                        cn_err *err);

/* Write a kubeconfig (mode 0600) for server_url with embedded CA and
 * client credentials; cluster/context/user named `name`. */
int cn_kubeconfig_write(const char *path, const char *name, const char *server_url,
                        const char *ca_pem, const char *cert_pem, const char *key_pem,
                        cn_err *err);

/* Read a whole file into a NUL-terminated string (caller frees). */
int cn_read_file(const char *path, char **out, size_t *len, cn_err *err);
/* Write atomically (temp file + fsync + rename) with the given mode. */
int cn_write_file_atomic(const char *path, const char *data, size_t len, int mode,
                         cn_err *err);

#endif
