/*
 * bench.c - `wsc bench`: the benchmark contract every client implements
 * (bench/README.md), so clients can be compared on one echo server.
 *
 *   wsc bench latency URL COUNT SIZE
 *       COUNT serial round trips of a SIZE-byte text message; message i is
 *       printf("%08x", i) followed by 'a' + j % 26 for bytes j >= 8.
 *   wsc bench throughput URL TOTAL_BYTES SIZE
 *       binary messages of SIZE (>= 8) bytes, at most 64 in flight, until
 *       ceil(TOTAL_BYTES / SIZE) echoes are back; bytes 0-7 are i little-
 *       endian, byte j >= 8 is (j*31+7) & 0xff; every echo checked in order.
 *       --payload json|random|FILE sends bench/payload.h's messages instead
 *       (json as text, the others binary), each echo checked byte for byte.
 *   wsc bench conns URL N
 *       opens N connections (handshakes complete), reports its own memory.
 *   wsc bench [--recv view|dom|raw] [--send text|json-text|json-t] json URL COUNT SIZE
 *       COUNT JSON text messages of SIZE bytes (bench/json_msg.h), 64 in
 *       flight, each echo parsed by the client and its fields checked
 *       (bench_json.c).
 *
 * latency uses the blocking API (sync.h) unless --api loop; the other modes
 * run on the event loop (wsc_ws), as their exchanges keep 64 in flight.
 *
 * Output: one line on stdout, RESULT <mode> msgs=<n> bytes=<n> seconds=<s>
 * (conns adds conns=<n> rss_base_kb=<n> rss_kb=<n> bytes_per_conn=<n>);
 * exit 0, or non-zero on any error, early close or mismatch (one line on
 * stderr says which). Compression is off unless --deflate is given.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../bench/payload.h"
#include "bench_json.h"
#include "commands.h"
#include "util.h"
#include "wsc/loop.h"
#include "wsc/sync.h"
#include "wsc/ws.h"

#define IN_FLIGHT 64

enum bmode { B_LATENCY, B_THROUGHPUT, B_CONNS };

typedef struct bench {
    int mode;
    wsc_loop *loop;
    wsc_ws *ws;
    uint64_t count;  /* messages to exchange */
    size_t size;
    uint64_t sent, got;
    uint8_t *msg;    /* the message being built / expected */
    uint8_t *expect; /* throughput: the constant tail */
    struct timespec t0, t1;
    int failed;
    const char *why;
    /* conns */
    wsc_ws **conns;
    uint64_t created, opened;
    long rss_base;
    const char *url;
    wsc_ws_options *opts;
    payload *pl; /* throughput --payload, or NULL */
} bench;

/* Handshakes in flight at once in `conns` mode: enough to keep the server
   busy, few enough that the listen backlog never overflows. */
#define CONNS_IN_FLIGHT 128

static double secs(const struct timespec *a, const struct timespec *b) {
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void fail(bench *b, const char *why) {
    if (!b->failed) {
        b->failed = 1;
        b->why = why;
    }
    wsc_loop_stop(b->loop);
}

/* Latency message i: 8 hex digits then the alphabet pattern (built once). */
static void latency_msg(bench *b, uint64_t i) {
    /* printf("%08x", i), without printf's cost on the measured path. */
    static const char digits[] = "0123456789abcdef";
    char hex[8];
    for (int k = 7; k >= 0; k--, i >>= 4) hex[k] = digits[i & 15];
    memcpy(b->msg, hex, b->size < 8 ? b->size : 8);
}

static void put_le64(uint8_t *p, uint64_t v) {
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static int send_next(bench *b) {
    if (b->mode == B_LATENCY) {
        latency_msg(b, b->sent);
        b->sent++;
        return wsc_ws_send_text(b->ws, (const char *)b->msg, b->size);
    }
    if (b->pl) {
        /* send_text/send_binary copy the bytes: the buffer may change next. */
        const uint8_t *m = payload_msg(b->pl, b->sent++);
        return b->pl->text ? wsc_ws_send_text(b->ws, (const char *)m, b->size) : wsc_ws_send_binary(b->ws, m, b->size);
    }
    put_le64(b->msg, b->sent);
    b->sent++;
    return wsc_ws_send_binary(b->ws, b->msg, b->size);
}

static void on_open(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)ev;
    bench *b = user;
    clock_gettime(CLOCK_MONOTONIC, &b->t0);
    uint64_t first = b->mode == B_LATENCY ? 1 : (b->count < IN_FLIGHT ? b->count : IN_FLIGHT);
    for (uint64_t k = 0; k < first; k++)
        if (send_next(b) != WSC_OK) {
            fail(b, "send failed");
            return;
        }
}

static void on_message(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    bench *b = user;
    if (ev->len != b->size) {
        fail(b, "echo has the wrong length");
        return;
    }
    if (b->mode == B_LATENCY) {
        /* b->msg still holds the message just sent */
        if (ev->binary || memcmp(ev->data, b->msg, b->size) != 0) {
            fail(b, "echo differs from the message sent");
            return;
        }
    } else if (b->pl) {
        if (ev->binary == b->pl->text || memcmp(ev->data, payload_msg(b->pl, b->got), b->size) != 0) {
            fail(b, "echo differs from the message sent, or is out of order");
            return;
        }
    } else {
        uint8_t head[8];
        put_le64(head, b->got);
        size_t h = b->size < 8 ? b->size : 8;
        if (!ev->binary || memcmp(ev->data, head, h) != 0 ||
            (b->size > 8 && memcmp(ev->data + 8, b->expect + 8, b->size - 8) != 0)) {
            fail(b, "echo differs from the message sent, or is out of order");
            return;
        }
    }
    b->got++;
    if (b->got == b->count) {
        clock_gettime(CLOCK_MONOTONIC, &b->t1);
        wsc_ws_close(ws, 1000, NULL);
        return;
    }
    if (b->sent < b->count && send_next(b) != WSC_OK) fail(b, "send failed");
}

static void on_error(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    bench *b = user;
    fprintf(stderr, "wsc bench: %s\n", ev->message);
    fail(b, "connection error");
}

static void on_close(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)ev;
    bench *b = user;
    if (b->got < b->count) fail(b, "the connection closed before the last echo");
    wsc_loop_stop(b->loop);
}

/* VmRSS in KiB. */
static long vm_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

static void conn_create(bench *b) {
    wsc_error err;
    uint64_t i = b->created++;
    b->conns[i] = wsc_ws_new(b->loop, b->url, b->opts, &err);
    if (!b->conns[i]) {
        fprintf(stderr, "wsc bench: %s\n", err.message);
        fail(b, "cannot create a connection");
    }
}

static void conn_open(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)ev;
    bench *b = user;
    if (++b->opened == b->count) {
        clock_gettime(CLOCK_MONOTONIC, &b->t1);
        wsc_loop_stop(b->loop);
    } else if (b->created < b->count) {
        conn_create(b);
    }
}

static void conn_error(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    bench *b = user;
    fprintf(stderr, "wsc bench: %s\n", ev->message);
    fail(b, "a connection failed");
}

static void conn_close(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)ev;
    fail(user, "a connection closed early");
}

/* latency on the blocking API (sync.h): each round trip is one write and
   one read, where the loop pays epoll_wait + read + write. The connection is
   made with the same options as the loop's modes. */
static int latency_sync(bench *b, const char *url, const wsc_ws_options *o) {
    wsc_error err;
    wsc_sync *s = wsc_sync_connect(url, o, 60000, &err);
    if (!s) {
        fprintf(stderr, "wsc bench: %s\n", err.message);
        return 1;
    }
    const char *why = NULL;
    clock_gettime(CLOCK_MONOTONIC, &b->t0);
    while (b->got < b->count) {
        latency_msg(b, b->got);
        if (wsc_sync_send_text(s, (const char *)b->msg, b->size, -1) != WSC_OK) {
            why = "send failed";
            break;
        }
        wsc_sync_msg m;
        int rc = wsc_sync_recv(s, &m, 30000);
        if (rc != WSC_OK) {
            why = rc == WSC_ECLOSED ? "the connection closed before the last echo" : "receive failed";
            break;
        }
        if (m.type != WSC_SYNC_TEXT || m.len != b->size || memcmp(m.data, b->msg, b->size) != 0) {
            why = "echo differs from the message sent";
            break;
        }
        b->got++;
    }
    clock_gettime(CLOCK_MONOTONIC, &b->t1);
    if (why && *wsc_sync_error(s)) fprintf(stderr, "wsc bench: %s\n", wsc_sync_error(s));
    if (!why) wsc_sync_close(s, 1000, NULL, -1);
    wsc_sync_free(s);
    if (why) {
        fprintf(stderr, "wsc bench: %s\n", why);
        return 1;
    }
    printf("RESULT latency msgs=%llu bytes=%llu seconds=%.6f\n", (unsigned long long)b->got,
           (unsigned long long)(b->got * b->size), secs(&b->t0, &b->t1));
    return 0;
}

static void bench_usage(FILE *f) {
    fputs("usage: wsc bench [options] latency URL COUNT SIZE\n"
          "       wsc bench [options] throughput URL TOTAL_BYTES SIZE\n"
          "       wsc bench [options] conns URL N\n"
          "       wsc bench [options] json URL COUNT SIZE\n"
          "Prints one line: RESULT <mode> msgs=<n> bytes=<n> seconds=<s>\n"
          "(conns adds conns= rss_base_kb= rss_kb= bytes_per_conn=); exits non-zero on any\n"
          "error, early close or mismatch. Compression is off unless --deflate.\n"
          "  --api sync|loop    latency: the blocking API (default: one write and one\n"
          "                     read per round trip) or the event loop (wsc_ws)\n"
          "  --deflate          offer permessage-deflate\n"
          "  --payload json|random|FILE   throughput: bench/payload.h's messages (json as\n"
          "                     text) instead of the counter pattern\n"
          "  --ca FILE          trust this CA for wss://\n"
          "  --insecure         do not verify the server certificate\n"
          "  --recv view|dom|raw          json: the client's view (default), its json_t, or no parse\n"
          "  --send text|json-text|json-t json: send_text (default), send_json_text, send_json\n"
          "  -h, --help         this help\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end) return -1;
    *out = v;
    return 0;
}

int wsc_cmd_bench(int argc, char **argv) {
    int deflate = 0, insecure = 0;
    const char *ca = NULL, *jrecv = NULL, *jsend = NULL, *api = "sync", *pkind = NULL;
    static const struct option longopts[] = {{"deflate", no_argument, 0, 'd'}, {"ca", required_argument, 0, 'c'},
                                             {"insecure", no_argument, 0, 'k'}, {"help", no_argument, 0, 'h'},
                                             {"recv", required_argument, 0, 'r'}, {"send", required_argument, 0, 's'},
                                             {"api", required_argument, 0, 'a'}, {"payload", required_argument, 0, 'p'},
                                             {0, 0, 0, 0}};
    cli_getopt_reset();
    int ch;
    /* Options anywhere (GNU permutation): "bench latency URL 200 32 --ca f". */
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd': deflate = 1; break;
        case 'c': ca = optarg; break;
        case 'k': insecure = 1; break;
        case 'r': jrecv = optarg; break;
        case 's': jsend = optarg; break;
        case 'a': api = optarg; break;
        case 'p': pkind = optarg; break;
        case 'h': bench_usage(stdout); return 0;
        default: bench_usage(stderr); return 2;
        }
    }
    if (strcmp(api, "sync") && strcmp(api, "loop")) {
        bench_usage(stderr);
        return 2;
    }
    int n = argc - optind;
    char **a = argv + optind;
    bench b;
    memset(&b, 0, sizeof b);
    uint64_t x = 0, y = 0;
    if (n == 4 && !strcmp(a[0], "latency") && !parse_u64(a[2], &x) && !parse_u64(a[3], &y) && x && y) {
        b.mode = B_LATENCY;
        b.count = x;
        b.size = (size_t)y;
    } else if (n == 4 && !strcmp(a[0], "throughput") && !parse_u64(a[2], &x) && !parse_u64(a[3], &y) && x && y >= 8) {
        b.mode = B_THROUGHPUT;
        b.size = (size_t)y;
        b.count = (x + y - 1) / y;
    } else if (n == 4 && !strcmp(a[0], "json") && !parse_u64(a[2], &x) && !parse_u64(a[3], &y)) {
        bench_json_opts jo = {a[1], x, (size_t)y, jrecv, jsend, deflate, insecure, ca};
        return bench_json_run(&jo);
    } else if (n == 3 && !strcmp(a[0], "conns") && !parse_u64(a[2], &x)) {
        /* N = 0 is allowed: a baseline (the process and the library set up,
           no connection), which tools compare against. */
        b.mode = B_CONNS;
        b.count = x;
    } else {
        bench_usage(stderr);
        return 2;
    }
    if (pkind && b.mode != B_THROUGHPUT) {
        bench_usage(stderr);
        return 2;
    }
    payload pl;
    if (pkind) {
        const char *why = NULL;
        if (payload_init(&pl, pkind, b.size, &why)) {
            fprintf(stderr, "wsc bench: %s\n", why);
            payload_free(&pl);
            return 2;
        }
        b.pl = &pl;
    }
    const char *url = a[1];
    wsc_error err;
    /* Library set-up first (as any client creates its context before it
       connects): the conns figure is then per connection only. */
    wsc_global_init();
    b.loop = wsc_loop_new(&err);
    if (!b.loop) {
        fprintf(stderr, "wsc bench: %s\n", err.message);
        return 1;
    }
    wsc_ws_options o = {0};
    o.no_deflate = !deflate;
    o.ca_file = ca;
    o.insecure_skip_verify = insecure;
    o.user = &b;
    o.max_buffered = (size_t)1 << 40;
    int rc = 0;

    if (b.mode == B_CONNS) {
        /* Room for N sockets. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < b.count + 64) {
            /* The soft limit up to the hard one; past it only if privileged. */
            rlim_t want = (rlim_t)b.count + 1024;
            struct rlimit up = {want, want > rl.rlim_max ? want : rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &up) != 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
            }
        }
        o.on_open = conn_open;
        o.on_error = conn_error;
        o.on_close = conn_close;
        o.connect_timeout_ms = 60000;
        o.handshake_timeout_ms = 60000;
        b.conns = calloc(b.count ? b.count : 1, sizeof *b.conns);
        if (!b.conns) {
            fprintf(stderr, "wsc bench: out of memory\n");
            return 1;
        }
        b.url = url;
        b.opts = &o;
        b.rss_base = vm_rss_kb();
        clock_gettime(CLOCK_MONOTONIC, &b.t0);
        while (b.created < b.count && b.created < CONNS_IN_FLIGHT && !b.failed) conn_create(&b);
        if (!b.failed && b.count) wsc_loop_run(b.loop);
        if (!b.count) b.t1 = b.t0;
        long rss = vm_rss_kb();
        if (!b.failed && b.opened == b.count) {
            long delta = rss - b.rss_base;
            printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld bytes_per_conn=%lld\n",
                   secs(&b.t0, &b.t1), (unsigned long long)b.count, b.rss_base, rss,
                   b.count ? (long long)(delta * 1024 / (long)b.count) : 0LL);
        } else {
            fprintf(stderr, "wsc bench: %s\n", b.why ? b.why : "not every connection opened");
            rc = 1;
        }
        for (uint64_t i = 0; i < b.created; i++) wsc_ws_free(b.conns[i]);
        free(b.conns);
        wsc_loop_free(b.loop);
        return rc;
    }

    b.msg = malloc(b.size);
    b.expect = malloc(b.size);
    if (!b.msg || !b.expect) {
        fprintf(stderr, "wsc bench: out of memory\n");
        return 1;
    }
    for (size_t j = 0; j < b.size; j++) {
        b.msg[j] = b.mode == B_LATENCY ? (uint8_t)('a' + j % 26) : (uint8_t)((j * 31 + 7) & 0xff);
        b.expect[j] = b.msg[j];
    }
    o.max_message_size = b.size + 1024;
    if (b.mode == B_LATENCY && !strcmp(api, "sync")) {
        rc = latency_sync(&b, url, &o);
        wsc_loop_free(b.loop);
        free(b.msg);
        free(b.expect);
        return rc;
    }
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_close = on_close;
    o.max_message_size = b.size + 1024;
    b.ws = wsc_ws_new(b.loop, url, &o, &err);
    if (!b.ws) {
        fprintf(stderr, "wsc bench: %s\n", err.message);
        return 1;
    }
    wsc_loop_run(b.loop);
    if (!b.failed && b.got == b.count) {
        printf("RESULT %s msgs=%llu bytes=%llu seconds=%.6f\n", b.mode == B_LATENCY ? "latency" : "throughput",
               (unsigned long long)b.got, (unsigned long long)(b.got * b.size), secs(&b.t0, &b.t1));
    } else {
        fprintf(stderr, "wsc bench: %s\n", b.why ? b.why : "the exchange did not complete");
        rc = 1;
    }
    wsc_ws_free(b.ws);
    wsc_loop_free(b.loop);
    free(b.msg);
    free(b.expect);
    if (b.pl) payload_free(b.pl);
    return rc;
}
