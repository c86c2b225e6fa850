/* test_ws_tls.c - the connection (ws.h) over TLS, with a test PKI made by
 * openssl at test time, against python websockets on 127.0.0.1, and
 * through HTTP CONNECT proxies (split from test_ws.c). */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wslog.h" /* the full event record, under short names (rec, opts_for, ...) */
#include "wsc/loop.h"
#include "wsc/ws.h"

/* ---------------- TLS ---------------- */

typedef struct {
    char *dir;
    char ca[300];
} pki;

static void make_pki(pki *k) {
    k->dir = tu_tmpdir();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s'", tu_peer_script("mkcerts.sh"), k->dir);
    assert_int_equal(tu_system(cmd), 0);
    snprintf(k->ca, sizeof k->ca, "%s/ca.pem", k->dir);
}

static int start_tls_server(tu_peer *p, pki *k, const char *name, const char *extra1, const char *extra2) {
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/%s.pem", k->dir, name);
    snprintf(key, sizeof key, "%s/%s.key", k->dir, name);
    char *argv[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--port", "0", "--tls-cert", cert,
                    "--tls-key", key, "--lifetime", "60", (char *)extra1, (char *)extra2, NULL};
    return tu_peer_start(p, argv);
}

/* An open connection's round: text sent and echoed, then closed (1000). */
static void echo_and_close(wsc_loop *loop, wsc_ws *ws, rec *r, const char *text) {
    wsc_ws_send_text(ws, text, strlen(text));
    tu_run_until(loop, &r->nmsg, 1, 5000);
    assert_string_equal((char *)r->msg[0], text);
    wsc_ws_close(ws, 1000, NULL);
    tu_run_until(loop, &r->closes, 1, 5000);
}

static void tls_case(pki *k, const char *host, int port, wsc_ws_options *o, rec *r, int expect_open) {
    wsc_loop *loop = wsc_loop_new(NULL);
    char url[200];
    snprintf(url, sizeof url, "wss://%s:%d/echo", host, port);
    wsc_ws *ws = wsc_ws_new(loop, url, o, NULL);
    assert_non_null(ws);
    tu_run_until(loop, expect_open ? &r->opens : &r->closes, 1, 10000);
    if (expect_open) {
        assert_int_equal(r->opens, 1);
        echo_and_close(loop, ws, r, "secret");
        assert_int_equal(r->was_clean, 1);
    } else {
        assert_int_equal(r->opens, 0);
        assert_int_equal(r->errors, 1);
        assert_int_equal(r->close_code, 1015); /* TLS failure */
    }
    (void)k;
    wsc_ws_free(ws);
    wsc_loop_free(loop);
}

static void test_tls(void **state) {
    (void)state;
    pki k;
    make_pki(&k);
    tu_peer good, wrong, expired;
    assert_int_equal(start_tls_server(&good, &k, "server", NULL, NULL), 0);
    assert_int_equal(start_tls_server(&wrong, &k, "wrong-host", NULL, NULL), 0);
    assert_int_equal(start_tls_server(&expired, &k, "expired", NULL, NULL), 0);
    rec r = {0};
    wsc_ws_options o;

    /* refused by default: the test CA is not in the system store */
    o = opts_for(&r);
    tls_case(&k, "localhost", good.port, &o, &r, 0);
    assert_int_equal(r.last_error, WSC_ETLSVERIFY);
    assert_non_null(strstr(r.error_msg, "verification failed for 'localhost'"));
    rec_reset(&r);
    /* accepted with the CA file, by name and by IP address (SAN IP); the
       options are copied: the caller's string may go at once (ASan) */
    o = opts_for(&r);
    char *ca_copy = strdup(k.ca);
    o.ca_file = ca_copy;
    {
        wsc_loop *loop = wsc_loop_new(NULL);
        char url[200];
        snprintf(url, sizeof url, "wss://localhost:%d/echo", good.port);
        wsc_ws *ws = wsc_ws_new(loop, url, &o, NULL);
        memset(ca_copy, 'x', strlen(ca_copy));
        free(ca_copy);
        tu_run_until(loop, &r.opens, 1, 10000);
        assert_int_equal(r.opens, 1);
        wsc_ws_free(ws);
        wsc_loop_free(loop);
    }
    rec_reset(&r);
    o = opts_for(&r);
    o.ca_file = k.ca;
    tls_case(&k, "localhost", good.port, &o, &r, 1);
    rec_reset(&r);
    o = opts_for(&r);
    o.ca_file = k.ca;
    tls_case(&k, "127.0.0.1", good.port, &o, &r, 1);
    rec_reset(&r);
    /* host-name mismatch refused; accepted only with the explicit option */
    o = opts_for(&r);
    o.ca_file = k.ca;
    tls_case(&k, "localhost", wrong.port, &o, &r, 0);
    assert_int_equal(r.last_error, WSC_ETLSVERIFY);
    assert_non_null(strstr(r.error_msg, "not valid for this host name"));
    rec_reset(&r);
    o = opts_for(&r);
    o.ca_file = k.ca;
    o.insecure_skip_hostname = 1;
    tls_case(&k, "localhost", wrong.port, &o, &r, 1);
    rec_reset(&r);
    /* expired refused, in words */
    o = opts_for(&r);
    o.ca_file = k.ca;
    tls_case(&k, "localhost", expired.port, &o, &r, 0);
    assert_non_null(strstr(r.error_msg, "expired"));
    rec_reset(&r);
    /* skip verification entirely */
    o = opts_for(&r);
    o.insecure_skip_verify = 1;
    tls_case(&k, "localhost", expired.port, &o, &r, 1);
    rec_reset(&r);

    tu_peer_stop(&good);
    tu_peer_stop(&wrong);
    tu_peer_stop(&expired);

    /* mutual TLS */
    tu_peer mtls;
    char ca[300];
    snprintf(ca, sizeof ca, "%s", k.ca);
    assert_int_equal(start_tls_server(&mtls, &k, "server", "--require-client-cert", ca), 0);
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/client.pem", k.dir);
    snprintf(key, sizeof key, "%s/client.key", k.dir);
    o = opts_for(&r);
    o.ca_file = k.ca;
    o.cert_file = cert;
    o.key_file = key;
    tls_case(&k, "localhost", mtls.port, &o, &r, 1);
    rec_reset(&r);
    tu_peer_stop(&mtls);
    tu_rmtree(k.dir);
    free(k.dir);
}

/* ---------------- HTTP CONNECT proxy ---------------- */

/* expect: 1 the connection opens, else the error code it fails with. */
static void proxy_case(const char *proxy, const char *target, rec *r, int expect, const char *ca) {
    int expect_open = expect == 1;
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_ws_options o = opts_for(r);
    o.proxy = proxy;
    o.ca_file = ca;
    wsc_ws *ws = wsc_ws_new(loop, target, &o, NULL);
    assert_non_null(ws);
    tu_run_until(loop, expect_open ? &r->opens : &r->closes, 1, 10000);
    if (expect_open) {
        if (r->opens != 1) fprintf(stderr, "proxy %s to %s: %s\n", proxy, target, r->error_msg);
        assert_int_equal(r->opens, 1);
        echo_and_close(loop, ws, r, "tunnelled");
    } else {
        assert_int_equal(r->errors, 1);
        assert_int_equal(r->last_error, expect);
    }
    wsc_ws_free(ws);
    wsc_loop_free(loop);
}

static void test_proxy(void **state) {
    (void)state;
    pki k;
    make_pki(&k);
    char *dir = k.dir;
    char log1[300], log2[300];
    snprintf(log1, sizeof log1, "%s/proxy1.log", dir);
    snprintf(log2, sizeof log2, "%s/proxy2.log", dir);
    tu_peer srv, tls_srv, px, pxa;
    char *sargv[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--port", "0", "--lifetime", "60", NULL};
    assert_int_equal(tu_peer_start(&srv, sargv), 0);
    assert_int_equal(start_tls_server(&tls_srv, &k, "server", NULL, NULL), 0);
    char *pargv[] = {(char *)tu_python(), (char *)tu_peer_script("connect_proxy.py"), "--port", "0", "--log", log1,
                     "--lifetime", "60", NULL};
    assert_int_equal(tu_peer_start(&px, pargv), 0);
    char *aargv[] = {(char *)tu_python(), (char *)tu_peer_script("connect_proxy.py"), "--port", "0", "--log", log2,
                     "--auth", "alice:s3cr%t", "--lifetime", "60", NULL};
    assert_int_equal(tu_peer_start(&pxa, aargv), 0);

    char proxy[200], target[200], tls_target[200];
    snprintf(target, sizeof target, "ws://127.0.0.1:%d/echo", srv.port);
    snprintf(tls_target, sizeof tls_target, "wss://localhost:%d/echo", tls_srv.port);
    rec r = {0};
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", px.port);
    proxy_case(proxy, target, &r, 1, NULL);
    rec_reset(&r);
    proxy_case(proxy, tls_target, &r, 1, k.ca); /* TLS through the tunnel */
    rec_reset(&r);
    /* the proxy saw both targets */
    size_t n;
    uint8_t *log = tu_read_file(log1, &n);
    assert_non_null(log);
    char want[100];
    snprintf(want, sizeof want, "127.0.0.1:%d", srv.port);
    assert_non_null(strstr((char *)log, want));
    snprintf(want, sizeof want, "localhost:%d", tls_srv.port);
    assert_non_null(strstr((char *)log, want));
    free(log);
    /* Basic auth, percent-encoded in the URL as curl accepts it */
    snprintf(proxy, sizeof proxy, "http://alice:s3cr%%25t@127.0.0.1:%d", pxa.port);
    proxy_case(proxy, target, &r, 1, NULL);
    rec_reset(&r);
    snprintf(proxy, sizeof proxy, "http://alice:wrong@127.0.0.1:%d", pxa.port);
    proxy_case(proxy, target, &r, WSC_EPROXYAUTH, NULL);
    assert_non_null(strstr(r.error_msg, "407"));
    assert_null(strstr(r.error_msg, "wrong")); /* credentials never in messages */
    rec_reset(&r);
    /* A proxy from the environment: a destination that is not loopback
       goes through it (the proxy refuses it without resolving: 403). */
    const char *vars[] = {"http_proxy", "HTTP_PROXY"};
    for (int v = 0; v < 2; v++) {
        char envp[100];
        snprintf(envp, sizeof envp, "http://127.0.0.1:%d", px.port);
        setenv(vars[v], envp, 1);
        proxy_case(NULL, "ws://wsc-env-proxy-test.invalid:8080/x", &r, WSC_EPROXY, NULL);
        assert_non_null(strstr(r.error_msg, "403"));
        unsetenv(vars[v]);
        rec_reset(&r);
    }
    log = tu_read_file(log1, &n);
    assert_non_null(strstr((char *)log, "wsc-env-proxy-test.invalid:8080"));
    free(log);
    /* "" means no proxy, even with one in the environment */
    setenv("http_proxy", "http://127.0.0.1:9/", 1);
    proxy_case("", target, &r, 1, NULL);
    rec_reset(&r);
    unsetenv("http_proxy");

    tu_peer_stop(&srv);
    tu_peer_stop(&tls_srv);
    tu_peer_stop(&px);
    tu_peer_stop(&pxa);
    tu_rmtree(dir);
    free(dir);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_proxy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
