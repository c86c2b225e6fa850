/*
 * utf8.c - incremental UTF-8 validation (RFC 3629, Unicode Table 3-7).
 *
 * Every byte of every text message goes through here, so this is one of the
 * two loops (with masking) where the receive path spends its time. Design:
 *
 *   1. An ASCII fast path. Real text is mostly ASCII, and an ASCII byte can
 *      only be valid at a character boundary, so while the state is 0 we test
 *      64 bytes at a time for a set high bit (SSE2: four loads, three ORs and
 *      one movemask, about 8 instructions for 64 bytes; the portable path
 *      does the same with uint64_t words, 32 bytes a step). This runs at
 *      memory speed.
 *
 *   2. A DFA for everything else: one table load and one shift per byte.
 *      The table is indexed by the byte; each entry packs, for every state,
 *      the next state into a 6-bit field, and a state *is* the bit offset of
 *      its own field. So the step is
 *
 *          state = table[byte] >> state
 *
 *      The load does not depend on the state (it can issue early), and the
 *      shift is the only link in the loop-carried chain: about 1 cycle per
 *      byte. The fields above the one selected are garbage after the shift,
 *      but we never mask them: states are < 64, and we only ever shift by
 *      the low 6 bits (done explicitly as `& 63`, which x86 and ARM64 shift
 *      instructions do for free, so the compiler drops the AND).
 *
 *      REJECT is absorbing, so a block of 16 bytes runs without a branch per
 *      byte; only at the end do we look at the state. If it is REJECT we
 *      replay the block byte by byte to find the failing index: that costs
 *      16 steps once per message, never on valid input.
 *
 *   After a DFA block that ends at a character boundary, if the next 16
 *   bytes are pure ASCII, we go back to the ASCII path: a long document
 *   with a few accented letters still runs at ASCII speed between them,
 *   while text that is mostly non-ASCII stays in the DFA and pays one
 *   well-predicted test per block for the chance.
 *
 * The state kept between calls is the DFA state itself. Besides "n bytes
 * still missing" it remembers the four lead bytes whose *second* byte has a
 * narrower range (E0, ED, F0, F4), which is what lets us fail at the first
 * impossible byte even when a sequence is split across calls or frames.
 */
#include <string.h>

#include "internal.h"
#include "wsc/proto.h"

/* SSE2 is the x86-64 baseline; the builtins we pair it with (ctz) are the
   only reason for the __GNUC__ test. */
#if defined(__SSE2__) && defined(__GNUC__)
#define UTF8_SSE2 1
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------ */
/* The DFA                                                              */
/* ------------------------------------------------------------------ */

/* States are bit offsets of 6-bit fields; ACCEPT must be 0 (the public
   contract: state 0 is a character boundary and a zeroed struct is valid). */
enum {
    S_ACCEPT = 0,  /* at a character boundary */
    S_REJECT = 6,  /* an impossible byte was seen; absorbing */
    S_CONT1 = 12,  /* one continuation byte (80..BF) missing */
    S_CONT2 = 18,  /* two missing */
    S_CONT3 = 24,  /* three missing */
    S_E0 = 30,     /* after E0: next must be A0..BF (no overlong 3-byte) */
    S_ED = 36,     /* after ED: next must be 80..9F (no surrogates) */
    S_F0 = 42,     /* after F0: next must be 90..BF (no overlong 4-byte) */
    S_F4 = 48      /* after F4: next must be 80..8F (nothing > U+10FFFF) */
};

/* A row with every state going to REJECT; valid transitions are then XORed
   in: the field holds REJECT, so XOR with (to ^ REJECT) leaves `to`. */
#define F_(from, to) ((uint64_t)(to) << (from))
#define ALL_REJECT                                                                            \
    (F_(S_ACCEPT, S_REJECT) | F_(S_REJECT, S_REJECT) | F_(S_CONT1, S_REJECT) |               \
     F_(S_CONT2, S_REJECT) | F_(S_CONT3, S_REJECT) | F_(S_E0, S_REJECT) | F_(S_ED, S_REJECT) | \
     F_(S_F0, S_REJECT) | F_(S_F4, S_REJECT))
#define GO(from, to) F_(from, (uint64_t)(to) ^ S_REJECT)

/* Continuation bytes advance the three plain "missing n" states. */
#define CONT_ANY (GO(S_CONT1, S_ACCEPT) | GO(S_CONT2, S_CONT1) | GO(S_CONT3, S_CONT2))

/* One row per byte class. */
#define R_ASCII (ALL_REJECT ^ GO(S_ACCEPT, S_ACCEPT))                          /* 00..7F */
#define R_C80 (ALL_REJECT ^ CONT_ANY ^ GO(S_ED, S_CONT1) ^ GO(S_F4, S_CONT2)) /* 80..8F */
#define R_C90 (ALL_REJECT ^ CONT_ANY ^ GO(S_ED, S_CONT1) ^ GO(S_F0, S_CONT2)) /* 90..9F */
#define R_CA0 (ALL_REJECT ^ CONT_ANY ^ GO(S_E0, S_CONT1) ^ GO(S_F0, S_CONT2)) /* A0..BF */
#define R_BAD ALL_REJECT                                   /* C0 C1 F5..FF */
#define R_L2 (ALL_REJECT ^ GO(S_ACCEPT, S_CONT1))          /* C2..DF */
#define R_LE0 (ALL_REJECT ^ GO(S_ACCEPT, S_E0))            /* E0 */
#define R_L3 (ALL_REJECT ^ GO(S_ACCEPT, S_CONT2))          /* E1..EC EE EF */
#define R_LED (ALL_REJECT ^ GO(S_ACCEPT, S_ED))            /* ED */
#define R_LF0 (ALL_REJECT ^ GO(S_ACCEPT, S_F0))            /* F0 */
#define R_L4 (ALL_REJECT ^ GO(S_ACCEPT, S_CONT3))          /* F1..F3 */
#define R_LF4 (ALL_REJECT ^ GO(S_ACCEPT, S_F4))            /* F4 */

#define X4(r) r, r, r, r
#define X16(r) X4(r), X4(r), X4(r), X4(r)

/* 2 KiB: stays in L1 next to the data. */
static const uint64_t utf8_dfa[256] = {
    X16(R_ASCII), X16(R_ASCII), X16(R_ASCII), X16(R_ASCII), /* 00..3F */
    X16(R_ASCII), X16(R_ASCII), X16(R_ASCII), X16(R_ASCII), /* 40..7F */
    X16(R_C80),                                             /* 80..8F */
    X16(R_C90),                                             /* 90..9F */
    X16(R_CA0), X16(R_CA0),                                 /* A0..BF */
    R_BAD, R_BAD, R_L2, R_L2, X4(R_L2), X4(R_L2), X4(R_L2), /* C0..CF */
    X16(R_L2),                                              /* D0..DF */
    R_LE0, R_L3, R_L3, R_L3, X4(R_L3), X4(R_L3),            /* E0..EB */
    R_L3, R_LED, R_L3, R_L3,                                /* EC..EF */
    R_LF0, R_L4, R_L4, R_L4, R_LF4, R_BAD, R_BAD, R_BAD,    /* F0..F7 */
    R_BAD, R_BAD, R_BAD, R_BAD, X4(R_BAD)                   /* F8..FF */
};

static inline uint64_t dfa_step(uint64_t state, uint8_t byte) {
    return (utf8_dfa[byte] >> (state & 63)) & 63;
}

/*
 * Runs the DFA over p[0..n) from `state`, with no exit per byte; the caller
 * checks for REJECT afterwards. The final `& 63` keeps the returned state
 * clean; inside the loop only the low 6 bits ever matter.
 */
static inline uint64_t dfa_run(uint64_t state, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) state = utf8_dfa[p[i]] >> (state & 63);
    return state & 63;
}

/* The same for exactly 16 bytes, written out: compilers at -O2 do not unroll
   the loop above, and the loop's own counter and branch would double the
   instructions per byte. */
#define STEP_(k) state = utf8_dfa[p[k]] >> (state & 63)
static inline uint64_t dfa_run16(uint64_t state, const uint8_t *p) {
    STEP_(0), STEP_(1), STEP_(2), STEP_(3), STEP_(4), STEP_(5), STEP_(6), STEP_(7);
    STEP_(8), STEP_(9), STEP_(10), STEP_(11), STEP_(12), STEP_(13), STEP_(14), STEP_(15);
    return state & 63;
}
#undef STEP_

/* Index of the byte of p[0..n) at which `state` turns into REJECT (the
   caller knows it does). Slow path: runs once per invalid message. */
static size_t dfa_find_reject(uint64_t state, const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        state = dfa_step(state, p[i]);
        if (state == S_REJECT) break;
    }
    return i;
}

/* ------------------------------------------------------------------ */
/* The ASCII fast path                                                  */
/* ------------------------------------------------------------------ */

#define HIGH_BITS UINT64_C(0x8080808080808080)

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v); /* one unaligned load; no aliasing games */
    return v;
}

/* Position of the first byte with its high bit set in an 8-byte word whose
   high-bit mask `m` is non-zero (byte order matters: the word came from
   memcpy, so on a big-endian machine the first byte is the most significant). */
static inline size_t first_high_byte(uint64_t m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (size_t)__builtin_ctzll(m) >> 3;
#else
    uint8_t b[8];
    memcpy(b, &m, sizeof b);
    size_t i = 0;
    while (!(b[i] & 0x80)) i++;
    return i;
#endif
}

/*
 * Returns the index of the first byte >= 0x80 in p[i..len), or len.
 * Never reads outside p[0..len).
 */
static size_t ascii_skip(const uint8_t *p, size_t i, size_t len) {
#if defined(UTF8_SSE2)
    /* 64 bytes per step: the ORs fold four vectors into one movemask test. */
    while (len - i >= 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 32));
        __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 48));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) break;
        i += 64;
    }
    /* Leftover 16-byte blocks, and the block where the 64-byte loop stopped:
       here we find which vector holds the byte. */
    while (len - i >= 16) {
        int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
        if (m != 0) return i + (size_t)__builtin_ctz((unsigned)m);
        i += 16;
    }
#else
    /* Portable: 32 bytes per step in four words, then word by word. */
    while (len - i >= 32) {
        uint64_t m = load64(p + i) | load64(p + i + 8) | load64(p + i + 16) | load64(p + i + 24);
        if (m & HIGH_BITS) break;
        i += 32;
    }
#endif
    while (len - i >= 8) {
        uint64_t m = load64(p + i) & HIGH_BITS;
        if (m) return i + first_high_byte(m);
        i += 8;
    }
    while (i < len && p[i] < 0x80) i++;
    return i;
}

/* ------------------------------------------------------------------ */
/* The public functions                                                 */
/* ------------------------------------------------------------------ */

/* Non-zero if any of p[0..16) has its high bit set. */
static inline int high16(const uint8_t *p) {
#if defined(UTF8_SSE2)
    return _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)p));
#else
    return ((load64(p) | load64(p + 8)) & HIGH_BITS) != 0;
#endif
}

size_t wsc_utf8_validate(wsc_utf8 *st, const void *s, size_t len) {
    const uint8_t *p = s;
    uint64_t state = st->state;
    size_t i = 0;

    /* A state left at REJECT by an earlier failure (the caller should have
       reset it) needs no test of its own: REJECT is absorbing, so the
       first byte is reported as the failing one. */
    for (;;) {
        if (state == S_ACCEPT) {
            i = ascii_skip(p, i, len);
            if (i == len) break;
        }
        /*
         * DFA mode, 16 bytes a block. We leave it only when we are at a
         * character boundary and the next block is pure ASCII: one
         * combined test, so text that is not mostly ASCII pays one
         * well-predicted branch per block instead of a mispredicted trip
         * through ascii_skip after every character that ends a block.
         */
        while (len - i >= 16) {
            uint64_t next = dfa_run16(state, p + i);
            if (WSC_UNLIKELY(next == S_REJECT)) {
                st->state = S_REJECT;
                return i + dfa_find_reject(state, p + i, 16);
            }
            state = next;
            i += 16;
            if (len - i >= 16 && (state | (uint64_t)high16(p + i)) == 0) break;
        }
        if (len - i < 16) {
            /* The last 0-15 bytes: byte loop, then we are done. */
            uint64_t next = dfa_run(state, p + i, len - i);
            if (WSC_UNLIKELY(next == S_REJECT)) {
                st->state = S_REJECT;
                return i + dfa_find_reject(state, p + i, len - i);
            }
            state = next;
            break;
        }
    }
    st->state = (uint32_t)state;
    return len;
}

int wsc_utf8_valid(const void *s, size_t len) {
    wsc_utf8 st = {0};
    return wsc_utf8_validate(&st, s, len) == len && wsc_utf8_complete(&st);
}
