/* scripted_peer.h - the test as the peer of a wsc connection, over a Unix
 * socket, on a loop whose clock the test sets.
 *
 * Shared by test_scripted.c (the test is the server), test_scripted_server.c
 * (the test is the client) and test_client_scripted.c (the reconnecting
 * client). The loop's clock is tu_fake_clock (wsc__loop_set_clock), read
 * from tu_fake_now, and the loop is driven with wsc_loop_run_once(loop, 0),
 * so every timer fires at its exact millisecond and no test waits for time
 * to pass. The peer's reads are bounded with poll() (5 s in all) and only
 * ever wait for bytes wsc writes without time passing, so a loaded machine
 * makes a test slower, never wrong. */
#ifndef WSC_SCRIPTED_PEER_H
#define WSC_SCRIPTED_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "testutil.h"
#include "wsc/loop.h"

/* The injected clock: milliseconds, set by the test. Starts at 1000000 so
   that "t0 - 1" never wraps. */
extern uint64_t tu_fake_now;
uint64_t tu_fake_clock(void *user);

typedef struct tu_sp {
    wsc_loop *loop; /* with tu_fake_clock */
    char *dir;      /* a fresh temporary directory, removed by tu_sp_fini */
    char sock[200]; /* "<dir>/s" */
    int lfd;        /* the test's listening socket (tu_sp_listen), or -1 */
    int fd;         /* the test's end of the connection, or -1 */
} tu_sp;

/* A loop with the fake clock and a socket path; nothing listens yet. */
void tu_sp_init(tu_sp *p);
/* Closes what is open, frees the loop, removes the directory. Free the
   connection (wsc_ws, wsc_client, wsc_server) first. */
void tu_sp_fini(tu_sp *p);
/* The test listens on p->sock (the test is the server). */
void tu_sp_listen(tu_sp *p);
/* Turns the loop until wsc has connected, and accepts into p->fd (a
   previous connection's fd is closed first). */
void tu_sp_accept(tu_sp *p);
/* The test connects p->fd to p->sock (wsc is the server). */
void tu_sp_connect(tu_sp *p);
/* The test's end hangs up (EOF for wsc). */
void tu_sp_hangup(tu_sp *p);

/* One turn of the loop that never blocks; n turns. */
void tu_sp_turn(tu_sp *p);
void tu_sp_turns(tu_sp *p, int n);
/* Turns the loop (at most 100 times) until *flag >= want; asserts it. */
void tu_sp_until(tu_sp *p, const int *flag, int want);
/* Turns the loop until fd is readable (bytes or EOF), at most 5 s. */
void tu_sp_wait_readable(tu_sp *p, int fd);
/* Nothing to read on p->fd, and no EOF: wsc has not acted (yet). */
void tu_sp_silent(tu_sp *p);

/* Exactly n bytes from wsc; exactly these bytes; the end of the stream. */
void tu_sp_read(tu_sp *p, void *buf, size_t n);
void tu_sp_expect(tu_sp *p, const void *want, size_t n);
void tu_sp_expect_eof(tu_sp *p);
void tu_sp_write(tu_sp *p, const void *buf, size_t n);

/* ---- the test as the server ---- */

/* Reads one masked frame from the client (FIN, no RSV, payload <= 125),
   checks its opcode and unmasks it into out: returns the payload length. */
size_t tu_sp_client_frame(tu_sp *p, unsigned want_op, uint8_t *out, size_t cap);
/* Writes an unmasked frame, as a server sends it (payload <= 125). */
void tu_sp_server_frame(tu_sp *p, uint8_t b0, const void *payload, size_t len);
/* Reads the request head one byte per read (into req, NUL-terminated),
   checks that it asks for path, and answers 101 with the right accept. */
void tu_sp_upgrade(tu_sp *p, const char *path, char *req, size_t cap);
/* Reads the request head and answers with this status (no body), then
   hangs up: a refused handshake. */
void tu_sp_refuse(tu_sp *p, int status);

/* ---- the test as the client ---- */

/* A masked frame, with a fixed mask (the same bytes on every run),
   payload <= 125, into out (>= 6 + len): returns its length. */
size_t tu_sp_masked_frame(uint8_t b0, const void *payload, size_t len, uint8_t *out);
void tu_sp_client_send(tu_sp *p, uint8_t b0, const void *payload, size_t len);

#endif
