/*
 * tls.c - the transport's TLS implementations: a session on the socket, and
 * a session inside an https:// proxy's (TLS in TLS), plus the server role's
 * handshake on an accepted socket.
 *
 * Costs: the SSL session is the stream's impl (no wrapper allocation).
 * Contexts run with SSL_MODE_RELEASE_BUFFERS (tls_ctx.c) and a read that
 * drains the socket frees what that mode leaves (drained()), so an idle
 * session holds no record buffers. A read gathers several records into one call
 * (fewer trips through the WebSocket parser); TLS in TLS is two records and
 * two MACs per write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>

#include "internal.h"
#include "tx_impl.h"

static SSL *ssl_of(const wsc_tx *tx) { return tx->impl; }

/* The socket is drained and the session idle: let go of its record
   buffers. SSL_MODE_RELEASE_BUFFERS frees the read buffer only after a
   record of application data; other records (the TLS 1.3 session tickets a
   server sends after the handshake) leave it allocated, about 8 KB per idle
   client connection measured with OpenSSL 3.0 (docs/PERFORMANCE.md, "Idle
   TLS memory"). Cheap when there is nothing to free (the common case: the
   mode already freed it); refused while anything is buffered either way. */
static void drained(SSL *ssl) { (void)SSL_free_buffers(ssl); }

/* Maps a failed SSL_read/SSL_write. */
static long ssl_fail(wsc_tx *tx, int ret, int is_read, wsc_error *err) {
    int e = SSL_get_error(ssl_of(tx), ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (!is_read) tx->write_wants_read = 1;
        else drained(ssl_of(tx));
        return WSC_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        if (is_read) tx->read_wants_write = 1;
        return WSC_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        tx->eof = 1;
        /* A write never "returns 0 bytes": the peer closed, nothing more
           can go out (callers would otherwise retry forever). */
        return is_read ? 0 : wsc__seterr(err, WSC_ECONNRESET, "the peer closed the TLS connection");
    case SSL_ERROR_SYSCALL: {
        int se = errno;
        ERR_clear_error();
        if (ret == 0 || se == 0) {
            /* EOF without close_notify: for reads the end of stream (the
               WebSocket layer decides whether that was clean); for writes
               the connection is gone. */
            tx->eof = 1;
            return is_read ? 0 : wsc__seterr(err, WSC_ECONNRESET, "connection closed by the peer");
        }
        return wsc__seterr(err, wsc__errno_to_wsc(se), "%s", strerror(se));
    }
    default: {
        char why[200];
        wsc__ssl_errstr(why, sizeof why);
        return wsc__seterr(err, WSC_ETLS, "TLS error: %s", why);
    }
    }
}

/* nested: TLS inside TLS, whose outer session may hold records this one
   cannot see: keep reading until the socket says EAGAIN. */
static long tls_gather(wsc_tx *tx, void *buf, size_t len, int nested, wsc_error *err) {
    if (tx->eof) return 0; /* the close_notify came with the last data */
    SSL *ssl = ssl_of(tx);
    tx->read_wants_write = 0;
    /* Gather several TLS records into one call: fewer trips through the
       WebSocket parser for large messages. The contexts read ahead
       (tls_ctx.c: one read(2) brings every record the kernel has, instead
       of two per record, header then body), so once nothing is buffered the
       socket is drained as far as one read can tell: stop there rather than
       pay a read(2) for EAGAIN (the loop is level-triggered and reports any
       rest). A blocking stream also stops once nothing decrypted is left
       (the next record might mean waiting). */
    size_t got = 0;
    while (got < len) {
        if (got && !nested && !SSL_has_pending(ssl)) {
            drained(ssl);
            break;
        }
        if (got && tx->blocking && !SSL_pending(ssl)) break;
        size_t n = 0;
        int ret = SSL_read_ex(ssl, (uint8_t *)buf + got, len - got, &n);
        if (ret == 1) {
            got += n;
            continue;
        }
        if (got) {
            /* Hand over the data now; an end of stream found behind it is
               remembered and reported by the next call. */
            int e = SSL_get_error(ssl, 0);
            if (e == SSL_ERROR_ZERO_RETURN) tx->eof = 1;
            else if (e == SSL_ERROR_WANT_WRITE) tx->read_wants_write = 1;
            else if (e == SSL_ERROR_WANT_READ) drained(ssl);
            ERR_clear_error();
            break;
        }
        return ssl_fail(tx, 0, 1, err);
    }
    /* A full buffer may leave records read ahead, where epoll cannot see
       them: ask for writability (at once, in practice), which makes the
       connection layer read again. */
    if (got == len && SSL_has_pending(ssl)) tx->read_wants_write = 1;
    return (long)got;
}

/* TLS inside TLS: a full buffer may leave plaintext decrypted in the
   proxy's session, where epoll cannot see it. Ask for the socket's
   writability (at once, in practice), which makes the connection layer
   read again; the cost is one extra wake-up after a full read. */
static long tls_in_tls_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    long n = tls_gather(tx, buf, len, 1, err);
    if (n > 0 && (size_t)n == len && !tx->blocking) tx->read_wants_write = 1;
    return n;
}

static long tls_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    return tls_gather(tx, buf, len, 0, err);
}

static long tls_peek(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    if (tx->eof) return 0;
    tx->read_wants_write = 0;
    size_t n = 0;
    if (SSL_peek_ex(ssl_of(tx), buf, len, &n) == 1) return (long)n;
    return ssl_fail(tx, 0, 1, err);
}

static long tls_write(wsc_tx *tx, const void *buf, size_t len, wsc_error *err) {
    tx->write_wants_read = 0;
    size_t n = 0;
    int ret = SSL_write_ex(ssl_of(tx), buf, len, &n);
    if (ret == 1 && n > 0) return (long)n;
    if (ret == 1) return wsc__seterr(err, WSC_EIO, "TLS write made no progress");
    return ssl_fail(tx, 0, 0, err);
}

static size_t tls_pending(const wsc_tx *tx) {
    int n = SSL_pending(ssl_of(tx));
    return n > 0 ? (size_t)n : 0;
}

static void tls_shutdown(wsc_tx *tx) {
    (void)SSL_shutdown(ssl_of(tx));
    ERR_clear_error();
}

/* Freeing the session frees a nested one's BIO and, through BIO_CLOSE, the
   proxy's session under it. */
static void tls_free(wsc_tx *tx) {
    SSL_free(ssl_of(tx));
    tx->impl = NULL;
}

const wsc__tx_ops wsc__tx_tls_ops = {"tls", tls_read, tls_write, tls_peek, tls_pending, tls_shutdown, tls_free};
const wsc__tx_ops wsc__tx_tls_in_tls_ops = {"tls-in-tls", tls_in_tls_read, tls_write, tls_peek, tls_pending, tls_shutdown,
                                            tls_free};

void wsc__tx_tls_adopt(wsc_tx *tx, int fd, SSL *ssl, int nested) {
    wsc__tx_init(tx);
    tx->fd = fd;
    tx->impl = ssl;
    tx->ops = nested ? &wsc__tx_tls_in_tls_ops : &wsc__tx_tls_ops;
}

int wsc__tx_tls_accept(wsc_tx *tx, wsc__tls_server *t, wsc_error *err) {
    if (!tx->impl) {
        SSL *ssl = SSL_new((SSL_CTX *)t);
        if (!ssl || SSL_set_fd(ssl, tx->fd) != 1) {
            SSL_free(ssl); /* NULL: no-op */
            return wsc__seterr(err, WSC_ENOMEM, "cannot create TLS state");
        }
        SSL_set_accept_state(ssl);
        tx->impl = ssl;
        tx->ops = &wsc__tx_tls_ops;
    }
    SSL *ssl = ssl_of(tx);
    tx->read_wants_write = tx->write_wants_read = 0;
    int ret = SSL_do_handshake(ssl);
    if (ret == 1) return WSC_OK;
    int e = SSL_get_error(ssl, ret);
    if (e == SSL_ERROR_WANT_READ) return WSC_EAGAIN;
    if (e == SSL_ERROR_WANT_WRITE) {
        tx->read_wants_write = 1;
        return WSC_EAGAIN;
    }
    char why[200];
    wsc__ssl_errstr(why, sizeof why);
    return wsc__seterr(err, WSC_ETLS, "TLS handshake failed: %s", why);
}

unsigned wsc__tx_handshake_interest(const wsc_tx *tx) {
    return tx->read_wants_write ? WSC_WRITABLE : WSC_READABLE;
}
