/* logsrv.h - a scripted Python server on 127.0.0.1 that logs every attempt
 * and message as JSON lines (tests/integration/script_server.py for
 * test_client.c, delivery_server.py for test_delivery.c): started in a
 * fresh temporary directory, its log read back as a JSON array. */
#ifndef WSC_LOGSRV_H
#define WSC_LOGSRV_H

#include <jansson.h>

#include "testutil.h"

typedef struct {
    tu_peer peer;
    char *dir;      /* a fresh temporary directory, removed by tu_logsrv_stop */
    char log[512];  /* <dir>/server.log */
    char url[256];  /* ws://127.0.0.1:PORT<path> */
} tu_logsrv;

/* Starts tests/integration/<program> --port 0 --log <log> --script <script>
   followed by the NULL-terminated extra arguments (NULL: none). */
void tu_logsrv_start(tu_logsrv *s, const char *program, const char *script, const char *path,
                     const char *const *extra);
void tu_logsrv_stop(tu_logsrv *s);
/* The log so far, one object per line (an empty array if there is none). */
json_t *tu_logsrv_log(const tu_logsrv *s);

#endif
