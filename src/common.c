/* common.c - error strings, allocator hooks, wsc_buf, and the three
 * primitives the core takes from a crypto library (SHA-1, random bytes) or
 * needs beside it (base64): OpenSSL's libcrypto on POSIX systems, the
 * Windows CNG API (bcrypt.dll) when built for Windows without OpenSSL
 * (WSC_CRYPTO_CNG, set by cmake/mingw-w64.cmake's core build). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32) && !defined(WSC_CRYPTO_OPENSSL)
#define WSC_CRYPTO_CNG 1
#include <windows.h>
#include <bcrypt.h>
#else
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#endif

#include "internal.h"

/* ---- SHA-1, random bytes, base64 ----------------------------------------- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t wsc__base64(const uint8_t *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0u);
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

#ifdef WSC_CRYPTO_CNG

/* The hash-object API (Vista and later) rather than BCryptHash (Windows 10):
   one provider open per call, which costs microseconds, once per handshake. */
int wsc__sha1_2(const void *a, size_t na, const void *b, size_t nb, uint8_t out[20]) {
    BCRYPT_ALG_HANDLE alg = NULL;
    BCRYPT_HASH_HANDLE h = NULL;
    int ok = 0;
    if (na > ULONG_MAX || nb > ULONG_MAX) return WSC_EINVAL;
    if (BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA1_ALGORITHM, NULL, 0) != 0) return WSC_ENOMEM;
    if (BCryptCreateHash(alg, &h, NULL, 0, NULL, 0, 0) == 0 &&
        (!na || BCryptHashData(h, (PUCHAR)(uintptr_t)a, (ULONG)na, 0) == 0) &&
        (!nb || BCryptHashData(h, (PUCHAR)(uintptr_t)b, (ULONG)nb, 0) == 0) &&
        BCryptFinishHash(h, out, 20, 0) == 0)
        ok = 1;
    if (h) BCryptDestroyHash(h);
    BCryptCloseAlgorithmProvider(alg, 0);
    return ok ? WSC_OK : WSC_ENOMEM;
}

/* Without a digest at hand: constant time in the longer length. */
int wsc__secret_equal(const void *a, size_t alen, const void *b, size_t blen) {
    const unsigned char *x = a, *y = b;
    size_t n = alen > blen ? alen : blen;
    unsigned d = alen != blen;
    for (size_t i = 0; i < n; i++) d |= (unsigned)((i < alen ? x[i] : 0) ^ (i < blen ? y[i] : 0));
    return d == 0;
}

int wsc__random_bytes(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        ULONG k = n > 0x40000000u ? 0x40000000u : (ULONG)n;
        if (BCryptGenRandom(NULL, p, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return WSC_EIO;
        p += k;
        n -= k;
    }
    return WSC_OK;
}

#else

int wsc__sha1_2(const void *a, size_t na, const void *b, size_t nb, uint8_t out[20]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok;
    if (na + nb <= 256 && na <= 256) {
        /* one call, no context allocation: the handshake's case */
        unsigned char tmp[256];
        if (na) memcpy(tmp, a, na);
        if (nb) memcpy(tmp + na, b, nb);
        ok = EVP_Digest(tmp, na + nb, md, &mdlen, EVP_sha1(), NULL);
    } else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) && EVP_DigestUpdate(ctx, a, na) &&
             EVP_DigestUpdate(ctx, b, nb) && EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
    }
    if (!ok || mdlen != 20) return WSC_ENOMEM;
    memcpy(out, md, 20);
    return WSC_OK;
}

int wsc__secret_equal(const void *a, size_t alen, const void *b, size_t blen) {
    unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
    unsigned int n = 0, m = 0;
    if (EVP_Digest(a, alen, da, &n, EVP_sha256(), NULL) != 1) return 0;
    if (EVP_Digest(b, blen, db, &m, EVP_sha256(), NULL) != 1 || n != m) return 0;
    return CRYPTO_memcmp(da, db, n) == 0 && alen == blen;
}

int wsc__random_bytes(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        int k = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, k) != 1) return WSC_EIO;
        p += k;
        n -= (size_t)k;
    }
    return WSC_OK;
}

#endif

/* memset through a volatile pointer: the compiler cannot prove what it calls,
   so the stores stay (OPENSSL_cleanse and explicit_bzero do the same; this
   one needs neither the crypto library nor a libc extension). */
static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;

void wsc__wipe(void *p, size_t n) {
    if (p && n) wipe_memset(p, 0, n);
}

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
    case WSC_EPROXYAUTH: return "proxy authentication failed";
    case WSC_ECSRF: return "CSRF check failed";
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

int wsc__strdup_opt(char **dst, const char *src) {
    *dst = NULL;
    if (!src) return WSC_OK;
    *dst = wsc__strdup(src);
    return *dst ? WSC_OK : WSC_ENOMEM;
}

int wsc__strv_dup(char ***dst, const char *const *src) {
    *dst = NULL;
    if (!src) return WSC_OK;
    size_t n = 0;
    while (src[n]) n++;
    char **v = wsc__calloc(n + 1, sizeof *v);
    if (!v) return WSC_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = wsc__strdup(src[i]))) {
            wsc__strv_free(v); /* the entries not yet copied are still NULL */
            return WSC_ENOMEM;
        }
    *dst = v;
    return WSC_OK;
}

void wsc__strv_free(char **v) {
    if (!v) return;
    for (char **p = v; *p; p++) wsc__free(*p);
    wsc__free(v);
}

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

int wsc__reserved_check(const void *reserved, size_t size, wsc_error *err, const char *what) {
    const unsigned char *r = reserved;
    for (size_t i = 0; i < size; i++)
        if (r[i])
            return wsc__seterr(err, WSC_EINVAL,
                               "%s: a field this version of wsc (%s) does not know is set (reserved bytes must be "
                               "zero; built against a newer header?)",
                               what, WSC_VERSION_STRING);
    return WSC_OK;
}
