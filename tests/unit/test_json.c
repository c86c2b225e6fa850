/*
 * test_json.c - conformance of wsc's JSON parser (json.h) to RFC 8259, in
 * the manner of JSONTestSuite's y_/n_ cases: what must parse, what must
 * not (and where it fails), the limits, duplicate keys, UTF-8, and the
 * agreement with jansson on every case both accept.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "testutil.h"
#include "wsc/json.h"

typedef struct {
    const char *text;
    size_t len; /* 0: strlen */
} jcase;
#define C(s) {s, sizeof(s) - 1}

/* Must parse (JSONTestSuite y_*). */
static const jcase valid[] = {
    C("{}"), C("[]"), C("0"), C("-0"), C("1"), C("-1"), C("123456789"), C("1.5"), C("-1.5e10"), C("1E5"),
    C("1e+5"), C("1e-5"), C("0.0"), C("0e0"), C("-0.0e-0"), C("1.23456789012345678901234567890"),
    C("123456789012345678901234567890"), C("1e400"), C("-1e400"), C("1e-400"), C("true"), C("false"), C("null"),
    C("\"\""), C("\"a\""), C("\" \\\" \\\\ \\/ \\b \\f \\n \\r \\t \""), C("\"\\u0041\""), C("\"\\u00e9\""),
    C("\"\\u20AC\""), C("\"\\uD83D\\uDE00\""), C("\"\\ud83d\\ude00\""), C("\"\\u0000\""), C("\"\xc3\xa9\""),
    C("\"\xe2\x82\xac\""), C("\"\xf0\x9f\x98\x80\""), C("\"\x7f\""), C(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 ] \t\r\n"),
    C("{\"a\":1}"), C("{ \"a\" : 1 , \"b\" : [ ] }"), C("[[[[[]]]]]"), C("[1,[2,[3,{\"x\":[4]}]]]"),
    C("{\"\":0}"), C("{\"a\":{\"a\":{\"a\":null}}}"), C("[\"\\u005C\"]"), C("[1e1,0.1e1,-0.1E-1]"),
    C("{\"a\":1,\"a\":2}"), /* duplicates parse unless asked */
    C("\"\\uDBFF\\uDFFF\""), C("\"\\uE000\""), C("[-123]"), C("[0,1,2,3,4,5,6,7,8,9,10]"),
};

/* Must not parse (JSONTestSuite n_*). */
static const jcase invalid[] = {
    C(""), C(" "), C("["), C("]"), C("{"), C("}"), C("[1,]"), C("[,1]"), C("[1 2]"), C("{\"a\"}"), C("{\"a\":}"),
    C("{\"a\" 1}"), C("{a:1}"), C("{'a':1}"), C("{\"a\":1,}"), C("{,}"), C("[1]]"), C("[1]x"), C("1 2"), C("01"),
    C("-01"), C("00"), C("+1"), C(".5"), C("1."), C("1.e5"), C("1e"), C("1e+"), C("-"), C("--1"), C("0x10"),
    C("Infinity"), C("-Infinity"), C("NaN"), C("nul"), C("tru"), C("fals"), C("True"), C("nulll"), C("\""),
    C("\"abc"), C("\"\\\""), C("\"\\x\""), C("\"\\u12\""), C("\"\\u12G4\""), C("\"\\uD800\""),
    C("\"\\uD800x\""), C("\"\\uD800\\u0041\""), C("\"\\uDC00\""), C("\"\\uDFFF\\uD800\""), C("\"\\uD800\\uD800\""),
    C("\"a\tb\""), C("\"a\nb\""), C("\"\x01\""), C("\"\x1f\""), C("'a'"), C("\xef\xbb\xbf{}"), /* BOM */
    C("\"\xc3\""), C("\"\xc0\xaf\""), C("\"\xed\xa0\x80\""), C("\"\xf4\x90\x80\x80\""), C("\"\xff\""),
    C("\"\x80\""), C("\xa0[]"), C("[1]\x00"), C("[\x00]"), C("\x0c[]"), C("[1,\v2]"), C("/*c*/[]"), C("[]//"),
    C("{\"a\":1}}"), C("[[]"), C("[\"a\",]"), C("1e5e5"), C("[1.0.0]"), C("{\"a\":1 \"b\":2}"), C("{1:2}"),
    C("[null, nul]"), C("\"\\U0041\""), C("\"\\u-123\""),
};

static int parse(wsc_json_doc *d, const jcase *c, unsigned flags, wsc_json_error *e) {
    /* Guard pages: any read past the end crashes. */
    uint8_t *g = tu_guard_copy(c->text, c->len);
    int rc = wsc_json_parse(d, (const char *)g, c->len, flags | WSC_JSON_COPY, e);
    tu_guard_free(g, c->len);
    return rc;
}

static void test_valid(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    for (size_t i = 0; i < (sizeof valid / sizeof valid[0]); i++) {
        wsc_json_error e;
        int rc = parse(d, &valid[i], 0, &e);
        if (rc) fail_msg("case %zu <%s> rejected: %s at %zu", i, valid[i].text, e.message, e.position);
        assert_int_not_equal(wsc_json_type(wsc_json_root(d)), WSC_JSON_NONE);
    }
    wsc_json_doc_free(d);
}

static void test_invalid(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    for (size_t i = 0; i < (sizeof invalid / sizeof invalid[0]); i++) {
        wsc_json_error e;
        int rc = parse(d, &invalid[i], 0, &e);
        if (rc != WSC_EJSON) fail_msg("case %zu <%s> accepted (rc %d)", i, invalid[i].text, rc);
        assert_int_equal(e.code, WSC_EJSON);
        assert_true(e.line >= 1 && e.column >= 1 && e.position <= invalid[i].len);
        assert_true(e.message[0]);
        assert_int_equal(wsc_json_type(wsc_json_root(d)), WSC_JSON_NONE); /* a failure holds no value */
    }
    wsc_json_doc_free(d);
}

/* Where errors are reported: line (LF), column in characters, byte offset. */
static void test_error_position(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    wsc_json_error e;
    const char *t = "{\"a\": 1,\n \"b\": }";
    assert_int_equal(wsc_json_parse(d, t, strlen(t), 0, &e), WSC_EJSON);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 7);
    assert_int_equal(e.position, 15);
    const char *u = "[\"\xc3\xa9\xc3\xa9\", x]"; /* columns count characters */
    assert_int_equal(wsc_json_parse(d, u, strlen(u), 0, &e), WSC_EJSON);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 8);
    assert_int_equal(e.position, 9);
    const char *bad = "[\"ok\",\"\xc3\x28\"]"; /* invalid UTF-8: the offending byte */
    assert_int_equal(wsc_json_parse(d, bad, strlen(bad), 0, &e), WSC_EJSON);
    assert_int_equal(e.position, 8);
    assert_non_null(strstr(e.message, "UTF-8"));
    assert_int_equal(wsc_json_parse(d, "[1,2", 4, 0, &e), WSC_EJSON);
    assert_int_equal(e.position, 4); /* the end */
    /* the message never quotes the text (it may hold a token) */
    const char *secret = "{\"csrf\":\"s3cr3t\" x}";
    assert_int_equal(wsc_json_parse(d, secret, strlen(secret), 0, &e), WSC_EJSON);
    assert_null(strstr(e.message, "s3cr3t"));
    wsc_json_doc_free(d);
}

/* Every strict prefix of a document that ends in a bracket is invalid:
   the error path at every size, positions within bounds. */
static void test_every_prefix(void **state) {
    (void)state;
    const char *t = "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\n\"],\"b\":{\"c\":\"\xe2\x82\xac\"},\"d\":[]}";
    size_t n = strlen(t);
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    for (size_t k = 0; k < n; k++) {
        wsc_json_error e;
        uint8_t *g = tu_guard_copy(t, k);
        assert_int_equal(wsc_json_parse(d, (const char *)g, k, 0, &e), WSC_EJSON);
        tu_guard_free(g, k);
        assert_true(e.position <= k);
    }
    assert_int_equal(wsc_json_parse(d, t, n, 0, NULL), WSC_OK);
    wsc_json_doc_free(d);
}

static char *nested(unsigned depth, char open, char close) {
    char *s = malloc(2 * (size_t)depth + 1);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = 0;
    return s;
}

static void test_depth_limit(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL); /* default 2048, as jansson */
    char *ok = nested(2048, '[', ']'), *deep = nested(2049, '[', ']');
    wsc_json_error e;
    assert_int_equal(wsc_json_parse(d, ok, strlen(ok), 0, &e), WSC_OK);
    assert_int_equal(wsc_json_parse(d, deep, strlen(deep), 0, &e), WSC_EJSON);
    assert_int_equal(e.position, 2048);
    assert_non_null(strstr(e.message, "depth"));
    /* jansson agrees on both */
    json_t *j = json_loads(ok, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    assert_null(json_loads(deep, 0, NULL));
    free(ok);
    free(deep);
    wsc_json_doc_free(d);

    wsc_json_limits lim = {.max_depth = 3};
    d = wsc_json_doc_new(&lim);
    assert_int_equal(wsc_json_parse(d, "[{\"a\":[]}]", 10, 0, NULL), WSC_OK);
    assert_int_equal(wsc_json_parse(d, "[{\"a\":[[]]}]", 12, 0, &e), WSC_EJSON);
    assert_int_equal(wsc_json_parse(d, "{\"a\":{\"b\":{\"c\":{}}}}", 20, 0, &e), WSC_EJSON);
    wsc_json_doc_free(d);
}

static void test_size_limit(void **state) {
    (void)state;
    wsc_json_limits lim = {.max_size = 8};
    wsc_json_doc *d = wsc_json_doc_new(&lim);
    wsc_json_error e;
    assert_int_equal(wsc_json_parse(d, "[1,2,3]", 7, 0, &e), WSC_OK);
    assert_int_equal(wsc_json_parse(d, "[1,2,3,4]", 9, 0, &e), WSC_ETOOBIG);
    assert_int_equal(e.code, WSC_ETOOBIG);
    assert_int_equal(wsc_json_parse(d, "[1,2,3]", 7, 0, &e), WSC_OK); /* still usable */
    assert_int_equal(wsc_json_parse(NULL, "1", 1, 0, &e), WSC_EINVAL);
    assert_int_equal(wsc_json_parse(d, NULL, 1, 0, &e), WSC_EINVAL);
    assert_int_equal(wsc_json_parse(d, NULL, 0, 0, &e), WSC_EJSON); /* empty */
    wsc_json_doc_free(d);
}

static void test_duplicates(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    wsc_json_error e;
    const char *dup[] = {"{\"a\":1,\"a\":2}", "{\"a\":1,\"\\u0061\":2}", "[{\"x\":{\"k\":1,\"j\":2,\"k\":3}}]",
                         "{\"a\\/\":1,\"a/\":2}"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(wsc_json_parse(d, dup[i], strlen(dup[i]), 0, NULL), WSC_OK);
        assert_int_equal(wsc_json_parse(d, dup[i], strlen(dup[i]), WSC_JSON_NO_DUPLICATES, &e), WSC_EJSON);
        assert_non_null(strstr(e.message, "duplicate"));
    }
    /* a large object takes the hashed path: no duplicate, then one at the end */
    char big[20000];
    size_t o = 0;
    big[o++] = '{';
    for (int k = 0; k < 1000; k++) o += (size_t)snprintf(big + o, sizeof big - o, "%s\"k%d\":%d", k ? "," : "", k, k);
    big[o] = '}';
    assert_int_equal(wsc_json_parse(d, big, o + 1, WSC_JSON_NO_DUPLICATES, &e), WSC_OK);
    o += (size_t)snprintf(big + o, sizeof big - o, ",\"k500\":0}");
    assert_int_equal(wsc_json_parse(d, big, o, WSC_JSON_NO_DUPLICATES, &e), WSC_EJSON);
    /* same key in different objects is fine */
    const char *ok = "{\"a\":{\"a\":1},\"b\":{\"a\":2}}";
    assert_int_equal(wsc_json_parse(d, ok, strlen(ok), WSC_JSON_NO_DUPLICATES, NULL), WSC_OK);
    wsc_json_doc_free(d);
}

/* Non-UTF-8 passed as trusted is the caller's promise; validated it fails. */
static void test_utf8_flag(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    const char *t = "[\"\xff\"]";
    assert_int_equal(wsc_json_parse(d, t, 5, 0, NULL), WSC_EJSON);
    assert_int_equal(wsc_json_parse(d, t, 5, WSC_JSON_TRUSTED_UTF8, NULL), WSC_OK);
    wsc_json_doc_free(d);
}

/* On every valid case jansson also accepts, the two documents are equal. */
static void test_agrees_with_jansson(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    for (size_t i = 0; i < (sizeof valid / sizeof valid[0]); i++) {
        json_t *ref = json_loadb(valid[i].text, valid[i].len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_int_equal(wsc_json_parse(d, valid[i].text, valid[i].len, 0, NULL), WSC_OK);
        json_t *mine = wsc_json_to_jansson(wsc_json_root(d));
        if (ref) {
            if (!mine || !json_equal(ref, mine)) fail_msg("case %zu <%s> differs from jansson", i, valid[i].text);
        }
        json_decref(ref);
        json_decref(mine);
    }
    for (size_t i = 0; i < (sizeof invalid / sizeof invalid[0]); i++) /* and jansson rejects ours */
        if (invalid[i].len && !(invalid[i].len >= 3 && !memcmp(invalid[i].text, "\xef\xbb\xbf", 3))) {
            json_t *ref = json_loadb(invalid[i].text, invalid[i].len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            if (ref) fail_msg("jansson accepts invalid case %zu <%s>", i, invalid[i].text);
        }
    wsc_json_doc_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),          cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_error_position), cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_depth_limit),    cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_duplicates),     cmocka_unit_test(test_utf8_flag),
        cmocka_unit_test(test_agrees_with_jansson),
    };
    /* Every case twice: the two-pass parser (or the SIMD string scan) where
       the CPU has it, then the portable scalar one (test_json_simd.c and
       test_json_stage1.c compare the two directly). */
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    wsc__json_force_scalar = 1;
    failed += cmocka_run_group_tests(tests, NULL, NULL);
    return failed;
}
