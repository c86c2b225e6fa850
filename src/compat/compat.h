/*
 * compat.h - the few POSIX calls wsc needs that Linux has in a faster or
 * atomic form, behind one name each, with a portable fallback. Never installed.
 *
 * Linux (and, where they exist, the BSDs) get the one-syscall forms:
 * socket(SOCK_NONBLOCK|SOCK_CLOEXEC), accept4(), send(MSG_NOSIGNAL), eventfd.
 * Elsewhere (macOS; any POSIX system without them) the fallbacks cost:
 *   socket / accept     +2 fcntl (F_SETFD, F_SETFL): not atomic with respect
 *                       to a concurrent fork+exec in another thread, which
 *                       may inherit the fd (the window is two syscalls long).
 *   MSG_NOSIGNAL        SO_NOSIGPIPE set once per socket (macOS, the BSDs);
 *                       where neither exists the application must ignore
 *                       SIGPIPE itself (the library does not change a
 *                       process-wide signal disposition behind its back).
 *   eventfd             a non-blocking pipe: two fds instead of one, and a
 *                       drain reads until EAGAIN (one read in practice: the
 *                       loop writes at most one byte per wake-up).
 * The `_portable` variants are the fallbacks themselves, compiled on every
 * POSIX system so that the tests exercise them on Linux too.
 *
 * Every function returns -1 with errno set on failure, as the call it wraps.
 */
#ifndef WSC_COMPAT_H
#define WSC_COMPAT_H

#include <sys/socket.h>

#if defined(__linux__)
#define WSC_HAVE_EVENTFD 1
#endif
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define WSC_HAVE_ACCEPT4 1
#endif

/* Flags for send(): MSG_NOSIGNAL where the system has it, else 0 (and the
   socket carries SO_NOSIGPIPE, see wsc__compat_nosigpipe). */
#ifdef MSG_NOSIGNAL
#define WSC_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define WSC_MSG_NOSIGNAL 0
#endif

/* Sets O_NONBLOCK and FD_CLOEXEC on fd (2 fcntl, +2 to read the old flags). */
int wsc__compat_nonblock_cloexec(int fd);

/* socket(domain, type, protocol), non-blocking and close-on-exec, with
   SO_NOSIGPIPE where writes need it. */
int wsc__compat_socket(int domain, int type, int protocol);
int wsc__compat_socket_portable(int domain, int type, int protocol);

/* accept(), the new socket non-blocking and close-on-exec (accept4 where it
   exists). */
int wsc__compat_accept(int lfd, struct sockaddr *addr, socklen_t *len);
int wsc__compat_accept_portable(int lfd, struct sockaddr *addr, socklen_t *len);

/* Makes writes to fd never raise SIGPIPE where the system has a per-socket
   switch (SO_NOSIGPIPE). 0, or -1 from setsockopt; a no-op returning 0
   where MSG_NOSIGNAL covers it. */
int wsc__compat_nosigpipe(int fd);

/*
 * A wake-up descriptor: rfd polls readable after wsc__wake_signal() until
 * wsc__wake_drain(). One eventfd on Linux (rfd == wfd), a pipe elsewhere.
 * Both ends non-blocking and close-on-exec.
 */
typedef struct wsc__wake {
    int rfd, wfd;
} wsc__wake;
int wsc__wake_open(wsc__wake *w);          /* 0, or -1 (errno); w = {-1,-1} then */
int wsc__wake_open_portable(wsc__wake *w); /* always the pipe */
void wsc__wake_signal(const wsc__wake *w); /* async-signal-safe; never blocks */
void wsc__wake_drain(const wsc__wake *w);
void wsc__wake_close(wsc__wake *w);        /* idempotent */

/*
 * A descriptor that polls readable when one of the given signals arrives
 * (for a program's own event loop; one per process). Linux: a signalfd, the
 * signals blocked. Elsewhere: a self-pipe written by a handler installed
 * with sigaction (SA_RESTART); the signals stay unblocked.
 * wsc__sigfd_read() returns the next pending signal number, or 0 when none
 * is pending. wsc__sigfd_close() restores nothing (enough at exit);
 * wsc__sigfd_restore() after it puts back the signal mask or handlers the
 * last open replaced (for a program that goes on, e.g. waiting for a child
 * that Ctrl-C must reach). At most WSC__SIGFD_MAX signals (EINVAL).
 */
#define WSC__SIGFD_MAX 8
typedef struct wsc__sigfd {
    int fd;      /* what to watch for reading */
    int wfd;     /* the pipe's write end; -1 for a signalfd */
} wsc__sigfd;
int wsc__sigfd_open(wsc__sigfd *s, const int *signals, int n);
int wsc__sigfd_open_portable(wsc__sigfd *s, const int *signals, int n);
int wsc__sigfd_read(const wsc__sigfd *s);
void wsc__sigfd_close(wsc__sigfd *s);
void wsc__sigfd_restore(void);

#endif
