/* glib_client.c - wsc on a GLib main loop through <wsc/adapters/glib.h>:
 * sends each line of stdin (read with GLib too) and prints the echoes;
 * closes once stdin ends and every line came back.
 *
 *   printf 'one\ntwo\n' | ./example_glib_client ws://127.0.0.1:8080/echo
 *
 * (CC0: copy freely.) */
#define _POSIX_C_SOURCE 200809L /* read() and ssize_t under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <wsc/adapters/glib.h>
#include <wsc/ws.h>

static wsc_ws *ws;
static GMainLoop *main_loop;
static guint in; /* the stdin source's id; 0: none */
static int sent, echoed, stdin_done, open_;

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer user);

static void maybe_close(void) {
    if (stdin_done && open_ && echoed == sent) wsc_ws_close(ws, 1000, "done");
}

static void on_event(wsc_ws *w, const wsc_ws_event *ev, void *user) {
    (void)w, (void)user;
    if (ev->type == WSC_WS_OPEN) { /* sends need an open connection (the browser's rule) */
        open_ = 1;
        in = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP, on_stdin, NULL);
    }
    if (ev->type == WSC_WS_MESSAGE) {
        printf("echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        echoed++;
    }
    if (ev->type == WSC_WS_ERROR) fprintf(stderr, "error: %s\n", ev->message);
    if (ev->type == WSC_WS_CLOSE) {
        if (in) g_source_remove(in);
        in = 0;
        /* the adapter's source stays attached until wsc_glib_free(), so
           the main loop would not end by itself */
        g_main_loop_quit(main_loop);
    }
    maybe_close();
}

static gboolean on_stdin(gint fd, GIOCondition cond, gpointer user) {
    (void)cond, (void)user;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) { /* EOF (or an error: the same for a demo) */
        in = 0; /* returning G_SOURCE_REMOVE destroys the source */
        stdin_done = 1;
        maybe_close();
        return G_SOURCE_REMOVE;
    }
    /* one message per line (a line split across reads is sent in parts: fine for a demo) */
    for (char *p = buf, *end = buf + n; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (len && wsc_ws_send_text(ws, p, len) == WSC_OK) sent++;
        p += len + (nl != NULL);
    }
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL < lines\n", argv[0]);
        return 2;
    }
    main_loop = g_main_loop_new(NULL, FALSE);
    wsc_error err;
    wsc_glib *a = wsc_glib_new(NULL, &err); /* on the default context, as main_loop */
    if (!a) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_event;
    ws = wsc_ws_new(wsc_glib_loop(a), argv[1], &o, &err);
    if (!ws) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    g_main_loop_run(main_loop); /* until the connection has closed */
    int ok = echoed == sent && sent > 0;
    wsc_ws_free(ws);
    wsc_glib_free(a);
    g_main_loop_unref(main_loop);
    return ok ? 0 : 1;
}
