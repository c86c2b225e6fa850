/*
 * util.h - small helpers shared by the wsc command's modules: the one-line
 * error convention ("wsc: <message>" on stderr), colours, number parsing,
 * memory helpers that never return NULL, and the wiping of secrets.
 */
#ifndef WSC_CLI_UTIL_H
#define WSC_CLI_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of the command (documented in --help and wsc(1)). */
enum {
    EXIT_OK = 0,        /* closed normally, -n reached, input handled */
    EXIT_CONNECT = 1,   /* the connection could not be established (or another runtime failure) */
    EXIT_USAGE = 2,     /* bad command line */
    EXIT_MAXIMUM = 3,   /* the maximum number of reconnect attempts was reached */
    EXIT_PROTOCOL = 4,  /* the connection failed on a protocol error (1002, 1007, 1009) */
    EXIT_ABNORMAL = 5,  /* the connection was lost (1006) and will not be reopened */
    EXIT_LOST = 6,      /* messages may have been lost (sent, not confirmed; discarded) */
    EXIT_REFUSED = 7,   /* the server closed with 1003, 1008, 1010 or 1011 */
    EXIT_SKIPPED = 8,   /* input lines were not sent (invalid JSON or UTF-8, too long) */
    EXIT_UNACKED = 9    /* --file: no reply, confirmation or close before -w ended */
};

/* What a close code the server sent means for the exit status, the one
   table of wsc(1) EXIT STATUS for the client and --echo alike:
   EXIT_PROTOCOL for 1002, 1007, 1009; EXIT_REFUSED for 1003, 1008, 1010,
   1011; EXIT_OK for any other code. 1006 (no close frame) is left to the
   caller, which knows whether the loss ends the session. */
int cli_close_status(unsigned code);
/* The code's name for messages ("policy violation"), "" when it has none. */
const char *cli_close_name(unsigned code);

/* ANSI colour sequences, used only when colours are on for the stream. */
#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE "\033[34m"
#define C_CYAN "\033[36m"
#define C_GREY "\033[90m"
#define C_KEY "\033[1;34m"

/* Colour decisions, taken once at start-up (see cli_colors_init). */
typedef struct cli_colors {
    int out; /* colours on stdout */
    int err; /* colours on stderr */
} cli_colors;
extern cli_colors g_colors;

/* Colours are on for a stream when it is a terminal, NO_COLOR is unset or
   empty, and no_color (the --no-color option) is 0. */
void cli_colors_init(int no_color);

/* Prints "wsc: <message>\n" on stderr (in red when colours are on for it).
   The message must never contain a secret. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a usage error, with a hint "(see 'wsc --help')". Returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Replaces that hint, e.g. " (see 'wsc token --help')". */
void cli_set_usage_hint(const char *hint);

/* Memory: these print "wsc: out of memory" and exit(1) on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Overwrites n bytes with zeros in a way the compiler cannot remove. */
void cli_wipe(void *p, size_t n);
/* Wipes a NUL-terminated string, then frees it. NULL is fine. */
void cli_free_secret(char *s);

/* Resets getopt(3) before parsing a new argv. `optind = 1` is not enough:
   glibc, musl and the BSDs keep the position inside a group of short
   options ("-vq") between calls, a pointer into the previous argv that a
   second parse would read after it was freed. optind = 0 re-initialises
   all of it there; the BSDs' plain getopt also wants optreset. */
void cli_getopt_reset(void);

/*
 * Number parsing for options: the whole string must be the number.
 * parse_uint: decimal, 0..max. parse_seconds: a decimal number of seconds
 * (fractions allowed) converted to milliseconds, 0..max_ms.
 * parse_size: a byte count with an optional suffix k/K, m/M, g/G (powers
 * of 1024), 1..max. Each returns 0 on success, -1 otherwise.
 */
int parse_uint(const char *s, unsigned long long max, unsigned long long *out);
int parse_seconds(const char *s, unsigned long long max_ms, unsigned long long *out_ms);
int parse_size(const char *s, unsigned long long max, unsigned long long *out);

/* Writes all of buf to fd (retrying on EINTR/partial writes). 0 or -1. */
int write_all(int fd, const void *buf, size_t len);

/* Display width of UTF-8 text in terminal columns, assuming one column per
   code point (good enough for prompts and input lines). */
size_t utf8_width(const char *s, size_t len);

#endif /* WSC_CLI_UTIL_H */
