/*
 * lws_client.c - the `bench` contract on libwebsockets 4.1.6 (Debian's
 * libwebsockets-dev).
 *
 *   lws_client latency    ws[s]://127.0.0.1:PORT/ COUNT SIZE
 *   lws_client throughput ws[s]://127.0.0.1:PORT/ TOTAL_BYTES SIZE
 *   lws_client conns      ws[s]://127.0.0.1:PORT/ N
 *   (option --deflate before the mode: offer permessage-deflate; off by default)
 *
 * Written the way lws's minimal client examples are: one context with no
 * listener, lws_client_connect_via_info(), lws_service() until done, one
 * lws_write() per LWS_CALLBACK_CLIENT_WRITEABLE (the rule lws documents),
 * asking for the next one with lws_callback_on_writable(). Received data
 * arrives in LWS_CALLBACK_CLIENT_RECEIVE chunks and is checked in place
 * (no reassembly copy). The service buffer is raised to 128 KiB, as lws's
 * documentation suggests for throughput. No extension is registered unless
 * --deflate (so no compression). wss: the CA comes from SSL_CERT_FILE.
 */
#define _GNU_SOURCE
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include <time.h>

#include "bench_util.h"

#define MAX_IN_FLIGHT 64
#define CONNS_IN_FLIGHT 128

enum mode { M_LATENCY, M_THROUGHPUT, M_CONNS };

static struct {
    int mode;
    size_t size;
    uint64_t count; /* messages (latency, throughput) or connections (conns) */
    uint64_t sent, received;
    size_t rx_off;    /* bytes of the current echo seen */
    uint8_t *tx;      /* LWS_PRE + size: lws_write() masks the payload in place */
    uint8_t *expect;  /* size: bytes 8.. of every message (0..7: head_of()) */
    double t0, t1;
    int done, failed, closed;
    const char *why;
    /* conns */
    uint64_t started, opened;
    struct lws_client_connect_info ci;
} b;

static void fail(const char *why) {
    if (!b.failed) {
        b.failed = 1;
        b.why = why;
    }
}

/* Message i's first 8 bytes. */
static void head_of(uint64_t i, uint8_t out[8]) {
    if (b.mode == M_LATENCY) {
        char hex[9];
        snprintf(hex, sizeof hex, "%08x", (unsigned)i);
        memcpy(out, hex, 8);
    } else {
        for (int k = 0; k < 8; k++) out[k] = (uint8_t)(i >> (8 * k));
    }
}

/* Checks one received chunk of the current echo; returns 1 when the echo is complete. */
static int check_chunk(struct lws *wsi, const uint8_t *p, size_t len) {
    if (b.rx_off == 0 && lws_frame_is_binary(wsi) != (b.mode == M_THROUGHPUT)) {
        fail("echo has the wrong type");
        return 0;
    }
    if (b.rx_off + len > b.size) {
        fail("echo has the wrong length");
        return 0;
    }
    size_t i = 0;
    if (b.rx_off < 8) {
        uint8_t h[8];
        head_of(b.received, h);
        for (; i < len && b.rx_off + i < 8; i++)
            if (p[i] != h[b.rx_off + i]) {
                fail("echo mismatch");
                return 0;
            }
    }
    if (i < len && memcmp(p + i, b.expect + b.rx_off + i, len - i) != 0) {
        fail("echo mismatch");
        return 0;
    }
    b.rx_off += len;
    if (!lws_is_final_fragment(wsi)) return 0;
    if (b.rx_off != b.size) {
        fail("echo has the wrong length");
        return 0;
    }
    b.rx_off = 0;
    return 1;
}

static void start_conn(struct lws_context *ctx);

/* Every wait is bounded: no progress for 30 s fails the run. Checked by a
   5-second interval timer, so no system call per message. */
static volatile sig_atomic_t progress;
static void watchdog(int sig) {
    (void)sig;
    static sig_atomic_t last = -1;
    static int idle;
    idle = progress == last ? idle + 5 : 0;
    last = progress;
    if (idle >= 30) {
        static const char msg[] = "lws_client: timed out waiting for the server\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(1);
    }
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fail(in ? (const char *)in : "connection failed");
        b.closed = 1;
        lws_cancel_service(lws_get_context(wsi));
        break;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        progress++;
        if (b.mode == M_CONNS) {
            b.opened++;
            if (b.started < b.count) start_conn(lws_get_context(wsi));
            break;
        }
        b.t0 = now_s();
        lws_callback_on_writable(wsi);
        break;

    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        if (b.done || b.failed) { /* send a close frame and drop the connection */
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (b.mode == M_LATENCY) {
            if (b.sent != b.received) break;
            uint8_t *p = b.tx + LWS_PRE;
            head_of(b.sent, p);
            memcpy(p + 8, b.expect + 8, b.size - 8);
            if (lws_write(wsi, p, b.size, LWS_WRITE_TEXT) < (int)b.size) {
                fail("lws_write failed");
                return -1;
            }
            b.sent++;
        } else if (b.mode == M_THROUGHPUT) {
            if (b.sent < b.count && b.sent - b.received < MAX_IN_FLIGHT) {
                uint8_t *p = b.tx + LWS_PRE;
                head_of(b.sent, p);
                memcpy(p + 8, b.expect + 8, b.size - 8);
                if (lws_write(wsi, p, b.size, LWS_WRITE_BINARY) < (int)b.size) {
                    fail("lws_write failed");
                    return -1;
                }
                b.sent++;
                if (b.sent < b.count && b.sent - b.received < MAX_IN_FLIGHT) lws_callback_on_writable(wsi);
            }
        }
        break;
    }

    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (b.mode == M_CONNS || b.done) break;
        if (check_chunk(wsi, in, len)) {
            progress++;
            b.received++;
            if (b.received == b.count) {
                b.t1 = now_s();
                b.done = 1;
            }
            lws_callback_on_writable(wsi); /* the next message, or the close */
        }
        if (b.failed) lws_callback_on_writable(wsi);
        break;

    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!b.done && b.mode != M_CONNS) fail("the server closed the connection early");
        b.closed = 1;
        break;

    default: break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"bench", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_extension deflate_ext[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate, "permessage-deflate; client_max_window_bits"},
    {NULL, NULL, NULL},
};

static void start_conn(struct lws_context *ctx) {
    b.ci.context = ctx;
    b.started++;
    if (!lws_client_connect_via_info(&b.ci)) fail("lws_client_connect_via_info failed");
}

static unsigned long long num(const char *s) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end) {
        fprintf(stderr, "lws_client: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    int deflate = 0, a = 1;
    if (argc > 1 && !strcmp(argv[1], "--deflate")) {
        deflate = 1;
        a++;
    }
    if (argc - a < 3) {
        fprintf(stderr, "usage: lws_client [--deflate] latency|throughput URL COUNT|TOTAL SIZE\n"
                        "       lws_client [--deflate] conns URL N\n");
        return 2;
    }
    const char *mode = argv[a], *url = argv[a + 1];
    if (!strcmp(mode, "latency") && argc - a == 4) {
        b.mode = M_LATENCY;
        b.count = num(argv[a + 2]);
        b.size = num(argv[a + 3]);
    } else if (!strcmp(mode, "throughput") && argc - a == 4) {
        b.mode = M_THROUGHPUT;
        b.size = num(argv[a + 3]);
        b.count = b.size ? (num(argv[a + 2]) + b.size - 1) / b.size : 0;
    } else if (!strcmp(mode, "conns") && argc - a == 3) {
        b.mode = M_CONNS;
        b.count = num(argv[a + 2]);
    } else {
        fprintf(stderr, "lws_client: bad arguments for mode '%s'\n", mode);
        return 2;
    }
    if (b.mode != M_CONNS && b.size < 8) {
        fprintf(stderr, "lws_client: SIZE must be >= 8\n");
        return 2;
    }
    if (b.mode == M_CONNS && b.count == 0) {
        fprintf(stderr, "lws_client: N must be > 0\n");
        return 2;
    }

    /* URL: ws[s]://host:port/path */
    char host[64], path[512] = "/";
    unsigned port = 0;
    int tls = !strncmp(url, "wss://", 6), n = 0;
    if (sscanf(url + (tls ? 6 : 5), "%63[^:/]:%u%n", host, &port, &n) != 2 || (!tls && strncmp(url, "ws://", 5))) {
        fprintf(stderr, "lws_client: bad URL '%s'\n", url);
        return 2;
    }
    if (url[(tls ? 6 : 5) + n]) snprintf(path, sizeof path, "%s", url + (tls ? 6 : 5) + n);

    if (b.mode == M_CONNS) { /* lws sizes its fd table from this limit */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    if (b.mode != M_CONNS) {
        b.tx = malloc(LWS_PRE + b.size);
        b.expect = malloc(b.size);
        if (!b.tx || !b.expect) return 1;
        for (size_t j = 8; j < b.size; j++)
            b.expect[j] = b.mode == M_LATENCY ? (uint8_t)('a' + j % 26) : (uint8_t)((j * 31 + 7) & 0xff);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watchdog;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{5, 0}, {5, 0}};
    setitimer(ITIMER_REAL, &it, NULL);

    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.pt_serv_buf_size = 128 * 1024;
    if (deflate) info.extensions = deflate_ext;
    if (tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.client_ssl_ca_filepath = getenv("SSL_CERT_FILE");
    }
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "lws_client: lws_create_context failed\n");
        return 1;
    }

    memset(&b.ci, 0, sizeof b.ci);
    b.ci.address = host;
    b.ci.port = (int)port;
    b.ci.path = path;
    b.ci.host = host;
    b.ci.origin = host;
    b.ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    b.ci.protocol = NULL; /* no subprotocol */

    long base = rss_kb();
    double c0 = now_s();
    if (b.mode == M_CONNS) {
        while (b.started < b.count && b.started < CONNS_IN_FLIGHT && !b.failed) start_conn(ctx);
        while (b.opened < b.count && !b.failed)
            if (lws_service(ctx, 0) < 0) break;
        if (b.failed || b.opened < b.count) {
            fprintf(stderr, "lws_client: %s\n", b.why ? b.why : "not every connection opened");
            return 1;
        }
        double t = now_s() - c0;
        long rss = rss_kb();
        printf("RESULT conns msgs=0 bytes=0 seconds=%.6f conns=%llu rss_base_kb=%ld rss_kb=%ld bytes_per_conn=%lld\n",
               t, (unsigned long long)b.count, base, rss, (long long)((rss - base) * 1024 / (long long)b.count));
        fflush(stdout);
        lws_context_destroy(ctx);
        return 0;
    }

    start_conn(ctx);
    while (!b.closed)
        if (lws_service(ctx, 0) < 0) break;
    lws_context_destroy(ctx);
    if (b.failed || !b.done) {
        fprintf(stderr, "lws_client: %s\n", b.why ? b.why : "connection ended early");
        return 1;
    }
    printf("RESULT %s msgs=%llu bytes=%llu seconds=%.6f\n", b.mode == M_LATENCY ? "latency" : "throughput",
           (unsigned long long)b.count, (unsigned long long)(b.count * b.size), b.t1 - b.t0);
    return 0;
}
