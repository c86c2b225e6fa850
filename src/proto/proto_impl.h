/*
 * proto_impl.h - the endpoint's state, shared by the two halves of the core
 * (frame.c: headers, lifecycle, encoding; recv.c: decoding and the receive
 * span). Private to src/proto/.
 */
#ifndef WSC_PROTO_IMPL_H
#define WSC_PROTO_IMPL_H

#include "internal.h"
#include "pmd.h"
#include "wsc/proto.h"

enum rstate { R_HEADER = 0, R_PAYLOAD };

struct wsc_proto {
    /* configuration */
    uint64_t max_frame;
    uint64_t max_msg;
    size_t frag_size;
    size_t deflate_threshold;
    wsc_random_fn rnd;
    void *rnd_user;
    wsc_pmd *pmd; /* NULL: permessage-deflate off */

    /* receive side */
    wsc_frame_header fh;  /* the frame being received */
    uint64_t remaining;   /* its payload bytes not yet consumed */
    uint64_t frame_off;   /* payload bytes consumed (mask rotation) */
    uint64_t msg_wire;    /* payload bytes of the message so far (pre-inflate) */
    wsc_buf msg;          /* reassembly buffer (NULL when idle) */
    wsc_utf8 utf8;        /* validation state of the text message */
    size_t utf8_done;     /* bytes of msg already validated */
    uint8_t hdr[WSC_FRAME_HEADER_MAX];
    uint8_t hdr_len;
    uint8_t rstate;
    uint8_t msg_op;       /* 0, WSC_OP_TEXT or WSC_OP_BINARY: message in progress */
    uint8_t msg_compressed;
    uint8_t msg_delivered; /* msg was handed out; release it on the next call */
    uint8_t ctl_len;
    uint8_t ctl_delivered; /* ctl was handed out; release it on the next call */
    uint8_t span_open;    /* a receive span was offered (proto_span.h) */
    uint8_t *ctl;         /* a control frame's payload split across reads
                             (allocated then, 125 bytes; usually never) */

    /* closing handshake and pending control output */
    uint8_t role;
    uint8_t close_sent;
    uint8_t close_received;
    uint8_t close_pending; /* a Close (reply or failure) waits for flush */
    uint8_t pong_pending;
    uint8_t pong_len;
    uint16_t close_out_code; /* 0: Close without status */
    uint16_t fail_code;
    const char *close_out_reason; /* static string or NULL */
    uint8_t *pong;        /* payload of the Pong to send (125 bytes, allocated at the first Ping) */

    /* send side: a message fragmented by the caller (wsc_proto_send_frame) */
    uint8_t send_op;
    wsc_utf8 send_utf8;

    const char *errmsg; /* a static string (the failures' texts are constant) */

    /* receive-memory accounting (wsc_proto_config.rx_mem) */
    int (*rx_mem)(void *user, long long delta);
    void *rx_mem_user;
    size_t rx_charged; /* msg.cap as last reported to rx_mem */
};

/* Header length implied by the first two bytes. */
static inline size_t wsc__header_len_of(uint8_t b1) {
    size_t n = 2;
    uint8_t l7 = b1 & 0x7f;
    if (l7 == 126) n += 2;
    else if (l7 == 127) n += 8;
    if (b1 & 0x80) n += 4;
    return n;
}

/* The Pong owed is answered or no longer owed. Its buffer (125 bytes,
   allocated at the first Ping) stays until wsc_proto_free(): a peer's
   heartbeat costs one allocation per connection, not one per Ping. */
static inline void wsc__drop_pong(wsc_proto *p) { p->pong_pending = 0; }

#endif
