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
use crate::follow;
use crate::headers::LazyHeaders;
use crate::id::RequestId;
use crate::libcurl_bugs;
use crate::options::{CaSource, HeaderValue, HttpVersion, Options};
use crate::pool::HandlePool;
use crate::response::{Failure, Hops, Response, Timings};
use crate::shared_headers::{self, USER_AGENT_LINE};
use crate::stream::{BodyStream, ChunkTarget, ChunkVerdict};
use crate::transport::{self, Proxy, TlsVersion};
use crate::url_cache::{ParsedUrl, UrlCache};
use std::sync::Arc;

/// Sent unless the caller sets its own User-Agent.
pub const USER_AGENT: &str = concat!("nethttp/", env!("CARGO_PKG_VERSION"));
/// libcurl's receive buffer for a streamed response body.
const STREAM_BUFFER_SIZE: usize = 64 << 10;
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
    method: Method,
    /// The URL given to libcurl with CURLOPT_CURLU, alive while it may read it.
    url: Option<Arc<ParsedUrl>>,
    /// Where a streamed body goes (the data callback); `None`: collected.
    target: Option<Box<dyn ChunkTarget>>,
    /// The head handed to the data callback, made at the body's first chunk.
    head: Option<Arc<Response>>,
    /// Bytes at the start of the next write that were delivered already:
    /// after a pause libcurl hands the paused chunk over again.
    skip: usize,
    /// Status and version from the status line of the response coming in.
    status: i32,
    saw_status_line: bool,
    http_version: i32,
    /// This response is a redirect or a retry that will be followed: its
    /// body is nobody's.
    discard_body: bool,
    /// What the response calls for, decided at the end of its headers.
    plan: Option<Plan>,
    /// What may be followed, and what was.
    policy: Policy,
    /// A data or read callback asked to abort (or misbehaved): why.
    aborted: Option<&'static str>,
    /// The body read as it is sent.
    upload: Option<Upload>,
    /// The request body libcurl sends from (CURLOPT_POSTFIELDS, not copied).
    post_body: Option<Arc<[u8]>>,
    /// Reading the body file failed: the message.
    file_error: Option<String>,
    /// The request this transfer is for (the head's `nethttp_response_request`).
    request: RequestId,
    /// The client's spare body buffer (see `body_cache`).
    bodies: Option<Arc<crate::body_cache::BodyCache>>,
}

/// The method a request sends. Empty by default, and borrowed: a `Cow`'s
/// own default is an allocated empty string, and a collector is made for
/// every request.
struct Method(Cow<'static, CStr>);

impl Default for Method {
    fn default() -> Method {
        Method(Cow::Borrowed(c""))
    }
}

/// A streamed request body being sent.
enum Upload {
    Reader(crate::stream::BodyReader),
    File(std::fs::File, std::path::PathBuf),
}

/// Redirects and retries: what the options allow, and what happened so far.
#[derive(Clone, Copy, Default)]
pub(crate) struct Policy {
    pub max_redirects: u32,
    pub max_retries: u32,
    pub retry_base: std::time::Duration,
    /// The method may be sent again (idempotent, and its body can be resent).
    pub retryable: bool,
    pub hops: Hops,
}

/// What a response calls for, beyond being delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Follow this Location (as sent; resolved against the hop's URL).
    Redirect { location: String, status: i32 },
    /// A redirect past the number allowed.
    TooManyRedirects,
    /// Send the request again after this long.
    Retry(std::time::Duration),
}

impl Collector {
    /// The URL of this hop, as given ("" before `prepare` set it).
    fn url_text(&self) -> &str {
        self.url.as_deref().map_or("", ParsedUrl::as_str)
    }

    fn add_header_line(&mut self, line: &[u8]) {
        const CONTENT_LENGTH: &[u8] = b"content-length:";
        if line.starts_with(b"HTTP/") {
            // A new response (after 1xx or a followed redirect) replaces the last one's headers.
            self.raw_headers.clear();
            self.read_status_line(line);
            return;
        }
        if line == b"\r\n" || line == b"\n" {
            self.end_of_headers();
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

/// The status code of a status line's second word ("200", "200\r\n").
fn status_code(word: &[u8]) -> Option<i32> {
    match word.trim_ascii() {
        // Three digits, as libcurl requires of a status line: no UTF-8
        // check nor general parse needed.
        &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
            Some(i32::from(a - b'0') * 100 + i32::from(b - b'0') * 10 + i32::from(c - b'0'))
        }
        _ => std::str::from_utf8(word).ok()?.trim().parse().ok(),
    }
}

impl Collector {
    /// "HTTP/1.1 200 OK", "HTTP/2 200": the status and the version.
    fn read_status_line(&mut self, line: &[u8]) {
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        self.http_version = match words.next() {
            Some(b"HTTP/1.0") => 10,
            Some(b"HTTP/1.1") => 11,
            Some(b"HTTP/2") | Some(b"HTTP/2.0") => 20,
            Some(b"HTTP/3") => 30,
            _ => 0,
        };
        self.status = words.next().and_then(status_code).unwrap_or(0);
        self.saw_status_line = true;
        self.discard_body = false;
        self.plan = None;
    }

    /// A final response's headers are in: decide whether it is followed.
    fn end_of_headers(&mut self) {
        if self.status < 200 {
            return; // 1xx: the real response follows
        }
        let policy = self.policy;
        let plan = if follow::is_redirect(self.status) && policy.max_redirects > 0 {
            let headers = crate::headers::HeaderBlock::parse(&self.raw_headers);
            headers.find(b"location").map(|location| {
                if policy.hops.redirects >= policy.max_redirects {
                    Plan::TooManyRedirects
                } else {
                    Plan::Redirect {
                        location: location.to_string_lossy().into_owned(),
                        status: self.status,
                    }
                }
            })
        } else if follow::is_retry_status(self.status)
            && policy.retryable
            && policy.hops.retries < policy.max_retries
        {
            let headers = crate::headers::HeaderBlock::parse(&self.raw_headers);
            let backoff = follow::backoff(
                policy.retry_base,
                policy.hops.retries,
                follow::jitter_seed(self.request.0),
            );
            match headers.find(b"retry-after") {
                Some(value) => {
                    match follow::parse_retry_after(value.to_bytes(), std::time::SystemTime::now())
                    {
                        Some(wait) if wait <= follow::MAX_RETRY_AFTER => Some(Plan::Retry(wait)),
                        Some(_) => None, // longer than we wait: deliver the status
                        None => Some(Plan::Retry(backoff)),
                    }
                }
                None => Some(Plan::Retry(backoff)),
            }
        } else {
            None
        };
        self.discard_body = plan.is_some();
        self.plan = plan;
    }

    /// The head the data callback gets: status, headers, URL, no body.
    fn head(&mut self) -> &Arc<Response> {
        if self.head.is_none() {
            let url =
                c_string_lossy(crate::redact::redact_url(self.url_text().as_bytes()).into_owned());
            let head = Response::success(
                self.request,
                self.status,
                LazyHeaders::new(self.raw_headers.clone()),
                Vec::new(),
                url,
            )
            .with_method(self.method.0.clone())
            .with_hops(self.policy.hops)
            .with_http_version(self.http_version);
            self.head = Some(Arc::new(head));
        }
        self.head.as_ref().expect("made above")
    }

    /// Hands a chunk to the data callback; what libcurl's write callback returns.
    fn stream_chunk(&mut self, data: &[u8]) -> Result<usize, WriteError> {
        let whole = data.len();
        let fresh = &data[self.skip.min(whole)..];
        self.skip -= whole - fresh.len();
        if fresh.is_empty() {
            return Ok(whole);
        }
        let head = Arc::clone(self.head());
        let Some(target) = self.target.as_mut() else {
            return Ok(0);
        };
        match target.chunk(fresh, &head) {
            ChunkVerdict::Continue => Ok(whole),
            ChunkVerdict::Pause => {
                // libcurl keeps what a paused write was given and hands it
                // over again on resume: all of it was taken already.
                self.skip = whole;
                Err(WriteError::Pause)
            }
            ChunkVerdict::Abort => {
                self.aborted = Some("the data callback aborted the transfer");
                Ok(0)
            }
        }
    }

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
            if self.target.is_some() {
                return; // streamed: nothing is collected
            }
            if self.body.is_empty() {
                // A spare buffer of the client, already mapped, if it fits
                // the announced body (and the NUL after it).
                let wanted = self
                    .max_body
                    .map_or(length, |max| {
                        length.min(max.min(usize::MAX as u64) as usize)
                    })
                    .saturating_add(1);
                if let Some(buffer) = self.bodies.as_ref().and_then(|b| b.take(wanted)) {
                    self.body = buffer;
                    return;
                }
            }
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
        if self.discard_body {
            return Ok(data.len());
        }
        if self.target.is_some() {
            return catch_unwind(AssertUnwindSafe(|| self.stream_chunk(data))).unwrap_or(Ok(0));
        }
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

    fn read(&mut self, buffer: &mut [u8]) -> Result<usize, curl::easy::ReadError> {
        catch_unwind(AssertUnwindSafe(|| self.read_body(buffer)))
            .unwrap_or(Err(curl::easy::ReadError::Abort))
    }

    fn seek(&mut self, whence: std::io::SeekFrom) -> curl::easy::SeekResult {
        use std::io::Seek;
        match &mut self.upload {
            // libcurl rewinds to send the body again (a reused connection
            // that turned out dead); a file can be read again.
            Some(Upload::File(file, _)) => match file.seek(whence) {
                Ok(_) => curl::easy::SeekResult::Ok,
                Err(_) => curl::easy::SeekResult::Fail,
            },
            _ => curl::easy::SeekResult::CantSeek,
        }
    }
}

impl Collector {
    fn read_body(&mut self, buffer: &mut [u8]) -> Result<usize, curl::easy::ReadError> {
        use std::io::Read;
        match &mut self.upload {
            None => Ok(0),
            Some(Upload::Reader(read)) => match read(buffer) {
                Some(n) if n <= buffer.len() => Ok(n),
                Some(_) => {
                    self.aborted =
                        Some("the read callback returned more bytes than the buffer holds");
                    Err(curl::easy::ReadError::Abort)
                }
                None => {
                    self.aborted = Some("the read callback aborted the transfer");
                    Err(curl::easy::ReadError::Abort)
                }
            },
            Some(Upload::File(file, path)) => loop {
                match file.read(buffer) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.file_error = Some(format!("cannot read {}: {e}", path.display()));
                        return Err(curl::easy::ReadError::Abort);
                    }
                }
            },
        }
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

/// A libcurl setopt result as a setup error.
fn setopt_result(code: curl_sys::CURLcode) -> Result<(), Error> {
    if code == curl_sys::CURLE_OK {
        Ok(())
    } else {
        Err(setup_error(curl::Error::new(code)))
    }
}

/// POSTFIELDSIZE_LARGE and POSTFIELDS (not copied): `body` must outlive the
/// transfer, which the collector sees to.
fn set_post_fields(easy: &Easy2<Collector>, body: &Arc<[u8]>) -> Result<(), Error> {
    // SAFETY: live handle; an off_t option, then a pointer libcurl reads
    // while the transfer runs (the size first: without it libcurl would
    // take the length of a C string).
    let code = unsafe {
        match curl_sys::curl_easy_setopt(
            easy.raw(),
            curl_sys::CURLOPT_POSTFIELDSIZE_LARGE,
            body.len() as curl_sys::curl_off_t,
        ) {
            curl_sys::CURLE_OK => curl_sys::curl_easy_setopt(
                easy.raw(),
                curl_sys::CURLOPT_POSTFIELDS,
                body.as_ptr().cast::<libc::c_void>(),
            ),
            code => code,
        }
    };
    setopt_result(code)
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
///
/// The bit masks first: libcurl 7.85 deprecated them for the `_STR` options
/// but still honours them, and a mask costs a store where a name list is
/// parsed and looked up in libcurl's scheme table on every handle (about
/// 1,000 instructions each with libcurl 7.88). The names only where a
/// libcurl refuses the masks.
fn restrict_protocols(easy: &Easy2<Collector>) -> Result<(), Error> {
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
        return Ok(());
    }
    let http_https = c"http,https";
    let by_name = set_str_option(easy, CURLOPT_PROTOCOLS_STR, http_https) == curl_sys::CURLE_OK
        && set_str_option(easy, CURLOPT_REDIR_PROTOCOLS_STR, http_https) == curl_sys::CURLE_OK;
    if by_name {
        Ok(())
    } else {
        Err(Error::new(
            nethttp_result::Internal,
            "libcurl refused to restrict protocols to http and https",
        ))
    }
}

/// Whether nethttp sends its own Accept-Encoding line (and libcurl decodes).
fn sends_accept_encoding(options: &Options) -> bool {
    options.decompress()
        && options.header("Accept-Encoding").is_none()
        && !crate::transport::content_encodings().is_empty()
}

/// The header list: the caller's headers, then the defaults they did not
/// override; `None` when there is nothing to send beyond libcurl's own.
fn header_list(options: &Options, cookie: Option<&str>) -> Result<Option<List>, curl::Error> {
    let mut list = List::new();
    if options.header("User-Agent").is_none() {
        list.append(USER_AGENT_LINE)?;
    }
    // Our own line when libcurl decodes: it would format its
    // Accept-Encoding line anew for every transfer; given a line, it sends
    // that one and still decodes.
    if sends_accept_encoding(options) {
        list.append(crate::transport::accept_encoding_line())?;
    }
    for (name, value) in options.headers() {
        // The jar's cookies go after those the caller set, in one line.
        if let (Some(jar), HeaderValue::Send(own)) = (cookie, value) {
            if name.eq_ignore_ascii_case("Cookie") && !own.trim().is_empty() {
                list.append(&format!("{name}: {own}; {jar}"))?;
                continue;
            }
        }
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
    if let (Some(jar), None) = (cookie, options.header("Cookie")) {
        list.append(&format!("Cookie: {jar}"))?;
    }
    if options.has_body() {
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
        None if options.has_body() => Cow::Borrowed(c"POST"),
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

/// What a request's transfer draws on besides its options: the client's
/// handle pool, parsed URLs and cookie jar.
pub(crate) struct Resources<'a> {
    pub pool: &'a HandlePool<Collector>,
    pub urls: &'a UrlCache,
    pub cookies: Option<&'a crate::cookie_jar::CookieJar>,
    pub bodies: &'a Arc<crate::body_cache::BodyCache>,
}

/// Opens the body file of a request, with its length.
fn open_body_file(path: &std::path::Path) -> Result<(std::fs::File, u64), Error> {
    let fail = |e: std::io::Error| {
        Error::new(
            nethttp_result::FileError,
            format!("cannot read the body file {}: {e}", path.display()),
        )
    };
    let file = std::fs::File::open(path).map_err(fail)?;
    let metadata = file.metadata().map_err(fail)?;
    if !metadata.is_file() {
        return Err(Error::new(
            nethttp_result::FileError,
            format!("the body file {} is not a regular file", path.display()),
        ));
    }
    Ok((file, metadata.len()))
}

/// Builds the easy handle for a request. Runs on the caller's thread (or
/// on the engine thread for a redirect or a retry).
pub(crate) fn prepare(
    url: &str,
    options: &Options,
    resources: &Resources<'_>,
) -> Result<Easy2<Collector>, Error> {
    let method = method_of(options)?;
    let parsed = resources.urls.get(url)?;
    // A file is opened now, so that a missing one fails the call.
    let (upload, upload_length) = match options.body_stream() {
        Some(BodyStream::File(path)) => {
            let (file, length) = open_body_file(path)?;
            (Some(Upload::File(file, path.clone())), Some(length))
        }
        Some(BodyStream::Reader { read, length }) => {
            (Some(Upload::Reader(std::sync::Arc::clone(read))), *length)
        }
        None => (None, None),
    };
    let (mut easy, configured) = libcurl_bugs::or_out_of_memory("an easy handle", || {
        resources.pool.take(options.version())
    })?;
    let streamed = options.data_sink().is_some();
    let collector = easy.get_mut();
    // A streamed body has no size limit of ours: nothing is held.
    collector.max_body = if streamed { None } else { options.max_body() };
    collector.options_version = options.version();
    collector.method = Method(method);
    collector.upload = upload;
    if collector.bodies.is_none() {
        collector.bodies = Some(Arc::clone(resources.bodies));
    }
    let retry = options.retry();
    collector.policy = Policy {
        max_redirects: options.max_redirects(),
        max_retries: retry.map_or(0, |r| r.max_retries),
        retry_base: retry.map_or(std::time::Duration::ZERO, |r| r.base),
        retryable: follow::is_idempotent(collector.method.0.to_bytes())
            && !matches!(options.body_stream(), Some(BodyStream::Reader { .. })),
        hops: Hops::default(),
    };
    // Both the string and the parsed URL: libcurl 7.x then neither parses
    // the string nor formats one from the handle (it does when either is
    // missing); 8.x formats the string from the handle but still skips the
    // parse.
    setopt_result(set_str_option(&easy, curl_sys::CURLOPT_URL, parsed.text()))?;
    // SAFETY: live handle; the transfer keeps `parsed` alive (in the
    // collector) for as long as libcurl may read it.
    let code = unsafe { curl_sys::curl_easy_setopt(easy.raw(), CURLOPT_CURLU, parsed.raw()) };
    if code != curl_sys::CURLE_OK {
        return Err(setup_error(curl::Error::new(code)));
    }
    easy.get_mut().url = Some(parsed);
    // A body in memory is sent from the options' shared bytes, kept alive by
    // the collector for the transfer: libcurl makes no copy of its own. Set
    // for every request, pooled handle or not, so that libcurl never points
    // at bytes the collector no longer holds.
    if let Some(body) = options.shared_body() {
        set_post_fields(&easy, body)?;
        easy.get_mut().post_body = Some(Arc::clone(body));
    } else {
        easy.get_mut().post_body = None;
    }
    let cookie = resources
        .cookies
        .and_then(|jar| jar.header(&cookie_url(url)?, std::time::SystemTime::now()));
    // With a cookie jar the header list changes from request to request.
    if configured && resources.cookies.is_none() {
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
    // Redirects are followed by the client (`follow`), hop by hop.
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
    // libcurl decodes only when it asked for an encoding itself; a caller's
    // own Accept-Encoding gets the bytes as sent.
    let decoding = sends_accept_encoding(options);
    if decoding {
        // The encodings by name, not "": libcurl would build that list
        // anew for every handle.
        setopt_result(set_str_option(
            &easy,
            curl_sys::CURLOPT_ACCEPT_ENCODING,
            crate::transport::content_encodings_c(),
        ))?;
    }
    if streamed {
        // A streamed body is typically large: libcurl reads 64 KiB per
        // receive instead of its 16 KiB, a quarter of the system calls and
        // callbacks (a 64 MiB download took about 30 % less CPU time). Only
        // pages that data reaches are touched, so a quiet stream costs no
        // more memory.
        easy.buffer_size(STREAM_BUFFER_SIZE).map_err(setup_error)?;
    }
    if let (Some(max_body), false, false) = (options.max_body(), streamed, decoding) {
        // Refuses an announced Content-Length early; the collector checks
        // the rest. Not when decoding: the limit counts decoded bytes.
        easy.max_filesize(max_body).map_err(setup_error)?;
    }
    if let Some((bytes_per_second, seconds)) = options.low_speed() {
        easy.low_speed_limit(bytes_per_second)
            .map_err(setup_error)?;
        easy.low_speed_time(std::time::Duration::from_secs(seconds.into()))
            .map_err(setup_error)?;
    }
    set_http_version(&mut easy, options.http_version(), url)?;
    set_transport(&mut easy, options)?;
    if options.body().is_some() {
        // The bytes themselves were set above (`set_post_fields`).
        easy.post(true).map_err(setup_error)?;
    } else if options.body_stream().is_some() {
        // Read through `Handler::read`; an unknown length (-1) goes chunked
        // on HTTP/1.1.
        easy.post(true).map_err(setup_error)?;
        let length = upload_length.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        // SAFETY: live handle; an off_t option.
        let code = unsafe {
            curl_sys::curl_easy_setopt(
                easy.raw(),
                curl_sys::CURLOPT_POSTFIELDSIZE_LARGE,
                length as curl_sys::curl_off_t,
            )
        };
        if code != curl_sys::CURLE_OK {
            return Err(setup_error(curl::Error::new(code)));
        }
    }
    match options.method() {
        // HEAD through CUSTOMREQUEST would wait for a body that never comes.
        // Methods are case-sensitive: "head" is another method, sent as given.
        Some("HEAD") => easy.nobody(true).map_err(setup_error)?,
        Some("GET") if !options.has_body() => {}
        // An empty body, so libcurl sends "Content-Length: 0" instead of reading stdin.
        Some("POST") if !options.has_body() => easy.post_fields_copy(&[]).map_err(setup_error)?,
        Some("POST") => {}
        Some(method) => easy.custom_request(method).map_err(setup_error)?,
        None => {}
    }
    // A request with no header, cookie or body of its own sends the same
    // lines as every other such request: the list is shared.
    let shared = (options.headers().is_empty() && cookie.is_none() && !options.has_body())
        .then(|| shared_headers::list(sends_accept_encoding(options)))
        .flatten();
    if let Some(shared) = shared {
        // SAFETY: live handle; the shared list lives as long as the process.
        setopt_result(unsafe {
            curl_sys::curl_easy_setopt(easy.raw(), curl_sys::CURLOPT_HTTPHEADER, shared)
        })?;
        return Ok(easy);
    }
    let list = libcurl_bugs::or_out_of_memory("the header list", || {
        header_list(options, cookie.as_deref())
    })?;
    if let Some(list) = list.map_err(setup_error)? {
        easy.http_headers(list).map_err(setup_error)?;
    }
    Ok(easy)
}

// CURL_HTTP_VERSION_* values.
const CURL_HTTP_VERSION_1_1: libc::c_long = 2;
const CURL_HTTP_VERSION_2_0: libc::c_long = 3;
const CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE: libc::c_long = 5;

/// The HTTP version asked for, and PIPEWAIT where HTTP/2 may be spoken: a
/// new transfer then waits for a connection being set up to say whether it
/// multiplexes, instead of opening one of its own beside it.
fn set_http_version(
    easy: &mut Easy2<Collector>,
    version: HttpVersion,
    url: &str,
) -> Result<(), Error> {
    let https = url
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("https:"));
    let (value, may_multiplex) = match version {
        // libcurl's default: HTTP/2 over TLS when ALPN picks it (7.62).
        HttpVersion::Default => (None, https),
        HttpVersion::Http11 => (Some(CURL_HTTP_VERSION_1_1), false),
        HttpVersion::Http2 => (Some(CURL_HTTP_VERSION_2_0), true),
        HttpVersion::Http2PriorKnowledge => (Some(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE), true),
    };
    if let Some(value) = value {
        // SAFETY: live handle; a long option.
        let code = unsafe {
            curl_sys::curl_easy_setopt(easy.raw(), curl_sys::CURLOPT_HTTP_VERSION, value)
        };
        if code != curl_sys::CURLE_OK {
            return Err(Error::new(
                nethttp_result::InvalidArgument,
                "the HTTP version asked for is not supported by this libcurl (HTTP/2 needs nghttp2: see nethttp_features())",
            ));
        }
    }
    if version == HttpVersion::Http2PriorKnowledge && !libcurl_bugs::prior_knowledge_reuse_is_safe()
    {
        // Closed after the transfer: see libcurl_bugs.
        easy.forbid_reuse(true).map_err(setup_error)?;
    }
    if may_multiplex && crate::transport::has_http2() {
        easy.pipewait(true).map_err(setup_error)?;
    }
    Ok(())
}

/// `c_string_lossy` of a copy of `bytes`, made in one allocation of the
/// final size (room for the NUL included).
fn c_string_copy(bytes: &[u8]) -> CString {
    let mut copy = Vec::with_capacity(bytes.len() + 1);
    copy.extend_from_slice(bytes);
    c_string_lossy(copy)
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
const CURLINFO_HTTP_VERSION: curl_sys::CURLINFO = curl_sys::CURLINFO_LONG + 46;

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
fn timings(easy: &Easy2<Collector>, https: bool, connect_failed: bool) -> Timings {
    let total = time_info(easy, CURLINFO_TOTAL_TIME_T).max(0);
    let phase = |info| match time_info(easy, info) {
        t if t > 0 => t.min(total),
        _ => -1,
    };
    if connect_failed {
        // libcurl 8 reports phase times of a connection that was refused.
        let dns = phase(CURLINFO_NAMELOOKUP_TIME_T);
        return Timings {
            dns,
            connect: -1,
            tls: -1,
            first_byte: -1,
            total: total.max(dns),
        };
    }
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

/// What the cookie jar needs of a URL.
fn cookie_url(url: &str) -> Option<crate::cookie_jar::CookieUrl> {
    let (scheme, host, path) = crate::url_cache::scheme_host_path(url)?;
    Some(crate::cookie_jar::CookieUrl {
        https: scheme == "https",
        host,
        path,
    })
}

/// Stores the cookies the response of a finished transfer set.
pub(crate) fn store_cookies(easy: &Easy2<Collector>, jar: &crate::cookie_jar::CookieJar) {
    let collector = easy.get_ref();
    const SET_COOKIE: &[u8] = b"set-cookie:";
    let has_any = collector
        .raw_headers
        .windows(SET_COOKIE.len())
        .any(|w| w.eq_ignore_ascii_case(SET_COOKIE));
    if !has_any {
        return;
    }
    let Some(url) = cookie_url(collector.url_text()) else {
        return;
    };
    let headers = crate::headers::HeaderBlock::parse(&collector.raw_headers);
    let values = headers
        .iter()
        .filter(|(name, _)| name.to_bytes().eq_ignore_ascii_case(b"set-cookie"))
        .map(|(_, value)| value.to_bytes());
    jar.store(&url, values, std::time::SystemTime::now());
}

/// Streams the response body of a prepared transfer to `target`.
pub(crate) fn stream_to(easy: &mut Easy2<Collector>, target: Box<dyn ChunkTarget>) {
    easy.get_mut().target = Some(target);
}

/// Names the request a prepared transfer is for.
pub(crate) fn set_request(easy: &mut Easy2<Collector>, id: RequestId) {
    easy.get_mut().request = id;
}

/// What a finished transfer calls for before its response is delivered:
/// a redirect to follow or a retry. `None`: deliver.
pub(crate) fn follow_up(easy: Option<&Easy2<Collector>>, outcome: &Outcome) -> Option<Plan> {
    let collector = easy?.get_ref();
    if collector.aborted.is_some() || collector.file_error.is_some() {
        return None;
    }
    match outcome {
        Outcome::Completed(Ok(())) => match &collector.plan {
            Some(Plan::TooManyRedirects) | None => None,
            Some(plan) => Some(plan.clone()),
        },
        Outcome::Completed(Err(error)) => {
            let policy = collector.policy;
            let before_response = collector.status == 0;
            (before_response
                && policy.retryable
                && policy.hops.retries < policy.max_retries
                && follow::is_retryable_failure(error.code()))
            .then(|| {
                Plan::Retry(follow::backoff(
                    policy.retry_base,
                    policy.hops.retries,
                    follow::jitter_seed(collector.request.0),
                ))
            })
        }
        _ => None,
    }
}

/// The URL and method a finished hop was sent with.
pub(crate) fn hop_of(easy: &Easy2<Collector>) -> (&str, &[u8]) {
    let collector = easy.get_ref();
    (collector.url_text(), collector.method.0.to_bytes())
}

/// Moves what outlives a hop (data target, request, counts so far) from a
/// finished transfer to the one that follows it, then gives the finished
/// handle back to the pool.
pub(crate) fn hand_over(
    mut from: Easy2<Collector>,
    to: &mut Easy2<Collector>,
    hops: Hops,
    pool: &HandlePool<Collector>,
) {
    let old = std::mem::take(from.get_mut());
    let next = to.get_mut();
    next.target = old.target;
    next.request = old.request;
    next.policy.hops = hops;
    pool.give_back(from, old.options_version);
}

/// The hops counted by a transfer.
pub(crate) fn hops_of(easy: &Easy2<Collector>) -> Hops {
    easy.get_ref().policy.hops
}

/// Turns a finished transfer into the response the callback gets, and gives
/// the handle back to `pool`. Engine thread. `easy` is `None` only when
/// libcurl refused the handle. `failure`, when given, is the request's
/// outcome instead of the transfer's (a redirect that cannot be followed).
pub(crate) fn finish(
    easy: Option<Easy2<Collector>>,
    outcome: Outcome,
    id: RequestId,
    pool: &HandlePool<Collector>,
    failure: Option<Error>,
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
        .map(|u| match crate::redact::redact_url(u) {
            std::borrow::Cow::Borrowed(u) => c_string_copy(u),
            std::borrow::Cow::Owned(u) => c_string_lossy(u),
        })
        .unwrap_or_default();
    let status = easy.response_code().unwrap_or(0);
    let https = url
        .to_bytes()
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"https:"));
    let connect_failed = matches!(
        &outcome,
        Outcome::Completed(Err(e)) if e.is_couldnt_connect()
    );
    let timings = timings(&easy, https, connect_failed);
    let collector = std::mem::take(easy.get_mut());
    let hops = collector.policy.hops;
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
                    .with_method(collector.method.0)
                    .with_timings(timings)
                    .with_hops(hops),
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
            return Box::new(
                Response::failed(id, failure, url)
                    .with_method(collector.method.0)
                    .with_hops(hops),
            );
        }
    };
    let progress = failure::Progress {
        status_line: status != 0,
        body_started: !collector.body.is_empty() || collector.head.is_some(),
    };
    let too_many = || {
        let mut error = curl::Error::new(curl_sys::CURLE_TOO_MANY_REDIRECTS);
        error.set_extra(format!(
            "a redirect came after the {} allowed (nethttp_options_set_max_redirects())",
            collector.policy.max_redirects
        ));
        error
    };
    // Our own callbacks' refusals are mapped here, not by libcurl's code.
    let (result, own_code) = match result {
        _ if failure.is_some() => {
            let failure = failure.as_ref().expect("checked");
            let mut error = curl::Error::new(curl_sys::CURLE_ABORTED_BY_CALLBACK);
            error.set_extra(failure.message.clone());
            (Err(error), Some(failure.code))
        }
        Err(_) if collector.aborted.is_some() => {
            let mut error = curl::Error::new(curl_sys::CURLE_ABORTED_BY_CALLBACK);
            error.set_extra(collector.aborted.unwrap_or_default().to_string());
            (Err(error), Some(nethttp_result::Aborted))
        }
        Err(_) if collector.file_error.is_some() => {
            let mut error = curl::Error::new(curl_sys::CURLE_READ_ERROR);
            error.set_extra(collector.file_error.clone().unwrap_or_default());
            (Err(error), Some(nethttp_result::FileError))
        }
        Err(_) if collector.body_too_large => (
            Err(curl::Error::new(curl_sys::CURLE_FILESIZE_EXCEEDED)),
            Some(nethttp_result::BodyTooLarge),
        ),
        Err(_) if collector.out_of_memory => (
            Err(curl::Error::new(curl_sys::CURLE_OUT_OF_MEMORY)),
            Some(nethttp_result::OutOfMemory),
        ),
        Ok(()) if collector.plan == Some(Plan::TooManyRedirects) => {
            (Err(too_many()), Some(nethttp_result::TooManyRedirects))
        }
        // libcurl takes any number after "HTTP/2 " as the status ("HTTP/2 0",
        // "HTTP/2 -5"): not HTTP, and a success with status 0 would read as
        // a failure in C. Found by fuzz/targets/fuzz_response.c.
        Ok(())
            if !(100..=999).contains(&status)
                || (collector.saw_status_line && !(100..=999).contains(&collector.status)) =>
        {
            // CURLE_WEIRD_SERVER_REPLY (8), by its old name in curl-sys.
            let mut error = curl::Error::new(curl_sys::CURLE_FTP_WEIRD_SERVER_REPLY);
            let code = if collector.saw_status_line {
                collector.status
            } else {
                status as i32
            };
            error.set_extra(format!("the status line has no valid status code ({code})"));
            (Err(error), Some(nethttp_result::ProtocolError))
        }
        other => (other, None),
    };
    let http_version = match long_info(&easy, CURLINFO_HTTP_VERSION) {
        1 => 10,
        2 => 11,
        3 => 20,
        30 => 30,
        _ => collector.http_version,
    };
    pool.give_back(easy, collector.options_version);
    let response = match result {
        Ok(()) => Response::success(
            id,
            status as i32,
            LazyHeaders::new(collector.raw_headers),
            collector.body,
            url,
        )
        .with_http_version(http_version),
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
    Box::new(
        response
            .with_method(collector.method.0)
            .with_timings(timings)
            .with_hops(hops),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_read_as_the_general_parse_would() {
        for word in [
            &b"200"[..],
            b"200\r\n",
            b"404\n",
            b" 99",
            b"1000",
            b"+200",
            b"2x0",
            b"",
            b"007",
        ] {
            let general = std::str::from_utf8(word)
                .ok()
                .and_then(|w| w.trim().parse::<i32>().ok());
            assert_eq!(
                status_code(word),
                general,
                "{:?}",
                String::from_utf8_lossy(word)
            );
        }
        assert_eq!(status_code(b"200\r\n"), Some(200));
    }

    #[test]
    fn effective_url_copies_keep_every_byte_but_nul() {
        assert_eq!(c_string_copy(b"http://h/p").as_bytes(), b"http://h/p");
        assert_eq!(c_string_copy(b"a\0b").as_bytes(), b"ab");
    }

    #[test]
    fn the_shared_list_has_the_lines_a_plain_request_would_build() {
        let lines = |list: &List| -> Vec<Vec<u8>> { list.iter().map(<[u8]>::to_vec).collect() };
        let shared_lines = |decoding: bool| -> Vec<Vec<u8>> {
            let mut out = Vec::new();
            let mut node = shared_headers::list(decoding).unwrap();
            while !node.is_null() {
                // SAFETY: the shared list, never freed.
                unsafe {
                    out.push(CStr::from_ptr((*node).data).to_bytes().to_vec());
                    node = (*node).next;
                }
            }
            out
        };
        let mut options = Options::new();
        let built = header_list(&options, None).unwrap().unwrap();
        assert_eq!(lines(&built), shared_lines(sends_accept_encoding(&options)));
        options.set_decompress(false);
        let built = header_list(&options, None).unwrap().unwrap();
        assert_eq!(lines(&built), shared_lines(false));
    }

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
