/*
 * json_msg.h - the JSON benchmark's messages (bench/README.md, "json"),
 * shared by `wsc bench json` and bench_json; bench/clients/ws_client.js and
 * websockets_client.py build the same bytes.
 *
 * Message i of SIZE bytes (SIZE >= 128):
 *   {"seq":<1000000000 + i>,"type":"update","items":[ITEM_0,...,ITEM_{n-1}],"pad":"<x...>"}
 *   ITEM_k = {"id":<1000 + k%9000>,"sym":"SYM<k%10000 as %04u>","px":<1000 + k%9000>.<k*7%100 as %02u>,
 *             "qty":<100000 + k*3%900000>,"live":true}
 * (every number of fixed width, so that every message of a run has the
 * same length), n = (SIZE - 56) / 66 items (66 bytes each with its comma),
 * then as many 'x' in "pad" as make exactly SIZE bytes. For SIZE 880: an
 * object holding an array of 12 small objects (the message);
 * 65536: 992 of them. i < 9e9.
 */
#ifndef WSC_BENCH_JSON_MSG_H
#define WSC_BENCH_JSON_MSG_H

#include <stdio.h>
#include <string.h>

#define JSON_MSG_MIN 128
#define JSON_MSG_ITEM 66
#define JSON_MSG_SEQ_OFF 7 /* offset of the 10 digits of seq */

static inline size_t json_msg_items(size_t size) {
    size_t n = (size - 56) / JSON_MSG_ITEM;
    return n ? n : 1;
}

/* Builds message 0 into buf (size + 1 bytes); returns the item count, or 0
   if size is too small. json_msg_seq() then stamps each message's number. */
static inline size_t json_msg_build(char *buf, size_t size) {
    if (size < JSON_MSG_MIN) return 0;
    size_t n = json_msg_items(size), o = 0;
    o += (size_t)snprintf(buf + o, size + 1 - o, "{\"seq\":%llu,\"type\":\"update\",\"items\":[", 1000000000ull);
    for (size_t k = 0; k < n && o < size; k++)
        o += (size_t)snprintf(buf + o, size + 1 - o, "%s{\"id\":%u,\"sym\":\"SYM%04u\",\"px\":%u.%02u,\"qty\":%u,\"live\":true}",
                              k ? "," : "", (unsigned)(1000 + k % 9000), (unsigned)(k % 10000),
                              (unsigned)(1000 + k % 9000), (unsigned)(k * 7 % 100), (unsigned)(100000 + k * 3 % 900000));
    static const char tail[] = "],\"pad\":\"";
    if (o + sizeof tail - 1 + 2 > size) return 0;
    memcpy(buf + o, tail, sizeof tail - 1);
    o += sizeof tail - 1;
    while (o < size - 2) buf[o++] = 'x';
    buf[o++] = '"';
    buf[o++] = '}';
    buf[o] = 0;
    return n;
}

static inline void json_msg_seq(char *buf, unsigned long long i) {
    i += 1000000000ull;
    for (int k = 9; k >= 0; k--, i /= 10) buf[JSON_MSG_SEQ_OFF + k] = (char)('0' + i % 10);
}

#endif
