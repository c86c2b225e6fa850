/*
 * proto_gather.h - sending one message from pieces (private to libwsc;
 * conn.c is the caller, for the client's JSON text).
 *
 * wsc_proto_send_ex() takes the payload as one buffer. The client's
 * send_json_text builds its payload from the application's text and the
 * csrf member: joining them costs a copy of the whole text (and a wipe of
 * that copy afterwards, since it holds the token) before the core copies
 * it once more, masking, into the send buffer. Here the pieces are masked
 * straight into the frame, so the text is copied once, as send_text's is.
 *
 * The caller may also say that it has validated the text's UTF-8 already
 * (the JSON parse did), so that it is not validated a second time.
 *
 * Kept internal (wsc__, not proto.h), as proto_span.h is: one caller,
 * measured; promoting it would need a man page and an abi re-record.
 */
#ifndef WSC_PROTO_GATHER_H
#define WSC_PROTO_GATHER_H

#include <stddef.h>

#include "wsc/proto.h"

/* One piece of a payload: len bytes at data (data may be NULL if len is 0). */
typedef struct wsc__piece {
    const void *data;
    size_t len;
} wsc__piece;

/*
 * wsc_proto_send_ex() of the concatenation of v[0..n), same opcodes,
 * returns and all-or-nothing rule. utf8_checked non-zero: a text's UTF-8
 * was validated by the caller (over the whole concatenation) and is not
 * validated again; zero: it is validated here, across the pieces. With
 * permessage-deflate compressing the message or a fragment size splitting
 * it, the pieces are first joined in a temporary buffer (wiped and freed
 * before returning: it may hold a secret) and sent as wsc_proto_send_ex()
 * sends one buffer; otherwise one frame, each piece masked into place.
 */
int wsc__proto_send_pieces(wsc_proto *p, unsigned opcode, const wsc__piece *v, size_t n, int utf8_checked,
                           wsc_buf *out, wsc_proto_sent *sent);

/* Non-zero if the concatenation of v[0..n) is complete, valid UTF-8 (a
   character may be split across pieces). */
int wsc__pieces_utf8_valid(const wsc__piece *v, size_t n);

#endif
