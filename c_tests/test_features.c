/* nethttp_features(): known words only, in the documented order, each once,
 * single spaces; the same static string every time; and, when the build
 * says what to expect (NETHTTP_EXPECTED_FEATURES, from curl-config for the
 * system's libcurl, or the bundled libcurl's fixed set), exactly that. */
#include "test_util.h"

static const char *const known[] = {"http2", "http3",        "gzip", "deflate", "br",
                                    "zstd",  "socks", "unix-sockets", "mtls",    "pinning"};

int main(void) {
    const char *features = nethttp_features();
    const char *expected = getenv("NETHTTP_EXPECTED_FEATURES");
    const char *p = features;
    size_t next = 0, nknown = sizeof known / sizeof known[0];
    printf("nethttp_features(): \"%s\"\n", features ? features : "(null)");
    CHECK(features != NULL);
    CHECK(nethttp_features() == features);
    CHECK(features != NULL && features[0] != ' ');
    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, " "), i = next;
        while (i < nknown && !(strlen(known[i]) == len && strncmp(p, known[i], len) == 0)) {
            i++;
        }
        if (i == nknown) {
            test_failures++;
            fprintf(stderr, "unknown, repeated or out-of-order word at \"%s\"\n", p);
            break;
        }
        test_checks++;
        next = i + 1;
        p += len;
        if (*p == ' ') {
            p++;
            CHECK(*p != ' ' && *p != '\0');
        }
    }
    /* SOCKS is always there. */
    CHECK(features != NULL && strstr(features, "socks") != NULL);
    if (expected != NULL && expected[0] != '\0') {
        CHECK_STR(features, expected);
    } else {
        printf("no expected feature list for this build: only the format was checked\n");
    }
    return test_finish("test_features");
}
