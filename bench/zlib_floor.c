/*
 * zlib_floor.c - the floor for permessage-deflate: zlib alone doing what
 * both ends of a wsc echo do per message, no sockets, no framing.
 *
 *   zlib_floor [--secs S | --msgs N] json|random|FILE SIZE
 *
 * One round trip of message i (bench/payload.h's bytes, as `wsc bench
 * throughput --payload` sends them) is four zlib calls, with the parameters
 * wsc negotiates by default (src/proto/deflate.c, pmd_negotiate.c): raw
 * deflate (windowBits -15), level Z_DEFAULT_COMPRESSION, memLevel 8,
 * Z_DEFAULT_STRATEGY, context takeover in both directions (one stream per
 * direction kept across messages, never reset):
 *   client deflate(msg, Z_SYNC_FLUSH), strip the 00 00 FF FF tail
 *   server inflate(that + tail)            -> the server's copy
 *   server deflate(its copy, Z_SYNC_FLUSH), strip the tail
 *   client inflate(that + tail), memcmp with msg
 * The figure is SIZE bytes of payload per round trip over the time of all
 * four (plus the one memcmp): the client's and the server's zlib work
 * together, as both run on the one CPU in the wsc run. Messages go in
 * batches of 64, as `wsc bench throughput` keeps 64 in flight: the client
 * deflates 64, the server inflates and deflates each of them, the client
 * inflates the 64 echoes. (Alternating the four streams on every message
 * instead was up to 1.3x slower on random 1 KiB here: four ~300 KiB zlib
 * states do not stay in cache together, so that order would be no floor.)
 * Buffers are allocated once; messages under wsc's 64-byte threshold do
 * not occur (SIZE >= 128).
 *
 * Output: RESULT zlib msgs=<n> bytes=<n> seconds=<s> wire=<compressed bytes
 * per message, client to server>. Runs for about S seconds (default 1), or
 * exactly N messages (a multiple of 64; for callgrind differencing).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "payload.h"

#define BATCH 64 /* messages in flight, as wsc bench throughput */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int die(const char *what) {
    fprintf(stderr, "zlib_floor: %s\n", what);
    return 1;
}

/* deflate in[0..len) with a sync flush into out (room cap); returns the
   length without the 4-byte tail, or 0 on error. */
static size_t def(z_stream *s, const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    s->next_in = (Bytef *)(uintptr_t)in;
    s->avail_in = (uInt)len;
    s->next_out = out;
    s->avail_out = (uInt)cap;
    if (deflate(s, Z_SYNC_FLUSH) != Z_OK || s->avail_in || !s->avail_out) return 0;
    size_t n = cap - s->avail_out;
    if (n < 4 || memcmp(out + n - 4, "\0\0\xff\xff", 4)) return 0;
    return n - 4;
}

/* inflate in[0..len) + tail into out; in must have 4 bytes of room after
   len (the tail is written there). Returns the output length, 0 on error. */
static size_t inf(z_stream *s, uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    memcpy(in + len, "\0\0\xff\xff", 4);
    s->next_in = in;
    s->avail_in = (uInt)(len + 4);
    s->next_out = out;
    s->avail_out = (uInt)cap;
    int r = inflate(s, Z_SYNC_FLUSH);
    if ((r != Z_OK && r != Z_BUF_ERROR) || s->avail_in) return 0;
    return cap - s->avail_out;
}

int main(int argc, char **argv) {
    double want = 1.0;
    uint64_t limit = 0; /* --msgs: exactly this many, rounded up to BATCH */
    int a = 1;
    if (argc > 2 && !strcmp(argv[1], "--secs")) {
        want = atof(argv[2]);
        a = 3;
    } else if (argc > 2 && !strcmp(argv[1], "--msgs")) {
        limit = strtoull(argv[2], NULL, 10);
        a = 3;
    }
    if (argc - a != 2) {
        fputs("usage: zlib_floor [--secs S | --msgs N] json|random|FILE SIZE\n", stderr);
        return 2;
    }
    size_t size = (size_t)strtoull(argv[a + 1], NULL, 10);
    payload pl;
    const char *why = NULL;
    if (size < 128 || payload_init(&pl, argv[a], size, &why)) return die(why ? why : "SIZE must be >= 128");

    z_stream cd, sd, ci, si; /* client/server deflate, client/server inflate */
    memset(&cd, 0, sizeof cd);
    memset(&sd, 0, sizeof sd);
    memset(&ci, 0, sizeof ci);
    memset(&si, 0, sizeof si);
    if (deflateInit2(&cd, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
        deflateInit2(&sd, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
        inflateInit2(&ci, -15) != Z_OK || inflateInit2(&si, -15) != Z_OK)
        return die("zlib init failed");
    size_t cap = (size_t)deflateBound(&cd, (uLong)size) + 64;
    size_t stride = cap + 4;
    uint8_t *wire = malloc(BATCH * stride), *echo = malloc(BATCH * stride), *srv = malloc(size + 1),
            *back = malloc(size + 1);
    size_t wlen[BATCH], elen[BATCH];
    if (!wire || !echo || !srv || !back) return die("out of memory");

    uint64_t n = 0, wire_bytes = 0;
    double t0 = now(), t1 = t0;
    while (limit ? n < limit : t1 - t0 < want) {
        for (int j = 0; j < BATCH; j++) {
            wlen[j] = def(&cd, payload_msg(&pl, n + (uint64_t)j), size, wire + j * stride, cap);
            if (!wlen[j]) return die("client deflate failed");
            wire_bytes += wlen[j];
        }
        for (int j = 0; j < BATCH; j++) {
            if (inf(&si, wire + j * stride, wlen[j], srv, size + 1) != size) return die("server inflate failed");
            elen[j] = def(&sd, srv, size, echo + j * stride, cap);
            if (!elen[j]) return die("server deflate failed");
        }
        for (int j = 0; j < BATCH; j++) {
            if (inf(&ci, echo + j * stride, elen[j], back, size + 1) != size) return die("client inflate failed");
            if (memcmp(back, payload_msg(&pl, n + (uint64_t)j), size)) return die("the round trip changed the message");
        }
        n += BATCH;
        t1 = now();
    }
    printf("RESULT zlib msgs=%llu bytes=%llu seconds=%.6f wire=%llu\n", (unsigned long long)n,
           (unsigned long long)(n * size), t1 - t0, (unsigned long long)(wire_bytes / n));
    deflateEnd(&cd);
    deflateEnd(&sd);
    inflateEnd(&ci);
    inflateEnd(&si);
    free(wire);
    free(echo);
    free(srv);
    free(back);
    payload_free(&pl);
    return 0;
}
