/*
 * server_csrf.c - the double-submit CSRF check of the server role
 * (server.h: wsc_server_csrf): the seed's "double authentication token",
 * checked by the library so that every program using the server role gets
 * the same strict rules as `wsc serve --require-csrf`.
 *
 * The handshake: the cookie and the query parameter must both be present,
 * non-empty, given once each, and equal (compared in constant time over
 * their SHA-256 digests, so neither the value nor its length leaks through
 * timing). Each message: a text message must be a JSON object whose
 * property is a string equal to the connection's token; a JSON text with a
 * key given twice is refused whatever the key (parsers disagree on which
 * value counts); text that is not JSON and binary messages are refused
 * unless allow_non_json. The connection's copy of the token is heap memory
 * wiped when freed (not the page-sized secret allocation the client uses:
 * a server may hold many thousands).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "server_internal.h"
#include "wsc/http.h"
#include "wsc/store.h"

static const char *or_default(const char *v, const char *d) { return v && *v ? v : d; }

const char *wsc__srv_csrf_cookie(const wsc_server *s) { return or_default(s->csrf.cookie_name, "csrf_token"); }

/* How many cookies of this name the Cookie header carries. */
static int cookie_count(const char *hdr, const char *name) {
    int n = 0;
    for (const char *p = hdr; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *v = NULL;
        size_t vl = 0;
        if (wsc_cookie_get(p, len, name, &v, &vl) == 1) n++;
        p += len;
        if (*p) p++;
    }
    return n;
}

/* How many query parameters of this (decoded) name the query carries. */
static int param_count(const char *query, const char *name) {
    int n = 0;
    for (const char *p = query; *p;) {
        size_t len = strcspn(p, "&");
        char tmp[1];
        size_t tl = 0;
        /* WSC_ETOOBIG and WSC_EINVAL (a bad escape) also mean the name matched. */
        int r = wsc_query_get(p, len, name, tmp, sizeof tmp, &tl);
        if (r == 1 || r == WSC_ETOOBIG || r == WSC_EINVAL) n++;
        p += len;
        if (*p) p++;
    }
    return n;
}

int wsc__srv_csrf_request(const wsc_server *s, const char *cookie, const char *query, char **token, char *why,
                          size_t cap) {
    const char *cname = wsc__srv_csrf_cookie(s), *qname = or_default(s->csrf.query_param, "csrf");
    *token = NULL;
    if (cookie_count(cookie, cname) > 1 || param_count(query, qname) > 1) {
        snprintf(why, cap, "CSRF check failed: the token is given more than once");
        return 400;
    }
    const char *cv = NULL;
    size_t cvl = 0;
    int have_cookie = wsc_cookie_get(cookie, strlen(cookie), cname, &cv, &cvl) == 1 && cvl;
    char qv[WSC_TOKEN_MAX + 64];
    size_t qvl = 0;
    int have_query = wsc_query_get(query, strlen(query), qname, qv, sizeof qv, &qvl) == 1 && qvl;
    int status = 0;
    if (!have_cookie || !have_query) {
        snprintf(why, cap, "CSRF check failed: the %s is missing",
                 !have_cookie && !have_query ? "cookie and the query parameter"
                 : !have_cookie              ? "cookie"
                                             : "query parameter");
        status = 403;
    } else if (!wsc__secret_equal(cv, cvl, qv, qvl)) {
        snprintf(why, cap, "CSRF check failed: the cookie and the query parameter differ");
        status = 403;
    } else if (!(*token = wsc__strndup(qv, qvl))) {
        snprintf(why, cap, "out of memory");
        status = 500;
    }
    wsc__wipe(qv, sizeof qv);
    return status;
}

int wsc__srv_csrf_message(const wsc_server *s, const char *token, const wsc_ws_event *ev) {
    if (ev->binary) return s->csrf.allow_non_json;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)ev->data, ev->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!j) return json_error_code(&jerr) == json_error_duplicate_key ? 0 : s->csrf.allow_non_json;
    int ok = 0;
    if (json_is_object(j)) {
        json_t *p = json_object_get(j, or_default(s->csrf.json_property, "csrf"));
        if (json_is_string(p)) ok = wsc__secret_equal(json_string_value(p), json_string_length(p), token, strlen(token));
    }
    json_decref(j);
    return ok;
}

void wsc__srv_csrf_free_token(char *token) {
    if (!token) return;
    wsc__wipe(token, strlen(token));
    wsc__free(token);
}
