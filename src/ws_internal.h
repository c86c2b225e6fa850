/* ws_internal.h - what the client layer needs of ws.c beyond ws.h (private). */
#ifndef WSC_WS_INTERNAL_H
#define WSC_WS_INTERNAL_H

#include "wsc/ws.h"

/* Checks a URL and connection options exactly as wsc_ws_new() would (URL,
   headers, subprotocols, deflate and proxy settings), without connecting.
   Returns WSC_OK or the error wsc_ws_new() would report (err filled). */
int wsc__ws_validate(wsc_loop *loop, const char *url, const wsc_ws_options *opts, wsc_error *err);

#endif
