//! The outcome of one request: a response from the server, or a failure.
//! Immutable once built; the C layer hands out pointers into it.

use std::borrow::Cow;
use std::ffi::{CStr, CString};

use crate::error::nethttp_result;
use crate::headers::{HeaderBlock, LazyHeaders};
use crate::id::RequestId;

/// Why a request failed: a stable code, and libcurl's detailed message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: nethttp_result,
    pub detail: CString,
}

/// Microseconds from the start of the request to the end of each phase,
/// cumulative as libcurl's `*_TIME_T` infos; -1 where a phase did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    pub dns: i64,
    pub connect: i64,
    pub tls: i64,
    pub first_byte: i64,
    pub total: i64,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings {
            dns: -1,
            connect: -1,
            tls: -1,
            first_byte: -1,
            total: -1,
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub(crate) request: RequestId,
    pub(crate) status: i32,
    pub(crate) failure: Option<Failure>,
    pub(crate) headers: LazyHeaders,
    /// The body, or on failure the reason string, followed by one NUL that is
    /// not counted (C callers may treat a text body as a C string).
    pub(crate) body: Vec<u8>,
    pub(crate) url: CString,
    pub(crate) method: Cow<'static, CStr>,
    pub(crate) timings: Timings,
    /// How the request got here: redirects followed and retries made.
    pub(crate) hops: Hops,
    /// 10, 11, 20 or 30; 0 when no response came.
    pub(crate) http_version: i32,
}

/// Redirects followed and retries made on the way to a response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hops {
    pub redirects: u32,
    pub retries: u32,
}

fn nul_terminated(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.push(0);
    bytes
}

impl Response {
    pub(crate) fn success(
        request: RequestId,
        status: i32,
        headers: LazyHeaders,
        body: Vec<u8>,
        url: CString,
    ) -> Response {
        Response {
            request,
            status,
            failure: None,
            headers,
            body: nul_terminated(body),
            url,
            method: Cow::Borrowed(c"GET"),
            timings: Timings::default(),
            hops: Hops::default(),
            http_version: 0,
        }
    }

    /// A failed request: status 0, the reason as the body, and no headers
    /// (a partial header block is not a response).
    pub(crate) fn failed(request: RequestId, failure: Failure, url: CString) -> Response {
        Response {
            request,
            status: 0,
            body: nul_terminated(failure.code.name().to_bytes().to_vec()),
            failure: Some(failure),
            headers: LazyHeaders::default(),
            url,
            method: Cow::Borrowed(c"GET"),
            timings: Timings::default(),
            hops: Hops::default(),
            http_version: 0,
        }
    }

    pub(crate) fn with_method(mut self, method: Cow<'static, CStr>) -> Response {
        self.method = method;
        self
    }

    pub(crate) fn with_timings(mut self, timings: Timings) -> Response {
        self.timings = timings;
        self
    }

    pub(crate) fn with_hops(mut self, hops: Hops) -> Response {
        self.hops = hops;
        self
    }

    pub(crate) fn with_http_version(mut self, version: i32) -> Response {
        self.http_version = version;
        self
    }

    /// The body's buffer, for reuse (the response is gone).
    pub(crate) fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Redirects followed and retries made.
    pub fn hops(&self) -> Hops {
        self.hops
    }

    /// 10, 11, 20 or 30 for HTTP/1.0, 1.1, 2 and 3; 0 when no response came.
    pub fn http_version(&self) -> i32 {
        self.http_version
    }

    #[cfg(test)]
    pub(crate) fn for_tests(request: RequestId, status: i32, body: &[u8]) -> Response {
        Response::success(
            request,
            status,
            LazyHeaders::default(),
            body.to_vec(),
            CString::default(),
        )
    }

    /// The method that was sent, e.g. `GET`.
    pub fn method(&self) -> &CStr {
        &self.method
    }

    pub fn timings(&self) -> Timings {
        self.timings
    }

    pub fn request(&self) -> RequestId {
        self.request
    }

    /// The HTTP status, or 0 when the request failed.
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The body (on failure, the reason string), without the trailing NUL.
    pub fn body(&self) -> &[u8] {
        &self.body[..self.body.len() - 1]
    }

    /// The body followed by its NUL terminator.
    pub fn body_with_nul(&self) -> &[u8] {
        &self.body
    }

    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// The short reason string of a failure, e.g. `connection-refused`.
    pub fn error(&self) -> Option<&'static CStr> {
        self.failure.as_ref().map(|f| f.code.name())
    }

    pub fn error_code(&self) -> nethttp_result {
        self.failure.as_ref().map_or(nethttp_result::Ok, |f| f.code)
    }

    /// The headers of the (last) response, in the order received.
    pub fn headers(&self) -> &HeaderBlock {
        self.headers.get()
    }

    /// The value of the first header with this name, compared case-insensitively.
    pub fn header(&self, name: &[u8]) -> Option<&CStr> {
        self.headers().find(name)
    }

    /// The URL the response came from (after redirects, if any were followed).
    pub fn url(&self) -> &CStr {
        &self.url
    }
}
