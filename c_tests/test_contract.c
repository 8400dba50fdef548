/* The header's contract on inputs at their edges, checked against the test
 * server's /echo (which answers with the request line and headers as they
 * arrived):
 * - methods are sent as given ("head" is not HEAD); a header value of only
 *   blanks is sent empty, only a NULL value removes a header;
 * - a failed response exposes no headers; a status line without a status
 *   code in 100..999 is a failure (status 0 always means one);
 * - timeouts and body limits of 2^63 and UINT64_MAX are accepted and mean
 *   "no limit"; the body limit holds for chunked and length-announced bodies
 *   alike, and a body within it arrives whole;
 * - text too long for libcurl (URL, method, header line, all of them
 *   together, a CA path) is refused by the setter or by nethttp_request()
 *   with a documented code, never internal-error, never in a callback;
 * - other schemes are refused; CR and LF are refused in header names, header
 *   values and methods; TLS verification is on by default.
 * (A NUL cannot reach the setters: a C string ends there. The Rust tests of
 * src/options.rs check NUL in names, values and methods.) */
#include <stdint.h>

#include "test_util.h"

static struct test_server server;
static char url[512];
static struct capture never; /* refused requests must never call back */

static const char *http(const char *path) {
    return test_url(url, sizeof url, server.http_port, path);
}

/* A string of `n` copies of `c`, malloc'ed. */
static char *filled(size_t n, char c) {
    char *s = malloc(n + 1);
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* GETs `path` with `options`, waits for the callback; the capture is the caller's. */
static int fetch(struct capture *c, const char *path, const struct nethttp_options *options) {
    int ok;
    capture_init(c);
    ok = capture_fetch(c, http(path), options);
    CHECK(ok); /* refused, or no callback: a failure, never a skipped check */
    return ok;
}

/* ---- Methods are sent as given --------------------------------------------- */

static void check_method_sent_as_given(const char *method) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    char line[64];
    CHECK_INT(nethttp_options_set_method(options, method), NETHTTP_RESULT_OK);
    if (fetch(&c, "/echo", options)) {
        snprintf(line, sizeof line, "%s /echo HTTP/1.1\r\n", method);
        CHECK_INT(c.status, 200);
        CHECK(c.body_len >= strlen(line) && memcmp(c.body, line, strlen(line)) == 0);
        if (c.body_len < strlen(line) || memcmp(c.body, line, strlen(line)) != 0) {
            fprintf(stderr, "method %s: the server saw \"%.40s\"\n", method, c.body ? c.body : "");
        }
    }
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_methods(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    check_method_sent_as_given("head");
    check_method_sent_as_given("Head");
    check_method_sent_as_given("get");
    check_method_sent_as_given("BREW");
    /* The control: upper-case HEAD is HEAD (headers only, no body). */
    CHECK_INT(nethttp_options_set_method(options, "HEAD"), NETHTTP_RESULT_OK);
    if (fetch(&c, "/echo", options)) {
        CHECK_INT(c.status, 200);
        CHECK_INT(c.body_len, 0);
    }
    capture_free(&c);
    nethttp_options_free(options);
}

/* ---- Empty and removed headers ---------------------------------------------- */

static void check_blank_header_values(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_header(options, "X-Spaces", "     "), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Tabs", "\t \t"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Empty", ""), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "User-Agent", NULL), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "Accept", NULL), NETHTTP_RESULT_OK);
    if (fetch(&c, "/echo", options)) {
        CHECK_INT(c.status, 200);
        /* Sent, with nothing after the colon. */
        CHECK(test_contains(c.body, c.body_len, "\r\nX-Spaces:\r\n"));
        CHECK(test_contains(c.body, c.body_len, "\r\nX-Tabs:\r\n"));
        CHECK(test_contains(c.body, c.body_len, "\r\nX-Empty:\r\n"));
        /* NULL removed the defaults of nethttp (User-Agent) and libcurl (Accept). */
        CHECK(!test_contains(c.body, c.body_len, "User-Agent"));
        CHECK(!test_contains(c.body, c.body_len, "\r\nAccept:"));
        if (!test_contains(c.body, c.body_len, "\r\nX-Spaces:\r\n")) {
            fprintf(stderr, "blank headers: the server saw:\n%s\n", c.body ? c.body : "");
        }
    }
    capture_free(&c);
    nethttp_options_free(options);
}

/* ---- A failed response has no headers --------------------------------------- */

struct header_probe {
    struct capture c;
    size_t count;
    enum nethttp_result at0;
    int found; /* nethttp_response_header() found Content-Length */
};

static int probe_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    struct header_probe *p = (struct header_probe *)userdata;
    const char *name = NULL, *value = NULL;
    p->count = nethttp_response_header_count(response);
    p->at0 = nethttp_response_header_at(response, 0, &name, &value);
    p->found = nethttp_response_header(response, "Content-Length") != NULL ||
               nethttp_response_header(response, "Transfer-Encoding") != NULL;
    return capture_callback(body, body_len, status, response, &p->c);
}

static void check_failed_response_has_no_headers(const char *path, enum nethttp_result expected) {
    struct header_probe p;
    memset(&p, 0, sizeof p);
    capture_init(&p.c);
    CHECK(nethttp_request(http(path), NULL, probe_callback, &p) != NULL);
    if (capture_wait(&p.c, 1, 20000) == 1) {
        CHECK_INT(p.c.status, 0);
        CHECK_INT(p.c.error_code, expected);
        CHECK_INT(p.count, 0);
        CHECK_INT(p.at0, NETHTTP_RESULT_INDEX_OUT_OF_RANGE);
        CHECK_INT(p.found, 0);
    } else {
        CHECK(!"no callback");
    }
    capture_free(&p.c);
}

static void check_failures_expose_no_headers(void) {
    struct header_probe p;
    /* The control: a successful response has its headers. */
    memset(&p, 0, sizeof p);
    capture_init(&p.c);
    CHECK(nethttp_request(http("/bytes/10"), NULL, probe_callback, &p) != NULL);
    if (capture_wait(&p.c, 1, 20000) == 1) {
        CHECK_INT(p.c.status, 200);
        CHECK(p.count > 0);
        CHECK_INT(p.at0, NETHTTP_RESULT_OK);
        CHECK_INT(p.found, 1);
    }
    capture_free(&p.c);
    /* Headers arrived, then the connection was reset, or cut mid-chunk. */
    check_failed_response_has_no_headers("/fault/reset", NETHTTP_RESULT_CONNECTION_CLOSED);
    check_failed_response_has_no_headers("/fault/chunked-truncated", NETHTTP_RESULT_CONNECTION_CLOSED);
    check_failed_response_has_no_headers("/close-early", NETHTTP_RESULT_CONNECTION_CLOSED);
}

/* ---- A status that is not one is a failure, never a success ---------------- */

/* Serves `reply` by hand on a loopback listener. The callback must come
 * once; a success has a status of 100..999, so that status 0 always means a
 * failure (libcurl 7.88 takes any number after "HTTP/2 " as the status: the
 * fuzzer found "HTTP/2 0" delivered as a success with status 0). */
static void check_served(const char *reply, int expected_status) {
    struct capture c;
    int port = 0, listener = test_loopback_listener(4, &port), conn;
    char target[128];
    capture_init(&c);
    CHECK(listener >= 0);
    snprintf(target, sizeof target, "http://127.0.0.1:%d/raw", port);
    CHECK(nethttp_request(target, NULL, capture_callback, &c) != NULL);
    conn = test_accept_request(listener, 10000);
    CHECK(conn >= 0);
    if (conn >= 0) {
        CHECK(test_write_all(conn, reply));
        close(conn);
    }
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    if (expected_status == -1) { /* either: once, and a response or a clean failure */
        CHECK(c.status == 0 ? c.error_code >= 100 : c.error_code == NETHTTP_RESULT_OK);
        expected_status = c.status;
    } else if (expected_status == 0) {
        CHECK_INT(c.status, 0);
        CHECK(c.error_code >= 100); /* a transfer failure, with its name as the body */
        CHECK_STR(c.body, nethttp_strerror((int)c.error_code));
    } else {
        CHECK_INT(c.status, expected_status);
        CHECK_INT(c.error_code, NETHTTP_RESULT_OK);
    }
    if (c.status != expected_status) {
        fprintf(stderr, "served %.20s...: status %d, %s (%s)\n", reply, c.status, c.error, c.detail);
    }
    capture_free(&c);
    close(listener);
}

/* A reused easy handle and a response whose first header line is a folded
 * continuation: libcurl before 8.1.0 read and realloc'ed the previous
 * transfer's freed last header (curl PR 11103; found by fuzz_response).
 * nethttp does not reuse handles with such a libcurl. The plain build may
 * not notice; the sanitizer and valgrind runs of this test do. */
static void check_fold_after_reuse(void) {
    int i;
    for (i = 0; i < 3; i++) {
        check_served("HTTP/1.1 200 OK\r\nX-Previous: header\r\nContent-Length: 2\r\n\r\nok", 200);
        check_served("HTTP/1.1 200 OK\r\n folded: first\r\nContent-Length: 2\r\n\r\nok", -1);
    }
}

static void check_status_codes(void) {
    check_served("HTTP/2 0\r\nContent-Length: 2\r\n\r\nok", 0);
    check_served("HTTP/2 000\r\nContent-Length: 2\r\n\r\nok", 0);
    check_served("HTTP/2 -5\r\nContent-Length: 2\r\n\r\nok", 0);
    check_served("HTTP/2 20\r\nContent-Length: 2\r\n\r\nok", 0);
    check_served("HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok", 0);
    /* The controls: unusual, but valid. */
    check_served("HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\nok", 999);
    check_served("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 201);
}

/* ---- Limits of 2^63 and UINT64_MAX ------------------------------------------ */

static void check_huge_limits(uint64_t value, const char *label) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_timeout_ms(options, value), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_connect_timeout_ms(options, value), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_max_body(options, value), NETHTTP_RESULT_OK);
    if (fetch(&c, "/bytes/100000", options)) {
        CHECK_INT(c.status, 200);
        CHECK_INT(c.body_len, 100000);
        if (c.status != 200) {
            fprintf(stderr, "limits of %s: %s (%s)\n", label, c.error, c.detail);
        }
    }
    capture_free(&c);
    /* A UINT64_MAX total timeout is no limit: a 1.5 s request is not cut short. */
    if (value == UINT64_MAX) {
        if (fetch(&c, "/delay/1500", options)) {
            CHECK_INT(c.status, 200);
            CHECK_STR(c.body, "delayed 1500");
        }
        capture_free(&c);
    }
    nethttp_options_free(options);
}

static void check_limits(void) {
    check_huge_limits(UINT64_MAX, "UINT64_MAX");
    check_huge_limits((uint64_t)1 << 63, "2^63");
    check_huge_limits(((uint64_t)1 << 63) - 1, "2^63 - 1");
}

/* ---- The body limit: chunked and length-announced alike -------------------- */

static int pattern_ok(const struct capture *c, size_t n) {
    size_t i;
    if (c->body == NULL || c->body_len != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)c->body[i] != (unsigned char)((i * 7 + 3) % 256)) {
            return 0;
        }
    }
    return 1;
}

static void check_max_body_on(const char *kind, size_t n) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    char path[128];
    uint64_t limits[] = {1, n - 1, n, n + 1};
    size_t i;
    snprintf(path, sizeof path, "/%s/%zu", kind, n);
    for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        CHECK_INT(nethttp_options_set_max_body(options, limits[i]), NETHTTP_RESULT_OK);
        if (fetch(&c, path, options)) {
            if (limits[i] < n) {
                CHECK_INT(c.status, 0);
                CHECK_INT(c.error_code, NETHTTP_RESULT_BODY_TOO_LARGE);
            } else {
                CHECK_INT(c.status, 200);
                CHECK(pattern_ok(&c, n)); /* whole, never truncated */
            }
            if ((limits[i] < n) != (c.status == 0)) {
                fprintf(stderr, "%s with max_body %llu: status %d, %zu bytes, %s\n", path,
                        (unsigned long long)limits[i], c.status, c.body_len, c.error);
            }
        }
        capture_free(&c);
    }
    nethttp_options_free(options);
}

static void check_max_body(void) {
    check_max_body_on("bytes", 100000);
    check_max_body_on("chunked", 100000);
    check_max_body_on("bytes", 3000000);
    check_max_body_on("chunked", 3000000);
}

/* ---- Text too long for libcurl ----------------------------------------------- */

static void check_refused_url(size_t length) {
    char *u = filled(length, 'a');
    const char *base = http("/echo/");
    memcpy(u, base, strlen(base));
    CHECK(nethttp_request(u, NULL, capture_callback, &never) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_URL);
    free(u);
}

static void check_too_long(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_options *defaults = nethttp_options_new();
    struct nethttp_client *client;
    struct capture c;
    char *big = filled(8000001, 'a');
    char *half = filled(600000, 'b');
    char *most = filled(900000, 'c');

    /* URLs: over 8,000,000 bytes (libcurl's string limit), at it, and just
     * over the 1,000,000 bytes of the request line. */
    check_refused_url(8000001);
    check_refused_url(8000000);
    check_refused_url(1048577);
    check_refused_url(1000001);

    /* Methods and header lines, refused by the setter (options unchanged). */
    CHECK_INT(nethttp_options_set_method(options, big), NETHTTP_RESULT_INVALID_METHOD);
    big[1048576] = '\0';
    CHECK_INT(nethttp_options_set_method(options, big), NETHTTP_RESULT_INVALID_METHOD);
    CHECK_INT(nethttp_options_set_header(options, "X-Big", big), NETHTTP_RESULT_INVALID_HEADER_VALUE);
    CHECK_INT(nethttp_options_set_header(options, big, "v"), NETHTTP_RESULT_INVALID_HEADER_NAME);
    big[1048576] = 'a';
    CHECK_INT(nethttp_options_set_header(options, "X-Big", big), NETHTTP_RESULT_INVALID_HEADER_VALUE);
    CHECK_INT(nethttp_options_set_ca_file(options, big), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
    if (fetch(&c, "/echo", options)) { /* nothing of it was kept */
        CHECK_INT(c.status, 200);
        CHECK(test_contains(c.body, c.body_len, "GET /echo HTTP/1.1\r\n"));
        CHECK(!test_contains(c.body, c.body_len, "X-Big"));
    }
    capture_free(&c);

    /* Each line fits, all of them together do not: nethttp_request refuses. */
    CHECK_INT(nethttp_options_set_header(options, "X-Half-1", half), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Half-2", half), NETHTTP_RESULT_OK);
    CHECK(nethttp_request(http("/echo"), options, capture_callback, &never) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK(nethttp_fetch(NULL, http("/echo"), options) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);

    /* The same with a client's default header and a request's own. */
    CHECK_INT(nethttp_options_set_header(defaults, "X-Default", half), NETHTTP_RESULT_OK);
    client = test_client_new(0, 0, 0, defaults);
    nethttp_options_free(options);
    options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_header(options, "X-Own", half), NETHTTP_RESULT_OK);
    CHECK(nethttp_client_request(client, http("/echo"), options, capture_callback, &never) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
    /* Alone, the default header goes through. */
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, http("/echo"), NULL));
    if (c.calls == 1) {
        CHECK_INT(c.status, 200);
        CHECK(test_contains(c.body, c.body_len, "X-Default: bbbb"));
    }
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);

    /* Large, but within the limit: sent whole. */
    nethttp_options_free(options);
    options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_header(options, "X-Most", most), NETHTTP_RESULT_OK);
    if (fetch(&c, "/echo", options)) {
        CHECK_INT(c.status, 200);
        CHECK(c.body_len > 900000 && test_contains(c.body, c.body_len, "X-Most: cccc"));
        if (c.status != 200) {
            fprintf(stderr, "a 900,000-byte header: %s (%s)\n", c.error, c.detail);
        }
    }
    capture_free(&c);

    nethttp_options_free(options);
    nethttp_options_free(defaults);
    free(big);
    free(half);
    free(most);
}

/* ---- Schemes, CR/LF, TLS ----------------------------------------------------- */

static void check_schemes(void) {
    const char *urls[] = {
        "file:///etc/passwd",   "ftp://127.0.0.1/",    "gopher://127.0.0.1/", "dict://127.0.0.1/d:x",
        "ldap://127.0.0.1/",    "smb://127.0.0.1/s",   "scp://127.0.0.1/x",   "FTP://127.0.0.1/",
        "sftp://127.0.0.1/x",   "telnet://127.0.0.1/", "ws://127.0.0.1/",     "mqtt://127.0.0.1/",
    };
    size_t i;
    for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        CHECK(nethttp_request(urls[i], NULL, capture_callback, &never) == NULL);
        CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_UNSUPPORTED_SCHEME);
        if (nethttp_last_error_code() != NETHTTP_RESULT_UNSUPPORTED_SCHEME) {
            fprintf(stderr, "%s: %s\n", urls[i], nethttp_last_error());
        }
    }
}

static void check_crlf(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    const char *bad_values[] = {"a\r\nX-Evil: 1", "a\rX-Evil: 1", "a\nX-Evil: 1", "\r\n", "\n"};
    const char *bad_names[] = {"X-Evil\r\n", "X\rEvil", "X\nEvil", "\r\nX-Evil"};
    const char *bad_methods[] = {"GET\r\nX-Evil: 1", "GET\r", "GET\n", "\r\n", "G\nET"};
    size_t i;
    for (i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        CHECK_INT(nethttp_options_set_header(options, "X-Evil", bad_values[i]), NETHTTP_RESULT_INVALID_HEADER_VALUE);
    }
    for (i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        CHECK_INT(nethttp_options_set_header(options, bad_names[i], "v"), NETHTTP_RESULT_INVALID_HEADER_NAME);
    }
    for (i = 0; i < sizeof bad_methods / sizeof bad_methods[0]; i++) {
        CHECK_INT(nethttp_options_set_method(options, bad_methods[i]), NETHTTP_RESULT_INVALID_METHOD);
    }
    if (fetch(&c, "/echo", options)) {
        CHECK(test_contains(c.body, c.body_len, "GET /echo HTTP/1.1\r\n"));
        CHECK(!test_contains(c.body, c.body_len, "Evil"));
    }
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_tls_verified_by_default(void) {
    struct nethttp_options *trusting = nethttp_options_new();
    struct capture c;
    capture_init(&c);
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/status/200"), NULL));
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    CHECK_STR(c.body, "certificate-verify-failed");
    capture_free(&c);
    /* The control: the same server, trusted through its CA. */
    CHECK_INT(nethttp_options_set_ca_file(trusting, server.cert_file), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/status/200"), trusting));
    CHECK_INT(c.status, 200);
    capture_free(&c);
    nethttp_options_free(trusting);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    CHECK(server.cert_file[0] != '\0');
    capture_init(&never);
    check_methods();
    check_blank_header_values();
    check_failures_expose_no_headers();
    check_status_codes();
    check_fold_after_reuse();
    check_limits();
    check_max_body();
    check_too_long();
    check_schemes();
    check_crlf();
    check_tls_verified_by_default();
    test_sleep_ms(200);
    CHECK_INT(capture_wait(&never, 1, 50), 0); /* no refused request called back */
    CHECK_INT(nethttp_live_requests(), 0);
    capture_free(&never);
    return test_finish("test_contract");
}
