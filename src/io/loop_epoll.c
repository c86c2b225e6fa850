/*
 * loop_epoll.c - the Linux backend: one level-triggered epoll instance.
 * A watch is its own epoll data.ptr; the wake-up descriptor's is the loop.
 *
 * Costs: wait = 1 epoll_wait, straight into loop->ready (a batch entry is
 * a struct epoll_event); set/del = 1 epoll_ctl. The epoll fd
 * itself is the single pollable descriptor of wsc_loop_fd().
 */
#define _GNU_SOURCE

#include "io/loop_backend.h"

#ifdef WSC_HAVE_EPOLL

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int ep_open(wsc_loop *loop, const void *arg, const char **what) {
    (void)arg;
    *what = "epoll_create1";
    loop->u.ep.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->u.ep.epfd < 0) return -1;
    *what = "epoll_ctl(eventfd)";
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = EPOLLIN;
    e.data.ptr = loop;
    if (epoll_ctl(loop->u.ep.epfd, EPOLL_CTL_ADD, loop->wake.rfd, &e) != 0) {
        int e0 = errno;
        close(loop->u.ep.epfd);
        errno = e0;
        return -1;
    }
    return 0;
}

static void ep_close(wsc_loop *loop) { close(loop->u.ep.epfd); }

static int ep_set(wsc_loop *loop, wsc_watch *w, int fd, unsigned was, unsigned events) {
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = ((events & WSC_READABLE) ? EPOLLIN : 0u) | ((events & WSC_WRITABLE) ? EPOLLOUT : 0u);
    e.data.ptr = w;
    return epoll_ctl(loop->u.ep.epfd, was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
}

static void ep_del(wsc_loop *loop, wsc_watch *w) {
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    (void)epoll_ctl(loop->u.ep.epfd, EPOLL_CTL_DEL, w->fd, &e);
}

/* Only through the table: loop.c calls epoll_wait itself (wsc__backend_wait). */
static int ep_wait(wsc_loop *loop, int timeout_ms) {
    return epoll_wait(loop->u.ep.epfd, loop->ready, WSC_LOOP_BATCH, timeout_ms);
}

static int ep_fd(const wsc_loop *loop) { return loop->u.ep.epfd; }

const wsc__backend wsc__backend_epoll = {"epoll", ep_open, ep_close, ep_set, ep_del, ep_wait, ep_fd};

#endif /* WSC_HAVE_EPOLL */
