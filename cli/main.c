/*
 * main.c - entry point of the wsc command: picks the subcommand from
 * argv[1] (see commands.h), or runs the client.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "commands.h"
#include "options.h"

/* Subcommands. One line each; `wsc --help` lists them in this order. */
const cli_command cli_commands[] = {
    {"token", wsc_cmd_token, "manage the local CSRF token store (wsc token --help)"},
    {"serve", wsc_cmd_serve, "run a server: echo, broadcast, sink, CSRF check"},
    {"bench", wsc_cmd_bench, "benchmark: latency, throughput, conns"},
    {NULL, NULL, NULL},
};

/* Removes every --allow-core before the first "--" from argv; non-zero if
   there was one. Handled here so that every subcommand accepts it. */
static int take_allow_core(int *argc, char **argv) {
    int found = 0, j = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc) argv[j++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--allow-core") == 0) found = 1;
        else argv[j++] = argv[i];
    }
    argv[j] = NULL;
    *argc = j;
    return found;
}

/* No core file, and no other process of the user reading our memory
   (ptrace, /proc/PID/mem): the process holds the CSRF token. */
static void no_core_dumps(void) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int main(int argc, char **argv) {
    if (!take_allow_core(&argc, argv)) no_core_dumps();
    /* A closed pipe is an error return, never a signal. */
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2) {
        for (const cli_command *c = cli_commands; c->name; c++)
            if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
        if (strcmp(argv[1], "help") == 0) {
            cli_print_help();
            return 0;
        }
    }
    return wsc_cmd_client(argc, argv);
}
