//! What a caller may set for one request. `nethttp_request` copies these, so an
//! `Options` may be changed or freed right after the call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{nethttp_result, Error};
use crate::limits;

/// The connect timeout used unless the caller sets another: libcurl has none
/// by default, and a request must not wait forever for a dead host.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What a header asks libcurl to do with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// Send the header with this value (possibly empty).
    Send(String),
    /// Do not send the header at all, not even libcurl's or nethttp's default.
    Remove,
}

/// `tchar` of RFC 9110 section 5.6.2.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// True for a non-empty HTTP token, which header names and methods must be.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token_byte(b))
}

/// Every field is "unset or value" (`None` = unset), so that a client's
/// defaults merge under a request's own options field by field
/// (`Options::merged_over`). A value may itself say "none" (no body, no
/// timeout, the default method), which still overrides a default.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// In the order first set; names compare case-insensitively, and the case
    /// of the latest call is the one sent.
    headers: Vec<(String, HeaderValue)>,
    body: Option<Option<Vec<u8>>>,
    method: Option<Option<String>>,
    insecure: Option<bool>,
    timeout: Option<Option<Duration>>,
    connect_timeout: Option<Option<Duration>>,
    ca_file: Option<Option<PathBuf>>,
    max_body: Option<Option<u64>>,
    /// Names this exact set of values: 0 for untouched options, and a
    /// process-wide unique number after every change. Two options with the
    /// same version hold the same values (a clone keeps it), so a libcurl
    /// handle configured for one is configured for the other.
    version: u64,
}

/// Longest timeout passed to libcurl (about 100 years): libcurl keeps
/// timeouts as signed milliseconds and refuses values that overflow them.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// Largest body limit passed to libcurl (`curl_off_t` is signed).
pub const MAX_BODY_LIMIT: u64 = i64::MAX as u64;

static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

impl Options {
    pub fn new() -> Options {
        Options::default()
    }

    /// See the `version` field.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn changed(&mut self) {
        self.version = NEXT_VERSION.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets (or, with `HeaderValue::Remove`, suppresses) a header, replacing
    /// an earlier one of the same name in any case.
    pub fn set_header(&mut self, name: &[u8], value: Option<&[u8]>) -> Result<(), Error> {
        if !is_token(name) {
            return Err(Error::new(
                nethttp_result::InvalidHeaderName,
                format!(
                    "header name {:?} is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~ only)",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        limits::check_field(
            "the header name",
            name.len(),
            nethttp_result::InvalidHeaderName,
        )?;
        let name = String::from_utf8(name.to_vec()).expect("tokens are ASCII");
        let value = match value {
            None => HeaderValue::Remove,
            Some(value) => {
                limits::check_field(
                    "the header line",
                    name.len() + 2 + value.len(),
                    nethttp_result::InvalidHeaderValue,
                )?;
                if let Some(bad) = value.iter().find(|b| matches!(b, b'\r' | b'\n' | 0)) {
                    return Err(Error::new(
                        nethttp_result::InvalidHeaderValue,
                        format!("value of header {name:?} contains the byte {bad:#04x} (CR, LF and NUL are not allowed)"),
                    ));
                }
                match String::from_utf8(value.to_vec()) {
                    Ok(text) => HeaderValue::Send(text),
                    Err(_) => {
                        return Err(Error::new(
                            nethttp_result::InvalidHeaderValue,
                            format!("value of header {name:?} is not valid UTF-8"),
                        ))
                    }
                }
            }
        };
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => *slot = (name, value),
            None => self.headers.push((name, value)),
        }
        self.changed();
        Ok(())
    }

    pub fn headers(&self) -> &[(String, HeaderValue)] {
        &self.headers
    }

    /// The header of that name, in any case, if one was set.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A body makes the request a POST unless a method is set.
    pub fn set_body(&mut self, body: Option<&[u8]>) {
        self.body = Some(body.map(<[u8]>::to_vec));
        self.changed();
    }

    pub fn body(&self) -> Option<&[u8]> {
        self.body.as_ref().and_then(|b| b.as_deref())
    }

    /// Forces the method; `None` goes back to GET, or POST with a body.
    pub fn set_method(&mut self, method: Option<&[u8]>) -> Result<(), Error> {
        if let Some(m) = method {
            limits::check_field("the method", m.len(), nethttp_result::InvalidMethod)?;
        }
        self.method = Some(match method {
            None => None,
            Some(m) if is_token(m) => {
                Some(String::from_utf8(m.to_vec()).expect("tokens are ASCII"))
            }
            Some(m) => {
                return Err(Error::new(
                    nethttp_result::InvalidMethod,
                    format!(
                        "method {:?} is not an HTTP token",
                        String::from_utf8_lossy(m)
                    ),
                ))
            }
        });
        self.changed();
        Ok(())
    }

    pub fn method(&self) -> Option<&str> {
        self.method.as_ref().and_then(|m| m.as_deref())
    }

    pub fn set_insecure(&mut self, insecure: bool) {
        self.insecure = Some(insecure);
        self.changed();
    }

    pub fn insecure(&self) -> bool {
        self.insecure.unwrap_or(false)
    }

    /// Limit for the whole request; `None` waits as long as it takes, and
    /// so does a limit above `MAX_TIMEOUT`.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = Some(timeout.filter(|t| *t <= MAX_TIMEOUT));
        self.changed();
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.flatten()
    }

    /// `None` restores the default; limits above `MAX_TIMEOUT` become it.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) {
        self.connect_timeout = Some(timeout.map(|t| t.min(MAX_TIMEOUT)));
        self.changed();
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
            .flatten()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// A PEM file of CA certificates to trust instead of the system store.
    pub fn set_ca_file(&mut self, path: Option<PathBuf>) {
        self.ca_file = Some(path);
        self.changed();
    }

    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.ca_file.as_ref().and_then(|p| p.as_deref())
    }

    /// The largest response body accepted; `None` accepts any size, and so
    /// does a limit above `MAX_BODY_LIMIT`.
    pub fn set_max_body(&mut self, max_body: Option<u64>) {
        self.max_body = Some(max_body.filter(|m| *m <= MAX_BODY_LIMIT));
        self.changed();
    }

    pub fn max_body(&self) -> Option<u64> {
        self.max_body.flatten()
    }

    /// These options over `defaults`: every field set here wins, the others
    /// come from `defaults`; headers merge by name (case-insensitively), a
    /// header set here replacing the default of the same name. The result
    /// keeps this version: with fixed defaults it names the merged values.
    pub fn merged_over(&self, defaults: &Options) -> Options {
        let mut headers = defaults.headers.clone();
        for (name, value) in &self.headers {
            match headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some(slot) => *slot = (name.clone(), value.clone()),
                None => headers.push((name.clone(), value.clone())),
            }
        }
        Options {
            headers,
            body: self.body.clone().or_else(|| defaults.body.clone()),
            method: self.method.clone().or_else(|| defaults.method.clone()),
            insecure: self.insecure.or(defaults.insecure),
            timeout: self.timeout.or(defaults.timeout),
            connect_timeout: self.connect_timeout.or(defaults.connect_timeout),
            ca_file: self.ca_file.clone().or_else(|| defaults.ca_file.clone()),
            max_body: self.max_body.or(defaults.max_body),
            version: self.version,
        }
    }

    /// The bytes of the header lines set here (`Name: value\r\n` each), for
    /// `limits::check_request_head`.
    pub fn header_lines_len(&self) -> usize {
        self.headers
            .iter()
            .map(|(name, value)| match value {
                HeaderValue::Send(value) => name.len() + value.len() + 4,
                HeaderValue::Remove => 0,
            })
            .fold(0, usize::saturating_add)
    }

    /// True when nothing was ever set (merging over defaults is a no-op).
    pub fn is_untouched(&self) -> bool {
        self.version == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_must_be_tokens() {
        let mut options = Options::new();
        for bad in [&b""[..], b"X Y", b"X:Y", b"X\r\nY", b"X\0", b"\xff"] {
            let err = options.set_header(bad, Some(b"v")).unwrap_err();
            assert_eq!(err.code, nethttp_result::InvalidHeaderName, "{bad:?}");
        }
        assert!(options.headers().is_empty());
    }

    #[test]
    fn header_values_reject_cr_lf_nul() {
        let mut options = Options::new();
        for bad in [&b"a\rb"[..], b"a\nb", b"a\0b", b"\xff"] {
            let err = options.set_header(b"X-Test", Some(bad)).unwrap_err();
            assert_eq!(err.code, nethttp_result::InvalidHeaderValue, "{bad:?}");
        }
        assert!(options.headers().is_empty());
    }

    #[test]
    fn same_name_replaces_and_takes_the_new_case() {
        let mut options = Options::new();
        options.set_header(b"x-token", Some(b"1")).unwrap();
        options.set_header(b"Accept", Some(b"*/*")).unwrap();
        options.set_header(b"X-Token", Some(b"2")).unwrap();
        options.set_header(b"accept", None).unwrap();
        assert_eq!(
            options.headers(),
            &[
                ("X-Token".to_string(), HeaderValue::Send("2".into())),
                ("accept".to_string(), HeaderValue::Remove)
            ]
        );
    }

    #[test]
    fn every_change_gives_a_new_version_and_clones_keep_it() {
        let mut options = Options::new();
        assert_eq!(options.version(), 0);
        let mut seen = vec![0];
        options.set_insecure(true);
        seen.push(options.version());
        options.set_max_body(Some(1));
        seen.push(options.version());
        options.set_header(b"X", None).unwrap();
        seen.push(options.version());
        options.set_body(Some(b"x"));
        seen.push(options.version());
        options.set_method(Some(b"PUT")).unwrap();
        seen.push(options.version());
        let before_error = options.version();
        assert!(options.set_method(Some(b"B AD")).is_err());
        assert_eq!(
            options.version(),
            before_error,
            "a refused change changes nothing"
        );
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!(unique, seen);
        assert_eq!(options.clone().version(), options.version());
    }

    #[test]
    fn request_options_win_field_by_field_over_defaults() {
        let mut defaults = Options::new();
        defaults.set_header(b"X-Client", Some(b"a")).unwrap();
        defaults.set_header(b"x-both", Some(b"default")).unwrap();
        defaults.set_timeout(Some(Duration::from_secs(5)));
        defaults.set_insecure(true);
        let mut request = Options::new();
        request.set_header(b"X-Both", Some(b"request")).unwrap();
        request.set_timeout(None);
        let merged = request.merged_over(&defaults);
        assert_eq!(
            merged.headers(),
            &[
                ("X-Client".to_string(), HeaderValue::Send("a".into())),
                ("X-Both".to_string(), HeaderValue::Send("request".into())),
            ]
        );
        assert_eq!(merged.timeout(), None, "an explicit 'no limit' wins");
        assert!(merged.insecure(), "unset fields come from the defaults");
        assert_eq!(merged.version(), request.version());
        assert_eq!(
            Options::new().merged_over(&defaults).timeout(),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn limits_beyond_what_libcurl_takes_mean_no_limit() {
        let mut options = Options::new();
        options.set_timeout(Some(Duration::from_millis(u64::MAX)));
        assert_eq!(options.timeout(), None);
        options.set_connect_timeout(Some(Duration::from_millis(u64::MAX)));
        assert_eq!(options.connect_timeout(), MAX_TIMEOUT);
        options.set_max_body(Some(u64::MAX));
        assert_eq!(options.max_body(), None);
        options.set_max_body(Some(1 << 62));
        assert_eq!(options.max_body(), Some(1 << 62));
    }

    #[test]
    fn methods_must_be_tokens() {
        let mut options = Options::new();
        assert!(options.set_method(Some(b"BREW")).is_ok());
        for bad in [&b""[..], b"GET /x", b"GET\r\n", b"P\0ST"] {
            assert_eq!(
                options.set_method(Some(bad)).unwrap_err().code,
                nethttp_result::InvalidMethod
            );
        }
        assert_eq!(options.method(), Some("BREW"));
    }
}
