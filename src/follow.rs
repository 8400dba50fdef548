//! What comes after a response: the rules for following a redirect and for
//! retrying, as pure functions (the client applies them; the transfer only
//! notices when a response calls for them).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::options::Options;

/// The longest Retry-After waited for. A server asking for longer gets its
/// 429 or 503 delivered instead: waiting less than asked would not help.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest backoff between two retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Statuses whose Location is followed.
pub fn is_redirect(status: i32) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Statuses that are retried (with Retry-After honoured).
pub fn is_retry_status(status: i32) -> bool {
    matches!(status, 429 | 503)
}

/// Methods that may be sent twice without changing the outcome.
pub fn is_idempotent(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"HEAD" | b"PUT" | b"DELETE" | b"OPTIONS")
}

/// libcurl failures where no byte of a response arrived and the request can
/// simply be sent again: the connection was refused or closed first.
pub fn is_retryable_failure(code: curl_sys::CURLcode) -> bool {
    matches!(
        code,
        curl_sys::CURLE_COULDNT_CONNECT
            | curl_sys::CURLE_GOT_NOTHING
            | curl_sys::CURLE_SEND_ERROR
            | curl_sys::CURLE_RECV_ERROR
    )
}

/// The wait before retry number `attempt` (0 for the first): `base` doubled
/// per attempt, capped, with jitter taking up to half of it off so that
/// clients that failed together do not come back together.
pub fn backoff(base: Duration, attempt: u32, jitter_seed: u64) -> Duration {
    let full = base
        .checked_mul(1u32 << attempt.min(20))
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    let fraction = (mix(jitter_seed) % 1000) as u32; // 0..999 thousandths
    full - full * fraction / 2000
}

/// A well-spread number from a seed (splitmix64).
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for `backoff` that differs between requests and between runs.
pub fn jitter_seed(request: u64) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    now ^ request.rotate_left(32)
}

/// A Retry-After value: delay-seconds, or an HTTP date. `None` when absent
/// or unreadable; a date in the past is no wait.
pub fn parse_retry_after(value: &[u8], now: SystemTime) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(text)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the only form servers
/// are to send (RFC 9110 section 5.6.7).
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let mut parts = text.split_ascii_whitespace();
    let _weekday = parts.next()?;
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':');
    let hour: u64 = clock.next()?.parse().ok()?;
    let minute: u64 = clock.next()?.parse().ok()?;
    let second: u64 = clock.next()?.parse().ok()?;
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day as i64);
    let seconds = days.checked_mul(86_400)? + (hour * 3600 + minute * 60 + second) as i64;
    u64::try_from(seconds)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The request the next hop sends after a redirect with `status`: 303
/// turns anything but HEAD into a GET, and 301 and 302 turn a POST into a
/// GET (as browsers and libcurl do), the body dropped with its headers;
/// 307 and 308 send the same method and body. Credentials the caller set
/// (Authorization, Cookie, Proxy-Authorization, Basic authentication) are
/// not sent to another origin.
pub fn next_hop_options(
    options: &Options,
    method: &[u8],
    status: i32,
    same_origin: bool,
) -> Options {
    let mut next = options.clone();
    let to_get = match status {
        303 => method != b"HEAD",
        301 | 302 => method == b"POST",
        _ => false,
    };
    if to_get {
        next.force_method("GET");
        next.clear_body();
        for name in ["Content-Type", "Content-Length", "Transfer-Encoding"] {
            next.remove_header(name);
        }
    }
    if !same_origin {
        for name in ["Authorization", "Cookie", "Proxy-Authorization"] {
            next.remove_header(name);
        }
        next.clear_basic_auth();
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_by_at_most_half() {
        let base = Duration::from_millis(100);
        for seed in 0..200 {
            let first = backoff(base, 0, seed);
            assert!(first <= base && first >= base / 2, "{first:?}");
            let third = backoff(base, 2, seed);
            assert!(third <= base * 4 && third >= base * 2, "{third:?}");
            assert!(backoff(base, 30, seed) <= MAX_BACKOFF);
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after(b" 3 ", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after(b"Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after(b"Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(b"soon", now), None);
        assert_eq!(parse_retry_after(b"-1", now), None);
    }

    #[test]
    fn redirects_change_the_method_as_browsers_do() {
        let mut options = Options::new();
        options.set_body(Some(b"x=1"));
        options
            .set_header(b"Authorization", Some(b"Bearer t"))
            .unwrap();
        options
            .set_header(b"Content-Type", Some(b"text/plain"))
            .unwrap();
        for (status, method, get) in [
            (301, "POST", true),
            (302, "POST", true),
            (303, "POST", true),
            (303, "PUT", true),
            (303, "HEAD", false),
            (302, "PUT", false),
            (307, "POST", false),
            (308, "POST", false),
        ] {
            let next = next_hop_options(&options, method.as_bytes(), status, true);
            assert_eq!(next.method() == Some("GET"), get, "{status} {method}");
            assert_eq!(next.has_body(), !get, "{status} {method}");
            assert_eq!(next.header("Content-Type").is_some(), !get);
            assert!(next.header("Authorization").is_some());
        }
        let other = next_hop_options(&options, b"POST", 307, false);
        assert!(other.header("Authorization").is_none());
        assert!(other.has_body());
    }

    #[test]
    fn only_idempotent_methods_are_retried() {
        for m in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"] {
            assert!(is_idempotent(m.as_bytes()));
        }
        for m in ["POST", "PATCH", "get"] {
            assert!(!is_idempotent(m.as_bytes()));
        }
    }
}
