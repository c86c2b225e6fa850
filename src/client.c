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

#include "internal.h"
#include "secret.h" /* the token lives in memory kept out of core dumps */
#include "io/loop_internal.h"
#include "io/transport.h"
#include "json/client_json.h"
#include "wsc/client.h"
#include "wsc/http.h"
#include "wsc/proto.h"
#include "wsc/store.h"
#include "ws_internal.h"
#include "delivery.h"
#include "reconnect.h"
#include "setcookie.h"

#define DEFAULT_TIMEOUT 1000u
#define DEFAULT_BACKOFF_MAX 30000u
#define DEFAULT_QUEUE_MESSAGES 1024u
#define DEFAULT_QUEUE_BYTES ((size_t)16 * 1024 * 1024)
#define DEFAULT_PING_INTERVAL 20000u
#define DEFAULT_PING_TIMEOUT 20000u

enum qkind {
    Q_TEXT = WSC__MSG_TEXT,
    Q_BINARY = WSC__MSG_BINARY,
    Q_JSON = WSC__MSG_JSON,
    Q_JSON_TEXT = WSC__MSG_JSON_TEXT /* validated when queued and again when sent */
};

struct wsc_client {
    wsc_loop *loop;
    wsc_ws *ws;          /* current connection, or NULL */
    wsc_timer retry;     /* reconnect delay (also the first, 0 ms connect) */
    wsc_timer ping;      /* next heartbeat ping */
    wsc_timer pong;      /* pong deadline */

    /* configuration (deep copies) */
    char *url;           /* as given */
    wsc_url u;           /* parsed, spans into url */
    char *origin;        /* store key */
    wsc_client_options o;
    char **protocols;
    wsc_ws_header *headers;
    char *cookie, *origin_hdr, *user_agent, *ca_file, *ca_dir, *cert_file, *key_file, *proxy;
    char *token_key, *cookie_name, *query_param, *json_property, *store_path;

    /* state */
    uint8_t stopped;       /* CLOSED for good until connect()/reconnect() */
    uint8_t app_closing;   /* the application called close() */
    uint8_t reconnect_now; /* reconnect() asked: go again at once */
    uint8_t initial;       /* the next connect is not a re-connect */
    uint8_t depth;
    uint8_t freed;
    unsigned attempts;     /* reconnect attempts since the last open */
    unsigned delay;        /* the delay being waited */
    int cause;             /* why the last connection ended */
    int cause_http;
    unsigned cause_retry_after; /* Retry-After of a refused upgrade, ms (0: none) */
    unsigned cause_code;
    char cause_msg[256];

    /* token */
    char *token_mem;       /* in-memory token (options or set_csrf) */
    char *token_cur;       /* the token of the current connection */
    time_t token_mem_expires; /* of token_mem, from a Set-Cookie (0: none) */
    wsc_store *store;

    /* queue (not yet handed to a connection) and confirmed delivery
       (handed to the current one, not yet confirmed): delivery.h */
    wsc__msgq q;
    wsc__delivery d;
    uint64_t seq;          /* of the last message accepted */
    uint64_t confirmed_total, resent_total, unconfirmed_total;

    wsc__listeners ls;

    wsc__client_json cj; /* JSON in and out (src/json/client_json.c) */
};

static void start_connection(wsc_client *c);
static void really_free(wsc_client *c);
static void confirm_hook(wsc_ws *ws, void *user);

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void wipe_free(char *s) {
    if (s) {
        wsc__wipe(s, strlen(s));
        wsc__free(s);
    }
}

static int dupz(char **dst, const char *src) {
    *dst = NULL;
    if (!src) return 0;
    *dst = wsc__strdup(src);
    return *dst ? 0 : -1;
}

/* Calls the option callback and the listeners of ev->type. Returns non-zero
   if the client was freed meanwhile. */
static int emit(wsc_client *c, wsc_client_event *ev) {
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

static int emit_error(wsc_client *c, int code, const char *msg) {
    wsc_client_event ev = {0};
    ev.type = WSC_CLIENT_ERROR;
    ev.error = code;
    ev.message = msg;
    return emit(c, &ev);
}

static void enter(wsc_client *c) { c->depth++; }
static void leave(wsc_client *c) {
    if (--c->depth == 0 && c->freed) really_free(c);
}

/* ------------------------------------------------------------------ */
/* The token                                                           */
/* ------------------------------------------------------------------ */

static int token_expired(wsc_client *c);

/* Reads the token for the next connection into c->token_cur (or NULL).
   Store failures are reported and the connection goes ahead without one.
   Returns non-zero if the client was freed by a callback. */
static int load_token(wsc_client *c) {
    wsc__secret_free(c->token_cur);
    c->token_cur = NULL;
    if (c->token_mem && c->token_mem_expires && c->token_mem_expires <= time(NULL)) {
        wsc__secret_free(c->token_mem); /* expired (Set-Cookie's Expires/Max-Age) */
        c->token_mem = NULL;
        c->token_mem_expires = 0;
        if (c->o.no_store || c->o.token) return 0;
    }
    if (c->token_mem) {
        c->token_cur = wsc__secret_strdup(c->token_mem);
        return 0;
    }
    if (c->o.no_store) return 0;
    wsc_error err;
    if (!c->store) {
        c->store = wsc_store_open_lazy(c->store_path, &err); /* reading creates no file */
        if (!c->store) return emit_error(c, WSC_ESTORE, err.message);
    }
    char *v = NULL;
    if (wsc_store_get(c->store, c->origin, c->token_key, &v, &err) != WSC_OK) {
        /* The handle may be unusable after some failures: reopen next time. */
        wsc_store_close(c->store);
        c->store = NULL;
        return emit_error(c, WSC_ESTORE, err.message);
    }
    if (v && !wsc_token_valid(v, strlen(v))) {
        wsc_store_free(v);
        return emit_error(c, WSC_EINVAL, "the stored CSRF token contains characters that cannot be sent in a "
                                         "cookie; connecting without it");
    }
    if (v && token_expired(c)) {
        wsc_store_free(v);
        v = NULL;
    }
    if (v) {
        c->token_cur = wsc__secret_strdup(v);
        wsc_store_free(v);
    }
    return 0;
}

/* The expiry a Set-Cookie gave the stored token, kept beside it under
   "<token_key>.expires" (decimal seconds since the epoch). */
static void expires_key(const wsc_client *c, char *out, size_t cap) {
    snprintf(out, cap, "%s.expires", c->token_key);
}

/* An expired stored token is deleted (and reads as none). */
static int token_expired(wsc_client *c) {
    char key[300], *v = NULL;
    expires_key(c, key, sizeof key);
    if (wsc_store_get(c->store, c->origin, key, &v, NULL) != WSC_OK || !v) return 0;
    long long at = strtoll(v, NULL, 10);
    wsc_store_free(v);
    if (at <= 0 || (time_t)at > time(NULL)) return 0;
    wsc_store_delete(c->store, c->origin, c->token_key, NULL);
    wsc_store_delete(c->store, c->origin, key, NULL);
    return 1;
}

/* The token provided by the server: Set-Cookie for cookie_name on the
   handshake response of `ws` (during its open or refusal event) replaces
   (or deletes) the token for this origin, in the store or in memory, and
   it is used from now on. The last applicable Set-Cookie wins. Returns
   non-zero if the client was freed by an error callback. */
static int take_set_cookie(wsc_client *c, wsc_ws *ws) {
    if (c->o.no_set_cookie) return 0;
    wsc__cookie ck, last;
    int action = WSC__COOKIE_IGNORE;
    const char *h;
    const char *path = c->u.path.ptr ? c->u.path.ptr : "/";
    size_t pl = c->u.path.ptr ? c->u.path.len : 1;
    for (int i = 0; (h = wsc_ws_response_header(ws, "Set-Cookie", i)); i++) {
        int a = wsc__set_cookie_parse(h, c->cookie_name, path, pl, c->u.host.ptr ? c->u.host.ptr : "",
                                      c->u.host.len, time(NULL), &ck);
        if (a != WSC__COOKIE_IGNORE) {
            action = a;
            last = ck;
        }
        wsc__wipe(&ck, sizeof ck);
    }
    if (action == WSC__COOKIE_IGNORE) return 0;
    const char *tok = action == WSC__COOKIE_SET ? last.value : NULL;
    int rc = WSC_OK;
    wsc_error err = {0};
    if (c->token_mem || c->o.no_store) {
        char *t = tok ? wsc__secret_strdup(tok) : NULL;
        wsc__secret_free(c->token_mem);
        c->token_mem = t;
        c->token_mem_expires = tok ? last.expires : 0;
    } else {
        if (!c->store && !(c->store = wsc_store_open(c->store_path, &err))) rc = WSC_ESTORE;
        char key[300];
        expires_key(c, key, sizeof key);
        if (!rc && tok) {
            rc = wsc_store_set(c->store, c->origin, c->token_key, tok, &err);
            char when[32];
            snprintf(when, sizeof when, "%lld", (long long)last.expires);
            if (!rc) rc = last.expires ? wsc_store_set(c->store, c->origin, key, when, &err)
                                       : wsc_store_delete(c->store, c->origin, key, &err);
        } else if (!rc) {
            rc = wsc_store_delete(c->store, c->origin, c->token_key, &err);
            if (!rc) rc = wsc_store_delete(c->store, c->origin, key, &err);
        }
    }
    if (!rc) {
        wsc__secret_free(c->token_cur);
        c->token_cur = tok ? wsc__secret_strdup(tok) : NULL;
    }
    wsc__wipe(&last, sizeof last);
    if (rc) return emit_error(c, WSC_ESTORE, err.message[0] ? err.message : "the token store failed");
    return 0;
}

/* URL with csrf=<token> added or replaced, other parameters kept. */
static char *url_with_token(const wsc_client *c, const char *token) {
    if (!token) return wsc__strdup(c->url);
    size_t base = c->u.query.ptr ? (size_t)(c->u.query.ptr - c->url) - 1 : strlen(c->url);
    wsc_buf q = {0};
    if (wsc_query_set(c->u.query.ptr, c->u.query.len, c->query_param, token, &q) != WSC_OK) {
        wsc_buf_free(&q);
        return NULL;
    }
    char *out = wsc__malloc(base + 1 + q.len + 1);
    if (out) {
        memcpy(out, c->url, base);
        out[base] = '?';
        memcpy(out + base + 1, q.data, q.len);
        out[base + 1 + q.len] = 0;
    }
    wsc__wipe(q.data, q.len);
    wsc_buf_free(&q);
    return out;
}

/* The program's cookies with ours merged in (a same-named one is replaced). */
static char *cookie_with_token(const wsc_client *c, const char *token) {
    const char *prog = c->cookie ? c->cookie : "";
    size_t cap = strlen(prog) + (token ? strlen(c->cookie_name) + strlen(token) + 4 : 0) + 1;
    char *out = wsc__malloc(cap);
    if (!out) return NULL;
    size_t o = 0;
    size_t nl = strlen(c->cookie_name);
    const char *p = prog;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *e = strchr(p, ';');
        if (!e) e = p + strlen(p);
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if (t > p) {
            int same = (size_t)(t - p) > nl && strncmp(p, c->cookie_name, nl) == 0 && p[nl] == '=';
            if (!same || !token) {
                if (o) {
                    memcpy(out + o, "; ", 2);
                    o += 2;
                }
                memcpy(out + o, p, (size_t)(t - p));
                o += (size_t)(t - p);
            }
        }
        p = e;
    }
    if (token) {
        if (o) {
            memcpy(out + o, "; ", 2);
            o += 2;
        }
        o += (size_t)sprintf(out + o, "%s=%s", c->cookie_name, token);
    }
    out[o] = 0;
    return out;
}

/* ------------------------------------------------------------------ */
/* Queue and sending                                                   */
/* ------------------------------------------------------------------ */

static int ws_open(const wsc_client *c) { return c->ws && wsc_ws_ready_state(c->ws) == WSC_OPEN; }

/* JSON text with the token of the current connection (if any) as the
   property json_property; `checked`: already validated by client_send. */
static int send_json_text_now(wsc_client *c, const char *data, size_t len, int checked) {
    int rc = checked ? WSC_OK : wsc__cj_check_text(&c->cj, data, len, c->token_cur != NULL);
    const char *txt;
    size_t n;
    if (!rc) rc = wsc__cj_text_out(&c->cj, data, len, c->json_property, c->token_cur, &txt, &n);
    if (!rc) rc = wsc_ws_send_text(c->ws, txt, n);
    wsc__cj_wipe(&c->cj);
    return rc;
}

static int send_now(wsc_client *c, int kind, const void *data, size_t len, json_t *json) {
    if (kind == Q_TEXT) return wsc_ws_send_text(c->ws, data, len);
    if (kind == Q_BINARY) return wsc_ws_send_binary(c->ws, data, len);
    if (kind == Q_JSON_TEXT) return send_json_text_now(c, data, len, 0);
    const char *txt;
    size_t n;
    int rc = wsc__cj_jansson_out(&c->cj, json, c->json_property, c->token_cur, &txt, &n);
    if (!rc) rc = wsc_ws_send_text(c->ws, txt, n);
    wsc__cj_wipe(&c->cj);
    return rc;
}

static int keeping(const wsc_client *c) { return c->o.delivery != WSC_DELIVERY_OFF; }

/* Queued + unconfirmed messages against the queue limits. */
static int over_limits(const wsc_client *c, size_t len) {
    size_t maxn = c->o.queue_max_messages ? c->o.queue_max_messages : DEFAULT_QUEUE_MESSAGES;
    size_t maxb = c->o.queue_max_bytes ? c->o.queue_max_bytes : DEFAULT_QUEUE_BYTES;
    size_t n = c->q.n + c->d.sent.n, b = c->q.bytes + c->d.sent.bytes;
    return n + 1 > maxn || b + len > maxb || len > maxb;
}

static int enqueue(wsc_client *c, int kind, const void *data, size_t len, json_t *json) {
    if (over_limits(c, len)) return WSC_EQUEUEFULL;
    wsc__msg *m = wsc__msg_new(kind, kind == Q_JSON ? NULL : data, len, json);
    if (!m) return WSC_ENOMEM;
    m->seq = ++c->seq;
    wsc__msgq_push(&c->q, m);
    return WSC_OK;
}

/* Hands message m to the OPEN connection and keeps it until confirmed
   (delivery.h). Takes m in every case. A JSON message is serialised now,
   with the token current now, and kept as the text that was sent. */
static int hand_over(wsc_client *c, wsc__msg *m) {
    uint64_t index = wsc__ws_data_sent(c->ws);
    int rc;
    if (m->kind == Q_JSON || m->kind == Q_JSON_TEXT) {
        const char *txt = NULL;
        size_t tl = 0;
        if (m->kind == Q_JSON) {
            rc = wsc__cj_jansson_out(&c->cj, m->json, c->json_property, c->token_cur, &txt, &tl);
        } else {
            /* A kept text that goes again carries the token it was sent
               with: the splice replaces it with the current one. */
            rc = wsc__cj_check_text(&c->cj, (const char *)m->data, m->len, c->token_cur != NULL);
            if (!rc) rc = wsc__cj_text_out(&c->cj, (const char *)m->data, m->len, c->json_property, c->token_cur,
                                           &txt, &tl);
        }
        if (rc) {
            wsc__cj_wipe(&c->cj);
            wsc__msg_free(m);
            return rc;
        }
        if (txt == (const char *)m->data) {
            /* No token: the text goes as it is and m keeps it. */
            rc = wsc_ws_send_text(c->ws, txt, tl);
        } else {
            wsc__msg *k = wsc__msg_new(m->kind, txt, tl, m->json);
            rc = k ? wsc_ws_send_text(c->ws, txt, tl) : WSC_ENOMEM;
            if (k) k->seq = m->seq;
            wsc__msg_free(m);
            m = k;
        }
        wsc__cj_wipe(&c->cj);
        if (!m) return rc;
    } else {
        rc = m->kind == Q_TEXT ? wsc_ws_send_text(c->ws, (const char *)m->data, m->len)
                               : wsc_ws_send_binary(c->ws, m->data, m->len);
    }
    if (rc || !keeping(c)) {
        wsc__msg_free(m);
        return rc;
    }
    m->index = index;
    wsc__msgq_push(&c->d.sent, m);
    char payload[WSC__ACK_MAX];
    uint64_t sent = index + 1;
    size_t n = wsc__delivery_ping_due(&c->d, sent, payload);
    if (n && wsc_ws_ping(c->ws, payload, n) == WSC_OK) wsc__delivery_pinged(&c->d, sent);
    return WSC_OK;
}

/* Discards the queue, reporting it (never silently): the error event
   carries the count and the sequence numbers (seq..seq_last). Returns freed. */
static int drop_queue(wsc_client *c, const char *why) {
    size_t n = c->q.n;
    uint64_t first = c->q.head ? c->q.head->seq : 0, last = c->q.tail ? c->q.tail->seq : 0;
    wsc__msgq_clear(&c->q);
    if (!n) return 0;
    char msg[200];
    snprintf(msg, sizeof msg, "%zu queued message%s discarded: %s", n, n == 1 ? "" : "s", why);
    wsc_client_event ev = {0};
    ev.type = WSC_CLIENT_ERROR;
    ev.error = WSC_ECLOSED;
    ev.message = msg;
    ev.count = n;
    ev.seq = first;
    ev.seq_last = last;
    return emit(c, &ev);
}

/* Sends the queue in order on the fresh connection. Returns freed. */
static int flush_queue(wsc_client *c) {
    while (c->q.head && ws_open(c)) {
        wsc__msg *m = wsc__msgq_pop(&c->q);
        int rc = keeping(c) ? hand_over(c, m) : send_now(c, m->kind, m->data, m->len, m->json);
        if (!keeping(c)) wsc__msg_free(m);
        if (rc) {
            char msg[160];
            snprintf(msg, sizeof msg, "a queued message could not be sent: %s", wsc_strerror(rc));
            if (emit_error(c, rc, msg)) return 1;
        }
    }
    return 0;
}

static int client_send(wsc_client *c, int kind, const void *data, size_t len, json_t *json) {
    if (!c || (len && !data && kind != Q_JSON)) return WSC_EINVAL;
    if (kind == Q_TEXT && !wsc_utf8_valid(data, len)) return WSC_EUTF8;
    if (c->stopped || c->app_closing) return WSC_ECLOSED;
    if (kind == Q_JSON_TEXT && !ws_open(c)) {
        /* Validated now (invalid text never queues), an object if a token
           is expected; again when it is sent, with the token current then. */
        const char *tok = c->token_mem ? c->token_mem : c->token_cur;
        int rc = wsc__cj_check_text(&c->cj, data, len, tok != NULL);
        if (rc) return rc;
    }
    if (ws_open(c)) {
        if (!keeping(c)) {
            int rc = send_now(c, kind, data, len, json);
            if (rc == WSC_OK) c->seq++;
            return rc;
        }
        if (over_limits(c, len)) return WSC_EQUEUEFULL;
        wsc__msg *m = kind == Q_JSON ? wsc__msg_new(kind, NULL, len, json) : wsc__delivery_msg_new(&c->d, kind, data, len);
        if (!m) return WSC_ENOMEM;
        m->seq = c->seq + 1;
        int rc = hand_over(c, m);
        if (rc == WSC_OK) c->seq++;
        return rc;
    }
    if (c->o.no_queue) return WSC_ESTATE;
    if (kind == Q_JSON) {
        /* Check now what can be checked (serialisable; object if a token
           is expected), and count its size for bufferedAmount. */
        const char *tok = c->token_mem ? c->token_mem : c->token_cur;
        const char *txt;
        int rc = wsc__cj_jansson_out(&c->cj, json, c->json_property, tok, &txt, &len);
        wsc__cj_wipe(&c->cj);
        if (rc) return rc;
    }
    return enqueue(c, kind, data, len, json);
}

int wsc_client_send_text(wsc_client *c, const char *data, size_t len) { return client_send(c, Q_TEXT, data, len, NULL); }
int wsc_client_send_binary(wsc_client *c, const void *data, size_t len) {
    return client_send(c, Q_BINARY, data, len, NULL);
}
int wsc_client_send_json(wsc_client *c, json_t *value) {
    if (!value) return WSC_EINVAL;
    return client_send(c, Q_JSON, NULL, 0, value);
}
int wsc_client_send_json_text(wsc_client *c, const char *text, size_t len) {
    if (!text && len) return WSC_EINVAL;
    return client_send(c, Q_JSON_TEXT, text ? text : "", len, NULL);
}
int wsc_client_send_json_view(wsc_client *c, wsc_json value) {
    size_t len;
    const char *raw = wsc_json_raw(value, &len);
    if (!raw) return WSC_EINVAL;
    return client_send(c, Q_JSON_TEXT, raw, len, NULL);
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
   handshake confirms everything. After a drop, messages never completely
   written go back to the front of the queue; written ones are sent again
   before them (at-least-once: RESENT event) or handed to the application
   (at-most-once: one UNCONFIRMED event each). Returns freed. */
static int settle_unconfirmed(wsc_client *c, const wsc_ws_event *cev) {
    if (!c->d.sent.n) return 0;
    if (cev->was_clean) {
        c->confirmed_total += wsc__delivery_confirm_all(&c->d);
        return 0;
    }
    wsc__msgq written = {0}, unwritten = {0};
    wsc__delivery_split(&c->d, c->ws ? wsc__ws_data_written(c->ws) : 0, &written, &unwritten);
    wsc__msgq_prepend(&c->q, &unwritten);
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
        return emit(c, &ev);
    }
    wsc__msg *m;
    while ((m = wsc__msgq_pop(&written))) {
        wsc_client_event ev = {0};
        ev.type = WSC_CLIENT_UNCONFIRMED;
        ev.ws_event = cev;
        ev.seq = ev.seq_last = m->seq;
        ev.count = 1;
        ev.data = m->data;
        ev.len = m->len;
        ev.binary = m->kind == Q_BINARY;
        c->unconfirmed_total++;
        int freed = emit(c, &ev);
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
    if (emit(c, &ev)) return 1;
    /* Discarded messages are reported before "maximum", so that a program
       that stops on "maximum" still hears of them. */
    if (c->stopped && c->q.n &&
        drop_queue(c, maximum ? "the maximum number of reconnect attempts was reached"
                      : c->app_closing ? "the client was closed"
                                       : "the connection ended and will not be reopened"))
        return 1;
    if (maximum) {
        wsc_client_event mev = {0};
        mev.type = WSC_CLIENT_MAXIMUM;
        mev.attempt = c->attempts;
        mev.cause = c->cause;
        mev.cause_message = c->cause_msg;
        if (emit(c, &mev)) return 1;
    }
    return 0;
}

static void on_retry(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_client *c = user;
    enter(c);
    if (!c->initial) {
        wsc_client_event ev = {0};
        ev.type = WSC_CLIENT_RECONNECT;
        ev.attempt = c->attempts;
        ev.delay_ms = c->delay;
        ev.cause = c->cause;
        ev.code = c->cause_code;
        ev.cause_message = c->cause_msg;
        if (emit(c, &ev) || c->stopped || c->ws) {
            leave(c);
            return;
        }
    }
    c->initial = 0;
    start_connection(c);
    leave(c);
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
    if (!ws_open(c)) return;
    if (wsc_ws_ping(c->ws, "wsc", 3) == WSC_OK && !wsc_timer_active(&c->pong))
        wsc_timer_start(&c->pong, c->o.ping_timeout_ms ? c->o.ping_timeout_ms : DEFAULT_PING_TIMEOUT);
    wsc_timer_start(&c->ping, ping_interval(c));
}

static void on_pong_deadline(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    wsc_client *c = user;
    if (!c->ws) return;
    enter(c);
    c->cause = WSC_ETIMEDOUT;
    snprintf(c->cause_msg, sizeof c->cause_msg, "no pong within %u ms: the connection is dead",
             c->o.ping_timeout_ms ? c->o.ping_timeout_ms : DEFAULT_PING_TIMEOUT);
    if (!emit_error(c, WSC_ETIMEDOUT, c->cause_msg)) wsc_ws_terminate(c->ws); /* fires close 1006 */
    leave(c);
}

/* ------------------------------------------------------------------ */
/* Connection callbacks                                                */
/* ------------------------------------------------------------------ */

static void ws_event(wsc_ws *ws, const wsc_ws_event *e, void *user) {
    wsc_client *c = user;
    if (ws != c->ws) return; /* an old connection's late event */
    enter(c);
    wsc_client_event ev = {0};
    ev.ws_event = e;
    switch (e->type) {
    case WSC_WS_OPEN:
        if (take_set_cookie(c, ws)) break; /* before the queue: its JSON gets the new token */
        c->attempts = 0;
        c->cause = 0;
        c->cause_http = 0;
        c->cause_msg[0] = 0;
        if (!c->o.no_heartbeat) wsc_timer_start(&c->ping, ping_interval(c));
        if (flush_queue(c)) break;
        ev.type = WSC_CLIENT_OPEN;
        emit(c, &ev);
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
                emit(c, &er);
                break;
            }
            ev.json = j;
            emit(c, &ev);
            if (j) json_decref(j);
            break;
        }
        emit(c, &ev);
        break;
    case WSC_WS_ERROR:
        c->cause = e->error;
        c->cause_http = e->http_status;
        c->cause_retry_after = 0;
        if (e->error == WSC_EHTTP && (e->http_status == 429 || e->http_status == 503))
            c->cause_retry_after = wsc__retry_after_ms(wsc_ws_response_header(ws, "Retry-After", 0), time(NULL));
        if (e->error == WSC_EHTTP && take_set_cookie(c, ws)) break;
        snprintf(c->cause_msg, sizeof c->cause_msg, "%s", e->message);
        ev.type = WSC_CLIENT_ERROR;
        ev.error = e->error;
        ev.message = e->message;
        emit(c, &ev);
        break;
    case WSC_WS_CLOSE:
        connection_ended(c, e);
        break;
    case WSC_WS_PONG: {
        wsc_timer_stop(&c->pong);
        long n = wsc__delivery_pong(&c->d, e->data, e->len);
        if (n > 0) c->confirmed_total += (uint64_t)n;
        if (n >= 0) confirm_hook(ws, c); /* what was sent meanwhile */
        break;
    }
    }
    leave(c);
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
static void confirm_hook(wsc_ws *ws, void *user) {
    wsc_client *c = user;
    if (ws != c->ws) return;
    char payload[WSC__ACK_MAX];
    uint64_t sent = wsc__ws_data_sent(ws);
    size_t n = wsc__delivery_ping_payload(&c->d, sent, payload);
    if (n && wsc_ws_ping(ws, payload, n) == WSC_OK) wsc__delivery_pinged(&c->d, sent);
}

static void start_connection(wsc_client *c) {
    if (load_token(c)) return;
    if (c->stopped || c->ws) return;
    char *url = url_with_token(c, c->token_cur);
    char *cookie = cookie_with_token(c, c->token_cur);
    if (!url || !cookie) {
        wipe_free(url);
        wipe_free(cookie);
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
    wipe_free(url);
    wipe_free(cookie);
    if (!ws) {
        /* Options were validated at creation, so this is rare (ENOMEM). */
        c->cause = err.code;
        snprintf(c->cause_msg, sizeof c->cause_msg, "%s", err.message);
        if (err.code == WSC_EINVAL || err.code == WSC_EURL) c->stopped = 1; /* cannot heal */
        if (emit_error(c, err.code, err.message)) return;
        attempt_failed(c);
        return;
    }
    c->ws = ws;
    wsc_ws_add_listener(ws, WSC_WS_PONG, ws_event, c);
    wsc__delivery_reset(&c->d);
    if (keeping(c)) wsc__ws_set_flush_hook(ws, confirm_hook, c);
}

/* ------------------------------------------------------------------ */
/* Creation, control, destruction                                      */
/* ------------------------------------------------------------------ */

static void free_config(wsc_client *c) {
    wsc__free(c->url);
    wsc__free(c->origin);
    if (c->protocols) {
        for (char **p = c->protocols; *p; p++) wsc__free(*p);
        wsc__free(c->protocols);
    }
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
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) wipe_free(*strs[i]);
}

static int copy_config(wsc_client *c, const wsc_client_options *o) {
    const wsc_ws_options *w = &o->ws;
    if (w->protocols) {
        size_t n = 0;
        while (w->protocols[n]) n++;
        c->protocols = wsc__calloc(n + 1, sizeof *c->protocols);
        if (!c->protocols) return -1;
        for (size_t i = 0; i < n; i++)
            if (dupz(&c->protocols[i], w->protocols[i])) return -1;
    }
    if (w->nheaders) {
        if (!w->headers) return -2;
        c->headers = wsc__calloc(w->nheaders, sizeof *c->headers);
        if (!c->headers) return -1;
        for (size_t i = 0; i < w->nheaders; i++) {
            char *n = NULL, *v = NULL;
            if (!w->headers[i].name || !w->headers[i].value) return -2;
            if (dupz(&n, w->headers[i].name) || dupz(&v, w->headers[i].value)) {
                wsc__free(n);
                wsc__free(v);
                return -1;
            }
            c->headers[i].name = n;
            c->headers[i].value = v;
        }
    }
    if (dupz(&c->cookie, w->cookie) || dupz(&c->origin_hdr, w->origin) || dupz(&c->user_agent, w->user_agent) ||
        dupz(&c->ca_file, w->ca_file) || dupz(&c->ca_dir, w->ca_dir) || dupz(&c->cert_file, w->cert_file) ||
        dupz(&c->key_file, w->key_file) || dupz(&c->proxy, w->proxy) ||
        dupz(&c->token_key, o->token_key ? o->token_key : WSC_STORE_DEFAULT_KEY) ||
        dupz(&c->cookie_name, o->cookie_name ? o->cookie_name : "csrf_token") ||
        dupz(&c->query_param, o->query_param ? o->query_param : "csrf") ||
        dupz(&c->json_property, o->json_property ? o->json_property : "csrf") ||
        dupz(&c->store_path, o->store_path))
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
    /* Every connection option is checked now (a dry run of the connection,
       token included), so that a mistake fails here instead of turning into
       endless reconnects. */
    {
        char *u2 = url_with_token(c, c->token_mem);
        char *ck = cookie_with_token(c, c->token_mem);
        wsc_ws_options wo = c->o.ws;
        wo.cookie = ck && ck[0] ? ck : NULL;
        rc = u2 && ck ? wsc__ws_validate(loop, u2, &wo, err) : wsc__seterr(err, WSC_ENOMEM, "out of memory");
        wipe_free(u2);
        wipe_free(ck);
        if (rc) goto fail;
    }
    /* Connect from the loop (never fire events from inside new()). */
    wsc_timer_start(&c->retry, 0);
    return c;
fail:
    really_free(c);
    return NULL;
}

static void really_free(wsc_client *c) {
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
    really_free(c);
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
    enter(c);
    drop_queue(c, "the client was closed");
    leave(c);
    return WSC_OK;
}

/* ------------------------------------------------------------------ */
/* Token API, listeners, accessors                                     */
/* ------------------------------------------------------------------ */

const char *wsc_client_csrf(wsc_client *c) {
    if (!c) return NULL;
    if (c->token_mem) return c->token_mem;
    if (!c->o.no_store && !c->ws) {
        /* Not connected: read what the next connection would use. */
        enter(c);
        load_token(c);
        leave(c);
    }
    return c->token_cur;
}

int wsc_client_set_csrf(wsc_client *c, const char *token, wsc_error *err) {
    if (!c) return WSC_EINVAL;
    if (token && !wsc_token_valid(token, strlen(token)))
        return wsc__seterr(err, WSC_EINVAL, "the CSRF token contains characters that cannot be sent in a cookie");
    if (c->token_mem || c->o.no_store) {
        char *t = NULL;
        if (token && !(t = wsc__secret_strdup(token))) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
        wsc__secret_free(c->token_mem);
        c->token_mem = t;
        wsc__secret_free(c->token_cur);
        c->token_cur = t ? wsc__secret_strdup(t) : NULL;
        return WSC_OK;
    }
    if (!c->store) {
        c->store = wsc_store_open(c->store_path, err);
        if (!c->store) return WSC_ESTORE;
    }
    int rc = token ? wsc_store_set(c->store, c->origin, c->token_key, token, err)
                   : wsc_store_delete(c->store, c->origin, c->token_key, err);
    if (rc) return rc;
    wsc__secret_free(c->token_cur);
    c->token_cur = token ? wsc__secret_strdup(token) : NULL;
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
    if (keeping(c)) return c->q.bytes + c->d.sent.bytes;
    return (c->ws ? wsc_ws_buffered_amount(c->ws) : 0) + c->q.bytes;
}
unsigned wsc_client_attempts(const wsc_client *c) { return c->attempts; }
size_t wsc_client_queued(const wsc_client *c) { return c->q.n; }
uint64_t wsc_client_last_seq(const wsc_client *c) { return c ? c->seq : 0; }
size_t wsc_client_unconfirmed(const wsc_client *c) { return c ? c->d.sent.n : 0; }
uint64_t wsc_client_confirmed_total(const wsc_client *c) { return c ? c->confirmed_total : 0; }
uint64_t wsc_client_resent_total(const wsc_client *c) { return c ? c->resent_total : 0; }
uint64_t wsc_client_unconfirmed_total(const wsc_client *c) { return c ? c->unconfirmed_total : 0; }
