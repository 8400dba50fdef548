//! The checks a URL passes before a request is made for it. libcurl parses
//! the URL again; this only rejects early, with a clear error, what must never
//! reach it: other schemes, missing hosts, bad ports, whitespace and control
//! characters. Messages never quote a password (see `redact`).

use crate::error::{nethttp_result, Error};
use crate::limits;
use crate::redact::{redact_text, redact_url_str};

fn invalid(message: impl Into<String>) -> Error {
    Error::new(
        nethttp_result::InvalidUrl,
        redact_text(&message.into()).into_owned(),
    )
}

/// Accepts `http://` and `https://` URLs (scheme in any case) with a host.
pub fn check_url(url: &str) -> Result<(), Error> {
    // It goes into the request line: see `limits`. (Never quoted: too long.)
    limits::check_field("the URL", url.len(), nethttp_result::InvalidUrl)?;
    // ASCII controls, space and DEL by byte; other whitespace and controls
    // (U+0085, U+00A0, U+2028, ...) only in the rare non-ASCII URL.
    let ascii_bad = |b: &u8| *b <= b' ' || *b == 0x7f;
    let bad = if url.bytes().any(|b| ascii_bad(&b) || b >= 0x80) {
        url.chars().find(|c| c.is_whitespace() || c.is_control())
    } else {
        None
    };
    if let Some(bad) = bad {
        return Err(invalid(format!(
            "URL contains the character {:?}, which must be percent-encoded",
            bad
        )));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid(format!(
            "URL {:?} has no scheme (expected http:// or https://)",
            redact_url_str(url)
        )));
    };
    let scheme_is_syntactic = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_is_syntactic {
        return Err(invalid(format!("URL scheme {scheme:?} is not valid")));
    }
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(Error::new(
            nethttp_result::UnsupportedScheme,
            redact_text(&format!(
                "URL scheme {scheme:?} is not supported: only http and https are"
            ))
            .into_owned(),
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((literal, after)) = bracketed.split_once(']') else {
            return Err(invalid("URL has an IPv6 address without its closing ']'"));
        };
        if literal.is_empty()
            || !literal
                .chars()
                .all(|c| c.is_ascii_hexdigit() || ":.%".contains(c))
        {
            return Err(invalid(format!(
                "URL has an invalid IPv6 address [{literal}]"
            )));
        }
        match after {
            "" => (literal, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (literal, Some(port)),
                None => return Err(invalid("URL has characters after the IPv6 address")),
            },
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(invalid(format!(
            "URL {:?} has no host",
            redact_url_str(url)
        )));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65535);
        if !valid {
            return Err(invalid(format!(
                "URL port {port:?} is not a number from 0 to 65535"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https() {
        for url in [
            "http://127.0.0.1:8080/echo?x=1#f",
            "HTTPS://example.org",
            "http://user:pw@host:1/",
            "http://[::1]:80/",
            "http://[::1]",
        ] {
            assert_eq!(check_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn errors_never_quote_a_password() {
        for url in [
            "http://user:secret@/path",
            "user:secret@host/path",
            "http://user:secret@",
            "ftp://user:secret@host/",
            "http://user:secret@host:99999/",
            "http://user:secret@[::1/",
            "http://user:secret@ho st/",
            "user:secret@host://x",
            "htt\"p://user:secret@/",
        ] {
            let error = check_url(url).unwrap_err();
            assert!(
                !error.message.contains("secret"),
                "{url}: {}",
                error.message
            );
        }
        let error = check_url("http://user:secret@/").unwrap_err();
        assert!(error.message.contains("user:***@"), "{}", error.message);
    }

    #[test]
    fn rejects_bad_urls_with_their_code() {
        let cases = [
            ("ftp://host/", nethttp_result::UnsupportedScheme),
            ("file:///etc/passwd", nethttp_result::UnsupportedScheme),
            ("host/path", nethttp_result::InvalidUrl),
            ("http://", nethttp_result::InvalidUrl),
            ("http:///path", nethttp_result::InvalidUrl),
            ("http://host:99999/", nethttp_result::InvalidUrl),
            ("http://host:/", nethttp_result::InvalidUrl),
            ("http://host:8x/", nethttp_result::InvalidUrl),
            ("http://ho st/", nethttp_result::InvalidUrl),
            ("http://host/\r\nX: y", nethttp_result::InvalidUrl),
            ("http://[::1/", nethttp_result::InvalidUrl),
            ("1http://host/", nethttp_result::InvalidUrl),
        ];
        for (url, code) in cases {
            assert_eq!(check_url(url).map_err(|e| e.code), Err(code), "{url:?}");
        }
    }
}
