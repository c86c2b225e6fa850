/*
 * bench_json.c - the JSON step alone, per message, on the JSON benchmark's
 * messages (json_msg.h; 880 bytes and 64 KiB by default): jansson's
 * json_loadb against wsc's parser (json.h) with and without UTF-8
 * validation, with a field read, and with the conversion to json_t; the
 * price of on-demand reading (the parse alone, one dispatch field, the last
 * member, every value read and converted); and on
 * the sending side, jansson's writer against the text splice that adds the
 * csrf member. Built with -DWITH_CJSON / -DWITH_JSONC (and -lcjson /
 * -ljson-c) it also times cJSON and json-c:
 *
 *   build/bench_json [SIZE...]
 *   cc -O2 -Iinclude -Isrc -DWITH_CJSON -DWITH_JSONC bench/bench_json.c \
 *      bench/json_c_shim.c build/libwsc.a build/libwsc_proto.a -ljansson \
 *      -lcjson -ljson-c -lssl -lcrypto -lz -lsqlite3 -lpthread -lm
 *
 * Prints one line per parser and size: messages/s and MB/s (best of 5 runs
 * of about 0.3 s each).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "json/json_internal.h"
#include "json_msg.h"
#include "wsc/json.h"
#ifdef WITH_CJSON
#include <cjson/cJSON.h>
#endif
#ifdef WITH_JSONC
int jsonc_parse_seq(const char *s, size_t n, long *seq); /* json_c_shim.c */
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *msg;
static size_t msg_len;
static wsc_json_doc *doc;
static volatile long sink;

static int run_jansson(void) {
    json_t *j = json_loadb(msg, msg_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j) return -1;
    sink += (long)json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    return 0;
}
static int run_wsc(unsigned flags) {
    if (wsc_json_parse(doc, msg, msg_len, flags, NULL)) return -1;
    int64_t seq = 0;
    if (wsc_json_int64(wsc_json_get(wsc_json_root(doc), "seq"), &seq)) return -1;
    sink += (long)seq;
    return 0;
}
static int run_wsc_trusted(void) { return run_wsc(WSC_JSON_TRUSTED_UTF8); }
/* What on-demand reading saves and what it cannot: the parse alone (every
   message is structurally parsed in full), then one dispatch field, the
   last member (its lookup skips "items" in O(1)), and every value read. */
static int run_wsc_parse_only(void) {
    if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8, NULL)) return -1;
    sink += (long)wsc_json_type(wsc_json_root(doc));
    return 0;
}
static int run_wsc_dispatch(void) {
    if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8, NULL)) return -1;
    sink += wsc_json_streq(wsc_json_get(wsc_json_root(doc), "type"), "update");
    return 0;
}
static int run_wsc_last(void) {
    if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8, NULL)) return -1;
    size_t n = 0;
    if (!wsc_json_string(wsc_json_get(wsc_json_root(doc), "pad"), &n)) return -1;
    sink += (long)n;
    return 0;
}
/* Reading a document already parsed: what a lookup itself costs. */
static int read_all(void) {
    wsc_json root = wsc_json_root(doc);
    int64_t seq = 0, id = 0, qty = 0;
    double px = 0;
    size_t n = 0;
    if (wsc_json_int64(wsc_json_get(root, "seq"), &seq) || !wsc_json_string(wsc_json_get(root, "type"), &n))
        return -1;
    for (wsc_json it = wsc_json_first(wsc_json_get(root, "items")); wsc_json_type(it); it = wsc_json_next(it)) {
        int live = 0;
        if (wsc_json_int64(wsc_json_get(it, "id"), &id) || !wsc_json_string(wsc_json_get(it, "sym"), &n) ||
            wsc_json_double(wsc_json_get(it, "px"), &px) || wsc_json_int64(wsc_json_get(it, "qty"), &qty) ||
            wsc_json_bool(wsc_json_get(it, "live"), &live))
            return -1;
        sink += (long)(id + qty + (int64_t)px + live + (long)n);
    }
    if (!wsc_json_string(wsc_json_get(root, "pad"), &n)) return -1;
    sink += (long)(seq + (long)n);
    return 0;
}
static int run_wsc_all(void) {
    if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8, NULL)) return -1;
    return read_all();
}
static int run_lookup_type(void) {
    sink += wsc_json_streq(wsc_json_get(wsc_json_root(doc), "type"), "update");
    return 0;
}
static int run_lookup_last(void) {
    size_t n = 0;
    if (!wsc_json_string(wsc_json_get(wsc_json_root(doc), "pad"), &n)) return -1;
    sink += (long)n;
    return 0;
}
static int run_wsc_validated(void) { return run_wsc(0); }
static int run_wsc_dom(void) {
    if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8, NULL)) return -1;
    json_t *j = wsc_json_to_jansson(wsc_json_root(doc));
    if (!j) return -1;
    sink += (long)json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    return 0;
}
/* Sending: jansson's own writer, wsc's writer of a json_t with the token,
   and the text splice (parse with duplicate check + copy). */
static json_t *prebuilt;
static int run_dumps(void) {
    char *s = json_dumps(prebuilt, JSON_COMPACT);
    if (!s) return -1;
    sink += (long)strlen(s);
    free(s);
    return 0;
}
static int run_write_jansson(void) {
    wsc_buf b = {0};
    int rc = wsc__json_write_jansson(&b, prebuilt, "csrf", "0123456789abcdef0123456789abcdef");
    sink += (long)b.len;
    wsc_buf_free(&b);
    return rc;
}
static wsc_buf splice_buf;
static int run_splice(void) {
    if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8 | WSC_JSON_NO_DUPLICATES, NULL)) return -1;
    splice_buf.len = 0;
    int rc = wsc__json_text_with_property(doc, "csrf", "0123456789abcdef0123456789abcdef", &splice_buf);
    sink += (long)splice_buf.len;
    return rc;
}
#ifdef WITH_CJSON
static int run_cjson(void) {
    cJSON *j = cJSON_ParseWithLength(msg, msg_len);
    if (!j) return -1;
    sink += (long)cJSON_GetObjectItemCaseSensitive(j, "seq")->valuedouble;
    cJSON_Delete(j);
    return 0;
}
#endif
#ifdef WITH_JSONC
static int run_jsonc(void) {
    long seq = 0;
    if (jsonc_parse_seq(msg, msg_len, &seq)) return -1;
    sink += seq;
    return 0;
}
#endif

static void timeit(const char *name, int (*fn)(void)) {
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        long n = 0;
        double t0 = now(), t;
        do {
            for (int k = 0; k < 16; k++, n++)
                if (fn()) {
                    fprintf(stderr, "%s failed\n", name);
                    exit(1);
                }
            t = now();
        } while (t - t0 < 0.3);
        double rate = (double)n / (t - t0);
        if (rate > best) best = rate;
    }
    printf("%-28s size %6zu  %10.0f msgs/s  %7.0f MB/s\n", name, msg_len, best, best * (double)msg_len / 1e6);
    fflush(stdout);
}

/* `bench_json --calls N WHAT [SIZE]`: WHAT (view: the receive path's
   parse, trusted UTF-8; validate: parse with UTF-8 validation; send: the
   send_json_text parse and splice) exactly N times and nothing timed, for
   callgrind: the difference of two counts over the difference of N is the
   instructions per message. WSC_JSON_SCALAR=1 forces the one-pass parser;
   WSC_JSON_AVX2=1 stage 1's AVX2 form where the CPU has AVX-512. */
static int calls(long n, const char *what, size_t size) {
    int (*fn)(void) = !strcmp(what, "view") ? run_wsc_parse_only
                      : !strcmp(what, "validate") ? run_wsc_validated
                      : !strcmp(what, "send") ? run_splice
                                              : NULL;
    if (!fn) return 2;
    const char *sc = getenv("WSC_JSON_SCALAR");
    wsc__json_force_scalar = sc && *sc == '1';
    const char *a2 = getenv("WSC_JSON_AVX2");
    wsc__json_force_avx2 = a2 && *a2 == '1';
    doc = wsc_json_doc_new(NULL);
    msg_len = size;
    msg = malloc(msg_len + 1);
    if (!json_msg_build(msg, msg_len)) return 2;
    json_msg_seq(msg, 7);
    for (long i = 0; i < n; i++)
        if (fn()) return 1;
    wsc_buf_free(&splice_buf);
    wsc_json_doc_free(doc);
    free(msg);
    return 0;
}

int main(int argc, char **argv) {
    size_t sizes[8] = {880, 65536};
    int ns = 2;
    if (argc >= 4 && !strcmp(argv[1], "--calls"))
        return calls(strtol(argv[2], NULL, 10), argv[3], argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 880);
    if (argc > 1) {
        ns = 0;
        for (int i = 1; i < argc && ns < 8; i++) sizes[ns++] = (size_t)strtoul(argv[i], NULL, 10);
    }
    doc = wsc_json_doc_new(NULL);
    for (int s = 0; s < ns; s++) {
        msg_len = sizes[s];
        msg = malloc(msg_len + 1);
        if (!json_msg_build(msg, msg_len)) return 2;
        json_msg_seq(msg, 7);
        prebuilt = json_loadb(msg, msg_len, 0, NULL);
        timeit("jansson json_loadb", run_jansson);
#ifdef WITH_JSONC
        timeit("json-c tokener", run_jsonc);
#endif
#ifdef WITH_CJSON
        timeit("cJSON_ParseWithLength", run_cjson);
#endif
        timeit("wsc_json_parse (UTF-8 ok)", run_wsc_trusted);
        timeit("wsc_json_parse (validating)", run_wsc_validated);
        timeit("wsc parse only, no lookup", run_wsc_parse_only);
        timeit("wsc parse + \"type\" streq", run_wsc_dispatch);
        timeit("wsc parse + last member", run_wsc_last);
        timeit("wsc parse + every value read", run_wsc_all);
        if (wsc_json_parse(doc, msg, msg_len, WSC_JSON_TRUSTED_UTF8, NULL)) return 1;
        timeit("parsed: \"type\" streq alone", run_lookup_type);
        timeit("parsed: last member alone", run_lookup_last);
        timeit("parsed: every value read", read_all);
        timeit("wsc_json + to_jansson", run_wsc_dom);
        timeit("send: json_dumps compact", run_dumps);
        timeit("send: wsc json_t writer", run_write_jansson);
        timeit("send: wsc text splice", run_splice);
        json_decref(prebuilt);
        free(msg);
    }
    wsc_buf_free(&splice_buf);
    wsc_json_doc_free(doc);
    return 0;
}
