/* Clients are independent: each has its own default options, engine thread
 * and connection pool, a request's own options override its client's
 * defaults field by field, and freeing one client leaves another's requests
 * alone. */
#include "test_util.h"

static struct test_server server;
static char url[256];

static struct nethttp_options *defaults_with(const char *client_name, uint64_t timeout_ms) {
    struct nethttp_options *options = nethttp_options_new();
    CHECK(options != NULL);
    CHECK_INT(nethttp_options_set_header(options, "X-Client", client_name), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Common", client_name), NETHTTP_RESULT_OK);
    if (timeout_ms > 0) {
        CHECK_INT(nethttp_options_set_timeout_ms(options, timeout_ms), NETHTTP_RESULT_OK);
    }
    return options;
}

/* /echo answers with the request's header lines, verbatim. */
static void check_default_headers(struct nethttp_client *a, struct nethttp_client *b) {
    struct capture ca, cb;
    capture_init(&ca);
    capture_init(&cb);
    test_url(url, sizeof url, server.http_port, "/echo");
    CHECK(capture_client_fetch(a, &ca, url, NULL));
    CHECK(capture_client_fetch(b, &cb, url, NULL));
    CHECK_INT(ca.status, 200);
    CHECK_INT(cb.status, 200);
    CHECK(test_contains(ca.body, ca.body_len, "\r\nX-Client: A\r\n"));
    CHECK(test_contains(ca.body, ca.body_len, "\r\nX-Common: A\r\n"));
    CHECK(!test_contains(ca.body, ca.body_len, "X-Client: B"));
    CHECK(test_contains(cb.body, cb.body_len, "\r\nX-Client: B\r\n"));
    CHECK(test_contains(cb.body, cb.body_len, "\r\nX-Common: B\r\n"));
    CHECK(!test_contains(cb.body, cb.body_len, "X-Client: A"));
    capture_free(&ca);
    capture_free(&cb);
}

/* A's default timeout (300 ms) cuts /delay/2000 short; B has none. */
static void check_default_timeouts(struct nethttp_client *a, struct nethttp_client *b) {
    struct capture ca, cb;
    capture_init(&ca);
    capture_init(&cb);
    test_url(url, sizeof url, server.http_port, "/delay/2000");
    CHECK(nethttp_client_request(a, url, NULL, capture_callback, &ca) != NULL);
    CHECK(nethttp_client_request(b, url, NULL, capture_callback, &cb) != NULL);
    CHECK_INT(capture_wait(&ca, 1, 20000), 1);
    CHECK_INT(capture_wait(&cb, 1, 20000), 1);
    CHECK_INT(ca.status, 0);
    CHECK_STR(ca.error, "timeout");
    CHECK_INT(ca.error_code, NETHTTP_RESULT_TIMEOUT);
    CHECK_INT(cb.status, 200);
    CHECK_STR(cb.body, "delayed 2000");
    capture_free(&ca);
    capture_free(&cb);
}

/* A request's own options win field by field over its client's defaults. */
static void check_request_overrides(struct nethttp_client *a) {
    struct nethttp_options *own = nethttp_options_new();
    struct capture c;

    /* Its own value of a default header wins (names compare
     * case-insensitively); the other default headers are still sent. */
    CHECK_INT(nethttp_options_set_header(own, "x-client", "own"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(own, "X-Extra", "extra"), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(a, &c, test_url(url, sizeof url, server.http_port, "/echo"), own));
    CHECK_INT(c.status, 200);
    CHECK(test_contains(c.body, c.body_len, "\r\nx-client: own\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "X-Client: A"));
    CHECK(test_contains(c.body, c.body_len, "\r\nX-Common: A\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nX-Extra: extra\r\n"));
    capture_free(&c);

    /* Setting headers leaves the default timeout in force. */
    capture_init(&c);
    CHECK(capture_client_fetch(a, &c, test_url(url, sizeof url, server.http_port, "/delay/2000"), own));
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "timeout");
    capture_free(&c);

    /* A NULL value removes a default header. */
    CHECK_INT(nethttp_options_set_header(own, "X-COMMON", NULL), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(a, &c, test_url(url, sizeof url, server.http_port, "/echo"), own));
    CHECK_INT(c.status, 200);
    CHECK(!test_contains(c.body, c.body_len, "X-Common"));
    CHECK(!test_contains(c.body, c.body_len, "X-COMMON"));
    CHECK(test_contains(c.body, c.body_len, "\r\nx-client: own\r\n"));
    capture_free(&c);
    nethttp_options_free(own);

    /* A request-level timeout of 0 ("none") disables the client's default,
     * while the default headers still come along. */
    own = nethttp_options_new();
    CHECK_INT(nethttp_options_set_timeout_ms(own, 0), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(a, &c, test_url(url, sizeof url, server.http_port, "/delay/1000"), own));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "delayed 1000");
    capture_free(&c);
    capture_init(&c);
    CHECK(capture_client_fetch(a, &c, test_url(url, sizeof url, server.http_port, "/echo"), own));
    CHECK(test_contains(c.body, c.body_len, "\r\nX-Client: A\r\n"));
    capture_free(&c);
    nethttp_options_free(own);
}

/* Each client has its own engine thread: callbacks of A and B run on two
 * different threads, neither of them this one. */
static void check_engine_threads(struct nethttp_client *a, struct nethttp_client *b) {
    struct capture ca, ca2, cb;
    capture_init(&ca);
    capture_init(&ca2);
    capture_init(&cb);
    test_url(url, sizeof url, server.http_port, "/echo");
    CHECK(capture_client_fetch(a, &ca, url, NULL));
    CHECK(capture_client_fetch(a, &ca2, url, NULL));
    CHECK(capture_client_fetch(b, &cb, url, NULL));
    CHECK(!pthread_equal(ca.thread, pthread_self()));
    CHECK(!pthread_equal(cb.thread, pthread_self()));
    CHECK(!pthread_equal(ca.thread, cb.thread));
    CHECK(pthread_equal(ca.thread, ca2.thread)); /* one engine thread per client */
    capture_free(&ca);
    capture_free(&ca2);
    capture_free(&cb);
}

/* Each client has its own pool: a client reuses its own connection, never
 * the other client's. */
static void check_pools(struct nethttp_client *a, struct nethttp_client *b) {
    struct capture a1, a2, b1, b2;
    capture_init(&a1);
    capture_init(&a2);
    capture_init(&b1);
    capture_init(&b2);
    test_url(url, sizeof url, server.http_port, "/conn");
    CHECK(capture_client_fetch(a, &a1, url, NULL));
    CHECK(capture_client_fetch(b, &b1, url, NULL));
    CHECK(capture_client_fetch(a, &a2, url, NULL));
    CHECK(capture_client_fetch(b, &b2, url, NULL));
    CHECK_INT(a1.status, 200);
    CHECK_INT(b1.status, 200);
    if (a1.body && a2.body && b1.body && b2.body) {
        CHECK_STR(a2.body, a1.body); /* reused within A (the check below means something) */
        CHECK_STR(b2.body, b1.body);
        CHECK(strcmp(a1.body, b1.body) != 0);
    }
    capture_free(&a1);
    capture_free(&a2);
    capture_free(&b1);
    capture_free(&b2);
}

/* Freeing A while both have requests in flight: B's complete normally. */
static void check_free_one_keeps_other(struct nethttp_client *a, struct nethttp_client *b) {
    struct capture held[3], other[5];
    struct nethttp_options *no_timeout = nethttp_options_new();
    int i;
    CHECK_INT(nethttp_options_set_timeout_ms(no_timeout, 0), NETHTTP_RESULT_OK);
    for (i = 0; i < 3; i++) {
        capture_init(&held[i]);
        CHECK(nethttp_client_request(a, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), no_timeout,
                                     capture_callback, &held[i]) != NULL);
    }
    for (i = 0; i < 5; i++) {
        capture_init(&other[i]);
        CHECK(nethttp_client_request(b, test_url(url, sizeof url, server.http_port, "/delay/500"), NULL,
                                     capture_callback, &other[i]) != NULL);
    }
    test_sleep_ms(100); /* everything is on its way */
    CHECK_INT(nethttp_client_free(a, 0), NETHTTP_RESULT_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(held[i].calls, 1); /* free gave each its callback */
        CHECK_STR(held[i].error, "cancelled");
    }
    for (i = 0; i < 5; i++) {
        CHECK_INT(capture_wait(&other[i], 1, 20000), 1);
        CHECK_INT(other[i].status, 200);
        CHECK_STR(other[i].body, "delayed 500");
    }
    /* B goes on working after A is gone. */
    capture_free(&held[0]); /* its "cancelled" body */
    capture_init(&held[0]);
    CHECK(capture_client_fetch(b, &held[0], test_url(url, sizeof url, server.http_port, "/echo"), NULL));
    CHECK_INT(held[0].status, 200);
    capture_free(&held[0]);
    for (i = 1; i < 3; i++) {
        capture_free(&held[i]);
    }
    for (i = 0; i < 5; i++) {
        capture_free(&other[i]);
    }
    nethttp_options_free(no_timeout);
}

int main(int argc, char **argv) {
    struct nethttp_options *defaults_a, *defaults_b;
    struct nethttp_client *a, *b;
    server = test_server_from_args(argc, argv);
    defaults_a = defaults_with("A", 300);
    defaults_b = defaults_with("B", 0);
    a = test_client_new(0, 0, 0, defaults_a);
    b = test_client_new(0, 0, 0, defaults_b);
    /* Clients copied their defaults. */
    nethttp_options_free(defaults_a);
    nethttp_options_free(defaults_b);

    check_default_headers(a, b);
    check_default_timeouts(a, b);
    check_request_overrides(a);
    check_engine_threads(a, b);
    check_pools(a, b);
    check_free_one_keeps_other(a, b); /* frees a */
    CHECK_INT(nethttp_client_free(b, 0), NETHTTP_RESULT_OK);
    return test_finish("test_client_independent");
}
