/*
 * ws_private.h - the client connection's struct, shared by ws.c (the
 * handshake, the gate, events) and ws_create.c (options, URL, proxy, the
 * request). Private to the library.
 */
#ifndef WSC_WS_PRIVATE_H
#define WSC_WS_PRIVATE_H

#include "conn.h"
#include "internal.h"
#include "io/loop_internal.h"
#include "io/transport.h"
#include "wsc/http.h"
#include "wsc/proto.h"
#include "wsc/ws.h"
#include "ws_internal.h"

#define DEFAULT_CONNECT_TIMEOUT 10000u

/* Below CONN_OPEN the phases are ours (conn.h); then the engine's. */
enum phase { PH_CONNECT, PH_HANDSHAKE, PH_OPEN = CONN_OPEN, PH_CLOSING = CONN_CLOSING, PH_DONE = CONN_DONE };

/* A connect request kept while waiting at the gate (strings owned). */
typedef struct held_connect {
    wsc_connect_req cr;
    char *host, *unix_path, *proxy_host, *proxy_auth, *ca_file, *ca_dir, *cert_file, *key_file, *key_passphrase;
} held_connect;

/* State that exists only while connecting. */
typedef struct handshake {
    wsc_connector *connector;
    held_connect *held; /* waiting at the gate: the request to start later */
    wsc_buf req;       /* the upgrade request */
    wsc_buf resp;      /* the response head as it arrives (+ early frames) */
    size_t last_len;
    size_t max_header;
    char key[25];
    char **protocols;  /* NULL-terminated copy of the offer */
    wsc_pmd_offer pmd_offer;
    int offer_pmd;
    /* the parsed response (on handshake_io's stack): valid during "open" */
    const wsc_http_response *response;
    /* settings needed only to set up the protocol endpoint */
    uint64_t max_message;
    size_t fragment_size;
    size_t deflate_threshold;
    int deflate_mem_level;
    unsigned handshake_timeout;
} handshake;

typedef struct gate gate;

#define WS_NCB (WSC_WS_CLOSE + 1) /* option callbacks: OPEN .. CLOSE (PING, PONG: listeners only) */

struct wsc_ws {
    wsc__conn c;         /* the engine: socket, core, send buffer, closing */
    gate *gate;          /* RFC 6455 4.1: the gate for our host and port */
    wsc_ws *gate_next;   /* next in the gate's waiting list */
    int start_error;     /* a held connect that could not start (reported by the timer) */
    handshake *hs;
    void (*flush_hook)(wsc_ws *ws, void *user);
    void *flush_hook_user;
    uint8_t tls_failed;

    char *url;
    char *origin;
    char *protocol;
    char *extensions;

    wsc_ws_cb cb[WS_NCB]; /* the options' on_open, on_message, on_error, on_close by event type */
    void *user;
    void (*trace)(void *user, int outgoing, const char *head, size_t len);
    wsc__listeners ls;
};

/* ws.c, for ws_create.c */
void wsc__ws_init_engine(wsc_ws *ws, wsc_loop *loop);
void wsc__ws_really_free(wsc_ws *ws);
int wsc__ws_hold_connect(handshake *hs, const wsc_connect_req *cr);
int wsc__ws_gate_join(wsc_ws *ws, const char *key); /* 1: wait at the gate */
void wsc__ws_on_connected(void *user, int rc, wsc_tx *tx, const wsc_error *err);

#endif
