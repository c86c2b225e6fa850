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
 * stage2.c runs the grammar over the index, producing the same nodes.
 * The one-pass walk() stays the fallback (other CPUs, larger texts,
 * wsc__json_force_scalar) and the reference: whatever the two-pass parser
 * refuses is parsed again by walk(), so errors (position, line, column,
 * message) are walk()'s. On the benchmark's 880-byte message the two
 * passes take about 27% fewer instructions than walk() with its SSE2 scan.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"
#include "json/scan.h"
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
void wsc__json_reset(wsc_json_doc *d) {
    d->n = 0;
    d->ndec = 0;
    if (d->arena) {
        arena_free(d->arena->next);
        d->arena->next = NULL;
        d->arena->used = 0;
    }
}

int wsc__json_grow_nodes(wsc_json_doc *d, size_t len) {
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

int wsc__json_grow_stack(wsc_json_doc *d) {
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

int wsc__json_force_scalar = 0;

int wsc__json_simd_available(void) { return JSON_SSE2; }

/* Node push; `goto nomem` when the array cannot grow. */
#define PUSH(t, o)                                                                                                     \
    do {                                                                                                               \
        if (WSC_UNLIKELY(nn == ncap)) {                                                                                \
            d->n = nn;                                                                                                 \
            if (wsc__json_grow_nodes(d, len)) goto nomem;                                                              \
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

static JSON_ALWAYS_INLINE int walk(wsc_json_doc *d, const char *s, size_t len, wsc_json_error *err,
                                   const unsigned dup);

int wsc__json_parse_two_pass(wsc_json_doc *d, const char *s, size_t len, unsigned flags) {
    wsc__json_reset(d);
    d->text = s;
    d->len = len;
    if (!wsc__json_stage1_available() || len > d->max_size || len > WSC__JSON_STAGE1_MAX ||
        (!d->stack && wsc__json_grow_stack(d)))
        return -1;
    if (wsc__json_two_pass(d, s, len, flags)) {
        wsc__json_reset(d);
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
    wsc__json_reset(d);
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
    if (!d->stack && wsc__json_grow_stack(d)) return fail(d, s, len, 0, WSC_ENOMEM, "out of memory", err);
    if (!wsc__json_force_scalar && len <= WSC__JSON_STAGE1_MAX && wsc__json_stage1_available()) {
        if (!wsc__json_two_pass(d, s, len, flags)) return WSC_OK;
        wsc__json_reset(d);
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
            if (wsc__json_grow_stack(d)) goto nomem;
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
