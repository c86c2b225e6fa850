/*
 * json.h - wsc's own JSON parser and its read-only view: the client's
 * message path (client.h) at transport speed, without a DOM.
 *
 *   wsc_json_doc *d = wsc_json_doc_new(NULL);
 *   wsc_json_error je;
 *   if (wsc_json_parse(d, text, len, 0, &je) == WSC_OK) {
 *       wsc_json root = wsc_json_root(d);
 *       if (wsc_json_streq(wsc_json_get(root, "op"), "tick")) {
 *           double px;
 *           wsc_json_double(wsc_json_get(root, "price"), &px);
 *       }
 *   }
 *   wsc_json_doc_free(d);
 *
 * The parser validates RFC 8259 exactly: the grammar (any value at the top,
 * surrounded by optional space, tab, CR and LF only), numbers (no leading
 * zeros, no "+", no ".5", no "1."), escapes (\" \\ \/ \b \f \n \r \t \uXXXX,
 * surrogate pairs combined, a lone or reversed surrogate is an error, as in
 * jansson), no control character below 0x20 inside strings, UTF-8 validated
 * (unless the caller says it already is, as a WebSocket text message is),
 * and nothing but whitespace after the value.
 *
 * Limits (wsc_json_limits): nesting depth (default 2048, jansson's own
 * limit) and document size (default and maximum 4 GiB - 2, as offsets are
 * 32-bit). Both are reported as errors, never truncated.
 *
 * What it costs: one node of 16 bytes per value, per member key and per
 * closing bracket, in one array that belongs to the document and is reused
 * by the next parse (grown with wsc's allocator hooks, never shrunk until
 * the document is freed): a document parsed again and again allocates
 * nothing once it has seen its largest message. Strings and numbers are not
 * converted while parsing: a string without escapes is a pointer into the
 * text, one with escapes is unescaped when first asked for (then cached);
 * a number is its text, converted to int64 or double when asked for.
 *
 * On-demand, and where it stops (a design decision): every text is
 * structurally parsed and validated in full by wsc_json_parse(), whatever
 * the caller will read. The client's contract is that invalid JSON reaches
 * the error callback (line, column, raw text) instead of the message
 * callback, and only a full pass can know; a parser that stopped at the
 * first field asked for would hand malformed messages on as valid. Only
 * string unescaping and number conversion are deferred to the accessors,
 * and a member lookup skips nested values in O(1) each. An application
 * that dispatches on one field therefore pays the whole parse plus one
 * lookup (about 25 ns, ~2% of the parse of an 880-byte message; reading and
 * converting every value of it costs 1.3-2.9x the parse again):
 * docs/PERFORMANCE.md, "On-demand parsing".
 *
 * Values are `wsc_json` handles (two words, passed by value). A handle is
 * valid while its document holds the same parse: the next wsc_json_parse()
 * or wsc_json_doc_free() of that document ends it, and so does the end of
 * the text the document points into (see WSC_JSON_COPY). A handle that is
 * "none" (type WSC_JSON_NONE: a missing member, an index out of range, the
 * end of an iteration) is accepted by every function here, which then
 * answers "none", 0, NULL or WSC_EINVAL, so lookups chain without checks:
 * wsc_json_get(wsc_json_get(root, "a"), "b").
 *
 * Threads: a document is used by one thread at a time (lazy unescaping
 * writes into it). Different documents are independent.
 */
#ifndef WSC_JSON_H
#define WSC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t; /* jansson's value (jansson.h), for wsc_json_to_jansson() */

typedef struct wsc_json_doc wsc_json_doc;

/* A value of a parsed document. Zero-initialised: "none". */
typedef struct wsc_json {
    wsc_json_doc *doc; /* NULL: none */
    uint32_t i;        /* the value's node */
} wsc_json;

enum wsc_json_type {
    WSC_JSON_NONE = 0, /* not a value: missing member, out of range, end */
    WSC_JSON_NULL = 1,
    WSC_JSON_FALSE = 2,
    WSC_JSON_TRUE = 3,
    WSC_JSON_NUMBER = 4,
    WSC_JSON_STRING = 5,
    WSC_JSON_ARRAY = 6,
    WSC_JSON_OBJECT = 7
};

/* Limits of a document; zero-initialised means the defaults beside. */
typedef struct wsc_json_limits {
    unsigned max_depth; /* arrays and objects nested deeper fail; default 2048 */
    size_t max_size;    /* longer texts fail with WSC_ETOOBIG; default and
                           maximum 4 GiB - 2 */
} wsc_json_limits;

/* Where and why a parse failed. */
typedef struct wsc_json_error {
    int code;          /* WSC_EJSON, WSC_ETOOBIG, WSC_ENOMEM or WSC_EINVAL */
    int line;          /* 1-based line of the offending byte (LF counts lines) */
    int column;        /* 1-based column in characters (UTF-8 sequences count once) */
    size_t position;   /* byte offset of the offending byte (len at an early end) */
    char message[96];  /* what was wrong, e.g. "expected ',' or '}'"; never
                          quotes the text (it may hold a secret) */
} wsc_json_error;

/* Flags of wsc_json_parse(). */
enum wsc_json_flags {
    /* Copy the text into the document, so that its values outlive the
       caller's buffer. Without it the document points into `text`, which
       must stay unchanged while its values are used. */
    WSC_JSON_COPY = 1,
    /* The caller guarantees that the text is valid UTF-8 (a WebSocket text
       message already is): skip that check. Invalid UTF-8 passed with this
       flag is not detected, and strings handed out may then be invalid. */
    WSC_JSON_TRUSTED_UTF8 = 2,
    /* Fail (WSC_EJSON, "duplicate key") if an object has the same key twice
       (compared after unescaping). Costs a few instructions per key (a
       filter built while parsing); an object's keys are compared only
       where the filter finds two that may be equal. */
    WSC_JSON_NO_DUPLICATES = 4
};

/*
 * Creates an empty document with the given limits (NULL: the defaults).
 * Returns NULL on WSC_ENOMEM. Free it with wsc_json_doc_free().
 */
WSC_API wsc_json_doc *wsc_json_doc_new(const wsc_json_limits *limits);

/* Frees the document and ends every handle into it. NULL is a no-op. */
WSC_API void wsc_json_doc_free(wsc_json_doc *doc);

/*
 * Parses text[0..len) into the document, replacing what it held (every
 * earlier handle into it ends, even if this parse fails).
 * Returns WSC_OK (wsc_json_root() is the value), or:
 *   WSC_EJSON   invalid JSON or invalid UTF-8, or the depth limit exceeded,
 *               or a duplicate key with WSC_JSON_NO_DUPLICATES;
 *   WSC_ETOOBIG len above the size limit;
 *   WSC_ENOMEM  out of memory;
 *   WSC_EINVAL  doc NULL, or text NULL with len > 0.
 * err (may be NULL) gets the code, line, column, position and a message.
 * After a failure the document holds no value (root is "none") and stays
 * usable for the next parse.
 */
WSC_API int wsc_json_parse(wsc_json_doc *doc, const char *text, size_t len, unsigned flags, wsc_json_error *err);

/* The top-level value of the last successful parse, or "none". */
WSC_API wsc_json wsc_json_root(const wsc_json_doc *doc);

/*
 * A copy of the document that owns its text (copied, even if the original
 * pointed into a caller's buffer) and its nodes: the way to keep a message
 * beyond the callback it came in. Strings already unescaped are unescaped
 * again on demand. Independent of the original (either may be freed first).
 * Returns NULL on WSC_ENOMEM or if doc is NULL. O(text + nodes).
 */
WSC_API wsc_json_doc *wsc_json_doc_clone(const wsc_json_doc *doc);

/* The value of `clone` that `v` is in the document it was cloned from (the
   same node), or "none" if v is none, clone is NULL, or v's node is beyond
   clone's. Does not check that clone is one. */
WSC_API wsc_json wsc_json_in(wsc_json_doc *clone, wsc_json v);

/* ---- reading values ---------------------------------------------------- */

/* The enum wsc_json_type of v (WSC_JSON_NONE for none). */
WSC_API int wsc_json_type(wsc_json v);

/* Members of an object or elements of an array; 0 for anything else. O(1). */
WSC_API size_t wsc_json_size(wsc_json v);

/*
 * The value of the member `key` (key[0..key_len), compared after unescaping
 * the document's keys) of object v; "none" if v is not an object or has no
 * such member (or key is NULL with key_len > 0; wsc_json_get(): key NULL).
 * With duplicate keys, the last one (as jansson keeps it).
 * O(members): a scan that skips nested values in O(1) each.
 */
WSC_API wsc_json wsc_json_getn(wsc_json v, const char *key, size_t key_len);
/* wsc_json_getn() with a NUL-terminated key. */
WSC_API wsc_json wsc_json_get(wsc_json v, const char *key);

/* Element `index` of array v (or the index-th member value of an object);
   "none" out of range or for other types. O(index): use iteration to walk. */
WSC_API wsc_json wsc_json_at(wsc_json v, size_t index);

/* Iteration: the first element (member value) of array (object) v, or none
   if it is empty or not a container; then wsc_json_next() of that gives the
   following sibling, or none after the last. O(1) each.
     for (wsc_json e = wsc_json_first(arr); wsc_json_type(e); e = wsc_json_next(e)) ... */
WSC_API wsc_json wsc_json_first(wsc_json v);
WSC_API wsc_json wsc_json_next(wsc_json v);

/*
 * The key of member value v (a value met by iterating an object), its
 * length in *len (may be NULL). NULL (and *len 0) if v is not a member
 * value, or on out of memory while unescaping. Same form and lifetime as
 * wsc_json_string().
 */
WSC_API const char *wsc_json_key(wsc_json v, size_t *len);

/*
 * The bytes of string v, their count in *len (may be NULL). NOT
 * NUL-terminated (and may contain NUL bytes from \u0000): use *len.
 * Without escapes this points into the parsed text (no copy); with
 * escapes it is unescaped into the document on the first call and cached.
 * Valid as long as the handle. NULL (*len 0) if v is not a string or on
 * out of memory while unescaping.
 */
WSC_API const char *wsc_json_string(wsc_json v, size_t *len);

/* Non-zero if v is a string equal to s[0..n) (after unescaping); 0 for
   anything else, s NULL (with n > 0, or for wsc_json_streq) included. */
WSC_API int wsc_json_streqn(wsc_json v, const char *s, size_t n);
/* wsc_json_streqn() with a NUL-terminated s. */
WSC_API int wsc_json_streq(wsc_json v, const char *s);

/*
 * The number v as an int64. WSC_OK; WSC_EINVAL if v is not a number or
 * its text has a fraction or an exponent ("1.0", "1e2": use
 * wsc_json_double()); WSC_ETOOBIG if it is outside int64's range. *out is
 * written only on WSC_OK.
 */
WSC_API int wsc_json_int64(wsc_json v, int64_t *out);

/*
 * The number v as the nearest double (any number form; locale-independent).
 * WSC_OK; WSC_EINVAL if v is not a number; WSC_ETOOBIG if its magnitude
 * overflows a double (e.g. 1e400; *out is then +-HUGE_VAL); WSC_ENOMEM if
 * the number's text is 64 bytes or longer and its NUL-terminated copy
 * cannot be allocated. Underflow gives 0 or a subnormal and WSC_OK. *out is
 * left alone on WSC_EINVAL and WSC_ENOMEM. The result is exactly strtod's
 * in the C locale. Cost: a number of at most 15 significant digits scaled
 * by at most 10^22 either way (prices, coordinates, most measurements) is
 * converted directly, in about a fifth of strtod's instructions; any
 * other goes through a copy and strtod_l.
 */
WSC_API int wsc_json_double(wsc_json v, double *out);

/* The original text of number v (e.g. "1.50e+3"), its length in *len (may
   be NULL); not NUL-terminated. NULL if v is not a number. */
WSC_API const char *wsc_json_number_text(wsc_json v, size_t *len);

/* *out = 1 for true, 0 for false: WSC_OK; WSC_EINVAL for any other type. */
WSC_API int wsc_json_bool(wsc_json v, int *out);

/* The exact bytes of v in the parsed text (a string with its quotes, a
   container from its bracket to the matching one), its length in *len;
   valid JSON on its own. NULL for none. */
WSC_API const char *wsc_json_raw(wsc_json v, size_t *len);

/*
 * v converted to a jansson value: a new reference (json_decref() it).
 * Numbers without fraction and exponent that fit int64 become integers,
 * larger ones and all others reals; object keys in document order, a
 * duplicate key keeps its last value (as json_loadb does). Strings are not
 * checked for UTF-8 again: after a parse with WSC_JSON_TRUSTED_UTF8 of text
 * that was not UTF-8, neither are they.
 * Returns NULL on out of memory, for none, or if a number overflows a
 * double (jansson has no infinity). Cost: one jansson allocation per value
 * plus a hash insertion per member - about as much as json_loadb() minus
 * its lexing, i.e. most of what the view avoids: ask only when needed.
 */
WSC_API struct json_t *wsc_json_to_jansson(wsc_json v);

#ifdef __cplusplus
}
#endif
#endif /* WSC_JSON_H */
