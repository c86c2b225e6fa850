/* test_proxy.c - connections through real proxies on 127.0.0.1: Debian's
 * microsocks for SOCKS5 (socks5:// and socks5h://, with and without RFC 1929
 * authentication), and tests/peers/connect_proxy.py serving TLS as an
 * https:// proxy (ws:// inside it, and wss:// as TLS inside TLS), against
 * the Python websockets echo server in the clear and with TLS.
 * test_proxy_https.c does the https:// cases against Debian's stunnel4 and
 * tinyproxy. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsc/loop.h"
#include "wsc/ws.h"

typedef tu_wsrec rec; /* the events of one connection (testutil) */

typedef struct {
    char *dir;
    char ca[300], cert[300], key[300];
    tu_peer ws, wss;             /* echo servers */
    tu_peer socks, socks_auth;   /* microsocks */
    tu_peer https;               /* connect_proxy.py over TLS */
    char https_log[300];
} fixture;

static fixture F;

static int setup(void **state) {
    (void)state;
    F.dir = tu_tmpdir();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s'", tu_peer_script("mkcerts.sh"), F.dir);
    if (tu_system(cmd) != 0) return -1;
    snprintf(F.ca, sizeof F.ca, "%s/ca.pem", F.dir);
    snprintf(F.cert, sizeof F.cert, "%s/server.pem", F.dir);
    snprintf(F.key, sizeof F.key, "%s/server.key", F.dir);
    snprintf(F.https_log, sizeof F.https_log, "%s/https_proxy.log", F.dir);
    /* tu_peer_script() returns a static buffer: copy each path. */
    char *S_PY_SERVER = strdup(tu_peer_script("py_server.py"));
    char *S_RUN_MICROSOCKS = strdup(tu_peer_script("run_microsocks.py"));
    char *S_CONNECT_PROXY = strdup(tu_peer_script("connect_proxy.py"));
    char *ws[] = {(char *)tu_python(), S_PY_SERVER, "--port", "0", "--lifetime", "120", NULL};
    char *wss[] = {(char *)tu_python(), S_PY_SERVER, "--port", "0", "--tls-cert", F.cert,
                   "--tls-key", F.key, "--lifetime", "120", NULL};
    char *socks[] = {(char *)tu_python(), S_RUN_MICROSOCKS, "--lifetime", "120", NULL};
    char *socks_auth[] = {(char *)tu_python(), S_RUN_MICROSOCKS, "--auth", "alice:s3cr%t",
                          "--lifetime", "120", NULL};
    char *https[] = {(char *)tu_python(), S_CONNECT_PROXY, "--port", "0", "--tls-cert", F.cert,
                     "--tls-key", F.key, "--log", F.https_log, "--lifetime", "120", NULL};
    int rc = tu_peer_start(&F.ws, ws) || tu_peer_start(&F.wss, wss) || tu_peer_start(&F.socks, socks) ||
             tu_peer_start(&F.socks_auth, socks_auth) || tu_peer_start(&F.https, https);
    free(S_PY_SERVER);
    free(S_RUN_MICROSOCKS);
    free(S_CONNECT_PROXY);
    if (rc) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_peer *all[] = {&F.ws, &F.wss, &F.socks, &F.socks_auth, &F.https};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->pid > 0) tu_peer_stop(all[i]);
    tu_rmtree(F.dir);
    free(F.dir);
    return 0;
}

/* One connection to `target` through `proxy`; if it opens, a message of
   `size` bytes goes round the echo server and back. Returns the error code
   of a failed connection (r->error_msg says what), or 0. */
static int through(const char *proxy, const char *target, size_t size, rec *r) {
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = tu_wsrec_event;
    o.user = r;
    o.proxy = proxy;
    o.ca_file = F.ca;
    wsc_ws *ws = wsc_ws_new(loop, target, &o, NULL);
    assert_non_null(ws);
    tu_run_until(loop, &r->settled, 1, 10000);
    int rc = 0;
    if (r->opens == 1) {
        char *msg = malloc(size + 1);
        for (size_t i = 0; i < size; i++) msg[i] = (char)('a' + i % 26);
        msg[size] = 0;
        assert_int_equal(wsc_ws_send_text(ws, msg, size), WSC_OK);
        tu_run_until(loop, &r->nmsg, 1, 20000);
        assert_int_equal(r->nmsg, 1);
        assert_int_equal(r->msglen, size);
        assert_memory_equal(r->msg, msg, size);
        free(msg);
        wsc_ws_close(ws, 1000, NULL);
        tu_run_until(loop, &r->closes, 1, 5000);
    } else {
        tu_run_until(loop, &r->closes, 1, 10000);
        assert_int_equal(r->errors, 1);
        rc = r->last_error;
        fprintf(stderr, "# %s via %s: %s\n", target, proxy ? proxy : "(env)", r->error_msg);
    }
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    return rc;
}

static void targets(char *ws, char *wss, size_t cap, const char *host) {
    snprintf(ws, cap, "ws://%s:%d/echo", host, F.ws.port);
    snprintf(wss, cap, "wss://localhost:%d/echo", F.wss.port);
}

static void test_socks5(void **state) {
    (void)state;
    char proxy[200], ws[200], wss[200];
    rec r = {0};
    /* socks5h://: the proxy resolves "localhost"; socks5://: we do, and send
       the address. Both in the clear and with TLS to the server. */
    const char *schemes[] = {"socks5h", "socks5", "socks"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(proxy, sizeof proxy, "%s://127.0.0.1:%d", schemes[i], F.socks.port);
        targets(ws, wss, sizeof ws, "localhost");
        assert_int_equal(through(proxy, ws, 100, &r), 0);
        tu_wsrec_reset(&r);
        assert_int_equal(through(proxy, wss, 100, &r), 0);
        tu_wsrec_reset(&r);
        /* an IP literal target goes as an address with both */
        targets(ws, wss, sizeof ws, "127.0.0.1");
        assert_int_equal(through(proxy, ws, 100000, &r), 0);
        tu_wsrec_reset(&r);
    }
    /* a target nobody listens on: the proxy's reply code, as words */
    snprintf(proxy, sizeof proxy, "socks5h://127.0.0.1:%d", F.socks.port);
    assert_int_equal(through(proxy, "ws://127.0.0.1:9/", 10, &r), WSC_EPROXY);
    assert_non_null(strstr(r.error_msg, "SOCKS5 proxy could not connect to 127.0.0.1 port 9"));
    tu_wsrec_reset(&r);
}

static void test_socks5_auth(void **state) {
    (void)state;
    char proxy[200], ws[200], wss[200];
    rec r = {0};
    targets(ws, wss, sizeof ws, "localhost");
    /* credentials percent-decoded, as curl does: the password is s3cr%t */
    snprintf(proxy, sizeof proxy, "socks5h://alice:s3cr%%25t@127.0.0.1:%d", F.socks_auth.port);
    assert_int_equal(through(proxy, ws, 100, &r), 0);
    tu_wsrec_reset(&r);
    assert_int_equal(through(proxy, wss, 100, &r), 0);
    tu_wsrec_reset(&r);
    snprintf(proxy, sizeof proxy, "socks5://alice:s3cr%%25t@127.0.0.1:%d", F.socks_auth.port);
    assert_int_equal(through(proxy, ws, 100, &r), 0);
    tu_wsrec_reset(&r);
    /* a wrong password: refused, and never in the message */
    snprintf(proxy, sizeof proxy, "socks5h://alice:hunter2@127.0.0.1:%d", F.socks_auth.port);
    assert_int_equal(through(proxy, ws, 100, &r), WSC_EPROXYAUTH);
    assert_non_null(strstr(r.error_msg, "refused the user name or password"));
    assert_null(strstr(r.error_msg, "hunter2"));
    tu_wsrec_reset(&r);
    /* no credentials for a proxy that needs them */
    snprintf(proxy, sizeof proxy, "socks5h://127.0.0.1:%d", F.socks_auth.port);
    assert_int_equal(through(proxy, ws, 100, &r), WSC_EPROXY);
    assert_non_null(strstr(r.error_msg, "accepts none of our authentication methods"));
    tu_wsrec_reset(&r);
}

static void test_https_proxy(void **state) {
    (void)state;
    char proxy[200], ws[200], wss[200];
    rec r = {0};
    targets(ws, wss, sizeof ws, "127.0.0.1");
    snprintf(proxy, sizeof proxy, "https://localhost:%d", F.https.port);
    /* ws:// inside the proxy's TLS */
    assert_int_equal(through(proxy, ws, 100, &r), 0);
    tu_wsrec_reset(&r);
    /* wss:// inside it: TLS inside TLS, small and large messages (a large
       one leaves plaintext waiting in the proxy's session) */
    assert_int_equal(through(proxy, wss, 100, &r), 0);
    tu_wsrec_reset(&r);
    assert_int_equal(through(proxy, wss, 3 * 1024 * 1024, &r), 0);
    tu_wsrec_reset(&r);
    size_t n;
    uint8_t *log = tu_read_file(F.https_log, &n);
    assert_non_null(log);
    char want[100];
    snprintf(want, sizeof want, "localhost:%d", F.wss.port);
    assert_non_null(strstr((char *)log, want));
    free(log);
    /* the proxy's certificate is verified: an IP literal against its IP
       SAN, and a proxy whose certificate names another host is refused */
    snprintf(proxy, sizeof proxy, "https://127.0.0.1:%d", F.https.port);
    assert_int_equal(through(proxy, ws, 100, &r), 0);
    tu_wsrec_reset(&r);
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/wrong-host.pem", F.dir);
    snprintf(key, sizeof key, "%s/wrong-host.key", F.dir);
    char *script = strdup(tu_peer_script("connect_proxy.py"));
    char *argv[] = {(char *)tu_python(), script, "--port", "0", "--tls-cert", cert, "--tls-key", key,
                    "--lifetime", "60", NULL};
    tu_peer bad;
    assert_int_equal(tu_peer_start(&bad, argv), 0);
    free(script);
    snprintf(proxy, sizeof proxy, "https://localhost:%d", bad.port);
    assert_int_equal(through(proxy, ws, 100, &r), WSC_ETLSVERIFY);
    assert_non_null(strstr(r.error_msg, "proxy 'localhost'"));
    tu_wsrec_reset(&r);
    tu_peer_stop(&bad);
    /* an https:// proxy spoken to in the clear fails cleanly */
    snprintf(proxy, sizeof proxy, "http://localhost:%d", F.https.port);
    assert_int_equal(through(proxy, ws, 100, &r), WSC_EPROXY);
    tu_wsrec_reset(&r);
}

static void test_env_and_parsing(void **state) {
    (void)state;
    rec r = {0};
    /* ALL_PROXY / all_proxy when no scheme-specific variable is set: a
       destination that is not loopback goes through it (the https proxy
       refuses it without resolving: 403). */
    const char *vars[] = {"all_proxy", "ALL_PROXY"};
    for (int v = 0; v < 2; v++) {
        char envp[100];
        snprintf(envp, sizeof envp, "https://localhost:%d", F.https.port);
        setenv(vars[v], envp, 1);
        assert_int_equal(through(NULL, "ws://wsc-all-proxy-test.invalid:8080/x", 10, &r), WSC_EPROXY);
        assert_non_null(strstr(r.error_msg, "403"));
        unsetenv(vars[v]);
        tu_wsrec_reset(&r);
    }
    size_t n;
    uint8_t *log = tu_read_file(F.https_log, &n);
    assert_non_null(strstr((char *)log, "wsc-all-proxy-test.invalid:8080"));
    free(log);
    /* an unsupported scheme fails at once */
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_ws_options o = {0};
    o.proxy = "ftp://127.0.0.1:21";
    wsc_error err;
    assert_null(wsc_ws_new(loop, "ws://127.0.0.1:1/", &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_non_null(strstr(err.message, "socks5://"));
    wsc_loop_free(loop);
    tu_wsrec_reset(&r);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_socks5),
        cmocka_unit_test(test_socks5_auth),
        cmocka_unit_test(test_https_proxy),
        cmocka_unit_test(test_env_and_parsing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
