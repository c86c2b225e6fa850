/* fuzz_server_csrf.c - the server role's double-submit check
 * (src/server_csrf.c) on arbitrary upgrade requests and messages.
 *
 * Input: byte 0 flags (bit 0 allow_non_json, bit 1 the message is binary),
 * then NUL-separated fields: the Cookie header, the query, the message
 * (the rest, any bytes). Checks the rule of server.h, not just "no crash":
 * the status is 0, 400 or 403; 0 means the cookie and the query parameter
 * each occur once, non-empty and equal, and the token handed back is that
 * value; the refusal text never contains the cookie's or the query's value.
 * Then the message: binary passes exactly when allow_non_json; a message
 * that passes is a JSON object whose "csrf" is a string equal to the token;
 * {"csrf":token} always passes and the same with the key twice never does.
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"
#include "wsc/http.h"

#include "fuzz_check.h"

/* The next NUL-terminated field of [*p, end), as a C string (copied). */
static char *field(const uint8_t **p, const uint8_t *end) {
    const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
    size_t n = z ? (size_t)(z - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    CHECK(s);
    memcpy(s, *p, n);
    s[n] = 0;
    *p += z ? n + 1 : n;
    return s;
}

static int msg_ok(const wsc_server *s, const char *token, const void *data, size_t len, int binary) {
    wsc_ws_event ev;
    memset(&ev, 0, sizeof ev);
    ev.binary = binary;
    ev.data = data;
    ev.len = len;
    return wsc__srv_csrf_message(s, token, &ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *p = data + 1, *end = data + size;
    int flags = data[0];
    char *cookie = field(&p, end), *query = field(&p, end);
    const uint8_t *msg = p;
    size_t mlen = (size_t)(end - p);

    wsc_server s;
    memset(&s, 0, sizeof s);
    s.csrf_on = 1;
    s.csrf.allow_non_json = flags & 1;

    char *token = NULL, why[256];
    why[0] = 0;
    int st = wsc__srv_csrf_request(&s, cookie, query, &token, why, sizeof why);
    CHECK(st == 0 || st == 400 || st == 403);
    CHECK(!st == !!token);

    /* The values as the public parsers see them (first occurrence). */
    const char *cv = NULL;
    size_t cvl = 0;
    int hc = wsc_cookie_get(cookie, strlen(cookie), "csrf_token", &cv, &cvl) == 1;
    char qv[4096];
    size_t qvl = 0;
    int hq = wsc_query_get(query, strlen(query), "csrf", qv, sizeof qv, &qvl) == 1;
    if (st == 0) {
        CHECK(hc && hq && cvl && qvl && cvl == qvl && !memcmp(cv, qv, qvl));
        CHECK(strlen(token) == qvl && !memcmp(token, qv, qvl));
    } else {
        /* Never the token (either value) in the refusal text; values too
           short to be told from ordinary words are not checked. */
        char v[4096];
        if (hc && cvl >= 8 && cvl < sizeof v) {
            memcpy(v, cv, cvl);
            v[cvl] = 0;
            CHECK(!strstr(why, v));
        }
        if (hq && qvl >= 8) CHECK(!memmem(why, strlen(why), qv, qvl));
        if (!hc || !hq || !cvl || !qvl) CHECK(st == 403 || st == 400);
    }

    if (token) {
        int binary = (flags >> 1) & 1;
        int ok = msg_ok(&s, token, msg, mlen, binary);
        CHECK(ok == 0 || ok == 1);
        if (binary) CHECK(ok == s.csrf.allow_non_json);
        else if (ok) {
            json_error_t e;
            json_t *j = json_loadb((const char *)msg, mlen, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
            if (j) { /* JSON: an object with the token */
                json_t *c = json_object_get(j, "csrf");
                CHECK(json_is_object(j) && json_is_string(c));
                CHECK(json_string_length(c) == strlen(token) && !memcmp(json_string_value(c), token, strlen(token)));
                json_decref(j);
            } else {
                CHECK(s.csrf.allow_non_json && json_error_code(&e) != json_error_duplicate_key);
            }
        }
        /* The documented message forms with this token. */
        json_t *good = json_pack("{s:s%}", "csrf", token, strlen(token));
        if (good) { /* NULL when the token is not UTF-8: no JSON string can carry it */
            char *g = json_dumps(good, JSON_COMPACT);
            CHECK(g);
            CHECK(msg_ok(&s, token, g, strlen(g), 0) == 1);
            /* {"csrf":T,"csrf":T}: a key twice is refused, even with the right value. */
            size_t gl = strlen(g);
            char *d = malloc(2 * gl);
            CHECK(d);
            memcpy(d, g, gl - 1);
            d[gl - 1] = ',';
            memcpy(d + gl, g + 1, gl - 1);
            CHECK(msg_ok(&s, token, d, 2 * gl - 1, 0) == 0);
            free(d);
            free(g);
            json_decref(good);
        }
        wsc__srv_csrf_free_token(token);
    }
    free(cookie);
    free(query);
    return 0;
}
