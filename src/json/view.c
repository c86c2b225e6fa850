/*
 * view.c - reading a parsed document (json.h): navigation over the node
 * array, lazy unescaping into the document's arena, number conversion on
 * request, duplicate-key detection, clones and conversion to jansson.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json/json_internal.h"
#include "json/scan.h" /* hex4: the escapes, validated by the parser */

#define NONE ((wsc_json){NULL, 0})

static inline const wsc__jnode *node(wsc_json v) { return v.doc ? &v.doc->nodes[v.i] : NULL; }

/* ---- the arena of unescaped strings ------------------------------------ */

static char *arena_alloc(wsc_json_doc *d, size_t n) {
    wsc__jblock *b = d->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : 1024;
        if (cap < n) cap = n;
        wsc__jblock *nb = wsc__malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        d->arena = b = nb;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

static void put_utf8(char **o, unsigned u) {
    char *p = *o;
    if (u < 0x80) *p++ = (char)u;
    else if (u < 0x800) *p++ = (char)(0xC0 | u >> 6), *p++ = (char)(0x80 | (u & 0x3F));
    else if (u < 0x10000)
        *p++ = (char)(0xE0 | u >> 12), *p++ = (char)(0x80 | (u >> 6 & 0x3F)), *p++ = (char)(0x80 | (u & 0x3F));
    else
        *p++ = (char)(0xF0 | u >> 18), *p++ = (char)(0x80 | (u >> 12 & 0x3F)), *p++ = (char)(0x80 | (u >> 6 & 0x3F)),
        *p++ = (char)(0x80 | (u & 0x3F));
    *o = p;
}

/* The parser has validated every escape, so this only decodes. The result
   is never longer than the raw text (\uXXXX: 6 bytes for at most 3,
   a pair: 12 for 4). */
const char *wsc__json_unescape(wsc_json_doc *d, uint32_t i, size_t *len) {
    wsc__jnode *n = &d->nodes[i];
    if (n->link) {
        *len = d->dec[n->link - 1].n;
        return d->dec[n->link - 1].s;
    }
    if (d->ndec == d->dec_cap) {
        uint32_t cap = d->dec_cap ? d->dec_cap * 2 : 16;
        wsc__jdec *p = wsc__realloc(d->dec, cap * sizeof *p);
        if (!p) return NULL;
        d->dec = p;
        d->dec_cap = cap;
    }
    char *out = arena_alloc(d, n->len ? n->len : 1), *o = out;
    if (!out) return NULL;
    const char *s = d->text + n->off, *e = s + n->len;
    while (s < e) {
        const char *bs = memchr(s, '\\', (size_t)(e - s));
        if (!bs) bs = e;
        memcpy(o, s, (size_t)(bs - s));
        o += bs - s;
        s = bs;
        if (s == e) break;
        char c = s[1];
        s += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned u = (unsigned)hex4(s, s + 4);
            s += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + ((unsigned)hex4(s + 2, s + 6) - 0xDC00);
                s += 6;
            }
            put_utf8(&o, u);
            break;
        }
        default: *o++ = c; /* " \ / */
        }
    }
    d->dec[d->ndec].s = out;
    d->dec[d->ndec].n = (size_t)(o - out);
    n->link = ++d->ndec;
    *len = (size_t)(o - out);
    return out;
}

const char *wsc__json_str(wsc_json_doc *d, uint32_t i, size_t *len) {
    const wsc__jnode *n = &d->nodes[i];
    if (!(n->flags & WSC__JF_ESCAPED)) {
        *len = n->len;
        return d->text + n->off;
    }
    return wsc__json_unescape(d, i, len);
}

/* ---- documents ----------------------------------------------------------- */

wsc_json wsc_json_root(const wsc_json_doc *d) {
    if (!d || !d->n) return NONE;
    return (wsc_json){(wsc_json_doc *)d, 0};
}

wsc_json_doc *wsc_json_doc_clone(const wsc_json_doc *d) {
    if (!d) return NULL;
    wsc_json_limits lim = {d->max_depth, d->max_size};
    wsc_json_doc *c = wsc_json_doc_new(&lim);
    if (!c) return NULL;
    c->own_text = wsc__malloc(d->len + 1);
    c->nodes = d->n ? wsc__malloc((size_t)d->n * sizeof *c->nodes) : NULL;
    if (!c->own_text || (d->n && !c->nodes)) {
        wsc_json_doc_free(c);
        return NULL;
    }
    memcpy(c->own_text, d->text, d->len);
    c->own_text[d->len] = 0;
    c->own_cap = d->len + 1;
    c->text = c->own_text;
    c->len = d->len;
    if (d->n) memcpy(c->nodes, d->nodes, (size_t)d->n * sizeof *c->nodes);
    c->n = c->cap = d->n;
    /* Unescaped strings live in the original's arena: forget them. */
    for (uint32_t i = 0; i < c->n; i++)
        if ((c->nodes[i].type == WSC_JSON_STRING || c->nodes[i].type == WSC__JKEY) &&
            (c->nodes[i].flags & WSC__JF_ESCAPED))
            c->nodes[i].link = 0;
    return c;
}

wsc_json wsc_json_in(wsc_json_doc *clone, wsc_json v) {
    if (!v.doc || !clone || v.i >= clone->n) return NONE;
    return (wsc_json){clone, v.i};
}

/* ---- navigation ---------------------------------------------------------- */

int wsc_json_type(wsc_json v) { return v.doc ? v.doc->nodes[v.i].type : WSC_JSON_NONE; }

size_t wsc_json_size(wsc_json v) {
    const wsc__jnode *n = node(v);
    return n && (n->type == WSC_JSON_ARRAY || n->type == WSC_JSON_OBJECT) ? n->len : 0;
}

wsc_json wsc_json_first(wsc_json v) {
    const wsc__jnode *n = node(v);
    if (!n || !n->len || (n->type != WSC_JSON_ARRAY && n->type != WSC_JSON_OBJECT)) return NONE;
    return (wsc_json){v.doc, v.i + (n->type == WSC_JSON_OBJECT ? 2 : 1)};
}

wsc_json wsc_json_next(wsc_json v) {
    if (!v.doc || v.i == 0) return NONE; /* the root has no siblings */
    uint32_t j = wsc__json_after(v.doc, v.i);
    const wsc__jnode *n = &v.doc->nodes[j];
    if (n->type == WSC__JEND) return NONE;
    return (wsc_json){v.doc, n->type == WSC__JKEY ? j + 1 : j};
}

wsc_json wsc_json_at(wsc_json v, size_t index) {
    if (index >= wsc_json_size(v)) return NONE;
    wsc_json e = wsc_json_first(v);
    while (index--) e = wsc_json_next(e);
    return e;
}

wsc_json wsc_json_getn(wsc_json v, const char *key, size_t klen) {
    const wsc__jnode *n = node(v);
    if (!n || n->type != WSC_JSON_OBJECT || (!key && klen)) return NONE;
    wsc_json_doc *d = v.doc;
    wsc_json found = NONE;
    uint32_t k = v.i + 1;
    while (d->nodes[k].type == WSC__JKEY) {
        const wsc__jnode *kn = &d->nodes[k];
        if (!(kn->flags & WSC__JF_ESCAPED)) {
            if (kn->len == klen && !memcmp(d->text + kn->off, key, klen)) found = (wsc_json){d, k + 1};
        } else if (kn->len >= klen) { /* unescaping never lengthens */
            size_t l;
            const char *s = wsc__json_unescape(d, k, &l);
            if (s && l == klen && !memcmp(s, key, klen)) found = (wsc_json){d, k + 1};
        }
        k = wsc__json_after(d, k + 1);
    }
    return found;
}

wsc_json wsc_json_get(wsc_json v, const char *key) { return key ? wsc_json_getn(v, key, strlen(key)) : NONE; }

/* ---- scalars ------------------------------------------------------------- */

const char *wsc_json_key(wsc_json v, size_t *len) {
    size_t l = 0;
    const char *s = NULL;
    if (v.doc && v.i > 0 && v.doc->nodes[v.i - 1].type == WSC__JKEY) s = wsc__json_str(v.doc, v.i - 1, &l);
    if (!s) l = 0;
    if (len) *len = l;
    return s;
}

const char *wsc_json_string(wsc_json v, size_t *len) {
    size_t l = 0;
    const char *s = NULL;
    if (v.doc && v.doc->nodes[v.i].type == WSC_JSON_STRING) s = wsc__json_str(v.doc, v.i, &l);
    if (!s) l = 0;
    if (len) *len = l;
    return s;
}

int wsc_json_streqn(wsc_json v, const char *str, size_t n) {
    const wsc__jnode *nd = node(v);
    if (!nd || nd->type != WSC_JSON_STRING || nd->len < n || (!str && n)) return 0;
    size_t l;
    const char *s = wsc__json_str(v.doc, v.i, &l);
    return s && l == n && (!n || !memcmp(s, str, n));
}

int wsc_json_streq(wsc_json v, const char *s) { return s && wsc_json_streqn(v, s, strlen(s)); }

const char *wsc_json_number_text(wsc_json v, size_t *len) {
    const wsc__jnode *n = node(v);
    if (!n || n->type != WSC_JSON_NUMBER) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = n->len;
    return v.doc->text + n->off;
}

int wsc_json_int64(wsc_json v, int64_t *out) {
    const wsc__jnode *n = node(v);
    if (!n || n->type != WSC_JSON_NUMBER || !(n->flags & WSC__JF_INT)) return WSC_EINVAL;
    const char *p = v.doc->text + n->off, *e = p + n->len;
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    if (e - p <= 18) { /* below 10^18 < 2^63: no digit can overflow */
        for (; p < e; p++) m = m * 10 + (unsigned)(*p - '0');
    } else {
        /* Accumulate the magnitude as unsigned: -2^63 fits, 2^63 does not;
           a division per digit, only for 19 digits and more. */
        uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; p < e; p++) {
            unsigned dgt = (unsigned)(*p - '0');
            if (m > (lim - dgt) / 10) return WSC_ETOOBIG;
            m = m * 10 + dgt;
        }
    }
    *out = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    return WSC_OK;
}

/* Clinger's fast path: a number of at most 15 significant digits is an
   integer m < 2^53, exact as a double, times or divided by 10^k; for
   k <= 22 the power is exact too, and one IEEE multiplication or division
   rounds correctly, so the result is exactly strtod's. About 170
   instructions per wsc_json_double() of a price like 1000.07, against
   about 800 with the copy and strtod_l (callgrind, the benchmark's
   json_t path). 0 when it does not apply (more digits, a larger scale, a
   platform whose double arithmetic is not strict IEEE double). The text is
   a number the parser has validated (RFC 8259's grammar). */
static int fast_double(const char *p, const char *e, double *out) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    static const double exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    int sig = 0, scale = 0, frac = 0;
    /* the integer and fraction digits as one integer (the grammar allows
       one '.'), each fraction digit scaling it down by ten */
    for (; p < e; p++) {
        if (*p == '.') {
            frac = 1;
            continue;
        }
        if ((unsigned)(*p - '0') >= 10) break;
        scale -= frac;
        if (m || *p != '0') {
            if (++sig > 15) return 0;
            m = m * 10 + (unsigned)(*p - '0');
        }
    }
    if (p < e) { /* e or E, a sign perhaps, digits */
        int eneg = 0, x = 0;
        if (*++p == '+' || *p == '-') eneg = *p++ == '-';
        for (; p < e; p++) {
            if (x > 10000) return 0;
            x = x * 10 + (*p - '0');
        }
        scale += eneg ? -x : x;
    }
    double d = (double)m;
    if (m && scale >= 0) {
        if (scale > 22) return 0;
        d *= exact[scale];
    } else if (m) {
        if (scale < -22) return 0;
        d /= exact[-scale];
    }
    *out = neg ? -d : d;
    return 1;
#else
    (void)p, (void)e, (void)out;
    return 0;
#endif
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

int wsc_json_double(wsc_json v, double *out) {
    const wsc__jnode *n = node(v);
    if (!n || n->type != WSC_JSON_NUMBER) return WSC_EINVAL;
    if (fast_double(v.doc->text + n->off, v.doc->text + n->off + n->len, out)) return WSC_OK;
    /* strtod needs a terminator the message does not have: copy the text. */
    char small[64], *buf = small;
    if (n->len >= sizeof small && !(buf = wsc__malloc(n->len + 1))) return WSC_ENOMEM;
    memcpy(buf, v.doc->text + n->off, n->len);
    buf[n->len] = 0;
    pthread_once(&c_locale_once, make_c_locale);
    errno = 0;
    double x = c_locale ? strtod_l(buf, NULL, c_locale) : strtod(buf, NULL);
    int overflow = errno == ERANGE && isinf(x);
    if (buf != small) wsc__free(buf);
    *out = x;
    return overflow ? WSC_ETOOBIG : WSC_OK;
}

int wsc_json_bool(wsc_json v, int *out) {
    int t = wsc_json_type(v);
    if (t != WSC_JSON_TRUE && t != WSC_JSON_FALSE) return WSC_EINVAL;
    *out = t == WSC_JSON_TRUE;
    return WSC_OK;
}

const char *wsc_json_raw(wsc_json v, size_t *len) {
    const wsc__jnode *n = node(v);
    size_t l = 0;
    const char *s = NULL;
    if (n) {
        switch (n->type) {
        case WSC_JSON_STRING: s = v.doc->text + n->off - 1, l = (size_t)n->len + 2; break;
        case WSC_JSON_ARRAY:
        case WSC_JSON_OBJECT: s = v.doc->text + n->off, l = (size_t)v.doc->nodes[n->link].off + 1 - n->off; break;
        default: s = v.doc->text + n->off, l = n->len;
        }
    }
    if (len) *len = l;
    return s;
}

/* ---- duplicate keys (parse.c, stage2.c: WSC_JSON_NO_DUPLICATES) ---------- */

int wsc__json_check_duplicates(wsc_json_doc *d, uint32_t obj);

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

#define DUP_PAIRWISE 16

/* 0: no duplicate; 1: a duplicate; WSC_ENOMEM. This runs at the close of
   every object of a text sent with send_json_text, so the common case (no
   duplicate, a handful of members without escapes) must cost a few
   instructions per key: a 64-bit mask (a Bloom filter) with two bits per
   key, chosen by its signature. A key with a bit not yet set cannot be a
   duplicate of an earlier one; only a key whose two bits are both taken
   (about 1 in 70 for the fifth key of an object) is compared (length,
   then bytes) with the keys before it. Objects with an escaped key (compared after
   unescaping) are checked pairwise on gathered keys, objects of more than
   16 members through a temporary open-addressing table (so a hostile
   object with many keys costs O(n), not O(n^2)). For the 880-byte message
   (13 objects, 64 keys) the mask costs about a third of the pairwise form. */
int wsc__json_check_duplicates(wsc_json_doc *d, uint32_t obj) {
    uint32_t count = d->nodes[obj].len;
    if (count <= DUP_PAIRWISE) {
        uint64_t seen = 0;
        uint32_t k = obj + 1;
        for (; d->nodes[k].type == WSC__JKEY; k = wsc__json_after(d, k + 1)) {
            const wsc__jnode *kn = &d->nodes[k];
            if (WSC_UNLIKELY(kn->flags & WSC__JF_ESCAPED)) break;
            const char *ks = d->text + kn->off;
            uint64_t h = wsc__json_key_sig(ks, kn->len);
            uint64_t bit = 1ull << (h >> 58) | 1ull << (h >> 52 & 63);
            if (WSC_UNLIKELY((seen & bit) == bit)) {
                /* The earlier keys have no escapes either (else we broke out). */
                for (uint32_t j = obj + 1; j != k; j = wsc__json_after(d, j + 1))
                    if (d->nodes[j].len == kn->len && !memcmp(d->text + d->nodes[j].off, ks, kn->len)) return 1;
            }
            seen |= bit;
        }
        if (d->nodes[k].type != WSC__JKEY) return 0;
    }
    if (count <= DUP_PAIRWISE) {
        const char *ks[DUP_PAIRWISE];
        size_t kl[DUP_PAIRWISE];
        uint64_t sig[DUP_PAIRWISE];
        uint32_t m = 0;
        for (uint32_t k = obj + 1; d->nodes[k].type == WSC__JKEY; k = wsc__json_after(d, k + 1), m++) {
            const wsc__jnode *kn = &d->nodes[k];
            if (WSC_LIKELY(!(kn->flags & WSC__JF_ESCAPED))) {
                ks[m] = d->text + kn->off;
                kl[m] = kn->len;
            } else if (!(ks[m] = wsc__json_unescape(d, k, &kl[m]))) {
                return WSC_ENOMEM;
            }
            uint64_t g = wsc__json_key_sig(ks[m], kl[m]);
            for (uint32_t a = 0; a < m; a++)
                if (WSC_UNLIKELY(sig[a] == g) && kl[a] == kl[m] && !memcmp(ks[a], ks[m], kl[m])) return 1;
            sig[m] = g;
        }
        return 0;
    }
    size_t slots = 16;
    while (slots < (size_t)count * 2) slots *= 2;
    uint32_t *tab = wsc__calloc(slots, sizeof *tab); /* 1 + key node index, 0 empty */
    if (!tab) return WSC_ENOMEM;
    int rc = 0;
    for (uint32_t k = obj + 1; d->nodes[k].type == WSC__JKEY && !rc; k = wsc__json_after(d, k + 1)) {
        size_t l;
        const char *s = wsc__json_str(d, k, &l);
        if (!s) {
            rc = WSC_ENOMEM;
            break;
        }
        for (size_t h = hash_bytes(s, l) & (slots - 1);; h = (h + 1) & (slots - 1)) {
            if (!tab[h]) {
                tab[h] = k + 1;
                break;
            }
            size_t l2;
            const char *s2 = wsc__json_str(d, tab[h] - 1, &l2);
            if (l2 == l && !memcmp(s, s2, l)) {
                rc = 1;
                break;
            }
        }
    }
    wsc__free(tab);
    return rc;
}

/* ---- jansson ------------------------------------------------------------- */

static json_t *to_jansson(wsc_json_doc *d, uint32_t i) {
    const wsc__jnode *n = &d->nodes[i];
    switch (n->type) {
    case WSC_JSON_NULL: return json_null();
    case WSC_JSON_TRUE: return json_true();
    case WSC_JSON_FALSE: return json_false();
    case WSC_JSON_NUMBER: {
        wsc_json v = {d, i};
        int64_t iv;
        if (wsc_json_int64(v, &iv) == WSC_OK) return json_integer((json_int_t)iv);
        double x;
        if (wsc_json_double(v, &x) != WSC_OK) return NULL;
        return json_real(x);
    }
    case WSC_JSON_STRING: {
        size_t l;
        const char *s = wsc__json_str(d, i, &l);
        return s ? json_stringn_nocheck(s, l) : NULL; /* UTF-8 validated by the parser */
    }
    case WSC_JSON_ARRAY: {
        json_t *a = json_array();
        if (!a) return NULL;
        for (uint32_t k = i + 1; d->nodes[k].type != WSC__JEND; k = wsc__json_after(d, k)) {
            if (json_array_append_new(a, to_jansson(d, k))) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case WSC_JSON_OBJECT: {
        json_t *o = json_object();
        if (!o) return NULL;
        for (uint32_t k = i + 1; d->nodes[k].type == WSC__JKEY; k = wsc__json_after(d, k + 1)) {
            size_t l;
            const char *key = wsc__json_str(d, k, &l);
            json_t *val = to_jansson(d, k + 1);
            if (!key || !val || json_object_setn_new_nocheck(o, key, l, val)) {
                if (!key || !val) json_decref(val);
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    }
    return NULL;
}

json_t *wsc_json_to_jansson(wsc_json v) { return v.doc ? to_jansson(v.doc, v.i) : NULL; }
