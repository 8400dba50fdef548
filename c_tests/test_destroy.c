/* nethttp_destroy_request: no callback afterwards, from any thread, inside
 * callbacks, on stale handles, and racing with a running callback. */
#include "test_util.h"

static struct test_server server;
static char url[256];

static void check_destroy_pending(void) {
    struct capture c;
    struct nethttp_request *request;
    capture_init(&c);
    request = nethttp_request(test_url(url, sizeof url, server.http_port, "/delay/300"), NULL, capture_callback, &c);
    CHECK(request != NULL);
    CHECK_INT(nethttp_live_requests(), 1);
    nethttp_destroy_request(request);
    CHECK_INT(nethttp_live_requests(), 0);
    CHECK_INT(capture_wait(&c, 1, 1000), 0); /* the response would have come by now */
    /* Destroying again, or a handle that finished long ago, is a harmless no-op. */
    nethttp_destroy_request(request);
    nethttp_destroy_request(NULL);
    capture_free(&c);
}

static void check_stale_handle_after_completion(void) {
    struct capture c, other;
    struct nethttp_request *finished, *live;
    capture_init(&c);
    capture_init(&other);
    finished = nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, capture_callback, &c);
    CHECK_INT(capture_wait(&c, 1, 20000), 1); /* its callback returned 0: freed */
    live = nethttp_request(test_url(url, sizeof url, server.http_port, "/delay/300"), NULL, capture_callback, &other);
    CHECK(live != finished); /* handles are never reused */
    nethttp_destroy_request(finished); /* must not touch the live request */
    CHECK_INT(capture_wait(&other, 1, 20000), 1);
    CHECK_INT(other.status, 200);
    capture_free(&c);
    capture_free(&other);
}

static void check_kept_response_then_destroy(void) {
    struct capture c;
    struct nethttp_request *request;
    size_t len = 0;
    capture_init(&c);
    c.keep = 1;
    request = nethttp_request(test_url(url, sizeof url, server.http_port, "/bytes/1000"), NULL, capture_callback, &c);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    test_sleep_ms(50);
    /* Kept: response and body stay valid after the callback returned. */
    CHECK(c.response != NULL);
    CHECK(nethttp_response_body(c.response, &len) != NULL);
    CHECK_INT(len, 1000);
    CHECK_INT(nethttp_response_status(c.response), 200);
    CHECK_INT(nethttp_live_requests(), 1);
    nethttp_destroy_request(request);
    CHECK_INT(nethttp_live_requests(), 0);
    nethttp_destroy_request(request);
    capture_free(&c);
}

/* Destroys its own request from inside the callback, then keeps using the response. */
static int self_destroying_callback(const char *body, size_t body_len, int status,
                                    const struct nethttp_response *response, void *userdata) {
    struct capture *c = (struct capture *)userdata;
    nethttp_destroy_request(nethttp_response_request(response));
    /* Still valid until this callback returns. */
    if (nethttp_response_status(response) != status || nethttp_response_body(response, NULL) != body) {
        status = -1;
    }
    c->keep = 1; /* asking to keep a destroyed request must not keep it */
    return capture_callback(body, body_len, status, response, c);
}

static void check_destroy_inside_own_callback(void) {
    struct capture c;
    capture_init(&c);
    CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, self_destroying_callback,
                          &c) != NULL);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK_INT(c.status, 200);
    test_sleep_ms(50);
    CHECK_INT(nethttp_live_requests(), 0);
    capture_free(&c);
}

/* A callback that destroys another, slower request. */
struct pair {
    struct nethttp_request *victim;
    struct capture first, victim_capture;
};

static int destroy_other_callback(const char *body, size_t body_len, int status,
                                  const struct nethttp_response *response, void *userdata) {
    struct pair *pair = (struct pair *)userdata;
    nethttp_destroy_request(pair->victim);
    return capture_callback(body, body_len, status, response, &pair->first);
}

static void check_destroy_other_inside_callback(void) {
    struct pair pair;
    capture_init(&pair.first);
    capture_init(&pair.victim_capture);
    pair.victim = nethttp_request(test_url(url, sizeof url, server.http_port, "/delay/600"), NULL, capture_callback,
                                  &pair.victim_capture);
    CHECK(pair.victim != NULL);
    CHECK(nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, destroy_other_callback,
                          &pair) != NULL);
    CHECK_INT(capture_wait(&pair.first, 1, 20000), 1);
    CHECK_INT(capture_wait(&pair.victim_capture, 1, 1500), 0);
    capture_free(&pair.first);
    capture_free(&pair.victim_capture);
}

/* A slow callback, and another thread destroying its request meanwhile. */
struct slow {
    pthread_mutex_t lock;
    int started, finished;
};

static int slow_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                         void *userdata) {
    struct slow *slow = (struct slow *)userdata;
    (void)body;
    (void)body_len;
    (void)status;
    (void)response;
    pthread_mutex_lock(&slow->lock);
    slow->started = 1;
    pthread_mutex_unlock(&slow->lock);
    test_sleep_ms(400);
    pthread_mutex_lock(&slow->lock);
    slow->finished = 1;
    pthread_mutex_unlock(&slow->lock);
    return 1; /* keep: destroy must free it */
}

static void check_destroy_waits_for_running_callback(void) {
    struct slow slow;
    struct nethttp_request *request;
    int started = 0, finished, i;
    pthread_mutex_init(&slow.lock, NULL);
    slow.started = 0;
    slow.finished = 0;
    request = nethttp_request(test_url(url, sizeof url, server.http_port, "/status/200"), NULL, slow_callback, &slow);
    for (i = 0; i < 2000 && !started; i++) {
        test_sleep_ms(5);
        pthread_mutex_lock(&slow.lock);
        started = slow.started;
        pthread_mutex_unlock(&slow.lock);
    }
    CHECK(started);
    nethttp_destroy_request(request); /* from this thread, while the callback sleeps */
    pthread_mutex_lock(&slow.lock);
    finished = slow.finished;
    pthread_mutex_unlock(&slow.lock);
    CHECK(finished); /* destroy returned only after the callback did */
    CHECK_INT(nethttp_live_requests(), 0);
    pthread_mutex_destroy(&slow.lock);
}

/* Destroy from other threads than the one that made the requests. */
struct batch {
    struct nethttp_request *requests[50];
    struct capture capture;
};

static void *destroy_thread(void *arg) {
    struct batch *batch = (struct batch *)arg;
    int i;
    for (i = 0; i < 50; i++) {
        nethttp_destroy_request(batch->requests[i]);
    }
    return NULL;
}

static void check_destroy_from_another_thread(void) {
    struct batch batch;
    pthread_t thread;
    int i;
    capture_init(&batch.capture);
    for (i = 0; i < 50; i++) {
        batch.requests[i] =
            nethttp_request(test_url(url, sizeof url, server.http_port, "/delay/400"), NULL, capture_callback, &batch.capture);
    }
    pthread_create(&thread, NULL, destroy_thread, &batch);
    pthread_join(thread, NULL);
    CHECK_INT(nethttp_live_requests(), 0);
    CHECK_INT(capture_wait(&batch.capture, 1, 1500), 0);
    capture_free(&batch.capture);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_destroy_pending();
    check_stale_handle_after_completion();
    check_kept_response_then_destroy();
    check_destroy_inside_own_callback();
    check_destroy_other_inside_callback();
    check_destroy_waits_for_running_callback();
    check_destroy_from_another_thread();
    return test_finish("test_destroy");
}
