/*
 * test_json_stage1.c - the two-pass parser (stage1.c, walk_index in stage2.c)
 * against the one-pass parser (wsc__json_force_scalar), where the two-pass
 * one can go wrong: its 64-byte blocks. Strings, escapes, runs of
 * backslashes, multi-byte and invalid UTF-8 of every class, numbers,
 * literals and whitespace are slid across the block boundaries (offsets 40
 * to 140 cover the ends of the first two blocks); every text is parsed with
 * no flag, WSC_JSON_NO_DUPLICATES and WSC_JSON_TRUSTED_UTF8, both ways, and
 * must give the same result, the same error (code, position, line, column,
 * message) and the same nodes. The two-pass parser alone
 * (wsc__json_parse_two_pass) must take every text the one-pass parser
 * accepts and produce the same nodes, so that the comparison is not
 * vacuous. Where the CPU has no AVX2 both runs are one-pass (the cases are
 * still checked against their expected validity).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "testutil.h"
#include "wsc/json.h"

static wsc_json_doc *da, *db;
static long fast_taken;

static int nodes_equal(const wsc_json_doc *a, const wsc_json_doc *b) {
    return a->n == b->n && !memcmp(a->nodes, b->nodes, (size_t)a->n * sizeof *a->nodes);
}

static long wide_compared;

/* Stage 1's two forms (AVX-512 and AVX2) must write the same index, with
   and without the UTF-8 rule: the same count (or the same refusal), the
   same backslash flag, the same entries. */
static void same_index(const char *t, size_t len) {
    int rc = wsc__json_stage1_forms_agree(t, len);
    if (rc == 0) fail_msg("the AVX-512 and AVX2 indexes differ on <%.*s> (%zu bytes)", (int)len, t, len);
    assert_int_not_equal(rc, -2);
    wide_compared += rc == 1;
}

/* Both ways, three flag sets; want: 1 valid, 0 invalid, -1 either. */
static void check(const char *t, size_t len, int want) {
    static const unsigned flagsets[] = {0, WSC_JSON_NO_DUPLICATES, WSC_JSON_TRUSTED_UTF8};
    for (size_t f = 0; f < sizeof flagsets / sizeof flagsets[0]; f++) {
        unsigned fl = flagsets[f];
        uint8_t *g = tu_guard_copy(t, len); /* a read past the end crashes */
        if (f == 0) same_index((const char *)g, len);
        wsc_json_error ea, eb;
        wsc__json_force_scalar = 1;
        int rb = wsc_json_parse(db, (const char *)g, len, fl, &eb);
        wsc__json_force_scalar = 0;
        int ra = wsc_json_parse(da, (const char *)g, len, fl, &ea);
        if (ra != rb || ea.code != eb.code || ea.position != eb.position || ea.line != eb.line ||
            ea.column != eb.column || strcmp(ea.message, eb.message) || (ra == WSC_OK && !nodes_equal(da, db)))
            fail_msg("flags %u: two ways differ on <%.*s> (%zu bytes): rc %d/%d at %zu/%zu (%s / %s)", fl, (int)len, t,
                     len, ra, rb, ea.position, eb.position, ea.message, eb.message);
        if (f == 0 && want >= 0 && (rb == WSC_OK) != want)
            fail_msg("<%.*s> (%zu bytes): expected %s, got rc %d (%s at %zu)", (int)len, t, len,
                     want ? "valid" : "invalid", rb, eb.message, eb.position);
        int tp = wsc__json_parse_two_pass(da, (const char *)g, len, fl);
        if (tp == 0 && (rb != WSC_OK || !nodes_equal(da, db)))
            fail_msg("flags %u: two-pass alone accepts <%.*s> differently", fl, (int)len, t);
        if (tp == 1 && rb == WSC_OK) fail_msg("flags %u: two-pass alone refuses valid <%.*s>", fl, (int)len, t);
        fast_taken += tp == 0;
        tu_guard_free(g, len);
    }
}

static void checks(const char *t, int want) { check(t, strlen(t), want); }

/* pre + pad 'a's + piece + post, for every pad from 40 to 140. */
static void slide(const char *pre, const char *piece, size_t plen, const char *post, int want, char fill) {
    char t[512];
    for (size_t pad = 40; pad <= 140; pad++) {
        size_t n = 0, l = strlen(pre);
        memcpy(t + n, pre, l), n += l;
        memset(t + n, fill, pad), n += pad;
        memcpy(t + n, piece, plen), n += plen;
        l = strlen(post);
        memcpy(t + n, post, l), n += l;
        check(t, n, want);
    }
}

/* A piece inside a string value, inside a key, and the string cut off at
   the piece (the text ends there). */
static void in_strings(const char *piece, int want) {
    size_t l = strlen(piece);
    slide("[\"", piece, l, "\"]", want, 'a');
    slide("{\"", piece, l, "\":1,\"b\":2}", want, 'a');
    slide("[\"", piece, l, "", 0, 'a');
}

static void test_string_pieces(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int valid;
    } pieces[] = {
        {"", 1}, {"\\\"", 1}, {"\\\\", 1}, {"\\\\\\\"", 1}, {"\\n\\t\\r\\b\\f\\/", 1}, {"\\u00e9", 1},
        {"\\uD83D\\uDE00", 1}, {"\\uD800", 0}, {"\\uDC00", 0}, {"\\u12G4", 0}, {"\\x", 0}, {"\\", 0},
        {"\\\\\\", 0}, {"\x01", 0}, {"\x1f", 0}, {"\t", 0}, {"\n", 0}, {" ", 1}, {"\x7f", 1}, {"{}[]:,", 1},
        {"\"\"", 0}, {"\\\"]", 1},
        /* UTF-8: valid at every length and at the edges of each range */
        {"\xc2\x80", 1}, {"\xdf\xbf", 1}, {"\xc3\xa9", 1}, {"\xe0\xa0\x80", 1}, {"\xe2\x82\xac", 1},
        {"\xed\x9f\xbf", 1}, {"\xee\x80\x80", 1}, {"\xef\xbf\xbf", 1}, {"\xf0\x90\x80\x80", 1},
        {"\xf0\x9f\x98\x80", 1}, {"\xf4\x8f\xbf\xbf", 1}, {"\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9", 1},
        /* overlong */
        {"\xc0\x80", 0}, {"\xc1\xbf", 0}, {"\xe0\x80\x80", 0}, {"\xe0\x9f\xbf", 0}, {"\xf0\x80\x80\x80", 0},
        {"\xf0\x8f\xbf\xbf", 0},
        /* surrogates */
        {"\xed\xa0\x80", 0}, {"\xed\xbf\xbf", 0},
        /* above U+10FFFF, and bytes never in UTF-8 */
        {"\xf4\x90\x80\x80", 0}, {"\xf5\x80\x80\x80", 0}, {"\xf7\xbf\xbf\xbf", 0}, {"\xf8\x88\x80\x80\x80", 0},
        {"\xff", 0}, {"\xfe", 0},
        /* truncated, lone and extra continuations */
        {"\xc3", 0}, {"\xe2\x82", 0}, {"\xf0\x9f\x98", 0}, {"\xf0\x9f", 0}, {"\x80", 0}, {"\xbf", 0},
        {"\xc3\xa9\xa9", 0}, {"\xe2\x82\xac\x80", 0}, {"\xc3 ", 0},
    };
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) in_strings(pieces[i].s, pieces[i].valid);
}

/* Runs of 1 to 9 backslashes, then a quote, an 'n' or a \u escape: odd
   runs escape what follows, even ones end in a literal backslash. */
static void test_backslash_runs(void **state) {
    (void)state;
    char piece[32];
    static const char *const after[] = {"\"", "n", "u0041", "\\\"", ""};
    for (int r = 1; r <= 9; r++) {
        for (size_t a = 0; a < sizeof after / sizeof after[0]; a++) {
            memset(piece, '\\', (size_t)r);
            strcpy(piece + r, after[a]);
            in_strings(piece, -1);
        }
    }
    /* a run long enough to span a whole block */
    char big[200];
    memset(big, '\\', 130);
    big[130] = 0;
    in_strings(big, 1);
    big[129] = 0;
    in_strings(big, 0);
}

/* Tokens after whitespace or 'x'-free padding, straddling the boundaries. */
static void test_tokens(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int valid;
    } toks[] = {
        {"0", 1}, {"-0", 1}, {"7", 1}, {"12345678", 1}, {"123456789", 1}, {"-12345678901234567890", 1},
        {"1.5", 1}, {"1.5e+10", 1}, {"2E-3", 1}, {"0.000001", 1}, {"01", 0}, {"1.", 0}, {".5", 0}, {"-", 0},
        {"1e", 0}, {"1e+", 0}, {"+1", 0}, {"1x", 0}, {"12345678x", 0}, {"0x10", 0}, {"true", 1}, {"false", 1},
        {"null", 1}, {"tru", 0}, {"nul", 0}, {"falsey", 0}, {"truenull", 0}, {"True", 0}, {"\"a\"x", 0},
        {"\"a\"1", 0}, {"1\"a\"", 0}, {"{}", 1}, {"[]", 1}, {"{ }", 1}, {"[ ]", 1},
        {"{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", 1}, {"{\"a\" :1 , \"b\" : [ 1 , 2 ] }", 1},
        {"{\"a\":1,\"a\":2}", -1}, {"{\"a\":1,\"\\u0061\":2}", -1}, {"{\"a\"}", 0}, {"{\"a\":}", 0},
        {"{\"a\"::1}", 0}, {"{,}", 0}, {"[1,]", 0}, {"[,1]", 0}, {"[1 2]", 0}, {"{\"a\":1 \"b\":2}", 0},
        {"{1:2}", 0}, {"[}", 0}, {"{]", 0}, {"[[]", 0}, {"[]]", 0}, {"]", 0}, {"\x0c" "1", 0}, {"1\x1a", 0},
        /* the short-number path (stage2.c: at most 8 bytes ending at the next index entry) */
        {"9.9", 1}, {"1234.567", 1}, {"12345.678", 1}, {"1.2.3", 0}, {"1..2", 0}, {"12.", 0}, {"1.x", 0},
        {"1.5e", 0}, {"1.5e3", 1}, {"[1.5,22,333.4]", 1}, {"[1.,2]", 0}, {"[12.3.4]", 0}, {"[.5]", 0},
        {"{\"a\":1.25,\"b\":7}", 1}, {"[12345678,123456789]", 1}, {"[1234567.,1]", 0}, {"[1.2345678]", 1},
        {"1\x0c", 0}, {"\t\r\n 1 \t\r\n", 1}, {"[1]\x00", 0}, {"\xc3\xa9", 0}, {"\\\"a\"", 0}, {"[\"\\u0000\"]", 1},
    };
    for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
        size_t l = strlen(toks[i].s);
        if (!strcmp(toks[i].s, "[1]")) l = 4; /* "[1]\0": the NUL counts */
        /* as an element after whitespace, and as the root after whitespace */
        slide("[", toks[i].s, l, "]", toks[i].valid == 1 ? 1 : toks[i].valid == 0 ? -1 : -1, ' ');
        slide("", toks[i].s, l, "", toks[i].valid, ' ');
        slide("", toks[i].s, l, "  ", toks[i].valid, '\n');
    }
}

/* Documents of every length around the block size, and nesting across the
   boundaries; a depth limit and a size limit, reported the same way. */
static void test_lengths_and_limits(void **state) {
    (void)state;
    char t[600];
    for (size_t len = 2; len <= 300; len++) {
        /* ["xxx...x"] of exactly len bytes, then the same with its last
           byte dropped (unterminated) */
        if (len >= 4) {
            t[0] = '[', t[1] = '"';
            memset(t + 2, 'x', len - 4);
            t[len - 2] = '"', t[len - 1] = ']';
            check(t, len, 1);
            check(t, len - 1, 0);
        }
        /* [[[...]]] and [1,1,...,1] */
        size_t h = len / 2;
        memset(t, '[', h), memset(t + h, ']', h);
        check(t, 2 * h, 1);
        check(t, 2 * h - 1, 0);
        size_t n = 0;
        t[n++] = '[';
        while (n + 2 < len) t[n++] = '1', t[n++] = ',';
        t[n++] = '1', t[n++] = ']';
        check(t, n, 1);
    }
    wsc_json_limits lim = {4, 100};
    wsc_json_doc *a = da, *b = db;
    da = wsc_json_doc_new(&lim);
    db = wsc_json_doc_new(&lim);
    checks("[[[[1]]]]", 1);
    checks("[[[[[1]]]]]", 0);
    checks("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 0);
    memset(t, ' ', 100);
    t[0] = '1';
    check(t, 100, 1);
    check(t, 101, 0);
    wsc_json_doc_free(da);
    wsc_json_doc_free(db);
    da = a, db = b;
}

/* The benchmark's message shape and escapes, unicode and whitespace
   everywhere: a mixed document at every shift. */
static void test_mixed(void **state) {
    (void)state;
    const char *doc = "{\"seq\":1000000001,\"type\":\"up\\\"date\",\"items\":[{\"id\":1000,\"sym\":\"SYM\xc3\xa9\","
                      "\"px\":1000.07,\"qty\":100003,\"live\":true},{\"id\":-1,\"sym\":\"\\\\\\\\\",\"px\":1e-7,"
                      "\"qty\":0,\"live\":false,\"n\":null}], \"pad\" : \"\xf0\x9f\x98\x80\\u00e9\" }";
    slide("", doc, strlen(doc), "", 1, ' ');
    slide("[", doc, strlen(doc), "]", 1, '\t');
}

/* want: refused with WSC_JSON_NO_DUPLICATES (valid without), else valid. */
static void refused_as_duplicate(const char *t, size_t len, int want) {
    wsc_json_error e;
    if (wsc_json_parse(da, t, len, 0, &e) != WSC_OK) fail_msg("<%.*s>: invalid (%s)", (int)len, t, e.message);
    int rc = wsc_json_parse(da, t, len, WSC_JSON_NO_DUPLICATES, &e);
    if (want ? (rc != WSC_EJSON || !strstr(e.message, "duplicate")) : rc != WSC_OK)
        fail_msg("<%.*s>: rc %d (%s), expected %s", (int)len, t, rc, e.message, want ? "a duplicate" : "valid");
}

/* WSC_JSON_NO_DUPLICATES: stage 2 keeps each open object's key filter in
   its node until its close: an escaped key (always a suspect), duplicates
   and filter collisions at every depth, objects inside arrays inside
   objects, and a suspect child followed by a sibling (the nodes, flags
   included, must be the one-pass parser's). */
static void test_duplicates_nested(void **state) {
    (void)state;
    static const struct {
        const char *s;
        int valid;
    } docs[] = {
        {"[{\"\\u0061\":1},{}]", 1},
        {"[{\"\\u0061\":1},[{\"b\":2}],{\"c\":[]}]", 1},
        {"{\"x\":[{\"\\u0061\":1,\"b\":2},{\"a\":1}],\"y\":{\"a\":1,\"\\u0061\":2}}", -1},
        {"{\"x\":[{\"\\u0061\":1,\"b\":2},{\"a\":1}],\"y\":{\"a\":1,\"b\":2}}", 1},
        {"{\"a\":{\"b\":{\"a\":1,\"b\":2}},\"b\":[{\"a\":{}}],\"c\":3}", 1},
        {"{\"a\":{\"b\":{\"a\":1,\"b\":2}},\"b\":[{\"a\":{}}],\"a\":3}", -1},
        {"{\"a\":[],\"b\":{},\"c\":[{\"d\":[{\"e\":1,\"e\":2}]}]}", -1},
        {"{\"\":1,\"a\":{\"\":2},\"\":3}", -1},
        {"{\"\":1,\"a\":{\"\":2}}", 1},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        size_t l = strlen(docs[i].s);
        slide("", docs[i].s, l, "", docs[i].valid, ' ');
        slide("[", docs[i].s, l, "]", docs[i].valid, ' ');
    }
    /* Objects of 2 to 40 keys k0..kN: many share filter bits, none is a
       duplicate; then the last key repeated. */
    char t[1024];
    for (int n = 2; n <= 40; n++) {
        size_t o = 0;
        o += (size_t)snprintf(t + o, sizeof t - o, "[{\"in\":{");
        for (int j = 0; j < n; j++) o += (size_t)snprintf(t + o, sizeof t - o, "%s\"k%d\":[%d]", j ? "," : "", j, j);
        size_t body = o;
        o += (size_t)snprintf(t + o, sizeof t - o, "}},{\"k0\":0}]");
        check(t, o, 1);
        refused_as_duplicate(t, o, 0);
        o = body + (size_t)snprintf(t + body, sizeof t - body, ",\"k%d\":0}},{}]", n - 1);
        check(t, o, -1);
        refused_as_duplicate(t, o, 1);
    }
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        refused_as_duplicate(docs[i].s, strlen(docs[i].s), docs[i].valid != 1);
}

int main(void) {
    da = wsc_json_doc_new(NULL);
    db = wsc_json_doc_new(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_pieces),   cmocka_unit_test(test_backslash_runs),
        cmocka_unit_test(test_tokens),          cmocka_unit_test(test_lengths_and_limits),
        cmocka_unit_test(test_mixed),           cmocka_unit_test(test_duplicates_nested),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("two-pass parses: %ld (stage 1 %savailable); AVX-512 against AVX2 indexes: %ld%s\n", fast_taken,
           wsc__json_stage1_available() ? "" : "not ", wide_compared,
           wsc__json_stage1_avx512_available() ? "" : " (no AVX-512 here)");
    if (wsc__json_stage1_available() && fast_taken < 1000) {
        printf("the two-pass parser was hardly exercised\n");
        failed++;
    }
    wsc_json_doc_free(da);
    wsc_json_doc_free(db);
    return failed;
}
