/*
 * exec.c - --exec CMD / --exec-raw CMD: a program bridged over the
 * connection, as websocat's exec: and cmd: do. CMD runs under /bin/sh -c
 * once the connection is open; each message received is written to its
 * stdin (one record per message, as wsc would print it; the bytes alone
 * with --exec-raw) and its stdout is read as wsc's input (input.c: lines,
 * or chunks as binary messages). Its stderr is wsc's.
 *
 * The end: when the program closes its stdout (normally by exiting), the
 * input is over and the session ends once what it wrote is sent; when the
 * connection ends first, its stdin is closed. Either way wsc then waits for
 * it, and its exit status becomes wsc's (client.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "output.h"
#include "util.h"

static void close_in(app *a) {
    if (a->exec_watch) {
        wsc_watch_free(a->exec_watch);
        a->exec_watch = NULL;
    }
    if (a->exec_in >= 0) close(a->exec_in);
    a->exec_in = -1;
    wsc_buf_free(&a->exec_buf);
}

/* Writes what is pending without blocking; the rest waits for writable. */
static void flush(app *a) {
    while (a->exec_in >= 0 && wsc_buf_pending(&a->exec_buf)) {
        ssize_t n = write(a->exec_in, a->exec_buf.data + a->exec_buf.off, wsc_buf_pending(&a->exec_buf));
        if (n > 0) {
            wsc_buf_consume(&a->exec_buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        /* EPIPE: the program closed its stdin; what it does not read is dropped. */
        close_in(a);
        return;
    }
    if (a->exec_watch) wsc_watch_set(a->exec_watch, wsc_buf_pending(&a->exec_buf) ? WSC_WRITABLE : 0);
}

static void on_writable(wsc_loop *l, wsc_watch *w, int fd, unsigned events, void *user) {
    (void)l;
    (void)w;
    (void)fd;
    (void)events;
    flush(user);
}

/* pipe() with both ends close-on-exec (pipe2 is not everywhere). */
static int cloexec_pipe(int fd[2]) {
    if (pipe(fd) != 0) return -1;
    fcntl(fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(fd[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

int exec_start(app *a) {
    int to[2], from[2];
    if (cloexec_pipe(to) != 0) {
        app_report("--exec: cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    if (cloexec_pipe(from) != 0) {
        app_report("--exec: cannot create a pipe: %s", strerror(errno));
        close(to[0]);
        close(to[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        app_report("--exec: cannot start the program: %s", strerror(errno));
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: what wsc changed for itself is undone (signals blocked
           for the signalfd, SIGPIPE ignored). */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (dup2(to[0], STDIN_FILENO) < 0 || dup2(from[1], STDOUT_FILENO) < 0) _exit(127);
        execl("/bin/sh", "sh", "-c", a->o->exec_cmd, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    a->exec_pid = (int)pid;
    a->exec_in = to[1];
    a->exec_out = from[0];
    fcntl(a->exec_in, F_SETFL, fcntl(a->exec_in, F_GETFL) | O_NONBLOCK);
    fcntl(a->exec_out, F_SETFL, fcntl(a->exec_out, F_GETFL) | O_NONBLOCK);
    wsc_error err;
    a->exec_watch = wsc_watch_new(a->loop, a->exec_in, 0, on_writable, a, &err);
    app_input_start(a, a->exec_out);
    return 0;
}

void exec_message(app *a, const uint8_t *data, size_t len, int binary, int is_json) {
    if (a->exec_in < 0) return;
    if (a->o->exec_raw) {
        if (len) buf_put(&a->exec_buf, data, len);
    } else {
        show_record(a, &a->exec_buf, data, len, binary, is_json, 0);
    }
    flush(a);
}

void exec_finish(app *a) {
    if (!a->exec_pid) return;
    /* One last try for what is pending, then end of file for the program. */
    flush(a);
    close_in(a);
    int st = 0;
    pid_t r;
    while ((r = waitpid((pid_t)a->exec_pid, &st, 0)) < 0 && errno == EINTR) {
    }
    a->exec_pid = 0;
    if (a->exec_out >= 0) close(a->exec_out);
    a->exec_out = -1;
    if (r < 0) a->exec_status = EXIT_CONNECT;
    else if (WIFEXITED(st)) a->exec_status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) a->exec_status = 128 + WTERMSIG(st);
}
