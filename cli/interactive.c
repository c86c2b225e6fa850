/*
 * interactive.c - the interactive mode of wsc: a line editor (libedit, in
 * its unbuffered mode so that the wsc event loop drives it one key at a
 * time), history in $XDG_STATE_HOME/wsc/history (0600), and the slash
 * commands. Output from the connection goes through out_print(), which
 * calls t_hide()/t_show() here so that it never corrupts the line being
 * typed: the line is erased, the output printed, the line redrawn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "output.h"
#include "util.h"
#include "wsc/store.h"

#define HISTORY_SIZE 1000
#define PROMPT "> "
#define PROMPT_WIDTH 2

struct term {
    app *a;
    EditLine *el;
    History *hist;
    FILE *out;
    int outfd;
    int color;
    wsc_watch *watch;
    char *hist_path;
    int hidden;
    int eof;
};

/* ------------------------------------------------------------------ */
/* Drawing                                                             */
/* ------------------------------------------------------------------ */

static char *prompt_fn(EditLine *el) {
    term *t = NULL;
    el_get(el, EL_CLIENTDATA, &t);
    static char plain[] = PROMPT;
    static char colored[] = "\1" C_BOLD C_CYAN "\1" PROMPT "\1" C_RESET "\1";
    return t && t->color ? colored : plain;
}

static int term_cols(const term *t) {
    struct winsize ws;
    if (ioctl(t->outfd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

/* Erases the prompt and the line being typed (which may span rows). */
static void t_hide(void *user) {
    term *t = user;
    if (t->hidden++ || t->eof) return;
    const LineInfo *li = el_line(t->el);
    size_t pos = PROMPT_WIDTH + utf8_width(li->buffer, (size_t)(li->cursor - li->buffer));
    size_t up = pos / (size_t)term_cols(t);
    fflush(t->out);
    if (up) fprintf(t->out, "\033[%zuA", up);
    fputs("\r\033[J", t->out);
    fflush(t->out);
}

/* Draws them again. */
static void t_show(void *user) {
    term *t = user;
    if (--t->hidden || t->eof) return;
    el_set(t->el, EL_REFRESH);
    fflush(t->out);
}

/* Help and other answers to commands: on stderr, even with -q. */
static void say(const char *s) { out_print(STDERR_FILENO, s, strlen(s)); }

/* ------------------------------------------------------------------ */
/* Key bindings                                                        */
/* ------------------------------------------------------------------ */

/* Ctrl-D: end of input on an empty line, else delete the character under
   the cursor (without libedit's "^D" echo). */
static unsigned char fn_eof(EditLine *el, int ch) {
    (void)ch;
    const LineInfo *li = el_line(el);
    if (li->buffer == li->lastchar) return CC_EOF;
    if (li->cursor < li->lastchar) {
        el_cursor(el, 1);
        el_deletestr(el, 1);
        return CC_REFRESH;
    }
    return CC_ERROR;
}

static const char *const commands[] = {"/binary", "/close", "/help", "/json", "/ping",
                                       "/quit",   "/reconnect", "/text", "/token", NULL};

/* Tab: complete a slash command. */
static unsigned char fn_complete(EditLine *el, int ch) {
    (void)ch;
    term *t = NULL;
    el_get(el, EL_CLIENTDATA, &t);
    const LineInfo *li = el_line(el);
    size_t n = (size_t)(li->cursor - li->buffer);
    if (!n || li->buffer[0] != '/' || memchr(li->buffer, ' ', n) || li->cursor != li->lastchar) return CC_ERROR;
    const char *match = NULL;
    int count = 0;
    for (const char *const *c = commands; *c; c++)
        if (strncmp(*c, li->buffer, n) == 0) match = *c, count++;
    if (count == 1) {
        char rest[32];
        snprintf(rest, sizeof rest, "%s ", match + n);
        el_insertstr(el, rest);
        return CC_REFRESH;
    }
    if (count > 1 && t) {
        wsc_buf b = {0};
        for (const char *const *c = commands; *c; c++)
            if (strncmp(*c, li->buffer, n) == 0) buf_printf(&b, "%s  ", *c);
        buf_puts(&b, "\n");
        out_print(STDERR_FILENO, (const char *)b.data, b.len);
        wsc_buf_free(&b);
        return CC_REFRESH;
    }
    return CC_ERROR;
}

/* ------------------------------------------------------------------ */
/* History                                                             */
/* ------------------------------------------------------------------ */

static int mkdirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

static char *history_file(void) {
    const char *x = getenv("XDG_STATE_HOME");
    char path[PATH_MAX];
    int n;
    if (x && x[0] == '/') {
        n = snprintf(path, sizeof path, "%s/wsc/history", x);
    } else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
            struct passwd *pw = getpwuid(geteuid());
            home = pw ? pw->pw_dir : NULL;
        }
        if (!home || home[0] != '/') return NULL;
        n = snprintf(path, sizeof path, "%s/.local/state/wsc/history", home);
    }
    if (n < 0 || (size_t)n >= sizeof path) return NULL;
    return xstrdup(path);
}

/* Creates the file (0600) and its directories (0700); loads it. */
static void history_open(term *t) {
    t->hist_path = history_file();
    if (!t->hist_path) return;
    int fd = -1;
    if (mkdirs(t->hist_path) == 0)
        fd = open(t->hist_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        out_status(ST_WARN, "history not saved: %s: %s", t->hist_path, strerror(errno));
        free(t->hist_path);
        t->hist_path = NULL;
        return;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077)) fchmod(fd, 0600);
    close(fd);
    HistEvent ev;
    history(t->hist, &ev, H_LOAD, t->hist_path);
}

/* Lines that may hold a secret are not remembered. */
static int secret_line(const char *line) {
    while (*line == ' ') line++;
    return strncmp(line, "/token", 6) == 0 && line[6] == ' ';
}

/* ------------------------------------------------------------------ */
/* Slash commands                                                      */
/* ------------------------------------------------------------------ */

static const char help_text[] =
    "Type a line to send it as a message. Commands:\n"
    "  /ping [DATA]            send a ping (DATA up to 125 bytes), show the pong\n"
    "  /close [CODE [REASON]]  close the connection (default 1000), stay here\n"
    "  /json JSON              send JSON with the CSRF token property added\n"
    "  /binary HEX             send a binary message (hex digits, spaces allowed)\n"
    "  /text TEXT              send TEXT as it is (even with --json or --binary)\n"
    "  /reconnect              connect again (drops the current connection)\n"
    "  /token                  tell whether a CSRF token is used (never shows it)\n"
    "  /token set TOKEN        store a new token (used from the next connection)\n"
    "  /token clear            remove the token\n"
    "  /quit                   close (1000) and exit; also Ctrl-D, or Ctrl-C\n"
    "                          on an empty line\n"
    "  //TEXT                  send a line starting with '/'\n"
    "Keys: arrows and Ctrl-R for history, Tab completes commands.\n";

static const char *skip_spaces(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void cmd_binary(app *a, const char *arg) {
    size_t n = strlen(arg), len = 0;
    uint8_t *bytes = xmalloc(n / 2 + 1);
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (arg[i] == ' ' || arg[i] == '\t' || arg[i] == ':') continue;
        int v = hexval(arg[i]);
        if (v < 0) {
            out_status(ST_ERROR, "wsc: /binary: '%c' is not a hex digit; not sent", arg[i]);
            free(bytes);
            return;
        }
        if (hi < 0) hi = v;
        else bytes[len++] = (uint8_t)(hi << 4 | v), hi = -1;
    }
    if (hi >= 0) out_status(ST_ERROR, "wsc: /binary: odd number of hex digits; not sent");
    else app_send(a, SEND_BINARY, (const char *)bytes, len, NULL);
    free(bytes);
}

static void cmd_ping(app *a, const char *arg) {
    wsc_ws *ws = wsc_client_socket(a->client);
    size_t n = strlen(arg);
    if (!ws || wsc_ws_ready_state(ws) != WSC_OPEN) {
        out_status(ST_ERROR, "wsc: not connected");
        return;
    }
    if (n > 125) {
        out_status(ST_ERROR, "wsc: /ping: at most 125 bytes of data");
        return;
    }
    if (wsc_ws_ping(ws, arg, n) == WSC_OK) {
        a->user_pings++;
        a->ping_sent_ms = wsc_loop_now(a->loop);
    } else {
        out_status(ST_ERROR, "wsc: the ping could not be sent");
    }
}

static void cmd_close(app *a, const char *arg) {
    unsigned long long code = 1000;
    const char *reason = NULL;
    if (*arg) {
        const char *sp = arg + strcspn(arg, " \t");
        char num[16];
        size_t nl = (size_t)(sp - arg);
        if (nl >= sizeof num || (memcpy(num, arg, nl), num[nl] = 0, parse_uint(num, 65535, &code))) {
            out_status(ST_ERROR, "wsc: /close: '%.*s' is not a close code", (int)nl, arg);
            return;
        }
        reason = skip_spaces(sp);
        if (!*reason) reason = NULL;
    }
    if (wsc_client_is_closed(a->client)) {
        out_status(ST_ERROR, "wsc: not connected");
        return;
    }
    int was_connected = wsc_client_socket(a->client) != NULL;
    a->user_closed = 1;
    int rc = wsc_client_close(a->client, (unsigned)code, reason);
    if (rc == WSC_EINVAL) {
        out_status(ST_ERROR, "wsc: /close: the code must be 1000 or 3000-4999 and the reason at most 123 bytes");
        a->user_closed = 0;
    } else if (rc == WSC_EUTF8) {
        out_status(ST_ERROR, "wsc: /close: the reason is not valid UTF-8");
        a->user_closed = 0;
    } else if (rc != WSC_OK) {
        out_status(ST_ERROR, "wsc: /close: %s", wsc_strerror(rc));
        a->user_closed = 0;
    } else if (!was_connected) {
        out_status(ST_INFO, "stopped reconnecting; /reconnect to connect again, Ctrl-D to quit");
    }
}

static void cmd_token(app *a, const char *arg) {
    wsc_error err;
    if (strncmp(arg, "set", 3) == 0 && (arg[3] == ' ' || arg[3] == 0)) {
        const char *tok = skip_spaces(arg + 3);
        if (!*tok) {
            out_status(ST_ERROR, "wsc: /token set: missing TOKEN");
            return;
        }
        if (wsc_client_set_csrf(a->client, tok, &err) != WSC_OK) out_status(ST_ERROR, "wsc: %s", err.message);
        else out_status(ST_GOOD, "token saved; it is used from the next connection");
        return;
    }
    if (strcmp(arg, "clear") == 0) {
        if (wsc_client_set_csrf(a->client, NULL, &err) != WSC_OK) out_status(ST_ERROR, "wsc: %s", err.message);
        else out_status(ST_GOOD, "token removed");
        return;
    }
    if (*arg) {
        out_status(ST_ERROR, "wsc: /token: expected nothing, 'set TOKEN' or 'clear'");
        return;
    }
    const char *tok = wsc_client_csrf(a->client);
    const char *src = a->o->token ? "given with --token" : a->o->no_store ? "set in this session" : "from the store";
    if (tok)
        out_status(ST_INFO, "a CSRF token is used (%zu characters, %s)", strlen(tok), src);
    else
        out_status(ST_INFO, "no CSRF token (/token set TOKEN, or wsc token set)");
}

static void run_command(term *t, const char *line) {
    app *a = t->a;
    const char *sp = line + strcspn(line, " \t");
    size_t n = (size_t)(sp - line);
    const char *arg = skip_spaces(sp);
#define IS(name) (n == sizeof(name) - 1 && memcmp(line, name, n) == 0)
    if (IS("/help") || IS("/?")) say(help_text);
    else if (IS("/ping")) cmd_ping(a, arg);
    else if (IS("/close")) cmd_close(a, arg);
    else if (IS("/json")) {
        if (*arg) app_send(a, SEND_JSON, arg, strlen(arg), NULL);
        else out_status(ST_ERROR, "wsc: /json: missing JSON");
    } else if (IS("/binary")) cmd_binary(a, arg);
    else if (IS("/text")) app_send(a, SEND_TEXT, arg, strlen(arg), NULL);
    else if (IS("/reconnect")) {
        a->user_closed = 0;
        if (wsc_client_reconnect(a->client) == WSC_OK) out_status(ST_INFO, "reconnecting");
    } else if (IS("/token")) cmd_token(a, arg);
    else if (IS("/quit") || IS("/exit")) app_finish(a, EXIT_OK);
    else out_status(ST_ERROR, "wsc: unknown command %.*s (/help lists them; //%s sends '/%s')", (int)n, line,
                    line + 1, line + 1);
#undef IS
}

static void handle_line(term *t, const char *line) {
    app *a = t->a;
    if (!*line) return; /* an empty line sends nothing */
    if (!secret_line(line)) {
        HistEvent ev;
        history(t->hist, &ev, H_ENTER, line);
    }
    if (line[0] == '/' && line[1] != '/') run_command(t, line);
    else if (line[0] == '/') app_send(a, a->send_kind, line + 1, strlen(line + 1), NULL);
    else app_send(a, a->send_kind, line, strlen(line), NULL);
}

/* ------------------------------------------------------------------ */
/* Input                                                               */
/* ------------------------------------------------------------------ */

static void end_of_input(term *t) {
    t->eof = 1;
    wsc_watch_set(t->watch, 0);
    fputs("\n", t->out);
    fflush(t->out);
    app_input_done(t->a);
}

static void on_tty(wsc_loop *l, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)l;
    (void)w;
    (void)events;
    term *t = user;
    if (t->eof) return;
    int count = 0;
    const char *buf = el_gets(t->el, &count);
    if (!buf || count <= 0) {
        /* An edit that left the line empty, or the terminal is gone. */
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL))) end_of_input(t);
        return;
    }
    if (count == 1 && buf[0] == '\004') {
        end_of_input(t);
        return;
    }
    if (buf[count - 1] != '\n' && buf[count - 1] != '\r') return;
    char *line = xstrndup(buf, (size_t)count - 1);
    /* A fresh line (and prompt) for what comes next. */
    el_set(t->el, EL_UNBUFFERED, 0);
    el_set(t->el, EL_UNBUFFERED, 1);
    handle_line(t, line);
    cli_free_secret(line);
}

/* ------------------------------------------------------------------ */
/* Life                                                                */
/* ------------------------------------------------------------------ */

term *term_new(app *a) {
    term *t = xcalloc(1, sizeof *t);
    t->a = a;
    int use_stdout = isatty(STDOUT_FILENO);
    t->out = use_stdout ? stdout : stderr;
    t->outfd = use_stdout ? STDOUT_FILENO : STDERR_FILENO;
    t->color = use_stdout ? g_colors.out : g_colors.err;
    t->hist = history_init();
    t->el = t->hist ? el_init("wsc", stdin, t->out, stderr) : NULL;
    if (!t->el) {
        cli_error("cannot set up the line editor; reading lines without it");
        if (t->hist) history_end(t->hist);
        free(t);
        return NULL;
    }
    HistEvent ev;
    history(t->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(t->hist, &ev, H_SETUNIQUE, 1);
    el_set(t->el, EL_CLIENTDATA, t);
    el_set(t->el, EL_EDITOR, "emacs");
    el_set(t->el, EL_PROMPT_ESC, prompt_fn, '\1');
    el_set(t->el, EL_HIST, history, t->hist);
    /* el_wset with static strings: el_set(EL_ADDFN) leaks its copies. */
    el_wset(t->el, EL_ADDFN, L"wsc-eof", L"end of input on an empty line", fn_eof);
    el_set(t->el, EL_BIND, "^D", "wsc-eof", NULL);
    el_wset(t->el, EL_ADDFN, L"wsc-complete", L"complete a slash command", fn_complete);
    el_set(t->el, EL_BIND, "^I", "wsc-complete", NULL);
    el_set(t->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
    el_source(t->el, NULL); /* ~/.editrc, e.g. "bind -v" */
    history_open(t);
    t->watch = wsc_watch_new(a->loop, STDIN_FILENO, WSC_READABLE, on_tty, t, NULL);
    if (!t->watch) {
        cli_error("cannot watch the terminal; reading lines without the line editor");
        el_end(t->el);
        history_end(t->hist);
        free(t->hist_path);
        free(t);
        return NULL;
    }
    out_set_editor(t_hide, t_show, t);
    el_set(t->el, EL_UNBUFFERED, 1); /* raw mode, shows the prompt */
    fflush(t->out);
    return t;
}

int term_interrupt(term *t) {
    const LineInfo *li = el_line(t->el);
    if (li->lastchar == li->buffer || t->eof) return 0;
    t_hide(t);
    el_cursor(t->el, (int)(li->lastchar - li->cursor));
    li = el_line(t->el);
    el_deletestr(t->el, (int)(li->lastchar - li->buffer));
    t_show(t);
    return 1;
}

void term_resize(term *t) {
    if (!t->eof) el_resize(t->el);
}

void term_suspend(term *t) {
    if (t->eof) return;
    const LineInfo *li = el_line(t->el);
    char *saved = xstrndup(li->buffer, (size_t)(li->lastchar - li->buffer));
    t_hide(t);
    el_set(t->el, EL_UNBUFFERED, 0); /* the terminal back to normal */
    fflush(t->out);
    kill(getpid(), SIGSTOP);
    /* Continued: raw mode again (which draws a prompt: erase it), then
       the line as it was. */
    el_set(t->el, EL_UNBUFFERED, 1);
    fputs("\r\033[J", t->out);
    if (*saved) el_insertstr(t->el, saved);
    t->hidden = 1;
    t_show(t);
    cli_free_secret(saved);
}

void term_free(term *t) {
    if (!t) return;
    out_set_editor(NULL, NULL, NULL);
    if (!t->eof) {
        t_hide(t);
        t->eof = 1;
    }
    wsc_watch_free(t->watch);
    el_set(t->el, EL_UNBUFFERED, 0);
    if (t->hist_path) {
        HistEvent ev;
        if (history(t->hist, &ev, H_SAVE, t->hist_path) < 0) {
            /* not worth an error at exit */
        }
        chmod(t->hist_path, 0600);
    }
    el_end(t->el);
    history_end(t->hist);
    fflush(t->out);
    free(t->hist_path);
    free(t);
}
