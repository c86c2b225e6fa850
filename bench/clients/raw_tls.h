/* raw_tls.h - the TLS floor's byte stream, shared by raw_client.c and
 * raw_server.c: the raw exchange (4-byte length prefix) over OpenSSL, so
 * that wss figures have a floor measured the same way as the raw-TCP one.
 *
 * A stream is a socket and, for TLS, an SSL object; stream_read/write behave
 * like recv/send on a non-blocking or blocking socket: > 0 bytes, 0 at end of
 * stream (read), -1 with errno EAGAIN when the call would block (for TLS the
 * socket may have to become readable for a write, or writable for a read:
 * *want says which), -1 with another errno on failure. Writes use OpenSSL's
 * partial-write and moving-buffer modes, so a write that would block can be
 * retried with the same bytes from another buffer, as with send(). TLS 1.3
 * with OpenSSL's default cipher choice, the same library wsc links, so the
 * floor's cost per byte is the one any OpenSSL-based client pays. */
#ifndef RAW_TLS_H
#define RAW_TLS_H

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

typedef struct stream {
    int fd;
    SSL *ssl; /* NULL: plain TCP */
} stream;

static inline void tls_modes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
}

/* errno from an SSL call that returned r <= 0; *want gets POLLIN/POLLOUT. */
static inline ssize_t tls_err(SSL *ssl, int r, short *want) {
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
        if (want) *want = POLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        if (want) *want = POLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

static inline ssize_t stream_read(stream *s, void *buf, size_t n, short *want) {
    if (want) *want = POLLIN;
    if (!s->ssl) return recv(s->fd, buf, n, 0);
    int r = SSL_read(s->ssl, buf, n > 0x7fffffff ? 0x7fffffff : (int)n);
    return r > 0 ? r : tls_err(s->ssl, r, want);
}

static inline ssize_t stream_write(stream *s, const void *buf, size_t n, short *want) {
    if (want) *want = POLLOUT;
    if (!s->ssl) return send(s->fd, buf, n, MSG_NOSIGNAL);
    int r = SSL_write(s->ssl, buf, n > 0x7fffffff ? 0x7fffffff : (int)n);
    if (r > 0) return r;
    ssize_t e = tls_err(s->ssl, r, want);
    if (e == 0) errno = EPIPE; /* close_notify while writing */
    return -1;
}

/* Decrypted bytes buffered inside OpenSSL (the socket may not be readable). */
static inline int stream_pending(const stream *s) { return s->ssl ? SSL_pending(s->ssl) : 0; }

#endif
