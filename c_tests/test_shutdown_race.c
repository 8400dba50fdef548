/* nethttp_shutdown() races: two threads shutting down at once both return
 * only after the running callback returned; a request made while another
 * thread is in shutdown waits for it, and its callback never overlaps one
 * of the old default client's. */
#include "test_util.h"

static struct test_server server;
static char url[256];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int in_callback;      /* callbacks running right now */
static int max_in_callback;  /* the most ever running at once */
static int slow_started;
static int slow_returned;

static void enter(void) {
    pthread_mutex_lock(&lock);
    in_callback++;
    if (in_callback > max_in_callback) {
        max_in_callback = in_callback;
    }
    pthread_mutex_unlock(&lock);
}

static void leave(void) {
    pthread_mutex_lock(&lock);
    in_callback--;
    pthread_mutex_unlock(&lock);
}

static int slow_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                         void *userdata) {
    (void)body, (void)body_len, (void)status, (void)response, (void)userdata;
    enter();
    pthread_mutex_lock(&lock);
    slow_started = 1;
    pthread_mutex_unlock(&lock);
    test_sleep_ms(400);
    pthread_mutex_lock(&lock);
    slow_returned = 1;
    pthread_mutex_unlock(&lock);
    leave();
    return 0;
}

static int counting_callback(const char *body, size_t body_len, int status,
                             const struct nethttp_response *response, void *userdata) {
    int r;
    enter();
    r = capture_callback(body, body_len, status, response, userdata);
    leave();
    return r;
}

static void wait_slow_started(void) {
    int i, started = 0;
    for (i = 0; i < 2000 && !started; i++) {
        pthread_mutex_lock(&lock);
        started = slow_started;
        pthread_mutex_unlock(&lock);
        if (!started) {
            test_sleep_ms(5);
        }
    }
    CHECK(started);
}

struct shutdown_result {
    enum nethttp_result code;
    int callback_had_returned;
};

static void *shutdown_thread(void *arg) {
    struct shutdown_result *result = (struct shutdown_result *)arg;
    result->code = nethttp_shutdown();
    pthread_mutex_lock(&lock);
    result->callback_had_returned = slow_returned;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *request_thread(void *arg) {
    struct capture *c = (struct capture *)arg;
    if (nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, counting_callback, c) ==
        NULL) {
        fprintf(stderr, "request during shutdown failed: %s\n", nethttp_last_error());
    }
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t threads[2];
    struct shutdown_result results[2];
    struct capture during;
    int round, i;
    server = test_server_from_args(argc, argv);

    /* Two shutdowns at once, while a callback runs: neither returns before it did. */
    for (round = 0; round < 3; round++) {
        slow_started = slow_returned = 0;
        CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, slow_callback,
                              NULL) != NULL);
        wait_slow_started();
        for (i = 0; i < 2; i++) {
            pthread_create(&threads[i], NULL, shutdown_thread, &results[i]);
        }
        for (i = 0; i < 2; i++) {
            pthread_join(threads[i], NULL);
            CHECK_INT(results[i].code, NETHTTP_RESULT_OK);
            CHECK_INT(results[i].callback_had_returned, 1);
        }
    }

    /* A request while another thread shuts down: it waits, then runs on a
     * new default client, never beside the old one's callback. */
    slow_started = slow_returned = 0;
    max_in_callback = 0;
    capture_init(&during);
    CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, slow_callback, NULL) !=
          NULL);
    wait_slow_started();
    pthread_create(&threads[0], NULL, shutdown_thread, &results[0]);
    test_sleep_ms(50); /* let the shutdown begin; the check below holds either way */
    pthread_create(&threads[1], NULL, request_thread, &during);
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);
    CHECK_INT(results[0].code, NETHTTP_RESULT_OK);
    CHECK_INT(capture_wait(&during, 1, 20000), 1);
    CHECK_INT(during.status, 200);
    CHECK_INT(max_in_callback, 1);

    capture_free(&during);
    return test_finish("test_shutdown_race");
}
