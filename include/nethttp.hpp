/*
 * nethttp.hpp: the C++17 interface of nethttp, header-only, over nethttp.h.
 *
 * Installed next to nethttp.h and carried by the same CMake targets
 * (nethttp::nethttp, nethttp::nethttp_static) and pkg-config file; link the
 * library as for C. Everything is in namespace `nethttp`. nethttp.h remains
 * the manual for what the library does; this header only says how the C++
 * types map onto it and what they add.
 *
 *   nethttp::Client::Config config;
 *   config.defaults.header("Accept", "application/json");
 *   config.max_per_host = 4;
 *   nethttp::Client client(config);
 *
 *   // Blocking.
 *   nethttp::Response r = client.fetch("http://127.0.0.1:8080/echo");
 *
 *   // A callback: any callable taking a nethttp::Response (move-only ones
 *   // too), run once on the client's engine thread (or in dispatch()).
 *   client.request("http://127.0.0.1:8080/status/204", [](nethttp::Response r) {
 *       std::printf("%d %s\n", r.status(), r.error_name().c_str());
 *   });
 *
 *   // A future.
 *   std::future<nethttp::Response> f = client.future("http://127.0.0.1:8080/");
 *
 * Types:
 * - Error: the exception every failing call throws (a std::runtime_error
 *   carrying the nethttp_result code). A failed *transfer* is not thrown: it
 *   is a Response with status 0 and an error code (see Response::ok()).
 * - Options (nethttp_options): request options, setters chain and throw
 *   Error when the C setter refuses. Move-only (the C API has no copy).
 * - Response: an owned copy of a nethttp_response (status, body, headers,
 *   error, URL, method, timings); an ordinary value type.
 * - Client (nethttp_client) and Client::Config (nethttp_client_config).
 * - Request (nethttp_request*): the handle of a request, to cancel or
 *   destroy it.
 * - Form, urlencode(), urldecode(): the encodings.
 * - request(), fetch(), future(), live_requests(), shutdown(),
 *   ShutdownGuard: the same on nethttp's default client.
 *
 * Ownership and lifetimes:
 * - Client's destructor calls nethttp_client_free() with the grace period of
 *   its Config (Config::grace, default 0 ms), which gives every request of
 *   the client its one callback ("cancelled" for those cut short) before it
 *   returns; in dispatch mode those callbacks run inside the destructor, on
 *   its thread. So no callback of a client ever runs after its Client is
 *   gone, and every callable passed to it has been run and freed.
 *   Destroying a Client inside one of its own callbacks (or observer calls)
 *   cannot work (nethttp_client_free() refuses, it would wait for itself):
 *   the destructor then leaks the client and its observer rather than free
 *   memory still in use; close() throws Error instead.
 * - The callable given to request()/future() is moved to the heap and handed
 *   to nethttp as the userdata. It is freed exactly once: right after it
 *   ran (on the thread that ran it), or by Request::destroy() when nethttp
 *   says the callback will never come, or by nethttp::shutdown() for requests
 *   of the default client it dropped, or at once (before the Error is
 *   thrown) when the request cannot start.
 * - Request's destructor does NOT destroy the request: dropping the handle
 *   (or ignoring request()'s result) lets the request run to its callback,
 *   exactly like ignoring the handle nethttp_request() returns in C. This is
 *   the less surprising choice: `client.request(url, callback);` as a
 *   statement works, future() needs no handle to be kept alive for its
 *   std::future to become ready, and a temporary wrapper never silently
 *   turns into "no callback ever". To stop a request call cancel() (the
 *   callback comes, with "cancelled") or destroy() (it never comes, and the
 *   callable is freed). Whatever a callback captures by reference must
 *   therefore outlive the request: destroy() it, wait for it, or let the
 *   Client's destructor end it.
 * - Requests of the default client (nethttp::request() and friends): the C
 *   function nethttp_shutdown() drops their callbacks without a word, which
 *   would leak their callables. Call nethttp::shutdown() (or keep a
 *   ShutdownGuard in main()) instead: it calls nethttp_shutdown() and then
 *   frees the callables of the requests it dropped (a dropped future()'s
 *   std::future then reports std::future_errc::broken_promise).
 *
 * Exceptions and callbacks: a C++ exception must never unwind into C. Every
 * callback and observer call goes through a trampoline that catches
 * everything:
 * - for future(), an exception while copying the response (std::bad_alloc)
 *   is stored in the promise, so std::future::get() rethrows it;
 * - for request() callbacks and observers, an exception thrown by your
 *   callable (or while copying the response for it) is passed to the handler
 *   installed with set_exception_handler(), and otherwise swallowed: nethttp
 *   goes on, the request is over, the callable is freed. The default handler
 *   is none (exceptions are silently dropped); install one to log them or
 *   to call std::terminate(). The handler itself runs inside the
 *   trampoline's catch; what it throws is swallowed too.
 *
 * Threads: as in C. Callbacks and observer calls run on the client's engine
 * thread, or, for a client in dispatch mode, inside Client::dispatch() on
 * the thread that calls it. Client, Request and the free functions may be
 * used from any thread, except Client::dispatch() (one thread at a time) and
 * Client's destructor/close()/move-assignment (no other call on that client
 * may run). Options, Form and Client::Config are not synchronized.
 */
#ifndef NETHTTP_HPP
#define NETHTTP_HPP

#if !defined(__cplusplus) || (__cplusplus < 201703L && (!defined(_MSVC_LANG) || _MSVC_LANG < 201703L))
#error "nethttp.hpp needs C++17; from C, include nethttp.h"
#endif

#include "nethttp.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace nethttp {

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

// Thrown when nethttp refuses a call (a bad URL, header or method, a client
// that cannot start, ...). code() is the nethttp_result, name() its stable
// short name, what() "name: detail" with nethttp_last_error()'s sentence.
class Error : public std::runtime_error {
public:
    Error(nethttp_result code, const std::string &message) : std::runtime_error(message), code_(code) {}
    nethttp_result code() const noexcept { return code_; }
    const char *name() const noexcept { return nethttp_strerror(code_); }

private:
    nethttp_result code_;
};

// Receives the exceptions that callbacks and observers let escape (see the
// top of this file). Called on the thread that ran the callback.
using ExceptionHandler = void (*)(std::exception_ptr);

namespace detail {

inline std::atomic<ExceptionHandler> &exception_handler_slot() noexcept {
    static std::atomic<ExceptionHandler> slot{nullptr};
    return slot;
}

inline void report_exception(std::exception_ptr exception) noexcept {
    ExceptionHandler handler = exception_handler_slot().load(std::memory_order_acquire);
    if (handler != nullptr) {
        try {
            handler(std::move(exception));
        } catch (...) {
        }
    }
}

// An Error for `code`, with the calling thread's last error message, which
// must be read before anything else can fail on this thread.
inline Error make_error(nethttp_result code, const char *what) {
    std::string message = std::string(nethttp_strerror(code)) + ": " + what;
    const char *detail = nethttp_last_error();
    if (detail != nullptr && *detail != '\0') {
        message += ": ";
        message += detail;
    }
    return Error(code, message);
}

[[noreturn]] inline void throw_last_error(const char *what) { throw make_error(nethttp_last_error_code(), what); }

inline void check(nethttp_result result, const char *what) {
    if (result != NETHTTP_RESULT_OK) {
        throw make_error(result, what);
    }
}

// C strings end at the first NUL: refuse a std::string that holds one rather
// than send a shorter name, value, method, URL or path than was given.
inline const char *c_string(const std::string &text, nethttp_result code, const char *what) {
    if (text.find('\0') != std::string::npos) {
        throw Error(code, std::string(nethttp_strerror(code)) + ": " + what + " contains a NUL byte");
    }
    return text.c_str();
}

inline std::uint64_t to_ms(std::chrono::milliseconds duration, const char *what) {
    if (duration.count() < 0) {
        throw Error(NETHTTP_RESULT_INVALID_ARGUMENT,
                    std::string(nethttp_strerror(NETHTTP_RESULT_INVALID_ARGUMENT)) + ": " + what + " is negative");
    }
    return static_cast<std::uint64_t>(duration.count());
}

inline std::uint32_t to_grace_ms(std::chrono::milliseconds grace) noexcept {
    if (grace.count() <= 0) {
        return 0;
    }
    if (static_cast<std::uint64_t>(grace.count()) > std::numeric_limits<std::uint32_t>::max()) {
        return std::numeric_limits<std::uint32_t>::max();
    }
    return static_cast<std::uint32_t>(grace.count());
}

inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); i++) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<char>(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<char>(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

struct FreeString {
    void operator()(char *p) const noexcept { nethttp_free(p); }
};
struct FreeOptions {
    void operator()(nethttp_options *p) const noexcept { nethttp_options_free(p); }
};
struct FreeForm {
    void operator()(nethttp_form *p) const noexcept { nethttp_form_free(p); }
};
struct FreeConfig {
    void operator()(nethttp_client_config *p) const noexcept { nethttp_client_config_free(p); }
};
struct FreeResponse {
    void operator()(nethttp_response *p) const noexcept { nethttp_response_free(p); }
};

// Copies a string nethttp allocated, then frees it.
inline std::string take(char *data, std::size_t len, const char *what) {
    std::unique_ptr<char, FreeString> owned(data);
    if (!owned) {
        throw_last_error(what);
    }
    return std::string(owned.get(), len);
}

}  // namespace detail

// Installs `handler` for exceptions escaping callbacks and observers (nullptr:
// none, they are swallowed); returns the previous one. Process-wide.
inline ExceptionHandler set_exception_handler(ExceptionHandler handler) noexcept {
    return detail::exception_handler_slot().exchange(handler, std::memory_order_acq_rel);
}

/* ------------------------------------------------------------------------ */
/* Encodings                                                                 */

// nethttp_urlencode(): RFC 3986 unreserved bytes kept, the rest %XX.
inline std::string urlencode(std::string_view data) {
    std::size_t len = 0;
    char *encoded = nethttp_urlencode(data.data(), data.size(), &len);
    return detail::take(encoded, len, "nethttp_urlencode");
}

// nethttp_urldecode(): %XX decoded, '+' kept; the result may hold any byte.
inline std::string urldecode(std::string_view data) {
    std::size_t len = 0;
    char *decoded = nethttp_urldecode(data.data(), data.size(), &len);
    return detail::take(decoded, len, "nethttp_urldecode");
}

// An ordered list of byte-string (name, value) fields (nethttp_form);
// duplicates kept. Move-only.
class Form {
public:
    Form() : form_(nethttp_form_new()) {
        if (!form_) {
            detail::throw_last_error("nethttp_form_new");
        }
    }
    // nethttp_formdecode() of application/x-www-form-urlencoded data.
    static Form decode(std::string_view data) {
        nethttp_form *form = nethttp_formdecode(data.data(), data.size());
        if (form == nullptr) {
            detail::throw_last_error("nethttp_formdecode");
        }
        return Form(form);
    }

    Form &add(std::string_view name, std::string_view value) {
        detail::check(nethttp_form_add(form_.get(), name.data(), name.size(), value.data(), value.size()),
                      "nethttp_form_add");
        return *this;
    }
    std::size_t size() const noexcept { return nethttp_form_count(form_.get()); }
    // The field at `index`; throws Error (index-out-of-range) past the end.
    std::pair<std::string, std::string> at(std::size_t index) const {
        const char *name = nullptr;
        const char *value = nullptr;
        std::size_t name_len = 0;
        std::size_t value_len = 0;
        detail::check(nethttp_form_field(form_.get(), index, &name, &name_len, &value, &value_len),
                      "nethttp_form_field");
        return {std::string(name, name_len), std::string(value, value_len)};
    }
    std::pair<std::string, std::string> operator[](std::size_t index) const { return at(index); }
    // The value of the last field called `name` (case-sensitive), if any.
    std::optional<std::string> get(std::string_view name) const {
        std::size_t len = 0;
        const char *value = nethttp_form_get(form_.get(), name.data(), name.size(), &len);
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string(value, len);
    }
    // nethttp_formencode().
    std::string encode() const {
        std::size_t len = 0;
        char *encoded = nethttp_formencode(form_.get(), &len);
        return detail::take(encoded, len, "nethttp_formencode");
    }
    const nethttp_form *get() const noexcept { return form_.get(); }

private:
    explicit Form(nethttp_form *form) : form_(form) {}
    std::unique_ptr<nethttp_form, detail::FreeForm> form_;
};

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

// Request options (nethttp_options); also a client's defaults. Requests and
// clients copy them, so one Options may serve many requests. Setters return
// *this for chaining and throw Error when nethttp refuses (the options are
// then unchanged). Move-only; a moved-from Options may only be assigned to or
// destroyed.
class Options {
public:
    Options() : options_(nethttp_options_new()) {
        if (!options_) {
            detail::throw_last_error("nethttp_options_new");
        }
    }

    // Sets a header (replacing one of the same name, in any case); an empty
    // value sends the header empty.
    Options &header(const std::string &name, const std::string &value) {
        detail::check(nethttp_options_set_header(
                          options_.get(),
                          detail::c_string(name, NETHTTP_RESULT_INVALID_HEADER_NAME, "the header name"),
                          detail::c_string(value, NETHTTP_RESULT_INVALID_HEADER_VALUE, "the header value")),
                      "nethttp_options_set_header");
        return *this;
    }
    // Sends no header of that name, removing a default (User-Agent, the
    // client's defaults, libcurl's Accept, ...).
    Options &remove_header(const std::string &name) {
        detail::check(nethttp_options_set_header(
                          options_.get(),
                          detail::c_string(name, NETHTTP_RESULT_INVALID_HEADER_NAME, "the header name"), nullptr),
                      "nethttp_options_set_header");
        return *this;
    }
    // The request body (binary-safe, copied); makes the request a POST unless
    // a method is set.
    Options &body(std::string_view body) {
        detail::check(nethttp_options_set_body(options_.get(), body.data(), body.size()), "nethttp_options_set_body");
        return *this;
    }
    Options &clear_body() {
        detail::check(nethttp_options_clear_body(options_.get()), "nethttp_options_clear_body");
        return *this;
    }
    // Forces the method, sent as given (case-sensitive).
    Options &method(const std::string &method) {
        detail::check(nethttp_options_set_method(options_.get(),
                                                 detail::c_string(method, NETHTTP_RESULT_INVALID_METHOD, "the method")),
                      "nethttp_options_set_method");
        return *this;
    }
    // Back to the default method (GET, or POST with a body).
    Options &default_method() {
        detail::check(nethttp_options_set_method(options_.get(), nullptr), "nethttp_options_set_method");
        return *this;
    }
    // No certificate or host-name verification for these options' requests.
    Options &insecure(bool on = true) {
        detail::check(nethttp_options_set_insecure(options_.get(), on ? 1 : 0), "nethttp_options_set_insecure");
        return *this;
    }
    // The whole request's limit; 0 means none. Negative: Error (invalid-argument).
    Options &timeout(std::chrono::milliseconds timeout) {
        detail::check(nethttp_options_set_timeout_ms(options_.get(), detail::to_ms(timeout, "the timeout")),
                      "nethttp_options_set_timeout_ms");
        return *this;
    }
    // The connect limit; 0 restores the default 30 s.
    Options &connect_timeout(std::chrono::milliseconds timeout) {
        detail::check(
            nethttp_options_set_connect_timeout_ms(options_.get(), detail::to_ms(timeout, "the connect timeout")),
            "nethttp_options_set_connect_timeout_ms");
        return *this;
    }
    // Verify servers against the PEM file at `path` instead of the system's store.
    Options &ca_file(const std::string &path) {
        detail::check(nethttp_options_set_ca_file(options_.get(),
                                                  detail::c_string(path, NETHTTP_RESULT_INVALID_ARGUMENT, "the path")),
                      "nethttp_options_set_ca_file");
        return *this;
    }
    // Back to the system's CA store.
    Options &system_ca() {
        detail::check(nethttp_options_set_ca_file(options_.get(), nullptr), "nethttp_options_set_ca_file");
        return *this;
    }
    // A limit on the response body; 0 means none.
    Options &max_body(std::uint64_t bytes) {
        detail::check(nethttp_options_set_max_body(options_.get(), bytes), "nethttp_options_set_max_body");
        return *this;
    }

    const nethttp_options *get() const noexcept { return options_.get(); }
    nethttp_options *get() noexcept { return options_.get(); }

private:
    std::unique_ptr<nethttp_options, detail::FreeOptions> options_;
};

/* ------------------------------------------------------------------------ */
/* Response                                                                  */

// The outcome of a request, copied out of a nethttp_response: it owns its
// strings and lives as long as you like. A failed transfer (refused,
// timeout, cancelled, ...) is a Response too: status() 0, ok() false,
// error_name() e.g. "connection-refused". An HTTP error status (404, 500) is
// a response that arrived: ok() is true.
class Response {
public:
    using Header = std::pair<std::string, std::string>;

    // Status 0, error code null-argument: what an empty response would say.
    Response() = default;

    // Copies everything from `response` (not kept); throws Error
    // (null-argument) for nullptr, std::bad_alloc when memory runs out.
    explicit Response(const nethttp_response *response) {
        if (response == nullptr) {
            throw Error(NETHTTP_RESULT_NULL_ARGUMENT, "null-argument: no nethttp_response");
        }
        status_ = nethttp_response_status(response);
        error_code_ = nethttp_response_error_code(response);
        const char *error = nethttp_response_error(response);
        error_name_ = error != nullptr ? error : "";
        const char *detail = nethttp_response_error_detail(response);
        error_detail_ = detail != nullptr ? detail : "";
        const char *url = nethttp_response_url(response);
        url_ = url != nullptr ? url : "";
        const char *method = nethttp_response_method(response);
        method_ = method != nullptr ? method : "";
        std::size_t body_len = 0;
        const char *body = nethttp_response_body(response, &body_len);
        if (body != nullptr) {
            body_.assign(body, body_len);
        }
        std::size_t count = nethttp_response_header_count(response);
        headers_.reserve(count);
        for (std::size_t i = 0; i < count; i++) {
            const char *name = nullptr;
            const char *value = nullptr;
            if (nethttp_response_header_at(response, i, &name, &value) == NETHTTP_RESULT_OK) {
                headers_.emplace_back(name != nullptr ? name : "", value != nullptr ? value : "");
            }
        }
        for (int which = 0; which < kTimings; which++) {
            timings_[which] = nethttp_response_timing_us(response, which);
        }
    }

    // The HTTP status, or 0 when the transfer failed.
    int status() const noexcept { return status_; }
    // True when a response arrived (whatever its status), false when the
    // transfer failed (status 0; see error_code()).
    bool ok() const noexcept { return error_code_ == NETHTTP_RESULT_OK; }
    // NETHTTP_RESULT_OK, or why the transfer failed (a code of 100 or more).
    nethttp_result error_code() const noexcept { return error_code_; }
    // "" when a response arrived, else the stable short reason, e.g.
    // "connection-refused", "timeout", "cancelled" (nethttp_strerror()).
    const std::string &error_name() const noexcept { return error_name_; }
    // libcurl's message for a failed transfer, for logs; "" otherwise.
    const std::string &error_detail() const noexcept { return error_detail_; }
    // The body (binary-safe); for a failed transfer, the reason string.
    const std::string &body() const &noexcept { return body_; }
    std::string body() &&noexcept { return std::move(body_); }
    // The effective URL.
    const std::string &url() const noexcept { return url_; }
    // The method the request sent ("GET", "POST", ...).
    const std::string &method() const noexcept { return method_; }
    // Every header in the order received, names in the server's case,
    // repeated ones included (none for a failed transfer).
    const std::vector<Header> &headers() const noexcept { return headers_; }
    // The value of the first header called `name`, compared case-insensitively.
    std::optional<std::string> header(std::string_view name) const {
        for (const Header &header : headers_) {
            if (detail::iequals(header.first, name)) {
                return header.second;
            }
        }
        return std::nullopt;
    }
    // Time from the start of the request to the end of a phase
    // (nethttp_response_timing_us()); nullopt where the phase did not happen
    // (TLS on http, phases after a failure) or for an unknown `which`.
    std::optional<std::chrono::microseconds> timing(nethttp_timing which) const noexcept {
        int index = static_cast<int>(which);
        if (index < 0 || index >= kTimings || timings_[index] < 0) {
            return std::nullopt;
        }
        return std::chrono::microseconds(timings_[index]);
    }

private:
    static constexpr int kTimings = NETHTTP_TIMING_TOTAL + 1;

    int status_ = 0;
    nethttp_result error_code_ = NETHTTP_RESULT_NULL_ARGUMENT;
    std::string error_name_;
    std::string error_detail_;
    std::string body_;
    std::string url_;
    std::string method_;
    std::vector<Header> headers_;
    std::int64_t timings_[kTimings] = {-1, -1, -1, -1, -1};
};

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */

namespace detail {

// What a request's userdata points to: the callable, and the bookkeeping that
// frees it exactly once. One reference belongs to the C side (the userdata),
// one to each Request holding it. Whoever claims the call (the trampoline
// when the callback comes; Request::destroy() or nethttp::shutdown() when
// nethttp says it never will; the starter when the request did not start)
// runs or drops the callable and then releases the C side's reference.
class Call {
public:
    Call() = default;
    Call(const Call &) = delete;
    Call &operator=(const Call &) = delete;
    virtual ~Call() = default;

    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            delete this;
        }
    }
    // True for exactly one caller.
    bool claim() noexcept { return !claimed_.exchange(true, std::memory_order_acq_rel); }

    // Runs the callable with a copy of `response` and frees it; never throws.
    virtual void deliver(const nethttp_response *response) noexcept = 0;
    // Frees the callable without running it; never throws.
    virtual void drop() noexcept = 0;

    // Default-client requests only (see Registry).
    bool registered = false;
    std::atomic<std::uint64_t> stamp{0};

private:
    std::atomic<int> refs_{1};
    std::atomic<bool> claimed_{false};
};

template <class F>
class FunctionCall final : public Call {
public:
    template <class G>
    explicit FunctionCall(G &&function) : function_(std::in_place, std::forward<G>(function)) {}

    void deliver(const nethttp_response *response) noexcept override {
        try {
            Response copy(response);
            (*function_)(std::move(copy));
        } catch (...) {
            report_exception(std::current_exception());
        }
        drop();
    }
    void drop() noexcept override { function_.reset(); }

private:
    std::optional<F> function_;
};

class PromiseCall final : public Call {
public:
    std::future<Response> get_future() { return promise_->get_future(); }

    void deliver(const nethttp_response *response) noexcept override {
        try {
            promise_->set_value(Response(response));
        } catch (...) {
            try {
                promise_->set_exception(std::current_exception());
            } catch (...) {
            }
        }
        drop();
    }
    // A promise destroyed unset makes its future throw broken_promise.
    void drop() noexcept override { promise_.reset(); }

private:
    std::optional<std::promise<Response>> promise_{std::in_place};
};

// The requests of nethttp's default client whose callback has not come yet,
// for nethttp::shutdown(): nethttp_shutdown() drops their callbacks. A call
// is stamped (from `sequence`) once nethttp_request() returned; shutdown()
// takes a number from the same sequence before calling nethttp_shutdown(), so
// a call stamped with a smaller number was made on a default client that is
// gone when nethttp_shutdown() returns: if nobody claimed it, its callback
// never comes. Calls not stamped yet are left for a later shutdown().
struct Registry {
    std::mutex mutex;
    std::unordered_set<Call *> calls;
    std::atomic<std::uint64_t> sequence{0};
};

inline Registry &registry() {
    // Never destroyed: a callback may still run while static objects are
    // destroyed at exit.
    static Registry *instance = new Registry();
    return *instance;
}

inline void unregister_call(Call *call) noexcept {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.calls.erase(call);
}

// The nethttp_callback of every C++ request.
inline int on_response(const char *, std::size_t, int, const nethttp_response *response, void *userdata) noexcept {
    Call *call = static_cast<Call *>(userdata);
    // nethttp calls back at most once, and only while nobody else claimed
    // the call (destroy() and shutdown() claim after nethttp said no
    // callback can come), so this claim always succeeds.
    if (!call->claim()) {
        return 0;
    }
    if (call->registered) {
        unregister_call(call);
    }
    call->deliver(response);
    call->release();
    return 0;  // nethttp frees the request and its response now
}

struct Observer {
    std::function<void(const Response &)> function;
};

// The nethttp_observer of every Client with an observer.
inline void on_observe(const nethttp_response *response, void *userdata) noexcept {
    Observer *observer = static_cast<Observer *>(userdata);
    try {
        Response copy(response);
        observer->function(copy);
    } catch (...) {
        report_exception(std::current_exception());
    }
}

template <class F>
using EnableCallback = std::enable_if_t<std::is_invocable_v<std::decay_t<F> &, Response>, int>;

template <class F>
Call *make_call(F &&function) {
    return new FunctionCall<std::decay_t<F>>(std::forward<F>(function));
}

}  // namespace detail

/* ------------------------------------------------------------------------ */
/* Request                                                                   */

namespace detail {
struct Access;
}  // namespace detail

// The handle of a request started by request() (a nethttp_request*), to
// cancel or destroy it. Move-only. Its destructor does NOT destroy the
// request: dropping a Request lets the request run to its callback (see the
// top of this file for why). An empty Request (default-constructed, moved
// from, or after destroy()) ignores cancel() and destroy().
class Request {
public:
    Request() noexcept = default;
    Request(Request &&other) noexcept : handle_(other.handle_), call_(other.call_) {
        other.handle_ = nullptr;
        other.call_ = nullptr;
    }
    Request &operator=(Request &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = other.handle_;
            call_ = other.call_;
            other.handle_ = nullptr;
            other.call_ = nullptr;
        }
        return *this;
    }
    Request(const Request &) = delete;
    Request &operator=(const Request &) = delete;
    // Forgets the handle; the request goes on and its callback comes.
    ~Request() { reset(); }

    // nethttp_request_cancel(): the transfer is aborted and the callback
    // comes (later, never inside this call) with status 0 and "cancelled",
    // unless the request finished or its callback already ran: then nothing
    // changes. Never blocks.
    void cancel() const {
        if (handle_ != nullptr) {
            detail::check(nethttp_request_cancel(handle_), "nethttp_request_cancel");
        }
    }

    // nethttp_destroy_request(): after this returns the callback will never
    // be called. If it had not been called, the callable is freed here
    // (without running) and true is returned; false means the callback
    // already ran (or is running: then this waits for it to return, unless
    // called from inside that very callback). The Request is empty afterwards.
    bool destroy() noexcept {
        if (call_ == nullptr) {
            return false;
        }
        nethttp_destroy_request(handle_);
        bool dropped = call_->claim();
        if (dropped) {
            if (call_->registered) {
                detail::unregister_call(call_);
            }
            call_->drop();
            call_->release();  // the C side's reference
        }
        reset();
        return dropped;
    }

    // The C handle (stale, and harmless to use, once the request ended).
    struct nethttp_request *handle() const noexcept { return handle_; }
    bool valid() const noexcept { return call_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

private:
    friend struct detail::Access;
    Request(struct nethttp_request *handle, detail::Call *call) noexcept : handle_(handle), call_(call) {}

    void reset() noexcept {
        if (call_ != nullptr) {
            call_->release();
        }
        call_ = nullptr;
        handle_ = nullptr;
    }

    struct nethttp_request *handle_ = nullptr;
    detail::Call *call_ = nullptr;
};

namespace detail {

// Starts requests for Client and the free functions.
struct Access {
    // Takes `call` (one reference, the C side's) and starts the request on
    // `client` (nullptr: nethttp's default client). Returns a Request with
    // its own reference, or frees the call and throws Error.
    static Request start(nethttp_client *client, const std::string &url, const nethttp_options *options,
                         detail::Call *call) {
        const char *c_url = nullptr;
        try {
            c_url = detail::c_string(url, NETHTTP_RESULT_INVALID_URL, "the URL");
        } catch (...) {
            call->drop();
            call->release();
            throw;
        }
        call->retain();  // the Request's
        detail::Registry &registry = detail::registry();
        if (client == nullptr) {
            // Registered before the request exists: its callback may come
            // before nethttp_request() returns.
            call->registered = true;
            try {
                std::lock_guard<std::mutex> lock(registry.mutex);
                registry.calls.insert(call);
            } catch (...) {
                call->release();
                call->drop();
                call->release();
                throw;
            }
        }
        struct nethttp_request *handle = client != nullptr
                                             ? nethttp_client_request(client, c_url, options, detail::on_response, call)
                                             : nethttp_request(c_url, options, detail::on_response, call);
        if (handle == nullptr) {
            // No callback will come: the call is ours alone.
            Error error = detail::make_error(nethttp_last_error_code(),
                                             client != nullptr ? "nethttp_client_request" : "nethttp_request");
            if (call->registered) {
                detail::unregister_call(call);
            }
            call->claim();
            call->drop();
            call->release();
            call->release();
            throw error;
        }
        if (client == nullptr) {
            call->stamp.store(registry.sequence.fetch_add(1) + 1);
        }
        return Request(handle, call);
    }

    static Response fetch(nethttp_client *client, const std::string &url, const nethttp_options *options) {
        std::unique_ptr<nethttp_response, detail::FreeResponse> response(
            nethttp_fetch(client, detail::c_string(url, NETHTTP_RESULT_INVALID_URL, "the URL"), options));
        if (!response) {
            detail::throw_last_error("nethttp_fetch");
        }
        return Response(response.get());
    }

    static std::future<Response> future(nethttp_client *client, const std::string &url,
                                        const nethttp_options *options) {
        auto *call = new detail::PromiseCall();
        std::future<Response> result;
        try {
            result = call->get_future();
        } catch (...) {
            call->release();
            throw;
        }
        start(client, url, options, call);  // the Request is dropped: the request goes on
        return result;
    }
};

}  // namespace detail

/* ------------------------------------------------------------------------ */
/* Client                                                                    */

// What a Client is made with (nethttp_client_config). Move-only, because
// Options is.
struct ClientConfig {
    // Options every request starts from; a request's own options win field
    // by field, headers merge by name (case-insensitive).
    Options defaults;
    // Connection limits (0: none): over all hosts, and to one host.
    std::size_t max_total = 0;
    std::size_t max_per_host = 0;
    // Dispatch mode: callbacks and observer calls run only inside
    // Client::dispatch(), on its thread; Client::fd() is readable while
    // some are queued.
    bool dispatch = false;
    // Called once per finished request (success, failure or cancel), just
    // before its callback and in the same context; not for destroyed requests.
    std::function<void(const Response &)> observer;
    // Stack of the engine thread; 0: 8 MiB. Less than 64 KiB: Error.
    std::size_t stack_size = 0;
    // How long the destructor (and close()) lets requests in flight finish
    // before cancelling them.
    std::chrono::milliseconds grace{0};
};

// A client (nethttp_client): an engine thread with its own connections,
// default options, limits and delivery mode. Move-only. The destructor frees
// it (nethttp_client_free() with Config::grace): every request still running
// gets its callback before the destructor returns.
class Client {
public:
    using Config = ClientConfig;

    Client() : Client(Config()) {}

    explicit Client(const Config &config) : grace_(config.grace) {
        std::unique_ptr<nethttp_client_config, detail::FreeConfig> c_config(nethttp_client_config_new());
        if (!c_config) {
            detail::throw_last_error("nethttp_client_config_new");
        }
        detail::check(nethttp_client_config_set_defaults(c_config.get(), config.defaults.get()),
                      "nethttp_client_config_set_defaults");
        detail::check(nethttp_client_config_set_max_connections(c_config.get(), config.max_total, config.max_per_host),
                      "nethttp_client_config_set_max_connections");
        detail::check(nethttp_client_config_set_dispatch(c_config.get(), config.dispatch ? 1 : 0),
                      "nethttp_client_config_set_dispatch");
        detail::check(nethttp_client_config_set_stack_size(c_config.get(), config.stack_size),
                      "nethttp_client_config_set_stack_size");
        std::unique_ptr<detail::Observer> observer;
        if (config.observer) {
            observer.reset(new detail::Observer{config.observer});
            detail::check(nethttp_client_config_set_observer(c_config.get(), detail::on_observe, observer.get()),
                          "nethttp_client_config_set_observer");
        }
        client_ = nethttp_client_new(c_config.get());
        if (client_ == nullptr) {
            detail::throw_last_error("nethttp_client_new");
        }
        observer_ = std::move(observer);
    }

    Client(Client &&other) noexcept
        : client_(other.client_), observer_(std::move(other.observer_)), grace_(other.grace_) {
        other.client_ = nullptr;
    }
    // Frees this client first (as the destructor does), then takes `other`'s.
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            free_noexcept();
            client_ = other.client_;
            observer_ = std::move(other.observer_);
            grace_ = other.grace_;
            other.client_ = nullptr;
        }
        return *this;
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() { free_noexcept(); }

    // Frees the client now, waiting up to `grace` for requests in flight
    // (every request gets its callback before this returns). Throws Error
    // (called-from-callback) inside one of the client's own callbacks; the
    // client then stays valid. A no-op on a closed or moved-from Client.
    void close() { close(grace_); }
    void close(std::chrono::milliseconds grace) {
        if (client_ == nullptr) {
            return;
        }
        detail::check(nethttp_client_free(client_, detail::to_grace_ms(grace)), "nethttp_client_free");
        client_ = nullptr;
        observer_.reset();
    }

    // Starts a GET (or what `options` say) and returns at once; `callback`
    // (any callable taking a Response, moved or copied into the request) runs
    // once when it completes, fails or is cancelled, unless the request is
    // destroyed first. Throws Error when the request cannot start (bad URL,
    // unsupported scheme, a closed client, ...); the callable is then freed
    // and never runs.
    template <class F, detail::EnableCallback<F> = 0>
    Request request(const std::string &url, F &&callback) {
        nethttp_client *client = checked();  // before the callable is taken
        return detail::Access::start(client, url, nullptr, detail::make_call(std::forward<F>(callback)));
    }
    template <class F, detail::EnableCallback<F> = 0>
    Request request(const std::string &url, const Options &options, F &&callback) {
        nethttp_client *client = checked();
        return detail::Access::start(client, url, options.get(), detail::make_call(std::forward<F>(callback)));
    }

    // Makes the request and waits for it (nethttp_fetch()). A failed
    // transfer is a Response (status 0); Error only when the request could
    // not start, or inside one of this client's own callbacks.
    Response fetch(const std::string &url) { return detail::Access::fetch(checked(), url, nullptr); }
    Response fetch(const std::string &url, const Options &options) {
        return detail::Access::fetch(checked(), url, options.get());
    }

    // Starts a request whose Response arrives through a std::future. Error
    // when it cannot start. (In dispatch mode the future becomes ready only
    // inside dispatch(): do not wait for it on the dispatching thread
    // without dispatching.)
    std::future<Response> future(const std::string &url) { return detail::Access::future(checked(), url, nullptr); }
    std::future<Response> future(const std::string &url, const Options &options) {
        return detail::Access::future(checked(), url, options.get());
    }

    // Dispatch mode: the file descriptor to poll for reading (-1 when not in
    // dispatch mode), and running the queued callbacks on this thread (up to
    // `max`, 0: all queued now). dispatch() returns how many ran and throws
    // Error when not in dispatch mode or inside this client's callbacks.
    int fd() const noexcept { return nethttp_client_fd(client_); }
    std::size_t dispatch(std::size_t max = 0) {
        int ran = nethttp_client_dispatch(checked(), max);
        if (ran < 0) {
            detail::throw_last_error("nethttp_client_dispatch");
        }
        return static_cast<std::size_t>(ran);
    }

    // Requests in flight, queued for dispatch or in their callback.
    std::size_t live_requests() const noexcept { return nethttp_client_live_requests(client_); }

    // The C client (nullptr once closed or moved from), for the C API.
    nethttp_client *get() const noexcept { return client_; }
    explicit operator bool() const noexcept { return client_ != nullptr; }

private:
    nethttp_client *checked() const {
        if (client_ == nullptr) {
            // nethttp_fetch(NULL, ...) would use the default client: refuse.
            throw Error(NETHTTP_RESULT_NULL_ARGUMENT, "null-argument: the Client is closed or moved from");
        }
        return client_;
    }

    void free_noexcept() noexcept {
        if (client_ == nullptr) {
            return;
        }
        if (nethttp_client_free(client_, detail::to_grace_ms(grace_)) != NETHTTP_RESULT_OK) {
            // Inside one of its own callbacks: the client stays alive and
            // may still call the observer, so both are leaked (see the top).
            (void)observer_.release();
        }
        client_ = nullptr;
        observer_.reset();
    }

    nethttp_client *client_ = nullptr;
    std::unique_ptr<detail::Observer> observer_;
    std::chrono::milliseconds grace_{0};
};

/* ------------------------------------------------------------------------ */
/* The default client                                                        */

// As Client::request(), on nethttp's default client (nethttp_request()).
template <class F, detail::EnableCallback<F> = 0>
Request request(const std::string &url, F &&callback) {
    return detail::Access::start(nullptr, url, nullptr, detail::make_call(std::forward<F>(callback)));
}
template <class F, detail::EnableCallback<F> = 0>
Request request(const std::string &url, const Options &options, F &&callback) {
    return detail::Access::start(nullptr, url, options.get(), detail::make_call(std::forward<F>(callback)));
}

// As Client::fetch(), on the default client (nethttp_fetch(NULL, ...)).
inline Response fetch(const std::string &url) { return detail::Access::fetch(nullptr, url, nullptr); }
inline Response fetch(const std::string &url, const Options &options) {
    return detail::Access::fetch(nullptr, url, options.get());
}

// As Client::future(), on the default client.
inline std::future<Response> future(const std::string &url) { return detail::Access::future(nullptr, url, nullptr); }
inline std::future<Response> future(const std::string &url, const Options &options) {
    return detail::Access::future(nullptr, url, options.get());
}

// nethttp_live_requests(): the default client's live requests.
inline std::size_t live_requests() noexcept { return nethttp_live_requests(); }

// nethttp_shutdown(), then frees the callables of the default client's
// requests whose callbacks it dropped (their futures report broken_promise).
// Throws Error (called-from-callback) inside a default-client callback.
inline void shutdown() {
    detail::Registry &registry = detail::registry();
    std::uint64_t now = registry.sequence.fetch_add(1) + 1;
    detail::check(nethttp_shutdown(), "nethttp_shutdown");
    std::vector<detail::Call *> dropped;
    {
        std::lock_guard<std::mutex> lock(registry.mutex);
        dropped.reserve(registry.calls.size());
        for (auto it = registry.calls.begin(); it != registry.calls.end();) {
            detail::Call *call = *it;
            std::uint64_t stamp = call->stamp.load();
            if (stamp != 0 && stamp < now && call->claim()) {
                dropped.push_back(call);
                it = registry.calls.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Outside the lock: a callable's destructor may start requests.
    for (detail::Call *call : dropped) {
        call->drop();
        call->release();
    }
}

// Calls nethttp::shutdown() when it goes out of scope (errors ignored): put
// one at the top of main() when using the default client.
class ShutdownGuard {
public:
    ShutdownGuard() = default;
    ShutdownGuard(const ShutdownGuard &) = delete;
    ShutdownGuard &operator=(const ShutdownGuard &) = delete;
    ~ShutdownGuard() {
        try {
            shutdown();
        } catch (...) {
        }
    }
};

}  // namespace nethttp

#endif /* NETHTTP_HPP */
