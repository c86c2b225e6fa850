/*
 * main.c - entry point of the wsc command: picks the subcommand from
 * argv[1] (see commands.h), or runs the client.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "options.h"

/* Subcommands. One line each; `wsc --help` lists them in this order. */
const cli_command cli_commands[] = {
    {"token", wsc_cmd_token, "manage the local CSRF token store (wsc token --help)"},
    {"serve", wsc_cmd_serve, "run a server: echo, broadcast, sink, CSRF check"},
    {"bench", wsc_cmd_bench, "benchmark: latency, throughput, conns"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv) {
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
