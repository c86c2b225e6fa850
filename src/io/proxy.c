/*
 * proxy.c - the HTTP CONNECT and SOCKS5 dialogues of the connector, and the
 * proxy the environment asks for.
 *
 * Each dialogue runs on a socket the connector has connected to the proxy
 * (through the TLS session with it for an https:// proxy) and stops exactly
 * at the end of the proxy's last answer, so the first byte the caller reads
 * next is the target's. Costs: one small buffer per dialogue (the largest
 * message is a SOCKS5 authentication, 513 bytes, or the HTTP answer head,
 * at most 16 KiB), freed when the tunnel is up.
 */
#define _GNU_SOURCE
#include "proxy.h"
#include "compat/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "tx_impl.h"
#include "wsc/loop.h"

/* ------------------------------------------------------------------ */
/* Proxies from the environment                                        */
/* ------------------------------------------------------------------ */

static const char *getenv2(const char *(*env)(const char *), const char *lower, const char *upper) {
    const char *v = env(lower);
    if (!v || !*v) v = env(upper);
    return v && *v ? v : NULL;
}

static const char *process_env(const char *name) { return getenv(name); }

const char *wsc__env_proxy(const char *host, int secure) { return wsc__env_proxy_in(host, secure, process_env); }

const char *wsc__env_proxy_in(const char *host, int secure, const char *(*env)(const char *name)) {
    const char *v = secure ? getenv2(env, "https_proxy", "HTTPS_PROXY") : getenv2(env, "http_proxy", "HTTP_PROXY");
    if (!v) v = getenv2(env, "all_proxy", "ALL_PROXY");
    if (!v) return NULL;
    if (!strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1")) return NULL;
    const char *np = getenv2(env, "no_proxy", "NO_PROXY");
    if (!np) return v;
    size_t hl = strlen(host);
    const char *p = np;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') e++;
        const char *pat = p;
        size_t pn = (size_t)(e - p);
        p = e;
        if (pn == 1 && *pat == '*') return NULL;
        if (pn && *pat == '.') pat++, pn--;
        /* "host:port" patterns: the port is not compared */
        const char *colon = memchr(pat, ':', pn);
        if (colon && memchr(pat, '.', pn)) pn = (size_t)(colon - pat);
        if (pn && pn <= hl && strncasecmp(host + hl - pn, pat, pn) == 0 && (pn == hl || host[hl - pn - 1] == '.'))
            return NULL;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* I/O on the socket or on the TLS session with the proxy              */
/* ------------------------------------------------------------------ */

enum {
    H_SEND = 1, /* the CONNECT request */
    H_READ,     /* its answer, up to the end of the head */
    S_GREET,    /* SOCKS5: the methods we offer */
    S_METHOD,   /* the method the proxy chose (2 bytes) */
    S_AUTH,     /* RFC 1929 username/password */
    S_AUTH_OK,  /* its status (2 bytes) */
    S_REQUEST,  /* CONNECT to the target */
    S_REPLY,    /* the reply's first 5 bytes (up to the address's first byte) */
    S_REPLY_REST /* the rest of the bound address and port */
};

/* The readiness a stream that answered WSC_EAGAIN waits for: what TLS
   asked for, else the direction of the call. */
static unsigned wait_for(const wsc_tx *tx, unsigned dflt) {
    unsigned w = wsc__tx_interest(tx, 0, 0);
    return w ? w : dflt;
}

/* Sends what is left of p->buf, then wipes it (it may carry credentials).
   WSC_OK once all is sent, WSC_EAGAIN (*want set) or WSC_EPROXY. */
static int send_rest(wsc_proxy_conv *p, unsigned *want, wsc_error *err) {
    while (p->done < p->buf.len) {
        wsc_error e;
        long n = wsc__tx_write(p->tx, p->buf.data + p->done, p->buf.len - p->done, &e);
        if (n == WSC_EAGAIN) {
            *want = wait_for(p->tx, WSC_WRITABLE);
            return WSC_EAGAIN;
        }
        if (n < 0) return wsc__seterr(err, WSC_EPROXY, "proxy connection failed while sending to it: %s", e.message);
        p->done += (size_t)n;
    }
    wsc__wipe(p->buf.data, p->buf.len);
    p->buf.off = p->buf.len = 0;
    p->done = 0;
    return WSC_OK;
}

/* Reads (or, with peek, looks at) up to len bytes. > 0 bytes; WSC_EAGAIN
   (*want set); WSC_EPROXY at the end of the stream or on an error. */
static long raw_read(wsc_proxy_conv *p, void *buf, size_t len, int peek, unsigned *want, wsc_error *err) {
    wsc_error e;
    long n = peek ? wsc__tx_peek(p->tx, buf, len, &e) : wsc__tx_read(p->tx, buf, len, &e);
    if (n > 0) return n;
    if (n == 0) return wsc__seterr(err, WSC_EPROXY, "the proxy closed the connection before answering");
    if (n == WSC_EAGAIN) {
        *want = wait_for(p->tx, WSC_READABLE);
        return WSC_EAGAIN;
    }
    return wsc__seterr(err, WSC_EPROXY, "proxy connection failed while waiting for its answer: %s", e.message);
}

/* Reads until p->buf holds p->need bytes. WSC_OK, WSC_EAGAIN or an error. */
static int read_exact(wsc_proxy_conv *p, unsigned *want, wsc_error *err) {
    while (p->buf.len < p->need) {
        uint8_t tmp[300];
        size_t ask = p->need - p->buf.len;
        long n = raw_read(p, tmp, ask < sizeof tmp ? ask : sizeof tmp, 0, want, err);
        if (n < 0) return (int)n;
        if (wsc_buf_append(&p->buf, tmp, (size_t)n)) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
    }
    return WSC_OK;
}

/* ------------------------------------------------------------------ */
/* HTTP CONNECT                                                        */
/* ------------------------------------------------------------------ */

static int http_begin(wsc_proxy_conv *p, wsc_error *err) {
    char line[600];
    int v6 = strchr(p->host, ':') != NULL;
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    int n = snprintf(line, sizeof line, "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n", lb, p->host, rb,
                     p->port, lb, p->host, rb, p->port);
    if (n < 0 || (size_t)n >= sizeof line) return wsc__seterr(err, WSC_EINVAL, "target host name too long");
    if (wsc_buf_append(&p->buf, line, (size_t)n)) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
    if (p->auth) {
        /* p->auth is "user:pass" already decoded (SOCKS5 sends it as it is),
           so the encoder for raw bytes, not wsc_url_basic_auth's decoding one. */
        size_t alen = strlen(p->auth);
        /* Room for the whole rest of the request first: an append that moved
           the buffer after the credentials would leave them in freed memory
           (only p->buf itself is wiped). */
        int rc = wsc_buf_reserve(&p->buf, 21 + 6 + (alen + 2) / 3 * 4 + 4);
        if (!rc) rc = wsc_buf_append(&p->buf, "Proxy-Authorization: ", 21);
        if (!rc) rc = wsc__basic_auth(p->auth, alen, &p->buf);
        if (!rc) rc = wsc_buf_append(&p->buf, "\r\n", 2);
        if (rc) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
    }
    if (wsc_buf_append(&p->buf, "\r\n", 2)) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
    p->step = H_SEND;
    return WSC_OK;
}

/* Reads the answer byte-exact up to the end of its head, so nothing of the
   tunnelled stream (the TLS handshake) is consumed: peek, find the end of
   the head, then consume only that much. */
static int http_read(wsc_proxy_conv *p, unsigned *want, wsc_error *err) {
    for (;;) {
        char tmp[1024];
        long n = raw_read(p, tmp, sizeof tmp, 1, want, err);
        if (n < 0) return (int)n;
        size_t last = p->buf.len;
        if (wsc_buf_append(&p->buf, tmp, (size_t)n)) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
        wsc_http_response r;
        int hl = wsc_http_parse_response((const char *)p->buf.data, p->buf.len, last, &r, 16384);
        size_t take = (size_t)n;
        if (hl > 0) take = (size_t)hl - last; /* consume only the head */
        size_t done = 0;
        while (done < take) {
            long m = raw_read(p, tmp, take - done, 0, want, err);
            /* What was peeked is there to read: anything else is a failure. */
            if (m < 0)
                return wsc__seterr(err, WSC_EPROXY, "proxy connection failed while reading its answer");
            done += (size_t)m;
        }
        if (hl == WSC_EAGAIN) continue;
        if (hl < 0)
            return wsc__seterr(err, WSC_EPROXY, "the proxy sent an invalid answer to CONNECT: %s",
                               r.error ? r.error : "");
        /* 407 is the proxy asking for credentials; tinyproxy (1.11) answers
           wrong ones with 401 instead. A CONNECT answer comes from the proxy
           (the server is not reached yet), so a 401 here can only be about
           the proxy's credentials: both are final for the reconnect policy,
           where a plain WSC_EPROXY would retry the same refused password. */
        int auth = r.status == 407 || r.status == 401;
        if (r.status / 100 != 2)
            return wsc__seterr(err, auth ? WSC_EPROXYAUTH : WSC_EPROXY, "the proxy refused the tunnel: %d %.*s%s",
                               r.status, (int)(r.reason.len > 100 ? 100 : r.reason.len),
                               r.reason.ptr ? r.reason.ptr : "",
                               r.status == 407   ? " (proxy authentication required)"
                               : r.status == 401 ? " (proxy authentication failed)"
                                                 : "");
        return WSC_OK;
    }
}

/* ------------------------------------------------------------------ */
/* SOCKS5 (RFC 1928, RFC 1929)                                         */
/* ------------------------------------------------------------------ */

static const char *socks_reply_text(int rep) {
    static const char *const text[] = {"succeeded",
                                       "general SOCKS server failure",
                                       "connection not allowed by ruleset",
                                       "network unreachable",
                                       "host unreachable",
                                       "connection refused",
                                       "TTL expired",
                                       "command not supported",
                                       "address type not supported"};
    return rep >= 0 && rep < (int)(sizeof text / sizeof *text) ? text[rep] : "unknown reply code";
}

static int put(wsc_proxy_conv *p, const void *d, size_t n, wsc_error *err) {
    return wsc_buf_append(&p->buf, d, n) ? wsc__seterr(err, WSC_ENOMEM, "out of memory") : WSC_OK;
}

static int socks_begin(wsc_proxy_conv *p, wsc_error *err) {
    /* RFC 1928 3: VER, NMETHODS, METHODS: 0x00 no authentication, 0x02
       username/password (offered only when we have credentials, so a
       proxy cannot make us reveal them when it would take none). */
    if (!p->target_ip && strlen(p->host) > 255)
        return wsc__seterr(err, WSC_EINVAL, "host name too long for a SOCKS5 proxy (255 bytes at most)");
    static const uint8_t plain[] = {5, 1, 0}, with_auth[] = {5, 2, 0, 2};
    int rc = p->auth ? put(p, with_auth, sizeof with_auth, err) : put(p, plain, sizeof plain, err);
    p->step = S_GREET;
    return rc;
}

static int socks_auth_msg(wsc_proxy_conv *p, wsc_error *err) {
    /* RFC 1929 2: VER 1, ULEN, UNAME, PLEN, PASSWD, each 1-255 bytes. */
    const char *colon = strchr(p->auth, ':');
    size_t ulen = colon ? (size_t)(colon - p->auth) : strlen(p->auth);
    const char *pass = colon ? colon + 1 : "";
    size_t plen = strlen(pass);
    if (ulen == 0 || ulen > 255 || plen > 255)
        return wsc__seterr(err, WSC_EINVAL, "SOCKS5 user name and password must be 1 to 255 bytes each");
    uint8_t v = 1, ul = (uint8_t)ulen, pl = (uint8_t)plen;
    int rc = put(p, &v, 1, err);
    if (!rc) rc = put(p, &ul, 1, err);
    if (!rc) rc = put(p, p->auth, ulen, err);
    if (!rc) rc = put(p, &pl, 1, err);
    if (!rc) rc = put(p, pass, plen, err);
    return rc;
}

static int socks_request_msg(wsc_proxy_conv *p, wsc_error *err) {
    /* RFC 1928 4: VER 5, CMD 1 (CONNECT), RSV 0, ATYP, DST.ADDR, DST.PORT. */
    uint8_t head[4] = {5, 1, 0, 0}, addr[16];
    size_t alen = 0;
    const char *ip = p->target_ip ? p->target_ip : p->host;
    if (inet_pton(AF_INET, ip, addr) == 1) head[3] = 1, alen = 4;
    else if (inet_pton(AF_INET6, ip, addr) == 1) head[3] = 4, alen = 16;
    else if (p->target_ip) return wsc__seterr(err, WSC_EINVAL, "invalid target address for the SOCKS5 proxy");
    else head[3] = 3;
    int rc = put(p, head, sizeof head, err);
    if (!rc && alen) rc = put(p, addr, alen, err);
    if (!rc && !alen) {
        uint8_t n = (uint8_t)strlen(p->host); /* checked <= 255 in socks_begin */
        rc = put(p, &n, 1, err);
        if (!rc) rc = put(p, p->host, n, err);
    }
    uint8_t port[2] = {(uint8_t)(p->port >> 8), (uint8_t)(p->port & 0xff)};
    if (!rc) rc = put(p, port, 2, err);
    return rc;
}

/* Switches to reading n bytes. */
static void expect(wsc_proxy_conv *p, int step, size_t n) {
    p->step = step;
    p->need = n;
    p->buf.off = p->buf.len = 0;
}

static int socks_step(wsc_proxy_conv *p, unsigned *want, wsc_error *err) {
    for (;;) {
        int rc;
        switch (p->step) {
        case S_GREET:
        case S_AUTH:
        case S_REQUEST:
            if ((rc = send_rest(p, want, err))) return rc;
            expect(p, p->step == S_GREET ? S_METHOD : p->step == S_AUTH ? S_AUTH_OK : S_REPLY,
                   p->step == S_REQUEST ? 5 : 2);
            break;
        case S_METHOD: {
            if ((rc = read_exact(p, want, err))) return rc;
            uint8_t ver = p->buf.data[0], method = p->buf.data[1];
            p->buf.len = 0;
            if (ver != 5) return wsc__seterr(err, WSC_EPROXY, "the proxy does not speak SOCKS5 (version %u)", ver);
            if (method == 0xff)
                return wsc__seterr(err, WSC_EPROXY, "the SOCKS5 proxy accepts none of our authentication methods%s",
                                   p->auth ? "" : " (it may need a user name and password)");
            if (method == 2 && p->auth) {
                if ((rc = socks_auth_msg(p, err))) return rc;
                p->step = S_AUTH;
            } else if (method == 0) {
                if ((rc = socks_request_msg(p, err))) return rc;
                p->step = S_REQUEST;
            } else {
                return wsc__seterr(err, WSC_EPROXY, "the SOCKS5 proxy chose a method we did not offer (%u)", method);
            }
            break;
        }
        case S_AUTH_OK: {
            if ((rc = read_exact(p, want, err))) return rc;
            uint8_t status = p->buf.data[1];
            p->buf.len = 0;
            if (status != 0)
                return wsc__seterr(err, WSC_EPROXYAUTH, "the SOCKS5 proxy refused the user name or password");
            if ((rc = socks_request_msg(p, err))) return rc;
            p->step = S_REQUEST;
            break;
        }
        case S_REPLY: {
            if ((rc = read_exact(p, want, err))) return rc;
            const uint8_t *r = p->buf.data;
            if (r[0] != 5) return wsc__seterr(err, WSC_EPROXY, "invalid SOCKS5 reply (version %u)", r[0]);
            if (r[1] != 0)
                return wsc__seterr(err, WSC_EPROXY, "the SOCKS5 proxy could not connect to %s port %u: %s",
                                   p->host, p->port, socks_reply_text(r[1]));
            /* BND.ADDR and BND.PORT follow: their length depends on ATYP (the
               5th byte is the address's first, or a name's length). */
            size_t rest = r[3] == 1 ? 3 + 2 : r[3] == 4 ? 15 + 2 : r[3] == 3 ? (size_t)r[4] + 2 : 0;
            if (!rest) return wsc__seterr(err, WSC_EPROXY, "invalid SOCKS5 reply (address type %u)", r[3]);
            expect(p, S_REPLY_REST, rest);
            break;
        }
        case S_REPLY_REST:
            if ((rc = read_exact(p, want, err))) return rc;
            return WSC_OK;
        default: return wsc__seterr(err, WSC_EPROXY, "proxy dialogue in a bad state");
        }
    }
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

int wsc__proxy_begin(wsc_proxy_conv *p, wsc_error *err) {
    p->buf.off = p->buf.len = 0;
    p->done = p->need = 0;
    if (p->kind == WSC_PROXY_SOCKS5 || p->kind == WSC_PROXY_SOCKS5H) return socks_begin(p, err);
    return http_begin(p, err);
}

int wsc__proxy_step(wsc_proxy_conv *p, unsigned *want, wsc_error *err) {
    if (p->step == H_SEND) {
        int rc = send_rest(p, want, err);
        if (rc) return rc;
        p->step = H_READ;
    }
    if (p->step == H_READ) return http_read(p, want, err);
    return socks_step(p, want, err);
}

void wsc__proxy_end(wsc_proxy_conv *p) {
    if (p->buf.data) wsc__wipe(p->buf.data, p->buf.cap);
    wsc_buf_free(&p->buf);
    p->done = p->need = 0;
}
