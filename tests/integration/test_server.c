/* test_server.c - the server role (server.h) in this process, against Python
 * `websockets` and node `ws` clients run as child processes: echo with and
 * without permessage-deflate in both directions, large messages,
 * subprotocols, closes from either side, the accept hook (403), pings,
 * TLS and Unix sockets. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "wsc/loop.h"
#include "wsc/server.h"

typedef struct {
    int opens, closes, messages, pongs, errors;
    unsigned last_code;
    int last_clean;
    char extensions[200];
    char protocol[64];
    int refuse;       /* accept hook answers this status */
    char last_cookie[200];
} srec;

static void on_srv(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s;
    srec *r = user;
    switch (ev->type) {
    case WSC_SRV_OPEN:
        r->opens++;
        snprintf(r->extensions, sizeof r->extensions, "%s", wsc_sconn_extensions(c));
        snprintf(r->protocol, sizeof r->protocol, "%s", wsc_sconn_protocol(c));
        break;
    case WSC_SRV_MESSAGE:
        r->messages++;
        if (!ev->binary && ev->len == 8 && memcmp(ev->data, "close-me", 8) == 0) {
            wsc_sconn_close(c, 4002, "bye");
        } else if (!ev->binary && ev->len == 7 && memcmp(ev->data, "ping-me", 7) == 0) {
            wsc_sconn_ping(c, "srv", 3);
            wsc_sconn_send_text(c, "pinged", 6);
        } else if (ev->binary) {
            wsc_sconn_send_binary(c, ev->data, ev->len);
        } else {
            wsc_sconn_send_text(c, (const char *)ev->data, ev->len);
        }
        break;
    case WSC_SRV_CLOSE:
        r->closes++;
        r->last_code = ev->code;
        r->last_clean = ev->was_clean;
        break;
    case WSC_SRV_PONG: r->pongs++; break;
    case WSC_SRV_ERROR: r->errors++; break;
    }
}

static int on_accept(wsc_server *s, wsc_sconn *c, const wsc_server_request *req, void *user, char *reason,
                     size_t cap) {
    (void)s, (void)c;
    srec *r = user;
    snprintf(r->last_cookie, sizeof r->last_cookie, "%s", req->cookie);
    if (r->refuse) {
        snprintf(reason, cap, "not you");
        return r->refuse;
    }
    return 0;
}

typedef struct {
    wsc_loop *loop;
    wsc_server *srv;
    srec rec;
    char url[200];
} env;

static env *start(const wsc_server_options *extra) {
    env *e = calloc(1, sizeof *e);
    e->loop = wsc_loop_new(NULL);
    wsc_server_options o = extra ? *extra : (wsc_server_options){0};
    const char *protos[] = {"chat", "superchat", NULL};
    if (!o.protocols) o.protocols = protos;
    o.on_open = o.on_message = o.on_close = o.on_pong = o.on_error = on_srv;
    o.on_accept = on_accept;
    o.user = &e->rec;
    wsc_error err;
    e->srv = wsc_server_new(e->loop, &o, &err);
    assert_non_null(e->srv);
    snprintf(e->url, sizeof e->url, "%s://127.0.0.1:%u", o.tls_cert ? "wss" : "ws", wsc_server_port(e->srv));
    return e;
}

static void stop(env *e) {
    wsc_server_free(e->srv);
    wsc_loop_free(e->loop);
    free(e);
}

/* Runs a client process to completion while the server's loop runs;
   returns its exit status. */
static int run_client(env *e, char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        if (!getenv("WSC_TEST_VERBOSE")) {
            int dn = open("/dev/null", O_WRONLY);
            dup2(dn, 1);
            dup2(dn, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            /* let the server notice the end of the connection */
            for (int i = 0; i < 10; i++) wsc_loop_run_once(e->loop, 10);
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        wsc_loop_run_once(e->loop, 10);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 30) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return -2;
        }
    }
}

/* argv for "py" or "node" with the given URL and up to 12 arguments. */
static char **client(const char *kind, const char *url, const char *a0, const char *a1, const char *a2,
                     const char *a3, const char *a4, const char *a5) {
    static char *argv[24];
    int i = 0;
    if (!strcmp(kind, "py")) {
        argv[i++] = (char *)tu_python();
        argv[i++] = (char *)tu_peer_script("py_client.py");
    } else {
        argv[i++] = (char *)tu_node();
        argv[i++] = (char *)tu_peer_script("node_client.js");
    }
    argv[i++] = (char *)url;
    const char *rest[] = {a0, a1, a2, a3, a4, a5};
    for (int k = 0; k < 6 && rest[k]; k++) argv[i++] = (char *)rest[k];
    argv[i] = NULL;
    return argv;
}

static const char *kinds[] = {"py", "node"};

static void test_echo_deflate_both_ways(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        env *e = start(NULL);
        char url[256];
        snprintf(url, sizeof url, "%s/echo", e->url);
        /* compressed both ways (the clients offer deflate; node compresses everything) */
        char **argv = client(kinds[k], url, "--send", "hello κόσμε", "--expect", "hello κόσμε", NULL, NULL);
        assert_int_equal(run_client(e, argv), 0);
        assert_int_equal(strncmp(e->rec.extensions, "permessage-deflate", 18), 0);
        assert_int_equal(e->rec.last_code, 1000);
        assert_int_equal(e->rec.last_clean, 1);
        stop(e);
        /* 1 MiB binary, compressed */
        e = start(NULL);
        snprintf(url, sizeof url, "%s/echo", e->url);
        argv = client(kinds[k], url, "--send-pattern", "1048576", "--expect-pattern", "1048576", NULL, NULL);
        assert_int_equal(run_client(e, argv), 0);
        stop(e);
        /* no deflate */
        e = start(NULL);
        snprintf(url, sizeof url, "%s/echo", e->url);
        argv = client(kinds[k], url, "--no-deflate", "--send-binary", "00ff10", "--expect-binary", "00ff10", NULL);
        assert_int_equal(run_client(e, argv), 0);
        assert_string_equal(e->rec.extensions, "");
        stop(e);
        /* a server that does not accept deflate */
        wsc_server_options o = {0};
        o.no_deflate = 1;
        e = start(&o);
        snprintf(url, sizeof url, "%s/echo", e->url);
        argv = client(kinds[k], url, "--send", "plain", "--expect", "plain", "--expect-extensions", "");
        assert_int_equal(run_client(e, argv), 0);
        stop(e);
    }
}

static void test_subprotocol_and_closes(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        env *e = start(NULL);
        char url[256];
        snprintf(url, sizeof url, "%s/x", e->url);
        char **argv = client(kinds[k], url, "--protocol", "superchat", "--protocol", "chat", "--expect-protocol",
                             "superchat");
        assert_int_equal(run_client(e, argv), 0);
        assert_string_equal(e->rec.protocol, "superchat");
        /* the server closes with 4002 "bye" */
        argv = client(kinds[k], url, "--send", "close-me", "--expect-close", "4002:bye", NULL, NULL);
        assert_int_equal(run_client(e, argv), 0);
        /* the client closes with 3001 */
        argv = client(kinds[k], url, "--send", "x", "--expect", "x", "--close", "3001:later");
        assert_int_equal(run_client(e, argv), 0);
        assert_int_equal(e->rec.last_code, 3001);
        assert_int_equal(e->rec.last_clean, 1);
        /* server ping, client pong */
        argv = client(kinds[k], url, "--send", "ping-me", "--expect", "pinged", NULL, NULL);
        assert_int_equal(run_client(e, argv), 0);
        assert_true(e->rec.pongs >= 1);
        /* client ping, server pong */
        argv = client(kinds[k], url, "--ping", "hi", NULL, NULL, NULL, NULL);
        assert_int_equal(run_client(e, argv), 0);
        stop(e);
    }
}

static void test_accept_hook(void **state) {
    (void)state;
    for (int k = 0; k < 2; k++) {
        env *e = start(NULL);
        e->rec.refuse = 403;
        char url[256];
        snprintf(url, sizeof url, "%s/secret", e->url);
        char **argv = client(kinds[k], url, "--cookie", "csrf_token=abc", "--expect-status", "403", NULL, NULL);
        assert_int_equal(run_client(e, argv), 0);
        assert_string_equal(e->rec.last_cookie, "csrf_token=abc");
        assert_int_equal(e->rec.opens, 0);
        stop(e);
    }
}

static void test_tls_and_unix(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char cmd[700], cert[600], key[600], ca[600], sock[600];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s'", tu_peer_script("mkcerts.sh"), dir);
    assert_int_equal(tu_system(cmd), 0);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    for (int k = 0; k < 2; k++) {
        wsc_server_options o = {0};
        o.tls_cert = cert;
        o.tls_key = key;
        env *e = start(&o);
        char url[256];
        snprintf(url, sizeof url, "wss://localhost:%u/x", wsc_server_port(e->srv));
        char **argv = client(kinds[k], url, "--cafile", ca, "--send", "secure", "--expect", "secure");
        assert_int_equal(run_client(e, argv), 0);
        stop(e);
        /* Unix-domain socket */
        snprintf(sock, sizeof sock, "%s/srv.sock", dir);
        memset(&o, 0, sizeof o);
        o.unix_path = sock;
        e = start(&o);
        argv = client(kinds[k], "ws://localhost/x", "--unix", sock, "--send", "local", "--expect", "local");
        assert_int_equal(run_client(e, argv), 0);
        stop(e);
    }
    tu_rmtree(dir);
    free(dir);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_deflate_both_ways),
        cmocka_unit_test(test_subprotocol_and_closes),
        cmocka_unit_test(test_accept_hook),
        cmocka_unit_test(test_tls_and_unix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
