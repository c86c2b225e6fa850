/*
 * loop_internal.h - the watch and timer structs, so other wsc layers can embed
 * them in their own objects (a connection costs one allocation). Never installed.
 *
 * An embedded watch or timer is set up with wsc__watch_init()/wsc__timer_init()
 * and torn down with wsc__watch_stop()/wsc_timer_stop() before its memory goes
 * away; never pass it to wsc_watch_free()/wsc_timer_free() (they free()).
 * Fields are the loop's: read them only through the functions.
 */
#ifndef WSC_IO_LOOP_INTERNAL_H
#define WSC_IO_LOOP_INTERNAL_H

#include <stdint.h>

#include "wsc/loop.h"

struct wsc_watch { /* 32 bytes on LP64 */
    wsc_loop *loop;
    wsc_watch_cb cb;
    void *user;
    int fd;         /* -1 while stopped */
    uint8_t events; /* interest; registered with epoll iff fd >= 0 && events */
    uint8_t pad_[3];
};

struct wsc_timer {   /* 48 bytes on LP64 */
    wsc_loop *loop;
    wsc_timer_cb cb;
    void *user;
    uint64_t due;    /* wsc_loop_now() value at which it fires */
    uint64_t seq;    /* start order: ties on `due` fire FIFO, and the timer pass
                        skips timers started after it began */
    uint32_t slot;   /* 1 + index in the loop's heap; 0 when not active */
    uint32_t pad_;
};

/* Sets up a stopped watch (fd -1, interest 0). No syscall, cannot fail. */
void wsc__watch_init(wsc_watch *w, wsc_loop *loop, wsc_watch_cb cb, void *user);

/* Registers a stopped watch on fd with `events` (one epoll_ctl, none if events
   is 0). WSC_OK; WSC_EINVAL (fd < 0, bad events, fd already watched in this
   loop, fd not pollable); WSC_ESTATE (already started); WSC_ENOMEM; WSC_EIO.
   On failure the watch stays stopped. errno is left as epoll_ctl set it.
   Stop the watch before closing fd (epoll tracks the open file, not the fd
   number: a registration can outlive close() if the file is dup'ed). */
int wsc__watch_start(wsc_watch *w, int fd, unsigned events);

/* Deregisters (one epoll_ctl if the interest is non-zero) and returns the
   watch to the stopped state, keeping cb and user; the memory stays the
   caller's. Safe from any callback; an event still pending in the current
   batch is not dispatched (a scan of the rest of the batch: at most 63
   compares, and only when called during I/O dispatch). No-op if stopped. */
void wsc__watch_stop(wsc_watch *w);

/* Sets up a stopped timer. Cannot fail. Start/stop/active are the public ones. */
void wsc__timer_init(wsc_timer *t, wsc_loop *loop, wsc_timer_cb cb, void *user);

/*
 * Deferred work: runs once, on the loop thread, before the loop next waits
 * (at the end of the current iteration, or at the start of the next one if
 * queued from outside the loop). The connection layer queues its flush here,
 * so all the frames sent during one iteration go out in one write.
 * While anything is queued, wsc_loop_next_timeout() returns 0 (a foreign loop
 * then calls wsc_loop_process() at once). Embed the struct; zero it first.
 * Queueing an already-queued item does nothing; costs are O(1).
 */
typedef struct wsc__defer wsc__defer;
struct wsc__defer {
    wsc__defer *next, *prev;
    void (*fn)(wsc__defer *d);
    uint8_t queued;
};
void wsc__defer_queue(wsc_loop *loop, wsc__defer *d);
void wsc__defer_cancel(wsc_loop *loop, wsc__defer *d);

/*
 * A small pool of send buffers shared by the connections of this loop: a
 * connection borrows one when it has something to send and gives it back
 * once drained, so an idle connection holds no send buffer and a busy one
 * does not pay malloc/free per message. At most WSC_LOOP_POOL buffers of at
 * most WSC_LOOP_POOL_MAX bytes are kept (larger ones are freed), and at most
 * WSC_LOOP_POOL_BYTES in all.
 *
 * Why buffers up to 256 KiB: a busy connection's write batch (64 messages
 * of 1 KiB in flight, as `wsc bench` and bench_delivery keep) is ~66 KB.
 * With a 16 KiB limit every batch grew its buffer by realloc from 16 KiB
 * again, and once something else sits after it on the heap (the copies
 * confirmed delivery keeps) each realloc moves the batch: measured 264
 * instructions per 1 KiB message (bench/delivery_cost.sh). The cost: a loop
 * at rest may hold up to WSC_LOOP_POOL_BYTES of free send buffers.
 */
#define WSC_LOOP_POOL 16
#define WSC_LOOP_POOL_MAX (256u * 1024u)
#define WSC_LOOP_POOL_BYTES (1024u * 1024u)
/*
 * Besides them, one buffer of up to WSC_LOOP_BIG_MAX bytes is kept for
 * large messages. Why: a freed buffer of a megabyte goes back to the system
 * (glibc trims or unmaps it), so each 1 MiB message had its frame written
 * into fresh pages: 117 page faults per message on the client
 * (`perf record -e page-faults`: 94% in the masking loop), 1.5x Beast's
 * user+system time for the same 1 MiB echo stream. The cost: a loop that
 * sent a large message may hold this buffer at rest, at most
 * WSC_LOOP_BIG_MAX bytes (it is freed with the loop).
 */
#define WSC_LOOP_BIG_MAX (4u * 1024u * 1024u)
/* A buffer of at least WSC_LOOP_POOL_MIN bytes, or NULL (ENOMEM): the large
   one when need is over WSC_LOOP_POOL_MAX and it is there. */
#define WSC_LOOP_POOL_MIN 1024u
uint8_t *wsc__loop_buf_get(wsc_loop *loop, size_t need, size_t *cap);
void wsc__loop_buf_put(wsc_loop *loop, uint8_t *buf, size_t cap);

/* Tests: the loop reads its time from now_ms(user) (milliseconds, never
   decreasing) instead of CLOCK_MONOTONIC, from now on (NULL: back to the
   monotonic clock). A test advances its clock and calls
   wsc_loop_run_once(loop, 0): timers fire exactly when the injected time
   reaches them, whatever the machine's load. Not installed, not exported. */
void wsc__loop_set_clock(wsc_loop *loop, uint64_t (*now_ms)(void *user), void *user);

/* A pointer the connection layer keeps per loop (its registry of
   connections in the CONNECTING state, RFC 6455 4.1). NULL at first. */
void **wsc__loop_ws_registry(wsc_loop *loop);

/* A receive buffer shared by everything on this loop (one thread): read into
   it, parse, and keep nothing pointing into it after the callback. Allocated
   on first use (WSC_LOOP_SCRATCH bytes), freed with the loop. NULL on ENOMEM. */
#define WSC_LOOP_SCRATCH (256u * 1024u)
uint8_t *wsc__loop_scratch(wsc_loop *loop);

#endif
