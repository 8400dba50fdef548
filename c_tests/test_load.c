/* Load: 10,000 requests in flight at once all complete (RLIMIT_NOFILE is
 * raised; where it cannot be, failures must be clean, documented errors,
 * never a hang); 8 threads issuing requests for a bounded time lose none. */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "hold_server.h"
#include "test_util.h"

#define IN_FLIGHT 10000
#define ISSUERS 8
#define ISSUE_MS 1500

static struct test_server server;
static atomic_int done, ok, clean_failures, other_failures;

static int load_callback(const char *body, size_t body_len, int status,
                         const struct nethttp_response *response, void *userdata) {
    enum nethttp_result code = nethttp_response_error_code(response);
    (void)body, (void)body_len, (void)userdata;
    if (status == 200) {
        atomic_fetch_add(&ok, 1);
    } else if (code == NETHTTP_RESULT_CONNECTION_REFUSED || code == NETHTTP_RESULT_REQUEST_FAILED) {
        if (atomic_fetch_add(&clean_failures, 1) == 0) {
            printf("first clean failure: %s (%s)\n", nethttp_strerror((int)code),
                   nethttp_response_error_detail(response));
        }
    } else {
        fprintf(stderr, "unexpected outcome: status %d, %s (%s)\n", status, nethttp_strerror((int)code),
                nethttp_response_error_detail(response));
        atomic_fetch_add(&other_failures, 1);
    }
    atomic_fetch_add(&done, 1);
    return 0;
}

static atomic_int issued;

static void *issuer(void *arg) {
    char url[256];
    double end = test_now_ms() + ISSUE_MS;
    (void)arg;
    test_url(url, sizeof url, server.http_port, "/status/200");
    while (test_now_ms() < end) {
        if (nethttp_request(url, NULL, load_callback, NULL) != NULL) {
            atomic_fetch_add(&issued, 1);
        } else {
            fprintf(stderr, "nethttp_request: %s\n", nethttp_last_error());
        }
        /* Keep the backlog bounded: wait while too many are in flight. */
        while (atomic_load(&issued) - atomic_load(&done) > 500) {
            test_sleep_ms(1);
        }
    }
    return NULL;
}

/* Each request is held this long by the hold server, so that all are in
 * flight together. */
#define HOLD_MS 2000

static int wait_done(int expected, long timeout_ms) {
    double end = test_now_ms() + (double)timeout_ms;
    while (atomic_load(&done) < expected && test_now_ms() < end) {
        test_sleep_ms(10);
    }
    return atomic_load(&done);
}

int main(int argc, char **argv) {
    struct rlimit limit;
    pthread_t threads[ISSUERS];
    char url[256];
    int i, raised, hold_port = 0;
    pid_t child;
    server = test_server_from_args(argc, argv);

    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < IN_FLIGHT + 1000) {
        limit.rlim_cur = limit.rlim_max < IN_FLIGHT + 1000 ? limit.rlim_max : IN_FLIGHT + 1000;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    getrlimit(RLIMIT_NOFILE, &limit);
    raised = limit.rlim_cur >= IN_FLIGHT + 1000;
    printf("RLIMIT_NOFILE %llu%s\n", (unsigned long long)limit.rlim_cur,
           raised ? "" : " (could not raise it: clean failures are allowed)");

    /* A socket numbered above 1024 works (libcurl must poll, not select). */
    if (raised) {
        int fds[1100], nfds = 0;
        struct capture c;
        while (nfds < 1100 && (fds[nfds] = open("/dev/null", O_RDONLY)) >= 0) {
            nfds++;
        }
        capture_init(&c);
        CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/status/200"), NULL));
        CHECK_INT(c.status, 200);
        capture_free(&c);
        while (nfds > 0) {
            close(fds[--nfds]);
        }
    }

    /* 10,000 at once, each held 2 s by the server: all are in flight together. */
    child = hold_server_start(IN_FLIGHT + 64, HOLD_MS, &hold_port);
    CHECK(child > 0);
    CHECK_INT(hold_server_requests(NULL, hold_port, IN_FLIGHT, 120000, load_callback), IN_FLIGHT);
    CHECK_INT(wait_done(IN_FLIGHT, 150000), IN_FLIGHT);
    printf("%d in flight: %d ok, %d clean failures, %d other\n", IN_FLIGHT, atomic_load(&ok),
           atomic_load(&clean_failures), atomic_load(&other_failures));
    CHECK_INT(atomic_load(&other_failures), 0);
    if (raised) {
        CHECK_INT(atomic_load(&ok), IN_FLIGHT);
    }
    hold_server_stop(child);

    /* 8 threads issuing for a bounded time: every request comes back. */
    atomic_store(&done, 0);
    atomic_store(&ok, 0);
    for (i = 0; i < ISSUERS; i++) {
        pthread_create(&threads[i], NULL, issuer, NULL);
    }
    for (i = 0; i < ISSUERS; i++) {
        pthread_join(threads[i], NULL);
    }
    CHECK_INT(wait_done(atomic_load(&issued), 60000), atomic_load(&issued));
    printf("%d threads for %d ms: %d issued, %d ok\n", ISSUERS, ISSUE_MS, atomic_load(&issued),
           atomic_load(&ok));
    CHECK_INT(atomic_load(&ok), atomic_load(&issued));
    CHECK(atomic_load(&issued) > 100);
    CHECK_INT(nethttp_live_requests(), 0);
    return test_finish("test_load");
}
