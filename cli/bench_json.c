/*
 * bench_json.c - `wsc bench json URL COUNT SIZE`: the JSON path of the
 * client (wsc_client) at full speed, the benchmark contract's json mode
 * (bench/README.md).
 *
 * COUNT text messages built by bench/json_msg.h (SIZE bytes: 880 is the
 * issue's feed message, 65536 the large document), at most 64 in flight;
 * every echo is parsed as JSON by the client and checked in order: "seq"
 * is the number sent and "items" has the right length. How wsc receives
 * and sends is chosen by --recv and --send, so that one binary measures
 * every path against the raw one:
 *   --recv view  ev->view (json_view_only): the fast path (default)
 *   --recv dom   ev->json, the json_t the client builds by default
 *   --recv raw   no_json: no parse, seq compared as bytes (the raw path)
 *   --send text       wsc_client_send_text (default)
 *   --send json-text  wsc_client_send_json_text, with a token: the csrf
 *                     member spliced into every message
 *   --send json-t     wsc_client_send_json of a json_t (seq updated each
 *                     time), with a token
 * Output: RESULT json msgs=<n> bytes=<n> seconds=<s> (bytes = msgs x SIZE).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bench/json_msg.h"
#include "bench_json.h"
#include "wsc/client.h"
#include "wsc/json.h"

#define IN_FLIGHT 64
#define TOKEN "bench-token-0123456789abcdef"

enum { R_VIEW, R_DOM, R_RAW };
enum { S_TEXT, S_JSON_TEXT, S_JSON_T };

typedef struct jb {
    wsc_loop *loop;
    wsc_client *c;
    int recv, send;
    uint64_t count, sent, got;
    size_t size, items;
    char *msg;
    json_t *dom; /* S_JSON_T: the message as a json_t */
    struct timespec t0, t1;
    int failed, done;
    const char *why;
} jb;

static double secs(const struct timespec *a, const struct timespec *b) {
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void fail(jb *b, const char *why) {
    if (!b->failed) b->failed = 1, b->why = why;
    wsc_loop_stop(b->loop);
}

static int send_next(jb *b) {
    uint64_t i = b->sent++;
    if (b->send == S_JSON_T) {
        json_object_set_new(b->dom, "seq", json_integer((json_int_t)(1000000000ull + i)));
        return wsc_client_send_json(b->c, b->dom);
    }
    json_msg_seq(b->msg, i);
    if (b->send == S_JSON_TEXT) return wsc_client_send_json_text(b->c, b->msg, b->size);
    return wsc_client_send_text(b->c, b->msg, b->size);
}

static void on_open(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)ev;
    jb *b = user;
    clock_gettime(CLOCK_MONOTONIC, &b->t0);
    uint64_t first = b->count < IN_FLIGHT ? b->count : IN_FLIGHT;
    for (uint64_t k = 0; k < first; k++)
        if (send_next(b) != WSC_OK) return fail(b, "send failed");
}

/* The echo's check: seq and the number of items. */
static int check(jb *b, const wsc_client_event *ev) {
    uint64_t want = 1000000000ull + b->got;
    if (b->recv == R_RAW) {
        char digits[10];
        uint64_t w = want;
        for (int k = 9; k >= 0; k--, w /= 10) digits[k] = (char)('0' + w % 10);
        /* json_t sends rewrite the numbers (1000.00 -> 1000.0): only seq is compared */
        return ev->binary || ev->len < JSON_MSG_SEQ_OFF + 10 || memcmp(ev->data + JSON_MSG_SEQ_OFF, digits, 10) ? -1 : 0;
    }
    if (b->recv == R_DOM) {
        json_t *seq = json_object_get(ev->json, "seq");
        return json_integer_value(seq) == (json_int_t)want &&
                       json_array_size(json_object_get(ev->json, "items")) == b->items
                   ? 0
                   : -1;
    }
    int64_t seq;
    return wsc_json_int64(wsc_json_get(ev->view, "seq"), &seq) == WSC_OK && (uint64_t)seq == want &&
                   wsc_json_size(wsc_json_get(ev->view, "items")) == b->items
               ? 0
               : -1;
}

static void on_message(wsc_client *c, const wsc_client_event *ev, void *user) {
    jb *b = user;
    if (b->done) return;
    if (check(b, ev)) return fail(b, "echo differs from the message sent, or is out of order");
    if (++b->got == b->count) {
        clock_gettime(CLOCK_MONOTONIC, &b->t1);
        b->done = 1;
        wsc_client_close(c, 1000, NULL);
        return;
    }
    if (b->sent < b->count && send_next(b) != WSC_OK) fail(b, "send failed");
}

static void on_error(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    fprintf(stderr, "wsc bench: %s\n", ev->message);
    fail(user, "error");
}

static void on_close(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)ev;
    jb *b = user;
    if (b->got < b->count) fail(b, "the connection closed before the last echo");
    wsc_loop_stop(b->loop);
}

static int pick(const char *s, const char *const *names, int n, int dflt) {
    if (!s) return dflt;
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

int bench_json_run(const bench_json_opts *o) {
    static const char *const recvs[] = {"view", "dom", "raw"}, *const sends[] = {"text", "json-text", "json-t"};
    jb b;
    memset(&b, 0, sizeof b);
    b.recv = pick(o->recv, recvs, 3, R_VIEW);
    b.send = pick(o->send, sends, 3, S_TEXT);
    if (b.recv < 0 || b.send < 0 || o->size < JSON_MSG_MIN || o->size > ((size_t)1 << 30) || !o->count ||
        o->count > 8000000000ull) {
        fprintf(stderr, "wsc bench json: COUNT 1..8e9, SIZE %d..2^30, --recv view|dom|raw, "
                        "--send text|json-text|json-t\n", JSON_MSG_MIN);
        return 2;
    }
    b.count = o->count;
    b.size = o->size;
    b.msg = malloc(b.size + 1);
    if (!b.msg || !(b.items = json_msg_build(b.msg, b.size))) {
        fprintf(stderr, "wsc bench: out of memory\n");
        return 1;
    }
    if (b.send == S_JSON_T && !(b.dom = json_loadb(b.msg, b.size, 0, NULL))) return 1;
    wsc_error err;
    wsc_global_init();
    b.loop = wsc_loop_new(&err);
    if (!b.loop) {
        fprintf(stderr, "wsc bench: %s\n", err.message);
        return 1;
    }
    wsc_client_options co = {0};
    co.no_reconnect = 1;
    co.no_heartbeat = 1;
    co.no_store = 1;
    if (b.send != S_TEXT) co.token = TOKEN; /* so that json() has a csrf member to add */
    co.no_json = b.recv == R_RAW;
    co.json_view_only = b.recv == R_VIEW;
    co.ws.no_deflate = !o->deflate;
    co.ws.ca_file = o->ca;
    co.ws.insecure_skip_verify = o->insecure;
    co.ws.max_buffered = (size_t)1 << 40;
    co.ws.max_message_size = b.size + 1024;
    co.on_open = on_open;
    co.on_message = on_message;
    co.on_error = on_error;
    co.on_close = on_close;
    co.user = &b;
    b.c = wsc_client_new(b.loop, o->url, &co, &err);
    if (!b.c) {
        fprintf(stderr, "wsc bench: %s\n", err.message);
        return 1;
    }
    wsc_loop_run(b.loop);
    int rc = 0;
    if (!b.failed && b.got == b.count) {
        printf("RESULT json msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)b.got,
               (unsigned long long)(b.got * b.size), secs(&b.t0, &b.t1));
    } else {
        fprintf(stderr, "wsc bench: %s\n", b.why ? b.why : "the exchange did not complete");
        rc = 1;
    }
    wsc_client_free(b.c);
    wsc_loop_free(b.loop);
    json_decref(b.dom);
    free(b.msg);
    return rc;
}
