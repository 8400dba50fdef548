/* Dispatch mode: callbacks and observer calls run only inside
 * nethttp_client_dispatch(), on the thread that calls it; the client's fd is
 * readable exactly while callbacks are queued (poll and level-triggered
 * epoll); dispatch(max) runs at most max; a request destroyed while queued
 * is skipped; dispatch is refused on an inline client and inside its own
 * callbacks. */
#include <sys/epoll.h>

#include "test_util.h"

static struct test_server server;
static char url[256];

/* Every callback and observer call, with its thread. */
struct record {
    int calls;            /* callbacks */
    int observed;         /* observer calls */
    int wrong_thread;     /* calls on another thread than `expected` */
    pthread_t expected;
    int last_status;
    int dispatch_result;  /* nethttp_client_dispatch() inside the callback */
    enum nethttp_result dispatch_error;
    struct nethttp_client *client;
};

static struct record rec;

static void observer(const struct nethttp_response *response, void *userdata) {
    struct record *r = (struct record *)userdata;
    (void)response;
    r->observed++;
    if (!pthread_equal(pthread_self(), r->expected)) {
        r->wrong_thread++;
    }
}

static int record_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                           void *userdata) {
    struct record *r = (struct record *)userdata;
    (void)body;
    (void)body_len;
    (void)response;
    r->calls++;
    r->last_status = status;
    if (!pthread_equal(pthread_self(), r->expected)) {
        r->wrong_thread++;
    }
    return 0;
}

static int dispatch_inside_callback(const char *body, size_t body_len, int status,
                                    const struct nethttp_response *response, void *userdata) {
    struct record *r = (struct record *)userdata;
    r->dispatch_result = nethttp_client_dispatch(r->client, 0);
    r->dispatch_error = nethttp_last_error_code();
    return record_callback(body, body_len, status, response, userdata);
}

static struct nethttp_client *dispatch_client(size_t per_host) {
    struct nethttp_client_config *config = nethttp_client_config_new();
    struct nethttp_client *client;
    CHECK_INT(nethttp_client_config_set_dispatch(config, 1), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_config_set_max_connections(config, 0, per_host), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_config_set_observer(config, observer, &rec), NETHTTP_RESULT_OK);
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    CHECK(client != NULL);
    if (client == NULL) {
        exit(1);
    }
    return client;
}

static void reset_record(void) {
    memset(&rec, 0, sizeof rec);
    rec.expected = pthread_self();
}

/* Lets the fast requests just made (to /echo, on loopback) finish and queue
 * their callbacks: waits until the first is queued, then 300 ms more. (No
 * API tells how many are queued; the checks that follow hold as long as all
 * finished by then.) */
static void wait_queued(struct nethttp_client *client) {
    CHECK(test_readable(nethttp_client_fd(client), 20000));
    test_sleep_ms(300);
}

static void check_fds(void) {
    struct nethttp_client *inline_client = test_client_new(0, 0, 0, NULL);
    struct nethttp_client *client = dispatch_client(0);
    CHECK_INT(nethttp_client_fd(inline_client), -1);
    CHECK_INT(nethttp_client_fd(NULL), -1);
    CHECK(nethttp_client_fd(client) >= 0);
    CHECK_INT(nethttp_client_fd(client), nethttp_client_fd(client)); /* stable */
    CHECK(!test_readable(nethttp_client_fd(client), 0)); /* nothing queued */
    CHECK_INT(nethttp_client_dispatch(client, 0), 0);     /* returns at once */

    /* Refused on an inline client, and for NULL. */
    CHECK_INT(nethttp_client_dispatch(inline_client, 0), -1);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_client_dispatch(NULL, 0), -1);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_client_free(inline_client, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* The fd is readable exactly while something is queued. A hand-driven
 * server decides when the response comes, so "not yet" is certain. */
static void check_readable_exactly_while_queued(void) {
    struct nethttp_client *client = dispatch_client(0);
    int fd = nethttp_client_fd(client), port = 0, conn;
    int listener = test_loopback_listener(8, &port);
    reset_record();
    CHECK(listener >= 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/manual", port);
    CHECK(nethttp_client_request(client, url, NULL, record_callback, &rec) != NULL);
    conn = test_accept_request(listener, 20000);
    CHECK(conn >= 0);
    /* The request reached the server, which has not answered. */
    CHECK(!test_readable(fd, 0));
    CHECK_INT(nethttp_client_dispatch(client, 0), 0);
    CHECK_INT(rec.calls, 0);
    CHECK(test_write_all(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    /* Completed: readable, and stays so until dispatched. */
    CHECK(test_readable(fd, 20000));
    CHECK_INT(rec.calls, 0); /* nothing ran by itself */
    CHECK(test_readable(fd, 0));
    CHECK(test_readable(fd, 50));
    CHECK_INT(rec.calls, 0);
    CHECK_INT(nethttp_client_dispatch(client, 0), 1);
    CHECK_INT(rec.calls, 1);
    CHECK_INT(rec.observed, 1);
    CHECK_INT(rec.last_status, 200);
    CHECK(!test_readable(fd, 0)); /* drained */
    CHECK_INT(nethttp_client_dispatch(client, 0), 0);
    CHECK_INT(rec.calls, 1);
    CHECK_INT(rec.wrong_thread, 0);
    close(conn);
    close(listener);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* dispatch(max = 1) runs exactly one of several queued; max = 0 the rest. */
static void check_max(void) {
    struct nethttp_client *client = dispatch_client(0);
    int fd = nethttp_client_fd(client), i;
    reset_record();
    for (i = 0; i < 4; i++) {
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     record_callback, &rec) != NULL);
    }
    wait_queued(client);
    CHECK(test_readable(fd, 0));
    CHECK_INT(rec.calls, 0);
    CHECK_INT(nethttp_client_dispatch(client, 1), 1);
    CHECK_INT(rec.calls, 1);
    CHECK(test_readable(fd, 0)); /* three more */
    CHECK_INT(nethttp_client_dispatch(client, 2), 2);
    CHECK_INT(rec.calls, 3);
    CHECK(test_readable(fd, 0));
    CHECK_INT(nethttp_client_dispatch(client, 5), 1); /* only one left */
    CHECK_INT(rec.calls, 4);
    CHECK(!test_readable(fd, 0));
    CHECK_INT(rec.observed, 4);
    CHECK_INT(rec.wrong_thread, 0);

    /* max 0: all of those queued. */
    for (i = 0; i < 3; i++) {
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     record_callback, &rec) != NULL);
    }
    wait_queued(client);
    CHECK_INT(nethttp_client_dispatch(client, 0), 3);
    CHECK_INT(rec.calls, 7);
    CHECK(!test_readable(fd, 0));
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Level-triggered epoll reports the fd until it is dispatched. */
static void check_epoll(void) {
    struct nethttp_client *client = dispatch_client(0);
    struct epoll_event event, out;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    reset_record();
    CHECK(ep >= 0);
    memset(&event, 0, sizeof event);
    event.events = EPOLLIN;
    event.data.fd = nethttp_client_fd(client);
    CHECK_INT(epoll_ctl(ep, EPOLL_CTL_ADD, nethttp_client_fd(client), &event), 0);
    CHECK_INT(epoll_wait(ep, &out, 1, 0), 0);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL, record_callback,
                                 &rec) != NULL);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL, record_callback,
                                 &rec) != NULL);
    wait_queued(client);
    CHECK_INT(epoll_wait(ep, &out, 1, 0), 1);
    CHECK_INT(out.data.fd, nethttp_client_fd(client));
    CHECK((out.events & EPOLLIN) != 0);
    CHECK_INT(epoll_wait(ep, &out, 1, 0), 1); /* level-triggered: again */
    CHECK_INT(nethttp_client_dispatch(client, 1), 1);
    CHECK_INT(epoll_wait(ep, &out, 1, 0), 1); /* one still queued */
    CHECK_INT(nethttp_client_dispatch(client, 1), 1);
    CHECK_INT(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_INT(rec.calls, 2);
    /* And an epoll_wait that blocks is woken by the next completion. */
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/100"), NULL,
                                 record_callback, &rec) != NULL);
    CHECK_INT(epoll_wait(ep, &out, 1, 20000), 1);
    CHECK_INT(nethttp_client_dispatch(client, 0), 1);
    CHECK_INT(epoll_wait(ep, &out, 1, 0), 0);
    CHECK_INT(rec.calls, 3);
    CHECK_INT(rec.wrong_thread, 0);
    close(ep);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* A request destroyed while its completion is queued is never called back. */
static void check_destroyed_while_queued(void) {
    struct nethttp_client *client = dispatch_client(0);
    struct nethttp_request *doomed, *kept;
    int fd = nethttp_client_fd(client);
    reset_record();
    doomed = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                    record_callback, &rec);
    CHECK(doomed != NULL);
    wait_queued(client);
    CHECK(test_readable(fd, 0));
    CHECK_INT(nethttp_client_live_requests(client), 1);
    nethttp_destroy_request(doomed);
    CHECK_INT(nethttp_client_live_requests(client), 0);
    CHECK_INT(nethttp_client_dispatch(client, 0), 0);
    CHECK_INT(rec.calls, 0);
    CHECK_INT(rec.observed, 0);
    CHECK(!test_readable(fd, 0));

    /* Destroyed between two queued ones: the others still come, in order. */
    kept = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                  record_callback, &rec);
    doomed = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                    record_callback, &rec);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 record_callback, &rec) != NULL);
    CHECK(kept != NULL && doomed != NULL);
    wait_queued(client);
    nethttp_destroy_request(doomed);
    CHECK_INT(nethttp_client_dispatch(client, 0), 2);
    CHECK_INT(rec.calls, 2);
    CHECK_INT(rec.observed, 2);
    CHECK(!test_readable(fd, 0));
    CHECK_INT(test_dispatch_for(client, 200), 0);
    CHECK_INT(rec.calls, 2);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Inside its own callback, dispatch is refused (it would run callbacks
 * inside a callback); the callback itself goes on. */
static void check_dispatch_inside_callback(void) {
    struct nethttp_client *client = dispatch_client(0);
    reset_record();
    rec.client = client;
    rec.dispatch_result = 99;
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 dispatch_inside_callback, &rec) != NULL);
    CHECK_INT(test_dispatch_until(client, &rec.calls, 1, 20000), 1);
    CHECK_INT(rec.dispatch_result, -1);
    CHECK_INT(rec.dispatch_error, NETHTTP_RESULT_CALLED_FROM_CALLBACK);
    CHECK_INT(rec.last_status, 200);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Callbacks run on whichever thread dispatches, never elsewhere: a second
 * thread takes over dispatching. */
struct dispatcher {
    struct nethttp_client *client;
    pthread_t self;
};

static void *dispatch_thread(void *arg) {
    struct dispatcher *d = (struct dispatcher *)arg;
    d->self = pthread_self();
    rec.expected = d->self;
    test_dispatch_until(d->client, &rec.calls, 10, 20000);
    return NULL;
}

static void check_threads(void) {
    struct nethttp_client *client = dispatch_client(0);
    struct dispatcher d;
    pthread_t thread;
    int i;
    reset_record();
    /* Many requests, from this thread; nothing runs until someone dispatches. */
    for (i = 0; i < 5; i++) {
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/20"), NULL,
                                     record_callback, &rec) != NULL);
    }
    CHECK_INT(test_dispatch_until(client, &rec.calls, 5, 20000), 5);
    CHECK_INT(rec.observed, 5);
    CHECK_INT(rec.wrong_thread, 0);

    /* Now another thread dispatches. */
    d.client = client;
    for (i = 0; i < 5; i++) {
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/20"), NULL,
                                     record_callback, &rec) != NULL);
    }
    test_sleep_ms(200); /* let them complete: they must wait for the dispatcher */
    CHECK_INT(rec.calls, 5);
    CHECK_INT(pthread_create(&thread, NULL, dispatch_thread, &d), 0);
    pthread_join(thread, NULL);
    CHECK_INT(rec.calls, 10);
    CHECK_INT(rec.observed, 10);
    CHECK_INT(rec.wrong_thread, 0);
    CHECK(!pthread_equal(d.self, pthread_self()));
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_fds();
    check_readable_exactly_while_queued();
    check_max();
    check_epoll();
    check_destroyed_while_queued();
    check_dispatch_inside_callback();
    check_threads();
    return test_finish("test_client_dispatch");
}
