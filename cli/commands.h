/*
 * commands.h - the subcommands of the wsc command and its dispatch table.
 *
 *   wsc [options] URL          the client (interactive, scripted, --echo)
 *   wsc token ...              the local CSRF token store
 *   wsc serve ..., wsc bench   (the lead's; see below)
 *
 * Every subcommand is `int fn(int argc, char **argv)` where argv[0] is the
 * subcommand's name; it returns the process's exit status. Adding one is
 * one line in the table in main.c plus its prototype here.
 */
#ifndef WSC_CLI_COMMANDS_H
#define WSC_CLI_COMMANDS_H

typedef struct cli_command {
    const char *name;                     /* argv[1] that selects it */
    int (*run)(int argc, char **argv);    /* argv[0] is the name */
    const char *summary;                  /* one line for `wsc --help` */
} cli_command;

/* The dispatch table (main.c), terminated by a NULL name. */
extern const cli_command cli_commands[];

/* The client: `wsc [options] URL` (argv[0] is the program name). */
int wsc_cmd_client(int argc, char **argv);

/* `wsc token get|set|clear|list ORIGIN [TOKEN]` (token.c). */
int wsc_cmd_token(int argc, char **argv);

/* `wsc serve ...` (serve.c): the library's server role as a command. */
int wsc_cmd_serve(int argc, char **argv);
/* `wsc bench latency|throughput|conns URL ...` (bench.c): the benchmark
   contract of bench/README.md. */
int wsc_cmd_bench(int argc, char **argv);

#endif /* WSC_CLI_COMMANDS_H */
