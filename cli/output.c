/*
 * output.c - formatting and printing for the wsc command (see output.h).
 */
#define _GNU_SOURCE
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

/* ------------------------------------------------------------------ */
/* Building text                                                       */
/* ------------------------------------------------------------------ */

static void oom_exit(void) {
    static const char m[] = "wsc: out of memory\n";
    (void)!write(STDERR_FILENO, m, sizeof m - 1);
    exit(EXIT_CONNECT);
}

static void put(wsc_buf *b, const void *p, size_t n) {
    if (n && wsc_buf_append(b, p, n) != WSC_OK) oom_exit();
}

static void putc1(wsc_buf *b, char c) { put(b, &c, 1); }

void buf_puts(wsc_buf *b, const char *s) { put(b, s, strlen(s)); }

void buf_put(wsc_buf *b, const void *p, size_t n) { put(b, p, n); }

void buf_printf(wsc_buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        put(b, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put(b, big, (size_t)n);
    free(big);
}

void buf_prefix_lines(wsc_buf *dst, const char *src, size_t n, const char *first, const char *rest) {
    const char *pfx = first;
    size_t i = 0;
    do {
        const char *nl = memchr(src + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - src) : n;
        buf_puts(dst, pfx);
        put(dst, src + i, end - i);
        putc1(dst, '\n');
        pfx = rest;
        i = end + 1;
    } while (i < n);
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void newline_indent(wsc_buf *b, int indent, size_t depth) {
    putc1(b, '\n');
    for (size_t i = 0; i < depth * (size_t)indent; i++) putc1(b, ' ');
}

void fmt_json(wsc_buf *b, const char *s, size_t n, int indent, int color) {
    /* Container stack: 1 for an object, 0 for an array. */
    size_t depth = 0, cap = 64;
    unsigned char *stack = xmalloc(cap);
    int expect_key = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (is_ws(c)) {
            i++;
            continue;
        }
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
            if (j >= n) j = n - 1;
            if (color) buf_puts(b, expect_key ? C_KEY : C_GREEN);
            put(b, s + i, j + 1 - i);
            if (color) buf_puts(b, C_RESET);
            i = j + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            size_t j = i + 1;
            while (j < n && is_ws(s[j])) j++;
            if (j < n && s[j] == (c == '{' ? '}' : ']')) {
                put(b, c == '{' ? "{}" : "[]", 2);
                i = j + 1;
                expect_key = 0;
                continue;
            }
            if (depth == cap) stack = xrealloc(stack, cap *= 2);
            stack[depth++] = c == '{';
            putc1(b, c);
            if (indent) newline_indent(b, indent, depth);
            expect_key = c == '{';
            i++;
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth) depth--;
            if (indent) newline_indent(b, indent, depth);
            putc1(b, c);
            expect_key = 0;
            i++;
            continue;
        }
        if (c == ',') {
            putc1(b, ',');
            if (indent) newline_indent(b, indent, depth);
            expect_key = depth && stack[depth - 1];
            i++;
            continue;
        }
        if (c == ':') {
            put(b, ": ", indent ? 2 : 1);
            expect_key = 0;
            i++;
            continue;
        }
        /* A number or a literal: up to the next delimiter. */
        size_t j = i;
        while (j < n && !is_ws(s[j]) && s[j] != ',' && s[j] != ':' && s[j] != ']' && s[j] != '}') j++;
        if (j == i) j = i + 1;
        if (color) buf_puts(b, c == 'n' ? C_GREY : (c == 't' || c == 'f') ? C_YELLOW : C_CYAN);
        put(b, s + i, j - i);
        if (color) buf_puts(b, C_RESET);
        i = j;
    }
    free(stack);
}

void fmt_hex(wsc_buf *b, const uint8_t *data, size_t n) {
    static const char hd[] = "0123456789abcdef";
    if (wsc_buf_reserve(b, n * 2) != WSC_OK) oom_exit();
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = (uint8_t)hd[data[i] >> 4];
        b->data[b->len++] = (uint8_t)hd[data[i] & 15];
    }
}

void fmt_base64(wsc_buf *b, const uint8_t *d, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (wsc_buf_reserve(b, (n + 2) / 3 * 4) != WSC_OK) oom_exit();
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        b->data[b->len++] = (uint8_t)t[v >> 18];
        b->data[b->len++] = (uint8_t)t[(v >> 12) & 63];
        b->data[b->len++] = (uint8_t)t[(v >> 6) & 63];
        b->data[b->len++] = (uint8_t)t[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)d[i] << 16;
        b->data[b->len++] = (uint8_t)t[v >> 18];
        b->data[b->len++] = (uint8_t)t[(v >> 12) & 63];
        b->data[b->len++] = '=';
        b->data[b->len++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
        b->data[b->len++] = (uint8_t)t[v >> 18];
        b->data[b->len++] = (uint8_t)t[(v >> 12) & 63];
        b->data[b->len++] = (uint8_t)t[(v >> 6) & 63];
        b->data[b->len++] = '=';
    }
}

void fmt_hexdump(wsc_buf *b, const uint8_t *data, size_t n, size_t max, int color) {
    size_t shown = n < max ? n : max;
    for (size_t off = 0; off < shown; off += 16) {
        if (color) buf_puts(b, C_GREY);
        buf_printf(b, "%08zx", off);
        if (color) buf_puts(b, C_RESET);
        buf_puts(b, "  ");
        for (size_t k = 0; k < 16; k++) {
            if (off + k < shown) buf_printf(b, "%02x ", data[off + k]);
            else buf_puts(b, "   ");
            if (k == 7) putc1(b, ' ');
        }
        buf_puts(b, " |");
        for (size_t k = 0; k < 16 && off + k < shown; k++) {
            uint8_t c = data[off + k];
            putc1(b, c >= 0x20 && c < 0x7f ? (char)c : '.');
        }
        buf_puts(b, "|\n");
    }
    if (shown < n) buf_printf(b, "... %zu more byte%s\n", n - shown, n - shown == 1 ? "" : "s");
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void fmt_text_safe(wsc_buf *b, const uint8_t *s, size_t n, int color) {
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(s + i, n - i);
        int ctrl;
        if (k == 1) ctrl = (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f;
        else if (k == 2) ctrl = s[i] == 0xc2 && s[i + 1] < 0xa0; /* C1 controls U+0080-U+009F */
        else ctrl = k == 0;
        if (!ctrl) {
            put(b, s + i, k);
            i += k;
            continue;
        }
        size_t m = k ? k : 1;
        if (color) buf_puts(b, C_DIM);
        for (size_t j = 0; j < m; j++) buf_printf(b, "\\x%02x", s[i + j]);
        if (color) buf_puts(b, C_RESET);
        i += m;
    }
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

static struct {
    void (*hide)(void *);
    void (*show)(void *);
    void *user;
    wsc_loop *loop;
    wsc_timer *flush;
    int quiet;
    int out_tty;
    int failed;
} g_out;

void out_set_editor(void (*hide)(void *), void (*show)(void *), void *user) {
    g_out.hide = hide;
    g_out.show = show;
    g_out.user = user;
}

static void on_flush(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)loop;
    (void)t;
    (void)user;
    out_flush();
}

void out_init(wsc_loop *loop) {
    g_out.loop = loop;
    g_out.out_tty = isatty(STDOUT_FILENO);
    if (loop && !g_out.out_tty) g_out.flush = wsc_timer_new(loop, on_flush, NULL, NULL);
}

void out_done(void) {
    out_flush();
    wsc_timer_free(g_out.flush);
    g_out.flush = NULL;
    g_out.loop = NULL;
}

int out_flush(void) {
    if (fflush(stdout) != 0) g_out.failed = 1;
    return g_out.failed ? -1 : 0;
}

int out_print(int fd, const char *text, size_t len) {
    FILE *f = fd == STDERR_FILENO ? stderr : stdout;
    if (g_out.hide) g_out.hide(g_out.user);
    if (f == stderr) fflush(stdout); /* keep the order of both streams on a terminal */
    if (len && fwrite(text, 1, len, f) != len) g_out.failed = 1;
    if (f == stderr || !g_out.flush) {
        if (fflush(f) != 0 && f == stdout) g_out.failed = 1;
    } else if (!wsc_timer_active(g_out.flush)) {
        wsc_timer_start(g_out.flush, 0);
    }
    if (g_out.show) g_out.show(g_out.user);
    return g_out.failed && f == stdout ? -1 : 0;
}

void out_set_quiet(int quiet) { g_out.quiet = quiet; }

void out_status(int level, const char *fmt, ...) {
    if (g_out.quiet && level != ST_ERROR) return;
    wsc_buf b = {0};
    const char *col = NULL;
    if (g_colors.err) {
        switch (level) {
        case ST_GOOD: col = C_GREEN; break;
        case ST_INFO: col = NULL; break;
        case ST_WARN: col = C_YELLOW; break;
        case ST_ERROR: col = C_RED; break;
        case ST_TRACE: col = C_DIM; break;
        }
    }
    if (col) buf_puts(&b, col);
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    for (char *p = small; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    out_mask_secret(small, sizeof small); /* server texts may carry the token */
    buf_puts(&b, small);
    if (col) buf_puts(&b, C_RESET);
    buf_puts(&b, "\n");
    out_print(STDERR_FILENO, (const char *)b.data, b.len);
    wsc_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Masking secrets in handshake heads                                  */
/* ------------------------------------------------------------------ */

static const char MASK[] = "***";

/* The length of the prefix of p that spells the token t, each byte as
   itself or as %XX in either case of hex digit (a server that quotes the
   request URL may re-encode it, fully, partly or in lower case); 0 if
   none. */
static size_t token_spelled_at(const char *p, const char *t) {
    static const char hex[] = "0123456789abcdef";
    const char *q = p;
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if ((unsigned char)*q == c) q++;
        else if (*q == '%' && q[1] && q[2] && (q[1] | 0x20) == hex[c >> 4] && (q[2] | 0x20) == hex[c & 15]) q += 3;
        else return 0;
    }
    return (size_t)(q - p);
}

/* Replaces every spelling of the token in *s (malloc'd, NUL-terminated). */
static void replace_all(char **s, const char *token) {
    if (!*token) return;
    wsc_buf out = {0};
    const char *p = *s, *run = p;
    int any = 0;
    while (*p) {
        size_t n = token_spelled_at(p, token);
        if (!n) {
            p++;
            continue;
        }
        put(&out, run, (size_t)(p - run));
        buf_puts(&out, MASK);
        p += n;
        run = p;
        any = 1;
    }
    if (!any) return;
    buf_puts(&out, run);
    putc1(&out, 0);
    cli_free_secret(*s);
    *s = (char *)out.data;
}

static int header_is(const char *line, size_t len, const char *name) {
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/* Masks one line (without its CRLF) into out. */
static void mask_line(wsc_buf *out, const char *line, size_t len, int first, const char *param) {
    if (first && param && *param) {
        /* Request line: "GET /path?a=1&csrf=TOKEN HTTP/1.1". */
        const char *q = memchr(line, '?', len);
        const char *end = line + len;
        const char *sp = q ? memchr(q, ' ', (size_t)(end - q)) : NULL;
        if (q && sp) {
            put(out, line, (size_t)(q + 1 - line));
            size_t pl = strlen(param);
            const char *p = q + 1;
            while (p < sp) {
                const char *amp = memchr(p, '&', (size_t)(sp - p));
                const char *e = amp ? amp : sp;
                const char *eq = memchr(p, '=', (size_t)(e - p));
                if (eq && (size_t)(eq - p) == pl && memcmp(p, param, pl) == 0) {
                    put(out, p, (size_t)(eq + 1 - p));
                    buf_puts(out, MASK);
                } else {
                    put(out, p, (size_t)(e - p));
                }
                if (amp) putc1(out, '&');
                p = e + 1;
            }
            put(out, sp, (size_t)(end - sp));
            return;
        }
    }
    if (header_is(line, len, "Cookie")) {
        /* Every cookie value: "Cookie: a=***; b=***". */
        const char *p = memchr(line, ':', len) + 1, *end = line + len;
        put(out, line, (size_t)(p - line));
        while (p < end) {
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *e = semi ? semi : end;
            const char *eq = memchr(p, '=', (size_t)(e - p));
            if (eq) {
                put(out, p, (size_t)(eq + 1 - p));
                buf_puts(out, MASK);
            } else {
                put(out, p, (size_t)(e - p));
            }
            if (semi) putc1(out, ';');
            p = e + 1;
        }
        return;
    }
    if (header_is(line, len, "Set-Cookie")) {
        /* "Set-Cookie: name=***; Path=/; HttpOnly": the value only. */
        const char *p = memchr(line, ':', len) + 1, *end = line + len;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *e = semi ? semi : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq) {
            put(out, line, (size_t)(eq + 1 - line));
            buf_puts(out, MASK);
            put(out, e, (size_t)(end - e));
            return;
        }
    }
    if (header_is(line, len, "Authorization") || header_is(line, len, "Proxy-Authorization")) {
        /* Keep the scheme: "Authorization: Basic ***". */
        const char *p = memchr(line, ':', len) + 1, *end = line + len;
        while (p < end && *p == ' ') p++;
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        put(out, line, (size_t)((sp ? sp + 1 : p) - line));
        buf_puts(out, MASK);
        return;
    }
    put(out, line, len);
}

char *mask_head(const char *head, size_t len, const char *token, const char *param) {
    wsc_buf out = {0};
    size_t i = 0;
    int first = 1;
    while (i < len) {
        const char *nl = memchr(head + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - head) : len;
        size_t le = end;
        if (le > i && head[le - 1] == '\r') le--;
        mask_line(&out, head + i, le - i, first, param);
        put(&out, head + le, (nl ? end + 1 : end) - le);
        first = 0;
        i = nl ? end + 1 : len;
    }
    putc1(&out, 0);
    char *s = (char *)out.data;
    if (token && *token) {
        replace_all(&s, token);
    }
    return s;
}

/* The token, as the status lines must not show it. */
static const char *(*g_secret_fn)(void *user);
static void *g_secret_user;
static int g_secret_busy; /* the source may report an error: no recursion */

void out_set_secret_source(const char *(*fn)(void *user), void *user) {
    g_secret_fn = fn;
    g_secret_user = user;
}

void out_mask_secret(char *s, size_t cap) {
    if (!g_secret_fn || g_secret_busy || !cap) return;
    g_secret_busy = 1;
    const char *t = g_secret_fn(g_secret_user);
    char *tok = t && *t ? xstrdup(t) : NULL; /* the source's copy may change */
    g_secret_busy = 0;
    if (!tok) return;
    char *m = xstrdup(s);
    replace_all(&m, tok);
    size_t n = strlen(m);
    if (n >= cap) n = cap - 1;
    memcpy(s, m, n);
    s[n] = 0;
    cli_free_secret(m);
    cli_free_secret(tok);
}

void out_trace(int outgoing, const char *head, size_t len, const char *token, const char *param) {
    char *m = mask_head(head, len, token, param);
    wsc_buf b = {0};
    const char *p = m;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t end = nl ? (size_t)(nl - p) : strlen(p);
        size_t le = end;
        if (le && p[le - 1] == '\r') le--;
        if (le || nl == NULL) {
            if (g_colors.err) buf_puts(&b, C_DIM);
            buf_puts(&b, outgoing ? "> " : "< ");
            fmt_text_safe(&b, (const uint8_t *)p, le, 0);
            if (g_colors.err) buf_puts(&b, C_RESET);
            putc1(&b, '\n');
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (b.len) out_print(STDERR_FILENO, (const char *)b.data, b.len);
    wsc_buf_free(&b);
    cli_free_secret(m);
}
