#define _POSIX_C_SOURCE 200809L
/* test_envproxy.c - which proxy the environment sets for a destination
 * (http_proxy/https_proxy, both cases, no_proxy, the loopback bypass). */
#include <stdlib.h>

#include "testutil.h"
#include "io/transport.h"

static void clear(void) {
    const char *v[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) unsetenv(v[i]);
}

static void test_env_proxy(void **state) {
    (void)state;
    clear();
    assert_null(wsc__env_proxy("example.com", 0));
    setenv("http_proxy", "http://p1:3128", 1);
    assert_string_equal(wsc__env_proxy("example.com", 0), "http://p1:3128");
    assert_null(wsc__env_proxy("example.com", 1)); /* wss uses https_proxy */
    setenv("HTTPS_PROXY", "http://p2:3128", 1);       /* upper case works */
    assert_string_equal(wsc__env_proxy("example.com", 1), "http://p2:3128");
    setenv("https_proxy", "http://p3:3128", 1);       /* lower case wins */
    assert_string_equal(wsc__env_proxy("example.com", 1), "http://p3:3128");
    unsetenv("http_proxy");
    setenv("HTTP_PROXY", "http://p4:3128", 1);
    assert_string_equal(wsc__env_proxy("example.com", 0), "http://p4:3128");
    /* loopback never goes through an environment proxy */
    assert_null(wsc__env_proxy("localhost", 0));
    assert_null(wsc__env_proxy("127.0.0.1", 0));
    assert_null(wsc__env_proxy("127.1.2.3", 1));
    assert_null(wsc__env_proxy("::1", 0));
    /* no_proxy: names, domain suffixes (with or without a dot), ports, "*" */
    setenv("no_proxy", "internal.example, .corp.example,10.0.0.1,other.example:8080", 1);
    assert_null(wsc__env_proxy("internal.example", 0));
    assert_null(wsc__env_proxy("a.internal.example", 0));
    assert_non_null(wsc__env_proxy("notinternal.example", 0)); /* a suffix must start at a dot */
    assert_null(wsc__env_proxy("x.corp.example", 0));
    assert_null(wsc__env_proxy("corp.example", 0));
    assert_null(wsc__env_proxy("10.0.0.1", 0));
    assert_null(wsc__env_proxy("other.example", 0));
    assert_non_null(wsc__env_proxy("example.com", 0));
    unsetenv("no_proxy");
    setenv("NO_PROXY", "*", 1);
    assert_null(wsc__env_proxy("example.com", 0));
    clear();
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_env_proxy)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
