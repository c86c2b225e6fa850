/* consumer.c - a program that uses an installed wsc the way a newcomer
 * would: the seed's reconnecting JSON client sends one JSON message to an
 * echo server, checks that it comes back parsed, and closes.
 *
 *   cc consumer.c $(pkg-config --cflags --libs wsc) -o consumer
 *   ./consumer ws://127.0.0.1:PORT/
 *
 * Exit status 0 when the echo arrived intact and the close was clean. */
#include <stdio.h>
#include <string.h>

#include <wsc/client.h>
#include <wsc/wsc.h>

typedef struct {
    int echoed, closed_clean;
} state;

static void on_open(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)ev;
    (void)user;
    json_t *msg = json_pack("{s:s, s:i}", "op", "hello", "n", 42);
    if (!msg || wsc_client_send_json(c, msg) != WSC_OK) fprintf(stderr, "consumer: send failed\n");
    json_decref(msg);
}

static void on_message(wsc_client *c, const wsc_client_event *ev, void *user) {
    state *st = user;
    json_t *n = ev->json ? json_object_get(ev->json, "n") : NULL;
    const char *op = ev->json ? json_string_value(json_object_get(ev->json, "op")) : NULL;
    if (n && json_integer_value(n) == 42 && op && strcmp(op, "hello") == 0) st->echoed = 1;
    wsc_client_close(c, 1000, "done");
}

static void on_error(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    (void)user;
    fprintf(stderr, "consumer: error: %s\n", ev->message ? ev->message : wsc_strerror(ev->error));
}

static void on_close(wsc_client *c, const wsc_client_event *ev, void *user) {
    state *st = user;
    (void)c;
    st->closed_clean = ev->was_clean && ev->code == 1000;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    printf("consumer: built against wsc %s, running with %s\n", WSC_VERSION_STRING, wsc_version());
    wsc_error err;
    wsc_loop *loop = wsc_loop_new(&err);
    if (!loop) {
        fprintf(stderr, "consumer: %s\n", err.message);
        return 1;
    }
    state st = {0, 0};
    wsc_client_options o = {0};
    o.no_store = 1;      /* no token store file for a test */
    o.no_reconnect = 1;  /* one connection: the test wants a verdict */
    o.no_heartbeat = 1;
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_close = on_close;
    o.user = &st;
    wsc_client *c = wsc_client_new(loop, argv[1], &o, &err);
    if (!c) {
        fprintf(stderr, "consumer: %s\n", err.message);
        wsc_loop_free(loop);
        return 1;
    }
    wsc_loop_run(loop);
    wsc_client_free(c);
    wsc_loop_free(loop);
    printf("consumer: echo %s, close %s\n", st.echoed ? "ok" : "MISSING", st.closed_clean ? "clean" : "NOT clean");
    return st.echoed && st.closed_clean ? 0 : 1;
}
