/*
 * test_pmd_negotiate.c - permessage-deflate negotiation (RFC 7692 sections 5
 * and 7): the client's offer text, the client's validation of the server's
 * answer, the server's choice among offers (those Chrome, Firefox, node ws
 * and Python websockets send), and agreement of both sides on every
 * combination of offer and server policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wsc/http.h"

static void assert_buf(const wsc_buf *b, const char *want) {
    size_t n = wsc_buf_pending(b);
    if (n != strlen(want) || memcmp(b->data + b->off, want, n) != 0)
        fail_msg("buffer '%.*s', want '%s'", (int)n, (const char *)b->data + b->off, want);
}

static void assert_params(const wsc_pmd_params *p, int en, int snct, int cnct, int smwb, int cmwb) {
    if (p->enabled != en || p->server_no_context_takeover != snct ||
        p->client_no_context_takeover != cnct || p->server_max_window_bits != smwb ||
        p->client_max_window_bits != cmwb)
        fail_msg("params {%d,%d,%d,%d,%d}, want {%d,%d,%d,%d,%d}", p->enabled,
                 p->server_no_context_takeover, p->client_no_context_takeover,
                 p->server_max_window_bits, p->client_max_window_bits, en, snct, cnct, smwb, cmwb);
}

/* ---- the offer ----------------------------------------------------------- */

static void check_offer(wsc_pmd_offer o, const char *want) {
    wsc_buf b = {0};
    assert_int_equal(wsc_pmd_offer_format(&o, &b), WSC_OK);
    assert_buf(&b, want);
    wsc_buf_free(&b);
}

static void test_offer_format(void **unused) {
    check_offer((wsc_pmd_offer){0, 0, 0, 0}, "permessage-deflate; client_max_window_bits");
    check_offer((wsc_pmd_offer){0, 0, 0, -1}, "permessage-deflate");
    check_offer((wsc_pmd_offer){1, 1, 10, 12},
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                "server_max_window_bits=10; client_max_window_bits=12");
    check_offer((wsc_pmd_offer){0, 0, 8, 15},
                "permessage-deflate; server_max_window_bits=8; client_max_window_bits=15");
    check_offer((wsc_pmd_offer){1, 0, 0, -1}, "permessage-deflate; server_no_context_takeover");
    const wsc_pmd_offer bad[] = {{0, 0, 7, 0}, {0, 0, 16, 0}, {0, 0, -1, 0},
                                 {0, 0, 0, -2}, {0, 0, 0, 7}, {0, 0, 0, 16}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wsc_buf b = {0};
        assert_int_equal(wsc_buf_append(&b, "x", 1), WSC_OK);
        assert_int_equal(wsc_pmd_offer_format(&bad[i], &b), WSC_EINVAL);
        assert_buf(&b, "x");
        wsc_buf_free(&b);
    }
    wsc_buf b = {0};
    assert_int_equal(wsc_pmd_offer_format(NULL, &b), WSC_EINVAL);
    b.max = 10;
    assert_int_equal(wsc_pmd_offer_format(&(wsc_pmd_offer){0, 0, 0, 0}, &b), WSC_ETOOBIG);
    assert_int_equal(b.len, 0);
    wsc_buf_free(&b);
}

/* ---- the client's validation of the answer ------------------------------ */

struct resp_case {
    const char *value;
    wsc_pmd_offer offer;
    int rc;
    const char *msg;       /* for failures */
    int en, snct, cnct, smwb, cmwb; /* for successes */
};

#define OFFER0 {0, 0, 0, 0}

static const struct resp_case resp_cases[] = {
    {"permessage-deflate", OFFER0, WSC_OK, NULL, 1, 0, 0, 15, 15},
    {"permessage-deflate; server_no_context_takeover", OFFER0, WSC_OK, NULL, 1, 1, 0, 15, 15},
    {"permessage-deflate; client_no_context_takeover", OFFER0, WSC_OK, NULL, 1, 0, 1, 15, 15},
    {"permessage-deflate; server_max_window_bits=10", OFFER0, WSC_OK, NULL, 1, 0, 0, 10, 15},
    {"permessage-deflate; client_max_window_bits=9", OFFER0, WSC_OK, NULL, 1, 0, 0, 15, 9},
    {"permessage-deflate; client_max_window_bits=\"12\"", OFFER0, WSC_OK, NULL, 1, 0, 0, 15, 12},
    {"permessage-deflate; client_max_window_bits=\"1\\2\"", OFFER0, WSC_OK, NULL, 1, 0, 0, 15, 12},
    {"permessage-deflate ;server_max_window_bits = 8 ;\tclient_max_window_bits=15 ", OFFER0, WSC_OK, NULL, 1, 0, 0, 8, 15},
    {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; "
     "client_max_window_bits=11", OFFER0, WSC_OK, NULL, 1, 1, 1, 9, 11},
    {"  , permessage-deflate ,  ", OFFER0, WSC_OK, NULL, 1, 0, 0, 15, 15},
    {"", OFFER0, WSC_OK, NULL, 0, 0, 0, 0, 0},
    {" , ,", OFFER0, WSC_OK, NULL, 0, 0, 0, 0, 0},
    /* parameters */
    {"permessage-deflate; foo", OFFER0, WSC_EEXTENSION, "unknown permessage-deflate parameter 'foo'", 0, 0, 0, 0, 0},
    {"permessage-deflate; Server_No_Context_Takeover", OFFER0, WSC_EEXTENSION, "unknown", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", OFFER0, WSC_EEXTENSION,
     "duplicate permessage-deflate parameter 'server_no_context_takeover'", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", OFFER0, WSC_EEXTENSION, "duplicate", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=7", OFFER0, WSC_EEXTENSION, "invalid value for server_max_window_bits", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=16", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=7", OFFER0, WSC_EEXTENSION, "invalid value for client_max_window_bits", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=16", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=08", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=010", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=\"08\"", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=\"\"", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=\"1 5\"", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=\"10 \"", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=1.5", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=+9", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=0x9", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=99999999999999999999", OFFER0, WSC_EEXTENSION, "invalid value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits", OFFER0, WSC_EEXTENSION, "invalid value for server_max_window_bits", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits", OFFER0, WSC_EEXTENSION, "needs a value", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_no_context_takeover=1", OFFER0, WSC_EEXTENSION,
     "server_no_context_takeover must not have a value", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_no_context_takeover=\"\"", OFFER0, WSC_EEXTENSION,
     "client_no_context_takeover must not have a value", 0, 0, 0, 0, 0},
    {"permessage-deflate; a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8; i=9", OFFER0, WSC_EEXTENSION, "too many", 0, 0, 0, 0, 0},
    /* against the offer */
    {"permessage-deflate; client_max_window_bits=10", {0, 0, 0, -1}, WSC_EEXTENSION,
     "client_max_window_bits, which was not offered", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=12", {0, 0, 0, 10}, WSC_EEXTENSION, "larger than offered", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=10", {0, 0, 0, 10}, WSC_OK, NULL, 1, 0, 0, 15, 10},
    {"permessage-deflate; client_max_window_bits=9", {0, 0, 0, 10}, WSC_OK, NULL, 1, 0, 0, 15, 9},
    {"permessage-deflate", {0, 0, 0, 10}, WSC_OK, NULL, 1, 0, 0, 15, 10},
    {"permessage-deflate", {0, 0, 0, -1}, WSC_OK, NULL, 1, 0, 0, 15, 15},
    {"permessage-deflate", {0, 0, 10, 0}, WSC_EEXTENSION, "did not accept server_max_window_bits", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=11", {0, 0, 10, 0}, WSC_EEXTENSION, "larger than offered", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=9", {0, 0, 10, 0}, WSC_OK, NULL, 1, 0, 0, 9, 15},
    {"permessage-deflate; server_max_window_bits=10", {0, 0, 10, 0}, WSC_OK, NULL, 1, 0, 0, 10, 15},
    {"permessage-deflate", {1, 0, 0, 0}, WSC_EEXTENSION, "did not accept server_no_context_takeover", 0, 0, 0, 0, 0},
    {"permessage-deflate; server_no_context_takeover", {1, 0, 0, 0}, WSC_OK, NULL, 1, 1, 0, 15, 15},
    {"permessage-deflate", {0, 1, 0, 0}, WSC_OK, NULL, 1, 0, 1, 15, 15},
    /* elements */
    {"permessage-deflate, permessage-deflate", OFFER0, WSC_EEXTENSION, "twice", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=10, permessage-deflate", OFFER0, WSC_EEXTENSION, "twice", 0, 0, 0, 0, 0},
    {"x-webkit-deflate-frame", OFFER0, WSC_EEXTENSION, "extension 'x-webkit-deflate-frame' that was not offered", 0, 0, 0, 0, 0},
    {"Permessage-Deflate", OFFER0, WSC_EEXTENSION, "not offered", 0, 0, 0, 0, 0},
    {"permessage-deflate, foo; bar=\"a,b\"", OFFER0, WSC_EEXTENSION, "extension 'foo'", 0, 0, 0, 0, 0},
    /* grammar */
    {"permessage-deflate;", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; ;", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; =1", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; a=\"unterminated", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; a=\"x\\", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; a=\"x\"y", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate x", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; a b", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"; permessage-deflate", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=\"1\x01\"", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=a/b", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
    {"\"permessage-deflate\"", OFFER0, WSC_EEXTENSION, "malformed", 0, 0, 0, 0, 0},
};

static void test_check_response(void **unused) {
    for (size_t i = 0; i < sizeof resp_cases / sizeof resp_cases[0]; i++) {
        const struct resp_case *c = &resp_cases[i];
        size_t len = strlen(c->value);
        uint8_t *copy = tu_guard_copy(c->value, len);
        wsc_pmd_params p;
        memset(&p, 0x55, sizeof p);
        wsc_error err = {0};
        int rc = wsc_pmd_check_response((const char *)copy, len, &c->offer, &p, &err);
        if (rc != c->rc) fail_msg("'%s': rc %d (%s), want %d", c->value, rc, err.message, c->rc);
        if (rc == WSC_OK) {
            assert_params(&p, c->en, c->snct, c->cnct, c->smwb, c->cmwb);
        } else {
            assert_int_equal(err.code, c->rc);
            if (!strstr(err.message, c->msg)) fail_msg("'%s': message '%s' lacks '%s'", c->value, err.message, c->msg);
            assert_params(&p, 0, 0, 0, 0, 0);
        }
        tu_guard_free(copy, len);
    }
    /* nothing offered: only an empty list passes */
    wsc_pmd_params p;
    wsc_error err;
    assert_int_equal(wsc_pmd_check_response("", 0, NULL, &p, &err), WSC_OK);
    assert_int_equal(p.enabled, 0);
    assert_int_equal(wsc_pmd_check_response(NULL, 0, NULL, &p, &err), WSC_OK);
    assert_int_equal(wsc_pmd_check_response("permessage-deflate", 18, NULL, &p, &err), WSC_EEXTENSION);
    assert_int_equal(wsc_pmd_check_response("permessage-deflate", 18, &(wsc_pmd_offer){0, 0, 3, 0}, &p, &err),
                     WSC_EINVAL);
    /* only len bytes are read */
    assert_int_equal(wsc_pmd_check_response("permessage-deflate; garbage", 18, &(wsc_pmd_offer){0, 0, 0, 0}, &p, &err),
                     WSC_OK);
    assert_int_equal(p.enabled, 1);
}

/* ---- the server's choice ------------------------------------------------- */

static int negotiate(const char *offers, const wsc_pmd_server_config *cfg, wsc_pmd_params *p, wsc_buf *b) {
    size_t len = strlen(offers);
    uint8_t *copy = tu_guard_copy(offers, len);
    int rc = wsc_pmd_negotiate_server((const char *)copy, len, cfg, p, b);
    tu_guard_free(copy, len);
    return rc;
}

static void check_server(const char *offers, const wsc_pmd_server_config *cfg, const char *want_resp, int snct,
                         int cnct, int smwb, int cmwb) {
    wsc_pmd_params p;
    wsc_buf b = {0};
    int rc = negotiate(offers, cfg, &p, &b);
    if (rc != WSC_OK) fail_msg("'%s': %d", offers, rc);
    if (!want_resp) {
        assert_int_equal(b.len, 0);
        assert_params(&p, 0, 0, 0, 0, 0);
    } else {
        assert_buf(&b, want_resp);
        assert_params(&p, 1, snct, cnct, smwb, cmwb);
    }
    wsc_buf_free(&b);
}

static void test_server_browsers_and_libraries(void **unused) {
    /* Chrome, node ws (default), Python websockets with client_max_window_bits=True */
    check_server("permessage-deflate; client_max_window_bits", NULL, "permessage-deflate", 0, 0, 15, 15);
    /* Firefox */
    check_server("permessage-deflate", NULL, "permessage-deflate", 0, 0, 15, 15);
    /* Python websockets' default (window bits 12) */
    check_server("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", NULL,
                 "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", 0, 0, 12, 12);
    check_server("permessage-deflate; server_max_window_bits=10; client_max_window_bits=10", NULL,
                 "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10", 0, 0, 10, 10);
    /* node ws with every option */
    check_server("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                 "server_max_window_bits=10; client_max_window_bits=11",
                 NULL,
                 "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                 "server_max_window_bits=10; client_max_window_bits=11",
                 1, 1, 10, 11);
    /* older Chrome/Safari also offered x-webkit-deflate-frame: ignored */
    check_server("x-webkit-deflate-frame, permessage-deflate; server_no_context_takeover", NULL,
                 "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15);
    /* quoted values, quoted commas in other extensions */
    check_server("foo; bar=\"a,b;c\", permessage-deflate; server_max_window_bits=\"9\"", NULL,
                 "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15);
    check_server("permessage-deflate; server_max_window_bits=8", NULL, "permessage-deflate; server_max_window_bits=8",
                 0, 0, 8, 15);
}

static void test_server_preference_order(void **unused) {
    /* the first acceptable offer wins; invalid ones are declined */
    check_server("permessage-deflate; foo, permessage-deflate; client_max_window_bits", NULL, "permessage-deflate",
                 0, 0, 15, 15);
    check_server("permessage-deflate; server_max_window_bits=16, permessage-deflate; server_max_window_bits=11",
                 NULL, "permessage-deflate; server_max_window_bits=11", 0, 0, 11, 15);
    check_server("permessage-deflate; server_max_window_bits, permessage-deflate", NULL, "permessage-deflate", 0, 0,
                 15, 15);
    check_server("permessage-deflate; server_no_context_takeover=1, permessage-deflate; client_no_context_takeover",
                 NULL, "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15);
    check_server("permessage-deflate; client_max_window_bits=9, permessage-deflate", NULL,
                 "permessage-deflate; client_max_window_bits=9", 0, 0, 15, 9);
    check_server("permessage-deflate; client_max_window_bits=7, permessage-deflate; client_max_window_bits=08", NULL,
                 NULL, 0, 0, 0, 0);
    check_server("permessage-deflate; server_no_context_takeover; server_no_context_takeover", NULL, NULL, 0, 0, 0, 0);
    check_server("foo, bar; x=1", NULL, NULL, 0, 0, 0, 0);
    check_server("", NULL, NULL, 0, 0, 0, 0);
    check_server(" , ", NULL, NULL, 0, 0, 0, 0);
    check_server("Permessage-Deflate", NULL, NULL, 0, 0, 0, 0);
}

static void test_server_config(void **unused) {
    wsc_pmd_server_config c = {0};
    c.server_max_window_bits = 10;
    check_server("permessage-deflate", &c, "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15);
    check_server("permessage-deflate; server_max_window_bits=12", &c, "permessage-deflate; server_max_window_bits=10",
                 0, 0, 10, 15);
    check_server("permessage-deflate; server_max_window_bits=9", &c, "permessage-deflate; server_max_window_bits=9",
                 0, 0, 9, 15);
    c = (wsc_pmd_server_config){0};
    c.client_max_window_bits = 11;
    check_server("permessage-deflate; client_max_window_bits", &c, "permessage-deflate; client_max_window_bits=11",
                 0, 0, 15, 11);
    check_server("permessage-deflate; client_max_window_bits=9", &c, "permessage-deflate; client_max_window_bits=9",
                 0, 0, 15, 9);
    check_server("permessage-deflate; client_max_window_bits=13", &c,
                 "permessage-deflate; client_max_window_bits=11", 0, 0, 15, 11);
    /* the client cannot be limited: accepted with a full window ... */
    check_server("permessage-deflate", &c, "permessage-deflate", 0, 0, 15, 15);
    /* ... unless the limit is required: declined, and the next offer tried */
    c.require_client_max_window_bits = 1;
    check_server("permessage-deflate", &c, NULL, 0, 0, 0, 0);
    check_server("permessage-deflate, permessage-deflate; client_max_window_bits", &c,
                 "permessage-deflate; client_max_window_bits=11", 0, 0, 15, 11);
    c = (wsc_pmd_server_config){1, 1, 0, 0, 0};
    check_server("permessage-deflate", &c,
                 "permessage-deflate; server_no_context_takeover; client_no_context_takeover", 1, 1, 15, 15);

    const wsc_pmd_server_config bad[] = {{0, 0, 7, 0, 0}, {0, 0, 16, 0, 0}, {0, 0, 0, 7, 0}, {0, 0, 0, 16, 0}};
    for (size_t i = 0; i < 4; i++) {
        wsc_pmd_params p;
        wsc_buf b = {0};
        assert_int_equal(negotiate("permessage-deflate", &bad[i], &p, &b), WSC_EINVAL);
        assert_int_equal(b.len, 0);
    }
}

static void test_server_malformed(void **unused) {
    static const char *const bad[] = {
        "permessage-deflate; a=\"x",   "permessage-deflate;",
        "permessage-deflate; =",       "permessage-deflate, foo bar",
        "permessage-deflate; client_max_window_bits=",
        "permessage-deflate\x01",      "permessage-deflate; a=\"\\",
        /* the error is found wherever it is, even after an acceptable offer */
        "permessage-deflate, ;",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wsc_pmd_params p;
        wsc_buf b = {0};
        assert_int_equal(wsc_buf_append(&b, "k", 1), WSC_OK);
        int rc = negotiate(bad[i], NULL, &p, &b);
        if (rc != WSC_EHANDSHAKE) fail_msg("'%s': %d", bad[i], rc);
        assert_buf(&b, "k");
        assert_params(&p, 0, 0, 0, 0, 0);
        wsc_buf_free(&b);
    }
    /* out of room: nothing appended, nothing enabled */
    wsc_pmd_params p;
    wsc_buf b = {0};
    b.max = 5;
    assert_int_equal(negotiate("permessage-deflate", NULL, &p, &b), WSC_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(p.enabled, 0);
    assert_int_equal(wsc_pmd_negotiate_server(NULL, 3, NULL, &p, &b), WSC_EINVAL);
    assert_int_equal(wsc_pmd_negotiate_server("x", 1, NULL, &p, NULL), WSC_EINVAL);
}

/* Several Sec-WebSocket-Extensions headers read as one list. */
static void test_negotiate_request(void **unused) {
    const char *text = "GET / HTTP/1.1\r\nHost: h\r\n"
                       "Sec-WebSocket-Extensions: foo; x=\"1,2\", permessage-deflate; bogus\r\n"
                       "X-Other: permessage-deflate\r\n"
                       "sec-websocket-extensions: permessage-deflate; server_max_window_bits=11\r\n\r\n";
    size_t len = strlen(text);
    uint8_t *copy = tu_guard_copy(text, len);
    wsc_http_request r;
    assert_int_equal(wsc_http_parse_request((const char *)copy, len, 0, &r, 0), (int)len);
    wsc_pmd_params p;
    wsc_buf b = {0};
    assert_int_equal(wsc_pmd_negotiate_request(&r, NULL, &p, &b), WSC_OK);
    assert_buf(&b, "permessage-deflate; server_max_window_bits=11");
    assert_params(&p, 1, 0, 0, 11, 15);
    wsc_buf_free(&b);
    tu_guard_free(copy, len);

    /* an element never runs from one header into the next */
    text = "GET / HTTP/1.1\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9\r\n"
           "Sec-WebSocket-Extensions: ; client_max_window_bits\r\n\r\n";
    len = strlen(text);
    copy = tu_guard_copy(text, len);
    assert_int_equal(wsc_http_parse_request((const char *)copy, len, 0, &r, 0), (int)len);
    assert_int_equal(wsc_pmd_negotiate_request(&r, NULL, &p, &b), WSC_EHANDSHAKE);
    tu_guard_free(copy, len);

    text = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    len = strlen(text);
    assert_int_equal(wsc_http_parse_request(text, len, 0, &r, 0), (int)len);
    assert_int_equal(wsc_pmd_negotiate_request(&r, NULL, &p, &b), WSC_OK);
    assert_int_equal(p.enabled, 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(wsc_pmd_negotiate_request(NULL, NULL, &p, &b), WSC_EINVAL);
}

/*
 * Both sides agree: for every offer the client can make and several server
 * policies, the server's answer passes the client's check and both end up
 * with the same parameters (or the server declines and the client sees no
 * extension).
 */
static void test_both_sides_agree(void **unused) {
    const wsc_pmd_server_config cfgs[] = {
        {0, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {0, 1, 0, 0, 0},  {0, 0, 9, 0, 0},
        {0, 0, 0, 10, 0}, {0, 0, 0, 10, 1}, {1, 1, 12, 8, 1},
    };
    const int smwbs[] = {0, 8, 9, 10, 11, 12, 13, 14, 15};
    const int cmwbs[] = {-1, 0, 8, 9, 10, 11, 12, 13, 14, 15};
    size_t checked = 0, declined = 0;
    for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++)
        for (int snct = 0; snct < 2; snct++)
            for (int cnct = 0; cnct < 2; cnct++)
                for (size_t si = 0; si < 9; si++)
                    for (size_t mi = 0; mi < 10; mi++) {
                        wsc_pmd_offer o = {snct, cnct, smwbs[si], cmwbs[mi]};
                        wsc_buf offer = {0}, resp = {0};
                        assert_int_equal(wsc_pmd_offer_format(&o, &offer), WSC_OK);
                        wsc_pmd_params sp, cp;
                        assert_int_equal(wsc_pmd_negotiate_server((const char *)offer.data, offer.len, &cfgs[ci],
                                                                  &sp, &resp),
                                         WSC_OK);
                        wsc_error err = {0};
                        int rc = wsc_pmd_check_response((const char *)resp.data, resp.len, &o, &cp, &err);
                        if (rc != WSC_OK)
                            fail_msg("offer '%.*s' answer '%.*s': %s", (int)offer.len, (const char *)offer.data,
                                     (int)resp.len, (const char *)resp.data, err.message);
                        if (memcmp(&sp, &cp, sizeof sp) != 0)
                            fail_msg("offer '%.*s' answer '%.*s': server {%d,%d,%d,%d,%d} client {%d,%d,%d,%d,%d}",
                                     (int)offer.len, (const char *)offer.data, (int)resp.len,
                                     (const char *)resp.data, sp.enabled, sp.server_no_context_takeover,
                                     sp.client_no_context_takeover, sp.server_max_window_bits,
                                     sp.client_max_window_bits, cp.enabled, cp.server_no_context_takeover,
                                     cp.client_no_context_takeover, cp.server_max_window_bits,
                                     cp.client_max_window_bits);
                        /* what was asked for holds */
                        if (sp.enabled) {
                            if (o.server_no_context_takeover) assert_true(sp.server_no_context_takeover);
                            if (o.server_max_window_bits)
                                assert_true(sp.server_max_window_bits <= o.server_max_window_bits);
                            if (o.client_max_window_bits > 0)
                                assert_true(sp.client_max_window_bits <= o.client_max_window_bits);
                            if (cfgs[ci].server_max_window_bits)
                                assert_true(sp.server_max_window_bits <= cfgs[ci].server_max_window_bits);
                        } else {
                            declined++;
                        }
                        checked++;
                        wsc_buf_free(&offer);
                        wsc_buf_free(&resp);
                    }
    assert_int_equal(checked, 7 * 2 * 2 * 9 * 10);
    /* only the two "require" policies decline, and only offers without
       client_max_window_bits */
    assert_int_equal(declined, 2 * 2 * 2 * 9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_format),
        cmocka_unit_test(test_check_response),
        cmocka_unit_test(test_server_browsers_and_libraries),
        cmocka_unit_test(test_server_preference_order),
        cmocka_unit_test(test_server_config),
        cmocka_unit_test(test_server_malformed),
        cmocka_unit_test(test_negotiate_request),
        cmocka_unit_test(test_both_sides_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
