//! The `extern "C"` layer. Each function converts and checks its pointers,
//! calls the safe core, and maps the result; `guard` makes sure no panic
//! unwinds into C.
//!
//! cbindgen turns the items and doc comments of these modules into
//! `include/nethttp.h`, so the comments are the C user's manual.

// Each function's doc comment states its pointer contract for C callers (the
// header is built from it); a Rust "# Safety" heading would only repeat it.
#![allow(clippy::missing_safety_doc)]
// In reading order: cbindgen keeps source order, so this orders the header
// (one declaration per group, so that rustfmt keeps the order).
mod types;

mod client;

mod request;

mod response;

mod options;

mod streaming;

mod form;

mod encoding;

pub use client::*;
pub use encoding::*;
pub use form::*;
pub use options::*;
pub use request::*;
pub use response::*;
pub use types::{
    nethttp_callback, nethttp_client, nethttp_client_config, nethttp_form, nethttp_observer,
    nethttp_options, nethttp_request, nethttp_response,
};

use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::error::{self, nethttp_result, Error};

/// Runs an exported function's body: an `Err` is recorded as this thread's
/// last error and a panic becomes `NETHTTP_RESULT_INTERNAL`; either way
/// `fallback` is returned instead of unwinding into C. A panic prints
/// nothing (see `panic_quiet`).
///
/// Public only for nethttp's own tests (`tests/quiet_panics.rs`).
#[doc(hidden)]
pub fn guard<T>(fallback: T, body: impl FnOnce() -> Result<T, Error>) -> T {
    let _quiet = crate::panic_quiet::enter_nethttp_code();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            error::set_last_error(&error);
            fallback
        }
        Err(_) => {
            error::set_last_error(&Error::new(
                nethttp_result::Internal,
                "internal error in nethttp (a panic was caught); the operation did not happen",
            ));
            fallback
        }
    }
}

/// `guard` for functions that return a result code.
pub(crate) fn guard_result(body: impl FnOnce() -> Result<(), Error>) -> nethttp_result {
    let mut code = nethttp_result::Internal;
    guard((), || {
        let outcome = body();
        code = outcome
            .as_ref()
            .map_or_else(|e| e.code, |_| nethttp_result::Ok);
        outcome
    });
    code
}

pub(crate) fn null_argument(name: &str) -> Error {
    Error::new(
        nethttp_result::NullArgument,
        format!("{name} must not be NULL"),
    )
}

/// Borrows `len` bytes at `data`; NULL with length 0 is the empty string.
///
/// # Safety
/// A non-NULL `data` must point to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes_arg<'a>(
    data: *const c_char,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Error> {
    if data.is_null() {
        if len == 0 {
            Ok(&[])
        } else {
            Err(Error::new(
                nethttp_result::InvalidArgument,
                format!("{name} is NULL but its length is {len}"),
            ))
        }
    } else {
        Ok(std::slice::from_raw_parts(data.cast::<u8>(), len))
    }
}

/// Borrows a NUL-terminated string.
///
/// # Safety
/// A non-NULL `s` must point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str_arg<'a>(s: *const c_char, name: &str) -> Result<&'a CStr, Error> {
    if s.is_null() {
        Err(null_argument(name))
    } else {
        Ok(CStr::from_ptr(s))
    }
}

/// Copies bytes into a new `malloc` allocation with a NUL after them, and
/// stores their length (without the NUL) in `*out_len` when `out_len` is not NULL.
pub(crate) fn malloc_filled(
    len: usize,
    out_len: *mut usize,
    fill: impl FnOnce(&mut [u8]),
) -> Result<*mut c_char, Error> {
    let size = len
        .checked_add(1)
        .ok_or_else(|| Error::new(nethttp_result::OutOfMemory, "result too large"))?;
    // SAFETY: malloc with a non-zero size; NULL is checked below.
    let ptr = unsafe { libc::malloc(size) }.cast::<u8>();
    if ptr.is_null() {
        return Err(Error::new(
            nethttp_result::OutOfMemory,
            format!("could not allocate {size} bytes"),
        ));
    }
    // SAFETY: `ptr` holds `size` bytes that nothing else refers to yet.
    let buffer = unsafe { std::slice::from_raw_parts_mut(ptr, size) };
    fill(&mut buffer[..len]);
    buffer[len] = 0;
    if !out_len.is_null() {
        // SAFETY: the caller passed a writable size_t, or NULL.
        unsafe { *out_len = len };
    }
    Ok(ptr.cast())
}

/// Like `malloc_filled`, for output of at most `max_len` bytes: `fill`
/// returns how many it wrote, and the allocation is shrunk to fit.
pub(crate) fn malloc_shrunk(
    max_len: usize,
    out_len: *mut usize,
    fill: impl FnOnce(&mut [u8]) -> usize,
) -> Result<*mut c_char, Error> {
    let mut written = 0;
    let ptr = malloc_filled(max_len, ptr::null_mut(), |out| written = fill(out))?;
    // SAFETY: `ptr` holds `max_len + 1` bytes and `written <= max_len`.
    unsafe { *ptr.add(written) = 0 };
    let shrunk = if written < max_len {
        // SAFETY: `ptr` came from malloc; shrinking keeps the first bytes.
        let smaller = unsafe { libc::realloc(ptr.cast(), written + 1) }.cast::<c_char>();
        if smaller.is_null() {
            ptr
        } else {
            smaller
        }
    } else {
        ptr
    };
    if !out_len.is_null() {
        // SAFETY: the caller passed a writable size_t, or NULL.
        unsafe { *out_len = written };
    }
    Ok(shrunk)
}

/// The library's version, e.g. `"0.1.0"`, as a static string (never freed).
#[no_mangle]
pub extern "C" fn nethttp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// What this build of nethttp can do, as a static string of space-separated
/// words, in this order, each present only when the libcurl and TLS library
/// that nethttp runs with support it:
///
/// - `http2`, `http3`: HTTP versions libcurl can negotiate;
/// - `gzip`, `deflate`, `br`, `zstd`: content encodings libcurl can decode
///   (zlib gives the first two; nethttp sends no `Accept-Encoding` of its
///   own);
/// - `socks`: SOCKS4 and SOCKS5 proxies (`nethttp_options_set_proxy()`),
///   always there;
/// - `unix-sockets`: `nethttp_options_set_unix_socket()`;
/// - `mtls`: client certificates from PEM files
///   (`nethttp_options_set_client_cert()`), and `pinning`:
///   `nethttp_options_set_pinned_public_key()`; both when the TLS library is
///   OpenSSL or one of its forks.
///
/// Words are never renamed; new ones may be added. Look a word up by
/// splitting at spaces rather than with `strstr()`. Never NULL, never
/// fails. Any thread, at any time; the string is computed once (from
/// `curl_version_info()`), belongs to nethttp and is never freed.
#[no_mangle]
pub extern "C" fn nethttp_features() -> *const c_char {
    guard(c"".as_ptr(), || Ok(crate::transport::features().as_ptr()))
}

/// The short, stable name of a result code (a value of `enum nethttp_result`),
/// e.g. `"connection-refused"` for `NETHTTP_RESULT_CONNECTION_REFUSED`, or
/// `"unknown"` for a number that is not one. The string is static: never
/// free it.
///
/// For a failed request these are the same strings as the callback's body and
/// `nethttp_response_error()`.
#[no_mangle]
pub extern "C" fn nethttp_strerror(code: c_int) -> *const c_char {
    nethttp_result::from_code(code)
        .map_or(c"unknown", nethttp_result::name)
        .as_ptr()
}

/// The code of the last error on the calling thread.
///
/// Every nethttp function that fails (returns NULL, or a result other than
/// `NETHTTP_RESULT_OK`) records its error for the calling thread, like
/// `errno`: read it right after the failing call. Successful calls do not
/// clear it.
#[no_mangle]
pub extern "C" fn nethttp_last_error_code() -> nethttp_result {
    error::last_error_code()
}

/// A human-readable explanation of the last error on the calling thread, e.g.
/// `URL scheme "ftp" is not supported: only http and https are`. Never NULL
/// (an empty string when no error was recorded). A URL it quotes has its
/// password replaced by `***` (`http://user:***@host/`).
///
/// The string belongs to nethttp and stays valid until the next failing
/// nethttp call on the same thread; copy it to keep it.
#[no_mangle]
pub extern "C" fn nethttp_last_error() -> *const c_char {
    error::last_error_message()
}

/// Frees a string returned by `nethttp_urlencode()`, `nethttp_urldecode()`
/// or `nethttp_formencode()`. NULL is allowed and does nothing.
///
/// Those strings are allocated with `malloc`, so `free()` works as well;
/// `nethttp_free` keeps programs correct should that ever change.
#[no_mangle]
pub unsafe extern "C" fn nethttp_free(ptr: *mut c_void) {
    // SAFETY: `ptr` is NULL or came from malloc in this library.
    libc::free(ptr);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_catches_panics_and_records_an_internal_error() {
        let value = guard(7, || -> Result<i32, Error> { panic!("boom") });
        assert_eq!(value, 7);
        assert_eq!(error::last_error_code(), nethttp_result::Internal);
        let code = guard_result(|| panic!("boom"));
        assert_eq!(code, nethttp_result::Internal);
    }

    #[test]
    fn guard_records_errors_and_passes_values() {
        assert_eq!(guard(0, || Ok(5)), 5);
        let code = guard_result(|| Err(Error::new(nethttp_result::InvalidMethod, "bad")));
        assert_eq!(code, nethttp_result::InvalidMethod);
        assert_eq!(error::last_error_code(), nethttp_result::InvalidMethod);
    }
}
