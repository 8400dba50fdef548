//! How long the text of a request may be. libcurl writes the request line
//! and the header lines into one buffer of 1 MiB (`DYN_HTTP_REQUEST`, in
//! libcurl 7.x and 8.x alike) and refuses string options over 8,000,000
//! bytes; past either limit a request used to fail only in its callback
//! (`out-of-memory`), or as an `internal-error` when a setopt refused the
//! string. nethttp refuses such text up front instead, with the code of the
//! part that is too long, and leaves libcurl room for the headers it adds
//! itself (`Host`, `Accept`, `Content-Length`, ...: a few hundred bytes).

use crate::error::{nethttp_result, Error};

/// The most bytes of request text nethttp hands to libcurl: one URL, one
/// method, one header line, and all of them together (the request head);
/// also the longest CA file path.
pub const MAX_REQUEST_HEAD: usize = 1_000_000;

/// Refuses `len` bytes of `what` over `MAX_REQUEST_HEAD`, with `code`.
pub fn check_field(what: &str, len: usize, code: nethttp_result) -> Result<(), Error> {
    if len > MAX_REQUEST_HEAD {
        return Err(Error::new(
            code,
            format!("{what} is {len} bytes long; nethttp accepts at most {MAX_REQUEST_HEAD}"),
        ));
    }
    Ok(())
}

/// Refuses a request whose request line (`method`, `url`) and header lines
/// (`headers`: the bytes of all the lines set, `Name: value` each) together
/// exceed `MAX_REQUEST_HEAD`.
pub fn check_request_head(method: usize, url: usize, headers: usize) -> Result<(), Error> {
    // "METHOD URL HTTP/1.1\r\n"
    let total = method
        .saturating_add(url)
        .saturating_add(12)
        .saturating_add(headers);
    if total > MAX_REQUEST_HEAD {
        return Err(Error::new(
            nethttp_result::InvalidArgument,
            format!(
                "the request line and headers would be {total} bytes long; at most {MAX_REQUEST_HEAD} are accepted"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_heads_up_to_the_limit_pass() {
        assert!(check_field("a", MAX_REQUEST_HEAD, nethttp_result::InvalidMethod).is_ok());
        let err = check_field(
            "the method",
            MAX_REQUEST_HEAD + 1,
            nethttp_result::InvalidMethod,
        )
        .unwrap_err();
        assert_eq!(err.code, nethttp_result::InvalidMethod);
        assert!(err.message.starts_with("the method is 1000001 bytes"));
        assert!(check_request_head(3, 100, MAX_REQUEST_HEAD - 115).is_ok());
        assert_eq!(
            check_request_head(3, 100, MAX_REQUEST_HEAD - 114)
                .unwrap_err()
                .code,
            nethttp_result::InvalidArgument
        );
        assert!(check_request_head(usize::MAX, usize::MAX, usize::MAX).is_err());
    }
}
