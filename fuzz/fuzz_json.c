/*
 * fuzz_json.c - differential fuzzing of wsc's JSON parser (json.h) against
 * jansson, and of its writers against its parser.
 *
 * For every input, parsed by both (jansson with JSON_DECODE_ANY |
 * JSON_ALLOW_NUL: any top-level value, \u0000 allowed, as the client does;
 * both limit nesting to 2048):
 *  - both accept: wsc_json_to_jansson() of the view equals jansson's value;
 *    the view is walked whole (every key, string, number accessor);
 *  - only wsc accepts: allowed only where jansson refuses a number it
 *    cannot hold (integer or real overflow) or a key holding \u0000,
 *    both of which RFC 8259 permits;
 *  - only jansson accepts: a bug, except where jansson passes over a NUL
 *    byte outside strings ("1\0", "[1\0]": RFC 8259 allows none): wsc
 *    must then have failed on exactly that byte;
 *  - the compact writer's text of jansson's value parses back equal; and
 *    for an object, the csrf splice (what wsc_client_send_json_text sends)
 *    parses back to the object with "csrf" set, unless it has duplicate
 *    keys (which the splice refuses: WSC_JSON_NO_DUPLICATES fails).
 *  - the parser with its portable scalar scans forced (wsc__json_force_scalar)
 *    gives exactly what the default path (the two-pass parser where the CPU
 *    has AVX2, else the SSE2 scan) gave: result, error and nodes, with no
 *    flag, with WSC_JSON_NO_DUPLICATES and with WSC_JSON_TRUSTED_UTF8;
 *  - the two-pass parser alone (wsc__json_parse_two_pass) accepts exactly
 *    the texts the one-pass parser accepts, with the same nodes;
 *  - where the CPU has AVX-512, stage 1's two forms (AVX-512 and AVX2,
 *    wsc__json_force_avx2) write the same structural index, with and
 *    without the UTF-8 rule.
 * The input is a fresh malloc of exactly its size, so ASan reports any read
 * past the end.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_internal.h"
#include "wsc/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wsc_json_doc *doc, *doc2;

/* What jansson refuses although RFC 8259 allows it: numbers it cannot
   hold and NUL in keys. Matched at the start of its message (the rest
   quotes the input, which the fuzzer controls). */
static int jansson_limit(const char *msg) {
    static const char *const limits[] = {"real number overflow", "too big integer", "too big negative integer",
                                         "NUL byte in object key not supported"};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (!strncmp(msg, limits[i], strlen(limits[i]))) return 1;
    return 0;
}

static void walk(wsc_json v, int depth) {
    size_t n;
    int64_t i;
    double x;
    int b;
    (void)wsc_json_raw(v, &n);
    switch (wsc_json_type(v)) {
    case WSC_JSON_STRING: (void)wsc_json_string(v, &n); break;
    case WSC_JSON_NUMBER:
        (void)wsc_json_int64(v, &i);
        (void)wsc_json_double(v, &x);
        (void)wsc_json_number_text(v, &n);
        break;
    case WSC_JSON_TRUE:
    case WSC_JSON_FALSE:
        if (wsc_json_bool(v, &b)) abort();
        break;
    case WSC_JSON_ARRAY:
    case WSC_JSON_OBJECT: {
        size_t count = 0;
        for (wsc_json e = wsc_json_first(v); wsc_json_type(e); e = wsc_json_next(e), count++) {
            const char *k = wsc_json_key(e, &n);
            if ((wsc_json_type(v) == WSC_JSON_OBJECT) != (k != NULL)) abort();
            if (k && wsc_json_type(wsc_json_getn(v, k, n)) == WSC_JSON_NONE) abort();
            if (depth < 64) walk(e, depth + 1);
        }
        if (count != wsc_json_size(v)) abort();
        break;
    }
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!doc) {
        doc = wsc_json_doc_new(NULL);
        doc2 = wsc_json_doc_new(NULL);
    }
    char *text = malloc(size ? size : 1);
    if (size) memcpy(text, data, size);
    if (wsc__json_stage1_forms_agree(text, size) == 0) abort(); /* AVX-512 and AVX2 indexes differ */
    wsc_json_error we;
    int mine = wsc_json_parse(doc, text, size, 0, &we);
    /* The portable scalar scan must agree with the default path exactly:
       the result, the error (code, position, line, column, message) and
       every node; and the two-pass parser alone must accept what the
       one-pass one accepts, no more and no less. */
    static const unsigned flagsets[] = {0, WSC_JSON_NO_DUPLICATES, WSC_JSON_TRUSTED_UTF8};
    for (size_t f = 0; f < sizeof flagsets / sizeof flagsets[0]; f++) {
        wsc_json_error se, fe;
        int fast = f ? wsc_json_parse(doc, text, size, flagsets[f], &fe) : mine;
        if (!f) fe = we;
        wsc__json_force_scalar = 1;
        int scalar = wsc_json_parse(doc2, text, size, flagsets[f], &se);
        wsc__json_force_scalar = 0;
        if (scalar != fast || se.code != fe.code || se.position != fe.position || se.line != fe.line ||
            se.column != fe.column || strcmp(se.message, fe.message))
            abort();
        if (fast == WSC_OK && (doc2->n != doc->n || memcmp(doc2->nodes, doc->nodes, doc->n * sizeof *doc->nodes)))
            abort();
        int tp = wsc__json_parse_two_pass(doc, text, size, flagsets[f]);
        if (tp == 1 && scalar == WSC_OK) abort();
        if (tp == 0 && (scalar != WSC_OK || doc2->n != doc->n ||
                        memcmp(doc2->nodes, doc->nodes, doc->n * sizeof *doc->nodes)))
            abort();
    }
    /* leave doc as the first parse left it */
    mine = wsc_json_parse(doc, text, size, 0, &we);
    json_error_t je;
    json_t *ref = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (mine == WSC_OK) {
        walk(wsc_json_root(doc), 0);
        json_t *conv = wsc_json_to_jansson(wsc_json_root(doc));
        if (ref) {
            if (!conv || !json_equal(conv, ref)) abort();
        } else if (!jansson_limit(je.text)) {
            abort(); /* jansson refused valid JSON for a reason of its own */
        }
        json_decref(conv);
        /* the splice: duplicates refused, otherwise the object plus csrf */
        if (wsc_json_type(wsc_json_root(doc)) == WSC_JSON_OBJECT && ref) {
            int dup = wsc_json_parse(doc2, text, size, WSC_JSON_NO_DUPLICATES, NULL);
            if (dup == WSC_OK) {
                wsc_buf out = {0};
                if (wsc__json_text_with_property(doc2, "csrf", "tok\"en", &out)) abort();
                json_t *back = json_loadb((const char *)out.data, out.len, JSON_ALLOW_NUL, NULL);
                json_t *want = json_deep_copy(ref);
                json_object_set_new(want, "csrf", json_string("tok\"en"));
                if (!back || !json_equal(back, want)) abort();
                json_decref(back);
                json_decref(want);
                wsc_buf_free(&out);
            }
        }
    } else if (ref) {
        /* jansson accepts what wsc refuses: only where jansson's reader
           passes over a NUL byte outside a string (RFC 8259 allows none):
           wsc must have failed on exactly such a byte. */
        if (we.position >= size || text[we.position] != 0) abort();
    }
    if (ref) {
        /* the writer's text parses back equal */
        wsc_buf out = {0};
        int rc = wsc__json_write_jansson(&out, ref, NULL, NULL);
        if (rc == WSC_OK) {
            if (wsc_json_parse(doc2, (const char *)out.data, out.len, 0, NULL)) abort();
            json_t *back = wsc_json_to_jansson(wsc_json_root(doc2));
            if (!back || !json_equal(back, ref)) abort();
            json_decref(back);
        }
        wsc_buf_free(&out);
        json_decref(ref);
    }
    free(text);
    return 0;
}
