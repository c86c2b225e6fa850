/*
 * http.h - the sans-I/O handshake layer: WebSocket URLs, the HTTP/1.1
 * Upgrade handshake (client and server sides) and permessage-deflate
 * negotiation (RFC 6455 sections 1.3, 4, 11; RFC 7692 sections 5 and 7;
 * RFC 7230; RFC 3986).
 *
 * Nothing here touches a socket or a clock, and nothing allocates except
 * by growing a wsc_buf the caller hands in (through wsc_buf_append, so with
 * the allocator hooks of wsc.h). Parsers are picohttpparser-shaped: they
 * never copy, and every string they report is a span (pointer + length)
 * into the caller's input, valid as long as that input is. Randomness is
 * the caller's: the client key is built from 16 bytes the caller supplies.
 *
 * Builders that write into a wsc_buf append to what it already holds; when
 * they fail, nothing was appended (the pending bytes are exactly those
 * that were there before the call).
 *
 * Error messages (wsc_error.message) name the problem and never quote a
 * secret: cookie values, Authorization values, user information of a URL
 * and tokens are never copied into them.
 */
#ifndef WSC_HTTP_H
#define WSC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "wsc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Spans and header fields                                             */
/* ------------------------------------------------------------------ */

/*
 * A borrowed string: len bytes at ptr, not NUL-terminated. ptr == NULL means
 * "absent", which some fields distinguish from "present and empty"
 * (ptr != NULL, len == 0).
 */
typedef struct wsc_span {
    const char *ptr;
    size_t len;
} wsc_span;

/* The span of a C string; {NULL, 0} for NULL. */
static inline wsc_span wsc_span_str(const char *s) {
    wsc_span sp = {s, 0};
    if (s)
        while (s[sp.len]) sp.len++;
    return sp;
}

/*
 * One header field: a name and a value (both spans). Parsers fill it with
 * spans into the parsed buffer, the value trimmed of surrounding whitespace;
 * builders take it for caller-supplied extra headers.
 */
typedef struct wsc_header {
    wsc_span name;
    wsc_span value;
} wsc_header;

/* Non-zero if s[0..len) is a non-empty RFC 7230 token (1*tchar). */
WSC_API int wsc_http_is_token(const char *s, size_t len);

/*
 * Finds the next header named `name` (ASCII case-insensitive) among
 * headers[*pos..n). Returns it and sets *pos to the index after it, or
 * returns NULL (and leaves *pos unchanged) when there is none. Start with
 * *pos = 0 to iterate over every occurrence.
 */
WSC_API const wsc_header *wsc_http_header_next(const wsc_header *headers, size_t n, const char *name,
                                               size_t *pos);

/*
 * Iterator over the elements of a comma-separated header list (RFC 7230
 * section 7, "#rule") spread over every header with a given name, in order.
 * A zeroed struct starts at the beginning.
 */
typedef struct wsc_list_iter {
    size_t header; /* index of the header being read */
    size_t off;    /* offset inside its value */
} wsc_list_iter;

/*
 * Stores in *elem the next non-empty element (trimmed of whitespace) of the
 * lists in all headers named `name` and returns 1; returns 0 at the end.
 * Elements are split at every comma: use it for lists of tokens
 * (Connection, Upgrade, Sec-WebSocket-Protocol), not for lists whose
 * elements may contain quoted commas (Sec-WebSocket-Extensions).
 */
WSC_API int wsc_http_list_next(const wsc_header *headers, size_t n, const char *name, wsc_list_iter *it,
                               wsc_span *elem);

/* ------------------------------------------------------------------ */
/* 1. URLs                                                             */
/* ------------------------------------------------------------------ */

enum wsc_url_scheme {
    WSC_SCHEME_WS = 0,       /* ws:, and http: mapped to it */
    WSC_SCHEME_WSS = 1,      /* wss:, and https: mapped to it */
    WSC_SCHEME_WS_UNIX = 2,  /* ws+unix: (node ws's form), plain text over a Unix socket */
    WSC_SCHEME_WSS_UNIX = 3  /* wss+unix: TLS over a Unix socket */
};

enum wsc_host_kind {
    WSC_HOST_NONE = 0, /* Unix-socket URLs have no host */
    WSC_HOST_NAME = 1, /* a registered name (to resolve) */
    WSC_HOST_IPV4 = 2, /* a dotted quad */
    WSC_HOST_IPV6 = 3  /* an IPv6 literal (written in brackets in the URL) */
};

/*
 * A parsed WebSocket URL. Every span points into the string given to
 * wsc_url_parse() (except `path` when the URL has none: it then points to a
 * static "/"), so the struct is valid as long as that string is.
 *
 * Accepted forms:
 *   ws://[user[:password]@]host[:port][/path][?query]   (also wss, http, https)
 *   ws+unix:/socket/path[:/request/path][?query]        (also wss+unix, and
 *   ws+unix:///socket/path[...] with an empty authority)
 * For the Unix forms the socket path runs up to the first ':' or '?'
 * after it; the request path starts at that ':' (it defaults to "/").
 */
typedef struct wsc_url {
    int scheme;        /* enum wsc_url_scheme (http/https already mapped) */
    int secure;        /* 1 for wss, https, wss+unix */
    wsc_span scheme_text; /* the scheme as written, e.g. "HTTPS" */
    wsc_span userinfo; /* "user:pass" before '@' (ptr NULL if none) */
    wsc_span user;     /* its part before the first ':' (ptr NULL if no userinfo) */
    wsc_span password; /* its part after the first ':' (ptr NULL if no ':') */
    wsc_span host;     /* without brackets, as written (ptr NULL for Unix sockets) */
    int host_kind;     /* enum wsc_host_kind */
    uint16_t port;     /* explicit or default (80 / 443); 0 for Unix sockets */
    int port_explicit; /* 1 if the URL carried a non-empty port */
    wsc_span path;     /* request path as given, starts with '/'; "/" by default */
    wsc_span query;    /* after '?', without it (ptr NULL if no '?') */
    wsc_span socket_path; /* Unix socket path (ptr NULL for network URLs) */
    uint64_t reserved[4]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_url;

/*
 * Parses url[0..len).
 *   - Scheme, case-insensitive: ws, wss, http (-> ws), https (-> wss),
 *     ws+unix, wss+unix. Anything else: "unsupported scheme 'ftp'".
 *   - Host: a registered name (ASCII letters, digits, '-', '.', '_'), a
 *     dotted quad (a host whose last label is numeric must be one: no
 *     "127.1" or "0x7f.0.0.1" shorthands), or a bracketed IPv6 literal
 *     (checked with inet_pton; zone ids are refused). Non-ASCII and
 *     percent-encoded hosts are refused (use the punycode form).
 *   - Port: decimal 1-65535; "host:" means the default port.
 *   - Path and query are kept as given. A fragment ('#') is refused, and so
 *     is any control character (0x00-0x1F, 0x7F) anywhere in the URL.
 * Returns WSC_OK and fills *u, or WSC_EURL and fills err with a message
 * naming the problem ("unsupported scheme 'ftp'", "bad port '99999'",
 * "URL fragments are not allowed in WebSocket URLs", "empty host"); *u is
 * then unspecified. WSC_EINVAL if url or u is NULL. The message never
 * contains the user information.
 */
WSC_API int wsc_url_parse(const char *url, size_t len, wsc_url *u, wsc_error *err);

/* Largest origin wsc_url_origin() can produce for a network URL (NUL included). */
#define WSC_URL_ORIGIN_MAX 300

/*
 * Writes the canonical origin of u as a NUL-terminated string into
 * out[0..cap): "scheme://host:port" with the scheme "ws" or "wss", the host
 * lower-cased (an IPv6 literal in its inet_ntop form, in brackets) and the
 * port always written; "ws+unix://<socket path>" (or wss+unix) for Unix
 * sockets. This is the key the CSRF token store uses.
 * Returns the length written (without the NUL), or WSC_ETOOBIG if it does
 * not fit (out then holds an empty string if cap > 0), or WSC_EINVAL if u
 * is invalid.
 */
WSC_API int wsc_url_origin(const wsc_url *u, char *out, size_t cap);

/*
 * Appends the Authorization header value for the URL's user information,
 * as curl sends it: "Basic " and the base64 of user ":" password, each
 * percent-decoded (%XX; a malformed escape stands for itself; '+' is not
 * decoded). A URL with "user@" and no password sends "user:".
 * Returns WSC_OK, WSC_EINVAL (u is NULL or has no user information;
 * nothing appended), WSC_ENOMEM or WSC_ETOOBIG (nothing appended).
 * The value is a credential: never log it.
 */
WSC_API int wsc_url_basic_auth(const wsc_url *u, wsc_buf *out);

/*
 * Appends to out a copy of query[0..qlen) (a query string without '?',
 * query may be NULL when qlen is 0) in which the parameter `name` has the
 * value `value`: the first parameter whose decoded name equals `name` is
 * replaced in place by name=value, later parameters with that name are
 * removed, every other parameter is kept byte for byte and in order; if
 * there was none, name=value is appended (after a '&' when the query is
 * non-empty and does not already end with one). Name and value are
 * percent-encoded except for RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~). Names in the query are compared after decoding
 * (%XX, and '+' as a space, as HTML forms encode it). query must not point
 * into out (growing out may move it). Costs O(qlen).
 * Returns WSC_OK, or WSC_EINVAL (NULL name or value), WSC_ENOMEM or
 * WSC_ETOOBIG (nothing appended).
 */
WSC_API int wsc_query_set(const char *query, size_t qlen, const char *name, const char *value,
                          wsc_buf *out);

/*
 * Looks up the first parameter named `name` in query[0..qlen) (names are
 * compared after decoding) and decodes its value (%XX escapes, '+' as a
 * space) into out[0..cap), NUL-terminated; *out_len receives the decoded
 * length without the NUL (the value may contain NUL bytes from %00).
 * A parameter without '=' has an empty value.
 * Returns 1 if found, 0 if not (out untouched), WSC_ETOOBIG if the decoded
 * value and its NUL do not fit in cap bytes, WSC_EINVAL for a malformed
 * escape in that value (e.g. "%zz") or NULL arguments.
 */
WSC_API int wsc_query_get(const char *query, size_t qlen, const char *name, char *out, size_t cap,
                          size_t *out_len);

/*
 * Looks up the cookie `name` (case-sensitive) in a Cookie header value
 * (RFC 6265 section 4.2: "name=value" pairs separated by ';', whitespace
 * around names and values ignored; pairs without '=' skipped). A value in
 * double quotes is returned without them. On success *value points into
 * hdr. Returns 1 if found (the first occurrence wins), 0 if not (or if an
 * argument is NULL).
 */
WSC_API int wsc_cookie_get(const char *hdr, size_t len, const char *name, const char **value,
                           size_t *value_len);

/* ------------------------------------------------------------------ */
/* 2. HTTP message parsing                                             */
/* ------------------------------------------------------------------ */

/* Largest number of header fields a parsed message may have. */
#define WSC_HTTP_MAX_HEADERS 64
/* Default limit of a header block (request/status line through the blank line). */
#define WSC_HTTP_DEFAULT_MAX_HEADER_BYTES 16384

typedef struct wsc_http_response {
    int major, minor;     /* HTTP version (major is always 1) */
    int status;           /* 100..999 */
    wsc_span reason;      /* reason phrase, possibly empty */
    size_t n_headers;
    wsc_header headers[WSC_HTTP_MAX_HEADERS];
    const char *error;    /* after a failure: a static message naming the problem */
    uint64_t reserved[4]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_http_response;

typedef struct wsc_http_request {
    wsc_span method;      /* a token, e.g. "GET" */
    wsc_span target;      /* request-target as sent */
    int major, minor;     /* HTTP version */
    size_t n_headers;
    wsc_header headers[WSC_HTTP_MAX_HEADERS];
    const char *error;    /* after a failure: a static message naming the problem */
    uint64_t reserved[4]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_http_request;

/*
 * Parses an HTTP/1.x response head at buf[0..len).
 *
 * The head ends with the first empty line; lines end with CRLF (a bare CR
 * or LF is an error); obsolete line folding, whitespace before the colon,
 * control characters other than HTAB in values and more than
 * WSC_HTTP_MAX_HEADERS fields are errors. Header values are trimmed of
 * surrounding spaces and tabs. Bytes after the head (WebSocket frames may
 * arrive in the same read) are not looked at.
 *
 * last_len is the value of len at the previous call on the same (grown)
 * buffer when that call returned WSC_EAGAIN, 0 the first time (and
 * whenever unsure): the search for the end of the head resumes there
 * instead of rescanning, so feeding a head byte by byte costs O(n) in all.
 * A last_len larger than the previous incomplete length can miss the end
 * of the head. max_header_bytes bounds the head (0:
 * WSC_HTTP_DEFAULT_MAX_HEADER_BYTES).
 *
 * Returns:
 *   > 0             the length of the head (frames start at buf + return);
 *                   *r is filled with spans into buf
 *   WSC_EAGAIN      the head is incomplete: read more and call again
 *   WSC_ETOOBIG     the head exceeds max_header_bytes, or has more than
 *                   WSC_HTTP_MAX_HEADERS fields (r->error says which)
 *   WSC_EHANDSHAKE  malformed (r->error names the problem); detected as
 *                   early as the first bytes when they cannot start a
 *                   response
 *   WSC_EINVAL      buf or r is NULL
 * After a failure only r->error is meaningful.
 */
WSC_API int wsc_http_parse_response(const char *buf, size_t len, size_t last_len, wsc_http_response *r,
                                    size_t max_header_bytes);

/*
 * Parses an HTTP/1.x request head at buf[0..len); the same contract as
 * wsc_http_parse_response(). The request line is method (a token), one
 * space, a target (printable ASCII, no spaces), one space, "HTTP/d.d".
 */
WSC_API int wsc_http_parse_request(const char *buf, size_t len, size_t last_len, wsc_http_request *r,
                                   size_t max_header_bytes);

/* ------------------------------------------------------------------ */
/* 3. Client side of the handshake                                     */
/* ------------------------------------------------------------------ */

/* The GUID of RFC 6455 section 1.3. */
#define WSC_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/*
 * Writes the Sec-WebSocket-Key for 16 random bytes: their base64 form,
 * 24 characters and a NUL. Cannot fail.
 */
WSC_API void wsc_handshake_key(const uint8_t raw[16], char out[25]);

/*
 * Writes base64(SHA-1(key + GUID)) (28 characters and a NUL) into out: the
 * Sec-WebSocket-Accept answering key[0..key_len).
 * Returns WSC_OK, WSC_EINVAL (key NULL with key_len > 0) or WSC_ENOMEM if
 * libcrypto fails (out is "" after a failure).
 */
WSC_API int wsc_handshake_accept(const char *key, size_t key_len, char out[29]);

/*
 * What goes into the client's opening handshake. Unused fields zeroed.
 * A span with ptr NULL (or len 0) is omitted, except user_agent.
 */
typedef struct wsc_handshake_req {
    wsc_span host;      /* as in the URL; an IPv6 literal without brackets
                           (they are added) */
    uint16_t port;
    int show_port;      /* write ":port" in Host (only when not the default) */
    wsc_span path;      /* starts with '/'; ptr NULL: "/" */
    wsc_span query;     /* without '?'; ptr NULL: no '?' */
    const char *key;    /* Sec-WebSocket-Key (from wsc_handshake_key) */
    const char *const *protocols; /* NULL-terminated subprotocol list, or NULL */
    wsc_span extensions; /* Sec-WebSocket-Extensions offer (wsc_pmd_offer_format) */
    wsc_span origin;
    wsc_span cookie;    /* the whole Cookie header value */
    wsc_span user_agent; /* ptr NULL: "wsc/<version>"; ptr set, len 0: none */
    wsc_span authorization;
    const wsc_header *headers; /* extra headers, written last in order */
    size_t n_headers;
    uint64_t reserved[4]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_handshake_req;

/*
 * Fills req->host, port, show_port, path and query from a parsed URL (the
 * other fields are left alone). show_port is set when the port is not the
 * scheme's default, as browsers do. For a Unix-socket URL the host is
 * "localhost" and no port is shown.
 */
WSC_API void wsc_handshake_req_from_url(wsc_handshake_req *req, const wsc_url *u);

/*
 * Validates req and appends the request to out:
 *   GET <path>[?<query>] HTTP/1.1
 *   Host, Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Key,
 *   Sec-WebSocket-Version: 13, Sec-WebSocket-Protocol (", "-joined),
 *   Sec-WebSocket-Extensions, Origin, Cookie, User-Agent, Authorization,
 *   the extra headers, and the blank line.
 * In the target, space, '"', '<', '>', '`', '{', '}' and bytes >= 0x80 are
 * percent-encoded; everything else is written as given.
 *
 * Refused with WSC_EINVAL and a message naming the field (never its value):
 *   - a key that is not 16 bytes in base64 (22 characters and "=="),
 *     show_port with port 0,
 *   - a missing host, a host with characters other than letters,
 *     digits, '-', '.', '_' (and ':' for IPv6), a path not starting with
 *     '/', a '#' or control character in path or query;
 *   - a subprotocol that is not an RFC 7230 token, or listed twice
 *     (compared case-sensitively, as browsers do);
 *   - an extra header whose name is not a token or is one the library
 *     writes (Host, Upgrade, Connection, Sec-WebSocket-*, Content-Length,
 *     Transfer-Encoding, and Origin, Cookie, User-Agent, Authorization
 *     when the corresponding field is in use);
 *   - CR, LF or NUL in any header value, any other control character
 *     except HTAB (header injection is impossible).
 * Returns WSC_OK, WSC_EINVAL, WSC_ENOMEM or WSC_ETOOBIG; on failure
 * nothing was appended.
 */
WSC_API int wsc_handshake_request(const wsc_handshake_req *req, wsc_buf *out, wsc_error *err);

/* permessage-deflate offer (client), RFC 7692 section 7.1. Zeroed:
   "permessage-deflate; client_max_window_bits", as Chrome offers. */
typedef struct wsc_pmd_offer {
    int server_no_context_takeover; /* ask the server to reset its context */
    int client_no_context_takeover; /* announce that we reset ours */
    int server_max_window_bits;     /* 0: not sent; 8..15: limit the server's window */
    int client_max_window_bits;     /* -1: not sent; 0: sent without a value
                                       ("I support it"); 8..15: with that value */
} wsc_pmd_offer;

/*
 * Appends the offer as a Sec-WebSocket-Extensions value, e.g.
 * "permessage-deflate; server_max_window_bits=10; client_max_window_bits".
 * Returns WSC_OK, WSC_EINVAL (a window value out of range; nothing
 * appended), WSC_ENOMEM or WSC_ETOOBIG (nothing appended).
 */
WSC_API int wsc_pmd_offer_format(const wsc_pmd_offer *offer, wsc_buf *out);

/*
 * Validates a server's Sec-WebSocket-Extensions value against our offer
 * (NULL: nothing was offered) and fills *out. Rules: at most one
 * permessage-deflate element, and no other extension (we offered none);
 * its parameters must be known, each at most once; window bits are 8..15
 * written in decimal without leading zeros, as a token or a quoted string
 * (whose unescaped content follows the same rule); *_no_context_takeover
 * have no value; client_max_window_bits only if we offered it, not above
 * the value we offered; server_max_window_bits not above the value we
 * offered, and present if we offered it; server_no_context_takeover present
 * if we asked for it.
 * out: enabled = 1 and the negotiated values (windows default to 15; our
 * own window is the one the server set, else the one we offered), or
 * enabled = 0 when the value holds no element.
 * Returns WSC_OK or WSC_EEXTENSION (err names the problem; *out is zeroed).
 */
WSC_API int wsc_pmd_check_response(const char *value, size_t len, const wsc_pmd_offer *offer,
                                   wsc_pmd_params *out, wsc_error *err);

/* What wsc_handshake_check_response() found. Spans point into the buffer the
   response was parsed from, and `response` must outlive the result. */
typedef struct wsc_handshake_result {
    int status;          /* the HTTP status */
    wsc_span reason;     /* its reason phrase */
    wsc_span location;   /* Location header (ptr NULL if none), set for any status */
    wsc_span protocol;   /* selected subprotocol (ptr NULL if none) */
    wsc_span extensions; /* the Sec-WebSocket-Extensions value that was accepted,
                            as received (ptr NULL if none): the `extensions`
                            attribute of the connection */
    wsc_pmd_params pmd;  /* negotiated permessage-deflate (enabled 0 if off) */
    const wsc_http_response *response; /* the response checked (for Set-Cookie) */
    uint64_t reserved[4]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_handshake_result;

/*
 * Checks a parsed response against what the client sent: `key` is the
 * Sec-WebSocket-Key sent (the expected Accept is computed from it),
 * `protocols` the NULL-terminated list offered (or NULL), `pmd_offer` the
 * permessage-deflate offer sent (NULL if none).
 *
 * Requires status 101, exactly one Upgrade header equal to "websocket"
 * (case-insensitive), a Connection list containing "upgrade"
 * (case-insensitive), exactly one Sec-WebSocket-Accept equal to the expected
 * value, at most one Sec-WebSocket-Protocol and only a value that was
 * offered (none at all is allowed, as browsers allow it), and extensions
 * accepted by wsc_pmd_check_response().
 *
 * res is filled as far as the check went (status, reason and location
 * always; res->response always points to `response`).
 * Returns:
 *   WSC_OK          the handshake succeeded
 *   WSC_EHTTP       the status is not 101 ("server answered 403 Forbidden");
 *                   res->location is set for redirects
 *   WSC_EHANDSHAKE  a header is missing or wrong ("Sec-WebSocket-Accept
 *                   mismatch", "missing Upgrade header", ...)
 *   WSC_EEXTENSION  the extensions do not match the offer
 *   WSC_EINVAL      NULL response, key or res
 */
WSC_API int wsc_handshake_check_response(const wsc_http_response *response, const char *key,
                                         const char *const *protocols, const wsc_pmd_offer *pmd_offer,
                                         wsc_handshake_result *res, wsc_error *err);

/*
 * Iterates over the Set-Cookie values of the checked response: start with
 * *pos = 0; each call stores the next value in *value and returns 1, or
 * returns 0 when there are no more.
 */
WSC_API int wsc_handshake_next_set_cookie(const wsc_handshake_result *res, size_t *pos, wsc_span *value);

/* ------------------------------------------------------------------ */
/* 4. Server side of the handshake                                     */
/* ------------------------------------------------------------------ */

/* What wsc_handshake_check_request() found. Spans point into the request. */
typedef struct wsc_ws_request_info {
    int status;       /* HTTP status to answer when the check failed:
                         400, 405 (answer with "Allow: GET") or 426 (answer
                         with "Sec-WebSocket-Version: 13"); 0 on success */
    wsc_span key;     /* Sec-WebSocket-Key */
    wsc_span host;    /* Host */
    wsc_span path;    /* target up to '?' */
    wsc_span query;   /* after '?' (ptr NULL if none) */
    wsc_span origin;  /* Origin (ptr NULL if absent) */
    wsc_span cookie;  /* the Cookie header (ptr NULL if absent) */
    const wsc_http_request *request; /* for the iterators below */
    uint64_t reserved[4]; /* zero; future fields are taken from here (abi/README.md) */
} wsc_ws_request_info;

/*
 * Checks that a parsed request is a WebSocket opening handshake (RFC 6455
 * section 4.2.1): method GET (else 405), HTTP/1.1 or later, exactly one
 * Host, an origin-form target ("/..." without '#'), an Upgrade list
 * containing "websocket", a Connection list containing "upgrade" (both
 * case-insensitive), exactly one Sec-WebSocket-Key made of 22 base64
 * characters and "==" (16 bytes), at most one Origin and one Cookie header
 * (else 400), and Sec-WebSocket-Version exactly "13" (missing or other:
 * 426).
 * Returns WSC_OK with info filled, WSC_EHANDSHAKE with info->status and a
 * message in err (info's other fields are then filled as far as the check
 * went), or WSC_EINVAL for NULL arguments.
 */
WSC_API int wsc_handshake_check_request(const wsc_http_request *request, wsc_ws_request_info *info,
                                        wsc_error *err);

/*
 * Iterates over the offered subprotocols (comma-separated tokens across
 * every Sec-WebSocket-Protocol header, in order). Returns 1 with *proto
 * set, 0 at the end. Start with a zeroed iterator.
 */
WSC_API int wsc_ws_request_next_protocol(const wsc_ws_request_info *info, wsc_list_iter *it,
                                         wsc_span *proto);

/*
 * Iterates over the Sec-WebSocket-Extensions header values of the request
 * (start with *pos = 0; returns 1 with *value set, 0 at the end). For
 * permessage-deflate use wsc_pmd_negotiate_request(), which reads them all.
 */
WSC_API int wsc_ws_request_next_extensions(const wsc_ws_request_info *info, size_t *pos,
                                           wsc_span *value);

/*
 * Appends the 101 answer: status line, Upgrade: websocket,
 * Connection: Upgrade, Sec-WebSocket-Accept computed from key,
 * Sec-WebSocket-Protocol (if protocol.ptr), Sec-WebSocket-Extensions (if
 * extensions.ptr and not empty), the extra headers, the blank line.
 * Refused with WSC_EINVAL (nothing appended): an empty key or one with
 * control characters, a protocol that is not a token, control characters
 * in the extensions value, an extra header whose name is not a token or is
 * Upgrade, Connection, Sec-WebSocket-*, Content-Length or
 * Transfer-Encoding, or whose value has control characters (HTAB aside).
 * Set-Cookie and the like are fine.
 * Returns WSC_OK, WSC_EINVAL, WSC_ENOMEM or WSC_ETOOBIG.
 */
WSC_API int wsc_handshake_response(wsc_span key, wsc_span protocol, wsc_span extensions,
                                   const wsc_header *headers, size_t n_headers, wsc_buf *out,
                                   wsc_error *err);

/*
 * Appends a small error answer:
 *   HTTP/1.1 <status> <reason>
 *   Content-Type: text/plain; charset=utf-8
 *   Content-Length: <length of body>
 *   Connection: close
 *   <extra headers>
 *   <blank line><body>
 * status must be 200..599 (a 1xx answer cannot carry a body); reason NULL
 * picks the standard phrase (400 Bad Request, 403 Forbidden, 404 Not Found,
 * 405 Method Not Allowed, 426 Upgrade Required, 500 Internal Server Error,
 * ..., "Error" otherwise); body NULL is empty. Extra headers are checked
 * as for wsc_handshake_request() and may not be Content-Type,
 * Content-Length, Connection or Transfer-Encoding (Sec-WebSocket-Version,
 * for a 426, and Allow, for a 405, are fine).
 * Returns WSC_OK, WSC_EINVAL (bad status, control characters in the reason,
 * bad extra header; err names it), WSC_ENOMEM or WSC_ETOOBIG; on failure
 * nothing was appended.
 */
WSC_API int wsc_http_error_response(int status, const char *reason, const char *body,
                                    const wsc_header *headers, size_t n_headers, wsc_buf *out,
                                    wsc_error *err);

/* permessage-deflate policy of a server. Zeroed: accept the client's
   parameters, ask for nothing. */
typedef struct wsc_pmd_server_config {
    int server_no_context_takeover; /* always reset our compressor (announced) */
    int client_no_context_takeover; /* ask the client to reset its compressor */
    int server_max_window_bits;     /* 0: 15; 8..15: largest window we compress with */
    int client_max_window_bits;     /* 0: no request; 8..15: ask the client for at most
                                       this window when it said it supports the parameter */
    int require_client_max_window_bits; /* decline offers that cannot limit the client
                                           window to client_max_window_bits */
} wsc_pmd_server_config;

/*
 * Negotiates permessage-deflate from a Sec-WebSocket-Extensions value
 * offers[0..len) (RFC 7692 section 5: offers in the client's order of
 * preference, other extensions ignored). The first permessage-deflate offer
 * that is valid (known parameters, each once, values as in
 * wsc_pmd_check_response) and acceptable under cfg (NULL: defaults) is
 * accepted: out gets the parameters in force (enabled = 1) and the
 * response value ("permessage-deflate; ...") is appended to response_value.
 * Invalid or unacceptable offers are declined (skipped); when none is left,
 * out->enabled = 0 and nothing is appended.
 * Returns WSC_OK (see out->enabled), WSC_EHANDSHAKE (the value does not
 * follow the extension-list grammar: answer 400; *out zeroed),
 * WSC_EINVAL (bad cfg), WSC_ENOMEM or WSC_ETOOBIG (nothing appended).
 */
WSC_API int wsc_pmd_negotiate_server(const char *offers, size_t len, const wsc_pmd_server_config *cfg,
                                     wsc_pmd_params *out, wsc_buf *response_value);

/*
 * The same over every Sec-WebSocket-Extensions header of a request, in
 * order (as if they were one comma-joined list).
 */
WSC_API int wsc_pmd_negotiate_request(const wsc_http_request *request, const wsc_pmd_server_config *cfg,
                                      wsc_pmd_params *out, wsc_buf *response_value);

#ifdef __cplusplus
}
#endif
#endif /* WSC_HTTP_H */
