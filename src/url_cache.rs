//! URLs parsed once by libcurl's URL API and handed to transfers with
//! `CURLOPT_CURLU`. libcurl parses a `CURLOPT_URL` string anew for every
//! transfer (about 12,000 instructions for a short URL); a parsed handle is
//! only copied. A client keeps the handles of the URLs it fetched last.
//!
//! libcurl reads a `CURLU` given with `CURLOPT_CURLU` when the transfer
//! starts and never changes it, so one parsed URL may serve transfers on
//! several threads at once; each transfer holds an `Arc` to it until it ends.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_uint, CString};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use crate::error::{nethttp_result, Error};
use crate::sync::lock;

/// cbindgen:ignore
#[repr(C)]
struct CurlUrlHandle {
    _private: [u8; 0],
}

// libcurl's URL API (7.62), which curl-sys does not declare; not ours to
// export, so cbindgen must not copy it into nethttp.h.
#[allow(unused_doc_comments)]
/// cbindgen:ignore
extern "C" {
    fn curl_url() -> *mut CurlUrlHandle;
    fn curl_url_cleanup(handle: *mut CurlUrlHandle);
    fn curl_url_set(
        handle: *mut CurlUrlHandle,
        what: c_int,
        part: *const c_char,
        flags: c_uint,
    ) -> c_int;
    fn curl_url_get(
        handle: *mut CurlUrlHandle,
        what: c_int,
        part: *mut *mut c_char,
        flags: c_uint,
    ) -> c_int;
    fn curl_url_strerror(code: c_int) -> *const c_char;
}

const CURLUPART_URL: c_int = 0;
const CURLUPART_SCHEME: c_int = 1;
const CURLUPART_HOST: c_int = 5;
const CURLUPART_PORT: c_int = 6;
const CURLUPART_PATH: c_int = 7;
const CURLU_DEFAULT_PORT: c_uint = 1 << 0;
/// The flags libcurl itself parses `CURLOPT_URL` with (url.c), so that a
/// parsed URL means what the string would have.
const CURLU_NON_SUPPORT_SCHEME: c_uint = 1 << 3;
const CURLU_GUESS_SCHEME: c_uint = 1 << 9;
const CURLUE_OUT_OF_MEMORY: c_int = 7;

/// Parsed URLs a client keeps; when full, it starts over (a program that
/// fetches ever new URLs pays one parse each, as libcurl would).
const MAX_CACHED: usize = 256;

/// One URL as libcurl parsed it.
pub(crate) struct ParsedUrl {
    handle: *mut CurlUrlHandle,
    /// The URL as given, for CURLOPT_URL (set beside the handle, so that
    /// libcurl 7.x neither parses it again nor formats it from the handle).
    text: CString,
    /// The same, as text (the transfer's cookie, redirect and retry logic).
    source: Box<str>,
}

// SAFETY: the handle is never changed after `parse`, and libcurl only reads
// it (curl_url_dup when a transfer starts); it is freed once, in Drop.
unsafe impl Send for ParsedUrl {}
// SAFETY: as above: shared use is read-only.
unsafe impl Sync for ParsedUrl {}

impl ParsedUrl {
    fn parse(url: &str) -> Result<ParsedUrl, Error> {
        let text = CString::new(url)
            .map_err(|_| Error::new(nethttp_result::InvalidUrl, "URL contains a NUL byte"))?;
        // SAFETY: plain constructor; NULL is checked.
        let handle = unsafe { curl_url() };
        if handle.is_null() {
            return Err(Error::new(
                nethttp_result::OutOfMemory,
                "libcurl could not allocate a URL handle",
            ));
        }
        let parsed = ParsedUrl {
            handle,
            text,
            source: url.into(),
        };
        // SAFETY: live handle; libcurl copies the string.
        let code = unsafe {
            curl_url_set(
                handle,
                CURLUPART_URL,
                parsed.text.as_ptr(),
                CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME,
            )
        };
        match code {
            0 => Ok(parsed),
            CURLUE_OUT_OF_MEMORY => Err(Error::new(
                nethttp_result::OutOfMemory,
                "libcurl ran out of memory parsing the URL",
            )),
            _ => {
                // SAFETY: curl_url_strerror returns a static string for any code.
                let why = unsafe { std::ffi::CStr::from_ptr(curl_url_strerror(code)) };
                Err(Error::new(
                    nethttp_result::InvalidUrl,
                    format!(
                        "libcurl cannot use the URL {:?}: {}",
                        crate::redact::redact_url_str(url),
                        why.to_string_lossy()
                    ),
                ))
            }
        }
    }

    /// The handle for `CURLOPT_CURLU`; valid while `self` is.
    pub(crate) fn raw(&self) -> *mut libc::c_void {
        self.handle.cast()
    }

    /// The URL as given, for `CURLOPT_URL`.
    pub(crate) fn text(&self) -> &std::ffi::CStr {
        &self.text
    }

    /// The URL as given.
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }
}

impl Drop for ParsedUrl {
    fn drop(&mut self) {
        // SAFETY: the handle came from curl_url and is freed only here.
        unsafe { curl_url_cleanup(self.handle) }
    }
}

/// A URL handle that is freed when dropped (for one-off uses).
struct Scratch(*mut CurlUrlHandle);

impl Scratch {
    fn new() -> Result<Scratch, Error> {
        // SAFETY: plain constructor; NULL is checked.
        let handle = unsafe { curl_url() };
        if handle.is_null() {
            return Err(Error::new(
                nethttp_result::OutOfMemory,
                "libcurl could not allocate a URL handle",
            ));
        }
        Ok(Scratch(handle))
    }

    fn set_url(&self, url: &str, what: &str) -> Result<(), Error> {
        let text = CString::new(url).map_err(|_| {
            Error::new(
                nethttp_result::InvalidUrl,
                format!("{what} contains a NUL byte"),
            )
        })?;
        // SAFETY: live handle; libcurl copies the string.
        let code = unsafe {
            curl_url_set(
                self.0,
                CURLUPART_URL,
                text.as_ptr(),
                CURLU_NON_SUPPORT_SCHEME,
            )
        };
        if code == 0 {
            return Ok(());
        }
        // SAFETY: curl_url_strerror returns a static string for any code.
        let why = unsafe { std::ffi::CStr::from_ptr(curl_url_strerror(code)) };
        Err(Error::new(
            nethttp_result::InvalidUrl,
            format!(
                "{what} {:?} is not a usable URL: {}",
                crate::redact::redact_url_str(url),
                why.to_string_lossy()
            ),
        ))
    }

    fn get(&self, part: c_int, flags: c_uint) -> Option<String> {
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: live handle; on success `out` is a string we must curl_free.
        let code = unsafe { curl_url_get(self.0, part, &mut out, flags) };
        if code != 0 || out.is_null() {
            return None;
        }
        // SAFETY: a NUL-terminated string from libcurl, freed right after copying.
        let text = unsafe { std::ffi::CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: allocated by libcurl, freed once.
        unsafe { curl_sys::curl_free(out.cast()) };
        Some(text)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: from curl_url, freed only here.
        unsafe { curl_url_cleanup(self.0) }
    }
}

/// Scheme, host and port of a URL, lowercased, the port made explicit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: String,
}

impl Origin {
    pub(crate) fn of(url: &str) -> Option<Origin> {
        let scratch = Scratch::new().ok()?;
        scratch.set_url(url, "the URL").ok()?;
        Some(Origin {
            scheme: scratch.get(CURLUPART_SCHEME, 0)?.to_ascii_lowercase(),
            host: scratch.get(CURLUPART_HOST, 0)?.to_ascii_lowercase(),
            port: scratch.get(CURLUPART_PORT, CURLU_DEFAULT_PORT)?,
        })
    }

    pub(crate) fn scheme(&self) -> &str {
        &self.scheme
    }
}

/// Scheme (lowercase), host (lowercase, an IPv6 address without brackets)
/// and path of a URL.
pub(crate) fn scheme_host_path(url: &str) -> Option<(String, String, String)> {
    let scratch = Scratch::new().ok()?;
    scratch.set_url(url, "the URL").ok()?;
    let host = scratch.get(CURLUPART_HOST, 0)?.to_ascii_lowercase();
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Some((
        scratch.get(CURLUPART_SCHEME, 0)?.to_ascii_lowercase(),
        host,
        scratch
            .get(CURLUPART_PATH, 0)
            .unwrap_or_else(|| "/".to_string()),
    ))
}

/// A redirect's Location resolved against the URL it came from (RFC 3986
/// section 5), as libcurl does it.
pub(crate) fn resolve_location(base: &str, location: &str) -> Result<String, Error> {
    let scratch = Scratch::new()?;
    scratch.set_url(base, "the redirected URL")?;
    scratch.set_url(location, "the redirect's Location")?;
    scratch.get(CURLUPART_URL, 0).ok_or_else(|| {
        Error::new(
            nethttp_result::InvalidUrl,
            "libcurl could not format the redirect's target",
        )
    })
}

/// Hashes URL text eight bytes at a time. SipHash, the standard map's,
/// costs more than the rest of a lookup; its resistance to chosen keys is
/// not needed here, as the map never holds more than `MAX_CACHED` URLs.
#[derive(Default)]
struct UrlHasher(u64);

impl Hasher for UrlHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let mut tail = [0u8; 8];
        let rest = words.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        // The length keeps "ab" and "ab\0" apart.
        let last = u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 59);
        self.0 = (self.0.rotate_left(5) ^ last).wrapping_mul(K);
    }
}

/// A client's parsed URLs, by their text.
#[derive(Default)]
pub(crate) struct UrlCache {
    urls: Mutex<HashMap<Box<str>, Arc<ParsedUrl>, BuildHasherDefault<UrlHasher>>>,
}

impl UrlCache {
    /// The parsed form of `url`, checked (`url::check_url`) and parsed on
    /// first use; a URL found here passed both before.
    pub(crate) fn get(&self, url: &str) -> Result<Arc<ParsedUrl>, Error> {
        if let Some(parsed) = lock(&self.urls).get(url) {
            return Ok(Arc::clone(parsed));
        }
        crate::url::check_url(url)?;
        let parsed = Arc::new(ParsedUrl::parse(url)?);
        let mut urls = lock(&self.urls);
        if urls.len() >= MAX_CACHED {
            urls.clear();
        }
        urls.insert(url.into(), Arc::clone(&parsed));
        Ok(parsed)
    }

    pub(crate) fn clear(&self) {
        let urls = std::mem::take(&mut *lock(&self.urls));
        drop(urls);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hashes_tell_lengths_and_tails_apart() {
        let hash = |text: &[u8]| {
            let mut h = UrlHasher::default();
            h.write(text);
            h.finish()
        };
        let texts: [&[u8]; 6] = [
            b"",
            b"ab",
            b"ab\0",
            b"http://h/a",
            b"http://h/b",
            b"http://h/aaaaaaaa",
        ];
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(hash(a), hash(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn parses_once_and_refuses_what_libcurl_refuses() {
        let cache = UrlCache::default();
        let a = cache.get("http://127.0.0.1:1/x").unwrap();
        let b = cache.get("http://127.0.0.1:1/x").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let err = cache.get("http://exa mple.org/").err().unwrap();
        assert_eq!(err.code, nethttp_result::InvalidUrl);
        let secret = cache
            .get("http://user:secret@[::1/")
            .err()
            .expect("a bad IPv6 literal is refused");
        assert!(!secret.message.contains("secret"), "{}", secret.message);
    }

    #[test]
    fn locations_resolve_and_origins_compare() {
        let base = "http://127.0.0.1:8080/a/b?q=1";
        assert_eq!(
            resolve_location(base, "/x").unwrap(),
            "http://127.0.0.1:8080/x"
        );
        assert_eq!(
            resolve_location(base, "c").unwrap(),
            "http://127.0.0.1:8080/a/c"
        );
        assert_eq!(
            resolve_location(base, "https://h.example/").unwrap(),
            "https://h.example/"
        );
        assert_eq!(
            resolve_location(base, "file:///etc/passwd").unwrap(),
            "file:///etc/passwd"
        );
        assert_eq!(
            Origin::of("HTTP://LocalHost/x"),
            Origin::of("http://localhost:80/y")
        );
        assert_ne!(
            Origin::of("http://localhost/"),
            Origin::of("https://localhost/")
        );
        assert_ne!(
            Origin::of("http://127.0.0.1:1/"),
            Origin::of("http://localhost:1/")
        );
        assert_eq!(Origin::of("ftp://h/").unwrap().scheme(), "ftp");
    }
}
