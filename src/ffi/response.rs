//! `struct nethttp_response`: what the callback receives.

use std::ffi::{c_char, c_int, CStr};
use std::ptr;

use super::request::{handle_of, nethttp_request};
use super::{c_str_arg, guard, guard_result, null_argument};
use crate::error::{nethttp_result, Error};
use crate::response::Response;

/// The outcome of a request: status, headers, body, or why it failed.
///
/// Owned by nethttp. A response is passed to the request's callback and is
/// valid until the callback returns 0, or, if it returns non-zero, until
/// `nethttp_destroy_request()` or `nethttp_shutdown()`. It never changes, so
/// it may be read from several threads at once. Every string it returns is
/// valid as long as the response is.
#[allow(non_camel_case_types)]
pub struct nethttp_response {
    _private: [u8; 0],
}

unsafe fn response_ref<'a>(response: *const nethttp_response) -> Result<&'a Response, Error> {
    response
        .cast::<Response>()
        .as_ref()
        .ok_or_else(|| null_argument("response"))
}

/// The HTTP status code (e.g. 200, 404), or 0 if the request failed or
/// `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_status(response: *const nethttp_response) -> c_int {
    guard(0, || Ok(response_ref(response)?.status()))
}

/// NULL if a response arrived (whatever its status); otherwise the short
/// stable reason the request failed, the same string the callback got as
/// its body: `"connection-refused"`, `"resolve-failed"`, `"timeout"`,
/// `"certificate-verify-failed"`, `"connection-closed"`, `"tls-failed"`,
/// `"protocol-error"`, `"request-failed"`, ... (see `nethttp_strerror()`).
/// The string is static. Also NULL when `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_error(
    response: *const nethttp_response,
) -> *const c_char {
    guard(ptr::null(), || {
        Ok(response_ref(response)?
            .error()
            .map_or(ptr::null(), CStr::as_ptr))
    })
}

/// The numbered form of `nethttp_response_error()`: `NETHTTP_RESULT_OK` if a
/// response arrived, otherwise a code of 100 or more such as
/// `NETHTTP_RESULT_CONNECTION_REFUSED`. `NETHTTP_RESULT_NULL_ARGUMENT` if
/// `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_error_code(
    response: *const nethttp_response,
) -> nethttp_result {
    let mut code = nethttp_result::NullArgument;
    guard((), || {
        code = response_ref(response)?.error_code();
        Ok(())
    });
    code
}

/// libcurl's detailed message for a failed request, e.g.
/// `"Couldn't connect to server: Failed to connect to 127.0.0.1 port 9: ..."`;
/// for diagnostics only, the wording may change. Passwords of URLs it quotes
/// (the request's or a proxy's) are replaced by `***`. The empty string if a
/// response arrived; NULL if `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_error_detail(
    response: *const nethttp_response,
) -> *const c_char {
    guard(ptr::null(), || {
        Ok(response_ref(response)?
            .failure()
            .map_or(c"".as_ptr(), |f| f.detail.as_ptr()))
    })
}

/// The value of the first response header called `name`, compared
/// case-insensitively, or NULL if there is none (or an argument is NULL). To
/// see every header, repeated ones included (e.g. `Set-Cookie`), use
/// `nethttp_response_header_at()`. Values are trimmed of surrounding spaces.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_header(
    response: *const nethttp_response,
    name: *const c_char,
) -> *const c_char {
    guard(ptr::null(), || {
        let response = response_ref(response)?;
        let name = c_str_arg(name, "name")?;
        Ok(response
            .header(name.to_bytes())
            .map_or(ptr::null(), CStr::as_ptr))
    })
}

/// The number of response headers (0 for a failed request or NULL). When
/// several responses came (a 100 Continue, or redirects), these are the last
/// one's.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_header_count(response: *const nethttp_response) -> usize {
    guard(0, || Ok(response_ref(response)?.headers().len()))
}

/// The header at `index`, in the order received, with its name in the case
/// the server sent. Stores pointers in the out-parameters that are not NULL.
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` or
/// `NETHTTP_RESULT_INDEX_OUT_OF_RANGE` (nothing stored).
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_header_at(
    response: *const nethttp_response,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let response = response_ref(response)?;
        let (header_name, header_value) = response.headers().get(index).ok_or_else(|| {
            Error::new(
                nethttp_result::IndexOutOfRange,
                format!(
                    "header index {index} is out of range: the response has {} headers",
                    response.headers().len()
                ),
            )
        })?;
        if !name.is_null() {
            *name = header_name.as_ptr();
        }
        if !value.is_null() {
            *value = header_value.as_ptr();
        }
        Ok(())
    })
}

/// The body, as passed to the callback: its length goes to `*len` when `len`
/// is not NULL. Binary-safe, and NUL-terminated for convenience. For a failed
/// request, the reason string. NULL (and `*len` 0) if `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_body(
    response: *const nethttp_response,
    len: *mut usize,
) -> *const c_char {
    let body = guard(None, || Ok(Some(response_ref(response)?.body())));
    if !len.is_null() {
        *len = body.map_or(0, <[u8]>::len);
    }
    body.map_or(ptr::null(), |b| b.as_ptr().cast())
}

/// The URL the response came from (libcurl's effective URL). Never NULL for a
/// valid response; NULL if `response` is NULL.
///
/// A password in the URL is never shown: `http://user:secret@host/` comes
/// back as `http://user:***@host/` (the user name is kept; a URL without a
/// password is unchanged). The same redaction applies to
/// `nethttp_response_error_detail()` and `nethttp_last_error()`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_url(response: *const nethttp_response) -> *const c_char {
    guard(ptr::null(), || Ok(response_ref(response)?.url().as_ptr()))
}

/// The handle of the request this response belongs to (the value
/// `nethttp_request()` returned), e.g. to destroy a kept request later.
/// NULL if `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_request(
    response: *const nethttp_response,
) -> *mut nethttp_request {
    guard(ptr::null_mut(), || {
        Ok(handle_of(response_ref(response)?.request()))
    })
}
