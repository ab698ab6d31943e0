/*
 * A minimal unit-test harness: each *_test.c defines tests with LS_TEST and
 * ends with LS_TEST_MAIN(...) listing them. A failed check prints the file,
 * line and expression and marks the test failed; the process exits non-zero
 * if any test failed, so ctest sees it. Checks never return from the test on
 * their own (STYLE.md: no hidden returns); LS_REQUIRE aborts the process when
 * continuing makes no sense (a NULL that would be dereferenced next).
 */
#ifndef LS_TEST_H
#define LS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ls_test_failed_checks;

#define LS_TEST(name) static void name(void)

#define LS_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            ls_test_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define LS_REQUIRE(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define LS_CHECK_INT_EQ(a, b)                                                                      \
    do {                                                                                           \
        long long ls_a_ = (long long)(a), ls_b_ = (long long)(b);                                  \
        if (ls_a_ != ls_b_) {                                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    ls_a_, ls_b_);                                                                 \
            ls_test_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

#define LS_CHECK_STR_EQ(a, b)                                                                      \
    do {                                                                                           \
        const char *ls_a_ = (a), *ls_b_ = (b);                                                     \
        if (ls_a_ == NULL || ls_b_ == NULL || strcmp(ls_a_, ls_b_) != 0) {                         \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, ls_a_ ? ls_a_ : "(null)", ls_b_ ? ls_b_ : "(null)");                       \
            ls_test_failed_checks++;                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} ls_test_case_t;

#define LS_T(fn) {#fn, fn}

/* Runs every listed test (or only the one named in argv[1]). */
#define LS_TEST_MAIN(...)                                                                          \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        static const ls_test_case_t cases[] = {__VA_ARGS__};                                       \
        int failed_tests = 0, ran = 0;                                                             \
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {                           \
            if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)                                   \
                continue;                                                                          \
            int before = ls_test_failed_checks;                                                    \
            cases[i].fn();                                                                         \
            ran++;                                                                                 \
            int ok = ls_test_failed_checks == before;                                              \
            failed_tests += !ok;                                                                   \
            printf("%s %s\n", ok ? "ok  " : "FAIL", cases[i].name);                                \
        }                                                                                          \
        printf("%d passed, %d failed\n", ran - failed_tests, failed_tests);                        \
        return failed_tests || ran == 0 ? 1 : 0;                                                   \
    }

#endif
