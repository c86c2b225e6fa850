/*
 * output.h - how the wsc command shows things: messages (JSON reformatted
 * without touching its numbers or strings, text, binary as hex, a hex dump
 * or base64), status lines, and the verbose handshake trace with every
 * secret masked. Everything printed goes through out_print(), which lets
 * the interactive line editor hide the line being typed and redraw it.
 */
#ifndef WSC_CLI_OUTPUT_H
#define WSC_CLI_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "wsc/loop.h"
#include "wsc/wsc.h"

/* --- building text ------------------------------------------------------ */

/*
 * Appends the JSON text s[0..n) (already known to be valid JSON) with its
 * whitespace redone: indent 0 is compact (no whitespace at all), indent > 0
 * puts one member per line with that many spaces per level, ": " after
 * keys and "{}" / "[]" for empty containers (the layout of jansson's
 * JSON_INDENT). Numbers, strings and escapes are copied byte for byte, so
 * nothing is lost or rounded. color: ANSI colours for keys and values.
 */
void fmt_json(wsc_buf *b, const char *s, size_t n, int indent, int color);

/* Lower-case hexadecimal, no separators. */
void fmt_hex(wsc_buf *b, const uint8_t *data, size_t n);
/* Standard base64 with padding (RFC 4648). */
void fmt_base64(wsc_buf *b, const uint8_t *data, size_t n);
/* A "hexdump -C" style dump of at most max bytes (offset, 16 bytes in hex,
   the printable ASCII), then a line saying how many more bytes there are. */
void fmt_hexdump(wsc_buf *b, const uint8_t *data, size_t n, size_t max, int color);
/* Text for a terminal: control characters (other than newline and tab),
   DEL and C1 controls become visible escapes (\x1b), so that a message
   cannot drive the terminal. Invalid UTF-8 is escaped the same way. */
void fmt_text_safe(wsc_buf *b, const uint8_t *data, size_t n, int color);
/* Appends n bytes (exits with "out of memory" if it cannot). */
void buf_put(wsc_buf *b, const void *p, size_t n);
/* Appends a C string / formatted text. */
void buf_puts(wsc_buf *b, const char *s);
void buf_printf(wsc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes every line of src with first (first line) or rest (others). */
void buf_prefix_lines(wsc_buf *dst, const char *src, size_t n, const char *first, const char *rest);

/* --- printing ----------------------------------------------------------- */

/* Hooks of the interactive line editor: hide() erases the line being typed
   from the terminal, show() draws it again. NULL when not interactive. */
void out_set_editor(void (*hide)(void *), void (*show)(void *), void *user);

/* The loop, for deferred flushing of stdout when it is not a terminal (one
   flush per loop iteration instead of one per message). NULL: flush at once. */
void out_init(wsc_loop *loop);
void out_done(void);

/* Prints text on fd 1 or 2 (through stdio) without corrupting the line
   being edited. Returns 0, or -1 if the stream failed (e.g. EPIPE). */
int out_print(int fd, const char *text, size_t len);
/* Flushes stdout now. -1 if it failed. */
int out_flush(void);

/* Status levels: colour of the line (green, yellow, red, dim). */
enum { ST_GOOD, ST_INFO, ST_WARN, ST_ERROR, ST_TRACE };
/* A status line on stderr (colour per level when colours are on for
   stderr), unless quiet (set by out_set_quiet) and level is not ST_ERROR. */
void out_status(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_set_quiet(int quiet);

/* Every status line (out_status) and error (cli_error) is masked for the
   token fn(user) returns at that moment (NULL: none), as it is and
   percent-encoded: texts from the server (HTTP status reason, header values,
   close reasons) may carry it. fn may report errors itself (not masked
   then). */
void out_set_secret_source(const char *(*fn)(void *user), void *user);
/* Replaces the token in s (cap bytes, NUL-terminated) with *** in place. */
void out_mask_secret(char *s, size_t cap);

/* --- the verbose handshake trace ----------------------------------------- */

/*
 * Prints a handshake head on stderr, one "> " (outgoing) or "< " line per
 * header line. Masked as "***": every occurrence of token (raw and
 * percent-encoded) anywhere, the value of the query parameter param in the
 * request target, every cookie value of Cookie headers, the value of
 * Set-Cookie headers, and the credentials of Authorization and
 * Proxy-Authorization. token and param may be NULL.
 */
void out_trace(int outgoing, const char *head, size_t len, const char *token, const char *param);

/* The masking alone, for tests and for other callers: returns a malloc'd
   masked copy of head[0..len) (CRLFs kept). */
char *mask_head(const char *head, size_t len, const char *token, const char *param);

#endif /* WSC_CLI_OUTPUT_H */
