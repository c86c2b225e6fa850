/*
 * store_open.c - finding, checking and opening the token store file
 * (see include/wsc/store.h; the queries are in store.c).
 *
 * Opening is done in two steps. wsc first walks the directories of the path
 * with openat() (creating missing ones 0700) and opens the file itself with
 * O_NOFOLLOW, creating it 0600, so that permissions never depend on the umask
 * or on SQLite's defaults. Only then does SQLite open the file, by its
 * resolved name (without SQLITE_OPEN_CREATE, with SQLITE_OPEN_NOFOLLOW), and
 * wsc checks it is the same inode. wsc's own descriptor is closed before SQLite takes any lock:
 * closing a second descriptor of a file would drop SQLite's POSIX locks.
 */

#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "store_internal.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define STORE_APP_ID 0x77736331 /* "wsc1" in PRAGMA application_id */
#define STORE_SCHEMA 1          /* PRAGMA user_version */

/* ------------------------------------------------------------------------ */
/* default location                                                         */

static const char *join(char *buf, size_t cap, const char *dir, const char *tail) {
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/') n--;
    size_t t = strlen(tail);
    if (n > cap || t >= cap - n) {
        buf[0] = '\0';
        return NULL;
    }
    memcpy(buf, dir, n);
    memcpy(buf + n, tail, t + 1);
    return buf;
}

const char *wsc_store_default_path(char *buf, size_t cap) {
    if (!buf || cap == 0) return NULL;
    buf[0] = '\0';
    const char *x = getenv("XDG_STATE_HOME");
    if (x && x[0] == '/') return join(buf, cap, x, "/wsc/tokens.db");
    const char *h = getenv("HOME");
    if (h && h[0] == '/') return join(buf, cap, h, "/.local/state/wsc/tokens.db");

    const char *r = NULL;
    size_t sz = 1024;
    for (;;) {
        char *pwbuf = wsc__malloc(sz);
        if (!pwbuf) return NULL;
        struct passwd pw, *res = NULL;
        int e = getpwuid_r(geteuid(), &pw, pwbuf, sz, &res);
        if (e == 0 && res && res->pw_dir && res->pw_dir[0] == '/')
            r = join(buf, cap, res->pw_dir, "/.local/state/wsc/tokens.db");
        wsc__free(pwbuf);
        if (e == ERANGE && sz < (1u << 20)) {
            sz *= 2;
            continue;
        }
        return r;
    }
}

/* ------------------------------------------------------------------------ */
/* opening the file                                                         */

/*
 * Opens the directory that will hold the file: walks the components of dir
 * (modified in place, restored) from "/" or ".", creating missing ones 0700.
 * Returns a descriptor or -1 with err filled.
 */
static int open_dir(char *dir, int absolute, wsc_error *err) {
    char sp[SHOWN_MAX + 1], eb[128];
    int dfd = open(absolute ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        wsc__seterr(err, WSC_ESTORE, "cannot open directory %s: %s", absolute ? "/" : ".",
                    wsc__store_oserr(e, eb, sizeof eb));
        return -1;
    }
    char *p = dir;
    while (*p) {
        if (*p == '/') {
            p++;
            continue;
        }
        char *end = strchr(p, '/');
        char saved = '\0';
        if (end) {
            saved = *end;
            *end = '\0';
        }
        /* dir now ends with this component: it is the prefix for messages. */
        int nfd;
        if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            nfd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (nfd < 0) {
                int e = errno;
                wsc__seterr(err, WSC_ESTORE, "cannot open directory %s: %s",
                            wsc__store_shown(dir, sp), wsc__store_oserr(e, eb, sizeof eb));
            }
        } else if (mkdirat(dfd, p, 0700) == 0) {
            /* Ours: set 0700 exactly (the umask may have removed even our own
               bits, and a mode-000 directory cannot be opened), then open it
               without following links and set it again on what was opened. */
            nfd = -1;
            if (fchmodat(dfd, p, 0700, 0) == 0)
                nfd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (nfd < 0 || fchmod(nfd, 0700) != 0) {
                int e = errno;
                wsc__seterr(err, WSC_ESTORE, "cannot set the permissions of directory %s: %s",
                            wsc__store_shown(dir, sp), wsc__store_oserr(e, eb, sizeof eb));
                if (nfd >= 0) close(nfd);
                nfd = -1;
            }
        } else {
            int mk = errno;
            nfd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (nfd < 0) {
                int e = errno;
                if (e == ENOTDIR)
                    wsc__seterr(err, WSC_ESTORE, "cannot use %s as a directory: %s",
                                wsc__store_shown(dir, sp), wsc__store_oserr(e, eb, sizeof eb));
                else if (mk == EEXIST)
                    wsc__seterr(err, WSC_ESTORE, "cannot open directory %s: %s",
                                wsc__store_shown(dir, sp), wsc__store_oserr(e, eb, sizeof eb));
                else
                    wsc__seterr(err, WSC_ESTORE, "cannot create directory %s: %s",
                                wsc__store_shown(dir, sp), wsc__store_oserr(mk, eb, sizeof eb));
            }
        }
        /* As ssh does for its keys: a directory that others may write to
           lets them replace the store (sticky ones, like /tmp, do not). */
        struct stat dst;
        if (nfd >= 0 && fstat(nfd, &dst) == 0 && (dst.st_mode & 022) && !(dst.st_mode & S_ISVTX)) {
            wsc__seterr(err, WSC_ESTORE,
                        "refusing to use token store directory %s: it is writable by %s (chmod go-w %s)",
                        wsc__store_shown(dir, sp), (dst.st_mode & 002) ? "others" : "its group",
                        sp);
            close(nfd);
            nfd = -1;
        }
        if (end) *end = saved;
        close(dfd);
        if (nfd < 0) return -1;
        dfd = nfd;
        if (!end) break;
        p = end + 1;
    }
    return dfd;
}

/*
 * Creates (0600) or opens the database file at path, tightens its mode, and
 * returns its identity in *id. Leaves nothing open.
 */
static int prepare_file(const char *path, struct stat *id, wsc_error *err) {
    char sp[SHOWN_MAX + 1], eb[128];
    char *dir = wsc__strdup(path);
    if (!dir) return wsc__seterr(err, WSC_ENOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    const char *base = dir;
    int dfd;
    if (slash) {
        *slash = '\0';
        base = slash + 1;
        dfd = open_dir(dir, path[0] == '/', err);
    } else {
        dfd = open_dir(dir + strlen(dir), 0, err); /* "." */
    }
    if (dfd < 0) {
        wsc__free(dir);
        return WSC_ESTORE;
    }

    const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int created = 1;
    int fd = openat(dfd, base, flags | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = openat(dfd, base, flags);
    }
    int e = errno;
    close(dfd);
    wsc__free(dir);
    wsc__store_shown(path, sp);
    if (fd < 0) {
        if (e == ELOOP || e == EMLINK)
            return wsc__seterr(err, WSC_ESTORE,
                               "refusing to open token store %s: it is a symbolic link", sp);
        if (e == EISDIR)
            return wsc__seterr(err, WSC_ESTORE, "token store %s is a directory", sp);
        return wsc__seterr(err, WSC_ESTORE, "cannot open token store %s: %s", sp,
                           wsc__store_oserr(e, eb, sizeof eb));
    }

    int rc = WSC_OK;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (fstat(fd, &st) != 0) {
        e = errno;
        rc = wsc__seterr(err, WSC_ESTORE, "cannot examine token store %s: %s", sp,
                         wsc__store_oserr(e, eb, sizeof eb));
    } else if (!S_ISREG(st.st_mode)) {
        rc = wsc__seterr(err, WSC_ESTORE, "token store %s is not a regular file", sp);
    } else if (!created && (st.st_mode & 022)) {
        /* Someone else may have written to it: its tokens cannot be trusted
           (readable only: tightened below). */
        rc = wsc__seterr(err, WSC_ESTORE,
                         "refusing to use token store %s: it is writable by %s (chmod 600 %s)", sp,
                         (st.st_mode & 002) ? "others" : "its group", sp);
    } else if ((created && (st.st_mode & 07777) != 0600) ||
               (!created && (st.st_mode & 077) != 0 && st.st_uid == geteuid())) {
        /* Created: the umask may have taken bits away. Existing and ours:
           take away what group and others were granted. */
        if (fchmod(fd, 0600) != 0) {
            e = errno;
            rc = wsc__seterr(err, WSC_ESTORE,
                             "cannot restrict the permissions of token store %s to 0600: %s", sp,
                             wsc__store_oserr(e, eb, sizeof eb));
        }
    }
    *id = st;
    close(fd);
    return rc;
}

/*
 * The name SQLite opens: the directory of path resolved (symbolic links in
 * the directories are allowed, and SQLITE_OPEN_NOFOLLOW refuses a link in any
 * component), then the base name. Absolute, so never taken for a "file:" URI
 * (Debian's SQLite is built with SQLITE_USE_URI). Returns NULL with err set.
 */
static char *resolved_path(const char *path, wsc_error *err) {
    char dir[PATH_MAX], real[PATH_MAX], sp[SHOWN_MAX + 1], eb[128];
    const char *slash = strrchr(path, '/'), *base = path;
    if (!slash) {
        memcpy(dir, ".", 2);
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
        base = slash + 1;
    }
    if (!realpath(dir, real)) {
        int e = errno;
        wsc__seterr(err, WSC_ESTORE, "cannot resolve directory %s: %s", wsc__store_shown(dir, sp),
                    wsc__store_oserr(e, eb, sizeof eb));
        return NULL;
    }
    size_t rl = strlen(real), bl = strlen(base);
    if (rl == 1) rl = 0; /* "/" */
    char *out = wsc__malloc(rl + bl + 2);
    if (!out) {
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(out, real, rl);
    out[rl] = '/';
    memcpy(out + rl + 1, base, bl + 1);
    return out;
}

/* ------------------------------------------------------------------------ */
/* SQL helpers                                                              */

/* Steps st to completion, discarding rows. Returns an SQLite code. */
static int run(sqlite3_stmt *st) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs one statement of SQL text on db. Returns an SQLite code. */
static int exec1(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = run(st);
    sqlite3_finalize(st);
    return rc;
}

/* Reads the single integer result of sql into *out. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Creates the table if needed; refuses databases that are not ours. */
/* SQLite trusts the b-trees it reads: in a corrupt file a write can report
   success and its row still not be found afterwards (fuzz_store found such a
   file: set returned WSC_OK, the next get found nothing). PRAGMA quick_check
   verifies the file's structure (it reads every page: a token store is a few
   of them), so that a corrupt store is refused when opened, as store.h
   documents, instead of losing tokens. */
static int check_integrity(wsc_store *s, wsc_error *err) {
    sqlite3_stmt *st = NULL;
    int ok = 0;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *res = (const char *)sqlite3_column_text(st, 0);
        ok = res && strcmp(res, "ok") == 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) return wsc__store_error(s, rc, err);
    return ok ? WSC_OK : wsc__store_error(s, SQLITE_CORRUPT, err);
}

static int setup_schema(wsc_store *s, wsc_error *err) {
    char sp[SHOWN_MAX + 1];
    int64_t app = 0, ver = 0, foreign = 0;
    int rc = query_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) rc = query_int(s->db, "PRAGMA user_version", &ver);
    if (rc != SQLITE_OK) return wsc__store_error(s, rc, err);
    if (app == STORE_APP_ID && ver == STORE_SCHEMA) return WSC_OK;

    /* New, empty or unknown file: decide (and create) under a write lock. */
    rc = exec1(s->db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) rc = query_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) rc = query_int(s->db, "PRAGMA user_version", &ver);
    if (rc == SQLITE_OK)
        rc = query_int(s->db,
                       "SELECT count(*) FROM sqlite_master WHERE name <> 'wsc_tokens' "
                       "AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
                       &foreign);
    if (rc != SQLITE_OK) {
        int r = wsc__store_error(s, rc, err);
        exec1(s->db, "ROLLBACK");
        return r;
    }
    int r = WSC_OK;
    wsc__store_shown(s->path, sp);
    if (app == STORE_APP_ID && ver > STORE_SCHEMA) {
        r = wsc__seterr(err, WSC_ESTORE,
                        "token store %s was written by a newer wsc (schema %lld, this one "
                        "knows %d)",
                        sp, (long long)ver, STORE_SCHEMA);
    } else if (app != STORE_APP_ID && (app != 0 || ver != 0 || foreign != 0)) {
        r = wsc__seterr(err, WSC_ESTORE,
                        "token store %s is a database of another application, not a wsc token "
                        "store",
                        sp);
    } else {
        rc = exec1(s->db, "CREATE TABLE IF NOT EXISTS wsc_tokens ("
                          " origin TEXT NOT NULL,"
                          " key TEXT NOT NULL,"
                          " value TEXT NOT NULL,"
                          " updated INTEGER NOT NULL," /* seconds since the Epoch */
                          " PRIMARY KEY (origin, key)"
                          ") WITHOUT ROWID");
        if (rc == SQLITE_OK) rc = exec1(s->db, "PRAGMA application_id = " STR(STORE_APP_ID));
        if (rc == SQLITE_OK) rc = exec1(s->db, "PRAGMA user_version = " STR(STORE_SCHEMA));
        if (rc == SQLITE_OK) rc = exec1(s->db, "COMMIT");
        if (rc != SQLITE_OK) r = wsc__store_error(s, rc, err);
    }
    if (!sqlite3_get_autocommit(s->db)) exec1(s->db, "ROLLBACK");
    return r;
}

static int prepare_all(wsc_store *s, wsc_error *err) {
    static const struct {
        size_t off;
        const char *sql;
    } stmts[] = {
        {offsetof(wsc_store, st_get), "SELECT value FROM wsc_tokens WHERE origin = ?1 AND key = ?2"},
        {offsetof(wsc_store, st_set),
         "INSERT INTO wsc_tokens (origin, key, value, updated) VALUES (?1, ?2, ?3, ?4) "
         "ON CONFLICT (origin, key) DO UPDATE SET value = excluded.value, "
         "updated = excluded.updated"},
        {offsetof(wsc_store, st_del), "DELETE FROM wsc_tokens WHERE origin = ?1 AND key = ?2"},
        {offsetof(wsc_store, st_list),
         "SELECT origin, key, updated FROM wsc_tokens WHERE ?1 IS NULL OR origin = ?1 "
         "ORDER BY origin, key"},
        {offsetof(wsc_store, st_begin), "BEGIN IMMEDIATE"},
        {offsetof(wsc_store, st_commit), "COMMIT"},
        {offsetof(wsc_store, st_rollback), "ROLLBACK"},
    };
    for (size_t i = 0; i < WSC_ARRAY_LEN(stmts); i++) {
        sqlite3_stmt **slot = (sqlite3_stmt **)(void *)((char *)s + stmts[i].off);
        int rc = sqlite3_prepare_v2(s->db, stmts[i].sql, -1, slot, NULL);
        if (rc != SQLITE_OK) {
            char sp[SHOWN_MAX + 1];
            if ((rc & 0xff) == SQLITE_ERROR)
                return wsc__seterr(err, WSC_ESTORE,
                                   "token store %s has an unexpected table layout: %s",
                                   wsc__store_shown(s->path, sp), sqlite3_errmsg(s->db));
            return wsc__store_error(s, rc, err);
        }
    }
    return WSC_OK;
}

/* WSC_STORE_BUSY_MS if set to a valid number, else the default. */
static int env_busy_ms(void) {
    const char *e = getenv("WSC_STORE_BUSY_MS");
    if (!e || *e < '0' || *e > '9') return WSC_STORE_BUSY_MS_DEFAULT;
    char *end;
    errno = 0;
    long v = strtol(e, &end, 10);
    if (errno || *end || v < 0 || v > WSC_STORE_BUSY_MS_MAX) return WSC_STORE_BUSY_MS_DEFAULT;
    return (int)v;
}

/* ------------------------------------------------------------------------ */
/* opening and closing                                                      */

/* Finalises the statements and closes the database (the handle stays). */
static void close_db(wsc_store *s) {
    sqlite3_stmt *all[] = {s->st_get,   s->st_set,    s->st_del,     s->st_list,
                           s->st_begin, s->st_commit, s->st_rollback};
    for (size_t i = 0; i < WSC_ARRAY_LEN(all); i++) sqlite3_finalize(all[i]);
    if (s->db) sqlite3_close(s->db);
    s->db = NULL;
    s->st_get = s->st_set = s->st_del = s->st_list = NULL;
    s->st_begin = s->st_commit = s->st_rollback = NULL;
}

void wsc_store_close(wsc_store *s) {
    if (!s) return;
    close_db(s);
    wsc__free(s->path);
    wsc__free(s);
}

/* Nothing at the path yet: the file is created by the first write, so that
   reading creates nothing. */
int wsc__store_absent(const char *path) {
    struct stat st;
    return lstat(path, &st) != 0 && errno == ENOENT;
}

static wsc_store *store_open(const char *path, int lazy, wsc_error *err);

wsc_store *wsc_store_open(const char *path, wsc_error *err) { return store_open(path, 0, err); }
wsc_store *wsc_store_open_lazy(const char *path, wsc_error *err) { return store_open(path, 1, err); }

static wsc_store *store_open(const char *path, int lazy, wsc_error *err) {
    char defpath[PATH_MAX], sp[SHOWN_MAX + 1];
    if (!path) {
        path = wsc_store_default_path(defpath, sizeof defpath);
        if (!path) {
            wsc__seterr(err, WSC_ESTORE,
                        "cannot find a location for the token store: set XDG_STATE_HOME or "
                        "HOME to an absolute path");
            return NULL;
        }
    }
    size_t n = strnlen(path, PATH_MAX);
    if (n == 0) {
        wsc__seterr(err, WSC_EINVAL, "token store path is empty");
        return NULL;
    }
    if (n >= PATH_MAX) {
        wsc__seterr(err, WSC_EINVAL, "token store path is longer than %d bytes", PATH_MAX - 1);
        return NULL;
    }
    if (path[n - 1] == '/') {
        wsc__seterr(err, WSC_EINVAL, "token store path %s ends with '/'",
                    wsc__store_shown(path, sp));
        return NULL;
    }

    wsc_store *s = wsc__calloc(1, sizeof *s);
    if (!s || !(s->path = wsc__strdup(path))) {
        wsc__free(s);
        wsc__seterr(err, WSC_ENOMEM, "out of memory");
        return NULL;
    }
    s->busy_ms = env_busy_ms();
    if (!(lazy && wsc__store_absent(path)) && wsc__store_open_db(s, err) != WSC_OK) {
        wsc_store_close(s);
        return NULL;
    }
    if (err) {
        err->code = WSC_OK;
        err->message[0] = '\0';
    }
    return s;
}

/* Also used by the first read or write of a lazily opened store (store.c). */
int wsc__store_open_db(wsc_store *s, wsc_error *err) {
    const char *path = s->path;
    char sp[SHOWN_MAX + 1];
    struct stat id, now;
    memset(&id, 0, sizeof id);
    if (prepare_file(path, &id, err) != WSC_OK) goto fail;

    char *sqlpath = resolved_path(path, err);
    if (!sqlpath) goto fail;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_NOFOLLOW
    flags |= SQLITE_OPEN_NOFOLLOW;
#endif
    int rc = sqlite3_open_v2(sqlpath, &s->db, flags, NULL);
    int same = rc == SQLITE_OK && lstat(sqlpath, &now) == 0 && now.st_dev == id.st_dev &&
               now.st_ino == id.st_ino;
    wsc__free(sqlpath);
    if (rc != SQLITE_OK) {
        if (!s->db) {
            wsc__seterr(err, WSC_ENOMEM, "out of memory");
        } else {
            int ext = sqlite3_extended_errcode(s->db);
            if (ext == SQLITE_CANTOPEN_SYMLINK)
                wsc__seterr(err, WSC_ESTORE,
                            "refusing to open token store %s: it is a symbolic link",
                            wsc__store_shown(path, sp));
            else
                wsc__store_error(s, ext, err);
        }
        goto fail;
    }
    if (!same) {
        wsc__seterr(err, WSC_ESTORE, "token store %s was replaced while it was being opened",
                    wsc__store_shown(path, sp));
        goto fail;
    }

    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, s->busy_ms);
#ifdef SQLITE_DBCONFIG_DEFENSIVE
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
#endif
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
#endif
    /* Deleted and overwritten tokens are zeroed in the file, not just unlinked. */
    rc = exec1(s->db, "PRAGMA secure_delete = ON");
    if (rc != SQLITE_OK) {
        wsc__store_error(s, rc, err);
        goto fail;
    }
    /* Rollback journal, deleted at each commit: no -wal/-shm files, no old
       tokens kept in a log, and the journal gets the database file's mode. */
    sqlite3_stmt *jm = NULL;
    rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = DELETE", -1, &jm, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(jm);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(jm, 0);
            rc = SQLITE_OK;
            if (!mode || strcmp(mode, "delete") != 0) {
                wsc__seterr(err, WSC_ESTORE,
                            "token store %s: cannot switch to the rollback journal (mode %s)",
                            wsc__store_shown(path, sp), mode ? mode : "unknown");
                sqlite3_finalize(jm);
                goto fail;
            }
        }
    }
    sqlite3_finalize(jm);
    if (rc != SQLITE_OK) {
        wsc__store_error(s, rc, err);
        goto fail;
    }
    if (check_integrity(s, err) != WSC_OK || setup_schema(s, err) != WSC_OK || prepare_all(s, err) != WSC_OK)
        goto fail;
    return WSC_OK;

fail:
    close_db(s);
    return err && err->code ? err->code : WSC_ESTORE;
}
