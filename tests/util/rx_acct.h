/*
 * rx_acct.h - a receive-memory hook for the core's tests
 * (wsc_proto_config.rx_mem): it keeps the running total it was told, refuses
 * growth past `limit`, and counts calls and refusals. Shared by test_frame.c
 * and test_recv_span.c. Include after cmocka (testutil.h).
 */
#ifndef WSC_TEST_RX_ACCT_H
#define WSC_TEST_RX_ACCT_H

typedef struct {
    long long held, limit;
    int calls, refused;
} rx_acct;

static inline int acct_hook(void *user, long long delta) {
    rx_acct *a = user;
    a->calls++;
    if (delta > 0 && a->held + delta > a->limit) {
        a->refused++;
        return 1;
    }
    a->held += delta;
    assert_true(a->held >= 0);
    return 0;
}

#endif
