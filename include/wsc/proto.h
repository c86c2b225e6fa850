/*
 * proto.h - the sans-I/O WebSocket protocol core (RFC 6455, RFC 7692).
 *
 * Bytes in, bytes and events out. Nothing here touches a socket, a clock or
 * a thread. Randomness (frame masks) comes from a callback the caller gives.
 * Memory is allocated only through the allocator hooks of wsc.h and only
 * where a function's documentation says so.
 *
 * Three levels, each usable alone:
 *   1. primitives: UTF-8 validation, masking, close-code rules;
 *   2. frame headers: parse and write one header;
 *   3. the protocol object `wsc_proto`: a full endpoint state machine
 *      (validation of every RFC 6455 rule, message reassembly, automatic
 *      pong and close replies, fragmentation, permessage-deflate).
 */
#ifndef WSC_PROTO_H
#define WSC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* 1. Primitives                                                       */
/* ------------------------------------------------------------------ */

/*
 * Incremental UTF-8 validation (RFC 3629; the well-formed byte sequences of
 * Unicode Table 3-7: no overlong forms, no surrogates, nothing above
 * U+10FFFF). State carries across calls, so a text message can be checked
 * chunk by chunk and across fragment boundaries. A zeroed struct is the
 * initial state.
 */
typedef struct wsc_utf8 {
    uint32_t state; /* 0: at a character boundary; otherwise mid-sequence */
} wsc_utf8;

/*
 * Validates s[0..len) continuing from *st and updates *st.
 * Returns len if no byte so far is impossible (the input may still end in
 * the middle of a sequence: check wsc_utf8_complete()), otherwise the index
 * in s of the first byte that cannot continue a well-formed sequence
 * ("fail fast": e.g. for F4 90 the index of 90, for C0 the index of C0).
 * After a failure *st is unspecified: reset it before reuse.
 * Runs at memory speed on ASCII (SIMD with a portable fallback).
 */
WSC_API size_t wsc_utf8_validate(wsc_utf8 *st, const void *s, size_t len);

/* Non-zero if *st is at a character boundary (a message may end here). */
static inline int wsc_utf8_complete(const wsc_utf8 *st) { return st->state == 0; }

/* One-shot: non-zero if s[0..len) is complete, valid UTF-8. */
WSC_API int wsc_utf8_valid(const void *s, size_t len);

/*
 * Masking (RFC 6455 5.3): dst[i] = src[i] ^ key[(offset + i) % 4].
 * dst may equal src (in place); otherwise the ranges must not overlap.
 * `offset` is the position of src[0] within the frame's payload, so a
 * payload can be masked in pieces. Runs at memory speed.
 */
WSC_API void wsc_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4], size_t offset);

/*
 * Close status codes (RFC 6455 7.4).
 * wsc_close_code_valid: a code a peer may put in a Close frame we receive
 *   (1000-1003, 1007-1014, 3000-4999); anything else is a protocol error.
 * wsc_close_code_app_ok: a code an application may pass to close(), by the
 *   browser's rule: 1000 or 3000-4999.
 */
WSC_API int wsc_close_code_valid(unsigned code);
WSC_API int wsc_close_code_app_ok(unsigned code);

/* Largest reason a Close frame can carry: 125 - 2 bytes of code. */
#define WSC_CLOSE_REASON_MAX 123

/* ------------------------------------------------------------------ */
/* 2. Frame headers                                                    */
/* ------------------------------------------------------------------ */

enum wsc_opcode {
    WSC_OP_CONTINUATION = 0x0,
    WSC_OP_TEXT = 0x1,
    WSC_OP_BINARY = 0x2,
    WSC_OP_CLOSE = 0x8,
    WSC_OP_PING = 0x9,
    WSC_OP_PONG = 0xA
};

#define WSC_RSV1 0x4
#define WSC_RSV2 0x2
#define WSC_RSV3 0x1

/* Largest frame header: 2 + 8 (64-bit length) + 4 (mask). */
#define WSC_FRAME_HEADER_MAX 14

typedef struct wsc_frame_header {
    unsigned fin : 1;
    unsigned rsv : 3; /* WSC_RSV1 | WSC_RSV2 | WSC_RSV3 */
    unsigned opcode : 4;
    unsigned masked : 1;
    uint8_t mask[4];       /* valid when masked */
    uint64_t payload_len;  /* < 2^63 */
    size_t header_len;     /* 2 to 14 */
} wsc_frame_header;

/*
 * Parses the frame header at in[0..len). No rule beyond the header's own
 * encoding is checked here (the protocol object checks the rest).
 * Returns the header length (2-14) and fills *h, 0 if more bytes are needed,
 * or WSC_EPROTO if the 64-bit length has its most significant bit set.
 */
WSC_API int wsc_frame_header_parse(const uint8_t *in, size_t len, wsc_frame_header *h);

/*
 * Writes a header with the minimal length encoding into out (room for
 * WSC_FRAME_HEADER_MAX bytes). mask may be NULL (unmasked). Returns its length.
 */
WSC_API size_t wsc_frame_header_write(uint8_t *out, int fin, unsigned rsv, unsigned opcode,
                                      const uint8_t *mask, uint64_t payload_len);

/* ------------------------------------------------------------------ */
/* 3. The protocol object                                              */
/* ------------------------------------------------------------------ */

typedef struct wsc_proto wsc_proto;

typedef enum wsc_role { WSC_ROLE_CLIENT = 0, WSC_ROLE_SERVER = 1 } wsc_role;

/* Fills buf with len cryptographically random bytes; returns 0 on success. */
typedef int (*wsc_random_fn)(void *user, void *buf, size_t len);

/*
 * Negotiated permessage-deflate parameters (RFC 7692), as produced by the
 * handshake layer (http.h). enabled == 0 means the extension is off.
 */
typedef struct wsc_pmd_params {
    int enabled;
    int server_no_context_takeover;
    int client_no_context_takeover;
    int server_max_window_bits; /* 8..15 (default 15) */
    int client_max_window_bits; /* 8..15 (default 15) */
} wsc_pmd_params;

/* Defaults (used for any field left 0). */
#define WSC_DEFAULT_MAX_MESSAGE ((uint64_t)64 * 1024 * 1024) /* 64 MiB */
#define WSC_DEFAULT_DEFLATE_THRESHOLD 64                     /* bytes */
#define WSC_DEFAULT_DEFLATE_MEM_LEVEL 8

typedef struct wsc_proto_config {
    wsc_role role;
    /* Largest frame payload accepted; 0: same as max_message_size.
       A larger frame fails the connection with 1009. */
    uint64_t max_frame_size;
    /* Largest message accepted (after decompression); 0: 64 MiB.
       A larger message fails the connection with 1009. */
    uint64_t max_message_size;
    /* Outgoing messages longer than this are sent as several frames of at
       most this payload size; 0: never fragment. */
    size_t fragment_size;
    /* Required for the client role (frame masks); unused by servers. */
    wsc_random_fn random;
    void *random_user;
    /* permessage-deflate, as negotiated; NULL or enabled == 0: off. */
    const wsc_pmd_params *deflate;
    /* Messages shorter than this are sent uncompressed; 0: 64 bytes. */
    size_t deflate_threshold;
    /* zlib memLevel for compression, 1..9; 0: 8. */
    int deflate_mem_level;
    /* Receive-memory accounting, for an application that bounds the memory
       of many endpoints together (wsc_server's memory budget). When set,
       rx_mem(rx_mem_user, delta) is told every change in the size of the
       receive storage (the reassembly buffer, which also holds inflated
       output): delta > 0 right after it grew (for plain payload, before any
       byte of the new room is written; inflated output is counted after the
       inflate step that produced it, at most one input chunk's output),
       delta < 0 once storage was released (also from wsc_proto_free). A
       non-zero return refuses a growth: the storage is freed and the
       connection fails with 1009 (wsc_proto_recv returns WSC_ETOOBIG).
       NULL: no accounting, no cost. */
    int (*rx_mem)(void *user, long long delta);
    void *rx_mem_user;
    uint64_t reserved[8]; /* zero (else WSC_EINVAL); future fields come from here: abi/README.md */
} wsc_proto_config;

/*
 * Creates an endpoint in the OPEN state (the opening handshake is done by
 * the caller, see http.h). Allocates the object (a few hundred bytes) and,
 * if deflate is on, zlib state. Returns NULL and fills err on failure
 * (WSC_EINVAL: cfg NULL, a role other than client or server, client role
 * without a random callback, bad deflate params; WSC_ENOMEM).
 */
WSC_API wsc_proto *wsc_proto_new(const wsc_proto_config *cfg, wsc_error *err);
WSC_API void wsc_proto_free(wsc_proto *p);

/* Endpoint states, from the point of view of the closing handshake. */
enum wsc_proto_state {
    WSC_PS_OPEN = 0,       /* messages flow both ways */
    WSC_PS_CLOSE_SENT,     /* we sent Close, waiting for the peer's */
    WSC_PS_CLOSE_RECEIVED, /* the peer sent Close; our reply is pending or sent */
    WSC_PS_CLOSED,         /* Close sent and received: closing handshake done */
    WSC_PS_FAILED          /* we failed the connection (protocol error) */
};
WSC_API int wsc_proto_state(const wsc_proto *p);

/* What wsc_proto_recv() reports. */
enum wsc_event_type {
    WSC_EV_NONE = 0,   /* all input consumed, nothing to report yet */
    WSC_EV_TEXT = 1,   /* a complete text message (valid UTF-8) */
    WSC_EV_BINARY = 2, /* a complete binary message */
    WSC_EV_CLOSE = 8,  /* the peer's Close frame: code and reason */
    WSC_EV_PING = 9,   /* a Ping (a Pong reply is now pending) */
    WSC_EV_PONG = 10   /* a Pong */
};

typedef struct wsc_event {
    int type;             /* enum wsc_event_type */
    const uint8_t *data;  /* message payload, or the Close reason */
    size_t len;
    unsigned close_code;  /* WSC_EV_CLOSE: the code, 1005 if the frame had none */
    int compressed;       /* the message arrived compressed (permessage-deflate) */
    uint64_t reserved[2]; /* filled by a later version's new fields (abi/README.md) */
} wsc_event;

/*
 * Feeds received bytes. Consumes input until one event is complete, then
 * stops and reports it; call again with the rest (in + *consumed) until it
 * reports WSC_EV_NONE with all input consumed.
 *
 * The input buffer is writable because a server unmasks client frames in
 * place. ev->data points either into `in` (a whole unfragmented message that
 * was contiguous in the input: no copy) or into storage of the object
 * (reassembled, split or decompressed messages); either way it is valid until
 * the next call on this object or until `in` is changed, whichever is first.
 * Storage for a reassembled message is allocated once it is needed (sized
 * from the frame header when possible) and released once it is delivered.
 *
 * Returns WSC_OK (with ev filled), or on a protocol violation by the peer
 * WSC_EPROTO, WSC_EUTF8 (invalid UTF-8 in text, or invalid compressed data)
 * or WSC_ETOOBIG, or WSC_ENOMEM when storage for a message, a control frame
 * or decompression cannot be allocated: the connection is failed, the state
 * becomes WSC_PS_FAILED, a Close frame with wsc_proto_fail_code() is pending
 * for wsc_proto_flush() (unless our Close was already sent), and
 * wsc_proto_errmsg() says what happened. Further calls return WSC_ESTATE. Once the peer's Close was reported, later input is
 * consumed and ignored (RFC 6455 5.5.1).
 */
WSC_API int wsc_proto_recv(wsc_proto *p, uint8_t *in, size_t len, size_t *consumed, wsc_event *ev);

/* Close code for the failure (1002, 1007, 1009, or 1011 when out of memory);
   0 if not failed. */
WSC_API unsigned wsc_proto_fail_code(const wsc_proto *p);
/* Human-readable reason of the last failure or refusal ("" if none). */
WSC_API const char *wsc_proto_errmsg(const wsc_proto *p);

/* Non-zero if control frames (Pong or Close replies) wait for wsc_proto_flush(). */
WSC_API int wsc_proto_want_flush(const wsc_proto *p);

/*
 * Appends pending control frames (the Pong answering the latest Ping, the
 * Close reply, or the Close frame that fails the connection) to out.
 * WSC_OK, WSC_ENOMEM or WSC_ETOOBIG (nothing appended, still pending).
 */
WSC_API int wsc_proto_flush(wsc_proto *p, wsc_buf *out);

/*
 * Encodes a whole message (WSC_OP_TEXT or WSC_OP_BINARY) and appends it to
 * out: masked with a fresh key per frame in the client role, compressed if
 * permessage-deflate is on and len >= the threshold, fragmented if
 * fragment_size is set. `data` is never modified. Text must be valid UTF-8.
 * Returns WSC_OK; WSC_EUTF8 (text not UTF-8), WSC_EINVAL (bad opcode, or data
 * NULL with len > 0), WSC_ESTATE (Close already sent or received, connection
 * failed, or a message streamed with wsc_proto_send_frame() is unfinished),
 * WSC_ENOMEM or WSC_ETOOBIG (out is full): in every error case nothing was
 * appended. A WSC_ENOMEM while compressing may have advanced the compressor's
 * context (with context takeover the peer could not inflate what follows):
 * fail the connection rather than retry.
 */
WSC_API int wsc_proto_send(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out);

/* What wsc_proto_send_ex() framed (the library fills it; zeroed on error). */
typedef struct wsc_proto_sent {
    uint64_t wire;     /* bytes appended to out */
    uint32_t frames;   /* frames of the message (more than 1 if fragment_size split it) */
    uint32_t header;   /* header bytes of its first frame */
    int compressed;    /* permessage-deflate compressed it (RSV1) */
    int pad_;
    uint64_t reserved[4];
} wsc_proto_sent;

/*
 * wsc_proto_send(), also telling what it framed, so that a caller keeping
 * byte-exact accounts (bufferedAmount) need not parse its own output.
 * sent may be NULL. Same returns as wsc_proto_send().
 */
WSC_API int wsc_proto_send_ex(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out,
                              wsc_proto_sent *sent);

/*
 * Streaming send: one frame of a message the caller fragments itself.
 * opcode is TEXT or BINARY for the first frame, CONTINUATION afterwards;
 * fin ends the message. Text is validated across frames. Never compressed.
 * Same returns as wsc_proto_send(), plus WSC_ESTATE for a frame out of order.
 */
WSC_API int wsc_proto_send_frame(wsc_proto *p, unsigned opcode, int fin, const void *data, size_t len,
                                 wsc_buf *out);

/* Ping / Pong with up to 125 bytes of payload. WSC_OK; WSC_EINVAL (longer, or
   data NULL with len > 0); WSC_ESTATE (our Close was sent, or the connection
   failed); WSC_ENOMEM or WSC_ETOOBIG (out is full). Nothing appended on error. */
WSC_API int wsc_proto_ping(wsc_proto *p, const void *data, size_t len, wsc_buf *out);
WSC_API int wsc_proto_pong(wsc_proto *p, const void *data, size_t len, wsc_buf *out);

/*
 * Starts (or answers) the closing handshake: appends a Close frame.
 * code 0 sends a Close frame without status (the peer reports 1005) and
 * allows no reason; otherwise code must be one a Close frame may carry
 * (wsc_close_code_valid) and reason valid UTF-8 of at most 123 bytes
 * (WSC_EINVAL / WSC_EUTF8, nothing appended). Applications should apply the
 * stricter browser rule wsc_close_code_app_ok() first; the connection layer
 * (ws.h) does. WSC_ESTATE if a Close was already sent; WSC_ENOMEM or
 * WSC_ETOOBIG if out is full (nothing appended).
 */
WSC_API int wsc_proto_close(wsc_proto *p, unsigned code, const char *reason, size_t reason_len,
                            wsc_buf *out);

/*
 * Bytes a message of `len` payload bytes takes on the wire at most
 * (headers of every fragment included, compression not counted).
 */
WSC_API size_t wsc_proto_wire_size(const wsc_proto *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* WSC_PROTO_H */
