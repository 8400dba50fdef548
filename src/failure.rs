//! Maps libcurl's many error codes onto nethttp's few stable reasons.

use crate::error::nethttp_result;

/// The nethttp code for a failed transfer.
pub fn classify(error: &curl::Error) -> nethttp_result {
    use nethttp_result::*;
    if error.is_couldnt_connect() {
        ConnectionRefused
    } else if error.is_couldnt_resolve_host() || error.is_couldnt_resolve_proxy() {
        ResolveFailed
    } else if error.is_operation_timedout() {
        Timeout
    } else if error.is_peer_failed_verification()
        || error.is_ssl_cacert()
        || error.is_ssl_certproblem()
        || error.is_ssl_issuer_error()
    {
        CertificateVerifyFailed
    } else if error.is_got_nothing()
        || error.is_recv_error()
        || error.is_send_error()
        || error.is_partial_file()
        || error.code() == curl_sys::CURLE_HTTP2_STREAM
    {
        ConnectionClosed
    } else if error.is_ssl_connect_error() || error.is_ssl_cipher() || error.is_use_ssl_failed() {
        TlsFailed
    } else if error.is_url_malformed() {
        InvalidUrl
    } else if error.is_unsupported_protocol() {
        UnsupportedScheme
    } else if error.is_filesize_exceeded() {
        BodyTooLarge
    } else if error.is_out_of_memory() {
        OutOfMemory
    } else if error.code() == curl_sys::CURLE_FTP_WEIRD_SERVER_REPLY || error.is_http2_error() {
        ProtocolError
    } else {
        RequestFailed
    }
}

/// libcurl's description of the error, with the detail of its error buffer.
pub fn detail(error: &curl::Error) -> String {
    match error.extra_description() {
        Some(extra) if !extra.is_empty() => format!("{}: {}", error.description(), extra),
        _ => error.description().to_string(),
    }
}
