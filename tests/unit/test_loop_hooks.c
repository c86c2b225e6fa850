/* test_loop_hooks.c - the per-socket hooks (wsc_loop_new_hooks): a small
 * application loop of the test's own, on poll(), watches wsc's descriptors
 * and runs its timer as libuv or GLib would, and everything the contract in
 * loop.h promises is checked against the calls it receives. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "io/loop_internal.h"
#include "wsc/loop.h"

#define GUARD() alarm(30)
#define MAXFD 1024

/* ---- the application's loop ---------------------------------------------- */

typedef struct app {
    unsigned ev[MAXFD];   /* what wsc asked us to watch */
    int added[MAXFD];     /* between the first add and cleanup */
    int marker[MAXFD];    /* what *data points to (set at the first add) */
    int adds, dels, cleanups, timer_calls;
    int refuse_read;
    int64_t due;          /* -1: disarmed, else monotonic ms */
    int last_ms;
} app;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int h_add(app *a, int fd, void **data, unsigned bit) {
    assert_true(fd >= 0 && fd < MAXFD);
    assert_false(a->ev[fd] & bit); /* never added twice */
    if (!a->added[fd]) {
        assert_null(*data); /* a fresh slot */
        *data = &a->marker[fd];
        a->added[fd] = 1;
    }
    assert_ptr_equal(*data, &a->marker[fd]);
    a->ev[fd] |= bit;
    a->adds++;
    return 0;
}
static int h_add_read(void *u, int fd, void **data) {
    app *a = u;
    if (a->refuse_read) return -1;
    return h_add(a, fd, data, WSC_READABLE);
}
static int h_add_write(void *u, int fd, void **data) { return h_add(u, fd, data, WSC_WRITABLE); }
static void h_del(app *a, int fd, void **data, unsigned bit) {
    assert_true(a->ev[fd] & bit);
    assert_ptr_equal(*data, &a->marker[fd]);
    a->ev[fd] &= ~bit;
    a->dels++;
}
static void h_del_read(void *u, int fd, void **data) { h_del(u, fd, data, WSC_READABLE); }
static void h_del_write(void *u, int fd, void **data) { h_del(u, fd, data, WSC_WRITABLE); }
static void h_cleanup(void *u, int fd, void **data) {
    app *a = u;
    assert_int_equal(a->ev[fd], 0); /* everything deleted first */
    if (a->added[fd]) assert_ptr_equal(*data, &a->marker[fd]);
    a->added[fd] = 0;
    a->cleanups++;
}
static void h_timer(void *u, int ms) {
    app *a = u;
    a->timer_calls++;
    a->last_ms = ms;
    a->due = ms < 0 ? -1 : now_ms() + ms;
}

static wsc_loop *new_hooked(app *a) {
    memset(a, 0, sizeof *a);
    a->due = -1;
    wsc_loop_hooks h = {a, h_add_read, h_del_read, h_add_write, h_del_write, h_cleanup, h_timer};
    wsc_error err;
    wsc_loop *loop = wsc_loop_new_hooks(&h, &err);
    assert_non_null(loop);
    return loop;
}

/* One turn of the application's loop: poll what wsc asked for, at most
   until the timer is due, then report. */
static void app_turn(app *a, wsc_loop *loop, int max_wait) {
    struct pollfd p[MAXFD];
    int n = 0;
    for (int fd = 0; fd < MAXFD; fd++) {
        if (!a->ev[fd]) continue;
        p[n].fd = fd;
        p[n].events = (short)(((a->ev[fd] & WSC_READABLE) ? POLLIN : 0) | ((a->ev[fd] & WSC_WRITABLE) ? POLLOUT : 0));
        p[n].revents = 0;
        n++;
    }
    int timeout = max_wait;
    if (a->due >= 0) {
        int64_t left = a->due - now_ms();
        if (left < 0) left = 0;
        if (left < timeout) timeout = (int)left;
    }
    assert_true(poll(p, (nfds_t)n, timeout) >= 0);
    for (int i = 0; i < n; i++) {
        if (!p[i].revents) continue;
        unsigned e = (p[i].revents & (POLLERR | POLLHUP)) ? WSC_READABLE | WSC_WRITABLE : 0u;
        if (p[i].revents & POLLIN) e |= WSC_READABLE;
        if (p[i].revents & POLLOUT) e |= WSC_WRITABLE;
        assert_true(wsc_loop_hook_io(loop, p[i].fd, e) >= 0); /* wsc masks by the interest */
    }
    if (a->due >= 0 && now_ms() >= a->due) {
        a->due = -1; /* one-shot */
        assert_true(wsc_loop_process(loop) >= 0);
    }
}

static void app_until(app *a, wsc_loop *loop, const int *flag, int want) {
    int64_t end = now_ms() + 5000;
    while (*flag < want && now_ms() < end) app_turn(a, loop, 50);
    assert_true(*flag >= want);
}

/* ---- tests ----------------------------------------------------------------- */

typedef struct {
    int reads, writes;
    char log[16];
    int nlog;
} rec;

static void on_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop, (void)w;
    rec *r = user;
    if (events & WSC_READABLE) {
        char c;
        if (read(fd, &c, 1) == 1) r->reads++;
    }
    if (events & WSC_WRITABLE) r->writes++;
}

static void test_watch_through_hooks(void **state) {
    (void)state;
    GUARD();
    app a;
    wsc_loop *loop = new_hooked(&a);
    assert_string_equal(wsc_loop_backend(loop), "hooks");
    assert_int_equal(wsc_loop_fd(loop), -1);
    int wake_adds = a.adds;
    assert_int_equal(wake_adds, 1); /* the wake-up descriptor, at once */
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    rec r = {0};
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_READABLE, on_io, &r, NULL);
    assert_non_null(w);
    assert_int_equal(a.ev[p[0]], WSC_READABLE);
    assert_int_equal(write(p[1], "ab", 2), 2);
    app_until(&a, loop, &r.reads, 2); /* level-triggered: two turns, one byte each */
    /* interest changes map to single add/del calls; none when unchanged */
    int adds = a.adds, dels = a.dels;
    assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_OK);
    assert_int_equal(a.adds, adds + 1);
    assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_OK);
    assert_int_equal(a.adds, adds + 1);
    assert_int_equal(wsc_watch_set(w, WSC_WRITABLE), WSC_OK);
    assert_int_equal(a.dels, dels + 1);
    assert_int_equal(a.ev[p[0]], WSC_WRITABLE);
    assert_int_equal(wsc_watch_set(w, 0), WSC_OK); /* deleted and cleaned up */
    assert_int_equal(a.ev[p[0]], 0);
    assert_int_equal(a.added[p[0]], 0);
    /* a readiness the application had queued for it is ignored */
    assert_int_equal(wsc_loop_hook_io(loop, p[0], WSC_READABLE), 0);
    assert_int_equal(wsc_watch_set(w, WSC_READABLE), WSC_OK); /* a fresh slot again */
    assert_int_equal(a.ev[p[0]], WSC_READABLE);
    wsc_watch_free(w);
    assert_int_equal(a.added[p[0]], 0);
    /* one watch per fd, hooks or not */
    w = wsc_watch_new(loop, p[0], WSC_READABLE, on_io, &r, NULL);
    assert_null(wsc_watch_new(loop, p[0], WSC_READABLE, on_io, &r, NULL));
    wsc_watch_free(w);
    close(p[0]);
    close(p[1]);
    int cleanups = a.cleanups;
    wsc_loop_free(loop);
    assert_int_equal(a.cleanups, cleanups + 1); /* the wake-up's */
    for (int fd = 0; fd < MAXFD; fd++) assert_int_equal(a.ev[fd], 0);
}

static void on_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop, (void)t;
    rec *r = user;
    r->log[r->nlog++] = 'T';
}

static uint64_t fake_clock(void *user) { return *(const uint64_t *)user; }

/* The application hears of a deadline once, however much time passes
   between two timer starts that do not change the earliest deadline. */
static void test_hook_timer_told_once_per_deadline(void **state) {
    (void)state;
    GUARD();
    app a;
    wsc_loop *loop = new_hooked(&a);
    uint64_t now = 1000;
    wsc__loop_set_clock(loop, fake_clock, &now);
    rec r = {0};
    wsc_timer *t1 = wsc_timer_new(loop, on_timer, &r, NULL);
    wsc_timer *t2 = wsc_timer_new(loop, on_timer, &r, NULL);
    assert_int_equal(wsc_timer_start(t1, 30), WSC_OK);
    assert_int_equal(a.timer_calls, 1);
    assert_int_equal(a.last_ms, 30);
    now += 5; /* the application's code runs for 5 ms */
    assert_int_equal(wsc_timer_start(t2, 60), WSC_OK); /* later than t1: no call */
    assert_int_equal(a.timer_calls, 1);
    now += 25; /* t1 is due */
    assert_true(wsc_loop_run_once(loop, 0) >= 0);
    assert_string_equal(r.log, "T");
    assert_int_equal(a.timer_calls, 2); /* now t2's deadline, 30 ms away */
    assert_int_equal(a.last_ms, 30);
    wsc_timer_free(t1);
    wsc_timer_free(t2);
    wsc_loop_free(loop);
}

static void test_timers_through_hooks(void **state) {
    (void)state;
    GUARD();
    app a;
    wsc_loop *loop = new_hooked(&a);
    assert_int_equal(a.timer_calls, 0); /* nothing to arm yet */
    rec r = {0};
    wsc_timer *t1 = wsc_timer_new(loop, on_timer, &r, NULL);
    wsc_timer *t2 = wsc_timer_new(loop, on_timer, &r, NULL);
    assert_int_equal(wsc_timer_start(t1, 30), WSC_OK);
    assert_int_equal(a.timer_calls, 1);
    assert_true(a.last_ms > 0 && a.last_ms <= 30);
    assert_int_equal(wsc_timer_start(t2, 60), WSC_OK); /* not the earliest: no call */
    assert_int_equal(a.timer_calls, 1);
    app_until(&a, loop, &r.nlog, 2);
    assert_string_equal(r.log, "TT");
    assert_int_equal(a.last_ms, -1); /* nothing left: disarmed */
    /* stopping the only timer outside a callback disarms at once */
    assert_int_equal(wsc_timer_start(t1, 10000), WSC_OK);
    assert_true(a.last_ms > 9000);
    wsc_timer_stop(t1);
    assert_int_equal(a.last_ms, -1);
    /* run() and blocking run_once() belong to the application's loop now */
    assert_int_equal(wsc_loop_run(loop), WSC_ESTATE);
    assert_int_equal(wsc_loop_run_once(loop, -1), WSC_ESTATE);
    assert_int_equal(wsc_loop_run_once(loop, 0), 0);
    /* freeing with a timer armed disarms the application's */
    assert_int_equal(wsc_timer_start(t2, 10000), WSC_OK);
    wsc_timer_free(t1);
    wsc_timer_free(t2);
    assert_int_equal(a.last_ms, -1);
    assert_int_equal(wsc_timer_start((t1 = wsc_timer_new(loop, on_timer, &r, NULL)), 5000), WSC_OK);
    int calls = a.timer_calls;
    wsc_loop_free(loop);
    assert_int_equal(a.timer_calls, calls + 1);
    assert_int_equal(a.last_ms, -1);
    free(t1); /* the loop is gone: the memory is the user's, not wsc_timer_free's (loop.h) */
}

static void on_post(wsc_loop *loop, void *user) {
    (void)loop;
    (*(int *)user)++;
}

typedef struct {
    wsc_loop *loop;
    int *n;
} poster;

static void *post_thread(void *arg) {
    poster *p = arg;
    for (int i = 0; i < 100; i++) assert_int_equal(wsc_loop_post(p->loop, on_post, p->n), WSC_OK);
    return NULL;
}

/* Another thread's posts wake the application's loop through the wake-up
   descriptor it was given to watch. */
static void test_posts_through_hooks(void **state) {
    (void)state;
    GUARD();
    app a;
    wsc_loop *loop = new_hooked(&a);
    int n = 0;
    poster p = {loop, &n};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_thread, &p), 0);
    app_until(&a, loop, &n, 100);
    pthread_join(th, NULL);
    assert_int_equal(n, 100);
    wsc_loop_free(loop);
}

typedef struct {
    wsc__defer d;
    int ran;
} dwork;
static void dfn(wsc__defer *d) { ((dwork *)d)->ran++; }

/* Work queued from outside (a send from the application's own callback)
   asks for wsc_loop_process() as soon as possible: the timer hook with 0. */
static void test_deferred_asks_now(void **state) {
    (void)state;
    GUARD();
    app a;
    wsc_loop *loop = new_hooked(&a);
    dwork d;
    memset(&d, 0, sizeof d);
    d.d.fn = dfn;
    wsc__defer_queue(loop, &d.d);
    assert_int_equal(a.last_ms, 0);
    app_until(&a, loop, &d.ran, 1);
    assert_int_equal(a.last_ms, -1);
    wsc_loop_free(loop);
}

static void test_refusals(void **state) {
    (void)state;
    app a;
    wsc_error err;
    wsc_loop_hooks h = {&a, h_add_read, h_del_read, h_add_write, h_del_write, h_cleanup, NULL};
    memset(&err, 0, sizeof err);
    assert_null(wsc_loop_new_hooks(&h, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_null(wsc_loop_new_hooks(NULL, &err));
    /* the application refuses the wake-up descriptor: no loop */
    memset(&a, 0, sizeof a);
    a.refuse_read = 1;
    h.timer = h_timer;
    memset(&err, 0, sizeof err);
    assert_null(wsc_loop_new_hooks(&h, &err));
    assert_int_equal(err.code, WSC_EIO);
    /* ... or a watch: it fails with WSC_EIO and nothing stays registered */
    wsc_loop *loop = new_hooked(&a);
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    a.refuse_read = 1;
    rec r = {0};
    memset(&err, 0, sizeof err);
    assert_null(wsc_watch_new(loop, p[0], WSC_READABLE, on_io, &r, &err));
    assert_int_equal(err.code, WSC_EIO);
    assert_int_equal(a.added[p[0]], 0);
    a.refuse_read = 0;
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_WRITABLE, on_io, &r, NULL);
    assert_non_null(w);
    a.refuse_read = 1; /* adding READABLE to it fails and leaves WRITABLE */
    assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_EIO);
    assert_int_equal(wsc_watch_events(w), WSC_WRITABLE);
    assert_int_equal(a.ev[p[0]], WSC_WRITABLE);
    a.refuse_read = 0;
    /* hook_io: bad arguments, wrong kind of loop */
    assert_int_equal(wsc_loop_hook_io(loop, -1, WSC_READABLE), WSC_EINVAL);
    assert_int_equal(wsc_loop_hook_io(loop, p[0], 8u), WSC_EINVAL);
    wsc_loop *plain = wsc_loop_new(NULL);
    assert_int_equal(wsc_loop_hook_io(plain, p[0], WSC_READABLE), WSC_ESTATE);
    wsc_loop_free(plain);
    /* a watch the user did not free is cleaned up by wsc_loop_free */
    int cleanups = a.cleanups;
    wsc_loop_free(loop);
    assert_int_equal(a.cleanups, cleanups + 2);
    assert_int_equal(a.ev[p[0]], 0);
    close(p[0]);
    close(p[1]);
    free(w); /* the loop is gone: the memory is the user's, not wsc_watch_free's (loop.h) */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_through_hooks),
        cmocka_unit_test(test_timers_through_hooks),
        cmocka_unit_test(test_hook_timer_told_once_per_deadline),
        cmocka_unit_test(test_posts_through_hooks),
        cmocka_unit_test(test_deferred_asks_now),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
