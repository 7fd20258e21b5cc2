/* jwt: JSON Web Tokens signed with RS256 (RFC 7515/7519), the form of
 * Kubernetes service account tokens: the API server signs TokenRequests
 * with pki/sa.key; the same key's public half verifies them. */
#ifndef CN_JWT_H
#define CN_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/err.h"

/* base64url without padding (RFC 4648 §5) of len bytes; malloc'd. */
char *cn_base64url(const void *data, size_t len);
/* Its inverse for n characters (padding refused); as cn_base64_decode. */
int cn_base64url_decode(const char *s, size_t n, size_t max, char **out, size_t *len);

/* The key ID upstream gives a signing key: base64url(sha256(DER of the
 * public key)). key_pem: the private key or public key PEM. malloc'd. */
int cn_jwt_key_id(const char *key_pem, char **kid, cn_err *err);

/* "<header>.<claims>.<signature>" with header {"alg":"RS256","kid":kid}
 * (kid may be NULL) over claims, signed with the RSA private key PEM. */
int cn_jwt_sign_rs256(const char *key_pem, const char *kid, const json_t *claims,
                      char **token, cn_err *err);

/* Check token's RS256 signature with the public (or private) key PEM;
 * on success *claims is the payload (new reference). Expiry is the
 * caller's to check. -EINVAL (err set) when malformed or not signed by key. */
int cn_jwt_verify_rs256(const char *key_pem, const char *token, json_t **claims, cn_err *err);

#endif
