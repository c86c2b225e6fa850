/*
 * payload.h - the message bytes of `wsc bench throughput --payload` and of
 * bench/zlib_floor, so that the zlib floor compresses exactly the bytes wsc
 * sends (bench/deflate_floor.py compares the two).
 *
 *   json    message i is json_msg.h's SIZE-byte message with seq = i (the
 *           880-byte message, the 64 KiB document); sent as text.
 *   random  a pool of POOL + SIZE bytes from splitmix64 (seed 1); message i
 *           is the SIZE bytes at (i * SIZE) % POOL. POOL (1 MiB) is far
 *           beyond deflate's 32 KiB window, so no message repeats within
 *           the window and context takeover finds nothing: incompressible.
 *   FILE    the file's bytes, repeated to fill POOL + SIZE; message i at
 *           (i * SIZE) % POOL, as random. Sent as binary.
 *
 * Building costs one pool (about 1 MiB); producing message i is a pointer
 * (random, FILE) or a 10-digit stamp (json), outside zlib's work.
 */
#ifndef WSC_BENCH_PAYLOAD_H
#define WSC_BENCH_PAYLOAD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_msg.h"

#define PAYLOAD_POOL ((size_t)1 << 20)

typedef struct payload {
    int text;      /* json: send as text */
    size_t size;
    uint8_t *pool; /* random, FILE: PAYLOAD_POOL + size bytes; json: one message */
} payload;

static inline uint64_t payload_splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* kind: "json", "random" or a file name. Returns 0, or -1 with a message in
   why (json below 128 bytes, an unreadable or empty file, no memory). */
static inline int payload_init(payload *p, const char *kind, size_t size, const char **why) {
    memset(p, 0, sizeof *p);
    p->size = size;
    if (!strcmp(kind, "json")) {
        p->text = 1;
        p->pool = malloc(size + 1);
        if (!p->pool) return *why = "out of memory", -1;
        if (!json_msg_build((char *)p->pool, size)) return *why = "json payload needs SIZE >= 128", -1;
        return 0;
    }
    size_t n = PAYLOAD_POOL + size;
    p->pool = malloc(n);
    if (!p->pool) return *why = "out of memory", -1;
    if (!strcmp(kind, "random")) {
        uint64_t s = 1;
        for (size_t j = 0; j < n; j += 8) {
            uint64_t v = payload_splitmix(&s);
            for (size_t k = 0; k < 8 && j + k < n; k++) p->pool[j + k] = (uint8_t)(v >> (8 * k));
        }
        return 0;
    }
    FILE *f = fopen(kind, "rb");
    if (!f) return *why = "cannot open the payload file", -1;
    size_t got = fread(p->pool, 1, n, f);
    fclose(f);
    if (!got) return *why = "the payload file is empty", -1;
    for (size_t j = got; j < n; j++) p->pool[j] = p->pool[j % got];
    return 0;
}

/* Message i: json stamps seq into the one buffer (so the previous message's
   bytes are gone: take a copy if they are still needed); the others point
   into the pool. */
static inline const uint8_t *payload_msg(payload *p, uint64_t i) {
    if (p->text) {
        json_msg_seq((char *)p->pool, (unsigned long long)i);
        return p->pool;
    }
    return p->pool + (size_t)((i * p->size) % PAYLOAD_POOL);
}

static inline void payload_free(payload *p) {
    free(p->pool);
    p->pool = NULL;
}

#endif
