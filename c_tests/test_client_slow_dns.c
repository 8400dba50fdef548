/* Cancel during a slow DNS lookup: the request's "cancelled" callback comes,
 * and another request of the same client completes, while the lookup is
 * still running (it takes 3 s, by the LD_PRELOAD shim slow_dns.c). */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "test_util.h"

int main(int argc, char **argv) {
    struct test_server server = test_server_from_args(argc, argv);
    int (*lookups_finished)(void);
    struct nethttp_client *client;
    struct nethttp_request *slow;
    struct capture cancelled, other;
    char url[256];

    *(void **)(&lookups_finished) = dlsym(RTLD_DEFAULT, "slow_dns_lookups_finished");
    if (lookups_finished == NULL) {
        fprintf(stderr, "run with LD_PRELOAD=libslow_dns.so (ctest does)\n");
        return 2;
    }
    client = nethttp_client_new(NULL);
    CHECK(client != NULL);
    capture_init(&cancelled);
    capture_init(&other);
    slow = nethttp_client_request(client, "http://host.slow-dns.test/", NULL, capture_callback, &cancelled);
    CHECK(slow != NULL);
    test_sleep_ms(100); /* the lookup has begun */
    CHECK_INT(nethttp_request_cancel(slow), NETHTTP_RESULT_OK);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/status/200"), NULL,
                                 capture_callback, &other) != NULL);
    CHECK_INT(capture_wait(&cancelled, 1, 20000), 1);
    CHECK_INT(capture_wait(&other, 1, 20000), 1);
    /* Both came before the 3 s lookup returned: the cancel did not wait for it. */
    CHECK_INT(lookups_finished(), 0);
    CHECK_STR(cancelled.error, "cancelled");
    CHECK_INT(other.status, 200);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    capture_free(&cancelled);
    capture_free(&other);
    return test_finish("test_client_slow_dns");
}
