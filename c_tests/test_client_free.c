/* nethttp_client_free: every request of the client gets exactly one
 * callback before it returns (real responses for those that finished within
 * the grace period, "cancelled" for the rest) and none after; in dispatch
 * mode on the calling thread; refused inside the client's own callbacks and
 * observer calls; requests made meanwhile are refused; kept responses are
 * freed. Also run under valgrind by ctest when valgrind is installed. */
#include "test_util.h"

static struct test_server server;
static char url[256];

static int calls_of(struct capture *c) {
    return capture_wait(c, 0, 0);
}

/* Inline client, grace 0: held requests are cancelled, finished ones got
 * their responses; nothing comes after free returned. */
static void check_grace_zero_inline(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct capture held[3], fast[3];
    int i;
    for (i = 0; i < 3; i++) {
        capture_init(&held[i]);
        capture_init(&fast[i]);
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), NULL,
                                     capture_callback, &held[i]) != NULL);
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     capture_callback, &fast[i]) != NULL);
    }
    for (i = 0; i < 3; i++) {
        CHECK_INT(capture_wait(&fast[i], 1, 20000), 1);
    }
    /* A request counts until its callback has returned (just after it
     * signalled us). */
    for (i = 0; i < 400 && nethttp_client_live_requests(client) > 3; i++) {
        test_sleep_ms(5);
    }
    CHECK_INT(nethttp_client_live_requests(client), 3);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(calls_of(&held[i]), 1);
        CHECK_INT(held[i].status, 0);
        CHECK_STR(held[i].error, "cancelled");
        CHECK_INT(held[i].error_code, NETHTTP_RESULT_CANCELLED);
        CHECK_INT(calls_of(&fast[i]), 1);
        CHECK_INT(fast[i].status, 200);
    }
    test_sleep_ms(300); /* a late callback would come now */
    for (i = 0; i < 3; i++) {
        CHECK_INT(calls_of(&held[i]), 1);
        CHECK_INT(calls_of(&fast[i]), 1);
        capture_free(&held[i]);
        capture_free(&fast[i]);
    }
}

/* Dispatch mode, grace 0: completions still queued are delivered with
 * their real responses, held requests are cancelled, all on this thread
 * inside free. */
static void check_grace_zero_dispatch(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct capture held[3], fast[3];
    int i;
    for (i = 0; i < 3; i++) {
        capture_init(&held[i]);
        capture_init(&fast[i]);
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), NULL,
                                     capture_callback, &held[i]) != NULL);
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                     capture_callback, &fast[i]) != NULL);
    }
    /* The fast ones finish and wait in the queue: nobody dispatches. */
    CHECK(test_readable(nethttp_client_fd(client), 20000));
    test_sleep_ms(300);
    for (i = 0; i < 3; i++) {
        CHECK_INT(calls_of(&fast[i]), 0);
    }
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(calls_of(&held[i]), 1);
        CHECK_STR(held[i].error, "cancelled");
        CHECK(pthread_equal(held[i].thread, pthread_self()));
        CHECK_INT(calls_of(&fast[i]), 1);
        CHECK_INT(fast[i].status, 200);
        CHECK(pthread_equal(fast[i].thread, pthread_self()));
    }
    test_sleep_ms(300);
    for (i = 0; i < 3; i++) {
        CHECK_INT(calls_of(&held[i]), 1);
        CHECK_INT(calls_of(&fast[i]), 1);
        capture_free(&held[i]);
        capture_free(&fast[i]);
    }
}

/* A grace period lets a request that finishes within it complete for real;
 * one that would take longer is cancelled when it runs out. */
static void check_grace(int dispatch) {
    struct nethttp_client *client = test_client_new(dispatch, 0, 0, NULL);
    struct capture quick, slow;
    capture_init(&quick);
    capture_init(&slow);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/300"), NULL,
                                 capture_callback, &quick) != NULL);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=30000"), NULL,
                                 capture_callback, &slow) != NULL);
    CHECK_INT(nethttp_client_free(client, 2000), NETHTTP_RESULT_OK);
    CHECK_INT(calls_of(&quick), 1);
    CHECK_INT(quick.status, 200);
    CHECK_STR(quick.body, "delayed 300");
    CHECK_INT(calls_of(&slow), 1);
    CHECK_STR(slow.error, "cancelled");
    if (dispatch) {
        CHECK(pthread_equal(quick.thread, pthread_self()));
        CHECK(pthread_equal(slow.thread, pthread_self()));
    } else {
        CHECK(!pthread_equal(quick.thread, pthread_self()));
    }
    test_sleep_ms(300);
    CHECK_INT(calls_of(&quick), 1);
    CHECK_INT(calls_of(&slow), 1);
    capture_free(&quick);
    capture_free(&slow);
}

/* In dispatch mode the callbacks of free run on the thread that calls it,
 * whichever that is. */
struct freer {
    struct nethttp_client *client;
    pthread_t self;
    enum nethttp_result result;
};

static void *free_thread(void *arg) {
    struct freer *f = (struct freer *)arg;
    f->self = pthread_self();
    f->result = nethttp_client_free(f->client, 0);
    return NULL;
}

static void check_dispatch_free_on_other_thread(void) {
    struct freer f;
    struct capture held, fast;
    pthread_t thread;
    capture_init(&held);
    capture_init(&fast);
    f.client = test_client_new(1, 0, 0, NULL);
    f.result = NETHTTP_RESULT_INTERNAL;
    CHECK(nethttp_client_request(f.client, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), NULL,
                                 capture_callback, &held) != NULL);
    CHECK(nethttp_client_request(f.client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 capture_callback, &fast) != NULL);
    CHECK(test_readable(nethttp_client_fd(f.client), 20000));
    CHECK_INT(pthread_create(&thread, NULL, free_thread, &f), 0);
    pthread_join(thread, NULL);
    CHECK_INT(f.result, NETHTTP_RESULT_OK);
    CHECK_INT(calls_of(&held), 1);
    CHECK_INT(calls_of(&fast), 1);
    CHECK(pthread_equal(held.thread, f.self));
    CHECK(pthread_equal(fast.thread, f.self));
    CHECK_INT(fast.status, 200);
    CHECK_STR(held.error, "cancelled");
    capture_free(&held);
    capture_free(&fast);
}

/* Inside its own callback or observer call, free is refused and the client
 * stays usable. */
struct self_free {
    struct capture c;
    struct nethttp_client *client;
    enum nethttp_result in_callback;
    enum nethttp_result in_callback_code;
    int observed;
    enum nethttp_result in_observer;
};

static struct self_free self;

static int free_inside_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                                void *userdata) {
    struct self_free *s = (struct self_free *)userdata;
    s->in_callback = nethttp_client_free(s->client, 0);
    s->in_callback_code = nethttp_last_error_code();
    return capture_callback(body, body_len, status, response, &s->c);
}

static void free_inside_observer(const struct nethttp_response *response, void *userdata) {
    struct self_free *s = (struct self_free *)userdata;
    (void)response;
    s->observed++;
    s->in_observer = nethttp_client_free(s->client, 0);
}

static void check_free_inside_callback(int dispatch) {
    struct nethttp_client_config *config = nethttp_client_config_new();
    struct capture after;
    memset(&self, 0, sizeof self);
    capture_init(&self.c);
    self.in_callback = NETHTTP_RESULT_INTERNAL;
    self.in_observer = NETHTTP_RESULT_INTERNAL;
    CHECK_INT(nethttp_client_config_set_dispatch(config, dispatch), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_config_set_observer(config, free_inside_observer, &self), NETHTTP_RESULT_OK);
    self.client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    CHECK(self.client != NULL);
    CHECK(nethttp_client_request(self.client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 free_inside_callback, &self) != NULL);
    if (dispatch) {
        CHECK_INT(test_dispatch_until(self.client, &self.c.calls, 1, 20000), 1);
    } else {
        CHECK_INT(capture_wait(&self.c, 1, 20000), 1);
    }
    CHECK_INT(self.in_callback, NETHTTP_RESULT_CALLED_FROM_CALLBACK);
    CHECK_INT(self.in_callback_code, NETHTTP_RESULT_CALLED_FROM_CALLBACK);
    CHECK_INT(self.in_observer, NETHTTP_RESULT_CALLED_FROM_CALLBACK);
    CHECK_INT(self.c.status, 200);
    /* Still a working client. */
    capture_init(&after);
    CHECK(capture_client_fetch(self.client, &after, test_url(url, sizeof url, server.http_port, "/echo"), NULL));
    CHECK_INT(after.status, 200);
    CHECK_INT(self.observed, 2);
    CHECK_INT(nethttp_client_free(self.client, 0), NETHTTP_RESULT_OK);
    capture_free(&after);
    capture_free(&self.c);
}

/* A callback run by free (here: a cancelled request's) cannot start a new
 * request on the client: NULL, NETHTTP_RESULT_ENGINE_UNAVAILABLE. */
struct late {
    struct capture c;
    struct nethttp_client *client;
    struct nethttp_client *other;
    struct capture other_capture;
    int tried;
    struct nethttp_request *made;
    enum nethttp_result code;
    struct nethttp_request *made_on_other;
};

static int request_inside_callback(const char *body, size_t body_len, int status,
                                   const struct nethttp_response *response, void *userdata) {
    struct late *l = (struct late *)userdata;
    l->tried++;
    l->made = nethttp_client_request(l->client, url, NULL, capture_callback, &l->c);
    l->code = nethttp_last_error_code();
    if (l->other != NULL) {
        l->made_on_other = nethttp_client_request(l->other, url, NULL, capture_callback, &l->other_capture);
    }
    return capture_callback(body, body_len, status, response, &l->c);
}

static void check_request_during_free(int dispatch) {
    struct late l;
    memset(&l, 0, sizeof l);
    capture_init(&l.c);
    capture_init(&l.other_capture);
    l.client = test_client_new(dispatch, 0, 0, NULL);
    l.other = test_client_new(0, 0, 0, NULL);
    CHECK(nethttp_client_request(l.client, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), NULL,
                                 request_inside_callback, &l) != NULL);
    test_url(url, sizeof url, server.http_port, "/echo");
    CHECK_INT(nethttp_client_free(l.client, 0), NETHTTP_RESULT_OK);
    CHECK_INT(l.tried, 1);
    CHECK_INT(calls_of(&l.c), 1);
    CHECK_STR(l.c.error, "cancelled");
    CHECK(l.made == NULL);
    CHECK_INT(l.code, NETHTTP_RESULT_ENGINE_UNAVAILABLE);
    /* Other clients take requests as usual meanwhile. */
    CHECK(l.made_on_other != NULL);
    CHECK_INT(capture_wait(&l.other_capture, 1, 20000), 1);
    CHECK_INT(l.other_capture.status, 200);
    test_sleep_ms(200);
    CHECK_INT(calls_of(&l.c), 1); /* the refused request never calls back */
    CHECK_INT(nethttp_client_free(l.other, 0), NETHTTP_RESULT_OK);
    capture_free(&l.c);
    capture_free(&l.other_capture);
}

/* Kept responses are freed by free: their handles are stale after. */
static void check_kept_freed(int dispatch) {
    struct nethttp_client *client = test_client_new(dispatch, 0, 0, NULL);
    struct capture kept;
    struct nethttp_request *request;
    capture_init(&kept);
    kept.keep = 1;
    request = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/bytes/5000"), NULL,
                                     capture_callback, &kept);
    CHECK(request != NULL);
    if (dispatch) {
        CHECK_INT(test_dispatch_until(client, &kept.calls, 1, 20000), 1);
    } else {
        CHECK_INT(capture_wait(&kept, 1, 20000), 1);
    }
    CHECK_INT(kept.status, 200);
    CHECK_INT(nethttp_response_status(kept.response), 200);
    CHECK_INT(nethttp_client_live_requests(client), 1);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    CHECK_INT(calls_of(&kept), 1); /* not called again */
    nethttp_destroy_request(request); /* stale: a no-op */
    CHECK_INT(nethttp_request_cancel(request), NETHTTP_RESULT_OK);
    capture_free(&kept);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    CHECK_INT(nethttp_client_free(NULL, 0), NETHTTP_RESULT_OK);
    check_grace_zero_inline();
    check_grace_zero_dispatch();
    check_grace(0);
    check_grace(1);
    check_dispatch_free_on_other_thread();
    check_free_inside_callback(0);
    check_free_inside_callback(1);
    check_kept_freed(0);
    check_kept_freed(1);
    check_request_during_free(0);
    check_request_during_free(1);
    return test_finish("test_client_free");
}
