//! One libcurl easy handle: how a request's options become curl options (on
//! the caller's thread), and how a finished handle becomes a `Response` (on
//! the engine thread).

use std::borrow::Cow;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use curl::easy::{Easy2, Handler, List, WriteError};

use crate::engine::Outcome;
use crate::error::{nethttp_result, Error};
use crate::failure;
use crate::headers::LazyHeaders;
use crate::id::RequestId;
use crate::libcurl_bugs;
use crate::options::{CaSource, HeaderValue, Options};
use crate::pool::HandlePool;
use crate::response::{Failure, Response, Timings};
use crate::transport::{self, Proxy, TlsVersion};
use crate::url_cache::{ParsedUrl, UrlCache};
use std::sync::Arc;

/// Sent unless the caller sets its own User-Agent.
pub const USER_AGENT: &str = concat!("nethttp/", env!("CARGO_PKG_VERSION"));
const USER_AGENT_LINE: &str = concat!("User-Agent: nethttp/", env!("CARGO_PKG_VERSION"));
/// Prosody's default for a request with a body.
const DEFAULT_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

// CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR (libcurl 7.85), which
// curl-sys does not name.
const CURLOPT_PROTOCOLS_STR: curl_sys::CURLoption = curl_sys::CURLOPTTYPE_OBJECTPOINT + 318;
const CURLOPT_REDIR_PROTOCOLS_STR: curl_sys::CURLoption = curl_sys::CURLOPTTYPE_OBJECTPOINT + 319;
const CURLPROTO_HTTP_HTTPS: libc::c_long = 1 | 2;
// CURLOPT_QUICK_EXIT (libcurl 7.87).
const CURLOPT_QUICK_EXIT: curl_sys::CURLoption = curl_sys::CURLOPTTYPE_LONG + 322;
// CURLOPT_CURLU (libcurl 7.63).
const CURLOPT_CURLU: curl_sys::CURLoption = curl_sys::CURLOPTTYPE_OBJECTPOINT + 282;

/// Collects the response of one transfer. Runs inside libcurl's callbacks on
/// the engine thread; must never unwind into libcurl.
#[derive(Default)]
pub struct Collector {
    body: Vec<u8>,
    /// The header lines of the last response, as they came (parsed only if
    /// the program looks at them: `LazyHeaders`).
    raw_headers: Vec<u8>,
    /// Bodies longer than this fail the transfer (`body-too-large`).
    max_body: Option<u64>,
    body_too_large: bool,
    /// The body could not grow: the transfer fails with `out-of-memory`
    /// instead of the allocation failure aborting the process.
    out_of_memory: bool,
    /// The version of the options the handle was configured for (see `HandlePool::take`).
    options_version: u64,
    /// The method the request sends, for `Response::method`.
    method: Cow<'static, CStr>,
    /// The URL given to libcurl with CURLOPT_CURLU, alive while it may read it.
    url: Option<Arc<ParsedUrl>>,
}

impl Collector {
    fn add_header_line(&mut self, line: &[u8]) {
        const CONTENT_LENGTH: &[u8] = b"content-length:";
        if line.starts_with(b"HTTP/") {
            // A new response (after 1xx or a followed redirect) replaces the last one's headers.
            self.raw_headers.clear();
            return;
        }
        if line.len() > CONTENT_LENGTH.len()
            && line[..CONTENT_LENGTH.len()].eq_ignore_ascii_case(CONTENT_LENGTH)
        {
            self.reserve_body(line[CONTENT_LENGTH.len()..].trim_ascii());
        }
        if self.raw_headers.capacity() == 0 {
            // Typical header blocks fit, so the buffer grows once or never.
            self.raw_headers.reserve(512);
        }
        self.raw_headers.extend_from_slice(line);
    }
}

impl Collector {
    /// Sizes the body buffer from Content-Length (plus the NUL the response
    /// adds), so a download is not copied as the buffer grows. Capped, and
    /// allowed to fail: the header is the server's word, not a promise (a
    /// HEAD response or a hostile server announces bytes that never come).
    fn reserve_body(&mut self, content_length: &[u8]) {
        const MAX_RESERVE: usize = 16 << 20;
        let length = std::str::from_utf8(content_length)
            .ok()
            .and_then(|t| t.parse::<usize>().ok());
        if let Some(length) = length {
            let limit = self
                .max_body
                .map_or(MAX_RESERVE, |max| max.min(MAX_RESERVE as u64) as usize);
            let wanted = length.min(limit) + 1;
            if self
                .body
                .try_reserve(wanted.saturating_sub(self.body.len()))
                .is_ok()
            {
                advise_huge_pages(&self.body);
            }
        }
    }
}

/// Asks the kernel to back a large body buffer with huge pages: filling a
/// 16 MiB buffer otherwise takes 4096 page faults. Only a hint; where
/// transparent huge pages are off it does nothing.
fn advise_huge_pages(buffer: &Vec<u8>) {
    const HUGE_PAGE: usize = 2 << 20;
    let start = buffer.as_ptr() as usize;
    let first = (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
    let end = (start + buffer.capacity()) & !(HUGE_PAGE - 1);
    if end > first {
        // SAFETY: the range lies inside the buffer's allocation; MADV_HUGEPAGE
        // changes how pages are backed, never their contents.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

impl Handler for Collector {
    fn write(&mut self, data: &[u8]) -> Result<usize, WriteError> {
        // Returning a short count makes libcurl fail the transfer instead of unwinding.
        catch_unwind(AssertUnwindSafe(|| {
            let new_len = self.body.len() as u64 + data.len() as u64;
            if self.max_body.is_some_and(|max| new_len > max) {
                self.body_too_large = true;
                return 0;
            }
            let capacity = self.body.capacity();
            if self.body.try_reserve(data.len()).is_err() {
                self.out_of_memory = true;
                return 0;
            }
            if self.body.capacity() != capacity {
                advise_huge_pages(&self.body);
            }
            self.body.extend_from_slice(data);
            data.len()
        }))
        .or(Ok(0))
    }

    fn header(&mut self, data: &[u8]) -> bool {
        catch_unwind(AssertUnwindSafe(|| self.add_header_line(data))).is_ok()
    }
}

fn setup_error(error: curl::Error) -> Error {
    let code = if error.is_out_of_memory() {
        nethttp_result::OutOfMemory
    } else {
        nethttp_result::Internal
    };
    Error::new(
        code,
        format!("could not set up the transfer: {}", failure::detail(&error)),
    )
}

/// Sets a string option by number, for options the curl crate does not wrap.
fn set_str_option(
    easy: &Easy2<Collector>,
    option: curl_sys::CURLoption,
    value: &std::ffi::CStr,
) -> curl_sys::CURLcode {
    // SAFETY: `easy.raw()` is a live handle; libcurl copies string options.
    unsafe { curl_sys::curl_easy_setopt(easy.raw(), option, value.as_ptr()) }
}

/// Allows only http and https, for the request and for any redirect.
fn restrict_protocols(easy: &Easy2<Collector>) -> Result<(), Error> {
    let http_https = c"http,https";
    let by_name = set_str_option(easy, CURLOPT_PROTOCOLS_STR, http_https) == curl_sys::CURLE_OK
        && set_str_option(easy, CURLOPT_REDIR_PROTOCOLS_STR, http_https) == curl_sys::CURLE_OK;
    if by_name {
        return Ok(());
    }
    // libcurl before 7.85 knows only the bit masks.
    // SAFETY: live handle; long options take a c_long.
    let by_mask = unsafe {
        curl_sys::curl_easy_setopt(
            easy.raw(),
            curl_sys::CURLOPT_PROTOCOLS,
            CURLPROTO_HTTP_HTTPS,
        ) == curl_sys::CURLE_OK
            && curl_sys::curl_easy_setopt(
                easy.raw(),
                curl_sys::CURLOPT_REDIR_PROTOCOLS,
                CURLPROTO_HTTP_HTTPS,
            ) == curl_sys::CURLE_OK
    };
    if by_mask {
        Ok(())
    } else {
        Err(Error::new(
            nethttp_result::Internal,
            "libcurl refused to restrict protocols to http and https",
        ))
    }
}

/// The header list: the caller's headers, then the defaults they did not
/// override; `None` when there is nothing to send beyond libcurl's own.
fn header_list(options: &Options) -> Result<Option<List>, curl::Error> {
    let mut list = List::new();
    // A header line, not CURLOPT_USERAGENT: libcurl formats that option anew
    // for every transfer (about 5,000 instructions), a list line it copies.
    if options.header("User-Agent").is_none() {
        list.append(USER_AGENT_LINE)?;
    }
    for (name, value) in options.headers() {
        match value {
            // "Name;" is libcurl's way to send a header with an empty value;
            // "Name:" followed by blanks only would remove the header instead.
            HeaderValue::Send(value) if value.trim_matches([' ', '\t']).is_empty() => {
                list.append(&format!("{name};"))?
            }
            HeaderValue::Send(value) => list.append(&format!("{name}: {value}"))?,
            // "Name:" removes a header libcurl would add.
            HeaderValue::Remove => list.append(&format!("{name}:"))?,
        }
    }
    if options.body().is_some() {
        if options.header("Content-Type").is_none() {
            list.append(&format!("Content-Type: {DEFAULT_CONTENT_TYPE}"))?;
        }
        if options.header("Expect").is_none() {
            // Prosody never waits for 100-continue; libcurl would for bodies over 1 MB.
            list.append("Expect:")?;
        }
    }
    Ok(Some(list))
}

/// The method a request with these options sends.
fn method_of(options: &Options) -> Result<Cow<'static, CStr>, Error> {
    Ok(match options.method() {
        None if options.body().is_some() => Cow::Borrowed(c"POST"),
        None => Cow::Borrowed(c"GET"),
        Some("GET") => Cow::Borrowed(c"GET"),
        Some("POST") => Cow::Borrowed(c"POST"),
        Some("HEAD") => Cow::Borrowed(c"HEAD"),
        Some(other) => Cow::Owned(
            CString::new(other)
                .map_err(|_| Error::new(nethttp_result::InvalidMethod, "method contains NUL"))?,
        ),
    })
}

/// Sets a pointer option to NULL, for options the curl crate cannot unset.
fn unset_option(easy: &Easy2<Collector>, option: curl_sys::CURLoption) -> Result<(), Error> {
    // SAFETY: `easy.raw()` is a live handle; NULL resets a string option.
    let code =
        unsafe { curl_sys::curl_easy_setopt(easy.raw(), option, std::ptr::null::<c_char>()) };
    if code == curl_sys::CURLE_OK {
        Ok(())
    } else {
        Err(setup_error(curl::Error::new(code)))
    }
}

/// Proxy, CA, client certificate, pins, TLS version, CONNECT_TO, Unix socket
/// and Basic authentication. Only what the options set is touched: a fresh
/// or reset handle has libcurl's defaults for everything else.
fn set_transport(easy: &mut Easy2<Collector>, options: &Options) -> Result<(), Error> {
    match options.proxy() {
        Proxy::Environment => {}
        // An empty proxy turns the environment's proxy off too.
        Proxy::Direct => easy.proxy("").map_err(setup_error)?,
        Proxy::Url(url) => easy.proxy(url).map_err(setup_error)?,
    }
    if let Some(hosts) = options.no_proxy() {
        easy.noproxy(hosts).map_err(setup_error)?;
    }
    match options.ca() {
        CaSource::System => {}
        // libcurl would still trust its built-in CA directory (Debian's
        // /etc/ssl/certs) beside a CA file or blob: "instead" means instead.
        CaSource::File(path) => {
            easy.cainfo(path).map_err(setup_error)?;
            unset_option(easy, curl_sys::CURLOPT_CAPATH)?;
        }
        CaSource::Pem(pem) => {
            easy.ssl_cainfo_blob(pem).map_err(setup_error)?;
            unset_option(easy, curl_sys::CURLOPT_CAPATH)?;
        }
    }
    if let Some(cert) = options.client_cert() {
        easy.ssl_cert(&cert.cert).map_err(setup_error)?;
        easy.ssl_cert_type("PEM").map_err(setup_error)?;
        if let Some(key) = &cert.key {
            easy.ssl_key(key).map_err(setup_error)?;
            easy.ssl_key_type("PEM").map_err(setup_error)?;
        }
        if !transport::may_share_connections(cert) {
            // This certificate file was first used with another key file:
            // a connection or TLS session of that key must not serve this
            // request, and this one's must serve no other.
            easy.fresh_connect(true).map_err(setup_error)?;
            easy.forbid_reuse(true).map_err(setup_error)?;
            easy.ssl_sessionid_cache(false).map_err(setup_error)?;
        }
    }
    if let Some(pins) = options.pinned_public_key() {
        easy.pinned_public_key(pins).map_err(setup_error)?;
    }
    if let Some(version) = options.min_tls_version() {
        easy.ssl_version(match version {
            TlsVersion::Tls12 => curl::easy::SslVersion::Tlsv12,
            TlsVersion::Tls13 => curl::easy::SslVersion::Tlsv13,
        })
        .map_err(setup_error)?;
    }
    let mut rules = options
        .connect_to()
        .iter()
        .filter_map(|r| r.curl_entry())
        .peekable();
    if rules.peek().is_some() {
        // CONNECT_TO, not RESOLVE: RESOLVE fills the multi handle's shared
        // DNS cache, where later requests would find the address.
        let mut list = List::new();
        for rule in rules {
            list.append(&rule).map_err(setup_error)?;
        }
        easy.connect_to(list).map_err(setup_error)?;
    }
    if let Some(path) = options.unix_socket() {
        easy.unix_socket_path(Some(path)).map_err(setup_error)?;
    }
    if let Some((user, password)) = options.basic_auth() {
        easy.username(user).map_err(setup_error)?;
        easy.password(password).map_err(setup_error)?;
        let mut basic = curl::easy::Auth::new();
        basic.basic(true);
        easy.http_auth(&basic).map_err(setup_error)?;
    }
    Ok(())
}

/// Builds the easy handle for a request. Runs on the caller's thread.
pub(crate) fn prepare(
    url: &str,
    options: &Options,
    pool: &HandlePool<Collector>,
    urls: &UrlCache,
) -> Result<Easy2<Collector>, Error> {
    let method = method_of(options)?;
    let parsed = urls.get(url)?;
    let (mut easy, configured) =
        libcurl_bugs::or_out_of_memory("an easy handle", || pool.take(options.version()))?;
    let collector = easy.get_mut();
    collector.max_body = options.max_body();
    collector.options_version = options.version();
    collector.method = method;
    // Both the string and the parsed URL: libcurl 7.x then neither parses
    // the string nor formats one from the handle (it does when either is
    // missing); 8.x formats the string from the handle but still skips the
    // parse.
    easy.url(url).map_err(setup_error)?;
    // SAFETY: live handle; the transfer keeps `parsed` alive (in the
    // collector) for as long as libcurl may read it.
    let code = unsafe { curl_sys::curl_easy_setopt(easy.raw(), CURLOPT_CURLU, parsed.raw()) };
    if code != curl_sys::CURLE_OK {
        return Err(setup_error(curl::Error::new(code)));
    }
    easy.get_mut().url = Some(parsed);
    if configured {
        // A handle that last ran a request with these very options still has
        // every option below: only the URL changes.
        return Ok(easy);
    }
    restrict_protocols(&easy)?;
    // A transfer removed while its name is being resolved (cancel, destroy,
    // free) must not make the engine wait for the resolver thread: with
    // QUICK_EXIT libcurl leaves that thread to finish on its own (7.87).
    // SAFETY: live handle; a long option. Older libcurl refuses it: harmless.
    unsafe { curl_sys::curl_easy_setopt(easy.raw(), CURLOPT_QUICK_EXIT, 1 as libc::c_long) };
    easy.follow_location(false).map_err(setup_error)?;
    easy.connect_timeout(options.connect_timeout())
        .map_err(setup_error)?;
    if let Some(timeout) = options.timeout() {
        easy.timeout(timeout).map_err(setup_error)?;
    }
    if options.insecure() {
        easy.ssl_verify_peer(false).map_err(setup_error)?;
        easy.ssl_verify_host(false).map_err(setup_error)?;
    }
    if let Some(max_body) = options.max_body() {
        // Refuses an announced Content-Length early; the collector checks the rest.
        easy.max_filesize(max_body).map_err(setup_error)?;
    }
    set_transport(&mut easy, options)?;
    if let Some(body) = options.body() {
        easy.post(true).map_err(setup_error)?;
        easy.post_fields_copy(body).map_err(setup_error)?;
    }
    match options.method() {
        // HEAD through CUSTOMREQUEST would wait for a body that never comes.
        // Methods are case-sensitive: "head" is another method, sent as given.
        Some("HEAD") => easy.nobody(true).map_err(setup_error)?,
        Some("GET") if options.body().is_none() => {}
        // An empty body, so libcurl sends "Content-Length: 0" instead of reading stdin.
        Some("POST") if options.body().is_none() => {
            easy.post_fields_copy(&[]).map_err(setup_error)?
        }
        Some("POST") => {}
        Some(method) => easy.custom_request(method).map_err(setup_error)?,
        None => {}
    }
    let list = libcurl_bugs::or_out_of_memory("the header list", || header_list(options))?;
    if let Some(list) = list.map_err(setup_error)? {
        easy.http_headers(list).map_err(setup_error)?;
    }
    Ok(easy)
}

fn c_string_lossy(bytes: Vec<u8>) -> CString {
    CString::new(bytes).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|&b| b != 0);
        CString::new(bytes).expect("NUL bytes were removed")
    })
}

// CURLINFO_*_TIME_T (libcurl 7.61), which curl-sys does not name.
const CURLINFO_OFF_T: curl_sys::CURLINFO = 0x60_0000;
const CURLINFO_TOTAL_TIME_T: curl_sys::CURLINFO = CURLINFO_OFF_T + 50;
const CURLINFO_NAMELOOKUP_TIME_T: curl_sys::CURLINFO = CURLINFO_OFF_T + 51;
const CURLINFO_CONNECT_TIME_T: curl_sys::CURLINFO = CURLINFO_OFF_T + 52;
const CURLINFO_STARTTRANSFER_TIME_T: curl_sys::CURLINFO = CURLINFO_OFF_T + 54;
const CURLINFO_APPCONNECT_TIME_T: curl_sys::CURLINFO = CURLINFO_OFF_T + 56;
const CURLINFO_NUM_CONNECTS: curl_sys::CURLINFO = curl_sys::CURLINFO_LONG + 26;
const CURLINFO_PRIMARY_IP: curl_sys::CURLINFO = curl_sys::CURLINFO_STRING + 32;

fn time_info(easy: &Easy2<Collector>, info: curl_sys::CURLINFO) -> i64 {
    let mut value: curl_sys::curl_off_t = -1;
    // SAFETY: live handle; *_TIME_T infos write one curl_off_t.
    let code = unsafe { curl_sys::curl_easy_getinfo(easy.raw(), info, &mut value) };
    if code == curl_sys::CURLE_OK {
        value
    } else {
        -1
    }
}

fn long_info(easy: &Easy2<Collector>, info: curl_sys::CURLINFO) -> libc::c_long {
    let mut value: libc::c_long = 0;
    // SAFETY: live handle; long infos write one long.
    unsafe { curl_sys::curl_easy_getinfo(easy.raw(), info, &mut value) };
    value
}

/// True when the transfer got a connection: libcurl names the peer's address
/// then, for a new connection as for a reused one.
fn has_peer(easy: &Easy2<Collector>) -> bool {
    let mut ip: *const c_char = std::ptr::null();
    // SAFETY: live handle; CURLINFO_PRIMARY_IP writes a pointer to a string
    // libcurl owns (or leaves NULL).
    let code = unsafe { curl_sys::curl_easy_getinfo(easy.raw(), CURLINFO_PRIMARY_IP, &mut ip) };
    // SAFETY: a non-NULL result is a NUL-terminated string.
    code == curl_sys::CURLE_OK && !ip.is_null() && unsafe { *ip } != 0
}

/// The phase times of a transfer, cumulative from its start. libcurl reports
/// 0 for a phase that never happened (TLS on plain http, everything after a
/// failed connect); those become -1. On a reused connection DNS, CONNECT
/// (and TLS for https) happened before this request and took none of its
/// time: 0, whatever small figure libcurl measured.
fn timings(easy: &Easy2<Collector>, https: bool) -> Timings {
    let total = time_info(easy, CURLINFO_TOTAL_TIME_T).max(0);
    let phase = |info| match time_info(easy, info) {
        t if t > 0 => t.min(total),
        _ => -1,
    };
    let first_byte = phase(CURLINFO_STARTTRANSFER_TIME_T);
    let connected = first_byte >= 0 || has_peer(easy);
    let reused = connected && long_info(easy, CURLINFO_NUM_CONNECTS) == 0;
    let (dns, connect, tls) = if reused {
        (0, 0, if https { 0 } else { -1 })
    } else {
        let tls = if https {
            phase(CURLINFO_APPCONNECT_TIME_T)
        } else {
            -1
        };
        let connect = match phase(CURLINFO_CONNECT_TIME_T) {
            -1 if connected => 0,
            t => t,
        };
        let dns = match phase(CURLINFO_NAMELOOKUP_TIME_T) {
            -1 if connect >= 0 => 0,
            t => t,
        };
        (dns, connect, tls)
    };
    // Cumulative: no phase ends before an earlier one.
    let dns_end = dns.max(0);
    let connect = if connect >= 0 {
        connect.max(dns_end)
    } else {
        connect
    };
    let tls = if tls >= 0 {
        tls.max(connect.max(dns_end))
    } else {
        tls
    };
    let before_first = tls.max(connect).max(dns_end);
    let first_byte = if first_byte >= 0 {
        first_byte.max(before_first)
    } else {
        first_byte
    };
    Timings {
        dns,
        connect,
        tls,
        first_byte,
        total: total.max(first_byte).max(before_first),
    }
}

/// Turns a finished transfer into the response the callback gets, and gives
/// the handle back to `pool`. Engine thread. `easy` is `None` only when
/// libcurl refused the handle.
pub(crate) fn finish(
    easy: Option<Easy2<Collector>>,
    outcome: Outcome,
    id: RequestId,
    pool: &HandlePool<Collector>,
) -> Box<Response> {
    let Some(mut easy) = easy else {
        let detail = match outcome {
            Outcome::NotStarted(detail) => detail,
            other => format!("{other:?}"),
        };
        let failure = Failure {
            code: nethttp_result::Internal,
            detail: c_string_lossy(
                format!("libcurl could not start the transfer: {detail}").into_bytes(),
            ),
        };
        return Box::new(Response::failed(id, failure, CString::default()));
    };
    // libcurl keeps user:password in the effective URL and may quote URLs
    // (a proxy's too) in its error text: neither may show a password.
    let url = easy
        .effective_url_bytes()
        .ok()
        .flatten()
        .map(|u| c_string_lossy(crate::redact::redact_url(u).into_owned()))
        .unwrap_or_default();
    let status = easy.response_code().unwrap_or(0);
    let https = url
        .to_bytes()
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"https:"));
    let timings = timings(&easy, https);
    let collector = std::mem::take(easy.get_mut());
    let result = match outcome {
        Outcome::Completed(result) => result,
        Outcome::Cancelled | Outcome::Stopped => {
            pool.give_back(easy, collector.options_version);
            let failure = Failure {
                code: nethttp_result::Cancelled,
                detail: c_string_lossy(b"the request was cancelled".to_vec()),
            };
            return Box::new(
                Response::failed(id, failure, url)
                    .with_method(collector.method)
                    .with_timings(timings),
            );
        }
        Outcome::NotStarted(detail) => {
            pool.give_back(easy, collector.options_version);
            let failure = Failure {
                code: nethttp_result::Internal,
                detail: c_string_lossy(
                    format!("libcurl could not start the transfer: {detail}").into_bytes(),
                ),
            };
            return Box::new(Response::failed(id, failure, url).with_method(collector.method));
        }
    };
    let progress = failure::Progress {
        status_line: status != 0,
        body_started: !collector.body.is_empty(),
    };
    // Our own callbacks' refusals are mapped here, not by libcurl's code.
    let (result, own_code) = match result {
        Err(_) if collector.body_too_large => (
            Err(curl::Error::new(curl_sys::CURLE_FILESIZE_EXCEEDED)),
            Some(nethttp_result::BodyTooLarge),
        ),
        Err(_) if collector.out_of_memory => (
            Err(curl::Error::new(curl_sys::CURLE_OUT_OF_MEMORY)),
            Some(nethttp_result::OutOfMemory),
        ),
        // libcurl takes any number after "HTTP/2 " as the status ("HTTP/2 0",
        // "HTTP/2 -5"): not HTTP, and a success with status 0 would read as
        // a failure in C. Found by fuzz/targets/fuzz_response.c.
        Ok(()) if !(100..=999).contains(&status) => {
            // CURLE_WEIRD_SERVER_REPLY (8), by its old name in curl-sys.
            let mut error = curl::Error::new(curl_sys::CURLE_FTP_WEIRD_SERVER_REPLY);
            error.set_extra(format!(
                "the status line has no valid status code ({status})"
            ));
            (Err(error), Some(nethttp_result::ProtocolError))
        }
        other => (other, None),
    };
    pool.give_back(easy, collector.options_version);
    let response = match result {
        Ok(()) => Response::success(
            id,
            status as i32,
            LazyHeaders::new(collector.raw_headers),
            collector.body,
            url,
        ),
        Err(error) => Response::failed(
            id,
            Failure {
                code: own_code.unwrap_or_else(|| failure::classify(&error, progress)),
                detail: c_string_lossy(
                    crate::redact::redact_text(&failure::detail(&error))
                        .into_owned()
                        .into_bytes(),
                ),
            },
            url,
        ),
    };
    Box::new(response.with_method(collector.method).with_timings(timings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_lengths_reserve_at_most_the_cap() {
        let mut collector = Collector::default();
        collector.add_header_line(b"Content-Length: 99999999999999\r\n");
        assert!(collector.body.capacity() <= (16 << 20) + 1);
        collector.add_header_line(b"Content-Length: not-a-number\r\n");
        let mut small = Collector::default();
        small.add_header_line(b"content-length: 64\r\n");
        assert!(small.body.capacity() >= 65);
    }

    #[test]
    fn header_lines_are_parsed_and_a_new_status_line_starts_over() {
        let mut collector = Collector::default();
        collector.add_header_line(b"HTTP/1.1 100 Continue\r\n");
        collector.add_header_line(b"X-Early: 1\r\n");
        collector.add_header_line(b"HTTP/1.1 200 OK\r\n");
        collector.add_header_line(b"Content-Type:  text/plain \r\n");
        collector.add_header_line(b"X-Folded: a\r\n");
        collector.add_header_line(b"\t b\r\n");
        collector.add_header_line(b"\r\n");
        let headers = crate::headers::HeaderBlock::parse(&collector.raw_headers);
        assert_eq!(headers.len(), 2);
        assert!(headers.find(b"x-early").is_none());
        assert_eq!(
            headers.find(b"content-type").unwrap().to_bytes(),
            b"text/plain"
        );
        assert_eq!(headers.find(b"X-Folded").unwrap().to_bytes(), b"a b");
    }

    #[test]
    fn max_body_stops_the_write() {
        let mut collector = Collector {
            max_body: Some(4),
            ..Collector::default()
        };
        assert_eq!(collector.write(b"abcd").ok(), Some(4));
        assert_eq!(collector.write(b"e").ok(), Some(0));
        assert!(collector.body_too_large);
    }
}
