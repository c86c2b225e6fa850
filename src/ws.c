/*
 * ws.c - one WebSocket connection with a browser's semantics (ws.h).
 *
 * Layout of the work:
 *   wsc_ws_new     parse the URL, build the whole upgrade request (so bad
 *                  options fail here), start the connector (transport.c)
 *   connected      write the request, read the response head into a small
 *                  buffer, check it (http.h), create the protocol endpoint
 *   open           read into the loop's shared scratch buffer and feed the
 *                  sans-I/O core; whole messages are delivered in place
 *   sending        frames are appended to `out`; one deferred flush per loop
 *                  iteration writes them all (several sends, one write)
 *   closing        the browser's rules; the server closes TCP first, a timer
 *                  bounds the wait
 *
 * Memory of an idle open connection: this struct, the protocol endpoint and
 * the strings (URL, origin, protocol, extensions); no receive buffer (the
 * scratch is per loop) and no send buffer (freed when drained).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "conn.h"
#include "internal.h"
#include "io/loop_internal.h"
#include "io/transport.h"
#include "proto/proto_gather.h"
#include "wsc/http.h"
#include "wsc/proto.h"
#include "wsc/ws.h"
#include "ws_internal.h"

#include "ws_private.h"

static void teardown_io(wsc_ws *ws);
static void really_free(wsc_ws *ws);
void wsc__ws_really_free(wsc_ws *ws) { really_free(ws); }
static void update_interest(wsc_ws *ws);

#define WS_OF(conn) ((wsc_ws *)((char *)(conn) - offsetof(wsc_ws, c)))

/* ------------------------------------------------------------------ */
/* Events (the engine's ops)                                           */
/* ------------------------------------------------------------------ */

/* The listeners for ev->type, after the option callback; out of line: most
   connections have none, and ws_emit then needs no saved registers. */
__attribute__((noinline)) static void emit_listeners(wsc_ws *ws, wsc_ws_event *ev) {
    /* Listeners added during dispatch wait for the next event. */
    int n = ws->ls.n;
    for (int i = 0; i < n && !ws->c.freed; i++) {
        const wsc__listener *l = &ws->ls.v[i];
        if (l->type == ev->type) ((wsc_ws_cb)l->cb)(ws, ev, l->user);
    }
}

/* Calls the option callback and the listeners for ev->type. Returns non-zero
   if the connection was freed meanwhile (the caller must unwind). On every
   message: the callback is found by index, not by a switch. */
static int ws_emit(wsc__conn *c, wsc_ws_event *ev) {
    wsc_ws *ws = WS_OF(c);
    if (!ev->origin) ev->origin = ws->origin;
    unsigned t = (unsigned)ev->type;
    wsc_ws_cb main_cb = t < WS_NCB ? ws->cb[t] : NULL;
    if (main_cb) main_cb(ws, ev, ws->user);
    if (WSC_UNLIKELY(ws->ls.n != 0) && !c->freed) emit_listeners(ws, ev);
    return c->freed;
}

static void ws_release(wsc__conn *c) { really_free(WS_OF(c)); }

/* The client's confirmation Ping goes after the batch of messages a write
   carries (one Ping per batch, no extra write). */
static void ws_before_flush(wsc__conn *c) {
    wsc_ws *ws = WS_OF(c);
    if (ws->flush_hook) ws->flush_hook(ws, ws->flush_hook_user);
}

/* Two tables: the engine calls before_flush only for a connection that has
   a flush hook (the reconnecting client's), so a plain wsc_ws pays no
   indirect call per write. */
static const wsc__conn_ops ws_ops = {
    .emit = ws_emit,
    .release = ws_release,
};
static const wsc__conn_ops ws_ops_hooked = {
    .emit = ws_emit,
    .release = ws_release,
    .before_flush = ws_before_flush,
};

static int emit(wsc_ws *ws, wsc_ws_event *ev) { return wsc__conn_emit(&ws->c, ev); }

static int emit_error(wsc_ws *ws, int code, const char *msg, int http_status, const char *location) {
    wsc_ws_event ev = {0};
    ev.type = WSC_WS_ERROR;
    ev.error = code;
    ev.message = msg;
    ev.http_status = http_status;
    ev.location = location;
    return emit(ws, &ev);
}

/* Enters a top-level handler (watch, timer, connector callback). */
#define ENTER(ws) wsc__conn_enter(&(ws)->c)
/* Leaves it; frees the connection if that was asked for inside. */
static void leave(wsc_ws *ws) { wsc__conn_leave(&ws->c); }

/* The end, in any phase: stop connecting, close the socket, fire "close"
   (once), become CLOSED. */
static void finish(wsc_ws *ws, unsigned code, int was_clean) {
    if (ws->c.phase == PH_DONE) return;
    teardown_io(ws);
    wsc__conn_finish(&ws->c, code, was_clean);
}

/* ------------------------------------------------------------------ */
/* Sending and closing                                                 */
/* ------------------------------------------------------------------ */

static int check_can_send(const wsc_ws *ws) {
    if (ws->c.state == WSC_CONNECTING) return WSC_ESTATE;
    if (ws->c.state != WSC_OPEN) return WSC_ECLOSED;
    return WSC_OK;
}

static int send_msg(wsc_ws *ws, unsigned op, const void *data, size_t len) {
    if (!ws || (len && !data)) return WSC_EINVAL;
    int rc = check_can_send(ws);
    if (rc) {
        /* The browser validates text even then; report bad UTF-8 first. */
        if (op == WSC_OP_TEXT && !wsc_utf8_valid(data, len)) return WSC_EUTF8;
        return rc;
    }
    return wsc__conn_send(&ws->c, op, data, len);
}

int wsc_ws_send_text(wsc_ws *ws, const char *data, size_t len) { return send_msg(ws, WSC_OP_TEXT, data, len); }
int wsc_ws_send_binary(wsc_ws *ws, const void *data, size_t len) { return send_msg(ws, WSC_OP_BINARY, data, len); }

int wsc_ws_ping(wsc_ws *ws, const void *data, size_t len) {
    if (!ws || len > 125 || (len && !data)) return WSC_EINVAL;
    int rc = check_can_send(ws);
    if (rc) return rc;
    return wsc__conn_ping(&ws->c, data, len);
}

int wsc_ws_close(wsc_ws *ws, unsigned code, const char *reason) {
    if (!ws) return WSC_EINVAL;
    size_t rlen = reason ? strlen(reason) : 0;
    if (code && !wsc_close_code_app_ok(code)) return WSC_EINVAL;
    if (rlen > WSC_CLOSE_REASON_MAX) return WSC_EINVAL;
    if (rlen && !wsc_utf8_valid(reason, rlen)) return WSC_EUTF8;
    if (!code && rlen) return WSC_EINVAL;
    if (ws->c.state == WSC_CLOSING || ws->c.state == WSC_CLOSED) return WSC_OK;
    if (ws->c.state == WSC_CONNECTING) {
        /* Abandon the attempt: the browser fails the connection. */
        ENTER(ws);
        ws->c.failed = 1;
        ws->c.state = WSC_CLOSING;
        int freed = emit_error(ws, WSC_ECLOSED, "closed before the connection was established", 0, NULL);
        if (!freed) finish(ws, 1006, 0);
        leave(ws);
        return WSC_OK;
    }
    return wsc__conn_close(&ws->c, code, reason, rlen);
}

int wsc_ws_terminate(wsc_ws *ws) {
    if (!ws) return WSC_EINVAL;
    if (ws->c.phase == PH_DONE) return WSC_OK;
    ENTER(ws);
    ws->c.failed = 1;
    finish(ws, 1006, 0);
    leave(ws);
    return WSC_OK;
}

/* ------------------------------------------------------------------ */
/* One connection in CONNECTING per host and port (RFC 6455 4.1)       */
/* ------------------------------------------------------------------ */

/* RFC 6455 4.1, step 2: "There MUST be no more than one connection in a
   CONNECTING state": a connection to a host and port that already has one
   connecting waits until that one opens or fails, then starts. The gates of
   a loop live in a list (the number of hosts being connected to at once is
   small); entries exist only while something connects. The key is the host
   as written (lower-cased) and the port, or the Unix socket path: two names
   for one address are not recognised. */
struct gate {
    gate *next;
    wsc_ws *active;       /* the connection in CONNECTING */
    wsc_ws *head, *tail;  /* waiting, in order */
    char key[];
};

static void start_connect(wsc_ws *ws);

static gate *gate_get(wsc_loop *loop, const char *key, int create) {
    gate **reg = (gate **)wsc__loop_ws_registry(loop);
    for (gate *g = *reg; g; g = g->next)
        if (!strcmp(g->key, key)) return g;
    if (!create) return NULL;
    size_t n = strlen(key);
    gate *g = wsc__calloc(1, sizeof *g + n + 1);
    if (!g) return NULL;
    memcpy(g->key, key, n + 1);
    g->next = *reg;
    *reg = g;
    return g;
}

static void gate_drop(wsc_loop *loop, gate *g) {
    gate **reg = (gate **)wsc__loop_ws_registry(loop);
    for (gate **pp = reg; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    wsc__free(g);
}

/* Joins the gate for key: returns 1 if ws must wait, 0 if it may connect
   now (ENOMEM: connect now rather than fail). */
int wsc__ws_gate_join(wsc_ws *ws, const char *key) {
    gate *g = gate_get(ws->c.loop, key, 1);
    if (!g) return 0;
    ws->gate = g;
    if (!g->active) {
        g->active = ws;
        return 0;
    }
    ws->gate_next = NULL;
    if (g->tail) g->tail->gate_next = ws;
    else g->head = ws;
    g->tail = ws;
    return 1;
}

/* ws left CONNECTING (opened, failed, closed or freed): let the next go. */
static void gate_leave(wsc_ws *ws) {
    gate *g = ws->gate;
    if (!g) return;
    ws->gate = NULL;
    if (g->active == ws) {
        g->active = g->head;
        if (g->head) {
            g->head = g->head->gate_next;
            if (!g->head) g->tail = NULL;
            start_connect(g->active); /* never fires an event synchronously */
        }
    } else {
        for (wsc_ws **pp = &g->head; *pp; pp = &(*pp)->gate_next)
            if (*pp == ws) {
                *pp = ws->gate_next;
                if (g->tail == ws) {
                    g->tail = g->head;
                    while (g->tail && g->tail->gate_next) g->tail = g->tail->gate_next;
                }
                break;
            }
    }
    if (!g->active && !g->head) gate_drop(ws->c.loop, g);
}

static void free_held(handshake *hs) {
    held_connect *h = hs->held;
    if (!h) return;
    if (h->proxy_auth) wsc__wipe(h->proxy_auth, strlen(h->proxy_auth));
    if (h->key_passphrase) wsc__wipe(h->key_passphrase, strlen(h->key_passphrase));
    char *strs[] = {h->host, h->unix_path, h->proxy_host, h->proxy_auth, h->ca_file, h->ca_dir, h->cert_file,
                    h->key_file, h->key_passphrase};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) wsc__free(strs[i]);
    wsc__free(h);
    hs->held = NULL;
}

/* Keeps a copy of the connect request for a start after waiting. */
int wsc__ws_hold_connect(handshake *hs, const wsc_connect_req *cr) {
    held_connect *h = wsc__calloc(1, sizeof *h);
    if (!h) return WSC_ENOMEM;
    hs->held = h;
    h->cr = *cr;
    struct {
        const char *src;
        char **dst;
        const char **field;
    } m[] = {{cr->host, &h->host, &h->cr.host},
             {cr->unix_path, &h->unix_path, &h->cr.unix_path},
             {cr->proxy_host, &h->proxy_host, &h->cr.proxy_host},
             {cr->proxy_auth, &h->proxy_auth, &h->cr.proxy_auth},
             {cr->tls_opts.ca_file, &h->ca_file, &h->cr.tls_opts.ca_file},
             {cr->tls_opts.ca_dir, &h->ca_dir, &h->cr.tls_opts.ca_dir},
             {cr->tls_opts.cert_file, &h->cert_file, &h->cr.tls_opts.cert_file},
             {cr->tls_opts.key_file, &h->key_file, &h->cr.tls_opts.key_file},
             {cr->tls_opts.key_passphrase, &h->key_passphrase, &h->cr.tls_opts.key_passphrase}};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
        *m[i].field = NULL;
        if (m[i].src) {
            if (!(*m[i].dst = wsc__strdup(m[i].src))) {
                free_held(hs);
                return WSC_ENOMEM;
            }
            *m[i].field = *m[i].dst;
        }
    }
    return WSC_OK;
}

/* The gate opened for a waiting connection: start its connect. A failure
   (out of memory) is reported from the connection's timer, never from here. */
static void start_connect(wsc_ws *ws) {
    handshake *hs = ws->hs;
    wsc_error err;
    hs->connector = wsc__connect(ws->c.loop, &hs->held->cr, wsc__ws_on_connected, ws, &err);
    free_held(hs);
    if (!hs->connector) {
        ws->start_error = err.code ? err.code : WSC_ENOMEM;
        wsc_timer_start(&ws->c.timer, 0);
    }
}

/* ------------------------------------------------------------------ */
/* The handshake                                                       */
/* ------------------------------------------------------------------ */

static void free_handshake(wsc_ws *ws) {
    handshake *hs = ws->hs;
    if (!hs) return;
    if (hs->connector) wsc__connect_cancel(hs->connector);
    free_held(hs);
    wsc_buf_free(&hs->req);
    wsc_buf_free(&hs->resp);
    wsc__strv_free(hs->protocols);
    wsc__free(hs);
    ws->hs = NULL;
}

/* Fails the opening handshake: "error" then "close" (1006, or 1015 for TLS). */
static void fail_open(wsc_ws *ws, int code, const char *msg, int status, const char *location) {
    ws->c.failed = 1;
    if (code == WSC_ETLS || code == WSC_ETLSVERIFY) ws->tls_failed = 1;
    if (emit_error(ws, code, msg, status, location)) return;
    finish(ws, ws->tls_failed ? 1015 : 1006, 0);
}

static int start_proto(wsc_ws *ws, const wsc_pmd_params *pmd, wsc_error *err) {
    wsc_proto_config pc = {0};
    pc.role = WSC_ROLE_CLIENT;
    pc.max_message_size = ws->hs->max_message;
    pc.fragment_size = ws->hs->fragment_size;
    pc.random = wsc__random;
    pc.deflate = pmd && pmd->enabled ? pmd : NULL;
    pc.deflate_threshold = ws->hs->deflate_threshold;
    pc.deflate_mem_level = ws->hs->deflate_mem_level;
    ws->frames_plain = (uint8_t)(!pc.deflate && !pc.fragment_size);
    ws->c.proto = wsc_proto_new(&pc, err);
    return ws->c.proto ? WSC_OK : err->code;
}

/* The check is done: terminate each header value in place (the byte after
   a trimmed value is whitespace or the CR of its line), so that
   wsc_ws_response_header() can hand out C strings. */
static void terminate_header_values(handshake *hs, wsc_http_response *response) {
    for (size_t i = 0; i < response->n_headers; i++) {
        wsc_header *h = &response->headers[i];
        if (h->value.ptr) ((char *)hs->resp.data)[h->value.ptr - (const char *)hs->resp.data + h->value.len] = 0;
        else h->value.ptr = "";
    }
}

/* The response head is complete at hs->resp[0..hl), parsed into *response. */
static void handshake_done(wsc_ws *ws, size_t hl, wsc_http_response *response) {
    handshake *hs = ws->hs;
    wsc_handshake_result res;
    wsc_error err;
    int rc = wsc_handshake_check_response(response, hs->key, (const char *const *)hs->protocols,
                                          hs->offer_pmd ? &hs->pmd_offer : NULL, &res, &err);
    if (rc) {
        char loc[512] = "";
        if (res.location.ptr) snprintf(loc, sizeof loc, "%.*s", (int)(res.location.len > 500 ? 500 : res.location.len), res.location.ptr);
        /* A refused upgrade's headers (Retry-After, Set-Cookie) are readable
           during its error event, as a successful one's are during "open". */
        if (rc == WSC_EHTTP) {
            terminate_header_values(hs, response);
            hs->response = response;
        }
        fail_open(ws, rc, err.message, rc == WSC_EHTTP ? res.status : 0, loc[0] ? loc : NULL);
        if (!ws->c.freed && ws->hs) ws->hs->response = NULL;
        return;
    }
    if (start_proto(ws, &res.pmd, &err)) {
        fail_open(ws, err.code, err.message, 0, NULL);
        return;
    }
    /* Empty attributes cost no allocation (the accessors return ""). */
    ws->protocol = res.protocol.len ? wsc__strndup(res.protocol.ptr, res.protocol.len) : NULL;
    ws->extensions = res.extensions.len ? wsc__strndup(res.extensions.ptr, res.extensions.len) : NULL;
    if ((res.protocol.len && !ws->protocol) || (res.extensions.len && !ws->extensions)) {
        fail_open(ws, WSC_ENOMEM, "out of memory", 0, NULL);
        return;
    }
    wsc_timer_stop(&ws->c.timer);
    gate_leave(ws); /* no longer CONNECTING: the next one may start */
    ws->c.phase = PH_OPEN;
    ws->c.state = WSC_OPEN;
    terminate_header_values(hs, response);
    hs->response = response;
    hs->head_len = hl;
    wsc_ws_event ev = {0};
    ev.type = WSC_WS_OPEN;
    if (emit(ws, &ev)) return;
    /* Frames that came with the response head. */
    size_t extra = hs->resp.len > hl ? hs->resp.len - hl : 0; /* sync.c may have taken them */
    if (ws->hs) ws->hs->response = NULL;
    if (extra && ws->c.phase != PH_DONE) {
        /* Keep the handshake buffer while feeding: the events point into it. */
        if (wsc__conn_feed(&ws->c, hs->resp.data + hl, extra)) return;
    }
    if (ws->c.phase != PH_DONE) {
        free_handshake(ws);
        update_interest(ws);
    }
}

static void handshake_io(wsc_ws *ws, unsigned events) {
    handshake *hs = ws->hs;
    wsc_error err;
    if (wsc_buf_pending(&hs->req)) {
        long n = wsc__tx_write(&ws->c.tx, hs->req.data + hs->req.off, wsc_buf_pending(&hs->req), &err);
        if (n < 0 && n != WSC_EAGAIN) {
            fail_open(ws, (int)n, err.message, 0, NULL);
            return;
        }
        if (n > 0) wsc_buf_consume(&hs->req, (size_t)n);
        if (!wsc_buf_pending(&hs->req)) wsc_buf_free(&hs->req);
    }
    uint8_t *buf = wsc__loop_scratch(ws->c.loop);
    if (!buf) {
        fail_open(ws, WSC_ENOMEM, "out of memory for the receive buffer", 0, NULL);
        return;
    }
    for (;;) {
        /* Read into the loop's buffer and keep only what arrived: the
           response head is a few hundred bytes, so is its buffer. */
        long n = wsc__tx_read(&ws->c.tx, buf, WSC_LOOP_SCRATCH, &err);
        if (n == WSC_EAGAIN) break;
        if (n < 0) {
            fail_open(ws, (int)n, err.message, 0, NULL);
            return;
        }
        if (n == 0) {
            fail_open(ws, WSC_EHANDSHAKE, "the server closed the connection during the handshake", 0, NULL);
            return;
        }
        if (hs->resp.len + (size_t)n > hs->max_header + WSC_LOOP_SCRATCH) {
            fail_open(ws, WSC_ETOOBIG, "invalid handshake response: header block too large", 0, NULL);
            return;
        }
        if (wsc_buf_append(&hs->resp, buf, (size_t)n)) {
            fail_open(ws, WSC_ENOMEM, "out of memory reading the handshake response", 0, NULL);
            return;
        }
        wsc_http_response response;
        int hl = wsc_http_parse_response((const char *)hs->resp.data, hs->resp.len, hs->last_len, &response,
                                         hs->max_header);
        hs->last_len = hs->resp.len;
        if (hl == WSC_EAGAIN) continue;
        if (hl < 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "invalid handshake response: %s", response.error ? response.error : "malformed");
            fail_open(ws, hl == WSC_ETOOBIG ? WSC_ETOOBIG : WSC_EHANDSHAKE, msg, 0, NULL);
            return;
        }
        if (ws->trace) ws->trace(ws->user, 0, (const char *)hs->resp.data, (size_t)hl);
        handshake_done(ws, (size_t)hl, &response);
        return;
    }
    (void)events;
    update_interest(ws);
}

void wsc__ws_on_connected(void *user, int rc, wsc_tx *tx, const wsc_error *err) {
    wsc_ws *ws = user;
    ENTER(ws);
    ws->hs->connector = NULL;
    if (rc) {
        fail_open(ws, rc, err ? err->message : wsc_strerror(rc), 0, NULL);
        leave(ws);
        return;
    }
    ws->c.tx = *tx;
    ws->c.phase = PH_HANDSHAKE;
    if (ws->trace) ws->trace(ws->user, 1, (const char *)ws->hs->req.data, ws->hs->req.len);
    wsc_timer_start(&ws->c.timer, ws->hs->handshake_timeout);
    if (wsc__watch_start(&ws->c.watch, wsc__tx_fd(&ws->c.tx), WSC_READABLE | WSC_WRITABLE) != WSC_OK) {
        fail_open(ws, WSC_EIO, "cannot watch the socket", 0, NULL);
        leave(ws);
        return;
    }
    leave(ws);
}

/* ------------------------------------------------------------------ */
/* The loop's view                                                     */
/* ------------------------------------------------------------------ */

/* Readable always; writable only while a write would block (new data is
   written by the deferred flush first, so a round trip costs no epoll_ctl). */
static void update_interest(wsc_ws *ws) {
    if (wsc__tx_fd(&ws->c.tx) < 0 || ws->c.phase == PH_DONE) return;
    if (ws->c.phase != PH_HANDSHAKE) {
        wsc__conn_update(&ws->c);
        return;
    }
    wsc_watch_set(&ws->c.watch, wsc__tx_interest(&ws->c.tx, 1, wsc_buf_pending(&ws->hs->req) != 0));
}

static void on_io(wsc_loop *loop, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)loop;
    (void)w;
    (void)fd;
    wsc_ws *ws = user;
    ENTER(ws);
    if (ws->c.phase == PH_HANDSHAKE) handshake_io(ws, events);
    else wsc__conn_on_io(&ws->c, events);
    leave(ws);
}

static void on_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_ws *ws = user;
    ENTER(ws);
    if (ws->c.phase == PH_CONNECT && ws->start_error) {
        fail_open(ws, ws->start_error, "cannot start connecting (out of memory)", 0, NULL);
    } else if (ws->c.phase == PH_HANDSHAKE) {
        fail_open(ws, WSC_ETIMEDOUT, "timed out waiting for the handshake response", 0, NULL);
    } else {
        wsc__conn_on_timer(&ws->c);
    }
    leave(ws);
}

/* ------------------------------------------------------------------ */
/* Creation and destruction                                            */
/* ------------------------------------------------------------------ */

static void teardown_io(wsc_ws *ws) {
    gate_leave(ws);
    if (ws->hs && ws->hs->connector) {
        wsc__connect_cancel(ws->hs->connector);
        ws->hs->connector = NULL;
    }
    wsc__conn_teardown(&ws->c);
}

static void really_free(wsc_ws *ws) {
    teardown_io(ws);
    free_handshake(ws);
    wsc__conn_free(&ws->c);
    wsc__free(ws->url);
    wsc__free(ws->origin);
    wsc__free(ws->protocol);
    wsc__free(ws->extensions);
    wsc__listeners_free(&ws->ls);
    wsc__free(ws);
}

void wsc_ws_free(wsc_ws *ws) {
    if (!ws) return;
    if (ws->c.depth > 0) {
        /* Inside a callback: stop all I/O now, free when it returns. */
        ws->c.freed = 1;
        teardown_io(ws);
        ws->c.phase = PH_DONE;
        return;
    }
    really_free(ws);
}

/* The engine with the client's ops and callbacks (for ws_create.c). */
void wsc__ws_init_engine(wsc_ws *ws, wsc_loop *loop) {
    wsc__conn_init(&ws->c, loop, &ws_ops, 0, ws, on_io, on_timer);
    ws->c.phase = PH_CONNECT;
}

/* ------------------------------------------------------------------ */
/* Listeners and accessors                                             */
/* ------------------------------------------------------------------ */

int wsc_ws_add_listener(wsc_ws *ws, int type, wsc_ws_cb cb, void *user) {
    if (!ws || !cb || type < WSC_WS_OPEN || type > WSC_WS_PONG) return WSC_EINVAL;
    return wsc__listeners_add(&ws->ls, type, (wsc__fn)cb, user, ws->c.depth);
}

int wsc_ws_remove_listener(wsc_ws *ws, int id) {
    if (!ws) return WSC_EINVAL;
    return wsc__listeners_remove(&ws->ls, id, ws->c.depth);
}

int wsc_ws_ready_state(const wsc_ws *ws) { return ws ? ws->c.state : WSC_CLOSED; }
const char *wsc_ws_url(const wsc_ws *ws) { return ws->url; }
const char *wsc_ws_protocol(const wsc_ws *ws) { return ws->protocol ? ws->protocol : ""; }
const char *wsc_ws_extensions(const wsc_ws *ws) { return ws->extensions ? ws->extensions : ""; }
uint64_t wsc_ws_buffered_amount(const wsc_ws *ws) { return ws->c.buffered; }
const char *wsc_ws_binary_type(const wsc_ws *ws) {
    (void)ws;
    return "arraybuffer";
}
const char *wsc_ws_origin(const wsc_ws *ws) { return ws->origin; }

const char *wsc_ws_response_header(const wsc_ws *ws, const char *name, int index) {
    if (!ws || !name || index < 0 || !ws->hs || !ws->hs->response) return NULL;
    const wsc_http_response *r = ws->hs->response;
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++) {
        const wsc_header *h = &r->headers[i];
        if (h->name.len == nl && strncasecmp(h->name.ptr, name, nl) == 0 && index-- == 0) return h->value.ptr;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* For the client layer (ws_internal.h)                                */
/* ------------------------------------------------------------------ */

uint64_t wsc__ws_data_sent(const wsc_ws *ws) { return ws->c.data_sent; }
int wsc__ws_peer_closed_first(const wsc_ws *ws) { return ws->c.peer_closed_first; }
uint64_t wsc__ws_data_written(const wsc_ws *ws) { return ws->c.data_written; }
int wsc__ws_send_kept(wsc_ws *ws, int binary, const void *data, size_t len, int utf8_checked, wsc__kept *out) {
    unsigned op = binary ? WSC_OP_BINARY : WSC_OP_TEXT;
    if (WSC_UNLIKELY(!ws->frames_plain)) return WSC__WS_NOT_PLAIN;
    /* not OPEN: send_msg's errors, in its order (never WSC_OK then) */
    if (WSC_UNLIKELY(ws->c.state != WSC_OPEN)) return send_msg(ws, op, data, len);
    if (len && !data) return WSC_EINVAL;
    wsc__conn *c = &ws->c;
    if (WSC_UNLIKELY(wsc__conn_retain_prepare(c) != WSC_OK)) return WSC_ENOMEM;
    out->index = c->data_sent;
    wsc__piece one = {data, len};
    int rc = wsc__conn_send_pieces(c, op, &one, 1, utf8_checked);
    if (rc) return rc;
    out->chunk = wsc__conn_last_chunk(c, &out->off);
    return WSC_OK;
}

int wsc__ws_send_text_pieces(wsc_ws *ws, const wsc__piece *v, size_t n, wsc__kept *out) {
    if (!ws) return WSC_EINVAL;
    if (out && WSC_UNLIKELY(!ws->frames_plain)) return WSC__WS_NOT_PLAIN;
    int rc = check_can_send(ws);
    if (WSC_UNLIKELY(rc)) return rc;
    wsc__conn *c = &ws->c;
    if (out) {
        if (WSC_UNLIKELY(wsc__conn_retain_prepare(c) != WSC_OK)) return WSC_ENOMEM;
        out->index = c->data_sent;
    }
    rc = wsc__conn_send_pieces(c, WSC_OP_TEXT, v, n, 1);
    if (rc) return rc;
    if (out) out->chunk = wsc__conn_last_chunk(c, &out->off);
    return WSC_OK;
}
void wsc__ws_set_flush_hook(wsc_ws *ws, void (*fn)(wsc_ws *ws, void *user), void *user) {
    ws->flush_hook = fn;
    ws->flush_hook_user = user;
    ws->c.ops = fn ? &ws_ops_hooked : &ws_ops;
}
