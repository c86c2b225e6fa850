/* fuzz_frame.c - the frame decoder and endpoint state machine.
 *
 * Input layout: byte 0 selects role, deflate parameters and a size limit;
 * byte 1 seeds the chunk sizes; the rest is the byte stream fed to
 * wsc_proto_recv in pieces. Checked: no crash, no over-read (ASan), consumed
 * never exceeds what was given, NONE only when all input is consumed, after
 * an error every call returns WSC_ESTATE and a Close is pending, event
 * payloads are readable. Then a round trip: the same bytes sent as a message
 * by one endpoint are received intact by the other.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/proto.h"

static int fuzz_random(void *u, void *buf, size_t len) {
    (void)u;
    memset(buf, 0x5a, len);
    return 0;
}

static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n) {
    if (n) sink ^= p[0] ^ p[n - 1];
}

static void decode(const uint8_t *ctl, const uint8_t *data, size_t size) {
    wsc_pmd_params pp = {1, ctl[0] & 1, (ctl[0] >> 1) & 1, 8 + (ctl[0] >> 4) % 8, 9 + (ctl[0] >> 2) % 7};
    wsc_proto_config c = {0};
    c.role = (ctl[0] & 0x80) ? WSC_ROLE_SERVER : WSC_ROLE_CLIENT;
    c.random = fuzz_random;
    c.max_message_size = (ctl[0] & 0x40) ? 1000 : 1u << 20;
    c.deflate = (ctl[0] & 0x08) ? &pp : NULL;
    wsc_proto *p = wsc_proto_new(&c, NULL);
    if (!p) return;
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    size_t off = 0, step = 1 + ctl[1] % 17;
    int failed = 0;
    while (off < size && !failed) {
        size_t n = size - off < step ? size - off : step;
        size_t pos = 0;
        while (pos < n) {
            wsc_event ev;
            size_t used = 0;
            int rc = wsc_proto_recv(p, copy + off + pos, n - pos, &used, &ev);
            if (used > n - pos) abort();
            pos += used;
            if (rc) {
                if (rc == WSC_ESTATE) abort(); /* first failure must be reported as such */
                if (wsc_proto_state(p) != WSC_PS_FAILED || !wsc_proto_fail_code(p)) abort();
                size_t u2;
                if (wsc_proto_recv(p, copy, size, &u2, &ev) != WSC_ESTATE) abort();
                failed = 1;
                break;
            }
            if (ev.type == WSC_EV_NONE) {
                if (pos != n) abort();
                break;
            }
            touch(ev.data, ev.len);
            if (ev.type == WSC_EV_TEXT && !wsc_utf8_valid(ev.data, ev.len)) abort();
            if (ev.type == WSC_EV_CLOSE && !(ev.close_code == 1005 || wsc_close_code_valid(ev.close_code))) abort();
        }
        off += n;
        step = 1 + (step * 7 + 3) % 31;
    }
    wsc_buf out = {0};
    (void)wsc_proto_flush(p, &out);
    wsc_buf_free(&out);
    free(copy);
    wsc_proto_free(p);
}

static void roundtrip(const uint8_t *ctl, const uint8_t *data, size_t size) {
    wsc_pmd_params pp = {1, ctl[0] & 1, (ctl[0] >> 1) & 1, 9 + (ctl[0] >> 4) % 7, 9 + (ctl[0] >> 2) % 7};
    wsc_proto_config cc = {0}, sc = {0};
    cc.role = WSC_ROLE_CLIENT;
    cc.random = fuzz_random;
    cc.fragment_size = ctl[1] % 64;
    cc.deflate = (ctl[0] & 0x08) ? &pp : NULL;
    cc.deflate_threshold = 1;
    sc.role = WSC_ROLE_SERVER;
    sc.deflate = cc.deflate;
    wsc_proto *cl = wsc_proto_new(&cc, NULL), *sv = wsc_proto_new(&sc, NULL);
    if (!cl || !sv) abort();
    unsigned op = wsc_utf8_valid(data, size) ? WSC_OP_TEXT : WSC_OP_BINARY;
    for (int round = 0; round < 2; round++) {
        wsc_buf out = {0};
        if (wsc_proto_send(cl, op, data, size, &out) != WSC_OK) abort();
        size_t pos = 0;
        int got = 0;
        while (pos < out.len || !got) {
            wsc_event ev;
            size_t used;
            if (wsc_proto_recv(sv, out.data + pos, out.len - pos, &used, &ev) != WSC_OK) abort();
            pos += used;
            if (ev.type == WSC_EV_NONE) break;
            if (ev.type != (int)op || ev.len != size || (size && memcmp(ev.data, data, size))) abort();
            got = 1;
        }
        if (!got) abort();
        wsc_buf_free(&out);
    }
    wsc_proto_free(cl);
    wsc_proto_free(sv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    decode(data, data + 2, size - 2);
    if (size < 4096) roundtrip(data, data + 2, size - 2);
    return 0;
}
