/* test_engine.c - both roles on the one connection engine (src/conn.c), in
 * one process and one loop: wsc_ws clients against a wsc_server on
 * 127.0.0.1. What the engine unified is checked here: a close the server
 * starts ends as soon as the client answers (it used to wait for the close
 * timeout), the server reports pings and I/O errors, the server's
 * bufferedAmount counts application bytes, and both roles number their
 * events alike.
 *
 * Timing: the close timeouts are 60 s and a guard timer stops the loop after
 * 20 s; a run that needs the guard fails. A loaded machine takes
 * milliseconds for what is measured, so the margin is three orders of
 * magnitude, not a timed assertion on speed. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "wsc/loop.h"
#include "wsc/server.h"
#include "wsc/ws.h"

#define GUARD_MS 20000
#define LONG_CLOSE_MS 60000

typedef struct {
    wsc_loop *loop;
    wsc_server *srv;
    wsc_ws *ws;
    wsc_timer *guard;
    int guard_fired;
    char url[64];
    /* server side */
    int s_open, s_close, s_error, s_ping, s_msg;
    unsigned s_code;
    int s_clean;
    int s_error_code;
    char s_ping_data[32];
    uint64_t s_buffered_after_send;
    int server_closes; /* on_open: close with 1008 */
    /* client side */
    int c_open, c_close, c_error, c_msg;
    unsigned c_code;
    int c_clean;
    char c_reason[64];
} env;

static void on_guard(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)t;
    ((env *)user)->guard_fired = 1;
    wsc_loop_stop(loop);
}

static void on_srv(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    env *e = user;
    switch (ev->type) {
    case WSC_SRV_OPEN:
        e->s_open++;
        if (e->server_closes) assert_int_equal(wsc_sconn_close(c, 1008, "policy"), WSC_OK);
        break;
    case WSC_SRV_MESSAGE: {
        e->s_msg++;
        /* A 1000-byte reply: bufferedAmount right after the send counts the
           1000 application bytes, not the 1004 on the wire. */
        char big[1000];
        memset(big, 'x', sizeof big);
        assert_int_equal(wsc_sconn_send_text(c, big, sizeof big), WSC_OK);
        e->s_buffered_after_send = wsc_sconn_buffered_amount(c);
        break;
    }
    case WSC_SRV_PING:
        e->s_ping++;
        snprintf(e->s_ping_data, sizeof e->s_ping_data, "%.*s", (int)ev->len, (const char *)ev->data);
        break;
    case WSC_SRV_ERROR:
        e->s_error++;
        e->s_error_code = ev->error;
        assert_non_null(ev->message);
        break;
    case WSC_SRV_CLOSE:
        e->s_close++;
        e->s_code = ev->code;
        e->s_clean = ev->was_clean;
        if (!e->ws) wsc_loop_stop(e->loop); /* raw-socket tests: the server's close ends them */
        break;
    }
}

static void on_cli(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    env *e = user;
    switch (ev->type) {
    case WSC_WS_OPEN:
        e->c_open++;
        if (!e->server_closes) {
            assert_int_equal(wsc_ws_ping(ws, "abc", 3), WSC_OK);
            assert_int_equal(wsc_ws_send_text(ws, "hi", 2), WSC_OK);
        }
        break;
    case WSC_WS_MESSAGE:
        e->c_msg++;
        assert_int_equal(ev->len, 1000);
        assert_int_equal(wsc_ws_close(ws, 1000, "done"), WSC_OK);
        break;
    case WSC_WS_ERROR: e->c_error++; break;
    case WSC_WS_CLOSE:
        e->c_close++;
        e->c_code = ev->code;
        e->c_clean = ev->was_clean;
        snprintf(e->c_reason, sizeof e->c_reason, "%s", ev->reason);
        break;
    }
}

/* The current test's env, reachable from a global so that a forked child
   that _exits does not show it as "definitely lost" under valgrind. */
static env *volatile g_env; /* volatile: written only, must not be optimised away */

static env *start(void) {
    env *e = g_env = calloc(1, sizeof *e);
    assert_non_null(e);
    e->loop = wsc_loop_new(NULL);
    assert_non_null(e->loop);
    wsc_server_options o = {0};
    o.on_open = o.on_message = o.on_close = o.on_error = o.on_ping = o.on_pong = on_srv;
    o.close_timeout_ms = LONG_CLOSE_MS;
    o.user = e;
    wsc_error err;
    e->srv = wsc_server_new(e->loop, &o, &err);
    assert_non_null(e->srv);
    snprintf(e->url, sizeof e->url, "ws://127.0.0.1:%u/", wsc_server_port(e->srv));
    e->guard = wsc_timer_new(e->loop, on_guard, e, &err);
    assert_non_null(e->guard);
    wsc_timer_start(e->guard, GUARD_MS);
    return e;
}

static void connect_client(env *e) {
    wsc_ws_options wo = {0};
    wo.on_open = wo.on_message = wo.on_error = wo.on_close = on_cli;
    wo.close_timeout_ms = LONG_CLOSE_MS;
    wo.user = e;
    wsc_error err;
    e->ws = wsc_ws_new(e->loop, e->url, &wo, &err);
    assert_non_null(e->ws);
}

static void run_until_both_closed(env *e) {
    while (!e->guard_fired && !(e->c_close && e->s_close)) wsc_loop_run_once(e->loop, 1000);
}

static void stop(env *e) {
    wsc_ws_free(e->ws);
    wsc_server_free(e->srv);
    wsc_timer_free(e->guard);
    wsc_loop_free(e->loop);
    free(e);
}

static void test_event_numbers_shared(void **state) {
    (void)state;
    assert_int_equal(WSC_SRV_OPEN, WSC_WS_OPEN);
    assert_int_equal(WSC_SRV_MESSAGE, WSC_WS_MESSAGE);
    assert_int_equal(WSC_SRV_ERROR, WSC_WS_ERROR);
    assert_int_equal(WSC_SRV_CLOSE, WSC_WS_CLOSE);
    assert_int_equal(WSC_SRV_PING, WSC_WS_PING);
    assert_int_equal(WSC_SRV_PONG, WSC_WS_PONG);
}

/* The server closes (1008, as after a failed CSRF check): the client
   answers, the server closes TCP at once, both see a clean 1008 long before
   the 60 s close timeouts (it used to take the whole timeout). */
static void test_server_close_ends_promptly(void **state) {
    (void)state;
    env *e = start();
    e->server_closes = 1;
    connect_client(e);
    uint64_t t0 = wsc_loop_now(e->loop);
    run_until_both_closed(e);
    assert_false(e->guard_fired);
    assert_true(wsc_loop_now(e->loop) - t0 < GUARD_MS);
    assert_int_equal(e->c_close, 1);
    assert_int_equal(e->c_code, 1008);
    assert_true(e->c_clean);
    assert_string_equal(e->c_reason, "policy");
    assert_int_equal(e->s_close, 1);
    assert_int_equal(e->s_code, 1008);
    assert_true(e->s_clean);
    assert_int_equal(e->c_error + e->s_error, 0);
    stop(e);
}

/* A round trip: the server reports the client's Ping, its bufferedAmount is
   in application bytes, and the client's close completes cleanly. */
static void test_ping_buffered_and_client_close(void **state) {
    (void)state;
    env *e = start();
    connect_client(e);
    run_until_both_closed(e);
    assert_false(e->guard_fired);
    assert_int_equal(e->s_ping, 1);
    assert_string_equal(e->s_ping_data, "abc");
    assert_int_equal(e->s_msg, 1);
    assert_int_equal(e->s_buffered_after_send, 1000);
    assert_int_equal(e->c_msg, 1);
    assert_int_equal(e->c_code, 1000);
    assert_true(e->c_clean);
    assert_int_equal(e->s_code, 1000);
    assert_true(e->s_clean);
    assert_int_equal(e->c_error + e->s_error, 0);
    stop(e);
}

/* A child process opens a connection by hand and resets it (SO_LINGER 0):
   the server's read fails with ECONNRESET, which reaches on_error before
   on_close (1006, not clean). It used to close silently. */
static void test_server_reports_io_error(void **state) {
    (void)state;
    env *e = start();
    uint16_t port = wsc_server_port(e->srv);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) _exit(2);
        const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) _exit(3);
        char buf[1024];
        size_t got = 0;
        while (got < sizeof buf - 1) { /* up to the end of the 101 head */
            ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
            if (n <= 0) _exit(4);
            got += (size_t)n;
            buf[got] = 0;
            if (strstr(buf, "\r\n\r\n")) break;
        }
        if (strncmp(buf, "HTTP/1.1 101", 12) != 0) _exit(5);
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd); /* RST */
        _exit(0);
    }
    while (!e->guard_fired && !e->s_close) wsc_loop_run_once(e->loop, 1000);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_false(e->guard_fired);
    assert_int_equal(e->s_open, 1);
    assert_int_equal(e->s_error, 1);
    assert_true(e->s_error_code < 0);
    assert_int_equal(e->s_close, 1);
    assert_int_equal(e->s_code, 1006);
    assert_false(e->s_clean);
    stop(e);
}

/* ---------------- the double-submit check in the library ---------------- */

typedef struct {
    int refused, refuse_status, s_errors, s_csrf_errors, s_msgs, c_open, c_close, c_error, c_http;
    unsigned c_code;
    char why[160];
} crec;

static void csrf_srv(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    crec *r = user;
    if (ev->type == WSC_SRV_ERROR) {
        r->s_errors++;
        if (ev->error == WSC_ECSRF) r->s_csrf_errors++;
    } else if (ev->type == WSC_SRV_MESSAGE) {
        r->s_msgs++;
        wsc_sconn_send_text(c, (const char *)ev->data, ev->len);
    }
}

static void csrf_refuse(wsc_server *s, const wsc_server_request *req, int status, const char *why, void *user) {
    (void)s;
    (void)req;
    crec *r = user;
    r->refused++;
    r->refuse_status = status;
    snprintf(r->why, sizeof r->why, "%s", why);
}

static void csrf_cli(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    crec *r = user;
    switch (ev->type) {
    case WSC_WS_OPEN:
        r->c_open++;
        /* first a message with the token, then one without */
        {
            const char *good = "{\"csrf\":\"tok-1\",\"n\":1}", *bad = "{\"n\":2}";
            wsc_ws_send_text(ws, good, strlen(good));
            wsc_ws_send_text(ws, bad, strlen(bad));
        }
        break;
    case WSC_WS_ERROR:
        r->c_error++;
        r->c_http = ev->http_status;
        break;
    case WSC_WS_CLOSE:
        r->c_close++;
        r->c_code = ev->code;
        break;
    default: break;
    }
}

static void csrf_case(const char *query, const char *cookie, crec *r) {
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_server_csrf csrf = {0};
    wsc_server_options o = {0};
    o.csrf = &csrf;
    o.on_message = o.on_error = csrf_srv;
    o.on_refuse = csrf_refuse;
    o.user = r;
    wsc_error err;
    wsc_server *srv = wsc_server_new(loop, &o, &err);
    assert_non_null(srv);
    char url[128];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/feed%s", wsc_server_port(srv), query);
    wsc_ws_options wo = {0};
    wo.cookie = cookie;
    wo.on_open = wo.on_error = wo.on_close = csrf_cli;
    wo.user = r;
    wsc_ws *ws = wsc_ws_new(loop, url, &wo, &err);
    assert_non_null(ws);
    for (int i = 0; i < 20000 && !r->c_close; i++) wsc_loop_run_once(loop, 100);
    wsc_ws_free(ws);
    wsc_server_free(srv);
    wsc_loop_free(loop);
}

/* The right token opens; a message carrying it is delivered, one without it
   is not: on_error gets WSC_ECSRF and the client sees 1008. */
static void test_csrf_messages(void **state) {
    (void)state;
    crec r = {0};
    csrf_case("?csrf=tok-1", "a=b; csrf_token=tok-1", &r);
    assert_int_equal(r.c_open, 1);
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.s_msgs, 1);
    assert_int_equal(r.s_csrf_errors, 1);
    assert_int_equal(r.c_code, 1008);
}

/* Refusals: missing, different, given twice; on_refuse hears each with its
   status, and the client sees the HTTP status. */
static void test_csrf_refusals(void **state) {
    (void)state;
    const struct {
        const char *query, *cookie;
        int status;
        const char *why;
    } cases[] = {
        {"", "csrf_token=tok-1", 403, "query parameter is missing"},
        {"?csrf=tok-1", NULL, 403, "cookie is missing"},
        {"?csrf=", "csrf_token=", 403, "is missing"},
        {"?csrf=tok-1", "csrf_token=tok-2", 403, "differ"},
        {"?csrf=tok-1&csrf=tok-1", "csrf_token=tok-1", 400, "more than once"},
        {"?csrf=tok-1", "csrf_token=tok-1; csrf_token=evil", 400, "more than once"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        crec r = {0};
        csrf_case(cases[i].query, cases[i].cookie, &r);
        assert_int_equal(r.c_open, 0);
        assert_int_equal(r.refused, 1);
        assert_int_equal(r.refuse_status, cases[i].status);
        assert_non_null(strstr(r.why, cases[i].why));
        assert_null(strstr(r.why, "tok-"));
        assert_int_equal(r.c_http, cases[i].status);
    }
}

/* ---------------- large messages through the receive span ---------------- */

/* Large payloads are read straight into the message buffer in both roles
   (conn.c read_open, the core's receive span; the server unmasks in place).
   A mix of large and small messages, text and binary, echoed by the server,
   must come back exactly and in order: small messages right after large
   ones take the probe read, large ones after small ones the full read. */
typedef struct {
    wsc_loop *loop;
    wsc_timer *guard;
    int guard_fired, done, c_close, s_close, c_error, s_error;
    unsigned c_code;
    size_t next; /* echoes checked */
} span_env;

static const size_t span_sizes[] = {1u << 20, 5, 200000, 3, 3, 65536, 65537, 300000, 1u << 20, 1u << 20, 7, 70000};
#define SPAN_N (sizeof span_sizes / sizeof span_sizes[0])

static int span_text(size_t i) { return i % 3 == 1 || i == 7; }

static char *span_payload(size_t i) {
    size_t n = span_sizes[i];
    char *p = malloc(n + 1);
    if (span_text(i)) {
        /* 1- to 4-byte characters, so that reads split them anywhere */
        static const char *const ch[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
        size_t k = 0;
        for (size_t j = 0; k < n; j++) {
            const char *c = ch[(j + i) % 4];
            size_t l = strlen(c);
            if (k + l > n) c = "z", l = 1;
            memcpy(p + k, c, l);
            k += l;
        }
    } else {
        for (size_t k = 0; k < n; k++) p[k] = (char)((k * 31 + i) & 0xff);
    }
    p[n] = 0;
    return p;
}

static void span_srv(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    span_env *e = user;
    if (ev->type == WSC_SRV_MESSAGE) {
        int rc = ev->binary ? wsc_sconn_send_binary(c, ev->data, ev->len)
                            : wsc_sconn_send_text(c, (const char *)ev->data, ev->len);
        assert_int_equal(rc, WSC_OK);
    } else if (ev->type == WSC_SRV_ERROR) {
        e->s_error++;
    } else if (ev->type == WSC_SRV_CLOSE) {
        e->s_close++;
    }
}

static void span_cli(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    span_env *e = user;
    switch (ev->type) {
    case WSC_WS_OPEN:
        for (size_t i = 0; i < SPAN_N; i++) {
            char *p = span_payload(i);
            int rc = span_text(i) ? wsc_ws_send_text(ws, p, span_sizes[i]) : wsc_ws_send_binary(ws, p, span_sizes[i]);
            assert_int_equal(rc, WSC_OK);
            free(p);
        }
        break;
    case WSC_WS_MESSAGE: {
        assert_true(e->next < SPAN_N);
        char *p = span_payload(e->next);
        assert_int_equal(ev->len, span_sizes[e->next]);
        assert_int_equal(ev->binary, !span_text(e->next));
        assert_memory_equal(ev->data, p, ev->len);
        free(p);
        if (++e->next == SPAN_N) assert_int_equal(wsc_ws_close(ws, 1000, "done"), WSC_OK);
        break;
    }
    case WSC_WS_ERROR: e->c_error++; break;
    case WSC_WS_CLOSE:
        e->c_close++;
        e->c_code = ev->code;
        break;
    }
}

static void span_guard(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)t;
    ((span_env *)user)->guard_fired = 1;
    wsc_loop_stop(loop);
}

/* Runs the mixed echo; with a message memory limit on the server, the first
   1 MiB message must instead close the connection with 1009. */
static void span_run(uint64_t message_memory_max) {
    span_env e = {0};
    e.loop = wsc_loop_new(NULL);
    assert_non_null(e.loop);
    wsc_error err;
    wsc_server_options o = {0};
    o.on_message = o.on_close = o.on_error = span_srv;
    o.no_deflate = 1;
    o.close_timeout_ms = LONG_CLOSE_MS;
    o.message_memory_max = message_memory_max;
    o.user = &e;
    wsc_server *srv = wsc_server_new(e.loop, &o, &err);
    assert_non_null(srv);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", wsc_server_port(srv));
    e.guard = wsc_timer_new(e.loop, span_guard, &e, &err);
    wsc_timer_start(e.guard, GUARD_MS);
    wsc_ws_options wo = {0};
    wo.on_open = wo.on_message = wo.on_error = wo.on_close = span_cli;
    wo.no_deflate = 1;
    wo.close_timeout_ms = LONG_CLOSE_MS;
    wo.user = &e;
    wsc_ws *ws = wsc_ws_new(e.loop, url, &wo, &err);
    assert_non_null(ws);
    while (!e.guard_fired && !(e.c_close && e.s_close)) wsc_loop_run_once(e.loop, 1000);
    assert_false(e.guard_fired);
    if (message_memory_max) {
        assert_int_equal(e.next, 0);
        assert_int_equal(e.c_code, 1009);
        assert_true(e.s_error >= 1);
    } else {
        assert_int_equal(e.next, SPAN_N);
        assert_int_equal(e.c_code, 1000);
        assert_int_equal(e.c_error + e.s_error, 0);
    }
    wsc_ws_free(ws);
    wsc_server_free(srv);
    wsc_timer_free(e.guard);
    wsc_loop_free(e.loop);
}

static void test_large_messages_both_roles(void **state) {
    (void)state;
    span_run(0);
}

static void test_large_message_over_memory_limit(void **state) {
    (void)state;
    span_run(256 * 1024);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_numbers_shared),
        cmocka_unit_test(test_server_close_ends_promptly),
        cmocka_unit_test(test_ping_buffered_and_client_close),
        cmocka_unit_test(test_server_reports_io_error),
        cmocka_unit_test(test_csrf_messages),
        cmocka_unit_test(test_csrf_refusals),
        cmocka_unit_test(test_large_messages_both_roles),
        cmocka_unit_test(test_large_message_over_memory_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
