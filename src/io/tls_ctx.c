/*
 * tls_ctx.c - the TLS contexts of the connector and the server role.
 *
 * Costs: loading a CA store takes milliseconds and megabytes, so a client
 * context is built once per distinct set of CA/certificate options and
 * shared (a cache of 16, the oldest dropped first; SSL objects keep their
 * own references). A private key's passphrase is used while the key is
 * loaded and not kept.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "tx_impl.h"

#define TLS_CACHE_MAX 16
static struct {
    char *key;
    SSL_CTX *ctx;
} tls_cache[TLS_CACHE_MAX];
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *nz(const char *s) { return s ? s : ""; }

/* Describes OpenSSL's error queue in one line (and clears it). */
void wsc__ssl_errstr(char *buf, size_t cap) {
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
   send buffers grow by realloc); record buffers released when idle; reads
   ahead (one read(2) for all the records the kernel has, not two per
   record: tls.c stops reading once nothing is buffered). */
static SSL_CTX *new_ctx(const SSL_METHOD *method, wsc_error *err) {
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) {
        wsc__seterr(err, WSC_ENOMEM, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    return ctx;
}

/* OpenSSL's password callback: the passphrase given, never a prompt (the
   default one reads the terminal, which a library must not do). */
static int passphrase_cb(char *buf, int size, int rwflag, void *user) {
    (void)rwflag;
    const char *p = user;
    size_t n = p ? strlen(p) : 0;
    if (!p || n > (size_t)size) return 0;
    memcpy(buf, p, n);
    return (int)n;
}

/* Loads a certificate chain and its private key (PEM, encrypted with
   `passphrase` if not NULL) into ctx. */
static int load_cert_key(SSL_CTX *ctx, const char *cert, const char *key, const char *passphrase,
                         const char *what, wsc_error *err) {
    char why[200];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        wsc__ssl_errstr(why, sizeof why);
        return wsc__seterr(err, WSC_ETLS, "cannot load %scertificate %s: %s", what, cert, why);
    }
    SSL_CTX_set_default_passwd_cb(ctx, passphrase_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)passphrase);
    int ok = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    /* The context outlives the caller's string: keep no pointer to it. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (!ok) {
        wsc__ssl_errstr(why, sizeof why);
        return wsc__seterr(err, WSC_ETLS, "cannot load %sprivate key %s: %s%s", what, key, why,
                           passphrase ? " (wrong passphrase?)" : " (if it is encrypted, give its passphrase)");
    }
    return WSC_OK;
}

/* A client context for these options, shared and built once. Returns a new
   reference (the caller frees it with SSL_CTX_free once SSL_new has taken its
   own). When the cache is full the oldest entry is dropped: SSL objects
   still using it hold references of their own. */
SSL_CTX *wsc__tls_client_ctx(const wsc_tls_opts *o, wsc_error *err) {
    char key[2048];
    /* The passphrase is not part of the key: a context is built (and the key
       decrypted) once, by the first caller that has the right one. */
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
        wsc__ssl_errstr(why, sizeof why);
        wsc__seterr(err, WSC_ETLS, "cannot load trusted CAs from %s: %s",
                    o->ca_file ? o->ca_file : o->ca_dir ? o->ca_dir : "the system store", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (o->cert_file && load_cert_key(ctx, o->cert_file, o->key_file ? o->key_file : o->cert_file, o->key_passphrase, "client ", err)) {
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

/* A wsc__tls_server is an SSL_CTX (the cast is the whole wrapper). */
void wsc__tls_server_free(wsc__tls_server *t) { SSL_CTX_free((SSL_CTX *)t); }

static SSL_CTX *server_ctx(const char *cert_file, const char *key_file, wsc_error *err);
wsc__tls_server *wsc__tls_server_new(const char *cert_file, const char *key_file, wsc_error *err) {
    return (wsc__tls_server *)server_ctx(cert_file, key_file, err);
}

static SSL_CTX *server_ctx(const char *cert_file, const char *key_file, wsc_error *err) {
    SSL_CTX *ctx = new_ctx(TLS_server_method(), err);
    if (ctx && load_cert_key(ctx, cert_file, key_file, NULL, "", err)) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

