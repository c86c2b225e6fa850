/*
 * test_handshake.c - the opening handshake: key and accept values (RFC 6455
 * section 1.3's example), the client's request (exact bytes, Host forms,
 * every injection attempt), the client's check of the response (each rule
 * of RFC 6455 section 4.1), the server's check of a request (each rule of
 * section 4.2.1 and the status it maps to) and the server's answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsc/http.h"

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void assert_span(wsc_span sp, const char *want) {
    if (!want) {
        assert_null(sp.ptr);
        return;
    }
    assert_non_null(sp.ptr);
    if (sp.len != strlen(want) || memcmp(sp.ptr, want, sp.len) != 0)
        fail_msg("span '%.*s' != '%s'", (int)sp.len, sp.ptr, want);
}

static void assert_buf(const wsc_buf *b, const char *want) {
    size_t n = wsc_buf_pending(b);
    if (n != strlen(want) || memcmp(b->data + b->off, want, n) != 0)
        fail_msg("buffer:\n%.*s\nwant:\n%s", (int)n, (const char *)b->data + b->off, want);
}

/* ---- keys --------------------------------------------------------------- */

static void test_key_and_accept(void **unused) {
    char key[25], acc[29];
    wsc_handshake_key((const uint8_t *)"the sample nonce", key);
    assert_string_equal(key, RFC_KEY);
    static const uint8_t seq[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    wsc_handshake_key(seq, key);
    assert_string_equal(key, "AAECAwQFBgcICQoLDA0ODw==");
    assert_int_equal(wsc_handshake_accept(RFC_KEY, strlen(RFC_KEY), acc), WSC_OK);
    assert_string_equal(acc, RFC_ACCEPT);
    /* keys at and beyond the on-stack buffer take the same result */
    char longkey[201];
    memset(longkey, 'A', 128);
    assert_int_equal(wsc_handshake_accept(longkey, 128, acc), WSC_OK);
    assert_string_equal(acc, "18kJHgymYy4Gps0qATK+/0kJWKI=");
    memset(longkey, 'K', 200);
    assert_int_equal(wsc_handshake_accept(longkey, 200, acc), WSC_OK);
    assert_string_equal(acc, "o768Tl9lwJa8FS+94g4u3WFExNc=");
}

/* ---- the client's request ---------------------------------------------- */

static const char *const chat_protocols[] = {"chat", "superchat", NULL};

static void test_request_full(void **unused) {
    const wsc_header extra[] = {{wsc_span_str("X-Trace"), wsc_span_str("1\t2")},
                                {wsc_span_str("Accept-Language"), wsc_span_str("en")}};
    wsc_handshake_req req = {0};
    req.host = wsc_span_str("example.com");
    req.port = 8080;
    req.show_port = 1;
    req.path = wsc_span_str("/chat room/{x}");
    req.query = wsc_span_str("csrf=a b&x=\xc3\xa9&q=\"<>`");
    req.key = RFC_KEY;
    req.protocols = chat_protocols;
    req.extensions = wsc_span_str("permessage-deflate; client_max_window_bits");
    req.origin = wsc_span_str("http://example.com");
    req.cookie = wsc_span_str("csrf_token=abc; theme=dark");
    req.authorization = wsc_span_str("Basic dXNlcjpwYXNz");
    req.headers = extra;
    req.n_headers = 2;
    wsc_buf b = {0};
    wsc_error err = {0};
    assert_int_equal(wsc_handshake_request(&req, &b, &err), WSC_OK);
    assert_buf(&b, "GET /chat%20room/%7Bx%7D?csrf=a%20b&x=%C3%A9&q=%22%3C%3E%60 HTTP/1.1\r\n"
                   "Host: example.com:8080\r\n"
                   "Upgrade: websocket\r\n"
                   "Connection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: chat, superchat\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                   "Origin: http://example.com\r\n"
                   "Cookie: csrf_token=abc; theme=dark\r\n"
                   "User-Agent: wsc/" WSC_VERSION_STRING "\r\n"
                   "Authorization: Basic dXNlcjpwYXNz\r\n"
                   "X-Trace: 1\t2\r\n"
                   "Accept-Language: en\r\n"
                   "\r\n");
    wsc_buf_free(&b);

    /* the request is appended after what the buffer held */
    assert_int_equal(wsc_buf_append(&b, "xx", 2), WSC_OK);
    wsc_buf_consume(&b, 1);
    wsc_handshake_req min = {0};
    min.host = wsc_span_str("h");
    min.key = RFC_KEY;
    min.user_agent = wsc_span_str(""); /* none */
    assert_int_equal(wsc_handshake_request(&min, &b, &err), WSC_OK);
    assert_buf(&b, "xGET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n");
    wsc_buf_free(&b);

    /* a custom User-Agent, an empty protocol list, an empty query */
    const char *const none[] = {NULL};
    min.user_agent = wsc_span_str("my-agent/1.0");
    min.protocols = none;
    min.query = wsc_span_str("");
    assert_int_equal(wsc_handshake_request(&min, &b, &err), WSC_OK);
    assert_buf(&b, "GET /? HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: " RFC_KEY "\r\nSec-WebSocket-Version: 13\r\n"
                   "User-Agent: my-agent/1.0\r\n\r\n");
    wsc_buf_free(&b);
}

/* Host line and target produced from a URL. */
static void check_from_url(const char *url, const char *want_line1, const char *want_host) {
    wsc_url u;
    wsc_error err = {0};
    if (wsc_url_parse(url, strlen(url), &u, &err)) fail_msg("%s: %s", url, err.message);
    wsc_handshake_req req = {0};
    req.key = RFC_KEY;
    wsc_handshake_req_from_url(&req, &u);
    wsc_buf b = {0};
    if (wsc_handshake_request(&req, &b, &err)) fail_msg("%s: %s", url, err.message);
    char want[512];
    snprintf(want, sizeof want, "%s\r\nHost: %s\r\n", want_line1, want_host);
    if (b.len < strlen(want) || memcmp(b.data, want, strlen(want)) != 0)
        fail_msg("%s:\n%.*s\nwant:\n%s", url, (int)b.len, (const char *)b.data, want);
    wsc_buf_free(&b);
}

static void test_request_host_forms(void **unused) {
    check_from_url("ws://example.com", "GET / HTTP/1.1", "example.com");
    check_from_url("ws://example.com:80/a?b", "GET /a?b HTTP/1.1", "example.com");
    check_from_url("ws://example.com:81/", "GET / HTTP/1.1", "example.com:81");
    check_from_url("wss://example.com:443/", "GET / HTTP/1.1", "example.com");
    check_from_url("wss://example.com:80/", "GET / HTTP/1.1", "example.com:80");
    check_from_url("https://example.com:8443/", "GET / HTTP/1.1", "example.com:8443");
    check_from_url("ws://10.1.2.3:9000/", "GET / HTTP/1.1", "10.1.2.3:9000");
    check_from_url("ws://[::1]:8080/x", "GET /x HTTP/1.1", "[::1]:8080");
    check_from_url("wss://[2001:db8::1]/", "GET / HTTP/1.1", "[2001:db8::1]");
    check_from_url("ws://user:pw@h/", "GET / HTTP/1.1", "h");
    check_from_url("ws+unix:/tmp/s.sock:/p?q=1", "GET /p?q=1 HTTP/1.1", "localhost");
    check_from_url("ws://h/a b", "GET /a%20b HTTP/1.1", "h");
    /* a host given in brackets is written as is */
    wsc_handshake_req req = {0};
    req.key = RFC_KEY;
    req.host = wsc_span_str("[::1]");
    req.port = 1;
    req.show_port = 1;
    wsc_buf b = {0};
    assert_int_equal(wsc_handshake_request(&req, &b, NULL), WSC_OK);
    assert_memory_equal(b.data, "GET / HTTP/1.1\r\nHost: [::1]:1\r\n", 31);
    wsc_buf_free(&b);
}

/* A request that must be refused: EINVAL, a message naming `field`, no
   `secret` in it, and nothing appended. */
static void expect_refused(const wsc_handshake_req *req, const char *field, const char *secret) {
    wsc_buf b = {0};
    assert_int_equal(wsc_buf_append(&b, "keep", 4), WSC_OK);
    wsc_error err = {0};
    int rc = wsc_handshake_request(req, &b, &err);
    if (rc != WSC_EINVAL) fail_msg("expected WSC_EINVAL for %s, got %d", field, rc);
    assert_int_equal(err.code, WSC_EINVAL);
    if (!strstr(err.message, field)) fail_msg("message '%s' lacks '%s'", err.message, field);
    if (secret && strstr(err.message, secret)) fail_msg("message '%s' leaks '%s'", err.message, secret);
    assert_buf(&b, "keep");
    wsc_buf_free(&b);
}

static wsc_handshake_req base_req(void) {
    wsc_handshake_req req = {0};
    req.host = wsc_span_str("example.com");
    req.key = RFC_KEY;
    return req;
}

/* base_req() with one span field (at offset `off`) set to v: refused. */
#define SPAN_AT(r, off) (*(wsc_span *)((char *)&(r) + (off)))
static void refuse_span(size_t off, wsc_span v, const char *field, const char *secret) {
    wsc_handshake_req r = base_req();
    SPAN_AT(r, off) = v;
    expect_refused(&r, field, secret);
}

/* base_req() with one extra header: refused. */
static void refuse_header(wsc_span name, wsc_span value, const char *field, const char *secret) {
    wsc_header h = {name, value};
    wsc_handshake_req r = base_req();
    r.headers = &h;
    r.n_headers = 1;
    expect_refused(&r, field, secret);
}

static void test_request_injection(void **unused) {
    static const char *const bad_values[] = {"secret\r\nX-Evil: 1", "secret\nX", "secret\rX",
                                             "secret\x01", "secret\x7f", "secret\x1b[0m"};
    /* the value fields and the message naming each */
    static const struct {
        size_t off;
        const char *field;
    } values[] = {{offsetof(wsc_handshake_req, cookie), "Cookie"},
                  {offsetof(wsc_handshake_req, origin), "Origin"},
                  {offsetof(wsc_handshake_req, user_agent), "User-Agent"},
                  {offsetof(wsc_handshake_req, authorization), "Authorization"},
                  {offsetof(wsc_handshake_req, extensions), "Sec-WebSocket-Extensions"}};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        const char *v = bad_values[i];
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++)
            refuse_span(values[k].off, wsc_span_str(v), values[k].field, "secret");
        refuse_header(wsc_span_str("X-Token"), wsc_span_str(v), "X-Token", "secret");
    }
    /* NUL inside a span */
    static const char nul_cookie[] = "csrf=secret\0X-Evil: 1";
    const wsc_span nul = {nul_cookie, sizeof nul_cookie - 1};
    refuse_span(offsetof(wsc_handshake_req, cookie), nul, "Cookie", "secret");
    refuse_span(offsetof(wsc_handshake_req, authorization), nul, "Authorization", "secret");
    refuse_span(offsetof(wsc_handshake_req, origin), nul, "Origin", NULL);
    refuse_span(offsetof(wsc_handshake_req, user_agent), nul, "User-Agent", NULL);
    refuse_header(wsc_span_str("X-A"), nul, "X-A", "secret");

    /* header names: CR/LF/NUL/space/colon, empty */
    static const char nul_name[] = "X-A\0B";
    const wsc_span names[] = {wsc_span_str("X-Evil\r\nHost"), wsc_span_str("X:Y"), wsc_span_str("X Y"),
                              wsc_span_str(""), {nul_name, sizeof nul_name - 1}, {NULL, 0}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        refuse_header(names[i], wsc_span_str("v"), "name is not a token", NULL);
    /* path, query, host */
    static const char nul_path[] = "/a\0b";
    const struct {
        size_t off;
        wsc_span v;
        const char *want;
    } targets[] = {
        {offsetof(wsc_handshake_req, path), wsc_span_str("/a\r\nX: y"), "request path"},
        {offsetof(wsc_handshake_req, path), {nul_path, sizeof nul_path - 1}, "request path"},
        {offsetof(wsc_handshake_req, path), wsc_span_str("/a#b"), "request path"},
        {offsetof(wsc_handshake_req, path), wsc_span_str("a"), "must start with '/'"},
        {offsetof(wsc_handshake_req, path), wsc_span_str(""), "must start with '/'"},
        {offsetof(wsc_handshake_req, query), wsc_span_str("a=1\r\nX: y"), "query"},
        {offsetof(wsc_handshake_req, query), wsc_span_str("a=1#f"), "query"},
        {offsetof(wsc_handshake_req, host), wsc_span_str("h\r\nX: y"), "host"},
        {offsetof(wsc_handshake_req, host), wsc_span_str("h/x"), "host"},
        {offsetof(wsc_handshake_req, host), wsc_span_str("[h]"), "host"},
        {offsetof(wsc_handshake_req, host), {NULL, 0}, "missing host"},
    };
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        refuse_span(targets[i].off, targets[i].v, targets[i].want, NULL);
    wsc_handshake_req r = base_req();
    r.show_port = 1;
    expect_refused(&r, "port 0", NULL);
    /* the key: none, too short, not base64 of 16 bytes */
    static const char *const bad_keys[] = {NULL, "dGhlIHNhbXBsZQ==", "dGhlIHNhbXBsZSBub25jZQ=\n"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        r = base_req();
        r.key = bad_keys[i];
        expect_refused(&r, "Sec-WebSocket-Key", NULL);
    }

    /* values may carry HTAB and obs-text */
    r = base_req();
    r.origin = wsc_span_str("http://b\xc3\xbc" "cher.example");
    r.cookie = wsc_span_str("a=1;\tb=2");
    wsc_buf b = {0};
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    wsc_buf_free(&b);
}

static void test_request_subprotocols(void **unused) {
    const char *const dup[] = {"chat", "v2", "chat", NULL};
    wsc_handshake_req r = base_req();
    r.protocols = dup;
    expect_refused(&r, "subprotocol 'chat' is listed twice", NULL);
    const char *const bad_sets[][3] = {{"a b", NULL, NULL},     {"", NULL, NULL},
                                       {"ok", "a,b", NULL},     {"a;b", NULL, NULL},
                                       {"chat\r\nX: y", NULL, NULL}, {"caf\xc3\xa9", NULL, NULL},
                                       {"a/b", NULL, NULL},     {"\"q\"", NULL, NULL}};
    for (size_t i = 0; i < sizeof bad_sets / sizeof bad_sets[0]; i++) {
        r = base_req();
        r.protocols = bad_sets[i];
        expect_refused(&r, "not a valid token", NULL);
    }
    /* case-sensitive comparison: chat and Chat are two protocols */
    const char *const cased[] = {"chat", "Chat", "x.y_z-1!", NULL};
    r = base_req();
    r.protocols = cased;
    wsc_buf b = {0};
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    assert_non_null(strstr((const char *)b.data, "Sec-WebSocket-Protocol: chat, Chat, x.y_z-1!\r\n"));
    wsc_buf_free(&b);
}

static void test_request_owned_headers(void **unused) {
    static const char *const owned[] = {"Host", "host", "Upgrade", "CONNECTION", "Sec-WebSocket-Key",
                                        "sec-websocket-version", "Sec-WebSocket-Protocol",
                                        "Sec-WebSocket-Extensions", "Sec-WebSocket-Foo",
                                        "Content-Length", "transfer-encoding"};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        wsc_header h = {wsc_span_str(owned[i]), wsc_span_str("x")};
        wsc_handshake_req r = base_req();
        r.headers = &h;
        r.n_headers = 1;
        expect_refused(&r, "is set by the library", NULL);
    }
    /* Cookie/Origin/Authorization: refused only when the field is in use */
    wsc_header hc = {wsc_span_str("cookie"), wsc_span_str("a=1")};
    wsc_handshake_req r = base_req();
    r.headers = &hc;
    r.n_headers = 1;
    wsc_buf b = {0};
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    assert_non_null(strstr((const char *)b.data, "\r\ncookie: a=1\r\n"));
    wsc_buf_free(&b);
    r.cookie = wsc_span_str("b=2");
    expect_refused(&r, "is set by the library", NULL);
    wsc_header ho = {wsc_span_str("Origin"), wsc_span_str("http://x")};
    r = base_req();
    r.headers = &ho;
    r.n_headers = 1;
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    wsc_buf_free(&b);
    r.origin = wsc_span_str("http://y");
    expect_refused(&r, "is set by the library", NULL);
    /* User-Agent: the default is always sent unless the field is "" */
    wsc_header hu = {wsc_span_str("User-Agent"), wsc_span_str("x")};
    r = base_req();
    r.headers = &hu;
    r.n_headers = 1;
    expect_refused(&r, "is set by the library", NULL);
    r.user_agent = wsc_span_str("");
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    assert_non_null(strstr((const char *)b.data, "\r\nUser-Agent: x\r\n"));
    wsc_buf_free(&b);
}

/* A full output buffer: WSC_ETOOBIG and nothing appended. */
static void test_request_rollback(void **unused) {
    wsc_handshake_req r = base_req();
    r.protocols = chat_protocols;
    r.cookie = wsc_span_str("csrf_token=abc");
    wsc_buf full = {0};
    assert_int_equal(wsc_handshake_request(&r, &full, NULL), WSC_OK);
    size_t need = full.len;
    wsc_buf_free(&full);
    for (size_t max = 3; max < need + 3; max += 7) {
        wsc_buf b = {0};
        b.max = max;
        assert_int_equal(wsc_buf_append(&b, "abc", 3), WSC_OK);
        wsc_error err = {0};
        int rc = wsc_handshake_request(&r, &b, &err);
        if (max < need + 3) {
            assert_int_equal(rc, WSC_ETOOBIG);
            assert_int_equal(err.code, WSC_ETOOBIG);
            assert_buf(&b, "abc");
        }
        wsc_buf_free(&b);
    }
    wsc_buf b = {0};
    b.max = need + 3;
    assert_int_equal(wsc_buf_append(&b, "abc", 3), WSC_OK);
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    wsc_buf_free(&b);
}

/* ---- the client's check of the response --------------------------------- */

/* Parses text (which must be a complete head) from a guard copy kept in *copy. */
static void parse_response(const char *text, wsc_http_response *r, uint8_t **copy) {
    size_t len = strlen(text);
    *copy = tu_guard_copy(text, len);
    int rc = wsc_http_parse_response((const char *)*copy, len, 0, r, 0);
    if (rc != (int)len) fail_msg("parse: %d %s\n%s", rc, r->error ? r->error : "", text);
}

/* Checks a response made of the status line, `headers` (CRLF-terminated
   lines) and the blank line. */
static int check(const char *status, const char *headers, const char *const *protocols,
                 const wsc_pmd_offer *offer, wsc_handshake_result *res, wsc_error *err) {
    char text[4096];
    snprintf(text, sizeof text, "%s\r\n%s\r\n", status, headers);
    wsc_http_response *r = malloc(sizeof *r);
    assert_non_null(r);
    uint8_t *copy;
    parse_response(text, r, &copy);
    memset(err, 0, sizeof *err);
    int rc = wsc_handshake_check_response(r, RFC_KEY, protocols, offer, res, err);
    /* the result's spans must lie in the head */
    if (res->protocol.ptr) assert_true(res->protocol.ptr >= (const char *)copy);
    /* res points into r and the copy: keep the last few alive in a ring */
    static struct {
        uint8_t *copy;
        size_t len;
        wsc_http_response *r;
    } ring[4];
    static unsigned next;
    unsigned k = next++ % 4;
    if (ring[k].copy) {
        tu_guard_free(ring[k].copy, ring[k].len);
        free(ring[k].r);
    }
    ring[k].copy = copy;
    ring[k].len = strlen(text);
    ring[k].r = r;
    return rc;
}

#define OK_HEADERS "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
#define S101 "HTTP/1.1 101 Switching Protocols"

static void expect_fail(int want_rc, const char *status, const char *headers,
                        const char *const *protocols, const wsc_pmd_offer *offer, const char *msg) {
    wsc_handshake_result res;
    wsc_error err;
    int rc = check(status, headers, protocols, offer, &res, &err);
    if (rc != want_rc || err.code != want_rc || !strstr(err.message, msg))
        fail_msg("headers:\n%s\ngot %d '%s', want %d '%s'", headers, rc, err.message, want_rc, msg);
}

static void test_response_rfc(void **unused) {
    wsc_handshake_result res;
    wsc_error err;
    assert_int_equal(check(S101, OK_HEADERS "Sec-WebSocket-Protocol: chat\r\n", chat_protocols, NULL,
                           &res, &err),
                     WSC_OK);
    assert_int_equal(res.status, 101);
    assert_span(res.reason, "Switching Protocols");
    assert_span(res.protocol, "chat");
    assert_null(res.extensions.ptr);
    assert_int_equal(res.pmd.enabled, 0);
    assert_null(res.location.ptr);
    assert_non_null(res.response);
    /* header names and the Upgrade/Connection values are case-insensitive */
    assert_int_equal(check(S101,
                           "UPGRADE: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n"
                           "sec-websocket-accept: " RFC_ACCEPT "\r\n",
                           NULL, NULL, &res, &err),
                     WSC_OK);
    assert_int_equal(check("HTTP/1.1 101", "Upgrade: websocket\r\nConnection: x\r\nConnection: upgrade\r\n"
                           "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n", NULL, NULL, &res, &err),
                     WSC_OK);
    /* no subprotocol selected although some were offered: allowed */
    assert_int_equal(check(S101, OK_HEADERS, chat_protocols, NULL, &res, &err), WSC_OK);
    assert_null(res.protocol.ptr);
    /* an empty Sec-WebSocket-Extensions header selects nothing */
    wsc_pmd_offer offer = {0};
    assert_int_equal(check(S101, OK_HEADERS "Sec-WebSocket-Extensions:  \r\n", NULL, &offer, &res, &err),
                     WSC_OK);
    assert_int_equal(res.pmd.enabled, 0);
}

static void test_response_failures(void **unused) {
    /* Accept */
    expect_fail(WSC_EHANDSHAKE, S101,
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOp=\r\n",
                NULL, NULL, "Sec-WebSocket-Accept mismatch");
    expect_fail(WSC_EHANDSHAKE, S101,
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "x\r\n",
                NULL, NULL, "Sec-WebSocket-Accept mismatch");
    expect_fail(WSC_EHANDSHAKE, S101, "Upgrade: websocket\r\nConnection: Upgrade\r\n", NULL, NULL,
                "missing Sec-WebSocket-Accept");
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n", NULL, NULL,
                "several Sec-WebSocket-Accept");
    /* Upgrade */
    expect_fail(WSC_EHANDSHAKE, S101, "Connection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n",
                NULL, NULL, "missing Upgrade");
    expect_fail(WSC_EHANDSHAKE, S101,
                "Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n", NULL,
                NULL, "Upgrade header is not 'websocket'");
    expect_fail(WSC_EHANDSHAKE, S101,
                "Upgrade: websocket, h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " RFC_ACCEPT
                "\r\n",
                NULL, NULL, "Upgrade header is not 'websocket'");
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Upgrade: websocket\r\n", NULL, NULL,
                "several Upgrade headers");
    /* Connection */
    expect_fail(WSC_EHANDSHAKE, S101, "Upgrade: websocket\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n",
                NULL, NULL, "missing Connection");
    expect_fail(WSC_EHANDSHAKE, S101,
                "Upgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n",
                NULL, NULL, "does not contain 'Upgrade'");
    expect_fail(WSC_EHANDSHAKE, S101,
                "Upgrade: websocket\r\nConnection: upgrades\r\nSec-WebSocket-Accept: " RFC_ACCEPT "\r\n",
                NULL, NULL, "does not contain 'Upgrade'");
    /* subprotocols */
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Protocol: v3\r\n", chat_protocols, NULL,
                "not offered");
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Protocol: Chat\r\n", chat_protocols,
                NULL, "not offered");
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Protocol: \r\n", chat_protocols, NULL,
                "not offered");
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Protocol: chat, superchat\r\n",
                chat_protocols, NULL, "more than one subprotocol");
    expect_fail(WSC_EHANDSHAKE, S101,
                OK_HEADERS "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n",
                chat_protocols, NULL, "more than one subprotocol");
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Protocol: chat\r\n", NULL, NULL,
                "none was offered");
    const char *const none[] = {NULL};
    expect_fail(WSC_EHANDSHAKE, S101, OK_HEADERS "Sec-WebSocket-Protocol: chat\r\n", none, NULL,
                "none was offered");
    /* extensions */
    wsc_pmd_offer offer = {0};
    expect_fail(WSC_EEXTENSION, S101, OK_HEADERS "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n",
                NULL, &offer, "extension 'x-webkit-deflate-frame' that was not offered");
    expect_fail(WSC_EEXTENSION, S101, OK_HEADERS "Sec-WebSocket-Extensions: permessage-deflate\r\n", NULL,
                NULL, "extension 'permessage-deflate' that was not offered");
    expect_fail(WSC_EEXTENSION, S101,
                OK_HEADERS "Sec-WebSocket-Extensions: permessage-deflate, foo\r\n", NULL, &offer,
                "extension 'foo'");
    expect_fail(WSC_EEXTENSION, S101,
                OK_HEADERS "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                           "Sec-WebSocket-Extensions: permessage-deflate\r\n",
                NULL, &offer, "twice");
    expect_fail(WSC_EEXTENSION, S101,
                OK_HEADERS "Sec-WebSocket-Extensions: permessage-deflate; foo\r\n", NULL, &offer,
                "unknown permessage-deflate parameter 'foo'");
}

static void test_response_extensions(void **unused) {
    wsc_handshake_result res;
    wsc_error err;
    wsc_pmd_offer offer = {0};
    assert_int_equal(check(S101, OK_HEADERS "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\n",
                           NULL, &offer, &res, &err),
                     WSC_OK);
    assert_span(res.extensions, "permessage-deflate; client_max_window_bits=10");
    assert_int_equal(res.pmd.enabled, 1);
    assert_int_equal(res.pmd.server_no_context_takeover, 0);
    assert_int_equal(res.pmd.client_no_context_takeover, 0);
    assert_int_equal(res.pmd.server_max_window_bits, 15);
    assert_int_equal(res.pmd.client_max_window_bits, 10);
    /* an empty header and the real one */
    assert_int_equal(check(S101, OK_HEADERS "Sec-WebSocket-Extensions: ,\r\n"
                           "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n",
                           NULL, &offer, &res, &err),
                     WSC_OK);
    assert_span(res.extensions, "permessage-deflate; server_no_context_takeover");
    assert_int_equal(res.pmd.server_no_context_takeover, 1);
    /* a pmd failure leaves pmd off */
    assert_int_equal(check(S101, OK_HEADERS "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n",
                           NULL, &offer, &res, &err),
                     WSC_EEXTENSION);
    assert_int_equal(res.pmd.enabled, 0);
}

static void test_response_http_status(void **unused) {
    wsc_handshake_result res;
    wsc_error err;
    assert_int_equal(check("HTTP/1.1 403 Forbidden", "Content-Length: 0\r\n", NULL, NULL, &res, &err),
                     WSC_EHTTP);
    assert_string_equal(err.message, "server answered 403 Forbidden");
    assert_int_equal(res.status, 403);
    assert_span(res.reason, "Forbidden");
    assert_null(res.location.ptr);

    assert_int_equal(check("HTTP/1.1 301 Moved Permanently", "Location: wss://example.com/new\r\n", NULL,
                           NULL, &res, &err),
                     WSC_EHTTP);
    assert_int_equal(res.status, 301);
    assert_span(res.location, "wss://example.com/new");
    assert_string_equal(err.message, "server answered 301 Moved Permanently");
    assert_int_equal(check("HTTP/1.1 302 Found", "location:   /other?x=1 \r\n", NULL, NULL, &res, &err),
                     WSC_EHTTP);
    assert_int_equal(res.status, 302);
    assert_span(res.location, "/other?x=1");
    assert_int_equal(check("HTTP/1.1 200", OK_HEADERS, NULL, NULL, &res, &err), WSC_EHTTP);
    assert_string_equal(err.message, "server answered 200");
    /* a long reason phrase is cut */
    char status[400];
    strcpy(status, "HTTP/1.1 500 ");
    memset(status + 13, 'r', 300);
    status[313] = '\0';
    assert_int_equal(check(status, "", NULL, NULL, &res, &err), WSC_EHTTP);
    assert_true(strlen(err.message) < 130);
    assert_int_equal(res.reason.len, 300);
}

static void test_response_set_cookie(void **unused) {
    wsc_handshake_result res;
    wsc_error err;
    assert_int_equal(check(S101, "Set-Cookie: a=1; Path=/\r\n" OK_HEADERS "set-cookie: csrf_token=xyz; HttpOnly\r\n"
                           "X: y\r\nSET-COOKIE: c=3\r\n",
                           NULL, NULL, &res, &err),
                     WSC_OK);
    const char *want[] = {"a=1; Path=/", "csrf_token=xyz; HttpOnly", "c=3"};
    size_t pos = 0;
    wsc_span v;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(wsc_handshake_next_set_cookie(&res, &pos, &v), 1);
        assert_span(v, want[i]);
    }
    assert_int_equal(wsc_handshake_next_set_cookie(&res, &pos, &v), 0);
    /* also available on a refused response (a 403 may set cookies) */
    assert_int_equal(check("HTTP/1.1 403 Forbidden", "Set-Cookie: s=1\r\n", NULL, NULL, &res, &err), WSC_EHTTP);
    pos = 0;
    assert_int_equal(wsc_handshake_next_set_cookie(&res, &pos, &v), 1);
    assert_span(v, "s=1");
    assert_int_equal(wsc_handshake_next_set_cookie(NULL, &pos, &v), 0);
    assert_int_equal(wsc_handshake_check_response(NULL, RFC_KEY, NULL, NULL, &res, &err), WSC_EINVAL);
}

/* ---- the server side ----------------------------------------------------- */

static const char good_request[] =
    "GET /chat?csrf=abc%2Bd&x=1 HTTP/1.1\r\n"
    "Host: example.com:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: " RFC_KEY "\r\n"
    "Origin: http://example.com\r\n"
    "Cookie: theme=dark; csrf_token=abc+d\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n"
    "Sec-WebSocket-Protocol: v3\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

static int check_req(const char *text, wsc_ws_request_info *info, wsc_error *err, wsc_http_request *r,
                     uint8_t **copy) {
    size_t len = strlen(text);
    *copy = tu_guard_copy(text, len);
    int rc = wsc_http_parse_request((const char *)*copy, len, 0, r, 0);
    if (rc != (int)len) fail_msg("parse: %d %s\n%s", rc, r->error ? r->error : "", text);
    memset(err, 0, sizeof *err);
    return wsc_handshake_check_request(r, info, err);
}

static void test_server_good(void **unused) {
    wsc_http_request r;
    wsc_ws_request_info info;
    wsc_error err;
    uint8_t *copy;
    assert_int_equal(check_req(good_request, &info, &err, &r, &copy), WSC_OK);
    assert_int_equal(info.status, 0);
    assert_span(info.key, RFC_KEY);
    assert_span(info.host, "example.com:8080");
    assert_span(info.path, "/chat");
    assert_span(info.query, "csrf=abc%2Bd&x=1");
    assert_span(info.origin, "http://example.com");
    assert_span(info.cookie, "theme=dark; csrf_token=abc+d");
    /* offered subprotocols across both headers */
    const char *want[] = {"chat", "superchat", "v3"};
    wsc_list_iter it = {0, 0};
    wsc_span p;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(wsc_ws_request_next_protocol(&info, &it, &p), 1);
        assert_span(p, want[i]);
    }
    assert_int_equal(wsc_ws_request_next_protocol(&info, &it, &p), 0);
    size_t pos = 0;
    assert_int_equal(wsc_ws_request_next_extensions(&info, &pos, &p), 1);
    assert_span(p, "permessage-deflate; client_max_window_bits");
    assert_int_equal(wsc_ws_request_next_extensions(&info, &pos, &p), 0);

    /* the double-submit check: cookie token equals query token */
    const char *cv;
    size_t cvl;
    assert_int_equal(wsc_cookie_get(info.cookie.ptr, info.cookie.len, "csrf_token", &cv, &cvl), 1);
    char qv[64];
    size_t qvl;
    assert_int_equal(wsc_query_get(info.query.ptr, info.query.len, "csrf", qv, sizeof qv, &qvl), 1);
    assert_int_equal(qvl, cvl);
    assert_memory_equal(qv, cv, cvl);

    /* the answer, byte for byte */
    wsc_pmd_params pmd;
    wsc_buf ext = {0};
    assert_int_equal(wsc_pmd_negotiate_request(&r, NULL, &pmd, &ext), WSC_OK);
    assert_int_equal(pmd.enabled, 1);
    const wsc_header extra[] = {{wsc_span_str("X-Server"), wsc_span_str("wsc")}};
    wsc_buf out = {0};
    assert_int_equal(wsc_handshake_response(info.key, wsc_span_str("chat"),
                                            (wsc_span){(const char *)ext.data, ext.len}, extra, 1, &out, &err),
                     WSC_OK);
    assert_buf(&out, "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
                     "Sec-WebSocket-Protocol: chat\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                     "X-Server: wsc\r\n"
                     "\r\n");
    wsc_buf_free(&out);
    /* minimal answer */
    assert_int_equal(wsc_handshake_response(info.key, (wsc_span){NULL, 0}, (wsc_span){NULL, 0}, NULL, 0, &out, &err),
                     WSC_OK);
    assert_buf(&out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n");
    wsc_buf_free(&out);
    wsc_buf_free(&ext);
    tu_guard_free(copy, strlen(good_request));

    /* Firefox's Connection and a mixed-case Upgrade list, no Origin/Cookie */
    const char *ff = "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
                     "Upgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " RFC_KEY "\r\n\r\n";
    assert_int_equal(check_req(ff, &info, &err, &r, &copy), WSC_OK);
    assert_null(info.origin.ptr);
    assert_null(info.cookie.ptr);
    assert_null(info.query.ptr);
    assert_span(info.path, "/");
    it = (wsc_list_iter){0, 0};
    assert_int_equal(wsc_ws_request_next_protocol(&info, &it, &p), 0);
    tu_guard_free(copy, strlen(ff));
    /* HTTP/1.2 is "later" */
    const char *v12 = "GET / HTTP/1.2\r\nHost: h\r\nConnection: Upgrade\r\n"
                      "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " RFC_KEY "\r\n\r\n";
    assert_int_equal(check_req(v12, &info, &err, &r, &copy), WSC_OK);
    tu_guard_free(copy, strlen(v12));
}

struct server_case {
    const char *line;   /* request line */
    const char *drop;   /* header (prefix) to leave out of the good set */
    const char *add;    /* extra header lines */
    int status;
    const char *msg;
};

static void test_server_failures(void **unused) {
    static const struct server_case cases[] = {
        {"POST / HTTP/1.1", NULL, "", 405, "method is not GET"},
        {"get / HTTP/1.1", NULL, "", 405, "method"},
        {"GET / HTTP/1.0", NULL, "", 400, "HTTP/1.1"},
        {"GET / HTTP/0.9", NULL, "", 400, "HTTP/1.1"},
        {"GET http://h/ HTTP/1.1", NULL, "", 400, "target"},
        {"GET * HTTP/1.1", NULL, "", 400, "target"},
        {"GET /a#b HTTP/1.1", NULL, "", 400, "fragment"},
        {"GET / HTTP/1.1", "Host", "", 400, "missing Host"},
        {"GET / HTTP/1.1", "Host", "Host:\r\n", 400, "missing Host"},
        {"GET / HTTP/1.1", NULL, "Host: other\r\n", 400, "several Host"},
        {"GET / HTTP/1.1", NULL, "Origin: a\r\nOrigin: b\r\n", 400, "several Origin"},
        {"GET / HTTP/1.1", NULL, "Cookie: a=1\r\nCookie: csrf_token=x\r\n", 400, "several Cookie"},
        {"GET / HTTP/1.1", "Upgrade", "", 400, "Upgrade"},
        {"GET / HTTP/1.1", "Upgrade", "Upgrade: h2c\r\n", 400, "Upgrade"},
        {"GET / HTTP/1.1", "Connection", "", 400, "Connection"},
        {"GET / HTTP/1.1", "Connection", "Connection: keep-alive\r\n", 400, "Connection"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Version", "", 426, "Sec-WebSocket-Version"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Version", "Sec-WebSocket-Version: 8\r\n", 426, "13 is required"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8\r\n", 426, "13"},
        {"GET / HTTP/1.1", NULL, "Sec-WebSocket-Version: 13\r\n", 426, "13"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "", 400, "missing Sec-WebSocket-Key"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n", 400, "16 bytes"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n", 400, "16 bytes"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n", 400, "16 bytes"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ===\r\n", 400, "16 bytes"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub2-jZQ==\r\n", 400, "16 bytes"},
        {"GET / HTTP/1.1", "Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==AA==\r\n", 400, "16 bytes"},
        {"GET / HTTP/1.1", NULL, "Sec-WebSocket-Key: " RFC_KEY "\r\n", 400, "several Sec-WebSocket-Key"},
    };
    static const char *const good_headers[] = {"Host: example.com", "Upgrade: websocket",
                                               "Connection: Upgrade", ("Sec-WebSocket-Key: " RFC_KEY),
                                               "Sec-WebSocket-Version: 13"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct server_case *c = &cases[i];
        char text[2048];
        size_t n = (size_t)snprintf(text, sizeof text, "%s\r\n", c->line);
        for (size_t h = 0; h < 5; h++) {
            if (c->drop && strncmp(good_headers[h], c->drop, strlen(c->drop)) == 0 &&
                good_headers[h][strlen(c->drop)] == ':')
                continue;
            n += (size_t)snprintf(text + n, sizeof text - n, "%s\r\n", good_headers[h]);
        }
        snprintf(text + n, sizeof text - n, "%s\r\n", c->add);
        wsc_http_request r;
        wsc_ws_request_info info;
        wsc_error err;
        uint8_t *copy;
        int rc = check_req(text, &info, &err, &r, &copy);
        if (rc != WSC_EHANDSHAKE || info.status != c->status || err.code != WSC_EHANDSHAKE ||
            !strstr(err.message, c->msg))
            fail_msg("case %zu:\n%s\ngot %d status %d '%s', want %d '%s'", i, text, rc, info.status,
                     err.message, c->status, c->msg);
        tu_guard_free(copy, strlen(text));
    }
    wsc_ws_request_info info;
    assert_int_equal(wsc_handshake_check_request(NULL, &info, NULL), WSC_EINVAL);
}

static void test_error_response(void **unused) {
    wsc_buf b = {0};
    wsc_error err = {0};
    const wsc_header v13[] = {{wsc_span_str("Sec-WebSocket-Version"), wsc_span_str("13")}};
    assert_int_equal(wsc_http_error_response(426, NULL, "use version 13\n", v13, 1, &b, &err), WSC_OK);
    assert_buf(&b, "HTTP/1.1 426 Upgrade Required\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 15\r\n"
                   "Connection: close\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   "\r\n"
                   "use version 13\n");
    wsc_buf_free(&b);
    assert_int_equal(wsc_http_error_response(403, NULL, NULL, NULL, 0, &b, &err), WSC_OK);
    assert_buf(&b, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 0\r\nConnection: close\r\n\r\n");
    wsc_buf_free(&b);
    assert_int_equal(wsc_http_error_response(499, "Custom Thing", "x", NULL, 0, &b, &err), WSC_OK);
    assert_buf(&b, "HTTP/1.1 499 Custom Thing\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: 1\r\nConnection: close\r\n\r\nx");
    wsc_buf_free(&b);
    const int statuses[] = {400, 405, 404, 500, 599};
    const char *reasons[] = {"Bad Request", "Method Not Allowed", "Not Found", "Internal Server Error", "Error"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(wsc_http_error_response(statuses[i], NULL, "", NULL, 0, &b, &err), WSC_OK);
        char line[64];
        snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", statuses[i], reasons[i]);
        assert_memory_equal(b.data, line, strlen(line));
        wsc_buf_free(&b);
    }
    /* refusals leave the buffer alone */
    assert_int_equal(wsc_buf_append(&b, "q", 1), WSC_OK);
    assert_int_equal(wsc_http_error_response(101, NULL, NULL, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_http_error_response(600, NULL, NULL, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_http_error_response(199, NULL, NULL, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_http_error_response(400, "Bad\r\nX: y", NULL, NULL, 0, &b, &err), WSC_EINVAL);
    assert_non_null(strstr(err.message, "reason"));
    const wsc_header cl[] = {{wsc_span_str("Content-Length"), wsc_span_str("5")}};
    assert_int_equal(wsc_http_error_response(400, NULL, NULL, cl, 1, &b, &err), WSC_EINVAL);
    const wsc_header ct[] = {{wsc_span_str("content-type"), wsc_span_str("text/html")}};
    assert_int_equal(wsc_http_error_response(400, NULL, NULL, ct, 1, &b, &err), WSC_EINVAL);
    const wsc_header inj[] = {{wsc_span_str("Allow"), wsc_span_str("GET\r\nX: 1")}};
    assert_int_equal(wsc_http_error_response(405, NULL, NULL, inj, 1, &b, &err), WSC_EINVAL);
    assert_buf(&b, "q");
    wsc_buf_free(&b);
}

static void test_response_builder_refusals(void **unused) {
    wsc_buf b = {0};
    wsc_error err = {0};
    wsc_span key = wsc_span_str(RFC_KEY), none = {NULL, 0};
    assert_int_equal(wsc_handshake_response((wsc_span){NULL, 0}, none, none, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_handshake_response(wsc_span_str("k\r\nX: y"), none, none, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_handshake_response(key, wsc_span_str("a b"), none, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_handshake_response(key, wsc_span_str(""), none, NULL, 0, &b, &err), WSC_EINVAL);
    assert_int_equal(wsc_handshake_response(key, none, wsc_span_str("permessage-deflate\r\nX: y"), NULL, 0, &b, &err),
                     WSC_EINVAL);
    static const char *const owned[] = {"Upgrade", "connection", "Sec-WebSocket-Accept", "Content-Length",
                                        "Transfer-Encoding"};
    for (size_t i = 0; i < 5; i++) {
        wsc_header h = {wsc_span_str(owned[i]), wsc_span_str("x")};
        assert_int_equal(wsc_handshake_response(key, none, none, &h, 1, &b, &err), WSC_EINVAL);
        assert_non_null(strstr(err.message, "set by the library"));
    }
    wsc_header h = {wsc_span_str("Set-Cookie"), wsc_span_str("csrf_token=secret\nX: y")};
    assert_int_equal(wsc_handshake_response(key, none, none, &h, 1, &b, &err), WSC_EINVAL);
    assert_null(strstr(err.message, "secret"));
    assert_int_equal(b.len, 0);
    /* Set-Cookie is fine as an extra header of the 101 */
    h.value = wsc_span_str("csrf_token=abc; Path=/; HttpOnly");
    assert_int_equal(wsc_handshake_response(key, none, none, &h, 1, &b, &err), WSC_OK);
    assert_non_null(strstr((const char *)b.data, "\r\nSet-Cookie: csrf_token=abc; Path=/; HttpOnly\r\n\r\n"));
    wsc_buf_free(&b);
}

/* The whole exchange: the client's request, checked by the server, whose
   answer the client parses (with a frame in the same read) and accepts. */
static void test_round_trip(void **unused) {
    static const uint8_t raw[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13, 14, 15, 16};
    char key[25];
    wsc_handshake_key(raw, key);
    wsc_url u;
    const char *url = "wss://Example.com:9443/socket?room=1";
    assert_int_equal(wsc_url_parse(url, strlen(url), &u, NULL), WSC_OK);
    wsc_buf q = {0}, offer_text = {0};
    wsc_buf qs = {0};
    assert_int_equal(wsc_query_set(u.query.ptr, u.query.len, "csrf", "t/k+n", &qs), WSC_OK);
    wsc_pmd_offer offer = {0};
    assert_int_equal(wsc_pmd_offer_format(&offer, &offer_text), WSC_OK);
    wsc_handshake_req req = {0};
    wsc_handshake_req_from_url(&req, &u);
    req.query = (wsc_span){(const char *)qs.data, qs.len};
    req.key = key;
    req.protocols = chat_protocols;
    req.extensions = (wsc_span){(const char *)offer_text.data, offer_text.len};
    req.cookie = wsc_span_str("csrf_token=t/k+n");
    assert_int_equal(wsc_handshake_request(&req, &q, NULL), WSC_OK);

    wsc_http_request r;
    assert_int_equal(wsc_http_parse_request((const char *)q.data, q.len, 0, &r, 0), (int)q.len);
    wsc_ws_request_info info;
    wsc_error err;
    assert_int_equal(wsc_handshake_check_request(&r, &info, &err), WSC_OK);
    assert_span(info.host, "Example.com:9443");
    assert_span(info.path, "/socket");
    char tok[32];
    size_t tl;
    assert_int_equal(wsc_query_get(info.query.ptr, info.query.len, "csrf", tok, sizeof tok, &tl), 1);
    assert_string_equal(tok, "t/k+n");
    const char *cv;
    size_t cvl;
    assert_int_equal(wsc_cookie_get(info.cookie.ptr, info.cookie.len, "csrf_token", &cv, &cvl), 1);
    assert_int_equal(cvl, tl);
    assert_memory_equal(cv, tok, tl);
    wsc_list_iter it = {0, 0};
    wsc_span proto;
    assert_int_equal(wsc_ws_request_next_protocol(&info, &it, &proto), 1);
    wsc_pmd_params spmd, cpmd;
    wsc_buf ext = {0}, resp = {0};
    assert_int_equal(wsc_pmd_negotiate_request(&r, NULL, &spmd, &ext), WSC_OK);
    assert_int_equal(wsc_handshake_response(info.key, proto, (wsc_span){(const char *)ext.data, ext.len}, NULL, 0,
                                            &resp, &err),
                     WSC_OK);
    assert_int_equal(wsc_buf_append(&resp, "\x81\x02hi", 4), WSC_OK);

    wsc_http_response *pr = malloc(sizeof *pr);
    int hl = wsc_http_parse_response((const char *)resp.data, resp.len, 0, pr, 0);
    assert_int_equal(hl, (int)resp.len - 4);
    wsc_handshake_result res;
    assert_int_equal(wsc_handshake_check_response(pr, key, chat_protocols, &offer, &res, &err), WSC_OK);
    assert_span(res.protocol, "chat");
    cpmd = res.pmd;
    assert_int_equal(cpmd.enabled, 1);
    assert_int_equal(spmd.enabled, 1);
    assert_int_equal(cpmd.server_max_window_bits, spmd.server_max_window_bits);
    assert_int_equal(cpmd.client_max_window_bits, spmd.client_max_window_bits);
    assert_int_equal(cpmd.server_no_context_takeover, spmd.server_no_context_takeover);
    assert_int_equal(cpmd.client_no_context_takeover, spmd.client_no_context_takeover);
    assert_memory_equal(resp.data + hl, "\x81\x02hi", 4);
    /* a different key fails the check */
    assert_int_equal(wsc_handshake_check_response(pr, RFC_KEY, chat_protocols, &offer, &res, &err), WSC_EHANDSHAKE);
    free(pr);
    wsc_buf_free(&q);
    wsc_buf_free(&qs);
    wsc_buf_free(&offer_text);
    wsc_buf_free(&ext);
    wsc_buf_free(&resp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_and_accept),
        cmocka_unit_test(test_request_full),
        cmocka_unit_test(test_request_host_forms),
        cmocka_unit_test(test_request_injection),
        cmocka_unit_test(test_request_subprotocols),
        cmocka_unit_test(test_request_owned_headers),
        cmocka_unit_test(test_request_rollback),
        cmocka_unit_test(test_response_rfc),
        cmocka_unit_test(test_response_failures),
        cmocka_unit_test(test_response_extensions),
        cmocka_unit_test(test_response_http_status),
        cmocka_unit_test(test_response_set_cookie),
        cmocka_unit_test(test_server_good),
        cmocka_unit_test(test_server_failures),
        cmocka_unit_test(test_error_response),
        cmocka_unit_test(test_response_builder_refusals),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
