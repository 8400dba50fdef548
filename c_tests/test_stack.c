/* Engine threads have a stack like a main thread's (8 MiB), so a callback
 * may use a few MiB of it; a client can ask for more. */
#include "test_util.h"

static struct test_server server;
static char url[256];

/* Touches `bytes` of stack, page by page, and returns a sum the compiler
 * cannot drop. */
static int __attribute__((noinline)) use_stack(size_t bytes) {
    volatile char *block = (volatile char *)__builtin_alloca(bytes);
    size_t i;
    int sum = 0;
    for (i = 0; i < bytes; i += 4096) {
        block[i] = (char)i;
    }
    for (i = 0; i < bytes; i += 4096) {
        sum += block[i];
    }
    return sum;
}

static size_t stack_to_use;

static int deep_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                         void *userdata) {
    (void)use_stack(stack_to_use);
    return capture_callback(body, body_len, status, response, userdata);
}

int main(int argc, char **argv) {
    struct capture c;
    struct nethttp_client_config *config;
    struct nethttp_client *client;
    server = test_server_from_args(argc, argv);

    /* 3 MiB on the default client's engine thread. */
    capture_init(&c);
    stack_to_use = 3u << 20;
    CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, deep_callback, &c) !=
          NULL);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK_INT(c.status, 200);
    capture_free(&c);

    /* 12 MiB on a client with a 16 MiB engine stack. */
    config = nethttp_client_config_new();
    CHECK_INT(nethttp_client_config_set_stack_size(config, 1000), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_client_config_set_stack_size(NULL, 16u << 20), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_client_config_set_stack_size(config, 16u << 20), NETHTTP_RESULT_OK);
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    CHECK(client != NULL);
    capture_init(&c);
    stack_to_use = 12u << 20;
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/status/200"), NULL,
                                 deep_callback, &c) != NULL);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK_INT(c.status, 200);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    capture_free(&c);
    return test_finish("test_stack");
}
