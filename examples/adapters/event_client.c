/* event_client.c - wsc on a libevent event_base through
 * <wsc/adapters/libevent.h>: sends each line of stdin (read with libevent
 * too) and prints the echoes; closes once stdin ends and every line came back.
 *
 *   printf 'one\ntwo\n' | ./example_event_client ws://127.0.0.1:8080/echo
 *
 * (CC0: copy freely.) */
#define _POSIX_C_SOURCE 200809L /* read() and ssize_t under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <wsc/adapters/libevent.h>
#include <wsc/ws.h>

static wsc_ws *ws;
static struct event_base *base;
static struct event *in;
static int sent, echoed, stdin_done, open_;

static void maybe_close(void) {
    if (stdin_done && open_ && echoed == sent) wsc_ws_close(ws, 1000, "done");
}

static void on_event(wsc_ws *w, const wsc_ws_event *ev, void *user) {
    (void)w, (void)user;
    if (ev->type == WSC_WS_OPEN) { /* sends need an open connection (the browser's rule) */
        open_ = 1;
        event_add(in, NULL);
    }
    if (ev->type == WSC_WS_MESSAGE) {
        printf("echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        echoed++;
    }
    if (ev->type == WSC_WS_ERROR) fprintf(stderr, "error: %s\n", ev->message);
    if (ev->type == WSC_WS_CLOSE) {
        event_del(in);
        /* wsc's wake-up event stays pending (libevent has no unreferenced
           events), so the dispatch would not return by itself */
        event_base_loopbreak(base);
    }
    maybe_close();
}

static void on_stdin(evutil_socket_t fd, short what, void *arg) {
    (void)what, (void)arg;
    char buf[4096];
    ssize_t n = read((int)fd, buf, sizeof buf);
    if (n <= 0) { /* EOF (or an error: the same for a demo) */
        event_del(in);
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
    base = event_base_new();
    if (!base) {
        fprintf(stderr, "event_base_new failed\n");
        return 1;
    }
    wsc_error err;
    wsc_event *a = wsc_event_new(base, &err);
    if (!a) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_event;
    ws = wsc_ws_new(wsc_event_loop(a), argv[1], &o, &err);
    if (!ws) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    /* stdin must be pollable (a pipe or a terminal): libevent's epoll
       backend refuses regular files */
    in = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, NULL);
    if (!in) {
        fprintf(stderr, "event_new failed\n");
        return 1;
    }
    event_base_dispatch(base); /* until the connection has closed */
    int ok = echoed == sent && sent > 0;
    wsc_ws_free(ws);
    wsc_event_free(a);
    event_free(in);
    event_base_free(base);
    return ok ? 0 : 1;
}
