/* Client certificates (nethttp_options_set_client_cert) against the test
 * server's mutual-TLS listener, which requires a certificate issued by the
 * test CA (cert.pem) and answers /client-cert with its common name:
 * - none sent: "client-certificate-required";
 * - client.pem with client-key.pem, or both in one file: accepted;
 * - a key that does not belong to the certificate: "client-certificate-unusable",
 *   also right after the same certificate file succeeded with its own key
 *   (a pooled connection or TLS session of the right key must not serve a
 *   request naming another key file), while the right key keeps reusing its
 *   connection;
 * - a certificate the server does not trust: "client-certificate-rejected";
 * - a missing file: "client-certificate-unusable";
 * - a client default certificate, and a request's NULL over it. */
#include "test_transport_util.h"

static struct transport_server server;
static char url[512];

static struct nethttp_options *with_cert(const char *cert, const char *key) {
    struct nethttp_options *options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    if (cert != NULL) {
        CHECK_INT(nethttp_options_set_client_cert(options, transport_file(&server, 0, cert),
                                                  key ? transport_file(&server, 1, key) : NULL),
                  NETHTTP_RESULT_OK);
    }
    return options;
}

static void fetch_mtls(struct capture *c, const char *path, const struct nethttp_options *options) {
    capture_init(c);
    CHECK(capture_fetch(c, test_https_url(url, sizeof url, server.mtls_port, path), options));
}

static void expect_failure(const char *path, const struct nethttp_options *options, enum nethttp_result code) {
    struct capture c;
    fetch_mtls(&c, path, options);
    CHECK_INT(c.status, 0);
    CHECK_INT(c.error_code, code);
    CHECK_STR(c.error, nethttp_strerror((int)code));
    if (c.error_code != code) {
        fprintf(stderr, "  expected %s, got %s (%s)\n", nethttp_strerror((int)code), c.error, c.detail);
    }
    capture_free(&c);
}

static void check_without_a_certificate(void) {
    struct nethttp_options *options = with_cert(NULL, NULL);
    expect_failure("/client-cert", options, NETHTTP_RESULT_CLIENT_CERTIFICATE_REQUIRED);
    nethttp_options_free(options);
}

static void check_accepted_and_wrong_key(void) {
    struct nethttp_options *good = with_cert("client.pem", "client-key.pem");
    struct nethttp_options *wrong_key = with_cert("client.pem", "client-other-key.pem");
    struct nethttp_options *combined = with_cert("client-combined.pem", NULL);
    struct capture c, first;
    int i;

    fetch_mtls(&c, "/client-cert", good);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "nethttp-test-client");
    if (c.status != 200) {
        fprintf(stderr, "  with client.pem: %s (%s)\n", c.error, c.detail);
    }
    capture_free(&c);
    fetch_mtls(&first, "/conn", good);
    CHECK_INT(first.status, 200);

    /* The authenticated connection is idle in the pool now; a request
     * naming the same certificate file with a key that does not belong to
     * it must not get it (libcurl 7.88 would hand it over). */
    for (i = 0; i < 3; i++) {
        expect_failure("/client-cert", wrong_key, NETHTTP_RESULT_CLIENT_CERTIFICATE_UNUSABLE);
    }

    /* The right key still reuses its connection. */
    fetch_mtls(&c, "/conn", good);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, first.body);
    capture_free(&c);
    capture_free(&first);

    fetch_mtls(&c, "/client-cert", combined); /* key in the certificate's file */
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "nethttp-test-client");
    capture_free(&c);
    nethttp_options_free(good);
    nethttp_options_free(wrong_key);
    nethttp_options_free(combined);
}

static void check_rejected_and_unusable(void) {
    struct nethttp_options *rogue = with_cert("rogue-client.pem", "rogue-client-key.pem");
    struct nethttp_options *missing = with_cert("no-such-client.pem", "client-key.pem");
    struct nethttp_options *not_pem = with_cert("README.md", NULL);
    expect_failure("/client-cert", rogue, NETHTTP_RESULT_CLIENT_CERTIFICATE_REJECTED);
    expect_failure("/client-cert", missing, NETHTTP_RESULT_CLIENT_CERTIFICATE_UNUSABLE);
    expect_failure("/client-cert", not_pem, NETHTTP_RESULT_CLIENT_CERTIFICATE_UNUSABLE);
    nethttp_options_free(rogue);
    nethttp_options_free(missing);
    nethttp_options_free(not_pem);
}

/* A server that does not ask for a certificate ignores one. */
static void check_certificate_unasked(void) {
    struct nethttp_options *good = with_cert("client.pem", "client-key.pem");
    struct capture c;
    capture_init(&c);
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/client-cert"), good));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "none");
    capture_free(&c);
    nethttp_options_free(good);
}

static void check_client_default(void) {
    struct nethttp_options *defaults = with_cert("client.pem", "client-key.pem");
    struct nethttp_options *none = nethttp_options_new();
    struct nethttp_client *client = test_client_new(0, 0, 0, defaults);
    struct capture c;
    nethttp_options_free(defaults);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_https_url(url, sizeof url, server.mtls_port, "/client-cert"), NULL));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "nethttp-test-client");
    capture_free(&c);
    /* NULL sends no certificate, over the default (the CA still comes from it). */
    CHECK_INT(nethttp_options_set_client_cert(none, NULL, "ignored"), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_https_url(url, sizeof url, server.mtls_port, "/client-cert"), none));
    CHECK_INT(c.error_code, NETHTTP_RESULT_CLIENT_CERTIFICATE_REQUIRED);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 1000), NETHTTP_RESULT_OK);
    nethttp_options_free(none);
}

static void check_arguments(void) {
    struct nethttp_options *options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_client_cert(NULL, "c.pem", NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_client_cert(options, "", NULL), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_client_cert(options, "c.pem", ""), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_client_cert(options, "\xff.pem", NULL), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_CLIENT_CERTIFICATE_REQUIRED), "client-certificate-required");
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_CLIENT_CERTIFICATE_REJECTED), "client-certificate-rejected");
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_CLIENT_CERTIFICATE_UNUSABLE), "client-certificate-unusable");
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    check_arguments();
    if (transport_skip_without("mtls", "client certificates")) {
        return test_finish("test_client_cert");
    }
    check_without_a_certificate();
    check_accepted_and_wrong_key();
    check_rejected_and_unusable();
    check_certificate_unasked();
    check_client_default();
    return test_finish("test_client_cert");
}
