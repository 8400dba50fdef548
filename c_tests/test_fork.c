/* fork(): a child starts a fresh default client on first use, as if none had
 * run; nethttp_shutdown() there returns OK; a client made in the parent is
 * refused in the child and can be freed there; nothing is printed. */
#include <fcntl.h>
#include <sys/wait.h>

#include "test_util.h"

static struct test_server server;
static char url[256];

/* What the child checks; its exit status is its number of failed checks
 * (capped), so the parent sees them. */
static int child_main(struct nethttp_client *parents_client) {
    struct capture c;
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/status/200"), NULL));
    CHECK_INT(c.status, 200);
    CHECK(nethttp_client_request(parents_client, url, NULL, capture_callback, &c) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_ENGINE_UNAVAILABLE);
    CHECK_INT(nethttp_client_free(parents_client, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
    capture_free(&c);
    return test_failures > 100 ? 100 : test_failures;
}

int main(int argc, char **argv) {
    struct capture c;
    struct nethttp_client *client;
    int pipe_fds[2], status = -1;
    char stderr_text[4096];
    ssize_t got;
    pid_t pid;
    server = test_server_from_args(argc, argv);

    /* The parent uses the default client and a client of its own. */
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/status/200"), NULL));
    CHECK_INT(c.status, 200);
    client = nethttp_client_new(NULL);
    CHECK(client != NULL);

    CHECK_INT(pipe(pipe_fds), 0);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int failures;
        /* The child's stderr goes to the pipe: nethttp must print nothing. */
        setenv("RUST_BACKTRACE", "1", 1);
        dup2(pipe_fds[1], 2);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        failures = child_main(client);
        /* Report failed checks on stdout, not the pipe being checked. */
        fflush(NULL);
        _exit(failures);
    }
    CHECK(pid > 0);
    close(pipe_fds[1]);
    got = read(pipe_fds[0], stderr_text, sizeof stderr_text - 1);
    close(pipe_fds[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    CHECK_INT(got > 0 ? got : 0, 0);
    if (got > 0) {
        stderr_text[got] = '\0';
        fprintf(stderr, "the child printed to stderr:\n%s\n", stderr_text);
    }

    /* The parent goes on as before. */
    capture_free(&c);
    capture_init(&c);
    CHECK(nethttp_client_request(client, test_url(url, sizeof url, server.http_port, "/status/204"), NULL,
                                 capture_callback, &c) != NULL);
    CHECK_INT(capture_wait(&c, 1, 20000), 1);
    CHECK_INT(c.status, 204);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    capture_free(&c);
    return test_finish("test_fork");
}
