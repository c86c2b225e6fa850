/* loops_driver.h - what bench_loops.c needs from one way of running a wsc
 * loop: wsc's own loop on a backend, or a foreign loop through an adapter
 * of <wsc/adapters/>. A header of its own because libev's ev.h and
 * libevent's event2 headers define the same names (EV_READ, EV_WRITE...)
 * and cannot share a translation unit: the libev driver lives in
 * loops_libev.c, built into a program of its own, bench_loops_libev
 * (libev.so also exports a libevent emulation whose symbols would stand in
 * for the real libevent's; bench/CMakeLists.txt). */
#ifndef WSC_BENCH_LOOPS_DRIVER_H
#define WSC_BENCH_LOOPS_DRIVER_H

#include "wsc/loop.h"

typedef struct bl_driver {
    const char *name;
    /* Creates the loop; *loop is the wsc loop to create the connection on.
       Returns the driver's state, or NULL with err set. */
    void *(*open)(wsc_loop **loop, wsc_error *err);
    void (*run)(void *state);  /* runs until stop() */
    void (*stop)(void *state); /* from inside a wsc callback */
    void (*close)(void *state); /* once the connection is freed */
    /* The kernel mechanism the loop ends up using, for the report (a
       foreign loop's choice is its own, made at run time). */
    const char *(*mechanism)(void);
} bl_driver;

#ifdef WSC_HAVE_LIBEV
extern const bl_driver bl_driver_libev;
#endif

#endif
