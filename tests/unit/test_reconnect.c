/* test_reconnect.c - the default reconnect policy (client.h's table) as a
 * table of failures and decisions, the Retry-After parser, and the
 * bookkeeping of confirmed delivery (delivery.h): no network, no clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "delivery.h"
#include "reconnect.h"
#include "wsc/client.h"

typedef struct {
    int cause;
    unsigned code;
    int clean;
    int http;
    unsigned retry_after;
    const char *message;
    int want;
    unsigned want_delay; /* for AFTER */
} row;

static void test_default_table(void **state) {
    (void)state;
    const row rows[] = {
        /* server closes */
        {WSC_ECLOSED, 1000, 1, 0, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_ECLOSED, 1005, 1, 0, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_ECLOSED, 1001, 1, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ECLOSED, 1011, 1, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ECLOSED, 1012, 1, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ECLOSED, 1013, 1, 0, 0, "", WSC_RECONNECT_AFTER, 400}, /* the backed-off delay */
        {WSC_ECLOSED, 1014, 1, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ECLOSED, 4001, 1, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ECLOSED, 1000, 0, 0, 0, "", WSC_RECONNECT_DEFAULT, 0}, /* 1000 then a drop: not a goodbye */
        {WSC_ECONNRESET, 1006, 0, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ETIMEDOUT, 1006, 0, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ECONNREFUSED, 1006, 0, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_EDNS, 1006, 0, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ETLS, 1015, 0, 0, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_ETLSVERIFY, 1015, 0, 0, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EEXTENSION, 1006, 0, 0, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EPROXYAUTH, 1006, 0, 0, 0, "", WSC_RECONNECT_FINAL, 0},
        /* the cause decides, never the text */
        {WSC_EPROXY, 1006, 0, 0, 0, "proxy refused (proxy authentication required)", WSC_RECONNECT_DEFAULT, 0},
        {WSC_EPROXY, 1006, 0, 0, 0, "proxy answered 502", WSC_RECONNECT_DEFAULT, 0},
        /* HTTP answers to the upgrade */
        {WSC_EHTTP, 1006, 0, 200, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EHTTP, 1006, 0, 204, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EHTTP, 1006, 0, 301, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EHTTP, 1006, 0, 400, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EHTTP, 1006, 0, 403, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EHTTP, 1006, 0, 404, 0, "", WSC_RECONNECT_FINAL, 0},
        {WSC_EHTTP, 1006, 0, 408, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_EHTTP, 1006, 0, 429, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_EHTTP, 1006, 0, 429, 7000, "", WSC_RECONNECT_AFTER, 7000},
        {WSC_EHTTP, 1006, 0, 503, 0, "", WSC_RECONNECT_DEFAULT, 0},
        {WSC_EHTTP, 1006, 0, 503, 120000, "", WSC_RECONNECT_AFTER, 120000},
        {WSC_EHTTP, 1006, 0, 500, 5000, "", WSC_RECONNECT_DEFAULT, 0}, /* Retry-After only on 429/503 */
        {WSC_EHTTP, 1006, 0, 502, 0, "", WSC_RECONNECT_DEFAULT, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        wsc_client_failure f = {0};
        f.cause = rows[i].cause;
        f.code = rows[i].code;
        f.was_clean = rows[i].clean;
        f.http_status = rows[i].http;
        f.retry_after_ms = rows[i].retry_after;
        f.message = rows[i].message;
        f.attempt = 3;
        f.delay_ms = 100;
        f.backoff_delay_ms = 400;
        unsigned delay = 12345;
        int d = wsc_client_default_policy(&f, &delay);
        if (d != rows[i].want) fail_msg("row %zu: decision %d, want %d", i, d, rows[i].want);
        if (d == WSC_RECONNECT_AFTER) assert_int_equal(delay, rows[i].want_delay);
        else assert_int_equal(delay, 12345); /* untouched */
    }
    assert_int_equal(wsc_client_default_policy(NULL, NULL), WSC_RECONNECT_FINAL);
}

static void test_retry_after(void **state) {
    (void)state;
    time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */
    assert_int_equal(wsc__retry_after_ms(NULL, now), 0);
    assert_int_equal(wsc__retry_after_ms("", now), 0);
    assert_int_equal(wsc__retry_after_ms("5", now), 5000);
    assert_int_equal(wsc__retry_after_ms(" 120 ", now), 120000);
    assert_int_equal(wsc__retry_after_ms("0", now), 1);
    assert_int_equal(wsc__retry_after_ms("5s", now), 0);
    assert_int_equal(wsc__retry_after_ms("-5", now), 0);
    assert_int_equal(wsc__retry_after_ms("99999999999999", now), 86400u * 1000u); /* capped at a day */
    assert_int_equal(wsc__retry_after_ms("Tue, 14 Nov 2023 22:13:50 GMT", now), 30000);
    assert_int_equal(wsc__retry_after_ms("Tue, 14 Nov 2023 22:00:00 GMT", now), 1); /* past: now */
    assert_int_equal(wsc__retry_after_ms("Tue, 14 Nov 2023 22:13:50", now), 0);
    assert_int_equal(wsc__retry_after_ms("tomorrow", now), 0);
}

static wsc__msg *mk(const char *s, uint64_t seq, uint64_t index) {
    wsc__msg *m = wsc__msg_new(WSC__MSG_TEXT, s, strlen(s), NULL);
    assert_non_null(m);
    m->seq = seq;
    m->index = index;
    return m;
}

static void test_delivery_bookkeeping(void **state) {
    (void)state;
    wsc__delivery d = {0};
    char p[WSC__ACK_MAX];
    assert_int_equal(wsc__delivery_ping_payload(&d, 0, p), 0); /* nothing sent */
    wsc__msgq_push(&d.sent, mk("a", 1, 0));
    wsc__msgq_push(&d.sent, mk("bb", 2, 1));
    wsc__msgq_push(&d.sent, mk("ccc", 3, 2));
    assert_int_equal(d.sent.n, 3);
    assert_int_equal(d.sent.bytes, 6);
    size_t n = wsc__delivery_ping_payload(&d, 2, p);
    assert_int_equal(n, 9);
    assert_memory_equal(p, "wsc-ack 2", 9);
    wsc__delivery_pinged(&d, 2);
    assert_int_equal(wsc__delivery_ping_payload(&d, 2, p), 0); /* coalesced: nothing new */
    assert_int_equal(wsc__delivery_ping_payload(&d, 3, p), 0); /* one in flight at a time */
    assert_int_equal(wsc__delivery_ping_due(&d, 2 + WSC__ACK_EVERY - 1, p), 0);
    assert_int_equal(wsc__delivery_ping_due(&d, 2 + WSC__ACK_EVERY, p), 10); /* inside a long batch: due anyway */
    assert_memory_equal(p, "wsc-ack 18", 10);
    /* not ours */
    assert_int_equal(wsc__delivery_pong(&d, (const uint8_t *)"wsc", 3), -1);
    assert_int_equal(wsc__delivery_pong(&d, (const uint8_t *)"wsc-ack ", 8), -1);
    assert_int_equal(wsc__delivery_pong(&d, (const uint8_t *)"wsc-ack 2x", 10), -1);
    assert_int_equal(wsc__delivery_pong(&d, (const uint8_t *)"wsc-ack 99999999999999999999", 28), -1);
    /* a Pong beyond what was pinged confirms only what was pinged */
    assert_int_equal(wsc__delivery_pong(&d, (const uint8_t *)"wsc-ack 3", 9), 2);
    assert_int_equal(d.sent.n, 1);
    assert_int_equal(d.sent.head->seq, 3);
    assert_int_equal(wsc__delivery_pong(&d, (const uint8_t *)"wsc-ack 1", 9), 0); /* old, nothing more */
    /* each Pong doubles the interval inside a batch, up to the maximum;
       a new connection starts again at WSC__ACK_EVERY */
    assert_int_equal(d.every, WSC__ACK_EVERY * 4);
    assert_int_equal(wsc__delivery_ping_due(&d, 2 + WSC__ACK_EVERY * 4 - 1, p), 0);
    assert_int_equal(wsc__delivery_ping_due(&d, 2 + WSC__ACK_EVERY * 4, p), 10);
    for (int i = 0; i < 10; i++) wsc__delivery_pong(&d, (const uint8_t *)"wsc-ack 2", 9);
    assert_int_equal(d.every, WSC__ACK_EVERY_MAX);
    wsc__delivery_reset(&d);
    assert_int_equal(d.every, WSC__ACK_EVERY);
    d.pinged = 2;
    assert_int_equal(wsc__delivery_ping_payload(&d, 3, p), 9); /* answered: the next may go */
    assert_memory_equal(p, "wsc-ack 3", 9);
    /* drop: index 2 written? split at written = 2: not written */
    wsc__msgq_push(&d.sent, mk("dddd", 4, 3));
    wsc__msgq w = {0}, u = {0};
    wsc__delivery_split(&d, 3, &w, &u);
    assert_int_equal(d.sent.n, 0);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.head->seq, 3);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.head->seq, 4);
    /* prepend keeps order: w, u, then the queue */
    wsc__msgq q = {0};
    wsc__msgq_push(&q, mk("e", 5, 0));
    wsc__msgq_prepend(&q, &u);
    wsc__msgq_prepend(&q, &w);
    assert_int_equal(q.n, 3);
    assert_int_equal(q.bytes, 3 + 4 + 1);
    uint64_t want[] = {3, 4, 5};
    for (int i = 0; i < 3; i++) {
        wsc__msg *m = wsc__msgq_pop(&q);
        assert_int_equal(m->seq, want[i]);
        wsc__msg_free(m);
    }
    assert_null(q.head);
    assert_null(q.tail);
    /* a clean close confirms everything */
    wsc__msgq_push(&d.sent, mk("f", 6, 0));
    assert_int_equal(wsc__delivery_confirm_all(&d), 1);
    assert_int_equal(d.sent.n, 0);
    assert_int_equal(d.sent.bytes, 0);
    /* confirmed blocks are kept for reuse: a fitting one comes back */
    assert_true(d.npool >= 1);
    unsigned before = d.npool;
    wsc__msg *again = wsc__delivery_msg_new(&d, WSC__MSG_TEXT, "g", 1);
    assert_non_null(again);
    assert_int_equal(d.npool, before - 1);
    assert_memory_equal(again->data, "g", 1);
    wsc__msgq_push(&d.sent, again);
    wsc__delivery_free(&d);
    assert_int_equal(d.npool, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_table),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_delivery_bookkeeping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
