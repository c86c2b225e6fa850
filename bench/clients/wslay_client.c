/*
 * wslay_client.c - the `bench` contract on wslay 1.1.1 (libwslay-dev).
 *
 *   wslay_client latency    ws://127.0.0.1:PORT/ COUNT SIZE
 *   wslay_client throughput ws://127.0.0.1:PORT/ TOTAL_BYTES SIZE
 *   wslay_client conns      ws://127.0.0.1:PORT/ N
 *
 * wslay is a frame/event library without I/O: as its documentation and
 * examples do, this program does the opening handshake itself (HTTP/1.1
 * Upgrade, Sec-WebSocket-Accept checked with libcrypto's SHA-1), then drives
 * wslay's event API over a non-blocking socket with poll(): recv/send
 * callbacks on the socket, wslay_event_recv() when readable,
 * wslay_event_send() when it wants to write. Whole messages arrive in
 * on_msg_recv_callback (wslay's default buffering). No extension is offered
 * (no compression). Masking keys come from getrandom(), drawn 4 KiB at a time.
 * ws:// only: wslay has no TLS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "bench_util.h"

#define IO_TIMEOUT_MS 30000
#define MAX_IN_FLIGHT 64

typedef struct client {
    int fd;
    wslay_event_context_ptr ctx;
    /* what the echoes are checked against */
    int latency;
    size_t size;
    const uint8_t *expect; /* latency: the message sent; throughput: the constant tail */
    uint64_t received;
    int failed;
    const char *why;
} client;

static void fail(const char *fmt, const char *arg) {
    fprintf(stderr, "wslay_client: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static unsigned long long num(const char *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end) fail("bad number '%s'", s);
    return v;
}

/* --- randomness: masking keys and the handshake nonce ------------------- */

static uint8_t rnd_pool[4096];
static size_t rnd_left;

static void random_bytes(uint8_t *buf, size_t len) {
    while (len) {
        if (!rnd_left) {
            if (getrandom(rnd_pool, sizeof rnd_pool, 0) != (ssize_t)sizeof rnd_pool) fail("%s", "getrandom failed");
            rnd_left = sizeof rnd_pool;
        }
        size_t take = len < rnd_left ? len : rnd_left;
        memcpy(buf, rnd_pool + sizeof rnd_pool - rnd_left, take);
        rnd_left -= take;
        buf += take;
        len -= take;
    }
}

/* --- wslay callbacks --------------------------------------------------- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user) {
    (void)flags;
    client *c = user;
    ssize_t r;
    do r = recv(c->fd, buf, len, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (r == 0) { /* EOF */
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return r;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user) {
    client *c = user;
    ssize_t r;
    do r = send(c->fd, data, len, MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        wslay_event_set_error(ctx, errno == EAGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return r;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user) {
    (void)ctx;
    (void)user;
    random_bytes(buf, len);
    return 0;
}

static void check_fail(client *c, const char *why) {
    if (!c->failed) {
        c->failed = 1;
        c->why = why;
    }
}

static void on_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m, void *user) {
    (void)ctx;
    client *c = user;
    if (m->opcode == WSLAY_CONNECTION_CLOSE) {
        if (!c->failed && c->expect) check_fail(c, "the server closed the connection early");
        return;
    }
    if (m->opcode == WSLAY_PING || m->opcode == WSLAY_PONG) return; /* wslay answers pings itself */
    if (!c->expect) {
        check_fail(c, "unexpected message");
        return;
    }
    if (m->opcode != (c->latency ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME)) {
        check_fail(c, "echo has the wrong type");
        return;
    }
    if (m->msg_length != c->size) {
        check_fail(c, "echo has the wrong length");
        return;
    }
    if (c->latency) {
        if (memcmp(m->msg, c->expect, c->size) != 0) check_fail(c, "echo mismatch");
    } else {
        uint64_t idx = 0;
        for (int b = 0; b < 8; b++) idx |= (uint64_t)m->msg[b] << (8 * b);
        if (idx != c->received || memcmp(m->msg + 8, c->expect + 8, c->size - 8) != 0) check_fail(c, "echo mismatch");
    }
    c->received++;
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_msg_recv_callback = on_msg_cb,
};

/* --- connecting: TCP, then the opening handshake ------------------------ */

typedef struct url {
    struct sockaddr_in sa;
    char hostport[96];
    char path[512];
} url;

static url parse_url(const char *s) {
    url u;
    memset(&u, 0, sizeof u);
    u.sa.sin_family = AF_INET;
    char host[64];
    unsigned port;
    int n = 0;
    if (strncmp(s, "ws://", 5) != 0) fail("only ws:// URLs (wslay has no TLS): '%s'", s);
    if (sscanf(s, "ws://%63[^:/]:%u%n", host, &port, &n) != 2 || port > 65535 ||
        inet_pton(AF_INET, host, &u.sa.sin_addr) != 1)
        fail("bad URL '%s' (want ws://127.0.0.1:PORT/PATH)", s);
    u.sa.sin_port = htons((uint16_t)port);
    snprintf(u.hostport, sizeof u.hostport, "%s:%u", host, port);
    snprintf(u.path, sizeof u.path, "%s", s[n] ? s + n : "/");
    return u;
}

static void b64(const uint8_t *in, size_t n, char *out) {
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Blocking connect and handshake; returns the socket, non-blocking. */
static int ws_connect(const url *u) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)&u->sa, sizeof u->sa) < 0) fail("connect: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    uint8_t nonce[16];
    char key[32], accept_want[32];
    random_bytes(nonce, sizeof nonce);
    b64(nonce, sizeof nonce, key);
    char req[1024];
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                       u->path, u->hostport, key);
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) fail("handshake send: %s", strerror(errno));

    char concat[128];
    snprintf(concat, sizeof concat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)concat, strlen(concat), sha);
    b64(sha, sizeof sha, accept_want);

    /* Peek at the response until the blank line is in, then consume exactly
       that much, so that no frame byte which follows it is taken here. */
    char resp[4096];
    size_t have = 0;
    double deadline = now_s() + IO_TIMEOUT_MS / 1000.0;
    for (;;) {
        ssize_t r = recv(fd, resp, sizeof resp - 1, MSG_PEEK);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) fail("handshake: %s", r == 0 ? "connection closed" : strerror(errno));
        resp[r] = 0;
        char *end = strstr(resp, "\r\n\r\n");
        if (end) {
            have = (size_t)(end + 4 - resp);
            break;
        }
        if ((size_t)r == sizeof resp - 1) fail("%s", "handshake response too long");
        if (now_s() > deadline) fail("%s", "timed out in the handshake");
        usleep(100); /* a partial response (rare): the rest is on its way */
    }
    if (recv(fd, resp, have, 0) != (ssize_t)have) fail("%s", "handshake: short read");
    resp[have] = 0;
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) fail("handshake refused: %.40s", resp);
    int accepted = 0;
    for (char *line = strstr(resp, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
        char *h = line + 2;
        if (!strncasecmp(h, "Sec-WebSocket-Accept:", 21)) {
            h += 21;
            while (*h == ' ') h++;
            accepted = !strncmp(h, accept_want, strlen(accept_want)) && h[strlen(accept_want)] == '\r';
        } else if (!strncasecmp(h, "Sec-WebSocket-Extensions:", 25)) {
            fail("%s", "the server chose an extension that was not offered");
        }
    }
    if (!accepted) fail("%s", "bad Sec-WebSocket-Accept");
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl: %s", strerror(errno));
    return fd;
}

static void open_client(client *c, const url *u) {
    c->fd = ws_connect(u);
    if (wslay_event_context_client_init(&c->ctx, &callbacks, c) != 0) fail("%s", "wslay_event_context_client_init failed");
}

/* One wait for I/O, then whatever wslay wants done. */
static void pump(client *c) {
    struct pollfd p = {.fd = c->fd, .events = 0};
    if (wslay_event_want_read(c->ctx)) p.events |= POLLIN;
    if (wslay_event_want_write(c->ctx)) p.events |= POLLOUT;
    if (!p.events) fail("%s", "the connection was closed");
    int r = poll(&p, 1, IO_TIMEOUT_MS);
    if (r < 0 && errno == EINTR) return;
    if (r == 0) fail("%s", "timed out waiting for the server");
    if (r < 0) fail("poll: %s", strerror(errno));
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(c->ctx) != 0)
        fail("%s", "receive failed (connection closed or protocol error)");
    if ((p.revents & POLLOUT) && wslay_event_send(c->ctx) != 0) fail("%s", "send failed");
}

/* The closing handshake, bounded (not timed). */
static void close_client(client *c) {
    c->expect = NULL;
    wslay_event_queue_close(c->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
    double deadline = now_s() + 2;
    while ((wslay_event_want_read(c->ctx) || wslay_event_want_write(c->ctx)) && now_s() < deadline) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN | (wslay_event_want_write(c->ctx) ? POLLOUT : 0)};
        if (poll(&p, 1, 100) <= 0) continue;
        if (p.revents & POLLOUT && wslay_event_send(c->ctx) != 0) break;
        if (p.revents & (POLLIN | POLLHUP | POLLERR) && wslay_event_recv(c->ctx) != 0) break;
    }
    wslay_event_context_free(c->ctx);
    close(c->fd);
}

static void latency(const url *u, uint64_t count, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    client c = {.latency = 1, .size = size};
    open_client(&c, u);
    uint8_t *msg = malloc(size);
    if (!msg) fail("%s", "out of memory");
    for (size_t j = 8; j < size; j++) msg[j] = (uint8_t)('a' + j % 26);
    c.expect = msg;
    double t0 = now_s();
    for (uint64_t i = 0; i < count; i++) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", (unsigned)i);
        memcpy(msg, hex, 8);
        struct wslay_event_msg m = {.opcode = WSLAY_TEXT_FRAME, .msg = msg, .msg_length = size};
        if (wslay_event_queue_msg(c.ctx, &m) != 0) fail("%s", "wslay_event_queue_msg failed");
        if (wslay_event_send(c.ctx) != 0) fail("%s", "send failed");
        while (c.received == i && !c.failed) pump(&c);
        if (c.failed) fail("%s", c.why);
    }
    double t = now_s() - t0;
    close_client(&c);
    printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
           (unsigned long long)(count * size), t);
}

static void throughput(const url *u, uint64_t total, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    uint64_t count = (total + size - 1) / size;
    client c = {.latency = 0, .size = size};
    open_client(&c, u);
    uint8_t *msg = malloc(size);
    if (!msg) fail("%s", "out of memory");
    for (size_t j = 8; j < size; j++) msg[j] = (uint8_t)((j * 31 + 7) & 0xff);
    c.expect = msg; /* only bytes 8.. are compared against it */
    uint64_t sent = 0;
    double t0 = now_s();
    while (c.received < count) {
        int queued = 0;
        while (sent < count && sent - c.received < MAX_IN_FLIGHT) {
            for (int b = 0; b < 8; b++) msg[b] = (uint8_t)(sent >> (8 * b));
            struct wslay_event_msg m = {.opcode = WSLAY_BINARY_FRAME, .msg = msg, .msg_length = size};
            if (wslay_event_queue_msg(c.ctx, &m) != 0) fail("%s", "wslay_event_queue_msg failed");
            sent++;
            queued = 1;
        }
        if (queued && wslay_event_send(c.ctx) != 0) fail("%s", "send failed");
        pump(&c);
        if (c.failed) fail("%s", c.why);
    }
    double t = now_s() - t0;
    close_client(&c);
    printf("RESULT throughput msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
           (unsigned long long)(count * size), t);
}

static void conns(const url *u, uint64_t n) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    client *cs = calloc(n, sizeof *cs);
    if (!cs) fail("%s", "out of memory");
    long base = rss_kb();
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) open_client(&cs[i], u);
    double t = now_s() - t0;
    long rss = rss_kb();
    printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld bytes_per_conn=%lld\n", t,
           (unsigned long long)n, base, rss, (long long)((rss - base) * 1024 / (long long)n));
    fflush(stdout);
    for (uint64_t i = 0; i < n; i++) {
        wslay_event_context_free(cs[i].ctx);
        close(cs[i].fd);
    }
    free(cs);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: wslay_client latency|throughput URL COUNT|TOTAL SIZE\n"
                        "       wslay_client conns URL N\n");
        return 2;
    }
    url u = parse_url(argv[2]);
    if (!strcmp(argv[1], "latency") && argc == 5) latency(&u, num(argv[3]), num(argv[4]));
    else if (!strcmp(argv[1], "throughput") && argc == 5) throughput(&u, num(argv[3]), num(argv[4]));
    else if (!strcmp(argv[1], "conns") && argc == 4 && num(argv[3]) > 0) conns(&u, num(argv[3]));
    else fail("bad arguments for mode '%s'", argv[1]);
    return 0;
}
