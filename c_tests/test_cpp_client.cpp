// The C++ interface, nethttp.hpp, against the local test server: clients
// with default headers, callbacks as lambdas (move-only ones too), futures,
// responses, failures, cancel and destroy, the client's destructor, dispatch
// mode, observers, errors thrown, exceptions in callbacks, the default
// client and nethttp::shutdown(), and that every callable is freed once;
// with the argument `fetch`, fetch() on a client, in dispatch mode and on
// the default client.
//
//   test_cpp_client PORT_FILE [CERT_FILE [fetch]]   (fetch: only the fetch() checks)
#include "nethttp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

int checks = 0;
int failures = 0;

void check(bool ok, const char *file, int line, const std::string &what) {
    checks++;
    if (!ok) {
        failures++;
        std::cerr << file << ":" << line << ": CHECK failed: " << what << "\n";
    }
}

#define CHECK(cond) check(static_cast<bool>(cond), __FILE__, __LINE__, #cond)

// Prints both sides when they differ; for anything std::ostream prints.
#define CHECK_EQ(actual, expected)                                                                            \
    do {                                                                                                      \
        const auto check_a_ = (actual);                                                                       \
        const auto check_e_ = (expected);                                                                     \
        bool check_ok_ = check_a_ == check_e_;                                                                \
        std::string check_what_ = #actual " == " #expected;                                                   \
        if (!check_ok_) {                                                                                     \
            std::ostringstream check_s_;                                                                      \
            check_s_ << check_what_ << " (got \"" << check_a_ << "\", expected \"" << check_e_ << "\")";      \
            check_what_ = check_s_.str();                                                                     \
        }                                                                                                     \
        check(check_ok_, __FILE__, __LINE__, check_what_);                                                    \
    } while (0)

// Runs `body`, which must throw nethttp::Error with `expected_code`.
#define CHECK_THROWS(expected_code, body)                                                                         \
    do {                                                                                                 \
        nethttp_result check_got_ = NETHTTP_RESULT_OK;                                                   \
        std::string check_msg_;                                                                          \
        try {                                                                                            \
            body;                                                                                        \
        } catch (const nethttp::Error &check_e_) {                                                       \
            check_got_ = check_e_.code();                                                                \
            check_msg_ = check_e_.what();                                                                \
        }                                                                                                \
        check(check_got_ == (expected_code), __FILE__, __LINE__,                                                  \
              std::string(#body " throws " #expected_code ", got ") + nethttp_strerror(check_got_) + " " + check_msg_); \
        check(check_msg_.find(nethttp_strerror(expected_code)) == 0, __FILE__, __LINE__,                          \
              "what() starts with the code's name: " + check_msg_);                                      \
    } while (0)

bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

bool starts_with(const std::string &text, const std::string &prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

bool ends_with(const std::string &text, const std::string &suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using Clock = std::chrono::steady_clock;
const std::chrono::seconds kWait(20);

// A loopback port with nothing listening: listen, read the port, close.
int closed_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int port = 1;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 && listen(fd, 1) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

// Counts callbacks and lets the test thread wait for them.
class Counter {
public:
    void add() {
        std::lock_guard<std::mutex> lock(mutex_);
        count_++;
        cond_.notify_all();
    }
    int wait_for(int count, std::chrono::milliseconds timeout = kWait) {
        std::unique_lock<std::mutex> lock(mutex_);
        cond_.wait_for(lock, timeout, [&] { return count_ >= count; });
        return count_;
    }
    int count() {
        std::lock_guard<std::mutex> lock(mutex_);
        return count_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cond_;
    int count_ = 0;
};

bool ready(std::future<nethttp::Response> &future, std::chrono::milliseconds timeout = kWait) {
    return future.wait_for(timeout) == std::future_status::ready;
}

// A request through future(), waited for (at most kWait).
nethttp::Response wait(std::future<nethttp::Response> future) {
    bool ok = ready(future);
    check(ok, __FILE__, __LINE__, "the response came in time");
    return ok ? future.get() : nethttp::Response();
}
nethttp::Response get(nethttp::Client &client, const std::string &url) { return wait(client.future(url)); }
nethttp::Response get(nethttp::Client &client, const std::string &url, const nethttp::Options &options) {
    return wait(client.future(url, options));
}

std::string base;     // http://127.0.0.1:PORT
std::string refused;  // http://127.0.0.1:CLOSED/
const std::thread::id main_thread = std::this_thread::get_id();

// Default headers of a client reach the server, merged with the request's;
// a move-only lambda is a callback, run once on the engine thread.
void test_client_defaults() {
    nethttp::Client::Config config;
    config.defaults.header("X-Default", "from-client").header("X-Override", "default");
    nethttp::Client client(config);

    nethttp::Options options;
    options.header("x-override", "request").header("X-Request", "r1");
    std::promise<nethttp::Response> promise;
    std::future<nethttp::Response> future = promise.get_future();
    std::thread::id callback_thread;
    auto owned = std::make_unique<int>(7);  // makes the lambda move-only
    nethttp::Request request = client.request(
        base + "/echo", options,
        [promise = std::move(promise), owned = std::move(owned), &callback_thread](nethttp::Response r) mutable {
            callback_thread = std::this_thread::get_id();
            promise.set_value(std::move(r));
        });
    CHECK(request.valid());
    CHECK(request.handle() != nullptr);
    nethttp::Response r = wait(std::move(future));
    CHECK_EQ(r.status(), 200);
    CHECK(r.ok());
    CHECK(contains(r.body(), "\r\nX-Default: from-client\r\n"));
    CHECK(contains(r.body(), "\r\nx-override: request\r\n"));
    CHECK(!contains(r.body(), "X-Override: default"));
    CHECK(contains(r.body(), "\r\nX-Request: r1\r\n"));
    CHECK(callback_thread != std::thread::id());
    CHECK(callback_thread != main_thread);

    // Without options the defaults alone; remove_header() drops a default.
    nethttp::Response plain = get(client, base + "/echo");
    CHECK(contains(plain.body(), "\r\nX-Default: from-client\r\n"));
    CHECK(contains(plain.body(), "\r\nUser-Agent: nethttp/"));
    nethttp::Options without;
    without.remove_header("X-Default").remove_header("User-Agent");
    nethttp::Response removed = get(client, base + "/echo", without);
    CHECK_EQ(removed.status(), 200);
    CHECK(!contains(removed.body(), "X-Default"));
    CHECK(!contains(removed.body(), "User-Agent"));
    CHECK(contains(removed.body(), "\r\nX-Override: default\r\n"));
}

void test_future() {
    nethttp::Client client;
    std::future<nethttp::Response> not_found = client.future(base + "/status/404");
    nethttp::Options post;
    post.body("x=1");
    std::future<nethttp::Response> echo = client.future(base + "/echo", post);
    std::future<nethttp::Response> failed = client.future(refused);
    nethttp::Response r = wait(std::move(not_found));
    CHECK_EQ(r.status(), 404);
    CHECK(r.ok());  // an HTTP error status is a response
    CHECK_EQ(r.body(), "status 404");
    CHECK_EQ(r.method(), "GET");
    nethttp::Response e = wait(std::move(echo));
    CHECK_EQ(e.method(), "POST");
    CHECK(ends_with(e.body(), "\r\n\r\nx=1"));
    nethttp::Response f = wait(std::move(failed));
    CHECK_EQ(f.status(), 0);
    CHECK_EQ(f.error_name(), "connection-refused");
}

// A Response holds everything the C response said.
void test_response() {
    nethttp::Client client;
    nethttp::Response r = get(client, base + "/header?name=X-Test&value=hello");
    CHECK_EQ(r.status(), 200);
    CHECK(r.ok());
    CHECK_EQ(r.error_code(), NETHTTP_RESULT_OK);
    CHECK_EQ(r.error_name(), "");
    CHECK_EQ(r.error_detail(), "");
    CHECK_EQ(r.body(), "ok");
    CHECK_EQ(r.method(), "GET");
    CHECK_EQ(r.url(), base + "/header?name=X-Test&value=hello");
    CHECK(r.header("x-test") == std::optional<std::string>("hello"));
    CHECK(r.header("X-TEST") == std::optional<std::string>("hello"));
    CHECK(r.header("X-Multi") == std::optional<std::string>("a"));  // the first
    CHECK(!r.header("X-Missing").has_value());
    // Every header in order, with the server's case, repeats included.
    std::vector<std::string> multi;
    std::size_t test_at = r.headers().size();
    for (std::size_t i = 0; i < r.headers().size(); i++) {
        if (r.headers()[i].first == "X-Multi") {
            multi.push_back(r.headers()[i].second);
        }
        if (r.headers()[i].first == "X-Test") {
            test_at = i;
        }
    }
    CHECK(multi == std::vector<std::string>({"a", "b"}));
    CHECK(test_at < r.headers().size());
    // Timings: plain http has no TLS phase; the phases are cumulative.
    CHECK(!r.timing(NETHTTP_TIMING_TLS).has_value());
    CHECK(r.timing(NETHTTP_TIMING_TOTAL).has_value());
    CHECK(r.timing(NETHTTP_TIMING_CONNECT).has_value());
    CHECK(r.timing(NETHTTP_TIMING_FIRST_BYTE).has_value());
    if (r.timing(NETHTTP_TIMING_TOTAL) && r.timing(NETHTTP_TIMING_FIRST_BYTE)) {
        CHECK(*r.timing(NETHTTP_TIMING_FIRST_BYTE) <= *r.timing(NETHTTP_TIMING_TOTAL));
        CHECK(r.timing(NETHTTP_TIMING_TOTAL)->count() >= 0);
    }
    CHECK(!r.timing(static_cast<nethttp_timing>(99)).has_value());

    // POST: a body makes it one, form-encoded unless said otherwise.
    nethttp::Options post;
    post.body("a=1&b=two");
    nethttp::Response p = get(client, base + "/echo", post);
    CHECK_EQ(p.status(), 200);
    CHECK_EQ(p.method(), "POST");
    CHECK(starts_with(p.body(), "POST /echo HTTP/1.1\r\n"));
    CHECK(contains(p.body(), "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
    CHECK(ends_with(p.body(), "\r\n\r\na=1&b=two"));

    // A binary body with a NUL, another method, a content type of our own.
    nethttp::Options put;
    put.body(std::string_view("a\0b", 3)).method("PUT").header("Content-Type", "application/octet-stream");
    nethttp::Response u = get(client, base + "/echo", put);
    CHECK_EQ(u.method(), "PUT");
    CHECK(starts_with(u.body(), "PUT /echo HTTP/1.1\r\n"));
    CHECK(ends_with(u.body(), std::string("\r\n\r\na\0b", 7)));
    CHECK(contains(u.body(), "\r\nContent-Type: application/octet-stream\r\n"));
    // clear_body() and default_method() go back to a GET.
    put.clear_body().default_method();
    CHECK_EQ(get(client, base + "/echo", put).method(), "GET");

    // An rvalue Response gives its body away.
    std::string body = get(client, base + "/bytes/1000").body();
    CHECK_EQ(body.size(), 1000u);
    CHECK_EQ(static_cast<int>(static_cast<unsigned char>(body[1])), 10);  // byte i = (i * 7 + 3) % 256

    // A body limit makes it a failure.
    nethttp::Options small;
    small.max_body(10);
    nethttp::Response big = get(client, base + "/bytes/5000", small);
    CHECK_EQ(big.error_name(), "body-too-large");
    // A timeout.
    nethttp::Options quick;
    quick.timeout(std::chrono::milliseconds(200)).connect_timeout(std::chrono::seconds(5));
    nethttp::Response slow = get(client, base + "/delay/3000", quick);
    CHECK_EQ(slow.error_code(), NETHTTP_RESULT_TIMEOUT);
}

void test_https(const std::string &https_base, const std::string &cert) {
    nethttp::Client client;
    nethttp::Response unverified = get(client, https_base + "/status/200");
    CHECK_EQ(unverified.error_name(), "certificate-verify-failed");
    CHECK(!unverified.ok());
    nethttp::Options insecure;
    insecure.insecure();
    nethttp::Response r = get(client, https_base + "/status/200", insecure);
    CHECK_EQ(r.status(), 200);
    CHECK(r.timing(NETHTTP_TIMING_TLS).has_value());
    if (!cert.empty()) {
        nethttp::Options verified;
        verified.ca_file(cert);
        CHECK_EQ(get(client, https_base + "/status/201", verified).status(), 201);
        verified.system_ca();
        CHECK_EQ(get(client, https_base + "/status/201", verified).error_code(),
                 NETHTTP_RESULT_CERTIFICATE_VERIFY_FAILED);
    }
}

void test_refused() {
    nethttp::Client client;
    nethttp::Response r = get(client, refused);
    CHECK_EQ(r.status(), 0);
    CHECK(!r.ok());
    CHECK_EQ(r.error_code(), NETHTTP_RESULT_CONNECTION_REFUSED);
    CHECK_EQ(r.error_name(), "connection-refused");
    CHECK_EQ(r.body(), "connection-refused");
    CHECK(!r.error_detail().empty());
    CHECK(r.headers().empty());
    CHECK_EQ(r.method(), "GET");
    CHECK(r.timing(NETHTTP_TIMING_TOTAL).has_value());

    // The same through a callback.
    Counter done;
    std::string name;
    int status = -1;
    client.request(refused, [&](nethttp::Response response) {
        name = response.error_name();
        status = response.status();
        done.add();
    });
    CHECK_EQ(done.wait_for(1), 1);
    CHECK_EQ(name, "connection-refused");
    CHECK_EQ(status, 0);
}

// cancel(): the callback comes at once with "cancelled"; destroy(): it never
// comes, and its callable is freed right there.
void test_cancel_and_destroy() {
    nethttp::Client client;
    std::promise<nethttp::Response> promise;
    std::future<nethttp::Response> future = promise.get_future();
    Clock::time_point start = Clock::now();
    nethttp::Request request = client.request(
        base + "/delay/10000", [promise = std::move(promise)](nethttp::Response r) mutable { promise.set_value(std::move(r)); });
    request.cancel();
    bool came = ready(future, std::chrono::seconds(5));
    CHECK(came);
    nethttp::Response r = came ? future.get() : nethttp::Response();
    CHECK(Clock::now() - start < std::chrono::seconds(5));
    CHECK_EQ(r.status(), 0);
    CHECK_EQ(r.error_name(), "cancelled");
    CHECK_EQ(r.error_code(), NETHTTP_RESULT_CANCELLED);
    CHECK_EQ(r.body(), "cancelled");
    CHECK(!r.timing(NETHTTP_TIMING_FIRST_BYTE).has_value());  // -1: no byte came
    CHECK(r.timing(NETHTTP_TIMING_TOTAL).has_value());
    // Too late to destroy: the callback ran (and freed its callable).
    CHECK(!request.destroy());
    CHECK(!request.valid());
    request.cancel();  // an empty Request ignores it

    auto token = std::make_shared<int>(0);
    std::atomic<int> called{0};
    nethttp::Request doomed = client.request(base + "/delay/10000", [token, &called](nethttp::Response) { called++; });
    CHECK_EQ(token.use_count(), 2);
    nethttp::Request moved = std::move(doomed);  // move-only handle
    CHECK(!doomed.valid());
    CHECK(moved.valid());
    CHECK(!doomed.destroy());
    CHECK(moved.destroy());
    CHECK_EQ(token.use_count(), 1);  // the callable is gone
    CHECK(!moved.valid());
    CHECK_EQ(client.live_requests(), 0u);
    client.close();  // would give the callback, had it not been destroyed
    CHECK_EQ(called.load(), 0);
    CHECK(!client);
}

// Dropping a Request lets its request run; the client's destructor gives every
// request its callback before it returns, and frees every callable.
void test_lifetimes() {
    auto token = std::make_shared<int>(0);
    Counter first;
    std::string last_name;
    int last_status = -1;
    {
        nethttp::Client client;
        client.request(base + "/delay/100", [token, &first](nethttp::Response r) {
            if (r.status() == 200) {
                first.add();
            }
        });  // the Request is dropped at once
        CHECK_EQ(first.wait_for(1), 1);
        client.request(base + "/delay/10000", [token, &last_name, &last_status](nethttp::Response r) {
            last_name = r.error_name();
            last_status = r.status();
        });
    }  // grace 0: cancelled now
    CHECK_EQ(last_name, "cancelled");
    CHECK_EQ(last_status, 0);
    CHECK_EQ(token.use_count(), 1);

    // With a grace period, requests in flight finish.
    int status = -1;
    {
        nethttp::Client::Config config;
        config.grace = std::chrono::seconds(10);
        nethttp::Client client(config);
        client.request(base + "/delay/300", [&status](nethttp::Response r) { status = r.status(); });
        nethttp::Client moved(std::move(client));  // the request moves with its client
        CHECK(!client);
    }
    CHECK_EQ(status, 200);

    // Move assignment frees the old client first.
    std::string name;
    nethttp::Client a;
    a.request(base + "/delay/10000", [&name](nethttp::Response r) { name = r.error_name(); });
    a = nethttp::Client();
    CHECK_EQ(name, "cancelled");
    CHECK_EQ(get(a, base + "/status/200").status(), 200);
}

// Dispatch mode: callbacks and observer calls run only in dispatch(), on this
// thread, when fd() polls readable.
void test_dispatch() {
    int observed = 0;
    int done = 0;
    bool all_on_this_thread = true;
    bool observer_first = true;
    std::vector<int> statuses;
    nethttp::Client::Config config;
    config.dispatch = true;
    config.observer = [&](const nethttp::Response &) {
        observed++;
        all_on_this_thread = all_on_this_thread && std::this_thread::get_id() == main_thread;
    };
    nethttp::Client client(config);
    CHECK(client.fd() >= 0);
    for (const char *path : {"/status/200", "/status/204", "/status/404"}) {
        client.request(base + path, [&](nethttp::Response r) {
            done++;
            observer_first = observer_first && observed == done;
            statuses.push_back(r.status());
            all_on_this_thread = all_on_this_thread && std::this_thread::get_id() == main_thread;
        });
    }
    CHECK_EQ(done, 0);  // nothing runs outside dispatch()
    std::size_t ran = 0;
    int wakeups = 0;
    Clock::time_point deadline = Clock::now() + kWait;
    while (done < 3 && Clock::now() < deadline) {
        pollfd p{client.fd(), POLLIN, 0};
        if (poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
            wakeups++;
            ran += client.dispatch();
        }
    }
    CHECK_EQ(done, 3);
    CHECK_EQ(ran, 3u);
    CHECK(wakeups >= 1);
    CHECK_EQ(observed, 3);
    CHECK(observer_first);
    CHECK(all_on_this_thread);
    std::sort(statuses.begin(), statuses.end());
    CHECK(statuses == std::vector<int>({200, 204, 404}));
    pollfd p{client.fd(), POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 0), 0);  // nothing queued any more
    CHECK_EQ(client.dispatch(), 0u);
    CHECK_EQ(client.live_requests(), 0u);


    // A future is fulfilled inside dispatch().
    std::future<nethttp::Response> future = client.future(base + "/status/202");
    deadline = Clock::now() + kWait;
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready && Clock::now() < deadline) {
        pollfd q{client.fd(), POLLIN, 0};
        if (poll(&q, 1, 100) == 1) {
            client.dispatch(1);
        }
    }
    CHECK_EQ(wait(std::move(future)).status(), 202);

    // Not in dispatch mode: no fd, dispatch() refused.
    nethttp::Client inline_client;
    CHECK_EQ(inline_client.fd(), -1);
    CHECK_THROWS(NETHTTP_RESULT_INVALID_ARGUMENT, inline_client.dispatch());
}

// An observer sees every finished request once, not destroyed ones.
void test_observer() {
    std::atomic<int> observed{0};
    std::atomic<int> failed{0};
    {
        nethttp::Client::Config config;
        config.observer = [&](const nethttp::Response &r) {
            observed++;
            if (!r.ok()) {
                failed++;
            }
        };
        config.max_total = 2;
        config.max_per_host = 1;
        config.stack_size = 256 * 1024;
        nethttp::Client client(config);
        CHECK_EQ(get(client, base + "/status/200").status(), 200);
        CHECK_EQ(get(client, refused).status(), 0);
        std::future<nethttp::Response> future = client.future(base + "/conn");
        CHECK(ready(future));
        nethttp::Request destroyed = client.request(base + "/delay/10000", [](nethttp::Response) {});
        CHECK(destroyed.destroy());
    }
    CHECK_EQ(observed.load(), 3);
    CHECK_EQ(failed.load(), 1);
}

std::atomic<int> handled{0};
std::string handled_what;

void exception_handler(std::exception_ptr exception) {
    try {
        std::rethrow_exception(exception);
    } catch (const std::exception &e) {
        handled_what = e.what();
    } catch (...) {
        handled_what = "?";
    }
    handled++;
}

// Exceptions never reach C: they go to the handler, and nethttp goes on.
void test_exceptions() {
    CHECK(nethttp::set_exception_handler(exception_handler) == nullptr);
    {
        nethttp::Client::Config config;
        config.observer = [](const nethttp::Response &r) {
            if (r.status() == 203) {
                throw std::runtime_error("observer boom");
            }
        };
        nethttp::Client client(config);
        client.request(base + "/status/200", [](nethttp::Response) { throw std::runtime_error("callback boom"); });
        Counter done;
        client.request(base + "/status/200", [&done](nethttp::Response) { done.add(); });
        CHECK_EQ(done.wait_for(1), 1);
        CHECK_EQ(get(client, base + "/status/203").status(), 203);  // after its observer threw
    }  // every callback has run
    CHECK_EQ(handled.load(), 2);
    CHECK(handled_what == "callback boom" || handled_what == "observer boom");
    CHECK(nethttp::set_exception_handler(nullptr) == exception_handler);
    // Without a handler they are swallowed.
    nethttp::Client client;
    Counter done;
    client.request(base + "/status/200", [](nethttp::Response) { throw 42; });
    client.request(base + "/status/200", [&done](nethttp::Response) { done.add(); });
    CHECK_EQ(done.wait_for(1), 1);
    client.close();
    CHECK_EQ(handled.load(), 2);
}

// Refusals throw nethttp::Error with the C code; a request that cannot start
// frees its callable at once.
void test_errors() {
    nethttp::Options options;
    CHECK_THROWS(NETHTTP_RESULT_INVALID_HEADER_NAME, options.header("Bad Name", "x"));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_HEADER_NAME, options.remove_header(""));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_HEADER_VALUE, options.header("X-Ok", "a\r\nInjected: yes"));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_HEADER_VALUE, options.header("X-Ok", std::string("a\0b", 3)));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_METHOD, options.method("GE T"));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_ARGUMENT, options.timeout(std::chrono::milliseconds(-1)));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_ARGUMENT, options.ca_file(std::string("a\0b", 3)));
    // Chaining goes on after a refusal; the options were left unchanged.
    options.header("X-After", "yes");

    nethttp::Client client;
    auto token = std::make_shared<int>(0);
    CHECK_THROWS(NETHTTP_RESULT_UNSUPPORTED_SCHEME, client.request("ftp://127.0.0.1/", [token](nethttp::Response) {}));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_URL, client.request("no url", options, [token](nethttp::Response) {}));
    CHECK_THROWS(NETHTTP_RESULT_INVALID_URL, client.future(base + std::string("/\0x", 3)));
    CHECK_THROWS(NETHTTP_RESULT_UNSUPPORTED_SCHEME, client.fetch("ftp://127.0.0.1/"));
    CHECK_THROWS(NETHTTP_RESULT_UNSUPPORTED_SCHEME, nethttp::request("ftp://127.0.0.1/", [token](nethttp::Response) {}));
    CHECK_EQ(token.use_count(), 1);

    nethttp::Client::Config tiny;
    tiny.stack_size = 1000;
    CHECK_THROWS(NETHTTP_RESULT_INVALID_ARGUMENT, nethttp::Client bad(tiny));

    // A moved-from client refuses everything (it does not fall back on the
    // default client).
    nethttp::Client other(std::move(client));
    CHECK_THROWS(NETHTTP_RESULT_NULL_ARGUMENT, client.fetch(base + "/status/200"));
    CHECK_THROWS(NETHTTP_RESULT_NULL_ARGUMENT, client.request(base + "/status/200", [token](nethttp::Response) {}));
    CHECK_THROWS(NETHTTP_RESULT_NULL_ARGUMENT, client.dispatch());
    CHECK_EQ(client.fd(), -1);
    CHECK_EQ(client.live_requests(), 0u);
    CHECK_EQ(token.use_count(), 1);
    CHECK_EQ(get(other, base + "/status/200").status(), 200);

    // fetch() inside one of the client's own callbacks would wait for itself.
    std::promise<nethttp_result> inner;
    std::future<nethttp_result> inner_result = inner.get_future();
    other.request(base + "/status/200", [&other, &inner](nethttp::Response) {
        try {
            other.fetch(base + "/status/200");
            inner.set_value(NETHTTP_RESULT_OK);
        } catch (const nethttp::Error &e) {
            inner.set_value(e.code());
        }
    });
    bool inner_ready = inner_result.wait_for(kWait) == std::future_status::ready;
    CHECK(inner_ready);
    CHECK_EQ(inner_ready ? inner_result.get() : NETHTTP_RESULT_OK, NETHTTP_RESULT_CALLED_FROM_CALLBACK);
}

// The default client: request(), future(); shutdown() frees the
// callables of the requests whose callbacks it drops.
void test_default_client() {
    Counter done;
    int status = 0;
    std::thread::id thread;
    nethttp::request(base + "/status/202", [&](nethttp::Response r) {
        status = r.status();
        thread = std::this_thread::get_id();
        done.add();
    });
    CHECK_EQ(done.wait_for(1), 1);
    CHECK_EQ(status, 202);
    CHECK(thread != main_thread);
    nethttp::Options options;
    options.header("X-Default-Client", "yes");
    std::future<nethttp::Response> future = nethttp::future(base + "/echo", options);
    CHECK(contains(wait(std::move(future)).body(), "\r\nX-Default-Client: yes\r\n"));

    // A destroyed default-client request.
    auto token = std::make_shared<int>(0);
    nethttp::Request destroyed = nethttp::request(base + "/delay/10000", [token](nethttp::Response) {});
    CHECK(destroyed.destroy());
    CHECK_EQ(token.use_count(), 1);

    // Requests dropped by shutdown().
    std::atomic<int> called{0};
    nethttp::Request kept = nethttp::request(base + "/delay/10000", [token, &called](nethttp::Response) { called++; });
    nethttp::request(base + "/delay/10000", [token, &called](nethttp::Response) { called++; });
    std::future<nethttp::Response> dropped = nethttp::future(base + "/delay/10000");
    CHECK_EQ(token.use_count(), 3);
    CHECK(nethttp::live_requests() >= 3u);
    nethttp::shutdown();
    CHECK_EQ(token.use_count(), 1);
    CHECK_EQ(called.load(), 0);
    CHECK_EQ(nethttp::live_requests(), 0u);
    bool broken = false;
    if (ready(dropped, std::chrono::milliseconds(0))) {
        try {
            dropped.get();
        } catch (const std::future_error &e) {
            broken = e.code() == std::future_errc::broken_promise;
        }
    }
    CHECK(broken);
    CHECK(!kept.destroy());  // shutdown() already freed it
    // A new default client starts on demand.
    CHECK_EQ(wait(nethttp::future(base + "/status/200")).status(), 200);
    {
        nethttp::ShutdownGuard guard;
        nethttp::request(base + "/delay/10000", [token](nethttp::Response) {});
        CHECK_EQ(token.use_count(), 2);
    }
    CHECK_EQ(token.use_count(), 1);
}

// fetch(): blocking, on a client, in dispatch mode and on the default client.
// (A group of its own, the ctest test_cpp_client_fetch: see c_tests/CMakeLists.txt.)
void test_fetch() {
    nethttp::Client client;
    nethttp::Response r = client.fetch(base + "/header?name=X-Test&value=hello");
    CHECK_EQ(r.status(), 200);
    CHECK_EQ(r.body(), "ok");
    CHECK(r.header("x-test") == std::optional<std::string>("hello"));
    nethttp::Options post;
    post.body("a=1&b=two");
    nethttp::Response p = client.fetch(base + "/echo", post);
    CHECK_EQ(p.status(), 200);
    CHECK_EQ(p.method(), "POST");
    CHECK(starts_with(p.body(), "POST /echo HTTP/1.1\r\n"));
    CHECK(ends_with(p.body(), "\r\n\r\na=1&b=two"));
    nethttp::Response f = client.fetch(refused);
    CHECK_EQ(f.status(), 0);
    CHECK(!f.ok());
    CHECK_EQ(f.error_name(), "connection-refused");
    CHECK_EQ(f.error_code(), NETHTTP_RESULT_CONNECTION_REFUSED);
    // Every fetch returns its response, however quickly it comes.
    int lost = 0;
    for (int i = 0; i < 50; i++) {
        try {
            lost += client.fetch(base + "/status/200").status() != 200;
        } catch (const nethttp::Error &e) {
            if (lost++ == 0) {
                std::cerr << "fetch " << i << " threw " << e.what() << "\n";
            }
        }
    }
    CHECK_EQ(lost, 0);
    CHECK_EQ(client.live_requests(), 0u);

    // In dispatch mode the observer runs here, before fetch() returns.
    int observed = 0;
    nethttp::Client::Config config;
    config.dispatch = true;
    config.observer = [&observed](const nethttp::Response &) { observed++; };
    nethttp::Client dispatching(config);
    CHECK_EQ(dispatching.fetch(base + "/status/201").status(), 201);
    CHECK_EQ(observed, 1);

    // The default client.
    CHECK_EQ(nethttp::fetch(base + "/status/202").status(), 202);
    nethttp::Options options;
    options.header("X-Fetch", "yes");
    nethttp::Response e = nethttp::fetch(base + "/echo", options);
    CHECK(contains(e.body(), "\r\nX-Fetch: yes\r\n"));
}

void test_encodings() {
    CHECK_EQ(nethttp::urlencode("a b/\xc3\xbc"), "a%20b%2F%C3%BC");
    CHECK_EQ(nethttp::urldecode("a%20b+c%00d"), std::string("a b+c\0d", 7));
    nethttp::Form form;
    form.add("q", "C++ & nethttp").add("page", "1").add("q", "again");
    CHECK_EQ(form.size(), 3u);
    CHECK_EQ(form.encode(), "q=C%2B%2B+%26+nethttp&page=1&q=again");
    CHECK(form.get("q") == std::optional<std::string>("again"));
    CHECK(!form.get("Q").has_value());
    CHECK_EQ(form[1].first, "page");
    CHECK_THROWS(NETHTTP_RESULT_INDEX_OUT_OF_RANGE, form.at(3));
    nethttp::Form decoded = nethttp::Form::decode("a=1+2&b=%26");
    CHECK_EQ(decoded.size(), 2u);
    CHECK(decoded.get("a") == std::optional<std::string>("1 2"));
    CHECK(decoded.get("b") == std::optional<std::string>("&"));
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " PORT_FILE [CERT_FILE [fetch]]\n";
        return 2;
    }
    std::ifstream port_file(argv[1]);
    int http_port = 0;
    int https_port = 0;
    if (!(port_file >> http_port >> https_port)) {
        std::cerr << argv[0] << ": cannot read the ports from " << argv[1] << "\n";
        return 2;
    }
    std::string cert = argc > 2 ? argv[2] : "";
    base = "http://127.0.0.1:" + std::to_string(http_port);
    refused = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";

    // The fetch group is a test of its own (see c_tests/CMakeLists.txt).
    bool fetch_group = argc > 3 && std::string(argv[3]) == "fetch";
    try {
        if (fetch_group) {
            test_fetch();
        } else {
            test_encodings();
            test_client_defaults();
            test_future();
            test_response();
            test_https("https://127.0.0.1:" + std::to_string(https_port), cert);
            test_refused();
            test_cancel_and_destroy();
            test_lifetimes();
            test_dispatch();
            test_observer();
            test_exceptions();
            test_errors();
            test_default_client();
        }
    } catch (const std::exception &e) {
        std::cerr << "unexpected exception: " << e.what() << "\n";
        failures++;
    }
    nethttp::shutdown();
    std::printf("test_cpp_client: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
