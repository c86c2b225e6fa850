/*
 * stage2.c - the second of the two-pass parser's passes (stage1.c is the
 * first; parse.c's wsc_json_parse chooses between them and the one-pass
 * walk): the grammar over the structural index, one entry per token,
 * writing the same nodes as the one-pass walk.
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"
#include "json/scan.h"

int wsc__json_check_duplicates(wsc_json_doc *d, uint32_t obj);

/* The duplicate filter reads and writes a node's len and link as one
   8-byte word. */
_Static_assert(offsetof(wsc__jnode, link) == offsetof(wsc__jnode, len) + 4, "len and link adjacent");

static JSON_ALWAYS_INLINE int walk_index(wsc_json_doc *d, const char *s, size_t len, uint32_t nix,
                                         const int has_bs, const unsigned dup);

int wsc__json_two_pass(wsc_json_doc *d, const char *s, size_t len, unsigned flags) {
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
        if (wsc__json_grow_nodes(d, len)) return -1;
    /* Four copies of stage 2: with or without the duplicate-key filter,
       and with the escape checks compiled out for the common text whose
       strings hold no backslash (then the string and key paths call
       nothing, and the compiler keeps the walk's state in registers). */
    if (flags & WSC_JSON_NO_DUPLICATES)
        return has_bs ? walk_index(d, s, len, (uint32_t)n, 1, 1) : walk_index(d, s, len, (uint32_t)n, 0, 1);
    return has_bs ? walk_index(d, s, len, (uint32_t)n, 1, 0) : walk_index(d, s, len, (uint32_t)n, 0, 0);
}

/* A node where room is known to be (stage 2 reserves one per index entry:
   every node starts at its own entry). */
#define PUT(t, o) (nd = np++, put_node(nd, (t), 0, (uint32_t)(o), 0))

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
        if (WSC_UNLIKELY(q != s + *k) && (q == end || !is_space((unsigned char)*q))) return 1;                         \
        goto CONT;                                                                                                     \
    } while (0)

#define V_LITERAL(word, n, type, CONT)                                                                                 \
    do {                                                                                                               \
        if (end - p < (n) || memcmp(p, word, (n))) return 1;                                                           \
        nd = np++;                                                                                                     \
        put_node(nd, (type), 0, o, (n));                                                                               \
        q = p + (n);                                                                                                   \
        V_TOKEN_END(CONT);                                                                                             \
    } while (0)

/* The high bits of the low n byte lanes of a word, n = 0..8. */
static const uint64_t low_highs[9] = {0, 0x80, 0x8080, 0x808080, 0x80808080, 0x8080808080ull, 0x808080808080ull,
                                      0x80808080808080ull, 0x8080808080808080ull};

/* The value whose entry is at p; then to CONT (the state after it). */
#define V_VALUE(CONT)                                                                                                  \
    do {                                                                                                               \
        switch (*p) {                                                                                                  \
        case '{': goto open_obj;                                                                                       \
        case '[': goto open_arr;                                                                                       \
        case '"':                                                                                                      \
            q = s + (oq = *k++); /* its closing quote: stage 1 refuses unterminated strings */                         \
            nd = np++;                                                                                                 \
            put_node(nd, WSC_JSON_STRING, 0, o + 1, oq - o - 1);                                                       \
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
            size_t n_ = (size_t)(*k - o);                                                                              \
            if (n_ - 1 < 8 && p < end8 && (unsigned)(*p - '1') < 9) {                                                  \
                uint64_t x_ = load64(p), m_ = nondigit_bits(x_) & low_highs[n_];                                        \
                if (!m_) {                                                                                             \
                    nd = np++;                                                                                         \
                    put_node(nd, WSC_JSON_NUMBER, WSC__JF_INT, o, (uint32_t)n_);                                       \
                    goto CONT;                                                                                         \
                }                                                                                                      \
                /* the first non-digit is exact; with it made a '0' (one                                               \
                   addition: '0' - '.' is 2), are the rest digits? (the                                                \
                   lanes above a '.' are not exact: its borrow) */                                                      \
                unsigned at_ = (unsigned)__builtin_ctzll(m_) >> 3;                                                     \
                if (p[at_] == '.' && at_ + 1 < n_ &&                                                                   \
                    !(nondigit_bits(x_ + ((uint64_t)2 << (8 * at_))) & low_highs[n_])) {                               \
                    nd = np++;                                                                                         \
                    put_node(nd, WSC_JSON_NUMBER, 0, o, (uint32_t)n_);                                                 \
                    goto CONT;                                                                                         \
                }                                                                                                      \
            }                                                                                                          \
            uint8_t fl_;                                                                                               \
            if (!(q = number(p, end, &fl_))) return 1;                                                                 \
            nd = np++;                                                                                                 \
            put_node(nd, WSC_JSON_NUMBER, fl_, o, (uint32_t)(q - p));                                                  \
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

/* How many containers may be open before the stack must grow or the
   depth limit is reached, whichever comes first. */
static inline uint32_t stack_room(const wsc_json_doc *d) {
    return d->stack_cap < d->max_depth ? d->stack_cap : d->max_depth;
}

static JSON_ALWAYS_INLINE int walk_index(wsc_json_doc *d, const char *s, size_t len, uint32_t nix,
                                         const int has_bs, const unsigned dup) {
    const char *p, *q, *end = s + len;
    /* The offsets of p and q (the index's entries: nodes record offsets, so
       none is computed back from a pointer). */
    uint32_t o, oq;
    /* A number starting before end8 has 8 bytes to read (a text shorter
       than 8 bytes leaves end8 at s). */
    const char *const end8 = len >= 8 ? end - 7 : s;
    const uint32_t *k = d->idx;
    wsc__jnode *nd;
    wsc__jnode *nodes = d->nodes;
    wsc__jnode *np = nodes; /* the next node (a pointer: no index scaled per node) */
    /* The innermost open container's node (a pointer: the duplicate filter
       reaches it on every key without scaling an index) and its members so
       far. */
    wsc__jnode *cn = nodes;
    uint32_t cnt = 0;
    /* The enclosing containers, two words each (node index, members so
       far): sp is the next free pair. One compare per open container,
       against the smaller of the depth limit and the stack's room; which
       of the two it is, only when reached. */
    uint32_t *stack = d->stack, *sp = stack;
    uint32_t *sp_room = stack + 2 * stack_room(d);
    int obj;

    /* The root. */
    p = s + (o = *k++);
    V_VALUE(done);

open_obj:
    obj = 1;
    goto open;
open_arr:
    obj = 0;
open:
    if (WSC_UNLIKELY(sp >= sp_room)) {
        size_t depth = (size_t)(sp - stack) / 2;
        if (depth >= d->max_depth || wsc__json_grow_stack(d)) return 1;
        stack = d->stack, sp = stack + 2 * depth;
        sp_room = stack + 2 * stack_room(d);
    }
    sp[0] = (uint32_t)(cn - nodes), sp[1] = cnt;
    sp += 2;
    PUT(obj ? WSC_JSON_OBJECT : WSC_JSON_ARRAY, o);
    cn = nd;
    cnt = 0;
    if (obj) {
        if (s[*k] == '}') {
            p = s + (o = *k++);
            goto close_obj;
        }
        goto key;
    }
    if (s[*k] == ']') {
        p = s + (o = *k++);
        goto close_arr;
    }
    /* fall through: the first element */

arr_value:
    p = s + (o = *k++);
    cnt++;
    V_VALUE(arr_after);

arr_after:
    p = s + (o = *k++);
    if (*p == ',') goto arr_value;
    if (WSC_LIKELY(*p == ']')) goto close_arr;
    return 1;

key: {
    p = s + (o = *k++);
    if (WSC_UNLIKELY(*p != '"')) return 1;
    q = s + (oq = *k++);
    nd = np++;
    put_node(nd, WSC__JKEY, 0, o + 1, oq - o - 1);
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
        memcpy(&f, &cn->len, sizeof f);
        if (WSC_UNLIKELY(esc | (int)(f >> b & 1))) cn->flags |= WSC__JF_DUP_SUSPECT;
        f |= 1ull << b;
        memcpy(&cn->len, &f, sizeof f);
    }
    if (WSC_UNLIKELY(s[*k++] != ':')) return 1;
    p = s + (o = *k++);
    cnt++;
    V_VALUE(obj_after);
}

obj_after:
    p = s + (o = *k++);
    if (*p == ',') goto key;
    if (WSC_LIKELY(*p == '}')) goto close_obj;
    return 1;

close_obj: {
    uint32_t open = (uint32_t)(cn - nodes);
    PUT(WSC__JEND, o);
    nd->link = open;
    cn->link = (uint32_t)(np - nodes) - 1;
    cn->len = cnt;
    const int suspect = cn->flags & WSC__JF_DUP_SUSPECT;
    cn->flags = 0;
    if (WSC_UNLIKELY(suspect) && cnt > 1) {
        d->n = (uint32_t)(np - nodes);
        if (wsc__json_check_duplicates(d, open)) return 1;
    }
    goto pop;
}

close_arr:
    PUT(WSC__JEND, o);
    nd->link = (uint32_t)(cn - nodes);
    cn->link = (uint32_t)(np - nodes) - 1;
    cn->len = cnt;

pop:
    sp -= 2;
    cn = nodes + sp[0], cnt = sp[1];
    if (WSC_UNLIKELY(sp == stack)) goto done;
    if (cn->type == WSC_JSON_OBJECT) goto obj_after;
    goto arr_after;

done:
    if (k != d->idx + nix) return 1;
    d->n = (uint32_t)(np - nodes);
    return 0;
}
