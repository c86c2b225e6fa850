/*
 * frame.c - the RFC 6455 endpoint: frame headers, the object's lifecycle and
 * state, and encoding (recv.c is the receive half: decoding, validation,
 * reassembly, the receive span).
 *
 * Costs, for the record: encoding is one pass over the payload
 * (mask-and-copy into the caller's buffer), plus one random-callback call
 * per frame for the mask key.
 */
#include <string.h>

#include "proto_gather.h"
#include "proto_impl.h"

/* ------------------------------------------------------------------ */
/* Close codes                                                         */
/* ------------------------------------------------------------------ */

int wsc_close_code_valid(unsigned code) {
    if (code >= 3000 && code <= 4999) return 1;
    if (code < 1000 || code > 1014) return 0;
    return code != 1004 && code != 1005 && code != 1006;
}

int wsc_close_code_app_ok(unsigned code) { return code == 1000 || (code >= 3000 && code <= 4999); }

/* ------------------------------------------------------------------ */
/* Frame headers                                                       */
/* ------------------------------------------------------------------ */

int wsc_frame_header_parse(const uint8_t *in, size_t len, wsc_frame_header *h) {
    if (len < 2) return 0;
    size_t need = wsc__header_len_of(in[1]);
    if (len < need) return 0;
    h->fin = in[0] >> 7;
    h->rsv = (in[0] >> 4) & 7;
    h->opcode = in[0] & 0x0f;
    h->masked = in[1] >> 7;
    uint64_t l = in[1] & 0x7f;
    size_t pos = 2;
    if (l == 126) {
        l = (uint64_t)in[2] << 8 | in[3];
        pos = 4;
    } else if (l == 127) {
        l = 0;
        for (int i = 0; i < 8; i++) l = l << 8 | in[2 + i];
        pos = 10;
        if (l >> 63) return WSC_EPROTO;
    }
    h->payload_len = l;
    if (h->masked) memcpy(h->mask, in + pos, 4);
    else memset(h->mask, 0, 4);
    h->header_len = need;
    return (int)need;
}

size_t wsc_frame_header_write(uint8_t *out, int fin, unsigned rsv, unsigned opcode,
                              const uint8_t *mask, uint64_t len) {
    size_t n = 2;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (rsv & 7) << 4 | (opcode & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        out[1] = m | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] = m | 127;
        for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* The endpoint                                                        */
/* ------------------------------------------------------------------ */

wsc_proto *wsc_proto_new(const wsc_proto_config *cfg, wsc_error *err) {
    if (!cfg) {
        wsc__seterr(err, WSC_EINVAL, "no configuration given");
        return NULL;
    }
    if (WSC__CHECK_RESERVED(cfg, err, "wsc_proto_config")) return NULL;
    if (cfg->role != WSC_ROLE_CLIENT && cfg->role != WSC_ROLE_SERVER) {
        wsc__seterr(err, WSC_EINVAL, "role must be WSC_ROLE_CLIENT or WSC_ROLE_SERVER");
        return NULL;
    }
    if (cfg->role == WSC_ROLE_CLIENT && !cfg->random) {
        wsc__seterr(err, WSC_EINVAL, "the client role needs a random callback for frame masks");
        return NULL;
    }
    wsc_proto *p = wsc__calloc(1, sizeof *p);
    if (!p) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    p->role = (uint8_t)cfg->role;
    p->max_msg = cfg->max_message_size ? cfg->max_message_size : WSC_DEFAULT_MAX_MESSAGE;
    p->max_frame = cfg->max_frame_size ? cfg->max_frame_size : p->max_msg;
    p->frag_size = cfg->fragment_size;
    /* The reassembly buffer never holds more than the limit (+1 byte, so
       that inflating past the limit is detected without storing more). */
    p->msg.max = p->max_msg < SIZE_MAX ? (size_t)p->max_msg + 1 : 0;
    p->deflate_threshold = cfg->deflate_threshold ? cfg->deflate_threshold : WSC_DEFAULT_DEFLATE_THRESHOLD;
    p->rnd = cfg->random;
    p->rnd_user = cfg->random_user;
    p->rx_mem = cfg->rx_mem;
    p->rx_mem_user = cfg->rx_mem_user;
    if (cfg->deflate && cfg->deflate->enabled) {
        p->pmd = wsc__pmd_new(cfg->deflate, cfg->role,
                              cfg->deflate_mem_level ? cfg->deflate_mem_level : WSC_DEFAULT_DEFLATE_MEM_LEVEL,
                              err);
        if (!p->pmd) {
            wsc__free(p);
            return NULL;
        }
    }
    return p;
}

void wsc_proto_free(wsc_proto *p) {
    if (!p) return;
    wsc_buf_free(&p->msg);
    if (p->rx_mem && p->rx_charged) p->rx_mem(p->rx_mem_user, -(long long)p->rx_charged);
    if (p->pmd) wsc__pmd_free(p->pmd);
    wsc__free(p->ctl);
    wsc__free(p->pong);
    wsc__free(p);
}

int wsc_proto_state(const wsc_proto *p) {
    if (p->fail_code) return WSC_PS_FAILED;
    if (p->close_sent && p->close_received) return WSC_PS_CLOSED;
    if (p->close_sent) return WSC_PS_CLOSE_SENT;
    if (p->close_received) return WSC_PS_CLOSE_RECEIVED;
    return WSC_PS_OPEN;
}

unsigned wsc_proto_fail_code(const wsc_proto *p) { return p->fail_code; }
const char *wsc_proto_errmsg(const wsc_proto *p) { return p->errmsg ? p->errmsg : ""; }
int wsc_proto_want_flush(const wsc_proto *p) { return p->close_pending || (p->pong_pending && !p->close_sent); }

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* Writes the header of a frame of len payload bytes at out's end: a fresh
   masking key in key (client role; *masked set), and returns the header's
   length (0 on a randomness failure, WSC_EIO to the caller). Room must have
   been reserved by the caller. */
static inline size_t put_header(wsc_proto *p, wsc_buf *out, int fin, unsigned rsv, unsigned op, size_t len,
                                uint8_t key[4], int *masked) {
    *masked = p->role == WSC_ROLE_CLIENT;
    if (*masked && p->rnd(p->rnd_user, key, 4) != 0) return 0;
    return wsc_frame_header_write(out->data + out->len, fin, rsv, op, *masked ? key : NULL, len);
}

/* Appends one frame. Room must have been reserved by the caller. */
static int put_frame(wsc_proto *p, wsc_buf *out, int fin, unsigned rsv, unsigned op,
                     const uint8_t *data, size_t len) {
    uint8_t key[4];
    int masked;
    size_t h = put_header(p, out, fin, rsv, op, len, key, &masked);
    if (!h) return WSC_EIO;
    uint8_t *dst = out->data + out->len + h;
    if (len) {
        if (masked) wsc_mask(dst, data, len, key, 0);
        else memcpy(dst, data, len);
    }
    out->len += h + len;
    return WSC_OK;
}

/* put_frame() of a payload (len bytes) that is the concatenation of
   v[0..n) (the masking key runs on across the pieces). */
static int put_frame_pieces(wsc_proto *p, wsc_buf *out, unsigned op, const wsc__piece *v, size_t n, size_t len) {
    uint8_t key[4];
    int masked;
    size_t h = put_header(p, out, 1, 0, op, len, key, &masked), at = 0;
    if (!h) return WSC_EIO;
    uint8_t *dst = out->data + out->len + h;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].len) continue;
        if (masked) wsc_mask(dst + at, v[i].data, v[i].len, key, at);
        else memcpy(dst + at, v[i].data, v[i].len);
        at += v[i].len;
    }
    out->len += h + len;
    return WSC_OK;
}

/* What one frame of payload len bytes, wire bytes in all, framed (rsv:
   compressed). */
static void sent_one(wsc_proto_sent *sent, uint64_t wire, size_t len, unsigned rsv) {
    if (!sent) return;
    memset(sent, 0, sizeof *sent);
    sent->wire = wire;
    sent->frames = 1;
    sent->header = (uint32_t)(wire - len);
    sent->compressed = rsv != 0;
}

size_t wsc_proto_wire_size(const wsc_proto *p, size_t len) {
    size_t frames = 1;
    if (p->frag_size && len > p->frag_size) frames = (len + p->frag_size - 1) / p->frag_size;
    return len + frames * WSC_FRAME_HEADER_MAX;
}

static int can_send_data(const wsc_proto *p) { return !p->fail_code && !p->close_sent && !p->close_received; }

/* A send failed: the summary says nothing was framed. */
static int sent_fail(wsc_proto_sent *sent, int rc) {
    if (sent) memset(sent, 0, sizeof *sent);
    return rc;
}

/* Appends payload as one message of one or more frames; all or nothing.
   Fills *sent (if not NULL) on success and zeroes it on failure, so that
   the send path can end in a tail call here (it runs per message). */
#define OP_RSV(op, rsv) ((op) | (rsv) << 8) /* six arguments: a sibling call from the send path */
static int put_message(wsc_proto *p, unsigned op_rsv, const uint8_t *data, size_t len, wsc_buf *out,
                       wsc_proto_sent *sent) {
    unsigned op = op_rsv & 0xff, rsv = op_rsv >> 8;
    size_t before = out->len;
    int rc = wsc_buf_reserve(out, wsc_proto_wire_size(p, len));
    if (rc) return sent_fail(sent, rc);
    if (WSC_LIKELY(!p->frag_size || len <= p->frag_size)) {
        /* One frame (the common case): no fragment bookkeeping. */
        rc = put_frame(p, out, 1, rsv, op, data, len);
        if (rc) {
            out->len = before;
            return sent_fail(sent, rc);
        }
        sent_one(sent, out->len - before, len, rsv);
        return WSC_OK;
    }
    size_t frag = p->frag_size;
    size_t off = 0;
    uint32_t frames = 0, header = 0;
    do {
        size_t n = len - off < frag ? len - off : frag;
        int fin = off + n == len;
        size_t at = out->len;
        rc = put_frame(p, out, fin, off == 0 ? rsv : 0, off == 0 ? op : WSC_OP_CONTINUATION, data + off, n);
        if (rc) {
            out->len = before;
            return sent_fail(sent, rc);
        }
        if (off == 0) header = (uint32_t)(out->len - at - n);
        frames++;
        off += n;
    } while (off < len);
    if (sent)
        *sent = (wsc_proto_sent){.wire = out->len - before, .frames = frames, .header = header,
                                 .compressed = rsv != 0};
    return WSC_OK;
}

int wsc_proto_send(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out) {
    return wsc_proto_send_ex(p, opcode, data, len, out, NULL);
}

static int send_checked(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out,
                        wsc_proto_sent *sent);

int wsc_proto_send_ex(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out,
                      wsc_proto_sent *sent) {
    if (opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY) return sent_fail(sent, WSC_EINVAL);
    if (len && !data) return sent_fail(sent, WSC_EINVAL);
    if (!can_send_data(p) || p->send_op) return sent_fail(sent, WSC_ESTATE);
    if (opcode == WSC_OP_TEXT && !wsc_utf8_valid(data, len)) return sent_fail(sent, WSC_EUTF8);
    return send_checked(p, opcode, data, len, out, sent); /* a tail call */
}

/* A data message whose opcode, state and UTF-8 are checked: compressed if
   permessage-deflate takes it, fragmented if a fragment size splits it. */
static int send_checked(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out,
                        wsc_proto_sent *sent) {
    if (p->pmd && len >= p->deflate_threshold && wsc__pmd_can_compress(p->pmd)) {
        wsc_buf *z = wsc__pmd_scratch(p->pmd);
        z->off = z->len = 0;
        int rc = wsc__pmd_deflate(p->pmd, data, len, z);
        if (rc) return sent_fail(sent, rc);
        rc = put_message(p, OP_RSV(opcode, WSC_RSV1), z->data, z->len, out, sent);
        /* Keep a small scratch buffer; drop a large one. */
        if (z->cap > 65536) wsc_buf_free(z);
        return rc;
    }
    return put_message(p, OP_RSV(opcode, 0), data, len, out, sent); /* a tail call */
}

int wsc__pieces_utf8_valid(const wsc__piece *v, size_t n) {
    if (n == 1) return wsc_utf8_valid(v[0].data, v[0].len);
    wsc_utf8 st = {0};
    for (size_t i = 0; i < n; i++)
        if (wsc_utf8_validate(&st, v[i].data, v[i].len) != v[i].len) return 0;
    return wsc_utf8_complete(&st);
}

int wsc__proto_send_pieces(wsc_proto *p, unsigned opcode, const wsc__piece *v, size_t n, int utf8_checked,
                           wsc_buf *out, wsc_proto_sent *sent) {
    if (opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY) return sent_fail(sent, WSC_EINVAL);
    if (n && !v) return sent_fail(sent, WSC_EINVAL);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].len && !v[i].data) return sent_fail(sent, WSC_EINVAL);
        if (v[i].len > SIZE_MAX - WSC_FRAME_HEADER_MAX - len) return sent_fail(sent, WSC_ETOOBIG);
        len += v[i].len;
    }
    if (!can_send_data(p) || p->send_op) return sent_fail(sent, WSC_ESTATE);
    if (opcode == WSC_OP_TEXT && !utf8_checked && !wsc__pieces_utf8_valid(v, n)) return sent_fail(sent, WSC_EUTF8);
    if ((p->pmd && len >= p->deflate_threshold && wsc__pmd_can_compress(p->pmd)) ||
        (p->frag_size && len > p->frag_size)) {
        /* Not one plain frame: one piece goes as it is, more are joined
           first (the rare path; the client takes it only with deflate or a
           fragment size). */
        if (n <= 1) return send_checked(p, opcode, n ? v[0].data : NULL, len, out, sent);
        uint8_t *j = wsc__malloc(len ? len : 1);
        if (!j) return sent_fail(sent, WSC_ENOMEM);
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i].len) memcpy(j + at, v[i].data, v[i].len);
            at += v[i].len;
        }
        int rc = send_checked(p, opcode, j, len, out, sent);
        wsc__wipe(j, len);
        wsc__free(j);
        return rc;
    }
    int rc = wsc_buf_reserve(out, len + WSC_FRAME_HEADER_MAX);
    if (rc) return sent_fail(sent, rc);
    size_t before = out->len;
    rc = put_frame_pieces(p, out, opcode, v, n, len);
    if (rc) return sent_fail(sent, rc);
    sent_one(sent, out->len - before, len, 0);
    return WSC_OK;
}

int wsc_proto_send_frame(wsc_proto *p, unsigned opcode, int fin, const void *data, size_t len,
                         wsc_buf *out) {
    if (len && !data) return WSC_EINVAL;
    if (!can_send_data(p)) return WSC_ESTATE;
    if (opcode == WSC_OP_CONTINUATION) {
        if (!p->send_op) return WSC_ESTATE;
    } else if (opcode == WSC_OP_TEXT || opcode == WSC_OP_BINARY) {
        if (p->send_op) return WSC_ESTATE;
    } else {
        return WSC_EINVAL;
    }
    unsigned msg_op = opcode == WSC_OP_CONTINUATION ? p->send_op : opcode;
    wsc_utf8 st = opcode == WSC_OP_CONTINUATION ? p->send_utf8 : (wsc_utf8){0};
    if (msg_op == WSC_OP_TEXT) {
        if (wsc_utf8_validate(&st, data, len) != len) return WSC_EUTF8;
        if (fin && !wsc_utf8_complete(&st)) return WSC_EUTF8;
    }
    int rc = wsc_buf_reserve(out, len + WSC_FRAME_HEADER_MAX);
    if (rc) return rc;
    rc = put_frame(p, out, fin, 0, opcode, data, len);
    if (rc) return rc;
    p->send_op = fin ? 0 : (uint8_t)msg_op;
    p->send_utf8 = st;
    return WSC_OK;
}

static int put_control(wsc_proto *p, unsigned op, const uint8_t *data, size_t len, wsc_buf *out) {
    int rc = wsc_buf_reserve(out, len + WSC_FRAME_HEADER_MAX);
    if (rc) return rc;
    return put_frame(p, out, 1, 0, op, data, len);
}

int wsc_proto_ping(wsc_proto *p, const void *data, size_t len, wsc_buf *out) {
    if (len > 125 || (len && !data)) return WSC_EINVAL;
    if (p->fail_code || p->close_sent) return WSC_ESTATE;
    return put_control(p, WSC_OP_PING, data, len, out);
}

int wsc_proto_pong(wsc_proto *p, const void *data, size_t len, wsc_buf *out) {
    if (len > 125 || (len && !data)) return WSC_EINVAL;
    if (p->fail_code || p->close_sent) return WSC_ESTATE;
    return put_control(p, WSC_OP_PONG, data, len, out);
}

/* Appends a Close frame and records that it was sent. */
static int put_close(wsc_proto *p, unsigned code, const char *reason, size_t rlen, wsc_buf *out) {
    uint8_t payload[125];
    size_t n = 0;
    if (code) {
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        if (rlen) memcpy(payload + 2, reason, rlen);
        n = 2 + rlen;
    }
    int rc = put_control(p, WSC_OP_CLOSE, payload, n, out);
    if (rc) return rc;
    p->close_sent = 1;
    p->close_pending = 0;
    wsc__drop_pong(p);
    return WSC_OK;
}

int wsc_proto_close(wsc_proto *p, unsigned code, const char *reason, size_t reason_len, wsc_buf *out) {
    if (p->close_sent) return WSC_ESTATE;
    if (code == 0 && reason_len) return WSC_EINVAL;
    if (code && !wsc_close_code_valid(code)) return WSC_EINVAL;
    if (reason_len > WSC_CLOSE_REASON_MAX || (reason_len && !reason)) return WSC_EINVAL;
    if (reason_len && !wsc_utf8_valid(reason, reason_len)) return WSC_EUTF8;
    return put_close(p, code, reason, reason_len, out);
}

int wsc_proto_flush(wsc_proto *p, wsc_buf *out) {
    if (p->pong_pending && !p->close_sent && !p->close_pending) {
        int rc = put_control(p, WSC_OP_PONG, p->pong, p->pong_len, out);
        if (rc) return rc;
        wsc__drop_pong(p);
    }
    if (p->close_pending && !p->close_sent) {
        const char *r = p->close_out_reason;
        return put_close(p, p->close_out_code, r, r ? strlen(r) : 0, out);
    }
    p->close_pending = 0;
    return WSC_OK;
}
