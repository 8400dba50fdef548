/* libcurl honours proxy settings from the environment, and nethttp does not
 * switch that off (README, "Proxies"): with http_proxy set before the first
 * request, a request goes through the proxy (here the test server, which
 * shows the absolute URL of a proxied request line on /echo); with no_proxy
 * naming the host it goes direct. */
#include "test_util.h"

static struct test_server server;
static char url[512];
static char proxy[128];

static int closed_port(void) {
    int port = 0;
    int fd = test_loopback_listener(1, &port);
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static void clear_proxy_environment(void) {
    static const char *const names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                        "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsetenv(names[i]);
    }
}

/* libcurl reads the environment on the engine thread, at each transfer:
 * change it only while no engine runs. */
static void stop_engine(void) {
    CHECK_INT(nethttp_shutdown(), NETHTTP_RESULT_OK);
}

static void check_through_proxy(void) {
    struct capture c;
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", server.http_port);
    setenv("http_proxy", proxy, 1);
    /* A host that does not resolve: only the proxy can answer for it. */
    capture_init(&c);
    CHECK(capture_fetch(&c, "http://nethttp-proxied.invalid/echo?via=proxy", NULL));
    CHECK_INT(c.status, 200);
    CHECK(c.body != NULL && strncmp(c.body, "GET http://nethttp-proxied.invalid/echo?via=proxy HTTP/1.1\r\n",
                                    strlen("GET http://nethttp-proxied.invalid/echo?via=proxy HTTP/1.1\r\n")) == 0);
    if (c.status != 200) {
        fprintf(stderr, "through the proxy: %s (%s)\n", c.error, c.detail);
    }
    capture_free(&c);
    stop_engine();
}

static void check_no_proxy(void) {
    struct capture c;
    /* A proxy that refuses every connection... */
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port());
    setenv("http_proxy", proxy, 1);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), NULL));
    CHECK_INT(c.status, 0); /* the control: the proxy is used */
    CHECK_INT(c.error_code, NETHTTP_RESULT_CONNECTION_REFUSED);
    capture_free(&c);
    stop_engine();

    /* ...is not used for a host that no_proxy names. */
    setenv("no_proxy", "127.0.0.1", 1);
    capture_init(&c);
    CHECK(capture_fetch(&c, test_url(url, sizeof url, server.http_port, "/echo"), NULL));
    CHECK_INT(c.status, 200);
    CHECK(c.body != NULL && strncmp(c.body, "GET /echo HTTP/1.1\r\n", strlen("GET /echo HTTP/1.1\r\n")) == 0);
    if (c.status != 200) {
        fprintf(stderr, "with no_proxy: %s (%s)\n", c.error, c.detail);
    }
    capture_free(&c);
    stop_engine();
    clear_proxy_environment();
}

int main(int argc, char **argv) {
    server = test_server_from_args(argc, argv);
    clear_proxy_environment();
    check_through_proxy();
    check_no_proxy();
    return test_finish("test_env_proxy");
}
