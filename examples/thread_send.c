/* thread_send.c - sending from a worker thread. A connection belongs to its
 * loop's thread; other threads hand work over with wsc_loop_post(), the one
 * thread-safe call (it wakes the loop through an eventfd).
 *
 *   ./example_thread_send ws://127.0.0.1:8080/echo 1000
 *
 * A worker produces N messages; the loop thread sends them and counts the
 * echoes. Exit 0 when all N came back in order. (CC0: copy freely.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wsc/loop.h>
#include <wsc/ws.h>

typedef struct {
    wsc_loop *loop;
    wsc_ws *ws;
    int n, echoed, in_order;
} app;

typedef struct {
    app *a;
    char text[32];
} job;

static void send_job(wsc_loop *loop, void *user) { /* runs on the loop thread */
    (void)loop;
    job *j = user;
    wsc_ws_send_text(j->a->ws, j->text, strlen(j->text));
    free(j);
}

static void *worker(void *arg) {
    app *a = arg;
    for (int i = 0; i < a->n; i++) {
        job *j = malloc(sizeof *j);
        j->a = a;
        snprintf(j->text, sizeof j->text, "msg %d", i);
        wsc_loop_post(a->loop, send_job, j);
    }
    return NULL;
}

static void on_event(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    app *a = user;
    if (ev->type == WSC_WS_OPEN) {
        pthread_t t;
        pthread_create(&t, NULL, worker, a);
        pthread_detach(t);
    } else if (ev->type == WSC_WS_MESSAGE) {
        char want[32];
        snprintf(want, sizeof want, "msg %d", a->echoed);
        if (ev->len != strlen(want) || memcmp(ev->data, want, ev->len)) a->in_order = 0;
        if (++a->echoed == a->n) wsc_ws_close(ws, 1000, NULL);
    } else if (ev->type == WSC_WS_ERROR) {
        fprintf(stderr, "error: %s\n", ev->message);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s URL COUNT\n", argv[0]);
        return 2;
    }
    app a = {wsc_loop_new(NULL), NULL, atoi(argv[2]), 0, 1};
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = on_event;
    o.user = &a;
    a.ws = wsc_ws_new(a.loop, argv[1], &o, NULL);
    if (!a.ws || a.n <= 0) return 1;
    wsc_loop_run(a.loop);
    printf("%d of %d echoed%s\n", a.echoed, a.n, a.in_order ? ", in order" : ", OUT OF ORDER");
    wsc_ws_free(a.ws);
    wsc_loop_free(a.loop);
    return a.echoed == a.n && a.in_order ? 0 : 1;
}
