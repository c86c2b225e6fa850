/*
 * client_token.c - the reconnecting client's CSRF token (client.h): loading it
 * from the store (expiry included), taking it from Set-Cookie, putting it
 * into the URL and the Cookie header, and the token API.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

/* ------------------------------------------------------------------ */
/* The token                                                           */
/* ------------------------------------------------------------------ */

int wsc__cl_token_expired(wsc_client *c);

/* Reads the token for the next connection into c->token_cur (or NULL).
   Store failures are reported and the connection goes ahead without one.
   Returns non-zero if the client was freed by a callback. */
int wsc__cl_load_token(wsc_client *c) {
    wsc__secret_free(c->token_cur);
    c->token_cur = NULL;
    if (c->token_mem && c->token_mem_expires && c->token_mem_expires <= time(NULL)) {
        wsc__secret_free(c->token_mem); /* expired (Set-Cookie's Expires/Max-Age) */
        c->token_mem = NULL;
        c->token_mem_expires = 0;
        if (c->o.no_store || c->o.token) return 0;
    }
    if (c->token_mem) {
        c->token_cur = wsc__secret_strdup(c->token_mem);
        return 0;
    }
    if (c->o.no_store) return 0;
    wsc_error err;
    if (!c->store) {
        c->store = wsc_store_open_lazy(c->store_path, &err); /* reading creates no file */
        if (!c->store) return wsc__cl_emit_error(c, WSC_ESTORE, err.message);
    }
    char *v = NULL;
    if (wsc_store_get(c->store, c->origin, c->token_key, &v, &err) != WSC_OK) {
        /* The handle may be unusable after some failures: reopen next time. */
        wsc_store_close(c->store);
        c->store = NULL;
        return wsc__cl_emit_error(c, WSC_ESTORE, err.message);
    }
    if (v && !wsc_token_valid(v, strlen(v))) {
        wsc_store_free(v);
        return wsc__cl_emit_error(c, WSC_EINVAL, "the stored CSRF token contains characters that cannot be sent in a "
                                         "cookie; connecting without it");
    }
    if (v && wsc__cl_token_expired(c)) {
        wsc_store_free(v);
        v = NULL;
    }
    if (v) {
        c->token_cur = wsc__secret_strdup(v);
        wsc_store_free(v);
    }
    return 0;
}

/* The expiry a Set-Cookie gave the stored token, kept beside it under
   "<token_key>.expires" (decimal seconds since the epoch). */
void wsc__cl_expires_key(const wsc_client *c, char *out, size_t cap) {
    snprintf(out, cap, "%s.expires", c->token_key);
}

/* An expired stored token is deleted (and reads as none). */
int wsc__cl_token_expired(wsc_client *c) {
    char key[300], *v = NULL;
    wsc__cl_expires_key(c, key, sizeof key);
    if (wsc_store_get(c->store, c->origin, key, &v, NULL) != WSC_OK || !v) return 0;
    long long at = strtoll(v, NULL, 10);
    wsc_store_free(v);
    if (at <= 0 || (time_t)at > time(NULL)) return 0;
    wsc_store_delete(c->store, c->origin, c->token_key, NULL);
    wsc_store_delete(c->store, c->origin, key, NULL);
    return 1;
}

/* The token provided by the server: Set-Cookie for cookie_name on the
   handshake response of `ws` (during its open or refusal event) replaces
   (or deletes) the token for this origin, in the store or in memory, and
   it is used from now on. The last applicable Set-Cookie wins. Returns
   non-zero if the client was freed by an error callback. */
int wsc__cl_take_set_cookie(wsc_client *c, wsc_ws *ws) {
    if (c->o.no_set_cookie) return 0;
    wsc__cookie ck, last;
    int action = WSC__COOKIE_IGNORE;
    const char *h;
    const char *path = c->u.path.ptr ? c->u.path.ptr : "/";
    size_t pl = c->u.path.ptr ? c->u.path.len : 1;
    for (int i = 0; (h = wsc_ws_response_header(ws, "Set-Cookie", i)); i++) {
        int a = wsc__set_cookie_parse(h, c->cookie_name, path, pl, c->u.host.ptr ? c->u.host.ptr : "",
                                      c->u.host.len, time(NULL), &ck);
        if (a != WSC__COOKIE_IGNORE) {
            action = a;
            last = ck;
        }
        wsc__wipe(&ck, sizeof ck);
    }
    if (action == WSC__COOKIE_IGNORE) return 0;
    const char *tok = action == WSC__COOKIE_SET ? last.value : NULL;
    int rc = WSC_OK;
    wsc_error err = {0};
    if (c->token_mem || c->o.no_store) {
        char *t = tok ? wsc__secret_strdup(tok) : NULL;
        wsc__secret_free(c->token_mem);
        c->token_mem = t;
        c->token_mem_expires = tok ? last.expires : 0;
    } else {
        if (!c->store && !(c->store = wsc_store_open(c->store_path, &err))) rc = WSC_ESTORE;
        char key[300];
        wsc__cl_expires_key(c, key, sizeof key);
        if (!rc && tok) {
            rc = wsc_store_set(c->store, c->origin, c->token_key, tok, &err);
            char when[32];
            snprintf(when, sizeof when, "%lld", (long long)last.expires);
            if (!rc) rc = last.expires ? wsc_store_set(c->store, c->origin, key, when, &err)
                                       : wsc_store_delete(c->store, c->origin, key, &err);
        } else if (!rc) {
            rc = wsc_store_delete(c->store, c->origin, c->token_key, &err);
            if (!rc) rc = wsc_store_delete(c->store, c->origin, key, &err);
        }
    }
    if (!rc) {
        wsc__secret_free(c->token_cur);
        c->token_cur = tok ? wsc__secret_strdup(tok) : NULL;
    }
    wsc__wipe(&last, sizeof last);
    if (rc) return wsc__cl_emit_error(c, WSC_ESTORE, err.message[0] ? err.message : "the token store failed");
    return 0;
}

/* The length of msg's prefix that spells the token t, each byte either as
   itself, as %XX (either case of hex digit: a server may re-encode what it
   quotes, as in a reflected request URL) or, for a space, as '+'; 0 if it
   does not. */
static size_t token_spelled_at(const char *msg, const char *t) {
    static const char hex[] = "0123456789abcdef";
    const char *p = msg;
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if ((unsigned char)*p == c) {
            p++;
        } else if (*p == '%' && p[1] && p[2] && (p[1] | 0x20) == hex[c >> 4] && (p[2] | 0x20) == hex[c & 15]) {
            p += 3;
        } else if (*p == '+' && c == ' ') {
            p++;
        } else {
            return 0;
        }
    }
    return (size_t)(p - msg);
}

/* Error texts quote the server (an HTTP status reason, a close reason), and
   a hostile or careless server may put the token there, raw or
   percent-encoded: client.h promises it never appears in an error message.
   One pass over the text trying both tokens at each byte, only when a
   token is held (error paths only: the cost does not matter). The text is
   returned as is when nothing matched, else a masked copy in out. */
const char *wsc__cl_mask(const char *msg, const char *t1, const char *t2, char *out, size_t cap) {
    if (!msg || !cap) return msg;
    if (t1 && !*t1) t1 = NULL;
    if (t2 && !*t2) t2 = NULL;
    if (!t1 && !t2) return msg;
    size_t o = 0;
    int hit = 0;
    /* The whole text is scanned even past what out can hold, so that a
       token beyond the cut is not returned unmasked in msg itself. */
    for (const char *p = msg; *p;) {
        size_t a = t1 ? token_spelled_at(p, t1) : 0, b = t2 ? token_spelled_at(p, t2) : 0;
        size_t skip = a > b ? a : b; /* the longer, in case one token contains the other */
        if (skip) {
            for (const char *m = "***"; *m && o + 1 < cap; m++) out[o++] = *m;
            p += skip;
            hit = 1;
        } else {
            if (o + 1 < cap) out[o++] = *p;
            p++;
        }
    }
    if (!hit) return msg;
    out[o] = 0;
    return out;
}

/* URL with csrf=<token> added or replaced, other parameters kept. */
char *wsc__cl_url_with_token(const wsc_client *c, const char *token) {
    if (!token) return wsc__strdup(c->url);
    size_t base = c->u.query.ptr ? (size_t)(c->u.query.ptr - c->url) - 1 : strlen(c->url);
    wsc_buf q = {0};
    if (wsc_query_set(c->u.query.ptr, c->u.query.len, c->query_param, token, &q) != WSC_OK) {
        wsc_buf_free(&q);
        return NULL;
    }
    char *out = wsc__malloc(base + 1 + q.len + 1);
    if (out) {
        memcpy(out, c->url, base);
        out[base] = '?';
        memcpy(out + base + 1, q.data, q.len);
        out[base + 1 + q.len] = 0;
    }
    wsc__wipe(q.data, q.len);
    wsc_buf_free(&q);
    return out;
}

/* The program's cookies with ours merged in (a same-named one is replaced). */
char *wsc__cl_cookie_with_token(const wsc_client *c, const char *token) {
    const char *prog = c->cookie ? c->cookie : "";
    size_t cap = strlen(prog) + (token ? strlen(c->cookie_name) + strlen(token) + 4 : 0) + 1;
    char *out = wsc__malloc(cap);
    if (!out) return NULL;
    size_t o = 0;
    size_t nl = strlen(c->cookie_name);
    const char *p = prog;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *e = strchr(p, ';');
        if (!e) e = p + strlen(p);
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if (t > p) {
            int same = (size_t)(t - p) > nl && strncmp(p, c->cookie_name, nl) == 0 && p[nl] == '=';
            if (!same || !token) {
                if (o) {
                    memcpy(out + o, "; ", 2);
                    o += 2;
                }
                memcpy(out + o, p, (size_t)(t - p));
                o += (size_t)(t - p);
            }
        }
        p = e;
    }
    if (token) {
        if (o) {
            memcpy(out + o, "; ", 2);
            o += 2;
        }
        o += (size_t)sprintf(out + o, "%s=%s", c->cookie_name, token);
    }
    out[o] = 0;
    return out;
}

/* ------------------------------------------------------------------ */
/* Token API, listeners, accessors                                     */
/* ------------------------------------------------------------------ */

const char *wsc_client_csrf(wsc_client *c) {
    if (!c) return NULL;
    if (c->token_mem) return c->token_mem;
    if (!c->o.no_store && !c->ws) {
        /* Not connected: read what the next connection would use. */
        wsc__cl_enter(c);
        wsc__cl_load_token(c);
        wsc__cl_leave(c);
    }
    return c->token_cur;
}

int wsc_client_set_csrf(wsc_client *c, const char *token, wsc_error *err) {
    if (!c) return WSC_EINVAL;
    if (token && !wsc_token_valid(token, strlen(token)))
        return wsc__seterr(err, WSC_EINVAL, "the CSRF token contains characters that cannot be sent in a cookie");
    if (c->token_mem || c->o.no_store) {
        char *t = NULL;
        if (token && !(t = wsc__secret_strdup(token))) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
        wsc__secret_free(c->token_mem);
        c->token_mem = t;
        wsc__secret_free(c->token_cur);
        c->token_cur = t ? wsc__secret_strdup(t) : NULL;
        return WSC_OK;
    }
    if (!c->store) {
        c->store = wsc_store_open(c->store_path, err);
        if (!c->store) return WSC_ESTORE;
    }
    int rc = token ? wsc_store_set(c->store, c->origin, c->token_key, token, err)
                   : wsc_store_delete(c->store, c->origin, c->token_key, err);
    if (rc) return rc;
    wsc__secret_free(c->token_cur);
    c->token_cur = token ? wsc__secret_strdup(token) : NULL;
    return WSC_OK;
}

