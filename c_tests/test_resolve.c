/* nethttp_options_set_resolve (libcurl's CONNECT_TO): example.test:PORT is
 * connected to 127.0.0.1, and
 * - plain http reaches the test server, which sees Host: example.test:PORT;
 * - TLS still checks the certificate against example.test: the test
 *   server's usual certificate fails, the example.test one passes;
 * - a later request of the same client without the option does not get the
 *   pinned address (example.test does not resolve: .test is reserved);
 * - a NULL address removes a rule, also a client default's; an IPv6
 *   address works (where ::1 is there). */
#include "test_transport_util.h"

static struct transport_server server;
static char url[512];

static void client_fetch(struct nethttp_client *client, struct capture *c, const char *scheme, int port,
                         const char *path, const struct nethttp_options *options) {
    snprintf(url, sizeof url, "%s://example.test:%d%s", scheme, port, path);
    capture_init(c);
    CHECK(capture_client_fetch(client, c, url, options));
    if (c->status == 0) {
        printf("  %s: %s (%s)\n", url, c->error, c->detail);
    }
}

static void check_pinned_address(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *pinned = nethttp_options_new();
    struct nethttp_options *plain = nethttp_options_new();
    struct capture c;
    char host[128];
    CHECK_INT(nethttp_options_set_ca_file(pinned, server.cert_file), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_file(plain, server.cert_file), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_resolve(pinned, "example.test", (unsigned)server.http_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_resolve(pinned, "EXAMPLE.test", (unsigned)server.https_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_resolve(pinned, "example.test", (unsigned)server.example_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);

    client_fetch(client, &c, "http", server.http_port, "/echo", pinned);
    CHECK_INT(c.status, 200);
    snprintf(host, sizeof host, "\r\nHost: example.test:%d\r\n", server.http_port);
    CHECK(test_contains(c.body, c.body_len, host));
    capture_free(&c);

    /* TLS checks the name: the usual certificate is for localhost only... */
    client_fetch(client, &c, "https", server.https_port, "/echo", pinned);
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    capture_free(&c);
    /* ...and the example.test one passes. */
    client_fetch(client, &c, "https", server.example_port, "/echo", pinned);
    CHECK_INT(c.status, 200);
    capture_free(&c);

    /* Later requests of the same client, without the rule: nothing pinned
     * stays behind (no DNS cache entry, no reused connection). */
    client_fetch(client, &c, "http", server.http_port, "/echo", NULL);
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
    capture_free(&c);
    client_fetch(client, &c, "https", server.example_port, "/echo", plain);
    CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
    capture_free(&c);

    /* A NULL address removes the rule. */
    CHECK_INT(nethttp_options_set_resolve(pinned, "example.test", (unsigned)server.http_port, NULL), NETHTTP_RESULT_OK);
    client_fetch(client, &c, "http", server.http_port, "/echo", pinned);
    CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
    capture_free(&c);

    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(pinned);
    nethttp_options_free(plain);
}

static void check_client_default_rule(void) {
    struct nethttp_options *defaults = nethttp_options_new();
    struct nethttp_options *cancel = nethttp_options_new();
    struct nethttp_client *client;
    struct capture c;
    CHECK_INT(nethttp_options_set_resolve(defaults, "example.test", (unsigned)server.http_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);
    client = test_client_new(0, 0, 0, defaults);
    nethttp_options_free(defaults);
    client_fetch(client, &c, "http", server.http_port, "/echo", NULL);
    CHECK_INT(c.status, 200);
    capture_free(&c);
    CHECK_INT(nethttp_options_set_resolve(cancel, "example.test", (unsigned)server.http_port, NULL), NETHTTP_RESULT_OK);
    client_fetch(client, &c, "http", server.http_port, "/echo", cancel);
    CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(cancel);
}

static void check_ipv6_address(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_resolve(options, "example.test", (unsigned)server.http_port, "::1"), NETHTTP_RESULT_OK);
    client_fetch(client, &c, "http", server.http_port, "/echo", options);
    if (c.error_code == NETHTTP_RESULT_CONNECTION_REFUSED) {
        printf("SKIP IPv6 address: nothing answers on [::1]:%d here\n", server.http_port);
    } else {
        CHECK_INT(c.status, 200);
    }
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
}

static void check_arguments(void) {
    struct nethttp_options *options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_resolve(options, "example.test", 0, "127.0.0.1"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "example.test", 65536, "127.0.0.1"),
              NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "example.test", 80, "localhost"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "example.test", 80, "127.0.0.1:80"),
              NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "", 80, "127.0.0.1"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "a b", 80, "127.0.0.1"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "a:b", 80, "127.0.0.1"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, NULL, 80, "127.0.0.1"), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(NULL, "h", 80, "127.0.0.1"), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_resolve(options, "[::1]", 80, "[::1]"), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    check_arguments();
    check_pinned_address();
    check_client_default_rule();
    check_ipv6_address();
    return test_finish("test_resolve");
}
