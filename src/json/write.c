/*
 * write.c - JSON text out: the compact writer for jansson values (what
 * wsc_client_send_json() sends) and the splice that sets the csrf member of
 * an already-parsed text without building a DOM (wsc_client_send_json_text()).
 *
 * jansson formats every real of a document with one precision, so one
 * number that needs 17 digits turns 0.1 into 0.10000000000000001 elsewhere.
 * This writer gives each real the shortest precision that reads back to the
 * same double, keeps keys in the object's order and writes compact JSON.
 * It reserves room once per token and writes into the buffer directly
 * (integers and string runs without snprintf or per-byte appends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"
#include "proto/proto_gather.h"

#define MAX_WRITE_DEPTH 2048

/* Room for n more bytes: the capacity test inline, the call only to grow
   (every token of send_json goes through here). */
static inline int room(wsc_buf *b, size_t n) { return WSC_LIKELY(n <= b->cap - b->len) ? 0 : wsc_buf_reserve(b, n) ? -1 : 0; }

int wsc__json_write_string(wsc_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    /* Worst case 6 bytes per input byte; reserve the common case (no
       escapes) and grow only when an escape appears. */
    if (room(b, n + 2)) return -1;
    b->data[b->len++] = '"';
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (WSC_LIKELY(ch >= 0x20 && ch != '"' && ch != '\\')) continue;
        if (room(b, (i - run) + 6 + (n - i) + 1)) return -1;
        memcpy(b->data + b->len, s + run, i - run);
        b->len += i - run;
        char *e = (char *)b->data + b->len;
        e[0] = '\\';
        size_t el = 2;
        switch (ch) {
        case '"': case '\\': e[1] = (char)ch; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default: e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[ch >> 4], e[5] = hex[ch & 15], el = 6;
        }
        b->len += el;
        run = i + 1;
    }
    if (room(b, n - run + 1)) return -1;
    memcpy(b->data + b->len, s + run, n - run);
    b->len += n - run;
    b->data[b->len++] = '"';
    return 0;
}

static inline int put(wsc_buf *b, const char *s, size_t n) {
    if (room(b, n)) return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static int write_int(wsc_buf *b, json_int_t v) {
    char tmp[24], *p = tmp + sizeof tmp;
    /* Magnitude as unsigned so that the most negative value works. */
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do *--p = (char)('0' + m % 10);
    while (m /= 10);
    if (v < 0) *--p = '-';
    return put(b, p, (size_t)(tmp + sizeof tmp - p));
}

/*
 * The common real of a message (a price, a measurement: at most 8 decimals,
 * below 1e15 in magnitude) without printf and strtod, which cost about
 * 3,000 instructions per real and most of send_json's time. For k = 0..8
 * fractional digits, X = d * 10^k rounded to an integer is the candidate:
 * X / 10^k (both exact doubles, the division correctly rounded) is the
 * double that the text "X with k decimals" reads back as, so when it equals
 * d that text round-trips, and the first such k is the fewest decimals.
 * Under 1e15 and from 1e-4 up, that text is exactly what "%.15g" writes
 * (15 significant digits are enough, the digits are X's, %g uses no
 * exponent in that range): the result is the same as the general path's.
 * Returns the length written into txt, or 0 when d is outside this case.
 */
static int short_real(double d, char *txt) {
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double a = d < 0 ? -d : d;
    if (!(a >= 1e-4 && a < 1e15)) return 0;
    for (int k = 0; k <= 8; k++) {
        double m = a * p10[k];
        if (m >= 1e15) return 0;
        uint64_t x = (uint64_t)(m + 0.5);
        if ((double)x / p10[k] != a) continue;
        char dig[24];
        int nd = 0;
        do dig[nd++] = (char)('0' + x % 10);
        while (x /= 10);
        while (nd <= k) dig[nd++] = '0'; /* a leading "0." */
        int n = 0;
        if (d < 0) txt[n++] = '-';
        for (int i = nd - 1; i >= k; i--) txt[n++] = dig[i];
        txt[n++] = '.';
        if (!k) txt[n++] = '0'; /* keep it a real when read back: 1 -> 1.0 */
        for (int i = k - 1; i >= 0; i--) txt[n++] = dig[i];
        return n;
    }
    return 0;
}

static int write_real(wsc_buf *b, double d) {
    char txt[40];
    int n = 0;
    if (d != d || d - d != 0) return -1; /* NaN, infinity: not JSON */
    if ((n = short_real(d, txt))) return put(b, txt, (size_t)n);
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(txt, sizeof txt, "%.*g", prec, d);
        if (strtod(txt, NULL) == d) break;
    }
    /* Keep it a real when read back: 1 -> 1.0 (as jansson does). */
    if (!strpbrk(txt, ".eE")) {
        memcpy(txt + n, ".0", 3);
        n += 2;
    }
    return put(b, txt, (size_t)n);
}

static int write_value(wsc_buf *b, json_t *v, int depth) {
    if (depth > MAX_WRITE_DEPTH) return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;
        if (put(b, "{", 1)) return -1;
        json_object_foreach(v, key, val) {
            if ((!first && put(b, ",", 1)) || wsc__json_write_string(b, key, strlen(key)) || put(b, ":", 1) ||
                write_value(b, val, depth + 1))
                return -1;
            first = 0;
        }
        return put(b, "}", 1);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *val;
        if (put(b, "[", 1)) return -1;
        json_array_foreach(v, i, val) {
            if ((i && put(b, ",", 1)) || write_value(b, val, depth + 1)) return -1;
        }
        return put(b, "]", 1);
    }
    case JSON_STRING: return wsc__json_write_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return write_int(b, json_integer_value(v));
    case JSON_REAL: return write_real(b, json_real_value(v));
    case JSON_TRUE: return put(b, "true", 4);
    case JSON_FALSE: return put(b, "false", 5);
    case JSON_NULL: return put(b, "null", 4);
    }
    return -1;
}

int wsc__json_write_jansson(wsc_buf *b, json_t *v, const char *prop, const char *value) {
    if (!v) return WSC_EINVAL;
    if (!prop || !value) return write_value(b, v, 0) ? WSC_EJSON : WSC_OK;
    if (!json_is_object(v)) return WSC_EINVAL;
    /* The object's members in order, minus a stale prop, then ours. */
    const char *key;
    json_t *val;
    int first = 1;
    if (put(b, "{", 1)) return WSC_ENOMEM;
    json_object_foreach(v, key, val) {
        if (!strcmp(key, prop)) continue;
        if ((!first && put(b, ",", 1)) || wsc__json_write_string(b, key, strlen(key)) || put(b, ":", 1) ||
            write_value(b, val, 1))
            return WSC_EJSON;
        first = 0;
    }
    if ((!first && put(b, ",", 1)) || wsc__json_write_string(b, prop, strlen(prop)) || put(b, ":", 1) ||
        wsc__json_write_string(b, value, strlen(value)) || put(b, "}", 1))
        return WSC_ENOMEM;
    return WSC_OK;
}

/* Writes JSON string s[0..n) with quotes and escapes at o, which has room
   for 6 * n + 2 bytes; returns the bytes written. For the splice's member
   name and token, which are short and almost never need an escape: a plain
   byte loop into reserved room, no reservation per piece. */
static size_t put_string_at(char *o, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    char *start = o;
    *o++ = '"';
    size_t i = 0;
    /* 8 bytes per step (a 32-byte token: 4 steps instead of a 32-byte loop) */
    for (; n - i >= 8; i += 8) {
        uint64_t m = string_specials(load64(s + i));
        if (m) {
            i += (unsigned)__builtin_ctzll(m) >> 3;
            goto prefix;
        }
    }
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') i++;
prefix:
    memcpy(o, s, i); /* the plain prefix: all of it, as a rule */
    o += i;
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (WSC_LIKELY(ch >= 0x20 && ch != '"' && ch != '\\')) {
            *o++ = (char)ch;
            continue;
        }
        *o++ = '\\';
        switch (ch) {
        case '"': case '\\': *o++ = (char)ch; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default: *o++ = 'u', *o++ = '0', *o++ = '0', *o++ = hex[ch >> 4], *o++ = hex[ch & 15];
        }
    }
    *o++ = '"';
    return (size_t)(o - start);
}

/* The root object's members other than prop (compared after unescaping),
   in order, as runs: consecutive members separated by nothing but a comma
   (the usual machine-written form) make one run, from the first one's key
   quote to the end of the last one's value. run(ctx, from, to) for each;
   returns WSC_OK, WSC_ENOMEM, or the first non-zero that run returned. */
static int member_runs(wsc_json_doc *d, const char *prop, size_t plen,
                       int (*run)(void *ctx, const char *from, const char *to), void *ctx) {
    const char *from0 = NULL, *to0 = NULL;
    for (uint32_t k = 1; d->nodes[k].type == WSC__JKEY; k = wsc__json_after(d, k + 1)) {
        size_t kl;
        const char *ks = wsc__json_str(d, k, &kl);
        if (!ks) return WSC_ENOMEM;
        if (kl == plen && !memcmp(ks, prop, plen)) continue;
        size_t vl;
        const char *vs = wsc_json_raw((wsc_json){d, k + 1}, &vl);
        const char *from = d->text + d->nodes[k].off - 1, *to = vs + vl;
        if (from0 && from == to0 + 1) { /* only the comma between them */
            to0 = to;
            continue;
        }
        int rc = from0 ? run(ctx, from0, to0) : 0;
        if (rc) return rc;
        from0 = from;
        to0 = to;
    }
    return from0 ? run(ctx, from0, to0) : 0;
}

/* The splice's output so far (wsc__json_text_with_property). */
typedef struct {
    char *o;
} joined;

static int join_run(void *ctx, const char *from, const char *to) {
    joined *j = ctx;
    memcpy(j->o, from, (size_t)(to - from));
    j->o += to - from;
    *j->o++ = ',';
    return 0;
}

int wsc__json_text_with_property(wsc_json_doc *d, const char *prop, const char *value, wsc_buf *out) {
    if (!d->n || d->nodes[0].type != WSC_JSON_OBJECT) return WSC_EINVAL;
    size_t plen = strlen(prop), vlen = strlen(value);
    /* The result is at most the text plus the new member (escapes at most
       6x): one reservation, then plain copies. The output is the same as
       copying the members one by one and joining them with commas, and the
       common text without a csrf member is a single memcpy. */
    if (wsc_buf_reserve(out, d->len + 6 * (plen + vlen) + 8)) return WSC_ENOMEM;
    joined j = {(char *)out->data + out->len};
    *j.o++ = '{';
    int rc = member_runs(d, prop, plen, join_run, &j);
    if (rc) return rc;
    char *o = j.o;
    o += put_string_at(o, prop, plen);
    *o++ = ':';
    o += put_string_at(o, value, vlen);
    *o++ = '}';
    out->len = (size_t)(o - (char *)out->data);
    return WSC_OK;
}

/* The pieces so far (wsc__json_splice_pieces): v[0..n), and the literal
   bytes written at l of which those from lit_from on are in no piece yet. */
typedef struct {
    wsc__piece *v;
    size_t n;
    char *l, *lit_from;
    const char *open; /* the text's '{' */
} pieces;

/* Ends the current literal piece, if it has bytes; 1 if v is full. */
static int lit_piece(pieces *ps) {
    if (ps->l == ps->lit_from) return 0;
    if (ps->n == WSC__SPLICE_PIECES) return 1;
    ps->v[ps->n++] = (wsc__piece){ps->lit_from, (size_t)(ps->l - ps->lit_from)};
    ps->lit_from = ps->l;
    return 0;
}

static int piece_run(void *ctx, const char *from, const char *to) {
    pieces *ps = ctx;
    if (ps->n == 0 && ps->l == ps->lit_from) {
        /* The first run: with the text's own '{' if it comes right after
           it, else after a literal one. */
        if (from == ps->open + 1) from = ps->open;
        else *ps->l++ = '{';
    }
    if (lit_piece(ps) || ps->n == WSC__SPLICE_PIECES) return 1;
    ps->v[ps->n++] = (wsc__piece){from, (size_t)(to - from)};
    *ps->l++ = ',';
    return 0;
}

int wsc__json_splice_pieces(wsc_json_doc *d, const char *prop, const char *value, wsc_buf *lit, wsc__piece *v,
                            size_t *n) {
    if (!d->n || d->nodes[0].type != WSC_JSON_OBJECT) return WSC_EINVAL;
    size_t plen = strlen(prop), vlen = strlen(value);
    /* lit is reserved once: the pieces point into it. Per run at most one
       comma, then the member (escapes at most 6x) and the braces. */
    if (wsc_buf_reserve(lit, WSC__SPLICE_PIECES + 6 * (plen + vlen) + 8)) return WSC_ENOMEM;
    char *l0 = (char *)lit->data + lit->len;
    pieces ps = {v, 0, l0, l0, d->text + d->nodes[0].off};
    int rc = member_runs(d, prop, plen, piece_run, &ps);
    if (rc) return rc;
    if (ps.n == 0 && ps.l == l0) *ps.l++ = '{'; /* no other member */
    ps.l += put_string_at(ps.l, prop, plen);
    *ps.l++ = ':';
    ps.l += put_string_at(ps.l, value, vlen);
    *ps.l++ = '}';
    if (lit_piece(&ps)) return 1;
    lit->len += (size_t)(ps.l - l0);
    *n = ps.n;
    return WSC_OK;
}
