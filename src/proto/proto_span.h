/*
 * proto_span.h - the receive span: reading large payloads straight into the
 * core's message buffer (private to libwsc; conn.c is the caller).
 *
 * wsc_proto_recv() takes bytes the caller read into its own buffer and
 * copies (unmasking) every payload that does not fit the zero-copy fast path
 * into the reassembly buffer: for a 1 MiB message that is 1 MiB read into
 * the loop's scratch buffer and 1 MiB copied again. The span removes the
 * second copy: while the core is inside the payload of an uncompressed data
 * frame, it offers the place in the reassembly buffer where that payload
 * goes next; the caller reads into it and says how many bytes landed, and the
 * core unmasks (server role) and validates (text) them in place.
 *
 * Kept internal (wsc__, not proto.h) on purpose: the contract hands out a
 * pointer into the object's storage, with rules about what may happen
 * between the two calls, and so far has one caller, measured. Once it has
 * proven itself it can be promoted to proto.h with WSC_API, a man page and
 * an abi re-record; removing a public function again could not be done.
 *
 * Every limit is the one wsc_proto_recv() applies: the frame and message
 * size limits were checked on the frame's header, before any span is
 * offered; the room is reserved through the allocator hooks and reported
 * to rx_mem exactly as the copying path reserves it (a frame's whole
 * remaining payload, which is what the copying path reserves for the first
 * frame of a message, and at most what the header already declared).
 */
#ifndef WSC_PROTO_SPAN_H
#define WSC_PROTO_SPAN_H

#include "wsc/proto.h"

/*
 * Offers the span the payload wants next. If the endpoint is inside the
 * payload of an uncompressed data frame (text, binary or continuation) with
 * at least `min` bytes of it not yet received (min 0 is taken as 1), it
 * makes room in the message buffer for all of them, sets *ptr and *len (the
 * frame's remaining payload bytes, >= min) and returns 1. The caller may
 * then write up to *len bytes at *ptr and must call wsc__proto_recv_wrote()
 * before any other call on the object (wsc_proto_recv, wsc_proto_free, ...:
 * they may move or free that storage).
 *
 * Returns 0 (nothing offered, nothing allocated, *ptr and *len untouched)
 * when there is no such frame: between frames, in a control frame, in a
 * permessage-deflate message (its payload goes through inflate), fewer than
 * min bytes left, after the peer's Close, or once the connection failed.
 * Read into your own buffer and call wsc_proto_recv() then.
 *
 * Returns WSC_ENOMEM (the room could not be allocated: close code 1011) or
 * WSC_ETOOBIG (rx_mem refused the growth: 1009), with the connection
 * failed exactly as wsc_proto_recv() fails it (state WSC_PS_FAILED, the
 * Close pending for wsc_proto_flush(), wsc_proto_errmsg() says why).
 */
int wsc__proto_recv_span(wsc_proto *p, size_t min, uint8_t **ptr, size_t *len);

/*
 * n bytes (0 <= n <= the *len of the last span) were written at the span's
 * start. Unmasks them in place (server role), validates them (text:
 * incrementally, across spans, reads and fragments), and advances. Fills
 * *ev as wsc_proto_recv() does: WSC_EV_NONE, or, when they complete the
 * message's last frame, WSC_EV_TEXT / WSC_EV_BINARY with the message in the
 * object's storage (valid until the next call on the object).
 *
 * Returns WSC_OK, WSC_EUTF8 (invalid UTF-8, reported at the first bad byte
 * as wsc_proto_recv() does, or a text message ending inside a sequence)
 * with the connection failed (1007); WSC_ESTATE if no span is open, or
 * WSC_EINVAL if n is larger than the span (nothing changed by either).
 */
int wsc__proto_recv_wrote(wsc_proto *p, size_t n, wsc_event *ev);

#endif
