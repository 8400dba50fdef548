//! `nethttp_urlencode`, `nethttp_urldecode`, `nethttp_formencode`, `nethttp_formdecode`.

use std::ffi::c_char;
use std::ptr;

use super::types::{form_into_c, form_ref, nethttp_form};
use super::{bytes_arg, guard, malloc_filled, malloc_shrunk, null_argument};
use crate::encoding;

/// Percent-encodes `len` bytes at `data`: every byte outside RFC 3986's
/// unreserved set (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` with UPPERCASE hex,
/// as RFC 3986 section 2.1 recommends. (Prosody's `urlencode` writes
/// lowercase hex; both decode the same.) Any bytes may be given, NUL and
/// invalid UTF-8 included.
///
/// `data` is borrowed for the duration of the call; NULL with `len == 0` is
/// the empty string. On success returns a new NUL-terminated string and, when
/// `out_len` is not NULL, stores its length (without the NUL) there. The caller
/// owns the result and must free it with `nethttp_free()`.
///
/// Returns NULL on error: `data` NULL with `len > 0`
/// (`NETHTTP_RESULT_INVALID_ARGUMENT`) or no memory
/// (`NETHTTP_RESULT_OUT_OF_MEMORY`); see `nethttp_last_error()`.
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn nethttp_urlencode(
    data: *const c_char,
    len: usize,
    out_len: *mut usize,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        let input = bytes_arg(data, len, "data")?;
        malloc_filled(encoding::urlencoded_len(input), out_len, |out| {
            encoding::urlencode_into(input, out)
        })
    })
}

/// Decodes `%XX` escapes (hex digits in either case) in `len` bytes at `data`.
/// A `%` that is not followed by two hex digits is kept as it is, and `+` is
/// NOT turned into a space (as in Prosody's `urldecode`; use
/// `nethttp_formdecode()` for form data). The result may contain any byte,
/// NUL included, so use `*out_len` rather than `strlen`.
///
/// Ownership, NULL handling and errors as for `nethttp_urlencode()`: the
/// result is NUL-terminated, owned by the caller, freed with `nethttp_free()`.
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn nethttp_urldecode(
    data: *const c_char,
    len: usize,
    out_len: *mut usize,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        let input = bytes_arg(data, len, "data")?;
        // Decoding never grows the text: one pass into a buffer of the input's
        // size, shrunk afterwards, beats counting the escapes first.
        malloc_shrunk(input.len(), out_len, |out| {
            encoding::urldecode_into(input, out)
        })
    })
}

/// Encodes a form as `application/x-www-form-urlencoded`: `name=value` pairs
/// in the form's order, duplicates kept, joined by `&`; a space becomes `+`,
/// every other byte outside the unreserved set becomes `%XX` (uppercase hex).
/// An empty form gives the empty string.
///
/// `form` is borrowed for the duration of the call. The result is a new
/// NUL-terminated string owned by the caller, freed with `nethttp_free()`; its
/// length is stored in `*out_len` when `out_len` is not NULL.
///
/// Returns NULL if `form` is NULL (`NETHTTP_RESULT_NULL_ARGUMENT`) or memory
/// runs out (`NETHTTP_RESULT_OUT_OF_MEMORY`).
///
/// Thread-safe, as long as no other thread modifies `form` during the call.
#[no_mangle]
pub unsafe extern "C" fn nethttp_formencode(
    form: *const nethttp_form,
    out_len: *mut usize,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        let form = form_ref(form).ok_or_else(|| null_argument("form"))?;
        malloc_filled(encoding::formencoded_len(form), out_len, |out| {
            encoding::formencode_into(form, out)
        })
    })
}

/// Decodes `application/x-www-form-urlencoded` data into a new form.
///
/// The input is split on `&`, then each piece on its first `=`; `+` becomes a
/// space and `%XX` escapes are decoded (an invalid `%` is kept as it is).
/// Fields keep their order and duplicates; `nethttp_form_get()` returns the
/// last value of a name, like Prosody's `form_data[name]`. Empty pieces (as in
/// `a=1&&b=2`) are skipped. Names and values may hold any byte, NUL included.
///
/// Differences from Prosody's `formdecode`: a piece without `=` is kept as a
/// name with an empty value (Prosody drops it), and input without any `=` still
/// gives a form (Prosody returns the decoded string instead).
///
/// `data` is borrowed for the duration of the call; NULL with `len == 0` is
/// the empty string and gives an empty form. The caller owns the new form and
/// must free it with `nethttp_form_free()`. Returns NULL on error: `data` NULL
/// with `len > 0` (`NETHTTP_RESULT_INVALID_ARGUMENT`).
///
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn nethttp_formdecode(data: *const c_char, len: usize) -> *mut nethttp_form {
    guard(ptr::null_mut(), || {
        let input = bytes_arg(data, len, "data")?;
        Ok(form_into_c(encoding::formdecode(input)))
    })
}
