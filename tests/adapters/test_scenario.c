/* test_scenario.c - one scenario, the same on every way of running wsc:
 * its own loop on each backend (epoll, poll) and a foreign loop through an
 * adapter (libuv, libevent, libev, GLib). argv[1] names the driver. Against a Python websockets
 * echo server started here on 127.0.0.1 (port 0, then the same port again):
 * connect, JSON echo, heartbeat (pongs counted, so the timers really run
 * through the driver), a server restart with automatic reconnect, a send
 * posted from another thread (wsc_loop_post wakes the driver's loop), a
 * clean close. It also reports 2000 sequential round trips' latency. It prints the CPU the process used while the connection sat idle
 * (getrusage, a REPORT line, not an assertion: no timed pass/fail). Leaks
 * and misuse are ASan's, in the sanitizer build. Exit 0 only if every
 * check passed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include "testutil.h"

#include "wsc/client.h"
#include "wsc/loop.h"
#include "wsc/ws.h"
#ifdef WSC_HAVE_LIBUV
#include "wsc/adapters/libuv.h"
#endif
#ifdef WSC_HAVE_LIBEVENT
#include "wsc/adapters/libevent.h"
#endif
#ifdef WSC_HAVE_LIBEV
#include "wsc/adapters/libev.h"
#endif
#ifdef WSC_HAVE_GLIB
#include "wsc/adapters/glib.h"
#endif

static int g_failed;
#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            g_failed = 1;                                                          \
            goto out;                                                              \
        }                                                                          \
    } while (0)

/* ---- drivers ----------------------------------------------------------------- */

typedef struct driver {
    const char *name;
    wsc_loop *loop;
#ifdef WSC_HAVE_LIBUV
    uv_loop_t uv;
    uv_timer_t tick; /* so that UV_RUN_ONCE returns at least every 20 ms */
    wsc_uv *a;
#endif
#ifdef WSC_HAVE_LIBEVENT
    struct event_base *base;
    struct event *evtick;
    wsc_event *ea;
#endif
#ifdef WSC_HAVE_LIBEV
    struct ev_loop *evl;
    ev_timer evtimer;
    wsc_ev *va;
#endif
#ifdef WSC_HAVE_GLIB
    GMainContext *ctx;
    guint gtick;
    wsc_glib *ga;
#endif
} driver;

#ifdef WSC_HAVE_LIBUV
static void on_tick(uv_timer_t *t) { (void)t; }
#endif
#ifdef WSC_HAVE_LIBEV
static void on_libev_tick(struct ev_loop *l, ev_timer *t, int revents) { (void)l, (void)t, (void)revents; }
#endif
#ifdef WSC_HAVE_GLIB
static gboolean on_glib_tick(gpointer p) {
    (void)p;
    return G_SOURCE_CONTINUE;
}
#endif
#ifdef WSC_HAVE_LIBEVENT
static void on_ev_tick(evutil_socket_t fd, short what, void *arg) { (void)fd, (void)what, (void)arg; }
#endif

static int driver_init(driver *d, const char *name) {
    memset(d, 0, sizeof *d);
    d->name = name;
    wsc_error err;
    if (!strcmp(name, "epoll") || !strcmp(name, "poll")) {
        d->loop = wsc_loop_new_backend(name, &err);
#ifdef WSC_HAVE_LIBUV
    } else if (!strcmp(name, "libuv")) {
        if (uv_loop_init(&d->uv) != 0) return -1;
        uv_timer_init(&d->uv, &d->tick);
        uv_timer_start(&d->tick, on_tick, 20, 20);
        d->a = wsc_uv_new(&d->uv, &err);
        d->loop = d->a ? wsc_uv_loop(d->a) : NULL;
#endif
#ifdef WSC_HAVE_LIBEVENT
    } else if (!strcmp(name, "libevent")) {
        d->base = event_base_new();
        if (!d->base) return -1;
        /* so that EVLOOP_ONCE returns at least every 20 ms */
        d->evtick = event_new(d->base, -1, EV_PERSIST, on_ev_tick, NULL);
        struct timeval tv = {0, 20000};
        event_add(d->evtick, &tv);
        d->ea = wsc_event_new(d->base, &err);
        d->loop = d->ea ? wsc_event_loop(d->ea) : NULL;
#endif
#ifdef WSC_HAVE_LIBEV
    } else if (!strcmp(name, "libev")) {
        d->evl = ev_loop_new(EVFLAG_AUTO);
        if (!d->evl) return -1;
        ev_timer_init(&d->evtimer, on_libev_tick, 0.02, 0.02); /* EVRUN_ONCE returns every 20 ms */
        ev_timer_start(d->evl, &d->evtimer);
        d->va = wsc_ev_new(d->evl, &err);
        d->loop = d->va ? wsc_ev_loop(d->va) : NULL;
#endif
#ifdef WSC_HAVE_GLIB
    } else if (!strcmp(name, "glib")) {
        d->ctx = g_main_context_new();
        GSource *t = g_timeout_source_new(20); /* an iteration at least every 20 ms */
        g_source_set_callback(t, on_glib_tick, NULL, NULL);
        d->gtick = g_source_attach(t, d->ctx);
        g_source_unref(t);
        d->ga = wsc_glib_new(d->ctx, &err);
        d->loop = d->ga ? wsc_glib_loop(d->ga) : NULL;
#endif
    } else {
        fprintf(stderr, "unknown driver %s\n", name);
        return -1;
    }
    if (!d->loop) fprintf(stderr, "%s: %s\n", name, err.message);
    return d->loop ? 0 : -1;
}

static void driver_run_until(driver *d, const int *flag, int want, int ms) {
#ifdef WSC_HAVE_LIBUV
    if (d->a) {
        uint64_t end = tu_now_ms() + (uint64_t)ms;
        while (*flag < want && tu_now_ms() < end) uv_run(&d->uv, UV_RUN_ONCE);
        return;
    }
#endif
#ifdef WSC_HAVE_LIBEV
    if (d->va) {
        uint64_t end = tu_now_ms() + (uint64_t)ms;
        while (*flag < want && tu_now_ms() < end) ev_run(d->evl, EVRUN_ONCE);
        return;
    }
#endif
#ifdef WSC_HAVE_GLIB
    if (d->ga) {
        uint64_t end = tu_now_ms() + (uint64_t)ms;
        while (*flag < want && tu_now_ms() < end) g_main_context_iteration(d->ctx, TRUE);
        return;
    }
#endif
#ifdef WSC_HAVE_LIBEVENT
    if (d->ea) {
        uint64_t end = tu_now_ms() + (uint64_t)ms;
        while (*flag < want && tu_now_ms() < end) event_base_loop(d->base, EVLOOP_ONCE);
        return;
    }
#endif
    tu_run_until(d->loop, flag, want, ms);
}

static void driver_fini(driver *d) {
#ifdef WSC_HAVE_LIBUV
    if (d->a) {
        wsc_uv_free(d->a);
        uv_close((uv_handle_t *)&d->tick, NULL);
        uv_run(&d->uv, UV_RUN_DEFAULT); /* the close callbacks free the handles */
        if (uv_loop_close(&d->uv) != 0) {
            fprintf(stderr, "libuv: handles left open\n");
            g_failed = 1;
        }
        return;
    }
#endif
#ifdef WSC_HAVE_LIBEV
    if (d->va) {
        wsc_ev_free(d->va);
        ev_timer_stop(d->evl, &d->evtimer);
        ev_loop_destroy(d->evl);
        return;
    }
#endif
#ifdef WSC_HAVE_GLIB
    if (d->ga) {
        wsc_glib_free(d->ga);
        GSource *t = g_main_context_find_source_by_id(d->ctx, d->gtick);
        if (t) g_source_destroy(t);
        g_main_context_unref(d->ctx);
        return;
    }
#endif
#ifdef WSC_HAVE_LIBEVENT
    if (d->ea) {
        wsc_event_free(d->ea);
        event_free(d->evtick);
        event_base_free(d->base);
        return;
    }
#endif
    wsc_loop_free(d->loop);
}

/* ---- the scenario ------------------------------------------------------------ */

typedef struct {
    int opens, messages, closes, pongs, never;
    json_int_t last_n;
    unsigned last_code;
    int last_clean;
} state;

static void on_pong(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws, (void)ev;
    ((state *)user)->pongs++;
}
static void on_open(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)ev;
    state *s = user;
    s->opens++;
    wsc_ws_add_listener(wsc_client_socket(c), WSC_WS_PONG, on_pong, s);
}
static void on_message(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    state *s = user;
    json_t *n = json_object_get(ev->json, "n"); /* parsed for us */
    s->last_n = json_is_integer(n) ? json_integer_value(n) : -1;
    s->messages++;
}
static void on_close(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    state *s = user;
    s->last_code = ev->code;
    s->last_clean = ev->was_clean;
    s->closes++;
}

static void on_reconnect(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)user;
    if (getenv("WSC_TEST_VERBOSE"))
        fprintf(stderr, "reconnect attempt %u: %s\n", ev->attempt, ev->cause_message ? ev->cause_message : "");
}

/* ---- from another thread: wsc_loop_post() wakes whichever loop runs ----- */

typedef struct {
    wsc_loop *loop;
    wsc_client *c;
} post_ctx;

static void send_from_post(wsc_loop *loop, void *user) {
    (void)loop;
    json_t *m = json_pack("{s:i}", "n", 3);
    if (wsc_client_send_json(((post_ctx *)user)->c, m) != WSC_OK) g_failed = 1;
    json_decref(m);
}

static void *post_thread(void *arg) {
    post_ctx *p = arg;
    if (wsc_loop_post(p->loop, send_from_post, p) != WSC_OK) g_failed = 1;
    return NULL;
}

static int start_server(tu_peer *p, int port) {
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    char *argv[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--port", ports, "--lifetime", "60", NULL};
    return tu_peer_start(p, argv);
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s epoll|poll|libuv|libevent|libev|glib\n", argv[0]);
        return 2;
    }
    alarm(120);
    tu_peer peer = {0};
    driver d;
    wsc_client *c = NULL;
    state s;
    memset(&s, 0, sizeof s);
    CHECK(driver_init(&d, argv[1]) == 0);
    CHECK(start_server(&peer, 0) == 0);
    int port = peer.port;
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/echo", port);

    wsc_client_options o = {0};
    o.no_store = 1;
    o.timeout_ms = 100; /* reconnect delay */
    o.ping_interval_ms = 100;
    o.ping_timeout_ms = 5000;
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_close = on_close;
    o.on_reconnect = on_reconnect;
    o.user = &s;
    wsc_error err;
    c = wsc_client_new(d.loop, url, &o, &err);
    CHECK(c != NULL);

    /* connect, JSON echo */
    driver_run_until(&d, &s.opens, 1, 10000);
    CHECK(s.opens == 1);
    json_t *m = json_pack("{s:i}", "n", 1);
    CHECK(wsc_client_send_json(c, m) == WSC_OK);
    json_decref(m);
    driver_run_until(&d, &s.messages, 1, 10000);
    CHECK(s.messages == 1 && s.last_n == 1);

    /* heartbeat: a ping every 100 ms, each answered */
    driver_run_until(&d, &s.pongs, 3, 10000);
    CHECK(s.pongs >= 3);

    /* idle with the connection open (the heartbeat still runs) */
    double c0 = cpu_seconds();
    uint64_t t0 = tu_now_ms();
    driver_run_until(&d, &s.never, 1, 1000);
    double wall = (double)(tu_now_ms() - t0) / 1000.0, used = cpu_seconds() - c0;
    printf("REPORT driver=%s idle_cpu_pct=%.2f (%.4f s CPU in %.2f s, ping every 100 ms)\n", d.name,
           100.0 * used / wall, used, wall);
    CHECK(s.closes == 0);

    /* the server dies (SIGKILL: a TCP reset, 1006) and comes back on the same
       port: the client reconnects by itself (a 1001 "going away" from a
       server stopping politely would, by the seed's rules, be final) */
    kill(-peer.pid, SIGKILL);
    tu_peer_stop(&peer); /* reaps it */
    driver_run_until(&d, &s.closes, 1, 10000);
    CHECK(s.closes == 1);
    CHECK(start_server(&peer, port) == 0);
    driver_run_until(&d, &s.opens, 2, 15000);
    CHECK(s.opens == 2);
    m = json_pack("{s:i}", "n", 2);
    CHECK(wsc_client_send_json(c, m) == WSC_OK);
    json_decref(m);
    driver_run_until(&d, &s.messages, 2, 10000);
    CHECK(s.messages == 2 && s.last_n == 2);

    /* a send posted from another thread, run on the loop's thread */
    post_ctx pc = {d.loop, c};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, post_thread, &pc) == 0);
    pthread_join(th, NULL);
    driver_run_until(&d, &s.messages, 3, 10000);
    CHECK(s.messages == 3 && s.last_n == 3 && !g_failed);

    /* latency: 2000 sequential round trips of a small JSON message (each
       parsed), reported, not asserted */
    {
        enum { N = 2000 };
        int want = s.messages + N;
        uint64_t start = tu_now_ms();
        for (int i = 0; i < N; i++) {
            CHECK(wsc_client_send_text(c, "{\"n\":4}", 7) == WSC_OK);
            driver_run_until(&d, &s.messages, s.messages + 1, 10000);
        }
        CHECK(s.messages == want && s.last_n == 4);
        printf("REPORT driver=%s round_trip_us=%.1f (%d sequential JSON echoes, python websockets server)\n",
               d.name, 1000.0 * (double)(tu_now_ms() - start) / N, N);
    }

    /* a clean close */
    CHECK(wsc_client_close(c, 1000, "bye") == WSC_OK);
    driver_run_until(&d, &s.closes, 2, 10000);
    CHECK(s.closes == 2 && s.last_code == 1000 && s.last_clean);
    CHECK(wsc_client_is_closed(c));
    printf("scenario on %s: passed (%d pongs)\n", d.name, s.pongs);
out:
    wsc_client_free(c);
    if (d.loop) driver_fini(&d);
    tu_peer_stop(&peer);
    return g_failed;
}
