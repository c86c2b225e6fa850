/* tls_client.c - wss:// with certificate verification against a given CA
 * (the system store is the default; a CA file is what private PKIs use).
 *
 *   ./example_tls_client wss://localhost:8443/echo ca.pem "hello over TLS"
 *
 * Prints the echo and exits 0; on a verification failure prints why
 * ("certificate verification failed for 'localhost': ...") and exits 1.
 * (CC0: copy freely.) */
#include <stdio.h>
#include <string.h>

#include <wsc/loop.h>
#include <wsc/ws.h>

static const char *message;
static int ok;

static void on_open(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ev, (void)user;
    wsc_ws_send_text(ws, message, strlen(message));
}

static void on_message(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)user;
    printf("%.*s\n", (int)ev->len, (const char *)ev->data);
    ok = ev->len == strlen(message) && memcmp(ev->data, message, ev->len) == 0;
    wsc_ws_close(ws, 1000, NULL);
}

static void on_error(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws, (void)user;
    fprintf(stderr, "error: %s\n", ev->message);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s wss://HOST:PORT/PATH CA.pem MESSAGE\n", argv[0]);
        return 2;
    }
    message = argv[3];
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_ws_options o = {0};
    o.ca_file = argv[2]; /* verification stays on: chain and host name */
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    wsc_error err;
    wsc_ws *ws = wsc_ws_new(loop, argv[1], &o, &err);
    if (!ws) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_loop_run(loop);
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    return ok ? 0 : 1;
}
