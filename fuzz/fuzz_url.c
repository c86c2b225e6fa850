/* fuzz_url.c - URL parsing and what is built from a parsed URL.
 *
 * The whole input is a URL. Checked: no crash or over-read (the input is an
 * exact-size heap copy), every span lies in the input, and when the URL is
 * valid:
 *   - its origin is produced and parses again to the same scheme, host
 *     (lower-cased) and port (or socket path);
 *   - wsc_query_set with a value taken from the input gives a query that
 *     parses again inside a URL, from which wsc_query_get returns the value
 *     exactly, and setting again is idempotent;
 *   - the handshake request built from it is accepted, parses as an HTTP
 *     request and passes the server's check;
 *   - with user information, the Basic credentials are well-formed base64.
 * Also exercises wsc_query_get and wsc_cookie_get on the raw input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/http.h"

static const char *g_in;
static size_t g_len;

static void span_in_input(wsc_span s) {
    if (!s.ptr) {
        if (s.len) abort();
        return;
    }
    if (s.len == 1 && s.ptr[0] == '/' && (s.ptr < g_in || s.ptr >= g_in + g_len)) return; /* default path */
    if (s.ptr < g_in || s.ptr + s.len > g_in + g_len) abort();
}

static int span_eq(wsc_span a, wsc_span b) { return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0); }

static int lower_eq(wsc_span a, wsc_span b) {
    if (a.len != b.len) return 0;
    for (size_t i = 0; i < a.len; i++) {
        unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) return 0;
    }
    return 1;
}

static void check_origin(const wsc_url *u) {
    char o[WSC_URL_ORIGIN_MAX];
    int n = wsc_url_origin(u, o, sizeof o);
    if (n <= 0 || (size_t)n != strlen(o)) abort();
    wsc_url v;
    int unix_sock = u->scheme == WSC_SCHEME_WS_UNIX || u->scheme == WSC_SCHEME_WSS_UNIX;
    if (unix_sock && u->socket_path.ptr[0] != '/') return; /* "ws+unix://./x" has no URL form */
    if (wsc_url_parse(o, (size_t)n, &v, NULL) != WSC_OK) abort();
    if (v.scheme != u->scheme || v.port != u->port) abort();
    if (unix_sock) {
        if (!span_eq(v.socket_path, u->socket_path)) abort();
    } else {
        if (!v.port_explicit || v.host_kind != u->host_kind) abort();
        if (u->host_kind != WSC_HOST_IPV6 && !lower_eq(v.host, u->host)) abort();
        for (size_t i = 0; i < v.host.len; i++)
            if (v.host.ptr[i] >= 'A' && v.host.ptr[i] <= 'Z') abort();
        /* canonical: the origin of the origin is itself */
        char o2[WSC_URL_ORIGIN_MAX];
        if (wsc_url_origin(&v, o2, sizeof o2) != n || memcmp(o, o2, (size_t)n) != 0) abort();
    }
    /* a buffer one byte short is refused */
    char small[WSC_URL_ORIGIN_MAX];
    if (wsc_url_origin(u, small, (size_t)n) != WSC_ETOOBIG || small[0] != '\0') abort();
}

static void check_query(const wsc_url *u) {
    /* the value: the first up-to-16 bytes of the host or socket path */
    wsc_span src = u->host.ptr ? u->host : u->socket_path;
    char value[17];
    size_t vl = src.len < 16 ? src.len : 16;
    memcpy(value, src.ptr, vl);
    value[vl] = '\0';
    for (size_t i = 0; i < vl; i++)
        if (!value[i]) value[i] = 'x';
    wsc_buf q = {0};
    if (wsc_query_set(u->query.ptr, u->query.len, "csrf", value, &q) != WSC_OK) abort();
    /* the new query sits in a URL that parses */
    wsc_buf url = {0};
    if (wsc_buf_append(&url, "ws://h/p?", 9) || wsc_buf_append(&url, q.data, q.len)) abort();
    wsc_url v;
    if (wsc_url_parse((const char *)url.data, url.len, &v, NULL) != WSC_OK) abort();
    char got[64];
    size_t gl = 0;
    if (wsc_query_get((const char *)q.data, q.len, "csrf", got, sizeof got, &gl) != 1) abort();
    if (gl != vl || memcmp(got, value, vl) != 0) abort();
    /* setting again changes nothing */
    wsc_buf q2 = {0};
    if (wsc_query_set((const char *)q.data, q.len, "csrf", value, &q2) != WSC_OK) abort();
    if (q2.len != q.len || memcmp(q2.data, q.data, q.len) != 0) abort();
    wsc_buf_free(&q);
    wsc_buf_free(&q2);
    wsc_buf_free(&url);
}

static void check_request(const wsc_url *u) {
    static const uint8_t raw[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char key[25];
    wsc_handshake_key(raw, key);
    wsc_handshake_req req = {0};
    wsc_handshake_req_from_url(&req, u);
    req.key = key;
    wsc_buf out = {0};
    wsc_error err;
    if (wsc_handshake_request(&req, &out, &err) != WSC_OK) abort();
    wsc_http_request *r = malloc(sizeof *r);
    if (!r) abort();
    if (wsc_http_parse_request((const char *)out.data, out.len, 0, r, 1 << 20) != (int)out.len) abort();
    wsc_ws_request_info info;
    if (wsc_handshake_check_request(r, &info, &err) != WSC_OK) abort();
    if ((info.query.ptr != NULL) != (u->query.ptr != NULL)) abort();
    free(r);
    wsc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    g_in = s;
    g_len = size;
    wsc_url u;
    wsc_error err;
    int rc = wsc_url_parse(s, size, &u, &err);
    if (rc == WSC_OK) {
        span_in_input(u.scheme_text);
        span_in_input(u.userinfo);
        span_in_input(u.user);
        span_in_input(u.password);
        span_in_input(u.host);
        span_in_input(u.path);
        span_in_input(u.query);
        span_in_input(u.socket_path);
        if (!u.path.len || u.path.ptr[0] != '/') abort();
        if (u.host_kind != WSC_HOST_NONE && (!u.port || !u.host.len)) abort();
        if (u.userinfo.ptr) {
            wsc_buf a = {0};
            if (wsc_url_basic_auth(&u, &a) != WSC_OK || a.len < 10 || (a.len - 6) % 4 ||
                memcmp(a.data, "Basic ", 6) != 0)
                abort();
            for (size_t i = 6; i < a.len; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", a.data[i]) || !a.data[i])
                    abort();
            wsc_buf_free(&a);
        }
        check_origin(&u);
        check_query(&u);
        check_request(&u);
    } else {
        if (rc != WSC_EURL || err.code != WSC_EURL || !err.message[0]) abort();
    }
    /* the raw input as a query and as a Cookie header */
    char out[64];
    size_t ol;
    int g = wsc_query_get(s, size, "csrf", out, sizeof out, &ol);
    if (g != 0 && g != 1 && g != WSC_ETOOBIG && g != WSC_EINVAL) abort();
    if (g == 1 && (ol >= sizeof out || out[ol] != '\0')) abort();
    const char *cv;
    size_t cl;
    if (wsc_cookie_get(s, size, "csrf_token", &cv, &cl) == 1 && (cv < s || cv + cl > s + size)) abort();
    return 0;
}
