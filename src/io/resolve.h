/*
 * resolve.h - name resolution for the connector (private).
 *
 * getaddrinfo() runs on a detached helper thread (one per lookup), never on
 * the loop; its answer comes back through wsc_loop_post(), already in the
 * order Happy Eyeballs (RFC 8305 4) tries addresses: the first address's
 * family first, then the families alternating. IP literals need no thread.
 */
#ifndef WSC_IO_RESOLVE_H
#define WSC_IO_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wsc/loop.h"

/* At most this many addresses of one name are tried. */
#define WSC__MAX_ADDRS 16

typedef struct wsc__addr {
    struct sockaddr_storage sa;
    socklen_t len;
} wsc__addr;

/* Reorders in[0..n) into out (at most WSC__MAX_ADDRS) as RFC 8305 4 says:
   the first address's family, then the other, alternating, each family in
   its given order. Returns the count written. Pure: no I/O. */
size_t wsc__he_order(const wsc__addr *in, size_t n, wsc__addr *out);

/* An IP literal (no brackets) as an address with this port: 0 and *n = 1,
   or a getaddrinfo() error code (EAI_NONAME for a name). No I/O. */
int wsc__resolve_numeric(const char *host, uint16_t port, wsc__addr *out, size_t *n);

/* Called on the loop thread with the addresses (ordered), or gai != 0
   (getaddrinfo's code; n is then 0). `host` is the name looked up. */
typedef void (*wsc__resolve_cb)(void *user, int gai, const wsc__addr *addrs, size_t n, const char *host);

typedef struct wsc__resolve wsc__resolve;

/* Starts looking `host` up. NULL if out of memory or no thread could be
   started (nothing is then pending). The callback fires once, from the
   loop, unless cancelled first. Holds a reference on the loop meanwhile. */
wsc__resolve *wsc__resolve_start(wsc_loop *loop, const char *host, uint16_t port, wsc__resolve_cb cb, void *user);

/* The callback will not fire; the thread's answer is dropped when it comes. */
void wsc__resolve_cancel(wsc__resolve *r);

/* Test only: when set, names are "resolved" by this function, on the
   resolver thread: it returns a comma-separated list of IP literals, used
   in that order (then reordered as above), or NULL for getaddrinfo(). */
extern const char *(*wsc__test_resolve)(const char *host);

#endif
