/* wslog.h - a wsc_ws connection's events, all of them, for the tests
 * against real peers (test_ws.c, test_ws_tls.c): counts, the messages
 * (malloc'd copies), the last error and close with their details, the
 * order of the first 16 events, and behaviours a test switches on (free or
 * close from inside a callback). tu_wsrec (testutil.h) is the small one. */
#ifndef WSC_WSLOG_H
#define WSC_WSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "wsc/ws.h"

#define MAXMSG 64
typedef struct {
    int opens, errors, closes, pings, pongs;
    int nmsg;
    uint8_t *msg[MAXMSG];
    size_t msglen[MAXMSG];
    int msgbin[MAXMSG];
    int last_error;
    char error_msg[256];
    int http_status;
    char location[256];
    unsigned close_code;
    char close_reason[128];
    int was_clean;
    int state_at_open, state_at_close;
    char origin[128];
    int order[16];
    int norder;
    /* behaviours */
    int free_on_message, close_on_message, free_on_open, close_on_open;
    wsc_ws **self;
} tu_wslog;

/* Frees the messages and zeroes the record. */
void tu_wslog_reset(tu_wslog *r);
/* The on_event callback (and a listener for PING/PONG); user is a tu_wslog. */
void tu_wslog_event(wsc_ws *ws, const wsc_ws_event *ev, void *user);
/* Options with every browser event going to tu_wslog_event(r). */
wsc_ws_options tu_wslog_options(tu_wslog *r);

/* The short names test_ws.c and test_ws_tls.c use. */
typedef tu_wslog rec;
#define rec_reset tu_wslog_reset
#define on_event tu_wslog_event
#define opts_for tu_wslog_options

#endif
