// fetch_all: fetch several URLs at once from C++, through the RAII wrapper in
// nethttp_cxx.hpp, and print one line per URL.
//
//   fetch_all URL...
//
// All requests start before the first answer is awaited, so they run
// concurrently on nethttp's engine thread.
// Exit status: 0 when every URL answered with a 2xx status, 1 otherwise,
// 2 on bad usage.
#include "nethttp_cxx.hpp"

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " URL...\n";
        return 2;
    }
    nethttp_cxx::Engine engine;  // declared first: shuts nethttp down last

    // The encoding helpers, without the network.
    nethttp_cxx::Form form;
    form.add("q", "C++ & nethttp").add("page", "1");
    std::cout << "form: " << form.encode() << "\n";
    std::cout << "urlencode: " << nethttp_cxx::urlencode("50% off/today") << "\n";

    try {
        nethttp_cxx::Options options;
        options.header("Accept", "*/*").header("X-Example", "fetch_all").timeout(std::chrono::seconds(20));

        std::vector<nethttp_cxx::Request> requests;
        for (int i = 1; i < argc; i++) {
            requests.emplace_back(argv[i], &options);  // starts it
        }

        int good = 0;
        for (std::size_t i = 0; i < requests.size(); i++) {
            nethttp_cxx::Response response = requests[i].wait();
            std::cout << argv[i + 1] << " -> ";
            if (response.status == 0) {
                std::cout << "failed: " << response.error << "\n";
                continue;
            }
            std::cout << "HTTP " << response.status << ", " << response.body.size() << " bytes, "
                      << response.headers.size() << " headers\n";
            if (response.ok()) {
                good++;
            }
        }
        std::cout << good << " of " << requests.size() << " succeeded\n";
        return good == static_cast<int>(requests.size()) ? 0 : 1;
    } catch (const nethttp_cxx::Error &error) {
        // e.g. "invalid-url: ..." or "unsupported-scheme: ..."
        std::cerr << "nethttp: " << error.what() << "\n";
        return 2;
    }
}
