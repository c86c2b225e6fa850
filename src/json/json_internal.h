/* json_internal.h - the node array behind wsc_json (json.h), shared by the
   parser (parse.c, stage1.c, stage2.c), the view (view.c) and the writers
   (write.c). */
#ifndef WSC_JSON_INTERNAL_H
#define WSC_JSON_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wsc/json.h"
#include "wsc/wsc.h"

/* Node types beyond the public ones. */
enum { WSC__JKEY = 8, WSC__JEND = 9 };

/* Node flags. */
enum {
    WSC__JF_ESCAPED = 1, /* string/key: has backslash escapes */
    WSC__JF_INT = 2,     /* number: no fraction, no exponent */
    WSC__JF_DUP_SUSPECT = 4 /* object, while parsed with WSC_JSON_NO_DUPLICATES:
                               two keys may be equal (cleared at its close) */
};

/*
 * One node per value, per member key and per closing bracket, in document
 * order: an object is OBJECT, then (KEY, value)..., then END; an array is
 * ARRAY, value..., END. 16 bytes.
 */
typedef struct wsc__jnode {
    uint8_t type;  /* enum wsc_json_type, WSC__JKEY or WSC__JEND */
    uint8_t flags; /* WSC__JF_* */
    uint16_t pad;
    uint32_t off;  /* string/key: first byte after the quote; number/literal:
                      its first byte; container: its bracket; END: its bracket */
    uint32_t len;  /* string/key: raw bytes between the quotes; number: text
                      length; literal: 4 or 5; container: elements/members */
    uint32_t link; /* container: index of its END; END: index of its opening
                      node; escaped string/key: 1 + index in `dec` once unescaped */
} wsc__jnode;

/* An unescaped string (in the document's arena). */
typedef struct wsc__jdec {
    const char *s;
    size_t n;
} wsc__jdec;

/* Arena block for unescaped strings: blocks never move, so pointers handed
   out stay valid until the next parse. */
typedef struct wsc__jblock {
    struct wsc__jblock *next;
    size_t used, cap;
    char data[];
} wsc__jblock;

struct wsc_json_doc {
    const char *text; /* the parsed text (the caller's or own_text) */
    size_t len;
    char *own_text;   /* WSC_JSON_COPY / clones */
    size_t own_cap;
    wsc__jnode *nodes;
    uint32_t n, cap;  /* nodes used / allocated; n == 0: no value */
    uint32_t *stack;  /* while parsing: the enclosing containers, 2 words each
                         (node index, members so far) */
    uint32_t stack_cap; /* in entries */
    wsc__jdec *dec;   /* unescaped strings */
    uint32_t ndec, dec_cap;
    wsc__jblock *arena;
    uint32_t *idx;    /* the structural index (stage1.c), reused */
    size_t idx_cap;   /* in entries */
    unsigned max_depth;
    size_t max_size;
};

/* Non-zero: the parser uses its portable scalar scans even where SIMD
   (SSE2) is compiled in. For tests and the differential fuzzer, which run
   every case both ways; not thread-safe to change while parsing. */
extern int wsc__json_force_scalar;
/* 1 if this build has a SIMD scan (SSE2), else 0. */
int wsc__json_simd_available(void);

/* 1 if this build and CPU run the two-pass parser (stage1.c: AVX2,
   PCLMULQDQ, BMI1), else 0; wsc__json_force_scalar turns it off too. */
int wsc__json_stage1_available(void);

/* 1 if the CPU runs stage 1's AVX-512 form (AVX-512 F, BW, VL, VBMI2),
   which stage 1 then uses unless wsc__json_force_avx2 is non-zero (for
   tests and the fuzzer, which compare the two forms' indexes; not
   thread-safe to change while parsing). */
int wsc__json_stage1_avx512_available(void);
extern int wsc__json_force_avx2;

/* For tests and the fuzzer: stage 1's AVX-512 and AVX2 forms over
   s[0..len), with and without the UTF-8 rule. 1: both give the same count
   (or both refuse), the same backslash flag and the same entries; 0: they
   differ; -1: not comparable here (no AVX-512, no AVX2, len above
   WSC__JSON_STAGE1_MAX); -2: out of memory. */
int wsc__json_stage1_forms_agree(const char *s, size_t len);

/*
 * Stage 1 (stage1.c) over s[0..len): writes the offsets of the text's
 * structural bytes ({ } [ ] : , both quotes of each string, the first byte
 * of every other token) in order into idx, which has room for len + 64
 * entries (the last 64 are scratch),
 * and returns their number; -1 when the text is refused here (a control
 * byte, an unterminated string, with utf8 invalid UTF-8), the position
 * left for the scalar parser to report. *has_backslash: some string holds a
 * backslash (its escapes are then checked by stage 2).
 */
long wsc__json_stage1(const char *s, size_t len, uint32_t *idx, int utf8, int *has_backslash);

/* The two-pass parser's index is 4 bytes per byte of text (allocated for
   the worst case, kept with the document like its nodes); above this size
   the one-pass parser runs instead (it needs no index), so a document
   keeps at most 64 MiB of index. */
#define WSC__JSON_STAGE1_MAX ((size_t)16 << 20)

/* Stage 1 then stage 2 (stage2.c) over s[0..len) into d, which is reset
   and has its stack: 0 when the document is parsed, else non-zero and the
   caller runs the one-pass parser, which accepts exactly the same texts
   and reports the error (position, line, message). Only where
   wsc__json_stage1_available(), for len <= WSC__JSON_STAGE1_MAX. */
int wsc__json_two_pass(wsc_json_doc *d, const char *s, size_t len, unsigned flags);

/* Forgets d's last parse, keeping its storage (parse.c). */
void wsc__json_reset(wsc_json_doc *d);
/* Grow d's node array (a first guess from the text's length, then
   doubling) / its stack of open containers (up to the depth limit):
   0, or -1 when it cannot grow (out of memory, at the limit). */
int wsc__json_grow_nodes(wsc_json_doc *d, size_t len);
int wsc__json_grow_stack(wsc_json_doc *d);

/* For tests and the fuzzer: s[0..len) (no WSC_JSON_COPY) by the two-pass
   parser alone. 0: parsed into d as wsc_json_parse would; 1: refused
   (wsc_json_parse would then run the one-pass parser); -1: not available
   here (CPU, size). */
int wsc__json_parse_two_pass(wsc_json_doc *d, const char *s, size_t len, unsigned flags);

/* A cheap filter for key equality: the length and three of the key's bytes
   (first, middle, last), mixed by a multiply; a pure function of the key,
   so equal keys always have equal signatures. Reads nothing outside it. */
static inline uint64_t wsc__json_key_sig(const char *s, size_t n) {
    if (!n) return 0;
    return ((uint64_t)n << 32 ^ (uint64_t)(unsigned char)s[0] ^ (uint64_t)(unsigned char)s[n - 1] << 8 ^
            (uint64_t)(unsigned char)s[n / 2] << 16) *
           0x9E3779B97F4A7C15ull;
}

/* 8-byte words: a high bit in each byte lane that is zero / below 0x20. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t zero_lanes(uint64_t x) { return (x - ONES) & ~x & HIGHS; }
static inline uint64_t load64(const char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}
/* Lanes holding '"', '\\' or a byte < 0x20 (each lowest set bit exact). */
static inline uint64_t string_specials(uint64_t x) {
    return zero_lanes(x ^ (ONES * '"')) | zero_lanes(x ^ (ONES * '\\')) | ((x - ONES * 0x20) & ~x & HIGHS);
}

/* Index of the node after v's subtree (its END + 1 for a container). */
static inline uint32_t wsc__json_after(const wsc_json_doc *d, uint32_t i) {
    const wsc__jnode *n = &d->nodes[i];
    return (n->type == WSC_JSON_ARRAY || n->type == WSC_JSON_OBJECT) ? n->link + 1 : i + 1;
}

/* Unescapes the string or key at node i into the arena (cached); NULL on
   out of memory. */
const char *wsc__json_unescape(wsc_json_doc *d, uint32_t i, size_t *len);

/* The key or string at node i (unescaped if needed). */
const char *wsc__json_str(wsc_json_doc *d, uint32_t i, size_t *len);

/* Appends JSON string s[0..n) with quotes and escapes to b; -1 on error. */
int wsc__json_write_string(wsc_buf *b, const char *s, size_t n);

/*
 * Compact JSON text of a jansson value (each real with the shortest
 * precision that reads back to the same double, keys in the object's
 * order) into b. With prop and value non-NULL, v must be an object and
 * gets the member prop (replacing any it had: the caller's object is not
 * modified) set to the string value, written last.
 * WSC_OK; WSC_EINVAL (prop given and v not an object); WSC_EJSON (not
 * serialisable: NaN, infinity, nesting deeper than 2048); WSC_ENOMEM.
 * On failure b may hold a partial text (the caller wipes and frees it).
 */
int wsc__json_write_jansson(wsc_buf *b, json_t *v, const char *prop, const char *value);

/*
 * The text of document d's root with member prop set to the string value:
 * the root's members in order minus any named prop (compared after
 * unescaping), copied byte for byte, then "prop":"value". The root must be
 * an object (WSC_EINVAL). WSC_OK, WSC_EINVAL, WSC_ENOMEM.
 */
int wsc__json_text_with_property(wsc_json_doc *d, const char *prop, const char *value, wsc_buf *out);

/*
 * The same text as pieces, for a send that masks them straight into the
 * frame (proto/proto_gather.h) instead of joining them: at most
 * WSC__SPLICE_PIECES pieces in v (*n of them), pointing into d's text and
 * into lit, which receives the bytes that are not the text's (the opening
 * brace where the text has whitespace after its own, commas, the member
 * "prop":"value", the closing brace; appended after lit->len, so it holds
 * the value: the caller wipes it). The concatenation is byte for byte
 * wsc__json_text_with_property()'s. WSC_OK, WSC_EINVAL (not an object),
 * WSC_ENOMEM, or 1 when the text needs more pieces (whitespace between
 * members around prop): then use wsc__json_text_with_property().
 */
#define WSC__SPLICE_PIECES 8
struct wsc__piece;
int wsc__json_splice_pieces(wsc_json_doc *d, const char *prop, const char *value, wsc_buf *lit,
                            struct wsc__piece *v, size_t *n);

#endif
