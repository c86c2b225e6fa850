/*
 * test_json_view.c - the read-only view of json.h: every accessor, the
 * "none" handle through every function, lazy unescaping, numbers, raw
 * spans, clones and WSC_JSON_COPY outliving the caller's buffer (run under
 * ASan, a handle used after its text is gone would be reported), and the
 * conversion to jansson.
 */
#include <jansson.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "testutil.h"
#include "wsc/json.h"

static const char DOC[] =
    "{\"op\":\"tick\",\"seq\":42,\"px\":-1.5e2,\"ok\":true,\"no\":false,\"nil\":null,"
    "\"esc\":\"a\\nb\\u00e9\\ud83d\\ude00\\/\",\"k\\u0065y\":1,\"arr\":[10,\"x\",[],{}],\"o\":{\"i\":{\"j\":7}},"
    "\"big\":9223372036854775807,\"small\":-9223372036854775808,\"over\":9223372036854775808,"
    "\"huge\":1e400,\"nul\":\"a\\u0000b\",\"dup\":1,\"dup\":2}";

static wsc_json_doc *parsed(void) {
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    assert_non_null(d);
    assert_int_equal(wsc_json_parse(d, DOC, sizeof DOC - 1, 0, NULL), WSC_OK);
    return d;
}

static void test_types_and_lookup(void **state) {
    (void)state;
    wsc_json_doc *d = parsed();
    wsc_json r = wsc_json_root(d);
    assert_int_equal(wsc_json_type(r), WSC_JSON_OBJECT);
    assert_int_equal(wsc_json_size(r), 17);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "op")), WSC_JSON_STRING);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "seq")), WSC_JSON_NUMBER);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "ok")), WSC_JSON_TRUE);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "no")), WSC_JSON_FALSE);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "nil")), WSC_JSON_NULL);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "arr")), WSC_JSON_ARRAY);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "o")), WSC_JSON_OBJECT);
    assert_int_equal(wsc_json_type(wsc_json_get(r, "missing")), WSC_JSON_NONE);
    /* an escaped key matches its unescaped form */
    assert_int_equal(wsc_json_type(wsc_json_get(r, "key")), WSC_JSON_NUMBER);
    /* the last duplicate wins, as in jansson */
    int64_t v;
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "dup"), &v), WSC_OK);
    assert_int_equal(v, 2);
    /* chained lookups */
    assert_int_equal(wsc_json_int64(wsc_json_get(wsc_json_get(wsc_json_get(r, "o"), "i"), "j"), &v), WSC_OK);
    assert_int_equal(v, 7);
    assert_int_equal(wsc_json_type(wsc_json_get(wsc_json_get(r, "nope"), "i")), WSC_JSON_NONE);
    assert_int_equal(wsc_json_type(wsc_json_get(wsc_json_get(r, "seq"), "i")), WSC_JSON_NONE); /* not an object */
    assert_int_equal(wsc_json_type(wsc_json_getn(r, "opx", 2)), WSC_JSON_STRING);
    assert_int_equal(wsc_json_type(wsc_json_get(r, NULL)), WSC_JSON_NONE);
    /* arrays */
    wsc_json a = wsc_json_get(r, "arr");
    assert_int_equal(wsc_json_size(a), 4);
    assert_int_equal(wsc_json_type(wsc_json_at(a, 0)), WSC_JSON_NUMBER);
    assert_true(wsc_json_streq(wsc_json_at(a, 1), "x"));
    assert_int_equal(wsc_json_type(wsc_json_at(a, 2)), WSC_JSON_ARRAY);
    assert_int_equal(wsc_json_size(wsc_json_at(a, 2)), 0);
    assert_int_equal(wsc_json_type(wsc_json_at(a, 3)), WSC_JSON_OBJECT);
    assert_int_equal(wsc_json_type(wsc_json_at(a, 4)), WSC_JSON_NONE);
    assert_int_equal(wsc_json_type(wsc_json_first(wsc_json_at(a, 2))), WSC_JSON_NONE); /* empty */
    assert_int_equal(wsc_json_size(wsc_json_get(r, "seq")), 0);
    /* at() on an object: the index-th member value */
    assert_true(wsc_json_streq(wsc_json_at(r, 0), "tick"));
    wsc_json_doc_free(d);
}

static void test_iteration(void **state) {
    (void)state;
    wsc_json_doc *d = parsed();
    wsc_json r = wsc_json_root(d);
    size_t n = 0, kl;
    const char *keys[17];
    for (wsc_json m = wsc_json_first(r); wsc_json_type(m); m = wsc_json_next(m)) {
        keys[n] = wsc_json_key(m, &kl);
        assert_non_null(keys[n]);
        n++;
    }
    assert_int_equal(n, 17);
    assert_memory_equal(keys[0], "op", 2);
    assert_memory_equal(keys[7], "key", 3); /* unescaped */
    assert_memory_equal(keys[16], "dup", 3);
    /* array elements: no keys */
    wsc_json a = wsc_json_get(r, "arr");
    n = 0;
    for (wsc_json e = wsc_json_first(a); wsc_json_type(e); e = wsc_json_next(e)) {
        assert_null(wsc_json_key(e, &kl));
        assert_int_equal(kl, 0);
        n++;
    }
    assert_int_equal(n, 4);
    /* the root has neither key nor siblings */
    assert_null(wsc_json_key(r, NULL));
    assert_int_equal(wsc_json_type(wsc_json_next(r)), WSC_JSON_NONE);
    wsc_json_doc_free(d);
}

static void test_strings(void **state) {
    (void)state;
    wsc_json_doc *d = parsed();
    wsc_json r = wsc_json_root(d);
    size_t n;
    const char *s = wsc_json_string(wsc_json_get(r, "op"), &n);
    assert_int_equal(n, 4);
    assert_memory_equal(s, "tick", 4);
    assert_true(s > DOC && s < DOC + sizeof DOC); /* no copy: a pointer into the text */
    s = wsc_json_string(wsc_json_get(r, "esc"), &n);
    assert_int_equal(n, 10);
    assert_memory_equal(s, "a\nb\xc3\xa9\xf0\x9f\x98\x80/", 10);
    assert_ptr_equal(wsc_json_string(wsc_json_get(r, "esc"), NULL), s); /* cached */
    s = wsc_json_string(wsc_json_get(r, "nul"), &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "a\0b", 3);
    assert_true(wsc_json_streqn(wsc_json_get(r, "nul"), "a\0b", 3));
    assert_false(wsc_json_streq(wsc_json_get(r, "nul"), "a"));
    assert_true(wsc_json_streq(wsc_json_get(r, "esc"), "a\nb\xc3\xa9\xf0\x9f\x98\x80/"));
    assert_false(wsc_json_streq(wsc_json_get(r, "op"), "tock"));
    assert_false(wsc_json_streq(wsc_json_get(r, "seq"), "42")); /* not a string */
    assert_false(wsc_json_streq(wsc_json_get(r, "op"), NULL));
    assert_null(wsc_json_string(wsc_json_get(r, "seq"), &n));
    assert_int_equal(n, 0);
    wsc_json_doc_free(d);
}

static void test_numbers(void **state) {
    (void)state;
    wsc_json_doc *d = parsed();
    wsc_json r = wsc_json_root(d);
    int64_t i = 0;
    double x = 0;
    size_t n;
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "seq"), &i), WSC_OK);
    assert_int_equal(i, 42);
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "big"), &i), WSC_OK);
    assert_true(i == INT64_MAX);
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "small"), &i), WSC_OK);
    assert_true(i == INT64_MIN);
    i = 5;
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "over"), &i), WSC_ETOOBIG);
    assert_int_equal(i, 5); /* untouched */
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "px"), &i), WSC_EINVAL); /* has an exponent */
    assert_int_equal(wsc_json_int64(wsc_json_get(r, "op"), &i), WSC_EINVAL);
    assert_int_equal(wsc_json_double(wsc_json_get(r, "px"), &x), WSC_OK);
    assert_true(x == -150.0);
    assert_int_equal(wsc_json_double(wsc_json_get(r, "over"), &x), WSC_OK);
    assert_true(x == 9223372036854775808.0);
    assert_int_equal(wsc_json_double(wsc_json_get(r, "huge"), &x), WSC_ETOOBIG);
    assert_true(isinf(x));
    assert_int_equal(wsc_json_double(wsc_json_get(r, "ok"), &x), WSC_EINVAL);
    const char *t = wsc_json_number_text(wsc_json_get(r, "px"), &n);
    assert_int_equal(n, 6);
    assert_memory_equal(t, "-1.5e2", 6);
    assert_null(wsc_json_number_text(wsc_json_get(r, "op"), &n));
    /* a long number text (heap path of the conversion) */
    char longnum[300] = "0.";
    memset(longnum + 2, '1', 290);
    longnum[292] = 0;
    assert_int_equal(wsc_json_parse(d, longnum, strlen(longnum), 0, NULL), WSC_OK);
    assert_int_equal(wsc_json_double(wsc_json_root(d), &x), WSC_OK);
    assert_true(fabs(x - 0.111111111111) < 1e-9);
    wsc_json_doc_free(d);
}

/* One number text: wsc_json_double must give exactly strtod's double (bit
   for bit: the fast path for short numbers and the strtod path alike), and
   wsc_json_int64 of an integer exactly strtoll's value or WSC_ETOOBIG where
   strtoll overflows. */
static long numbers_checked;
static void same_as_libc(wsc_json_doc *d, const char *t) {
    size_t n = strlen(t);
    if (wsc_json_parse(d, t, n, 0, NULL) != WSC_OK) fail_msg("<%s> refused", t);
    double x, want = strtod(t, NULL);
    int rc = wsc_json_double(wsc_json_root(d), &x);
    if (isinf(want)) {
        if (rc != WSC_ETOOBIG) fail_msg("<%s>: rc %d, want WSC_ETOOBIG", t, rc);
    } else if (rc != WSC_OK || memcmp(&x, &want, sizeof x)) {
        fail_msg("<%s>: %.17g (rc %d), strtod %.17g", t, x, rc, want);
    }
    if (!strpbrk(t, ".eE")) {
        int64_t i = 7;
        errno = 0;
        long long wi = strtoll(t, NULL, 10);
        rc = wsc_json_int64(wsc_json_root(d), &i);
        if (errno == ERANGE ? rc != WSC_ETOOBIG || i != 7 : rc != WSC_OK || i != wi)
            fail_msg("<%s>: int64 %lld (rc %d), strtoll %lld", t, (long long)i, rc, wi);
    }
    numbers_checked++;
}

static void test_numbers_exact(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    static const char *const edges[] = {
        "0", "-0", "0.0", "-0.0", "0e0", "0e-400", "-0E+400", "1e22", "1e23", "-1e22", "1e-22", "1e-23",
        "123456789012345", "1234567890123456", "12345678901234567", "999999999999999", "0.000000000000001",
        "9007199254740991", "9007199254740993", "1.7976931348623157e308", "1.8e308", "4.9e-324", "2.5e-324",
        "1000.07", "1000.00", "0.1", "0.3", "2.675", "5e-1", "123.456e-2", "1E+2", "1.000000000000000000001",
        "100000000000000000000000", "0.00000000000000000000000000000001", "1.5e-21", "7e22", "-3.14159",
        "999999999999999999", "1000000000000000000", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1000000000", "-1",
    };
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) same_as_libc(d, edges[k]);
    /* Random numbers: an integer part of 1 to 12 digits (or 0), a fraction
       of 0 to 12 digits (some trailing zeros), an exponent or none (fixed
       seed: the same cases every run). */
    uint64_t r = 0x9E3779B97F4A7C15ull;
#define NEXT() (r = r * 6364136223846793005ull + 1442695040888963407ull, r >> 33)
    for (int c = 0; c < 200000; c++) {
        char t[64];
        size_t o = 0;
        if (NEXT() & 1) t[o++] = '-';
        unsigned ni = (unsigned)(NEXT() % 13), nf = (unsigned)(NEXT() % 13), tz = (unsigned)(NEXT() % 4);
        if (!ni) t[o++] = '0';
        for (unsigned i = 0; i < ni; i++) t[o++] = (char)('0' + (i ? NEXT() % 10 : 1 + NEXT() % 9));
        if (nf) {
            t[o++] = '.';
            for (unsigned i = 0; i < nf; i++) t[o++] = (char)('0' + (i + tz >= nf ? 0 : NEXT() % 10));
        }
        if (NEXT() & 1) {
            uint64_t e = NEXT();
            o += (size_t)snprintf(t + o, sizeof t - o, "%s%s%u", e & 1 ? "e" : "E", e & 2 ? "-" : e & 4 ? "+" : "",
                                  (unsigned)(e >> 3) % 40);
        }
        t[o] = 0;
        same_as_libc(d, t);
    }
#undef NEXT
    assert_true(numbers_checked > 200000);
    wsc_json_doc_free(d);
}

static void test_bool_raw(void **state) {
    (void)state;
    wsc_json_doc *d = parsed();
    wsc_json r = wsc_json_root(d);
    int b = -1;
    assert_int_equal(wsc_json_bool(wsc_json_get(r, "ok"), &b), WSC_OK);
    assert_int_equal(b, 1);
    assert_int_equal(wsc_json_bool(wsc_json_get(r, "no"), &b), WSC_OK);
    assert_int_equal(b, 0);
    assert_int_equal(wsc_json_bool(wsc_json_get(r, "nil"), &b), WSC_EINVAL);
    size_t n;
    const char *s = wsc_json_raw(wsc_json_get(r, "arr"), &n);
    assert_int_equal(n, 14);
    assert_memory_equal(s, "[10,\"x\",[],{}]", 14);
    s = wsc_json_raw(wsc_json_get(r, "op"), &n);
    assert_memory_equal(s, "\"tick\"", n);
    s = wsc_json_raw(wsc_json_get(r, "nil"), &n);
    assert_memory_equal(s, "null", n);
    s = wsc_json_raw(r, &n);
    assert_int_equal(n, sizeof DOC - 1);
    assert_null(wsc_json_raw(wsc_json_get(r, "missing"), &n));
    assert_int_equal(n, 0);
    wsc_json_doc_free(d);
}

/* Every function accepts "none". */
static void test_none(void **state) {
    (void)state;
    wsc_json none = {0};
    int64_t i;
    double x;
    int b;
    size_t n = 9;
    assert_int_equal(wsc_json_type(none), WSC_JSON_NONE);
    assert_int_equal(wsc_json_size(none), 0);
    assert_int_equal(wsc_json_type(wsc_json_get(none, "a")), WSC_JSON_NONE);
    assert_int_equal(wsc_json_type(wsc_json_at(none, 0)), WSC_JSON_NONE);
    assert_int_equal(wsc_json_type(wsc_json_first(none)), WSC_JSON_NONE);
    assert_int_equal(wsc_json_type(wsc_json_next(none)), WSC_JSON_NONE);
    assert_null(wsc_json_key(none, &n));
    assert_null(wsc_json_string(none, &n));
    assert_int_equal(n, 0);
    assert_false(wsc_json_streq(none, ""));
    assert_int_equal(wsc_json_int64(none, &i), WSC_EINVAL);
    assert_int_equal(wsc_json_double(none, &x), WSC_EINVAL);
    assert_null(wsc_json_number_text(none, NULL));
    assert_int_equal(wsc_json_bool(none, &b), WSC_EINVAL);
    assert_null(wsc_json_raw(none, NULL));
    assert_null(wsc_json_to_jansson(none));
    assert_int_equal(wsc_json_type(wsc_json_root(NULL)), WSC_JSON_NONE);
    assert_null(wsc_json_doc_clone(NULL));
    wsc_json_doc_free(NULL);
    /* a document whose last parse failed has no root */
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    assert_int_equal(wsc_json_type(wsc_json_root(d)), WSC_JSON_NONE);
    assert_int_equal(wsc_json_parse(d, "[", 1, 0, NULL), WSC_EJSON);
    assert_int_equal(wsc_json_type(wsc_json_root(d)), WSC_JSON_NONE);
    wsc_json_doc_free(d);
}

/* Lifetimes: WSC_JSON_COPY and clones outlive the caller's buffer and the
   original document (ASan reports any use of freed memory). */
static void test_lifetimes(void **state) {
    (void)state;
    char *buf = malloc(sizeof DOC);
    memcpy(buf, DOC, sizeof DOC);
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    assert_int_equal(wsc_json_parse(d, buf, sizeof DOC - 1, WSC_JSON_COPY, NULL), WSC_OK);
    memset(buf, 'x', sizeof DOC);
    free(buf);
    wsc_json r = wsc_json_root(d);
    assert_true(wsc_json_streq(wsc_json_get(r, "op"), "tick"));
    /* unescape something in the original, then clone and free the original */
    wsc_json esc = wsc_json_get(r, "esc");
    assert_non_null(wsc_json_string(esc, NULL));
    wsc_json_doc *c = wsc_json_doc_clone(d);
    assert_non_null(c);
    wsc_json esc2 = wsc_json_in(c, esc);
    wsc_json_doc_free(d);
    size_t n;
    const char *s = wsc_json_string(esc2, &n);
    assert_int_equal(n, 10);
    assert_memory_equal(s, "a\nb\xc3\xa9\xf0\x9f\x98\x80/", 10);
    assert_true(wsc_json_streq(wsc_json_get(wsc_json_root(c), "op"), "tick"));
    assert_int_equal(wsc_json_type(wsc_json_in(c, (wsc_json){0})), WSC_JSON_NONE);
    /* the document is reusable: a new parse replaces the old one */
    assert_int_equal(wsc_json_parse(c, "[1]", 3, 0, NULL), WSC_OK);
    assert_int_equal(wsc_json_size(wsc_json_root(c)), 1);
    /* many parses of growing and shrinking documents reuse the storage */
    for (int k = 0; k < 200; k++) {
        static char t[16384];
        size_t o = 0;
        t[o++] = '[';
        for (int j = 0; j < k * 3; j++) o += (size_t)snprintf(t + o, sizeof t - o, "%s\"\\u00e9%d\"", j ? "," : "", j);
        t[o++] = ']';
        assert_int_equal(wsc_json_parse(c, t, o, 0, NULL), WSC_OK);
        wsc_json last = wsc_json_at(wsc_json_root(c), k ? (size_t)k * 3 - 1 : 0);
        if (k) assert_non_null(wsc_json_string(last, NULL));
    }
    wsc_json_doc_free(c);
}

static void test_to_jansson(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    const char *t = "{\"a\":[1,2.5,\"x\\u00e9\",true,false,null,{}],\"b\":-7,\"c\":1e2,\"a\":0,"
                    "\"n\":\"\\u0000\",\"big\":123456789012345678901234567890}";
    assert_int_equal(wsc_json_parse(d, t, strlen(t), 0, NULL), WSC_OK);
    json_t *j = wsc_json_to_jansson(wsc_json_root(d));
    assert_non_null(j);
    assert_true(json_is_integer(json_object_get(j, "a"))); /* the last duplicate */
    assert_true(json_is_integer(json_object_get(j, "b")));
    assert_true(json_is_real(json_object_get(j, "c")));
    assert_true(json_is_real(json_object_get(j, "big"))); /* beyond int64 */
    assert_int_equal(json_string_length(json_object_get(j, "n")), 1);
    json_decref(j);
    /* sub-values convert on their own */
    j = wsc_json_to_jansson(wsc_json_at(wsc_json_root(d), 0));
    assert_int_equal(json_array_size(j), 7);
    assert_string_equal(json_string_value(json_array_get(j, 2)), "x\xc3\xa9");
    json_decref(j);
    /* a number jansson cannot hold */
    assert_int_equal(wsc_json_parse(d, "[1e999]", 7, 0, NULL), WSC_OK);
    assert_null(wsc_json_to_jansson(wsc_json_root(d)));
    wsc_json_doc_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_and_lookup), cmocka_unit_test(test_iteration), cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),          cmocka_unit_test(test_numbers_exact), cmocka_unit_test(test_bool_raw),  cmocka_unit_test(test_none),
        cmocka_unit_test(test_lifetimes),        cmocka_unit_test(test_to_jansson),
    };
    /* Every case twice: the two-pass parser where the CPU has it, then the
       one-pass (portable scalar) one. */
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wsc__json_force_scalar = 1;
    failed += cmocka_run_group_tests(tests, NULL, NULL);
    return failed;
}
