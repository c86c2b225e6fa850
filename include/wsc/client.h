/*
 * client.h - the reconnecting JSON WebSocket client with the CSRF double
 * token: `Perl.WebSocket` of the seed, in C.
 *
 *   wsc_client_options o = {0};
 *   o.max_attempts = 7;           // the seed's `max`
 *   o.timeout_ms = 5000;          // the seed's `timeout`
 *   o.on_message = on_message;    // gets the message already parsed as JSON
 *   wsc_client *c = wsc_client_new(loop, "wss://example.com/feed", &o, &err);
 *   wsc_client_send_json(c, json_pack("{s:s}", "op", "subscribe"));
 *
 * What it adds to one connection (ws.h):
 *  - it connects at creation and reconnects by itself: after every close
 *    except 1000, 1001 and 1005, and after every transport failure, it waits
 *    timeout_ms (optionally with exponential backoff and jitter), fires
 *    "reconnect" (attempt number, delay, cause) and tries again; max_attempts
 *    counts consecutive failures and is reset by every successful open; when
 *    the last attempt fails, "maximum" fires and the client stays CLOSED.
 *    Failures that retrying cannot heal are final (no reconnect):
 *
 *      cause                                           final?
 *      ----------------------------------------------  ------
 *      TLS certificate or host-name verification       yes
 *      HTTP 3xx (WebSocket does not follow redirects)  yes
 *      HTTP 4xx other than 408 and 429                 yes
 *      proxy authentication refused (407)              yes
 *      extension negotiation mismatch                  yes
 *      HTTP 408, 429, 5xx; DNS; refused; reset;        no
 *      timeouts; other TLS errors; dead peer
 *      (no pong); abnormal close (1006); server
 *      close with any code but 1000/1001/1005
 *
 *    wsc_client_close() stops reconnecting until connect()/reconnect().
 *  - every text message is parsed as JSON (jansson) and handed to the
 *    message callback as a json_t; text that is not JSON goes to the error
 *    callback with the raw text and the parser's line and column (never
 *    dropped); binary messages come as bytes;
 *  - messages sent while connecting or reconnecting wait in a bounded queue
 *    and go out in order once open; bufferedAmount includes them;
 *  - the CSRF "double authentication token": read at every (re)connect from
 *    a persistent local store (store.h) or from the program, sent as the
 *    cookie csrf_token=<token> and as the query parameter csrf=<token>, and
 *    added as the property "csrf" of every JSON message sent with
 *    wsc_client_send_json() (all three names configurable);
 *  - a heartbeat: a Ping every ping_interval_ms; no Pong within
 *    ping_timeout_ms means a dead connection: it is dropped (1006) and the
 *    client reconnects;
 *  - listeners (addEventListener) belong to the client and survive reconnects.
 *
 * Messages handed to an OPEN connection are written to its socket; if the
 * connection then drops before the server reads them they are lost, as in a
 * browser (WebSocket has no acknowledgements). Messages still waiting in the
 * queue when the client stops for good are reported through the error
 * callback (WSC_ECLOSED, with their count), never dropped silently.
 *
 * Threads and callbacks: as ws.h. Callbacks may call any function here,
 * including wsc_client_free() (deferred until the callback returns).
 * The token never appears in any error message or log line of wsc.
 */
#ifndef WSC_CLIENT_H
#define WSC_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "ws.h"
#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_client wsc_client;

enum wsc_client_event_type {
    WSC_CLIENT_OPEN = 1,
    WSC_CLIENT_MESSAGE = 2,
    WSC_CLIENT_ERROR = 3,
    WSC_CLIENT_CLOSE = 4,
    WSC_CLIENT_RECONNECT = 5, /* the seed's onreconnect: an attempt is about to be made */
    WSC_CLIENT_MAXIMUM = 6    /* the seed's onmaximum: max_attempts reached, stopped */
};

/* Pointers are valid only during the callback. */
typedef struct wsc_client_event {
    int type; /* enum wsc_client_event_type */
    /* The connection's own event (OPEN, MESSAGE, ERROR from the connection,
       CLOSE), with origin, lastEventId, code, reason, wasClean...; NULL for
       RECONNECT, MAXIMUM and for errors of the client itself. */
    const wsc_ws_event *ws_event;

    /* MESSAGE */
    json_t *json;        /* the parsed message (text, or binary if json_binary);
                            NULL for a binary message. Borrowed: json_incref()
                            it to keep it after the callback. */
    const uint8_t *data; /* the raw payload */
    size_t len;
    int binary;

    /* ERROR: a connection error, WSC_EJSON (data/len: the raw text;
       json_line, json_column, message: what the parser said), WSC_ESTORE
       (the token store failed), WSC_ECLOSED (queued messages discarded). */
    int error;
    const char *message;
    int json_line, json_column;

    /* CLOSE: code, reason, was_clean (also in ws_event); whether the client
       will reconnect, and after how long. */
    unsigned code;
    const char *reason;
    int was_clean;
    int will_reconnect;
    unsigned reconnect_delay_ms;

    /* RECONNECT: attempt number (1 = first reconnect after a failure),
       the delay that was waited, and the cause: an enum wsc_err value
       (WSC_ECLOSED for a close by the server, whose code is in `code`) and
       a message. MAXIMUM: attempt = the number of attempts made. */
    unsigned attempt;
    unsigned delay_ms;
    int cause;
    const char *cause_message;
} wsc_client_event;

typedef void (*wsc_client_cb)(wsc_client *c, const wsc_client_event *ev, void *user);

/*
 * Options: zero-initialise; every field left 0/NULL takes the default
 * written beside it.
 */
typedef struct wsc_client_options {
    /* Reconnection (the seed's `max` and `timeout`). */
    unsigned max_attempts;  /* consecutive failed attempts before "maximum";
                               0: unlimited (the seed's default: infinity) */
    unsigned timeout_ms;    /* delay before each attempt; default 1000 */
    int backoff;            /* 1: double the delay after each failure
                               (off by default, as in the seed) */
    unsigned backoff_max_ms; /* cap of the backed-off delay; default 30000 */
    unsigned jitter_pct;    /* randomise each delay by +-this percent; default 0 */
    int no_reconnect;       /* 1: never reconnect (one connection only) */

    /* Messages. */
    int no_json;            /* 1: hand text over unparsed (json NULL, no EJSON errors) */
    int json_binary;        /* 1: parse binary messages as JSON too */

    /* The send queue while connecting/reconnecting. */
    int no_queue;           /* 1: sending while not OPEN fails with WSC_ESTATE */
    size_t queue_max_messages; /* default 1024 */
    size_t queue_max_bytes;    /* default 16 MiB */

    /* The CSRF double token. */
    const char *token;       /* in-memory token: used instead of the store */
    int no_store;            /* 1: no persistent store (only `token`, if any) */
    const char *store_path;  /* default: $XDG_STATE_HOME/wsc/tokens.db */
    const char *token_key;   /* store key; default "csrf_token" */
    const char *cookie_name; /* default "csrf_token" */
    const char *query_param; /* default "csrf" */
    const char *json_property; /* default "csrf" */

    /* Heartbeat. */
    unsigned ping_interval_ms; /* default 20000 */
    unsigned ping_timeout_ms;  /* default 20000 */
    int no_heartbeat;          /* 1: no pings */

    /* The connection: subprotocols, headers, cookies, TLS, proxy, timeouts,
       limits, deflate (see ws.h). Its callbacks and `user` are ignored: use
       the ones below; its `trace` is called with `user` below. Its `cookie`
       is merged with the token cookie. */
    wsc_ws_options ws;

    /* Callbacks (each may be NULL), with `user`. */
    wsc_client_cb on_open;
    wsc_client_cb on_message;  /* the seed's onmessage(json, event) */
    wsc_client_cb on_error;
    wsc_client_cb on_close;
    wsc_client_cb on_reconnect;
    wsc_client_cb on_maximum;
    void *user;
    uint64_t reserved[16]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_client_options;

/*
 * Creates the client and starts connecting, as the seed's constructor does.
 * Returns NULL and fills err on a malformed URL or options, an invalid
 * in-memory token (WSC_EINVAL) or WSC_ENOMEM. Network and store failures
 * come later as events. The options and URL are copied.
 */
WSC_API wsc_client *wsc_client_new(wsc_loop *loop, const char *url, const wsc_client_options *opts, wsc_error *err);

/* Frees the client at once (socket closed, no more callbacks, queue dropped).
   Safe inside its callbacks (deferred until the callback returns). */
WSC_API void wsc_client_free(wsc_client *c);

/* (Re)starts a client that is CLOSED (closed by the application, maximum
   reached, or a final failure): attempts are reset and it connects now.
   WSC_OK; nothing happens if it is already connecting or open. */
WSC_API int wsc_client_connect(wsc_client *c);

/* Drops the current connection (Close 1000 "reconnect") and connects again
   at once; attempts are reset. Like connect() if the client is CLOSED. */
WSC_API int wsc_client_reconnect(wsc_client *c);

/* close(code, reason) with the browser's rules (ws.h: code 0 or 1000 or
   3000-4999, reason <= 123 bytes of UTF-8; else WSC_EINVAL / WSC_EUTF8 and
   nothing happens). Stops reconnecting. Queued messages are discarded and
   reported (error event, WSC_ECLOSED). */
WSC_API int wsc_client_close(wsc_client *c, unsigned code, const char *reason);

/*
 * send(): a text message (valid UTF-8, else WSC_EUTF8) or a binary one.
 * OPEN: handed to the connection. CONNECTING/reconnecting: queued (copied)
 * and sent in order once open; WSC_EQUEUEFULL if the queue is full (nothing
 * queued), WSC_ESTATE if the queue is off. CLOSED or closing for good:
 * WSC_ECLOSED. Other errors as wsc_ws_send_text().
 */
WSC_API int wsc_client_send_text(wsc_client *c, const char *data, size_t len);
WSC_API int wsc_client_send_binary(wsc_client *c, const void *data, size_t len);

/*
 * json(): sends a JSON value as a text message. If a token exists, the value
 * must be an object: a copy of it gets the property "csrf" (json_property)
 * set to the token (the caller's object is not modified); a non-object is
 * WSC_EINVAL ("would lose the token"). Without a token any value is sent.
 * A queued JSON message gets the token current when it is actually sent.
 * Numbers are written with the shortest precision that reads back to the
 * same value (0.1 is sent as 0.1).
 * Same state rules and errors as send, plus WSC_EJSON (not serialisable,
 * e.g. NaN). The value is not stolen: the caller keeps its reference.
 */
WSC_API int wsc_client_send_json(wsc_client *c, json_t *value);

/* The current token (the seed's csrf()), or NULL if none. Valid until the
   next call into the client. Reads the store if no connection has yet. */
WSC_API const char *wsc_client_csrf(wsc_client *c);

/* Replaces the token: in the store (persistently, for this origin) unless
   the client uses an in-memory token or no_store, in which case in memory.
   NULL removes it. Used from the next (re)connect and for the next JSON
   message. WSC_EINVAL if it cannot travel in a cookie; WSC_ESTORE. */
WSC_API int wsc_client_set_csrf(wsc_client *c, const char *token, wsc_error *err);

/* addEventListener: any number per type; they survive reconnects. Returns
   an id > 0 or WSC_EINVAL/WSC_ENOMEM. wsc_client_off removes one (safe in
   callbacks). */
WSC_API int wsc_client_on(wsc_client *c, int type, wsc_client_cb cb, void *user);
WSC_API int wsc_client_off(wsc_client *c, int id);

/* State: readyState is CONNECTING while connecting or waiting to reconnect,
   OPEN, CLOSING while the current connection closes, CLOSED once stopped. */
WSC_API int wsc_client_ready_state(const wsc_client *c);
WSC_API int wsc_client_is_connecting(const wsc_client *c);
WSC_API int wsc_client_is_connected(const wsc_client *c);
WSC_API int wsc_client_is_closing(const wsc_client *c);
WSC_API int wsc_client_is_closed(const wsc_client *c);

/* The current connection (the seed's socket()/object()), or NULL between
   connections. Do not free it; it is replaced at every reconnect. */
WSC_API wsc_ws *wsc_client_socket(const wsc_client *c);

/* Accessors forwarded from the current connection ("" when none), plus the
   queue: bufferedAmount = the connection's + the queued bytes. */
WSC_API const char *wsc_client_url(const wsc_client *c); /* as given, without the token */
WSC_API const char *wsc_client_protocol(const wsc_client *c);
WSC_API const char *wsc_client_extensions(const wsc_client *c);
WSC_API const char *wsc_client_binary_type(const wsc_client *c);
WSC_API uint64_t wsc_client_buffered_amount(const wsc_client *c);
/* Consecutive failed attempts so far (reset on open). */
WSC_API unsigned wsc_client_attempts(const wsc_client *c);
/* Messages waiting in the queue. */
WSC_API size_t wsc_client_queued(const wsc_client *c);

#ifdef __cplusplus
}
#endif
#endif /* WSC_CLIENT_H */
