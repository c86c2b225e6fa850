/*
 * wsc/adapters/libevent.h - run wsc on a libevent 2 event_base (header only;
 * link libevent_core or libevent).
 *
 *   wsc_event *a = wsc_event_new(base, &err);
 *   wsc_client *c = wsc_client_new(wsc_event_loop(a), url, &opts, &err);
 *   event_base_dispatch(base);   // wsc's work runs in there
 *   ...
 *   wsc_client_free(c);
 *   wsc_event_free(a);
 *
 * Each descriptor wsc watches gets one persistent, level-triggered event
 * (EV_PERSIST, no EV_ET), re-assigned when its interest changes (event_del,
 * event_assign, event_add: one epoll_ctl or so inside libevent), and wsc's
 * timer one evtimer, through the per-socket hooks of wsc_loop_new_hooks()
 * (<wsc/loop.h>). libevent has no unreferenced events: the event of wsc's
 * wake-up descriptor (for wsc_loop_post() from other threads) stays pending,
 * so event_base_dispatch() returns only after wsc_event_free() or
 * event_base_loopbreak()/loopexit(). Loop thread only, but for
 * wsc_loop_post(): it writes wsc's own wake-up descriptor (an eventfd; a
 * pipe where there is none), which this adapter watches like any socket,
 * so the base wakes through its own readiness polling. No event_active()
 * from the posting thread, which would need evthread_use_pthreads() before
 * the base exists: one mechanism serves every loop and adapter, and a post
 * costs what it does on wsc's own loop. (CC0: copy freely.)
 */
#ifndef WSC_ADAPTERS_LIBEVENT_H
#define WSC_ADAPTERS_LIBEVENT_H

#include <stdio.h>
#include <stdlib.h>
#include <event2/event.h>

#include "../loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_event {
    struct event_base *base;
    wsc_loop *loop;
    struct event *timer;
} wsc_event;

typedef struct wsc_event_fd_ {
    struct event *ev;
    wsc_event *a;
    short events; /* EV_READ | EV_WRITE */
} wsc_event_fd_;

static inline void wsc_event_on_fd_(evutil_socket_t fd, short what, void *arg) {
    wsc_event_fd_ *f = (wsc_event_fd_ *)arg;
    unsigned e = ((what & EV_READ) ? WSC_READABLE : 0u) | ((what & EV_WRITE) ? WSC_WRITABLE : 0u);
    (void)wsc_loop_hook_io(f->a->loop, (int)fd, e); /* may free f: not touched after */
}

/* Points f's event at `events` (0: just stops it). 0 or -1. */
static inline int wsc_event_rearm_(wsc_event_fd_ *f, int fd, short events) {
    if (event_del(f->ev) != 0) return -1;
    if (!events) return 0;
    if (event_assign(f->ev, f->a->base, fd, (short)(events | EV_PERSIST), wsc_event_on_fd_, f) != 0) return -1;
    return event_add(f->ev, NULL);
}

static inline int wsc_event_add_(void *user, int fd, void **data, short bit) {
    wsc_event *a = (wsc_event *)user;
    wsc_event_fd_ *f = (wsc_event_fd_ *)*data;
    if (!f) {
        f = (wsc_event_fd_ *)calloc(1, sizeof *f);
        if (!f) return -1;
        f->a = a;
        f->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, wsc_event_on_fd_, f);
        if (!f->ev) {
            free(f);
            return -1;
        }
        *data = f; /* wsc calls cleanup if the add below fails */
    }
    if (wsc_event_rearm_(f, fd, (short)(f->events | bit)) != 0) return -1;
    f->events = (short)(f->events | bit);
    return 0;
}

static inline void wsc_event_del_(void *user, int fd, void **data, short bit) {
    (void)user;
    wsc_event_fd_ *f = (wsc_event_fd_ *)*data;
    f->events = (short)(f->events & ~bit);
    (void)wsc_event_rearm_(f, fd, f->events);
}

static inline int wsc_event_add_read_(void *u, int fd, void **d) { return wsc_event_add_(u, fd, d, EV_READ); }
static inline int wsc_event_add_write_(void *u, int fd, void **d) { return wsc_event_add_(u, fd, d, EV_WRITE); }
static inline void wsc_event_del_read_(void *u, int fd, void **d) { wsc_event_del_(u, fd, d, EV_READ); }
static inline void wsc_event_del_write_(void *u, int fd, void **d) { wsc_event_del_(u, fd, d, EV_WRITE); }

static inline void wsc_event_cleanup_(void *user, int fd, void **data) {
    (void)user, (void)fd;
    wsc_event_fd_ *f = (wsc_event_fd_ *)*data;
    if (!f) return;
    *data = NULL;
    event_free(f->ev); /* libevent 2 allows it from the event's own callback */
    free(f);
}

static inline void wsc_event_on_timer_(evutil_socket_t fd, short what, void *arg) {
    (void)fd, (void)what;
    (void)wsc_loop_process(((wsc_event *)arg)->loop);
}

static inline void wsc_event_timer_(void *user, int ms) {
    wsc_event *a = (wsc_event *)user;
    if (ms < 0) {
        (void)evtimer_del(a->timer);
        return;
    }
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    (void)evtimer_add(a->timer, &tv); /* re-adding moves a pending timer */
}

/* Creates a wsc loop that runs on `base`. NULL with err set (WSC_ENOMEM,
   WSC_EIO). */
static inline wsc_event *wsc_event_new(struct event_base *base, wsc_error *err) {
    wsc_event *a = (wsc_event *)calloc(1, sizeof *a);
    if (a) a->timer = evtimer_new(base, wsc_event_on_timer_, a);
    if (!a || !a->timer) {
        free(a);
        if (err) {
            err->code = WSC_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return NULL;
    }
    a->base = base;
    wsc_loop_hooks h = {a, wsc_event_add_read_, wsc_event_del_read_, wsc_event_add_write_, wsc_event_del_write_,
                        wsc_event_cleanup_, wsc_event_timer_};
    a->loop = wsc_loop_new_hooks(&h, err);
    if (!a->loop) {
        event_free(a->timer);
        free(a);
        return NULL;
    }
    return a;
}

static inline wsc_loop *wsc_event_loop(wsc_event *a) { return a->loop; }

/* Frees the wsc loop (free its connections, clients and timers first) and
   the adapter's events. NULL: no-op. */
static inline void wsc_event_free(wsc_event *a) {
    if (!a) return;
    wsc_loop_free(a->loop); /* cleans up every descriptor, disarms the timer */
    event_free(a->timer);
    free(a);
}

#ifdef __cplusplus
}
#endif
#endif /* WSC_ADAPTERS_LIBEVENT_H */
