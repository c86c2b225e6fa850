/* json_client.c - the seed's example, in C: a reconnecting JSON client with
 * the CSRF double token (client.h).
 *
 *   var ws = new Perl.WebSocket("wss://...", { max: 7, timeout: 5000, ... });
 *   ws.send("some raw data");
 *   ws.json("some message");
 *
 *   ./example_json_client ws://127.0.0.1:8080/feed [TOKEN]
 *
 * Every message arrives already parsed as JSON; the token (from the argument,
 * else from the local store) travels as a cookie, as the csrf query
 * parameter and as the csrf property of every JSON message. Stops after the
 * first echo of the JSON message. (CC0: copy freely.) */
#include <stdio.h>
#include <stdlib.h>

#include <wsc/client.h>

static void on_open(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)ev, (void)user;
    printf("WebSocket is open now.\n");
    wsc_client_send_text(c, "\"some raw data\"", 15); /* ws.send(): any text */
    json_t *msg = json_pack("{s:s}", "message", "some message");
    wsc_client_send_json(c, msg);                      /* ws.json(): token added */
    json_decref(msg);
}

static void on_message(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)user;
    char *s = json_dumps(ev->json, JSON_INDENT(4) | JSON_ENCODE_ANY);
    printf("WebSocket message received: %s\n", s);
    free(s);
    if (json_is_object(ev->json)) wsc_client_close(c, 1000, "done");
}

static void on_error(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)user;
    printf("WebSocket error observed: %s\n", ev->message);
}

static void on_reconnect(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)user;
    printf("Attempting to reconnect to WebSocket server (attempt %u).\n", ev->attempt);
}

static void on_maximum(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c, (void)ev, (void)user;
    printf("Reached maximum retry to connect to the WebSocket server.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [TOKEN]\n", argv[0]);
        return 2;
    }
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_client_options o = {0};
    o.max_attempts = 7;    /* max: 7 */
    o.timeout_ms = 500;    /* timeout (the seed's example uses 5000) */
    o.token = argc > 2 ? argv[2] : NULL;
    o.on_open = on_open;
    o.on_message = on_message;
    o.on_error = on_error;
    o.on_reconnect = on_reconnect;
    o.on_maximum = on_maximum;
    wsc_error err;
    wsc_client *c = wsc_client_new(loop, argv[1], &o, &err);
    if (!c) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    wsc_loop_run(loop);
    int ok = wsc_client_is_closed(c);
    wsc_client_free(c);
    wsc_loop_free(loop);
    return ok ? 0 : 1;
}
