/* bench_json.h - `wsc bench json` (bench_json.c), called by bench.c. */
#ifndef WSC_CLI_BENCH_JSON_H
#define WSC_CLI_BENCH_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_json_opts {
    const char *url;
    uint64_t count;
    size_t size;
    const char *recv; /* "view" (default), "dom", "raw" */
    const char *send; /* "text" (default), "json-text", "json-t" */
    int deflate, insecure;
    const char *ca;
} bench_json_opts;

/* Runs the JSON benchmark; returns the exit status (0, 1 on failure, 2 on
   bad options). Prints RESULT json ... on success. */
int bench_json_run(const bench_json_opts *o);

#endif
