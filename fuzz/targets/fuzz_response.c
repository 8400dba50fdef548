/* The response path: the fuzzer's bytes are served, as they are, as the raw
 * HTTP response to a nethttp request, by a server thread on a loopback
 * socket (it reads the request head, writes the bytes, closes). The first
 * byte chooses the request (GET, HEAD, POST; a small body limit or none);
 * the rest is the response. Each request must get exactly one callback,
 * within its timeout, with a sane result:
 * - a failure: status 0, a transfer failure code (100 and above) whose name
 *   is the body, no headers;
 * - a response: a status of 100..999 (libcurl's range), every header
 *   readable, a NUL-terminated body no longer than the bytes served, no
 *   longer than the body limit, empty for HEAD. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_common.h"

static struct nethttp_client *client;
static int port;
static char url[64];

/* What the server serves, set per input (under `lock`). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static const uint8_t *serve_data;
static size_t serve_size;

struct outcome {
    int calls;
    int status;
    enum nethttp_result code;
    size_t body_len;
    int body_terminated;
    int body_is_reason;
    size_t headers;
    int headers_readable;
};
static struct outcome seen;
static long total_requests, total_callbacks;

static void *server(void *arg) {
    int listener = *(int *)arg;
    for (;;) {
        char head[8192];
        size_t got = 0, sent = 0;
        const uint8_t *data;
        size_t size;
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            continue;
        }
        /* Read the request head (bounded in time: the client sends it at once). */
        while (got < sizeof head - 1) {
            struct pollfd p = {conn, POLLIN, 0};
            ssize_t n;
            if (poll(&p, 1, 2000) != 1 || (n = read(conn, head + got, sizeof head - 1 - got)) <= 0) {
                break;
            }
            got += (size_t)n;
            head[got] = '\0';
            if (strstr(head, "\r\n\r\n") != NULL) {
                break;
            }
        }
        pthread_mutex_lock(&lock);
        data = serve_data;
        size = serve_size;
        while (data != NULL && sent < size) {
            ssize_t n = send(conn, data + sent, size - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                break;
            }
            sent += (size_t)n;
        }
        pthread_mutex_unlock(&lock);
        shutdown(conn, SHUT_WR);
        close(conn);
    }
    return NULL;
}

static int on_response(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                       void *userdata) {
    struct outcome *o = (struct outcome *)userdata;
    size_t i;
    pthread_mutex_lock(&lock);
    o->calls++;
    total_callbacks++;
    o->status = status;
    o->code = nethttp_response_error_code(response);
    o->body_len = body_len;
    o->body_terminated = body != NULL && body[body_len] == '\0';
    o->body_is_reason = body != NULL && strcmp(body, nethttp_strerror((int)o->code)) == 0;
    o->headers = nethttp_response_header_count(response);
    o->headers_readable = 1;
    for (i = 0; i < o->headers; i++) {
        const char *name = NULL, *value = NULL;
        if (nethttp_response_header_at(response, i, &name, &value) != NETHTTP_RESULT_OK || name == NULL ||
            value == NULL || nethttp_response_header(response, name) == NULL) {
            o->headers_readable = 0;
        }
    }
    if (nethttp_response_timing_us(response, NETHTTP_TIMING_TOTAL) < 0 || nethttp_response_url(response) == NULL ||
        nethttp_response_method(response) == NULL) {
        o->headers_readable = 0;
    }
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static int listener;
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    pthread_t thread;
    (void)argc, (void)argv;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FUZZ_CHECK(listener >= 0 && bind(listener, (struct sockaddr *)&addr, sizeof addr) == 0 &&
               listen(listener, 64) == 0 && getsockname(listener, (struct sockaddr *)&addr, &len) == 0);
    port = ntohs(addr.sin_port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fuzz", port);
    FUZZ_CHECK(pthread_create(&thread, NULL, server, &listener) == 0);
    setenv("no_proxy", "*", 1);
    client = nethttp_client_new(NULL);
    FUZZ_CHECK(client != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nethttp_options *options = nethttp_options_new();
    unsigned choice = size > 0 ? data[0] : 0;
    int head = (choice & 3) == 1, post = (choice & 3) == 2;
    uint64_t max_body = (choice & 4) ? 16 : 0;
    struct timespec deadline;
    struct nethttp_request *request;
    const uint8_t *response = size > 0 ? data + 1 : data;
    size_t response_size = size > 0 ? size - 1 : 0;

    FUZZ_CHECK(options != NULL);
    nethttp_options_set_timeout_ms(options, 3000);
    nethttp_options_set_max_body(options, max_body);
    if (head) {
        nethttp_options_set_method(options, "HEAD");
    } else if (post) {
        nethttp_options_set_body(options, "a=1", 3);
    }

    pthread_mutex_lock(&lock);
    FUZZ_CHECK(total_callbacks == total_requests); /* no late or second callback */
    serve_data = response;
    serve_size = response_size;
    memset(&seen, 0, sizeof seen);
    pthread_mutex_unlock(&lock);

    request = nethttp_client_request(client, url, options, on_response, &seen);
    FUZZ_CHECK(request != NULL);
    nethttp_options_free(options);

    pthread_mutex_lock(&lock);
    total_requests++;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10; /* the request's own timeout is 3 s */
    while (seen.calls == 0) {
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    FUZZ_CHECK(seen.calls == 1);
    FUZZ_CHECK(seen.body_terminated && seen.headers_readable);
    if (seen.status == 0) {
        FUZZ_CHECK((int)seen.code >= 100);
        FUZZ_CHECK(seen.code != NETHTTP_RESULT_CANCELLED);
        FUZZ_CHECK(seen.body_is_reason);
        FUZZ_CHECK(seen.headers == 0);
    } else {
        FUZZ_CHECK(seen.status >= 100 && seen.status <= 999);
        FUZZ_CHECK(seen.code == NETHTTP_RESULT_OK);
        FUZZ_CHECK(seen.body_len <= response_size);
        FUZZ_CHECK(max_body == 0 || seen.body_len <= max_body);
        FUZZ_CHECK(!head || seen.body_len == 0);
    }
    /* Nothing may be served from this input once the next one starts. */
    serve_data = NULL;
    serve_size = 0;
    pthread_mutex_unlock(&lock);
    return 0;
}
