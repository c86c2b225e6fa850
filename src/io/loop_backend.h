/*
 * loop_backend.h - what loop.c (timers, posts, deferred work, dispatch) asks
 * of a readiness backend (one .c file each, as redis's ae: loop_epoll.c,
 * loop_poll.c), and the loop struct they share. Never installed.
 *
 * A backend keeps the kernel's (or its own) view of the watches' interest
 * and, in wait(), fills loop->ready[] with at most WSC_LOOP_BATCH entries:
 * the watch, or the loop itself for the wake-up descriptor, and its events.
 * Everything else (masking by the current interest, a watch stopped while
 * its event is still pending in the batch) is loop.c's, the same for all.
 *
 * The backend is chosen once per loop at wsc_loop_new(): one indirect call
 * per interest change and per wait, except that loop.c calls epoll_wait
 * itself (wsc__backend_wait below) so that the epoll path is what it was
 * before the split, instruction for instruction.
 */
#ifndef WSC_IO_LOOP_BACKEND_H
#define WSC_IO_LOOP_BACKEND_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "compat/compat.h"
#include "io/loop_internal.h"

#define WSC_LOOP_BATCH 64

#if defined(__linux__) && !defined(WSC_LOOP_NO_EPOLL)
#define WSC_HAVE_EPOLL 1
#include <sys/epoll.h>
/* With epoll compiled in, a batch entry IS struct epoll_event: epoll_wait
   writes the batch straight into loop->ready, and dispatch decodes it as it
   always did (the split costs the epoll path no instruction: callgrind). The
   poll backend writes the same bits. */
typedef struct epoll_event wsc__ready;
#define WSC__EV_IN EPOLLIN
#define WSC__EV_OUT EPOLLOUT
#define WSC__EV_ERR (EPOLLERR | EPOLLHUP)
#else
typedef struct wsc__ready {
    uint32_t events;
    union {
        void *ptr;
    } data;
} wsc__ready;
#define WSC__EV_IN 1u
#define WSC__EV_OUT 2u
#define WSC__EV_ERR 4u
#endif
/* A batch entry: data.ptr is a wsc_watch *, the loop (its wake-up
   descriptor), or NULL (a watch stopped during the batch); events is a mix
   of WSC__EV_IN, WSC__EV_OUT, WSC__EV_ERR (error or hang-up). */

typedef struct wsc__backend {
    const char *name;
    /* Sets up the backend's state and registers loop->wake.rfd; arg is the
       backend's (the hooks, for "hooks"), else NULL. 0, or -1 with errno
       set and *what naming the failed call; nothing is left to close then. */
    int (*open)(wsc_loop *loop, const void *arg, const char **what);
    void (*close)(wsc_loop *loop);
    /* Registers fd (was == 0) or changes its interest (was != 0) to events
       (non-zero). 0, or -1 with errno as epoll_ctl would set it: EEXIST
       (fd registered), EPERM (not pollable), EBADF, ENOMEM. */
    int (*set)(wsc_loop *loop, wsc_watch *w, int fd, unsigned was, unsigned events);
    /* Deregisters w (registered with a non-zero interest). Cannot fail. */
    void (*del)(wsc_loop *loop, wsc_watch *w);
    /* Waits up to timeout_ms (-1: forever) and fills loop->ready. Returns the
       count (0 on timeout) or -1 with errno (EINTR included). */
    int (*wait)(wsc_loop *loop, int timeout_ms);
    /* The single pollable descriptor of wsc_loop_fd(), or -1. */
    int (*fd)(const wsc_loop *loop);
} wsc__backend;

#ifdef WSC_HAVE_EPOLL
extern const wsc__backend wsc__backend_epoll;
#endif
extern const wsc__backend wsc__backend_poll;
extern const wsc__backend wsc__backend_hooks;

/* The hooks backend: tells the application's timer hook when wsc next needs
   wsc_loop_process(); with force 0, only if that changed since it last did. */
void wsc__hooks_sync(wsc_loop *loop, int force);
#define WSC__HOOKED(loop) WSC_UNLIKELY((loop)->be == &wsc__backend_hooks)

/* A descriptor watched through the hooks. */
typedef struct wsc__hookfd {
    void *owner;     /* the wsc_watch, or the loop for its wake-up; NULL: free */
    void *data;      /* the application's slot */
    unsigned events; /* what the application was told to watch */
} wsc__hookfd;

typedef struct wsc__post {
    wsc_post_cb fn;
    void *user;
} wsc__post;

struct wsc_loop {
    const wsc__backend *be;
    wsc__wake wake;  /* the wake-up for posts; registered by the backend */
    uint64_t now;    /* cached wsc_loop_now() */
    uint64_t (*clock)(void *user); /* NULL: CLOCK_MONOTONIC (wsc__loop_set_clock) */
    void *clock_user;
    int stop;        /* set by wsc_loop_stop(), checked after each callback */
    int dispatching; /* run/run_once/process/free are refused while set */
    unsigned refs;
    unsigned nwatch; /* watches registered with the backend (fd >= 0, events != 0) */

    wsc_timer **heap; /* heap[0] is the earliest (due, seq) */
    uint32_t nheap, capheap;
    uint64_t seq;     /* next timer start number */

    int nev, cur;     /* current batch: ready[cur] is being dispatched */
    wsc__ready ready[WSC_LOOP_BATCH];

    /* The backends' own state. */
    union {
        struct {
            int epfd;
        } ep;
        struct {
            struct pollfd *pfd; /* pfd[0] is the wake-up descriptor */
            wsc_watch **w;      /* w[i] watches pfd[i].fd; w[0] is NULL */
            uint32_t n, cap;
            uint32_t *slot; /* slot[fd]: 1 + index in pfd, 0 if not registered */
            uint32_t nslot;
            uint32_t next;  /* where the next scan starts (fairness past 64 ready) */
        } pl;
        struct {
            wsc_loop_hooks h;
            wsc__hookfd *fds; /* indexed by fd */
            uint32_t nfds;
            int npending;     /* 1: pending is the event wsc_loop_hook_io() reported */
            wsc__ready pending;
            int64_t told;     /* timer hook's state: -1 disarmed, 0 asap, else due (ms) */
        } hk;
    } u;

    /* Posts. Producers append to q under mu; the loop swaps q and run. */
    pthread_mutex_t mu;
    wsc__post *q;
    size_t nq, capq;
    int signaled;     /* under mu: the wake-up was signalled since the last swap */
    wsc__post *run;   /* loop thread only: run[runhead..nrun) still to call */
    size_t runhead, nrun, caprun;

    wsc__defer *dhead, *dtail; /* deferred work, FIFO */
    uint8_t *scratch;          /* shared receive buffer, WSC_LOOP_SCRATCH bytes */
    void *ws_registry;         /* the connection layer's (ws.c) */
    uint8_t *pool[WSC_LOOP_POOL]; /* idle send buffers */
    size_t poolcap[WSC_LOOP_POOL];
    int npool;
    uint8_t *big; /* one idle send buffer over WSC_LOOP_POOL_MAX, or NULL */
    size_t bigcap;
};

/* One wait of loop's backend (see wsc__backend.wait), epoll's inline. */
static inline int wsc__backend_wait(wsc_loop *loop, int timeout_ms) {
#ifdef WSC_HAVE_EPOLL
    if (loop->be == &wsc__backend_epoll)
        return epoll_wait(loop->u.ep.epfd, loop->ready, WSC_LOOP_BATCH, timeout_ms);
#endif
    return loop->be->wait(loop, timeout_ms);
}

#endif
