/*
 * http.c - HTTP/1.x message-head parsing for the opening handshake
 * (picohttpparser-shaped: stateless, no allocation, spans into the caller's
 * buffer) and the header-list helpers.
 *
 * A head is parsed in two steps: find its end (the first CRLF CRLF,
 * resuming where the previous call stopped looking), then parse the
 * complete head in one pass. Feeding a head in any number of pieces gives
 * the same answer as feeding it whole, and no byte at or after `len` is
 * ever read.
 */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <strings.h>

#include "internal.h"
#include "wsc/http.h"

/* RFC 7230 tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA */
static const unsigned char tchar_tab[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static int is_tchar(unsigned char c) { return tchar_tab[c]; }

int wsc_http_is_token(const char *s, size_t len) {
    if (!s || !len) return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)s[i])) return 0;
    return 1;
}

static int name_eq(wsc_span a, const char *name) {
    size_t n = strlen(name);
    return a.len == n && strncasecmp(a.ptr, name, n) == 0;
}

const wsc_header *wsc_http_header_next(const wsc_header *headers, size_t n, const char *name,
                                       size_t *pos) {
    if (!headers || !name || !pos) return NULL;
    for (size_t i = *pos; i < n; i++) {
        if (name_eq(headers[i].name, name)) {
            *pos = i + 1;
            return &headers[i];
        }
    }
    return NULL;
}

static int ows(char c) { return c == ' ' || c == '\t'; }

int wsc_http_list_next(const wsc_header *headers, size_t n, const char *name, wsc_list_iter *it,
                       wsc_span *elem) {
    if (!headers || !name || !it || !elem) return 0;
    for (; it->header < n; it->header++, it->off = 0) {
        const wsc_header *h = &headers[it->header];
        if (!name_eq(h->name, name)) continue;
        const char *v = h->value.ptr;
        size_t vl = h->value.len;
        while (it->off < vl) {
            size_t s = it->off, e = s;
            while (e < vl && v[e] != ',') e++;
            it->off = e < vl ? e + 1 : vl;
            while (s < e && ows(v[s])) s++;
            while (e > s && ows(v[e - 1])) e--;
            if (e > s) {
                elem->ptr = v + s;
                elem->len = e - s;
                return 1;
            }
        }
    }
    return 0;
}

/* ---- head parsing -------------------------------------------------- */

/*
 * Finds the end of the head: returns the length up to and including the
 * first CRLF CRLF in buf[0..len), searching from last_len - 3, or 0.
 */
static size_t find_head_end(const char *buf, size_t len, size_t last_len) {
    size_t i = last_len > len ? 0 : last_len;
    i = i >= 3 ? i - 3 : 0;
    while (len >= 4 && i <= len - 4) {
        const char *cr = memchr(buf + i, '\r', len - 3 - i);
        if (!cr) return 0;
        i = (size_t)(cr - buf);
        if (buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') return i + 4;
        i++;
    }
    return 0;
}

/* Value bytes: HTAB, SP, VCHAR, obs-text. */
static int value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

/* A "HTTP/d.d" version at p[0..8). */
static int parse_version(const char *p, int *major, int *minor) {
    if (memcmp(p, "HTTP/", 5) != 0) return 0;
    if (p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9') return 0;
    *major = p[5] - '0';
    *minor = p[7] - '0';
    return 1;
}

/*
 * Parses the header lines of a complete head: p..end is everything after
 * the start line, ending with the final CRLF of the blank line.
 * Returns WSC_OK, WSC_EHANDSHAKE or WSC_ETOOBIG with *error set.
 */
static int parse_headers(const char *p, const char *end, wsc_header *hs, size_t *nh,
                         const char **error) {
    size_t n = 0;
    for (;;) {
        /* at the start of a line; the head ends with CRLF CRLF so a line
           always ends with CRLF before end */
        if (p[0] == '\r') {
            if (p + 2 != end || p[1] != '\n') {
                *error = "bare CR in header block";
                return WSC_EHANDSHAKE;
            }
            break;
        }
        if (ows(p[0])) {
            *error = "obsolete line folding in header block";
            return WSC_EHANDSHAKE;
        }
        const char *name = p;
        while (is_tchar((unsigned char)*p)) p++;
        if (p == name) {
            *error = "invalid header field name";
            return WSC_EHANDSHAKE;
        }
        if (*p != ':') {
            *error = ows(*p) ? "whitespace before ':' in header field"
                             : "invalid character in header field name";
            return WSC_EHANDSHAKE;
        }
        size_t name_len = (size_t)(p - name);
        p++;
        while (ows(*p)) p++;
        const char *v = p;
        while (*p != '\r') {
            if (!value_char((unsigned char)*p)) {
                *error = *p == '\n' ? "bare LF in header block"
                                    : "control character in header field value";
                return WSC_EHANDSHAKE;
            }
            p++;
        }
        if (p[1] != '\n') {
            *error = "bare CR in header block";
            return WSC_EHANDSHAKE;
        }
        const char *ve = p;
        while (ve > v && ows(ve[-1])) ve--;
        if (n == WSC_HTTP_MAX_HEADERS) {
            *error = "too many header fields";
            return WSC_ETOOBIG;
        }
        hs[n].name = (wsc_span){name, name_len};
        hs[n].value = (wsc_span){v, (size_t)(ve - v)};
        n++;
        p += 2;
    }
    *nh = n;
    return WSC_OK;
}

/* The effective limit: 0 means the default; at most INT_MAX (the length is
   returned as an int). */
static size_t eff_max(size_t max) {
    if (!max) return WSC_HTTP_DEFAULT_MAX_HEADER_BYTES;
    return max > (size_t)0x7fffffff ? (size_t)0x7fffffff : max;
}

/* Common framing: find the head's end within the limit `max` (see
   eff_max). Returns the head length, or a negative code with *error set. */
static int head_length(const char *buf, size_t len, size_t last_len, size_t max,
                       const char **error) {
    size_t scan = len < max ? len : max;
    size_t hl = find_head_end(buf, scan, last_len);
    if (hl) return (int)hl;
    if (len >= max) {
        *error = "header block exceeds the size limit";
        return WSC_ETOOBIG;
    }
    return WSC_EAGAIN;
}

int wsc_http_parse_response(const char *buf, size_t len, size_t last_len, wsc_http_response *r,
                            size_t max_header_bytes) {
    if (!r) return WSC_EINVAL;
    r->error = NULL;
    if (!buf) {
        r->error = "NULL buffer";
        return WSC_EINVAL;
    }
    /* Early rejection: what does not start like a status line never will.
       Only bytes within the limit are looked at, so that the answer for a
       head that is too long does not depend on how it was split. */
    size_t max = eff_max(max_header_bytes);
    static const char pfx[] = "HTTP/";
    size_t k = len < 5 ? len : 5;
    if (k > max) k = max;
    if (memcmp(buf, pfx, k) != 0) {
        r->error = "not an HTTP response";
        return WSC_EHANDSHAKE;
    }
    int hl = head_length(buf, len, last_len, max, &r->error);
    if (hl < 0) return hl;
    const char *p = buf, *end = buf + hl;
    /* status-line = HTTP-version SP status-code SP reason-phrase CRLF */
    if (hl < 14 || !parse_version(p, &r->major, &r->minor) || p[8] != ' ') {
        r->error = "malformed status line";
        return WSC_EHANDSHAKE;
    }
    if (r->major != 1) {
        r->error = "unsupported HTTP version";
        return WSC_EHANDSHAKE;
    }
    p += 9;
    if (p[0] < '1' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9') {
        r->error = "malformed status code";
        return WSC_EHANDSHAKE;
    }
    r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    p += 3;
    const char *reason = p;
    if (*p == ' ') {
        reason = ++p;
        while (*p != '\r') {
            if (!value_char((unsigned char)*p)) {
                r->error = "control character in reason phrase";
                return WSC_EHANDSHAKE;
            }
            p++;
        }
    }
    if (p[0] != '\r' || p[1] != '\n') {
        r->error = "malformed status line";
        return WSC_EHANDSHAKE;
    }
    r->reason = (wsc_span){reason, (size_t)(p - reason)};
    p += 2;
    int rc = parse_headers(p, end, r->headers, &r->n_headers, &r->error);
    if (rc) return rc;
    return hl;
}

int wsc_http_parse_request(const char *buf, size_t len, size_t last_len, wsc_http_request *r,
                           size_t max_header_bytes) {
    if (!r) return WSC_EINVAL;
    r->error = NULL;
    if (!buf) {
        r->error = "NULL buffer";
        return WSC_EINVAL;
    }
    /* Early rejection: the method is a token followed by one space (looked
       for within the limit only, as in wsc_http_parse_response). */
    size_t max = eff_max(max_header_bytes);
    size_t i = 0, early = len < max ? len : max;
    while (i < early && is_tchar((unsigned char)buf[i])) i++;
    if (i < early && (i == 0 || buf[i] != ' ')) {
        r->error = "malformed request line";
        return WSC_EHANDSHAKE;
    }
    int hl = head_length(buf, len, last_len, max, &r->error);
    if (hl < 0) return hl;
    const char *p = buf, *end = buf + hl;
    r->method = (wsc_span){p, i};
    p += i + 1;
    const char *t = p;
    while ((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f) p++;
    if (p == t || *p == '\r') {
        r->error = "malformed request line";
        return WSC_EHANDSHAKE;
    }
    if (*p != ' ') {
        r->error = "invalid character in request target";
        return WSC_EHANDSHAKE;
    }
    r->target = (wsc_span){t, (size_t)(p - t)};
    p++;
    if (end - p < 10 || !parse_version(p, &r->major, &r->minor) || p[8] != '\r' || p[9] != '\n') {
        r->error = "malformed request line";
        return WSC_EHANDSHAKE;
    }
    p += 10;
    int rc = parse_headers(p, end, r->headers, &r->n_headers, &r->error);
    if (rc) return rc;
    return hl;
}
