/* test_secret.c - memory for secrets (src/secret.c): each secret is a
 * mapping of its own that core dumps leave out (MADV_DONTDUMP, seen as "dd"
 * in /proc/self/smaps), zero-filled, and gone once freed. And the client
 * keeps its token there (wsc_client_csrf points into such memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "testutil.h"
#include "wsc/client.h"

/* Non-zero if the address is inside any mapping of this process. */
static int mapped(const void *p) {
    FILE *f = fopen("/proc/self/maps", "re");
    assert_non_null(f);
    unsigned long lo, hi, a = (unsigned long)(uintptr_t)p;
    char line[512];
    int in = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi) in = 1;
    fclose(f);
    return in;
}

static void test_alloc_dontdump_and_unmapped_after_free(void **s) {
    (void)s;
    for (size_t n = 1; n <= 20000; n = n * 7 + 3) {
        unsigned char *p = wsc__secret_alloc(n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < n; i++) assert_int_equal(p[i], 0);
        memset(p, 0xa5, n);
#ifdef __linux__
        assert_true(wsc__secret_is_dontdump(p));
#endif
        wsc__secret_free(p);
#ifdef __linux__
        assert_false(mapped(p)); /* wiped, then unmapped */
#endif
    }
    wsc__secret_free(NULL);
    assert_null(wsc__secret_alloc(0));
    assert_null(wsc__secret_strdup(NULL));
    /* Ordinary heap memory is not "dd": the check can tell. */
    char *heap = malloc(64);
    assert_false(wsc__secret_is_dontdump(heap + 16));
    free(heap);
}

static void test_strdup(void **s) {
    (void)s;
    char *t = wsc__secret_strdup("s3cr3t-token");
    assert_string_equal(t, "s3cr3t-token");
#ifdef __linux__
    assert_true(wsc__secret_is_dontdump(t));
#endif
    wsc__secret_free(t);
}

/* The client's copy of an in-memory token is secret memory. */
static void test_client_token_is_secret(void **s) {
    (void)s;
    wsc_loop *loop = wsc_loop_new(NULL);
    assert_non_null(loop);
    wsc_client_options o = {0};
    o.token = "tok-in-memory";
    o.no_store = 1;
    o.max_attempts = 1;
    wsc_error err;
    /* Port 9 on loopback: the connection fails, the token is kept all the same. */
    wsc_client *c = wsc_client_new(loop, "ws://127.0.0.1:9/", &o, &err);
    assert_non_null(c);
    const char *t = wsc_client_csrf(c);
    assert_string_equal(t, "tok-in-memory");
#ifdef __linux__
    assert_true(wsc__secret_is_dontdump(t));
#endif
    wsc_client_free(c);
    wsc_loop_free(loop);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_dontdump_and_unmapped_after_free),
        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_client_token_is_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
