/* Load: 10,000 requests in flight at once all complete (RLIMIT_NOFILE is
 * raised; where it cannot be, failures must be clean, documented errors,
 * never a hang); 8 threads issuing requests for a bounded time lose none. */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>

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

/* A server in a child process of its own (its own descriptor limit) that
 * accepts everything and answers each request HOLD_MS after it arrived, so
 * that all requests are in flight together. The Python test server accepts
 * too slowly for 10,000 connections at once. */
#define HOLD_MS 2000

struct held {
    int fd;
    double due; /* 0 until the request head arrived */
    size_t seen;
    char tail[4];
};

static void hold_server(int listener) {
    static struct held conns[IN_FLIGHT + 64];
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct epoll_event ev, events[256];
    int epfd = epoll_create1(0), nconns = 0, i, n;
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    ev.events = EPOLLIN;
    ev.data.u32 = UINT32_MAX;
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);
    for (;;) {
        double now;
        n = epoll_wait(epfd, events, 256, 20);
        for (i = 0; i < n; i++) {
            uint32_t k = events[i].data.u32;
            if (k == UINT32_MAX) {
                int fd;
                while (nconns < IN_FLIGHT + 64 && (fd = accept(listener, NULL, NULL)) >= 0) {
                    conns[nconns].fd = fd;
                    conns[nconns].due = 0;
                    ev.events = EPOLLIN;
                    ev.data.u32 = (uint32_t)nconns++;
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
            } else {
                char buf[4096];
                ssize_t got = read(conns[k].fd, buf, sizeof buf);
                ssize_t j;
                if (got <= 0) {
                    epoll_ctl(epfd, EPOLL_CTL_DEL, conns[k].fd, NULL);
                    close(conns[k].fd);
                    conns[k].fd = -1;
                    continue;
                }
                /* The head ends at CRLF CRLF; no bodies are sent here. */
                for (j = 0; j < got; j++) {
                    memmove(conns[k].tail, conns[k].tail + 1, 3);
                    conns[k].tail[3] = buf[j];
                    if (memcmp(conns[k].tail, "\r\n\r\n", 4) == 0) {
                        conns[k].due = test_now_ms() + HOLD_MS;
                    }
                }
            }
        }
        now = test_now_ms();
        for (i = 0; i < nconns; i++) {
            if (conns[i].fd >= 0 && conns[i].due > 0 && conns[i].due <= now) {
                if (write(conns[i].fd, reply, sizeof reply - 1) < 0) {
                    close(conns[i].fd);
                    conns[i].fd = -1;
                }
                conns[i].due = 0;
            }
        }
    }
}

static int wait_done(int expected, long timeout_ms) {
    double end = test_now_ms() + (double)timeout_ms;
    while (atomic_load(&done) < expected && test_now_ms() < end) {
        test_sleep_ms(10);
    }
    return atomic_load(&done);
}

int main(int argc, char **argv) {
    struct rlimit limit;
    struct nethttp_options *options;
    pthread_t threads[ISSUERS];
    char url[256];
    int i, raised, listener, hold_port = 0, status;
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
    listener = test_loopback_listener(4096, &hold_port);
    CHECK(listener >= 0);
    fflush(NULL);
    child = fork();
    if (child == 0) {
        hold_server(listener);
        _exit(0);
    }
    close(listener);
    options = nethttp_options_new();
    nethttp_options_set_timeout_ms(options, 120000);
    test_url(url, sizeof url, hold_port, "/hold");
    for (i = 0; i < IN_FLIGHT; i++) {
        CHECK(nethttp_request(url, options, load_callback, NULL) != NULL);
    }
    nethttp_options_free(options);
    CHECK_INT(wait_done(IN_FLIGHT, 150000), IN_FLIGHT);
    printf("%d in flight: %d ok, %d clean failures, %d other\n", IN_FLIGHT, atomic_load(&ok),
           atomic_load(&clean_failures), atomic_load(&other_failures));
    CHECK_INT(atomic_load(&other_failures), 0);
    if (raised) {
        CHECK_INT(atomic_load(&ok), IN_FLIGHT);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);

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
