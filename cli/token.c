/*
 * token.c - `wsc token get|set|clear|list [ORIGIN] [TOKEN]`: the local
 * store of CSRF tokens (store.h), by origin.
 *
 * ORIGIN is a URL (wss://example.com/path) or an origin
 * (wss://example.com:443); both become the canonical origin the client
 * uses as the store key. `set` without TOKEN reads it from stdin (the
 * recommended way: the token then appears neither in the process list nor
 * in the shell's history).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"
#include "wsc/http.h"
#include "wsc/store.h"

static const char token_help[] =
    "Usage: wsc token get ORIGIN          print the token of ORIGIN\n"
    "       wsc token set ORIGIN [TOKEN]  store a token (read from stdin when\n"
    "                                     TOKEN is missing: recommended)\n"
    "       wsc token clear ORIGIN        remove it\n"
    "       wsc token list [ORIGIN]       origins, names and update times\n"
    "                                     (never the tokens)\n"
    "\n"
    "ORIGIN is a URL (wss://example.com/feed) or an origin\n"
    "(wss://example.com:443): the token is kept for the URL's origin, and\n"
    "`wsc URL` sends it as the csrf_token cookie and the csrf parameter.\n"
    "\n"
    "Options:\n"
    "      --store PATH   the store (default $XDG_STATE_HOME/wsc/tokens.db or\n"
    "                     ~/.local/state/wsc/tokens.db)\n"
    "      --key NAME     name of the token (default csrf_token)\n"
    "  -h, --help         show this help\n"
    "\n"
    "Exit status: 0 done; 1 no token (get) or the store failed; 2 usage error,\n"
    "or a token that cannot be sent in a cookie.\n";

/* The canonical origin of a URL or origin argument. */
static int to_origin(const char *arg, char *out, size_t cap) {
    wsc_url u;
    wsc_error err;
    if (!strstr(arg, "://") && strncmp(arg, "ws+unix:", 8) != 0 && strncmp(arg, "wss+unix:", 9) != 0)
        return cli_usage_error("'%s' is not a URL or an origin (e.g. wss://example.com)", arg), -1;
    if (wsc_url_parse(arg, strlen(arg), &u, &err) != WSC_OK)
        return cli_usage_error("'%s': %s", arg, err.message), -1;
    if (wsc_url_origin(&u, out, cap) < 0) return cli_usage_error("'%s': origin too long", arg), -1;
    return 0;
}

/* Reads the token from stdin: the first line, without its line ending. A
   terminal gets a prompt and no echo. Returns a malloc'd string or NULL. */
static char *read_token(const char *origin) {
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "Token for %s: ", origin);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = 0;
        }
    }
    size_t cap = WSC_TOKEN_MAX + 3, len = 0;
    char *buf = xmalloc(cap);
    int c, too_long = 0;
    while ((c = getchar()) != EOF && c != '\n') {
        if (len + 1 < cap) buf[len++] = (char)c;
        else too_long = 1;
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (len && buf[len - 1] == '\r') len--;
    buf[len] = 0;
    if (too_long) {
        /* Let the validation say it is too long. */
        buf[cap - 2] = 'x';
        buf[cap - 1] = 0;
    }
    return buf;
}

typedef struct list_ctx {
    int n;
} list_ctx;

static int print_entry(const char *origin, const char *key, int64_t updated, void *user) {
    list_ctx *l = user;
    char when[64] = "?";
    time_t t = (time_t)updated;
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (l->n++ == 0 && isatty(STDOUT_FILENO)) printf("%-40s %-16s %s\n", "ORIGIN", "KEY", "UPDATED");
    printf("%-40s %-16s %s\n", origin, key, when);
    return 0;
}

int wsc_cmd_token(int argc, char **argv) {
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},
        {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_colors_init(0);
    cli_set_usage_hint(" (see 'wsc token --help')");
    const char *store_path = NULL, *key = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's': store_path = optarg; break;
        case 'k': key = optarg; break;
        case 'h': fputs(token_help, stdout); return 0;
        case ':': return cli_usage_error("option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error("unknown option %s for 'wsc token'", argv[optind - 1]);
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1) return cli_usage_error("expected get, set, clear or list");
    const char *verb = args[0];
    int is_get = !strcmp(verb, "get"), is_set = !strcmp(verb, "set"), is_clear = !strcmp(verb, "clear"),
        is_list = !strcmp(verb, "list");
    if (!is_get && !is_set && !is_clear && !is_list)
        return cli_usage_error("unknown action '%s' (get, set, clear or list)", verb);
    int max_args = is_set ? 3 : 2, min_args = is_list ? 1 : 2;
    if (nargs < min_args) return cli_usage_error("token %s: missing ORIGIN", verb);
    if (nargs > max_args) return cli_usage_error("token %s: unexpected argument '%s'", verb, args[max_args]);
    if (key && (!*key || strlen(key) > WSC_STORE_KEY_MAX))
        return cli_usage_error("--key: expected a name of 1 to %d characters", WSC_STORE_KEY_MAX);

    char origin[WSC_URL_ORIGIN_MAX + 1024];
    if (nargs >= 2 && to_origin(args[1], origin, sizeof origin)) return EXIT_USAGE;

    char *token = NULL;
    if (is_set) {
        if (nargs == 3) {
            token = xstrdup(args[2]);
            memset(args[2], 'x', strlen(args[2])); /* out of the process list */
        } else {
            token = read_token(origin);
        }
        if (!wsc_token_valid(token, strlen(token))) {
            cli_free_secret(token);
            cli_error("this token cannot be sent in a cookie: it must be 1 to %d printable ASCII characters, "
                      "without spaces, quotes, commas, semicolons or backslashes",
                      WSC_TOKEN_MAX);
            return EXIT_USAGE;
        }
    }

    wsc_error err;
    wsc_store *s = wsc_store_open(store_path, &err);
    if (!s) {
        cli_free_secret(token);
        cli_error("%s", err.message);
        return EXIT_CONNECT;
    }
    int rc = EXIT_OK;
    if (is_get) {
        char *v = NULL;
        if (wsc_store_get(s, origin, key, &v, &err) != WSC_OK) {
            cli_error("%s", err.message);
            rc = EXIT_CONNECT;
        } else if (!v) {
            cli_error("no token for %s%s%s", origin, key ? " under " : "", key ? key : "");
            rc = EXIT_CONNECT;
        } else {
            printf("%s\n", v);
            if (fflush(stdout) != 0) rc = EXIT_CONNECT;
            wsc_store_free(v);
        }
    } else if (is_set) {
        if (wsc_store_set(s, origin, key, token, &err) != WSC_OK) {
            cli_error("%s", err.message);
            rc = err.code == WSC_EINVAL ? EXIT_USAGE : EXIT_CONNECT;
        }
    } else if (is_clear) {
        if (wsc_store_delete(s, origin, key, &err) != WSC_OK) {
            cli_error("%s", err.message);
            rc = err.code == WSC_EINVAL ? EXIT_USAGE : EXIT_CONNECT;
        }
    } else {
        list_ctx l = {0};
        if (wsc_store_list(s, nargs >= 2 ? origin : NULL, print_entry, &l, &err) != WSC_OK) {
            cli_error("%s", err.message);
            rc = EXIT_CONNECT;
        }
    }
    cli_free_secret(token);
    wsc_store_close(s);
    return rc;
}
