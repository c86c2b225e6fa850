#define _POSIX_C_SOURCE 200809L
/* test_envproxy.c - which proxy the environment sets for a destination
 * (http_proxy/https_proxy, all_proxy, both cases, no_proxy, the loopback
 * bypass), and the address order of Happy Eyeballs (RFC 8305 4). */
#include <arpa/inet.h>
#include <string.h>
#include <stdlib.h>

#include "testutil.h"
#include "io/resolve.h"
#include "io/transport.h"

static void clear(void) {
    const char *v[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
                       "all_proxy", "ALL_PROXY"};
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

static void test_all_proxy(void **state) {
    (void)state;
    clear();
    setenv("ALL_PROXY", "socks5h://s1:1080", 1);
    assert_string_equal(wsc__env_proxy("example.com", 0), "socks5h://s1:1080");
    assert_string_equal(wsc__env_proxy("example.com", 1), "socks5h://s1:1080");
    setenv("all_proxy", "socks5://s2:1080", 1); /* lower case wins */
    assert_string_equal(wsc__env_proxy("example.com", 1), "socks5://s2:1080");
    setenv("https_proxy", "https://p1:443", 1); /* the scheme's own variable wins */
    assert_string_equal(wsc__env_proxy("example.com", 1), "https://p1:443");
    assert_string_equal(wsc__env_proxy("example.com", 0), "socks5://s2:1080");
    assert_null(wsc__env_proxy("localhost", 0));
    setenv("no_proxy", "example.com", 1);
    assert_null(wsc__env_proxy("example.com", 0));
    clear();
}

static wsc__addr addr(const char *lit) {
    wsc__addr a;
    memset(&a, 0, sizeof a);
    if (strchr(lit, ':')) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a.sa;
        s->sin6_family = AF_INET6;
        inet_pton(AF_INET6, lit, &s->sin6_addr);
        a.len = sizeof *s;
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&a.sa;
        s->sin_family = AF_INET;
        inet_pton(AF_INET, lit, &s->sin_addr);
        a.len = sizeof *s;
    }
    return a;
}

static const char *str(const wsc__addr *a, char *buf) {
    const struct sockaddr *sa = (const struct sockaddr *)&a->sa;
    const void *bin = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    return inet_ntop(sa->sa_family, bin, buf, 64);
}

static void expect_order(const char *const *in, size_t n, const char *const *want) {
    wsc__addr a[WSC__MAX_ADDRS], out[WSC__MAX_ADDRS];
    for (size_t i = 0; i < n; i++) a[i] = addr(in[i]);
    assert_int_equal(wsc__he_order(a, n, out), n);
    char buf[64];
    for (size_t i = 0; i < n; i++) assert_string_equal(str(&out[i], buf), want[i]);
}

static void test_he_order(void **state) {
    (void)state;
    /* RFC 8305 4: the first address's family, then alternating */
    const char *a[] = {"2001:db8::1", "2001:db8::2", "2001:db8::3", "192.0.2.1", "192.0.2.2"};
    const char *wa[] = {"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"};
    expect_order(a, 5, wa);
    const char *b[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1"};
    const char *wb[] = {"192.0.2.1", "2001:db8::1", "192.0.2.2"};
    expect_order(b, 3, wb);
    const char *c[] = {"192.0.2.1", "192.0.2.2"}; /* one family: unchanged */
    expect_order(c, 2, c);
    wsc__addr none[1];
    assert_int_equal(wsc__he_order(none, 0, none), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_env_proxy), cmocka_unit_test(test_all_proxy),
                                       cmocka_unit_test(test_he_order)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
