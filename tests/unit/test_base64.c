/* Unit tests for base64: RFC 4648 vectors both ways, optional padding,
 * binary bytes, and the errors (bad character, impossible length, max). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "test.h"

static void test_vectors(void)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (size_t i = 0; i < 7; i++) {
        cn_buf b;
        cn_buf_init(&b);
        cn_base64_encode(&b, plain[i], strlen(plain[i]));
        CHECK_STR(b.data ? b.data : "", enc[i]);
        cn_buf_release(&b);
        char *out = NULL;
        size_t n = 0;
        CHECK_INT(cn_base64_decode(enc[i], strlen(enc[i]), 100, &out, &n), 0);
        CHECK_INT(n, strlen(plain[i]));
        CHECK_STR(out, plain[i]);
        free(out);
    }
}

static void test_binary_and_errors(void)
{
    unsigned char bin[256];
    for (int i = 0; i < 256; i++) bin[i] = (unsigned char)i;
    cn_buf b;
    cn_buf_init(&b);
    cn_base64_encode(&b, bin, sizeof bin);
    char *out = NULL;
    size_t n = 0;
    CHECK_INT(cn_base64_decode(b.data, b.len, 256, &out, &n), 0);
    CHECK_INT(n, 256);
    CHECK(out && memcmp(out, bin, 256) == 0);
    free(out);
    out = NULL;
    CHECK_INT(cn_base64_decode(b.data, b.len, 255, &out, &n), -EFBIG);
    CHECK(out == NULL);
    cn_buf_release(&b);
    CHECK_INT(cn_base64_decode("Zm9vYg", 6, 10, &out, &n), 0);    /* padding optional */
    CHECK_STR(out, "foob");
    free(out);
    out = NULL;
    CHECK_INT(cn_base64_decode("Zm9v!A==", 8, 10, &out, &n), -EINVAL);
    CHECK_INT(cn_base64_decode("Z", 1, 10, &out, &n), -EINVAL);
    CHECK_INT(cn_base64_decode("Zm-_", 4, 10, &out, &n), -EINVAL); /* URL-safe is another alphabet */
    CHECK(out == NULL);
    CHECK_INT(cn_base64_value('+'), 62);
    CHECK_INT(cn_base64_value('='), -1);
}

int main(void)
{
    TEST_RUN(test_vectors);
    TEST_RUN(test_binary_and_errors);
    return TEST_DONE();
}
