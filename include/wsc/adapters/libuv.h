/*
 * wsc/adapters/libuv.h - run wsc on a libuv loop (header only; link libuv).
 *
 *   wsc_uv *a = wsc_uv_new(uv_default_loop(), &err);
 *   wsc_client *c = wsc_client_new(wsc_uv_loop(a), url, &opts, &err);
 *   uv_run(uv_default_loop(), UV_RUN_DEFAULT);   // wsc's work runs in there
 *   ...
 *   wsc_client_free(c);
 *   wsc_uv_free(a);      // then let uv_run() finish the handle closes
 *
 * Each descriptor wsc watches gets a uv_poll_t, and the loop's timer one
 * uv_timer_t, through the per-socket hooks of wsc_loop_new_hooks()
 * (<wsc/loop.h>): readiness goes to wsc_loop_hook_io(), the timer to
 * wsc_loop_process(). Costs: one uv_poll_start/stop per change of a
 * descriptor's interest, one uv_timer_start per wsc iteration (no syscall:
 * libuv's timers are a heap), and a uv_poll_t (about 160 bytes) per
 * descriptor. From other threads: wsc_loop_post() on wsc_uv_loop(a); it
 * wakes the uv loop through wsc's own wake-up descriptor, whose handle is
 * unreferenced: uv_run() returns once wsc has no socket or timer left.
 * That descriptor (an eventfd; a pipe where there is none) is watched by a
 * uv_poll_t like any socket, so a post wakes uv_run() through libuv's own
 * readiness polling: there is no uv_async_t, because one mechanism then
 * serves every loop, backend and adapter alike, nothing per adapter has to
 * be made thread-safe, and a post costs what it does on wsc's own loop (one
 * write when the queue was empty; docs/PERFORMANCE.md, "Loop backends and
 * adapters").
 * All of it must run on the uv loop's thread. Under strict -std=c11, define
 * _POSIX_C_SOURCE 200809L before any include: uv.h needs POSIX types.
 * (CC0: copy freely.)
 */
#ifndef WSC_ADAPTERS_LIBUV_H
#define WSC_ADAPTERS_LIBUV_H

#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "../loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_uv {
    uv_loop_t *uv;
    wsc_loop *loop;
    uv_timer_t timer;
    int in_new; /* inside wsc_uv_new: the add_read is the wake-up's */
} wsc_uv;

/* One watched descriptor. Freed in the close callback of its handle. */
typedef struct wsc_uv_fd_ {
    uv_poll_t poll;
    wsc_uv *a;
    int fd;
    int events; /* UV_READABLE | UV_WRITABLE */
} wsc_uv_fd_;

static inline void wsc_uv_on_poll_(uv_poll_t *h, int status, int events) {
    wsc_uv_fd_ *f = (wsc_uv_fd_ *)h->data;
    unsigned e = 0;
    if (status < 0) e = WSC_READABLE | WSC_WRITABLE; /* the next read/write reports it */
    if (events & UV_READABLE) e |= WSC_READABLE;
    if (events & UV_WRITABLE) e |= WSC_WRITABLE;
    /* may clean this very fd up: f stays valid until its close callback */
    (void)wsc_loop_hook_io(f->a->loop, f->fd, e);
}

static inline int wsc_uv_add_(void *user, int fd, void **data, int bit) {
    wsc_uv *a = (wsc_uv *)user;
    wsc_uv_fd_ *f = (wsc_uv_fd_ *)*data;
    if (!f) {
        f = (wsc_uv_fd_ *)calloc(1, sizeof *f);
        if (!f) return -1;
        if (uv_poll_init(a->uv, &f->poll, fd) != 0) {
            free(f);
            return -1;
        }
        f->poll.data = f;
        f->a = a;
        f->fd = fd;
        *data = f; /* wsc calls cleanup if the start below fails */
        /* wsc's wake-up (for posts) alone must not keep uv_run() going:
           an idle wsc loop lets it return, as an unreferenced handle */
        if (a->in_new) uv_unref((uv_handle_t *)&f->poll);
    }
    if (uv_poll_start(&f->poll, f->events | bit, wsc_uv_on_poll_) != 0) return -1;
    f->events |= bit;
    return 0;
}

static inline void wsc_uv_del_(void *user, int fd, void **data, int bit) {
    (void)user, (void)fd;
    wsc_uv_fd_ *f = (wsc_uv_fd_ *)*data;
    f->events &= ~bit;
    if (f->events) (void)uv_poll_start(&f->poll, f->events, wsc_uv_on_poll_);
    else (void)uv_poll_stop(&f->poll);
}

static inline int wsc_uv_add_read_(void *u, int fd, void **d) { return wsc_uv_add_(u, fd, d, UV_READABLE); }
static inline int wsc_uv_add_write_(void *u, int fd, void **d) { return wsc_uv_add_(u, fd, d, UV_WRITABLE); }
static inline void wsc_uv_del_read_(void *u, int fd, void **d) { wsc_uv_del_(u, fd, d, UV_READABLE); }
static inline void wsc_uv_del_write_(void *u, int fd, void **d) { wsc_uv_del_(u, fd, d, UV_WRITABLE); }

static inline void wsc_uv_free_handle_(uv_handle_t *h) { free(h->data); }

static inline void wsc_uv_cleanup_(void *user, int fd, void **data) {
    (void)user, (void)fd;
    wsc_uv_fd_ *f = (wsc_uv_fd_ *)*data;
    if (!f) return;
    *data = NULL;
    uv_close((uv_handle_t *)&f->poll, wsc_uv_free_handle_);
}

static inline void wsc_uv_on_timer_(uv_timer_t *t) { (void)wsc_loop_process(((wsc_uv *)t->data)->loop); }

static inline void wsc_uv_timer_(void *user, int ms) {
    wsc_uv *a = (wsc_uv *)user;
    if (ms < 0) (void)uv_timer_stop(&a->timer);
    else (void)uv_timer_start(&a->timer, wsc_uv_on_timer_, (uint64_t)ms, 0);
}

/* Creates a wsc loop that runs on `uv`. NULL with err set (WSC_ENOMEM,
   WSC_EIO) if the loop or the timer could not be set up. */
static inline wsc_uv *wsc_uv_new(uv_loop_t *uv, wsc_error *err) {
    wsc_uv *a = (wsc_uv *)calloc(1, sizeof *a);
    if (!a) {
        if (err) {
            err->code = WSC_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return NULL;
    }
    a->uv = uv;
    if (uv_timer_init(uv, &a->timer) != 0) {
        free(a);
        if (err) {
            err->code = WSC_EIO;
            snprintf(err->message, sizeof err->message, "uv_timer_init failed");
        }
        return NULL;
    }
    a->timer.data = a;
    wsc_loop_hooks h = {a, wsc_uv_add_read_, wsc_uv_del_read_, wsc_uv_add_write_, wsc_uv_del_write_,
                        wsc_uv_cleanup_, wsc_uv_timer_};
    a->in_new = 1;
    a->loop = wsc_loop_new_hooks(&h, err);
    a->in_new = 0;
    if (!a->loop) {
        /* the handle is closed: free a once libuv is done with it */
        uv_close((uv_handle_t *)&a->timer, wsc_uv_free_handle_);
        return NULL;
    }
    return a;
}

static inline wsc_loop *wsc_uv_loop(wsc_uv *a) { return a->loop; }

/* Frees the wsc loop (free its connections, clients and timers first) and
   closes the uv handles; the memory goes in their close callbacks, so run
   the uv loop once more (uv_run) before uv_loop_close(). NULL: no-op. */
static inline void wsc_uv_free(wsc_uv *a) {
    if (!a) return;
    wsc_loop_free(a->loop); /* cleans up every descriptor, disarms the timer */
    uv_close((uv_handle_t *)&a->timer, wsc_uv_free_handle_);
}

#ifdef __cplusplus
}
#endif
#endif /* WSC_ADAPTERS_LIBUV_H */
