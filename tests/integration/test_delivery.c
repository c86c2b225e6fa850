/* test_delivery.c - confirmed delivery, the reconnect rules and their
 * policy hook, Retry-After, and the state errors (client.h), against
 * delivery_server.py: a raw-socket server that reads frames one by one and
 * answers (or not) each Ping exactly as scripted, so what was read, written
 * and confirmed at a drop is known. Counts and orders are asserted, never
 * wall-clock times. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logsrv.h"
#include "testutil.h"
#include "wsc/client.h"
#include "wsc/store.h"

typedef tu_logsrv srv;

static void srv_start(srv *s, const char *script) { tu_logsrv_start(s, "delivery_server.py", script, "/d", NULL); }
#define srv_stop tu_logsrv_stop
#define srv_log tu_logsrv_log

/* The texts of the messages the server read on connection `conn`, joined by ",". */
static void srv_messages(srv *s, int conn, char *out, size_t cap) {
    json_t *log = srv_log(s);
    size_t i, o = 0;
    json_t *v;
    out[0] = 0;
    json_array_foreach(log, i, v) {
        if (json_integer_value(json_object_get(v, "conn")) != conn) continue;
        if (strcmp(json_string_value(json_object_get(v, "event")), "message")) continue;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "," : "", json_string_value(json_object_get(v, "text")));
        if (o >= cap) break;
    }
    json_decref(log);
}

/* ---------------- recording ---------------- */

typedef struct {
    int n[16];
    int seq[256];
    int nseq;
    uint64_t unconf_seq[64];
    char unconf_data[64][32];
    int nunconf;
    size_t resent_count;
    uint64_t resent_first, resent_last;
    unsigned close_codes[32];
    int will_reconnect[32];
    unsigned reconnect_delay[32];
    int ncl;
    int errors[32];
    size_t discard_count;
    uint64_t discard_first, discard_last;
    int nerr;
    int send_on_open;     /* messages to send at the first open */
    int json_on_open;     /* ... as send_json_text {"i":N} instead of "mN" */
    int opens;
    /* policy hook */
    wsc_client_failure failures[16];
    int nfail;
    /* payload check (test_kept_by_reference): every UNCONFIRMED payload is
       pat_text(seq) of pat_len bytes */
    size_t pat_len;
    int unconf_all, bad_payload;
    uint64_t unconf_last;
} rec;

/* Message seq of test_kept_by_reference: "s0042." then letters. */
static void pat_text(char *buf, size_t len, uint64_t seq) {
    snprintf(buf, 8, "s%04u.", (unsigned)(seq % 10000));
    for (size_t j = 6; j < len; j++) buf[j] = (char)('a' + (seq + j) % 26);
}

static void on_ev(wsc_client *c, const wsc_client_event *ev, void *user) {
    rec *r = user;
    r->n[ev->type]++;
    if (r->nseq < 256) r->seq[r->nseq++] = ev->type;
    switch (ev->type) {
    case WSC_CLIENT_OPEN:
        if (r->opens++ == 0)
            for (int i = 1; i <= r->send_on_open; i++) {
                char m[32];
                int len = r->json_on_open ? snprintf(m, sizeof m, i == 2 ? "{\"csrf\":\"x\",\"i\":%d}" : "{\"i\":%d}", i)
                                          : snprintf(m, sizeof m, "m%d", i);
                if (r->json_on_open) assert_int_equal(wsc_client_send_json_text(c, m, (size_t)len), WSC_OK);
                else assert_int_equal(wsc_client_send_text(c, m, (size_t)len), WSC_OK);
                assert_int_equal(wsc_client_last_seq(c), (uint64_t)i);
            }
        break;
    case WSC_CLIENT_UNCONFIRMED:
        assert_int_equal(ev->count, 1);
        if (r->pat_len) {
            char *want = malloc(r->pat_len);
            pat_text(want, r->pat_len, ev->seq);
            if (ev->len != r->pat_len || memcmp(ev->data, want, r->pat_len) || ev->seq != r->unconf_last + 1)
                r->bad_payload++;
            free(want);
            r->unconf_last = ev->seq;
            r->unconf_all++;
        }
        if (r->nunconf < 64) {
            r->unconf_seq[r->nunconf] = ev->seq;
            snprintf(r->unconf_data[r->nunconf], 32, "%.*s", (int)(ev->len < 31 ? ev->len : 31), (const char *)ev->data);
            r->nunconf++;
        }
        break;
    case WSC_CLIENT_RESENT:
        r->resent_count += ev->count;
        r->resent_first = ev->seq;
        r->resent_last = ev->seq_last;
        break;
    case WSC_CLIENT_CLOSE:
        if (r->ncl < 32) {
            r->close_codes[r->ncl] = ev->code;
            r->will_reconnect[r->ncl] = ev->will_reconnect;
            r->reconnect_delay[r->ncl] = ev->reconnect_delay_ms;
            r->ncl++;
        }
        break;
    case WSC_CLIENT_ERROR:
        if (r->nerr < 32) r->errors[r->nerr++] = ev->error;
        if (ev->error == WSC_ECLOSED) {
            r->discard_count = ev->count;
            r->discard_first = ev->seq;
            r->discard_last = ev->seq_last;
        }
        break;
    }
}

static wsc_client_options opts(rec *r) {
    wsc_client_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = o.on_reconnect = o.on_maximum = on_ev;
    o.on_unconfirmed = o.on_resent = on_ev;
    o.user = r;
    o.timeout_ms = 10;
    o.no_store = 1;
    o.no_heartbeat = 1;
    o.ws.no_deflate = 1;
    return o;
}

static void end_test(wsc_client *c, wsc_loop *loop, srv *s) {
    wsc_client_free(c);
    wsc_loop_free(loop);
    srv_stop(s);
}

/* Waits until the server logged `event` `want` times on connection conn
   (bounded: the assertion after it tells). */
static int srv_count(srv *s, int conn, const char *event) {
    json_t *log = srv_log(s);
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(log, i, v) if (json_integer_value(json_object_get(v, "conn")) == conn &&
                                      !strcmp(json_string_value(json_object_get(v, "event")), event)) n++;
    json_decref(log);
    return n;
}

static void wait_server(wsc_loop *loop, srv *s, int conn, const char *event, int want) {
    for (int i = 0; i < 1000 && srv_count(s, conn, event) < want; i++) tu_run_for(loop, 10);
}

/* ---------------- confirmed delivery ---------------- */

/* Five messages written in one batch; the server reads three, answers no
   Ping and resets the connection. At-most-once: each of the five is handed
   back (UNCONFIRMED, in order, with its bytes and sequence), none is sent
   again; a message sent later is confirmed by the next connection's Pong. */
static void test_at_most_once_reports(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "noack:3:rst,ack:0");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    r.send_on_open = 5;
    wsc_client_options o = opts(&r);
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 10000);
    assert_int_equal(r.n[WSC_CLIENT_OPEN], 2);
    assert_int_equal(r.nunconf, 5);
    for (int i = 0; i < 5; i++) {
        char want[8];
        snprintf(want, sizeof want, "m%d", i + 1);
        assert_int_equal(r.unconf_seq[i], (uint64_t)i + 1);
        assert_string_equal(r.unconf_data[i], want);
    }
    assert_int_equal(r.n[WSC_CLIENT_RESENT], 0);
    assert_int_equal(wsc_client_unconfirmed_total(c), 5);
    /* every UNCONFIRMED came before the close event of that connection */
    int k = 0;
    while (r.seq[k] != WSC_CLIENT_CLOSE) k++;
    for (int i = 0; i < k; i++)
        if (r.seq[i] == WSC_CLIENT_UNCONFIRMED) r.n[15]++;
    assert_int_equal(r.n[15], 5);
    char got[256];
    srv_messages(&s, 1, got, sizeof got);
    assert_string_equal(got, "m1,m2,m3");
    assert_int_equal(wsc_client_send_text(c, "after", 5), WSC_OK);
    assert_int_equal(wsc_client_unconfirmed(c), 1);
    assert_int_equal(wsc_client_buffered_amount(c), 5); /* counted until confirmed */
    for (int i = 0; i < 1000 && wsc_client_unconfirmed(c); i++) tu_run_for(loop, 10);
    assert_int_equal(wsc_client_unconfirmed(c), 0);
    assert_int_equal(wsc_client_buffered_amount(c), 0);
    assert_int_equal(wsc_client_confirmed_total(c), 1);
    srv_messages(&s, 2, got, sizeof got);
    assert_string_equal(got, "after"); /* nothing of the first batch again */
    end_test(c, loop, &s);
}

/* The same drop, at-least-once: the five are sent again, in order, before
   anything newer; the three the server had read are duplicates (RESENT
   counts five: it cannot know which). */
static void test_at_least_once_resends(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "noack:3:rst,ack:0");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    r.send_on_open = 5;
    wsc_client_options o = opts(&r);
    o.delivery = WSC_DELIVERY_AT_LEAST_ONCE;
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 1, 10000);
    assert_int_equal(r.n[WSC_CLIENT_RESENT], 1);
    assert_int_equal(r.resent_count, 5);
    assert_int_equal(r.resent_first, 1);
    assert_int_equal(r.resent_last, 5);
    assert_int_equal(r.nunconf, 0);
    assert_int_equal(wsc_client_queued(c), 5);
    assert_int_equal(wsc_client_send_text(c, "newer", 5), WSC_OK); /* queued after them */
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 10000);
    for (int i = 0; i < 1000 && wsc_client_unconfirmed(c); i++) tu_run_for(loop, 10);
    assert_int_equal(wsc_client_unconfirmed(c), 0);
    char got[256];
    srv_messages(&s, 2, got, sizeof got);
    assert_string_equal(got, "m1,m2,m3,m4,m5,newer");
    assert_int_equal(wsc_client_resent_total(c), 5);
    assert_int_equal(wsc_client_confirmed_total(c), 6);
    end_test(c, loop, &s);
}

/* JSON text is kept by reference to its frame too (client_send.c): at
   the drop the kept frames are unmasked where they are; at-most-once hands
   each back as it was sent (with the token of then), at-least-once sends
   each again with the token current at the resend (the splice replaces
   the old csrf member), in order, before anything newer. */
static void test_json_text_kept_and_resent(void **state) {
    (void)state;
    static const char *const sent1 = "{\"i\":1,\"csrf\":\"T1\"},{\"i\":2,\"csrf\":\"T1\"},{\"i\":3,\"csrf\":\"T1\"}";
    for (int mode = 0; mode < 2; mode++) {
        srv s;
        srv_start(&s, "noack:3:rst,ack:0");
        wsc_loop *loop = wsc_loop_new(NULL);
        rec r = {0};
        r.send_on_open = 5;
        r.json_on_open = 1;
        wsc_client_options o = opts(&r);
        o.token = "T1";
        o.delivery = mode ? WSC_DELIVERY_AT_LEAST_ONCE : WSC_DELIVERY_AT_MOST_ONCE;
        wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
        tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 1, 10000);
        assert_int_equal(r.n[WSC_CLIENT_CLOSE], 1);
        assert_int_equal(wsc_client_set_csrf(c, "T2", NULL), WSC_OK);
        tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 10000);
        assert_int_equal(r.n[WSC_CLIENT_OPEN], 2);
        char got[512];
        srv_messages(&s, 1, got, sizeof got);
        assert_string_equal(got, sent1);
        if (!mode) {
            assert_int_equal(r.nunconf, 5);
            for (int i = 0; i < 5; i++) {
                char want[32];
                snprintf(want, sizeof want, "{\"i\":%d,\"csrf\":\"T1\"}", i + 1);
                assert_int_equal(r.unconf_seq[i], (uint64_t)i + 1);
                assert_string_equal(r.unconf_data[i], want);
            }
            assert_int_equal(wsc_client_send_json_text(c, "{\"i\":6}", 7), WSC_OK);
            wait_server(loop, &s, 2, "message", 1);
            srv_messages(&s, 2, got, sizeof got);
            assert_string_equal(got, "{\"i\":6,\"csrf\":\"T2\"}");
        } else {
            assert_int_equal(r.resent_count, 5);
            assert_int_equal(wsc_client_send_json_text(c, "{\"i\":6}", 7), WSC_OK);
            wait_server(loop, &s, 2, "message", 6);
            srv_messages(&s, 2, got, sizeof got);
            assert_string_equal(got, "{\"i\":1,\"csrf\":\"T2\"},{\"i\":2,\"csrf\":\"T2\"},{\"i\":3,\"csrf\":\"T2\"},"
                                     "{\"i\":4,\"csrf\":\"T2\"},{\"i\":5,\"csrf\":\"T2\"},{\"i\":6,\"csrf\":\"T2\"}");
        }
        for (int i = 0; i < 1000 && wsc_client_unconfirmed(c); i++) tu_run_for(loop, 10);
        assert_int_equal(wsc_client_unconfirmed(c), 0);
        assert_int_equal(wsc_client_buffered_amount(c), 0);
        end_test(c, loop, &s);
    }
}

/* Confirmed messages are neither reported nor sent again: the server reads
   three messages and the Ping after them, answers it, then ends with a FIN
   (no Close: an unclean drop). */
static void test_confirmed_not_resent(void **state) {
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        srv s;
        srv_start(&s, "ack:3:fin,ack:0");
        wsc_loop *loop = wsc_loop_new(NULL);
        rec r = {0};
        r.send_on_open = 3;
        wsc_client_options o = opts(&r);
        o.delivery = mode ? WSC_DELIVERY_AT_LEAST_ONCE : WSC_DELIVERY_AT_MOST_ONCE;
        wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
        tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 10000);
        assert_int_equal(r.close_codes[0], 1006);
        assert_int_equal(r.nunconf, 0);
        assert_int_equal(r.n[WSC_CLIENT_RESENT], 0);
        assert_int_equal(wsc_client_confirmed_total(c), 3);
        assert_int_equal(wsc_client_queued(c), 0);
        end_test(c, loop, &s);
    }
}

/* Messages never completely written are always sent again, in both modes:
   the server reads one 1 MiB message and resets the connection while the
   client still has most of the batch in its send buffer. Whatever the
   kernel took (k messages), the written ones are reported (at-most-once)
   and exactly the unwritten ones reach the next connection, in order: each
   message is accounted for once. */
static void test_unwritten_always_resent(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "noack:1:rst,ack:0");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_client_options o = opts(&r);
    o.queue_max_bytes = (size_t)64 << 20;
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 1, 10000);
    enum { N = 24, SZ = 1 << 20 };
    char *big = malloc(SZ);
    for (int i = 0; i < N; i++) {
        memset(big, 'a' + i, SZ);
        snprintf(big, 8, "b%02d", (i + 1) % 100);
        big[3] = '.';
        assert_int_equal(wsc_client_send_text(c, big, SZ), WSC_OK);
    }
    free(big);
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 20000);
    assert_int_equal(r.n[WSC_CLIENT_OPEN], 2);
    int k = r.nunconf;
    assert_true(k >= 1 && k < N); /* the server read one; the kernel cannot hold 24 MiB */
    for (int i = 0; i < k; i++) assert_int_equal(r.unconf_seq[i], (uint64_t)i + 1);
    wait_server(loop, &s, 2, "message", N - k);
    assert_int_equal(srv_count(&s, 2, "message"), N - k);
    char got[8192], want[1024];
    srv_messages(&s, 2, got, sizeof got);
    size_t o2 = 0;
    want[0] = 0;
    for (int i = k; i < N; i++) {
        char head[16];
        snprintf(head, sizeof head, "b%02d.", (i + 1) % 100);
        o2 += (size_t)snprintf(want + o2, sizeof want - o2, "%s%s", o2 ? "," : "", head);
    }
    /* the server logs the first 64 bytes of each: compare the 4-byte heads */
    char heads[1024];
    size_t h = 0;
    heads[0] = 0;
    for (char *p = strtok(got, ","); p; p = strtok(NULL, ",")) h += (size_t)snprintf(heads + h, sizeof heads - h, "%s%.4s", h ? "," : "", p);
    assert_string_equal(heads, want);
    end_test(c, loop, &s);
}

/* Sent text is kept by reference to its frame in the send buffer (chunk.h),
   not copied: a burst of 4000 messages of 3000 bytes (12 MB, more than the
   kernel takes) fills many 64 KiB chunks, sealed while partly written and
   written with writev, with writes ending mid-chunk. The server reads one
   message and resets. At-most-once: every written message comes back whole
   (its bytes unmasked in place, in order, checked byte for byte) and the
   unwritten rest reaches the next connection in order; at-least-once: all
   4000 reach it, in order, sent again from the kept frames. */
static void test_kept_by_reference(void **state) {
    (void)state;
    enum { N = 4000, SZ = 3000 };
    for (int mode = 0; mode < 2; mode++) {
        srv s;
        srv_start(&s, "noack:1:rst,ack:0");
        wsc_loop *loop = wsc_loop_new(NULL);
        rec r = {0};
        r.pat_len = SZ;
        wsc_client_options o = opts(&r);
        o.delivery = mode ? WSC_DELIVERY_AT_LEAST_ONCE : WSC_DELIVERY_AT_MOST_ONCE;
        o.queue_max_bytes = (size_t)64 << 20;
        o.queue_max_messages = 10000;
        wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
        tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 1, 10000);
        char *m = malloc(SZ);
        for (int i = 1; i <= N; i++) {
            pat_text(m, SZ, (uint64_t)i);
            assert_int_equal(wsc_client_send_text(c, m, SZ), WSC_OK);
        }
        free(m);
        assert_int_equal(wsc_client_unconfirmed(c), N);
        assert_int_equal(wsc_client_buffered_amount(c), (size_t)N * SZ);
        tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 20000);
        assert_int_equal(r.n[WSC_CLIENT_OPEN], 2);
        assert_int_equal(r.bad_payload, 0);
        int k = mode ? 0 : r.unconf_all; /* at-least-once: all go again */
        if (!mode) assert_true(k >= 1 && k < N);
        else assert_int_equal(r.resent_first, 1);
        wait_server(loop, &s, 2, "message", N - k);
        assert_int_equal(srv_count(&s, 2, "message"), N - k);
        /* the server logs the first 64 bytes of each: compare those */
        json_t *log = srv_log(&s);
        size_t i;
        json_t *v;
        int next = k + 1, bad = 0;
        char want[SZ];
        json_array_foreach(log, i, v) {
            if (json_integer_value(json_object_get(v, "conn")) != 2) continue;
            if (strcmp(json_string_value(json_object_get(v, "event")), "message")) continue;
            const char *t = json_string_value(json_object_get(v, "text"));
            pat_text(want, SZ, (uint64_t)next++);
            if (!t || strncmp(t, want, strlen(t) < 64 ? strlen(t) : 64)) bad++;
        }
        json_decref(log);
        assert_int_equal(bad, 0);
        assert_int_equal(next, N + 1);
        for (int j = 0; j < 1000 && wsc_client_unconfirmed(c); j++) tu_run_for(loop, 10);
        assert_int_equal(wsc_client_unconfirmed(c), 0);
        assert_int_equal(wsc_client_buffered_amount(c), 0);
        end_test(c, loop, &s);
    }
}

/* ---------------- reconnect rules ---------------- */

/* A server restarting (1001 going away) is reconnected to. */
static void test_1001_restart_reconnects(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "ack:1:1001,ack:0");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    r.send_on_open = 1;
    wsc_client_options o = opts(&r);
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 10000);
    assert_int_equal(r.n[WSC_CLIENT_OPEN], 2);
    assert_int_equal(r.close_codes[0], 1001);
    assert_int_equal(r.will_reconnect[0], 1);
    assert_int_equal(r.nunconf, 0); /* a clean close confirmed it */
    assert_int_equal(wsc_client_confirmed_total(c), 1);
    end_test(c, loop, &s);
}

/* A 2xx answer to the upgrade is final; Retry-After on 503 sets the delay. */
static void test_http_rules_and_retry_after(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "http:200");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_client_options o = opts(&r);
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 1, 10000);
    assert_int_equal(r.will_reconnect[0], 0);
    assert_true(wsc_client_is_closed(c));
    end_test(c, loop, &s);

    srv_start(&s, "http:503:2,http:429:1,http:503,ack:0");
    loop = wsc_loop_new(NULL);
    memset(&r, 0, sizeof r);
    o = opts(&r);
    c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 1, 10000);
    assert_int_equal(r.will_reconnect[0], 1);
    assert_int_equal(r.reconnect_delay[0], 2000); /* Retry-After: 2 */
    assert_int_equal(wsc_client_reconnect(c), WSC_OK); /* skip the wait */
    tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 2, 10000);
    assert_int_equal(r.reconnect_delay[1], 1000); /* 429, Retry-After: 1 */
    assert_int_equal(wsc_client_reconnect(c), WSC_OK);
    tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 3, 10000);
    assert_int_equal(r.reconnect_delay[2], 10); /* no Retry-After: timeout_ms */
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 1, 10000);
    assert_int_equal(r.n[WSC_CLIENT_OPEN], 1);
    end_test(c, loop, &s);
}

static int policy(wsc_client *c, const wsc_client_failure *f, unsigned *delay_ms, void *user) {
    (void)c;
    rec *r = user;
    if (r->nfail < 16) r->failures[r->nfail++] = *f;
    if (f->cause == WSC_EHTTP && f->http_status == 403) {
        *delay_ms = 7; /* a 403 the default would give up on: retry */
        return WSC_RECONNECT_AFTER;
    }
    if (f->cause == WSC_ECLOSED && f->code == 1012) return WSC_RECONNECT_FINAL; /* the default reconnects */
    return wsc_client_default_policy(f, delay_ms);
}

/* The policy hook decides per failure, and sees cause, code and status. */
static void test_policy_hook(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "http:403,http:503,ack:1:1012");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    r.send_on_open = 1;
    wsc_client_options o = opts(&r);
    o.policy = policy;
    o.policy_user = &r;
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    tu_run_until(loop, &r.n[WSC_CLIENT_CLOSE], 3, 10000);
    tu_run_for(loop, 50);
    assert_int_equal(r.nfail, 3);
    assert_int_equal(r.failures[0].cause, WSC_EHTTP);
    assert_int_equal(r.failures[0].http_status, 403);
    assert_int_equal(r.failures[0].attempt, 1);
    assert_int_equal(r.failures[0].delay_ms, 10);
    assert_int_equal(r.failures[1].http_status, 503);
    assert_int_equal(r.failures[1].attempt, 2);
    assert_int_equal(r.failures[2].cause, WSC_ECLOSED);
    assert_int_equal(r.failures[2].code, 1012);
    assert_int_equal(r.failures[2].was_clean, 1);
    assert_int_equal(r.failures[2].http_status, 0);
    assert_int_equal(r.reconnect_delay[0], 7);
    assert_int_equal(r.reconnect_delay[1], 10);
    assert_int_equal(r.will_reconnect[2], 0);
    assert_int_equal(r.n[WSC_CLIENT_OPEN], 1);
    assert_true(wsc_client_is_closed(c));
    end_test(c, loop, &s);
}

/* ---------------- state errors ---------------- */

/* At the maximum, discarded messages are reported (count and sequence
   numbers) BEFORE "maximum"; after it, sends fail with WSC_ECLOSED. */
static void test_discard_order_and_closed(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "http:502,http:502");
    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_client_options o = opts(&r);
    o.max_attempts = 1;
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    for (int i = 0; i < 3; i++) assert_int_equal(wsc_client_send_text(c, "q", 1), WSC_OK);
    tu_run_until(loop, &r.n[WSC_CLIENT_MAXIMUM], 1, 10000);
    assert_int_equal(r.n[WSC_CLIENT_MAXIMUM], 1);
    int e = -1, m = -1;
    for (int i = 0; i < r.nseq; i++) {
        if (r.seq[i] == WSC_CLIENT_ERROR && e < 0 && i > 3) e = i; /* after the first attempt's events */
        if (r.seq[i] == WSC_CLIENT_MAXIMUM) m = i;
    }
    assert_int_equal(r.seq[r.nseq - 1], WSC_CLIENT_MAXIMUM);
    assert_int_equal(r.seq[r.nseq - 2], WSC_CLIENT_ERROR); /* the discard report */
    assert_true(e >= 0 && e < m);
    assert_int_equal(r.errors[r.nerr - 1], WSC_ECLOSED);
    assert_int_equal(r.discard_count, 3);
    assert_int_equal(r.discard_first, 1);
    assert_int_equal(r.discard_last, 3);
    assert_int_equal(wsc_client_send_text(c, "late", 4), WSC_ECLOSED);
    json_t *j = json_object();
    assert_int_equal(wsc_client_send_json(c, j), WSC_ECLOSED);
    json_decref(j);
    assert_int_equal(wsc_client_send_binary(c, "b", 1), WSC_ECLOSED);
    assert_int_equal(wsc_client_queued(c), 0);
    end_test(c, loop, &s);
}

/* ---------------- the token provided by the server ---------------- */

static json_t *nth(srv *s, int conn, const char *event) {
    json_t *log = srv_log(s);
    size_t i;
    json_t *v, *found = NULL;
    json_array_foreach(log, i, v) if (!found && json_integer_value(json_object_get(v, "conn")) == conn &&
                                      !strcmp(json_string_value(json_object_get(v, "event")), event)) found =
        json_incref(v);
    json_decref(log);
    return found;
}

/* Set-Cookie on the handshake response rotates the stored token, and two
   processes share it: a child connects with the old token, gets a new one
   (and sends its next JSON message with it), exits; the parent's client,
   created before, connects with the new one. Max-Age=0 then deletes it. */
static void test_set_cookie_rotation_two_processes(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "cookie:new2,cookie:gone; Max-Age=0,ack:0");
    char store_path[600];
    snprintf(store_path, sizeof store_path, "%s/tokens.db", s.dir);
    char origin[128];
    snprintf(origin, sizeof origin, "ws://127.0.0.1:%d", s.peer.port);
    wsc_store *st = wsc_store_open(store_path, NULL);
    assert_non_null(st);
    assert_int_equal(wsc_store_set(st, origin, "csrf_token", "old1", NULL), WSC_OK);
    wsc_store_close(st);

    wsc_loop *loop = wsc_loop_new(NULL);
    rec r = {0};
    wsc_client_options o = opts(&r);
    o.no_store = 0;
    o.store_path = store_path;
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    /* created, not yet connected (that happens from the loop) */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        wsc_loop *l2 = wsc_loop_new(NULL);
        rec r2 = {0};
        wsc_client_options o2 = opts(&r2);
        o2.no_store = 0;
        o2.store_path = store_path;
        wsc_client *c2 = wsc_client_new(l2, s.url, &o2, NULL);
        tu_run_until(l2, &r2.n[WSC_CLIENT_OPEN], 1, 10000);
        const char *t = wsc_client_csrf(c2);
        int ok = r2.n[WSC_CLIENT_OPEN] == 1 && t && !strcmp(t, "new2");
        json_t *j = json_pack("{s:s}", "op", "after-rotation");
        ok = ok && wsc_client_send_json(c2, j) == WSC_OK;
        json_decref(j);
        for (int i = 0; i < 1000 && wsc_client_unconfirmed(c2); i++) tu_run_for(l2, 10);
        ok = ok && wsc_client_confirmed_total(c2) == 1;
        wsc_client_free(c2);
        wsc_loop_free(l2);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    json_t *h1 = nth(&s, 1, "handshake");
    assert_non_null(h1);
    assert_non_null(strstr(json_string_value(json_object_get(h1, "cookie")), "csrf_token=old1"));
    json_decref(h1);
    json_t *m1 = nth(&s, 1, "message");
    assert_non_null(m1);
    assert_string_equal(json_string_value(json_object_get(m1, "text")), "{\"op\":\"after-rotation\",\"csrf\":\"new2\"}");
    json_decref(m1);

    /* the parent's client: connection 2, with the rotated token, whose
       response deletes it */
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 1, 10000);
    json_t *h2 = nth(&s, 2, "handshake");
    assert_non_null(h2);
    assert_non_null(strstr(json_string_value(json_object_get(h2, "cookie")), "csrf_token=new2"));
    assert_non_null(strstr(json_string_value(json_object_get(h2, "query")), "csrf=new2"));
    json_decref(h2);
    assert_null(wsc_client_csrf(c));
    st = wsc_store_open(store_path, NULL);
    char *v = NULL;
    assert_int_equal(wsc_store_get(st, origin, "csrf_token", &v, NULL), WSC_OK);
    assert_null(v);
    wsc_store_close(st);
    assert_int_equal(wsc_client_reconnect(c), WSC_OK);
    tu_run_until(loop, &r.n[WSC_CLIENT_OPEN], 2, 10000);
    json_t *h3 = nth(&s, 3, "handshake");
    assert_non_null(h3);
    assert_null(strstr(json_string_value(json_object_get(h3, "cookie")), "csrf_token"));
    json_decref(h3);
    end_test(c, loop, &s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_most_once_reports),
        cmocka_unit_test(test_at_least_once_resends),
        cmocka_unit_test(test_confirmed_not_resent),
        cmocka_unit_test(test_unwritten_always_resent),
        cmocka_unit_test(test_kept_by_reference),
        cmocka_unit_test(test_json_text_kept_and_resent),
        cmocka_unit_test(test_1001_restart_reconnects),
        cmocka_unit_test(test_http_rules_and_retry_after),
        cmocka_unit_test(test_policy_hook),
        cmocka_unit_test(test_discard_order_and_closed),
        cmocka_unit_test(test_set_cookie_rotation_two_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
