/* scan.h - the byte scanners both of the parser's walks use (parse.c's
   one-pass walk() and stage2.c's walk over the index): digits, escapes,
   whitespace and strings, in SSE2 where the compiler targets it and in
   portable 8-byte words elsewhere. Internal to src/json. */
#ifndef WSC_JSON_SCAN_H
#define WSC_JSON_SCAN_H

#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"

/* SSE2 is the x86-64 baseline: the string scan uses it where the compiler
   targets it, and the portable SWAR words below everywhere else (and when
   wsc__json_force_scalar is set, so that the same tests cover both). */
#if defined(__SSE2__) && defined(__GNUC__) && !defined(WSC_JSON_NO_SIMD)
#include <emmintrin.h>
#define JSON_SSE2 1
#else
#define JSON_SSE2 0
#endif

/* For the walks' small helpers too: with the walk compiled in several copies
   the compiler stops inlining them otherwise (a call per number). */
#if defined(__GNUC__)
#define JSON_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define JSON_ALWAYS_INLINE inline
#endif

/* Lanes that are not an ASCII digit; exact for the lowest one (lanes
   below it are digits and lend or carry nothing). x - '0' per lane is 0..9
   for a digit; anything else either has its high bit set already or gets
   it from adding 0x76. nondigit_bits() is the same before its mask of
   the high bits, for a caller whose own lane mask has only high bits. */
static JSON_ALWAYS_INLINE uint64_t nondigit_bits(uint64_t x) {
    uint64_t t = x - ONES * '0';
    return t | (t + ONES * 0x76);
}
static JSON_ALWAYS_INLINE uint64_t nondigit_lanes(uint64_t x) { return nondigit_bits(x) & HIGHS; }

/* Skips digits from q; returns the first non-digit (or end). */
static inline const char *skip_digits(const char *q, const char *end) {
    /* One 8-byte word covers most numbers in messages (ids, prices,
       counts): about a third of the byte loop's instructions. Bytes only
       within 8 of the end. */
    while (end - q >= 8) {
        uint64_t m = nondigit_lanes(load64(q));
        if (m) return q + ((unsigned)__builtin_ctzll(m) >> 3);
        q += 8;
    }
    while (q < end && (unsigned)(*q - '0') < 10) q++;
    return q;
}

static inline int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static inline int hex4(const char *p, const char *end) {
    if (end - p < 4) return -1;
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)p[k]);
        if (h < 0) return -1;
        v = v << 4 | h;
    }
    return v;
}

static inline int is_space(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Scans a string whose opening quote is at p. Returns its closing quote
   and sets *escaped, or NULL with *epos / *emsg set. */
static inline const char *scan_string(const char *p, const char *end, int *escaped, const char **epos,
                                      const char **emsg) {
    const char *q = p + 1;
    for (;;) {
#if JSON_SSE2
        /* 16 bytes per step: most keys and short values end in the first
           one. The flag costs one predictable branch per string. */
        if (WSC_LIKELY(!wsc__json_force_scalar)) {
            const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), c1f = _mm_set1_epi8(0x1F);
            while (end - q >= 16) {
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
                /* x <= 0x1F (unsigned) exactly when max(x, 0x1F) == 0x1F */
                __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                         _mm_cmpeq_epi8(_mm_max_epu8(x, c1f), c1f));
                unsigned bits = (unsigned)_mm_movemask_epi8(m);
                if (bits) {
                    q += __builtin_ctz(bits);
                    goto special;
                }
                q += 16;
            }
        }
#endif
        while (end - q >= 8) {
            uint64_t m = string_specials(load64(q));
            if (m) {
                q += (unsigned)__builtin_ctzll(m) >> 3;
                goto special;
            }
            q += 8;
        }
        while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
        if (q == end) goto unterminated;
    special:
        if (WSC_LIKELY(*q == '"')) return q;
        if (*q != '\\') {
            *epos = q, *emsg = "control character in a string (must be escaped)";
            return NULL;
        }
        *escaped = 1;
        if (++q == end) goto unterminated;
        switch (*q) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': q++; break;
        case 'u': {
            int u = hex4(q + 1, end);
            if (u < 0) {
                *epos = q - 1, *emsg = "invalid \\u escape";
                return NULL;
            }
            q += 5;
            if (u >= 0xDC00 && u <= 0xDFFF) {
                *epos = q - 6, *emsg = "invalid \\u escape: lone low surrogate";
                return NULL;
            }
            if (u >= 0xD800 && u <= 0xDBFF) {
                int lo = (end - q >= 2 && q[0] == '\\' && q[1] == 'u') ? hex4(q + 2, end) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    *epos = q - 6, *emsg = "invalid \\u escape: high surrogate without its pair";
                    return NULL;
                }
                q += 6;
            }
            break;
        }
        default: *epos = q - 1, *emsg = "invalid escape"; return NULL;
        }
    }
unterminated:
    *epos = p, *emsg = "unterminated string";
    return NULL;
}

#endif
