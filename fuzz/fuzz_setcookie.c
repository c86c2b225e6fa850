/* fuzz_setcookie.c - the Set-Cookie parser that rotates the client's token
 * (src/setcookie.c, RFC 6265 5.2 with Path and Domain matching).
 *
 * Input: byte 0 the cookie name's length, byte 1 the request path's, byte 2
 * the host's, then those three (any bytes) and the header value (up to its
 * first NUL, as a header value is a C string). The clock is fixed. Checks:
 * the result is one of the three actions; SET carries a value that
 * wsc_token_valid() accepts, that is the header's value (after the name's
 * '=', whitespace and one pair of quotes removed) and an expiry that is 0 or
 * in the future; a header without '=' before its first ';' or whose name
 * is not the cookie's is IGNOREd; and parsing is a pure function (twice,
 * same answer).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setcookie.h"
#include "wsc/store.h"

#include "fuzz_check.h"

static int is_ws(char c) { return c == ' ' || c == '\t'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    size_t nl = data[0] & 31u, pl = data[1] & 63u, hl = data[2] & 63u;
    data += 3, size -= 3;
    if (nl + pl + hl > size) return 0;
    char name[32], path[64], host[64];
    memcpy(name, data, nl);
    name[nl] = 0;
    memcpy(path, data + nl, pl);
    path[pl] = 0;
    memcpy(host, data + nl + pl, hl);
    host[hl] = 0;
    size_t n = size - nl - pl - hl;
    char *hdr = malloc(n + 1);
    CHECK(hdr);
    memcpy(hdr, data + nl + pl + hl, n);
    hdr[n] = 0;
    n = strlen(hdr);

    const time_t now = 1700000000;
    wsc__cookie c1, c2;
    int a = wsc__set_cookie_parse(hdr, name, path, pl, host, hl, now, &c1);
    int b = wsc__set_cookie_parse(hdr, name, path, pl, host, hl, now, &c2);
    CHECK(a == WSC__COOKIE_IGNORE || a == WSC__COOKIE_SET || a == WSC__COOKIE_DELETE);
    CHECK(a == b);

    /* The name=value pair: up to the first ';'. */
    const char *semi = strchr(hdr, ';');
    size_t pair = semi ? (size_t)(semi - hdr) : n;
    const char *eq = memchr(hdr, '=', pair);
    if (!eq) CHECK(a == WSC__COOKIE_IGNORE);
    if (a != WSC__COOKIE_IGNORE) {
        /* The name between whitespace is the cookie's (an empty name only
           matches an empty cookie name). */
        const char *n0 = hdr, *n1 = eq;
        while (n0 < n1 && is_ws(*n0)) n0++;
        while (n1 > n0 && is_ws(n1[-1])) n1--;
        CHECK((size_t)(n1 - n0) == strlen(name) && !memcmp(n0, name, strlen(name)));
    }
    if (a == WSC__COOKIE_SET) {
        CHECK(!memcmp(&c1, &c2, sizeof c1));
        size_t vl = strnlen(c1.value, sizeof c1.value);
        CHECK(vl < sizeof c1.value);
        CHECK(wsc_token_valid(c1.value, vl));
        CHECK(c1.expires == 0 || c1.expires > now);
        /* The value as the header gives it. */
        const char *v0 = eq + 1, *v1 = hdr + pair;
        while (v0 < v1 && is_ws(*v0)) v0++;
        while (v1 > v0 && is_ws(v1[-1])) v1--;
        if (v1 - v0 >= 2 && *v0 == '"' && v1[-1] == '"') v0++, v1--;
        CHECK((size_t)(v1 - v0) == vl && !memcmp(v0, c1.value, vl));
    }
    free(hdr);
    return 0;
}
