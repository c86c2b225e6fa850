/*
 * loop_poll.c - the portable POSIX backend: poll(2) over an array of
 * pollfd kept beside the watches, for systems without epoll (macOS, the
 * BSDs until a kqueue backend exists) and, forced, on Linux.
 *
 * State: pfd[] (pfd[0] is the wake-up descriptor), w[] parallel to it, and
 * slot[fd] = 1 + the fd's index, so that set/del are O(1) with no search.
 * Costs:
 *   wait   1 poll() over every registered fd, then a scan of the array for
 *          revents: O(n) per iteration where epoll is O(ready). Fine for the
 *          tens of connections a client has; a server with thousands wants
 *          epoll (or kqueue).
 *   set    no syscall to change an interest; registering costs 1 fstat (to
 *          refuse regular files as epoll does: they would always poll ready).
 *   del    no syscall: the last entry moves into the freed place.
 * Memory: 8 + 8 bytes per watch, + 4 bytes per fd number up to the highest
 * registered; the arrays double and never shrink.
 * At most 64 ready entries are taken per iteration, starting where the last
 * scan stopped, so that fds at the end of the array are not starved.
 * wsc_loop_fd() has no single descriptor to offer here: it returns -1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "io/loop_backend.h"

/* Makes room for one more entry and for slot[fd]. 0 or -1 (ENOMEM). */
static int pl_reserve(wsc_loop *loop, int fd) {
    if (loop->u.pl.n == loop->u.pl.cap) {
        uint32_t cap = loop->u.pl.cap ? loop->u.pl.cap * 2 : 16;
        struct pollfd *p = wsc__realloc(loop->u.pl.pfd, cap * sizeof *p);
        if (!p) goto nomem;
        loop->u.pl.pfd = p;
        wsc_watch **w = wsc__realloc(loop->u.pl.w, cap * sizeof *w);
        if (!w) goto nomem;
        loop->u.pl.w = w;
        loop->u.pl.cap = cap;
    }
    if ((uint32_t)fd >= loop->u.pl.nslot) {
        uint32_t ns = loop->u.pl.nslot ? loop->u.pl.nslot : 64;
        while (ns <= (uint32_t)fd) ns *= 2;
        uint32_t *s = wsc__realloc(loop->u.pl.slot, ns * sizeof *s);
        if (!s) goto nomem;
        memset(s + loop->u.pl.nslot, 0, (ns - loop->u.pl.nslot) * sizeof *s);
        loop->u.pl.slot = s;
        loop->u.pl.nslot = ns;
    }
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

static short to_poll(unsigned events) {
    return (short)(((events & WSC_READABLE) ? POLLIN : 0) | ((events & WSC_WRITABLE) ? POLLOUT : 0));
}

static int pl_open(wsc_loop *loop, const void *arg, const char **what) {
    (void)arg;
    *what = "poll backend";
    memset(&loop->u.pl, 0, sizeof loop->u.pl);
    if (pl_reserve(loop, loop->wake.rfd) != 0) {
        wsc__free(loop->u.pl.pfd);
        wsc__free(loop->u.pl.w);
        wsc__free(loop->u.pl.slot);
        return -1;
    }
    loop->u.pl.pfd[0].fd = loop->wake.rfd;
    loop->u.pl.pfd[0].events = POLLIN;
    loop->u.pl.pfd[0].revents = 0;
    loop->u.pl.w[0] = NULL;
    loop->u.pl.slot[loop->wake.rfd] = 1;
    loop->u.pl.n = 1;
    return 0;
}

static void pl_close(wsc_loop *loop) {
    wsc__free(loop->u.pl.pfd);
    wsc__free(loop->u.pl.w);
    wsc__free(loop->u.pl.slot);
}

static int pl_set(wsc_loop *loop, wsc_watch *w, int fd, unsigned was, unsigned events) {
    if (was) {
        loop->u.pl.pfd[loop->u.pl.slot[fd] - 1].events = to_poll(events);
        return 0;
    }
    if ((uint32_t)fd < loop->u.pl.nslot && loop->u.pl.slot[fd]) {
        errno = EEXIST;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) return -1; /* EBADF */
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        errno = EPERM; /* what epoll_ctl says for a file that cannot be polled */
        return -1;
    }
    if (pl_reserve(loop, fd) != 0) return -1;
    uint32_t i = loop->u.pl.n++;
    loop->u.pl.pfd[i].fd = fd;
    loop->u.pl.pfd[i].events = to_poll(events);
    loop->u.pl.pfd[i].revents = 0;
    loop->u.pl.w[i] = w;
    loop->u.pl.slot[fd] = i + 1;
    return 0;
}

static void pl_del(wsc_loop *loop, wsc_watch *w) {
    uint32_t i = loop->u.pl.slot[w->fd] - 1;
    uint32_t last = --loop->u.pl.n;
    loop->u.pl.slot[w->fd] = 0;
    if (i != last) {
        loop->u.pl.pfd[i] = loop->u.pl.pfd[last];
        loop->u.pl.w[i] = loop->u.pl.w[last];
        loop->u.pl.slot[loop->u.pl.pfd[i].fd] = i + 1;
    }
}

static int pl_wait(wsc_loop *loop, int timeout_ms) {
    uint32_t n = loop->u.pl.n;
    int r = poll(loop->u.pl.pfd, (nfds_t)n, timeout_ms);
    if (r <= 0) return r;
    int k = 0;
    uint32_t start = loop->u.pl.next < n ? loop->u.pl.next : 0, i = start;
    do {
        short re = loop->u.pl.pfd[i].revents;
        if (re) {
            uint32_t got = (re & (POLLERR | POLLHUP | POLLNVAL)) ? WSC__EV_ERR : 0u;
            if (re & POLLIN) got |= WSC__EV_IN;
            if (re & POLLOUT) got |= WSC__EV_OUT;
            loop->ready[k].data.ptr = i == 0 ? (void *)loop : (void *)loop->u.pl.w[i];
            loop->ready[k].events = got;
            if (++k == WSC_LOOP_BATCH || --r == 0) {
                i = i + 1 == n ? 0 : i + 1;
                break;
            }
        }
        i = i + 1 == n ? 0 : i + 1;
    } while (i != start);
    loop->u.pl.next = i;
    return k;
}

static int pl_fd(const wsc_loop *loop) {
    (void)loop;
    return -1;
}

const wsc__backend wsc__backend_poll = {"poll", pl_open, pl_close, pl_set, pl_del, pl_wait, pl_fd};
