/*
 * reconnect.c - the client's default reconnect policy (client.h's table) as
 * a pure function of the failure, and the Retry-After parser.
 *
 * Kept apart from client.c so that the table can be tested row by row with
 * no network (tests/unit/test_reconnect.c) and read in one place.
 */
#define _GNU_SOURCE
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "reconnect.h"
#include "wsc/client.h"

int wsc_client_default_policy(const wsc_client_failure *f, unsigned *delay_ms) {
    if (!f) return WSC_RECONNECT_FINAL;
    switch (f->cause) {
    case WSC_ETLSVERIFY:
    case WSC_EEXTENSION: return WSC_RECONNECT_FINAL;
    case WSC_EPROXYAUTH: return WSC_RECONNECT_FINAL; /* the same credentials get the same answer */
    case WSC_EHTTP: {
        int s = f->http_status;
        /* 2xx: a plain HTTP server answered the upgrade; retrying gets the same page. */
        if (s >= 200 && s < 300) return WSC_RECONNECT_FINAL;
        if (s >= 300 && s < 400) return WSC_RECONNECT_FINAL;
        if ((s == 429 || s == 503) && f->retry_after_ms) {
            if (delay_ms) *delay_ms = f->retry_after_ms;
            return WSC_RECONNECT_AFTER;
        }
        if (s >= 400 && s < 500 && s != 408 && s != 429) return WSC_RECONNECT_FINAL;
        return WSC_RECONNECT_DEFAULT;
    }
    default: break;
    }
    if (f->cause == WSC_ECLOSED && f->was_clean) {
        /* A server's close. 1000 (done) and 1005 (no code) mean "goodbye";
           1001 (going away), 1011, 1012 (restart), 1014 and the rest are
           transient; 1013 (try again later) asks for backoff. */
        if (f->code == 1000 || f->code == 1005) return WSC_RECONNECT_FINAL;
        if (f->code == 1013) {
            if (delay_ms) *delay_ms = f->backoff_delay_ms;
            return WSC_RECONNECT_AFTER;
        }
    }
    return WSC_RECONNECT_DEFAULT;
}

/* Retry-After: delay-seconds or an IMF-fixdate (RFC 9110 10.2.3). */
unsigned wsc__retry_after_ms(const char *v, time_t now) {
    if (!v) return 0;
    while (*v == ' ' || *v == '\t') v++;
    if (*v >= '0' && *v <= '9') {
        unsigned long long s = 0;
        for (; *v >= '0' && *v <= '9'; v++) {
            s = s * 10 + (unsigned)(*v - '0');
            if (s > WSC__RETRY_AFTER_MAX_S) s = WSC__RETRY_AFTER_MAX_S;
        }
        while (*v == ' ' || *v == '\t') v++;
        if (*v) return 0;
        return s ? (unsigned)(s * 1000) : 1; /* "0": at once (1 ms, not "absent") */
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!e || *e) return 0;
    time_t at = timegm(&tm);
    if (at == (time_t)-1) return 0;
    if (at <= now) return 1;
    unsigned long long s = (unsigned long long)(at - now);
    if (s > WSC__RETRY_AFTER_MAX_S) s = WSC__RETRY_AFTER_MAX_S;
    return (unsigned)(s * 1000);
}
