/* Small helpers shared by the C tests: checks that count failures, the test
 * server's ports, and a callback that captures a response for the main thread. */
#ifndef NETHTTP_TEST_UTIL_H
#define NETHTTP_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nethttp.h"

static int test_checks;
static int test_failures;

#define CHECK(cond)                                                                \
    do {                                                                           \
        test_checks++;                                                             \
        if (!(cond)) {                                                             \
            test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

#define CHECK_INT(actual, expected)                                                       \
    do {                                                                                  \
        long long check_a_ = (long long)(actual), check_e_ = (long long)(expected);       \
        test_checks++;                                                                    \
        if (check_a_ != check_e_) {                                                       \
            test_failures++;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %lld, expected %s == %lld\n",     \
                    __FILE__, __LINE__, #actual, check_a_, #expected, check_e_);          \
        }                                                                                 \
    } while (0)

#define CHECK_STR(actual, expected)                                                      \
    do {                                                                                 \
        const char *check_a_ = (actual), *check_e_ = (expected);                         \
        test_checks++;                                                                   \
        if (check_a_ == NULL || strcmp(check_a_, check_e_) != 0) {                       \
            test_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s is \"%s\", expected \"%s\"\n",      \
                    __FILE__, __LINE__, #actual, check_a_ ? check_a_ : "(null)", check_e_); \
        }                                                                                \
    } while (0)

/* Prints the tally and stops the engine; the exit status of main. */
static inline int test_finish(const char *name) {
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures == 0 ? 0 : 1;
}

static inline void test_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline double test_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* True when `needle` occurs in the `len` bytes at `hay` (binary-safe). */
static inline int test_contains(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    size_t i;
    if (hay == NULL || n > len) {
        return 0;
    }
    for (i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A TCP socket listening on 127.0.0.1 at an ephemeral port (stored in *port)
 * with the given backlog; -1 on failure. */
static inline int test_loopback_listener(int backlog, int *port) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

/* The test server's ports, from the port file named on the command line. */
struct test_server {
    int http_port;
    int https_port;
    char cert_file[4096];
};

static inline struct test_server test_server_from_args(int argc, char **argv) {
    struct test_server server;
    FILE *f;
    memset(&server, 0, sizeof server);
    if (argc < 2 || (f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "usage: %s PORT_FILE [CERT_FILE] (the test server's port file)\n", argv[0]);
        exit(2);
    }
    if (fscanf(f, "%d %d", &server.http_port, &server.https_port) != 2) {
        fprintf(stderr, "%s: cannot read the ports from %s\n", argv[0], argv[1]);
        exit(2);
    }
    fclose(f);
    if (argc >= 3) {
        snprintf(server.cert_file, sizeof server.cert_file, "%s", argv[2]);
    }
    return server;
}

/* Writes "http://127.0.0.1:PORT/path" into buf. */
static inline const char *test_url(char *buf, size_t size, int port, const char *path) {
    snprintf(buf, size, "http://127.0.0.1:%d%s", port, path);
    return buf;
}

static inline const char *test_https_url(char *buf, size_t size, int port, const char *path) {
    snprintf(buf, size, "https://127.0.0.1:%d%s", port, path);
    return buf;
}

/* What a callback saw, copied so the main thread can check it afterwards. */
struct capture {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    int status;
    char *body;
    size_t body_len;
    char error[64];
    enum nethttp_result error_code;
    char detail[512];
    char content_type[128];
    int header_count;
    struct nethttp_request *request; /* nethttp_response_request() */
    const struct nethttp_response *response; /* only while kept */
    int keep;                                /* what the callback returns */
    pthread_t thread;                        /* the thread it ran on */
};

static inline void capture_init(struct capture *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
}

static inline void capture_free(struct capture *c) {
    free(c->body);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
}

static inline int capture_callback(const char *body, size_t body_len, int status,
                            const struct nethttp_response *response, void *userdata) {
    struct capture *c = (struct capture *)userdata;
    const char *error = nethttp_response_error(response);
    const char *detail = nethttp_response_error_detail(response);
    const char *content_type = nethttp_response_header(response, "content-type");
    int keep;
    pthread_mutex_lock(&c->lock);
    free(c->body);
    c->body = (char *)malloc(body_len + 1);
    if (c->body != NULL) {
        memcpy(c->body, body, body_len);
        c->body[body_len] = '\0';
    }
    c->body_len = body_len;
    c->status = status;
    snprintf(c->error, sizeof c->error, "%s", error ? error : "");
    snprintf(c->detail, sizeof c->detail, "%s", detail ? detail : "");
    snprintf(c->content_type, sizeof c->content_type, "%s", content_type ? content_type : "");
    c->error_code = nethttp_response_error_code(response);
    c->header_count = (int)nethttp_response_header_count(response);
    c->request = nethttp_response_request(response);
    c->response = c->keep ? response : NULL;
    c->thread = pthread_self();
    c->calls++;
    keep = c->keep;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return keep;
}

/* Waits until the callback ran `calls` times or `timeout_ms` passed; returns the count. */
static inline int capture_wait(struct capture *c, int calls, long timeout_ms) {
    struct timespec deadline;
    int seen;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->calls < calls) {
        if (pthread_cond_timedwait(&c->cond, &c->lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    seen = c->calls;
    pthread_mutex_unlock(&c->lock);
    return seen;
}

/* Makes a request and waits for its one callback (at most 20 s). */
static inline int capture_fetch(struct capture *c, const char *url, const struct nethttp_options *options) {
    struct nethttp_request *request = nethttp_request(url, options, capture_callback, c);
    if (request == NULL) {
        fprintf(stderr, "nethttp_request(%s) failed: %s\n", url, nethttp_last_error());
        return 0;
    }
    return capture_wait(c, 1, 20000) == 1;
}

/* ---- Clients ------------------------------------------------------------ */


/* A client: dispatch mode when `dispatch`, connection limits `total` and
 * `per_host` (0: none), default options `defaults` (NULL: none). Exits the
 * test when the client cannot be made. */
static inline struct nethttp_client *test_client_new(int dispatch, size_t total, size_t per_host,
                                                     const struct nethttp_options *defaults) {
    struct nethttp_client_config *config = nethttp_client_config_new();
    struct nethttp_client *client;
    /* ctest runs the client tests twice: perform/poll engines, then epoll. */
    const char *epoll = getenv("NETHTTP_TEST_EPOLL");
    if (config == NULL || nethttp_client_config_set_dispatch(config, dispatch) != NETHTTP_RESULT_OK ||
        nethttp_client_config_set_epoll(config, epoll != NULL && epoll[0] == '1') != NETHTTP_RESULT_OK ||
        nethttp_client_config_set_max_connections(config, total, per_host) != NETHTTP_RESULT_OK ||
        nethttp_client_config_set_defaults(config, defaults) != NETHTTP_RESULT_OK) {
        fprintf(stderr, "cannot configure a client: %s\n", nethttp_last_error());
        exit(2);
    }
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    if (client == NULL) {
        fprintf(stderr, "nethttp_client_new failed: %s\n", nethttp_last_error());
        exit(2);
    }
    return client;
}

/* True when `fd` is readable within `timeout_ms` (0: right now). */
static inline int test_readable(int fd, int timeout_ms) {
    struct pollfd p;
    int n;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        n = poll(&p, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n == 1 && (p.revents & POLLIN) != 0;
}

/* Dispatch mode: polls the client's fd and dispatches until `*calls`
 * reaches `target` or `timeout_ms` passed; returns `*calls`. `calls` is
 * counted by callbacks, which run on this thread (inside dispatch). */
static inline int test_dispatch_until(struct nethttp_client *client, const int *calls, int target,
                                      long timeout_ms) {
    double deadline = test_now_ms() + (double)timeout_ms;
    int fd = nethttp_client_fd(client);
    while (*calls < target) {
        double left = deadline - test_now_ms();
        if (left <= 0) {
            break;
        }
        if (test_readable(fd, left > 100 ? 100 : (int)left + 1)) {
            nethttp_client_dispatch(client, 0);
        }
    }
    return *calls;
}

/* Dispatch mode: polls and dispatches for `ms` milliseconds; returns how
 * many callbacks ran (to check that none came). */
static inline int test_dispatch_for(struct nethttp_client *client, long ms) {
    double deadline = test_now_ms() + (double)ms;
    int fd = nethttp_client_fd(client), ran = 0;
    for (;;) {
        double left = deadline - test_now_ms();
        int n;
        if (left <= 0) {
            break;
        }
        if (test_readable(fd, (int)left + 1)) {
            n = nethttp_client_dispatch(client, 0);
            ran += n > 0 ? n : 0;
        }
    }
    return ran;
}

/* Makes a request on `client` with capture_callback and waits for it (at
 * most 20 s): on the engine thread, or by dispatching on this thread. */
static inline int capture_client_fetch(struct nethttp_client *client, struct capture *c, const char *url,
                                       const struct nethttp_options *options) {
    int before = c->calls;
    struct nethttp_request *request = nethttp_client_request(client, url, options, capture_callback, c);
    if (request == NULL) {
        fprintf(stderr, "nethttp_client_request(%s) failed: %s\n", url, nethttp_last_error());
        return 0;
    }
    if (nethttp_client_fd(client) >= 0) {
        return test_dispatch_until(client, &c->calls, before + 1, 20000) == before + 1;
    }
    return capture_wait(c, before + 1, 20000) == before + 1;
}

/* A loopback port with nothing listening: listen, read the port, close. */
static inline int test_closed_port(void) {
    int port = 0;
    int fd = test_loopback_listener(1, &port);
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* A listener whose accept queue is full: the kernel drops further SYNs, so a
 * connect to it hangs, on loopback, until the connect timeout. `fillers`
 * (nfillers sockets) fill the queue; close them and the listener after. */
static inline int test_full_listener(int *port, int *fillers, int nfillers) {
    struct sockaddr_in addr;
    int fd = test_loopback_listener(0, port), i;
    if (fd < 0) {
        return -1;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)*port);
    for (i = 0; i < nfillers; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM, 0);
        fcntl(fillers[i], F_SETFL, O_NONBLOCK);
        connect(fillers[i], (struct sockaddr *)&addr, sizeof addr);
    }
    test_sleep_ms(100);
    return fd;
}

/* A hand-driven server on `listener`: accepts one connection (waiting up to
 * `timeout_ms`) and reads its request head; returns the connection, or -1. */
static inline int test_accept_request(int listener, int timeout_ms) {
    char buf[4096];
    size_t got = 0;
    int conn;
    if (!test_readable(listener, timeout_ms) || (conn = accept(listener, NULL, NULL)) < 0) {
        return -1;
    }
    while (got < sizeof buf - 1) {
        ssize_t n;
        if (!test_readable(conn, timeout_ms)) {
            break;
        }
        n = read(conn, buf + got, sizeof buf - 1 - got);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL) {
            return conn;
        }
    }
    close(conn);
    return -1;
}

/* Writes all of `text` to `fd`; true on success. */
static inline int test_write_all(int fd, const char *text) {
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return 0;
        }
        done += (size_t)n;
    }
    return 1;
}

#endif
