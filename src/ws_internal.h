/* ws_internal.h - what the client layer needs of ws.c beyond ws.h (private). */
#ifndef WSC_WS_INTERNAL_H
#define WSC_WS_INTERNAL_H

#include "wsc/ws.h"

/* Checks a URL and connection options exactly as wsc_ws_new() would (URL,
   headers, subprotocols, deflate and proxy settings, the environment's
   proxy): makes the connection's plan (ws_plan.h) and drops it. Returns
   WSC_OK or the error wsc_ws_new() would report (err filled). */
int wsc__ws_check(const char *url, const wsc_ws_options *opts, wsc_error *err);

/* Confirmed delivery (delivery.h): data messages (text/binary) accepted by
   send on this connection, and of those, completely written to the socket
   (for TLS: accepted by the TLS layer), both counted from 0. Message k
   (0-based, in send order) was written iff k < data_written. */
uint64_t wsc__ws_data_sent(const wsc_ws *ws);
uint64_t wsc__ws_data_written(const wsc_ws *ws);

/* Confirmed delivery without a copy (chunk.h). */
struct wsc__chunk;
/* The client's hot path: wsc_ws_send_text/_binary (the same checks and
   errors), with out->index the message's data-message index and
   out->chunk, out->off its frame (conn.h; chunk NULL: keep a copy). WSC__WS_NOT_PLAIN,
   nothing sent, if the connection's frames are not plain
   (wsc__ws_frames_plain). */
#define WSC__WS_NOT_PLAIN 1
typedef struct wsc__kept {
    struct wsc__chunk *chunk;
    size_t off;
    uint64_t index;
} wsc__kept;
/* utf8_checked: a text's UTF-8 was validated by the caller (not again). */
int wsc__ws_send_kept(wsc_ws *ws, int binary, const void *data, size_t len, int utf8_checked, wsc__kept *out);

/* A text message whose UTF-8 the caller has validated, in pieces
   (proto/proto_gather.h: masked straight into the frame, no join). With
   out: as wsc__ws_send_kept (WSC__WS_NOT_PLAIN, nothing sent, if frames are
   not plain); out NULL: just sent, however the connection frames it.
   WSC_ESTATE / WSC_ECLOSED if not OPEN, else wsc_ws_send_text's errors. */
struct wsc__piece;
int wsc__ws_send_text_pieces(wsc_ws *ws, const struct wsc__piece *v, size_t n, wsc__kept *out);

/* Non-zero if the server started the closing handshake (its Close came
   before ours): then the close confirms nothing that Pongs did not. */
int wsc__ws_peer_closed_first(const wsc_ws *ws);

/* A function called at the start of every deferred flush of an OPEN
   connection, before the write: it may append frames (the client's
   confirmation Ping) that then go out in the same write. NULL: none. */
void wsc__ws_set_flush_hook(wsc_ws *ws, void (*fn)(wsc_ws *ws, void *user), void *user);

#endif
