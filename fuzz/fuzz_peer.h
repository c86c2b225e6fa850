/* fuzz_peer.h - the harness as the peer of a wsc connection on a real
 * wsc_loop with an injected clock, for the harnesses that drive the library
 * through its public API (fuzz_client_token, fuzz_server_upgrade,
 * fuzz_delivery; the same scheme as fuzz_engine.c, which keeps its own copy
 * of the loop, clock and head reader, and tests/util/scripted_peer.h).
 *
 * Every loop turn is wsc_loop_run_once(loop, 0) and their number is
 * bounded, so nothing waits for wall-clock time and a run is deterministic:
 * a timer fires only when the harness advances fp_now. Static functions in
 * a header: each harness is one translation unit (fuzz/CMakeLists.txt). */
#ifndef WSC_FUZZ_PEER_H
#define WSC_FUZZ_PEER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/loop_internal.h"
#include "wsc/loop.h"

#include "fuzz_check.h"

static uint64_t fp_now = 1000000; /* milliseconds; starts high so t - 1 never wraps */
static uint64_t fp_clock(void *user) {
    (void)user;
    return fp_now;
}

static wsc_loop *fp_loop;

/* What wsc wrote to the peer, when fp_capture is set (a bounded prefix). */
static uint8_t fp_out[65536];
static size_t fp_out_len;
static int fp_capture;

static wsc_loop *fp_loop_new(void) {
    fp_loop = wsc_loop_new(NULL);
    CHECK(fp_loop);
    wsc__loop_set_clock(fp_loop, fp_clock, NULL);
    return fp_loop;
}

/* A non-blocking listening socket on 127.0.0.1, on a port the kernel
   chooses (stored in *port): the harness as a TCP server. */
static inline int fp_listen_loopback(int backlog, uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(fd >= 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(fd, backlog) == 0);
    socklen_t sl = sizeof sa;
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static int fp_turn(void) { return wsc_loop_run_once(fp_loop, 0); }

/* Reads an HTTP head from fd into req (NUL-terminated), turning the loop
   between reads, at most 200 times; stops at the blank line, at EOF or
   when req is full. Returns the bytes read (the head is complete when
   req holds "\r\n\r\n"). */
static inline size_t fp_read_head(int fd, char *req, size_t cap) {
    size_t rn = 0;
    req[0] = 0;
    for (int i = 0; i < 200 && rn < cap - 1; i++) {
        fp_turn();
        ssize_t k = read(fd, req + rn, cap - 1 - rn);
        if (k > 0) {
            rn += (size_t)k;
            req[rn] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        } else if (k == 0) {
            break;
        }
    }
    return rn;
}

/* Reads what wsc wrote (so its sends never stall on a full socket),
   keeping a prefix of it in fp_out when fp_capture is set. */
static void fp_drain(int fd) {
    uint8_t buf[4096];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0) {
        if (!fp_capture) continue;
        size_t room = sizeof fp_out - fp_out_len, n = (size_t)k < room ? (size_t)k : room;
        memcpy(fp_out + fp_out_len, buf, n);
        fp_out_len += n;
    }
}

/* Turns the loop until nothing happens for two turns in a row (bounded). */
static void fp_settle(int fd, int max) {
    int idle = 0;
    for (int i = 0; i < max && idle < 2; i++) {
        int n = fp_turn();
        if (fd >= 0) fp_drain(fd);
        idle = n > 0 ? 0 : idle + 1;
    }
}

/* Writes p in pieces of `piece` bytes, turning the loop between them. */
static void fp_write(int fd, const uint8_t *p, size_t n, size_t piece) {
    while (n) {
        size_t k = n < piece ? n : piece;
        ssize_t w = send(fd, p, k, MSG_NOSIGNAL); /* wsc may have closed: no SIGPIPE */
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fp_settle(fd, 4); /* wsc reads, the socket buffer frees up */
            continue;
        }
        if (w <= 0) return; /* wsc closed its end: the rest is not read */
        p += w, n -= (size_t)w;
        if (piece < 4096) fp_settle(fd, 3);
    }
}

/* Ends the connection: the peer's EOF, then the clock past the close
   timeout until done() (at most four times), then the peer closes. */
static inline void fp_finish(int fd, int late, int (*done)(void)) {
    fp_settle(fd, 50);
    if (late) {
        fp_now += 2500; /* past a small message timeout, not the close timeout */
        fp_settle(fd, 20);
    }
    shutdown(fd, SHUT_WR);
    fp_settle(fd, 50);
    for (int i = 0; i < 4 && !done(); i++) {
        fp_now += 6000; /* past the close timeout (5 s by default) */
        fp_settle(fd, 20);
    }
    fp_drain(fd);
    close(fd);
    fp_settle(-1, 50);
}

/* Input pieces: at once, or 1, 7 or 61 bytes with loop turns between. */
static inline size_t fp_piece(unsigned two_bits) {
    static const size_t pieces[4] = {1u << 20, 1, 7, 61};
    return pieces[two_bits & 3u];
}

#endif
