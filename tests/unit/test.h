/* test.h: the tiny unit-test harness. Each tests/unit/test_<module>.c is
 * its own executable (one CTest each, with a timeout) and lists its cases
 * in main via TEST_RUN. A failed CHECK prints file:line and the expression,
 * counts the failure, and the case continues; main returns non-zero if any
 * check failed. Output ends with the plain "N passed, N failed" line. */
#ifndef CN_TEST_H
#define CN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures, test_checks, test_cases_failed, test_cases_passed;

#define CHECK(expr) do { test_checks++; if (!(expr)) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); test_checks++; \
    if (!_a || !_b || strcmp(_a, _b) != 0) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
            #a, _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); test_checks++; \
    if (_a != _b) { test_failures++; \
    fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, want %lld\n", __FILE__, __LINE__, \
            #a, _a, _b); } } while (0)

#define TEST_RUN(fn) do { int _before = test_failures; fn(); \
    if (test_failures != _before) { test_cases_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
    else { test_cases_passed++; printf("ok   %s\n", #fn); } } while (0)

#define TEST_DONE() (printf("%d passed, %d failed\n", test_cases_passed, test_cases_failed), \
                     test_cases_failed ? 1 : 0)

#endif
