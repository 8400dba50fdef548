/* Response decompression (nethttp_options_set_decompress, on by default):
 * gzip and deflate bodies are decoded, and br and zstd when
 * nethttp_features() lists them; an Accept-Encoding of nethttp's own is
 * sent; with decompression off none is sent and the bytes come as sent; a
 * caller's own Accept-Encoding also gets the bytes as sent; max_body counts
 * decoded bytes, so a small gzip body that inflates past it (a 10 MiB "gzip
 * bomb" of 10 GiB of zeros) fails with "body-too-large". The test server's
 * /encoded?enc=E always answers with 100,000 bytes of the /bytes pattern
 * in encoding E, whatever the request accepts, and reports the request's
 * Accept-Encoding in X-Accept-Encoding. */
#include "test_stream_util.h"

#define DECODED_SIZE 100000

static struct transport_server server;
static struct nethttp_client *client;
static char url[512];

static const char *encoded_url(const char *enc) {
    snprintf(url, sizeof url, "http://127.0.0.1:%d/encoded?enc=%s", server.http_port, enc);
    return url;
}

static void check_decoded(const char *enc) {
    struct capture c;
    char what[64];
    int identity = strcmp(enc, "identity") == 0;
    snprintf(what, sizeof what, "%s decoding", enc);
    if (!identity && transport_skip_without(enc, what)) {
        return;
    }
    capture_init(&c);
    c.keep = 1;
    CHECK(capture_client_fetch(client, &c, encoded_url(enc), NULL));
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, DECODED_SIZE);
    CHECK(c.body_len == DECODED_SIZE && stream_pattern_matches(c.body, c.body_len, 0));
    if (c.response != NULL) {
        /* nethttp's own Accept-Encoding named this encoding. */
        const char *accepted = nethttp_response_header(c.response, "x-accept-encoding");
        CHECK(accepted != NULL && (identity || strstr(accepted, enc) != NULL));
        nethttp_destroy_request(c.request);
    }
    if (c.body_len != DECODED_SIZE) {
        fprintf(stderr, "  %s: %zu bytes, expected %d decoded\n", enc, c.body_len, DECODED_SIZE);
    }
    capture_free(&c);
}

/* By default an Accept-Encoding goes out, listing at least gzip and deflate. */
static void check_accept_encoding_sent(void) {
    struct capture c;
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo"), NULL));
    CHECK_INT(c.status, 200);
    CHECK(stream_has_line(c.body, c.body_len, "Accept-Encoding:"));
    CHECK(test_contains(c.body, c.body_len, "gzip"));
    CHECK(test_contains(c.body, c.body_len, "deflate"));
    capture_free(&c);
}

/* Raw gzip bytes: the magic number, and fewer bytes than decoded. */
static void check_raw_gzip(const struct capture *c) {
    CHECK_INT(c->status, 200);
    CHECK(c->body_len >= 2 && (unsigned char)c->body[0] == 0x1f && (unsigned char)c->body[1] == 0x8b);
    CHECK(c->body_len > 0 && c->body_len < DECODED_SIZE);
}

/* Decompression off: no Accept-Encoding of ours, bytes as sent. */
static void check_off(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_decompress(options, 0), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK_INT(c.status, 200);
    CHECK(!stream_has_line(c.body, c.body_len, "Accept-Encoding:"));
    CHECK(capture_client_fetch(client, &c, encoded_url("gzip"), options));
    check_raw_gzip(&c);
    CHECK(capture_client_fetch(client, &c, encoded_url("deflate"), options));
    CHECK_INT(c.status, 200);
    CHECK(c.body_len > 0 && c.body_len < DECODED_SIZE);
    CHECK(c.body_len >= 1 && (unsigned char)c.body[0] == 0x78); /* zlib header */
    /* On again. */
    CHECK_INT(nethttp_options_set_decompress(options, 1), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, encoded_url("gzip"), options));
    CHECK_INT(c.body_len, DECODED_SIZE);
    CHECK_INT(nethttp_options_set_decompress(NULL, 0), NETHTTP_RESULT_NULL_ARGUMENT);
    capture_free(&c);
    nethttp_options_free(options);
}

/* The caller's own Accept-Encoding: sent as set, and the bytes come raw. */
static void check_callers_accept_encoding(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_header(options, "Accept-Encoding", "gzip"), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK(stream_has_line(c.body, c.body_len, "Accept-Encoding: gzip\r\n"));
    CHECK(!test_contains(c.body, c.body_len, "deflate"));
    CHECK(capture_client_fetch(client, &c, encoded_url("gzip"), options));
    check_raw_gzip(&c);
    capture_free(&c);
    nethttp_options_free(options);
}

/* max_body counts decoded bytes. */
static void check_max_body(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    double start;
    capture_init(&c);
    /* Exactly the decoded size: fine. One less: too large, although the
     * gzip body on the wire is far smaller. */
    CHECK_INT(nethttp_options_set_max_body(options, DECODED_SIZE), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, encoded_url("gzip"), options));
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, DECODED_SIZE);
    CHECK_INT(nethttp_options_set_max_body(options, DECODED_SIZE - 1), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, encoded_url("gzip"), options));
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "body-too-large");
    /* The bomb: about 10 MiB of gzip, 10 GiB of zeros decoded. */
    CHECK_INT(nethttp_options_set_max_body(options, 1024 * 1024), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/gzip-zeros?mib=10240", server.http_port);
    start = test_now_ms();
    CHECK(capture_client_fetch(client, &c, url, options));
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "body-too-large");
    CHECK_INT(c.error_code, NETHTTP_RESULT_BODY_TOO_LARGE);
    printf("gzip bomb refused after %.0f ms\n", test_now_ms() - start);
    capture_free(&c);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    stream_pattern_init();
    client = test_client_new(0, 0, 0, NULL);
    printf("features: %s\n", nethttp_features());
    check_accept_encoding_sent();
    check_decoded("identity");
    check_decoded("gzip");
    check_decoded("deflate");
    check_decoded("br");
    check_decoded("zstd");
    check_off();
    check_callers_accept_encoding();
    check_max_body();
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    return test_finish("test_compression");
}
