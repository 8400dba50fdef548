/* Faulty servers and networks: every failure gets exactly one callback, with
 * status 0 and the documented reason, within a bounded time; responses that
 * are valid HTTP (HTTP/1.0 without a length, a body longer than announced)
 * arrive whole. The faults come from the test server's /fault/ endpoints (see
 * test_server.py), a closed port, a *.invalid name and TLS listeners with bad
 * certificates. */
#include "test_util.h"

static struct test_server server;
static int expired_port;   /* third field of the port file */
static int wronghost_port; /* fourth field */
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

static void read_extra_ports(const char *port_file) {
    int http_port, https_port;
    FILE *f = fopen(port_file, "r");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK_INT(fscanf(f, "%d %d %d %d", &http_port, &https_port, &expired_port, &wronghost_port), 4);
        fclose(f);
    }
}

/* Starts a request and waits up to `limit_ms` for its callback. On a hang the
 * request is destroyed (so no callback can come later) and the check fails.
 * Afterwards it waits a little more: a second callback would show up then. */
static int run_case(const char *name, struct capture *c, const char *target, const struct nethttp_options *options,
                    long limit_ms) {
    struct nethttp_request *request;
    double start = test_now_ms(), elapsed;
    int calls;
    request = nethttp_request(target, options, capture_callback, c);
    CHECK(request != NULL);
    if (request == NULL) {
        fprintf(stderr, "%s: nethttp_request failed: %s\n", name, nethttp_last_error());
        return 0;
    }
    calls = capture_wait(c, 1, limit_ms);
    elapsed = test_now_ms() - start;
    if (calls == 0) {
        fprintf(stderr, "%s: no callback within %ld ms\n", name, limit_ms);
        nethttp_destroy_request(request);
    }
    test_sleep_ms(100);
    pthread_mutex_lock(&c->lock);
    calls = c->calls;
    pthread_mutex_unlock(&c->lock);
    CHECK_INT(calls, 1);
    if (calls != 1 || elapsed > limit_ms) {
        fprintf(stderr, "%s: %d callbacks after %.0f ms\n", name, calls, elapsed);
    }
    return calls == 1;
}

/* A failure: status 0, the reason as body, error and code, a detail. */
static void check_fault(const char *name, const char *target, const struct nethttp_options *options,
                        enum nethttp_result expected, long limit_ms) {
    struct capture c;
    capture_init(&c);
    if (run_case(name, &c, target, options, limit_ms)) {
        CHECK_INT(c.status, 0);
        CHECK_INT(c.error_code, expected);
        CHECK_STR(c.error, nethttp_strerror(expected));
        CHECK_STR(c.body, nethttp_strerror(expected));
        CHECK(strlen(c.detail) > 0);
        if (c.error_code != expected || c.status != 0) {
            fprintf(stderr, "%s: got status %d, %s (%s), expected %s\n", name, c.status, c.error, c.detail,
                    nethttp_strerror(expected));
        } else {
            printf("%-28s %s (%s)\n", name, c.error, c.detail);
        }
    }
    capture_free(&c);
}

static const char *http(const char *path) {
    return test_url(url, sizeof url, server.http_port, path);
}

static void check_connection_faults(void) {
    check_fault("connection refused", (snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port()), url), NULL,
                NETHTTP_RESULT_CONNECTION_REFUSED, 10000);
    check_fault("unknown host (.invalid)", "http://nethttp-faults.invalid/", NULL, NETHTTP_RESULT_RESOLVE_FAILED,
                15000);
    check_fault("close before headers", http("/close-no-response"), NULL, NETHTTP_RESULT_CONNECTION_CLOSED, 10000);
    check_fault("reset mid-body (RST)", http("/fault/reset"), NULL, NETHTTP_RESULT_CONNECTION_CLOSED, 10000);
    check_fault("close before Content-Length", http("/close-early"), NULL, NETHTTP_RESULT_CONNECTION_CLOSED, 10000);
    check_fault("truncated chunked body", http("/fault/chunked-truncated"), NULL, NETHTTP_RESULT_CONNECTION_CLOSED,
                10000);
}

static void check_malformed_responses(void) {
    check_fault("invalid chunk size", http("/fault/bad-chunk-size"), NULL, NETHTTP_RESULT_PROTOCOL_ERROR, 10000);
    check_fault("garbage status line", http("/fault/garbage-status"), NULL, NETHTTP_RESULT_PROTOCOL_ERROR, 10000);
    check_fault("NUL byte in a header value", http("/fault/header-nul"), NULL, NETHTTP_RESULT_PROTOCOL_ERROR, 10000);
    check_fault("1 MiB of headers", http("/fault/headers-1mib"), NULL, NETHTTP_RESULT_HEADERS_TOO_LARGE, 10000);
    check_fault("100,000 headers", http("/fault/headers-100k"), NULL, NETHTTP_RESULT_HEADERS_TOO_LARGE, 10000);
    check_fault("one 200 KiB header line", http("/fault/header-200kib"), NULL, NETHTTP_RESULT_HEADERS_TOO_LARGE,
                10000);
}

static void check_slow_servers(void) {
    struct nethttp_options *options = nethttp_options_new();
    double start;
    CHECK_INT(nethttp_options_set_timeout_ms(options, 500), NETHTTP_RESULT_OK);
    /* 100 bytes, one per 100 ms: 10 s unless the timeout cuts it short. */
    start = test_now_ms();
    check_fault("trickled body, timeout", http("/fault/trickle?ms=100&n=100"), options, NETHTTP_RESULT_TIMEOUT, 5000);
    CHECK(test_now_ms() - start < 5000);
    start = test_now_ms();
    check_fault("never answers, timeout", http("/fault/never"), options, NETHTTP_RESULT_TIMEOUT, 5000);
    CHECK(test_now_ms() - start < 5000);
    nethttp_options_free(options);
}

/* Valid HTTP that is unusual: the response arrives, whole. */
static void check_valid_oddities(void) {
    struct capture c;
    size_t i, bad = 0;

    /* HTTP/1.0 without Content-Length: the body runs until the close. */
    capture_init(&c);
    if (run_case("HTTP/1.0, no length", &c, http("/fault/http10?n=100000"), NULL, 10000)) {
        CHECK_INT(c.status, 200);
        CHECK_INT(c.error_code, NETHTTP_RESULT_OK);
        CHECK_INT(c.body_len, 100000);
        for (i = 0; c.body != NULL && i < c.body_len; i++) {
            bad += (unsigned char)c.body[i] != (unsigned char)((i * 7 + 3) % 256);
        }
        CHECK_INT(bad, 0);
        printf("%-28s status %d, %zu bytes\n", "HTTP/1.0, no length", c.status, c.body_len);
    }
    capture_free(&c);

    /* More body than Content-Length: the announced 5 bytes are the body... */
    capture_init(&c);
    if (run_case("body longer than announced", &c, http("/fault/length-short"), NULL, 10000)) {
        CHECK_INT(c.status, 200);
        CHECK_INT(c.error_code, NETHTTP_RESULT_OK);
        CHECK_INT(c.body_len, 5);
        CHECK_STR(c.body, "01234");
        printf("%-28s status %d, body \"%s\"\n", "body longer than announced", c.status, c.body ? c.body : "");
    }
    capture_free(&c);
    /* ...and the excess bytes must not be read as the next response on a
     * reused connection. */
    capture_init(&c);
    if (run_case("request after the excess", &c, http("/status/200"), NULL, 10000)) {
        CHECK_INT(c.status, 200);
        CHECK_STR(c.body, "status 200");
        if (c.status != 200) {
            fprintf(stderr, "request after the excess: %s (%s)\n", c.error, c.detail);
        }
    }
    capture_free(&c);
}

static void check_tls_faults(void) {
    struct nethttp_options *trusting = nethttp_options_new();
    struct nethttp_options *missing_ca = nethttp_options_new();
    CHECK_INT(nethttp_options_set_ca_file(trusting, server.cert_file), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_file(missing_ca, "/nonexistent/nethttp-ca.pem"), NETHTTP_RESULT_OK);

    /* The control: with the test CA the HTTPS listener is trusted. */
    {
        struct capture c;
        capture_init(&c);
        if (run_case("trusted certificate", &c, test_https_url(url, sizeof url, server.https_port, "/status/200"),
                     trusting, 10000)) {
            CHECK_INT(c.status, 200);
        }
        capture_free(&c);
    }
    check_fault("TLS to a plain HTTP port", test_https_url(url, sizeof url, server.http_port, "/echo"), trusting,
                NETHTTP_RESULT_TLS_FAILED, 10000);
    check_fault("untrusted certificate", test_https_url(url, sizeof url, server.https_port, "/echo"), NULL,
                NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED, 10000);
    check_fault("missing CA file", test_https_url(url, sizeof url, server.https_port, "/echo"), missing_ca,
                NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED, 10000);
    CHECK(expired_port > 0 && wronghost_port > 0);
    if (expired_port > 0) {
        check_fault("expired certificate", test_https_url(url, sizeof url, expired_port, "/echo"), trusting,
                    NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED, 10000);
    }
    if (wronghost_port > 0) {
        check_fault("certificate for another host", test_https_url(url, sizeof url, wronghost_port, "/echo"),
                    trusting, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED, 10000);
    }
    nethttp_options_free(trusting);
    nethttp_options_free(missing_ca);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    read_extra_ports(argv[1]);
    CHECK(server.cert_file[0] != '\0');
    check_connection_faults();
    check_malformed_responses();
    check_slow_servers();
    check_valid_oddities();
    check_tls_faults();
    CHECK_INT(nethttp_live_requests(), 0);
    return test_finish("test_faults");
}
