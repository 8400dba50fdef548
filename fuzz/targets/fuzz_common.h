/* Shared by the libFuzzer harnesses in fuzz/targets/ (built by
 * scripts/fuzz.sh): a check that aborts (so libFuzzer records the input as
 * a crash) with a message. */
#ifndef NETHTTP_FUZZ_COMMON_H
#define NETHTTP_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "nethttp.h"

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: fuzz check failed: %s (last error: %s: %s)\n", __FILE__, \
                    __LINE__, #cond, nethttp_strerror((int)nethttp_last_error_code()),    \
                    nethttp_last_error());                                                \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

#endif
