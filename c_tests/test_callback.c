/* The callback contract: exactly one call, on the engine thread, with the
 * status and body, or status 0 and a stable reason string on failure. */
#include "test_util.h"

static struct test_server server;
static char url[512];

/* A loopback port with nothing listening: listen, read the port, close. */
static int closed_port(void) {
    int port = 0;
    int fd = test_loopback_listener(1, &port);
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static void check_success(void) {
    struct capture c;
    struct nethttp_request *request;
    capture_init(&c);
    c.keep = 1;
    request = nethttp_request(test_url(url, sizeof url, server.http_port, "/header?name=X-Test&value=hello"), NULL,
                              capture_callback, &c);
    CHECK(request != NULL);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "ok");
    CHECK_STR(c.error, "");
    CHECK_INT(c.error_code, NETHTTP_RESULT_OK);
    CHECK(!pthread_equal(c.thread, pthread_self())); /* callbacks run on the engine thread */
    CHECK(c.request == request);
    /* The kept response is still readable here, on another thread. */
    CHECK(c.response != NULL);
    if (c.response != NULL) {
        const struct nethttp_response *r = c.response;
        const char *name = NULL, *value = NULL;
        size_t len = 0, i, multi = 0;
        CHECK_INT(nethttp_response_status(r), 200);
        CHECK_STR(nethttp_response_header(r, "x-test"), "hello");
        CHECK_STR(nethttp_response_header(r, "X-TEST"), "hello");
        CHECK(nethttp_response_header(r, "X-Absent") == NULL);
        CHECK(nethttp_response_error(r) == NULL);
        CHECK_STR(nethttp_response_error_detail(r), "");
        CHECK_STR(nethttp_response_body(r, &len), "ok");
        CHECK_INT(len, 2);
        CHECK_STR(nethttp_response_url(r), url);
        CHECK(nethttp_response_request(r) == request);
        CHECK(nethttp_response_header_count(r) >= 4);
        for (i = 0; i < nethttp_response_header_count(r); i++) {
            CHECK_INT(nethttp_response_header_at(r, i, &name, &value), NETHTTP_RESULT_OK);
            multi += strcmp(name, "X-Multi") == 0;
        }
        CHECK_INT(multi, 2); /* repeated headers are all there, in order */
        CHECK_INT(nethttp_response_header_at(r, i, &name, &value), NETHTTP_RESULT_INDEX_OUT_OF_RANGE);
    }
    CHECK_INT(nethttp_live_requests(), 1);
    nethttp_destroy_request(request);
    CHECK_INT(nethttp_live_requests(), 0);
    capture_free(&c);
}

static void check_http_errors_are_responses(void) {
    struct capture c;
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/status/404"), NULL));
    CHECK_INT(c.status, 404);
    CHECK_STR(c.body, "status 404");
    CHECK_STR(c.error, ""); /* an HTTP error status is still a response */
    capture_free(&c);

    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/redirect?to=/echo"), NULL));
    CHECK_INT(c.status, 302); /* redirects are not followed */
    CHECK_STR(c.body, "redirect");
    capture_free(&c);
}

/* A failed request: status 0, body == error string == strerror(code). */
static void check_failure(const char *target, const struct nethttp_options *options, const char *reason,
                          enum nethttp_result code) {
    struct capture c;
    capture_init(&c);
    CHECK(capture_fetch(&c, target, options));
    CHECK_INT(c.calls, 1);
    CHECK_INT(c.status, 0);
    CHECK_STR(c.body, reason);
    CHECK_INT(c.body_len, strlen(reason));
    CHECK_STR(c.error, reason);
    CHECK_INT(c.error_code, code);
    CHECK_STR(nethttp_strerror(code), reason);
    CHECK(strlen(c.detail) > 0); /* libcurl's detailed message */
    capture_free(&c);
}

static void check_failures(void) {
    struct nethttp_options *options = nethttp_options_new();
    char label[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port());
    check_failure(url, NULL, "connection-refused", NETHTTP_RESULT_CONNECTION_REFUSED);

    CHECK_INT(nethttp_options_set_timeout_ms(options, 300), NETHTTP_RESULT_OK);
    check_failure(test_url(url, sizeof url, server.http_port, "/delay/5000"), options, "timeout",
                  NETHTTP_RESULT_TIMEOUT);

    check_failure(test_https_url(url, sizeof url, server.https_port, "/echo"), NULL, "certificate-verify-failed",
                  NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);

    check_failure(test_url(url, sizeof url, server.http_port, "/close-early"), NULL, "connection-closed",
                  NETHTTP_RESULT_CONNECTION_CLOSED);
    check_failure(test_url(url, sizeof url, server.http_port, "/close-no-response"), NULL, "connection-closed",
                  NETHTTP_RESULT_CONNECTION_CLOSED);

    /* A label longer than DNS allows (63 bytes) fails in the resolver itself,
     * without a query leaving the machine. */
    memset(label, 'a', 70);
    label[70] = '\0';
    snprintf(url, sizeof url, "http://%s.invalid/", label);
    check_failure(url, NULL, "resolve-failed", NETHTTP_RESULT_RESOLVE_FAILED);
    nethttp_options_free(options);
}

/* Counts calls; used to check that every request gets exactly one. */
struct counter {
    pthread_mutex_t lock;
    int calls;
    int bad;
};

static int count_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    struct counter *counter = (struct counter *)userdata;
    (void)response;
    pthread_mutex_lock(&counter->lock);
    counter->calls++;
    if (status != 200 || body_len != 10 || memcmp(body, "status 200", 10) != 0) {
        counter->bad++;
    }
    pthread_mutex_unlock(&counter->lock);
    return 0;
}

static void check_exactly_one_callback_each(void) {
    struct counter counter;
    int i, made = 0, calls = 0;
    pthread_mutex_init(&counter.lock, NULL);
    counter.calls = 0;
    counter.bad = 0;
    for (i = 0; i < 200; i++) {
        made += nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, count_callback,
                                &counter) != NULL;
    }
    CHECK_INT(made, 200);
    for (i = 0; i < 400 && calls < made; i++) {
        test_sleep_ms(50);
        pthread_mutex_lock(&counter.lock);
        calls = counter.calls;
        pthread_mutex_unlock(&counter.lock);
    }
    test_sleep_ms(200); /* a duplicate callback would arrive now */
    pthread_mutex_lock(&counter.lock);
    CHECK_INT(counter.calls, 200);
    CHECK_INT(counter.bad, 0);
    pthread_mutex_unlock(&counter.lock);
    CHECK_INT(nethttp_live_requests(), 0);
    pthread_mutex_destroy(&counter.lock);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_success();
    check_http_errors_are_responses();
    check_failures();
    check_exactly_one_callback_each();
    return test_finish("test_callback");
}
