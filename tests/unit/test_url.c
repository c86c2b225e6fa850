/*
 * test_url.c - wsc_url_parse (tables of good URLs with every field, bad
 * URLs with the code and a piece of the message), wsc_url_origin,
 * wsc_query_set / wsc_query_get and wsc_cookie_get. Every input is placed
 * so it ends at a PROT_NONE page: an over-read crashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "wsc/http.h"

/* Parses s (len bytes) from a guard-page copy. */
static int parse_guarded(const char *s, size_t len, wsc_url *u, wsc_error *err, uint8_t **copy) {
    *copy = tu_guard_copy(s, len);
    assert_non_null(*copy);
    return wsc_url_parse((const char *)*copy, len, u, err);
}

static void assert_span(wsc_span sp, const char *want) {
    if (!want) {
        assert_null(sp.ptr);
        assert_int_equal(sp.len, 0);
        return;
    }
    assert_non_null(sp.ptr);
    if (sp.len != strlen(want) || memcmp(sp.ptr, want, sp.len) != 0)
        fail_msg("span '%.*s' != '%s'", (int)sp.len, sp.ptr, want);
}

struct good {
    const char *url;
    int scheme, secure;
    const char *host;
    int kind;
    unsigned port;
    int port_explicit;
    const char *path, *query, *user, *password, *socket_path;
};

static const struct good goods[] = {
    {"ws://example.com", WSC_SCHEME_WS, 0, "example.com", WSC_HOST_NAME, 80, 0, "/", NULL, NULL, NULL, NULL},
    {"wss://example.com/chat?x=1&y", WSC_SCHEME_WSS, 1, "example.com", WSC_HOST_NAME, 443, 0, "/chat", "x=1&y", NULL, NULL, NULL},
    {"HTTP://Example.COM:8080/a/b", WSC_SCHEME_WS, 0, "Example.COM", WSC_HOST_NAME, 8080, 1, "/a/b", NULL, NULL, NULL, NULL},
    {"https://h/", WSC_SCHEME_WSS, 1, "h", WSC_HOST_NAME, 443, 0, "/", NULL, NULL, NULL, NULL},
    {"WsS://h", WSC_SCHEME_WSS, 1, "h", WSC_HOST_NAME, 443, 0, "/", NULL, NULL, NULL, NULL},
    {"ws://127.0.0.1:9001/", WSC_SCHEME_WS, 0, "127.0.0.1", WSC_HOST_IPV4, 9001, 1, "/", NULL, NULL, NULL, NULL},
    {"ws://0.0.0.0/", WSC_SCHEME_WS, 0, "0.0.0.0", WSC_HOST_IPV4, 80, 0, "/", NULL, NULL, NULL, NULL},
    {"ws://[::1]:8080/x", WSC_SCHEME_WS, 0, "::1", WSC_HOST_IPV6, 8080, 1, "/x", NULL, NULL, NULL, NULL},
    {"wss://[2001:db8::1]", WSC_SCHEME_WSS, 1, "2001:db8::1", WSC_HOST_IPV6, 443, 0, "/", NULL, NULL, NULL, NULL},
    {"ws://[::ffff:1.2.3.4]/", WSC_SCHEME_WS, 0, "::ffff:1.2.3.4", WSC_HOST_IPV6, 80, 0, "/", NULL, NULL, NULL, NULL},
    {"ws://h:/p", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/p", NULL, NULL, NULL, NULL},
    {"wss://h:443/", WSC_SCHEME_WSS, 1, "h", WSC_HOST_NAME, 443, 1, "/", NULL, NULL, NULL, NULL},
    {"ws://h:080/", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 1, "/", NULL, NULL, NULL, NULL},
    {"ws://h:1", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 1, 1, "/", NULL, NULL, NULL, NULL},
    {"ws://under_score.ex-ample.com:65535/", WSC_SCHEME_WS, 0, "under_score.ex-ample.com", WSC_HOST_NAME, 65535, 1, "/", NULL, NULL, NULL, NULL},
    {"ws://user:pa%40ss@h/p", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/p", NULL, "user", "pa%40ss", NULL},
    {"ws://user@h", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/", NULL, "user", NULL, NULL},
    {"ws://:pw@h:81", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 81, 1, "/", NULL, "", "pw", NULL},
    {"ws://a@b@h/", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/", NULL, "a@b", NULL, NULL},
    {"ws://h/p:q@x", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/p:q@x", NULL, NULL, NULL, NULL},
    {"ws://h?q=1", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/", "q=1", NULL, NULL, NULL},
    {"ws://h/?", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/", "", NULL, NULL, NULL},
    {"ws://h/a b<c>\"{}`\xc3\xa9", WSC_SCHEME_WS, 0, "h", WSC_HOST_NAME, 80, 0, "/a b<c>\"{}`\xc3\xa9", NULL, NULL, NULL, NULL},
    {"ws://h.example./", WSC_SCHEME_WS, 0, "h.example.", WSC_HOST_NAME, 80, 0, "/", NULL, NULL, NULL, NULL},
    {"ws://1a.example/", WSC_SCHEME_WS, 0, "1a.example", WSC_HOST_NAME, 80, 0, "/", NULL, NULL, NULL, NULL},
    {"ws+unix:/tmp/s.sock:/req?x=1", WSC_SCHEME_WS_UNIX, 0, NULL, WSC_HOST_NONE, 0, 0, "/req", "x=1", NULL, NULL, "/tmp/s.sock"},
    {"ws+unix:/tmp/s.sock", WSC_SCHEME_WS_UNIX, 0, NULL, WSC_HOST_NONE, 0, 0, "/", NULL, NULL, NULL, "/tmp/s.sock"},
    {"ws+unix:/tmp/s.sock:", WSC_SCHEME_WS_UNIX, 0, NULL, WSC_HOST_NONE, 0, 0, "/", NULL, NULL, NULL, "/tmp/s.sock"},
    {"ws+unix:/tmp/s.sock?a", WSC_SCHEME_WS_UNIX, 0, NULL, WSC_HOST_NONE, 0, 0, "/", "a", NULL, NULL, "/tmp/s.sock"},
    {"WSS+UNIX:///run/x.sock:/p", WSC_SCHEME_WSS_UNIX, 1, NULL, WSC_HOST_NONE, 0, 0, "/p", NULL, NULL, NULL, "/run/x.sock"},
};

static void test_good_urls(void **unused) {
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
        const struct good *g = &goods[i];
        wsc_url u;
        wsc_error err = {0};
        uint8_t *copy;
        size_t len = strlen(g->url);
        int rc = parse_guarded(g->url, len, &u, &err, &copy);
        if (rc != WSC_OK) fail_msg("%s: %d %s", g->url, rc, err.message);
        assert_int_equal(u.scheme, g->scheme);
        assert_int_equal(u.secure, g->secure);
        assert_span(u.host, g->host);
        assert_int_equal(u.host_kind, g->kind);
        assert_int_equal(u.port, g->port);
        assert_int_equal(u.port_explicit, g->port_explicit);
        assert_span(u.path, g->path);
        assert_span(u.query, g->query);
        assert_span(u.user, g->user);
        assert_span(u.password, g->password);
        assert_span(u.socket_path, g->socket_path);
        if (g->user) {
            /* userinfo spans the whole "user[:password]" */
            assert_non_null(u.userinfo.ptr);
            assert_ptr_equal(u.userinfo.ptr, u.user.ptr);
        } else {
            assert_null(u.userinfo.ptr);
        }
        /* spans point into the caller's string (the default path excepted) */
        if (u.host.ptr) assert_true(u.host.ptr >= (const char *)copy && u.host.ptr < (const char *)copy + len);
        tu_guard_free(copy, len);
    }
}

struct bad {
    const char *url;
    size_t len; /* 0: strlen */
    const char *msg;
};

static const struct bad bads[] = {
    {"ftp://h/", 0, "unsupported scheme 'ftp'"},
    {"wsx://h/", 0, "unsupported scheme 'wsx'"},
    {"ws://h:99999", 0, "bad port '99999'"},
    {"ws://h:65536/", 0, "bad port '65536'"},
    {"ws://h:0", 0, "bad port '0'"},
    {"ws://h:8a/", 0, "bad port '8a'"},
    {"ws://h:-1/", 0, "bad port '-1'"},
    {"ws://h:123456789012345678901234567890/", 0, "bad port"},
    {"ws://h/#frag", 0, "URL fragments are not allowed in WebSocket URLs"},
    {"ws://h#", 0, "fragments"},
    {"ws://h/p\r\nX-Injected: 1", 0, "control character"},
    {"ws://h/p\x7f", 0, "control character"},
    {"ws://h/p\tq", 0, "control character"},
    {"ws://h/\0x", 9, "control character"},
    {"ws:///path", 0, "empty host"},
    {"ws://:80/", 0, "empty host"},
    {"ws://user@/", 0, "empty host"},
    {"ws://", 0, "empty host"},
    {"ws://[]/", 0, "empty host"},
    {"ws://[::1%25eth0]/", 0, "zone"},
    {"ws://[fe80::1%eth0]/", 0, "zone"},
    {"ws://[::1/", 0, "unterminated"},
    {"ws://[xyz]/", 0, "bad IPv6"},
    {"ws://[1.2.3.4]/", 0, "bad IPv6"},
    {"ws://[::1]x/", 0, "unexpected characters after IPv6"},
    {"ws://ex ample.com/", 0, "invalid character ' ' in host"},
    {"ws://ex!ample.com/", 0, "invalid character '!' in host"},
    {"ws://b\xc3\xbc" "cher.de/", 0, "non-ASCII"},
    {"ws://ex%41mple.com/", 0, "percent-encoded"},
    {"ws://256.1.1.1/", 0, "bad IPv4"},
    {"ws://127.1/", 0, "bad IPv4"},
    {"ws://0x7f.0.0.1/", 0, "bad IPv4"},
    {"ws://01.2.3.4/", 0, "bad IPv4"},
    {"ws://1.2.3.4.5/", 0, "bad IPv4"},
    {"ws://example.123/", 0, "bad IPv4"},
    {"ws:h/", 0, "expected '//' after 'ws:'"},
    {"ws:/h/", 0, "expected '//'"},
    {"//h/p", 0, "missing scheme"},
    {"example.com", 0, "missing scheme"},
    {"1ws://h", 0, "missing scheme"},
    {"", 0, "empty URL"},
    {"ws+unix:", 0, "empty socket path"},
    {"ws+unix::/p", 0, "empty socket path"},
    {"ws+unix://host/sock", 0, "no host"},
    {"ws+unix:/s:rel", 0, "request path must start with '/'"},
};

static void test_bad_urls(void **unused) {
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        size_t len = b->len ? b->len : strlen(b->url);
        wsc_url u;
        wsc_error err = {0};
        uint8_t *copy;
        int rc = parse_guarded(b->url, len, &u, &err, &copy);
        if (rc != WSC_EURL) fail_msg("'%s': expected WSC_EURL, got %d", b->url, rc);
        assert_int_equal(err.code, WSC_EURL);
        if (!strstr(err.message, b->msg)) fail_msg("'%s': message '%s' lacks '%s'", b->url, err.message, b->msg);
        tu_guard_free(copy, len);
    }
}

/* Long host names, long socket paths, and no secrets in messages. */
static void test_limits_and_secrets(void **unused) {
    char url[600];
    wsc_url u;
    wsc_error err = {0};
    strcpy(url, "ws://");
    memset(url + 5, 'a', 255);
    strcpy(url + 260, "/");
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, &err), WSC_OK);
    assert_int_equal(u.host.len, 255);
    memset(url + 5, 'a', 256);
    strcpy(url + 261, "/");
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, &err), WSC_EURL);
    assert_non_null(strstr(err.message, "too long"));

    strcpy(url, "ws+unix:/");
    memset(url + 9, 's', 106);
    url[115] = '\0';
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, &err), WSC_OK);
    assert_int_equal(u.socket_path.len, 107);
    strcat(url, "s");
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, &err), WSC_EURL);
    assert_non_null(strstr(err.message, "socket path too long"));

    /* the password never reaches the message */
    const char *s = "ws://bob:hunter2@h:99999/";
    assert_int_equal(wsc_url_parse(s, strlen(s), &u, &err), WSC_EURL);
    assert_null(strstr(err.message, "hunter2"));
    s = "ws://bob:hunter2@h/#x";
    assert_int_equal(wsc_url_parse(s, strlen(s), &u, &err), WSC_EURL);
    assert_null(strstr(err.message, "hunter2"));

    /* a very long scheme is quoted truncated */
    memset(url, 'x', 200);
    strcpy(url + 200, "://h/");
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, &err), WSC_EURL);
    assert_non_null(strstr(err.message, "unsupported scheme"));
    assert_true(strlen(err.message) < 80);

    assert_int_equal(wsc_url_parse(NULL, 0, &u, &err), WSC_EINVAL);
    assert_int_equal(wsc_url_parse("ws://h", 6, NULL, &err), WSC_EINVAL);
    /* a NULL wsc_error is allowed */
    assert_int_equal(wsc_url_parse("ftp://h", 7, &u, NULL), WSC_EURL);
}

/* Only len bytes are read: a longer buffer's tail is not part of the URL. */
static void test_length_bound(void **unused) {
    const char *s = "ws://host:8080/path?q#fragment-not-included";
    size_t len = strlen("ws://host:8080/path?q");
    wsc_url u;
    uint8_t *copy;
    assert_int_equal(parse_guarded(s, len, &u, NULL, &copy), WSC_OK);
    assert_span(u.query, "q");
    assert_int_equal(u.port, 8080);
    tu_guard_free(copy, len);
    /* every prefix parses or fails cleanly, never reading past the end */
    for (size_t n = 0; n <= strlen(s); n++) {
        uint8_t *c;
        int rc = parse_guarded(s, n, &u, NULL, &c);
        assert_true(rc == WSC_OK || rc == WSC_EURL);
        tu_guard_free(c, n);
    }
}

static void check_origin(const char *url, const char *want) {
    wsc_url u;
    wsc_error err = {0};
    if (wsc_url_parse(url, strlen(url), &u, &err) != WSC_OK) fail_msg("%s: %s", url, err.message);
    char out[WSC_URL_ORIGIN_MAX];
    int n = wsc_url_origin(&u, out, sizeof out);
    if (n < 0 || strcmp(out, want) != 0) fail_msg("%s: origin '%s', want '%s'", url, out, want);
    assert_int_equal(n, strlen(want));
}

static void test_origin(void **unused) {
    check_origin("WS://Example.COM/x?y", "ws://example.com:80");
    check_origin("https://h", "wss://h:443");
    check_origin("http://H:8080", "ws://h:8080");
    check_origin("wss://h:443/", "wss://h:443");
    check_origin("ws://[2001:DB8:0:0::1]:9000", "ws://[2001:db8::1]:9000");
    check_origin("ws://[::1]", "ws://[::1]:80");
    check_origin("ws://10.0.0.1:8080", "ws://10.0.0.1:8080");
    check_origin("ws://user:pw@h/", "ws://h:80");
    check_origin("ws+unix:/tmp/s.sock:/p", "ws+unix:///tmp/s.sock");
    check_origin("wss+unix:/tmp/s.sock", "wss+unix:///tmp/s.sock");

    wsc_url u;
    assert_int_equal(wsc_url_parse("ws://example.com", 16, &u, NULL), WSC_OK);
    char small[19];
    memset(small, 'x', sizeof small);
    assert_int_equal(wsc_url_origin(&u, small, sizeof small), WSC_ETOOBIG);
    assert_string_equal(small, "");
    char exact[20]; /* "ws://example.com:80" + NUL */
    assert_int_equal(wsc_url_origin(&u, exact, sizeof exact), 19);
    assert_string_equal(exact, "ws://example.com:80");
    assert_int_equal(wsc_url_origin(NULL, exact, sizeof exact), WSC_EINVAL);
    /* the longest host still fits WSC_URL_ORIGIN_MAX */
    char url[300], out[WSC_URL_ORIGIN_MAX];
    strcpy(url, "wss://");
    memset(url + 6, 'z', 255);
    strcpy(url + 261, ":65535");
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, NULL), WSC_OK);
    assert_int_equal(wsc_url_origin(&u, out, sizeof out), 6 + 255 + 6);
}

static void check_auth(const char *url, const char *want) {
    wsc_url u;
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, NULL), WSC_OK);
    wsc_buf b = {0};
    assert_int_equal(wsc_buf_append(&b, "A: ", 3), WSC_OK);
    assert_int_equal(wsc_url_basic_auth(&u, &b), WSC_OK);
    if (b.len != 3 + strlen(want) || memcmp(b.data + 3, want, b.len - 3) != 0)
        fail_msg("%s: '%.*s', want '%s'", url, (int)b.len - 3, (const char *)b.data + 3, want);
    wsc_buf_free(&b);
}

static void test_basic_auth(void **unused) {
    check_auth("ws://Aladdin:open%20sesame@h/", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    check_auth("ws://user:pa%40ss@h", "Basic dXNlcjpwYUBzcw==");
    check_auth("ws://user@h", "Basic dXNlcjo=");
    check_auth("ws://:@h", "Basic Og==");
    check_auth("ws://a+b:%zz@h", "Basic YStiOiV6eg==");
    check_auth("ws://%E9:%00x@h", "Basic 6ToAeA==");
    wsc_url u;
    wsc_buf b = {0};
    assert_int_equal(wsc_url_parse("ws://h/", 7, &u, NULL), WSC_OK);
    assert_int_equal(wsc_url_basic_auth(&u, &b), WSC_EINVAL);
    assert_int_equal(wsc_url_basic_auth(NULL, &b), WSC_EINVAL);
    assert_int_equal(wsc_url_parse("ws://u:p@h/", 11, &u, NULL), WSC_OK);
    b.max = 8;
    assert_int_equal(wsc_url_basic_auth(&u, &b), WSC_ETOOBIG);
    assert_int_equal(b.len, 0);
    wsc_buf_free(&b);
}

/* wsc__basic_auth, the HTTP proxy's: the same encoder on bytes that are
   already decoded, so '%' stays itself, and no ':' is added. */
static void check_raw_auth(const char *cred, const char *want) {
    wsc_buf b = {0};
    assert_int_equal(wsc_buf_append(&b, "A: ", 3), WSC_OK);
    uint8_t *copy = tu_guard_copy(cred, strlen(cred));
    assert_non_null(copy);
    assert_int_equal(wsc__basic_auth((const char *)copy, strlen(cred), &b), WSC_OK);
    if (b.len != 3 + strlen(want) || memcmp(b.data, "A: ", 3) != 0 ||
        memcmp(b.data + 3, want, b.len - 3) != 0)
        fail_msg("%s: '%.*s', want '%s'", cred, (int)b.len - 3, (const char *)b.data + 3, want);
    tu_guard_free(copy, strlen(cred));
    wsc_buf_free(&b);
}

static void test_raw_basic_auth(void **unused) {
    (void)unused;
    check_raw_auth("alice:s3cr.t", "Basic YWxpY2U6czNjci50");
    check_raw_auth("a:%41", "Basic YTolNDE=");
    check_raw_auth("user", "Basic dXNlcg==");
    check_raw_auth("", "Basic ");
    wsc_buf b = {0};
    b.max = 8;
    assert_int_equal(wsc__basic_auth("u:p", 3, &b), WSC_ETOOBIG);
    assert_int_equal(b.len, 0);
    wsc_buf_free(&b);
}

/* wsc__pct_decode (proxy credentials): "%XX" only; a malformed '%', one cut
   by the end of the input included, stands for itself; '+' is kept. */
static void check_pct(const char *in, const char *want, size_t want_len) {
    size_t n = strlen(in);
    uint8_t *copy = tu_guard_copy(in, n);
    assert_non_null(copy);
    char out[64];
    size_t got = wsc__pct_decode((const char *)copy, n, out);
    if (got != want_len || memcmp(out, want, got) != 0)
        fail_msg("pct_decode('%s') = '%.*s', want '%s'", in, (int)got, out, want);
    tu_guard_free(copy, n);
}

static void test_pct_decode(void **unused) {
    (void)unused;
    check_pct("", "", 0);
    check_pct("plain", "plain", 5);
    check_pct("%41%4a%4A", "AJJ", 3);
    check_pct("a+b", "a+b", 3);
    check_pct("%zz%", "%zz%", 4);
    check_pct("x%4", "x%4", 3);
    check_pct("%%41", "%A", 2);
    check_pct("%00:%3a", "\0::", 3);
    check_pct("s3cr%25t", "s3cr%t", 6);
}

/* wsc_query_set appending to a buffer that already holds "prefix:". */
static void check_set(const char *query, const char *name, const char *value, const char *want) {
    wsc_buf b = {0};
    assert_int_equal(wsc_buf_append(&b, "prefix:", 7), WSC_OK);
    size_t ql = query ? strlen(query) : 0;
    uint8_t *copy = query ? tu_guard_copy(query, ql) : NULL;
    assert_int_equal(wsc_query_set((const char *)copy, ql, name, value, &b), WSC_OK);
    size_t n = wsc_buf_pending(&b);
    if (n != 7 + strlen(want) || memcmp(b.data + b.off, "prefix:", 7) != 0 ||
        memcmp(b.data + b.off + 7, want, n - 7) != 0)
        fail_msg("query_set('%s', %s=%s) = '%.*s', want '%s'", query ? query : "(null)", name, value,
                 (int)n - 7, (const char *)b.data + b.off + 7, want);
    if (copy) tu_guard_free(copy, ql);
    wsc_buf_free(&b);
}

static void test_query_set(void **unused) {
    check_set(NULL, "csrf", "abc", "csrf=abc");
    check_set("", "csrf", "abc", "csrf=abc");
    check_set("a=1&b=2", "csrf", "t", "a=1&b=2&csrf=t");
    check_set("a=1&csrf=old&b=2", "csrf", "new", "a=1&csrf=new&b=2");
    check_set("csrf=1&a=1&csrf=2&b&csrf", "csrf", "n", "csrf=n&a=1&b");
    check_set("a=1&csrf=1&csrf", "csrf", "n", "a=1&csrf=n");
    check_set("csrf", "csrf", "v", "csrf=v");
    check_set("a=1&", "csrf", "x", "a=1&csrf=x");
    check_set("x=%20&&y=a+b&z=%zz", "csrf", "v", "x=%20&&y=a+b&z=%zz&csrf=v");
    check_set("cs%72f=old&q", "csrf", "new", "csrf=new&q");
    check_set("csrfx=1&xcsrf=2", "csrf", "v", "csrfx=1&xcsrf=2&csrf=v");
    check_set("a=1", "csrf", "", "a=1&csrf=");
    check_set("a=1", "csrf", "a+b&c=d e/\xc3\xa9?#%", "a=1&csrf=a%2Bb%26c%3Dd%20e%2F%C3%A9%3F%23%25");
    check_set("a=1", "csrf", "AZaz09-._~", "a=1&csrf=AZaz09-._~");
    check_set("a=1", "my key", "v", "a=1&my%20key=v");
    check_set("my+key=1", "my key", "v", "my%20key=v");

    wsc_buf b = {0};
    assert_int_equal(wsc_query_set("a", 1, NULL, "v", &b), WSC_EINVAL);
    assert_int_equal(wsc_query_set("a", 1, "n", NULL, &b), WSC_EINVAL);
    assert_int_equal(wsc_query_set(NULL, 3, "n", "v", &b), WSC_EINVAL);
    /* a full buffer: WSC_ETOOBIG and nothing appended */
    b.max = 8;
    assert_int_equal(wsc_buf_append(&b, "12345", 5), WSC_OK);
    assert_int_equal(wsc_query_set("a=1", 3, "csrf", "token", &b), WSC_ETOOBIG);
    assert_int_equal(wsc_buf_pending(&b), 5);
    wsc_buf_free(&b);
}

static void test_query_get(void **unused) {
    const char *q = "a=1&csrf=x%2By+z%00w&c&e=&csrf=second";
    size_t ql = strlen(q);
    uint8_t *copy = tu_guard_copy(q, ql);
    const char *qc = (const char *)copy;
    char out[32];
    size_t n = 99;
    assert_int_equal(wsc_query_get(qc, ql, "csrf", out, sizeof out, &n), 1);
    assert_int_equal(n, 7);
    assert_memory_equal(out, "x+y z\0w", 8);
    assert_int_equal(wsc_query_get(qc, ql, "a", out, sizeof out, &n), 1);
    assert_string_equal(out, "1");
    assert_int_equal(wsc_query_get(qc, ql, "c", out, sizeof out, &n), 1);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    assert_int_equal(wsc_query_get(qc, ql, "e", out, sizeof out, &n), 1);
    assert_int_equal(n, 0);
    memcpy(out, "untouched", 10);
    assert_int_equal(wsc_query_get(qc, ql, "missing", out, sizeof out, &n), 0);
    assert_string_equal(out, "untouched");
    assert_int_equal(wsc_query_get(qc, ql, "csr", out, sizeof out, &n), 0);
    /* too small: 7 bytes + NUL need 8 */
    assert_int_equal(wsc_query_get(qc, ql, "csrf", out, 7, &n), WSC_ETOOBIG);
    assert_int_equal(wsc_query_get(qc, ql, "csrf", out, 8, &n), 1);
    tu_guard_free(copy, ql);

    /* malformed escapes, including one cut by the end of the input */
    const char *bad[] = {"t=%zz", "t=%4", "t=%"};
    for (size_t i = 0; i < 3; i++) {
        size_t bl = strlen(bad[i]);
        uint8_t *bc = tu_guard_copy(bad[i], bl);
        assert_int_equal(wsc_query_get((const char *)bc, bl, "t", out, sizeof out, &n), WSC_EINVAL);
        tu_guard_free(bc, bl);
    }
    /* encoded names match; in a name, '+' is a space and a malformed escape
       stands for itself (no error: the name is only compared) */
    assert_int_equal(wsc_query_get("c%73rf=1", 8, "csrf", out, sizeof out, &n), 1);
    assert_int_equal(wsc_query_get("a+b=2", 5, "a b", out, sizeof out, &n), 1);
    assert_string_equal(out, "2");
    assert_int_equal(wsc_query_get("a%zz=3&%4=4", 11, "a%zz", out, sizeof out, &n), 1);
    assert_string_equal(out, "3");
    assert_int_equal(wsc_query_get("a%zz=3&%4=4", 11, "%4", out, sizeof out, &n), 1);
    assert_string_equal(out, "4");
    assert_int_equal(wsc_query_get("a%2=5", 5, "a%2", out, sizeof out, &n), 1);
    assert_int_equal(wsc_query_get(NULL, 0, "csrf", out, sizeof out, &n), 0);

    /* round trip: whatever query_set writes, query_get reads back */
    const char *vals[] = {"", "plain", "a+b&c=d e", "\xc3\xa9\xe2\x82\xac", "%25%", "==&&"};
    for (size_t i = 0; i < 6; i++) {
        wsc_buf b = {0};
        assert_int_equal(wsc_query_set("x=1&csrf=old", 12, "csrf", vals[i], &b), WSC_OK);
        char got[64];
        assert_int_equal(wsc_query_get((const char *)b.data, b.len, "csrf", got, sizeof got, &n), 1);
        assert_int_equal(n, strlen(vals[i]));
        assert_memory_equal(got, vals[i], n);
        assert_int_equal(wsc_query_get((const char *)b.data, b.len, "x", got, sizeof got, &n), 1);
        assert_string_equal(got, "1");
        wsc_buf_free(&b);
    }
}

static void check_cookie(const char *hdr, const char *name, const char *want) {
    size_t hl = strlen(hdr);
    uint8_t *copy = tu_guard_copy(hdr, hl);
    const char *v = NULL;
    size_t vl = 0;
    int rc = wsc_cookie_get((const char *)copy, hl, name, &v, &vl);
    if (!want) {
        if (rc != 0) fail_msg("cookie '%s' found in '%s'", name, hdr);
    } else {
        if (rc != 1 || vl != strlen(want) || memcmp(v, want, vl) != 0)
            fail_msg("cookie '%s' in '%s': rc %d '%.*s', want '%s'", name, hdr, rc, (int)vl,
                     v ? v : "", want);
        assert_true(v >= (const char *)copy && v + vl <= (const char *)copy + hl);
    }
    tu_guard_free(copy, hl);
}

static void test_cookie_get(void **unused) {
    check_cookie("a=1; csrf_token=abc;b=2", "csrf_token", "abc");
    check_cookie("csrf_token=abc", "csrf_token", "abc");
    check_cookie(" csrf_token = \"q w\" ;", "csrf_token", "q w");
    check_cookie("\tcsrf_token=\t x \t", "csrf_token", "x");
    check_cookie("xcsrf_token=1; csrf_token=2", "csrf_token", "2");
    check_cookie("csrf_token_x=1; csrf_token=2", "csrf_token", "2");
    check_cookie("csrf_token; csrf_token=3", "csrf_token", "3");
    check_cookie("CSRF_TOKEN=1", "csrf_token", NULL);
    check_cookie("csrf_token=first; csrf_token=second", "csrf_token", "first");
    check_cookie("a=1;b=2", "csrf_token", NULL);
    check_cookie("csrf_token=", "csrf_token", "");
    check_cookie("csrf_token=a=b", "csrf_token", "a=b");
    check_cookie("csrf_token=\"", "csrf_token", "\"");
    check_cookie("", "csrf_token", NULL);
    check_cookie(";;;", "csrf_token", NULL);
    const char *v;
    size_t vl;
    assert_int_equal(wsc_cookie_get(NULL, 0, "a", &v, &vl), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls),      cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_limits_and_secrets), cmocka_unit_test(test_length_bound),
        cmocka_unit_test(test_origin),         cmocka_unit_test(test_query_set),
        cmocka_unit_test(test_query_get),      cmocka_unit_test(test_cookie_get),
        cmocka_unit_test(test_basic_auth),     cmocka_unit_test(test_raw_basic_auth),
        cmocka_unit_test(test_pct_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
