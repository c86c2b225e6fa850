/* test_buf.c - wsc_buf: appends never move pending bytes (offsets taken
 * before an append stay valid), consume compacts, limits hold. */
#include <string.h>

#include "testutil.h"
#include "wsc/wsc.h"

static void test_offsets_survive_appends(void **state) {
    (void)state;
    wsc_buf b = {0};
    uint8_t chunk[5000];
    memset(chunk, 'a', sizeof chunk);
    assert_int_equal(wsc_buf_append(&b, chunk, sizeof chunk), WSC_OK);
    /* half written: pending bytes sit at off > 0 */
    wsc_buf_consume(&b, 3000);
    assert_int_equal(b.off, 3000);
    size_t before = b.len, off_before = b.off;
    /* An append that does not fit after len but would fit if the pending
       bytes moved to the front (the case a compacting reserve got wrong:
       len - before wrapped and bufferedAmount went astray). */
    uint8_t more[4000];
    memset(more, 'b', sizeof more);
    assert_true(b.cap - b.len < sizeof more && b.len - b.off + sizeof more <= b.cap);
    assert_int_equal(wsc_buf_append(&b, more, sizeof more), WSC_OK);
    assert_int_equal(b.off, off_before);
    assert_int_equal(b.len - before, sizeof more); /* what callers compute */
    assert_int_equal(wsc_buf_pending(&b), 2000 + sizeof more);
    assert_int_equal(b.data[b.off], 'a');
    assert_int_equal(b.data[before], 'b');
    /* and a large one too */
    uint8_t big[100000];
    memset(big, 'c', sizeof big);
    before = b.len;
    assert_int_equal(wsc_buf_append(&b, big, sizeof big), WSC_OK);
    assert_int_equal(b.len - before, sizeof big);
    wsc_buf_free(&b);
}

static void test_consume_compacts(void **state) {
    (void)state;
    wsc_buf b = {0};
    uint8_t d[10000];
    for (size_t i = 0; i < sizeof d; i++) d[i] = (uint8_t)i;
    assert_int_equal(wsc_buf_append(&b, d, sizeof d), WSC_OK);
    wsc_buf_consume(&b, 1000); /* less consumed than left: stays */
    assert_int_equal(b.off, 1000);
    wsc_buf_consume(&b, 5000); /* now more consumed than left: moved */
    assert_int_equal(b.off, 0);
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.data, d + 6000, 4000);
    wsc_buf_consume(&b, 4000); /* all of it: empty */
    assert_int_equal(b.off, 0);
    assert_int_equal(b.len, 0);
    /* a steady stream that never drains does not grow without bound */
    size_t maxcap = 0;
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(wsc_buf_append(&b, d, 1000), WSC_OK);
        wsc_buf_consume(&b, 1000 - (i % 2)); /* a little stays each time */
        if (b.cap > maxcap) maxcap = b.cap;
    }
    assert_true(wsc_buf_pending(&b) == 5000);
    assert_true(maxcap <= 65536);
    wsc_buf_free(&b);
}

static void test_limit(void **state) {
    (void)state;
    wsc_buf b = {0};
    b.max = 100;
    uint8_t d[101] = {0};
    assert_int_equal(wsc_buf_append(&b, d, 101), WSC_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(wsc_buf_append(&b, d, 100), WSC_OK);
    assert_int_equal(wsc_buf_append(&b, d, 1), WSC_ETOOBIG);
    wsc_buf_consume(&b, 50);
    assert_int_equal(wsc_buf_append(&b, d, 50), WSC_OK); /* 100 pending again */
    assert_int_equal(wsc_buf_pending(&b), 100);
    wsc_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_survive_appends),
        cmocka_unit_test(test_consume_compacts),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
