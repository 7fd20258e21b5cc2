/* Unit tests for pki: CA and certificate lifecycle, the service-account key,
 * join tokens, kubeconfig, file helpers. */
#include "lib/pki.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/util.h"
#include "test.h"

static char tmpdir[64];

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* Verifies leaf against ca for the given purpose; returns X509_V_OK on success. */
static int verify(const char *ca_pem, const char *leaf_pem, int purpose)
{
    X509 *ca = pem_cert(ca_pem), *leaf = pem_cert(leaf_pem);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_STORE_CTX_set_purpose(ctx, purpose);
    int ok = X509_verify_cert(ctx);
    int e = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    X509_free(ca);
    X509_free(leaf);
    return e;
}

static int has_san(const char *pem, const char *want)
{
    X509 *x = pem_cert(pem);
    int found = X509_check_host(x, want, 0, 0, NULL) == 1 || X509_check_ip_asc(x, want, 0) == 1;
    X509_free(x);
    return found;
}

static char *subject_field(const char *pem, int nid, int idx)
{
    X509 *x = pem_cert(pem);
    X509_NAME *n = X509_get_subject_name(x);
    int pos = -1;
    char *out = NULL;
    for (int i = 0; i <= idx; i++) {
        pos = X509_NAME_get_index_by_NID(n, nid, pos);
        if (pos < 0) break;
    }
    if (pos >= 0) {
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, pos));
        out = cn_strndup((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    }
    X509_free(x);
    return out;
}

static void test_ensure_creates_and_reuses(void)
{
    cn_err e = CN_ERR_INIT;
    cn_pki p = { 0 }, q = { 0 };
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &p, &e), 0);
    CHECK(p.ca_cert_pem && p.server_cert_pem && p.admin_key_pem);
    const char *files[] = { "ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key" };
    for (size_t i = 0; i < 6; i++) {
        char *f = cn_asprintf("%s/pki/%s", tmpdir, files[i]);
        CHECK_INT(file_mode(f), 0600);
        free(f);
    }
    char *d = cn_asprintf("%s/pki", tmpdir);
    CHECK_INT(file_mode(d), 0700);
    free(d);

    CHECK_INT(verify(p.ca_cert_pem, p.server_cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    CHECK_INT(verify(p.ca_cert_pem, p.admin_cert_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    /* The admin cert must not pass as a server cert, nor the server cert as a client. */
    CHECK(verify(p.ca_cert_pem, p.admin_cert_pem, X509_PURPOSE_SSL_SERVER) != X509_V_OK);
    CHECK(verify(p.ca_cert_pem, p.server_cert_pem, X509_PURPOSE_SSL_CLIENT) != X509_V_OK);
    CHECK(has_san(p.server_cert_pem, "localhost"));
    CHECK(has_san(p.server_cert_pem, "kubernetes.default.svc.cluster.local"));
    CHECK(has_san(p.server_cert_pem, "127.0.0.1"));
    CHECK(has_san(p.server_cert_pem, "::1"));
    CHECK(!has_san(p.server_cert_pem, "10.9.8.7"));

    char *cn = subject_field(p.admin_cert_pem, NID_commonName, 0);
    char *o = subject_field(p.admin_cert_pem, NID_organizationName, 0);
    CHECK_STR(cn, "cairn-admin");
    CHECK_STR(o, "system:masters");
    free(cn);
    free(o);

    /* Second call: every file reused as is. */
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &q, &e), 0);
    CHECK_STR(q.ca_cert_pem, p.ca_cert_pem);
    CHECK_STR(q.ca_key_pem, p.ca_key_pem);
    CHECK_STR(q.server_cert_pem, p.server_cert_pem);
    CHECK_STR(q.admin_cert_pem, p.admin_cert_pem);
    cn_pki_release(&p);
    cn_pki_release(&q);
    cn_err_clear(&e);
}

static void test_san_change_reissues_server(void)
{
    cn_err e = CN_ERR_INIT;
    cn_pki p = { 0 }, q = { 0 }, r = { 0 };
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &p, &e), 0);
    const char *sans[] = { "10.9.8.7", "api.example.test", "fd00::5" };
    CHECK_INT(cn_pki_ensure(tmpdir, sans, 3, &q, &e), 0);
    CHECK_STR(q.ca_cert_pem, p.ca_cert_pem);
    CHECK(strcmp(q.server_cert_pem, p.server_cert_pem) != 0);
    CHECK_STR(q.admin_cert_pem, p.admin_cert_pem);
    CHECK(has_san(q.server_cert_pem, "10.9.8.7"));
    CHECK(has_san(q.server_cert_pem, "api.example.test"));
    CHECK(has_san(q.server_cert_pem, "fd00::5"));
    CHECK(has_san(q.server_cert_pem, "localhost"));
    CHECK_INT(verify(q.ca_cert_pem, q.server_cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    /* A subset of what is covered: no reissue. */
    const char *sub[] = { "api.example.test" };
    CHECK_INT(cn_pki_ensure(tmpdir, sub, 1, &r, &e), 0);
    CHECK_STR(r.server_cert_pem, q.server_cert_pem);
    cn_pki_release(&r);
    /* A bad SAN is refused. */
    const char *bad[] = { "no spaces allowed" };
    CHECK(cn_pki_ensure(tmpdir, bad, 1, &r, &e) < 0);
    CHECK_INT(e.code, 400);
    cn_pki_release(&p);
    cn_pki_release(&q);
    cn_err_clear(&e);
}

static void test_issue_client(void)
{
    cn_err e = CN_ERR_INIT;
    cn_pki p = { 0 };
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &p, &e), 0);
    const char *orgs[] = { "devs", "ops" };
    char *crt = NULL, *key = NULL;
    CHECK_INT(cn_pki_issue_client(&p, "alice", orgs, 2, 7, &crt, &key, &e), 0);
    CHECK(crt && key);
    CHECK_INT(verify(p.ca_cert_pem, crt, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
    char *cn = subject_field(crt, NID_commonName, 0);
    char *o1 = subject_field(crt, NID_organizationName, 0);
    char *o2 = subject_field(crt, NID_organizationName, 1);
    CHECK_STR(cn, "alice");
    CHECK_STR(o1, "devs");
    CHECK_STR(o2, "ops");
    /* The key matches the certificate, and the serial is wide and positive. */
    X509 *x = pem_cert(crt);
    BIO *b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    CHECK(k && X509_check_private_key(x, k) == 1);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    CHECK(!BN_is_negative(bn) && BN_num_bits(bn) > 64);
    CHECK(X509_get_version(x) == 2);
    CHECK(X509_get0_subject_key_id(x) != NULL && X509_get0_authority_key_id(x) != NULL);
    BN_free(bn);
    EVP_PKEY_free(k);
    BIO_free(b);
    X509_free(x);
    free(cn);
    free(o1);
    free(o2);
    free(crt);
    free(key);
    CHECK(cn_pki_issue_client(&p, "", NULL, 0, 7, &crt, &key, &e) < 0);
    cn_pki_release(&p);
    cn_err_clear(&e);
}

static void test_kubeconfig_and_files(void)
{
    cn_err e = CN_ERR_INIT;
    char *path = cn_asprintf("%s/kubeconfig", tmpdir);
    CHECK_INT(cn_kubeconfig_write(path, "cairn", "https://127.0.0.1:6443", "CA", "CRT", "KEY", &e), 0);
    CHECK_INT(file_mode(path), 0600);
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(cn_read_file(path, &text, &len, &e), 0);
    CHECK(text && strlen(text) == len);
    CHECK(strstr(text, "server: \"https://127.0.0.1:6443\"") != NULL);
    CHECK(strstr(text, "certificate-authority-data: Q0E=") != NULL);
    CHECK(strstr(text, "client-certificate-data: Q1JU") != NULL);
    CHECK(strstr(text, "client-key-data: S0VZ") != NULL);
    CHECK(strstr(text, "current-context: \"cairn\"") != NULL);
    free(text);

    CHECK_INT(cn_write_file_atomic(path, "", 0, 0640, &e), 0);
    CHECK_INT(file_mode(path), 0640);
    CHECK_INT(cn_read_file(path, &text, &len, &e), 0);
    CHECK(text && len == 0 && text[0] == '\0');
    free(text);
    CHECK(cn_read_file("/nonexistent/x", &text, &len, &e) < 0);
    CHECK(cn_write_file_atomic("/nonexistent/x", "a", 1, 0600, &e) < 0);
    free(path);
    cn_err_clear(&e);
}

static char *slurp(const char *name)
{
    char *path = cn_asprintf("%s/%s", tmpdir, name), *text = NULL;
    size_t len;
    if (cn_read_file(path, &text, &len, NULL) < 0) text = NULL;
    free(path);
    return text;
}

static int mode_of(const char *name)
{
    char *path = cn_asprintf("%s/%s", tmpdir, name);
    int m = file_mode(path);
    free(path);
    return m;
}

static void test_sa_key(void)
{
    cn_err e = CN_ERR_INIT;
    cn_pki p = { 0 }, q = { 0 };
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &p, &e), 0);
    CHECK(p.sa_key_pem && p.sa_pub_pem);
    CHECK_INT(mode_of("pki/sa.key"), 0600);
    CHECK_INT(mode_of("pki/sa.pub"), 0644);
    char *k = slurp("pki/sa.key"), *pub = slurp("pki/sa.pub");
    CHECK_STR(k, p.sa_key_pem);
    CHECK_STR(pub, p.sa_pub_pem);
    free(k);
    free(pub);
    /* RSA 2048, and the public file is the key's public half. */
    BIO *b = BIO_new_mem_buf(p.sa_key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    b = BIO_new_mem_buf(p.sa_pub_pem, -1);
    EVP_PKEY *pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(key && pk);
    CHECK_INT(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
    CHECK_INT(EVP_PKEY_get_bits(key), 2048);
    CHECK_INT(EVP_PKEY_eq(key, pk), 1);
    EVP_PKEY_free(key);
    EVP_PKEY_free(pk);

    /* Reused; a lost sa.pub is rederived from sa.key. */
    char *pubpath = cn_asprintf("%s/pki/sa.pub", tmpdir);
    unlink(pubpath);
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &q, &e), 0);
    CHECK_STR(q.sa_key_pem, p.sa_key_pem);
    CHECK_STR(q.sa_pub_pem, p.sa_pub_pem);
    pub = slurp("pki/sa.pub");
    CHECK_STR(pub, p.sa_pub_pem);
    free(pub);
    cn_pki_release(&q);
    free(pubpath);

    /* A data dir from before sa.key existed gets one on the next start. */
    char *keypath = cn_asprintf("%s/pki/sa.key", tmpdir);
    unlink(keypath);
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &q, &e), 0);
    CHECK(q.sa_key_pem && strcmp(q.sa_key_pem, p.sa_key_pem) != 0);
    CHECK_STR(q.ca_cert_pem, p.ca_cert_pem);
    CHECK_INT(mode_of("pki/sa.key"), 0600);
    free(keypath);
    cn_pki_release(&p);
    cn_pki_release(&q);
    cn_err_clear(&e);
}

static void test_install(void)
{
    cn_err e = CN_ERR_INIT;
    cn_pki p = { 0 }, q = { 0 };
    CHECK_INT(cn_pki_ensure(tmpdir, NULL, 0, &p, &e), 0);
    char *other = cn_asprintf("%s/other", tmpdir);
    /* Mismatched pairs are refused and nothing is written. */
    CHECK(cn_pki_install(other, p.ca_cert_pem, p.server_key_pem, p.sa_key_pem, p.sa_pub_pem, &e) < 0);
    CHECK(cn_pki_install(other, p.ca_cert_pem, p.ca_key_pem, p.sa_key_pem, "junk", &e) < 0);
    CHECK(cn_pki_install(other, p.ca_cert_pem, p.ca_key_pem, p.ca_key_pem, p.sa_pub_pem, &e) < 0);
    CHECK_INT(mode_of("other"), -1);
    CHECK_INT(cn_pki_install(other, p.ca_cert_pem, p.ca_key_pem, p.sa_key_pem, p.sa_pub_pem, &e), 0);
    CHECK_INT(mode_of("other/pki/ca.key"), 0600);
    CHECK_INT(mode_of("other/pki/ca.crt"), 0600);
    /* cn_pki_ensure then issues its own leaves from the installed CA. */
    CHECK_INT(cn_pki_ensure(other, NULL, 0, &q, &e), 0);
    CHECK_STR(q.ca_cert_pem, p.ca_cert_pem);
    CHECK_STR(q.sa_key_pem, p.sa_key_pem);
    CHECK_STR(q.sa_pub_pem, p.sa_pub_pem);
    CHECK(strcmp(q.server_cert_pem, p.server_cert_pem) != 0);
    CHECK_INT(verify(p.ca_cert_pem, q.server_cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
    free(other);
    cn_pki_release(&p);
    cn_pki_release(&q);
    cn_err_clear(&e);
}

static void test_token_parse_format(void)
{
    cn_err e = CN_ERR_INIT;
    char h[CN_TOKEN_HASH_LEN + 1], sec[CN_TOKEN_MAX + 1];
    const char *ca = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n";
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)ca, strlen(ca), md);
    char want[65];
    for (int i = 0; i < 32; i++) snprintf(want + 2 * i, 3, "%02x", md[i]);
    cn_pki_ca_hash(ca, h);
    CHECK_STR(h, want);

    char *t = cn_token_format(ca, "0123abcd");
    char *expect = cn_asprintf("K10%s::server:0123abcd", want);
    CHECK_STR(t, expect);
    CHECK_INT(cn_token_parse(t, h, sec, &e), 0);
    CHECK_STR(h, want);
    CHECK_STR(sec, "0123abcd");
    /* A trailing newline (from a file) is fine. */
    char *nl = cn_asprintf("%s\n", t);
    CHECK_INT(cn_token_parse(nl, h, sec, &e), 0);
    CHECK_STR(sec, "0123abcd");
    free(nl);
    /* A bare secret: no hash. */
    CHECK_INT(cn_token_parse("s3cret-Value_1", h, sec, &e), 0);
    CHECK_STR(h, "");
    CHECK_STR(sec, "s3cret-Value_1");
    /* Malformed. */
    CHECK(cn_token_parse("", h, sec, &e) < 0);
    CHECK_INT(e.code, 400);
    CHECK(cn_token_parse("has space", h, sec, &e) < 0);
    CHECK(cn_token_parse("K10abc::server:x", h, sec, &e) < 0);
    char *bad = cn_asprintf("K10%.63sz::server:x", want);
    CHECK(cn_token_parse(bad, h, sec, &e) < 0);
    free(bad);
    bad = cn_asprintf("K10%s::node:x", want);
    CHECK(cn_token_parse(bad, h, sec, &e) < 0);
    free(bad);
    bad = cn_asprintf("K10%s::server:", want);
    CHECK(cn_token_parse(bad, h, sec, &e) < 0);
    free(bad);
    char big[CN_TOKEN_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(cn_token_parse(big, h, sec, &e) < 0);
    free(t);
    free(expect);
    cn_err_clear(&e);
}

static void test_token_ensure(void)
{
    cn_err e = CN_ERR_INIT;
    char *dir = cn_asprintf("%s/tok", tmpdir);
    mkdir(dir, 0700);
    const char *ca = "CA-ONE\n", *ca2 = "CA-TWO\n";
    char h[CN_TOKEN_HASH_LEN + 1], sec[CN_TOKEN_MAX + 1], want[CN_TOKEN_HASH_LEN + 1];
    char *t1 = NULL, *t2 = NULL, *t3 = NULL;
    /* Generated: the CA's hash and 32 hex characters; 0600; reused. */
    CHECK_INT(cn_token_ensure(dir, ca, NULL, &t1, &e), 0);
    CHECK_INT(cn_token_parse(t1, h, sec, &e), 0);
    cn_pki_ca_hash(ca, want);
    CHECK_STR(h, want);
    CHECK_INT((int)strlen(sec), 32);
    CHECK_INT((int)strspn(sec, "0123456789abcdef"), 32);
    CHECK_INT(mode_of("tok/token"), 0600);
    char *f = slurp("tok/token");
    CHECK_STR(f, t1);
    free(f);
    CHECK_INT(cn_token_ensure(dir, ca, NULL, &t2, &e), 0);
    CHECK_STR(t2, t1);
    free(t2);
    /* A given bare secret gets the hash; a full token must carry this CA's. */
    CHECK_INT(cn_token_ensure(dir, ca, "mysecret", &t2, &e), 0);
    char *exp = cn_token_format(ca, "mysecret");
    CHECK_STR(t2, exp);
    f = slurp("tok/token");
    CHECK_STR(f, exp);
    free(f);
    CHECK_INT(cn_token_ensure(dir, ca, exp, &t3, &e), 0);
    CHECK_STR(t3, exp);
    free(t3);
    t3 = NULL;
    CHECK(cn_token_ensure(dir, ca2, exp, &t3, &e) < 0);
    CHECK(t3 == NULL);
    /* The stored token of another CA is refused too. */
    CHECK(cn_token_ensure(dir, ca2, NULL, &t3, &e) < 0);
    CHECK(cn_token_ensure(dir, ca, "bad token", &t3, &e) < 0);
    free(exp);
    free(t1);
    free(t2);
    free(dir);
    cn_err_clear(&e);
}

static void test_secret_equal(void)
{
    CHECK(cn_secret_equal("abc", "abc"));
    CHECK(cn_secret_equal("", ""));
    CHECK(!cn_secret_equal("abc", "abd"));
    CHECK(!cn_secret_equal("abc", "abcd"));
    CHECK(!cn_secret_equal("abcd", "abc"));
    CHECK(!cn_secret_equal("", "a"));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cn-pki-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    TEST_RUN(test_ensure_creates_and_reuses);
    TEST_RUN(test_san_change_reissues_server);
    TEST_RUN(test_issue_client);
    TEST_RUN(test_kubeconfig_and_files);
    TEST_RUN(test_sa_key);
    TEST_RUN(test_install);
    TEST_RUN(test_token_parse_format);
    TEST_RUN(test_token_ensure);
    TEST_RUN(test_secret_equal);
    char *cmd = cn_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(cmd);
    return TEST_DONE();
}
