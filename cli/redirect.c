/*
 * redirect.c - -L/--location: where a 3xx answer to the opening handshake
 * sends the client, and whether that is still the origin the token and the
 * credentials belong to. The client itself (client.h) treats 3xx as final,
 * as a browser's WebSocket does; following it is the command's choice.
 */
#include "redirect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "wsc/http.h"

static int parse(const char *s, wsc_url *u) {
    wsc_error e;
    return wsc_url_parse(s, strlen(s), u, &e) == WSC_OK ? 0 : -1;
}

static int has_scheme(const char *s, const char *scheme) {
    size_t n = strlen(scheme);
    return strncasecmp(s, scheme, n) == 0 && strncmp(s + n, "://", 3) == 0;
}

char *redirect_target(const char *base, const char *location, char *err, size_t cap) {
    wsc_url b;
    if (parse(base, &b) != 0 || !b.host.ptr) {
        snprintf(err, cap, "redirects are followed for network URLs only");
        return NULL;
    }
    size_t ll = strlen(location);
    char *out;
    if (!ll) {
        snprintf(err, cap, "the redirect has an empty Location");
        return NULL;
    }
    if (has_scheme(location, "ws") || has_scheme(location, "wss") || has_scheme(location, "http") ||
        has_scheme(location, "https")) {
        out = xstrdup(location);
    } else if (strstr(location, "://")) {
        snprintf(err, cap, "the redirect goes to a URL that is not ws, wss, http or https");
        return NULL;
    } else {
        /* Relative: "//host/path" keeps the scheme, "/path" the authority,
           "name" replaces the last segment of the path (RFC 3986, 5.2). */
        const char *auth = strstr(base, "://") + 3;
        size_t scheme_len = (size_t)(auth - base); /* with "://" */
        size_t auth_len = strcspn(auth, "/?#");
        size_t prefix;
        if (location[0] == '/' && location[1] == '/') prefix = scheme_len - 2;
        else if (location[0] == '/') prefix = scheme_len + auth_len;
        else {
            size_t path_len = strcspn(auth + auth_len, "?#");
            const char *path = auth + auth_len;
            size_t keep = path_len;
            while (keep && path[keep - 1] != '/') keep--;
            prefix = scheme_len + auth_len + keep;
            if (!keep) {
                out = xmalloc(prefix + 1 + ll + 1);
                memcpy(out, base, prefix);
                out[prefix] = '/';
                memcpy(out + prefix + 1, location, ll + 1);
                goto check;
            }
        }
        out = xmalloc(prefix + ll + 1);
        memcpy(out, base, prefix);
        memcpy(out + prefix, location, ll + 1);
    }
check:
    out[strcspn(out, "#")] = 0; /* a fragment is never sent */
    wsc_url t;
    if (parse(out, &t) != 0 || !t.host.ptr) {
        snprintf(err, cap, "the redirect's Location is not a valid WebSocket URL");
        free(out);
        return NULL;
    }
    if (b.secure && !t.secure) {
        snprintf(err, cap, "not following a redirect from wss:// to ws:// (it would drop TLS)");
        free(out);
        return NULL;
    }
    return out;
}

int redirect_same_origin(const char *x, const char *y) {
    wsc_url a, b;
    if (parse(x, &a) != 0 || parse(y, &b) != 0) return 0;
    char oa[WSC_URL_ORIGIN_MAX], ob[WSC_URL_ORIGIN_MAX];
    if (wsc_url_origin(&a, oa, sizeof oa) < 0 || wsc_url_origin(&b, ob, sizeof ob) < 0) return 0;
    return strcmp(oa, ob) == 0;
}
