/*
 * frame.c - the RFC 6455 endpoint state machine: frame decoding and
 * validation, message reassembly, automatic Pong/Close replies, encoding.
 *
 * Costs, for the record:
 * - receiving a whole unfragmented message that sits in the input buffer is
 *   O(payload) for UTF-8 validation (text) or unmasking (server role) and
 *   nothing else: no copy, no allocation (the "fast path");
 * - anything else (fragments, frames split across reads, compressed
 *   messages) is copied once into a reassembly buffer sized from the frame
 *   header, allocated when needed and freed after delivery;
 * - encoding is one pass over the payload (mask-and-copy into the caller's
 *   buffer), plus one random-callback call per frame for the mask key.
 */
#include <string.h>

#include "internal.h"
#include "pmd.h"
#include "wsc/proto.h"

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

/* Header length implied by the first two bytes. */
static size_t header_len_of(uint8_t b1) {
    size_t n = 2;
    uint8_t l7 = b1 & 0x7f;
    if (l7 == 126) n += 2;
    else if (l7 == 127) n += 8;
    if (b1 & 0x80) n += 4;
    return n;
}

int wsc_frame_header_parse(const uint8_t *in, size_t len, wsc_frame_header *h) {
    if (len < 2) return 0;
    size_t need = header_len_of(in[1]);
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

enum rstate { R_HEADER = 0, R_PAYLOAD };

struct wsc_proto {
    /* configuration */
    uint64_t max_frame;
    uint64_t max_msg;
    size_t frag_size;
    size_t deflate_threshold;
    wsc_random_fn rnd;
    void *rnd_user;
    wsc_pmd *pmd; /* NULL: permessage-deflate off */

    /* receive side */
    wsc_frame_header fh;  /* the frame being received */
    uint64_t remaining;   /* its payload bytes not yet consumed */
    uint64_t frame_off;   /* payload bytes consumed (mask rotation) */
    uint64_t msg_wire;    /* payload bytes of the message so far (pre-inflate) */
    wsc_buf msg;          /* reassembly buffer (NULL when idle) */
    wsc_utf8 utf8;        /* validation state of the text message */
    size_t utf8_done;     /* bytes of msg already validated */
    uint8_t hdr[WSC_FRAME_HEADER_MAX];
    uint8_t hdr_len;
    uint8_t rstate;
    uint8_t msg_op;       /* 0, WSC_OP_TEXT or WSC_OP_BINARY: message in progress */
    uint8_t msg_compressed;
    uint8_t msg_delivered; /* msg was handed out; release it on the next call */
    uint8_t ctl_len;
    uint8_t ctl_delivered; /* ctl was handed out; release it on the next call */
    uint8_t *ctl;         /* a control frame's payload split across reads
                             (allocated then, 125 bytes; usually never) */

    /* closing handshake and pending control output */
    uint8_t role;
    uint8_t close_sent;
    uint8_t close_received;
    uint8_t close_pending; /* a Close (reply or failure) waits for flush */
    uint8_t pong_pending;
    uint8_t pong_len;
    uint16_t close_out_code; /* 0: Close without status */
    uint16_t fail_code;
    const char *close_out_reason; /* static string or NULL */
    uint8_t *pong;        /* payload of the Pong to send (125 bytes, allocated at the first Ping) */

    /* send side: a message fragmented by the caller (wsc_proto_send_frame) */
    uint8_t send_op;
    wsc_utf8 send_utf8;

    const char *errmsg; /* a static string (the failures' texts are constant) */

    /* receive-memory accounting (wsc_proto_config.rx_mem) */
    int (*rx_mem)(void *user, long long delta);
    void *rx_mem_user;
    size_t rx_charged; /* msg.cap as last reported to rx_mem */
};

static const uint8_t empty_payload[1] = {0};

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

/* The Pong owed is answered or no longer owed. Its buffer (125 bytes,
   allocated at the first Ping) stays until wsc_proto_free(): a peer's
   heartbeat costs one allocation per connection, not one per Ping. */
static void drop_pong(wsc_proto *p) { p->pong_pending = 0; }

/* Fails the connection: a Close frame with `code` becomes pending and every
   later call reports WSC_ESTATE. Returns the error code for the caller. */
static int fail(wsc_proto *p, unsigned code, const char *why) {
    p->fail_code = (uint16_t)code;
    p->errmsg = why;
    if (!p->close_sent) {
        p->close_pending = 1;
        p->close_out_code = (uint16_t)code;
        p->close_out_reason = NULL;
    }
    drop_pong(p);
    switch (code) {
    case 1007: return WSC_EUTF8;
    case 1009: return WSC_ETOOBIG;
    case 1011: return WSC_ENOMEM;
    default: return WSC_EPROTO;
    }
}

static void reset_message(wsc_proto *p) {
    p->msg_op = 0;
    p->msg_compressed = 0;
    p->msg_wire = 0;
    p->utf8.state = 0;
    p->utf8_done = 0;
    p->msg.off = p->msg.len = 0;
}

/* Tells the accounting hook how the reassembly buffer's size changed since
   it was last told. Returns non-zero if the hook refused a growth: the
   buffer is then released (and that reported too). One compare when no
   hook is set. */
static int account_rx(wsc_proto *p) {
    if (!p->rx_mem || p->msg.cap == p->rx_charged) return 0;
    long long delta = (long long)p->msg.cap - (long long)p->rx_charged;
    if (p->rx_mem(p->rx_mem_user, delta) == 0 || delta < 0) {
        p->rx_charged = p->msg.cap;
        return 0;
    }
    /* Refused: nothing of the growth was counted; release what was. */
    wsc_buf_free(&p->msg);
    if (p->rx_charged) p->rx_mem(p->rx_mem_user, -(long long)p->rx_charged);
    p->rx_charged = 0;
    return 1;
}

static const char over_budget[] = "message would exceed the memory budget";

/* Checks a complete header against every rule that can be decided from it. */
static int check_header(wsc_proto *p, const wsc_frame_header *h) {
    unsigned op = h->opcode;
    if (op >= 8) {
        if (op > WSC_OP_PONG) return fail(p, 1002, "reserved control opcode");
        if (!h->fin) return fail(p, 1002, "fragmented control frame");
        if (h->payload_len > 125) return fail(p, 1002, "control frame payload over 125 bytes");
        if (h->rsv) return fail(p, 1002, "reserved bits set on a control frame");
    } else {
        if (op > WSC_OP_BINARY) return fail(p, 1002, "reserved data opcode");
        if (h->rsv & (WSC_RSV2 | WSC_RSV3)) return fail(p, 1002, "reserved bits RSV2/RSV3 set");
        if (op == WSC_OP_CONTINUATION) {
            if (!p->msg_op) return fail(p, 1002, "continuation frame without a message to continue");
            if (h->rsv & WSC_RSV1) return fail(p, 1002, "RSV1 set on a continuation frame");
        } else {
            if (p->msg_op) return fail(p, 1002, "new data frame before the fragmented message ended");
            if ((h->rsv & WSC_RSV1) && !p->pmd) return fail(p, 1002, "RSV1 set but no extension negotiated");
        }
        if (h->payload_len > p->max_frame) return fail(p, 1009, "frame larger than the frame size limit");
        if (!(h->rsv & WSC_RSV1) && !(op == WSC_OP_CONTINUATION && p->msg_compressed) &&
            h->payload_len > p->max_msg - p->msg_wire)
            return fail(p, 1009, "message larger than the message size limit");
    }
    if (p->role == WSC_ROLE_CLIENT && h->masked) return fail(p, 1002, "server sent a masked frame");
    if (p->role == WSC_ROLE_SERVER && !h->masked) return fail(p, 1002, "client sent an unmasked frame");
    return WSC_OK;
}

/* Validates newly stored text in the reassembly buffer (fail fast). */
static int validate_new_text(wsc_proto *p) {
    size_t n = p->msg.len - p->utf8_done;
    if (n && wsc_utf8_validate(&p->utf8, p->msg.data + p->utf8_done, n) != n)
        return fail(p, 1007, "invalid UTF-8 in text message");
    p->utf8_done = p->msg.len;
    return WSC_OK;
}

/* A complete control frame's payload is data[0..len) (in the input, or in
   p->ctl when it arrived in pieces). */
static int handle_control(wsc_proto *p, wsc_event *ev, const uint8_t *data, size_t len) {
    unsigned op = p->fh.opcode;
    ev->data = data;
    ev->len = len;
    ev->compressed = 0;
    if (op == WSC_OP_PING) {
        /* Only the latest Ping needs an answer (RFC 6455 5.5.3). */
        if (!p->pong && !(p->pong = wsc__malloc(125))) return fail(p, 1011, "out of memory for a pong");
        if (len) memcpy(p->pong, data, len);
        p->pong_len = (uint8_t)len;
        p->pong_pending = 1;
        ev->type = WSC_EV_PING;
        return WSC_OK;
    }
    if (op == WSC_OP_PONG) {
        ev->type = WSC_EV_PONG;
        return WSC_OK;
    }
    /* Close */
    unsigned code = 1005;
    if (len == 1) return fail(p, 1002, "close frame with a 1-byte payload");
    if (len >= 2) {
        code = (unsigned)data[0] << 8 | data[1];
        if (!wsc_close_code_valid(code)) return fail(p, 1002, "invalid close code");
        if (!wsc_utf8_valid(data + 2, len - 2u)) return fail(p, 1007, "close reason is not valid UTF-8");
        ev->data = data + 2;
        ev->len = len - 2u;
    }
    p->close_received = 1;
    if (!p->close_sent) {
        /* Echo the status code, as RFC 6455 5.5.1 suggests. */
        p->close_pending = 1;
        p->close_out_code = (uint16_t)(code == 1005 ? 0 : code);
        p->close_out_reason = NULL;
    }
    drop_pong(p);
    reset_message(p);
    ev->type = WSC_EV_CLOSE;
    ev->close_code = code;
    return WSC_OK;
}

/* The last frame of a data message was consumed: hand the message out. */
static int finish_message(wsc_proto *p, wsc_event *ev) {
    if (p->msg_compressed) {
        const char *why = NULL;
        int rc = wsc__pmd_inflate(p->pmd, NULL, 0, 1, &p->msg, p->max_msg, &why);
        if (account_rx(p)) return fail(p, 1009, over_budget);
        if (rc == WSC_ETOOBIG) return fail(p, 1009, "message larger than the message size limit");
        if (rc == WSC_ENOMEM) return fail(p, 1011, "out of memory while decompressing");
        if (rc) return fail(p, 1007, why ? why : "invalid compressed data");
    }
    if (p->msg_op == WSC_OP_TEXT) {
        int rc = validate_new_text(p);
        if (rc) return rc;
        if (!wsc_utf8_complete(&p->utf8)) return fail(p, 1007, "text message ends inside a UTF-8 sequence");
    }
    ev->type = p->msg_op;
    ev->data = p->msg.len ? p->msg.data : empty_payload;
    ev->len = p->msg.len;
    ev->compressed = p->msg_compressed;
    p->msg_delivered = 1;
    p->msg_op = 0;
    return WSC_OK;
}

/* Appends unmasked payload bytes of a data frame to the message. */
static int store_payload(wsc_proto *p, uint8_t *src, size_t n) {
    if (p->msg_compressed) {
        if (p->fh.masked) wsc_mask(src, src, n, p->fh.mask, (size_t)(p->frame_off & 3));
        const char *why = NULL;
        int rc = wsc__pmd_inflate(p->pmd, src, n, 0, &p->msg, p->max_msg, &why);
        if (account_rx(p)) return fail(p, 1009, over_budget);
        if (rc == WSC_ETOOBIG) return fail(p, 1009, "message larger than the message size limit");
        if (rc == WSC_ENOMEM) return fail(p, 1011, "out of memory while decompressing");
        if (rc) return fail(p, 1007, why ? why : "invalid compressed data");
    } else {
        if (wsc_buf_reserve(&p->msg, n)) return fail(p, 1011, "out of memory for the message");
        if (account_rx(p)) return fail(p, 1009, over_budget);
        uint8_t *dst = p->msg.data + p->msg.len;
        if (p->fh.masked) wsc_mask(dst, src, n, p->fh.mask, (size_t)(p->frame_off & 3));
        else memcpy(dst, src, n);
        p->msg.len += n;
    }
    if (p->msg_op == WSC_OP_TEXT) return validate_new_text(p);
    return WSC_OK;
}

/* A complete, valid header is in p->fh: set up the payload state. */
static int start_frame(wsc_proto *p) {
    p->remaining = p->fh.payload_len;
    p->frame_off = 0;
    p->rstate = R_PAYLOAD;
    if (p->fh.opcode >= 8) {
        p->ctl_len = 0;
        return WSC_OK;
    }
    if (p->fh.opcode != WSC_OP_CONTINUATION) {
        p->msg_op = (uint8_t)p->fh.opcode;
        p->msg_compressed = (p->fh.rsv & WSC_RSV1) != 0;
    }
    p->msg_wire += p->fh.payload_len;
    return WSC_OK;
}

int wsc_proto_recv(wsc_proto *p, uint8_t *in, size_t len, size_t *consumed, wsc_event *ev) {
    size_t pos = 0;
    int rc = WSC_OK;
    ev->type = WSC_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->close_code = 0;
    ev->compressed = 0;
    *consumed = 0;
    if (p->fail_code) return WSC_ESTATE;
    if (p->msg_delivered) {
        /* The previous event pointed into msg: release it now. Reassembly
           buffers are not kept between messages, so an idle endpoint holds
           no receive memory. */
        p->msg_delivered = 0;
        wsc_buf_free(&p->msg);
        account_rx(p);
        reset_message(p);
    }
    if (p->ctl_delivered) {
        p->ctl_delivered = 0;
        wsc__free(p->ctl);
        p->ctl = NULL;
    }
    if (p->close_received) {
        *consumed = len; /* nothing may follow the peer's Close */
        return WSC_OK;
    }
    while (pos < len) {
        if (p->rstate == R_HEADER) {
            int hl = 0;
            if (p->hdr_len == 0) {
                /* Common case: the whole header is in the input. */
                hl = wsc_frame_header_parse(in + pos, len - pos, &p->fh);
                if (hl < 0) {
                    rc = fail(p, 1002, "64-bit payload length with the top bit set");
                    break;
                }
                pos += (size_t)hl;
            }
            if (hl == 0) {
                /* Header split across reads: gather it in p->hdr. */
                size_t need = p->hdr_len < 2 ? 2 : header_len_of(p->hdr[1]);
                size_t take = need - p->hdr_len;
                if (take > len - pos) take = len - pos;
                memcpy(p->hdr + p->hdr_len, in + pos, take);
                p->hdr_len = (uint8_t)(p->hdr_len + take);
                pos += take;
                if (p->hdr_len < need) continue;
                if (need == 2 && header_len_of(p->hdr[1]) > 2) continue;
                hl = wsc_frame_header_parse(p->hdr, p->hdr_len, &p->fh);
                if (hl < 0) {
                    rc = fail(p, 1002, "64-bit payload length with the top bit set");
                    break;
                }
                p->hdr_len = 0;
            }
            if ((rc = check_header(p, &p->fh)) != WSC_OK) break;
            start_frame(p);
            /* A whole control frame in the input: handled in place. */
            if (p->fh.opcode >= 8 && p->remaining <= len - pos) {
                size_t n = (size_t)p->remaining;
                uint8_t *data = in + pos;
                if (p->fh.masked) wsc_mask(data, data, n, p->fh.mask, 0);
                pos += n;
                p->rstate = R_HEADER;
                rc = handle_control(p, ev, data, n);
                break;
            }
            /* Fast path: a whole unfragmented, uncompressed message that is
               contiguous in the input is handed out in place. */
            if (p->fh.fin && p->fh.opcode != WSC_OP_CONTINUATION && p->fh.opcode < 8 &&
                !p->msg_compressed && p->remaining <= len - pos) {
                size_t n = (size_t)p->remaining;
                uint8_t *data = in + pos;
                if (p->fh.masked) wsc_mask(data, data, n, p->fh.mask, 0);
                if (p->fh.opcode == WSC_OP_TEXT && !wsc_utf8_valid(data, n)) {
                    rc = fail(p, 1007, "invalid UTF-8 in text message");
                    break;
                }
                pos += n;
                ev->type = p->fh.opcode;
                ev->data = data;
                ev->len = n;
                p->rstate = R_HEADER;
                reset_message(p);
                break;
            }
            if (p->remaining > 0) continue;
        } else {
            size_t n = len - pos;
            if (n > p->remaining) n = (size_t)p->remaining;
            if (p->fh.opcode >= 8) {
                if (!p->ctl && !(p->ctl = wsc__malloc(125))) {
                    rc = fail(p, 1011, "out of memory for a control frame");
                    break;
                }
                uint8_t *dst = p->ctl + p->ctl_len;
                if (p->fh.masked) wsc_mask(dst, in + pos, n, p->fh.mask, p->ctl_len);
                else memcpy(dst, in + pos, n);
                p->ctl_len = (uint8_t)(p->ctl_len + n);
            } else {
                if (p->msg.cap == 0 && !p->msg_compressed) {
                    /* Size the reassembly buffer once from what is known:
                       this frame's payload (the whole message if FIN). */
                    if (wsc_buf_reserve(&p->msg, (size_t)p->remaining)) {
                        rc = fail(p, 1011, "out of memory for the message");
                        break;
                    }
                    if (account_rx(p)) {
                        rc = fail(p, 1009, over_budget);
                        break;
                    }
                }
                if ((rc = store_payload(p, in + pos, n)) != WSC_OK) {
                    pos += n;
                    break;
                }
            }
            pos += n;
            p->remaining -= n;
            p->frame_off += n;
            if (p->remaining > 0) continue;
        }
        /* The frame's payload is complete. */
        p->rstate = R_HEADER;
        if (p->fh.opcode >= 8) {
            /* Only a split control frame gets here: its payload is in ctl
               (or it is empty). Released on the next call. */
            p->ctl_delivered = 1;
            rc = handle_control(p, ev, p->ctl ? p->ctl : empty_payload, p->ctl_len);
            break;
        }
        if (p->fh.fin) {
            rc = finish_message(p, ev);
            break;
        }
    }
    *consumed = pos;
    if (rc == WSC_OK && p->close_received) *consumed = len;
    return rc;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* Appends one frame. Room must have been reserved by the caller. */
static int put_frame(wsc_proto *p, wsc_buf *out, int fin, unsigned rsv, unsigned op,
                     const uint8_t *data, size_t len) {
    uint8_t key[4];
    const uint8_t *mask = NULL;
    if (p->role == WSC_ROLE_CLIENT) {
        if (p->rnd(p->rnd_user, key, 4) != 0) return WSC_EIO;
        mask = key;
    }
    uint8_t *dst = out->data + out->len;
    size_t h = wsc_frame_header_write(dst, fin, rsv, op, mask, len);
    if (len) {
        if (mask) wsc_mask(dst + h, data, len, key, 0);
        else memcpy(dst + h, data, len);
    }
    out->len += h + len;
    return WSC_OK;
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
        if (sent) {
            sent->wire = out->len - before;
            sent->frames = 1;
            sent->header = (uint32_t)(sent->wire - len);
            sent->compressed = rsv != 0;
            sent->pad_ = 0;
            memset(sent->reserved, 0, sizeof sent->reserved);
        }
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

int wsc_proto_send_ex(wsc_proto *p, unsigned opcode, const void *data, size_t len, wsc_buf *out,
                      wsc_proto_sent *sent) {
    if (opcode != WSC_OP_TEXT && opcode != WSC_OP_BINARY) return sent_fail(sent, WSC_EINVAL);
    if (len && !data) return sent_fail(sent, WSC_EINVAL);
    if (!can_send_data(p) || p->send_op) return sent_fail(sent, WSC_ESTATE);
    if (opcode == WSC_OP_TEXT && !wsc_utf8_valid(data, len)) return sent_fail(sent, WSC_EUTF8);
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
    drop_pong(p);
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
        drop_pong(p);
    }
    if (p->close_pending && !p->close_sent) {
        const char *r = p->close_out_reason;
        return put_close(p, p->close_out_code, r, r ? strlen(r) : 0, out);
    }
    p->close_pending = 0;
    return WSC_OK;
}
