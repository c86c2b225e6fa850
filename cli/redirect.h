/*
 * redirect.h - -L/--location (redirect.c): the target of a 3xx answer to the
 * opening handshake, and the same-origin rule for the token and credentials.
 */
#ifndef WSC_CLI_REDIRECT_H
#define WSC_CLI_REDIRECT_H

#include <stddef.h>

/* Most redirects followed in one session. */
#define REDIRECT_MAX 5

/* The absolute URL that Location (absolute, scheme-relative, or relative to
   base) names, malloc'd; NULL with the reason in err[0..cap) when it is not
   a ws/wss/http/https URL, base is a Unix-socket URL, or it would go from
   wss (or https) to ws (or http): TLS is never dropped. */
char *redirect_target(const char *base, const char *location, char *err, size_t cap);

/* 1 if both URLs have the same origin (scheme, host, port; http = ws). */
int redirect_same_origin(const char *a, const char *b);

#endif /* WSC_CLI_REDIRECT_H */
