/*
 * test_mask.c - wsc_mask against a one-line reference, at every length,
 * offset and alignment where the wide paths change (bytes, 8-byte words,
 * 16/64-byte SSE2 steps, 32/128-byte AVX2 steps from 256 bytes on).
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsc/proto.h"

static void ref_mask(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[4],
                     size_t offset) {
    for (size_t i = 0; i < len; i++) dst[i] = src[i] ^ key[(offset + i) % 4];
}

static void fill(uint8_t *p, size_t len, unsigned seed) {
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)(seed * 167 + i * 29 + (i >> 8));
}

static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* RFC 6455 5.7: "Hello" masked with 37 fa 21 3d. */
static void test_rfc_example(void **unused) {
    uint8_t out[5], back[5];
    static const uint8_t want[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    wsc_mask(out, (const uint8_t *)"Hello", 5, key, 0);
    assert_memory_equal(out, want, 5);
    wsc_mask(back, out, 5, key, 0);
    assert_memory_equal(back, "Hello", 5);
}

/* Copying: every length 0..300, offset 0..7, source and destination
   alignment 0..15; the bytes around dst must stay untouched. */
static void test_copy_all_alignments(void **unused) {
    enum { MAX = 300, PAD = 16 };
    static uint8_t src[MAX + 2 * PAD], dst[MAX + 2 * PAD], want[MAX + 2 * PAD];
    fill(src, sizeof src, 1);
    for (size_t len = 0; len <= MAX; len++)
        for (size_t off = 0; off < 8; off++)
            for (size_t sa = 0; sa < 16; sa++)
                for (size_t da = 0; da < 16; da++) {
                    memset(dst, 0xA5, sizeof dst);
                    memset(want, 0xA5, sizeof want);
                    ref_mask(want + PAD + da, src + sa, len, key, off);
                    wsc_mask(dst + PAD + da, src + sa, len, key, off);
                    assert_memory_equal(dst, want, sizeof dst);
                }
}

/* In place: every length 0..300, offset 0..7, alignment 0..15. */
static void test_inplace_all_alignments(void **unused) {
    enum { MAX = 300, PAD = 16 };
    static uint8_t buf[MAX + 2 * PAD], want[MAX + 2 * PAD];
    for (size_t len = 0; len <= MAX; len++)
        for (size_t off = 0; off < 8; off++)
            for (size_t a = 0; a < 16; a++) {
                fill(buf, sizeof buf, (unsigned)(len + off));
                memcpy(want, buf, sizeof buf);
                ref_mask(want + PAD + a, buf + PAD + a, len, key, off);
                wsc_mask(buf + PAD + a, buf + PAD + a, len, key, off);
                assert_memory_equal(buf, want, sizeof buf);
            }
}

/* Masking twice with the same key and offset gives the input back, for
   every key byte value in every key position. */
static void test_involution(void **unused) {
    enum { LEN = 1000 };
    uint8_t orig[LEN], buf[LEN], tmp[LEN];
    fill(orig, LEN, 7);
    for (unsigned v = 0; v < 256; v++) {
        uint8_t k[4] = {(uint8_t)v, (uint8_t)(v * 3), (uint8_t)~v, (uint8_t)(v ^ 0x5a)};
        size_t len = (v * 13) % LEN, off = v;
        memcpy(buf, orig, LEN);
        wsc_mask(buf, buf, len, k, off);
        if (len >= 4) assert_memory_not_equal(buf, orig, len);
        wsc_mask(buf, buf, len, k, off);
        assert_memory_equal(buf, orig, LEN);
        wsc_mask(tmp, orig, len, k, off);
        wsc_mask(buf, tmp, len, k, off);
        assert_memory_equal(buf, orig, len);
    }
}

/* A payload masked in arbitrary pieces, each with its running offset,
   equals the payload masked at once; large enough for the AVX2 loop. */
static void test_pieces_and_large(void **unused) {
    enum { LEN = 70000 };
    uint8_t *src = malloc(LEN), *a = malloc(LEN), *b = malloc(LEN);
    assert_non_null(src);
    assert_non_null(a);
    assert_non_null(b);
    fill(src, LEN, 3);
    uint64_t r = 88172645463325252u;
    for (int iter = 0; iter < 200; iter++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        size_t len = (size_t)(r % LEN), base = (size_t)(r >> 40) % 11;
        ref_mask(a, src, len, key, base);
        size_t pos = 0;
        while (pos < len) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            size_t n = (size_t)(r % 3000);
            if (n > len - pos) n = len - pos;
            if (iter & 1) {
                memcpy(b + pos, src + pos, n);
                wsc_mask(b + pos, b + pos, n, key, base + pos);
            } else {
                wsc_mask(b + pos, src + pos, n, key, base + pos);
            }
            pos += n;
        }
        assert_memory_equal(a, b, len);
    }
    free(src);
    free(a);
    free(b);
}

/* The offset is taken mod 4 even when offset + i wraps around SIZE_MAX. */
static void test_huge_offset(void **unused) {
    uint8_t src[600], got[600], want[600];
    fill(src, sizeof src, 9);
    for (size_t d = 0; d < 8; d++) {
        size_t off = SIZE_MAX - d;
        for (size_t i = 0; i < sizeof src; i++) want[i] = src[i] ^ key[(off % 4 + i) % 4];
        wsc_mask(got, src, sizeof src, key, off);
        assert_memory_equal(got, want, sizeof src);
    }
}

/* Source and destination each end at a PROT_NONE page: any access past
   the end crashes. Every length 0..300, start alignment 0..15. */
static void test_guard_pages(void **unused) {
    uint8_t src[300 + 16], want[300];
    fill(src, sizeof src, 5);
    for (size_t len = 0; len <= 300; len++)
        for (size_t a = 0; a < 16; a++) {
            size_t off = len + a;
            uint8_t *s = tu_guard_copy(src, a + len);
            uint8_t *d = tu_guard_copy(src, ((a * 5) & 15) + len);
            assert_non_null(s);
            assert_non_null(d);
            ref_mask(want, src + a, len, key, off);
            wsc_mask(d + ((a * 5) & 15), s + a, len, key, off); /* copying */
            assert_memory_equal(d + ((a * 5) & 15), want, len);
            wsc_mask(s + a, s + a, len, key, off); /* in place */
            assert_memory_equal(s + a, want, len);
            tu_guard_free(s, a + len);
            tu_guard_free(d, ((a * 5) & 15) + len);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_example),
        cmocka_unit_test(test_copy_all_alignments),
        cmocka_unit_test(test_inplace_all_alignments),
        cmocka_unit_test(test_involution),
        cmocka_unit_test(test_pieces_and_large),
        cmocka_unit_test(test_huge_offset),
        cmocka_unit_test(test_guard_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
