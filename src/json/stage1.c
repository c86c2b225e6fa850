/*
 * stage1.c - the first of the parser's two passes (stage2.c is the second):
 * 64 bytes at a time, with AVX2 and a carry-less multiply, it finds every
 * byte the grammar needs to look at and writes their offsets in order into
 * the structural index. What is done here, once per 64 bytes and without a
 * branch per byte:
 *
 *  - classification: quote, backslash, the six structural characters
 *    ({ } [ ] : ,), JSON whitespace, bytes below 0x20, each a 64-bit mask
 *    (compares and two 16-entry table lookups by the low nibble);
 *  - escapes: the bytes that follow an odd-length run of backslashes
 *    (runs starting at an even and at an odd offset told apart by one
 *    addition that carries across the odd-start runs), so escaped quotes
 *    drop out of the quote mask;
 *  - strings: the prefix XOR of the real quotes (one PCLMULQDQ by an
 *    all-ones word) is the in-string mask; structural characters and
 *    whitespace inside strings are dropped;
 *  - the index: every structural character, both quotes of each string and
 *    the first byte of each other token (number, literal, or anything the
 *    grammar will refuse);
 *  - refusals found here (the caller then lets the scalar parser report the
 *    exact error): a byte below 0x20 inside a string or outside one that is
 *    not whitespace, an unterminated string, and invalid UTF-8 (when asked:
 *    the vector lookup-table algorithm of Keiser and Lemire, three nibble
 *    lookups per byte classify every two-byte error, the third/fourth-byte
 *    rule is one saturating subtraction; blocks of ASCII skip it).
 *
 * Only the grammar is left to the second pass, which visits one index entry
 * per token instead of every byte. Built where the compiler targets x86-64
 * (target attributes: the rest of the library stays baseline), used only
 * when the CPU has AVX2, PCLMULQDQ and BMI1 (checked at run time).
 *
 * Two forms of the per-block classification and of the index writer, the
 * rest shared (index_mask): AVX2 (two 32-byte halves, each mask moved out
 * of a vector in two parts; the index 8 entries per table load) and, where
 * the CPU has AVX-512 F/BW/VL/VBMI2, AVX-512 (one 64-byte register, each
 * mask straight out of a compare; the index from one byte compress per
 * block). On the benchmark's messages the whole parse takes 12 to 24%
 * less time with the AVX-512 form than with the AVX2 one
 * (docs/PERFORMANCE.md, "Seventh pass"); the tests and the fuzzer check
 * that both write the same index.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(WSC_JSON_NO_SIMD)
#define STAGE1 1
#include <immintrin.h>
#else
#define STAGE1 0
#endif

#if STAGE1

int wsc__json_stage1_available(void) {
    /* Reads the CPU model the runtime filled in at start-up: a few loads. */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("bmi");
}

#define TGT __attribute__((target("avx2,pclmul,bmi,popcnt")))
#define INL static inline __attribute__((always_inline)) TGT

/* A 16-byte table in both 128-bit lanes (vpshufb looks up per lane). */
#define C8(a, b, c, d, e, f, g, h) (char)(a), (char)(b), (char)(c), (char)(d), (char)(e), (char)(f), (char)(g), (char)(h)
#define TABLE16(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)                                                       \
    _mm256_setr_epi8(C8(a, b, c, d, e, f, g, h), C8(i, j, k, l, m, n, o, p), C8(a, b, c, d, e, f, g, h),            \
                     C8(i, j, k, l, m, n, o, p))

/* The 32 bytes ending n bytes before the end of `in`, with `prev` the
   vector before it (n = 1, 2, 3; an immediate, hence macros). */
#define PREV(in, prev, n) _mm256_alignr_epi8((in), _mm256_permute2x128_si256((prev), (in), 0x21), 16 - (n))

/* UTF-8 error classes, one bit each, for a pair (previous byte, byte). */
#define TOO_SHORT (1 << 0)  /* lead byte, then no continuation */
#define TOO_LONG (1 << 1)   /* ASCII, then a continuation */
#define OVERLONG_3 (1 << 2) /* E0 80..9F */
#define TOO_LARGE (1 << 3)  /* F4 90..BF, F5..FF 90..BF */
#define SURROGATE (1 << 4)  /* ED A0..BF */
#define OVERLONG_2 (1 << 5) /* C0/C1, then a continuation */
#define TOO_LARGE_1000 (1 << 6) /* F5..FF 80..8F */
#define OVERLONG_4 (1 << 6)     /* F0 80..8F (shares the bit: the lows differ) */
#define TWO_CONTS (1 << 7)  /* continuation, continuation: an error unless the
                               byte is a sequence's third or fourth */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS) /* whatever the low nibble */

/* Error bits (non-zero bytes) of the 32 bytes `in`, whose 32 predecessors
   are `prev`: each class is the AND of what the previous byte's high
   nibble, its low nibble and this byte's high nibble allow; then the bytes
   that must be continuations because two or three bytes back stands a
   three- or four-byte lead are XORed in (they set exactly TWO_CONTS). */
INL __m256i utf8_errors(__m256i in, __m256i prev) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const __m256i hi1 = TABLE16(TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
                                TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
                                TOO_SHORT | OVERLONG_3 | SURROGATE,
                                TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
    const __m256i lo1 = TABLE16(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
                                CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
                                CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000);
    const __m256i hi2 =
        TABLE16(TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
                TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
                TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
                TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
                TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
    __m256i p1 = PREV(in, prev, 1);
    __m256i e = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(hi1, _mm256_and_si256(_mm256_srli_epi16(p1, 4), nib)),
                         _mm256_shuffle_epi8(lo1, _mm256_and_si256(p1, nib))),
        _mm256_shuffle_epi8(hi2, _mm256_and_si256(_mm256_srli_epi16(in, 4), nib)));
    /* >= 0xE0 two back or >= 0xF0 three back: the saturating difference
       has its high bit set exactly then. */
    __m256i p2 = PREV(in, prev, 2), p3 = PREV(in, prev, 3);
    __m256i must = _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8((char)(0xE0 - 0x80))),
                                   _mm256_subs_epu8(p3, _mm256_set1_epi8((char)(0xF0 - 0x80))));
    return _mm256_xor_si256(_mm256_and_si256(must, _mm256_set1_epi8((char)0x80)), e);
}

/* Bits 0..31 from lo, 32..63 from hi. */
INL uint64_t bits64(__m256i lo, __m256i hi) {
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

#define EVEN 0x5555555555555555ull
#define ODD 0xAAAAAAAAAAAAAAAAull

typedef struct {
    uint64_t prev_escaped; /* 1: the next block's first byte is escaped */
    uint64_t prev_inside;  /* all ones: the next block starts inside a string */
    uint64_t prev_scalar;  /* 1: the last byte was part of a token */
    uint64_t bad;          /* non-zero: a refusal (control byte, ...) */
    uint64_t backslash;    /* non-zero: some string holds a backslash */
    int64_t balance;       /* opening minus closing brackets */
    __m256i prev_in;       /* the last 32 bytes (UTF-8) */
    __m256i incomplete;    /* non-zero bytes: the last block ends inside a
                              multi-byte sequence */
    __m256i utf8_err;
} scan_state;

/* A block's classification: bit i of each mask is byte i of the block. */
typedef struct {
    uint64_t ws, op, quote, bs; /* whitespace, { } [ ] : , (and 0x1A 0x0C), '"', '\\' */
    uint64_t ctl;               /* bytes below 0x20 (0 when the block has none) */
    uint64_t bit0, bit1;        /* bytes with bit 0 / bit 1 set */
} block_masks;

/* Whitespace: the table holds, at each low nibble, the one whitespace byte
   with that nibble (anything else cannot match: 0x80 has nibble 0, bytes
   >= 0x80 look up 0). Structural: { [ and } ] differ by 0x20, so the byte
   with 0x20 set is compared with { } : ,; the two control bytes that then
   match too (0x1A, 0x0C) are refused by the control-byte rule anyway. Of
   the structural bytes, bit 0 is set in the four brackets only and bit 1,
   among them, in the opening ones. */
#define WS_TABLE ' ', -128, -128, -128, -128, -128, -128, -128, -128, '\t', '\n', -128, -128, '\r', -128, -128
#define OP_TABLE -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, ':', '{', ',', '}', -128, -128
#define TABLE16_X(...) TABLE16(__VA_ARGS__) /* the table macros expanded first */

/* The UTF-8 rule for the 64 bytes lo, hi (AVX2 and AVX-512 alike: blocks
   of ASCII skip it). */
INL void utf8_block(scan_state *st, __m256i lo, __m256i hi, int ascii) {
    if (ascii) {
        st->utf8_err = _mm256_or_si256(st->utf8_err, st->incomplete);
        st->incomplete = _mm256_setzero_si256();
    } else {
        const __m256i tail = _mm256_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                              -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, (char)0xEF, (char)0xDF,
                                              (char)0xBF);
        st->utf8_err =
            _mm256_or_si256(st->utf8_err, _mm256_or_si256(utf8_errors(lo, st->prev_in), utf8_errors(hi, lo)));
        st->incomplete = _mm256_subs_epu8(hi, tail);
    }
    st->prev_in = hi;
}

/* AVX2: two 32-byte halves, each compare's mask moved out in two parts. */
INL block_masks classify_avx2(scan_state *st, const char *p, const int utf8) {
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    if (utf8) utf8_block(st, lo, hi, !_mm256_movemask_epi8(_mm256_or_si256(lo, hi)));
    const __m256i wst = TABLE16_X(WS_TABLE), opt = TABLE16_X(OP_TABLE);
    const __m256i x20 = _mm256_set1_epi8(0x20), q = _mm256_set1_epi8('"'), bsl = _mm256_set1_epi8('\\'),
                  c1f = _mm256_set1_epi8(0x1F);
#define CLASSIFY(v, W, O, Q, B, C)                                                                                   \
    __m256i W = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(wst, v), v);                                                    \
    __m256i O = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(opt, v), _mm256_or_si256(v, x20));                             \
    __m256i Q = _mm256_cmpeq_epi8(v, q);                                                                              \
    __m256i B = _mm256_cmpeq_epi8(v, bsl);                                                                            \
    __m256i C = _mm256_cmpeq_epi8(_mm256_max_epu8(v, c1f), c1f)
    CLASSIFY(lo, wl, ol, ql, bl, cl);
    CLASSIFY(hi, wh, oh, qh, bh, ch);
#undef CLASSIFY
    block_masks m;
    m.ws = bits64(wl, wh), m.op = bits64(ol, oh), m.quote = bits64(ql, qh), m.bs = bits64(bl, bh);
    /* two shifts into the sign bit instead of two more compares */
    m.bit0 = bits64(_mm256_slli_epi16(lo, 7), _mm256_slli_epi16(hi, 7));
    m.bit1 = bits64(_mm256_slli_epi16(lo, 6), _mm256_slli_epi16(hi, 6));
    __m256i anyctl = _mm256_or_si256(cl, ch);
    m.ctl = WSC_UNLIKELY(!_mm256_testz_si256(anyctl, anyctl)) ? bits64(cl, ch) : 0;
    return m;
}

/* The block's index mask (bit i: offset i) from its classification: the
   part of the work that is the same whatever the vector width. */
INL uint64_t index_mask(scan_state *st, block_masks m) {
    /* Escaped bytes: those after an odd-length run of backslashes. A run
       starting at an odd offset escapes the bytes at even offsets after
       its start and vice versa; adding the odd-start runs' first bits to
       the backslash mask clears exactly those runs (the carry leaves them),
       which tells the two kinds apart bit for bit. Only for a block with a
       backslash or after one that ended in an escaping run: the steps form
       a chain of about ten dependent operations from one block to the
       next, which bounded the whole pass (skipping it takes 25 to 30% off
       stage 1 on text without escapes; blocks with backslashes cost a
       branch more). */
    uint64_t escaped = 0;
    if (WSC_UNLIKELY(m.bs | st->prev_escaped)) {
        uint64_t b = m.bs & ~st->prev_escaped;
        uint64_t follows = b << 1 | st->prev_escaped;
        uint64_t odd_starts = b & ODD & ~follows;
        uint64_t even_runs = odd_starts + b; /* odd-start runs carried away */
        escaped = (EVEN ^ even_runs << 1) & follows;
        st->prev_escaped = (b & ~escaped) >> 63;
    }

    /* In-string mask: the prefix XOR of the real quotes (from an opening
       quote up to, not including, its closing one). */
    uint64_t quote = m.quote & ~escaped;
    uint64_t inside = (uint64_t)_mm_cvtsi128_si64(
                          _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)quote), _mm_set1_epi8(-1), 0)) ^
                      st->prev_inside;
    st->prev_inside = (uint64_t)((int64_t)inside >> 63);
    uint64_t str = inside | quote;

    uint64_t op = m.op & ~str;
    uint64_t token = ~(op | (m.ws & ~str) | str); /* bytes of numbers, literals, junk */
    uint64_t starts = token & ~(token << 1 | st->prev_scalar);
    st->prev_scalar = token >> 63;
    /* tab, LF, CR only between tokens; no other byte below 0x20 anywhere */
    if (WSC_UNLIKELY(m.ctl)) st->bad |= m.ctl & (str | ~m.ws);
    st->backslash |= m.bs & str;
    /* As many opening as closing brackets outside strings: then stage 2
       cannot run out of index entries inside a container, and reads the
       index without a bounds test per token. */
    uint64_t brackets = op & m.bit0;
    st->balance += __builtin_popcountll(brackets & m.bit1) - __builtin_popcountll(brackets & ~m.bit1);
    return op | quote | starts;
}

/* For each byte value, the offsets of its set bits, lowest first (zero
   padded): the index of 8 mask bits is one 8-byte load widened to eight
   32-bit entries. 2 KiB. */
static const uint8_t bit_offsets[256][8] = {
    {0,0,0,0,0,0,0,0}, {0,0,0,0,0,0,0,0}, {1,0,0,0,0,0,0,0}, {0,1,0,0,0,0,0,0}, {2,0,0,0,0,0,0,0}, {0,2,0,0,0,0,0,0}, {1,2,0,0,0,0,0,0}, {0,1,2,0,0,0,0,0},
    {3,0,0,0,0,0,0,0}, {0,3,0,0,0,0,0,0}, {1,3,0,0,0,0,0,0}, {0,1,3,0,0,0,0,0}, {2,3,0,0,0,0,0,0}, {0,2,3,0,0,0,0,0}, {1,2,3,0,0,0,0,0}, {0,1,2,3,0,0,0,0},
    {4,0,0,0,0,0,0,0}, {0,4,0,0,0,0,0,0}, {1,4,0,0,0,0,0,0}, {0,1,4,0,0,0,0,0}, {2,4,0,0,0,0,0,0}, {0,2,4,0,0,0,0,0}, {1,2,4,0,0,0,0,0}, {0,1,2,4,0,0,0,0},
    {3,4,0,0,0,0,0,0}, {0,3,4,0,0,0,0,0}, {1,3,4,0,0,0,0,0}, {0,1,3,4,0,0,0,0}, {2,3,4,0,0,0,0,0}, {0,2,3,4,0,0,0,0}, {1,2,3,4,0,0,0,0}, {0,1,2,3,4,0,0,0},
    {5,0,0,0,0,0,0,0}, {0,5,0,0,0,0,0,0}, {1,5,0,0,0,0,0,0}, {0,1,5,0,0,0,0,0}, {2,5,0,0,0,0,0,0}, {0,2,5,0,0,0,0,0}, {1,2,5,0,0,0,0,0}, {0,1,2,5,0,0,0,0},
    {3,5,0,0,0,0,0,0}, {0,3,5,0,0,0,0,0}, {1,3,5,0,0,0,0,0}, {0,1,3,5,0,0,0,0}, {2,3,5,0,0,0,0,0}, {0,2,3,5,0,0,0,0}, {1,2,3,5,0,0,0,0}, {0,1,2,3,5,0,0,0},
    {4,5,0,0,0,0,0,0}, {0,4,5,0,0,0,0,0}, {1,4,5,0,0,0,0,0}, {0,1,4,5,0,0,0,0}, {2,4,5,0,0,0,0,0}, {0,2,4,5,0,0,0,0}, {1,2,4,5,0,0,0,0}, {0,1,2,4,5,0,0,0},
    {3,4,5,0,0,0,0,0}, {0,3,4,5,0,0,0,0}, {1,3,4,5,0,0,0,0}, {0,1,3,4,5,0,0,0}, {2,3,4,5,0,0,0,0}, {0,2,3,4,5,0,0,0}, {1,2,3,4,5,0,0,0}, {0,1,2,3,4,5,0,0},
    {6,0,0,0,0,0,0,0}, {0,6,0,0,0,0,0,0}, {1,6,0,0,0,0,0,0}, {0,1,6,0,0,0,0,0}, {2,6,0,0,0,0,0,0}, {0,2,6,0,0,0,0,0}, {1,2,6,0,0,0,0,0}, {0,1,2,6,0,0,0,0},
    {3,6,0,0,0,0,0,0}, {0,3,6,0,0,0,0,0}, {1,3,6,0,0,0,0,0}, {0,1,3,6,0,0,0,0}, {2,3,6,0,0,0,0,0}, {0,2,3,6,0,0,0,0}, {1,2,3,6,0,0,0,0}, {0,1,2,3,6,0,0,0},
    {4,6,0,0,0,0,0,0}, {0,4,6,0,0,0,0,0}, {1,4,6,0,0,0,0,0}, {0,1,4,6,0,0,0,0}, {2,4,6,0,0,0,0,0}, {0,2,4,6,0,0,0,0}, {1,2,4,6,0,0,0,0}, {0,1,2,4,6,0,0,0},
    {3,4,6,0,0,0,0,0}, {0,3,4,6,0,0,0,0}, {1,3,4,6,0,0,0,0}, {0,1,3,4,6,0,0,0}, {2,3,4,6,0,0,0,0}, {0,2,3,4,6,0,0,0}, {1,2,3,4,6,0,0,0}, {0,1,2,3,4,6,0,0},
    {5,6,0,0,0,0,0,0}, {0,5,6,0,0,0,0,0}, {1,5,6,0,0,0,0,0}, {0,1,5,6,0,0,0,0}, {2,5,6,0,0,0,0,0}, {0,2,5,6,0,0,0,0}, {1,2,5,6,0,0,0,0}, {0,1,2,5,6,0,0,0},
    {3,5,6,0,0,0,0,0}, {0,3,5,6,0,0,0,0}, {1,3,5,6,0,0,0,0}, {0,1,3,5,6,0,0,0}, {2,3,5,6,0,0,0,0}, {0,2,3,5,6,0,0,0}, {1,2,3,5,6,0,0,0}, {0,1,2,3,5,6,0,0},
    {4,5,6,0,0,0,0,0}, {0,4,5,6,0,0,0,0}, {1,4,5,6,0,0,0,0}, {0,1,4,5,6,0,0,0}, {2,4,5,6,0,0,0,0}, {0,2,4,5,6,0,0,0}, {1,2,4,5,6,0,0,0}, {0,1,2,4,5,6,0,0},
    {3,4,5,6,0,0,0,0}, {0,3,4,5,6,0,0,0}, {1,3,4,5,6,0,0,0}, {0,1,3,4,5,6,0,0}, {2,3,4,5,6,0,0,0}, {0,2,3,4,5,6,0,0}, {1,2,3,4,5,6,0,0}, {0,1,2,3,4,5,6,0},
    {7,0,0,0,0,0,0,0}, {0,7,0,0,0,0,0,0}, {1,7,0,0,0,0,0,0}, {0,1,7,0,0,0,0,0}, {2,7,0,0,0,0,0,0}, {0,2,7,0,0,0,0,0}, {1,2,7,0,0,0,0,0}, {0,1,2,7,0,0,0,0},
    {3,7,0,0,0,0,0,0}, {0,3,7,0,0,0,0,0}, {1,3,7,0,0,0,0,0}, {0,1,3,7,0,0,0,0}, {2,3,7,0,0,0,0,0}, {0,2,3,7,0,0,0,0}, {1,2,3,7,0,0,0,0}, {0,1,2,3,7,0,0,0},
    {4,7,0,0,0,0,0,0}, {0,4,7,0,0,0,0,0}, {1,4,7,0,0,0,0,0}, {0,1,4,7,0,0,0,0}, {2,4,7,0,0,0,0,0}, {0,2,4,7,0,0,0,0}, {1,2,4,7,0,0,0,0}, {0,1,2,4,7,0,0,0},
    {3,4,7,0,0,0,0,0}, {0,3,4,7,0,0,0,0}, {1,3,4,7,0,0,0,0}, {0,1,3,4,7,0,0,0}, {2,3,4,7,0,0,0,0}, {0,2,3,4,7,0,0,0}, {1,2,3,4,7,0,0,0}, {0,1,2,3,4,7,0,0},
    {5,7,0,0,0,0,0,0}, {0,5,7,0,0,0,0,0}, {1,5,7,0,0,0,0,0}, {0,1,5,7,0,0,0,0}, {2,5,7,0,0,0,0,0}, {0,2,5,7,0,0,0,0}, {1,2,5,7,0,0,0,0}, {0,1,2,5,7,0,0,0},
    {3,5,7,0,0,0,0,0}, {0,3,5,7,0,0,0,0}, {1,3,5,7,0,0,0,0}, {0,1,3,5,7,0,0,0}, {2,3,5,7,0,0,0,0}, {0,2,3,5,7,0,0,0}, {1,2,3,5,7,0,0,0}, {0,1,2,3,5,7,0,0},
    {4,5,7,0,0,0,0,0}, {0,4,5,7,0,0,0,0}, {1,4,5,7,0,0,0,0}, {0,1,4,5,7,0,0,0}, {2,4,5,7,0,0,0,0}, {0,2,4,5,7,0,0,0}, {1,2,4,5,7,0,0,0}, {0,1,2,4,5,7,0,0},
    {3,4,5,7,0,0,0,0}, {0,3,4,5,7,0,0,0}, {1,3,4,5,7,0,0,0}, {0,1,3,4,5,7,0,0}, {2,3,4,5,7,0,0,0}, {0,2,3,4,5,7,0,0}, {1,2,3,4,5,7,0,0}, {0,1,2,3,4,5,7,0},
    {6,7,0,0,0,0,0,0}, {0,6,7,0,0,0,0,0}, {1,6,7,0,0,0,0,0}, {0,1,6,7,0,0,0,0}, {2,6,7,0,0,0,0,0}, {0,2,6,7,0,0,0,0}, {1,2,6,7,0,0,0,0}, {0,1,2,6,7,0,0,0},
    {3,6,7,0,0,0,0,0}, {0,3,6,7,0,0,0,0}, {1,3,6,7,0,0,0,0}, {0,1,3,6,7,0,0,0}, {2,3,6,7,0,0,0,0}, {0,2,3,6,7,0,0,0}, {1,2,3,6,7,0,0,0}, {0,1,2,3,6,7,0,0},
    {4,6,7,0,0,0,0,0}, {0,4,6,7,0,0,0,0}, {1,4,6,7,0,0,0,0}, {0,1,4,6,7,0,0,0}, {2,4,6,7,0,0,0,0}, {0,2,4,6,7,0,0,0}, {1,2,4,6,7,0,0,0}, {0,1,2,4,6,7,0,0},
    {3,4,6,7,0,0,0,0}, {0,3,4,6,7,0,0,0}, {1,3,4,6,7,0,0,0}, {0,1,3,4,6,7,0,0}, {2,3,4,6,7,0,0,0}, {0,2,3,4,6,7,0,0}, {1,2,3,4,6,7,0,0}, {0,1,2,3,4,6,7,0},
    {5,6,7,0,0,0,0,0}, {0,5,6,7,0,0,0,0}, {1,5,6,7,0,0,0,0}, {0,1,5,6,7,0,0,0}, {2,5,6,7,0,0,0,0}, {0,2,5,6,7,0,0,0}, {1,2,5,6,7,0,0,0}, {0,1,2,5,6,7,0,0},
    {3,5,6,7,0,0,0,0}, {0,3,5,6,7,0,0,0}, {1,3,5,6,7,0,0,0}, {0,1,3,5,6,7,0,0}, {2,3,5,6,7,0,0,0}, {0,2,3,5,6,7,0,0}, {1,2,3,5,6,7,0,0}, {0,1,2,3,5,6,7,0},
    {4,5,6,7,0,0,0,0}, {0,4,5,6,7,0,0,0}, {1,4,5,6,7,0,0,0}, {0,1,4,5,6,7,0,0}, {2,4,5,6,7,0,0,0}, {0,2,4,5,6,7,0,0}, {1,2,4,5,6,7,0,0}, {0,1,2,4,5,6,7,0},
    {3,4,5,6,7,0,0,0}, {0,3,4,5,6,7,0,0}, {1,3,4,5,6,7,0,0}, {0,1,3,4,5,6,7,0}, {2,3,4,5,6,7,0,0}, {0,2,3,4,5,6,7,0}, {1,2,3,4,5,6,7,0}, {0,1,2,3,4,5,6,7},
};

/* The index entries of mask m (block at offset base) appended at *out:
   per 8 bits of the mask, one table load widened to eight entries, the
   block's offset added, one 32-byte store, and the output advanced by the
   byte's population; the slots past it get junk that the next store
   overwrites or that lies in the index's slack (64 spare entries). About
   8 instructions per 8 mask bits, whatever their population, instead of 5
   to 6 per entry. */
INL void flatten(uint32_t **out, uint64_t m, uint32_t base) {
    uint32_t *o = *out;
    if (!m) return;
    __m256i b = _mm256_set1_epi32((int)base);
    const __m256i eight = _mm256_set1_epi32(8);
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++, m >>= 8, b = _mm256_add_epi32(b, eight)) {
        unsigned byte = (unsigned)(m & 0xFF);
        __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)bit_offsets[byte]));
        _mm256_storeu_si256((__m256i *)(void *)o, _mm256_add_epi32(v, b));
        o += __builtin_popcount(byte);
    }
    *out = o;
}

/* AVX-512 (BW, VBMI2): the block in one register, each class one compare
   straight into a mask register (no vpmovmskb pair per class, as AVX2
   needs). */
#define TGT512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi2,avx2,pclmul,bmi,popcnt")))
#define INL512 static inline __attribute__((always_inline)) TGT512

/* A 16-byte table in the four 128-bit lanes. */
#define TABLE16X4(...) _mm512_broadcast_i32x4(_mm_setr_epi8(__VA_ARGS__))

INL512 block_masks classify_avx512(scan_state *st, __m512i v, const int utf8) {
    if (utf8)
        utf8_block(st, _mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1), !_mm512_movepi8_mask(v));
    const __m512i wst = TABLE16X4(WS_TABLE), opt = TABLE16X4(OP_TABLE);
    block_masks m;
    m.ws = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(wst, v), v);
    m.op = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(opt, v), _mm512_or_si512(v, _mm512_set1_epi8(0x20)));
    m.quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
    m.bs = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
    m.ctl = _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x1F));
    /* Bits 0 and 1 shifted into the sign bit and moved out (shift and
       VPMOVB2M issue on port 0) rather than tested (VPTESTMB, like every
       compare into a mask register, only on port 5, which this loop's
       compares, byte shuffles, compress and widening already keep busy):
       -5 to -10% of stage 1. */
    m.bit0 = _mm512_movepi8_mask(_mm512_slli_epi16(v, 7));
    m.bit1 = _mm512_movepi8_mask(_mm512_slli_epi16(v, 6));
    return m;
}

/* The index entries of mask m with one byte compress: the offsets of the
   set bits, lowest first, as bytes, widened 16 at a time to entries with
   the block's offset added. Two 16-entry stores always (the benchmark's
   messages average 26 entries per block), two more past 32; the slots past
   the last entry get junk, as with flatten(): at most 63 past it, inside
   the index's slack since the entries before a block are fewer than its
   offset. */
INL512 void flatten512(uint32_t **out, uint64_t m, uint32_t base) {
    const __m512i iota = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
                                         44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26,
                                         25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                         4, 3, 2, 1, 0);
    uint32_t *o = *out;
    __m512i c = _mm512_maskz_compress_epi8(m, iota), b = _mm512_set1_epi32((int)base);
    unsigned n = (unsigned)__builtin_popcountll(m);
    _mm512_storeu_si512((void *)o, _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(c)), b));
    _mm512_storeu_si512((void *)(o + 16), _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(c, 1)), b));
    if (n > 32) {
        _mm512_storeu_si512((void *)(o + 32),
                            _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(c, 2)), b));
        _mm512_storeu_si512((void *)(o + 48),
                            _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(c, 3)), b));
    }
    *out = o + n;
}

/* The pass over s[0..len), for either width; the
   last partial block is padded with spaces (whitespace: adds no entry,
   ends a token, and a truncated UTF-8 sequence before it is an error as at
   the end of the text). */
#define STAGE1_BODY(CLASSIFY, TAIL, FLATTEN)                                                                           \
    scan_state st;                                                                                                     \
    memset(&st, 0, sizeof st);                                                                                         \
    st.prev_in = st.incomplete = st.utf8_err = _mm256_setzero_si256();                                                \
    uint32_t *o = idx;                                                                                                 \
    size_t i = 0;                                                                                                      \
    for (; len - i >= 64; i += 64) FLATTEN(&o, index_mask(&st, CLASSIFY(&st, s + i, utf8)), (uint32_t)i);            \
    if (i < len) FLATTEN(&o, index_mask(&st, TAIL(&st, s + i, len - i, utf8)), (uint32_t)i);                          \
    if (utf8 && !_mm256_testz_si256(_mm256_or_si256(st.utf8_err, st.incomplete),                                      \
                                    _mm256_or_si256(st.utf8_err, st.incomplete)))                                      \
        return -1;                                                                                                     \
    if (st.bad || st.prev_inside || st.balance) return -1;                                                             \
    *has_backslash = st.backslash != 0;                                                                                \
    return (long)(o - idx)

/* The last partial block (n < 64 bytes at p) as a full one, padded with
   spaces: AVX2 through a copy; AVX-512 with one masked load (the bytes
   past the text are not read). The copy's small stores under a 64-byte
   load stall it (no store forwarding): about a tenth of stage 1's time on
   an 880-byte text. */
INL block_masks tail_avx2(scan_state *st, const char *p, size_t n, const int utf8) {
    char tail[64];
    memset(tail, ' ', sizeof tail);
    memcpy(tail, p, n);
    return classify_avx2(st, tail, utf8);
}

INL512 block_masks full_avx512(scan_state *st, const char *p, const int utf8) {
    return classify_avx512(st, _mm512_loadu_si512((const void *)p), utf8);
}

INL512 block_masks tail_avx512(scan_state *st, const char *p, size_t n, const int utf8) {
    __m512i v = _mm512_mask_loadu_epi8(_mm512_set1_epi8(' '), (__mmask64)((1ull << n) - 1), (const void *)p);
    return classify_avx512(st, v, utf8);
}

INL long stage1_avx2(const char *s, size_t len, uint32_t *idx, int *has_backslash, const int utf8) {
    STAGE1_BODY(classify_avx2, tail_avx2, flatten);
}

INL512 long stage1_avx512(const char *s, size_t len, uint32_t *idx, int *has_backslash, const int utf8) {
    STAGE1_BODY(full_avx512, tail_avx512, flatten512);
}

/* Not inlined into the AVX2 entry point below (its target lacks AVX-512). */
static TGT512 __attribute__((noinline)) long run_avx512(const char *s, size_t len, uint32_t *idx, int utf8,
                                                        int *has_backslash) {
    return utf8 ? stage1_avx512(s, len, idx, has_backslash, 1) : stage1_avx512(s, len, idx, has_backslash, 0);
}

int wsc__json_force_avx2 = 0;

int wsc__json_stage1_avx512_available(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi2");
}

TGT long wsc__json_stage1(const char *s, size_t len, uint32_t *idx, int utf8, int *has_backslash) {
    if (!wsc__json_force_avx2 && wsc__json_stage1_avx512_available()) return run_avx512(s, len, idx, utf8, has_backslash);
    return utf8 ? stage1_avx2(s, len, idx, has_backslash, 1) : stage1_avx2(s, len, idx, has_backslash, 0);
}

int wsc__json_stage1_forms_agree(const char *s, size_t len) {
    if (!wsc__json_stage1_available() || !wsc__json_stage1_avx512_available() || len > WSC__JSON_STAGE1_MAX)
        return -1;
    uint32_t *ia = wsc__malloc((len + 65) * sizeof *ia), *ib = wsc__malloc((len + 65) * sizeof *ib);
    int rc = ia && ib ? 1 : -2;
    for (int utf8 = 0; rc == 1 && utf8 <= 1; utf8++) {
        int ba = -1, bb = -1, saved = wsc__json_force_avx2;
        wsc__json_force_avx2 = 1;
        long nb = wsc__json_stage1(s, len, ib, utf8, &bb);
        wsc__json_force_avx2 = 0;
        long na = wsc__json_stage1(s, len, ia, utf8, &ba);
        wsc__json_force_avx2 = saved;
        if (na != nb || (na >= 0 && (ba != bb || memcmp(ia, ib, (size_t)na * sizeof *ia)))) rc = 0;
    }
    wsc__free(ia);
    wsc__free(ib);
    return rc;
}

#else

int wsc__json_stage1_forms_agree(const char *s, size_t len) {
    (void)s, (void)len;
    return -1;
}

int wsc__json_stage1_available(void) { return 0; }

int wsc__json_force_avx2 = 0;

int wsc__json_stage1_avx512_available(void) { return 0; }

long wsc__json_stage1(const char *s, size_t len, uint32_t *idx, int utf8, int *has_backslash) {
    (void)s, (void)len, (void)idx, (void)utf8, (void)has_backslash;
    return -1;
}

#endif
