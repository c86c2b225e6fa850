/* fuzz_response.c - the client's side: response head parsing, the response
 * check, and the permessage-deflate response grammar.
 *
 * Input layout: byte 0 picks the split point, byte 1 options (header-size
 * limit, the permessage-deflate offer, subprotocols offered); the rest is
 * the server's bytes. Checked:
 *   - parsing the whole and parsing in two pieces (the second call resuming
 *     where the first stopped) agree; a prefix answers WSC_EAGAIN or the
 *     final answer;
 *   - a complete head's spans lie inside the head, and bytes after it are
 *     never part of it;
 *   - wsc_handshake_check_response returns a documented code and a
 *     consistent result (selected protocol among those offered, negotiated
 *     window sizes in 8..15);
 *   - wsc_pmd_check_response on the raw bytes as a header value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/http.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static void spans_in(const wsc_http_response *r, const char *b, size_t hl) {
    const char *end = b + hl;
    if (r->reason.ptr < b || r->reason.ptr + r->reason.len > end) abort();
    if (r->n_headers > WSC_HTTP_MAX_HEADERS) abort();
    for (size_t i = 0; i < r->n_headers; i++) {
        const wsc_header *h = &r->headers[i];
        if (h->name.ptr < b || h->name.ptr + h->name.len > end || !h->name.len) abort();
        if (h->value.ptr < b || h->value.ptr + h->value.len > end) abort();
        if (!wsc_http_is_token(h->name.ptr, h->name.len)) abort();
        for (size_t k = 0; k < h->value.len; k++) {
            unsigned char c = (unsigned char)h->value.ptr[k];
            if ((c < 0x20 && c != '\t') || c == 0x7f) abort();
        }
        if (h->value.len && (h->value.ptr[0] == ' ' || h->value.ptr[h->value.len - 1] == ' ')) abort();
    }
}

static void check_params(const wsc_pmd_params *p) {
    if (!p->enabled) return;
    if (p->server_max_window_bits < 8 || p->server_max_window_bits > 15) abort();
    if (p->client_max_window_bits < 8 || p->client_max_window_bits > 15) abort();
    if ((p->server_no_context_takeover | p->client_no_context_takeover) & ~1) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t split_sel = data[0], opt = data[1];
    size_t n = size - 2;
    /* an exact-size copy so that any over-read is caught */
    char *b = malloc(n ? n : 1);
    if (!b) abort();
    memcpy(b, data + 2, n);
    size_t max = (opt & 3) == 0 ? 0 : (opt & 3) == 1 ? 64 : (opt & 3) == 2 ? 300 : 4096;
    wsc_http_response *r = malloc(sizeof *r), *r2 = malloc(sizeof *r2);
    if (!r || !r2) abort();

    int whole = wsc_http_parse_response(b, n, 0, r, max);
    if (!(whole > 0 || whole == WSC_EAGAIN || whole == WSC_ETOOBIG || whole == WSC_EHANDSHAKE)) abort();
    if (whole < 0 && whole != WSC_EAGAIN && !r->error) abort();
    size_t k = n ? (size_t)split_sel * (n + 1) / 256 : 0;
    int first = wsc_http_parse_response(b, k, 0, r2, max);
    if (first != WSC_EAGAIN && first != whole) abort();
    if (first == WSC_EAGAIN && wsc_http_parse_response(b, n, k, r2, max) != whole) abort();

    if (whole > 0) {
        size_t hl = (size_t)whole;
        if (hl > n || (max && hl > max) || memcmp(b + hl - 4, "\r\n\r\n", 4) != 0) abort();
        spans_in(r, b, hl);
        if (r->n_headers != r2->n_headers || r->status != r2->status) abort();
        /* the head alone gives the same answer: nothing after it matters */
        if (wsc_http_parse_response(b, hl, 0, r2, max) != whole) abort();

        static const char *const protos[] = {"chat", "superchat", NULL};
        wsc_pmd_offer offer = {(opt >> 2) & 1, (opt >> 3) & 1, (opt & 0x10) ? 10 : 0,
                               (opt & 0x20) ? -1 : (opt & 0x40) ? 12 : 0};
        wsc_handshake_result res;
        wsc_error err;
        int rc = wsc_handshake_check_response(r, KEY, (opt & 0x80) ? protos : NULL,
                                              (opt & 0x80) ? &offer : NULL, &res, &err);
        if (rc != WSC_OK && rc != WSC_EHTTP && rc != WSC_EHANDSHAKE && rc != WSC_EEXTENSION) abort();
        if (rc != WSC_OK && (err.code != rc || !err.message[0])) abort();
        if (res.status != r->status || res.response != r) abort();
        if (rc == WSC_OK) {
            if (r->status != 101) abort();
            if (res.protocol.ptr) {
                int found = 0;
                for (size_t i = 0; protos[i]; i++)
                    found |= strlen(protos[i]) == res.protocol.len &&
                             memcmp(protos[i], res.protocol.ptr, res.protocol.len) == 0;
                if (!found || !(opt & 0x80)) abort();
            }
            check_params(&res.pmd);
            if (res.pmd.enabled && (!res.extensions.ptr || !(opt & 0x80))) abort();
        }
        size_t pos = 0;
        wsc_span v;
        size_t cookies = 0;
        while (wsc_handshake_next_set_cookie(&res, &pos, &v)) {
            if (v.ptr < b || v.ptr + v.len > b + hl || ++cookies > r->n_headers) abort();
        }
    }

    /* the same bytes as a Sec-WebSocket-Extensions value */
    wsc_pmd_offer offer = {opt & 1, (opt >> 1) & 1, (opt & 4) ? 8 + (opt >> 5) : 0,
                           (opt & 8) ? -1 : (opt & 0x10) ? 8 + (opt >> 5) : 0};
    wsc_pmd_params p;
    wsc_error err;
    int rc = wsc_pmd_check_response(b, n, &offer, &p, &err);
    if (rc == WSC_OK) check_params(&p);
    else if (rc != WSC_EEXTENSION || p.enabled) abort();
    free(r);
    free(r2);
    free(b);
    return 0;
}
