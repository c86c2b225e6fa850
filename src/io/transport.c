/*
 * transport.c - connect (resolve, TCP/Unix, HTTP CONNECT, TLS) and the
 * byte-stream read/write used by the connection layer.
 *
 * Costs: name resolution runs getaddrinfo() on a detached helper thread (one
 * per lookup; IP literals and Unix sockets need none) and hands its result
 * back with wsc_loop_post(). TLS contexts are built once per distinct set of
 * CA/certificate options and shared (loading a CA store costs milliseconds
 * and megabytes). Each TLS connection runs with SSL_MODE_RELEASE_BUFFERS so
 * an idle one holds no record buffers.
 */
#define _GNU_SOURCE
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "compat/compat.h"
#include "internal.h"
#include "loop_internal.h"
#include "wsc/http.h"

/* ------------------------------------------------------------------ */
/* Randomness                                                          */
/* ------------------------------------------------------------------ */

/* Frame masks need 4 random bytes per frame; RAND_bytes costs a lock, a
   DRBG step and a getpid(), so draw 1 KiB at a time per thread (256 frames). */
static _Thread_local uint8_t rnd_pool[1024];
static _Thread_local size_t rnd_left;

int wsc__random(void *user, void *buf, size_t len) {
    (void)user;
    uint8_t *out = buf;
    while (len) {
        if (rnd_left == 0) {
            if (RAND_bytes(rnd_pool, (int)sizeof rnd_pool) != 1) return -1;
            rnd_left = sizeof rnd_pool;
        }
        size_t n = len < rnd_left ? len : rnd_left;
        memcpy(out, rnd_pool + sizeof rnd_pool - rnd_left, n);
        /* Never hand out the same bytes twice. */
        memset(rnd_pool + sizeof rnd_pool - rnd_left, 0, n);
        rnd_left -= n;
        out += n;
        len -= n;
    }
    return 0;
}

int wsc_global_init(void) {
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1) return WSC_EIO;
    uint8_t b[4];
    if (wsc__random(NULL, b, sizeof b)) return WSC_EIO;
    char accept[29];
    return wsc_handshake_accept("wsc", 3, accept) == WSC_OK ? WSC_OK : WSC_EIO;
}

/* ------------------------------------------------------------------ */
/* Proxies from the environment                                        */
/* ------------------------------------------------------------------ */

static const char *getenv2(const char *lower, const char *upper) {
    const char *v = getenv(lower);
    if (!v || !*v) v = getenv(upper);
    return v && *v ? v : NULL;
}

const char *wsc__env_proxy(const char *host, int secure) {
    const char *v = secure ? getenv2("https_proxy", "HTTPS_PROXY") : getenv2("http_proxy", "HTTP_PROXY");
    if (!v) return NULL;
    if (!strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1")) return NULL;
    const char *np = getenv2("no_proxy", "NO_PROXY");
    if (!np) return v;
    size_t hl = strlen(host);
    const char *p = np;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') e++;
        const char *pat = p;
        size_t pn = (size_t)(e - p);
        p = e;
        if (pn == 1 && *pat == '*') return NULL;
        if (pn && *pat == '.') pat++, pn--;
        /* "host:port" patterns: the port is not compared */
        const char *colon = memchr(pat, ':', pn);
        if (colon && memchr(pat, '.', pn)) pn = (size_t)(colon - pat);
        if (pn && pn <= hl && strncasecmp(host + hl - pn, pat, pn) == 0 && (pn == hl || host[hl - pn - 1] == '.'))
            return NULL;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* TLS contexts                                                        */
/* ------------------------------------------------------------------ */

#define TLS_CACHE_MAX 16
static struct {
    char *key;
    SSL_CTX *ctx;
} tls_cache[TLS_CACHE_MAX];
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *nz(const char *s) { return s ? s : ""; }

/* Describes OpenSSL's error queue in one line (and clears it). */
static void ssl_errstr(char *buf, size_t cap) {
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, cap, "unknown TLS error");
    } else {
        const char *reason = ERR_reason_error_string(e);
        snprintf(buf, cap, "%s", reason ? reason : "TLS error");
    }
    ERR_clear_error();
}

/* A context with the settings every wsc TLS connection uses: TLS 1.2 or
   later; partial writes from a buffer that may move between retries (our
   send buffers grow by realloc); record buffers released when idle. */
static SSL_CTX *new_ctx(const SSL_METHOD *method, wsc_error *err) {
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) {
        wsc__seterr(err, WSC_ENOMEM, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

/* Loads a certificate chain and its private key (PEM) into ctx. */
static int load_cert_key(SSL_CTX *ctx, const char *cert, const char *key, const char *what, wsc_error *err) {
    char why[200];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_errstr(why, sizeof why);
        return wsc__seterr(err, WSC_ETLS, "cannot load %scertificate %s: %s", what, cert, why);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        ssl_errstr(why, sizeof why);
        return wsc__seterr(err, WSC_ETLS, "cannot load %sprivate key %s: %s", what, key, why);
    }
    return WSC_OK;
}

/* A client context for these options, shared and built once. Returns a new
   reference (the caller frees it with SSL_CTX_free once SSL_new has taken its
   own). When the cache is full the oldest entry is dropped: SSL objects
   still using it hold references of their own. */
static SSL_CTX *client_ctx(const wsc_tls_opts *o, wsc_error *err) {
    char key[2048];
    snprintf(key, sizeof key, "%s|%s|%s|%s", nz(o->ca_file), nz(o->ca_dir), nz(o->cert_file), nz(o->key_file));
    pthread_mutex_lock(&tls_lock);
    for (int i = 0; i < TLS_CACHE_MAX; i++) {
        if (tls_cache[i].key && strcmp(tls_cache[i].key, key) == 0) {
            SSL_CTX *c = tls_cache[i].ctx;
            SSL_CTX_up_ref(c);
            pthread_mutex_unlock(&tls_lock);
            return c;
        }
    }
    pthread_mutex_unlock(&tls_lock);

    char why[200];
    SSL_CTX *ctx = new_ctx(TLS_client_method(), err);
    if (!ctx) return NULL;
    int ok;
    if (o->ca_file || o->ca_dir) ok = SSL_CTX_load_verify_locations(ctx, o->ca_file, o->ca_dir);
    else ok = SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        ssl_errstr(why, sizeof why);
        wsc__seterr(err, WSC_ETLS, "cannot load trusted CAs from %s: %s",
                    o->ca_file ? o->ca_file : o->ca_dir ? o->ca_dir : "the system store", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (o->cert_file && load_cert_key(ctx, o->cert_file, o->key_file ? o->key_file : o->cert_file, "client ", err)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    char *k = wsc__strdup(key);
    pthread_mutex_lock(&tls_lock);
    int slot = -1;
    for (int i = 0; i < TLS_CACHE_MAX; i++) {
        if (tls_cache[i].key && strcmp(tls_cache[i].key, key) == 0) {
            /* Another thread built the same context meanwhile: use that one. */
            SSL_CTX *c = tls_cache[i].ctx;
            SSL_CTX_up_ref(c);
            pthread_mutex_unlock(&tls_lock);
            SSL_CTX_free(ctx);
            wsc__free(k);
            return c;
        }
        if (!tls_cache[i].key && slot < 0) slot = i;
    }
    if (k) {
        if (slot < 0) {
            wsc__free(tls_cache[0].key);
            SSL_CTX_free(tls_cache[0].ctx);
            memmove(&tls_cache[0], &tls_cache[1], sizeof tls_cache[0] * (TLS_CACHE_MAX - 1));
            slot = TLS_CACHE_MAX - 1;
        }
        tls_cache[slot].key = k;
        tls_cache[slot].ctx = ctx;
        SSL_CTX_up_ref(ctx); /* one reference for the cache, one for the caller */
    }
    pthread_mutex_unlock(&tls_lock);
    return ctx;
}

SSL_CTX *wsc__tls_server_ctx(const char *cert_file, const char *key_file, wsc_error *err) {
    SSL_CTX *ctx = new_ctx(TLS_server_method(), err);
    if (ctx && load_cert_key(ctx, cert_file, key_file, "", err)) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* ------------------------------------------------------------------ */
/* Reading and writing                                                 */
/* ------------------------------------------------------------------ */

static int errno_to_wsc(int e) {
    switch (e) {
    case ECONNREFUSED: return WSC_ECONNREFUSED;
    case ETIMEDOUT: return WSC_ETIMEDOUT;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return WSC_ECONNRESET;
    case ENOMEM:
    case ENOBUFS: return WSC_ENOMEM;
    default: return WSC_EIO;
    }
}

/* Maps a failed SSL_read/SSL_write. */
static long ssl_fail(wsc_tx *tx, int ret, int is_read, wsc_error *err) {
    int e = SSL_get_error(tx->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (!is_read) tx->write_wants_read = 1;
        return WSC_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        if (is_read) tx->read_wants_write = 1;
        return WSC_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        tx->eof = 1;
        /* A write never "returns 0 bytes": the peer closed, nothing more
           can go out (callers would otherwise retry forever). */
        return is_read ? 0 : wsc__seterr(err, WSC_ECONNRESET, "the peer closed the TLS connection");
    case SSL_ERROR_SYSCALL: {
        int se = errno;
        ERR_clear_error();
        if (ret == 0 || se == 0) {
            /* EOF without close_notify: for reads the end of stream (the
               WebSocket layer decides whether that was clean); for writes
               the connection is gone. */
            tx->eof = 1;
            return is_read ? 0 : wsc__seterr(err, WSC_ECONNRESET, "connection closed by the peer");
        }
        return wsc__seterr(err, errno_to_wsc(se), "%s", strerror(se));
    }
    default: {
        char why[200];
        ssl_errstr(why, sizeof why);
        return wsc__seterr(err, WSC_ETLS, "TLS error: %s", why);
    }
    }
}

long wsc__tx_read(wsc_tx *tx, void *buf, size_t len, wsc_error *err) {
    if (!tx->ssl) {
        for (;;) {
            ssize_t n = read(tx->fd, buf, len);
            if (n >= 0) {
                if (n == 0) tx->eof = 1;
                return (long)n;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return WSC_EAGAIN;
            return wsc__seterr(err, errno_to_wsc(errno), "read: %s", strerror(errno));
        }
    }
    if (tx->eof) return 0; /* the close_notify came with the last data */
    tx->read_wants_write = 0;
    /* Gather several TLS records into one call: fewer trips through the
       WebSocket parser for large messages. */
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        int ret = SSL_read_ex(tx->ssl, (uint8_t *)buf + got, len - got, &n);
        if (ret == 1) {
            got += n;
            continue;
        }
        if (got) {
            /* Hand over the data now; an end of stream found behind it is
               remembered and reported by the next call. */
            int e = SSL_get_error(tx->ssl, 0);
            if (e == SSL_ERROR_ZERO_RETURN) tx->eof = 1;
            else if (e == SSL_ERROR_WANT_WRITE) tx->read_wants_write = 1;
            ERR_clear_error();
            break;
        }
        return ssl_fail(tx, 0, 1, err);
    }
    return (long)got;
}

long wsc__tx_write(wsc_tx *tx, const void *buf, size_t len, wsc_error *err) {
    if (!tx->ssl) {
        for (;;) {
            ssize_t n = send(tx->fd, buf, len, WSC_MSG_NOSIGNAL);
            if (n >= 0) return (long)n;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return WSC_EAGAIN;
            return wsc__seterr(err, errno_to_wsc(errno), "write: %s", strerror(errno));
        }
    }
    tx->write_wants_read = 0;
    size_t n = 0;
    int ret = SSL_write_ex(tx->ssl, buf, len, &n);
    if (ret == 1 && n > 0) return (long)n;
    if (ret == 1) return wsc__seterr(err, WSC_EIO, "TLS write made no progress");
    return ssl_fail(tx, 0, 0, err);
}

unsigned wsc__tx_interest(const wsc_tx *tx, int reading, int have_output) {
    unsigned ev = 0;
    if (reading || tx->write_wants_read) ev |= WSC_READABLE;
    if (have_output || tx->read_wants_write) ev |= WSC_WRITABLE;
    return ev;
}

void wsc__tx_shutdown(wsc_tx *tx) {
    if (tx->ssl) {
        (void)SSL_shutdown(tx->ssl);
        ERR_clear_error();
    } else if (tx->fd >= 0) {
        shutdown(tx->fd, SHUT_WR);
    }
}

void wsc__tx_close(wsc_tx *tx) {
    if (tx->ssl) {
        SSL_free(tx->ssl);
        tx->ssl = NULL;
    }
    if (tx->fd >= 0) {
        close(tx->fd);
        tx->fd = -1;
    }
}

int wsc__tx_tls_accept(wsc_tx *tx, SSL_CTX *ctx, wsc_error *err) {
    if (!tx->ssl) {
        tx->ssl = SSL_new(ctx);
        if (!tx->ssl || SSL_set_fd(tx->ssl, tx->fd) != 1) return wsc__seterr(err, WSC_ENOMEM, "cannot create TLS state");
        SSL_set_accept_state(tx->ssl);
    }
    tx->read_wants_write = tx->write_wants_read = 0;
    int ret = SSL_do_handshake(tx->ssl);
    if (ret == 1) return WSC_OK;
    int e = SSL_get_error(tx->ssl, ret);
    if (e == SSL_ERROR_WANT_READ) return WSC_EAGAIN;
    if (e == SSL_ERROR_WANT_WRITE) {
        tx->read_wants_write = 1;
        return WSC_EAGAIN;
    }
    char why[200];
    ssl_errstr(why, sizeof why);
    return wsc__seterr(err, WSC_ETLS, "TLS handshake failed: %s", why);
}

/* ------------------------------------------------------------------ */
/* The connector                                                       */
/* ------------------------------------------------------------------ */

enum cstate { C_RESOLVING, C_CONNECTING, C_PROXY_WRITE, C_PROXY_READ, C_TLS, C_DONE };

typedef struct resolve_job resolve_job;

struct wsc_connector {
    wsc_loop *loop;
    wsc_watch watch;
    wsc_timer timer;     /* overall deadline */
    wsc_timer attempt;   /* per-address deadline; also the "report soon" timer */
    wsc_connect_cb cb;
    void *user;
    int state;
    int fd;
    SSL *ssl;
    resolve_job *job;
    struct addrinfo *addrs; /* from getaddrinfo */
    struct addrinfo *next;  /* next address to try */
    int naddrs_left;
    int last_errno;
    uint64_t deadline;
    /* what was asked */
    char *host;
    char *unix_path;
    uint16_t port;
    int tls;
    wsc_tls_opts tls_opts;
    char *proxy_host;
    uint16_t proxy_port;
    char *proxy_auth;
    /* proxy exchange */
    wsc_buf pbuf;
    size_t psent;
    /* a failure to report from a timer (never from wsc__connect itself) */
    int pending_rc;
    wsc_error pending_err;
    uint8_t starting; /* inside wsc__connect() */
};

struct resolve_job {
    wsc_connector *c; /* NULL once cancelled */
    char *host;
    char port[8];
    struct addrinfo *res;
    int gai;
};

static void finish(wsc_connector *c, int rc, const wsc_error *err);
static void try_next_address(wsc_connector *c);
static void on_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user);

static void free_connector(wsc_connector *c) {
    wsc__watch_stop(&c->watch);
    wsc_timer_stop(&c->timer);
    wsc_timer_stop(&c->attempt);
    if (c->ssl) SSL_free(c->ssl);
    if (c->fd >= 0) close(c->fd);
    if (c->addrs) freeaddrinfo(c->addrs);
    wsc_buf_free(&c->pbuf);
    wsc__free(c->host);
    wsc__free(c->unix_path);
    wsc__free(c->proxy_host);
    wsc__free((char *)c->tls_opts.ca_file);
    wsc__free((char *)c->tls_opts.ca_dir);
    wsc__free((char *)c->tls_opts.cert_file);
    wsc__free((char *)c->tls_opts.key_file);
    if (c->proxy_auth) {
        OPENSSL_cleanse(c->proxy_auth, strlen(c->proxy_auth));
        wsc__free(c->proxy_auth);
    }
    wsc__free(c);
}

/* Reports and frees. On success the fd and SSL move to the callee. */
static void finish(wsc_connector *c, int rc, const wsc_error *err) {
    wsc_tx tx = {.fd = -1, .ssl = NULL};
    if (rc == WSC_OK) {
        wsc__watch_stop(&c->watch);
        tx.fd = c->fd;
        tx.ssl = c->ssl;
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

/* The per-address timer: either give up on this address, or (before any
   address) report a failure found synchronously. */
static void on_attempt(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_connector *c = user;
    if (c->pending_rc) {
        finish(c, c->pending_rc, &c->pending_err);
        return;
    }
    /* This address did not answer in its share of the time: try the next. */
    wsc__watch_stop(&c->watch);
    close(c->fd);
    c->fd = -1;
    c->last_errno = ETIMEDOUT;
    try_next_address(c);
}

static void report_soon(wsc_connector *c, int rc, const char *fmt, const char *a, const char *b) {
    c->pending_rc = rc;
    wsc__seterr(&c->pending_err, rc, fmt, a, b);
    wsc_timer_start(&c->attempt, 0);
}

static void start_tls(wsc_connector *c);
static void start_proxy(wsc_connector *c);

/* TCP (or Unix) connection established. */
static void connected(wsc_connector *c) {
    wsc_timer_stop(&c->attempt);
    if (c->addrs) {
        freeaddrinfo(c->addrs);
        c->addrs = c->next = NULL;
    }
    if (c->proxy_host) start_proxy(c);
    else if (c->tls) start_tls(c);
    else finish(c, WSC_OK, NULL);
}

static void try_next_address(wsc_connector *c) {
    while (c->next) {
        struct addrinfo *ai = c->next;
        c->next = ai->ai_next;
        c->naddrs_left--;
        int fd = wsc__compat_socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0) {
            c->last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno != EINPROGRESS) {
            c->last_errno = errno;
            close(fd);
            continue;
        }
        c->fd = fd;
        if (wsc__watch_start(&c->watch, fd, WSC_WRITABLE) != WSC_OK) {
            c->last_errno = errno ? errno : ENOMEM;
            close(fd);
            c->fd = -1;
            continue;
        }
        c->state = C_CONNECTING;
        /* Give each remaining address a fair share of the time left. */
        uint64_t now = wsc_loop_now(c->loop);
        uint64_t left = c->deadline > now ? c->deadline - now : 0;
        uint64_t share = c->naddrs_left > 0 ? left / (uint64_t)(c->naddrs_left + 1) : left;
        if (share < 1000 && left > 1000) share = 1000;
        if (c->naddrs_left > 0) wsc_timer_start(&c->attempt, share);
        return;
    }
    int e = c->last_errno ? c->last_errno : ECONNREFUSED;
    char port[8];
    snprintf(port, sizeof port, "%u", c->proxy_host ? c->proxy_port : c->port);
    const char *h = c->proxy_host ? c->proxy_host : c->host;
    wsc_error err;
    wsc__seterr(&err, errno_to_wsc(e), "cannot connect to %s%s port %s: %s",
                c->proxy_host ? "proxy " : "", h, port, strerror(e));
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
        report_soon(c, errno_to_wsc(e), "cannot connect to Unix socket %s: %s", c->unix_path, strerror(e));
        return;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    if (wsc__watch_start(&c->watch, fd, WSC_WRITABLE) != WSC_OK)
        report_soon(c, WSC_EIO, "cannot watch the socket for %s%s", c->unix_path, "");
}

/* Resolver thread: the only code that runs off the loop thread. It touches
   only its job (host, port, result) and then posts the job back; the job's
   `c` is read and cleared only on the loop thread. */
static void on_resolved(wsc_loop *loop, void *user);

typedef struct {
    resolve_job *job;
    wsc_loop *loop;
} resolve_ctx;

static void *resolve_main(void *arg) {
    resolve_ctx *rc = arg;
    resolve_job *j = rc->job;
    wsc_loop *loop = rc->loop;
    wsc__free(rc);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    j->gai = getaddrinfo(j->host, j->port, &hints, &j->res);
    /* wsc_loop_post fails only on ENOMEM; the job and a loop reference are
       then lost, which is all that can be done from this thread. */
    (void)wsc_loop_post(loop, on_resolved, j);
    return NULL;
}

static void got_addresses(wsc_connector *c, struct addrinfo *res) {
    c->addrs = c->next = res;
    c->naddrs_left = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) c->naddrs_left++;
    try_next_address(c);
}

static void on_resolved(wsc_loop *loop, void *user) {
    resolve_job *j = user;
    wsc_loop_unref(loop);
    wsc_connector *c = j->c;
    if (!c) {
        if (j->res) freeaddrinfo(j->res);
        wsc__free(j->host);
        wsc__free(j);
        return;
    }
    c->job = NULL;
    int gai = j->gai;
    struct addrinfo *res = j->res;
    wsc__free(j->host);
    wsc__free(j);
    if (gai != 0) {
        const char *h = c->proxy_host ? c->proxy_host : c->host;
        fail(c, WSC_EDNS, "cannot resolve host name '%s': %s", h, gai_strerror(gai));
        return;
    }
    got_addresses(c, res);
}

static void start_resolve(wsc_connector *c, const char *host, uint16_t port) {
    /* IP literals need no lookup (and no thread). */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    if (getaddrinfo(host, portstr, &hints, &res) == 0) {
        c->addrs = c->next = res;
        c->naddrs_left = 1;
        /* Connect now; failures surface through the watch or the timer. */
        try_next_address(c);
        return;
    }
    resolve_job *j = wsc__calloc(1, sizeof *j);
    resolve_ctx *rc = wsc__calloc(1, sizeof *rc);
    if (!j || !rc || !(j->host = wsc__strdup(host))) {
        wsc__free(j ? j->host : NULL);
        wsc__free(j);
        wsc__free(rc);
        report_soon(c, WSC_ENOMEM, "out of memory resolving %s%s", host, "");
        return;
    }
    memcpy(j->port, portstr, sizeof portstr);
    j->c = c;
    rc->job = j;
    rc->loop = c->loop;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t th;
    wsc_loop_ref(c->loop);
    if (pthread_create(&th, &attr, resolve_main, rc) != 0) {
        wsc_loop_unref(c->loop);
        wsc__free(j->host);
        wsc__free(j);
        wsc__free(rc);
        report_soon(c, WSC_EIO, "cannot start the resolver thread for %s%s", host, "");
    } else {
        c->job = j;
        c->state = C_RESOLVING;
    }
    pthread_attr_destroy(&attr);
}

/* --- proxy ---------------------------------------------------------- */

static int host_needs_brackets(const char *h) { return strchr(h, ':') != NULL; }

static void start_proxy(wsc_connector *c) {
    char line[600];
    const char *lb = host_needs_brackets(c->host) ? "[" : "", *rb = host_needs_brackets(c->host) ? "]" : "";
    int n = snprintf(line, sizeof line, "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n", lb, c->host, rb,
                     c->port, lb, c->host, rb, c->port);
    c->pbuf.off = c->pbuf.len = 0;
    if (n < 0 || (size_t)n >= sizeof line || wsc_buf_append(&c->pbuf, line, (size_t)n)) {
        fail(c, WSC_ENOMEM, "cannot build the proxy request%s%s", "", "");
        return;
    }
    if (c->proxy_auth) {
        size_t alen = strlen(c->proxy_auth);
        size_t blen = 4 * ((alen + 2) / 3) + 1;
        unsigned char *b64 = wsc__malloc(blen);
        if (!b64) {
            fail(c, WSC_ENOMEM, "out of memory%s%s", "", "");
            return;
        }
        EVP_EncodeBlock(b64, (const unsigned char *)c->proxy_auth, (int)alen);
        int rc = wsc_buf_append(&c->pbuf, "Proxy-Authorization: Basic ", 27);
        if (!rc) rc = wsc_buf_append(&c->pbuf, b64, strlen((char *)b64));
        if (!rc) rc = wsc_buf_append(&c->pbuf, "\r\n", 2);
        OPENSSL_cleanse(b64, blen);
        wsc__free(b64);
        if (rc) {
            fail(c, WSC_ENOMEM, "out of memory%s%s", "", "");
            return;
        }
    }
    if (wsc_buf_append(&c->pbuf, "\r\n", 2)) {
        fail(c, WSC_ENOMEM, "out of memory%s%s", "", "");
        return;
    }
    c->psent = 0;
    c->state = C_PROXY_WRITE;
    wsc_watch_set(&c->watch, WSC_WRITABLE);
}

static void proxy_io(wsc_connector *c) {
    if (c->state == C_PROXY_WRITE) {
        while (c->psent < c->pbuf.len) {
            ssize_t n = send(c->fd, c->pbuf.data + c->psent, c->pbuf.len - c->psent, WSC_MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN) return;
                fail(c, WSC_EPROXY, "proxy connection failed: %s%s", strerror(errno), "");
                return;
            }
            c->psent += (size_t)n;
        }
        /* Wipe the request (it may carry credentials) and read the answer. */
        OPENSSL_cleanse(c->pbuf.data, c->pbuf.len);
        c->pbuf.off = c->pbuf.len = 0;
        c->state = C_PROXY_READ;
        wsc_watch_set(&c->watch, WSC_READABLE);
        return;
    }
    /* C_PROXY_READ: read byte-exact up to the end of the head, so nothing of
       the tunnelled stream (the TLS handshake) is consumed. Read in small
       pieces with MSG_PEEK to find the boundary. */
    for (;;) {
        char tmp[1024];
        ssize_t n = recv(c->fd, tmp, sizeof tmp, MSG_PEEK);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            fail(c, WSC_EPROXY, "proxy connection failed: %s%s", strerror(errno), "");
            return;
        }
        if (n == 0) {
            fail(c, WSC_EPROXY, "the proxy closed the connection before answering CONNECT%s%s", "", "");
            return;
        }
        size_t last = c->pbuf.len;
        if (wsc_buf_append(&c->pbuf, tmp, (size_t)n)) {
            fail(c, WSC_ENOMEM, "out of memory%s%s", "", "");
            return;
        }
        wsc_http_response r;
        int hl = wsc_http_parse_response((const char *)c->pbuf.data, c->pbuf.len, last, &r, 16384);
        size_t take = (size_t)n;
        if (hl > 0) take = (size_t)hl - last; /* consume only the head */
        /* Now consume for real what belongs to the head. */
        size_t done = 0;
        while (done < take) {
            ssize_t m = recv(c->fd, tmp, take - done, 0);
            if (m <= 0) {
                if (m < 0 && errno == EINTR) continue;
                fail(c, WSC_EPROXY, "proxy connection failed while reading its answer%s%s", "", "");
                return;
            }
            done += (size_t)m;
        }
        if (hl == WSC_EAGAIN) continue;
        if (hl < 0) {
            fail(c, WSC_EPROXY, "the proxy sent an invalid answer to CONNECT: %s%s", r.error ? r.error : "", "");
            return;
        }
        if (r.status / 100 != 2) {
            char st[200];
            snprintf(st, sizeof st, "%d %.*s", r.status, (int)(r.reason.len > 100 ? 100 : r.reason.len),
                     r.reason.ptr ? r.reason.ptr : "");
            fail(c, WSC_EPROXY, "the proxy refused the tunnel: %s%s", st,
                 r.status == 407 ? " (proxy authentication required)" : "");
            return;
        }
        wsc_buf_free(&c->pbuf);
        if (c->tls) start_tls(c);
        else finish(c, WSC_OK, NULL);
        return;
    }
}

/* --- TLS -------------------------------------------------------------- */

static int is_ip_literal(const char *h) {
    unsigned char b[16];
    return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

static void start_tls(wsc_connector *c) {
    wsc_error err;
    SSL_CTX *ctx = client_ctx(&c->tls_opts, &err);
    if (!ctx) {
        finish(c, err.code, &err);
        return;
    }
    c->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx); /* the SSL object holds its own reference */
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        fail(c, WSC_ENOMEM, "cannot create TLS state%s%s", "", "");
        return;
    }
    const char *host = c->host ? c->host : "localhost";
    int ip = is_ip_literal(host);
    if (!ip) SSL_set_tlsext_host_name(c->ssl, host); /* SNI carries names only */
    if (!c->tls_opts.skip_verify) {
        SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
        if (!c->tls_opts.skip_hostname) {
            if (ip) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
            else {
                SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                SSL_set1_host(c->ssl, host);
            }
        }
    } else {
        SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
    }
    SSL_set_connect_state(c->ssl);
    c->state = C_TLS;
    wsc_watch_set(&c->watch, WSC_READABLE | WSC_WRITABLE);
}

static void tls_io(wsc_connector *c) {
    int ret = SSL_do_handshake(c->ssl);
    if (ret == 1) {
        finish(c, WSC_OK, NULL);
        return;
    }
    int e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ) {
        wsc_watch_set(&c->watch, WSC_READABLE);
        return;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        wsc_watch_set(&c->watch, WSC_WRITABLE);
        return;
    }
    const char *host = c->host ? c->host : c->unix_path;
    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK) {
        ERR_clear_error();
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            fail(c, WSC_ETLSVERIFY, "TLS certificate verification failed for '%s': the certificate is not valid for this %s",
                 host, vr == X509_V_ERR_IP_ADDRESS_MISMATCH ? "IP address" : "host name");
        else
            fail(c, WSC_ETLSVERIFY, "TLS certificate verification failed for '%s': %s", host,
                 X509_verify_cert_error_string(vr));
        return;
    }
    char why[200];
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(why, sizeof why, "%s", errno ? strerror(errno) : "connection closed by the server");
        ERR_clear_error();
    } else {
        ssl_errstr(why, sizeof why);
    }
    fail(c, WSC_ETLS, "TLS handshake with '%s' failed: %s", host, why);
}

static void on_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)events;
    wsc_connector *c = user;
    if (c->state == C_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
        if (soerr == EINPROGRESS || soerr == EALREADY) return;
        if (soerr != 0) {
            wsc__watch_stop(&c->watch);
            close(c->fd);
            c->fd = -1;
            c->last_errno = soerr;
            if (c->unix_path) {
                fail(c, errno_to_wsc(soerr), "cannot connect to Unix socket %s: %s", c->unix_path, strerror(soerr));
                return;
            }
            try_next_address(c);
            return;
        }
        connected(c);
        return;
    }
    if (c->state == C_PROXY_WRITE || c->state == C_PROXY_READ) {
        proxy_io(c);
        return;
    }
    if (c->state == C_TLS) tls_io(c);
}

wsc_connector *wsc__connect(wsc_loop *loop, const wsc_connect_req *req, wsc_connect_cb cb, void *user,
                            wsc_error *err) {
    if (!loop || !req || !cb || (!req->host && !req->unix_path)) {
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
    c->proxy_port = req->proxy_port;
    int oom = 0;
    /* The caller's strings may be gone by the time TLS starts: copy them. */
    const char *const *src[] = {&req->tls_opts.ca_file, &req->tls_opts.ca_dir, &req->tls_opts.cert_file,
                                &req->tls_opts.key_file};
    const char **dst[] = {&c->tls_opts.ca_file, &c->tls_opts.ca_dir, &c->tls_opts.cert_file, &c->tls_opts.key_file};
    for (int i = 0; i < 4; i++)
        if (*src[i] && !(*dst[i] = wsc__strdup(*src[i]))) oom = 1;
    if (req->host && !(c->host = wsc__strdup(req->host))) oom = 1;
    if (req->unix_path && !(c->unix_path = wsc__strdup(req->unix_path))) oom = 1;
    if (req->proxy_host && !(c->proxy_host = wsc__strdup(req->proxy_host))) oom = 1;
    if (req->proxy_auth && !(c->proxy_auth = wsc__strdup(req->proxy_auth))) oom = 1;
    if (oom) {
        free_connector(c);
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    wsc__watch_init(&c->watch, loop, on_io, c);
    wsc__timer_init(&c->timer, loop, on_deadline, c);
    wsc__timer_init(&c->attempt, loop, on_attempt, c);
    unsigned to = req->timeout_ms ? req->timeout_ms : 10000;
    wsc_loop_update_time(loop);
    c->deadline = wsc_loop_now(loop) + to;
    wsc_timer_start(&c->timer, to);
    c->starting = 1;
    if (c->unix_path) unix_connect(c);
    else if (c->proxy_host) start_resolve(c, c->proxy_host, c->proxy_port);
    else start_resolve(c, c->host, c->port);
    c->starting = 0;
    return c;
}

void wsc__connect_cancel(wsc_connector *c) {
    if (!c) return;
    if (c->job) c->job->c = NULL; /* the resolver's post will just clean up */
    free_connector(c);
}
