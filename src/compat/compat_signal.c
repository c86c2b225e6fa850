/*
 * compat_signal.c - signals as a readable descriptor: signalfd on Linux, a
 * self-pipe elsewhere (and on Linux through wsc__sigfd_open_portable, which
 * the tests use). Kept apart from compat.c because only programs (wsc serve,
 * the client modes of wsc) need it, never the library.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#elif defined(__APPLE__)
#define _DARWIN_C_SOURCE
#elif defined(__NetBSD__)
#define _NETBSD_SOURCE
#elif !defined(__FreeBSD__) && !defined(__DragonFly__) && !defined(__OpenBSD__)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/signalfd.h>
#endif

#include "compat/compat.h"

/* The handler's only state: where to write. One self-pipe per process. A
   sig_atomic_t cannot hold an fd portably, so it is a plain int written
   before any handler is installed and never changed while one is. */
static volatile int g_sigpipe_wfd = -1;

/* What the last open changed, for wsc__sigfd_restore(): the signal mask
   (signalfd) or the handlers (self-pipe). Process-wide, as the signal state
   it saves. */
static sigset_t g_oldmask;
static int g_mask_saved;
static struct sigaction g_oldact[WSC__SIGFD_MAX];
static int g_oldsig[WSC__SIGFD_MAX], g_nold;

static void restore_handlers(void) {
    for (int i = 0; i < g_nold; i++) (void)sigaction(g_oldsig[i], &g_oldact[i], NULL);
    g_nold = 0;
}

static void on_signal(int signo) {
    int e = errno;
    unsigned char b = (unsigned char)signo; /* signal numbers fit in a byte */
    int fd = g_sigpipe_wfd;
    if (fd >= 0) (void)!write(fd, &b, 1); /* full pipe: signals coalesce */
    errno = e;
}

int wsc__sigfd_open_portable(wsc__sigfd *s, const int *signals, int n) {
    wsc__wake p;
    s->fd = s->wfd = -1;
    if (g_sigpipe_wfd >= 0) {
        errno = EBUSY;
        return -1;
    }
    if (n < 0 || n > WSC__SIGFD_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (wsc__wake_open_portable(&p) != 0) return -1;
    g_sigpipe_wfd = p.wfd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    g_nold = 0;
    for (int i = 0; i < n; i++) {
        if (sigaction(signals[i], &sa, &g_oldact[i]) != 0) {
            int e = errno;
            restore_handlers(); /* the ones already installed */
            g_sigpipe_wfd = -1;
            wsc__wake_close(&p);
            errno = e;
            return -1;
        }
        g_oldsig[i] = signals[i];
        g_nold = i + 1;
    }
    s->fd = p.rfd;
    s->wfd = p.wfd;
    return 0;
}

int wsc__sigfd_open(wsc__sigfd *s, const int *signals, int n) {
#ifdef __linux__
    if (n < 0 || n > WSC__SIGFD_MAX) { /* the self-pipe's limit, kept here too */
        s->fd = s->wfd = -1;
        errno = EINVAL;
        return -1;
    }
    sigset_t ss;
    sigemptyset(&ss);
    for (int i = 0; i < n; i++) sigaddset(&ss, signals[i]);
    s->wfd = -1;
    if (sigprocmask(SIG_BLOCK, &ss, &g_oldmask) != 0) return s->fd = -1;
    g_mask_saved = 1;
    s->fd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->fd < 0) {
        /* no descriptor: the signals must not stay blocked unseen */
        int e = errno;
        wsc__sigfd_restore();
        errno = e;
        return -1;
    }
    return 0;
#else
    return wsc__sigfd_open_portable(s, signals, n);
#endif
}

int wsc__sigfd_read(const wsc__sigfd *s) {
#ifdef __linux__
    if (s->wfd < 0) {
        struct signalfd_siginfo si;
        if (read(s->fd, &si, sizeof si) != (ssize_t)sizeof si) return 0;
        return (int)si.ssi_signo;
    }
#endif
    unsigned char b;
    if (read(s->fd, &b, 1) != 1) return 0;
    return b;
}

void wsc__sigfd_close(wsc__sigfd *s) {
    if (s->wfd >= 0) {
        g_sigpipe_wfd = -1; /* a handler still installed now writes nowhere */
        close(s->wfd);
    }
    if (s->fd >= 0) close(s->fd);
    s->fd = s->wfd = -1;
}

void wsc__sigfd_restore(void) {
    if (g_mask_saved) (void)sigprocmask(SIG_SETMASK, &g_oldmask, NULL);
    g_mask_saved = 0;
    restore_handlers();
}
