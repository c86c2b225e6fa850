/* test_happy_eyeballs.c - the connector's address race (RFC 8305), on
 * loopback only, deterministic.
 *
 * A name is "resolved" by the test hook (wsc__test_resolve) to addresses on
 * one port P: 127.0.0.1:P is a listener that accepts (the good address);
 * [::1]:P (or 127.0.0.2:P without IPv6) is a black hole: a listener with a
 * backlog of 0 whose accept queue the test fills with one connection it never
 * accepts, so Linux drops further SYNs and a connect to it stays in progress
 * until someone gives up (no packet leaves the host, nothing depends on a
 * timing). 127.0.0.3:P has no listener: refused at once. The attempt hook
 * (wsc__test_attempt) records each attempt's start, failure, win or
 * abandonment with the loop's clock, so the test checks the race's structure
 * (the second attempt starts while the first is still pending, 250 ms or more
 * after it, the first success wins, the rest are closed), not durations. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/resolve.h"
#include "io/transport.h"
#include "testutil.h"
#include "wsc/loop.h"

static wsc_loop *L;
static const char *answer; /* what the hook resolves names to */

typedef struct {
    int event;
    char addr[64];
    uint64_t at;
} ev;
static ev evs[32];
static int nev;

static const char *hook_resolve(const char *host) { return strcmp(host, "race.test") == 0 ? answer : NULL; }

static void hook_attempt(int event, const struct sockaddr *sa) {
    if (nev >= 32) return;
    const void *bin = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    inet_ntop(sa->sa_family, bin, evs[nev].addr, sizeof evs[nev].addr);
    evs[nev].event = event;
    evs[nev].at = wsc_loop_now(L);
    nev++;
}

typedef struct {
    int done, rc;
    char msg[256];
    int fd;
} result;

static void on_connect(void *user, int rc, wsc_tx *tx, const wsc_error *err) {
    result *r = user;
    r->done = 1;
    r->rc = rc;
    if (err) snprintf(r->msg, sizeof r->msg, "%s", err->message);
    if (tx) {
        r->fd = wsc__tx_fd(tx);
        wsc__tx_close(tx);
    }
}

static int listener(int family, const char *ip, int port, int backlog) {
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, ip, &s->sin6_addr);
        len = sizeof *s;
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, ip, &s->sin_addr);
        len = sizeof *s;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int port_of(int fd) {
    struct sockaddr_in s;
    socklen_t l = sizeof s;
    getsockname(fd, (struct sockaddr *)&s, &l);
    return ntohs(s.sin_port);
}

typedef struct {
    int good, hole, filler, port;
    const char *hole_ip;
} net;

/* The good listener on 127.0.0.1:P and the black hole on the same port. */
static void make_net(net *n) {
    for (int tries = 0; tries < 20; tries++) {
        n->good = listener(AF_INET, "127.0.0.1", 0, 16);
        assert_true(n->good >= 0);
        n->port = port_of(n->good);
        n->hole_ip = "::1";
        n->hole = listener(AF_INET6, "::1", n->port, 0);
        if (n->hole < 0) {
            n->hole_ip = "127.0.0.2";
            n->hole = listener(AF_INET, "127.0.0.2", n->port, 0);
        }
        if (n->hole >= 0) break;
        close(n->good);
    }
    assert_true(n->hole >= 0);
    /* Fill the black hole's accept queue (backlog 0 holds one connection). */
    int v6 = strchr(n->hole_ip, ':') != NULL;
    n->filler = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (v6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)n->port);
        inet_pton(AF_INET6, n->hole_ip, &s->sin6_addr);
        len = sizeof *s;
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)n->port);
        inet_pton(AF_INET, n->hole_ip, &s->sin_addr);
        len = sizeof *s;
    }
    assert_int_equal(connect(n->filler, (struct sockaddr *)&ss, len), 0);
}

static void free_net(net *n) {
    close(n->filler);
    close(n->hole);
    close(n->good);
}

static result race(const char *list, unsigned timeout_ms, int port) {
    answer = list;
    nev = 0;
    result r = {0};
    L = wsc_loop_new(NULL);
    wsc_connect_req req;
    memset(&req, 0, sizeof req);
    req.host = "race.test";
    req.port = (uint16_t)port;
    req.timeout_ms = timeout_ms;
    wsc_error err;
    wsc_connector *c = wsc__connect(L, &req, on_connect, &r, &err);
    assert_non_null(c);
    tu_run_until(L, &r.done, 1, 20000);
    assert_int_equal(r.done, 1);
    wsc_loop_free(L);
    return r;
}

static void expect(int i, int event, const char *addr) {
    assert_true(i < nev);
    if (evs[i].event != event || strcmp(evs[i].addr, addr) != 0)
        fprintf(stderr, "event %d: %d %s, expected %d %s\n", i, evs[i].event, evs[i].addr, event, addr);
    assert_int_equal(evs[i].event, event);
    assert_string_equal(evs[i].addr, addr);
}

static void test_black_hole_first(void **state) {
    (void)state;
    net n;
    make_net(&n);
    char list[100];
    snprintf(list, sizeof list, "%s,127.0.0.1", n.hole_ip);
    result r = race(list, 10000, n.port);
    assert_int_equal(r.rc, WSC_OK);
    /* The black hole is tried first and is still pending when the second
       attempt starts, at least the Connection Attempt Delay later; the
       second wins and the first is closed. */
    assert_int_equal(nev, 4);
    expect(0, WSC__ATTEMPT_STARTED, n.hole_ip);
    expect(1, WSC__ATTEMPT_STARTED, "127.0.0.1");
    assert_true(evs[1].at - evs[0].at >= 250);
    expect(2, WSC__ATTEMPT_WON, "127.0.0.1");
    expect(3, WSC__ATTEMPT_ABANDONED, n.hole_ip);
    free_net(&n);
}

static void test_refused_first(void **state) {
    (void)state;
    net n;
    make_net(&n);
    /* An address that refuses at once: the next starts when it fails,
       without waiting for its turn. */
    result r = race("127.0.0.3,127.0.0.1", 10000, n.port);
    assert_int_equal(r.rc, WSC_OK);
    assert_int_equal(nev, 4);
    expect(0, WSC__ATTEMPT_STARTED, "127.0.0.3");
    expect(1, WSC__ATTEMPT_FAILED, "127.0.0.3");
    expect(2, WSC__ATTEMPT_STARTED, "127.0.0.1");
    expect(3, WSC__ATTEMPT_WON, "127.0.0.1");
    free_net(&n);
}

static void test_timeout_covers_race(void **state) {
    (void)state;
    net n;
    make_net(&n);
    /* Only the black hole: the connect timeout ends the whole race. */
    result r = race(n.hole_ip, 400, n.port);
    assert_int_equal(r.rc, WSC_ETIMEDOUT);
    assert_non_null(strstr(r.msg, "timed out connecting to race.test"));
    assert_int_equal(nev, 2);
    expect(0, WSC__ATTEMPT_STARTED, n.hole_ip);
    expect(1, WSC__ATTEMPT_ABANDONED, n.hole_ip);
    /* Everything refused: the last error is reported. */
    result r2 = race("127.0.0.3,127.0.0.4", 10000, n.port);
    assert_int_equal(r2.rc, WSC_ECONNREFUSED);
    assert_non_null(strstr(r2.msg, "cannot connect to race.test port"));
    free_net(&n);
}

int main(void) {
    wsc__test_resolve = hook_resolve;
    wsc__test_attempt = hook_attempt;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_black_hole_first),
        cmocka_unit_test(test_refused_first),
        cmocka_unit_test(test_timeout_covers_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
