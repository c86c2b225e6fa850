/* client_json.c - the JSON half of the client (client_json.h). */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "json/client_json.h"
#include "json/json_internal.h"
#include "proto/proto_gather.h"

static int ensure(wsc_json_doc **d) {
    if (!*d) *d = wsc_json_doc_new(NULL);
    return *d ? 0 : -1;
}

int wsc__cj_receive(wsc__client_json *cj, const uint8_t *data, size_t len, int binary, int want_dom, wsc_json *view,
                    json_t **dom, wsc_json_error *err) {
    *view = (wsc_json){NULL, 0};
    *dom = NULL;
    if (ensure(&cj->rx)) return WSC_ENOMEM;
    int rc = wsc_json_parse(cj->rx, (const char *)data, len, binary ? 0 : WSC_JSON_TRUSTED_UTF8, err);
    if (rc) return rc == WSC_ETOOBIG ? WSC_EJSON : rc;
    *view = wsc_json_root(cj->rx);
    if (want_dom && !(*dom = wsc_json_to_jansson(*view))) {
        /* Out of memory, or a number beyond a double (1e400): jansson's own
           parser refuses those too. */
        if (err) {
            memset(err, 0, sizeof *err);
            err->code = WSC_EJSON;
            snprintf(err->message, sizeof err->message, "a number is out of a json_t's range (or out of memory)");
        }
        *view = (wsc_json){NULL, 0};
        return WSC_EJSON;
    }
    return WSC_OK;
}

int wsc__cj_check_text(wsc__client_json *cj, const char *text, size_t len, int need_object) {
    if (ensure(&cj->tx)) return WSC_ENOMEM;
    int rc = wsc_json_parse(cj->tx, text, len, WSC_JSON_NO_DUPLICATES, NULL);
    if (rc) return rc;
    if (need_object && wsc_json_type(wsc_json_root(cj->tx)) != WSC_JSON_OBJECT) return WSC_EINVAL;
    return WSC_OK;
}

int wsc__cj_text_out(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token,
                     const char **out, size_t *out_len) {
    if (!token) { /* nothing to add: the validated text goes out as it is */
        *out = text;
        *out_len = len;
        return WSC_OK;
    }
    cj->out.len = cj->out.off = 0;
    int rc = wsc__json_text_with_property(cj->tx, prop, token, &cj->out);
    if (rc) {
        wsc__cj_wipe(cj);
        return rc;
    }
    *out = (const char *)cj->out.data;
    *out_len = cj->out.len;
    return WSC_OK;
}

int wsc__cj_text_pieces(wsc__client_json *cj, const char *text, size_t len, const char *prop, const char *token,
                        wsc__piece *v, size_t *n) {
    if (!token) {
        v[0] = (wsc__piece){text, len};
        *n = 1;
        return WSC_OK;
    }
    cj->out.len = cj->out.off = 0;
    int rc = wsc__json_splice_pieces(cj->tx, prop, token, &cj->out, v, n);
    if (rc == 1) { /* too many pieces: joined instead */
        wsc__cj_wipe(cj);
        const char *t;
        size_t tl;
        rc = wsc__cj_text_out(cj, text, len, prop, token, &t, &tl);
        if (!rc) v[0] = (wsc__piece){t, tl}, *n = 1;
        return rc;
    }
    if (rc) wsc__cj_wipe(cj);
    return rc;
}

int wsc__cj_jansson_out(wsc__client_json *cj, json_t *value, const char *prop, const char *token, const char **out,
                        size_t *out_len) {
    cj->out.len = cj->out.off = 0;
    int rc = wsc__json_write_jansson(&cj->out, value, token ? prop : NULL, token);
    if (rc) {
        wsc__cj_wipe(cj);
        return rc;
    }
    *out = (const char *)cj->out.data;
    *out_len = cj->out.len;
    return WSC_OK;
}

void wsc__cj_wipe(wsc__client_json *cj) {
    if (cj->out.data) wsc__wipe(cj->out.data, cj->out.len);
    cj->out.len = cj->out.off = 0;
}

void wsc__cj_free(wsc__client_json *cj) {
    wsc__cj_wipe(cj);
    wsc_buf_free(&cj->out);
    wsc_json_doc_free(cj->rx);
    wsc_json_doc_free(cj->tx);
    cj->rx = cj->tx = NULL;
}
