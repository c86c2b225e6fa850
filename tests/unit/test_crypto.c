/* test_crypto.c - the primitives the core takes from the crypto library
 * (src/common.c): SHA-1 and random bytes through OpenSSL here, through the
 * Windows CNG API in the cross build (tests/windows/, run under wine), and
 * the base64 encoder of its own. Known answers from FIPS 180 and RFC 4648. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "internal.h"
#include "wsc/http.h"

static void hex(const uint8_t *d, size_t n, char *out) {
    static const char x[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha1_is(const void *a, size_t na, const void *b, size_t nb, const char *want) {
    uint8_t md[20];
    char h[41];
    assert_int_equal(wsc__sha1_2(a, na, b, nb, md), WSC_OK);
    hex(md, 20, h);
    assert_string_equal(h, want);
}

static void test_sha1(void **state) {
    (void)state;
    sha1_is("", 0, "", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_is("abc", 3, "", 0, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_is("a", 1, "bc", 2, "a9993e364706816aba3e25717850c26c9cd0d89d"); /* split anywhere */
    sha1_is("", 0, "abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    static const char m[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_is(m, 20, m + 20, sizeof m - 21, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* a million 'a' (past any one-shot buffer: the streaming path) */
    size_t n = 1000000;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    sha1_is(big, 999999, big, 1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    sha1_is(big, 1, big, 999999, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(big);
}

/* RFC 6455 section 1.3's example, end to end through the handshake code. */
static void test_accept_example(void **state) {
    (void)state;
    char out[29];
    assert_int_equal(wsc_handshake_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, out), WSC_OK);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    char key[25];
    const uint8_t raw[16] = "the sample nonce";
    wsc_handshake_key(raw, key);
    assert_string_equal(key, "dGhlIHNhbXBsZSBub25jZQ==");
}

static void test_base64(void **state) {
    (void)state;
    static const char *const v[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                       {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                       {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[16];
        memset(out, 'X', sizeof out);
        size_t n = wsc__base64((const uint8_t *)v[i][0], strlen(v[i][0]), out);
        assert_int_equal(n, strlen(v[i][1]));
        assert_string_equal(out, v[i][1]);
    }
    /* every byte value, against the alphabet's order */
    uint8_t all[3] = {0x00, 0x10, 0x83};
    char out[5];
    wsc__base64(all, 3, out);
    assert_string_equal(out, "ABCD");
    all[0] = 0xfb, all[1] = 0xff, all[2] = 0xbf;
    wsc__base64(all, 3, out);
    assert_string_equal(out, "+/+/");
}

static void test_random(void **state) {
    (void)state;
    uint8_t a[32], b[32], zero[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(zero, 0, sizeof zero);
    assert_int_equal(wsc__random_bytes(a, sizeof a), WSC_OK);
    assert_int_equal(wsc__random_bytes(b, sizeof b), WSC_OK);
    /* 2^-256 chances each of being wrong: not a flake */
    assert_memory_not_equal(a, zero, sizeof a);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(wsc__random_bytes(a, 0), WSC_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_accept_example),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
