/* The option setters and request creation fed arbitrary bytes: a program of
 * operations, each an opcode byte and its arguments (strings are a length
 * byte and that many bytes, cut at a NUL as C would see them). Nothing may
 * crash, every setter returns one of its documented codes (never
 * internal-error), a failure is recorded as the thread's last error with a
 * message, and a request is made or refused with one of nethttp_request()'s
 * documented codes; then, with the options the program built, a request to
 * a fixed URL must be made (or refused as too large).
 *
 * No request reaches the network beyond loopback: every proxy variable names
 * 127.0.0.1:9, where nothing listens, so libcurl never resolves a fuzzed host
 * name; requests are destroyed at once on a dispatch-mode client whose
 * callbacks never run. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static struct nethttp_client *client;

struct reader {
    const uint8_t *data;
    size_t size, at;
};

static unsigned next_byte(struct reader *r) {
    return r->at < r->size ? r->data[r->at++] : 0;
}

/* A NUL-terminated copy of a length-prefixed string (cut at an inner NUL). */
static char *next_string(struct reader *r) {
    size_t len = next_byte(r);
    char *s;
    if (len > r->size - r->at) {
        len = r->size - r->at;
    }
    s = malloc(len + 1);
    FUZZ_CHECK(s != NULL);
    memcpy(s, r->data + r->at, len);
    s[len] = '\0';
    r->at += len;
    return s;
}

/* A long string: (b1 << 12 | b2 << 4) bytes of one character, to probe the
 * 1,000,000-byte limits from both sides. */
static char *next_long_string(struct reader *r) {
    size_t len = ((size_t)next_byte(r) << 12) | ((size_t)next_byte(r) << 4);
    char c = (char)(next_byte(r) % 2 ? 'a' : '-');
    char *s = malloc(len + 1);
    FUZZ_CHECK(s != NULL);
    memset(s, c, len);
    s[len] = '\0';
    return s;
}

static uint64_t next_u64(struct reader *r) {
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++) {
        v = v << 8 | next_byte(r);
    }
    return v;
}

/* A failing call left its code, and a message, as the thread's last error. */
static void check_failure_recorded(enum nethttp_result code) {
    if (code != NETHTTP_RESULT_OK) {
        FUZZ_CHECK(nethttp_last_error_code() == code);
        FUZZ_CHECK(nethttp_last_error()[0] != '\0');
    }
}

static int never_called(const char *body, size_t body_len, int status, const struct nethttp_response *response,
                        void *userdata) {
    (void)body, (void)body_len, (void)status, (void)response, (void)userdata;
    abort(); /* requests are destroyed at once, and never dispatched */
}

static void check_request(const char *url, const struct nethttp_options *options) {
    struct nethttp_request *request = nethttp_client_request(client, url, options, NULL, NULL);
    enum nethttp_result code;
    /* NULL callback: refused (the URL may be refused first). */
    code = nethttp_last_error_code();
    FUZZ_CHECK(request == NULL);
    FUZZ_CHECK(code == NETHTTP_RESULT_NULL_ARGUMENT || code == NETHTTP_RESULT_INVALID_URL ||
               code == NETHTTP_RESULT_UNSUPPORTED_SCHEME);
    request = nethttp_client_request(client, url, options, never_called, NULL);
    if (request != NULL) {
        nethttp_destroy_request(request);
        return;
    }
    code = nethttp_last_error_code();
    FUZZ_CHECK(code == NETHTTP_RESULT_INVALID_URL || code == NETHTTP_RESULT_UNSUPPORTED_SCHEME ||
               code == NETHTTP_RESULT_INVALID_ARGUMENT);
    FUZZ_CHECK(nethttp_last_error()[0] != '\0');
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    struct nethttp_client_config *config = nethttp_client_config_new();
    (void)argc, (void)argv;
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("https_proxy", "http://127.0.0.1:9", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
    setenv("all_proxy", "http://127.0.0.1:9", 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    nethttp_client_config_set_dispatch(config, 1);
    client = nethttp_client_new(config);
    nethttp_client_config_free(config);
    FUZZ_CHECK(client != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct reader r = {data, size, 0};
    struct nethttp_options *options = nethttp_options_new();
    int ops = 0;
    FUZZ_CHECK(options != NULL);
    while (r.at < r.size && ops++ < 64) {
        unsigned op = next_byte(&r) % 15;
        enum nethttp_result code = NETHTTP_RESULT_OK;
        char *a = NULL, *b = NULL;
        switch (op) {
        case 0:
            a = next_string(&r);
            b = next_string(&r);
            code = nethttp_options_set_header(options, a, b);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK || code == NETHTTP_RESULT_INVALID_HEADER_NAME ||
                       code == NETHTTP_RESULT_INVALID_HEADER_VALUE);
            break;
        case 1:
            a = next_string(&r);
            code = nethttp_options_set_header(options, a, NULL);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK || code == NETHTTP_RESULT_INVALID_HEADER_NAME);
            break;
        case 2:
            a = next_string(&r);
            code = nethttp_options_set_method(options, a);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK || code == NETHTTP_RESULT_INVALID_METHOD);
            break;
        case 3:
            code = nethttp_options_set_method(options, NULL);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK);
            break;
        case 4: {
            size_t len = next_byte(&r);
            if (len > r.size - r.at) {
                len = r.size - r.at;
            }
            code = nethttp_options_set_body(options, len ? data + r.at : NULL, len);
            r.at += len;
            FUZZ_CHECK(code == NETHTTP_RESULT_OK);
            break;
        }
        case 5:
            FUZZ_CHECK(nethttp_options_clear_body(options) == NETHTTP_RESULT_OK);
            break;
        case 6:
            FUZZ_CHECK(nethttp_options_set_insecure(options, (int)next_byte(&r) - 128) == NETHTTP_RESULT_OK);
            break;
        case 7:
            FUZZ_CHECK(nethttp_options_set_timeout_ms(options, next_u64(&r)) == NETHTTP_RESULT_OK);
            break;
        case 8:
            FUZZ_CHECK(nethttp_options_set_connect_timeout_ms(options, next_u64(&r)) == NETHTTP_RESULT_OK);
            break;
        case 9:
            FUZZ_CHECK(nethttp_options_set_max_body(options, next_u64(&r)) == NETHTTP_RESULT_OK);
            break;
        case 10:
            a = next_string(&r);
            code = nethttp_options_set_ca_file(options, a[0] == '\0' ? NULL : a);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK || code == NETHTTP_RESULT_INVALID_ARGUMENT);
            break;
        case 11:
            a = next_string(&r);
            check_request(a, options);
            break;
        case 12:
            a = next_string(&r);
            b = next_long_string(&r);
            code = nethttp_options_set_header(options, a, b);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK || code == NETHTTP_RESULT_INVALID_HEADER_NAME ||
                       code == NETHTTP_RESULT_INVALID_HEADER_VALUE);
            break;
        case 13:
            a = next_long_string(&r);
            code = nethttp_options_set_method(options, a);
            FUZZ_CHECK(code == NETHTTP_RESULT_OK || code == NETHTTP_RESULT_INVALID_METHOD);
            break;
        default: {
            /* A URL: a fixed start and a fuzzed rest, possibly long. */
            char *rest = next_string(&r);
            char *pad = next_long_string(&r);
            size_t len = strlen(rest) + strlen(pad) + 32;
            a = malloc(len);
            FUZZ_CHECK(a != NULL);
            snprintf(a, len, "http://127.0.0.1:9/%s%s", pad, rest);
            check_request(a, options);
            free(rest);
            free(pad);
            break;
        }
        }
        check_failure_recorded(code);
        free(a);
        free(b);
    }
    check_request("http://127.0.0.1:9/", options);
    nethttp_options_free(options);
    FUZZ_CHECK(nethttp_client_dispatch(client, 0) == 0); /* no callback of a destroyed request */
    return 0;
}
