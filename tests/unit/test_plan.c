/* test_plan.c - the client connection's plan (ws_plan.h) as tables: for a
 * URL, options and an environment, where wsc_ws_new() connects (host, port,
 * Unix socket, TLS, SNI, proxy and its kind, the RFC 6455 4.1 gate key),
 * the request bytes it sends, and for invalid input the exact error code.
 * A pure function: no loop, no socket, no clock, no process environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io/proxy.h"
#include "ws_plan.h"

/* The environment a row runs in: "NAME=value" pairs, NULL-terminated. */
static const char *const *cur_env;
static const char *table_env(const char *name) {
    size_t n = strlen(name);
    for (const char *const *e = cur_env; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const char *const no_env[] = {NULL};
static const char *const http_env[] = {"http_proxy=http://envp:3128", "https_proxy=socks5h://envs", NULL};
static const char *const no_proxy_env[] = {"HTTP_PROXY=http://envp:3128", "no_proxy=.corp.example", NULL};

typedef struct {
    const char *url;
    const char *proxy;            /* opts.proxy */
    const char *const *env;
    int parallel;                 /* opts.parallel_connect */
    /* what the plan must say */
    const char *host, *unix_path; /* exactly one is set */
    unsigned port;
    int tls;
    const char *sni;
    int proxy_kind;
    const char *proxy_host;
    unsigned proxy_port;
    const char *proxy_auth;
    const char *gate;
    const char *origin;
} where_row;

static void test_where(void **state) {
    (void)state;
    const where_row rows[] = {
        /* default and explicit ports, case of the host kept but not in the gate */
        {"ws://example.com/chat", NULL, no_env, 0, "example.com", NULL, 80, 0, NULL, 0, NULL, 0, NULL,
         "example.com:80", "ws://example.com:80"},
        {"http://example.com/", NULL, no_env, 0, "example.com", NULL, 80, 0, NULL, 0, NULL, 0, NULL,
         "example.com:80", "ws://example.com:80"}, /* http: and https: mean ws: and wss: */
        {"ws://Example.COM:8080/", NULL, no_env, 0, "Example.COM", NULL, 8080, 0, NULL, 0, NULL, 0, NULL,
         "example.com:8080", "ws://example.com:8080"},
        {"wss://example.com/", NULL, no_env, 0, "example.com", NULL, 443, 1, "example.com", 0, NULL, 0, NULL,
         "example.com:443", "wss://example.com:443"},
        {"wss://example.com:8443/x?y=1", NULL, no_env, 0, "example.com", NULL, 8443, 1, "example.com", 0, NULL, 0,
         NULL, "example.com:8443", "wss://example.com:8443"},
        /* IP literals: no brackets in the host, no SNI */
        {"ws://127.0.0.1:9001/", NULL, no_env, 0, "127.0.0.1", NULL, 9001, 0, NULL, 0, NULL, 0, NULL,
         "127.0.0.1:9001", "ws://127.0.0.1:9001"},
        {"wss://192.0.2.7/", NULL, no_env, 0, "192.0.2.7", NULL, 443, 1, NULL, 0, NULL, 0, NULL, "192.0.2.7:443",
         "wss://192.0.2.7:443"},
        {"ws://[::1]:9001/", NULL, no_env, 0, "::1", NULL, 9001, 0, NULL, 0, NULL, 0, NULL, "::1:9001",
         "ws://[::1]:9001"},
        {"wss://[2001:DB8::1]/", NULL, no_env, 0, "2001:DB8::1", NULL, 443, 1, NULL, 0, NULL, 0, NULL,
         "2001:db8::1:443", "wss://[2001:db8::1]:443"},
        /* Unix sockets: no host, no port, never a proxy */
        {"ws+unix:/run/app.sock:/chat", NULL, no_env, 0, NULL, "/run/app.sock", 0, 0, NULL, 0, NULL, 0, NULL,
         "unix:/run/app.sock", "ws+unix:///run/app.sock"},
        {"wss+unix:/run/app.sock", NULL, http_env, 0, NULL, "/run/app.sock", 0, 1, NULL, 0, NULL, 0, NULL,
         "unix:/run/app.sock", "wss+unix:///run/app.sock"},
        {"ws+unix:/run/app.sock", "http://p:1", no_env, 0, NULL, "/run/app.sock", 0, 0, NULL, 0, NULL, 0, NULL,
         "unix:/run/app.sock", "ws+unix:///run/app.sock"},
        /* parallel_connect: no gate */
        {"ws://example.com/", NULL, no_env, 1, "example.com", NULL, 80, 0, NULL, 0, NULL, 0, NULL, "",
         "ws://example.com:80"},
        /* proxies from the options: kinds, default ports, decoded credentials */
        {"ws://example.com/", "proxy.local:3128", no_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_HTTP,
         "proxy.local", 3128, NULL, "example.com:80", "ws://example.com:80"},
        {"ws://example.com/", "http://proxy.local", no_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_HTTP,
         "proxy.local", 80, NULL, "example.com:80", "ws://example.com:80"},
        {"wss://example.com/", "https://u%40x:p%3Aw@proxy.local", no_env, 0, "example.com", NULL, 443, 1,
         "example.com", WSC_PROXY_HTTPS, "proxy.local", 443, "u@x:p:w", "example.com:443", "wss://example.com:443"},
        {"ws://example.com/", "socks5://[::1]:1081", no_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_SOCKS5,
         "::1", 1081, NULL, "example.com:80", "ws://example.com:80"},
        {"ws://example.com/", "SOCKS5H://s", no_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_SOCKS5H, "s",
         1080, NULL, "example.com:80", "ws://example.com:80"},
        {"ws://example.com/", "socks://s:9", no_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_SOCKS5H, "s", 9,
         NULL, "example.com:80", "ws://example.com:80"},
        /* an option proxy wins over the environment's; "" means none */
        {"ws://example.com/", "http://opt:1", http_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_HTTP, "opt", 1,
         NULL, "example.com:80", "ws://example.com:80"},
        {"ws://example.com/", "", http_env, 0, "example.com", NULL, 80, 0, NULL, 0, NULL, 0, NULL, "example.com:80",
         "ws://example.com:80"},
        /* proxies from the environment: per scheme, no_proxy, loopback bypassed */
        {"ws://example.com/", NULL, http_env, 0, "example.com", NULL, 80, 0, NULL, WSC_PROXY_HTTP, "envp", 3128, NULL,
         "example.com:80", "ws://example.com:80"},
        {"wss://example.com/", NULL, http_env, 0, "example.com", NULL, 443, 1, "example.com", WSC_PROXY_SOCKS5H,
         "envs", 1080, NULL, "example.com:443", "wss://example.com:443"},
        {"ws://127.0.0.1:9/", NULL, http_env, 0, "127.0.0.1", NULL, 9, 0, NULL, 0, NULL, 0, NULL, "127.0.0.1:9",
         "ws://127.0.0.1:9"},
        {"ws://[::1]:9/", NULL, http_env, 0, "::1", NULL, 9, 0, NULL, 0, NULL, 0, NULL, "::1:9", "ws://[::1]:9"},
        {"ws://a.corp.example/", NULL, no_proxy_env, 0, "a.corp.example", NULL, 80, 0, NULL, 0, NULL, 0, NULL,
         "a.corp.example:80", "ws://a.corp.example:80"},
        {"ws://example.org/", NULL, no_proxy_env, 0, "example.org", NULL, 80, 0, NULL, WSC_PROXY_HTTP, "envp", 3128,
         NULL, "example.org:80", "ws://example.org:80"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        const where_row *r = &rows[i];
        wsc_ws_options o = {0};
        o.proxy = r->proxy;
        o.parallel_connect = r->parallel;
        o.connect_timeout_ms = i == 0 ? 0 : 1234;
        cur_env = r->env;
        wsc__ws_plan p;
        wsc_error err;
        print_message("row %zu: %s\n", i, r->url);
        assert_int_equal(wsc__ws_plan_make(r->url, &o, nonce, table_env, &p, &err), WSC_OK);
        const wsc_connect_req *c = &p.connect;
        if (r->host) {
            assert_string_equal(c->host, r->host);
            assert_null(c->unix_path);
        } else {
            assert_null(c->host);
            assert_string_equal(c->unix_path, r->unix_path);
        }
        assert_int_equal(c->port, r->port);
        assert_int_equal(c->tls, r->tls);
        if (r->sni) assert_string_equal(p.sni, r->sni);
        else assert_null(p.sni);
        assert_int_equal(c->proxy_kind, r->proxy_kind);
        if (r->proxy_host) {
            assert_string_equal(c->proxy_host, r->proxy_host);
            assert_int_equal(c->proxy_port, r->proxy_port);
        } else assert_null(c->proxy_host);
        if (r->proxy_auth) assert_string_equal(c->proxy_auth, r->proxy_auth);
        else assert_null(c->proxy_auth);
        assert_string_equal(p.gate_key, r->gate);
        assert_string_equal(p.origin, r->origin);
        assert_int_equal(c->timeout_ms, i == 0 ? 10000 : 1234);
        wsc__ws_plan_free(&p);
        assert_null(p.origin);
        wsc__ws_plan_free(&p); /* twice is harmless */
    }
}

/* The request bytes, exactly (the key comes from the nonce). */
static void test_request_bytes(void **state) {
    (void)state;
    cur_env = no_env;
    static const char *const protos[] = {"chat", "superchat", NULL};
    static const wsc_ws_header hdr[] = {{"X-Trace", "42"}};
    struct {
        const char *url;
        wsc_ws_options o;
        const char *want;
    } rows[] = {
        {"ws://example.com/chat?x=1",
         {.no_deflate = 1, .user_agent = "t/1"},
         "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: t/1\r\n\r\n"},
        {"wss://u%20ser:pw@[::1]:8443",
         {.protocols = protos, .origin = "https://app", .cookie = "a=b", .user_agent = "t/1", .headers = hdr,
          .nheaders = 1},
         "GET / HTTP/1.1\r\nHost: [::1]:8443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: chat, superchat\r\n"
         "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
         "Origin: https://app\r\nCookie: a=b\r\nUser-Agent: t/1\r\nAuthorization: Basic dSBzZXI6cHc=\r\n"
         "X-Trace: 42\r\n\r\n"},
        {"ws+unix:/tmp/s.sock:/p",
         {.no_deflate = 1, .user_agent = "t/1"},
         "GET /p HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: t/1\r\n\r\n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        wsc__ws_plan p;
        wsc_error err;
        assert_int_equal(wsc__ws_plan_make(rows[i].url, &rows[i].o, nonce, table_env, &p, &err), WSC_OK);
        assert_string_equal(p.key, "AQIDBAUGBwgJCgsMDQ4PEA==");
        assert_int_equal(p.offer_pmd, !rows[i].o.no_deflate);
        assert_int_equal(p.request.len, strlen(rows[i].want));
        assert_memory_equal(p.request.data, rows[i].want, p.request.len);
        if (rows[i].o.protocols) {
            assert_string_equal(p.protocols[0], "chat");
            assert_string_equal(p.protocols[1], "superchat");
            assert_null(p.protocols[2]);
        }
        wsc__ws_plan_free(&p);
    }
}

/* Invalid input: the exact code, and nothing left to free. */
static void test_invalid(void **state) {
    (void)state;
    static const wsc_ws_header null_value[] = {{"X-A", NULL}};
    static const wsc_ws_header bad_name[] = {{"Bad Name", "v"}};
    static const wsc_ws_header crlf[] = {{"X-A", "a\r\nInjected: 1"}};
    static const char *const bad_proto[] = {"a b", NULL};
    static const char *const bad_env[] = {"http_proxy=ftp://p", NULL};
    char long_host[300], long_sock[300];
    memset(long_host, 'a', sizeof long_host);
    memcpy(long_host, "ws://", 5);
    long_host[sizeof long_host - 1] = 0;
    memset(long_sock, 'b', sizeof long_sock);
    memcpy(long_sock, "ws+unix:/", 9);
    long_sock[sizeof long_sock - 1] = 0;
    wsc_ws_options reserved = {0};
    reserved.reserved[0] = 1;
    struct {
        const char *url;
        wsc_ws_options o;
        const char *const *env;
        int want;
    } rows[] = {
        {NULL, {0}, no_env, WSC_EINVAL},
        {"ws://example.com/", reserved, no_env, WSC_EINVAL},
        {"ftp://example.com/", {0}, no_env, WSC_EURL},
        {"ws://", {0}, no_env, WSC_EURL},
        {"ws://example.com:99999/", {0}, no_env, WSC_EURL},
        {"ws://[::1/", {0}, no_env, WSC_EURL},
        {"ws+unix://host/s.sock", {0}, no_env, WSC_EURL},
        {"ws://example.com/#frag", {0}, no_env, WSC_EURL},
        {long_host, {0}, no_env, WSC_EURL},
        {long_sock, {0}, no_env, WSC_EURL},
        {"ws://example.com/", {.nheaders = 1}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.headers = null_value, .nheaders = 1}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.headers = bad_name, .nheaders = 1}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.headers = crlf, .nheaders = 1}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.protocols = bad_proto}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.deflate_client_max_window_bits = 16}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.deflate_server_max_window_bits = 7}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.proxy = "ftp://p"}, no_env, WSC_EINVAL},
        {"ws://example.com/", {.proxy = "http://[::1"}, no_env, WSC_EINVAL},
        {"ws://example.com/", {0}, bad_env, WSC_EINVAL},
        {"ws+unix:/s.sock", {0}, bad_env, WSC_OK}, /* a Unix socket ignores the environment */
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        cur_env = rows[i].env;
        wsc__ws_plan p;
        wsc_error err;
        print_message("row %zu: %s\n", i, rows[i].url ? rows[i].url : "(null)");
        int rc = wsc__ws_plan_make(rows[i].url, &rows[i].o, nonce, table_env, &p, &err);
        assert_int_equal(rc, rows[i].want);
        if (rc) {
            assert_int_equal(err.code, rc);
            assert_null(p.request.data); /* left empty */
            assert_null(p.origin);
            assert_null(p.protocols);
            assert_null(strstr(err.message, "pw")); /* never a credential */
        } else wsc__ws_plan_free(&p);
    }
    /* a NULL environment function: no environment proxy at all */
    wsc__ws_plan p;
    assert_int_equal(wsc__ws_plan_make("ws://example.com/", NULL, nonce, NULL, &p, NULL), WSC_OK);
    assert_int_equal(p.connect.proxy_kind, 0);
    assert_int_equal(p.offer_pmd, 1); /* NULL options: the defaults */
    wsc__ws_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
