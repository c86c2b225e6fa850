/* test_client.c - the reconnecting JSON client with the CSRF double token
 * (client.h), against a scripted server on 127.0.0.1 (script_server.py)
 * that records every handshake (Cookie, query) and message: interoperability
 * with python websockets. Counts and order of callbacks are asserted, never
 * durations (timeout_ms = 10 only keeps reconnects short). */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logsrv.h"
#include "testutil.h"
#include "wsc/client.h"
#include "wsc/store.h"

/* ---------------- the scripted server ---------------- */

typedef tu_logsrv srv;

static void srv_start(srv *s, const char *script, const char *query) {
    static const char *const lifetime[] = {"--lifetime", "120", NULL};
    char path[200];
    snprintf(path, sizeof path, "/feed%s", query ? query : "");
    tu_logsrv_start(s, "script_server.py", script, path, lifetime);
}
#define srv_stop tu_logsrv_stop
#define srv_log tu_logsrv_log

static int count_events(json_t *log, const char *event) {
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(log, i, v) if (!strcmp(json_string_value(json_object_get(v, "event")), event)) n++;
    return n;
}

/* The k-th (0-based) record with this event, or NULL. */
static json_t *nth_event(json_t *log, const char *event, int k) {
    size_t i;
    json_t *v;
    json_array_foreach(log, i, v) if (!strcmp(json_string_value(json_object_get(v, "event")), event) && k-- == 0) return v;
    return NULL;
}

/* ---------------- recording client events ---------------- */

typedef struct {
    int n[8];           /* per event type */
    int errors[64];
    char error_msgs[64][256];
    int nerr;
    int json_line, json_col;
    char raw[256];
    json_t *last_json;
    int binary_msgs;
} crec; /* (the reconnect decisions are recorded in test_client_scripted.c) */

static void crec_free(crec *r) {
    if (r->last_json) json_decref(r->last_json);
}

static void on_cev(wsc_client *c, const wsc_client_event *ev, void *user) {
    crec *r = user;
    r->n[ev->type]++;
    switch (ev->type) {
    case WSC_CLIENT_ERROR:
        if (r->nerr < 64) {
            r->errors[r->nerr] = ev->error;
            snprintf(r->error_msgs[r->nerr], 256, "%s", ev->message);
            r->nerr++;
        }
        if (ev->error == WSC_EJSON) {
            r->json_line = ev->json_line;
            r->json_col = ev->json_column;
            snprintf(r->raw, sizeof r->raw, "%.*s", (int)ev->len, (const char *)ev->data);
        }
        break;
    case WSC_CLIENT_MESSAGE:
        if (ev->json) {
            if (r->last_json) json_decref(r->last_json);
            r->last_json = json_incref(ev->json);
        }
        if (ev->binary) r->binary_msgs++;
        break;
    }
}

/* The end of a test: the client, its loop, the recorder and the server. */
static void end_test(wsc_client *c, wsc_loop *loop, crec *r, srv *s) {
    wsc_client_free(c);
    wsc_loop_free(loop);
    crec_free(r);
    srv_stop(s);
}

static wsc_client_options copts(crec *r) {
    wsc_client_options o = {0};
    o.on_open = o.on_message = o.on_error = o.on_close = o.on_reconnect = o.on_maximum = on_cev;
    o.user = r;
    o.timeout_ms = 10;
    o.no_store = 1;
    return o;
}

/* One test's world: the scripted server, a loop, the recorder, the options
   (copts, for the test to adjust) and the client. */
typedef struct {
    srv s;
    wsc_loop *loop;
    crec r;
    wsc_client_options o;
    wsc_client *c;
} cenv;

static void cenv_start(cenv *e, const char *script, const char *query) {
    memset(e, 0, sizeof *e);
    srv_start(&e->s, script, query);
    e->loop = wsc_loop_new(NULL);
    e->o = copts(&e->r);
}

/* The client, with the options as the test set them. */
static wsc_client *cenv_client(cenv *e) {
    e->c = wsc_client_new(e->loop, e->s.url, &e->o, NULL);
    assert_non_null(e->c);
    return e->c;
}

static void cenv_end(cenv *e) { end_test(e->c, e->loop, &e->r, &e->s); }

/* The client keeping its token in the store at db. */
static wsc_client *store_client(cenv *e, const char *db) {
    e->o.no_store = 0;
    e->o.store_path = db;
    return cenv_client(e);
}

/* From the server's log: the text of message k; a field of handshake k. */
static const char *log_text(json_t *log, int k) {
    return json_string_value(json_object_get(nth_event(log, "message", k), "text"));
}
static const char *log_hs(json_t *log, int k, const char *field) {
    return json_string_value(json_object_get(nth_event(log, "handshake", k), field));
}

/* The reconnect decisions and delays (max_attempts, the reset on open, the
   close codes that end it, final HTTP refusals, close() and reconnect()) and
   the heartbeat are checked to the millisecond with an injected clock in
   test_client_scripted.c; the backoff table in test_scripted.c. What stays
   here is what needs a real server: the token in the handshake, the store,
   JSON over the wire. */

/* ---------------- the queue ---------------- */

/* The queue across 100 drops is test_queue_100_drops in test_client_scripted.c
   (exact, on the injected clock). */
static void test_queue_limits(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "http:503", NULL);
    e.o.queue_max_messages = 2;
    e.o.queue_max_bytes = 10;
    wsc_client *c = cenv_client(&e);
    assert_int_equal(wsc_client_send_text(c, "12345", 5), WSC_OK);
    assert_int_equal(wsc_client_send_text(c, "123456", 6), WSC_EQUEUEFULL); /* bytes */
    assert_int_equal(wsc_client_send_text(c, "1234", 4), WSC_OK);
    assert_int_equal(wsc_client_send_text(c, "1", 1), WSC_EQUEUEFULL); /* messages */
    assert_int_equal(wsc_client_send_text(c, "\xc0\x80", 2), WSC_EUTF8);
    assert_int_equal(wsc_client_queued(c), 2);
    /* they go out in order on the second connection (the first is refused) */
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 1, 10000);
    tu_run_for(e.loop, 200);
    json_t *log = srv_log(&e.s);
    assert_int_equal(count_events(log, "message"), 2);
    assert_string_equal(log_text(log, 0), "12345");
    assert_string_equal(log_text(log, 1), "1234");
    json_decref(log);
    /* closing for good with a non-empty queue reports what was discarded */
    wsc_client_close(c, 1000, NULL);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_CLOSE], 2, 5000);
    cenv_end(&e);

    /* queue off: sending while not open fails */
    cenv_start(&e, "", NULL);
    e.o.no_queue = 1;
    assert_int_equal(wsc_client_send_text(cenv_client(&e), "x", 1), WSC_ESTATE);
    cenv_end(&e);
}

static void test_queue_discard_reported(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "http:403", NULL);
    wsc_client *c = cenv_client(&e);
    assert_int_equal(wsc_client_send_text(c, "lost?", 5), WSC_OK);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_CLOSE], 1, 10000);
    tu_run_for(e.loop, 50);
    /* 403 is final: the queued message is reported, not silently dropped */
    assert_int_equal(e.r.errors[e.r.nerr - 1], WSC_ECLOSED);
    assert_non_null(strstr(e.r.error_msgs[e.r.nerr - 1], "1 queued message discarded"));
    assert_int_equal(wsc_client_queued(c), 0);
    cenv_end(&e);
}

/* ---------------- the CSRF double token ---------------- */

static void test_token_cookie_query_json(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "", "?x=1&csrf=old&y=a%20b");
    e.o.token = "tok-123_ABC.xyz";
    e.o.ws.cookie = "session=s1; csrf_token=stale; theme=dark";
    wsc_client *c = cenv_client(&e);
    assert_string_equal(wsc_client_csrf(c), "tok-123_ABC.xyz");
    json_t *obj = json_pack("{s:i,s:s}", "op", 7, "who", "me");
    assert_int_equal(wsc_client_send_json(c, obj), WSC_OK); /* queued */
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 1, 10000);
    assert_int_equal(wsc_client_send_json(c, obj), WSC_OK); /* direct */
    /* the caller's object is not modified */
    assert_null(json_object_get(obj, "csrf"));
    json_t *str = json_string("not an object");
    assert_int_equal(wsc_client_send_json(c, str), WSC_EINVAL); /* would lose the token */
    json_decref(str);
    tu_run_for(e.loop, 300);
    json_t *log = srv_log(&e.s);
    assert_string_equal(log_hs(log, 0, "query"), "x=1&csrf=tok-123_ABC.xyz&y=a%20b");
    assert_string_equal(log_hs(log, 0, "cookie"), "session=s1; theme=dark; csrf_token=tok-123_ABC.xyz");
    for (int i = 0; i < 2; i++) {
        json_t *m = json_loads(log_text(log, i), 0, NULL);
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "csrf")), "tok-123_ABC.xyz");
        assert_int_equal(json_integer_value(json_object_get(m, "op")), 7);
        json_decref(m);
    }
    /* the echo comes back parsed */
    assert_non_null(e.r.last_json);
    assert_string_equal(json_string_value(json_object_get(e.r.last_json, "who")), "me");
    json_decref(log);
    json_decref(obj);
    cenv_end(&e);
}

static void test_no_token(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "", "?keep=1");
    wsc_client *c = cenv_client(&e);
    assert_null(wsc_client_csrf(c));
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 1, 10000);
    json_t *str = json_string("some message"); /* the seed's ws.json("some message") */
    assert_int_equal(wsc_client_send_json(c, str), WSC_OK);
    json_decref(str);
    tu_run_for(e.loop, 200);
    json_t *log = srv_log(&e.s);
    assert_string_equal(log_hs(log, 0, "query"), "keep=1");
    assert_string_equal(log_hs(log, 0, "cookie"), "");
    assert_string_equal(log_text(log, 0), "\"some message\"");
    json_decref(log);
    cenv_end(&e);
}

static void test_invalid_tokens_refused(void **state) {
    (void)state;
    wsc_loop *loop = wsc_loop_new(NULL);
    const char *bad[] = {"has space", "semi;colon", "com,ma", "quo\"te", "back\\slash", "new\nline", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wsc_client_options o = {0};
        o.token = bad[i];
        wsc_error err;
        assert_null(wsc_client_new(loop, "ws://127.0.0.1:1/", &o, &err));
        assert_int_equal(err.code, WSC_EINVAL);
        assert_null(strstr(err.message, bad[i])); /* never echoed */
    }
    /* a bad option fails at creation, not at every reconnect */
    wsc_client_options o = {0};
    const char *dup[] = {"a", "a", NULL};
    o.ws.protocols = dup;
    wsc_error err;
    assert_null(wsc_client_new(loop, "ws://127.0.0.1:1/", &o, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    /* names that would make the handshake or every JSON message invalid */
    const char *bad_prop[] = {"", "\xff", "ab\xc3"};
    for (size_t i = 0; i < sizeof bad_prop / sizeof *bad_prop; i++) {
        wsc_client_options p = {0};
        p.json_property = bad_prop[i];
        assert_null(wsc_client_new(loop, "ws://127.0.0.1:1/", &p, &err));
        assert_int_equal(err.code, WSC_EINVAL);
    }
    wsc_client_options q = {0};
    q.cookie_name = "a b";
    assert_null(wsc_client_new(loop, "ws://127.0.0.1:1/", &q, &err));
    assert_int_equal(err.code, WSC_EINVAL);
    wsc_loop_free(loop);
}

/* The persistent store: a token set by one process is used by another. */
static void test_store_across_processes(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "", NULL);
    char db[600];
    snprintf(db, sizeof db, "%s/state/wsc/tokens.db", e.s.dir);
    pid_t pid = fork();
    if (pid == 0) {
        wsc_loop *loop = wsc_loop_new(NULL);
        wsc_client_options o = {0};
        o.store_path = db;
        o.no_heartbeat = 1;
        wsc_client *c = wsc_client_new(loop, e.s.url, &o, NULL);
        wsc_error err;
        int rc = c ? wsc_client_set_csrf(c, "persisted-token", &err) : -1;
        wsc_client_free(c);
        wsc_loop_free(loop);
        _exit(rc == WSC_OK ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* file 0600, directory 0700 */
    struct stat sb;
    assert_int_equal(stat(db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/state/wsc", e.s.dir);
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    wsc_client *c = store_client(&e, db);
    assert_string_equal(wsc_client_csrf(c), "persisted-token");
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 1, 10000);
    tu_run_for(e.loop, 100);
    json_t *log = srv_log(&e.s);
    assert_string_equal(log_hs(log, 0, "query"), "csrf=persisted-token");
    assert_string_equal(log_hs(log, 0, "cookie"), "csrf_token=persisted-token");
    json_decref(log);
    /* the token is re-read at every reconnect */
    wsc_store *st2 = wsc_store_open(db, NULL);
    assert_int_equal(wsc_store_set(st2, "ws://127.0.0.1:0", "csrf_token", "other-origin", NULL), WSC_OK);
    char origin[100];
    snprintf(origin, sizeof origin, "ws://127.0.0.1:%d", e.s.peer.port);
    assert_int_equal(wsc_store_set(st2, origin, "csrf_token", "rotated", NULL), WSC_OK);
    wsc_store_close(st2);
    wsc_client_reconnect(c);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 2, 10000);
    tu_run_for(e.loop, 100);
    log = srv_log(&e.s);
    assert_string_equal(log_hs(log, 1, "query"), "csrf=rotated");
    json_decref(log);
    cenv_end(&e);
}

/* A corrupt store: a clear error, no crash, the connection goes on. */
static void test_corrupt_store(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "", NULL);
    char db[600];
    snprintf(db, sizeof db, "%s/tokens.db", e.s.dir);
    int fd = open(db, O_CREAT | O_WRONLY, 0600);
    for (int i = 0; i < 200; i++) assert_int_equal(write(fd, "this is not a database ", 23), 23);
    close(fd);
    wsc_client *c = store_client(&e, db);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 1, 10000);
    assert_int_equal(e.r.n[WSC_CLIENT_OPEN], 1);
    assert_int_equal(e.r.errors[0], WSC_ESTORE);
    assert_non_null(strstr(e.r.error_msgs[0], db));
    wsc_error err;
    assert_int_equal(wsc_client_set_csrf(c, "x", &err), WSC_ESTORE);
    cenv_end(&e);
}

/* ---------------- messages ---------------- */

static void test_json_messages(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "send:{\"hello\": [1]}", NULL);
    wsc_client *c = cenv_client(&e);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_MESSAGE], 1, 10000);
    assert_non_null(e.r.last_json);
    assert_int_equal(json_array_size(json_object_get(e.r.last_json, "hello")), 1);
    /* invalid JSON reaches the error callback with the raw text and position */
    assert_int_equal(wsc_client_send_text(c, "{\"a\": 1,\n \"b\": }", 16), WSC_OK);
    tu_run_until(e.loop, &e.r.nerr, 1, 5000);
    assert_int_equal(e.r.errors[0], WSC_EJSON);
    assert_string_equal(e.r.raw, "{\"a\": 1,\n \"b\": }");
    assert_int_equal(e.r.json_line, 2);
    assert_true(e.r.json_col > 0);
    assert_int_equal(e.r.n[WSC_CLIENT_MESSAGE], 1); /* not delivered as a message */
    /* binary comes as bytes */
    assert_int_equal(wsc_client_send_binary(c, "\x00\x01\x02", 3), WSC_OK);
    tu_run_until(e.loop, &e.r.binary_msgs, 1, 5000);
    assert_int_equal(e.r.binary_msgs, 1);
    assert_true(wsc_client_is_connected(c)); /* a bad message is not a reason to close */
    cenv_end(&e);
}

/* Listeners belong to the client: they survive reconnects. */
static int lmsgs;
static void count_msg(wsc_client *c, const wsc_client_event *ev, void *u) {
    (void)c;
    (void)ev;
    (void)u;
    lmsgs++;
}

static void test_listeners_survive(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "closeafter:1:4001", NULL);
    wsc_client *c = cenv_client(&e);
    lmsgs = 0;
    int id = wsc_client_on(c, WSC_CLIENT_MESSAGE, count_msg, NULL);
    assert_true(id > 0);
    assert_int_equal(wsc_client_send_text(c, "1", 1), WSC_OK);
    tu_run_until(e.loop, &lmsgs, 1, 10000);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_OPEN], 2, 10000); /* after the 4001 close */
    assert_int_equal(wsc_client_send_text(c, "2", 1), WSC_OK);
    tu_run_until(e.loop, &lmsgs, 2, 10000);
    assert_int_equal(lmsgs, 2);
    assert_int_equal(wsc_client_off(c, id), WSC_OK);
    cenv_end(&e);
}

/* Numbers go out as written: shortest round-trip precision. And the
   handshake trace gets the application's pointer. */
static int traces;
static void trace_cb(void *user, int outgoing, const char *head, size_t len) {
    assert_ptr_equal(user, &traces);
    assert_true(len > 12);
    assert_int_equal(memcmp(head, outgoing ? "GET " : "HTTP/1.1 101", outgoing ? 4 : 12), 0);
    traces++;
}

static void test_json_numbers_and_trace(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "", NULL);
    e.o.ws.trace = trace_cb;
    e.o.user = &traces; /* the trace's user; events get it too */
    e.o.on_open = e.o.on_message = e.o.on_error = e.o.on_close = e.o.on_reconnect = e.o.on_maximum = NULL;
    traces = 0;
    wsc_client *c = cenv_client(&e);
    json_t *v = json_pack("{s:f,s:f,s:f,s:i,s:f,s:s,s:[b,n]}", "a", 0.1, "b", 0.30000000000000004, "c", 1e300, "d", 7,
                          "e", 2.0, "s", "q\"\\\n\x01é", "l", 1);
    assert_int_equal(wsc_client_send_json(c, v), WSC_OK);
    json_decref(v);
    for (int i = 0; i < 100 && traces < 2; i++) wsc_loop_run_once(e.loop, 20);
    tu_run_for(e.loop, 200);
    assert_int_equal(traces, 2); /* request and response */
    json_t *log = srv_log(&e.s);
    const char *text = log_text(log, 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"a\":0.1,"));
    assert_non_null(strstr(text, "\"b\":0.30000000000000004,"));
    assert_non_null(strstr(text, "\"e\":2.0,"));
    assert_non_null(strstr(text, "\"s\":\"q\\\"\\\\\\n\\u0001é\","));
    assert_non_null(strstr(text, "\"l\":[true,null]}"));
    json_t *back = json_loads(text, 0, NULL);
    assert_true(json_real_value(json_object_get(back, "c")) == 1e300);
    assert_true(json_is_real(json_object_get(back, "e")));
    json_decref(back);
    json_decref(log);
    wsc_client_free(c);
    wsc_loop_free(e.loop);
    srv_stop(&e.s);
}

/* The token never appears in an error message. */
static void test_token_not_in_errors(void **state) {
    (void)state;
    cenv e;
    cenv_start(&e, "http:500,http:403", NULL);
    e.o.token = "SUPERSECRETTOKEN";
    cenv_client(&e);
    tu_run_until(e.loop, &e.r.n[WSC_CLIENT_CLOSE], 2, 10000);
    assert_true(e.r.nerr >= 2);
    for (int i = 0; i < e.r.nerr; i++) assert_null(strstr(e.r.error_msgs[i], "SUPERSECRETTOKEN"));
    cenv_end(&e);
}

/* Callbacks may free the client. */
static void free_on_open(wsc_client *c, const wsc_client_event *ev, void *u) {
    (void)ev;
    *(int *)u += 1;
    wsc_client_free(c);
}

static void test_free_in_callback(void **state) {
    (void)state;
    srv s;
    srv_start(&s, "", NULL);
    wsc_loop *loop = wsc_loop_new(NULL);
    int opened = 0;
    wsc_client_options o = {0};
    o.no_store = 1;
    o.on_open = free_on_open;
    o.user = &opened;
    wsc_client *c = wsc_client_new(loop, s.url, &o, NULL);
    assert_non_null(c);
    tu_run_until(loop, &opened, 1, 10000);
    tu_run_for(loop, 100);
    assert_int_equal(opened, 1);
    wsc_loop_free(loop);
    srv_stop(&s);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_limits),
        cmocka_unit_test(test_queue_discard_reported),
        cmocka_unit_test(test_token_cookie_query_json),
        cmocka_unit_test(test_no_token),
        cmocka_unit_test(test_invalid_tokens_refused),
        cmocka_unit_test(test_store_across_processes),
        cmocka_unit_test(test_corrupt_store),
        cmocka_unit_test(test_json_messages),
        cmocka_unit_test(test_listeners_survive),
        cmocka_unit_test(test_token_not_in_errors),
        cmocka_unit_test(test_json_numbers_and_trace),
        cmocka_unit_test(test_free_in_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
