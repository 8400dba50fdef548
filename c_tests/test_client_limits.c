/* Connection limits of a client (nethttp_client_config_set_max_connections):
 * requests over a limit wait and all complete; the server never
 * sees more connections at once than the limit allows. Measured with the test
 * server's /track (the most requests of one tag served at once, and the
 * connection of each) and checked against clients without the limit, so
 * that each check can fail. */
#include "test_util.h"

static struct test_server server;
static char url[256];
static int next_tag;

struct batch_result {
    int completed;     /* callbacks */
    int ok;            /* of which 200 */
    int peak;          /* largest "peak P" */
    int distinct;      /* distinct "conn ID" */
};

/* Runs `n` requests at once on `client` to /track with a fresh tag, half of
 * them to 127.0.0.1 and half to localhost when `two_hosts`, each held `ms`
 * by the server; waits for all. */
static struct batch_result run_batch(struct nethttp_client *client, int n, int ms, int two_hosts) {
    struct capture c[16];
    struct batch_result result;
    int conns[16], i, j, tag = ++next_tag;
    char path[128];
    memset(&result, 0, sizeof result);
    if (n > 16) {
        n = 16;
    }
    snprintf(path, sizeof path, "/track?tag=%ld-%d&ms=%d", (long)getpid(), tag, ms);
    for (i = 0; i < n; i++) {
        capture_init(&c[i]);
        if (two_hosts && i % 2 == 1) {
            snprintf(url, sizeof url, "http://localhost:%d%s", server.http_port, path);
        } else {
            test_url(url, sizeof url, server.http_port, path);
        }
        CHECK(nethttp_client_request(client, url, NULL, capture_callback, &c[i]) != NULL);
    }
    for (i = 0; i < n; i++) {
        int conn = -1, peak = -1;
        if (capture_wait(&c[i], 1, 30000) != 1) {
            continue;
        }
        result.completed++;
        if (c[i].status != 200 || c[i].body == NULL || sscanf(c[i].body, "conn %d peak %d", &conn, &peak) != 2) {
            fprintf(stderr, "request %d: status %d, %s\n", i, c[i].status, c[i].body ? c[i].body : "(null)");
            continue;
        }
        result.ok++;
        if (peak > result.peak) {
            result.peak = peak;
        }
        for (j = 0; j < result.distinct && conns[j] != conn; j++) {
        }
        if (j == result.distinct) {
            conns[result.distinct++] = conn;
        }
    }
    for (i = 0; i < n; i++) {
        capture_free(&c[i]);
    }
    return result;
}

static void check_per_host(void) {
    struct nethttp_client *limited = test_client_new(0, 0, 2, NULL);
    struct nethttp_client *unlimited = test_client_new(0, 0, 0, NULL);
    struct batch_result r;

    r = run_batch(limited, 10, 300, 0);
    CHECK_INT(r.completed, 10);
    CHECK_INT(r.ok, 10); /* waiting requests are not failed */
    CHECK(r.peak >= 1);
    CHECK(r.peak <= 2);
    CHECK(r.distinct >= 1);
    CHECK(r.distinct <= 2);
    printf("per_host 2: peak %d, %d connections\n", r.peak, r.distinct);

    /* The same batch without the limit: the checks above can fail. */
    r = run_batch(unlimited, 10, 300, 0);
    CHECK_INT(r.ok, 10);
    CHECK(r.peak > 2);
    CHECK(r.distinct > 2);
    printf("no limit: peak %d, %d connections\n", r.peak, r.distinct);

    /* per_host applies per host: two hosts get two connections each. */
    r = run_batch(limited, 12, 300, 1);
    CHECK_INT(r.ok, 12);
    CHECK(r.peak <= 4);
    CHECK(r.peak > 2);
    printf("per_host 2, two hosts: peak %d, %d connections\n", r.peak, r.distinct);

    CHECK_INT(nethttp_client_free(limited, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(unlimited, 0), NETHTTP_RESULT_OK);
}

/* total = 2 over two hosts (127.0.0.1 and localhost are different hosts). */
static void check_total(void) {
    struct nethttp_client *limited = test_client_new(0, 2, 0, NULL);
    struct batch_result r;
    r = run_batch(limited, 10, 300, 1);
    CHECK_INT(r.completed, 10);
    CHECK_INT(r.ok, 10);
    CHECK(r.peak >= 1);
    CHECK(r.peak <= 2);
    printf("total 2, two hosts: peak %d, %d connections\n", r.peak, r.distinct);
    /* Not "at most 2 distinct connections": an idle connection to one host
     * is closed to make room for the other host (idle ones do not count). */
    CHECK_INT(nethttp_client_free(limited, 0), NETHTTP_RESULT_OK);
    /* check_per_host showed two hosts reaching more than 2 without a total
     * limit, so the check above can fail. */
}

/* Time spent waiting behind a limit counts towards the total timeout. */
static void check_wait_counts_towards_timeout(void) {
    struct nethttp_client *client = test_client_new(0, 0, 1, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct capture holder, waiter;
    capture_init(&holder);
    capture_init(&waiter);
    CHECK_INT(nethttp_options_set_timeout_ms(options, 300), NETHTTP_RESULT_OK);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/hold?ms=2000"), NULL,
                                 capture_callback, &holder) != NULL);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/echo"), options,
                                 capture_callback, &waiter) != NULL);
    CHECK_INT(capture_wait(&waiter, 1, 20000), 1);
    CHECK_INT(waiter.status, 0);
    CHECK_STR(waiter.error, "timeout");
    CHECK_INT(capture_wait(&holder, 1, 20000), 1);
    CHECK_INT(holder.status, 200);
    capture_free(&holder);
    capture_free(&waiter);
    nethttp_options_free(options);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Idle connections kept for reuse do not count: with total = 1 and an idle
 * connection to 127.0.0.1, a request to localhost still goes through, and
 * so does one back to 127.0.0.1. */
static void check_idle_connections_do_not_count(void) {
    struct nethttp_client *client = test_client_new(0, 1, 0, NULL);
    struct capture a, b, c;
    capture_init(&a);
    capture_init(&b);
    capture_init(&c);
    CHECK(capture_client_fetch(client, &a, test_url(url, sizeof url, server.http_port, "/conn"), NULL));
    snprintf(url, sizeof url, "http://localhost:%d/conn", server.http_port);
    CHECK(capture_client_fetch(client, &b, url, NULL));
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/conn"), NULL));
    CHECK_INT(a.status, 200);
    CHECK_INT(b.status, 200);
    CHECK_INT(c.status, 200);
    capture_free(&a);
    capture_free(&b);
    capture_free(&c);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

/* Requests over a limit wait and all complete, each exactly once (no order
 * is promised). Dispatch mode makes the count exact. */
static int count_callback(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                          void *userdata) {
    int *counts = (int *)userdata;
    (void)body;
    (void)body_len;
    (void)response;
    counts[0]++;
    counts[1] += status == 200;
    return 0;
}

static void check_all_complete_once(void) {
    struct nethttp_client *client = test_client_new(1, 1, 1, NULL);
    int counts[2] = {0, 0}, i;
    for (i = 0; i < 8; i++) {
        CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/delay/50"), NULL,
                                     count_callback, counts) != NULL);
    }
    CHECK_INT(test_dispatch_until(client, &counts[0], 8, 20000), 8);
    CHECK_INT(test_dispatch_for(client, 300), 0);
    CHECK_INT(counts[0], 8);
    CHECK_INT(counts[1], 8);
    CHECK_INT(nethttp_client_live_requests(client), 0);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    check_per_host();
    check_total();
    check_wait_counts_towards_timeout();
    check_idle_connections_do_not_count();
    check_all_complete_once();
    return test_finish("test_client_limits");
}
