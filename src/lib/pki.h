/* pki: the cluster's certificate authority and certificates (OpenSSL 3).
 *
 * cn_pki_ensure makes DIR/pki/{ca,server,admin}.{crt,key} on first start and
 * reuses them later; the serving certificate is reissued (same CA) when the
 * wanted SAN set is not covered by the existing one. Keys are ECDSA P-256,
 * files 0600. It also makes the service-account signing key pki/sa.key
 * (RSA 2048, 0600) and its public half pki/sa.pub (0644).
 *
 * The join token (k3s style) lets another server fetch the CA and the
 * service-account key: "K10<sha256 hex of ca.crt>::server:<secret>". The
 * hash pins the CA for a client that trusts nothing yet; the secret is the
 * bearer credential of the bootstrap endpoint. */
#ifndef CN_PKI_H
#define CN_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/err.h"

typedef struct cn_pki {
    char *ca_cert_pem;
    char *ca_key_pem;
    char *server_cert_pem;
    char *server_key_pem;
    char *admin_cert_pem;     /* CN=cairn-admin, O=system:masters */
    char *admin_key_pem;
    char *sa_key_pem;         /* service-account signing key, RSA 2048 */
    char *sa_pub_pem;         /* its public key (SubjectPublicKeyInfo PEM) */
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

/* A self-signed serving certificate (the agent's kubelet endpoint, which
 * the API server does not verify): sans are DNS names or IP literals. */
int cn_pki_self_signed(const char *cn, const char *const *sans, size_t nsans, int days,
                       char **cert_pem, char **key_pem, cn_err *err);

/* Write a kubeconfig (mode 0600) for server_url with embedded CA and
 * client credentials; cluster/context/user named `name`. */
int cn_kubeconfig_write(const char *path, const char *name, const char *server_url,
                        const char *ca_pem, const char *cert_pem, const char *key_pem,
                        cn_err *err);

/* The same kubeconfig YAML in memory (caller frees); every argument
 * non-NULL. */
char *cn_kubeconfig_render(const char *name, const char *server_url, const char *ca_pem,
                           const char *cert_pem, const char *key_pem);

/* Write a CA pair and a service-account key pair fetched from another
 * server into DIR/pki (atomic files, pki/ca.crt last), after checking that
 * each key matches its certificate or public key. */
int cn_pki_install(const char *dir, const char *ca_crt, const char *ca_key,
                   const char *sa_key, const char *sa_pub, cn_err *err);

/* ---- join tokens ---- */

#define CN_TOKEN_PREFIX "K10"
#define CN_TOKEN_HASH_LEN 64     /* hex sha256 */
#define CN_TOKEN_MAX 512

/* Lowercase hex sha256 of the CA's PEM text, as stored in ca.crt. */
void cn_pki_ca_hash(const char *ca_pem, char out[CN_TOKEN_HASH_LEN + 1]);
/* Split a token: the full form "K10<hash>::server:<secret>" gives both
 * parts; a bare secret gives ca_hash "" (out buffers filled, NUL-ended).
 * -EINVAL (err set, 400) on a malformed token. */
int cn_token_parse(const char *token, char ca_hash[CN_TOKEN_HASH_LEN + 1],
                   char secret[CN_TOKEN_MAX + 1], cn_err *err);
/* The full token for this CA and secret. Caller frees. */
char *cn_token_format(const char *ca_pem, const char *secret);
/* DIR/token (0600): with `given` (full or bare), the token made from it
 * (its hash must be this CA's); else the stored one, else a fresh secret
 * of 32 random hex characters. *out is the full token; caller frees. */
int cn_token_ensure(const char *dir, const char *ca_pem, const char *given, char **out,
                    cn_err *err);
/* Equality of two strings whose time depends on the lengths only. */
bool cn_secret_equal(const char *a, const char *b);

/* Read a whole file into a NUL-terminated string (caller frees). */
int cn_read_file(const char *path, char **out, size_t *len, cn_err *err);
/* Write atomically (temp file + fsync + rename) with the given mode. */
int cn_write_file_atomic(const char *path, const char *data, size_t len, int mode,
                         cn_err *err);

#endif
