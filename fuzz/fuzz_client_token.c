/* fuzz_client_token.c - the token rotation through the real client path:
 * a wsc_client (client.c, client_token.c, setcookie.c, store.c) connected to
 * the harness, whose handshake response carries fuzzed Set-Cookie headers
 * (and a fuzzed status line when refusing), followed by fuzzed bytes
 * (frames, or a refusal's body). The token store is a file in a temporary
 * directory, fresh for every input.
 *
 * The harness is the server, on 127.0.0.1 (a host, so that Domain matching
 * is reached; ws+unix URLs have none), on a loop with an injected clock
 * (fuzz_peer.h): deterministic, no wall-clock wait.
 *
 * Input: byte 0 flags (below); then the response head's lines up to the
 * first NUL, separated by LF (a CR before the LF is dropped): the first is
 * the status line after "HTTP/1.1 " when refusing (ignored otherwise), each
 * other one a Set-Cookie value; the rest is written after the head.
 *
 * Checks:
 *  - the request carries the old token (if any) in the query and the Cookie;
 *  - an applicable response (the client opened, or got an HTTP status) is
 *    one the public HTTP parser reads, and the reverse;
 *  - the token afterwards (the store's, or the client's in-memory one) is
 *    exactly what the last Set-Cookie for "csrf_token" that applies (the
 *    setcookie.c rules, for this path and host) says: a value that was in a
 *    Set-Cookie header of that response and is wsc_token_valid(), deleted,
 *    or else the old token; with no_set_cookie always the old one;
 *  - an in-memory token never touches the store (no file is created), and
 *    nothing creates a store file unless a token is written;
 *  - no error text (error events' messages, reconnect/close causes) holds
 *    the old token or the new one, raw or with any of its bytes as %XX in
 *    either case.
 */
#define _GNU_SOURCE /* accept4, memmem */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "setcookie.h"
#include "wsc/client.h"
#include "wsc/http.h"
#include "wsc/store.h"

#include "fuzz_peer.h"

/* byte 0 */
#define T_MODE 0x03u      /* 0 store holding OLD, 1 empty store, 2 in-memory OLD (`token`), 3 no_store, none */
#define T_REFUSE 0x04u    /* the status line is the input's first line (else 101) */
#define T_CHUNKS 0x18u    /* how the bytes after the head are written (fp_piece) */
#define T_ECHO 0x20u      /* each JSON message is sent back (send_json: the token is added) */
#define T_PATH 0x40u      /* URL path /app/feed?x=1 (else /feed) */
#define T_NO_SETCK 0x80u  /* no_set_cookie */

static const char OLD[] = "oldTok3n-Zq9XvW7";

static char dir[64], store_path[128];
static int lfd = -1;
static uint16_t port;
static char tmpl[65536]; /* a store file holding OLD for this origin */
static size_t tmpl_len;

static struct {
    int opened, ehttp, estore, closed;
    const char *old;    /* the token the client started with (NULL: none) */
    const char *newtok; /* the expected token after the response (NULL: none) */
} st;

static void cleanup(void) {
    if (lfd >= 0) close(lfd);
    if (dir[0]) {
        char p[200];
        const char *sfx[] = {"", "-wal", "-shm", "-journal"};
        for (int i = 0; i < 4; i++) {
            snprintf(p, sizeof p, "%s%s", store_path, sfx[i]);
            unlink(p);
        }
        rmdir(dir);
    }
    wsc_loop_run_once(fp_loop, 0);
    wsc_loop_free(fp_loop);
}

static void setup(void) {
    fp_loop_new();
    /* tmpfs when there is one: the store's fsync is then free (it is what the
       rotation costs most of the run on a disk). */
    snprintf(dir, sizeof dir, "%s/wsc-fuzz-token.XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    CHECK(mkdtemp(dir));
    CHECK(chmod(dir, 0700) == 0);
    snprintf(store_path, sizeof store_path, "%s/tokens.db", dir);
    lfd = fp_listen_loopback(4, &port);
    /* The store holding the old token, written once (a durable write, with
       its fsync, per input would dominate the run) and copied per input. */
    char origin[64];
    snprintf(origin, sizeof origin, "ws://127.0.0.1:%u", (unsigned)port);
    wsc_error err;
    wsc_store *s = wsc_store_open(store_path, &err);
    CHECK(s);
    CHECK(wsc_store_set(s, origin, "csrf_token", OLD, &err) == WSC_OK);
    wsc_store_close(s);
    FILE *in = fopen(store_path, "rb");
    CHECK(in);
    tmpl_len = fread(tmpl, 1, sizeof tmpl, in);
    CHECK(tmpl_len > 0 && tmpl_len < sizeof tmpl && feof(in));
    fclose(in);
    atexit(cleanup);
}

static void store_reset(void) {
    char p[200];
    const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", store_path, sfx[i]);
        unlink(p);
    }
}

/* 1 if `tok` appears in `t` in any spelling a server could use: each byte
   raw or as %XX with hex digits in either case (the client's masking rule,
   client.h; written here independently of client_token.c). */
static int hexdig(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
static int holds_token(const char *t, const char *tok) {
    size_t tl = strlen(tok);
    for (const char *a = t; *a; a++) {
        const char *q = a;
        size_t i = 0;
        while (i < tl && *q) {
            if ((unsigned char)*q == (unsigned char)tok[i]) {
                q++;
            } else if (*q == '%' && q[1] && q[2] && hexdig(q[1]) >= 0 && hexdig(q[2]) >= 0 &&
                       hexdig(q[1]) * 16 + hexdig(q[2]) == (unsigned char)tok[i]) {
                q += 3;
            } else {
                break;
            }
            i++;
        }
        if (i == tl) return 1;
    }
    return 0;
}

/* No error text may hold a token, however spelt: the old one, or the one
   the response set. */
static void check_text(const char *t) {
    if (!t || !*t) return;
    if (st.old) CHECK(!holds_token(t, st.old));
    if (st.newtok && strlen(st.newtok) >= 8) CHECK(!holds_token(t, st.newtok));
}

static void on_ev(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)user;
    check_text(ev->message);
    check_text(ev->cause_message);
    if (ev->ws_event) check_text(ev->ws_event->message);
    switch (ev->type) {
    case WSC_CLIENT_OPEN: st.opened = 1; break;
    case WSC_CLIENT_ERROR:
        if (ev->error == WSC_EHTTP) st.ehttp = 1;
        if (ev->error == WSC_ESTORE) st.estore = 1;
        break;
    case WSC_CLIENT_CLOSE: st.closed = 1; break;
    case WSC_CLIENT_MESSAGE:
        if (ev->json && json_is_object(ev->json)) (void)wsc_client_send_json(c, ev->json);
        break;
    }
}

static int client_done(void) { return st.closed; }

/* The value the client should hold after this response: the setcookie.c
   rule applied to the headers as the public parser reads them. Returns
   1 if the response is one the client acts on (parsed), and sets *tok
   (NULL: deleted) when some Set-Cookie applied. */
static int expected(const char *head, size_t len, const char *path, size_t pl, int *applied, wsc__cookie *ck) {
    wsc_http_response r;
    memset(&r, 0, sizeof r);
    *applied = WSC__COOKIE_IGNORE;
    if (wsc_http_parse_response(head, len, 0, &r, 0) <= 0) return 0;
    for (size_t i = 0; i < r.n_headers; i++) {
        const wsc_header *h = &r.headers[i];
        if (h->name.len != 10 || strncasecmp(h->name.ptr, "Set-Cookie", 10)) continue;
        char *v = malloc(h->value.len + 1);
        CHECK(v);
        memcpy(v, h->value.ptr, h->value.len);
        v[h->value.len] = 0;
        wsc__cookie one;
        int a = wsc__set_cookie_parse(v, "csrf_token", path, pl, "127.0.0.1", 9, time(NULL), &one);
        if (a != WSC__COOKIE_IGNORE) {
            *applied = a;
            *ck = one;
            /* Independently of setcookie.c: a SET value is in that header. */
            if (a == WSC__COOKIE_SET) CHECK(strstr(v, one.value));
        }
        free(v);
    }
    return r.status == 101 ? 1 : 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 12000) return 0;
    if (!fp_loop) setup();
    unsigned f = data[0];
    unsigned mode = f & T_MODE;
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *z = memchr(p, 0, (size_t)(end - p));
    const uint8_t *hend = z ? z : end, *tail = z ? z + 1 : end;
    memset(&st, 0, sizeof st);
    store_reset();

    char url[200];
    const char *path = (f & T_PATH) ? "/app/feed" : "/feed";
    snprintf(url, sizeof url, "ws://127.0.0.1:%u%s", (unsigned)port, (f & T_PATH) ? "/app/feed?x=1" : "/feed");
    char origin[64];
    snprintf(origin, sizeof origin, "ws://127.0.0.1:%u", (unsigned)port);
    if (mode == 0) { /* the old token, for this origin */
        int sfd = open(store_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(sfd >= 0 && write(sfd, tmpl, tmpl_len) == (ssize_t)tmpl_len);
        close(sfd);
    }

    wsc_client_options o;
    memset(&o, 0, sizeof o);
    o.on_open = o.on_message = o.on_error = o.on_close = o.on_reconnect = o.on_maximum = on_ev;
    o.no_reconnect = 1;
    o.no_heartbeat = 1;
    o.store_path = store_path;
    o.no_set_cookie = (f & T_NO_SETCK) != 0;
    if (mode == 2) o.token = OLD;
    if (mode == 3) o.no_store = 1;
    if (!(f & T_ECHO)) o.json_view_only = 1;
    wsc_error err;
    wsc_client *c = wsc_client_new(fp_loop, url, &o, &err);
    CHECK(c);

    int fd = -1;
    for (int i = 0; i < 200 && fd < 0; i++) {
        fp_turn();
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    }
    CHECK(fd >= 0);
    /* The request head (it comes in one piece on loopback, within a few turns). */
    char req[8192];
    (void)fp_read_head(fd, req, sizeof req);
    CHECK(strstr(req, "\r\n\r\n"));
    int had_old = mode == 0 || mode == 2;
    char want[64];
    snprintf(want, sizeof want, "csrf=%s", OLD);
    CHECK(!strstr(req, want) == !had_old);
    snprintf(want, sizeof want, "csrf_token=%s", OLD);
    CHECK(!strstr(req, want) == !had_old);
    const char *k = strstr(req, "Sec-WebSocket-Key: ");
    CHECK(k);
    char accept[29];
    CHECK(wsc_handshake_accept(k + 19, 24, accept) == WSC_OK);

    /* The response head. */
    size_t cap = (size_t)(hend - p) * 15 + 512, hl = 0; /* "Set-Cookie: \r\n" per LF */
    char *head = malloc(cap);
    CHECK(head);
    const uint8_t *line = p;
    int first = 1;
    while (line <= hend) {
        const uint8_t *nl = memchr(line, '\n', (size_t)(hend - line));
        const uint8_t *le = nl ? nl : hend;
        size_t ll = (size_t)(le - line);
        if (ll && line[ll - 1] == '\r') ll--;
        if (first) {
            if (f & T_REFUSE) hl += (size_t)snprintf(head + hl, cap - hl, "HTTP/1.1 %.*s\r\n", (int)ll, line);
            else
                hl += (size_t)snprintf(head + hl, cap - hl,
                                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
                                       accept);
            first = 0;
        } else {
            hl += (size_t)snprintf(head + hl, cap - hl, "Set-Cookie: %.*s\r\n", (int)ll, line);
        }
        if (!nl) break;
        line = nl + 1;
    }
    hl += (size_t)snprintf(head + hl, cap - hl, "\r\n");
    CHECK(hl < cap);

    wsc__cookie ck;
    memset(&ck, 0, sizeof ck);
    int applied;
    int kind = expected(head, hl, path, strlen(path), &applied, &ck);
    const char *old = had_old ? OLD : NULL;
    st.old = old;
    const char *newtok = old;
    if (!o.no_set_cookie && applied == WSC__COOKIE_SET) newtok = ck.value;
    if (!o.no_set_cookie && applied == WSC__COOKIE_DELETE) newtok = NULL;
    st.newtok = newtok;

    fp_write(fd, (const uint8_t *)head, hl, 1u << 20);
    fp_settle(fd, 20);
    fp_write(fd, tail, (size_t)(end - tail), fp_piece((f & T_CHUNKS) >> 3));
    fp_finish(fd, 0, client_done);
    free(head);

    /* The response was acted on exactly when the public parser reads it. */
    CHECK(!st.estore);
    int acted = st.opened || st.ehttp;
    if (kind == 0) CHECK(!acted);
    if (kind == 1 && !(f & T_REFUSE)) CHECK(st.opened);
    if (kind == 2) CHECK(st.ehttp);
    if (!acted) newtok = old;

    /* The token now held. */
    const char *cur = wsc_client_csrf(c);
    int near_expiry = newtok && newtok == ck.value && ck.expires && ck.expires <= time(NULL) + 2;
    if (!near_expiry) {
        CHECK(!cur == !newtok);
        if (cur) CHECK(!strcmp(cur, newtok));
    }
    char keep[WSC_TOKEN_MAX + 1] = "";
    if (newtok) snprintf(keep, sizeof keep, "%s", newtok);
    wsc_client_free(c);
    fp_settle(-1, 5);

    struct stat sb;
    int exists = stat(store_path, &sb) == 0;
    if (mode >= 2) CHECK(!exists); /* an in-memory token, or no store: the store is never touched */
    if (mode == 1 && !(acted && applied == WSC__COOKIE_SET && !o.no_set_cookie)) {
        /* Nothing was written: a deletion may have opened (created) it, nothing else may. */
        if (exists) CHECK(acted && applied == WSC__COOKIE_DELETE && !o.no_set_cookie);
    }
    if (mode <= 1 && exists) {
        wsc_store *s = wsc_store_open(store_path, &err);
        CHECK(s);
        char *v = NULL;
        CHECK(wsc_store_get(s, origin, "csrf_token", &v, &err) == WSC_OK);
        if (!near_expiry) {
            CHECK(!v == !keep[0]);
            if (v) CHECK(!strcmp(v, keep));
        }
        if (v) CHECK(wsc_token_valid(v, strlen(v)));
        wsc_store_free(v);
        wsc_store_close(s);
    } else if (mode <= 1) {
        CHECK(!keep[0]);
    }
    return 0;
}
