/*
 * wsc/adapters/libev.h - run wsc on a libev loop (header only; link libev).
 *
 *   wsc_ev *a = wsc_ev_new(EV_DEFAULT, &err);
 *   wsc_client *c = wsc_client_new(wsc_ev_loop(a), url, &opts, &err);
 *   ev_run(EV_DEFAULT, 0);      // wsc's work runs in there
 *   ...
 *   wsc_client_free(c);
 *   wsc_ev_free(a);
 *
 * Each descriptor wsc watches gets an ev_io (stopped, re-set and started
 * when its interest changes: libev batches the kernel update to the next
 * ev_run iteration), wsc's timer one ev_timer, through the per-socket hooks
 * of wsc_loop_new_hooks() (<wsc/loop.h>). The ev_io of wsc's wake-up
 * descriptor (for wsc_loop_post() from other threads) is ev_unref'd, so
 * ev_run() returns once wsc has no socket or timer left. Loop thread only,
 * but for wsc_loop_post(): it writes that descriptor (an eventfd; a pipe
 * where there is none), watched like any socket, so ev_run() wakes through
 * libev's own readiness polling. No ev_async: one mechanism serves every
 * loop and adapter, nothing per adapter has to be thread-safe, and a post
 * costs what it does on wsc's own loop. (CC0: copy freely.)
 */
#ifndef WSC_ADAPTERS_LIBEV_H
#define WSC_ADAPTERS_LIBEV_H

#include <stdio.h>
#include <stdlib.h>
#include <ev.h>

#include "../loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_ev {
    struct ev_loop *ev;
    wsc_loop *loop;
    ev_timer timer;
    int in_new; /* inside wsc_ev_new: the add_read is the wake-up's */
} wsc_ev;

typedef struct wsc_ev_fd_ {
    ev_io io; /* first: the callback gets &io */
    wsc_ev *a;
    int events; /* EV_READ | EV_WRITE */
    int unref;  /* the wake-up's: ev_unref'd while started */
} wsc_ev_fd_;

static inline void wsc_ev_on_io_(struct ev_loop *l, ev_io *w, int revents) {
    (void)l;
    wsc_ev_fd_ *f = (wsc_ev_fd_ *)w;
    unsigned e = (revents & EV_ERROR) ? WSC_READABLE | WSC_WRITABLE : 0u;
    if (revents & EV_READ) e |= WSC_READABLE;
    if (revents & EV_WRITE) e |= WSC_WRITABLE;
    (void)wsc_loop_hook_io(f->a->loop, w->fd, e); /* may free f: not touched after */
}

static inline void wsc_ev_stop_(wsc_ev_fd_ *f) {
    if (!ev_is_active(&f->io)) return;
    if (f->unref) ev_ref(f->a->ev); /* libev's rule: ref back before stopping */
    ev_io_stop(f->a->ev, &f->io);
}

static inline void wsc_ev_rearm_(wsc_ev_fd_ *f, int fd, int events) {
    wsc_ev_stop_(f);
    f->events = events;
    if (!events) return;
    ev_io_set(&f->io, fd, events);
    ev_io_start(f->a->ev, &f->io);
    if (f->unref) ev_unref(f->a->ev);
}

static inline int wsc_ev_add_(void *user, int fd, void **data, int bit) {
    wsc_ev *a = (wsc_ev *)user;
    wsc_ev_fd_ *f = (wsc_ev_fd_ *)*data;
    if (!f) {
        f = (wsc_ev_fd_ *)calloc(1, sizeof *f);
        if (!f) return -1;
        ev_io_init(&f->io, wsc_ev_on_io_, fd, EV_READ);
        f->a = a;
        f->unref = a->in_new;
        *data = f;
    }
    wsc_ev_rearm_(f, fd, f->events | bit);
    return 0;
}

static inline void wsc_ev_del_(void *user, int fd, void **data, int bit) {
    (void)user;
    wsc_ev_fd_ *f = (wsc_ev_fd_ *)*data;
    wsc_ev_rearm_(f, fd, f->events & ~bit);
}

static inline int wsc_ev_add_read_(void *u, int fd, void **d) { return wsc_ev_add_(u, fd, d, EV_READ); }
static inline int wsc_ev_add_write_(void *u, int fd, void **d) { return wsc_ev_add_(u, fd, d, EV_WRITE); }
static inline void wsc_ev_del_read_(void *u, int fd, void **d) { wsc_ev_del_(u, fd, d, EV_READ); }
static inline void wsc_ev_del_write_(void *u, int fd, void **d) { wsc_ev_del_(u, fd, d, EV_WRITE); }

static inline void wsc_ev_cleanup_(void *user, int fd, void **data) {
    (void)user, (void)fd;
    wsc_ev_fd_ *f = (wsc_ev_fd_ *)*data;
    if (!f) return;
    *data = NULL;
    wsc_ev_stop_(f); /* libev allows stopping and freeing a watcher in its callback */
    free(f);
}

static inline void wsc_ev_on_timer_(struct ev_loop *l, ev_timer *t, int revents) {
    (void)l, (void)revents;
    (void)wsc_loop_process(((wsc_ev *)t->data)->loop);
}

static inline void wsc_ev_timer_(void *user, int ms) {
    wsc_ev *a = (wsc_ev *)user;
    ev_timer_stop(a->ev, &a->timer);
    if (ms < 0) return;
    ev_timer_set(&a->timer, ms / 1000.0, 0.0);
    ev_timer_start(a->ev, &a->timer);
}

/* Creates a wsc loop that runs on `ev`. NULL with err set (WSC_ENOMEM,
   WSC_EIO). */
static inline wsc_ev *wsc_ev_new(struct ev_loop *ev, wsc_error *err) {
    wsc_ev *a = (wsc_ev *)calloc(1, sizeof *a);
    if (!a) {
        if (err) {
            err->code = WSC_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return NULL;
    }
    a->ev = ev;
    ev_timer_init(&a->timer, wsc_ev_on_timer_, 0.0, 0.0);
    a->timer.data = a;
    wsc_loop_hooks h = {a, wsc_ev_add_read_, wsc_ev_del_read_, wsc_ev_add_write_, wsc_ev_del_write_,
                        wsc_ev_cleanup_, wsc_ev_timer_};
    a->in_new = 1;
    a->loop = wsc_loop_new_hooks(&h, err);
    a->in_new = 0;
    if (!a->loop) {
        free(a);
        return NULL;
    }
    return a;
}

static inline wsc_loop *wsc_ev_loop(wsc_ev *a) { return a->loop; }

/* Frees the wsc loop (free its connections, clients and timers first) and
   the adapter. NULL: no-op. */
static inline void wsc_ev_free(wsc_ev *a) {
    if (!a) return;
    wsc_loop_free(a->loop); /* cleans up every descriptor, disarms the timer */
    ev_timer_stop(a->ev, &a->timer);
    free(a);
}

#ifdef __cplusplus
}
#endif
#endif /* WSC_ADAPTERS_LIBEV_H */
