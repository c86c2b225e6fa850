/*
 * store.h - the persistent CSRF token store.
 *
 * The "double authentication token" of the client (client.h; wsc-client(3))
 * lives in a small SQLite database: one row per (origin, key) holding the
 * token and the time it was last written. The origin is the canonical
 * "scheme://host:port" string the URL layer produces ("wss://example.com:443")
 * and is compared byte for byte; the key names the token, WSC_STORE_DEFAULT_KEY
 * ("csrf_token") unless the program chooses another.
 *
 * Files and permissions
 *   - The database file is created by wsc itself with mode 0600 whatever the
 *     umask is. An existing file that group or others may write to is
 *     refused (WSC_ESTORE "refusing to use token store <path>: it is writable
 *     by its group|others (chmod 600 <path>)"): someone else may have put a
 *     token in it. One they may only read is tightened to 0600 when it
 *     belongs to the effective user; a file that belongs to another user and
 *     is not writable by others is used as it is (its owner decides).
 *   - Missing parent directories are created, each with mode 0700 whatever the
 *     umask is; directories that already exist are left as they are, but
 *     every directory on the path (from "/", or from "." for a relative path)
 *     that group or others may write to, and that is not sticky like /tmp,
 *     is refused as ssh refuses such a directory for its keys ("refusing to
 *     use token store directory <dir>: it is writable by ... (chmod go-w
 *     <dir>)"): its writers could replace the store.
 *   - A symbolic link at the database path is refused (O_NOFOLLOW), so is
 *     anything that is not a regular file. Symbolic links in the directories
 *     above it are followed.
 *   - The store uses SQLite's rollback journal in DELETE mode (a database found
 *     in WAL mode is switched back). The journal, "<path>-journal", exists only
 *     while a write is in progress and SQLite gives it the database file's
 *     mode (0600); no -wal or -shm file is ever left. Old tokens therefore do
 *     not survive in a write-ahead log, and PRAGMA secure_delete=ON zeroes the
 *     bytes of overwritten and deleted tokens inside the database file.
 *
 * Several processes
 *   Any number of processes (and handles) may use one file at once. Every
 *   write is one transaction taken with BEGIN IMMEDIATE. A call that finds
 *   the database locked by another connection waits up to the busy timeout,
 *   WSC_STORE_BUSY_MS_DEFAULT (5000 ms) unless the environment variable
 *   WSC_STORE_BUSY_MS (read by wsc_store_open(); a decimal number of
 *   milliseconds, 0 to WSC_STORE_BUSY_MS_MAX; anything else is ignored) or
 *   wsc_store_set_busy_timeout() says otherwise, and then fails with
 *   WSC_ESTORE "token store <path> is locked by another process".
 *
 * Threads
 *   A wsc_store handle must be used by one thread at a time (the caller
 *   serialises); different handles, on the same file or not, may be used by
 *   different threads at the same time. A handle does not survive fork(): the
 *   child opens its own (it may close the inherited one; no transaction is
 *   ever left open between calls). Functions that take no handle are
 *   thread-safe, except wsc_store_default_path() and wsc_store_open(), which
 *   read the environment (do not call setenv() concurrently).
 *
 * Errors
 *   Every function that can fail returns WSC_OK or a negative wsc_err code and
 *   fills the optional wsc_error. Messages name the file and the reason (the
 *   OS's or SQLite's), never a token. WSC_ESTORE covers every failure of the
 *   file or the database: corrupt ("token store <path> is not a valid database
 *   (corrupt?)"), locked, unwritable, wrong kind of file, written by another
 *   application or a newer wsc. Unless a function's text says otherwise, an
 *   error leaves the stored data unchanged (the transaction is rolled back)
 *   and the handle usable: retrying after the cause is gone (a lock released,
 *   a file repaired) succeeds; wsc_store_close() is always allowed.
 *
 * Secrets
 *   Tokens are bound to SQL statements as parameters (never formatted into
 *   SQL), never copied into error messages, and wsc_store_free() wipes the
 *   copies it hands out. SQLite's own page cache may hold a copy until the
 *   handle is closed; it is freed, not wiped.
 */
#ifndef WSC_STORE_H
#define WSC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The key under which the CSRF token of an origin is kept by default. */
#define WSC_STORE_DEFAULT_KEY "csrf_token"
/* Longest token accepted, in bytes. */
#define WSC_TOKEN_MAX 4096
/* Longest origin and key accepted, in bytes. */
#define WSC_STORE_ORIGIN_MAX 1024
#define WSC_STORE_KEY_MAX 128
/* Busy timeout: the default, and the largest value accepted (ms). */
#define WSC_STORE_BUSY_MS_DEFAULT 5000
#define WSC_STORE_BUSY_MS_MAX 3600000

typedef struct wsc_store wsc_store;

/*
 * Returns 1 if token[0..len) can travel as a cookie value and as the csrf
 * query parameter: 1 to WSC_TOKEN_MAX bytes, each an RFC 6265 cookie-octet
 * (%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: printable ASCII except
 * space, DQUOTE, comma, semicolon and backslash). Returns 0 otherwise (also
 * for a NULL token, an embedded NUL, a control character or a non-ASCII byte).
 * Thread-safe, allocates nothing.
 */
WSC_API int wsc_token_valid(const char *token, size_t len);

/*
 * Writes the default store location into buf (cap bytes) and returns buf:
 * "$XDG_STATE_HOME/wsc/tokens.db" when XDG_STATE_HOME is set to an absolute
 * path, else "$HOME/.local/state/wsc/tokens.db" (HOME, or when HOME is unset,
 * empty or relative, the home directory of the effective user in the password
 * database). Returns NULL (buf then holds "") when no home directory can be
 * found or the path does not fit in cap bytes. Creates nothing.
 */
WSC_API const char *wsc_store_default_path(char *buf, size_t cap);

/*
 * Opens the token store at path (NULL: wsc_store_default_path()), creating
 * the file (0600) and its missing parent directories (0700) as described at
 * the top of this header, and the table if the file is new or empty.
 * Returns the handle, or NULL with err filled:
 *   WSC_EINVAL  path is empty, ends with '/', or is longer than PATH_MAX.
 *   WSC_ENOMEM  out of memory.
 *   WSC_ESTORE  no default location; a directory that cannot be created or a
 *               path component that is not a directory; the path is a
 *               symbolic link, a directory or another non-regular file; the
 *               file cannot be opened for reading and writing or its mode
 *               cannot be tightened (the OS reason is given); the file is not
 *               a valid database (corrupt?), belongs to another application
 *               or was written by a newer wsc; the database stayed locked
 *               longer than the busy timeout.
 * A failed open leaves behind only what it created (directories, an empty
 * 0600 file) and nothing open.
 */
WSC_API wsc_store *wsc_store_open(const char *path, wsc_error *err);

/*
 * As wsc_store_open(), except that when nothing exists at path yet, nothing
 * is created now: the handle reads as an empty store (get finds nothing,
 * list lists nothing, delete has nothing to delete) until the first
 * wsc_store_set(), which creates the file and its directories then, with
 * the same checks and errors as wsc_store_open(). A file that another
 * process creates meanwhile is opened by the next call. What a client that
 * only reads tokens uses, so that connecting never leaves a store behind.
 */
WSC_API wsc_store *wsc_store_open_lazy(const char *path, wsc_error *err);

/* Closes the handle and frees it. NULL is allowed. Never fails. */
WSC_API void wsc_store_close(wsc_store *s);

/* The path the store was opened with (the default location if NULL was
   given). Valid until wsc_store_close(). */
WSC_API const char *wsc_store_path(const wsc_store *s);

/*
 * Sets the busy timeout of this handle (0 to WSC_STORE_BUSY_MS_MAX ms; 0
 * means fail at once when the database is locked). WSC_OK, or WSC_EINVAL for
 * a NULL handle or an out-of-range value (nothing changed).
 */
WSC_API int wsc_store_set_busy_timeout(wsc_store *s, int ms);

/*
 * Looks up the token of (origin, key); key NULL means WSC_STORE_DEFAULT_KEY.
 * On WSC_OK *value is a NUL-terminated copy to release with wsc_store_free(),
 * or NULL if the store has no such entry. On any error *value is NULL.
 *   WSC_EINVAL  s, origin or value is NULL; origin or key is empty, too long
 *               or not printable ASCII (0x21-0x7e).
 *   WSC_ENOMEM  out of memory.
 *   WSC_ESTORE  locked, corrupt, I/O error; or the stored value is not a
 *               valid token (the file was edited by hand): it is not returned.
 * Reads only: nothing is changed, the handle stays usable.
 */
WSC_API int wsc_store_get(wsc_store *s, const char *origin, const char *key, char **value,
                          wsc_error *err);

/*
 * Stores value as the token of (origin, key) (key NULL: the default key),
 * replacing any previous one, and records the current time as its update time.
 * The change is durable when WSC_OK is returned.
 *   WSC_EINVAL  s, origin or value is NULL; origin or key invalid (see
 *               wsc_store_get()); value is not wsc_token_valid() (the message
 *               says why without quoting it).
 *   WSC_ENOMEM  out of memory.
 *   WSC_ESTORE  locked, corrupt, read-only, disk full, I/O error.
 * On error the previous token, if any, is still stored.
 */
WSC_API int wsc_store_set(wsc_store *s, const char *origin, const char *key, const char *value,
                          wsc_error *err);

/*
 * Removes the token of (origin, key) (key NULL: the default key). WSC_OK also
 * when there was none. Errors as wsc_store_set() (no value to validate); on
 * error the entry is unchanged.
 */
WSC_API int wsc_store_delete(wsc_store *s, const char *origin, const char *key, wsc_error *err);

/*
 * Calls fn(origin, key, updated, user) for every entry, ordered by origin then
 * key; with origin non-NULL only for that origin's entries. `updated` is the
 * time of the last wsc_store_set() in seconds since the Epoch. Tokens are not
 * passed (use wsc_store_get()). The entries are read first, in one
 * transaction, and fn is called after the database is unlocked, so fn may
 * call any function on the same handle. fn returning non-zero stops the walk;
 * that value is then returned. Returns WSC_OK, or errors as wsc_store_get()
 * (fn not called).
 */
typedef int (*wsc_store_list_fn)(const char *origin, const char *key, int64_t updated,
                                 void *user);
WSC_API int wsc_store_list(wsc_store *s, const char *origin, wsc_store_list_fn fn, void *user,
                           wsc_error *err);

/* Overwrites value (up to its terminating NUL) with zeros, then frees it.
   NULL is allowed. */
WSC_API void wsc_store_free(char *value);

#ifdef __cplusplus
}
#endif
#endif /* WSC_STORE_H */
