/*
 * tx_impl.h - the transport's table of functions and what its
 * implementations share (private to src/io/; nothing above includes it).
 *
 * A wsc_tx's ops say how to move bytes: wsc__tx_plain_ops (tx.c: read(2),
 * send(2)), wsc__tx_tls_ops (tls.c: an SSL session on the socket) and
 * wsc__tx_tls_in_tls_ops (tls.c: an SSL session over a BIO_f_ssl of an
 * https:// proxy's session). The dispatchers in tx.c call the plain
 * functions directly (no indirect call on the plain path) and the table for
 * the others.
 */
#ifndef WSC_IO_TX_IMPL_H
#define WSC_IO_TX_IMPL_H

#include "transport.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

typedef struct wsc__tx_ops {
    const char *name;
    long (*read)(wsc_tx *tx, void *buf, size_t len, wsc_error *err);
    long (*write)(wsc_tx *tx, const void *buf, size_t len, wsc_error *err);
    long (*peek)(wsc_tx *tx, void *buf, size_t len, wsc_error *err); /* as read, consuming nothing */
    size_t (*pending)(const wsc_tx *tx);
    void (*shutdown)(wsc_tx *tx); /* close_notify or SHUT_WR, no waiting */
    void (*free_impl)(wsc_tx *tx); /* frees tx->impl (the socket is closed by tx.c) */
} wsc__tx_ops;

extern const wsc__tx_ops wsc__tx_plain_ops;
extern const wsc__tx_ops wsc__tx_tls_ops;
extern const wsc__tx_ops wsc__tx_tls_in_tls_ops;

/* As wsc__tx_read, but the bytes stay to be read again (the proxy
   dialogues read an HTTP head without consuming what follows it). */
long wsc__tx_peek(wsc_tx *tx, void *buf, size_t len, wsc_error *err);

/* errno to a WSC_E* code. */
int wsc__errno_to_wsc(int e);

/* Makes tx a TLS stream on fd over an established session (the stream owns
   both; nested: the session runs inside an https:// proxy's, its BIO owning
   the proxy's session). */
void wsc__tx_tls_adopt(wsc_tx *tx, int fd, SSL *ssl, int nested);

/* TLS contexts (tls_ctx.c). A client context for these options, shared:
   returns a new reference (free it with SSL_CTX_free once SSL_new has taken
   its own), or NULL with err filled (WSC_ETLS, WSC_ENOMEM). */
SSL_CTX *wsc__tls_client_ctx(const wsc_tls_opts *o, wsc_error *err);
/* Describes OpenSSL's error queue in one line (and clears it). */
void wsc__ssl_errstr(char *buf, size_t cap);

#endif
