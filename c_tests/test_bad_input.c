/* Bad input: NULL, unparseable or non-http URLs, bad header names/values and
 * methods. Each gives a clear error, and no callback ever comes. */
#include "test_util.h"

static struct test_server server;
static struct capture never;

static void check_rejected_request(const char *url, nethttp_callback callback, enum nethttp_result code) {
    CHECK(nethttp_request(url, NULL, callback, &never) == NULL);
    CHECK_INT(nethttp_last_error_code(), code);
    CHECK(strlen(nethttp_last_error()) > 0);
}

static void check_requests(void) {
    char url[256];
    check_rejected_request(NULL, capture_callback, NETHTTP_RESULT_NULL_ARGUMENT);
    check_rejected_request(test_url(url, sizeof url, server.http_port, "/echo"), NULL, NETHTTP_RESULT_NULL_ARGUMENT);
    check_rejected_request("", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("not a url", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("127.0.0.1/echo", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("http://", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("http://127.0.0.1:99999/", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("http://127.0.0.1/a b", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("http://127.0.0.1/\r\nX-Injected: 1", capture_callback, NETHTTP_RESULT_INVALID_URL);
    check_rejected_request("ftp://127.0.0.1/file", capture_callback, NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    check_rejected_request("file:///etc/passwd", capture_callback, NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    check_rejected_request("gopher://127.0.0.1/", capture_callback, NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    CHECK(strstr(nethttp_last_error(), "gopher") != NULL); /* the message names the culprit */
    check_rejected_request("\xff\xfe://x/", capture_callback, NETHTTP_RESULT_INVALID_URL);
}

static void check_options(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    char url[256];
    CHECK_INT(nethttp_options_set_header(options, "Bad Name", "v"), NETHTTP_RESULT_INVALID_HEADER_NAME);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_HEADER_NAME);
    CHECK_INT(nethttp_options_set_header(options, "X-Bad:", "v"), NETHTTP_RESULT_INVALID_HEADER_NAME);
    CHECK_INT(nethttp_options_set_header(options, "", "v"), NETHTTP_RESULT_INVALID_HEADER_NAME);
    CHECK_INT(nethttp_options_set_header(options, "X-Crlf\r\nX-Evil", "v"), NETHTTP_RESULT_INVALID_HEADER_NAME);
    CHECK_INT(nethttp_options_set_header(options, "X-Smuggle", "a\r\nX-Evil: 1"), NETHTTP_RESULT_INVALID_HEADER_VALUE);
    CHECK_INT(nethttp_options_set_header(options, "X-Smuggle", "a\nb"), NETHTTP_RESULT_INVALID_HEADER_VALUE);
    CHECK_INT(nethttp_options_set_header(options, "X-Smuggle", "a\rb"), NETHTTP_RESULT_INVALID_HEADER_VALUE);
    CHECK_INT(nethttp_options_set_header(options, NULL, "v"), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_header(NULL, "X", "v"), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_method(options, "GET /x HTTP/1.1\r\n"), NETHTTP_RESULT_INVALID_METHOD);
    CHECK_INT(nethttp_options_set_method(options, "PO ST"), NETHTTP_RESULT_INVALID_METHOD);
    CHECK_INT(nethttp_options_set_method(options, ""), NETHTTP_RESULT_INVALID_METHOD);
    CHECK_INT(nethttp_options_set_method(NULL, "GET"), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_body(options, NULL, 5), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_body(NULL, "x", 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_insecure(NULL, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_timeout_ms(NULL, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_ca_file(NULL, "x"), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(NULL);

    /* Nothing of the rejected values is sent: the request is a plain GET. */
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK(test_contains(c.body, c.body_len, "GET /echo HTTP/1.1\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "Evil"));
    CHECK(!test_contains(c.body, c.body_len, "Smuggle"));
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_response_accessors_on_null(void) {
    size_t len = 7;
    const char *name = "x";
    CHECK_INT(nethttp_response_status(NULL), 0);
    CHECK(nethttp_response_error(NULL) == NULL);
    CHECK_INT(nethttp_response_error_code(NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK(nethttp_response_error_detail(NULL) == NULL);
    CHECK(nethttp_response_header(NULL, "x") == NULL);
    CHECK_INT(nethttp_response_header_count(NULL), 0);
    CHECK_INT(nethttp_response_header_at(NULL, 0, &name, NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_STR(name, "x");
    CHECK(nethttp_response_body(NULL, &len) == NULL);
    CHECK_INT(len, 0);
    CHECK(nethttp_response_url(NULL) == NULL);
    CHECK(nethttp_response_request(NULL) == NULL);
    CHECK_STR(nethttp_strerror(12345), "unknown");
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    capture_init(&never);
    check_requests();
    check_options();
    check_response_accessors_on_null();
    test_sleep_ms(300);
    CHECK_INT(capture_wait(&never, 1, 100), 0); /* no rejected request ever calls back */
    CHECK_INT(nethttp_live_requests(), 0);
    capture_free(&never);
    return test_finish("test_bad_input");
}
