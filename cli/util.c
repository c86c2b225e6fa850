/*
 * util.c - helpers shared by the wsc command (see util.h).
 */
#define _GNU_SOURCE
#include "util.h"
#include "internal.h"
#include "output.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

cli_colors g_colors;

void cli_colors_init(int no_color) {
    const char *nc = getenv("NO_COLOR");
    int off = no_color || (nc && nc[0]);
    g_colors.out = !off && isatty(STDOUT_FILENO);
    g_colors.err = !off && isatty(STDERR_FILENO);
}

static void verror(const char *fmt, va_list ap, const char *suffix) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One line: never let a message (e.g. from a server) break it. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    out_mask_secret(msg, sizeof msg); /* server texts may carry the token */
    fflush(stdout);
    if (g_colors.err)
        fprintf(stderr, C_RED "wsc: %s%s" C_RESET "\n", msg, suffix);
    else
        fprintf(stderr, "wsc: %s%s\n", msg, suffix);
    fflush(stderr);
}

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(fmt, ap, "");
    va_end(ap);
}

static const char *g_usage_hint = " (see 'wsc --help')";

void cli_set_usage_hint(const char *hint) { g_usage_hint = hint; }

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror(fmt, ap, g_usage_hint);
    va_end(ap);
    return EXIT_USAGE;
}

static void oom(void) {
    static const char m[] = "wsc: out of memory\n";
    (void)!write(STDERR_FILENO, m, sizeof m - 1);
    exit(EXIT_CONNECT);
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom();
    return p;
}

void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom();
    return p;
}

void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom();
    return q;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n) {
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* The library's wiper (a volatile memset: explicit_bzero is not on macOS). */
void cli_wipe(void *p, size_t n) { wsc__wipe(p, n); }

void cli_free_secret(char *s) {
    if (!s) return;
    cli_wipe(s, strlen(s));
    free(s);
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *out) {
    if (!s || !*s) return -1;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int parse_seconds(const char *s, unsigned long long max_ms, unsigned long long *out_ms) {
    if (!s || !*s) return -1;
    /* strtod accepts forms we do not want (hex, inf, nan, leading space). */
    int dot = 0, digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.' && !dot) dot = 1;
        else if (*p >= '0' && *p <= '9') digits++;
        else return -1;
    }
    if (!digits) return -1;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno || !isfinite(v) || v < 0) return -1;
    double ms = v * 1000.0;
    if (ms > (double)max_ms) return -1;
    *out_ms = (unsigned long long)llround(ms);
    return 0;
}

int parse_size(const char *s, unsigned long long max, unsigned long long *out) {
    if (!s || !*s) return -1;
    size_t n = strlen(s);
    unsigned long long mult = 1;
    char last = s[n - 1];
    if (last == 'k' || last == 'K') mult = 1ull << 10;
    else if (last == 'm' || last == 'M') mult = 1ull << 20;
    else if (last == 'g' || last == 'G') mult = 1ull << 30;
    char num[32];
    size_t len = mult == 1 ? n : n - 1;
    if (len == 0 || len >= sizeof num) return -1;
    memcpy(num, s, len);
    num[len] = 0;
    unsigned long long v;
    if (parse_uint(num, max / mult, &v) || v == 0) return -1;
    *out = v * mult;
    return 0;
}

int cli_close_status(unsigned code) {
    switch (code) {
    case 1002: /* protocol error */
    case 1007: /* invalid message data */
    case 1009: /* message too big */
        return EXIT_PROTOCOL;
    case 1003: /* the server refused what it got, or failed */
    case 1008:
    case 1010:
    case 1011:
        return EXIT_REFUSED;
    default: return EXIT_OK;
    }
}

const char *cli_close_name(unsigned code) {
    switch (code) {
    case 1002: return "protocol error";
    case 1003: return "unsupported data";
    case 1007: return "invalid message data";
    case 1008: return "policy violation";
    case 1009: return "message too big";
    case 1010: return "mandatory extension";
    case 1011: return "internal error";
    default: return "";
    }
}

int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

size_t utf8_width(const char *s, size_t len) {
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) w++;
    return w;
}

void cli_getopt_reset(void) {
    optind = 0;
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
    optreset = 1;
#endif
}
