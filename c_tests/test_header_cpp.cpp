// The header compiles as C++ and its functions link from C++ code.
#include "nethttp.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace {
struct FreeDeleter {
    void operator()(char *p) const { nethttp_free(p); }
};
struct FormDeleter {
    void operator()(nethttp_form *f) const { nethttp_form_free(f); }
};
}  // namespace

int main() {
    int failures = 0;
    std::size_t len = 0;
    std::unique_ptr<char, FreeDeleter> enc(nethttp_urlencode("a b", 3, &len));
    if (!enc || std::string(enc.get(), len) != "a%20b") {
        std::fprintf(stderr, "urlencode from C++ failed\n");
        failures++;
    }
    std::unique_ptr<nethttp_form, FormDeleter> form(nethttp_form_new());
    if (nethttp_form_add(form.get(), "k", 1, "v v", 3) != NETHTTP_RESULT_OK) {
        failures++;
    }
    std::unique_ptr<char, FreeDeleter> body(nethttp_formencode(form.get(), &len));
    if (!body || std::strcmp(body.get(), "k=v+v") != 0) {
        std::fprintf(stderr, "formencode from C++ failed\n");
        failures++;
    }
    // As with stat(), the function hides the struct name in C++: spell "struct".
    struct nethttp_request *request = nethttp_request(nullptr, nullptr, nullptr, nullptr);
    if (request != nullptr || nethttp_last_error_code() != NETHTTP_RESULT_NULL_ARGUMENT) {
        failures++;
    }
    if (nethttp_shutdown() != NETHTTP_RESULT_OK) {
        failures++;
    }
    std::printf("test_header_cpp: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
