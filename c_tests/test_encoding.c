/* The four encoding functions and the form API, through the header. */
#include "test_util.h"

static void check_urlencode(void) {
    static const char raw[] = "a b&c=d/e?f~g-h.i_j\0\xff\x80";
    size_t len = 0;
    char *enc = nethttp_urlencode(raw, sizeof raw - 1, &len);
    CHECK_STR(enc, "a%20b%26c%3Dd%2Fe%3Ff~g-h.i_j%00%FF%80");
    CHECK_INT(len, strlen("a%20b%26c%3Dd%2Fe%3Ff~g-h.i_j%00%FF%80"));
    nethttp_free(enc);

    enc = nethttp_urlencode("AZaz09", 6, NULL);
    CHECK_STR(enc, "AZaz09");
    nethttp_free(enc);

    /* NULL with length 0 is the empty string. */
    len = 99;
    enc = nethttp_urlencode(NULL, 0, &len);
    CHECK(enc != NULL);
    CHECK_INT(len, 0);
    CHECK_STR(enc, "");
    nethttp_free(enc);

    /* NULL with a length is an error, not a crash. */
    CHECK(nethttp_urlencode(NULL, 5, &len) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK(strlen(nethttp_last_error()) > 0);
}

static void check_urldecode(void) {
    size_t len = 0;
    char *dec = nethttp_urldecode("a%20b%2fc%2Fd+e", 15, &len);
    CHECK_STR(dec, "a b/c/d+e"); /* either hex case; '+' stays '+' */
    CHECK_INT(len, 9);
    nethttp_free(dec);

    /* A '%' without two hex digits is kept as it is. */
    dec = nethttp_urldecode("100%%zz%4%", 10, &len);
    CHECK_STR(dec, "100%%zz%4%");
    CHECK_INT(len, 10);
    nethttp_free(dec);

    /* Mixed-case escape and decoded NUL bytes keep their length. */
    dec = nethttp_urldecode("%aF%00x", 7, &len);
    CHECK(dec != NULL);
    CHECK_INT(len, 3);
    CHECK(dec != NULL && (unsigned char)dec[0] == 0xaf && dec[1] == 0 && dec[2] == 'x' && dec[3] == 0);
    nethttp_free(dec);

    CHECK(nethttp_urldecode(NULL, 1, NULL) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
    dec = nethttp_urldecode(NULL, 0, &len);
    CHECK_STR(dec, "");
    nethttp_free(dec);
}

static void check_roundtrip_all_bytes(void) {
    char raw[512];
    size_t enc_len = 0, dec_len = 0;
    char *enc, *dec;
    int i;
    for (i = 0; i < 512; i++) {
        raw[i] = (char)(i * 37 + 11);
    }
    enc = nethttp_urlencode(raw, sizeof raw, &enc_len);
    CHECK(enc != NULL && strlen(enc) == enc_len);
    dec = nethttp_urldecode(enc, enc_len, &dec_len);
    CHECK_INT(dec_len, sizeof raw);
    CHECK(dec != NULL && memcmp(dec, raw, sizeof raw) == 0);
    nethttp_free(enc);
    nethttp_free(dec);
}

static void check_form_api(void) {
    struct nethttp_form *form = nethttp_form_new();
    const char *name = NULL, *value = NULL;
    size_t name_len = 0, value_len = 0;
    char *enc;
    size_t len;

    CHECK(form != NULL);
    CHECK_INT(nethttp_form_count(form), 0);
    enc = nethttp_formencode(form, &len);
    CHECK_STR(enc, "");
    CHECK_INT(len, 0);
    nethttp_free(enc);

    CHECK_INT(nethttp_form_add(form, "name", 4, "John Doe", 8), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_form_add(form, "x", 1, "a&b=c+d~", 8), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_form_add(form, "name", 4, "second", 6), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_form_add(form, "bin\0ary", 7, "\xff\0", 2), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_form_add(form, NULL, 0, NULL, 0), NETHTTP_RESULT_OK);
    CHECK_INT(nethttp_form_count(form), 5);

    enc = nethttp_formencode(form, &len);
    CHECK_STR(enc, "name=John+Doe&x=a%26b%3Dc%2Bd~&name=second&bin%00ary=%FF%00&=");
    CHECK_INT(len, strlen("name=John+Doe&x=a%26b%3Dc%2Bd~&name=second&bin%00ary=%FF%00&="));

    CHECK_INT(nethttp_form_field(form, 3, &name, &name_len, &value, &value_len), NETHTTP_RESULT_OK);
    CHECK_INT(name_len, 7);
    CHECK(memcmp(name, "bin\0ary", 8) == 0); /* includes the terminating NUL */
    CHECK_INT(value_len, 2);
    CHECK((unsigned char)value[0] == 0xff && value[1] == 0 && value[2] == 0);

    /* Errors leave everything alone. */
    name = NULL;
    CHECK_INT(nethttp_form_field(form, 5, &name, &name_len, &value, &value_len), NETHTTP_RESULT_INDEX_OUT_OF_RANGE);
    CHECK(name == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INDEX_OUT_OF_RANGE);
    CHECK_INT(nethttp_form_field(NULL, 0, &name, &name_len, &value, &value_len), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_form_add(form, NULL, 3, "v", 1), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_form_add(form, "n", 1, NULL, 3), NETHTTP_RESULT_INVALID_ARGUMENT);
    CHECK_INT(nethttp_form_add(NULL, "n", 1, "v", 1), NETHTTP_RESULT_NULL_ARGUMENT);
    CHECK_INT(nethttp_form_count(form), 5);
    CHECK_INT(nethttp_form_count(NULL), 0);
    CHECK(nethttp_formencode(NULL, &len) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_NULL_ARGUMENT);

    /* formdecode(formencode(f)) == f */
    {
        struct nethttp_form *back = nethttp_formdecode(enc, len);
        size_t i;
        CHECK(back != NULL);
        CHECK_INT(nethttp_form_count(back), nethttp_form_count(form));
        for (i = 0; back != NULL && i < nethttp_form_count(form); i++) {
            const char *n1, *v1, *n2, *v2;
            size_t nl1, vl1, nl2, vl2;
            CHECK_INT(nethttp_form_field(form, i, &n1, &nl1, &v1, &vl1), NETHTTP_RESULT_OK);
            CHECK_INT(nethttp_form_field(back, i, &n2, &nl2, &v2, &vl2), NETHTTP_RESULT_OK);
            CHECK(nl1 == nl2 && memcmp(n1, n2, nl1) == 0);
            CHECK(vl1 == vl2 && memcmp(v1, v2, vl1) == 0);
        }
        nethttp_form_free(back);
    }
    nethttp_free(enc);
    nethttp_form_free(form);
    nethttp_form_free(NULL);
}

static void check_formdecode(void) {
    static const char data[] = "a=1&&b=x+y%21&flag&a=2&c=d=e&=v&%zz=%4";
    struct nethttp_form *form = nethttp_formdecode(data, sizeof data - 1);
    const char *name, *value;
    size_t name_len, value_len;
    CHECK(form != NULL);
    CHECK_INT(nethttp_form_count(form), 7); /* the empty piece is skipped */

    CHECK_INT(nethttp_form_field(form, 1, &name, &name_len, &value, &value_len), NETHTTP_RESULT_OK);
    CHECK_STR(name, "b");
    CHECK_STR(value, "x y!");
    CHECK_INT(nethttp_form_field(form, 2, &name, &name_len, &value, &value_len), NETHTTP_RESULT_OK);
    CHECK_STR(name, "flag"); /* a piece without '=' is a name with an empty value */
    CHECK_STR(value, "");
    CHECK_INT(value_len, 0);
    CHECK_INT(nethttp_form_field(form, 4, &name, &name_len, &value, &value_len), NETHTTP_RESULT_OK);
    CHECK_STR(name, "c"); /* split on the first '=' */
    CHECK_STR(value, "d=e");
    CHECK_INT(nethttp_form_field(form, 6, &name, &name_len, &value, &value_len), NETHTTP_RESULT_OK);
    CHECK_STR(name, "%zz");
    CHECK_STR(value, "%4");

    /* The last value of a name wins, as with Prosody's form_data[name]. */
    CHECK_STR(nethttp_form_get(form, "a", 1, &value_len), "2");
    CHECK_INT(value_len, 1);
    CHECK(nethttp_form_get(form, "missing", 7, NULL) == NULL);
    CHECK(nethttp_form_get(form, "A", 1, NULL) == NULL); /* names are case-sensitive */
    CHECK(nethttp_form_get(NULL, "a", 1, NULL) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_NULL_ARGUMENT);
    nethttp_form_free(form);

    form = nethttp_formdecode(NULL, 0);
    CHECK(form != NULL);
    CHECK_INT(nethttp_form_count(form), 0);
    nethttp_form_free(form);
    CHECK(nethttp_formdecode(NULL, 4) == NULL);
    CHECK_INT(nethttp_last_error_code(), NETHTTP_RESULT_INVALID_ARGUMENT);
}

static void check_misc(void) {
    CHECK_STR(nethttp_version(), NETHTTP_VERSION);
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_OK), "ok");
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_CONNECTION_REFUSED), "connection-refused");
    CHECK_STR(nethttp_strerror(NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED), "certificate-verify-failed");
    nethttp_free(NULL);
}

int main(void) {
    check_urlencode();
    check_urldecode();
    check_roundtrip_all_bytes();
    check_form_api();
    check_formdecode();
    check_misc();
    return test_finish("test_encoding");
}
