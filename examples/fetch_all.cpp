// fetch_all: fetch several URLs at once from C++, through nethttp.hpp (the
// installed C++17 interface), and print one line per URL.
//
//   fetch_all URL...
//
// All requests start on one client before the first answer is awaited, so
// they run concurrently on the client's engine thread; each answer comes
// through a std::future. Exit status: 0 when every URL answered with a 2xx
// status, 1 otherwise, 2 on bad usage (or a URL nethttp refuses).
#include <nethttp.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " URL...\n";
        return 2;
    }

    // The encoding helpers, without the network.
    nethttp::Form form;
    form.add("q", "C++ & nethttp").add("page", "1");
    std::cout << "form: " << form.encode() << "\n";
    std::cout << "urlencode: " << nethttp::urlencode("50% off/today") << "\n";

    try {
        std::atomic<int> finished{0};
        nethttp::Client::Config config;
        config.defaults.header("Accept", "*/*").header("X-Example", "fetch_all").timeout(std::chrono::seconds(20));
        config.max_per_host = 4;
        // Called on the engine thread for every finished request.
        config.observer = [&finished](const nethttp::Response &) { finished++; };
        nethttp::Client client(config);  // its destructor ends every request

        std::vector<std::future<nethttp::Response>> answers;
        for (int i = 1; i < argc; i++) {
            answers.push_back(client.future(argv[i]));  // starts it
        }

        int good = 0;
        for (std::size_t i = 0; i < answers.size(); i++) {
            nethttp::Response response = answers[i].get();
            std::cout << argv[i + 1] << " -> ";
            if (!response.ok()) {  // a failed transfer: status 0
                std::cout << "failed: " << response.error_name() << "\n";
                continue;
            }
            std::cout << "HTTP " << response.status() << ", " << response.body().size() << " bytes, "
                      << response.headers().size() << " headers";
            if (auto total = response.timing(NETHTTP_TIMING_TOTAL)) {
                std::cout << ", " << total->count() << " us";
            }
            std::cout << "\n";
            if (response.status() >= 200 && response.status() < 300) {
                good++;
            }
        }
        std::cout << good << " of " << answers.size() << " succeeded (" << finished.load() << " observed)\n";
        return good == static_cast<int>(answers.size()) ? 0 : 1;
    } catch (const nethttp::Error &error) {
        // e.g. "invalid-url: ..." or "unsupported-scheme: ..."
        std::cerr << "nethttp: " << error.what() << "\n";
        return 2;
    }
}
