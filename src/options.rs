//! What a caller may set for one request. `nethttp_request` copies these, so an
//! `Options` may be changed or freed right after the call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{nethttp_result, Error};
use crate::limits;
use crate::stream::{BodyStream, DataSink};
use crate::transport::{self, ClientCert, ConnectTo, Proxy, TlsVersion};

/// The connect timeout used unless the caller sets another: libcurl has none
/// by default, and a request must not wait forever for a dead host.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The CA certificates a request verifies servers with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaSource {
    /// The system's store (libcurl's built-in CA file and directory).
    System,
    /// A PEM file, instead of the system's store.
    File(PathBuf),
    /// PEM certificates in memory, instead of the system's store.
    Pem(Vec<u8>),
}

/// What a header asks libcurl to do with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// Send the header with this value (possibly empty).
    Send(String),
    /// Do not send the header at all, not even libcurl's or nethttp's default.
    Remove,
}

/// A request body: bytes held in memory, or a stream read as it is sent.
#[derive(Clone, Debug)]
pub enum Body {
    /// Shared by every request made with these options (and their copies):
    /// libcurl sends it from here, without a copy of its own.
    Bytes(Arc<[u8]>),
    Stream(BodyStream),
}

/// The HTTP version a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/2 over TLS when the server offers it (ALPN), else HTTP/1.1.
    Default,
    Http11,
    /// HTTP/2 over TLS; on plain http, an upgrade to h2c is offered.
    Http2,
    /// HTTP/2 from the first byte, without asking (plain http).
    Http2PriorKnowledge,
}

/// Retries of idempotent requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The first backoff; each further one doubles.
    pub base: Duration,
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
    body: Option<Option<Body>>,
    data_sink: Option<Option<DataSink>>,
    max_redirects: Option<u32>,
    decompress: Option<bool>,
    http_version: Option<HttpVersion>,
    retry: Option<RetryPolicy>,
    /// (bytes per second, seconds)
    low_speed: Option<Option<(u32, u32)>>,
    method: Option<Option<String>>,
    insecure: Option<bool>,
    timeout: Option<Option<Duration>>,
    connect_timeout: Option<Option<Duration>>,
    /// One field for the CA file and the CA in memory: setting either
    /// replaces the other, and a request's replaces a default's.
    ca: Option<CaSource>,
    max_body: Option<Option<u64>>,
    proxy: Option<Proxy>,
    /// `Some(None)`: the environment's `no_proxy`.
    no_proxy: Option<Option<String>>,
    client_cert: Option<Option<ClientCert>>,
    pinned_public_key: Option<Option<String>>,
    min_tls_version: Option<TlsVersion>,
    /// Merged by host and port, like headers by name; a rule without an
    /// address cancels a default's rule for the same host and port.
    connect_to: Vec<ConnectTo>,
    unix_socket: Option<Option<PathBuf>>,
    /// (user, password)
    basic_auth: Option<Option<(String, String)>>,
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
        self.body = Some(body.map(|b| Body::Bytes(Arc::from(b))));
        self.changed();
    }

    /// A body read as it is sent; replaces a body set with `set_body`.
    pub fn set_body_stream(&mut self, stream: Option<BodyStream>) {
        self.body = Some(stream.map(Body::Stream));
        self.changed();
    }

    /// The body held in memory, if that is the kind of body set.
    pub fn body(&self) -> Option<&[u8]> {
        self.shared_body().map(|bytes| &bytes[..])
    }

    /// The body held in memory, shared.
    pub fn shared_body(&self) -> Option<&Arc<[u8]>> {
        match self.body.as_ref()?.as_ref()? {
            Body::Bytes(bytes) => Some(bytes),
            Body::Stream(_) => None,
        }
    }

    /// The body read as it is sent, if that is the kind of body set.
    pub fn body_stream(&self) -> Option<&BodyStream> {
        match self.body.as_ref()?.as_ref()? {
            Body::Bytes(_) => None,
            Body::Stream(stream) => Some(stream),
        }
    }

    /// True when the request sends a body of either kind.
    pub fn has_body(&self) -> bool {
        matches!(self.body, Some(Some(_)))
    }

    /// Drops the body (a redirect that turns the request into a GET).
    pub fn clear_body(&mut self) {
        self.body = Some(None);
        self.changed();
    }

    /// Streams the response body to `sink` instead of collecting it.
    pub fn set_data_sink(&mut self, sink: Option<DataSink>) {
        self.data_sink = Some(sink);
        self.changed();
    }

    pub fn data_sink(&self) -> Option<&DataSink> {
        self.data_sink.as_ref().and_then(|s| s.as_ref())
    }

    /// Redirects followed at most; 0 = none followed (the default).
    pub fn set_max_redirects(&mut self, max: u32) {
        self.max_redirects = Some(max);
        self.changed();
    }

    pub fn max_redirects(&self) -> u32 {
        self.max_redirects.unwrap_or(0)
    }

    /// Ask for compressed bodies and decode them (the default), or not.
    pub fn set_decompress(&mut self, on: bool) {
        self.decompress = Some(on);
        self.changed();
    }

    pub fn decompress(&self) -> bool {
        self.decompress.unwrap_or(true)
    }

    pub fn set_http_version(&mut self, version: HttpVersion) {
        self.http_version = Some(version);
        self.changed();
    }

    pub fn http_version(&self) -> HttpVersion {
        self.http_version.unwrap_or(HttpVersion::Default)
    }

    /// Retries of idempotent requests; `max_retries` 0 = none (the default).
    pub fn set_retry(&mut self, policy: RetryPolicy) {
        self.retry = Some(policy);
        self.changed();
    }

    pub fn retry(&self) -> Option<RetryPolicy> {
        self.retry.filter(|r| r.max_retries > 0)
    }

    /// Fail with a timeout when fewer than `bytes_per_second` arrive for
    /// `seconds` in a row; `None` = no such limit.
    pub fn set_low_speed(&mut self, limit: Option<(u32, u32)>) {
        self.low_speed = Some(limit);
        self.changed();
    }

    pub fn low_speed(&self) -> Option<(u32, u32)> {
        self.low_speed.flatten()
    }

    /// Drops a header the caller set (redirects to another origin).
    pub fn remove_header(&mut self, name: &str) -> bool {
        let before = self.headers.len();
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        let removed = self.headers.len() != before;
        if removed {
            self.changed();
        }
        removed
    }

    /// Drops the Basic credentials (redirects to another origin).
    pub fn clear_basic_auth(&mut self) {
        if self.basic_auth().is_some() {
            self.basic_auth = Some(None);
            self.changed();
        }
    }

    /// Sets the method (a redirect that turns a POST into a GET).
    pub fn force_method(&mut self, method: &str) {
        self.method = Some(Some(method.to_string()));
        self.changed();
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

    /// A PEM file of CA certificates to trust instead of the system store;
    /// `None` goes back to the system store. Replaces a CA set in memory.
    pub fn set_ca_file(&mut self, path: Option<PathBuf>) {
        self.ca = Some(path.map_or(CaSource::System, CaSource::File));
        self.changed();
    }

    pub fn ca_file(&self) -> Option<&std::path::Path> {
        match &self.ca {
            Some(CaSource::File(path)) => Some(path),
            _ => None,
        }
    }

    /// PEM CA certificates in memory, trusted instead of the system store;
    /// `None` goes back to the system store. Replaces a CA file.
    pub fn set_ca_pem(&mut self, pem: Option<&[u8]>) -> Result<(), Error> {
        self.ca = Some(match pem {
            None => CaSource::System,
            Some(pem) => {
                transport::check_ca_pem(pem)?;
                CaSource::Pem(pem.to_vec())
            }
        });
        self.changed();
        Ok(())
    }

    pub fn ca(&self) -> &CaSource {
        self.ca.as_ref().unwrap_or(&CaSource::System)
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

    /// `None`: the environment's proxy; `Some("")`: no proxy at all;
    /// otherwise a proxy URL (see `transport::check_proxy_url`).
    pub fn set_proxy(&mut self, proxy: Option<&str>) -> Result<(), Error> {
        let proxy = match proxy {
            None => Proxy::Environment,
            Some("") => Proxy::Direct,
            Some(url) => {
                transport::check_proxy_url(url)?;
                Proxy::Url(url.to_string())
            }
        };
        self.proxy = Some(proxy);
        self.changed();
        Ok(())
    }

    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().unwrap_or(&Proxy::Environment)
    }

    /// Hosts reached without the proxy; `None`: the environment's `no_proxy`.
    pub fn set_no_proxy(&mut self, hosts: Option<&str>) -> Result<(), Error> {
        if let Some(hosts) = hosts {
            transport::check_no_proxy(hosts)?;
        }
        self.no_proxy = Some(hosts.map(str::to_string));
        self.changed();
        Ok(())
    }

    pub fn no_proxy(&self) -> Option<&str> {
        self.no_proxy.as_ref().and_then(|h| h.as_deref())
    }

    /// A client certificate (and key) for servers that ask for one; `None`
    /// sends none.
    pub fn set_client_cert(&mut self, cert: Option<ClientCert>) {
        self.client_cert = Some(cert);
        self.changed();
    }

    pub fn client_cert(&self) -> Option<&ClientCert> {
        self.client_cert.as_ref().and_then(|c| c.as_ref())
    }

    /// `sha256//` pins the server's public key must match one of; `None`
    /// pins nothing.
    pub fn set_pinned_public_key(&mut self, pins: Option<&str>) -> Result<(), Error> {
        if let Some(pins) = pins {
            transport::check_pins(pins)?;
        }
        self.pinned_public_key = Some(pins.map(str::to_string));
        self.changed();
        Ok(())
    }

    pub fn pinned_public_key(&self) -> Option<&str> {
        self.pinned_public_key.as_ref().and_then(|p| p.as_deref())
    }

    pub fn set_min_tls_version(&mut self, version: TlsVersion) {
        self.min_tls_version = Some(version);
        self.changed();
    }

    pub fn min_tls_version(&self) -> Option<TlsVersion> {
        self.min_tls_version
    }

    /// Adds a rule, replacing one for the same host and port.
    pub fn set_connect_to(&mut self, rule: ConnectTo) {
        merge_connect_to(&mut self.connect_to, rule);
        self.changed();
    }

    /// The rules, cancelling ones (without an address) included.
    pub fn connect_to(&self) -> &[ConnectTo] {
        &self.connect_to
    }

    /// HTTP over this Unix socket; `None` uses TCP.
    pub fn set_unix_socket(&mut self, path: Option<&str>) -> Result<(), Error> {
        if let Some(path) = path {
            transport::check_unix_socket_path(path)?;
        }
        self.unix_socket = Some(path.map(PathBuf::from));
        self.changed();
        Ok(())
    }

    pub fn unix_socket(&self) -> Option<&std::path::Path> {
        self.unix_socket.as_ref().and_then(|p| p.as_deref())
    }

    /// Basic authentication; `None` sends only what the URL holds.
    pub fn set_basic_auth(&mut self, credentials: Option<(&str, &str)>) -> Result<(), Error> {
        if let Some((user, _)) = credentials {
            transport::check_basic_auth(user)?;
        }
        self.basic_auth = Some(credentials.map(|(u, p)| (u.to_string(), p.to_string())));
        self.changed();
        Ok(())
    }

    /// (user, password)
    pub fn basic_auth(&self) -> Option<(&str, &str)> {
        self.basic_auth
            .as_ref()
            .and_then(|c| c.as_ref())
            .map(|(u, p)| (u.as_str(), p.as_str()))
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
        let mut connect_to = defaults.connect_to.clone();
        for rule in &self.connect_to {
            merge_connect_to(&mut connect_to, rule.clone());
        }
        Options {
            headers,
            body: self.body.clone().or_else(|| defaults.body.clone()),
            data_sink: self
                .data_sink
                .clone()
                .or_else(|| defaults.data_sink.clone()),
            max_redirects: self.max_redirects.or(defaults.max_redirects),
            decompress: self.decompress.or(defaults.decompress),
            http_version: self.http_version.or(defaults.http_version),
            retry: self.retry.or(defaults.retry),
            low_speed: self.low_speed.or(defaults.low_speed),
            method: self.method.clone().or_else(|| defaults.method.clone()),
            insecure: self.insecure.or(defaults.insecure),
            timeout: self.timeout.or(defaults.timeout),
            connect_timeout: self.connect_timeout.or(defaults.connect_timeout),
            ca: self.ca.clone().or_else(|| defaults.ca.clone()),
            max_body: self.max_body.or(defaults.max_body),
            proxy: self.proxy.clone().or_else(|| defaults.proxy.clone()),
            no_proxy: self.no_proxy.clone().or_else(|| defaults.no_proxy.clone()),
            client_cert: self
                .client_cert
                .clone()
                .or_else(|| defaults.client_cert.clone()),
            pinned_public_key: self
                .pinned_public_key
                .clone()
                .or_else(|| defaults.pinned_public_key.clone()),
            min_tls_version: self.min_tls_version.or(defaults.min_tls_version),
            connect_to,
            unix_socket: self
                .unix_socket
                .clone()
                .or_else(|| defaults.unix_socket.clone()),
            basic_auth: self
                .basic_auth
                .clone()
                .or_else(|| defaults.basic_auth.clone()),
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

/// Puts `rule` into `rules`, replacing a rule for the same host and port.
fn merge_connect_to(rules: &mut Vec<ConnectTo>, rule: ConnectTo) {
    match rules.iter_mut().find(|r| r.same_target(&rule)) {
        Some(slot) => *slot = rule,
        None => rules.push(rule),
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

    #[test]
    fn transport_options_merge_field_by_field() {
        let mut defaults = Options::new();
        defaults.set_proxy(Some("http://127.0.0.1:3128")).unwrap();
        defaults.set_basic_auth(Some(("d", "dpw"))).unwrap();
        defaults.set_ca_file(Some(PathBuf::from("/d/ca.pem")));
        defaults.set_min_tls_version(TlsVersion::Tls13);
        defaults.set_connect_to(ConnectTo::new("a.test", 443, Some("127.0.0.1")).unwrap());
        defaults.set_connect_to(ConnectTo::new("b.test", 443, Some("127.0.0.2")).unwrap());
        defaults.set_unix_socket(Some("/d/sock")).unwrap();

        let mut request = Options::new();
        request.set_proxy(Some("")).unwrap();
        request
            .set_ca_pem(Some(b"-----BEGIN CERTIFICATE-----"))
            .unwrap();
        request.set_connect_to(ConnectTo::new("A.TEST", 443, None).unwrap());
        request.set_connect_to(ConnectTo::new("c.test", 80, Some("::1")).unwrap());
        request.set_unix_socket(None).unwrap();
        let merged = request.merged_over(&defaults);
        assert_eq!(
            merged.proxy(),
            &Proxy::Direct,
            "\"\" wins over a default proxy"
        );
        assert_eq!(merged.basic_auth(), Some(("d", "dpw")));
        assert_eq!(
            merged.ca(),
            &CaSource::Pem(b"-----BEGIN CERTIFICATE-----".to_vec()),
            "a CA in memory replaces a default CA file"
        );
        assert_eq!(merged.ca_file(), None);
        assert_eq!(merged.min_tls_version(), Some(TlsVersion::Tls13));
        assert_eq!(merged.unix_socket(), None, "an explicit TCP wins");
        let entries: Vec<_> = merged
            .connect_to()
            .iter()
            .filter_map(ConnectTo::curl_entry)
            .collect();
        assert_eq!(entries, ["b.test:443:127.0.0.2:443", "c.test:80:[::1]:80"]);

        let untouched = Options::new().merged_over(&defaults);
        assert_eq!(
            untouched.proxy(),
            &Proxy::Url("http://127.0.0.1:3128".into())
        );
        assert_eq!(untouched.ca_file(), Some(std::path::Path::new("/d/ca.pem")));
        assert_eq!(Options::new().proxy(), &Proxy::Environment);
        assert_eq!(Options::new().ca(), &CaSource::System);
    }

    #[test]
    fn every_transport_setter_changes_the_version() {
        let mut options = Options::new();
        let mut last = options.version();
        let mut step = |options: &mut Options, what: &str| {
            assert_ne!(options.version(), last, "{what} did not change the version");
            last = options.version();
        };
        options.set_proxy(Some("socks5h://127.0.0.1:1080")).unwrap();
        step(&mut options, "proxy");
        options.set_no_proxy(Some("localhost")).unwrap();
        step(&mut options, "no_proxy");
        options.set_client_cert(Some(ClientCert {
            cert: PathBuf::from("c.pem"),
            key: None,
        }));
        step(&mut options, "client cert");
        options
            .set_ca_pem(Some(b"-----BEGIN CERTIFICATE-----"))
            .unwrap();
        step(&mut options, "CA in memory");
        options
            .set_pinned_public_key(Some("sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
            .unwrap();
        step(&mut options, "pins");
        options.set_min_tls_version(TlsVersion::Tls12);
        step(&mut options, "min TLS version");
        options.set_connect_to(ConnectTo::new("h", 1, Some("127.0.0.1")).unwrap());
        step(&mut options, "connect to");
        options.set_unix_socket(Some("/s")).unwrap();
        step(&mut options, "unix socket");
        options.set_basic_auth(Some(("u", "p"))).unwrap();
        step(&mut options, "basic auth");
        let before = options.version();
        assert!(options.set_proxy(Some("ftp://h")).is_err());
        assert!(options.set_basic_auth(Some(("a:b", "p"))).is_err());
        assert!(options.set_ca_pem(Some(b"not pem")).is_err());
        assert_eq!(options.version(), before, "refused values change nothing");
        assert_eq!(options.basic_auth(), Some(("u", "p")));
    }
}
