//! `nethttp_request`, `nethttp_destroy_request`, `nethttp_shutdown`.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use super::options::{nethttp_options, options_ref};
use super::response::nethttp_response;
use super::{c_str_arg, guard, guard_result, null_argument};
use crate::error::{nethttp_result, Error};
use crate::request::RequestId;
use crate::response::Response;

/// A request in flight, or one whose callback asked to keep it.
///
/// Returned by `nethttp_request()`. A handle is a number, not an address, and
/// numbers are never reused in a process: using a handle after its request
/// ended is harmless (`nethttp_destroy_request()` is then a no-op).
///
/// A request ends, and its memory is freed, when its callback returns 0, when
/// `nethttp_destroy_request()` is called, or at `nethttp_shutdown()`. The
/// handle may be used from any thread.
#[allow(non_camel_case_types)]
pub struct nethttp_request {
    _private: [u8; 0],
}

/// Called once when a request completes, on nethttp's engine thread.
///
/// - `body`, `body_len`: the response body (binary-safe; also NUL-terminated
///   for convenience). When the request failed, `status` is 0 and `body` is a
///   short stable reason such as `"connection-refused"`, `"resolve-failed"`,
///   `"timeout"`, `"certificate-verify-failed"` or `"connection-closed"`
///   (see `nethttp_strerror()`).
/// - `status`: the HTTP status code, or 0 on failure.
/// - `response`: the whole response (headers, error code, effective URL);
///   see the `nethttp_response_*` functions.
/// - `userdata`: the pointer given to `nethttp_request()`, untouched.
///
/// `body` and `response` stay valid until the callback returns, if it returns
/// 0; then the request and its response are freed. If it returns non-zero
/// ("leave the request open") both stay valid, and may be used from any
/// thread, until `nethttp_destroy_request()` or `nethttp_shutdown()`. A
/// callback that destroys its own request may go on using `body` and
/// `response` until it returns; its return value is then ignored.
///
/// Callbacks of all requests run one at a time on the single engine thread,
/// which also drives every transfer: a slow callback delays all other
/// requests, so hand long work to a thread of your own. Inside a callback any
/// nethttp function may be called (making new requests, destroying any request,
/// its own included) except `nethttp_shutdown()`. A callback must not unwind
/// (a C++ exception or a longjmp out of it is undefined behaviour).
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

/// The caller vouches for `userdata` being usable on the engine thread.
struct UserData(*mut c_void);
// SAFETY: documented contract of nethttp_request: userdata is handed to the callback on the engine thread.
unsafe impl Send for UserData {}

pub(crate) fn handle_of(id: RequestId) -> *mut nethttp_request {
    id.0 as usize as *mut nethttp_request
}

fn id_of(handle: *const nethttp_request) -> RequestId {
    RequestId(handle as usize as u64)
}

/// Starts an HTTP request and returns at once, without waiting for the network.
///
/// - `url`: an `http://` or `https://` URL, copied.
/// - `options`: NULL for a plain GET, or options that are copied during the
///   call (they may be freed or reused right after it returns).
/// - `callback`: called exactly once, on the engine thread, when the request
///   completes or fails, unless the request is destroyed first.
/// - `userdata`: passed to the callback as it is; nethttp never dereferences
///   or frees it. If the request is destroyed or dropped by
///   `nethttp_shutdown()`, the callback never comes: free `userdata` then
///   yourself if it needs freeing.
///
/// Returns the request's handle, or NULL when the request cannot be made; then
/// no callback will ever come and `nethttp_last_error_code()` says why:
/// `NETHTTP_RESULT_NULL_ARGUMENT` (url or callback NULL),
/// `NETHTTP_RESULT_INVALID_URL`, `NETHTTP_RESULT_UNSUPPORTED_SCHEME` (not http
/// or https), `NETHTTP_RESULT_ENGINE_UNAVAILABLE` or
/// `NETHTTP_RESULT_OUT_OF_MEMORY`.
///
/// The callback may run, on the engine thread, before this function has
/// returned to its caller; by then the handle may already be stale (which
/// is harmless: see `nethttp_destroy_request()`).
///
/// Thread-safe: may be called from any thread, concurrently, and from inside
/// a callback. The first call starts the engine thread. Transfers to the same
/// host reuse connections (keep-alive). Redirects are not followed; only http
/// and https are ever used.
#[no_mangle]
pub unsafe extern "C" fn nethttp_request(
    url: *const c_char,
    options: *const nethttp_options,
    callback: nethttp_callback,
    userdata: *mut c_void,
) -> *mut nethttp_request {
    guard(ptr::null_mut(), || {
        let url = c_str_arg(url, "url")?
            .to_str()
            .map_err(|_| Error::new(nethttp_result::InvalidUrl, "URL is not valid UTF-8"))?;
        let callback = callback.ok_or_else(|| null_argument("callback"))?;
        let userdata = UserData(userdata);
        let id = crate::request::request(
            url,
            options_ref(options),
            Box::new(move |response: &Response| {
                let userdata = userdata;
                let body = response.body();
                // SAFETY: the caller gave a valid callback; the pointers outlive the call.
                let keep = unsafe {
                    callback(
                        body.as_ptr().cast(),
                        body.len(),
                        response.status(),
                        (response as *const Response).cast(),
                        userdata.0,
                    )
                };
                keep != 0
            }),
        )?;
        Ok(handle_of(id))
    })
}

/// Drops a request: after this returns its callback will never be called,
/// its transfer is aborted, and the request and its response are freed.
///
/// Use it to cancel a request in flight, or to free a request whose callback
/// returned non-zero. It is a harmless no-op on NULL, on a request that has
/// already ended (its callback returned 0) or was already destroyed, and
/// after `nethttp_shutdown()`: handles are never reused, so a stale handle
/// can never free another request.
///
/// Thread-safe: may be called from any thread and from inside any callback,
/// the request's own included (its response then stays valid until that
/// callback returns). If the request's callback is running on the engine
/// thread when another thread calls this, the call waits until it returns.
#[no_mangle]
pub unsafe extern "C" fn nethttp_destroy_request(request: *mut nethttp_request) {
    guard((), || {
        if !request.is_null() {
            crate::request::destroy(id_of(request));
        }
        Ok(())
    })
}

/// Stops the engine: every transfer is aborted, callbacks not yet called are
/// never called, kept responses are freed (their handles become stale), the
/// engine thread is joined and its memory freed. Call it before a program
/// exits for a clean exit (e.g. under valgrind). A later `nethttp_request()`
/// starts a new engine.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_CALLED_FROM_CALLBACK` when
/// called from inside a callback (nothing is stopped then). Safe to call more
/// than once, and from any other thread.
#[no_mangle]
pub extern "C" fn nethttp_shutdown() -> nethttp_result {
    guard_result(crate::shutdown)
}

/// The number of requests that are in flight, running their callback, or kept
/// open by a callback that returned non-zero. Useful to check that a program
/// destroys what it keeps. Thread-safe.
#[no_mangle]
pub extern "C" fn nethttp_live_requests() -> usize {
    guard(0, || Ok(crate::request::live_requests()))
}
