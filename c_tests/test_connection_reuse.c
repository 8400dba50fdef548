/* Connection reuse does not depend on how many transfers are in flight: with
 * more transfers running than the number of idle connections a client keeps
 * (1,024), a request that follows another to the same server still reuses
 * its connection. (libcurl's CURLMOPT_MAXCONNECTS counts the connections in
 * use too: a fixed limit below the transfers in flight made every new
 * request connect anew.) The test server's /track names the connection that
 * served each request. */
#include <stdatomic.h>
#include <sys/resource.h>

#include "hold_server.h"
#include "test_util.h"

#define HELD 1500
#define HOLD_MS 8000
#define SEQUENTIAL 20

static atomic_int held_done, held_ok;

static int held_callback(const char *body, size_t body_len, int status,
                         const struct nethttp_response *response, void *userdata) {
    (void)body, (void)body_len, (void)userdata;
    if (status == 200) {
        atomic_fetch_add(&held_ok, 1);
    } else {
        fprintf(stderr, "held request: status %d, %s (%s)\n", status,
                nethttp_strerror((int)nethttp_response_error_code(response)),
                nethttp_response_error_detail(response));
    }
    atomic_fetch_add(&held_done, 1);
    return 0;
}

/* Makes SEQUENTIAL requests one after the other on `client`; returns how
 * many distinct server connections served them (-1 on a failed request). */
static int distinct_connections(struct nethttp_client *client, struct test_server *server) {
    int conns[SEQUENTIAL], distinct = 0, i, j;
    char url[256];
    test_url(url, sizeof url, server->http_port, "/track?tag=reuse");
    for (i = 0; i < SEQUENTIAL; i++) {
        struct capture c;
        int conn = -1, peak = -1;
        capture_init(&c);
        if (!capture_client_fetch(client, &c, url, NULL) || c.status != 200 || !c.body ||
            sscanf(c.body, "conn %d peak %d", &conn, &peak) != 2) {
            fprintf(stderr, "sequential request %d: status %d\n", i, c.status);
            capture_free(&c);
            return -1;
        }
        capture_free(&c);
        for (j = 0; j < distinct && conns[j] != conn; j++) {
        }
        if (j == distinct) {
            conns[distinct++] = conn;
        }
    }
    return distinct;
}

int main(int argc, char **argv) {
    struct test_server server = test_server_from_args(argc, argv);
    struct nethttp_client *client;
    struct rlimit limit;
    int hold_port = 0, distinct;
    double end;
    pid_t child;

    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < HELD + 500 && limit.rlim_max >= HELD + 500) {
        limit.rlim_cur = HELD + 500;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < HELD + 500) {
        printf("SKIP: RLIMIT_NOFILE %llu is below %d\n", (unsigned long long)limit.rlim_cur, HELD + 500);
        return 77;
    }
    client = test_client_new(0, 0, 0, NULL); /* epoll engine when NETHTTP_TEST_EPOLL=1 */

    /* Few in flight: the requests share one connection. */
    distinct = distinct_connections(client, &server);
    printf("%d sequential requests, nothing else in flight: %d connection(s)\n", SEQUENTIAL, distinct);
    CHECK(distinct >= 1 && distinct <= 2);

    /* HELD transfers held by another server, then the same requests. */
    child = hold_server_start(HELD + 64, HOLD_MS, &hold_port);
    CHECK(child > 0);
    CHECK_INT(hold_server_requests(client, hold_port, HELD, 60000, held_callback), HELD);
    test_sleep_ms(1500); /* all connected long before they are answered */
    distinct = distinct_connections(client, &server);
    printf("%d sequential requests beside %d in flight: %d connection(s)\n", SEQUENTIAL, HELD, distinct);
    CHECK(distinct >= 1 && distinct <= 2);
    CHECK_INT(atomic_load(&held_done), 0); /* still held while we measured */

    end = test_now_ms() + HOLD_MS + 30000;
    while (atomic_load(&held_done) < HELD && test_now_ms() < end) {
        test_sleep_ms(20);
    }
    CHECK_INT(atomic_load(&held_ok), HELD);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    hold_server_stop(child);
    return test_finish("test_connection_reuse");
}
