/*
 * loop_hooks.c - the "hooks" backend: the application's own loop (libuv,
 * libevent, libev, GLib...) watches each descriptor and runs the timer,
 * told through the wsc_loop_hooks of wsc_loop_new_hooks() (loop.h), the way
 * hiredis's adapters work. wsc makes no readiness syscall of its own.
 *
 * State: a table indexed by fd (12-16 bytes per fd number up to the
 * highest watched, doubling, never shrinking) holding the watch and the
 * application's slot. wsc_loop_hook_io() hands one event to a normal
 * iteration (wait() returns it as a batch of one), so masking, stopping
 * during dispatch and deferred work behave exactly as on the other backends.
 * Costs: one hook call per direction whose interest changes; the timer hook
 * after every iteration and whenever the earliest deadline changes outside
 * one.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <string.h>

#include "internal.h"
#include "io/loop_backend.h"

#define HK(loop) (&(loop)->u.hk)

static int hk_reserve(wsc_loop *loop, int fd) {
    if ((uint32_t)fd < HK(loop)->nfds) return 0;
    uint32_t n = HK(loop)->nfds ? HK(loop)->nfds : 64;
    while (n <= (uint32_t)fd) n *= 2;
    wsc__hookfd *t = wsc__realloc(HK(loop)->fds, n * sizeof *t);
    if (!t) {
        errno = ENOMEM;
        return -1;
    }
    memset(t + HK(loop)->nfds, 0, (n - HK(loop)->nfds) * sizeof *t);
    HK(loop)->fds = t;
    HK(loop)->nfds = n;
    return 0;
}

/* Tells the application to watch fd for `events` instead of e->events. On
   a refusal, what this call added is taken back; -1 with errno EIO. */
static int hk_change(wsc_loop *loop, int fd, wsc__hookfd *e, unsigned events) {
    const wsc_loop_hooks *h = &HK(loop)->h;
    unsigned was = e->events, added = 0;
    if ((events & WSC_READABLE) && !(was & WSC_READABLE)) {
        if (h->add_read(h->user, fd, &e->data) != 0) goto refused;
        added |= WSC_READABLE;
    }
    if ((events & WSC_WRITABLE) && !(was & WSC_WRITABLE)) {
        if (h->add_write(h->user, fd, &e->data) != 0) goto refused;
        added |= WSC_WRITABLE;
    }
    if (!(events & WSC_READABLE) && (was & WSC_READABLE)) h->del_read(h->user, fd, &e->data);
    if (!(events & WSC_WRITABLE) && (was & WSC_WRITABLE)) h->del_write(h->user, fd, &e->data);
    e->events = events;
    return 0;
refused:
    if (added & WSC_READABLE) h->del_read(h->user, fd, &e->data);
    if (!was) h->cleanup(h->user, fd, &e->data);
    errno = EIO;
    return -1;
}

/* Stops watching fd entirely and forgets it. */
static void hk_forget(wsc_loop *loop, int fd) {
    const wsc_loop_hooks *h = &HK(loop)->h;
    wsc__hookfd *e = &HK(loop)->fds[fd];
    /* stopped by work that ran before the event got its turn (deferred
       work runs first in an iteration): drop the event, as loop.c does for
       the rest of a batch */
    if (HK(loop)->npending && HK(loop)->pending.data.ptr == e->owner) HK(loop)->npending = 0;
    if (e->events & WSC_READABLE) h->del_read(h->user, fd, &e->data);
    if (e->events & WSC_WRITABLE) h->del_write(h->user, fd, &e->data);
    h->cleanup(h->user, fd, &e->data);
    memset(e, 0, sizeof *e);
}

static int hk_open(wsc_loop *loop, const void *arg, const char **what) {
    memset(HK(loop), 0, sizeof *HK(loop));
    HK(loop)->h = *(const wsc_loop_hooks *)arg;
    HK(loop)->told = -1;
    *what = "the hooks' add_read of the wake-up descriptor";
    int fd = loop->wake.rfd;
    if (hk_reserve(loop, fd) != 0) return -1;
    wsc__hookfd *e = &HK(loop)->fds[fd];
    if (hk_change(loop, fd, e, WSC_READABLE) != 0) {
        wsc__free(HK(loop)->fds);
        return -1;
    }
    e->owner = loop;
    return 0;
}

/* Whatever is still watched (the wake-up, watches the user did not free)
   is deleted and cleaned up; the timer is disarmed. */
static void hk_close(wsc_loop *loop) {
    for (uint32_t fd = 0; fd < HK(loop)->nfds; fd++)
        if (HK(loop)->fds[fd].owner) hk_forget(loop, (int)fd);
    if (HK(loop)->told != -1) HK(loop)->h.timer(HK(loop)->h.user, -1);
    wsc__free(HK(loop)->fds);
}

static int hk_set(wsc_loop *loop, wsc_watch *w, int fd, unsigned was, unsigned events) {
    if (!was) {
        if ((uint32_t)fd < HK(loop)->nfds && HK(loop)->fds[fd].owner) {
            errno = EEXIST;
            return -1;
        }
        if (hk_reserve(loop, fd) != 0) return -1;
    }
    wsc__hookfd *e = &HK(loop)->fds[fd];
    if (hk_change(loop, fd, e, events) != 0) return -1;
    e->owner = w;
    return 0;
}

static void hk_del(wsc_loop *loop, wsc_watch *w) { hk_forget(loop, w->fd); }

static int hk_wait(wsc_loop *loop, int timeout_ms) {
    (void)timeout_ms; /* only ever 0: run/run_once refuse to block here */
    if (!HK(loop)->npending) return 0;
    HK(loop)->npending = 0;
    loop->ready[0] = HK(loop)->pending;
    return 1;
}

static int hk_fd(const wsc_loop *loop) {
    (void)loop;
    return -1;
}

const wsc__backend wsc__backend_hooks = {"hooks", hk_open, hk_close, hk_set, hk_del, hk_wait, hk_fd};

void wsc__hooks_sync(wsc_loop *loop, int force) {
    int ms = wsc_loop_next_timeout(loop);
    /* The key is the deadline itself: `ms` is counted from a fresh clock
       read, so the cached now + ms would change with every millisecond that
       passes and tell the application again about the same deadline. */
    int64_t key = ms < 0 ? -1 : ms == 0 ? 0 : (int64_t)(loop->heap[0]->due & (uint64_t)INT64_MAX);
    if (!force && key == HK(loop)->told) return;
    if (ms < 0 && HK(loop)->told == -1) return; /* nothing to disarm */
    HK(loop)->told = key;
    HK(loop)->h.timer(HK(loop)->h.user, ms);
}

int wsc_loop_hook_io(wsc_loop *loop, int fd, unsigned events) {
    if (!loop || fd < 0 || (events & ~(WSC_READABLE | WSC_WRITABLE))) return WSC_EINVAL;
    if (loop->be != &wsc__backend_hooks || loop->dispatching) return WSC_ESTATE;
    if ((uint32_t)fd >= HK(loop)->nfds || !HK(loop)->fds[fd].owner) return 0; /* forgotten */
    uint32_t e = ((events & WSC_READABLE) ? (uint32_t)WSC__EV_IN : 0u) |
                 ((events & WSC_WRITABLE) ? (uint32_t)WSC__EV_OUT : 0u);
    memset(&HK(loop)->pending, 0, sizeof HK(loop)->pending);
    HK(loop)->pending.events = e;
    HK(loop)->pending.data.ptr = HK(loop)->fds[fd].owner;
    HK(loop)->npending = 1;
    return wsc_loop_run_once(loop, 0);
}
