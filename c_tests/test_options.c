/* Options: method, body, headers, HEAD, binary bodies, TLS verification. */
#include "test_transport_util.h"

static struct test_server server;
static struct transport_server transport;
static char url[256];

static void fetch(struct capture *c, const char *path, const struct nethttp_options *options) {
    capture_init(c);
    CHECK(capture_fetch(c, test_url(url, sizeof url, server.http_port, path), options));
}

static void check_null_options_is_get(void) {
    struct capture c;
    fetch(&c, "/echo", NULL);
    CHECK_INT(c.status, 200);
    CHECK(test_contains(c.body, c.body_len, "GET /echo HTTP/1.1\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nUser-Agent: nethttp/" NETHTTP_VERSION "\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "Content-Type:"));
    CHECK(!test_contains(c.body, c.body_len, "Expect:"));
    capture_free(&c);
}

static void check_body_makes_a_form_post(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_body(options, "a=1&b=2", 7), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK(test_contains(c.body, c.body_len, "POST /echo HTTP/1.1\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nContent-Length: 7\r\n"));
    CHECK(c.body_len >= 7 && memcmp(c.body + c.body_len - 11, "\r\n\r\na=1&b=2", 11) == 0);
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_content_type_override_any_case(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_body(options, "{}", 2), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "content-TYPE", "application/json"), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK(test_contains(c.body, c.body_len, "\r\ncontent-TYPE: application/json\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "x-www-form-urlencoded"));
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_headers_keep_case_and_override_defaults(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_header(options, "X-CamelCase-Header", "Value With Spaces"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "user-agent", "tester/1.0"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Empty", ""), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "Accept", NULL), NETHTTP_RESULT_OK); /* removes the default */
    CHECK_INT(nethttp_options_set_header(options, "x-replaced", "old"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Replaced", "new"), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK(test_contains(c.body, c.body_len, "\r\nX-CamelCase-Header: Value With Spaces\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nuser-agent: tester/1.0\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "nethttp/"));
    CHECK(test_contains(c.body, c.body_len, "\r\nX-Empty: \r\n") || test_contains(c.body, c.body_len, "\r\nX-Empty:\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "Accept:"));
    CHECK(test_contains(c.body, c.body_len, "\r\nX-Replaced: new\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "old"));
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_user_agent_can_be_removed(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_header(options, "User-Agent", NULL), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK_INT(c.status, 200);
    CHECK(!test_contains(c.body, c.body_len, "User-Agent"));
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_method(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_method(options, "PUT"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body(options, "payload", 7), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK(test_contains(c.body, c.body_len, "PUT /echo HTTP/1.1\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\n\r\npayload"));
    capture_free(&c);

    CHECK_INT(nethttp_options_set_method(options, "DELETE"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_clear_body(options), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK(test_contains(c.body, c.body_len, "DELETE /echo HTTP/1.1\r\n"));
    capture_free(&c);

    CHECK_INT(nethttp_options_set_method(options, "POST"), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options); /* a POST without a body */
    CHECK(test_contains(c.body, c.body_len, "POST /echo HTTP/1.1\r\n"));
    CHECK(test_contains(c.body, c.body_len, "\r\nContent-Length: 0\r\n"));
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_head_does_not_wait_for_a_body(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    double start;
    CHECK_INT(nethttp_options_set_method(options, "HEAD"), NETHTTP_RESULT_OK);
    /* The server announces 100000 bytes and sends none: only a real HEAD completes. */
    CHECK_INT(nethttp_options_set_timeout_ms(options, 10000), NETHTTP_RESULT_OK);
    start = test_now_ms();
    fetch(&c, "/bytes/100000", options);
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, 0);
    CHECK_STR(c.error, "");
    CHECK(test_now_ms() - start < 9000);
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_binary_body_round_trip(void) {
    struct nethttp_options *options = nethttp_options_new();
    char body[4096];
    struct capture c;
    size_t i;
    for (i = 0; i < sizeof body; i++) {
        body[i] = (char)(i % 7 == 0 ? 0 : (i * 13) & 0xff);
    }
    CHECK_INT(nethttp_options_set_header(options, "Content-Type", "application/octet-stream"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body(options, body, sizeof body), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK(test_contains(c.body, c.body_len, "\r\nContent-Length: 4096\r\n"));
    CHECK(c.body_len > sizeof body && memcmp(c.body + c.body_len - sizeof body, body, sizeof body) == 0);
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_large_body_has_no_expect(void) {
    struct nethttp_options *options = nethttp_options_new();
    size_t size = 2 * 1024 * 1024;
    char *body = (char *)malloc(size);
    struct capture c;
    memset(body, 'x', size);
    CHECK_INT(nethttp_options_set_body(options, body, size), NETHTTP_RESULT_OK);
    fetch(&c, "/echo", options);
    CHECK_INT(c.status, 200);
    CHECK(!test_contains(c.body, c.body_len < 4096 ? c.body_len : 4096, "Expect:"));
    CHECK(c.body_len > size);
    capture_free(&c);
    free(body);
    nethttp_options_free(options);
}

static void check_responses_binary_and_chunked(void) {
    struct capture c;
    size_t i;
    int pattern_ok = 1;
    fetch(&c, "/bytes/300000", NULL);
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, 300000);
    for (i = 0; c.body != NULL && i < c.body_len; i++) {
        pattern_ok &= (unsigned char)c.body[i] == (unsigned char)((i * 7 + 3) % 256);
    }
    CHECK(pattern_ok);
    capture_free(&c);

    fetch(&c, "/chunked/25000", NULL);
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, 25000);
    CHECK(c.body != NULL && (unsigned char)c.body[24999] == (unsigned char)((24999 * 7 + 3) % 256));
    capture_free(&c);
}

static void check_insecure_and_ca_file(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    capture_init(&c);
    /* Verification is on by default: the self-signed certificate is refused. */
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), NULL));
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "certificate-verify-failed");
    CHECK_INT(c.error_code, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    capture_free(&c);

    CHECK_INT(nethttp_options_set_insecure(options, 1), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), options));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    capture_free(&c);

    /* Trusting the test certificate verifies it properly. */
    CHECK_INT(nethttp_options_set_insecure(options, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), options));
    CHECK_INT(c.status, 200);
    capture_free(&c);
    nethttp_options_free(options);
}

static void check_options_are_copied(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    struct nethttp_request *request;
    CHECK_INT(nethttp_options_set_header(options, "X-Copied", "yes"), NETHTTP_RESULT_OK);
    capture_init(&c);
    request = nethttp_request(test_url(url, sizeof url, server.http_port, "/echo"), options, capture_callback, &c);
    CHECK(request != NULL);
    nethttp_options_free(options); /* right after the call */
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK(test_contains(c.body, c.body_len, "\r\nX-Copied: yes\r\n"));
    capture_free(&c);
}

static void check_max_body(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    CHECK_INT(nethttp_options_set_max_body(options, 1000), NETHTTP_RESULT_OK);
    fetch(&c, "/bytes/1000", options); /* exactly the limit is fine */
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, 1000);
    capture_free(&c);
    fetch(&c, "/bytes/5000", options); /* refused by its Content-Length */
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "body-too-large");
    CHECK_INT(c.error_code, NETHTTP_RESULT_BODY_TOO_LARGE);
    capture_free(&c);
    fetch(&c, "/chunked/5000", options); /* no length announced: cut off while reading */
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "body-too-large");
    capture_free(&c);
    CHECK_INT(nethttp_options_set_max_body(NULL, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(options);
}

/* Finished transfers' handles are reused: nothing of one request's options may
 * leak into the next (HEAD, a custom method, a body, headers, insecure). */
static void check_options_do_not_leak_into_later_requests(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    int i;
    CHECK_INT(nethttp_options_set_method(options, "HEAD"), NETHTTP_RESULT_OK);
    for (i = 0; i < 8; i++) {
        fetch(&c, "/bytes/100", options);
        CHECK_INT(c.body_len, 0);
        capture_free(&c);
    }
    CHECK_INT(nethttp_options_set_method(options, "BREW"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body(options, "tea", 3), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_header(options, "X-Leak", "1"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_insecure(options, 1), NETHTTP_RESULT_OK);
    for (i = 0; i < 8; i++) {
        fetch(&c, "/echo", options);
        CHECK(test_contains(c.body, c.body_len, "BREW /echo HTTP/1.1\r\n"));
        capture_free(&c);
    }
    for (i = 0; i < 16; i++) {
        fetch(&c, "/echo", NULL);
        CHECK(test_contains(c.body, c.body_len, "GET /echo HTTP/1.1\r\n"));
        CHECK(!test_contains(c.body, c.body_len, "X-Leak"));
        CHECK(!test_contains(c.body, c.body_len, "tea"));
        capture_free(&c);
        fetch(&c, "/bytes/100", NULL);
        CHECK_INT(c.body_len, 100);
        capture_free(&c);
    }
    capture_init(&c);
    CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), NULL));
    CHECK_STR(c.error, "certificate-verify-failed");
    capture_free(&c);
    nethttp_options_free(options);
}

/* The same for the transport and TLS options: requests with every one of
 * them set, then many plain requests, which reuse those handles (the pool
 * hands the last one back first). A leaked option would show: the proxy
 * would log the request, Authorization would be sent, example.test or the
 * Unix socket would be reachable, the TLS-1.2 listener refused, the wrong
 * pin or the CA in memory still applied, the client certificate sent. */
static void check_transport_options_do_not_leak(void) {
    struct nethttp_options *proxied = nethttp_options_new();
    struct nethttp_options *unix_socket = nethttp_options_new();
    struct nethttp_options *tls = nethttp_options_new();
    struct nethttp_options *verify = nethttp_options_new();
    struct capture c;
    const char *pem = transport_read_file(server.cert_file);
    char proxy[128];
    int i, mtls = transport_has_feature("mtls");

    snprintf(proxy, sizeof proxy, "http://puser:psecret@127.0.0.1:%d", transport.proxy_port);
    CHECK_INT(nethttp_options_set_proxy(proxied, proxy), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_no_proxy(proxied, ""), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_basic_auth(proxied, "alice", "s3cr3t-pw"), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_resolve(proxied, "example.test", (unsigned)server.http_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_unix_socket(unix_socket, transport.unix_socket), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_pem(tls, pem, strlen(pem)), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_min_tls_version(tls, NETHTTP_TLS_1_3), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_pinned_public_key(tls, transport_read_file(transport_file(&transport, 0, "cert.pin"))),
              NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_client_cert(tls, transport_file(&transport, 0, "client.pem"),
                                              transport_file(&transport, 1, "client-key.pem")),
              NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_file(verify, server.cert_file), NETHTTP_RESULT_OK);

    for (i = 0; i < 8; i++) {
        fetch(&c, "/echo?tag=leak-proxied", proxied);
        CHECK(test_contains(c.body, c.body_len, "Authorization: Basic YWxpY2U6czNjcjN0LXB3\r\n"));
        capture_free(&c);
        capture_init(&c);
        CHECK(capture_fetch(&c, "http://nethttp-unix.invalid/echo", unix_socket));
        CHECK_INT(c.status, 200);
        capture_free(&c);
        capture_init(&c);
        CHECK(capture_fetch(&c, test_https_url(url, sizeof url, mtls ? transport.mtls_port : server.https_port,
                                               "/client-cert"),
                            tls));
        CHECK_INT(c.status, 200);
        capture_free(&c);
    }
    CHECK(strstr(transport_proxy_log(&transport), "tag=leak-proxied auth=Basic cHVzZXI6cHNlY3JldA==") != NULL);

    for (i = 0; i < 16; i++) {
        fetch(&c, "/echo?tag=leak-plain", NULL);
        CHECK_INT(c.status, 200);
        CHECK(!test_contains(c.body, c.body_len, "Authorization"));
        capture_free(&c);
        capture_init(&c);
        snprintf(url, sizeof url, "http://example.test:%d/echo", server.http_port);
        CHECK(capture_fetch(&c, url, NULL));
        CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
        capture_free(&c);
        capture_init(&c);
        CHECK(capture_fetch(&c, "http://nethttp-unix.invalid/echo", NULL));
        CHECK_INT(c.error_code, NETHTTP_RESULT_RESOLVE_FAILED);
        capture_free(&c);
        capture_init(&c);
        CHECK(capture_fetch(&c, test_https_url(url, sizeof url, transport.tls12_port, "/tls-version"), verify));
        CHECK_STR(c.body, "TLSv1.2"); /* no minimum of 1.3, no pin (another key would fail) */
        capture_free(&c);
        capture_init(&c);
        CHECK(capture_fetch(&c, test_https_url(url, sizeof url, server.https_port, "/echo"), NULL));
        CHECK_INT(c.error_code, NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED); /* the CA in memory is gone */
        capture_free(&c);
        if (mtls) {
            capture_init(&c);
            CHECK(capture_fetch(&c, test_https_url(url, sizeof url, transport.mtls_port, "/client-cert"), verify));
            CHECK_INT(c.error_code, NETHTTP_RESULT_CLIENT_CERTIFICATE_REQUIRED);
            capture_free(&c);
        }
    }
    /* The proxy saw none of the plain requests. */
    CHECK(strstr(transport_proxy_log(&transport), "tag=leak-plain") == NULL);
    nethttp_options_free(proxied);
    nethttp_options_free(unix_socket);
    nethttp_options_free(tls);
    nethttp_options_free(verify);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    transport = transport_server_from_args(argc, argv);
    check_null_options_is_get();
    check_body_makes_a_form_post();
    check_content_type_override_any_case();
    check_headers_keep_case_and_override_defaults();
    check_user_agent_can_be_removed();
    check_method();
    check_head_does_not_wait_for_a_body();
    check_binary_body_round_trip();
    check_large_body_has_no_expect();
    check_responses_binary_and_chunked();
    check_insecure_and_ca_file();
    check_options_are_copied();
    check_max_body();
    check_options_do_not_leak_into_later_requests();
    check_transport_options_do_not_leak();
    return test_finish("test_options");
}
