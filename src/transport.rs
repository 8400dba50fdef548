//! How a request reaches its server: proxies, name pinning (libcurl's
//! CONNECT_TO), Unix sockets, TLS settings and client certificates. Checks
//! the values the options setters take, decides which client-certificate
//! connections may be shared, and says what the linked libcurl can do.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::error::{nethttp_result, Error};
use crate::redact::redact_url_str;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(nethttp_result::InvalidArgument, message)
}

/// Where a request's proxy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proxy {
    /// libcurl reads `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`.
    Environment,
    /// No proxy, whatever the environment says (libcurl's `CURLOPT_PROXY ""`).
    Direct,
    /// This proxy URL, checked by `check_proxy_url`.
    Url(String),
}

/// The proxy schemes libcurl knows; without a scheme a proxy is `http`.
const PROXY_SCHEMES: [&str; 6] = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"];

/// Accepts `[scheme://][user[:password]@]host[:port][/]` with a scheme from
/// `PROXY_SCHEMES`. Messages show the URL with its password redacted.
pub fn check_proxy_url(proxy: &str) -> Result<(), Error> {
    let shown = || redact_url_str(proxy).into_owned();
    if let Some(bad) = proxy.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!(
            "proxy URL {:?} contains the character {bad:?}, which must be percent-encoded",
            shown()
        )));
    }
    let rest = match proxy.split_once("://") {
        Some((scheme, rest)) => {
            if !PROXY_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
                return Err(invalid(format!(
                    "proxy URL {:?}: the scheme must be one of {} (or none, meaning http)",
                    shown(),
                    PROXY_SCHEMES.join(", ")
                )));
            }
            rest
        }
        None => proxy,
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(invalid(format!(
            "proxy URL {:?} has a path, a query or a fragment: a proxy is only a host and a port",
            shown()
        )));
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = split_host_port(host_port)
        .ok_or_else(|| invalid(format!("proxy URL {:?} has an invalid host", shown())))?;
    if host.is_empty() {
        return Err(invalid(format!("proxy URL {:?} has no host", shown())));
    }
    if let Some(port) = port {
        if parse_port(port).is_none() {
            return Err(invalid(format!(
                "proxy URL {:?}: the port must be a number from 1 to 65535",
                shown()
            )));
        }
    }
    Ok(())
}

/// `host[:port]` or `[v6][:port]` as (host, port text); None for a bracket
/// that does not close or characters after it.
fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if let Some(bracketed) = text.strip_prefix('[') {
        let (literal, after) = bracketed.split_once(']')?;
        if literal.parse::<std::net::Ipv6Addr>().is_err() {
            return None;
        }
        match after {
            "" => Some((literal, None)),
            _ => after.strip_prefix(':').map(|port| (literal, Some(port))),
        }
    } else {
        Some(match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        })
    }
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p > 0)
}

/// A `no_proxy`-style list: host names, domains, addresses, CIDR ranges or
/// `*`, separated by commas (libcurl also allows spaces).
pub fn check_no_proxy(hosts: &str) -> Result<(), Error> {
    match hosts.chars().find(|c| c.is_control()) {
        Some(bad) => Err(invalid(format!(
            "no_proxy list contains the control character {bad:?}"
        ))),
        None => Ok(()),
    }
}

/// The TLS versions a request may insist on as a minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// 12 and 13, the values of `enum nethttp_tls_version`.
    pub fn from_number(number: i32) -> Result<TlsVersion, Error> {
        match number {
            12 => Ok(TlsVersion::Tls12),
            13 => Ok(TlsVersion::Tls13),
            other => Err(invalid(format!(
                "{other} is not a TLS version nethttp knows: use NETHTTP_TLS_1_2 (12) or NETHTTP_TLS_1_3 (13)"
            ))),
        }
    }
}

/// A client certificate and its private key, both PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCert {
    pub cert: PathBuf,
    /// `None`: the key is in the certificate's file.
    pub key: Option<PathBuf>,
}

impl ClientCert {
    fn key_file(&self) -> &Path {
        self.key.as_deref().unwrap_or(&self.cert)
    }
}

/// The first key file used with each certificate file in this process, by
/// the certificate's path in lower case (libcurl before 7.78 compared paths
/// ignoring case). See `may_share_connections`.
static KEY_OF_CERT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();

/// Whether a request with this certificate may reuse pooled connections and
/// cached TLS sessions. libcurl before 8.21 matches a pooled connection, and
/// a cached TLS session, by the certificate's file name only, not by the
/// key's: a request naming the same certificate with another key file would
/// ride on a connection (or resume a session) that the first key
/// authenticated. So the first key file seen with a certificate file keeps
/// sharing; a request pairing that certificate with any other key file
/// gets a connection of its own, closed after it, and no session cache.
/// Connections without a client certificate never match one with it.
pub fn may_share_connections(cert: &ClientCert) -> bool {
    let registry = KEY_OF_CERT.get_or_init(Default::default);
    let mut registry = registry.lock().unwrap_or_else(|e| e.into_inner());
    let key = cert.key_file();
    let first = registry
        .entry(cert.cert.to_string_lossy().to_lowercase())
        .or_insert_with(|| key.to_path_buf());
    first.as_path() == key
}

/// A pinned-key list: `sha256//<base64>` entries separated by `;`, each the
/// base64 of a 32-byte SHA-256 digest (44 characters, one `=`).
pub fn check_pins(pins: &str) -> Result<(), Error> {
    if pins.is_empty() {
        return Err(invalid(
            "the pinned public key list is empty (pass NULL to pin nothing)",
        ));
    }
    for pin in pins.split(';') {
        let digest = pin.strip_prefix("sha256//").ok_or_else(|| {
            invalid(format!(
                "pinned public key {pin:?} does not start with \"sha256//\""
            ))
        })?;
        let body_ok = digest.len() == 44
            && digest.ends_with('=')
            && digest[..43]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        if !body_ok {
            return Err(invalid(format!(
                "pinned public key {pin:?} is not \"sha256//\" followed by the base64 of a SHA-256 digest (44 characters)"
            )));
        }
    }
    Ok(())
}

/// One "connect to this address instead" rule (libcurl's CONNECT_TO).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectTo {
    /// As given, without brackets; matched ignoring ASCII case.
    pub host: String,
    pub port: u16,
    /// `None` cancels a rule for the same host and port (from defaults).
    pub address: Option<IpAddr>,
}

impl ConnectTo {
    /// Checks the three parts of `nethttp_options_set_resolve()`.
    pub fn new(host: &str, port: u32, address: Option<&str>) -> Result<ConnectTo, Error> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host_ok = !bare.is_empty()
            && !bare
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "/?#@[]".contains(c))
            && (!bare.contains(':') || bare.parse::<std::net::Ipv6Addr>().is_ok());
        if !host_ok {
            return Err(invalid(format!(
                "{host:?} is not a host name or address as a URL gives it"
            )));
        }
        let port = u16::try_from(port)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid(format!("port {port} is not from 1 to 65535")))?;
        let address = match address {
            None => None,
            Some(text) => {
                let bare = text
                    .strip_prefix('[')
                    .and_then(|a| a.strip_suffix(']'))
                    .unwrap_or(text);
                Some(bare.parse::<IpAddr>().map_err(|_| {
                    invalid(format!(
                        "{text:?} is not an IPv4 or IPv6 address (a host name is not allowed here)"
                    ))
                })?)
            }
        };
        Ok(ConnectTo {
            host: bare.to_string(),
            port,
            address,
        })
    }

    /// True when both rules are for the same host and port.
    pub fn same_target(&self, other: &ConnectTo) -> bool {
        self.port == other.port && self.host.eq_ignore_ascii_case(&other.host)
    }

    /// libcurl's `HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT`; None for a
    /// cancelling rule.
    pub fn curl_entry(&self) -> Option<String> {
        let address = self.address?;
        let bracket = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_string()
            }
        };
        Some(format!(
            "{}:{}:{}:{}",
            bracket(&self.host),
            self.port,
            bracket(&address.to_string()),
            self.port
        ))
    }
}

/// The longest path a Unix socket address holds (`sun_path` less its NUL).
pub const MAX_UNIX_SOCKET_PATH: usize = 107;

pub fn check_unix_socket_path(path: &str) -> Result<(), Error> {
    if path.is_empty() {
        return Err(invalid(
            "the Unix socket path is empty (pass NULL to use TCP)",
        ));
    }
    if path.len() > MAX_UNIX_SOCKET_PATH {
        return Err(invalid(format!(
            "the Unix socket path is {} bytes long; a socket address holds at most {MAX_UNIX_SOCKET_PATH}",
            path.len()
        )));
    }
    Ok(())
}

/// Basic authentication: the user name may not contain ':' (RFC 7617).
/// Messages never quote the password.
pub fn check_basic_auth(user: &str) -> Result<(), Error> {
    if user.contains(':') {
        return Err(invalid(
            "a Basic authentication user name may not contain ':' (RFC 7617)",
        ));
    }
    Ok(())
}

/// A CA bundle in memory must hold at least one PEM certificate.
pub fn check_ca_pem(pem: &[u8]) -> Result<(), Error> {
    let marker = b"-----BEGIN CERTIFICATE-----";
    if !pem.windows(marker.len()).any(|w| w == marker) {
        return Err(invalid(
            "the CA data holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line)",
        ));
    }
    Ok(())
}

/// The capabilities of the linked libcurl and TLS library, as the words
/// of `nethttp_features()`, in this order.
pub fn features() -> &'static CString {
    static FEATURES: OnceLock<CString> = OnceLock::new();
    FEATURES.get_or_init(|| {
        curl::init();
        let version = curl::Version::get();
        let openssl = version.ssl_version().is_some_and(is_openssl_family);
        let words = feature_words(&FeatureBits {
            http2: version.feature_http2(),
            http3: version.feature_http3(),
            libz: version.feature_libz(),
            brotli: version.feature_brotli(),
            zstd: version.feature_zstd(),
            unix_sockets: version.feature_unix_domain_socket(),
            openssl,
        });
        CString::new(words).expect("feature words have no NUL")
    })
}

/// The content encodings the linked libcurl decodes, in its own order and
/// form ("deflate, gzip, br, zstd"), for `CURLOPT_ACCEPT_ENCODING`.
pub fn content_encodings() -> &'static str {
    static ENCODINGS: OnceLock<String> = OnceLock::new();
    ENCODINGS.get_or_init(|| {
        let words: Vec<&[u8]> = features().to_bytes().split(|&b| b == b' ').collect();
        ["deflate", "gzip", "br", "zstd"]
            .into_iter()
            .filter(|e| words.contains(&e.as_bytes()))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// `content_encodings()` as a C string, for CURLOPT_ACCEPT_ENCODING.
pub(crate) fn content_encodings_c() -> &'static CStr {
    static ENCODINGS: OnceLock<CString> = OnceLock::new();
    // The names come from libcurl's feature words: no NUL byte.
    ENCODINGS.get_or_init(|| CString::new(content_encodings()).unwrap_or_default())
}

/// The `Accept-Encoding` request header line nethttp sends when it decodes.
pub fn accept_encoding_line() -> &'static str {
    static LINE: OnceLock<String> = OnceLock::new();
    LINE.get_or_init(|| format!("Accept-Encoding: {}", content_encodings()))
}

/// True when the linked libcurl speaks HTTP/2.
pub fn has_http2() -> bool {
    static HTTP2: OnceLock<bool> = OnceLock::new();
    *HTTP2.get_or_init(|| {
        features()
            .to_bytes()
            .split(|&b| b == b' ')
            .any(|word| word == b"http2")
    })
}

/// What `curl_version_info` says, reduced to what `features` reports.
#[derive(Default)]
struct FeatureBits {
    http2: bool,
    http3: bool,
    libz: bool,
    brotli: bool,
    zstd: bool,
    unix_sockets: bool,
    openssl: bool,
}

fn feature_words(bits: &FeatureBits) -> String {
    let words = [
        (bits.http2, "http2"),
        (bits.http3, "http3"),
        (bits.libz, "gzip"),
        (bits.libz, "deflate"),
        (bits.brotli, "br"),
        (bits.zstd, "zstd"),
        // libcurl built with HTTP always has its SOCKS client.
        (true, "socks"),
        (bits.unix_sockets, "unix-sockets"),
        (bits.openssl, "mtls"),
        (bits.openssl, "pinning"),
    ];
    words
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, word)| *word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// OpenSSL and its forks, whose libcurl backend does client certificates
/// from PEM files and public-key pinning.
fn is_openssl_family(ssl_version: &str) -> bool {
    ["OpenSSL/", "LibreSSL/", "BoringSSL", "quictls/", "AWS-LC/"]
        .iter()
        .any(|name| ssl_version.starts_with(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        for good in [
            "http://127.0.0.1:3128",
            "HTTP://proxy.example",
            "https://user:pass@proxy.example:443/",
            "socks5h://[::1]:1080",
            "proxy.example:8080",
            "socks4a://p",
        ] {
            assert_eq!(check_proxy_url(good), Ok(()), "{good}");
        }
        for bad in [
            "ftp://p:21",
            "http://",
            "http://p:0",
            "http://p:99999",
            "http://p:x",
            "http://p/path",
            "http://p ",
            "http://[::1",
            "http://user:secret@:1",
        ] {
            let error = check_proxy_url(bad).unwrap_err();
            assert_eq!(error.code, nethttp_result::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn proxy_errors_never_show_the_password() {
        for bad in [
            "ftp://puser:psecret@127.0.0.1:1",
            "http://puser:psecret@127.0.0.1:99999",
            "http://puser:psecret@127.0.0.1:1/path",
            "puser:psecret@:1",
            "bogus://puser:psecret@h",
        ] {
            let error = check_proxy_url(bad).unwrap_err();
            assert!(!error.message.contains("psecret"), "{}", error.message);
            assert!(error.message.contains("puser:***@"), "{}", error.message);
        }
        let spaced = check_proxy_url("http://puser:ps ecret@h").unwrap_err();
        assert!(!spaced.message.contains("ecret"), "{}", spaced.message);
    }

    #[test]
    fn pins() {
        let pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(check_pins(pin), Ok(()));
        assert_eq!(check_pins(&format!("{pin};{pin}")), Ok(()));
        for bad in [
            "",
            "sha256//",
            "sha1//AAAA",
            "/etc/key.pem",
            "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        ] {
            assert!(check_pins(bad).is_err(), "{bad}");
        }
        assert!(check_pins(&format!("{pin}; {pin}")).is_err());
    }

    #[test]
    fn connect_to_rules() {
        let rule = ConnectTo::new("Example.test", 443, Some("127.0.0.1")).unwrap();
        assert_eq!(
            rule.curl_entry().as_deref(),
            Some("Example.test:443:127.0.0.1:443")
        );
        let v6 = ConnectTo::new("[::1]", 80, Some("[::1]")).unwrap();
        assert_eq!(v6.curl_entry().as_deref(), Some("[::1]:80:[::1]:80"));
        assert!(rule.same_target(&ConnectTo::new("example.TEST", 443, None).unwrap()));
        assert!(!rule.same_target(&ConnectTo::new("example.test", 80, None).unwrap()));
        assert_eq!(ConnectTo::new("h", 1, None).unwrap().curl_entry(), None);
        assert!(ConnectTo::new("", 1, Some("127.0.0.1")).is_err());
        assert!(ConnectTo::new("a b", 1, Some("127.0.0.1")).is_err());
        assert!(ConnectTo::new("h:1", 1, Some("127.0.0.1")).is_err());
        assert!(ConnectTo::new("h", 0, Some("127.0.0.1")).is_err());
        assert!(ConnectTo::new("h", 65536, Some("127.0.0.1")).is_err());
        assert!(ConnectTo::new("h", 1, Some("localhost")).is_err());
    }

    #[test]
    fn only_the_first_key_of_a_certificate_shares_connections() {
        let pair = |cert: &str, key: Option<&str>| ClientCert {
            cert: PathBuf::from(cert),
            key: key.map(PathBuf::from),
        };
        assert!(may_share_connections(&pair(
            "/t/a.pem",
            Some("/t/a-key.pem")
        )));
        assert!(may_share_connections(&pair(
            "/t/a.pem",
            Some("/t/a-key.pem")
        )));
        assert!(!may_share_connections(&pair(
            "/t/a.pem",
            Some("/t/other-key.pem")
        )));
        assert!(!may_share_connections(&pair(
            "/T/A.pem",
            Some("/t/other-key.pem")
        )));
        assert!(!may_share_connections(&pair("/t/a.pem", None)));
        assert!(may_share_connections(&pair("/t/a-key.pem", None)));
        assert!(may_share_connections(&pair("/t/b.pem", None)));
        assert!(may_share_connections(&pair("/t/b.pem", Some("/t/b.pem"))));
        assert!(may_share_connections(&pair(
            "/t/a.pem",
            Some("/t/a-key.pem")
        )));
    }

    #[test]
    fn feature_words_in_order() {
        let all = FeatureBits {
            http2: true,
            http3: true,
            libz: true,
            brotli: true,
            zstd: true,
            unix_sockets: true,
            openssl: true,
        };
        assert_eq!(
            feature_words(&all),
            "http2 http3 gzip deflate br zstd socks unix-sockets mtls pinning"
        );
        assert_eq!(feature_words(&FeatureBits::default()), "socks");
        assert!(is_openssl_family("OpenSSL/3.0.19"));
        assert!(!is_openssl_family("GnuTLS/3.7.9"));
    }
}
