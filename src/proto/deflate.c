/*
 * deflate.c - permessage-deflate (RFC 7692) on zlib's raw deflate streams.
 *
 * Sender: compress the message with Z_SYNC_FLUSH and strip the 00 00 FF FF
 * that ends the flush (7.2.1). Receiver: append that tail back and inflate
 * (7.2.2). "No context takeover" in a direction resets that direction's
 * stream after every message; otherwise the LZ77 window carries over.
 *
 * Inflation is bounded while it runs: output is produced into the message
 * buffer at most up to the message size limit plus one byte, so a small
 * frame that would inflate to gigabytes fails with 1009 having used at most
 * the limit's worth of memory.
 */
#include <string.h>
#include <zlib.h>

#include "internal.h"
#include "pmd.h"

struct wsc_pmd {
    z_stream def;
    z_stream inf;
    uint8_t def_ready, inf_ready;
    uint8_t def_reset, inf_reset; /* no context takeover in that direction */
    int8_t def_bits, inf_bits;
    int8_t mem_level;
    wsc_buf scratch;
};

wsc_buf *wsc__pmd_scratch(wsc_pmd *z) { return &z->scratch; }

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
    (void)opaque;
    return wsc__calloc(items, size);
}
static void z_free(voidpf opaque, voidpf ptr) {
    (void)opaque;
    wsc__free(ptr);
}

static int bits_ok(int b) { return b >= 8 && b <= 15; }

wsc_pmd *wsc__pmd_new(const wsc_pmd_params *pp, wsc_role role, int mem_level, wsc_error *err) {
    int sb = pp->server_max_window_bits ? pp->server_max_window_bits : 15;
    int cb = pp->client_max_window_bits ? pp->client_max_window_bits : 15;
    if (!bits_ok(sb) || !bits_ok(cb)) {
        wsc__seterr(err, WSC_EINVAL, "permessage-deflate window bits must be 8 to 15");
        return NULL;
    }
    if (mem_level < 1 || mem_level > 9) {
        wsc__seterr(err, WSC_EINVAL, "deflate memLevel must be 1 to 9");
        return NULL;
    }
    wsc_pmd *z = wsc__calloc(1, sizeof *z);
    if (!z) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    int client = role == WSC_ROLE_CLIENT;
    z->def_bits = (int8_t)(client ? cb : sb);
    z->inf_bits = (int8_t)(client ? sb : cb);
    z->def_reset = (uint8_t)(client ? pp->client_no_context_takeover : pp->server_no_context_takeover);
    z->inf_reset = (uint8_t)(client ? pp->server_no_context_takeover : pp->client_no_context_takeover);
    z->mem_level = (int8_t)mem_level;
    return z;
}

void wsc__pmd_free(wsc_pmd *z) {
    if (!z) return;
    if (z->def_ready) deflateEnd(&z->def);
    if (z->inf_ready) inflateEnd(&z->inf);
    wsc_buf_free(&z->scratch);
    wsc__free(z);
}

/* zlib refuses a 256-byte window for raw deflate streams (since 1.2.9), and
   silently using 512 bytes would produce data the peer cannot inflate. */
int wsc__pmd_can_compress(const wsc_pmd *z) { return z->def_bits >= 9; }

static const uint8_t flush_tail[4] = {0x00, 0x00, 0xff, 0xff};

/* Runs inflate over [in, in+len) appending to out, bounded by max_total. */
static int inflate_some(wsc_pmd *z, const uint8_t *in, size_t len, wsc_buf *out, uint64_t max_total,
                        const char **msg) {
    z_stream *s = &z->inf;
    s->next_in = (Bytef *)(uintptr_t)in; /* zlib does not write through next_in */
    s->avail_in = (uInt)len;
    for (;;) {
        /* Room: grow geometrically, but never past the limit + 1 byte. */
        uint64_t allowed = max_total >= out->len ? max_total - out->len + 1 : 1;
        size_t want = len * 4 < 4096 ? 4096 : len * 4;
        if (want < out->cap - out->len) want = out->cap - out->len;
        if (want > allowed) want = (size_t)allowed;
        if (want > (1u << 30)) want = 1u << 30;
        if (out->cap - out->len < want) {
            int rc = wsc_buf_reserve(out, want);
            if (rc) return rc == WSC_ETOOBIG ? WSC_ETOOBIG : WSC_ENOMEM;
        }
        size_t room = out->cap - out->len;
        if (room > allowed) room = (size_t)allowed;
        if (room > 0xffffffffu) room = 0xffffffffu;
        s->next_out = out->data + out->len;
        s->avail_out = (uInt)room;
        int ret = inflate(s, Z_SYNC_FLUSH);
        size_t produced = room - s->avail_out;
        out->len += produced;
        if (out->len > max_total) return WSC_ETOOBIG;
        if (ret == Z_STREAM_END) {
            /* A final block ended the stream; a new one may follow. */
            if (inflateReset(s) != Z_OK) return WSC_EPROTO;
            if (s->avail_in == 0) return WSC_OK;
            continue;
        }
        if (ret == Z_BUF_ERROR) {
            if (s->avail_out == 0) continue; /* output full: grow and go on */
            return WSC_OK;                   /* input exhausted */
        }
        if (ret != Z_OK) {
            *msg = s->msg ? s->msg : "invalid compressed data";
            if (ret == Z_MEM_ERROR) return WSC_ENOMEM;
            return WSC_EPROTO;
        }
        if (s->avail_in == 0 && s->avail_out != 0) return WSC_OK;
    }
}

int wsc__pmd_inflate(wsc_pmd *z, const uint8_t *in, size_t len, int fin, wsc_buf *out,
                     uint64_t max_total, const char **msg) {
    if (!z->inf_ready) {
        memset(&z->inf, 0, sizeof z->inf);
        z->inf.zalloc = z_alloc;
        z->inf.zfree = z_free;
        if (inflateInit2(&z->inf, -z->inf_bits) != Z_OK) return WSC_ENOMEM;
        z->inf_ready = 1;
    }
    while (len) {
        /* avail_in is 32-bit: feed huge frames in pieces. */
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        int rc = inflate_some(z, in, n, out, max_total, msg);
        if (rc) return rc;
        in += n;
        len -= n;
    }
    if (fin) {
        int rc = inflate_some(z, flush_tail, 4, out, max_total, msg);
        if (rc) return rc;
        if (z->inf_reset && inflateReset(&z->inf) != Z_OK) return WSC_EPROTO;
    }
    return WSC_OK;
}

int wsc__pmd_deflate(wsc_pmd *z, const uint8_t *in, size_t len, wsc_buf *out) {
    if (!z->def_ready) {
        memset(&z->def, 0, sizeof z->def);
        z->def.zalloc = z_alloc;
        z->def.zfree = z_free;
        if (deflateInit2(&z->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -z->def_bits, z->mem_level,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return WSC_ENOMEM;
        z->def_ready = 1;
    }
    z_stream *s = &z->def;
    size_t start = out->len;
    while (1) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        s->next_in = (Bytef *)(uintptr_t)in;
        s->avail_in = (uInt)chunk;
        int flush = chunk == len ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        do {
            size_t want = (size_t)deflateBound(s, (uLong)s->avail_in) + 16;
            int rc = wsc_buf_reserve(out, want);
            if (rc) {
                out->len = start;
                return rc;
            }
            size_t room = out->cap - out->len;
            if (room > 0xffffffffu) room = 0xffffffffu;
            s->next_out = out->data + out->len;
            s->avail_out = (uInt)room;
            int ret = deflate(s, flush);
            if (ret != Z_OK && ret != Z_BUF_ERROR) {
                out->len = start;
                return WSC_ENOMEM;
            }
            out->len += room - s->avail_out;
        } while (s->avail_out == 0 || s->avail_in != 0);
        in += chunk;
        len -= chunk;
        if (flush == Z_SYNC_FLUSH) break;
    }
    /* A sync flush always ends with an empty stored block: 00 00 FF FF. */
    if (out->len - start >= 4 && memcmp(out->data + out->len - 4, flush_tail, 4) == 0) out->len -= 4;
    if (z->def_reset) deflateReset(s);
    return WSC_OK;
}
