/*
 * loop.h - wsc's event loop: level-triggered readiness (epoll, or poll()),
 * one-shot monotonic timers, a foreign-loop API, and cross-thread posting.
 *
 * Backends. Each loop uses one of:
 *   "epoll"  Linux only, the default there: costs below are this backend's.
 *   "poll"   any POSIX system: poll() over every watched fd, so an iteration
 *            is O(watches) rather than O(ready); no epoll_ctl (an interest
 *            change is free, registering a fd costs one fstat). The default
 *            where epoll does not exist. wsc_loop_fd() returns -1 with it.
 *   "hooks"  the application's own loop watches each descriptor and runs
 *            the timer (wsc_loop_new_hooks(), below; adapters under
 *            <wsc/adapters/>): any platform, no readiness syscall of wsc's.
 * Which one: wsc_loop_new_backend(name), else the environment variable
 * WSC_LOOP_BACKEND ("epoll" or "poll", read at each wsc_loop_new()), else
 * the build's default: CMake option WSC_LOOP_BACKEND=auto|epoll|poll (auto:
 * epoll where the system has it; poll: epoll is not compiled in at all).
 * Both behave identically as far as this header documents, except where
 * noted. The tests that exercise a loop run on both: on poll (ctest -L poll)
 * every unit program that runs a loop, every integration test (wsc serve's
 * budgets and CSRF check included), the demo, the wsc command's tests but
 * Usage, ManPage and Secrets, and the client-mode conformance subset; the shared scenario on each backend and adapter
 * (ctest -L scenario); the library builds without epoll (ctest -L
 * portability). The rest (the full conformance suites among them) runs on
 * the default backend only.
 *
 * One loop per thread. Every function here except wsc_loop_post() must be
 * called from the thread that runs the loop (a loop may be created on one
 * thread and run on another, but never used from two at once). Watches and
 * timers belong to the loop they were created on.
 *
 * One iteration: read the monotonic clock (vDSO, no syscall), one epoll_wait,
 * read the clock again only if it blocked, then dispatch in this order:
 *   1. I/O: one callback per ready watch, events masked by its current interest;
 *   2. due timers, in deadline order (equal deadlines in start order); a
 *      timer (re)started during this pass, even with delay 0, waits for the
 *      next iteration, so a self-re-arming timer cannot starve I/O;
 *   3. posts from wsc_loop_post(), FIFO; a post queued during this phase
 *      runs next iteration.
 * Any callback may stop, start or free any watch or timer, itself included,
 * and may call wsc_loop_stop(). It must not call run/run_once/process/free
 * on its own loop.
 *
 * Costs: watch set/start/stop: one epoll_ctl, and none when the interest is
 * unchanged. Timer start/stop: O(log n) in a binary heap, no syscall. Post:
 * a mutex, and one eventfd write when the queue goes from empty to non-empty.
 * An idle iteration costs one epoll_wait and nothing else.
 */
#ifndef WSC_LOOP_H
#define WSC_LOOP_H

#include <stdint.h>

#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_loop wsc_loop;
typedef struct wsc_watch wsc_watch; /* interest in one file descriptor */
typedef struct wsc_timer wsc_timer; /* one-shot, re-armable timer */

#define WSC_READABLE 1u
#define WSC_WRITABLE 2u

/* `events` is a non-empty subset of the watch's interest. An error or hang-up
   on the fd is reported as every event in the interest, so the next read or
   write returns it. Readiness can be spurious: use non-blocking fds. */
typedef void (*wsc_watch_cb)(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user);
typedef void (*wsc_timer_cb)(wsc_loop *loop, wsc_timer *t, void *user);
typedef void (*wsc_post_cb)(wsc_loop *loop, void *user);

/* --- the loop ------------------------------------------------------------ */

/* Creates a loop (epoll backend: an epoll fd and an eventfd; poll backend:
   an eventfd, or a pipe where there is none; all close-on-exec) on the
   default backend (see the top of this header). Returns NULL with err (if
   not NULL) set to WSC_ENOMEM, WSC_EIO, or WSC_EINVAL ($WSC_LOOP_BACKEND
   names a backend this build does not have). */
WSC_API wsc_loop *wsc_loop_new(wsc_error *err);

/* Same, on the backend named `backend` ("epoll" or "poll"); NULL or "" means
   the default, as wsc_loop_new() ($WSC_LOOP_BACKEND included). WSC_EINVAL if
   this build lacks it, and for "hooks" (use wsc_loop_new_hooks()). */
WSC_API wsc_loop *wsc_loop_new_backend(const char *backend, wsc_error *err);

/* The loop's backend: "epoll", "poll" or "hooks" (a static string). loop
   must not be NULL. */
WSC_API const char *wsc_loop_backend(const wsc_loop *loop);

/* Closes the loop's descriptors and frees it; posts not yet run are dropped.
   Free every watch and timer first: any left are not freed (their users own
   them) and must not be used afterwards, not even with wsc_*_free(). No other
   thread may be in, or later enter, wsc_loop_post() for this loop. Not from a
   callback. NULL is a no-op. */
WSC_API void wsc_loop_free(wsc_loop *loop);

/* Runs iterations until wsc_loop_stop() or until nothing is left: no watch
   with a non-zero interest, no active timer, no pending post and no
   wsc_loop_ref(). WSC_OK, WSC_EIO (epoll_wait failed; the loop stays usable)
   or WSC_ESTATE (called from one of this loop's callbacks). */
WSC_API int wsc_loop_run(wsc_loop *loop);

/* Runs one iteration, waiting at most timeout_ms (-1: until something
   happens, 0: do not wait). With nothing left (as for run()), -1 returns 0 at
   once instead of blocking forever. EINTR is not an error (it just ends the
   wait). Returns the number of callbacks run, WSC_EIO or WSC_ESTATE (see run()). */
WSC_API int wsc_loop_run_once(wsc_loop *loop, int timeout_ms);

/* From a callback: the running run/run_once/process returns as soon as that
   callback returns. I/O events not yet dispatched are dropped (level-triggered:
   the next wait reports them again); due timers and posts stay pending. No
   effect when the loop is not running. */
WSC_API void wsc_loop_stop(wsc_loop *loop);

/* Monotonic (CLOCK_MONOTONIC) milliseconds, cached at the start of each
   iteration. wsc_loop_update_time() refreshes the cache (vDSO, no syscall). */
WSC_API uint64_t wsc_loop_now(const wsc_loop *loop);
WSC_API void wsc_loop_update_time(wsc_loop *loop);

/* A reference keeps run() going with nothing else registered, e.g. while a
   resolver thread works and will wsc_loop_post() its result. Counted; unref
   below zero is ignored. Loop thread only. */
WSC_API void wsc_loop_ref(wsc_loop *loop);
WSC_API void wsc_loop_unref(wsc_loop *loop);

/* --- watches: interest in one fd ---------------------------------------- */

/* Watches fd for `events` (WSC_READABLE|WSC_WRITABLE, or 0 to create it
   silent). One watch per fd per loop. Free the watch before closing the fd:
   epoll tracks the open file, not the number. Returns NULL with err set to
   WSC_EINVAL (bad argument, fd already watched, fd not pollable, e.g. a
   regular file), WSC_ENOMEM or WSC_EIO; nothing is registered then. */
WSC_API wsc_watch *wsc_watch_new(wsc_loop *loop, int fd, unsigned events, wsc_watch_cb cb, void *user,
                                 wsc_error *err);

/* Changes the interest. No syscall if unchanged; otherwise one epoll_ctl.
   Interest 0 removes the fd from epoll (a hang-up would otherwise wake a
   level-triggered loop forever); a later non-zero interest adds it back.
   Events of this batch not yet dispatched are masked by the new interest.
   WSC_OK; WSC_EINVAL (bits other than READABLE|WRITABLE); WSC_ESTATE (watch
   stopped); WSC_ENOMEM, WSC_EIO: the interest is left unchanged. */
WSC_API int wsc_watch_set(wsc_watch *w, unsigned events);

/* The current interest. */
WSC_API unsigned wsc_watch_events(const wsc_watch *w);

/* Deregisters and frees (one epoll_ctl if the interest is non-zero). Safe
   from any callback, its own included; an event of w still pending in the
   current batch is not dispatched. NULL is a no-op. */
WSC_API void wsc_watch_free(wsc_watch *w);

/* --- timers: one-shot, re-armable --------------------------------------- */

/* Creates a stopped timer. NULL with err set to WSC_EINVAL or WSC_ENOMEM. */
WSC_API wsc_timer *wsc_timer_new(wsc_loop *loop, wsc_timer_cb cb, void *user, wsc_error *err);

/* (Re)arms t to fire once, delay_ms after wsc_loop_now(); restarting an active
   timer moves it. O(log n). WSC_OK, or WSC_ENOMEM when the heap had to grow
   and could not (the timer keeps its previous state). The heap never shrinks,
   so this cannot fail for an active timer, nor while no more timers are active
   than have been at once before on this loop. */
WSC_API int wsc_timer_start(wsc_timer *t, uint64_t delay_ms);

/* Disarms t; no-op if it is not active. O(log n). */
WSC_API void wsc_timer_stop(wsc_timer *t);

/* 1 if armed and not yet fired, else 0 (so 0 inside its own callback, until
   it re-arms itself). */
WSC_API int wsc_timer_active(const wsc_timer *t);

/* Stops and frees. Safe from any callback, its own included. NULL: no-op. */
WSC_API void wsc_timer_free(wsc_timer *t);

/* --- driving wsc from a foreign loop (libuv, libev, GLib, poll()) --------- */

/* The epoll fd: it polls readable whenever a watch is ready or a post is
   queued. Watch it for reading in the foreign loop; never read it.
   -1 on the poll backend, which has no single descriptor to offer. */
WSC_API int wsc_loop_fd(const wsc_loop *loop);

/* Milliseconds until the next timer is due: 0 if one is due or posts are
   waiting to run, -1 if there is no timer. Rounded up; capped at INT_MAX. */
WSC_API int wsc_loop_next_timeout(wsc_loop *loop);

/* Same as wsc_loop_run_once(loop, 0): dispatches whatever is ready and due,
   never blocks. Call it when wsc_loop_fd() is readable or the timeout expired. */
WSC_API int wsc_loop_process(wsc_loop *loop);

/* --- driving wsc from a foreign loop through per-socket hooks ----------- */

/*
 * The application's loop watches wsc's descriptors one by one and runs its
 * timer, as hiredis's adapters do: no single descriptor is needed, so this
 * works on every backend and platform. Ready-made adapters:
 * <wsc/adapters/libuv.h>. wsc calls the hooks, on the loop's thread, from
 * inside its own functions (wsc_ws_new, a send, a callback...):
 *   add_read / add_write   start watching fd for reading / writing, level-
 *                          triggered. *data is a per-fd slot for the
 *                          application (NULL when fd is first added), kept
 *                          by wsc until cleanup. Return 0, or -1 to refuse
 *                          (the wsc call that needed it fails with WSC_EIO).
 *   del_read / del_write   stop watching for that direction.
 *   cleanup                fd is no longer watched at all: free *data. wsc
 *                          forgets the fd; a readiness reported for it later
 *                          (already queued in the application's loop) is ignored.
 *   timer                  (re)arm the application's one-shot timer to call
 *                          wsc_loop_process() in ms milliseconds; -1: disarm.
 *                          0 means: as soon as possible (wsc has work queued).
 * When fd is ready, the application calls wsc_loop_hook_io(). Posts from
 * other threads wake it through a descriptor of the loop's own, watched
 * through the same hooks. On a hooked loop, run() and run_once() with a
 * non-zero timeout return WSC_ESTATE, and wsc_loop_fd() returns -1.
 */
typedef struct wsc_loop_hooks {
    void *user; /* first argument of every hook */
    int (*add_read)(void *user, int fd, void **data);
    void (*del_read)(void *user, int fd, void **data);
    int (*add_write)(void *user, int fd, void **data);
    void (*del_write)(void *user, int fd, void **data);
    void (*cleanup)(void *user, int fd, void **data);
    void (*timer)(void *user, int ms);
} wsc_loop_hooks;

/* Creates a loop driven by the application's loop through `hooks` (copied;
   every member but user is required). Its wake-up descriptor is added at
   once (add_read). NULL with err set to WSC_EINVAL (hooks NULL or a hook missing),
   WSC_ENOMEM or WSC_EIO (the descriptor, or add_read refused it).
   wsc_loop_free() deletes and cleans up what is still watched and disarms
   the timer, through the hooks, before it returns. */
WSC_API wsc_loop *wsc_loop_new_hooks(const wsc_loop_hooks *hooks, wsc_error *err);

/* From the application's loop: fd is ready for `events` (WSC_READABLE,
   WSC_WRITABLE; both for an error or hang-up). Dispatches that watch, then
   due timers, posts and deferred work, as one iteration. Returns the number
   of callbacks run (0 if fd is not watched any more), WSC_ESTATE (from a
   callback of this loop, or the loop is not hooked) or WSC_EINVAL (loop
   NULL, fd negative, or bits other than WSC_READABLE|WSC_WRITABLE). */
WSC_API int wsc_loop_hook_io(wsc_loop *loop, int fd, unsigned events);

/* --- cross-thread ------------------------------------------------------- */

/* The only function that may be called from any thread, the loop's included.
   Queues fn(loop, user) to run on the loop's thread, in FIFO order, and wakes
   the loop (an eventfd). The allocator hooks must be thread-safe. WSC_OK,
   WSC_EINVAL (fn NULL) or WSC_ENOMEM (nothing queued). */
WSC_API int wsc_loop_post(wsc_loop *loop, wsc_post_cb fn, void *user);

#ifdef __cplusplus
}
#endif
#endif /* WSC_LOOP_H */
