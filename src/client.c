/*
 * client.c - the seed's reconnecting JSON client with the CSRF double token
 * (client.h), on top of one connection at a time (ws.h).
 *
 * Life of a client:
 *   new ──(0 ms timer)──> connect ──open──> OPEN ──close/fail──┐
 *     ^                                                         │
 *     └── retry timer (timeout_ms, backoff) <── reconnect? ─────┘
 *                                        └── no: CLOSED (stopped)
 * Every connect re-reads the token and rebuilds the URL (csrf=...) and the
 * Cookie header. The queue holds what is sent while not OPEN; it is flushed
 * in order on open, before the application hears "open".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

void wsc__cl_wipe_free(char *s) {
    if (s) {
        wsc__wipe(s, strlen(s));
        wsc__free(s);
    }
}

/* Calls the option callback and the listeners of ev->type. Returns non-zero
   if the client was freed meanwhile. */
int wsc__cl_emit(wsc_client *c, wsc_client_event *ev) {
    wsc_client_cb main_cb = NULL;
    switch (ev->type) {
    case WSC_CLIENT_OPEN: main_cb = c->o.on_open; break;
    case WSC_CLIENT_MESSAGE: main_cb = c->o.on_message; break;
    case WSC_CLIENT_ERROR: main_cb = c->o.on_error; break;
    case WSC_CLIENT_CLOSE: main_cb = c->o.on_close; break;
    case WSC_CLIENT_RECONNECT: main_cb = c->o.on_reconnect; break;
    case WSC_CLIENT_MAXIMUM: main_cb = c->o.on_maximum; break;
    case WSC_CLIENT_UNCONFIRMED: main_cb = c->o.on_unconfirmed; break;
    case WSC_CLIENT_RESENT: main_cb = c->o.on_resent; break;
    }
    if (!ev->message) ev->message = "";
    if (!ev->reason) ev->reason = "";
    if (!ev->cause_message) ev->cause_message = "";
    char mmsg[512], mcause[512]; /* no error text carries the token (client.h) */
    ev->message = wsc__cl_mask(ev->message, c->token_cur, c->token_mem, mmsg, sizeof mmsg);
    ev->cause_message = wsc__cl_mask(ev->cause_message, c->token_cur, c->token_mem, mcause, sizeof mcause);
    c->depth++;
    if (main_cb) main_cb(c, ev, c->o.user);
    int n = c->ls.n;
    for (int i = 0; i < n && !c->freed; i++) {
        const wsc__listener *l = &c->ls.v[i];
        if (l->type == ev->type) ((wsc_client_cb)l->cb)(c, ev, l->user);
    }
    c->depth--;
    return c->freed;
}

int wsc__cl_emit_error(wsc_client *c, int code, const char *msg) {
    wsc_client_event ev = {0};
    ev.type = WSC_CLIENT_ERROR;
    ev.error = code;
    ev.message = msg;
    return wsc__cl_emit(c, &ev);
}

void wsc__cl_enter(wsc_client *c) { c->depth++; }
void wsc__cl_leave(wsc_client *c) {
    if (--c->depth == 0 && c->freed) wsc__cl_really_free(c);
}

/* ------------------------------------------------------------------ */
/* Reconnection                                                        */
/* ------------------------------------------------------------------ */

/* timeout_ms doubled per attempt before `attempt`, capped by backoff_max_ms. */
static unsigned backoff_delay(const wsc_client *c, unsigned attempt) {
    uint64_t d = c->o.timeout_ms ? c->o.timeout_ms : DEFAULT_TIMEOUT;
    uint64_t cap = c->o.backoff_max_ms ? c->o.backoff_max_ms : DEFAULT_BACKOFF_MAX;
    for (unsigned i = 1; i < attempt && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    return d > 0xffffffffu ? 0xffffffffu : (unsigned)d;
}

/* The delay the options give for reconnect attempt `attempt`. */
static unsigned next_delay(const wsc_client *c, unsigned attempt) {
    uint64_t d = c->o.backoff ? backoff_delay(c, attempt) : (c->o.timeout_ms ? c->o.timeout_ms : DEFAULT_TIMEOUT);
    if (c->o.jitter_pct) {
        unsigned pct = c->o.jitter_pct > 100 ? 100 : c->o.jitter_pct;
        uint32_t r = 0;
        wsc__random(NULL, &r, sizeof r);
        uint64_t span = d * pct / 100;
        if (span) d = d - span + (r % (2 * span + 1));
    }
    return d > 0xffffffffu ? 0xffffffffu : (unsigned)d;
}

static void stop_heartbeat(wsc_client *c) {
    wsc_timer_stop(&c->ping);
    wsc_timer_stop(&c->pong);
}

/* The connection ended: what it had not confirmed. A clean closing
   handshake we started confirms everything. After a drop (or a close the
   server started), messages never completely
   written go back to the front of the queue; written ones are sent again
   before them (at-least-once: RESENT event) or handed to the application
   (at-most-once: one UNCONFIRMED event each). Returns freed. */
static int settle_unconfirmed(wsc_client *c, const wsc_ws_event *cev) {
    if (!c->d.sent.n) return 0;
    /* A clean close we started confirms all (the server's Close answers ours,
       after every frame before it); one the server started does not: what we
       wrote while its Close was on the way crossed it (client.h). */
    if (cev->was_clean && !(c->ws && wsc__ws_peer_closed_first(c->ws))) {
        c->confirmed_total += wsc__delivery_confirm_all(&c->d);
        return 0;
    }
    wsc__msgq written = {0}, unwritten = {0};
    wsc__delivery_split(&c->d, c->ws ? wsc__ws_data_written(c->ws) : 0, &written, &unwritten);
    wsc__msgq_prepend(&c->q, &unwritten);
    if (c->d.lost_nomem) {
        /* Out of memory while taking a run of kept messages apart: those
           cannot be reported one by one or sent again; say how many. */
        char msg[160];
        snprintf(msg, sizeof msg, "%zu unconfirmed messages lost: out of memory", c->d.lost_nomem);
        c->unconfirmed_total += c->d.lost_nomem;
        c->d.lost_nomem = 0;
        if (wsc__cl_emit_error(c, WSC_ENOMEM, msg)) {
            wsc__msgq_clear(&written);
            return 1;
        }
    }
    if (!written.n) return 0;
    if (c->o.delivery == WSC_DELIVERY_AT_LEAST_ONCE) {
        wsc_client_event ev = {0};
        ev.type = WSC_CLIENT_RESENT;
        ev.ws_event = cev;
        ev.count = written.n;
        ev.seq = written.head->seq;
        ev.seq_last = written.tail->seq;
        c->resent_total += written.n;
        wsc__msgq_prepend(&c->q, &written);
        return wsc__cl_emit(c, &ev);
    }
    wsc__msg *m;
    while ((m = wsc__msgq_pop(&written))) {
        wsc_client_event ev = {0};
        ev.type = WSC_CLIENT_UNCONFIRMED;
        ev.ws_event = cev;
        ev.seq = ev.seq_last = m->seq;
        ev.count = 1;
        ev.data = wsc__msg_bytes(m);
        ev.len = m->len;
        ev.binary = m->kind == Q_BINARY;
        c->unconfirmed_total++;
        int freed = wsc__cl_emit(c, &ev);
        wsc__msg_free(m);
        if (freed) {
            wsc__msgq_clear(&written);
            return 1;
        }
    }
    return 0;
}

/* Asks the policy (opts.policy or the default) about this failure. Returns
   1 to reconnect (c->delay set) or 0 for final. */
static int ask_policy(wsc_client *c, const wsc_ws_event *cev) {
    wsc_client_failure f = {0};
    f.cause = c->cause;
    f.code = cev->code;
    f.was_clean = cev->was_clean;
    f.http_status = c->cause == WSC_EHTTP ? c->cause_http : 0;
    f.retry_after_ms = f.http_status ? c->cause_retry_after : 0;
    f.message = c->cause_msg;
    f.attempt = c->attempts + 1;
    f.delay_ms = next_delay(c, f.attempt);
    f.backoff_delay_ms = backoff_delay(c, f.attempt);
    unsigned delay = f.delay_ms;
    int d = c->o.policy ? c->o.policy(c, &f, &delay, c->o.policy_user) : wsc_client_default_policy(&f, &delay);
    if (d == WSC_RECONNECT_FINAL) return 0;
    c->delay = d == WSC_RECONNECT_AFTER ? delay : f.delay_ms;
    return 1;
}

/* The current connection ended. Decides: reconnect, maximum, or stop.
   Fills the close event's reconnect fields. Returns freed. */
static int connection_ended(wsc_client *c, const wsc_ws_event *cev) {
    stop_heartbeat(c);
    if (settle_unconfirmed(c, cev)) return 1;
    if (c->ws) {
        wsc_ws_free(c->ws); /* deferred: we are inside its callback */
        c->ws = NULL;
    }
    if (!c->cause) {
        /* No error event came first: the close itself is the cause. */
        c->cause = cev->code == 1006 ? WSC_ECONNRESET : WSC_ECLOSED;
        if (cev->code == 1006) snprintf(c->cause_msg, sizeof c->cause_msg, "connection lost (1006)");
        else
            snprintf(c->cause_msg, sizeof c->cause_msg, "server closed the connection with %u%s%.100s%s", cev->code,
                     cev->reason[0] ? " '" : "", cev->reason, cev->reason[0] ? "'" : "");
    }
    c->cause_code = cev->code;

    wsc_client_event ev = {0};
    ev.type = WSC_CLIENT_CLOSE;
    ev.ws_event = cev;
    ev.code = cev->code;
    ev.reason = cev->reason;
    ev.was_clean = cev->was_clean;

    int reconnect = 0, maximum = 0;
    if (c->reconnect_now) {
        reconnect = 1;
    } else if (c->app_closing || c->stopped) {
        reconnect = 0;
    } else if (c->o.no_reconnect || !ask_policy(c, cev)) {
        reconnect = 0;
    } else if (c->o.max_attempts && c->attempts >= c->o.max_attempts) {
        maximum = 1;
    } else {
        reconnect = 1;
    }
    if (reconnect) {
        if (c->reconnect_now) {
            /* reconnect(): go again at once; it is attempt 1 of a new series. */
            c->reconnect_now = 0;
            c->attempts = 1;
            c->delay = 0;
            c->cause = WSC_OK;
            snprintf(c->cause_msg, sizeof c->cause_msg, "reconnect requested by the application");
        } else {
            c->attempts++; /* c->delay: set by ask_policy */
        }
        ev.will_reconnect = 1;
        ev.reconnect_delay_ms = c->delay;
        ev.attempt = c->attempts;
        wsc_timer_start(&c->retry, c->delay);
    } else {
        c->stopped = 1;
    }
    if (wsc__cl_emit(c, &ev)) return 1;
    /* Discarded messages are reported before "maximum", so that a program
       that stops on "maximum" still hears of them. */
    if (c->stopped && c->q.n &&
        wsc__cl_drop_queue(c, maximum ? "the maximum number of reconnect attempts was reached"
                      : c->app_closing ? "the client was closed"
                                       : "the connection ended and will not be reopened"))
        return 1;
    if (maximum) {
        wsc_client_event mev = {0};
        mev.type = WSC_CLIENT_MAXIMUM;
        mev.attempt = c->attempts;
        mev.cause = c->cause;
        mev.cause_message = c->cause_msg;
        if (wsc__cl_emit(c, &mev)) return 1;
    }
    return 0;
}

static void on_retry(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_client *c = user;
    wsc__cl_enter(c);
    if (!c->initial) {
        wsc_client_event ev = {0};
        ev.type = WSC_CLIENT_RECONNECT;
        ev.attempt = c->attempts;
        ev.delay_ms = c->delay;
        ev.cause = c->cause;
        ev.code = c->cause_code;
        ev.cause_message = c->cause_msg;
        if (wsc__cl_emit(c, &ev) || c->stopped || c->ws) {
            wsc__cl_leave(c);
            return;
        }
    }
    c->initial = 0;
    wsc__cl_start_connection(c);
    wsc__cl_leave(c);
}

/* ------------------------------------------------------------------ */
/* Heartbeat                                                           */
/* ------------------------------------------------------------------ */

static unsigned ping_interval(const wsc_client *c) {
    return c->o.ping_interval_ms ? c->o.ping_interval_ms : DEFAULT_PING_INTERVAL;
}

static void on_ping_timer(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_client *c = user;
    if (!wsc__cl_ws_open(c)) return;
    if (wsc_ws_ping(c->ws, "wsc", 3) == WSC_OK && !wsc_timer_active(&c->pong))
        wsc_timer_start(&c->pong, c->o.ping_timeout_ms ? c->o.ping_timeout_ms : DEFAULT_PING_TIMEOUT);
    wsc_timer_start(&c->ping, ping_interval(c));
}

static void on_pong_deadline(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_client *c = user;
    if (!c->ws) return;
    wsc__cl_enter(c);
    c->cause = WSC_ETIMEDOUT;
    snprintf(c->cause_msg, sizeof c->cause_msg, "no pong within %u ms: the connection is dead",
             c->o.ping_timeout_ms ? c->o.ping_timeout_ms : DEFAULT_PING_TIMEOUT);
    if (!wsc__cl_emit_error(c, WSC_ETIMEDOUT, c->cause_msg)) wsc_ws_terminate(c->ws); /* fires close 1006 */
    wsc__cl_leave(c);
}

/* ------------------------------------------------------------------ */
/* Connection callbacks                                                */
/* ------------------------------------------------------------------ */

static void ws_event(wsc_ws *ws, const wsc_ws_event *e, void *user) {
    wsc_client *c = user;
    if (ws != c->ws) return; /* an old connection's late event */
    wsc__cl_enter(c);
    wsc_client_event ev = {0};
    ev.ws_event = e;
    switch (e->type) {
    case WSC_WS_OPEN:
        if (wsc__cl_take_set_cookie(c, ws)) break; /* before the queue: its JSON gets the new token */
        c->attempts = 0;
        c->cause = 0;
        c->cause_http = 0;
        c->cause_msg[0] = 0;
        if (!c->o.no_heartbeat) wsc_timer_start(&c->ping, ping_interval(c));
        if (wsc__cl_flush_queue(c)) break;
        ev.type = WSC_CLIENT_OPEN;
        wsc__cl_emit(c, &ev);
        break;
    case WSC_WS_MESSAGE:
        ev.type = WSC_CLIENT_MESSAGE;
        ev.data = e->data;
        ev.len = e->len;
        ev.binary = e->binary;
        if (!c->o.no_json && (!e->binary || c->o.json_binary)) {
            wsc_json_error jerr = {0};
            json_t *j = NULL;
            int rc = wsc__cj_receive(&c->cj, e->data, e->len, e->binary, !c->o.json_view_only, &ev.view, &j, &jerr);
            if (rc) {
                wsc_client_event er = {0};
                er.type = WSC_CLIENT_ERROR;
                er.ws_event = e;
                er.error = rc;
                er.data = e->data;
                er.len = e->len;
                er.binary = e->binary;
                er.json_line = jerr.line;
                er.json_column = jerr.column;
                char msg[256];
                if (rc != WSC_EJSON) snprintf(msg, sizeof msg, "message could not be parsed: %s", wsc_strerror(rc));
                else if (jerr.line)
                    snprintf(msg, sizeof msg, "message is not valid JSON (line %d, column %d): %s", jerr.line,
                             jerr.column, jerr.message);
                else snprintf(msg, sizeof msg, "message is valid JSON but not a json_t: %s", jerr.message);
                er.message = msg;
                wsc__cl_emit(c, &er);
                break;
            }
            ev.json = j;
            wsc__cl_emit(c, &ev);
            if (j) json_decref(j);
            break;
        }
        wsc__cl_emit(c, &ev);
        break;
    case WSC_WS_ERROR: {
        c->cause = e->error;
        c->cause_http = e->http_status;
        c->cause_retry_after = 0;
        if (e->error == WSC_EHTTP && (e->http_status == 429 || e->http_status == 503))
            c->cause_retry_after = wsc__retry_after_ms(wsc_ws_response_header(ws, "Retry-After", 0), time(NULL));
        /* The message may quote the server's status reason: masked for the
           token sent and, after a Set-Cookie, for the one that replaced it. */
        char pre[512], post[512];
        const char *msg = wsc__cl_mask(e->message, c->token_cur, c->token_mem, pre, sizeof pre);
        if (e->error == WSC_EHTTP && wsc__cl_take_set_cookie(c, ws)) break;
        msg = wsc__cl_mask(msg, c->token_cur, c->token_mem, post, sizeof post);
        wsc_ws_event we = *e;
        we.message = msg;
        ev.ws_event = &we;
        snprintf(c->cause_msg, sizeof c->cause_msg, "%s", msg);
        ev.type = WSC_CLIENT_ERROR;
        ev.error = e->error;
        ev.message = msg;
        wsc__cl_emit(c, &ev);
        break;
    }
    case WSC_WS_CLOSE:
        connection_ended(c, e);
        break;
    case WSC_WS_PONG: {
        wsc_timer_stop(&c->pong);
        long n = wsc__delivery_pong(&c->d, e->data, e->len);
        if (n > 0) c->confirmed_total += (uint64_t)n;
        if (n >= 0) wsc__cl_confirm_hook(ws, c); /* what was sent meanwhile */
        break;
    }
    }
    wsc__cl_leave(c);
}

/* The handshake trace, with the application's pointer (opts.user). */
static void client_trace(void *user, int outgoing, const char *head, size_t len) {
    wsc_client *c = user;
    c->o.ws.trace(c->o.user, outgoing, head, len);
}

/* An attempt that failed before a connection object existed ends as a
   connection that closed abnormally would (1006), so that reconnecting,
   max_attempts and the maximum event follow the same path. */
static void attempt_failed(wsc_client *c) {
    wsc_ws_event fake = {0};
    fake.type = WSC_WS_CLOSE;
    fake.code = 1006;
    fake.reason = "";
    connection_ended(c, &fake);
}

/* Before each write of the connection: a confirmation Ping after the
   messages of this batch, if it carried any (delivery.h). */
void wsc__cl_confirm_hook(wsc_ws *ws, void *user) {
    wsc_client *c = user;
    if (ws != c->ws) return;
    char payload[WSC__ACK_MAX];
    uint64_t sent = wsc__ws_data_sent(ws);
    size_t n = wsc__delivery_ping_payload(&c->d, sent, payload);
    if (n && wsc_ws_ping(ws, payload, n) == WSC_OK) wsc__delivery_pinged(&c->d, sent);
}

void wsc__cl_start_connection(wsc_client *c) {
    if (wsc__cl_load_token(c)) return;
    if (c->stopped || c->ws) return;
    char *url = wsc__cl_url_with_token(c, c->token_cur);
    char *cookie = wsc__cl_cookie_with_token(c, c->token_cur);
    if (!url || !cookie) {
        wsc__cl_wipe_free(url);
        wsc__cl_wipe_free(cookie);
        c->cause = WSC_ENOMEM;
        snprintf(c->cause_msg, sizeof c->cause_msg, "out of memory");
        attempt_failed(c);
        return;
    }
    wsc_ws_options wo = c->o.ws;
    wo.protocols = (const char *const *)c->protocols;
    wo.headers = c->headers;
    wo.cookie = cookie[0] ? cookie : NULL;
    wo.origin = c->origin_hdr;
    wo.user_agent = c->user_agent;
    wo.ca_file = c->ca_file;
    wo.ca_dir = c->ca_dir;
    wo.cert_file = c->cert_file;
    wo.key_file = c->key_file;
    wo.proxy = c->proxy;
    wo.on_open = wo.on_message = wo.on_error = wo.on_close = ws_event;
    wo.user = c;
    wo.trace = c->o.ws.trace ? client_trace : NULL;
    wsc_error err;
    wsc_ws *ws = wsc_ws_new(c->loop, url, &wo, &err);
    wsc__cl_wipe_free(url);
    wsc__cl_wipe_free(cookie);
    if (!ws) {
        /* Options were validated at creation, so this is rare (ENOMEM). */
        c->cause = err.code;
        snprintf(c->cause_msg, sizeof c->cause_msg, "%s", err.message);
        if (err.code == WSC_EINVAL || err.code == WSC_EURL) c->stopped = 1; /* cannot heal */
        if (wsc__cl_emit_error(c, err.code, err.message)) return;
        attempt_failed(c);
        return;
    }
    c->ws = ws;
    wsc_ws_add_listener(ws, WSC_WS_PONG, ws_event, c);
    wsc__delivery_reset(&c->d);
    if (wsc__cl_keeping(c)) wsc__ws_set_flush_hook(ws, wsc__cl_confirm_hook, c);
}

/* ------------------------------------------------------------------ */
/* Creation, control, destruction                                      */
/* ------------------------------------------------------------------ */

static void free_config(wsc_client *c) {
    wsc__free(c->url);
    wsc__free(c->origin);
    wsc__strv_free(c->protocols);
    if (c->headers) {
        for (size_t i = 0; i < c->o.ws.nheaders; i++) {
            wsc__free((char *)c->headers[i].name);
            wsc__free((char *)c->headers[i].value);
        }
        wsc__free(c->headers);
    }
    char **strs[] = {&c->cookie, &c->origin_hdr, &c->user_agent, &c->ca_file, &c->ca_dir, &c->cert_file,
                     &c->key_file, &c->proxy, &c->token_key, &c->cookie_name, &c->query_param,
                     &c->json_property, &c->store_path};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) wsc__cl_wipe_free(*strs[i]);
}

static int copy_config(wsc_client *c, const wsc_client_options *o) {
    const wsc_ws_options *w = &o->ws;
    if (wsc__strv_dup(&c->protocols, w->protocols)) return -1;
    if (w->nheaders) {
        if (!w->headers) return -2;
        c->headers = wsc__calloc(w->nheaders, sizeof *c->headers);
        if (!c->headers) return -1;
        for (size_t i = 0; i < w->nheaders; i++) {
            char *n = NULL, *v = NULL;
            if (!w->headers[i].name || !w->headers[i].value) return -2;
            if (wsc__strdup_opt(&n, w->headers[i].name) || wsc__strdup_opt(&v, w->headers[i].value)) {
                wsc__free(n);
                wsc__free(v);
                return -1;
            }
            c->headers[i].name = n;
            c->headers[i].value = v;
        }
    }
    if (wsc__strdup_opt(&c->cookie, w->cookie) || wsc__strdup_opt(&c->origin_hdr, w->origin) || wsc__strdup_opt(&c->user_agent, w->user_agent) ||
        wsc__strdup_opt(&c->ca_file, w->ca_file) || wsc__strdup_opt(&c->ca_dir, w->ca_dir) || wsc__strdup_opt(&c->cert_file, w->cert_file) ||
        wsc__strdup_opt(&c->key_file, w->key_file) || wsc__strdup_opt(&c->proxy, w->proxy) ||
        wsc__strdup_opt(&c->token_key, o->token_key ? o->token_key : WSC_STORE_DEFAULT_KEY) ||
        wsc__strdup_opt(&c->cookie_name, o->cookie_name ? o->cookie_name : "csrf_token") ||
        wsc__strdup_opt(&c->query_param, o->query_param ? o->query_param : "csrf") ||
        wsc__strdup_opt(&c->json_property, o->json_property ? o->json_property : "csrf") ||
        wsc__strdup_opt(&c->store_path, o->store_path))
        return -1;
    return 0;
}

wsc_client *wsc_client_new(wsc_loop *loop, const char *url, const wsc_client_options *opts, wsc_error *err) {
    static const wsc_client_options defaults;
    if (!opts) opts = &defaults;
    if (!loop || !url) {
        wsc__seterr(err, WSC_EINVAL, "wsc_client_new: loop and url are required");
        return NULL;
    }
    if (WSC__CHECK_RESERVED(opts, err, "wsc_client_options") || WSC__CHECK_RESERVED(&opts->ws, err, "wsc_client_options.ws"))
        return NULL;
    wsc_client *c = wsc__calloc(1, sizeof *c);
    if (!c) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->o = *opts;
    c->lim_n = c->o.queue_max_messages ? c->o.queue_max_messages : DEFAULT_QUEUE_MESSAGES;
    c->lim_b = c->o.queue_max_bytes ? c->o.queue_max_bytes : DEFAULT_QUEUE_BYTES;
    c->initial = 1;
    wsc__timer_init(&c->retry, loop, on_retry, c);
    wsc__timer_init(&c->ping, loop, on_ping_timer, c);
    wsc__timer_init(&c->pong, loop, on_pong_deadline, c);
    int rc = copy_config(c, opts);
    if (rc) {
        wsc__seterr(err, rc == -2 ? WSC_EINVAL : WSC_ENOMEM,
                    rc == -2 ? "extra headers: a NULL name or value" : "out of memory");
        goto fail;
    }
    if (!(c->url = wsc__strdup(url))) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto fail;
    }
    if (wsc_url_parse(c->url, strlen(c->url), &c->u, err)) goto fail;
    char origin[WSC_URL_ORIGIN_MAX];
    if (wsc_url_origin(&c->u, origin, sizeof origin) < 0 || !(c->origin = wsc__strdup(origin))) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        goto fail;
    }
    if (!wsc_http_is_token(c->cookie_name, strlen(c->cookie_name)) || !c->query_param[0] || !c->json_property[0]) {
        wsc__seterr(err, WSC_EINVAL, "cookie_name must be a token; query_param and json_property must not be empty");
        goto fail;
    }
    /* The property name goes into every JSON message as a member name:
       text that is not UTF-8 would make every message invalid JSON. */
    if (!wsc_utf8_valid(c->json_property, strlen(c->json_property))) {
        wsc__seterr(err, WSC_EINVAL, "json_property must be valid UTF-8");
        goto fail;
    }
    if (opts->token) {
        if (!wsc_token_valid(opts->token, strlen(opts->token))) {
            wsc__seterr(err, WSC_EINVAL, "the CSRF token contains characters that cannot be sent in a cookie");
            goto fail;
        }
        if (!(c->token_mem = wsc__secret_strdup(opts->token))) {
            wsc__seterr(err, WSC_ENOMEM, "out of memory");
            goto fail;
        }
    }
    c->o.token = NULL; /* never keep the caller's pointer */
    /* Every connection option is checked now (the connection's plan,
       token included), so that a mistake fails here instead of turning into
       endless reconnects. */
    {
        char *u2 = wsc__cl_url_with_token(c, c->token_mem);
        char *ck = wsc__cl_cookie_with_token(c, c->token_mem);
        wsc_ws_options wo = c->o.ws;
        wo.cookie = ck && ck[0] ? ck : NULL;
        rc = u2 && ck ? wsc__ws_check(u2, &wo, err) : wsc__seterr(err, WSC_ENOMEM, "out of memory");
        wsc__cl_wipe_free(u2);
        wsc__cl_wipe_free(ck);
        if (rc) goto fail;
    }
    /* Connect from the loop (never fire events from inside new()). */
    wsc_timer_start(&c->retry, 0);
    return c;
fail:
    wsc__cl_really_free(c);
    return NULL;
}

void wsc__cl_really_free(wsc_client *c) {
    wsc_timer_stop(&c->retry);
    stop_heartbeat(c);
    if (c->ws) {
        wsc_ws_free(c->ws);
        c->ws = NULL;
    }
    wsc__msgq_clear(&c->q);
    wsc__delivery_free(&c->d);
    if (c->store) wsc_store_close(c->store);
    wsc__secret_free(c->token_mem);
    wsc__secret_free(c->token_cur);
    free_config(c);
    wsc__listeners_free(&c->ls);
    wsc__cj_free(&c->cj);
    wsc__free(c);
}

void wsc_client_free(wsc_client *c) {
    if (!c) return;
    if (c->depth) {
        c->freed = 1;
        c->stopped = 1;
        wsc_timer_stop(&c->retry);
        stop_heartbeat(c);
        if (c->ws) {
            wsc_ws_free(c->ws);
            c->ws = NULL;
        }
        return;
    }
    wsc__cl_really_free(c);
}

int wsc_client_connect(wsc_client *c) {
    if (!c) return WSC_EINVAL;
    if (!c->stopped) return WSC_OK;
    c->stopped = 0;
    c->app_closing = 0;
    c->attempts = 0;
    c->initial = 1;
    c->cause = 0;
    c->cause_msg[0] = 0;
    if (!c->ws) wsc_timer_start(&c->retry, 0);
    return WSC_OK;
}

int wsc_client_reconnect(wsc_client *c) {
    if (!c) return WSC_EINVAL;
    if (c->stopped && !c->ws) return wsc_client_connect(c);
    c->stopped = 0;
    c->app_closing = 0;
    c->attempts = 0;
    if (c->ws) {
        c->reconnect_now = 1;
        int st = wsc_ws_ready_state(c->ws);
        if (st == WSC_OPEN) return wsc_ws_close(c->ws, 1000, "reconnect");
        if (st == WSC_CONNECTING) return wsc_ws_terminate(c->ws);
        return WSC_OK; /* closing: reconnects when closed */
    }
    /* Waiting between attempts: go now. */
    c->attempts = 1;
    c->delay = 0;
    c->cause = WSC_OK;
    snprintf(c->cause_msg, sizeof c->cause_msg, "reconnect requested by the application");
    wsc_timer_start(&c->retry, 0);
    return WSC_OK;
}

int wsc_client_close(wsc_client *c, unsigned code, const char *reason) {
    if (!c) return WSC_EINVAL;
    size_t rlen = reason ? strlen(reason) : 0;
    if (code && !wsc_close_code_app_ok(code)) return WSC_EINVAL;
    if (rlen > WSC_CLOSE_REASON_MAX || (!code && rlen)) return WSC_EINVAL;
    if (rlen && !wsc_utf8_valid(reason, rlen)) return WSC_EUTF8;
    c->app_closing = 1;
    c->reconnect_now = 0;
    wsc_timer_stop(&c->retry);
    stop_heartbeat(c);
    if (c->ws) return wsc_ws_close(c->ws, code, reason); /* close event follows */
    /* Between connections: stopped at once. */
    c->stopped = 1;
    wsc__cl_enter(c);
    wsc__cl_drop_queue(c, "the client was closed");
    wsc__cl_leave(c);
    return WSC_OK;
}

int wsc_client_on(wsc_client *c, int type, wsc_client_cb cb, void *user) {
    if (!c || !cb || type < WSC_CLIENT_OPEN || type > WSC_CLIENT_RESENT) return WSC_EINVAL;
    return wsc__listeners_add(&c->ls, type, (wsc__fn)cb, user, c->depth);
}

int wsc_client_off(wsc_client *c, int id) {
    if (!c) return WSC_EINVAL;
    return wsc__listeners_remove(&c->ls, id, c->depth);
}

int wsc_client_ready_state(const wsc_client *c) {
    if (!c || c->stopped) return WSC_CLOSED;
    if (!c->ws) return WSC_CONNECTING; /* waiting to (re)connect */
    int st = wsc_ws_ready_state(c->ws);
    return st == WSC_CLOSED ? WSC_CONNECTING : st;
}
int wsc_client_is_connecting(const wsc_client *c) { return wsc_client_ready_state(c) == WSC_CONNECTING; }
int wsc_client_is_connected(const wsc_client *c) { return wsc_client_ready_state(c) == WSC_OPEN; }
int wsc_client_is_closing(const wsc_client *c) { return wsc_client_ready_state(c) == WSC_CLOSING; }
int wsc_client_is_closed(const wsc_client *c) { return wsc_client_ready_state(c) == WSC_CLOSED; }

wsc_ws *wsc_client_socket(const wsc_client *c) { return c ? c->ws : NULL; }
const char *wsc_client_url(const wsc_client *c) { return c->url; }
const char *wsc_client_protocol(const wsc_client *c) { return c->ws ? wsc_ws_protocol(c->ws) : ""; }
const char *wsc_client_extensions(const wsc_client *c) { return c->ws ? wsc_ws_extensions(c->ws) : ""; }
const char *wsc_client_binary_type(const wsc_client *c) {
    (void)c;
    return "arraybuffer";
}
uint64_t wsc_client_buffered_amount(const wsc_client *c) {
    /* With confirmation, a message counts until confirmed (its bytes in the
       connection's buffer are among the kept ones). */
    if (wsc__cl_keeping(c)) return c->q.bytes + c->d.sent.bytes;
    return (c->ws ? wsc_ws_buffered_amount(c->ws) : 0) + c->q.bytes;
}
unsigned wsc_client_attempts(const wsc_client *c) { return c->attempts; }
size_t wsc_client_queued(const wsc_client *c) { return c->q.n; }
uint64_t wsc_client_last_seq(const wsc_client *c) { return c ? c->seq : 0; }
size_t wsc_client_unconfirmed(const wsc_client *c) { return c ? c->d.sent.n : 0; }
uint64_t wsc_client_confirmed_total(const wsc_client *c) { return c ? c->confirmed_total : 0; }
uint64_t wsc_client_resent_total(const wsc_client *c) { return c ? c->resent_total : 0; }
uint64_t wsc_client_unconfirmed_total(const wsc_client *c) { return c ? c->unconfirmed_total : 0; }

