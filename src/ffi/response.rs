//! `struct nethttp_response`: what the callback receives.

use std::ffi::{c_char, c_int, c_uint, CStr};
use std::ptr;

use super::types::{
    nethttp_request, nethttp_response, request_handle, response_free, response_ref,
};
use super::{c_str_arg, guard, guard_result};
use crate::error::{nethttp_result, Error};

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

/// The number of response headers (0 for a failed request, which exposes no
/// headers, not even those that arrived before it failed; 0 for NULL). When
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
        Ok(request_handle(response_ref(response)?.request()))
    })
}

/// The phases `nethttp_response_timing_us()` reports, in the order they end.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum nethttp_timing {
    /// The host name was resolved (0 for a reused connection or an address).
    Dns = 0,
    /// The TCP connection (or the proxy's) was established.
    Connect = 1,
    /// The TLS handshake finished; -1 for plain http.
    Tls = 2,
    /// The first byte of the response arrived.
    FirstByte = 3,
    /// The request ended (success, failure or cancel).
    Total = 4,
}

/// Microseconds from the start of the request to the end of a phase
/// (`which`, a value of `enum nethttp_timing`), cumulative as libcurl's
/// `*_TIME_T` infos: DNS <= CONNECT <= TLS <= FIRST_BYTE <= TOTAL for the
/// phases that happened. -1 where the phase did not happen (TLS on plain
/// http; everything after the point where a request failed or was
/// cancelled), for an unknown `which`, and for NULL. On a reused connection
/// DNS and CONNECT are 0. TOTAL is never -1 for a valid response.
///
/// `which` is an `int` so that any number is safe to pass.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_timing_us(
    response: *const nethttp_response,
    which: c_int,
) -> i64 {
    guard(-1, || {
        let timings = response_ref(response)?.timings();
        Ok(match which {
            0 => timings.dns,
            1 => timings.connect,
            2 => timings.tls,
            3 => timings.first_byte,
            4 => timings.total,
            _ => -1,
        })
    })
}

/// The method the request sent, e.g. `"GET"`, `"POST"`, `"HEAD"` or the one
/// set with `nethttp_options_set_method()`; also for a failed or cancelled
/// request. Valid as long as the response; NULL if `response` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_method(
    response: *const nethttp_response,
) -> *const c_char {
    guard(ptr::null(), || {
        Ok(response_ref(response)?.method().as_ptr())
    })
}

/// The redirects followed on the way to this response (see
/// `nethttp_options_set_max_redirects()`); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_redirect_count(
    response: *const nethttp_response,
) -> c_uint {
    guard(0, || Ok(response_ref(response)?.hops().redirects))
}

/// The retries made on the way to this response (see
/// `nethttp_options_set_retry()`); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_retry_count(response: *const nethttp_response) -> c_uint {
    guard(0, || Ok(response_ref(response)?.hops().retries))
}

/// The HTTP version of the response: 10, 11, 20 or 30 for HTTP/1.0, 1.1, 2
/// and 3; 0 when no response came (a failure) or for NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_http_version(response: *const nethttp_response) -> c_int {
    guard(0, || Ok(response_ref(response)?.http_version()))
}

/// Frees a response returned by `nethttp_fetch()`, with its strings. NULL is
/// allowed and does nothing. Only for `nethttp_fetch()`'s responses: those
/// passed to callbacks and observers belong to nethttp.
#[no_mangle]
pub unsafe extern "C" fn nethttp_response_free(response: *mut nethttp_response) {
    guard((), || {
        response_free(response);
        Ok(())
    })
}
