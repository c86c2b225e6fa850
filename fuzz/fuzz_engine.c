/* fuzz_engine.c - the connection engine (src/conn.c) fed arbitrary bytes
 * after a successful opening handshake, in both roles, through the public
 * API on a real wsc_loop.
 *
 * The harness is the peer, at the other end of a Unix socket (as
 * tests/integration/test_scripted.c): for the client role it accepts the
 * wsc_ws connection, answers 101 and then writes the input; for the server
 * role it connects to a wsc_server and writes a valid upgrade request and
 * then the input. The loop is turned with wsc_loop_run_once(loop, 0) a
 * bounded number of times (never a wall-clock wait) and runs on an injected
 * clock, so a timer (close timeout, message timeout) fires only when the
 * harness advances that clock: every run is deterministic.
 *
 * Input: byte 0 chooses the role and options, byte 1 what the callbacks do
 * in reaction to events (send, ping, close, terminate: re-entrancy from
 * inside the engine's dispatch), byte 2 the negotiated extension; the rest
 * is what the peer sends. One loop, the listening socket and the servers are
 * kept across inputs (created on first use); each input's connection is
 * closed and freed before the next, so the leak checker sees every byte.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/loop_internal.h"
#include "wsc/http.h"
#include "wsc/loop.h"
#include "wsc/server.h"
#include "wsc/ws.h"

#include "fuzz_check.h"

/* byte 0 */
#define OPT_SERVER 0x01u    /* the server role (else the client) */
#define OPT_DEFLATE 0x02u   /* negotiate permessage-deflate */
#define OPT_SMALL 0x04u     /* small message limit (and budgets, server) */
#define OPT_CHUNKS 0x18u    /* the input is written in pieces of 1, 7 or 61 bytes, or at once */
#define OPT_FRAGMENT 0x20u  /* client: fragment what it sends (fragment_size 5) */
#define OPT_NOCTX 0x40u     /* no context takeover (server variant / client offer) */
#define OPT_LATE_EOF 0x80u  /* advance the clock before the peer's EOF (timeouts first) */

/* byte 1: reactions */
#define R_ECHO 0x01u        /* echo each message */
#define R_CLOSE_MSG 0x02u   /* close (1000) after the first message */
#define R_PING 0x04u        /* ping in reaction to a ping or pong */
#define R_SEND_OPEN 0x08u   /* send a text and a binary message when open */
#define R_BIG 0x10u         /* echo a larger message (fragments, compression) */
#define R_TERMINATE 0x20u   /* terminate (client: free) on the second message */
#define R_CLOSE_ERR 0x40u   /* close again from the error callback */
#define R_CLOSE_BAD 0x80u   /* close with an odd code and a long reason */

static uint64_t fake_now = 1000000;
static uint64_t fake_clock(void *user) {
    (void)user;
    return fake_now;
}

static wsc_loop *loop;
static char dir[64];
static char client_sock[128]; /* where the harness listens for the client role */
static int lfd = -1;
static wsc_server *servers[4]; /* [small | noctx << 1] */
static char server_sock[4][128];

/* What one input's callbacks see and do. */
static struct {
    unsigned react;
    int messages, closed, freed;
    wsc_ws *ws;
} st;

static uint8_t big[3000];

static void cleanup(void) {
    for (int i = 0; i < 4; i++) wsc_server_free(servers[i]);
    if (lfd >= 0) close(lfd);
    if (client_sock[0]) unlink(client_sock);
    if (dir[0]) rmdir(dir);
    /* Servers are freed at the end of their callbacks: let that happen. */
    wsc_loop_run_once(loop, 0);
    wsc_loop_free(loop);
}

/* --- reactions, shared by both roles through small adapters -------------- */

typedef struct {
    int (*text)(void *c, const char *d, size_t n);
    int (*binary)(void *c, const void *d, size_t n);
    int (*ping)(void *c, const void *d, size_t n);
    int (*close)(void *c, unsigned code, const char *reason);
    void (*terminate)(void *c);
} ops;

static int c_text(void *c, const char *d, size_t n) { return wsc_ws_send_text(c, d, n); }
static int c_bin(void *c, const void *d, size_t n) { return wsc_ws_send_binary(c, d, n); }
static int c_ping(void *c, const void *d, size_t n) { return wsc_ws_ping(c, d, n); }
static int c_close(void *c, unsigned code, const char *r) { return wsc_ws_close(c, code, r); }
static void c_term(void *c) {
    /* The client's hard stop is a free (deferred until the callback returns). */
    wsc_ws_free(c);
    st.freed = 1;
    st.closed = 1;
}
static const ops client_ops = {c_text, c_bin, c_ping, c_close, c_term};

static int s_text(void *c, const char *d, size_t n) { return wsc_sconn_send_text(c, d, n); }
static int s_bin(void *c, const void *d, size_t n) { return wsc_sconn_send_binary(c, d, n); }
static int s_ping(void *c, const void *d, size_t n) { return wsc_sconn_ping(c, d, n); }
static int s_close(void *c, unsigned code, const char *r) { return wsc_sconn_close(c, code, r); }
static void s_term(void *c) { wsc_sconn_terminate(c); }
static const ops server_ops = {s_text, s_bin, s_ping, s_close, s_term};

/* Return values are not checked: any of these may be refused (closing,
   over budget), and refusing must be safe. */
static void react_open(const ops *o, void *c) {
    if (st.react & R_SEND_OPEN) {
        (void)o->text(c, "hello", 5);
        (void)o->binary(c, "\x00\xff", 2);
    }
}

static void react_message(const ops *o, void *c, int binary, const uint8_t *data, size_t len) {
    st.messages++;
    if (st.react & R_ECHO) {
        if (binary) (void)o->binary(c, data, len);
        else (void)o->text(c, (const char *)data, len);
    }
    if (st.react & R_BIG) (void)o->binary(c, big, sizeof big);
    if ((st.react & R_CLOSE_MSG) && st.messages == 1) {
        if (st.react & R_CLOSE_BAD) {
            char reason[200];
            memset(reason, 'r', sizeof reason - 1);
            reason[sizeof reason - 1] = 0;
            (void)o->close(c, 4999, reason); /* too long a reason: refused, safely */
            (void)o->close(c, 1001, "going");
        } else {
            (void)o->close(c, 1000, "bye");
        }
    }
    if ((st.react & R_TERMINATE) && st.messages == 2) o->terminate(c);
}

static void react_ping(const ops *o, void *c, const uint8_t *data, size_t len) {
    if ((st.react & R_PING) && len < 100) (void)o->ping(c, data, len);
}

static void react_error(const ops *o, void *c) {
    if (st.react & R_CLOSE_ERR) (void)o->close(c, 1000, NULL);
}

/* --- the client role's callbacks ---------------------------------------- */

/* FUZZ_ENGINE_TRACE=1: print each event (to check what seeds reach). */
static void trace(const char *role, int type, size_t len, unsigned code) {
    static int on = -1;
    if (on < 0) on = getenv("FUZZ_ENGINE_TRACE") != NULL;
    if (on) fprintf(stderr, "%s event %d len %zu code %u\n", role, type, len, code);
}

static void on_ws(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)user;
    trace("client", ev->type, ev->len, ev->code);
    if (st.freed) return;
    switch (ev->type) {
    case WSC_WS_OPEN: react_open(&client_ops, ws); break;
    case WSC_WS_MESSAGE:
        if (!ev->binary) CHECK(wsc_utf8_valid(ev->data, ev->len));
        react_message(&client_ops, ws, ev->binary, ev->data, ev->len);
        break;
    case WSC_WS_PING:
    case WSC_WS_PONG: react_ping(&client_ops, ws, ev->data, ev->len); break;
    case WSC_WS_ERROR: react_error(&client_ops, ws); break;
    case WSC_WS_CLOSE: st.closed = 1; break;
    }
}

/* --- the server role's callbacks ---------------------------------------- */

static void on_srv(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s, (void)user;
    trace("server", ev->type, ev->len, ev->code);
    switch (ev->type) {
    case WSC_SRV_OPEN: react_open(&server_ops, c); break;
    case WSC_SRV_MESSAGE:
        if (!ev->binary) CHECK(wsc_utf8_valid(ev->data, ev->len));
        react_message(&server_ops, c, ev->binary, ev->data, ev->len);
        break;
    case WSC_SRV_PING:
    case WSC_SRV_PONG: react_ping(&server_ops, c, ev->data, ev->len); break;
    case WSC_SRV_ERROR: react_error(&server_ops, c); break;
    case WSC_SRV_CLOSE: st.closed = 1; break;
    }
}

/* --- setup (once) --------------------------------------------------------- */

static void setup(void) {
    loop = wsc_loop_new(NULL);
    CHECK(loop);
    wsc__loop_set_clock(loop, fake_clock, NULL);
    snprintf(dir, sizeof dir, "/tmp/wsc-fuzz-engine.XXXXXX");
    CHECK(mkdtemp(dir));
    snprintf(client_sock, sizeof client_sock, "%s/c", dir);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(lfd >= 0);
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, client_sock, strlen(client_sock) + 1);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(lfd, 4) == 0);
    for (int i = 0; i < 4; i++) {
        snprintf(server_sock[i], sizeof server_sock[i], "%s/s%d", dir, i);
        wsc_server_options o = {0};
        o.unix_path = server_sock[i];
        o.on_open = o.on_message = o.on_error = o.on_close = o.on_pong = o.on_ping = on_srv;
        o.deflate_no_context_takeover = (i & 2) != 0;
        o.deflate_threshold = 8;
        if (i & 1) { /* small: limits and budgets that inputs can reach */
            o.max_message_size = 1000;
            o.memory_budget = 64 * 1024;
            o.message_memory_max = 4096;
            o.max_buffered = 8192;
            o.message_timeout_ms = 2000;
            o.idle_timeout_ms = 3000;
        }
        wsc_error err;
        servers[i] = wsc_server_new(loop, &o, &err);
        CHECK(servers[i]);
    }
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7 + (i >> 5));
    atexit(cleanup);
}

/* --- the peer -------------------------------------------------------------- */

static int turn(void) { return wsc_loop_run_once(loop, 0); }

/* Reads and drops what wsc wrote (so its sends never stall on a full socket). */
static void drain(int fd) {
    uint8_t buf[4096];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

/* Turns the loop until nothing happens for two turns in a row (bounded). */
static void settle(int fd, int max) {
    int idle = 0;
    for (int i = 0; i < max && idle < 2; i++) {
        int n = turn();
        if (fd >= 0) drain(fd);
        idle = n > 0 ? 0 : idle + 1;
    }
}

static void write_all(int fd, const uint8_t *p, size_t n, size_t piece) {
    while (n) {
        size_t k = n < piece ? n : piece;
        ssize_t w = send(fd, p, k, MSG_NOSIGNAL); /* wsc may have closed: no SIGPIPE */
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            settle(fd, 4); /* wsc reads, the socket buffer frees up */
            continue;
        }
        if (w <= 0) return; /* wsc closed its end: the rest is not read */
        p += w, n -= (size_t)w;
        if (piece < 4096) settle(fd, 3);
    }
}

/* Reads the client's request head (it comes at once on a Unix socket);
   returns its length, or 0 if it did not come within a bounded number of
   loop turns. */
static size_t read_head(int fd, char *req, size_t cap) {
    size_t n = 0;
    for (int i = 0; i < 200 && n < cap - 1; i++) {
        turn();
        ssize_t k = read(fd, req + n, cap - 1 - n);
        if (k > 0) {
            n += (size_t)k;
            req[n] = 0;
            if (strstr(req, "\r\n\r\n")) return n;
        } else if (k == 0) {
            return 0;
        }
    }
    return 0;
}

static const char *const client_exts[] = {
    "permessage-deflate",
    "permessage-deflate; server_no_context_takeover",
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; server_max_window_bits=9",
};

/* Ends the connection: the peer's EOF, then timeouts, then the peer closes. */
static void finish(int fd, unsigned opt, int (*done)(void)) {
    settle(fd, 50);
    if (opt & OPT_LATE_EOF) {
        fake_now += 2500; /* past the small message timeout, not the close timeout */
        settle(fd, 20);
    }
    shutdown(fd, SHUT_WR);
    settle(fd, 50);
    for (int i = 0; i < 4 && !done(); i++) {
        fake_now += 6000; /* past the close timeout (5 s by default) */
        settle(fd, 20);
    }
    close(fd);
    settle(-1, 50);
}

static int client_done(void) { return st.closed; }

static void run_client(unsigned opt, unsigned ext, const uint8_t *data, size_t size, size_t piece) {
    char url[200];
    snprintf(url, sizeof url, "ws+unix:%s:/chat", client_sock);
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_ws;
    o.no_deflate = !(opt & OPT_DEFLATE);
    o.deflate_client_no_context_takeover = (opt & OPT_NOCTX) != 0;
    o.deflate_threshold = 8;
    if (opt & OPT_SMALL) {
        o.max_message_size = 1000;
        o.max_buffered = 8192;
    }
    if (opt & OPT_FRAGMENT) o.fragment_size = 5;
    wsc_error err;
    wsc_ws *ws = wsc_ws_new(loop, url, &o, &err);
    CHECK(ws);
    st.ws = ws;
    CHECK(wsc_ws_add_listener(ws, WSC_WS_PING, on_ws, NULL) >= 0);
    CHECK(wsc_ws_add_listener(ws, WSC_WS_PONG, on_ws, NULL) >= 0);
    int fd = -1;
    for (int i = 0; i < 200 && fd < 0; i++) {
        turn();
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    CHECK(fd >= 0);
    char req[8192];
    CHECK(read_head(fd, req, sizeof req));
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    CHECK(k);
    char accept[29];
    CHECK(wsc_handshake_accept(k + 19, 24, accept) == WSC_OK);
    char resp[512];
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                      accept, (opt & OPT_DEFLATE) ? "Sec-WebSocket-Extensions: " : "",
                      (opt & OPT_DEFLATE) ? client_exts[ext % 4] : "", (opt & OPT_DEFLATE) ? "\r\n" : "");
    CHECK(rl > 0 && (size_t)rl < sizeof resp);
    write_all(fd, (const uint8_t *)resp, (size_t)rl, 4096);
    settle(fd, 20);
    write_all(fd, data, size, piece);
    finish(fd, opt, client_done);
    if (!st.freed) wsc_ws_free(ws);
    settle(-1, 5);
}

static size_t srv_index;
static int server_done(void) { return wsc_server_connections(servers[srv_index]) == 0; }

static void run_server(unsigned opt, unsigned ext, const uint8_t *data, size_t size, size_t piece) {
    srv_index = ((opt & OPT_SMALL) ? 1 : 0) | ((opt & OPT_NOCTX) ? 2 : 0);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(fd >= 0);
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, server_sock[srv_index], strlen(server_sock[srv_index]) + 1);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    static const char *const offers[] = {
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate",
        "permessage-deflate; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
    };
    char req[512];
    int rl = snprintf(req, sizeof req,
                      "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                      (opt & OPT_DEFLATE) ? "Sec-WebSocket-Extensions: " : "",
                      (opt & OPT_DEFLATE) ? offers[ext % 4] : "", (opt & OPT_DEFLATE) ? "\r\n" : "");
    CHECK(rl > 0 && (size_t)rl < sizeof req);
    write_all(fd, (const uint8_t *)req, (size_t)rl, 4096);
    /* The server accepts, reads the request and answers 101. */
    settle(fd, 20);
    write_all(fd, data, size, piece);
    finish(fd, opt, server_done);
    CHECK(server_done());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    if (!loop) setup();
    unsigned opt = data[0], ext = data[2];
    static const size_t pieces[4] = {1u << 20, 1, 7, 61};
    size_t piece = pieces[(opt & OPT_CHUNKS) >> 3];
    memset(&st, 0, sizeof st);
    st.react = data[1];
    if (opt & OPT_SERVER) run_server(opt, ext, data + 3, size - 3, piece);
    else run_client(opt, ext, data + 3, size - 3, piece);
    return 0;
}
