/*
 * secret.h - memory for secrets (the CSRF token), private to wsc.
 *
 * Each allocation is a mapping of its own, marked MADV_DONTDUMP so that a
 * core file of the process does not contain it, and locked in RAM when the
 * memory-lock limit allows (so it is not written to swap); it is wiped
 * before it is unmapped. It costs a page (4 KiB) and two system calls per
 * secret, which is fine for the handful of tokens a process holds.
 * Elsewhere than Linux it is ordinary heap memory, still wiped when freed.
 */
#ifndef WSC_SECRET_H
#define WSC_SECRET_H

#include <stddef.h>

/* n bytes (n > 0), zero-filled, or NULL (out of memory). */
void *wsc__secret_alloc(size_t n);
/* A NUL-terminated copy of s in secret memory; NULL if s is NULL or out of memory. */
char *wsc__secret_strdup(const char *s);
/* Wipes and frees p (from wsc__secret_alloc/strdup); NULL is allowed. */
void wsc__secret_free(void *p);
/* Non-zero if p (from wsc__secret_alloc) is excluded from core dumps. */
int wsc__secret_is_dontdump(const void *p);

#endif
