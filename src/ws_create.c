/*
 * ws_create.c - a client connection from a URL and options (ws.h): every
 * option checked, the proxy chosen (option or environment) and parsed, the
 * upgrade request built, the connect request made (or held at the RFC 6455
 * 4.1 gate); wsc__ws_validate() is the same path stopped before connecting.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ws_private.h"

/* Environment proxy for this URL (transport.c), browser-style. */
static const char *env_proxy(const wsc_url *u) {
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(u->host.len > 255 ? 255 : u->host.len), u->host.ptr);
    return wsc__env_proxy(host, u->secure);
}

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

/* Creates a connection; with `dry` set, stops just before connecting (every
   option has been checked and the request built) and frees it again. */
static wsc_ws *ws_create(wsc_loop *loop, const char *url, const wsc_ws_options *opts, wsc_error *err, int dry) {
    static const wsc_ws_options defaults;
    if (!opts) opts = &defaults;
    if (!loop || !url) {
        wsc__seterr(err, WSC_EINVAL, "wsc_ws_new: loop and url are required");
        return NULL;
    }
    if (WSC__CHECK_RESERVED(opts, err, "wsc_ws_options")) return NULL;
    wsc_ws *ws = wsc__calloc(1, sizeof *ws);
    handshake *hs = wsc__calloc(1, sizeof *hs);
    if (!ws || !hs) {
        wsc__free(ws);
        wsc__free(hs);
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
    ws->cb_open = opts->on_open;
    ws->cb_message = opts->on_message;
    ws->cb_error = opts->on_error;
    ws->cb_close = opts->on_close;
    ws->user = opts->user;
    ws->trace = opts->trace;

    char *auth = NULL;
    wsc_header *extra = NULL;
    wsc_buf ext = {0};
    wsc_url u;
    ws->url = wsc__strdup(url);
    if (!ws->url) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto fail;
    }
    if (wsc_url_parse(ws->url, strlen(ws->url), &u, err)) goto fail;
    char origin[WSC_URL_ORIGIN_MAX];
    if (wsc_url_origin(&u, origin, sizeof origin) < 0 || !(ws->origin = wsc__strdup(origin))) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto fail;
    }
    if (wsc__strv_dup(&hs->protocols, opts->protocols)) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto fail;
    }

    /* The whole request is built now, so every option error surfaces here. */
    uint8_t raw[16];
    if (wsc__random(NULL, raw, sizeof raw)) {
        wsc__seterr(err, WSC_EIO, "the random generator failed");
        goto fail;
    }
    wsc_handshake_key(raw, hs->key);
    wsc_handshake_req rq;
    memset(&rq, 0, sizeof rq);
    wsc_handshake_req_from_url(&rq, &u);
    rq.key = hs->key;
    rq.protocols = (const char *const *)hs->protocols;
    if (!opts->no_deflate) {
        hs->offer_pmd = 1;
        hs->pmd_offer.server_no_context_takeover = opts->deflate_server_no_context_takeover;
        hs->pmd_offer.client_no_context_takeover = opts->deflate_client_no_context_takeover;
        hs->pmd_offer.server_max_window_bits = opts->deflate_server_max_window_bits;
        hs->pmd_offer.client_max_window_bits = opts->deflate_client_max_window_bits;
        int rc = wsc_pmd_offer_format(&hs->pmd_offer, &ext);
        if (rc) {
            wsc__seterr(err, rc, "invalid permessage-deflate options (window bits must be 8 to 15)");
            goto fail;
        }
        rq.extensions.ptr = (const char *)ext.data;
        rq.extensions.len = ext.len;
    }
    rq.origin = wsc_span_str(opts->origin);
    rq.cookie = wsc_span_str(opts->cookie);
    rq.user_agent = wsc_span_str(opts->user_agent);
    if (u.userinfo.ptr) {
        /* Credentials in the URL become Basic auth, percent-decoded first
           (as curl and node ws do). */
        wsc_buf ab = {0};
        if (wsc_url_basic_auth(&u, &ab) != WSC_OK || !(auth = wsc__strndup((const char *)ab.data, ab.len))) {
            if (ab.data) wsc__wipe(ab.data, ab.len);
            wsc_buf_free(&ab);
            wsc__seterr(err, WSC_ENOMEM, "out of memory");
            goto fail;
        }
        wsc__wipe(ab.data, ab.len);
        wsc_buf_free(&ab);
        rq.authorization = wsc_span_str(auth);
    }
    if (opts->nheaders) {
        if (!opts->headers) {
            wsc__seterr(err, WSC_EINVAL, "nheaders is set but headers is NULL");
            goto fail;
        }
        extra = wsc__calloc(opts->nheaders, sizeof *extra);
        if (!extra) {
            wsc__seterr(err, WSC_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < opts->nheaders; i++) {
            extra[i].name = wsc_span_str(opts->headers[i].name);
            extra[i].value = wsc_span_str(opts->headers[i].value);
            if (!extra[i].name.ptr || !extra[i].value.ptr) {
                wsc__seterr(err, WSC_EINVAL, "extra header %zu has a NULL name or value", i);
                goto fail;
            }
        }
        rq.headers = extra;
        rq.n_headers = opts->nheaders;
    }
    if (wsc_handshake_request(&rq, &hs->req, err)) goto fail;
    if (auth) {
        wsc__wipe(auth, strlen(auth));
        wsc__free(auth);
        auth = NULL;
    }
    wsc__free(extra);
    extra = NULL;
    wsc_buf_free(&ext);

    /* The transport. */
    wsc_connect_req cr;
    memset(&cr, 0, sizeof cr);
    char hostbuf[256], proxy_host[256], proxy_auth[512];
    char unix_path[256];
    if (u.socket_path.ptr) {
        if (u.socket_path.len >= sizeof unix_path) {
            wsc__seterr(err, WSC_EURL, "Unix socket path too long");
            goto fail;
        }
        memcpy(unix_path, u.socket_path.ptr, u.socket_path.len);
        unix_path[u.socket_path.len] = 0;
        cr.unix_path = unix_path;
    } else {
        if (u.host.len >= sizeof hostbuf) {
            wsc__seterr(err, WSC_EURL, "host name too long");
            goto fail;
        }
        memcpy(hostbuf, u.host.ptr, u.host.len);
        hostbuf[u.host.len] = 0;
        cr.host = hostbuf;
        cr.port = u.port;
    }
    cr.tls = u.secure;
    cr.tls_opts.ca_file = opts->ca_file;
    cr.tls_opts.ca_dir = opts->ca_dir;
    cr.tls_opts.cert_file = opts->cert_file;
    cr.tls_opts.key_file = opts->key_file;
    cr.tls_opts.key_passphrase = opts->key_passphrase;
    cr.tls_opts.skip_verify = opts->insecure_skip_verify;
    cr.tls_opts.skip_hostname = opts->insecure_skip_hostname;
    cr.timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT;
    const char *proxy = opts->proxy ? opts->proxy : (u.socket_path.ptr ? NULL : env_proxy(&u));
    if (proxy && *proxy && !u.socket_path.ptr) {
        if (parse_proxy(proxy, &cr.proxy_kind, proxy_host, sizeof proxy_host, &cr.proxy_port, proxy_auth,
                        sizeof proxy_auth, err))
            goto fail;
        cr.proxy_host = proxy_host;
        cr.proxy_auth = proxy_auth[0] ? proxy_auth : NULL;
    }
    if (dry) {
        wsc__wipe(proxy_auth, sizeof proxy_auth);
        wsc__ws_really_free(ws);
        wsc__seterr(err, WSC_OK, "options are valid");
        return NULL;
    }
    if (!opts->parallel_connect) {
        char key[300];
        if (cr.unix_path) snprintf(key, sizeof key, "unix:%s", cr.unix_path);
        else {
            snprintf(key, sizeof key, "%s:%u", cr.host, cr.port);
            for (char *q = key; *q; q++) *q = (char)tolower((unsigned char)*q);
        }
        if (wsc__ws_gate_join(ws, key)) {
            /* Another connection to this host and port is CONNECTING:
               wait for it (RFC 6455 4.1), keeping the request. */
            int rc = wsc__ws_hold_connect(hs, &cr);
            wsc__wipe(proxy_auth, sizeof proxy_auth);
            if (rc) {
                wsc__seterr(err, rc, "out of memory");
                goto fail;
            }
            return ws;
        }
    }
    hs->connector = wsc__connect(loop, &cr, wsc__ws_on_connected, ws, err);
    wsc__wipe(proxy_auth, sizeof proxy_auth);
    if (!hs->connector) goto fail;
    return ws;

fail:
    if (auth) {
        wsc__wipe(auth, strlen(auth));
        wsc__free(auth);
    }
    wsc__free(extra);
    wsc_buf_free(&ext);
    wsc__ws_really_free(ws);
    return NULL;
}

wsc_ws *wsc_ws_new(wsc_loop *loop, const char *url, const wsc_ws_options *opts, wsc_error *err) {
    return ws_create(loop, url, opts, err, 0);
}

int wsc__ws_validate(wsc_loop *loop, const char *url, const wsc_ws_options *opts, wsc_error *err) {
    wsc_error e;
    if (!err) err = &e;
    ws_create(loop, url, opts, err, 1);
    return err->code;
}

