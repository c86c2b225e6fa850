/* test_client_scripted.c - the reconnecting client's decisions and timers
 * (client.h) against a scripted server, with the injected clock.
 *
 * These used to run against script_server.py on wall-clock time
 * (timeout_ms = 10, ping_timeout_ms = 100, "run 100 ms: nothing more may
 * happen"). Here the test is the server (scripted_peer.h): each connection
 * attempt is one step of a table (refuse with an HTTP status, open and
 * close with a code, open and stay silent), and every delay is checked to
 * the millisecond: at deadline - 1 no new attempt reaches the listening
 * socket, at the deadline it does. "Nothing more happens" is checked by
 * moving the clock a long way and seeing no attempt, not by waiting. */
#define _DEFAULT_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripted_peer.h"
#include "wsc/client.h"

/* What the client reported, in order, with the (fake) time of each. */
enum { NREC = 128 }; /* reconnects and closes kept (test_queue_100_drops has 100) */
typedef struct {
    int n[8];
    int seq[64];
    int nseq;
    unsigned attempt[NREC], delay[NREC];
    int nrec;
    unsigned code[NREC];
    int will_reconnect[NREC];
    uint64_t close_at[NREC];
    int ncl;
    int error[16];
    char error_msg[16][256];
    int nerr;
    unsigned maximum_attempt;
    int send_on_close; /* queue this many messages at each reconnecting close */
    int next_seq;      /* the next message's number ("m00000", ...) */
} crec;

/* n text messages "m%05d", numbered on from r->next_seq. */
static void queue_some(wsc_client *c, crec *r, int n) {
    for (int i = 0; i < n; i++) {
        char m[32];
        int len = snprintf(m, sizeof m, "m%05d", r->next_seq++);
        assert_int_equal(wsc_client_send_text(c, m, (size_t)len), WSC_OK);
    }
}

static void on_cev(wsc_client *c, const wsc_client_event *ev, void *user) {
    crec *r = user;
    r->n[ev->type]++;
    if (r->nseq < 64) r->seq[r->nseq++] = ev->type;
    switch (ev->type) {
    case WSC_CLIENT_RECONNECT:
        if (r->nrec < NREC) {
            r->attempt[r->nrec] = ev->attempt;
            r->delay[r->nrec] = ev->delay_ms;
            r->nrec++;
        }
        break;
    case WSC_CLIENT_CLOSE:
        if (r->ncl < NREC) {
            r->code[r->ncl] = ev->code;
            r->will_reconnect[r->ncl] = ev->will_reconnect;
            r->close_at[r->ncl] = tu_fake_now;
            r->ncl++;
        }
        if (ev->will_reconnect && r->send_on_close) {
            /* Not OPEN now: these wait in the queue for the next connection. */
            assert_int_equal(wsc_client_is_connecting(c), 1);
            queue_some(c, r, r->send_on_close);
        }
        break;
    case WSC_CLIENT_ERROR:
        if (r->nerr < 16) {
            r->error[r->nerr] = ev->error;
            snprintf(r->error_msg[r->nerr], sizeof r->error_msg[0], "%s", ev->message ? ev->message : "");
            r->nerr++;
        }
        break;
    case WSC_CLIENT_MAXIMUM: r->maximum_attempt = ev->attempt; break;
    }
}

enum { DELAY = 250 }; /* timeout_ms: the delay before each reconnect */

typedef struct {
    tu_sp p;
    crec r;
    wsc_client *c;
} cenv;

/* The scripted server listening, and a client created with these options
   (the recorder and the delay added). The first attempt is not accepted. */
static void cstart(cenv *e, wsc_client_options *o) {
    memset(e, 0, sizeof *e);
    tu_sp_init(&e->p);
    tu_sp_listen(&e->p);
    char url[300];
    snprintf(url, sizeof url, "ws+unix:%s:/feed", e->p.sock);
    o->on_open = o->on_message = o->on_error = o->on_close = o->on_reconnect = o->on_maximum = on_cev;
    o->user = &e->r;
    o->no_store = 1;
    if (!o->timeout_ms) o->timeout_ms = DELAY;
    if (!o->ping_interval_ms) o->no_heartbeat = 1;
    wsc_error err;
    e->c = wsc_client_new(e->p.loop, url, o, &err);
    assert_non_null(e->c);
}

static void cstop(cenv *e) {
    wsc_client_free(e->c);
    tu_sp_fini(&e->p);
}

/* Accepts the client's connection, reads its request head, answers with
   `resp` (a refusal) and hangs up; returns once the client reported it
   (its first error is WSC_EHTTP). */
static void refuse_with(cenv *e, const char *resp) {
    tu_sp_accept(&e->p);
    char req[4096];
    size_t n = 0;
    while (n < 4 || memcmp(req + n - 4, "\r\n\r\n", 4)) {
        assert_true(n < sizeof req - 1);
        tu_sp_read(&e->p, req + n++, 1);
    }
    tu_sp_write(&e->p, resp, strlen(resp));
    tu_sp_hangup(&e->p);
    tu_sp_until(&e->p, &e->r.nerr, 1);
    assert_int_equal(e->r.error[0], WSC_EHTTP);
}

/* No connection attempt is waiting at the listening socket. */
static void no_attempt(cenv *e) {
    tu_sp_turns(&e->p, 3);
    struct pollfd q = {e->p.lfd, POLLIN, 0};
    assert_int_equal(poll(&q, 1, 0), 0);
}

/* The clock moves a long way (an hour): no timer may start an attempt. */
static void nothing_more(cenv *e) {
    tu_fake_now += 3600 * 1000;
    no_attempt(e);
    tu_fake_now += 3600 * 1000;
    no_attempt(e);
}

/* One connection attempt's script: refuse with `http`, or accept and close
   with `close` (0: a Close with no status), or accept and stay open. */
typedef struct {
    int http;
    unsigned close;
} step;

static void open_conn(cenv *e) {
    int opens = e->r.n[WSC_CLIENT_OPEN];
    char req[4096];
    tu_sp_upgrade(&e->p, "/feed", req, sizeof req);
    tu_sp_until(&e->p, &e->r.n[WSC_CLIENT_OPEN], opens + 1);
}

/* The server closes: its Close, the client's echo, then TCP. */
static void server_close(cenv *e, unsigned code) {
    uint8_t pl[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    tu_sp_server_frame(&e->p, 0x88, pl, code ? 2 : 0);
    uint8_t echo[125];
    size_t n = tu_sp_client_frame(&e->p, 0x8, echo, sizeof echo);
    assert_int_equal(n, code ? 2 : 0);
    tu_sp_hangup(&e->p);
}

/* Accepts the next attempt and plays one step; returns when the client has
   reported the close (or the open, for a step that stays open). */
static void play(cenv *e, step s) {
    int closes = e->r.ncl;
    tu_sp_accept(&e->p);
    if (s.http) {
        tu_sp_refuse(&e->p, s.http);
    } else {
        open_conn(e);
        if (s.close == (unsigned)-1) return; /* stays open */
        server_close(e, s.close);
    }
    tu_sp_until(&e->p, &e->r.ncl, closes + 1);
}

/* After close number k (0-based) the client waits exactly `delay` ms:
   nothing at delay - 1, the "reconnect" event and the attempt at delay. */
static void reconnect_after(cenv *e, int k, unsigned delay) {
    int recs = e->r.nrec;
    uint64_t t = e->r.close_at[k];
    tu_fake_now = t + delay - 1;
    no_attempt(e);
    assert_int_equal(e->r.nrec, recs);
    tu_fake_now = t + delay;
    tu_sp_turn(&e->p);
    assert_int_equal(e->r.nrec, recs + 1);
    assert_int_equal(e->r.delay[recs], delay);
}

/* max_attempts N: the first attempt and N reconnects, each refused (503)
   after exactly timeout_ms, then "maximum" and nothing more; connect()
   starts again with a fresh count. */
static void test_max_attempts(void **state) {
    (void)state;
    for (unsigned max = 1; max <= 3; max++) {
        cenv e;
        wsc_client_options o = {0};
        o.max_attempts = max;
        cstart(&e, &o);
        assert_true(wsc_client_is_connecting(e.c));
        for (unsigned i = 0; i <= max; i++) {
            play(&e, (step){503, 0});
            assert_int_equal(e.r.error[i], WSC_EHTTP);
            if (i < max) {
                assert_int_equal(e.r.will_reconnect[i], 1);
                reconnect_after(&e, (int)i, DELAY);
                assert_int_equal(e.r.attempt[i], i + 1);
            }
        }
        tu_sp_until(&e.p, &e.r.n[WSC_CLIENT_MAXIMUM], 1);
        nothing_more(&e);
        assert_int_equal(e.r.n[WSC_CLIENT_MAXIMUM], 1);
        assert_int_equal(e.r.maximum_attempt, max);
        assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], (int)max);
        assert_int_equal(e.r.n[WSC_CLIENT_OPEN], 0);
        assert_int_equal(e.r.n[WSC_CLIENT_CLOSE], (int)max + 1);
        /* order: (error, close, reconnect) x max, then error, close, maximum */
        int k = 0;
        for (unsigned i = 0; i <= max; i++) {
            assert_int_equal(e.r.seq[k++], WSC_CLIENT_ERROR);
            assert_int_equal(e.r.seq[k++], WSC_CLIENT_CLOSE);
            assert_int_equal(e.r.seq[k++], i < max ? WSC_CLIENT_RECONNECT : WSC_CLIENT_MAXIMUM);
        }
        assert_int_equal(e.r.nseq, k);
        assert_int_equal(e.r.will_reconnect[max], 0);
        assert_true(wsc_client_is_closed(e.c));
        assert_null(wsc_client_socket(e.c));
        /* connect() starts it again, at once, with a fresh count */
        assert_int_equal(wsc_client_connect(e.c), WSC_OK);
        assert_true(wsc_client_is_connecting(e.c));
        tu_sp_accept(&e.p);
        open_conn(&e);
        assert_int_equal(wsc_client_attempts(e.c), 0);
        cstop(&e);
    }
}

/* A successful open resets the count of consecutive failures:
   503 503 open(4001) 503 open(4002) 503 503 -> maximum with max_attempts 2
   (without the reset the count would reach 2 already at the fourth). */
static void test_attempts_reset_on_open(void **state) {
    (void)state;
    const step script[] = {{503, 0}, {503, 0}, {0, 4001}, {503, 0}, {0, 4002}, {503, 0}, {503, 0}};
    const unsigned want[] = {1, 2, 1, 2, 1, 2};
    cenv e;
    wsc_client_options o = {0};
    o.max_attempts = 2;
    cstart(&e, &o);
    for (int i = 0; i < 7; i++) {
        play(&e, script[i]);
        if (i < 6) {
            reconnect_after(&e, i, DELAY);
            assert_int_equal(e.r.attempt[i], want[i]);
        }
    }
    tu_sp_until(&e.p, &e.r.n[WSC_CLIENT_MAXIMUM], 1);
    nothing_more(&e);
    assert_int_equal(e.r.n[WSC_CLIENT_OPEN], 2);
    assert_int_equal(e.r.nrec, 6);
    assert_int_equal(e.r.maximum_attempt, 2);
    cstop(&e);
}

/* No reconnect after 1000 and 1005 from the server; a reconnect after
   exactly timeout_ms after the others, 1001 included (client.h's table). */
static void test_no_reconnect_codes(void **state) {
    (void)state;
    static const struct {
        unsigned sent, seen;
        int reconnects;
    } t[] = {{1000, 1000, 0}, {1001, 1001, 1}, {0, 1005, 0},    {4001, 4001, 1},
             {1011, 1011, 1}, {1012, 1012, 1}, {1013, 1013, 1}, {1014, 1014, 1}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        cenv e;
        wsc_client_options o = {0};
        cstart(&e, &o);
        play(&e, (step){0, t[i].sent});
        assert_int_equal(e.r.code[0], t[i].seen);
        assert_int_equal(e.r.will_reconnect[0], t[i].reconnects);
        if (t[i].reconnects) {
            reconnect_after(&e, 0, DELAY);
            tu_sp_accept(&e.p);
            open_conn(&e);
            assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], 1);
            assert_true(wsc_client_is_connected(e.c));
        } else {
            nothing_more(&e);
            assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], 0);
            assert_true(wsc_client_is_closed(e.c));
        }
        cstop(&e);
    }
}

/* Refusals that cannot heal are final (403, 404, 301); 408, 429 and 5xx
   are retried after exactly timeout_ms. */
static void test_final_failures(void **state) {
    (void)state;
    static const struct {
        int status, final;
    } t[] = {{403, 1}, {404, 1}, {301, 1}, {429, 0}, {408, 0}, {500, 0}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        cenv e;
        wsc_client_options o = {0};
        cstart(&e, &o);
        play(&e, (step){t[i].status, 0});
        assert_int_equal(e.r.error[0], WSC_EHTTP);
        assert_int_equal(e.r.will_reconnect[0], !t[i].final);
        if (t[i].final) {
            nothing_more(&e);
            assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], 0);
            assert_int_equal(e.r.n[WSC_CLIENT_MAXIMUM], 0);
            assert_true(wsc_client_is_closed(e.c));
        } else {
            reconnect_after(&e, 0, DELAY);
            tu_sp_accept(&e.p);
            open_conn(&e);
            assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], 1);
        }
        cstop(&e);
    }
}

/* A server that quotes the token in its status reason, the one it was sent
   or the one its Set-Cookie sets in the same refusal, does not get it into
   the error text (client.h; found by fuzz/fuzz_client_token): masked. */
static void test_token_masked_in_errors(void **state) {
    (void)state;
    static const char *const resp[2] = {
        "HTTP/1.1 403 bad token T0kenInStatusXyz1\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 403 bad token N3wTokenFromSrv9\r\nSet-Cookie: csrf_token=N3wTokenFromSrv9\r\n"
        "Content-Length: 0\r\n\r\n",
    };
    for (int i = 0; i < 2; i++) {
        cenv e;
        wsc_client_options o = {0};
        o.token = "T0kenInStatusXyz1";
        o.no_reconnect = 1;
        cstart(&e, &o);
        refuse_with(&e, resp[i]);
        assert_null(strstr(e.r.error_msg[0], "T0kenInStatusXyz1"));
        assert_null(strstr(e.r.error_msg[0], "N3wTokenFromSrv9"));
        assert_non_null(strstr(e.r.error_msg[0], "bad token ***"));
        assert_string_equal(wsc_client_csrf(e.c), i ? "N3wTokenFromSrv9" : "T0kenInStatusXyz1");
        cstop(&e);
    }
}

/* The token percent-encoded in what the server quotes (a reflected request
   URL, re-encoded with lower-case hex) is masked
   too; a text merely sharing a prefix with the token is kept. */
static void test_token_masked_encoded(void **state) {
    (void)state;
    static const char resp[] = "HTTP/1.1 403 no /x?csrf=T0k%2ben%2fXyz%3D1 (not T0k%2be)\r\n"
                               "Content-Length: 0\r\n\r\n";
    cenv e;
    wsc_client_options o = {0};
    o.token = "T0k+en/Xyz=1";
    o.no_reconnect = 1;
    cstart(&e, &o);
    refuse_with(&e, resp);
    assert_null(strstr(e.r.error_msg[0], "en%2f"));
    assert_non_null(strstr(e.r.error_msg[0], "csrf=*** (not T0k%2be)"));
    cstop(&e);
}

/* close() by the application: the close handshake, no reconnect however
   long the clock runs; reconnect() brings it back; reconnect() while open
   drops the connection and opens a new one, with a "reconnect" event. */
static void test_app_close_stops(void **state) {
    (void)state;
    cenv e;
    wsc_client_options o = {0};
    cstart(&e, &o);
    play(&e, (step){0, (unsigned)-1});
    assert_true(wsc_client_is_connected(e.c));
    assert_non_null(wsc_client_socket(e.c));
    assert_int_equal(wsc_client_close(e.c, 1001, NULL), WSC_EINVAL); /* browser rule */
    assert_int_equal(wsc_client_close(e.c, 4000, "bye"), WSC_OK);
    assert_true(wsc_client_is_closing(e.c));
    assert_int_equal(wsc_client_send_text(e.c, "x", 1), WSC_ECLOSED);
    uint8_t pl[125];
    assert_int_equal(tu_sp_client_frame(&e.p, 0x8, pl, sizeof pl), 5);
    assert_memory_equal(pl, "\x0f\xa0" "bye", 5);
    tu_sp_server_frame(&e.p, 0x88, pl, 5);
    tu_sp_hangup(&e.p);
    tu_sp_until(&e.p, &e.r.ncl, 1);
    nothing_more(&e);
    assert_int_equal(e.r.code[0], 4000);
    assert_int_equal(e.r.will_reconnect[0], 0);
    assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], 0);
    assert_true(wsc_client_is_closed(e.c));
    /* reconnect() brings it back */
    assert_int_equal(wsc_client_reconnect(e.c), WSC_OK);
    tu_sp_accept(&e.p);
    open_conn(&e);
    /* reconnect() while open: closes (1000 "reconnect") and reopens at
       once, firing "reconnect" */
    assert_int_equal(wsc_client_reconnect(e.c), WSC_OK);
    assert_int_equal(tu_sp_client_frame(&e.p, 0x8, pl, sizeof pl), 11);
    assert_memory_equal(pl, "\x03\xe8" "reconnect", 11);
    tu_sp_server_frame(&e.p, 0x88, pl, 2);
    tu_sp_hangup(&e.p);
    tu_sp_accept(&e.p);
    open_conn(&e);
    assert_int_equal(e.r.n[WSC_CLIENT_OPEN], 3);
    assert_int_equal(e.r.n[WSC_CLIENT_RECONNECT], 1);
    assert_int_equal(e.r.attempt[0], 1);
    cstop(&e);
}

/* The heartbeat against a dead peer: a Ping every ping_interval_ms, no
   Pong within ping_timeout_ms, so the connection is dropped (1006,
   ETIMEDOUT "no pong") at that exact millisecond and reopened after
   timeout_ms; on the new connection every Ping is answered: it stays open
   through many intervals. */
static void test_heartbeat_dead_peer(void **state) {
    (void)state;
    cenv e;
    wsc_client_options o = {0};
    o.ping_interval_ms = 1000;
    o.ping_timeout_ms = 400;
    cstart(&e, &o);
    play(&e, (step){0, (unsigned)-1});
    uint64_t t0 = tu_fake_now;
    uint8_t pl[125];
    tu_fake_now = t0 + 1000;
    tu_sp_turn(&e.p);
    tu_sp_client_frame(&e.p, 0x9, pl, sizeof pl); /* not answered */
    tu_fake_now = t0 + 1399;
    tu_sp_turns(&e.p, 3);
    assert_int_equal(e.r.ncl, 0);
    tu_fake_now = t0 + 1400;
    tu_sp_until(&e.p, &e.r.ncl, 1);
    assert_int_equal(e.r.close_at[0], t0 + 1400);
    assert_int_equal(e.r.code[0], 1006);
    assert_int_equal(e.r.will_reconnect[0], 1);
    int found = 0;
    for (int i = 0; i < e.r.nerr; i++)
        if (e.r.error[i] == WSC_ETIMEDOUT && strstr(e.r.error_msg[i], "no pong")) found = 1;
    assert_true(found);
    reconnect_after(&e, 0, DELAY);
    tu_sp_accept(&e.p);
    open_conn(&e);
    uint64_t t1 = tu_fake_now;
    for (int i = 1; i <= 5; i++) {
        tu_fake_now = t1 + 1000u * (unsigned)i;
        tu_sp_turn(&e.p);
        size_t n = tu_sp_client_frame(&e.p, 0x9, pl, sizeof pl);
        tu_sp_server_frame(&e.p, 0x8a, pl, n); /* the Pong */
        tu_sp_turns(&e.p, 3);
    }
    assert_int_equal(e.r.ncl, 1);
    assert_int_equal(e.r.n[WSC_CLIENT_OPEN], 2);
    assert_true(wsc_client_is_connected(e.c));
    cstop(&e);
}

/* The jitter, pinned: src/io/random.c's test hook hands out these values
   for the 4-byte draws (the jitter; no frame is masked on a refused
   attempt) and 0x5a for the rest (the handshake key). With timeout_ms 250
   and jitter_pct 20 the delay is 200 + r % 101: 200, 300, 237 - the ends of
   the range and a point inside, each waited to the millisecond. */
extern int (*wsc__test_random)(void *buf, size_t len);
static const uint32_t jitter_draws[] = {0, 100, 37 + 101 * 1000};
static int njitter;
static int pinned_random(void *buf, size_t len) {
    if (len == sizeof(uint32_t) && njitter < 3) {
        memcpy(buf, &jitter_draws[njitter++], len);
        return 0;
    }
    memset(buf, 0x5a, len);
    return 0;
}

static void test_jitter_pinned(void **state) {
    (void)state;
    wsc__test_random = pinned_random;
    njitter = 0;
    const unsigned want[] = {200, 300, 237};
    cenv e;
    wsc_client_options o = {0};
    o.jitter_pct = 20;
    o.max_attempts = 3;
    cstart(&e, &o);
    for (int i = 0; i < 3; i++) {
        play(&e, (step){503, 0});
        reconnect_after(&e, i, want[i]);
        assert_int_equal(e.r.attempt[i], (unsigned)i + 1);
    }
    assert_int_equal(njitter, 3);
    play(&e, (step){503, 0});
    tu_sp_until(&e.p, &e.r.n[WSC_CLIENT_MAXIMUM], 1);
    cstop(&e);
    wsc__test_random = NULL;
}

/* 100 drops (TCP gone, no Close): every message queued while reconnecting
   arrives on the next connection, in order, exactly once. Each connection
   carries the 3 messages queued at the previous close and one confirmation
   Ping for them ("wsc-ack 3", delivery.h), which the server answers before
   it hangs up; each reconnect comes exactly timeout_ms after the drop. */
static void test_queue_100_drops(void **state) {
    (void)state;
    cenv e;
    wsc_client_options o = {0};
    cstart(&e, &o);
    e.r.send_on_close = 3;
    queue_some(e.c, &e.r, 3); /* before the first open: queued */
    assert_int_equal(wsc_client_queued(e.c), 3);
    assert_int_equal(wsc_client_buffered_amount(e.c), 18); /* queued bytes count */
    int got = 0;
    for (int conn = 0; conn <= 100; conn++) {
        tu_sp_accept(&e.p);
        open_conn(&e);
        for (int k = 0; k < 3; k++, got++) {
            uint8_t m[125];
            char want[16];
            snprintf(want, sizeof want, "m%05d", got);
            assert_int_equal(tu_sp_client_frame(&e.p, 0x1, m, sizeof m), 6);
            assert_memory_equal(m, want, 6);
        }
        uint8_t ack[125];
        size_t n = tu_sp_client_frame(&e.p, 0x9, ack, sizeof ack);
        assert_int_equal(n, 9);
        assert_memory_equal(ack, "wsc-ack 3", 9);
        tu_sp_server_frame(&e.p, 0x8A, ack, n);
        if (conn == 100) break; /* the last one stays open */
        tu_sp_hangup(&e.p);
        tu_sp_until(&e.p, &e.r.ncl, conn + 1);
        assert_int_equal(e.r.code[conn], 1006);
        assert_int_equal(e.r.will_reconnect[conn], 1);
        reconnect_after(&e, conn, DELAY);
    }
    tu_sp_turns(&e.p, 3); /* the last Pong confirms the last three */
    assert_int_equal(e.r.n[WSC_CLIENT_OPEN], 101);
    assert_int_equal(got, 303);
    assert_int_equal(e.r.next_seq, 303);
    assert_int_equal(e.r.n[WSC_CLIENT_UNCONFIRMED], 0); /* every Pong confirmed its batch */
    assert_int_equal(wsc_client_queued(e.c), 0);
    assert_int_equal(wsc_client_buffered_amount(e.c), 0);
    tu_sp_silent(&e.p); /* nothing sent twice */
    cstop(&e);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_masked_in_errors), cmocka_unit_test(test_token_masked_encoded),
        cmocka_unit_test(test_max_attempts),        cmocka_unit_test(test_attempts_reset_on_open),
        cmocka_unit_test(test_no_reconnect_codes),  cmocka_unit_test(test_final_failures),
        cmocka_unit_test(test_app_close_stops),     cmocka_unit_test(test_heartbeat_dead_peer),
        cmocka_unit_test(test_jitter_pinned),       cmocka_unit_test(test_queue_100_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
