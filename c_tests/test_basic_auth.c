/* nethttp_options_set_basic_auth, and user:password in the URL (as Prosody):
 * the server gets "Authorization: Basic ..." either way (the option wins
 * when both are given); the password never appears in nethttp_last_error(),
 * an error detail or the response URL; a client default, and a request's
 * NULL over it. */
#include "test_transport_util.h"

static struct transport_server server;
static char url[512];

#define ALICE "Authorization: Basic YWxpY2U6czNjcjN0LXB3\r\n" /* alice:s3cr3t-pw */
#define BOB "Authorization: Basic Ym9iOnVybC1wdw==\r\n"       /* bob:url-pw */
#define CAROL "Authorization: Basic Y2Fyb2w6ZGVmYXVsdC1wdw==\r\n" /* carol:default-pw */

static void check_no_secret(const char *what, const char *text) {
    test_checks++;
    if (text != NULL && (strstr(text, "s3cr3t") != NULL || strstr(text, "url-pw") != NULL)) {
        test_failures++;
        fprintf(stderr, "%s shows a password: %s\n", what, text);
    }
}

static void check_sent(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_basic_auth(options, "alice", "s3cr3t-pw"), NETHTTP_RESULT_OK);
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK_INT(c.status, 200);
    CHECK(test_contains(c.body, c.body_len, ALICE));
    if (c.response != NULL) {
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response));
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);

    /* From the URL, as Prosody does it... */
    snprintf(url, sizeof url, "http://bob:url-pw@127.0.0.1:%d/echo", server.http_port);
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_fetch(&c, url, NULL));
    CHECK(test_contains(c.body, c.body_len, BOB));
    if (c.response != NULL) {
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response));
        CHECK(strstr(nethttp_response_url(c.response), "bob:***@") != NULL);
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);
    /* ...where the option wins. */
    capture_init(&c);
    CHECK(capture_fetch(&c, url, options));
    CHECK(test_contains(c.body, c.body_len, ALICE));
    CHECK(!test_contains(c.body, c.body_len, BOB));
    capture_free(&c);

    /* An empty password is a password. */
    CHECK_INT(nethttp_options_set_basic_auth(options, "alice", ""), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK(test_contains(c.body, c.body_len, "Authorization: Basic YWxpY2U6\r\n")); /* alice: */
    capture_free(&c);

    /* NULL: none from the options. */
    CHECK_INT(nethttp_options_set_basic_auth(options, NULL, NULL), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK(!test_contains(c.body, c.body_len, "Authorization:"));
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_never_shown(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_basic_auth(options, "al:ice", "s3cr3t-pw"), NETHTTP_RESULT_INVALID_ARGUMENT);
    check_no_secret("nethttp_last_error()", nethttp_last_error());
    CHECK_INT(nethttp_options_set_basic_auth(options, "alice", "s3cr3t-\xff"), NETHTTP_RESULT_INVALID_ARGUMENT);
    check_no_secret("nethttp_last_error()", nethttp_last_error());
    CHECK_INT(nethttp_options_set_basic_auth(options, "alice", NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    check_no_secret("nethttp_last_error()", nethttp_last_error());

    /* A failed transfer, credentials from the option and from the URL. */
    CHECK_INT(nethttp_options_set_basic_auth(options, "alice", "s3cr3t-pw"), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://bob:url-pw@127.0.0.1:%d/echo", test_closed_port());
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_fetch(&c, url, options));
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    check_no_secret("error detail", c.detail);
    if (c.response != NULL) {
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response));
        check_no_secret("nethttp_response_error_detail()", nethttp_response_error_detail(c.response));
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);
    /* A request that cannot start. */
    CHECK(nethttp_request("http://bob:url-pw@/echo", options, capture_callback, NULL) == NULL);
    check_no_secret("nethttp_last_error()", nethttp_last_error());
    nethttp_options_free(options);
}

static void check_client_default(void) {
    struct nethttp_options *defaults = nethttp_options_new();
    struct nethttp_options *none = nethttp_options_new();
    struct nethttp_options *own = nethttp_options_new();
    struct nethttp_client *client;
    struct capture c;
    CHECK_INT(nethttp_options_set_basic_auth(defaults, "carol", "default-pw"), NETHTTP_RESULT_OK);
    client = test_client_new(0, 0, 0, defaults);
    nethttp_options_free(defaults);
    test_url(url, sizeof url, server.http_port, "/echo");

    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, url, NULL));
    CHECK(test_contains(c.body, c.body_len, CAROL));
    capture_free(&c);
    CHECK_INT(nethttp_options_set_basic_auth(own, "alice", "s3cr3t-pw"), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, url, own));
    CHECK(test_contains(c.body, c.body_len, ALICE));
    capture_free(&c);
    CHECK_INT(nethttp_options_set_basic_auth(none, NULL, NULL), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, url, none));
    CHECK(!test_contains(c.body, c.body_len, "Authorization:"));
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(none);
    nethttp_options_free(own);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    CHECK_INT(nethttp_options_set_basic_auth(NULL, "a", "b"), NETHTTP_RESULT_NULL_ARGUMENT);
    check_sent();
    check_never_shown();
    check_client_default();
    return test_finish("test_basic_auth");
}
