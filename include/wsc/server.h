/*
 * server.h - the server role: accept WebSocket connections on TCP (or a Unix
 * socket), optionally with TLS, on a wsc_loop. It serves `wsc serve`, the
 * demo, the benchmarks and the tests; it is a complete RFC 6455 server
 * (handshake checks, masking rules, fragmentation, permessage-deflate,
 * closing handshake in which the server closes TCP first).
 *
 *   wsc_server_options o = {0};
 *   o.port = 0;                      // pick a free port
 *   o.on_message = echo;             // wsc_sconn_send_*(c, ...) from it
 *   wsc_server *s = wsc_server_new(loop, &o, &err);
 *   printf("listening on %u\n", wsc_server_port(s));
 *
 * Threads: as ws.h (the loop's thread only). Callbacks may send, close and
 * free connections, and may free the server (deferred until they return).
 */
#ifndef WSC_SERVER_H
#define WSC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_server wsc_server;
typedef struct wsc_sconn wsc_sconn; /* one accepted connection */

/* The same numbers as the client's enum wsc_ws_event_type (ws.h): both
   roles run one connection engine and report the same events. */
enum wsc_server_event_type {
    WSC_SRV_OPEN = 1,    /* handshake accepted */
    WSC_SRV_MESSAGE = 2, /* a whole message */
    WSC_SRV_ERROR = 3,   /* it was failed (protocol error, I/O error); CLOSE follows */
    WSC_SRV_CLOSE = 4,   /* the connection ended (always the last event) */
    WSC_SRV_PING = 5,    /* a Ping arrived (already answered with a Pong) */
    WSC_SRV_PONG = 6     /* a Pong arrived */
};

/* Pointers are valid during the callback only. */
typedef struct wsc_server_event {
    int type;
    int binary;          /* MESSAGE: 0 text (valid UTF-8), 1 binary */
    const uint8_t *data; /* MESSAGE, PING, PONG */
    size_t len;
    unsigned code;       /* CLOSE: the client's code, 1005, or 1006 */
    const char *reason;  /* CLOSE */
    int was_clean;       /* CLOSE */
    int error;           /* ERROR: an enum wsc_err value */
    const char *message; /* ERROR */
} wsc_server_event;

typedef void (*wsc_server_cb)(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user);

/* What the client asked for, for the accept hook. Strings are NUL-terminated
   copies valid during the hook; absent ones are "". */
typedef struct wsc_server_request {
    const char *target; /* request target as sent: path?query */
    const char *path;
    const char *query;  /* without '?' */
    const char *cookie; /* the Cookie header */
    const char *origin;
    const char *protocols; /* Sec-WebSocket-Protocol as sent (comma list) */
    const char *peer;      /* "127.0.0.1:54321" or "unix" */
} wsc_server_request;

/*
 * The accept hook: return 0 to accept, or an HTTP status (400-599; any
 * other non-zero value sends 403) to refuse the upgrade; `reason`
 * (reason_cap bytes) may then be filled with a short text for the response
 * body. Called once the request passed every RFC 6455 check. May call
 * wsc_sconn_set_user(). NULL: accept everything.
 */
typedef int (*wsc_server_accept_fn)(wsc_server *s, wsc_sconn *c, const wsc_server_request *req, void *user,
                                    char *reason, size_t reason_cap);

/*
 * The plain-HTTP hook: called for a request that is not a WebSocket upgrade
 * (no Upgrade header), e.g. a browser's page load. It may append a complete
 * HTTP response to `response` (wsc_http_error_response() builds one with any
 * status, headers and body) and return 1: the server sends it and closes
 * the connection. Return 0 to answer as without the hook (HTTP 400). The
 * strings of req are valid during the call; req->protocols is "".
 */
typedef int (*wsc_server_http_fn)(wsc_server *s, const wsc_server_request *req, void *user, wsc_buf *response);

/* The double-submit CSRF check (the seed's "double authentication token"),
 * done by the server (wsc_server_options.csrf):
 *   - the upgrade request must carry the token both as the cookie
 *     `cookie_name` and as the query parameter `query_param`, each exactly
 *     once, non-empty, and equal (compared in constant time). Otherwise it
 *     is refused: 400 if either is given more than once, 403 if either is
 *     missing or empty or they differ (the body says which, never the
 *     token);
 *   - every text message must be a JSON object whose `json_property` is a
 *     string equal to the connection's token; a JSON text with any key given
 *     twice is refused. Text that is not JSON, and binary messages, are
 *     refused too unless allow_non_json. A refused message is not delivered:
 *     on_error gets WSC_ECSRF and the connection is closed with 1008
 *     ("CSRF token missing or wrong").
 * The strings are copied by wsc_server_new(). */
typedef struct wsc_server_csrf {
    const char *cookie_name;   /* default "csrf_token" */
    const char *query_param;   /* default "csrf" */
    const char *json_property; /* default "csrf" */
    int allow_non_json;        /* 1: text that is not JSON and binary messages pass; default 0 */
    uint64_t reserved[8];      /* zero (else WSC_EINVAL) */
} wsc_server_csrf;

/* A refused upgrade, for logging: the status sent (400 ... 503) and why, in
   one line without secrets. req is as for the accept hook; its strings are
   valid during the call. */
typedef void (*wsc_server_refuse_fn)(wsc_server *s, const wsc_server_request *req, int status, const char *why,
                                     void *user);

typedef struct wsc_server_options {
    const char *host;      /* address to bind; default "127.0.0.1" */
    uint16_t port;         /* 0: pick a free port (see wsc_server_port) */
    const char *unix_path; /* listen on this Unix socket instead */
    const char *tls_cert;  /* PEM certificate chain: serve wss */
    const char *tls_key;
    /* Supported subprotocols, NULL-terminated: the first one the client
       offers that is in this list is selected. */
    const char *const *protocols;
    int no_deflate;              /* 1: do not accept permessage-deflate */
    int deflate_no_context_takeover; /* server_no_context_takeover when offered deflate */
    size_t deflate_threshold;    /* default 64 */
    int deflate_mem_level;       /* default 8 */
    uint64_t max_message_size;   /* default 64 MiB (larger closes with 1009) */
    size_t max_header_size;      /* default 16 KiB */
    size_t max_buffered;         /* per connection send buffer; default 256 MiB */
    unsigned handshake_timeout_ms; /* default 10000 */
    unsigned close_timeout_ms;     /* default 5000 */
    unsigned max_connections;      /* default 100000; more are refused (503) */
    int backlog;                   /* listen backlog; default 4096 */

    wsc_server_accept_fn on_accept;
    wsc_server_cb on_open;
    wsc_server_cb on_message;
    wsc_server_cb on_close;
    wsc_server_cb on_error;
    wsc_server_cb on_pong;
    void *user;

    /* Budgets (what one hostile client, or many, may make the server hold).
     *
     * memory_budget: bytes the server buffers for all its connections
     *   together: reassembly of messages (and their inflated output), send
     *   buffers and request heads. Storage is counted by its capacity when it
     *   is reserved (a frame header announcing 40 MiB counts 40 MiB before a
     *   byte of it arrives), so the process's resident memory stays below
     *   the budget plus its fixed cost (code, TLS, zlib streams: up to ~300
     *   KiB per connection that uses permessage-deflate with context
     *   takeover, which is not counted) plus one read's inflated output.
     *   0: wsc_server_default_budget(); UINT64_MAX: no budget.
     *   Messages being received may use at most three quarters of it
     *   together, so that a flood of big messages cannot starve the send
     *   buffers and handshakes of everyone else.
     *   Over budget, the connection whose growth would exceed it is failed
     *   and every other connection goes on:
     *     - a message being received: closed with 1009 (message too big);
     *     - a send (wsc_sconn_send_*, echo, broadcast): the send returns
     *       WSC_ETOOBIG and that connection is closed with 1008 (policy
     *       violation: it does not read what it is sent fast enough);
     *     - a request head: refused with HTTP 503.
     * message_timeout_ms: longest an unfinished message may hold storage
     *   (from its first stored byte to its last frame); over it the
     *   connection is closed with 1008. 0: 60000.
     * message_memory_max: most storage one connection's message (finished
     *   or not) may hold while it is received; beyond it the connection is
     *   closed with 1009. 0: a quarter of the memory budget. (Storage grows
     *   by doubling, so a message of n bytes may need up to 2n; one that
     *   arrives whole in one read needs none.) max_message_size still
     *   bounds the message itself.
     * idle_timeout_ms: a connection that sent nothing for this long is
     *   closed with 1001 ("idle timeout"). 0: never.
     * max_per_address: connections at once from one IP address, the ones
     *   still in their handshake included; more are closed as soon as they
     *   are accepted (nothing is read or written). 0: no limit. Unix-socket
     *   clients all count as one address. Costs one pass over the
     *   connection list per accept when set. */
    uint64_t memory_budget;
    unsigned message_timeout_ms;
    unsigned idle_timeout_ms;
    unsigned max_per_address;
    uint64_t message_memory_max;
    wsc_server_http_fn on_http; /* NULL: plain HTTP requests get 400 */
    wsc_server_cb on_ping;      /* a Ping arrived (data, len); NULL: not reported */
    const wsc_server_csrf *csrf; /* the double-submit check; NULL: none (see above) */
    wsc_server_refuse_fn on_refuse; /* NULL: refusals are not reported */
    uint64_t reserved[13]; /* zero (else WSC_EINVAL); future fields come from here: abi/README.md */
} wsc_server_options;

/* The memory budget used when memory_budget is 0: a quarter of the
   machine's physical memory, at least 64 MiB and at most 1 GiB. */
WSC_API uint64_t wsc_server_default_budget(void);

/* Binds, listens and starts accepting; opts NULL: the defaults. NULL with
   err on failure, nothing left open (WSC_EIO with the OS reason, e.g.
   "address already in use"; WSC_EDNS if the host cannot be resolved;
   WSC_ETLS for certificate/key problems; WSC_EINVAL: no loop, a certificate
   without a key or the reverse, a Unix socket path too long; WSC_ENOMEM). */
WSC_API wsc_server *wsc_server_new(wsc_loop *loop, const wsc_server_options *opts, wsc_error *err);

/* Closes the listener and every connection at once (no closing handshake,
   no more callbacks). Safe inside callbacks (deferred). */
WSC_API void wsc_server_free(wsc_server *s);

/* Stops accepting; existing connections go on. */
WSC_API void wsc_server_stop_listening(wsc_server *s);

/* The bound port (useful with port 0). */
WSC_API uint16_t wsc_server_port(const wsc_server *s);
/* Open connections right now. */
WSC_API size_t wsc_server_connections(const wsc_server *s);
/* Bytes of the memory budget in use right now, and the budget in force. */
WSC_API uint64_t wsc_server_memory_used(const wsc_server *s);
WSC_API uint64_t wsc_server_memory_budget(const wsc_server *s);

/* Calls fn for every OPEN connection (e.g. to broadcast). fn may send and
   close; it must not free the server. */
WSC_API void wsc_server_foreach(wsc_server *s, void (*fn)(wsc_sconn *c, void *arg), void *arg);

/* Sending, as ws.h: text must be valid UTF-8; frames coalesce into one write
   per loop iteration. WSC_OK, WSC_EUTF8 (checked first, in every state),
   WSC_ECLOSED (not open), WSC_ETOOBIG (over max_buffered; or over the
   memory budget, which also starts closing the connection with 1008: it is
   CLOSING after the call), WSC_EINVAL (c NULL, data NULL with len > 0),
   WSC_ENOMEM. wsc_sconn_ping: WSC_OK, WSC_ECLOSED (not open, or c NULL),
   WSC_EINVAL (over 125 bytes), WSC_ENOMEM. The message is not sent on
   error. */
WSC_API int wsc_sconn_send_text(wsc_sconn *c, const char *data, size_t len);
WSC_API int wsc_sconn_send_binary(wsc_sconn *c, const void *data, size_t len);
WSC_API int wsc_sconn_ping(wsc_sconn *c, const void *data, size_t len);

/* Starts the closing handshake with any code a Close frame may carry
   (wsc_close_code_valid, e.g. 1008 policy violation) or 0 for none; reason
   <= 123 bytes of UTF-8. The server closes TCP once the client answers (or
   after the close timeout). WSC_OK, also when the connection is not open:
   already closing or closed, or still in its handshake (from on_accept:
   refuse it there instead); then nothing happens and the code and reason
   are not checked. When open: WSC_EINVAL (c NULL, a code that may not be
   sent, a reason with code 0 or over 123 bytes), WSC_EUTF8, WSC_ENOMEM;
   nothing is sent on error and the connection stays OPEN. */
WSC_API int wsc_sconn_close(wsc_sconn *c, unsigned code, const char *reason);

/* Drops the connection at once (close event 1006). */
WSC_API void wsc_sconn_terminate(wsc_sconn *c);

WSC_API void wsc_sconn_set_user(wsc_sconn *c, void *user);
WSC_API void *wsc_sconn_get_user(const wsc_sconn *c);
WSC_API const char *wsc_sconn_protocol(const wsc_sconn *c);   /* "" if none */
WSC_API const char *wsc_sconn_extensions(const wsc_sconn *c); /* "" if none */
WSC_API const char *wsc_sconn_peer(const wsc_sconn *c);
/* Application bytes accepted by send and not yet written to the socket
   (as the browser's bufferedAmount, ws.h): frame headers, compression and
   control frames do not count. */
WSC_API uint64_t wsc_sconn_buffered_amount(const wsc_sconn *c);
WSC_API int wsc_sconn_ready_state(const wsc_sconn *c); /* ws.h's values */

#ifdef __cplusplus
}
#endif
#endif /* WSC_SERVER_H */
