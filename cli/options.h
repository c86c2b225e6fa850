/*
 * options.h - the command line of the client modes of wsc (`wsc [options]
 * URL`, `wsc --echo [options] URL`): parsing with getopt_long, checking,
 * and turning it into library options.
 */
#ifndef WSC_CLI_OPTIONS_H
#define WSC_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "wsc/client.h"
#include "wsc/ws.h"

/* Bytes of a --token-file read at most (a token is at most WSC_TOKEN_MAX). */
#define WSC_TOKEN_FILE_MAX 8192

/* "wait forever" for -w inf */
#define WAIT_FOREVER UINT64_MAX

typedef struct cli_opts {
    const char *url;

    /* mode and messages */
    int echo;
    int json, binary, pretty, base64;
    const char **execute; /* -x messages, in order */
    size_t nexecute;
    const char *file;
    uint64_t wait_ms; /* -w; WAIT_FOREVER for inf */
    int wait_set;
    unsigned long long count; /* -n; 0: none */

    /* connection */
    const char **protocols; /* NULL-terminated */
    size_t nprotocols;
    wsc_ws_header *headers;
    size_t nheaders;
    const char *origin, *cookie, *user_agent;
    const char *proxy; /* "" with --no-proxy */
    unsigned connect_timeout_ms;
    unsigned long long max_message_size;
    int no_deflate;

    /* TLS */
    const char *ca, *capath, *cert, *key;
    int insecure, no_check_hostname;

    /* reconnection and heartbeat */
    unsigned max_attempts;
    unsigned timeout_ms;
    int backoff;
    unsigned backoff_max_ms;
    unsigned jitter_pct;
    int no_reconnect, retry_connect;
    int at_least_once; /* --at-least-once: resend unconfirmed messages after a drop */
    unsigned ping_interval_ms, ping_timeout_ms;
    int no_heartbeat;

    /* token */
    char *token; /* copied into secret memory (src/secret.h), wiped at the end */
    const char *client_only_seen_token; /* "--token" or "--token-file" */
    const char *store;
    int no_store;
    const char *token_key, *csrf_cookie, *csrf_param, *csrf_property;

    /* output */
    int verbose, quiet, no_color;

    /* which client-only options were given (to refuse them with --echo) */
    const char *client_only_seen;

    char *passphrase; /* --passphrase or $WSC_KEY_PASSPHRASE; copied, wiped */
    char *url_buf;    /* the URL with ws:// added when it had no scheme */
    int show_ping;    /* -P: pings and pongs as status lines, with RTT */

    /* output of messages (show.c) */
    int compact;               /* --compact: JSON re-serialised without whitespace */
    int null_sep;              /* -0: records end with NUL (input and output), nothing escaped */
    const char *binary_prefix; /* --binary-prefix; NULL: SHOW_BINARY_PREFIX */
    const char *text_prefix;   /* --text-prefix; NULL: none */

    int location;              /* -L: follow 3xx answers to the handshake (redirect.c) */
    const char *exec_cmd;      /* --exec / --exec-raw CMD (exec.c) */
    int exec_raw;
} cli_opts;

/*
 * Parses argv (argv[0] is the program name). Returns -1 when the program
 * should continue with *o filled, or an exit status: 0 after --help or
 * --version (printed), EXIT_USAGE after a usage error (one line printed).
 * Strings point into argv except the token, which is copied (and the argv
 * copy overwritten so that it does not stay visible in the process list).
 */
int cli_opts_parse(cli_opts *o, int argc, char **argv);
void cli_opts_free(cli_opts *o);

/* Fills the connection options shared by both modes (no callbacks). */
void cli_opts_ws(const cli_opts *o, wsc_ws_options *w);
/* Fills the client options (connection included; no callbacks). */
void cli_opts_client(const cli_opts *o, wsc_client_options *c);

/* --echo (echo.c): connects once and sends every message back. Returns the
   exit status. */
int cli_echo_run(const cli_opts *o);

/* Prints the full help (wsc --help) on stdout. */
void cli_print_help(void);
/* Prints the version line(s) on stdout. */
void cli_print_version(void);

#endif /* WSC_CLI_OPTIONS_H */
