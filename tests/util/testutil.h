/* Helpers shared by the unit tests. */
#ifndef WSC_TESTUTIL_H
#define WSC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/*
 * Guard-page buffers (picohttpparser's trick): the returned copy of data[0..len)
 * ends exactly at a PROT_NONE page, so reading one byte past the end crashes
 * at once instead of passing silently. Free with tu_guard_free().
 */
uint8_t *tu_guard_copy(const void *data, size_t len);
void tu_guard_free(uint8_t *p, size_t len);

/* Deterministic "random" callback for wsc_proto: fills with a counter pattern
   starting at *(uint8_t *)user (or 0x37 if user is NULL). Returns 0. */
int tu_fixed_random(void *user, void *buf, size_t len);

/* Decodes a hex string ("81 05 48 65", spaces ignored) into out; returns length. */
size_t tu_unhex(const char *hex, uint8_t *out, size_t cap);

/* Reads a whole file into a malloc'd buffer; returns NULL on error. */
uint8_t *tu_read_file(const char *path, size_t *len);

#endif
