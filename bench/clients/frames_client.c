/*
 * frames_client.c - the WebSocket floor: the `bench` contract done with
 * nothing but prebuilt frames, the least work any WebSocket client can do on
 * a given echo server.
 *
 *   frames_client latency    ws://127.0.0.1:PORT/ COUNT SIZE
 *   frames_client throughput ws://127.0.0.1:PORT/ TOTAL_BYTES SIZE
 *
 * One handshake (blocking, Sec-WebSocket-Accept checked), then every message
 * is a frame built once: header, one masking key for the whole run, the
 * payload masked in advance. Per message only the 8 bytes that carry its
 * number are written (and masked: 4-byte aligned, so the same key bytes).
 * Every echo is compared with memcmp, header and payload at once, against
 * the unmasked frame the server must send back (one final frame, no
 * extension, no RSV bits): a server that fragments or sends anything else
 * (a ping, a close) fails the run, which is what a floor may assume.
 * latency: one blocking send() and recv() until the whole echo is in.
 * throughput: non-blocking, poll(), up to 64 messages in flight, written
 * with writev(): frames up to 4 KiB from a ring of 64 prebuilt whole frames
 * (consecutive messages contiguous, one or two iovecs), larger ones straight
 * from the prebuilt parts (a 22-byte head per message plus the shared masked
 * tail: no copy of the payload); echoes parsed in place.
 * What it leaves out, and a real client cannot: per-message masking of the
 * whole payload with a fresh key (RFC 6455 5.3), UTF-8 validation of text,
 * fragment reassembly, control frames, any API above the socket. The
 * difference between a client and this floor is what those cost plus the
 * client's own overhead; the raw-TCP floor (raw_client) is below both.
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
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench_util.h"

#define IO_TIMEOUT_MS 30000
#define MAX_IN_FLIGHT 64

static void fail(const char *fmt, const char *arg) {
    fprintf(stderr, "frames_client: ");
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

/* ws://127.0.0.1:PORT/path: the address, "host:port" and the path. */
static int ws_connect(const char *url) {
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char host[64], path[256] = "/";
    unsigned port;
    if (sscanf(url, "ws://%63[^:]:%u%255s", host, &port, path) < 2 || port > 65535 ||
        inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        fail("bad URL '%s' (want ws://127.0.0.1:PORT/)", url);
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) < 0) fail("connect: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    uint8_t nonce[16];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) fail("%s", "getrandom failed");
    char key[32], want[32], concat[96];
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof nonce);
    char req[512];
    int len = snprintf(req, sizeof req,
                       "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                       path, host, port, key);
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) fail("handshake send: %s", strerror(errno));
    snprintf(concat, sizeof concat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)concat, strlen(concat), sha);
    EVP_EncodeBlock((unsigned char *)want, sha, sizeof sha);

    /* Read the response a byte at a time up to the blank line, so that no
       frame byte after it is consumed here (once per run: the cost is nil). */
    char resp[4096];
    size_t have = 0;
    while (have < 4 || memcmp(resp + have - 4, "\r\n\r\n", 4) != 0) {
        if (have == sizeof resp - 1) fail("%s", "handshake response too long");
        ssize_t r = recv(fd, resp + have, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) fail("handshake: %s", r == 0 ? "connection closed" : strerror(errno));
        have++;
    }
    resp[have] = 0;
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) fail("handshake refused: %.40s", resp);
    int accepted = 0;
    for (char *line = strstr(resp, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
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
    return fd;
}

/* A frame header for `len` bytes: 2, 4 or 10 bytes (+4 with the mask bit). */
static size_t frame_head(uint8_t *h, int opcode, size_t len, int masked) {
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
    for (int b = 0; b < 8; b++) h[2 + b] = (uint8_t)((uint64_t)len >> (56 - 8 * b));
    return 10;
}

static uint8_t mask_key[4];

/* `n` bytes of payload from offset `off` (a multiple of 4), masked. */
static void mask_into(uint8_t *dst, const uint8_t *src, size_t n) {
    for (size_t j = 0; j < n; j++) dst[j] = src[j] ^ mask_key[j & 3];
}

/* COUNT serial round trips of a SIZE-byte text message. */
static void latency(const char *url, uint64_t count, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    int fd = ws_connect(url);
    uint8_t *plain = malloc(size), *out = malloc(size + 14), *want = malloc(size + 10), *in = malloc(size + 10);
    if (!plain || !out || !want || !in) fail("%s", "out of memory");
    for (size_t j = 8; j < size; j++) plain[j] = (uint8_t)('a' + j % 26);
    size_t oh = frame_head(out, 0x1, size, 1);
    memcpy(out + oh, mask_key, 4);
    oh += 4;
    mask_into(out + oh + 8, plain + 8, size - 8); /* the constant part, once */
    size_t wh = frame_head(want, 0x1, size, 0), wlen = wh + size;
    memcpy(want + wh + 8, plain + 8, size - 8);
    double t0 = now_s();
    for (uint64_t i = 0; i < count; i++) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", (unsigned)i);
        mask_into(out + oh, (const uint8_t *)hex, 8);
        memcpy(want + wh, hex, 8);
        for (size_t off = 0; off < oh + size;) {
            ssize_t w = send(fd, out + off, oh + size - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) fail("send: %s", strerror(errno));
            off += (size_t)w;
        }
        for (size_t off = 0; off < wlen;) {
            ssize_t r = recv(fd, in + off, wlen - off, 0);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) fail("recv: %s", strerror(errno));
            if (r == 0) fail("%s", "the server closed the connection early");
            off += (size_t)r;
        }
        if (memcmp(in, want, wlen) != 0) fail("%s", "echo mismatch");
    }
    double t = now_s() - t0;
    close(fd);
    printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)count,
           (unsigned long long)(count * size), t);
}

/* Binary messages, at most 64 in flight, until ceil(TOTAL/SIZE) echoes are back. */
static void throughput(const char *url, uint64_t total, size_t size) {
    if (size < 8) fail("%s", "SIZE must be >= 8");
    uint64_t count = (total + size - 1) / size;
    int fd = ws_connect(url);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl: %s", strerror(errno));
    uint8_t *plain = malloc(size), *tail = malloc(size);
    if (!plain || !tail) fail("%s", "out of memory");
    for (size_t j = 8; j < size; j++) plain[j] = (uint8_t)((j * 31 + 7) & 0xff);
    mask_into(tail, plain + 8, size - 8); /* bytes 8.. of every frame, masked once */
    /* each in-flight message's head: header + key + its masked number */
    uint8_t heads[MAX_IN_FLIGHT][24];
    size_t hlen = frame_head(heads[0], 0x2, size, 1) + 4;
    uint8_t want_head[10];
    size_t wh = frame_head(want_head, 0x2, size, 0), echo_len = wh + size, frame_len = hlen + 8 + size - 8;
    size_t in_cap = 2 * echo_len > (1u << 18) ? 2 * echo_len : (1u << 18);
    uint8_t *in = malloc(in_cap);
    if (!in) fail("%s", "out of memory");
    /* Small frames: 64 whole prebuilt frames side by side, a ring, so that
       consecutive messages are one contiguous run (at most 2 iovecs: 128
       tiny iovecs cost the kernel more than the bytes). Large frames: the
       22-byte heads and the one shared tail, no payload copy at all. */
    uint8_t *ring = frame_len <= 4096 ? malloc(MAX_IN_FLIGHT * frame_len) : NULL;
    for (int k = 0; ring && k < MAX_IN_FLIGHT; k++) {
        uint8_t *f = ring + (size_t)k * frame_len;
        frame_head(f, 0x2, size, 1);
        memcpy(f + hlen - 4, mask_key, 4);
        memcpy(f + hlen + 8, tail, size - 8);
    }
    uint64_t queued = 0, written = 0, received = 0; /* messages made, fully written, echoed */
    size_t woff = 0;                                /* bytes of message `written` already out */
    size_t in_len = 0;
    double t0 = now_s();
    while (received < count) {
        while (queued < count && queued - received < MAX_IN_FLIGHT) {
            uint8_t *h = ring ? ring + (queued % MAX_IN_FLIGHT) * frame_len : heads[queued % MAX_IN_FLIGHT], num8[8];
            if (!ring) {
                frame_head(h, 0x2, size, 1);
                memcpy(h + hlen - 4, mask_key, 4);
            }
            for (int b = 0; b < 8; b++) num8[b] = (uint8_t)(queued >> (8 * b));
            mask_into(h + hlen, num8, 8);
            queued++;
        }
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (written < queued ? POLLOUT : 0))};
        int r = poll(&p, 1, IO_TIMEOUT_MS);
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) fail("%s", "timed out waiting for the server");
        if (r < 0) fail("poll: %s", strerror(errno));
        if ((p.revents & (POLLOUT | POLLERR | POLLHUP)) && written < queued) {
            struct iovec iov[2 * MAX_IN_FLIGHT];
            int n = 0;
            for (uint64_t k = written; k < queued; k++) {
                size_t skip = k == written ? woff : 0, hl = hlen + 8;
                if (ring) {
                    uint8_t *f = ring + (k % MAX_IN_FLIGHT) * frame_len + skip;
                    if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == f) iov[n - 1].iov_len += frame_len - skip;
                    else iov[n++] = (struct iovec){f, frame_len - skip};
                    continue;
                }
                if (skip < hl) iov[n++] = (struct iovec){heads[k % MAX_IN_FLIGHT] + skip, hl - skip};
                size_t ts = skip > hl ? skip - hl : 0;
                if (size - 8 > ts) iov[n++] = (struct iovec){tail + ts, size - 8 - ts};
            }
            ssize_t w = writev(fd, iov, n);
            if (w < 0 && errno != EAGAIN && errno != EINTR) fail("writev: %s", strerror(errno));
            for (size_t left = w > 0 ? (size_t)w : 0; left;) {
                size_t rest = frame_len - woff;
                if (left < rest) {
                    woff += left;
                    break;
                }
                left -= rest, woff = 0, written++;
            }
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = recv(fd, in + in_len, in_cap - in_len, 0);
            if (n == 0) fail("%s", "the server closed the connection early");
            if (n < 0 && errno != EAGAIN && errno != EINTR) fail("recv: %s", strerror(errno));
            if (n > 0) in_len += (size_t)n;
            size_t pos = 0;
            while (in_len - pos >= echo_len) {
                const uint8_t *m = in + pos;
                uint8_t num8[8];
                for (int b = 0; b < 8; b++) num8[b] = (uint8_t)(received >> (8 * b));
                if (memcmp(m, want_head, wh) || memcmp(m + wh, num8, 8) || memcmp(m + wh + 8, plain + 8, size - 8))
                    fail("%s", "echo mismatch");
                received++;
                pos += echo_len;
            }
            if (in_len - pos >= wh && memcmp(in + pos, want_head, wh)) fail("%s", "echo mismatch");
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

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: frames_client latency|throughput ws://127.0.0.1:PORT/ COUNT|TOTAL SIZE\n");
        return 2;
    }
    if (getrandom(mask_key, sizeof mask_key, 0) != (ssize_t)sizeof mask_key) fail("%s", "getrandom failed");
    if (!strcmp(argv[1], "latency")) latency(argv[2], num(argv[3]), num(argv[4]));
    else if (!strcmp(argv[1], "throughput")) throughput(argv[2], num(argv[3]), num(argv[4]));
    else fail("unknown mode '%s' (frames_client does latency and throughput)", argv[1]);
    return 0;
}
