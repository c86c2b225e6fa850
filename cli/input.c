/*
 * input.c - what the client sends: standard input (or the output of the
 * --exec program), one message per line (or per NUL-terminated record with
 * -0; per chunk read with --exec-raw), read only as fast as the connection
 * takes it; and --file, read whole, with its progress bar on a terminal.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "output.h"
#include "util.h"

#define LINE_MAX_BYTES ((size_t)64 << 20)
#define FLOW_MAX_QUEUED 512u
#define FLOW_MAX_BUFFERED ((uint64_t)8 << 20)
#define PROGRESS_MIN_BYTES ((size_t)1 << 20)

void app_stop_input(app *a) {
    if (a->in_watch) {
        wsc_watch_free(a->in_watch);
        a->in_watch = NULL;
    }
    if (a->in_timer) wsc_timer_stop(a->in_timer);
}

/* ------------------------------------------------------------------ */
/* stdin, one message per line                                         */
/* ------------------------------------------------------------------ */

static int flow_ok(const app *a) {
    /* Unconfirmed messages count in the client's queue limits too. */
    return wsc_client_queued(a->client) + wsc_client_unconfirmed(a->client) < FLOW_MAX_QUEUED &&
           wsc_client_buffered_amount(a->client) < FLOW_MAX_BUFFERED;
}

static int starts_with(const char *s, size_t n, const char *pfx) {
    size_t pl = pfx ? strlen(pfx) : 0;
    return pl && n >= pl && memcmp(s, pfx, pl) == 0;
}

/* The rest of a line after an explicit --binary-prefix: hex, or base64 with
   --base64, as wsc writes binary messages. -1 if it is not. */
static int decode_binary(const app *a, const char *s, size_t n, uint8_t **out, size_t *outlen) {
    uint8_t *d = xmalloc(n / 2 + 3);
    size_t k = 0;
    if (a->o->base64) {
        if (n % 4) goto bad;
        int r = n ? EVP_DecodeBlock(d, (const unsigned char *)s, (int)n) : 0;
        if (r < 0) goto bad;
        k = (size_t)r - (n && s[n - 1] == '=') - (n > 1 && s[n - 2] == '=');
    } else {
        if (n % 2) goto bad;
        for (size_t i = 0; i < n; i += 2) {
            char h[3] = {s[i], s[i + 1], 0};
            char *end;
            if (!isxdigit((unsigned char)h[0]) || !isxdigit((unsigned char)h[1])) goto bad;
            d[k++] = (uint8_t)strtoul(h, &end, 16);
        }
    }
    *out = d;
    *outlen = k;
    return 0;
bad:
    free(d);
    return -1;
}

static void send_line(app *a, const char *s, size_t n) {
    if (n && s[n - 1] == '\r' && !a->o->null_sep) n--;
    char where[40];
    snprintf(where, sizeof where, "line %lu", a->lineno);
    /* As websocat: an explicit prefix at the start of a line chooses the
       message's type (and is not sent). */
    if (starts_with(s, n, a->o->binary_prefix)) {
        size_t pl = strlen(a->o->binary_prefix);
        uint8_t *bin;
        size_t bl;
        if (decode_binary(a, s + pl, n - pl, &bin, &bl) != 0) {
            app_report("%s: not %s after --binary-prefix; not sent", where, a->o->base64 ? "base64" : "hex");
            a->skipped++;
            return;
        }
        app_send(a, SEND_BINARY, (const char *)bin, bl, where);
        free(bin);
        return;
    }
    if (starts_with(s, n, a->o->text_prefix)) {
        size_t pl = strlen(a->o->text_prefix);
        app_send(a, SEND_TEXT, s + pl, n - pl, where);
        return;
    }
    if (a->send_kind == SEND_JSON) {
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i == n) return; /* blank lines carry no JSON */
    }
    app_send(a, a->send_kind, s, n, where);
}

/* Sends the complete lines read so far, as long as the client keeps up
   (its queue is bounded). Returns 1 if it had to stop for that. */
static int process_input(app *a) {
    if (a->o->exec_raw) {
        /* --exec-raw: each chunk read is one binary message. */
        size_t n = wsc_buf_pending(&a->inbuf);
        if (!n || a->closing || a->done) return 0;
        if (!flow_ok(a)) return 1;
        char where[40];
        snprintf(where, sizeof where, "chunk %lu", ++a->lineno);
        app_send(a, SEND_BINARY, (const char *)a->inbuf.data + a->inbuf.off, n, where);
        wsc_buf_consume(&a->inbuf, n);
        return 0;
    }
    while (!a->closing && !a->done) {
        const char *p = (const char *)a->inbuf.data + a->inbuf.off;
        size_t n = wsc_buf_pending(&a->inbuf);
        const char *nl = n ? memchr(p, a->o->null_sep ? 0 : '\n', n) : NULL;
        if (!nl) {
            if (n > LINE_MAX_BYTES || (a->line_too_long && n)) {
                /* Too long to be a message: dropped up to its end. */
                a->line_too_long = 1;
                wsc_buf_consume(&a->inbuf, n);
            }
            return 0;
        }
        if (!flow_ok(a)) return 1;
        size_t len = (size_t)(nl - p);
        a->lineno++;
        if (a->line_too_long || len > LINE_MAX_BYTES) {
            app_report("line %lu: longer than %zu MiB; not sent", a->lineno, LINE_MAX_BYTES >> 20);
            a->skipped++;
            a->line_too_long = 0;
        } else {
            send_line(a, p, len);
        }
        wsc_buf_consume(&a->inbuf, len + 1);
    }
    return 0;
}

static void input_finished(app *a) {
    wsc_buf_free(&a->inbuf);
    app_stop_input(a);
    app_input_done(a);
}

static void pause_input(app *a) {
    if (a->in_watch) wsc_watch_set(a->in_watch, 0);
    a->in_paused = 1;
    wsc_timer_start(a->in_timer, 10);
}

/* Reads what stdin has (called when it is readable, or from a timer for a
   stdin that cannot be polled) and sends its lines. */
static void stdin_read(app *a) {
    if (a->in_eof || a->closing || a->done) return;
    if (wsc_buf_reserve(&a->inbuf, 65536) != WSC_OK) {
        app_report("out of memory reading standard input");
        a->in_eof = 1;
        input_finished(a);
        return;
    }
    ssize_t n = read(a->in_fd, a->inbuf.data + a->inbuf.len, a->inbuf.cap - a->inbuf.len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        if (!a->in_watch) wsc_timer_start(a->in_timer, 0);
        return;
    }
    if (n < 0) app_report("cannot read standard input: %s", strerror(errno));
    if (n <= 0) {
        a->in_eof = 1;
        /* The last line may have no newline. */
        if ((wsc_buf_pending(&a->inbuf) || a->line_too_long) && !a->o->exec_raw)
            wsc_buf_append(&a->inbuf, a->o->null_sep ? "" : "\n", 1);
    } else {
        a->inbuf.len += (size_t)n;
    }
    if (process_input(a)) {
        pause_input(a);
        return;
    }
    if (a->in_eof) input_finished(a);
    else if (!a->in_watch && !a->closing && !a->done) wsc_timer_start(a->in_timer, 0);
}

static void on_stdin(wsc_loop *l, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)l;
    (void)w;
    (void)fd;
    (void)events;
    stdin_read(user);
}

void app_on_in_timer(wsc_loop *l, wsc_timer *t, void *user) {
    (void)l;
    (void)t;
    app *a = user;
    if (a->closing || a->done) return;
    if (a->in_paused) {
        /* Waiting for the connection to catch up. */
        if (process_input(a)) {
            wsc_timer_start(a->in_timer, 10);
            return;
        }
        a->in_paused = 0;
        if (a->in_eof) {
            input_finished(a);
            return;
        }
        if (a->in_watch) {
            wsc_watch_set(a->in_watch, WSC_READABLE);
            return;
        }
    }
    stdin_read(a);
}

void app_input_start(app *a, int fd) {
    wsc_error err;
    a->in_fd = fd;
    a->in_watch = wsc_watch_new(a->loop, fd, WSC_READABLE, on_stdin, a, &err);
    /* A regular file or /dev/null cannot be polled: read it from a timer. */
    if (!a->in_watch) wsc_timer_start(a->in_timer, 0);
}

/* ------------------------------------------------------------------ */
/* --file and its progress bar                                         */
/* ------------------------------------------------------------------ */

int app_read_file(app *a, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) cap = (size_t)st.st_size + 1;
    uint8_t *data = xmalloc(cap);
    for (;;) {
        if (len == cap) data = xrealloc(data, cap *= 2);
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            cli_error("cannot read %s: %s", path, strerror(errno));
            free(data);
            close(fd);
            return -1;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    a->file_data = data;
    a->file_size = len;
    return 0;
}

static void progress_draw(app *a, int final) {
    uint64_t buffered = wsc_client_buffered_amount(a->client);
    size_t done = 0;
    if (wsc_client_is_connected(a->client)) done = buffered >= a->file_size ? 0 : a->file_size - (size_t)buffered;
    if (final) done = a->file_size;
    unsigned pct = a->file_size ? (unsigned)((double)done * 100.0 / (double)a->file_size) : 100;
    char bar[31];
    unsigned fill = pct * 30 / 100;
    for (unsigned i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\rsending %3u%% [%s] %.1f / %.1f MiB\033[K%s", pct, bar, (double)done / 1048576.0,
            (double)a->file_size / 1048576.0, final ? "\n" : "");
    fflush(stderr);
}

static void progress_hide(void *user) {
    (void)user;
    fputs("\r\033[K", stderr);
}

static void progress_show(void *user) { progress_draw(user, 0); }

/* The whole file is written: the bar at 100%, on its own line. */
void app_progress_finish(app *a) {
    if (!a->progress_on) return;
    out_set_editor(NULL, NULL, NULL);
    a->progress_on = 0;
    wsc_timer_stop(a->progress_timer);
    progress_draw(a, 1);
}

void app_on_progress(wsc_loop *l, wsc_timer *t, void *user) {
    (void)l;
    (void)t;
    app *a = user;
    if (!a->progress_on) return;
    if (wsc_client_is_connected(a->client) && wsc_client_buffered_amount(a->client) == 0) {
        app_progress_finish(a);
        return;
    }
    progress_draw(a, 0);
    wsc_timer_start(a->progress_timer, 100);
}

void app_progress_stop(app *a) {
    if (!a->progress_on) return;
    a->progress_on = 0;
    out_set_editor(NULL, NULL, NULL);
    progress_hide(a);
    fflush(stderr);
}

/* The file is handed to the client: a progress bar while it is written, when
   it is big and stderr is a terminal. */
void app_progress_start(app *a) {
    if (a->file_size > PROGRESS_MIN_BYTES && isatty(STDERR_FILENO) && !a->o->quiet) {
        a->progress_on = 1;
        out_set_editor(progress_hide, progress_show, a);
        wsc_timer_start(a->progress_timer, 100);
    }
}
