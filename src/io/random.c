/*
 * random.c - the randomness of the connection layers (internal.h:
 * wsc__random) and wsc_global_init(), which makes sure the crypto library
 * and its random generator work before the first connection needs them.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "internal.h"
#include "wsc/http.h"

/* ------------------------------------------------------------------ */
/* Randomness                                                          */
/* ------------------------------------------------------------------ */

/* Frame masks need 4 random bytes per frame; RAND_bytes costs a lock, a
   DRBG step and a getpid(), so draw 1 KiB at a time per thread (256 frames). */
static _Thread_local uint8_t rnd_pool[1024];
static _Thread_local size_t rnd_left;

/* Tests only (like wsc__test_resolve in resolve.c): when set, every draw
   (frame masks, the handshake key, reconnect jitter) comes from here, so a
   test can pin the bytes on the wire and the delays. NULL in every program;
   it costs one load and branch per draw. Not declared in a header on
   purpose: a test declares it itself. */
extern int (*wsc__test_random)(void *buf, size_t len);
int (*wsc__test_random)(void *buf, size_t len);

int wsc__random(void *user, void *buf, size_t len) {
    (void)user;
    if (wsc__test_random) return wsc__test_random(buf, len);
    uint8_t *out = buf;
    while (len) {
        if (rnd_left == 0) {
            if (RAND_bytes(rnd_pool, (int)sizeof rnd_pool) != 1) return -1;
            rnd_left = sizeof rnd_pool;
        }
        size_t n = len < rnd_left ? len : rnd_left;
        memcpy(out, rnd_pool + sizeof rnd_pool - rnd_left, n);
        /* Never hand out the same bytes twice. */
        memset(rnd_pool + sizeof rnd_pool - rnd_left, 0, n);
        rnd_left -= n;
        out += n;
        len -= n;
    }
    return 0;
}

int wsc_global_init(void) {
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1) return WSC_EIO;
    uint8_t b[4];
    if (wsc__random(NULL, b, sizeof b)) return WSC_EIO;
    char accept[29];
    return wsc_handshake_accept("wsc", 3, accept) == WSC_OK ? WSC_OK : WSC_EIO;
}

