/* fuzz_delivery.c - reconnection and confirmed delivery (client.c,
 * client_send.c, delivery.c, reconnect.c) through the public API, across
 * drops: "nothing lost silently" as a property checked on every input.
 *
 * The harness is the server, on 127.0.0.1, on a loop with an injected clock
 * (fuzz_peer.h): deterministic, no wall-clock wait. A wsc_client with
 * reconnection (timeout_ms 200, max_attempts from byte 0) sends text
 * messages "m<seq>"; the harness accepts or refuses its handshakes, reads
 * (or does not read) what it wrote, answers its "wsc-ack" Pings (or not),
 * drops connections, closes them (1000 or 1001) and moves the clock, in the
 * order the input says. The heartbeat is off unless byte 0 turns it on
 * (then a Pong answers whichever Ping came last, its or delivery's).
 *
 * Sent messages are kept by reference to their frames, or as copies when
 * byte 0 has both D_SMALLQ and D_NOQUEUE (deflate offered: frames not
 * plain).
 *
 * Input: byte 0 flags (below); then one operation per byte, the low 3 bits
 * the operation, the high 5 an argument (0..31):
 *   0 send arg+1 messages        4 advance the clock by (arg+1) x 100 ms
 *   1 read what was written      5 read, then send Close 1000 or 1001
 *   2 read, answer the Pings     6 wsc_client_close(1000) (the app stops)
 *   3 drop the connection (read first if arg & 1; refuse the next
 *     handshake with 503 if arg & 2)      7 wsc_client_reconnect()
 * At the end the application closes the client and the harness completes
 * whatever closing handshake there is.
 *
 * Checks:
 *  - every message accepted by a send (seq = wsc_client_last_seq()) was
 *    read by the server, or reported: an UNCONFIRMED event (at-most-once)
 *    or the error event WSC_ECLOSED naming it (seq..seq_last, count), and
 *    never both unread and unreported;
 *  - the server reads nothing the application did not send, as it was sent
 *    ("m<seq>"), and on each connection in increasing order;
 *  - at-most-once: nothing is read twice, no RESENT event; at-least-once:
 *    no UNCONFIRMED event; UNCONFIRMED events carry the message's bytes;
 *  - the client's totals agree: confirmed <= messages read, unconfirmed
 *    total = UNCONFIRMED events, resent total = RESENT counts; nothing is
 *    left queued, unconfirmed or buffered once it is closed;
 *  - no descriptor is left open after the client is freed.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/client.h"
#include "wsc/http.h"

#include "fuzz_peer.h"

/* byte 0 */
#define D_AT_LEAST 0x01u /* WSC_DELIVERY_AT_LEAST_ONCE (else at-most-once) */
#define D_SMALLQ 0x02u   /* queue_max_messages 8 */
#define D_MAX 0x0Cu      /* max_attempts: 0 (unlimited), 1, 2, 4 */
#define D_NOQUEUE 0x10u  /* no_queue: sends while not OPEN fail */
#define D_BACKOFF 0x20u  /* backoff (doubling from 200 ms, capped at 1600 ms) */
#define D_HEART 0x40u    /* the heartbeat on: a Ping every 500 ms, dead after 500 ms more */
#define D_JSON 0x80u     /* JSON text: send_json_text of {"m":<seq>} (odd seq:
                            {"csrf":"old","m":<seq>}) with the token "T", so
                            "{"m":<seq>,"csrf":"T"}" on the wire (kept by
                            reference to its frame, spliced from pieces) */

#define MAX_SEQ 4096

static int json_mode; /* D_JSON for this input */

/* The text message seq as the server must read it (and UNCONFIRMED must
   hand back). */
static int wire_text(char *out, size_t cap, uint64_t seq) {
    return json_mode ? snprintf(out, cap, "{\"m\":%llu,\"csrf\":\"T\"}", (unsigned long long)seq)
                     : snprintf(out, cap, "m%llu", (unsigned long long)seq);
}

static int lfd = -1;
static uint16_t port;
static int fds_at_start; /* open descriptors before the first input */

/* Open descriptors among the first 256 (the harness's and the library's all are). */
static int open_fds(void) {
    int n = 0;
    for (int fd = 0; fd < 256; fd++) n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static struct {
    uint8_t sent[MAX_SEQ + 1];     /* accepted by a send */
    uint16_t read[MAX_SEQ + 1];    /* read by the server (complete frames) */
    uint8_t unconf[MAX_SEQ + 1];   /* in an UNCONFIRMED event */
    uint8_t discard[MAX_SEQ + 1];  /* in a WSC_ECLOSED error's range */
    uint64_t last_seq, n_unconf, n_resent, n_read;
} st;

/* The server's side of the current connection. */
static struct {
    int fd;          /* -1: none */
    int refuse_next; /* the next handshake gets 503 */
    int close_sent;  /* the server sent its Close */
    uint64_t last;   /* the last seq read on this connection */
    uint8_t buf[1 << 16];
    size_t len;
    char ping[126];  /* the last Ping's payload, unanswered */
    size_t ping_len;
    int ping_pending;
} sv;

static void cleanup(void) {
    if (lfd >= 0) close(lfd);
    wsc_loop_run_once(fp_loop, 0);
    wsc_loop_free(fp_loop);
}

static void setup(void) {
    fp_loop_new();
    lfd = fp_listen_loopback(8, &port);
    atexit(cleanup);
    fds_at_start = open_fds();
}

static void on_ev(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)user;
    switch (ev->type) {
    case WSC_CLIENT_UNCONFIRMED: {
        CHECK(ev->seq >= 1 && ev->seq <= st.last_seq && ev->count == 1);
        CHECK(st.sent[ev->seq] && !st.unconf[ev->seq]);
        char want[48];
        int n = wire_text(want, sizeof want, ev->seq);
        CHECK(ev->len == (size_t)n && !memcmp(ev->data, want, (size_t)n) && !ev->binary);
        st.unconf[ev->seq] = 1;
        st.n_unconf++;
        break;
    }
    case WSC_CLIENT_RESENT:
        CHECK(ev->count >= 1 && ev->seq >= 1 && ev->seq_last <= st.last_seq);
        CHECK(ev->seq_last - ev->seq + 1 == ev->count);
        st.n_resent += ev->count;
        break;
    case WSC_CLIENT_ERROR:
        if (ev->error == WSC_ECLOSED && ev->count) {
            CHECK(ev->seq >= 1 && ev->seq_last <= st.last_seq && ev->seq_last - ev->seq + 1 == ev->count);
            for (uint64_t s = ev->seq; s <= ev->seq_last; s++) {
                CHECK(st.sent[s] && !st.discard[s]);
                st.discard[s] = 1;
            }
        }
        break;
    default: break;
    }
}

static void sv_drop(void) {
    if (sv.fd >= 0) close(sv.fd);
    sv.fd = -1;
    sv.len = 0;
    sv.last = 0;
    sv.close_sent = 0;
    sv.ping_pending = 0;
}

static void sv_write(const void *p, size_t n) {
    if (sv.fd >= 0) fp_write(sv.fd, p, n, 1u << 20);
}

/* A server frame (unmasked, payload <= 125). */
static void sv_frame(uint8_t b0, const void *payload, size_t n) {
    uint8_t f[2 + 125];
    CHECK(n <= 125);
    f[0] = b0;
    f[1] = (uint8_t)n;
    memcpy(f + 2, payload, n);
    sv_write(f, 2 + n);
}

/* Accepts a connection the client made, reads its request and answers. */
static void sv_accept(void) {
    if (sv.fd >= 0) return;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) return;
    sv.fd = fd;
    char req[8192];
    (void)fp_read_head(fd, req, sizeof req);
    const char *key = strstr(req, "Sec-WebSocket-Key: ");
    if (!key || !strstr(req, "\r\n\r\n")) { /* the client gave up on it */
        sv_drop();
        return;
    }
    if (sv.refuse_next) {
        sv.refuse_next = 0;
        static const char no[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        sv_write(no, sizeof no - 1);
        sv_drop();
        return;
    }
    char accept[29], head[256];
    CHECK(wsc_handshake_accept(key + 19, 24, accept) == WSC_OK);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n",
                      accept);
    sv_write(head, (size_t)hl);
}

/* One complete client frame from sv.buf, or 0. */
static size_t sv_parse(void) {
    const uint8_t *b = sv.buf;
    if (sv.len < 2) return 0;
    CHECK(b[1] & 0x80); /* client frames are masked */
    const size_t n = b[1] & 0x7F, h = 2;
    CHECK(n <= 125); /* our messages, Pings and Closes are small: no extended length */
    if (sv.len < h + 4 + n) return 0;
    uint8_t p[126];
    for (size_t i = 0; i < n; i++) p[i] = b[h + 4 + i] ^ b[h + (i & 3)];
    unsigned op = b[0] & 0x0F;
    CHECK(b[0] & 0x80); /* nothing here is fragmented */
    if (op == 1) {
        const char *pre = json_mode ? "{\"m\":" : "m";
        size_t pl = strlen(pre), i = pl;
        CHECK(n > pl && !memcmp(p, pre, pl));
        uint64_t s = 0;
        for (; i < n && p[i] >= '0' && p[i] <= '9' && i < pl + 8; i++) s = s * 10 + (uint64_t)(p[i] - '0');
        CHECK(s >= 1 && s <= st.last_seq && st.sent[s]);
        char want[48];
        CHECK((size_t)wire_text(want, sizeof want, s) == n && !memcmp(p, want, n)); /* exactly as sent */
        CHECK(s > sv.last); /* in order on each connection */
        sv.last = s;
        st.read[s]++;
        st.n_read++;
    } else if (op == 9) {
        memcpy(sv.ping, p, n);
        sv.ping_len = n;
        sv.ping_pending = 1;
    } else if (op == 8) {
        if (!sv.close_sent) sv_frame(0x88, p, n < 2 ? n : 2);
        sv_drop(); /* the closing handshake is done: the server closes */
        return 0;
    } else {
        CHECK(0 && "unexpected opcode");
    }
    return h + 4 + n;
}

/* Reads what the client wrote and handles every complete frame. */
static void sv_read(void) {
    for (int round = 0; round < 64 && sv.fd >= 0; round++) {
        ssize_t k = read(sv.fd, sv.buf + sv.len, sizeof sv.buf - sv.len);
        if (k == 0) {
            sv_drop();
            return;
        }
        if (k < 0) return;
        sv.len += (size_t)k;
        size_t used;
        while (sv.fd >= 0 && (used = sv_parse()) > 0) {
            memmove(sv.buf, sv.buf + used, sv.len - used);
            sv.len -= used;
        }
        fp_turn();
    }
}

static void settle(void) {
    for (int i = 0; i < 6; i++) {
        fp_turn();
        sv_accept();
    }
}

static void send_some(wsc_client *c, unsigned n) {
    for (unsigned i = 0; i < n && st.last_seq < MAX_SEQ; i++) {
        char t[48];
        unsigned long long q = (unsigned long long)(st.last_seq + 1);
        int len = !json_mode ? snprintf(t, sizeof t, "m%llu", q)
                  : (q & 1)  ? snprintf(t, sizeof t, "{\"csrf\":\"old\",\"m\":%llu}", q)
                             : snprintf(t, sizeof t, "{\"m\":%llu}", q);
        int rc = json_mode ? wsc_client_send_json_text(c, t, (size_t)len) : wsc_client_send_text(c, t, (size_t)len);
        if (rc == WSC_OK) {
            CHECK(wsc_client_last_seq(c) == st.last_seq + 1);
            st.last_seq++;
            st.sent[st.last_seq] = 1;
        } else {
            CHECK(rc == WSC_EQUEUEFULL || rc == WSC_ESTATE || rc == WSC_ECLOSED);
            CHECK(wsc_client_last_seq(c) == st.last_seq);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 2048) return 0;
    if (!fp_loop) setup();
    memset(&st, 0, sizeof st);
    memset(&sv, 0, sizeof sv);
    sv.fd = -1;
    unsigned f = data[0];
    static const unsigned maxes[4] = {0, 1, 2, 4};

    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/d", (unsigned)port);
    wsc_client_options o;
    memset(&o, 0, sizeof o);
    o.on_open = o.on_message = o.on_error = o.on_close = o.on_reconnect = o.on_maximum = on_ev;
    o.on_unconfirmed = o.on_resent = on_ev;
    o.delivery = (f & D_AT_LEAST) ? WSC_DELIVERY_AT_LEAST_ONCE : WSC_DELIVERY_AT_MOST_ONCE;
    if (f & D_SMALLQ) o.queue_max_messages = 8;
    o.max_attempts = maxes[(f & D_MAX) >> 2];
    o.no_queue = (f & D_NOQUEUE) != 0;
    o.timeout_ms = 200;
    if (f & D_BACKOFF) o.backoff = 1, o.backoff_max_ms = 1600;
    if (f & D_HEART) o.ping_interval_ms = o.ping_timeout_ms = 500;
    else o.no_heartbeat = 1;
    o.no_store = 1;
    o.no_json = 1;
    /* Plain frames, so that sent messages are kept by reference to their
       frames (the hot path), except with both D_SMALLQ and D_NOQUEUE set
       (a small queue means little without one): then deflate is offered
       (the harness refuses it), frames are not plain and every message is
       kept as a copy. */
    o.ws.no_deflate = (f & (D_SMALLQ | D_NOQUEUE)) != (D_SMALLQ | D_NOQUEUE);
    json_mode = (f & D_JSON) != 0;
    if (json_mode) o.token = "T";
    wsc_error err;
    wsc_client *c = wsc_client_new(fp_loop, url, &o, &err);
    CHECK(c);
    settle();

    for (size_t i = 1; i < size; i++) {
        unsigned op = data[i] & 7u, arg = data[i] >> 3;
        switch (op) {
        case 0: send_some(c, arg + 1); break;
        case 1: sv_read(); break;
        case 2:
            sv_read();
            if (sv.fd >= 0 && sv.ping_pending) {
                sv.ping_pending = 0;
                sv_frame(0x8A, sv.ping, sv.ping_len);
            }
            break;
        case 3:
            if (arg & 1) sv_read();
            if (arg & 2) sv.refuse_next = 1;
            sv_drop();
            break;
        case 4: fp_now += (uint64_t)(arg + 1) * 100; break;
        case 5:
            sv_read();
            if (sv.fd >= 0 && !sv.close_sent) {
                uint8_t code[2] = {0x03, (arg & 1) ? 0xE9 : 0xE8}; /* 1001 or 1000 */
                sv_frame(0x88, code, 2);
                sv.close_sent = 1;
            }
            break;
        case 6: (void)wsc_client_close(c, 1000, NULL); break;
        case 7: (void)wsc_client_reconnect(c); break;
        }
        settle();
    }

    /* The end: the application closes; the server completes the closing
       handshake if there is a connection, and time passes until CLOSED. */
    (void)wsc_client_close(c, 1000, NULL);
    for (int i = 0; i < 8 && wsc_client_ready_state(c) != WSC_CLOSED; i++) {
        settle();
        sv_read();
        if (wsc_client_ready_state(c) == WSC_CLOSED) break;
        fp_now += 6000; /* past the close timeout */
        settle();
    }
    settle();
    sv_read();
    CHECK(wsc_client_ready_state(c) == WSC_CLOSED);
    CHECK(wsc_client_queued(c) == 0);
    CHECK(wsc_client_unconfirmed(c) == 0);
    CHECK(wsc_client_buffered_amount(c) == 0);
    uint64_t confirmed = wsc_client_confirmed_total(c);
    CHECK(wsc_client_unconfirmed_total(c) == st.n_unconf);
    CHECK(wsc_client_resent_total(c) == st.n_resent);
    wsc_client_free(c);
    settle();
    sv_drop();
    /* Connections the client made and gave up on, still in the backlog. */
    for (int fd; (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0;) close(fd);
    CHECK(open_fds() == fds_at_start); /* no descriptor left behind, the client's or ours */

    uint64_t distinct = 0, ndiscard = 0;
    for (uint64_t s = 1; s <= st.last_seq; s++) {
        CHECK(st.sent[s]);
        if (st.read[s]) distinct++;
        ndiscard += st.discard[s];
        /* Never lost silently: read by the server, or reported. */
        CHECK(st.read[s] || st.unconf[s] || st.discard[s]);
        if (!(f & D_AT_LEAST)) CHECK(st.read[s] <= 1);
    }
    if (f & D_AT_LEAST) CHECK(st.n_unconf == 0);
    else CHECK(st.n_resent == 0);
    CHECK(confirmed <= distinct);
    if (getenv("WSC_FUZZ_TRACE")) /* what an input did, to read a seed's effect */
        fprintf(stderr, "delivery: sent %llu, read %llu (%llu distinct), confirmed %llu, unconfirmed %llu, "
                        "resent %llu, discarded %llu\n",
                (unsigned long long)st.last_seq, (unsigned long long)st.n_read, (unsigned long long)distinct,
                (unsigned long long)confirmed, (unsigned long long)st.n_unconf, (unsigned long long)st.n_resent,
                (unsigned long long)ndiscard);
    return 0;
}
