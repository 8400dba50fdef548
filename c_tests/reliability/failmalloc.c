/* An LD_PRELOAD allocator shim for allocation-failure tests (allocfail.c),
 * in the manner of curl's torture tests: once armed with N, the Nth
 * allocation made by any thread of the process (malloc, calloc, realloc,
 * posix_memalign, aligned_alloc, memalign) returns NULL with ENOMEM; the
 * others go to libc. It also counts the blocks alive, for leak checks, and
 * writes the stack of the failed allocation to stderr ("failmalloc-frame
 * FILE +0xOFFSET" lines, written without allocating), so a process that
 * then aborts shows where.
 *
 * Control, looked up by the test with dlsym(RTLD_DEFAULT, ...):
 *   failmalloc_arm(n)     count allocations from now on; fail the nth
 *                         (LONG_MAX: only count)
 *   failmalloc_disarm()   stop; returns the allocations counted since arm
 *   failmalloc_fired()    whether the armed failure happened
 *   failmalloc_live()     blocks allocated and not yet freed (since start) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

/* dlsym itself may calloc before real_calloc is known: serve it from here. */
static _Alignas(16) char boot[16384];
static size_t boot_used;

static atomic_long armed_at;
static atomic_long counted;
static atomic_long live;
static atomic_int fired;
static _Thread_local int inside; /* no counting inside the shim's own work */

static int from_boot(void *p) {
    return (char *)p >= boot && (char *)p < boot + sizeof boot;
}

static void resolve(void) {
    if (real_malloc != NULL) {
        return;
    }
    inside++;
    /* POSIX's way to store dlsym's result in a function pointer. */
    *(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
    *(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc");
    *(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
    *(void **)&real_free = dlsym(RTLD_NEXT, "free");
    *(void **)&real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    *(void **)&real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    *(void **)&real_memalign = dlsym(RTLD_NEXT, "memalign");
    inside--;
}

__attribute__((constructor)) static void failmalloc_init(void) {
    void *frames[4];
    resolve();
    inside++;
    backtrace(frames, 4); /* loads libgcc_s now, not when an allocation fails */
    inside--;
}

static void put(const char *text, size_t len) {
    if (write(2, text, len) < 0) {
        /* nothing to do: stderr is gone */
    }
}

/* The stack as "FILE +0xOFFSET" lines (offsets within each object, for
 * addr2line), written without allocating. */
static void write_stack(void) {
    static const char head[] = "failmalloc: failing allocation, stack:\n";
    void *frames[48];
    int depth, i;
    inside++;
    depth = backtrace(frames, 48);
    put(head, sizeof head - 1);
    for (i = 1; i < depth; i++) {
        Dl_info info;
        char hex[32];
        int n = 0;
        uintptr_t offset;
        if (dladdr(frames[i], &info) == 0 || info.dli_fname == NULL) {
            continue;
        }
        offset = (uintptr_t)frames[i] - (uintptr_t)info.dli_fbase - 1; /* inside the call */
        do {
            hex[sizeof hex - 1 - n++] = "0123456789abcdef"[offset & 15];
            offset >>= 4;
        } while (offset != 0 && n < 30);
        put("failmalloc-frame ", 17);
        put(info.dli_fname, strlen(info.dli_fname));
        put(" +0x", 4);
        put(hex + sizeof hex - n, (size_t)n);
        put("\n", 1);
    }
    inside--;
}

/* True when this allocation is the one to fail. */
static int should_fail(void) {
    long n = atomic_load(&armed_at), c;
    if (n <= 0 || inside) {
        return 0;
    }
    c = atomic_fetch_add(&counted, 1) + 1;
    if (c != n) {
        return 0;
    }
    atomic_store(&fired, 1);
    write_stack();
    errno = ENOMEM;
    return 1;
}

static void *counted_block(void *p) {
    if (p != NULL) {
        atomic_fetch_add(&live, 1);
    }
    return p;
}

void *malloc(size_t size) {
    resolve();
    if (should_fail()) {
        return NULL;
    }
    return counted_block(real_malloc(size));
}

void *calloc(size_t n, size_t size) {
    if (real_calloc == NULL) {
        size_t total = n * size, at = (boot_used + 15) & ~(size_t)15;
        if (at + total > sizeof boot) {
            return NULL;
        }
        boot_used = at + total;
        memset(boot + at, 0, total);
        return boot + at;
    }
    if (should_fail()) {
        return NULL;
    }
    return counted_block(real_calloc(n, size));
}

void *realloc(void *p, size_t size) {
    void *q;
    resolve();
    if (p != NULL && from_boot(p)) {
        return NULL;
    }
    if (should_fail()) {
        return NULL;
    }
    q = real_realloc(p, size);
    if (p == NULL && q != NULL) {
        atomic_fetch_add(&live, 1);
    } else if (p != NULL && size == 0 && q == NULL) {
        atomic_fetch_sub(&live, 1); /* glibc's realloc(p, 0) frees p */
    }
    return q;
}

void free(void *p) {
    if (p == NULL || from_boot(p)) {
        return;
    }
    resolve();
    atomic_fetch_sub(&live, 1);
    real_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    int rc;
    resolve();
    if (should_fail()) {
        return ENOMEM;
    }
    rc = real_posix_memalign(out, alignment, size);
    if (rc == 0) {
        atomic_fetch_add(&live, 1);
    }
    return rc;
}

void *aligned_alloc(size_t alignment, size_t size) {
    resolve();
    if (should_fail()) {
        return NULL;
    }
    return counted_block(real_aligned_alloc(alignment, size));
}

void *memalign(size_t alignment, size_t size) {
    resolve();
    if (should_fail()) {
        return NULL;
    }
    return counted_block(real_memalign(alignment, size));
}

void failmalloc_arm(long n) {
    atomic_store(&counted, 0);
    atomic_store(&fired, 0);
    atomic_store(&armed_at, n);
}

long failmalloc_disarm(void) {
    atomic_store(&armed_at, 0);
    return atomic_load(&counted);
}

int failmalloc_fired(void) {
    return atomic_load(&fired);
}

long failmalloc_live(void) {
    return atomic_load(&live);
}
