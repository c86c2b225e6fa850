/*
 * fuzz_options.c - the client's command line (cli/options.c) fed arbitrary
 * argument vectors: the input is split at NUL bytes into argv[1..]. Each
 * input is parsed twice with a fresh copy of argv, the first freed before
 * the second parse, so state that getopt or the parser keeps across calls
 * (a pointer into a previous argv) is caught by AddressSanitizer.
 *
 * Arguments that would read files (--token-file, --file, --ca ...) see
 * paths the fuzzer makes up; the harness runs in a scratch directory (see
 * scripts/run-fuzzer) and the parser only opens what it is told to read.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "options.h"

/* cli/main.c is not linked: the parser's --help lists this table. */
const cli_command cli_commands[] = {{NULL, NULL, NULL}};

enum { MAX_ARGS = 64 };

static int split(const uint8_t *data, size_t size, char **argv) {
    int argc = 0;
    argv[argc++] = strdup("wsc");
    size_t start = 0;
    for (size_t i = 0; i <= size && argc < MAX_ARGS; i++) {
        if (i == size || data[i] == 0) {
            char *a = malloc(i - start + 1);
            memcpy(a, data + start, i - start);
            a[i - start] = 0;
            argv[argc++] = a;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    return argc;
}

static void parse_once(const uint8_t *data, size_t size) {
    char *argv[MAX_ARGS + 1], *orig[MAX_ARGS + 1];
    int argc = split(data, size, argv);
    memcpy(orig, argv, sizeof argv); /* the parser may permute argv */
    cli_opts o;
    int rc = cli_opts_parse(&o, argc, argv);
    if (rc < 0) {
        /* Options accepted: filling the library's structs must not fail. */
        wsc_client_options c;
        memset(&c, 0, sizeof c);
        cli_opts_client(&o, &c);
    }
    cli_opts_free(&o);
    for (int i = 0; i < argc; i++) free(orig[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    /* Usage errors and --help would fill the log: the parser's stdio goes
       to /dev/null. libFuzzer and the sanitizers keep file descriptor 2
       (libFuzzer took its own FILE for it before this runs). */
    FILE *null = fopen("/dev/null", "w");
    if (!null) return 1;
    stdout = null;
    stderr = null;
    unsetenv("WSC_TOKEN");
    unsetenv("WSC_KEY_PASSPHRASE");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    parse_once(data, size);
    parse_once(data, size);
    return 0;
}
