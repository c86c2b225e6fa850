/*
 * wsc/adapters/glib.h - run wsc on a GLib main context (header only; link
 * glib-2.0): GTK programs, GIO daemons.
 *
 *   wsc_glib *a = wsc_glib_new(NULL, &err);   // NULL: the default context
 *   wsc_client *c = wsc_client_new(wsc_glib_loop(a), url, &opts, &err);
 *   g_main_loop_run(main_loop);               // wsc's work runs in there
 *   ...
 *   wsc_client_free(c);
 *   wsc_glib_free(a);
 *
 * One GSource per wsc loop carries every descriptor wsc watches
 * (g_source_add_unix_fd, modified in place when an interest changes) and
 * wsc's timer (its ready time), through the per-socket hooks of
 * wsc_loop_new_hooks() (<wsc/loop.h>). Dispatch reads the conditions of all
 * of them first, then hands each ready one to wsc_loop_hook_io(): O(fds)
 * per wake-up, as GLib's poll() is. Posts from other threads
 * (wsc_loop_post) wake the context through wsc's own wake-up descriptor
 * (an eventfd; a pipe where there is none), one more unix fd of this
 * GSource, i.e. through GLib's own poll(): not g_main_context_wakeup() or
 * an idle source, so that one mechanism serves every loop and adapter and a
 * post costs what it does on wsc's own loop. Context thread only. GLib
 * blocks a GSource while dispatching it, which removes and re-adds each of
 * its descriptors, each a write to the context's own wake-up eventfd: 2 per
 * descriptor per dispatch, 4 per round trip with one connection
 * (docs/PERFORMANCE.md, "Loop backends and adapters"). (CC0: copy freely.)
 */
#ifndef WSC_ADAPTERS_GLIB_H
#define WSC_ADAPTERS_GLIB_H

#include <glib.h>
#include <stdio.h>

#include "../loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wsc_glib_fd_ {
    int fd;
    gpointer tag; /* from g_source_add_unix_fd */
    GIOCondition cond;
} wsc_glib_fd_;

typedef struct wsc_glib {
    GSource source; /* first: GLib allocates the whole struct */
    wsc_loop *loop;
    GArray *fds;    /* of wsc_glib_fd_ */
} wsc_glib;

static inline wsc_glib_fd_ *wsc_glib_find_(wsc_glib *a, int fd, guint *at) {
    for (guint i = 0; i < a->fds->len; i++) {
        wsc_glib_fd_ *f = &g_array_index(a->fds, wsc_glib_fd_, i);
        if (f->fd == fd) {
            if (at) *at = i;
            return f;
        }
    }
    return NULL;
}

static inline int wsc_glib_add_(void *user, int fd, void **data, GIOCondition bit) {
    (void)data; /* the array is the state: dispatch walks it */
    wsc_glib *a = (wsc_glib *)user;
    wsc_glib_fd_ *f = wsc_glib_find_(a, fd, NULL);
    if (!f) {
        wsc_glib_fd_ nf = {fd, g_source_add_unix_fd(&a->source, fd, (GIOCondition)(bit | G_IO_ERR | G_IO_HUP)),
                           (GIOCondition)(bit | G_IO_ERR | G_IO_HUP)};
        g_array_append_val(a->fds, nf);
        return 0;
    }
    f->cond = (GIOCondition)(f->cond | bit);
    g_source_modify_unix_fd(&a->source, f->tag, f->cond);
    return 0;
}

static inline void wsc_glib_del_(void *user, int fd, void **data, GIOCondition bit) {
    (void)data;
    wsc_glib *a = (wsc_glib *)user;
    wsc_glib_fd_ *f = wsc_glib_find_(a, fd, NULL);
    f->cond = (GIOCondition)(f->cond & ~bit);
    g_source_modify_unix_fd(&a->source, f->tag, f->cond);
}

static inline int wsc_glib_add_read_(void *u, int fd, void **d) { return wsc_glib_add_(u, fd, d, G_IO_IN); }
static inline int wsc_glib_add_write_(void *u, int fd, void **d) { return wsc_glib_add_(u, fd, d, G_IO_OUT); }
static inline void wsc_glib_del_read_(void *u, int fd, void **d) { wsc_glib_del_(u, fd, d, G_IO_IN); }
static inline void wsc_glib_del_write_(void *u, int fd, void **d) { wsc_glib_del_(u, fd, d, G_IO_OUT); }

static inline void wsc_glib_cleanup_(void *user, int fd, void **data) {
    (void)data;
    wsc_glib *a = (wsc_glib *)user;
    guint at;
    wsc_glib_fd_ *f = wsc_glib_find_(a, fd, &at);
    if (!f) return;
    g_source_remove_unix_fd(&a->source, f->tag);
    g_array_remove_index_fast(a->fds, at);
}

static inline void wsc_glib_timer_(void *user, int ms) {
    wsc_glib *a = (wsc_glib *)user;
    g_source_set_ready_time(&a->source, ms < 0 ? -1 : g_get_monotonic_time() + (gint64)ms * 1000);
}

static inline gboolean wsc_glib_dispatch_(GSource *s, GSourceFunc cb, gpointer user) {
    (void)cb, (void)user;
    wsc_glib *a = (wsc_glib *)s;
    /* the conditions first: a dispatch below may remove or add descriptors */
    guint n = a->fds->len, k = 0;
    wsc_glib_fd_ *ready = g_newa(wsc_glib_fd_, n ? n : 1);
    for (guint i = 0; i < n; i++) {
        wsc_glib_fd_ f = g_array_index(a->fds, wsc_glib_fd_, i);
        f.cond = g_source_query_unix_fd(s, f.tag);
        if (f.cond) ready[k++] = f;
    }
    gint64 due = g_source_get_ready_time(s);
    for (guint i = 0; i < k; i++) {
        unsigned e = (ready[i].cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL)) ? WSC_READABLE | WSC_WRITABLE : 0u;
        if (ready[i].cond & G_IO_IN) e |= WSC_READABLE;
        if (ready[i].cond & G_IO_OUT) e |= WSC_WRITABLE;
        (void)wsc_loop_hook_io(a->loop, ready[i].fd, e); /* 0 if since forgotten */
    }
    if (due >= 0 && g_get_monotonic_time() >= due) {
        g_source_set_ready_time(s, -1); /* one-shot; process() re-arms it */
        (void)wsc_loop_process(a->loop);
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs wsc_glib_funcs_ = {NULL, NULL, wsc_glib_dispatch_, NULL, NULL, NULL};

/* Creates a wsc loop that runs on `ctx` (NULL: the default main context).
   NULL with err set (WSC_ENOMEM, WSC_EIO). */
static inline wsc_glib *wsc_glib_new(GMainContext *ctx, wsc_error *err) {
    wsc_glib *a = (wsc_glib *)g_source_new(&wsc_glib_funcs_, sizeof *a);
    a->fds = g_array_new(FALSE, FALSE, sizeof(wsc_glib_fd_));
    wsc_loop_hooks h = {a, wsc_glib_add_read_, wsc_glib_del_read_, wsc_glib_add_write_, wsc_glib_del_write_,
                        wsc_glib_cleanup_, wsc_glib_timer_};
    a->loop = wsc_loop_new_hooks(&h, err);
    if (!a->loop) {
        g_array_free(a->fds, TRUE);
        g_source_unref(&a->source);
        return NULL;
    }
    g_source_attach(&a->source, ctx);
    return a;
}

static inline wsc_loop *wsc_glib_loop(wsc_glib *a) { return a->loop; }

/* Frees the wsc loop (free its connections, clients and timers first),
   detaches and frees the source. NULL: no-op. */
static inline void wsc_glib_free(wsc_glib *a) {
    if (!a) return;
    wsc_loop_free(a->loop); /* removes every descriptor, disarms the timer */
    g_array_free(a->fds, TRUE);
    g_source_destroy(&a->source);
    g_source_unref(&a->source);
}

#ifdef __cplusplus
}
#endif
#endif /* WSC_ADAPTERS_GLIB_H */
