/*
 * wsc.h - common definitions for every layer of wsc: version, error codes,
 * the error-information struct, allocator hooks and the growable byte buffer
 * that the sans-I/O core writes into.
 *
 * Every wsc function that can fail returns an `int`: WSC_OK (0) or a negative
 * `enum wsc_err` value. Functions that have more to say fill a caller-supplied
 * `wsc_error` (which may be NULL) with the code and a one-line human message.
 * Messages never contain secrets (the CSRF token is never copied into them).
 */
#ifndef WSC_WSC_H
#define WSC_WSC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * WSC_API marks every function the library exports. wsc is compiled with
 * hidden visibility, so anything without it stays internal to the library
 * (a test compares the exported set with the declarations in these headers).
 * Building a static library or the library itself needs nothing: the macro
 * only adds the visibility attribute (dllexport/dllimport on Windows, where
 * WSC_STATIC selects a static link and WSC_BUILDING is set by the build).
 */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(WSC_STATIC)
#    define WSC_API
#  elif defined(WSC_BUILDING)
#    define WSC_API __declspec(dllexport)
#  else
#    define WSC_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define WSC_API __attribute__((visibility("default")))
#else
#  define WSC_API
#endif

#define WSC_VERSION_MAJOR 0
#define WSC_VERSION_MINOR 2
#define WSC_VERSION_PATCH 0
#define WSC_VERSION_STRING "0.2.0"
/* One number for comparisons: 0xMMmmpp (0.2.0 is 0x000200). */
#define WSC_VERSION_NUM ((WSC_VERSION_MAJOR << 16) | (WSC_VERSION_MINOR << 8) | WSC_VERSION_PATCH)

/* Returns WSC_VERSION_STRING of the library actually linked (which may be
   newer than the header a program was compiled with: see abi/README.md).
   Never fails; the string is static. */
WSC_API const char *wsc_version(void);

/*
 * Optional one-time initialisation of what wsc's dependencies otherwise set
 * up lazily on first use (OpenSSL's library context, random generator and
 * digests, the TLS library): call it at start-up so the first connection
 * does not pay for it (about 2 MB of OpenSSL state and a few milliseconds).
 * Thread-safe and idempotent; never required. Returns WSC_OK or WSC_EIO.
 * (Part of libwsc, not of the sans-I/O core.)
 */
WSC_API int wsc_global_init(void);

/*
 * Error codes. Stable: new codes are only ever appended.
 * The text returned by wsc_strerror() for each is listed in docs/errors.md,
 * and a test keeps that table equal to this enum.
 */
enum wsc_err {
    WSC_OK = 0,
    WSC_EAGAIN = -1,        /* more input needed / operation would block */
    WSC_EINVAL = -2,        /* invalid argument */
    WSC_ENOMEM = -3,        /* out of memory */
    WSC_EPROTO = -4,        /* the peer violated RFC 6455 */
    WSC_EUTF8 = -5,         /* invalid UTF-8 where text was required */
    WSC_ETOOBIG = -6,       /* a documented size limit was exceeded */
    WSC_ESTATE = -7,        /* operation not allowed in the current state */
    WSC_EURL = -8,          /* malformed or unsupported URL */
    WSC_EHANDSHAKE = -9,    /* the opening handshake failed */
    WSC_EHTTP = -10,        /* the server answered with a non-101 HTTP status */
    WSC_EIO = -11,          /* system I/O error */
    WSC_ETLS = -12,         /* TLS error */
    WSC_ETLSVERIFY = -13,   /* TLS certificate or host-name verification failed */
    WSC_EDNS = -14,         /* host name could not be resolved */
    WSC_ECONNREFUSED = -15, /* connection refused */
    WSC_ETIMEDOUT = -16,    /* a timeout expired */
    WSC_ECLOSED = -17,      /* the connection is closed (or closing) */
    WSC_EQUEUEFULL = -18,   /* the send queue is full */
    WSC_ESTORE = -19,       /* the token store failed (corrupt, locked, unwritable) */
    WSC_EJSON = -20,        /* invalid JSON */
    WSC_EPROXY = -21,       /* the HTTP proxy refused or failed the tunnel */
    WSC_ECONNRESET = -22,   /* connection reset or closed by the peer */
    WSC_EEXTENSION = -23,   /* extension negotiation failed */
    WSC_EPROXYAUTH = -24,   /* the proxy refused our credentials, or wants some
                               (HTTP 407 or a 401 to CONNECT; SOCKS5 user
                               name/password refused) */
    WSC_ECSRF = -25         /* the double-submit CSRF check failed (server role) */
};

/* A short static description of an error code ("invalid argument"); "unknown
   error" for a value that is no code. Never NULL. */
WSC_API const char *wsc_strerror(int err);

/* Filled by functions that take a `wsc_error *` (which may always be NULL). */
typedef struct wsc_error {
    int code;          /* an enum wsc_err value, WSC_OK if no error */
    char message[256]; /* NUL-terminated, one line, no secrets */
} wsc_error;

/*
 * Allocator hooks. Every allocation made by wsc goes through these; the
 * default is the C library's malloc/realloc/free. Set them once, before any
 * other wsc call, from one thread. Passing NULL, or a struct with any of the
 * three functions NULL, restores the default.
 * The sans-I/O core allocates only where its documentation says so (message
 * reassembly, output buffers the caller handed it, compression state).
 */
typedef struct wsc_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
} wsc_allocator;

WSC_API void wsc_set_allocator(const wsc_allocator *allocator);

/*
 * A growable byte buffer owned by the caller. The core appends encoded bytes
 * at data[len] (growing it with the allocator hooks); the caller writes out
 * data[off..len) and marks what was written with wsc_buf_consume(). Appending
 * never moves pending bytes within the buffer (len only grows, though data
 * may be reallocated); wsc_buf_consume() moves them to the front when more
 * has been consumed than is left (amortised O(1) per byte).
 * A zeroed struct is an empty buffer.
 */
typedef struct wsc_buf {
    uint8_t *data;
    size_t off; /* first byte not yet consumed */
    size_t len; /* end of valid data: pending bytes are data[off..len) */
    size_t cap; /* bytes allocated */
    size_t max; /* 0: no limit; else holding more than max pending bytes
                   fails with WSC_ETOOBIG */
} wsc_buf;

/* Pending (unconsumed) bytes. */
static inline size_t wsc_buf_pending(const wsc_buf *b) { return b->len - b->off; }

/* Ensures room for `extra` more bytes. WSC_OK, WSC_ENOMEM or WSC_ETOOBIG. */
WSC_API int wsc_buf_reserve(wsc_buf *b, size_t extra);
/* Appends len bytes. WSC_OK, WSC_ENOMEM or WSC_ETOOBIG (nothing appended). */
WSC_API int wsc_buf_append(wsc_buf *b, const void *data, size_t len);
/* Marks the first n pending bytes as consumed (n <= wsc_buf_pending(); a
   larger n consumes everything). */
WSC_API void wsc_buf_consume(wsc_buf *b, size_t n);
/* Frees the storage; the buffer is empty afterwards (max is kept) and may be
   reused. */
WSC_API void wsc_buf_free(wsc_buf *b);

#ifdef __cplusplus
}
#endif
#endif /* WSC_WSC_H */
