/*
 * bench_loops.c - the `latency` and `throughput` modes of the benchmark
 * contract (bench/README.md), the same exchange as `wsc bench` (cli/bench.c),
 * run on a loop chosen on the command line, so that wsc's two backends and
 * the adapters of <wsc/adapters/> can be compared on one echo server:
 *
 *   bench_loops DRIVER latency    URL COUNT SIZE
 *   bench_loops DRIVER throughput URL TOTAL_BYTES SIZE
 *   bench_loops --list        the drivers built in, one a line, with the
 *                             kernel mechanism each one ends up using
 *
 * DRIVER: epoll, poll (wsc's own loop, wsc_loop_new_backend()), libuv,
 * libevent, glib, libev (a foreign loop through the adapter header; those
 * whose library was found at build time; libev in bench_loops_libev,
 * bench/CMakeLists.txt says why). Output: one line,
 * RESULT <mode> msgs=<n> bytes=<n> seconds=<s> cpu_seconds=<s>, both over
 * the exchange only (open to the last echo; cpu_seconds: user + system time
 * of the process, getrusage, a figure a shared machine disturbs less than
 * the wall clock); any error, early close or mismatch exits non-zero with a line
 * on stderr and nothing on stdout. bench/loops.py runs it.
 *
 * The callbacks are those of cli/bench.c on purpose: with the epoll driver
 * this program measures what `wsc bench` measures, so the difference between
 * drivers is the loop's alone.
 */
#define _POSIX_C_SOURCE 200809L /* uv.h needs POSIX types under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "loops_driver.h"
#include "wsc/loop.h"
#include "wsc/ws.h"

#ifdef WSC_HAVE_LIBUV
#include <uv.h>
#include "wsc/adapters/libuv.h"
#endif
#ifdef WSC_HAVE_LIBEVENT
#include <event2/event.h>
#include "wsc/adapters/libevent.h"
#endif
#ifdef WSC_HAVE_GLIB
#include <glib.h>
#include "wsc/adapters/glib.h"
#endif

#define IN_FLIGHT 64 /* the contract's window, as `wsc bench throughput` */

/* ---- drivers ------------------------------------------------------------- */

/* wsc's own loop: the state is the loop itself. */
static void *own_open(const char *backend, wsc_loop **loop, wsc_error *err) {
    *loop = wsc_loop_new_backend(backend, err);
    return *loop;
}
static void *epoll_open(wsc_loop **loop, wsc_error *err) { return own_open("epoll", loop, err); }
static void *poll_open(wsc_loop **loop, wsc_error *err) { return own_open("poll", loop, err); }
static void own_run(void *p) { (void)wsc_loop_run(p); }
static void own_stop(void *p) { wsc_loop_stop(p); }
static void own_close(void *p) { wsc_loop_free(p); }

static const char *m_epoll(void) { return "epoll"; }
static const char *m_poll(void) { return "poll"; }
static const bl_driver driver_epoll = {"epoll", epoll_open, own_run, own_stop, own_close, m_epoll};
static const bl_driver driver_poll = {"poll", poll_open, own_run, own_stop, own_close, m_poll};

#if defined(WSC_HAVE_LIBUV) || defined(WSC_HAVE_LIBEVENT) || defined(WSC_HAVE_GLIB)
static void no_memory(wsc_error *err) {
    err->code = WSC_ENOMEM;
    snprintf(err->message, sizeof err->message, "out of memory, or the foreign loop could not be created");
}
#endif

#ifdef WSC_HAVE_LIBUV
typedef struct {
    uv_loop_t uv; /* a loop of its own, as a library embedding libuv would */
    wsc_uv *a;
} uv_state;

static void *uv_open(wsc_loop **loop, wsc_error *err) {
    uv_state *s = calloc(1, sizeof *s);
    if (!s || uv_loop_init(&s->uv) != 0) {
        free(s);
        no_memory(err);
        return NULL;
    }
    s->a = wsc_uv_new(&s->uv, err);
    if (!s->a) {
        uv_run(&s->uv, UV_RUN_DEFAULT); /* the timer handle's close callback */
        uv_loop_close(&s->uv);
        free(s);
        return NULL;
    }
    *loop = wsc_uv_loop(s->a);
    return s;
}
static void uv_run_(void *p) { uv_run(&((uv_state *)p)->uv, UV_RUN_DEFAULT); }
static void uv_stop_(void *p) { uv_stop(&((uv_state *)p)->uv); }
static void uv_close_(void *p) {
    uv_state *s = p;
    wsc_uv_free(s->a);
    uv_run(&s->uv, UV_RUN_DEFAULT); /* the handles' close callbacks free them */
    uv_loop_close(&s->uv);
    free(s);
}
/* libuv has one mechanism per platform: epoll on Linux */
static const bl_driver driver_libuv = {"libuv", uv_open, uv_run_, uv_stop_, uv_close_, m_epoll};
#endif

#ifdef WSC_HAVE_LIBEVENT
typedef struct {
    struct event_base *base;
    wsc_event *a;
} event_state;

static void *event_open(wsc_loop **loop, wsc_error *err) {
    event_state *s = calloc(1, sizeof *s);
    if (!s || !(s->base = event_base_new())) {
        free(s);
        no_memory(err);
        return NULL;
    }
    s->a = wsc_event_new(s->base, err);
    if (!s->a) {
        event_base_free(s->base);
        free(s);
        return NULL;
    }
    *loop = wsc_event_loop(s->a);
    return s;
}
static void event_run_(void *p) { event_base_dispatch(((event_state *)p)->base); }
static void event_stop_(void *p) { event_base_loopbreak(((event_state *)p)->base); }
static void event_close_(void *p) {
    event_state *s = p;
    wsc_event_free(s->a);
    event_base_free(s->base);
    free(s);
}
static const char *event_mechanism(void) {
    static char m[32];
    struct event_base *b = event_base_new();
    snprintf(m, sizeof m, "%s", b ? event_base_get_method(b) : "?");
    if (b) event_base_free(b);
    return m;
}
static const bl_driver driver_libevent = {"libevent", event_open, event_run_, event_stop_, event_close_,
                                          event_mechanism};
#endif

#ifdef WSC_HAVE_GLIB
typedef struct {
    GMainContext *ctx;
    GMainLoop *ml;
    wsc_glib *a;
} glib_state;

static void *glib_open(wsc_loop **loop, wsc_error *err) {
    glib_state *s = calloc(1, sizeof *s);
    if (!s) {
        no_memory(err);
        return NULL;
    }
    s->ctx = g_main_context_new();
    s->ml = g_main_loop_new(s->ctx, FALSE);
    s->a = wsc_glib_new(s->ctx, err);
    if (!s->a) {
        g_main_loop_unref(s->ml);
        g_main_context_unref(s->ctx);
        free(s);
        return NULL;
    }
    *loop = wsc_glib_loop(s->a);
    return s;
}
static void glib_run_(void *p) { g_main_loop_run(((glib_state *)p)->ml); }
static void glib_stop_(void *p) { g_main_loop_quit(((glib_state *)p)->ml); }
static void glib_close_(void *p) {
    glib_state *s = p;
    wsc_glib_free(s->a);
    g_main_loop_unref(s->ml);
    g_main_context_unref(s->ctx);
    free(s);
}
/* a GMainContext polls its descriptors with g_poll(), i.e. poll() */
static const bl_driver driver_glib = {"glib", glib_open, glib_run_, glib_stop_, glib_close_, m_poll};
#endif

static const bl_driver *const drivers[] = {
    &driver_epoll, &driver_poll,
#ifdef WSC_HAVE_LIBUV
    &driver_libuv,
#endif
#ifdef WSC_HAVE_LIBEVENT
    &driver_libevent,
#endif
#ifdef WSC_HAVE_GLIB
    &driver_glib,
#endif
#ifdef WSC_HAVE_LIBEV
    &bl_driver_libev,
#endif
};
#define NDRIVERS (sizeof drivers / sizeof drivers[0])

/* ---- the exchange (as cli/bench.c) --------------------------------------- */

typedef struct bench {
    int latency; /* else throughput */
    const bl_driver *drv;
    void *state;
    wsc_ws *ws;
    uint64_t count, sent, got;
    size_t size;
    uint8_t *msg;    /* latency: the message in flight; throughput: scratch */
    uint8_t *expect; /* the constant pattern of bytes 8.. */
    struct timespec t0, t1;
    double cpu0, cpu1; /* the process's CPU seconds at open and at the last echo */
    const char *why; /* set on the first failure */
} bench;

static void fail(bench *b, const char *why) {
    if (!b->why) b->why = why;
    b->drv->stop(b->state);
}

static double cpu_seconds(void) {
    struct rusage r;
    if (getrusage(RUSAGE_SELF, &r) != 0) return 0;
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static void put_le64(uint8_t *p, uint64_t v) {
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static int send_next(bench *b) {
    uint64_t i = b->sent++;
    if (b->latency) {
        /* printf("%08x", i) without printf on the measured path */
        static const char digits[] = "0123456789abcdef";
        char hex[8];
        for (int k = 7; k >= 0; k--, i >>= 4) hex[k] = digits[i & 15];
        memcpy(b->msg, hex, b->size < 8 ? b->size : 8);
        return wsc_ws_send_text(b->ws, (const char *)b->msg, b->size);
    }
    put_le64(b->msg, i);
    return wsc_ws_send_binary(b->ws, b->msg, b->size);
}

static void on_open(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws, (void)ev;
    bench *b = user;
    b->cpu0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &b->t0);
    uint64_t first = b->latency ? 1 : (b->count < IN_FLIGHT ? b->count : IN_FLIGHT);
    for (uint64_t k = 0; k < first; k++)
        if (send_next(b) != WSC_OK) {
            fail(b, "send failed");
            return;
        }
}

static void on_message(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    bench *b = user;
    if (ev->len != b->size) {
        fail(b, "echo has the wrong length");
        return;
    }
    if (b->latency) {
        if (ev->binary || memcmp(ev->data, b->msg, b->size) != 0) {
            fail(b, "echo differs from the message sent");
            return;
        }
    } else {
        uint8_t head[8];
        put_le64(head, b->got);
        size_t h = b->size < 8 ? b->size : 8;
        if (!ev->binary || memcmp(ev->data, head, h) != 0 ||
            (b->size > 8 && memcmp(ev->data + 8, b->expect + 8, b->size - 8) != 0)) {
            fail(b, "echo differs from the message sent, or is out of order");
            return;
        }
    }
    if (++b->got == b->count) {
        clock_gettime(CLOCK_MONOTONIC, &b->t1);
        b->cpu1 = cpu_seconds();
        wsc_ws_close(ws, 1000, NULL); /* on_close stops the driver */
        return;
    }
    if (b->sent < b->count && send_next(b) != WSC_OK) fail(b, "send failed");
}

static void on_error(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    fprintf(stderr, "bench_loops: %s\n", ev->message);
    fail(user, "connection error");
}

static void on_close(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws, (void)ev;
    bench *b = user;
    if (b->got < b->count) fail(b, "the connection closed before the last echo");
    /* A foreign loop would keep running (libevent's wake-up event stays
       pending), so every driver is stopped explicitly. */
    b->drv->stop(b->state);
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
    fputs("usage: bench_loops DRIVER latency URL COUNT SIZE\n"
          "       bench_loops DRIVER throughput URL TOTAL_BYTES SIZE\n"
          "       bench_loops --list\n"
          "DRIVER:",
          stderr);
    for (size_t i = 0; i < NDRIVERS; i++) fprintf(stderr, " %s", drivers[i]->name);
    fputc('\n', stderr);
    return 2;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-') return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (size_t i = 0; i < NDRIVERS; i++) printf("%s %s\n", drivers[i]->name, drivers[i]->mechanism());
        return 0;
    }
    bench b;
    memset(&b, 0, sizeof b);
    uint64_t x = 0, y = 0;
    if (argc != 6 || parse_u64(argv[4], &x) || parse_u64(argv[5], &y) || !x || !y) return usage();
    for (size_t i = 0; i < NDRIVERS; i++)
        if (!strcmp(argv[1], drivers[i]->name)) b.drv = drivers[i];
    if (!b.drv) return usage();
    if (!strcmp(argv[2], "latency")) {
        b.latency = 1;
        b.count = x;
    } else if (!strcmp(argv[2], "throughput") && y >= 8) {
        b.count = (x + y - 1) / y;
    } else {
        return usage();
    }
    b.size = (size_t)y;

    wsc_global_init();
    wsc_error err;
    wsc_loop *loop = NULL;
    b.state = b.drv->open(&loop, &err);
    if (!b.state) {
        fprintf(stderr, "bench_loops: %s: %s\n", b.drv->name, err.message);
        return 1;
    }
    b.msg = malloc(b.size);
    b.expect = malloc(b.size);
    if (!b.msg || !b.expect) {
        fprintf(stderr, "bench_loops: out of memory\n");
        return 1;
    }
    for (size_t j = 0; j < b.size; j++)
        b.msg[j] = b.expect[j] = b.latency ? (uint8_t)('a' + j % 26) : (uint8_t)((j * 31 + 7) & 0xff);

    wsc_ws_options o = {0};
    o.no_deflate = 1;
    o.user = &b;
    o.max_buffered = (size_t)1 << 40; /* the window bounds what is queued */
    o.max_message_size = b.size + 1024;
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_close = on_close;
    b.ws = wsc_ws_new(loop, argv[3], &o, &err);
    if (!b.ws) {
        fprintf(stderr, "bench_loops: %s\n", err.message);
        return 1;
    }
    b.drv->run(b.state);
    int rc = 0;
    if (!b.why && b.got == b.count) {
        double s = (double)(b.t1.tv_sec - b.t0.tv_sec) + (double)(b.t1.tv_nsec - b.t0.tv_nsec) / 1e9;
        printf("RESULT %s msgs=%llu bytes=%llu seconds=%.6f cpu_seconds=%.6f\n", b.latency ? "latency" : "throughput",
               (unsigned long long)b.got, (unsigned long long)(b.got * b.size), s, b.cpu1 - b.cpu0);
    } else {
        fprintf(stderr, "bench_loops: %s: %s\n", b.drv->name, b.why ? b.why : "the exchange did not complete");
        rc = 1;
    }
    wsc_ws_free(b.ws);
    b.drv->close(b.state);
    free(b.msg);
    free(b.expect);
    return rc;
}
