/*
 * ws_plan.h - the client connection's plan: what wsc_ws_new() will send and
 * where it will connect, decided from the URL and the options alone
 * (ws_create.c). A pure function: no loop, socket, clock, randomness or
 * getenv of its own (the key's 16 random bytes and the environment come in
 * as arguments), so every option error and every choice (port, TLS, proxy,
 * SNI, the RFC 6455 4.1 gate) is testable as a table (tests/unit/test_plan.c).
 * Private to the library.
 */
#ifndef WSC_WS_PLAN_H
#define WSC_WS_PLAN_H

#include <stdint.h>

#include "io/transport.h"
#include "wsc/http.h"
#include "wsc/ws.h"

/* Looks up an environment variable; NULL: unset. getenv(3) fits. */
typedef const char *(*wsc__env_fn)(const char *name);

typedef struct wsc__ws_plan {
    wsc_buf request;       /* the whole upgrade request, ready to write */
    char key[25];          /* its Sec-WebSocket-Key (base64 of the 16 bytes) */
    char *origin;          /* the URL's origin, "scheme://host[:port]" */
    char **protocols;      /* NULL-terminated copy of the subprotocol offer, or NULL */
    int offer_pmd;         /* permessage-deflate offered (pmd_offer) */
    wsc_pmd_offer pmd_offer;
    /* Where to connect. The strings of `connect` point into this struct
       (host, unix_path, proxy_host, proxy_auth) or into the options (TLS
       files): a plan is not copied by value once made. */
    wsc_connect_req connect;
    const char *sni;       /* the TLS server name: the host when wss:// to a
                              name, NULL for ws:// or an IP literal (SNI
                              carries names only, RFC 6066 3) */
    char gate_key[300];    /* RFC 6455 4.1: "host:port" in lower case, or
                              "unix:path"; "" with parallel_connect */
    char host[256];
    char unix_path[256];
    char proxy_host[256];
    char proxy_auth[512];  /* "user:pass", decoded; wiped by wsc__ws_plan_free */
} wsc__ws_plan;

/*
 * Fills *plan from url and opts (NULL: defaults) exactly as wsc_ws_new()
 * decides: the URL parsed, every option checked, the proxy chosen
 * (opts->proxy, else the environment through env unless env is NULL or the
 * URL is a Unix socket's, see wsc__env_proxy) and parsed, the request built
 * with the key made from nonce. Returns WSC_OK (err untouched), or (err
 * filled, *plan left
 * empty: nothing to free):
 *   WSC_EINVAL  url NULL, reserved option bytes set, nheaders without
 *               headers, a NULL header name or value, a bad header, an
 *               unsupported or malformed proxy, ...
 *   WSC_EURL    the URL (wsc_url_parse), a host or socket path too long
 *   other codes of wsc_handshake_request() and wsc_pmd_offer_format()
 *   WSC_ENOMEM
 */
int wsc__ws_plan_make(const char *url, const wsc_ws_options *opts, const uint8_t nonce[16], wsc__env_fn env,
                      wsc__ws_plan *plan, wsc_error *err);
/* getenv(3) as a wsc__env_fn: the process's environment. */
const char *wsc__process_env(const char *name);
/* Frees what the plan holds and wipes its credentials; the plan is then
   empty (freeing it again is harmless). */
void wsc__ws_plan_free(wsc__ws_plan *plan);

#endif
