/* Low-speed limit (nethttp_options_set_low_speed): a body trickling in
 * below the limit for the given number of seconds ends with "timeout"; a
 * body arriving fast is not affected; without the option the trickle is
 * received whole. */
#include "test_stream_util.h"

static struct transport_server server;
static char url[512];

int main(int argc, char **argv) {
    struct nethttp_client *client;
    struct nethttp_options *options;
    struct capture c;
    double start, took;
    server = transport_server_from_args(argc, argv);
    stream_pattern_init();
    client = test_client_new(0, 0, 0, NULL);
    options = nethttp_options_new();
    capture_init(&c);

    /* 10 bytes a second against a limit of 100 for 2 s. */
    CHECK_INT(nethttp_options_set_low_speed(options, 100, 2), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/trickle?bytes=1000&ms=100", server.http_port);
    start = test_now_ms();
    CHECK(capture_client_fetch(client, &c, url, options));
    took = test_now_ms() - start;
    printf("trickle below the limit ended after %.0f ms: %s\n", took, c.error);
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "timeout");
    CHECK_INT(c.error_code, NETHTTP_RESULT_TIMEOUT);
    CHECK(took >= 1500);
    CHECK(took < 15000);

    /* Fast enough: 4 MiB at loopback speed. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/4194304", server.http_port);
    CHECK(capture_client_fetch(client, &c, url, options));
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, 4194304);

    /* The same trickle, shorter, without a limit: received whole. */
    nethttp_options_free(options);
    options = nethttp_options_new();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/trickle?bytes=10&ms=100", server.http_port);
    CHECK(capture_client_fetch(client, &c, url, options));
    CHECK_INT(c.status, 200);
    CHECK_INT(c.body_len, 10);
    CHECK(c.body_len == 10 && stream_pattern_matches(c.body, 10, 0));

    CHECK_INT(nethttp_options_set_low_speed(NULL, 1, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
    return test_finish("test_low_speed");
}
