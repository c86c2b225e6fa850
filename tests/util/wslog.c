/* wslog.c - see wslog.h. */
#include "wslog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void tu_wslog_reset(tu_wslog *r) {
    for (int i = 0; i < r->nmsg; i++) free(r->msg[i]);
    memset(r, 0, sizeof *r);
}

void tu_wslog_event(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    tu_wslog *r = user;
    if (r->norder < 16) r->order[r->norder++] = ev->type;
    switch (ev->type) {
    case WSC_WS_OPEN:
        r->opens++;
        r->state_at_open = wsc_ws_ready_state(ws);
        if (r->free_on_open) {
            wsc_ws_free(ws);
            *r->self = NULL;
        } else if (r->close_on_open) {
            wsc_ws_close(ws, 4000, "from open");
        }
        break;
    case WSC_WS_MESSAGE:
        if (r->nmsg < MAXMSG) {
            r->msg[r->nmsg] = malloc(ev->len + 1);
            memcpy(r->msg[r->nmsg], ev->data, ev->len);
            r->msg[r->nmsg][ev->len] = 0;
            r->msglen[r->nmsg] = ev->len;
            r->msgbin[r->nmsg] = ev->binary;
            r->nmsg++;
        }
        snprintf(r->origin, sizeof r->origin, "%s", ev->origin);
        if (r->free_on_message) {
            wsc_ws_free(ws);
            *r->self = NULL;
        } else if (r->close_on_message) {
            wsc_ws_close(ws, 1000, "from message");
        }
        break;
    case WSC_WS_ERROR:
        r->errors++;
        r->last_error = ev->error;
        snprintf(r->error_msg, sizeof r->error_msg, "%s", ev->message);
        r->http_status = ev->http_status;
        snprintf(r->location, sizeof r->location, "%s", ev->location ? ev->location : "");
        break;
    case WSC_WS_CLOSE:
        r->closes++;
        r->close_code = ev->code;
        snprintf(r->close_reason, sizeof r->close_reason, "%s", ev->reason);
        r->was_clean = ev->was_clean;
        r->state_at_close = wsc_ws_ready_state(ws);
        break;
    case WSC_WS_PING: r->pings++; break;
    case WSC_WS_PONG: r->pongs++; break;
    }
}

wsc_ws_options tu_wslog_options(tu_wslog *r) {
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = tu_wslog_event;
    o.user = r;
    return o;
}
