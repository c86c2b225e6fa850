/*
 * parse.c - the validating RFC 8259 parser behind json.h: one pass over the
 * text, no recursion (an explicit stack of open containers, bounded by the
 * depth limit), no allocation once the document's node array is big enough.
 *
 * Why it is fast: strings are scanned 16 bytes at a time (SSE2; 8 with
 * portable SWAR words elsewhere) for the only bytes
 * that matter inside them (quote, backslash, control characters), UTF-8 is
 * validated once over the whole text by wsc's SIMD validator (or skipped
 * for WebSocket text, already validated), and nothing is converted: nodes
 * record where strings and numbers are, the view converts on request.
 *
 * Where the CPU has AVX2 and PCLMULQDQ (checked at run time), documents up
 * to 16 MiB are parsed in two passes instead: stage1.c indexes the
 * structural bytes 64 at a time (and validates UTF-8 on the way), then
 * walk_index() below runs the grammar over the index, producing the same
 * nodes. The one-pass walk() stays the fallback (other CPUs, larger texts,
 * wsc__json_force_scalar) and the reference: whatever the two-pass parser
 * refuses is parsed again by walk(), so errors (position, line, column,
 * message) are walk()'s. On the benchmark's 880-byte message the two
 * passes take about 27% fewer instructions than walk() with its SSE2 scan.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"
#include "wsc/proto.h"

#define DEFAULT_DEPTH 2048u
#define MAX_SIZE ((size_t)UINT32_MAX - 1)

wsc_json_doc *wsc_json_doc_new(const wsc_json_limits *lim) {
    wsc_json_doc *d = wsc__calloc(1, sizeof *d);
    if (!d) return NULL;
    d->max_depth = lim && lim->max_depth ? lim->max_depth : DEFAULT_DEPTH;
    d->max_size = lim && lim->max_size && lim->max_size < MAX_SIZE ? lim->max_size : MAX_SIZE;
    return d;
}

static void arena_free(wsc__jblock *b) {
    while (b) {
        wsc__jblock *next = b->next;
        wsc__free(b);
        b = next;
    }
}

void wsc_json_doc_free(wsc_json_doc *d) {
    if (!d) return;
    wsc__free(d->own_text);
    wsc__free(d->nodes);
    wsc__free(d->stack);
    wsc__free(d->dec);
    wsc__free(d->idx);
    arena_free(d->arena);
    wsc__free(d);
}

/* Forgets the last parse, keeping the storage (the arena keeps its first,
   largest-so-far block). */
static void reset(wsc_json_doc *d) {
    d->n = 0;
    d->ndec = 0;
    if (d->arena) {
        arena_free(d->arena->next);
        d->arena->next = NULL;
        d->arena->used = 0;
    }
}

static int grow_nodes(wsc_json_doc *d, size_t len) {
    /* First guess from the text: about one node per 6 bytes in typical
       messages, then doubling. */
    size_t want = d->cap ? (size_t)d->cap * 2 : (len / 6 + 16);
    if (want > UINT32_MAX / 2) want = UINT32_MAX / 2;
    if (want <= d->cap) return -1;
    wsc__jnode *p = wsc__realloc(d->nodes, want * sizeof *p);
    if (!p) return -1;
    d->nodes = p;
    d->cap = (uint32_t)want;
    return 0;
}

static int grow_stack(wsc_json_doc *d) {
    size_t want = d->stack_cap ? (size_t)d->stack_cap * 2 : 64;
    if (want > d->max_depth + 1u) want = d->max_depth + 1u;
    uint32_t *p = wsc__realloc(d->stack, want * 2 * sizeof *p);
    if (!p) return -1;
    d->stack = p;
    d->stack_cap = (uint32_t)want;
    return 0;
}

/* Line and column (in characters) of byte pos, computed only on failure. */
static void locate(const char *s, size_t len, size_t pos, wsc_json_error *e) {
    int line = 1, col = 1;
    if (pos > len) pos = len;
    for (size_t i = 0; i < pos; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') line++, col = 1;
        else if ((c & 0xC0) != 0x80) col++;
    }
    e->line = line;
    e->column = col;
    e->position = pos;
}

static int fail(wsc_json_doc *d, const char *s, size_t len, size_t pos, int code, const char *msg,
                wsc_json_error *err) {
    d->n = 0;
    if (err) {
        err->code = code;
        locate(s, len, pos, err);
        snprintf(err->message, sizeof err->message, "%s", msg);
    }
    return code;
}

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

int wsc__json_force_scalar = 0;

int wsc__json_simd_available(void) { return JSON_SSE2; }

/* Lanes that are not an ASCII digit; exact for the lowest one (lanes
   below it are digits and lend or carry nothing). x - '0' per lane is 0..9
   for a digit; anything else either has its high bit set already or gets
   it from adding 0x76. */
static JSON_ALWAYS_INLINE uint64_t nondigit_lanes(uint64_t x) {
    uint64_t t = x - ONES * '0';
    return (t | (t + ONES * 0x76)) & HIGHS;
}

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

static int hex4(const char *p, const char *end) {
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

/* Node push; `goto nomem` when the array cannot grow. */
#define PUSH(t, o)                                                                                                     \
    do {                                                                                                               \
        if (WSC_UNLIKELY(nn == ncap)) {                                                                                \
            d->n = nn;                                                                                                 \
            if (grow_nodes(d, len)) goto nomem;                                                                        \
            nodes = d->nodes, ncap = d->cap;                                                                           \
        }                                                                                                              \
        nd = &nodes[nn++];                                                                                             \
        *nd = (wsc__jnode){(uint8_t)(t), 0, 0, (uint32_t)(o), 0, 0};                                                  \
    } while (0)

/* Whitespace is rare in machine-written JSON: one compare in the common case. */
#define SKIP_WS()                                                                                                      \
    do {                                                                                                               \
        if (p < end && (unsigned char)*p <= ' ')                                                                       \
            while (p < end && is_space((unsigned char)*p)) p++;                                                        \
    } while (0)

#define ERR(at, m)                                                                                                     \
    do {                                                                                                               \
        epos = (size_t)((at) - s);                                                                                     \
        emsg = (m);                                                                                                    \
        goto error;                                                                                                    \
    } while (0)

int wsc__json_check_duplicates(wsc_json_doc *d, uint32_t obj);

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

static JSON_ALWAYS_INLINE int walk(wsc_json_doc *d, const char *s, size_t len, wsc_json_error *err,
                                   const unsigned dup);
static JSON_ALWAYS_INLINE int walk_index(wsc_json_doc *d, const char *s, size_t len, uint32_t nix,
                                         const int has_bs, const unsigned dup);

/* The two-pass parser's index is 4 bytes per byte of text (allocated for
   the worst case, kept with the document like its nodes); above this size
   the one-pass parser runs instead (it needs no index), so a document
   keeps at most 64 MiB of index. */
#define STAGE1_MAX ((size_t)16 << 20)

/* Stage 1 then stage 2 (walk_index); 0 when the document is parsed, else
   non-zero and the caller runs the one-pass parser, which accepts exactly
   the same texts and reports the error (position, line, message). */
static int two_pass(wsc_json_doc *d, const char *s, size_t len, unsigned flags) {
    if (len + 65 > d->idx_cap) {
        size_t cap = len + 65 < 256 ? 256 : len + 65;
        uint32_t *p = wsc__realloc(d->idx, cap * sizeof *p);
        if (!p) return -1;
        d->idx = p;
        d->idx_cap = cap;
    }
    int has_bs = 0;
    long n = wsc__json_stage1(s, len, d->idx, !(flags & WSC_JSON_TRUSTED_UTF8), &has_bs);
    if (n <= 0) return -1;
    d->idx[n] = (uint32_t)len; /* a sentinel: no token starts at the end */
    /* Every node starts at an index entry of its own (container: its
       bracket, END: its bracket, key/string: its opening quote, number and
       literal: its first byte), so n nodes are enough: stage 2 never tests
       for room. */
    while (d->cap < (uint32_t)n)
        if (grow_nodes(d, len)) return -1;
    /* Four copies of stage 2: with or without the duplicate-key filter,
       and with the escape checks compiled out for the common text whose
       strings hold no backslash (then the string and key paths call
       nothing, and the compiler keeps the walk's state in registers). */
    if (flags & WSC_JSON_NO_DUPLICATES)
        return has_bs ? walk_index(d, s, len, (uint32_t)n, 1, 1) : walk_index(d, s, len, (uint32_t)n, 0, 1);
    return has_bs ? walk_index(d, s, len, (uint32_t)n, 1, 0) : walk_index(d, s, len, (uint32_t)n, 0, 0);
}

int wsc__json_parse_two_pass(wsc_json_doc *d, const char *s, size_t len, unsigned flags) {
    reset(d);
    d->text = s;
    d->len = len;
    if (!wsc__json_stage1_available() || len > d->max_size || len > STAGE1_MAX || (!d->stack && grow_stack(d)))
        return -1;
    if (two_pass(d, s, len, flags)) {
        reset(d);
        return 1;
    }
    return 0;
}

int wsc_json_parse(wsc_json_doc *d, const char *s, size_t len, unsigned flags, wsc_json_error *err) {
    if (err) memset(err, 0, sizeof *err);
    if (!d || (!s && len)) {
        if (err) err->code = WSC_EINVAL, snprintf(err->message, sizeof err->message, "invalid argument");
        return WSC_EINVAL;
    }
    reset(d);
    if (!s) s = "";
    if (len > d->max_size) return fail(d, s, len, 0, WSC_ETOOBIG, "document larger than the size limit", err);
    if (flags & WSC_JSON_COPY) {
        if (len + 1 > d->own_cap) {
            char *t = wsc__realloc(d->own_text, len + 1);
            if (!t) return fail(d, s, len, 0, WSC_ENOMEM, "out of memory", err);
            d->own_text = t;
            d->own_cap = len + 1;
        }
        memcpy(d->own_text, s, len);
        d->own_text[len] = 0;
        s = d->own_text;
    }
    d->text = s;
    d->len = len;
    if (!d->stack && grow_stack(d)) return fail(d, s, len, 0, WSC_ENOMEM, "out of memory", err);
    if (!wsc__json_force_scalar && len <= STAGE1_MAX && wsc__json_stage1_available()) {
        if (!two_pass(d, s, len, flags)) return WSC_OK;
        reset(d);
    }
    if (!(flags & WSC_JSON_TRUSTED_UTF8)) {
        wsc_utf8 st = {0};
        size_t bad = wsc_utf8_validate(&st, s, len);
        if (bad < len || !wsc_utf8_complete(&st)) return fail(d, s, len, bad, WSC_EJSON, "invalid UTF-8", err);
    }
    /* Two copies of the walk, with the duplicate-key bookkeeping compiled
       in or out: the receive path (no check) pays nothing for it, not
       even a test per key (about 1.5% of its instructions). */
    return (flags & WSC_JSON_NO_DUPLICATES) ? walk(d, s, len, err, 1) : walk(d, s, len, err, 0);
}

/* The grammar over s[0..len) once the text is set up (wsc_json_parse). */
static JSON_ALWAYS_INLINE int walk(wsc_json_doc *d, const char *s, size_t len, wsc_json_error *err,
                                   const unsigned dup) {
    const char *p = s, *end = s + len;
    const char *emsg = NULL, *eat = NULL;
    size_t epos = 0;
    wsc__jnode *nd;
    /* The innermost open container lives in registers: its node, its
       member count and whether it is an object; the enclosing ones are
       saved in d->stack (2 words each) while a nested one is open. */
    uint32_t depth = 0, cur = 0, cnt = 0;
    int in_obj = 0;
    /* The node array and its count in locals: a node's uint32_t fields
       could alias d->n and d->cap for the compiler, which would otherwise
       reload them after every store (measured: ~1% of the parse). d->n is
       written back where anything else reads it: growth, the duplicate
       check, and the end. */
    wsc__jnode *nodes = d->nodes;
    uint32_t nn = 0, ncap = d->cap;
    uint32_t *stack = d->stack, stack_cap = d->stack_cap;
    const unsigned max_depth = d->max_depth;

value:
    SKIP_WS();
    if (WSC_UNLIKELY(p == end)) ERR(p, "unexpected end of input: a value was expected");
    cnt++;
    switch (*p) {
    case '{':
    case '[': {
        int obj = *p == '{';
        if (WSC_UNLIKELY(depth >= max_depth)) ERR(p, "nesting deeper than the depth limit");
        if (WSC_UNLIKELY(depth == stack_cap)) {
            if (grow_stack(d)) goto nomem;
            stack = d->stack, stack_cap = d->stack_cap;
        }
        stack[2 * depth] = cur;
        stack[2 * depth + 1] = cnt;
        depth++;
        PUSH(obj ? WSC_JSON_OBJECT : WSC_JSON_ARRAY, p - s);
        cur = nn - 1;
        cnt = 0;
        in_obj = obj;
        p++;
        SKIP_WS();
        if (p < end && *p == (obj ? '}' : ']')) goto close;
        if (obj) goto key;
        goto value;
    }
    case '"': {
        int esc = 0;
        const char *q = scan_string(p, end, &esc, &eat, &emsg);
        if (WSC_UNLIKELY(!q)) goto error_at;
        PUSH(WSC_JSON_STRING, p + 1 - s);
        nd->flags = (uint8_t)(esc ? WSC__JF_ESCAPED : 0);
        nd->len = (uint32_t)(q - p - 1);
        p = q + 1;
        goto after;
    }
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4)) ERR(p, "invalid literal");
        PUSH(WSC_JSON_TRUE, p - s);
        nd->len = 4;
        p += 4;
        goto after;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5)) ERR(p, "invalid literal");
        PUSH(WSC_JSON_FALSE, p - s);
        nd->len = 5;
        p += 5;
        goto after;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4)) ERR(p, "invalid literal");
        PUSH(WSC_JSON_NULL, p - s);
        nd->len = 4;
        p += 4;
        goto after;
    default: {
        /* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
        const char *q = p;
        uint8_t fl = WSC__JF_INT;
        if (*q == '-') q++;
        if (q < end && *q == '0') q++;
        else if (q < end && *q >= '1' && *q <= '9') q = skip_digits(q + 1, end);
        else ERR(q == p ? p : q, q == p ? "unexpected character: a value was expected" : "invalid number");
        if (q < end && *q == '.') {
            fl = 0;
            if (++q == end || (unsigned)(*q - '0') >= 10) ERR(q, "invalid number: a digit must follow '.'");
            q = skip_digits(q + 1, end);
        }
        if (q < end && (*q == 'e' || *q == 'E')) {
            fl = 0;
            if (++q < end && (*q == '+' || *q == '-')) q++;
            if (q == end || (unsigned)(*q - '0') >= 10) ERR(q, "invalid number: a digit must follow the exponent");
            q = skip_digits(q + 1, end);
        }
        PUSH(WSC_JSON_NUMBER, p - s);
        nd->flags = fl;
        nd->len = (uint32_t)(q - p);
        p = q;
        goto after;
    }
    }

key: {
    /* At the start of a member: p at its key's quote (whitespace skipped).
       Members are counted by their values. */
    if (WSC_UNLIKELY(p == end || *p != '"'))
        ERR(p, p == end ? "unexpected end of input: a key was expected" : "expected a string key");
    int esc = 0;
    const char *q = scan_string(p, end, &esc, &eat, &emsg);
    if (WSC_UNLIKELY(!q)) goto error_at;
    PUSH(WSC__JKEY, p + 1 - s);
    nd->flags = (uint8_t)(esc ? WSC__JF_ESCAPED : 0);
    nd->len = (uint32_t)(q - p - 1);
    if (dup) {
        /* A 32-bit Bloom filter of the object's keys, two bits per key, kept
           in its node's link until its close: while every key brings a new
           bit no two can be equal, and the close skips the check (a few
           instructions per key here instead of a second walk over the keys
           there). An escaped key is compared unescaped: always checked. */
        uint64_t h = wsc__json_key_sig(p + 1, nd->len);
        uint32_t bits = 1u << (h >> 59) | 1u << (h >> 54 & 31);
        wsc__jnode *o = &nodes[cur];
        if (esc || (o->link & bits) == bits) o->flags |= WSC__JF_DUP_SUSPECT;
        o->link |= bits;
    }
    p = q + 1;
    if (WSC_LIKELY(p < end && *p == ':')) p++;
    else {
        SKIP_WS();
        if (WSC_UNLIKELY(p == end || *p != ':')) ERR(p, "expected ':' after a key");
        p++;
    }
    goto value;
}

after:
    /* A value ended at p. */
    if (WSC_UNLIKELY(!depth)) goto done;
    SKIP_WS();
    if (WSC_UNLIKELY(p == end)) ERR(p, "unexpected end of input: ',' or a closing bracket was expected");
    if (*p == ',') {
        p++;
        SKIP_WS();
        if (in_obj) goto key;
        goto value;
    }
    if (*p == (in_obj ? '}' : ']')) goto close;
    ERR(p, in_obj ? "expected ',' or '}'" : "expected ',' or ']'");

close: {
    /* p at the closing bracket of the innermost container (cur). */
    uint32_t open = cur;
    PUSH(WSC__JEND, p - s);
    nd->link = open;
    nodes[open].link = nn - 1;
    nodes[open].len = cnt;
    p++;
    const int suspect = nodes[open].flags & WSC__JF_DUP_SUSPECT;
    nodes[open].flags = 0;
    if (WSC_UNLIKELY(suspect) && in_obj && cnt > 1) {
        d->n = nn;
        int rc = wsc__json_check_duplicates(d, open);
        if (rc == WSC_ENOMEM) goto nomem;
        if (rc) ERR(s + nodes[open].off, "duplicate key in an object");
    }
    depth--;
    cur = stack[2 * depth];
    cnt = stack[2 * depth + 1];
    in_obj = depth && nodes[cur].type == WSC_JSON_OBJECT;
    goto after;
}

done:
    SKIP_WS();
    if (p != end) ERR(p, "unexpected text after the value");
    d->n = nn;
    return WSC_OK;

error_at:
    epos = (size_t)(eat - s);
error:
    return fail(d, s, len, epos, WSC_EJSON, emsg, err);
nomem:
    return fail(d, s, len, (size_t)(p - s), WSC_ENOMEM, "out of memory", err);
}


/* A node where room is known to be (stage 2 reserves one per index entry:
   every node starts at its own entry). */
#define PUT(t, o) (nd = &nodes[nn++], put_node(nd, (t), 0, (uint32_t)(o), 0))

/* A node as two 8-byte stores (the field-by-field form costs about twice
   the instructions). */
static JSON_ALWAYS_INLINE void put_node(wsc__jnode *nd, unsigned type, unsigned flags, uint32_t off, uint32_t len) {
    uint64_t w[2] = {(uint64_t)type | (uint64_t)flags << 8 | (uint64_t)off << 32, len};
    memcpy(nd, w, sizeof w);
}

/*
 * Stage 2 of the two-pass parser: the grammar over the structural index
 * (stage1.c), one entry per token. Numbers, literals and escapes are
 * checked here, strings are not scanned at all (their closing quote is the
 * next entry; a string holding a backslash, when the text has any, is
 * checked by scan_string). Stage 1 has checked that the brackets are as
 * many opening as closing: while a container is open there is always
 * another entry (each closing bracket read closes one), so the index is
 * read without bounds tests; after the root value the sentinel entry (the
 * text's length) ends it. The nodes are exactly those of walk(). Any
 * refusal returns 1 without a diagnosis: the caller reruns walk(), whose
 * error (and only it) the application sees.
 *
 * Where the walk is (in an object or an array, before a key or after a
 * value) is the label it is at, not a variable: a value is parsed by one
 * of three copies of the value code (V_VALUE), for an object member, an
 * array element and the root, each continuing straight to its own "after"
 * state; only a closing bracket looks at what encloses it. That takes the
 * "which container am I in" tests off every token (about a sixth of the
 * walk's instructions on the benchmark's messages).
 */

/* The token ends where the next entry starts, or whitespace follows (then
   only whitespace until the next entry: stage 1 indexes the start of any
   other token). */
#define V_TOKEN_END(CONT)                                                                                              \
    do {                                                                                                               \
        if (WSC_UNLIKELY(q != s + *k) && (q == end || !is_space((unsigned char)*q))) return 1;                        \
        goto CONT;                                                                                                     \
    } while (0)

#define V_LITERAL(word, n, type, CONT)                                                                                 \
    do {                                                                                                               \
        if (end - p < (n) || memcmp(p, word, (n))) return 1;                                                          \
        nd = &nodes[nn++];                                                                                             \
        put_node(nd, (type), 0, (uint32_t)(p - s), (n));                                                              \
        q = p + (n);                                                                                                   \
        V_TOKEN_END(CONT);                                                                                             \
    } while (0)

/* The low n byte lanes of a word, n = 0..8. */
static const uint64_t low_lanes[9] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFull, 0xFFFFFFFFFFFFull,
                                      0xFFFFFFFFFFFFFFull, ~0ull};

/* The value whose entry is at p; then to CONT (the state after it). */
#define V_VALUE(CONT)                                                                                                  \
    do {                                                                                                               \
        switch (*p) {                                                                                                  \
        case '{': goto open_obj;                                                                                       \
        case '[': goto open_arr;                                                                                       \
        case '"':                                                                                                      \
            q = s + *k++; /* its closing quote: stage 1 refuses unterminated strings */                               \
            nd = &nodes[nn++];                                                                                         \
            put_node(nd, WSC_JSON_STRING, 0, (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1));                           \
            if (has_bs && memchr(p + 1, '\\', nd->len)) {                                                              \
                int esc_ = 0;                                                                                          \
                const char *epos_, *emsg_;                                                                             \
                if (scan_string(p, end, &esc_, &epos_, &emsg_) != q) return 1;                                         \
                nd->flags = WSC__JF_ESCAPED;                                                                           \
            }                                                                                                          \
            goto CONT;                                                                                                 \
        case 't': V_LITERAL("true", 4, WSC_JSON_TRUE, CONT);                                                           \
        case 'f': V_LITERAL("false", 5, WSC_JSON_FALSE, CONT);                                                         \
        case 'n': V_LITERAL("null", 4, WSC_JSON_NULL, CONT);                                                           \
        default: {                                                                                                     \
            /* The common number: at most 8 bytes, no sign, no leading                                                 \
               zero, no exponent, ending right where the next index entry                                              \
               starts (a comma or bracket follows it, no whitespace): its                                              \
               length is known, so one word tells whether every byte is a                                              \
               digit (an integer) or all but one '.' neither first nor last                                            \
               (a fraction, as prices are). Anything else: number(). */                                                \
            size_t n_ = (size_t)(s + *k - p);                                                                          \
            if (n_ - 1 < 8 && p < end8 && (unsigned)(*p - '1') < 9) {                                                  \
                uint64_t m_ = nondigit_lanes(load64(p)) & low_lanes[n_];                                               \
                if (!m_) {                                                                                             \
                    nd = &nodes[nn++];                                                                                 \
                    put_node(nd, WSC_JSON_NUMBER, WSC__JF_INT, (uint32_t)(p - s), (uint32_t)n_);                       \
                    goto CONT;                                                                                         \
                }                                                                                                      \
                unsigned at_ = (unsigned)__builtin_ctzll(m_) >> 3;                                                     \
                if (!(m_ & (m_ - 1)) && p[at_] == '.' && at_ + 1 < n_) {                                               \
                    nd = &nodes[nn++];                                                                                 \
                    put_node(nd, WSC_JSON_NUMBER, 0, (uint32_t)(p - s), (uint32_t)n_);                                 \
                    goto CONT;                                                                                         \
                }                                                                                                      \
            }                                                                                                          \
            uint8_t fl_;                                                                                               \
            if (!(q = number(p, end, &fl_))) return 1;                                                                 \
            nd = &nodes[nn++];                                                                                         \
            put_node(nd, WSC_JSON_NUMBER, fl_, (uint32_t)(p - s), (uint32_t)(q - p));                                  \
            V_TOKEN_END(CONT);                                                                                         \
        }                                                                                                              \
        }                                                                                                              \
    } while (0)

/* A number from p (RFC 8259's grammar): its end, or NULL; *fl is
   WSC__JF_INT when it has no fraction and no exponent. */
static inline const char *number(const char *p, const char *end, uint8_t *fl) {
    const char *q = p;
    *fl = WSC__JF_INT;
    if (*q == '-') q++;
    if (q < end && *q == '0') q++;
    else if (q < end && *q >= '1' && *q <= '9') q = skip_digits(q + 1, end);
    else return NULL;
    if (q < end && *q == '.') {
        *fl = 0;
        if (++q == end || (unsigned)(*q - '0') >= 10) return NULL;
        q = skip_digits(q + 1, end);
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        *fl = 0;
        if (++q < end && (*q == '+' || *q == '-')) q++;
        if (q == end || (unsigned)(*q - '0') >= 10) return NULL;
        q = skip_digits(q + 1, end);
    }
    return q;
}

static JSON_ALWAYS_INLINE int walk_index(wsc_json_doc *d, const char *s, size_t len, uint32_t nix,
                                         const int has_bs, const unsigned dup) {
    const char *p, *q, *end = s + len;
    /* A number starting before end8 has 8 bytes to read (a text shorter
       than 8 bytes leaves end8 at s). */
    const char *const end8 = len >= 8 ? end - 7 : s;
    const uint32_t *k = d->idx, *kend = k + nix;
    wsc__jnode *nd;
    uint32_t depth = 0, cur = 0, cnt = 0;
    wsc__jnode *nodes = d->nodes;
    uint32_t nn = 0;
    uint32_t *stack = d->stack, stack_cap = d->stack_cap;
    const unsigned max_depth = d->max_depth;
    int obj;

    /* The root. */
    p = s + *k++;
    V_VALUE(done);

open_obj:
    obj = 1;
    goto open;
open_arr:
    obj = 0;
open:
    if (WSC_UNLIKELY(depth >= max_depth)) return 1;
    if (WSC_UNLIKELY(depth == stack_cap)) {
        if (grow_stack(d)) return 1;
        stack = d->stack, stack_cap = d->stack_cap;
    }
    stack[2 * depth] = cur;
    stack[2 * depth + 1] = cnt;
    depth++;
    PUT(obj ? WSC_JSON_OBJECT : WSC_JSON_ARRAY, p - s);
    cur = nn - 1;
    cnt = 0;
    if (obj) {
        if (s[*k] == '}') {
            p = s + *k++;
            goto close_obj;
        }
        goto key;
    }
    if (s[*k] == ']') {
        p = s + *k++;
        goto close_arr;
    }
    /* fall through: the first element */

arr_value:
    p = s + *k++;
    cnt++;
    V_VALUE(arr_after);

arr_after:
    p = s + *k++;
    if (*p == ',') goto arr_value;
    if (WSC_LIKELY(*p == ']')) goto close_arr;
    return 1;

key: {
    p = s + *k++;
    if (WSC_UNLIKELY(*p != '"')) return 1;
    q = s + *k++;
    nd = &nodes[nn++];
    put_node(nd, WSC__JKEY, 0, (uint32_t)(p + 1 - s), (uint32_t)(q - p - 1));
    int esc = 0;
    if (has_bs && memchr(p + 1, '\\', nd->len)) {
        const char *epos, *emsg;
        if (scan_string(p, end, &esc, &epos, &emsg) != q) return 1;
        nd->flags = WSC__JF_ESCAPED;
    }
    if (dup) {
        /* A filter of the open object's keys, in its node's len and link
           (scratch until its close, zero from PUT): one of 64 bits per
           key, chosen by its length and its first and last bytes (for an
           empty key the quotes: inside the text), so equal keys choose
           equal bits. An object whose keys all chose different bits has
           no duplicate; a shared bit (about one object in seven of five
           random keys) or an escaped key makes it a suspect, which the
           exact check (wsc__json_check_duplicates) settles at its close.
           Against walk()'s filter (two of 32 bits in the node, from
           wsc__json_key_sig) it has more suspects and half the work per
           key: 7% off the send path's parse on the benchmark's messages. */
        unsigned b = (unsigned)((((uint64_t)nd->len << 16 | (uint64_t)(unsigned char)q[-1] << 8 |
                                   (unsigned char)p[1]) * 0x9E3779B97F4A7C15ull) >> 58);
        uint64_t f;
        memcpy(&f, &nodes[cur].len, sizeof f);
        if (WSC_UNLIKELY(esc | (int)(f >> b & 1))) nodes[cur].flags |= WSC__JF_DUP_SUSPECT;
        f |= 1ull << b;
        memcpy(&nodes[cur].len, &f, sizeof f);
    }
    if (WSC_UNLIKELY(s[*k++] != ':')) return 1;
    p = s + *k++;
    cnt++;
    V_VALUE(obj_after);
}

obj_after:
    p = s + *k++;
    if (*p == ',') goto key;
    if (WSC_LIKELY(*p == '}')) goto close_obj;
    return 1;

close_obj: {
    uint32_t open = cur;
    PUT(WSC__JEND, p - s);
    nd->link = open;
    nodes[open].link = nn - 1;
    nodes[open].len = cnt;
    const int suspect = nodes[open].flags & WSC__JF_DUP_SUSPECT;
    nodes[open].flags = 0;
    if (WSC_UNLIKELY(suspect) && cnt > 1) {
        d->n = nn;
        if (wsc__json_check_duplicates(d, open)) return 1;
    }
    goto pop;
}

close_arr: {
    uint32_t open = cur;
    PUT(WSC__JEND, p - s);
    nd->link = open;
    nodes[open].link = nn - 1;
    nodes[open].len = cnt;
}

pop:
    depth--;
    cur = stack[2 * depth];
    cnt = stack[2 * depth + 1];
    if (WSC_UNLIKELY(!depth)) goto done;
    if (nodes[cur].type == WSC_JSON_OBJECT) goto obj_after;
    goto arr_after;

done:
    if (k != kend) return 1;
    d->n = nn;
    return 0;
}
