/* nethttp_options_set_unix_socket: HTTP over the test server's Unix socket.
 * The URL's host (which does not resolve here) only names the Host header;
 * a later request of the same client without the option uses TCP again;
 * no socket at the path is "connection-refused"; a client default socket,
 * and a request's NULL over it. */
#include "test_transport_util.h"

static struct transport_server server;

static void check_over_the_socket(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_unix_socket(options, server.unix_socket), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, "http://nethttp-unix.invalid/echo?via=unix", options));
    CHECK_INT(c.status, 200);
    CHECK(test_contains(c.body, c.body_len, "GET /echo?via=unix HTTP/1.1\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nHost: nethttp-unix.invalid\r\n"));
    if (c.status != 200) {
        fprintf(stderr, "over %s: %s (%s)\n", server.unix_socket, c.error, c.detail);
    }
    capture_free(&c);

    /* The connection over the socket is not reused without the option. */
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, "http://nethttp-unix.invalid/echo", NULL));
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
    capture_free(&c);

    CHECK_INT(nethttp_options_set_unix_socket(options, "/nonexistent/nethttp.sock"), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, "http://localhost/echo", options));
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
}

static void check_client_default(void) {
    struct nethttp_options *defaults = nethttp_options_new();
    struct nethttp_options *tcp = nethttp_options_new();
    struct nethttp_client *client;
    struct capture c;
    char url[256];
    CHECK_INT(nethttp_options_set_unix_socket(defaults, server.unix_socket), NETHTTP_RESULT_OK);
    client = test_client_new(0, 0, 0, defaults);
    nethttp_options_free(defaults);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, "http://nethttp-unix.invalid/echo", NULL));
    CHECK_INT(c.status, 200);
    capture_free(&c);
    CHECK_INT(nethttp_options_set_unix_socket(tcp, NULL), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo"), tcp));
    CHECK_INT(c.status, 200);
    capture_free(&c);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, "http://nethttp-unix.invalid/echo", tcp));
    CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(tcp);
}

static void check_arguments(void) {
    struct nethttp_options *options = nethttp_options_new();
    char long_path[200];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    CHECK_INT(nethttp_options_set_unix_socket(options, long_path), NETHTTP_RESULT_INVALID_ARGUMENT);
    long_path[107] = '\0';
    CHECK_INT(nethttp_options_set_unix_socket(options, long_path), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_unix_socket(options, ""), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_unix_socket(NULL, "/s"), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    check_arguments();
    if (transport_skip_without("unix-sockets", "Unix sockets")) {
        return test_finish("test_unix_socket");
    }
    if (server.unix_socket[0] == '\0') {
        fprintf(stderr, "the test server named no Unix socket (%s.unix)\n", argv[1]);
        return 1;
    }
    check_over_the_socket();
    check_client_default();
    return test_finish("test_unix_socket");
}
