/*
 * bench_delivery.c - the cost of confirmed delivery: throughput of the
 * reconnecting client (client.h) with confirmation (the default,
 * WSC_DELIVERY_AT_MOST_ONCE: every message kept until a Pong) and without
 * it (WSC_DELIVERY_OFF), against an echo server (bench/chaos.py starts
 * `wsc serve --echo` and runs both in the same run, alternating).
 *
 *   bench_delivery on|off URL TOTAL_BYTES SIZE
 *
 * Binary messages of SIZE bytes, at most 64 echoes outstanding (as `wsc
 * bench throughput`), until ceil(TOTAL_BYTES / SIZE) echoes are back; the
 * first 8 bytes carry the index and each echo is checked in order.
 * Output: RESULT delivery=<on|off> size=<n> msgs=<n> seconds=<s> MBps=<x>
 * confirmed=<n> (messages confirmed by Pongs or the close).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsc/client.h"

#define IN_FLIGHT 64

typedef struct {
    wsc_client *c;
    wsc_loop *loop;
    uint64_t count, sent, got;
    size_t size;
    uint8_t *msg;
    struct timespec t0, t1;
    int failed;
} run;

static void put_le64(uint8_t *p, uint64_t v) {
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static int send_next(run *r) {
    put_le64(r->msg, r->sent++);
    return wsc_client_send_binary(r->c, r->msg, r->size);
}

static void stop_fail(run *r, const char *why) {
    fprintf(stderr, "bench_delivery: %s\n", why);
    r->failed = 1;
    wsc_loop_stop(r->loop);
}

static void on_open(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    (void)ev;
    run *r = user;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    for (uint64_t k = 0; k < IN_FLIGHT && r->sent < r->count; k++)
        if (send_next(r) != WSC_OK) return stop_fail(r, "send failed");
}

static void on_message(wsc_client *c, const wsc_client_event *ev, void *user) {
    run *r = user;
    uint8_t head[8];
    put_le64(head, r->got);
    if (ev->len != r->size || memcmp(ev->data, head, 8) != 0) return stop_fail(r, "wrong echo");
    if (++r->got == r->count) {
        clock_gettime(CLOCK_MONOTONIC, &r->t1);
        wsc_client_close(c, 1000, NULL);
        return;
    }
    if (r->sent < r->count && send_next(r) != WSC_OK) stop_fail(r, "send failed");
}

static void on_close(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    run *r = user;
    if (r->got != r->count || !ev->was_clean) stop_fail(r, "closed early");
    wsc_loop_stop(r->loop);
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
        fprintf(stderr, "usage: bench_delivery on|off URL TOTAL_BYTES SIZE\n");
        return 2;
    }
    run r = {0};
    unsigned long long total = strtoull(argv[3], NULL, 10);
    r.size = (size_t)strtoull(argv[4], NULL, 10);
    if (r.size < 8 || !total) return 2;
    r.count = (total + r.size - 1) / r.size;
    r.msg = calloc(1, r.size);
    for (size_t j = 8; j < r.size; j++) r.msg[j] = (uint8_t)((j * 31 + 7) & 0xff);
    r.loop = wsc_loop_new(NULL);
    wsc_client_options o = {0};
    o.delivery = strcmp(argv[1], "on") ? WSC_DELIVERY_OFF : WSC_DELIVERY_AT_MOST_ONCE;
    o.no_store = 1;
    o.no_reconnect = 1;
    o.no_heartbeat = 1;
    o.ws.no_deflate = 1;
    o.queue_max_bytes = (size_t)IN_FLIGHT * r.size * 4 + (1u << 20);
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_close = on_close;
    o.user = &r;
    wsc_error err;
    r.c = wsc_client_new(r.loop, argv[2], &o, &err);
    if (!r.c) {
        fprintf(stderr, "bench_delivery: %s\n", err.message);
        return 1;
    }
    wsc_loop_run(r.loop);
    uint64_t confirmed = wsc_client_confirmed_total(r.c);
    wsc_client_free(r.c);
    wsc_loop_free(r.loop);
    free(r.msg);
    if (r.failed || r.got != r.count) return 1;
    double s = (double)(r.t1.tv_sec - r.t0.tv_sec) + (double)(r.t1.tv_nsec - r.t0.tv_nsec) / 1e9;
    printf("RESULT delivery=%s size=%zu msgs=%llu seconds=%.6f MBps=%.1f confirmed=%llu\n", argv[1], r.size,
           (unsigned long long)r.count, s, (double)r.count * (double)r.size / s / 1e6, (unsigned long long)confirmed);
    return 0;
}
