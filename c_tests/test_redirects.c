/* Redirects (nethttp_options_set_max_redirects): not followed by default
 * (the 3xx is the response); followed up to the maximum number of hops,
 * "too-many-redirects" past it; 301/302/303 turn a POST into a GET without
 * body, 307/308 keep method and body; only http and https targets; the
 * caller's Authorization, Cookie and Proxy-Authorization headers are not
 * sent to another origin (host, port or scheme); the response's URL is the
 * final one and nethttp_response_redirect_count() the hops followed. */
#include "test_stream_util.h"

static struct transport_server server;
static struct nethttp_client *client;
static char url[1024];

/* url = http://127.0.0.1:HTTP/redirect?to=<escaped target>&status=S */
static const char *redirect_url(const char *target, int status) {
    char *escaped = nethttp_urlencode(target, strlen(target), NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?to=%s&status=%d", server.http_port,
             escaped ? escaped : "", status);
    nethttp_free(escaped);
    return url;
}

/* Fetches `u` with `options`, keeping the response so that its URL and
 * redirect count can be read; releases the previous one. */
static const struct nethttp_response *fetch(struct capture *c, const char *u, const struct nethttp_options *options) {
    if (c->response != NULL) {
        nethttp_destroy_request(c->request);
        c->response = NULL;
    }
    c->keep = 1;
    CHECK(capture_client_fetch(client, c, u, options));
    return c->response;
}

static void release(struct capture *c) {
    if (c->response != NULL) {
        nethttp_destroy_request(c->request);
        c->response = NULL;
    }
}

static void check_default_not_followed(void) {
    struct capture c;
    const struct nethttp_response *r;
    char expected[256];
    capture_init(&c);
    r = fetch(&c, redirect_url("/echo", 302), NULL);
    CHECK_INT(c.status, 302);
    CHECK_STR(c.body, "redirect");
    CHECK(r != NULL);
    if (r != NULL) {
        CHECK_STR(nethttp_response_header(r, "location"), "/echo");
        CHECK_INT(nethttp_response_redirect_count(r), 0);
        CHECK_STR(nethttp_response_url(r), url);
    }
    /* max 0 set explicitly: the same. */
    {
        struct nethttp_options *options = nethttp_options_new();
        CHECK_INT(nethttp_options_set_max_redirects(options, 0), NETHTTP_RESULT_OK);
        r = fetch(&c, redirect_url("/echo", 301), options);
        CHECK_INT(c.status, 301);
        nethttp_options_free(options);
    }
    /* Followed: the final URL, one hop. */
    {
        struct nethttp_options *options = nethttp_options_new();
        CHECK_INT(nethttp_options_set_max_redirects(options, 5), NETHTTP_RESULT_OK);
        r = fetch(&c, redirect_url("/echo?x=1", 302), options);
        CHECK_INT(c.status, 200);
        CHECK(c.body != NULL && strncmp(c.body, "GET /echo?x=1 HTTP/1.1\r\n", 24) == 0);
        snprintf(expected, sizeof expected, "http://127.0.0.1:%d/echo?x=1", server.http_port);
        if (r != NULL) {
            CHECK_STR(nethttp_response_url(r), expected);
            CHECK_INT(nethttp_response_redirect_count(r), 1);
        }
        nethttp_options_free(options);
    }
    CHECK_INT(nethttp_response_redirect_count(NULL), 0);
    CHECK_INT(nethttp_options_set_max_redirects(NULL, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    release(&c);
    capture_free(&c);
}

/* /redirect/K is a chain of K + 1 hops ending at /echo. */
static void check_max_hops(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    const struct nethttp_response *r;
    char expected[256];
    capture_init(&c);
    CHECK_INT(nethttp_options_set_max_redirects(options, 3), NETHTTP_RESULT_OK);
    r = fetch(&c, test_url(url, sizeof url, server.http_port, "/redirect/2"), options);
    CHECK_INT(c.status, 200);
    snprintf(expected, sizeof expected, "http://127.0.0.1:%d/echo", server.http_port);
    if (r != NULL) {
        CHECK_INT(nethttp_response_redirect_count(r), 3);
        CHECK_STR(nethttp_response_url(r), expected);
    }
    r = fetch(&c, test_url(url, sizeof url, server.http_port, "/redirect/3"), options);
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "too-many-redirects");
    CHECK_INT(c.error_code, NETHTTP_RESULT_TOO_MANY_REDIRECTS);
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_TOO_MANY_REDIRECTS), "too-many-redirects");
    CHECK_INT(nethttp_options_set_max_redirects(options, 1), NETHTTP_RESULT_OK);
    r = fetch(&c, test_url(url, sizeof url, server.http_port, "/redirect/1"), options);
    CHECK_STR(c.error, "too-many-redirects");
    r = fetch(&c, test_url(url, sizeof url, server.http_port, "/redirect/0"), options);
    CHECK_INT(c.status, 200);
    if (r != NULL) {
        CHECK_INT(nethttp_response_redirect_count(r), 1);
    }
    release(&c);
    capture_free(&c);
    nethttp_options_free(options);
}

/* POST with a body through each status. */
static void check_method_rules(void) {
    static const int statuses[] = {301, 302, 303, 307, 308};
    struct capture c;
    size_t i;
    int explicit_method;
    capture_init(&c);
    for (explicit_method = 0; explicit_method < 2; explicit_method++) {
        for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
            struct nethttp_options *options = nethttp_options_new();
            int keeps = statuses[i] >= 307;
            CHECK_INT(nethttp_options_set_max_redirects(options, 5), NETHTTP_RESULT_OK);
            CHECK_INT(nethttp_options_set_body(options, "payload=1", 9), NETHTTP_RESULT_OK);
            if (explicit_method) {
                CHECK_INT(nethttp_options_set_method(options, "POST"), NETHTTP_RESULT_OK);
            }
            fetch(&c, redirect_url("/echo", statuses[i]), options);
            CHECK_INT(c.status, 200);
            if (keeps) {
                CHECK(c.body != NULL && strncmp(c.body, "POST /echo HTTP/1.1\r\n", 21) == 0);
                CHECK(c.body_len >= 9 && memcmp(c.body + c.body_len - 9, "payload=1", 9) == 0);
            } else {
                CHECK(c.body != NULL && strncmp(c.body, "GET /echo HTTP/1.1\r\n", 20) == 0);
                CHECK(!test_contains(c.body, c.body_len, "payload=1"));
                CHECK(!stream_has_line(c.body, c.body_len, "Content-Length:"));
                CHECK(!stream_has_line(c.body, c.body_len, "Transfer-Encoding:"));
            }
            if (c.body == NULL || strncmp(c.body, keeps ? "POST " : "GET ", keeps ? 5 : 4) != 0) {
                fprintf(stderr, "  after %d (method %s): %.40s\n", statuses[i], explicit_method ? "set" : "default",
                        c.body ? c.body : "(none)");
            }
            nethttp_options_free(options);
        }
    }
    release(&c);
    capture_free(&c);
}

static ptrdiff_t read_once(char *buffer, size_t capacity, void *userdata) {
    int *done = (int *)userdata;
    if (*done || capacity < 9) {
        return 0;
    }
    memcpy(buffer, "payload=2", 9);
    *done = 1;
    return 9;
}

/* A body from a read callback cannot be sent twice: 303 turns the request
 * into a GET (nothing to resend), 307 fails with "request-failed". */
static void check_callback_body(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    int done = 0;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_max_redirects(options, 5), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body_callback(options, read_once, 9, &done), NETHTTP_RESULT_OK);
    fetch(&c, redirect_url("/echo", 303), options);
    CHECK_INT(c.status, 200);
    CHECK(c.body != NULL && strncmp(c.body, "GET /echo HTTP/1.1\r\n", 20) == 0);
    done = 0;
    fetch(&c, redirect_url("/echo", 307), options);
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_REQUEST_FAILED);
    release(&c);
    capture_free(&c);
    nethttp_options_free(options);
}

/* file:// and ftp:// targets are not followed. */
static void check_schemes(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    char target[256];
    capture_init(&c);
    CHECK_INT(nethttp_options_set_max_redirects(options, 5), NETHTTP_RESULT_OK);
    fetch(&c, redirect_url("file:///etc/passwd", 302), options);
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    CHECK(!test_contains(c.body, c.body_len, "root:"));
    snprintf(target, sizeof target, "ftp://127.0.0.1:%d/x", server.http_port);
    fetch(&c, redirect_url(target, 307), options);
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    /* An https target is followed (the CA is the test server's). */
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    snprintf(target, sizeof target, "https://127.0.0.1:%d/echo", server.https_port);
    fetch(&c, redirect_url(target, 302), options);
    CHECK_INT(c.status, 200);
    if (c.response != NULL) {
        CHECK_STR(nethttp_response_url(c.response), target);
    }
    release(&c);
    capture_free(&c);
    nethttp_options_free(options);
}

/* The credentials the caller set go to the first origin only. */
static void check_origin(const char *target, int same_origin) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_max_redirects(options, 5), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "Authorization", "Bearer secret-token"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "Cookie", "session=secret-cookie"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "Proxy-Authorization", "Basic secret-proxy"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Harmless", "kept"), NETHTTP_RESULT_OK);
    fetch(&c, redirect_url(target, 302), options);
    CHECK_INT(c.status, 200);
    CHECK(test_contains(c.body, c.body_len, "/echo"));
    CHECK(stream_has_line(c.body, c.body_len, "X-Harmless: kept"));
    CHECK_INT(test_contains(c.body, c.body_len, "secret-token"), same_origin);
    CHECK_INT(test_contains(c.body, c.body_len, "secret-cookie"), same_origin);
    CHECK_INT(test_contains(c.body, c.body_len, "secret-proxy"), same_origin);
    if (c.response != NULL) {
        CHECK_INT(nethttp_response_redirect_count(c.response), 1);
    }
    release(&c);
    capture_free(&c);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    char target[256];
    server = transport_server_from_args(argc, argv);
    client = test_client_new(0, 0, 0, NULL);
    check_default_not_followed();
    check_max_hops();
    check_method_rules();
    check_callback_body();
    check_schemes();
    check_origin("/echo", 1);
    snprintf(target, sizeof target, "http://127.0.0.1:%d/echo", server.http_port);
    check_origin(target, 1);
    snprintf(target, sizeof target, "http://localhost:%d/echo", server.http_port);
    check_origin(target, 0); /* another host */
    if (server.alt_http_port != 0) {
        snprintf(target, sizeof target, "http://127.0.0.1:%d/echo", server.alt_http_port);
        check_origin(target, 0); /* another port */
    } else {
        CHECK(!"the port file has no ALT_HTTP_PORT");
    }
    snprintf(target, sizeof target, "https://127.0.0.1:%d/echo", server.https_port);
    check_origin(target, 0); /* another scheme and port */
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    return test_finish("test_redirects");
}
