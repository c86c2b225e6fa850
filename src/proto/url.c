/*
 * url.c - WebSocket URL parsing (RFC 3986, with the scheme mapping and host
 * rules browsers and node ws apply), canonical origins, and the query and
 * cookie helpers (query parameter set/get, Cookie header lookup).
 *
 * Nothing is allocated: the parser returns spans into the caller's string,
 * wsc_query_set() grows the caller's wsc_buf.
 */
#define _POSIX_C_SOURCE 200809L

#ifdef _WIN32
#include <winsock2.h> /* inet_pton, inet_ntop: ws2_32, Windows Vista and later */
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#endif
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "wsc/http.h"

/* Longest port text and scheme quoted in an error message. */
#define MSG_QUOTE_MAX 32
/* Longest host name accepted (a DNS name is at most 253 characters plus a
   trailing dot; a little slack for names that are not DNS names). */
#define HOST_NAME_MAX_LEN 255
/* sun_path holds 108 bytes including the NUL on Linux. */
#define SOCKET_PATH_MAX_LEN 107

static const char slash[] = "/";

static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_hex(unsigned char c) {
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static int hex_val(unsigned char c) { return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }
static unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int span_ieq(const char *s, size_t n, const char *lit) {
    size_t m = strlen(lit);
    return n == m && strncasecmp(s, lit, n) == 0;
}

static int url_fail(wsc_error *err, const char *msg) {
    return wsc__seterr(err, WSC_EURL, "%s", msg);
}

/* A registered-name character (RFC 3986 unreserved minus '~'). */
static int host_char(unsigned char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* Strict dotted quad: four decimal labels 0-255 without leading zeros. */
static int parse_ipv4(const char *s, size_t n) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit((unsigned char)s[i]) && i - start < 4) v = v * 10 + (unsigned)(s[i++] - '0');
        size_t digits = i - start;
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[start] == '0')) return 0;
    }
    return i == n;
}

/* WHATWG's "ends in a number": the last label (ignoring one trailing dot)
   is all digits, or 0x followed by hex digits. Such a host must be IPv4. */
static int ends_in_number(const char *s, size_t n) {
    if (n && s[n - 1] == '.') n--;
    size_t start = n;
    while (start && s[start - 1] != '.') start--;
    const char *l = s + start;
    size_t ll = n - start;
    if (ll == 0) return 0;
    size_t i = 0;
    if (ll >= 2 && l[0] == '0' && (l[1] | 0x20) == 'x') {
        for (i = 2; i < ll; i++)
            if (!is_hex((unsigned char)l[i])) return 0;
        return 1;
    }
    for (; i < ll; i++)
        if (!is_digit((unsigned char)l[i])) return 0;
    return 1;
}

static int parse_host_port(const char *a, size_t alen, wsc_url *u, wsc_error *err) {
    size_t i;
    const char *port = NULL;
    size_t port_len = 0;
    int has_colon = 0;
    if (alen && a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close) return url_fail(err, "unterminated IPv6 literal (missing ']')");
        const char *h = a + 1;
        size_t hl = (size_t)(close - h);
        if (hl == 0) return url_fail(err, "empty host");
        if (memchr(h, '%', hl)) return url_fail(err, "IPv6 zone identifiers are not supported");
        char tmp[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        if (hl >= sizeof tmp) return url_fail(err, "bad IPv6 address");
        memcpy(tmp, h, hl);
        tmp[hl] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) return url_fail(err, "bad IPv6 address");
        u->host = (wsc_span){h, hl};
        u->host_kind = WSC_HOST_IPV6;
        size_t rest = alen - (size_t)(close + 1 - a);
        const char *r = close + 1;
        if (rest) {
            if (r[0] != ':') return url_fail(err, "unexpected characters after IPv6 literal");
            has_colon = 1;
            port = r + 1;
            port_len = rest - 1;
        }
    } else {
        const char *colon = memchr(a, ':', alen);
        size_t hl = colon ? (size_t)(colon - a) : alen;
        if (colon) {
            has_colon = 1;
            port = colon + 1;
            port_len = alen - hl - 1;
        }
        if (hl == 0) return url_fail(err, "empty host");
        for (i = 0; i < hl; i++) {
            unsigned char c = (unsigned char)a[i];
            if (c >= 0x80 || c == '%')
                return url_fail(err, "non-ASCII and percent-encoded host names are not "
                                     "supported (use the punycode form)");
            if (!host_char(c))
                return wsc__seterr(err, WSC_EURL, "invalid character '%c' in host", c);
        }
        if (hl > HOST_NAME_MAX_LEN) return url_fail(err, "host name too long");
        u->host = (wsc_span){a, hl};
        if (ends_in_number(a, hl)) {
            if (!parse_ipv4(a, hl)) return url_fail(err, "bad IPv4 address");
            u->host_kind = WSC_HOST_IPV4;
        } else {
            u->host_kind = WSC_HOST_NAME;
        }
    }
    u->port = u->secure ? 443 : 80;
    u->port_explicit = 0;
    if (has_colon && port_len) {
        unsigned long v = 0;
        int ok = 1;
        for (i = 0; i < port_len; i++) {
            unsigned char c = (unsigned char)port[i];
            if (!is_digit(c)) {
                ok = 0;
                break;
            }
            v = v * 10 + (c - '0');
            if (v > 65535) {
                ok = 0;
                break;
            }
        }
        if (!ok || v == 0) {
            int shown = port_len > MSG_QUOTE_MAX ? MSG_QUOTE_MAX : (int)port_len;
            return wsc__seterr(err, WSC_EURL, "bad port '%.*s%s'", shown, port,
                               port_len > MSG_QUOTE_MAX ? "..." : "");
        }
        u->port = (uint16_t)v;
        u->port_explicit = 1;
    }
    return WSC_OK;
}

/* Splits rest[0..n) (which starts at '/' or '?', or is empty) into path and query. */
static void split_path_query(const char *rest, size_t n, wsc_url *u) {
    const char *q = memchr(rest, '?', n);
    size_t pl = q ? (size_t)(q - rest) : n;
    if (pl) u->path = (wsc_span){rest, pl};
    else u->path = (wsc_span){slash, 1};
    if (q) u->query = (wsc_span){q + 1, n - pl - 1};
}

static int parse_unix(const char *rest, size_t n, wsc_url *u, wsc_error *err) {
    if (n >= 2 && rest[0] == '/' && rest[1] == '/') {
        /* ws+unix:///path: the authority must be empty. */
        if (n == 2 || rest[2] != '/')
            return url_fail(err, "ws+unix URLs take no host (write ws+unix:/path/to/socket)");
        rest += 2;
        n -= 2;
    }
    size_t sl = 0;
    while (sl < n && rest[sl] != ':' && rest[sl] != '?') sl++;
    if (sl == 0) return url_fail(err, "empty socket path");
    if (sl > SOCKET_PATH_MAX_LEN) return url_fail(err, "socket path too long");
    u->socket_path = (wsc_span){rest, sl};
    u->host_kind = WSC_HOST_NONE;
    u->port = 0;
    rest += sl;
    n -= sl;
    if (n && rest[0] == ':') {
        rest++;
        n--;
        if (n && rest[0] != '/' && rest[0] != '?')
            return url_fail(err, "request path must start with '/'");
    }
    split_path_query(rest, n, u);
    return WSC_OK;
}

int wsc_url_parse(const char *s, size_t len, wsc_url *u, wsc_error *err) {
    if (!s || !u) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return wsc__seterr(err, WSC_EURL, "control character in URL (offset %zu)", i);
        if (c == '#') return url_fail(err, "URL fragments are not allowed in WebSocket URLs");
    }
    if (len == 0) return url_fail(err, "empty URL");
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    size_t sl = 0;
    if (!is_alpha((unsigned char)s[0])) return url_fail(err, "missing scheme (expected ws:// or wss://)");
    while (sl < len && (is_alpha((unsigned char)s[sl]) || is_digit((unsigned char)s[sl]) ||
                        s[sl] == '+' || s[sl] == '-' || s[sl] == '.'))
        sl++;
    if (sl == len || s[sl] != ':') return url_fail(err, "missing scheme (expected ws:// or wss://)");
    u->scheme_text = (wsc_span){s, sl};
    if (span_ieq(s, sl, "ws") || span_ieq(s, sl, "http")) u->scheme = WSC_SCHEME_WS;
    else if (span_ieq(s, sl, "wss") || span_ieq(s, sl, "https")) u->scheme = WSC_SCHEME_WSS;
    else if (span_ieq(s, sl, "ws+unix")) u->scheme = WSC_SCHEME_WS_UNIX;
    else if (span_ieq(s, sl, "wss+unix")) u->scheme = WSC_SCHEME_WSS_UNIX;
    else {
        int shown = sl > MSG_QUOTE_MAX ? MSG_QUOTE_MAX : (int)sl;
        return wsc__seterr(err, WSC_EURL, "unsupported scheme '%.*s%s'", shown, s,
                           sl > MSG_QUOTE_MAX ? "..." : "");
    }
    u->secure = u->scheme == WSC_SCHEME_WSS || u->scheme == WSC_SCHEME_WSS_UNIX;
    const char *rest = s + sl + 1;
    size_t n = len - sl - 1;
    if (u->scheme == WSC_SCHEME_WS_UNIX || u->scheme == WSC_SCHEME_WSS_UNIX)
        return parse_unix(rest, n, u, err);

    if (n < 2 || rest[0] != '/' || rest[1] != '/')
        return wsc__seterr(err, WSC_EURL, "expected '//' after '%.*s:'", (int)sl, s);
    rest += 2;
    n -= 2;
    size_t alen = 0;
    while (alen < n && rest[alen] != '/' && rest[alen] != '?') alen++;
    const char *a = rest;
    /* userinfo: up to the last '@' of the authority, as WHATWG parsers do */
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@') at = a + i;
    if (at) {
        size_t ul = (size_t)(at - a);
        u->userinfo = (wsc_span){a, ul};
        const char *c = memchr(a, ':', ul);
        if (c) {
            u->user = (wsc_span){a, (size_t)(c - a)};
            u->password = (wsc_span){c + 1, ul - (size_t)(c - a) - 1};
        } else {
            u->user = (wsc_span){a, ul};
        }
        alen -= ul + 1;
        a = at + 1;
    }
    int rc = parse_host_port(a, alen, u, err);
    if (rc) return rc;
    const char *after = a + alen;
    split_path_query(after, (size_t)(s + len - after), u);
    return WSC_OK;
}

int wsc_url_origin(const wsc_url *u, char *out, size_t cap) {
    if (!u || !out || u->scheme < WSC_SCHEME_WS || u->scheme > WSC_SCHEME_WSS_UNIX) return WSC_EINVAL;
    static const char *const names[] = {"ws", "wss", "ws+unix", "wss+unix"};
    const char *scheme = names[u->scheme];
    size_t sl = strlen(scheme), need;
    if (u->scheme == WSC_SCHEME_WS_UNIX || u->scheme == WSC_SCHEME_WSS_UNIX) {
        if (!u->socket_path.ptr) return WSC_EINVAL;
        need = sl + 3 + u->socket_path.len;
        if (need + 1 > cap) goto toobig;
        memcpy(out, scheme, sl);
        memcpy(out + sl, "://", 3);
        memcpy(out + sl + 3, u->socket_path.ptr, u->socket_path.len);
        out[need] = '\0';
        return (int)need;
    }
    if (!u->host.ptr || !u->host.len || !u->port) return WSC_EINVAL;
    char host[INET6_ADDRSTRLEN + 2];
    const char *h = u->host.ptr;
    size_t hl = u->host.len;
    if (u->host_kind == WSC_HOST_IPV6) {
        char tmp[INET6_ADDRSTRLEN];
        struct in6_addr a6;
        if (hl >= sizeof tmp) return WSC_EINVAL;
        memcpy(tmp, h, hl);
        tmp[hl] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1 || !inet_ntop(AF_INET6, &a6, host + 1, INET6_ADDRSTRLEN))
            return WSC_EINVAL;
        host[0] = '[';
        hl = strlen(host + 1);
        host[hl + 1] = ']';
        hl += 2;
        h = host;
    }
    char port[8];
    int pl = snprintf(port, sizeof port, ":%u", (unsigned)u->port);
    need = sl + 3 + hl + (size_t)pl;
    if (need + 1 > cap) goto toobig;
    char *o = out;
    memcpy(o, scheme, sl);
    o += sl;
    memcpy(o, "://", 3);
    o += 3;
    for (size_t i = 0; i < hl; i++) *o++ = (char)lower((unsigned char)h[i]);
    memcpy(o, port, (size_t)pl);
    o += pl;
    *o = '\0';
    return (int)need;
toobig:
    if (cap) out[0] = '\0';
    return WSC_ETOOBIG;
}

/* ---- Basic authentication ------------------------------------------ */

/* A streaming base64 encoder writing into reserved space. */
typedef struct b64_state {
    uint8_t in[3];
    size_t n;
    char *o;
} b64_state;

static void b64_flush(b64_state *st, int final) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (st->n == 3 || (final && st->n)) {
        uint32_t v = (uint32_t)st->in[0] << 16 | (uint32_t)(st->n > 1 ? st->in[1] : 0) << 8 |
                     (uint32_t)(st->n > 2 ? st->in[2] : 0);
        st->o[0] = tab[v >> 18];
        st->o[1] = tab[(v >> 12) & 63];
        st->o[2] = st->n > 1 ? tab[(v >> 6) & 63] : '=';
        st->o[3] = st->n > 2 ? tab[v & 63] : '=';
        st->o += 4;
        st->n = 0;
    }
}

static void b64_byte(b64_state *st, uint8_t c) {
    st->in[st->n++] = c;
    b64_flush(st, 0);
}

/*
 * The one percent-decoder of wsc: the byte that s[*i..n) starts with, "%XX"
 * (two hex digits) decoded, and *i advanced past it. A '%' without two hex
 * digits after it (within n) stands for itself and sets *bad if bad is not
 * NULL: the callers differ only in whether that is an error (a query value)
 * or not (user information, query names), and in '+', which only a query's
 * decoding makes a space (decode_at).
 */
static unsigned char pct_next(const char *s, size_t n, size_t *i, int *bad) {
    unsigned char c = (unsigned char)s[*i];
    if (c == '%') {
        if (*i + 2 < n && is_hex((unsigned char)s[*i + 1]) && is_hex((unsigned char)s[*i + 2])) {
            unsigned char v = (unsigned char)(hex_val((unsigned char)s[*i + 1]) << 4 |
                                              hex_val((unsigned char)s[*i + 2]));
            *i += 3;
            return v;
        }
        if (bad) *bad = 1;
    }
    (*i)++;
    return c;
}

size_t wsc__pct_decode(const char *s, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) out[o++] = (char)pct_next(s, n, &i, NULL);
    return o;
}

/* Bytes s[0..n) decode to (percent escapes only). */
static size_t pct_decoded_len(const char *s, size_t n) {
    size_t out = 0;
    for (size_t i = 0; i < n; out++) pct_next(s, n, &i, NULL);
    return out;
}

/* Base64 of s[0..n) percent-decoded, streamed: the decoded credentials are
   never held in a buffer of their own. */
static void b64_pct(b64_state *st, const char *s, size_t n) {
    for (size_t i = 0; i < n;) b64_byte(st, pct_next(s, n, &i, NULL));
}

/* Reserves room in out for "Basic " and the base64 of raw bytes (all of it
   at once, so that nothing is appended on failure), writes the prefix and
   points st after it. */
static int basic_begin(wsc_buf *out, size_t raw, b64_state *st) {
    int rc = wsc_buf_reserve(out, 6 + (raw + 2) / 3 * 4);
    if (rc) return rc;
    char *start = (char *)out->data + out->len;
    memcpy(start, "Basic ", 6);
    *st = (b64_state){{0, 0, 0}, 0, start + 6};
    return WSC_OK;
}

static void basic_end(wsc_buf *out, b64_state *st) {
    b64_flush(st, 1);
    out->len = (size_t)(st->o - (char *)out->data);
}

int wsc_url_basic_auth(const wsc_url *u, wsc_buf *out) {
    if (!u || !out || !u->userinfo.ptr || !u->user.ptr) return WSC_EINVAL;
    size_t raw = pct_decoded_len(u->user.ptr, u->user.len) + 1 +
                 (u->password.ptr ? pct_decoded_len(u->password.ptr, u->password.len) : 0);
    b64_state st;
    int rc = basic_begin(out, raw, &st);
    if (rc) return rc;
    b64_pct(&st, u->user.ptr, u->user.len);
    b64_byte(&st, ':');
    if (u->password.ptr) b64_pct(&st, u->password.ptr, u->password.len);
    basic_end(out, &st);
    return WSC_OK;
}

int wsc__basic_auth(const char *cred, size_t n, wsc_buf *out) {
    b64_state st;
    int rc = basic_begin(out, n, &st);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) b64_byte(&st, (uint8_t)cred[i]);
    basic_end(out, &st);
    return WSC_OK;
}

/* ---- query strings ------------------------------------------------- */

static int unreserved(unsigned char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Bytes needed to percent-encode s (everything but unreserved). */
static size_t encoded_len(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += unreserved((unsigned char)*s) ? 1 : 3;
    return n;
}

static char *encode_into(char *o, const char *s) {
    static const char hexd[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hexd[c >> 4];
            *o++ = hexd[c & 15];
        }
    }
    return o;
}

/* Decodes one character of a form-encoded string at s[*i..n): %XX, '+' as
   space, anything else as itself (a malformed '%' stands for itself).
   Returns the byte and advances *i. *bad is set for a malformed escape. */
static unsigned char decode_at(const char *s, size_t n, size_t *i, int *bad) {
    if (s[*i] == '+') {
        (*i)++;
        return ' ';
    }
    return pct_next(s, n, i, bad);
}

/* Non-zero if the form-decoded key k[0..kl) equals name. */
static int key_eq(const char *k, size_t kl, const char *name) {
    size_t i = 0, j = 0;
    while (i < kl) {
        if (!name[j]) return 0;
        if (decode_at(k, kl, &i, NULL) != (unsigned char)name[j]) return 0;
        j++;
    }
    return name[j] == '\0';
}

/* The key of a parameter: up to '=' or its end. */
static size_t key_len(const char *p, size_t n) {
    const char *eq = memchr(p, '=', n);
    return eq ? (size_t)(eq - p) : n;
}

int wsc_query_set(const char *query, size_t qlen, const char *name, const char *value,
                  wsc_buf *out) {
    if (!name || !value || !out || (!query && qlen)) return WSC_EINVAL;
    size_t nl = encoded_len(name), vl = encoded_len(value);
    /* The result is at most the query, one '&', and name=value. */
    if (qlen > SIZE_MAX - 2 - nl - vl) return WSC_ETOOBIG;
    int rc = wsc_buf_reserve(out, qlen + 2 + nl + vl);
    if (rc) return rc;
    char *start = (char *)out->data + out->len, *o = start;
    int replaced = 0, first_out = 1;
    size_t pos = 0;
    while (qlen && pos <= qlen) {
        const char *seg = query + pos;
        const char *amp = memchr(seg, '&', qlen - pos);
        size_t segl = amp ? (size_t)(amp - seg) : qlen - pos;
        int match = segl && key_eq(seg, key_len(seg, segl), name);
        if (!(match && replaced)) {
            if (!first_out) *o++ = '&';
            first_out = 0;
            if (match) {
                o = encode_into(o, name);
                *o++ = '=';
                o = encode_into(o, value);
                replaced = 1;
            } else {
                memcpy(o, seg, segl);
                o += segl;
            }
        }
        pos += segl + 1;
        if (!amp) break;
    }
    if (!replaced) {
        if (o > start && o[-1] != '&') *o++ = '&';
        o = encode_into(o, name);
        *o++ = '=';
        o = encode_into(o, value);
    }
    out->len += (size_t)(o - start);
    return WSC_OK;
}

int wsc_query_get(const char *query, size_t qlen, const char *name, char *out, size_t cap,
                  size_t *out_len) {
    if (!name || !out || !out_len || (!query && qlen)) return WSC_EINVAL;
    size_t pos = 0;
    while (qlen && pos < qlen) {
        const char *seg = query + pos;
        const char *amp = memchr(seg, '&', qlen - pos);
        size_t segl = amp ? (size_t)(amp - seg) : qlen - pos;
        size_t kl = key_len(seg, segl);
        if (segl && key_eq(seg, kl, name)) {
            const char *v = seg + kl + (kl < segl ? 1 : 0);
            size_t vl = segl - kl - (kl < segl ? 1 : 0), i = 0, n = 0;
            int bad = 0;
            /* First pass: validate and size, so out is untouched on failure. */
            while (i < vl) {
                decode_at(v, vl, &i, &bad);
                n++;
            }
            if (bad) return WSC_EINVAL;
            if (n + 1 > cap) return WSC_ETOOBIG;
            for (i = 0, n = 0; i < vl;) out[n++] = (char)decode_at(v, vl, &i, NULL);
            out[n] = '\0';
            *out_len = n;
            return 1;
        }
        pos += segl + 1;
    }
    return 0;
}

/* ---- cookies ------------------------------------------------------- */

static int ows(char c) { return c == ' ' || c == '\t'; }

int wsc_cookie_get(const char *hdr, size_t len, const char *name, const char **value,
                   size_t *value_len) {
    if (!hdr || !name || !value || !value_len) return 0;
    size_t nlen = strlen(name), pos = 0;
    while (pos < len) {
        const char *p = hdr + pos;
        const char *semi = memchr(p, ';', len - pos);
        size_t pl = semi ? (size_t)(semi - p) : len - pos;
        pos += pl + 1;
        const char *eq = memchr(p, '=', pl);
        if (!eq) continue; /* RFC 6265 5.2: a pair without '=' is ignored */
        const char *k = p, *ke = eq;
        while (k < ke && ows(*k)) k++;
        while (ke > k && ows(ke[-1])) ke--;
        if ((size_t)(ke - k) != nlen || memcmp(k, name, nlen) != 0) continue;
        const char *v = eq + 1, *ve = p + pl;
        while (v < ve && ows(*v)) v++;
        while (ve > v && ows(ve[-1])) ve--;
        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        *value = v;
        *value_len = (size_t)(ve - v);
        return 1;
    }
    return 0;
}
