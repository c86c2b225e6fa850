/*
 * sync.h - one WebSocket connection driven by blocking calls, without an
 * event loop (as libcurl's curl_ws_send/curl_ws_recv and Boost.Beast's
 * synchronous API offer).
 *
 *   wsc_sync *s = wsc_sync_connect("wss://example.com/feed", NULL, 10000, &err);
 *   wsc_sync_send_text(s, "hello", 5, -1);
 *   wsc_sync_msg m;
 *   if (wsc_sync_recv(s, &m, 5000) == WSC_OK) ... m.data, m.len ...
 *   wsc_sync_close(s, 1000, "bye", -1);
 *   wsc_sync_free(s);
 *
 * The connection is made exactly as wsc_ws_new() makes one (the same URL
 * forms and wsc_ws_options: TLS and its verification, proxies,
 * subprotocols, permessage-deflate, headers, limits), on a private loop
 * that is freed once the handshake is done. From then on each call works
 * the socket directly with blocking reads and writes and the same protocol
 * core: a round trip (send, then receive the answer) costs one write and
 * one read system call.
 *
 * Timeouts (the `timeout_ms` arguments): -1 waits as long as it takes, 0
 * does not wait (what the socket already holds, what it accepts at once),
 * > 0 bounds the whole call in milliseconds. A call that runs out of time
 * returns WSC_ETIMEDOUT and the connection stays usable: a receive keeps
 * what it had of a message and goes on with it on the next call; a send
 * has taken the whole message (framed, queued) and written part of it, and
 * the next call (send, ping, recv, close, wsc_sync_flush) writes the rest
 * first, so the peer never sees a torn frame. A timeout value costs a
 * setsockopt(SO_RCVTIMEO/SO_SNDTIMEO) only when it differs from the last
 * one used on that direction (0 switches the socket to non-blocking mode
 * instead, and back when a later call waits); -1 every time costs nothing.
 *
 * Memory: the handle, the core's endpoint (and zlib's state if
 * permessage-deflate is used), a 64 KiB receive buffer, and a send buffer
 * kept between messages up to 64 KiB (a larger one is freed once written;
 * a large received message's storage, by the next receive).
 *
 * Threads: a handle may move between threads but must not be used by two
 * at once. Callbacks in the options (on_open, on_message, ...) are not
 * called; `trace` is, during wsc_sync_connect.
 */
#ifndef WSC_SYNC_H
#define WSC_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "ws.h"
#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_sync wsc_sync;

/* wsc_sync_msg.type */
enum wsc_sync_msg_type {
    WSC_SYNC_TEXT = 1,   /* a text message (valid UTF-8) */
    WSC_SYNC_BINARY = 2, /* a binary message */
    WSC_SYNC_CLOSE = 8   /* the connection ended: close_code, and the reason in data/len */
};

/* What wsc_sync_recv() hands over. data is valid until the next call on the
   handle (it may point into the receive buffer or the core's reassembly
   storage); it is not NUL-terminated. */
typedef struct wsc_sync_msg {
    int type;            /* enum wsc_sync_msg_type */
    const uint8_t *data; /* payload, or the Close reason */
    size_t len;
    unsigned close_code; /* WSC_SYNC_CLOSE: the peer's code (1005: its Close
                            had none), 1006 if the connection ended without a
                            Close frame, or the code we failed it with */
    uint64_t reserved[2];
} wsc_sync_msg;

/*
 * Connects and completes the opening handshake, bounded by timeout_ms
 * (-1 or 0: only by opts' connect_timeout_ms and handshake_timeout_ms,
 * default 10 s each). opts may be NULL (every default); it is read only during the
 * call. Returns the open connection, or NULL with err filled: the
 * wsc_ws_new() errors (WSC_EURL, WSC_EINVAL, WSC_ENOMEM, WSC_EIO) and every
 * error its "error" event reports (WSC_EDNS, WSC_ECONNREFUSED, WSC_ETLS,
 * WSC_ETLSVERIFY, WSC_EPROXY, WSC_EPROXYAUTH, WSC_EHANDSHAKE, WSC_EHTTP with
 * the status in the message, WSC_EEXTENSION, ...), or WSC_ETIMEDOUT.
 * Nothing is left open on failure.
 */
WSC_API wsc_sync *wsc_sync_connect(const char *url, const wsc_ws_options *opts, int timeout_ms, wsc_error *err);

/*
 * Sends a text message (must be valid UTF-8) or a binary message, framed,
 * masked and maybe compressed or fragmented as the options say, and writes
 * it (with anything still queued before it).
 * Returns WSC_OK (all written); WSC_ETIMEDOUT (the message was taken and is
 * partly written, see above: do not send it again); WSC_EUTF8 (text not
 * UTF-8, checked first), WSC_EINVAL (s NULL, data NULL with len > 0),
 * WSC_ECLOSED (closing or closed), WSC_ETOOBIG (queued bytes would exceed
 * the options' max_buffered), WSC_ENOMEM: nothing was taken; or an I/O error
 * (WSC_ECONNRESET, WSC_EIO, WSC_ETLS): the connection is then closed
 * (wsc_sync_error() says what happened).
 */
WSC_API int wsc_sync_send_text(wsc_sync *s, const char *data, size_t len, int timeout_ms);
WSC_API int wsc_sync_send_binary(wsc_sync *s, const void *data, size_t len, int timeout_ms);
/* A Ping with up to 125 bytes (WSC_EINVAL if longer); the same returns.
   The Pong is not handed over by wsc_sync_recv(): it counts in
   wsc_sync_pongs(). */
WSC_API int wsc_sync_ping(wsc_sync *s, const void *data, size_t len, int timeout_ms);
/* Writes what a timed-out call left queued. WSC_OK (nothing left),
   WSC_ETIMEDOUT, WSC_ECLOSED, WSC_EINVAL, or an I/O error as above. */
WSC_API int wsc_sync_flush(wsc_sync *s, int timeout_ms);

/*
 * Receives one whole message, after writing what a timed-out send left
 * queued (within the same timeout). A Ping is answered (the Pong written at once)
 * and a Pong counted, and the wait goes on; neither is handed over.
 * Returns:
 *   WSC_OK        *out is a WSC_SYNC_TEXT or WSC_SYNC_BINARY message;
 *   WSC_ECLOSED   the connection has ended, *out is WSC_SYNC_CLOSE with the
 *                 code and reason: the peer's Close (our reply was sent and
 *                 the socket closed: the closing handshake is done), 1006
 *                 if it ended without one, or the code we failed it with;
 *                 every later call returns the same;
 *   WSC_ETIMEDOUT nothing complete in time; the connection is usable;
 *   WSC_EPROTO, WSC_EUTF8, WSC_ETOOBIG (a message over max_message_size),
 *   WSC_ENOMEM    the peer broke the protocol or a limit: the connection is
 *                 failed, our Close (1002, 1007, 1009, 1011) sent (waiting
 *                 at most close_timeout_ms for room), the socket closed; *out is
 *                 WSC_SYNC_CLOSE with that code;
 *   WSC_ECONNRESET, WSC_EIO, WSC_ETLS  the connection broke (closed; *out
 *                 is WSC_SYNC_CLOSE with 1006);
 *   WSC_EINVAL    s or out NULL.
 * wsc_sync_error() describes every error.
 */
WSC_API int wsc_sync_recv(wsc_sync *s, wsc_sync_msg *out, int timeout_ms);

/*
 * The closing handshake: sends Close(code, reason) (the rules of
 * wsc_ws_close(): code 0 for none, else 1000 or 3000-4999; reason UTF-8 of
 * at most 123 bytes, WSC_EINVAL / WSC_EUTF8 and nothing sent otherwise),
 * then reads until the server's Close and the end of the stream (messages
 * that arrive meanwhile are dropped), and closes the socket. timeout_ms
 * bounds it all; -1 means the options' close_timeout_ms (default 5000): a
 * closing handshake never waits forever.
 * Returns WSC_OK (done cleanly, or the connection had already ended);
 * WSC_ETIMEDOUT (the server did not finish in time) or an I/O error: the
 * socket is closed all the same. Only wsc_sync_free() is useful afterwards.
 */
WSC_API int wsc_sync_close(wsc_sync *s, unsigned code, const char *reason, int timeout_ms);

/* Closes the socket if still open (no closing handshake) and frees
   everything. NULL is a no-op. */
WSC_API void wsc_sync_free(wsc_sync *s);

/* Accessors. Strings are owned by the handle, valid until it is freed. */
WSC_API const char *wsc_sync_protocol(const wsc_sync *s);   /* selected subprotocol, "" if none */
WSC_API const char *wsc_sync_extensions(const wsc_sync *s); /* as negotiated, "" if none */
/* The socket, to wait on several connections with poll(2): -1 once closed.
   Over TLS, decrypted bytes may wait in the handle where poll cannot see
   them: call wsc_sync_recv(s, &m, 0) until WSC_ETIMEDOUT before polling.
   Never read or write it directly. */
WSC_API int wsc_sync_fd(const wsc_sync *s);
/* Pongs received so far (answers to wsc_sync_ping, or unsolicited). */
WSC_API uint64_t wsc_sync_pongs(const wsc_sync *s);
/* One line describing the last error a call on s returned ("" if none). */
WSC_API const char *wsc_sync_error(const wsc_sync *s);

#ifdef __cplusplus
}
#endif
#endif /* WSC_SYNC_H */
