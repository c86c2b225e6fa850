/*
 * client_send.c - the reconnecting client's sending: the queue kept while
 * not OPEN (limits, order), handing messages to the connection (JSON with
 * the token added), and the send API.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"
#include "json/json_internal.h"
#include "proto/proto_gather.h"

/* ------------------------------------------------------------------ */
/* Queue and sending                                                   */
/* ------------------------------------------------------------------ */

int wsc__cl_ws_open(const wsc_client *c) { return c->ws && wsc_ws_ready_state(c->ws) == WSC_OPEN; }

/* JSON text validated into c->cj.tx (wsc__cj_check_text), sent with the
   current token: its pieces (the text's members, the csrf member) masked
   straight into the frame, with no joined copy and no second UTF-8 pass
   (proto/proto_gather.h). kept: as wsc__ws_send_text_pieces() (then
   *total is the payload's length). */
static int send_json_pieces(wsc_client *c, const char *data, size_t len, wsc__kept *kept, size_t *total) {
    wsc__piece v[WSC__SPLICE_PIECES];
    size_t n = 0;
    int rc = wsc__cj_text_pieces(&c->cj, data, len, c->json_property, c->token_cur, v, &n);
    if (!rc) rc = wsc__ws_send_text_pieces(c->ws, v, n, kept);
    if (total) {
        *total = 0;
        for (size_t i = 0; i < n; i++) *total += v[i].len;
    }
    wsc__cj_wipe(&c->cj);
    return rc;
}

/* JSON text with the token of the current connection (if any) as the
   property json_property; `checked`: already validated by client_send. */
int wsc__cl_send_json_text_now(wsc_client *c, const char *data, size_t len, int checked) {
    int rc = checked ? WSC_OK : wsc__cj_check_text(&c->cj, data, len, c->token_cur != NULL);
    if (!rc) rc = send_json_pieces(c, data, len, NULL, NULL);
    return rc;
}

int wsc__cl_send_now(wsc_client *c, int kind, const void *data, size_t len, json_t *json) {
    if (kind == Q_TEXT) return wsc_ws_send_text(c->ws, data, len);
    if (kind == Q_BINARY) return wsc_ws_send_binary(c->ws, data, len);
    if (kind == Q_JSON_TEXT) return wsc__cl_send_json_text_now(c, data, len, 0);
    const char *txt;
    size_t n;
    int rc = wsc__cj_jansson_out(&c->cj, json, c->json_property, c->token_cur, &txt, &n);
    if (!rc) rc = wsc_ws_send_text(c->ws, txt, n);
    wsc__cj_wipe(&c->cj);
    return rc;
}

int wsc__cl_keeping(const wsc_client *c) { return c->o.delivery != WSC_DELIVERY_OFF; }

/* Queued + unconfirmed messages against the queue limits. */
int wsc__cl_over_limits(const wsc_client *c, size_t len) {
    size_t n = c->q.n + c->d.sent.n, b = c->q.bytes + c->d.sent.bytes;
    return n + 1 > c->lim_n || len > c->lim_b || b > c->lim_b - len;
}

int wsc__cl_enqueue(wsc_client *c, int kind, const void *data, size_t len, json_t *json) {
    if (wsc__cl_over_limits(c, len)) return WSC_EQUEUEFULL;
    wsc__msg *m = wsc__msg_new(kind, kind == Q_JSON ? NULL : data, len, json);
    if (!m) return WSC_ENOMEM;
    m->seq = ++c->seq;
    wsc__msgq_push(&c->q, m);
    return WSC_OK;
}

static int keep_sent(wsc_client *c, wsc__msg *m, uint64_t index, int rc);

static int hand_over_json_text(wsc_client *c, const char *data, size_t len, uint64_t seq);

/* Hands message m to the OPEN connection and keeps it until confirmed
   (delivery.h). Takes m in every case. A JSON message is serialised now,
   with the token current now, and kept as the text that was sent. */
int wsc__cl_hand_over(wsc_client *c, wsc__msg *m) {
    uint64_t index = wsc__ws_data_sent(c->ws);
    int rc;
    if (m->kind == Q_JSON_TEXT) {
        /* A kept text that goes again carries the token it was sent with:
           the splice replaces it with the current one. The new frame holds
           what is kept from now on, so m goes. */
        rc = hand_over_json_text(c, (const char *)wsc__msg_bytes(m), m->len, m->seq);
        wsc__msg_free(m);
        return rc;
    }
    if (m->kind == Q_JSON) {
        const char *txt = NULL;
        size_t tl = 0;
        rc = wsc__cj_jansson_out(&c->cj, m->json, c->json_property, c->token_cur, &txt, &tl);
        if (rc) {
            wsc__cj_wipe(&c->cj);
            wsc__msg_free(m);
            return rc;
        }
        wsc__msg *k = wsc__msg_new(m->kind, txt, tl, m->json);
        rc = k ? wsc_ws_send_text(c->ws, txt, tl) : WSC_ENOMEM;
        if (k) k->seq = m->seq;
        wsc__msg_free(m);
        m = k;
        wsc__cj_wipe(&c->cj);
        if (!m) return rc;
    } else {
        rc = m->kind == Q_TEXT ? wsc_ws_send_text(c->ws, (const char *)wsc__msg_bytes(m), m->len)
                               : wsc_ws_send_binary(c->ws, wsc__msg_bytes(m), m->len);
    }
    return keep_sent(c, m, index, rc);
}

static void keep_ref(wsc_client *c, int kind, const wsc__kept *kept, size_t len, uint64_t seq);

/* JSON text handed to the OPEN connection (from the caller's buffer, or a
   queued or resent message's bytes): validated, then its pieces masked
   into the frame (send_json_pieces) and the frame kept by reference, as
   send_by_ref keeps text: no copy of the text is made at all. Where frames
   are not plain (deflate, fragment_size) the text that goes out is copied
   into the kept message instead. */
static int hand_over_json_text(wsc_client *c, const char *data, size_t len, uint64_t seq) {
    int rc = wsc__cj_check_text(&c->cj, data, len, c->token_cur != NULL);
    if (rc) return rc;
    if (wsc__delivery_reserve(&c->d)) return WSC_ENOMEM;
    wsc__kept kept;
    size_t total = 0;
    rc = send_json_pieces(c, data, len, &kept, &total);
    if (WSC_LIKELY(rc == WSC_OK && kept.chunk != NULL)) {
        keep_ref(c, Q_JSON_TEXT, &kept, total, seq);
        return WSC_OK;
    }
    if (rc != WSC_OK && rc != WSC__WS_NOT_PLAIN) return rc;
    /* A copy is kept: frames not plain (nothing sent yet: the copy is what
       goes out), or sent but no chunk (not reached: one plain frame, a
       header set aside). The same splice either way (the token has not
       changed since). */
    int sent = rc == WSC_OK;
    uint64_t index = sent ? kept.index : wsc__ws_data_sent(c->ws);
    const char *txt = NULL;
    size_t tl = 0;
    rc = wsc__cj_text_out(&c->cj, data, len, c->json_property, c->token_cur, &txt, &tl);
    wsc__msg *m = rc ? NULL : wsc__delivery_msg_new(&c->d, Q_JSON_TEXT, txt, tl);
    wsc__cj_wipe(&c->cj);
    if (rc) return rc;
    if (!m) return WSC_ENOMEM;
    m->seq = seq;
    if (!sent) rc = wsc_ws_send_text(c->ws, (const char *)m->data, m->len);
    return keep_sent(c, m, index, rc);
}

/* Keeps the message just sent as kept->chunk's frame (by reference), and
   sends the confirmation Ping if one is due. Cannot fail (the record was
   reserved before the send). */
static void keep_ref(wsc_client *c, int kind, const wsc__kept *kept, size_t len, uint64_t seq) {
    wsc__delivery_keep_frame(&c->d, kind, kept->chunk, kept->off, len, seq, kept->index);
    char payload[WSC__ACK_MAX];
    size_t n = wsc__delivery_ping_due(&c->d, kept->index + 1, payload);
    if (WSC_UNLIKELY(n != 0) && wsc_ws_ping(c->ws, payload, n) == WSC_OK) wsc__delivery_pinged(&c->d, kept->index + 1);
}

/* Text or binary from the caller's buffer on a connection whose messages
   are single plain frames: sent first, then kept by reference to its frame
   in the send buffer (chunk.h), with no copy. Everything that can fail for
   memory is set aside before the send, so a message that went out is
   always kept. */
static int send_by_ref(wsc_client *c, int kind, const void *data, size_t len, uint64_t seq) {
    if (wsc__delivery_reserve(&c->d)) return WSC_ENOMEM;
    wsc__kept kept;
    /* text: validated by wsc__cl_client_send, not again */
    int rc = wsc__ws_send_kept(c->ws, kind == Q_BINARY, data, len, 1, &kept);
    wsc__chunk *k = kept.chunk;
    uint64_t index = kept.index;
    if (WSC_UNLIKELY(rc != WSC_OK)) {
        if (rc != WSC__WS_NOT_PLAIN) return rc;
        /* compressed or fragmented: a copy is kept */
        wsc__msg *m = wsc__delivery_msg_new(&c->d, kind, data, len);
        if (!m) return WSC_ENOMEM;
        m->seq = seq;
        return wsc__cl_hand_over(c, m);
    }
    if (WSC_UNLIKELY(k == NULL)) {
        /* Not reached (one plain frame, a header set aside): a copy then. */
        wsc__msg *m = wsc__delivery_msg_new(&c->d, kind, data, len);
        if (!m) return WSC_ENOMEM;
        m->seq = seq;
        return keep_sent(c, m, index, WSC_OK);
    }
    keep_ref(c, kind, &kept, len, seq);
    return WSC_OK;
}

/* The end of a hand-over: m was sent (rc) as data message `index`; keeps it
   until confirmed, or frees it. Takes m. */
static int keep_sent(wsc_client *c, wsc__msg *m, uint64_t index, int rc) {
    if (rc || !wsc__cl_keeping(c)) {
        wsc__msg_free(m);
        return rc;
    }
    m->index = index;
    wsc__msgq_push(&c->d.sent, m);
    char payload[WSC__ACK_MAX];
    uint64_t sent = index + 1;
    size_t n = wsc__delivery_ping_due(&c->d, sent, payload);
    if (n && wsc_ws_ping(c->ws, payload, n) == WSC_OK) wsc__delivery_pinged(&c->d, sent);
    return WSC_OK;
}

/* Discards the queue, reporting it (never silently): the error event
   carries the count and the sequence numbers (seq..seq_last). Returns freed. */
int wsc__cl_drop_queue(wsc_client *c, const char *why) {
    size_t n = c->q.n;
    uint64_t first = c->q.head ? c->q.head->seq : 0, last = c->q.tail ? c->q.tail->seq : 0;
    wsc__msgq_clear(&c->q);
    if (!n) return 0;
    char msg[200];
    snprintf(msg, sizeof msg, "%zu queued message%s discarded: %s", n, n == 1 ? "" : "s", why);
    wsc_client_event ev = {0};
    ev.type = WSC_CLIENT_ERROR;
    ev.error = WSC_ECLOSED;
    ev.message = msg;
    ev.count = n;
    ev.seq = first;
    ev.seq_last = last;
    return wsc__cl_emit(c, &ev);
}

/* Sends the queue in order on the fresh connection. Returns freed. */
int wsc__cl_flush_queue(wsc_client *c) {
    while (c->q.head && wsc__cl_ws_open(c)) {
        wsc__msg *m = wsc__msgq_pop(&c->q);
        int rc = wsc__cl_keeping(c) ? wsc__cl_hand_over(c, m)
                                    : wsc__cl_send_now(c, m->kind, wsc__msg_bytes(m), m->len, m->json);
        if (!wsc__cl_keeping(c)) wsc__msg_free(m);
        if (rc) {
            char msg[160];
            snprintf(msg, sizeof msg, "a queued message could not be sent: %s", wsc_strerror(rc));
            if (wsc__cl_emit_error(c, rc, msg)) return 1;
        }
    }
    return 0;
}

int wsc__cl_client_send(wsc_client *c, int kind, const void *data, size_t len, json_t *json) {
    if (!c || (len && !data && kind != Q_JSON)) return WSC_EINVAL;
    if (kind == Q_TEXT && !wsc_utf8_valid(data, len)) return WSC_EUTF8;
    if (c->stopped || c->app_closing) return WSC_ECLOSED;
    if (kind == Q_JSON_TEXT && !wsc__cl_ws_open(c)) {
        /* Validated now (invalid text never queues), an object if a token
           is expected; again when it is sent, with the token current then. */
        const char *tok = c->token_mem ? c->token_mem : c->token_cur;
        int rc = wsc__cj_check_text(&c->cj, data, len, tok != NULL);
        if (rc) return rc;
    }
    if (wsc__cl_ws_open(c)) {
        if (!wsc__cl_keeping(c)) {
            int rc = wsc__cl_send_now(c, kind, data, len, json);
            if (rc == WSC_OK) c->seq++;
            return rc;
        }
        if (wsc__cl_over_limits(c, len)) return WSC_EQUEUEFULL;
        if (kind == Q_JSON_TEXT) {
            int rc = hand_over_json_text(c, data, len, c->seq + 1);
            if (rc == WSC_OK) c->seq++;
            return rc;
        }
        if (kind != Q_JSON) {
            int rc = send_by_ref(c, kind, data, len, c->seq + 1);
            if (rc == WSC_OK) c->seq++;
            return rc;
        }
        wsc__msg *m = kind == Q_JSON ? wsc__msg_new(kind, NULL, len, json) : wsc__delivery_msg_new(&c->d, kind, data, len);
        if (!m) return WSC_ENOMEM;
        m->seq = c->seq + 1;
        int rc = wsc__cl_hand_over(c, m);
        if (rc == WSC_OK) c->seq++;
        return rc;
    }
    if (c->o.no_queue) return WSC_ESTATE;
    if (kind == Q_JSON) {
        /* Check now what can be checked (serialisable; object if a token
           is expected), and count its size for bufferedAmount. */
        const char *tok = c->token_mem ? c->token_mem : c->token_cur;
        const char *txt;
        int rc = wsc__cj_jansson_out(&c->cj, json, c->json_property, tok, &txt, &len);
        wsc__cj_wipe(&c->cj);
        if (rc) return rc;
    }
    return wsc__cl_enqueue(c, kind, data, len, json);
}

int wsc_client_send_text(wsc_client *c, const char *data, size_t len) { return wsc__cl_client_send(c, Q_TEXT, data, len, NULL); }
int wsc_client_send_binary(wsc_client *c, const void *data, size_t len) {
    return wsc__cl_client_send(c, Q_BINARY, data, len, NULL);
}
int wsc_client_send_json(wsc_client *c, json_t *value) {
    if (!value) return WSC_EINVAL;
    return wsc__cl_client_send(c, Q_JSON, NULL, 0, value);
}
int wsc_client_send_json_text(wsc_client *c, const char *text, size_t len) {
    if (!text && len) return WSC_EINVAL;
    return wsc__cl_client_send(c, Q_JSON_TEXT, text ? text : "", len, NULL);
}
int wsc_client_send_json_view(wsc_client *c, wsc_json value) {
    size_t len;
    const char *raw = wsc_json_raw(value, &len);
    if (!raw) return WSC_EINVAL;
    return wsc__cl_client_send(c, Q_JSON_TEXT, raw, len, NULL);
}

