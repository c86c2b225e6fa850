/*
 * compat.c - the one-syscall Linux forms and their portable POSIX fallbacks
 * (see compat.h for what each fallback costs).
 */
#if defined(__linux__)
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK, eventfd */
#elif defined(__APPLE__)
#define _DARWIN_C_SOURCE /* SO_NOSIGPIPE */
#elif defined(__NetBSD__)
#define _NETBSD_SOURCE
#elif defined(__FreeBSD__) || defined(__DragonFly__) || defined(__OpenBSD__)
/* the BSDs expose accept4 and SOCK_* flags by default (__BSD_VISIBLE) */
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "compat/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#ifdef WSC_HAVE_EVENTFD
#include <sys/eventfd.h>
#endif

int wsc__compat_nonblock_cloexec(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    int fdf = fcntl(fd, F_GETFD);
    if (fdf < 0 || fcntl(fd, F_SETFD, fdf | FD_CLOEXEC) < 0) return -1;
    return 0;
}

int wsc__compat_nosigpipe(int fd) {
#if defined(SO_NOSIGPIPE) && !defined(MSG_NOSIGNAL)
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
    (void)fd;
    return 0;
#endif
}

/* Closes fd keeping the errno of the failure that made us give it up. */
static int fail_close(int fd) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int wsc__compat_socket_portable(int domain, int type, int protocol) {
    int fd = socket(domain, type, protocol);
    if (fd < 0) return -1;
    if (wsc__compat_nonblock_cloexec(fd) != 0) return fail_close(fd);
    if (wsc__compat_nosigpipe(fd) != 0) return fail_close(fd);
    return fd;
}

int wsc__compat_socket(int domain, int type, int protocol) {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) return -1;
    if (wsc__compat_nosigpipe(fd) != 0) return fail_close(fd);
    return fd;
#else
    return wsc__compat_socket_portable(domain, type, protocol);
#endif
}

int wsc__compat_accept_portable(int lfd, struct sockaddr *addr, socklen_t *len) {
    int fd = accept(lfd, addr, len);
    if (fd < 0) return -1;
    if (wsc__compat_nonblock_cloexec(fd) != 0 || wsc__compat_nosigpipe(fd) != 0) return fail_close(fd);
    return fd;
}

int wsc__compat_accept(int lfd, struct sockaddr *addr, socklen_t *len) {
#if defined(WSC_HAVE_ACCEPT4) && defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = accept4(lfd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -1;
    if (wsc__compat_nosigpipe(fd) != 0) return fail_close(fd);
    return fd;
#else
    return wsc__compat_accept_portable(lfd, addr, len);
#endif
}

/* --- wake-up descriptor --------------------------------------------------- */

int wsc__wake_open_portable(wsc__wake *w) {
    int p[2];
    w->rfd = w->wfd = -1;
    if (pipe(p) != 0) return -1;
    if (wsc__compat_nonblock_cloexec(p[0]) != 0 || wsc__compat_nonblock_cloexec(p[1]) != 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return -1;
    }
    w->rfd = p[0];
    w->wfd = p[1];
    return 0;
}

int wsc__wake_open(wsc__wake *w) {
#ifdef WSC_HAVE_EVENTFD
    w->rfd = w->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return w->rfd < 0 ? -1 : 0;
#else
    return wsc__wake_open_portable(w);
#endif
}

void wsc__wake_signal(const wsc__wake *w) {
    int e = errno; /* async-signal-safe callers must not see errno change */
    if (w->rfd == w->wfd) {
        uint64_t one = 1; /* an eventfd takes exactly 8 bytes */
        while (write(w->wfd, &one, sizeof one) < 0 && errno == EINTR) {
        }
    } else {
        /* A full pipe (EAGAIN) already wakes the reader: nothing is lost. */
        while (write(w->wfd, "", 1) < 0 && errno == EINTR) {
        }
    }
    errno = e;
}

void wsc__wake_drain(const wsc__wake *w) {
    if (w->rfd == w->wfd) {
        uint64_t v;
        (void)!read(w->rfd, &v, sizeof v);
        return;
    }
    char buf[64];
    while (read(w->rfd, buf, sizeof buf) == (ssize_t)sizeof buf) {
    }
}

void wsc__wake_close(wsc__wake *w) {
    if (w->wfd >= 0 && w->wfd != w->rfd) close(w->wfd);
    if (w->rfd >= 0) close(w->rfd);
    w->rfd = w->wfd = -1;
}
