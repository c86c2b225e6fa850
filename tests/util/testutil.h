/* Helpers shared by the unit and integration tests. */
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

/* ---- real peers (servers, proxies) started by a test ---- */

#include <sys/types.h>

typedef struct tu_peer {
    pid_t pid;
    int port;            /* from "LISTENING <port>" (0 for Unix sockets) */
    char where[256];     /* what followed LISTENING */
} tu_peer;

/*
 * Starts argv[0] with argv (NULL-terminated) in its own process group,
 * stdout piped, stderr to /dev/null unless WSC_TEST_VERBOSE is set, and waits
 * at most 15 s for its first stdout line "LISTENING <x>". Returns 0, or -1
 * (the process is killed) on failure.
 */
int tu_peer_start(tu_peer *p, char *const argv[]);
/* SIGTERM, then SIGKILL after 3 s; reaps the process group. */
void tu_peer_stop(tu_peer *p);

/* The source tree (WSC_SOURCE_DIR), Python with websockets (WSC_PYTHON),
   and node (WSC_NODE) as set by CTest, with fallbacks. */
const char *tu_source_dir(void);
const char *tu_python(void);
const char *tu_node(void);
/* Builds "<source>/tests/peers/<name>" into a static buffer. */
const char *tu_peer_script(const char *name);
/* A fresh temporary directory (removed by tu_rmtree). */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);
/* Runs a shell command line; returns its exit status (or -1). */
int tu_system(const char *cmd);

/* ---- driving a loop in integration tests ---- */

#include "wsc/loop.h"

/* Milliseconds on the monotonic clock. */
uint64_t tu_now_ms(void);
/* Runs the loop until *flag >= want or ms elapse (20 ms per iteration). */
void tu_run_until(wsc_loop *loop, const int *flag, int want, int ms);
/* Runs the loop for ms milliseconds (10 ms per iteration). */
void tu_run_for(wsc_loop *loop, int ms);

/* ---- recording a connection's events (wsc_ws_options.on_event) ---- */

#include "wsc/ws.h"

typedef struct {
    int opens, errors, closes, nmsg;
    int settled; /* opened or closed: the connect is over */
    int last_error;
    char error_msg[256];
    size_t msglen;
    uint8_t *msg; /* the last message, NUL-terminated copy (malloc) */
} tu_wsrec;

/* Frees the last message and zeroes the record. */
void tu_wsrec_reset(tu_wsrec *r);
/* An on_event callback; user is a tu_wsrec. */
void tu_wsrec_event(wsc_ws *ws, const wsc_ws_event *ev, void *user);

#endif
