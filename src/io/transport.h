/*
 * transport.h - byte streams for the connection layer (private).
 *
 * A wsc_tx is a connected, non-blocking socket (TCP or Unix), possibly
 * wrapped in TLS. A wsc_connector gets one: name resolution on a helper
 * thread (never blocking the loop), the resolved addresses raced as Happy
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

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

typedef struct wsc_tx {
    int fd;
    SSL *ssl;                /* NULL: plain socket */
    uint8_t read_wants_write; /* TLS: the last read needs the socket writable */
    uint8_t write_wants_read; /* TLS: the last write needs the socket readable */
    uint8_t eof;              /* the peer closed its side */
    uint8_t nested;           /* TLS inside an https:// proxy's TLS */
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

/* Reads into buf. Returns > 0 bytes, 0 at end of stream, WSC_EAGAIN, or an
   error (WSC_ECONNRESET, WSC_EIO, WSC_ETLS) with err filled. */
long wsc__tx_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err);
/* Writes from buf. Returns bytes written (> 0), WSC_EAGAIN, or an error. */
long wsc__tx_write(wsc_tx *tx, const void *buf, size_t len, wsc_error *err);
/* The epoll interest the stream needs: readable always (unless reading is
   off), writable if there is data to write, adjusted for TLS's wants. */
unsigned wsc__tx_interest(const wsc_tx *tx, int reading, int have_output);
/* Sends a TLS close_notify if possible (no waiting). */
void wsc__tx_shutdown(wsc_tx *tx);
/* Frees TLS state and closes the descriptor. */
void wsc__tx_close(wsc_tx *tx);

/* Server side: the server role's TLS settings (certificate chain and key),
   opaque above src/io/. NULL with err (WSC_ETLS, WSC_ENOMEM) on failure. */
typedef struct wsc__tls_server wsc__tls_server;
wsc__tls_server *wsc__tls_server_new(const char *cert_file, const char *key_file, wsc_error *err);
void wsc__tls_server_free(wsc__tls_server *t); /* NULL: no-op */
/* Wraps an accepted socket in TLS (accept state) and progresses the
   handshake: WSC_OK when done, WSC_EAGAIN, or an error. */
int wsc__tx_tls_accept(wsc_tx *tx, wsc__tls_server *t, wsc_error *err);


/* TLS contexts (tls_ctx.c). A client context for these options, shared:
   returns a new reference (free it with SSL_CTX_free once SSL_new has taken
   its own), or NULL with err filled (WSC_ETLS, WSC_ENOMEM). */
SSL_CTX *wsc__tls_client_ctx(const wsc_tls_opts *o, wsc_error *err);
/* Describes OpenSSL's error queue in one line (and clears it). */
void wsc__ssl_errstr(char *buf, size_t cap);

/* Test only: when set, called at each step of each connection attempt of
   the race with the attempt's address (from the loop thread). */
enum { WSC__ATTEMPT_STARTED = 1, WSC__ATTEMPT_FAILED, WSC__ATTEMPT_WON, WSC__ATTEMPT_ABANDONED };
struct sockaddr;
extern void (*wsc__test_attempt)(int event, const struct sockaddr *sa);

#endif
