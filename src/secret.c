/*
 * secret.c - memory for secrets (secret.h): one mapping per secret,
 * excluded from core dumps, locked when allowed, wiped when freed.
 *
 * Layout of an allocation: a 16-byte header holding the mapping's length,
 * then the caller's bytes. The header keeps the caller's pointer 16-byte
 * aligned, as malloc's would be.
 */
#define _GNU_SOURCE
#include "secret.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>


#include "internal.h"

#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#define SECRET_MAPPED 1
#else
#define SECRET_MAPPED 0
#endif

#define HDR 16

void *wsc__secret_alloc(size_t n) {
    if (n == 0 || n > SIZE_MAX / 2) return NULL;
#if SECRET_MAPPED
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    size_t len = (n + HDR + page - 1) / page * page;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
#ifdef MADV_DONTDUMP
    madvise(m, len, MADV_DONTDUMP);
#endif
    /* Best effort: RLIMIT_MEMLOCK (often 8 MiB, sometimes 0) may refuse it. */
    (void)mlock(m, len);
#else
    size_t len = n + HDR;
    void *m = wsc__calloc(1, len);
    if (!m) return NULL;
#endif
    memcpy(m, &len, sizeof len);
    return (char *)m + HDR;
}

char *wsc__secret_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *p = wsc__secret_alloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

void wsc__secret_free(void *p) {
    if (!p) return;
    char *m = (char *)p - HDR;
    size_t len;
    memcpy(&len, m, sizeof len);
    wsc__wipe(m, len);
#if SECRET_MAPPED
    munlock(m, len);
    munmap(m, len);
#else
    wsc__free(m);
#endif
}

int wsc__secret_is_dontdump(const void *p) {
#if SECRET_MAPPED && defined(MADV_DONTDUMP)
    /* /proc/self/smaps lists "dd" in VmFlags for such a mapping. */
    uintptr_t want = (uintptr_t)((const char *)p - HDR);
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f) return 0;
    char line[512];
    int in = 0, found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = want >= lo && want < hi;
        } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            found = strstr(line, " dd") != NULL;
            break;
        }
    }
    fclose(f);
    return found;
#else
    (void)p;
    return 0;
#endif
}
