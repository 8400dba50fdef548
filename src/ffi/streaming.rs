//! Streamed bodies from C: the data callback (a response body chunk by
//! chunk), the read callback and the body file (a request body read as it
//! is sent), and resuming a paused stream.

use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::Arc;

use super::types::{
    nethttp_data_callback, nethttp_options, nethttp_read_callback, nethttp_request, options_mut,
    request_id, response_as_c, UserData,
};
use super::{c_str_arg, guard_result, null_argument};
use crate::error::{nethttp_result, Error};
use crate::response::Response;
use crate::stream::{BodyStream, ChunkVerdict, DataSink};

/// What a data callback returns to pause its transfer until
/// `nethttp_request_resume()` (0 goes on; any other value aborts).
pub const NETHTTP_DATA_PAUSE: c_int = 1;

/// Streams response bodies of requests made with these options to
/// `callback`, chunk by chunk as they arrive, instead of collecting them:
/// nothing is buffered and `nethttp_options_set_max_body()` does not apply,
/// so a body of any size passes through constant memory. The request's
/// callback still comes once at the end, with an empty body (and, on
/// failure, status 0 and the reason as always).
///
/// `callback` gets each chunk (`data`, `len`: valid only during the call),
/// `head` (the response's status, headers, URL and HTTP version, with an
/// empty body; valid only during the call) and `userdata`. It runs where the
/// client's callbacks run: on the engine thread, or, for a client in
/// dispatch mode, inside `nethttp_client_dispatch()`. In dispatch mode the
/// chunks wait in a queue bounded at about 1 MiB per request: while it is
/// full the transfer pauses, so a slow consumer slows the download down
/// instead of filling memory. Each chunk counts as one callback for the
/// `max` of `nethttp_client_dispatch()`.
///
/// It returns 0 to go on, `NETHTTP_DATA_PAUSE` to pause the transfer (this
/// chunk counts as delivered; no further chunk comes until
/// `nethttp_request_resume()`), or any other value to abort: the request's
/// callback then comes once with status 0 and `"aborted"`. Redirect and
/// retry responses that are followed are not streamed; only the final
/// response's body is. The same rules as for `nethttp_callback` apply
/// (what may be called inside it, no unwinding).
///
/// A NULL `callback` turns streaming off again (bodies are collected).
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT` if
/// `options` is NULL.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_data_callback(
    options: *mut nethttp_options,
    callback: nethttp_data_callback,
    userdata: *mut c_void,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let sink = callback.map(|callback| {
            let userdata = UserData(userdata);
            DataSink(Arc::new(move |data: &[u8], head: &Response| {
                let userdata = userdata;
                // SAFETY: the caller gave a valid callback; the pointers
                // outlive the call.
                let verdict = unsafe {
                    callback(
                        data.as_ptr().cast(),
                        data.len(),
                        response_as_c(head),
                        userdata.0,
                    )
                };
                match verdict {
                    0 => ChunkVerdict::Continue,
                    NETHTTP_DATA_PAUSE => ChunkVerdict::Pause,
                    _ => ChunkVerdict::Abort,
                }
            }))
        });
        options.set_data_sink(sink);
        Ok(())
    })
}

/// Lets a transfer paused by its data callback (`NETHTTP_DATA_PAUSE`) go on:
/// the next chunk comes (on the engine thread, or in dispatch mode in the
/// next `nethttp_client_dispatch()`). Any thread may call it once the data
/// callback has returned `NETHTTP_DATA_PAUSE`, also from inside another
/// callback. Does nothing when the request is not paused or has ended, or
/// when `request` is stale.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub extern "C" fn nethttp_request_resume(request: *mut nethttp_request) -> nethttp_result {
    guard_result(|| {
        if request.is_null() {
            return Err(null_argument("request"));
        }
        crate::client::resume(request_id(request));
        Ok(())
    })
}

/// Sends a request body produced by `callback` as it is sent, instead of a
/// body held in memory (this replaces `nethttp_options_set_body()` and
/// `nethttp_options_set_body_file()`; like them it makes the request a POST
/// unless a method is set).
///
/// `length` is the body's size in bytes (sent as Content-Length), or -1 when
/// unknown: the body is then sent chunked on HTTP/1.1 (and as DATA frames on
/// HTTP/2). `callback` fills `buffer` with up to `capacity` bytes and returns
/// how many it wrote, 0 at the end of the body, or -1 to abort (the request's
/// callback then comes once with status 0 and `"aborted"`; so does a return
/// value larger than `capacity`). It runs on the engine thread in both
/// delivery modes, possibly before `nethttp_request()` returns to the
/// caller, and must not block for long: every transfer of the client waits
/// while it runs.
///
/// A body from a callback cannot be sent twice: such a request is not
/// retried, and a 307 or 308 redirect of it fails with
/// `NETHTTP_RESULT_REQUEST_FAILED`. `userdata` is passed untouched;
/// nethttp never frees it. A NULL `callback` removes the body.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` for a `length` below -1.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_body_callback(
    options: *mut nethttp_options,
    callback: nethttp_read_callback,
    length: i64,
    userdata: *mut c_void,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        if length < -1 {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                format!("the body length {length} is neither a size nor -1 (unknown)"),
            ));
        }
        let Some(callback) = callback else {
            options.set_body_stream(None);
            return Ok(());
        };
        let userdata = UserData(userdata);
        let read = Arc::new(move |buffer: &mut [u8]| {
            let userdata = userdata;
            // SAFETY: the caller gave a valid callback; the buffer is
            // writable for `capacity` bytes during the call.
            let n = unsafe {
                callback(
                    buffer.as_mut_ptr().cast::<c_char>(),
                    buffer.len(),
                    userdata.0,
                )
            };
            usize::try_from(n).ok()
        });
        options.set_body_stream(Some(BodyStream::Reader {
            read,
            length: u64::try_from(length).ok(),
        }));
        Ok(())
    })
}

/// Sends the file at `path` as the request body, read as it is sent (this
/// replaces a body set before; like a body it makes the request a POST
/// unless a method is set). The path is copied. The file is opened when a
/// request is made with these options: `nethttp_request()` then fails (NULL,
/// `NETHTTP_RESULT_FILE_ERROR`, the message naming the file and the
/// system's reason) if it cannot be opened or is not a regular file; its
/// size then is the Content-Length. A read error during the transfer fails
/// the request with `"file-error"`. A NULL `path` removes the body.
///
/// The file is read on the client's engine thread, as libcurl sends it: a
/// file on a slow disk or a network mount holds up the client's other
/// transfers while a read waits. For such a file, a read callback
/// (`nethttp_options_set_body_callback()`) that serves data already in memory
/// keeps the engine free.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` for an empty path or one that
/// is not UTF-8; `NETHTTP_RESULT_FILE_ERROR` if the file cannot be opened
/// now (checked early so that a mistake shows where it was made).
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_body_file(
    options: *mut nethttp_options,
    path: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        if path.is_null() {
            options.set_body_stream(None);
            return Ok(());
        }
        let path = c_str_arg(path, "path")?.to_str().map_err(|_| {
            Error::new(
                nethttp_result::InvalidArgument,
                "the body file's path is not UTF-8",
            )
        })?;
        if path.is_empty() {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                "the body file's path is empty",
            ));
        }
        let path = PathBuf::from(path);
        if let Err(e) = std::fs::File::open(&path) {
            return Err(Error::new(
                nethttp_result::FileError,
                format!("cannot read the body file {}: {e}", path.display()),
            ));
        }
        options.set_body_stream(Some(BodyStream::File(path)));
        Ok(())
    })
}
