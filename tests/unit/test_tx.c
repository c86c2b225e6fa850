#define _GNU_SOURCE
/* test_tx.c - the transport's plain implementation through its dispatchers:
 * a closed stream, reading, peeking, writing, EAGAIN, the end of stream,
 * interest and readiness, and blocking mode (a blocking read returns what
 * is there, it does not wait for the whole buffer). Over a socketpair, no
 * clock; TLS runs in the integration tests (test_ws, test_server,
 * test_proxy_https). */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "io/tx_impl.h" /* wsc__tx_peek: the test looks inside src/io/ */

/* A plain stream over one end of a non-blocking socketpair; the test holds
   the other end (peer). Set up and torn down by cmocka around each test. */
typedef struct {
    wsc_tx tx;
    int fd;   /* the stream's socket */
    int peer; /* the test's end, -1 once the test closed it */
} txpair;

static int pair_setup(void **state) {
    static txpair t;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    wsc__tx_plain(&t.tx, sv[0]);
    t.fd = sv[0];
    t.peer = sv[1];
    *state = &t;
    return 0;
}

static int pair_teardown(void **state) {
    txpair *t = *state;
    wsc__tx_close(&t->tx); /* harmless if the test closed it */
    if (t->peer >= 0) close(t->peer);
    return 0;
}

static void test_closed(void **state) {
    (void)state;
    wsc_tx tx;
    wsc__tx_init(&tx);
    wsc_error err;
    char b[4];
    assert_int_equal(wsc__tx_fd(&tx), -1);
    assert_false(wsc__tx_is_tls(&tx));
    assert_int_equal(wsc__tx_read(&tx, b, sizeof b, &err), WSC_EIO);
    assert_int_equal(wsc__tx_write(&tx, "x", 1, &err), WSC_EIO);
    assert_int_equal(wsc__tx_pending(&tx), 0);
    assert_int_equal(wsc__tx_set_blocking(&tx, 1, &err), WSC_EIO);
    wsc__tx_shutdown(&tx); /* harmless */
    wsc__tx_close(&tx);
    assert_int_equal(wsc__tx_fd(&tx), -1);
}

static void test_plain(void **state) {
    txpair *t = *state;
    wsc_tx *tx = &t->tx;
    wsc_error err;
    char b[16];
    assert_int_equal(wsc__tx_fd(tx), t->fd);
    assert_int_equal(wsc__tx_read(tx, b, sizeof b, &err), WSC_EAGAIN);
    assert_int_equal(wsc__tx_interest(tx, 1, 0), WSC_READABLE);
    assert_int_equal(wsc__tx_interest(tx, 1, 1), WSC_READABLE | WSC_WRITABLE);
    assert_int_equal(wsc__tx_interest(tx, 0, 0), 0);
    assert_int_equal(wsc__tx_ready(tx, WSC_WRITABLE), WSC_WRITABLE);
    assert_int_equal(wsc__tx_ready(tx, 0), 0);

    assert_int_equal(wsc__tx_write(tx, "hello", 5, &err), 5);
    assert_int_equal(read(t->peer, b, sizeof b), 5);
    assert_memory_equal(b, "hello", 5);

    assert_int_equal(write(t->peer, "world!", 6), 6);
    memset(b, 0, sizeof b);
    assert_int_equal(wsc__tx_peek(tx, b, 3, &err), 3); /* consumes nothing */
    assert_memory_equal(b, "wor", 3);
    assert_int_equal(wsc__tx_read(tx, b, sizeof b, &err), 6);
    assert_memory_equal(b, "world!", 6);
    assert_int_equal(wsc__tx_pending(tx), 0);

    assert_false(wsc__tx_eof(tx));
    close(t->peer);
    t->peer = -1;
    assert_int_equal(wsc__tx_read(tx, b, sizeof b, &err), 0);
    assert_true(wsc__tx_eof(tx));
    assert_int_equal(wsc__tx_write(tx, "x", 1, &err), WSC_ECONNRESET); /* EPIPE, no SIGPIPE */
    wsc__tx_close(tx);
    assert_int_equal(wsc__tx_fd(tx), -1);
    assert_int_equal(fcntl(t->fd, F_GETFD), -1); /* the descriptor is closed */
}

static void test_shutdown(void **state) {
    txpair *t = *state;
    wsc__tx_shutdown(&t->tx);
    char b[4];
    assert_int_equal(read(t->peer, b, sizeof b), 0); /* the peer sees the end */
}

static void test_blocking(void **state) {
    txpair *t = *state;
    wsc_error err;
    assert_int_equal(wsc__tx_set_blocking(&t->tx, 1, &err), WSC_OK);
    assert_int_equal(fcntl(t->fd, F_GETFL) & O_NONBLOCK, 0);
    assert_int_equal(write(t->peer, "abc", 3), 3);
    char b[64];
    /* what is there, without waiting for the other 61 bytes */
    assert_int_equal(wsc__tx_read(&t->tx, b, sizeof b, &err), 3);
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(wsc__tx_set_blocking(&t->tx, 0, &err), WSC_OK);
    assert_int_not_equal(fcntl(t->fd, F_GETFL) & O_NONBLOCK, 0);
    assert_int_equal(wsc__tx_read(&t->tx, b, sizeof b, &err), WSC_EAGAIN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed),
        cmocka_unit_test_setup_teardown(test_plain, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_blocking, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
