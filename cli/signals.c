/*
 * signals.c - signals of the client modes, read from a signalfd in the loop:
 * SIGINT/SIGTERM/SIGHUP end the session cleanly (twice: at once, 128+N),
 * Ctrl-C clears the line being typed, SIGWINCH and SIGTSTP go to the line
 * editor.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "app.h"
#include "util.h"

static void on_signal(wsc_loop *l, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)l;
    (void)w;
    (void)events;
    app *a = user;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
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

static sigset_t g_oldmask;

int app_signals_start(app *a) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (a->interactive) {
        sigaddset(&set, SIGWINCH);
        sigaddset(&set, SIGTSTP);
    }
    if (sigprocmask(SIG_BLOCK, &set, &g_oldmask) != 0) return -1;
    a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (a->sigfd < 0) {
        sigprocmask(SIG_SETMASK, &g_oldmask, NULL);
        return -1;
    }
    a->sig_watch = wsc_watch_new(a->loop, a->sigfd, WSC_READABLE, on_signal, a, NULL);
    return a->sig_watch ? 0 : -1;
}

void app_signals_stop(app *a) {
    if (a->sigfd < 0) return;
    wsc_watch_free(a->sig_watch);
    a->sig_watch = NULL;
    if (a->sigfd >= 0) close(a->sigfd);
    a->sigfd = -1;
    sigprocmask(SIG_SETMASK, &g_oldmask, NULL);
}
