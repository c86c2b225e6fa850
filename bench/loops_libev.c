/* loops_libev.c - bench_loops.c's libev driver, in a translation unit of
 * its own (loops_driver.h says why). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "loops_driver.h"
#include "wsc/adapters/libev.h"

typedef struct {
    struct ev_loop *ev;
    wsc_ev *a;
} ev_state;

static void *ev_open(wsc_loop **loop, wsc_error *err) {
    ev_state *s = calloc(1, sizeof *s);
    /* a loop of its own, not EV_DEFAULT: no SIGCHLD watcher, as a library
       user embedding libev would have */
    if (!s || !(s->ev = ev_loop_new(EVFLAG_AUTO))) {
        free(s);
        err->code = WSC_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory, or ev_loop_new failed");
        return NULL;
    }
    s->a = wsc_ev_new(s->ev, err);
    if (!s->a) {
        ev_loop_destroy(s->ev);
        free(s);
        return NULL;
    }
    *loop = wsc_ev_loop(s->a);
    return s;
}

static void ev_run_(void *p) { ev_run(((ev_state *)p)->ev, 0); }
static void ev_stop_(void *p) { ev_break(((ev_state *)p)->ev, EVBREAK_ALL); }

static void ev_close_(void *p) {
    ev_state *s = p;
    wsc_ev_free(s->a);
    ev_loop_destroy(s->ev);
    free(s);
}

static const char *ev_mechanism(void) {
    struct ev_loop *l = ev_loop_new(EVFLAG_AUTO);
    unsigned be = l ? ev_backend(l) : 0;
    if (l) ev_loop_destroy(l);
    return be & EVBACKEND_EPOLL ? "epoll" : be & EVBACKEND_POLL ? "poll" : be & EVBACKEND_SELECT ? "select" : "other";
}

const bl_driver bl_driver_libev = {"libev", ev_open, ev_run_, ev_stop_, ev_close_, ev_mechanism};
