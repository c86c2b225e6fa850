/*
 * token.c - `wsc token get|set|clear|list [ORIGIN] [TOKEN]`: the local
 * store of CSRF tokens (store.h), by origin; `wsc token fetch URL`: the
 * token from a page that sets it (libcurl).
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

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <strings.h>

#include "commands.h"
#include "setcookie.h"
#include "util.h"
#include "wsc/http.h"
#include "wsc/store.h"
#include "wsc/wsc.h"

static const char token_help[] =
    "Usage: wsc token get ORIGIN          print the token of ORIGIN\n"
    "       wsc token set ORIGIN [TOKEN]  store a token (read from stdin when\n"
    "                                     TOKEN is missing: recommended)\n"
    "       wsc token clear ORIGIN        remove it\n"
    "       wsc token list [ORIGIN]       origins, names and update times\n"
    "                                     (never the tokens)\n"
    "       wsc token fetch URL           GET an http(s) page that sets the token\n"
    "                                     and store it (wsc token fetch --help)\n"
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

/* ------------------------------------------------------------------ */
/* wsc token fetch URL: what a browser's page load does                */
/* ------------------------------------------------------------------ */

#define FETCH_MAX_BODY ((size_t)1 << 20)
#define FETCH_MAX_REDIRECTS 5

typedef struct fetch_ctx {
    const char *cookie_name;
    const char *path; /* of the URL being fetched, for Set-Cookie's Path */
    const char *host;
    int action;       /* enum wsc__cookie_action of the last matching Set-Cookie */
    wsc__cookie ck;
    wsc_buf body;
    int too_big;
} fetch_ctx;

static size_t on_header(char *buf, size_t size, size_t n, void *user) {
    fetch_ctx *f = user;
    size_t len = size * n;
    if (len > 11 && strncasecmp(buf, "Set-Cookie:", 11) == 0) {
        char line[WSC_TOKEN_MAX + 1024];
        size_t l = len - 11 < sizeof line - 1 ? len - 11 : sizeof line - 1;
        memcpy(line, buf + 11, l);
        line[l] = 0;
        while (l && (line[l - 1] == '\r' || line[l - 1] == '\n')) line[--l] = 0;
        wsc__cookie ck;
        int a = wsc__set_cookie_parse(line, f->cookie_name, f->path, strlen(f->path), f->host, strlen(f->host),
                                      time(NULL), &ck);
        if (a != WSC__COOKIE_IGNORE) {
            f->action = a;
            f->ck = ck;
        }
        OPENSSL_cleanse(&ck, sizeof ck);
        OPENSSL_cleanse(line, l);
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *user) {
    fetch_ctx *f = user;
    size_t len = size * n;
    if (f->body.len + len > FETCH_MAX_BODY) {
        f->too_big = 1;
        return 0; /* aborts the transfer */
    }
    return wsc_buf_append(&f->body, buf, len) == WSC_OK ? len : 0;
}

/* The origin (scheme, host, port) of an http(s) URL, for the same-origin
   rule of redirects; -1 if it is not one. */
static int http_origin(const char *url, char *out, size_t cap, char *host, size_t hcap, char *path, size_t pcap) {
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL, *p = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK &&
        (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https"))) {
        snprintf(out, cap, "%s://%s:%s", scheme, h, port);
        snprintf(host, hcap, "%s", h);
        snprintf(path, pcap, "%s", p);
        rc = 0;
    }
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

/* Fetches url (following redirects within its origin) and leaves in *f the
   token cookie (or the body). Returns an exit status. */
static int fetch(const char *url, const char *ca, fetch_ctx *f) {
    char origin[1200], o2[1200], host[1024], path[2048];
    if (http_origin(url, origin, sizeof origin, host, sizeof host, path, sizeof path))
        return cli_usage_error("'%s' is not an http:// or https:// URL", url);
    CURL *h = curl_easy_init();
    if (!h) {
        cli_error("cannot initialise libcurl");
        return EXIT_CONNECT;
    }
    char *cur = xstrdup(url);
    int rc = EXIT_OK;
    for (int hop = 0;; hop++) {
        char errbuf[CURL_ERROR_SIZE] = "";
        f->path = path;
        f->host = host;
        wsc_buf_free(&f->body);
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, cur);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* followed here, within the origin */
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "wsc/" WSC_VERSION_STRING);
        CURLcode cc = curl_easy_perform(h);
        if (cc != CURLE_OK) {
            cli_error("%s: %s", cur, f->too_big ? "the response is larger than 1 MiB" : errbuf[0] ? errbuf : curl_easy_strerror(cc));
            rc = EXIT_CONNECT;
            break;
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        if (status >= 300 && status < 400 && loc) {
            if (hop >= FETCH_MAX_REDIRECTS) {
                cli_error("%s: more than %d redirects", url, FETCH_MAX_REDIRECTS);
                rc = EXIT_CONNECT;
                break;
            }
            if (http_origin(loc, o2, sizeof o2, host, sizeof host, path, sizeof path) || strcasecmp(o2, origin)) {
                cli_error("%s: redirected to another origin (%s); not followed", cur, o2[0] ? o2 : "not http(s)");
                rc = EXIT_CONNECT;
                break;
            }
            char *next = xstrdup(loc);
            free(cur);
            cur = next;
            continue;
        }
        if (status < 200 || status >= 300) {
            cli_error("%s: the server answered %ld", cur, status);
            rc = EXIT_CONNECT;
        }
        break;
    }
    free(cur);
    curl_easy_cleanup(h);
    return rc;
}

static const char fetch_help[] =
    "Usage: wsc token fetch [OPTIONS] URL\n"
    "\n"
    "GET the http:// or https:// URL (a page that sets the token, as a\n"
    "browser's page load does) and store the token from its Set-Cookie for\n"
    "the origin of URL (https://h -> wss://h:443), or of --for WSURL.\n"
    "Certificates are verified; redirects are followed within URL's origin only.\n"
    "\n"
    "Options:\n"
    "      --for WSURL          store the token for WSURL's origin instead\n"
    "      --cookie NAME        the cookie carrying it (default csrf_token)\n"
    "      --json-property NAME read it from this property of a JSON body instead\n"
    "      --ca FILE            trust the CA certificates in FILE (PEM)\n"
    "      --store PATH, --key NAME  as for the other token commands\n"
    "\n"
    "Exit status: 0 stored (or deleted: Max-Age=0); 1 no token in the\n"
    "response, the request failed, or the store failed; 2 usage error.\n";

static int cmd_fetch(int argc, char **argv) {
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},  {"key", required_argument, NULL, 'k'},
        {"for", required_argument, NULL, 'f'},    {"cookie", required_argument, NULL, 'c'},
        {"json-property", required_argument, NULL, 'j'}, {"ca", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *store_path = NULL, *key = NULL, *for_url = NULL, *cookie = "csrf_token", *prop = NULL, *ca = NULL;
    int c;
    opterr = 0;
    cli_getopt_reset();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's': store_path = optarg; break;
        case 'k': key = optarg; break;
        case 'f': for_url = optarg; break;
        case 'c': cookie = optarg; break;
        case 'j': prop = optarg; break;
        case 'a': ca = optarg; break;
        case 'h': fputs(fetch_help, stdout); return 0;
        case ':': return cli_usage_error("option %s needs a value", argv[optind - 1]);
        default: return cli_usage_error("unknown option %s for 'wsc token fetch'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) return cli_usage_error("token fetch: expected one URL");
    const char *url = argv[optind];
    char origin[WSC_URL_ORIGIN_MAX + 1024];
    if (to_origin(for_url ? for_url : url, origin, sizeof origin)) return EXIT_USAGE;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_error("cannot initialise libcurl");
        return EXIT_CONNECT;
    }
    fetch_ctx f;
    memset(&f, 0, sizeof f);
    f.cookie_name = cookie;
    int rc = fetch(url, ca, &f);
    char *token = NULL;
    time_t expires = 0;
    int del = 0;
    if (rc == EXIT_OK && prop) {
        json_error_t je;
        json_t *j = json_loadb((const char *)f.body.data, f.body.len, 0, &je);
        json_t *v = j ? json_object_get(j, prop) : NULL;
        if (v && json_is_string(v)) token = xstrdup(json_string_value(v));
        else {
            cli_error("%s: no string property \"%s\" in the %s", url, prop, j ? "JSON body" : "body (not JSON)");
            rc = EXIT_CONNECT;
        }
        json_decref(j);
    } else if (rc == EXIT_OK) {
        if (f.action == WSC__COOKIE_SET) token = xstrdup(f.ck.value), expires = f.ck.expires;
        else if (f.action == WSC__COOKIE_DELETE) del = 1;
        else {
            cli_error("%s: the response set no %s cookie", url, cookie);
            rc = EXIT_CONNECT;
        }
    }
    if (f.body.data) OPENSSL_cleanse(f.body.data, f.body.len);
    wsc_buf_free(&f.body);
    OPENSSL_cleanse(&f.ck, sizeof f.ck);
    curl_global_cleanup();
    if (rc) return rc;
    if (token && !wsc_token_valid(token, strlen(token))) {
        cli_free_secret(token);
        cli_error("%s: the token cannot be sent in a cookie; not stored", url);
        return EXIT_CONNECT;
    }
    wsc_error err;
    wsc_store *s = wsc_store_open(store_path, &err);
    if (!s) {
        cli_free_secret(token);
        cli_error("%s", err.message);
        return EXIT_CONNECT;
    }
    /* the expiry beside it, as the client keeps a Set-Cookie's (client.h) */
    char ekey[WSC_STORE_KEY_MAX + 16], when[32];
    snprintf(ekey, sizeof ekey, "%s.expires", key ? key : WSC_STORE_DEFAULT_KEY);
    snprintf(when, sizeof when, "%lld", (long long)expires);
    int src = del ? wsc_store_delete(s, origin, key, &err) : wsc_store_set(s, origin, key, token, &err);
    if (src == WSC_OK) src = expires ? wsc_store_set(s, origin, ekey, when, &err) : wsc_store_delete(s, origin, ekey, &err);
    if (src != WSC_OK) {
        cli_error("%s", err.message);
        rc = EXIT_CONNECT;
    } else {
        fprintf(stderr, "token %s for %s (from %s%s)\n", del ? "deleted" : "stored", origin,
                prop ? "the JSON property " : "Set-Cookie ", prop ? prop : cookie);
    }
    cli_free_secret(token);
    wsc_store_close(s);
    return rc;
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
    if (argc >= 2 && !strcmp(argv[1], "fetch")) return cmd_fetch(argc - 1, argv + 1);
    const char *store_path = NULL, *key = NULL;
    int c;
    opterr = 0;
    cli_getopt_reset();
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
