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

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int wsc__seterr(wsc_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define WSC_LIKELY(x) __builtin_expect(!!(x), 1)
#define WSC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WSC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
