/* test_loop.c - the event loop: watches, timers, foreign-loop API, posts. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "io/loop_internal.h"
#include "wsc/loop.h"

/* A test that hangs fails here (SIGALRM kills it) instead of at ctest's timeout. */
#define GUARD() alarm(30)

static wsc_loop *new_loop(void) {
    wsc_error err;
    memset(&err, 0, sizeof err);
    wsc_loop *loop = wsc_loop_new(&err);
    assert_non_null(loop);
    assert_int_equal(err.code, WSC_OK);
    return loop;
}

static void make_pipe(int p[2]) { assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0); }

static void make_socketpair(int s[2]) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s), 0);
}

static void put_byte(int fd) { assert_int_equal(write(fd, "x", 1), 1); }

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* --- watches ------------------------------------------------------------- */

typedef struct io_rec {
    int calls;
    int fd;
    unsigned events;
    int drain; /* read one byte in the callback */
} io_rec;

static void record_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    io_rec *r = user;
    r->calls++;
    r->fd = fd;
    r->events = events;
    if (r->drain) {
        char c;
        (void)!read(fd, &c, 1);
    }
}

static void test_pipe_readable(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int p[2];
    make_pipe(p);
    io_rec r = {0, -1, 0, 1};
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_READABLE, record_io, &r, NULL);
    assert_non_null(w);
    assert_int_equal(wsc_watch_events(w), WSC_READABLE);

    assert_int_equal(wsc_loop_run_once(loop, 0), 0); /* nothing to read yet */
    assert_int_equal(r.calls, 0);

    put_byte(p[1]);
    assert_int_equal(wsc_loop_run_once(loop, -1), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fd, p[0]);
    assert_int_equal(r.events, WSC_READABLE);

    assert_int_equal(wsc_loop_run_once(loop, 0), 0); /* drained: level-triggered, quiet */

    /* hang-up: the writer closes, the reader is told READABLE (read returns 0) */
    close(p[1]);
    assert_int_equal(wsc_loop_run_once(loop, -1), 1);
    assert_int_equal(r.events, WSC_READABLE);

    wsc_watch_free(w);
    close(p[0]);
    wsc_loop_free(loop);
}

static void test_socketpair_writable(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int s[2];
    make_socketpair(s);
    io_rec r = {0, -1, 0, 0};
    wsc_watch *w = wsc_watch_new(loop, s[0], WSC_READABLE | WSC_WRITABLE, record_io, &r, NULL);
    assert_non_null(w);
    assert_int_equal(wsc_loop_run_once(loop, -1), 1);
    assert_int_equal(r.events, WSC_WRITABLE); /* writable, nothing to read */
    put_byte(s[1]);
    assert_int_equal(wsc_loop_run_once(loop, -1), 1);
    assert_int_equal(r.events, WSC_READABLE | WSC_WRITABLE);
    wsc_watch_free(w);
    close(s[0]);
    close(s[1]);
    wsc_loop_free(loop);
}

static void test_watch_set(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int s[2];
    make_socketpair(s);
    io_rec r = {0, -1, 0, 0};
    wsc_watch *w = wsc_watch_new(loop, s[0], WSC_READABLE, record_io, &r, NULL);
    assert_non_null(w);
    assert_int_equal(wsc_loop_run_once(loop, 0), 0);

    assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_OK);
    assert_int_equal(wsc_watch_events(w), WSC_READABLE | WSC_WRITABLE);
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(r.events, WSC_WRITABLE);

    /* unchanged interest: accepted, same state */
    assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);

    assert_int_equal(wsc_watch_set(w, WSC_READABLE), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, 0), 0);
    assert_int_equal(r.calls, 2);

    /* interest 0: silent even when readable and hung up; run() has nothing left */
    put_byte(s[1]);
    close(s[1]);
    assert_int_equal(wsc_watch_set(w, 0), WSC_OK);
    assert_int_equal(wsc_watch_events(w), 0);
    assert_int_equal(wsc_loop_run_once(loop, 0), 0);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(r.calls, 2);

    /* back on: the pending byte and the hang-up are reported */
    assert_int_equal(wsc_watch_set(w, WSC_READABLE), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(r.events, WSC_READABLE);

    assert_int_equal(wsc_watch_set(w, 4u), WSC_EINVAL);
    assert_int_equal(wsc_watch_events(w), WSC_READABLE);

    wsc_watch_free(w);
    close(s[0]);
    wsc_loop_free(loop);
}

/* With the fd closed behind the loop's back, any epoll_ctl fails (EBADF), so
   an OK return proves that no syscall was made. */
static void test_watch_set_unchanged_makes_no_syscall(void **state) {
    wsc_loop *loop = new_loop();
    int p[2];
    make_pipe(p);
    io_rec r = {0, -1, 0, 0};
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_READABLE, record_io, &r, NULL);
    assert_non_null(w);
    close(p[0]);
    assert_int_equal(wsc_watch_set(w, WSC_READABLE), WSC_OK);               /* no syscall */
    /* epoll: MOD is a syscall and fails. poll: changing an interest is never
       a syscall (the closed fd would show as POLLNVAL at the next wait). */
    int on_poll = strcmp(wsc_loop_backend(loop), "poll") == 0;
    if (!on_poll) {
        assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_EINVAL); /* MOD tried */
        assert_int_equal(wsc_watch_events(w), WSC_READABLE); /* failure left it unchanged */
    } else {
        assert_int_equal(wsc_watch_set(w, WSC_READABLE | WSC_WRITABLE), WSC_OK);
        assert_int_equal(wsc_watch_events(w), WSC_READABLE | WSC_WRITABLE);
    }
    wsc_watch_free(w);

    /* started with interest 0: nothing registered until a non-zero set */
    wsc_watch e;
    wsc__watch_init(&e, loop, record_io, &r);
    assert_int_equal(wsc__watch_start(&e, p[0], 0), WSC_OK);
    assert_int_equal(wsc_watch_set(&e, 0), WSC_OK);
    assert_int_equal(wsc_watch_set(&e, WSC_READABLE), WSC_EINVAL); /* ADD tried */
    wsc__watch_stop(&e);
    close(p[1]);
    wsc_loop_free(loop);
}

static void test_watch_errors(void **state) {
    wsc_loop *loop = new_loop();
    wsc_error err;
    io_rec r = {0, -1, 0, 0};

    /* a regular file cannot be polled */
    char path[] = "/tmp/wsc_test_loop_XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    memset(&err, 0, sizeof err);
    assert_null(wsc_watch_new(loop, f, WSC_READABLE, record_io, &r, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_true(strlen(err.message) > 0);
    close(f);

    /* one watch per fd */
    int p[2];
    make_pipe(p);
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_READABLE, record_io, &r, NULL);
    assert_non_null(w);
    memset(&err, 0, sizeof err);
    assert_null(wsc_watch_new(loop, p[0], WSC_READABLE, record_io, &r, &err));
    assert_int_equal(err.code, WSC_EINVAL);

    memset(&err, 0, sizeof err);
    assert_null(wsc_watch_new(loop, -1, WSC_READABLE, record_io, &r, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_null(wsc_watch_new(loop, p[1], 8u, record_io, &r, &err));
    assert_null(wsc_watch_new(loop, p[1], WSC_WRITABLE, NULL, &r, &err));

    wsc_watch_free(w);
    wsc_watch_free(NULL);
    close(p[0]);
    close(p[1]);
    wsc_loop_free(loop);
}

/* Two fds ready in one batch; whichever callback runs first frees the other
   watch. The other must not be dispatched (ASan: no use after free). */
typedef struct pair_ctx {
    wsc_watch *w[2];
    int calls;
    int embedded; /* stop instead of free */
} pair_ctx;

static void free_other(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    pair_ctx *c = user;
    c->calls++;
    int other = c->w[0] == w ? 1 : 0;
    assert_ptr_equal(c->w[1 - other], w);
    if (c->embedded) wsc__watch_stop(c->w[other]);
    else wsc_watch_free(c->w[other]);
    c->w[other] = NULL;
}

static void test_free_pending_in_batch(void **state) {
    GUARD();
    for (int round = 0; round < 20; round++) {
        wsc_loop *loop = new_loop();
        int a[2], b[2];
        make_pipe(a);
        make_pipe(b);
        put_byte(a[1]);
        put_byte(b[1]);
        pair_ctx c = {{NULL, NULL}, 0, 0};
        c.w[0] = wsc_watch_new(loop, a[0], WSC_READABLE, free_other, &c, NULL);
        c.w[1] = wsc_watch_new(loop, b[0], WSC_READABLE, free_other, &c, NULL);
        assert_non_null(c.w[0]);
        assert_non_null(c.w[1]);
        assert_int_equal(wsc_loop_run_once(loop, 0), 1);
        assert_int_equal(c.calls, 1);
        assert_true((c.w[0] == NULL) != (c.w[1] == NULL));
        wsc_watch_free(c.w[0] ? c.w[0] : c.w[1]);
        close(a[0]), close(a[1]), close(b[0]), close(b[1]);
        wsc_loop_free(loop);
    }
}

/* Same, with embedded watches and wsc__watch_stop(). */
static void test_stop_pending_in_batch_embedded(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int a[2], b[2];
    make_pipe(a);
    make_pipe(b);
    put_byte(a[1]);
    put_byte(b[1]);
    struct {
        wsc_watch w;
        int pad;
    } obj[2];
    pair_ctx c = {{&obj[0].w, &obj[1].w}, 0, 1};
    wsc__watch_init(&obj[0].w, loop, free_other, &c);
    wsc__watch_init(&obj[1].w, loop, free_other, &c);
    assert_int_equal(wsc_watch_set(&obj[0].w, WSC_READABLE), WSC_ESTATE); /* not started */
    assert_int_equal(wsc__watch_start(&obj[0].w, a[0], WSC_READABLE), WSC_OK);
    assert_int_equal(wsc__watch_start(&obj[0].w, a[0], WSC_READABLE), WSC_ESTATE);
    assert_int_equal(wsc__watch_start(&obj[1].w, b[0], WSC_READABLE), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(c.calls, 1);
    /* the stopped one can be started again, on the same fd */
    int stopped = c.w[0] == NULL ? 0 : 1;
    assert_int_equal(wsc__watch_start(&obj[stopped].w, stopped ? b[0] : a[0], WSC_READABLE), WSC_OK);
    wsc__watch_stop(&obj[0].w);
    wsc__watch_stop(&obj[1].w);
    wsc__watch_stop(&obj[1].w); /* no-op */
    assert_int_equal(wsc_loop_run(loop), WSC_OK); /* nothing left */
    close(a[0]), close(a[1]), close(b[0]), close(b[1]);
    wsc_loop_free(loop);
}

static void free_self(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (*(int *)user)++;
    wsc_watch_free(w);
}

static void test_watch_frees_itself(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int p[2];
    make_pipe(p);
    put_byte(p[1]);
    int calls = 0;
    assert_non_null(wsc_watch_new(loop, p[0], WSC_READABLE, free_self, &calls, NULL));
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(calls, 1);
    assert_int_equal(wsc_loop_run_once(loop, 0), 0); /* still readable, no longer watched */
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(calls, 1);
    close(p[0]);
    close(p[1]);
    wsc_loop_free(loop);
}

/* --- timers -------------------------------------------------------------- */

#define MAXREC 2048
typedef struct tlog {
    int n;
    int ids[MAXREC];
} tlog;

typedef struct tctx {
    tlog *log;
    int id;
    uint64_t due; /* expected deadline: wsc_loop_now() at start + delay */
} tctx;

static void log_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    tctx *c = user;
    assert_false(wsc_timer_active(t));
    assert_true(wsc_loop_now(loop) >= c->due);
    assert_true(c->log->n < MAXREC);
    c->log->ids[c->log->n++] = c->id;
}

static wsc_timer *new_timer(wsc_loop *loop, tctx *c, tlog *log, int id) {
    c->log = log;
    c->id = id;
    c->due = 0;
    wsc_error err;
    wsc_timer *t = wsc_timer_new(loop, log_timer, c, &err);
    assert_non_null(t);
    assert_false(wsc_timer_active(t));
    return t;
}

static void test_timer_order(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    static const uint64_t delays[] = {30, 10, 20, 1, 10, 0};
    enum { N = sizeof delays / sizeof delays[0] };
    tlog log = {0, {0}};
    tctx c[N];
    wsc_timer *t[N];
    for (int i = 0; i < N; i++) {
        t[i] = new_timer(loop, &c[i], &log, i);
        assert_int_equal(wsc_timer_start(t[i], delays[i]), WSC_OK);
        c[i].due = wsc_loop_now(loop) + delays[i];
    }
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    /* by deadline; the two 10 ms timers in start order */
    static const int want[N] = {5, 3, 1, 4, 2, 0};
    assert_int_equal(log.n, N);
    for (int i = 0; i < N; i++) assert_int_equal(log.ids[i], want[i]);
    for (int i = 0; i < N; i++) wsc_timer_free(t[i]);
    wsc_loop_free(loop);
}

static void test_timer_restart_moves(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    tlog log = {0, {0}};
    tctx c[3];
    wsc_timer *a = new_timer(loop, &c[0], &log, 0);
    wsc_timer *b = new_timer(loop, &c[1], &log, 1);
    wsc_timer *d = new_timer(loop, &c[2], &log, 2);
    assert_int_equal(wsc_timer_start(a, 5), WSC_OK);
    assert_int_equal(wsc_timer_start(b, 10), WSC_OK);
    assert_int_equal(wsc_timer_start(d, 30), WSC_OK);
    uint64_t now = wsc_loop_now(loop);
    c[0].due = now + 20, c[1].due = now + 10, c[2].due = now + 1;
    assert_int_equal(wsc_timer_start(a, 20), WSC_OK); /* later */
    assert_int_equal(wsc_timer_start(d, 1), WSC_OK);  /* earlier */
    assert_true(wsc_timer_active(a));
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.ids[0], 2);
    assert_int_equal(log.ids[1], 1);
    assert_int_equal(log.ids[2], 0);
    wsc_timer_free(a);
    wsc_timer_free(b);
    wsc_timer_free(d);
    wsc_loop_free(loop);
}

static void test_timer_stop(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    tlog log = {0, {0}};
    tctx c[3];
    wsc_timer *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = new_timer(loop, &c[i], &log, i);
        assert_int_equal(wsc_timer_start(t[i], (uint64_t)(1 + 2 * i)), WSC_OK);
        c[i].due = wsc_loop_now(loop) + (uint64_t)(1 + 2 * i);
    }
    wsc_timer_stop(t[0]);
    wsc_timer_stop(t[0]); /* no-op */
    assert_false(wsc_timer_active(t[0]));
    wsc_timer_free(t[2]); /* free of an active timer removes it */
    sleep_ms(10);         /* t[0] and t[2] would be overdue now */
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ids[0], 1);
    wsc_timer_free(t[0]);
    wsc_timer_free(t[1]);
    wsc_loop_free(loop);
}

/* Re-arms itself with delay 0; on its 3rd run makes a pipe readable. If a
   re-armed timer could fire again in the same pass this would never return. */
typedef struct spin_ctx {
    int fires;
    int wfd;
    int io_seen_at; /* fires when the watch ran */
} spin_ctx;

static void spin_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    spin_ctx *c = user;
    c->fires++;
    if (c->fires == 3) put_byte(c->wfd);
    assert_int_equal(wsc_timer_start(t, 0), WSC_OK);
}

static void spin_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    spin_ctx *c = user;
    c->io_seen_at = c->fires;
    wsc_loop_stop(loop);
}

static void test_timer_zero_delay_no_starvation(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int p[2];
    make_pipe(p);
    spin_ctx c = {0, p[1], -1};
    wsc_timer *t = wsc_timer_new(loop, spin_timer, &c, NULL);
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_READABLE, spin_io, &c, NULL);
    assert_int_equal(wsc_timer_start(t, 0), WSC_OK);
    /* one pass, one firing */
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(c.fires, 1);
    assert_int_equal(wsc_loop_run_once(loop, -1), 1);
    assert_int_equal(c.fires, 2);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(c.io_seen_at, 3); /* the very next iteration */
    wsc_watch_free(w);
    wsc_timer_free(t);
    close(p[0]);
    close(p[1]);
    wsc_loop_free(loop);
}

static void free_timer_self(wsc_loop *loop, wsc_timer *t, void *user) {
    (*(int *)user)++;
    wsc_timer_free(t);
}

static void test_timer_frees_itself(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int calls = 0;
    wsc_timer *t = wsc_timer_new(loop, free_timer_self, &calls, NULL);
    assert_int_equal(wsc_timer_start(t, 0), WSC_OK);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(calls, 1);
    wsc_loop_free(loop);
}

/* 1000 timers, random delays 0..30 ms, some stopped and some restarted:
   every live one fires once, in non-decreasing deadline order, ties FIFO. */
typedef struct many {
    uint64_t due[1000];
    uint64_t order[1000]; /* start order */
    int fired[1000];
    int seq[1000];
    int n;
    int last;
} many;

typedef struct many_ctx {
    many *m;
    int id;
} many_ctx;

static void many_cb(wsc_loop *loop, wsc_timer *t, void *user) {
    many_ctx *c = user;
    many *m = c->m;
    assert_true(wsc_loop_now(loop) >= m->due[c->id]);
    m->fired[c->id]++;
    if (m->last >= 0) {
        int p = m->last;
        assert_true(m->due[p] < m->due[c->id] ||
                    (m->due[p] == m->due[c->id] && m->order[p] < m->order[c->id]));
    }
    m->last = c->id;
    m->n++;
}

static void test_timer_many_random(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    static many m;
    static many_ctx ctx[1000];
    static wsc_timer *t[1000];
    memset(&m, 0, sizeof m);
    m.last = -1;
    srand(12345);
    uint64_t order = 0;
    for (int i = 0; i < 1000; i++) {
        ctx[i].m = &m;
        ctx[i].id = i;
        t[i] = wsc_timer_new(loop, many_cb, &ctx[i], NULL);
        assert_non_null(t[i]);
        uint64_t d = (uint64_t)(rand() % 31);
        assert_int_equal(wsc_timer_start(t[i], d), WSC_OK);
        m.due[i] = wsc_loop_now(loop) + d;
        m.order[i] = order++;
    }
    int live = 1000;
    for (int i = 0; i < 1000; i += 7) { /* stop 143 */
        wsc_timer_stop(t[i]);
        live--;
    }
    for (int i = 3; i < 1000; i += 11) { /* restart some, stopped ones included */
        if (!wsc_timer_active(t[i])) live++;
        uint64_t d = (uint64_t)(rand() % 31);
        assert_int_equal(wsc_timer_start(t[i], d), WSC_OK);
        m.due[i] = wsc_loop_now(loop) + d;
        m.order[i] = order++;
    }
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(m.n, live);
    for (int i = 0; i < 1000; i++) {
        int expect = (i % 7 == 0 && (i < 3 || (i - 3) % 11 != 0)) ? 0 : 1;
        assert_int_equal(m.fired[i], expect);
        wsc_timer_free(t[i]);
    }
    wsc_loop_free(loop);
}

/* --- run / stop / ref ----------------------------------------------------- */

static void test_run_returns_when_empty(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, -1), 0); /* must not block */
    assert_int_equal(wsc_loop_next_timeout(loop), -1);
    /* a stopped timer and a silent watch keep nothing alive */
    tlog log = {0, {0}};
    tctx c;
    wsc_timer *t = new_timer(loop, &c, &log, 0);
    int p[2];
    make_pipe(p);
    io_rec r = {0, -1, 0, 0};
    wsc_watch *w = wsc_watch_new(loop, p[0], 0, record_io, &r, NULL);
    assert_non_null(w);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, -1), 0);
    /* a timer keeps it alive until it fired */
    assert_int_equal(wsc_timer_start(t, 2), WSC_OK);
    c.due = wsc_loop_now(loop) + 2;
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(log.n, 1);
    wsc_watch_free(w);
    wsc_timer_free(t);
    close(p[0]);
    close(p[1]);
    wsc_loop_free(loop);
}

static void stop_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (*(int *)user)++;
    wsc_loop_stop(loop);
}

static void test_stop_from_callback(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int s1[2], s2[2];
    make_socketpair(s1);
    make_socketpair(s2);
    int calls = 0;
    /* both always writable: run() would never end without stop() */
    wsc_watch *a = wsc_watch_new(loop, s1[0], WSC_WRITABLE, stop_io, &calls, NULL);
    wsc_watch *b = wsc_watch_new(loop, s2[0], WSC_WRITABLE, stop_io, &calls, NULL);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(calls, 1); /* returned right after the first callback */
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(calls, 2);
    /* run_once stops after the first callback too */
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(calls, 3);
    wsc_watch_free(a);
    wsc_watch_free(b);
    /* a stop() while the loop is not running has no effect on the next run() */
    int fired = 0;
    wsc_timer *t = wsc_timer_new(loop, free_timer_self, &fired, NULL);
    assert_int_equal(wsc_timer_start(t, 0), WSC_OK);
    wsc_loop_stop(loop);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(fired, 1);
    close(s1[0]), close(s1[1]), close(s2[0]), close(s2[1]);
    wsc_loop_free(loop);
}

static void reenter(wsc_loop *loop, wsc_timer *t, void *user) {
    int *r = user;
    r[0] = wsc_loop_run(loop);
    r[1] = wsc_loop_run_once(loop, 0);
    r[2] = wsc_loop_process(loop);
}

static void test_reentry_refused(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int r[3] = {0, 0, 0};
    wsc_timer *t = wsc_timer_new(loop, reenter, r, NULL);
    assert_int_equal(wsc_timer_start(t, 0), WSC_OK);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(r[0], WSC_ESTATE);
    assert_int_equal(r[1], WSC_ESTATE);
    assert_int_equal(r[2], WSC_ESTATE);
    wsc_timer_free(t);
    wsc_loop_free(loop);
}

typedef struct delayed_post {
    wsc_loop *loop;
    int delay_ms;
    int ran;
    pthread_t loop_thread;
    int on_loop_thread;
} delayed_post;

static void unref_post(wsc_loop *loop, void *user) {
    delayed_post *d = user;
    d->ran++;
    d->on_loop_thread = pthread_equal(pthread_self(), d->loop_thread);
    wsc_loop_unref(loop);
}

static void *post_later(void *arg) {
    delayed_post *d = arg;
    sleep_ms(d->delay_ms);
    assert_int_equal(wsc_loop_post(d->loop, unref_post, d), WSC_OK);
    return NULL;
}

static void test_ref_keeps_run_alive(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    delayed_post d = {loop, 30, 0, pthread_self(), 0};
    wsc_loop_ref(loop);
    wsc_loop_ref(loop);
    wsc_loop_unref(loop); /* counted: one left */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_later, &d), 0);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(d.ran, 1); /* run() waited for the thread's post */
    assert_true(d.on_loop_thread);
    pthread_join(th, NULL);
    wsc_loop_unref(loop); /* below zero: ignored */
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    wsc_loop_free(loop);
}

/* --- foreign loop ---------------------------------------------------------- */

/* A chain whose order does not depend on timing: C (2 ms) before A (4 ms);
   A writes the pipe; the watch reads it and starts B. */
typedef struct fctx {
    char log[8];
    int n;
    int wfd;
    wsc_timer *b;
} fctx;

static void f_log(fctx *c, char ch) {
    assert_true(c->n < 7);
    c->log[c->n++] = ch;
}
static void f_timer_c(wsc_loop *loop, wsc_timer *t, void *user) { f_log(user, 'C'); }
static void f_timer_b(wsc_loop *loop, wsc_timer *t, void *user) { f_log(user, 'B'); }
static void f_timer_a(wsc_loop *loop, wsc_timer *t, void *user) {
    fctx *c = user;
    f_log(c, 'A');
    put_byte(c->wfd);
}
static void f_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    fctx *c = user;
    char ch;
    assert_int_equal(read(fd, &ch, 1), 1);
    f_log(c, 'I');
    assert_int_equal(wsc_timer_start(c->b, 3), WSC_OK);
}

static void note_post(wsc_loop *loop, void *user) {
    if (user) (*(int *)user)++;
}

static void test_foreign_loop(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    if (wsc_loop_fd(loop) < 0) { /* the poll backend has no single fd */
        assert_string_equal(wsc_loop_backend(loop), "poll");
        wsc_loop_free(loop);
        skip();
    }
    int p[2];
    make_pipe(p);
    fctx c;
    memset(&c, 0, sizeof c);
    c.wfd = p[1];
    assert_int_equal(wsc_loop_next_timeout(loop), -1);
    wsc_timer *a = wsc_timer_new(loop, f_timer_a, &c, NULL);
    wsc_timer *tc = wsc_timer_new(loop, f_timer_c, &c, NULL);
    c.b = wsc_timer_new(loop, f_timer_b, &c, NULL);
    assert_int_equal(wsc_timer_start(a, 4), WSC_OK);
    assert_int_equal(wsc_timer_start(tc, 2), WSC_OK);
    int nt = wsc_loop_next_timeout(loop);
    assert_true(nt >= 0 && nt <= 2);
    wsc_watch *w = wsc_watch_new(loop, p[0], WSC_READABLE, f_io, &c, NULL);
    assert_non_null(w);

    /* a program's own poll() loop */
    int iterations = 0;
    while (c.n < 4) {
        assert_true(++iterations < 100000);
        struct pollfd pfd = {wsc_loop_fd(loop), POLLIN, 0};
        int timeout = wsc_loop_next_timeout(loop);
        assert_true(timeout >= -1); /* -1 only while the pipe is readable */
        assert_true(poll(&pfd, 1, timeout) >= 0);
        assert_true(wsc_loop_process(loop) >= 0);
    }
    assert_string_equal(c.log, "CAIB");
    assert_int_equal(wsc_loop_next_timeout(loop), -1);

    /* a post makes the loop fd readable */
    int posts = 0;
    struct pollfd pfd = {wsc_loop_fd(loop), POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    assert_int_equal(wsc_loop_post(loop, note_post, &posts), WSC_OK);
    assert_int_equal(poll(&pfd, 1, 0), 1);
    assert_int_equal(wsc_loop_process(loop), 1);
    assert_int_equal(posts, 1);
    assert_int_equal(poll(&pfd, 1, 0), 0);

    /* a far timer: the timeout is its distance */
    assert_int_equal(wsc_timer_start(a, 100000), WSC_OK);
    nt = wsc_loop_next_timeout(loop);
    assert_true(nt > 99000 && nt <= 100000);

    wsc_watch_free(w);
    wsc_timer_free(a);
    wsc_timer_free(tc);
    wsc_timer_free(c.b);
    close(p[0]);
    close(p[1]);
    wsc_loop_free(loop);
}

/* --- posts ----------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 1000

typedef struct post_state {
    wsc_loop *loop;
    pthread_t loop_thread;
    int next[THREADS]; /* next expected sequence number per thread */
    int total;
    int wrong_thread;
} post_state;

typedef struct poster {
    post_state *ps;
    int tid;
} poster;

static post_state g_ps;

static void count_post(wsc_loop *loop, void *user) {
    uintptr_t v = (uintptr_t)user;
    int tid = (int)(v >> 16), seq = (int)(v & 0xffff);
    if (!pthread_equal(pthread_self(), g_ps.loop_thread)) g_ps.wrong_thread++;
    assert_true(tid >= 0 && tid < THREADS);
    assert_int_equal(seq, g_ps.next[tid]); /* FIFO per thread, each once */
    g_ps.next[tid]++;
    if (++g_ps.total == THREADS * PER_THREAD) wsc_loop_unref(loop);
}

static void *poster_main(void *arg) {
    poster *p = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        void *v = (void *)(((uintptr_t)p->tid << 16) | (uintptr_t)i);
        int r;
        while ((r = wsc_loop_post(p->ps->loop, count_post, v)) == WSC_ENOMEM) sleep_ms(1);
        if (r != WSC_OK) abort();
        if (i % 100 == 0) sleep_ms(1); /* let the loop block now and then */
    }
    return NULL;
}

static void test_post_threads(void **state) {
    GUARD();
    memset(&g_ps, 0, sizeof g_ps);
    g_ps.loop = new_loop();
    g_ps.loop_thread = pthread_self();
    wsc_loop_ref(g_ps.loop); /* dropped by the last post */
    pthread_t th[THREADS];
    poster ps[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ps[i].ps = &g_ps;
        ps[i].tid = i;
        assert_int_equal(pthread_create(&th[i], NULL, poster_main, &ps[i]), 0);
    }
    assert_int_equal(wsc_loop_run(g_ps.loop), WSC_OK);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    assert_int_equal(g_ps.total, THREADS * PER_THREAD);
    for (int i = 0; i < THREADS; i++) assert_int_equal(g_ps.next[i], PER_THREAD);
    assert_int_equal(g_ps.wrong_thread, 0);
    assert_int_equal(wsc_loop_run_once(g_ps.loop, 0), 0); /* nothing ran twice */
    wsc_loop_free(g_ps.loop);
}

static void test_post_wakes_blocked_run_once(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    delayed_post d = {loop, 20, 0, pthread_self(), 0};
    wsc_loop_ref(loop); /* else run_once(-1) would return at once */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_later, &d), 0);
    int n = 0;
    while (n == 0) n = wsc_loop_run_once(loop, -1); /* blocks until the post */
    assert_int_equal(n, 1);
    assert_int_equal(d.ran, 1);
    assert_true(d.on_loop_thread);
    pthread_join(th, NULL);
    wsc_loop_free(loop);
}

/* A post queued by a post runs in the next iteration, not the same one. */
static void repost(wsc_loop *loop, void *user) {
    int *n = user;
    if (++*n < 3) assert_int_equal(wsc_loop_post(loop, repost, n), WSC_OK);
}

static void stop_post(wsc_loop *loop, void *user) {
    (*(int *)user)++;
    wsc_loop_stop(loop);
}

static void test_post_order_and_stop(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    int n = 0;
    assert_int_equal(wsc_loop_post(loop, repost, &n), WSC_OK);
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(n, 1);
    assert_int_equal(wsc_loop_run_once(loop, 0), 1);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(n, 3);

    /* stop() in a post leaves the rest queued, in order, and pending */
    int a = 0, b = 0;
    assert_int_equal(wsc_loop_post(loop, stop_post, &a), WSC_OK);
    assert_int_equal(wsc_loop_post(loop, note_post, &b), WSC_OK);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
    assert_int_equal(wsc_loop_next_timeout(loop), 0);
    assert_int_equal(wsc_loop_run_once(loop, -1), 1);
    assert_int_equal(b, 1);
    assert_int_equal(wsc_loop_post(loop, NULL, NULL), WSC_EINVAL);

    /* posts still queued at free are dropped without a leak */
    assert_int_equal(wsc_loop_post(loop, note_post, &b), WSC_OK);
    wsc_loop_free(loop);
    assert_int_equal(b, 1);
}

/* --- order within an iteration, time, memory ---------------------------------- */

typedef struct phase_ctx {
    char seen[8];
    int n;
} phase_ctx;

static void phase_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    phase_ctx *c = user;
    c->seen[c->n++] = 'i';
    wsc_watch_set(w, 0);
}
static void phase_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    phase_ctx *c = user;
    c->seen[c->n++] = 't';
}
static void phase_post(wsc_loop *loop, void *user) {
    phase_ctx *c = user;
    c->seen[c->n++] = 'p';
}

static void test_iteration_order(void **state) {
    GUARD();
    wsc_loop *loop = new_loop();
    phase_ctx c;
    memset(&c, 0, sizeof c);
    int s[2];
    make_socketpair(s);
    assert_int_equal(wsc_loop_post(loop, phase_post, &c), WSC_OK);
    wsc_timer *t = wsc_timer_new(loop, phase_timer, &c, NULL);
    assert_int_equal(wsc_timer_start(t, 0), WSC_OK);
    wsc_watch *w = wsc_watch_new(loop, s[0], WSC_WRITABLE, phase_io, &c, NULL);
    assert_int_equal(wsc_loop_run_once(loop, 0), 3);
    assert_string_equal(c.seen, "itp");
    wsc_watch_free(w);
    wsc_timer_free(t);
    close(s[0]);
    close(s[1]);
    wsc_loop_free(loop);
}

static void test_now_monotonic(void **state) {
    wsc_loop *loop = new_loop();
    uint64_t a = wsc_loop_now(loop);
    assert_true(a > 0);
    sleep_ms(3);
    assert_int_equal(wsc_loop_now(loop), a); /* cached */
    wsc_loop_update_time(loop);
    uint64_t b = wsc_loop_now(loop);
    assert_true(b >= a + 3);
    wsc_loop_run_once(loop, 0);
    assert_true(wsc_loop_now(loop) >= b);
    wsc_loop_free(loop);
}

static void test_embedded_sizes(void **state) {
    if (sizeof(void *) == 8) {
        assert_int_equal(sizeof(wsc_watch), 32);
        assert_int_equal(sizeof(wsc_timer), 48);
    }
    wsc_loop *loop = new_loop();
    struct {
        wsc_timer t;
        int fired;
    } obj;
    wsc__timer_init(&obj.t, loop, phase_timer, NULL);
    assert_false(wsc_timer_active(&obj.t));
    assert_int_equal(wsc_timer_start(&obj.t, 1000), WSC_OK);
    assert_true(wsc_timer_active(&obj.t));
    wsc_timer_stop(&obj.t);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    wsc_loop_free(loop);
    wsc_loop_free(NULL);
}

/* Allocator that fails after `budget` more allocations. */
static long g_budget = -1;
static void *budget_malloc(size_t n) {
    if (g_budget == 0) return NULL;
    if (g_budget > 0) g_budget--;
    return malloc(n);
}
static void *budget_realloc(void *p, size_t n) {
    if (g_budget == 0) return NULL;
    if (g_budget > 0) g_budget--;
    return realloc(p, n);
}

static void test_out_of_memory(void **state) {
    wsc_allocator a = {budget_malloc, budget_realloc, free};
    wsc_set_allocator(&a);
    wsc_error err;

    g_budget = 0;
    memset(&err, 0, sizeof err);
    assert_null(wsc_loop_new(&err));
    assert_int_equal(err.code, WSC_ENOMEM);

    g_budget = -1;
    wsc_loop *loop = new_loop();
    tlog log = {0, {0}};
    tctx c[17];
    wsc_timer *t[17];
    for (int i = 0; i < 17; i++) t[i] = new_timer(loop, &c[i], &log, i);
    for (int i = 0; i < 16; i++) assert_int_equal(wsc_timer_start(t[i], 1000), WSC_OK);
    g_budget = 0; /* the heap holds 16: the 17th needs to grow it */
    assert_int_equal(wsc_timer_start(t[16], 1000), WSC_ENOMEM);
    assert_false(wsc_timer_active(t[16]));
    assert_int_equal(wsc_timer_start(t[3], 5), WSC_OK); /* restart never allocates */
    wsc_timer_stop(t[0]);
    assert_int_equal(wsc_timer_start(t[16], 1000), WSC_OK); /* a free slot */
    assert_int_equal(wsc_loop_post(loop, note_post, NULL), WSC_ENOMEM);
    memset(&err, 0, sizeof err);
    assert_null(wsc_timer_new(loop, phase_timer, NULL, &err));
    assert_int_equal(err.code, WSC_ENOMEM);
    g_budget = -1;
    wsc_set_allocator(NULL);
    for (int i = 0; i < 17; i++) wsc_timer_free(t[i]);
    wsc_loop_free(loop);
}

/* ---- deferred work (wsc__defer): the connection layer's coalesced flush ---- */

typedef struct {
    wsc__defer d;
    int *log;
    int *n;
    int id;
    wsc_loop *loop;
    wsc__defer *requeue; /* queued again from inside fn */
    wsc__defer *cancel;  /* cancelled from inside fn */
} dtest;

static void defer_fn(wsc__defer *d) {
    dtest *t = (dtest *)d;
    t->log[(*t->n)++] = t->id;
    if (t->requeue) wsc__defer_queue(t->loop, t->requeue);
    if (t->cancel) wsc__defer_cancel(t->loop, t->cancel);
}

static void never_cb(wsc_loop *l, wsc_watch *w, int fd, unsigned ev, void *u) {
    (void)l, (void)w, (void)fd, (void)ev, (void)u;
    fail_msg("the silent pipe fired");
}

static void test_defer(void **state) {
    (void)state;
    wsc_loop *loop = wsc_loop_new(NULL);
    int log[16], n = 0;
    dtest a = {{0}, log, &n, 1, loop, NULL, NULL}, b = {{0}, log, &n, 2, loop, NULL, NULL},
          c = {{0}, log, &n, 3, loop, NULL, NULL};
    a.d.fn = b.d.fn = c.d.fn = defer_fn;
    /* nothing queued: no timeout forced */
    assert_int_equal(wsc_loop_next_timeout(loop), -1);
    wsc__defer_queue(loop, &a.d);
    wsc__defer_queue(loop, &b.d);
    wsc__defer_queue(loop, &a.d); /* twice: still once */
    wsc__defer_queue(loop, &c.d);
    wsc__defer_cancel(loop, &c.d);
    /* queued work makes a foreign loop come back at once */
    assert_int_equal(wsc_loop_next_timeout(loop), 0);
    /* run_once(-1) with a silent fd registered must not block once the
       defers ran (if it did, the alarm kills the test) */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    wsc_watch *w = wsc_watch_new(loop, fds[0], WSC_READABLE, never_cb, NULL, NULL);
    assert_non_null(w);
    alarm(10);
    assert_true(wsc_loop_run_once(loop, -1) >= 2);
    alarm(0);
    wsc_watch_free(w);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(n, 2);
    assert_int_equal(log[0], 1); /* FIFO */
    assert_int_equal(log[1], 2);
    assert_int_equal(wsc_loop_next_timeout(loop), -1);
    /* work queued by a defer runs on a later pass, not in the same one */
    n = 0;
    a.requeue = &b.d;
    wsc__defer_queue(loop, &a.d);
    wsc_loop_process(loop);
    assert_int_equal(n, 2); /* a at the start of the iteration, b at its end */
    assert_int_equal(log[1], 2);
    /* a defer may cancel another queued one */
    n = 0;
    a.requeue = NULL;
    a.cancel = &b.d;
    wsc__defer_queue(loop, &a.d);
    wsc__defer_queue(loop, &b.d);
    wsc_loop_process(loop);
    assert_int_equal(n, 1);
    /* run() does not return while work is queued, and returns after it */
    n = 0;
    a.cancel = NULL;
    wsc__defer_queue(loop, &a.d);
    assert_int_equal(wsc_loop_run(loop), WSC_OK);
    assert_int_equal(n, 1);
    wsc_loop_free(loop);
}

/* The shared receive buffer: allocated once, same pointer every time. */
static void test_scratch(void **state) {
    (void)state;
    wsc_loop *loop = wsc_loop_new(NULL);
    uint8_t *a = wsc__loop_scratch(loop);
    assert_non_null(a);
    a[0] = 1;
    a[WSC_LOOP_SCRATCH - 1] = 2; /* the whole size is usable (ASan checks) */
    assert_ptr_equal(wsc__loop_scratch(loop), a);
    wsc_loop_free(loop);
}

/* The send-buffer pool: small buffers are kept up to its limits, one large
   buffer (over WSC_LOOP_POOL_MAX, at most WSC_LOOP_BIG_MAX) is kept apart and
   handed out only for a large need, the larger of two is kept, anything
   larger is freed (ASan/LSan check that nothing leaks or is kept twice). */
static void test_buf_pool(void **state) {
    (void)state;
    wsc_loop *loop = wsc_loop_new(NULL);
    size_t cap = 0;
    uint8_t *s = wsc__loop_buf_get(loop, 10, &cap);
    assert_non_null(s);
    assert_int_equal(cap, WSC_LOOP_POOL_MIN);
    wsc__loop_buf_put(loop, s, cap);
    assert_ptr_equal(wsc__loop_buf_get(loop, 10, &cap), s); /* reused */
    assert_int_equal(cap, WSC_LOOP_POOL_MIN);
    free(s);

    size_t bigcap = (size_t)WSC_LOOP_POOL_MAX * 4 + 14;
    uint8_t *b = malloc(bigcap);
    assert_non_null(b);
    b[bigcap - 1] = 1;
    wsc__loop_buf_put(loop, b, bigcap);
    /* a small need gets a small buffer, not the large one */
    uint8_t *s2 = wsc__loop_buf_get(loop, 100, &cap);
    assert_ptr_not_equal(s2, b);
    free(s2);
    /* a large need gets the large one, with its capacity */
    assert_ptr_equal(wsc__loop_buf_get(loop, WSC_LOOP_POOL_MAX + 1, &cap), b);
    assert_int_equal(cap, bigcap);
    /* nothing large left: a small buffer (the core grows it) */
    uint8_t *s3 = wsc__loop_buf_get(loop, WSC_LOOP_POOL_MAX + 1, &cap);
    assert_non_null(s3);
    assert_int_equal(cap, WSC_LOOP_POOL_MIN);
    free(s3);
    /* two large ones put back: the larger is kept */
    uint8_t *b2 = malloc(bigcap / 2);
    assert_non_null(b2);
    wsc__loop_buf_put(loop, b, bigcap);
    wsc__loop_buf_put(loop, b2, bigcap / 2);
    assert_ptr_equal(wsc__loop_buf_get(loop, WSC_LOOP_POOL_MAX + 1, &cap), b);
    wsc__loop_buf_put(loop, b, bigcap);
    /* over WSC_LOOP_BIG_MAX: freed, the kept one stays */
    uint8_t *huge = malloc((size_t)WSC_LOOP_BIG_MAX + 1);
    assert_non_null(huge);
    wsc__loop_buf_put(loop, huge, (size_t)WSC_LOOP_BIG_MAX + 1);
    assert_ptr_equal(wsc__loop_buf_get(loop, WSC_LOOP_BIG_MAX, &cap), b);
    wsc__loop_buf_put(loop, b, bigcap);
    wsc_loop_free(loop); /* frees the kept ones */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipe_readable),
        cmocka_unit_test(test_socketpair_writable),
        cmocka_unit_test(test_watch_set),
        cmocka_unit_test(test_watch_set_unchanged_makes_no_syscall),
        cmocka_unit_test(test_watch_errors),
        cmocka_unit_test(test_free_pending_in_batch),
        cmocka_unit_test(test_stop_pending_in_batch_embedded),
        cmocka_unit_test(test_watch_frees_itself),
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_restart_moves),
        cmocka_unit_test(test_timer_stop),
        cmocka_unit_test(test_timer_zero_delay_no_starvation),
        cmocka_unit_test(test_timer_frees_itself),
        cmocka_unit_test(test_timer_many_random),
        cmocka_unit_test(test_run_returns_when_empty),
        cmocka_unit_test(test_stop_from_callback),
        cmocka_unit_test(test_reentry_refused),
        cmocka_unit_test(test_ref_keeps_run_alive),
        cmocka_unit_test(test_foreign_loop),
        cmocka_unit_test(test_post_threads),
        cmocka_unit_test(test_post_wakes_blocked_run_once),
        cmocka_unit_test(test_post_order_and_stop),
        cmocka_unit_test(test_iteration_order),
        cmocka_unit_test(test_now_monotonic),
        cmocka_unit_test(test_embedded_sizes),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_defer),
        cmocka_unit_test(test_scratch),
        cmocka_unit_test(test_buf_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
