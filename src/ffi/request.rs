//! `nethttp_request`, `nethttp_destroy_request`, `nethttp_request_cancel`,
//! `nethttp_shutdown`: requests on the default client, and request handles.

use std::ffi::{c_char, c_void};
use std::ptr;

use super::types::{
    callback_from_c, nethttp_callback, nethttp_options, nethttp_request, options_ref,
    request_handle, request_id,
};
use super::{c_str_arg, guard, guard_result, null_argument};
use crate::error::{nethttp_result, Error};
use crate::id::RequestId;
use crate::options::Options;
use crate::request::Callback;

/// Reads a URL argument.
///
/// # Safety
/// As `c_str_arg`.
pub(crate) unsafe fn url_arg<'a>(url: *const c_char) -> Result<&'a str, Error> {
    c_str_arg(url, "url")?
        .to_str()
        .map_err(|_| Error::new(nethttp_result::InvalidUrl, "URL is not valid UTF-8"))
}

/// Starts an HTTP request on the default client and returns at once, without
/// waiting for the network.
///
/// - `url`: an `http://` or `https://` URL, copied.
/// - `options`: NULL for a plain GET, or options that are copied during the
///   call (they may be freed or reused right after it returns).
/// - `callback`: called exactly once, on the default client's engine thread,
///   when the request completes, fails or is cancelled, unless the request is
///   destroyed first.
/// - `userdata`: passed to the callback as it is; nethttp never dereferences
///   or frees it. If the request is destroyed or dropped by
///   `nethttp_shutdown()`, the callback never comes: free `userdata` then
///   yourself if it needs freeing.
///
/// Returns the request's handle, or NULL when the request cannot be made; then
/// no callback will ever come and `nethttp_last_error_code()` says why:
/// `NETHTTP_RESULT_NULL_ARGUMENT` (url or callback NULL),
/// `NETHTTP_RESULT_INVALID_URL` (also a URL over 1,000,000 bytes),
/// `NETHTTP_RESULT_UNSUPPORTED_SCHEME` (not http or https),
/// `NETHTTP_RESULT_INVALID_ARGUMENT` (the request line and the header lines
/// set would together be over 1,000,000 bytes: libcurl builds them in a
/// 1 MiB buffer), `NETHTTP_RESULT_ENGINE_UNAVAILABLE` (the engine thread could not
/// start, or the default client is being shut down: a request made inside
/// one of its callbacks during `nethttp_shutdown()`) or
/// `NETHTTP_RESULT_OUT_OF_MEMORY`.
///
/// The callback may run, on the engine thread, before this function has
/// returned to its caller; by then the handle may already be stale (which
/// is harmless: see `nethttp_destroy_request()`).
///
/// Thread-safe: may be called from any thread, concurrently, and from inside
/// a callback. The first call makes the default client (inline delivery, no
/// default options, no connection limits) and starts its engine thread; a
/// call made while another thread is in `nethttp_shutdown()` waits for it,
/// then starts a new one. Transfers to the same host reuse connections
/// (keep-alive). Redirects are not followed; only http and https are ever
/// used. libcurl honours the proxy environment variables (`http_proxy`,
/// `https_proxy`, `ALL_PROXY`, `no_proxy`).
#[no_mangle]
pub unsafe extern "C" fn nethttp_request(
    url: *const c_char,
    options: *const nethttp_options,
    callback: nethttp_callback,
    userdata: *mut c_void,
) -> *mut nethttp_request {
    guard(ptr::null_mut(), || {
        start_from_c(url, options, callback, userdata, crate::client::request)
    })
}

/// Checks a request's C arguments and starts it with `start` (on the
/// default client or on one of the caller's).
///
/// # Safety
/// As `nethttp_request`'s arguments.
pub(crate) unsafe fn start_from_c(
    url: *const c_char,
    options: *const nethttp_options,
    callback: nethttp_callback,
    userdata: *mut c_void,
    start: impl FnOnce(&str, Option<&Options>, Callback) -> Result<RequestId, Error>,
) -> Result<*mut nethttp_request, Error> {
    let url = url_arg(url)?;
    let callback = callback.ok_or_else(|| null_argument("callback"))?;
    let id = start(
        url,
        options_ref(options),
        callback_from_c(callback, userdata),
    )?;
    Ok(request_handle(id))
}

/// Drops a request: after this returns its callback will never be called,
/// its transfer is aborted, and the request and its response are freed.
///
/// Use it to abandon a request in flight without a callback (to get one,
/// with `"cancelled"`, use `nethttp_request_cancel()`), or to free a request
/// whose callback returned non-zero. For a client in dispatch mode, a
/// request whose completion is already queued is never called back either.
/// It is a harmless no-op on NULL, on a request that has already ended (its
/// callback returned 0) or was already destroyed, and after its client was
/// freed: handles are never reused, so a stale handle can never free another
/// request.
///
/// Thread-safe: may be called from any thread and from inside any callback,
/// the request's own included (its response then stays valid until that
/// callback returns). If the request's callback is running on another thread
/// when this is called, the call waits until it returns.
#[no_mangle]
pub unsafe extern "C" fn nethttp_destroy_request(request: *mut nethttp_request) {
    guard((), || {
        if !request.is_null() {
            crate::client::destroy(request_id(request));
        }
        Ok(())
    })
}

/// Cancels a request: its transfer is aborted and its callback comes once,
/// in the usual place, with status 0, body `"cancelled"` and
/// `NETHTTP_RESULT_CANCELLED` — whether the request was waiting behind a
/// connection limit, connecting, or receiving its body. Unless the callback
/// already ran or is running, or the request finished (then its real
/// response comes, once), or it was destroyed: then nothing happens.
///
/// Returns `NETHTTP_RESULT_OK`, also for NULL and for a stale handle (a
/// no-op). Never blocks: the callback comes later (for a client in dispatch
/// mode, in `nethttp_client_dispatch()`). Thread-safe: any thread, inside
/// callbacks too.
#[no_mangle]
pub unsafe extern "C" fn nethttp_request_cancel(request: *mut nethttp_request) -> nethttp_result {
    guard_result(|| {
        if !request.is_null() {
            crate::client::cancel(request_id(request));
        }
        Ok(())
    })
}

/// Frees the default client (the one `nethttp_request()` uses): every
/// transfer is aborted, callbacks not yet called are never called, kept
/// responses are freed (their handles become stale), the engine thread is
/// joined and its memory freed. Other clients carry on. Call it before a
/// program exits for a clean exit (e.g. under valgrind). A later
/// `nethttp_request()` makes a new default client.
///
/// Returns only when no callback of the default client can run any more: a
/// second call made meanwhile from another thread waits for the first. In a
/// child process after `fork()`, it forgets the parent's default client
/// (whose thread does not exist in the child) and returns
/// `NETHTTP_RESULT_OK`.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_CALLED_FROM_CALLBACK` when
/// called from inside a callback of the default client (nothing is stopped
/// then). Safe to call more than once, and from any other thread.
#[no_mangle]
pub extern "C" fn nethttp_shutdown() -> nethttp_result {
    guard_result(crate::client::shutdown)
}

/// The number of requests of the default client that are in flight, running
/// their callback, or kept open by a callback that returned non-zero (0 when
/// there is no default client). Useful to check that a program destroys what
/// it keeps. Thread-safe.
#[no_mangle]
pub extern "C" fn nethttp_live_requests() -> usize {
    guard(0, || Ok(crate::client::live_requests()))
}
