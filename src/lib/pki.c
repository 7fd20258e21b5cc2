/* pki: the cluster CA and its certificates (OpenSSL 3), the service-account
 * signing key, join tokens, the kubeconfig writer, and whole-file read /
 * atomic write helpers.
 *
 * Certificates are made for two strict readers: GnuTLS (our server) and Go's
 * crypto/x509 (kubectl). Hence: X.509 v3, positive 128-bit serials, SHA-256
 * signatures, SKI/AKI on every certificate, critical basicConstraints and
 * keyUsage, and an extendedKeyUsage on every leaf. */
#define _GNU_SOURCE   /* mkostemp */
#include "lib/pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/util.h"

#define CA_DAYS 3650
#define LEAF_DAYS 365
#define RENEW_BEFORE_S (30 * 24 * 3600)
#define MAX_FILE ((size_t)64 << 20)
#define MAX_SANS 256
#define SA_KEY_BITS 2048

enum cert_kind { CERT_CA, CERT_SERVER, CERT_CLIENT };

/* ---- files ---- */

int cn_read_file(const char *path, char **out, size_t *len, cn_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int r = -errno;
        cn_err_internal(err, "cannot open \"%s\": %s", path, strerror(-r));
        return r;
    }
    cn_buf b;
    cn_buf_init(&b);
    char chunk[16384];
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r = -errno;
            cn_err_internal(err, "cannot read \"%s\": %s", path, strerror(-r));
            break;
        }
        if (n == 0) break;
        if (b.len + (size_t)n > MAX_FILE) {
            r = -EFBIG;
            cn_err_internal(err, "\"%s\" is larger than %zu bytes", path, MAX_FILE);
            break;
        }
        cn_buf_add(&b, chunk, (size_t)n);
    }
    close(fd);
    if (r < 0) {
        cn_buf_release(&b);
        return r;
    }
    if (!b.data) cn_buf_add(&b, "", 0);
    *out = cn_buf_detach(&b, len);
    return 0;
}

int cn_write_file_atomic(const char *path, const char *data, size_t len, int mode,
                         cn_err *err)
{
    char *tmp = cn_asprintf("%s.tmp-XXXXXX", path);
    int r = 0;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        cn_err_internal(err, "cannot create a temporary file next to \"%s\": %s", path,
                        strerror(-r));
        free(tmp);
        return r;
    }
    if (fchmod(fd, (mode_t)mode) < 0) goto fail_errno;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto fail_errno;
        off += (size_t)n;
    }
    if (fsync(fd) < 0) goto fail_errno;
    if (close(fd) < 0) {
        fd = -1;
        goto fail_errno;
    }
    fd = -1;
    if (rename(tmp, path) < 0) goto fail_errno;
    /* Make the rename itself durable. */
    char *dir = cn_strdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, 2, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
    free(tmp);
    return 0;
fail_errno:
    r = -errno;
    cn_err_internal(err, "cannot write \"%s\": %s", path, strerror(-r));
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    return r;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int ensure_dir(const char *path, cn_err *err)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    int r = -errno;
    cn_err_internal(err, "cannot create directory \"%s\": %s", path, strerror(-r));
    return r;
}

/* ---- OpenSSL helpers ---- */

static int ossl_fail(cn_err *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    cn_err_internal(err, "pki: %s: %s", what, buf);
    return -EIO;
}

static char *bio_take(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *s = n > 0 ? cn_strndup(data, (size_t)n) : NULL;
    BIO_free(b);
    return s;
}

static char *cert_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, x)) {
        BIO_free(b);
        return NULL;
    }
    return bio_take(b);
}

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(b);
        return NULL;
    }
    return bio_take(b);
}

static X509 *parse_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *parse_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

static char *pub_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PUBKEY(b, k)) {
        BIO_free(b);
        return NULL;
    }
    return bio_take(b);
}

static EVP_PKEY *parse_pub(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!e) return -1;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* A SAN entry: an IP if it parses as one, else a DNS name. */
typedef struct san {
    bool ip;
    unsigned char addr[16];
    int addrlen;
    const char *dns;
} san;

static int parse_san(const char *s, san *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->addr) == 1) {
        out->ip = true;
        out->addrlen = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->addr) == 1) {
        out->ip = true;
        out->addrlen = 16;
        return 0;
    }
    size_t n = strlen(s);
    if (n == 0 || n > 253) return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '.' || c == '-' || c == '_' || c == '*' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return -EINVAL;
    }
    out->dns = s;
    return 0;
}

static int add_sans(X509 *x, const san *sans, size_t n)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int r = -1;
    if (!gens) return -1;
    for (size_t i = 0; i < n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        if (!g) goto out;
        if (sans[i].ip) {
            ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
            if (!o || !ASN1_OCTET_STRING_set(o, sans[i].addr, sans[i].addrlen)) {
                ASN1_OCTET_STRING_free(o);
                GENERAL_NAME_free(g);
                goto out;
            }
            GENERAL_NAME_set0_value(g, GEN_IPADD, o);
        } else {
            ASN1_IA5STRING *s = ASN1_IA5STRING_new();
            if (!s || !ASN1_STRING_set(s, sans[i].dns, (int)strlen(sans[i].dns))) {
                ASN1_IA5STRING_free(s);
                GENERAL_NAME_free(g);
                goto out;
            }
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
        }
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            goto out;
        }
    }
    r = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
out:
    GENERAL_NAMES_free(gens);
    return r;
}

static int set_serial(X509 *x)
{
    unsigned char b[16];
    cn_random(b, sizeof b);
    b[0] &= 0x7f;   /* positive */
    b[0] |= 0x01;   /* and never zero */
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    if (!bn) return -1;
    ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    if (!ai) return -1;
    int ok = X509_set_serialNumber(x, ai);
    ASN1_INTEGER_free(ai);
    return ok ? 0 : -1;
}

/* Issue a certificate for key. issuer/issuer_key NULL: self-signed. */
static X509 *make_cert(enum cert_kind kind, const char *cn, const char *const *orgs,
                       size_t norgs, int days, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, const san *sans, size_t nsans)
{
    X509 *x = X509_new();
    if (!x) return NULL;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, 2) || set_serial(x) < 0) goto fail;
    /* An hour of slack for clocks that are a little behind ours. */
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL))
        goto fail;
    for (size_t i = 0; i < norgs; i++)
        if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                        (const unsigned char *)orgs[i], -1, -1, 0))
            goto fail;
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
                                    -1, -1, 0))
        goto fail;
    if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name)) goto fail;
    if (!X509_set_pubkey(x, key)) goto fail;

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    if (add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0) goto fail;
    if (add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0) goto fail;
    switch (kind) {
    case CERT_CA:
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") < 0)
            goto fail;
        break;
    case CERT_SERVER:
    case CERT_CLIENT:
        if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_ext(x, &ctx, NID_ext_key_usage,
                    kind == CERT_SERVER ? "serverAuth" : "clientAuth") < 0)
            goto fail;
        break;
    }
    if (nsans && add_sans(x, sans, nsans) < 0) goto fail;
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* A fresh key and a certificate for it, as PEM text. */
static int issue(enum cert_kind kind, const char *cn, const char *const *orgs, size_t norgs,
                 int days, X509 *ca, EVP_PKEY *ca_key, const san *sans, size_t nsans,
                 char **crt_out, char **key_out, cn_err *err)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) return ossl_fail(err, "generating a P-256 key");
    X509 *x = make_cert(kind, cn, orgs, norgs, days, key, ca, ca_key, sans, nsans);
    if (!x) {
        EVP_PKEY_free(key);
        return ossl_fail(err, "issuing a certificate");
    }
    *crt_out = cert_pem(x);
    *key_out = key_pem(key);
    X509_free(x);
    EVP_PKEY_free(key);
    if (!*crt_out || !*key_out) {
        free(*crt_out);
        free(*key_out);
        *crt_out = *key_out = NULL;
        return ossl_fail(err, "encoding PEM");
    }
    return 0;
}

/* ---- checks on existing certificates ---- */

static bool expires_soon(X509 *x)
{
    time_t limit = time(NULL) + RENEW_BEFORE_S;
    return X509_cmp_time(X509_get0_notAfter(x), &limit) <= 0;
}

static bool covers_sans(X509 *x, const san *want, size_t n)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!gens) return n == 0;
    bool all = true;
    for (size_t i = 0; i < n && all; i++) {
        bool found = false;
        for (int j = 0; j < sk_GENERAL_NAME_num(gens) && !found; j++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);
            if (want[i].ip && g->type == GEN_IPADD) {
                const ASN1_OCTET_STRING *o = g->d.iPAddress;
                found = ASN1_STRING_length(o) == want[i].addrlen &&
                        memcmp(ASN1_STRING_get0_data(o), want[i].addr,
                               (size_t)want[i].addrlen) == 0;
            } else if (!want[i].ip && g->type == GEN_DNS) {
                const ASN1_IA5STRING *s = g->d.dNSName;
                size_t l = strlen(want[i].dns);
                found = (size_t)ASN1_STRING_length(s) == l &&
                        strncasecmp((const char *)ASN1_STRING_get0_data(s), want[i].dns, l) == 0;
            }
        }
        all = found;
    }
    GENERAL_NAMES_free(gens);
    return all;
}

/* The PEM pair is usable: parses, matches, was signed by
 * ca (when given), and is not about to expire. */
static bool pair_ok(const char *crt_pem, const char *key_pem_s, EVP_PKEY *ca_key, X509 **out)
{
    X509 *x = parse_cert(crt_pem);
    EVP_PKEY *k = parse_key(key_pem_s);
    bool ok = x && k && X509_check_private_key(x, k) == 1 && !expires_soon(x) &&
              (!ca_key || X509_verify(x, ca_key) == 1);
    EVP_PKEY_free(k);
    ERR_clear_error();
    if (ok && out) *out = x;
    else X509_free(x);
    return ok;
}

/* ---- cn_pki_ensure ---- */

static int load_pair(const char *crt_path, const char *key_path, char **crt, char **key)
{
    size_t n;
    if (!file_exists(crt_path) || !file_exists(key_path)) return -ENOENT;
    if (cn_read_file(crt_path, crt, &n, NULL) < 0) return -EIO;
    if (cn_read_file(key_path, key, &n, NULL) < 0) {
        free(*crt);
        *crt = NULL;
        return -EIO;
    }
    return 0;
}

static int save_pair(const char *crt_path, const char *key_path, const char *crt,
                     const char *key, cn_err *err)
{
    /* Key first: a certificate on disk always has its key beside it. */
    int r = cn_write_file_atomic(key_path, key, strlen(key), 0600, err);
    if (r < 0) return r;
    return cn_write_file_atomic(crt_path, crt, strlen(crt), 0600, err);
}

static void add_want(san *want, size_t *n, const char *s)
{
    san v;
    if (*n >= MAX_SANS || parse_san(s, &v) < 0) return;
    for (size_t i = 0; i < *n; i++) {
        if (want[i].ip != v.ip) continue;
        if (v.ip && want[i].addrlen == v.addrlen && memcmp(want[i].addr, v.addr, 16) == 0) return;
        if (!v.ip && strcasecmp(want[i].dns, v.dns) == 0) return;
    }
    want[(*n)++] = v;
}

/* The service-account signing key: made once, then reused; sa.pub is
 * always derived from sa.key so the two cannot disagree. */
static int ensure_sa(const char *pkidir, cn_pki *p, cn_err *err)
{
    char *keyp = cn_asprintf("%s/sa.key", pkidir), *pubp = cn_asprintf("%s/sa.pub", pkidir);
    EVP_PKEY *k = NULL;
    char *stored_pub = NULL;
    size_t n;
    int r = 0;
    if (file_exists(keyp)) {
        if ((r = cn_read_file(keyp, &p->sa_key_pem, &n, err)) < 0) goto out;
        k = parse_key(p->sa_key_pem);
        if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
            r = ossl_fail(err, "pki/sa.key is not an RSA private key");
            goto out;
        }
    } else {
        k = EVP_RSA_gen(SA_KEY_BITS);
        if (!k) {
            r = ossl_fail(err, "generating the service-account key");
            goto out;
        }
        p->sa_key_pem = key_pem(k);
        if (!p->sa_key_pem) {
            r = ossl_fail(err, "encoding the service-account key");
            goto out;
        }
        if ((r = cn_write_file_atomic(keyp, p->sa_key_pem, strlen(p->sa_key_pem), 0600,
                                      err)) < 0)
            goto out;
    }
    p->sa_pub_pem = pub_pem(k);
    if (!p->sa_pub_pem) {
        r = ossl_fail(err, "encoding the service-account public key");
        goto out;
    }
    if (!file_exists(pubp) || cn_read_file(pubp, &stored_pub, &n, NULL) < 0 ||
        strcmp(stored_pub, p->sa_pub_pem) != 0)
        r = cn_write_file_atomic(pubp, p->sa_pub_pem, strlen(p->sa_pub_pem), 0644, err);
out:
    EVP_PKEY_free(k);
    free(stored_pub);
    free(keyp);
    free(pubp);
    return r;
}

int cn_pki_ensure(const char *dir, const char *const *sans, size_t nsans,
                  cn_pki *out, cn_err *err)
{
    static const char *const fixed[] = {
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local", "127.0.0.1", "::1",
    };
    static const char *const masters[] = { "system:masters" };
    cn_pki p = { 0 };
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    char *pkidir = cn_asprintf("%s/pki", dir);
    char *ca_crt = cn_asprintf("%s/ca.crt", pkidir), *ca_keyp = cn_asprintf("%s/ca.key", pkidir);
    char *srv_crt = cn_asprintf("%s/server.crt", pkidir);
    char *srv_key = cn_asprintf("%s/server.key", pkidir);
    char *adm_crt = cn_asprintf("%s/admin.crt", pkidir);
    char *adm_key = cn_asprintf("%s/admin.key", pkidir);
    san *want = cn_calloc(MAX_SANS, sizeof *want);
    size_t nwant = 0;
    char host[HOST_NAME_MAX + 1] = "";
    int r;

    for (size_t i = 0; i < nsans; i++) {
        san v;
        const char *s = sans[i];
        if (!s || !*s) continue;
        if (parse_san(s, &v) < 0) {
            r = cn_err_bad_request(err, "pki: \"%s\" is neither an IP address nor a DNS name", s);
            goto out;
        }
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) add_want(want, &nwant, fixed[i]);
    if (gethostname(host, sizeof host - 1) == 0 && host[0]) add_want(want, &nwant, host);
    for (size_t i = 0; i < nsans; i++)
        if (sans[i] && *sans[i]) add_want(want, &nwant, sans[i]);

    if ((r = ensure_dir(dir, err)) < 0 || (r = ensure_dir(pkidir, err)) < 0) goto out;

    /* The CA: never replaced once it exists, every credential hangs off it. */
    r = load_pair(ca_crt, ca_keyp, &p.ca_cert_pem, &p.ca_key_pem);
    if (r == -ENOENT) {
        if (file_exists(ca_crt) || file_exists(ca_keyp)) {
            r = cn_err_internal(err, "pki: \"%s\" holds only half of the CA pair", pkidir);
            goto out;
        }
        ca_key = EVP_EC_gen("P-256");
        if (!ca_key) {
            r = ossl_fail(err, "generating the CA key");
            goto out;
        }
        ca = make_cert(CERT_CA, "cairn-ca", NULL, 0, CA_DAYS, ca_key, NULL, NULL, NULL, 0);
        if (!ca) {
            r = ossl_fail(err, "issuing the CA certificate");
            goto out;
        }
        p.ca_cert_pem = cert_pem(ca);
        p.ca_key_pem = key_pem(ca_key);
        if (!p.ca_cert_pem || !p.ca_key_pem) {
            r = ossl_fail(err, "encoding the CA");
            goto out;
        }
        if ((r = save_pair(ca_crt, ca_keyp, p.ca_cert_pem, p.ca_key_pem, err)) < 0) goto out;
    } else if (r < 0) {
        r = cn_err_internal(err, "pki: cannot read the CA in \"%s\"", pkidir);
        goto out;
    } else {
        ca = parse_cert(p.ca_cert_pem);
        ca_key = parse_key(p.ca_key_pem);
        if (!ca || !ca_key || X509_check_private_key(ca, ca_key) != 1) {
            r = ossl_fail(err, "the CA in pki/ca.crt and pki/ca.key is unusable");
            goto out;
        }
    }

    if ((r = ensure_sa(pkidir, &p, err)) < 0) goto out;

    X509 *srv = NULL;
    bool reuse = load_pair(srv_crt, srv_key, &p.server_cert_pem, &p.server_key_pem) == 0 &&
                 pair_ok(p.server_cert_pem, p.server_key_pem, ca_key, &srv) &&
                 covers_sans(srv, want, nwant);
    X509_free(srv);
    if (!reuse) {
        free(p.server_cert_pem);
        free(p.server_key_pem);
        p.server_cert_pem = p.server_key_pem = NULL;
        r = issue(CERT_SERVER, "cairn-server", NULL, 0, LEAF_DAYS, ca, ca_key, want, nwant,
                  &p.server_cert_pem, &p.server_key_pem, err);
        if (r < 0 || (r = save_pair(srv_crt, srv_key, p.server_cert_pem, p.server_key_pem,
                                    err)) < 0)
            goto out;
    }

    reuse = load_pair(adm_crt, adm_key, &p.admin_cert_pem, &p.admin_key_pem) == 0 &&
            pair_ok(p.admin_cert_pem, p.admin_key_pem, ca_key, NULL);
    if (!reuse) {
        free(p.admin_cert_pem);
        free(p.admin_key_pem);
        p.admin_cert_pem = p.admin_key_pem = NULL;
        r = issue(CERT_CLIENT, "cairn-admin", masters, 1, LEAF_DAYS, ca, ca_key, NULL, 0,
                  &p.admin_cert_pem, &p.admin_key_pem, err);
        if (r < 0 || (r = save_pair(adm_crt, adm_key, p.admin_cert_pem, p.admin_key_pem,
                                    err)) < 0)
            goto out;
    }
    *out = p;
    memset(&p, 0, sizeof p);
    r = 0;
out:
    cn_pki_release(&p);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(want);
    free(pkidir);
    free(ca_crt);
    free(ca_keyp);
    free(srv_crt);
    free(srv_key);
    free(adm_crt);
    free(adm_key);
    return r;
}

void cn_pki_release(cn_pki *p)
{
    if (!p) return;
    free(p->ca_cert_pem);
    free(p->ca_key_pem);
    free(p->server_cert_pem);
    free(p->server_key_pem);
    free(p->admin_cert_pem);
    free(p->admin_key_pem);
    free(p->sa_key_pem);
    free(p->sa_pub_pem);
    memset(p, 0, sizeof *p);
}

int cn_pki_issue_client(const cn_pki *p, const char *cn, const char *const *orgs,
                        size_t norgs, int days, char **cert_pem_out, char **key_pem_out,
                        cn_err *err)
{
    if (!p || !p->ca_cert_pem || !p->ca_key_pem || !cn || !*cn || days <= 0)
        return cn_err_bad_request(err, "pki: a client certificate needs a CA, a name and a lifetime");
    X509 *ca = parse_cert(p->ca_cert_pem);
    EVP_PKEY *ca_key = parse_key(p->ca_key_pem);
    int r;
    if (!ca || !ca_key) r = ossl_fail(err, "parsing the CA");
    else r = issue(CERT_CLIENT, cn, orgs, norgs, days, ca, ca_key, NULL, 0, cert_pem_out,
                   key_pem_out, err);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return r;
}

int cn_pki_self_signed(const char *cn, const char *const *sans, size_t nsans, int days,
                       char **cert_pem_out, char **key_pem_out, cn_err *err)
{
    san want[16];
    size_t n = 0;
    if (!cn || !*cn || days <= 0)
        return cn_err_bad_request(err, "pki: a serving certificate needs a name and a lifetime");
    for (size_t i = 0; i < nsans && n < sizeof want / sizeof *want; i++)
        if (sans[i] && *sans[i] && parse_san(sans[i], &want[n]) == 0) n++;
    return issue(CERT_SERVER, cn, NULL, 0, days, NULL, NULL, want, n, cert_pem_out, key_pem_out,
                 err);
}

int cn_pki_install(const char *dir, const char *ca_crt, const char *ca_key,
                   const char *sa_key, const char *sa_pub, cn_err *err)
{
    X509 *ca = parse_cert(ca_crt);
    EVP_PKEY *cak = parse_key(ca_key), *sak = parse_key(sa_key), *sap = parse_pub(sa_pub);
    char *pkidir = cn_asprintf("%s/pki", dir);
    int r;
    if (!ca || !cak || X509_check_private_key(ca, cak) != 1) {
        r = cn_err_bad_request(err, "pki: the fetched CA certificate and key do not match");
        goto out;
    }
    if (!sak || !sap || EVP_PKEY_get_base_id(sak) != EVP_PKEY_RSA || EVP_PKEY_eq(sak, sap) != 1) {
        r = cn_err_bad_request(err, "pki: the fetched service-account key pair is unusable");
        goto out;
    }
    if ((r = ensure_dir(dir, err)) < 0 || (r = ensure_dir(pkidir, err)) < 0) goto out;
    /* ca.crt last: until it is there, a restart fetches everything again. */
    static const char *const names[] = { "sa.key", "sa.pub", "ca.key", "ca.crt" };
    const char *data[] = { sa_key, sa_pub, ca_key, ca_crt };
    for (size_t i = 0; i < 4 && r >= 0; i++) {
        char *path = cn_asprintf("%s/%s", pkidir, names[i]);
        r = cn_write_file_atomic(path, data[i], strlen(data[i]), i == 1 ? 0644 : 0600, err);
        free(path);
    }
out:
    ERR_clear_error();
    X509_free(ca);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(sak);
    EVP_PKEY_free(sap);
    free(pkidir);
    return r;
}

/* ---- join tokens ---- */

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void cn_pki_ca_hash(const char *ca_pem, char out[CN_TOKEN_HASH_LEN + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)ca_pem, strlen(ca_pem), md);
    hex(md, sizeof md, out);
}

/* A secret is sent in an HTTP header and stored in a file: printable,
 * no spaces, and no ':' so the token's fields stay unambiguous. */
static bool secret_ok(const char *s, size_t n)
{
    if (n == 0 || n > CN_TOKEN_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':') return false;
    return true;
}

int cn_token_parse(const char *token, char ca_hash[CN_TOKEN_HASH_LEN + 1],
                   char secret[CN_TOKEN_MAX + 1], cn_err *err)
{
    ca_hash[0] = secret[0] = '\0';
    if (!token) return cn_err_bad_request(err, "token: empty");
    size_t n = strnlen(token, CN_TOKEN_MAX + 1);
    while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r')) n--;   /* from a file */
    if (n > CN_TOKEN_MAX) return cn_err_bad_request(err, "token: longer than %d bytes", CN_TOKEN_MAX);
    const char *sep = n >= 2 ? memmem(token, n, "::", 2) : NULL;
    if (!sep) {
        if (!secret_ok(token, n))
            return cn_err_bad_request(err, "token: want K10<ca hash>::server:<secret> or a secret "
                                      "of printable characters without spaces or ':'");
        memcpy(secret, token, n);
        secret[n] = '\0';
        return 0;
    }
    size_t plen = strlen(CN_TOKEN_PREFIX);
    if ((size_t)(sep - token) != plen + CN_TOKEN_HASH_LEN || memcmp(token, CN_TOKEN_PREFIX, plen) != 0)
        return cn_err_bad_request(err, "token: want K10 and a 64-digit hex CA hash before \"::\"");
    for (size_t i = plen; i < plen + CN_TOKEN_HASH_LEN; i++)
        if (!isxdigit((unsigned char)token[i]))
            return cn_err_bad_request(err, "token: the CA hash is not hexadecimal");
    const char *rest = sep + 2, *end = token + n;
    size_t ulen = strlen("server:");
    if ((size_t)(end - rest) <= ulen || memcmp(rest, "server:", ulen) != 0 ||
        !secret_ok(rest + ulen, (size_t)(end - rest) - ulen))
        return cn_err_bad_request(err, "token: want \"server:<secret>\" after \"::\"");
    for (size_t i = 0; i < CN_TOKEN_HASH_LEN; i++)
        ca_hash[i] = (char)tolower((unsigned char)token[plen + i]);
    ca_hash[CN_TOKEN_HASH_LEN] = '\0';
    memcpy(secret, rest + ulen, (size_t)(end - rest) - ulen);
    secret[(size_t)(end - rest) - ulen] = '\0';
    return 0;
}

char *cn_token_format(const char *ca_pem, const char *secret)
{
    char h[CN_TOKEN_HASH_LEN + 1];
    cn_pki_ca_hash(ca_pem, h);
    return cn_asprintf(CN_TOKEN_PREFIX "%s::server:%s", h, secret);
}

int cn_token_ensure(const char *dir, const char *ca_pem, const char *given, char **out,
                    cn_err *err)
{
    char *path = cn_asprintf("%s/token", dir), *stored = NULL, *token = NULL;
    char want[CN_TOKEN_HASH_LEN + 1], h[CN_TOKEN_HASH_LEN + 1], secret[CN_TOKEN_MAX + 1];
    size_t n;
    int r;
    cn_pki_ca_hash(ca_pem, want);
    if (!given && file_exists(path)) {
        if ((r = cn_read_file(path, &stored, &n, err)) < 0) goto out;
        given = stored;
    }
    if (given) {
        if ((r = cn_token_parse(given, h, secret, err)) < 0) {
            cn_err_wrap(err, "%s", stored ? path : "--token");
            goto out;
        }
        if (h[0] && strcmp(h, want) != 0) {
            r = cn_err_bad_request(err, "%s: the token's CA hash is not the hash of this "
                                   "server's CA (pki/ca.crt)", stored ? path : "--token");
            goto out;
        }
    } else {
        unsigned char b[16];
        cn_random(b, sizeof b);
        hex(b, sizeof b, secret);
    }
    token = cn_token_format(ca_pem, secret);
    if (!stored || strcmp(stored, token) != 0) {
        r = cn_write_file_atomic(path, token, strlen(token), 0600, err);
        if (r < 0) goto out;
    }
    *out = CN_TAKE_PTR(token);
    r = 0;
out:
    OPENSSL_cleanse(secret, sizeof secret);
    free(token);
    free(stored);
    free(path);
    return r;
}

bool cn_secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* ---- kubeconfig ---- */

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = cn_malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

/* A YAML double-quoted scalar: JSON string syntax is valid YAML. */
static char *yq(const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return q ? q : cn_strdup("\"\"");
}

char *cn_kubeconfig_render(const char *name, const char *server_url, const char *ca_pem,
                           const char *cert_pem_s, const char *key_pem_s)
{
    char *n = yq(name), *url = yq(server_url);
    char *ca = b64(ca_pem), *crt = b64(cert_pem_s), *key = b64(key_pem_s);
    cn_buf b;
    cn_buf_init(&b);
    cn_buf_addf(&b,
                "apiVersion: v1\n"
                "kind: Config\n"
                "clusters:\n"
                "- name: %s\n"
                "  cluster:\n"
                "    server: %s\n"
                "    certificate-authority-data: %s\n"
                "contexts:\n"
                "- name: %s\n"
                "  context:\n"
                "    cluster: %s\n"
                "    user: %s\n"
                "current-context: %s\n"
                "users:\n"
                "- name: %s\n"
                "  user:\n"
                "    client-certificate-data: %s\n"
                "    client-key-data: %s\n"
                "preferences: {}\n",
                n, url, ca, n, n, n, n, n, crt, key);
    free(n);
    free(url);
    free(ca);
    free(crt);
    free(key);
    return cn_buf_detach(&b, NULL);
}

int cn_kubeconfig_write(const char *path, const char *name, const char *server_url,
                        const char *ca_pem, const char *cert_pem_s, const char *key_pem_s,
                        cn_err *err)
{
    if (!path || !name || !server_url || !ca_pem || !cert_pem_s || !key_pem_s)
        return cn_err_bad_request(err, "kubeconfig: missing field");
    char *text = cn_kubeconfig_render(name, server_url, ca_pem, cert_pem_s, key_pem_s);
    int r = cn_write_file_atomic(path, text, strlen(text), 0600, err);
    free(text);
    return r;
}
