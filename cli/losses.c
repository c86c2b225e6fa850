/*
 * losses.c - confirmed delivery as the user sees it (wsc(1) DELIVERY):
 * which input each message came from (by the library's sequence number),
 * and the messages that may have been lost, were discarded or were sent
 * again, listed by input line or -x number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "output.h"
#include "util.h"

/* Confirmed delivery, as the user sees it: which input each message came
   from (by the library's sequence number), and what may have been lost. */
static struct {
    uint64_t *label;     /* label[seq]: the input line (stdin), -x index, or 0 */
    size_t cap;
    const char *unit;    /* "line" or "-x" or "message" */
    uint64_t *pending;   /* labels reported UNCONFIRMED since the last close event */
    size_t npending, pcap;
    int by_server;       /* the pending ones: the server closed cleanly (its Close
                            crossed them) rather than the connection dropping */
    uint64_t lost;       /* messages that may have been lost, in all */
    uint64_t resent;     /* sent again (at-least-once): possible duplicates */
} g_dr;

/* "3" or "3-7" appended to a comma-separated list of labels, ranges merged
   as they come in order. */
static uint64_t g_range_first, g_range_last;
static void add_label(wsc_buf *b, uint64_t seq) {
    uint64_t l = seq < g_dr.cap ? g_dr.label[seq] : seq;
    if (!l) l = seq;
    if (b->len && l == g_range_last + 1) {
        /* extend: rewrite the tail "first[-last]" */
        char tail[48];
        int tl = g_range_first == g_range_last ? snprintf(tail, sizeof tail, "%llu", (unsigned long long)g_range_last)
                                               : snprintf(tail, sizeof tail, "%llu-%llu",
                                                          (unsigned long long)g_range_first,
                                                          (unsigned long long)g_range_last);
        b->len -= (size_t)tl + 1; /* and its NUL */
        g_range_last = l;
        buf_printf(b, "%llu-%llu", (unsigned long long)g_range_first, (unsigned long long)g_range_last);
    } else {
        if (b->len) b->len--; /* the NUL */
        buf_printf(b, "%s%llu", b->len ? "," : "", (unsigned long long)l);
        g_range_first = g_range_last = l;
    }
    wsc_buf_append(b, "", 1);
}

static const char *label_unit(size_t n) {
    const char *u = g_dr.unit ? g_dr.unit : "message";
    if (!strcmp(u, "line")) return n == 1 ? "line " : "lines ";
    if (!strcmp(u, "-x")) return "-x ";
    return n == 1 ? "message " : "messages ";
}

/* At-most-once: the messages sent but not confirmed before the drop, or
   before a clean close the server started (a close we started confirms all,
   so a clean one here is always the server's: client.h). */
void dr_on_unconfirmed(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    (void)user;
    g_dr.by_server = ev->ws_event && ev->ws_event->was_clean;
    if (g_dr.npending == g_dr.pcap) {
        g_dr.pcap = g_dr.pcap ? g_dr.pcap * 2 : 64;
        g_dr.pending = xrealloc(g_dr.pending, g_dr.pcap * sizeof *g_dr.pending);
    }
    g_dr.pending[g_dr.npending++] = ev->seq;
    g_dr.lost++;
}

void dr_report_unconfirmed(void) {
    if (!g_dr.npending) return;
    wsc_buf b = {0};
    for (size_t i = 0; i < g_dr.npending; i++) add_label(&b, g_dr.pending[i]);
    app_report("%zu message%s sent but not confirmed before %s, possibly lost (not sent again; "
           "--at-least-once sends them again): %s%s",
           g_dr.npending, g_dr.npending == 1 ? "" : "s",
           g_dr.by_server ? "the server closed the connection" : "the connection dropped", label_unit(g_dr.npending),
           (const char *)b.data);
    wsc_buf_free(&b);
    g_dr.npending = 0;
}

/* At-least-once: the unconfirmed messages go out again. */
void dr_on_resent(wsc_client *c, const wsc_client_event *ev, void *user) {
    (void)c;
    (void)user;
    g_dr.resent += ev->count;
    wsc_buf b = {0};
    for (uint64_t s = ev->seq; s && s <= ev->seq_last; s++) add_label(&b, s);
    out_status(ST_WARN, "%zu unconfirmed message%s will be sent again (the server may see duplicates): %s%s",
               ev->count, ev->count == 1 ? "" : "s", label_unit(ev->count), b.len ? (const char *)b.data : "?");
    wsc_buf_free(&b);
}

void dr_label(uint64_t seq, const char *where) {
    if (seq >= g_dr.cap) {
        size_t ncap = g_dr.cap ? g_dr.cap * 2 : 1024;
        while (ncap <= seq) ncap *= 2;
        g_dr.label = xrealloc(g_dr.label, ncap * sizeof *g_dr.label);
        memset(g_dr.label + g_dr.cap, 0, (ncap - g_dr.cap) * sizeof *g_dr.label);
        g_dr.cap = ncap;
    }
    unsigned long long n = 0;
    if (where && sscanf(where, "line %llu", &n) == 1) g_dr.unit = "line";
    else if (where && sscanf(where, "-x %llu", &n) == 1) g_dr.unit = "-x";
    else n = seq;
    g_dr.label[seq] = n;
}

void dr_discarded(const char *msg, const wsc_client_event *ev) {
    wsc_buf b = {0};
    for (uint64_t s = ev->seq; s && s <= ev->seq_last; s++) add_label(&b, s);
    g_dr.lost += ev->count;
    app_report("%s (not sent: %s%s)", msg, label_unit(ev->count), b.len ? (const char *)b.data : "?");
    wsc_buf_free(&b);
}

void dr_add_lost(size_t n) { g_dr.lost += n; }
uint64_t dr_lost(void) { return g_dr.lost; }
uint64_t dr_resent(void) { return g_dr.resent; }

void dr_free(void) {
    free(g_dr.label);
    free(g_dr.pending);
    memset(&g_dr, 0, sizeof g_dr);
}
