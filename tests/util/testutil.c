#define _DEFAULT_SOURCE
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static size_t guard_span(size_t len) {
    size_t ps = page_size();
    return ((len + ps - 1) / ps) * ps + ps;
}

uint8_t *tu_guard_copy(const void *data, size_t len) {
    size_t ps = page_size(), span = guard_span(len);
    uint8_t *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return NULL;
    if (mprotect(base + span - ps, ps, PROT_NONE) != 0) {
        munmap(base, span);
        return NULL;
    }
    uint8_t *p = base + span - ps - len;
    if (len) memcpy(p, data, len);
    return p;
}

void tu_guard_free(uint8_t *p, size_t len) {
    size_t ps = page_size(), span = guard_span(len);
    uint8_t *base = p + len + ps - span;
    munmap(base, span);
}

int tu_fixed_random(void *user, void *buf, size_t len) {
    static uint8_t counter = 0x37;
    uint8_t *b = buf;
    uint8_t c = user ? *(uint8_t *)user : counter;
    for (size_t i = 0; i < len; i++) b[i] = c++;
    if (user) *(uint8_t *)user = c; else counter = c;
    return 0;
}

size_t tu_unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        if (isspace((unsigned char)*hex)) continue;
        int v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower((unsigned char)*hex) - 'a' + 10);
        if (hi < 0) hi = v;
        else {
            if (n < cap) out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

uint8_t *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(sz > 0 ? (size_t)sz : 1);
    if (buf && sz > 0 && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)sz;
    return buf;
}

/* ---- peers ---- */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

int tu_peer_start(tu_peer *p, char *const argv[]) {
    memset(p, 0, sizeof *p);
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (!getenv("WSC_TEST_VERBOSE")) {
            int dn = open("/dev/null", O_WRONLY);
            if (dn >= 0) dup2(dn, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    p->pid = pid;
    char line[512];
    size_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > 15000) break;
        struct pollfd pf = {fds[0], POLLIN, 0};
        if (poll(&pf, 1, 200) <= 0) continue;
        ssize_t r = read(fds[0], line + n, 1);
        if (r <= 0) break;
        if (line[n] == '\n' || n + 2 >= sizeof line) {
            line[n] = 0;
            if (strncmp(line, "LISTENING ", 10) == 0) {
                snprintf(p->where, sizeof p->where, "%.*s", (int)(sizeof p->where - 1), line + 10);
                p->port = atoi(line + 10);
                /* Keep the pipe open (the peer may print more); the read end
                   is closed here: a peer writing later gets SIGPIPE only if it
                   writes to stdout, which the peers do not after this line. */
                close(fds[0]);
                return 0;
            }
            n = 0;
            continue;
        }
        n++;
    }
    close(fds[0]);
    tu_peer_stop(p);
    return -1;
}

void tu_peer_stop(tu_peer *p) {
    if (p->pid <= 0) return;
    kill(-p->pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || (r < 0 && errno == ECHILD)) {
            kill(-p->pid, SIGKILL); /* any grandchildren */
            p->pid = 0;
            return;
        }
        usleep(10000);
    }
    kill(-p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
}

const char *tu_source_dir(void) {
    const char *s = getenv("WSC_SOURCE_DIR");
    return s && *s ? s : ".";
}
const char *tu_python(void) {
    const char *s = getenv("WSC_PYTHON");
    return s && *s ? s : "/usr/bin/python3";
}
const char *tu_node(void) {
    const char *s = getenv("WSC_NODE");
    return s && *s ? s : "node";
}
const char *tu_peer_script(const char *name) {
    static char buf[4][1024];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 1024, "%s/tests/peers/%s", tu_source_dir(), name);
    return b;
}

char *tu_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/wsc-test.XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

int tu_system(const char *cmd) {
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

void tu_rmtree(const char *path) {
    if (!path || strlen(path) < 8) return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    (void)tu_system(cmd);
}

uint64_t tu_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tu_run_until(wsc_loop *loop, const int *flag, int want, int ms) {
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    while (*flag < want && tu_now_ms() < end) wsc_loop_run_once(loop, 20);
}

void tu_run_for(wsc_loop *loop, int ms) {
    uint64_t end = tu_now_ms() + (uint64_t)ms;
    while (tu_now_ms() < end) wsc_loop_run_once(loop, 10);
}

void tu_wsrec_reset(tu_wsrec *r) {
    free(r->msg);
    memset(r, 0, sizeof *r);
}

void tu_wsrec_event(wsc_ws *ws, const wsc_ws_event *ev, void *user) {
    (void)ws;
    tu_wsrec *r = user;
    switch (ev->type) {
    case WSC_WS_OPEN: r->opens++, r->settled = 1; break;
    case WSC_WS_MESSAGE:
        free(r->msg);
        r->msg = malloc(ev->len + 1);
        if (!r->msg) abort();
        memcpy(r->msg, ev->data, ev->len);
        r->msg[ev->len] = 0;
        r->msglen = ev->len;
        r->nmsg++;
        break;
    case WSC_WS_ERROR:
        r->errors++;
        r->last_error = ev->error;
        snprintf(r->error_msg, sizeof r->error_msg, "%s", ev->message);
        break;
    case WSC_WS_CLOSE: r->closes++, r->settled = 1; break;
    default: break;
    }
}
