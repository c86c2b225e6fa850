/* setcookie.h - reading the token cookie from a Set-Cookie header value
   (RFC 6265 section 5.2), for the client's token rotation (private). */
#ifndef WSC_SETCOOKIE_H
#define WSC_SETCOOKIE_H

#include <stddef.h>
#include <time.h>

#include "wsc/store.h"

enum wsc__cookie_action {
    WSC__COOKIE_IGNORE = 0, /* not our cookie, not for this URL, or malformed */
    WSC__COOKIE_SET = 1,    /* a new token (value; expires 0: no expiry) */
    WSC__COOKIE_DELETE = 2  /* Max-Age <= 0 or an Expires in the past */
};

typedef struct wsc__cookie {
    char value[WSC_TOKEN_MAX + 1];
    time_t expires; /* absolute; 0: a session cookie (kept until replaced) */
} wsc__cookie;

/* Reads one Set-Cookie value. `name` is the token cookie's name, req_path
   the request's path ("/" if empty) and host the URL's host: a Path that
   does not path-match, or a Domain that does not domain-match, makes it
   IGNORE, as does a value that wsc_token_valid() refuses. Max-Age wins over
   Expires. Pure: `now` is the clock. Returns an enum wsc__cookie_action. */
int wsc__set_cookie_parse(const char *hdr, const char *name, const char *req_path, size_t req_path_len,
                          const char *host, size_t host_len, time_t now, wsc__cookie *out);

#endif
