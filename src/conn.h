/*
 * conn.h - the one connection engine (private to the library).
 *
 * Both roles embed a wsc__conn: the client's wsc_ws (ws.c) and the server's
 * wsc_sconn (server.c). Once a handshake is done, everything a WebSocket
 * connection does is here, written once: feeding received bytes to the
 * sans-I/O core and turning its events into the application's, the send
 * buffer (borrowed from the loop's pool, returned when drained) and the exact
 * bufferedAmount, Ping/Pong, the closing handshake and its timer, I/O errors,
 * and the one guard against freeing a connection inside its own callback.
 *
 * What differs between the roles is a flag and an ops table:
 *   - role: after the closing handshake the server closes TCP first and the
 *     client waits for it (RFC 6455 7.1.1), bounded by the close timeout;
 *   - ops: how an event reaches the application (wsc_ws_cb or
 *     wsc_server_cb), what "done" means to the owner (server counts and
 *     budgets), the owner's memory release, and optional hooks.
 *
 * Events use the wsc_ws_event struct and numbers; WSC_SRV_* has the same
 * numbers (server.h), and server.c converts the struct.
 *
 * Phases below CONN_OPEN belong to the owner (connecting, TLS, the HTTP
 * handshake); the owner moves the engine to CONN_OPEN with wsc__conn_open().
 */
#ifndef WSC_CONN_H
#define WSC_CONN_H

#include <stdint.h>

#include "chunk.h"
#include "internal.h"
#include "io/loop_internal.h"
#include "io/transport.h"
#include "wsc/proto.h"
#include "wsc/ws.h"

enum { CONN_OPEN = 8, CONN_CLOSING = 9, CONN_DONE = 10 };

/* The defaults both roles document (ws.h, server.h), defined once. */
#define WSC__DEFAULT_HANDSHAKE_TIMEOUT_MS 10000u
#define WSC__DEFAULT_CLOSE_TIMEOUT_MS 5000u
#define WSC__DEFAULT_MAX_BUFFERED ((size_t)256 * 1024 * 1024)

typedef struct wsc__conn wsc__conn;

typedef struct wsc__conn_ops {
    /* Delivers ev to the application. Returns non-zero if the owner went
       away meanwhile (freed, or finished): the engine unwinds at once,
       touching nothing but the depth guard. Required. */
    int (*emit)(wsc__conn *c, wsc_ws_event *ev);
    /* Frees the owner (and the engine within it): called when the last
       callback on it returns after a free was asked for. Required. */
    void (*release)(wsc__conn *c);
    /* Called once when the connection reaches CONN_DONE, after the socket
       is closed and before the CLOSE event. NULL: nothing. */
    void (*done)(wsc__conn *c);
    /* The send buffer's capacity changed (the server charges its budget).
       NULL: nothing. */
    void (*out_changed)(wsc__conn *c);
    /* Called after every read's bytes were handled (the server's idle and
       message deadlines). NULL: nothing. */
    void (*after_read)(wsc__conn *c);
    /* Called at the start of each deferred flush of an OPEN connection; it
       may send frames that go out in the same write (the client's
       confirmation Ping). NULL: nothing. */
    void (*before_flush)(wsc__conn *c);
    /* The engine's own entry point (the deferred flush) enters and leaves
       through these when set (the server also guards its server object).
       NULL: wsc__conn_enter/wsc__conn_leave. */
    void (*enter)(wsc__conn *c);
    void (*leave)(wsc__conn *c);
} wsc__conn_ops;

/* One sent message still (partly) in `out`: for bufferedAmount. */
typedef struct wsc__pending {
    uint64_t wire;  /* its bytes on the wire */
    uint64_t done;  /* of which written */
    uint64_t app;   /* application bytes it counts for */
    uint32_t hdr;   /* header bytes if it is one plain frame, else 0 */
    uint8_t plain;  /* one uncompressed frame: byte-exact accounting */
    uint8_t data;   /* a data message (counted in data_written when done) */
} wsc__pending;

struct wsc__conn {
    wsc_loop *loop;
    const wsc__conn_ops *ops;
    wsc_watch watch;   /* the owner's callback; wsc__conn_on_io once open */
    wsc_timer timer;   /* the owner's callback; wsc__conn_on_timer once open */
    wsc__defer flush;  /* queued when `out` has data */
    wsc_tx tx;
    wsc_proto *proto;
    wsc_buf out;        /* the buffer frames are appended to (the last chunk) */
    /* Confirmed delivery keeps references into the send buffer
       (wsc__conn_last_chunk): out_ch is then out's chunk header and out is
       never compacted or grown in place; when it lacks room it is sealed
       onto `sealed` (older chunks, written first, with writev) and a new
       buffer is borrowed. Without references (the server, delivery off)
       both stay NULL and `out` behaves as a plain wsc_buf. */
    wsc__chunk *out_ch;
    wsc__chunk *sealed, *sealed_tail;
    size_t sealed_pending; /* unwritten bytes in `sealed` */
    size_t last_at;        /* the last data message's offset in out */
    wsc__chunk *spare_ch;  /* a header for the next out_ch (wsc__conn_retain_prepare) */
    wsc__pending pend1; /* the first message in `out` (the common case) */
    wsc__pending *pend; /* ring of the messages after it */
    uint32_t pend_head, pend_n, pend_cap;
    unsigned close_code;  /* from the peer's Close */
    uint64_t buffered;  /* bufferedAmount: application bytes not yet written */
    /* Data messages accepted by send and completely written. */
    uint64_t data_sent, data_written;
    char *close_reason;
    size_t max_buffered;
    unsigned close_timeout; /* ms */
    /* (the fields are ordered so that the struct has no holes) */
    uint8_t server;     /* the role: 1 server, 0 client */
    uint8_t phase;      /* below CONN_OPEN: the owner's; then CONN_* */
    uint8_t state;      /* enum wsc_ready_state */
    uint8_t depth;      /* callback nesting */
    uint8_t freed;      /* release when depth returns to 0 */
    uint8_t failed;     /* we failed the connection: close code 1006 */
    uint8_t got_close;  /* the peer's Close frame arrived */
    uint8_t want_write; /* a write would block: wait for writability */
    uint8_t has_pend1;
    uint8_t auto_release; /* release once done (the server's connections) */
    uint8_t peer_closed_first; /* the peer's Close came before we sent ours */
    uint8_t last_plain; /* the last data message is one plain frame at last_at */
    uint8_t rx_next;    /* how read_open reads next (RX_SMALL, RX_ASK, RX_PROBE) */
};

/* Sets up a closed engine (CONNECTING, no socket). watch_cb/timer_cb get
   `owner` as user; they call wsc__conn_on_io/on_timer once it is open.
   Cannot fail. */
void wsc__conn_init(wsc__conn *c, wsc_loop *loop, const wsc__conn_ops *ops, int server, void *owner,
                    wsc_watch_cb watch_cb, wsc_timer_cb timer_cb);

/* The handshake succeeded: the engine takes over (proto set, tx
   connected). OPEN, reads enabled; pending output is flushed. */
void wsc__conn_open(wsc__conn *c);

/* The depth guard: every top-level entry (watch, timer, defer, a public
   function that may emit) is bracketed by enter/leave; leave releases the
   owner if a free was asked for meanwhile. */
static inline void wsc__conn_enter(wsc__conn *c) { c->depth++; }
/* Inline: twice per round trip (the read and the deferred flush). */
static inline void wsc__conn_leave(wsc__conn *c) {
    if (--c->depth == 0 && c->freed) c->ops->release(c);
}

/* Emits ev (ops->emit inside the depth guard). Non-zero: the owner is gone. */
int wsc__conn_emit(wsc__conn *c, wsc_ws_event *ev);
int wsc__conn_emit_error(wsc__conn *c, int code, const char *msg);

/* Sending (OPEN only; the caller checked the state). Each returns WSC_OK,
   or WSC_ENOMEM (nothing was queued), or the core's error for bad input
   (WSC_EINVAL, WSC_EUTF8, WSC_ETOOBIG over max_buffered). */
int wsc__conn_send(wsc__conn *c, unsigned op, const void *data, size_t len);
/* The same for a payload in pieces (proto/proto_gather.h: masked straight
   into the frame; with utf8_checked a text is not validated again). */
struct wsc__piece;
int wsc__conn_send_pieces(wsc__conn *c, unsigned op, const struct wsc__piece *v, size_t n, int utf8_checked);
int wsc__conn_ping(wsc__conn *c, const void *data, size_t len);
/* Starts the closing handshake (OPEN: Close queued, CLOSING; a Close that
   already went out: just CLOSING). WSC_OK or WSC_ENOMEM (still OPEN,
   nothing queued), or the core's WSC_EINVAL/WSC_EUTF8 for a bad code or
   reason (checked before anything changes). */
int wsc__conn_close(wsc__conn *c, unsigned code, const char *reason, size_t rlen);

/* Ends the connection now: socket closed, CLOSED, the CLOSE event (code,
   was_clean). Once only. */
void wsc__conn_finish(wsc__conn *c, unsigned code, int was_clean);

/* Stops all I/O (watch, timer, deferred flush; the socket closed, after a
   half-close if the closing handshake was done). Idempotent. */
void wsc__conn_teardown(wsc__conn *c);
/* Frees what the engine owns (proto, buffers, reason). After teardown. */
void wsc__conn_free(wsc__conn *c);

/* Confirmed delivery: the chunk holding the frame of the last data
   message sent (wsc__conn_send just returned WSC_OK), if it was one
   uncompressed frame; *off is where that frame starts in the chunk's data
   (its header's last 4 bytes are the masking key). No reference is taken:
   the caller adds one (refs++) for each pointer it keeps and drops it with
   wsc__chunk_unref. NULL if the message was not one plain frame, or on
   ENOMEM without wsc__conn_retain_prepare (the caller copies the message
   instead). The cold half out of line. */
wsc__chunk *wsc__conn_retain_new(wsc__conn *c);
static inline wsc__chunk *wsc__conn_last_chunk(wsc__conn *c, size_t *off) {
    *off = c->last_at;
    if (WSC_UNLIKELY(!c->last_plain || !c->out.data)) return NULL;
    return WSC_LIKELY(c->out_ch != NULL) ? c->out_ch : wsc__conn_retain_new(c);
}
/* Makes wsc__conn_last_chunk() after the next send unable to fail for
   memory (a chunk header set aside). WSC_OK or WSC_ENOMEM. */
int wsc__conn_retain_prepare_slow(wsc__conn *c);
static inline int wsc__conn_retain_prepare(wsc__conn *c) {
    return WSC_LIKELY(c->spare_ch != NULL) ? WSC_OK : wsc__conn_retain_prepare_slow(c);
}

/* Bytes waiting to be written, in every chunk. */
static inline size_t wsc__conn_out_pending(const wsc__conn *c) { return c->sealed_pending + wsc_buf_pending(&c->out); }

/* Queues the deferred flush (after appending to `out` by hand). */
void wsc__conn_schedule(wsc__conn *c);
/* Writes `out` now (any phase: the owner's handshake bytes too). Returns 0
   or an error after which the connection has been finished. */
int wsc__conn_write(wsc__conn *c);
/* Accounts for bytes the owner appended to `out` by hand since `before`
   (the server's 101 response): no application bytes, written in order. */
void wsc__conn_record_raw(wsc__conn *c, size_t before);
/* Borrows a send buffer from the loop's pool if `out` has none. */
int wsc__conn_out_reserve(wsc__conn *c);
/* Updates the watch's interest. */
void wsc__conn_update(wsc__conn *c);

/* The open connection's I/O and timer (the closing handshake deadline). */
void wsc__conn_on_io(wsc__conn *c, unsigned events);
void wsc__conn_on_timer(wsc__conn *c);
/* Feeds bytes (e.g. frames that arrived behind the handshake). Non-zero:
   the owner is gone or the connection finished. */
int wsc__conn_feed(wsc__conn *c, uint8_t *data, size_t len);

#endif
