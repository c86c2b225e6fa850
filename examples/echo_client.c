/* echo_client.c - the smallest useful wsc program: connect, send each
 * command-line argument as a text message, print every reply, close.
 *
 *   ./example_echo_client ws://127.0.0.1:9000/echo hello world
 *
 * Exit status 0 when every message came back and the close was clean.
 * (CC0: copy freely.) */
#include <stdio.h>
#include <string.h>

#include <wsc/loop.h>
#include <wsc/ws.h>

typedef struct {
    char **msgs;
    int n, next, echoed, ok;
} app;

static void on_open(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    app *a = user;
    (void)ev;
    printf("open (protocol '%s', extensions '%s')\n", wsc_ws_protocol(ws), wsc_ws_extensions(ws));
    for (; a->next < a->n; a->next++) wsc_ws_send_text(ws, a->msgs[a->next], strlen(a->msgs[a->next]));
    if (a->n == 0) wsc_ws_close(ws, 1000, "nothing to send");
}

static void on_message(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    app *a = user;
    printf("< %.*s\n", (int)ev->len, (const char *)ev->data);
    if (++a->echoed == a->n) wsc_ws_close(ws, 1000, "done");
}

static void on_error(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    (void)user;
    fprintf(stderr, "error: %s\n", ev->message);
}

static void on_close(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    app *a = user;
    (void)ws;
    printf("closed: code %u, reason '%s', %s\n", ev->code, ev->reason, ev->was_clean ? "clean" : "not clean");
    a->ok = ev->was_clean && a->echoed == a->n;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [MESSAGE...]\n", argv[0]);
        return 2;
    }
    app a = {argv + 2, argc - 2, 0, 0, 0};
    wsc_error err;
    wsc_loop *loop = wsc_loop_new(&err);
    if (!loop) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_ws_options o = {0};
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_close = on_close;
    o.user = &a;
    wsc_ws *ws = wsc_ws_new(loop, argv[1], &o, &err);
    if (!ws) {
        fprintf(stderr, "%s\n", err.message);
        wsc_loop_free(loop);
        return 1;
    }
    wsc_loop_run(loop);
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    return a.ok ? 0 : 1;
}
