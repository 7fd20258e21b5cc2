/* Unit tests for pki: CA and certificate lifecycle, kubeconfig, file helpers. */
#include "lib/pki.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
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

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cn-pki-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    TEST_RUN(test_ensure_creates_and_reuses);
    TEST_RUN(test_san_change_reissues_server);
    TEST_RUN(test_issue_client);
    TEST_RUN(test_kubeconfig_and_files);
    char *cmd = cn_asprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(cmd);
    return TEST_DONE();
}
