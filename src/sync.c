/*
 * sync.c - the blocking API (sync.h).
 *
 * Connecting reuses the whole client: a wsc_ws on a private loop runs the
 * connector (resolution, Happy Eyeballs, proxies, TLS) and the handshake
 * until "open"; then this handle takes the transport and the protocol
 * endpoint out of it, frees the wsc_ws and the loop, and puts the socket in
 * blocking mode. From there each call drives the sans-I/O core directly:
 * a send frames into `out` and writes it, a receive reads into `rx` and
 * feeds the core until it reports a message. A round trip is one write and
 * one read; nothing is polled.
 *
 * Memory: the handle, the core's endpoint, a receive buffer of RX_CAP bytes
 * and a send buffer that keeps up to OUT_KEEP bytes between messages (so a
 * steady exchange of small messages allocates nothing).
 *
 * Timeouts are SO_RCVTIMEO/SO_SNDTIMEO, set only when the value changes,
 * and O_NONBLOCK for 0 (sync.h).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "conn.h"
#include "internal.h"
#include "io/transport.h"
#include "wsc/proto.h"
#include "wsc/sync.h"
#include "ws_private.h"

/* The receive buffer: one read's worth. 64 KiB takes a 64 KiB message in one
   read (plain) while an idle handle stays small beside the loop's 256 KiB. */
#define RX_CAP (64u * 1024u)
/* A send buffer larger than this is freed once drained (after a big message). */
#define OUT_KEEP (64u * 1024u)

enum { S_OPEN = 0, S_CLOSED = 1 };

struct wsc_sync {
    wsc_tx tx;
    wsc_proto *proto;
    wsc_buf out;        /* frames not yet written (max: max_buffered) */
    uint8_t *rx;        /* received bytes rx[rx_off..rx_len) not yet fed */
    size_t rx_off, rx_len, rx_cap;
    uint64_t pongs;
    char *protocol, *extensions;
    char *close_reason; /* the peer's, once its Close came */
    unsigned close_code;
    unsigned close_timeout; /* ms */
    int rcv_ms, snd_ms; /* SO_RCVTIMEO / SO_SNDTIMEO as set (0: none) */
    uint8_t state;
    uint8_t nonblock;   /* O_NONBLOCK is set (a 0 timeout) */
    uint8_t got_close;  /* the peer's Close arrived */
    char errmsg[256];
};

/* ------------------------------------------------------------------ */
/* Timeouts                                                            */
/* ------------------------------------------------------------------ */

/* A call's time budget: -1 forever, 0 no wait, else until `deadline`. */
typedef struct budget {
    int first_ms;     /* the call's timeout, used as is for its first wait */
    int used;         /* a wait happened already */
    int64_t deadline; /* ms on the monotonic clock, when first_ms > 0 */
} budget;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static budget budget_of(int timeout_ms) {
    budget b = {timeout_ms < 0 ? -1 : timeout_ms, 0, 0};
    if (b.first_ms > 0) b.deadline = now_ms() + b.first_ms;
    return b;
}

/* The wait allowed now: -1, 0 or ms > 0; WSC_ETIMEDOUT (as -2 would be
   ambiguous) is signalled by returning 0 with *expired set. The first wait
   uses the timeout itself, so that repeating a call with one value sets the
   socket option once; later waits of the same call use what is left. */
static int budget_wait(budget *b, int *expired) {
    *expired = 0;
    if (b->first_ms <= 0) return b->first_ms;
    if (!b->used) {
        b->used = 1;
        return b->first_ms;
    }
    int64_t left = b->deadline - now_ms();
    if (left <= 0) {
        *expired = 1;
        return 0;
    }
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static int set_error(wsc_sync *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_error(wsc_sync *s, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return code;
}

/* Makes the socket wait at most ms (-1 forever, 0 not at all) in one
   direction: the change, out of line (the common case, nothing to change,
   is the inline test in set_wait). */
static int change_wait(wsc_sync *s, int sending, int ms) {
    wsc_error err;
    if (ms == 0) {
        if (wsc__tx_set_blocking(&s->tx, 0, &err)) return set_error(s, err.code, "%s", err.message);
        s->nonblock = 1;
        return WSC_OK;
    }
    if (s->nonblock) {
        if (wsc__tx_set_blocking(&s->tx, 1, &err)) return set_error(s, err.code, "%s", err.message);
        s->nonblock = 0;
    }
    int v = ms < 0 ? 0 : ms;
    int *cur = sending ? &s->snd_ms : &s->rcv_ms;
    if (*cur == v) return WSC_OK;
    struct timeval tv = {v / 1000, (v % 1000) * 1000};
    if (setsockopt(wsc__tx_fd(&s->tx), SOL_SOCKET, sending ? SO_SNDTIMEO : SO_RCVTIMEO, &tv, sizeof tv) != 0)
        return set_error(s, WSC_EIO, "cannot set the socket's timeout");
    *cur = v;
    return WSC_OK;
}

/* Costs nothing when the setting is already right (a round trip with the
   same timeouts every time: two compares). */
static inline int set_wait(wsc_sync *s, int sending, int ms) {
    if (ms == 0 ? s->nonblock : !s->nonblock && (sending ? s->snd_ms : s->rcv_ms) == (ms < 0 ? 0 : ms)) return WSC_OK;
    return change_wait(s, sending, ms);
}

/* ------------------------------------------------------------------ */
/* The end                                                             */
/* ------------------------------------------------------------------ */

/* Closes the socket (after close_notify / SHUT_WR when the closing
   handshake was done). */
static void end(wsc_sync *s, unsigned code) {
    if (s->state == S_CLOSED) return;
    s->state = S_CLOSED;
    if (!s->close_code) s->close_code = code;
    if (wsc__tx_fd(&s->tx) >= 0) {
        if (s->got_close) wsc__tx_shutdown(&s->tx);
        wsc__tx_close(&s->tx);
    }
    wsc_buf_free(&s->out);
}

/* The connection broke (an I/O error or an unexpected end). */
static int broken(wsc_sync *s, int code, const char *msg) {
    set_error(s, code, "%s", msg);
    end(s, 1006);
    return code;
}

static void fill_close(const wsc_sync *s, wsc_sync_msg *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->type = WSC_SYNC_CLOSE;
    out->close_code = s->close_code ? s->close_code : 1006;
    out->data = (const uint8_t *)(s->close_reason ? s->close_reason : "");
    out->len = s->close_reason ? strlen(s->close_reason) : 0;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

static int write_out(wsc_sync *s, budget *b) {
    while (wsc_buf_pending(&s->out)) {
        int expired;
        int ms = budget_wait(b, &expired);
        if (expired) return set_error(s, WSC_ETIMEDOUT, "timed out writing (the rest stays queued)");
        int rc = set_wait(s, 1, ms);
        if (rc) return rc;
        wsc_error err;
        long n = wsc__tx_write(&s->tx, s->out.data + s->out.off, wsc_buf_pending(&s->out), &err);
        if (n == WSC_EAGAIN) return set_error(s, WSC_ETIMEDOUT, "timed out writing (the rest stays queued)");
        if (n <= 0) return broken(s, n ? (int)n : WSC_EIO, n ? err.message : "write made no progress");
        wsc_buf_consume(&s->out, (size_t)n);
    }
    /* Drained: keep a small buffer for the next message, not a big one. */
    if (s->out.cap > OUT_KEEP) wsc_buf_free(&s->out);
    return WSC_OK;
}

/* Appends the core's pending control frames (a Pong, a Close reply or the
   Close that fails the connection). */
static int flush_proto(wsc_sync *s) {
    if (!wsc_proto_want_flush(s->proto)) return WSC_OK;
    return wsc_proto_flush(s->proto, &s->out);
}

static int check_open(wsc_sync *s) {
    if (!s) return WSC_EINVAL;
    s->errmsg[0] = 0;
    if (s->state != S_OPEN || s->got_close) return set_error(s, WSC_ECLOSED, "the connection is closed");
    return WSC_OK;
}

static int send_msg(wsc_sync *s, unsigned op, const void *data, size_t len, int timeout_ms) {
    if (!s || (len && !data)) return WSC_EINVAL;
    int rc = check_open(s);
    if (rc) return op == WSC_OP_TEXT && !wsc_utf8_valid(data, len) ? WSC_EUTF8 : rc;
    rc = wsc_proto_send(s->proto, op, data, len, &s->out);
    if (rc) return set_error(s, rc, "%s", rc == WSC_ETOOBIG ? "over max_buffered" : wsc_strerror(rc));
    budget b = budget_of(timeout_ms);
    return write_out(s, &b);
}

int wsc_sync_send_text(wsc_sync *s, const char *data, size_t len, int timeout_ms) {
    return send_msg(s, WSC_OP_TEXT, data, len, timeout_ms);
}

int wsc_sync_send_binary(wsc_sync *s, const void *data, size_t len, int timeout_ms) {
    return send_msg(s, WSC_OP_BINARY, data, len, timeout_ms);
}

int wsc_sync_ping(wsc_sync *s, const void *data, size_t len, int timeout_ms) {
    if (!s || len > 125 || (len && !data)) return WSC_EINVAL;
    int rc = check_open(s);
    if (rc) return rc;
    rc = wsc_proto_ping(s->proto, data, len, &s->out);
    if (rc) return set_error(s, rc, "%s", wsc_strerror(rc));
    budget b = budget_of(timeout_ms);
    return write_out(s, &b);
}

int wsc_sync_flush(wsc_sync *s, int timeout_ms) {
    if (!s) return WSC_EINVAL;
    s->errmsg[0] = 0;
    if (s->state != S_OPEN) return set_error(s, WSC_ECLOSED, "the connection is closed");
    budget b = budget_of(timeout_ms);
    return write_out(s, &b);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* Reads once into rx (which the core has wholly consumed). > 0 bytes, or
   WSC_ETIMEDOUT, or 0 at the end of the stream, or an error (not yet
   handled: the caller decides what it means). */
static long read_some(wsc_sync *s, budget *b, wsc_error *err) {
    int expired;
    int ms = budget_wait(b, &expired);
    if (expired) return WSC_ETIMEDOUT;
    int rc = set_wait(s, 0, ms);
    if (rc) return rc;
    if (s->rx_off < s->rx_len) { /* cannot happen: the core takes all it is given */
        memmove(s->rx, s->rx + s->rx_off, s->rx_len - s->rx_off);
        s->rx_len -= s->rx_off;
    } else {
        s->rx_len = 0;
    }
    s->rx_off = 0;
    long n = wsc__tx_read(&s->tx, s->rx + s->rx_len, s->rx_cap - s->rx_len, err);
    if (n == WSC_EAGAIN) return WSC_ETIMEDOUT;
    if (n > 0) s->rx_len += (size_t)n;
    return n;
}

/* The peer broke a rule: our Close with the core's code goes out (as far as
   the close timeout allows), then the socket is closed. */
static int fail_protocol(wsc_sync *s, int rc) {
    unsigned code = wsc_proto_fail_code(s->proto);
    set_error(s, rc, "%s (closing with %u)", wsc_proto_errmsg(s->proto), code);
    if (flush_proto(s) == WSC_OK) {
        budget b = budget_of((int)s->close_timeout);
        char keep[sizeof s->errmsg];
        memcpy(keep, s->errmsg, sizeof keep);
        (void)write_out(s, &b);
        memcpy(s->errmsg, keep, sizeof keep);
    }
    s->close_code = code;
    end(s, code);
    return rc;
}

/* The peer's Close: our reply, then the server's end of the stream (RFC
   6455 7.1.1: the server closes TCP first), bounded by the close timeout. */
static void peer_closed(wsc_sync *s, const wsc_event *ev) {
    s->got_close = 1;
    s->close_code = ev->close_code;
    wsc__free(s->close_reason);
    s->close_reason = wsc__strndup((const char *)ev->data, ev->len);
    budget b = budget_of((int)s->close_timeout);
    if (flush_proto(s) == WSC_OK && write_out(s, &b) == WSC_OK) {
        wsc_error err;
        for (;;) {
            s->rx_off = s->rx_len; /* later input is ignored (5.5.1) */
            long n = read_some(s, &b, &err);
            if (n <= 0) break;
        }
    }
    s->errmsg[0] = 0;
    end(s, s->close_code);
}

/* Feeds rx and reads until the core reports a data message (WSC_OK, *ev),
   the peer's Close (WSC_ECLOSED, handled), or an error. Pings are answered
   and Pongs counted on the way. */
static int next_message(wsc_sync *s, wsc_event *ev, budget *b) {
    for (;;) {
        while (s->rx_off < s->rx_len) {
            size_t used = 0;
            int rc = wsc_proto_recv(s->proto, s->rx + s->rx_off, s->rx_len - s->rx_off, &used, ev);
            s->rx_off += used;
            if (rc) return fail_protocol(s, rc);
            switch (ev->type) {
            case WSC_EV_NONE: continue;
            case WSC_EV_TEXT:
            case WSC_EV_BINARY: return WSC_OK;
            case WSC_EV_PING:
                /* The Pong goes now; if the socket will not take it in this
                   call's time it waits in `out` for the next write. */
                if (flush_proto(s) == WSC_OK) {
                    int wr = write_out(s, b);
                    if (wr && wr != WSC_ETIMEDOUT) return wr;
                    s->errmsg[0] = 0;
                }
                continue;
            case WSC_EV_PONG: s->pongs++; continue;
            case WSC_EV_CLOSE: peer_closed(s, ev); return WSC_ECLOSED;
            default: continue;
            }
        }
        wsc_error err;
        long n = read_some(s, b, &err);
        if (n == WSC_ETIMEDOUT) return set_error(s, WSC_ETIMEDOUT, "timed out waiting for a message");
        if (n == 0) return broken(s, WSC_ECONNRESET, "the connection ended without a Close frame");
        if (n < 0) return broken(s, (int)n, err.message);
    }
}

int wsc_sync_recv(wsc_sync *s, wsc_sync_msg *out, int timeout_ms) {
    if (!s || !out) return WSC_EINVAL;
    if (s->state != S_OPEN) {
        fill_close(s, out);
        return WSC_ECLOSED;
    }
    s->errmsg[0] = 0;
    budget b = budget_of(timeout_ms);
    /* The rest of a timed-out send goes first: the server may be waiting
       for it before it answers. */
    int rc = wsc_buf_pending(&s->out) ? write_out(s, &b) : WSC_OK;
    if (rc) {
        if (s->state == S_CLOSED) fill_close(s, out);
        return rc;
    }
    wsc_event ev;
    rc = next_message(s, &ev, &b);
    if (rc == WSC_OK) {
        memset(out, 0, sizeof *out);
        out->type = ev.type == WSC_EV_TEXT ? WSC_SYNC_TEXT : WSC_SYNC_BINARY;
        out->data = ev.data;
        out->len = ev.len;
        return WSC_OK;
    }
    if (s->state == S_CLOSED) fill_close(s, out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Closing                                                             */
/* ------------------------------------------------------------------ */

int wsc_sync_close(wsc_sync *s, unsigned code, const char *reason, int timeout_ms) {
    if (!s) return WSC_EINVAL;
    size_t rlen = reason ? strlen(reason) : 0;
    if (code && !wsc_close_code_app_ok(code)) return WSC_EINVAL;
    if (rlen > WSC_CLOSE_REASON_MAX || (!code && rlen)) return WSC_EINVAL;
    if (rlen && !wsc_utf8_valid(reason, rlen)) return WSC_EUTF8;
    s->errmsg[0] = 0;
    if (s->state != S_OPEN) return WSC_OK;
    budget b = budget_of(timeout_ms < 0 ? (int)s->close_timeout : timeout_ms);
    int rc = wsc_proto_close(s->proto, code, reason, rlen, &s->out);
    if (rc && rc != WSC_ESTATE) return set_error(s, rc, "%s", wsc_strerror(rc));
    rc = write_out(s, &b);
    if (rc) {
        end(s, 1006);
        return rc;
    }
    /* Until the server's Close (messages meanwhile are dropped), then until
       it closes TCP. */
    wsc_error err;
    while (!s->got_close) {
        while (s->rx_off < s->rx_len && !s->got_close) {
            wsc_event ev;
            size_t used = 0;
            rc = wsc_proto_recv(s->proto, s->rx + s->rx_off, s->rx_len - s->rx_off, &used, &ev);
            s->rx_off += used;
            if (rc) return fail_protocol(s, rc);
            if (ev.type == WSC_EV_PONG) s->pongs++;
            if (ev.type == WSC_EV_CLOSE) {
                s->got_close = 1;
                s->close_code = ev.close_code;
                wsc__free(s->close_reason);
                s->close_reason = wsc__strndup((const char *)ev.data, ev.len);
            }
        }
        if (s->got_close) break;
        long n = read_some(s, &b, &err);
        if (n == WSC_ETIMEDOUT) {
            end(s, 1006);
            return set_error(s, WSC_ETIMEDOUT, "the server did not answer the Close in time");
        }
        if (n <= 0) {
            end(s, 1006);
            return n == 0 ? WSC_OK : set_error(s, (int)n, "%s", err.message);
        }
    }
    for (;;) {
        s->rx_off = s->rx_len;
        long n = read_some(s, &b, &err);
        if (n <= 0) break; /* the end, a timeout or an error: we close either way */
    }
    end(s, s->close_code);
    return WSC_OK;
}

void wsc_sync_free(wsc_sync *s) {
    if (!s) return;
    if (wsc__tx_fd(&s->tx) >= 0) wsc__tx_close(&s->tx);
    wsc_proto_free(s->proto);
    wsc_buf_free(&s->out);
    wsc__free(s->rx);
    wsc__free(s->protocol);
    wsc__free(s->extensions);
    wsc__free(s->close_reason);
    wsc__free(s);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */
/* ------------------------------------------------------------------ */

typedef struct connecting {
    wsc_sync *s;
    int opened, closed, error;
    char message[256];
} connecting;

/* "open": take the frames that came behind the response head before the
   wsc_ws feeds them to its engine: they are the handle's first input. */
static void c_open(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ev;
    connecting *c = user;
    handshake *hs = ws->hs;
    size_t extra = hs->resp.len > hs->head_len ? hs->resp.len - hs->head_len : 0;
    if (extra > c->s->rx_cap) {
        /* More than one buffer's worth came with the head (at most one loop
           read, 256 KiB): a bigger receive buffer for the handle's life. */
        uint8_t *nb = wsc__realloc(c->s->rx, extra);
        if (!nb) {
            c->error = WSC_ENOMEM;
            snprintf(c->message, sizeof c->message, "out of memory");
            return;
        }
        c->s->rx = nb;
        c->s->rx_cap = extra;
    }
    memcpy(c->s->rx, hs->resp.data + hs->head_len, extra);
    c->s->rx_len = extra;
    hs->resp.len = hs->head_len;
    c->opened = 1;
}

static void c_error(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    connecting *c = user;
    if (c->error) return;
    c->error = ev->error ? ev->error : WSC_EIO;
    snprintf(c->message, sizeof c->message, "%s", ev->message ? ev->message : wsc_strerror(c->error));
}

static void c_close(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)ev;
    ((connecting *)user)->closed = 1;
}

/* Runs the private loop until the connection opened or failed. */
static int run_until_open(wsc_loop *loop, connecting *c, int timeout_ms, wsc_error *err) {
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    while (!c->opened && !c->closed && !c->error) {
        int wait = -1;
        if (timeout_ms > 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) return wsc__seterr(err, WSC_ETIMEDOUT, "timed out connecting");
            wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        int rc = wsc_loop_run_once(loop, wait);
        if (rc < 0) return wsc__seterr(err, rc, "the connecting loop failed");
        if (rc == 0 && wait < 0 && !c->opened && !c->closed && !c->error)
            return wsc__seterr(err, WSC_EIO, "nothing left to wait for while connecting");
    }
    if (c->error) return wsc__seterr(err, c->error, "%s", c->message);
    if (!c->opened) return wsc__seterr(err, WSC_ECONNRESET, "the connection closed while connecting");
    return WSC_OK;
}

wsc_sync *wsc_sync_connect(const char *url, const wsc_ws_options *opts, int timeout_ms, wsc_error *err) {
    if (err) err->code = WSC_OK, err->message[0] = 0;
    wsc_ws_options o;
    if (opts) o = *opts;
    else memset(&o, 0, sizeof o);
    /* The handle reports through return values: no callbacks. */
    o.on_open = o.on_message = o.on_error = o.on_close = NULL;
    /* RFC 6455 4.1's gate is per loop, and this loop has one connection. */
    o.parallel_connect = 1;

    wsc_sync *s = wsc__calloc(1, sizeof *s);
    if (s) s->rx = wsc__malloc(RX_CAP);
    if (s) s->rx_cap = RX_CAP;
    if (!s || !s->rx) {
        wsc__free(s);
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    wsc__tx_init(&s->tx);
    s->close_timeout = o.close_timeout_ms ? o.close_timeout_ms : WSC__DEFAULT_CLOSE_TIMEOUT_MS;
    s->out.max = o.max_buffered ? o.max_buffered : WSC__DEFAULT_MAX_BUFFERED;

    connecting c = {0};
    c.s = s;
    wsc_loop *loop = wsc_loop_new(err);
    wsc_ws *ws = loop ? wsc_ws_new(loop, url, &o, err) : NULL;
    int rc = ws ? WSC_OK : (err && err->code ? err->code : WSC_ENOMEM);
    if (ws && (wsc_ws_add_listener(ws, WSC_WS_OPEN, c_open, &c) < 0 ||
               wsc_ws_add_listener(ws, WSC_WS_ERROR, c_error, &c) < 0 ||
               wsc_ws_add_listener(ws, WSC_WS_CLOSE, c_close, &c) < 0))
        rc = wsc__seterr(err, WSC_ENOMEM, "out of memory");
    if (!rc) rc = run_until_open(loop, &c, timeout_ms, err);
    if (!rc) {
        /* Take the stream and the endpoint; the wsc_ws then has no socket
           to close (its watch is stopped while the fd is still open). */
        wsc__watch_stop(&ws->c.watch);
        s->tx = ws->c.tx;
        wsc__tx_init(&ws->c.tx);
        s->proto = ws->c.proto;
        ws->c.proto = NULL;
        s->protocol = ws->protocol;
        s->extensions = ws->extensions;
        ws->protocol = ws->extensions = NULL;
        wsc_error berr;
        if (wsc__tx_set_blocking(&s->tx, 1, &berr)) rc = wsc__seterr(err, berr.code, "%s", berr.message);
    }
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    if (rc) {
        wsc_sync_free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                           */
/* ------------------------------------------------------------------ */

const char *wsc_sync_protocol(const wsc_sync *s) { return s && s->protocol ? s->protocol : ""; }
const char *wsc_sync_extensions(const wsc_sync *s) { return s && s->extensions ? s->extensions : ""; }
int wsc_sync_fd(const wsc_sync *s) { return s ? wsc__tx_fd(&s->tx) : -1; }
uint64_t wsc_sync_pongs(const wsc_sync *s) { return s ? s->pongs : 0; }
const char *wsc_sync_error(const wsc_sync *s) { return s ? s->errmsg : ""; }
