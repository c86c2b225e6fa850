/* test_loop_backend.c - choosing the loop backend, and what only the poll
 * backend has to get right: fairness past one batch of 64 ready fds, fd
 * numbers far above the others, and the removal of entries during a batch.
 * The rest of the loop's behaviour is test_loop.c, which CTest runs on both
 * backends (unit.test_loop and unit.poll.test_loop). */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#include "wsc/loop.h"

#define GUARD() alarm(30)

static int have_epoll(void) {
    wsc_loop *l = wsc_loop_new_backend("epoll", NULL);
    wsc_loop_free(l);
    return l != NULL;
}

static void test_select_by_name(void **state) {
    (void)state;
    wsc_error err;
    wsc_loop *l = wsc_loop_new_backend("poll", &err);
    assert_non_null(l);
    assert_string_equal(wsc_loop_backend(l), "poll");
    assert_int_equal(wsc_loop_fd(l), -1);
    wsc_loop_free(l);
    /* epoll: on Linux unless configured with WSC_LOOP_BACKEND=poll */
    if (have_epoll()) {
        l = wsc_loop_new_backend("epoll", &err);
        assert_string_equal(wsc_loop_backend(l), "epoll");
        assert_true(wsc_loop_fd(l) >= 0);
        wsc_loop_free(l);
    } else {
        memset(&err, 0, sizeof err);
        assert_null(wsc_loop_new_backend("epoll", &err));
        assert_int_equal(err.code, WSC_EINVAL);
    }
    memset(&err, 0, sizeof err);
    assert_null(wsc_loop_new_backend("kqueue-someday", &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_non_null(strstr(err.message, "kqueue-someday"));
}

/* wsc_loop_new() follows $WSC_LOOP_BACKEND: the CTest "poll" runs rely on it. */
static void test_select_by_environment(void **state) {
    (void)state;
    const char *was = getenv("WSC_LOOP_BACKEND");
    char *saved = was ? strdup(was) : NULL;
    wsc_loop *l = wsc_loop_new(NULL);
    assert_non_null(l);
    if (saved && *saved) assert_string_equal(wsc_loop_backend(l), saved);
    else assert_string_equal(wsc_loop_backend(l), have_epoll() ? "epoll" : "poll");
    wsc_loop_free(l);

    assert_int_equal(setenv("WSC_LOOP_BACKEND", "poll", 1), 0);
    l = wsc_loop_new(NULL);
    assert_string_equal(wsc_loop_backend(l), "poll");
    wsc_loop_free(l);
    /* an explicit name wins over the environment */
    l = wsc_loop_new_backend(have_epoll() ? "epoll" : "poll", NULL);
    assert_string_equal(wsc_loop_backend(l), have_epoll() ? "epoll" : "poll");
    wsc_loop_free(l);
    wsc_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(setenv("WSC_LOOP_BACKEND", "bogus", 1), 0);
    assert_null(wsc_loop_new(&err));
    assert_int_equal(err.code, WSC_EINVAL);

    if (saved) setenv("WSC_LOOP_BACKEND", saved, 1);
    else unsetenv("WSC_LOOP_BACKEND");
    free(saved);
}

/* ---- poll backend internals ---------------------------------------------- */

#define NPAIRS 150 /* more than two batches of 64 */

typedef struct {
    int seen[NPAIRS];
    int iteration;
    int first_iteration[NPAIRS];
} fair_ctx;

static int g_index_of_fd[4096];

static void count_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop, (void)w;
    fair_ctx *c = user;
    assert_true(events & WSC_READABLE);
    int i = g_index_of_fd[fd];
    if (!c->seen[i]) c->first_iteration[i] = c->iteration;
    c->seen[i]++;
}

/* 150 fds readable at once (and staying readable: level-triggered): every
   one is dispatched within the first ceil(150/64) = 3 iterations. Without
   the rotating start the last 22 would wait for ever. */
static void test_poll_fairness(void **state) {
    (void)state;
    GUARD();
    wsc_loop *loop = wsc_loop_new_backend("poll", NULL);
    assert_non_null(loop);
    int s[NPAIRS][2];
    wsc_watch *w[NPAIRS];
    fair_ctx c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < NPAIRS; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s[i]), 0);
        assert_true(s[i][0] < 4096);
        g_index_of_fd[s[i][0]] = i;
        assert_int_equal(write(s[i][1], "x", 1), 1);
        w[i] = wsc_watch_new(loop, s[i][0], WSC_READABLE, count_io, &c, NULL);
        assert_non_null(w[i]);
    }
    for (c.iteration = 1; c.iteration <= 3; c.iteration++) {
        int n = wsc_loop_run_once(loop, 1000);
        assert_int_equal(n, 64); /* a full batch each time: all 150 stay readable */
    }
    for (int i = 0; i < NPAIRS; i++) {
        assert_true(c.seen[i] >= 1);
        assert_true(c.first_iteration[i] <= 3);
    }
    for (int i = 0; i < NPAIRS; i++) {
        wsc_watch_free(w[i]);
        close(s[i][0]);
        close(s[i][1]);
    }
    wsc_loop_free(loop);
}

/* A fd number far above the others, and the swap-with-last removal done
   from inside a callback while the batch still holds the moved entry. */
typedef struct {
    wsc_watch *victim;
    int fired_victim, fired_other;
    int victim_fd;
} rm_ctx;

static void remover(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop, (void)events;
    rm_ctx *c = user;
    if (fd == c->victim_fd) {
        c->fired_victim++;
        return;
    }
    c->fired_other++;
    if (c->victim) {
        wsc_watch_free(c->victim);
        c->victim = NULL;
    }
    (void)w;
}

static void test_poll_high_fd_and_removal(void **state) {
    (void)state;
    GUARD();
    wsc_loop *loop = wsc_loop_new_backend("poll", NULL);
    int a[2], b[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
    int high = fcntl(b[0], F_DUPFD, 1000); /* slot[] must grow past 1000 */
    assert_true(high >= 1000);
    close(b[0]);
    rm_ctx c = {0};
    c.victim_fd = high;
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    wsc_watch *first = wsc_watch_new(loop, a[0], WSC_READABLE, remover, &c, NULL);
    c.victim = wsc_watch_new(loop, high, WSC_READABLE, remover, &c, NULL);
    assert_non_null(first);
    assert_non_null(c.victim);
    /* one watch per fd holds for high numbers too */
    assert_null(wsc_watch_new(loop, high, WSC_READABLE, remover, &c, NULL));
    /* both ready in one batch: the first frees the second before its turn */
    assert_int_equal(wsc_loop_run_once(loop, 1000), 1);
    assert_int_equal(c.fired_other, 1);
    assert_int_equal(c.fired_victim, 0);
    /* and the freed registration is really gone: a new watch on it works */
    wsc_watch *again = wsc_watch_new(loop, high, WSC_READABLE, remover, &c, NULL);
    assert_non_null(again);
    wsc_watch_free(first);
    assert_int_equal(wsc_loop_run_once(loop, 1000), 1);
    assert_int_equal(c.fired_victim, 1);
    wsc_watch_free(again);
    close(high);
    close(b[1]);
    close(a[0]);
    close(a[1]);
    wsc_loop_free(loop);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_by_name),
        cmocka_unit_test(test_select_by_environment),
        cmocka_unit_test(test_poll_fairness),
        cmocka_unit_test(test_poll_high_fd_and_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
