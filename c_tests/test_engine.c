/* The engine: non-blocking requests, many threads at once, chaining from a
 * callback, connection reuse. */
#include "test_util.h"

static struct test_server server;

static void check_request_does_not_block(void) {
    struct capture c;
    char url[256];
    double start, returned;
    capture_init(&c);
    start = test_now_ms();
    CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/delay/1500"), NULL, capture_callback, &c) !=
          NULL);
    returned = test_now_ms();
    CHECK(returned - start < 1000); /* the call returns long before the response */
    CHECK_INT(c.calls, 0);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "delayed 1500");
    capture_free(&c);
}

/* Several threads, each making many requests at once; all complete. */
#define THREADS 4
#define PER_THREAD 250

struct tally {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ok, failed, calls;
};

static struct tally tally = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static int tally_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    long expected = (long)(size_t)userdata;
    (void)response;
    pthread_mutex_lock(&tally.lock);
    if (status == 200 && body_len == (size_t)expected) {
        tally.ok++;
    } else {
        tally.failed++;
        fprintf(stderr, "request failed: status %d, %s\n", status, status == 0 ? body : "");
    }
    tally.calls++;
    pthread_cond_broadcast(&tally.cond);
    pthread_mutex_unlock(&tally.lock);
    return 0;
}

static void *request_thread(void *arg) {
    long index = (long)(size_t)arg;
    char url[256], path[64];
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        long size = 1 + (index * PER_THREAD + i) % 5000;
        snprintf(path, sizeof path, "/bytes/%ld", size);
        if (nethttp_request(test_url(url, sizeof url, server.http_port, path), NULL, tally_callback,
                            (void *)(size_t)size) == NULL) {
            pthread_mutex_lock(&tally.lock);
            tally.failed++;
            tally.calls++;
            pthread_mutex_unlock(&tally.lock);
        }
    }
    return NULL;
}

static void check_many_threads(void) {
    pthread_t threads[THREADS];
    long t;
    double start = test_now_ms();
    for (t = 0; t < THREADS; t++) {
        pthread_create(&threads[t], NULL, request_thread, (void *)(size_t)t);
    }
    for (t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    pthread_mutex_lock(&tally.lock);
    while (tally.calls < THREADS * PER_THREAD && test_now_ms() - start < 60000) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 1;
        pthread_cond_timedwait(&tally.cond, &tally.lock, &deadline);
    }
    printf("%d concurrent requests from %d threads: %d ok, %d failed, %.0f ms\n", THREADS * PER_THREAD, THREADS,
           tally.ok, tally.failed, test_now_ms() - start);
    CHECK_INT(tally.ok, THREADS * PER_THREAD);
    CHECK_INT(tally.failed, 0);
    pthread_mutex_unlock(&tally.lock);
}

/* Each callback makes the next request: chaining must not deadlock. */
struct chain {
    struct capture done;
    int remaining;
    char url[256];
};

static int chain_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    struct chain *chain = (struct chain *)userdata;
    if (status == 200 && --chain->remaining > 0) {
        if (nethttp_request(chain->url, NULL, chain_callback, chain) != NULL) {
            return 0;
        }
    }
    return capture_callback(body, body_len, status, response, &chain->done);
}

static void check_chaining_from_callbacks(void) {
    struct chain chain;
    capture_init(&chain.done);
    chain.remaining = 20;
    test_url(chain.url, sizeof chain.url, server.http_port, "/status/200");
    CHECK(nethttp_request(chain.url, NULL, chain_callback, &chain) != NULL);
    CHECK_INT(capture_wait(&chain.done, 1, 30000), 1);
    CHECK_INT(chain.remaining, 0);
    CHECK_INT(chain.done.status, 200);
    capture_free(&chain.done);
}

static void check_keep_alive(void) {
    struct capture first, second;
    char url[256];
    test_url(url, sizeof url, server.http_port, "/conn");
    capture_init(&first);
    capture_init(&second);
    CHECK(capture_fetch(&first, url, NULL));
    CHECK(capture_fetch(&second, url, NULL));
    CHECK(strncmp(first.body, "conn ", 5) == 0);
    CHECK_STR(second.body, first.body); /* the same TCP connection served both */
    capture_free(&first);
    capture_free(&second);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_request_does_not_block();
    check_keep_alive();
    check_chaining_from_callbacks();
    check_many_threads();
    return test_finish("test_engine");
}
