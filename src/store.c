/*
 * store.c - the persistent CSRF token store (see include/wsc/store.h):
 * validating origins, keys and tokens, wording messages, and the queries.
 * Finding and opening the file is in store_open.c.
 */

#define _XOPEN_SOURCE 700

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secret.h"
#include "store_internal.h"

/* ------------------------------------------------------------------------ */
/* validation                                                               */

static int cookie_octet(unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* NULL if the token is valid, else why not (never quoting the token). */
static const char *token_problem(const char *t, size_t len) {
    if (!t) return "token is missing";
    if (len == 0) return "token is empty";
    if (len > WSC_TOKEN_MAX) return "token is longer than " STR(WSC_TOKEN_MAX) " bytes";
    for (size_t i = 0; i < len; i++)
        if (!cookie_octet((unsigned char)t[i]))
            return "token contains a character that cannot be sent in a cookie";
    return NULL;
}

int wsc_token_valid(const char *token, size_t len) { return token_problem(token, len) == NULL; }

/* origin and key: 1..max bytes of printable ASCII without space. */
static int check_name(const char *what, const char *s, size_t max, wsc_error *err) {
    if (!s) return wsc__seterr(err, WSC_EINVAL, "%s is missing", what);
    size_t n = strnlen(s, max + 1);
    if (n == 0) return wsc__seterr(err, WSC_EINVAL, "%s is empty", what);
    if (n > max) return wsc__seterr(err, WSC_EINVAL, "%s is longer than %zu bytes", what, max);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return wsc__seterr(err, WSC_EINVAL,
                               "%s contains a byte that is not printable ASCII (offset %zu)",
                               what, i);
    }
    return WSC_OK;
}

static int check_origin_key(const char *origin, const char **key, wsc_error *err) {
    int rc = check_name("origin", origin, WSC_STORE_ORIGIN_MAX, err);
    if (rc) return rc;
    if (!*key) *key = WSC_STORE_DEFAULT_KEY;
    return check_name("key", *key, WSC_STORE_KEY_MAX, err);
}

/* ------------------------------------------------------------------------ */
/* messages                                                                 */

/* A one-line, bounded rendering of path for messages (out: SHOWN_MAX + 1). */
const char *wsc__store_shown(const char *path, char *out) {
    size_t n = strlen(path), o = 0;
    for (size_t i = 0; i < n; i++) {
        if (n > SHOWN_MAX && i == 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            i = n - (SHOWN_MAX - 43) - 1;
            continue;
        }
        unsigned char c = (unsigned char)path[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[o] = '\0';
    return out;
}

const char *wsc__store_oserr(int e, char *buf, size_t cap) {
    if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
    return buf;
}

/* Fills err for SQLite result rc (an extended code) met while using path. */
static int sql_error(sqlite3 *db, const char *path, int busy_ms, int rc, wsc_error *err) {
    char sp[SHOWN_MAX + 1], eb[128];
    wsc__store_shown(path, sp);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return wsc__seterr(err, WSC_ESTORE,
                           "token store %s is locked by another process (gave up after %d ms)",
                           sp, busy_ms);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return wsc__seterr(err, WSC_ESTORE, "token store %s is not a valid database (corrupt?)",
                           sp);
    case SQLITE_NOMEM: return wsc__seterr(err, WSC_ENOMEM, "out of memory in the token store");
    default: break;
    }
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int sys = db ? sqlite3_system_errno(db) : 0;
    if (sys)
        return wsc__seterr(err, WSC_ESTORE, "token store %s: %s (%s)", sp, msg,
                           wsc__store_oserr(sys, eb, sizeof eb));
    return wsc__seterr(err, WSC_ESTORE, "token store %s: %s", sp, msg);
}

int wsc__store_error(wsc_store *s, int rc, wsc_error *err) {
    return sql_error(s->db, s->path, s->busy_ms, rc, err);
}

/* ------------------------------------------------------------------------ */
/* queries                                                                  */

static void rollback(wsc_store *s) {
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->st_rollback);
        sqlite3_reset(s->st_rollback);
    }
}

/* The database for a read: opened now if the file appeared since (another
   process wrote a token). Returns 0 (s->db set), 1 (still no file: nothing
   stored) or an error. */
static int ready_to_read(wsc_store *s, wsc_error *err) {
    if (s->db) return 0;
    if (wsc__store_absent(s->path)) return 1;
    return wsc__store_open_db(s, err);
}

/* The database for a write: created now if there is none. */
static int ready_to_write(wsc_store *s, wsc_error *err) {
    return s->db ? 0 : wsc__store_open_db(s, err);
}

const char *wsc_store_path(const wsc_store *s) { return s ? s->path : NULL; }

int wsc_store_set_busy_timeout(wsc_store *s, int ms) {
    if (!s || ms < 0 || ms > WSC_STORE_BUSY_MS_MAX) return WSC_EINVAL;
    s->busy_ms = ms;
    if (s->db) sqlite3_busy_timeout(s->db, ms); /* else: set when the file is opened */
    return WSC_OK;
}

int wsc_store_get(wsc_store *s, const char *origin, const char *key, char **value,
                  wsc_error *err) {
    if (value) *value = NULL;
    if (!s) return wsc__seterr(err, WSC_EINVAL, "token store handle is NULL");
    if (!value) return wsc__seterr(err, WSC_EINVAL, "value pointer is NULL");
    int r = check_origin_key(origin, &key, err);
    if (r) return r;

    if ((r = ready_to_read(s, err)) != 0) return r == 1 ? WSC_OK : r;
    sqlite3_stmt *st = s->st_get;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    r = WSC_OK;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        if (!v && sqlite3_errcode(s->db) == SQLITE_NOMEM) {
            r = wsc__seterr(err, WSC_ENOMEM, "out of memory in the token store");
        } else if (!v || token_problem(v, (size_t)n)) {
            char sp[SHOWN_MAX + 1];
            r = wsc__seterr(err, WSC_ESTORE,
                            "token store %s holds an invalid token for this origin and key "
                            "(edited by hand?)",
                            wsc__store_shown(s->path, sp));
        } else if (!(*value = wsc__secret_strdup((const char *)v))) { /* out of core dumps */
            r = wsc__seterr(err, WSC_ENOMEM, "out of memory");
        }
    } else if (rc != SQLITE_DONE) {
        r = wsc__store_error(s, rc, err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* Runs the bound write statement st in its own IMMEDIATE transaction. */
static int write_txn(wsc_store *s, sqlite3_stmt *st, wsc_error *err) {
    int r = WSC_OK;
    int rc = sqlite3_step(s->st_begin);
    if (rc != SQLITE_DONE) r = wsc__store_error(s, rc, err);
    sqlite3_reset(s->st_begin);
    if (r == WSC_OK) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) r = wsc__store_error(s, rc, err);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r == WSC_OK) {
        rc = sqlite3_step(s->st_commit);
        if (rc != SQLITE_DONE) r = wsc__store_error(s, rc, err);
        sqlite3_reset(s->st_commit);
    }
    if (r != WSC_OK) rollback(s);
    return r;
}

int wsc_store_set(wsc_store *s, const char *origin, const char *key, const char *value,
                  wsc_error *err) {
    if (!s) return wsc__seterr(err, WSC_EINVAL, "token store handle is NULL");
    int r = check_origin_key(origin, &key, err);
    if (r) return r;
    size_t n = value ? strnlen(value, WSC_TOKEN_MAX + 1) : 0;
    const char *why = token_problem(value, n);
    if (why) return wsc__seterr(err, WSC_EINVAL, "%s", why);

    if ((r = ready_to_write(s, err)) != 0) return r;
    sqlite3_stmt *st = s->st_set;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
    return write_txn(s, st, err);
}

int wsc_store_delete(wsc_store *s, const char *origin, const char *key, wsc_error *err) {
    if (!s) return wsc__seterr(err, WSC_EINVAL, "token store handle is NULL");
    int r = check_origin_key(origin, &key, err);
    if (r) return r;
    if ((r = ready_to_read(s, err)) != 0) return r == 1 ? WSC_OK : r; /* nothing to delete */
    sqlite3_stmt *st = s->st_del;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    return write_txn(s, st, err);
}

struct entry {
    char *origin, *key;
    int64_t updated;
};

int wsc_store_list(wsc_store *s, const char *origin, wsc_store_list_fn fn, void *user,
                   wsc_error *err) {
    if (!s) return wsc__seterr(err, WSC_EINVAL, "token store handle is NULL");
    if (!fn) return wsc__seterr(err, WSC_EINVAL, "callback is NULL");
    if (origin) {
        int r = check_name("origin", origin, WSC_STORE_ORIGIN_MAX, err);
        if (r) return r;
    }
    struct entry *ents = NULL;
    size_t count = 0, cap = 0;
    int r = ready_to_read(s, err), rc;
    if (r) return r == 1 ? WSC_OK : r;
    sqlite3_stmt *st = s->st_list;
    if (origin) sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct entry *ne = wsc__realloc(ents, ncap * sizeof *ne);
            if (!ne) {
                r = wsc__seterr(err, WSC_ENOMEM, "out of memory");
                break;
            }
            ents = ne;
            cap = ncap;
        }
        const char *o = (const char *)sqlite3_column_text(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        struct entry *e = &ents[count];
        e->origin = wsc__strdup(o ? o : "");
        e->key = wsc__strdup(k ? k : "");
        e->updated = sqlite3_column_int64(st, 2);
        count++;
        if (!e->origin || !e->key) {
            r = wsc__seterr(err, WSC_ENOMEM, "out of memory");
            break;
        }
    }
    if (r == WSC_OK && rc != SQLITE_DONE) r = wsc__store_error(s, rc, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < count; i++) {
        if (r == WSC_OK) r = fn(ents[i].origin, ents[i].key, ents[i].updated, user);
        wsc__free(ents[i].origin);
        wsc__free(ents[i].key);
    }
    wsc__free(ents);
    return r;
}

void wsc_store_free(char *value) { wsc__secret_free(value); /* wipes */ }
