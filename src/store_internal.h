/*
 * store_internal.h - what the two halves of the token store share:
 * store_open.c finds, checks and opens the file; store.c validates input,
 * words messages and runs the queries. Private to src/store*.c.
 */
#ifndef WSC_STORE_INTERNAL_H
#define WSC_STORE_INTERNAL_H

#include <stddef.h>

#include <sqlite3.h>

#include "internal.h"
#include "wsc/store.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* Paths are shown in messages at most this long (the middle is elided). */
#define SHOWN_MAX 150

struct wsc_store {
    sqlite3 *db;
    char *path;
    int busy_ms;
    sqlite3_stmt *st_get, *st_set, *st_del, *st_list;
    sqlite3_stmt *st_begin, *st_commit, *st_rollback;
};

/* store.c: messages. */

/* A one-line, bounded rendering of path for messages (out: SHOWN_MAX + 1). */
const char *wsc__store_shown(const char *path, char *out);
/* strerror_r's text for errno value e, in buf. */
const char *wsc__store_oserr(int e, char *buf, size_t cap);
/* Fills err for SQLite result rc (an extended code) met while using s. */
int wsc__store_error(wsc_store *s, int rc, wsc_error *err);

/* store_open.c: the file. */

/* Creates or opens the file at s->path and the database in it. On failure
   nothing is left open (s->db NULL). */
int wsc__store_open_db(wsc_store *s, wsc_error *err);
/* Nothing at path yet (not even a dangling link). */
int wsc__store_absent(const char *path);

#endif
