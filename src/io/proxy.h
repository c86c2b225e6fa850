/*
 * proxy.h - tunnels through proxies for the connector (private).
 *
 * Two dialogues, each a small non-blocking state machine over a transport
 * stream to the proxy (a plain socket, or the TLS session with an https://
 * proxy):
 *   - HTTP CONNECT (RFC 9110 9.3.6), with Basic Proxy-Authorization;
 *   - SOCKS5 (RFC 1928) CONNECT, with username/password authentication
 *     (RFC 1929), the target sent as an IP address (socks5://, resolved
 *     locally by the connector) or as a name (socks5h://, resolved by the
 *     proxy).
 * Nothing of the tunnelled stream is consumed: the HTTP answer is read up
 * to the end of its head exactly, the SOCKS5 replies have known lengths.
 * Credentials are wiped from the buffers once sent.
 */
#ifndef WSC_IO_PROXY_H
#define WSC_IO_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "wsc/wsc.h"
#include "wsc/http.h"

typedef struct wsc_tx wsc_tx;

/* What kind of proxy a connect request goes through. */
enum {
    WSC_PROXY_NONE = 0,
    WSC_PROXY_HTTP,    /* http://   CONNECT in the clear */
    WSC_PROXY_HTTPS,   /* https://  TLS to the proxy (verified), then CONNECT */
    WSC_PROXY_SOCKS5,  /* socks5:// target resolved here, sent as an address */
    WSC_PROXY_SOCKS5H  /* socks5h:// target name sent to the proxy */
};

typedef struct wsc_proxy_conv {
    int kind;
    wsc_tx *tx;            /* the stream to the proxy (plain, or TLS for https://); borrowed */
    const char *host;      /* the target as asked (name or literal, no brackets) */
    const char *target_ip; /* socks5://: the target's address (literal), else NULL */
    uint16_t port;
    const char *auth;      /* "user:pass" or NULL */
    int step;              /* private */
    wsc_buf buf;           /* the message being sent, or the answer being read */
    size_t done;           /* bytes of buf sent, or read */
    size_t need;           /* bytes to read for the current SOCKS5 step */
} wsc_proxy_conv;

/* Builds the first message. p's kind, tx, host, port, target_ip and
   auth are set by the caller (the strings must outlive the dialogue).
   WSC_OK, WSC_EINVAL (a name or credentials SOCKS5 cannot carry) or
   WSC_ENOMEM, with err filled. */
int wsc__proxy_begin(wsc_proxy_conv *p, wsc_error *err);

/* Progresses the dialogue after a readiness event (or right after begin).
   WSC_OK: the tunnel is up; WSC_EAGAIN: wait until the socket is as *want
   says (WSC_READABLE or WSC_WRITABLE); otherwise WSC_EPROXY or WSC_ENOMEM
   with err saying what (never the credentials). */
int wsc__proxy_step(wsc_proxy_conv *p, unsigned *want, wsc_error *err);

/* Wipes and frees the buffers. The stream stays the caller's. */
void wsc__proxy_end(wsc_proxy_conv *p);

/*
 * The proxy the environment sets for a connection to `host` (no brackets):
 * https_proxy/HTTPS_PROXY for wss, http_proxy/HTTP_PROXY for ws (lower case
 * first), then all_proxy/ALL_PROXY for either, unless host matches
 * no_proxy/NO_PROXY ("*", a host name, or a domain suffix with or without a
 * leading dot, a :port suffix ignored). Loopback destinations (localhost,
 * 127.0.0.0/8, ::1) never use an environment proxy, as browsers do. NULL if
 * none.
 */
const char *wsc__env_proxy(const char *host, int secure);
/* The same with the variables looked up through env instead of getenv(3)
   (the connection plan's tests pass a table). */
const char *wsc__env_proxy_in(const char *host, int secure, const char *(*env)(const char *name));

#endif
