//! `struct nethttp_options`: what a request sends, set before `nethttp_request()`.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

use super::types::{nethttp_options, options_free, options_into_c, options_mut};
use super::{bytes_arg, c_str_arg, guard, guard_result, null_argument};
use crate::error::{nethttp_result, Error};
use crate::options::{HttpVersion, Options, RetryPolicy};
use crate::transport::{ClientCert, ConnectTo, TlsVersion};

/// Creates options with nothing set: a GET with the default headers,
/// certificate verification on, a 30 s connect timeout and no total timeout.
/// The caller owns them and frees them with `nethttp_options_free()`.
/// Returns NULL only if memory runs out.
#[no_mangle]
pub extern "C" fn nethttp_options_new() -> *mut nethttp_options {
    guard(ptr::null_mut(), || Ok(options_into_c(Options::new())))
}

/// Frees options. NULL is allowed and does nothing. Requests already made
/// with them are not affected.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_free(options: *mut nethttp_options) {
    guard((), || {
        options_free(options);
        Ok(())
    })
}

/// Sets a request header. The name is sent with the case given here; setting
/// a name again (in any case) replaces the earlier value. A header given here
/// overrides nethttp's defaults (`User-Agent: nethttp/<version>`, and
/// `Content-Type: application/x-www-form-urlencoded` when there is a body) and
/// libcurl's (`Accept`, `Host`, `Content-Length`). An empty `value` (or one
/// of only spaces and tabs) sends the header with an empty value; only a NULL
/// `value` sends no such header at all, removing a default.
///
/// Both strings are copied. The name must be an HTTP token (letters, digits
/// and ``!#$%&'*+-.^_`|~``) and the value must be UTF-8 without CR, LF (or NUL),
/// so that no header can smuggle another into the request.
///
/// The header line (`name: value`) may be at most 1,000,000 bytes long:
/// libcurl builds the request line and headers in a 1 MiB buffer (see
/// `nethttp_request()` for the limit on all of them together).
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options` or
/// `name` is NULL; `NETHTTP_RESULT_INVALID_HEADER_NAME` or
/// `NETHTTP_RESULT_INVALID_HEADER_VALUE` (also for a line over 1,000,000
/// bytes). On error the options are unchanged.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_header(
    options: *mut nethttp_options,
    name: *const c_char,
    value: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let name = c_str_arg(name, "name")?;
        let value = if value.is_null() {
            None
        } else {
            Some(c_str_arg(value, "value")?.to_bytes())
        };
        options.set_header(name.to_bytes(), value)
    })
}

/// Sets the request body: `len` bytes at `body`, copied (binary-safe, NUL
/// bytes included). A body makes the request a POST unless a method is set,
/// with `Content-Type: application/x-www-form-urlencoded` unless a
/// Content-Type header is set. NULL with `len == 0` sets an empty body (still
/// a POST); to remove the body again use `nethttp_options_clear_body()`.
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `options` is
/// NULL, or `NETHTTP_RESULT_INVALID_ARGUMENT` if `body` is NULL with `len > 0`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_body(
    options: *mut nethttp_options,
    body: *const c_void,
    len: usize,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let body = bytes_arg(body.cast(), len, "body")?;
        options.set_body(Some(body));
        Ok(())
    })
}

/// Removes the body set by `nethttp_options_set_body()`.
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_clear_body(
    options: *mut nethttp_options,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_body(None);
        Ok(())
    })
}

/// Forces the method, e.g. `"PUT"`, `"DELETE"` or `"HEAD"`; sent exactly as
/// given (methods are case-sensitive: `"head"` is sent as `head`, an
/// unknown method). A `HEAD` request (upper case) completes as soon as the
/// headers arrive, without waiting for a body. NULL goes back to the
/// default (GET, or POST when there is a body). The string is copied; it must
/// be an HTTP token, which excludes spaces, CR, LF and NUL, of at most
/// 1,000,000 bytes.
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL, or `NETHTTP_RESULT_INVALID_METHOD` (options unchanged).
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_method(
    options: *mut nethttp_options,
    method: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let method = if method.is_null() {
            None
        } else {
            Some(c_str_arg(method, "method")?.to_bytes())
        };
        options.set_method(method)
    })
}

/// With `insecure` non-zero, disables certificate and host-name verification
/// for requests made with these options (only those). Verification, against
/// the system's CA store, is on by default. A connection opened without
/// verification is never reused for a request that verifies.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_insecure(
    options: *mut nethttp_options,
    insecure: c_int,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_insecure(insecure != 0);
        Ok(())
    })
}

/// Limits the whole request (connect, send, wait, receive) to `timeout_ms`
/// milliseconds; 0 (the default) means no limit, and so does any value
/// above 100 years (`UINT64_MAX` included). A request that runs out of time
/// fails with `"timeout"`. Time spent waiting behind a client's connection
/// limits counts.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_timeout_ms(
    options: *mut nethttp_options,
    timeout_ms: u64,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?
            .set_timeout((timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)));
        Ok(())
    })
}

/// Limits the time to connect (TCP and TLS handshakes) to `timeout_ms`
/// milliseconds; 0 restores the default of 30 000 ms. There is always a
/// finite connect timeout: values above 100 years are cut to 100 years.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_connect_timeout_ms(
    options: *mut nethttp_options,
    timeout_ms: u64,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?
            .set_connect_timeout((timeout_ms > 0).then(|| Duration::from_millis(timeout_ms)));
        Ok(())
    })
}

/// Verifies servers against the CA certificates in the PEM file at `path`
/// instead of the system's store (libcurl's CA directory is not used
/// either); NULL goes back to the system's store. This replaces a CA set in
/// memory with `nethttp_options_set_ca_pem()`, and that function replaces
/// this one. The path is copied; the file is read when a request connects
/// (a missing file fails those requests with `"certificate-verify-failed"`).
///
/// Returns `NETHTTP_RESULT_OK`, `NETHTTP_RESULT_NULL_ARGUMENT` if `options` is
/// NULL, or `NETHTTP_RESULT_INVALID_ARGUMENT` if `path` is not valid UTF-8 or
/// is over 1,000,000 bytes long.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_ca_file(
    options: *mut nethttp_options,
    path: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let path = if path.is_null() {
            None
        } else {
            let text = c_str_arg(path, "path")?.to_str().map_err(|_| {
                Error::new(
                    nethttp_result::InvalidArgument,
                    "CA file path is not valid UTF-8",
                )
            })?;
            crate::limits::check_field(
                "the CA file path",
                text.len(),
                nethttp_result::InvalidArgument,
            )?;
            Some(PathBuf::from(text))
        };
        options.set_ca_file(path);
        Ok(())
    })
}

/// Limits the response body to `max_bytes`; a larger body fails the request
/// with `"body-too-large"` (`NETHTTP_RESULT_BODY_TOO_LARGE`) as soon as the
/// limit is passed (or at once when the server announces a larger
/// Content-Length), so a hostile server cannot make nethttp buffer without
/// end. 0 (the default) means no limit, and so does any value of 2^63 or
/// more (`UINT64_MAX` included).
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_max_body(
    options: *mut nethttp_options,
    max_bytes: u64,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_max_body((max_bytes > 0).then_some(max_bytes));
        Ok(())
    })
}

/// A C string argument as UTF-8 text, or None for NULL.
///
/// # Safety
/// As `c_str_arg`.
unsafe fn optional_text<'a>(text: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if text.is_null() {
        return Ok(None);
    }
    c_str_arg(text, what)?.to_str().map(Some).map_err(|_| {
        Error::new(
            nethttp_result::InvalidArgument,
            format!("{what} is not valid UTF-8"),
        )
    })
}

/// The minimum TLS version a request accepts
/// (`nethttp_options_set_min_tls_version()`). The values are the version
/// numbers without their dot, and never change.
/// cbindgen:prefix-with-name=false
/// cbindgen:rename-all=None
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum nethttp_tls_version {
    /// TLS 1.2 or later.
    NETHTTP_TLS_1_2 = 12,
    /// TLS 1.3 only.
    NETHTTP_TLS_1_3 = 13,
}

/// Sends requests made with these options through a proxy.
///
/// `proxy_url` is `[scheme://][user:password@]host[:port]`, the scheme one of
/// `http` (the default), `https` (TLS to the proxy), `socks4`, `socks4a`,
/// `socks5` or `socks5h` (`socks5h` lets the proxy resolve host names); give
/// the port, as libcurl's default is 1080. `https://` targets go through an HTTP proxy in a
/// `CONNECT` tunnel, so TLS stays end to end; plain `http://` targets are
/// forwarded by it. The user name and password are sent to the proxy
/// (percent-encode `:` `@` `/` in them), and never appear in nethttp's error
/// messages, error details or response URLs: they show as `user:***@`.
/// An `https://` proxy's own certificate is verified against the system's CA
/// store: `nethttp_options_set_ca_file()`, `_set_ca_pem()`, `_set_insecure()`
/// and pinning apply to the target server only.
///
/// `""` (the empty string) means no proxy at all, even when the environment
/// names one. NULL (and options that never set a proxy) means the
/// environment's: libcurl then reads `http_proxy` (for `http://` targets;
/// lowercase only), `https_proxy` or `HTTPS_PROXY` (for `https://`),
/// `all_proxy` or `ALL_PROXY`, and `no_proxy` or `NO_PROXY`, on the engine
/// thread at each transfer (see the README's "Proxies"). A proxy set here,
/// also as a client default, wins over the environment's; so does `""`.
///
/// The string is copied. Options are not synchronized: use one options
/// object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) for
/// another scheme, no host, a port that is not 1 to 65535, a path, spaces or
/// control characters, or text that is not UTF-8; `nethttp_last_error()`
/// then quotes the URL with its password replaced by `***`. A proxy that
/// cannot be reached fails the request with `"connection-refused"` (or
/// `"resolve-failed"` for its host name).
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_proxy(
    options: *mut nethttp_options,
    proxy_url: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        options.set_proxy(optional_text(proxy_url, "proxy URL")?)
    })
}

/// Hosts that requests made with these options reach directly, without the
/// proxy (`nethttp_options_set_proxy()`'s or the environment's): a
/// comma-separated list of host names, domains (`example.org` also matches
/// `www.example.org`), IP addresses, CIDR ranges (libcurl 7.86 and later)
/// or `*` for every host, matched as libcurl's `no_proxy` is. Set here, the
/// list replaces the environment's `no_proxy` entirely; `""` exempts no
/// host. NULL (and options that never set it) means the environment's
/// `no_proxy` or `NO_PROXY`.
///
/// The string is copied. Options are not synchronized: use one options
/// object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) if `hosts`
/// holds control characters or is not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_no_proxy(
    options: *mut nethttp_options,
    hosts: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        options.set_no_proxy(optional_text(hosts, "no_proxy list")?)
    })
}

/// Presents a client certificate to servers that ask for one (mutual TLS):
/// `cert_pem_path` names a PEM file holding the certificate (and any
/// intermediate certificates after it), `key_pem_path` a PEM file holding
/// its private key, unencrypted; a NULL `key_pem_path` means the key is in
/// the certificate's file. A NULL `cert_pem_path` sends no certificate
/// (`key_pem_path` is then ignored), which also overrides a client default.
///
/// The paths are copied; the files are read when a request opens a
/// connection. A file that is missing or not PEM, or a key that does not
/// belong to the certificate, fails the request with
/// `"client-certificate-unusable"` (`NETHTTP_RESULT_CLIENT_CERTIFICATE_UNUSABLE`).
/// A server that requires a certificate and gets none fails it with
/// `"client-certificate-required"` (TLS 1.3; over TLS 1.2 servers usually
/// abort the handshake, giving `"tls-failed"`, and some answer with an HTTP
/// error status instead); a server that refuses the certificate, with
/// `"client-certificate-rejected"`.
///
/// Connections are reused only by requests naming the same certificate and
/// key files. Within a process, the first key file used with a certificate
/// file keeps connection reuse and TLS session resumption; a request pairing
/// that certificate file with another key file always opens a connection of
/// its own, without session resumption, and closes it after the request (so
/// that no libcurl version can lend it a connection the other key
/// authenticated). Needs the `"mtls"` feature (`nethttp_features()`).
///
/// Options are not synchronized: use one options object from one thread at
/// a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) if a path
/// is empty or not valid UTF-8.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_client_cert(
    options: *mut nethttp_options,
    cert_pem_path: *const c_char,
    key_pem_path: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let Some(cert) = optional_text(cert_pem_path, "certificate path")? else {
            options.set_client_cert(None);
            return Ok(());
        };
        let key = optional_text(key_pem_path, "key path")?;
        if cert.is_empty() || key.is_some_and(str::is_empty) {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                "a client certificate or key path is empty",
            ));
        }
        options.set_client_cert(Some(ClientCert {
            cert: PathBuf::from(cert),
            key: key.map(PathBuf::from),
        }));
        Ok(())
    })
}

/// Verifies servers against the CA certificates in `len` bytes of PEM text
/// at `pem` (one or more `-----BEGIN CERTIFICATE-----` blocks), held in
/// memory, instead of the system's store: useful when the CA is compiled
/// into the program or comes from a secret store rather than a file. The
/// bytes are copied (they need no NUL terminator). This replaces a CA file
/// set with `nethttp_options_set_ca_file()`, and that function replaces this
/// one; in a client's defaults and a request's options, the request's CA
/// setting wins. NULL with `len == 0` goes back to the system's store.
///
/// The CA is used for the target server only (see
/// `nethttp_options_set_proxy()` for `https://` proxies). Connections are
/// only reused by requests trusting the same CA.
///
/// Options are not synchronized: use one options object from one thread at
/// a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) if `pem`
/// is NULL with `len > 0`, or the bytes hold no PEM certificate. A PEM block
/// that does not parse fails requests with `"certificate-verify-failed"`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_ca_pem(
    options: *mut nethttp_options,
    pem: *const c_char,
    len: usize,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        if pem.is_null() && len == 0 {
            return options.set_ca_pem(None);
        }
        let pem = bytes_arg(pem, len, "pem")?;
        options.set_ca_pem(Some(pem))
    })
}

/// Pins the server's public key: `pins` is one or more
/// `sha256//<base64>` entries separated by `;` (no spaces), each the
/// base64-encoded SHA-256 digest of a DER-encoded SubjectPublicKeyInfo, as
/// `openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform
/// der | openssl dgst -sha256 -binary | base64` prints it. A connection
/// fails unless the key of the server's certificate matches one entry, with
/// `"certificate-verify-failed"`; list the next key before rotating to it.
/// Pinning is checked in addition to the usual verification, and also when
/// `nethttp_options_set_insecure()` turned that off. NULL removes the pins
/// (also overriding a client default). Connections are only reused by
/// requests with the same pins. Needs the `"pinning"` feature
/// (`nethttp_features()`).
///
/// The string is copied. Options are not synchronized: use one options
/// object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) if `pins`
/// is empty, or an entry is not `sha256//` followed by 44 base64 characters.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_pinned_public_key(
    options: *mut nethttp_options,
    pins: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        options.set_pinned_public_key(optional_text(pins, "pinned public keys")?)
    })
}

/// Refuses to talk TLS older than `version`, a value of
/// `enum nethttp_tls_version`: `NETHTTP_TLS_1_2` or `NETHTTP_TLS_1_3`. A
/// server that cannot speak it fails the request with `"tls-failed"`. Not
/// set, the minimum is libcurl's and the TLS library's (libcurl asks for TLS
/// 1.0 or later; Debian's OpenSSL configuration refuses anything below TLS
/// 1.2). Connections are only reused by requests with the same minimum.
///
/// `version` is an `int` so that any number is safe to pass. Options are not
/// synchronized: use one options object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) for any
/// other number.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_min_tls_version(
    options: *mut nethttp_options,
    version: c_int,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        options.set_min_tls_version(TlsVersion::from_number(version)?);
        Ok(())
    })
}

/// Connects to `address` (an IPv4 or IPv6 address, without a port) when a
/// request's URL names `host` and `port`, instead of resolving `host`: for
/// testing a server before DNS points at it, or pinning one node of a
/// cluster. Only the connection changes: the request still sends
/// `Host: host`, and TLS still checks the server's certificate against
/// `host` (and sends it as SNI). `host` is matched ignoring case; an IPv6
/// literal may be given with or without brackets.
///
/// Repeatable: one rule per `host` and `port`, a later call replacing an
/// earlier rule for the same pair. A NULL `address` removes the rule for
/// that pair, also one from a client's defaults (request rules merge over
/// default rules by host and port, like headers by name). The rule applies
/// to requests made with these options only, never to other requests of
/// the same client: it is libcurl's `CURLOPT_CONNECT_TO`, which leaves the
/// shared DNS cache alone (libcurl's `CURLOPT_RESOLVE` would fill it for
/// every later request), and connections made through it are reused only
/// by requests with the same rule.
///
/// The strings are copied. Options are not synchronized: use one options
/// object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// or `host` is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged)
/// if `host` is empty or holds spaces, control characters or URL
/// delimiters, `port` is not 1 to 65535, or `address` is not an IP address
/// (host names are not accepted).
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_resolve(
    options: *mut nethttp_options,
    host: *const c_char,
    port: c_uint,
    address: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let host = optional_text(host, "host")?.ok_or_else(|| null_argument("host"))?;
        let address = optional_text(address, "address")?;
        options.set_connect_to(ConnectTo::new(host, port, address)?);
        Ok(())
    })
}

/// Talks HTTP over the Unix domain socket at `path` instead of TCP, for
/// local services such as the Docker daemon. The URL still gives the scheme,
/// the `Host` header and the path: `http://localhost/v1.43/info` with
/// `/var/run/docker.sock` asks the socket's server for `/v1.43/info` with
/// `Host: localhost`; an `https://` URL runs TLS over the socket. A proxy
/// is not used for such requests. NULL goes back to TCP (also overriding a
/// client default). Connections are only reused by requests naming the same
/// socket. Needs the `"unix-sockets"` feature (`nethttp_features()`).
///
/// The path is copied; the socket is opened when a request connects (no
/// socket there fails it with `"connection-refused"`). Options are not
/// synchronized: use one options object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) if `path`
/// is empty, longer than a socket address holds (107 bytes), or not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_unix_socket(
    options: *mut nethttp_options,
    path: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        options.set_unix_socket(optional_text(path, "Unix socket path")?)
    })
}

/// Sends HTTP Basic authentication (`Authorization: Basic ...`) with `user`
/// and `password` on every request made with these options, without waiting
/// for the server to ask. Credentials in the URL
/// (`http://user:password@host/`) do the same, as in Prosody; when both are
/// given, these win. Basic authentication is readable by anyone on the path
/// over plain `http://`: use `https://`. A NULL `user` removes these
/// credentials (also overriding a client default; the URL's still apply).
///
/// The password never appears in `nethttp_last_error()`, an error detail or
/// `nethttp_response_url()` (credentials from the URL show there as
/// `user:***@`).
///
/// The strings are copied. Options are not synchronized: use one options
/// object from one thread at a time.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL, or `user` is not NULL and `password` is;
/// `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) if `user` contains
/// `:` (RFC 7617 forbids it) or either string is not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_basic_auth(
    options: *mut nethttp_options,
    user: *const c_char,
    password: *const c_char,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let Some(user) = optional_text(user, "user")? else {
            return options.set_basic_auth(None);
        };
        let password =
            optional_text(password, "password")?.ok_or_else(|| null_argument("password"))?;
        options.set_basic_auth(Some((user, password)))
    })
}

/// Follows up to `max` redirects (301, 302, 303, 307, 308 with a Location).
/// 0, the default as in Prosody, follows none: the 3xx response is
/// delivered as it came. Hop by hop: 303 turns any method but HEAD into a
/// GET, 301 and 302 turn a POST into a GET (the body and its Content-Type
/// dropped); 307 and 308 send the same method and body again. Only http and
/// https targets are followed: a redirect elsewhere (`file://`, `ftp://`)
/// fails with `NETHTTP_RESULT_UNSUPPORTED_SCHEME`; one more redirect than
/// `max` fails with `NETHTTP_RESULT_TOO_MANY_REDIRECTS`. `Authorization`,
/// `Cookie` and `Proxy-Authorization` headers set here, and Basic
/// credentials, are not sent once a redirect leaves the first URL's origin
/// (scheme, host and port). The timeout covers all hops together.
/// `nethttp_response_url()` is the final URL and
/// `nethttp_response_redirect_count()` the hops followed.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_max_redirects(
    options: *mut nethttp_options,
    max: c_uint,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_max_redirects(max);
        Ok(())
    })
}

/// With `on` non-zero (the default) requests say which compressions they
/// accept (`Accept-Encoding:` with gzip and deflate, and br and zstd where
/// `nethttp_features()` lists them) and bodies come decoded;
/// `nethttp_options_set_max_body()` then counts decoded bytes, so a
/// compression bomb stops at the limit. With `on` 0 no Accept-Encoding of
/// nethttp's is sent and nothing is decoded. A request that sets its own
/// `Accept-Encoding` header gets the bytes as the server sent them.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_decompress(
    options: *mut nethttp_options,
    on: c_int,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_decompress(on != 0);
        Ok(())
    })
}

/// The HTTP versions `nethttp_options_set_http_version()` asks for.
///
/// cbindgen:prefix-with-name=false
/// cbindgen:rename-all=None
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum nethttp_http_version {
    /// HTTP/2 over TLS when the server offers it (ALPN), else HTTP/1.1;
    /// HTTP/1.1 on plain http.
    NETHTTP_HTTP_VERSION_DEFAULT = 0,
    /// HTTP/1.1 only.
    NETHTTP_HTTP_VERSION_1_1 = 1,
    /// HTTP/2: over TLS through ALPN; on plain http by an upgrade (h2c)
    /// that the server may decline.
    NETHTTP_HTTP_VERSION_2 = 2,
    /// HTTP/2 from the first byte without asking, for plain http servers
    /// known to speak it.
    NETHTTP_HTTP_VERSION_2_PRIOR_KNOWLEDGE = 3,
}

/// Asks for an HTTP version, a value of `enum nethttp_http_version`. By
/// default, HTTPS requests negotiate HTTP/2 when the server offers it, and
/// concurrent requests of a client to one HTTP/2 server share one
/// connection (multiplexing: a new request waits for a connection being
/// set up instead of opening its own). `nethttp_response_http_version()`
/// says what was spoken.
///
/// `version` is an `int` so that any number is safe to pass.
///
/// Returns `NETHTTP_RESULT_OK`; `NETHTTP_RESULT_NULL_ARGUMENT` if `options`
/// is NULL; `NETHTTP_RESULT_INVALID_ARGUMENT` (options unchanged) for any
/// other number, or an HTTP/2 version when the linked libcurl has no HTTP/2
/// (see `nethttp_features()`).
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_http_version(
    options: *mut nethttp_options,
    version: c_int,
) -> nethttp_result {
    guard_result(|| {
        let options = options_mut(options)?;
        let version = match version {
            0 => HttpVersion::Default,
            1 => HttpVersion::Http11,
            2 => HttpVersion::Http2,
            3 => HttpVersion::Http2PriorKnowledge,
            other => {
                return Err(Error::new(
                    nethttp_result::InvalidArgument,
                    format!("{other} is not an enum nethttp_http_version"),
                ))
            }
        };
        if matches!(
            version,
            HttpVersion::Http2 | HttpVersion::Http2PriorKnowledge
        ) && !crate::transport::has_http2()
        {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                "the linked libcurl has no HTTP/2 (nethttp_features() does not list http2)",
            ));
        }
        options.set_http_version(version);
        Ok(())
    })
}

/// Retries a request up to `max_retries` times (0, the default: never) when
/// it failed before any byte of a response came (connection refused, or
/// closed or reset before the status line) or got a 429 or 503. Only
/// idempotent methods are retried (GET, HEAD, PUT, DELETE, OPTIONS), never
/// a POST, nor a body from a read callback. Waits between tries without
/// blocking anything: `base_ms` before the first retry, doubling each time
/// (at most 30 s), less up to half of it at random so that clients that
/// failed together do not return together. A `Retry-After` (seconds or a
/// date) is waited for instead, up to 60 s; a longer one is not waited for:
/// that 429 or 503 is delivered. Cancel and destroy work during a wait. The
/// timeout covers all tries together. `nethttp_response_retry_count()` says
/// how many retries were made.
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_retry(
    options: *mut nethttp_options,
    max_retries: c_uint,
    base_ms: u32,
) -> nethttp_result {
    guard_result(|| {
        options_mut(options)?.set_retry(RetryPolicy {
            max_retries,
            base: Duration::from_millis(base_ms.into()),
        });
        Ok(())
    })
}

/// Fails a request with `"timeout"` when fewer than `bytes_per_second`
/// arrive (or leave) for `seconds` seconds in a row: for stalled transfers
/// that a total timeout would wait out. 0 for either turns the limit off
/// (the default).
///
/// Returns `NETHTTP_RESULT_OK`, or `NETHTTP_RESULT_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn nethttp_options_set_low_speed(
    options: *mut nethttp_options,
    bytes_per_second: u32,
    seconds: u32,
) -> nethttp_result {
    guard_result(|| {
        let limit = (bytes_per_second > 0 && seconds > 0).then_some((bytes_per_second, seconds));
        options_mut(options)?.set_low_speed(limit);
        Ok(())
    })
}
