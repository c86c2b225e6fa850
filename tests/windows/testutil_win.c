/* testutil_win.c - the helpers of tests/util/testutil.h that the protocol
 * core's unit tests use, for the Windows cross build: guard-page buffers
 * through VirtualAlloc/VirtualProtect (the POSIX build uses mmap/mprotect),
 * and the portable helpers, the same code as in testutil.c. The peer and
 * loop helpers have no Windows build yet (the connection layer has none). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "testutil.h"

static size_t page_size(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
}

/* Whole pages for len bytes, plus the PROT_NONE (PAGE_NOACCESS) page. */
static size_t guard_span(size_t len) {
    size_t ps = page_size();
    return (len + ps - 1) / ps * ps + ps;
}

uint8_t *tu_guard_copy(const void *data, size_t len) {
    size_t ps = page_size(), span = guard_span(len);
    uint8_t *base = VirtualAlloc(NULL, span, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (!base) return NULL;
    DWORD old;
    if (!VirtualProtect(base + span - ps, ps, PAGE_NOACCESS, &old)) {
        VirtualFree(base, 0, MEM_RELEASE);
        return NULL;
    }
    uint8_t *p = base + span - ps - len;
    if (len) memcpy(p, data, len);
    return p;
}

void tu_guard_free(uint8_t *p, size_t len) {
    size_t ps = page_size(), span = guard_span(len);
    VirtualFree(p + len + ps - span, 0, MEM_RELEASE);
}

int tu_fixed_random(void *user, void *buf, size_t len) {
    static uint8_t counter = 0x37;
    uint8_t *b = buf;
    uint8_t c = user ? *(uint8_t *)user : counter;
    for (size_t i = 0; i < len; i++) b[i] = c++;
    if (user) *(uint8_t *)user = c;
    else counter = c;
    return 0;
}

size_t tu_unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        if (isspace((unsigned char)*hex)) continue;
        int v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower((unsigned char)*hex) - 'a' + 10);
        if (hi < 0) hi = v;
        else {
            if (n < cap) out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

uint8_t *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(sz > 0 ? (size_t)sz : 1);
    if (buf && sz > 0 && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)sz;
    return buf;
}
