/*
 * ws_create.c - a client connection from a URL and options (ws.h): every
 * option checked, the proxy chosen (option or environment) and parsed, the
 * upgrade request built, the connect request made (or held at the RFC 6455
 * 4.1 gate). The deciding part is wsc__ws_plan_make() (ws_plan.h), a pure
 * function of the URL, the options, 16 random bytes and the environment;
 * wsc_ws_new() adds only the loop, the gate and the connector.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "ws_plan.h"
#include "ws_private.h"

/* Splits "[scheme://][user[:pass]@]host[:port]": scheme http (the
   default), https, socks5, socks5h or socks (= socks5h, as curl's).
   Credentials are percent-decoded, as curl does. Messages never contain the
   credentials. Default ports: http 80, https 443, socks 1080. */
static int parse_proxy(const char *spec, int *kind, char *host, size_t hcap, uint16_t *port, char *auth, size_t acap,
                       wsc_error *err) {
    static const struct {
        const char *scheme;
        int kind;
        uint16_t port;
    } schemes[] = {{"http://", WSC_PROXY_HTTP, 80},      {"https://", WSC_PROXY_HTTPS, 443},
                   {"socks5://", WSC_PROXY_SOCKS5, 1080}, {"socks5h://", WSC_PROXY_SOCKS5H, 1080},
                   {"socks://", WSC_PROXY_SOCKS5H, 1080}};
    const char *rest = spec;
    uint16_t defport = 80;
    *kind = WSC_PROXY_HTTP;
    if (strstr(spec, "://")) {
        size_t i = 0;
        for (; i < sizeof schemes / sizeof *schemes; i++)
            if (strncasecmp(spec, schemes[i].scheme, strlen(schemes[i].scheme)) == 0) break;
        if (i == sizeof schemes / sizeof *schemes)
            return wsc__seterr(err, WSC_EINVAL,
                               "unsupported proxy scheme: use http://, https://, socks5:// or socks5h://");
        *kind = schemes[i].kind;
        defport = schemes[i].port;
        rest = spec + strlen(schemes[i].scheme);
    }
    /* The authority is parsed as an http:// URL's (brackets, port, userinfo). */
    char tmp[1024];
    int n = snprintf(tmp, sizeof tmp, "http://%s", rest);
    if (n < 0 || (size_t)n >= sizeof tmp) return wsc__seterr(err, WSC_EINVAL, "proxy URL too long");
    wsc_url pu;
    wsc_error perr;
    if (wsc_url_parse(tmp, (size_t)n, &pu, &perr))
        return wsc__seterr(err, WSC_EINVAL, "invalid proxy URL: %s", perr.message);
    if (pu.host.len >= hcap) return wsc__seterr(err, WSC_EINVAL, "proxy host name too long");
    memcpy(host, pu.host.ptr, pu.host.len);
    host[pu.host.len] = 0;
    *port = pu.port_explicit ? pu.port : defport;
    auth[0] = 0;
    if (pu.userinfo.ptr) {
        if (pu.userinfo.len >= acap) return wsc__seterr(err, WSC_EINVAL, "proxy credentials too long");
        auth[wsc__pct_decode(pu.userinfo.ptr, pu.userinfo.len, auth)] = 0;
    }
    return WSC_OK;
}

/* SNI carries names only: the same test as the connector's. */
static int ip_literal(const char *host) {
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Credentials in the URL become Basic auth, percent-decoded first (as curl
   and node ws do): a NUL-terminated copy, or NULL (ENOMEM). */
static char *url_basic_auth(const wsc_url *u) {
    wsc_buf ab = {0};
    char *auth = NULL;
    if (wsc_url_basic_auth(u, &ab) == WSC_OK) auth = wsc__strndup((const char *)ab.data, ab.len);
    if (ab.data) wsc__wipe(ab.data, ab.len);
    wsc_buf_free(&ab);
    return auth;
}

/* The transport part of the plan: host or socket, TLS, proxy, SNI, gate. */
static int plan_connect(wsc__ws_plan *p, const wsc_url *u, const wsc_ws_options *opts, wsc__env_fn env,
                        wsc_error *err) {
    wsc_connect_req *cr = &p->connect;
    if (u->socket_path.ptr) {
        if (u->socket_path.len >= sizeof p->unix_path) return wsc__seterr(err, WSC_EURL, "Unix socket path too long");
        memcpy(p->unix_path, u->socket_path.ptr, u->socket_path.len);
        p->unix_path[u->socket_path.len] = 0;
        cr->unix_path = p->unix_path;
    } else {
        if (u->host.len >= sizeof p->host) return wsc__seterr(err, WSC_EURL, "host name too long");
        memcpy(p->host, u->host.ptr, u->host.len);
        p->host[u->host.len] = 0;
        cr->host = p->host;
        cr->port = u->port;
    }
    cr->tls = u->secure;
    cr->tls_opts.ca_file = opts->ca_file;
    cr->tls_opts.ca_dir = opts->ca_dir;
    cr->tls_opts.cert_file = opts->cert_file;
    cr->tls_opts.key_file = opts->key_file;
    cr->tls_opts.key_passphrase = opts->key_passphrase;
    cr->tls_opts.skip_verify = opts->insecure_skip_verify;
    cr->tls_opts.skip_hostname = opts->insecure_skip_hostname;
    cr->timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT;
    p->sni = cr->tls && cr->host && !ip_literal(cr->host) ? cr->host : NULL;
    /* A Unix socket never goes through a proxy; the environment's proxy is
       browser-style (wsc__env_proxy: no_proxy, loopback bypassed). */
    const char *proxy = opts->proxy;
    if (!proxy && cr->host && env) proxy = wsc__env_proxy_in(cr->host, u->secure, env);
    if (proxy && *proxy && !cr->unix_path) {
        if (parse_proxy(proxy, &cr->proxy_kind, p->proxy_host, sizeof p->proxy_host, &cr->proxy_port, p->proxy_auth,
                        sizeof p->proxy_auth, err))
            return err->code;
        cr->proxy_host = p->proxy_host;
        cr->proxy_auth = p->proxy_auth[0] ? p->proxy_auth : NULL;
    }
    if (!opts->parallel_connect) {
        if (cr->unix_path) snprintf(p->gate_key, sizeof p->gate_key, "unix:%s", cr->unix_path);
        else {
            snprintf(p->gate_key, sizeof p->gate_key, "%s:%u", cr->host, cr->port);
            for (char *q = p->gate_key; *q; q++) *q = (char)tolower((unsigned char)*q);
        }
    }
    return WSC_OK;
}

int wsc__ws_plan_make(const char *url, const wsc_ws_options *opts, const uint8_t nonce[16], wsc__env_fn env,
                      wsc__ws_plan *p, wsc_error *err) {
    static const wsc_ws_options defaults;
    wsc_error e;
    if (!err) err = &e;
    memset(p, 0, sizeof *p);
    if (!opts) opts = &defaults;
    if (!url) return wsc__seterr(err, WSC_EINVAL, "wsc_ws_new: loop and url are required");
    if (WSC__CHECK_RESERVED(opts, err, "wsc_ws_options")) return err->code;
    char *auth = NULL;
    wsc_header *extra = NULL;
    wsc_buf ext = {0};
    wsc_url u;
    int rc = wsc_url_parse(url, strlen(url), &u, err);
    if (rc) goto out;
    char origin[WSC_URL_ORIGIN_MAX];
    if (wsc_url_origin(&u, origin, sizeof origin) < 0 || !(p->origin = wsc__strdup(origin)) ||
        wsc__strv_dup(&p->protocols, opts->protocols)) {
        rc = wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto out;
    }

    /* The whole request is built now, so every option error surfaces here. */
    wsc_handshake_key(nonce, p->key);
    wsc_handshake_req rq;
    memset(&rq, 0, sizeof rq);
    wsc_handshake_req_from_url(&rq, &u);
    rq.key = p->key;
    rq.protocols = (const char *const *)p->protocols;
    if (!opts->no_deflate) {
        p->offer_pmd = 1;
        p->pmd_offer.server_no_context_takeover = opts->deflate_server_no_context_takeover;
        p->pmd_offer.client_no_context_takeover = opts->deflate_client_no_context_takeover;
        p->pmd_offer.server_max_window_bits = opts->deflate_server_max_window_bits;
        p->pmd_offer.client_max_window_bits = opts->deflate_client_max_window_bits;
        if ((rc = wsc_pmd_offer_format(&p->pmd_offer, &ext))) {
            wsc__seterr(err, rc, "invalid permessage-deflate options (window bits must be 8 to 15)");
            goto out;
        }
        rq.extensions.ptr = (const char *)ext.data;
        rq.extensions.len = ext.len;
    }
    rq.origin = wsc_span_str(opts->origin);
    rq.cookie = wsc_span_str(opts->cookie);
    rq.user_agent = wsc_span_str(opts->user_agent);
    if (u.userinfo.ptr) {
        if (!(auth = url_basic_auth(&u))) {
            rc = wsc__seterr(err, WSC_ENOMEM, "out of memory");
            goto out;
        }
        rq.authorization = wsc_span_str(auth);
    }
    if (opts->nheaders) {
        if (!opts->headers) {
            rc = wsc__seterr(err, WSC_EINVAL, "nheaders is set but headers is NULL");
            goto out;
        }
        if (!(extra = wsc__calloc(opts->nheaders, sizeof *extra))) {
            rc = wsc__seterr(err, WSC_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < opts->nheaders; i++) {
            extra[i].name = wsc_span_str(opts->headers[i].name);
            extra[i].value = wsc_span_str(opts->headers[i].value);
            if (!extra[i].name.ptr || !extra[i].value.ptr) {
                rc = wsc__seterr(err, WSC_EINVAL, "extra header %zu has a NULL name or value", i);
                goto out;
            }
        }
        rq.headers = extra;
        rq.n_headers = opts->nheaders;
    }
    if ((rc = wsc_handshake_request(&rq, &p->request, err))) goto out;
    rc = plan_connect(p, &u, opts, env, err);

out:
    if (auth) {
        wsc__wipe(auth, strlen(auth));
        wsc__free(auth);
    }
    wsc__free(extra);
    wsc_buf_free(&ext);
    if (rc) wsc__ws_plan_free(p);
    return rc;
}

void wsc__ws_plan_free(wsc__ws_plan *p) {
    if (p->request.data) wsc__wipe(p->request.data, p->request.len); /* may carry credentials */
    wsc_buf_free(&p->request);
    wsc__free(p->origin);
    wsc__strv_free(p->protocols);
    wsc__wipe(p->proxy_auth, sizeof p->proxy_auth);
    memset(p, 0, sizeof *p);
}

const char *wsc__process_env(const char *name) { return getenv(name); }

wsc_ws *wsc_ws_new(wsc_loop *loop, const char *url, const wsc_ws_options *opts, wsc_error *err) {
    static const wsc_ws_options defaults;
    if (!opts) opts = &defaults;
    if (!loop || !url) {
        wsc__seterr(err, WSC_EINVAL, "wsc_ws_new: loop and url are required");
        return NULL;
    }
    uint8_t nonce[16];
    if (wsc__random(NULL, nonce, sizeof nonce)) {
        wsc__seterr(err, WSC_EIO, "the random generator failed");
        return NULL;
    }
    wsc__ws_plan plan;
    if (wsc__ws_plan_make(url, opts, nonce, wsc__process_env, &plan, err)) return NULL;
    wsc_ws *ws = wsc__calloc(1, sizeof *ws);
    handshake *hs = wsc__calloc(1, sizeof *hs);
    if (!ws || !hs || !(ws->url = wsc__strdup(url))) {
        if (ws) wsc__free(ws->url);
        wsc__free(ws);
        wsc__free(hs);
        wsc__ws_plan_free(&plan);
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    ws->hs = hs;
    wsc__ws_init_engine(ws, loop);
    ws->c.close_timeout = opts->close_timeout_ms ? opts->close_timeout_ms : WSC__DEFAULT_CLOSE_TIMEOUT_MS;
    hs->handshake_timeout = opts->handshake_timeout_ms ? opts->handshake_timeout_ms : WSC__DEFAULT_HANDSHAKE_TIMEOUT_MS;
    ws->c.max_buffered = opts->max_buffered ? opts->max_buffered : WSC__DEFAULT_MAX_BUFFERED;
    hs->max_message = opts->max_message_size ? opts->max_message_size : WSC_DEFAULT_MAX_MESSAGE;
    hs->fragment_size = opts->fragment_size;
    hs->deflate_threshold = opts->deflate_threshold;
    hs->deflate_mem_level = opts->deflate_mem_level;
    hs->max_header = opts->max_header_size ? opts->max_header_size : WSC_HTTP_DEFAULT_MAX_HEADER_BYTES;
    ws->cb[WSC_WS_OPEN] = opts->on_open;
    ws->cb[WSC_WS_MESSAGE] = opts->on_message;
    ws->cb[WSC_WS_ERROR] = opts->on_error;
    ws->cb[WSC_WS_CLOSE] = opts->on_close;
    ws->user = opts->user;
    ws->trace = opts->trace;
    /* The plan's request, key, origin and offer become the connection's. */
    hs->req = plan.request;
    plan.request = (wsc_buf){0};
    memcpy(hs->key, plan.key, sizeof hs->key);
    ws->origin = plan.origin;
    plan.origin = NULL;
    hs->protocols = plan.protocols;
    plan.protocols = NULL;
    hs->offer_pmd = plan.offer_pmd;
    hs->pmd_offer = plan.pmd_offer;

    if (plan.gate_key[0] && wsc__ws_gate_join(ws, plan.gate_key)) {
        /* Another connection to this host and port is CONNECTING: wait for
           it (RFC 6455 4.1), keeping the request. */
        int rc = wsc__ws_hold_connect(hs, &plan.connect);
        wsc__ws_plan_free(&plan);
        if (rc) {
            wsc__seterr(err, rc, "out of memory");
            wsc__ws_really_free(ws);
            return NULL;
        }
        return ws;
    }
    hs->connector = wsc__connect(loop, &plan.connect, wsc__ws_on_connected, ws, err);
    wsc__ws_plan_free(&plan);
    if (!hs->connector) {
        wsc__ws_really_free(ws);
        return NULL;
    }
    return ws;
}

int wsc__ws_check(const char *url, const wsc_ws_options *opts, wsc_error *err) {
    static const uint8_t no_nonce[16]; /* the key is not used */
    wsc__ws_plan plan;
    int rc = wsc__ws_plan_make(url, opts, no_nonce, wsc__process_env, &plan, err);
    if (rc == WSC_OK) {
        wsc__ws_plan_free(&plan);
        wsc__seterr(err, WSC_OK, "options are valid");
    }
    return rc;
}
