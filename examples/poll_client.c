/* poll_client.c - wsc inside a program's own poll() loop (the foreign-loop
 * API: the same three calls integrate wsc with libuv, libev, libevent or
 * GLib). The program also watches stdin: each line typed is sent.
 *
 *   printf 'one\ntwo\n' | ./example_poll_client ws://127.0.0.1:8080/echo
 *
 * The rules: poll wsc_loop_fd() for input, wait at most
 * wsc_loop_next_timeout() ms (ask again before every poll: it is 0 when
 * wsc has work queued, e.g. after a send), then call wsc_loop_process().
 * (CC0: copy freely.) */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <wsc/loop.h>
#include <wsc/ws.h>

static int open_, closed, sent, echoed, stdin_done;

static void on_event(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws, (void)user;
    if (ev->type == WSC_WS_OPEN) open_ = 1;
    if (ev->type == WSC_WS_MESSAGE) {
        printf("echo: %.*s\n", (int)ev->len, (const char *)ev->data);
        echoed++;
    }
    if (ev->type == WSC_WS_ERROR) fprintf(stderr, "error: %s\n", ev->message);
    if (ev->type == WSC_WS_CLOSE) closed = 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL < lines\n", argv[0]);
        return 2;
    }
    wsc_loop *loop = wsc_loop_new(NULL);
    if (loop && wsc_loop_fd(loop) < 0) {
        /* The poll backend (e.g. WSC_LOOP_BACKEND=poll) has no single
           descriptor to offer: this API needs epoll. */
        wsc_loop_free(loop);
        wsc_error err;
        loop = wsc_loop_new_backend("epoll", &err);
        if (!loop) fprintf(stderr, "%s\n", err.message);
    }
    if (!loop) return 1;
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_event;
    wsc_ws *ws = wsc_ws_new(loop, argv[1], &o, NULL);
    if (!ws) return 1;
    char line[4096];
    size_t have = 0;
    while (!closed) {
        struct pollfd p[2] = {{wsc_loop_fd(loop), POLLIN, 0}, {0, POLLIN, 0}};
        int n = open_ && !stdin_done ? 2 : 1; /* read stdin once the connection is open */
        if (poll(p, (nfds_t)n, wsc_loop_next_timeout(loop)) < 0) break;
        if (n == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t r = read(0, line + have, sizeof line - 1 - have);
            if (r <= 0) stdin_done = 1;
            else have += (size_t)r;
            char *nl;
            while ((nl = memchr(line, '\n', have))) { /* one message per line */
                wsc_ws_send_text(ws, line, (size_t)(nl - line));
                sent++;
                have -= (size_t)(nl + 1 - line);
                memmove(line, nl + 1, have);
            }
        }
        wsc_loop_process(loop); /* never blocks */
        /* Decide after processing, before the next poll() (a close queues
           work, so wsc_loop_next_timeout() then says 0). */
        if (stdin_done && echoed == sent && wsc_ws_ready_state(ws) == WSC_OPEN) wsc_ws_close(ws, 1000, "done");
    }
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    return echoed == sent && sent > 0 ? 0 : 1;
}
