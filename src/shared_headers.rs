//! The header list of the most common request: one that sets no header,
//! cookie or body of its own. Its lines are the same for every such
//! request, so the list is built once per process and shared by all
//! transfers instead of being allocated and freed for each (two
//! `curl_slist_append` calls and their frees, about 1,400 instructions).

use std::ffi::CString;
use std::sync::OnceLock;

/// A list libcurl only reads. Never freed: it lives as long as the process
/// (two short lines).
struct StaticList(*mut curl_sys::curl_slist);

// SAFETY: the list is complete before `OnceLock` publishes it and nothing
// writes to it afterwards; libcurl reads it from any engine thread.
unsafe impl Send for StaticList {}
unsafe impl Sync for StaticList {}

/// nethttp's User-Agent line, sent unless the caller sets its own. A header
/// line, not CURLOPT_USERAGENT: libcurl formats that option anew for every
/// transfer (about 5,000 instructions), a list line it copies.
pub(crate) const USER_AGENT_LINE: &str = concat!("User-Agent: nethttp/", env!("CARGO_PKG_VERSION"));

/// The shared list: the User-Agent line, then the Accept-Encoding line when
/// `decoding`. None when it could not be built (out of memory: the caller
/// then builds its own).
pub(crate) fn list(decoding: bool) -> Option<*mut curl_sys::curl_slist> {
    static PLAIN: OnceLock<StaticList> = OnceLock::new();
    static DECODING: OnceLock<StaticList> = OnceLock::new();
    let (cell, accept_encoding) = if decoding {
        (&DECODING, Some(crate::transport::accept_encoding_line()))
    } else {
        (&PLAIN, None)
    };
    let list = cell.get_or_init(|| StaticList(build(accept_encoding)));
    (!list.0.is_null()).then_some(list.0)
}

fn build(accept_encoding: Option<&str>) -> *mut curl_sys::curl_slist {
    let mut list: *mut curl_sys::curl_slist = std::ptr::null_mut();
    for line in std::iter::once(USER_AGENT_LINE).chain(accept_encoding) {
        let Ok(line) = CString::new(line) else {
            return free(list);
        };
        // SAFETY: `list` is null or a list built here; libcurl copies the line.
        let longer = unsafe { curl_sys::curl_slist_append(list, line.as_ptr()) };
        if longer.is_null() {
            return free(list);
        }
        list = longer;
    }
    list
}

fn free(list: *mut curl_sys::curl_slist) -> *mut curl_sys::curl_slist {
    // SAFETY: null or a list built by `build` that nothing else holds.
    unsafe { curl_sys::curl_slist_free_all(list) };
    std::ptr::null_mut()
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    fn lines(mut list: *mut curl_sys::curl_slist) -> Vec<String> {
        let mut out = Vec::new();
        while !list.is_null() {
            // SAFETY: a list built by `super::list`, never freed.
            unsafe {
                out.push(CStr::from_ptr((*list).data).to_string_lossy().into_owned());
                list = (*list).next;
            }
        }
        out
    }

    #[test]
    fn builds_each_list_once_with_its_lines() {
        let ua = super::USER_AGENT_LINE;
        let ae = crate::transport::accept_encoding_line();
        let decoding = super::list(true).unwrap();
        assert_eq!(lines(decoding), [ua, ae]);
        assert_eq!(super::list(true), Some(decoding));
        let plain = super::list(false).unwrap();
        assert_eq!(lines(plain), [ua]);
        assert_ne!(plain, decoding);
    }
}
