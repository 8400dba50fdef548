/* Streamed uploads: 256 MiB from a read callback with a known length (sent
 * with Content-Length) and with length -1 (sent chunked), and 256 MiB from
 * a file, each checked by the test server's /digest (it reads the body as it
 * comes and reports its length, SHA-256, whether it came chunked and whether
 * it is the /bytes pattern); a read callback returning -1 aborts with one
 * callback "aborted"; a body callback or file makes the request a POST
 * unless a method is set; the read callback runs on an engine thread, also
 * for a client in dispatch mode; a missing file is refused with an error
 * naming it. */
#include "test_stream_util.h"

#define MIB (1024ull * 1024ull)
#define BIG (256ull * MIB)

static struct transport_server server;
static char url[512];

/* Produces `total` bytes of the /bytes pattern; -1 once `abort_at` bytes
 * were produced (0: never). */
struct source {
    uint64_t total;
    uint64_t produced;
    uint64_t abort_at;
    int calls;
    int calls_after_end;  /* calls after it returned 0 or -1 */
    int ended;
    int off_engine;       /* calls on another thread than `main_thread` */
    int zero_capacity;    /* calls with capacity 0 */
    pthread_t main_thread;
};

static void source_init(struct source *src, uint64_t total) {
    memset(src, 0, sizeof *src);
    src->total = total;
    src->main_thread = pthread_self();
}

static ptrdiff_t source_read(char *buffer, size_t capacity, void *userdata) {
    struct source *src = (struct source *)userdata;
    uint64_t left = src->total - src->produced;
    size_t n = capacity < left ? capacity : (size_t)left;
    src->calls++;
    if (src->ended) {
        src->calls_after_end++;
    }
    if (!pthread_equal(pthread_self(), src->main_thread)) {
        src->off_engine++;
    }
    if (capacity == 0) {
        src->zero_capacity++;
    }
    if (src->abort_at != 0 && src->produced >= src->abort_at) {
        src->ended = 1;
        return -1;
    }
    stream_pattern_fill(buffer, n, src->produced);
    src->produced += n;
    if (n == 0) {
        src->ended = 1;
    }
    return (ptrdiff_t)n;
}

/* What /digest answered. */
struct digest {
    unsigned long long bytes;
    char sha256[65];
    char chunked[4];
    char pattern[4];
};

static int parse_digest(const char *body, struct digest *d) {
    memset(d, 0, sizeof *d);
    return body != NULL && sscanf(body, "bytes %llu sha256 %64s chunked %3s pattern %3s", &d->bytes, d->sha256,
                                  d->chunked, d->pattern) == 4;
}

/* 256 MiB from the read callback; `length` BIG or -1. */
static void check_callback_upload(int64_t length) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct source src;
    struct capture c;
    struct digest d;
    source_init(&src, BIG);
    capture_init(&c);
    CHECK_INT(nethttp_options_set_body_callback(options, source_read, length, &src), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/digest"), options));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    CHECK(parse_digest(c.body, &d));
    printf("upload, length %lld: %s\n", (long long)length, c.body ? c.body : "(none)");
    CHECK(d.bytes == BIG);
    CHECK_STR(d.pattern, "yes");
    CHECK_STR(d.chunked, length < 0 ? "yes" : "no");
    CHECK(src.produced == BIG);
    CHECK_INT(src.calls_after_end, 0);
    CHECK_INT(src.zero_capacity, 0);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
}

/* 256 MiB from a file made here. */
static void check_file_upload(void) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct capture c;
    struct digest d;
    char path[] = "/tmp/nethttp-upload-XXXXXX";
    static char block[1024 * 1024];
    uint64_t written = 0;
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) {
        return;
    }
    while (written < BIG) {
        stream_pattern_fill(block, sizeof block, written);
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block) {
            CHECK(!"cannot write the upload file");
            break;
        }
        written += sizeof block;
    }
    close(fd);
    capture_init(&c);
    CHECK_INT(nethttp_options_set_body_file(options, path), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/digest"), options));
    CHECK_INT(c.status, 200);
    CHECK_STR(c.error, "");
    CHECK(parse_digest(c.body, &d));
    printf("upload from a file: %s\n", c.body ? c.body : "(none)");
    CHECK(d.bytes == BIG);
    CHECK_STR(d.pattern, "yes");
    CHECK_STR(d.chunked, "no"); /* a file has a known length */
    unlink(path);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
}

/* -1 from the read callback: one callback, status 0, "aborted". */
static void check_read_abort(int64_t length) {
    struct nethttp_client *client = test_client_new(0, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct source src;
    struct capture c;
    source_init(&src, 64 * MIB);
    src.abort_at = MIB;
    capture_init(&c);
    CHECK_INT(nethttp_options_set_body_callback(options, source_read, length, &src), NETHTTP_RESULT_OK);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/digest"), options,
                                 capture_callback, &c) != NULL);
    CHECK_INT(capture_wait(&c, 1, 60000), 1);
    CHECK_INT(capture_wait(&c, 2, 300), 1); /* exactly one */
    CHECK_INT(c.status, 0);
    CHECK_STR(c.error, "aborted");
    CHECK_INT(c.error_code, NETHTTP_RESULT_ABORTED);
    CHECK(src.ended);
    CHECK_INT(src.calls_after_end, 0);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
}

/* A body callback makes a POST unless a method is set; in dispatch mode
 * the read callback still runs on an engine thread. */
static void check_method_and_thread(void) {
    struct nethttp_client *client = test_client_new(1, 0, 0, NULL);
    struct nethttp_options *options = nethttp_options_new();
    struct source src;
    struct capture c;
    source_init(&src, 10);
    capture_init(&c);
    CHECK_INT(nethttp_options_set_body_callback(options, source_read, 10, &src), NETHTTP_RESULT_OK);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK_INT(c.status, 200);
    CHECK(c.body != NULL && strncmp(c.body, "POST /echo HTTP/1.1\r\n", 21) == 0);
    CHECK(stream_has_line(c.body, c.body_len, "Content-Length: 10\r"));
    CHECK(c.body_len >= 10 && stream_pattern_matches(c.body + c.body_len - 10, 10, 0));
    CHECK(src.calls > 0);
    CHECK_INT(src.off_engine, src.calls); /* never on this (the dispatching) thread */
    CHECK(src.produced == 10);
    CHECK_INT(nethttp_options_set_method(options, "PUT"), NETHTTP_RESULT_OK);
    source_init(&src, 10);
    CHECK(capture_client_fetch(client, &c, test_url(url, sizeof url, server.http_port, "/echo"), options));
    CHECK(c.body != NULL && strncmp(c.body, "PUT /echo HTTP/1.1\r\n", 20) == 0);
    CHECK(c.body_len >= 10 && stream_pattern_matches(c.body + c.body_len - 10, 10, 0));
    CHECK(src.calls > 0);
    CHECK_INT(src.off_engine, src.calls);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(options);
    capture_free(&c);
}

/* A file that does not exist: refused, and the error names the path. */
static void check_missing_file(void) {
    struct nethttp_options *options = nethttp_options_new();
    const char *path = "/nonexistent-dir/nethttp-no-such-file";
    enum nethttp_result result = nethttp_options_set_body_file(options, path);
    CHECK(result != NETHTTP_RESULT_OK);
    CHECK_INT(result, NETHTTP_RESULT_FILE_ERROR);
    CHECK_INT(nethttp_last_error_code(), result);
    CHECK(strstr(nethttp_last_error(), path) != NULL);
    if (strstr(nethttp_last_error(), path) == NULL) {
        fprintf(stderr, "last error: %s\n", nethttp_last_error());
    }
    CHECK_INT(nethttp_options_set_body_file(NULL, path), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_options_set_body_file(options, NULL), NETHTTP_RESULT_OK); /* removes the body */
    CHECK_INT(nethttp_options_set_body_file(options, ""), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_body_callback(options, source_read, -2, NULL), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_options_set_body_callback(NULL, source_read, 1, NULL), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_options_free(options);
}

int main(int argc, char **argv) {
    server = transport_server_from_args(argc, argv);
    stream_pattern_init();
    check_missing_file();
    check_method_and_thread();
    check_callback_upload((int64_t)BIG);
    check_callback_upload(-1);
    check_file_upload();
    check_read_abort((int64_t)(64 * MIB));
    check_read_abort(-1);
    return test_finish("test_stream_upload");
}
