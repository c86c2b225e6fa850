/* pmd.h - permessage-deflate (RFC 7692) compression state, private to the core.
 *
 * One object per endpoint holds a compressor and a decompressor, each created
 * on first use (an endpoint that never sends a compressed message never pays
 * for a deflate stream). Memory, from zlib's own formulas:
 *   deflate: (1 << (wbits + 2)) + (1 << (mem_level + 9)) bytes + ~6 KiB
 *            (15 bits, memLevel 8: ~262 KiB; 10 bits, memLevel 4: ~18 KiB)
 *   inflate: (1 << wbits) + ~7 KiB (15 bits: ~40 KiB)
 * With "no context takeover" in a direction, that direction's stream is
 * freed after every message, so an idle connection holds nothing.
 */
#ifndef WSC_PROTO_PMD_H
#define WSC_PROTO_PMD_H

#include "wsc/proto.h"

typedef struct wsc_pmd wsc_pmd;

wsc_pmd *wsc__pmd_new(const wsc_pmd_params *params, wsc_role role, int mem_level, wsc_error *err);
void wsc__pmd_free(wsc_pmd *z);

/* Non-zero if this endpoint can compress what it sends (zlib cannot produce a
   raw deflate stream with a 256-byte window: if the peer limited our window to
   8 bits we send every message uncompressed, which RFC 7692 allows). */
int wsc__pmd_can_compress(const wsc_pmd *z);

/*
 * Inflates one frame's worth of compressed payload, appending the output to
 * out. `fin` marks the last frame of the message: the 00 00 FF FF tail that
 * the sender removed is fed back first. `max_total` bounds out->len (the
 * message size limit): output beyond it is never stored and returns
 * WSC_ETOOBIG. Returns WSC_OK, WSC_ETOOBIG, WSC_ENOMEM or WSC_EPROTO
 * (corrupt data; `msg` then says why).
 */
int wsc__pmd_inflate(wsc_pmd *z, const uint8_t *in, size_t len, int fin, wsc_buf *out,
                     uint64_t max_total, const char **msg);

/*
 * Compresses a whole message into out (appending), without the trailing
 * 00 00 FF FF. Returns WSC_OK, WSC_ENOMEM or WSC_ETOOBIG.
 */
int wsc__pmd_deflate(wsc_pmd *z, const uint8_t *in, size_t len, wsc_buf *out);

/* A scratch buffer for compressed output, owned by the compression state
   (so an endpoint without permessage-deflate carries none). */
wsc_buf *wsc__pmd_scratch(wsc_pmd *z);

#endif
