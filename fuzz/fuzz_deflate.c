/* fuzz_deflate.c - the permessage-deflate receive path with its limits.
 *
 * Input: byte 0 picks the negotiated parameters, the message size limit and
 * the receive-memory budget (wsc_proto_config.rx_mem); byte 1 the fragment
 * size; the rest is the compressed payload of one message (arbitrary bytes:
 * corrupt streams, bombs), framed by the harness as masked RSV1 frames from
 * a client to a server. Checked: no crash or over-read; the message handed
 * out never exceeds the size limit; the budget is never exceeded and what
 * was charged is all released when the endpoint is freed; a failure closes
 * with 1007 (corrupt) or 1009 (too big / over budget). Then the same bytes
 * compressed by a client endpoint come out whole at a server endpoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsc/proto.h"

typedef struct {
    long long held, limit;
} budget;

static int hook(void *user, long long delta) {
    budget *b = user;
    if (delta > 0 && b->held + delta > b->limit) return 1;
    b->held += delta;
    if (b->held < 0) abort();
    return 0;
}

static int rnd(void *u, void *buf, size_t len) {
    (void)u;
    memset(buf, 0x37, len);
    return 0;
}

static void put_frame(uint8_t *out, size_t *o, int fin, int first, const uint8_t *p, size_t n) {
    out[(*o)++] = (uint8_t)((fin ? 0x80 : 0) | (first ? 0x40 | 0x02 : 0x00));
    if (n < 126) {
        out[(*o)++] = (uint8_t)(0x80 | n);
    } else {
        out[(*o)++] = 0x80 | 126;
        out[(*o)++] = (uint8_t)(n >> 8);
        out[(*o)++] = (uint8_t)n;
    }
    memset(out + *o, 0, 4); /* mask key 0 */
    *o += 4;
    memcpy(out + *o, p, n);
    *o += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 60000) return 0;
    uint8_t c0 = data[0];
    size_t frag = 1 + data[1] * 7u;
    data += 2;
    size -= 2;
    wsc_pmd_params pp = {1, c0 & 1, (c0 >> 1) & 1, 9 + (c0 >> 2) % 7, 9 + (c0 >> 5) % 7};
    budget b = {0, (c0 & 0x80) ? 4096 : 1 << 22};
    wsc_proto_config c = {0};
    c.role = WSC_ROLE_SERVER;
    c.deflate = &pp;
    c.max_message_size = (c0 & 0x40) ? 2000 : 1u << 20;
    c.rx_mem = hook;
    c.rx_mem_user = &b;
    wsc_proto *p = wsc_proto_new(&c, NULL);
    if (!p) return 0;
    /* Frame the payload. */
    size_t nframes = size / frag + 1;
    uint8_t *wire = malloc(size + nframes * 8 + 8);
    size_t o = 0, off = 0;
    do {
        size_t n = size - off < frag ? size - off : frag;
        put_frame(wire, &o, off + n >= size, off == 0, data + off, n);
        off += n;
    } while (off < size);
    size_t pos = 0;
    while (pos < o) {
        wsc_event ev;
        size_t used = 0;
        int rc = wsc_proto_recv(p, wire + pos, o - pos, &used, &ev);
        if (b.held > b.limit) abort();
        if (rc) {
            unsigned code = wsc_proto_fail_code(p);
            if (code != 1007 && code != 1009 && code != 1002) abort();
            break;
        }
        pos += used;
        if (ev.type == WSC_EV_BINARY && ev.len > c.max_message_size) abort();
        if (ev.type == WSC_EV_NONE && used == 0) break;
    }
    wsc_proto_free(p);
    if (b.held != 0) abort();
    free(wire);

    /* Round trip through compression. */
    wsc_proto_config cc = {0};
    cc.role = WSC_ROLE_CLIENT;
    cc.random = rnd;
    cc.deflate = &pp;
    cc.deflate_threshold = 1;
    wsc_proto *cl = wsc_proto_new(&cc, NULL);
    c.max_message_size = 1u << 20;
    b.limit = 1 << 24;
    wsc_proto *sv = wsc_proto_new(&c, NULL);
    wsc_buf out = {0};
    if (cl && sv && wsc_proto_send(cl, WSC_OP_BINARY, data, size, &out) == WSC_OK) {
        wsc_event ev;
        size_t used = 0;
        if (wsc_proto_recv(sv, out.data, out.len, &used, &ev) != WSC_OK || ev.type != WSC_EV_BINARY ||
            ev.len != size || (size && memcmp(ev.data, data, size) != 0))
            abort();
    }
    wsc_buf_free(&out);
    wsc_proto_free(cl);
    wsc_proto_free(sv);
    if (b.held != 0) abort();
    return 0;
}
