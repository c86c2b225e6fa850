/*
 * server_limits.c - what one client, or many, may make the server hold
 * (server.h, "Budgets"): the global memory budget, the idle and
 * unfinished-message timeouts, and the per-address connection limit.
 *
 * The budget counts capacities, not bytes written: a reservation is charged
 * in full the moment it is made, before the memory is touched, so the
 * check happens while the pages are still untouched (a refused reservation
 * never becomes resident). Three kinds of storage are counted:
 *   - reassembly (and inflated output), through the protocol core's rx_mem
 *     hook (wsc_proto_config), which can refuse a growth: that connection
 *     fails with 1009;
 *   - send buffers and request heads (in, out), checked before they grow
 *     (wsc__srv_fits) and brought up to date afterwards (wsc__srv_charge).
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "server_internal.h"
#include "wsc/proto.h"

#define MIB ((uint64_t)1024 * 1024)

uint64_t wsc_server_default_budget(void) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 256 * MIB;
    uint64_t b = phys / 4;
    if (b < 64 * MIB) b = 64 * MIB;
    if (b > 1024 * MIB) b = 1024 * MIB;
    return b;
}

int wsc__srv_fits(const wsc_server *s, uint64_t bytes) {
    return s->mem_used <= s->budget && bytes <= s->budget - s->mem_used;
}

/* Arms the deadline when the message starts holding storage; the next
   deadline check sees that it no longer does. */
int wsc__srv_rx_mem(void *user, long long delta) {
    wsc_sconn *c = user;
    wsc_server *s = c->srv;
    if (delta < 0) {
        uint64_t d = (uint64_t)-delta;
        c->rx_held = d > c->rx_held ? 0 : c->rx_held - d;
        s->mem_used = d > s->mem_used ? 0 : s->mem_used - d;
        s->rx_used = d > s->rx_used ? 0 : s->rx_used - d;
        return 0;
    }
    uint64_t d = (uint64_t)delta;
    uint64_t per_conn = s->o.message_memory_max ? s->o.message_memory_max : s->budget / 4;
    uint64_t rx_cap = s->budget / 4 * 3; /* the rest: send buffers, handshakes */
    if (d > per_conn - (c->rx_held < per_conn ? c->rx_held : per_conn)) return 1;
    if (!wsc__srv_fits(s, d) || s->rx_used + d > rx_cap) return 1;
    s->rx_used += d;
    int was_idle = c->rx_held == 0;
    c->rx_held += (uint64_t)delta;
    s->mem_used += (uint64_t)delta;
    if (was_idle) {
        c->msg_since = wsc_loop_now(s->loop);
        wsc__srv_deadline_arm(c);
    }
    return 0;
}

void wsc__srv_charge(wsc_sconn *c) {
    uint64_t now = (uint64_t)c->in.cap + (uint64_t)c->c.out.cap;
    wsc_server *s = c->srv;
    s->mem_used = s->mem_used - c->bufs_held + now;
    c->bufs_held = now;
}

void wsc__srv_uncharge(wsc_sconn *c) {
    wsc_server *s = c->srv;
    s->mem_used -= c->bufs_held > s->mem_used ? s->mem_used : c->bufs_held;
    c->bufs_held = 0;
    /* rx_held is released by wsc_proto_free through the hook. */
}

/* The earliest of the idle deadline and the unfinished message's deadline
   (0: none). */
static uint64_t next_deadline(const wsc_sconn *c) {
    const wsc_server_options *o = &c->srv->o;
    uint64_t due = 0;
    if (o->idle_timeout_ms) due = c->last_rx + o->idle_timeout_ms;
    if (c->rx_held) {
        uint64_t m = c->msg_since + (o->message_timeout_ms ? o->message_timeout_ms : 60000);
        if (!due || m < due) due = m;
    }
    return due;
}

static void on_deadline(wsc_loop *loop, wsc_timer *t, void *user) {
    (void)t;
    wsc_sconn *c = user;
    if (c->c.phase != S_OPEN) return; /* closing: the close timeout rules */
    uint64_t now = wsc_loop_now(loop);
    const wsc_server_options *o = &c->srv->o;
    wsc__sconn_enter(c);
    if (c->rx_held && now >= c->msg_since + (o->message_timeout_ms ? o->message_timeout_ms : 60000)) {
        c->c.failed = 1;
        wsc_sconn_close(c, 1008, "message took too long");
    } else if (o->idle_timeout_ms && now >= c->last_rx + o->idle_timeout_ms) {
        wsc_sconn_close(c, 1001, "idle timeout");
    } else {
        wsc__srv_deadline_arm(c); /* activity since it was armed: later */
    }
    wsc__sconn_leave(c);
}

void wsc__srv_deadline_arm(wsc_sconn *c) {
    if (!c->deadline_on) {
        wsc__timer_init(&c->deadline, c->srv->loop, on_deadline, c);
        c->deadline_on = 1;
    }
    uint64_t due = next_deadline(c);
    if (!due || c->c.phase != S_OPEN) {
        wsc_timer_stop(&c->deadline);
        return;
    }
    uint64_t now = wsc_loop_now(c->srv->loop);
    /* Already armed for exactly this moment: leave the timer heap alone
       (the common case: every read moves last_rx but not the armed time). */
    if (wsc_timer_active(&c->deadline) && c->deadline.due <= due) return;
    wsc_timer_start(&c->deadline, due > now ? due - now : 0);
}

int wsc__srv_address_full(const wsc_server *s, const wsc_sconn *c) {
    unsigned max = s->o.max_per_address;
    if (!max) return 0;
    unsigned n = 0;
    for (const wsc_sconn *o = s->conns; o; o = o->next)
        if (o != c && o->c.phase != S_DONE && o->addr_len == c->addr_len &&
            memcmp(o->peer, c->peer, c->addr_len) == 0 && ++n >= max)
            return 1;
    return 0;
}

uint64_t wsc_server_memory_used(const wsc_server *s) { return s->mem_used; }
uint64_t wsc_server_memory_budget(const wsc_server *s) { return s->budget; }
