//! Maps libcurl's many error codes onto nethttp's few stable reasons.
//!
//! The mapping goes by cause, not by the name of libcurl's code: libcurl
//! reports several malformed responses under codes named for something else
//! (a garbage status line as `CURLE_UNSUPPORTED_PROTOCOL`, a bad chunk size or
//! an oversized header block as `CURLE_RECV_ERROR` on a connection that is
//! still open, an over-long header line as `CURLE_OUT_OF_MEMORY` in libcurl 7
//! and `CURLE_TOO_LARGE` in libcurl 8). So `classify` looks at the text of
//! libcurl's error buffer and at how far the transfer got, where the code
//! alone is ambiguous. Every code libcurl defines is mapped on purpose below.

use crate::error::nethttp_result;
use curl_sys::*;

// Codes that curl-sys does not name (obsolete ones it leaves out, and those
// added after the version it was written for). Values from curl/curl.h.
const CURLE_NOT_BUILT_IN: CURLcode = 4;
/// Named CURLE_FTP_WEIRD_SERVER_REPLY in curl-sys; libcurl uses it for every protocol.
const CURLE_WEIRD_SERVER_REPLY: CURLcode = CURLE_FTP_WEIRD_SERVER_REPLY;
const CURLE_FTP_ACCEPT_FAILED: CURLcode = 10;
const CURLE_FTP_ACCEPT_TIMEOUT: CURLcode = 12;
const CURLE_OBSOLETE51: CURLcode = 51;
const CURLE_AUTH_ERROR: CURLcode = 94;
const CURLE_HTTP3: CURLcode = 95;
const CURLE_QUIC_CONNECT_ERROR: CURLcode = 96;
const CURLE_PROXY: CURLcode = 97;
const CURLE_SSL_CLIENTCERT: CURLcode = 98;
const CURLE_UNRECOVERABLE_POLL: CURLcode = 99;
const CURLE_TOO_LARGE: CURLcode = 100;
const CURLE_ECH_REQUIRED: CURLcode = 101;

/// How far a transfer got before it failed, as far as nethttp saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// libcurl parsed a status line (it reports a response code).
    pub status_line: bool,
    /// Bytes of the response body arrived.
    pub body_started: bool,
}

/// True when libcurl's error text contains `needle`, ignoring ASCII case.
fn says(detail: &str, needle: &str) -> bool {
    detail
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// A TLS alert about our client certificate in libcurl's error text
/// (OpenSSL's wording: "tlsv13 alert certificate required", "sslv3 alert
/// bad certificate", "tlsv1 alert unknown ca", ...). A server sends these
/// only about the client's certificate: when nethttp refuses the server's,
/// libcurl reports a verification failure instead.
fn client_certificate_alert(detail: &str) -> Option<nethttp_result> {
    const REJECTED: [&str; 7] = [
        "alert bad certificate",
        "alert unsupported certificate",
        "alert certificate revoked",
        "alert certificate expired",
        "alert certificate unknown",
        "alert unknown ca",
        "alert access denied",
    ];
    if says(detail, "alert certificate required") {
        Some(nethttp_result::ClientCertificateRequired)
    } else if REJECTED.iter().any(|alert| says(detail, alert)) {
        Some(nethttp_result::ClientCertificateRejected)
    } else {
        None
    }
}

/// The nethttp code for a failed transfer: by libcurl's code, refined by the
/// text of its error buffer (`extra_description`) and by `progress`.
pub fn classify(error: &curl::Error, progress: Progress) -> nethttp_result {
    use nethttp_result::*;
    let detail = error.extra_description().unwrap_or("");
    match error.code() {
        // Not a failure; never reported for a failed transfer.
        CURLE_OK => RequestFailed,

        // -- Reaching the server --
        CURLE_COULDNT_RESOLVE_HOST | CURLE_COULDNT_RESOLVE_PROXY => ResolveFailed,
        // Nothing listening, unreachable, or a proxy that would not connect us.
        CURLE_COULDNT_CONNECT | CURLE_QUIC_CONNECT_ERROR | CURLE_PROXY => ConnectionRefused,
        // The connect timeout or the total timeout.
        CURLE_OPERATION_TIMEDOUT => Timeout,

        // -- The connection ending early --
        // No byte of a response; fewer body bytes than announced; a stream
        // reset by an HTTP/2 server; a body that could not be sent again on
        // a fresh connection.
        // Under TLS 1.3 a server refuses a client certificate (or its
        // absence) after the handshake, so the alert comes with a send or
        // receive error, or (TLS 1.2) with the handshake's.
        CURLE_RECV_ERROR | CURLE_SEND_ERROR | CURLE_SSL_CONNECT_ERROR
            if client_certificate_alert(detail).is_some() =>
        {
            client_certificate_alert(detail).unwrap_or(TlsFailed)
        }
        CURLE_GOT_NOTHING
        | CURLE_PARTIAL_FILE
        | CURLE_HTTP2_STREAM
        | CURLE_SEND_ERROR
        | CURLE_SEND_FAIL_REWIND => ConnectionClosed,
        // libcurl also reports malformed data it read as a receive error, on
        // a connection that is still open; only a failed read is a close.
        CURLE_RECV_ERROR => {
            if says(detail, "too large response headers") {
                HeadersTooLarge
            } else if says(detail, "chunk") || says(detail, "hexadecimal") {
                // "Illegal or missing hexadecimal sequence", "invalid chunk
                // size", "chunk hex-length ..." (libcurl 7 and 8 wordings).
                ProtocolError
            } else if says(detail, "CONNECT tunnel failed") {
                // An HTTP proxy refused to open a tunnel (libcurl 7).
                ConnectionRefused
            } else if says(detail, "alert") {
                // Another TLS alert after the handshake (client-certificate
                // alerts are mapped above).
                TlsFailed
            } else {
                ConnectionClosed
            }
        }

        // -- Responses that are not HTTP --
        // A status line that is not "HTTP/x.y NNN" ("Received HTTP/0.9 when
        // not allowed"). Any other unsupported protocol cannot come from our
        // http(s)-only URL: a proxy scheme libcurl lacks, say.
        CURLE_UNSUPPORTED_PROTOCOL if says(detail, "HTTP/0.9") => ProtocolError,
        CURLE_UNSUPPORTED_PROTOCOL => RequestFailed,
        // "Invalid status line", "Nul byte in header", "Header without colon", ...
        CURLE_WEIRD_SERVER_REPLY => ProtocolError,
        // HTTP/2 and HTTP/3 framing errors; a body in an encoding that does not decode.
        CURLE_HTTP2 | CURLE_HTTP3 | CURLE_BAD_CONTENT_ENCODING => ProtocolError,

        // -- Sizes --
        // An over-long header line: libcurl 7 says out of memory (its
        // header line buffer hit its limit) once the status line is in and
        // before the body. Our own allocation failures never get here.
        CURLE_OUT_OF_MEMORY if progress.status_line && !progress.body_started => HeadersTooLarge,
        CURLE_OUT_OF_MEMORY => OutOfMemory,
        // libcurl 8's code for a buffer at its limit: the header line buffer,
        // or the count of headers, while the head of the response is read.
        CURLE_TOO_LARGE if !progress.body_started => HeadersTooLarge,
        CURLE_TOO_LARGE => RequestFailed,
        CURLE_FILESIZE_EXCEEDED => BodyTooLarge,

        // -- Verifying the server --
        // The certificate, its chain, host name, pinned key or OCSP status
        // did not verify, or the CA or CRL file to verify it with is missing.
        CURLE_PEER_FAILED_VERIFICATION
        | CURLE_SSL_CACERT_BADFILE
        | CURLE_SSL_CRL_BADFILE
        | CURLE_SSL_ISSUER_ERROR
        | CURLE_SSL_PINNEDPUBKEYNOTMATCH
        | CURLE_SSL_INVALIDCERTSTATUS => CertificateVerifyFailed,

        // -- Our client certificate --
        // The certificate or key file could not be loaded, or the key does
        // not belong to the certificate ("unable to set private key file").
        CURLE_SSL_CERTPROBLEM => ClientCertificateUnusable,
        // libcurl 8's OpenSSL backend reports a key file it cannot use
        // ("unable to set private key file: ...", "not supported file type
        // ... for certificate") as a bad argument.
        CURLE_BAD_FUNCTION_ARGUMENT
            if says(detail, "private key") || says(detail, "for certificate") =>
        {
            ClientCertificateUnusable
        }
        // The server asked for a certificate we do not have (libcurl's
        // Schannel and Secure Transport backends say so by this code).
        CURLE_SSL_CLIENTCERT => ClientCertificateRequired,

        // -- Other TLS failures --
        // Handshake failures (a server that does not speak TLS included),
        // protocol versions, ciphers, crypto engines, ECH.
        CURLE_SSL_CONNECT_ERROR
        | CURLE_SSL_CIPHER
        | CURLE_USE_SSL_FAILED
        | CURLE_SSL_ENGINE_NOTFOUND
        | CURLE_SSL_ENGINE_SETFAILED
        | CURLE_SSL_ENGINE_INITFAILED
        | CURLE_SSL_SHUTDOWN_FAILED
        | CURLE_ECH_REQUIRED => TlsFailed,

        // -- Our own callbacks --
        // The write or header callback refused data for a reason other than
        // the body limit or memory (those are flagged and mapped before
        // this): a caught panic, i.e. a bug in nethttp.
        CURLE_WRITE_ERROR => Internal,

        // -- Cannot happen for the transfers nethttp sets up --
        // Our URL was checked and set before the transfer started, redirects
        // are not followed, no authentication, upload callback, range,
        // resume, FAILONERROR or progress callback is used.
        CURLE_URL_MALFORMAT
        | CURLE_NOT_BUILT_IN
        | CURLE_FAILED_INIT
        | CURLE_FUNCTION_NOT_FOUND
        | CURLE_BAD_FUNCTION_ARGUMENT
        | CURLE_UNKNOWN_OPTION
        | CURLE_RECURSIVE_API_CALL
        | CURLE_INTERFACE_FAILED
        | CURLE_TOO_MANY_REDIRECTS
        | CURLE_HTTP_RETURNED_ERROR
        | CURLE_HTTP_POST_ERROR
        | CURLE_UPLOAD_FAILED
        | CURLE_READ_ERROR
        | CURLE_RANGE_ERROR
        | CURLE_BAD_DOWNLOAD_RESUME
        | CURLE_ABORTED_BY_CALLBACK
        | CURLE_AUTH_ERROR
        | CURLE_LOGIN_DENIED
        | CURLE_REMOTE_ACCESS_DENIED
        | CURLE_NO_CONNECTION_AVAILABLE
        | CURLE_UNRECOVERABLE_POLL
        | CURLE_AGAIN => RequestFailed,

        // -- Other protocols (FTP, TFTP, LDAP, SSH, RTSP, TELNET, FILE),
        // never allowed by nethttp's http,https protocol list --
        CURLE_FTP_ACCEPT_FAILED
        | CURLE_FTP_WEIRD_PASS_REPLY
        | CURLE_FTP_ACCEPT_TIMEOUT
        | CURLE_FTP_WEIRD_PASV_REPLY
        | CURLE_FTP_WEIRD_227_FORMAT
        | CURLE_FTP_CANT_GET_HOST
        | CURLE_FTP_COULDNT_SET_TYPE
        | CURLE_FTP_COULDNT_RETR_FILE
        | CURLE_QUOTE_ERROR
        | CURLE_FTP_PORT_FAILED
        | CURLE_FTP_COULDNT_USE_REST
        | CURLE_FTP_PRET_FAILED
        | CURLE_FTP_BAD_FILE_LIST
        | CURLE_CHUNK_FAILED
        | CURLE_FILE_COULDNT_READ_FILE
        | CURLE_LDAP_CANNOT_BIND
        | CURLE_LDAP_SEARCH_FAILED
        | CURLE_LDAP_INVALID_URL
        | CURLE_TELNET_OPTION_SYNTAX
        | CURLE_TFTP_NOTFOUND
        | CURLE_TFTP_PERM
        | CURLE_REMOTE_DISK_FULL
        | CURLE_TFTP_ILLEGAL
        | CURLE_TFTP_UNKNOWNID
        | CURLE_REMOTE_FILE_EXISTS
        | CURLE_TFTP_NOSUCHUSER
        | CURLE_REMOTE_FILE_NOT_FOUND
        | CURLE_SSH
        | CURLE_RTSP_CSEQ_ERROR
        | CURLE_RTSP_SESSION_ERROR
        | CURLE_CONV_FAILED
        | CURLE_CONV_REQD => RequestFailed,

        // -- Numbers libcurl no longer uses --
        CURLE_OBSOLETE20 | CURLE_OBSOLETE24 | CURLE_OBSOLETE29 | CURLE_OBSOLETE32
        | CURLE_OBSOLETE40 | CURLE_OBSOLETE44 | CURLE_OBSOLETE46 | CURLE_OBSOLETE50
        | CURLE_OBSOLETE51 | CURLE_OBSOLETE57 => RequestFailed,

        // -- Codes of a newer libcurl than this mapping knows --
        _ => RequestFailed,
    }
}

/// libcurl's description of the error, with the detail of its error buffer.
pub fn detail(error: &curl::Error) -> String {
    match error.extra_description() {
        Some(extra) if !extra.is_empty() => format!("{}: {}", error.description(), extra),
        _ => error.description().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nethttp_result::*;

    fn with_detail(code: CURLcode, detail: &str) -> curl::Error {
        let mut error = curl::Error::new(code);
        error.set_extra(detail.to_string());
        error
    }

    const NOTHING: Progress = Progress {
        status_line: false,
        body_started: false,
    };
    const IN_HEADERS: Progress = Progress {
        status_line: true,
        body_started: false,
    };
    const IN_BODY: Progress = Progress {
        status_line: true,
        body_started: true,
    };

    #[test]
    fn codes_map_by_cause() {
        let cases = [
            (CURLE_COULDNT_CONNECT, ConnectionRefused),
            (CURLE_COULDNT_RESOLVE_HOST, ResolveFailed),
            (CURLE_COULDNT_RESOLVE_PROXY, ResolveFailed),
            (CURLE_OPERATION_TIMEDOUT, Timeout),
            (CURLE_PEER_FAILED_VERIFICATION, CertificateVerifyFailed),
            (CURLE_SSL_CACERT, CertificateVerifyFailed),
            (CURLE_SSL_CACERT_BADFILE, CertificateVerifyFailed),
            (CURLE_SSL_ISSUER_ERROR, CertificateVerifyFailed),
            (CURLE_SSL_PINNEDPUBKEYNOTMATCH, CertificateVerifyFailed),
            (CURLE_GOT_NOTHING, ConnectionClosed),
            (CURLE_PARTIAL_FILE, ConnectionClosed),
            (CURLE_SEND_ERROR, ConnectionClosed),
            (CURLE_RECV_ERROR, ConnectionClosed),
            (CURLE_HTTP2_STREAM, ConnectionClosed),
            (CURLE_SSL_CONNECT_ERROR, TlsFailed),
            (CURLE_SSL_CERTPROBLEM, ClientCertificateUnusable),
            (CURLE_SSL_CLIENTCERT, ClientCertificateRequired),
            (CURLE_SSL_CIPHER, TlsFailed),
            (CURLE_WEIRD_SERVER_REPLY, ProtocolError),
            (CURLE_HTTP2, ProtocolError),
            (CURLE_BAD_CONTENT_ENCODING, ProtocolError),
            (CURLE_FILESIZE_EXCEEDED, BodyTooLarge),
            (CURLE_WRITE_ERROR, Internal),
            // Impossible for nethttp's transfers: not invalid-url or
            // unsupported-scheme, which are errors of nethttp_request() itself.
            (CURLE_URL_MALFORMAT, RequestFailed),
            (CURLE_UNSUPPORTED_PROTOCOL, RequestFailed),
            (CURLE_TOO_MANY_REDIRECTS, RequestFailed),
            (CURLE_TFTP_NOTFOUND, RequestFailed),
            (CURLE_OBSOLETE20, RequestFailed),
            (CURLE_PROXY, ConnectionRefused),
            (CURLE_ECH_REQUIRED, TlsFailed),
            (12345, RequestFailed),
        ];
        for (code, expected) in cases {
            let error = curl::Error::new(code);
            for progress in [NOTHING, IN_HEADERS, IN_BODY] {
                assert_eq!(
                    classify(&error, progress),
                    expected,
                    "code {code} {progress:?}"
                );
            }
        }
    }

    #[test]
    fn transfer_results_are_never_call_errors() {
        // Every code a callback can see is a transfer failure (100 and up),
        // or internal-error / out-of-memory.
        for code in 0..=120 {
            for detail in ["", "Received HTTP/0.9 when not allowed", "whatever"] {
                for progress in [NOTHING, IN_HEADERS, IN_BODY] {
                    let result = classify(&with_detail(code, detail), progress);
                    assert!(
                        result as i32 >= 100 || matches!(result, Internal | OutOfMemory),
                        "code {code} -> {result:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_garbage_status_line_is_a_protocol_error() {
        let error = with_detail(
            CURLE_UNSUPPORTED_PROTOCOL,
            "Received HTTP/0.9 when not allowed",
        );
        assert_eq!(classify(&error, NOTHING), ProtocolError);
        let reused = with_detail(CURLE_WEIRD_SERVER_REPLY, "Invalid status line");
        assert_eq!(classify(&reused, NOTHING), ProtocolError);
        let other = with_detail(
            CURLE_UNSUPPORTED_PROTOCOL,
            "Unsupported proxy scheme for 'x'",
        );
        assert_eq!(classify(&other, NOTHING), RequestFailed);
    }

    #[test]
    fn receive_errors_are_told_apart_by_their_text() {
        let cases = [
            (
                "Illegal or missing hexadecimal sequence in chunked-encoding",
                ProtocolError,
            ),
            ("chunk hex-length char not a hex digit: 0x7a", ProtocolError),
            ("invalid chunk size: 'zz'", ProtocolError),
            (
                "Too large response headers: 307300 > 307200",
                HeadersTooLarge,
            ),
            ("Recv failure: Connection reset by peer", ConnectionClosed),
            ("", ConnectionClosed),
            ("CONNECT tunnel failed, response 403", ConnectionRefused),
            (
                "OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0",
                ClientCertificateRequired,
            ),
            (
                "OpenSSL SSL_read: error:0A000418:SSL routines::tlsv1 alert unknown ca, errno 0",
                ClientCertificateRejected,
            ),
            (
                "OpenSSL SSL_read: error:0A000412:SSL routines::sslv3 alert bad certificate, errno 0",
                ClientCertificateRejected,
            ),
            (
                "OpenSSL SSL_read: error:0A000438:SSL routines::tlsv1 alert internal error",
                TlsFailed,
            ),
        ];
        for (detail, expected) in cases {
            let error = with_detail(CURLE_RECV_ERROR, detail);
            assert_eq!(classify(&error, IN_HEADERS), expected, "{detail}");
        }
    }

    #[test]
    fn client_certificate_alerts_win_over_the_code() {
        let cases = [
            (
                CURLE_SEND_ERROR,
                "OpenSSL SSL_write: error:0A00045C:SSL routines::tlsv13 alert certificate required",
                ClientCertificateRequired,
            ),
            (
                CURLE_SEND_ERROR,
                "Send failure: Broken pipe",
                ConnectionClosed,
            ),
            (
                CURLE_BAD_FUNCTION_ARGUMENT,
                "unable to set private key file: '/k.pem' type PEM",
                ClientCertificateUnusable,
            ),
            (
                CURLE_BAD_FUNCTION_ARGUMENT,
                "not supported file type 'DER' for certificate",
                ClientCertificateUnusable,
            ),
            (CURLE_BAD_FUNCTION_ARGUMENT, "", RequestFailed),
            (
                CURLE_SSL_CONNECT_ERROR,
                "OpenSSL/3.0.19: error:0A000418:SSL routines::tlsv1 alert unknown ca",
                ClientCertificateRejected,
            ),
            (
                CURLE_SSL_CONNECT_ERROR,
                "OpenSSL/3.0.19: error:0A00042E:SSL routines::tlsv1 alert protocol version",
                TlsFailed,
            ),
            (
                CURLE_SSL_CONNECT_ERROR,
                "OpenSSL/3.0.19: error:0A000410:SSL routines::sslv3 alert handshake failure",
                TlsFailed,
            ),
        ];
        for (code, detail, expected) in cases {
            assert_eq!(
                classify(&with_detail(code, detail), NOTHING),
                expected,
                "{detail}"
            );
        }
    }

    #[test]
    fn an_overlong_header_line_is_headers_too_large() {
        // libcurl 7: out of memory while the head is read.
        let oom = curl::Error::new(CURLE_OUT_OF_MEMORY);
        assert_eq!(classify(&oom, IN_HEADERS), HeadersTooLarge);
        let oom_text = with_detail(CURLE_OUT_OF_MEMORY, "Out of memory");
        assert_eq!(classify(&oom_text, IN_HEADERS), HeadersTooLarge);
        assert_eq!(classify(&oom, IN_BODY), OutOfMemory);
        assert_eq!(classify(&oom, NOTHING), OutOfMemory);
        // libcurl 8: too large, for a line or for the number of headers.
        let too_many = with_detail(CURLE_TOO_LARGE, "Too many response headers, 5000 is max");
        assert_eq!(classify(&too_many, IN_HEADERS), HeadersTooLarge);
        let too_large = curl::Error::new(CURLE_TOO_LARGE);
        assert_eq!(classify(&too_large, NOTHING), HeadersTooLarge);
        assert_eq!(classify(&too_large, IN_HEADERS), HeadersTooLarge);
        assert_eq!(classify(&too_large, IN_BODY), RequestFailed);
    }

    #[test]
    fn details_include_the_error_buffer() {
        let error = with_detail(CURLE_COULDNT_CONNECT, "Failed to connect");
        assert!(detail(&error).ends_with(": Failed to connect"));
        assert!(!detail(&curl::Error::new(CURLE_COULDNT_CONNECT)).contains(": "));
    }
}
