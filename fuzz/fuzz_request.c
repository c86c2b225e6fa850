/* fuzz_request.c - the server's side: request head parsing, the handshake
 * check, permessage-deflate negotiation and the answers.
 *
 * Input layout: byte 0 picks the split point, byte 1 the server's
 * permessage-deflate policy and header-size limit; the rest is the client's
 * bytes. Checked:
 *   - parsing the whole and in two pieces agree (as in fuzz_response);
 *   - for a request that passes wsc_handshake_check_request: the info spans
 *     lie in the head, offered subprotocols are non-empty and comma-free,
 *     and the 101 built from the negotiation parses as a response that the
 *     client's check accepts with the same permessage-deflate parameters;
 *   - for a refused request: the status is 400, 405 or 426 and the error
 *     answer builds and parses;
 *   - wsc_pmd_negotiate_server on the raw bytes: an accepted offer's answer
 *     passes the client's check (against the widest offer) with equal
 *     parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/http.h"

static void in_head(wsc_span s, const char *b, size_t hl) {
    if (!s.ptr) return;
    if (s.ptr < b || s.ptr + s.len > b + hl) abort();
}

static wsc_http_response *g_resp;

/* The client's view of a 101 answer: must parse whole and pass the check. */
static void client_accepts(const wsc_buf *resp, const char *key, wsc_span proto, const wsc_pmd_params *sp) {
    if (wsc_http_parse_response((const char *)resp->data, resp->len, 0, g_resp, 1 << 20) != (int)resp->len)
        abort();
    char pbuf[256];
    const char *protos[2] = {NULL, NULL};
    if (proto.ptr) {
        if (proto.len >= sizeof pbuf) return;
        memcpy(pbuf, proto.ptr, proto.len);
        pbuf[proto.len] = '\0';
        protos[0] = pbuf;
    }
    static const wsc_pmd_offer widest = {0, 0, 0, 0};
    wsc_handshake_result res;
    wsc_error err;
    if (wsc_handshake_check_response(g_resp, key, protos, &widest, &res, &err) != WSC_OK) abort();
    if (memcmp(&res.pmd, sp, sizeof *sp) != 0) abort();
}

static void check_pmd_raw(const char *b, size_t n, const wsc_pmd_server_config *cfg) {
    wsc_pmd_params sp, cp;
    wsc_buf out = {0};
    int rc = wsc_pmd_negotiate_server(b, n, cfg, &sp, &out);
    if (rc == WSC_OK) {
        if (sp.enabled != (out.len > 0)) abort();
        if (sp.enabled) {
            static const wsc_pmd_offer widest = {0, 0, 0, 0};
            wsc_error err;
            if (wsc_pmd_check_response((const char *)out.data, out.len, &widest, &cp, &err) != WSC_OK) abort();
            if (memcmp(&sp, &cp, sizeof sp) != 0) abort();
            if (cfg->server_max_window_bits && sp.server_max_window_bits > cfg->server_max_window_bits) abort();
        }
    } else if (rc != WSC_EHANDSHAKE || out.len || sp.enabled) {
        abort();
    }
    wsc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t split_sel = data[0], opt = data[1];
    size_t n = size - 2;
    char *b = malloc(n ? n : 1);
    wsc_http_request *r = malloc(sizeof *r), *r2 = malloc(sizeof *r2);
    g_resp = malloc(sizeof *g_resp);
    if (!b || !r || !r2 || !g_resp) abort();
    memcpy(b, data + 2, n);
    size_t max = (opt & 0x80) ? 200 : 0;
    wsc_pmd_server_config cfg = {opt & 1, (opt >> 1) & 1, (opt & 4) ? 9 + ((opt >> 3) & 3) : 0,
                                 (opt & 0x20) ? 10 : 0, (opt >> 6) & 1};

    int whole = wsc_http_parse_request(b, n, 0, r, max);
    if (!(whole > 0 || whole == WSC_EAGAIN || whole == WSC_ETOOBIG || whole == WSC_EHANDSHAKE)) abort();
    size_t k = n ? (size_t)split_sel * (n + 1) / 256 : 0;
    int first = wsc_http_parse_request(b, k, 0, r2, max);
    if (first != WSC_EAGAIN && first != whole) abort();
    if (first == WSC_EAGAIN && wsc_http_parse_request(b, n, k, r2, max) != whole) abort();

    if (whole > 0) {
        size_t hl = (size_t)whole;
        if (hl > n || memcmp(b + hl - 4, "\r\n\r\n", 4) != 0) abort();
        in_head(r->method, b, hl);
        in_head(r->target, b, hl);
        if (!wsc_http_is_token(r->method.ptr, r->method.len) || !r->target.len) abort();
        wsc_ws_request_info info;
        wsc_error err;
        int rc = wsc_handshake_check_request(r, &info, &err);
        wsc_buf out = {0};
        if (rc == WSC_OK) {
            if (info.status || info.key.len != 24) abort();
            in_head(info.key, b, hl);
            in_head(info.host, b, hl);
            in_head(info.path, b, hl);
            in_head(info.query, b, hl);
            in_head(info.origin, b, hl);
            in_head(info.cookie, b, hl);
            if (!info.path.len || info.path.ptr[0] != '/') abort();
            wsc_list_iter it = {0, 0};
            wsc_span p, chosen = {NULL, 0};
            size_t count = 0;
            while (wsc_ws_request_next_protocol(&info, &it, &p)) {
                if (!p.len || memchr(p.ptr, ',', p.len) || ++count > 64 * 8192) abort();
                if (!chosen.ptr && wsc_http_is_token(p.ptr, p.len)) chosen = p;
            }
            wsc_pmd_params sp;
            wsc_buf ext = {0};
            int nrc = wsc_pmd_negotiate_request(r, &cfg, &sp, &ext);
            if (nrc == WSC_OK) {
                char key[25];
                memcpy(key, info.key.ptr, 24);
                key[24] = '\0';
                if (wsc_handshake_response(info.key, chosen, (wsc_span){(const char *)ext.data, ext.len}, NULL, 0,
                                           &out, &err) != WSC_OK)
                    abort();
                client_accepts(&out, key, chosen, &sp);
            } else if (nrc != WSC_EHANDSHAKE) {
                abort();
            }
            if (info.cookie.ptr) {
                const char *cv;
                size_t cl;
                if (wsc_cookie_get(info.cookie.ptr, info.cookie.len, "csrf_token", &cv, &cl) == 1)
                    in_head((wsc_span){cv, cl}, b, hl);
            }
            if (info.query.ptr) {
                char q[128];
                size_t ql;
                int g = wsc_query_get(info.query.ptr, info.query.len, "csrf", q, sizeof q, &ql);
                if (g != 0 && g != 1 && g != WSC_ETOOBIG && g != WSC_EINVAL) abort();
            }
            wsc_buf_free(&ext);
        } else {
            if (rc != WSC_EHANDSHAKE || err.code != rc) abort();
            if (info.status != 400 && info.status != 405 && info.status != 426) abort();
            const wsc_header v13[] = {{wsc_span_str("Sec-WebSocket-Version"), wsc_span_str("13")}};
            if (wsc_http_error_response(info.status, NULL, err.message, v13, info.status == 426, &out, NULL) !=
                WSC_OK)
                abort();
            int prc = wsc_http_parse_response((const char *)out.data, out.len, 0, g_resp, 1 << 20);
            if (prc <= 0 || g_resp->status != info.status) abort();
        }
        wsc_buf_free(&out);
    }

    check_pmd_raw(b, n, &cfg);
    free(g_resp);
    free(r);
    free(r2);
    free(b);
    return 0;
}
