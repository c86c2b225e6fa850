/*
 * raw_client.c - the physical floor: the `bench` contract over plain TCP,
 * each message framed by a 4-byte big-endian length (raw_server.c echoes it).
 *
 *   raw_client latency    tcp://127.0.0.1:PORT/ COUNT SIZE
 *   raw_client throughput tcp://127.0.0.1:PORT/ TOTAL_BYTES SIZE
 *   raw_client conns      tcp://127.0.0.1:PORT/ N
 *
 * Same message contents, same checks and the same output line as every
 * WebSocket client of bench/: only the framing differs (4 bytes instead of a
 * 2-14 byte WebSocket header, no masking, no handshake).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define IO_TIMEOUT_MS 30000
#define MAX_IN_FLIGHT 64

static void fail(const char *fmt, const char *arg) {
    fprintf(stderr, "raw_client: ");
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

static struct sockaddr_in parse_url(const char *url) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64];
    unsigned port;
    if (sscanf(url, "tcp://%63[^:]:%u", host, &port) != 2 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        fail("bad URL '%s' (want tcp://127.0.0.1:PORT/)", url);
    sa.sin_port = htons((uint16_t)port);
    return sa;
}

static int dial(const struct sockaddr_in *sa) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) fail("connect: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* COUNT serial round trips of a SIZE-byte text message. */
static void latency(const struct sockaddr_in *sa, uint64_t count, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    int fd = dial(sa);
    uint8_t *msg = malloc(size + 4), *echo = malloc(size + 4);
    if (!msg || !echo) fail("%s", "out of memory");
    put_be32(msg, (uint32_t)size);
    for (size_t j = 8; j < size; j++) msg[4 + j] = (uint8_t)('a' + j % 26);
    double t0 = now_s();
    for (uint64_t i = 0; i < count; i++) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", (unsigned)i);
        memcpy(msg + 4, hex, 8);
        size_t off = 0;
        while (off < size + 4) {
            ssize_t w = send(fd, msg + off, size + 4 - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) fail("send: %s", strerror(errno));
            off += (size_t)w;
        }
        off = 0;
        while (off < size + 4) {
            ssize_t r = recv(fd, echo + off, size + 4 - off, 0);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) fail("recv: %s", strerror(errno));
            if (r == 0) fail("%s", "the server closed the connection early");
            off += (size_t)r;
        }
        if (memcmp(echo, msg, size + 4) != 0) fail("%s", "echo mismatch");
    }
    double t = now_s() - t0;
    close(fd);
    printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
           (unsigned long long)(count * size), t);
}

/* Binary messages, at most 64 in flight, until ceil(TOTAL/SIZE) echoes are back. */
static void throughput(const struct sockaddr_in *sa, uint64_t total, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    uint64_t count = (total + size - 1) / size;
    int fd = dial(sa);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl: %s", strerror(errno));
    size_t frame = size + 4;
    uint8_t *tmpl = malloc(size);
    /* output: up to 64 frames, but not much more than 256 KiB at a time */
    size_t out_cap = frame * MAX_IN_FLIGHT < (1u << 18) ? frame * MAX_IN_FLIGHT : ((1u << 18) > frame ? (1u << 18) : frame);
    size_t in_cap = 2 * frame > (1u << 18) ? 2 * frame : (1u << 18);
    uint8_t *out = malloc(out_cap), *in = malloc(in_cap);
    if (!tmpl || !out || !in) fail("%s", "out of memory");
    for (size_t j = 8; j < size; j++) tmpl[j] = (uint8_t)((j * 31 + 7) & 0xff);
    size_t out_len = 0, out_off = 0, in_len = 0;
    uint64_t sent = 0, received = 0;
    double t0 = now_s();
    while (received < count) {
        /* queue frames while the window allows */
        if (out_off == out_len) out_off = out_len = 0;
        while (sent < count && sent - received < MAX_IN_FLIGHT && out_len + frame <= out_cap) {
            uint8_t *p = out + out_len;
            put_be32(p, (uint32_t)size);
            for (int b = 0; b < 8; b++) p[4 + b] = (uint8_t)(sent >> (8 * b));
            memcpy(p + 12, tmpl + 8, size - 8);
            out_len += frame;
            sent++;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (out_off < out_len ? POLLOUT : 0)};
        int r = poll(&p, 1, IO_TIMEOUT_MS);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) fail("%s", "timed out waiting for the server");
        if (r < 0) fail("poll: %s", strerror(errno));
        if ((p.revents & POLLOUT) && out_off < out_len) {
            ssize_t w = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) fail("send: %s", strerror(errno));
            if (w > 0) out_off += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, in + in_len, in_cap - in_len, 0);
            if (n == 0) fail("%s", "the server closed the connection early");
            if (n < 0 && errno != EAGAIN && errno != EINTR) fail("recv: %s", strerror(errno));
            if (n > 0) in_len += (size_t)n;
            size_t pos = 0;
            while (in_len - pos >= frame) {
                const uint8_t *m = in + pos;
                if (get_be32(m) != size) fail("%s", "echo has the wrong length");
                uint64_t idx = 0;
                for (int b = 0; b < 8; b++) idx |= (uint64_t)m[4 + b] << (8 * b);
                if (idx != received || memcmp(m + 12, tmpl + 8, size - 8) != 0) fail("%s", "echo mismatch");
                received++;
                pos += frame;
            }
            if (in_len - pos >= 4 && get_be32(in + pos) != size) fail("%s", "echo has the wrong length");
            if (pos) {
                memmove(in, in + pos, in_len - pos);
                in_len -= pos;
            }
        }
    }
    double t = now_s() - t0;
    close(fd);
    printf("RESULT throughput msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
           (unsigned long long)(count * size), t);
}

/* N open connections, then the memory they cost. */
static void conns(const struct sockaddr_in *sa, uint64_t n) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int *fds = malloc(n * sizeof *fds);
    if (!fds) fail("%s", "out of memory");
    long base = rss_kb();
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) fds[i] = dial(sa);
    double t = now_s() - t0;
    long rss = rss_kb();
    printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld bytes_per_conn=%lld\n", t,
           (unsigned long long)n, base, rss, (long long)((rss - base) * 1024 / (long long)n));
    fflush(stdout);
    for (uint64_t i = 0; i < n; i++) close(fds[i]);
    free(fds);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: raw_client latency|throughput URL COUNT|TOTAL SIZE\n"
                        "       raw_client conns URL N\n");
        return 2;
    }
    struct sockaddr_in sa = parse_url(argv[2]);
    if (!strcmp(argv[1], "latency") && argc == 5) latency(&sa, num(argv[3]), num(argv[4]));
    else if (!strcmp(argv[1], "throughput") && argc == 5) throughput(&sa, num(argv[3]), num(argv[4]));
    else if (!strcmp(argv[1], "conns") && argc == 4 && num(argv[3]) > 0) conns(&sa, num(argv[3]));
    else fail("bad arguments for mode '%s'", argv[1]);
    return 0;
}
