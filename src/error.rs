//! Result codes shared by the whole C API, and the per-thread "last error" that
//! functions returning a pointer use to say why they returned NULL.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

/// Numbered results of nethttp functions.
///
/// Values are stable: a value, once published, keeps its meaning and is never
/// reused. `NETHTTP_RESULT_OK` is 0, argument errors are below 100, transfer
/// failures (reported through the response of a failed request) are 100 and
/// above. `nethttp_strerror()` gives each a short stable name.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum nethttp_result {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 1,
    /// An argument was out of its allowed range, e.g. a NULL data pointer with a
    /// non-zero length, or a string that is not valid UTF-8 where text is required.
    InvalidArgument = 2,
    /// The URL could not be parsed (no scheme, no host, a bad port, spaces or
    /// control characters).
    InvalidUrl = 3,
    /// The URL's scheme is not `http` or `https`.
    UnsupportedScheme = 4,
    /// A header name is empty or is not an HTTP token (RFC 9110 section 5.6.2).
    InvalidHeaderName = 5,
    /// A header value contains CR, LF or NUL, or is not valid UTF-8.
    InvalidHeaderValue = 6,
    /// The method is empty or is not an HTTP token.
    InvalidMethod = 7,
    /// An index was not below the number of elements.
    IndexOutOfRange = 8,
    /// Memory could not be allocated.
    OutOfMemory = 9,
    /// The function may not be called from inside a nethttp callback
    /// (for example `nethttp_shutdown()`).
    CalledFromCallback = 10,
    /// The engine thread could not be started, or it is shutting down.
    EngineUnavailable = 11,
    /// An internal error in nethttp (a bug) was caught before it could reach
    /// the caller; the operation did not happen.
    Internal = 12,
    /// The server refused the connection, or it could not be reached.
    ConnectionRefused = 100,
    /// The host name could not be resolved.
    ResolveFailed = 101,
    /// The request timed out (connect timeout or total timeout).
    Timeout = 102,
    /// The server's certificate or host name could not be verified.
    CertificateVerifyFailed = 103,
    /// The connection closed before a complete response arrived.
    ConnectionClosed = 104,
    /// The TLS handshake failed for a reason other than verification.
    TlsFailed = 105,
    /// The server sent something that is not valid HTTP: a status line that
    /// is not one, an invalid chunk size, a NUL byte in a header.
    ProtocolError = 106,
    /// The response body was larger than the limit set with
    /// `nethttp_options_set_max_body()`.
    BodyTooLarge = 107,
    /// The request was cancelled with `nethttp_request_cancel()`, or by
    /// `nethttp_client_free()` when its grace period ran out.
    Cancelled = 108,
    /// The response's header block (or one header line) was larger than
    /// libcurl accepts: over 300 KiB in all, a line over 100 KiB, or (libcurl
    /// 8) over 5,000 headers.
    HeadersTooLarge = 109,
    /// A redirect came after the number of redirects allowed with
    /// `nethttp_options_set_max_redirects()` had been followed.
    TooManyRedirects = 110,
    /// The data callback or the read callback asked to abort the transfer
    /// (or a read callback returned more bytes than the buffer holds).
    Aborted = 111,
    /// A file to send (`nethttp_options_set_body_file()`) could not be
    /// opened or read; the message names the file and the system's reason.
    FileError = 112,
    /// The request failed for another reason; the detail message says which.
    RequestFailed = 199,
    /// The server demanded a client certificate and none was sent (TLS
    /// alert `certificate_required`): set one with
    /// `nethttp_options_set_client_cert()`.
    ClientCertificateRequired = 200,
    /// The server refused the client certificate that was sent: TLS alerts
    /// such as `unknown_ca`, `bad_certificate`, `certificate_expired`,
    /// `certificate_revoked` or `access_denied`.
    ClientCertificateRejected = 201,
    /// The client certificate or its key could not be used, before anything
    /// was sent: a file is missing or unreadable, is not PEM, or the key does
    /// not belong to the certificate.
    ClientCertificateUnusable = 202,
}

impl nethttp_result {
    /// Every result, for mapping numbers back to codes.
    pub const ALL: [nethttp_result; 30] = {
        use nethttp_result::*;
        [
            Ok,
            NullArgument,
            InvalidArgument,
            InvalidUrl,
            UnsupportedScheme,
            InvalidHeaderName,
            InvalidHeaderValue,
            InvalidMethod,
            IndexOutOfRange,
            OutOfMemory,
            CalledFromCallback,
            EngineUnavailable,
            Internal,
            ConnectionRefused,
            ResolveFailed,
            Timeout,
            CertificateVerifyFailed,
            ConnectionClosed,
            TlsFailed,
            ProtocolError,
            BodyTooLarge,
            Cancelled,
            HeadersTooLarge,
            TooManyRedirects,
            Aborted,
            FileError,
            RequestFailed,
            ClientCertificateRequired,
            ClientCertificateRejected,
            ClientCertificateUnusable,
        ]
    };

    /// The result with this number, if there is one.
    pub fn from_code(code: i32) -> Option<nethttp_result> {
        Self::ALL.iter().copied().find(|r| *r as i32 == code)
    }

    /// The short, stable name of this result, as a NUL-terminated static string.
    pub fn name(self) -> &'static CStr {
        use nethttp_result::*;
        match self {
            Ok => c"ok",
            NullArgument => c"null-argument",
            InvalidArgument => c"invalid-argument",
            InvalidUrl => c"invalid-url",
            UnsupportedScheme => c"unsupported-scheme",
            InvalidHeaderName => c"invalid-header-name",
            InvalidHeaderValue => c"invalid-header-value",
            InvalidMethod => c"invalid-method",
            IndexOutOfRange => c"index-out-of-range",
            OutOfMemory => c"out-of-memory",
            CalledFromCallback => c"called-from-callback",
            EngineUnavailable => c"engine-unavailable",
            Internal => c"internal-error",
            ConnectionRefused => c"connection-refused",
            ResolveFailed => c"resolve-failed",
            Timeout => c"timeout",
            CertificateVerifyFailed => c"certificate-verify-failed",
            ConnectionClosed => c"connection-closed",
            TlsFailed => c"tls-failed",
            ProtocolError => c"protocol-error",
            BodyTooLarge => c"body-too-large",
            Cancelled => c"cancelled",
            HeadersTooLarge => c"headers-too-large",
            TooManyRedirects => c"too-many-redirects",
            Aborted => c"aborted",
            FileError => c"file-error",
            RequestFailed => c"request-failed",
            ClientCertificateRequired => c"client-certificate-required",
            ClientCertificateRejected => c"client-certificate-rejected",
            ClientCertificateUnusable => c"client-certificate-unusable",
        }
    }
}

/// An error of the safe core: a code plus a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: nethttp_result,
    pub message: String,
}

impl Error {
    pub fn new(code: nethttp_result, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.code.name().to_string_lossy(),
            self.message
        )
    }
}

impl std::error::Error for Error {}

struct LastError {
    code: nethttp_result,
    message: CString,
}

thread_local! {
    // errno-like: written by failing calls only, read right after a failure.
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        code: nethttp_result::Ok,
        message: CString::default(),
    });
}

/// Records `error` as this thread's last error and returns its code. The
/// message is stored with the password of any `user:password@` in it
/// replaced by `***` (see `redact::redact_text`), whoever wrote it.
pub fn set_last_error(error: &Error) -> nethttp_result {
    let message = crate::redact::redact_text(&error.message).replace('\0', " ");
    let message = CString::new(message).unwrap_or_default();
    // try_with: a call made while the thread's locals are being destroyed must not panic.
    let _ = LAST_ERROR.try_with(|slot| {
        *slot.borrow_mut() = LastError {
            code: error.code,
            message,
        }
    });
    error.code
}

/// The code of this thread's last error.
pub fn last_error_code() -> nethttp_result {
    LAST_ERROR
        .try_with(|slot| slot.borrow().code)
        .unwrap_or(nethttp_result::Ok)
}

/// This thread's last error message; the pointer stays valid until the next
/// failing nethttp call on this thread.
pub fn last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().message.as_ptr())
        .unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_errors_never_show_a_password() {
        set_last_error(&Error::new(
            nethttp_result::InvalidUrl,
            "bad 'http://user:secret@host'",
        ));
        let message = unsafe { CStr::from_ptr(last_error_message()) };
        assert_eq!(message.to_str(), Ok("bad 'http://user:***@host'"));
    }

    #[test]
    fn codes_map_back_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for code in nethttp_result::ALL {
            assert_eq!(nethttp_result::from_code(code as i32), Some(code));
            assert!(names.insert(code.name()), "{code:?} repeats a name");
        }
        assert_eq!(nethttp_result::from_code(12345), None);
        assert_eq!(nethttp_result::from_code(-1), None);
    }
}
