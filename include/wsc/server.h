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

enum wsc_server_event_type {
    WSC_SRV_OPEN = 1,    /* handshake accepted */
    WSC_SRV_MESSAGE = 2, /* a whole message */
    WSC_SRV_CLOSE = 3,   /* the connection ended (always the last event) */
    WSC_SRV_ERROR = 4,   /* it was failed (protocol error, I/O error) */
    WSC_SRV_PONG = 5
};

/* Pointers are valid during the callback only. */
typedef struct wsc_server_event {
    int type;
    int binary;          /* MESSAGE: 0 text (valid UTF-8), 1 binary */
    const uint8_t *data; /* MESSAGE, PONG */
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
 * The accept hook: return 0 to accept, or an HTTP status (400-599) to refuse
 * the upgrade; `reason` (reason_cap bytes) may then be filled with a short
 * text for the response body. Called once the request passed every RFC 6455
 * check. May call wsc_sconn_set_user(). NULL: accept everything.
 */
typedef int (*wsc_server_accept_fn)(wsc_server *s, wsc_sconn *c, const wsc_server_request *req, void *user,
                                    char *reason, size_t reason_cap);

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
    uint64_t reserved[16]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_server_options;

/* Binds, listens and starts accepting. NULL with err on failure (WSC_EIO
   with the OS reason, e.g. "address already in use"; WSC_ETLS for
   certificate/key problems; WSC_EINVAL). */
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

/* Calls fn for every OPEN connection (e.g. to broadcast). fn may send and
   close; it must not free the server. */
WSC_API void wsc_server_foreach(wsc_server *s, void (*fn)(wsc_sconn *c, void *arg), void *arg);

/* Sending, as ws.h: text must be valid UTF-8; frames coalesce into one write
   per loop iteration. WSC_OK, WSC_EUTF8, WSC_ECLOSED, WSC_ETOOBIG, WSC_ENOMEM. */
WSC_API int wsc_sconn_send_text(wsc_sconn *c, const char *data, size_t len);
WSC_API int wsc_sconn_send_binary(wsc_sconn *c, const void *data, size_t len);
WSC_API int wsc_sconn_ping(wsc_sconn *c, const void *data, size_t len);

/* Starts the closing handshake with any code a Close frame may carry
   (wsc_close_code_valid, e.g. 1008 policy violation) or 0 for none; reason
   <= 123 bytes of UTF-8. The server closes TCP once the client answers (or
   after the close timeout). WSC_OK, WSC_EINVAL, WSC_EUTF8. */
WSC_API int wsc_sconn_close(wsc_sconn *c, unsigned code, const char *reason);

/* Drops the connection at once (close event 1006). */
WSC_API void wsc_sconn_terminate(wsc_sconn *c);

WSC_API void wsc_sconn_set_user(wsc_sconn *c, void *user);
WSC_API void *wsc_sconn_get_user(const wsc_sconn *c);
WSC_API const char *wsc_sconn_protocol(const wsc_sconn *c);   /* "" if none */
WSC_API const char *wsc_sconn_extensions(const wsc_sconn *c); /* "" if none */
WSC_API const char *wsc_sconn_peer(const wsc_sconn *c);
WSC_API uint64_t wsc_sconn_buffered_amount(const wsc_sconn *c);
WSC_API int wsc_sconn_ready_state(const wsc_sconn *c); /* ws.h's values */

#ifdef __cplusplus
}
#endif
#endif /* WSC_SERVER_H */
