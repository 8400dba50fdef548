//! Every opaque C type, the Rust type behind it, and the casts between them.
//! The other `ffi` files import these; none casts a C pointer itself.
//!
//! | C type                        | Rust type                  | pointer is            |
//! |-------------------------------|----------------------------|-----------------------|
//! | `struct nethttp_client`       | `Client`                   | `Box`, owned by C     |
//! | `struct nethttp_client_config`| `ClientConfig`             | `Box`, owned by C     |
//! | `struct nethttp_options`      | `Options`                  | `Box`, owned by C     |
//! | `struct nethttp_form`         | `Form`                     | `Box`, owned by C     |
//! | `struct nethttp_response`     | `Response`                 | borrowed, or `Box` from `nethttp_fetch()` |
//! | `struct nethttp_request`      | `RequestId`                | a number, not an address |

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

use crate::client::{Client, ClientConfig, Observer};
use crate::error::Error;
use crate::form::Form;
use crate::id::RequestId;
use crate::options::Options;
use crate::request::Callback;
use crate::response::Response;

use super::null_argument;

/// A client: an engine thread with its own connections, default options,
/// connection limits and delivery mode (Prosody's `http.new()`, libsoup's
/// SoupSession). Requests made with `nethttp_client_request()` use it;
/// `nethttp_request()` uses a default client made at first use.
///
/// Owned by / freed with: the caller, from `nethttp_client_new()`; freed
/// exactly once with `nethttp_client_free()`, which first gives every request
/// of the client its one callback.
///
/// Thread safety: every function taking a client may be called from any
/// thread, concurrently, except `nethttp_client_dispatch()` (one thread at a
/// time, by convention the thread whose event loop polls
/// `nethttp_client_fd()`) and `nethttp_client_free()` (no other call on the
/// client may run or follow).
///
/// Methods: `nethttp_client_request()`, `nethttp_fetch()`,
/// `nethttp_client_live_requests()`, `nethttp_client_fd()`,
/// `nethttp_client_dispatch()`, `nethttp_client_free()`.
#[allow(non_camel_case_types)]
pub struct nethttp_client {
    _private: [u8; 0],
}

/// What a client is made with: default options, connection limits, delivery
/// mode, observer, engine stack size. A builder: `nethttp_client_new()`
/// copies it.
///
/// Owned by / freed with: the caller, from `nethttp_client_config_new()`;
/// freed with `nethttp_client_config_free()`, at any time after
/// `nethttp_client_new()` (clients keep their own copy).
///
/// Thread safety: not synchronized; use one config from one thread at a time.
///
/// Methods: `nethttp_client_config_set_defaults()`,
/// `nethttp_client_config_set_max_connections()`,
/// `nethttp_client_config_set_dispatch()`,
/// `nethttp_client_config_set_observer()`,
/// `nethttp_client_config_set_stack_size()`,
/// `nethttp_client_config_set_epoll()`.
#[allow(non_camel_case_types)]
pub struct nethttp_client_config {
    _private: [u8; 0],
}

/// A request in flight, or one whose callback asked to keep it.
///
/// Returned by `nethttp_request()` and `nethttp_client_request()`. A handle
/// is a number, not an address, and numbers are never reused in a process:
/// using a handle after its request ended is harmless (every function taking
/// one is then a no-op).
///
/// Owned by / freed with: nethttp. A request ends, and its memory is freed,
/// when its callback returns 0, when `nethttp_destroy_request()` is called,
/// or when its client is freed (`nethttp_shutdown()` for the default client).
///
/// Thread safety: the handle may be used from any thread, also inside
/// callbacks.
///
/// Methods: `nethttp_destroy_request()`, `nethttp_request_cancel()`.
#[allow(non_camel_case_types)]
pub struct nethttp_request {
    _private: [u8; 0],
}

/// The outcome of a request: status, headers, body, method, timings, or why
/// it failed.
///
/// Owned by / freed with: nethttp, when it is passed to a callback or an
/// observer: valid until the callback returns 0, or, if it returns non-zero,
/// until `nethttp_destroy_request()` or the client is freed; an observer's
/// response only until the observer returns. A response returned by
/// `nethttp_fetch()` is the caller's, freed with `nethttp_response_free()`.
///
/// Thread safety: a response never changes, so it may be read from several
/// threads at once. Every string it returns is valid as long as it is.
///
/// Methods: `nethttp_response_status()`, `nethttp_response_error()`,
/// `nethttp_response_error_code()`, `nethttp_response_error_detail()`,
/// `nethttp_response_header()`, `nethttp_response_header_count()`,
/// `nethttp_response_header_at()`, `nethttp_response_body()`,
/// `nethttp_response_url()`, `nethttp_response_method()`,
/// `nethttp_response_timing_us()`, `nethttp_response_request()`,
/// `nethttp_response_free()`.
#[allow(non_camel_case_types)]
pub struct nethttp_response {
    _private: [u8; 0],
}

/// Options of a request: headers, body, method, TLS verification, timeouts,
/// body limit (Prosody's `options` table); and how it reaches the server:
/// proxy, CA, client certificate, pinned keys, minimum TLS version, address
/// pinning, Unix socket, Basic authentication. Also a client's defaults
/// (`nethttp_client_config_set_defaults()`), merged under a request's own
/// options field by field.
///
/// Owned by / freed with: the caller, from `nethttp_options_new()`; freed
/// with `nethttp_options_free()`. Requests and clients copy what they need,
/// so one options object may serve many requests and may be changed or freed
/// right after the call.
///
/// Thread safety: not synchronized; use one options object from one thread
/// at a time.
///
/// Methods: the `nethttp_options_set_*()` functions,
/// `nethttp_options_clear_body()`.
#[allow(non_camel_case_types)]
pub struct nethttp_options {
    _private: [u8; 0],
}

/// An ordered list of (name, value) fields, as Prosody's form_data array; the
/// same name may appear more than once. Names and values are byte strings
/// (any byte, NUL included), each carried with its length.
///
/// Owned by / freed with: the caller, from `nethttp_form_new()` or
/// `nethttp_formdecode()`; freed with `nethttp_form_free()`.
///
/// Thread safety: not synchronized: a form may be read from several threads
/// at once, but must not be modified while another thread uses it.
///
/// Methods: `nethttp_form_add()`, `nethttp_form_count()`,
/// `nethttp_form_field()`, `nethttp_form_get()`, `nethttp_formencode()`,
/// `nethttp_form_free()`.
#[allow(non_camel_case_types)]
pub struct nethttp_form {
    _private: [u8; 0],
}

fn null_error<T>(what: &str) -> impl FnOnce() -> Result<T, Error> + '_ {
    move || Err(null_argument(what))
}

// Boxed objects owned by C.

pub(crate) fn client_into_c(client: Client) -> *mut nethttp_client {
    Box::into_raw(Box::new(client)).cast()
}

/// # Safety
/// `client` must be NULL or a live client from `nethttp_client_new()`.
pub(crate) unsafe fn client_ref<'a>(client: *const nethttp_client) -> Result<&'a Client, Error> {
    client
        .cast::<Client>()
        .as_ref()
        .map_or_else(null_error("client"), Ok)
}

/// Takes back ownership of a client.
///
/// # Safety
/// `client` must be a live, non-NULL client from `nethttp_client_new()`.
pub(crate) unsafe fn client_from_c(client: *mut nethttp_client) -> Client {
    *Box::from_raw(client.cast::<Client>())
}

pub(crate) fn config_into_c(config: ClientConfig) -> *mut nethttp_client_config {
    Box::into_raw(Box::new(config)).cast()
}

/// # Safety
/// `config` must be NULL or a live config from this library.
pub(crate) unsafe fn config_ref<'a>(
    config: *const nethttp_client_config,
) -> Option<&'a ClientConfig> {
    config.cast::<ClientConfig>().as_ref()
}

/// # Safety
/// As `config_ref`.
pub(crate) unsafe fn config_mut<'a>(
    config: *mut nethttp_client_config,
) -> Result<&'a mut ClientConfig, Error> {
    config
        .cast::<ClientConfig>()
        .as_mut()
        .map_or_else(null_error("config"), Ok)
}

/// # Safety
/// `config` must be NULL or a config from `config_into_c`, not freed before.
pub(crate) unsafe fn config_free(config: *mut nethttp_client_config) {
    if !config.is_null() {
        drop(Box::from_raw(config.cast::<ClientConfig>()));
    }
}

pub(crate) fn options_into_c(options: Options) -> *mut nethttp_options {
    Box::into_raw(Box::new(options)).cast()
}

/// # Safety
/// `options` must be NULL or live options from this library.
pub(crate) unsafe fn options_ref<'a>(options: *const nethttp_options) -> Option<&'a Options> {
    options.cast::<Options>().as_ref()
}

/// # Safety
/// As `options_ref`.
pub(crate) unsafe fn options_mut<'a>(
    options: *mut nethttp_options,
) -> Result<&'a mut Options, Error> {
    options
        .cast::<Options>()
        .as_mut()
        .map_or_else(null_error("options"), Ok)
}

/// # Safety
/// `options` must be NULL or options from `options_into_c`, not freed before.
pub(crate) unsafe fn options_free(options: *mut nethttp_options) {
    if !options.is_null() {
        drop(Box::from_raw(options.cast::<Options>()));
    }
}

pub(crate) fn form_into_c(form: Form) -> *mut nethttp_form {
    Box::into_raw(Box::new(form)).cast()
}

/// # Safety
/// `form` must be NULL or a live form from this library.
pub(crate) unsafe fn form_ref<'a>(form: *const nethttp_form) -> Option<&'a Form> {
    form.cast::<Form>().as_ref()
}

/// # Safety
/// As `form_ref`.
pub(crate) unsafe fn form_mut<'a>(form: *mut nethttp_form) -> Result<&'a mut Form, Error> {
    form.cast::<Form>()
        .as_mut()
        .map_or_else(null_error("form"), Ok)
}

/// # Safety
/// `form` must be NULL or a form from `form_into_c`, not freed before.
pub(crate) unsafe fn form_free(form: *mut nethttp_form) {
    if !form.is_null() {
        drop(Box::from_raw(form.cast::<Form>()));
    }
}

// Responses: borrowed from nethttp, or owned by C after nethttp_fetch().

pub(crate) fn response_as_c(response: &Response) -> *const nethttp_response {
    (response as *const Response).cast()
}

pub(crate) fn response_into_c(response: Box<Response>) -> *mut nethttp_response {
    Box::into_raw(response).cast()
}

/// # Safety
/// `response` must be NULL or a response that is still valid (see its type).
pub(crate) unsafe fn response_ref<'a>(
    response: *const nethttp_response,
) -> Result<&'a Response, Error> {
    response
        .cast::<Response>()
        .as_ref()
        .map_or_else(null_error("response"), Ok)
}

/// # Safety
/// `response` must be NULL or a response from `response_into_c`, not freed before.
pub(crate) unsafe fn response_free(response: *mut nethttp_response) {
    if !response.is_null() {
        drop(Box::from_raw(response.cast::<Response>()));
    }
}

// Request handles: numbers that look like pointers.

pub(crate) fn request_handle(id: RequestId) -> *mut nethttp_request {
    id.0 as usize as *mut nethttp_request
}

pub(crate) fn request_id(handle: *const nethttp_request) -> RequestId {
    RequestId(handle as usize as u64)
}

// Callbacks.

/// Called once when a request completes: on its client's engine thread, or,
/// for a client in dispatch mode, inside `nethttp_client_dispatch()` on the
/// thread that calls it.
///
/// - `body`, `body_len`: the response body (binary-safe; also NUL-terminated
///   for convenience). When the request failed, `status` is 0 and `body` is a
///   short stable reason such as `"connection-refused"`, `"resolve-failed"`,
///   `"timeout"`, `"certificate-verify-failed"`, `"connection-closed"` or
///   `"cancelled"` (see `nethttp_strerror()`).
/// - `status`: the HTTP status code, or 0 on failure.
/// - `response`: the whole response (headers, error code, effective URL,
///   method, timings); see the `nethttp_response_*` functions.
/// - `userdata`: the pointer given with the request, untouched.
///
/// `body` and `response` stay valid until the callback returns, if it returns
/// 0; then the request and its response are freed. If it returns non-zero
/// ("leave the request open") both stay valid, and may be used from any
/// thread, until `nethttp_destroy_request()` or until the client is freed
/// (`nethttp_shutdown()` for the default client). A callback that destroys
/// its own request may go on using `body` and `response` until it returns;
/// its return value is then ignored.
///
/// The callbacks of one client run one at a time. On the engine thread (the
/// default) the same thread drives every transfer of the client: a slow
/// callback delays the client's other requests, so hand long work to a
/// thread of your own, or use dispatch mode. Engine threads have an 8 MiB
/// stack unless `nethttp_client_config_set_stack_size()` says otherwise.
/// Inside a callback any nethttp function may be called (new requests,
/// destroying or cancelling any request, its own included) except those
/// that would wait for the callback itself: `nethttp_client_free()`,
/// `nethttp_fetch()` and `nethttp_client_dispatch()` on the same client, and
/// `nethttp_shutdown()` inside the default client's callbacks. A callback
/// must not unwind (a C++ exception or a longjmp out of it is undefined
/// behaviour).
#[allow(non_camel_case_types)]
pub type nethttp_callback = Option<
    unsafe extern "C" fn(
        body: *const c_char,
        body_len: usize,
        status: c_int,
        response: *const nethttp_response,
        userdata: *mut c_void,
    ) -> c_int,
>;

/// Called once per finished request of a client (success, failure or
/// cancel), just before the request's callback and in the same context: on
/// the engine thread, or inside `nethttp_client_dispatch()`; for
/// `nethttp_fetch()` in dispatch mode, on the thread that called it, before it
/// returns. Not called for a request destroyed before its callback. For
/// logging and metrics: `response` is valid until the observer returns, and
/// the observer must not keep it. The same rules as for callbacks apply.
#[allow(non_camel_case_types)]
pub type nethttp_observer =
    Option<unsafe extern "C" fn(response: *const nethttp_response, userdata: *mut c_void)>;

/// Receives a streamed response body chunk by chunk: see
/// `nethttp_options_set_data_callback()`. Returns 0 to go on,
/// `NETHTTP_DATA_PAUSE` to pause, anything else to abort.
#[allow(non_camel_case_types)]
pub type nethttp_data_callback = Option<
    unsafe extern "C" fn(
        data: *const c_char,
        len: usize,
        head: *const nethttp_response,
        userdata: *mut c_void,
    ) -> c_int,
>;

/// Produces a request body as it is sent: see
/// `nethttp_options_set_body_callback()`. Returns the bytes written into
/// `buffer` (at most `capacity`), 0 at the end, -1 to abort.
#[allow(non_camel_case_types)]
pub type nethttp_read_callback = Option<
    unsafe extern "C" fn(buffer: *mut c_char, capacity: usize, userdata: *mut c_void) -> isize,
>;

/// A C pointer the caller vouches for being usable on whichever thread runs
/// callbacks (the header says which).
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub *mut c_void);
// SAFETY: the documented contract of callbacks and observers: userdata is
// handed to them on the thread that runs them.
unsafe impl Send for UserData {}
// SAFETY: as above; nethttp itself never dereferences it.
unsafe impl Sync for UserData {}

/// A C callback and its userdata as a Rust callback.
pub(crate) fn callback_from_c(
    callback: unsafe extern "C" fn(
        *const c_char,
        usize,
        c_int,
        *const nethttp_response,
        *mut c_void,
    ) -> c_int,
    userdata: *mut c_void,
) -> Callback {
    let userdata = UserData(userdata);
    Box::new(move |response: &Response| {
        let userdata = userdata;
        let body = response.body();
        // SAFETY: the caller gave a valid callback; the pointers outlive the call.
        let keep = unsafe {
            callback(
                body.as_ptr().cast(),
                body.len(),
                response.status(),
                response_as_c(response),
                userdata.0,
            )
        };
        keep != 0
    })
}

/// A C observer and its userdata as a Rust observer.
pub(crate) fn observer_from_c(
    observer: unsafe extern "C" fn(*const nethttp_response, *mut c_void),
    userdata: *mut c_void,
) -> Observer {
    let userdata = UserData(userdata);
    Arc::new(move |response: &Response| {
        let userdata = userdata;
        // SAFETY: the caller gave a valid observer; the response outlives the call.
        unsafe { observer(response_as_c(response), userdata.0) }
    })
}
