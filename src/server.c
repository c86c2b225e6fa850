/*
 * server.c - the server role (server.h).
 *
 * A connection goes: [TLS accept] -> read the request head -> RFC 6455
 * checks (http.h) -> accept hook -> 101 -> OPEN (the sans-I/O core in the
 * server role) -> closing handshake, after which the server closes TCP
 * first (RFC 6455 7.1.1). Reads go through the loop's shared scratch buffer
 * and writes are coalesced once per loop iteration, as in ws.c, so a server
 * connection at rest costs its struct and its protocol endpoint only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io/listen.h"
#include "internal.h"
#include "server_internal.h"
#include "io/loop_internal.h"
#include "io/transport.h"
#include "wsc/http.h"
#include "wsc/proto.h"
#include "wsc/server.h"
#include "wsc/ws.h"

/* wsc_server_options.max_connections when 0 (server.h). */
#define DEFAULT_MAX_CONNECTIONS 100000u

#define SC_OF(conn) ((wsc_sconn *)((char *)(conn) - offsetof(wsc_sconn, c)))

static void conn_really_free(wsc_sconn *c);
static void server_really_free(wsc_server *s);

/* ------------------------------------------------------------------ */
/* The engine's ops                                                    */
/* ------------------------------------------------------------------ */

/* Events reach the application only for connections that it saw open:
   a handshake that fails (or is refused) is not its business. */
static int sc_emit(wsc__conn *cn, wsc_ws_event *ev) {
    wsc_sconn *c = SC_OF(cn);
    wsc_server *s = c->srv;
    if (!c->was_open) return cn->freed || s->freed;
    if (ev->type == WSC_WS_MESSAGE && c->csrf_token && !wsc__srv_csrf_message(s, c->csrf_token, ev)) {
        /* Not delivered: reported, and the connection closed (1008). */
        wsc_ws_event e = {0};
        e.type = WSC_WS_ERROR;
        e.error = WSC_ECSRF;
        e.message = "a message without the right CSRF token: closing with 1008";
        if (sc_emit(cn, &e)) return 1;
        wsc_sconn_close(c, 1008, "CSRF token missing or wrong");
        return cn->freed || s->freed;
    }
    wsc_server_cb cb = NULL;
    switch (ev->type) {
    case WSC_SRV_OPEN: cb = s->o.on_open; break;
    case WSC_SRV_MESSAGE: cb = s->o.on_message; break;
    case WSC_SRV_CLOSE: cb = s->o.on_close; break;
    case WSC_SRV_ERROR: cb = s->o.on_error; break;
    case WSC_SRV_PING: cb = s->o.on_ping; break;
    case WSC_SRV_PONG: cb = s->o.on_pong; break;
    }
    if (cb) {
        wsc_server_event e;
        memset(&e, 0, sizeof e);
        e.type = ev->type;
        e.binary = ev->binary;
        e.data = ev->data;
        e.len = ev->len;
        e.code = ev->code;
        e.reason = ev->reason ? ev->reason : "";
        e.was_clean = ev->was_clean;
        e.error = ev->error;
        e.message = ev->message ? ev->message : "";
        s->depth++;
        cb(s, c, &e, s->o.user);
        s->depth--;
    }
    return cn->freed || s->freed;
}

static void sc_release(wsc__conn *cn) { conn_really_free(SC_OF(cn)); }

/* Done: out of the open count (before on_close, which may look at it). */
static void sc_done(wsc__conn *cn) {
    wsc_sconn *c = SC_OF(cn);
    if (c->deadline_on) wsc_timer_stop(&c->deadline);
    if (c->counted) {
        c->srv->nopen--;
        c->counted = 0;
    }
}

static void sc_out_changed(wsc__conn *cn) { wsc__srv_charge(SC_OF(cn)); }

static void sc_after_read(wsc__conn *cn) {
    wsc_sconn *c = SC_OF(cn);
    c->last_rx = wsc_loop_now(c->srv->loop);
    if (c->rx_held == 0 && c->deadline_on) wsc__srv_deadline_arm(c);
}

/* Every entry into a connection is also an entry into its server, so that a
   wsc_server_free() inside a callback waits for the outermost one. */
static void sc_enter(wsc__conn *cn) {
    SC_OF(cn)->srv->depth++;
    wsc__conn_enter(cn);
}

static void sc_leave(wsc__conn *cn) {
    wsc_server *s = SC_OF(cn)->srv;
    wsc__conn_leave(cn); /* may free the connection */
    if (--s->depth == 0 && s->freed) server_really_free(s);
}

static const wsc__conn_ops sc_ops = {
    .emit = sc_emit,
    .release = sc_release,
    .done = sc_done,
    .out_changed = sc_out_changed,
    .after_read = sc_after_read,
    .enter = sc_enter,
    .leave = sc_leave,
};

static void enter(wsc_sconn *c) { sc_enter(&c->c); }
static void leave(wsc_sconn *c) { sc_leave(&c->c); }
void wsc__sconn_enter(wsc_sconn *c) { enter(c); }
void wsc__sconn_leave(wsc_sconn *c) { leave(c); }

static void conn_finish(wsc_sconn *c, unsigned code, int clean) { wsc__conn_finish(&c->c, code, clean); }

/* A refusal is being written: once it is out, the server closes TCP. */
static void reject_write(wsc_sconn *c) {
    if (wsc__conn_write(&c->c) || c->c.phase == S_DONE) return;
    if (!wsc_buf_pending(&c->c.out)) {
        conn_finish(c, 1006, 0);
        return;
    }
    wsc_watch_set(&c->c.watch, wsc__tx_interest(&c->c.tx, 0, 1));
}

static void on_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_sconn *c = user;
    enter(c);
    /* The handshake took too long, or (engine) the closing handshake. */
    if (c->c.phase < S_OPEN) conn_finish(c, 1006, 0);
    else wsc__conn_on_timer(&c->c);
    leave(c);
}

/* ------------------------------------------------------------------ */
/* The handshake                                                       */
/* ------------------------------------------------------------------ */

static void reject(wsc_sconn *c, int status, const char *body, const wsc_header *extra, size_t nextra) {
    wsc_buf_free(&c->c.out);
    wsc_buf_free(&c->in);
    wsc__srv_charge(c);
    if (wsc_http_error_response(status, NULL, body, extra, nextra, &c->c.out, NULL) != WSC_OK) {
        conn_finish(c, 1006, 0);
        return;
    }
    wsc__srv_charge(c);
    c->c.phase = S_REJECT;
    reject_write(c);
}

static char *spandup(wsc_span sp) { return wsc__strndup(sp.ptr ? sp.ptr : "", sp.ptr ? sp.len : 0); }

/* A request without an Upgrade header: the plain-HTTP hook may answer it.
   Returns non-zero if it did (the answer is being sent). */
static int plain_http(wsc_sconn *c, const wsc_http_request *rq, const wsc_ws_request_info *info) {
    wsc_server *s = c->srv;
    if (!s->o.on_http) return 0;
    for (size_t i = 0; i < rq->n_headers; i++)
        if (rq->headers[i].name.len == 7 && strncasecmp(rq->headers[i].name.ptr, "Upgrade", 7) == 0) return 0;
    char *target = spandup((wsc_span){rq->target.ptr, rq->target.len});
    char *path = spandup(info->path), *query = spandup(info->query), *cookie = spandup(info->cookie);
    char *origin = spandup(info->origin);
    int answered = -1;
    wsc_buf resp = {0};
    if (target && path && query && cookie && origin) {
        wsc_server_request req = {target, path, query, cookie, origin, "", c->peer};
        enter(c);
        answered = s->o.on_http(s, &req, s->o.user, &resp);
        c->c.depth--;
        s->depth--; /* leave() without the deferred free: handshake()'s caller does it */
    }
    wsc__free(target);
    wsc__free(path);
    wsc__free(query);
    wsc__free(cookie);
    wsc__free(origin);
    if (c->c.freed || s->freed || answered == 0) {
        wsc_buf_free(&resp);
        return c->c.freed || s->freed;
    }
    if (answered < 0 || !resp.len) {
        wsc_buf_free(&resp);
        reject(c, 500, "internal error", NULL, 0);
        return 1;
    }
    wsc_buf_free(&c->c.out);
    wsc_buf_free(&c->in);
    c->c.out = resp;
    wsc__srv_charge(c);
    c->c.phase = S_REJECT;
    reject_write(c);
    return 1;
}

/* The request as C strings, for the hooks (accept, refuse) and the CSRF
   check; built once, when one of them needs it. */
typedef struct reqstr {
    char *target, *path, *query, *cookie, *origin, *protos;
    int ok; /* every string there (else out of memory) */
} reqstr;

static void reqstr_build(reqstr *r, const wsc_http_request *rq, const wsc_ws_request_info *info) {
    r->target = spandup((wsc_span){rq->target.ptr, rq->target.len});
    r->path = spandup(info->path);
    r->query = spandup(info->query);
    r->cookie = spandup(info->cookie);
    r->origin = spandup(info->origin);
    /* The raw Sec-WebSocket-Protocol value(s), comma-joined. */
    wsc_buf pb = {0};
    for (size_t i = 0; i < rq->n_headers; i++) {
        const wsc_header *h = &rq->headers[i];
        if (h->name.len == 22 && strncasecmp(h->name.ptr, "Sec-WebSocket-Protocol", 22) == 0) {
            if (pb.len) wsc_buf_append(&pb, ", ", 2);
            wsc_buf_append(&pb, h->value.ptr, h->value.len);
        }
    }
    r->protos = wsc__strndup(pb.data ? (const char *)pb.data : "", pb.len);
    wsc_buf_free(&pb);
    r->ok = r->target && r->path && r->query && r->cookie && r->origin && r->protos;
}

static void reqstr_free(reqstr *r) {
    wsc__free(r->target);
    wsc__free(r->path);
    wsc__free(r->query);
    if (r->cookie) wsc__wipe(r->cookie, strlen(r->cookie)); /* it may hold the token */
    wsc__free(r->cookie);
    wsc__free(r->origin);
    wsc__free(r->protos);
}

static wsc_server_request request_of(const wsc_sconn *c, const reqstr *r) {
    wsc_server_request req = {r->target, r->path, r->query, r->cookie, r->origin, r->protos, c->peer};
    return req;
}

/* Refuses the upgrade, telling the on_refuse hook first. */
static void refuse(wsc_sconn *c, const reqstr *r, int status, const char *why, const wsc_header *h, size_t nh) {
    wsc_server *s = c->srv;
    if (s->o.on_refuse && r && r->ok) {
        wsc_server_request req = request_of(c, r);
        c->c.depth++;
        s->depth++;
        s->o.on_refuse(s, &req, status, why ? why : "", s->o.user);
        s->depth--;
        c->c.depth--;
        if (c->c.freed || s->freed) return;
    }
    reject(c, status, why, h, nh);
}

static void handshake_checked(wsc_sconn *c, const wsc_http_request *rq, const wsc_ws_request_info *info_in,
                              reqstr *r);

static void handshake(wsc_sconn *c, const wsc_http_request *rq) {
    wsc_server *s = c->srv;
    wsc_ws_request_info info;
    wsc_error err;
    reqstr r;
    memset(&r, 0, sizeof r);
    int rc = wsc_handshake_check_request(rq, &info, &err);
    if (s->o.on_accept || s->o.on_refuse || s->csrf_on) reqstr_build(&r, rq, &info);
    if (rc != WSC_OK) {
        if (info.status != 405 && plain_http(c, rq, &info)) {
            reqstr_free(&r);
            return;
        }
        wsc_header h[1];
        size_t nh = 0;
        if (info.status == 426) {
            h[0].name = wsc_span_str("Sec-WebSocket-Version");
            h[0].value = wsc_span_str("13");
            nh = 1;
        } else if (info.status == 405) {
            h[0].name = wsc_span_str("Allow");
            h[0].value = wsc_span_str("GET");
            nh = 1;
        }
        refuse(c, &r, info.status ? info.status : 400, err.message, h, nh);
        reqstr_free(&r);
        return;
    }
    handshake_checked(c, rq, &info, &r);
    reqstr_free(&r);
}

/* The request passed RFC 6455's checks: limits, subprotocol, deflate, the
   CSRF check, the application's say, then 101. */
static void handshake_checked(wsc_sconn *c, const wsc_http_request *rq, const wsc_ws_request_info *info_in,
                              reqstr *r) {
    wsc_server *s = c->srv;
    wsc_ws_request_info info = *info_in;
    wsc_error err;
    /* 0 is the documented default (server.h, wsc serve --help), not "no limit". */
    unsigned max_conns = s->o.max_connections ? s->o.max_connections : DEFAULT_MAX_CONNECTIONS;
    if (s->nopen >= max_conns) {
        refuse(c, r, 503, "too many connections", NULL, 0);
        return;
    }
    /* Subprotocol: the first the client offers that we support. */
    wsc_span chosen = {NULL, 0};
    if (s->protocols) {
        wsc_list_iter it;
        memset(&it, 0, sizeof it);
        wsc_span p;
        while (!chosen.ptr && wsc_ws_request_next_protocol(&info, &it, &p)) {
            for (char **q = s->protocols; *q; q++)
                if (strlen(*q) == p.len && memcmp(*q, p.ptr, p.len) == 0) {
                    chosen = p;
                    break;
                }
        }
    }
    /* permessage-deflate */
    wsc_pmd_params pmd = {0};
    wsc_buf extv = {0};
    if (!s->o.no_deflate) {
        wsc_pmd_server_config pc;
        memset(&pc, 0, sizeof pc);
        pc.server_no_context_takeover = s->o.deflate_no_context_takeover;
        if (wsc_pmd_negotiate_request(rq, &pc, &pmd, &extv) == WSC_EHANDSHAKE) {
            wsc_buf_free(&extv);
            refuse(c, r, 400, "malformed Sec-WebSocket-Extensions", NULL, 0);
            return;
        }
    }
    if (!r->ok && (s->o.on_accept || s->csrf_on)) {
        wsc_buf_free(&extv);
        reject(c, 500, "internal error", NULL, 0);
        return;
    }
    /* The double-submit check (server_csrf.c). */
    if (s->csrf_on) {
        char why[160];
        int st = wsc__srv_csrf_request(s, r->cookie, r->query, &c->csrf_token, why, sizeof why);
        if (st) {
            wsc_buf_free(&extv);
            refuse(c, r, st, why, NULL, 0);
            return;
        }
    }
    /* The application's say. */
    if (s->o.on_accept) {
        int st;
        char reason[200] = "";
        wsc_server_request req = request_of(c, r);
        c->c.depth++;
        s->depth++;
        st = s->o.on_accept(s, c, &req, s->o.user, reason, sizeof reason);
        s->depth--;
        c->c.depth--;
        if (c->c.freed || s->freed) {
            wsc_buf_free(&extv);
            return;
        }
        if (st) {
            wsc_buf_free(&extv);
            refuse(c, r, st < 400 || st > 599 ? 403 : st, reason[0] ? reason : "refused by the application", NULL,
                   0);
            return;
        }
    }
    wsc_proto_config pc = {0};
    pc.role = WSC_ROLE_SERVER;
    pc.max_message_size = s->o.max_message_size;
    pc.deflate = pmd.enabled ? &pmd : NULL;
    pc.deflate_threshold = s->o.deflate_threshold;
    pc.deflate_mem_level = s->o.deflate_mem_level;
    pc.rx_mem = wsc__srv_rx_mem;
    pc.rx_mem_user = c;
    c->c.proto = wsc_proto_new(&pc, &err);
    c->protocol = spandup(chosen);
    c->extensions = wsc__strndup(extv.data ? (const char *)extv.data : "", extv.len);
    if (!c->c.proto || !c->protocol || !c->extensions ||
        wsc_handshake_response(info.key, chosen, (wsc_span){(const char *)extv.data, extv.len}, NULL, 0, &c->c.out,
                               &err) != WSC_OK) {
        wsc_buf_free(&extv);
        reject(c, 500, "internal error", NULL, 0);
        return;
    }
    wsc_buf_free(&extv);
    wsc__conn_record_raw(&c->c, 0);
    /* Bytes after the head (early frames) stay for the protocol. */
    c->counted = 1;
    c->was_open = 1;
    s->nopen++;
    c->last_rx = wsc_loop_now(s->loop);
    wsc__conn_open(&c->c); /* the 101 goes out with the first flush */
    wsc__srv_deadline_arm(c);
    wsc_ws_event ev = {0};
    ev.type = WSC_SRV_OPEN;
    wsc__conn_emit(&c->c, &ev);
}

static void read_http(wsc_sconn *c) {
    size_t maxh = c->srv->o.max_header_size ? c->srv->o.max_header_size : WSC_HTTP_DEFAULT_MAX_HEADER_BYTES;
    for (;;) {
        if (c->in.cap - c->in.len < 2048 && !wsc__srv_fits(c->srv, c->in.cap + 2048)) {
            reject(c, 503, "server memory budget exhausted", NULL, 0);
            return;
        }
        if (wsc_buf_reserve(&c->in, 2048)) {
            conn_finish(c, 1006, 0);
            return;
        }
        wsc__srv_charge(c);
        wsc_error err;
        long n = wsc__tx_read(&c->c.tx, c->in.data + c->in.len, c->in.cap - c->in.len, &err);
        if (n == WSC_EAGAIN) return;
        if (n <= 0) {
            conn_finish(c, 1006, 0);
            return;
        }
        c->in.len += (size_t)n;
        wsc_http_request rq;
        int hl = wsc_http_parse_request((const char *)c->in.data, c->in.len, c->last_len, &rq, maxh);
        c->last_len = c->in.len;
        if (hl == WSC_EAGAIN) continue;
        if (hl < 0) {
            reject(c, hl == WSC_ETOOBIG ? 431 : 400, rq.error ? rq.error : "malformed request", NULL, 0);
            return;
        }
        handshake(c, &rq);
        if (c->c.freed || c->c.phase != S_OPEN) return;
        size_t extra = c->in.len - (size_t)hl;
        if (extra) {
            /* Frames sent right behind the request. */
            if (wsc__conn_feed(&c->c, c->in.data + hl, extra)) return;
        }
        wsc_buf_free(&c->in);
        wsc__srv_charge(c);
        wsc__conn_update(&c->c);
        return;
    }
}

static void on_conn_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)fd;
    wsc_sconn *c = user;
    enter(c);
    if (c->c.phase == S_TLS) {
        wsc_error err;
        int rc = wsc__tx_tls_accept(&c->c.tx, c->srv->tls, &err);
        if (rc == WSC_OK) {
            c->c.phase = S_HTTP;
            read_http(c);
        } else if (rc == WSC_EAGAIN) {
            wsc_watch_set(&c->c.watch, wsc__tx_handshake_interest(&c->c.tx));
        } else {
            conn_finish(c, 1015, 0);
        }
    } else if (c->c.phase == S_HTTP) {
        read_http(c);
    } else if (c->c.phase == S_REJECT) {
        reject_write(c);
    } else {
        wsc__conn_on_io(&c->c, events);
    }
    leave(c);
}

/* ------------------------------------------------------------------ */
/* Accepting                                                           */
/* ------------------------------------------------------------------ */

static void conn_really_free(wsc_sconn *c) {
    wsc_server *s = c->srv;
    wsc__conn_teardown(&c->c);
    if (c->deadline_on) wsc_timer_stop(&c->deadline);
    if (c->counted) s->nopen--;
    if (c->prev) c->prev->next = c->next;
    else s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconns--;
    wsc__conn_free(&c->c); /* the core releases its charged storage (rx_mem hook) */
    wsc__srv_uncharge(c);
    wsc_buf_free(&c->in);
    wsc__free(c->protocol);
    wsc__free(c->extensions);
    wsc__srv_csrf_free_token(c->csrf_token);
    wsc__free(c);
}

static void on_accept(wsc_loop *loop, wsc_watch *w, int lfd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)events;
    wsc_server *s = user;
    for (int i = 0; i < 64; i++) {
        char peer[64];
        uint8_t addr_len = 0;
        int fd = wsc__accept_peer(lfd, peer, sizeof peer, &addr_len);
        if (fd < 0) return; /* EAGAIN, or a transient error (EMFILE...): retry on the next event */
        wsc_sconn *c = wsc__calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->srv = s;
        wsc__conn_init(&c->c, s->loop, &sc_ops, 1, c, on_conn_io, on_timer);
        wsc__tx_plain(&c->c.tx, fd);
        c->c.close_timeout = s->o.close_timeout_ms ? s->o.close_timeout_ms : WSC__DEFAULT_CLOSE_TIMEOUT_MS;
        c->c.max_buffered = s->o.max_buffered ? s->o.max_buffered : WSC__DEFAULT_MAX_BUFFERED;
        memcpy(c->peer, peer, sizeof c->peer);
        c->addr_len = addr_len;
        if (wsc__srv_address_full(s, c)) { /* nothing read or written: just closed */
            close(fd);
            wsc__free(c);
            continue;
        }
        c->c.phase = s->tls ? S_TLS : S_HTTP;
        if (wsc__watch_start(&c->c.watch, fd, WSC_READABLE) != WSC_OK) {
            close(fd);
            wsc__free(c);
            continue;
        }
        wsc_timer_start(&c->c.timer, s->o.handshake_timeout_ms ? s->o.handshake_timeout_ms : WSC__DEFAULT_HANDSHAKE_TIMEOUT_MS);
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
}

static void server_really_free(wsc_server *s) {
    while (s->conns) {
        wsc_sconn *c = s->conns;
        c->counted = 0;
        conn_really_free(c);
    }
    wsc__watch_stop(&s->lwatch);
    if (s->lfd >= 0) close(s->lfd);
    if (s->unix_path) {
        unlink(s->unix_path);
        wsc__free(s->unix_path);
    }
    wsc__tls_server_free(s->tls);
    wsc__strv_free(s->protocols);
    wsc__free((char *)s->csrf.cookie_name);
    wsc__free((char *)s->csrf.query_param);
    wsc__free((char *)s->csrf.json_property);
    wsc__free(s);
}

wsc_server *wsc_server_new(wsc_loop *loop, const wsc_server_options *opts, wsc_error *err) {
    static const wsc_server_options defaults;
    if (!opts) opts = &defaults;
    if (!loop) {
        wsc__seterr(err, WSC_EINVAL, "wsc_server_new: a loop is required");
        return NULL;
    }
    if (WSC__CHECK_RESERVED(opts, err, "wsc_server_options")) return NULL;
    wsc_server *s = wsc__calloc(1, sizeof *s);
    if (!s) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->o = *opts;
    s->lfd = -1;
    s->budget = opts->memory_budget ? opts->memory_budget : wsc_server_default_budget();
    if (wsc__strv_dup(&s->protocols, opts->protocols)) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto fail;
    }
    if (opts->csrf) {
        if (WSC__CHECK_RESERVED(opts->csrf, err, "wsc_server_csrf")) goto fail;
        s->csrf_on = 1;
        s->csrf.allow_non_json = opts->csrf->allow_non_json;
        const char *src[3] = {opts->csrf->cookie_name, opts->csrf->query_param, opts->csrf->json_property};
        const char **dst[3] = {&s->csrf.cookie_name, &s->csrf.query_param, &s->csrf.json_property};
        for (int i = 0; i < 3; i++)
            if (src[i] && !(*dst[i] = wsc__strdup(src[i]))) {
                wsc__seterr(err, WSC_ENOMEM, "out of memory");
                goto fail;
            }
    }
    if (opts->tls_cert || opts->tls_key) {
        if (!opts->tls_cert || !opts->tls_key) {
            wsc__seterr(err, WSC_EINVAL, "TLS needs both a certificate and a key");
            goto fail;
        }
        s->tls = wsc__tls_server_new(opts->tls_cert, opts->tls_key, err);
        if (!s->tls) goto fail;
    }
    int backlog = opts->backlog ? opts->backlog : 4096;
    if (opts->unix_path) {
        s->lfd = wsc__listen_unix(opts->unix_path, backlog, err);
        if (s->lfd < 0) goto fail;
        /* Kept to unlink the socket file when the server is freed; without
           it that file would outlive a server reported as created. */
        if (!(s->unix_path = wsc__strdup(opts->unix_path))) {
            unlink(opts->unix_path); /* the file just bound: ours */
            wsc__seterr(err, WSC_ENOMEM, "out of memory");
            goto fail;
        }
    } else {
        s->lfd = wsc__listen_tcp(opts->host ? opts->host : "127.0.0.1", opts->port, backlog, &s->port, err);
        if (s->lfd < 0) goto fail;
    }
    wsc__watch_init(&s->lwatch, loop, on_accept, s);
    if (wsc__watch_start(&s->lwatch, s->lfd, WSC_READABLE) != WSC_OK) {
        wsc__seterr(err, WSC_EIO, "cannot watch the listening socket");
        goto fail;
    }
    return s;
fail:
    wsc__watch_init(&s->lwatch, loop, on_accept, s);
    server_really_free(s);
    return NULL;
}

void wsc_server_free(wsc_server *s) {
    if (!s) return;
    if (s->depth) {
        s->freed = 1;
        wsc_server_stop_listening(s);
        for (wsc_sconn *c = s->conns; c; c = c->next) {
            wsc_timer_stop(&c->c.timer);
            wsc__defer_cancel(s->loop, &c->c.flush);
            wsc__watch_stop(&c->c.watch);
            if (c->deadline_on) wsc_timer_stop(&c->deadline);
            c->c.phase = S_DONE;
        }
        return;
    }
    server_really_free(s);
}

void wsc_server_stop_listening(wsc_server *s) {
    wsc__watch_stop(&s->lwatch);
    if (s->lfd >= 0) {
        close(s->lfd);
        s->lfd = -1;
    }
}

uint16_t wsc_server_port(const wsc_server *s) { return s->port; }
size_t wsc_server_connections(const wsc_server *s) { return s->nopen; }

void wsc_server_foreach(wsc_server *s, void (*fn)(wsc_sconn *c, void *arg), void *arg) {
    s->depth++;
    for (wsc_sconn *c = s->conns; c; c = c->next)
        if (c->c.phase == S_OPEN && !c->c.freed) fn(c, arg);
    s->depth--;
}

/* ------------------------------------------------------------------ */
/* Per-connection API                                                  */
/* ------------------------------------------------------------------ */

static int sconn_send(wsc_sconn *c, unsigned op, const void *data, size_t len) {
    if (!c || (len && !data)) return WSC_EINVAL;
    if (c->c.phase != S_OPEN) return op == WSC_OP_TEXT && !wsc_utf8_valid(data, len) ? WSC_EUTF8 : WSC_ECLOSED;
    if (c->c.buffered + len > c->c.max_buffered)
        return op == WSC_OP_TEXT && !wsc_utf8_valid(data, len) ? WSC_EUTF8 : WSC_ETOOBIG; /* ws.h: UTF-8 first */
    size_t wire = wsc_proto_wire_size(c->c.proto, len);
    if (c->c.out.cap - c->c.out.len < wire && !wsc__srv_fits(c->srv, wire)) {
        /* The peer makes the server hold more than the budget allows (it
           does not read what it is sent): refuse, and close it (1008). */
        if (op == WSC_OP_TEXT && !wsc_utf8_valid(data, len)) return WSC_EUTF8;
        c->c.failed = 1;
        wsc_sconn_close(c, 1008, "send buffer over the server's memory budget");
        return WSC_ETOOBIG;
    }
    return wsc__conn_send(&c->c, op, data, len);
}

int wsc_sconn_send_text(wsc_sconn *c, const char *data, size_t len) { return sconn_send(c, WSC_OP_TEXT, data, len); }
int wsc_sconn_send_binary(wsc_sconn *c, const void *data, size_t len) {
    return sconn_send(c, WSC_OP_BINARY, data, len);
}

int wsc_sconn_ping(wsc_sconn *c, const void *data, size_t len) {
    if (!c || c->c.phase != S_OPEN) return WSC_ECLOSED;
    if (len > 125 || (len && !data)) return WSC_EINVAL;
    return wsc__conn_ping(&c->c, data, len);
}

int wsc_sconn_close(wsc_sconn *c, unsigned code, const char *reason) {
    if (!c) return WSC_EINVAL;
    return wsc__conn_close(&c->c, code, reason, reason ? strlen(reason) : 0);
}

void wsc_sconn_terminate(wsc_sconn *c) {
    if (!c || c->c.phase == S_DONE) return;
    enter(c);
    c->c.failed = 1;
    conn_finish(c, 1006, 0);
    leave(c);
}

void wsc_sconn_set_user(wsc_sconn *c, void *user) { c->user = user; }
void *wsc_sconn_get_user(const wsc_sconn *c) { return c->user; }
const char *wsc_sconn_protocol(const wsc_sconn *c) { return c->protocol ? c->protocol : ""; }
const char *wsc_sconn_extensions(const wsc_sconn *c) { return c->extensions ? c->extensions : ""; }
const char *wsc_sconn_peer(const wsc_sconn *c) { return c->peer; }
uint64_t wsc_sconn_buffered_amount(const wsc_sconn *c) { return c->c.buffered; }
int wsc_sconn_ready_state(const wsc_sconn *c) {
    switch (c->c.phase) {
    case S_OPEN: return WSC_OPEN;
    case S_CLOSING: return WSC_CLOSING;
    case S_DONE: return WSC_CLOSED;
    default: return WSC_CONNECTING;
    }
}
