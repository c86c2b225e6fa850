/*
 * fanout_client.c - the load generator of the server benchmark (bench/run.py
 * --sections broadcast): N WebSocket connections to a broadcast server, one
 * of them sends M binary messages of SIZE bytes, every connection (the
 * sender too: the server sends each message to every client, as `wsc serve
 * --broadcast`, node ws's broadcast example and websockets.broadcast() do)
 * must receive all M, in order, each checked in full.
 *
 *   fanout_client [--server-pid PID] ws://127.0.0.1:PORT/ N M SIZE
 *
 * Output, one line on stdout:
 *   RESULT broadcast msgs=<deliveries> bytes=<deliveries*SIZE> seconds=<s>
 *     conns=<N> sent=<M> open_seconds=<s> server_base_kb=<n>
 *     server_open_kb=<n> server_hwm_kb=<n> server_cpu_seconds=<s>
 * msgs = N * M deliveries received and checked; seconds from the first send
 * to the last delivery; open_seconds the time to open all N. With
 * --server-pid, the server's VmRSS before the first connection, VmRSS with
 * all N open (idle, before the first message) and VmHWM after the last
 * delivery, read from /proc/PID/status, and the CPU time of the server's
 * main thread over the broadcast (/proc/PID/schedstat), else -1. Any error, close or
 * mismatch: a line on stderr, nothing on stdout, exit 1. 30 s without
 * progress is an error.
 *
 * One thread, epoll (level-triggered), non-blocking sockets. Handshakes run
 * 256 at a time (the server's listen backlog). The sender keeps at most 16
 * messages in flight, counted over all receivers: message k may go out when
 * fewer than 16 * N deliveries are outstanding, so the server is never asked
 * to queue more than about 16 messages per connection. The sender's frames
 * are prebuilt and masked once (frames_client.c's technique): the load
 * generator should cost as little as possible beside the server. Receivers
 * read into one shared buffer; only a frame cut by a read boundary is copied
 * into the connection's own carry buffer (allocated when first needed), so
 * an idle receiver costs a few dozen bytes here.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define IDLE_TIMEOUT_S 30.0
#define MAX_CONNECTING 256
#define WINDOW 16

static void fail(const char *fmt, const char *arg) {
    fprintf(stderr, "fanout_client: ");
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

enum { C_CONNECTING, C_HANDSHAKE, C_OPEN };

typedef struct conn {
    int fd;
    uint8_t state;
    uint16_t hs_len;  /* handshake response bytes so far (in carry) */
    uint32_t have;    /* bytes of a cut frame in carry */
    uint64_t next;    /* the message number expected next */
    uint8_t *carry;   /* handshake response, then a frame cut by a read */
    char key[28];     /* Sec-WebSocket-Key (base64 of 16 bytes, NUL-terminated: 25) */
} conn;

static struct sockaddr_in sa;
static char hostport[80], path[256] = "/";
static int ep;
static conn *conns;
static uint64_t n_conns, n_msgs, size, echo_len, wh;
static uint8_t want_head[10], *want_tail; /* the frame every receiver must get, but bytes 0-7 */
static uint64_t delivered, opened, started;
static double last_progress;

static long proc_kb(long pid, const char *field) {
    if (pid <= 0) return -1;
    char p[64], line[256];
    snprintf(p, sizeof p, "/proc/%ld/status", pid);
    FILE *f = fopen(p, "r");
    long kb = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') kb = strtol(line + fl + 1, NULL, 10);
    if (f) fclose(f);
    return kb;
}

/* The server's main thread's CPU time in seconds (schedstat), or -1. */
static double proc_cpu_s(long pid) {
    if (pid <= 0) return -1;
    char p[64];
    snprintf(p, sizeof p, "/proc/%ld/schedstat", pid);
    FILE *f = fopen(p, "r");
    unsigned long long ns = 0;
    int ok = f && fscanf(f, "%llu", &ns) == 1;
    if (f) fclose(f);
    return ok ? (double)ns * 1e-9 : -1;
}

static size_t frame_head(uint8_t *h, int opcode, uint64_t len, int masked) {
    h[0] = (uint8_t)(0x80 | opcode);
    uint8_t m = masked ? 0x80 : 0;
    if (len < 126) {
        h[1] = (uint8_t)(m | len);
        return 2;
    }
    if (len < 65536) {
        h[1] = m | 126;
        h[2] = (uint8_t)(len >> 8), h[3] = (uint8_t)len;
        return 4;
    }
    h[1] = m | 127;
    for (int b = 0; b < 8; b++) h[2 + b] = (uint8_t)(len >> (56 - 8 * b));
    return 10;
}

static void start_connect(conn *c) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) fail("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (const struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
        fail("connect: %s", strerror(errno));
    c->state = C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) fail("epoll_ctl: %s", strerror(errno));
}

static void send_request(conn *c) {
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) fail("connect: %s", strerror(err));
    uint8_t nonce[16];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) fail("%s", "getrandom failed");
    EVP_EncodeBlock((unsigned char *)c->key, nonce, sizeof nonce);
    char req[512];
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                       path, hostport, c->key);
    if (send(c->fd, req, (size_t)len, MSG_NOSIGNAL) != len) fail("handshake send: %s", strerror(errno));
    c->state = C_HANDSHAKE;
    c->carry = malloc(echo_len > 1024 ? echo_len : 1024);
    if (!c->carry) fail("%s", "out of memory");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) fail("epoll_ctl: %s", strerror(errno));
}

/* Frames for connection c: whole ones checked in place, a cut one carried. */
static void deliver(conn *c, const uint8_t *p, size_t n) {
    while (n) {
        if (c->have || n < echo_len) {
            size_t take = echo_len - c->have < n ? echo_len - c->have : n;
            if (!c->carry && !(c->carry = malloc(echo_len))) fail("%s", "out of memory");
            memcpy(c->carry + c->have, p, take);
            c->have += (uint32_t)take, p += take, n -= take;
            if (c->have < echo_len) return;
            c->have = 0;
            deliver(c, c->carry, echo_len); /* one whole frame: no further recursion */
            continue;
        }
        uint8_t num8[8];
        for (int b = 0; b < 8; b++) num8[b] = (uint8_t)(c->next >> (8 * b));
        if (c->next >= n_msgs || memcmp(p, want_head, wh) || memcmp(p + wh, num8, 8) ||
            memcmp(p + wh + 8, want_tail, size - 8))
            fail("%s", "message mismatch (wrong frame, number or contents)");
        c->next++, delivered++;
        p += echo_len, n -= echo_len;
    }
}

static void read_handshake(conn *c) {
    ssize_t r = recv(c->fd, c->carry + c->hs_len, 1023 - c->hs_len, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (r <= 0) fail("handshake: %s", r == 0 ? "connection closed" : strerror(errno));
    c->hs_len += (uint16_t)r;
    c->carry[c->hs_len] = 0;
    char *end = strstr((char *)c->carry, "\r\n\r\n");
    if (!end) {
        if (c->hs_len >= 1023) fail("%s", "handshake response too long");
        return;
    }
    if (strncmp((char *)c->carry, "HTTP/1.1 101", 12) != 0) fail("handshake refused: %.40s", (char *)c->carry);
    char concat[96], want[32];
    uint8_t sha[SHA_DIGEST_LENGTH];
    snprintf(concat, sizeof concat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", c->key);
    SHA1((const unsigned char *)concat, strlen(concat), sha);
    EVP_EncodeBlock((unsigned char *)want, sha, sizeof sha);
    int accepted = 0;
    for (char *line = strstr((char *)c->carry, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        char *h = line + 2;
        if (!strncasecmp(h, "Sec-WebSocket-Accept:", 21)) {
            h += 21;
            while (*h == ' ') h++;
            accepted = !strncmp(h, want, strlen(want)) && h[strlen(want)] == '\r';
        } else if (!strncasecmp(h, "Sec-WebSocket-Extensions:", 25)) {
            fail("%s", "the server chose an extension that was not offered");
        }
    }
    if (!accepted) fail("%s", "bad Sec-WebSocket-Accept");
    size_t head = (size_t)(end + 4 - (char *)c->carry), extra = c->hs_len - head;
    uint8_t tmp[1024];
    memcpy(tmp, c->carry + head, extra);
    free(c->carry);
    c->carry = NULL, c->hs_len = 0, c->state = C_OPEN;
    opened++;
    if (extra) deliver(c, tmp, extra);
}

int main(int argc, char **argv) {
    long server_pid = -1;
    int a = 1;
    if (argc > 2 && !strcmp(argv[1], "--server-pid")) server_pid = (long)num(argv[2]), a = 3;
    if (argc - a != 4) {
        fprintf(stderr, "usage: fanout_client [--server-pid PID] ws://127.0.0.1:PORT/ N M SIZE\n");
        return 2;
    }
    char host[64];
    unsigned port;
    if (sscanf(argv[a], "ws://%63[^:]:%u%255s", host, &port, path) < 2 || port > 65535 ||
        inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        fail("bad URL '%s' (want ws://127.0.0.1:PORT/)", argv[a]);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    snprintf(hostport, sizeof hostport, "%s:%u", host, port);
    n_conns = num(argv[a + 1]), n_msgs = num(argv[a + 2]), size = num(argv[a + 3]);
    if (n_conns < 1 || size < 8 || size > (1u << 24)) fail("%s", "want N >= 1 and 8 <= SIZE <= 16 MiB");

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* the frame every receiver must get (bytes 0-7: its number) and the sender's prebuilt one */
    wh = frame_head(want_head, 0x2, size, 0);
    echo_len = wh + size;
    want_tail = malloc(size);
    uint8_t key[4], *tmpl = malloc(size + 14);
    if (!want_tail || !tmpl) fail("%s", "out of memory");
    for (size_t j = 8; j < size; j++) want_tail[j - 8] = (uint8_t)((j * 31 + 7) & 0xff);
    if (getrandom(key, 4, 0) != 4) fail("%s", "getrandom failed");
    size_t sh = frame_head(tmpl, 0x2, size, 1);
    memcpy(tmpl + sh, key, 4);
    sh += 4;
    for (size_t j = 8; j < size; j++) tmpl[sh + j] = want_tail[j - 8] ^ key[j & 3];
    size_t frame = sh + size;

    conns = calloc(n_conns, sizeof *conns);
    uint8_t *rbuf = malloc(1 << 16);
    if (!conns || !rbuf) fail("%s", "out of memory");
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) fail("epoll_create1: %s", strerror(errno));
    long server_base = proc_kb(server_pid, "VmRSS");

    /* open all N */
    double t0 = now_s();
    last_progress = t0;
    struct epoll_event evs[256];
    while (opened < n_conns) {
        while (started < n_conns && started - opened < MAX_CONNECTING) start_connect(&conns[started++]);
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (c->state == C_CONNECTING) send_request(c);
            else if (c->state == C_HANDSHAKE) read_handshake(c);
            else fail("%s", "a message before the broadcast began");
            last_progress = now_s();
        }
        if (now_s() - last_progress > IDLE_TIMEOUT_S) fail("%s", "no handshake completed for 30 s");
    }
    double open_s = now_s() - t0;
    long server_open = proc_kb(server_pid, "VmRSS");

    /* the broadcast: conns[0] sends, all receive */
    conn *snd = &conns[0];
    uint8_t *out = malloc(frame * WINDOW);
    if (!out) fail("%s", "out of memory");
    size_t out_len = 0, out_off = 0;
    uint64_t sent = 0, total = n_conns * n_msgs;
    int want_out = 0;
    double cpu0 = proc_cpu_s(server_pid), t1 = now_s();
    last_progress = t1;
    while (delivered < total) {
        if (out_off == out_len) out_off = out_len = 0;
        while (sent < n_msgs && sent * n_conns - delivered < WINDOW * n_conns && out_len + frame <= frame * WINDOW) {
            uint8_t *p = out + out_len;
            memcpy(p, tmpl, frame);
            for (int b = 0; b < 8; b++) p[sh + b] = (uint8_t)(sent >> (8 * b)) ^ key[b & 3];
            out_len += frame, sent++;
        }
        if (out_off < out_len) {
            ssize_t w = send(snd->fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) fail("send: %s", strerror(errno));
            if (w > 0) out_off += (size_t)w;
        }
        int need_out = out_off < out_len;
        if (need_out != want_out) {
            struct epoll_event ev = {.events = EPOLLIN | (need_out ? EPOLLOUT : 0), .data.ptr = snd};
            if (epoll_ctl(ep, EPOLL_CTL_MOD, snd->fd, &ev) < 0) fail("epoll_ctl: %s", strerror(errno));
            want_out = need_out;
        }
        int k = epoll_wait(ep, evs, 256, 1000);
        if (k < 0 && errno != EINTR) fail("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (!(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            ssize_t r = recv(c->fd, rbuf, 1 << 16, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) fail("recv: %s", r == 0 ? "the server closed a connection" : strerror(errno));
            deliver(c, rbuf, (size_t)r);
            last_progress = now_s();
        }
        if (now_s() - last_progress > IDLE_TIMEOUT_S) fail("%s", "no delivery for 30 s");
    }
    double secs = now_s() - t1, cpu1 = proc_cpu_s(server_pid);
    long server_hwm = proc_kb(server_pid, "VmHWM");
    printf("RESULT broadcast msgs=%llu bytes=%llu seconds=%.6f conns=%llu sent=%llu open_seconds=%.6f "
           "server_base_kb=%ld server_open_kb=%ld server_hwm_kb=%ld server_cpu_seconds=%.6f\n",
           (unsigned long long)delivered, (unsigned long long)(delivered * size), secs, (unsigned long long)n_conns,
           (unsigned long long)n_msgs, open_s, server_base, server_open, server_hwm,
           cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1.0);
    fflush(stdout);
    return 0; /* the kernel closes the N sockets */
}
