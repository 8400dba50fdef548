/* TLS options against the test server's HTTPS listeners:
 * - nethttp_options_set_ca_pem: the test CA given in memory verifies the
 *   self-signed server; it replaces a CA file (and the other way round);
 *   NULL goes back to the system's store; connections verified with one CA
 *   are not reused for a request trusting another;
 * - nethttp_options_set_pinned_public_key: the right pin (cert.pin) passes,
 *   alone or in a list; a wrong one fails with "certificate-verify-failed",
 *   also with verification off;
 * - nethttp_options_set_min_tls_version: 1.3 against the TLS-1.2-only
 *   listener fails with "tls-failed", 1.2 works; as a client default too,
 *   and a request's own minimum wins. */
#include "test_transport_util.h"

static struct transport_server server;
static char url[512];
static const char *const wrong_pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

static void fetch_port(struct capture *c, int port, const char *path, const struct nethttp_options *options) {
    capture_init(c);
    CHECK(capture_fetch(c, test_https_url(url, sizeof url, port, path), options));
    if (c->status == 0) {
        printf("  https://127.0.0.1:%d%s: %s (%s)\n", port, path, c->error, c->detail);
    }
}

static void expect(int port, const char *path, const struct nethttp_options *options, int status,
                   enum nethttp_result code) {
    struct capture c;
    fetch_port(&c, port, path, options);
    CHECK_INT(c.status, status);
    CHECK_INT(c.error_code, code);
    capture_free(&c);
}

static void check_ca_in_memory(void) {
    struct nethttp_options *options = nethttp_options_new();
    char *pem = NULL;
    size_t len;
    const char *text = transport_read_file(server.cert_file);
    len = strlen(text);
    pem = (char *)malloc(len);
    CHECK(pem != NULL);
    memcpy(pem, text, len); /* not NUL-terminated: the length counts */

    expect(server.https_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED); /* the control */
    CHECK_INT(nethttp_options_set_ca_pem(options, pem, len), NETHTTP_RESULT_OK);
    memset(pem, 'x', len); /* copied */
    expect(server.https_port, "/echo", options, 200, NETHTTP_RESULT_OK);
    expect(server.example_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED); /* host checked */

    /* Another CA in memory replaces it, and the verified connection in the
     * pool is not lent to a request that trusts another CA. */
    text = transport_read_file(transport_file(&server, 0, "rogue-client.pem"));
    CHECK_INT(nethttp_options_set_ca_pem(options, text, strlen(text)), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);

    /* A CA file replaces a CA in memory, and the other way round. */
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 200, NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_pem(options, text, strlen(text)), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);

    /* NULL: the system's store, which does not know the test CA. */
    text = transport_read_file(server.cert_file);
    CHECK_INT(nethttp_options_set_ca_pem(options, text, strlen(text)), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_pem(options, NULL, 0), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);

    CHECK_INT(nethttp_options_set_ca_pem(options, "not a certificate", 17), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_ca_pem(options, "", 0), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_ca_pem(options, NULL, 5), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_ca_pem(NULL, NULL, 0), NETHTTP_RESULT_NULL_ARGUMENT);
    free(pem);
    nethttp_options_free(options);
}

static void check_pinning(void) {
    struct nethttp_options *options = nethttp_options_new();
    char pins[512];
    char right[128];
    snprintf(right, sizeof right, "%s", transport_read_file(transport_file(&server, 0, "cert.pin")));
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);

    CHECK_INT(nethttp_options_set_pinned_public_key(options, right), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 200, NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, wrong_pin), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    snprintf(pins, sizeof pins, "%s;%s", wrong_pin, right);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, pins), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 200, NETHTTP_RESULT_OK);

    /* Pins hold with verification off, and on servers the CA would accept
     * (example.test has another key). */
    CHECK_INT(nethttp_options_set_insecure(options, 1), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, wrong_pin), NETHTTP_RESULT_OK);
    expect(server.https_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, right), NETHTTP_RESULT_OK);
    expect(server.example_port, "/echo", options, 0, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, NULL), NETHTTP_RESULT_OK);
    expect(server.example_port, "/echo", options, 200, NETHTTP_RESULT_OK);

    CHECK_INT(nethttp_options_set_pinned_public_key(options, ""), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, "sha256//short="), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_pinned_public_key(options, "/etc/ssl/key.pem"), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_pinned_public_key(NULL, right), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(options);
}

static void check_min_tls_version(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_options *defaults = nethttp_options_new();
    struct nethttp_options *relaxed = nethttp_options_new();
    struct nethttp_client *client;
    struct capture c;
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);

    fetch_port(&c, server.tls12_port, "/tls-version", options);
    CHECK_STR(c.body, "TLSv1.2"); /* the control */
    capture_free(&c);
    CHECK_INT(nethttp_options_set_min_tls_version(options, NETHTTP_TLS_1_2), NETHTTP_RESULT_OK);
    expect(server.tls12_port, "/tls-version", options, 200, NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_min_tls_version(options, NETHTTP_TLS_1_3), NETHTTP_RESULT_OK);
    expect(server.tls12_port, "/tls-version", options, 0, NETHTTP_RESULT_TLS_FAILED);
    fetch_port(&c, server.https_port, "/tls-version", options);
    CHECK_STR(c.body, "TLSv1.3");
    capture_free(&c);

    CHECK_INT(nethttp_options_set_min_tls_version(options, 11), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_min_tls_version(options, 14), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_min_tls_version(options, 0), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_min_tls_version(options, -1), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_min_tls_version(NULL, NETHTTP_TLS_1_2), NETHTTP_RESULT_NULL_ARGUMENT);
    expect(server.tls12_port, "/tls-version", options, 0, NETHTTP_RESULT_TLS_FAILED); /* unchanged */

    /* As a client default, and a request's own minimum over it. */
    CHECK_INT(nethttp_options_set_ca_file(defaults, server.cert_file), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_min_tls_version(defaults, NETHTTP_TLS_1_3), NETHTTP_RESULT_OK);
    client = test_client_new(0, 0, 0, defaults);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_https_url(url, sizeof url, server.tls12_port, "/tls-version"),
                               NULL));
    CHECK_INT(c.error_code, NETHTTP_RESULT_TLS_FAILED);
    capture_free(&c);
    CHECK_INT(nethttp_options_set_min_tls_version(relaxed, NETHTTP_TLS_1_2), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_https_url(url, sizeof url, server.tls12_port, "/tls-version"),
                               relaxed));
    CHECK_STR(c.body, "TLSv1.2");
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    nethttp_options_free(defaults);
    nethttp_options_free(relaxed);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    check_ca_in_memory();
    if (!transport_skip_without("pinning", "public-key pinning")) {
        check_pinning();
    }
    check_min_tls_version();
    return test_finish("test_tls_options");
}
