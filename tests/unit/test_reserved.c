/* test_reserved.c - the ABI rule of abi/README.md, as the library enforces
 * it: a caller-allocated struct whose reserved tail is not zero (a program
 * built against a newer header, setting a field this library does not know)
 * is refused with WSC_EINVAL by every function that reads it, and nothing
 * is created; a zeroed tail (`= {0}`) is accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wsc/client.h"
#include "wsc/http.h"
#include "wsc/proto.h"
#include "wsc/server.h"
#include "wsc/ws.h"

static int rnd(void *u, void *buf, size_t len) {
    (void)u;
    memset(buf, 7, len);
    return 0;
}

static void test_ws_options(void **s) {
    (void)s;
    wsc_loop *loop = wsc_loop_new(NULL);
    assert_non_null(loop);
    wsc_ws_options o = {0};
    o.reserved[3] = 1;
    wsc_error err = {0};
    assert_null(wsc_ws_new(loop, "ws://127.0.0.1:9/", &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_non_null(strstr(err.message, "wsc_ws_options"));
    wsc_loop_free(loop);
}

static void test_client_options(void **s) {
    (void)s;
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_client_options o = {0};
    o.no_store = 1;
    o.reserved[15] = 0x100;
    wsc_error err = {0};
    assert_null(wsc_client_new(loop, "ws://127.0.0.1:9/", &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    o.reserved[15] = 0;
    o.ws.reserved[0] = 1; /* the embedded connection options too */
    err.code = 0;
    assert_null(wsc_client_new(loop, "ws://127.0.0.1:9/", &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    assert_non_null(strstr(err.message, "wsc_client_options.ws"));
    wsc_loop_free(loop);
}

static void test_server_options(void **s) {
    (void)s;
    wsc_loop *loop = wsc_loop_new(NULL);
    wsc_server_options o = {0};
    o.reserved[7] = 2;
    wsc_error err = {0};
    assert_null(wsc_server_new(loop, &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    wsc_loop_free(loop);
}

static void test_proto_config(void **s) {
    (void)s;
    wsc_proto_config cfg = {0};
    cfg.role = WSC_ROLE_CLIENT;
    cfg.random = rnd;
    wsc_error err = {0};
    wsc_proto *p = wsc_proto_new(&cfg, &err);
    assert_non_null(p); /* zeroed tail: accepted */
    wsc_proto_free(p);
    cfg.reserved[1] = 1;
    assert_null(wsc_proto_new(&cfg, &err));
    assert_int_equal(err.code, WSC_EINVAL);
}

static void test_handshake_req(void **s) {
    (void)s;
    wsc_handshake_req r = {0};
    r.host = wsc_span_str("example.com");
    r.key = "dGhlIHNhbXBsZSBub25jZQ==";
    wsc_buf b = {0};
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_OK);
    wsc_buf_free(&b);
    r.reserved[0] = 1;
    assert_int_equal(wsc_handshake_request(&r, &b, NULL), WSC_EINVAL);
    assert_int_equal(wsc_buf_pending(&b), 0); /* nothing appended */
    wsc_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ws_options),   cmocka_unit_test(test_client_options),
        cmocka_unit_test(test_server_options), cmocka_unit_test(test_proto_config),
        cmocka_unit_test(test_handshake_req),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
