/*
 * conn.c - the one connection engine for both roles (conn.h).
 *
 * Reads go through the loop's shared scratch buffer (large payloads straight
 * into the core's message buffer: the receive span) and writes are coalesced
 * into one per loop iteration (the deferred flush), so a connection at rest
 * costs its struct and its protocol endpoint only; the send buffer comes
 * from the loop's pool while there is something to send.
 */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "proto/proto_gather.h"
#include "proto/proto_span.h"

static void on_flush(wsc__defer *d);

void wsc__conn_init(wsc__conn *c, wsc_loop *loop, const wsc__conn_ops *ops, int server, void *owner,
                    wsc_watch_cb watch_cb, wsc_timer_cb timer_cb) {
    c->loop = loop;
    c->ops = ops;
    c->server = (uint8_t)(server != 0);
    c->auto_release = c->server;
    c->state = WSC_CONNECTING;
    c->phase = 0;
    wsc__tx_init(&c->tx);
    c->flush.fn = on_flush;
    wsc__watch_init(&c->watch, loop, watch_cb, owner);
    wsc__timer_init(&c->timer, loop, timer_cb, owner);
}

int wsc__conn_emit(wsc__conn *c, wsc_ws_event *ev) {
    if (!ev->reason) ev->reason = "";
    if (!ev->last_event_id) ev->last_event_id = "";
    c->depth++;
    int gone = c->ops->emit(c, ev);
    c->depth--;
    return gone || c->freed;
}

int wsc__conn_emit_error(wsc__conn *c, int code, const char *msg) {
    wsc_ws_event ev = {0};
    ev.type = WSC_WS_ERROR;
    ev.error = code;
    ev.message = msg;
    return wsc__conn_emit(c, &ev);
}

/* ------------------------------------------------------------------ */
/* The send buffer and bufferedAmount                                  */
/* ------------------------------------------------------------------ */

/* Records one message appended to `out`. The first lives inline (most of
   the time it is the only one: no allocation); more go to a ring. If the
   ring cannot grow, the bytes join the last record (its accounting turns
   proportional) rather than being lost: a frame in `out` is never taken
   back once the core has produced it (it may be the Close). */
static void pend_push_ring(wsc__conn *c, wsc__pending m);

static inline void pend_push(wsc__conn *c, uint64_t wire, uint64_t app, uint32_t hdr, int plain, int data) {
    wsc__pending m = {wire, 0, app, hdr, (uint8_t)plain, (uint8_t)data};
    if (WSC_LIKELY(!c->has_pend1)) {
        c->pend1 = m;
        c->has_pend1 = 1;
        return;
    }
    pend_push_ring(c, m);
}

static void pend_push_ring(wsc__conn *c, wsc__pending m) {
    if (c->pend_n == c->pend_cap) {
        uint32_t ncap = c->pend_cap ? c->pend_cap * 2 : 8;
        wsc__pending *np = wsc__malloc(ncap * sizeof *np);
        if (!np) {
            wsc__pending *last = c->pend_n ? &c->pend[(c->pend_head + c->pend_n - 1) % c->pend_cap] : &c->pend1;
            last->wire += m.wire;
            last->app += m.app;
            last->plain = 0;
            last->hdr = 0;
            last->data = (uint8_t)(last->data || m.data);
            return;
        }
        for (uint32_t i = 0; i < c->pend_n; i++) np[i] = c->pend[(c->pend_head + i) % c->pend_cap];
        wsc__free(c->pend);
        c->pend = np;
        c->pend_cap = ncap;
        c->pend_head = 0;
    }
    c->pend[(c->pend_head + c->pend_n) % c->pend_cap] = m;
    c->pend_n++;
}

/* Application bytes of m already written. */
static uint64_t app_written(const wsc__pending *m) {
    if (m->done >= m->wire) return m->app;
    if (m->plain) return m->done > m->hdr ? m->done - m->hdr : 0;
    return (uint64_t)((double)m->app * (double)m->done / (double)m->wire);
}

/* n more bytes of `out` were written: advance the records in order.
   Control frames are records of zero application bytes. */
static void pend_advance(wsc__conn *c, uint64_t n) {
    while (n && c->has_pend1) {
        wsc__pending *m = &c->pend1;
        uint64_t before = app_written(m);
        uint64_t take = m->wire - m->done < n ? m->wire - m->done : n;
        m->done += take;
        n -= take;
        c->buffered -= app_written(m) - before;
        if (m->done < m->wire) break;
        if (m->data) c->data_written++;
        if (c->pend_n) {
            c->pend1 = c->pend[c->pend_head];
            c->pend_head = (c->pend_head + 1) % c->pend_cap;
            c->pend_n--;
        } else {
            c->has_pend1 = 0;
        }
    }
    if (c->pend_n == 0 && c->pend) {
        wsc__free(c->pend);
        c->pend = NULL;
        c->pend_cap = c->pend_head = 0;
    }
}

static int out_borrow(wsc__conn *c, size_t need);

/* Room for `need` more bytes without moving referenced bytes: the hot path
   (a buffer is there, and nothing in it is referenced or there is room)
   inline; borrowing and sealing are not. A frame larger than estimated
   still fits (the core grows the buffer by realloc, which keeps offsets:
   references survive it, at the cost of a copy). */
static inline int out_reserve(wsc__conn *c, size_t need) {
    if (WSC_LIKELY(c->out.data != NULL) && (WSC_LIKELY(!c->out_ch) || c->out.cap - c->out.len >= need)) return WSC_OK;
    return out_borrow(c, need);
}

int wsc__conn_out_reserve(wsc__conn *c) { return out_reserve(c, 0); }

void wsc__chunk_unref(wsc__chunk *k) {
    if (!k || --k->refs) return;
    wsc__loop_buf_put(k->loop, k->data, k->cap);
    wsc__free(k);
}

/* `out` holds referenced bytes and lacks room: it becomes a sealed chunk
   (written before anything newer; freed when written and unreferenced)
   and the next frames go to a new buffer. No byte moves. */
static void out_seal(wsc__conn *c) {
    wsc__chunk *k = c->out_ch;
    k->data = c->out.data;
    k->cap = c->out.cap;
    k->len = c->out.len;
    k->woff = c->out.off;
    k->next = NULL;
    c->out_ch = NULL;
    c->out.data = NULL;
    c->out.off = c->out.len = c->out.cap = 0;
    if (k->woff == k->len) {
        wsc__chunk_unref(k); /* all written: only the kept messages hold it */
        return;
    }
    if (c->sealed_tail) c->sealed_tail->next = k;
    else c->sealed = k;
    c->sealed_tail = k;
    c->sealed_pending += k->len - k->woff;
}

/* The cold half of wsc__conn_last_chunk: out becomes a chunk (its header
   set aside by wsc__conn_retain_prepare). */
WSC_NOINLINE wsc__chunk *wsc__conn_retain_new(wsc__conn *c) {
    wsc__chunk *k = c->spare_ch;
    if (!k) return NULL;
    c->spare_ch = wsc__malloc(sizeof *k); /* the next one's, now (NULL: prepare retries) */
    k->next = NULL;
    k->data = c->out.data;
    k->cap = c->out.cap;
    k->len = k->woff = 0; /* kept in out while it is the current buffer */
    k->loop = c->loop;
    k->refs = 1; /* the engine's */
    c->out_ch = k;
    return k;
}

WSC_NOINLINE int wsc__conn_retain_prepare_slow(wsc__conn *c) {
    c->spare_ch = wsc__malloc(sizeof *c->spare_ch);
    return c->spare_ch ? WSC_OK : WSC_ENOMEM;
}

/* A buffer that will hold references (the client with confirmed
   delivery) cannot grow once it does: it starts with room for a batch of
   messages, or one message if that is larger, so that sealing happens once
   per WSC__CHUNK_MIN bytes and not per message. */
#define WSC__CHUNK_MIN ((size_t)64 * 1024)

static int out_borrow(wsc__conn *c, size_t need) {
    if (c->out.data && c->out_ch) out_seal(c);
    if (c->out.data) return WSC_OK;
    size_t cap;
    uint8_t *b = wsc__loop_buf_get(c->loop, need, &cap);
    if (!b) return WSC_ENOMEM;
    c->out.data = b;
    c->out.cap = cap;
    c->out.off = c->out.len = 0;
    if (c->spare_ch) {
        size_t want = need > WSC__CHUNK_MIN ? need : WSC__CHUNK_MIN;
        if (cap < want) (void)wsc_buf_reserve(&c->out, want); /* else the core grows it, or fails */
    }
    if (c->ops->out_changed) c->ops->out_changed(c);
    return WSC_OK;
}

/* `out` drained: the buffer goes back to the pool (or is freed). */
static inline void out_release(wsc__conn *c) { /* inline: once per round trip */
    if (!c->out.data) return;
    if (c->out_ch) {
        /* referenced: the kept messages own it now */
        c->out_ch->data = c->out.data;
        c->out_ch->cap = c->out.cap;
        wsc__chunk_unref(c->out_ch);
        c->out_ch = NULL;
    } else {
        wsc__loop_buf_put(c->loop, c->out.data, c->out.cap);
    }
    c->out.data = NULL;
    c->out.off = c->out.len = c->out.cap = 0;
    if (c->ops->out_changed) c->ops->out_changed(c);
}

/* Records frames the core appended to `out` since `before`. */
static inline void record_out(wsc__conn *c, size_t before, size_t cap_before, uint64_t app, int plain, int data) {
    uint64_t wire = c->out.len - before;
    uint32_t hdr = plain && wire >= app ? (uint32_t)(wire - app) : 0;
    pend_push(c, wire, app, hdr, plain, data);
    c->buffered += app;
    c->data_sent += (uint64_t)(data != 0);
    if (c->out.cap != cap_before) {
        if (c->out_ch) c->out_ch->data = c->out.data, c->out_ch->cap = c->out.cap; /* realloc keeps offsets */
        if (c->ops->out_changed) c->ops->out_changed(c);
    }
    wsc__conn_schedule(c);
}

void wsc__conn_record_raw(wsc__conn *c, size_t before) {
    if (c->out.len > before) pend_push(c, c->out.len - before, 0, 0, 0, 0);
    if (c->ops->out_changed) c->ops->out_changed(c);
}

void wsc__conn_schedule(wsc__conn *c) {
    if (c->phase != CONN_DONE) wsc__defer_queue(c->loop, &c->flush);
}

void wsc__conn_update(wsc__conn *c) {
    if (wsc__tx_fd(&c->tx) < 0 || c->phase == CONN_DONE) return;
    /* Readable always; writable only while a write would block (new data is
       written by the deferred flush first: a round trip costs no epoll_ctl). */
    int have_out = c->want_write && wsc__conn_out_pending(c) != 0;
    wsc_watch_set(&c->watch, wsc__tx_interest(&c->tx, 1, have_out));
}

/* The closing handshake is over on our side and we are the server: all is
   said once `out` is drained, and the server closes TCP first (7.1.1). */
static int server_done_closing(const wsc__conn *c) {
    return c->server && c->phase == CONN_CLOSING && (c->failed || c->got_close);
}

static int clean_close(const wsc__conn *c) {
    return c->got_close && !c->failed && c->proto && wsc_proto_state(c->proto) == WSC_PS_CLOSED;
}

/* n bytes were written: from the sealed chunks first, then `out` (never
   compacted while referenced). */
static void out_advance(wsc__conn *c, size_t n) {
    while (n && c->sealed) {
        wsc__chunk *k = c->sealed;
        size_t take = k->len - k->woff < n ? k->len - k->woff : n;
        k->woff += take;
        n -= take;
        c->sealed_pending -= take;
        if (k->woff < k->len) return;
        c->sealed = k->next;
        if (!c->sealed) c->sealed_tail = NULL;
        wsc__chunk_unref(k);
    }
    if (!n) return;
    if (c->out_ch) c->out.off += n;
    else wsc_buf_consume(&c->out, n);
}

/* One write of everything pending: a single region (the common case, one
   send or SSL_write), or the sealed chunks and `out` in one writev. */
static long out_write(wsc__conn *c, wsc_error *err) {
    if (WSC_LIKELY(!c->sealed)) return wsc__tx_write(&c->tx, c->out.data + c->out.off, wsc_buf_pending(&c->out), err);
    wsc__iov v[WSC__TX_IOV_MAX];
    int nv = 0;
    const wsc__chunk *k = c->sealed;
    for (; k && nv < WSC__TX_IOV_MAX; k = k->next) v[nv++] = (wsc__iov){k->data + k->woff, k->len - k->woff};
    if (!k && nv < WSC__TX_IOV_MAX && wsc_buf_pending(&c->out))
        v[nv++] = (wsc__iov){c->out.data + c->out.off, wsc_buf_pending(&c->out)};
    return wsc__tx_writev(&c->tx, v, nv, err);
}

int wsc__conn_write(wsc__conn *c) {
    while (wsc__conn_out_pending(c)) {
        wsc_error err;
        long n = out_write(c, &err);
        if (n == WSC_EAGAIN) {
            c->want_write = 1; /* the kernel buffer is full: poll for room */
            break;
        }
        if (n <= 0) { /* 0 cannot happen for a write; never spin on it */
            int code = n == 0 ? wsc__seterr(&err, WSC_EIO, "write made no progress") : (int)n;
            if (c->phase == CONN_CLOSING && c->got_close) {
                /* The peer went away after its Close: the end of a closing
                   handshake, not an error to report. */
                wsc__conn_finish(c, c->close_code, 0);
                return code;
            }
            c->failed = 1;
            if (c->phase >= CONN_OPEN && wsc__conn_emit_error(c, code, err.message)) return code;
            wsc__conn_finish(c, 1006, 0);
            return code;
        }
        out_advance(c, (size_t)n);
        pend_advance(c, (uint64_t)n);
    }
    if (!wsc__conn_out_pending(c)) {
        /* Drained: the buffer goes back; an idle connection holds none. */
        out_release(c);
        c->want_write = 0;
        if (server_done_closing(c)) {
            int clean = clean_close(c);
            wsc__conn_finish(c, clean ? c->close_code : 1006, clean);
            return 0;
        }
    }
    return 0;
}

static void flush_now(wsc__conn *c) {
    if (c->phase < CONN_OPEN || c->phase == CONN_DONE || wsc__tx_fd(&c->tx) < 0) return;
    if (c->ops->before_flush && c->phase == CONN_OPEN) {
        c->ops->before_flush(c);
        if (c->freed || c->phase == CONN_DONE) return;
    }
    if (wsc__conn_write(c)) return;
    if (c->phase == CONN_DONE) return;
    wsc__conn_update(c);
}

static void on_flush(wsc__defer *d) {
    wsc__conn *c = (wsc__conn *)((char *)d - offsetof(wsc__conn, flush));
    if (c->ops->enter) c->ops->enter(c);
    else wsc__conn_enter(c);
    flush_now(c);
    if (c->ops->leave) c->ops->leave(c);
    else wsc__conn_leave(c);
}

/* Refusals of a message for its size or for memory. Bad UTF-8 must be what is
   reported first in every state (ws.h); the core checks it, but only once
   it gets the message, so a refusal before that checks it here (text is
   validated twice only on these error paths). */
static int refuse(unsigned op, const wsc__piece *v, size_t n, int utf8_checked, int rc) {
    return op == WSC_OP_TEXT && !utf8_checked && !wsc__pieces_utf8_valid(v, n) ? WSC_EUTF8 : rc;
}

/* The accounts of a data message just appended at before (out's capacity
   was cap): plain (one uncompressed frame) means header + payload == wire,
   so bufferedAmount is byte-exact (the core says so: no reading back). */
static void sent_data(wsc__conn *c, size_t before, size_t cap, size_t len, const wsc_proto_sent *sent) {
    int plain = !sent->compressed && sent->frames == 1;
    c->last_at = before;
    c->last_plain = (uint8_t)plain;
    record_out(c, before, cap, len, plain, 1);
}

int wsc__conn_send(wsc__conn *c, unsigned op, const void *data, size_t len) {
    wsc__piece one = {data, len}; /* for refuse() only */
    if (c->buffered + len > c->max_buffered) return refuse(op, &one, 1, 0, WSC_ETOOBIG);
    if (out_reserve(c, len + 14)) return refuse(op, &one, 1, 0, WSC_ENOMEM); /* 14: the largest header */
    size_t before = c->out.len, cap = c->out.cap;
    wsc_proto_sent sent;
    int rc = wsc_proto_send_ex(c->proto, op, data, len, &c->out, &sent);
    if (rc) return rc;
    sent_data(c, before, cap, len, &sent);
    return WSC_OK;
}

int wsc__conn_send_pieces(wsc__conn *c, unsigned op, const wsc__piece *v, size_t n, int utf8_checked) {
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].len > SIZE_MAX - 14 - len) return WSC_ETOOBIG;
        len += v[i].len;
    }
    if (c->buffered + len > c->max_buffered) return refuse(op, v, n, utf8_checked, WSC_ETOOBIG);
    if (out_reserve(c, len + 14)) return refuse(op, v, n, utf8_checked, WSC_ENOMEM);
    size_t before = c->out.len, cap = c->out.cap;
    wsc_proto_sent sent;
    int rc = wsc__proto_send_pieces(c->proto, op, v, n, utf8_checked, &c->out, &sent);
    if (rc) return rc;
    sent_data(c, before, cap, len, &sent);
    return WSC_OK;
}

int wsc__conn_ping(wsc__conn *c, const void *data, size_t len) {
    if (out_reserve(c, len + 6)) return WSC_ENOMEM;
    size_t before = c->out.len, cap = c->out.cap;
    int rc = wsc_proto_ping(c->proto, data, len, &c->out);
    if (rc) return rc;
    record_out(c, before, cap, 0, 0, 0);
    return WSC_OK;
}

/* Appends the core's pending control replies (Pong, Close). */
static int flush_proto(wsc__conn *c) {
    if (!c->proto || !wsc_proto_want_flush(c->proto)) return WSC_OK;
    if (out_reserve(c, 256)) return WSC_ENOMEM;
    size_t before = c->out.len, cap = c->out.cap;
    int rc = wsc_proto_flush(c->proto, &c->out);
    if (rc) return rc;
    if (c->out.len != before) record_out(c, before, cap, 0, 0, 0);
    return WSC_OK;
}

/* ------------------------------------------------------------------ */
/* Closing                                                             */
/* ------------------------------------------------------------------ */

void wsc__conn_teardown(wsc__conn *c) {
    wsc_timer_stop(&c->timer);
    wsc__defer_cancel(c->loop, &c->flush);
    wsc__watch_stop(&c->watch);
    if (wsc__tx_fd(&c->tx) >= 0) {
        if (!c->failed && c->got_close) wsc__tx_shutdown(&c->tx);
        wsc__tx_close(&c->tx);
    }
}

void wsc__conn_free(wsc__conn *c) {
    wsc_proto_free(c->proto);
    c->proto = NULL;
    out_release(c);
    while (c->sealed) {
        wsc__chunk *k = c->sealed;
        c->sealed = k->next;
        wsc__chunk_unref(k);
    }
    c->sealed_tail = NULL;
    c->sealed_pending = 0;
    wsc__free(c->spare_ch);
    c->spare_ch = NULL;
    wsc__free(c->pend);
    c->pend = NULL;
    wsc__free(c->close_reason);
    c->close_reason = NULL;
}

void wsc__conn_finish(wsc__conn *c, unsigned code, int was_clean) {
    if (c->phase == CONN_DONE) return;
    wsc__conn_teardown(c);
    c->phase = CONN_DONE;
    c->state = WSC_CLOSED;
    if (c->ops->done) c->ops->done(c);
    wsc_ws_event ev = {0};
    ev.type = WSC_WS_CLOSE;
    ev.code = code;
    ev.reason = c->close_reason ? c->close_reason : "";
    ev.reason_len = strlen(ev.reason);
    ev.was_clean = was_clean;
    wsc__conn_emit(c, &ev);
    if (c->auto_release) c->freed = 1;
}

/* Our side of the closing handshake is done: wait for the end, bounded by
   the close timeout. */
static void start_closing(wsc__conn *c) {
    if (c->phase != CONN_CLOSING) {
        c->phase = CONN_CLOSING;
        c->state = WSC_CLOSING;
        wsc_timer_start(&c->timer, c->close_timeout);
    }
}

/* The core failed the connection (the peer broke a rule): its Close (1002,
   1007, 1009 ...) goes out, then the connection ends. */
static int fail_protocol(wsc__conn *c, int rc) {
    c->failed = 1;
    char msg[160];
    snprintf(msg, sizeof msg, "%s (closing with %u)", wsc_proto_errmsg(c->proto), wsc_proto_fail_code(c->proto));
    flush_proto(c);
    wsc__conn_schedule(c);
    start_closing(c);
    return wsc__conn_emit_error(c, rc, msg);
}

int wsc__conn_close(wsc__conn *c, unsigned code, const char *reason, size_t rlen) {
    if (c->phase != CONN_OPEN) return WSC_OK;
    if (out_reserve(c, 6 + 2 + rlen)) return WSC_ENOMEM;
    size_t before = c->out.len, cap = c->out.cap;
    int rc = wsc_proto_close(c->proto, code, reason, rlen, &c->out);
    if (rc == WSC_ESTATE) {
        /* The Close already went out (a reply, or a failure). */
        start_closing(c);
        return WSC_OK;
    }
    if (rc) return rc;
    record_out(c, before, cap, 0, 0, 0);
    start_closing(c);
    return WSC_OK;
}

void wsc__conn_on_timer(wsc__conn *c) {
    if (c->phase != CONN_CLOSING) return;
    /* The peer did not finish the closing handshake, or did not close TCP,
       in time: close it ourselves. Clean if the Close frames were exchanged
       (RFC 6455 7.1.4). */
    int clean = clean_close(c);
    wsc__conn_finish(c, clean ? c->close_code : 1006, clean);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* Hands one event of the core to the application. Non-zero: stop reading
   (the connection is gone, or done). */
static WSC_ALWAYS_INLINE int handle_event(wsc__conn *c, const wsc_event *ev) {
    wsc_ws_event e = {0};
    switch (ev->type) {
    case WSC_EV_TEXT:
    case WSC_EV_BINARY:
        /* Messages that arrive once we are CLOSING are dropped (as the
           browser does). */
        if (c->phase != CONN_OPEN) break;
        e.type = WSC_WS_MESSAGE;
        e.binary = ev->type == WSC_EV_BINARY;
        e.data = ev->data;
        e.len = ev->len;
        if (wsc__conn_emit(c, &e)) return 1;
        break;
    case WSC_EV_PING:
    case WSC_EV_PONG:
        /* A Ping is answered by the core; both are reported. */
        if (ev->type == WSC_EV_PING && flush_proto(c) == WSC_OK) wsc__conn_schedule(c);
        e.type = ev->type == WSC_EV_PING ? WSC_WS_PING : WSC_WS_PONG;
        e.binary = 1;
        e.data = ev->data;
        e.len = ev->len;
        if (wsc__conn_emit(c, &e)) return 1;
        break;
    case WSC_EV_CLOSE:
        c->got_close = 1;
        /* Ours not sent yet: the peer started the closing handshake. */
        c->peer_closed_first = wsc_proto_state(c->proto) == WSC_PS_CLOSE_RECEIVED;
        c->close_code = ev->close_code;
        wsc__free(c->close_reason);
        c->close_reason = wsc__strndup((const char *)ev->data, ev->len);
        /* Our reply (the core echoes the code), then the end: the server
           closes TCP once `out` is drained, the client waits for it.
           The flush runs even when nothing is left to send (the Close
           was ours first), or a server would wait for the client. */
        flush_proto(c);
        start_closing(c);
        wsc__conn_schedule(c);
        break;
    }
    return c->phase == CONN_DONE;
}

/* Every event was handled: the server lets the core release a delivered
   message's storage now rather than on the next read, so that an idle
   connection holds none and the memory budget sees it go. (The client does
   not: it costs ~40 instructions per message, and the storage goes on its
   next read anyway.) */
static void settle(wsc__conn *c) {
    if (c->server) {
        size_t none;
        wsc_event ev;
        wsc_proto_recv(c->proto, NULL, 0, &none, &ev);
    }
}

int wsc__conn_feed(wsc__conn *c, uint8_t *data, size_t len) {
    size_t pos = 0;
    while (pos < len) {
        wsc_event ev;
        size_t used = 0;
        int rc = wsc_proto_recv(c->proto, data + pos, len - pos, &used, &ev);
        pos += used;
        if (rc == WSC_ESTATE) return 0; /* failed earlier: discard the rest */
        if (rc) return fail_protocol(c, rc) || c->phase == CONN_DONE;
        if (ev.type == WSC_EV_NONE) break;
        if (handle_event(c, &ev)) return 1;
    }
    settle(c);
    return 0;
}

/* n bytes were read into the core's receive span (read_open). */
static int span_wrote(wsc__conn *c, size_t n) {
    wsc_event ev;
    int rc = wsc__proto_recv_wrote(c->proto, n, &ev);
    if (rc) return fail_protocol(c, rc) || c->phase == CONN_DONE;
    if (ev.type == WSC_EV_NONE) return 0;
    if (handle_event(c, &ev)) return 1;
    settle(c);
    return 0;
}

/* The peer closed its side (or the connection broke). */
static void on_eof(wsc__conn *c) {
    if (c->got_close && !c->failed) wsc__conn_finish(c, c->close_code, 1);
    else wsc__conn_finish(c, 1006, 0);
}

/* A frame's payload still to come, at or above which it is read straight
   into the message buffer (the core's receive span) instead of the scratch
   buffer: one copy less for every byte of it, at the price of a read that
   stops at the frame's end (what follows, the next frames, needs one more
   read). Below this the copy is cheaper than that system call. At 64 KiB a
   stream of 64 KiB messages never meets it (part of each payload always
   came with its header), so their path is as before. */
#define SPAN_MIN (64u * 1024u)

/* The read after one that ended a large frame in the span. The next frame
   is likely large too (a stream of 1 MiB messages), and a full scratch read
   would bring its header with up to 256 KiB of its payload, all of it to be
   copied; this small read brings the header and at most 4 KiB, and the
   rest goes to the span. If what follows is small messages instead, they
   cost one small read, once: the read after a small one is full-size. */
#define PROBE_READ (4u * 1024u)

/* A read of at least this much may have left the core inside a frame
   large enough for the span. A frame that reached SPAN_MIN only through
   smaller reads (a slow peer) is copied as before: there the copy is not
   what limits the rate. */
#define RX_BIG (16u * 1024u)

/* c->rx_next: after a small read, read into the scratch buffer without
   asking the core anything (the round-trip path pays one test); after a
   large one, ask for a span; after one that ended a frame in the span, ask,
   and if there is none yet read PROBE_READ bytes. */
enum { RX_SMALL = 0, RX_ASK, RX_PROBE };

static void read_open(wsc__conn *c) {
    uint8_t *scratch = wsc__loop_scratch(c->loop);
    if (!scratch) {
        c->failed = 1;
        if (!wsc__conn_emit_error(c, WSC_ENOMEM, "out of memory for the receive buffer")) wsc__conn_finish(c, 1006, 0);
        return;
    }
    /* A few reads per wake-up: enough to drain a burst, fair to others. */
    for (int i = 0; i < 4; i++) {
        uint8_t *buf = scratch;
        size_t cap = WSC_LOOP_SCRATCH;
        int span = 0;
        /* Only after a large read can the core be inside a large frame with
           most of it still to come; small reads (the round-trip path) do
           not pay for the question. */
        if (WSC_UNLIKELY(c->rx_next != RX_SMALL)) {
            span = wsc__proto_recv_span(c->proto, SPAN_MIN, &buf, &cap);
            if (span < 0) {
                /* No room for the message (memory or budget): failed as a
                   copying read would have failed it. */
                fail_protocol(c, span);
                return;
            }
            if (!span && c->rx_next == RX_PROBE) cap = PROBE_READ;
        }
        wsc_error err;
        long n = wsc__tx_read(&c->tx, buf, cap, &err);
        if (n == WSC_EAGAIN) return; /* an unwritten span is abandoned by the next call */
        if (n < 0) {
            if (c->got_close || c->phase == CONN_CLOSING) {
                /* A reset during the closing handshake ends it. */
                on_eof(c);
                return;
            }
            c->failed = 1;
            if (!wsc__conn_emit_error(c, (int)n, err.message)) wsc__conn_finish(c, 1006, 0);
            return;
        }
        if (n == 0) {
            on_eof(c);
            return;
        }
        /* The span is the frame's whole remaining payload: filling it ends
           the frame. A full read, the probe's too, may have stopped inside
           one. */
        if (WSC_UNLIKELY(span)) c->rx_next = (size_t)n == cap ? RX_PROBE : RX_ASK;
        else c->rx_next = (size_t)n >= RX_BIG || (size_t)n == cap ? RX_ASK : RX_SMALL;
        if (span ? span_wrote(c, (size_t)n) : wsc__conn_feed(c, buf, (size_t)n)) return;
        if (c->ops->after_read) {
            c->ops->after_read(c);
            if (c->freed || c->phase == CONN_DONE) return;
        }
        /* A short read drained the socket, unless the end of the stream
           came with it (TLS): then go round once more to see it. */
        if ((size_t)n < cap && !wsc__tx_eof(&c->tx)) return;
    }
}

void wsc__conn_on_io(wsc__conn *c, unsigned events) {
    if (c->phase != CONN_OPEN && c->phase != CONN_CLOSING) return;
    unsigned ready = wsc__tx_ready(&c->tx, events);
    int want_write = (ready & WSC_WRITABLE) != 0;
    if (ready & WSC_READABLE) read_open(c);
    if (!c->freed && c->phase != CONN_DONE && want_write && wsc__conn_out_pending(c)) wsc__conn_write(c);
    if (!c->freed && c->phase != CONN_DONE) wsc__conn_update(c);
}

void wsc__conn_open(wsc__conn *c) {
    c->phase = CONN_OPEN;
    c->state = WSC_OPEN;
    wsc_timer_stop(&c->timer);
    if (wsc__conn_out_pending(c)) wsc__conn_schedule(c);
    wsc__conn_update(c);
}
