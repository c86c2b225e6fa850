/*
 * delivery.c - the bookkeeping of confirmed delivery (delivery.h): the
 * message FIFOs, the confirmation Ping payload and what a Pong confirms.
 *
 * Cost: a text, binary or JSON text message sent as one plain frame is
 * kept by reference to the bytes it was written from (chunk.h: a spare
 * record and a reference count, no copy); any other (a json_t's text,
 * compressed, fragmented) is copied once more (one pooled block and a
 * memcpy; a JSON copy wiped before its block is pooled); one Ping of about
 * 10 bytes per write batch, at most one per round trip; a Pong frees the
 * prefix it confirms in O(number confirmed). Nothing here does I/O.
 */
#include "delivery.h"

#include <string.h>

#include "internal.h"
#include "wsc/proto.h"

wsc__msg *wsc__msg_new(int kind, const void *data, size_t len, json_t *json) {
    int copy = data != NULL || kind != WSC__MSG_JSON;
    wsc__msg *m = wsc__malloc(sizeof *m + (copy ? len : 0));
    if (!m) return NULL;
    memset(m, 0, sizeof *m);
    m->kind = (uint8_t)kind;
    m->len = len;
    m->cap = copy ? len : 0;
    m->has_data = (uint8_t)copy;
    if (json) m->json = json_incref(json);
    if (copy && len) memcpy(m->data, data, len);
    return m;
}

/* A JSON text holds the token: its bytes are wiped before the memory goes
   back (a copy's data[]; a frame kept by reference once unmasked, which
   is then the token in clear in a pooled send buffer; a masked frame is
   left as the engine leaves every frame it wrote). */
static void wipe_secret(wsc__msg *m) {
    if (m->kind != WSC__MSG_JSON && m->kind != WSC__MSG_JSON_TEXT) return;
    if (m->has_data && m->len) wsc__wipe(m->data, m->len);
    else if (m->chunk && m->unmasked && !m->nrun && m->len) wsc__wipe(m->chunk->data + m->coff + m->hdr, m->len);
}

void wsc__msg_free(wsc__msg *m) {
    if (!m) return;
    wipe_secret(m);
    if (m->chunk) wsc__chunk_unref(m->chunk);
    if (m->json) json_decref(m->json);
    wsc__free(m);
}

wsc__msg *wsc__delivery_msg_new(wsc__delivery *d, int kind, const void *data, size_t len) {
    for (unsigned i = d->npool; i-- > 0;) {
        wsc__msg *m = d->pool[i];
        if (m->cap < len || m->cap > 2 * len + 4096) continue; /* fits, without wasting much */
        d->pool[i] = d->pool[--d->npool];
        size_t cap = m->cap;
        memset(m, 0, sizeof *m);
        m->kind = (uint8_t)kind;
        m->len = len;
        m->cap = cap;
        m->has_data = 1;
        if (len) memcpy(m->data, data, len);
        return m;
    }
    return wsc__msg_new(kind, data, len, NULL);
}

wsc__msg *wsc__delivery_ref_new(wsc__delivery *d) {
    wsc__msg *m = d->refs_free;
    if (WSC_LIKELY(m != NULL)) {
        d->refs_free = m->next;
        d->nrefs_free--;
    } else {
        m = wsc__malloc(sizeof *m);
        if (!m) return NULL;
    }
    memset(m, 0, sizeof *m);
    return m;
}

int wsc__delivery_reserve_slow(wsc__delivery *d) {
    wsc__msg *m = wsc__malloc(sizeof *m);
    if (!m) return WSC_ENOMEM;
    m->next = NULL;
    d->refs_free = m;
    d->nrefs_free = 1;
    return WSC_OK;
}

void wsc__delivery_keep_frame_new(wsc__delivery *d, int kind, wsc__chunk *k, size_t off, size_t len, uint64_t seq,
                                  uint64_t index) {
    wsc__msg *m = wsc__delivery_ref_new(d); /* reserved: not NULL */
    m->kind = (uint8_t)kind;
    m->chunk = k;
    k->refs++;
    m->coff = off;
    m->len = len;
    m->seq = seq;
    m->index = index;
    m->nrun = 1;
    wsc__msgq_push(&d->sent, m);
}

/* The client frame at p (masked, as ours are): header bytes, and its
   payload length in *plen. */
static size_t frame_at(const uint8_t *p, uint64_t *plen) {
    size_t h = 2;
    uint64_t n = p[1] & 0x7f;
    if (n == 126) {
        n = ((uint64_t)p[2] << 8) | p[3];
        h = 4;
    } else if (n == 127) {
        n = 0;
        for (int i = 0; i < 8; i++) n = (n << 8) | p[2 + i];
        h = 10;
    }
    if (p[1] & 0x80) h += 4;
    *plen = n;
    return h;
}

/* The first k (< nrun) messages of run r are confirmed: it starts after
   them (control frames between them, our Pings, are skipped). */
static void run_drop_front(wsc__delivery *d, wsc__msg *r, uint64_t k) {
    const uint8_t *base = r->chunk->data;
    size_t off = r->coff, bytes = 0;
    for (uint64_t i = 0; i < k;) {
        uint64_t pl;
        size_t h = frame_at(base + off, &pl);
        if (!(base[off] & 0x08)) {
            bytes += (size_t)pl;
            i++;
        }
        off += h + (size_t)pl;
    }
    r->coff = off;
    r->nrun -= (uint32_t)k;
    r->index += k;
    r->seq += k;
    r->len -= bytes;
    d->sent.n -= (size_t)k;
    d->sent.bytes -= bytes;
}

/* A drop: run r becomes single messages kept by reference, unmasked in
   place (the connection is gone: these bytes are not written again),
   pushed to wq (index < written) or uq. Frees r. */
static void run_expand(wsc__delivery *d, wsc__msg *r, uint64_t written, wsc__msgq *wq, wsc__msgq *uq) {
    uint8_t *base = r->chunk->data;
    size_t off = r->coff;
    for (uint32_t i = 0; i < r->nrun;) {
        uint64_t pl;
        size_t h = frame_at(base + off, &pl);
        if (base[off] & 0x08) {
            off += h + (size_t)pl;
            continue;
        }
        wsc__msg *m = wsc__delivery_ref_new(d);
        if (!m) {
            d->lost_nomem += r->nrun - i; /* reported by the client, never silent */
            break;
        }
        m->kind = r->kind;
        m->chunk = r->chunk;
        r->chunk->refs++;
        m->coff = off;
        m->hdr = (uint8_t)h;
        m->len = (size_t)pl;
        m->seq = r->seq + i;
        m->index = r->index + i;
        uint8_t *p = base + off + h, key[4];
        memcpy(key, p - 4, 4);
        wsc_mask(p, p, m->len, key, 0);
        m->unmasked = 1;
        wsc__msgq_push(m->index < written ? wq : uq, m);
        off += h + (size_t)pl;
        i++;
    }
    wsc__delivery_msg_free(d, r);
}

void wsc__delivery_msg_free(wsc__delivery *d, wsc__msg *m) {
    if (!m) return;
    if (m->chunk) {
        wipe_secret(m);
        wsc__chunk_unref(m->chunk);
        if (d->nrefs_free < WSC__REFS_FREE_MAX) {
            m->next = d->refs_free;
            d->refs_free = m;
            d->nrefs_free++;
        } else {
            wsc__free(m);
        }
        return;
    }
    if (m->json || !m->has_data || m->cap > WSC__POOL_MAX) {
        wsc__msg_free(m);
        return;
    }
    wipe_secret(m); /* a pooled block is reused by any kind of message */
    m->kind = 0;
    if (d->npool == WSC__POOL_N) {
        /* full: drop the smallest kept block if this one is larger */
        unsigned small = 0;
        for (unsigned i = 1; i < d->npool; i++)
            if (d->pool[i]->cap < d->pool[small]->cap) small = i;
        if (d->pool[small]->cap >= m->cap) {
            wsc__msg_free(m);
            return;
        }
        wsc__msg_free(d->pool[small]);
        d->pool[small] = m;
        return;
    }
    d->pool[d->npool++] = m;
}

void wsc__delivery_free(wsc__delivery *d) {
    wsc__msgq_clear(&d->sent);
    for (unsigned i = 0; i < d->npool; i++) wsc__msg_free(d->pool[i]);
    d->npool = 0;
    while (d->refs_free) {
        wsc__msg *m = d->refs_free;
        d->refs_free = m->next;
        wsc__free(m);
    }
    d->nrefs_free = 0;
}

void wsc__msgq_push(wsc__msgq *q, wsc__msg *m) {
    m->next = NULL;
    if (q->tail) q->tail->next = m;
    else q->head = m;
    q->tail = m;
    q->n++;
    q->bytes += m->len;
}

wsc__msg *wsc__msgq_pop(wsc__msgq *q) {
    wsc__msg *m = q->head;
    if (!m) return NULL;
    q->head = m->next;
    if (!q->head) q->tail = NULL;
    q->n--;
    q->bytes -= m->len;
    m->next = NULL;
    return m;
}

void wsc__msgq_prepend(wsc__msgq *q, wsc__msgq *front) {
    if (!front->head) return;
    front->tail->next = q->head;
    if (!q->tail) q->tail = front->tail;
    q->head = front->head;
    q->n += front->n;
    q->bytes += front->bytes;
    memset(front, 0, sizeof *front);
}

void wsc__msgq_clear(wsc__msgq *q) {
    wsc__msg *m;
    while ((m = wsc__msgq_pop(q))) wsc__msg_free(m);
}

void wsc__delivery_reset(wsc__delivery *d) {
    d->pinged = 0;
    d->in_flight = 0;
    d->every = WSC__ACK_EVERY;
    d->due_at = WSC__ACK_EVERY;
}

static size_t payload(uint64_t data_sent, char out[WSC__ACK_MAX]);

size_t wsc__delivery_ping_payload(const wsc__delivery *d, uint64_t data_sent, char out[WSC__ACK_MAX]) {
    if (d->in_flight || data_sent <= d->pinged || !d->sent.n) return 0;
    return payload(data_sent, out);
}

size_t wsc__delivery_ack_payload(uint64_t data_sent, char out[WSC__ACK_MAX]) { return payload(data_sent, out); }

static size_t payload(uint64_t data_sent, char out[WSC__ACK_MAX]) {
    memcpy(out, WSC__ACK_PREFIX, WSC__ACK_PREFIX_LEN);
    /* decimal, no libc formatting on this path */
    char digits[24];
    size_t n = 0;
    uint64_t v = data_sent;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[WSC__ACK_PREFIX_LEN + i] = digits[n - 1 - i];
    return WSC__ACK_PREFIX_LEN + n;
}

void wsc__delivery_pinged(wsc__delivery *d, uint64_t data_sent) {
    if (data_sent > d->pinged) d->pinged = data_sent;
    d->due_at = d->pinged + (d->every ? d->every : WSC__ACK_EVERY);
    d->in_flight = 1;
}

long wsc__delivery_pong(wsc__delivery *d, const uint8_t *p, size_t len) {
    if (len <= WSC__ACK_PREFIX_LEN || len > WSC__ACK_PREFIX_LEN + 20 || memcmp(p, WSC__ACK_PREFIX, WSC__ACK_PREFIX_LEN))
        return -1;
    uint64_t upto = 0;
    for (size_t i = WSC__ACK_PREFIX_LEN; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        uint64_t dgt = (uint64_t)(p[i] - '0');
        if (upto > (UINT64_MAX - dgt) / 10) return -1;
        upto = upto * 10 + dgt;
    }
    /* A Pong for a Ping we never sent (a peer echoing garbage) confirms
       nothing beyond what we pinged. */
    if (upto > d->pinged) upto = d->pinged;
    if (upto == d->pinged) d->in_flight = 0;
    uint32_t every = d->every ? d->every : WSC__ACK_EVERY;
    d->every = every < WSC__ACK_EVERY_MAX ? every * 2 : WSC__ACK_EVERY_MAX; /* the connection answers */
    d->due_at = d->pinged + d->every;
    long n = 0;
    wsc__msg *m;
    while ((m = d->sent.head) && m->index < upto) {
        if (m->nrun && m->index + m->nrun > upto) {
            n += (long)(upto - m->index);
            run_drop_front(d, m, upto - m->index);
            break;
        }
        size_t cnt = m->nrun ? m->nrun : 1;
        wsc__msgq_pop(&d->sent);
        d->sent.n -= cnt - 1; /* the pop counted one */
        wsc__delivery_msg_free(d, m);
        n += (long)cnt;
    }
    return n;
}

size_t wsc__delivery_confirm_all(wsc__delivery *d) {
    size_t n = d->sent.n;
    wsc__msg *m = d->sent.head;
    while (m) {
        wsc__msg *next = m->next;
        wsc__delivery_msg_free(d, m);
        m = next;
    }
    memset(&d->sent, 0, sizeof d->sent);
    return n;
}

void wsc__delivery_split(wsc__delivery *d, uint64_t written, wsc__msgq *written_q, wsc__msgq *unwritten_q) {
    wsc__msg *m = d->sent.head, *next;
    memset(&d->sent, 0, sizeof d->sent);
    for (; m; m = next) {
        next = m->next;
        if (m->nrun) {
            run_expand(d, m, written, written_q, unwritten_q);
            continue;
        }
        if (m->chunk && !m->unmasked) {
            /* The connection is gone: these bytes will not be written
               again, so the payload is unmasked where it is. */
            uint8_t *p = m->chunk->data + m->coff + m->hdr;
            uint8_t key[4];
            memcpy(key, p - 4, 4);
            wsc_mask(p, p, m->len, key, 0);
            m->unmasked = 1;
        }
        wsc__msgq_push(m->index < written ? written_q : unwritten_q, m);
    }
}
