/*
 * serve.c - `wsc serve`: a WebSocket server on the library's server role.
 *
 *   wsc serve [--host 127.0.0.1] [--port 0] [--echo|--broadcast|--sink]
 *             [--require-csrf] [--tls-cert F --tls-key F] [-p PROTO]...
 *
 * The first line on stdout is the URL clients connect to (with --port 0 the
 * kernel picks the port). Logs go to stderr (-v: every connection and
 * message; tokens are never printed).
 *
 * --require-csrf is the server half of the double-submit check, done by the
 * library's server role (server.h: wsc_server_csrf); the rules: the
 * handshake's cookie `csrf_token` and query parameter `csrf` must both be
 * present, non-empty and equal (compared in constant time), else HTTP 403;
 * a cookie or parameter given twice is ambiguous (parsers disagree on which
 * one counts) and refused with HTTP 400. Then every text message must be a
 * JSON object whose property `csrf` equals that token, else the connection
 * is closed with 1008 (policy violation): JSON with a key given twice is
 * refused for the same reason; text that is not JSON and binary messages
 * carry no token and are refused too, unless --csrf-allow-non-json.
 *
 * --issue-token answers a plain HTTP GET of `/` (a page load, not an
 * upgrade) from a client without the cookie with a fresh token in
 * `Set-Cookie: csrf_token=...; Path=/; HttpOnly; SameSite=Strict` (and
 * Secure over TLS): the remote server that provides the token in the seed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"
#include "compat/compat.h"
#include "wsc/http.h"
#include "wsc/loop.h"
#include "wsc/server.h"
#include "wsc/ws.h"

enum mode { M_ECHO, M_BROADCAST, M_SINK };

typedef struct serve_app {
    wsc_loop *loop;
    wsc_server *srv;
    int mode;
    int verbose, quiet;
    int require_csrf;
    int allow_non_json; /* --csrf-allow-non-json: non-JSON text and binary pass */
    int issue_token;
    int tls;
    const char *cookie_name, *query_param, *json_property;
    unsigned shutdown_code;
    int shutting_down;
    uint64_t messages, bytes;
    wsc_watch *sigw;
    wsc_timer *life, *grace;
    wsc__sigfd sig; /* SIGINT, SIGTERM, SIGHUP as a readable fd */
} serve_app;

static void logf_(serve_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(serve_app *a, const char *fmt, ...) {
    if (a->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("wsc serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A refused upgrade (the CSRF check among others): one log line. */
static void on_refuse(wsc_server *s, const wsc_server_request *req, int status, const char *why, void *user) {
    (void)s;
    serve_app *a = user;
    logf_(a, "refused %s: %d %s", req->peer, status, why);
}

/* --issue-token: a page load of / hands a client without the cookie a fresh
   token (32 random bytes, base64url). The token is built on the stack and
   wiped; the copy in the response buffer lives until it is written. */
static int on_http(wsc_server *s, const wsc_server_request *req, void *user, wsc_buf *response) {
    (void)s;
    serve_app *a = user;
    if (!a->issue_token || strcmp(req->path, "/") != 0) return 0;
    const char *cv = NULL;
    size_t cvl = 0;
    if (wsc_cookie_get(req->cookie, strlen(req->cookie), a->cookie_name, &cv, &cvl) == 1 && cvl) {
        logf_(a, "%s already has a token: none issued", req->peer);
        return wsc_http_error_response(200, NULL, "you already have a token\n", NULL, 0, response, NULL) == WSC_OK
                   ? 1 : -1;
    }
    unsigned char raw[32];
    char tok[64], cookie[200];
    if (RAND_bytes(raw, sizeof raw) != 1) return -1;
    int n = EVP_EncodeBlock((unsigned char *)tok, raw, sizeof raw);
    while (n > 0 && tok[n - 1] == '=') n--;
    tok[n] = '\0';
    for (int i = 0; i < n; i++) tok[i] = tok[i] == '+' ? '-' : tok[i] == '/' ? '_' : tok[i];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", a->cookie_name, tok,
             a->tls ? "; Secure" : "");
    wsc_header h[2] = {{wsc_span_str("Set-Cookie"), wsc_span_str(cookie)},
                       {wsc_span_str("Cache-Control"), wsc_span_str("no-store")}};
    int rc = wsc_http_error_response(200, NULL, "token issued in the cookie; connect with it\n", h, 2, response,
                                     NULL);
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(tok, sizeof tok);
    OPENSSL_cleanse(cookie, sizeof cookie);
    logf_(a, "issued a token to %s", req->peer);
    return rc == WSC_OK ? 1 : -1;
}

static void on_open(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    (void)ev;
    serve_app *a = user;
    if (a->verbose)
        logf_(a, "open %s (protocol '%s', extensions '%s')", wsc_sconn_peer(c), wsc_sconn_protocol(c),
              wsc_sconn_extensions(c));
}

typedef struct bcast {
    int binary;
    const uint8_t *data;
    size_t len;
} bcast;

static void send_one(wsc_sconn *c, void *arg) {
    bcast *b = arg;
    if (b->binary) wsc_sconn_send_binary(c, b->data, b->len);
    else wsc_sconn_send_text(c, (const char *)b->data, b->len);
}

static void on_message(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    serve_app *a = user;
    a->messages++;
    a->bytes += ev->len;
    if (a->verbose) {
        if (ev->binary) logf_(a, "%s sent %zu bytes of binary", wsc_sconn_peer(c), ev->len);
        else if (a->require_csrf) logf_(a, "%s sent %zu bytes of text", wsc_sconn_peer(c), ev->len);
        else logf_(a, "%s: %.*s", wsc_sconn_peer(c), (int)(ev->len > 200 ? 200 : ev->len), (const char *)ev->data);
    }
    switch (a->mode) {
    case M_ECHO:
        if (ev->binary) wsc_sconn_send_binary(c, ev->data, ev->len);
        else wsc_sconn_send_text(c, (const char *)ev->data, ev->len);
        break;
    case M_BROADCAST: {
        bcast b = {ev->binary, ev->data, ev->len};
        wsc_server_foreach(s, send_one, &b);
        break;
    }
    case M_SINK: break;
    }
}

static void on_close(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    serve_app *a = user;
    if (a->verbose)
        logf_(a, "closed %s: %u%s%s%s (%s)", wsc_sconn_peer(c), ev->code, ev->reason[0] ? " '" : "", ev->reason,
              ev->reason[0] ? "'" : "", ev->was_clean ? "clean" : "not clean");
    if (a->shutting_down && wsc_server_connections(s) == 0) wsc_loop_stop(a->loop);
}

static void on_error(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    serve_app *a = user;
    if (ev->error == WSC_ECSRF) logf_(a, "closing %s: message without the right CSRF token (1008)", wsc_sconn_peer(c));
    else if (a->verbose) logf_(a, "%s: %s", wsc_sconn_peer(c), ev->message);
}

static void close_one(wsc_sconn *c, void *arg) {
    serve_app *a = arg;
    wsc_sconn_close(c, a->shutdown_code, a->shutdown_code == 1012 ? "service restart" : "server shutting down");
}

static void shutdown_now(serve_app *a) {
    if (a->shutting_down) return;
    a->shutting_down = 1;
    wsc_server_stop_listening(a->srv);
    if (wsc_server_connections(a->srv) == 0) {
        wsc_loop_stop(a->loop);
        return;
    }
    wsc_server_foreach(a->srv, close_one, a);
    wsc_timer_start(a->grace, 2000); /* bounded: clients that never answer */
}

static void on_signal(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)events;
    serve_app *a = user;
    (void)fd;
    int signo;
    while ((signo = wsc__sigfd_read(&a->sig)) > 0) {
        if (signo == SIGHUP) a->shutdown_code = 1012;
        if (!a->quiet) logf_(a, "signal %d: closing connections with %u", signo, a->shutdown_code);
        shutdown_now(a);
    }
}

static void on_grace(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)t;
    (void)user;
    wsc_loop_stop(loop);
}

static void on_lifetime(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    shutdown_now(user);
}

static void serve_usage(FILE *f) {
    fputs("usage: wsc serve [options]\n"
          "  --host ADDR            address to listen on (default 127.0.0.1)\n"
          "  --port N               port (default 0: pick a free one; the URL is printed)\n"
          "  --unix PATH            listen on a Unix-domain socket instead\n"
          "  --echo                 echo every message with its type (default)\n"
          "  --broadcast            send every message to every connected client\n"
          "  --sink                 read and discard messages\n"
          "  --require-csrf         double-submit check: cookie csrf_token == query csrf,\n"
          "                         and every JSON message's csrf property == that token\n"
          "                         (empty, or given twice: refused; text that is not\n"
          "                         JSON and binary messages: closed with 1008)\n"
          "  --csrf-allow-non-json  let text that is not JSON and binary messages pass\n"
          "  --issue-token          GET / (a page, not an upgrade) without the cookie sets\n"
          "                         a fresh token cookie (HttpOnly, SameSite=Strict)\n"
          "  --csrf-cookie NAME     cookie name (default csrf_token)\n"
          "  --csrf-param NAME      query parameter (default csrf)\n"
          "  --csrf-property NAME   JSON property (default csrf)\n"
          "  --tls-cert FILE        serve wss:// with this certificate chain (PEM)\n"
          "  --tls-key FILE         and this private key (PEM)\n"
          "  -p, --protocol NAME    a supported subprotocol (repeatable)\n"
          "  --no-deflate           do not accept permessage-deflate\n"
          "  --max-message-size N   largest message accepted (default 64 MiB)\n"
          "  --max-connections N    refuse more with 503 (default 100000)\n"
          "  --memory-budget SIZE   bytes buffered for all connections together\n"
          "                         (K/M/G suffixes; default: a quarter of RAM, 64M-1G;\n"
          "                         over it: 1009 for a message, 1008 for a send)\n"
          "  --message-memory SIZE  most one message being received may hold (default:\n"
          "                         a quarter of the budget; then 1009)\n"
          "  --message-timeout SEC  longest an unfinished message may be held (default 60;\n"
          "                         then 1008)\n"
          "  --idle-timeout SEC     close connections silent this long with 1001 (default: never)\n"
          "  --max-per-address N    connections at once from one IP address (default: no limit)\n"
          "  --shutdown-code CODE   close code sent on SIGINT/SIGTERM (default 1001;\n"
          "                         SIGHUP always uses 1012 service restart)\n"
          "  --lifetime SECONDS     shut down by itself after this long\n"
          "  --lean                 benchmark mode: no deflate, no logging\n"
          "  -v, --verbose          log connections and messages to stderr\n"
          "  -q, --quiet            log nothing\n"
          "  -h, --help             this help\n",
          f);
}

int wsc_cmd_serve(int argc, char **argv) {
    serve_app a;
    memset(&a, 0, sizeof a);
    a.cookie_name = "csrf_token";
    a.query_param = "csrf";
    a.json_property = "csrf";
    a.shutdown_code = 1001;
    a.sig.fd = a.sig.wfd = -1;
    wsc_server_options o = {0};
    const char *protos[32];
    int nprotos = 0;
    double lifetime = 0;
    enum {
        O_HOST = 256, O_PORT, O_UNIX, O_ECHO, O_BCAST, O_SINK, O_CSRF, O_CCOOKIE, O_CPARAM, O_CPROP, O_CERT, O_KEY,
        O_NODEFL, O_MAXMSG, O_MAXCONN, O_SHUT, O_LIFE, O_LEAN, O_BUDGET, O_MSGTO, O_IDLETO, O_PERADDR, O_MSGMEM, O_NONJSON, O_ISSUE
    };
    static const struct option longopts[] = {
        {"host", required_argument, 0, O_HOST}, {"port", required_argument, 0, O_PORT},
        {"unix", required_argument, 0, O_UNIX}, {"echo", no_argument, 0, O_ECHO},
        {"broadcast", no_argument, 0, O_BCAST}, {"sink", no_argument, 0, O_SINK},
        {"require-csrf", no_argument, 0, O_CSRF}, {"csrf-cookie", required_argument, 0, O_CCOOKIE},
        {"csrf-param", required_argument, 0, O_CPARAM}, {"csrf-property", required_argument, 0, O_CPROP},
        {"tls-cert", required_argument, 0, O_CERT}, {"tls-key", required_argument, 0, O_KEY},
        {"protocol", required_argument, 0, 'p'}, {"no-deflate", no_argument, 0, O_NODEFL},
        {"max-message-size", required_argument, 0, O_MAXMSG}, {"max-connections", required_argument, 0, O_MAXCONN},
        {"shutdown-code", required_argument, 0, O_SHUT}, {"lifetime", required_argument, 0, O_LIFE},
        {"lean", no_argument, 0, O_LEAN}, {"memory-budget", required_argument, 0, O_BUDGET},
        {"message-timeout", required_argument, 0, O_MSGTO}, {"idle-timeout", required_argument, 0, O_IDLETO},
        {"max-per-address", required_argument, 0, O_PERADDR}, {"message-memory", required_argument, 0, O_MSGMEM},
        {"csrf-allow-non-json", no_argument, 0, O_NONJSON}, {"issue-token", no_argument, 0, O_ISSUE}, {"verbose", no_argument, 0, 'v'},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    cli_getopt_reset();
    int ch;
    while ((ch = getopt_long(argc, argv, "p:vqh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case O_HOST: o.host = optarg; break;
        case O_PORT: {
            long p = strtol(optarg, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "wsc serve: bad port '%s'\n", optarg);
                return 2;
            }
            o.port = (uint16_t)p;
            break;
        }
        case O_UNIX: o.unix_path = optarg; break;
        case O_ECHO: a.mode = M_ECHO; break;
        case O_BCAST: a.mode = M_BROADCAST; break;
        case O_SINK: a.mode = M_SINK; break;
        case O_CSRF: a.require_csrf = 1; break;
        case O_NONJSON: a.allow_non_json = 1; break;
        case O_ISSUE: a.issue_token = 1; break;
        case O_CCOOKIE: a.cookie_name = optarg; break;
        case O_CPARAM: a.query_param = optarg; break;
        case O_CPROP: a.json_property = optarg; break;
        case O_CERT: o.tls_cert = optarg; break;
        case O_KEY: o.tls_key = optarg; break;
        case 'p':
            if (nprotos >= 31) {
                fprintf(stderr, "wsc serve: too many subprotocols\n");
                return 2;
            }
            protos[nprotos++] = optarg;
            break;
        case O_NODEFL: o.no_deflate = 1; break;
        case O_MAXMSG: o.max_message_size = strtoull(optarg, &end, 10); break;
        case O_MAXCONN: o.max_connections = (unsigned)strtoul(optarg, &end, 10); break;
        case O_SHUT: {
            unsigned long code = strtoul(optarg, &end, 10);
            if (*end || code < 1000 || code > 4999 || code == 1005 || code == 1006 || code == 1015) {
                fprintf(stderr, "wsc serve: bad shutdown code '%s'\n", optarg);
                return 2;
            }
            a.shutdown_code = (unsigned)code;
            break;
        }
        case O_LIFE: lifetime = strtod(optarg, &end); break;
        case O_BUDGET:
        case O_MSGMEM: {
            unsigned long long v = strtoull(optarg, &end, 10);
            unsigned sh = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
                        : *end == 'G' || *end == 'g' ? 30 : 0;
            if (sh) end++;
            if (end == optarg || v == 0 || v > (UINT64_MAX >> sh)) {
                fprintf(stderr, "wsc serve: bad size '%s'\n", optarg);
                return 2;
            }
            *(ch == O_BUDGET ? &o.memory_budget : &o.message_memory_max) = (uint64_t)v << sh;
            break;
        }
        case O_MSGTO:
        case O_IDLETO: {
            double sec = strtod(optarg, &end);
            if (end == optarg || !(sec > 0) || sec > 4e6) {
                fprintf(stderr, "wsc serve: bad timeout '%s'\n", optarg);
                return 2;
            }
            *(ch == O_MSGTO ? &o.message_timeout_ms : &o.idle_timeout_ms) = (unsigned)(sec * 1000 + 0.5);
            break;
        }
        case O_PERADDR: o.max_per_address = (unsigned)strtoul(optarg, &end, 10); break;
        case O_LEAN:
            o.no_deflate = 1;
            a.quiet = 1;
            break;
        case 'v': a.verbose = 1; break;
        case 'q': a.quiet = 1; break;
        case 'h': serve_usage(stdout); return 0;
        default: serve_usage(stderr); return 2;
        }
        if (end && *end) {
            fprintf(stderr, "wsc serve: bad number '%s'\n", optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wsc serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    protos[nprotos] = NULL;
    if (nprotos) o.protocols = protos;
    wsc_server_csrf csrf = {0};
    if (a.require_csrf) {
        csrf.cookie_name = a.cookie_name;
        csrf.query_param = a.query_param;
        csrf.json_property = a.json_property;
        csrf.allow_non_json = a.allow_non_json;
        o.csrf = &csrf;
    }
    o.on_refuse = on_refuse;
    o.on_http = on_http;
    a.tls = o.tls_cert != NULL;
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_close = on_close;
    o.on_error = on_error;
    o.user = &a;
    signal(SIGPIPE, SIG_IGN);
#ifdef __GLIBC__
    /* The memory budget counts buffer capacities; for resident memory to
       follow it, big buffers must go back to the system when freed. glibc
       raises its mmap threshold after each free of a mapped block (up to
       32 MiB), after which message buffers come from the heap, are copied
       when they grow and stay resident once freed (measured: 145 MiB peak
       for a 64 MiB budget). A fixed threshold keeps every buffer over
       128 KiB mapped: freed at once, grown by mremap without a copy. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    /* As many sockets as the hard limit allows (benchmarks open 20000+). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        /* Privileged: lift the hard limit too (to 1M, or what the kernel allows). */
        struct rlimit up = {1u << 20, 1u << 20};
        if (rl.rlim_max >= up.rlim_max || setrlimit(RLIMIT_NOFILE, &up) != 0) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    wsc_global_init();

    wsc_error err;
    a.loop = wsc_loop_new(&err);
    if (!a.loop) {
        fprintf(stderr, "wsc serve: %s\n", err.message);
        return 1;
    }
    a.srv = wsc_server_new(a.loop, &o, &err);
    if (!a.srv) {
        fprintf(stderr, "wsc serve: %s\n", err.message);
        wsc_loop_free(a.loop);
        return 1;
    }
    /* signalfd on Linux, a self-pipe elsewhere (src/compat/compat_signal.c) */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    if (wsc__sigfd_open(&a.sig, sigs, 3) == 0)
        a.sigw = wsc_watch_new(a.loop, a.sig.fd, WSC_READABLE, on_signal, &a, NULL);
    a.grace = wsc_timer_new(a.loop, on_grace, &a, NULL);
    a.life = wsc_timer_new(a.loop, on_lifetime, &a, NULL);
    if (lifetime > 0) wsc_timer_start(a.life, (uint64_t)(lifetime * 1000));

    if (o.unix_path) printf("ws+unix:%s:/\n", o.unix_path);
    else {
        const char *h = o.host ? o.host : "127.0.0.1";
        int v6 = strchr(h, ':') != NULL;
        printf("%s://%s%s%s:%u/\n", o.tls_cert ? "wss" : "ws", v6 ? "[" : "", h, v6 ? "]" : "", wsc_server_port(a.srv));
    }
    fflush(stdout);
    if (!a.quiet)
        logf_(&a, "%s mode%s, Ctrl-C to stop", a.mode == M_ECHO ? "echo" : a.mode == M_BROADCAST ? "broadcast" : "sink",
              a.require_csrf ? ", CSRF double-submit check on" : "");

    int rc = wsc_loop_run(a.loop);
    wsc_server_free(a.srv);
    if (a.sigw) wsc_watch_free(a.sigw);
    wsc__sigfd_close(&a.sig);
    wsc_timer_free(a.grace);
    wsc_timer_free(a.life);
    wsc_loop_free(a.loop);
    if (rc < 0) {
        fprintf(stderr, "wsc serve: event loop failed: %s\n", wsc_strerror(rc));
        return 1;
    }
    return 0;
}
