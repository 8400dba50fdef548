/* nethttp_request_cancel: exactly one callback, with status 0, body
 * "cancelled" and NETHTTP_RESULT_CANCELLED, whether the request waited
 * behind a connection limit, was connecting or was receiving its body; the
 * real response, once, when it had finished; a no-op on stale handles and
 * NULL; it works from inside another request's callback, and a cancelled
 * request does not hold up the others. Dispatch mode makes the callback
 * count exact: callbacks run only when this thread dispatches. */
#include "test_util.h"

static struct test_server server;
static char url[256];

/* Dispatches until `c` got its callback (20 s at most), then a little
 * longer, to catch a second one. */
static void dispatch_one(struct nethttp_client *client, struct capture *c) {
    CHECK_INT(test_dispatch_until(client, &c->calls, 1, 20000), 1);
    test_dispatch_for(client, 200);
    CHECK_INT(c->calls, 1);
}

static void check_cancelled(const struct capture *c) {
    CHECK_INT(c->calls, 1);
    CHECK_INT(c->status, 0);
    CHECK_STR(c->body, "cancelled");
    CHECK_INT(c->body_len, 9);
    CHECK_STR(c->error, "cancelled");
    CHECK_INT(c->error_code, NETHTTP_RESULT_CANCELLED);
    CHECK_INT(c->header_count, 0);
}

/* Waiting behind per_host = 1, while the first request holds the connection. */
static void check_cancel_queued(void) {
    struct nethttp_client *client = test_client_new(1, 0, 1, NULL);
    struct capture holder, queued;
    struct nethttp_request *request;
    capture_init(&holder);
    capture_init(&queued);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=3000"), NULL,
                                 capture_callback, &holder) != NULL);
    request = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     capture_callback, &queued);
    CHECK(request != NULL);
    test_sleep_ms(100); /* both reached the engine: one on the connection, one waiting */
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK); /* twice: still one callback */
    dispatch_one(client, &queued);
    check_cancelled(&queued);
    CHECK(queued.request == request);
    /* It did not wait for the connection: the holder is still held. */
    CHECK_INT(holder.calls, 0);
    CHECK_INT(nethttp_client_live_requests(client), 1);
    /* The holder is unaffected and gets its real response. */
    dispatch_one(client, &holder);
    CHECK_INT(holder.status, 200);
    CHECK_STR(holder.body, "delayed 3000");
    capture_free(&holder);
    capture_free(&queued);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Connecting, to a listener whose accept queue is full (the SYN goes
 * unanswered), with a long connect timeout. */
static void check_cancel_connecting(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_request *request;
    struct capture c;
    int fillers[4], port = 0, i;
    int listener = test_full_listener(&port, fillers, 4);
    CHECK(listener >= 0);
    CHECK_INT(nethttp_options_set_connect_timeout_ms(options, 60000), NETHTTP_RESULT_OK);
    capture_init(&c);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    request = nethttp_client_request(client, url, options, capture_callback, &c);
    CHECK(request != NULL);
    CHECK_INT(test_dispatch_for(client, 300), 0); /* still connecting */
    CHECK_INT(c.calls, 0);
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    dispatch_one(client, &c);
    check_cancelled(&c);
    capture_free(&c);
    for (i = 0; i < 4; i++) {
        close(fillers[i]);
    }
    close(listener);
    nethttp_options_free(options);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Timings of the response a callback keeps. */
struct timed {
    struct capture c;
    int64_t first_byte;
};

static int timed_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    struct timed *t = (struct timed *)userdata;
    t->first_byte = nethttp_response_timing_us(response, NETHTTP_TIMING_FIRST_BYTE);
    return capture_callback(body, body_len, status, response, &t->c);
}

/* Mid-body: /trickle sends its headers and first byte at once, then one
 * byte every 100 ms (10 s in all). */
static void check_cancel_mid_body(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_request *request;
    struct timed t;
    double start = test_now_ms();
    capture_init(&t.c);
    t.first_byte = -2;
    request = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/trickle?bytes=100&ms=100"),
                                     NULL, timed_callback, &t);
    CHECK(request != NULL);
    CHECK_INT(test_dispatch_for(client, 500), 0); /* the body is on its way */
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    dispatch_one(client, &t.c);
    check_cancelled(&t.c);
    CHECK(t.first_byte >= 0); /* the response had begun */
    CHECK(test_now_ms() - start < 9000); /* cut short, not the whole body */
    capture_free(&t.c);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Finished: the transfer is done and its callback queued; cancel changes
 * nothing, the real response comes, once. After the callback, cancel is a
 * no-op as well. */
static void check_cancel_finished(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_request *request;
    struct capture c;
    capture_init(&c);
    request = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     capture_callback, &c);
    CHECK(request != NULL);
    CHECK(test_readable(nethttp_client_fd(client), 20000)); /* queued */
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    dispatch_one(client, &c);
    CHECK_INT(c.status, 200);
    CHECK_INT(c.error_code, NETHTTP_RESULT_OK);
    CHECK(test_contains(c.body, c.body_len, "GET /echo HTTP/1.1"));
    /* After the callback returned 0: a stale handle. */
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    CHECK_INT(test_dispatch_for(client, 200), 0);
    CHECK_INT(c.calls, 1);
    capture_free(&c);

    /* A kept request: cancel does not call it again either. */
    capture_init(&c);
    c.keep = 1;
    request = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     capture_callback, &c);
    dispatch_one(client, &c);
    CHECK_INT(c.status, 200);
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    CHECK_INT(test_dispatch_for(client, 200), 0);
    CHECK_INT(c.calls, 1);
    CHECK_INT(nethttp_response_status(c.response), 200); /* still kept */
    nethttp_destroy_request(request);
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK); /* destroyed */
    CHECK_INT(nethttp_client_live_requests(client), 0);
    capture_free(&c);

    CHECK_INT(nethttp_request_cancel(NULL), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    /* A handle of a freed client is stale too. */
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
}

/* A destroyed request is not called back even when cancelled after. */
static void check_cancel_destroyed(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_request *request;
    struct capture c;
    capture_init(&c);
    request = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=2000"), NULL,
                                     capture_callback, &c);
    nethttp_destroy_request(request);
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    CHECK_INT(test_dispatch_for(client, 500), 0);
    CHECK_INT(c.calls, 0);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Cancel from inside another request's callback. */
struct canceller {
    struct capture c;
    struct nethttp_request *victim;
    enum nethttp_result result;
};

static int cancel_other_callback(const char *body, size_t body_len, int status,
                                 const struct nethttp_response *response, void *userdata) {
    struct canceller *k = (struct canceller *)userdata;
    k->result = nethttp_request_cancel(k->victim);
    return capture_callback(body, body_len, status, response, &k->c);
}

static void check_cancel_inside_callback(int dispatch) {
    struct nethttp_client *client = test_client_new(dispatch, 0, 0, NULL);
    struct canceller k;
    struct capture victim;
    capture_init(&k.c);
    capture_init(&victim);
    k.result = NETHTTP_RESULT_INTERNAL;
    k.victim = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), NULL,
                                      capture_callback, &victim);
    CHECK(k.victim != NULL);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 cancel_other_callback, &k) != NULL);
    if (dispatch) {
        dispatch_one(client, &k.c);
        dispatch_one(client, &victim);
    } else {
        CHECK_INT(capture_wait(&k.c, 1, 20000), 1);
        CHECK_INT(capture_wait(&victim, 1, 20000), 1);
        test_sleep_ms(200);
    }
    CHECK_INT(k.c.status, 200);
    CHECK_INT(k.result, NETHTTP_RESULT_OK);
    check_cancelled(&victim);
    capture_free(&k.c);
    capture_free(&victim);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* A cancelled request does not stall the others of its client: with
 * per_host = 1, cancelling the request that holds the connection (for a
 * minute) lets the next one through; and a request beside a cancelled one
 * completes. */
static void check_cancel_does_not_stall(void) {
    struct nethttp_client *client = test_client_new(1, 0, 1, NULL);
    struct nethttp_request *holder;
    struct capture held, next, beside;
    capture_init(&held);
    capture_init(&next);
    capture_init(&beside);
    holder = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=60000"), NULL,
                                    capture_callback, &held);
    CHECK(holder != NULL);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 capture_callback, &next) != NULL);
    CHECK_INT(test_dispatch_for(client, 300), 0);
    CHECK_INT(nethttp_request_cancel(holder), NETHTTP_RESULT_OK);
    dispatch_one(client, &held);
    check_cancelled(&held);
    dispatch_one(client, &next);
    CHECK_INT(next.status, 200);
    capture_free(&held);
    capture_free(&next);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);

    client = test_client_new(1, 0, 0, NULL);
    capture_init(&held);
    holder = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/trickle?bytes=600&ms=100"),
                                    NULL, capture_callback, &held);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/300"), NULL,
                                 capture_callback, &beside) != NULL);
    CHECK_INT(nethttp_request_cancel(holder), NETHTTP_RESULT_OK);
    dispatch_one(client, &held);
    check_cancelled(&held);
    dispatch_one(client, &beside);
    CHECK_INT(beside.status, 200);
    CHECK_STR(beside.body, "delayed 300");
    capture_free(&held);
    capture_free(&beside);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_cancel_queued();
    check_cancel_connecting();
    check_cancel_mid_body();
    check_cancel_finished();
    check_cancel_destroyed();
    check_cancel_inside_callback(1);
    check_cancel_inside_callback(0);
    check_cancel_does_not_stall();
    return test_finish("test_client_cancel");
}
