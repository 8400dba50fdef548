//! The redaction of passwords: a URL may carry `user:password@`, and no
//! text nethttp hands out (error messages, libcurl's error detail, the
//! effective URL of a response) may show the password. nethttp keeps the
//! user name and replaces the password with `***`:
//! `http://user:secret@host/` is shown as `http://user:***@host/`. A user
//! name without a password (`http://user@host/`) is shown as it is.

use std::borrow::Cow;

/// What replaces a password.
const REDACTED: &[u8] = b"***";

/// The bytes of the password in `text[start..end]`, read as
/// `user:password@rest`: from after the first `:` before the last `@` up to
/// that `@`. None when there is no `@`, no `:` before it, or the password is empty.
fn password_span(text: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let at = start + text[start..end].iter().rposition(|&b| b == b'@')?;
    let colon = start + text[start..at].iter().position(|&b| b == b':')?;
    (colon + 1 < at).then_some((colon + 1, at))
}

fn replace_spans(text: &[u8], spans: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut from = 0;
    for &(start, end) in spans {
        out.extend_from_slice(&text[from..start]);
        out.extend_from_slice(REDACTED);
        from = end;
    }
    out.extend_from_slice(&text[from..]);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The URL with the password of its userinfo replaced by `***`
/// (`http://user:***@host/`); unchanged when it has none. Only the authority
/// is looked at (up to the first `/`, `?` or `#` after `scheme://`, or from
/// the start when there is no scheme), so an `@` in a path or query stays.
/// Bytes, as libcurl's effective URL need not be UTF-8.
pub fn redact_url(url: &[u8]) -> Cow<'_, [u8]> {
    // Most URLs have no userinfo at all: one scan decides.
    if !url.contains(&b'@') {
        return Cow::Borrowed(url);
    }
    let start = find(url, b"://").map_or(0, |i| i + 3);
    let end = url[start..]
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .map_or(url.len(), |i| start + i);
    match password_span(url, start, end) {
        Some(span) => Cow::Owned(replace_spans(url, &[span])),
        None => Cow::Borrowed(url),
    }
}

/// `redact_url` for text.
pub fn redact_url_str(url: &str) -> Cow<'_, str> {
    match redact_url(url.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(url),
        // Only ASCII between ASCII ':' and '@' was replaced: still UTF-8.
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// Free text (an error message, libcurl's error detail) with the password of
/// every URL-like `user:password@host` in it replaced by `***`. The text is
/// cut into words at white space; a span in single or double quotes (as
/// libcurl and Rust's `{:?}` quote URLs) counts as one word, spaces and all.
/// In each word that holds an `@`, whatever lies between the first `:` (after
/// `scheme://`, if any) and the last `@` is the password. This errs towards
/// hiding too much: a diagnostic may lose a few characters, a password must
/// never show.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (start, end) = if b == b'\'' || b == b'"' {
            let close = bytes[i + 1..]
                .iter()
                .position(|&c| c == b)
                .map_or(bytes.len(), |j| i + 1 + j);
            (i + 1, close)
        } else if b.is_ascii_whitespace() || matches!(b, b'<' | b'>' | b'`') {
            i += 1;
            continue;
        } else {
            let stop = bytes[i..]
                .iter()
                .position(|&c| {
                    c.is_ascii_whitespace() || matches!(c, b'\'' | b'"' | b'<' | b'>' | b'`')
                })
                .map_or(bytes.len(), |j| i + j);
            (i, stop)
        };
        let authority = find(&bytes[start..end], b"://").map_or(start, |j| start + j + 3);
        if let Some(span) = password_span(bytes, authority, end) {
            spans.push(span);
        }
        i = end + 1;
    }
    if spans.is_empty() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(String::from_utf8_lossy(&replace_spans(bytes, &spans)).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        let cases: [(&str, &str); 9] = [
            ("http://user:secret@host/p", "http://user:***@host/p"),
            (
                "https://u:s@[::1]:8080/?a=b",
                "https://u:***@[::1]:8080/?a=b",
            ),
            ("http://user@host/", "http://user@host/"),
            ("http://user:@host/", "http://user:@host/"),
            ("http://host/a:b@c", "http://host/a:b@c"),
            ("http://host/?q=a:b@c", "http://host/?q=a:b@c"),
            ("http://u:p@ss@host/", "http://u:***@host/"),
            ("user:secret@host/x", "user:***@host/x"),
            ("http://127.0.0.1:80/", "http://127.0.0.1:80/"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url_str(url), shown, "{url}");
            assert_eq!(&*redact_url(url.as_bytes()), shown.as_bytes(), "{url}");
        }
        assert!(matches!(redact_url(b"http://host/"), Cow::Borrowed(_)));
    }

    #[test]
    fn passwords_are_redacted_from_text() {
        let cases = [
            (
                "Unsupported proxy scheme for 'bogus://puser:psecret@127.0.0.1:1'",
                "Unsupported proxy scheme for 'bogus://puser:***@127.0.0.1:1'",
            ),
            (
                "Unsupported proxy syntax in 'http://puser:ps ecret@127.0.0.1:1': bad",
                "Unsupported proxy syntax in 'http://puser:***@127.0.0.1:1': bad",
            ),
            (
                "Unsupported proxy syntax in 'puser:psecret@127.0.0.1:99999'",
                "Unsupported proxy syntax in 'puser:***@127.0.0.1:99999'",
            ),
            (
                "URL \"http://user:secret@\" has no host",
                "URL \"http://user:***@\" has no host",
            ),
            (
                "see http://a:b@h/ and http://c:d@i/",
                "see http://a:***@h/ and http://c:***@i/",
            ),
            (
                "connect to 127.0.0.1 port 80 failed",
                "connect to 127.0.0.1 port 80 failed",
            ),
            ("mail user@example.org", "mail user@example.org"),
            ("unclosed 'http://u:pw@h", "unclosed 'http://u:***@h"),
            ("", ""),
        ];
        for (text, shown) in cases {
            assert_eq!(redact_text(text), shown, "{text}");
        }
    }
}
