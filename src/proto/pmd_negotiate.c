/*
 * pmd_negotiate.c - permessage-deflate negotiation (RFC 7692 sections 5
 * and 7) over the Sec-WebSocket-Extensions grammar of RFC 6455 section 9.1
 * with RFC 7230's list rules:
 *
 *   extension-list = 1#extension          (empty elements allowed, OWS around ',')
 *   extension      = token *( OWS ";" OWS extension-param )
 *   extension-param = token [ OWS "=" OWS ( token / quoted-string ) ]
 *   quoted-string  = DQUOTE *( qdtext / "\" ( HTAB / SP / VCHAR / obs-text ) ) DQUOTE
 *
 * The client side validates the server's answer against its offer; the
 * server side picks the first acceptable offer. Nothing is allocated except
 * by growing the caller's wsc_buf.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "wsc/http.h"

#define PMD_NAME "permessage-deflate"
/* Parameters kept per element; permessage-deflate has four, so an element
   with more is invalid anyway, and other extensions are only skipped. */
#define EXT_MAX_PARAMS 8
/* Longest name quoted in an error message. */
#define NAME_QUOTE_MAX 40

typedef struct ext_param {
    wsc_span name;
    wsc_span value; /* raw; for a quoted string the content between the quotes */
    int has_value;
    int quoted;
} ext_param;

typedef struct ext_elem {
    wsc_span name;
    size_t n_params;
    int too_many;
    ext_param params[EXT_MAX_PARAMS];
} ext_elem;

/* A cursor over several header values read as one comma-joined list. */
typedef struct ext_cursor {
    const wsc_span *vals;
    size_t n_vals, v;
    const char *p, *end;
} ext_cursor;

static void cursor_init(ext_cursor *c, const wsc_span *vals, size_t n) {
    c->vals = vals;
    c->n_vals = n;
    c->v = 0;
    c->p = c->end = NULL;
    if (n) {
        c->p = vals[0].ptr;
        c->end = vals[0].ptr + vals[0].len;
    }
}

static int ows(char c) { return c == ' ' || c == '\t'; }
static int is_tchar(unsigned char c) {
    return wsc_http_is_token((const char *)&c, 1);
}
static int qdtext(unsigned char c) {
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
           (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}
static int qpair_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static void skip_ows(ext_cursor *c) {
    while (c->p < c->end && ows(*c->p)) c->p++;
}

static wsc_span take_token(ext_cursor *c) {
    const char *s = c->p;
    while (c->p < c->end && is_tchar((unsigned char)*c->p)) c->p++;
    return (wsc_span){s, (size_t)(c->p - s)};
}

/*
 * Parses the next element. Returns 1 (element in *e), 0 (end of the list)
 * or -1 (syntax error). Empty list elements are skipped; an element never
 * spans two header values.
 */
static int ext_next(ext_cursor *c, ext_elem *e) {
    for (;;) {
        while (c->p < c->end && (ows(*c->p) || *c->p == ',')) c->p++;
        if (c->p < c->end) break;
        if (++c->v >= c->n_vals) return 0;
        c->p = c->vals[c->v].ptr;
        c->end = c->p + c->vals[c->v].len;
    }
    memset(e, 0, sizeof *e);
    e->name = take_token(c);
    if (!e->name.len) return -1;
    for (;;) {
        skip_ows(c);
        if (c->p == c->end) return 1;
        if (*c->p == ',') {
            c->p++;
            return 1;
        }
        if (*c->p != ';') return -1;
        c->p++;
        skip_ows(c);
        ext_param prm;
        memset(&prm, 0, sizeof prm);
        prm.name = take_token(c);
        if (!prm.name.len) return -1;
        skip_ows(c);
        if (c->p < c->end && *c->p == '=') {
            c->p++;
            skip_ows(c);
            prm.has_value = 1;
            if (c->p < c->end && *c->p == '"') {
                const char *s = ++c->p;
                for (;;) {
                    if (c->p == c->end) return -1;
                    unsigned char ch = (unsigned char)*c->p;
                    if (ch == '"') break;
                    if (ch == '\\') {
                        if (++c->p == c->end || !qpair_char((unsigned char)*c->p)) return -1;
                    } else if (!qdtext(ch)) {
                        return -1;
                    }
                    c->p++;
                }
                prm.value = (wsc_span){s, (size_t)(c->p - s)};
                prm.quoted = 1;
                c->p++;
            } else {
                prm.value = take_token(c);
                if (!prm.value.len) return -1;
            }
        }
        if (e->n_params < EXT_MAX_PARAMS) e->params[e->n_params++] = prm;
        else e->too_many = 1;
    }
}

static int span_is(wsc_span s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/*
 * Window bits of a parameter value: 1*DIGIT without a leading zero, 8..15,
 * after unescaping a quoted string (RFC 7692 7.1: "the value ... MUST
 * conform to the ABNF below"; RFC 6455 9.1: a quoted value, unescaped,
 * must be a token). Returns the value or -1.
 */
static int param_bits(const ext_param *p) {
    if (!p->has_value) return -1;
    char d[3];
    size_t n = 0;
    for (size_t i = 0; i < p->value.len; i++) {
        char ch = p->value.ptr[i];
        if (p->quoted && ch == '\\') ch = p->value.ptr[++i]; /* escapes were checked */
        if (n == sizeof d) return -1;
        d[n++] = ch;
    }
    if (n == 0 || n > 2) return -1;
    for (size_t i = 0; i < n; i++)
        if (d[i] < '0' || d[i] > '9') return -1;
    if (d[0] == '0') return -1;
    int v = n == 1 ? d[0] - '0' : (d[0] - '0') * 10 + (d[1] - '0');
    return v >= 8 && v <= 15 ? v : -1;
}

enum { P_SNCT, P_CNCT, P_SMWB, P_CMWB, P_COUNT };
static const char *const param_names[P_COUNT] = {
    "server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits",
    "client_max_window_bits"};

/* The parameters of one permessage-deflate element, checked for syntax. */
typedef struct pmd_elem_params {
    int present[P_COUNT];
    int bits[P_COUNT]; /* for the window parameters: value, or 0 if none given */
} pmd_elem_params;

/*
 * Reads e's parameters: known names only, each at most once, no value for
 * the *_no_context_takeover ones, 8..15 for the window ones
 * (server_max_window_bits needs a value, client_max_window_bits may lack
 * one). Returns 0, or -1 with a message naming the problem in msg.
 */
static int read_params(const ext_elem *e, pmd_elem_params *pp, char *msg, size_t msgcap) {
    memset(pp, 0, sizeof *pp);
    if (e->too_many) {
        snprintf(msg, msgcap, "too many permessage-deflate parameters");
        return -1;
    }
    for (size_t i = 0; i < e->n_params; i++) {
        const ext_param *p = &e->params[i];
        int k;
        for (k = 0; k < P_COUNT; k++)
            if (span_is(p->name, param_names[k])) break;
        int shown = p->name.len > NAME_QUOTE_MAX ? NAME_QUOTE_MAX : (int)p->name.len;
        if (k == P_COUNT) {
            snprintf(msg, msgcap, "unknown permessage-deflate parameter '%.*s'", shown,
                     p->name.ptr);
            return -1;
        }
        if (pp->present[k]) {
            snprintf(msg, msgcap, "duplicate permessage-deflate parameter '%s'", param_names[k]);
            return -1;
        }
        pp->present[k] = 1;
        if (k == P_SNCT || k == P_CNCT) {
            if (p->has_value) {
                snprintf(msg, msgcap, "%s must not have a value", param_names[k]);
                return -1;
            }
        } else if (p->has_value || k == P_SMWB) {
            int b = param_bits(p);
            if (b < 0) {
                snprintf(msg, msgcap, "invalid value for %s (must be 8 to 15)", param_names[k]);
                return -1;
            }
            pp->bits[k] = b;
        }
    }
    return 0;
}

static int offer_valid(const wsc_pmd_offer *o) {
    return (o->server_max_window_bits == 0 ||
            (o->server_max_window_bits >= 8 && o->server_max_window_bits <= 15)) &&
           (o->client_max_window_bits == -1 || o->client_max_window_bits == 0 ||
            (o->client_max_window_bits >= 8 && o->client_max_window_bits <= 15));
}

int wsc_pmd_offer_format(const wsc_pmd_offer *o, wsc_buf *out) {
    if (!o || !out || !offer_valid(o)) return WSC_EINVAL;
    char tmp[160];
    int n = snprintf(tmp, sizeof tmp, "%s%s%s", PMD_NAME,
                     o->server_no_context_takeover ? "; server_no_context_takeover" : "",
                     o->client_no_context_takeover ? "; client_no_context_takeover" : "");
    if (o->server_max_window_bits)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "; server_max_window_bits=%d",
                      o->server_max_window_bits);
    if (o->client_max_window_bits == 0)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "; client_max_window_bits");
    else if (o->client_max_window_bits > 0)
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, "; client_max_window_bits=%d",
                      o->client_max_window_bits);
    return wsc_buf_append(out, tmp, (size_t)n);
}

/* ---- client side -------------------------------------------------------- */

static int ext_fail(wsc_error *err, wsc_pmd_params *out, const char *msg) {
    memset(out, 0, sizeof *out);
    return wsc__seterr(err, WSC_EEXTENSION, "%s", msg);
}

int wsc_pmd_check_response(const char *value, size_t len, const wsc_pmd_offer *offer,
                           wsc_pmd_params *out, wsc_error *err) {
    if (!out || (!value && len)) return wsc__seterr(err, WSC_EINVAL, "NULL argument");
    memset(out, 0, sizeof *out);
    if (offer && !offer_valid(offer))
        return wsc__seterr(err, WSC_EINVAL, "invalid permessage-deflate offer");
    wsc_span v = {value ? value : "", len};
    ext_cursor c;
    cursor_init(&c, &v, 1);
    ext_elem e;
    char msg[160];
    int rc, seen = 0;
    while ((rc = ext_next(&c, &e)) == 1) {
        if (!span_is(e.name, PMD_NAME) || !offer) {
            int shown = e.name.len > NAME_QUOTE_MAX ? NAME_QUOTE_MAX : (int)e.name.len;
            snprintf(msg, sizeof msg, "server selected extension '%.*s' that was not offered",
                     shown, e.name.ptr);
            return ext_fail(err, out, msg);
        }
        if (seen) return ext_fail(err, out, "server accepted permessage-deflate twice");
        seen = 1;
        pmd_elem_params pp;
        if (read_params(&e, &pp, msg, sizeof msg)) return ext_fail(err, out, msg);
        /* RFC 7692 7.1.2.2: no client_max_window_bits unless offered. */
        if (pp.present[P_CMWB] && offer->client_max_window_bits < 0)
            return ext_fail(err, out, "server sent client_max_window_bits, which was not offered");
        if (pp.present[P_CMWB] && !pp.bits[P_CMWB])
            return ext_fail(err, out, "client_max_window_bits in a response needs a value");
        if (pp.present[P_CMWB] && offer->client_max_window_bits > 0 &&
            pp.bits[P_CMWB] > offer->client_max_window_bits)
            return ext_fail(err, out, "server's client_max_window_bits is larger than offered");
        /* 7.1.2.1: accepting our limit means answering with <= it. */
        if (offer->server_max_window_bits) {
            if (!pp.present[P_SMWB])
                return ext_fail(err, out, "server did not accept server_max_window_bits");
            if (pp.bits[P_SMWB] > offer->server_max_window_bits)
                return ext_fail(err, out, "server's server_max_window_bits is larger than offered");
        }
        /* 7.1.1.1: accepting the offer means including the parameter. */
        if (offer->server_no_context_takeover && !pp.present[P_SNCT])
            return ext_fail(err, out, "server did not accept server_no_context_takeover");
        out->enabled = 1;
        out->server_no_context_takeover = pp.present[P_SNCT];
        out->client_no_context_takeover =
            pp.present[P_CNCT] || offer->client_no_context_takeover;
        out->server_max_window_bits = pp.present[P_SMWB] ? pp.bits[P_SMWB] : 15;
        out->client_max_window_bits = pp.present[P_CMWB]                 ? pp.bits[P_CMWB]
                                      : offer->client_max_window_bits > 0 ? offer->client_max_window_bits
                                                                          : 15;
    }
    if (rc < 0) return ext_fail(err, out, "malformed Sec-WebSocket-Extensions header");
    return WSC_OK;
}

/* ---- server side -------------------------------------------------------- */

static int cfg_valid(const wsc_pmd_server_config *cfg) {
    return (cfg->server_max_window_bits == 0 ||
            (cfg->server_max_window_bits >= 8 && cfg->server_max_window_bits <= 15)) &&
           (cfg->client_max_window_bits == 0 ||
            (cfg->client_max_window_bits >= 8 && cfg->client_max_window_bits <= 15));
}

static int min_int(int a, int b) { return a < b ? a : b; }

/*
 * Decides on one permessage-deflate offer. Returns 1 and fills *out and the
 * response text if acceptable, 0 to decline.
 */
static int accept_offer(const ext_elem *e, const wsc_pmd_server_config *cfg, wsc_pmd_params *out,
                        char *resp, size_t cap) {
    pmd_elem_params pp;
    char msg[160];
    if (read_params(e, &pp, msg, sizeof msg)) return 0; /* RFC 7692 5.1: decline */
    if (cfg->require_client_max_window_bits && cfg->client_max_window_bits && !pp.present[P_CMWB])
        return 0;
    int snct = pp.present[P_SNCT] || cfg->server_no_context_takeover;
    int cnct = pp.present[P_CNCT] || cfg->client_no_context_takeover;
    int our_max = cfg->server_max_window_bits ? cfg->server_max_window_bits : 15;
    int smwb = 0; /* value to answer, 0: none */
    if (pp.present[P_SMWB]) smwb = min_int(pp.bits[P_SMWB], our_max);
    else if (our_max < 15) smwb = our_max;
    int cmwb = 0;
    if (pp.present[P_CMWB]) {
        int offered = pp.bits[P_CMWB] ? pp.bits[P_CMWB] : 15;
        if (cfg->client_max_window_bits) cmwb = min_int(cfg->client_max_window_bits, offered);
        else if (pp.bits[P_CMWB]) cmwb = pp.bits[P_CMWB];
    }
    out->enabled = 1;
    out->server_no_context_takeover = snct;
    out->client_no_context_takeover = cnct;
    out->server_max_window_bits = smwb ? smwb : 15;
    out->client_max_window_bits = cmwb ? cmwb : 15;
    int n = snprintf(resp, cap, "%s%s%s", PMD_NAME, snct ? "; server_no_context_takeover" : "",
                     cnct ? "; client_no_context_takeover" : "");
    if (smwb) n += snprintf(resp + n, cap - (size_t)n, "; server_max_window_bits=%d", smwb);
    if (cmwb) n += snprintf(resp + n, cap - (size_t)n, "; client_max_window_bits=%d", cmwb);
    return 1;
}

static int negotiate(const wsc_span *vals, size_t n, const wsc_pmd_server_config *cfg,
                     wsc_pmd_params *out, wsc_buf *resp) {
    static const wsc_pmd_server_config defaults;
    if (!out) return WSC_EINVAL;
    memset(out, 0, sizeof *out);
    if (!cfg) cfg = &defaults;
    if (!resp || !cfg_valid(cfg)) return WSC_EINVAL;
    ext_cursor c;
    ext_elem e;
    int rc;
    /* First the whole list's syntax: a malformed header is answered with
       400 wherever the error is, so the outcome never depends on it. */
    cursor_init(&c, vals, n);
    while ((rc = ext_next(&c, &e)) == 1) {
    }
    if (rc < 0) return WSC_EHANDSHAKE;
    cursor_init(&c, vals, n);
    while (ext_next(&c, &e) == 1) {
        if (!span_is(e.name, PMD_NAME)) continue;
        char text[200];
        wsc_pmd_params p;
        if (!accept_offer(&e, cfg, &p, text, sizeof text)) continue;
        rc = wsc_buf_append(resp, text, strlen(text));
        if (rc) return rc;
        *out = p;
        return WSC_OK;
    }
    return WSC_OK;
}

int wsc_pmd_negotiate_server(const char *offers, size_t len, const wsc_pmd_server_config *cfg,
                             wsc_pmd_params *out, wsc_buf *response_value) {
    if (!offers && len) return WSC_EINVAL;
    wsc_span v = {offers ? offers : "", len};
    return negotiate(&v, 1, cfg, out, response_value);
}

int wsc_pmd_negotiate_request(const wsc_http_request *req, const wsc_pmd_server_config *cfg,
                              wsc_pmd_params *out, wsc_buf *response_value) {
    if (!req) return WSC_EINVAL;
    wsc_span vals[WSC_HTTP_MAX_HEADERS];
    size_t n = 0, pos = 0;
    const wsc_header *h;
    while (n < WSC_HTTP_MAX_HEADERS &&
           (h = wsc_http_header_next(req->headers, req->n_headers, "Sec-WebSocket-Extensions", &pos)))
        vals[n++] = h->value;
    return negotiate(vals, n, cfg, out, response_value);
}
