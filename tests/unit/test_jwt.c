/* Tests for lib/jwt: RS256 sign/verify round trip with the cluster's
 * service-account key (made by cn_pki_ensure in a temp dir), tampering
 * and wrong keys refused, the key ID, base64url. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "lib/jwt.h"
#include "lib/pki.h"
#include "lib/util.h"

static cn_pki pki, other;

static void test_base64url(void)
{
    const unsigned char raw[] = { 0xfb, 0xff, 0xbf, 'a' };
    char *s = cn_base64url(raw, sizeof raw);
    CHECK_STR(s, "-_-_YQ");
    char *back = NULL;
    size_t n = 0;
    CHECK_INT(cn_base64url_decode(s, strlen(s), 64, &back, &n), 0);
    CHECK(n == sizeof raw && back && !memcmp(back, raw, n));
    free(back);
    free(s);
    CHECK(cn_base64url_decode("+/", 2, 64, &back, &n) < 0);   /* standard alphabet refused */
    CHECK(cn_base64url_decode("YQ==", 4, 64, &back, &n) < 0); /* padding refused */
}

static void test_sign_verify(void)
{
    cn_err err = CN_ERR_INIT;
    char *kid = NULL, *kid_pub = NULL, *tok = NULL;
    CHECK_INT(cn_jwt_key_id(pki.sa_key_pem, &kid, &err), 0);
    CHECK_INT(cn_jwt_key_id(pki.sa_pub_pem, &kid_pub, &err), 0);
    CHECK_STR(kid, kid_pub);                     /* same key, same id, from either half */
    CHECK(kid && strlen(kid) == 43);              /* sha256, base64url unpadded */
    json_t *claims = json_pack("{s:s,s:I}", "sub", "system:serviceaccount:ns:sa", "exp", (json_int_t)2000000000);
    CHECK_INT(cn_jwt_sign_rs256(pki.sa_key_pem, kid, claims, &tok, &err), 0);
    json_t *got = NULL;
    CHECK_INT(cn_jwt_verify_rs256(pki.sa_pub_pem, tok, &got, &err), 0);
    CHECK(got && json_equal(got, claims));
    json_decref(got);
    got = NULL;
    /* another key: refused */
    CHECK(cn_jwt_verify_rs256(other.sa_pub_pem, tok, &got, &err) < 0);
    CHECK_STR(err.message, "JWT signature is invalid");
    cn_err_clear(&err);
    /* a changed payload: refused */
    char *dot = strchr(tok, '.');
    char *bad = cn_strdup(tok);
    bad[dot - tok + 2] = bad[dot - tok + 2] == 'A' ? 'B' : 'A';
    CHECK(cn_jwt_verify_rs256(pki.sa_pub_pem, bad, &got, &err) < 0);
    cn_err_clear(&err);
    free(bad);
    static const char *const malformed[] = { "", "a.b", "a.b.c.d", "e30.e30.", "!!.e30.AA" };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        CHECK(cn_jwt_verify_rs256(pki.sa_pub_pem, malformed[i], &got, &err) < 0);
        cn_err_clear(&err);
    }
    /* signing needs the private half */
    char *t2 = NULL;
    CHECK(cn_jwt_sign_rs256(pki.sa_pub_pem, NULL, claims, &t2, &err) < 0);
    cn_err_clear(&err);
    json_decref(claims);
    free(tok);
    free(kid);
    free(kid_pub);
}

int main(void)
{
    char d1[] = "/tmp/test_jwt.XXXXXX", d2[] = "/tmp/test_jwt.XXXXXX";
    cn_err err = CN_ERR_INIT;
    if (!mkdtemp(d1) || !mkdtemp(d2)) return 1;
    if (cn_pki_ensure(d1, NULL, 0, &pki, &err) < 0 || cn_pki_ensure(d2, NULL, 0, &other, &err) < 0) {
        fprintf(stderr, "pki: %s\n", err.message);
        return 1;
    }
    TEST_RUN(test_base64url);
    TEST_RUN(test_sign_verify);
    cn_pki_release(&pki);
    cn_pki_release(&other);
    char *cmd = cn_asprintf("rm -rf '%s' '%s'", d1, d2);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    free(cmd);
    return TEST_DONE();
}
