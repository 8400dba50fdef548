/* nethttp_shutdown: pending requests are dropped without callbacks, kept ones
 * freed, the engine joined; a later request starts a new engine. Also run
 * under valgrind by ctest when valgrind is installed. */
#include "test_util.h"

static struct test_server server;
static char url[256];

static int shutdown_inside_callback(const char *body, size_t body_len, int status,
                                    const struct nethttp_response *response, void *userdata) {
    struct capture *c = (struct capture *)userdata;
    int result = nethttp_shutdown();
    return capture_callback(body, body_len, result == NETHTTP_RESULT_CALLED_FROM_CALLBACK ? status : -1, response, c);
}

int main(int argc, char **argv) {
    struct capture pending, kept, inside, after;
    struct nethttp_request *kept_request;
    int i;
    server = test_server_from_args(argc, argv);

    /* Shutdown with no engine is fine. */
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);

    capture_init(&kept);
    kept.keep = 1;
    kept_request = nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL,
                                   capture_callback, &kept);
    CHECK_INT(capture_wait(&kept, 1, 20000), 1);

    capture_init(&pending);
    for (i = 0; i < 20; i++) {
        CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/delay/800"), NULL, capture_callback,
                              &pending) != NULL);
    }
    CHECK_INT(nethttp_live_requests(), 21);
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_live_requests(), 0);
    CHECK_INT(capture_wait(&pending, 1, 1500), 0); /* dropped, never called */
    nethttp_destroy_request(kept_request);       /* stale after shutdown: a no-op */
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);

    /* Shutdown is refused inside a callback, and the engine goes on. */
    capture_init(&inside);
    CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL,
                          shutdown_inside_callback, &inside) != NULL);
    CHECK_INT(capture_wait(&inside, 1, 20000), 1);
    CHECK_INT(inside.status, 200);

    /* A new request after shutdown starts a new engine. */
    capture_init(&after);
    CHECK(capture_fetch(&after, test_url(url, sizeof url, server.http_port, "/bytes/100"), NULL));
    CHECK_INT(after.status, 200);
    CHECK_INT(after.body_len, 100);

    capture_free(&pending);
    capture_free(&kept);
    capture_free(&inside);
    capture_free(&after);
    return test_finish("test_shutdown");
}
