/*
 * loop.c - the event loop: a readiness backend (loop_epoll.c, loop_poll.c;
 * see loop_backend.h), a binary min-heap of one-shot timers, and a queue for
 * cross-thread posts woken through an eventfd (a pipe where there is none).
 *
 * Costs, per operation, on the epoll backend (poll: see loop_poll.c):
 *   iteration      1 epoll_wait + 1 clock read (vDSO), +1 clock read if it
 *                  blocked, +1 eventfd read only if a post woke it.
 *   watch set      1 epoll_ctl if the interest changes, else nothing.
 *   watch stop     1 epoll_ctl, plus, during I/O dispatch only, a scan of the
 *                  rest of the batch (<= 63 compares) so a pending event of
 *                  the stopped watch is not dispatched. Chosen over a deferred
 *                  free: the watch's memory can be released at once.
 *   timer          O(log n) start/stop/fire; no syscall. The heap array grows
 *                  by doubling and never shrinks.
 *   post           mutex + append; 1 eventfd write when the queue was empty.
 *                  The loop swaps the whole queue out under the mutex, O(1).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "io/loop_backend.h"
#include "io/loop_internal.h"

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct wsc_watch) == 32, "wsc_watch grew");
_Static_assert(sizeof(struct wsc_timer) == 48, "wsc_timer grew");
#endif

typedef wsc__post post;

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The loop's time: the monotonic clock, or the one a test injected. */
static inline uint64_t clock_ms(const wsc_loop *loop) {
    return loop->clock ? loop->clock(loop->clock_user) : mono_ms();
}

void wsc__loop_set_clock(wsc_loop *loop, uint64_t (*now_ms)(void *user), void *user) {
    loop->clock = now_ms;
    loop->clock_user = user;
    loop->now = clock_ms(loop);
}

/* --- the loop ------------------------------------------------------------ */

/* The backend a new loop gets: `name` if given, else $WSC_LOOP_BACKEND if
   set and non-empty, else the build's default (epoll where it exists). */
static const wsc__backend *pick_backend(const char *name, wsc_error *err) {
    if (!name || !*name) name = getenv("WSC_LOOP_BACKEND");
    if (!name || !*name) {
#if defined(WSC_HAVE_EPOLL) && !defined(WSC_LOOP_DEFAULT_POLL)
        return &wsc__backend_epoll;
#else
        return &wsc__backend_poll;
#endif
    }
#ifdef WSC_HAVE_EPOLL
    if (strcmp(name, "epoll") == 0) return &wsc__backend_epoll;
#endif
    if (strcmp(name, "poll") == 0) return &wsc__backend_poll;
    wsc__seterr(err, WSC_EINVAL, "loop backend '%.32s' is not available in this build (%s)", name,
#ifdef WSC_HAVE_EPOLL
                "epoll, poll"
#else
                "poll"
#endif
    );
    return NULL;
}

wsc_loop *wsc_loop_new(wsc_error *err) { return wsc_loop_new_backend(NULL, err); }

static wsc_loop *loop_create(const wsc__backend *be, const void *arg, wsc_error *err) {
    wsc_loop *loop = wsc__calloc(1, sizeof *loop);
    if (!loop) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory allocating the loop");
        return NULL;
    }
    loop->wake.rfd = loop->wake.wfd = -1;
    if (pthread_mutex_init(&loop->mu, NULL) != 0) {
        wsc__free(loop);
        wsc__seterr(err, WSC_ENOMEM, "pthread_mutex_init failed");
        return NULL;
    }
    const char *what = "eventfd";
    if (wsc__wake_open(&loop->wake) != 0) goto fail;
    if (be->open(loop, arg, &what) != 0) goto fail;
    loop->be = be; /* from here on free() closes the backend */
    loop->now = mono_ms();
    return loop;
fail:;
    int e0 = errno;
    wsc__seterr(err, e0 == ENOMEM ? WSC_ENOMEM : WSC_EIO, "%s: %s", what, strerror(e0));
    wsc_loop_free(loop);
    return NULL;
}

wsc_loop *wsc_loop_new_backend(const char *backend, wsc_error *err) {
    const wsc__backend *be = pick_backend(backend, err);
    return be ? loop_create(be, NULL, err) : NULL;
}

wsc_loop *wsc_loop_new_hooks(const wsc_loop_hooks *hooks, wsc_error *err) {
    if (!hooks || !hooks->add_read || !hooks->del_read || !hooks->add_write || !hooks->del_write ||
        !hooks->cleanup || !hooks->timer) {
        wsc__seterr(err, WSC_EINVAL, "wsc_loop_new_hooks: every hook is required");
        return NULL;
    }
    return loop_create(&wsc__backend_hooks, hooks, err);
}

const char *wsc_loop_backend(const wsc_loop *loop) { return loop->be->name; }

void wsc_loop_free(wsc_loop *loop) {
    if (!loop) return;
    if (loop->be) loop->be->close(loop);
    wsc__wake_close(&loop->wake);
    for (uint32_t i = 0; i < loop->nheap; i++) loop->heap[i]->slot = 0;
    pthread_mutex_destroy(&loop->mu);
    wsc__free(loop->heap);
    wsc__free(loop->q);
    wsc__free(loop->run);
    wsc__free(loop->scratch);
    for (int i = 0; i < loop->npool; i++) wsc__free(loop->pool[i]);
    wsc__free(loop->big);
    wsc__free(loop);
}

uint8_t *wsc__loop_buf_get(wsc_loop *loop, size_t need, size_t *cap) {
    if (WSC_UNLIKELY(need > WSC_LOOP_POOL_MAX) && loop->big) {
        uint8_t *b = loop->big;
        *cap = loop->bigcap;
        loop->big = NULL;
        loop->bigcap = 0;
        return b;
    }
    if (loop->npool) {
        loop->npool--;
        *cap = loop->poolcap[loop->npool];
        return loop->pool[loop->npool];
    }
    *cap = WSC_LOOP_POOL_MIN;
    return wsc__malloc(WSC_LOOP_POOL_MIN);
}

void wsc__loop_buf_put(wsc_loop *loop, uint8_t *buf, size_t cap) {
    if (!buf) return;
    size_t held = 0; /* at most WSC_LOOP_POOL entries: summing is cheaper than a field to keep right */
    for (int i = 0; i < loop->npool; i++) held += loop->poolcap[i];
    if (loop->npool < WSC_LOOP_POOL && cap <= WSC_LOOP_POOL_MAX && held + cap <= WSC_LOOP_POOL_BYTES) {
        loop->pool[loop->npool] = buf;
        loop->poolcap[loop->npool] = cap;
        loop->npool++;
        return;
    }
    if (cap > WSC_LOOP_POOL_MAX && cap <= WSC_LOOP_BIG_MAX && cap > loop->bigcap) {
        wsc__free(loop->big); /* keep the larger of the two */
        loop->big = buf;
        loop->bigcap = cap;
        return;
    }
    wsc__free(buf);
}

void **wsc__loop_ws_registry(wsc_loop *loop) { return &loop->ws_registry; }

uint8_t *wsc__loop_scratch(wsc_loop *loop) {
    if (!loop->scratch) loop->scratch = wsc__malloc(WSC_LOOP_SCRATCH);
    return loop->scratch;
}

void wsc__defer_queue(wsc_loop *loop, wsc__defer *d) {
    if (d->queued) return;
    d->queued = 1;
    d->next = NULL;
    d->prev = loop->dtail;
    if (loop->dtail) loop->dtail->next = d;
    else loop->dhead = d;
    loop->dtail = d;
    if (WSC__HOOKED(loop) && !loop->dispatching) wsc__hooks_sync(loop, 0);
}

void wsc__defer_cancel(wsc_loop *loop, wsc__defer *d) {
    if (!d->queued) return;
    if (d->prev) d->prev->next = d->next;
    else loop->dhead = d->next;
    if (d->next) d->next->prev = d->prev;
    else loop->dtail = d->prev;
    d->next = d->prev = NULL;
    d->queued = 0;
}

/* Runs what is queued now; work queued meanwhile waits for the next call. */
static int run_defers(wsc_loop *loop) {
    wsc__defer *last = loop->dtail;
    int ran = 0;
    while (loop->dhead && !loop->stop) {
        wsc__defer *d = loop->dhead;
        wsc__defer_cancel(loop, d);
        d->fn(d);
        ran++;
        if (d == last) break;
    }
    return ran;
}

uint64_t wsc_loop_now(const wsc_loop *loop) { return loop->now; }
void wsc_loop_update_time(wsc_loop *loop) { loop->now = clock_ms(loop); }
void wsc_loop_stop(wsc_loop *loop) { loop->stop = 1; }
void wsc_loop_ref(wsc_loop *loop) { loop->refs++; }
void wsc_loop_unref(wsc_loop *loop) {
    if (loop->refs) loop->refs--;
}
int wsc_loop_fd(const wsc_loop *loop) { return loop->be->fd(loop); }

/* Anything that could still produce a callback? The mutex is taken only when
   everything else is idle, i.e. when run() is about to return. */
static int alive(wsc_loop *loop) {
    if (loop->nwatch || loop->nheap || loop->refs || loop->runhead < loop->nrun || loop->dhead) return 1;
    pthread_mutex_lock(&loop->mu);
    int queued = loop->nq != 0;
    pthread_mutex_unlock(&loop->mu);
    return queued;
}

/* --- watches ------------------------------------------------------------- */

static int ctl_errno(int e) {
    switch (e) {
    case ENOMEM:
    case ENOSPC: return WSC_ENOMEM; /* ENOSPC: max_user_watches reached */
    case EBADF:
    case EEXIST:
    case EPERM:
    case EINVAL:
    case ELOOP: return WSC_EINVAL;
    default: return WSC_EIO;
    }
}

/* ADD or MOD to `events` (non-zero); `was` is the interest the backend has now. */
static int ctl_set(wsc_watch *w, int fd, unsigned was, unsigned events) {
    if (w->loop->be->set(w->loop, w, fd, was, events) != 0) return ctl_errno(errno);
    if (!was) w->loop->nwatch++;
    return WSC_OK;
}

/* DEL. Cannot fail: epoll's failures (EBADF, ENOENT) mean it no longer has
   the registration through this fd number, so there is nothing else to do. */
static void ctl_del(wsc_watch *w) {
    w->loop->be->del(w->loop, w);
    w->loop->nwatch--;
}

void wsc__watch_init(wsc_watch *w, wsc_loop *loop, wsc_watch_cb cb, void *user) {
    memset(w, 0, sizeof *w);
    w->loop = loop;
    w->cb = cb;
    w->user = user;
    w->fd = -1;
}

int wsc__watch_start(wsc_watch *w, int fd, unsigned events) {
    if (fd < 0 || (events & ~(WSC_READABLE | WSC_WRITABLE))) return WSC_EINVAL;
    if (w->fd >= 0) return WSC_ESTATE;
    if (events) {
        int r = ctl_set(w, fd, 0, events);
        if (r != WSC_OK) return r;
    }
    w->fd = fd;
    w->events = (uint8_t)events;
    return WSC_OK;
}

void wsc__watch_stop(wsc_watch *w) {
    if (w->fd < 0) return;
    wsc_loop *loop = w->loop;
    if (w->events) ctl_del(w);
    /* An fd appears at most once per batch; only entries after cur are still
       to be dispatched. nev is 0 outside I/O dispatch. */
    for (int i = loop->cur + 1; i < loop->nev; i++) {
        if (loop->ready[i].data.ptr == w) {
            loop->ready[i].data.ptr = NULL;
            break;
        }
    }
    w->fd = -1;
    w->events = 0;
}

int wsc_watch_set(wsc_watch *w, unsigned events) {
    if (events & ~(WSC_READABLE | WSC_WRITABLE)) return WSC_EINVAL;
    if (w->fd < 0) return WSC_ESTATE;
    if (events == w->events) return WSC_OK;
    if (!events) {
        ctl_del(w);
    } else {
        int r = ctl_set(w, w->fd, w->events, events);
        if (r != WSC_OK) return r;
    }
    w->events = (uint8_t)events;
    return WSC_OK;
}

unsigned wsc_watch_events(const wsc_watch *w) { return w->events; }

wsc_watch *wsc_watch_new(wsc_loop *loop, int fd, unsigned events, wsc_watch_cb cb, void *user,
                         wsc_error *err) {
    if (!loop || !cb || fd < 0 || (events & ~(WSC_READABLE | WSC_WRITABLE))) {
        wsc__seterr(err, WSC_EINVAL, "wsc_watch_new: invalid argument");
        return NULL;
    }
    wsc_watch *w = wsc__malloc(sizeof *w);
    if (!w) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory allocating a watch");
        return NULL;
    }
    wsc__watch_init(w, loop, cb, user);
    int r = wsc__watch_start(w, fd, events);
    if (r != WSC_OK) {
        int e = errno;
        wsc__free(w);
        wsc__seterr(err, r, "cannot watch fd %d: %s: %s", fd, loop->be->name, strerror(e));
        return NULL;
    }
    return w;
}

void wsc_watch_free(wsc_watch *w) {
    if (!w) return;
    wsc__watch_stop(w);
    wsc__free(w);
}

/* --- timers: binary min-heap on (due, seq) -------------------------------- */

static int before(const wsc_timer *a, const wsc_timer *b) {
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_put(wsc_loop *loop, wsc_timer *t, uint32_t i) {
    loop->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(wsc_loop *loop, uint32_t i) {
    wsc_timer *t = loop->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(t, loop->heap[parent])) break;
        heap_put(loop, loop->heap[parent], i);
        i = parent;
    }
    heap_put(loop, t, i);
}

static void sift_down(wsc_loop *loop, uint32_t i) {
    wsc_timer *t = loop->heap[i];
    uint64_t n = loop->nheap;
    for (;;) {
        uint64_t c = 2 * (uint64_t)i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(loop->heap[c + 1], loop->heap[c])) c++;
        if (!before(loop->heap[c], t)) break;
        heap_put(loop, loop->heap[c], i);
        i = (uint32_t)c;
    }
    heap_put(loop, t, i);
}

/* Restores the heap after heap[i]'s key changed or was replaced. */
static void heap_fix(wsc_loop *loop, uint32_t i) {
    if (i > 0 && before(loop->heap[i], loop->heap[(i - 1) / 2])) sift_up(loop, i);
    else sift_down(loop, i);
}

static void heap_remove(wsc_loop *loop, wsc_timer *t) {
    uint32_t i = t->slot - 1;
    uint32_t last = --loop->nheap;
    t->slot = 0;
    if (i != last) {
        heap_put(loop, loop->heap[last], i);
        heap_fix(loop, i);
    }
}

void wsc__timer_init(wsc_timer *t, wsc_loop *loop, wsc_timer_cb cb, void *user) {
    memset(t, 0, sizeof *t);
    t->loop = loop;
    t->cb = cb;
    t->user = user;
}

int wsc_timer_start(wsc_timer *t, uint64_t delay_ms) {
    wsc_loop *loop = t->loop;
    if (!t->slot && loop->nheap == loop->capheap) {
        if (loop->capheap >= UINT32_MAX / 2) return WSC_ENOMEM;
        uint32_t cap = loop->capheap ? loop->capheap * 2 : 16;
        wsc_timer **h = wsc__realloc(loop->heap, (size_t)cap * sizeof *h);
        if (!h) return WSC_ENOMEM;
        loop->heap = h;
        loop->capheap = cap;
    }
    t->due = delay_ms > UINT64_MAX - loop->now ? UINT64_MAX : loop->now + delay_ms;
    t->seq = loop->seq++;
    if (t->slot) {
        heap_fix(loop, t->slot - 1);
    } else {
        heap_put(loop, t, loop->nheap++);
        sift_up(loop, t->slot - 1);
    }
    if (WSC__HOOKED(loop) && !loop->dispatching) wsc__hooks_sync(loop, 0);
    return WSC_OK;
}

void wsc_timer_stop(wsc_timer *t) {
    if (!t->slot) return;
    heap_remove(t->loop, t);
    if (WSC__HOOKED(t->loop) && !t->loop->dispatching) wsc__hooks_sync(t->loop, 0);
}

int wsc_timer_active(const wsc_timer *t) { return t->slot != 0; }

wsc_timer *wsc_timer_new(wsc_loop *loop, wsc_timer_cb cb, void *user, wsc_error *err) {
    if (!loop || !cb) {
        wsc__seterr(err, WSC_EINVAL, "wsc_timer_new: invalid argument");
        return NULL;
    }
    wsc_timer *t = wsc__malloc(sizeof *t);
    if (!t) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory allocating a timer");
        return NULL;
    }
    wsc__timer_init(t, loop, cb, user);
    return t;
}

void wsc_timer_free(wsc_timer *t) {
    if (!t) return;
    wsc_timer_stop(t);
    wsc__free(t);
}

/* --- posts --------------------------------------------------------------- */

int wsc_loop_post(wsc_loop *loop, wsc_post_cb fn, void *user) {
    if (!loop || !fn) return WSC_EINVAL;
    pthread_mutex_lock(&loop->mu);
    if (loop->nq == loop->capq) {
        size_t cap = loop->capq ? loop->capq * 2 : 16;
        post *q = cap <= SIZE_MAX / sizeof *q ? wsc__realloc(loop->q, cap * sizeof *q) : NULL;
        if (!q) {
            pthread_mutex_unlock(&loop->mu);
            return WSC_ENOMEM;
        }
        loop->q = q;
        loop->capq = cap;
    }
    loop->q[loop->nq].fn = fn;
    loop->q[loop->nq].user = user;
    loop->nq++;
    /* The write happens under the mutex: once the loop has swapped this post
       out (which needs the mutex) the poster no longer touches the loop's fd,
       so the loop may be freed right after the post has run. */
    if (!loop->signaled) {
        loop->signaled = 1;
        wsc__wake_signal(&loop->wake);
    }
    pthread_mutex_unlock(&loop->mu);
    return WSC_OK;
}

/* --- one iteration ------------------------------------------------------- */

static int dispatch_io(wsc_loop *loop, int n, int *posted) {
    int ran = 0;
    loop->nev = n;
    for (int i = 0; i < n; i++) {
        void *p = loop->ready[i].data.ptr;
        if (!p) continue; /* its watch was stopped by an earlier callback */
        if (p == loop) {
            *posted = 1;
            continue;
        }
        wsc_watch *w = p;
        uint32_t e = loop->ready[i].events;
        unsigned got = (e & WSC__EV_ERR) ? WSC_READABLE | WSC_WRITABLE : 0u;
        if (e & WSC__EV_IN) got |= WSC_READABLE;
        if (e & WSC__EV_OUT) got |= WSC_WRITABLE;
        got &= w->events; /* the interest may have changed earlier in the batch */ /* the interest may have changed earlier in the batch */
        if (!got) continue;
        loop->cur = i;
        w->cb(loop, w, w->fd, got, w->user);
        ran++;
        if (loop->stop) break;
    }
    loop->nev = 0;
    loop->cur = 0;
    return ran;
}

/* Fires timers due now, in (due, seq) order. A timer started during the pass
   has seq >= limit and sorts after every older timer with the same or an
   earlier deadline, so stopping at the first such timer skips only new ones. */
static int dispatch_timers(wsc_loop *loop) {
    int ran = 0;
    uint64_t limit = loop->seq;
    while (loop->nheap) {
        wsc_timer *t = loop->heap[0];
        if (t->due > loop->now || t->seq >= limit) break;
        heap_remove(loop, t);
        t->cb(loop, t, t->user);
        ran++;
        if (loop->stop) break;
    }
    return ran;
}

/* Runs posts FIFO. The queue is swapped out only when the wake-up fired and
   the previous batch is done (a stop() can leave part of it); a post queued
   meanwhile keeps the wake-up readable, so it is not lost. */
static int dispatch_posts(wsc_loop *loop, int posted) {
    int ran = 0;
    if (posted && loop->runhead == loop->nrun) {
        wsc__wake_drain(&loop->wake);
        pthread_mutex_lock(&loop->mu);
        post *q = loop->q;
        size_t cap = loop->capq;
        loop->q = loop->run;
        loop->capq = loop->caprun;
        loop->run = q;
        loop->caprun = cap;
        loop->nrun = loop->nq;
        loop->runhead = 0;
        loop->nq = 0;
        loop->signaled = 0;
        pthread_mutex_unlock(&loop->mu);
    }
    while (loop->runhead < loop->nrun) {
        post p = loop->run[loop->runhead++];
        p.fn(loop, p.user);
        ran++;
        if (loop->stop) break;
    }
    if (loop->runhead == loop->nrun) loop->runhead = loop->nrun = 0;
    return ran;
}

static int next_timeout(wsc_loop *loop, uint64_t now) {
    if (loop->runhead < loop->nrun || loop->dhead) return 0;
    if (!loop->nheap) return -1;
    uint64_t due = loop->heap[0]->due;
    if (due <= now) return 0;
    return due - now > INT_MAX ? INT_MAX : (int)(due - now);
}

static int iterate(wsc_loop *loop, int timeout) {
    loop->now = clock_ms(loop);
    int pre = 0;
    if (loop->dhead) {
        /* Work queued from outside the loop (e.g. a send before run()). */
        loop->dispatching = 1;
        pre = run_defers(loop);
        loop->dispatching = 0;
        if (loop->stop) return pre;
    }
    int t = next_timeout(loop, loop->now);
    if (t >= 0 && (timeout < 0 || t < timeout)) timeout = t;
    if (pre) timeout = 0; /* work was done: look for events, do not block */
    if (timeout < 0 && !alive(loop)) timeout = 0; /* nothing could wake us */
    int n = wsc__backend_wait(loop, timeout);
    if (n < 0) {
        if (errno != EINTR) return WSC_EIO;
        n = 0;
    }
    if (timeout != 0) loop->now = clock_ms(loop);

    int posted = 0, ran;
    loop->dispatching = 1;
    ran = dispatch_io(loop, n, &posted);
    if (!loop->stop) ran += dispatch_timers(loop);
    if (!loop->stop) ran += dispatch_posts(loop, posted);
    /* Deferred work of this iteration (coalesced writes) before waiting. */
    if (!loop->stop) ran += run_defers(loop);
    loop->dispatching = 0;
    return ran + pre;
}

int wsc_loop_run_once(wsc_loop *loop, int timeout_ms) {
    if (loop->dispatching || (WSC__HOOKED(loop) && timeout_ms != 0)) return WSC_ESTATE;
    loop->stop = 0;
    int r = iterate(loop, timeout_ms < 0 ? -1 : timeout_ms);
    loop->stop = 0;
    /* the application's timer may just have fired: always re-arm it */
    if (WSC__HOOKED(loop)) wsc__hooks_sync(loop, 1);
    return r;
}

int wsc_loop_process(wsc_loop *loop) { return wsc_loop_run_once(loop, 0); }

int wsc_loop_run(wsc_loop *loop) {
    if (loop->dispatching || WSC__HOOKED(loop)) return WSC_ESTATE;
    int r = WSC_OK;
    loop->stop = 0;
    while (!loop->stop && alive(loop)) {
        int n = iterate(loop, -1);
        if (n < 0) {
            r = n;
            break;
        }
    }
    loop->stop = 0;
    return r;
}

int wsc_loop_next_timeout(wsc_loop *loop) { return next_timeout(loop, clock_ms(loop)); }
