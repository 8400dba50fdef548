/* Streamed downloads (nethttp_options_set_data_callback): 256 MiB arrive
 * through the data callback in order, byte for byte, while the process's
 * peak memory stays under 32 MiB; PAUSE stops the chunks until
 * nethttp_request_resume(); any other non-zero return aborts with one final
 * callback "aborted"; max_body does not limit a streamed body; and in
 * dispatch mode a consumer that lags makes the transfer wait instead of
 * nethttp buffering the body. */
#include "test_stream_util.h"

#define MIB (1024ull * 1024ull)
#define BIG (256ull * MIB)

static struct transport_server server;
static char url[512];

/* Engine thread: 256 MiB, every byte checked, the final callback with an
 * empty body. */
static void check_big_download(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct sink s;
    struct capture c;
    sink_init(&s, 1);
    capture_init(&c);
    CHECK_INT(nethttp_options_set_data_callback(options, sink_callback, &s), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/%llu", server.http_port, BIG);
    CHECK(nethttp_client_request(client, url, options, capture_callback, &c) != NULL);
    CHECK_INT(capture_wait(&c, 1, 120000), 1);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    CHECK_INT(c.body_len, 0); /* the body went to the data callback */
    CHECK(s.bytes == BIG);
    CHECK_INT(s.bad_chunks, 0);
    CHECK_INT(s.bad_head, 0);
    CHECK_INT(s.empty_chunks, 0);
    CHECK(s.chunks > 1);
    printf("256 MiB in %llu chunks\n", (unsigned long long)s.chunks);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
    sink_free(&s);
}

/* PAUSE after the first MiB: no chunk for 300 ms; resumed from this thread,
 * every byte still arrives. */
static void check_pause_resume(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_request *request;
    struct sink s;
    struct capture c;
    uint64_t chunks_then, chunks_now, bytes;
    int paused = 0, i;
    sink_init(&s, 1);
    s.pause_at = MIB;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_data_callback(options, sink_callback, &s), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/%llu", server.http_port, 16 * MIB);
    request = nethttp_client_request(client, url, options, capture_callback, &c);
    CHECK(request != NULL);
    for (i = 0; i < 2000 && !paused; i++) {
        SINK_GET(&s, paused, paused);
        if (!paused) {
            test_sleep_ms(10);
        }
    }
    CHECK(paused);
    SINK_GET(&s, chunks, chunks_then);
    test_sleep_ms(300);
    SINK_GET(&s, chunks, chunks_now);
    CHECK(chunks_now == chunks_then); /* nothing while paused */
    CHECK_INT(c.calls, 0);
    CHECK(chunks_then == s.chunks_at_pause);
    CHECK_INT(nethttp_request_resume(request), NETHTTP_RESULT_OK);
    CHECK_INT(capture_wait(&c, 1, 60000), 1);
    CHECK_INT(c.status, 200);
    SINK_GET(&s, bytes, bytes);
    CHECK(bytes == 16 * MIB);
    CHECK_INT(s.bad_chunks, 0);
    CHECK_INT(nethttp_request_resume(NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_request_resume(request), NETHTTP_RESULT_OK); /* ended: a no-op */
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
    sink_free(&s);
}

/* The same in dispatch mode: the data callback runs in
 * nethttp_client_dispatch() on this thread; while paused, dispatching
 * brings no chunk. */
static void check_pause_resume_dispatch(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct nethttp_request *request;
    /* Static: they must outlive a client left running (see below). */
    static struct sink s;
    static struct capture c;
    uint64_t chunks_then;
    sink_init(&s, 1);
    s.pause_at = MIB;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_data_callback(options, sink_callback, &s), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/%llu", server.http_port, 16 * MIB);
    request = nethttp_client_request(client, url, options, capture_callback, &c);
    CHECK(request != NULL);
    test_dispatch_until(client, &s.paused, 1, 10000);
    CHECK(s.paused);
    chunks_then = s.chunks;
    test_dispatch_for(client, 300);
    CHECK(s.chunks == chunks_then); /* nothing while paused */
    CHECK_INT(c.calls, 0);
    CHECK_INT(nethttp_request_resume(request), NETHTTP_RESULT_OK);
    CHECK_INT(test_dispatch_until(client, &c.calls, 1, 10000), 1);
    CHECK_INT(c.status, 200);
    CHECK(s.bytes == 16 * MIB);
    CHECK_INT(s.bad_chunks, 0);
    nethttp_options_free(options);
    if (c.calls == 0) {
        fprintf(stderr, "  no final callback after the resume: the client is not freed\n");
        return;
    }
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    capture_free(&c);
    sink_free(&s);
}

/* A data callback returning something else than 0 or PAUSE aborts: one
 * final callback, status 0, "aborted", and no chunk after it; on the engine
 * thread or in dispatch mode. */
static void check_abort(int abort_value, int dispatch) {
    struct nethttp_client *client = test_client_new(dispatch, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    /* Static: they must outlive a client left running (see below). */
    static struct sink s;
    static struct capture c;
    sink_init(&s, 1);
    s.abort_at = MIB;
    s.abort_value = abort_value;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_data_callback(options, sink_callback, &s), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/%llu", server.http_port, 64 * MIB);
    CHECK(nethttp_client_request(client, url, options, capture_callback, &c) != NULL);
    if (dispatch) {
        CHECK_INT(test_dispatch_until(client, &c.calls, 1, 10000), 1);
        test_dispatch_for(client, 300);
        CHECK_INT(c.calls, 1); /* exactly one */
    } else {
        CHECK_INT(capture_wait(&c, 1, 60000), 1);
        CHECK_INT(capture_wait(&c, 2, 300), 1); /* exactly one */
    }
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "aborted");
    CHECK_INT(c.error_code, NETHTTP_RESULT_ABORTED);
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_ABORTED), "aborted");
    CHECK(s.aborted);
    CHECK_INT(s.chunks_after_abort, 0);
    CHECK(s.bytes < 64 * MIB);
    if (c.calls == 0) {
        /* Freeing a client waits for its requests' callbacks: it would
         * hang, and hide the rest of the test. */
        fprintf(stderr, "  no final callback after the abort: the client is not freed\n");
    } else {
        CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    }
    nethttp_options_free(options);
    if (c.calls != 0) {
        capture_free(&c);
        sink_free(&s);
    }
}

/* max_body counts what nethttp holds: a streamed body is not held. */
static void check_max_body_ignored(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct sink s;
    struct capture c;
    sink_init(&s, 1);
    capture_init(&c);
    CHECK_INT(nethttp_options_set_max_body(options, 1000), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_data_callback(options, sink_callback, &s), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/%llu", server.http_port, 4 * MIB);
    CHECK(capture_client_fetch(client, &c, url, options));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    CHECK(s.bytes == 4 * MIB);
    CHECK_INT(s.bad_chunks, 0);
    /* Chunked too (no Content-Length to check up front). */
    sink_free(&s);
    sink_init(&s, 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/chunked/%llu?chunk=65536", server.http_port, 4 * MIB);
    CHECK(capture_client_fetch(client, &c, url, options));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    CHECK(s.bytes == 4 * MIB);
    CHECK_INT(s.bad_chunks, 0);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
    sink_free(&s);
}

/* Dispatch mode, a consumer that lags: it dispatches a few callbacks at a
 * time with pauses in between. The transfer must wait for it: the test
 * server (which counts what it has handed to the kernel for this tag)
 * has sent far less than the 256 MiB body meanwhile; if nethttp buffered
 * the queued chunks without bound, loopback would have carried all of it
 * in well under the time the consumer lags. Then the consumer catches up
 * and every byte arrives, in order. */
static void check_slow_dispatch_consumer(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct sink s;
    struct capture c;
    char tag[64], text[256];
    unsigned long long sent = 0;
    double until;
    int fd = nethttp_client_fd(client);
    sink_init(&s, 1);
    capture_init(&c);
    snprintf(tag, sizeof tag, "download-%ld-%s", (long)getpid(), getenv("NETHTTP_TEST_EPOLL") ? "e" : "p");
    CHECK_INT(nethttp_options_set_data_callback(options, sink_callback, &s), NETHTTP_RESULT_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes/%llu?tag=%s", server.http_port, BIG, tag);
    CHECK(nethttp_client_request(client, url, options, capture_callback, &c) != NULL);
    /* Lag for 2 s: at most 4 callbacks every 100 ms. */
    until = test_now_ms() + 2000;
    while (test_now_ms() < until) {
        if (test_readable(fd, 100)) {
            nethttp_client_dispatch(client, 4);
        }
        test_sleep_ms(100);
    }
    CHECK_INT(c.calls, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/sent?tag=%s", server.http_port, tag);
    CHECK_INT(stream_get_text(url, text, sizeof text), 200);
    CHECK(sscanf(text, "sent %llu", &sent) == 1);
    printf("slow consumer: %llu bytes consumed, server sent %llu of %llu in 2 s\n",
           (unsigned long long)s.bytes, sent, BIG);
    CHECK(sent < BIG / 2);
    CHECK(s.bytes < BIG / 2);
    /* Catch up. */
    test_dispatch_until(client, &c.calls, 1, 120000);
    CHECK_INT(c.calls, 1);
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    CHECK(s.bytes == BIG);
    CHECK_INT(s.bad_chunks, 0);
    CHECK_INT(s.bad_head, 0);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
    sink_free(&s);
}

/* NULL arguments. */
static void check_arguments(void) {
    struct nethttp_options *options = nethttp_options_new();
    CHECK_INT(nethttp_options_set_data_callback(NULL, sink_callback, NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    long peak;
    server = transport_server_from_args(argc, argv);
    stream_pattern_init();
    check_arguments();
    check_big_download();
    check_pause_resume();
    check_pause_resume_dispatch();
    check_abort(-1, 0);
    check_abort(2, 0);
    check_abort(-1, 1);
    check_max_body_ignored();
    check_slow_dispatch_consumer();
    peak = stream_peak_rss_kib();
    printf("peak RSS %ld KiB\n", peak);
    CHECK(peak > 0);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed memory in quarantine and adds shadow memory: the
     * process's RSS says nothing about nethttp's buffering there. The plain
     * build checks it. */
    printf("peak RSS not checked under AddressSanitizer\n");
#else
    CHECK(peak < 32 * 1024);
#endif
    return test_finish("test_stream_download");
}
