/*
 * raw_server.c - the floor's echo server: plain TCP, messages framed by a
 * 4-byte big-endian length prefix, echoed back unchanged (prefix included).
 *
 *   raw_server [--port N] [--corrupt K] [--lifetime S] [--tls-cert PEM --tls-key PEM]
 *
 * The first stdout line is the URL, `tcp://127.0.0.1:PORT/`. One thread,
 * level-triggered epoll, non-blocking sockets, TCP_NODELAY; bytes are echoed
 * as soon as they are read (the length prefix is followed only to know where
 * messages start, for --corrupt). A connection whose peer does not read is
 * no longer read from until its pending output drains. Idle connections hold
 * no buffer. SIGTERM/SIGINT or --lifetime stops it.
 *
 * --corrupt K flips the last byte of message K (0-based) of every connection:
 * a client that checks its echoes must then fail.
 *
 * With --tls-cert/--tls-key it is the TLS floor's server: the same echo over
 * OpenSSL (raw_tls.h), non-blocking handshakes in the same loop, URL
 * `tls://127.0.0.1:PORT/`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "raw_tls.h"

typedef struct conn {
    stream s;
    int fd;
    int handshaking; /* TLS: the handshake is not done yet */
    short want;      /* the readiness the blocked call waits for (TLS may need either) */
    /* pending output (only while the peer is slow) */
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    /* framing state, for --corrupt */
    uint64_t msg_index;
    uint32_t hdr_have; /* bytes of the current prefix seen (0..4) */
    uint8_t hdr[4];
    uint64_t body_left;
} conn;

static long corrupt_at = -1;
static SSL_CTX *tls_ctx;
static uint8_t rbuf[1 << 18];

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Walks the bytes just read, tracking message boundaries; flips the last
   payload byte of message `corrupt_at`. */
static void frame_walk(conn *c, uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (c->hdr_have < 4) {
            c->hdr[c->hdr_have++] = p[i++];
            if (c->hdr_have == 4) {
                c->body_left = ((uint64_t)c->hdr[0] << 24) | ((uint64_t)c->hdr[1] << 16) |
                               ((uint64_t)c->hdr[2] << 8) | c->hdr[3];
                if (c->body_left == 0) {
                    c->hdr_have = 0;
                    c->msg_index++;
                }
            }
            continue;
        }
        size_t take = n - i < c->body_left ? n - i : (size_t)c->body_left;
        i += take;
        c->body_left -= take;
        if (c->body_left == 0) {
            if ((long)c->msg_index == corrupt_at) p[i - 1] ^= 0x01;
            c->msg_index++;
            c->hdr_have = 0;
        }
    }
}

static int queue_out(conn *c, const uint8_t *p, size_t n) {
    if (c->out_off && c->out_off == c->out_len) c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + n > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 65536;
            while (cap < c->out_len + n) cap *= 2;
            uint8_t *q = realloc(c->out, cap);
            if (!q) return -1;
            c->out = q;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

/* Writes pending output; 1 when all is written, 0 if some is left, -1 on error. */
static int flush_out(conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t w = stream_write(&c->s, c->out + c->out_off, c->out_len - c->out_off, &c->want);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 0;
            return -1;
        }
        c->out_off += (size_t)w;
    }
    free(c->out); /* idle connections keep no buffer */
    c->out = NULL;
    c->out_len = c->out_off = c->out_cap = 0;
    return 1;
}

static void close_conn(int ep, conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->s.ssl) SSL_free(c->s.ssl);
    close(c->fd);
    free(c->out);
    free(c);
}

int main(int argc, char **argv) {
    int port = 0;
    double lifetime = 0;
    const char *cert = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--corrupt") && i + 1 < argc) corrupt_at = atol(argv[++i]);
        else if (!strcmp(argv[i], "--lifetime") && i + 1 < argc) lifetime = atof(argv[++i]);
        else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc) cert = argv[++i];
        else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc) key = argv[++i];
        else {
            fprintf(stderr, "usage: raw_server [--port N] [--corrupt K] [--lifetime S] [--tls-cert PEM --tls-key PEM]\n");
            return 2;
        }
    }
    if (!cert != !key) {
        fprintf(stderr, "raw_server: --tls-cert and --tls-key go together\n");
        return 2;
    }
    if (cert) {
        tls_ctx = SSL_CTX_new(TLS_server_method());
        if (!tls_ctx || SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "raw_server: cannot load %s / %s\n", cert, key);
            return 1;
        }
        tls_modes(tls_ctx);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ls < 0) die("socket");
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (listen(ls, 4096) < 0) die("listen");
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);

    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    int sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    static int sig_tag, timer_tag;
    ev.events = EPOLLIN;
    ev.data.ptr = &sig_tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    if (lifetime > 0) {
        int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        struct itimerspec its = {0};
        its.it_value.tv_sec = (time_t)lifetime;
        its.it_value.tv_nsec = (long)((lifetime - (double)(time_t)lifetime) * 1e9);
        timerfd_settime(tfd, 0, &its, NULL);
        ev.data.ptr = &timer_tag;
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    }

    printf("%s://127.0.0.1:%u/\n", tls_ctx ? "tls" : "tcp", ntohs(sa.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            void *tag = evs[k].data.ptr;
            if (tag == &sig_tag || tag == &timer_tag) return 0;
            if (tag == NULL) { /* listener */
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break; /* EAGAIN, or out of fds: retried on the next wakeup */
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *c = calloc(1, sizeof *c);
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = c->s.fd = fd;
                    if (tls_ctx) {
                        c->s.ssl = SSL_new(tls_ctx);
                        if (!c->s.ssl || SSL_set_fd(c->s.ssl, fd) != 1) {
                            if (c->s.ssl) SSL_free(c->s.ssl);
                            close(fd);
                            free(c);
                            continue;
                        }
                        SSL_set_accept_state(c->s.ssl);
                        c->handshaking = 1;
                    }
                    struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce) < 0) {
                        close(fd);
                        free(c);
                    }
                }
                continue;
            }
            conn *c = tag;
            if (c->handshaking) {
                int r = SSL_do_handshake(c->s.ssl);
                if (r != 1) {
                    short want = POLLIN;
                    if (tls_err(c->s.ssl, r, &want) < 0 && errno == EAGAIN) {
                        struct epoll_event ce = {.events = want == POLLOUT ? EPOLLOUT : EPOLLIN, .data.ptr = c};
                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce);
                    } else {
                        close_conn(ep, c);
                    }
                    continue;
                }
                c->handshaking = 0;
                struct epoll_event ce = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce);
                continue; /* level-triggered: data already there wakes us again */
            }
            if (c->out_len > c->out_off) { /* blocked output: only it is retried */
                int r = flush_out(c);
                if (r < 0) {
                    close_conn(ep, c);
                    continue;
                }
                struct epoll_event ce = {.events = r == 1 || c->want == POLLIN ? EPOLLIN : EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce); /* drained: read again */
                continue;
            }
            if (!(evs[k].events & (EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR))) continue;
            /* TLS hands out one record per read: take what is there, up to the buffer */
            ssize_t r = 0, got;
            short rwant = POLLIN;
            do {
                got = stream_read(&c->s, rbuf + r, sizeof rbuf - (size_t)r, &rwant);
                if (got > 0) r += got;
            } while (c->s.ssl && got > 0 && (size_t)r < sizeof rbuf);
            if (r == 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
                    struct epoll_event ce = {.events = rwant == POLLOUT ? EPOLLOUT : EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce);
                    continue;
                }
                close_conn(ep, c);
                continue;
            }
            if (corrupt_at >= 0) frame_walk(c, rbuf, (size_t)r);
            size_t off = 0;
            while (off < (size_t)r) {
                ssize_t w = stream_write(&c->s, rbuf + off, (size_t)r - off, &c->want);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    break;
                }
                off += (size_t)w;
            }
            if (off < (size_t)r) {
                if (errno != EAGAIN || queue_out(c, rbuf + off, (size_t)r - off) < 0) {
                    close_conn(ep, c);
                    continue;
                }
                /* the peer is slow: stop reading until the output drains */
                struct epoll_event ce = {.events = c->want == POLLIN ? EPOLLIN : EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ce);
            }
        }
    }
}
