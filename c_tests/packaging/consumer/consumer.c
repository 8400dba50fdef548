/* A program of a nethttp user, built outside nethttp's own build: through
 * find_package(nethttp) (shared and static), FetchContent, and pkg-config.
 *
 *   consumer BASE_URL      e.g. consumer http://127.0.0.1:8080
 *
 * Checks the encoding functions (no network) and makes one request to
 * BASE_URL/echo; exits 0 only if every check passed. It waits for the
 * callback with a C11 atomic flag, so that it needs no -pthread. */
#define _POSIX_C_SOURCE 200809L

#include <nethttp.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int checks;
static int failures;

#define CHECK(cond)                                                             \
    do {                                                                        \
        checks++;                                                               \
        if (!(cond)) {                                                          \
            failures++;                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                       \
    } while (0)

static int streq(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* True when `needle` occurs in the `len` bytes at `hay`. */
static int contains(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    size_t i;
    for (i = 0; hay != NULL && i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int never_called(const char *body, size_t body_len, int status,
                        const struct nethttp_response *response, void *userdata) {
    (void)body, (void)body_len, (void)status, (void)response, (void)userdata;
    abort();
}

static void check_encodings(void) {
    size_t len = 0;
    char *text = nethttp_urlencode("a b&c=d/\xc3\xa9", 10, &len);
    CHECK(streq(text, "a%20b%26c%3Dd%2F%C3%A9"));
    CHECK(len == strlen("a%20b%26c%3Dd%2F%C3%A9"));
    nethttp_free(text);

    text = nethttp_urldecode("x%2Fy%3d+z", 10, &len);
    CHECK(streq(text, "x/y=+z"));
    nethttp_free(text);

    struct nethttp_form *form = nethttp_form_new();
    CHECK(form != NULL);
    CHECK(nethttp_form_add(form, "name", 4, "Ada Lovelace", 12) == NETHTTP_RESULT_OK);
    CHECK(nethttp_form_add(form, "lang", 4, "C & C++", 7) == NETHTTP_RESULT_OK);
    text = nethttp_formencode(form, &len);
    CHECK(streq(text, "name=Ada+Lovelace&lang=C+%26+C%2B%2B"));

    struct nethttp_form *decoded = nethttp_formdecode(text, len);
    size_t value_len = 0;
    CHECK(nethttp_form_count(decoded) == 2);
    CHECK(streq(nethttp_form_get(decoded, "lang", 4, &value_len), "C & C++"));
    CHECK(value_len == 7);
    nethttp_form_free(decoded);
    nethttp_free(text);
    nethttp_form_free(form);

    CHECK(streq(nethttp_strerror(NETHTTP_RESULT_CONNECTION_REFUSED), "connection-refused"));
    CHECK(nethttp_request("ftp://example.com/", NULL, never_called, NULL) == NULL);
    CHECK(nethttp_last_error_code() == NETHTTP_RESULT_UNSUPPORTED_SCHEME);
}

struct outcome {
    atomic_int done;
    int status;
    int saw_request_line;
    int saw_header;
    int length_matches; /* Content-Length (looked up in lowercase) == body_len */
};

static int on_response(const char *body, size_t body_len, int status,
                       const struct nethttp_response *response, void *userdata) {
    struct outcome *out = (struct outcome *)userdata;
    const char *content_length = nethttp_response_header(response, "content-length");
    out->status = status;
    out->saw_request_line = contains(body, body_len, "GET /echo HTTP/1.1");
    out->saw_header = contains(body, body_len, "X-Consumer: yes");
    out->length_matches = content_length != NULL && strtoul(content_length, NULL, 10) == body_len;
    if (status == 0) {
        fprintf(stderr, "request failed: %s (%s)\n", body, nethttp_response_error_detail(response));
    }
    atomic_store(&out->done, 1); /* publishes the fields above to main() */
    return 0;
}

static void check_request(const char *base_url) {
    char url[512];
    struct outcome out;
    struct timespec pause = {0, 10 * 1000 * 1000};
    int waited_ms = 0;

    memset(&out, 0, sizeof out);
    atomic_init(&out.done, 0);
    snprintf(url, sizeof url, "%s/echo", base_url);

    struct nethttp_options *options = nethttp_options_new();
    CHECK(nethttp_options_set_header(options, "X-Consumer", "yes") == NETHTTP_RESULT_OK);
    CHECK(nethttp_options_set_timeout_ms(options, 10000) == NETHTTP_RESULT_OK);
    struct nethttp_request *request = nethttp_request(url, options, on_response, &out);
    nethttp_options_free(options);
    CHECK(request != NULL);
    if (request == NULL) {
        fprintf(stderr, "nethttp_request: %s\n", nethttp_last_error());
        return;
    }
    while (!atomic_load(&out.done) && waited_ms < 20000) {
        nanosleep(&pause, NULL);
        waited_ms += 10;
    }
    CHECK(atomic_load(&out.done));
    CHECK(out.status == 200);
    CHECK(out.saw_request_line);
    CHECK(out.saw_header);
    CHECK(out.length_matches);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
        return 2;
    }
    CHECK(streq(nethttp_version(), NETHTTP_VERSION));
    check_encodings();
    check_request(argv[1]);
    CHECK(nethttp_shutdown() == NETHTTP_RESULT_OK);
    CHECK(nethttp_live_requests() == 0);
    printf("consumer (nethttp %s): %d checks, %d failed\n", nethttp_version(), checks, failures);
    return failures == 0 ? 0 : 1;
}
