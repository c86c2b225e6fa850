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

/* Non-zero if the server started the closing handshake (its Close came
   before ours): then the close confirms nothing that Pongs did not. */
int wsc__ws_peer_closed_first(const wsc_ws *ws);

/* A function called at the start of every deferred flush of an OPEN
   connection, before the write: it may append frames (the client's
   confirmation Ping) that then go out in the same write. NULL: none. */
void wsc__ws_set_flush_hook(wsc_ws *ws, void (*fn)(wsc_ws *ws, void *user), void *user);

#endif
