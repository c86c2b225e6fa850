/*
 * handshake.c - the WebSocket opening handshake (RFC 6455 section 4):
 * client key and accept values, the client's request and its check of the
 * server's response, the server's check of a request and its answers.
 *
 * Builders validate everything before writing anything, so a refused
 * request leaves the output buffer as it was; an allocation failure part
 * way through is rolled back.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "wsc/http.h"

/* Longest reason phrase quoted in an error message. */
#define REASON_QUOTE_MAX 100

/* ---- output with rollback ----------------------------------------------- */

typedef struct writer {
    wsc_buf *b;
    size_t pending; /* pending bytes before the first write */
    int rc;
} writer;

static void w_init(writer *w, wsc_buf *b) {
    w->b = b;
    w->pending = wsc_buf_pending(b);
    w->rc = WSC_OK;
}
static void w_put(writer *w, const void *p, size_t n) {
    if (!w->rc && n) w->rc = wsc_buf_append(w->b, p, n);
}
static void w_str(writer *w, const char *s) { w_put(w, s, strlen(s)); }
static void w_span(writer *w, wsc_span s) { w_put(w, s.ptr, s.len); }
static void w_header(writer *w, const char *name, wsc_span value) {
    w_str(w, name);
    w_put(w, ": ", 2);
    w_span(w, value);
    w_put(w, "\r\n", 2);
}
/* Finishes: on failure drops whatever was appended. */
static int w_end(writer *w) {
    if (w->rc) w->b->len = w->b->off + w->pending;
    return w->rc;
}

/* ---- keys --------------------------------------------------------------- */

void wsc_handshake_key(const uint8_t raw[16], char out[25]) { wsc__base64(raw, 16, out); }

int wsc_handshake_accept(const char *key, size_t key_len, char out[29]) {
    static const char guid[] = WSC_WS_GUID;
    uint8_t md[20];
    out[0] = '\0';
    if (!key && key_len) return WSC_EINVAL;
    int rc = wsc__sha1_2(key, key_len, guid, sizeof guid - 1, md);
    if (rc != WSC_OK) return rc;
    wsc__base64(md, 20, out);
    return WSC_OK;
}

/* 22 base64 characters and "==": a base64-encoded 16-byte value. */
static int key_valid(wsc_span k) {
    if (k.len != 24 || k.ptr[22] != '=' || k.ptr[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++) {
        unsigned char c = (unsigned char)k.ptr[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

/* ---- validation --------------------------------------------------------- */

/* A header value: no control characters except HTAB (so no CR, LF, NUL). */
static int value_ok(wsc_span v) {
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
    }
    return 1;
}

static int span_ieq(wsc_span s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.ptr, lit, n) == 0;
}

static int span_used(wsc_span s) { return s.ptr && s.len; }

/*
 * Checks extra headers: token names, clean values, no name the library
 * writes itself. `owned` lists names always refused, `also` (may be NULL)
 * names refused in this call, and with `sec_ws` every Sec-WebSocket-*
 * name. Returns WSC_OK or WSC_EINVAL with err set.
 */
static int check_extra_headers(const wsc_header *h, size_t n, const char *const *owned,
                               const char *const *also, int sec_ws, wsc_error *err) {
    if (n && !h) return wsc__seterr(err, WSC_EINVAL, "extra headers missing");
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name.ptr || !wsc_http_is_token(h[i].name.ptr, h[i].name.len))
            return wsc__seterr(err, WSC_EINVAL, "extra header %zu: name is not a token", i);
        int shown = h[i].name.len > 64 ? 64 : (int)h[i].name.len;
        for (int pass = 0; pass < 2; pass++) {
            const char *const *list = pass ? also : owned;
            for (; list && *list; list++)
                if (span_ieq(h[i].name, *list))
                    return wsc__seterr(err, WSC_EINVAL, "extra header '%.*s' is set by the library",
                                       shown, h[i].name.ptr);
        }
        if (sec_ws && h[i].name.len >= 14 && strncasecmp(h[i].name.ptr, "Sec-WebSocket-", 14) == 0)
            return wsc__seterr(err, WSC_EINVAL, "extra header '%.*s' is set by the library", shown,
                               h[i].name.ptr);
        if ((!h[i].value.ptr && h[i].value.len) || !value_ok(h[i].value))
            return wsc__seterr(err, WSC_EINVAL, "invalid character in the value of extra header '%.*s'",
                               shown, h[i].name.ptr);
    }
    return WSC_OK;
}

static void write_extra_headers(writer *w, const wsc_header *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        w_span(w, h[i].name);
        w_put(w, ": ", 2);
        w_span(w, h[i].value);
        w_put(w, "\r\n", 2);
    }
}

/* ---- the client's request ---------------------------------------------- */

void wsc_handshake_req_from_url(wsc_handshake_req *req, const wsc_url *u) {
    if (!req || !u) return;
    if (u->scheme == WSC_SCHEME_WS_UNIX || u->scheme == WSC_SCHEME_WSS_UNIX) {
        req->host = wsc_span_str("localhost");
        req->port = 0;
        req->show_port = 0;
    } else {
        req->host = u->host;
        req->port = u->port;
        req->show_port = u->port != (u->secure ? 443 : 80);
    }
    req->path = u->path;
    req->query = u->query;
}

/* Host: a name or IPv4 (letters, digits, '-', '.', '_'), an IPv6 literal
   (hex digits, ':', '.'), bracketed or not. Sets *ipv6. */
static int host_ok(wsc_span h, int *bracketed, int *ipv6) {
    *bracketed = *ipv6 = 0;
    if (!h.ptr || !h.len) return 0;
    const char *p = h.ptr;
    size_t n = h.len;
    if (p[0] == '[') {
        if (n < 3 || p[n - 1] != ']') return 0;
        p++;
        n -= 2;
        *bracketed = 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ':') *ipv6 = 1;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return !*bracketed || *ipv6;
}

/* Path and query: no control characters and no '#'. */
static int target_part_ok(wsc_span s) {
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 || c == 0x7f || c == '#') return 0;
    }
    return 1;
}

/* Writes s, percent-encoding what may not appear raw in a request target. */
static void w_target_part(writer *w, wsc_span s) {
    static const char hexd[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == ' ' || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' ||
            c >= 0x80) {
            w_put(w, s.ptr + run, i - run);
            char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
            w_put(w, e, 3);
            run = i + 1;
        }
    }
    w_put(w, s.ptr + run, s.len - run);
}

int wsc_handshake_request(const wsc_handshake_req *req, wsc_buf *out, wsc_error *err) {
    static const char *const owned[] = {"Host", "Upgrade", "Connection", "Content-Length",
                                        "Transfer-Encoding", NULL};
    if (!req || !out) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    int rrc = WSC__CHECK_RESERVED(req, err, "wsc_handshake_req");
    if (rrc) return rrc;
    int bracketed, ipv6;
    if (!host_ok(req->host, &bracketed, &ipv6))
        return wsc__seterr(err, WSC_EINVAL, req->host.len ? "invalid character in host" : "missing host");
    if (req->show_port && !req->port) return wsc__seterr(err, WSC_EINVAL, "port 0 in Host");
    wsc_span path = req->path.ptr ? req->path : wsc_span_str("/");
    if (!path.len || path.ptr[0] != '/')
        return wsc__seterr(err, WSC_EINVAL, "request path must start with '/'");
    if (!target_part_ok(path)) return wsc__seterr(err, WSC_EINVAL, "invalid character in request path");
    if (!target_part_ok(req->query)) return wsc__seterr(err, WSC_EINVAL, "invalid character in query");
    if (!req->key || !key_valid(wsc_span_str(req->key)))
        return wsc__seterr(err, WSC_EINVAL, "Sec-WebSocket-Key must be 16 bytes in base64");
    if (req->protocols) {
        for (size_t i = 0; req->protocols[i]; i++) {
            const char *p = req->protocols[i];
            if (!wsc_http_is_token(p, strlen(p)))
                return wsc__seterr(err, WSC_EINVAL, "subprotocol %zu is not a valid token", i);
            for (size_t j = 0; j < i; j++)
                if (strcmp(req->protocols[j], p) == 0)
                    return wsc__seterr(err, WSC_EINVAL, "subprotocol '%s' is listed twice", p);
        }
    }
    struct {
        wsc_span v;
        const char *name;
    } fields[] = {{req->extensions, "Sec-WebSocket-Extensions"},
                  {req->origin, "Origin"},
                  {req->cookie, "Cookie"},
                  {req->user_agent, "User-Agent"},
                  {req->authorization, "Authorization"}};
    const char *also[WSC_ARRAY_LEN(fields) + 1];
    size_t n_also = 0;
    wsc_span ua = req->user_agent.ptr ? req->user_agent : wsc_span_str("wsc/" WSC_VERSION_STRING);
    fields[3].v = ua;
    for (size_t i = 0; i < WSC_ARRAY_LEN(fields); i++) {
        if (!fields[i].v.ptr && fields[i].v.len)
            return wsc__seterr(err, WSC_EINVAL, "%s: NULL pointer with a length", fields[i].name);
        if (!value_ok(fields[i].v))
            return wsc__seterr(err, WSC_EINVAL, "invalid character in %s header", fields[i].name);
        if (span_used(fields[i].v) && i) also[n_also++] = fields[i].name;
    }
    also[n_also] = NULL;
    int rc = check_extra_headers(req->headers, req->n_headers, owned, also, 1, err);
    if (rc) return rc;

    writer w;
    w_init(&w, out);
    w_str(&w, "GET ");
    w_target_part(&w, path);
    if (req->query.ptr) {
        w_put(&w, "?", 1);
        w_target_part(&w, req->query);
    }
    w_str(&w, " HTTP/1.1\r\nHost: ");
    if (ipv6 && !bracketed) w_put(&w, "[", 1);
    w_span(&w, req->host);
    if (ipv6 && !bracketed) w_put(&w, "]", 1);
    if (req->show_port) {
        char port[8];
        int pl = snprintf(port, sizeof port, ":%u", (unsigned)req->port);
        w_put(&w, port, (size_t)pl);
    }
    w_str(&w, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    w_str(&w, req->key);
    w_str(&w, "\r\nSec-WebSocket-Version: 13\r\n");
    if (req->protocols && req->protocols[0]) {
        w_str(&w, "Sec-WebSocket-Protocol: ");
        for (size_t i = 0; req->protocols[i]; i++) {
            if (i) w_put(&w, ", ", 2);
            w_str(&w, req->protocols[i]);
        }
        w_put(&w, "\r\n", 2);
    }
    for (size_t i = 0; i < WSC_ARRAY_LEN(fields); i++)
        if (span_used(fields[i].v)) w_header(&w, fields[i].name, fields[i].v);
    write_extra_headers(&w, req->headers, req->n_headers);
    w_put(&w, "\r\n", 2);
    rc = w_end(&w);
    if (rc) return wsc__seterr(err, rc, "cannot grow the output buffer");
    return WSC_OK;
}

/* How many times a header occurs in a request's or a response's block; the
   first occurrence in *first (NULL if none). */
static int count_headers(const wsc_header *headers, size_t n_headers, const char *name,
                         const wsc_header **first) {
    size_t pos = 0;
    int n = 0;
    const wsc_header *h;
    *first = NULL;
    while ((h = wsc_http_header_next(headers, n_headers, name, &pos))) {
        if (!n) *first = h;
        n++;
    }
    return n;
}

/* ---- the client's check of the response --------------------------------- */

int wsc_handshake_check_response(const wsc_http_response *r, const char *key,
                                 const char *const *protocols, const wsc_pmd_offer *pmd_offer,
                                 wsc_handshake_result *res, wsc_error *err) {
    if (!r || !key || !res) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    memset(res, 0, sizeof *res);
    res->response = r;
    res->status = r->status;
    res->reason = r->reason;
    const wsc_header *h;
    if (count_headers(r->headers, r->n_headers, "Location", &h)) res->location = h->value;
    if (r->status != 101) {
        int shown = r->reason.len > REASON_QUOTE_MAX ? REASON_QUOTE_MAX : (int)r->reason.len;
        return wsc__seterr(err, WSC_EHTTP, "server answered %d%s%.*s", r->status, shown ? " " : "",
                           shown, r->reason.ptr ? r->reason.ptr : "");
    }
    int n = count_headers(r->headers, r->n_headers, "Upgrade", &h);
    if (n == 0) return wsc__seterr(err, WSC_EHANDSHAKE, "missing Upgrade header");
    if (n > 1) return wsc__seterr(err, WSC_EHANDSHAKE, "several Upgrade headers");
    if (!span_ieq(h->value, "websocket"))
        return wsc__seterr(err, WSC_EHANDSHAKE, "Upgrade header is not 'websocket'");

    if (!count_headers(r->headers, r->n_headers, "Connection", &h))
        return wsc__seterr(err, WSC_EHANDSHAKE, "missing Connection header");
    wsc_list_iter it = {0, 0};
    wsc_span el;
    int upgrade = 0;
    while (!upgrade && wsc_http_list_next(r->headers, r->n_headers, "Connection", &it, &el))
        upgrade = span_ieq(el, "upgrade");
    if (!upgrade)
        return wsc__seterr(err, WSC_EHANDSHAKE, "Connection header does not contain 'Upgrade'");

    char expect[29];
    if (wsc_handshake_accept(key, strlen(key), expect))
        return wsc__seterr(err, WSC_ENOMEM, "SHA-1 failed");
    n = count_headers(r->headers, r->n_headers, "Sec-WebSocket-Accept", &h);
    if (n == 0) return wsc__seterr(err, WSC_EHANDSHAKE, "missing Sec-WebSocket-Accept header");
    if (n > 1) return wsc__seterr(err, WSC_EHANDSHAKE, "several Sec-WebSocket-Accept headers");
    if (h->value.len != 28 || memcmp(h->value.ptr, expect, 28) != 0)
        return wsc__seterr(err, WSC_EHANDSHAKE, "Sec-WebSocket-Accept mismatch");

    n = count_headers(r->headers, r->n_headers, "Sec-WebSocket-Protocol", &h);
    if (n > 1)
        return wsc__seterr(err, WSC_EHANDSHAKE, "server selected more than one subprotocol");
    if (n == 1) {
        if (memchr(h->value.ptr, ',', h->value.len))
            return wsc__seterr(err, WSC_EHANDSHAKE, "server selected more than one subprotocol");
        if (!protocols || !protocols[0])
            return wsc__seterr(err, WSC_EHANDSHAKE,
                               "server selected a subprotocol but none was offered");
        int found = 0;
        for (size_t i = 0; protocols[i] && !found; i++)
            found = strlen(protocols[i]) == h->value.len &&
                    memcmp(protocols[i], h->value.ptr, h->value.len) == 0;
        if (!found)
            return wsc__seterr(err, WSC_EHANDSHAKE, "server selected a subprotocol that was not offered");
        res->protocol = h->value;
    }

    size_t pos = 0;
    while ((h = wsc_http_header_next(r->headers, r->n_headers, "Sec-WebSocket-Extensions", &pos))) {
        wsc_pmd_params p;
        int rc = wsc_pmd_check_response(h->value.ptr, h->value.len, pmd_offer, &p, err);
        if (rc) {
            memset(&res->pmd, 0, sizeof res->pmd);
            return rc;
        }
        if (!p.enabled) continue;
        if (res->pmd.enabled) {
            memset(&res->pmd, 0, sizeof res->pmd);
            return wsc__seterr(err, WSC_EEXTENSION, "server accepted permessage-deflate twice");
        }
        res->pmd = p;
        res->extensions = h->value;
    }
    if (err) {
        err->code = WSC_OK;
        err->message[0] = '\0';
    }
    return WSC_OK;
}

int wsc_handshake_next_set_cookie(const wsc_handshake_result *res, size_t *pos, wsc_span *value) {
    if (!res || !res->response || !pos || !value) return 0;
    const wsc_header *h =
        wsc_http_header_next(res->response->headers, res->response->n_headers, "Set-Cookie", pos);
    if (!h) return 0;
    *value = h->value;
    return 1;
}

/* ---- the server's check of a request ------------------------------------ */

static int bad_request(wsc_ws_request_info *info, wsc_error *err, int status, const char *msg) {
    info->status = status;
    return wsc__seterr(err, WSC_EHANDSHAKE, "%s", msg);
}

static int list_has(const wsc_http_request *r, const char *name, const char *token) {
    wsc_list_iter it = {0, 0};
    wsc_span el;
    while (wsc_http_list_next(r->headers, r->n_headers, name, &it, &el))
        if (span_ieq(el, token)) return 1;
    return 0;
}

int wsc_handshake_check_request(const wsc_http_request *r, wsc_ws_request_info *info,
                                wsc_error *err) {
    if (!r || !info) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    memset(info, 0, sizeof *info);
    info->request = r;
    const wsc_header *h;
    if (r->method.len != 3 || memcmp(r->method.ptr, "GET", 3) != 0)
        return bad_request(info, err, 405, "method is not GET");
    if (r->major < 1 || (r->major == 1 && r->minor < 1))
        return bad_request(info, err, 400, "HTTP/1.1 or later is required");
    if (!r->target.len || r->target.ptr[0] != '/')
        return bad_request(info, err, 400, "request target must be a path");
    if (memchr(r->target.ptr, '#', r->target.len))
        return bad_request(info, err, 400, "request target contains a fragment");
    const char *q = memchr(r->target.ptr, '?', r->target.len);
    info->path = (wsc_span){r->target.ptr, q ? (size_t)(q - r->target.ptr) : r->target.len};
    if (q) info->query = (wsc_span){q + 1, r->target.len - info->path.len - 1};

    int n = count_headers(r->headers, r->n_headers, "Host", &h);
    if (n == 0 || !h->value.len) return bad_request(info, err, 400, "missing Host header");
    if (n > 1) return bad_request(info, err, 400, "several Host headers");
    info->host = h->value;
    n = count_headers(r->headers, r->n_headers, "Origin", &h);
    if (n > 1) return bad_request(info, err, 400, "several Origin headers");
    if (n) info->origin = h->value;
    n = count_headers(r->headers, r->n_headers, "Cookie", &h);
    if (n > 1) return bad_request(info, err, 400, "several Cookie headers");
    if (n) info->cookie = h->value;

    if (!list_has(r, "Upgrade", "websocket"))
        return bad_request(info, err, 400, "Upgrade header does not contain 'websocket'");
    if (!list_has(r, "Connection", "upgrade"))
        return bad_request(info, err, 400, "Connection header does not contain 'Upgrade'");
    n = count_headers(r->headers, r->n_headers, "Sec-WebSocket-Version", &h);
    if (n != 1 || h->value.len != 2 || memcmp(h->value.ptr, "13", 2) != 0)
        return bad_request(info, err, 426, "unsupported Sec-WebSocket-Version (13 is required)");
    n = count_headers(r->headers, r->n_headers, "Sec-WebSocket-Key", &h);
    if (n == 0) return bad_request(info, err, 400, "missing Sec-WebSocket-Key header");
    if (n > 1) return bad_request(info, err, 400, "several Sec-WebSocket-Key headers");
    if (!key_valid(h->value))
        return bad_request(info, err, 400, "Sec-WebSocket-Key is not 16 bytes in base64");
    info->key = h->value;
    info->status = 0;
    if (err) {
        err->code = WSC_OK;
        err->message[0] = '\0';
    }
    return WSC_OK;
}

int wsc_ws_request_next_protocol(const wsc_ws_request_info *info, wsc_list_iter *it,
                                 wsc_span *proto) {
    if (!info || !info->request || !it || !proto) return 0;
    return wsc_http_list_next(info->request->headers, info->request->n_headers,
                              "Sec-WebSocket-Protocol", it, proto);
}

int wsc_ws_request_next_extensions(const wsc_ws_request_info *info, size_t *pos, wsc_span *value) {
    if (!info || !info->request || !pos || !value) return 0;
    const wsc_header *h = wsc_http_header_next(info->request->headers, info->request->n_headers,
                                               "Sec-WebSocket-Extensions", pos);
    if (!h) return 0;
    *value = h->value;
    return 1;
}

/* ---- the server's answers ----------------------------------------------- */

int wsc_handshake_response(wsc_span key, wsc_span protocol, wsc_span extensions,
                           const wsc_header *headers, size_t n_headers, wsc_buf *out,
                           wsc_error *err) {
    static const char *const owned[] = {"Upgrade", "Connection", "Content-Length",
                                        "Transfer-Encoding", NULL};
    if (!out) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    if (!key.ptr || !key.len || !value_ok(key))
        return wsc__seterr(err, WSC_EINVAL, "invalid Sec-WebSocket-Key");
    if (protocol.ptr && !wsc_http_is_token(protocol.ptr, protocol.len))
        return wsc__seterr(err, WSC_EINVAL, "subprotocol is not a valid token");
    if ((!extensions.ptr && extensions.len) || !value_ok(extensions))
        return wsc__seterr(err, WSC_EINVAL, "invalid character in Sec-WebSocket-Extensions");
    int rc = check_extra_headers(headers, n_headers, owned, NULL, 1, err);
    if (rc) return rc;
    char accept[29];
    if (wsc_handshake_accept(key.ptr, key.len, accept))
        return wsc__seterr(err, WSC_ENOMEM, "SHA-1 failed");
    writer w;
    w_init(&w, out);
    w_str(&w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: ");
    w_put(&w, accept, 28);
    w_put(&w, "\r\n", 2);
    if (protocol.ptr) w_header(&w, "Sec-WebSocket-Protocol", protocol);
    if (span_used(extensions)) w_header(&w, "Sec-WebSocket-Extensions", extensions);
    write_extra_headers(&w, headers, n_headers);
    w_put(&w, "\r\n", 2);
    rc = w_end(&w);
    if (rc) return wsc__seterr(err, rc, "cannot grow the output buffer");
    return WSC_OK;
}

static const char *reason_for(int status) {
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    }
    return "Error";
}

int wsc_http_error_response(int status, const char *reason, const char *body,
                            const wsc_header *headers, size_t n_headers, wsc_buf *out,
                            wsc_error *err) {
    static const char *const owned[] = {"Content-Type", "Content-Length", "Connection",
                                        "Transfer-Encoding", NULL};
    if (!out) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    if (status < 200 || status > 599) return wsc__seterr(err, WSC_EINVAL, "bad HTTP status %d", status);
    wsc_span rs = wsc_span_str(reason ? reason : reason_for(status));
    if (!value_ok(rs)) return wsc__seterr(err, WSC_EINVAL, "invalid character in reason phrase");
    int rc = check_extra_headers(headers, n_headers, owned, NULL, 0, err);
    if (rc) return rc;
    wsc_span b = wsc_span_str(body ? body : "");
    char line[96];
    writer w;
    w_init(&w, out);
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    w_put(&w, line, (size_t)n);
    w_span(&w, rs);
    n = snprintf(line, sizeof line,
                 "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n", b.len);
    w_put(&w, line, (size_t)n);
    w_str(&w, "Connection: close\r\n");
    write_extra_headers(&w, headers, n_headers);
    w_put(&w, "\r\n", 2);
    w_span(&w, b);
    rc = w_end(&w);
    if (rc) return wsc__seterr(err, rc, "cannot grow the output buffer");
    return WSC_OK;
}
