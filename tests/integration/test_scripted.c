/* test_scripted.c - the connection engine against a scripted peer, with an
 * injected clock: no peer process, no wall-clock wait.
 *
 * The test itself is the peer, at the other end of a Unix socket: it reads
 * the exact bytes wsc writes and writes exact bytes back, one byte at a time
 * where it matters. The loop's clock is the test's (wsc__loop_set_clock),
 * and the loop is driven with wsc_loop_run_once(loop, 0), so every timeout is
 * checked at its exact millisecond: nothing at deadline - 1, the event at the
 * deadline. Blocking reads and writes on the peer's side are bounded with
 * poll() (5 s) and only ever wait for bytes wsc writes without needing time
 * to pass. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripted_peer.h"
#include "wsc/client.h"
#include "wsc/loop.h"
#include "wsc/ws.h"

typedef struct {
    int opens, messages, pings, pongs, errors, closes;
    int last_error;
    unsigned code;
    int clean;
    char msg[64];
    char ping[32];
} rec;

typedef struct {
    tu_sp p;
    rec r;
    wsc_ws *ws;
} env;

static void on_ev(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    rec *r = user;
    switch (ev->type) {
    case WSC_WS_OPEN: r->opens++; break;
    case WSC_WS_MESSAGE:
        r->messages++;
        snprintf(r->msg, sizeof r->msg, "%.*s", (int)ev->len, (const char *)ev->data);
        break;
    case WSC_WS_PING:
        r->pings++;
        snprintf(r->ping, sizeof r->ping, "%.*s", (int)ev->len, (const char *)ev->data);
        break;
    case WSC_WS_PONG: r->pongs++; break;
    case WSC_WS_ERROR:
        r->errors++;
        r->last_error = ev->error;
        break;
    case WSC_WS_CLOSE:
        r->closes++;
        r->code = ev->code;
        r->clean = ev->was_clean;
        break;
    }
}

static void turn(env *e) { tu_sp_turn(&e->p); }

/* The peer's listening Unix socket, on a loop with the injected clock. */
static env *listener_only(void) {
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    tu_sp_init(&e->p);
    tu_sp_listen(&e->p);
    return e;
}

static env *start(unsigned handshake_ms, unsigned close_ms) {
    env *e = listener_only();
    char url[300];
    snprintf(url, sizeof url, "ws+unix:%s:/chat", e->p.sock);
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_ev;
    o.user = &e->r;
    o.no_deflate = 1;
    o.handshake_timeout_ms = handshake_ms;
    o.close_timeout_ms = close_ms;
    wsc_error err;
    e->ws = wsc_ws_new(e->p.loop, url, &o, &err);
    assert_non_null(e->ws);
    wsc_ws_add_listener(e->ws, WSC_WS_PING, on_ev, &e->r);
    wsc_ws_add_listener(e->ws, WSC_WS_PONG, on_ev, &e->r);
    tu_sp_accept(&e->p);
    return e;
}

/* Answers the upgrade (101) and turns the loop until *opened is set. */
static void handshake_until(env *e, const int *opened) {
    char req[4096];
    tu_sp_upgrade(&e->p, "/chat", req, sizeof req);
    tu_sp_until(&e->p, opened, 1);
}

static void handshake(env *e) { handshake_until(e, &e->r.opens); }


static void stop(env *e) {
    wsc_ws_free(e->ws);
    tu_sp_fini(&e->p);
    free(e);
}

/* The close timeout, to the millisecond: the server takes our Close and
   never answers; at close_timeout - 1 nothing, at close_timeout the
   connection ends (1006, not clean). */
static void test_close_timeout_exact(void **state) {
    (void)state;
    env *e = start(10000, 5000);
    handshake(e);
    assert_int_equal(wsc_ws_close(e->ws, 1000, "bye"), WSC_OK);
    uint64_t t0 = tu_fake_now;
    uint8_t p[125];
    size_t n = tu_sp_client_frame(&e->p, 0x8, p, sizeof p);
    assert_int_equal(n, 5);
    assert_memory_equal(p, "\x03\xe8" "bye", 5);
    assert_int_equal(wsc_ws_ready_state(e->ws), WSC_CLOSING);
    tu_fake_now = t0 + 4999;
    for (int i = 0; i < 3; i++) turn(e);
    assert_int_equal(e->r.closes, 0);
    tu_fake_now = t0 + 5000;
    turn(e);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1006);
    assert_false(e->r.clean);
    stop(e);
}

/* The handshake timeout, to the millisecond: the server accepts and never
   answers. */
static void test_handshake_timeout_exact(void **state) {
    (void)state;
    env *e = start(3000, 5000);
    uint64_t t0 = tu_fake_now;
    tu_fake_now = t0 + 2999;
    for (int i = 0; i < 3; i++) turn(e);
    assert_int_equal(e->r.errors + e->r.closes, 0);
    tu_fake_now = t0 + 3000;
    turn(e);
    assert_int_equal(e->r.errors, 1);
    assert_int_equal(e->r.last_error, WSC_ETIMEDOUT);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1006);
    stop(e);
}

/* The server's frames arrive one byte per read: a text message, then a
   Ping; the client reports both and answers the Ping with the same payload,
   then the server closes (1001) and the client echoes the code. */
static void test_byte_at_a_time_and_server_close(void **state) {
    (void)state;
    env *e = start(10000, 5000);
    handshake(e);
    const uint8_t frames[] = {0x81, 5, 'h', 'e', 'l', 'l', 'o', 0x89, 3, 'a', 'b', 'c'};
    for (size_t i = 0; i < sizeof frames; i++) {
        tu_sp_write(&e->p, frames + i, 1);
        for (int k = 0; k < 3; k++) turn(e);
        if (i < 6) assert_int_equal(e->r.messages, 0);
    }
    assert_int_equal(e->r.messages, 1);
    assert_string_equal(e->r.msg, "hello");
    assert_int_equal(e->r.pings, 1);
    assert_string_equal(e->r.ping, "abc");
    uint8_t p[125];
    size_t n = tu_sp_client_frame(&e->p, 0xA, p, sizeof p); /* the Pong */
    assert_int_equal(n, 3);
    assert_memory_equal(p, "abc", 3);
    /* The server's Close: the client echoes 1001 and waits for TCP. */
    const uint8_t close_frame[] = {0x88, 2, 0x03, 0xe9};
    tu_sp_write(&e->p, close_frame, sizeof close_frame);
    n = tu_sp_client_frame(&e->p, 0x8, p, sizeof p);
    assert_int_equal(n, 2);
    assert_memory_equal(p, "\x03\xe9", 2);
    assert_int_equal(e->r.closes, 0);
    tu_sp_hangup(&e->p);
    for (int i = 0; i < 100 && !e->r.closes; i++) turn(e);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1001);
    assert_true(e->r.clean);
    assert_int_equal(e->r.errors, 0);
    stop(e);
}

/* bufferedAmount is exact: the application bytes of a send until the write,
   then 0. */
static void test_buffered_amount_exact(void **state) {
    (void)state;
    env *e = start(10000, 5000);
    handshake(e);
    char m[100];
    memset(m, 'm', sizeof m);
    assert_int_equal(wsc_ws_send_text(e->ws, m, sizeof m), WSC_OK);
    assert_int_equal(wsc_ws_buffered_amount(e->ws), 100);
    assert_int_equal(wsc_ws_send_text(e->ws, m, 10), WSC_OK);
    assert_int_equal(wsc_ws_buffered_amount(e->ws), 110);
    turn(e); /* the deferred flush: one write */
    assert_int_equal(wsc_ws_buffered_amount(e->ws), 0);
    uint8_t p[125];
    assert_int_equal(tu_sp_client_frame(&e->p, 0x1, p, sizeof p), 100);
    assert_int_equal(tu_sp_client_frame(&e->p, 0x1, p, sizeof p), 10);
    stop(e);
}

/* The peer breaks a rule (a masked frame from the server): the client sends
   Close 1002, reports the error, and ends at the close timeout if the
   server does not close; the injected clock makes that exact too. */
static void test_protocol_error_then_timeout(void **state) {
    (void)state;
    env *e = start(10000, 2000);
    handshake(e);
    const uint8_t bad[] = {0x81, 0x81, 1, 2, 3, 4, 'x' ^ 1};
    tu_sp_write(&e->p, bad, sizeof bad);
    uint64_t t0 = tu_fake_now;
    uint8_t p[125];
    size_t n = tu_sp_client_frame(&e->p, 0x8, p, sizeof p);
    assert_true(n >= 2);
    assert_memory_equal(p, "\x03\xea", 2); /* 1002 */
    assert_int_equal(e->r.errors, 1);
    assert_int_equal(e->r.last_error, WSC_EPROTO);
    tu_fake_now = t0 + 1999;
    turn(e);
    assert_int_equal(e->r.closes, 0);
    tu_fake_now = t0 + 2000;
    turn(e);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1006);
    stop(e);
}

/* ---------------- the reconnecting client ---------------- */

typedef struct {
    int closes, reconnects, maximum, opens, unconfirmed;
    char unconfirmed_data[32];
    uint64_t close_at[8], reconnect_at[8];
    unsigned close_delay[8], reconnect_delay[8], attempt[8];
    int cause[8];
} crec;

static void on_cev(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    crec *r = user;
    switch (ev->type) {
    case WSC_CLIENT_OPEN: r->opens++; break;
    case WSC_CLIENT_CLOSE:
        if (r->closes < 8) {
            r->close_at[r->closes] = tu_fake_now;
            r->close_delay[r->closes] = ev->will_reconnect ? ev->reconnect_delay_ms : 0;
        }
        r->closes++;
        break;
    case WSC_CLIENT_RECONNECT:
        if (r->reconnects < 8) {
            r->reconnect_at[r->reconnects] = tu_fake_now;
            r->reconnect_delay[r->reconnects] = ev->delay_ms;
            r->attempt[r->reconnects] = ev->attempt;
            r->cause[r->reconnects] = ev->cause;
        }
        r->reconnects++;
        break;
    case WSC_CLIENT_MAXIMUM: r->maximum++; break;
    case WSC_CLIENT_UNCONFIRMED:
        r->unconfirmed++;
        snprintf(r->unconfirmed_data, sizeof r->unconfirmed_data, "%.*s", (int)ev->len, (const char *)ev->data);
        break;
    }
}

/* Backoff delays to the millisecond, with no server at all (the socket path
   does not exist, so every attempt fails at once): 100, 200, then capped at
   350; each attempt starts exactly when its delay has passed, not a
   millisecond before; after max_attempts (4) reconnects, "maximum". This
   used to need a Python server and wall-clock time. */
static void test_backoff_exact(void **state) {
    (void)state;
    tu_sp p;
    tu_sp_init(&p); /* nobody listens on p.sock */
    wsc_loop *loop = p.loop;
    char url[300];
    snprintf(url, sizeof url, "ws+unix:%s:/", p.sock);
    crec r = {0};
    wsc_client_options o = {0};
    o.on_open = o.on_close = o.on_reconnect = o.on_maximum = on_cev;
    o.user = &r;
    o.no_store = 1;
    o.no_heartbeat = 1;
    o.timeout_ms = 100;
    o.backoff = 1;
    o.backoff_max_ms = 350;
    o.max_attempts = 4;
    wsc_error err;
    wsc_client *c = wsc_client_new(loop, url, &o, &err);
    assert_non_null(c);
    const unsigned want[] = {100, 200, 350, 350};
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < 100 && r.closes <= i; k++) wsc_loop_run_once(loop, 0);
        assert_int_equal(r.closes, i + 1);
        assert_int_equal(r.close_delay[i], want[i]);
        uint64_t t = r.close_at[i];
        tu_fake_now = t + want[i] - 1;
        for (int k = 0; k < 3; k++) wsc_loop_run_once(loop, 0);
        assert_int_equal(r.reconnects, i);
        tu_fake_now = t + want[i];
        wsc_loop_run_once(loop, 0);
        assert_int_equal(r.reconnects, i + 1);
        assert_int_equal(r.reconnect_at[i], t + want[i]);
        assert_int_equal(r.reconnect_delay[i], want[i]);
        assert_int_equal(r.attempt[i], (unsigned)i + 1);
        assert_true(r.cause[i] < 0);
    }
    for (int k = 0; k < 100 && !r.maximum; k++) wsc_loop_run_once(loop, 0);
    assert_int_equal(r.maximum, 1);
    assert_int_equal(r.opens, 0);
    assert_int_equal(r.reconnects, 4);
    wsc_client_free(c);
    tu_sp_fini(&p);
}

/* The heartbeat to the millisecond: a Ping ping_interval_ms after the open
   (not before), and with no Pong, the connection is dropped exactly
   ping_timeout_ms later (1006) and a reconnect is scheduled. */
static void test_heartbeat_exact(void **state) {
    (void)state;
    env *e = listener_only();
    char url[300];
    snprintf(url, sizeof url, "ws+unix:%s:/chat", e->p.sock);
    crec r = {0};
    wsc_client_options o = {0};
    o.on_open = o.on_close = o.on_reconnect = o.on_maximum = on_cev;
    o.user = &r;
    o.no_store = 1;
    o.ping_interval_ms = 1000;
    o.ping_timeout_ms = 500;
    o.timeout_ms = 100;
    wsc_error err;
    wsc_client *c = wsc_client_new(e->p.loop, url, &o, &err);
    assert_non_null(c);
    tu_sp_accept(&e->p);
    handshake_until(e, &r.opens);
    uint64_t t0 = tu_fake_now;
    tu_fake_now = t0 + 999;
    for (int k = 0; k < 3; k++) turn(e);
    tu_sp_silent(&e->p); /* no Ping yet */
    tu_fake_now = t0 + 1000;
    turn(e);
    uint8_t pl[125];
    tu_sp_client_frame(&e->p, 0x9, pl, sizeof pl); /* the Ping */
    tu_fake_now = t0 + 1499;
    for (int k = 0; k < 3; k++) turn(e);
    assert_int_equal(r.closes, 0);
    tu_fake_now = t0 + 1500;
    for (int k = 0; k < 3 && !r.closes; k++) turn(e);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_at[0], t0 + 1500);
    assert_int_equal(r.close_delay[0], 100); /* will reconnect after timeout_ms */
    wsc_client_free(c);
    e->ws = NULL;
    stop(e);
}

/* Confirmed delivery and who closes: the client writes "m1" (and its
   confirmation Ping), the server reads both and answers neither, then the
   server closes (1001). The clean close it started confirms nothing, so
   "m1" is reported UNCONFIRMED (at-most-once). When the client starts the
   close instead, the server's answering Close confirms "m1". */
static void server_or_client_closes(int server_first, crec *r) {
    env *e = listener_only();
    char url[300];
    snprintf(url, sizeof url, "ws+unix:%s:/chat", e->p.sock);
    wsc_client_options o = {0};
    o.on_open = o.on_close = o.on_reconnect = o.on_maximum = o.on_unconfirmed = on_cev;
    o.user = r;
    o.no_store = 1;
    o.no_heartbeat = 1;
    o.timeout_ms = 60000; /* no reconnect during the test */
    wsc_error err;
    wsc_client *c = wsc_client_new(e->p.loop, url, &o, &err);
    assert_non_null(c);
    tu_sp_accept(&e->p);
    handshake_until(e, &r->opens);
    assert_int_equal(wsc_client_send_text(c, "m1", 2), WSC_OK);
    uint8_t p[125];
    assert_int_equal(tu_sp_client_frame(&e->p, 0x1, p, sizeof p), 2);
    assert_memory_equal(p, "m1", 2);
    size_t n = tu_sp_client_frame(&e->p, 0x9, p, sizeof p); /* the confirmation Ping, not answered */
    assert_true(n > 0);
    assert_int_equal(wsc_client_unconfirmed(c), 1);
    if (server_first) {
        const uint8_t close_frame[] = {0x88, 2, 0x03, 0xe9}; /* 1001 */
        tu_sp_write(&e->p, close_frame, sizeof close_frame);
        assert_int_equal(tu_sp_client_frame(&e->p, 0x8, p, sizeof p), 2); /* the echo */
    } else {
        assert_int_equal(wsc_client_close(c, 1000, NULL), WSC_OK);
        assert_int_equal(tu_sp_client_frame(&e->p, 0x8, p, sizeof p), 2);
        const uint8_t close_frame[] = {0x88, 2, 0x03, 0xe8}; /* the answer */
        tu_sp_write(&e->p, close_frame, sizeof close_frame);
    }
    tu_sp_hangup(&e->p);
    for (int i = 0; i < 100 && !r->closes; i++) turn(e);
    assert_int_equal(r->closes, 1);
    wsc_client_free(c);
    stop(e);
}

static void test_close_confirms_only_when_ours(void **state) {
    (void)state;
    crec r = {0};
    server_or_client_closes(1, &r);
    assert_int_equal(r.unconfirmed, 1);
    assert_string_equal(r.unconfirmed_data, "m1");
    crec q = {0};
    server_or_client_closes(0, &q);
    assert_int_equal(q.unconfirmed, 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_timeout_exact),
        cmocka_unit_test(test_handshake_timeout_exact),
        cmocka_unit_test(test_byte_at_a_time_and_server_close),
        cmocka_unit_test(test_buffered_amount_exact),
        cmocka_unit_test(test_protocol_error_then_timeout),
        cmocka_unit_test(test_backoff_exact),
        cmocka_unit_test(test_heartbeat_exact),
        cmocka_unit_test(test_close_confirms_only_when_ours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
