/*
 * listen.h - the server role's sockets (private to the library): listening
 * and accepting, so that server.c holds no socket code.
 */
#ifndef WSC_IO_LISTEN_H
#define WSC_IO_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "wsc/wsc.h"

/* A listening Unix socket at path (an old socket file there is removed):
   the descriptor, or -1 with err (WSC_EINVAL path too long, WSC_EIO). */
int wsc__listen_unix(const char *path, int backlog, wsc_error *err);

/* A listening TCP socket on host (a name or an address) and port (0: the
   kernel picks one; *bound gets the port): the descriptor, or -1 with err
   (WSC_EDNS, WSC_EIO with the OS reason). */
int wsc__listen_tcp(const char *host, uint16_t port, int backlog, uint16_t *bound, wsc_error *err);

/* Accepts one connection (non-blocking, close-on-exec, TCP_NODELAY for
   TCP): its descriptor, with the peer as "1.2.3.4:5", "[::1]:5" or "unix"
   in peer (cap bytes) and the length of its address part in *addr_len;
   -1 if none is waiting or on a transient error (EMFILE...). */
int wsc__accept_peer(int lfd, char *peer, size_t cap, uint8_t *addr_len);

#endif
