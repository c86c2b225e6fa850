/* test_frame.c - the protocol object: decoding, validation, replies, encoding,
 * permessage-deflate. Names of tests carry the RFC section they check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "rx_acct.h"
#include "proto/proto_gather.h"
#include "wsc/proto.h"

/* ---------------- helpers ---------------- */

typedef struct {
    int type;
    unsigned code;
    size_t len;
    uint8_t *data;
    int compressed;
} rec_ev;

typedef struct {
    rec_ev ev[64];
    int n;
    int rc; /* first error returned by recv, 0 if none */
    size_t consumed_at_error;
} rec_log;

static void log_free(rec_log *l) {
    for (int i = 0; i < l->n; i++) free(l->ev[i].data);
    l->n = 0;
}

/* A proto for the tests: the fixed test randomness (its own counter at
   *ctr, or the shared one for ctr NULL), permessage-deflate with pp (from
   the first byte) or none, fragment_size frag (0: none). */
static wsc_proto *mk_full(wsc_role role, uint64_t max_msg, const wsc_pmd_params *pp, uint8_t *ctr, size_t frag) {
    wsc_proto_config c = {0};
    c.role = role;
    c.max_message_size = max_msg;
    c.random = tu_fixed_random;
    c.random_user = ctr;
    c.deflate = pp;
    c.deflate_threshold = 1;
    c.fragment_size = frag;
    wsc_error err;
    wsc_proto *p = wsc_proto_new(&c, &err);
    assert_non_null(p);
    return p;
}

static wsc_proto *mk(wsc_role role, uint64_t max_msg) { return mk_full(role, max_msg, NULL, NULL, 0); }

static wsc_proto *mk_pmd(wsc_role role, const wsc_pmd_params *pp, uint64_t max_msg) {
    return mk_full(role, max_msg, pp, NULL, 0);
}

/* Feeds data in pieces of `chunk` bytes (0: whole), each piece in its own
   guard-page buffer, collecting events until an error. Total bytes consumed
   before the error are recorded (relative to the whole stream). */
static void feed(wsc_proto *p, const uint8_t *data, size_t len, size_t chunk, rec_log *l) {
    size_t off = 0;
    l->rc = 0;
    if (!chunk) chunk = len ? len : 1;
    while (off < len || len == 0) {
        size_t n = len - off < chunk ? len - off : chunk;
        uint8_t *buf = tu_guard_copy(data + off, n);
        size_t pos = 0;
        for (;;) {
            wsc_event ev;
            size_t used = 0;
            int rc = wsc_proto_recv(p, buf + pos, n - pos, &used, &ev);
            assert_true(used <= n - pos);
            pos += used;
            if (rc) {
                l->rc = rc;
                l->consumed_at_error = off + pos;
                tu_guard_free(buf, n);
                return;
            }
            if (ev.type == WSC_EV_NONE) {
                assert_int_equal(pos, n); /* NONE means all input consumed */
                break;
            }
            assert_true(l->n < 64);
            rec_ev *r = &l->ev[l->n++];
            r->type = ev.type;
            r->code = ev.close_code;
            r->len = ev.len;
            r->compressed = ev.compressed;
            r->data = malloc(ev.len + 1);
            if (ev.len) memcpy(r->data, ev.data, ev.len);
            r->data[ev.len] = 0;
            if (pos == n) break;
        }
        tu_guard_free(buf, n);
        off += n;
        if (len == 0) break;
    }
}

static size_t hx(const char *hex, uint8_t *out) { return tu_unhex(hex, out, 1 << 20); }

/* Expects the stream to fail with close code `code` and return `rc`. */
static void expect_fail(wsc_role role, const char *hex, unsigned code, int rc) {
    uint8_t in[512];
    size_t n = hx(hex, in);
    /* whole, and byte by byte */
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        wsc_proto *p = mk(role, 0);
        rec_log l = {0};
        feed(p, in, n, chunk, &l);
        assert_int_equal(l.rc, rc);
        assert_int_equal(wsc_proto_fail_code(p), code);
        assert_int_equal(wsc_proto_state(p), WSC_PS_FAILED);
        assert_true(wsc_proto_want_flush(p));
        assert_true(strlen(wsc_proto_errmsg(p)) > 0);
        /* The pending frame is a Close carrying the code. */
        wsc_buf out = {0};
        assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
        wsc_frame_header h;
        int hl = wsc_frame_header_parse(out.data, out.len, &h);
        assert_true(hl > 0);
        assert_int_equal(h.opcode, WSC_OP_CLOSE);
        uint8_t pl[2];
        wsc_mask(pl, out.data + hl, 2, h.mask, 0);
        assert_int_equal(pl[0] << 8 | pl[1], code);
        /* Further input is refused. */
        wsc_event ev;
        size_t used;
        uint8_t more[2] = {0x81, 0x00};
        assert_int_equal(wsc_proto_recv(p, more, 2, &used, &ev), WSC_ESTATE);
        wsc_buf_free(&out);
        log_free(&l);
        wsc_proto_free(p);
    }
}

/* ---------------- primitives ---------------- */

static void test_close_code_rules(void **s) {
    (void)s;
    unsigned ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
    unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) assert_true(wsc_close_code_valid(ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_false(wsc_close_code_valid(bad[i]));
    /* the browser's rule for applications */
    assert_true(wsc_close_code_app_ok(1000));
    assert_true(wsc_close_code_app_ok(3000));
    assert_true(wsc_close_code_app_ok(4999));
    assert_false(wsc_close_code_app_ok(1001));
    assert_false(wsc_close_code_app_ok(1011));
    assert_false(wsc_close_code_app_ok(2999));
    assert_false(wsc_close_code_app_ok(5000));
}

static void test_header_parse_and_write(void **s) {
    (void)s;
    uint8_t buf[16];
    wsc_frame_header h;
    /* minimal length encoding at each boundary (RFC 6455 5.2) */
    struct { uint64_t len; size_t hl; } cases[] = {{0, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}, {((uint64_t)1 << 63) - 1, 10}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = wsc_frame_header_write(buf, 1, 0, WSC_OP_BINARY, NULL, cases[i].len);
        assert_int_equal(n, cases[i].hl);
        for (size_t k = 0; k < n; k++) assert_int_equal(wsc_frame_header_parse(buf, k, &h), 0);
        assert_int_equal(wsc_frame_header_parse(buf, n, &h), (int)n);
        assert_true(h.payload_len == cases[i].len);
        assert_int_equal(h.fin, 1);
        assert_int_equal(h.opcode, WSC_OP_BINARY);
        assert_int_equal(h.masked, 0);
        const uint8_t key[4] = {1, 2, 3, 4};
        n = wsc_frame_header_write(buf, 0, WSC_RSV1, WSC_OP_TEXT, key, cases[i].len);
        assert_int_equal(n, cases[i].hl + 4);
        assert_int_equal(wsc_frame_header_parse(buf, n, &h), (int)n);
        assert_int_equal(h.masked, 1);
        assert_memory_equal(h.mask, key, 4);
        assert_int_equal(h.rsv, WSC_RSV1);
        assert_int_equal(h.fin, 0);
    }
    /* 64-bit length with the most significant bit set (RFC 6455 5.2) */
    size_t n = hx("82 7f 80 00 00 00 00 00 00 00", buf);
    assert_int_equal(wsc_frame_header_parse(buf, n, &h), WSC_EPROTO);
}

/* ---------------- RFC 6455 5.7 examples ---------------- */

static void test_rfc6455_5_7_examples(void **s) {
    (void)s;
    uint8_t in[70000];
    rec_log l = {0};
    /* A single-frame unmasked text message (client receiving) */
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    size_t n = hx("81 05 48 65 6c 6c 6f", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].type, WSC_EV_TEXT);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    /* A fragmented unmasked text message */
    n = hx("01 03 48 65 6c 80 02 6c 6f", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    /* Unmasked Ping "Hello": reported, Pong pending */
    n = hx("89 05 48 65 6c 6c 6f", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].type, WSC_EV_PING);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    assert_true(wsc_proto_want_flush(p));
    log_free(&l);
    /* 256 bytes binary message in a single unmasked frame */
    n = hx("82 7e 01 00", in);
    for (int i = 0; i < 256; i++) in[n + i] = (uint8_t)i;
    feed(p, in, n + 256, 0, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].type, WSC_EV_BINARY);
    assert_int_equal(l.ev[0].len, 256);
    assert_memory_equal(l.ev[0].data, in + 4, 256);
    log_free(&l);
    /* 64 KiB binary message in a single unmasked frame */
    n = hx("82 7f 00 00 00 00 00 01 00 00", in);
    for (int i = 0; i < 65536; i++) in[n + i] = (uint8_t)(i * 7);
    feed(p, in, n + 65536, 0, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].len, 65536);
    assert_memory_equal(l.ev[0].data, in + 10, 65536);
    log_free(&l);
    wsc_proto_free(p);

    /* A single-frame masked text message (server receiving) */
    p = mk(WSC_ROLE_SERVER, 0);
    n = hx("81 85 37 fa 21 3d 7f 9f 4d 51 58", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    /* Masked Pong "Hello" */
    n = hx("8a 85 37 fa 21 3d 7f 9f 4d 51 58", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].type, WSC_EV_PONG);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    wsc_proto_free(p);
}

/* The encoder reproduces RFC 6455 5.7's masked "Hello" with key 37 fa 21 3d. */
static int rfc_key(void *u, void *buf, size_t len) {
    (void)u;
    static const uint8_t k[4] = {0x37, 0xfa, 0x21, 0x3d};
    for (size_t i = 0; i < len; i++) ((uint8_t *)buf)[i] = k[i % 4];
    return 0;
}

static void test_encoder_exact_bytes(void **s) {
    (void)s;
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_CLIENT;
    c.random = rfc_key;
    wsc_proto *p = wsc_proto_new(&c, NULL);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "Hello", 5, &out), WSC_OK);
    uint8_t want[32];
    size_t n = hx("81 85 37 fa 21 3d 7f 9f 4d 51 58", want);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    out.len = 0;
    assert_int_equal(wsc_proto_pong(p, "Hello", 5, &out), WSC_OK);
    n = hx("8a 85 37 fa 21 3d 7f 9f 4d 51 58", want);
    assert_memory_equal(out.data, want, n);
    wsc_buf_free(&out);
    wsc_proto_free(p);

    /* Server role: unmasked */
    p = mk(WSC_ROLE_SERVER, 0);
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "Hello", 5, &out), WSC_OK);
    n = hx("81 05 48 65 6c 6c 6f", want);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

static void test_encoder_lengths_and_data_untouched(void **s) {
    (void)s;
    size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    uint8_t *data = malloc(70000);
    for (size_t i = 0; i < 70000; i++) data[i] = (uint8_t)(i * 13 + 1);
    uint8_t *copy = malloc(70000);
    memcpy(copy, data, 70000);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        wsc_proto *cl = mk(WSC_ROLE_CLIENT, 0), *sv = mk(WSC_ROLE_SERVER, 0);
        wsc_buf out = {0};
        assert_int_equal(wsc_proto_send(cl, WSC_OP_BINARY, data, sizes[i], &out), WSC_OK);
        /* minimal length encoding + mask */
        size_t hl = sizes[i] < 126 ? 6 : sizes[i] < 65536 ? 8 : 14;
        assert_int_equal(out.len, hl + sizes[i]);
        assert_memory_equal(data, copy, 70000); /* caller's data never modified */
        rec_log l = {0};
        feed(sv, out.data, out.len, 0, &l);
        assert_int_equal(l.rc, 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.ev[0].len, sizes[i]);
        if (sizes[i]) assert_memory_equal(l.ev[0].data, data, sizes[i]);
        log_free(&l);
        wsc_buf_free(&out);
        wsc_proto_free(cl);
        wsc_proto_free(sv);
    }
    free(data);
    free(copy);
}

/* Each frame gets a fresh mask key from the random callback. */
static void test_fresh_mask_per_frame(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "a", 1, &out), WSC_OK);
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "a", 1, &out), WSC_OK);
    wsc_frame_header h1, h2;
    int n1 = wsc_frame_header_parse(out.data, out.len, &h1);
    assert_true(n1 > 0);
    int n2 = wsc_frame_header_parse(out.data + n1 + 1, out.len - (size_t)n1 - 1, &h2);
    assert_true(n2 > 0);
    assert_memory_not_equal(h1.mask, h2.mask, 4);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

static void test_encoder_fragmentation(void **s) {
    (void)s;
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_SERVER;
    c.fragment_size = 4;
    wsc_proto *p = wsc_proto_new(&c, NULL);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "Hello world", 11, &out), WSC_OK);
    uint8_t want[64];
    size_t n = hx("01 04 48 65 6c 6c 00 04 6f 20 77 6f 80 03 72 6c 64", want);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

static void test_streaming_send(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_SERVER, 0);
    wsc_buf out = {0};
    /* continuation before a start */
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_CONTINUATION, 1, "x", 1, &out), WSC_ESTATE);
    /* "é" split across two frames is fine; the message is checked as a whole */
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_TEXT, 0, "\xc3", 1, &out), WSC_OK);
    /* a new message while one is open, and a whole-message send, are refused */
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_TEXT, 1, "x", 1, &out), WSC_ESTATE);
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "x", 1, &out), WSC_ESTATE);
    /* control frames may interleave */
    assert_int_equal(wsc_proto_ping(p, "p", 1, &out), WSC_OK);
    /* invalid continuation of the UTF-8 sequence is refused, nothing appended */
    size_t before = out.len;
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_CONTINUATION, 1, "A", 1, &out), WSC_EUTF8);
    assert_int_equal(out.len, before);
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_CONTINUATION, 1, "\xa9", 1, &out), WSC_OK);
    uint8_t want[32];
    size_t n = hx("01 01 c3 89 01 70 80 01 a9", want);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    /* ending a text message mid-sequence is refused */
    out.len = 0;
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_TEXT, 1, "\xe2\x82", 2, &out), WSC_EUTF8);
    assert_int_equal(out.len, 0);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

static void test_send_rules(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    wsc_buf out = {0};
    /* text must be valid UTF-8; nothing appended otherwise */
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "\xc0\x80", 2, &out), WSC_EUTF8);
    assert_int_equal(out.len, 0);
    assert_int_equal(wsc_proto_send(p, WSC_OP_PING, "x", 1, &out), WSC_EINVAL);
    uint8_t big[126] = {0};
    assert_int_equal(wsc_proto_ping(p, big, 126, &out), WSC_EINVAL);
    assert_int_equal(wsc_proto_ping(p, big, 125, &out), WSC_OK);
    out.len = 0;
    /* close: code and reason rules */
    assert_int_equal(wsc_proto_close(p, 1005, NULL, 0, &out), WSC_EINVAL);
    assert_int_equal(wsc_proto_close(p, 1006, NULL, 0, &out), WSC_EINVAL);
    assert_int_equal(wsc_proto_close(p, 999, NULL, 0, &out), WSC_EINVAL);
    assert_int_equal(wsc_proto_close(p, 0, "x", 1, &out), WSC_EINVAL);
    char reason[125];
    memset(reason, 'r', sizeof reason);
    assert_int_equal(wsc_proto_close(p, 1000, reason, 124, &out), WSC_EINVAL);
    assert_int_equal(wsc_proto_close(p, 1000, "\xff", 1, &out), WSC_EUTF8);
    assert_int_equal(out.len, 0);
    assert_int_equal(wsc_proto_state(p), WSC_PS_OPEN);
    assert_int_equal(wsc_proto_close(p, 1000, reason, 123, &out), WSC_OK);
    assert_int_equal(out.len, 2 + 4 + 125);
    assert_int_equal(wsc_proto_state(p), WSC_PS_CLOSE_SENT);
    /* nothing but control frames may follow our Close; and no second Close */
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "x", 1, &out), WSC_ESTATE);
    assert_int_equal(wsc_proto_close(p, 1000, NULL, 0, &out), WSC_ESTATE);
    assert_int_equal(wsc_proto_ping(p, "x", 1, &out), WSC_ESTATE);
    wsc_buf_free(&out);
    wsc_proto_free(p);
    /* a client without a random source is refused */
    wsc_proto_config c = {0};
    wsc_error err;
    assert_null(wsc_proto_new(&c, &err));
    assert_int_equal(err.code, WSC_EINVAL);
}

/* ---------------- every split point ---------------- */

static void test_every_split_point(void **s) {
    (void)s;
    /* A stream mixing every kind of frame, fragments with a control frame in
       between, a 2-byte-length frame, a multi-byte UTF-8 character split
       across fragments, and a Close at the end. */
    uint8_t stream[1024];
    size_t n = 0;
    n += hx("81 05 48 65 6c 6c 6f", stream + n);          /* text Hello */
    n += hx("01 02 ce ba 89 02 70 69 00 02 e1 bd 00 02 b9 cf 80 03 83 ce bc", stream + n); /* κόσμ split, ping inside */
    n += hx("82 7e 00 c8", stream + n);                   /* 200-byte binary */
    for (int i = 0; i < 200; i++) stream[n++] = (uint8_t)(255 - i);
    n += hx("8a 00", stream + n);                         /* empty pong */
    n += hx("81 00", stream + n);                         /* empty text */
    n += hx("88 05 03 e8 62 79 65", stream + n);          /* close 1000 "bye" */

    rec_log ref = {0};
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    feed(p, stream, n, 0, &ref);
    wsc_proto_free(p);
    assert_int_equal(ref.rc, 0);
    assert_int_equal(ref.n, 7);
    int types[] = {WSC_EV_TEXT, WSC_EV_PING, WSC_EV_TEXT, WSC_EV_BINARY, WSC_EV_PONG, WSC_EV_TEXT, WSC_EV_CLOSE};
    for (int i = 0; i < 7; i++) assert_int_equal(ref.ev[i].type, types[i]);
    assert_string_equal((char *)ref.ev[2].data, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"); /* κόσμ */
    assert_int_equal(ref.ev[3].len, 200);
    assert_int_equal(ref.ev[5].len, 0);
    assert_int_equal(ref.ev[6].code, 1000);
    assert_string_equal((char *)ref.ev[6].data, "bye");

    /* split in two at every offset */
    for (size_t cut = 0; cut <= n; cut++) {
        p = mk(WSC_ROLE_CLIENT, 0);
        rec_log l = {0};
        uint8_t *a = tu_guard_copy(stream, cut);
        size_t pos = 0;
        /* first part */
        rec_log l1 = {0};
        feed(p, a, cut, 0, &l1);
        tu_guard_free(a, cut);
        feed(p, stream + cut, n - cut, 0, &l);
        (void)pos;
        assert_int_equal(l1.rc, 0);
        assert_int_equal(l.rc, 0);
        assert_int_equal(l1.n + l.n, ref.n);
        for (int i = 0; i < ref.n; i++) {
            rec_ev *e = i < l1.n ? &l1.ev[i] : &l.ev[i - l1.n];
            assert_int_equal(e->type, ref.ev[i].type);
            assert_int_equal(e->len, ref.ev[i].len);
            assert_memory_equal(e->data, ref.ev[i].data, e->len);
            assert_int_equal(e->code, ref.ev[i].code);
        }
        log_free(&l);
        log_free(&l1);
        wsc_proto_free(p);
    }
    /* one byte at a time, and in 3/7/13-byte pieces */
    size_t chunks[] = {1, 3, 7, 13};
    for (size_t c = 0; c < 4; c++) {
        p = mk(WSC_ROLE_CLIENT, 0);
        rec_log l = {0};
        feed(p, stream, n, chunks[c], &l);
        assert_int_equal(l.rc, 0);
        assert_int_equal(l.n, ref.n);
        for (int i = 0; i < ref.n; i++) {
            assert_int_equal(l.ev[i].type, ref.ev[i].type);
            assert_int_equal(l.ev[i].len, ref.ev[i].len);
            assert_memory_equal(l.ev[i].data, ref.ev[i].data, l.ev[i].len);
        }
        log_free(&l);
        wsc_proto_free(p);
    }
    log_free(&ref);
}

/* The same for a masked stream into a server (unmasking at every offset). */
static void test_every_split_point_masked(void **s) {
    (void)s;
    wsc_proto *cl = mk(WSC_ROLE_CLIENT, 0);
    wsc_buf out = {0};
    char text[300];
    for (int i = 0; i < 299; i++) text[i] = (char)('a' + i % 26);
    text[299] = 0;
    assert_int_equal(wsc_proto_send(cl, WSC_OP_TEXT, text, 299, &out), WSC_OK);
    assert_int_equal(wsc_proto_send_frame(cl, WSC_OP_BINARY, 0, "\x01\x02\x03", 3, &out), WSC_OK);
    assert_int_equal(wsc_proto_ping(cl, "abc", 3, &out), WSC_OK);
    assert_int_equal(wsc_proto_send_frame(cl, WSC_OP_CONTINUATION, 1, "\x04\x05", 2, &out), WSC_OK);
    for (size_t cut = 0; cut <= out.len; cut++) {
        wsc_proto *sv = mk(WSC_ROLE_SERVER, 0);
        rec_log l1 = {0}, l2 = {0};
        feed(sv, out.data, cut, 0, &l1);
        feed(sv, out.data + cut, out.len - cut, 0, &l2);
        assert_int_equal(l1.rc, 0);
        assert_int_equal(l2.rc, 0);
        assert_int_equal(l1.n + l2.n, 3);
        rec_ev *e[3];
        for (int i = 0; i < 3; i++) e[i] = i < l1.n ? &l1.ev[i] : &l2.ev[i - l1.n];
        assert_int_equal(e[0]->type, WSC_EV_TEXT);
        assert_string_equal((char *)e[0]->data, text);
        assert_int_equal(e[1]->type, WSC_EV_PING);
        assert_string_equal((char *)e[1]->data, "abc");
        assert_int_equal(e[2]->type, WSC_EV_BINARY);
        assert_memory_equal(e[2]->data, "\x01\x02\x03\x04\x05", 5);
        log_free(&l1);
        log_free(&l2);
        wsc_proto_free(sv);
    }
    wsc_buf_free(&out);
    wsc_proto_free(cl);
}

/* A whole message contiguous in the input is delivered in place. */
static void test_zero_copy(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    uint8_t in[64];
    size_t n = hx("81 05 48 65 6c 6c 6f 82 03 01 02 03", in);
    wsc_event ev;
    size_t used;
    assert_int_equal(wsc_proto_recv(p, in, n, &used, &ev), WSC_OK);
    assert_int_equal(used, 7);
    assert_ptr_equal(ev.data, in + 2);
    assert_int_equal(wsc_proto_recv(p, in + 7, n - 7, &used, &ev), WSC_OK);
    assert_ptr_equal(ev.data, in + 9);
    assert_int_equal(ev.type, WSC_EV_BINARY);
    wsc_proto_free(p);
}

/* ---------------- errors and their close codes ---------------- */

static void test_errors_framing_1002(void **s) {
    (void)s;
    /* RSV bits without an extension (RFC 6455 5.2) */
    expect_fail(WSC_ROLE_CLIENT, "c1 00", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "a1 00", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "91 00", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "f1 00", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "c9 00", 1002, WSC_EPROTO); /* on a control frame */
    /* reserved opcodes (RFC 6455 5.2) */
    const char *ops[] = {"83 00", "84 00", "85 00", "86 00", "87 00", "8b 00", "8c 00", "8d 00", "8e 00", "8f 00"};
    for (size_t i = 0; i < 10; i++) expect_fail(WSC_ROLE_CLIENT, ops[i], 1002, WSC_EPROTO);
    /* control frames: FIN required, at most 125 bytes (RFC 6455 5.5) */
    expect_fail(WSC_ROLE_CLIENT, "09 00", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "89 7e 00 7e", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "88 7e 00 7e", 1002, WSC_EPROTO);
    /* continuation with nothing to continue; new message inside a fragmented one (5.4) */
    expect_fail(WSC_ROLE_CLIENT, "80 01 61", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "00 01 61", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "01 01 61 81 01 62", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_CLIENT, "02 01 61 02 01 62", 1002, WSC_EPROTO);
    /* masking: a client must fail on a masked frame, a server on an unmasked one (5.1) */
    expect_fail(WSC_ROLE_CLIENT, "81 81 00 00 00 00 61", 1002, WSC_EPROTO);
    expect_fail(WSC_ROLE_SERVER, "81 01 61", 1002, WSC_EPROTO);
    /* 64-bit length with the top bit set */
    expect_fail(WSC_ROLE_CLIENT, "82 7f 80 00 00 00 00 00 00 01", 1002, WSC_EPROTO);
    /* close payload of one byte; invalid codes (7.4) */
    expect_fail(WSC_ROLE_CLIENT, "88 01 03", 1002, WSC_EPROTO);
    const char *codes[] = {"88 02 00 00", "88 02 03 e7", "88 02 03 ec", "88 02 03 ed", "88 02 03 ee",
                           "88 02 03 f7", "88 02 04 4c", "88 02 07 d0", "88 02 0b b7", "88 02 13 88"};
    for (size_t i = 0; i < 10; i++) expect_fail(WSC_ROLE_CLIENT, codes[i], 1002, WSC_EPROTO);
}

static void test_errors_utf8_1007(void **s) {
    (void)s;
    /* invalid text, unfragmented and fragmented */
    expect_fail(WSC_ROLE_CLIENT, "81 02 c0 80", 1007, WSC_EUTF8);
    expect_fail(WSC_ROLE_CLIENT, "01 01 ce 80 01 41", 1007, WSC_EUTF8);
    /* a message ending inside a sequence */
    expect_fail(WSC_ROLE_CLIENT, "81 01 ce", 1007, WSC_EUTF8);
    expect_fail(WSC_ROLE_CLIENT, "01 01 e2 80 01 82", 1007, WSC_EUTF8);
    /* invalid close reason */
    expect_fail(WSC_ROLE_CLIENT, "88 04 03 e8 ed a0", 1007, WSC_EUTF8);
}

/* Fail fast (RFC 6455 8.1, Autobahn 6.4.x): an impossible byte fails the
   connection as soon as it arrives, before the rest of the frame does. */
static void test_utf8_fail_fast(void **s) {
    (void)s;
    /* A 20-byte text frame whose 5th payload byte is impossible (F4 90: above
       U+10FFFF); only the first 8 bytes of the frame arrive. */
    uint8_t in[32];
    size_t n = hx("81 14 41 41 41 f4 90 80 80", in);
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    rec_log l = {0};
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, WSC_EUTF8);
    assert_int_equal(wsc_proto_fail_code(p), 1007);
    wsc_proto_free(p);
    /* Same across fragments: first fragment valid, second starts invalid. */
    n = hx("01 02 ce ba 00 0a f4 90", in);
    p = mk(WSC_ROLE_CLIENT, 0);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, WSC_EUTF8);
    wsc_proto_free(p);
    /* A valid prefix of a long frame does not fail. */
    n = hx("81 14 41 41 41 f4 8f bf", in);
    p = mk(WSC_ROLE_CLIENT, 0);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.n, 0);
    wsc_proto_free(p);
}

static void test_size_limits_1009(void **s) {
    (void)s;
    uint8_t in[256];
    /* a frame over the message limit fails at its header */
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 100);
    size_t n = hx("82 7e 00 65", in);
    rec_log l = {0};
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, WSC_ETOOBIG);
    assert_int_equal(wsc_proto_fail_code(p), 1009);
    wsc_proto_free(p);
    /* exactly the limit is fine */
    p = mk(WSC_ROLE_CLIENT, 100);
    n = hx("82 64", in);
    memset(in + n, 7, 100);
    feed(p, in, n + 100, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.n, 1);
    log_free(&l);
    wsc_proto_free(p);
    /* fragments that add up to more than the limit */
    p = mk(WSC_ROLE_CLIENT, 100);
    n = hx("02 3c", in);
    memset(in + n, 1, 60);
    n += 60;
    n += hx("80 3c", in + n);
    memset(in + n, 1, 60);
    n += 60;
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, WSC_ETOOBIG);
    assert_int_equal(wsc_proto_fail_code(p), 1009);
    wsc_proto_free(p);
    /* separate frame limit */
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_CLIENT;
    c.random = tu_fixed_random;
    c.max_frame_size = 10;
    c.max_message_size = 1000;
    p = wsc_proto_new(&c, NULL);
    n = hx("02 0b", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, WSC_ETOOBIG);
    wsc_proto_free(p);
    /* control frames are not subject to the message limit */
    p = mk(WSC_ROLE_CLIENT, 10);
    n = hx("89 7d", in);
    memset(in + n, 'x', 125);
    feed(p, in, n + 125, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.ev[0].type, WSC_EV_PING);
    log_free(&l);
    wsc_proto_free(p);
}

/* ---------------- replies and the closing handshake ---------------- */

static void test_ping_reply(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_SERVER, 0);
    uint8_t in[64];
    /* two pings before a flush: only the latest is answered (RFC 6455 5.5.3) */
    size_t n = hx("89 81 00 00 00 00 61 89 81 00 00 00 00 62", in);
    rec_log l = {0};
    feed(p, in, n, 0, &l);
    assert_int_equal(l.n, 2);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
    uint8_t want[8];
    size_t wn = hx("8a 01 62", want);
    assert_int_equal(out.len, wn);
    assert_memory_equal(out.data, want, wn);
    assert_false(wsc_proto_want_flush(p));
    out.len = 0;
    assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
    assert_int_equal(out.len, 0);
    log_free(&l);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

static void test_close_handshake_peer_first(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_SERVER, 0);
    uint8_t in[64];
    /* peer closes with 1001 "going"; anything after it is ignored */
    size_t n = hx("88 87 00 00 00 00 03 e9 67 6f 69 6e 67 81 81 00 00 00 00 61", in);
    rec_log l = {0};
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ev[0].type, WSC_EV_CLOSE);
    assert_int_equal(l.ev[0].code, 1001);
    assert_string_equal((char *)l.ev[0].data, "going");
    assert_int_equal(wsc_proto_state(p), WSC_PS_CLOSE_RECEIVED);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "x", 1, &out), WSC_ESTATE);
    assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
    uint8_t want[8];
    size_t wn = hx("88 02 03 e9", want); /* the code is echoed */
    assert_int_equal(out.len, wn);
    assert_memory_equal(out.data, want, wn);
    assert_int_equal(wsc_proto_state(p), WSC_PS_CLOSED);
    log_free(&l);
    wsc_buf_free(&out);
    wsc_proto_free(p);

    /* a Close without status is reported as 1005 and answered without status */
    p = mk(WSC_ROLE_CLIENT, 0);
    n = hx("88 00", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.ev[0].code, 1005);
    assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
    wsc_frame_header h;
    assert_true(wsc_frame_header_parse(out.data, out.len, &h) > 0);
    assert_int_equal(h.opcode, WSC_OP_CLOSE);
    assert_int_equal(h.payload_len, 0);
    log_free(&l);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

static void test_close_handshake_we_first(void **s) {
    (void)s;
    wsc_proto *p = mk(WSC_ROLE_CLIENT, 0);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_close(p, 4000, "bye", 3, &out), WSC_OK);
    assert_int_equal(wsc_proto_state(p), WSC_PS_CLOSE_SENT);
    /* data may still arrive until the peer's Close */
    uint8_t in[32];
    size_t n = hx("81 01 61 89 00 88 02 0f a0", in);
    rec_log l = {0};
    feed(p, in, n, 0, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.ev[0].type, WSC_EV_TEXT);
    assert_int_equal(l.ev[2].type, WSC_EV_CLOSE);
    assert_int_equal(l.ev[2].code, 4000);
    assert_int_equal(wsc_proto_state(p), WSC_PS_CLOSED);
    /* no Pong after our Close, no second Close */
    assert_false(wsc_proto_want_flush(p));
    out.len = 0;
    assert_int_equal(wsc_proto_flush(p, &out), WSC_OK);
    assert_int_equal(out.len, 0);
    log_free(&l);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

/* ---------------- permessage-deflate (RFC 7692) ---------------- */

static void test_rfc7692_examples(void **s) {
    (void)s;
    wsc_pmd_params pp = {1, 0, 0, 15, 15};
    wsc_proto *p = mk_pmd(WSC_ROLE_CLIENT, &pp, 0);
    uint8_t in[64];
    rec_log l = {0};
    /* 7.2.3.1: "Hello" compressed in one frame */
    size_t n = hx("c1 07 f2 48 cd c9 c9 07 00", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    assert_int_equal(l.ev[0].compressed, 1);
    log_free(&l);
    /* 7.2.3.2: the same, sharing the LZ77 window with the previous message */
    n = hx("c1 05 f2 00 11 00 00", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    /* 7.2.3.1: compressed and fragmented */
    n = hx("41 03 f2 48 cd 80 04 c9 c9 07 00", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    /* 7.2.3.3: a stored (uncompressed) deflate block */
    n = hx("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00", in);
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    /* an uncompressed message is still allowed */
    n = hx("81 02 68 69", in);
    feed(p, in, n, 0, &l);
    assert_string_equal((char *)l.ev[0].data, "hi");
    assert_int_equal(l.ev[0].compressed, 0);
    log_free(&l);
    wsc_proto_free(p);

    /* RSV1 on a continuation frame, and on a control frame, are errors */
    const char *bad[] = {"41 03 f2 48 cd c0 04 c9 c9 07 00", "c9 00"};
    for (int i = 0; i < 2; i++) {
        p = mk_pmd(WSC_ROLE_CLIENT, &pp, 0);
        n = hx(bad[i], in);
        feed(p, in, n, 0, &l);
        assert_int_equal(l.rc, WSC_EPROTO);
        assert_int_equal(wsc_proto_fail_code(p), 1002);
        wsc_proto_free(p);
    }
    /* corrupt compressed data fails the connection (1007) */
    p = mk_pmd(WSC_ROLE_CLIENT, &pp, 0);
    n = hx("c1 03 ff ff ff", in);
    feed(p, in, n, 0, &l);
    assert_true(l.rc != 0);
    assert_int_equal(wsc_proto_fail_code(p), 1007);
    wsc_proto_free(p);
    /* compressed text that inflates to invalid UTF-8: 1007 */
    p = mk_pmd(WSC_ROLE_CLIENT, &pp, 0);
    n = hx("c1 08 00 02 00 fd ff c0 80 00", in); /* stored block "\xc0\x80" */
    feed(p, in, n, 0, &l);
    assert_int_equal(l.rc, WSC_EUTF8);
    wsc_proto_free(p);
}

/* Counting allocator: peak bytes in use. */
static size_t g_in_use, g_peak;
typedef struct { size_t n; } hdr_t;
static void *c_malloc(size_t n) {
    hdr_t *h = malloc(sizeof(max_align_t) + n);
    if (!h) return NULL;
    h->n = n;
    g_in_use += n;
    if (g_in_use > g_peak) g_peak = g_in_use;
    return (char *)h + sizeof(max_align_t);
}
static void c_free(void *p) {
    if (!p) return;
    hdr_t *h = (hdr_t *)((char *)p - sizeof(max_align_t));
    g_in_use -= h->n;
    free(h);
}
static void *c_realloc(void *p, size_t n) {
    if (!p) return c_malloc(n);
    hdr_t *h = (hdr_t *)((char *)p - sizeof(max_align_t));
    void *q = c_malloc(n);
    if (!q) return NULL;
    memcpy(q, p, h->n < n ? h->n : n);
    c_free(p);
    return q;
}

/* A small frame that inflates to 64 MiB fails with 1009 without using the memory. */
static void test_inflate_bomb_bounded(void **s) {
    (void)s;
    wsc_pmd_params pp = {1, 0, 0, 15, 15};
    /* compress 64 MiB of zeros with a server-role endpoint */
    wsc_proto *sv = mk_pmd(WSC_ROLE_SERVER, &pp, 0);
    size_t big = 64u << 20;
    uint8_t *zeros = calloc(1, big);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_send(sv, WSC_OP_BINARY, zeros, big, &out), WSC_OK);
    free(zeros);
    assert_true(out.len < 200000);
    wsc_proto_free(sv);

    wsc_allocator a = {c_malloc, c_realloc, c_free};
    wsc_set_allocator(&a);
    g_in_use = g_peak = 0;
    wsc_proto *cl = mk_pmd(WSC_ROLE_CLIENT, &pp, 1u << 20); /* 1 MiB limit */
    rec_log l = {0};
    feed(cl, out.data, out.len, 0, &l);
    assert_int_equal(l.rc, WSC_ETOOBIG);
    assert_int_equal(wsc_proto_fail_code(cl), 1009);
    wsc_proto_free(cl);
    wsc_set_allocator(NULL);
    /* The message buffer never exceeds the limit (+1 byte); growing it by
       realloc may briefly hold the old and the new block (this counting
       allocator always copies), plus zlib's window and state: still far
       from the 64 MiB the frame would inflate to. */
    assert_true(g_peak < 2 * (1u << 20) + (256u << 10));
    assert_int_equal(g_in_use, 0);
    wsc_buf_free(&out);
}

static void roundtrip(const wsc_pmd_params *pp, int messages, int fragment) {
    wsc_proto_config cc = {0}, sc = {0};
    cc.role = WSC_ROLE_CLIENT;
    cc.random = tu_fixed_random;
    cc.deflate = pp;
    cc.fragment_size = fragment ? 100 : 0;
    sc.role = WSC_ROLE_SERVER;
    sc.deflate = pp;
    sc.fragment_size = fragment ? 77 : 0;
    wsc_proto *cl = wsc_proto_new(&cc, NULL), *sv = wsc_proto_new(&sc, NULL);
    assert_non_null(cl);
    assert_non_null(sv);
    char msg[2000];
    for (int m = 0; m < messages; m++) {
        int len = snprintf(msg, sizeof msg, "{\"seq\":%d,\"text\":\"%s\"}", m,
                           "the quick brown fox jumps over the lazy dog, again and again and again");
        wsc_buf a = {0}, b = {0};
        assert_int_equal(wsc_proto_send(cl, WSC_OP_TEXT, msg, (size_t)len, &a), WSC_OK);
        assert_true((a.data[0] & 0x40) != 0); /* RSV1: compressed */
        rec_log l = {0};
        feed(sv, a.data, a.len, 0, &l);
        assert_int_equal(l.rc, 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.ev[0].len, (size_t)len);
        assert_memory_equal(l.ev[0].data, msg, (size_t)len);
        log_free(&l);
        assert_int_equal(wsc_proto_send(sv, WSC_OP_TEXT, msg, (size_t)len, &b), WSC_OK);
        feed(cl, b.data, b.len, 0, &l);
        assert_int_equal(l.rc, 0);
        assert_memory_equal(l.ev[0].data, msg, (size_t)len);
        log_free(&l);
        wsc_buf_free(&a);
        wsc_buf_free(&b);
    }
    wsc_proto_free(cl);
    wsc_proto_free(sv);
}

static void test_deflate_roundtrips(void **s) {
    (void)s;
    wsc_pmd_params takeover = {1, 0, 0, 15, 15};
    wsc_pmd_params none = {1, 1, 1, 15, 15};
    wsc_pmd_params small = {1, 0, 0, 9, 10};
    roundtrip(&takeover, 50, 0);
    roundtrip(&takeover, 20, 1);
    roundtrip(&none, 50, 0);
    roundtrip(&small, 50, 1);
}

/* Context takeover makes the second identical message smaller; without it,
   both compress to the same bytes. */
static void test_context_takeover_effect(void **s) {
    (void)s;
    wsc_pmd_params takeover = {1, 0, 0, 15, 15};
    wsc_pmd_params none = {1, 1, 1, 15, 15};
    const char *m = "context takeover context takeover context takeover";
    for (int k = 0; k < 2; k++) {
        wsc_proto *sv = mk_pmd(WSC_ROLE_SERVER, k ? &none : &takeover, 0);
        wsc_buf a = {0}, b = {0};
        assert_int_equal(wsc_proto_send(sv, WSC_OP_TEXT, m, strlen(m), &a), WSC_OK);
        assert_int_equal(wsc_proto_send(sv, WSC_OP_TEXT, m, strlen(m), &b), WSC_OK);
        if (k) {
            assert_int_equal(a.len, b.len);
            assert_memory_equal(a.data, b.data, a.len);
        } else {
            assert_true(b.len < a.len);
        }
        wsc_buf_free(&a);
        wsc_buf_free(&b);
        wsc_proto_free(sv);
    }
}

/* zlib cannot compress with a 256-byte window: such an endpoint sends its
   messages uncompressed (allowed by RFC 7692) but still inflates. */
static void test_window_bits_8(void **s) {
    (void)s;
    wsc_pmd_params pp = {1, 0, 0, 8, 8};
    wsc_proto *cl = mk_pmd(WSC_ROLE_CLIENT, &pp, 0);
    wsc_buf out = {0};
    const char *m = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(wsc_proto_send(cl, WSC_OP_TEXT, m, strlen(m), &out), WSC_OK);
    assert_int_equal(out.data[0] & 0x40, 0);
    wsc_buf_free(&out);
    /* inflating data compressed with a 256-byte window works */
    uint8_t in[64];
    size_t n = hx("c1 07 f2 48 cd c9 c9 07 00", in);
    rec_log l = {0};
    feed(cl, in, n, 0, &l);
    assert_int_equal(l.rc, 0);
    assert_string_equal((char *)l.ev[0].data, "Hello");
    log_free(&l);
    wsc_proto_free(cl);
    /* out-of-range window bits are refused at creation */
    wsc_pmd_params badp = {1, 0, 0, 7, 15};
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_SERVER;
    c.deflate = &badp;
    wsc_error err;
    assert_null(wsc_proto_new(&c, &err));
    assert_int_equal(err.code, WSC_EINVAL);
}

/* Messages under the threshold go out uncompressed. */
static void test_deflate_threshold(void **s) {
    (void)s;
    wsc_pmd_params pp = {1, 0, 0, 15, 15};
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_SERVER;
    c.deflate = &pp;
    c.deflate_threshold = 10;
    wsc_proto *p = wsc_proto_new(&c, NULL);
    wsc_buf out = {0};
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "short", 5, &out), WSC_OK);
    assert_int_equal(out.data[0], 0x81);
    out.len = 0;
    assert_int_equal(wsc_proto_send(p, WSC_OP_TEXT, "longer message", 14, &out), WSC_OK);
    assert_int_equal(out.data[0], 0xc1);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

/* wsc_proto_send_ex says what it framed: plain, fragmented, compressed. */
static void test_send_ex_summary(void **s) {
    (void)s;
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_SERVER;
    c.fragment_size = 4;
    wsc_proto *p = wsc_proto_new(&c, NULL);
    wsc_buf out = {0};
    wsc_proto_sent sent;
    assert_int_equal(wsc_proto_send_ex(p, WSC_OP_TEXT, "Hello world", 11, &out, &sent), WSC_OK);
    assert_int_equal(sent.wire, out.len);
    assert_int_equal(sent.frames, 3);
    assert_int_equal(sent.header, 2);
    assert_false(sent.compressed);
    out.len = 0;
    assert_int_equal(wsc_proto_send_ex(p, WSC_OP_TEXT, "Hi", 2, &out, &sent), WSC_OK);
    assert_int_equal(sent.wire, 4);
    assert_int_equal(sent.frames, 1);
    assert_int_equal(wsc_proto_send_ex(p, WSC_OP_TEXT, "\xff", 1, &out, &sent), WSC_EUTF8);
    assert_int_equal(sent.wire, 0);
    assert_int_equal(sent.frames, 0);
    wsc_proto_free(p);
    /* compressed, in the client role: a 4-byte mask in the header */
    wsc_pmd_params pp = {1, 0, 0, 15, 15};
    wsc_proto_config d = {0};
    d.role = WSC_ROLE_CLIENT;
    d.random = tu_fixed_random;
    d.deflate = &pp;
    d.deflate_threshold = 1;
    p = wsc_proto_new(&d, NULL);
    out.len = 0;
    assert_int_equal(wsc_proto_send_ex(p, WSC_OP_TEXT, "aaaaaaaaaaaaaaaaaaaa", 20, &out, &sent), WSC_OK);
    assert_true(sent.compressed);
    assert_int_equal(sent.frames, 1);
    assert_int_equal(sent.header, 6);
    assert_int_equal(sent.wire, out.len);
    assert_true(sent.wire < 26);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}


/* A proto whose masking keys come from its own counter, so that two of
   them made alike frame alike. */
static wsc_proto *mk_same(wsc_role role, uint8_t *ctr, const wsc_pmd_params *pp, size_t frag) {
    return mk_full(role, 0, pp, ctr, frag);
}

/* The gathered send (proto_gather.h, the client's JSON path): the pieces'
   frame is byte for byte wsc_proto_send_ex()'s of their concatenation, for
   every way of cutting payloads of many lengths (masking keys continue
   across pieces at any offset), in both roles, plain, fragmented and
   compressed; UTF-8 is validated across the cuts unless the caller says it
   did; the errors are send_ex's and leave nothing appended. */
static void test_send_pieces(void **s) {
    (void)s;
    static const size_t lens[] = {0, 1, 3, 7, 31, 125, 126, 300, 65535, 65536, 70000};
    uint8_t *pay = malloc(70000);
    assert_non_null(pay);
    for (size_t i = 0; i < 70000; i++) pay[i] = (uint8_t)('a' + i * 7 % 26);
    memcpy(pay + 100, "\xe2\x82\xac", 3); /* a 3-byte character the cuts split */
    wsc_pmd_params pp = {1, 0, 0, 15, 15};
    uint64_t st = 12345;
    for (int mode = 0; mode < 5; mode++) {
        wsc_role role = mode == 1 ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
        const wsc_pmd_params *pmd = mode == 3 ? &pp : NULL;
        size_t frag = mode == 2 ? 50 : 0;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t len = lens[li];
            for (int cut = 0; cut < 6; cut++) {
                uint8_t c1 = 0x10, c2 = 0x10;
                wsc_proto *a = mk_same(role, &c1, pmd, frag), *b = mk_same(role, &c2, pmd, frag);
                wsc__piece v[6];
                size_t n = 0, at = 0;
                while (at < len && n < 5) {
                    st = st * 6364136223846793005ull + 1442695040888963407ull;
                    size_t k = cut == 0 ? len - at : (size_t)(st >> 33) % (len - at) + 1;
                    if (n == 4) k = len - at;
                    v[n++] = (wsc__piece){pay + at, k};
                    at += k;
                }
                if (cut == 5 && n < 6) v[n++] = (wsc__piece){NULL, 0}; /* an empty piece */
                wsc_buf oa = {0}, ob = {0};
                wsc_proto_sent sa, sb;
                assert_int_equal(wsc_proto_send_ex(a, WSC_OP_TEXT, pay, len, &oa, &sa), WSC_OK);
                assert_int_equal(wsc__proto_send_pieces(b, WSC_OP_TEXT, v, n, mode == 4, &ob, &sb), WSC_OK);
                assert_int_equal(oa.len, ob.len);
                assert_memory_equal(oa.data, ob.data, oa.len);
                assert_int_equal(sa.wire, sb.wire);
                assert_int_equal(sa.frames, sb.frames);
                assert_int_equal(sa.header, sb.header);
                assert_int_equal(sa.compressed, sb.compressed);
                wsc_buf_free(&oa);
                wsc_buf_free(&ob);
                wsc_proto_free(a);
                wsc_proto_free(b);
            }
        }
    }
    free(pay);

    uint8_t c = 1;
    wsc_proto *p = mk_same(WSC_ROLE_CLIENT, &c, NULL, 0);
    wsc_buf out = {0};
    wsc_proto_sent sent;
    /* invalid UTF-8 across a cut (a lead byte, then no continuation), and
       a truncated character at the end */
    wsc__piece bad[2] = {{"ab\xe2", 3}, {"xy", 2}}, cut_ok[2] = {{"a\xe2\x82", 3}, {"\xac", 1}},
               trunc[1] = {{"a\xe2\x82", 3}};
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, bad, 2, 0, &out, &sent), WSC_EUTF8);
    assert_int_equal(out.len, 0);
    assert_int_equal(sent.wire, 0);
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, trunc, 1, 0, &out, &sent), WSC_EUTF8);
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_BINARY, bad, 2, 0, &out, &sent), WSC_OK); /* binary: any bytes */
    out.len = 0;
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, cut_ok, 2, 0, &out, &sent), WSC_OK);
    out.len = 0;
    /* arguments and state */
    wsc__piece nul[1] = {{NULL, 3}};
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, nul, 1, 1, &out, &sent), WSC_EINVAL);
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_PING, cut_ok, 2, 1, &out, &sent), WSC_EINVAL);
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, NULL, 1, 1, &out, &sent), WSC_EINVAL);
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, NULL, 0, 1, &out, &sent), WSC_OK); /* empty message */
    assert_int_equal(out.len, 6);
    out.len = 0;
    assert_int_equal(wsc_proto_send_frame(p, WSC_OP_TEXT, 0, "a", 1, &out), WSC_OK); /* a message in progress */
    size_t before = out.len;
    assert_int_equal(wsc__proto_send_pieces(p, WSC_OP_TEXT, cut_ok, 2, 1, &out, &sent), WSC_ESTATE);
    assert_int_equal(out.len, before);
    wsc_buf_free(&out);
    wsc_proto_free(p);
}

/* The receive-memory hook (wsc_proto_config.rx_mem): every growth is told,
   a refused one fails the connection with 1009, and what was told adds up
   to zero once the object is freed, also after a refusal. */
static void test_rx_mem_hook(void **s) {
    (void)s;
    /* Unmasked 1000-byte binary fragments, never finished (client role:
       the server sends unmasked). */
    uint8_t frag[4 + 1000];
    memset(frag, 0x5a, sizeof frag);
    frag[0] = 0x02; /* binary, not FIN */
    frag[1] = 126;
    frag[2] = 1000 >> 8;
    frag[3] = 1000 & 0xff;
    for (int limit_kib = 1; limit_kib <= 64; limit_kib *= 4) {
        rx_acct a = {0, limit_kib * 1024LL, 0, 0};
        wsc_proto_config c = {0};
        c.role = WSC_ROLE_CLIENT;
        c.random = tu_fixed_random;
        c.rx_mem = acct_hook;
        c.rx_mem_user = &a;
        wsc_error err;
        wsc_proto *p = wsc_proto_new(&c, &err);
        assert_non_null(p);
        int rc = WSC_OK;
        for (int i = 0; i < 100 && rc == WSC_OK; i++) {
            frag[0] = i ? 0x00 : 0x02;
            size_t used = 0;
            wsc_event ev;
            rc = wsc_proto_recv(p, frag, sizeof frag, &used, &ev);
            if (rc == WSC_OK) assert_int_equal(ev.type, WSC_EV_NONE);
            assert_true(a.held <= a.limit);
        }
        /* 100,000 bytes never fit in 64 KiB or less. */
        assert_int_equal(rc, WSC_ETOOBIG);
        assert_int_equal(wsc_proto_fail_code(p), 1009);
        assert_int_equal(a.refused, 1);
        assert_int_equal(a.held, 0); /* released at the refusal */
        wsc_proto_free(p);
        assert_int_equal(a.held, 0);
    }
    /* A message that fits is charged, then released once delivered. */
    rx_acct a = {0, 1 << 20, 0, 0};
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_CLIENT;
    c.random = tu_fixed_random;
    c.rx_mem = acct_hook;
    c.rx_mem_user = &a;
    wsc_error err;
    wsc_proto *p = wsc_proto_new(&c, &err);
    size_t used;
    wsc_event ev;
    frag[0] = 0x02;
    assert_int_equal(wsc_proto_recv(p, frag, sizeof frag, &used, &ev), WSC_OK);
    assert_true(a.held >= 1000);
    frag[0] = 0x80; /* continuation, FIN */
    assert_int_equal(wsc_proto_recv(p, frag, sizeof frag, &used, &ev), WSC_OK);
    assert_int_equal(ev.type, WSC_EV_BINARY);
    assert_int_equal(ev.len, 2000);
    assert_int_equal(wsc_proto_recv(p, NULL, 0, &used, &ev), WSC_OK);
    assert_int_equal(a.held, 0);
    wsc_proto_free(p);
    assert_int_equal(a.held, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_code_rules),
        cmocka_unit_test(test_header_parse_and_write),
        cmocka_unit_test(test_rfc6455_5_7_examples),
        cmocka_unit_test(test_encoder_exact_bytes),
        cmocka_unit_test(test_encoder_lengths_and_data_untouched),
        cmocka_unit_test(test_fresh_mask_per_frame),
        cmocka_unit_test(test_encoder_fragmentation),
        cmocka_unit_test(test_streaming_send),
        cmocka_unit_test(test_send_rules),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_every_split_point_masked),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_errors_framing_1002),
        cmocka_unit_test(test_errors_utf8_1007),
        cmocka_unit_test(test_utf8_fail_fast),
        cmocka_unit_test(test_size_limits_1009),
        cmocka_unit_test(test_ping_reply),
        cmocka_unit_test(test_close_handshake_peer_first),
        cmocka_unit_test(test_close_handshake_we_first),
        cmocka_unit_test(test_rfc7692_examples),
        cmocka_unit_test(test_inflate_bomb_bounded),
        cmocka_unit_test(test_deflate_roundtrips),
        cmocka_unit_test(test_context_takeover_effect),
        cmocka_unit_test(test_window_bits_8),
        cmocka_unit_test(test_deflate_threshold),
        cmocka_unit_test(test_rx_mem_hook),
        cmocka_unit_test(test_send_ex_summary),
        cmocka_unit_test(test_send_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
