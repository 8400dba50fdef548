/* Security defaults: no redirects followed, a finite connect timeout, and an
 * unverified connection never reused for a verifying request. */
#include <fcntl.h>

#include "test_util.h"

static struct test_server server;
static char url[256];

static void check_redirects_not_followed(void) {
    struct capture c;
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/redirect/2"), NULL));
    CHECK_INT(c.status, 302);
    CHECK_STR(c.body, "redirect");
    CHECK_STR(c.content_type, "text/plain");
    capture_free(&c);
}

static void check_connect_timeout(void) {
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    int fillers[4], port = 0, i;
    int listener = test_full_listener(&port, fillers, 4);
    double start;
    CHECK(listener >= 0);
    CHECK_INT(nethttp_options_set_connect_timeout_ms(options, 700), NETHTTP_RESULT_OK);
    capture_init(&c);
    start = test_now_ms();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    CHECK(capture_fetch(&c, url, options));
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "timeout");
    CHECK(test_now_ms() - start >= 600);
    capture_free(&c);
    for (i = 0; i < 4; i++) {
        close(fillers[i]);
    }
    close(listener);
    nethttp_options_free(options);
}

static void check_insecure_connection_not_reused(void) {
    struct nethttp_options *insecure = nethttp_options_new();
    struct nethttp_options *verifying = nethttp_options_new();
    struct capture a, b, c;
    CHECK_INT(nethttp_options_set_insecure(insecure, 1), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_ca_file(verifying, server.cert_file), NETHTTP_RESULT_OK);
    test_https_url(url, sizeof url, server.https_port, "/conn");
    capture_init(&a);
    capture_init(&b);
    capture_init(&c);
    CHECK(capture_fetch(&a, url, insecure));
    CHECK(capture_fetch(&b, url, verifying));
    CHECK(capture_fetch(&c, url, verifying));
    CHECK_INT(a.status, 200);
    CHECK_INT(b.status, 200);
    CHECK(strcmp(a.body, b.body) != 0); /* a new connection, verified */
    CHECK_STR(c.body, b.body);          /* while verified ones are reused */
    capture_free(&a);
    capture_free(&b);
    capture_free(&c);
    nethttp_options_free(insecure);
    nethttp_options_free(verifying);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_redirects_not_followed();
    check_connect_timeout();
    check_insecure_connection_not_reused();
    return test_finish("test_security");
}
