/* delivery.h - confirmed delivery for the reconnecting client (private).
 *
 * RFC 6455 5.5.2/5.5.3: the peer answers every Ping with a Pong carrying the
 * same payload (or answers only the latest of several), and it processes
 * frames in order. So a Pong for a Ping sent after message k proves that the
 * peer's WebSocket stack has read message k and everything before it. The
 * client keeps every message it handed to a connection (wsc__msg, in send
 * order) until such a Pong comes back, or the closing handshake completes.
 *
 * One confirmation Ping per write batch (not per message), and at most one
 * unanswered at a time: messages sent while one is in flight are covered by
 * the next, sent when its Pong comes back (so a busy connection sends about
 * one Ping per round trip, whatever its message rate). Within a long batch
 * a Ping also goes after every WSC__ACK_EVERY messages, in flight or not:
 * otherwise a batch of 500 messages would have its only Ping at the end,
 * and a connection that drops after 80 of them would confirm none (and
 * at-least-once would send all 500 again, for ever). That interval starts
 * at WSC__ACK_EVERY on each connection and doubles at each of its Pongs, up
 * to WSC__ACK_EVERY_MAX: a connection that drops early still confirms every
 * 16 messages, and one that has proved itself costs one small Ping per 256
 * messages rather than per 16 (measured: the Pings every 16 cost 80 client
 * instructions per 1 KiB message, a 5% budget being 74). The price: after
 * a drop, at-least-once may send up to 256 messages again that the server
 * had read (the duplicates are counted, as before). Its payload is
 * WSC__ACK_PREFIX followed by the decimal count of data messages handed to
 * the connection so far (wsc__ws_data_sent), so a Pong for "wsc-ack 17"
 * confirms the connection's messages 0..16. Pings with any other payload
 * (the heartbeat's "wsc", the application's own) are not ours.
 *
 * What is kept: a text or binary message sent as one plain frame (no
 * permessage-deflate, no fragment_size) is not copied: its frame stays in
 * the send buffer, which for this purpose is a list of chunks that are
 * never compacted or moved (chunk.h, conn.c), and consecutive such
 * messages in one chunk form one run (one record, one chunk reference).
 * Per message that is a few compares and counters; a Pong walks the frame
 * headers it confirms and frees whole runs (and, with them, chunks). At a
 * drop the runs are taken apart and each payload unmasked in place. JSON
 * text (send_json_text, and a queued or resent JSON text, spliced with the
 * token current at its send) is kept the same way, its frame written from
 * pieces (proto/proto_gather.h); once unmasked at a drop its bytes are
 * wiped when freed (they hold the token). Other messages (a json_t's
 * serialisation, compressed, fragmented) are kept as copies.
 * Measured (bench/delivery_cost.sh, 1 KiB): 1,604 client instructions per
 * message against 1,492 without confirmation (+7.5%; it was +26% with a
 * copy per message and a Ping per 16 messages).
 *
 * At a drop the kept messages split in two: those not completely written
 * (index >= wsc__ws_data_written) cannot have reached the peer and are always
 * sent again first; the written ones follow the delivery option (client.h).
 */
#ifndef WSC_DELIVERY_H
#define WSC_DELIVERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk.h"
#include "internal.h"

#define WSC__ACK_PREFIX "wsc-ack "
#define WSC__ACK_PREFIX_LEN 8u
#define WSC__ACK_MAX 32u /* a payload's bytes: prefix + 20 digits, with room */
#define WSC__ACK_EVERY 16u /* messages between two Pings inside one batch, at first */
#define WSC__ACK_EVERY_MAX 256u /* ... doubling at each Pong of the connection, up to this */

enum wsc__msg_kind { WSC__MSG_TEXT = 1, WSC__MSG_BINARY = 2, WSC__MSG_JSON = 3, WSC__MSG_JSON_TEXT = 4 };

/* A message of the client: waiting in the queue, or handed to a connection
   and not yet confirmed. */
typedef struct wsc__msg {
    struct wsc__msg *next;
    uint64_t seq;     /* the client's sequence number: 1 for its first message */
    uint64_t index;   /* its data-message index on the connection it was handed to */
    json_t *json;     /* WSC__MSG_JSON: the value (serialised, with the token current then, when sent) */
    size_t len;       /* payload bytes (JSON while queued: its serialised size then) */
    uint8_t kind;     /* enum wsc__msg_kind */
    uint8_t has_data; /* data[0..len) holds the payload (JSON: as it was sent; may hold the token) */
    size_t cap;       /* bytes data[] can hold */
    /* Kept by reference (text/binary sent as one plain frame): the payload
       is in chunk->data at coff + hdr, masked with the key in the header's
       last 4 bytes until wsc__delivery_split() unmasks it in place (the
       connection is gone then). data[] is empty. NULL: data[] holds it. */
    wsc__chunk *chunk;
    size_t coff;
    uint8_t hdr;
    uint8_t unmasked;
    /* In d->sent only: a run of nrun (> 0) consecutive text or binary
       messages kept by reference in one chunk (seq, index: the first's;
       len: their payload bytes; coff: where the first one's frame starts;
       one chunk reference for them all). A message sent right after the
       run's last one extends it (no allocation, no reference count); Pongs
       shrink it from the front by walking frame headers; a drop expands it
       into single messages. 0: one message. */
    uint32_t nrun;
    uint8_t data[];
} wsc__msg;

/* The payload of m, wherever it is kept. Masked for a message still kept
   by reference on its connection: read it only after wsc__delivery_split
   (or for a message that never was a reference). */
static inline const uint8_t *wsc__msg_bytes(const wsc__msg *m) {
    return m->chunk ? m->chunk->data + m->coff + m->hdr : m->data;
}

/* A FIFO of messages, with their count and payload bytes. */
typedef struct wsc__msgq {
    wsc__msg *head, *tail;
    size_t n, bytes;
} wsc__msgq;

/* A message with a copy of data[0..len) (has_data = 1), or, for JSON with
   data NULL, with the value referenced and no bytes (len as given). NULL on
   ENOMEM. */
wsc__msg *wsc__msg_new(int kind, const void *data, size_t len, json_t *json);
/* Frees it; payload bytes are wiped first (a JSON text holds the token). */
void wsc__msg_free(wsc__msg *m);

void wsc__msgq_push(wsc__msgq *q, wsc__msg *m);
wsc__msg *wsc__msgq_pop(wsc__msgq *q);
/* Moves every message of `front` before those of q (front becomes empty). */
void wsc__msgq_prepend(wsc__msgq *q, wsc__msgq *front);
void wsc__msgq_clear(wsc__msgq *q);

/* Confirmed messages' blocks kept for the next ones: sending 64 KiB
   messages would otherwise malloc and free 64 KiB per message, and glibc
   trims and faults that memory back in again and again (measured: 10% of
   the throughput). At most WSC__POOL_N blocks of at most WSC__POOL_MAX. */
#define WSC__POOL_N 16
#define WSC__POOL_MAX ((size_t)1 << 20)

/* The messages handed to the current connection and not yet confirmed:
   sent.n and sent.bytes count messages and payload bytes (a run counts
   nrun and len). */
typedef struct wsc__delivery {
    wsc__msgq sent;
    wsc__msg *pool[WSC__POOL_N];
    unsigned npool;
    wsc__msg *refs_free; /* spare reference records (no data[]), linked by next */
    unsigned nrefs_free;
    size_t lost_nomem; /* messages a drop could not expand for memory (reported by the client) */
    uint64_t pinged; /* data-message count the last confirmation Ping covered */
    uint32_t every;  /* the interval inside a batch now (0: WSC__ACK_EVERY) */
    uint64_t due_at; /* pinged + every: when a Ping is due inside a batch (one compare per message) */
    uint8_t in_flight; /* that Ping is not answered yet */
} wsc__delivery;

/* wsc__msg_new() for a copy of data[0..len), from d's pool when a block
   fits. NULL on ENOMEM. */
wsc__msg *wsc__delivery_msg_new(wsc__delivery *d, int kind, const void *data, size_t len);
/* A record for a message kept by reference: from d's spare records or
   malloc; fields zeroed. Fill in chunk (taking a reference), coff, hdr,
   len, kind. NULL on ENOMEM. */
wsc__msg *wsc__delivery_ref_new(wsc__delivery *d);
#define WSC__REFS_FREE_MAX 1024u

/* Sets a record aside so that wsc__delivery_keep_frame() cannot fail:
   call it before sending. WSC_OK or WSC_ENOMEM. */
int wsc__delivery_reserve_slow(wsc__delivery *d);
static inline int wsc__delivery_reserve(wsc__delivery *d) {
    return WSC_LIKELY(d->refs_free != NULL) ? 0 : wsc__delivery_reserve_slow(d);
}
void wsc__delivery_keep_frame_new(wsc__delivery *d, int kind, wsc__chunk *k, size_t off, size_t len, uint64_t seq,
                                  uint64_t index);
/* Keeps message (seq, index) of `len` payload bytes, sent as one plain
   frame at off in chunk k (wsc__ws_send_kept), by reference: it extends
   the last run if it follows it, else starts a run (a chunk reference and
   the reserved record). After wsc__delivery_reserve(): cannot fail. */
static inline void wsc__delivery_keep_frame(wsc__delivery *d, int kind, wsc__chunk *k, size_t off, size_t len,
                                            uint64_t seq, uint64_t index) {
    wsc__msg *t = d->sent.tail;
    /* The same chunk means the same connection, where every data message is
       kept in order: a run at the tail with the next seq is contiguous in
       index too (anything else kept since would be the tail). */
    if (WSC_LIKELY(t != NULL && t->chunk == k && t->nrun && t->seq + t->nrun == seq && t->kind == kind)) {
        t->nrun++;
        t->len += len;
        d->sent.n++;
        d->sent.bytes += len;
        return;
    }
    wsc__delivery_keep_frame_new(d, kind, k, off, len, seq, index);
}
/* wsc__msg_free(), keeping the block in d's pool if there is room. */
void wsc__delivery_msg_free(wsc__delivery *d, wsc__msg *m);
/* Frees d's kept messages and its pool (the client is freed). */
void wsc__delivery_free(wsc__delivery *d);

/* A new connection: nothing pinged on it yet (sent must be empty). */
void wsc__delivery_reset(wsc__delivery *d);

/* If messages were handed over since the last confirmation Ping (data_sent
   is the connection's wsc__ws_data_sent) and no Ping is in flight, writes
   the payload of the next Ping to out and returns its length; else 0. The
   caller sends the Ping and, if that succeeded, calls
   wsc__delivery_pinged(d, data_sent). */
size_t wsc__delivery_ping_payload(const wsc__delivery *d, uint64_t data_sent, char out[WSC__ACK_MAX]);
void wsc__delivery_pinged(wsc__delivery *d, uint64_t data_sent);
/* The same inside a batch: a payload if WSC__ACK_EVERY messages went out
   since the last Ping (whether or not it is answered), else 0. */
size_t wsc__delivery_ack_payload(uint64_t data_sent, char out[WSC__ACK_MAX]);
static inline size_t wsc__delivery_ping_due(const wsc__delivery *d, uint64_t data_sent, char out[WSC__ACK_MAX]) {
    if (WSC_LIKELY(data_sent < d->due_at) || !d->sent.n) return 0;
    return wsc__delivery_ack_payload(data_sent, out);
}

/* A Pong arrived with payload p[0..len). Returns -1 if it is not one of
   ours; else the number of messages it confirmed (freed). The Ping is no
   longer in flight: the caller may send the next one. */
long wsc__delivery_pong(wsc__delivery *d, const uint8_t *p, size_t len);

/* The closing handshake completed: everything is confirmed (freed).
   Returns how many messages that was. */
size_t wsc__delivery_confirm_all(wsc__delivery *d);

/* The connection dropped with `written` data messages completely written:
   moves the kept messages to *written_q (index < written) and *unwritten_q
   (the rest), both in send order. d->sent becomes empty. Messages kept by
   reference are unmasked in place first (wsc__msg_bytes then gives the
   payload). */
void wsc__delivery_split(wsc__delivery *d, uint64_t written, wsc__msgq *written_q, wsc__msgq *unwritten_q);

#endif
