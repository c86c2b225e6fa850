/*
 * app.h - the state of the client modes of wsc (client.c), shared with the
 * interactive line editor (interactive.c).
 */
#ifndef WSC_CLI_APP_H
#define WSC_CLI_APP_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "wsc/client.h"
#include "wsc/loop.h"

typedef struct term term;

/* How a line of input is sent. */
enum { SEND_TEXT = 0, SEND_JSON = 1, SEND_BINARY = 2 };

typedef struct app {
    cli_opts *o;
    wsc_loop *loop;
    wsc_client *client;
    int interactive; /* the line editor drives input */
    int execute;     /* -x / --file: stdin is not read */
    int send_kind;   /* SEND_* for input lines */

    /* stdin, line by line (scripted mode) */
    wsc_watch *in_watch; /* NULL when stdin cannot be polled (a regular file) */
    wsc_timer *in_timer; /* reads a non-pollable stdin, or polls while paused */
    int in_paused, in_eof;
    int in_fd;         /* what is read: stdin, or the --exec program's output */
    wsc_buf inbuf;     /* read, not yet sent as lines */
    int line_too_long; /* dropping the rest of a line over 64 MiB */
    unsigned long lineno;

    /* connection life */
    int ever_opened;  /* some connection opened */
    int conn_open;    /* the current connection opened */
    int proto_error;  /* the current connection failed on a protocol error */
    char last_error[300];

    /* the end */
    int input_done;   /* everything to send has been handed to the client */
    int waiting;      /* the -w wait has started */
    int closing;      /* we closed the client for good (app_finish) */
    int user_closed;  /* /close in interactive mode: stay at the prompt */
    int done;         /* the exit status is decided */
    int exit_code;
    char final_msg[600]; /* printed as "wsc: ..." when exiting non-zero */
    int signals;      /* SIGINT/SIGTERM/SIGHUP received */
    unsigned long long received;
    wsc_timer *wait_timer, *drain_timer;

    /* --file */
    uint8_t *file_data;
    size_t file_size;
    int file_sent;                  /* handed to the client */
    int file_acked;                 /* a reply came after it, or the server closed cleanly */
    unsigned long long file_mark;   /* `received` when it was handed over */
    int file_unacked;               /* the -w wait ended before any acknowledgement */

    /* what the exit status must not hide (wsc(1) EXIT STATUS) */
    unsigned long long skipped;     /* input lines or -x messages not sent */
    unsigned sticky_code;           /* the first server close with 1003/1008/1010/1011 */
    int sticky_proto;               /* a connection failed on a protocol error (1002/1007/1009) */
    char sticky_msg[400];
    wsc_timer *progress_timer;
    int progress_on;

    /* /ping */
    unsigned user_pings;
    uint64_t ping_sent_ms;

    /* -P/--show-ping: pings of our own (payload "wsc-P N"), timed */
    wsc_timer *show_ping_timer;
    unsigned show_ping_seq;
    uint64_t show_ping_sent_ms;

    /* signals (a signalfd on Linux, a self-pipe elsewhere: src/compat/) */
    int sigfd;
    wsc_watch *sig_watch;

    /* -L: the URL connected to now, the redirect waiting to be followed */
    char *cur_url;
    char *redirect_url;
    unsigned redirects;
    wsc_timer *redirect_timer;
    wsc_ws_header *headers_other; /* the -H headers for another origin */
    int input_started;            /* -x, --file or stdin handed to the client */

    /* --exec: the program (exec.c) */
    int exec_pid;                 /* 0: none (not started, or reaped) */
    int exec_in;                  /* its stdin (we write messages), -1 when closed */
    int exec_out;                 /* its stdout (read as input), -1 when closed */
    wsc_watch *exec_watch;        /* exec_in writable, while exec_buf has data */
    wsc_buf exec_buf;             /* messages not yet written to it */
    int exec_status;              /* its exit status once reaped (128+N: signal N) */

    term *term;
} app;

/* Sends one message from input (a line, -x, /json, /binary); problems are
   reported on stderr with `where` ("line 3", "-x 2"; NULL: none) and the
   message is not sent. Returns 0 if it was handed to the client. */
int app_send(app *a, int kind, const char *data, size_t len, const char *where);

/* Ends the session: closes the connection cleanly (1000) and exits with
   code once it is closed (or at once if there is no connection). */
void app_finish(app *a, int code);

/* The input (stdin or the terminal) has ended: exit once what was sent is
   written and the -w wait is over (interactive: at once). */
void app_input_done(app *a);

/* An error that does not end the session: "wsc: ..." on stderr, shown even
   with -q. */
void app_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The loop stops and the exit status is decided. */
void app_stop(app *a);
/* A reason or other server text made safe for one status line. */
void app_safe_text(char *dst, size_t cap, const char *s);

/* --- losses.c ----------------------------------------------------------- */

/* Records that message seq came from `where` ("line 3", "-x 2", or other). */
void dr_label(uint64_t seq, const char *where);
/* UNCONFIRMED and RESENT events of the client. */
void dr_on_unconfirmed(wsc_client *c, const wsc_client_event *ev, void *user);
void dr_on_resent(wsc_client *c, const wsc_client_event *ev, void *user);
/* Reports the UNCONFIRMED messages since the last report (one line). */
void dr_report_unconfirmed(void);
/* Queued messages discarded (an ECLOSED error event): reported with msg. */
void dr_discarded(const char *msg, const wsc_client_event *ev);
/* n more messages lost (reported by the caller). */
void dr_add_lost(size_t n);
/* Messages that may have been lost, sent again, in all; then freed. */
uint64_t dr_lost(void);
uint64_t dr_resent(void);
void dr_free(void);

/* --- pings.c ------------------------------------------------------------ */

/* Listeners of the connection (added on open) and the -P timer callback. */
void app_on_pong(wsc_ws *ws, const wsc_ws_event *ev, void *user);
void app_on_ping(wsc_ws *ws, const wsc_ws_event *ev, void *user);
void app_on_show_ping_timer(wsc_loop *loop, wsc_timer *t, void *user);

/* --- signals.c ---------------------------------------------------------- */

/* Reads the signals from a descriptor in the loop (wsc__sigfd_open). 0 or -1. */
int app_signals_start(app *a);
/* Stops that and restores the signal mask or handlers (wsc__sigfd_restore). */
void app_signals_stop(app *a);

/* --- input.c ----------------------------------------------------------- */

/* Starts reading fd (stdin, or the --exec program's output), one message
   per line (per NUL record with -0, per chunk with --exec-raw). */
void app_input_start(app *a, int fd);
/* Stops reading it (no-op if not reading). */
void app_stop_input(app *a);
/* The in_timer callback: reads a stdin that cannot be polled, or resumes
   once the connection caught up. */
void app_on_in_timer(wsc_loop *l, wsc_timer *t, void *user);
/* --file: reads the whole file into a->file_data. -1 after printing why. */
int app_read_file(app *a, const char *path);
/* The progress bar of --file: started once the file is handed over, drawn
   by the progress_timer callback, finished (100%) or stopped (erased). */
void app_progress_start(app *a);
void app_on_progress(wsc_loop *l, wsc_timer *t, void *user);
void app_progress_finish(app *a);
void app_progress_stop(app *a);

/* --- exec.c ------------------------------------------------------------- */

/* --exec/--exec-raw: starts the program (sh -c CMD) with pipes for its stdin
   and stdout; its stdout becomes the input (app_input_start). 0, or -1 with
   the reason reported. */
int exec_start(app *a);
/* A message received, to the program's stdin: one record as on stdout
   (show.c), or the payload's bytes alone with --exec-raw. */
void exec_message(app *a, const uint8_t *data, size_t len, int binary, int is_json);
/* The session is over: closes the program's stdin (after what is pending
   could be written) and waits for it to exit; sets exec_status. */
void exec_finish(app *a);

/* --- show.c ------------------------------------------------------------ */

/* Writes a message received on stdout as wsc(1) "OUTPUT" says (interactive
   or one record per message); ends the session quietly if stdout is gone. */
void show_message(app *a, const uint8_t *data, size_t len, int binary, int is_json);
/* The record alone, appended to b (tty: shown on a terminal). */
void show_record(app *a, wsc_buf *b, const uint8_t *data, size_t len, int binary, int is_json, int tty);
/* "[binary] ": what marks binary messages unless --binary-prefix. */
extern const char *const SHOW_BINARY_PREFIX;

/* --- interactive.c --------------------------------------------------- */

/* Sets up the line editor on the terminal (stdin) and watches stdin.
   Returns NULL (with a message printed) if it cannot. */
term *term_new(app *a);
/* Saves the history, restores the terminal, frees. NULL is fine. */
void term_free(term *t);
/* Ctrl-C: clears the line being typed and returns 1, or returns 0 if it
   was empty (the caller then ends the session). */
int term_interrupt(term *t);
/* SIGWINCH */
void term_resize(term *t);
/* SIGTSTP: give the terminal back, stop, and take it again when continued. */
void term_suspend(term *t);

#endif /* WSC_CLI_APP_H */
