/* test_recv_span.c - the core's receive span (src/proto/proto_span.h):
 * payload read straight into the message buffer must give exactly the events
 * wsc_proto_recv() gives for the same stream, at every split point, in both
 * roles (the server unmasks in place), with every limit and failure as the
 * copying path has them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_span.h"
#include "testutil.h"
#include "rx_acct.h"
#include "wsc/proto.h"

/* ---------------- helpers ---------------- */

typedef struct {
    int type;
    unsigned code;
    size_t len;
    uint8_t *data;
} rec_ev;

typedef struct {
    rec_ev ev[32];
    int n;
    int rc;          /* first error, 0 if none */
    size_t spans;    /* span writes made */
    size_t at_error; /* stream bytes handed to the core when the error came */
} rec_log;

static void log_free(rec_log *l) {
    for (int i = 0; i < l->n; i++) free(l->ev[i].data);
    l->n = 0;
}

static void record(rec_log *l, const wsc_event *ev) {
    assert_true(l->n < 32);
    rec_ev *r = &l->ev[l->n++];
    r->type = ev->type;
    r->code = ev->close_code;
    r->len = ev->len;
    r->data = malloc(ev->len + 1);
    if (ev->len) memcpy(r->data, ev->data, ev->len);
    r->data[ev->len] = 0;
}

static wsc_proto *mk_cfg(wsc_role role, uint64_t max_msg, int (*rx_mem)(void *, long long), void *user) {
    wsc_proto_config c = {0};
    c.role = role;
    c.max_message_size = max_msg;
    c.random = tu_fixed_random;
    c.rx_mem = rx_mem;
    c.rx_mem_user = user;
    wsc_error err;
    wsc_proto *p = wsc_proto_new(&c, &err);
    assert_non_null(p);
    return p;
}

static wsc_proto *mk(wsc_role role, uint64_t max_msg) { return mk_cfg(role, max_msg, NULL, NULL); }

/* The other end: frames as `role` receives them (a client sends masked). */
static wsc_proto *sender_for(wsc_role role) {
    return mk(role == WSC_ROLE_SERVER ? WSC_ROLE_CLIENT : WSC_ROLE_SERVER, 0);
}

/* Hands s[0..n) to wsc_proto_recv() in a guard-page buffer, as one read
   into the scratch buffer would. Returns the error, 0 if none. */
static int plain(wsc_proto *p, const uint8_t *s, size_t n, rec_log *l) {
    uint8_t *buf = tu_guard_copy(s, n);
    size_t pos = 0;
    int rc = 0;
    for (;;) {
        wsc_event ev;
        size_t used = 0;
        rc = wsc_proto_recv(p, buf + pos, n - pos, &used, &ev);
        assert_true(used <= n - pos);
        pos += used;
        if (rc) break;
        if (ev.type == WSC_EV_NONE) {
            assert_int_equal(pos, n);
            break;
        }
        record(l, &ev);
        if (pos == n) break;
    }
    tu_guard_free(buf, n);
    return rc;
}

/*
 * Feeds s[0..len) the way conn.c's read path does: s[0..first) through
 * wsc_proto_recv(); then, step by step, into the span whenever the core
 * offers one of at least `min` bytes (up to `step` bytes of it, 0: all it
 * offers, copied in as a read would land them), otherwise `step` bytes
 * (0: all that is left) through wsc_proto_recv(). Stops at the first error.
 */
static void drive(wsc_proto *p, const uint8_t *s, size_t len, size_t first, size_t min, size_t step,
                  rec_log *l) {
    l->rc = 0;
    if (first && (l->rc = plain(p, s, first, l)) != 0) {
        l->at_error = first;
        return;
    }
    size_t off = first;
    while (off < len) {
        uint8_t *span = NULL;
        size_t cap = 0;
        int r = wsc__proto_recv_span(p, min, &span, &cap);
        if (r < 0) {
            l->rc = r;
            l->at_error = off;
            return;
        }
        size_t n = len - off;
        if (r == 1) {
            assert_non_null(span);
            assert_true(cap >= (min ? min : 1));
            if (n > cap) n = cap;
            if (step && n > step) n = step;
            memcpy(span, s + off, n);
            wsc_event ev;
            l->spans++;
            off += n;
            int rc = wsc__proto_recv_wrote(p, n, &ev);
            if (rc) {
                l->rc = rc;
                l->at_error = off;
                return;
            }
            if (ev.type != WSC_EV_NONE) record(l, &ev);
        } else {
            if (step && n > step) n = step;
            int rc = plain(p, s + off, n, l);
            off += n;
            if (rc) {
                l->rc = rc;
                l->at_error = off;
                return;
            }
        }
    }
}

static void same_events(const rec_log *a, const rec_log *b) {
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        assert_int_equal(a->ev[i].type, b->ev[i].type);
        assert_int_equal(a->ev[i].len, b->ev[i].len);
        assert_int_equal(a->ev[i].code, b->ev[i].code);
        assert_memory_equal(a->ev[i].data, b->ev[i].data, a->ev[i].len);
    }
}

/* The pending Close after a failure carries `code`. */
static void expect_close_out(wsc_proto *p, unsigned code) {
    assert_int_equal(wsc_proto_state(p), WSC_PS_FAILED);
    assert_int_equal(wsc_proto_fail_code(p), code);
    assert_true(strlen(wsc_proto_errmsg(p)) > 0);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
    wsc_frame_header h;
    int hl = wsc_frame_header_parse(out.data, out.len, &h);
    assert_true(hl > 0);
    assert_int_equal(h.opcode, WSC_OP_CLOSE);
    uint8_t pl[2];
    wsc_mask(pl, out.data + hl, 2, h.mask, 0);
    assert_int_equal(pl[0] << 8 | pl[1], code);
    wsc_buf_free(&out);
}

/* 300 bytes of text mixing 1- to 4-byte characters, so that span
   boundaries fall inside every kind of sequence. */
static size_t mixed_text(char *out, size_t want) {
    static const char *const chars[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "z"};
    size_t n = 0;
    for (int i = 0; n < want; i++) {
        const char *c = chars[i % 5];
        size_t k = strlen(c);
        if (n + k > want) break;
        memcpy(out + n, c, k);
        n += k;
    }
    return n;
}

/* A stream with every kind of frame the span meets or must refuse: a whole
   text message with multi-byte UTF-8, a text message in two fragments split
   inside a 4-byte character with a Ping between them, a binary message in
   three fragments (one empty) with a Pong between, an empty text message,
   and a Close. */
static void build_stream(wsc_role role, wsc_buf *out) {
    wsc_proto *tx = sender_for(role);
    char text[300];
    size_t tl = mixed_text(text, sizeof text);
    assert_int_equal(wsc_proto_send(tx, WSC_OP_TEXT, text, tl, out), WSC_OK);
    /* 9 bytes into a 4-byte character: "a é € 😀" is 1+2+3+4 = 10 bytes. */
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_TEXT, 0, text, 9, out), WSC_OK);
    assert_int_equal(wsc_proto_ping(tx, "ping!", 5, out), WSC_OK);
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_CONTINUATION, 1, text + 9, tl - 9, out), WSC_OK);
    uint8_t bin[200];
    for (int i = 0; i < 200; i++) bin[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_BINARY, 0, bin, 130, out), WSC_OK);
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_CONTINUATION, 0, NULL, 0, out), WSC_OK);
    assert_int_equal(wsc_proto_pong(tx, "", 0, out), WSC_OK);
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_CONTINUATION, 1, bin + 130, 70, out), WSC_OK);
    assert_int_equal(wsc_proto_send(tx, WSC_OP_TEXT, "", 0, out), WSC_OK);
    assert_int_equal(wsc_proto_close(tx, 1000, "bye", 3, out), WSC_OK);
    wsc_proto_free(tx);
}

/* ---------------- every split point, both roles ---------------- */

static void every_split(wsc_role role) {
    wsc_buf st = {0};
    build_stream(role, &st);
    rec_log ref = {0};
    wsc_proto *p = mk(role, 0);
    assert_int_equal(plain(p, st.data, st.len, &ref), 0);
    wsc_proto_free(p);
    assert_int_equal(ref.n, 7);
    int types[] = {WSC_EV_TEXT, WSC_EV_PING, WSC_EV_TEXT, WSC_EV_PONG, WSC_EV_BINARY, WSC_EV_TEXT, WSC_EV_CLOSE};
    for (int i = 0; i < 7; i++) assert_int_equal(ref.ev[i].type, types[i]);
    assert_int_equal(ref.ev[4].len, 200);
    assert_int_equal(ref.ev[6].code, 1000);

    /* Every split point of the first read, then spans written 1, 2, 3, 7
       bytes at a time or whole (every span boundary at every offset). */
    size_t steps[] = {1, 2, 3, 7, 0};
    size_t total_spans = 0;
    for (size_t cut = 0; cut <= st.len; cut++) {
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            p = mk(role, 0);
            rec_log l = {0};
            drive(p, st.data, st.len, cut, 1, steps[k], &l);
            assert_int_equal(l.rc, 0);
            same_events(&ref, &l);
            total_spans += l.spans;
            log_free(&l);
            wsc_proto_free(p);
        }
    }
    assert_true(total_spans > st.len); /* the span was used, a lot */
    log_free(&ref);
    wsc_buf_free(&st);
}

static void test_every_split_client(void **s) {
    (void)s;
    every_split(WSC_ROLE_CLIENT);
}

static void test_every_split_server_unmasks_in_place(void **s) {
    (void)s;
    every_split(WSC_ROLE_SERVER);
}

/* Two cuts: everything before `a` by recv, [a, b) by one span write of
   exactly that many bytes (if one is offered), the rest by recv. Covers a
   span write that ends at every offset after one that starts at every
   offset. */
static void test_span_at_every_pair_of_offsets(void **s) {
    (void)s;
    for (int r = 0; r < 2; r++) {
        wsc_role role = r ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
        wsc_buf st = {0};
        build_stream(role, &st);
        rec_log ref = {0};
        wsc_proto *p = mk(role, 0);
        assert_int_equal(plain(p, st.data, st.len, &ref), 0);
        wsc_proto_free(p);
        for (size_t a = 0; a <= st.len; a += 3) {
            for (size_t b = a; b <= st.len; b += 5) {
                p = mk(role, 0);
                rec_log l = {0};
                if (a) assert_int_equal(plain(p, st.data, a, &l), 0);
                uint8_t *span;
                size_t cap, off = a;
                if (b > a && wsc__proto_recv_span(p, 1, &span, &cap) == 1) {
                    size_t n = b - a < cap ? b - a : cap;
                    memcpy(span, st.data + a, n);
                    wsc_event ev;
                    assert_int_equal(wsc__proto_recv_wrote(p, n, &ev), WSC_OK);
                    if (ev.type != WSC_EV_NONE) record(&l, &ev);
                    off += n;
                }
                if (off < st.len) assert_int_equal(plain(p, st.data + off, st.len - off, &l), 0);
                same_events(&ref, &l);
                log_free(&l);
                wsc_proto_free(p);
            }
        }
        log_free(&ref);
        wsc_buf_free(&st);
    }
}

/* ---------------- large messages ---------------- */

/* A 1 MiB message to a server: after the header, one span holds the whole
   payload, and the message is delivered from that storage, unmasked. */
static void test_one_mib_in_one_span(void **s) {
    (void)s;
    size_t len = 1u << 20;
    uint8_t *msg = malloc(len);
    for (size_t i = 0; i < len; i++) msg[i] = (uint8_t)(i * 31 + 7);
    wsc_proto *tx = sender_for(WSC_ROLE_SERVER);
    wsc_buf st = {0};
    assert_int_equal(wsc_proto_send(tx, WSC_OP_BINARY, msg, len, &st), WSC_OK);
    wsc_proto *p = mk(WSC_ROLE_SERVER, 0);
    rec_log l = {0};
    assert_int_equal(plain(p, st.data, 14, &l), 0); /* the header (10 + 4) */
    assert_int_equal(l.n, 0);
    uint8_t *span;
    size_t cap;
    assert_int_equal(wsc__proto_recv_span(p, 64 * 1024, &span, &cap), 1);
    assert_int_equal(cap, len);
    memcpy(span, st.data + 14, len);
    wsc_event ev;
    assert_int_equal(wsc__proto_recv_wrote(p, len, &ev), WSC_OK);
    assert_int_equal(ev.type, WSC_EV_BINARY);
    assert_ptr_equal(ev.data, span);
    assert_int_equal(ev.len, len);
    assert_memory_equal(ev.data, msg, len);
    /* Between frames nothing is offered. */
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 0);
    wsc_proto_free(p);
    wsc_proto_free(tx);
    wsc_buf_free(&st);
    free(msg);
}

/* A large fragmented text message (70,000-byte fragments, Pings between
   them), in odd-sized span writes so characters split across spans, reads
   and fragments; both roles. */
static void test_large_fragmented_text(void **s) {
    (void)s;
    size_t fl = 70000, nf = 4;
    char *text = malloc(fl * nf);
    size_t tl = mixed_text(text, fl * nf);
    for (int r = 0; r < 2; r++) {
        wsc_role role = r ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
        wsc_proto *tx = sender_for(role);
        wsc_buf st = {0};
        for (size_t i = 0; i < nf; i++) {
            size_t a = i * fl, b = i + 1 == nf ? tl : (i + 1) * fl;
            assert_int_equal(wsc_proto_send_frame(tx, i ? WSC_OP_CONTINUATION : WSC_OP_TEXT, i + 1 == nf,
                                                  text + a, b - a, &st), WSC_OK);
            if (i + 1 < nf) assert_int_equal(wsc_proto_ping(tx, "x", 1, &st), WSC_OK);
        }
        size_t steps[] = {4093, 65536, 0};
        for (size_t k = 0; k < 3; k++) {
            wsc_proto *p = mk(role, 0);
            rec_log l = {0};
            drive(p, st.data, st.len, 17, 64 * 1024, steps[k], &l);
            assert_int_equal(l.rc, 0);
            assert_int_equal(l.n, (int)nf);
            for (size_t i = 0; i + 1 < nf; i++) assert_int_equal(l.ev[i].type, WSC_EV_PING);
            assert_int_equal(l.ev[nf - 1].type, WSC_EV_TEXT);
            assert_int_equal(l.ev[nf - 1].len, tl);
            assert_memory_equal(l.ev[nf - 1].data, text, tl);
            /* Small reads meet every fragment with more than 64 KiB to
               come; large ones take some fragments' ends the copying way. */
            assert_true(l.spans >= (steps[k] == 4093 ? nf : 1));
            log_free(&l);
            wsc_proto_free(p);
        }
        wsc_proto_free(tx);
        wsc_buf_free(&st);
    }
    free(text);
}

/* ---------------- UTF-8 failures inside a span ---------------- */

static void test_invalid_utf8_inside_a_span(void **s) {
    (void)s;
    char text[200];
    size_t tl = mixed_text(text, sizeof text);
    for (int r = 0; r < 2; r++) {
        wsc_role role = r ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
        for (size_t bad = 0; bad < tl; bad++) {
            /* The sender validates, so build the frame by hand: header, then
               the payload with one impossible byte, masked if need be. */
            uint8_t frame[8 + 200];
            uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
            size_t h = wsc_frame_header_write(frame, 1, 0, WSC_OP_TEXT, r ? key : NULL, tl);
            memcpy(frame + h, text, tl);
            frame[h + bad] = 0xff;
            if (r) wsc_mask(frame + h, frame + h, tl, key, 0);
            size_t steps[] = {1, 7, 0};
            for (size_t k = 0; k < 3; k++) {
                wsc_proto *p = mk(role, 0);
                rec_log l = {0};
                drive(p, frame, h + tl, h, 1, steps[k], &l);
                assert_int_equal(l.rc, WSC_EUTF8);
                assert_int_equal(l.n, 0);
                /* Fail fast: the write holding the bad byte reports it. */
                assert_true(l.at_error > h + bad);
                if (steps[k]) assert_true(l.at_error <= h + bad + steps[k]);
                expect_close_out(p, 1007);
                /* Nothing more is offered or taken. */
                uint8_t *span;
                size_t cap;
                assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 0);
                wsc_event ev;
                assert_int_equal(wsc__proto_recv_wrote(p, 0, &ev), WSC_ESTATE);
                log_free(&l);
                wsc_proto_free(p);
            }
        }
    }
}

/* The last span ends the message inside a character: 1007 at the end. */
static void test_text_ending_inside_a_character(void **s) {
    (void)s;
    uint8_t frame[16];
    size_t h = wsc_frame_header_write(frame, 1, 0, WSC_OP_TEXT, NULL, 4);
    memcpy(frame + h, "ab\xe2\x82", 4);
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    rec_log l = {0};
    drive(p, frame, h + 4, h, 1, 1, &l);
    assert_int_equal(l.rc, WSC_EUTF8);
    assert_int_equal(l.at_error, h + 4);
    expect_close_out(p, 1007);
    wsc_proto_free(p);
}

/* ---------------- limits ---------------- */

static void test_limits_as_without_span(void **s) {
    (void)s;
    uint8_t body[1200];
    memset(body, 'x', sizeof body);
    /* A frame of exactly the limit: the span offers exactly that much. */
    wsc_proto *tx = sender_for(WSC_ROLE_CLIENT);
    wsc_buf st = {0};
    assert_int_equal(wsc_proto_send(tx, WSC_OP_BINARY, body, 1000, &st), WSC_OK);
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 1000);
    rec_log l = {0};
    assert_int_equal(plain(p, st.data, 4, &l), 0);
    uint8_t *span;
    size_t cap;
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 1);
    assert_int_equal(cap, 1000);
    wsc_proto_free(p);
    p = mk(WSC_ROLE_CLIENT, 1000);
    l = (rec_log){0};
    drive(p, st.data, st.len, 4, 1, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].len, 1000);
    log_free(&l);
    wsc_proto_free(p);

    /* One byte over in one frame: refused at the header, before any span. */
    st.off = st.len = 0;
    assert_int_equal(wsc_proto_send(tx, WSC_OP_BINARY, body, 1001, &st), WSC_OK);
    p = mk(WSC_ROLE_CLIENT, 1000);
    l = (rec_log){0};
    drive(p, st.data, st.len, 0, 1, 0, &l);
    assert_int_equal(l.rc, WSC_ETOOBIG);
    assert_int_equal(l.spans, 0);
    expect_close_out(p, 1009);
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 0);
    wsc_proto_free(p);

    /* Fragments that add up to more: the first goes through the span, the
       second is refused at its header, as without the span. */
    st.off = st.len = 0;
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_BINARY, 0, body, 600, &st), WSC_OK);
    assert_int_equal(wsc_proto_send_frame(tx, WSC_OP_CONTINUATION, 1, body, 600, &st), WSC_OK);
    for (size_t step = 0; step <= 1; step++) {
        rec_log ref = {0};
        p = mk(WSC_ROLE_CLIENT, 1000);
        assert_int_equal(plain(p, st.data, st.len, &ref), WSC_ETOOBIG);
        wsc_proto_free(p);
        p = mk(WSC_ROLE_CLIENT, 1000);
        l = (rec_log){0};
        drive(p, st.data, st.len, 4, 1, step, &l);
        assert_int_equal(l.rc, WSC_ETOOBIG);
        assert_true(l.spans >= 1);
        if (step) assert_true(l.at_error <= 4 + 600 + 4); /* at the second header */
        expect_close_out(p, 1009);
        wsc_proto_free(p);
    }
    wsc_buf_free(&st);
    wsc_proto_free(tx);
}

/* The memory budget hook sees the span's room before it is written, a
   refusal fails with 1009, and the accounts balance. */

static void test_budget_and_min(void **s) {
    (void)s;
    size_t len = 100000;
    uint8_t *body = calloc(1, len);
    wsc_proto *tx = sender_for(WSC_ROLE_SERVER);
    wsc_buf st = {0};
    assert_int_equal(wsc_proto_send(tx, WSC_OP_BINARY, body, len, &st), WSC_OK);
    size_t h = 2 + 8 + 4; /* 100000 needs the 8-byte length; masked */
    /* Refused. */
    rx_acct a = {0, 64 * 1024, 0, 0};
    wsc_proto *p = mk_cfg(WSC_ROLE_SERVER, 0, acct_hook, &a);
    rec_log l = {0};
    assert_int_equal(plain(p, st.data, h, &l), 0);
    assert_int_equal(a.calls, 0); /* a header alone allocates nothing */
    uint8_t *span = NULL;
    size_t cap = 0;
    /* Fewer than min bytes left: nothing offered, nothing allocated. */
    assert_int_equal(wsc__proto_recv_span(p, len + 1, &span, &cap), 0);
    assert_null(span);
    assert_int_equal(a.calls, 0);
    assert_int_equal(wsc__proto_recv_span(p, len, &span, &cap), WSC_ETOOBIG);
    assert_int_equal(a.refused, 1);
    assert_int_equal(a.held, 0);
    expect_close_out(p, 1009);
    wsc_proto_free(p);
    assert_int_equal(a.held, 0);
    /* Allowed: charged before the first byte lands, released after. */
    a = (rx_acct){0, 1 << 20, 0, 0};
    p = mk_cfg(WSC_ROLE_SERVER, 0, acct_hook, &a);
    assert_int_equal(plain(p, st.data, h, &l), 0);
    assert_int_equal(wsc__proto_recv_span(p, len, &span, &cap), 1);
    assert_int_equal(cap, len);
    assert_true(a.held >= (long long)len);
    memcpy(span, st.data + h, len);
    wsc_event ev;
    assert_int_equal(wsc__proto_recv_wrote(p, len, &ev), WSC_OK);
    assert_int_equal(ev.type, WSC_EV_BINARY);
    assert_memory_equal(ev.data, body, len);
    size_t used;
    assert_int_equal(wsc_proto_recv(p, NULL, 0, &used, &ev), WSC_OK);
    assert_int_equal(a.held, 0);
    wsc_proto_free(p);
    wsc_proto_free(tx);
    wsc_buf_free(&st);
    free(body);
}

/* ---------------- what the span is never offered for ---------------- */

static void test_not_offered(void **s) {
    (void)s;
    uint8_t *span;
    size_t cap;
    wsc_event ev;
    /* Between frames, and inside a control frame split across reads. */
    wsc_proto *tx = sender_for(WSC_ROLE_CLIENT);
    wsc_buf st = {0};
    char ping[100];
    memset(ping, 'p', sizeof ping);
    assert_int_equal(wsc_proto_ping(tx, ping, sizeof ping, &st), WSC_OK);
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 0);
    rec_log l = {0};
    assert_int_equal(plain(p, st.data, 12, &l), 0);
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 0);
    assert_int_equal(plain(p, st.data + 12, st.len - 12, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].type, WSC_EV_PING);
    log_free(&l);
    /* The contract: no write without a span, none larger than it. */
    assert_int_equal(wsc__proto_recv_wrote(p, 0, &ev), WSC_ESTATE);
    st.off = st.len = 0;
    assert_int_equal(wsc_proto_send(tx, WSC_OP_BINARY, "0123456789", 10, &st), WSC_OK);
    assert_int_equal(plain(p, st.data, 2, &l), 0);
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 1);
    assert_int_equal(cap, 10);
    assert_int_equal(wsc__proto_recv_wrote(p, 11, &ev), WSC_EINVAL);
    memcpy(span, "0123456789", 10);
    assert_int_equal(wsc__proto_recv_wrote(p, 10, &ev), WSC_OK);
    assert_int_equal(ev.type, WSC_EV_BINARY);
    assert_memory_equal(ev.data, "0123456789", 10);
    /* After the peer's Close. */
    st.off = st.len = 0;
    assert_int_equal(wsc_proto_close(tx, 1000, NULL, 0, &st), WSC_OK);
    assert_int_equal(plain(p, st.data, st.len, &l), 0);
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 0);
    log_free(&l);
    wsc_proto_free(p);
    wsc_proto_free(tx);
    wsc_buf_free(&st);

    /* permessage-deflate: compressed payload still goes through inflate. */
    wsc_pmd_params pp = {1, 0, 0, 15, 15};
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_CLIENT;
    c.random = tu_fixed_random;
    c.deflate = &pp;
    c.deflate_threshold = 1;
    wsc_error err;
    wsc_proto *ctx = wsc_proto_new(&c, &err);
    c.role = WSC_ROLE_SERVER;
    wsc_proto *srv = wsc_proto_new(&c, &err);
    assert_non_null(ctx);
    assert_non_null(srv);
    char text[2000];
    size_t tl = mixed_text(text, sizeof text);
    wsc_buf z = {0};
    assert_int_equal(wsc_proto_send(ctx, WSC_OP_TEXT, text, tl, &z), WSC_OK);
    assert_int_equal(plain(srv, z.data, 7, &l), 0);
    assert_int_equal(wsc__proto_recv_span(srv, 1, &span, &cap), 0);
    assert_int_equal(plain(srv, z.data + 7, z.len - 7, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].len, tl);
    assert_memory_equal(l.ev[0].data, text, tl);
    log_free(&l);
    wsc_buf_free(&z);
    wsc_proto_free(ctx);
    wsc_proto_free(srv);
}

/* An offered span that is not written is abandoned by the next recv: the
   bytes may still come the copying way. */
static void test_abandoned_span(void **s) {
    (void)s;
    wsc_proto *tx = sender_for(WSC_ROLE_SERVER);
    wsc_buf st = {0};
    assert_int_equal(wsc_proto_send(tx, WSC_OP_TEXT, "hello, world", 12, &st), WSC_OK);
    wsc_proto *p = mk(WSC_ROLE_SERVER, 0);
    rec_log l = {0};
    assert_int_equal(plain(p, st.data, 8, &l), 0);
    uint8_t *span;
    size_t cap;
    assert_int_equal(wsc__proto_recv_span(p, 1, &span, &cap), 1);
    assert_int_equal(cap, 10);
    assert_int_equal(plain(p, st.data + 8, st.len - 8, &l), 0);
    wsc_event ev;
    assert_int_equal(wsc__proto_recv_wrote(p, 0, &ev), WSC_ESTATE);
    assert_int_equal(l.n, 1);
    assert_string_equal((char *)l.ev[0].data, "hello, world");
    log_free(&l);
    wsc_proto_free(p);
    wsc_proto_free(tx);
    wsc_buf_free(&st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split_client),
        cmocka_unit_test(test_every_split_server_unmasks_in_place),
        cmocka_unit_test(test_span_at_every_pair_of_offsets),
        cmocka_unit_test(test_one_mib_in_one_span),
        cmocka_unit_test(test_large_fragmented_text),
        cmocka_unit_test(test_invalid_utf8_inside_a_span),
        cmocka_unit_test(test_text_ending_inside_a_character),
        cmocka_unit_test(test_limits_as_without_span),
        cmocka_unit_test(test_budget_and_min),
        cmocka_unit_test(test_not_offered),
        cmocka_unit_test(test_abandoned_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
