/* HTTP/2 (nethttp_options_set_http_version, nethttp_response_http_version)
 * against server/h2_server.py, whose ports are in PORT_FILE.h2 ("TLS_PORT
 * H2C_PORT"): over TLS the default negotiates h2 (ALPN) and concurrent
 * requests share one connection (multiplexing); HTTP_VERSION_1_1 gets
 * HTTP/1.1 from the same server; prior knowledge speaks h2 on plain http;
 * bodies of several flow-control windows arrive whole; a server offering
 * only http/1.1 (the main test server) gets 11; a failed request reports 0. */
#include "test_stream_util.h"

#define CONCURRENT 8

static struct transport_server server;
static int h2_tls_port, h2c_port;
static char url[512];

/* Every response of a batch: its body (first line) and HTTP version. */
struct batch {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    int status[CONCURRENT];
    int version[CONCURRENT];
    char body[CONCURRENT][128];
};

static int batch_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    struct batch *b = (struct batch *)userdata;
    pthread_mutex_lock(&b->lock);
    if (b->calls < CONCURRENT) {
        b->status[b->calls] = status;
        b->version[b->calls] = nethttp_response_http_version(response);
        snprintf(b->body[b->calls], sizeof b->body[0], "%.*s", (int)(body_len < 127 ? body_len : 127), body);
    }
    b->calls++;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return 0;
}

static int batch_wait(struct batch *b, int calls, long timeout_ms) {
    double deadline = test_now_ms() + (double)timeout_ms;
    int seen;
    pthread_mutex_lock(&b->lock);
    while (b->calls < calls && test_now_ms() < deadline) {
        pthread_mutex_unlock(&b->lock);
        test_sleep_ms(10);
        pthread_mutex_lock(&b->lock);
    }
    seen = b->calls;
    pthread_mutex_unlock(&b->lock);
    return seen;
}

static void read_h2_ports(const char *port_file) {
    char path[4200];
    FILE *f;
    snprintf(path, sizeof path, "%s.h2", port_file);
    f = fopen(path, "r");
    if (f == NULL || fscanf(f, "%d %d", &h2_tls_port, &h2c_port) != 2) {
        fprintf(stderr, "cannot read the HTTP/2 server's ports from %s (is the h2_server fixture running?)\n", path);
        exit(2);
    }
    fclose(f);
}

/* One request; the body's first bytes and the version. */
static int fetch_version(struct nethttp_client *client, const char *u, const struct nethttp_options *options,
                         struct capture *c) {
    c->keep = 1;
    if (!capture_client_fetch(client, c, u, options) || c->response == NULL) {
        return -1;
    }
    if (c->status == 0) {
        fprintf(stderr, "  %s: %s (%s)\n", u, c->error, c->detail);
    }
    {
        int version = nethttp_response_http_version(c->response);
        nethttp_destroy_request(c->request);
        c->response = NULL;
        return version;
    }
}

/* CONCURRENT requests at once over TLS, default version: all h2, one
 * connection, and the server saw them in flight together. */
static void check_multiplexing(const struct nethttp_options *options) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct batch b;
    char tag[64];
    int i, first_conn = -1, same = 1, max_peak = 0;
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    snprintf(tag, sizeof tag, "mux-%ld-%s", (long)getpid(), getenv("NETHTTP_TEST_EPOLL") ? "e" : "p");
    snprintf(url, sizeof url, "https://127.0.0.1:%d/track?tag=%s&ms=500", h2_tls_port, tag);
    for (i = 0; i < CONCURRENT; i++) {
        CHECK(nethttp_client_request(client, url, options, batch_callback, &b) != NULL);
    }
    CHECK_INT(batch_wait(&b, CONCURRENT, 30000), CONCURRENT);
    for (i = 0; i < CONCURRENT && i < b.calls; i++) {
        int conn = -1, peak = 0;
        char proto[16] = "";
        CHECK_INT(b.status[i], 200);
        CHECK_INT(b.version[i], 20);
        CHECK(sscanf(b.body[i], "conn %d peak %d proto %15s", &conn, &peak, proto) == 3);
        CHECK_STR(proto, "h2");
        if (first_conn < 0) {
            first_conn = conn;
        } else if (conn != first_conn) {
            same = 0;
        }
        max_peak = peak > max_peak ? peak : max_peak;
    }
    printf("multiplexing: %d responses, one connection: %s, peak %d in flight\n", b.calls, same ? "yes" : "no",
           max_peak);
    if (!same) {
        for (i = 0; i < CONCURRENT && i < b.calls; i++) {
            fprintf(stderr, "  %s\n", b.body[i]);
        }
    }
    CHECK(same);
    CHECK(max_peak > 1);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    pthread_mutex_destroy(&b.lock);
    pthread_cond_destroy(&b.cond);
}

static void check_versions(struct nethttp_options *options) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct capture c;
    capture_init(&c);

    /* Default over TLS: h2. */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/conn", h2_tls_port);
    CHECK_INT(fetch_version(client, url, options, &c), 20);
    CHECK(c.body != NULL && strstr(c.body, "proto h2") != NULL);

    /* HTTP/2 asked for: the same. */
    CHECK_INT(nethttp_options_set_http_version(options, NETHTTP_HTTP_VERSION_2), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_version(client, url, options, &c), 20);

    /* HTTP/1.1 asked for, same server: 1.1. */
    CHECK_INT(nethttp_options_set_http_version(options, NETHTTP_HTTP_VERSION_1_1), NETHTTP_RESULT_OK);
    CHECK_INT(fetch_version(client, url, options, &c), 11);
    CHECK(c.body != NULL && strstr(c.body, "proto http/1.1") != NULL);

    /* Prior knowledge on plain http: h2 without negotiation. */
    CHECK_INT(nethttp_options_set_http_version(options, NETHTTP_HTTP_VERSION_2_PRIOR_KNOWLEDGE), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/conn", h2c_port);
    CHECK_INT(fetch_version(client, url, options, &c), 20);
    CHECK(c.body != NULL && strstr(c.body, "proto h2") != NULL);

    /* A body of several flow-control windows (64 KiB each) over h2c, on a
     * client of its own (a new connection). */
    {
        struct nethttp_client *fresh = test_client_new(0, 0, 0, NULL);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/1048576", h2c_port);
        CHECK_INT(fetch_version(fresh, url, options, &c), 20);
        CHECK_INT(c.body_len, 1048576);
        CHECK(c.body_len == 1048576 && stream_pattern_matches(c.body, c.body_len, 0));
        CHECK_INT(nethttp_client_free(fresh, 0), NETHTTP_RESULT_OK);
    }

    /* A second request on the first client: the prior-knowledge connection
     * is reused (or a new one made), and works. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/conn", h2c_port);
    CHECK_INT(fetch_version(client, url, options, &c), 20);
    CHECK(c.body != NULL && strstr(c.body, "proto h2") != NULL);

    /* A POST body over h2 (TLS, default version). */
    CHECK_INT(nethttp_options_set_http_version(options, NETHTTP_HTTP_VERSION_DEFAULT), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_body(options, "hello h2", 8), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", h2_tls_port);
    CHECK_INT(fetch_version(client, url, options, &c), 20);
    CHECK(c.body != NULL && strncmp(c.body, "POST /echo\r\n", 12) == 0);
    CHECK(c.body_len >= 8 && memcmp(c.body + c.body_len - 8, "hello h2", 8) == 0);
    CHECK_INT(nethttp_options_clear_body(options), NETHTTP_RESULT_OK);

    /* Plain http by default: HTTP/1.1 (a client of its own: the first
     * one may hold a prior-knowledge connection to this port). */
    {
        struct nethttp_client *fresh = test_client_new(0, 0, 0, NULL);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/conn", h2c_port);
        CHECK_INT(fetch_version(fresh, url, options, &c), 11);
        CHECK(c.body != NULL && strstr(c.body, "proto http/1.1") != NULL);
        CHECK_INT(nethttp_client_free(fresh, 0), NETHTTP_RESULT_OK);
    }
    /* The same on the first client, which may hold a prior-knowledge
     * connection to this port: the request works, in HTTP/1.1 or, where
     * libcurl reuses that connection (8.x; 7.88's are not kept), HTTP/2. */
    {
        int version = fetch_version(client, url, options, &c);
        CHECK(version == 11 || version == 20);
        CHECK_INT(c.status, 200);
    }

    /* A TLS server offering only http/1.1 (the main test server): 11. */
    snprintf(url, sizeof url, "https://127.0.0.1:%d/echo", server.https_port);
    CHECK_INT(fetch_version(client, url, options, &c), 11);

    /* No response: 0. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", test_closed_port());
    CHECK_INT(fetch_version(client, url, options, &c), 0);
    CHECK_INT(c.status, 0);
    CHECK_INT(nethttp_response_http_version(NULL), 0);

    CHECK_INT(nethttp_options_set_http_version(NULL, NETHTTP_HTTP_VERSION_2), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    capture_free(&c);
}

int main(int argc, char **argv) {
    struct nethttp_options *options;
    server = transport_server_from_args(argc, argv);
    stream_pattern_init();
    if (transport_skip_without("http2", "test_http2")) {
        return test_finish("test_http2");
    }
    read_h2_ports(argv[1]);
    options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    check_versions(options);
    nethttp_options_free(options);
    options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_ca_file(options, server.cert_file), NETHTTP_RESULT_OK);
    check_multiplexing(options);
    nethttp_options_free(options);
    return test_finish("test_http2");
}
