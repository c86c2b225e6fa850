/* test_proxy_https.c - https:// proxies made of Debian's real servers on
 * 127.0.0.1 (tests/peers/run_https_proxy.py: stunnel4 serving TLS with the
 * test PKI, in front of tinyproxy doing HTTP CONNECT), against the Python
 * websockets echo server in the clear and with TLS: ws:// inside the
 * proxy's TLS, wss:// as TLS inside TLS, the proxy's certificate verified,
 * Basic proxy authentication, tinyproxy's ConnectPort refusal.
 * test_proxy.c covers the same paths against the project's own proxy;
 * this file proves them against servers we did not write.
 * Exits 77 (CTest's skip code here) when stunnel4 or tinyproxy is missing. */
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
    char ca[300], cert[300], key[300], wrong_ca[300];
    tu_peer ws, wss; /* echo servers */
    tu_peer open;    /* stunnel + tinyproxy, CONNECT to the two echo ports only */
    tu_peer auth;    /* the same with BasicAuth */
    char open_log[300], auth_log[300];
} fixture;

static fixture F;

/* Starts run_https_proxy.py for the two echo servers' ports; `auth` is
   USER:PASS or NULL. */
static int start_proxy(tu_peer *p, const char *auth, const char *log) {
    char wsport[16], wssport[16];
    snprintf(wsport, sizeof wsport, "%d", F.ws.port);
    snprintf(wssport, sizeof wssport, "%d", F.wss.port);
    char *script = strdup(tu_peer_script("run_https_proxy.py"));
    char *argv[20];
    int n = 0;
    argv[n++] = (char *)tu_python();
    argv[n++] = script;
    argv[n++] = "--cert", argv[n++] = F.cert;
    argv[n++] = "--key", argv[n++] = F.key;
    argv[n++] = "--connect-port", argv[n++] = wsport;
    argv[n++] = "--connect-port", argv[n++] = wssport;
    argv[n++] = "--log", argv[n++] = (char *)log;
    argv[n++] = "--lifetime", argv[n++] = "120";
    if (auth) argv[n++] = "--auth", argv[n++] = (char *)auth;
    argv[n] = NULL;
    int rc = tu_peer_start(p, argv);
    free(script);
    return rc;
}

static int setup(void **state) {
    (void)state;
    F.dir = tu_tmpdir();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s'", tu_peer_script("mkcerts.sh"), F.dir);
    if (tu_system(cmd) != 0) return -1;
    snprintf(F.ca, sizeof F.ca, "%s/ca.pem", F.dir);
    snprintf(F.cert, sizeof F.cert, "%s/server.pem", F.dir);
    snprintf(F.key, sizeof F.key, "%s/server.key", F.dir);
    /* A CA that did not sign the proxy's certificate: the self-signed one. */
    snprintf(F.wrong_ca, sizeof F.wrong_ca, "%s/self-signed.pem", F.dir);
    snprintf(F.open_log, sizeof F.open_log, "%s/tinyproxy-open.log", F.dir);
    snprintf(F.auth_log, sizeof F.auth_log, "%s/tinyproxy-auth.log", F.dir);
    char *S_PY_SERVER = strdup(tu_peer_script("py_server.py"));
    char *ws[] = {(char *)tu_python(), S_PY_SERVER, "--port", "0", "--lifetime", "120", NULL};
    char *wss[] = {(char *)tu_python(), S_PY_SERVER, "--port", "0", "--tls-cert", F.cert,
                   "--tls-key", F.key, "--lifetime", "120", NULL};
    int rc = tu_peer_start(&F.ws, ws) || tu_peer_start(&F.wss, wss);
    free(S_PY_SERVER);
    if (rc) return -1;
    /* tinyproxy's BasicAuth takes letters, digits, '-', '.', '_' only. */
    if (start_proxy(&F.open, NULL, F.open_log) || start_proxy(&F.auth, "alice:s3cr.t", F.auth_log)) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_peer *all[] = {&F.ws, &F.wss, &F.open, &F.auth};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->pid > 0) tu_peer_stop(all[i]);
    tu_rmtree(F.dir);
    free(F.dir);
    return 0;
}

/* One connection to `target` through `proxy`, trusting `ca` (for the proxy
   and the server alike, as the library does); if it opens, a message of
   `size` bytes goes round the echo server and back. Returns the error code
   of a failed connection (r->error_msg says what), or 0. */
static int through(const char *proxy, const char *target, const char *ca, size_t size, rec *r) {
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_ws_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = tu_wsrec_event;
    o.user = r;
    o.proxy = proxy;
    o.ca_file = ca;
    wsc_ws *ws = wsc_ws_new(loop, target, &o, NULL);
    assert_non_null(ws);
    tu_run_until(loop, &r->settled, 1, 15000);
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
        fprintf(stderr, "# %s via %s: %s\n", target, proxy, r->error_msg);
    }
    wsc_ws_free(ws);
    wsc_loop_free(loop);
    return rc;
}

/* tinyproxy logs "CONNECT host:port" per request (LogLevel Connect); the
   line is written before the tunnel opens, so it is there once we are. */
static int logged(const char *log, const char *what) {
    size_t n;
    uint8_t *text = tu_read_file(log, &n);
    if (!text) return 0;
    int found = strstr((char *)text, what) != NULL;
    free(text);
    return found;
}

static void test_ws_and_wss(void **state) {
    (void)state;
    char proxy[200], ws[200], wss[200], want[200];
    rec r = {0};
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/echo", F.ws.port);
    snprintf(wss, sizeof wss, "wss://localhost:%d/echo", F.wss.port);
    /* The proxy by name (its certificate's DNS SAN) and by address (its IP
       SAN): both verified against the test CA. */
    const char *hosts[] = {"localhost", "127.0.0.1"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(proxy, sizeof proxy, "https://%s:%d", hosts[i], F.open.port);
        /* ws:// inside stunnel's TLS */
        assert_int_equal(through(proxy, ws, F.ca, 100, &r), 0);
        tu_wsrec_reset(&r);
        /* wss:// inside it: TLS inside TLS; a large message keeps records
           of both layers in flight at once */
        assert_int_equal(through(proxy, wss, F.ca, 100, &r), 0);
        tu_wsrec_reset(&r);
        assert_int_equal(through(proxy, wss, F.ca, 2 * 1024 * 1024, &r), 0);
        tu_wsrec_reset(&r);
    }
    /* tinyproxy saw the server's name, not an address we resolved */
    snprintf(want, sizeof want, "CONNECT localhost:%d", F.wss.port);
    assert_true(logged(F.open_log, want));
    snprintf(want, sizeof want, "CONNECT 127.0.0.1:%d", F.ws.port);
    assert_true(logged(F.open_log, want));
}

static void test_proxy_certificate_verified(void **state) {
    (void)state;
    char proxy[200], ws[200];
    rec r = {0};
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/echo", F.ws.port);
    snprintf(proxy, sizeof proxy, "https://localhost:%d", F.open.port);
    /* Trusting a CA that did not sign stunnel's certificate: a TLS
       verification error that names the proxy, before any CONNECT. */
    assert_int_equal(through(proxy, ws, F.wrong_ca, 100, &r), WSC_ETLSVERIFY);
    assert_non_null(strstr(r.error_msg, "proxy 'localhost'"));
    tu_wsrec_reset(&r);
    /* stunnel's TLS spoken to in the clear: refused, not a hang */
    snprintf(proxy, sizeof proxy, "http://localhost:%d", F.open.port);
    assert_int_equal(through(proxy, ws, F.ca, 100, &r), WSC_EPROXY);
    tu_wsrec_reset(&r);
}

static void test_basic_auth(void **state) {
    (void)state;
    char proxy[200], ws[200], wss[200];
    rec r = {0};
    snprintf(ws, sizeof ws, "ws://127.0.0.1:%d/echo", F.ws.port);
    snprintf(wss, sizeof wss, "wss://localhost:%d/echo", F.wss.port);
    /* the right credentials, one of them percent-encoded (%2E is '.') */
    snprintf(proxy, sizeof proxy, "https://alice:s3cr%%2Et@localhost:%d", F.auth.port);
    assert_int_equal(through(proxy, ws, F.ca, 100, &r), 0);
    tu_wsrec_reset(&r);
    assert_int_equal(through(proxy, wss, F.ca, 100000, &r), 0);
    tu_wsrec_reset(&r);
    /* a wrong password: tinyproxy answers 401 (not 407); still the
       credentials' refusal, and the password never in the message */
    snprintf(proxy, sizeof proxy, "https://alice:hunter2@localhost:%d", F.auth.port);
    assert_int_equal(through(proxy, ws, F.ca, 100, &r), WSC_EPROXYAUTH);
    assert_non_null(strstr(r.error_msg, "401"));
    assert_null(strstr(r.error_msg, "hunter2"));
    tu_wsrec_reset(&r);
    /* no credentials: 407 */
    snprintf(proxy, sizeof proxy, "https://localhost:%d", F.auth.port);
    assert_int_equal(through(proxy, wss, F.ca, 100, &r), WSC_EPROXYAUTH);
    assert_non_null(strstr(r.error_msg, "407"));
    tu_wsrec_reset(&r);
}

static void test_connect_port_refused(void **state) {
    (void)state;
    char proxy[200], target[200];
    rec r = {0};
    /* tinyproxy allows CONNECT to the two echo ports only (ConnectPort):
       another port is a proxy refusal (403), not an authentication one */
    snprintf(proxy, sizeof proxy, "https://localhost:%d", F.open.port);
    int other = F.ws.port == 65535 ? 1 : F.ws.port + 1;
    if (other == F.wss.port) other = other == 65535 ? 1 : other + 1;
    snprintf(target, sizeof target, "ws://127.0.0.1:%d/echo", other);
    assert_int_equal(through(proxy, target, F.ca, 10, &r), WSC_EPROXY);
    assert_non_null(strstr(r.error_msg, "403"));
    tu_wsrec_reset(&r);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    /* Skip, saying why, when the Debian servers are not installed; the
       script is the one place that knows their names. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "'%s' '%s' --check", tu_python(), tu_peer_script("run_https_proxy.py"));
    int check = tu_system(cmd);
    if (check == 77) {
        fprintf(stderr, "SKIP: stunnel4 or tinyproxy not installed (scripts/bootstrap test installs them)\n");
        return 77;
    }
    if (check != 0) {
        fprintf(stderr, "run_https_proxy.py --check failed (%d)\n", check);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_and_wss),
        cmocka_unit_test(test_proxy_certificate_verified),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_connect_port_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
