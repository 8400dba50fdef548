/* Timings, method and the observer: every response carries TOTAL and the
 * phases that happened, in order (DNS <= CONNECT <= TLS <= FIRST_BYTE <=
 * TOTAL); nethttp_response_method() names the method sent; the observer sees
 * every finished request exactly once, just before its callback and on the
 * same thread, and never a request destroyed before it completed. */
#include "test_util.h"

static struct test_server server;
static char url[256];

#define MAX_EVENTS 128

/* What the observer ('O') and the callbacks ('C') saw, in order. */
struct event {
    char kind;
    struct nethttp_request *request;
    pthread_t thread;
    int status;
    int64_t timing[5];
    char method[16];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct event events[MAX_EVENTS];
static int event_count;

static void record(char kind, const struct nethttp_response *response) {
    const char *method = nethttp_response_method(response);
    int i;
    pthread_mutex_lock(&log_lock);
    if (event_count < MAX_EVENTS) {
        struct event *e = &events[event_count++];
        e->kind = kind;
        e->request = nethttp_response_request(response);
        e->thread = pthread_self();
        e->status = nethttp_response_status(response);
        for (i = 0; i < 5; i++) {
            e->timing[i] = nethttp_response_timing_us(response, i);
        }
        snprintf(e->method, sizeof e->method, "%s", method ? method : "(null)");
    }
    pthread_mutex_unlock(&log_lock);
}

static void observer(const struct nethttp_response *response, void *userdata) {
    (void)userdata;
    record('O', response);
}

static int callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                    void *userdata) {
    record('C', response);
    return capture_callback(body, body_len, status, response, userdata);
}

/* The events of one request: its observer call and callback. */
static int find(char kind, struct nethttp_request *request, struct event *out) {
    int i, n = 0;
    pthread_mutex_lock(&log_lock);
    for (i = 0; i < event_count; i++) {
        if (events[i].kind == kind && events[i].request == request) {
            if (n++ == 0 && out != NULL) {
                *out = events[i];
            }
        }
    }
    pthread_mutex_unlock(&log_lock);
    return n;
}

static int index_of(char kind, struct nethttp_request *request) {
    int i, at = -1;
    pthread_mutex_lock(&log_lock);
    for (i = 0; i < event_count && at < 0; i++) {
        if (events[i].kind == kind && events[i].request == request) {
            at = i;
        }
    }
    pthread_mutex_unlock(&log_lock);
    return at;
}

static struct nethttp_client *observed_client(int dispatch) {
    struct nethttp_client_config *config = nethttp_client_config_new();
    struct nethttp_client *client;
    CHECK_INT(nethttp_client_config_set_dispatch(config, dispatch), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_config_set_observer(config, observer, NULL), NETHTTP_RESULT_OK);
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    if (client == NULL) {
        fprintf(stderr, "nethttp_client_new: %s\n", nethttp_last_error());
        exit(1);
    }
    return client;
}

/* The phases that happened are in order; TOTAL always happened. */
static void check_order(const int64_t *t, const char *what) {
    int i, j;
    CHECK(t[NETHTTP_TIMING_TOTAL] >= 0);
    for (i = 0; i < 5; i++) {
        CHECK(t[i] >= -1);
        for (j = i + 1; j < 5; j++) {
            if (t[i] >= 0 && t[j] >= 0 && t[i] > t[j]) {
                test_failures++;
                fprintf(stderr, "%s: phase %d (%lld us) after phase %d (%lld us)\n", what, i, (long long)t[i], j,
                        (long long)t[j]);
            }
        }
    }
}

/* One request, waited for; checks observer and callback agree and returns
 * the callback's event. */
struct outcome {
    struct event o, c;
    struct nethttp_request *request;
    struct capture capture;
    char body[64]; /* the start of the body, kept after capture_free */
};

static void check_pair(struct outcome *out, int dispatch) {
    CHECK_INT(find('O', out->request, &out->o), 1); /* exactly once */
    CHECK_INT(find('C', out->request, &out->c), 1);
    CHECK(index_of('O', out->request) < index_of('C', out->request)); /* observer first */
    CHECK(pthread_equal(out->o.thread, out->c.thread));               /* same thread */
    if (dispatch) {
        CHECK(pthread_equal(out->c.thread, pthread_self()));
    } else {
        CHECK(!pthread_equal(out->c.thread, pthread_self()));
    }
    CHECK_INT(out->o.status, out->c.status);
    CHECK_STR(out->o.method, out->c.method);
    CHECK(memcmp(out->o.timing, out->c.timing, sizeof out->o.timing) == 0);
}

static void run(struct nethttp_client *client, int dispatch, const char *target, const struct nethttp_options *options,
                struct outcome *out, int cancel_after_ms) {
    memset(out, 0, sizeof *out);
    capture_init(&out->capture);
    out->request = nethttp_client_request(client, target, options, callback, &out->capture);
    CHECK(out->request != NULL);
    if (cancel_after_ms > 0) {
        if (dispatch) {
            CHECK_INT(test_dispatch_for(client, cancel_after_ms), 0);
        } else {
            test_sleep_ms(cancel_after_ms);
        }
        CHECK_INT(nethttp_request_cancel(out->request), NETHTTP_RESULT_OK);
    }
    if (dispatch) {
        CHECK_INT(test_dispatch_until(client, &out->capture.calls, 1, 20000), 1);
    } else {
        CHECK_INT(capture_wait(&out->capture, 1, 20000), 1);
    }
    check_pair(out, dispatch);
    check_order(out->c.timing, target);
    snprintf(out->body, sizeof out->body, "%s", out->capture.body ? out->capture.body : "");
    capture_free(&out->capture);
}

static void check_client(int dispatch) {
    struct nethttp_client *client = observed_client(dispatch);
    struct nethttp_options *options = nethttp_options_new();
    struct outcome out, again;
    char refused[128];
    const int64_t *t;

    /* A GET over plain http. */
    run(client, dispatch, test_url(url, sizeof url, server.http_port, "/conn"), NULL, &out, 0);
    t = out.c.timing;
    CHECK_INT(out.c.status, 200);
    CHECK_STR(out.c.method, "GET");
    CHECK(t[NETHTTP_TIMING_DNS] >= 0);
    CHECK(t[NETHTTP_TIMING_CONNECT] >= 0);
    CHECK_INT(t[NETHTTP_TIMING_TLS], -1);
    CHECK(t[NETHTTP_TIMING_FIRST_BYTE] >= 0);
    CHECK(t[NETHTTP_TIMING_TOTAL] >= t[NETHTTP_TIMING_FIRST_BYTE]);

    /* The same connection again: DNS and CONNECT are 0. */
    run(client, dispatch, test_url(url, sizeof url, server.http_port, "/conn"), NULL, &again, 0);
    CHECK_STR(again.body, out.body); /* reused indeed */
    CHECK_INT(again.c.timing[NETHTTP_TIMING_DNS], 0);
    CHECK_INT(again.c.timing[NETHTTP_TIMING_CONNECT], 0);
    CHECK(again.c.timing[NETHTTP_TIMING_FIRST_BYTE] >= 0);

    /* POST, HEAD, a custom PUT. */
    CHECK_INT(nethttp_options_set_body(options, "a=1", 3), NETHTTP_RESULT_OK);
    run(client, dispatch, test_url(url, sizeof url, server.http_port, "/echo"), options, &out, 0);
    CHECK_INT(out.c.status, 200);
    CHECK_STR(out.c.method, "POST");
    CHECK_INT(nethttp_options_set_method(options, "PUT"), NETHTTP_RESULT_OK);
    run(client, dispatch, test_url(url, sizeof url, server.http_port, "/echo"), options, &out, 0);
    CHECK_INT(out.c.status, 200);
    CHECK_STR(out.c.method, "PUT");
    CHECK_INT(nethttp_options_clear_body(options), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_method(options, "HEAD"), NETHTTP_RESULT_OK);
    run(client, dispatch, test_url(url, sizeof url, server.http_port, "/bytes/100"), options, &out, 0);
    CHECK_INT(out.c.status, 200);
    CHECK_STR(out.c.method, "HEAD");
    CHECK(out.c.timing[NETHTTP_TIMING_FIRST_BYTE] >= 0);

    /* A refused connection: no TLS, no first byte; its method still. */
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/", test_closed_port());
    CHECK_INT(nethttp_options_set_method(options, NULL), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body(options, "x", 1), NETHTTP_RESULT_OK);
    run(client, dispatch, refused, options, &out, 0);
    t = out.c.timing;
    CHECK_INT(out.c.status, 0);
    CHECK_STR(out.capture.error, "connection-refused");
    CHECK_STR(out.c.method, "POST");
    CHECK_INT(t[NETHTTP_TIMING_CONNECT], -1); /* the connection never happened */
    CHECK_INT(t[NETHTTP_TIMING_TLS], -1);
    CHECK_INT(t[NETHTTP_TIMING_FIRST_BYTE], -1);
    CHECK(t[NETHTTP_TIMING_TOTAL] >= 0);
    run(client, dispatch, refused, NULL, &out, 0);
    CHECK_STR(out.c.method, "GET");

    /* Cancelled while waiting for the response, on the reused connection:
     * connected (CONNECT 0 on a reused one), no first byte. */
    run(client, dispatch, test_url(url, sizeof url, server.http_port, "/hold?ms=5000"), NULL, &out, 300);
    t = out.c.timing;
    CHECK_INT(out.c.status, 0);
    CHECK_STR(out.capture.error, "cancelled");
    CHECK_STR(out.c.method, "GET");
    CHECK(t[NETHTTP_TIMING_CONNECT] >= 0);
    CHECK_INT(t[NETHTTP_TIMING_FIRST_BYTE], -1);
    CHECK(t[NETHTTP_TIMING_TOTAL] >= 0);

    /* The same on a new connection, to a hand-driven server: cancelled once
     * the server has read the request. */
    {
        int port = 0, conn;
        int listener = test_loopback_listener(4, &port);
        char manual[128];
        CHECK(listener >= 0);
        snprintf(manual, sizeof manual, "http://127.0.0.1:%d/manual", port);
        memset(&out, 0, sizeof out);
        capture_init(&out.capture);
        out.request = nethttp_client_request(client, manual, NULL, callback, &out.capture);
        conn = test_accept_request(listener, 20000);
        CHECK(conn >= 0);
        CHECK_INT(nethttp_request_cancel(out.request), NETHTTP_RESULT_OK);
        if (dispatch) {
            CHECK_INT(test_dispatch_until(client, &out.capture.calls, 1, 20000), 1);
        } else {
            CHECK_INT(capture_wait(&out.capture, 1, 20000), 1);
        }
        check_pair(&out, dispatch);
        check_order(out.c.timing, manual);
        t = out.c.timing;
        CHECK_STR(out.capture.error, "cancelled");
        CHECK(t[NETHTTP_TIMING_DNS] >= 0);
        CHECK(t[NETHTTP_TIMING_CONNECT] >= 0);
        CHECK_INT(t[NETHTTP_TIMING_TLS], -1);
        CHECK_INT(t[NETHTTP_TIMING_FIRST_BYTE], -1);
        capture_free(&out.capture);
        if (conn >= 0) {
            close(conn);
        }
        close(listener);
    }

    /* HTTPS, verified against the test certificate: TLS happened. */
    nethttp_options_free(options);
    options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    run(client, dispatch, test_https_url(url, sizeof url, server.https_port, "/echo"), options, &out, 0);
    t = out.c.timing;
    CHECK_INT(out.c.status, 200);
    CHECK(t[NETHTTP_TIMING_DNS] >= 0);
    CHECK(t[NETHTTP_TIMING_CONNECT] >= 0);
    CHECK(t[NETHTTP_TIMING_TLS] >= 0);
    CHECK(t[NETHTTP_TIMING_TLS] >= t[NETHTTP_TIMING_CONNECT]);
    CHECK(t[NETHTTP_TIMING_FIRST_BYTE] >= t[NETHTTP_TIMING_TLS]);
    CHECK(t[NETHTTP_TIMING_TOTAL] >= t[NETHTTP_TIMING_FIRST_BYTE]);
    nethttp_options_free(options);

    /* Destroyed before it completed: never observed, never called back. */
    {
        struct capture c;
        struct nethttp_request *doomed;
        capture_init(&c);
        doomed = nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/200"), NULL,
                                        callback, &c);
        CHECK(doomed != NULL);
        nethttp_destroy_request(doomed);
        /* A later, slower request completing shows the doomed one had time. */
        run(client, dispatch, test_url(url, sizeof url, server.http_port, "/delay/600"), NULL, &out, 0);
        if (dispatch) {
            test_dispatch_for(client, 200);
        } else {
            test_sleep_ms(200);
        }
        CHECK_INT(find('O', doomed, NULL), 0);
        CHECK_INT(find('C', doomed, NULL), 0);
        CHECK_INT(c.calls, 0);
        capture_free(&c);
    }

    /* nethttp_fetch: observed too, before it returns (in dispatch mode on
     * this thread). */
    {
        struct nethttp_response *response =
            nethttp_fetch(client, test_url(url, sizeof url, server.http_port, "/status/201"), NULL);
        struct event o;
        CHECK(response != NULL);
        if (response != NULL) {
            CHECK_INT(find('O', nethttp_response_request(response), &o), 1);
            CHECK_INT(o.status, 201);
            CHECK(pthread_equal(o.thread, pthread_self()) == (dispatch != 0));
            CHECK_INT(find('C', nethttp_response_request(response), NULL), 0);
            check_order(o.timing, "fetch");
            CHECK_STR(nethttp_response_method(response), "GET");
        } else {
            fprintf(stderr, "nethttp_fetch: %s\n", nethttp_last_error());
        }
        nethttp_response_free(response);
    }

    /* Every event so far was a pair (observer then callback) or a fetch. */
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

static void check_edges(void) {
    struct nethttp_client *client = observed_client(0);
    struct capture c;
    capture_init(&c);
    c.keep = 1;
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), NULL,
                                 capture_callback, &c) != NULL);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK(c.response != NULL);
    CHECK_INT(nethttp_response_timing_us(c.response, 5), -1);  /* unknown phase */
    CHECK_INT(nethttp_response_timing_us(c.response, -1), -1);
    CHECK_INT(nethttp_response_timing_us(c.response, 1000000), -1);
    CHECK(nethttp_response_timing_us(c.response, NETHTTP_TIMING_TOTAL) >= 0);
    CHECK_STR(nethttp_response_method(c.response), "GET"); /* kept: still valid */
    CHECK_INT(nethttp_response_timing_us(NULL, NETHTTP_TIMING_TOTAL), -1);
    CHECK(nethttp_response_method(NULL) == NULL);
    nethttp_destroy_request(c.request);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    if (server.cert_file[0] == '\0') {
        fprintf(stderr, "usage: %s PORT_FILE CERT_FILE\n", argv[0]);
        return 2;
    }
    check_client(0);
    check_client(1);
    check_edges();
    return test_finish("test_client_observer");
}
