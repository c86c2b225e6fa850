/* common.c - error strings, allocator hooks, wsc_buf. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *wsc_strerror(int err) {
    switch (err) {
    case WSC_OK: return "success";
    case WSC_EAGAIN: return "more data needed or operation would block";
    case WSC_EINVAL: return "invalid argument";
    case WSC_ENOMEM: return "out of memory";
    case WSC_EPROTO: return "WebSocket protocol violation";
    case WSC_EUTF8: return "invalid UTF-8 in text";
    case WSC_ETOOBIG: return "size limit exceeded";
    case WSC_ESTATE: return "operation not allowed in the current state";
    case WSC_EURL: return "malformed or unsupported URL";
    case WSC_EHANDSHAKE: return "WebSocket opening handshake failed";
    case WSC_EHTTP: return "server answered with an HTTP error status";
    case WSC_EIO: return "input/output error";
    case WSC_ETLS: return "TLS error";
    case WSC_ETLSVERIFY: return "TLS certificate verification failed";
    case WSC_EDNS: return "host name could not be resolved";
    case WSC_ECONNREFUSED: return "connection refused";
    case WSC_ETIMEDOUT: return "timed out";
    case WSC_ECLOSED: return "connection is closed";
    case WSC_EQUEUEFULL: return "send queue is full";
    case WSC_ESTORE: return "token store error";
    case WSC_EJSON: return "invalid JSON";
    case WSC_EPROXY: return "proxy error";
    case WSC_ECONNRESET: return "connection reset by peer";
    case WSC_EEXTENSION: return "extension negotiation failed";
    }
    return "unknown error";
}

static wsc_allocator g_alloc = {malloc, realloc, free};

void wsc_set_allocator(const wsc_allocator *a) {
    if (a && a->malloc_fn && a->realloc_fn && a->free_fn) g_alloc = *a;
    else g_alloc = (wsc_allocator){malloc, realloc, free};
}

void *wsc__malloc(size_t n) { return g_alloc.malloc_fn(n ? n : 1); }
void *wsc__realloc(void *p, size_t n) { return g_alloc.realloc_fn(p, n ? n : 1); }
void wsc__free(void *p) {
    if (p) g_alloc.free_fn(p);
}
void *wsc__calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = wsc__malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}
char *wsc__strndup(const char *s, size_t n) {
    char *d = wsc__malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
char *wsc__strdup(const char *s) { return s ? wsc__strndup(s, strlen(s)) : NULL; }

int wsc__seterr(wsc_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

int wsc_buf_reserve(wsc_buf *b, size_t extra) {
    /* Never moves the data: offsets taken before an append stay valid
       (compaction happens in wsc_buf_consume, where bytes leave). */
    if (extra <= b->cap - b->len) return WSC_OK;
    size_t pending = b->len - b->off;
    if (extra > SIZE_MAX - b->len) return WSC_ETOOBIG;
    if (b->max && extra > b->max - (pending < b->max ? pending : b->max)) return WSC_ETOOBIG;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra) ncap = ncap > SIZE_MAX / 2 ? b->len + extra : ncap * 2;
    /* Never allocate beyond what the limit lets the buffer hold. */
    if (b->max && ncap - b->off > b->max) ncap = b->off + b->max;
    if (ncap < b->len + extra) ncap = b->len + extra;
    uint8_t *nd = wsc__realloc(b->data, ncap);
    if (!nd) return WSC_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return WSC_OK;
}

int wsc_buf_append(wsc_buf *b, const void *data, size_t len) {
    int rc = wsc_buf_reserve(b, len);
    if (rc) return rc;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    return WSC_OK;
}

void wsc_buf_consume(wsc_buf *b, size_t n) {
    b->off += n;
    if (b->off >= b->len) {
        b->off = b->len = 0;
    } else if (b->off >= b->len - b->off && b->off >= 4096) {
        /* More consumed than left: move the rest to the front. Each byte is
           moved at most once per time its own length was consumed before
           it, so the cost stays O(1) per byte written. */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
}

void wsc_buf_free(wsc_buf *b) {
    wsc__free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

/* ---- listeners ---------------------------------------------------------- */

int wsc__listeners_add(wsc__listeners *ls, int type, wsc__fn cb, void *user, int dispatching) {
    if (!dispatching) {
        int k = 0;
        for (int i = 0; i < ls->n; i++)
            if (ls->v[i].type) ls->v[k++] = ls->v[i];
        ls->n = k;
    }
    if (ls->n == ls->cap) {
        int ncap = ls->cap ? ls->cap * 2 : 4;
        wsc__listener *nv = wsc__realloc(ls->v, (size_t)ncap * sizeof *nv);
        if (!nv) return WSC_ENOMEM;
        ls->v = nv;
        ls->cap = ncap;
    }
    ls->next_id = ls->next_id == INT_MAX ? 1 : ls->next_id + 1;
    wsc__listener *l = &ls->v[ls->n++];
    l->id = ls->next_id;
    l->type = type;
    l->cb = cb;
    l->user = user;
    return l->id;
}

int wsc__listeners_remove(wsc__listeners *ls, int id, int dispatching) {
    for (int i = 0; i < ls->n; i++) {
        if (ls->v[i].id != id || !ls->v[i].type) continue;
        if (dispatching) {
            ls->v[i].type = 0; /* the dispatch loop holds indices: just disable it */
        } else {
            memmove(&ls->v[i], &ls->v[i + 1], (size_t)(ls->n - i - 1) * sizeof *ls->v);
            ls->n--;
        }
        return WSC_OK;
    }
    return WSC_EINVAL;
}

void wsc__listeners_free(wsc__listeners *ls) {
    wsc__free(ls->v);
    ls->v = NULL;
    ls->n = ls->cap = 0;
}
