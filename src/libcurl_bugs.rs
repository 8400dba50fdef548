//! Bugs of older libcurl versions that nethttp works around, decided once
//! from the version of the libcurl the process runs with (the system's, or
//! the bundled one).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use crate::error::{nethttp_result, Error};

/// libcurl 8.1.0 (0x080100) fixed a use after free in its header storage
/// (curl PR 11103): a reused easy handle kept a pointer to the last header
/// of its previous transfer, so a response whose first header line is a
/// folded continuation (" x") made libcurl read and realloc freed memory.
/// Before 8.1.0 (Debian 12 ships 7.88.1) nethttp therefore does not reuse
/// easy handles. Found by fuzz/targets/fuzz_response.c.
const FIXED_HEADER_STORE: u32 = 0x08_01_00;

/// Whether a finished easy handle may run another transfer.
pub(crate) fn handle_reuse_is_safe() -> bool {
    static SAFE: OnceLock<bool> = OnceLock::new();
    *SAFE.get_or_init(|| curl::Version::get().version_num() >= FIXED_HEADER_STORE)
}

/// libcurl 7.88.1 cannot reuse a connection it opened with HTTP/2 prior
/// knowledge: the next request on it fails with "Error in the HTTP2
/// framing layer", and a later HTTP/1.1 request to the same port is sent
/// over it too (seen with nethttp and with the curl 7.88.1 command line,
/// against two h2c servers; c_tests/test_http2.c). Its HTTP/2 code was
/// rewritten for 8.x, which nethttp's bundled libcurl (8.22) is.
const FIXED_PRIOR_KNOWLEDGE_REUSE: u32 = 0x08_01_00;

/// Whether a connection opened with HTTP/2 prior knowledge may serve
/// another request.
pub(crate) fn prior_knowledge_reuse_is_safe() -> bool {
    static SAFE: OnceLock<bool> = OnceLock::new();
    *SAFE.get_or_init(|| curl::Version::get().version_num() >= FIXED_PRIOR_KNOWLEDGE_REUSE)
}

/// Runs `f`, which calls into the curl crate where it asserts that libcurl
/// returned a pointer (`Easy2::new` on `curl_easy_init`, `List::append` on
/// `curl_slist_append`): when libcurl runs out of memory those panic, and
/// nethttp's guard would report `internal-error`. Such a panic is reported
/// as out of memory instead (found by c_tests/reliability/allocfail.c).
pub(crate) fn or_out_of_memory<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        Error::new(
            nethttp_result::OutOfMemory,
            format!("libcurl could not allocate {what}"),
        )
    })
}
