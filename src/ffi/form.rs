//! `struct nethttp_form`: an ordered list of (name, value) byte strings.

use std::ffi::c_char;
use std::ptr;

use super::types::{form_free, form_into_c, form_mut, form_ref, nethttp_form};
use super::{bytes_arg, guard, guard_result};
use crate::error::{nethttp_result, Error};
use crate::form::Form;

/// Creates an empty form. The caller owns it and must free it with
/// `nethttp_form_free()`. Returns NULL only if memory runs out.
#[no_mangle]
pub extern "C" fn nethttp_form_new() -> *mut nethttp_form {
    guard(ptr::null_mut(), || Ok(form_into_c(Form::new())))
}

/// Appends the field (`name`, `value`) to `form`. Both are copied, so the
/// caller keeps ownership of the buffers. NULL with length 0 is the empty
/// string.
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `form` is
/// NULL, or `NETHTTP_RESULT_INVALID_ARGUMENT` if `name` or `value` is NULL with
/// a non-zero length; on error the form is unchanged.
#[no_mangle]
pub unsafe extern "C" fn nethttp_form_add(
    form: *mut nethttp_form,
    name: *const c_char,
    name_len: usize,
    value: *const c_char,
    value_len: usize,
) -> nethttp_result {
    guard_result(|| {
        let form = form_mut(form)?;
        let name = bytes_arg(name, name_len, "name")?;
        let value = bytes_arg(value, value_len, "value")?;
        form.add(name, value);
        Ok(())
    })
}

/// The number of fields in `form`; 0 if `form` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_form_count(form: *const nethttp_form) -> usize {
    guard(0, || Ok(form_ref(form).map_or(0, Form::len)))
}

/// Gets the field at `index` (0 is the first). On success stores pointers to
/// the name and value, and their lengths, in the out-parameters that are not
/// NULL. The strings belong to the form: they are NUL-terminated for
/// convenience (a byte string may also contain NULs, so prefer the lengths)
/// and stay valid until the form is freed (adding fields does not move them).
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `form` is
/// NULL, or `NETHTTP_RESULT_INDEX_OUT_OF_RANGE` if `index >= count`; on error
/// nothing is stored.
#[no_mangle]
pub unsafe extern "C" fn nethttp_form_field(
    form: *const nethttp_form,
    index: usize,
    name: *mut *const c_char,
    name_len: *mut usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> nethttp_result {
    guard_result(|| {
        let form = form_ref(form).ok_or_else(|| super::null_argument("form"))?;
        let (n, v) = form.field_with_nul(index).ok_or_else(|| {
            Error::new(
                nethttp_result::IndexOutOfRange,
                format!(
                    "field index {index} is out of range: the form has {} fields",
                    form.len()
                ),
            )
        })?;
        store(name, name_len, n);
        store(value, value_len, v);
        Ok(())
    })
}

/// Writes a NUL-terminated stored string to optional out-parameters.
unsafe fn store(ptr_out: *mut *const c_char, len_out: *mut usize, with_nul: &[u8]) {
    if !ptr_out.is_null() {
        *ptr_out = with_nul.as_ptr().cast();
    }
    if !len_out.is_null() {
        *len_out = with_nul.len() - 1;
    }
}

/// The value of the LAST field whose name equals the `name_len` bytes at
/// `name` (byte for byte, case-sensitive), like Prosody's `form_data[name]`;
/// its length goes to `*value_len` when `value_len` is not NULL. The value
/// belongs to the form and is valid until the form is freed.
///
/// Returns NULL when no field has that name (not an error: the last error is
/// left alone), or on bad arguments: `form` NULL, or `name` NULL with
/// `name_len > 0` (then the last error is set).
#[no_mangle]
pub unsafe extern "C" fn nethttp_form_get(
    form: *const nethttp_form,
    name: *const c_char,
    name_len: usize,
    value_len: *mut usize,
) -> *const c_char {
    guard(ptr::null(), || {
        let form = form_ref(form).ok_or_else(|| super::null_argument("form"))?;
        let name = bytes_arg(name, name_len, "name")?;
        Ok(match form.last_value_with_nul(name) {
            Some(value) => {
                store(ptr::null_mut(), value_len, value);
                value.as_ptr().cast()
            }
            None => ptr::null(),
        })
    })
}

/// Frees a form and every string it holds. NULL is allowed and does nothing.
#[no_mangle]
pub unsafe extern "C" fn nethttp_form_free(form: *mut nethttp_form) {
    guard((), || {
        form_free(form);
        Ok(())
    })
}
