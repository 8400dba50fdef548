/* nethttp_urldecode() against a reference decoder written here from the
 * header's contract (%XX in either case decoded, any other % kept, + kept),
 * and nethttp_urlencode() round trips: decode(encode(x)) == x, the encoding
 * uses only unreserved characters and %XX in upper case. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static int hex(unsigned char c) {
    return isdigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t out_len = (size_t)-1, enc_len = (size_t)-1, back_len = (size_t)-1, i, n = 0;
    char *decoded = nethttp_urldecode((const char *)data, size, &out_len);
    char *encoded, *back;
    unsigned char *expected = malloc(size + 1);
    FUZZ_CHECK(decoded != NULL && expected != NULL);
    for (i = 0; i < size; i++) {
        if (data[i] == '%' && i + 2 < size && hex(data[i + 1]) >= 0 && hex(data[i + 2]) >= 0) {
            expected[n++] = (unsigned char)(hex(data[i + 1]) * 16 + hex(data[i + 2]));
            i += 2;
        } else {
            expected[n++] = data[i];
        }
    }
    FUZZ_CHECK(out_len == n);
    FUZZ_CHECK(memcmp(decoded, expected, n) == 0);
    FUZZ_CHECK(decoded[out_len] == '\0');

    encoded = nethttp_urlencode((const char *)data, size, &enc_len);
    FUZZ_CHECK(encoded != NULL && encoded[enc_len] == '\0' && enc_len >= size && enc_len <= 3 * size);
    for (i = 0; i < enc_len; i++) {
        unsigned char c = (unsigned char)encoded[i];
        if (c == '%') {
            FUZZ_CHECK(i + 2 < enc_len);
            FUZZ_CHECK(hex((unsigned char)encoded[i + 1]) >= 0 && hex((unsigned char)encoded[i + 2]) >= 0);
            FUZZ_CHECK(!islower((unsigned char)encoded[i + 1]) && !islower((unsigned char)encoded[i + 2]));
            i += 2;
        } else {
            FUZZ_CHECK(isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~');
        }
    }
    back = nethttp_urldecode(encoded, enc_len, &back_len);
    FUZZ_CHECK(back != NULL && back_len == size && memcmp(back, data, size) == 0);
    nethttp_free(decoded);
    nethttp_free(encoded);
    nethttp_free(back);
    free(expected);
    return 0;
}
