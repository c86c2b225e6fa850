/* scripted_peer.c - see scripted_peer.h. */
#define _DEFAULT_SOURCE
#include "scripted_peer.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/loop_internal.h"
#include "wsc/http.h"

uint64_t tu_fake_now = 1000000;

uint64_t tu_fake_clock(void *user) {
    (void)user;
    return tu_fake_now;
}

static struct sockaddr_un sock_addr(const tu_sp *p) {
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    assert_true(strlen(p->sock) < sizeof sa.sun_path);
    memcpy(sa.sun_path, p->sock, strlen(p->sock) + 1);
    return sa;
}

void tu_sp_init(tu_sp *p) {
    memset(p, 0, sizeof *p);
    p->loop = wsc_loop_new(NULL);
    assert_non_null(p->loop);
    wsc__loop_set_clock(p->loop, tu_fake_clock, NULL);
    p->dir = tu_tmpdir();
    assert_non_null(p->dir);
    snprintf(p->sock, sizeof p->sock, "%s/s", p->dir);
    p->lfd = p->fd = -1;
}

void tu_sp_fini(tu_sp *p) {
    if (p->fd >= 0) close(p->fd);
    if (p->lfd >= 0) close(p->lfd);
    wsc_loop_free(p->loop);
    tu_rmtree(p->dir);
    free(p->dir);
    memset(p, 0, sizeof *p);
}

void tu_sp_listen(tu_sp *p) {
    p->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    struct sockaddr_un sa = sock_addr(p);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
}

void tu_sp_accept(tu_sp *p) {
    /* A connect to a Unix socket completes at once: it sits in the backlog. */
    tu_sp_wait_readable(p, p->lfd);
    if (p->fd >= 0) close(p->fd);
    p->fd = accept(p->lfd, NULL, NULL);
    assert_true(p->fd >= 0);
}

void tu_sp_connect(tu_sp *p) {
    p->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(p->fd >= 0);
    struct sockaddr_un sa = sock_addr(p);
    assert_int_equal(connect(p->fd, (struct sockaddr *)&sa, sizeof sa), 0);
}

void tu_sp_hangup(tu_sp *p) {
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
}

void tu_sp_turn(tu_sp *p) { wsc_loop_run_once(p->loop, 0); }

void tu_sp_turns(tu_sp *p, int n) {
    for (int i = 0; i < n; i++) tu_sp_turn(p);
}

void tu_sp_until(tu_sp *p, const int *flag, int want) {
    for (int i = 0; i < 100 && *flag < want; i++) tu_sp_turn(p);
    assert_int_equal(*flag, want);
}

void tu_sp_wait_readable(tu_sp *p, int fd) {
    /* 1 ms per poll: a bound for bytes that are already on their way, not a
       wait for a timer (the clock does not move). */
    for (int i = 0; i < 5000; i++) {
        tu_sp_turn(p);
        struct pollfd q = {fd, POLLIN, 0};
        if (poll(&q, 1, 1) == 1) return;
    }
    fail_msg("the peer waited 5 s for bytes that never came");
}

void tu_sp_silent(tu_sp *p) {
    struct pollfd q = {p->fd, POLLIN, 0};
    assert_int_equal(poll(&q, 1, 0), 0);
}

void tu_sp_read(tu_sp *p, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        tu_sp_wait_readable(p, p->fd);
        ssize_t k = read(p->fd, (uint8_t *)buf + got, n - got);
        assert_true(k > 0);
        got += (size_t)k;
    }
}

void tu_sp_expect(tu_sp *p, const void *want, size_t n) {
    uint8_t got[512];
    assert_true(n <= sizeof got);
    tu_sp_read(p, got, n);
    assert_memory_equal(got, want, n);
}

void tu_sp_expect_eof(tu_sp *p) {
    tu_sp_wait_readable(p, p->fd);
    uint8_t b;
    assert_int_equal(read(p->fd, &b, 1), 0);
}

void tu_sp_write(tu_sp *p, const void *buf, size_t n) {
    assert_int_equal(write(p->fd, buf, n), (ssize_t)n);
}

size_t tu_sp_client_frame(tu_sp *p, unsigned want_op, uint8_t *out, size_t cap) {
    uint8_t h[2];
    tu_sp_read(p, h, 2);
    assert_int_equal(h[0], 0x80 | want_op); /* FIN, no RSV, the opcode */
    assert_true(h[1] & 0x80);               /* masked */
    size_t len = h[1] & 0x7f;
    assert_true(len <= 125 && len <= cap);
    uint8_t mask[4];
    tu_sp_read(p, mask, 4);
    tu_sp_read(p, out, len);
    for (size_t i = 0; i < len; i++) out[i] ^= mask[i & 3];
    return len;
}

void tu_sp_server_frame(tu_sp *p, uint8_t b0, const void *payload, size_t len) {
    uint8_t f[127];
    assert_true(len <= 125);
    f[0] = b0;
    f[1] = (uint8_t)len;
    if (len) memcpy(f + 2, payload, len);
    tu_sp_write(p, f, 2 + len);
}

/* The request head, one byte per read so that nothing after it is taken. */
static size_t read_head(tu_sp *p, char *req, size_t cap) {
    size_t n = 0;
    while (n < cap - 1) {
        tu_sp_read(p, req + n, 1);
        n++;
        req[n] = 0;
        if (n >= 4 && memcmp(req + n - 4, "\r\n\r\n", 4) == 0) return n;
    }
    fail_msg("request head longer than %zu bytes", cap);
    return 0;
}

void tu_sp_upgrade(tu_sp *p, const char *path, char *req, size_t cap) {
    read_head(p, req, cap);
    char line[256];
    int ll = snprintf(line, sizeof line, "GET %s HTTP/1.1\r\n", path);
    assert_int_equal(strncmp(req, line, (size_t)ll), 0);
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    assert_non_null(k);
    k += 19;
    char accept[29];
    assert_int_equal(wsc_handshake_accept(k, 24, accept), WSC_OK);
    char resp[256];
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    tu_sp_write(p, resp, (size_t)rl);
}

void tu_sp_refuse(tu_sp *p, int status) {
    char req[4096];
    read_head(p, req, sizeof req);
    char resp[128];
    /* A redirect names where to, as a real server's does. */
    int rl = snprintf(resp, sizeof resp, "HTTP/1.1 %d No\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                      status, status >= 300 && status < 400 ? "Location: /elsewhere\r\n" : "");
    tu_sp_write(p, resp, (size_t)rl);
    tu_sp_hangup(p);
}

size_t tu_sp_masked_frame(uint8_t b0, const void *payload, size_t len, uint8_t *out) {
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    assert_true(len <= 125);
    out[0] = b0;
    out[1] = (uint8_t)(0x80 | len);
    memcpy(out + 2, mask, 4);
    for (size_t i = 0; i < len; i++) out[6 + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
    return 6 + len;
}

void tu_sp_client_send(tu_sp *p, uint8_t b0, const void *payload, size_t len) {
    uint8_t f[131];
    tu_sp_write(p, f, tu_sp_masked_frame(b0, payload, len, f));
}
