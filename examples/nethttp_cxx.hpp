// A small C++11 RAII wrapper over nethttp's C API, used by fetch_all.cpp.
// Copy it into your project and adapt it; it is an example, not part of the
// installed library.
//
//   nethttp_cxx::Engine engine;             // stops nethttp at the end of main
//   nethttp_cxx::Options options;
//   options.header("Accept", "text/plain").timeout(std::chrono::seconds(10));
//   nethttp_cxx::Request request("https://example.com/", &options);
//   nethttp_cxx::Response response = request.wait();
//
// Ownership follows C++ rules: Form and Options free their C object, Request
// cancels its request (nethttp_destroy_request) when it goes away, so the
// callback never runs after the object that receives it is gone.
#ifndef NETHTTP_CXX_HPP
#define NETHTTP_CXX_HPP

#include <nethttp.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nethttp_cxx {

// Thrown when nethttp refuses a call; code() says why.
class Error : public std::runtime_error {
public:
    Error(nethttp_result code, const std::string &what) : std::runtime_error(what), code_(code) {}
    nethttp_result code() const noexcept { return code_; }

private:
    nethttp_result code_;
};

// Throws the calling thread's last nethttp error (copied at once: the C
// string is only valid until the next failing call).
[[noreturn]] inline void throw_last_error() {
    nethttp_result code = nethttp_last_error_code();
    if (code == NETHTTP_RESULT_OUT_OF_MEMORY) {
        throw std::bad_alloc();
    }
    throw Error(code, std::string(nethttp_strerror(code)) + ": " + nethttp_last_error());
}

inline void check(nethttp_result result) {
    if (result != NETHTTP_RESULT_OK) {
        throw_last_error();
    }
}

namespace detail {
struct FreeString {
    void operator()(char *p) const noexcept { nethttp_free(p); }
};
struct FreeForm {
    void operator()(nethttp_form *p) const noexcept { nethttp_form_free(p); }
};
struct FreeOptions {
    void operator()(nethttp_options *p) const noexcept { nethttp_options_free(p); }
};

// Takes ownership of a string nethttp allocated, copies it, frees it.
inline std::string take(char *data, std::size_t len) {
    std::unique_ptr<char, FreeString> owned(data);
    if (!owned) {
        throw_last_error();
    }
    return std::string(owned.get(), len);
}
}  // namespace detail

inline std::string urlencode(const std::string &text) {
    std::size_t len = 0;
    char *encoded = nethttp_urlencode(text.data(), text.size(), &len);
    return detail::take(encoded, len);
}

inline std::string urldecode(const std::string &text) {
    std::size_t len = 0;
    char *decoded = nethttp_urldecode(text.data(), text.size(), &len);
    return detail::take(decoded, len);
}

// An ordered list of (name, value) fields; duplicates are kept.
class Form {
public:
    Form() : form_(nethttp_form_new()) {
        if (!form_) {
            throw std::bad_alloc();
        }
    }
    static Form decode(const std::string &data) {
        nethttp_form *form = nethttp_formdecode(data.data(), data.size());
        if (form == nullptr) {
            throw_last_error();
        }
        return Form(form);
    }

    Form &add(const std::string &name, const std::string &value) {
        check(nethttp_form_add(form_.get(), name.data(), name.size(), value.data(), value.size()));
        return *this;
    }
    std::size_t size() const noexcept { return nethttp_form_count(form_.get()); }
    std::pair<std::string, std::string> operator[](std::size_t index) const {
        const char *name = nullptr;
        const char *value = nullptr;
        std::size_t name_len = 0;
        std::size_t value_len = 0;
        check(nethttp_form_field(form_.get(), index, &name, &name_len, &value, &value_len));
        return std::make_pair(std::string(name, name_len), std::string(value, value_len));
    }
    std::string encode() const {
        std::size_t len = 0;
        char *encoded = nethttp_formencode(form_.get(), &len);
        return detail::take(encoded, len);
    }

private:
    explicit Form(nethttp_form *form) : form_(form) {}
    std::unique_ptr<nethttp_form, detail::FreeForm> form_;
};

// Request options; nethttp copies them when a request starts, so one Options
// object may serve many requests.
class Options {
public:
    Options() : options_(nethttp_options_new()) {
        if (!options_) {
            throw std::bad_alloc();
        }
    }
    Options &header(const std::string &name, const std::string &value) {
        check(nethttp_options_set_header(options_.get(), name.c_str(), value.c_str()));
        return *this;
    }
    Options &without_header(const std::string &name) {  // removes a default header
        check(nethttp_options_set_header(options_.get(), name.c_str(), nullptr));
        return *this;
    }
    Options &body(const std::string &body) {
        check(nethttp_options_set_body(options_.get(), body.data(), body.size()));
        return *this;
    }
    Options &method(const std::string &method) {
        check(nethttp_options_set_method(options_.get(), method.c_str()));
        return *this;
    }
    Options &timeout(std::chrono::milliseconds timeout) {
        check(nethttp_options_set_timeout_ms(options_.get(), static_cast<std::uint64_t>(timeout.count())));
        return *this;
    }
    Options &ca_file(const std::string &path) {
        check(nethttp_options_set_ca_file(options_.get(), path.c_str()));
        return *this;
    }
    const nethttp_options *get() const noexcept { return options_.get(); }

private:
    std::unique_ptr<nethttp_options, detail::FreeOptions> options_;
};

// A complete response, copied out of nethttp's, so it lives as long as you like.
struct Response {
    int status = 0;                                   // 0 when the request failed
    nethttp_result error_code = NETHTTP_RESULT_OK;    // why it failed
    std::string error;                                // e.g. "timeout"; empty on success
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    bool ok() const noexcept { return status >= 200 && status < 300; }
};

// A request in flight. Starting it returns at once; wait() blocks until the
// response is there. Destroying the Request (or cancel()) drops a request
// that has not completed: its callback will never run.
class Request {
public:
    explicit Request(const std::string &url, const Options *options = nullptr)
        : state_(new State()), future_(state_->promise.get_future()) {
        handle_ = nethttp_request(url.c_str(), options ? options->get() : nullptr, &Request::on_response,
                                  state_.get());
        if (handle_ == nullptr) {
            throw_last_error();
        }
    }
    Request(Request &&other) noexcept
        : state_(std::move(other.state_)), future_(std::move(other.future_)), handle_(other.handle_) {
        other.handle_ = nullptr;  // the moved-from Request must not cancel ours
    }
    Request &operator=(Request &&other) noexcept {
        if (this != &other) {
            cancel();
            state_ = std::move(other.state_);
            future_ = std::move(other.future_);
            handle_ = other.handle_;
            other.handle_ = nullptr;
        }
        return *this;
    }
    Request(const Request &) = delete;
    Request &operator=(const Request &) = delete;
    ~Request() { cancel(); }

    // Blocks until the response arrives and returns it (once).
    Response wait() { return future_.get(); }

    bool ready(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const {
        return future_.wait_for(timeout) == std::future_status::ready;
    }

    // Drops the request if it is still in flight. nethttp_destroy_request()
    // waits for a callback that is running, and is a no-op once the request
    // ended, so the state may be freed right after it.
    void cancel() noexcept {
        if (handle_ != nullptr) {
            nethttp_destroy_request(handle_);
            handle_ = nullptr;
        }
    }

private:
    struct State {
        std::promise<Response> promise;
    };

    // Runs on nethttp's engine thread. It must not let an exception escape
    // into C: anything thrown goes into the future instead.
    static int on_response(const char *body, std::size_t body_len, int status,
                           const nethttp_response *response, void *userdata) noexcept {
        State *state = static_cast<State *>(userdata);
        try {
            Response copy;
            copy.status = status;
            copy.error_code = nethttp_response_error_code(response);
            const char *error = nethttp_response_error(response);
            copy.error = error ? error : "";
            const char *url = nethttp_response_url(response);
            copy.url = url ? url : "";
            copy.body.assign(body, body_len);
            std::size_t count = nethttp_response_header_count(response);
            for (std::size_t i = 0; i < count; i++) {
                const char *name = nullptr;
                const char *value = nullptr;
                if (nethttp_response_header_at(response, i, &name, &value) == NETHTTP_RESULT_OK) {
                    copy.headers.emplace_back(name, value);
                }
            }
            state->promise.set_value(std::move(copy));
        } catch (...) {
            try {
                state->promise.set_exception(std::current_exception());
            } catch (...) {
            }
        }
        return 0;  // nethttp frees its response; we keep our copy
    }

    std::unique_ptr<State> state_;  // at a fixed address: it is the callback's userdata
    std::future<Response> future_;
    // "struct" is needed: in C++ the function nethttp_request hides the type's name.
    struct nethttp_request *handle_ = nullptr;
};

// Stops nethttp's engine thread when it goes out of scope; put one at the
// top of main(). Requests still in flight then never complete.
class Engine {
public:
    Engine() = default;
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;
    ~Engine() { nethttp_shutdown(); }
};

}  // namespace nethttp_cxx

#endif  // NETHTTP_CXX_HPP
