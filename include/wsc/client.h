/*
 * client.h - the reconnecting JSON WebSocket client with the CSRF double
 * token: `Perl.WebSocket` of the seed, in C.
 *
 *   wsc_client_options o = {0};
 *   o.max_attempts = 7;           // the seed's `max`
 *   o.timeout_ms = 5000;          // the seed's `timeout`
 *   o.on_message = on_message;    // gets the message already parsed as JSON
 *   wsc_client *c = wsc_client_new(loop, "wss://example.com/feed", &o, &err);
 *   json_t *msg = json_pack("{s:s}", "op", "subscribe");
 *   wsc_client_send_json(c, msg);  // not stolen: the caller keeps its reference
 *   json_decref(msg);
 *
 * What it adds to one connection (ws.h):
 *  - it connects at creation and reconnects by itself: after a failure the
 *    policy (below) decides; to reconnect it waits timeout_ms (optionally
 *    with exponential backoff and jitter), fires "reconnect" (attempt
 *    number, delay, cause) and tries again; max_attempts counts consecutive
 *    failures and is reset by every successful open; when the last attempt
 *    fails, "maximum" fires and the client stays CLOSED. The default policy
 *    (wsc_client_default_policy, replaceable with opts.policy):
 *
 *      failure                                         decision
 *      ----------------------------------------------  -----------------------
 *      server close 1000 (normal) or 1005 (no code)    final
 *      server close 1001 going away, 1011, 1012        reconnect
 *        service restart, 1014, 4xxx, any other code
 *      server close 1013 (try again later)             reconnect, backed off
 *                                                      (doubling per attempt,
 *                                                      even without `backoff`)
 *      HTTP 2xx to the upgrade (not a WebSocket)       final
 *      HTTP 3xx (WebSocket does not follow redirects)  final
 *      HTTP 429 or 503 with Retry-After                reconnect after it
 *      HTTP 4xx other than 408 and 429                 final
 *      HTTP 408, 429, 5xx                              reconnect
 *      TLS certificate or host-name verification       final
 *      proxy authentication refused (407; a 401 to     final
 *        CONNECT; SOCKS5 credentials refused)
 *      extension negotiation mismatch                  final
 *      DNS; refused; reset; timeouts; other TLS        reconnect
 *        errors; dead peer (no pong); 1006
 *
 *    Where it differs from the seed (whose rule, no reconnect after 1000,
 *    1001 and 1005, comes from a browser, where 1001 is the page leaving):
 *    a server's 1001 is a restart and is reconnected to; 1013 backs off;
 *    Retry-After is honoured; a 2xx answer is final.
 *    wsc_client_close() stops reconnecting until connect()/reconnect(), and
 *    so does no_reconnect; neither asks the policy.
 *  - every text message is parsed as JSON (wsc's own parser, json.h)
 *    and handed to the message callback as a json_t; text that is not JSON goes to the error
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
 * Confirmed delivery (no server change; opts.delivery). RFC 6455 obliges
 * the server to answer every Ping with a Pong and to process frames in
 * order, so a Pong proves its WebSocket stack read everything sent before
 * the Ping. The client keeps each message it handed to a connection until a
 * Pong confirms it: after each write batch that carried messages it sends a
 * Ping whose payload is "wsc-ack <count>" (one small frame per batch, not
 * per message; at most one unanswered, so a busy connection sends about one
 * per round trip, plus one every 16 messages inside a long batch so that a
 * drop in the middle of it still finds most of it confirmed; that interval
 * doubles at each Pong of the connection, up to 256, so a connection that
 * has answered costs one Ping per 256 messages at most and after a drop
 * at-least-once may send up to that many again); a completed
 * closing handshake that the client started confirms everything (the
 * server's Close answers ours, after every frame before it). One that the
 * server started confirms nothing more: a message written while its Close
 * was on the way crossed it, and a server may discard what arrives after
 * its Close (RFC 6455 1.4), so it is treated as an unclean drop. On an
 * unclean drop (or such a close):
 *  - messages not completely written to the socket are always sent again
 *    on the next connection, before anything queued later (the server
 *    cannot have them; with at-least-once the written ones below, being
 *    older, go before them: the original order is kept);
 *  - messages written but not confirmed follow the delivery option:
 *    WSC_DELIVERY_AT_MOST_ONCE (default, the browser's semantics but never
 *    silent): each is handed to the application in an UNCONFIRMED event
 *    (its bytes and sequence number) and not sent again;
 *    WSC_DELIVERY_AT_LEAST_ONCE: sent again, in the original order, before
 *    anything newer; the server may then see a second copy of those it read
 *    after the last Pong: a RESENT event says how many were sent again;
 *    WSC_DELIVERY_OFF: nothing is kept (no Ping), as a browser.
 * Unconfirmed messages count in bufferedAmount (a message leaves it when
 * confirmed) and in queue_max_messages/queue_max_bytes (a send beyond them
 * fails with WSC_EQUEUEFULL even while OPEN: wait for confirmations). A peer
 * that never answers pings is the heartbeat's dead peer. Limits of the
 * guarantee: an intermediary that answers Pings itself (a proxy that
 * terminates WebSocket and opens its own connection to the server) confirms
 * what IT read, not what the server read: a drop between it and the server
 * can then lose confirmed messages. Pings from the application (on
 * wsc_client_socket()) and the heartbeat's are told apart by payload: do not
 * send Pings starting with "wsc-ack ". Confirmation is that the server's
 * WebSocket stack read a message, not that the application acted on it.
 * Messages still waiting when the client stops for good are reported through
 * the error callback (WSC_ECLOSED, with their count) before any "maximum"
 * event, never dropped silently.
 *
 * The token provided by the server: when a handshake response (101, or a
 * refusal) carries Set-Cookie for cookie_name, the token is replaced for
 * this origin (in the store, or in memory with `token`/no_store) and used
 * from then on (JSON messages, the next connect); Max-Age=0 or a past
 * Expires deletes it; a future Expires/Max-Age is kept beside it in the
 * store (key "<token_key>.expires") and an expired token is not sent; a
 * Path that does not match the URL's path, or a Domain that does not match
 * its host, is ignored (RFC 6265). no_set_cookie turns this off.
 *
 * Threads and callbacks: as ws.h. Callbacks may call any function here,
 * including wsc_client_free() (deferred until the callback returns).
 * The token never appears in any error message or log line of wsc: where
 * such a text quotes the server (a status reason, a close reason), every
 * spelling of the token in it, raw or percent-encoded (%XX in either case,
 * for any of its bytes), is replaced by "***".
 */
#ifndef WSC_CLIENT_H
#define WSC_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
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
    WSC_CLIENT_MAXIMUM = 6,   /* the seed's onmaximum: max_attempts reached, stopped */
    WSC_CLIENT_UNCONFIRMED = 7, /* at-most-once: a written message was not confirmed
                                   before a drop and will not be sent again */
    WSC_CLIENT_RESENT = 8       /* at-least-once: `count` written, unconfirmed
                                   messages are being sent again (maybe duplicates) */
};

/* opts.delivery */
enum wsc_delivery { WSC_DELIVERY_AT_MOST_ONCE = 0, WSC_DELIVERY_AT_LEAST_ONCE = 1, WSC_DELIVERY_OFF = 2 };

/* What the reconnect policy is asked about. */
typedef struct wsc_client_failure {
    int cause;             /* enum wsc_err: WSC_ECLOSED for a close by the server
                              (code, was_clean), WSC_EHTTP (http_status), ... */
    unsigned code;         /* the close code (1006: no Close frame) */
    int was_clean;
    int http_status;       /* the server's status if it refused the upgrade, else 0 */
    unsigned retry_after_ms; /* its Retry-After (0: none; at most a day) */
    const char *message;   /* one line, no secrets */
    unsigned attempt;      /* the attempt a reconnect would be (1 = first) */
    unsigned delay_ms;     /* the delay the options give (timeout, backoff, jitter) */
    unsigned backoff_delay_ms; /* timeout_ms doubled per attempt, capped by backoff_max_ms */
} wsc_client_failure;

/* Policy decisions. */
enum wsc_reconnect_decision {
    WSC_RECONNECT_DEFAULT = 0, /* reconnect after f->delay_ms */
    WSC_RECONNECT_FINAL = 1,   /* stop for good (CLOSED) */
    WSC_RECONNECT_AFTER = 2    /* reconnect after *delay_ms (set by the policy) */
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

    /* UNCONFIRMED: seq (data, len, binary: the message as sent; a JSON
       message's text includes the token). RESENT: count messages, sequence
       numbers seq..seq_last. */
    uint64_t seq, seq_last;
    size_t count;
    /* MESSAGE (appended): the parsed message as a read-only view (json.h):
       its root value; "none" (type WSC_JSON_NONE) when the message was not
       parsed (binary without json_binary, or no_json). Valid only during the
       callback, like every pointer here (the document is reused for the next
       message): wsc_json_doc_clone(v.doc) keeps it. Strings without escapes
       point into `data`. wsc_json_to_jansson(view) builds a json_t on
       request when json_view_only is set. */
    wsc_json view;
} wsc_client_event;

/* A reconnect policy: returns an enum wsc_reconnect_decision (for AFTER,
   sets *delay_ms). Called when a connection or an attempt failed and the
   client would otherwise decide itself; user is opts.policy_user. */
typedef int (*wsc_client_policy_fn)(wsc_client *c, const wsc_client_failure *f, unsigned *delay_ms, void *user);

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
    const char *json_property; /* default "csrf"; non-empty UTF-8 */

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

    /* Confirmed delivery (see above): enum wsc_delivery, default at-most-once. */
    int delivery;
    wsc_client_cb on_unconfirmed;
    wsc_client_cb on_resent;
    /* The reconnect policy; NULL: wsc_client_default_policy. */
    wsc_client_policy_fn policy;
    void *policy_user;
    /* 1: ignore Set-Cookie for the token in handshake responses. */
    int no_set_cookie;
    /* 1: hand JSON messages over as the view only (ev->view;
       ev->json is NULL), skipping the json_t that is otherwise built from
       it: the transport-speed path. 0 (default): both, as before. */
    int json_view_only;
    uint64_t reserved[16]; /* zero (else WSC_EINVAL); future fields come from here: abi/README.md */
} wsc_client_options;

/*
 * The default reconnect policy: the table at the top of this file, as a pure
 * function of f (no client, no clock). Returns an enum
 * wsc_reconnect_decision; for WSC_RECONNECT_AFTER sets *delay_ms (may be
 * NULL). f NULL: WSC_RECONNECT_FINAL. A policy hook may call it for the
 * cases it does not handle. The client calls the policy with *delay_ms
 * preset to f->delay_ms; not after wsc_client_close() or with no_reconnect;
 * a reconnect it allows still counts against max_attempts.
 */
WSC_API int wsc_client_default_policy(const wsc_client_failure *f, unsigned *delay_ms);

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
   WSC_OK; nothing happens if it is already connecting or open. WSC_EINVAL if
   c is NULL. */
WSC_API int wsc_client_connect(wsc_client *c);

/* Drops the current connection (Close 1000 "reconnect") and connects again
   at once; attempts are reset. Like connect() if the client is CLOSED.
   WSC_OK; WSC_EINVAL if c is NULL; WSC_ENOMEM if the Close frame cannot be
   buffered (the client reconnects when that connection ends). */
WSC_API int wsc_client_reconnect(wsc_client *c);

/* close(code, reason) with the browser's rules (ws.h: code 0 or 1000 or
   3000-4999, reason <= 123 bytes of UTF-8 and none with code 0; else
   WSC_EINVAL / WSC_EUTF8 and nothing happens; WSC_EINVAL for c NULL). Stops
   reconnecting. Queued messages are discarded and reported (error event,
   WSC_ECLOSED). WSC_ENOMEM if the Close frame cannot be buffered: the client
   no longer reconnects, but the connection stays open until it ends. */
WSC_API int wsc_client_close(wsc_client *c, unsigned code, const char *reason);

/*
 * send(): a text message (valid UTF-8, else WSC_EUTF8) or a binary one.
 * OPEN: handed to the connection (and kept until confirmed, see above).
 * CONNECTING/reconnecting: queued (copied) and sent in order once open.
 * WSC_EQUEUEFULL if queued + unconfirmed messages would exceed the queue
 * limits (nothing queued), WSC_ESTATE if not OPEN and the queue is off.
 * CLOSED (stopped for good: closed by the application, maximum reached, a
 * final failure) or closing by the application: WSC_ECLOSED, nothing
 * queued. WSC_EINVAL for c NULL or data NULL
 * with len > 0. Other errors as wsc_ws_send_text(). Every message accepted gets
 * the next sequence number (wsc_client_last_seq()).
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

/*
 * json() of JSON text the application already has: text[0..len) is
 * validated (UTF-8, RFC 8259, no object with a duplicate key: else
 * WSC_EJSON and nothing is sent or queued) and, if a token exists, must be
 * an object (else WSC_EINVAL, "would lose the token"); its member "csrf"
 * (json_property) is then added after its other members, or replaces the
 * one it had (the other members are copied byte for byte, no DOM is
 * built). Without a token the text is sent exactly as given. A queued
 * message gets the token current when it is actually sent (it is copied
 * and validated again then). Same state rules and other errors as send.
 * Cost: one validating parse; then, on an OPEN connection without
 * permessage-deflate or fragment_size, the text goes into the frame in
 * pieces (its members and the csrf member, masked as they are copied:
 * one copy, as send_text's) and is kept for confirmation by reference to
 * that frame, not copied again (about 16k instructions for an 880-byte
 * object against 30k for send_json; docs/PERFORMANCE.md).
 */
WSC_API int wsc_client_send_json_text(wsc_client *c, const char *text, size_t len);

/* wsc_client_send_json_text() of a view's text (wsc_json_raw()): e.g. a
   received message or a part of one, forwarded. WSC_EINVAL if value is
   none; otherwise as send_json_text. */
WSC_API int wsc_client_send_json_view(wsc_client *c, wsc_json value);

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
   queue: bufferedAmount = the queued bytes + the unconfirmed ones (with
   WSC_DELIVERY_OFF: the connection's + the queued bytes). */
WSC_API const char *wsc_client_url(const wsc_client *c); /* as given, without the token */
WSC_API const char *wsc_client_protocol(const wsc_client *c);
WSC_API const char *wsc_client_extensions(const wsc_client *c);
WSC_API const char *wsc_client_binary_type(const wsc_client *c);
WSC_API uint64_t wsc_client_buffered_amount(const wsc_client *c);
/* Consecutive failed attempts so far (reset on open). */
WSC_API unsigned wsc_client_attempts(const wsc_client *c);
/* Messages waiting in the queue. */
WSC_API size_t wsc_client_queued(const wsc_client *c);
/* The sequence number of the last message accepted by a send (1 for the
   first, 0 before any): UNCONFIRMED and RESENT events name messages by it. */
WSC_API uint64_t wsc_client_last_seq(const wsc_client *c);
/* Messages handed to connections and not yet confirmed. */
WSC_API size_t wsc_client_unconfirmed(const wsc_client *c);
/* Totals since creation: messages confirmed, sent again (at-least-once),
   reported unconfirmed (at-most-once). */
WSC_API uint64_t wsc_client_confirmed_total(const wsc_client *c);
WSC_API uint64_t wsc_client_resent_total(const wsc_client *c);
WSC_API uint64_t wsc_client_unconfirmed_total(const wsc_client *c);

#ifdef __cplusplus
}
#endif
#endif /* WSC_CLIENT_H */
