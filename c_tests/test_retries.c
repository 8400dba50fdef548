/* Retries (nethttp_options_set_retry, nethttp_response_retry_count): an
 * idempotent request is retried after a connection closed before any
 * response byte and after 429/503 (honouring Retry-After); a POST never;
 * none without set_retry; exhausted retries deliver the last outcome;
 * cancel during the wait before a retry gives one callback "cancelled",
 * destroy none, and neither makes another attempt. The test server's
 * /flaky?key=K&fail=N&mode=M fails the first N requests of key K (mode
 * "close": closes without answering; "503"/"429": that status, with
 * Retry-After when retry_after=S is given) and answers 200 after; /count?key=K
 * says how many requests key K got. */
#include "test_stream_util.h"

static struct transport_server server;
static char url[512];
static char key_prefix[64];

static const char *flaky_url(const char *key, const char *query) {
    snprintf(url, sizeof url, "http://127.0.0.1:%d/flaky?key=%s-%s&%s", server.http_port, key_prefix, key, query);
    return url;
}

static int request_count(const char *key) {
    char u[256], text[64];
    int count = -1;
    snprintf(u, sizeof u, "http://127.0.0.1:%d/count?key=%s-%s", server.http_port, key_prefix, key);
    if (stream_get_text(u, text, sizeof text) != 200 || sscanf(text, "count %d", &count) != 1) {
        return -1;
    }
    return count;
}

/* Fetches with a fresh client (no pooled connection) and returns the
 * response's retry count (-1 without a response). */
static int fetch_retries(struct capture *c, const char *u, const struct nethttp_options *options) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    int retries = -1;
    c->keep = 1;
    CHECK(capture_client_fetch(client, c, u, options));
    if (c->response != NULL) {
        retries = (int)nethttp_response_retry_count(c->response);
        nethttp_destroy_request(c->request);
        c->response = NULL;
    }
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    return retries;
}

static void check_connection_failures(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_retry(options, 3, 50), NETHTTP_RESULT_OK);

    /* Closed twice without a response, then 200. */
    CHECK_INT(fetch_retries(&c, flaky_url("get", "fail=2"), options), 2);
    CHECK_INT(c.calls, 1);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "ok after 2");
    CHECK_INT(request_count("get"), 3);

    /* PUT and DELETE are idempotent too. */
    CHECK_INT(nethttp_options_set_method(options, "PUT"), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_retries(&c, flaky_url("put", "fail=1"), options), 1);
    CHECK_INT(c.status, 200);
    CHECK_INT(nethttp_options_set_method(options, "DELETE"), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_retries(&c, flaky_url("delete", "fail=1"), options), 1);
    CHECK_INT(c.status, 200);

    /* A POST is never retried. */
    CHECK_INT(nethttp_options_set_method(options, NULL), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body(options, "x=1", 3), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_retries(&c, flaky_url("post", "fail=2"), options), 0);
    CHECK_INT(c.status, 0);
    CHECK(c.error[0] != '\0');
    CHECK_INT(request_count("post"), 1);
    CHECK_INT(nethttp_options_set_method(options, "PATCH"), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_retries(&c, flaky_url("patch", "fail=2"), options), 0);
    CHECK_INT(c.status, 0);
    CHECK_INT(request_count("patch"), 1);
    CHECK_INT(nethttp_options_clear_body(options), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_method(options, NULL), NETHTTP_RESULT_OK);

    /* Retries exhausted: the last failure, after max attempts. */
    CHECK_INT(nethttp_options_set_retry(options, 2, 20), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_retries(&c, flaky_url("exhausted", "fail=10"), options), 2);
    CHECK_INT(c.status, 0);
    CHECK(c.error[0] != '\0');
    CHECK_INT(request_count("exhausted"), 3);
    capture_free(&c);
    nethttp_options_free(options);

    /* Without set_retry: no retry. */
    options = nethttp_options_new();
    capture_init(&c);
    CHECK_INT(fetch_retries(&c, flaky_url("none", "fail=1"), options), 0);
    CHECK_INT(c.status, 0);
    CHECK_INT(request_count("none"), 1);
    CHECK_INT(nethttp_options_set_retry(NULL, 1, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_response_retry_count(NULL), 0);
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_busy_statuses(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    double start, waited;
    capture_init(&c);
    /* A base of 10 ms: a wait of a second can only be Retry-After's. */
    CHECK_INT(nethttp_options_set_retry(options, 3, 10), NETHTTP_RESULT_OK);
    start = test_now_ms();
    CHECK_INT(fetch_retries(&c, flaky_url("503", "fail=1&mode=503&retry_after=1"), options), 1);
    waited = test_now_ms() - start;
    CHECK_INT(c.status, 200);
    printf("503 with Retry-After: 1, then 200 after %.0f ms\n", waited);
    CHECK(waited >= 900);
    CHECK(waited < 10000);
    CHECK_INT(request_count("503"), 2);

    CHECK_INT(fetch_retries(&c, flaky_url("429", "fail=2&mode=429"), options), 2);
    CHECK_INT(c.status, 200);
    CHECK_INT(request_count("429"), 3);

    /* Exhausted on 503: the last 503 is the response. */
    CHECK_INT(nethttp_options_set_retry(options, 2, 10), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_retries(&c, flaky_url("503-exhausted", "fail=10&mode=503"), options), 2);
    CHECK_INT(c.status, 503);
    CHECK_INT(request_count("503-exhausted"), 3);

    /* Other statuses are answers, not failures: no retry. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/status/500", server.http_port);
    CHECK_INT(fetch_retries(&c, url, options), 0);
    CHECK_INT(c.status, 500);
    capture_free(&c);
    nethttp_options_free(options);
}

/* Cancel or destroy while waiting to retry (the server asks for 5 s, the
 * base is 5 s): cancel gives one "cancelled" soon, destroy nothing; no
 * second attempt either way. */
static void check_cancel_destroy_in_backoff(int destroy) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_request *request;
    struct capture c;
    const char *key = destroy ? "destroy" : "cancel";
    int i;
    double start;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_retry(options, 3, 5000), NETHTTP_RESULT_OK);
    request = nethttp_client_request(client, flaky_url(key, "fail=10&mode=503&retry_after=5"), options,
                                     capture_callback, &c);
    CHECK(request != NULL);
    for (i = 0; i < 200 && request_count(key) < 1; i++) {
        test_sleep_ms(10);
    }
    test_sleep_ms(200); /* now waiting before the retry */
    CHECK_INT(request_count(key), 1);
    CHECK_INT(c.calls, 0);
    start = test_now_ms();
    if (destroy) {
        nethttp_destroy_request(request);
        CHECK_INT(capture_wait(&c, 1, 1500), 0);
    } else {
        CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
        CHECK_INT(capture_wait(&c, 1, 3000), 1);
        printf("cancel during the wait before a retry: callback after %.0f ms\n", test_now_ms() - start);
        CHECK_INT(capture_wait(&c, 2, 300), 1);
        CHECK_INT(c.status, 0);
        CHECK_STR(c.error, "cancelled");
        CHECK_INT(c.error_code, NETHTTP_RESULT_CANCELLED);
    }
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    CHECK_INT(request_count(key), 1);
    capture_free(&c);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    /* Keys of their own: the epoll run may share the server with this one. */
    snprintf(key_prefix, sizeof key_prefix, "%ld%s", (long)getpid(), getenv("NETHTTP_TEST_EPOLL") ? "e" : "p");
    check_connection_failures();
    check_busy_statuses();
    check_cancel_destroy_in_backoff(0);
    check_cancel_destroy_in_backoff(1);
    return test_finish("test_retries");
}
