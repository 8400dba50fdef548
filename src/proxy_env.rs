//! Whether the environment names a proxy. libcurl looks for one on every
//! transfer that sets no proxy: five `getenv` calls (`no_proxy`,
//! `NO_PROXY`, `<scheme>_proxy`, `all_proxy`, `ALL_PROXY`), each a walk
//! over the whole environment, about 1,400 instructions per request. One
//! walk here answers for all of them; when no proxy variable is set,
//! nethttp tells libcurl "no proxy" and libcurl looks no further, with the
//! same outcome.

use std::ffi::{c_char, CStr};

extern "C" {
    /// The process's environment (POSIX), NULL-terminated "NAME=value" strings.
    static environ: *const *const c_char;
}

/// The variables libcurl reads a proxy from for http and https targets, in
/// any case (libcurl itself reads `http_proxy`, `https_proxy`,
/// `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`; matching more names only means
/// leaving the choice to libcurl more often).
const PROXY_NAMES: [&[u8]; 3] = [b"http_proxy", b"https_proxy", b"all_proxy"];

/// True when a variable libcurl takes a proxy from is set, even to "".
pub(crate) fn names_a_proxy() -> bool {
    // SAFETY: `environ` is the C library's; reading it races with a
    // concurrent setenv exactly as libcurl's own getenv calls do.
    let mut entry = unsafe { environ };
    if entry.is_null() {
        return false;
    }
    loop {
        // SAFETY: a valid, NULL-terminated array of C strings.
        let item = unsafe { *entry };
        if item.is_null() {
            return false;
        }
        // SAFETY: each entry is a NUL-terminated string.
        if is_proxy_variable(unsafe { CStr::from_ptr(item) }.to_bytes()) {
            return true;
        }
        // SAFETY: not past the terminating NULL yet.
        entry = unsafe { entry.add(1) };
    }
}

/// Whether "NAME=value" sets one of `PROXY_NAMES`.
fn is_proxy_variable(entry: &[u8]) -> bool {
    // Most variables fail on their first byte.
    if !matches!(entry.first(), Some(b'h' | b'H' | b'a' | b'A')) {
        return false;
    }
    PROXY_NAMES.iter().any(|name| {
        entry.len() > name.len()
            && entry[name.len()] == b'='
            && entry[..name.len()].eq_ignore_ascii_case(name)
    })
}

#[cfg(test)]
mod tests {
    use super::is_proxy_variable;

    #[test]
    fn proxy_variables_in_any_case_are_recognised() {
        for entry in [
            &b"http_proxy=http://p:3128"[..],
            b"HTTPS_PROXY=",
            b"https_proxy=x",
            b"All_Proxy=socks5://p",
            b"HTTP_PROXY=x",
        ] {
            assert!(is_proxy_variable(entry), "{}", String::from_utf8_lossy(entry));
        }
        for entry in [
            &b"PATH=/usr/bin"[..],
            b"http_proxy",
            b"http_proxyx=1",
            b"no_proxy=localhost",
            b"HOME=/root",
            b"all=1",
            b"",
        ] {
            assert!(!is_proxy_variable(entry), "{}", String::from_utf8_lossy(entry));
        }
    }
}
