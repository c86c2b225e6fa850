/*
 * cmocka.h - for the Windows cross build only: the part of cmocka's API that
 * the protocol core's unit tests use, implemented for real (each assertion
 * checks, reports file, line and the values, and ends the test; the runner
 * runs every test, prints cmocka's summary lines and returns the number of
 * failures). Debian has no mingw build of cmocka; this stands in for the
 * library, not for anything under test. Not provided: mocking (will_return,
 * expect_*), test_malloc leak checks, setup/teardown per test (the core's
 * tests use none of them: a test that does fails to compile here).
 */
#ifndef WSC_WINDOWS_CMOCKA_SHIM_H
#define WSC_WINDOWS_CMOCKA_SHIM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
};

#define cmocka_unit_test(f) {#f, f}

static jmp_buf wsct_jmp_;
static int wsct_skipped_;

static inline void wsct_fail_(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "[  ERROR   ] --- ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n[   LINE   ] --- %s:%d: error: Failure!\n", file, line);
    longjmp(wsct_jmp_, 1);
}

static inline void print_message(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

#define fail() wsct_fail_(__FILE__, __LINE__, "fail()")
#define fail_msg(...) wsct_fail_(__FILE__, __LINE__, __VA_ARGS__)
#define skip() (wsct_skipped_ = 1, longjmp(wsct_jmp_, 2))

#define assert_true(c) ((c) ? (void)0 : wsct_fail_(__FILE__, __LINE__, "%s", #c))
#define assert_false(c) (!(c) ? (void)0 : wsct_fail_(__FILE__, __LINE__, "%s", #c))
#define assert_null(p) ((p) == NULL ? (void)0 : wsct_fail_(__FILE__, __LINE__, "%p is not NULL (%s)", (const void *)(p), #p))
#define assert_non_null(p) ((p) != NULL ? (void)0 : wsct_fail_(__FILE__, __LINE__, "%s is NULL", #p))

/* cmocka compares as uintmax_t and prints in hex: so does this. */
#define assert_int_equal(a, b) wsct_int_(__FILE__, __LINE__, (uintmax_t)(a), (uintmax_t)(b), 1)
#define assert_int_not_equal(a, b) wsct_int_(__FILE__, __LINE__, (uintmax_t)(a), (uintmax_t)(b), 0)
static inline void wsct_int_(const char *file, int line, uintmax_t a, uintmax_t b, int eq) {
    if ((a == b) != eq) wsct_fail_(file, line, "%#jx %s %#jx", a, eq ? "!=" : "==", b);
}

#define assert_ptr_equal(a, b) wsct_ptr_(__FILE__, __LINE__, (const void *)(a), (const void *)(b), 1)
#define assert_ptr_not_equal(a, b) wsct_ptr_(__FILE__, __LINE__, (const void *)(a), (const void *)(b), 0)
static inline void wsct_ptr_(const char *file, int line, const void *a, const void *b, int eq) {
    if ((a == b) != eq) wsct_fail_(file, line, "%p %s %p", a, eq ? "!=" : "==", b);
}

#define assert_string_equal(a, b) wsct_str_(__FILE__, __LINE__, (const char *)(a), (const char *)(b), 1)
#define assert_string_not_equal(a, b) wsct_str_(__FILE__, __LINE__, (const char *)(a), (const char *)(b), 0)
static inline void wsct_str_(const char *file, int line, const char *a, const char *b, int eq) {
    if (!a || !b) wsct_fail_(file, line, "NULL string (%p, %p)", (const void *)a, (const void *)b);
    if ((strcmp(a, b) == 0) != eq) wsct_fail_(file, line, "\"%s\" %s \"%s\"", a, eq ? "!=" : "==", b);
}

#define assert_memory_equal(a, b, n) wsct_mem_(__FILE__, __LINE__, (const void *)(a), (const void *)(b), (size_t)(n), 1)
#define assert_memory_not_equal(a, b, n) wsct_mem_(__FILE__, __LINE__, (const void *)(a), (const void *)(b), (size_t)(n), 0)
static inline void wsct_mem_(const char *file, int line, const void *a, const void *b, size_t n, int eq) {
    if (!a || !b) wsct_fail_(file, line, "NULL buffer (%p, %p)", a, b);
    const unsigned char *x = a, *y = b;
    size_t i = 0;
    while (i < n && x[i] == y[i]) i++;
    if (eq && i < n) wsct_fail_(file, line, "%zu bytes differ, first at offset %zu: 0x%02x != 0x%02x", n, i, x[i], y[i]);
    if (!eq && i == n) wsct_fail_(file, line, "%zu bytes are equal", n);
}

/* One test: 0 passed, 1 failed, 2 skipped. Nothing here changes between
   setjmp and longjmp, so no local needs to be volatile. */
static inline int wsct_one_(const struct CMUnitTest *t, void **state) {
    int r = setjmp(wsct_jmp_);
    if (r == 0) t->test_func(state);
    return r;
}

#define cmocka_run_group_tests(tests, setup, teardown) \
    wsct_run_(#tests, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)
static inline int wsct_run_(const char *group, const struct CMUnitTest *t, size_t n, CMFixtureFunction setup,
                            CMFixtureFunction teardown) {
    void *gstate = NULL;
    size_t failed = 0, skipped = 0;
    const char **failed_names = NULL;
    printf("[==========] %s: Running %zu test(s).\n", group, n);
    if (setup && setup(&gstate) != 0) {
        printf("[  FAILED  ] GROUP SETUP\n");
        return (int)n;
    }
    static const char *names[1024];
    failed_names = names;
    for (size_t i = 0; i < n; i++) {
        void *state = gstate;
        printf("[ RUN      ] %s\n", t[i].name);
        fflush(stdout);
        wsct_skipped_ = 0;
        int r = wsct_one_(&t[i], &state);
        if (r == 0) {
            printf("[       OK ] %s\n", t[i].name);
        } else if (r == 2) {
            printf("[  SKIPPED ] %s\n", t[i].name);
            skipped++;
        } else {
            printf("[  FAILED  ] %s\n", t[i].name);
            if (failed < 1024) failed_names[failed] = t[i].name;
            failed++;
        }
        fflush(stdout);
    }
    if (teardown) teardown(&gstate);
    printf("[==========] %s: %zu test(s) run.\n", group, n);
    printf("[  PASSED  ] %zu test(s).\n", n - failed - skipped);
    if (skipped) printf("[  SKIPPED ] %zu test(s).\n", skipped);
    if (failed) {
        printf("[  FAILED  ] %zu test(s), listed below:\n", failed);
        for (size_t i = 0; i < failed && i < 1024; i++) printf("[  FAILED  ] %s\n", failed_names[i]);
    }
    return (int)failed;
}

#endif
