/*
 * listen.c - the server role's sockets (listen.h): listening on TCP or a
 * Unix socket, and accepting with the peer's address as text.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "compat/compat.h"
#include "internal.h"
#include "listen.h"

int wsc__listen_unix(const char *path, int backlog, wsc_error *err) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) return wsc__seterr(err, WSC_EINVAL, "Unix socket path too long"), -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = wsc__compat_socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path); /* a socket file left by an earlier run */
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        wsc__seterr(err, WSC_EIO, "cannot listen on %s: %s", path, strerror(e));
        return -1;
    }
    return fd;
}

int wsc__listen_tcp(const char *host, uint16_t port, int backlog, uint16_t *bound, wsc_error *err) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai) {
        wsc__seterr(err, WSC_EDNS, "cannot resolve listen address '%s': %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = wsc__compat_socket(res->ai_family, SOCK_STREAM, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        int e = errno;
        freeaddrinfo(res);
        if (fd >= 0) close(fd);
        wsc__seterr(err, WSC_EIO, "cannot listen on %s port %u: %s", host, port, strerror(e));
        return -1;
    }
    freeaddrinfo(res);
    if (listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        wsc__seterr(err, WSC_EIO, "listen: %s", strerror(e));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                           : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int wsc__accept_peer(int lfd, char *peer, size_t cap, uint8_t *addr_len) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = wsc__compat_accept(lfd, (struct sockaddr *)&ss, &sl);
    if (fd < 0) return -1;
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char host[INET6_ADDRSTRLEN] = "?";
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            snprintf(peer, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
            *addr_len = (uint8_t)strlen(host);
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            snprintf(peer, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
            *addr_len = (uint8_t)(strlen(host) + 2);
        }
    } else {
        snprintf(peer, cap, "unix");
        *addr_len = 4;
    }
    return fd;
}
