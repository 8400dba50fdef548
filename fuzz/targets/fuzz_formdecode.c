/* nethttp_formdecode() and nethttp_formencode(): decoding any bytes gives a
 * form (never NULL); every field reads back with nethttp_form_field() and
 * is NUL-terminated; nethttp_form_get() finds the last field of each name;
 * and encoding the form, then decoding that, gives the same fields in the
 * same order (a round trip). */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nethttp_form *form = nethttp_formdecode((const char *)data, size);
    struct nethttp_form *again;
    size_t count, i, j, enc_len = (size_t)-1;
    char *encoded;
    FUZZ_CHECK(form != NULL);
    count = nethttp_form_count(form);
    FUZZ_CHECK(count <= size / 2 + 1);
    for (i = 0; i < count; i++) {
        const char *name = NULL, *value = NULL, *got;
        size_t name_len = (size_t)-1, value_len = (size_t)-1, got_len = (size_t)-1;
        FUZZ_CHECK(nethttp_form_field(form, i, &name, &name_len, &value, &value_len) == NETHTTP_RESULT_OK);
        FUZZ_CHECK(name != NULL && value != NULL && name[name_len] == '\0' && value[value_len] == '\0');
        FUZZ_CHECK(name_len + value_len <= size);
        /* get() returns the last field with this name. */
        got = nethttp_form_get(form, name, name_len, &got_len);
        FUZZ_CHECK(got != NULL);
        for (j = count; j-- > 0;) {
            const char *n2, *v2;
            size_t n2_len, v2_len;
            FUZZ_CHECK(nethttp_form_field(form, j, &n2, &n2_len, &v2, &v2_len) == NETHTTP_RESULT_OK);
            if (n2_len == name_len && memcmp(n2, name, name_len) == 0) {
                FUZZ_CHECK(got == v2 && got_len == v2_len);
                break;
            }
        }
    }
    FUZZ_CHECK(nethttp_form_field(form, count, NULL, NULL, NULL, NULL) == NETHTTP_RESULT_INDEX_OUT_OF_RANGE);

    encoded = nethttp_formencode(form, &enc_len);
    FUZZ_CHECK(encoded != NULL && encoded[enc_len] == '\0' && strlen(encoded) == enc_len);
    again = nethttp_formdecode(encoded, enc_len);
    FUZZ_CHECK(again != NULL);
    FUZZ_CHECK(nethttp_form_count(again) == count);
    for (i = 0; i < count; i++) {
        const char *n1, *v1, *n2, *v2;
        size_t n1_len, v1_len, n2_len, v2_len;
        nethttp_form_field(form, i, &n1, &n1_len, &v1, &v1_len);
        FUZZ_CHECK(nethttp_form_field(again, i, &n2, &n2_len, &v2, &v2_len) == NETHTTP_RESULT_OK);
        FUZZ_CHECK(n1_len == n2_len && memcmp(n1, n2, n1_len) == 0);
        FUZZ_CHECK(v1_len == v2_len && memcmp(v1, v2, v1_len) == 0);
    }
    nethttp_free(encoded);
    nethttp_form_free(again);
    nethttp_form_free(form);
    return 0;
}
