/* fuzz_client_json.c - the client's JSON out path with its token:
 * wsc__json_text_with_property (wsc_client_send_json_text: splice the csrf
 * member into an already-validated text), wsc__json_write_jansson
 * (wsc_client_send_json: a json_t written with the member set) and the
 * client_json.c wrappers around them (the pieces form the client masks
 * into its frame checked against the joined text), plus the receive
 * path's parse.
 *
 * Input: byte 0 flags, byte 1 the property's length, byte 2 the token's
 * length, then the property (any bytes), the token (any bytes) and the JSON
 * text. A property or token that wsc_client_new() / the token setters would
 * refuse (empty, a NUL, not UTF-8; not wsc_token_valid()) never reaches the
 * writers, as in the client: the harness checks that wsc_token_valid()
 * agrees with a reference of RFC 6265 cookie-octets and goes no further.
 * Otherwise the output must be JSON that the project's parser reads with
 * no duplicate key, whose root object has the property exactly once with
 * the token as its value, and (where jansson reads the input) equal to the
 * input with that member set, as jansson sees it. The duplicate-key check
 * (WSC_JSON_NO_DUPLICATES) is compared with a naive pairwise reference.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "json/client_json.h"
#include "json/json_internal.h"
#include "proto/proto_gather.h"
#include "wsc/json.h"
#include "wsc/proto.h"
#include "wsc/store.h"

#include "fuzz_check.h"

#define F_JANSSON 0x01u  /* the json_t path (else the text path) */
#define F_NO_TOKEN 0x02u /* no token: the text goes out unchanged */
#define F_LONG 0x04u     /* the token repeated 40 times (beyond WSC_TOKEN_MAX with 103+ bytes) */
#define F_RECEIVE 0x08u  /* also parse the text as a received message (DOM too) */

/* RFC 6265 cookie-octet, as store.h documents wsc_token_valid(). */
static int ref_token_valid(const char *t, size_t n) {
    if (!n || n > WSC_TOKEN_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!(c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
              (c >= 0x5d && c <= 0x7e)))
            return 0;
    }
    return 1;
}

/* The output read back: an object with `prop` once, equal to `token`. */
static void check_out(const char *out, size_t n, const char *prop, const char *token, json_t *expect) {
    wsc_json_doc *d = wsc_json_doc_new(NULL);
    CHECK(d);
    /* The writers emit UTF-8 as given: the text was validated, the key and
       token too. */
    CHECK(wsc_json_parse(d, out, n, WSC_JSON_NO_DUPLICATES, NULL) == WSC_OK);
    wsc_json root = wsc_json_root(d);
    CHECK(wsc_json_type(root) == WSC_JSON_OBJECT);
    size_t seen = 0;
    for (wsc_json m = wsc_json_first(root); m.doc; m = wsc_json_next(m)) {
        size_t kl;
        const char *k = wsc_json_key(m, &kl);
        CHECK(k);
        if (kl == strlen(prop) && !memcmp(k, prop, kl)) {
            seen++;
            CHECK(wsc_json_streq(m, token));
        }
    }
    CHECK(seen == 1);
    wsc_json_doc_free(d);
    if (expect) {
        json_error_t je;
        json_t *got = json_loadb(out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        CHECK(got);
        CHECK(json_equal(got, expect));
        json_decref(got);
    }
}

/* The reference for WSC_JSON_NO_DUPLICATES (whose shortcuts, a Bloom mask
   per object and a hash table for large ones, live in view.c): any object
   at any depth with two members whose unescaped keys are equal. Recursion
   is bounded by the parser's depth limit (2048). */
static int naive_dup(wsc_json v) {
    int t = wsc_json_type(v);
    if (t == WSC_JSON_OBJECT)
        for (wsc_json a = wsc_json_first(v); wsc_json_type(a); a = wsc_json_next(a)) {
            size_t la, lb;
            const char *ka = wsc_json_key(a, &la);
            CHECK(ka);
            for (wsc_json b = wsc_json_next(a); wsc_json_type(b); b = wsc_json_next(b)) {
                const char *kb = wsc_json_key(b, &lb);
                CHECK(kb);
                if (la == lb && !memcmp(ka, kb, la)) return 1;
            }
        }
    if (t == WSC_JSON_OBJECT || t == WSC_JSON_ARRAY)
        for (wsc_json e = wsc_json_first(v); wsc_json_type(e); e = wsc_json_next(e))
            if (naive_dup(e)) return 1;
    return 0;
}

/* The pieces the client masks into its frame (wsc__cj_text_pieces) are,
   joined, byte for byte the text out[0..n) wsc__cj_text_out() gave. */
static void same_pieces(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token,
                        const char *out, size_t n) {
    char *want = malloc(n ? n : 1);
    CHECK(want);
    memcpy(want, out, n); /* out may be cj->out, which the pieces reuse */
    wsc__piece v[WSC__SPLICE_PIECES];
    size_t np = 0, at = 0;
    CHECK(wsc__cj_text_pieces(cj, text, len, prop, token, v, &np) == WSC_OK);
    CHECK(np >= 1 && np <= WSC__SPLICE_PIECES);
    for (size_t i = 0; i < np; i++) {
        CHECK(v[i].len <= n - at && (!v[i].len || !memcmp(want + at, v[i].data, v[i].len)));
        at += v[i].len;
    }
    CHECK(at == n);
    free(want);
}

static void text_path(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token) {
    int rc = wsc__cj_check_text(cj, text, len, 1);
    /* Refused as a duplicate exactly when the text parses without the
       check and the reference finds one. */
    wsc_json_doc *plain = wsc_json_doc_new(NULL);
    CHECK(plain);
    if (wsc_json_parse(plain, text, len, 0, NULL) == WSC_OK) {
        int dup = naive_dup(wsc_json_root(plain));
        CHECK(dup ? rc == WSC_EJSON : rc != WSC_EJSON);
    }
    wsc_json_doc_free(plain);
    if (rc) return; /* refused: wsc_client_send_json_text() returns it */
    const char *out;
    size_t n;
    rc = wsc__cj_text_out(cj, text, len, prop, token, &out, &n);
    CHECK(rc == WSC_OK);
    if (!token) {
        CHECK(out == text && n == len);
        same_pieces(cj, text, len, prop, token, out, n);
        return;
    }
    /* jansson's view of the input with the member set, where it reads it
       (it refuses some texts the project reads: depth, huge numbers). */
    json_error_t je;
    json_t *expect = json_loadb(text, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
    if (expect && json_object_set_new(expect, prop, json_string(token))) {
        json_decref(expect);
        expect = NULL;
    }
    check_out(out, n, prop, token, expect);
    json_decref(expect);
    same_pieces(cj, text, len, prop, token, out, n);
    wsc__cj_wipe(cj);
}

static void jansson_path(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token) {
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v) return;
    const char *out;
    size_t n;
    int rc = wsc__cj_jansson_out(cj, v, prop, token, &out, &n);
    if (token && !json_is_object(v)) {
        CHECK(rc == WSC_EINVAL); /* only an object can carry the member */
    } else {
        CHECK(rc == WSC_OK);
        if (token) {
            json_t *expect = json_deep_copy(v);
            CHECK(expect);
            CHECK(json_object_set_new(expect, prop, json_string(token)) == 0);
            check_out(out, n, prop, token, expect);
            json_decref(expect);
        } else {
            json_t *got = json_loadb(out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            CHECK(got);
            CHECK(json_equal(got, v));
            json_decref(got);
        }
    }
    json_decref(v);
    wsc__cj_wipe(cj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    unsigned flags = data[0];
    size_t plen = data[1] & 63u, tlen = data[2];
    data += 3, size -= 3;
    if (plen + tlen > size) return 0;
    char prop[64];
    memcpy(prop, data, plen);
    prop[plen] = 0;
    size_t reps = (flags & F_LONG) ? 40 : 1;
    char *token = malloc(tlen * reps + 1);
    CHECK(token);
    for (size_t r = 0; r < reps; r++) memcpy(token + r * tlen, data + plen, tlen);
    tlen *= reps;
    token[tlen] = 0;
    const char *text = (const char *)data + plen + tlen / reps;
    size_t len = size - plen - tlen / reps;

    /* What wsc_client_new() and the token setters check first. */
    int prop_ok = plen && !memchr(prop, 0, plen) && wsc_utf8_valid(prop, plen);
    int token_ok = wsc_token_valid(token, tlen);
    CHECK(token_ok == ref_token_valid(token, tlen));
    if (!prop_ok || !token_ok) {
        free(token);
        return 0;
    }
    const char *tok = (flags & F_NO_TOKEN) ? NULL : token;

    wsc__client_json cj;
    memset(&cj, 0, sizeof cj);
    if (flags & F_RECEIVE) {
        wsc_json view;
        json_t *dom;
        wsc_json_error err;
        if (wsc__cj_receive(&cj, (const uint8_t *)text, len, !wsc_utf8_valid(text, len), 1, &view, &dom, &err) ==
            WSC_OK) {
            CHECK(view.doc && dom);
            json_decref(dom);
        }
    }
    if (flags & F_JANSSON) jansson_path(&cj, text, len, prop, tok);
    else text_path(&cj, text, len, prop, tok);
    wsc__cj_free(&cj);
    free(token);
    return 0;
}
