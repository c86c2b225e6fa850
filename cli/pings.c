/*
 * pings.c - pings and pongs as the user sees them: the pong of /ping with
 * its delay, and with -P/--show-ping wsc's own timed pings ("wsc-P N"), the
 * server's pings and the heartbeat's pongs as status lines.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "output.h"

/* -P: the payload of our timed pings, "wsc-P N". */
static int show_ping_pong(app *a, const wsc_ws_event *ev) {
    char want[32];
    int n = snprintf(want, sizeof want, "wsc-P %u", a->show_ping_seq);
    if (ev->len != (size_t)n || memcmp(ev->data, want, (size_t)n) != 0) return 0;
    out_status(ST_INFO, "pong: %s (%llu ms)", want,
               (unsigned long long)(wsc_loop_now(a->loop) - a->show_ping_sent_ms));
    return 1;
}

void app_on_show_ping_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    app *a = user;
    wsc_ws *ws = a->conn_open ? wsc_client_socket(a->client) : NULL;
    if (ws) {
        char payload[32];
        int n = snprintf(payload, sizeof payload, "wsc-P %u", ++a->show_ping_seq);
        if (wsc_ws_ping(ws, payload, (size_t)n) == WSC_OK) {
            a->show_ping_sent_ms = wsc_loop_now(a->loop);
            out_status(ST_INFO, "ping: %s", payload);
        }
    }
    wsc_timer_start(t, a->o->ping_interval_ms ? a->o->ping_interval_ms : 20000);
}

void app_on_ping(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)user;
    char data[400], raw[126];
    size_t n = ev->len < sizeof raw - 1 ? ev->len : sizeof raw - 1;
    memcpy(raw, ev->data, n);
    raw[n] = 0;
    app_safe_text(data, sizeof data, raw);
    out_status(ST_INFO, "ping from the server%s%s (answered)", n ? ": " : "", data);
}

void app_on_pong(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    app *a = user;
    if (a->o->show_ping && show_ping_pong(a, ev)) return;
    if (ev->len >= 8 && !memcmp(ev->data, "wsc-ack ", 8)) return; /* confirmed delivery's (client.h) */
    if (!a->user_pings) {
        /* a heartbeat pong (its ping was sent by the library, untimed here) */
        if (a->o->show_ping) out_status(ST_INFO, "pong (heartbeat)");
        return;
    }
    a->user_pings--;
    char data[400];
    char raw[126];
    size_t n = ev->len < sizeof raw - 1 ? ev->len : sizeof raw - 1;
    memcpy(raw, ev->data, n);
    raw[n] = 0;
    app_safe_text(data, sizeof data, raw);
    uint64_t ms = wsc_loop_now(a->loop) - a->ping_sent_ms;
    out_status(ST_INFO, "pong%s%s (%llu ms)", n ? ": " : "", data, (unsigned long long)ms);
}
