/*
 * recv.c - the receive half of the RFC 6455 endpoint: frame decoding and
 * validation, message reassembly, automatic Pong/Close replies, and the
 * receive span (proto_span.h) through which a caller reads large payloads
 * straight into the message buffer.
 *
 * Costs, for the record:
 * - receiving a whole unfragmented message that sits in the input buffer is
 *   O(payload) for UTF-8 validation (text) or unmasking (server role) and
 *   nothing else: no copy, no allocation (the "fast path");
 * - anything else (fragments, frames split across reads, compressed
 *   messages) is copied once into a reassembly buffer sized from the frame
 *   header, allocated when needed and freed after delivery;
 * - except payload the caller reads through the span: it lands in the
 *   reassembly buffer directly and is unmasked and validated there, in
 *   place (no copy at all).
 */
#include <string.h>

#include "proto_impl.h"
#include "proto_span.h"

static const uint8_t empty_payload[1] = {0};


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
    wsc__drop_pong(p);
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
    wsc__drop_pong(p);
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
    p->span_open = 0; /* an offered span not written is abandoned */
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
                size_t need = p->hdr_len < 2 ? 2 : wsc__header_len_of(p->hdr[1]);
                size_t take = need - p->hdr_len;
                if (take > len - pos) take = len - pos;
                memcpy(p->hdr + p->hdr_len, in + pos, take);
                p->hdr_len = (uint8_t)(p->hdr_len + take);
                pos += take;
                if (p->hdr_len < need) continue;
                if (need == 2 && wsc__header_len_of(p->hdr[1]) > 2) continue;
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
/* The receive span (proto_span.h)                                     */
/* ------------------------------------------------------------------ */

int wsc__proto_recv_span(wsc_proto *p, size_t min, uint8_t **ptr, size_t *len) {
    /* The conditions under which wsc_proto_recv() would copy the next input
       bytes into msg verbatim (unmasked): a data frame's payload, not
       compressed, nothing delivered still to be released. */
    if (p->rstate != R_PAYLOAD || p->fh.opcode >= 8 || p->msg_compressed || p->fail_code ||
        p->close_received || p->msg_delivered || p->ctl_delivered)
        return 0;
    if (min == 0) min = 1;
    if (p->remaining < min) return 0;
    /* The header check bounded the frame (remaining <= max_frame) and the
       message (msg.len + remaining <= msg_wire <= max_msg), so this never
       reserves beyond a limit; the copying path reserves the same room for
       a message's first frame. */
    size_t n = p->remaining > SIZE_MAX ? SIZE_MAX : (size_t)p->remaining; /* (32-bit: then refused) */
    if (wsc_buf_reserve(&p->msg, n)) return fail(p, 1011, "out of memory for the message");
    if (account_rx(p)) return fail(p, 1009, over_budget);
    *ptr = p->msg.data + p->msg.len;
    *len = n;
    p->span_open = 1;
    return 1;
}

int wsc__proto_recv_wrote(wsc_proto *p, size_t n, wsc_event *ev) {
    ev->type = WSC_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->close_code = 0;
    ev->compressed = 0;
    if (!p->span_open) return WSC_ESTATE;
    if (n > p->remaining) return WSC_EINVAL;
    p->span_open = 0;
    uint8_t *dst = p->msg.data + p->msg.len;
    /* Unmasked where it landed: the same single pass the copying path
       makes, without the copy. */
    if (p->fh.masked) wsc_mask(dst, dst, n, p->fh.mask, (size_t)(p->frame_off & 3));
    p->msg.len += n;
    p->remaining -= n;
    p->frame_off += n;
    if (p->msg_op == WSC_OP_TEXT) {
        int rc = validate_new_text(p);
        if (rc) return rc;
    }
    if (p->remaining > 0) return WSC_OK;
    p->rstate = R_HEADER;
    return p->fh.fin ? finish_message(p, ev) : WSC_OK;
}
