/* jwt: RS256 JSON Web Tokens with OpenSSL 3 (see jwt.h). */
#include "lib/jwt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/base64.h"
#include "lib/util.h"

#define MAX_TOKEN (64 * 1024)

char *cn_base64url(const void *data, size_t len)
{
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, data, len);
    if (!b.data) cn_buf_adds(&b, "");
    while (b.len && b.data[b.len - 1] == '=') b.data[--b.len] = '\0';
    for (char *c = b.data; *c; c++) *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return cn_buf_detach(&b, NULL);
}

int cn_base64url_decode(const char *s, size_t n, size_t max, char **out, size_t *len)
{
    char *t = cn_strndup(s, n);
    for (char *c = t; *c; c++) {
        if (*c == '+' || *c == '/' || *c == '=') {     /* not of the URL alphabet */
            free(t);
            return -EINVAL;
        }
        *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    }
    int r = cn_base64_decode(t, n, max, out, len);
    free(t);
    return r;
}

/* A private key, else a public key, from PEM. */
static EVP_PKEY *load_key(const char *pem, bool *is_private)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    *is_private = k != NULL;
    if (!k && b) {
        BIO_free(b);
        b = BIO_new_mem_buf(pem, -1);
        k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    }
    BIO_free(b);
    return k;
}

int cn_jwt_key_id(const char *key_pem, char **kid, cn_err *err)
{
    bool priv;
    EVP_PKEY *k = key_pem ? load_key(key_pem, &priv) : NULL;
    if (!k) return cn_err_internal(err, "the service-account key is not a PEM key");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    EVP_PKEY_free(k);
    if (n <= 0) return cn_err_internal(err, "cannot encode the service-account public key");
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    *kid = cn_base64url(md, mdlen);
    return 0;
}

int cn_jwt_sign_rs256(const char *key_pem, const char *kid, const json_t *claims,
                      char **token, cn_err *err)
{
    bool priv = false;
    EVP_PKEY *k = key_pem ? load_key(key_pem, &priv) : NULL;
    if (!k || !priv || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        return cn_err_internal(err, "the service-account signing key is not an RSA private key");
    }
    json_t *hdr = kid ? json_pack("{s:s,s:s}", "alg", "RS256", "kid", kid) : json_pack("{s:s}", "alg", "RS256");
    char *h = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *c = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(hdr);
    char *h64 = cn_base64url(h, strlen(h)), *c64 = cn_base64url(c, strlen(c));
    char *input = cn_asprintf("%s.%s", h64, c64);
    free(h);
    free(c);
    free(h64);
    free(c64);
    int r = 0;
    size_t siglen = 0;
    unsigned char *sig = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
        r = cn_err_internal(err, "signing the token failed");
    } else {
        sig = cn_malloc(siglen);
        if (EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1)
            r = cn_err_internal(err, "signing the token failed");
    }
    if (r == 0) {
        char *s64 = cn_base64url(sig, siglen);
        *token = cn_asprintf("%s.%s", input, s64);
        free(s64);
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    free(sig);
    free(input);
    return r;
}

int cn_jwt_verify_rs256(const char *key_pem, const char *token, json_t **claims, cn_err *err)
{
    const char *d1 = token ? strchr(token, '.') : NULL, *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.') || strlen(token) > MAX_TOKEN)
        return cn_err_invalid(err, "not a JWT");
    char *hraw = NULL, *craw = NULL, *sig = NULL;
    size_t hlen, clen, slen;
    json_t *hdr = NULL, *cl = NULL;
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *md = NULL;
    bool priv;
    int r = -EINVAL;
    if (cn_base64url_decode(token, (size_t)(d1 - token), MAX_TOKEN, &hraw, &hlen) < 0 ||
        cn_base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), MAX_TOKEN, &craw, &clen) < 0 ||
        cn_base64url_decode(d2 + 1, strlen(d2 + 1), MAX_TOKEN, &sig, &slen) < 0) {
        cn_err_invalid(err, "malformed JWT encoding");
        goto out;
    }
    hdr = json_loadb(hraw, hlen, 0, NULL);
    cl = json_loadb(craw, clen, 0, NULL);
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    if (!json_is_object(cl) || !alg || strcmp(alg, "RS256")) {
        cn_err_invalid(err, "JWT is not an RS256 token with a claims object");
        goto out;
    }
    k = key_pem ? load_key(key_pem, &priv) : NULL;
    md = EVP_MD_CTX_new();
    if (!k || !md || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) != 1 ||
        EVP_DigestVerify(md, (const unsigned char *)sig, slen, (const unsigned char *)token, (size_t)(d2 - token)) != 1) {
        cn_err_invalid(err, "JWT signature is invalid");
        goto out;
    }
    *claims = cl;
    cl = NULL;
    r = 0;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    json_decref(hdr);
    json_decref(cl);
    free(hraw);
    free(craw);
    free(sig);
    return r;
}
