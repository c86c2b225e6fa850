/*
 * test_utf8.c - wsc_utf8_validate / wsc_utf8_valid / wsc_utf8_complete.
 *
 * Everything is checked against ref_validate() below, a decoder written for
 * obviousness rather than speed: it builds the code point's possible range
 * from the bytes seen so far and asks whether that range still meets the
 * valid code points for the sequence length. It shares no table or idea of
 * state with the library's DFA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsc/proto.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Reference                                                            */
/* ------------------------------------------------------------------ */

/*
 * Can a sequence of `need` continuation bytes in total, of which `have`
 * were seen giving the code-point bits `cp` (lead bits included), still end
 * as a valid scalar value? The possible values are [lo, hi]; the valid ones
 * for this length are [min, max] minus the surrogates.
 */
static int ref_viable(uint32_t cp, int have, int need) {
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    static const uint32_t max[4] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
    int rem = need - have;
    uint32_t lo = cp << (6 * rem), hi = lo | ((1u << (6 * rem)) - 1);
    if (lo < min[need]) lo = min[need];
    if (hi > max[need]) hi = max[need];
    if (lo > hi) return 0;
    return !(lo >= 0xD800 && hi <= 0xDFFF);
}

/* Returns the index of the first impossible byte or len; *complete says
   whether s ends at a character boundary. */
static size_t ref_validate(const uint8_t *s, size_t len, int *complete) {
    size_t i = 0;
    *complete = 1;
    while (i < len) {
        uint8_t b = s[i];
        int need;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            need = 1, cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            need = 2, cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            need = 3, cp = b & 0x07;
        } else {
            return i; /* continuation byte or F8..FF where a character starts */
        }
        if (!ref_viable(cp, 0, need)) return i; /* C0, C1, F5..F7 */
        for (int k = 1; k <= need; k++) {
            if (i + (size_t)k >= len) {
                *complete = 0;
                return len;
            }
            uint8_t c = s[i + (size_t)k];
            if ((c & 0xC0) != 0x80) return i + (size_t)k;
            cp = cp << 6 | (c & 0x3F);
            if (!ref_viable(cp, k, need)) return i + (size_t)k;
        }
        i += (size_t)need + 1;
    }
    return len;
}

static size_t encode(uint8_t *p, uint32_t cp) {
    if (cp < 0x80) { p[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        p[0] = (uint8_t)(0xC0 | cp >> 6);
        p[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (uint8_t)(0xE0 | cp >> 12);
        p[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        p[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (uint8_t)(0xF0 | cp >> 18);
    p[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    p[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    p[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Deterministic PRNG (xorshift64). */
static uint64_t rng = 0x243F6A8885A308D3u;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 33) % n);
}

/* Valid text of exactly len bytes, mixing 1-4 byte characters. */
static void random_text(uint8_t *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        switch (rnd(5)) {
        case 0: cp = 0x80 + rnd(0x800 - 0x80); break;
        case 1: cp = 0x800 + rnd(0xD800 - 0x800); break;
        case 2: cp = 0xE000 + rnd(0x10000 - 0xE000); break;
        case 3: cp = 0x10000 + rnd(0x110000 - 0x10000); break;
        default: cp = 0x20 + rnd(0x5F); break;
        }
        uint8_t tmp[4];
        size_t n = encode(tmp, cp);
        if (n > len - i) {
            memset(p + i, 'x', len - i);
            return;
        }
        memcpy(p + i, tmp, n);
        i += n;
    }
}

/* ------------------------------------------------------------------ */
/* Checking helpers                                                     */
/* ------------------------------------------------------------------ */

/* The library, in one call, agrees with the reference (index and completeness),
   and wsc_utf8_valid agrees too. */
static void check_one_shot(const uint8_t *s, size_t len) {
    int ref_complete;
    size_t want = ref_validate(s, len, &ref_complete);
    wsc_utf8 st = {0};
    size_t got = wsc_utf8_validate(&st, s, len);
    if (got != want) {
        fprintf(stderr, "len %zu: got %zu want %zu; bytes:", len, got, want);
        for (size_t i = 0; i < len && i < 80; i++) fprintf(stderr, " %02X", s[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(got, want);
    if (want == len) assert_int_equal(wsc_utf8_complete(&st), ref_complete);
    assert_int_equal(wsc_utf8_valid(s, len), want == len && ref_complete);
}

/*
 * Feeds s to the library in the pieces [0, cuts[0]), [cuts[0], cuts[1]), ...
 * and checks that the first failing call reports the reference's index
 * (relative to its own piece) and that a clean run ends with the reference's
 * completeness.
 */
static void check_pieces(const uint8_t *s, size_t len, const size_t *cuts, size_t ncuts) {
    int ref_complete;
    size_t want = ref_validate(s, len, &ref_complete);
    wsc_utf8 st = {0};
    size_t start = 0;
    for (size_t c = 0; c <= ncuts; c++) {
        size_t end = c < ncuts ? cuts[c] : len;
        size_t got = wsc_utf8_validate(&st, s + start, end - start);
        if (want < end && want >= start) {
            assert_int_equal(got, want - start);
            return;
        }
        assert_int_equal(got, end - start);
        start = end;
    }
    assert_int_equal(want, len);
    assert_int_equal(wsc_utf8_complete(&st), ref_complete);
}

/* Every single split point, and every byte on its own. */
static void check_all_splits(const uint8_t *s, size_t len) {
    for (size_t k = 0; k <= len; k++) check_pieces(s, len, &k, 1);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t k = 0; k < len; k++) cuts[k] = k + 1;
    check_pieces(s, len, cuts, len ? len - 1 : 0);
    free(cuts);
}

/* ------------------------------------------------------------------ */
/* Invalid sequences                                                    */
/* ------------------------------------------------------------------ */

struct bad_case {
    const char *hex;
    size_t fail; /* index where validation must stop */
};

static const struct bad_case bad_cases[] = {
    /* overlong 2-byte */
    {"C0 80", 0}, {"C1 BF", 0}, {"C0 AF", 0}, {"C1 80", 0},
    /* overlong 3-byte: E0 needs A0..BF next */
    {"E0 80 80", 1}, {"E0 9F BF", 1}, {"E0 80 AF", 1},
    /* overlong 4-byte: F0 needs 90..BF next */
    {"F0 80 80 80", 1}, {"F0 8F BF BF", 1}, {"F0 80 80 AF", 1},
    /* surrogates: ED needs 80..9F next */
    {"ED A0 80", 1}, {"ED BF BF", 1}, {"ED AD BF", 1}, {"ED B0 80", 1},
    /* above U+10FFFF: F4 needs 80..8F next; F5..FF never appear */
    {"F4 90 80 80", 1}, {"F4 BF BF BF", 1}, {"F5 80 80 80", 0}, {"F7 BF BF BF", 0},
    {"F8 88 80 80 80", 0}, {"FC 84 80 80 80 80", 0}, {"FE", 0}, {"FF", 0},
    /* lone continuation bytes */
    {"80", 0}, {"BF", 0}, {"41 80", 1}, {"C3 A9 A9", 2}, {"E2 82 AC 80", 3},
    {"F0 9F 98 80 BF", 4}, {"80 80 80", 0},
    /* a continuation missing in the middle */
    {"E2 82 41", 2}, {"C2 41", 1}, {"E2 41 82", 1}, {"F0 9F 98 41", 3}, {"F0 9F 41 41", 2},
    {"C2 C2 80", 1}, {"E2 E2 82 AC", 1}, {"F0 9F F0 9F 98 80", 2}, {"E2 82 00", 2},
    /* valid text first */
    {"CE BA E1 BD B9 CF 83 CE BC CE B5 ED A0 80", 12}, {"48 65 6C 6C 6F C0 80", 5},
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = tu_unhex(hex, out, cap);
    assert_true(n <= cap);
    return n;
}

static void test_invalid_exact_index(void **unused) {
    for (size_t c = 0; c < ARRAY_LEN(bad_cases); c++) {
        uint8_t s[16];
        size_t n = unhex(bad_cases[c].hex, s, sizeof s);
        wsc_utf8 st = {0};
        assert_int_equal(wsc_utf8_validate(&st, s, n), bad_cases[c].fail);
        assert_false(wsc_utf8_valid(s, n));
        /* the reference agrees with the table (so it can judge the rest) */
        int complete;
        assert_int_equal(ref_validate(s, n, &complete), bad_cases[c].fail);
    }
}

/* Every F5..FF and C0/C1 lead, alone and before a continuation. */
static void test_invalid_lead_bytes(void **unused) {
    for (unsigned b = 0; b < 256; b++) {
        int bad = b == 0xC0 || b == 0xC1 || b >= 0xF5 || (b >= 0x80 && b <= 0xBF);
        uint8_t s[2] = {(uint8_t)b, 0x80};
        wsc_utf8 st = {0};
        if (bad) {
            assert_int_equal(wsc_utf8_validate(&st, s, 1), 0);
            memset(&st, 0, sizeof st);
            assert_int_equal(wsc_utf8_validate(&st, s, 2), 0);
        } else {
            assert_int_equal(wsc_utf8_validate(&st, s, 1), 1);
            assert_int_equal(wsc_utf8_complete(&st), b < 0x80);
        }
    }
}

/* The ASCII fast path must hand over at the right byte, wherever the bad
   sequence starts relative to the 16/64-byte blocks; and trailing bytes
   after it (valid or not) must not change the index. */
static void test_invalid_after_ascii_runs(void **unused) {
    uint8_t buf[64 + 16 + 100];
    for (size_t c = 0; c < ARRAY_LEN(bad_cases); c++) {
        uint8_t s[16];
        size_t n = unhex(bad_cases[c].hex, s, sizeof s);
        for (size_t pre = 0; pre <= 64; pre++) {
            for (size_t post = 0; post <= 100; post += 25) {
                memset(buf, 'a', pre);
                memcpy(buf + pre, s, n);
                for (size_t k = 0; k < post; k++) buf[pre + n + k] = (uint8_t)(k & 1 ? 0x80 : 'b');
                size_t len = pre + n + post;
                wsc_utf8 st = {0};
                assert_int_equal(wsc_utf8_validate(&st, buf, len), pre + bad_cases[c].fail);
                assert_false(wsc_utf8_valid(buf, len));
            }
        }
    }
}

/* State carries across calls: the same index at every split point, also
   when preceded by ASCII and by multibyte text. */
static void test_invalid_split_everywhere(void **unused) {
    uint8_t buf[128];
    for (size_t c = 0; c < ARRAY_LEN(bad_cases); c++) {
        uint8_t s[16];
        size_t n = unhex(bad_cases[c].hex, s, sizeof s);
        check_all_splits(s, n);
        for (size_t pre = 1; pre <= 40; pre += 13) {
            memset(buf, 'q', pre);
            memcpy(buf + pre, s, n);
            check_all_splits(buf, pre + n);
            random_text(buf, pre);
            memcpy(buf + pre, s, n);
            memset(buf + pre + n, 'z', 20);
            check_all_splits(buf, pre + n + 20);
        }
    }
}

/* A sequence cut off at the end: validate() accepts what it saw, but the
   state is not complete and valid() says no; the rest completes it. */
static void test_truncated_at_end(void **unused) {
    static const char *const whole[] = {"C2 80", "DF BF", "E0 A0 80", "E2 82 AC", "ED 9F BF",
                                        "EF BF BF", "F0 90 80 80", "F0 9F 98 80", "F3 BF BF BF",
                                        "F4 8F BF BF"};
    for (size_t c = 0; c < ARRAY_LEN(whole); c++) {
        uint8_t s[8], buf[80];
        size_t n = unhex(whole[c], s, sizeof s);
        for (size_t cut = 1; cut < n; cut++) {
            for (size_t pre = 0; pre <= 64; pre += 7) {
                memset(buf, 'a', pre);
                memcpy(buf + pre, s, cut);
                wsc_utf8 st = {0};
                assert_int_equal(wsc_utf8_validate(&st, buf, pre + cut), pre + cut);
                assert_false(wsc_utf8_complete(&st));
                assert_false(wsc_utf8_valid(buf, pre + cut));
                /* the rest, in a second call, completes it */
                assert_int_equal(wsc_utf8_validate(&st, s + cut, n - cut), n - cut);
                assert_true(wsc_utf8_complete(&st));
                /* and an ASCII byte in its place fails exactly there */
                wsc_utf8 st2 = {0};
                assert_int_equal(wsc_utf8_validate(&st2, buf, pre + cut), pre + cut);
                assert_int_equal(wsc_utf8_validate(&st2, "A", 1), 0);
            }
        }
    }
}

/* Empty input is valid and leaves the state alone. */
static void test_empty(void **unused) {
    wsc_utf8 st = {0};
    assert_int_equal(wsc_utf8_validate(&st, "", 0), 0);
    assert_true(wsc_utf8_complete(&st));
    assert_true(wsc_utf8_valid("", 0));
    assert_int_equal(wsc_utf8_validate(&st, "\xE2", 1), 1);
    assert_int_equal(wsc_utf8_validate(&st, "", 0), 0);
    assert_false(wsc_utf8_complete(&st));
    assert_int_equal(wsc_utf8_validate(&st, "\x82\xAC", 2), 2);
    assert_true(wsc_utf8_complete(&st));
}

/* ------------------------------------------------------------------ */
/* Valid input                                                          */
/* ------------------------------------------------------------------ */

static void test_valid_boundaries(void **unused) {
    static const uint32_t cps[] = {0x0,    0x7F,   0x80,    0x7FF,   0x800,   0xFFF,  0x1000,
                                   0xCFFF, 0xD000, 0xD7FF,  0xE000,  0xFEFF,  0xFFFD, 0xFFFE,
                                   0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0xFFFFF, 0x100000,
                                   0x10FFFF};
    static const char *const hex[] = {"00",       "7F",       "C2 80",       "DF BF",
                                      "E0 A0 80", "E0 BF BF", "E1 80 80",    "EC BF BF",
                                      "ED 80 80", "ED 9F BF", "EE 80 80",    "EF BB BF",
                                      "EF BF BD", "EF BF BE", "EF BF BF",    "F0 90 80 80",
                                      "F0 BF BF BF", "F1 80 80 80", "F3 BF BF BF",
                                      "F4 80 80 80", "F4 8F BF BF"};
    for (size_t c = 0; c < ARRAY_LEN(cps); c++) {
        uint8_t s[4], t[4], buf[100];
        size_t n = encode(s, cps[c]);
        assert_int_equal(unhex(hex[c], t, sizeof t), n); /* the encoder is right */
        assert_memory_equal(s, t, n);
        assert_true(wsc_utf8_valid(s, n));
        check_all_splits(s, n);
        for (size_t pre = 0; pre <= 64; pre++) {
            memset(buf, ' ', pre);
            memcpy(buf + pre, s, n);
            memcpy(buf + pre + n, s, n); /* twice, back to back */
            assert_true(wsc_utf8_valid(buf, pre + 2 * n));
        }
    }
}

static void test_valid_samples(void **unused) {
    static const char *const samples[] = {
        "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", /* κόσμε (Autobahn 6.2.x) */
        "Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!",
        "\xF0\x9F\x98\x80\xF0\x9F\x98\x81 emoji \xF0\x9F\x8E\x89",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9"
        "\xE3\x83\x88",                                   /* 日本語のテキスト */
        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xD0\xBC\xD0\xB8\xD1\x80!",
        "\xEF\xBB\xBF" "BOM first",
        "\xF4\x8F\xBF\xBF\xF0\x90\x80\x80\xEF\xBF\xBF\xED\x9F\xBF\xEE\x80\x80",
    };
    for (size_t c = 0; c < ARRAY_LEN(samples); c++) {
        const uint8_t *s = (const uint8_t *)samples[c];
        size_t n = strlen(samples[c]);
        assert_true(wsc_utf8_valid(s, n));
        check_all_splits(s, n);
    }
}

/* Long valid texts of every kind, in random pieces. */
static void test_random_text_random_pieces(void **unused) {
    enum { MAXLEN = 3000 };
    uint8_t *buf = malloc(MAXLEN);
    size_t cuts[40];
    assert_non_null(buf);
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = rnd(MAXLEN);
        size_t ascii = iter % 3 == 0 ? len / 2 : 0; /* a long ASCII stretch first */
        memset(buf, 'a', ascii);
        random_text(buf + ascii, len - ascii);
        assert_true(wsc_utf8_valid(buf, len));
        /* then break it at one random place, half of the time */
        if (len && iter % 2) buf[rnd((uint32_t)len)] = (uint8_t)rnd(256);
        check_one_shot(buf, len);
        size_t ncuts = len ? rnd(40) : 0;
        for (size_t k = 0; k < ncuts; k++) cuts[k] = rnd((uint32_t)len + 1);
        for (size_t a = 1; a < ncuts; a++) /* sort */
            for (size_t b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
                size_t t = cuts[b];
                cuts[b] = cuts[b - 1];
                cuts[b - 1] = t;
            }
        check_pieces(buf, len, cuts, ncuts);
    }
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Exhaustive                                                           */
/* ------------------------------------------------------------------ */

/* A sequence alone (the byte loop for the last < 16 bytes) and followed by
   13 ASCII bytes (the unrolled 16-byte DFA block), and split in two. */
static void check_seq(const uint8_t *s, size_t n) {
    uint8_t buf[20];
    check_one_shot(s, n);
    memcpy(buf, s, n);
    memset(buf + n, 'a', 13);
    check_one_shot(buf, n + 13);
    size_t cut = n / 2 + 1;
    check_pieces(s, n, &cut, 1);
}

static void test_exhaustive_1_2_bytes(void **unused) {
    for (unsigned a = 0; a < 256; a++) {
        uint8_t s[2] = {(uint8_t)a, 0};
        check_seq(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            check_seq(s, 2);
        }
    }
}

/* All 2^24 three-byte sequences: one-shot only (the 2-byte test above and
   the split tests cover the state hand-over), compared with the reference. */
static void test_exhaustive_3_bytes(void **unused) {
    size_t valid = 0;
    for (uint32_t v = 0; v < (1u << 24); v++) {
        uint8_t s[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        int ref_complete;
        size_t want = ref_validate(s, 3, &ref_complete);
        wsc_utf8 st = {0};
        size_t got = wsc_utf8_validate(&st, s, 3);
        if (got != want || (want == 3 && wsc_utf8_complete(&st) != ref_complete)) {
            fprintf(stderr, "%02X %02X %02X: got %zu/%d want %zu/%d\n", s[0], s[1], s[2], got,
                    wsc_utf8_complete(&st), want, ref_complete);
            fail();
        }
        valid += want == 3 && ref_complete;
    }
    /* Sanity of the reference itself: the number of complete, valid 3-byte
       strings is countable by hand. 1+1+1 ASCII: 128^3; ASCII + 2-byte and
       2-byte + ASCII: 2 * 128 * 1920; one 3-byte char: 0x10000 - 0x800 - 2048
       surrogates = 61440. */
    assert_int_equal(valid, 128u * 128 * 128 + 2u * 128 * 1920 + 61440);
}

/* Four bytes: every lead F0..F7 with every second and fourth byte and a
   set of third bytes at the edges of each range, and the converse. */
static void test_exhaustive_4_byte_leads(void **unused) {
    static const uint8_t edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    for (unsigned a = 0xF0; a <= 0xF7; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t e = 0; e < sizeof edges; e++)
                for (unsigned d = 0; d < 256; d++) {
                    uint8_t s[4] = {(uint8_t)a, (uint8_t)b, edges[e], (uint8_t)d};
                    check_one_shot(s, 4);
                    s[2] = (uint8_t)d, s[3] = edges[e];
                    check_one_shot(s, 4);
                }
}

/* ------------------------------------------------------------------ */
/* Guard pages                                                          */
/* ------------------------------------------------------------------ */

/* Input that ends right before a PROT_NONE page, at every length 0..300
   and every start alignment 0..31: a read past the end crashes. */
static void test_guard_pages(void **unused) {
    uint8_t src[300 + 32];
    for (size_t len = 0; len <= 300; len++) {
        for (int kind = 0; kind < 5; kind++) {
            switch (kind) {
            case 0: memset(src, 'a', len); break;        /* ASCII */
            case 1: random_text(src, len); break;        /* mixed */
            case 2:                                      /* invalid last byte */
                memset(src, 'b', len);
                if (len) src[len - 1] = 0xFF;
                break;
            case 3:                                      /* truncated at the end */
                random_text(src, len);
                if (len) src[len - 1] = 0xE2;
                break;
            default:                                     /* 4-byte chars only */
                for (size_t i = 0; i + 4 <= len; i += 4) encode(src + i, 0x1F600 + (uint32_t)i % 64);
                memset(src + (len & ~(size_t)3), 'c', len & 3);
                break;
            }
            for (size_t align = 0; align < 32; align++) {
                /* junk before the data moves its start; the end stays at the guard page */
                uint8_t tmp[300 + 32];
                memset(tmp, 0xFF, align);
                memcpy(tmp + align, src, len);
                uint8_t *g = tu_guard_copy(tmp, align + len);
                assert_non_null(g);
                check_one_shot(g + align, len);
                if (len) {
                    size_t cut = (align * 7) % len;
                    check_pieces(g + align, len, &cut, 1);
                }
                tu_guard_free(g, align + len);
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_exact_index),
        cmocka_unit_test(test_invalid_lead_bytes),
        cmocka_unit_test(test_invalid_after_ascii_runs),
        cmocka_unit_test(test_invalid_split_everywhere),
        cmocka_unit_test(test_truncated_at_end),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_valid_boundaries),
        cmocka_unit_test(test_valid_samples),
        cmocka_unit_test(test_random_text_random_pieces),
        cmocka_unit_test(test_exhaustive_1_2_bytes),
        cmocka_unit_test(test_exhaustive_3_bytes),
        cmocka_unit_test(test_exhaustive_4_byte_leads),
        cmocka_unit_test(test_guard_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
