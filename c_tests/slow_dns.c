/* LD_PRELOAD shim for test_client_slow_dns: getaddrinfo() of any name that
 * ends in ".slow-dns.test" sleeps 3 s, then fails as an unknown name; other
 * names go to the C library. slow_dns_lookups_finished() counts the slow
 * lookups that have returned, so the test can tell "before the lookup ended"
 * without measuring time. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static atomic_int finished;

int slow_dns_lookups_finished(void);
int slow_dns_lookups_finished(void) {
    return atomic_load(&finished);
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    static const char suffix[] = ".slow-dns.test";
    size_t n = node ? strlen(node) : 0;
    if (n >= sizeof suffix - 1 && strcmp(node + n - (sizeof suffix - 1), suffix) == 0) {
        struct timespec ts = {3, 0};
        while (nanosleep(&ts, &ts) != 0) {
        }
        atomic_fetch_add(&finished, 1);
        return EAI_NONAME;
    }
    {
        int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
        /* POSIX's way to turn dlsym's object pointer into a function pointer. */
        *(void **)(&real) = dlsym(RTLD_NEXT, "getaddrinfo");
        return real(node, service, hints, res);
    }
}
