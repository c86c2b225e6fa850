/*
 * signals.c - signals of the client modes, read from a descriptor in the
 * loop (src/compat/compat_signal.c: a signalfd on Linux, the signals
 * blocked; a self-pipe written by handlers elsewhere): SIGINT/SIGTERM/SIGHUP
 * end the session cleanly (twice: at once, 128+N), Ctrl-C clears the line
 * being typed, SIGWINCH and SIGTSTP go to the line editor.
 */
#define _GNU_SOURCE /* SIGWINCH on glibc; ignored where everything is visible by default (macOS, BSDs) */
#include <signal.h>

#include "app.h"
#include "compat/compat.h"
#include "util.h"

/* One per process, as the signal state behind it (a->sigfd is its fd). */
static wsc__sigfd g_sig = {-1, -1};

static void on_signal(wsc_loop *l, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)l;
    (void)w;
    (void)fd;
    (void)events;
    app *a = user;
    int sig;
    while ((sig = wsc__sigfd_read(&g_sig)) > 0) {
        if (sig == SIGWINCH) {
            if (a->term) term_resize(a->term);
            continue;
        }
        if (sig == SIGTSTP) {
            if (a->term) term_suspend(a->term);
            continue;
        }
        if (sig == SIGINT && a->term && !a->closing && term_interrupt(a->term)) continue;
        if (a->done) continue;
        if (a->signals++ || a->closing) {
            /* Asked twice: leave now. */
            a->exit_code = 128 + sig;
            a->final_msg[0] = 0;
            app_stop(a);
            return;
        }
        app_finish(a, EXIT_OK);
    }
}

int app_signals_start(app *a) {
    int set[5] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP};
    int n = a->interactive ? 5 : 3; /* the line editor's two only with a terminal */
    if (wsc__sigfd_open(&g_sig, set, n) != 0) return -1; /* nothing left changed */
    a->sigfd = g_sig.fd;
    a->sig_watch = wsc_watch_new(a->loop, a->sigfd, WSC_READABLE, on_signal, a, NULL);
    return a->sig_watch ? 0 : -1;
}

void app_signals_stop(app *a) {
    if (a->sigfd < 0) return;
    wsc_watch_free(a->sig_watch);
    a->sig_watch = NULL;
    wsc__sigfd_close(&g_sig);
    a->sigfd = -1;
    /* The signals act again as before (the --exec program being waited for
       is interrupted with wsc). */
    wsc__sigfd_restore();
}
