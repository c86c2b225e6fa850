/* uv_client.c - wsc on a libuv loop through <wsc/adapters/libuv.h>: sends
 * each line of stdin (read with libuv too) and prints the echoes; closes
 * once stdin ends and every line came back.
 *
 *   printf 'one\ntwo\n' | ./example_uv_client ws://127.0.0.1:8080/echo
 *
 * (CC0: copy freely.) */
#define _POSIX_C_SOURCE 200809L /* uv.h needs POSIX types (pthread_rwlock_t) under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#include <wsc/adapters/libuv.h>
#include <wsc/ws.h>

static wsc_ws *ws;
static uv_pipe_t in;
static int sent, echoed, stdin_done, open_;

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void maybe_close(void) {
    if (stdin_done && open_ && echoed == sent) wsc_ws_close(ws, 1000, "done");
}

static void on_event(wsc_ws *w, const wsc_ws_event *ev, void *user) {
    (void)w, (void)user;
    if (ev->type == WSC_WS_OPEN) { /* sends need an open connection (the browser's rule) */
        open_ = 1;
        uv_read_start((uv_stream_t *)&in, on_alloc, on_read);
    }
    if (ev->type == WSC_WS_MESSAGE) {
        printf("echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        echoed++;
    }
    if (ev->type == WSC_WS_ERROR) fprintf(stderr, "error: %s\n", ev->message);
    if (ev->type == WSC_WS_CLOSE) uv_close((uv_handle_t *)&in, NULL); /* nothing left: uv_run returns */
    maybe_close();
}

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf) {
    (void)h;
    static char mem[4096];
    *buf = uv_buf_init(mem, want < sizeof mem ? (unsigned)want : sizeof mem);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    if (n < 0) { /* EOF */
        uv_read_stop(s);
        stdin_done = 1;
        maybe_close();
        return;
    }
    /* one message per line (a line split across reads is sent in parts: fine for a demo) */
    for (char *p = buf->base, *end = buf->base + n; p < end;) {
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
    uv_loop_t *uv = uv_default_loop();
    wsc_error err;
    wsc_uv *a = wsc_uv_new(uv, &err);
    if (!a) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_event;
    ws = wsc_ws_new(wsc_uv_loop(a), argv[1], &o, &err);
    if (!ws) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    uv_pipe_init(uv, &in, 0);
    uv_pipe_open(&in, 0);
    uv_run(uv, UV_RUN_DEFAULT); /* until the connection has closed */
    int ok = echoed == sent && sent > 0;
    wsc_ws_free(ws);
    wsc_uv_free(a);
    uv_run(uv, UV_RUN_DEFAULT); /* let the handles close */
    uv_loop_close(uv);
    return ok ? 0 : 1;
}
