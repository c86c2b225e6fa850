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
 *
 * tls://127.0.0.1:PORT/ (raw_server --tls-cert/--tls-key) is the TLS floor:
 * the same exchange over OpenSSL (raw_tls.h), the certificate verified
 * against OpenSSL's default store (SSL_CERT_FILE) and the address 127.0.0.1.
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
#include "raw_tls.h"

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

static SSL_CTX *tls_ctx; /* tls:// URLs */

static struct sockaddr_in parse_url(const char *url) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char scheme[4], host[64];
    unsigned port;
    if (sscanf(url, "%3[a-z]://%63[^:]:%u", scheme, host, &port) != 3 || port > 65535 ||
        (strcmp(scheme, "tcp") && strcmp(scheme, "tls")) || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        fail("bad URL '%s' (want tcp://127.0.0.1:PORT/ or tls://127.0.0.1:PORT/)", url);
    sa.sin_port = htons((uint16_t)port);
    if (!strcmp(scheme, "tls")) {
        tls_ctx = SSL_CTX_new(TLS_client_method());
        if (!tls_ctx || SSL_CTX_set_default_verify_paths(tls_ctx) != 1) fail("%s", "TLS set-up failed");
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
        tls_modes(tls_ctx);
    }
    return sa;
}

/* A connected (and for tls://, TLS-established and verified) blocking stream. */
static stream dial(const struct sockaddr_in *sa) {
    stream s = {.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), .ssl = NULL};
    if (s.fd < 0) fail("socket: %s", strerror(errno));
    if (connect(s.fd, (const struct sockaddr *)sa, sizeof *sa) < 0) fail("connect: %s", strerror(errno));
    int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (tls_ctx) {
        s.ssl = SSL_new(tls_ctx);
        if (!s.ssl || SSL_set_fd(s.ssl, s.fd) != 1 ||
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s.ssl), "127.0.0.1") != 1)
            fail("%s", "TLS set-up failed");
        if (SSL_connect(s.ssl) != 1) {
            char e[256];
            ERR_error_string_n(ERR_get_error(), e, sizeof e);
            fail("TLS handshake failed: %s", e);
        }
    }
    return s;
}

static void hang_up(stream *s) {
    if (s->ssl) {
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
    }
    close(s->fd);
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
    stream st = dial(sa);
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
            ssize_t w = stream_write(&st, msg + off, size + 4 - off, NULL);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) fail("send: %s", strerror(errno));
            off += (size_t)w;
        }
        off = 0;
        while (off < size + 4) {
            ssize_t r = stream_read(&st, echo + off, size + 4 - off, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) fail("recv: %s", strerror(errno));
            if (r == 0) fail("%s", "the server closed the connection early");
            off += (size_t)r;
        }
        if (memcmp(echo, msg, size + 4) != 0) fail("%s", "echo mismatch");
    }
    double t = now_s() - t0;
    hang_up(&st);
    printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
           (unsigned long long)(count * size), t);
}

/* Binary messages, at most 64 in flight, until ceil(TOTAL/SIZE) echoes are back. */
static void throughput(const struct sockaddr_in *sa, uint64_t total, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    uint64_t count = (total + size - 1) / size;
    stream st = dial(sa);
    int fd = st.fd;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl: %s", strerror(errno));
    short wwant = POLLOUT, rwant = POLLIN; /* what the last blocked write / read waits for */
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
        struct pollfd p = {.fd = fd, .events = (short)(rwant | (out_off < out_len ? wwant : 0))};
        int r = 1;
        if (stream_pending(&st) > 0) p.revents = POLLIN; /* bytes already decrypted: no wait */
        else r = poll(&p, 1, IO_TIMEOUT_MS);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) fail("%s", "timed out waiting for the server");
        if (r < 0) fail("poll: %s", strerror(errno));
        short ready = p.revents & (POLLHUP | POLLERR) ? (POLLIN | POLLOUT) : p.revents;
        if ((ready & wwant) && out_off < out_len) {
            ssize_t w = stream_write(&st, out + out_off, out_len - out_off, &wwant);
            if (w < 0 && errno != EAGAIN && errno != EINTR) fail("send: %s", strerror(errno));
            if (w > 0) out_off += (size_t)w, wwant = POLLOUT;
        }
        if (ready & rwant) {
            /* TLS hands out one record (at most 16 KiB) per read: read on while
               records are there, as one recv() takes all the plain bytes */
            ssize_t n;
            do {
                n = stream_read(&st, in + in_len, in_cap - in_len, &rwant);
                if (n == 0) fail("%s", "the server closed the connection early");
                if (n < 0 && errno != EAGAIN && errno != EINTR) fail("recv: %s", strerror(errno));
                if (n > 0) in_len += (size_t)n, rwant = POLLIN;
            } while (st.ssl && n > 0 && in_len < in_cap);
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
    hang_up(&st);
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
    stream *fds = malloc(n * sizeof *fds);
    if (!fds) fail("%s", "out of memory");
    long base = rss_kb();
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) fds[i] = dial(sa);
    double t = now_s() - t0;
    long rss = rss_kb();
    printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld bytes_per_conn=%lld\n", t,
           (unsigned long long)n, base, rss, (long long)((rss - base) * 1024 / (long long)n));
    fflush(stdout);
    for (uint64_t i = 0; i < n; i++) hang_up(&fds[i]);
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
