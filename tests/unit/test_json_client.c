/*
 * test_json_client.c - the client's JSON path against a real peer: an
 * in-process wsc_server echo on 127.0.0.1 (port 0) on the same loop.
 * wsc_client_send_json_text with and without an existing csrf member (and
 * with a token, without one, queued before open), refusals (invalid text,
 * duplicate keys, non-objects while a token exists), the view and the
 * json_t in the message event, and invalid JSON reaching the error callback
 * with its raw text at many sizes up to the message limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "testutil.h"
#include "wsc/client.h"
#include "wsc/json.h"
#include "wsc/server.h"

#define LIMIT 65536 /* the client's max_message_size here */

static void echo(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s, (void)user;
    if (ev->binary) wsc_sconn_send_binary(c, ev->data, ev->len);
    else wsc_sconn_send_text(c, (const char *)ev->data, ev->len);
}

typedef struct rec {
    int opened, msgs, errors;
    char *last;        /* the last message's raw text */
    size_t last_len;
    int last_view_type, last_has_json;
    char seen_csrf[64];
    int last_error;
    size_t err_len;
    int err_line, err_col;
    int err_raw_ok;    /* error's data equals what was sent */
    const char *expect_raw;
} rec;

static void on_open(wsc_client *c, const wsc_client_event *ev, void *u) {
    (void)c, (void)ev;
    ((rec *)u)->opened++;
}
static void on_message(wsc_client *c, const wsc_client_event *ev, void *u) {
    (void)c;
    rec *r = u;
    r->msgs++;
    free(r->last);
    r->last = malloc(ev->len + 1);
    memcpy(r->last, ev->data, ev->len);
    r->last[ev->len] = 0;
    r->last_len = ev->len;
    r->last_view_type = wsc_json_type(ev->view);
    r->last_has_json = ev->json != NULL;
    size_t n;
    const char *t = wsc_json_string(wsc_json_get(ev->view, "csrf"), &n);
    snprintf(r->seen_csrf, sizeof r->seen_csrf, "%.*s", t ? (int)n : 0, t ? t : "");
}
static void on_error(wsc_client *c, const wsc_client_event *ev, void *u) {
    (void)c;
    rec *r = u;
    r->errors++;
    r->last_error = ev->error;
    r->err_len = ev->len;
    r->err_line = ev->json_line;
    r->err_col = ev->json_column;
    r->err_raw_ok = r->expect_raw && ev->data && !memcmp(ev->data, r->expect_raw, ev->len);
}

typedef struct fixture {
    wsc_loop *loop;
    wsc_server *srv;
    wsc_client *c;
    rec r;
    char url[64];
} fixture;

/* How the connection frames and keeps what is sent (client_send.c takes a
   different path for each): deflate offered but refused (frames not plain:
   kept as copies), plain frames (kept by reference, sent from pieces),
   delivery off (pieces, nothing kept), deflate in use with delivery off
   (pieces joined and compressed), fragment_size with delivery off (pieces
   joined and fragmented). */
enum { M_OFFERED, M_PLAIN, M_OFF, M_DEFLATE_OFF, M_FRAG_OFF, M_COUNT };

static void start_mode(fixture *f, const char *token, int view_only, int mode) {
    memset(f, 0, sizeof *f);
    f->loop = wsc_loop_new(NULL);
    assert_non_null(f->loop);
    wsc_server_options so = {0};
    so.on_message = echo;
    so.no_deflate = mode != M_DEFLATE_OFF;
    so.max_message_size = 4 * LIMIT;
    f->srv = wsc_server_new(f->loop, &so, NULL);
    assert_non_null(f->srv);
    snprintf(f->url, sizeof f->url, "ws://127.0.0.1:%u/", (unsigned)wsc_server_port(f->srv));
    wsc_client_options o = {0};
    o.no_store = 1;
    o.token = token;
    o.no_reconnect = 1;
    o.no_heartbeat = 1;
    o.json_view_only = view_only;
    o.ws.max_message_size = LIMIT;
    o.ws.no_deflate = mode == M_PLAIN;
    if (mode == M_OFF || mode == M_DEFLATE_OFF || mode == M_FRAG_OFF) o.delivery = WSC_DELIVERY_OFF;
    if (mode == M_FRAG_OFF) o.ws.fragment_size = 7;
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    o.user = &f->r;
    f->c = wsc_client_new(f->loop, f->url, &o, NULL);
    assert_non_null(f->c);
}

static void start(fixture *f, const char *token, int view_only) { start_mode(f, token, view_only, M_OFFERED); }

static void stop(fixture *f) {
    wsc_client_free(f->c);
    wsc_server_free(f->srv);
    wsc_loop_free(f->loop);
    free(f->r.last);
}

/* Sends text with send_json_text and waits for its echo. */
static void roundtrip(fixture *f, const char *text) {
    int before = f->r.msgs;
    int rc = wsc_client_send_json_text(f->c, text, strlen(text));
    if (rc) fail_msg("send_json_text of %.40s: %s", text, wsc_strerror(rc));
    tu_run_until(f->loop, &f->r.msgs, before + 1, 5000);
    assert_int_equal(f->r.msgs, before + 1);
}

static void test_send_json_text_with_token(void **state) {
    (void)state;
    for (int mode = 0; mode < M_COUNT; mode++) {
        fixture f;
        start_mode(&f, "tok-123", 0, mode);
        /* queued before open: gets the token when sent */
        assert_int_equal(wsc_client_send_json_text(f.c, "{\"q\":1}", 7), WSC_OK);
        tu_run_until(f.loop, &f.r.msgs, 1, 5000);
        assert_string_equal(f.r.last, "{\"q\":1,\"csrf\":\"tok-123\"}");
        /* no csrf yet: added after the other members, which are copied byte for byte */
        roundtrip(&f, "{ \"op\" : \"sub\", \"n\": [1, 2.50] }");
        assert_string_equal(f.r.last, "{\"op\" : \"sub\",\"n\": [1, 2.50],\"csrf\":\"tok-123\"}");
        assert_string_equal(f.r.seen_csrf, "tok-123");
        assert_int_equal(f.r.last_view_type, WSC_JSON_OBJECT);
        assert_true(f.r.last_has_json); /* the default builds a json_t too */
        /* an existing csrf is replaced (even written with an escape), wherever it is */
        roundtrip(&f, "{\"csrf\":\"stale\",\"a\":1}");
        assert_string_equal(f.r.last, "{\"a\":1,\"csrf\":\"tok-123\"}");
        roundtrip(&f, "{\"a\":1,\"c\\u0073rf\":\"stale\",\"b\":{}}");
        assert_string_equal(f.r.last, "{\"a\":1,\"b\":{},\"csrf\":\"tok-123\"}");
        roundtrip(&f, "{}");
        assert_string_equal(f.r.last, "{\"csrf\":\"tok-123\"}");
        /* a larger one (many 7-byte frames, compressed, or one frame) */
        char big[3100], want[3100];
        static const char head[] = "{\"csrf\":\"old\",\"pad\":\"";
        size_t hl = sizeof head - 1;
        memcpy(big, head, hl);
        memset(big + hl, 'x', 3000);
        memcpy(big + hl + 3000, "\"}", 3);
        roundtrip(&f, big);
        /* the other member, from its key's quote to its value's end */
        snprintf(want, sizeof want, "{%.*s,\"csrf\":\"tok-123\"}", (int)(hl - 14 + 3001), big + 14);
        if (strcmp(f.r.last, want)) {
            size_t i = 0;
            while (f.r.last[i] == want[i]) i++;
            fail_msg("mode %d: big echo differs at %zu of %zu/%zu: %.20s vs %.20s", mode, i, strlen(f.r.last), strlen(want), f.r.last + i, want + i);
        }
        /* refusals: nothing sent */
        assert_int_equal(wsc_client_send_json_text(f.c, "[1]", 3), WSC_EINVAL);     /* would lose the token */
        assert_int_equal(wsc_client_send_json_text(f.c, "\"s\"", 3), WSC_EINVAL);
        assert_int_equal(wsc_client_send_json_text(f.c, "{\"a\":}", 6), WSC_EJSON);
        assert_int_equal(wsc_client_send_json_text(f.c, "{\"a\":1,\"a\":2}", 13), WSC_EJSON); /* duplicate */
        assert_int_equal(wsc_client_send_json_text(f.c, "{\"a\":\"\xff\"}", 9), WSC_EJSON);   /* UTF-8 */
        assert_int_equal(wsc_client_send_json_text(f.c, NULL, 1), WSC_EINVAL);
        assert_int_equal(wsc_client_send_json_view(f.c, (wsc_json){0}), WSC_EINVAL);
        int msgs = f.r.msgs;
        tu_run_for(f.loop, 50);
        assert_int_equal(f.r.msgs, msgs);
        stop(&f);
    }
}

static void test_send_json_text_without_token(void **state) {
    (void)state;
    fixture f;
    start(&f, NULL, 1);
    tu_run_until(f.loop, &f.r.opened, 1, 5000);
    /* sent exactly as given; any value */
    roundtrip(&f, "{ \"a\" : [ 1 ] }");
    assert_string_equal(f.r.last, "{ \"a\" : [ 1 ] }");
    assert_false(f.r.last_has_json); /* json_view_only */
    assert_int_equal(f.r.last_view_type, WSC_JSON_OBJECT);
    roundtrip(&f, "[1,\"x\"]");
    assert_int_equal(f.r.last_view_type, WSC_JSON_ARRAY);
    roundtrip(&f, "{\"csrf\":\"mine\"}"); /* no token: left alone */
    assert_string_equal(f.r.seen_csrf, "mine");
    assert_int_equal(wsc_client_send_json_text(f.c, "{\"a\":1,\"a\":1}", 13), WSC_EJSON);
    stop(&f);
}

/* send_json_view forwards a value of a parsed document (with the token). */
static void test_send_json_view(void **state) {
    (void)state;
    fixture f;
    start(&f, "T", 1);
    tu_run_until(f.loop, &f.r.opened, 1, 5000);
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    const char *t = "{\"outer\":{\"x\":[true],\"csrf\":\"old\"},\"y\":2}";
    assert_int_equal(wsc_json_parse(d, t, strlen(t), 0, NULL), WSC_OK);
    int before = f.r.msgs;
    assert_int_equal(wsc_client_send_json_view(f.c, wsc_json_get(wsc_json_root(d), "outer")), WSC_OK);
    tu_run_until(f.loop, &f.r.msgs, before + 1, 5000);
    assert_string_equal(f.r.last, "{\"x\":[true],\"csrf\":\"T\"}");
    assert_int_equal(wsc_client_send_json_view(f.c, wsc_json_get(wsc_json_root(d), "y")), WSC_EINVAL);
    wsc_json_doc_free(d);
    stop(&f);
}

/* Invalid JSON reaches the error callback with the raw text, line and
   column, at many sizes up to the limit, and the connection stays open. */
static void test_invalid_json_every_size(void **state) {
    (void)state;
    fixture f;
    start(&f, NULL, 0);
    tu_run_until(f.loop, &f.r.opened, 1, 5000);
    char *buf = malloc(LIMIT);
    size_t sizes[64];
    int ns = 0;
    for (size_t s = 1; s <= 16; s++) sizes[ns++] = s;
    for (size_t s = 32; s <= LIMIT; s *= 2) sizes[ns++] = s - 1, sizes[ns++] = s;
    sizes[ns++] = LIMIT - 7;
    for (int k = 0; k < ns; k++) {
        size_t n = sizes[k];
        /* a valid-looking prefix, then a missing bracket: invalid at the end */
        memset(buf, ' ', n);
        buf[0] = '[';
        if (n > 3) buf[1] = '\n', buf[2] = '1';
        f.r.expect_raw = buf;
        int before = f.r.errors;
        assert_int_equal(wsc_client_send_text(f.c, buf, n), WSC_OK);
        tu_run_until(f.loop, &f.r.errors, before + 1, 5000);
        assert_int_equal(f.r.errors, before + 1);
        assert_int_equal(f.r.last_error, WSC_EJSON);
        assert_int_equal(f.r.err_len, n);
        assert_true(f.r.err_raw_ok);
        assert_int_equal(f.r.err_line, n > 3 ? 2 : 1);
        assert_true(f.r.err_col >= 1);
    }
    assert_int_equal(f.r.msgs, 0);
    assert_true(wsc_client_is_connected(f.c));
    /* and a valid message after them all is delivered */
    assert_int_equal(wsc_client_send_text(f.c, "[1]", 3), WSC_OK);
    tu_run_until(f.loop, &f.r.msgs, 1, 5000);
    assert_int_equal(f.r.last_view_type, WSC_JSON_ARRAY);
    /* valid JSON that no json_t can hold goes to the error callback too */
    int before = f.r.errors;
    assert_int_equal(wsc_client_send_text(f.c, "[1e999]", 7), WSC_OK);
    tu_run_until(f.loop, &f.r.errors, before + 1, 5000);
    assert_int_equal(f.r.last_error, WSC_EJSON);
    free(buf);
    stop(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_json_text_with_token),
        cmocka_unit_test(test_send_json_text_without_token),
        cmocka_unit_test(test_send_json_view),
        cmocka_unit_test(test_invalid_json_every_size),
    };
    /* Every case twice: the two-pass parser where the CPU has it, then the
       one-pass (portable scalar) one. */
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wsc__json_force_scalar = 1;
    failed += cmocka_run_group_tests(tests, NULL, NULL);
    return failed;
}
