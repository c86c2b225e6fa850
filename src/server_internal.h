/*
 * server_internal.h - the server role's structs, shared by server.c (the
 * connection state machine) and server_limits.c (memory budget, deadlines,
 * per-address limit). Private to the library.
 */
#ifndef WSC_SERVER_INTERNAL_H
#define WSC_SERVER_INTERNAL_H

#include "conn.h"
#include "internal.h"
#include "io/loop_internal.h"
#include "io/transport.h"
#include "wsc/proto.h"
#include "wsc/server.h"

/* Below CONN_OPEN the phases are the server's (conn.h); then the engine's. */
enum sphase { S_TLS, S_HTTP, S_REJECT, S_OPEN = CONN_OPEN, S_CLOSING = CONN_CLOSING, S_DONE = CONN_DONE };

struct wsc_sconn {
    wsc__conn c; /* the engine: socket, core, send buffer, closing */
    wsc_server *srv;
    wsc_sconn *prev, *next;
    wsc_buf in;  /* request head (handshake only) */
    size_t last_len;
    uint8_t counted;  /* included in the server's open count */
    uint8_t was_open; /* reached OPEN: its events reach the application */
    char *protocol;
    char *extensions;
    char *csrf_token; /* the token this connection authenticated with (server_csrf.c) */
    char peer[64];
    void *user;
    /* budgets (server_limits.c) */
    wsc_timer deadline;   /* idle and message timeouts (OPEN only) */
    uint64_t last_rx;     /* wsc_loop_now() of the last read with data */
    uint64_t msg_since;   /* when the unfinished message first held storage */
    uint64_t rx_held;     /* reassembly storage charged by the proto hook */
    uint64_t bufs_held;   /* in.cap + out.cap charged */
    uint8_t addr_len;     /* length of the address part of peer */
    uint8_t deadline_on;  /* the deadline timer was initialised */
};

struct wsc_server {
    wsc_loop *loop;
    wsc_watch lwatch;
    int lfd;
    uint16_t port;
    char *unix_path;
    wsc__tls_server *tls; /* NULL: plain ws:// */
    wsc_server_options o;
    char **protocols;
    int csrf_on;          /* o.csrf was set: csrf holds copies of its strings */
    wsc_server_csrf csrf;
    wsc_sconn *conns;
    size_t nconns, nopen;
    int depth;
    int freed;
    uint64_t budget;   /* memory budget in force */
    uint64_t mem_used; /* bytes of it charged now */
    uint64_t rx_used;  /* the part of mem_used that messages being received hold */
};

/* server.c: callback depth bookkeeping (a free is deferred while > 0). */
void wsc__sconn_enter(wsc_sconn *c);
void wsc__sconn_leave(wsc_sconn *c);

/* server_limits.c */
/* The proto's rx_mem hook (user: the wsc_sconn). */
int wsc__srv_rx_mem(void *user, long long delta);
/* Non-zero if `bytes` more fit in the budget. */
int wsc__srv_fits(const wsc_server *s, uint64_t bytes);
/* Brings the budget up to date with c's request-head and send buffers. */
void wsc__srv_charge(wsc_sconn *c);
/* Releases everything c has charged (its buffers are being freed). */
void wsc__srv_uncharge(wsc_sconn *c);
/* (Re)arms c's deadline timer for the idle and message timeouts. */
void wsc__srv_deadline_arm(wsc_sconn *c);
/* Non-zero if c's address already has max_per_address connections. */
int wsc__srv_address_full(const wsc_server *s, const wsc_sconn *c);

/* server_csrf.c */
const char *wsc__srv_csrf_cookie(const wsc_server *s);
/* The handshake's check: 0 and *token (a copy, free with
   wsc__srv_csrf_free_token) if it passes, else the HTTP status to refuse
   with (400, 403, 500) and why (one line, no secret). */
int wsc__srv_csrf_request(const wsc_server *s, const char *cookie, const char *query, char **token, char *why,
                          size_t cap);
/* A message's check: 1 it passes, 0 refuse. */
int wsc__srv_csrf_message(const wsc_server *s, const char *token, const wsc_ws_event *ev);
void wsc__srv_csrf_free_token(char *token);

#endif
