/*
 * ws.h - one WebSocket connection with the semantics of a browser's
 * `WebSocket` object, on TCP, TLS, Unix sockets and HTTP CONNECT proxies,
 * driven by a wsc_loop (loop.h).
 *
 *   wsc_ws *ws = wsc_ws_new(loop, "wss://example.com/feed", &opts, &err);
 *   ... callbacks fire from wsc_loop_run(loop) ...
 *   wsc_ws_send_text(ws, "hello", 5);
 *   wsc_ws_close(ws, 1000, "bye");
 *
 * States (readyState) and their transitions are the browser's:
 *   CONNECTING -> OPEN        the opening handshake succeeded ("open")
 *   CONNECTING -> CLOSED      it failed ("error", then "close" with 1006,
 *                             or 1015 for a TLS failure)
 *   OPEN -> CLOSING           wsc_ws_close(), or the server's Close frame
 *   CLOSING -> CLOSED         the closing handshake and the TCP close are
 *                             done, or the close timeout expired ("close")
 *   OPEN -> CLOSED            the connection dropped (1006), or wsc failed it
 *                             on a protocol violation ("error", then 1006)
 * The "close" event fires exactly once per connection, always last.
 *
 * Threads: a connection belongs to its loop's thread; call these functions
 * only from there (use wsc_loop_post() to hand work over from another thread).
 *
 * Callbacks may call any function here on the same connection, including
 * wsc_ws_close() and wsc_ws_free() (the free is deferred until the callback
 * returns; no callback fires after it).
 */
#ifndef WSC_WS_H
#define WSC_WS_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_ws wsc_ws;

/* readyState values (the browser's numbers). */
enum wsc_ready_state { WSC_CONNECTING = 0, WSC_OPEN = 1, WSC_CLOSING = 2, WSC_CLOSED = 3 };

/* Event types, for listeners and wsc_ws_event.type. */
enum wsc_ws_event_type {
    WSC_WS_OPEN = 1,
    WSC_WS_MESSAGE = 2,
    WSC_WS_ERROR = 3,
    WSC_WS_CLOSE = 4,
    WSC_WS_PING = 5, /* not in the browser API: a Ping arrived (already answered) */
    WSC_WS_PONG = 6  /* not in the browser API: a Pong arrived */
};

/*
 * One struct for every event; the fields that matter depend on the type.
 * Pointers are valid only during the callback.
 */
typedef struct wsc_ws_event {
    int type; /* enum wsc_ws_event_type */

    /* WSC_WS_MESSAGE (MessageEvent), WSC_WS_PING, WSC_WS_PONG */
    int binary;                /* 0: text (valid UTF-8), 1: binary */
    const uint8_t *data;       /* the payload (not NUL-terminated: it may point
                                  straight into the receive buffer) */
    size_t len;
    const char *origin;        /* the server's origin, "wss://example.com:443" */
    const char *last_event_id; /* always "" (the browser's MessageEvent has it) */

    /* WSC_WS_CLOSE (CloseEvent) */
    unsigned code;      /* the server's code, 1005 if its Close had none, 1006 if
                           the connection ended without Close frames, 1015 if
                           the TLS handshake failed */
    const char *reason; /* NUL-terminated, "" if none */
    size_t reason_len;
    int was_clean;      /* the closing handshake completed */

    /* WSC_WS_ERROR */
    int error;           /* an enum wsc_err value */
    const char *message; /* one line, human-readable, no secrets */
    int http_status;     /* the server's HTTP status if it refused the upgrade */
    const char *location; /* its Location header for a redirect, else NULL */
} wsc_ws_event;

typedef void (*wsc_ws_cb)(wsc_ws *ws, const wsc_ws_event *ev, void *user);

/* An extra header for the opening handshake. */
typedef struct wsc_ws_header {
    const char *name;
    const char *value;
} wsc_ws_header;

/*
 * Options. Zero-initialise (`wsc_ws_options o = {0};`): every field left 0 or
 * NULL takes the default written beside it.
 */
typedef struct wsc_ws_options {
    /* Subprotocols to offer, NULL-terminated (each an RFC 7230 token, no
       duplicates). Default: none. */
    const char *const *protocols;
    const char *origin;      /* Origin header; default: none */
    const char *cookie;      /* Cookie header value ("a=1; b=2"); default: none */
    const char *user_agent;  /* default "wsc/<version>"; "" sends none */
    const wsc_ws_header *headers; /* extra headers; Host, Upgrade, Connection and
                                     Sec-WebSocket-* are the library's */
    size_t nheaders;

    /* TLS (wss://). Verification of the certificate chain and of the host
       name (or IP address) is on by default, against the system store. */
    const char *ca_file;  /* PEM bundle of trusted CAs, instead of the system's */
    const char *ca_dir;   /* OpenSSL hashed directory of trusted CAs */
    const char *cert_file; /* client certificate (PEM) for mutual TLS */
    const char *key_file;  /* its private key (PEM) */
    int insecure_skip_verify;   /* accept any certificate: testing only */
    int insecure_skip_hostname; /* verify the chain but accept a name mismatch */

    /* Proxy, "[scheme://][user[:pass]@]host[:port]" (credentials
       percent-decoded, as curl does):
         http://host[:80]      HTTP CONNECT (the default scheme), Basic
                               Proxy-Authorization with the credentials
         https://host[:443]    the same inside TLS to the proxy, verified
                               against the proxy's name with the same CA
                               options as the server; a wss connection is
                               then TLS inside that TLS
         socks5://host[:1080]  SOCKS5 (RFC 1928), the server's name resolved
                               here and sent as an address; credentials by
                               RFC 1929 username/password (1-255 bytes each)
         socks5h://host[:1080] SOCKS5, the name resolved by the proxy
                               (socks:// means the same)
       NULL: taken from https_proxy/HTTPS_PROXY (wss) or
       http_proxy/HTTP_PROXY (ws), then all_proxy/ALL_PROXY (lower case
       first), minus hosts in no_proxy/NO_PROXY; loopback destinations never
       use an environment proxy (as browsers do). "" : no proxy. A proxy
       that refuses or fails the tunnel fails the connection with
       WSC_EPROXY, or WSC_EPROXYAUTH when it refuses our credentials or
       wants some (HTTP 407 or 401 to CONNECT, SOCKS5 user name/password
       refused); an unsupported scheme fails wsc_ws_new with WSC_EINVAL. */
    const char *proxy;

    /* RFC 6455 4.1: a connection to a host and port that already has one
       in CONNECTING waits until that one is open or has failed (as
       browsers do). 1: connect at once (load generators). */
    int parallel_connect;

    /* Timeouts in milliseconds. */
    unsigned connect_timeout_ms;   /* name resolution + TCP (+ proxy) + TLS; default 10000 */
    unsigned handshake_timeout_ms; /* the HTTP upgrade exchange; default 10000 */
    unsigned close_timeout_ms;     /* closing handshake and TCP close; default 5000 */

    /* Limits. */
    uint64_t max_message_size; /* default 64 MiB; a larger message closes with 1009 */
    size_t max_header_size;    /* handshake response headers; default 16 KiB */
    size_t max_buffered;       /* bufferedAmount ceiling; default 256 MiB: a send
                                  that would exceed it fails with WSC_ETOOBIG */
    size_t fragment_size;      /* split outgoing messages into frames of at most
                                  this payload; default 0: never */

    /* permessage-deflate (RFC 7692): offered by default, as
       "permessage-deflate; client_max_window_bits" (what Chrome offers).
       Memory, from zlib's formulas, allocated only when first used:
         compressing: 2^(wbits+2) + 2^(memLevel+9) bytes + ~6 KiB
                      (our window 15, memLevel 8: ~262 KiB; 10 and 4: ~18 KiB)
         inflating:   2^wbits + ~7 KiB (the server's window 15: ~40 KiB)
       A connection that has not yet sent or received a compressed message
       holds neither. zlib cannot compress with a 256-byte window: if the
       server limits ours to 8 bits, wsc sends every message uncompressed
       (RFC 7692 allows it) and still inflates what it receives. Messages
       shorter than deflate_threshold are sent uncompressed. Inflation is
       bounded by max_message_size while it runs (a small frame that would
       inflate to gigabytes fails with 1009 having used at most the limit). */
    int no_deflate;                 /* 1: do not offer it */
    int deflate_server_no_context_takeover; /* ask the server to reset its context */
    int deflate_client_no_context_takeover; /* reset ours after each message */
    int deflate_server_max_window_bits;     /* 8-15 to request; default: not requested */
    int deflate_client_max_window_bits;     /* 9-15; default 15 */
    size_t deflate_threshold;       /* send messages shorter than this uncompressed; default 64 */
    int deflate_mem_level;          /* zlib memLevel 1-9; default 8 */

    /* Optional trace of the opening handshake (for a verbose mode): called
       with the request head as sent (outgoing = 1) and the response head as
       received (outgoing = 0), CRLFs included. The request carries the
       Cookie and any token in the URL: mask them before showing them. */
    void (*trace)(void *user, int outgoing, const char *head, size_t len);

    /* Callbacks (the browser's onopen, onmessage, onerror, onclose), each
       may be NULL; `user` is passed to them. */
    wsc_ws_cb on_open;
    wsc_ws_cb on_message;
    wsc_ws_cb on_error;
    wsc_ws_cb on_close;
    void *user;

    /* Passphrase of an encrypted key_file (PEM), handed to OpenSSL's
       password callback while the key is loaded and not kept. NULL: the key
       must be unencrypted (never a prompt on the terminal); a wrong or
       missing passphrase fails the connection with WSC_ETLS. */
    const char *key_passphrase;
    uint64_t reserved[16]; /* zero (else WSC_EINVAL); future fields come from here: abi/README.md */
} wsc_ws_options;

/*
 * Creates a connection and starts connecting (CONNECTING); returns at once.
 * `url` is ws://, wss://, http(s):// (mapped as browsers do), or
 * ws+unix:/path/to.sock:/request/path. The URL and options are copied.
 * Returns NULL and fills err on a malformed URL or options (WSC_EURL,
 * WSC_EINVAL), WSC_ENOMEM, or WSC_EIO if the random generator fails (the
 * handshake key); network failures are reported later through the
 * error and close events, never here.
 */
WSC_API wsc_ws *wsc_ws_new(wsc_loop *loop, const char *url, const wsc_ws_options *opts, wsc_error *err);

/*
 * Frees the connection at once: the socket is closed without a closing
 * handshake and no further callback fires (not even "close"). Safe inside
 * any of this connection's callbacks (takes effect when it returns).
 * For a graceful end call wsc_ws_close() and free in the close callback.
 */
WSC_API void wsc_ws_free(wsc_ws *ws);

/*
 * Sends a text message (must be valid UTF-8) or a binary message. The data
 * is copied (framed, masked, maybe compressed) into the send buffer; it is
 * written when the loop next runs (several sends are coalesced into one
 * write). bufferedAmount grows by len.
 * Returns WSC_OK; WSC_EUTF8 (text not UTF-8, checked first in every state);
 * WSC_ESTATE (CONNECTING: the browser throws here too); WSC_ECLOSED (CLOSING
 * or CLOSED); WSC_ETOOBIG (would exceed max_buffered); WSC_EINVAL (ws NULL,
 * or data NULL with len > 0); WSC_ENOMEM. Nothing is sent on error.
 */
WSC_API int wsc_ws_send_text(wsc_ws *ws, const char *data, size_t len);
WSC_API int wsc_ws_send_binary(wsc_ws *ws, const void *data, size_t len);

/* Sends a Ping with up to 125 bytes (WSC_EINVAL if longer). Pongs arrive as
   WSC_WS_PONG events. Same state errors as sending, and WSC_ENOMEM. */
WSC_API int wsc_ws_ping(wsc_ws *ws, const void *data, size_t len);

/*
 * close(code, reason) with the browser's rules: code 0 means "no code" (a
 * Close frame without status, the server sees 1005); otherwise it must be
 * 1000 or 3000-4999 (else WSC_EINVAL, nothing sent); reason (may be NULL)
 * must be valid UTF-8 of at most 123 bytes, and empty with code 0 (else
 * WSC_EINVAL / WSC_EUTF8, nothing sent). CONNECTING: the attempt is abandoned
 * ("error", then "close" with 1006). OPEN: the closing handshake starts
 * (CLOSING), bounded by the close timeout; WSC_ENOMEM, or WSC_ETOOBIG when
 * the send buffer is at its size limit, if the Close frame cannot be
 * buffered: then nothing was sent and the connection is still OPEN (the
 * call may be repeated). CLOSING or CLOSED: nothing happens
 * (WSC_OK). WSC_EINVAL if ws is NULL.
 */
WSC_API int wsc_ws_close(wsc_ws *ws, unsigned code, const char *reason);

/*
 * Drops the connection at once, without a closing handshake (node ws's
 * terminate()): the socket is closed and the close event fires with 1006,
 * wasClean false, before this returns, also when called inside one of this
 * connection's callbacks (the close callback then runs nested in it, and no
 * event follows it). For a peer that stopped answering. WSC_OK; nothing
 * happens if already CLOSED. WSC_EINVAL if ws is NULL.
 */
WSC_API int wsc_ws_terminate(wsc_ws *ws);

/* Adds a listener (addEventListener) for one event type; any number per
   type, called in the order added, after the callback from the options.
   Returns an id > 0, or WSC_EINVAL / WSC_ENOMEM. */
WSC_API int wsc_ws_add_listener(wsc_ws *ws, int type, wsc_ws_cb cb, void *user);
/* Removes a listener by id (safe inside callbacks). WSC_OK or WSC_EINVAL. */
WSC_API int wsc_ws_remove_listener(wsc_ws *ws, int id);

/* Accessors (the browser's read-only attributes). Strings are owned by the
   connection and valid until it is freed. */
WSC_API int wsc_ws_ready_state(const wsc_ws *ws);
WSC_API const char *wsc_ws_url(const wsc_ws *ws);        /* the URL as given */
WSC_API const char *wsc_ws_protocol(const wsc_ws *ws);   /* selected subprotocol, "" if none */
WSC_API const char *wsc_ws_extensions(const wsc_ws *ws); /* Sec-WebSocket-Extensions as negotiated, "" if none */
/* bufferedAmount: application bytes accepted by send and not yet written to
   the socket (for TLS: not yet accepted by the TLS layer). An uncompressed,
   unfragmented message leaves it byte by byte as its payload is written; a
   compressed or fragmented one in proportion to its bytes on the wire, and
   wholly when its last byte is written. Pings, pongs and frame headers are
   not counted. */
WSC_API uint64_t wsc_ws_buffered_amount(const wsc_ws *ws);
/* binaryType: always "arraybuffer": binary messages are handed over as
   bytes (data/len) in the message event; there is no Blob in C. */
WSC_API const char *wsc_ws_binary_type(const wsc_ws *ws);
/* The server's origin, e.g. "wss://example.com:443" (MessageEvent.origin). */
WSC_API const char *wsc_ws_origin(const wsc_ws *ws);

/*
 * Values of a header of the server's handshake response, valid during the
 * open callback only (the headers are freed after it): the index-th header
 * named `name` (case-insensitive), or NULL. E.g. every Set-Cookie:
 *   for (int i = 0; (v = wsc_ws_response_header(ws, "Set-Cookie", i)); i++)
 */
WSC_API const char *wsc_ws_response_header(const wsc_ws *ws, const char *name, int index);

#ifdef __cplusplus
}
#endif
#endif /* WSC_WS_H */
