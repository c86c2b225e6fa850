/*
 * transport.h - byte streams for the connection layer (private).
 *
 * A wsc_tx is a connected socket (TCP or Unix, non-blocking unless asked
 * otherwise), possibly wrapped in TLS; nothing here names OpenSSL. A
 * wsc_connector gets one: name resolution on a helper thread (never
 * blocking the loop), the resolved addresses raced as Happy
 * Eyeballs does (RFC 8305), an optional proxy tunnel (HTTP CONNECT, over
 * TLS for an https:// proxy, or SOCKS5), then the TLS handshake with
 * certificate and host-name verification on by default. The connector
 * reports through one callback, always from the loop (never from inside
 * wsc__connect()).
 */
#ifndef WSC_IO_TRANSPORT_H
#define WSC_IO_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy.h"
#include "wsc/loop.h"
#include "wsc/wsc.h"

/*
 * A byte stream behind a table of functions (as hiredis's redisContextFuncs):
 * the implementations are a plain socket (tx.c), TLS on a socket and TLS
 * inside an https:// proxy's TLS (tls.c); the table is private to src/io/
 * (tx_impl.h). Above src/io/ a wsc_tx is embedded by value (no allocation for
 * a plain socket) and its fields are never touched: use the functions below.
 * wsc__tx_init() gives a closed one, wsc__tx_plain() adopts a socket, the
 * connector and wsc__tx_tls_accept() make TLS ones.
 */
struct wsc__tx_ops;
typedef struct wsc_tx {
    const struct wsc__tx_ops *ops; /* the implementation (plain when impl is NULL) */
    void *impl;                    /* its state: the TLS session; NULL: a plain socket */
    int fd;                        /* -1: closed */
    uint8_t read_wants_write;      /* the last read needs the socket writable (TLS) */
    uint8_t write_wants_read;      /* the last write needs the socket readable (TLS) */
    uint8_t eof;                   /* the peer closed its side */
    uint8_t blocking;              /* the fd is blocking (wsc__tx_set_blocking) */
} wsc_tx;

typedef struct wsc_tls_opts {
    const char *ca_file;
    const char *ca_dir;
    const char *cert_file;
    const char *key_file;
    const char *key_passphrase; /* for an encrypted key_file, or NULL */
    int skip_verify;
    int skip_hostname;
} wsc_tls_opts;

typedef struct wsc_connect_req {
    const char *host;      /* name or IP literal (no brackets); for Unix sockets NULL */
    uint16_t port;
    const char *unix_path; /* connect to this Unix socket instead */
    int tls;
    wsc_tls_opts tls_opts;
    int proxy_kind;         /* WSC_PROXY_* (proxy.h); 0: none */
    const char *proxy_host; /* the proxy (name or literal), if proxy_kind */
    uint16_t proxy_port;
    const char *proxy_auth; /* "user:pass" (Basic, or SOCKS5 RFC 1929), or NULL */
    unsigned timeout_ms;    /* whole connect (lookup, race, proxy, TLS), 0: 10000 */
} wsc_connect_req;

typedef struct wsc_connector wsc_connector;

/* rc WSC_OK: *tx is connected (and TLS-established); the callee owns it.
   Otherwise rc is WSC_EDNS, WSC_ECONNREFUSED, WSC_ETIMEDOUT, WSC_EIO,
   WSC_ETLS, WSC_ETLSVERIFY, WSC_EPROXY or WSC_ENOMEM and err says what. */
typedef void (*wsc_connect_cb)(void *user, int rc, wsc_tx *tx, const wsc_error *err);

/* Starts connecting. NULL (err filled) only for bad arguments or ENOMEM. */
wsc_connector *wsc__connect(wsc_loop *loop, const wsc_connect_req *req, wsc_connect_cb cb,
                            void *user, wsc_error *err);
/* Abandons a connect in progress; the callback will not fire. */
void wsc__connect_cancel(wsc_connector *c);

/* A closed stream (fd -1). Closing, shutting down or reading one is
   harmless (reads and writes fail with WSC_EIO). */
void wsc__tx_init(wsc_tx *tx);
/* Adopts a connected socket as a plain stream (the stream owns fd). */
void wsc__tx_plain(wsc_tx *tx, int fd);
/* The socket, for the loop's watches; -1 once closed. Never read or write
   it directly: TLS keeps state beside it. */
static inline int wsc__tx_fd(const wsc_tx *tx) { return tx->fd; } /* inline: on every flush */
/* The end of the stream has been seen (over TLS it may come with the last
   data: the next read returns 0). */
static inline int wsc__tx_eof(const wsc_tx *tx) { return tx->eof; }
/* What a readiness report from the loop lets the stream do: WSC_READABLE
   if a read may progress (the socket is readable, or a TLS read was waiting
   for writability), WSC_WRITABLE likewise for a write. Inline: on every
   wake-up. */
static inline unsigned wsc__tx_ready(const wsc_tx *tx, unsigned events) {
    unsigned r = 0;
    if ((events & WSC_READABLE) || tx->read_wants_write) r |= WSC_READABLE;
    if ((events & WSC_WRITABLE) || tx->write_wants_read) r |= WSC_WRITABLE;
    return r;
}
/* Whether the stream is TLS (on the socket or inside a proxy's TLS). */
int wsc__tx_is_tls(const wsc_tx *tx);
/* Puts the socket in blocking (on != 0) or non-blocking mode. A blocking
   stream's wsc__tx_read returns what one wait brings (over TLS: one record
   and whatever is already decrypted), never waits twice. WSC_OK, or WSC_EIO
   (err filled) if fcntl failed; the mode is then unchanged. */
int wsc__tx_set_blocking(wsc_tx *tx, int on, wsc_error *err);

/* Reads into buf. Returns > 0 bytes, 0 at end of stream, WSC_EAGAIN (a
   non-blocking socket has nothing yet), or an error (WSC_ECONNRESET,
   WSC_EIO, WSC_ENOMEM, WSC_ETLS) with err filled. Works on blocking and
   non-blocking sockets. */
long wsc__tx_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err);
/* Writes from buf. Returns bytes written (> 0, maybe fewer than len: one TLS
   record at most), WSC_EAGAIN, or an error (WSC_ECONNRESET once the peer
   closed, WSC_EIO, WSC_ENOMEM, WSC_ETLS) with err filled. */
long wsc__tx_write(wsc_tx *tx, const void *buf, size_t len, wsc_error *err);
/* Writes the iov[0..n) regions in order (writev for a plain socket, one
   SSL_write per region for TLS, stopping at the first short one). Returns
   the bytes written (> 0, maybe fewer than the total), WSC_EAGAIN if none
   could be, or an error as wsc__tx_write. One system call for a plain
   socket, whatever n. n <= WSC__TX_IOV_MAX. */
#define WSC__TX_IOV_MAX 16
typedef struct wsc__iov {
    const void *base;
    size_t len;
} wsc__iov;
long wsc__tx_writev(wsc_tx *tx, const wsc__iov *iov, int n, wsc_error *err);
/* Bytes already read from the socket and decrypted, waiting in the stream
   (a poll on the fd will not see them); 0 for a plain socket. */
size_t wsc__tx_pending(const wsc_tx *tx);
/* The epoll interest the stream needs: readable always (unless reading is
   off), writable if there is data to write, adjusted for TLS's wants. */
unsigned wsc__tx_interest(const wsc_tx *tx, int reading, int have_output);
/* Sends a TLS close_notify if possible (no waiting), or shuts down the
   socket's sending side. */
void wsc__tx_shutdown(wsc_tx *tx);
/* Frees TLS state and closes the descriptor; the stream is then closed as
   after wsc__tx_init(). */
void wsc__tx_close(wsc_tx *tx);

/* Server side: the server role's TLS settings (certificate chain and key),
   opaque above src/io/. NULL with err (WSC_ETLS, WSC_ENOMEM) on failure. */
typedef struct wsc__tls_server wsc__tls_server;
wsc__tls_server *wsc__tls_server_new(const char *cert_file, const char *key_file, wsc_error *err);
void wsc__tls_server_free(wsc__tls_server *t); /* NULL: no-op */
/* Wraps an accepted plain stream in TLS (accept state) and progresses the
   handshake: WSC_OK when done, WSC_EAGAIN (wait for
   wsc__tx_handshake_interest()), or WSC_ENOMEM / WSC_ETLS with err filled
   (the stream stays open: close it). */
int wsc__tx_tls_accept(wsc_tx *tx, wsc__tls_server *t, wsc_error *err);
/* After WSC_EAGAIN from wsc__tx_tls_accept: WSC_WRITABLE or WSC_READABLE. */
unsigned wsc__tx_handshake_interest(const wsc_tx *tx);


/* Test only: when set, called at each step of each connection attempt of
   the race with the attempt's address (from the loop thread). */
enum { WSC__ATTEMPT_STARTED = 1, WSC__ATTEMPT_FAILED, WSC__ATTEMPT_WON, WSC__ATTEMPT_ABANDONED };
struct sockaddr;
extern void (*wsc__test_attempt)(int event, const struct sockaddr *sa);

#endif
