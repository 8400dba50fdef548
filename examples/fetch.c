/* fetch: GET a URL and print the status, the response headers and the body.
 *
 *   fetch URL [CA_FILE]
 *
 * With CA_FILE, the server's certificate is verified against the CA
 * certificates in that PEM file instead of the system's store.
 * Exit status: 0 when a response arrived (whatever its HTTP status), 1 when
 * the request failed (the reason is printed), 2 on bad usage (an invalid
 * URL included).
 */
#define _POSIX_C_SOURCE 200809L

#include <nethttp.h>

#include <pthread.h>
#include <stdio.h>

/* main() waits for the callback, which runs on nethttp's engine thread. */
struct completion {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
    int got_response;
};

static int on_response(const char *body, size_t body_len, int status,
                       const struct nethttp_response *response, void *userdata) {
    struct completion *completion = userdata;

    if (status == 0) {
        /* The request failed: `body` is a short stable reason. */
        fprintf(stderr, "request failed: %s\n  (%s)\n", body, nethttp_response_error_detail(response));
    } else {
        size_t count = nethttp_response_header_count(response);
        printf("HTTP %d from %s\n", status, nethttp_response_url(response));
        for (size_t i = 0; i < count; i++) {
            const char *name;
            const char *value;
            if (nethttp_response_header_at(response, i, &name, &value) == NETHTTP_RESULT_OK) {
                printf("%s: %s\n", name, value);
            }
        }
        printf("\n");
        /* The body may hold any bytes, NULs included: write it by length. */
        fwrite(body, 1, body_len, stdout);
        if (body_len > 0 && body[body_len - 1] != '\n') {
            printf("\n");
        }
        fflush(stdout);
    }

    pthread_mutex_lock(&completion->lock);
    completion->finished = 1;
    completion->got_response = status != 0;
    pthread_cond_signal(&completion->cond);
    pthread_mutex_unlock(&completion->lock);
    return 0; /* done: nethttp frees the request, `body` and `response` */
}

int main(int argc, char **argv) {
    struct completion completion = {0};
    struct nethttp_options *options;
    struct nethttp_request *request;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s URL [CA_FILE]\n", argv[0]);
        return 2;
    }
    pthread_mutex_init(&completion.lock, NULL);
    pthread_cond_init(&completion.cond, NULL);

    options = nethttp_options_new();
    if (options == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    nethttp_options_set_timeout_ms(options, 30000);
    if (argc == 3 && nethttp_options_set_ca_file(options, argv[2]) != NETHTTP_RESULT_OK) {
        fprintf(stderr, "bad CA file name: %s\n", nethttp_last_error());
        nethttp_options_free(options);
        return 2;
    }

    request = nethttp_request(argv[1], options, on_response, &completion);
    nethttp_options_free(options); /* the request took a copy */
    if (request == NULL) {
        /* No callback will come; the last error says why. */
        fprintf(stderr, "cannot fetch %s: %s (%s)\n", argv[1],
                nethttp_strerror(nethttp_last_error_code()), nethttp_last_error());
        return 2;
    }

    pthread_mutex_lock(&completion.lock);
    while (!completion.finished) {
        pthread_cond_wait(&completion.cond, &completion.lock);
    }
    pthread_mutex_unlock(&completion.lock);

    nethttp_shutdown(); /* stops the engine thread before exiting */
    pthread_cond_destroy(&completion.cond);
    pthread_mutex_destroy(&completion.lock);
    return completion.got_response ? 0 : 1;
}
