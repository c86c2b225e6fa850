/*
 * client_internal.h - the reconnecting client's struct and the functions its
 * files share (client.c: life, reconnection, heartbeat, events;
 * client_token.c: the CSRF token; client_send.c: the queue and sending).
 * Private to the library.
 */
#ifndef WSC_CLIENT_INTERNAL_H
#define WSC_CLIENT_INTERNAL_H

#include <jansson.h>

#include "internal.h"
#include "secret.h" /* the token lives in memory kept out of core dumps */
#include "io/loop_internal.h"
#include "json/client_json.h"
#include "wsc/client.h"
#include "wsc/http.h"
#include "wsc/proto.h"
#include "wsc/store.h"
#include "ws_internal.h"
#include "delivery.h"
#include "reconnect.h"
#include "setcookie.h"

#define DEFAULT_TIMEOUT 1000u
#define DEFAULT_BACKOFF_MAX 30000u
#define DEFAULT_QUEUE_MESSAGES 1024u
#define DEFAULT_QUEUE_BYTES ((size_t)16 * 1024 * 1024)
#define DEFAULT_PING_INTERVAL 20000u
#define DEFAULT_PING_TIMEOUT 20000u

enum qkind {
    Q_TEXT = WSC__MSG_TEXT,
    Q_BINARY = WSC__MSG_BINARY,
    Q_JSON = WSC__MSG_JSON,
    Q_JSON_TEXT = WSC__MSG_JSON_TEXT /* validated when queued and again when sent */
};

struct wsc_client {
    wsc_loop *loop;
    wsc_ws *ws;          /* current connection, or NULL */
    wsc_timer retry;     /* reconnect delay (also the first, 0 ms connect) */
    wsc_timer ping;      /* next heartbeat ping */
    wsc_timer pong;      /* pong deadline */

    /* configuration (deep copies) */
    char *url;           /* as given */
    wsc_url u;           /* parsed, spans into url */
    char *origin;        /* store key */
    wsc_client_options o;
    char **protocols;
    wsc_ws_header *headers;
    char *cookie, *origin_hdr, *user_agent, *ca_file, *ca_dir, *cert_file, *key_file, *proxy;
    char *token_key, *cookie_name, *query_param, *json_property, *store_path;

    /* state */
    uint8_t stopped;       /* CLOSED for good until connect()/reconnect() */
    uint8_t app_closing;   /* the application called close() */
    uint8_t reconnect_now; /* reconnect() asked: go again at once */
    uint8_t initial;       /* the next connect is not a re-connect */
    uint8_t depth;
    uint8_t freed;
    unsigned attempts;     /* reconnect attempts since the last open */
    unsigned delay;        /* the delay being waited */
    int cause;             /* why the last connection ended */
    int cause_http;
    unsigned cause_retry_after; /* Retry-After of a refused upgrade, ms (0: none) */
    unsigned cause_code;
    char cause_msg[256];

    /* token */
    char *token_mem;       /* in-memory token (options or set_csrf) */
    char *token_cur;       /* the token of the current connection */
    time_t token_mem_expires; /* of token_mem, from a Set-Cookie (0: none) */
    wsc_store *store;

    /* queue (not yet handed to a connection) and confirmed delivery
       (handed to the current one, not yet confirmed): delivery.h */
    wsc__msgq q;
    wsc__delivery d;
    uint64_t seq;          /* of the last message accepted */
    uint64_t confirmed_total, resent_total, unconfirmed_total;
    size_t lim_n, lim_b; /* the queue limits with their defaults applied (checked per send) */

    wsc__listeners ls;

    wsc__client_json cj; /* JSON in and out (src/json/client_json.c) */
};

/* client.c */
int wsc__cl_emit(wsc_client *c, wsc_client_event *ev); /* non-zero: freed meanwhile */
int wsc__cl_emit_error(wsc_client *c, int code, const char *msg);
void wsc__cl_enter(wsc_client *c);
void wsc__cl_leave(wsc_client *c);
void wsc__cl_wipe_free(char *s);
void wsc__cl_start_connection(wsc_client *c);
void wsc__cl_really_free(wsc_client *c);
void wsc__cl_confirm_hook(wsc_ws *ws, void *user);

/* client_token.c */
int wsc__cl_load_token(wsc_client *c);
int wsc__cl_token_expired(wsc_client *c);
void wsc__cl_expires_key(const wsc_client *c, char *out, size_t cap);
int wsc__cl_take_set_cookie(wsc_client *c, wsc_ws *ws);
/* msg with every occurrence of t1 or t2 (either may be NULL) replaced by
   "***", in out[0..cap) (truncated); msg itself when neither occurs. */
const char *wsc__cl_mask(const char *msg, const char *t1, const char *t2, char *out, size_t cap);
char *wsc__cl_url_with_token(const wsc_client *c, const char *token);
char *wsc__cl_cookie_with_token(const wsc_client *c, const char *token);

/* client_send.c */
int wsc__cl_ws_open(const wsc_client *c);
int wsc__cl_send_json_text_now(wsc_client *c, const char *data, size_t len, int checked);
int wsc__cl_send_now(wsc_client *c, int kind, const void *data, size_t len, json_t *json);
int wsc__cl_keeping(const wsc_client *c);
int wsc__cl_over_limits(const wsc_client *c, size_t len);
int wsc__cl_enqueue(wsc_client *c, int kind, const void *data, size_t len, json_t *json);
int wsc__cl_hand_over(wsc_client *c, wsc__msg *m);
int wsc__cl_drop_queue(wsc_client *c, const char *why);
int wsc__cl_flush_queue(wsc_client *c);
int wsc__cl_client_send(wsc_client *c, int kind, const void *data, size_t len, json_t *json);

#endif
