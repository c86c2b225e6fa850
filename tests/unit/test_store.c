/*
 * test_store.c - the persistent CSRF token store: round trips, validation,
 * default location, file and directory modes under any umask (including the
 * rollback journal of a write in progress), corrupt, locked, unwritable and
 * symlinked files, several processes at once (fork), secure deletion, and
 * secrets kept out of messages and wiped on free.
 *
 * Each test works in its own directory under $TMPDIR (or /tmp), removed by the
 * teardown. Child processes never use cmocka: they report through their exit
 * status. The tests run as root in CI; permission checks that root bypasses
 * run in a child that drops to the "nobody" uid.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "internal.h"
#include "secret.h"
#include "testutil.h"
#include "wsc/store.h"

/* ------------------------------------------------------------------------ */
/* fixture and helpers                                                      */

struct fx {
    char dir[512];
    char db[600];
    mode_t umask_saved;
};

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (type == FTW_DP || type == FTW_D) return rmdir(p) != 0 && errno != ENOENT;
    return unlink(p) != 0 && errno != ENOENT;
}

static int open_up(const char *p, const struct stat *st, int type, struct FTW *ftw) {
    (void)ftw;
    if (type == FTW_D || type == FTW_DNR) chmod(p, 0700);
    (void)st;
    return 0;
}

static void rm_rf(const char *dir) {
    nftw(dir, open_up, 16, FTW_PHYS);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state) {
    struct fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *t = getenv("TMPDIR");
    if (!t || t[0] != '/') t = "/tmp";
    snprintf(f->dir, sizeof f->dir, "%s/wsc-store-XXXXXX", t);
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/tokens.db", f->dir);
    f->umask_saved = umask(022);
    umask(f->umask_saved);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    struct fx *f = *state;
    umask(f->umask_saved);
    wsc_set_allocator(NULL);
    unsetenv("WSC_STORE_BUSY_MS");
    rm_rf(f->dir);
    struct stat st;
    int gone = stat(f->dir, &st) != 0;
    free(f);
    return gone ? 0 : -1;
}

/* dir/name into buf. */
static const char *in(const struct fx *f, const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", f->dir, name);
    return buf;
}

static int mode_of(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    return (int)(st.st_mode & 07777);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static int file_contains(const char *path, const char *needle) {
    size_t len = 0;
    uint8_t *data = tu_read_file(path, &len);
    assert_non_null(data);
    size_t n = strlen(needle);
    int found = 0;
    for (size_t i = 0; !found && n <= len && i <= len - n; i++)
        found = memcmp(data + i, needle, n) == 0;
    free(data);
    return found;
}

static void expect_err(const wsc_error *e, int code, const char *s1, const char *s2) {
    if (e->code != code || (s1 && !strstr(e->message, s1)) || (s2 && !strstr(e->message, s2)))
        fail_msg("error %d \"%s\", wanted %d containing \"%s\" and \"%s\"", e->code, e->message,
                 code, s1 ? s1 : "", s2 ? s2 : "");
}

/* Handles opened by the test, kept reachable from a global: a forked
   child that _exits while the parent holds them open would otherwise show
   them as "definitely lost" under valgrind (make valgrind), and exit 99. */
static void *volatile g_open_handles[16]; /* volatile: written only, kept */
static unsigned g_nopen;
static void *keep_reachable(void *p) {
    g_open_handles[g_nopen++ % 16] = p;
    return p;
}

static wsc_store *open_ok(const char *path) {
    wsc_error e = {0};
    wsc_store *s = wsc_store_open(path, &e);
    if (!s) fail_msg("wsc_store_open(%s): %d %s", path ? path : "NULL", e.code, e.message);
    assert_int_equal(e.code, WSC_OK);
    return keep_reachable(s);
}

static void set_ok(wsc_store *s, const char *origin, const char *key, const char *value) {
    wsc_error e = {0};
    int rc = wsc_store_set(s, origin, key, value, &e);
    if (rc != WSC_OK) fail_msg("wsc_store_set: %d %s", rc, e.message);
}

/* Asserts that (origin, key) holds want (NULL: absent). */
static void expect_token(wsc_store *s, const char *origin, const char *key, const char *want) {
    wsc_error e = {0};
    char *v = (char *)"sentinel";
    int rc = wsc_store_get(s, origin, key, &v, &e);
    if (rc != WSC_OK) fail_msg("wsc_store_get: %d %s", rc, e.message);
    if (!want) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_string_equal(v, want);
    wsc_store_free(v);
}

/* Raw SQLite access to the file, as another program would have it. */
static sqlite3 *raw_open(const char *path) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    return keep_reachable(db);
}

static void raw_exec(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg ? msg : "?");
    }
}

static pid_t spawn(int (*fn)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(fn(arg));
    return pid;
}

/* The child's exit status, or 1000 + signal. */
static int reap(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return 1000 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define ORIGIN "wss://example.com:443"

/* ------------------------------------------------------------------------ */
/* tokens and arguments                                                     */

static void test_token_valid(void **state) {
    (void)state;
    /* Every cookie-octet, and nothing else. */
    for (int c = 0; c < 256; c++) {
        char t = (char)c;
        int want = c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
                   (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
        if (wsc_token_valid(&t, 1) != want) fail_msg("byte 0x%02x: valid=%d", c, !want);
    }
    const char *good = "abcXYZ019-_.~!#$%&'()*+/:<=>?@[]^`{|}";
    assert_int_equal(wsc_token_valid(good, strlen(good)), 1);
    const char *bad[] = {"a b", "a;b", "a,b", "a\"b", "a\\b", "a\rb", "a\nb", "a\tb", "a\x7f",
                         "caf\xc3\xa9", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(wsc_token_valid(bad[i], strlen(bad[i])), 0);
    assert_int_equal(wsc_token_valid("ab\0cd", 5), 0); /* NUL inside */
    assert_int_equal(wsc_token_valid("ab\0cd", 2), 1); /* the length decides */
    assert_int_equal(wsc_token_valid("", 0), 0);
    assert_int_equal(wsc_token_valid(NULL, 3), 0);
    char *big = malloc(WSC_TOKEN_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', WSC_TOKEN_MAX + 1);
    big[WSC_TOKEN_MAX + 1] = '\0';
    assert_int_equal(wsc_token_valid(big, WSC_TOKEN_MAX), 1);
    assert_int_equal(wsc_token_valid(big, WSC_TOKEN_MAX + 1), 0);
    free(big);
}

static void test_roundtrip(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    assert_string_equal(wsc_store_path(s), f->db);
    expect_token(s, ORIGIN, NULL, NULL);
    set_ok(s, ORIGIN, NULL, "tok-1");
    expect_token(s, ORIGIN, NULL, "tok-1");
    expect_token(s, ORIGIN, WSC_STORE_DEFAULT_KEY, "tok-1"); /* NULL key is the default */
    set_ok(s, ORIGIN, WSC_STORE_DEFAULT_KEY, "tok-2");        /* overwrite */
    expect_token(s, ORIGIN, NULL, "tok-2");
    /* The longest token survives intact. */
    char *big = malloc(WSC_TOKEN_MAX + 1);
    assert_non_null(big);
    for (int i = 0; i < WSC_TOKEN_MAX; i++) big[i] = (char)('A' + i % 26);
    big[WSC_TOKEN_MAX] = '\0';
    set_ok(s, ORIGIN, "big", big);
    expect_token(s, ORIGIN, "big", big);

    wsc_error e = {0};
    assert_int_equal(wsc_store_delete(s, ORIGIN, NULL, &e), WSC_OK);
    expect_token(s, ORIGIN, NULL, NULL);
    expect_token(s, ORIGIN, "big", big); /* only the one entry went */
    assert_int_equal(wsc_store_delete(s, ORIGIN, NULL, &e), WSC_OK); /* absent: still OK */
    assert_int_equal(wsc_store_delete(s, "wss://never:1", "x", &e), WSC_OK);
    assert_int_equal(wsc_store_delete(s, ORIGIN, "big", &e), WSC_OK);
    expect_token(s, ORIGIN, "big", NULL);
    free(big);
    wsc_store_close(s);
}

static void test_separation(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    const char *origins[] = {"wss://a.example:443", "wss://a.example:444", "ws://a.example:443",
                             "wss://A.example:443", "wss://b.example:443"};
    const char *keys[] = {"csrf_token", "other", "CSRF_TOKEN"};
    char v[64];
    for (size_t o = 0; o < 5; o++)
        for (size_t k = 0; k < 3; k++) {
            snprintf(v, sizeof v, "v-%zu-%zu", o, k);
            set_ok(s, origins[o], keys[k], v);
        }
    for (size_t o = 0; o < 5; o++)
        for (size_t k = 0; k < 3; k++) {
            snprintf(v, sizeof v, "v-%zu-%zu", o, k);
            expect_token(s, origins[o], keys[k], v);
        }
    /* Deleting one entry leaves every other one alone. */
    assert_int_equal(wsc_store_delete(s, origins[0], keys[0], NULL), WSC_OK);
    expect_token(s, origins[0], keys[0], NULL);
    expect_token(s, origins[0], keys[1], "v-0-1");
    expect_token(s, origins[1], keys[0], "v-1-0");
    wsc_store_close(s);
}

static void test_bad_args(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    wsc_error e = {0};
    char *v = (char *)"x";
    assert_int_equal(wsc_store_get(NULL, ORIGIN, NULL, &v, &e), WSC_EINVAL);
    assert_null(v);
    assert_int_equal(wsc_store_set(NULL, ORIGIN, NULL, "t", &e), WSC_EINVAL);
    assert_int_equal(wsc_store_delete(NULL, ORIGIN, NULL, &e), WSC_EINVAL);
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, NULL, &e), WSC_EINVAL);
    assert_int_equal(wsc_store_set_busy_timeout(NULL, 10), WSC_EINVAL);
    assert_int_equal(wsc_store_set_busy_timeout(s, -1), WSC_EINVAL);
    assert_int_equal(wsc_store_set_busy_timeout(s, WSC_STORE_BUSY_MS_MAX + 1), WSC_EINVAL);
    assert_int_equal(wsc_store_set_busy_timeout(s, 100), WSC_OK);
    assert_null(wsc_store_path(NULL));

    char longo[WSC_STORE_ORIGIN_MAX + 2], longk[WSC_STORE_KEY_MAX + 2];
    memset(longo, 'o', sizeof longo - 1);
    longo[sizeof longo - 1] = '\0';
    memset(longk, 'k', sizeof longk - 1);
    longk[sizeof longk - 1] = '\0';
    const struct {
        const char *origin, *key, *want;
    } bad[] = {
        {NULL, NULL, "origin is missing"},
        {"", NULL, "origin is empty"},
        {"wss://a b:1", NULL, "not printable ASCII (offset 7)"},
        {"wss://a\n:1", NULL, "not printable ASCII"},
        {"wss://caf\xc3\xa9:1", NULL, "not printable ASCII"},
        {longo, NULL, "origin is longer than"},
        {ORIGIN, "", "key is empty"},
        {ORIGIN, "a key", "key contains"},
        {ORIGIN, longk, "key is longer than"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(wsc_store_set(s, bad[i].origin, bad[i].key, "tok", &e), WSC_EINVAL);
        expect_err(&e, WSC_EINVAL, bad[i].want, NULL);
        memset(&e, 0, sizeof e);
        v = (char *)"x";
        assert_int_equal(wsc_store_get(s, bad[i].origin, bad[i].key, &v, &e), WSC_EINVAL);
        assert_null(v);
        expect_err(&e, WSC_EINVAL, bad[i].want, NULL);
        assert_int_equal(wsc_store_delete(s, bad[i].origin, bad[i].key, NULL), WSC_EINVAL);
    }
    /* The longest origin and key are accepted. */
    longo[WSC_STORE_ORIGIN_MAX] = '\0';
    longk[WSC_STORE_KEY_MAX] = '\0';
    set_ok(s, longo, longk, "tok");
    expect_token(s, longo, longk, "tok");
    /* err may be NULL everywhere. */
    assert_int_equal(wsc_store_set(s, "", NULL, "tok", NULL), WSC_EINVAL);
    wsc_store_close(s);
    wsc_store_close(NULL);
    wsc_store_free(NULL);

    /* Bad paths. */
    memset(&e, 0, sizeof e);
    assert_null(wsc_store_open("", &e));
    expect_err(&e, WSC_EINVAL, "empty", NULL);
    char p[700];
    snprintf(p, sizeof p, "%s/", f->dir);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_EINVAL, "ends with '/'", NULL);
    char *huge = malloc(PATH_MAX + 10);
    assert_non_null(huge);
    memset(huge, 'x', PATH_MAX + 9);
    huge[0] = '/';
    huge[PATH_MAX + 9] = '\0';
    assert_null(wsc_store_open(huge, &e));
    expect_err(&e, WSC_EINVAL, "longer than", NULL);
    free(huge);
}

static void test_invalid_tokens_not_stored(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, "kept", "previous");
    char *big = malloc(WSC_TOKEN_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', WSC_TOKEN_MAX + 1);
    big[WSC_TOKEN_MAX + 1] = '\0';
    const struct {
        const char *tok, *why;
    } bad[] = {
        {"a b", "cannot be sent in a cookie"},  {"a;b", "cannot be sent in a cookie"},
        {"a,b", "cannot be sent in a cookie"},  {"a\"b", "cannot be sent in a cookie"},
        {"a\\b", "cannot be sent in a cookie"}, {"a\rb", "cannot be sent in a cookie"},
        {"a\nb", "cannot be sent in a cookie"}, {"a\x80", "cannot be sent in a cookie"},
        {"", "token is empty"},                 {big, "longer than 4096"},
        {NULL, "token is missing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wsc_error e = {0};
        assert_int_equal(wsc_store_set(s, ORIGIN, "new", bad[i].tok, &e), WSC_EINVAL);
        expect_err(&e, WSC_EINVAL, bad[i].why, NULL);
        assert_int_equal(wsc_store_set(s, ORIGIN, "kept", bad[i].tok, &e), WSC_EINVAL);
    }
    free(big);
    expect_token(s, ORIGIN, "new", NULL);
    expect_token(s, ORIGIN, "kept", "previous");
    wsc_store_close(s);
}

/* ------------------------------------------------------------------------ */
/* processes                                                                */

static int child_writer(void *arg) {
    const char *db = arg;
    wsc_error e;
    wsc_store *s = wsc_store_open(db, &e);
    if (!s) return 10;
    char *v = NULL;
    if (wsc_store_get(s, ORIGIN, NULL, &v, &e) != WSC_OK || !v || strcmp(v, "from-parent") != 0)
        return 11;
    wsc_store_free(v);
    if (wsc_store_set(s, ORIGIN, NULL, "from-child", &e) != WSC_OK) return 12;
    wsc_store_close(s);
    return 0;
}

static void test_two_processes(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, "from-parent");
    assert_int_equal(reap(spawn(child_writer, f->db)), 0);
    expect_token(s, ORIGIN, NULL, "from-child"); /* an open handle sees it */
    wsc_store_close(s);
    s = open_ok(f->db); /* and so does a new one */
    expect_token(s, ORIGIN, NULL, "from-child");
    wsc_store_close(s);
}

struct conc {
    const char *db;
    int id;
};

/* The children wait on each other's locks for as long as it takes: these
   tests are about what ends up stored, and with the 5 s default a loaded
   machine can starve one writer past its timeout (only an upper bound on
   time matters here). */
#define CONC_BUSY_MS "60000"

static int child_concurrent(void *arg) {
    const struct conc *c = arg;
    wsc_error e;
    setenv("WSC_STORE_BUSY_MS", CONC_BUSY_MS, 1);
    wsc_store *s = wsc_store_open(c->db, &e);
    if (!s) return 20;
    char key[32], val[32], other[32];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "k%d_%d", c->id, i);
        snprintf(val, sizeof val, "v%d_%d", c->id, i);
        if (wsc_store_set(s, ORIGIN, key, val, &e) != WSC_OK) return 21;
        char *v = NULL;
        if (wsc_store_get(s, ORIGIN, key, &v, &e) != WSC_OK || !v || strcmp(v, val) != 0)
            return 22;
        wsc_store_free(v);
        /* Another child's key: present or not yet, but never an error. */
        snprintf(other, sizeof other, "k%d_%d", (c->id + 1) % 4, i);
        if (wsc_store_get(s, ORIGIN, other, &v, &e) != WSC_OK) return 23;
        wsc_store_free(v);
    }
    wsc_store_close(s);
    return 0;
}

static int count_entry(const char *origin, const char *key, int64_t updated, void *user) {
    (void)origin;
    (void)key;
    (void)updated;
    ++*(int *)user;
    return 0;
}

static void test_concurrent_processes(void **state) {
    struct fx *f = *state;
    wsc_store_close(open_ok(f->db)); /* created up front: the children race on writes */
    struct conc cs[4];
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = (struct conc){f->db, i};
        pids[i] = spawn(child_concurrent, &cs[i]);
    }
    for (int i = 0; i < 4; i++) assert_int_equal(reap(pids[i]), 0);
    wsc_store *s = open_ok(f->db);
    char key[32], val[32];
    for (int c = 0; c < 4; c++)
        for (int i = 0; i < 50; i++) {
            snprintf(key, sizeof key, "k%d_%d", c, i);
            snprintf(val, sizeof val, "v%d_%d", c, i);
            expect_token(s, ORIGIN, key, val);
        }
    int n = 0;
    assert_int_equal(wsc_store_list(s, NULL, count_entry, &n, NULL), WSC_OK);
    assert_int_equal(n, 200);
    wsc_store_close(s);
}

/* Concurrent first opens of a file that does not exist yet. */
static int child_first_open(void *arg) {
    const struct conc *c = arg;
    wsc_error e;
    setenv("WSC_STORE_BUSY_MS", CONC_BUSY_MS, 1);
    wsc_store *s = wsc_store_open(c->db, &e);
    if (!s) return 30;
    char key[16];
    snprintf(key, sizeof key, "first%d", c->id);
    int rc = wsc_store_set(s, ORIGIN, key, "t", &e);
    wsc_store_close(s);
    return rc == WSC_OK ? 0 : 31;
}

static void test_concurrent_create(void **state) {
    struct fx *f = *state;
    char db[700];
    in(f, "new/sub/tokens.db", db, sizeof db);
    struct conc cs[4];
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = (struct conc){db, i};
        pids[i] = spawn(child_first_open, &cs[i]);
    }
    for (int i = 0; i < 4; i++) assert_int_equal(reap(pids[i]), 0);
    wsc_store *s = open_ok(db);
    int n = 0;
    assert_int_equal(wsc_store_list(s, ORIGIN, count_entry, &n, NULL), WSC_OK);
    assert_int_equal(n, 4);
    wsc_store_close(s);
    assert_int_equal(mode_of(db), 0600);
}

/* ------------------------------------------------------------------------ */
/* location, modes                                                          */

struct envsave {
    char *xdg, *home;
};

static struct envsave env_save(void) {
    struct envsave s = {NULL, NULL};
    const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
    if (x) s.xdg = strdup(x);
    if (h) s.home = strdup(h);
    return s;
}

static void env_restore(struct envsave *s) {
    if (s->xdg) setenv("XDG_STATE_HOME", s->xdg, 1);
    else unsetenv("XDG_STATE_HOME");
    if (s->home) setenv("HOME", s->home, 1);
    else unsetenv("HOME");
    free(s->xdg);
    free(s->home);
}

static void test_default_path(void **state) {
    (void)state;
    struct envsave saved = env_save();
    char buf[512];
    setenv("XDG_STATE_HOME", "/x/state", 1);
    setenv("HOME", "/home/u", 1);
    assert_string_equal(wsc_store_default_path(buf, sizeof buf), "/x/state/wsc/tokens.db");
    setenv("XDG_STATE_HOME", "/x/state//", 1);
    assert_string_equal(wsc_store_default_path(buf, sizeof buf), "/x/state/wsc/tokens.db");
    setenv("XDG_STATE_HOME", "relative/state", 1); /* the XDG spec: ignore relative paths */
    assert_string_equal(wsc_store_default_path(buf, sizeof buf),
                        "/home/u/.local/state/wsc/tokens.db");
    setenv("XDG_STATE_HOME", "", 1);
    assert_string_equal(wsc_store_default_path(buf, sizeof buf),
                        "/home/u/.local/state/wsc/tokens.db");
    unsetenv("XDG_STATE_HOME");
    assert_string_equal(wsc_store_default_path(buf, sizeof buf),
                        "/home/u/.local/state/wsc/tokens.db");
    /* Exactly fitting, and one byte short. */
    size_t need = strlen("/home/u/.local/state/wsc/tokens.db") + 1;
    assert_non_null(wsc_store_default_path(buf, need));
    assert_null(wsc_store_default_path(buf, need - 1));
    assert_string_equal(buf, "");
    assert_null(wsc_store_default_path(NULL, 10));
    /* No HOME: the password database. */
    unsetenv("HOME");
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    assert_true(pw->pw_dir && pw->pw_dir[0] == '/');
    char want[600];
    size_t hl = strlen(pw->pw_dir);
    while (hl > 0 && pw->pw_dir[hl - 1] == '/') hl--;
    snprintf(want, sizeof want, "%.*s/.local/state/wsc/tokens.db", (int)hl, pw->pw_dir);
    assert_string_equal(wsc_store_default_path(buf, sizeof buf), want);
    setenv("HOME", "relative/home", 1); /* a relative HOME is ignored too */
    assert_string_equal(wsc_store_default_path(buf, sizeof buf), want);
    env_restore(&saved);
}

/* open(NULL) under XDG_STATE_HOME and HOME: every directory it creates is
   0700 and the file 0600 whatever the umask; existing directories keep their
   mode. */
static void test_open_default_creates(void **state) {
    struct fx *f = *state;
    struct envsave saved = env_save();
    assert_int_equal(chmod(f->dir, 0755), 0);
    const mode_t masks[] = {0, 0777, 0022};
    char xdg[700], p[800];
    for (int i = 0; i < 3; i++) {
        umask(masks[i]);
        snprintf(xdg, sizeof xdg, "%s/x%d/state", f->dir, i);
        setenv("XDG_STATE_HOME", xdg, 1);
        wsc_store *s = open_ok(NULL);
        snprintf(p, sizeof p, "%s/wsc/tokens.db", xdg);
        assert_string_equal(wsc_store_path(s), p);
        set_ok(s, ORIGIN, NULL, "t");
        wsc_store_close(s);
        assert_int_equal(mode_of(p), 0600);
        snprintf(p, sizeof p, "%s/x%d", f->dir, i);
        assert_int_equal(mode_of(p), 0700);
        assert_int_equal(mode_of(xdg), 0700);
        snprintf(p, sizeof p, "%s/wsc", xdg);
        assert_int_equal(mode_of(p), 0700);
        assert_int_equal(mode_of(f->dir), 0755); /* existing: left alone */
    }
    umask(0);
    /* HOME fallback; an existing directory on the way keeps its mode. */
    unsetenv("XDG_STATE_HOME");
    snprintf(p, sizeof p, "%s/home", f->dir);
    assert_int_equal(mkdir(p, 0751), 0);
    assert_int_equal(chmod(p, 0751), 0);
    setenv("HOME", p, 1);
    wsc_store *s = open_ok(NULL);
    wsc_store_close(s);
    assert_int_equal(mode_of(p), 0751);
    snprintf(p, sizeof p, "%s/home/.local", f->dir);
    assert_int_equal(mode_of(p), 0700);
    snprintf(p, sizeof p, "%s/home/.local/state/wsc/tokens.db", f->dir);
    assert_int_equal(mode_of(p), 0600);
    env_restore(&saved);
}

/* Modes of every file present after writes, and of the rollback journal
   while a write is in progress, with umask 0. */
/* A reader that holds a shared lock until it has seen the journal of the
   parent's blocked write (and recorded its mode), then lets go: the write's
   commit can only proceed after the mode was read, so the check does not
   depend on how soon this process gets the CPU (a wall-clock window did,
   and failed on a loaded machine). */
struct jwatch {
    const char *db;
    char journal[700];
    int ready_w, mode_w;
};

static int child_watch_journal(void *arg) {
    struct jwatch *w = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(w->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) return 40;
    if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM wsc_tokens;", NULL, NULL, NULL) != SQLITE_OK)
        return 41;
    char c = 'r';
    if (write(w->ready_w, &c, 1) != 1) return 42;
    int mode = -1;
    for (int i = 0; i < 60000; i++) { /* 60 s at most: the parent waits as long */
        struct stat st;
        if (lstat(w->journal, &st) == 0) {
            mode = (int)(st.st_mode & 07777);
            break;
        }
        usleep(1000);
    }
    if (write(w->mode_w, &mode, sizeof mode) != (ssize_t)sizeof mode) return 43;
    if (sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) return 44;
    sqlite3_close(db);
    return mode < 0 ? 45 : 0;
}

/* dir holds exactly one file (the store), mode 0600: no -journal, -wal or
   -shm is left behind, whatever its mode. */
static void check_dir_modes(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (mode_of(p) != 0600) fail_msg("%s has mode %o", p, (unsigned)mode_of(p));
        if (strstr(de->d_name, "-wal") || strstr(de->d_name, "-shm") ||
            strstr(de->d_name, "-journal"))
            fail_msg("%s left behind", p);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 1);
}

static void test_modes(void **state) {
    struct fx *f = *state;
    umask(0);
    wsc_store *s = open_ok(f->db);
    assert_int_equal(mode_of(f->db), 0600);
    set_ok(s, ORIGIN, NULL, "one");
    set_ok(s, ORIGIN, "k2", "two");
    assert_int_equal(wsc_store_delete(s, ORIGIN, "k2", NULL), WSC_OK);
    check_dir_modes(f->dir);

    /* The journal mode in the file header is the legacy one (1), not WAL (2). */
    size_t len;
    uint8_t *hdr = tu_read_file(f->db, &len);
    assert_non_null(hdr);
    assert_true(len >= 100);
    assert_int_equal(hdr[18], 1);
    assert_int_equal(hdr[19], 1);
    free(hdr);

    /* A reader holds a shared lock: our write creates the journal, then waits
       for the commit lock until the reader (a child) has recorded the
       journal's mode and let go; the write then commits. */
    int ready[2], mpipe[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(mpipe), 0);
    struct jwatch w = {f->db, "", ready[1], mpipe[1]};
    snprintf(w.journal, sizeof w.journal, "%s-journal", f->db);
    pid_t pid = spawn(child_watch_journal, &w);
    close(ready[1]);
    close(mpipe[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(wsc_store_set_busy_timeout(s, 60000), WSC_OK);
    set_ok(s, ORIGIN, NULL, "after-reader");
    int jmode = -1;
    assert_int_equal(read(mpipe[0], &jmode, sizeof jmode), (ssize_t)sizeof jmode);
    close(mpipe[0]);
    assert_int_equal(reap(pid), 0);
    assert_int_equal(jmode, 0600);
    expect_token(s, ORIGIN, NULL, "after-reader");
    check_dir_modes(f->dir);

    /* A reader that does not let go: the write times out after creating its
       journal, and the failed commit is rolled back (the old value, no
       journal left). Only an upper bound on time matters here. */
    sqlite3 *reader = raw_open(f->db);
    raw_exec(reader, "BEGIN; SELECT count(*) FROM wsc_tokens;");
    assert_int_equal(wsc_store_set_busy_timeout(s, 200), WSC_OK);
    wsc_error e = {0};
    assert_int_equal(wsc_store_set(s, ORIGIN, NULL, "blocked", &e), WSC_ESTORE);
    expect_err(&e, WSC_ESTORE, "is locked by another process", f->db);
    raw_exec(reader, "COMMIT;");
    sqlite3_close(reader);
    expect_token(s, ORIGIN, NULL, "after-reader");
    check_dir_modes(f->dir);
    wsc_store_close(s);
    check_dir_modes(f->dir);
}

/* A database left in WAL mode by another program is switched back. */
static void test_wal_switched_back(void **state) {
    struct fx *f = *state;
    umask(0);
    wsc_store_close(open_ok(f->db));
    sqlite3 *db = raw_open(f->db);
    raw_exec(db, "PRAGMA journal_mode=WAL;");
    raw_exec(db, "INSERT INTO wsc_tokens VALUES ('" ORIGIN "', 'csrf_token', 'walvalue', 0);");
    /* -wal and -shm take the database's mode too. */
    char p[700];
    snprintf(p, sizeof p, "%s-wal", f->db);
    assert_int_equal(mode_of(p), 0600);
    snprintf(p, sizeof p, "%s-shm", f->db);
    assert_int_equal(mode_of(p), 0600);
    sqlite3_close(db);
    size_t len;
    uint8_t *hdr = tu_read_file(f->db, &len);
    assert_non_null(hdr);
    assert_int_equal(hdr[18], 2);
    free(hdr);

    wsc_store *s = open_ok(f->db);
    expect_token(s, ORIGIN, NULL, "walvalue");
    set_ok(s, ORIGIN, NULL, "after");
    wsc_store_close(s);
    hdr = tu_read_file(f->db, &len);
    assert_non_null(hdr);
    assert_int_equal(hdr[18], 1);
    free(hdr);
    check_dir_modes(f->dir);
}

static void test_tighten_existing(void **state) {
    struct fx *f = *state;
    umask(0);
    /* An empty 0644 file becomes a 0600 store. */
    write_file(f->db, "", 0, 0644);
    assert_int_equal(mode_of(f->db), 0644);
    wsc_store *s = open_ok(f->db);
    assert_int_equal(mode_of(f->db), 0600);
    set_ok(s, ORIGIN, NULL, "t");
    wsc_store_close(s);
    /* A valid store made 0640 is tightened and keeps its data. */
    assert_int_equal(chmod(f->db, 0640), 0);
    s = open_ok(f->db);
    assert_int_equal(mode_of(f->db), 0600);
    expect_token(s, ORIGIN, NULL, "t");
    wsc_store_close(s);
    /* One that group or others may write to is refused, as ssh does, and
       left as it is (someone else may have put a token in it). */
    const int writable[] = {0620, 0602, 0664, 0666};
    for (size_t i = 0; i < sizeof writable / sizeof *writable; i++) {
        assert_int_equal(chmod(f->db, (mode_t)writable[i]), 0);
        wsc_error e;
        assert_null(wsc_store_open(f->db, &e));
        expect_err(&e, WSC_ESTORE, "refusing to use token store", "chmod 600");
        assert_non_null(strstr(e.message, (writable[i] & 002) ? "writable by others" : "writable by its group"));
        assert_int_equal(mode_of(f->db), writable[i]);
    }
    assert_int_equal(chmod(f->db, 0600), 0);
    /* So is a directory on the path that others may write to, unless it is
       sticky like /tmp. */
    const int dmodes[] = {0770, 0707, 0777};
    for (size_t i = 0; i < sizeof dmodes / sizeof *dmodes; i++) {
        assert_int_equal(chmod(f->dir, (mode_t)dmodes[i]), 0);
        wsc_error e;
        assert_null(wsc_store_open(f->db, &e));
        expect_err(&e, WSC_ESTORE, "refusing to use token store directory", "chmod go-w");
    }
    assert_int_equal(chmod(f->dir, 01777), 0);
    wsc_store_close(open_ok(f->db));
    assert_int_equal(chmod(f->dir, 0700), 0);
    /* Owner-only modes are left alone. */
    assert_int_equal(chmod(f->db, 0700), 0);
    wsc_store_close(open_ok(f->db));
    assert_int_equal(mode_of(f->db), 0700);
}

/* ------------------------------------------------------------------------ */
/* failures                                                                 */

static void garbage(uint8_t *buf, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 131u + 7u);
}

static void test_corrupt_file(void **state) {
    struct fx *f = *state;
    uint8_t junk[8192];
    garbage(junk, sizeof junk);
    write_file(f->db, junk, sizeof junk, 0600);
    wsc_error e = {0};
    assert_null(wsc_store_open(f->db, &e));
    expect_err(&e, WSC_ESTORE, "is not a valid database (corrupt?)", f->db);
    char want[700];
    snprintf(want, sizeof want, "token store %s is not a valid database (corrupt?)", f->db);
    assert_string_equal(e.message, want);
    /* Short garbage, and a text file. */
    write_file(f->db, "hello", 5, 0600);
    assert_null(wsc_store_open(f->db, &e));
    expect_err(&e, WSC_ESTORE, "not a valid database", f->db);
    /* The file is left as it was. */
    assert_true(file_contains(f->db, "hello"));
}

/* The file is destroyed under an open handle: every call reports it, the
   handle survives, and works again once the file is a database again. */
static void test_corrupted_under_handle(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, "before");
    size_t len;
    uint8_t *good = tu_read_file(f->db, &len);
    assert_non_null(good);
    uint8_t *junk = malloc(len);
    assert_non_null(junk);
    garbage(junk, len);
    write_file(f->db, junk, len, 0600);

    wsc_error e = {0};
    char *v = (char *)"x";
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    assert_null(v);
    expect_err(&e, WSC_ESTORE, "not a valid database (corrupt?)", f->db);
    memset(&e, 0, sizeof e);
    assert_int_equal(wsc_store_set(s, ORIGIN, NULL, "after", &e), WSC_ESTORE);
    expect_err(&e, WSC_ESTORE, "not a valid database (corrupt?)", f->db);
    memset(&e, 0, sizeof e);
    assert_int_equal(wsc_store_delete(s, ORIGIN, NULL, &e), WSC_ESTORE);
    expect_err(&e, WSC_ESTORE, "not a valid database (corrupt?)", f->db);
    int n = 0;
    assert_int_equal(wsc_store_list(s, NULL, count_entry, &n, &e), WSC_ESTORE);
    assert_int_equal(n, 0);

    /* Repaired: the same handle works again. */
    write_file(f->db, good, len, 0600);
    expect_token(s, ORIGIN, NULL, "before");
    set_ok(s, ORIGIN, NULL, "after");
    expect_token(s, ORIGIN, NULL, "after");
    wsc_store_close(s);
    free(good);
    free(junk);
}

/* A valid header over damaged pages. */
static void test_corrupt_pages(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, "tok");
    wsc_store_close(s);
    size_t len;
    uint8_t *data = tu_read_file(f->db, &len);
    assert_non_null(data);
    assert_true(len >= 8192);
    garbage(data + 4096, len - 4096); /* every page after the first */
    write_file(f->db, data, len, 0600);
    free(data);
    wsc_error e = {0};
    s = wsc_store_open(f->db, &e);
    if (s) {
        char *v = NULL;
        assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
        assert_null(v);
        assert_int_equal(wsc_store_set(s, ORIGIN, NULL, "t2", &e), WSC_ESTORE);
        wsc_store_close(s);
    }
    expect_err(&e, WSC_ESTORE, "not a valid database (corrupt?)", f->db);
}

/* Another process holds BEGIN EXCLUSIVE until told to commit. */
struct locker {
    const char *db;
    int ready_w, release_r;
};

static int child_locker(void *arg) {
    struct locker *l = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(l->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) return 50;
    if (sqlite3_exec(db, "BEGIN EXCLUSIVE; UPDATE wsc_tokens SET updated = 1;", NULL, NULL,
                     NULL) != SQLITE_OK)
        return 51;
    char c = 'r';
    if (write(l->ready_w, &c, 1) != 1) return 52;
    if (read(l->release_r, &c, 1) != 1) return 53;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return 54;
    sqlite3_close(db);
    return 0;
}

static void test_locked(void **state) {
    struct fx *f = *state;
    setenv("WSC_STORE_BUSY_MS", "150", 1);
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, "v1");

    int ready[2], release[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    struct locker l = {f->db, ready[1], release[0]};
    pid_t pid = spawn(child_locker, &l);
    close(ready[1]);
    close(release[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);

    wsc_error e = {0};
    char *v = (char *)"x";
    double t0 = now_ms();
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    double waited = now_ms() - t0;
    assert_null(v);
    expect_err(&e, WSC_ESTORE, "is locked by another process", f->db);
    expect_err(&e, WSC_ESTORE, "150 ms", NULL); /* the environment variable was read */
    assert_true(waited >= 120 && waited < 3000);
    assert_int_equal(wsc_store_set(s, ORIGIN, NULL, "v2", &e), WSC_ESTORE);
    expect_err(&e, WSC_ESTORE, "is locked by another process", f->db);
    assert_int_equal(wsc_store_delete(s, ORIGIN, NULL, &e), WSC_ESTORE);
    expect_err(&e, WSC_ESTORE, "is locked by another process", f->db);
    /* A new handle cannot even open it. */
    memset(&e, 0, sizeof e);
    assert_null(wsc_store_open(f->db, &e));
    expect_err(&e, WSC_ESTORE, "is locked by another process", f->db);
    /* A zero timeout fails at once. */
    assert_int_equal(wsc_store_set_busy_timeout(s, 0), WSC_OK);
    t0 = now_ms();
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    assert_true(now_ms() - t0 < 1000);
    expect_err(&e, WSC_ESTORE, "(gave up after 0 ms)", NULL);

    /* Released: everything works on the same handle, nothing was lost. */
    assert_int_equal(write(release[1], "g", 1), 1);
    close(release[1]);
    close(ready[0]);
    assert_int_equal(reap(pid), 0);
    assert_int_equal(wsc_store_set_busy_timeout(s, 2000), WSC_OK);
    expect_token(s, ORIGIN, NULL, "v1");
    set_ok(s, ORIGIN, NULL, "v3");
    expect_token(s, ORIGIN, NULL, "v3");
    wsc_store_close(s);
    wsc_store_close(open_ok(f->db));
}

/* A writer waits behind a lock released within the busy timeout, and
   succeeds. Invalid WSC_STORE_BUSY_MS values are ignored (the 5000 ms default
   stays): were one taken as 0, 10 or negative, the write would fail at once. */
static void test_lock_released_within_timeout(void **state) {
    struct fx *f = *state;
    const char *envs[] = {NULL, "junk", "10x", "-5", "99999999"};
    wsc_store_close(open_ok(f->db));
    for (size_t i = 0; i < sizeof envs / sizeof *envs; i++) {
        if (envs[i]) setenv("WSC_STORE_BUSY_MS", envs[i], 1);
        else unsetenv("WSC_STORE_BUSY_MS");
        wsc_store *s = open_ok(f->db);
        int ready[2], release[2];
        assert_int_equal(pipe(ready), 0);
        assert_int_equal(pipe(release), 0);
        struct locker l = {f->db, ready[1], release[0]};
        pid_t pid = spawn(child_locker, &l);
        close(ready[1]);
        close(release[0]);
        char c;
        assert_int_equal(read(ready[0], &c, 1), 1);
        /* A second child releases the lock 200 ms from now while we wait. */
        double t0 = now_ms();
        fflush(NULL);
        pid_t rel = fork();
        assert_true(rel >= 0);
        if (rel == 0) {
            usleep(200000);
            _exit(write(release[1], "g", 1) == 1 ? 0 : 1);
        }
        close(release[1]);
        char v[16];
        snprintf(v, sizeof v, "v%zu", i);
        set_ok(s, ORIGIN, NULL, v);
        assert_true(now_ms() - t0 >= 190);
        assert_int_equal(reap(rel), 0);
        assert_int_equal(reap(pid), 0);
        close(ready[0]);
        expect_token(s, ORIGIN, NULL, v);
        wsc_store_close(s);
    }
}

/* Runs the permission checks that root would bypass; returns 0 if they hold. */
static int unwritable_checks(void *arg) {
    const char *dir = arg;
    char p[800];
    wsc_error e;
    snprintf(p, sizeof p, "%s/ro/tokens.db", dir);
    if (wsc_store_open(p, &e) || e.code != WSC_ESTORE || !strstr(e.message, "Permission denied") ||
        !strstr(e.message, "/ro/tokens.db"))
        return 60;
    snprintf(p, sizeof p, "%s/ro/sub/tokens.db", dir);
    if (wsc_store_open(p, &e) || e.code != WSC_ESTORE ||
        !strstr(e.message, "cannot create directory") || !strstr(e.message, "/ro/sub") ||
        !strstr(e.message, "Permission denied"))
        return 61;
    snprintf(p, sizeof p, "%s/ro/readonly.db", dir);
    if (wsc_store_open(p, &e) || e.code != WSC_ESTORE || !strstr(e.message, "Permission denied") ||
        !strstr(e.message, "readonly.db"))
        return 62;
    return 0;
}

static int child_as_nobody(void *arg) {
    if (setgid(65534) != 0 || setuid(65534) != 0) return 70;
    return unwritable_checks(arg);
}

static void test_unwritable(void **state) {
    struct fx *f = *state;
    char p[800], q[800];
    wsc_error e = {0};
    /* A parent that is a regular file. */
    write_file(in(f, "file", q, sizeof q), "x", 1, 0600);
    assert_null(wsc_store_open(in(f, "file/tokens.db", p, sizeof p), &e));
    expect_err(&e, WSC_ESTORE, q, "Not a directory");
    assert_null(wsc_store_open(in(f, "file/sub/tokens.db", p, sizeof p), &e));
    expect_err(&e, WSC_ESTORE, q, "Not a directory");
    /* A path that is a directory, a FIFO. */
    assert_int_equal(mkdir(in(f, "d", p, sizeof p), 0700), 0);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_ESTORE, "is a directory", p);
    assert_int_equal(mkfifo(in(f, "fifo", p, sizeof p), 0600), 0);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_ESTORE, "is not a regular file", p);
    /* A read-only directory and file: as root, checked by an unprivileged
       child (root bypasses permission bits). */
    assert_int_equal(mkdir(in(f, "ro", p, sizeof p), 0755), 0);
    write_file(in(f, "ro/readonly.db", q, sizeof q), "", 0, 0444);
    assert_int_equal(chmod(p, 0555), 0);
    if (geteuid() == 0) {
        assert_int_equal(chmod(f->dir, 0755), 0); /* let nobody reach it */
        assert_int_equal(reap(spawn(child_as_nobody, f->dir)), 0);
    } else {
        assert_int_equal(unwritable_checks(f->dir), 0);
    }
    assert_int_equal(chmod(p, 0700), 0);
}

static void test_symlink_refused(void **state) {
    struct fx *f = *state;
    char real[700], link[700], p[700];
    in(f, "real.db", real, sizeof real);
    in(f, "link.db", link, sizeof link);
    wsc_store *s = open_ok(real);
    set_ok(s, ORIGIN, NULL, "t");
    wsc_store_close(s);
    assert_int_equal(chmod(real, 0644), 0);
    assert_int_equal(symlink(real, link), 0);
    wsc_error e = {0};
    assert_null(wsc_store_open(link, &e));
    expect_err(&e, WSC_ESTORE, "symbolic link", link);
    assert_int_equal(mode_of(real), 0644); /* the target was not touched */
    /* A dangling link: refused, and the target is not created. */
    assert_int_equal(symlink(in(f, "nowhere.db", p, sizeof p), in(f, "dangling.db", link, sizeof link)), 0);
    assert_null(wsc_store_open(link, &e));
    expect_err(&e, WSC_ESTORE, "symbolic link", link);
    assert_int_equal(mode_of(p), -1);
    /* Links in the directories above are followed. */
    assert_int_equal(mkdir(in(f, "realdir", p, sizeof p), 0700), 0);
    assert_int_equal(symlink(p, in(f, "linkdir", link, sizeof link)), 0);
    s = open_ok(in(f, "linkdir/tokens.db", p, sizeof p));
    wsc_store_close(s);
    assert_int_equal(mode_of(in(f, "realdir/tokens.db", p, sizeof p)), 0600);
}

/* A relative path that looks like an SQLite URI names a file, not a URI. */
static void test_relative_uri_like_path(void **state) {
    struct fx *f = *state;
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    wsc_store *s = open_ok("file:x.db?mode=memory");
    set_ok(s, ORIGIN, NULL, "t");
    wsc_store_close(s);
    assert_int_equal(mode_of("file:x.db?mode=memory"), 0600);
    s = open_ok("plain.db");
    wsc_store_close(s);
    assert_int_equal(mode_of("plain.db"), 0600);
    assert_int_equal(chdir(cwd), 0);
}

static void test_foreign_databases(void **state) {
    struct fx *f = *state;
    char p[700];
    wsc_error e = {0};
    /* Another application's tables. */
    sqlite3 *db = raw_open(in(f, "other.db", p, sizeof p));
    raw_exec(db, "CREATE TABLE photos (id INTEGER PRIMARY KEY);");
    sqlite3_close(db);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_ESTORE, "another application", p);
    /* Another application id. */
    db = raw_open(in(f, "appid.db", p, sizeof p));
    raw_exec(db, "PRAGMA application_id = 1234;");
    sqlite3_close(db);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_ESTORE, "another application", p);
    /* A newer wsc. */
    wsc_store_close(open_ok(in(f, "newer.db", p, sizeof p)));
    db = raw_open(p);
    raw_exec(db, "PRAGMA user_version = 9;");
    sqlite3_close(db);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_ESTORE, "newer wsc", p);
    /* Our id, current schema, but the table has been altered. */
    wsc_store_close(open_ok(in(f, "altered.db", p, sizeof p)));
    db = raw_open(p);
    raw_exec(db, "DROP TABLE wsc_tokens; CREATE TABLE wsc_tokens (x);");
    sqlite3_close(db);
    assert_null(wsc_store_open(p, &e));
    expect_err(&e, WSC_ESTORE, "unexpected table layout", p);
}

/* A token edited into the file by hand is checked on the way out. */
static void test_tampered_value(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, "good");
    sqlite3 *db = raw_open(f->db);
    raw_exec(db, "UPDATE wsc_tokens SET value = 'TAMPERED' || char(13, 10) || 'Set-Cookie: x';");
    sqlite3_close(db);
    wsc_error e = {0};
    char *v = (char *)"x";
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    assert_null(v);
    expect_err(&e, WSC_ESTORE, "holds an invalid token", f->db);
    assert_null(strstr(e.message, "TAMPERED"));
    db = raw_open(f->db);
    raw_exec(db, "UPDATE wsc_tokens SET value = X'41004142';"); /* NUL inside, as a blob */
    sqlite3_close(db);
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    assert_null(v);
    /* Overwriting repairs it. */
    set_ok(s, ORIGIN, NULL, "good2");
    expect_token(s, ORIGIN, NULL, "good2");
    wsc_store_close(s);
}

/* ------------------------------------------------------------------------ */
/* secrets                                                                  */

static void test_secure_delete(void **state) {
    struct fx *f = *state;
    const char *x = "XXSECRET-first-token-0123456789abcdefXX";
    const char *y = "YYSECRET-second-token-9876543210fedcbaYY";
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, x);
    assert_true(file_contains(f->db, x)); /* the check can see a token */
    set_ok(s, ORIGIN, NULL, y);
    assert_false(file_contains(f->db, x));
    assert_true(file_contains(f->db, y));
    assert_int_equal(wsc_store_delete(s, ORIGIN, NULL, NULL), WSC_OK);
    assert_false(file_contains(f->db, x));
    assert_false(file_contains(f->db, y));
    wsc_store_close(s);
    assert_false(file_contains(f->db, x));
    assert_false(file_contains(f->db, y));
}

#define SECRET "SeCrEtToKeN-4f9a2c71d8e6b305"

static void no_secret(const wsc_error *e) {
    if (strstr(e->message, "SeCrEt") || strstr(e->message, "4f9a2c71"))
        fail_msg("message leaks the token: %s", e->message);
    assert_true(e->message[0] != '\0');
}

static void test_no_token_in_messages(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    wsc_error e = {0};
    /* Invalid tokens built around the secret. */
    const char *bad[] = {SECRET ";", SECRET " x", "\"" SECRET "\"", SECRET "\r\n"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(wsc_store_set(s, ORIGIN, NULL, bad[i], &e), WSC_EINVAL);
        no_secret(&e);
    }
    /* Bad origin or key with a good token. */
    assert_int_equal(wsc_store_set(s, "bad origin", NULL, SECRET, &e), WSC_EINVAL);
    no_secret(&e);
    assert_int_equal(wsc_store_set(s, ORIGIN, "bad key", SECRET, &e), WSC_EINVAL);
    no_secret(&e);
    /* Locked. */
    set_ok(s, ORIGIN, NULL, SECRET);
    int ready[2], release[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(release), 0);
    struct locker l = {f->db, ready[1], release[0]};
    pid_t pid = spawn(child_locker, &l);
    close(ready[1]);
    close(release[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(wsc_store_set_busy_timeout(s, 50), WSC_OK);
    assert_int_equal(wsc_store_set(s, ORIGIN, NULL, SECRET "2", &e), WSC_ESTORE);
    no_secret(&e);
    char *v = NULL;
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    no_secret(&e);
    assert_int_equal(write(release[1], "g", 1), 1);
    close(release[1]);
    close(ready[0]);
    assert_int_equal(reap(pid), 0);
    /* Tampered, then corrupt. */
    sqlite3 *db = raw_open(f->db);
    raw_exec(db, "UPDATE wsc_tokens SET value = value || ';';");
    sqlite3_close(db);
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    no_secret(&e);
    uint8_t junk[8192];
    garbage(junk, sizeof junk);
    write_file(f->db, junk, sizeof junk, 0600);
    assert_int_equal(wsc_store_set(s, ORIGIN, NULL, SECRET, &e), WSC_ESTORE);
    no_secret(&e);
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, &e), WSC_ESTORE);
    no_secret(&e);
    wsc_store_close(s);
}

/* An allocator that reports whether a block was zero when freed, and can fail. */
static int g_fail_alloc;
static size_t g_freed_len;
static int g_freed_zero;

static void *t_malloc(size_t n) {
    if (g_fail_alloc) return NULL;
    unsigned char *p = malloc(n + 16);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    return p + 16;
}

static void *t_realloc(void *q, size_t n) {
    if (!q) return t_malloc(n);
    if (g_fail_alloc) return NULL;
    unsigned char *p = realloc((unsigned char *)q - 16, n + 16);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    return p + 16;
}

static void t_free(void *q) {
    unsigned char *p = (unsigned char *)q - 16;
    size_t n;
    memcpy(&n, p, sizeof n);
    g_freed_len = n;
    g_freed_zero = 1;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char *)q)[i]) g_freed_zero = 0;
    free(p);
}

static void test_free_wipes(void **state) {
    struct fx *f = *state;
    const wsc_allocator a = {t_malloc, t_realloc, t_free};
    wsc_set_allocator(&a);
    wsc_store *s = open_ok(f->db);
    set_ok(s, ORIGIN, NULL, SECRET);
    char *v = NULL;
    assert_int_equal(wsc_store_get(s, ORIGIN, NULL, &v, NULL), WSC_OK);
    assert_non_null(v);
    assert_string_equal(v, SECRET);
    /* The copy lives in secret memory (src/secret.c): out of core dumps,
       wiped and unmapped by wsc_store_free (which the allocator hooks do
       not see). */
#ifdef __linux__
    assert_true(wsc__secret_is_dontdump(v));
#endif
    wsc_store_free(v);
    /* The check notices a block that is not wiped. */
    g_freed_zero = 0;
    char *plain = wsc__strdup("not-wiped");
    wsc__free(plain);
    assert_false(g_freed_zero);
    expect_token(s, ORIGIN, NULL, SECRET);
    wsc_store_close(s);

    /* Out of memory: a clean error, nothing open. */
    wsc_error e = {0};
    g_fail_alloc = 1;
    assert_null(wsc_store_open(f->db, &e));
    g_fail_alloc = 0;
    expect_err(&e, WSC_ENOMEM, "out of memory", NULL);
    wsc_set_allocator(NULL);
}

/* ------------------------------------------------------------------------ */
/* listing                                                                  */

struct seen {
    char items[8][96];
    int64_t updated[8];
    int n, stop_at;
    wsc_store *s;
};

static int collect(const char *origin, const char *key, int64_t updated, void *user) {
    struct seen *w = user;
    if (w->n == w->stop_at) return 7;
    snprintf(w->items[w->n], sizeof w->items[0], "%s %s", origin, key);
    w->updated[w->n] = updated;
    w->n++;
    /* The database is not locked here: writing on the same handle works. */
    if (w->s) return wsc_store_set(w->s, "wss://from-callback:1", NULL, "cb", NULL);
    return 0;
}

static void test_list(void **state) {
    struct fx *f = *state;
    wsc_store *s = open_ok(f->db);
    time_t t0 = time(NULL);
    set_ok(s, "wss://b:443", "k2", "t");
    set_ok(s, "wss://b:443", NULL, "t");
    set_ok(s, "wss://a:443", NULL, "t");
    struct seen w = {.stop_at = -1};
    assert_int_equal(wsc_store_list(s, NULL, collect, &w, NULL), WSC_OK);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.items[0], "wss://a:443 csrf_token");
    assert_string_equal(w.items[1], "wss://b:443 csrf_token");
    assert_string_equal(w.items[2], "wss://b:443 k2");
    for (int i = 0; i < 3; i++) assert_true(w.updated[i] >= t0 && w.updated[i] <= time(NULL));
    memset(&w, 0, sizeof w);
    w.stop_at = -1;
    assert_int_equal(wsc_store_list(s, "wss://b:443", collect, &w, NULL), WSC_OK);
    assert_int_equal(w.n, 2);
    memset(&w, 0, sizeof w);
    w.stop_at = 1;
    assert_int_equal(wsc_store_list(s, NULL, collect, &w, NULL), 7); /* stopped */
    assert_int_equal(w.n, 1);
    memset(&w, 0, sizeof w);
    w.stop_at = -1;
    w.s = s;
    assert_int_equal(wsc_store_list(s, "wss://a:443", collect, &w, NULL), WSC_OK);
    expect_token(s, "wss://from-callback:1", NULL, "cb");
    assert_int_equal(wsc_store_list(s, NULL, NULL, NULL, NULL), WSC_EINVAL);
    assert_int_equal(wsc_store_list(s, "bad origin", collect, &w, NULL), WSC_EINVAL);
    wsc_store_close(s);
}

/* wsc_store_open_lazy: reading a store that does not exist creates nothing
   (what `wsc URL` does at every connect); the first write creates it as
   wsc_store_open would; a file another handle created is then seen. */
static int n_listed(const char *origin, const char *key, int64_t updated, void *user) {
    (void)origin;
    (void)key;
    (void)updated;
    ++*(int *)user;
    return 0;
}

static void test_open_lazy_creates_on_write(void **state) {
    struct fx *f = *state;
    char sub[700], path[800];
    snprintf(sub, sizeof sub, "%s/not/yet", f->dir);
    snprintf(path, sizeof path, "%s/tokens.db", sub);
    struct stat st;
    wsc_error e = {0};
    wsc_store *s = wsc_store_open_lazy(path, &e);
    assert_non_null(s);
    expect_token(s, ORIGIN, NULL, NULL);
    int n = 0;
    assert_int_equal(wsc_store_list(s, NULL, n_listed, &n, &e), WSC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(wsc_store_delete(s, ORIGIN, NULL, &e), WSC_OK);
    assert_int_equal(wsc_store_set_busy_timeout(s, 100), WSC_OK);
    assert_int_not_equal(lstat(sub, &st), 0); /* nothing created, not even the directory */
    /* Another handle writes: the lazy one sees it. */
    wsc_store *w = open_ok(path);
    set_ok(w, ORIGIN, NULL, "from-another");
    wsc_store_close(w);
    expect_token(s, ORIGIN, NULL, "from-another");
    wsc_store_close(s);
    /* A first write through a lazy handle creates file 0600 and directories 0700. */
    char path2[800];
    snprintf(path2, sizeof path2, "%s/other/tokens.db", f->dir);
    s = wsc_store_open_lazy(path2, &e);
    assert_non_null(s);
    assert_int_not_equal(lstat(path2, &st), 0);
    set_ok(s, ORIGIN, NULL, "t");
    assert_int_equal(mode_of(path2), 0600);
    expect_token(s, ORIGIN, NULL, "t");
    wsc_store_close(s);
    /* An existing file is checked at once (a symbolic link is refused). */
    char link[800];
    snprintf(link, sizeof link, "%s/link.db", f->dir);
    assert_int_equal(symlink(path2, link), 0);
    assert_null(wsc_store_open_lazy(link, &e));
    expect_err(&e, WSC_ESTORE, "symbolic link", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_valid),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_separation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_tokens_not_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_create, setup, teardown),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test_setup_teardown(test_open_default_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_switched_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tighten_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_under_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_released_within_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_uri_like_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_databases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secure_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_token_in_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_wipes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_lazy_creates_on_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
