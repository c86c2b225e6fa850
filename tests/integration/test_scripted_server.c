/* test_scripted_server.c - the server role against a scripted client, with
 * an injected clock: no peer process, no wall-clock wait.
 *
 * The companion of test_scripted.c (which scripts the server for the client
 * role). Here wsc_server listens on a Unix socket and the test is the
 * client: it writes exact bytes (masked, as a client must), one byte at a
 * time where it matters, and compares the exact bytes the server writes
 * back. The loop's clock is the test's (wsc__loop_set_clock) and the loop is
 * driven with wsc_loop_run_once(loop, 0), so every timeout is checked at its
 * exact millisecond: nothing at deadline - 1, the event at the deadline.
 * The peer's reads are bounded with poll() (5 s) and only ever wait for
 * bytes the server writes without needing time to pass. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "scripted_peer.h"
#include "wsc/loop.h"
#include "wsc/server.h"
#include "wsc/ws.h"

/* What the server reported, in order of arrival. */
typedef struct {
    int opens, messages, pings, pongs, errors, closes;
    int last_error;
    unsigned code;
    int clean;
    char ping[32], msg[32];
    size_t ping_len;
    int msg_binary;
    wsc_sconn *conn; /* the one connection, from on_open until on_close */
} rec;

typedef struct {
    tu_sp p; /* p.fd: the test's end, the client */
    wsc_server *srv;
    rec r;
} env;

static void on_ev(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    rec *r = user;
    switch (ev->type) {
    case WSC_SRV_OPEN:
        r->opens++;
        r->conn = c;
        break;
    case WSC_SRV_MESSAGE:
        r->messages++;
        r->msg_binary = ev->binary;
        snprintf(r->msg, sizeof r->msg, "%.*s", (int)ev->len, (const char *)ev->data);
        break;
    case WSC_SRV_PING:
        r->pings++;
        r->ping_len = ev->len;
        assert_true(ev->len < sizeof r->ping);
        if (ev->len) memcpy(r->ping, ev->data, ev->len);
        break;
    case WSC_SRV_PONG: r->pongs++; break;
    case WSC_SRV_ERROR:
        r->errors++;
        r->last_error = ev->error;
        break;
    case WSC_SRV_CLOSE:
        r->closes++;
        r->code = ev->code;
        r->clean = ev->was_clean;
        r->conn = NULL; /* freed after the callback */
        break;
    }
}

/* The server on a Unix socket in a fresh directory, on a loop with the
   injected clock, and the test's client connected to it and accepted (at
   tu_fake_now: the handshake timer starts then). */
static env *start(wsc_server_options *o) {
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    tu_sp_init(&e->p);
    o->unix_path = e->p.sock;
    o->no_deflate = 1;
    o->on_open = o->on_message = o->on_error = o->on_close = o->on_ping = o->on_pong = on_ev;
    o->user = &e->r;
    wsc_error err;
    e->srv = wsc_server_new(e->p.loop, o, &err);
    assert_non_null(e->srv);
    tu_sp_connect(&e->p);
    tu_sp_turns(&e->p, 3); /* the server accepts it */
    tu_sp_silent(&e->p);
    return e;
}

static void stop(env *e) {
    wsc_server_free(e->srv);
    tu_sp_fini(&e->p);
    free(e);
}

/* RFC 6455 1.3's example key, so the accept value is a known constant. */
static const char REQUEST[] = "GET /chat HTTP/1.1\r\n"
                              "Host: localhost\r\n"
                              "Upgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "\r\n";
static const char RESPONSE[] = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Upgrade: websocket\r\n"
                               "Connection: Upgrade\r\n"
                               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                               "\r\n";

/* The whole request at once, the exact 101, and on_open. */
static void handshake(env *e) {
    tu_sp_write(&e->p, REQUEST, sizeof REQUEST - 1);
    tu_sp_expect(&e->p, RESPONSE, sizeof RESPONSE - 1);
    tu_sp_until(&e->p, &e->r.opens, 1);
    assert_int_equal(e->r.opens, 1);
    assert_non_null(e->r.conn);
    assert_int_equal(wsc_sconn_ready_state(e->r.conn), WSC_OPEN);
}

/* 1. The request arrives one byte per read: the server answers only once
   the head is complete, with the exact 101 (the accept value for the RFC's
   key), and reports the open. */
static void test_upgrade_byte_at_a_time(void **state) {
    (void)state;
    wsc_server_options o = {0};
    env *e = start(&o);
    const size_t n = sizeof REQUEST - 1;
    for (size_t i = 0; i < n; i++) {
        tu_sp_write(&e->p, REQUEST + i, 1);
        tu_sp_turns(&e->p, 3);
        if (i + 1 < n) {
            tu_sp_silent(&e->p);
            assert_int_equal(e->r.opens, 0);
        }
    }
    tu_sp_expect(&e->p, RESPONSE, sizeof RESPONSE - 1);
    tu_sp_until(&e->p, &e->r.opens, 1);
    assert_int_equal(e->r.opens, 1);
    assert_int_equal(wsc_server_connections(e->srv), 1);
    assert_string_equal(wsc_sconn_protocol(e->r.conn), "");
    assert_string_equal(wsc_sconn_extensions(e->r.conn), "");
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p); /* nothing after the 101 */
    stop(e);
}

/* 1b. Frames right behind the request, in the same write: the server
   keeps them for the open connection, so the 101 is followed by the Pong,
   and the message and the Ping are reported after on_open. */
static void test_frames_behind_the_request(void **state) {
    (void)state;
    wsc_server_options o = {0};
    env *e = start(&o);
    uint8_t buf[sizeof REQUEST + 2 * 131];
    size_t n = sizeof REQUEST - 1;
    memcpy(buf, REQUEST, n);
    n += tu_sp_masked_frame(0x81, "hi", 2, buf + n);
    n += tu_sp_masked_frame(0x89, "p1", 2, buf + n);
    tu_sp_write(&e->p, buf, n);
    tu_sp_expect(&e->p, RESPONSE, sizeof RESPONSE - 1);
    tu_sp_expect(&e->p, "\x8a\x02p1", 4);
    assert_int_equal(e->r.opens, 1);
    assert_int_equal(e->r.messages, 1);
    assert_false(e->r.msg_binary);
    assert_string_equal(e->r.msg, "hi");
    assert_int_equal(e->r.pings, 1);
    assert_int_equal(e->r.errors + e->r.closes, 0);
    stop(e);
}

/* 2. The handshake timeout, to the millisecond: half a request (that
   arrives later than the accept, and does not extend the deadline) is
   dropped exactly handshake_timeout_ms after the accept. A connection that
   never opened reports no event. */
static void handshake_timeout_case(unsigned opt, unsigned want) {
    wsc_server_options o = {0};
    o.handshake_timeout_ms = opt;
    env *e = start(&o);
    uint64_t t0 = tu_fake_now;
    tu_fake_now = t0 + 100;
    tu_sp_write(&e->p, REQUEST, 40);
    tu_sp_turns(&e->p, 3);
    tu_fake_now = t0 + want - 1;
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p);
    tu_fake_now = t0 + want;
    tu_sp_turn(&e->p);
    tu_sp_expect_eof(&e->p);
    assert_int_equal(e->r.opens + e->r.errors + e->r.closes, 0);
    assert_int_equal(wsc_server_connections(e->srv), 0);
    stop(e);
}

static void test_handshake_timeout_exact(void **state) {
    (void)state;
    handshake_timeout_case(0, 10000); /* the default (src/conn.h) */
    handshake_timeout_case(750, 750);
}

/* 3a. The close timeout, to the millisecond: the server starts the close
   and the peer never answers; at close_timeout - 1 nothing, at
   close_timeout TCP is cut and on_close says 1006, not clean. */
static void close_timeout_case(unsigned opt, unsigned want) {
    wsc_server_options o = {0};
    o.close_timeout_ms = opt;
    env *e = start(&o);
    handshake(e);
    wsc_sconn *c = e->r.conn;
    assert_int_equal(wsc_sconn_close(c, 1000, "bye"), WSC_OK);
    assert_int_equal(wsc_sconn_ready_state(c), WSC_CLOSING);
    uint64_t t0 = tu_fake_now;
    tu_sp_expect(&e->p, "\x88\x05\x03\xe8" "bye", 7); /* unmasked: from the server */
    tu_fake_now = t0 + want - 1;
    tu_sp_turns(&e->p, 3);
    assert_int_equal(e->r.closes, 0);
    tu_sp_silent(&e->p);
    tu_fake_now = t0 + want;
    tu_sp_turn(&e->p);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1006);
    assert_false(e->r.clean);
    assert_int_equal(e->r.errors, 0);
    tu_sp_expect_eof(&e->p);
    stop(e);
}

static void test_close_timeout_exact(void **state) {
    (void)state;
    close_timeout_case(0, 5000); /* the default (src/conn.h) */
    close_timeout_case(1200, 1200);
}

/* 3b. The peer answers the server's Close: a clean close with its code at
   once (no time passes), and the server closes TCP first (RFC 6455 7.1.1). */
static void test_close_answered_clean(void **state) {
    (void)state;
    wsc_server_options o = {0};
    o.close_timeout_ms = 1200;
    env *e = start(&o);
    handshake(e);
    assert_int_equal(wsc_sconn_close(e->r.conn, 1000, "bye"), WSC_OK);
    tu_sp_expect(&e->p, "\x88\x05\x03\xe8" "bye", 7);
    tu_sp_client_send(&e->p, 0x88, "\x03\xe8", 2);
    tu_sp_until(&e->p, &e->r.closes, 1);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1000);
    assert_true(e->r.clean);
    assert_int_equal(e->r.errors, 0);
    tu_sp_expect_eof(&e->p);
    stop(e);
}

/* 3c. The peer starts the close: the server echoes the code (the exact
   Close back), closes TCP and reports a clean close. */
static void test_peer_close_echoed(void **state) {
    (void)state;
    wsc_server_options o = {0};
    env *e = start(&o);
    handshake(e);
    tu_sp_client_send(&e->p, 0x88, "\x03\xe9" "away", 6);
    tu_sp_expect(&e->p, "\x88\x02\x03\xe9", 4);
    tu_sp_expect_eof(&e->p);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1001);
    assert_true(e->r.clean);
    stop(e);
}

/* 4. A masked Ping, one byte per read: the exact Pong (unmasked, the same
   payload) only once the frame is whole, and the on_ping event with the
   payload; an empty Ping gets an empty Pong. A Pong from the peer is
   reported and not answered. */
static void test_ping_gets_exact_pong(void **state) {
    (void)state;
    wsc_server_options o = {0};
    env *e = start(&o);
    handshake(e);
    uint8_t f[131];
    size_t n = tu_sp_masked_frame(0x89, "hello", 5, f);
    for (size_t i = 0; i < n; i++) {
        tu_sp_write(&e->p, f + i, 1);
        tu_sp_turns(&e->p, 3);
        if (i + 1 < n) {
            tu_sp_silent(&e->p);
            assert_int_equal(e->r.pings, 0);
        }
    }
    tu_sp_expect(&e->p, "\x8a\x05hello", 7);
    assert_int_equal(e->r.pings, 1);
    assert_int_equal(e->r.ping_len, 5);
    assert_memory_equal(e->r.ping, "hello", 5);
    tu_sp_client_send(&e->p, 0x89, NULL, 0);
    tu_sp_expect(&e->p, "\x8a\x00", 2);
    assert_int_equal(e->r.pings, 2);
    assert_int_equal(e->r.ping_len, 0);
    tu_sp_client_send(&e->p, 0x8a, "x", 1);
    tu_sp_until(&e->p, &e->r.pongs, 1);
    assert_int_equal(e->r.pongs, 1);
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p);
    assert_int_equal(e->r.errors + e->r.closes, 0);
    stop(e);
}

/* 5. A frame that breaks a rule: exactly a Close 1002 without a reason,
   then the server closes TCP; on_error (WSC_EPROTO) then on_close 1006,
   not clean; the bad frame is not delivered. No time passes. */
static void protocol_error_case(const uint8_t *bad, size_t n) {
    wsc_server_options o = {0};
    env *e = start(&o);
    handshake(e);
    tu_sp_write(&e->p, bad, n);
    tu_sp_expect(&e->p, "\x88\x02\x03\xea", 4);
    tu_sp_expect_eof(&e->p);
    assert_int_equal(e->r.errors, 1);
    assert_int_equal(e->r.last_error, WSC_EPROTO);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1006);
    assert_false(e->r.clean);
    assert_int_equal(e->r.messages, 0);
    stop(e);
}

static void test_protocol_errors_close_1002(void **state) {
    (void)state;
    const uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'};
    protocol_error_case(unmasked, sizeof unmasked);
    uint8_t f[131];
    protocol_error_case(f, tu_sp_masked_frame(0x83, "x", 1, f)); /* reserved data opcode */
    protocol_error_case(f, tu_sp_masked_frame(0x8b, NULL, 0, f)); /* reserved control opcode */
    protocol_error_case(f, tu_sp_masked_frame(0x09, "p", 1, f)); /* a fragmented Ping */
    protocol_error_case(f, tu_sp_masked_frame(0xc1, "x", 1, f)); /* RSV1 without an extension */
}

/* 6. bufferedAmount is exact in application bytes: all of two sends before
   the flush; after it, what the kernel did not take (a 4 MiB message is
   more than a Unix socket holds), computed from the bytes waiting at the
   peer (FIONREAD) minus the frame header; unchanged while the peer does not
   read; 0 once it has read everything. */
static void test_buffered_amount_exact(void **state) {
    (void)state;
    wsc_server_options o = {0};
    env *e = start(&o);
    handshake(e);
    wsc_sconn *c = e->r.conn;
    const size_t big = (size_t)4 * 1024 * 1024, small = 100, hdr = 10; /* 0x82 0x7f + 64-bit length */
    uint8_t *m = malloc(big);
    assert_non_null(m);
    for (size_t i = 0; i < big; i++) m[i] = (uint8_t)(i * 7);
    char s[100];
    memset(s, 's', sizeof s);
    assert_int_equal(wsc_sconn_buffered_amount(c), 0);
    assert_int_equal(wsc_sconn_send_binary(c, m, big), WSC_OK);
    assert_int_equal(wsc_sconn_buffered_amount(c), big);
    assert_int_equal(wsc_sconn_send_text(c, s, small), WSC_OK);
    assert_int_equal(wsc_sconn_buffered_amount(c), big + small);
    tu_sp_turn(&e->p); /* the deferred flush: one write, cut short by the kernel */
    int inq = -1;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(ioctl(e->p.fd, FIONREAD, &inq), 0);
        assert_true((size_t)inq > hdr && (size_t)inq < big);
        assert_int_equal(wsc_sconn_buffered_amount(c), big + small - ((size_t)inq - hdr));
        tu_sp_turns(&e->p, 3); /* the peer does not read: nothing moves */
        int again;
        assert_int_equal(ioctl(e->p.fd, FIONREAD, &again), 0);
        assert_int_equal(again, inq);
    }
    /* The peer reads it all: exact bytes, header and payload. */
    size_t total = hdr + big + 2 + small;
    uint8_t *got = malloc(total);
    assert_non_null(got);
    tu_sp_read(&e->p, got, total);
    assert_memory_equal(got, "\x82\x7f\x00\x00\x00\x00\x00\x40\x00\x00", hdr);
    assert_memory_equal(got + hdr, m, big);
    assert_memory_equal(got + hdr + big, "\x81\x64", 2);
    assert_memory_equal(got + hdr + big + 2, s, small);
    tu_sp_turns(&e->p, 3);
    assert_int_equal(wsc_sconn_buffered_amount(c), 0);
    tu_sp_silent(&e->p);
    free(got);
    free(m);
    /* Control frames do not count (server.h). */
    assert_int_equal(wsc_sconn_ping(c, "p", 1), WSC_OK);
    assert_int_equal(wsc_sconn_buffered_amount(c), 0);
    tu_sp_expect(&e->p, "\x89\x01p", 3);
    stop(e);
}

/* 7a. The idle timeout, to the millisecond: idle_timeout_ms after the open
   with nothing from the peer, the server sends Close 1001 "idle timeout".
   Anything the peer sends (here a Ping at +1000) moves the deadline to
   that moment + idle_timeout_ms. The peer's answer ends it cleanly. */
static void test_idle_timeout_exact(void **state) {
    (void)state;
    wsc_server_options o = {0};
    o.idle_timeout_ms = 3000;
    env *e = start(&o);
    handshake(e);
    uint64_t t0 = tu_fake_now;
    tu_fake_now = t0 + 1000;
    tu_sp_client_send(&e->p, 0x89, NULL, 0);
    tu_sp_expect(&e->p, "\x8a\x00", 2);
    tu_fake_now = t0 + 3000; /* the first deadline: activity since, so later */
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p);
    tu_fake_now = t0 + 3999;
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p);
    assert_int_equal(wsc_sconn_ready_state(e->r.conn), WSC_OPEN);
    tu_fake_now = t0 + 4000;
    tu_sp_turn(&e->p);
    tu_sp_expect(&e->p, "\x88\x0e\x03\xe9" "idle timeout", 16);
    assert_int_equal(wsc_sconn_ready_state(e->r.conn), WSC_CLOSING);
    assert_int_equal(e->r.closes, 0);
    tu_sp_client_send(&e->p, 0x88, "\x03\xe9", 2);
    tu_sp_expect_eof(&e->p);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1001);
    assert_true(e->r.clean);
    stop(e);
}

/* 7b. The message timeout, to the millisecond: an unfinished message may
   hold storage message_timeout_ms from its first stored byte (a later
   fragment does not extend it); then Close 1008 "message took too long",
   TCP closed at once (the connection failed), on_close 1006. */
static void message_timeout_case(unsigned opt, unsigned want) {
    wsc_server_options o = {0};
    o.message_timeout_ms = opt;
    env *e = start(&o);
    handshake(e);
    uint64_t t0 = tu_fake_now;
    tu_fake_now = t0 + 100;
    tu_sp_client_send(&e->p, 0x01, "abc", 3); /* text, no FIN */
    tu_sp_turns(&e->p, 3);
    tu_fake_now = t0 + 100 + want / 2;
    tu_sp_client_send(&e->p, 0x00, "def", 3); /* continuation, no FIN */
    tu_sp_turns(&e->p, 3);
    tu_fake_now = t0 + 100 + want - 1;
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p);
    assert_int_equal(e->r.closes + e->r.messages, 0);
    tu_fake_now = t0 + 100 + want;
    tu_sp_turn(&e->p);
    tu_sp_expect(&e->p, "\x88\x17\x03\xf0" "message took too long", 25);
    tu_sp_expect_eof(&e->p);
    assert_int_equal(e->r.closes, 1);
    assert_int_equal(e->r.code, 1006);
    assert_false(e->r.clean);
    assert_int_equal(e->r.messages, 0);
    stop(e);
}

static void test_message_timeout_exact(void **state) {
    (void)state;
    message_timeout_case(0, 60000); /* the default (server.h) */
    message_timeout_case(2000, 2000);
}

/* 7c. A message finished in time releases its storage: no message timeout
   afterwards, however long the connection then waits. */
static void test_message_in_time_no_timeout(void **state) {
    (void)state;
    wsc_server_options o = {0};
    o.message_timeout_ms = 2000;
    env *e = start(&o);
    handshake(e);
    uint64_t t0 = tu_fake_now;
    tu_sp_client_send(&e->p, 0x01, "abc", 3);
    tu_sp_turns(&e->p, 3);
    tu_fake_now = t0 + 1999;
    tu_sp_client_send(&e->p, 0x80, "def", 3); /* the last fragment, just in time */
    tu_sp_until(&e->p, &e->r.messages, 1);
    assert_int_equal(e->r.messages, 1);
    tu_fake_now = t0 + 100000;
    tu_sp_turns(&e->p, 3);
    tu_sp_silent(&e->p);
    assert_int_equal(e->r.closes, 0);
    stop(e);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_byte_at_a_time),
        cmocka_unit_test(test_frames_behind_the_request),
        cmocka_unit_test(test_handshake_timeout_exact),
        cmocka_unit_test(test_close_timeout_exact),
        cmocka_unit_test(test_close_answered_clean),
        cmocka_unit_test(test_peer_close_echoed),
        cmocka_unit_test(test_ping_gets_exact_pong),
        cmocka_unit_test(test_protocol_errors_close_1002),
        cmocka_unit_test(test_buffered_amount_exact),
        cmocka_unit_test(test_idle_timeout_exact),
        cmocka_unit_test(test_message_timeout_exact),
        cmocka_unit_test(test_message_in_time_no_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
