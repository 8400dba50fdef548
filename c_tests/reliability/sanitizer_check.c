/* Checks that a sanitizer build really is one (NETHTTP_SANITIZE, see
 * c_tests/CMakeLists.txt). Modes:
 *   active         exit 0 when AddressSanitizer is compiled in
 *                  (__SANITIZE_ADDRESS__ or __has_feature) and its runtime
 *                  is linked (__asan_init resolves); with "undefined" as
 *                  argv[2], UBSan's runtime too (__ubsan_handle_add_overflow)
 *   overflow       writes one byte past a heap block: ASan must stop it
 *   double-free    frees a string of nethttp's twice through nethttp_free():
 *                  the free happens inside the (uninstrumented) Rust library,
 *                  and ASan's interceptor must catch it
 *   use-after-free reads a nethttp string after nethttp_free()
 *   signed-overflow  INT_MAX + 1: UBSan must report it
 * ctest matches the sanitizer's report in the output of the last four, so
 * they pass only when the sanitizer itself caught the error. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nethttp.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_COMPILED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_COMPILED 1
#endif
#endif
#ifndef ASAN_COMPILED
#define ASAN_COMPILED 0
#endif

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "active";
    if (strcmp(mode, "active") == 0) {
        int asan_runtime = dlsym(RTLD_DEFAULT, "__asan_init") != NULL;
        int want_ubsan = argc > 2 && strstr(argv[2], "undefined") != NULL;
        int ubsan_runtime = dlsym(RTLD_DEFAULT, "__ubsan_handle_add_overflow") != NULL;
        printf("ASan compiled in: %d, ASan runtime: %d, UBSan runtime: %d (wanted: %d)\n", ASAN_COMPILED,
               asan_runtime, ubsan_runtime, want_ubsan);
        return ASAN_COMPILED && asan_runtime && (!want_ubsan || ubsan_runtime) ? 0 : 1;
    }
    if (strcmp(mode, "overflow") == 0) {
        char *block = malloc(8);
        volatile char *volatile hidden = block; /* UBSan's object-size check cannot see through it: ASan must */
        volatile size_t at = 8;
        hidden[at] = 1;
        printf("not caught\n");
        free(block);
        return 0;
    }
    if (strcmp(mode, "double-free") == 0) {
        char *s = nethttp_urlencode("a b", 3, NULL);
        nethttp_free(s);
        nethttp_free(s);
        printf("not caught\n");
        return 0;
    }
    if (strcmp(mode, "use-after-free") == 0) {
        char *s = nethttp_urlencode("a b", 3, NULL);
        volatile char c;
        nethttp_free(s);
        c = s[1];
        printf("not caught (%d)\n", c);
        return 0;
    }
    if (strcmp(mode, "signed-overflow") == 0) {
        volatile int x = INT_MAX;
        int y = x + 1;
        printf("not caught (%d)\n", y);
        return 0;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
