/* test_ws.c - the connection (ws.h) against real peers on 127.0.0.1:
 * Python `websockets` and node `ws` servers, Unix sockets. TLS and the
 * CONNECT proxy are in test_ws_tls.c. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "wslog.h" /* the full event record, under short names (rec, opts_for, ...) */
#include "wsc/loop.h"
#include "wsc/ws.h"


/* ---------------- servers ---------------- */

typedef struct {
    const char *kind; /* "py" or "node" */
    tu_peer peer;
    wsc_loop *loop;
    char base[128]; /* ws://127.0.0.1:PORT */
} env;

static int start_server(env *e, const char *kind, const char *extra1, const char *extra2) {
    e->kind = kind;
    char *argv[16];
    int i = 0;
    if (!strcmp(kind, "py")) {
        argv[i++] = (char *)tu_python();
        argv[i++] = (char *)tu_peer_script("py_server.py");
    } else {
        argv[i++] = (char *)tu_node();
        argv[i++] = (char *)tu_peer_script("node_server.js");
    }
    argv[i++] = "--port";
    argv[i++] = "0";
    argv[i++] = "--lifetime";
    argv[i++] = "300";
    if (extra1) argv[i++] = (char *)extra1;
    if (extra2) argv[i++] = (char *)extra2;
    argv[i] = NULL;
    if (tu_peer_start(&e->peer, argv) != 0) return -1;
    snprintf(e->base, sizeof e->base, "ws://127.0.0.1:%d", e->peer.port);
    return 0;
}

static int setup_kind(void **state, const char *kind) {
    env *e = calloc(1, sizeof *e);
    if (start_server(e, kind, "--protocols", "chat,superchat") != 0) {
        free(e);
        return -1;
    }
    e->loop = wsc_loop_new(NULL);
    *state = e;
    return 0;
}
static int setup_py(void **state) { return setup_kind(state, "py"); }
static int setup_node(void **state) { return setup_kind(state, "node"); }
static int teardown(void **state) {
    env *e = *state;
    tu_peer_stop(&e->peer);
    wsc_loop_free(e->loop);
    free(e);
    return 0;
}

static wsc_ws *connect_to(env *e, rec *r, const char *path, wsc_ws_options *o) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", e->base, path);
    wsc_error err;
    wsc_ws *ws = wsc_ws_new(e->loop, url, o, &err);
    assert_non_null(ws);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_CONNECTING);
    /* Ping and Pong are listener-only events (not in the browser API). */
    assert_true(wsc_ws_add_listener(ws, WSC_WS_PING, on_event, r) > 0);
    assert_true(wsc_ws_add_listener(ws, WSC_WS_PONG, on_event, r) > 0);
    tu_run_until(e->loop, &r->opens, 1, 10000);
    assert_int_equal(r->opens, 1);
    assert_int_equal(r->state_at_open, WSC_OPEN);
    return ws;
}

/* The one CLOSE event comes, with this code and cleanliness. */
static void wait_close(env *e, rec *r, unsigned code, int clean) {
    tu_run_until(e->loop, &r->closes, 1, 10000);
    assert_int_equal(r->closes, 1);
    assert_int_equal(r->close_code, code);
    assert_int_equal(r->was_clean, clean);
}

static void close_and_wait(env *e, wsc_ws *ws, rec *r) {
    assert_int_equal(wsc_ws_close(ws, 1000, "bye"), WSC_OK);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_CLOSING);
    wait_close(e, r, 1000, 1);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_CLOSED);
}

/* A test's connection is done: freed, the record emptied for the next. */
static void end_ws(wsc_ws *ws, rec *r) {
    wsc_ws_free(ws);
    rec_reset(r);
}

static void close_and_end(env *e, wsc_ws *ws, rec *r) {
    close_and_wait(e, ws, r);
    end_ws(ws, r);
}

/* The first message of the connection: text sent, the same echoed. */
static void echo_first(env *e, wsc_ws *ws, rec *r, const char *text) {
    assert_int_equal(wsc_ws_send_text(ws, text, strlen(text)), WSC_OK);
    tu_run_until(e->loop, &r->nmsg, 1, 5000);
    assert_string_equal((char *)r->msg[0], text);
}

/* ---------------- tests run against both servers ---------------- */

static char *make_payload(size_t n, int text, unsigned seed) {
    char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++) p[i] = text ? (char)('a' + (i * 7 + seed) % 26) : (char)((i * 31 + seed) & 0xff);
    if (text && n >= 8) memcpy(p + n / 2 - 2, "\xce\xba\xcf\x83", 4); /* some UTF-8 */
    p[n] = 0;
    return p;
}

static void test_echo_sizes(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = connect_to(e, &r, "/echo", &o);
    assert_int_equal(strncmp(wsc_ws_extensions(ws), "permessage-deflate", 18), 0); /* offered by default */
    size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 65537, 1u << 20, 5u << 20};
    int n = 0;
    for (int text = 0; text < 2; text++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            char *p = make_payload(sizes[i], text, (unsigned)i);
            int rc = text ? wsc_ws_send_text(ws, p, sizes[i]) : wsc_ws_send_binary(ws, p, sizes[i]);
            assert_int_equal(rc, WSC_OK);
            free(p);
            n++;
        }
    tu_run_until(e->loop, &r.nmsg, n, 30000);
    assert_int_equal(r.nmsg, n);
    int k = 0;
    for (int text = 0; text < 2; text++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++, k++) {
            char *p = make_payload(sizes[i], text, (unsigned)i);
            assert_int_equal(r.msglen[k], sizes[i]);
            assert_int_equal(r.msgbin[k], !text);
            assert_memory_equal(r.msg[k], p, sizes[i]);
            free(p);
        }
    char want[160];
    snprintf(want, sizeof want, "ws://127.0.0.1:%d", e->peer.port);
    assert_string_equal(r.origin, want); /* MessageEvent.origin */
    assert_int_equal(wsc_ws_buffered_amount(ws), 0);
    close_and_end(e, ws, &r);
}

static void test_no_deflate(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    o.no_deflate = 1;
    wsc_ws *ws = connect_to(e, &r, "/echo", &o);
    assert_string_equal(wsc_ws_extensions(ws), "");
    echo_first(e, ws, &r, "plain");
    close_and_end(e, ws, &r);
}

static void test_subprotocol(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    const char *protos[] = {"superchat", "chat", NULL};
    o.protocols = protos;
    wsc_ws *ws = connect_to(e, &r, "/echo", &o);
    assert_string_equal(wsc_ws_protocol(ws), "superchat");
    close_and_end(e, ws, &r);
    /* nothing in common: no subprotocol selected, the connection opens */
    const char *other[] = {"mqtt", NULL};
    o = opts_for(&r);
    o.protocols = other;
    ws = connect_to(e, &r, "/echo", &o);
    assert_string_equal(wsc_ws_protocol(ws), "");
    close_and_end(e, ws, &r);
    /* duplicates are refused at creation, as browsers do */
    const char *dup[] = {"chat", "chat", NULL};
    o.protocols = dup;
    wsc_error err;
    assert_null(wsc_ws_new(e->loop, e->base, &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
}

static void test_server_close(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = connect_to(e, &r, "/close?code=4001&reason=server%20says%20bye&after=1", &o);
    assert_int_equal(wsc_ws_send_text(ws, "x", 1), WSC_OK);
    tu_run_until(e->loop, &r.closes, 1, 10000);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_code, 4001);
    assert_string_equal(r.close_reason, "server says bye");
    assert_int_equal(r.was_clean, 1);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.state_at_close, WSC_CLOSED);
    assert_int_equal(wsc_ws_send_text(ws, "late", 4), WSC_ECLOSED);
    /* close is always the last event */
    assert_int_equal(r.order[r.norder - 1], WSC_WS_CLOSE);
    end_ws(ws, &r);
}

static void test_client_close(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = connect_to(e, &r, "/echo", &o);
    /* the browser's rules: nothing sent, still OPEN */
    assert_int_equal(wsc_ws_close(ws, 1001, NULL), WSC_EINVAL);
    assert_int_equal(wsc_ws_close(ws, 2999, NULL), WSC_EINVAL);
    assert_int_equal(wsc_ws_close(ws, 5000, NULL), WSC_EINVAL);
    assert_int_equal(wsc_ws_close(ws, 0, "reason without code"), WSC_EINVAL);
    char longr[125];
    memset(longr, 'r', 124);
    longr[124] = 0;
    assert_int_equal(wsc_ws_close(ws, 1000, longr), WSC_EINVAL);
    assert_int_equal(wsc_ws_close(ws, 1000, "\xc0\xaf"), WSC_EUTF8);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_OPEN);
    longr[123] = 0; /* exactly 123 bytes is fine */
    assert_int_equal(wsc_ws_close(ws, 3000, longr), WSC_OK);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_CLOSING);
    assert_int_equal(wsc_ws_send_text(ws, "x", 1), WSC_ECLOSED);
    assert_int_equal(wsc_ws_close(ws, 1000, NULL), WSC_OK); /* already closing: no-op */
    wait_close(e, &r, 3000, 1);
    end_ws(ws, &r);
    /* no code: a Close without status; the server's reply reports 1005 */
    o = opts_for(&r);
    ws = connect_to(e, &r, "/echo", &o);
    assert_int_equal(wsc_ws_close(ws, 0, NULL), WSC_OK);
    wait_close(e, &r, 1005, 1);
    end_ws(ws, &r);
}

static void test_ping_pong(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = connect_to(e, &r, "/ping?n=3", &o);
    tu_run_until(e->loop, &r.pings, 3, 5000);
    assert_int_equal(r.pings, 3); /* answered automatically */
    assert_int_equal(wsc_ws_ping(ws, "abc", 3), WSC_OK);
    uint8_t big[126] = {0};
    assert_int_equal(wsc_ws_ping(ws, big, 126), WSC_EINVAL);
    tu_run_until(e->loop, &r.pongs, 1, 5000);
    assert_int_equal(r.pongs, 1);
    /* the connection still echoes afterwards */
    echo_first(e, ws, &r, "after");
    close_and_end(e, ws, &r);
}

static void test_drop_is_1006(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = connect_to(e, &r, "/drop?after=1", &o);
    assert_int_equal(wsc_ws_send_text(ws, "x", 1), WSC_OK);
    wait_close(e, &r, 1006, 0);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_CLOSED);
    end_ws(ws, &r);
}

static void test_http_status(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    char url[200];
    snprintf(url, sizeof url, "%s/status/403", e->base);
    wsc_ws *ws = wsc_ws_new(e->loop, url, &o, NULL);
    assert_non_null(ws);
    tu_run_until(e->loop, &r.closes, 1, 10000);
    assert_int_equal(r.opens, 0);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.last_error, WSC_EHTTP);
    assert_int_equal(r.http_status, 403);
    assert_non_null(strstr(r.error_msg, "403"));
    assert_int_equal(r.close_code, 1006);
    assert_int_equal(r.order[0], WSC_WS_ERROR);
    assert_int_equal(r.order[1], WSC_WS_CLOSE);
    end_ws(ws, &r);
    o = opts_for(&r);
    snprintf(url, sizeof url, "%s/status/301", e->base);
    ws = wsc_ws_new(e->loop, url, &o, NULL);
    tu_run_until(e->loop, &r.closes, 1, 10000);
    assert_int_equal(r.http_status, 301);
    assert_non_null(strstr(r.location, "/echo"));
    end_ws(ws, &r);
}

static void test_message_too_big(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    o.max_message_size = 1000;
    o.no_deflate = 1;
    wsc_ws *ws = connect_to(e, &r, "/big?bytes=2000", &o);
    tu_run_until(e->loop, &r.closes, 1, 10000);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.last_error, WSC_ETOOBIG);
    assert_non_null(strstr(r.error_msg, "1009"));
    assert_int_equal(r.close_code, 1006); /* the browser reports a failed connection as 1006 */
    assert_int_equal(r.nmsg, 0);
    end_ws(ws, &r);
}

static void test_send_states_and_buffered(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = wsc_ws_new(e->loop, e->base, &o, NULL);
    assert_int_equal(wsc_ws_send_text(ws, "early", 5), WSC_ESTATE); /* CONNECTING */
    tu_run_until(e->loop, &r.opens, 1, 10000);
    assert_int_equal(wsc_ws_send_text(ws, "\xff", 1), WSC_EUTF8);
    assert_int_equal(wsc_ws_buffered_amount(ws), 0);
    /* bufferedAmount counts accepted bytes until they are written */
    assert_int_equal(wsc_ws_send_text(ws, "hello", 5), WSC_OK);
    assert_int_equal(wsc_ws_send_binary(ws, "\x01\x02\x03", 3), WSC_OK);
    assert_int_equal(wsc_ws_buffered_amount(ws), 8);
    tu_run_until(e->loop, &r.nmsg, 2, 5000);
    assert_int_equal(wsc_ws_buffered_amount(ws), 0);
    close_and_end(e, ws, &r);
    /* the send-buffer ceiling */
    o = opts_for(&r);
    o.max_buffered = 100;
    ws = connect_to(e, &r, "/echo", &o);
    char blob[101] = {0};
    assert_int_equal(wsc_ws_send_binary(ws, blob, 101), WSC_ETOOBIG);
    /* too big and not UTF-8: the UTF-8 error comes first (ws.h), as in the
       other states; too big and valid: WSC_ETOOBIG */
    char bad[101];
    memset(bad, 'a', sizeof bad);
    bad[50] = '\xff';
    assert_int_equal(wsc_ws_send_text(ws, bad, sizeof bad), WSC_EUTF8);
    bad[50] = 'a';
    assert_int_equal(wsc_ws_send_text(ws, bad, sizeof bad), WSC_ETOOBIG);
    assert_int_equal(wsc_ws_buffered_amount(ws), 0);
    assert_int_equal(wsc_ws_send_binary(ws, blob, 100), WSC_OK);
    assert_int_equal(wsc_ws_send_binary(ws, blob, 1), WSC_ETOOBIG);
    assert_int_equal(wsc_ws_send_text(ws, "\xc3", 1), WSC_EUTF8); /* a cut sequence */
    assert_int_equal(wsc_ws_send_text(ws, "a", 1), WSC_ETOOBIG);
    assert_int_equal(wsc_ws_buffered_amount(ws), 100);
    close_and_wait(e, ws, &r);
    /* CLOSED: still the UTF-8 error first */
    assert_int_equal(wsc_ws_send_text(ws, bad, sizeof bad - 1), WSC_ECLOSED);
    bad[0] = '\x80';
    assert_int_equal(wsc_ws_send_text(ws, bad, sizeof bad - 1), WSC_EUTF8);
    end_ws(ws, &r);
}

/* Callbacks may close or free their own connection. */
static void test_free_and_close_in_callbacks(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws *ws = NULL;
    wsc_ws_options o = opts_for(&r);
    r.free_on_open = 1;
    r.self = &ws;
    ws = wsc_ws_new(e->loop, e->base, &o, NULL);
    tu_run_until(e->loop, &r.opens, 1, 10000);
    assert_null(ws);
    for (int i = 0; i < 5; i++) wsc_loop_run_once(e->loop, 10);
    assert_int_equal(r.closes, 0); /* freed: no more callbacks */
    rec_reset(&r);

    o = opts_for(&r);
    r.free_on_message = 1;
    r.self = &ws;
    ws = connect_to(e, &r, "/echo", &o);
    wsc_ws_send_text(ws, "one", 3);
    wsc_ws_send_text(ws, "two", 3);
    tu_run_until(e->loop, &r.nmsg, 1, 5000);
    for (int i = 0; i < 10; i++) wsc_loop_run_once(e->loop, 10);
    assert_null(ws);
    assert_int_equal(r.nmsg, 1); /* nothing after the free */
    rec_reset(&r);

    o = opts_for(&r);
    r.close_on_message = 1;
    ws = connect_to(e, &r, "/echo", &o);
    wsc_ws_send_text(ws, "one", 3);
    wsc_ws_send_text(ws, "two", 3);
    tu_run_until(e->loop, &r.closes, 1, 10000);
    assert_int_equal(r.nmsg, 1); /* "two" arrives while CLOSING: dropped, as browsers do */
    assert_int_equal(r.close_code, 1000);
    assert_int_equal(r.was_clean, 1);
    end_ws(ws, &r);

    /* close() while CONNECTING: error then close 1006 */
    o = opts_for(&r);
    ws = wsc_ws_new(e->loop, e->base, &o, NULL);
    assert_int_equal(wsc_ws_close(ws, 1000, NULL), WSC_OK);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.closes, 1);
    assert_int_equal(r.close_code, 1006);
    assert_int_equal(wsc_ws_ready_state(ws), WSC_CLOSED);
    for (int i = 0; i < 5; i++) wsc_loop_run_once(e->loop, 10);
    assert_int_equal(r.opens, 0);
    end_ws(ws, &r);
}

static int lcount[3];
static void l0(wsc_ws *ws, const wsc_ws_event *ev, void *u) { (void)ws; (void)ev; (void)u; lcount[0]++; }
static void l1(wsc_ws *ws, const wsc_ws_event *ev, void *u) {
    (void)ws; (void)ev;
    lcount[1]++;
    *(int *)u = lcount[0]; /* order: l0 ran before l1 */
}
static void l2(wsc_ws *ws, const wsc_ws_event *ev, void *u) { (void)ws; (void)ev; (void)u; lcount[2]++; }
static int once_calls;
/* Removes itself while the event is being dispatched. */
static void l_once(wsc_ws *ws, const wsc_ws_event *ev, void *u) {
    (void)ev;
    once_calls++;
    assert_int_equal(wsc_ws_remove_listener(ws, *(int *)u), WSC_OK);
}

static void test_listeners(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    memset(lcount, 0, sizeof lcount);
    wsc_ws *ws = wsc_ws_new(e->loop, e->base, &o, NULL);
    int seen = -1;
    int a = wsc_ws_add_listener(ws, WSC_WS_MESSAGE, l0, NULL);
    int b = wsc_ws_add_listener(ws, WSC_WS_MESSAGE, l1, &seen);
    int c = wsc_ws_add_listener(ws, WSC_WS_OPEN, l2, NULL);
    assert_true(a > 0 && b > a && c > b);
    assert_int_equal(wsc_ws_add_listener(ws, 99, l0, NULL), WSC_EINVAL);
    tu_run_until(e->loop, &r.opens, 1, 10000);
    assert_int_equal(lcount[2], 1);
    wsc_ws_send_text(ws, "m1", 2);
    tu_run_until(e->loop, &r.nmsg, 1, 5000);
    assert_int_equal(lcount[0], 1);
    assert_int_equal(lcount[1], 1);
    assert_int_equal(seen, 1);
    assert_int_equal(wsc_ws_remove_listener(ws, a), WSC_OK);
    assert_int_equal(wsc_ws_remove_listener(ws, a), WSC_EINVAL);
    wsc_ws_send_text(ws, "m2", 2);
    tu_run_until(e->loop, &r.nmsg, 2, 5000);
    assert_int_equal(lcount[0], 1);
    assert_int_equal(lcount[1], 2);
    /* A listener removed during dispatch runs no more; a listener added
       afterwards (outside dispatch: the disabled entry is dropped) runs, and
       the others keep their order. */
    once_calls = 0;
    int d = wsc_ws_add_listener(ws, WSC_WS_MESSAGE, l_once, &d);
    assert_true(d > c);
    wsc_ws_send_text(ws, "m3", 2);
    tu_run_until(e->loop, &r.nmsg, 3, 5000);
    assert_int_equal(once_calls, 1);
    assert_int_equal(lcount[1], 3);
    assert_int_equal(wsc_ws_remove_listener(ws, d), WSC_EINVAL);
    int f = wsc_ws_add_listener(ws, WSC_WS_MESSAGE, l0, NULL);
    assert_true(f > d);
    wsc_ws_send_text(ws, "m4", 2);
    tu_run_until(e->loop, &r.nmsg, 4, 5000);
    assert_int_equal(once_calls, 1);
    assert_int_equal(lcount[0], 2);
    assert_int_equal(lcount[1], 4);
    close_and_end(e, ws, &r);
}

/* Credentials in the URL travel as Basic auth, percent-decoded first. */
static void test_basic_auth(void **state) {
    env *e = *state;
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    char url[256];
    snprintf(url, sizeof url, "ws://alice:open%%20sesame@127.0.0.1:%d/record", e->peer.port);
    wsc_ws *ws = wsc_ws_new(e->loop, url, &o, NULL);
    assert_non_null(ws);
    tu_run_until(e->loop, &r.opens, 1, 10000);
    assert_int_equal(wsc_ws_send_text(ws, "__dump__", 8), WSC_OK);
    tu_run_until(e->loop, &r.nmsg, 1, 5000);
    assert_int_equal(r.nmsg, 1);
    /* base64("alice:open sesame") */
    assert_non_null(strstr((char *)r.msg[0], "Basic YWxpY2U6b3BlbiBzZXNhbWU="));
    close_and_end(e, ws, &r);
}

/* ---------------- single-server tests ---------------- */

static void test_refused(void **state) {
    (void)state;
    /* a port nobody listens on: bind one, close it */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    char url[100];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", ntohs(a.sin_port));
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = wsc_ws_new(loop, url, &o, NULL);
    assert_non_null(ws);
    assert_int_equal(r.errors, 0); /* never reported from inside wsc_ws_new */
    tu_run_until(loop, &r.closes, 1, 10000);
    assert_int_equal(r.last_error, WSC_ECONNREFUSED);
    assert_non_null(strstr(r.error_msg, "refused"));
    assert_int_equal(r.close_code, 1006);
    assert_int_equal(r.was_clean, 0);
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    rec_reset(&r);
}

static void test_bad_urls(void **state) {
    (void)state;
    wsc_loop *loop = wsc_loop_new(NULL);
    const char *bad[] = {"ftp://x/", "ws://", "ws://h:99999/", "ws://h/#frag", "ws://h/\r\nX: y"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wsc_error err;
        assert_null(wsc_ws_new(loop, bad[i], NULL, &err));
        assert_int_equal(err.code, WSC_EURL);
    }
    wsc_ws_options o = {0};
    wsc_ws_header h = {"X-Bad", "a\r\nInjected: 1"};
    o.headers = &h;
    o.nheaders = 1;
    wsc_error err;
    assert_null(wsc_ws_new(loop, "ws://127.0.0.1:1/", &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    wsc_loop_free(loop);
}

/* A listener on 127.0.0.1 (an ephemeral port) that accepts TCP and never
   answers; url gets "ws://127.0.0.1:PORT/". */
static int mute_listener(int flags, int backlog, char *url, size_t cap) {
    int s = socket(AF_INET, SOCK_STREAM | flags, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, backlog), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    snprintf(url, cap, "ws://127.0.0.1:%d/", ntohs(a.sin_port));
    return s;
}

/* A server that accepts TCP and never answers the upgrade. */
static void test_handshake_timeout(void **state) {
    (void)state;
    char url[100];
    int s = mute_listener(0, 4, url, sizeof url);
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    o.handshake_timeout_ms = 200;
    wsc_ws *ws = wsc_ws_new(loop, url, &o, NULL);
    tu_run_until(loop, &r.closes, 1, 10000);
    assert_int_equal(r.last_error, WSC_ETIMEDOUT);
    assert_int_equal(r.close_code, 1006);
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    close(s);
    rec_reset(&r);
}

/* RFC 6455 4.1: no more than one connection in CONNECTING per host and
   port. Against a listener that accepts TCP and never answers, the second
   connection must not even connect until the first has failed. */
static int accept_all(int lfd) {
    int n = 0, fd;
    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        close(fd);
        n++;
    }
    return n;
}

static void test_one_connecting_per_host(void **state) {
    (void)state;
    char url[100];
    int s = mute_listener(SOCK_NONBLOCK, 16, url, sizeof url);
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r1 = {0}, r2 = {0};
    wsc_ws_options o1 = opts_for(&r1), o2 = opts_for(&r2);
    o1.handshake_timeout_ms = o2.handshake_timeout_ms = 60000;
    wsc_ws *w1 = wsc_ws_new(loop, url, &o1, NULL);
    wsc_ws *w2 = wsc_ws_new(loop, url, &o2, NULL);
    for (int i = 0; i < 20; i++) wsc_loop_run_once(loop, 10);
    assert_int_equal(accept_all(s), 1); /* only the first reached TCP */
    assert_int_equal(wsc_ws_ready_state(w2), WSC_CONNECTING);
    /* the first gives up: the second starts */
    wsc_ws_close(w1, 0, NULL);
    assert_int_equal(r1.closes, 1);
    for (int i = 0; i < 20; i++) wsc_loop_run_once(loop, 10);
    assert_int_equal(accept_all(s), 1);
    /* freeing a waiting connection is fine too */
    wsc_ws *w3 = wsc_ws_new(loop, url, &o1, NULL);
    wsc_ws_free(w3);
    wsc_ws_free(w2);
    wsc_ws_free(w1);
    /* parallel_connect: both at once */
    o1.parallel_connect = o2.parallel_connect = 1;
    w1 = wsc_ws_new(loop, url, &o1, NULL);
    w2 = wsc_ws_new(loop, url, &o2, NULL);
    for (int i = 0; i < 20; i++) wsc_loop_run_once(loop, 10);
    assert_int_equal(accept_all(s), 2);
    wsc_ws_free(w1);
    wsc_ws_free(w2);
    wsc_loop_free(loop);
    close(s);
}

static void test_unix_socket(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char path[300], url[400];
    snprintf(path, sizeof path, "%s/ws.sock", dir);
    char *argv[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--unix", path, "--lifetime", "60", NULL};
    tu_peer peer;
    assert_int_equal(tu_peer_start(&peer, argv), 0);
    snprintf(url, sizeof url, "ws+unix:%s:/echo", path);
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_ws_options o = opts_for(&r);
    wsc_ws *ws = wsc_ws_new(loop, url, &o, NULL);
    assert_non_null(ws);
    tu_run_until(loop, &r.opens, 1, 10000);
    assert_int_equal(r.opens, 1);
    wsc_ws_send_text(ws, "over unix", 9);
    tu_run_until(loop, &r.nmsg, 1, 5000);
    assert_string_equal((char *)r.msg[0], "over unix");
    wsc_ws_close(ws, 1000, NULL);
    tu_run_until(loop, &r.closes, 1, 5000);
    assert_int_equal(r.was_clean, 1);
    end_ws(ws, &r);
    /* a socket path nobody listens on */
    snprintf(url, sizeof url, "ws+unix:%s/none.sock:/", dir);
    o = opts_for(&r);
    ws = wsc_ws_new(loop, url, &o, NULL);
    tu_run_until(loop, &r.closes, 1, 5000);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.close_code, 1006);
    end_ws(ws, &r);
    wsc_loop_free(loop);
    tu_peer_stop(&peer);
    tu_rmtree(dir);
    free(dir);
}


int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest both[] = {
        cmocka_unit_test(test_echo_sizes),
        cmocka_unit_test(test_no_deflate),
        cmocka_unit_test(test_subprotocol),
        cmocka_unit_test(test_server_close),
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_drop_is_1006),
        cmocka_unit_test(test_http_status),
        cmocka_unit_test(test_message_too_big),
        cmocka_unit_test(test_send_states_and_buffered),
        cmocka_unit_test(test_free_and_close_in_callbacks),
        cmocka_unit_test(test_listeners),
        cmocka_unit_test(test_basic_auth),
    };
    const struct CMUnitTest single[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_one_connecting_per_host),
        cmocka_unit_test(test_unix_socket),
    };
    int fails = 0;
    const char *only = getenv("WSC_TEST_GROUP");
    if (!only || !strcmp(only, "py")) fails += cmocka_run_group_tests_name("python-websockets", both, setup_py, teardown);
    if (!only || !strcmp(only, "node")) fails += cmocka_run_group_tests_name("node-ws", both, setup_node, teardown);
    if (!only || !strcmp(only, "single")) fails += cmocka_run_group_tests_name("single", single, NULL, NULL);
    return fails ? 1 : 0;
}
