/* logsrv.c - see logsrv.h. */
#include "logsrv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tu_logsrv_start(tu_logsrv *s, const char *program, const char *script, const char *path,
                     const char *const *extra) {
    memset(s, 0, sizeof *s);
    s->dir = tu_tmpdir();
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
    char prog[1024];
    snprintf(prog, sizeof prog, "%s/tests/integration/%s", tu_source_dir(), program);
    char *argv[24] = {(char *)tu_python(), prog, "--port", "0", "--log", s->log, "--script", (char *)script};
    int n = 8;
    for (; extra && *extra && n < 23; extra++) argv[n++] = (char *)*extra;
    argv[n] = NULL;
    assert_int_equal(tu_peer_start(&s->peer, argv), 0);
    snprintf(s->url, sizeof s->url, "ws://127.0.0.1:%d%s", s->peer.port, path);
}

void tu_logsrv_stop(tu_logsrv *s) {
    tu_peer_stop(&s->peer);
    tu_rmtree(s->dir);
    free(s->dir);
}

json_t *tu_logsrv_log(const tu_logsrv *s) {
    json_t *arr = json_array();
    FILE *f = fopen(s->log, "r");
    if (!f) return arr;
    static char line[65536];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) json_array_append_new(arr, j);
    }
    fclose(f);
    return arr;
}
