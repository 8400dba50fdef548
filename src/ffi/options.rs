//! `struct nethttp_options`: what a request sends, set before `nethttp_request()`.

use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

use super::types::{nethttp_options, options_free, options_into_c, options_mut};
use super::{bytes_arg, c_str_arg, guard, guard_result};
use crate::error::{nethttp_result, Error};
use crate::options::Options;

/// Creates options with nothing set: a GET with the default headers,
/// certificate verification on, a 30 s connect timeout and no total timeout.
/// The caller owns them and frees them with `nethttp_options_free()`.
/// Returns NULL only if memory runs out.
#[no_mangle]
pub extern "C" fn nethttp_options_new() -> *mut nethttp_options {
    guard(ptr::null_mut(), || Ok(options_into_c(Options::new())))
}

/// Frees options. NULL is allowed and does nothing. Requests already made
/// with them are not affected.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_free(options: *mut nethttp_options) {
    guard((), || {
        options_free(options);
        Ok(())
    })
}

/// Sets a request header. The name is sent with the case given here; setting
/// a name again (in any case) replaces the earlier value. A header given here
/// overrides nethttp's defaults (`User-Agent: nethttp/<version>`, and
/// `Content-Type: application/x-www-form-urlencoded` when there is a body) and
/// libcurl's (`Accept`, `Host`, `Content-Length`). An empty `value` (or one
/// of only spaces and tabs) sends the header with an empty value; only a NULL
/// `value` sends no such header at all, removing a default.
///
/// Both strings are copied. The name must be an HTTP token (letters, digits
/// and ``!#$%&'*+-.^_`|~``) and the value must be UTF-8 without CR, LF (or NUL),
/// so that no header can smuggle another into the request.
///
/// The header line (`name: value`) may be at most 1,000,000 bytes long:
/// libcurl builds the request line and headers in a 1 MiB buffer (see
/// `nethttp_request()` for the limit on all of them together).
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options` or
/// `name` is NULL; `NETHTTP_RESULT_INVALID_HEADER_NAME` or
/// `NETHTTP_RESULT_INVALID_HEADER_VALUE` (also for a line over 1,000,000
/// bytes). On error the options are unchanged.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_header(
    options: *mut nethttp_options,
    name: *const c_char,
    value: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let name = c_str_arg(name, "name")?;
        let value = if value.is_null() {
            None
        } else {
            Some(c_str_arg(value, "value")?.to_bytes())
        };
        options.set_header(name.to_bytes(), value)
    })
}

/// Sets the request body: `len` bytes at `body`, copied (binary-safe, NUL
/// bytes included). A body makes the request a POST unless a method is set,
/// with `Content-Type: application/x-www-form-urlencoded` unless a
/// Content-Type header is set. NULL with `len == 0` sets an empty body (still
/// a POST); to remove the body again use `nethttp_options_clear_body()`.
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `options` is
/// NULL, or `NETHTTP_RESULT_INVALID_ARGUMENT` if `body` is NULL with `len > 0`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_body(
    options: *mut nethttp_options,
    body: *const c_void,
    len: usize,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let body = bytes_arg(body.cast(), len, "body")?;
        options.set_body(Some(body));
        Ok(())
    })
}

/// Removes the body set by `nethttp_options_set_body()`.
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_clear_body(
    options: *mut nethttp_options,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_body(None);
        Ok(())
    })
}

/// Forces the method, e.g. `"PUT"`, `"DELETE"` or `"HEAD"`; sent exactly as
/// given (methods are case-sensitive: `"head"` is sent as `head`, an
/// unknown method). A `HEAD` request (upper case) completes as soon as the
/// headers arrive, without waiting for a body. NULL goes back to the
/// default (GET, or POST when there is a body). The string is copied; it must
/// be an HTTP token, which excludes spaces, CR, LF and NUL, of at most
/// 1,000,000 bytes.
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL, or `NETHTTP_RESULT_INVALID_METHOD` (options unchanged).
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_method(
    options: *mut nethttp_options,
    method: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let method = if method.is_null() {
            None
        } else {
            Some(c_str_arg(method, "method")?.to_bytes())
        };
        options.set_method(method)
    })
}

/// With `insecure` non-zero, disables certificate and host-name verification
/// for requests made with these options (only those). Verification, against
/// the system's CA store, is on by default. A connection opened without
/// verification is never reused for a request that verifies.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_insecure(
    options: *mut nethttp_options,
    insecure: c_int,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_insecure(insecure != 0);
        Ok(())
    })
}

/// Limits the whole request (connect, send, wait, receive) to `timeout_ms`
/// milliseconds; 0 (the default) means no limit, and so does any value
/// above 100 years (`UINT64_MAX` included). A request that runs out of time
/// fails with `"timeout"`. Time spent waiting behind a client's connection
/// limits counts.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_timeout_ms(
    options: *mut nethttp_options,
    timeout_ms: u64,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?
            .set_timeout((timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)));
        Ok(())
    })
}

/// Limits the time to connect (TCP and TLS handshakes) to `timeout_ms`
/// milliseconds; 0 restores the default of 30 000 ms. There is always a
/// finite connect timeout: values above 100 years are cut to 100 years.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_connect_timeout_ms(
    options: *mut nethttp_options,
    timeout_ms: u64,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?
            .set_connect_timeout((timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)));
        Ok(())
    })
}

/// Verifies servers against the CA certificates in the PEM file at `path`
/// instead of the system's store; NULL goes back to the system's store. The
/// path is copied; the file is read when a request connects (a missing file
/// fails those requests with `"certificate-verify-failed"`).
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `options` is
/// NULL, or `NETHTTP_RESULT_INVALID_ARGUMENT` if `path` is not valid UTF-8 or
/// is over 1,000,000 bytes long.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_ca_file(
    options: *mut nethttp_options,
    path: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let path = if path.is_null() {
            None
        } else {
            let text = c_str_arg(path, "path")?.to_str().map_err(|_| {
                Error::new(
                    nethttp_result::InvalidArgument,
                    "CA file path is not valid UTF-8",
                )
            })?;
            crate::limits::check_field(
                "the CA file path",
                text.len(),
                nethttp_result::InvalidArgument,
            )?;
            Some(PathBuf::from(text))
        };
        options.set_ca_file(path);
        Ok(())
    })
}

/// Limits the response body to `max_bytes`; a larger body fails the request
/// with `"body-too-large"` (`NETHTTP_RESULT_BODY_TOO_LARGE`) as soon as the
/// limit is passed (or at once when the server announces a larger
/// Content-Length), so a hostile server cannot make nethttp buffer without
/// end. 0 (the default) means no limit, and so does any value of 2^63 or
/// more (`UINT64_MAX` included).
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_max_body(
    options: *mut nethttp_options,
    max_bytes: u64,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_max_body((max_bytes > 0).then_some(max_bytes));
        Ok(())
    })
}
