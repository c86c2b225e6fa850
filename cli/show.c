/*
 * show.c - how a message received is written (wsc(1), "OUTPUT").
 *
 * Interactive: after "< ", JSON indented (compact with --compact), text made
 * safe for the terminal, binary as a hex dump (or base64).
 *
 * Otherwise one message per record (a line, or NUL-terminated with -0):
 *   text    exactly as received (no JSON reformatting unless --compact or
 *           --pretty); in line mode a newline inside the message is written
 *           as the two characters \n, since a raw one would split the record;
 *           after --text-prefix (default none)
 *   binary  after --binary-prefix (default "[binary] "), in lower-case hex
 *           or base64; on a terminal a hex dump after a "[binary] N bytes"
 *           line instead
 * On a terminal, control characters of text are shown as escapes (\x1b) so
 * that a message cannot drive the terminal; into a pipe the bytes are
 * written as they are.
 */
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "output.h"
#include "util.h"

#define DUMP_MAX_BYTES 4096u

/* The default marker of binary messages outside interactive mode. */
const char *const SHOW_BINARY_PREFIX = "[binary] ";

/* Appends data with every LF written as "\n" (line mode). */
static void put_escaped_newlines(wsc_buf *b, const uint8_t *data, size_t len) {
    size_t i = 0;
    while (i < len) {
        const uint8_t *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len;
        if (end > i) buf_put(b, data + i, end - i);
        if (!nl) break;
        buf_puts(b, "\\n");
        i = end + 1;
    }
}

static void show_interactive(app *a, wsc_buf *b, const uint8_t *data, size_t len, int binary, int is_json) {
    int col = g_colors.out;
    wsc_buf body = {0};
    const char *first = col ? C_CYAN "< " C_RESET : "< ";
    if (binary) {
        buf_printf(b, "%s%sbinary message, %zu byte%s%s\n", first, col ? C_DIM : "", len, len == 1 ? "" : "s",
                   col ? C_RESET : "");
        if (a->o->base64) {
            fmt_base64(&body, data, len);
            if (body.len) buf_prefix_lines(b, (const char *)body.data, body.len, "  ", "  ");
        } else if (len) {
            fmt_hexdump(&body, data, len, DUMP_MAX_BYTES, col);
            buf_prefix_lines(b, (const char *)body.data, body.len - 1, "  ", "  ");
        }
    } else {
        if (is_json) fmt_json(&body, (const char *)data, len, a->o->compact ? 0 : 2, col);
        else fmt_text_safe(&body, data, len, col);
        buf_prefix_lines(b, (const char *)body.data, body.len, first, "  ");
    }
    wsc_buf_free(&body);
}

void show_record(app *a, wsc_buf *b, const uint8_t *data, size_t len, int binary, int is_json, int tty) {
    const cli_opts *o = a->o;
    int col = tty && g_colors.out;
    const char *end = o->null_sep ? "" : "\n"; /* "" + the NUL appended below */
    if (binary) {
        const char *pfx = o->binary_prefix ? o->binary_prefix : SHOW_BINARY_PREFIX;
        if (tty && !o->base64 && !o->null_sep) {
            /* A terminal: a readable dump (the README's promise), never one
               endless line of hex. */
            wsc_buf body = {0};
            buf_printf(b, "%s%s%zu byte%s%s\n", pfx, col ? C_DIM : "", len, len == 1 ? "" : "s", col ? C_RESET : "");
            if (len) {
                fmt_hexdump(&body, data, len, DUMP_MAX_BYTES, col);
                buf_put(b, body.data, body.len);
            }
            wsc_buf_free(&body);
            return;
        }
        buf_puts(b, pfx);
        if (o->base64) fmt_base64(b, data, len);
        else fmt_hex(b, data, len);
    } else {
        if (o->text_prefix) buf_puts(b, o->text_prefix);
        if (is_json && (o->pretty || o->compact)) {
            fmt_json(b, (const char *)data, len, o->pretty ? 2 : 0, col);
        } else if (tty) {
            wsc_buf safe = {0};
            fmt_text_safe(&safe, data, len, col);
            if (o->null_sep) buf_put(b, safe.data, safe.len);
            else put_escaped_newlines(b, safe.data, safe.len);
            wsc_buf_free(&safe);
        } else if (o->null_sep) {
            buf_put(b, data, len);
        } else {
            put_escaped_newlines(b, data, len);
        }
    }
    buf_puts(b, end);
    if (o->null_sep) buf_put(b, "", 1);
}

void show_message(app *a, const uint8_t *data, size_t len, int binary, int is_json) {
    wsc_buf b = {0};
    if (a->interactive) show_interactive(a, &b, data, len, binary, is_json);
    else show_record(a, &b, data, len, binary, is_json, isatty(STDOUT_FILENO));
    if (out_print(STDOUT_FILENO, (const char *)b.data, b.len) < 0 && !a->closing) {
        /* stdout is gone (e.g. `wsc URL | head -1`): end quietly. */
        app_finish(a, EXIT_OK);
    }
    wsc_buf_free(&b);
}
