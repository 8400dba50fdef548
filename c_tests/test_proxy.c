/* Proxies (nethttp_options_set_proxy, nethttp_options_set_no_proxy), through
 * the test server's forwarding proxy, which logs what it saw:
 * - plain http is forwarded and https goes through a CONNECT tunnel;
 * - "" connects directly although the environment names a proxy (this
 *   program sets http_proxy and https_proxy to a port that refuses
 *   connections, and no_proxy=localhost, before its first request);
 * - a no_proxy list set on the options is honoured, and replaces the
 *   environment's;
 * - credentials in the proxy URL are sent, and never appear in
 *   nethttp_last_error(), an error detail or a response URL;
 * - a proxy set in a client's defaults is used, and "" in a request's own
 *   options overrides it. */
#include "test_transport_util.h"

static struct transport_server server;
static char url[512];
static char proxy[512];

static void set_proxy(struct nethttp_options *options, const char *userinfo, int port) {
    snprintf(proxy, sizeof proxy, "http://%s127.0.0.1:%d", userinfo, port);
    CHECK_INT(nethttp_options_set_proxy(options, proxy), NETHTTP_RESULT_OK);
}

static void fetch(struct capture *c, const char *target, const struct nethttp_options *options) {
    capture_init(c);
    CHECK(capture_fetch(c, target, options));
    if (c->status == 0) {
        fprintf(stderr, "%s: %s (%s)\n", target, c->error, c->detail);
    }
}

static int starts_with(const char *text, const char *prefix) {
    return text != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
}

static void check_no_secret(const char *what, const char *text, const char *secret) {
    if (text != NULL && strstr(text, secret) != NULL) {
        test_failures++;
        fprintf(stderr, "%s shows the proxy password: %s\n", what, text);
    }
    test_checks++;
}

/* The environment's proxy (refusing) is used when nothing is set, and its
 * no_proxy too; "" bypasses it for http and https. */
static void check_environment_and_empty_proxy(void) {
    struct nethttp_options *direct = nethttp_options_new();
    struct nethttp_options *all_proxied = nethttp_options_new();
    struct capture c;

    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), NULL);
    CHECK_INT(c.status, 0); /* the control: the environment's proxy is used */
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    capture_free(&c);

    snprintf(url, sizeof url, "http://localhost:%d/echo", server.http_port);
    fetch(&c, url, NULL);
    CHECK_INT(c.status, 200); /* no_proxy=localhost from the environment */
    capture_free(&c);

    /* A no_proxy list on the options replaces the environment's. */
    CHECK_INT(nethttp_options_set_no_proxy(all_proxied, ""), NETHTTP_RESULT_OK);
    fetch(&c, url, all_proxied);
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    capture_free(&c);

    CHECK_INT(nethttp_options_set_proxy(direct, ""), NETHTTP_RESULT_OK);
    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), direct);
    CHECK_INT(c.status, 200);
    CHECK(starts_with(c.body, "GET /echo HTTP/1.1\r\n"));
    capture_free(&c);

    CHECK_INT(nethttp_options_set_ca_file(direct, server.cert_file), NETHTTP_RESULT_OK);
    fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), direct);
    CHECK_INT(c.status, 200);
    capture_free(&c);

    /* NULL goes back to the environment's proxy. */
    CHECK_INT(nethttp_options_set_proxy(direct, NULL), NETHTTP_RESULT_OK);
    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), direct);
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    capture_free(&c);
    nethttp_options_free(direct);
    nethttp_options_free(all_proxied);
}

static void check_http_and_https_through_the_proxy(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    char expected[256];
    set_proxy(options, "", server.proxy_port);
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);

    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo?tag=plain"), options);
    CHECK_INT(c.status, 200);
    CHECK(starts_with(c.body, "GET /echo?tag=plain HTTP/1.1\r\n")); /* forwarded in origin form */
    capture_free(&c);
    snprintf(expected, sizeof expected, "GET http://127.0.0.1:%d/echo?tag=plain auth=-", server.http_port);
    CHECK_INT(transport_count_lines(transport_proxy_log(&server), expected), 1);

    fetch(&c, test_https_url(url, sizeof url, server.https_port, "/tls-version"), options);
    CHECK_INT(c.status, 200);
    CHECK(starts_with(c.body, "TLSv1.")); /* TLS ran end to end, inside the tunnel */
    capture_free(&c);
    snprintf(expected, sizeof expected, "CONNECT 127.0.0.1:%d auth=-", server.https_port);
    CHECK(transport_count_lines(transport_proxy_log(&server), expected) >= 1);

    /* Other proxy schemes are accepted (not reached here). */
    CHECK_INT(nethttp_options_set_proxy(options, "socks5h://127.0.0.1:1080"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_proxy(options, "https://proxy.invalid:443/"), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
}

static void check_no_proxy_option(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    const char *log;
    set_proxy(options, "", server.proxy_port);
    CHECK_INT(nethttp_options_set_no_proxy(options, "example.invalid, 127.0.0.1"), NETHTTP_RESULT_OK);
    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo?tag=exempt"), options);
    CHECK_INT(c.status, 200);
    capture_free(&c);
    CHECK_INT(nethttp_options_set_no_proxy(options, "example.invalid"), NETHTTP_RESULT_OK);
    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo?tag=not-exempt"), options);
    CHECK_INT(c.status, 200);
    capture_free(&c);
    log = transport_proxy_log(&server);
    CHECK(strstr(log, "tag=exempt") == NULL);
    CHECK(strstr(log, "tag=not-exempt") != NULL);
    CHECK_INT(nethttp_options_set_no_proxy(options, "a\nb"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_no_proxy(NULL, "a"), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(options);
}

/* Credentials go to the proxy, and never into messages. */
static void check_credentials(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    char expected[256];
    static const char *const bad_proxies[] = {
        "ftp://puser:psecret@127.0.0.1:21",
        "http://puser:psecret@127.0.0.1:99999",
        "http://puser:psecret@127.0.0.1:1/path",
        "http://puser:ps ecret@127.0.0.1:1",
        "puser:psecret@:1",
    };
    size_t i;
    for (i = 0; i < sizeof bad_proxies / sizeof bad_proxies[0]; i++) {
        CHECK_INT(nethttp_options_set_proxy(options, bad_proxies[i]), NETHTTP_RESULT_INVALID_ARGUMENT);
        CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
        check_no_secret("nethttp_last_error()", nethttp_last_error(), "secret");
        check_no_secret("nethttp_last_error()", nethttp_last_error(), "ecret");
    }
    CHECK(strstr(nethttp_last_error(), "puser:***@") != NULL); /* redacted, not dropped */

    /* Sent: the proxy saw them. */
    set_proxy(options, "puser:psecret@", server.proxy_port);
    fetch(&c, test_url(url, sizeof url, server.http_port, "/echo?tag=auth"), options);
    CHECK_INT(c.status, 200);
    CHECK(!test_contains(c.body, c.body_len, "Proxy-Authorization")); /* not forwarded */
    capture_free(&c);
    snprintf(expected, sizeof expected, "GET http://127.0.0.1:%d/echo?tag=auth auth=Basic cHVzZXI6cHNlY3JldA==",
             server.http_port);
    CHECK_INT(transport_count_lines(transport_proxy_log(&server), expected), 1);

    /* A proxy that cannot be reached. */
    snprintf(proxy, sizeof proxy, "http://puser:psecret@127.0.0.1:%d", test_closed_port());
    CHECK_INT(nethttp_options_set_proxy(options, proxy), NETHTTP_RESULT_OK);
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    check_no_secret("error detail", c.detail, "psecret");
    if (c.response != NULL) {
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response), "psecret");
        check_no_secret("nethttp_response_error_detail()", nethttp_response_error_detail(c.response), "psecret");
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);

    /* A proxy that refuses the credentials: a CONNECT tunnel fails... */
    set_proxy(options, "puser:badsecret@", server.proxy_port);
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), options));
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    check_no_secret("error detail", c.detail, "badsecret");
    if (c.response != NULL) {
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response), "badsecret");
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);
    /* ...and a forwarded request gets the proxy's 407 as its response. */
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK_INT(c.status, 407);
    if (c.response != NULL) {
        check_no_secret("nethttp_response_url()", nethttp_response_url(c.response), "badsecret");
        nethttp_destroy_request(c.request);
    }
    capture_free(&c);
    nethttp_options_free(options);
}

/* A client's default proxy, and a request's own "" over it. */
static void check_client_default_proxy(void) {
    struct nethttp_options *defaults = nethttp_options_new();
    struct nethttp_options *direct = nethttp_options_new();
    struct nethttp_client *client;
    struct capture c;
    const char *log;
    set_proxy(defaults, "puser:psecret@", server.proxy_port);
    client = test_client_new(0, 0, 0, defaults);
    nethttp_options_free(defaults);

    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo?tag=default"), NULL));
    CHECK_INT(c.status, 200);
    capture_free(&c);
    CHECK_INT(nethttp_options_set_proxy(direct, ""), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo?tag=override"), direct));
    CHECK_INT(c.status, 200);
    capture_free(&c);
    log = transport_proxy_log(&server);
    CHECK(strstr(log, "tag=default auth=Basic cHVzZXI6cHNlY3JldA==") != NULL);
    CHECK(strstr(log, "tag=override") == NULL);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(direct);
}

int main(int argc, char **argv) {
    char refusing[64];
    server = transport_server_from_args(argc, argv);
    /* Before the first request: the engine thread reads the environment. */
    snprintf(refusing, sizeof refusing, "http://127.0.0.1:%d", test_closed_port());
    unsetenv("HTTPS_PROXY");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    unsetenv("NO_PROXY");
    setenv("http_proxy", refusing, 1);
    setenv("https_proxy", refusing, 1);
    setenv("no_proxy", "localhost", 1);

    check_environment_and_empty_proxy();
    check_http_and_https_through_the_proxy();
    check_no_proxy_option();
    check_credentials();
    check_client_default_proxy();
    CHECK_INT(nethttp_options_set_proxy(NULL, ""), NETHTTP_RESULT_NULL_ARGUMENT);
    return test_finish("test_proxy");
}
