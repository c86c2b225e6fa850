/* ev_client.c - wsc on a libev loop through <wsc/adapters/libev.h>: sends
 * each line of stdin (read with libev too) and prints the echoes; closes
 * once stdin ends and every line came back.
 *
 *   printf 'one\ntwo\n' | ./example_ev_client ws://127.0.0.1:8080/echo
 *
 * (CC0: copy freely.) */
#define _POSIX_C_SOURCE 200809L /* read() and ssize_t under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <wsc/adapters/libev.h>
#include <wsc/ws.h>

static wsc_ws *ws;
static struct ev_loop *loop;
static ev_io in;
static int sent, echoed, stdin_done, open_;

static void maybe_close(void) {
    if (stdin_done && open_ && echoed == sent) wsc_ws_close(ws, 1000, "done");
}

static void on_event(wsc_ws *w, const wsc_ws_event *ev, void *user) {
    (void)w, (void)user;
    if (ev->type == WSC_WS_OPEN) { /* sends need an open connection (the browser's rule) */
        open_ = 1;
        ev_io_start(loop, &in);
    }
    if (ev->type == WSC_WS_MESSAGE) {
        printf("echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        echoed++;
    }
    if (ev->type == WSC_WS_ERROR) fprintf(stderr, "error: %s\n", ev->message);
    if (ev->type == WSC_WS_CLOSE) ev_io_stop(loop, &in); /* nothing left: ev_run returns */
    maybe_close();
}

static void on_stdin(struct ev_loop *l, ev_io *w, int revents) {
    (void)revents;
    char buf[4096];
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n <= 0) { /* EOF (or an error: the same for a demo) */
        ev_io_stop(l, w);
        stdin_done = 1;
        maybe_close();
        return;
    }
    /* one message per line (a line split across reads is sent in parts: fine for a demo) */
    for (char *p = buf, *end = buf + n; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len && wsc_ws_send_text(ws, p, len) == WSC_OK) sent++;
        p += len + (nl != NULL);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL < lines\n", argv[0]);
        return 2;
    }
    loop = EV_DEFAULT;
    wsc_error err;
    wsc_ev *a = wsc_ev_new(loop, &err);
    if (!a) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_event;
    ws = wsc_ws_new(wsc_ev_loop(a), argv[1], &o, &err);
    if (!ws) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ev_io_init(&in, on_stdin, STDIN_FILENO, EV_READ);
    ev_run(loop, 0); /* until the connection has closed */
    int ok = echoed == sent && sent > 0;
    wsc_ws_free(ws);
    wsc_ev_free(a);
    ev_loop_destroy(loop);
    return ok ? 0 : 1;
}
