/* internal.h - private helpers shared by all of wsc's sources (never installed). */
#ifndef WSC_INTERNAL_H
#define WSC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "wsc/wsc.h"

/* Allocation through the hooks set with wsc_set_allocator(). */
void *wsc__malloc(size_t n);
void *wsc__calloc(size_t n, size_t size);
void *wsc__realloc(void *p, size_t n);
void wsc__free(void *p);
char *wsc__strdup(const char *s);
char *wsc__strndup(const char *s, size_t n);

/* Deep copies of options, so that a handle never points into the caller's
   struct. An absent (NULL) source gives NULL and WSC_OK; WSC_ENOMEM leaves
   *dst NULL with nothing allocated. */
int wsc__strdup_opt(char **dst, const char *src);
/* A NULL-terminated vector of strings and each of its strings. */
int wsc__strv_dup(char ***dst, const char *const *src);
/* Frees a vector from wsc__strv_dup and its strings; NULL is allowed. */
void wsc__strv_free(char **v);

/* The `reserved` tail of a caller-allocated struct (abi/README.md) must be
   zero: a non-zero byte means a program built against a newer header set a
   field this library does not know, which must not be ignored silently.
   Fills err with WSC_EINVAL and returns it, or returns WSC_OK. */
#define WSC__CHECK_RESERVED(obj, err, what) \
    wsc__reserved_check((obj)->reserved, sizeof (obj)->reserved, (err), (what))
int wsc__reserved_check(const void *reserved, size_t size, wsc_error *err, const char *what);

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int wsc__seterr(wsc_error *err, int code, const char *fmt, ...)
#if defined(__MINGW32__) /* C99 formats (%zu): built with __USE_MINGW_ANSI_STDIO */
    __attribute__((format(gnu_printf, 3, 4)))
#elif defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The listeners of a connection or a client (the browser's addEventListener),
   shared by wsc_ws and wsc_client. A callback is kept as a generic function
   pointer; its owner casts it back to its real type before calling it. A
   listener removed while events are being dispatched is only disabled
   (type 0), so that the dispatch loop's indices stay valid; disabled entries
   are dropped by the next add made outside a dispatch. Ids start at 1. */
typedef void (*wsc__fn)(void);
typedef struct {
    int id;
    int type; /* 0: removed */
    wsc__fn cb;
    void *user;
} wsc__listener;
typedef struct {
    wsc__listener *v;
    int n, cap, next_id;
} wsc__listeners;

/* Adds a listener; returns its id (> 0) or WSC_ENOMEM. */
int wsc__listeners_add(wsc__listeners *ls, int type, wsc__fn cb, void *user, int dispatching);
/* Removes (or, while dispatching, disables) listener id; WSC_EINVAL if unknown. */
int wsc__listeners_remove(wsc__listeners *ls, int id, int dispatching);
void wsc__listeners_free(wsc__listeners *ls);

/* SHA-1 of a || b into out. WSC_OK, or WSC_ENOMEM (the crypto library
   failed, in practice only for lack of memory). OpenSSL, or Windows CNG. */
int wsc__sha1_2(const void *a, size_t na, const void *b, size_t nb, uint8_t out[20]);
/* n bytes from the system's CSPRNG (RAND_bytes, or BCryptGenRandom).
   WSC_OK or WSC_EIO (buf then holds nothing usable). */
int wsc__random_bytes(void *buf, size_t n);
/* Equality of two secrets of any lengths in constant time: the SHA-256
   digests are compared (OpenSSL), so neither the contents nor the length of
   either leaks through timing. 1 equal, 0 different (or the digest failed). */
int wsc__secret_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Percent-decodes s[0..n) into out (at least n bytes; not terminated):
   "%XX" with two hex digits becomes its byte, anything else (a malformed
   '%' included) stands for itself; '+' is kept (this is not a query's
   decoding: wsc_query_get does that). Returns the bytes written. */
size_t wsc__pct_decode(const char *s, size_t n, char *out);
/* Appends "Basic " and the base64 of cred[0..n), taken as it is (already
   decoded): the Basic credentials of an HTTP proxy, built by the same code
   as wsc_url_basic_auth's. WSC_OK, or WSC_ENOMEM / WSC_ETOOBIG with nothing
   appended. */
int wsc__basic_auth(const char *cred, size_t n, wsc_buf *out);
/* Zeroes n bytes at p in a way the compiler may not drop as a dead store
   (secrets before their memory is freed or reused). p may be NULL if n is 0.
   The one wiping interface of the library: no layer calls the crypto
   library's for it. */
void wsc__wipe(void *p, size_t n);
/* The frame-mask randomness (io/random.c): len bytes from a per-thread pool
   refilled from the CSPRNG. 0, or -1 if the CSPRNG failed. Its signature
   is wsc_proto_config's `random`. */
int wsc__random(void *user, void *buf, size_t len);
/* Standard base64 with padding of in[0..n) into out (4*ceil(n/3)+1 bytes,
   NUL-terminated); returns the length written, without the NUL. */
size_t wsc__base64(const uint8_t *in, size_t n, char *out);

#if defined(__GNUC__)
#define WSC_LIKELY(x) __builtin_expect(!!(x), 1)
#define WSC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WSC_NOINLINE __attribute__((noinline)) /* a cold path kept out of a hot caller's frame */
/* For a hot static function with two callers that the compiler would
   otherwise leave out of line (a call per message on the round-trip path). */
#define WSC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define WSC_NOINLINE
#define WSC_LIKELY(x) (x)
#define WSC_UNLIKELY(x) (x)
#define WSC_ALWAYS_INLINE inline
#endif
#define WSC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
