/* test_examples.c - every program in examples/ is built and run here against
 * real servers on 127.0.0.1 (the libwebsockets minimal-examples idea). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

static char out[65536];

/* Runs a shell command line, capturing stdout; returns the exit status. */
static int run(const char *cmd) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *bin(const char *name) {
    static char b[4][600];
    static int k;
    char *s = b[k++ % 4];
    const char *d = getenv("WSC_BUILD_DIR");
    snprintf(s, 600, "%s/example_%s", d && *d ? d : ".", name);
    return s;
}

typedef struct {
    tu_peer plain, tls;
    char *dir;
} env;

static int setup(void **state) {
    env *e = calloc(1, sizeof *e);
    e->dir = tu_tmpdir();
    char cmd[800];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s'", tu_peer_script("mkcerts.sh"), e->dir);
    if (tu_system(cmd) != 0) return -1;
    char *a1[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--port", "0", "--lifetime", "120", NULL};
    if (tu_peer_start(&e->plain, a1)) return -1;
    char cert[600], key[600];
    snprintf(cert, sizeof cert, "%s/server.pem", e->dir);
    snprintf(key, sizeof key, "%s/server.key", e->dir);
    char *a2[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--port", "0", "--tls-cert", cert,
                  "--tls-key", key, "--lifetime", "120", NULL};
    if (tu_peer_start(&e->tls, a2)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env *e = *state;
    tu_peer_stop(&e->plain);
    tu_peer_stop(&e->tls);
    tu_rmtree(e->dir);
    free(e->dir);
    free(e);
    return 0;
}

static void test_echo_client(void **state) {
    env *e = *state;
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "'%s' ws://127.0.0.1:%d/echo hello world", bin("echo_client"), e->plain.port);
    assert_int_equal(run(cmd), 0);
    assert_non_null(strstr(out, "< hello\n< world\n"));
    assert_non_null(strstr(out, "closed: code 1000, reason 'done', clean"));
}

static void test_tls_client(void **state) {
    env *e = *state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' wss://localhost:%d/echo '%s/ca.pem' 'hello over TLS'", bin("tls_client"),
             e->tls.port, e->dir);
    assert_int_equal(run(cmd), 0);
    assert_string_equal(out, "hello over TLS\n");
    /* the wrong CA: refused, in words */
    snprintf(cmd, sizeof cmd, "'%s' wss://localhost:%d/echo '%s/client.pem' x 2>&1", bin("tls_client"),
             e->tls.port, e->dir);
    assert_int_equal(run(cmd), 1);
    assert_non_null(strstr(out, "verification failed for 'localhost'"));
}

static void test_poll_client(void **state) {
    env *e = *state;
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "printf 'one\\ntwo\\nthree\\n' | '%s' ws://127.0.0.1:%d/echo", bin("poll_client"),
             e->plain.port);
    assert_int_equal(run(cmd), 0);
    assert_string_equal(out, "echo: one\necho: two\necho: three\n");
}

static void test_thread_send(void **state) {
    env *e = *state;
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "'%s' ws://127.0.0.1:%d/echo 2000", bin("thread_send"), e->plain.port);
    assert_int_equal(run(cmd), 0);
    assert_string_equal(out, "2000 of 2000 echoed, in order\n");
}

static void test_json_client(void **state) {
    env *e = *state;
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "'%s' 'ws://127.0.0.1:%d/echo?x=1' tok123", bin("json_client"), e->plain.port);
    assert_int_equal(run(cmd), 0);
    assert_non_null(strstr(out, "WebSocket is open now."));
    assert_non_null(strstr(out, "\"some raw data\""));
    assert_non_null(strstr(out, "\"message\": \"some message\""));
    assert_non_null(strstr(out, "\"csrf\": \"tok123\""));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_client), cmocka_unit_test(test_tls_client), cmocka_unit_test(test_poll_client),
        cmocka_unit_test(test_thread_send), cmocka_unit_test(test_json_client),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
