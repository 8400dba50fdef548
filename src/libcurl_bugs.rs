//! Bugs of older libcurl versions that nethttp works around, decided once
//! from the version of the libcurl the process runs with (the system's, or
//! the bundled one).

use std::sync::OnceLock;

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
