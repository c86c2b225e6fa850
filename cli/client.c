/*
 * client.c - `wsc [options] URL`: the reconnecting JSON client of the
 * library (client.h) driven from the command line.
 *
 * Modes (options.h, wsc(1)):
 *   interactive  stdin is a terminal: the line editor (interactive.c)
 *   scripted     stdin is not a terminal: one message per input line
 *   execute      -x / --file: those messages, stdin not read
 *   exec         --exec / --exec-raw: a program's output is the input, the
 *                messages received its input (exec.c)
 *   echo         --echo: echo.c, on the connection layer alone
 * Reading input is input.c's, showing messages show.c's, following
 * redirects (-L) is here with redirect.c's rules.
 *
 * The end of a session is decided in the close event (on_close) from what
 * we asked (app_finish), whether the connection ever opened, protocol
 * errors and the close code; then what the session saw on the way (a
 * refusal code, skipped lines, lost messages, an unanswered --file, the
 * program's status) may change a clean end's 0; see util.h and wsc(1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "commands.h"
#include "output.h"
#include "redirect.h"
#include "util.h"
#include "wsc/client.h"


/* The trace hook of the connection gets the client as its `user` (the
   client passes itself), so the application is found here. */
static app *g_app;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* An error that does not end the session: "wsc: ..." on stderr, shown
   even with -q. */
void app_report(const char *fmt, ...) {
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out_status(ST_ERROR, "wsc: %s", msg);
}

static void set_final(app *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_final(app *a, int code, const char *fmt, ...) {
    a->exit_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->final_msg, sizeof a->final_msg, fmt, ap);
    va_end(ap);
}

void app_stop(app *a) {
    a->done = 1;
    wsc_loop_stop(a->loop);
}

/* A reason or other server text made safe for one status line. */
void app_safe_text(char *dst, size_t cap, const char *s) {
    wsc_buf b = {0};
    fmt_text_safe(&b, (const uint8_t *)s, strlen(s), 0);
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    if (n) memcpy(dst, b.data, n);
    dst[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (dst[i] == '\n' || dst[i] == '\t') dst[i] = ' ';
    wsc_buf_free(&b);
}

/* The close codes' meaning for the exit status: util.c's table, shared
   with --echo. */
static int is_protocol_code(unsigned code) { return cli_close_status(code) == EXIT_PROTOCOL; }
static int is_refusal_code(unsigned code) { return cli_close_status(code) == EXIT_REFUSED; }

/* A server close with a refusal code, or a protocol failure, on any
   connection of the session: remembered (the first one) so that the exit
   status tells it even when a reconnect or our own close came after. */
static void note_sticky(app *a, const wsc_client_event *ev, int proto, const char *err) {
    if (a->sticky_code || a->sticky_proto) return;
    char reason[300];
    app_safe_text(reason, sizeof reason, ev->reason ? ev->reason : "");
    if (proto) {
        a->sticky_proto = 1;
        if (a->proto_error)
            snprintf(a->sticky_msg, sizeof a->sticky_msg, "protocol error: %s", err);
        else
            snprintf(a->sticky_msg, sizeof a->sticky_msg, "the server closed the connection with %u (%s)%s%s",
                     ev->code, cli_close_name(ev->code), reason[0] ? ": " : "", reason);
    } else {
        a->sticky_code = ev->code;
        snprintf(a->sticky_msg, sizeof a->sticky_msg, "the server closed the connection with %u (%s)%s%s", ev->code,
                 cli_close_name(ev->code), reason[0] ? ": " : "", reason);
    }
}

/* ------------------------------------------------------------------ */
/* Showing messages                                                    */
/* ------------------------------------------------------------------ */

/* -n N reached: the session ends with 0 whatever the server then does
   with the close (ignores it, drops the connection). */
static int g_count_reached;

/* --file without -w or -n: the wait lasts until a reply or the close. */
static int file_waits_for_reply(const app *a) { return a->file_sent && !a->o->wait_set && !a->o->count; }

/* The wait after the input is over (it starts once the server confirmed
   reading everything, DELIVERY in wsc(1)). --file with -w SEC expects a
   reply within SEC, else the exit status says so (9); -w 0 expects none. */
static void wait_over(app *a) {
    if (a->file_sent && !a->file_acked && a->o->wait_ms > 0) {
        a->file_unacked = 1;
        app_report("--file %s: the server confirmed reading it (%zu bytes), but no reply came within the -w wait "
                   "(without -w, wsc waits for the reply; -w 0 expects none)",
                   a->o->file, a->file_size);
    }
    app_finish(a, EXIT_OK);
}

static void got_message(app *a, const uint8_t *data, size_t len, int binary, int is_json) {
    if (a->done) return;
    if (a->o->count && a->received >= a->o->count) return;
    a->received++;
    if (a->o->exec_cmd) exec_message(a, data, len, binary, is_json);
    else show_message(a, data, len, binary, is_json);
    if (a->file_sent && !a->file_acked && a->received > a->file_mark) {
        a->file_acked = 1;
        /* --file without -w or -n waits for this reply. */
        if (a->waiting && file_waits_for_reply(a)) app_finish(a, EXIT_OK);
    }
    if (a->o->count && a->received == a->o->count) {
        g_count_reached = 1;
        app_finish(a, EXIT_OK);
    }
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

static int send_one(app *a, int kind, const char *data, size_t len, const char *where);

int app_send(app *a, int kind, const char *data, size_t len, const char *where) {
    int rc = send_one(a, kind, data, len, where);
    /* Interactively the user sees the refusal and types again; otherwise a
       line not sent is a failure the exit status reports (8). */
    if (rc != 0 && !a->interactive) a->skipped++;
    return rc;
}

static int send_one(app *a, int kind, const char *data, size_t len, const char *where) {
    char pfx[80] = "";
    if (where) snprintf(pfx, sizeof pfx, "%s: ", where);
    int rc;
    if (kind == SEND_JSON) {
        /* Validated, csrf spliced in, no DOM (wsc_client_send_json_text);
           only a refusal pays for a second parse, to say where. */
        rc = wsc_client_send_json_text(a->client, data, len);
        if (rc == WSC_EJSON) {
            wsc_json_doc *d = wsc_json_doc_new(NULL);
            wsc_json_error je = {0};
            if (d) wsc_json_parse(d, data, len, WSC_JSON_NO_DUPLICATES, &je);
            wsc_json_doc_free(d);
            if (where && strncmp(where, "line ", 5) == 0)
                app_report("%s, column %d: invalid JSON: %s (not sent)", where, je.column, je.message);
            else
                app_report("%sinvalid JSON at line %d, column %d: %s (not sent)", pfx, je.line, je.column, je.message);
            return -1;
        }
    } else if (kind == SEND_BINARY) {
        rc = wsc_client_send_binary(a->client, data, len);
    } else {
        rc = wsc_client_send_text(a->client, data, len);
    }
    if (rc == WSC_OK) {
        dr_label(wsc_client_last_seq(a->client), where);
        return 0;
    }
    const char *why;
    switch (rc) {
    case WSC_EUTF8: why = "not valid UTF-8 (--binary sends bytes)"; break;
    case WSC_EINVAL:
        why = kind == SEND_JSON ? "not a JSON object: the CSRF token can only be added to an object"
                                : "invalid message";
        break;
    case WSC_EQUEUEFULL: why = "too many messages waiting for the connection"; break;
    case WSC_ECLOSED:
    case WSC_ESTATE: why = a->interactive ? "not connected (use /reconnect)" : "not connected"; break;
    case WSC_EJSON: why = "cannot be written as JSON"; break;
    case WSC_ETOOBIG: why = "too big for the send buffer"; break;
    default: why = wsc_strerror(rc); break;
    }
    app_report("%s%s; not sent", pfx, why);
    return -1;
}

/* ------------------------------------------------------------------ */
/* The end: draining, waiting, closing                                 */
/* ------------------------------------------------------------------ */

void app_finish(app *a, int code) {
    if (a->done || a->closing) return;
    a->closing = 1;
    a->exit_code = code;
    app_stop_input(a);
    wsc_timer_stop(a->wait_timer);
    wsc_timer_stop(a->drain_timer);
    if (wsc_client_is_closed(a->client) || wsc_client_close(a->client, 1000, NULL) != WSC_OK) {
        app_stop(a);
        return;
    }
    /* Between two attempts the client stops at once, without a close event. */
    if (!a->done && wsc_client_is_closed(a->client) && !wsc_client_socket(a->client)) app_stop(a);
}

static void check_drain(app *a) {
    if (!a->input_done || a->waiting || a->closing || a->done) return;
    if (wsc_client_is_connected(a->client) && wsc_client_queued(a->client) == 0 &&
        wsc_client_buffered_amount(a->client) == 0) {
        app_progress_finish(a);
        a->waiting = 1;
        if (file_waits_for_reply(a)) {
            if (a->file_acked) app_finish(a, EXIT_OK);
            return;
        }
        if (a->o->wait_ms == WAIT_FOREVER) return;
        if (a->o->wait_ms == 0) wait_over(a);
        else wsc_timer_start(a->wait_timer, a->o->wait_ms);
        return;
    }
    wsc_timer_start(a->drain_timer, 10);
}

void app_input_done(app *a) {
    if (a->input_done) return;
    a->input_done = 1;
    if (a->interactive) app_finish(a, EXIT_OK);
    else check_drain(a);
}

static void on_drain_timer(wsc_loop *l, wsc_timer *t, void *user) {
    (void)l;
    (void)t;
    check_drain(user);
}

static void on_wait_timer(wsc_loop *l, wsc_timer *t, void *user) {
    (void)l;
    (void)t;
    wait_over(user);
}

/* ------------------------------------------------------------------ */
/* Client events                                                       */
/* ------------------------------------------------------------------ */

static void start_input(app *a);

static void on_open(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)ev;
    app *a = user;
    int first = !a->ever_opened;
    a->ever_opened = a->conn_open = 1;
    a->proto_error = 0;
    a->last_error[0] = 0;
    wsc_ws *ws = wsc_client_socket(c);
    if (ws) wsc_ws_add_listener(ws, WSC_WS_PONG, app_on_pong, a);
    if (ws && a->o->show_ping) {
        wsc_ws_add_listener(ws, WSC_WS_PING, app_on_ping, a);
        /* The first timed ping at once, then every --ping-interval. */
        if (a->show_ping_timer) wsc_timer_start(a->show_ping_timer, 0);
    }
    const char *proto = wsc_client_protocol(c), *ext = wsc_client_extensions(c);
    char details[400] = "";
    if (*proto || *ext) {
        char p[160], e[200];
        app_safe_text(p, sizeof p, proto);
        app_safe_text(e, sizeof e, ext);
        snprintf(details, sizeof details, " (%s%s%s%s%s)", *proto ? "protocol: " : "", p, *proto && *ext ? ", " : "",
                 *ext ? "extensions: " : "", e);
    }
    out_status(ST_GOOD, "connected%s%s", details, first && a->interactive ? "; type /help for commands" : "");
    if (!a->input_started) start_input(a); /* -L: held until the redirects are over */
    check_drain(a);
}

static void on_message(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    got_message(user, ev->data, ev->len, ev->binary, wsc_json_type(ev->view) != WSC_JSON_NONE);
}

/* A 3xx answer with a Location: followed with -L (from on_close, once this
   client is done), else named in the error. */
static void note_redirect(app *a, const wsc_ws_event *wev) {
    if (!wev || wev->http_status < 300 || wev->http_status > 399 || !wev->location) return;
    char loc[300];
    app_safe_text(loc, sizeof loc, wev->location);
    size_t l = strlen(a->last_error);
    if (!a->o->location) {
        snprintf(a->last_error + l, sizeof a->last_error - l, "; it redirects to %s (-L follows)", loc);
        return;
    }
    char why[200];
    free(a->redirect_url);
    a->redirect_url = redirect_target(a->cur_url, wev->location, why, sizeof why);
    if (!a->redirect_url) snprintf(a->last_error + l, sizeof a->last_error - l, "; %s: %s", why, loc);
}

static void on_error(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    app *a = user;
    if (ev->error == WSC_EJSON && ev->ws_event && ev->ws_event->type == WSC_WS_MESSAGE) {
        /* Text that is not JSON is shown as it is. */
        got_message(a, ev->data, ev->len, ev->binary, 0);
        return;
    }
    if ((ev->ws_event && ev->ws_event->type == WSC_WS_ERROR) || ev->error == WSC_ETIMEDOUT) {
        /* A connection failure: reported with the close that follows. */
        app_safe_text(a->last_error, sizeof a->last_error, ev->message);
        if (ev->error == WSC_EHTTP) {
            size_t l = strlen(a->last_error);
            snprintf(a->last_error + l, sizeof a->last_error - l, " (expected 101 Switching Protocols)");
            note_redirect(a, ev->ws_event);
        }
        if (a->conn_open && (ev->error == WSC_EPROTO || ev->error == WSC_EUTF8 || ev->error == WSC_ETOOBIG))
            a->proto_error = 1;
        return;
    }
    char msg[300];
    app_safe_text(msg, sizeof msg, ev->message);
    if (ev->error == WSC_ECLOSED && ev->count && !a->ever_opened) return; /* exit 1 says nothing was sent */
    if (ev->error == WSC_ECLOSED && ev->count) {
        /* Queued messages discarded (the client stopped for good): never
           hidden, even while exiting. */
        dr_discarded(msg, ev);
        return;
    }
    if (a->done || a->closing) return;
    app_report("%s", msg); /* token store problems */
}

static void closed_line(app *a, const wsc_client_event *ev, const char *extra) {
    (void)a;
    char reason[300];
    app_safe_text(reason, sizeof reason, ev->reason);
    out_status(ev->was_clean ? ST_INFO : ST_WARN, "closed: %u%s%s (%s)%s", ev->code, reason[0] ? " " : "", reason,
               ev->was_clean ? "clean" : "not clean", extra ? extra : "");
}

static void on_close(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    app *a = user;
    int opened = a->conn_open;
    a->conn_open = 0;
    a->user_pings = 0;
    if (a->done) return;
    const char *err = a->last_error[0] ? a->last_error : "connection failed";

    if (!opened && a->redirect_url && !a->closing) {
        /* -L: a new client for the new URL, made outside this callback. */
        wsc_timer_start(a->redirect_timer, 0);
        return;
    }
    dr_report_unconfirmed();
    if (opened && !(a->closing && g_count_reached)) {
        if (a->proto_error || is_protocol_code(ev->code)) note_sticky(a, ev, 1, err);
        else if (is_refusal_code(ev->code)) note_sticky(a, ev, 0, err);
        if (ev->was_clean && a->file_sent) a->file_acked = 1; /* the server closed after reading it */
    }
    if (a->closing) {
        /* The end we asked for. */
        if (g_count_reached) {
            if (opened) closed_line(a, ev, NULL);
        } else if (opened && (a->proto_error || is_protocol_code(ev->code))) {
            set_final(a, EXIT_PROTOCOL, "protocol error: %s", a->proto_error ? err : cli_close_name(ev->code));
        } else if (opened && ev->code == 1006 && !ev->was_clean) {
            set_final(a, EXIT_ABNORMAL, "the connection was lost before the closing handshake completed (1006)");
        } else if (opened) {
            closed_line(a, ev, NULL);
        }
        app_stop(a);
        return;
    }
    if (a->user_closed && !ev->will_reconnect) {
        /* /close: stay at the prompt. */
        closed_line(a, ev, "; /reconnect to connect again, Ctrl-D to quit");
        return;
    }
    if (ev->will_reconnect) {
        if (!a->ever_opened && !a->o->retry_connect && !a->o->max_attempts) {
            /* The first connection failed: that is an error, not a reason to
               retry (the seed's connect() throws); --retry-connect, or an
               explicit --max N, retries. */
            set_final(a, EXIT_CONNECT, "%s", err);
            app_stop(a);
            return;
        }
        if (opened) closed_line(a, ev, NULL);
        else out_status(ST_ERROR, "error: %s", err);
        char of[40] = "";
        if (a->o->max_attempts) snprintf(of, sizeof of, " of %u", a->o->max_attempts);
        out_status(ST_WARN, "reconnecting in %u ms (attempt %u%s)", ev->reconnect_delay_ms, ev->attempt, of);
        a->last_error[0] = 0;
        return;
    }
    /* Stopped for good (the maximum event may follow). */
    if (!opened) {
        set_final(a, EXIT_CONNECT, "%s", err);
    } else if (a->proto_error || is_protocol_code(ev->code)) {
        if (a->proto_error) set_final(a, EXIT_PROTOCOL, "protocol error: %s", err);
        else
            set_final(a, EXIT_PROTOCOL, "the server closed the connection with %u (%s)", ev->code,
                      cli_close_name(ev->code));
    } else if (ev->code == 1006) {
        set_final(a, EXIT_ABNORMAL, "connection lost (1006)%s%s", a->last_error[0] ? ": " : "", a->last_error);
    } else {
        closed_line(a, ev, NULL);
        a->exit_code = EXIT_OK;
    }
    app_stop(a);
}

static void on_maximum(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    app *a = user;
    char cause[300];
    app_safe_text(cause, sizeof cause, ev->cause_message);
    if (ev->cause == WSC_EHTTP && cause[0]) {
        size_t l = strlen(cause);
        snprintf(cause + l, sizeof cause - l, " (expected 101 Switching Protocols)");
    }
    set_final(a, EXIT_MAXIMUM, "giving up after %u failed attempt%s%s%s", ev->attempt, ev->attempt == 1 ? "" : "s",
              cause[0] ? ": " : "", cause);
    app_stop(a);
}

/* The token that status lines and errors must not show (output.h). */
static const char *token_of(void *user) {
    app *a = user;
    const char *t = a->client ? wsc_client_csrf(a->client) : NULL;
    return t ? t : a->o->token;
}

static void trace_hook(void *user, int outgoing, const char *head, size_t len) {
    (void)user;
    app *a = g_app;
    char *token = NULL;
    if (a && a->client) {
        const char *t = wsc_client_csrf(a->client);
        if (t) token = xstrdup(t);
    }
    if (!token && a && a->o->token) token = xstrdup(a->o->token);
    out_trace(outgoing, head, len, token, a && a->o->csrf_param ? a->o->csrf_param : "csrf");
    cli_free_secret(token);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

/* A client for url with the command's options. Toward another origin than
   the URL given (after -L), neither the token (--token, WSC_TOKEN), nor
   --auth, --cookie or -H Authorization/Cookie are sent: they belong to the
   first origin (the token store is looked up for the new one). */
static int make_client(app *a, const char *url, wsc_error *err) {
    const cli_opts *o = a->o;
    wsc_client_options co;
    cli_opts_client(o, &co);
    co.on_open = on_open;
    co.on_message = on_message;
    co.on_error = on_error;
    co.on_close = on_close;
    co.on_maximum = on_maximum;
    co.on_unconfirmed = dr_on_unconfirmed;
    co.on_resent = dr_on_resent;
    co.user = a;
    if (o->verbose) co.ws.trace = trace_hook;
    if (a->file_data) {
        /* Room for the whole file in the send buffer and in the queue. */
        size_t need = a->file_size + ((size_t)1 << 20);
        if (need > ((size_t)256 << 20)) co.ws.max_buffered = need;
        if (need > ((size_t)16 << 20)) co.queue_max_bytes = need;
    }
    if (!redirect_same_origin(url, o->url)) {
        co.token = NULL;
        co.ws.cookie = NULL;
        size_t n = 0;
        if (!a->headers_other) a->headers_other = xcalloc(o->nheaders + 1, sizeof *a->headers_other);
        for (size_t i = 0; i < o->nheaders; i++)
            if (strcasecmp(o->headers[i].name, "Authorization") && strcasecmp(o->headers[i].name, "Cookie"))
                a->headers_other[n++] = o->headers[i];
        co.ws.headers = n ? a->headers_other : NULL;
        co.ws.nheaders = n;
    }
    a->client = wsc_client_new(a->loop, url, &co, err);
    return a->client ? 0 : -1;
}

static void on_redirect(wsc_loop *l, wsc_timer *t, void *user) {
    (void)l;
    (void)t;
    app *a = user;
    char *url = a->redirect_url;
    a->redirect_url = NULL;
    if (!url || a->done) {
        free(url);
        return;
    }
    if (++a->redirects > REDIRECT_MAX) {
        set_final(a, EXIT_CONNECT, "%s; too many redirects (-L follows at most %d)", a->last_error, REDIRECT_MAX);
        free(url);
        app_stop(a);
        return;
    }
    char shown[300];
    app_safe_text(shown, sizeof shown, url);
    out_status(ST_INFO, "redirected to %s%s", shown,
               redirect_same_origin(url, a->o->url) ? "" : " (another origin: no token, no credentials)");
    size_t queued = wsc_client_queued(a->client);
    if (queued) {
        /* A reconnect that was redirected: the old client's queue goes with
           it (never silently). */
        app_report("%zu queued message%s not sent: dropped with the redirect", queued, queued == 1 ? "" : "s");
        dr_add_lost(queued);
    }
    wsc_client_free(a->client);
    a->client = NULL;
    a->last_error[0] = 0;
    wsc_error err;
    if (make_client(a, url, &err) != 0) {
        set_final(a, EXIT_CONNECT, "redirected to %s: %s", shown, err.message);
        free(url);
        app_stop(a);
        return;
    }
    free(a->cur_url);
    a->cur_url = url;
}

/* Hands -x, --file or stdin to the client: at once, or with -L once the
   first connection opened (what a 3xx answer's client queued would be lost
   with it). */
static void start_input(app *a) {
    const cli_opts *o = a->o;
    a->input_started = 1;
    if (a->execute) {
        for (size_t i = 0; i < o->nexecute; i++) {
            char where[32];
            snprintf(where, sizeof where, "-x %zu", i + 1);
            app_send(a, a->send_kind, o->execute[i], strlen(o->execute[i]), where);
        }
        if (a->file_data) {
            int sent = app_send(a, SEND_BINARY, (const char *)a->file_data, a->file_size, o->file) == 0;
            a->file_sent = sent;
            a->file_mark = a->received;
            free(a->file_data);
            a->file_data = NULL;
            if (sent) app_progress_start(a);
        }
        app_input_done(a);
    } else if (o->exec_cmd) {
        if (exec_start(a) != 0) app_finish(a, EXIT_CONNECT);
    } else if (!a->interactive) {
        app_input_start(a, STDIN_FILENO);
    }
}

static int client_run(cli_opts *o) {
    app A;
    memset(&A, 0, sizeof A);
    app *a = &A;
    a->o = o;
    a->sigfd = -1;
    a->exit_code = EXIT_OK;
    a->send_kind = o->json ? SEND_JSON : o->binary ? SEND_BINARY : SEND_TEXT;
    a->execute = o->nexecute || o->file;
    a->exec_in = a->exec_out = -1;
    a->interactive = !a->execute && !o->exec_cmd && isatty(STDIN_FILENO) && (isatty(STDOUT_FILENO) || isatty(STDERR_FILENO));
    g_app = a;
    out_set_secret_source(token_of, a);
    int rc = EXIT_OK;
    wsc_error err;

    if (o->file && app_read_file(a, o->file)) return EXIT_USAGE;
    a->loop = wsc_loop_new(&err);
    if (!a->loop) {
        cli_error("%s", err.message);
        free(a->file_data);
        return EXIT_CONNECT;
    }
    out_init(a->loop);

    a->cur_url = xstrdup(o->url);
    if (make_client(a, o->url, &err) != 0) {
        cli_error("%s", err.message);
        rc = err.code == WSC_EURL || err.code == WSC_EINVAL ? EXIT_USAGE : EXIT_CONNECT;
        goto out;
    }
    a->wait_timer = wsc_timer_new(a->loop, on_wait_timer, a, NULL);
    a->drain_timer = wsc_timer_new(a->loop, on_drain_timer, a, NULL);
    a->in_timer = wsc_timer_new(a->loop, app_on_in_timer, a, NULL);
    a->progress_timer = wsc_timer_new(a->loop, app_on_progress, a, NULL);
    a->redirect_timer = wsc_timer_new(a->loop, on_redirect, a, NULL);
    if (o->show_ping) a->show_ping_timer = wsc_timer_new(a->loop, app_on_show_ping_timer, a, NULL);
    if (!a->wait_timer || !a->drain_timer || !a->in_timer || !a->progress_timer || !a->redirect_timer) {
        cli_error("out of memory");
        rc = EXIT_CONNECT;
        goto out;
    }
    if (a->interactive) {
        a->term = term_new(a);
        if (!a->term) a->interactive = 0;
    }
    if (app_signals_start(a) != 0) {
        cli_error("cannot set up signal handling: %s", strerror(errno));
        rc = EXIT_CONNECT;
        goto out;
    }

    /* -L: the redirects first; --exec: the program starts once connected. */
    if (!o->location && !o->exec_cmd) start_input(a);

    if (wsc_loop_run(a->loop) != WSC_OK) {
        cli_error("the event loop failed");
        a->exit_code = EXIT_CONNECT;
    }
    rc = a->exit_code;
    app_stop_input(a);
    /* Waiting for the --exec program: SIGINT and SIGTERM act again. */
    if (a->exec_pid) app_signals_stop(a);
    exec_finish(a);
    dr_report_unconfirmed();
    uint64_t resent = dr_resent(), lost = dr_lost();
    if (resent)
        out_status(ST_INFO, "%llu message%s sent again after drops (possible duplicates at the server)",
                   (unsigned long long)resent, resent == 1 ? "" : "s");
    /* What happened earlier in the session and would otherwise hide behind
       a clean end (wsc(1) EXIT STATUS: 4, 7, 6, 9, 8 in this order). */
    if (rc == EXIT_OK && (a->sticky_proto || a->sticky_code)) {
        rc = a->sticky_proto ? EXIT_PROTOCOL : EXIT_REFUSED;
        snprintf(a->final_msg, sizeof a->final_msg, "%s", a->sticky_msg);
    }
    if (lost && rc == EXIT_OK) {
        rc = EXIT_LOST;
        snprintf(a->final_msg, sizeof a->final_msg, "%llu message%s may have been lost (see above)",
                 (unsigned long long)lost, lost == 1 ? "" : "s");
    }
    if (a->file_unacked && rc == EXIT_OK) {
        rc = EXIT_UNACKED;
        snprintf(a->final_msg, sizeof a->final_msg, "--file %s was not acknowledged by the server", o->file);
    }
    /* --exec: the program's failure is the session's, unless the connection
       failed (1, 3, 4, 5) or wsc was interrupted. */
    if (a->exec_status && rc != EXIT_CONNECT && rc != EXIT_MAXIMUM && rc != EXIT_PROTOCOL && rc != EXIT_ABNORMAL &&
        rc < 128) {
        rc = a->exec_status;
        a->final_msg[0] = 0;
    }
    if (a->skipped && rc == EXIT_OK) {
        rc = EXIT_SKIPPED;
        snprintf(a->final_msg, sizeof a->final_msg, "%llu %s not sent (see above)", a->skipped,
                 a->execute ? (a->skipped == 1 ? "message was" : "messages were")
                            : (a->skipped == 1 ? "input line was" : "input lines were"));
    }

out:
    app_progress_stop(a);
    term_free(a->term); /* the terminal back to normal before the last line */
    a->term = NULL;
    if (rc && a->final_msg[0]) cli_error("%s", a->final_msg);
    wsc_client_free(a->client);
    app_stop_input(a);
    app_signals_stop(a);
    wsc_timer_free(a->wait_timer);
    wsc_timer_free(a->drain_timer);
    wsc_timer_free(a->in_timer);
    wsc_timer_free(a->progress_timer);
    wsc_timer_free(a->redirect_timer);
    free(a->cur_url);
    free(a->redirect_url);
    free(a->headers_other);
    if (a->show_ping_timer) wsc_timer_free(a->show_ping_timer);
    out_done();
    if (out_flush() != 0 && rc == EXIT_OK && !a->closing) rc = EXIT_CONNECT;
    wsc_loop_free(a->loop);
    wsc_buf_free(&a->inbuf);
    free(a->file_data);
    dr_free();
    g_count_reached = 0;
    g_app = NULL;
    out_set_secret_source(NULL, NULL);
    return rc;
}

int wsc_cmd_client(int argc, char **argv) {
    cli_colors_init(0);
    cli_opts o;
    int rc = cli_opts_parse(&o, argc, argv);
    if (rc >= 0) {
        cli_opts_free(&o);
        return rc;
    }
    cli_colors_init(o.no_color);
    out_set_quiet(o.quiet);
    rc = o.echo ? cli_echo_run(&o) : client_run(&o);
    cli_opts_free(&o);
    return rc;
}
