/* chunk.h - a send-buffer chunk that can outlive its connection (private).
 *
 * The engine (conn.c) appends frames to a buffer from the loop's pool. For
 * confirmed delivery (delivery.h) the client keeps a reference to the bytes
 * a message was written from instead of a copy of the message: the buffer
 * then becomes a chunk, a refcounted header over it. A chunk is never
 * compacted or moved while referenced (conn.c seals it and starts a new one
 * rather than grow it), so the reference is (chunk, offset) and costs a
 * counter, not an allocation and a memcpy per message. The last reference
 * gives the buffer back to the loop's pool, so the loop must outlive every
 * chunk (it does: a client is freed before its loop).
 */
#ifndef WSC_CHUNK_H
#define WSC_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "wsc/loop.h"

typedef struct wsc__chunk {
    struct wsc__chunk *next; /* the engine's list of sealed chunks */
    uint8_t *data;           /* from the loop's pool (wsc__loop_buf_get) */
    size_t cap;
    size_t len;   /* bytes appended (sealed: final) */
    size_t woff;  /* bytes written (the engine's, for sealed chunks) */
    wsc_loop *loop;
    uint32_t refs; /* the engine's (while it appends to or writes it) + one per kept message */
} wsc__chunk;

/* Drops one reference; the last one returns the buffer to the loop's pool
   and frees the header. NULL: nothing. */
void wsc__chunk_unref(wsc__chunk *k);

#endif
