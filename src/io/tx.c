/*
 * tx.c - the transport's dispatchers and its plain-socket implementation.
 *
 * Costs: a plain stream is the socket and nothing else (no allocation; the
 * wsc_tx is embedded in the connection). The dispatchers test for the plain
 * table and call its functions directly, so the plain path costs what a
 * direct read(2)/send(2) call does; TLS streams go through their table
 * (one indirect call per read or write, next to a TLS record's cost). A
 * stream with no impl is plain whatever its ops say, so a zeroed wsc_tx
 * with fd set is a plain one too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compat/compat.h"
#include "internal.h"
#include "tx_impl.h"

int wsc__errno_to_wsc(int e) {
    switch (e) {
    case ECONNREFUSED: return WSC_ECONNREFUSED;
    case ETIMEDOUT: return WSC_ETIMEDOUT;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return WSC_ECONNRESET;
    case ENOMEM:
    case ENOBUFS: return WSC_ENOMEM;
    default: return WSC_EIO;
    }
}

/* --- plain sockets ----------------------------------------------------- */

static long plain_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    for (;;) {
        ssize_t n = read(tx->fd, buf, len);
        if (n >= 0) {
            if (n == 0) tx->eof = 1;
            return (long)n;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WSC_EAGAIN;
        return wsc__seterr(err, wsc__errno_to_wsc(errno), "read: %s", strerror(errno));
    }
}

static long plain_peek(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    for (;;) {
        ssize_t n = recv(tx->fd, buf, len, MSG_PEEK);
        if (n >= 0) return (long)n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WSC_EAGAIN;
        return wsc__seterr(err, wsc__errno_to_wsc(errno), "read: %s", strerror(errno));
    }
}

static long plain_write(wsc_tx *tx, const void *buf, size_t len, wsc_error *err) {
    for (;;) {
        ssize_t n = send(tx->fd, buf, len, WSC_MSG_NOSIGNAL);
        if (n >= 0) return (long)n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return WSC_EAGAIN;
        return wsc__seterr(err, wsc__errno_to_wsc(errno), "write: %s", strerror(errno));
    }
}

static size_t plain_pending(const wsc_tx *tx) {
    (void)tx;
    return 0;
}

static void plain_shutdown(wsc_tx *tx) { shutdown(tx->fd, SHUT_WR); }

static void plain_free(wsc_tx *tx) { (void)tx; }

const wsc__tx_ops wsc__tx_plain_ops = {"plain", plain_read, plain_write, plain_peek, plain_pending, plain_shutdown, plain_free};

/* --- the dispatchers --------------------------------------------------- */

void wsc__tx_init(wsc_tx *tx) {
    memset(tx, 0, sizeof *tx);
    tx->ops = &wsc__tx_plain_ops;
    tx->fd = -1;
}

void wsc__tx_plain(wsc_tx *tx, int fd) {
    wsc__tx_init(tx);
    tx->fd = fd;
}

int wsc__tx_is_tls(const wsc_tx *tx) { return tx->impl != NULL; }

int wsc__tx_set_blocking(wsc_tx *tx, int on, wsc_error *err) {
    int fl = tx->fd >= 0 ? fcntl(tx->fd, F_GETFL) : -1;
    if (fl < 0 || fcntl(tx->fd, F_SETFL, on ? fl & ~O_NONBLOCK : fl | O_NONBLOCK) != 0)
        return wsc__seterr(err, WSC_EIO, "cannot change the socket's blocking mode: %s",
                           tx->fd < 0 ? "the stream is closed" : strerror(errno));
    tx->blocking = on != 0;
    return WSC_OK;
}

long wsc__tx_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    if (tx->fd < 0) return wsc__seterr(err, WSC_EIO, "read: the stream is closed");
    if (!tx->impl) return plain_read(tx, buf, len, err);
    return tx->ops->read(tx, buf, len, err);
}

long wsc__tx_write(wsc_tx *tx, const void *buf, size_t len, wsc_error *err) {
    if (tx->fd < 0) return wsc__seterr(err, WSC_EIO, "write: the stream is closed");
    if (!tx->impl) return plain_write(tx, buf, len, err);
    return tx->ops->write(tx, buf, len, err);
}

long wsc__tx_writev(wsc_tx *tx, const wsc__iov *iov, int n, wsc_error *err) {
    if (tx->fd < 0) return wsc__seterr(err, WSC_EIO, "write: the stream is closed");
    if (n == 1) return wsc__tx_write(tx, iov[0].base, iov[0].len, err);
    if (!tx->impl) {
        /* sendmsg rather than writev: MSG_NOSIGNAL, as plain_write */
        struct iovec v[WSC__TX_IOV_MAX];
        for (int i = 0; i < n; i++) v[i] = (struct iovec){(void *)(uintptr_t)iov[i].base, iov[i].len};
        struct msghdr mh = {0};
        mh.msg_iov = v;
        mh.msg_iovlen = (size_t)n;
        for (;;) {
            ssize_t r = sendmsg(tx->fd, &mh, WSC_MSG_NOSIGNAL);
            if (r >= 0) return (long)r;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return WSC_EAGAIN;
            return wsc__seterr(err, wsc__errno_to_wsc(errno), "write: %s", strerror(errno));
        }
    }
    /* TLS: a record per call anyway; what was written before a short or
       failed region is reported, and the failure comes again on the next
       call (SSL_write is retried with the same bytes). */
    long total = 0;
    for (int i = 0; i < n; i++) {
        long r = tx->ops->write(tx, iov[i].base, iov[i].len, err);
        if (r < 0) return total ? total : r;
        total += r;
        if ((size_t)r < iov[i].len) break;
    }
    return total;
}

long wsc__tx_peek(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    if (tx->fd < 0) return wsc__seterr(err, WSC_EIO, "read: the stream is closed");
    if (!tx->impl) return plain_peek(tx, buf, len, err);
    return tx->ops->peek(tx, buf, len, err);
}

size_t wsc__tx_pending(const wsc_tx *tx) { return tx->impl ? tx->ops->pending(tx) : 0; }

unsigned wsc__tx_interest(const wsc_tx *tx, int reading, int have_output) {
    unsigned ev = 0;
    if (reading || tx->write_wants_read) ev |= WSC_READABLE;
    if (have_output || tx->read_wants_write) ev |= WSC_WRITABLE;
    return ev;
}

void wsc__tx_shutdown(wsc_tx *tx) {
    if (tx->impl) tx->ops->shutdown(tx);
    else if (tx->fd >= 0) plain_shutdown(tx);
}

void wsc__tx_close(wsc_tx *tx) {
    if (tx->impl) tx->ops->free_impl(tx);
    if (tx->fd >= 0) close(tx->fd);
    wsc__tx_init(tx);
}
