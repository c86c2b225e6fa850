/* test_sync.c - the blocking API (sync.h) against python websockets on
 * 127.0.0.1 (tests/peers/py_server.py): echo of text, binary, fragmented and
 * 1 MiB messages, Pings answered, the peer's Close, timeouts that leave the
 * connection usable, wss with a test PKI, and hostile frames that must fail
 * the connection with the right error and close code. Every wait is bounded
 * (the calls' own timeouts). */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "wsc/sync.h"

#define T 10000 /* ms: the bound on any one call that should succeed */

static tu_peer srv;  /* py_server.py, plain, subprotocol "chat" */
static char base[64];

static int start_py(tu_peer *p, const char *e1, const char *e2, const char *e3, const char *e4) {
    char *argv[] = {(char *)tu_python(), (char *)tu_peer_script("py_server.py"), "--port", "0", "--lifetime", "120",
                    (char *)e1, (char *)e2, (char *)e3, (char *)e4, NULL};
    return tu_peer_start(p, argv);
}

static int setup(void **state) {
    (void)state;
    if (start_py(&srv, "--protocols", "chat", NULL, NULL) != 0) return -1;
    snprintf(base, sizeof base, "ws://127.0.0.1:%d", srv.port);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_peer_stop(&srv);
    return 0;
}

static wsc_sync *open_path(const char *path, const wsc_ws_options *o) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    wsc_error err;
    wsc_sync *s = wsc_sync_connect(url, o, T, &err);
    if (!s) fprintf(stderr, "connect %s: %s\n", url, err.message);
    assert_non_null(s);
    return s;
}

static void expect_msg(wsc_sync *s, int type, const void *data, size_t len) {
    wsc_sync_msg m;
    int rc = wsc_sync_recv(s, &m, T);
    if (rc) fprintf(stderr, "recv: %s\n", wsc_sync_error(s));
    assert_int_equal(rc, WSC_OK);
    assert_int_equal(m.type, type);
    assert_int_equal(m.len, len);
    assert_memory_equal(m.data, data, len);
}

static void close_clean(wsc_sync *s) {
    assert_int_equal(wsc_sync_close(s, 1000, "done", -1), WSC_OK);
    assert_int_equal(wsc_sync_fd(s), -1);
    wsc_sync_msg m;
    assert_int_equal(wsc_sync_recv(s, &m, 0), WSC_ECLOSED);
    assert_int_equal(m.type, WSC_SYNC_CLOSE);
    assert_int_equal(m.close_code, 1000); /* websockets echoes our code */
    wsc_sync_free(s);
}

static void test_echo(void **state) {
    (void)state;
    static const char *const protos[] = {"chat", NULL};
    wsc_ws_options o = {0};
    o.protocols = protos;
    wsc_sync *s = open_path("/echo", &o);
    assert_string_equal(wsc_sync_protocol(s), "chat");
    assert_non_null(strstr(wsc_sync_extensions(s), "permessage-deflate")); /* offered by default */
    assert_true(wsc_sync_fd(s) >= 0);
    for (int i = 0; i < 50; i++) {
        char t[32];
        int n = snprintf(t, sizeof t, "hello %d", i);
        assert_int_equal(wsc_sync_send_text(s, t, (size_t)n, T), WSC_OK);
        expect_msg(s, WSC_SYNC_TEXT, t, (size_t)n);
    }
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++) bin[i] = (uint8_t)(i * 7);
    assert_int_equal(wsc_sync_send_binary(s, bin, sizeof bin, T), WSC_OK);
    expect_msg(s, WSC_SYNC_BINARY, bin, sizeof bin);
    assert_int_equal(wsc_sync_send_text(s, "", 0, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, "", 0);
    /* refusals that take nothing */
    assert_int_equal(wsc_sync_send_text(s, "\xc3\x28", 2, T), WSC_EUTF8);
    assert_int_equal(wsc_sync_send_binary(s, NULL, 3, T), WSC_EINVAL);
    assert_int_equal(wsc_sync_ping(s, bin, 126, T), WSC_EINVAL);
    assert_int_equal(wsc_sync_close(s, 1006, NULL, T), WSC_EINVAL);
    assert_int_equal(wsc_sync_recv(s, NULL, T), WSC_EINVAL);
    /* still fine */
    assert_int_equal(wsc_sync_send_text(s, "after", 5, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, "after", 5);
    close_clean(s);
    /* after close: closed, nothing sent */
}

static void test_large_and_fragmented(void **state) {
    (void)state;
    size_t big = 1024 * 1024;
    uint8_t *p = malloc(big);
    assert_non_null(p);
    for (size_t i = 0; i < big; i++) p[i] = (uint8_t)((i * 31 + 7) ^ (i >> 11));
    /* plain (no deflate): 1 MiB each way, several reads to reassemble */
    wsc_ws_options o = {0};
    o.no_deflate = 1;
    wsc_sync *s = open_path("/echo", &o);
    assert_string_equal(wsc_sync_extensions(s), "");
    for (int k = 0; k < 3; k++) {
        assert_int_equal(wsc_sync_send_binary(s, p, big, T), WSC_OK);
        expect_msg(s, WSC_SYNC_BINARY, p, big);
    }
    close_clean(s);
    /* deflate on, sent in 1000-byte fragments */
    memset(&o, 0, sizeof o);
    o.fragment_size = 1000;
    s = open_path("/echo", &o);
    assert_int_equal(wsc_sync_send_binary(s, p, big, T), WSC_OK);
    expect_msg(s, WSC_SYNC_BINARY, p, big);
    char text[5000];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (char)('a' + i % 26);
    assert_int_equal(wsc_sync_send_text(s, text, sizeof text, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, text, sizeof text);
    close_clean(s);
    /* received in fragments: "abc" + continuation "d", with a Ping between
       (the server writes these raw frames, then echoes) */
    s = open_path("/raw?hex=010361626389027070800164", NULL);
    expect_msg(s, WSC_SYNC_TEXT, "abcd", 4);
    assert_int_equal(wsc_sync_send_text(s, "e", 1, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, "e", 1);
    close_clean(s);
    free(p);
}

static void test_ping(void **state) {
    (void)state;
    /* the server pings "p0" first; our answer precedes the "x" we send after
       reading the echo, so the dump sees it */
    wsc_sync *s = open_path("/ping?n=1", NULL);
    assert_int_equal(wsc_sync_send_text(s, "x", 1, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, "x", 1);
    assert_int_equal(wsc_sync_send_text(s, "__dump__", 8, T), WSC_OK);
    wsc_sync_msg m;
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_OK);
    char *dump = strndup((const char *)m.data, m.len);
    char *pongs = strstr(dump, "\"pongs\"");
    assert_non_null(pongs);
    assert_non_null(strstr(pongs, "p0"));
    free(dump);
    /* our Ping: the Pong is counted, never handed over */
    assert_int_equal(wsc_sync_pongs(s), 0);
    assert_int_equal(wsc_sync_ping(s, "hi", 2, T), WSC_OK);
    assert_int_equal(wsc_sync_send_text(s, "y", 1, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, "y", 1);
    assert_int_equal(wsc_sync_pongs(s), 1);
    close_clean(s);
}

static void test_peer_close(void **state) {
    (void)state;
    wsc_sync *s = open_path("/close?code=4001&reason=bye", NULL);
    wsc_sync_msg m;
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ECLOSED);
    assert_int_equal(m.type, WSC_SYNC_CLOSE);
    assert_int_equal(m.close_code, 4001);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.data, "bye", 3);
    assert_int_equal(wsc_sync_fd(s), -1); /* the handshake is done, the socket closed */
    /* every later call says the same */
    memset(&m, 0, sizeof m);
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ECLOSED);
    assert_int_equal(m.close_code, 4001);
    assert_int_equal(wsc_sync_send_text(s, "x", 1, T), WSC_ECLOSED);
    assert_int_equal(wsc_sync_send_text(s, "\xff", 1, T), WSC_EUTF8);
    assert_int_equal(wsc_sync_close(s, 1000, NULL, T), WSC_OK);
    wsc_sync_free(s);
    /* a Close without status: 1005 */
    s = open_path("/close?code=0", NULL);
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ECLOSED);
    assert_int_equal(m.close_code, 1005);
    assert_int_equal(m.len, 0);
    wsc_sync_free(s);
    /* TCP dropped without a Close: an error, then closed with 1006 */
    s = open_path("/drop", NULL);
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ECONNRESET);
    assert_int_equal(m.type, WSC_SYNC_CLOSE);
    assert_int_equal(m.close_code, 1006);
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ECLOSED);
    wsc_sync_free(s);
}

static void test_timeouts(void **state) {
    (void)state;
    /* the server waits 300 ms before each echo */
    wsc_sync *s = open_path("/slow?ms=300", NULL);
    wsc_sync_msg m;
    uint64_t t0 = tu_now_ms();
    assert_int_equal(wsc_sync_recv(s, &m, 0), WSC_ETIMEDOUT); /* nothing there: no wait */
    assert_int_equal(wsc_sync_recv(s, &m, 30), WSC_ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 20); /* SO_RCVTIMEO waits at least its value */
    assert_int_equal(wsc_sync_send_text(s, "one", 3, T), WSC_OK);
    assert_int_equal(wsc_sync_recv(s, &m, 20), WSC_ETIMEDOUT); /* the echo is 300 ms away */
    assert_non_null(strstr(wsc_sync_error(s), "timed out"));
    /* the connection is still usable: the echo arrives on a longer wait */
    expect_msg(s, WSC_SYNC_TEXT, "one", 3);
    /* the same after a non-blocking poll switched the socket's mode */
    assert_int_equal(wsc_sync_recv(s, &m, 0), WSC_ETIMEDOUT);
    assert_int_equal(wsc_sync_send_text(s, "two", 3, -1), WSC_OK);
    assert_int_equal(wsc_sync_recv(s, &m, -1), WSC_OK);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.data, "two", 3);
    assert_int_equal(wsc_sync_flush(s, 0), WSC_OK); /* nothing queued */
    close_clean(s);

    /* a server that never answers the Close: close() is bounded */
    s = open_path("/silent", NULL);
    t0 = tu_now_ms();
    assert_int_equal(wsc_sync_close(s, 1000, NULL, 200), WSC_ETIMEDOUT);
    assert_true(tu_now_ms() - t0 < 5000);
    assert_int_equal(wsc_sync_fd(s), -1);
    wsc_sync_free(s);
}

static void test_hostile(void **state) {
    (void)state;
    static const struct {
        const char *hex;
        int rc;
        unsigned code;
    } cases[] = {
        {"a100", WSC_EPROTO, 1002},      /* RSV2 set, nothing negotiated */
        {"8102c328", WSC_EUTF8, 1007},   /* text that is not UTF-8 */
        {"0301ff", WSC_EPROTO, 1002},    /* reserved opcode 3 */
        {"897e0080" , WSC_EPROTO, 1002}, /* a Ping of 128 bytes (over 125) */
        {"8081aabbccdd00", WSC_EPROTO, 1002}, /* a masked frame from the server */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[128];
        snprintf(path, sizeof path, "/raw?hex=%s", cases[i].hex);
        wsc_ws_options o = {0};
        o.no_deflate = 1;
        wsc_sync *s = open_path(path, &o);
        wsc_sync_msg m;
        int rc = wsc_sync_recv(s, &m, T);
        if (rc != cases[i].rc) fprintf(stderr, "case %s: %d %s\n", cases[i].hex, rc, wsc_sync_error(s));
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(m.type, WSC_SYNC_CLOSE);
        assert_int_equal(m.close_code, cases[i].code);
        assert_true(strlen(wsc_sync_error(s)) > 0);
        assert_int_equal(wsc_sync_fd(s), -1);
        assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ECLOSED);
        assert_int_equal(m.close_code, cases[i].code);
        wsc_sync_free(s);
    }
    /* a message over max_message_size: 1009 */
    wsc_ws_options o = {0};
    o.max_message_size = 1000;
    wsc_sync *s = open_path("/big?bytes=5000", &o);
    wsc_sync_msg m;
    assert_int_equal(wsc_sync_recv(s, &m, T), WSC_ETOOBIG);
    assert_int_equal(m.close_code, 1009);
    wsc_sync_free(s);
}

static void test_connect_errors(void **state) {
    (void)state;
    wsc_error err;
    assert_null(wsc_sync_connect("http:// bad", NULL, T, &err));
    assert_int_equal(err.code, WSC_EURL);
    wsc_ws_options o = {0};
    o.reserved[0] = 1;
    assert_null(wsc_sync_connect("ws://127.0.0.1:1/", &o, T, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    /* nothing listens on port 1 of loopback */
    assert_null(wsc_sync_connect("ws://127.0.0.1:1/", NULL, T, &err));
    assert_int_equal(err.code, WSC_ECONNREFUSED);
    /* a refused upgrade */
    char url[128];
    snprintf(url, sizeof url, "%s/status/403", base);
    assert_null(wsc_sync_connect(url, NULL, T, &err));
    assert_int_equal(err.code, WSC_EHTTP);
    assert_non_null(strstr(err.message, "403"));
    /* a server that accepts TCP and never answers the upgrade */
    tu_peer mute;
    char *argv[] = {(char *)tu_python(), "-c",
                    "import socket,sys,time\n"
                    "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(4)\n"
                    "print('LISTENING', s.getsockname()[1]); sys.stdout.flush()\n"
                    "c=s.accept(); time.sleep(30)\n",
                    NULL};
    assert_int_equal(tu_peer_start(&mute, argv), 0);
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", mute.port);
    uint64_t t0 = tu_now_ms();
    assert_null(wsc_sync_connect(url, NULL, 300, &err));
    assert_int_equal(err.code, WSC_ETIMEDOUT);
    assert_true(tu_now_ms() - t0 < 5000);
    tu_peer_stop(&mute);
    assert_null(wsc_sync_connect(NULL, NULL, T, &err));
    wsc_sync_free(NULL);
}

static void test_send_timeout(void **state) {
    (void)state;
    /* a server that reads nothing until the test connects to it a second
       time: a big send times out mid-frame, the rest goes first later */
    char script[300];
    snprintf(script, sizeof script, "%s/tests/integration/stall_server.py", tu_source_dir());
    char *argv[] = {(char *)tu_python(), script, "--lifetime", "60", NULL};
    tu_peer p;
    assert_int_equal(tu_peer_start(&p, argv), 0);
    char url[64];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", p.port);
    wsc_ws_options o = {0};
    o.no_deflate = 1;
    o.max_buffered = 40u * 1024 * 1024;
    wsc_error err;
    wsc_sync *s = wsc_sync_connect(url, &o, T, &err);
    assert_non_null(s);
    size_t big = 32u * 1024 * 1024; /* more than the socket buffers hold */
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'a', big);
    assert_int_equal(wsc_sync_send_text(s, text, big, 100), WSC_ETIMEDOUT);
    assert_int_equal(wsc_sync_send_text(s, "next", 4, 0), WSC_ETIMEDOUT); /* queued behind it */
    assert_int_equal(wsc_sync_flush(s, 0), WSC_ETIMEDOUT);
    /* over max_buffered (40 MiB here) with what is queued: refused, nothing taken */
    assert_int_equal(wsc_sync_send_binary(s, text, big, 0), WSC_ETOOBIG);
    free(text);
    /* go */
    int go = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(go, (struct sockaddr *)&sa, sizeof sa), 0);
    /* the receive writes the rest first (the server answers only then);
       the server parsed whole frames, in order */
    expect_msg(s, WSC_SYNC_TEXT, "33554432:a", 10);
    expect_msg(s, WSC_SYNC_TEXT, "4:n", 3);
    close_clean(s);
    close(go);
    tu_peer_stop(&p);
}

static void test_wss(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char cmd[600], ca[300], cert[300], key[300];
    snprintf(cmd, sizeof cmd, "bash '%s' '%s'", tu_peer_script("mkcerts.sh"), dir);
    assert_int_equal(tu_system(cmd), 0);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    tu_peer tls;
    assert_int_equal(start_py(&tls, "--tls-cert", cert, "--tls-key", key), 0);
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/echo", tls.port);
    wsc_error err;
    /* verified against the test CA only */
    assert_null(wsc_sync_connect(url, NULL, T, &err));
    assert_int_equal(err.code, WSC_ETLSVERIFY);
    wsc_ws_options o = {0};
    o.ca_file = ca;
    wsc_sync *s = wsc_sync_connect(url, &o, T, &err);
    if (!s) fprintf(stderr, "wss: %s\n", err.message);
    assert_non_null(s);
    for (int i = 0; i < 20; i++) {
        char t[32];
        int n = snprintf(t, sizeof t, "secret %d", i);
        assert_int_equal(wsc_sync_send_text(s, t, (size_t)n, T), WSC_OK);
        expect_msg(s, WSC_SYNC_TEXT, t, (size_t)n);
    }
    size_t big = 1024 * 1024;
    uint8_t *p = malloc(big);
    assert_non_null(p);
    for (size_t i = 0; i < big; i++) p[i] = (uint8_t)(i * 13 + (i >> 9));
    assert_int_equal(wsc_sync_send_binary(s, p, big, T), WSC_OK);
    expect_msg(s, WSC_SYNC_BINARY, p, big);
    /* a timeout over TLS leaves it usable too */
    wsc_sync_msg m;
    assert_int_equal(wsc_sync_recv(s, &m, 20), WSC_ETIMEDOUT);
    assert_int_equal(wsc_sync_recv(s, &m, 0), WSC_ETIMEDOUT);
    assert_int_equal(wsc_sync_send_text(s, "again", 5, T), WSC_OK);
    expect_msg(s, WSC_SYNC_TEXT, "again", 5);
    close_clean(s);
    free(p);
    tu_peer_stop(&tls);
    tu_rmtree(dir);
    free(dir);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),           cmocka_unit_test(test_large_and_fragmented),
        cmocka_unit_test(test_ping),           cmocka_unit_test(test_peer_close),
        cmocka_unit_test(test_timeouts),       cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_connect_errors), cmocka_unit_test(test_send_timeout),
        cmocka_unit_test(test_wss),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
