/*
 * resolve.c - name resolution off the loop thread, and the address order of
 * Happy Eyeballs (RFC 8305 4).
 *
 * Costs: one detached thread (256 KiB stack) per lookup of a name; the
 * answer is copied into a fixed array (WSC__MAX_ADDRS addresses, 2 KiB) and
 * freeaddrinfo()'d on that thread, so nothing of libc's list crosses over.
 */
#define _GNU_SOURCE
#include "resolve.h"

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *(*wsc__test_resolve)(const char *host);

struct wsc__resolve {
    wsc__resolve_cb cb; /* NULL once cancelled */
    void *user;
    wsc_loop *loop;
    char *host;
    char port[8];
    wsc__addr addrs[WSC__MAX_ADDRS];
    size_t naddrs;
    int gai;
};

size_t wsc__he_order(const wsc__addr *in, size_t n, wsc__addr *out) {
    /* A "First Address Family Count" of 1 (RFC 8305 4). */
    if (n > WSC__MAX_ADDRS) n = WSC__MAX_ADDRS;
    size_t a = 0, b = 0, o = 0;
    int first = n ? in[0].sa.ss_family : 0;
    while (o < n) {
        while (a < n && in[a].sa.ss_family != first) a++;
        if (a < n) out[o++] = in[a++];
        while (b < n && in[b].sa.ss_family == first) b++;
        if (b < n && o < n) out[o++] = in[b++];
    }
    return o;
}

/* Copies a getaddrinfo() result in the race's order. */
static size_t take_addrinfo(struct addrinfo *res, wsc__addr *out) {
    wsc__addr tmp[WSC__MAX_ADDRS];
    size_t n = 0;
    for (struct addrinfo *a = res; a && n < WSC__MAX_ADDRS; a = a->ai_next) {
        if (a->ai_addrlen > sizeof tmp[n].sa) continue;
        memset(&tmp[n], 0, sizeof tmp[n]);
        memcpy(&tmp[n].sa, a->ai_addr, a->ai_addrlen);
        tmp[n].len = a->ai_addrlen;
        n++;
    }
    return wsc__he_order(tmp, n, out);
}

static int numeric(const char *host, const char *port, wsc__addr *out, size_t *n) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai) return gai;
    *n = take_addrinfo(res, out);
    freeaddrinfo(res);
    return 0;
}

int wsc__resolve_numeric(const char *host, uint16_t port, wsc__addr *out, size_t *n) {
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    *n = 0;
    return numeric(host, portstr, out, n);
}

/* The test hook's answer: "literal,literal,..." in the order given. */
static int hooked(const char *list, const char *port, wsc__addr *out, size_t *n) {
    wsc__addr tmp[WSC__MAX_ADDRS];
    memset(tmp, 0, sizeof tmp);
    size_t k = 0;
    char one[64];
    for (const char *p = list; *p && k < WSC__MAX_ADDRS;) {
        size_t l = strcspn(p, ",");
        snprintf(one, sizeof one, "%.*s", (int)(l < sizeof one ? l : sizeof one - 1), p);
        size_t got = 0;
        if (numeric(one, port, &tmp[k], &got) == 0 && got) k++;
        p += l + (p[l] == ',');
    }
    *n = wsc__he_order(tmp, k, out);
    return k ? 0 : EAI_NONAME;
}

/* On the loop thread: hand over, or just clean up if cancelled. */
static void on_resolved(wsc_loop *loop, void *user) {
    wsc__resolve *r = user;
    wsc_loop_unref(loop);
    if (r->cb) r->cb(r->user, r->gai, r->addrs, r->gai ? 0 : r->naddrs, r->host);
    wsc__free(r->host);
    wsc__free(r);
}

/* The resolver thread: the only code that runs off the loop thread. It
   touches only its job (host, port, result) and then posts it back; `cb`
   is read and cleared only on the loop thread. */
static void *resolve_main(void *arg) {
    wsc__resolve *r = arg;
    const char *list = wsc__test_resolve ? wsc__test_resolve(r->host) : NULL;
    if (list) {
        r->gai = hooked(list, r->port, r->addrs, &r->naddrs);
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        r->gai = getaddrinfo(r->host, r->port, &hints, &res);
        if (r->gai == 0) {
            r->naddrs = take_addrinfo(res, r->addrs);
            freeaddrinfo(res);
            if (!r->naddrs) r->gai = EAI_NONAME;
        }
    }
    /* wsc_loop_post fails only on ENOMEM; the job and a loop reference are
       then lost, which is all that can be done from this thread. */
    (void)wsc_loop_post(r->loop, on_resolved, r);
    return NULL;
}

wsc__resolve *wsc__resolve_start(wsc_loop *loop, const char *host, uint16_t port, wsc__resolve_cb cb, void *user) {
    wsc__resolve *r = wsc__calloc(1, sizeof *r);
    if (!r || !(r->host = wsc__strdup(host))) {
        wsc__free(r);
        return NULL;
    }
    snprintf(r->port, sizeof r->port, "%u", port);
    r->cb = cb;
    r->user = user;
    r->loop = loop;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t th;
    wsc_loop_ref(loop);
    int rc = pthread_create(&th, &attr, resolve_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        wsc_loop_unref(loop);
        wsc__free(r->host);
        wsc__free(r);
        return NULL;
    }
    return r;
}

void wsc__resolve_cancel(wsc__resolve *r) {
    if (r) r->cb = NULL;
}
