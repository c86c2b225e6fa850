/* test_setcookie.c - the token cookie from Set-Cookie (setcookie.h): name,
 * quoting, Max-Age and Expires (deletion included), Path and Domain rules,
 * values that cannot be a token. Pure: the clock is a constant. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "setcookie.h"

static const time_t NOW = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */

static int parse(const char *h, const char *path, const char *host, wsc__cookie *c) {
    return wsc__set_cookie_parse(h, "csrf_token", path, strlen(path), host, strlen(host), NOW, c);
}

static void test_set_cookie(void **state) {
    (void)state;
    wsc__cookie c;
    assert_int_equal(parse("csrf_token=abc123", "/feed", "example.com", &c), WSC__COOKIE_SET);
    assert_string_equal(c.value, "abc123");
    assert_int_equal(c.expires, 0);
    assert_int_equal(parse(" csrf_token = \"q-v\" ; HttpOnly; Secure; SameSite=Strict", "/", "h", &c),
                     WSC__COOKIE_SET);
    assert_string_equal(c.value, "q-v");
    /* other cookies, or none */
    assert_int_equal(parse("session=xyz; Path=/", "/", "h", &c), WSC__COOKIE_IGNORE);
    assert_int_equal(parse("csrf_token2=xyz", "/", "h", &c), WSC__COOKIE_IGNORE);
    assert_int_equal(parse("csrf_token", "/", "h", &c), WSC__COOKIE_IGNORE);
    /* expiry */
    assert_int_equal(parse("csrf_token=t; Max-Age=60", "/", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(c.expires, NOW + 60);
    assert_int_equal(parse("csrf_token=t; Expires=Tue, 14 Nov 2023 23:13:20 GMT", "/", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(c.expires, NOW + 3600);
    assert_int_equal(parse("csrf_token=t; expires=Tue, 14-Nov-2023 23:13:20 GMT", "/", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(c.expires, NOW + 3600);
    assert_int_equal(parse("csrf_token=t; Max-Age=0", "/", "h", &c), WSC__COOKIE_DELETE);
    assert_int_equal(parse("csrf_token=t; Max-Age=-1", "/", "h", &c), WSC__COOKIE_DELETE);
    assert_int_equal(parse("csrf_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "/", "h", &c), WSC__COOKIE_DELETE);
    assert_int_equal(parse("csrf_token=", "/", "h", &c), WSC__COOKIE_DELETE);
    /* Max-Age wins over Expires (5.3 step 3) */
    assert_int_equal(parse("csrf_token=t; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=10", "/", "h", &c),
                     WSC__COOKIE_SET);
    assert_int_equal(c.expires, NOW + 10);
    /* a malformed Max-Age or Expires is ignored */
    assert_int_equal(parse("csrf_token=t; Max-Age=1x; Expires=soon", "/", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(c.expires, 0);
    /* Path */
    assert_int_equal(parse("csrf_token=t; Path=/feed", "/feed", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(parse("csrf_token=t; Path=/feed", "/feed/x", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(parse("csrf_token=t; Path=/", "/feed", "h", &c), WSC__COOKIE_SET);
    assert_int_equal(parse("csrf_token=t; Path=/feed", "/feedback", "h", &c), WSC__COOKIE_IGNORE);
    assert_int_equal(parse("csrf_token=t; Path=/other", "/feed", "h", &c), WSC__COOKIE_IGNORE);
    /* Domain */
    assert_int_equal(parse("csrf_token=t; Domain=example.com", "/", "ws.example.com", &c), WSC__COOKIE_SET);
    assert_int_equal(parse("csrf_token=t; Domain=.Example.COM", "/", "example.com", &c), WSC__COOKIE_SET);
    assert_int_equal(parse("csrf_token=t; Domain=evil.com", "/", "example.com", &c), WSC__COOKIE_IGNORE);
    assert_int_equal(parse("csrf_token=t; Domain=ample.com", "/", "example.com", &c), WSC__COOKIE_IGNORE);
    /* values a token cannot have */
    assert_int_equal(parse("csrf_token=a b", "/", "h", &c), WSC__COOKIE_IGNORE);
    assert_int_equal(parse("csrf_token=a\\b", "/", "h", &c), WSC__COOKIE_IGNORE);
    assert_int_equal(wsc__set_cookie_parse(NULL, "csrf_token", "/", 1, "h", 1, NOW, &c), WSC__COOKIE_IGNORE);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_set_cookie)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
