/*
 * test_json_dup.c - the send path's two shortcuts against naive references:
 * the duplicate-key check of WSC_JSON_NO_DUPLICATES (a Bloom mask per
 * object, full compares only on a hit, a pairwise form for escaped keys
 * and a hash table for large objects: src/json/view.c) against comparing
 * every pair of unescaped keys through the view; and the csrf splice
 * (wsc__json_text_with_property, src/json/write.c: members copied in runs)
 * against exact expected texts and, on random objects, against jansson;
 * and send_json's writer of reals (a printf-free path for short decimals,
 * src/json/write.c) against printf's shortest round-tripping %.15g-%.17g.
 * The random cases are seeded, so a failure repeats.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "proto/proto_gather.h"
#include "testutil.h"
#include "wsc/json.h"

/* xorshift64*: deterministic cases without libc's rand(). */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) {
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return (unsigned)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

/* Keys that collide in every way the check shortcuts could confuse: equal
   after unescaping ("a" and "\u0061"), the same first/middle/last bytes
   and length ("abca" / "acba"), empty, prefixes, long ones. */
static const char *const KEYS[] = {
    "a", "\\u0061", "b", "ab", "ba", "abca", "acba", "", "id", "live", "sym", "px", "qty", "a\\u0062",
    "\\/", "/", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "longer-key-number-one",
    "longer-key-number-two", "csrf", "\\u0063srf",
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

/* Appends a random value (objects of 0..max members, nested up to depth). */
static void gen_value(char *b, size_t *o, int depth, unsigned max_members);
static void gen_object(char *b, size_t *o, int depth, unsigned max_members) {
    unsigned n = rnd(max_members + 1);
    b[(*o)++] = '{';
    for (unsigned i = 0; i < n; i++) {
        *o += (size_t)sprintf(b + *o, "%s\"%s\":", i ? (rnd(4) ? "," : " , ") : "", KEYS[rnd(NKEYS)]);
        gen_value(b, o, depth + 1, max_members);
    }
    b[(*o)++] = '}';
}
static void gen_value(char *b, size_t *o, int depth, unsigned max_members) {
    unsigned t = depth < 3 ? rnd(5) : 4;
    if (t == 0) gen_object(b, o, depth, max_members);
    else if (t == 1) {
        b[(*o)++] = '[';
        gen_object(b, o, depth, max_members);
        b[(*o)++] = ']';
    } else *o += (size_t)sprintf(b + *o, "%u", rnd(1000));
}

/* The reference: any object (at any depth) with two equal unescaped keys. */
static int naive_dup(wsc_json v) {
    if (wsc_json_type(v) == WSC_JSON_OBJECT) {
        for (wsc_json a = wsc_json_first(v); wsc_json_type(a); a = wsc_json_next(a)) {
            size_t la, lb;
            const char *ka = wsc_json_key(a, &la);
            for (wsc_json b = wsc_json_next(a); wsc_json_type(b); b = wsc_json_next(b)) {
                const char *kb = wsc_json_key(b, &lb);
                if (la == lb && !memcmp(ka, kb, la)) return 1;
            }
        }
    }
    if (wsc_json_type(v) == WSC_JSON_OBJECT || wsc_json_type(v) == WSC_JSON_ARRAY)
        for (wsc_json e = wsc_json_first(v); wsc_json_type(e); e = wsc_json_next(e))
            if (naive_dup(e)) return 1;
    return 0;
}

static void check_dup_cases(unsigned max_members, int rounds) {
    wsc_json_doc *d = wsc_json_doc_new(NULL), *ref = wsc_json_doc_new(NULL);
    char *b = malloc(1 << 20);
    assert_non_null(b);
    int dups = 0;
    for (int r = 0; r < rounds; r++) {
        size_t o = 0;
        gen_object(b, &o, 0, max_members);
        assert_int_equal(wsc_json_parse(ref, b, o, 0, NULL), WSC_OK);
        int want = naive_dup(wsc_json_root(ref));
        dups += want;
        wsc_json_error e;
        int rc = wsc_json_parse(d, b, o, WSC_JSON_NO_DUPLICATES, &e);
        if (rc != (want ? WSC_EJSON : WSC_OK)) fail_msg("dup check says %d, reference %d: %.*s", rc, want, (int)o, b);
        if (want) assert_non_null(strstr(e.message, "duplicate"));
    }
    /* both outcomes must have been exercised */
    assert_true(dups > rounds / 20 && dups < rounds - rounds / 20);
    free(b);
    wsc_json_doc_free(d);
    wsc_json_doc_free(ref);
}

/* Small objects: the Bloom mask and its fallback compares. */
static void test_dup_small(void **state) {
    (void)state;
    check_dup_cases(6, 20000);
}

/* Up to 40 members: across the 16-member switch to the hash table. */
static void test_dup_large(void **state) {
    (void)state;
    check_dup_cases(40, 3000);
}

/* Every pair of distinct keys from the pool, alone in an object, in both
   orders, and each key twice: exact answers without randomness. */
static void test_dup_pairs(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL), *ref = wsc_json_doc_new(NULL);
    char b[256];
    for (size_t i = 0; i < NKEYS; i++)
        for (size_t j = 0; j < NKEYS; j++) {
            int n = snprintf(b, sizeof b, "{\"x\":0,\"%s\":1,\"y\":2,\"%s\":3}", KEYS[i], KEYS[j]);
            assert_int_equal(wsc_json_parse(ref, b, (size_t)n, 0, NULL), WSC_OK);
            int want = naive_dup(wsc_json_root(ref));
            if (i == j) assert_true(want);
            int rc = wsc_json_parse(d, b, (size_t)n, WSC_JSON_NO_DUPLICATES, NULL);
            if (rc != (want ? WSC_EJSON : WSC_OK)) fail_msg("%s: %d, want dup=%d", b, rc, want);
        }
    wsc_json_doc_free(d);
    wsc_json_doc_free(ref);
}

static char *splice(wsc_json_doc *d, const char *text, const char *prop, const char *tok) {
    assert_int_equal(wsc_json_parse(d, text, strlen(text), WSC_JSON_NO_DUPLICATES, NULL), WSC_OK);
    wsc_buf out = {0};
    assert_int_equal(wsc__json_text_with_property(d, prop, tok, &out), WSC_OK);
    char *s = malloc(out.len + 1);
    assert_non_null(s);
    memcpy(s, out.data, out.len);
    s[out.len] = 0;
    wsc_buf_free(&out);
    return s;
}

/* Exact texts: members copied byte for byte (whitespace inside a member
   kept, between members dropped), an old csrf removed wherever it is. */
static void test_splice_exact(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"{}", "{\"csrf\":\"T\"}"},
        {" { } ", "{\"csrf\":\"T\"}"},
        {"{\"a\":1}", "{\"a\":1,\"csrf\":\"T\"}"},
        {"{\"a\":1,\"b\":[1,2],\"c\":{\"d\":null}}", "{\"a\":1,\"b\":[1,2],\"c\":{\"d\":null},\"csrf\":\"T\"}"},
        {"{ \"a\" : 1 , \"b\":2 }", "{\"a\" : 1,\"b\":2,\"csrf\":\"T\"}"},
        {"{\"csrf\":\"old\"}", "{\"csrf\":\"T\"}"},
        {"{\"csrf\":\"old\",\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2,\"csrf\":\"T\"}"},
        {"{\"a\":1,\"csrf\":\"old\",\"b\":2}", "{\"a\":1,\"b\":2,\"csrf\":\"T\"}"},
        {"{\"a\":1,\"b\":2,\"csrf\":\"old\"}", "{\"a\":1,\"b\":2,\"csrf\":\"T\"}"},
        {"{\"a\":1,\"\\u0063srf\":0,\"b\":{\"csrf\":1}}", "{\"a\":1,\"b\":{\"csrf\":1},\"csrf\":\"T\"}"},
        {"{\"a\":\"x,y\",\"b\":\"}\"}", "{\"a\":\"x,y\",\"b\":\"}\",\"csrf\":\"T\"}"},
    };
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = splice(d, cases[i][0], "csrf", "T");
        if (strcmp(s, cases[i][1])) fail_msg("splice of %s gave %s, want %s", cases[i][0], s, cases[i][1]);
        free(s);
    }
    /* a token and a name that need escapes */
    char *s = splice(d, "{\"a\":1}", "c\"s", "t\\o\x01k\n");
    assert_string_equal(s, "{\"a\":1,\"c\\\"s\":\"t\\\\o\\u0001k\\n\"}");
    free(s);
    wsc_json_doc_free(d);
}

/* wsc__json_splice_pieces() of d joined (NULL when it asks for the joined
   form: returns 1), with its pieces checked: at most the limit, each in
   the text or in lit, the text's bytes not copied. */
static char *pieces_joined(wsc_json_doc *d, const char *text, size_t tlen, const char *prop, const char *tok) {
    wsc__piece v[WSC__SPLICE_PIECES];
    size_t n = 99;
    wsc_buf lit = {0};
    int rc = wsc__json_splice_pieces(d, prop, tok, &lit, v, &n);
    if (rc == 1) {
        wsc_buf_free(&lit);
        return NULL;
    }
    assert_int_equal(rc, WSC_OK);
    assert_true(n >= 1 && n <= WSC__SPLICE_PIECES);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = v[i].data;
        int in_text = p >= text && p + v[i].len <= text + tlen;
        int in_lit = p >= (const char *)lit.data && p + v[i].len <= (const char *)lit.data + lit.len;
        if (!in_text && !in_lit) fail_msg("piece %zu of %s points outside the text and lit", i, text);
        assert_true(v[i].len > 0);
        total += v[i].len;
    }
    char *s = malloc(total + 1), *o = s;
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) memcpy(o, v[i].data, v[i].len), o += v[i].len;
    *o = 0;
    wsc_buf_free(&lit);
    return s;
}

/* Random objects without duplicates: the splice equals the input with
   csrf set, as jansson sees both. */
static void test_splice_random(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    char *b = malloc(1 << 20);
    assert_non_null(b);
    int done = 0, pieces_done = 0;
    for (int r = 0; r < 5000; r++) {
        size_t o = 0;
        gen_object(b, &o, 0, 8);
        if (wsc_json_parse(d, b, o, WSC_JSON_NO_DUPLICATES, NULL) != WSC_OK) continue;
        wsc_buf out = {0};
        assert_int_equal(wsc__json_text_with_property(d, "csrf", "tok", &out), WSC_OK);
        json_t *want = json_loadb(b, o, 0, NULL), *got = json_loadb((const char *)out.data, out.len, 0, NULL);
        assert_non_null(want);
        if (!got) fail_msg("splice of %.*s is not JSON: %.*s", (int)o, b, (int)out.len, (const char *)out.data);
        json_object_set_new(want, "csrf", json_string("tok"));
        if (!json_equal(want, got)) fail_msg("splice of %.*s gave %.*s", (int)o, b, (int)out.len, (const char *)out.data);
        /* and csrf is its last member */
        assert_memory_equal(out.data + out.len - 13, "\"csrf\":\"tok\"}", 13);
        /* and the pieces form (test_splice_pieces) is the same bytes */
        b[o] = 0;
        char *pj = pieces_joined(d, b, o, "csrf", "tok");
        if (pj) {
            if (strlen(pj) != out.len || memcmp(pj, out.data, out.len))
                fail_msg("pieces of %.*s gave %s, want %.*s", (int)o, b, pj, (int)out.len, (const char *)out.data);
            free(pj);
            pieces_done++;
        }
        json_decref(want);
        json_decref(got);
        wsc_buf_free(&out);
        done++;
    }
    assert_true(done > 1000);
    assert_true(pieces_done > 500);
    free(b);
    wsc_json_doc_free(d);
}

/* The pieces form (masked straight into the frame by the client) is byte
   for byte the joined splice on the exact cases (and on random objects:
   test_splice_random); a machine-written text goes in two pieces, the
   first one the text itself up to its closing brace. */
static void test_splice_pieces(void **state) {
    (void)state;
    static const char *const texts[] = {
        "{}", " { } ", "{\"a\":1}", "{\"a\":1,\"b\":[1,2],\"c\":{\"d\":null}}", "{ \"a\" : 1 , \"b\":2 }",
        "{\"csrf\":\"old\"}", "{\"csrf\":\"old\",\"a\":1,\"b\":2}", "{\"a\":1,\"csrf\":\"old\",\"b\":2}",
        "{\"a\":1,\"b\":2,\"csrf\":\"old\"}", "{\"a\":1,\"\\u0063srf\":0,\"b\":{\"csrf\":1}}",
        "{\"a\":\"x,y\",\"b\":\"}\"}", "{ \"a\":1, \"b\":2, \"c\":3, \"d\":4, \"e\":5, \"f\":6 }",
    };
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    int joined = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *want = splice(d, texts[i], "csrf", "T"); /* parses d */
        char *got = pieces_joined(d, texts[i], strlen(texts[i]), "csrf", "T");
        if (!got) {
            joined++;
        } else {
            if (strcmp(want, got)) fail_msg("pieces of %s gave %s, want %s", texts[i], got, want);
            free(got);
        }
        free(want);
    }
    assert_int_equal(joined, 1); /* the last: whitespace between six members */
    /* the common case: no copy of the text, the first piece is the text */
    const char *t = "{\"a\":1,\"b\":2}";
    assert_int_equal(wsc_json_parse(d, t, strlen(t), WSC_JSON_NO_DUPLICATES, NULL), WSC_OK);
    wsc__piece v[WSC__SPLICE_PIECES];
    size_t n = 0;
    wsc_buf lit = {0};
    assert_int_equal(wsc__json_splice_pieces(d, "csrf", "t\"k", &lit, v, &n), WSC_OK);
    assert_int_equal(n, 2);
    assert_ptr_equal(v[0].data, t);
    assert_int_equal(v[0].len, strlen(t) - 1);
    assert_int_equal(v[1].len, strlen(",\"csrf\":\"t\\\"k\"}"));
    assert_memory_equal(v[1].data, ",\"csrf\":\"t\\\"k\"}", v[1].len);
    wsc_buf_free(&lit);
    /* not an object */
    assert_int_equal(wsc_json_parse(d, "[1]", 3, 0, NULL), WSC_OK);
    assert_int_equal(wsc__json_splice_pieces(d, "csrf", "t", &lit, v, &n), WSC_EINVAL);
    wsc_buf_free(&lit);

    wsc_json_doc_free(d);
}

/* The general rule the writer documents: the first of %.15g, %.16g, %.17g
   that reads back to d, with ".0" added if it looks like an integer. */
static void ref_real(double d, char *txt) {
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(txt, 40, "%.*g", prec, d);
        if (strtod(txt, NULL) == d) break;
    }
    if (!strpbrk(txt, ".eE")) memcpy(txt + n, ".0", 3);
}

static void check_real(double d) {
    json_t *v = json_real(d);
    assert_non_null(v);
    wsc_buf out = {0};
    assert_int_equal(wsc__json_write_jansson(&out, v, NULL, NULL), WSC_OK);
    char want[48];
    ref_real(d, want);
    if (out.len != strlen(want) || memcmp(out.data, want, out.len))
        fail_msg("real %.17g written as %.*s, want %s", d, (int)out.len, (const char *)out.data, want);
    wsc_buf_free(&out);
    json_decref(v);
}

static void test_real_format(void **state) {
    (void)state;
    static const double edges[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1e-4, 9.9999e-5, 1.00000001e-4, 1e-5,
                                   0.5, 1e15, 999999999999999.0, 1e15 - 0.5, 123456789012345.6, 1.5e14, 1e16,
                                   1000.07, 1000.99, 3.14159265358979, 2.718281828, 1e-8, 12345678.12345678,
                                   0.30000000000000004, 5e-324, 1.7976931348623157e308, 100.0, 1e7, 0.0001234};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) check_real(edges[i]), check_real(-edges[i]);
    for (int r = 0; r < 200000; r++) {
        /* decimals as applications write them: X / 10^k */
        static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
        uint64_t x = ((uint64_t)rnd(1u << 30) << 30 | rnd(1u << 30)) % (r & 1 ? 1000000000000000ull : 100000000ull);
        check_real((double)x / p10[rnd(11)] * (rnd(2) ? 1 : -1));
        /* and any finite double */
        uint64_t bits = (uint64_t)rnd(1u << 30) << 34 ^ (uint64_t)rnd(1u << 30) << 4 ^ rnd(16);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (d == d && d - d == 0) check_real(d);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dup_small),    cmocka_unit_test(test_dup_large),     cmocka_unit_test(test_dup_pairs),
        cmocka_unit_test(test_splice_exact), cmocka_unit_test(test_splice_random), cmocka_unit_test(test_splice_pieces), cmocka_unit_test(test_real_format),
    };
    /* Every case twice: the two-pass parser where the CPU has it, then the
       one-pass (portable scalar) one. */
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wsc__json_force_scalar = 1;
    failed += cmocka_run_group_tests(tests, NULL, NULL);
    return failed;
}
