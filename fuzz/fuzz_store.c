/* fuzz_store.c - the token store opening a corrupt database file.
 *
 * The input is written as the store file (mode 0600, in a private 0700
 * directory), then opened and used: get, list, set, delete, get again.
 * Checked: no crash, leak or sanitizer report; every call returns WSC_OK or
 * an error code with a message; a token read back is a valid token; after
 * a successful set, get returns exactly what was set.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wsc/store.h"

static char g_dir[64], g_path[96];

static int count(const char *origin, const char *key, int64_t updated, void *user) {
    (void)origin;
    (void)key;
    (void)updated;
    ++*(int *)user;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_dir[0]) {
        strcpy(g_dir, "/tmp/wsc-fuzz-store.XXXXXX");
        if (!mkdtemp(g_dir)) abort();
        snprintf(g_path, sizeof g_path, "%s/tokens.db", g_dir);
        setenv("WSC_STORE_BUSY_MS", "0", 1);
    }
    FILE *f = fopen(g_path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    chmod(g_path, 0600);
    wsc_error e;
    wsc_store *s = wsc_store_open(g_path, &e);
    if (!s) {
        if (e.code == WSC_OK || !e.message[0]) abort();
        unlink(g_path);
        return 0;
    }
    const char *origin = "wss://example.com:443";
    char *v = NULL;
    if (wsc_store_get(s, origin, NULL, &v, &e) == WSC_OK && v) {
        if (!wsc_token_valid(v, strlen(v))) abort();
    }
    wsc_store_free(v);
    int n = 0;
    wsc_store_list(s, NULL, count, &n, &e);
    if (wsc_store_set(s, origin, NULL, "fuzz-token", &e) == WSC_OK) {
        v = NULL;
        if (wsc_store_get(s, origin, NULL, &v, &e) != WSC_OK || !v || strcmp(v, "fuzz-token") != 0) abort();
        wsc_store_free(v);
    }
    wsc_store_delete(s, origin, "other", &e);
    wsc_store_close(s);
    unlink(g_path);
    char j[128];
    snprintf(j, sizeof j, "%s-journal", g_path);
    unlink(j);
    return 0;
}
