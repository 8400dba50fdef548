/* Cookies (nethttp_client_config_set_cookies): off by default; when on,
 * a client keeps the cookies its responses set, in memory, and sends them
 * (RFC 6265) on its later requests to the same host: not to another host
 * (localhost against 127.0.0.1), not by another client, not once expired
 * (Max-Age=0, an Expires in the past), not outside their Path (the default
 * path included), and a Secure cookie only over https. The test server's /cookie/set?c=V answers with one
 * "Set-Cookie: V" per c; /echo shows the Cookie header that arrived. */
#include "test_stream_util.h"

static struct transport_server server;
static struct nethttp_options *tls; /* the test CA, for https */
static char url[1024];

static struct nethttp_client *cookie_client(int on) {
    struct nethttp_client_config *config = nethttp_client_config_new();
    struct nethttp_client *client;
    const char *epoll = getenv("NETHTTP_TEST_EPOLL");
    if (config == NULL || nethttp_client_config_set_epoll(config, epoll != NULL && epoll[0] == '1') != NETHTTP_RESULT_OK ||
        (on && nethttp_client_config_set_cookies(config, 1) != NETHTTP_RESULT_OK)) {
        fprintf(stderr, "cannot configure a client: %s\n", nethttp_last_error());
        exit(2);
    }
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    if (client == NULL) {
        fprintf(stderr, "nethttp_client_new failed: %s\n", nethttp_last_error());
        exit(2);
    }
    return client;
}

/* base = "http://127.0.0.1:PORT" etc. Sets each Set-Cookie value given. */
static void set_cookies(struct nethttp_client *client, const char *base, const char *const *values, int n) {
    struct capture c;
    int i;
    size_t len = (size_t)snprintf(url, sizeof url, "%s/cookie/set?", base);
    for (i = 0; i < n; i++) {
        char *escaped = nethttp_urlencode(values[i], strlen(values[i]), NULL);
        len += (size_t)snprintf(url + len, sizeof url - len, "%sc=%s", i ? "&" : "", escaped ? escaped : "");
        nethttp_free(escaped);
    }
    capture_init(&c);
    CHECK(capture_client_fetch(client, &c, url, tls));
    CHECK_INT(c.status, 200);
    capture_free(&c);
}

/* The Cookie header /echo at base+path saw, "" when none, in `out`. */
static const char *cookies_seen(struct nethttp_client *client, const char *base, const char *path, char *out,
                                size_t size) {
    struct capture c;
    const char *line;
    capture_init(&c);
    snprintf(url, sizeof url, "%s%s", base, path);
    out[0] = '\0';
    CHECK(capture_client_fetch(client, &c, url, tls));
    CHECK_INT(c.status, 200);
    line = c.body != NULL ? strstr(c.body, "\r\nCookie: ") : NULL;
    if (line != NULL) {
        line += strlen("\r\nCookie: ");
        snprintf(out, size, "%.*s", (int)strcspn(line, "\r\n"), line);
    }
    capture_free(&c);
    return out;
}

/* True when the Cookie header value `cookies` has the pair `pair`. */
static int has_pair(const char *cookies, const char *pair) {
    size_t n = strlen(pair);
    const char *p = cookies;
    while ((p = strstr(p, pair)) != NULL) {
        if ((p == cookies || p[-1] == ' ' || p[-1] == ';') && (p[n] == '\0' || p[n] == ';')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

int main(int argc, char **argv) {
    char http[128], localhost[128], example_http[128], example_https[128], seen[1024];
    struct nethttp_client *client, *other, *plain;
    /* Path=/: the default path of a cookie set by /cookie/set is /cookie. */
    static const char *const first[] = {"a=1; Path=/", "b=2; Path=/", "p=3; Path=/echo/sub"};
    static const char *const expire[] = {"a=1; Path=/; Max-Age=0", "b=2; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"};
    static const char *const secure[] = {"s=4; Secure; Path=/"};
    server = transport_server_from_args(argc, argv);
    snprintf(http, sizeof http, "http://127.0.0.1:%d", server.http_port);
    snprintf(example_http, sizeof example_http, "http://example.test:%d", server.http_port);
    snprintf(example_https, sizeof example_https, "https://example.test:%d", server.example_port);
    snprintf(localhost, sizeof localhost, "http://localhost:%d", server.http_port);
    tls = nethttp_options_new();
    CHECK_INT(nethttp_options_set_ca_file(tls, server.cert_file), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_resolve(tls, "example.test", (unsigned)server.http_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_options_set_resolve(tls, "example.test", (unsigned)server.example_port, "127.0.0.1"),
              NETHTTP_RESULT_OK);
    client = cookie_client(1);
    other = cookie_client(1);
    plain = cookie_client(0);

    /* Stored and sent back to the same host. */
    set_cookies(client, http, first, 3);
    cookies_seen(client, http, "/echo", seen, sizeof seen);
    printf("cookies sent back: \"%s\"\n", seen);
    CHECK(has_pair(seen, "a=1"));
    CHECK(has_pair(seen, "b=2"));
    CHECK(!has_pair(seen, "p=3")); /* outside its Path */
    cookies_seen(client, http, "/echo/sub/x", seen, sizeof seen);
    CHECK(has_pair(seen, "a=1"));
    CHECK(has_pair(seen, "p=3"));

    /* Without a Path attribute the path is that of the URL that set it
     * (/cookie/set: /cookie), RFC 6265 section 5.1.4. */
    {
        static const char *const default_path[] = {"dp=7"};
        set_cookies(client, http, default_path, 1);
        cookies_seen(client, http, "/cookie/echo", seen, sizeof seen);
        CHECK(has_pair(seen, "dp=7"));
        CHECK(has_pair(seen, "a=1"));
        cookies_seen(client, http, "/echo", seen, sizeof seen);
        CHECK(!has_pair(seen, "dp=7"));
    }

    /* Not to another host, not by another client. */
    cookies_seen(client, localhost, "/echo", seen, sizeof seen);
    CHECK_STR(seen, "");
    cookies_seen(other, http, "/echo", seen, sizeof seen);
    CHECK_STR(seen, "");

    /* Off by default: kept nowhere. */
    set_cookies(plain, http, first, 3);
    cookies_seen(plain, http, "/echo", seen, sizeof seen);
    CHECK_STR(seen, "");

    /* Expired ones are removed. */
    set_cookies(client, http, expire, 2);
    cookies_seen(client, http, "/echo/sub/x", seen, sizeof seen);
    CHECK(!has_pair(seen, "a=1"));
    CHECK(!has_pair(seen, "b=2"));
    CHECK(has_pair(seen, "p=3"));

    /* Secure on loopback: set over https://127.0.0.1, not sent over
     * http://127.0.0.1 (cookies ignore ports; libcurl's own engine would
     * send it, counting loopback as a secure origin; nethttp's jar does
     * not). */
    {
        static const char *const loopback_secure[] = {"ls=9; Secure; Path=/"};
        char https_loopback[128];
        snprintf(https_loopback, sizeof https_loopback, "https://127.0.0.1:%d", server.https_port);
        set_cookies(client, https_loopback, loopback_secure, 1);
        cookies_seen(client, https_loopback, "/echo", seen, sizeof seen);
        CHECK(has_pair(seen, "ls=9"));
        cookies_seen(client, http, "/echo", seen, sizeof seen);
        CHECK(!has_pair(seen, "ls=9"));
    }

    /* Secure: set over https, sent over https only, on a host name too
     * (example.test, mapped to 127.0.0.1 by set_resolve; EXAMPLE_PORT's
     * certificate names it). */
    set_cookies(client, example_https, secure, 1);
    cookies_seen(client, example_https, "/echo", seen, sizeof seen);
    CHECK(has_pair(seen, "s=4"));
    cookies_seen(client, example_http, "/echo", seen, sizeof seen);
    CHECK(!has_pair(seen, "s=4"));
    CHECK(!has_pair(seen, "a=1")); /* another host than 127.0.0.1 */

    /* The default client keeps none either. */
    {
        struct capture set, echo; /* one each: capture_fetch waits for a first call */
        capture_init(&set);
        capture_init(&echo);
        CHECK(capture_fetch(&set, test_url(url, sizeof url, server.http_port, "/cookie/set?c=d%3D5%3B%20Path%3D%2F"), NULL));
        CHECK(capture_fetch(&echo, test_url(url, sizeof url, server.http_port, "/echo"), NULL));
        CHECK_INT(echo.status, 200);
        CHECK(!test_contains(echo.body, echo.body_len, "d=5"));
        capture_free(&set);
        capture_free(&echo);
    }

    CHECK_INT(nethttp_client_config_set_cookies(NULL, 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_client_free(client, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(other, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_client_free(plain, 0), NETHTTP_RESULT_OK);
    nethttp_options_free(tls);
    return test_finish("test_cookies");
}
