/* nethttp_fetch: a blocking request that returns the response (the caller's
 * to free), on the default client and on clients in both delivery modes; a
 * failed transfer is still a response; refused, without deadlock, inside a
 * callback of the same client, and fine on another client. */
#include "test_util.h"

static struct test_server server;
static char url[256];

enum { DEFAULT_CLIENT, INLINE_CLIENT, DISPATCH_CLIENT };
static const char *const mode_names[] = {"default client", "inline client", "dispatch client"};

static struct nethttp_response *fetch(struct nethttp_client *client, const char *target,
                                      const struct nethttp_options *options) {
    struct nethttp_response *response = nethttp_fetch(client, target, options);
    if (response == NULL) {
        fprintf(stderr, "nethttp_fetch(%s): %s (%s)\n", target, nethttp_strerror(nethttp_last_error_code()),
                nethttp_last_error());
    }
    return response;
}

static void check_mode(int mode) {
    struct nethttp_client *client = mode == DEFAULT_CLIENT ? NULL : test_client_new(mode == DISPATCH_CLIENT, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_response *response;
    const char *body;
    size_t len = 0;
    char refused[128];
    int i, nulls = 0;
    fprintf(stderr, "-- %s\n", mode_names[mode]);

    /* GET */
    response = fetch(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL);
    CHECK(response != NULL);
    CHECK_INT(nethttp_response_status(response), 200);
    body = nethttp_response_body(response, &len);
    CHECK(body != NULL && len > 20 && strncmp(body, "GET /echo HTTP/1.1\r\n", 20) == 0);
    CHECK(nethttp_response_error(response) == NULL);
    CHECK_INT(nethttp_response_error_code(response), NETHTTP_RESULT_OK);
    CHECK_STR(nethttp_response_header(response, "Content-Type"), "application/octet-stream");
    CHECK_STR(nethttp_response_method(response), "GET");
    CHECK_STR(nethttp_response_url(response), url);
    CHECK(nethttp_response_timing_us(response, NETHTTP_TIMING_TOTAL) >= 0);
    nethttp_response_free(response);

    /* POST: /echo sends the body back after the head. */
    CHECK_INT(nethttp_options_set_body(options, "name=value&x=1", 14), NETHTTP_RESULT_OK);
    response = fetch(client, test_url(url, sizeof url, server.http_port, "/echo"), options);
    CHECK(response != NULL);
    CHECK_INT(nethttp_response_status(response), 200);
    body = nethttp_response_body(response, &len);
    CHECK(body != NULL && len > 21 && strncmp(body, "POST /echo HTTP/1.1\r\n", 21) == 0);
    CHECK(len >= 18 && memcmp(body + len - 18, "\r\n\r\nname=value&x=1", 18) == 0);
    CHECK_STR(nethttp_response_method(response), "POST");
    nethttp_response_free(response);

    /* A failed transfer is a response: status 0 and the reason. */
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/", test_closed_port());
    response = fetch(client, refused, NULL);
    CHECK(response != NULL);
    CHECK_INT(nethttp_response_status(response), 0);
    CHECK_STR(nethttp_response_error(response), "connection-refused");
    CHECK_INT(nethttp_response_error_code(response), NETHTTP_RESULT_CONNECTION_REFUSED);
    CHECK_STR(nethttp_response_body(response, &len), "connection-refused");
    CHECK_INT(len, strlen("connection-refused"));
    body = nethttp_response_error_detail(response);
    CHECK(body != NULL && strlen(body) > 0);
    nethttp_response_free(response);

    /* A timeout from the options. */
    CHECK_INT(nethttp_options_clear_body(options), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_timeout_ms(options, 300), NETHTTP_RESULT_OK);
    response = fetch(client, test_url(url, sizeof url, server.http_port, "/delay/3000"), options);
    CHECK(response != NULL);
    CHECK_STR(nethttp_response_error(response), "timeout");
    nethttp_response_free(response);

    /* Requests that cannot start: NULL, no response. */
    CHECK(nethttp_fetch(client, NULL, NULL) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK(nethttp_fetch(client, "ftp://127.0.0.1/", NULL) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    CHECK(nethttp_fetch(client, "http://", NULL) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_URL);

    /* In dispatch mode the completion bypasses the queue. */
    if (mode == DISPATCH_CLIENT) {
        CHECK(!test_readable(nethttp_client_fd(client), 0));
        CHECK_INT(nethttp_client_dispatch(client, 0), 0);
    }

    /* Every fetch of a live client returns its response. */
    for (i = 0; i < 50; i++) {
        response = nethttp_fetch(client, test_url(url, sizeof url, server.http_port, "/status/200"), NULL);
        if (response == NULL || nethttp_response_status(response) != 200) {
            if (nulls++ == 0) {
                fprintf(stderr, "fetch %d: %s\n", i, response ? "not 200" : nethttp_last_error());
            }
        }
        nethttp_response_free(response);
    }
    CHECK_INT(nulls, 0);

    /* The response is the caller's: it outlives the client. */
    response = fetch(client, test_url(url, sizeof url, server.http_port, "/bytes/3000"), NULL);
    CHECK(response != NULL);
    if (client != NULL) {
        CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    } else {
        CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    }
    CHECK_INT(nethttp_response_status(response), 200);
    body = nethttp_response_body(response, &len);
    CHECK_INT(len, 3000);
    CHECK(body != NULL && len == 3000 && (unsigned char)body[2999] == (2999 * 7 + 3) % 256);
    nethttp_response_free(response);
    nethttp_options_free(options);
}

/* Inside a callback: fetch on the same client would wait for itself and is
 * refused; on another client it works. */
struct inside {
    struct capture c;
    struct nethttp_client *same;   /* NULL: the default client */
    struct nethttp_client *other;  /* NULL: the default client */
    int same_null, same_code, other_status;
};

static int fetch_inside_callback(const char *body, size_t body_len, int status,
                                 const struct nethttp_response *response, void *userdata) {
    struct inside *in = (struct inside *)userdata;
    struct nethttp_response *r = nethttp_fetch(in->same, url, NULL);
    in->same_null = r == NULL;
    in->same_code = nethttp_last_error_code();
    nethttp_response_free(r);
    r = nethttp_fetch(in->other, url, NULL);
    in->other_status = r != NULL ? nethttp_response_status(r) : -1;
    if (r == NULL) {
        fprintf(stderr, "fetch on another client inside a callback: %s\n", nethttp_last_error());
    }
    nethttp_response_free(r);
    return capture_callback(body, body_len, status, response, &in->c);
}

static void check_inside_callback(struct nethttp_client *same, struct nethttp_client *other, const char *what) {
    struct inside in;
    memset(&in, 0, sizeof in);
    capture_init(&in.c);
    in.same = same;
    in.other = other;
    in.same_code = -1;
    test_url(url, sizeof url, server.http_port, "/echo");
    fprintf(stderr, "-- fetch inside a callback: %s\n", what);
    if (same == NULL) {
        CHECK(nethttp_request(url, NULL, fetch_inside_callback, &in) != NULL);
    } else {
        CHECK(nethttp_client_request(same, url, NULL, fetch_inside_callback, &in) != NULL);
    }
    /* 20 s at most: no deadlock */
    if (same != NULL && nethttp_client_fd(same) >= 0) {
        CHECK_INT(test_dispatch_until(same, &in.c.calls, 1, 20000), 1);
    } else {
        CHECK_INT(capture_wait(&in.c, 1, 20000), 1);
    }
    CHECK_INT(in.c.status, 200);
    CHECK(in.same_null);
    CHECK_INT(in.same_code, NETHTTP_RESULT_CALLED_FROM_CALLBACK);
    CHECK_INT(in.other_status, 200);
    capture_free(&in.c);
}

int main(int argc, char **argv) {
    struct nethttp_client *a, *b, *d;
    server = test_server_from_args(argc, argv);
    nethttp_response_free(NULL);

    check_mode(DEFAULT_CLIENT);
    check_mode(INLINE_CLIENT);
    check_mode(DISPATCH_CLIENT);

    a = test_client_new(0, 0, 0, NULL);
    b = test_client_new(0, 0, 0, NULL);
    d = test_client_new(1, 0, 0, NULL);
    check_inside_callback(a, b, "inline client, then another client");
    check_inside_callback(d, a, "dispatch client, then an inline client");
    check_inside_callback(NULL, a, "default client, then an inline client");
    check_inside_callback(a, NULL, "inline client, then the default client");
    CHECK_INT(nethttp_client_free(a, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(b, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(d, 0), NETHTTP_RESULT_OK);
    return test_finish("test_client_fetch");
}
