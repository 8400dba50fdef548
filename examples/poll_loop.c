/* poll_loop: nethttp inside a program's own single-threaded poll() loop.
 *
 *   poll_loop BASE_URL          e.g. poll_loop http://127.0.0.1:8080
 *
 * Starts 20 requests at once, to BASE_URL/echo?i=0 .. BASE_URL/echo?i=19,
 * on a client in dispatch mode, and then runs one poll() loop over two file
 * descriptors: standard input (each line typed is echoed and counted; end of
 * input just stops reading it) and the client's dispatch descriptor, which
 * is readable while responses wait to be handled. nethttp_client_dispatch()
 * runs their callbacks right here, on this thread, so the program needs no
 * mutex: everything it touches is touched by this one thread. It prints
 * each status as it arrives and exits when all 20 came back.
 *
 * Exit status: 0 when every response was 2xx, 1 otherwise, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <nethttp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define REQUESTS 20

/* The program's state: only ever used on the main thread. */
struct app {
    int answered;
    int ok;
    int failed;
    int lines;
};

/* What each request's callback needs: its number and the app. */
struct pending {
    int index;
    struct app *app;
};

static int on_response(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                       void *userdata) {
    struct pending *pending = userdata;
    struct app *app = pending->app;
    (void)response;
    if (status == 0) {
        printf("request %2d: failed: %s\n", pending->index, body); /* body: the reason */
    } else {
        printf("request %2d: HTTP %d, %zu bytes\n", pending->index, status, body_len);
    }
    if (status >= 200 && status < 300) {
        app->ok++;
    } else {
        app->failed++;
    }
    app->answered++;
    return 0;
}

/* Reads what standard input has; echoes complete lines. Returns 0 at end
 * of input (or on an error), 1 otherwise. */
static int read_stdin(struct app *app, char *line, size_t size, size_t *used) {
    char chunk[512];
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
        return 1;
    }
    if (n <= 0) {
        if (*used > 0) { /* a last line without a newline */
            app->lines++;
            printf("stdin line %d: %.*s\n", app->lines, (int)*used, line);
            *used = 0;
        }
        printf("stdin: %s\n", n == 0 ? "end of input" : strerror(errno));
        return 0;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (chunk[i] == '\n') {
            app->lines++;
            printf("stdin line %d: %.*s\n", app->lines, (int)*used, line);
            *used = 0;
        } else if (*used < size) {
            line[(*used)++] = chunk[i]; /* longer lines are cut */
        }
    }
    return 1;
}

int main(int argc, char **argv) {
    struct app app = {0, 0, 0, 0};
    struct pending pending[REQUESTS];
    struct nethttp_client_config *config;
    struct nethttp_options *options;
    struct nethttp_client *client;
    struct pollfd fds[2];
    char url[2048], line[256];
    size_t base_len, used = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s BASE_URL   (requests BASE_URL/echo?i=0..%d)\n", argv[0], REQUESTS - 1);
        return 2;
    }
    base_len = strlen(argv[1]);
    while (base_len > 0 && argv[1][base_len - 1] == '/') {
        base_len--;
    }
    if (base_len > sizeof url - 64) {
        fprintf(stderr, "the base URL is too long\n");
        return 2;
    }

    /* A client whose callbacks run only inside nethttp_client_dispatch(). */
    config = nethttp_client_config_new();
    nethttp_client_config_set_dispatch(config, 1);
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    if (client == NULL) {
        fprintf(stderr, "cannot make a client: %s\n", nethttp_last_error());
        return 1;
    }

    /* No request may wait forever: the loop ends only when all are back. */
    options = nethttp_options_new();
    nethttp_options_set_timeout_ms(options, 30000);
    for (int i = 0; i < REQUESTS; i++) {
        pending[i].index = i;
        pending[i].app = &app;
        snprintf(url, sizeof url, "%.*s/echo?i=%d", (int)base_len, argv[1], i);
        if (nethttp_client_request(client, url, options, on_response, &pending[i]) == NULL) {
            /* No callback will come for this one. */
            printf("request %2d: not started: %s\n", i, nethttp_last_error());
            app.failed++;
            app.answered++;
        }
    }
    nethttp_options_free(options);
    printf("%d requests started; type lines meanwhile\n", REQUESTS - app.answered);
    fflush(stdout);

    fds[0].fd = STDIN_FILENO;
    fds[0].events = POLLIN;
    fds[1].fd = nethttp_client_fd(client);
    fds[1].events = POLLIN;
    while (app.answered < REQUESTS) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("poll");
            break;
        }
        if (fds[0].revents != 0 && !read_stdin(&app, line, sizeof line, &used)) {
            fds[0].fd = -1; /* poll() skips negative descriptors */
        }
        if (fds[1].revents & POLLIN) {
            nethttp_client_dispatch(client, 0); /* runs on_response for each one queued */
        }
        fflush(stdout);
    }

    printf("%d responses: %d ok, %d failed; %d lines read from stdin\n", app.answered, app.ok, app.failed,
           app.lines);
    nethttp_client_free(client, 0);
    return app.answered == REQUESTS && app.failed == 0 ? 0 : 1;
}
