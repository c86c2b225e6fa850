/*
 * fuzz_utf8.c - differential fuzzing of wsc_utf8_validate / wsc_utf8_valid
 * and wsc_mask against references that are too simple to be wrong.
 *
 * UTF-8: the reference is Unicode Table 3-7 transcribed row by row (the
 * allowed range of the second byte depends on the lead; later bytes are
 * always 80..BF). The library must stop at the same byte and agree on
 * completeness when the input is fed whole, in two pieces split at a point
 * chosen by the first bytes, and one byte per call.
 *
 * Masking: the first 4 bytes are the key, the next one the offset; the
 * whole input is masked copying and in place, and in two pieces with the
 * running offset, and compared with the byte loop of RFC 6455 5.3.
 *
 * Every buffer handed to the library is a fresh malloc of exactly the
 * length, so AddressSanitizer reports any read or write past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Table 3-7. Returns the fail index or len; *complete: ends at a boundary. */
static size_t ref_utf8(const uint8_t *s, size_t len, int *complete) {
    size_t i = 0;
    *complete = 1;
    while (i < len) {
        uint8_t b = s[i];
        size_t n;        /* bytes after the lead */
        uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (b <= 0x7F) {
            i++;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) n = 1;
        else if (b == 0xE0) n = 2, lo = 0xA0;
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) n = 2;
        else if (b == 0xED) n = 2, hi = 0x9F;
        else if (b == 0xF0) n = 3, lo = 0x90;
        else if (b >= 0xF1 && b <= 0xF3) n = 3;
        else if (b == 0xF4) n = 3, hi = 0x8F;
        else return i;
        for (size_t k = 1; k <= n; k++) {
            if (i + k == len) {
                *complete = 0;
                return len;
            }
            uint8_t c = s[i + k];
            if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return i + k;
        }
        i += n + 1;
    }
    return len;
}

/* Runs validate over [0, cut) and [cut, len) of an exact-size copy. Returns
   the absolute fail index or len; *complete as above. */
static size_t lib_utf8_two(const uint8_t *s, size_t len, size_t cut, int *complete) {
    wsc_utf8 st = {0};
    uint8_t *a = malloc(cut ? cut : 1), *b = malloc(len - cut ? len - cut : 1);
    if (!a || !b) abort();
    memcpy(a, s, cut);
    memcpy(b, s + cut, len - cut);
    size_t r = wsc_utf8_validate(&st, a, cut);
    if (r > cut) abort();
    if (r == cut) {
        r = wsc_utf8_validate(&st, b, len - cut);
        if (r > len - cut) abort();
        r += cut;
    }
    *complete = wsc_utf8_complete(&st);
    free(a);
    free(b);
    return r;
}

static size_t lib_utf8_bytewise(const uint8_t *s, size_t len, int *complete) {
    wsc_utf8 st = {0};
    size_t i;
    for (i = 0; i < len; i++) {
        uint8_t *one = malloc(1);
        if (!one) abort();
        *one = s[i];
        size_t r = wsc_utf8_validate(&st, one, 1);
        free(one);
        if (r == 0) break;
        if (r != 1) abort();
    }
    *complete = wsc_utf8_complete(&st);
    return i;
}

static void check_utf8(const uint8_t *data, size_t size) {
    int want_complete, got_complete;
    size_t want = ref_utf8(data, size, &want_complete);

    size_t got = lib_utf8_two(data, size, size, &got_complete); /* whole */
    if (got != want || (want == size && got_complete != want_complete)) abort();
    if (wsc_utf8_valid(data, size) != (want == size && want_complete)) abort();

    size_t cut = size ? ((size_t)data[0] << 8 | (size > 1 ? data[1] : 0)) % (size + 1) : 0;
    got = lib_utf8_two(data, size, cut, &got_complete);
    if (got != want || (want == size && got_complete != want_complete)) abort();

    if (size <= 4096) { /* one malloc per byte: keep it bounded */
        got = lib_utf8_bytewise(data, size, &got_complete);
        if (got != want || (want == size && got_complete != want_complete)) abort();
    }
}

static void check_mask(const uint8_t *data, size_t size) {
    uint8_t key[4] = {0, 0, 0, 0};
    size_t offset = size > 4 ? data[4] : 0;
    for (size_t i = 0; i < 4 && i < size; i++) key[i] = data[i];
    uint8_t *want = malloc(size ? size : 1), *src = malloc(size ? size : 1),
            *dst = malloc(size ? size : 1);
    if (!want || !src || !dst) abort();
    for (size_t i = 0; i < size; i++) want[i] = data[i] ^ key[(offset + i) % 4];

    memcpy(src, data, size);
    wsc_mask(dst, src, size, key, offset); /* copying */
    if (memcmp(dst, want, size) != 0 || memcmp(src, data, size) != 0) abort();
    wsc_mask(src, src, size, key, offset); /* in place */
    if (memcmp(src, want, size) != 0) abort();
    wsc_mask(src, src, size, key, offset); /* twice: back to the input */
    if (memcmp(src, data, size) != 0) abort();

    /* two pieces with the running offset */
    size_t cut = size > 5 ? ((size_t)data[5] * 97 + data[size - 1]) % (size + 1) : size;
    memcpy(src, data, size);
    wsc_mask(dst, src, cut, key, offset);
    wsc_mask(dst + cut, src + cut, size - cut, key, offset + cut);
    if (memcmp(dst, want, size) != 0) abort();
    free(want);
    free(src);
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_utf8(data, size);
    check_mask(data, size);
    return 0;
}
