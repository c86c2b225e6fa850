/* fuzz_check.h - the harnesses' invariant check: a failed CHECK aborts, so
   libFuzzer records the input as a crash, with the file, line and condition. */
#ifndef WSC_FUZZ_CHECK_H
#define WSC_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                                     \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#endif
