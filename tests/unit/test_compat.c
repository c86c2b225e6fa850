/* test_compat.c - the compatibility layer (src/compat/): the Linux one-call
 * forms and, on Linux too, the portable fallbacks that macOS and the BSDs
 * use (fcntl after socket/accept, a pipe for eventfd, a self-pipe for
 * signalfd), so those code paths are run here even though those systems
 * are not. */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include "compat/compat.h"

static void assert_nb_cloexec(int fd) {
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static int readable(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_socket(void **state) {
    (void)state;
    int a = wsc__compat_socket(AF_INET, SOCK_STREAM, 0);
    int b = wsc__compat_socket_portable(AF_INET, SOCK_STREAM, 0);
    int u = wsc__compat_socket_portable(AF_UNIX, SOCK_STREAM, 0);
    assert_nb_cloexec(a);
    assert_nb_cloexec(b);
    assert_nb_cloexec(u);
    close(a);
    close(b);
    close(u);
    assert_int_equal(wsc__compat_socket_portable(-1, SOCK_STREAM, 0), -1);
    assert_true(errno == EAFNOSUPPORT || errno == EINVAL);
}

/* A listener on 127.0.0.1:0 and a client: accept through both paths, then a
   write to a peer that has gone raises no SIGPIPE (the default action would
   kill this process) but fails with EPIPE. */
static void test_accept_and_nosigpipe(void **state) {
    (void)state;
    int l = wsc__compat_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(l, 4), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
    assert_int_equal(signal(SIGPIPE, SIG_DFL) == SIG_ERR, 0);

    for (int portable = 0; portable < 2; portable++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof sa), 0);
        struct pollfd p = {l, POLLIN, 0};
        assert_int_equal(poll(&p, 1, 5000), 1);
        int s = portable ? wsc__compat_accept_portable(l, NULL, NULL) : wsc__compat_accept(l, NULL, NULL);
        assert_nb_cloexec(s);
        close(c);
        /* the first send may still be accepted (the RST comes back after it) */
        ssize_t n = 0;
        for (int i = 0; i < 100 && n >= 0; i++) {
            n = send(s, "x", 1, WSC_MSG_NOSIGNAL);
            if (n >= 0) {
                struct pollfd q = {s, POLLIN, 0};
                (void)poll(&q, 1, 10);
            }
        }
        assert_int_equal(n, -1);
        assert_true(errno == EPIPE || errno == ECONNRESET);
        close(s);
    }
    /* nothing pending: EAGAIN, not a block */
    assert_int_equal(wsc__compat_accept(l, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    assert_int_equal(wsc__compat_accept_portable(l, NULL, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(l);
}

static void check_wake(wsc__wake *w) {
    assert_nb_cloexec(w->rfd);
    assert_nb_cloexec(w->wfd);
    assert_false(readable(w->rfd));
    wsc__wake_signal(w);
    assert_true(readable(w->rfd));
    wsc__wake_drain(w);
    assert_false(readable(w->rfd));
    /* far more signals than a pipe holds: never blocks, one drain empties */
    for (int i = 0; i < 100000; i++) wsc__wake_signal(w);
    assert_true(readable(w->rfd));
    wsc__wake_drain(w);
    assert_false(readable(w->rfd));
    wsc__wake_close(w);
    assert_int_equal(w->rfd, -1);
    wsc__wake_close(w); /* idempotent */
}

static void test_wake(void **state) {
    (void)state;
    wsc__wake w;
    assert_int_equal(wsc__wake_open(&w), 0);
#ifdef WSC_HAVE_EVENTFD
    assert_int_equal(w.rfd, w.wfd); /* one eventfd */
#endif
    check_wake(&w);
    assert_int_equal(wsc__wake_open_portable(&w), 0);
    assert_int_not_equal(w.rfd, w.wfd); /* a pipe */
    check_wake(&w);
}

static void test_sigfd(void **state) {
    (void)state;
    /* the self-pipe: a handler writes the number, the fd turns readable */
    wsc__sigfd s;
    static const int one[] = {SIGUSR1};
    assert_int_equal(wsc__sigfd_open_portable(&s, one, 1), 0);
    assert_nb_cloexec(s.fd);
    assert_int_equal(wsc__sigfd_read(&s), 0);
    wsc__sigfd s2;
    assert_int_equal(wsc__sigfd_open_portable(&s2, one, 1), -1); /* one per process */
    assert_int_equal(errno, EBUSY);
    assert_int_equal(raise(SIGUSR1), 0);
    assert_int_equal(raise(SIGUSR1), 0);
    assert_true(readable(s.fd));
    assert_int_equal(wsc__sigfd_read(&s), SIGUSR1);
    assert_int_equal(wsc__sigfd_read(&s), SIGUSR1);
    assert_int_equal(wsc__sigfd_read(&s), 0);
    wsc__sigfd_close(&s);
    assert_int_equal(s.fd, -1);
    signal(SIGUSR1, SIG_DFL);

    /* the default for this system (signalfd on Linux) */
    static const int two[] = {SIGUSR2, SIGHUP};
    assert_int_equal(wsc__sigfd_open(&s, two, 2), 0);
    assert_int_equal(raise(SIGUSR2), 0);
    assert_true(readable(s.fd));
    assert_int_equal(wsc__sigfd_read(&s), SIGUSR2);
    assert_int_equal(wsc__sigfd_read(&s), 0);
    wsc__sigfd_close(&s);
    wsc__sigfd_restore();
}

/* wsc__sigfd_restore puts back what the open changed: the mask (signalfd)
   or the handlers (self-pipe), so that the signals act again as before. */
static void test_sigfd_restore(void **state) {
    (void)state;
    static const int one[] = {SIGUSR1};
    struct sigaction sa;
    wsc__sigfd s;
    assert_int_equal(wsc__sigfd_open_portable(&s, one, 1), 0);
    wsc__sigfd_close(&s);
    wsc__sigfd_restore();
    assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);

    sigset_t cur;
    assert_int_equal(wsc__sigfd_open(&s, one, 1), 0);
#ifdef __linux__
    assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &cur), 0);
    assert_true(sigismember(&cur, SIGUSR1)); /* blocked for the signalfd */
#endif
    wsc__sigfd_close(&s);
    wsc__sigfd_restore();
    assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &cur), 0);
    assert_false(sigismember(&cur, SIGUSR1));
    assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);

    static const int many[WSC__SIGFD_MAX + 1] = {SIGUSR1};
    assert_int_equal(wsc__sigfd_open(&s, many, WSC__SIGFD_MAX + 1), -1);
    assert_int_equal(errno, EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socket),
        cmocka_unit_test(test_accept_and_nosigpipe),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_sigfd),
        cmocka_unit_test(test_sigfd_restore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
