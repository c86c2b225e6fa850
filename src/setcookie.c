/*
 * setcookie.c - the token cookie from a Set-Cookie header value (RFC 6265
 * 5.2: name=value, then attributes; Expires, Max-Age, Path and Domain are
 * the ones that matter here; Secure, HttpOnly, SameSite are accepted and
 * have no meaning for a native client). Pure: no I/O, the clock is given.
 */
#define _GNU_SOURCE
#include "setcookie.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

static const char *trim_end(const char *p, const char *e) {
    while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
    return e;
}

/* RFC 6265 5.1.1, for the formats servers actually send. */
static int parse_date(const char *p, size_t n, time_t *out) {
    char buf[64];
    if (n >= sizeof buf) return -1;
    memcpy(buf, p, n);
    buf[n] = 0;
    static const char *fmts[] = {"%a, %d %b %Y %H:%M:%S GMT", "%a, %d-%b-%Y %H:%M:%S GMT",
                                 "%a, %d-%b-%y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT"};
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *e = strptime(buf, fmts[i], &tm);
        if (e && !*e) {
            time_t t = timegm(&tm);
            if (t == (time_t)-1) return -1;
            *out = t;
            return 0;
        }
    }
    return -1;
}

/* 5.1.4: the cookie path is a prefix of the request path, at a '/' boundary. */
static int path_match(const char *cp, size_t cl, const char *rp, size_t rl) {
    if (!rl) rp = "/", rl = 1;
    if (cl > rl || memcmp(cp, rp, cl) != 0) return 0;
    return cl == rl || cp[cl - 1] == '/' || rp[cl] == '/';
}

/* 5.1.3: host equals the domain, or ends with "." + domain (case-insensitive). */
static int domain_match(const char *d, size_t dl, const char *h, size_t hl) {
    if (dl && d[0] == '.') d++, dl--;
    if (!dl) return 0;
    if (dl == hl) return strncasecmp(d, h, dl) == 0;
    return hl > dl && h[hl - dl - 1] == '.' && strncasecmp(d, h + hl - dl, dl) == 0;
}

int wsc__set_cookie_parse(const char *hdr, const char *name, const char *req_path, size_t req_path_len,
                          const char *host, size_t host_len, time_t now, wsc__cookie *out) {
    memset(out, 0, sizeof *out);
    if (!hdr || !name) return WSC__COOKIE_IGNORE;
    const char *end = hdr + strlen(hdr);
    const char *semi = memchr(hdr, ';', (size_t)(end - hdr));
    const char *pair_end = semi ? semi : end;
    const char *eq = memchr(hdr, '=', (size_t)(pair_end - hdr));
    if (!eq) return WSC__COOKIE_IGNORE;
    const char *n0 = skip_ws(hdr, eq), *n1 = trim_end(n0, eq);
    size_t nl = strlen(name);
    if ((size_t)(n1 - n0) != nl || memcmp(n0, name, nl) != 0) return WSC__COOKIE_IGNORE;
    const char *v0 = skip_ws(eq + 1, pair_end), *v1 = trim_end(v0, pair_end);
    if (v1 - v0 >= 2 && *v0 == '"' && v1[-1] == '"') v0++, v1--;
    size_t vl = (size_t)(v1 - v0);

    int have_max_age = 0, deleted = 0;
    long long max_age = 0;
    time_t expires = 0;
    int have_expires = 0;
    const char *p = semi;
    while (p && p < end) {
        const char *a0 = skip_ws(p + 1, end);
        const char *ae = memchr(a0, ';', (size_t)(end - a0));
        if (!ae) ae = end;
        const char *aeq = memchr(a0, '=', (size_t)(ae - a0));
        const char *k1 = trim_end(a0, aeq ? aeq : ae);
        const char *av0 = aeq ? skip_ws(aeq + 1, ae) : ae, *av1 = trim_end(av0, ae);
        size_t kl = (size_t)(k1 - a0), al = (size_t)(av1 - av0);
        if (kl == 7 && !strncasecmp(a0, "max-age", 7)) {
            /* 5.2.2: an optional '-' then digits; anything else is ignored */
            const char *q = av0;
            int neg = q < av1 && *q == '-';
            if (neg) q++;
            int ok = q < av1;
            long long v = 0;
            for (; q < av1; q++) {
                if (!isdigit((unsigned char)*q)) ok = 0;
                else if (v < 100000000000LL) v = v * 10 + (*q - '0');
            }
            if (ok) have_max_age = 1, max_age = neg ? -v : v;
        } else if (kl == 7 && !strncasecmp(a0, "expires", 7)) {
            if (parse_date(av0, al, &expires) == 0) have_expires = 1;
        } else if (kl == 4 && !strncasecmp(a0, "path", 4)) {
            if (al && av0[0] == '/' && !path_match(av0, al, req_path, req_path_len)) return WSC__COOKIE_IGNORE;
        } else if (kl == 6 && !strncasecmp(a0, "domain", 6)) {
            if (al && !domain_match(av0, al, host, host_len)) return WSC__COOKIE_IGNORE;
        }
        p = ae < end ? ae : NULL;
    }
    if (have_max_age) {
        if (max_age <= 0) deleted = 1;
        else out->expires = now + (time_t)max_age;
    } else if (have_expires) {
        if (expires <= now) deleted = 1;
        else out->expires = expires;
    }
    if (deleted) return WSC__COOKIE_DELETE;
    if (!vl) return WSC__COOKIE_DELETE; /* an empty value clears the token */
    if (vl > WSC_TOKEN_MAX || !wsc_token_valid(v0, vl)) return WSC__COOKIE_IGNORE;
    memcpy(out->value, v0, vl);
    out->value[vl] = 0;
    return WSC__COOKIE_SET;
}
