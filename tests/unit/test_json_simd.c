/*
 * test_json_simd.c - the parser's SIMD (SSE2) string scan against its
 * portable scalar one (wsc__json_force_scalar): on strings long enough to
 * take the 16-byte steps, with every kind of special byte at every
 * position and alignment, both must give the same result, the same error
 * (code, line, column, position, message) and the same string bytes.
 * Where the build has no SIMD scan both runs take the scalar path and the
 * test still checks the cases themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "testutil.h"
#include "wsc/json.h"

typedef struct {
    int rc;
    wsc_json_error e;
    char str[160];
    size_t n;
} outcome;

static void run(wsc_json_doc *d, const char *t, size_t len, unsigned flags, int scalar, outcome *o) {
    memset(o, 0, sizeof *o);
    wsc__json_force_scalar = scalar;
    uint8_t *g = tu_guard_copy(t, len); /* a read past the end crashes */
    o->rc = wsc_json_parse(d, (const char *)g, len, flags, &o->e);
    if (o->rc == WSC_OK) {
        /* ["...", ...]: the first element's bytes, unescaped */
        const char *s = wsc_json_string(wsc_json_at(wsc_json_root(d), 0), &o->n);
        assert_non_null(s);
        assert_true(o->n <= sizeof o->str);
        memcpy(o->str, s, o->n);
    }
    tu_guard_free(g, len);
    wsc__json_force_scalar = 0;
}

static void same(const outcome *a, const outcome *b, const char *t, size_t len) {
    if (a->rc != b->rc || a->e.line != b->e.line || a->e.column != b->e.column ||
        a->e.position != b->e.position || strcmp(a->e.message, b->e.message) || a->n != b->n ||
        memcmp(a->str, b->str, a->n))
        fail_msg("SIMD and scalar differ on <%.*s>: rc %d/%d at %zu/%zu (%s / %s)", (int)len, t, a->rc, b->rc,
                 a->e.position, b->e.position, a->e.message, b->e.message);
}

/* What may sit inside a string: each a valid or invalid piece. */
static const char *const specials[] = {
    "\"",      /* the end (then text after it: "]" keeps the document valid) */
    "\\\"",    "\\\\", "\\n", "\\u00e9", "\\uD83D\\uDE00", "\\uD800", "\\x", "\\",
    "\x01",    "\x1f", "\t",  " ",       "\x7f",          "\xc3\xa9", "\xe2\x82\xac",
    "\xf0\x9f\x98\x80", "\xc3", "\xff", "\x80", "\xed\xa0\x80",
};

static void test_every_position(void **state) {
    (void)state;
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    char t[256];
    size_t checked = 0;
    for (size_t lead = 0; lead < 3; lead++) /* shifts the string against 16-byte steps */
        for (size_t sp = 0; sp < sizeof specials / sizeof specials[0]; sp++)
            for (size_t len = 0; len <= 48; len++) /* three 16-byte steps and the tails */
                for (size_t pos = 0; pos <= len; pos++) {
                    size_t n = 0;
                    t[n++] = '[';
                    for (size_t k = 0; k < lead; k++) t[n++] = ' ';
                    t[n++] = '"';
                    for (size_t k = 0; k < pos; k++) t[n++] = (char)('a' + k % 26);
                    size_t sl = strlen(specials[sp]);
                    memcpy(t + n, specials[sp], sl);
                    n += sl;
                    for (size_t k = pos; k < len; k++) t[n++] = (char)('A' + k % 26);
                    t[n++] = '"';
                    t[n++] = ']';
                    for (unsigned flags = 0; flags <= WSC_JSON_TRUSTED_UTF8; flags += WSC_JSON_TRUSTED_UTF8) {
                        outcome a, b;
                        run(d, t, n, flags, 0, &a);
                        run(d, t, n, flags, 1, &b);
                        same(&a, &b, t, n);
                        /* and cut short: an unterminated string at every length */
                        run(d, t, n - 2, flags, 0, &a);
                        run(d, t, n - 2, flags, 1, &b);
                        same(&a, &b, t, n - 2);
                        checked += 2;
                    }
                }
    assert_true(checked > 100000);
    wsc_json_doc_free(d);
}

/* A long document of many strings and numbers: the same nodes both ways. */
static void test_document(void **state) {
    (void)state;
    size_t cap = 1 << 16, n = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    n += (size_t)snprintf(t + n, cap - n, "[");
    for (int i = 0; i < 400; i++)
        n += (size_t)snprintf(t + n, cap - n, "%s{\"key%d\":\"%.*s\",\"n\":%d.%d,\"e\":\"a\\tb\\u00e9%.*s\"}",
                              i ? "," : "", i, i % 40, "0123456789012345678901234567890123456789", i * 7, i,
                              i % 23, "zzzzzzzzzzzzzzzzzzzzzzz");
    n += (size_t)snprintf(t + n, cap - n, "]");
    wsc_json_doc *a = wsc_json_doc_new(NULL), *b = wsc_json_doc_new(NULL);
    wsc__json_force_scalar = 0;
    assert_int_equal(wsc_json_parse(a, t, n, 0, NULL), WSC_OK);
    wsc__json_force_scalar = 1;
    assert_int_equal(wsc_json_parse(b, t, n, 0, NULL), WSC_OK);
    wsc__json_force_scalar = 0;
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->nodes, b->nodes, a->n * sizeof *a->nodes);
    wsc_json_doc_free(a);
    wsc_json_doc_free(b);
    free(t);
}

int main(void) {
    printf("# SIMD string scan compiled in: %s\n", wsc__json_simd_available() ? "yes (SSE2)" : "no");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_position),
        cmocka_unit_test(test_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
