/* test_errors.c - docs/errors.md and include/wsc/wsc.h agree: every code of
 * the enum is in the table with its value and wsc_strerror() text, and the
 * table has nothing else (curl's test 1477 idea). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsc/wsc.h"

static char *slurp(const char *rel) {
    char path[1024];
    const char *src = getenv("WSC_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/%s", src && *src ? src : ".", rel);
    size_t n;
    char *s = (char *)tu_read_file(path, &n);
    char *z = s ? realloc(s, n + 1) : NULL;
    if (z) z[n] = 0;
    return z;
}

static void test_table_matches_header(void **state) {
    (void)state;
    char *h = slurp("include/wsc/wsc.h");
    char *d = slurp("docs/errors.md");
    assert_non_null(h);
    assert_non_null(d);
    /* Each "WSC_Xxx = -N" in the enum. */
    int seen = 0;
    const char *p = strstr(h, "enum wsc_err {");
    assert_non_null(p);
    const char *end = strstr(p, "};");
    while ((p = strstr(p, "WSC_")) && p < end) {
        char name[64];
        int n = 0;
        while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n < 63) n++;
        memcpy(name, p, (size_t)n);
        name[n] = 0;
        const char *eq = p + n;
        while (*eq == ' ') eq++;
        if (*eq != '=') {
            p += n;
            continue;
        }
        int value = atoi(eq + 1);
        char row[256];
        snprintf(row, sizeof row, "| `%s` | %d | %s |", name, value, wsc_strerror(value));
        if (!strstr(d, row)) fail_msg("docs/errors.md lacks the row: %s", row);
        seen++;
        p += n;
    }
    assert_true(seen >= 24);
    /* and the table has no row the header lacks */
    int rows = 0;
    for (const char *q = d; (q = strstr(q, "| `WSC_")); q++) rows++;
    assert_int_equal(rows, seen);
    /* unknown codes still get a text */
    assert_string_equal(wsc_strerror(-1000), "unknown error");
    free(h);
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_table_matches_header)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
