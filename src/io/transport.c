/*
 * transport.c - the connector: resolve, Happy Eyeballs, proxy, TLS
 * handshake; it hands over a wsc_tx (the streams themselves are tx.c and
 * tls.c).
 *
 * Costs: names are resolved on a helper thread (resolve.c; IP literals and
 * Unix sockets need none). The addresses race as RFC 8305 says: a new
 * attempt every 250 ms (at once when the previous one fails), each with its
 * own socket, the first connected wins and the others are closed; at most
 * 16 sockets, and the connect timeout covers the whole race. TLS contexts
 * are shared (tls_ctx.c). Through
 * an https:// proxy a wss connection is TLS inside TLS: the server's
 * session over a BIO_f_ssl of the proxy's (two records and two MACs per
 * write).
 */
#define _GNU_SOURCE
#include "tx_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "compat/compat.h"
#include "internal.h"
#include "loop_internal.h"
#include "proxy.h"
#include "resolve.h"
#include "wsc/http.h"

/* ------------------------------------------------------------------ */
/* The connector                                                       */
/* ------------------------------------------------------------------ */

enum cstate { C_RESOLVING, C_CONNECTING, C_PROXY_TLS, C_PROXY, C_TLS, C_DONE };

/* RFC 8305 5: the "Connection Attempt Delay", 250 ms recommended. */
#define HE_DELAY_MS 250

void (*wsc__test_attempt)(int event, const struct sockaddr *sa);

/* One connection attempt of the race: its own socket and watch. */
typedef struct he_attempt {
    wsc_connector *c;
    wsc_watch watch;
    int fd; /* -1: slot free */
    size_t idx; /* its address in c->addrs */
} he_attempt;

struct wsc_connector {
    wsc_loop *loop;
    wsc_watch watch;     /* the winning socket (or the Unix one) */
    wsc_timer timer;     /* overall deadline: covers the whole race, proxy and TLS */
    wsc_timer attempt;   /* next attempt of the race; also the "report soon" timer */
    wsc_connect_cb cb;
    void *user;
    int state;
    int fd;
    SSL *ssl;            /* with the server */
    SSL *pssl;           /* with an https:// proxy, until the tunnel is up */
    wsc__resolve *job;   /* a lookup in progress */
    /* the race (RFC 8305): addresses in attempt order */
    wsc__addr addrs[WSC__MAX_ADDRS];
    size_t naddrs, nexta;
    he_attempt att[WSC__MAX_ADDRS];
    int inflight;
    int last_errno;
    /* what was asked */
    char *host;
    char *unix_path;
    uint16_t port;
    int tls;
    wsc_tls_opts tls_opts;
    int proxy_kind;
    char *proxy_host;
    uint16_t proxy_port;
    char *proxy_auth;
    uint8_t resolving_target;        /* socks5://: this lookup is the target's */
    char target_ip[INET6_ADDRSTRLEN]; /* socks5://: the target's address */
    wsc_proxy_conv pc;
    wsc_tx ptx;          /* the dialogue's view of fd (and pssl): borrowed, never closed */
    /* a failure to report from a timer (never from wsc__connect itself) */
    int pending_rc;
    wsc_error pending_err;
    uint8_t starting; /* inside wsc__connect() */
};


static void finish(wsc_connector *c, int rc, const wsc_error *err);
static void he_next(wsc_connector *c);
static void on_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user);
static void start_resolve(wsc_connector *c, const char *host, uint16_t port);

static void attempt_event(int event, const he_attempt *a) {
    if (wsc__test_attempt) wsc__test_attempt(event, (const struct sockaddr *)&a->c->addrs[a->idx].sa);
}

/* Ends an attempt of the race (closing its socket unless keep). */
static void attempt_end(he_attempt *a, int event, int keep) {
    if (a->fd < 0) return;
    attempt_event(event, a);
    wsc__watch_stop(&a->watch);
    if (!keep) close(a->fd);
    a->fd = -1;
    a->c->inflight--;
}

static void free_connector(wsc_connector *c) {
    wsc__watch_stop(&c->watch);
    wsc_timer_stop(&c->timer);
    wsc_timer_stop(&c->attempt);
    for (size_t i = 0; i < c->naddrs; i++) attempt_end(&c->att[i], WSC__ATTEMPT_ABANDONED, 0);
    if (c->ssl) SSL_free(c->ssl);
    if (c->pssl) SSL_free(c->pssl);
    if (c->fd >= 0) close(c->fd);
    wsc__proxy_end(&c->pc);
    wsc__free(c->host);
    wsc__free(c->unix_path);
    wsc__free(c->proxy_host);
    wsc__free((char *)c->tls_opts.ca_file);
    wsc__free((char *)c->tls_opts.ca_dir);
    wsc__free((char *)c->tls_opts.cert_file);
    wsc__free((char *)c->tls_opts.key_file);
    if (c->tls_opts.key_passphrase) {
        wsc__wipe((char *)c->tls_opts.key_passphrase, strlen(c->tls_opts.key_passphrase));
        wsc__free((char *)c->tls_opts.key_passphrase);
    }
    if (c->proxy_auth) {
        wsc__wipe(c->proxy_auth, strlen(c->proxy_auth));
        wsc__free(c->proxy_auth);
    }
    wsc__free(c);
}

/* Reports and frees. On success the fd and SSL move to the callee. */
static void finish(wsc_connector *c, int rc, const wsc_error *err) {
    wsc_tx tx;
    wsc__tx_init(&tx);
    if (rc == WSC_OK) {
        wsc__watch_stop(&c->watch);
        /* TLS inside the TLS of an https:// proxy: plaintext can wait in
           the outer session where epoll cannot see it (tls.c). */
        if (c->ssl) wsc__tx_tls_adopt(&tx, c->fd, c->ssl, c->tls && c->proxy_kind == WSC_PROXY_HTTPS);
        else wsc__tx_plain(&tx, c->fd);
        c->fd = -1;
        c->ssl = NULL;
    }
    c->state = C_DONE;
    wsc_connect_cb cb = c->cb;
    void *user = c->user;
    /* err may live in the connector (pending_err): keep a copy. */
    wsc_error e;
    if (err) e = *err;
    free_connector(c);
    cb(user, rc, rc == WSC_OK ? &tx : NULL, err ? &e : NULL);
}

static void fail(wsc_connector *c, int code, const char *fmt, const char *a, const char *b) {
    wsc_error e;
    wsc__seterr(&e, code, fmt, a, b);
    finish(c, code, &e);
}

static void on_deadline(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_connector *c = user;
    const char *what = c->state == C_RESOLVING ? "resolving" : c->state == C_TLS ? "the TLS handshake with"
                       : c->state == C_CONNECTING ? "connecting to" : "the proxy tunnel to";
    fail(c, WSC_ETIMEDOUT, "timed out %s %s", what, c->unix_path ? c->unix_path : c->host);
}

/* The attempt timer: start the next attempt of the race, or (before any
   attempt) report a failure found synchronously. */
static void on_attempt(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_connector *c = user;
    if (c->pending_rc) {
        finish(c, c->pending_rc, &c->pending_err);
        return;
    }
    he_next(c);
}

static void report_soon(wsc_connector *c, int rc, const char *fmt, const char *a, const char *b) {
    c->pending_rc = rc;
    wsc__seterr(&c->pending_err, rc, fmt, a, b);
    wsc_timer_start(&c->attempt, 0);
}

static void start_tls(wsc_connector *c);
static void start_proxy_tls(wsc_connector *c);
static void start_proxy(wsc_connector *c);

/* TCP (or Unix) connection established on c->fd, watched by c->watch. */
static void connected(wsc_connector *c) {
    wsc_timer_stop(&c->attempt);
    if (c->proxy_kind == WSC_PROXY_HTTPS) start_proxy_tls(c);
    else if (c->proxy_kind) start_proxy(c);
    else if (c->tls) start_tls(c);
    else finish(c, WSC_OK, NULL);
}

/* --- the race (RFC 8305) ---------------------------------------------- */

static void on_attempt_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)events;
    he_attempt *a = user;
    wsc_connector *c = a->c;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
    if (soerr == EINPROGRESS || soerr == EALREADY) return;
    if (soerr != 0) {
        /* This one failed: start the next now rather than at its time. */
        c->last_errno = soerr;
        attempt_end(a, WSC__ATTEMPT_FAILED, 0);
        wsc_timer_stop(&c->attempt);
        he_next(c);
        return;
    }
    /* The first to succeed wins; the others are closed. */
    attempt_end(a, WSC__ATTEMPT_WON, 1);
    c->fd = fd;
    for (size_t i = 0; i < c->naddrs; i++) attempt_end(&c->att[i], WSC__ATTEMPT_ABANDONED, 0);
    if (wsc__watch_start(&c->watch, fd, WSC_WRITABLE) != WSC_OK) {
        fail(c, WSC_EIO, "cannot watch the socket for %s%s", c->host, "");
        return;
    }
    connected(c);
}

/* Starts attempt c->nexta. 0 if it is in flight, -1 if it failed at once. */
static int start_one(wsc_connector *c) {
    size_t i = c->nexta++;
    const wsc__addr *ad = &c->addrs[i];
    int fd = wsc__compat_socket(ad->sa.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        c->last_errno = errno;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(fd, (const struct sockaddr *)&ad->sa, ad->len);
    if (r != 0 && errno != EINPROGRESS) {
        c->last_errno = errno;
        close(fd);
        return -1;
    }
    he_attempt *a = &c->att[i];
    a->c = c;
    a->idx = i;
    wsc__watch_init(&a->watch, c->loop, on_attempt_io, a);
    if (wsc__watch_start(&a->watch, fd, WSC_WRITABLE) != WSC_OK) {
        c->last_errno = errno ? errno : ENOMEM;
        close(fd);
        return -1;
    }
    a->fd = fd;
    c->inflight++;
    attempt_event(WSC__ATTEMPT_STARTED, a);
    return 0;
}

/* Starts the next attempt (skipping addresses that fail at once) and arms
   the timer for the one after; reports the failure once every address has
   failed. A connect that completes at once is still seen through the
   watch, so the first success always goes through on_attempt_io. */
static void he_next(wsc_connector *c) {
    c->state = C_CONNECTING;
    while (c->nexta < c->naddrs && start_one(c) != 0) {}
    if (c->nexta < c->naddrs) {
        wsc_timer_start(&c->attempt, HE_DELAY_MS);
        return;
    }
    if (c->inflight) return; /* the last ones are running: wait for them or the deadline */
    int e = c->last_errno ? c->last_errno : ECONNREFUSED;
    char port[8];
    snprintf(port, sizeof port, "%u", c->proxy_kind ? c->proxy_port : c->port);
    const char *h = c->proxy_kind ? c->proxy_host : c->host;
    wsc_error err;
    wsc__seterr(&err, wsc__errno_to_wsc(e), "cannot connect to %s%s port %s: %s", c->proxy_kind ? "proxy " : "", h, port,
                strerror(e));
    if (c->starting) {
        /* Never report from inside wsc__connect(): defer to the loop. */
        c->pending_rc = err.code;
        c->pending_err = err;
        wsc_timer_start(&c->attempt, 0);
        return;
    }
    finish(c, err.code, &err);
}

static void unix_connect(wsc_connector *c) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(c->unix_path);
    if (n >= sizeof sa.sun_path) {
        report_soon(c, WSC_EINVAL, "Unix socket path too long: %s%s", c->unix_path, "");
        return;
    }
    memcpy(sa.sun_path, c->unix_path, n);
    int fd = wsc__compat_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        report_soon(c, WSC_EIO, "socket: %s%s", strerror(errno), "");
        return;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS && errno != EAGAIN) {
        int e = errno;
        close(fd);
        report_soon(c, wsc__errno_to_wsc(e), "cannot connect to Unix socket %s: %s", c->unix_path, strerror(e));
        return;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    if (wsc__watch_start(&c->watch, fd, WSC_WRITABLE) != WSC_OK)
        report_soon(c, WSC_EIO, "cannot watch the socket for %s%s", c->unix_path, "");
}

/* Addresses known: for a socks5:// target, note the first and go on to the
   proxy's name; otherwise start the race. */
static void got_addresses(wsc_connector *c, const wsc__addr *addrs, size_t n) {
    if (c->resolving_target) {
        c->resolving_target = 0;
        const struct sockaddr *sa = (const struct sockaddr *)&addrs[0].sa;
        const void *bin = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                    : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
        inet_ntop(sa->sa_family, bin, c->target_ip, sizeof c->target_ip);
        start_resolve(c, c->proxy_host, c->proxy_port);
        return;
    }
    memcpy(c->addrs, addrs, n * sizeof *addrs);
    c->naddrs = n;
    c->nexta = 0;
    for (size_t i = 0; i < n; i++) c->att[i].fd = -1;
    he_next(c);
}

static void on_resolved(void *user, int gai, const wsc__addr *addrs, size_t n, const char *host) {
    wsc_connector *c = user;
    c->job = NULL;
    if (gai != 0) fail(c, WSC_EDNS, "cannot resolve host name '%s': %s", host, gai_strerror(gai));
    else got_addresses(c, addrs, n);
}

static void start_resolve(wsc_connector *c, const char *host, uint16_t port) {
    wsc__addr lit[WSC__MAX_ADDRS];
    size_t n = 0;
    /* IP literals need no lookup (and no thread): connect now; failures
       surface through the watches or the timers. */
    if (wsc__resolve_numeric(host, port, lit, &n) == 0 && n) {
        got_addresses(c, lit, n);
        return;
    }
    c->state = C_RESOLVING;
    c->job = wsc__resolve_start(c->loop, host, port, on_resolved, c);
    if (!c->job) report_soon(c, WSC_ENOMEM, "cannot start resolving %s (out of memory or threads)%s", host, "");
}

/* --- proxy ---------------------------------------------------------- */

static void proxy_io(wsc_connector *c) {
    unsigned want = 0;
    wsc_error err;
    int rc = wsc__proxy_step(&c->pc, &want, &err);
    if (rc == WSC_EAGAIN) {
        wsc_watch_set(&c->watch, want);
        return;
    }
    wsc__proxy_end(&c->pc);
    if (rc) {
        finish(c, rc, &err);
        return;
    }
    if (c->tls) {
        start_tls(c);
    } else {
        /* ws:// through an https:// proxy: the stream is the proxy's TLS. */
        c->ssl = c->pssl;
        c->pssl = NULL;
        finish(c, WSC_OK, NULL);
    }
}

static void start_proxy(wsc_connector *c) {
    c->pc.kind = c->proxy_kind;
    if (c->pssl) wsc__tx_tls_adopt(&c->ptx, c->fd, c->pssl, 0);
    else wsc__tx_plain(&c->ptx, c->fd);
    c->pc.tx = &c->ptx;
    c->pc.host = c->host;
    c->pc.port = c->port;
    c->pc.target_ip = c->proxy_kind == WSC_PROXY_SOCKS5 ? c->target_ip : NULL;
    c->pc.auth = c->proxy_auth;
    wsc_error err;
    int rc = wsc__proxy_begin(&c->pc, &err);
    if (rc) {
        finish(c, rc, &err);
        return;
    }
    c->state = C_PROXY;
    proxy_io(c);
}

/* --- TLS -------------------------------------------------------------- */

static int is_ip_literal(const char *h) {
    unsigned char b[16];
    return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* A client TLS session verifying `host` (name or IP literal). NULL when it
   failed: the failure is reported and c is freed. */
static SSL *new_client_ssl(wsc_connector *c, const char *host) {
    wsc_error err;
    SSL_CTX *ctx = wsc__tls_client_ctx(&c->tls_opts, &err);
    if (!ctx) {
        finish(c, err.code, &err);
        return NULL;
    }
    SSL *s = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL object holds its own reference */
    if (!s) {
        fail(c, WSC_ENOMEM, "cannot create TLS state%s%s", "", "");
        return NULL;
    }
    int ip = is_ip_literal(host);
    if (!ip) SSL_set_tlsext_host_name(s, host); /* SNI carries names only */
    if (!c->tls_opts.skip_verify) {
        SSL_set_verify(s, SSL_VERIFY_PEER, NULL);
        if (!c->tls_opts.skip_hostname) {
            if (ip) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host);
            else {
                SSL_set_hostflags(s, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                SSL_set1_host(s, host);
            }
        }
    } else {
        SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
    }
    SSL_set_connect_state(s);
    return s;
}

/* TLS with an https:// proxy, verified against the proxy's name with the
   same CA settings as the server. */
static void start_proxy_tls(wsc_connector *c) {
    SSL *s = new_client_ssl(c, c->proxy_host);
    if (!s) return; /* reported: c is gone */
    c->pssl = s;
    if (SSL_set_fd(c->pssl, c->fd) != 1) {
        fail(c, WSC_ENOMEM, "cannot create TLS state%s%s", "", "");
        return;
    }
    c->state = C_PROXY_TLS;
    wsc_watch_set(&c->watch, WSC_READABLE | WSC_WRITABLE);
}

static void start_tls(wsc_connector *c) {
    SSL *s = new_client_ssl(c, c->host ? c->host : "localhost");
    if (!s) return; /* reported: c is gone */
    c->ssl = s;
    if (c->pssl) {
        /* TLS inside the proxy's TLS: the server's session reads and
           writes through a BIO_f_ssl over the proxy's, which it then owns
           (BIO_CLOSE: freeing the server's session frees the proxy's). */
        BIO *b = BIO_new(BIO_f_ssl());
        if (!b) {
            fail(c, WSC_ENOMEM, "cannot create TLS state%s%s", "", "");
            return;
        }
        BIO_set_ssl(b, c->pssl, BIO_CLOSE);
        c->pssl = NULL;
        SSL_set_bio(c->ssl, b, b);
    } else if (SSL_set_fd(c->ssl, c->fd) != 1) {
        fail(c, WSC_ENOMEM, "cannot create TLS state%s%s", "", "");
        return;
    }
    c->state = C_TLS;
    wsc_watch_set(&c->watch, WSC_READABLE | WSC_WRITABLE);
}

static void tls_io(wsc_connector *c) {
    int to_proxy = c->state == C_PROXY_TLS;
    SSL *s = to_proxy ? c->pssl : c->ssl;
    int ret = SSL_do_handshake(s);
    if (ret == 1) {
        if (to_proxy) start_proxy(c);
        else finish(c, WSC_OK, NULL);
        return;
    }
    int e = SSL_get_error(s, ret);
    if (e == SSL_ERROR_WANT_READ) {
        wsc_watch_set(&c->watch, WSC_READABLE);
        return;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        wsc_watch_set(&c->watch, WSC_WRITABLE);
        return;
    }
    const char *host = to_proxy ? c->proxy_host : c->host ? c->host : c->unix_path;
    const char *whom = to_proxy ? "proxy " : "";
    char what[300];
    snprintf(what, sizeof what, "%s'%s'", whom, host);
    long vr = SSL_get_verify_result(s);
    if (vr != X509_V_OK) {
        ERR_clear_error();
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            fail(c, WSC_ETLSVERIFY, "TLS certificate verification failed for %s: the certificate is not valid for this %s",
                 what, vr == X509_V_ERR_IP_ADDRESS_MISMATCH ? "IP address" : "host name");
        else
            fail(c, WSC_ETLSVERIFY, "TLS certificate verification failed for %s: %s", what,
                 X509_verify_cert_error_string(vr));
        return;
    }
    char why[200];
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(why, sizeof why, "%s", errno ? strerror(errno) : "connection closed by the server");
        ERR_clear_error();
    } else {
        wsc__ssl_errstr(why, sizeof why);
    }
    fail(c, WSC_ETLS, "TLS handshake with %s failed: %s", what, why);
}

static void on_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)events;
    wsc_connector *c = user;
    if (c->state == C_CONNECTING) { /* a Unix socket */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
        if (soerr == EINPROGRESS || soerr == EALREADY) return;
        if (soerr != 0) {
            fail(c, wsc__errno_to_wsc(soerr), "cannot connect to Unix socket %s: %s", c->unix_path, strerror(soerr));
            return;
        }
        connected(c);
        return;
    }
    if (c->state == C_PROXY) {
        proxy_io(c);
        return;
    }
    if (c->state == C_TLS || c->state == C_PROXY_TLS) tls_io(c);
}

wsc_connector *wsc__connect(wsc_loop *loop, const wsc_connect_req *req, wsc_connect_cb cb, void *user,
                            wsc_error *err) {
    if (!loop || !req || !cb || (!req->host && !req->unix_path) || (req->proxy_kind && !req->proxy_host)) {
        wsc__seterr(err, WSC_EINVAL, "connect: missing host or callback");
        return NULL;
    }
    wsc_connector *c = wsc__calloc(1, sizeof *c);
    if (!c) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->cb = cb;
    c->user = user;
    c->fd = -1;
    c->port = req->port;
    c->tls = req->tls;
    c->tls_opts.skip_verify = req->tls_opts.skip_verify;
    c->tls_opts.skip_hostname = req->tls_opts.skip_hostname;
    c->proxy_kind = req->unix_path ? WSC_PROXY_NONE : req->proxy_kind;
    c->proxy_port = req->proxy_port;
    int oom = 0;
    /* The caller's strings may be gone by the time TLS starts: copy them. */
    const char *const *src[] = {&req->tls_opts.ca_file, &req->tls_opts.ca_dir, &req->tls_opts.cert_file,
                                &req->tls_opts.key_file, &req->tls_opts.key_passphrase};
    const char **dst[] = {&c->tls_opts.ca_file, &c->tls_opts.ca_dir, &c->tls_opts.cert_file, &c->tls_opts.key_file,
                          &c->tls_opts.key_passphrase};
    for (int i = 0; i < 5; i++)
        if (*src[i] && !(*dst[i] = wsc__strdup(*src[i]))) oom = 1;
    if (req->host && !(c->host = wsc__strdup(req->host))) oom = 1;
    if (req->unix_path && !(c->unix_path = wsc__strdup(req->unix_path))) oom = 1;
    if (c->proxy_kind && !(c->proxy_host = wsc__strdup(req->proxy_host))) oom = 1;
    if (c->proxy_kind && req->proxy_auth && !(c->proxy_auth = wsc__strdup(req->proxy_auth))) oom = 1;
    if (oom) {
        free_connector(c);
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    wsc__watch_init(&c->watch, loop, on_io, c);
    wsc__timer_init(&c->timer, loop, on_deadline, c);
    wsc__timer_init(&c->attempt, loop, on_attempt, c);
    unsigned to = req->timeout_ms ? req->timeout_ms : 10000;
    wsc_timer_start(&c->timer, to);
    c->starting = 1;
    if (c->unix_path) {
        unix_connect(c);
    } else if (c->proxy_kind == WSC_PROXY_SOCKS5 && !is_ip_literal(c->host)) {
        c->resolving_target = 1; /* socks5://: our resolver names the target */
        start_resolve(c, c->host, c->port);
    } else {
        if (c->proxy_kind == WSC_PROXY_SOCKS5) snprintf(c->target_ip, sizeof c->target_ip, "%s", c->host);
        if (c->proxy_kind) start_resolve(c, c->proxy_host, c->proxy_port);
        else start_resolve(c, c->host, c->port);
    }
    c->starting = 0;
    return c;
}

void wsc__connect_cancel(wsc_connector *c) {
    if (!c) return;
    wsc__resolve_cancel(c->job); /* the resolver's post will just clean up */
    free_connector(c);
}
