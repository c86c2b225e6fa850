/*
 * options.c - the command line of the client modes (see options.h) and
 * `wsc --help`.
 */
#define _GNU_SOURCE
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "commands.h"
#include "secret.h"
#include "util.h"
#include "wsc/wsc.h"

/* Long-only options. */
enum {
    O_ECHO = 256,
    O_JSON,
    O_BINARY,
    O_PRETTY,
    O_BASE64,
    O_FILE,
    O_ORIGIN,
    O_COOKIE,
    O_USER_AGENT,
    O_PROXY,
    O_NO_PROXY,
    O_CONNECT_TIMEOUT,
    O_MAX_MESSAGE_SIZE,
    O_NO_DEFLATE,
    O_CA,
    O_CAPATH,
    O_CERT,
    O_KEY,
    O_INSECURE,
    O_NO_CHECK_HOSTNAME,
    O_MAX,
    O_TIMEOUT,
    O_BACKOFF,
    O_BACKOFF_MAX,
    O_JITTER,
    O_NO_RECONNECT,
    O_RETRY_CONNECT,
    O_AT_LEAST_ONCE,
    O_PING_INTERVAL,
    O_PING_TIMEOUT,
    O_TOKEN,
    O_TOKEN_FILE,
    O_STORE,
    O_NO_STORE,
    O_TOKEN_KEY,
    O_CSRF_COOKIE,
    O_CSRF_PARAM,
    O_CSRF_PROPERTY,
    O_NO_COLOR,
    O_VERSION,
    O_AUTH,
    O_PASSPHRASE,
    O_COMPACT,
    O_BINARY_PREFIX,
    O_TEXT_PREFIX,
    O_EXEC,
    O_EXEC_RAW
};

static const struct option long_opts[] = {
    {"echo", no_argument, NULL, O_ECHO},
    {"json", no_argument, NULL, O_JSON},
    {"binary", no_argument, NULL, O_BINARY},
    {"pretty", no_argument, NULL, O_PRETTY},
    {"base64", no_argument, NULL, O_BASE64},
    {"execute", required_argument, NULL, 'x'},
    {"file", required_argument, NULL, O_FILE},
    {"wait", required_argument, NULL, 'w'},
    {"count", required_argument, NULL, 'n'},
    {"protocol", required_argument, NULL, 'p'},
    {"header", required_argument, NULL, 'H'},
    {"origin", required_argument, NULL, O_ORIGIN},
    {"cookie", required_argument, NULL, O_COOKIE},
    {"user-agent", required_argument, NULL, O_USER_AGENT},
    {"proxy", required_argument, NULL, O_PROXY},
    {"no-proxy", no_argument, NULL, O_NO_PROXY},
    {"connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT},
    {"max-message-size", required_argument, NULL, O_MAX_MESSAGE_SIZE},
    {"no-deflate", no_argument, NULL, O_NO_DEFLATE},
    {"ca", required_argument, NULL, O_CA},
    {"capath", required_argument, NULL, O_CAPATH},
    {"cert", required_argument, NULL, O_CERT},
    {"key", required_argument, NULL, O_KEY},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"no-check-hostname", no_argument, NULL, O_NO_CHECK_HOSTNAME},
    {"max", required_argument, NULL, O_MAX},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"backoff", no_argument, NULL, O_BACKOFF},
    {"backoff-max", required_argument, NULL, O_BACKOFF_MAX},
    {"jitter", required_argument, NULL, O_JITTER},
    {"no-reconnect", no_argument, NULL, O_NO_RECONNECT},
    {"retry-connect", no_argument, NULL, O_RETRY_CONNECT},
    {"at-least-once", no_argument, NULL, O_AT_LEAST_ONCE},
    {"ping-interval", required_argument, NULL, O_PING_INTERVAL},
    {"ping-timeout", required_argument, NULL, O_PING_TIMEOUT},
    {"token", required_argument, NULL, O_TOKEN},
    {"token-file", required_argument, NULL, O_TOKEN_FILE},
    {"store", required_argument, NULL, O_STORE},
    {"no-store", no_argument, NULL, O_NO_STORE},
    {"token-key", required_argument, NULL, O_TOKEN_KEY},
    {"csrf-cookie", required_argument, NULL, O_CSRF_COOKIE},
    {"csrf-param", required_argument, NULL, O_CSRF_PARAM},
    {"csrf-property", required_argument, NULL, O_CSRF_PROPERTY},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"no-color", no_argument, NULL, O_NO_COLOR},
    {"no-colour", no_argument, NULL, O_NO_COLOR},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, O_VERSION},
    {"auth", required_argument, NULL, O_AUTH},
    {"passphrase", required_argument, NULL, O_PASSPHRASE},
    {"show-ping", no_argument, NULL, 'P'},
    {"compact", no_argument, NULL, O_COMPACT},
    {"binary-prefix", required_argument, NULL, O_BINARY_PREFIX},
    {"text-prefix", required_argument, NULL, O_TEXT_PREFIX},
    {"null", no_argument, NULL, '0'},
    {"location", no_argument, NULL, 'L'},
    {"exec", required_argument, NULL, O_EXEC},
    {"exec-raw", required_argument, NULL, O_EXEC_RAW},
    {NULL, 0, NULL, 0},
};

static const char help_text[] =
    "Usage: wsc [OPTIONS] URL           connect (interactive on a terminal)\n"
    "       wsc --echo [OPTIONS] URL    send every message received back\n"
    "       wsc COMMAND [ARGS]          see Commands below\n"
    "\n"
    "A WebSocket client: line editing, JSON, reconnection, CSRF double token.\n"
    "URL: ws://, wss://, http://, https://, ws+unix:/SOCKET[:/PATH].\n"
    "\n"
    "Modes:\n"
    "  (default)          on a terminal: interactive, type /help for commands;\n"
    "                     otherwise: each line of stdin is sent as a message,\n"
    "                     each message received is printed on one line\n"
    "      --echo         echo every message back with its type, no reconnect\n"
    "  -x, --execute MSG  send MSG instead of reading stdin (repeatable)\n"
    "      --file PATH    send the file as one binary message\n"
    "\n"
    "Messages:\n"
    "      --json         send lines as JSON, adding the CSRF token property\n"
    "      --binary       send lines as binary messages\n"
    "  -w, --wait SEC     wait SEC for replies once input is sent (default 1,\n"
    "                     none with -n, the reply with --file; 'inf': until the\n"
    "                     server closes)\n"
    "  -n, --count N      exit after N messages received\n"
    "      --max-message-size N  largest message (default 64M; suffix k, M, G)\n"
    "  -L, --location     follow 3xx redirects of the handshake (at most 5, never\n"
    "                     wss to ws; token and credentials to the same origin only)\n"
    "      --exec CMD     run CMD (sh -c): messages received are its input lines,\n"
    "                     its output lines are sent; exit status: CMD's\n"
    "      --exec-raw CMD the same with bytes: chunks of output are sent as binary\n"
    "\n"
    "Output (one message per line; interactive mode shows JSON indented):\n"
    "                     text is written exactly as received, a newline in it as\n"
    "                     the two characters \\n; binary after '[binary] ' in hex\n"
    "                     (a hex dump on a terminal)\n"
    "      --pretty       indent the JSON received\n"
    "      --compact      write the JSON received without whitespace\n"
    "      --base64       show binary messages in base64 instead of hex\n"
    "      --binary-prefix P  mark binary messages with P (default '[binary] ');\n"
    "                     given, an input line starting with P is sent binary\n"
    "                     (the rest in hex, or base64 with --base64)\n"
    "      --text-prefix P    mark text messages with P (default none); given,\n"
    "                     an input line starting with P is sent as text\n"
    "  -0, --null         records end with a NUL byte instead of a newline, on\n"
    "                     input and output; nothing is escaped\n"
    "\n"
    "Connection:\n"
    "  -p, --protocol P   offer subprotocol P (repeatable)\n"
    "  -H, --header 'NAME: VALUE'  add a handshake header (repeatable)\n"
    "      --origin O     Origin header\n"
    "      --cookie C     Cookie header, e.g. 'a=1; b=2'\n"
    "      --user-agent UA  User-Agent header ('' sends none)\n"
    "      --proxy URL    proxy [SCHEME://][user:pass@]host[:port], SCHEME http,\n"
    "                     https (TLS to the proxy), socks5 or socks5h (the proxy\n"
    "                     resolves names); default $https_proxy/$http_proxy, then\n"
    "                     $all_proxy\n"
    "      --auth USER:PASS  HTTP Basic authentication (shown as *** with -v)\n"
    "  -P, --show-ping    show pings and pongs, a timed ping every --ping-interval\n"
    "      --no-proxy     connect directly, whatever the environment says\n"
    "      --connect-timeout SEC  name lookup, TCP and TLS (default 10)\n"
    "      --no-deflate   do not offer permessage-deflate compression\n"
    "\n"
    "TLS:\n"
    "      --ca FILE      trust the CA certificates in FILE (PEM)\n"
    "      --capath DIR   trust the CA certificates in DIR (c_rehash layout)\n"
    "      --cert FILE    client certificate (PEM)\n"
    "      --key FILE     its private key (PEM)\n"
    "      --passphrase P the key's passphrase (or $WSC_KEY_PASSPHRASE; no prompt)\n"
    "      --insecure     do not verify the server's certificate at all\n"
    "      --no-check-hostname  verify the chain but not the host name\n"
    "\n"
    "Reconnection (not with --echo):\n"
    "      --max N        give up after N failed attempts in a row (default 0:\n"
    "                     never)\n"
    "      --timeout MS   delay before each attempt (default 1000)\n"
    "      --backoff      double the delay after each failure\n"
    "      --backoff-max MS  cap of that delay (default 30000)\n"
    "      --jitter PCT   vary each delay randomly by up to PCT percent\n"
    "      --no-reconnect  one connection only\n"
    "      --retry-connect  retry even if the first connection fails (also\n"
    "                     implied by an explicit --max N)\n"
    "      --at-least-once  after a drop, send again the messages the server had\n"
    "                     not confirmed (it may see duplicates); default: report\n"
    "                     them on stderr as possibly lost and exit with 6\n"
    "      --ping-interval SEC  heartbeat ping period (default 20)\n"
    "      --ping-timeout SEC   reconnect when no pong comes within SEC\n"
    "                     (default 20; 0 turns the heartbeat off)\n"
    "\n"
    "CSRF token (not with --echo):\n"
    "      --token-file PATH  read the token from the first line of PATH, instead\n"
    "                     of the store (preferred: the token stays out of argv)\n"
    "      --token TOKEN  use TOKEN, kept in memory, instead of the store\n"
    "                     (WSC_TOKEN in the environment does the same)\n"
    "      --store PATH   token store (default $XDG_STATE_HOME/wsc/tokens.db)\n"
    "      --no-store     use no token store\n"
    "      --token-key NAME      name in the store (default csrf_token)\n"
    "      --csrf-cookie NAME    cookie carrying it (default csrf_token)\n"
    "      --csrf-param NAME     query parameter carrying it (default csrf)\n"
    "      --csrf-property NAME  JSON property added by --json (default csrf)\n"
    "\n"
    "Safety:\n"
    "      --allow-core   let the process dump core (by default wsc turns core\n"
    "                     dumps off: its memory holds the token); any command\n"
    "\n"
    "Output:\n"
    "  -v, --verbose      show the handshake on stderr (secrets shown as ***)\n"
    "  -q, --quiet        no status lines on stderr (errors still shown)\n"
    "      --no-color     no colours (also when NO_COLOR is set)\n"
    "  -h, --help         show this help\n"
    "      --version      show the version\n"
    "\n"
    "Exit status:\n"
    "  0  closed normally, -n messages received, or input done\n"
    "  1  the connection failed (refused, DNS, TLS, HTTP refusal)\n"
    "  2  usage error\n"
    "  3  maximum number of reconnect attempts reached (--max)\n"
    "  4  protocol error (failed by wsc, or closed with 1002, 1007 or 1009)\n"
    "  5  connection lost (1006) and not reconnected\n"
    "  6  messages may have been lost: sent but not confirmed by the server\n"
    "     before a drop, or discarded when the client stopped (listed on stderr)\n"
    "  7  the server closed with 1003, 1008, 1010 or 1011 (refused the data, a\n"
    "     policy such as the CSRF check, an extension, or an internal error)\n"
    "  8  input lines were skipped (invalid JSON or UTF-8, too long; on stderr)\n"
    "  9  --file was not acknowledged (no reply, no close) before -w ended\n"
    "  The first that applies of 1, 3, 4, 5, 7, 6, 9, 8 is given; with --exec,\n"
    "  a non-zero status of the program (128+N for signal N) comes after 1-5.\n"
    "  --echo follows the same table (0, 1, 4, 5 or 7).\n";

void cli_print_help(void) {
    fputs(help_text, stdout);
    fputs("\nCommands:\n", stdout);
    /* Summaries are wrapped at word boundaries to stay within 79 columns. */
    enum { COL = 21, WIDTH = 79 };
    for (const cli_command *c = cli_commands; c->name; c++) {
        printf("  %-18s", c->name);
        int col = 2 + 18;
        if ((int)strlen(c->name) > 18) {
            printf("\n%*s", COL, "");
        } else {
            putchar(' ');
        }
        col = COL;
        const char *p = c->summary;
        while (*p) {
            size_t w = strcspn(p, " ");
            if (col > COL && col + 1 + (int)w > WIDTH) {
                printf("\n%*s", COL, "");
                col = COL;
            } else if (col > COL) {
                putchar(' ');
                col++;
            }
            fwrite(p, 1, w, stdout);
            col += (int)w;
            p += w;
            while (*p == ' ') p++;
        }
        putchar('\n');
    }
    fputs("\nSee wsc(1) for details and examples.\n", stdout);
}

void cli_print_version(void) {
    printf("wsc %s (library %s)\n", WSC_VERSION_STRING, wsc_version());
    printf("%s, jansson %s, SQLite %s, zlib %s, libedit\n", OpenSSL_version(OPENSSL_VERSION), JANSSON_VERSION,
           sqlite3_libversion(), zlibVersion());
}

static int bad_value(const char *opt, const char *val, const char *what) {
    return cli_usage_error("invalid value '%s' for %s: %s", val, opt, what);
}

static void push(const char ***arr, size_t *n, const char *v) {
    *arr = xrealloc(*arr, (*n + 2) * sizeof **arr);
    (*arr)[(*n)++] = v;
    (*arr)[*n] = NULL;
}

static int add_header(cli_opts *o, const char *arg) {
    const char *colon = strchr(arg, ':');
    if (!colon) return bad_value("--header", arg, "expected 'Name: value'");
    const char *ne = colon;
    while (ne > arg && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
    if (ne == arg) return bad_value("--header", arg, "empty header name");
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    size_t vl = strlen(v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
    o->headers = xrealloc(o->headers, (o->nheaders + 1) * sizeof *o->headers);
    o->headers[o->nheaders].name = xstrndup(arg, (size_t)(ne - arg));
    o->headers[o->nheaders].value = xstrndup(v, vl);
    o->nheaders++;
    return 0;
}

static int get_uint(const char *opt, const char *arg, unsigned long long max, unsigned long long *out) {
    if (parse_uint(arg, max, out)) {
        char what[64];
        snprintf(what, sizeof what, "expected a whole number from 0 to %llu", max);
        return bad_value(opt, arg, what);
    }
    return 0;
}

static int get_seconds(const char *opt, const char *arg, unsigned *out_ms) {
    unsigned long long ms;
    if (parse_seconds(arg, UINT_MAX, &ms)) return bad_value(opt, arg, "expected a number of seconds");
    *out_ms = (unsigned)ms;
    return 0;
}

/* --token-file: the first line of the file (without its line end), in
   secret memory. A file that group or others may write to is refused, as
   for the store. NULL after printing why. */
static char *read_token_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        cli_error("cannot read token file %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 022)) {
        cli_error("refusing token file %s: %s", path,
                  !S_ISREG(st.st_mode) ? "not a regular file" : "group or others may write to it (chmod go-w)");
        close(fd);
        return NULL;
    }
    char *buf = wsc__secret_alloc(WSC_TOKEN_FILE_MAX + 1);
    size_t n = 0;
    ssize_t r;
    while (buf && n < WSC_TOKEN_FILE_MAX && (r = read(fd, buf + n, WSC_TOKEN_FILE_MAX - n)) != 0) {
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf) {
        cli_error("out of memory");
        return NULL;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    if (!buf[0]) {
        cli_error("token file %s has no token on its first line", path);
        wsc__secret_free(buf);
        return NULL;
    }
    return buf;
}

int cli_opts_parse(cli_opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->wait_ms = 1000;
    unsigned long long v;
    int c, rc = 0;
    opterr = 0;
    cli_getopt_reset();
    while (rc == 0 && (c = getopt_long(argc, argv, ":x:w:n:p:H:vqhP0L", long_opts, NULL)) != -1) {
        const char *client_only = NULL;
        switch (c) {
        case O_ECHO: o->echo = 1; break;
        case O_JSON: o->json = 1, client_only = "--json"; break;
        case O_BINARY: o->binary = 1, client_only = "--binary"; break;
        case O_PRETTY: o->pretty = 1, client_only = "--pretty"; break;
        case O_BASE64: o->base64 = 1, client_only = "--base64"; break;
        case 'x':
            push(&o->execute, &o->nexecute, optarg);
            client_only = "--execute";
            break;
        case O_FILE: o->file = optarg, client_only = "--file"; break;
        case 'w':
            client_only = "--wait";
            o->wait_set = 1;
            if (strcmp(optarg, "inf") == 0) {
                o->wait_ms = WAIT_FOREVER;
            } else {
                unsigned long long ms;
                if (parse_seconds(optarg, 1000ull * 3600 * 24 * 365, &ms))
                    rc = bad_value("--wait", optarg, "expected a number of seconds or 'inf'");
                o->wait_ms = ms;
            }
            break;
        case 'n':
            client_only = "--count";
            if (!(rc = get_uint("--count", optarg, ULLONG_MAX, &v)) && v == 0)
                rc = bad_value("--count", optarg, "expected at least 1");
            o->count = v;
            break;
        case 'p': push(&o->protocols, &o->nprotocols, optarg); break;
        case 'H': rc = add_header(o, optarg); break;
        case O_ORIGIN: o->origin = optarg; break;
        case O_COOKIE: o->cookie = optarg; break;
        case O_USER_AGENT: o->user_agent = optarg; break;
        case O_PROXY: o->proxy = optarg; break;
        case O_NO_PROXY: o->proxy = ""; break;
        case O_CONNECT_TIMEOUT:
            if (!(rc = get_seconds("--connect-timeout", optarg, &o->connect_timeout_ms)) && !o->connect_timeout_ms)
                rc = bad_value("--connect-timeout", optarg, "must be more than 0");
            break;
        case O_MAX_MESSAGE_SIZE:
            if (parse_size(optarg, 1ull << 62, &o->max_message_size))
                rc = bad_value("--max-message-size", optarg, "expected a size such as 1048576, 512k or 64M");
            break;
        case O_NO_DEFLATE: o->no_deflate = 1; break;
        case O_CA: o->ca = optarg; break;
        case O_CAPATH: o->capath = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_INSECURE: o->insecure = 1; break;
        case O_NO_CHECK_HOSTNAME: o->no_check_hostname = 1; break;
        case O_MAX:
            client_only = "--max";
            if (!(rc = get_uint("--max", optarg, UINT_MAX, &v))) o->max_attempts = (unsigned)v;
            break;
        case O_TIMEOUT:
            client_only = "--timeout";
            if (!(rc = get_uint("--timeout", optarg, UINT_MAX, &v))) o->timeout_ms = v ? (unsigned)v : 1;
            break;
        case O_BACKOFF: o->backoff = 1, client_only = "--backoff"; break;
        case O_BACKOFF_MAX:
            client_only = "--backoff-max";
            if (!(rc = get_uint("--backoff-max", optarg, UINT_MAX, &v))) o->backoff_max_ms = v ? (unsigned)v : 1;
            break;
        case O_JITTER:
            client_only = "--jitter";
            if (!(rc = get_uint("--jitter", optarg, 100, &v))) o->jitter_pct = (unsigned)v;
            break;
        case O_NO_RECONNECT: o->no_reconnect = 1, client_only = "--no-reconnect"; break;
        case O_RETRY_CONNECT: o->retry_connect = 1, client_only = "--retry-connect"; break;
        case O_AT_LEAST_ONCE: o->at_least_once = 1, client_only = "--at-least-once"; break;
        case O_PING_INTERVAL:
            client_only = "--ping-interval";
            if (!(rc = get_seconds("--ping-interval", optarg, &o->ping_interval_ms)) && !o->ping_interval_ms)
                o->no_heartbeat = 1;
            break;
        case O_PING_TIMEOUT:
            client_only = "--ping-timeout";
            if (!(rc = get_seconds("--ping-timeout", optarg, &o->ping_timeout_ms)) && !o->ping_timeout_ms)
                o->no_heartbeat = 1;
            break;
        case O_TOKEN:
            client_only = "--token";
            wsc__secret_free(o->token);
            if (!(o->token = wsc__secret_strdup(optarg))) return cli_usage_error("out of memory");
            /* Hide it from the process list (/proc/PID/cmdline). */
            memset(optarg, 'x', strlen(optarg));
            break;
        case O_TOKEN_FILE:
            client_only = "--token-file";
            wsc__secret_free(o->token);
            if (!(o->token = read_token_file(optarg))) return EXIT_USAGE;
            break;
        case O_STORE: o->store = optarg, client_only = "--store"; break;
        case O_NO_STORE: o->no_store = 1, client_only = "--no-store"; break;
        case O_TOKEN_KEY: o->token_key = optarg, client_only = "--token-key"; break;
        case O_CSRF_COOKIE: o->csrf_cookie = optarg, client_only = "--csrf-cookie"; break;
        case O_CSRF_PARAM: o->csrf_param = optarg, client_only = "--csrf-param"; break;
        case O_CSRF_PROPERTY: o->csrf_property = optarg, client_only = "--csrf-property"; break;
        case O_AUTH: {
            /* "Authorization: Basic base64(user:pass)", masked by -v. */
            if (!strchr(optarg, ':')) {
                rc = bad_value("--auth", "***", "expected USER:PASS");
                break;
            }
            size_t al = strlen(optarg), bl = 4 * ((al + 2) / 3) + 1;
            char *basic = xmalloc(6 + bl);
            memcpy(basic, "Basic ", 6);
            EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)optarg, (int)al);
            memset(optarg, 'x', al); /* hide it from the process list */
            o->headers = xrealloc(o->headers, (o->nheaders + 1) * sizeof *o->headers);
            o->headers[o->nheaders].name = xstrdup("Authorization");
            o->headers[o->nheaders].value = basic;
            o->nheaders++;
            break;
        }
        case 'P': o->show_ping = 1, client_only = "--show-ping"; break;
        case O_COMPACT: o->compact = 1, client_only = "--compact"; break;
        case O_BINARY_PREFIX: o->binary_prefix = optarg, client_only = "--binary-prefix"; break;
        case O_TEXT_PREFIX: o->text_prefix = optarg, client_only = "--text-prefix"; break;
        case '0': o->null_sep = 1, client_only = "--null"; break;
        case 'L': o->location = 1, client_only = "--location"; break;
        case O_EXEC:
        case O_EXEC_RAW:
            o->exec_cmd = optarg;
            o->exec_raw = c == O_EXEC_RAW;
            client_only = c == O_EXEC ? "--exec" : "--exec-raw";
            break;
        case O_PASSPHRASE:
            cli_free_secret(o->passphrase);
            o->passphrase = xstrdup(optarg);
            memset(optarg, 'x', strlen(optarg));
            break;
        case 'v': o->verbose = 1; break;
        case 'q': o->quiet = 1; break;
        case O_NO_COLOR: o->no_color = 1; break;
        case 'h': cli_print_help(); return 0;
        case O_VERSION: cli_print_version(); return 0;
        case ':': {
            const char *name = argv[optind - 1];
            return cli_usage_error("option %s needs a value", name);
        }
        default: {
            const char *name = argv[optind - 1];
            if (optopt && optopt < 256) return cli_usage_error("unknown option -%c", optopt);
            return cli_usage_error("unknown option %s", name);
        }
        }
        if (client_only && !o->client_only_seen) o->client_only_seen = client_only;
        if (c == O_TOKEN || c == O_TOKEN_FILE) o->client_only_seen_token = client_only;
    }
    if (rc) return rc;
    if (optind >= argc) return cli_usage_error("missing URL");
    o->url = argv[optind++];
    /* "host:port/path" without a scheme means ws:// (as wscat does). */
    if (!strstr(o->url, "://") && strncmp(o->url, "ws+unix:", 8) && strncmp(o->url, "wss+unix:", 9)) {
        size_t ul = strlen(o->url) + 6;
        o->url_buf = xmalloc(ul);
        snprintf(o->url_buf, ul, "ws://%s", o->url);
        o->url = o->url_buf;
    }
    if (!o->passphrase && getenv("WSC_KEY_PASSPHRASE")) o->passphrase = xstrdup(getenv("WSC_KEY_PASSPHRASE"));
    if (optind < argc) return cli_usage_error("unexpected argument '%s' after the URL", argv[optind]);
    if (o->echo && o->client_only_seen)
        return cli_usage_error("%s cannot be used with --echo", o->client_only_seen);
    if (o->json && o->binary) return cli_usage_error("--json and --binary cannot be used together");
    if (o->pretty && o->compact) return cli_usage_error("--pretty and --compact cannot be used together");
    if (o->exec_cmd && (o->nexecute || o->file))
        return cli_usage_error("--exec cannot be used with --execute or --file");
    if (o->token && o->store)
        return cli_usage_error("%s and --store cannot be used together", o->client_only_seen_token);
    /* WSC_TOKEN: as --token, without the token in argv; the options win.
       The value is overwritten and removed from the environment so that
       /proc/PID/environ and child processes do not see it. */
    char *env = getenv("WSC_TOKEN");
    if (env && *env && !o->token && !o->store && !o->echo)
        if (!(o->token = wsc__secret_strdup(env))) return cli_usage_error("out of memory");
    if (env) {
        memset(env, 'x', strlen(env));
        unsetenv("WSC_TOKEN");
    }
    if (o->no_store && o->store) return cli_usage_error("--no-store and --store cannot be used together");
    if (o->no_reconnect && (o->max_attempts || o->retry_connect))
        return cli_usage_error("--no-reconnect cannot be used with --max or --retry-connect");
    if (o->count && !o->wait_set) o->wait_ms = WAIT_FOREVER;
    /* --exec: once the program is done, nothing is left to show replies to. */
    if (o->exec_cmd && !o->wait_set && !o->count) o->wait_ms = 0;
    return -1;
}

void cli_opts_free(cli_opts *o) {
    for (size_t i = 0; i < o->nheaders; i++) {
        free((char *)o->headers[i].name);
        cli_free_secret((char *)o->headers[i].value); /* may carry --auth */
    }
    cli_free_secret(o->passphrase);
    free(o->url_buf);
    free(o->headers);
    free(o->protocols);
    free(o->execute);
    wsc__secret_free(o->token);
    memset(o, 0, sizeof *o);
}

void cli_opts_ws(const cli_opts *o, wsc_ws_options *w) {
    memset(w, 0, sizeof *w);
    w->protocols = o->nprotocols ? o->protocols : NULL;
    w->origin = o->origin;
    w->cookie = o->cookie;
    w->user_agent = o->user_agent;
    w->headers = o->headers;
    w->nheaders = o->nheaders;
    w->ca_file = o->ca;
    w->ca_dir = o->capath;
    w->cert_file = o->cert;
    w->key_file = o->key;
    w->key_passphrase = o->passphrase;
    w->insecure_skip_verify = o->insecure;
    w->insecure_skip_hostname = o->no_check_hostname;
    w->proxy = o->proxy;
    w->connect_timeout_ms = o->connect_timeout_ms;
    w->max_message_size = o->max_message_size;
    w->no_deflate = o->no_deflate;
}

void cli_opts_client(const cli_opts *o, wsc_client_options *c) {
    memset(c, 0, sizeof *c);
    cli_opts_ws(o, &c->ws);
    c->max_attempts = o->max_attempts;
    c->timeout_ms = o->timeout_ms;
    c->backoff = o->backoff;
    c->backoff_max_ms = o->backoff_max_ms;
    c->jitter_pct = o->jitter_pct;
    c->no_reconnect = o->no_reconnect;
    c->token = o->token;
    c->no_store = o->no_store;
    c->store_path = o->store;
    c->token_key = o->token_key;
    c->cookie_name = o->csrf_cookie;
    c->query_param = o->csrf_param;
    c->json_property = o->csrf_property;
    c->json_view_only = 1; /* printing needs the text and the view, never a json_t */
    c->ping_interval_ms = o->ping_interval_ms;
    c->ping_timeout_ms = o->ping_timeout_ms;
    c->no_heartbeat = o->no_heartbeat;
    c->delivery = o->at_least_once ? WSC_DELIVERY_AT_LEAST_ONCE : WSC_DELIVERY_AT_MOST_ONCE;
}
