/* fuzz_server_upgrade.c - the server's upgrade path with the double-submit
 * CSRF check on (server.c's handshake, server_csrf.c, then the engine):
 * arbitrary bytes, request head and frames alike, written into a server
 * connection on a real wsc_loop with an injected clock (fuzz_peer.h).
 *
 * Input: byte 0 flags (below), then what the client sends. Four servers,
 * kept across inputs: allow_non_json off/on x permessage-deflate on/off,
 * with small limits (max_message_size 4000, 64 KiB memory budget).
 *
 * Checks (server.h's rule, seen from outside):
 *  - an accepted upgrade (the accept hook runs after the check) carries the
 *    cookie csrf_token and the query parameter csrf, non-empty and equal;
 *  - a refusal (any status, 400-599) holds neither the cookie's nor the
 *    query's value in its text (on_refuse's `why`) or in anything the
 *    server writes (values of 8 bytes or more: shorter ones cannot be told
 *    from ordinary words);
 *  - the 101 response head does not hold the token either;
 *  - every text message delivered is a JSON object (duplicate keys refused)
 *    whose "csrf" is the connection's token, unless allow_non_json and it
 *    is not JSON; a binary message is delivered only with allow_non_json;
 *  - the connection is gone at the end (wsc_server_connections() == 0).
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "wsc/http.h"
#include "wsc/server.h"
#include "wsc/store.h" /* WSC_TOKEN_MAX */

#include "fuzz_peer.h"

/* byte 0 */
#define U_NONJSON 0x01u  /* the server with allow_non_json */
#define U_NODEFL 0x02u   /* the server without permessage-deflate */
#define U_CHUNKS 0x0cu   /* how the input is written (fp_piece) */
#define U_ECHO 0x10u     /* echo each message */
#define U_LATE 0x20u     /* the clock passes the message timeout before the EOF */
#define U_CLOSE 0x40u    /* close (1000) after the first message */

static char dir[64];
static wsc_server *servers[4];
static char sock[4][128];
static size_t cur;

static struct {
    unsigned flags;
    int accepted, refused, messages;
    char token[WSC_TOKEN_MAX + 1]; /* the accepted connection's */
    char cv[WSC_TOKEN_MAX + 1], qv[WSC_TOKEN_MAX + 1]; /* the values a refused request carried */
} st;

static void cleanup(void) {
    for (int i = 0; i < 4; i++) {
        wsc_server_free(servers[i]);
        unlink(sock[i]);
    }
    if (dir[0]) rmdir(dir);
    wsc_loop_run_once(fp_loop, 0);
    wsc_loop_free(fp_loop);
}

/* The first csrf_token cookie and csrf query value, as the public parsers read them. */
static void values(const wsc_server_request *req, char *cv, char *qv) {
    const char *v = NULL;
    size_t vl = 0;
    cv[0] = qv[0] = 0;
    if (wsc_cookie_get(req->cookie, strlen(req->cookie), "csrf_token", &v, &vl) == 1 && vl <= WSC_TOKEN_MAX) {
        memcpy(cv, v, vl);
        cv[vl] = 0;
    }
    size_t ql = 0;
    if (wsc_query_get(req->query, strlen(req->query), "csrf", qv, WSC_TOKEN_MAX + 1, &ql) != 1) qv[0] = 0;
}

static int on_accept(wsc_server *s, wsc_sconn *c, const wsc_server_request *req, void *user, char *reason,
                     size_t cap) {
    (void)s, (void)c, (void)user, (void)reason, (void)cap;
    char cv[WSC_TOKEN_MAX + 1], qv[WSC_TOKEN_MAX + 1];
    values(req, cv, qv);
    CHECK(cv[0] && qv[0] && !strcmp(cv, qv));
    snprintf(st.token, sizeof st.token, "%s", cv);
    st.accepted = 1;
    return 0;
}

static void on_refuse(wsc_server *s, const wsc_server_request *req, int status, const char *why, void *user) {
    (void)s, (void)user;
    st.refused = status;
    values(req, st.cv, st.qv);
    CHECK(status >= 400 && status <= 599);
    if (strlen(st.cv) >= 8) CHECK(!strstr(why, st.cv));
    if (strlen(st.qv) >= 8) CHECK(!strstr(why, st.qv));
}

static void on_srv(wsc_server *s, wsc_sconn *c, const wsc_server_event *ev, void *user) {
    (void)s, (void)user;
    if (ev->type != WSC_SRV_MESSAGE) return;
    CHECK(st.accepted);
    st.messages++;
    int non_json = (st.flags & U_NONJSON) != 0;
    if (ev->binary) {
        CHECK(non_json);
    } else {
        CHECK(wsc_utf8_valid(ev->data, ev->len));
        json_error_t e;
        json_t *j = json_loadb((const char *)ev->data, ev->len,
                               JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
        if (j) {
            json_t *t = json_object_get(j, "csrf");
            CHECK(json_is_object(j) && json_is_string(t));
            CHECK(json_string_length(t) == strlen(st.token) && !strcmp(json_string_value(t), st.token));
            json_decref(j);
        } else if (json_error_code(&e) != json_error_numeric_overflow) {
            /* (jansson refuses numbers beyond a double, which JSON allows.) */
            CHECK(non_json && json_error_code(&e) != json_error_duplicate_key);
        }
    }
    if (st.flags & U_ECHO) {
        if (ev->binary) (void)wsc_sconn_send_binary(c, ev->data, ev->len);
        else (void)wsc_sconn_send_text(c, (const char *)ev->data, ev->len);
    }
    if ((st.flags & U_CLOSE) && st.messages == 1) (void)wsc_sconn_close(c, 1000, "bye");
}

static void setup(void) {
    fp_loop_new();
    snprintf(dir, sizeof dir, "/tmp/wsc-fuzz-upgrade.XXXXXX");
    CHECK(mkdtemp(dir));
    for (int i = 0; i < 4; i++) {
        snprintf(sock[i], sizeof sock[i], "%s/s%d", dir, i);
        wsc_server_csrf csrf;
        memset(&csrf, 0, sizeof csrf);
        csrf.allow_non_json = (i & 1) != 0;
        wsc_server_options o;
        memset(&o, 0, sizeof o);
        o.unix_path = sock[i];
        o.csrf = &csrf;
        o.no_deflate = (i & 2) != 0;
        o.deflate_threshold = 8;
        o.on_accept = on_accept;
        o.on_refuse = on_refuse;
        o.on_open = o.on_message = o.on_error = o.on_close = on_srv;
        o.max_message_size = 4000;
        o.memory_budget = 64 * 1024;
        o.message_timeout_ms = 2000;
        o.max_header_size = 4096;
        wsc_error err;
        servers[i] = wsc_server_new(fp_loop, &o, &err);
        CHECK(servers[i]);
    }
    atexit(cleanup);
}

static int done(void) { return wsc_server_connections(servers[cur]) == 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!fp_loop) setup();
    memset(&st, 0, sizeof st);
    st.flags = data[0];
    cur = ((st.flags & U_NONJSON) ? 1 : 0) | ((st.flags & U_NODEFL) ? 2 : 0);
    fp_out_len = 0;
    fp_capture = 1;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, sock[cur], strlen(sock[cur]) + 1);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    fp_settle(fd, 5);
    fp_write(fd, data + 1, size - 1, fp_piece((st.flags & U_CHUNKS) >> 2));
    fp_finish(fd, (st.flags & U_LATE) != 0, done);
    fp_capture = 0;
    CHECK(done());
    CHECK(!(st.accepted && st.refused));
    if (getenv("FUZZ_UPGRADE_TRACE"))
        fprintf(stderr, "accepted %d refused %d messages %d wrote %zu\n", st.accepted, st.refused, st.messages,
                fp_out_len);

    /* What the server wrote: a refusal holds no value the request carried;
       a 101 head does not hold the token (echoed messages after it may). */
    if (st.refused) {
        if (strlen(st.cv) >= 8) CHECK(!memmem(fp_out, fp_out_len, st.cv, strlen(st.cv)));
        if (strlen(st.qv) >= 8) CHECK(!memmem(fp_out, fp_out_len, st.qv, strlen(st.qv)));
    }
    if (st.accepted && strlen(st.token) >= 8) {
        const uint8_t *e = memmem(fp_out, fp_out_len, "\r\n\r\n", 4);
        size_t hl = e ? (size_t)(e - fp_out) : fp_out_len;
        CHECK(!memmem(fp_out, hl, st.token, strlen(st.token)));
    }
    return 0;
}
