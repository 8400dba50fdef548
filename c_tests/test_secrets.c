/* Passwords in URLs never show: not in nethttp_last_error(), not in a
 * failed response's detail, not in nethttp_response_url(). nethttp shows
 * `user:***@` instead. */
#include "test_util.h"

static struct test_server server;
static char url[512];
static char expected[512];

static int closed_port(void) {
    int port = 0;
    int fd = test_loopback_listener(1, &port);
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static void check_no_secret(const char *what, const char *text) {
    CHECK(text != NULL);
    if (text != NULL && strstr(text, "secret") != NULL) {
        test_failures++;
        fprintf(stderr, "%s shows the password: %s\n", what, text);
    }
}

/* Bad URLs with credentials: the error message quotes them redacted. */
static void check_last_error(void) {
    static const char *const bad_urls[] = {
        "http://user:secret@/path",       /* no host: the message quotes the URL */
        "user:secret@example.org/path",   /* no scheme: likewise */
        "ftp://user:secret@example.org/", /* unsupported scheme */
        "http://user:secret@example.org:99999/",
        "http://user:secret@[::1/",
        "us\"er:secret@host://x", /* the scheme part holds the credentials */
    };
    size_t i;
    for (i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        CHECK(nethttp_request(bad_urls[i], NULL, capture_callback, NULL) == NULL);
        CHECK(nethttp_last_error_code() != NETHTTP_RESULT_OK);
        check_no_secret("nethttp_last_error()", nethttp_last_error());
    }
    /* Redacted, not dropped: the message still says which URL. */
    CHECK(nethttp_request("http://user:secret@/path", NULL, capture_callback, NULL) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_URL);
    CHECK(strstr(nethttp_last_error(), "http://user:***@/path") != NULL);
}

/* A failed transfer: the detail and the response URL. */
static void check_failed_response(void) {
    struct capture c;
    int port = closed_port();
    capture_init(&c);
    c.keep = 1;
    snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%d/path?q=1", port);
    snprintf(expected, sizeof expected, "http://user:***@127.0.0.1:%d/path?q=1", port);
    CHECK(capture_fetch(&c, url, NULL));
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    check_no_secret("detail", c.detail);
    CHECK(c.response != NULL);
    if (c.response != NULL) {
        check_no_secret("nethttp_response_error_detail()", nethttp_response_error_detail(c.response));
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response));
        CHECK_STR(nethttp_response_url(c.response), expected);
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);
}

/* A successful one: the server gets the credentials, the caller sees none. */
static void check_successful_response(void) {
    struct capture c;
    capture_init(&c);
    c.keep = 1;
    snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%d/echo", server.http_port);
    snprintf(expected, sizeof expected, "http://user:***@127.0.0.1:%d/echo", server.http_port);
    CHECK(capture_fetch(&c, url, NULL));
    CHECK_INT(c.status, 200);
    /* Basic dXNlcjpzZWNyZXQ= is user:secret: libcurl did send them. */
    CHECK(test_contains(c.body, c.body_len, "Authorization: Basic dXNlcjpzZWNyZXQ="));
    CHECK(c.response != NULL);
    if (c.response != NULL) {
        CHECK_STR(nethttp_response_url(c.response), expected);
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);
}

/* libcurl quotes a proxy URL, credentials included, when it cannot use it. */
static void check_proxy_detail(void) {
    struct capture c;
    /* No transfer may read the environment while it changes. */
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    setenv("http_proxy", "bogus://puser:psecret@127.0.0.1:1", 1);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), NULL));
    CHECK_INT(c.status, 0);
    CHECK(strstr(c.detail, "psecret") == NULL);
    if (strstr(c.detail, "psecret") != NULL) {
        fprintf(stderr, "proxy detail shows the password: %s\n", c.detail);
    }
    /* The control: libcurl did quote the proxy (redacted). */
    CHECK(strstr(c.detail, "puser:***@") != NULL);
    capture_free(&c);
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    unsetenv("http_proxy");
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_last_error();
    check_failed_response();
    check_successful_response();
    check_proxy_detail();
    return test_finish("test_secrets");
}
