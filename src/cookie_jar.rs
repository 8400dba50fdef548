//! A client's cookie jar, in memory (RFC 6265): cookies that responses set
//! (`Set-Cookie`) are kept and sent back (`Cookie`) on the client's later
//! requests that match them by host, path, expiry and `Secure`.
//!
//! nethttp keeps its own jar rather than libcurl's cookie engine so that the
//! rules are the same with every libcurl, and strict: libcurl sends a
//! `Secure` cookie over plain http to localhost and 127.0.0.1 (it counts
//! them as secure contexts); here `Secure` means https.
//!
//! Not implemented: the public suffix list (a `Domain` attribute must name
//! the request's host or a parent with at least one dot, so `Domain=com` is
//! refused, `Domain=co.uk` is not), `SameSite` (a client has no sites) and
//! `HttpOnly` (there are no scripts to hide cookies from).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sync::lock;
use std::sync::Mutex;

/// Cookies kept at most; the least recently set go first.
const MAX_COOKIES: usize = 3000;
/// Cookies kept at most per domain.
const MAX_PER_DOMAIN: usize = 50;
/// Longest name plus value accepted (RFC 6265 section 6.1 asks for 4096).
const MAX_COOKIE_BYTES: usize = 4096;

/// What of a URL the jar looks at.
pub(crate) struct CookieUrl {
    pub https: bool,
    /// Lowercase; an IPv6 address without brackets.
    pub host: String,
    /// The path, starting with "/".
    pub path: String,
}

#[derive(Clone, Debug)]
struct Cookie {
    name: String,
    value: String,
    /// Lowercase, without a leading dot.
    domain: String,
    /// Sent only to `domain` itself (no `Domain` attribute).
    host_only: bool,
    path: String,
    /// `None`: a session cookie, kept as long as the jar.
    expires: Option<SystemTime>,
    secure: bool,
    /// Order of creation, for the order of the Cookie header.
    created: u64,
}

#[derive(Default)]
struct Jar {
    cookies: Vec<Cookie>,
    next: u64,
}

/// One client's cookies.
#[derive(Default)]
pub(crate) struct CookieJar {
    jar: Mutex<Jar>,
}

impl CookieJar {
    /// Takes in the `Set-Cookie` values of a response to `url`.
    pub(crate) fn store<'a>(
        &self,
        url: &CookieUrl,
        set_cookies: impl Iterator<Item = &'a [u8]>,
        now: SystemTime,
    ) {
        let mut jar = lock(&self.jar);
        for line in set_cookies {
            if let Some(cookie) = parse_set_cookie(line, url, now) {
                jar.put(cookie, now);
            }
        }
    }

    /// The value of the Cookie header for a request to `url`, if any
    /// cookie matches: longer paths first, then older cookies first.
    pub(crate) fn header(&self, url: &CookieUrl, now: SystemTime) -> Option<String> {
        let mut jar = lock(&self.jar);
        jar.cookies.retain(|c| c.expires.is_none_or(|e| e > now));
        let mut matching: Vec<&Cookie> = jar
            .cookies
            .iter()
            .filter(|c| {
                (if c.host_only {
                    url.host == c.domain
                } else {
                    domain_matches(&url.host, &c.domain)
                }) && path_matches(&url.path, &c.path)
                    && (!c.secure || url.https)
            })
            .collect();
        if matching.is_empty() {
            return None;
        }
        matching.sort_by(|a, b| {
            b.path
                .len()
                .cmp(&a.path.len())
                .then(a.created.cmp(&b.created))
        });
        let mut header = String::new();
        for cookie in matching {
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(&cookie.name);
            header.push('=');
            header.push_str(&cookie.value);
        }
        Some(header)
    }
}

impl Jar {
    /// Stores a cookie, replacing one of the same name, domain and path (an
    /// expired one only removes it).
    fn put(&mut self, mut cookie: Cookie, now: SystemTime) {
        let old = self.cookies.iter().position(|c| {
            c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path
        });
        let created = match old {
            Some(at) => self.cookies.remove(at).created,
            None => {
                self.next += 1;
                self.next
            }
        };
        if cookie.expires.is_some_and(|e| e <= now) {
            return;
        }
        cookie.created = created;
        let domain = cookie.domain.clone();
        self.cookies.push(cookie);
        let same_domain = self.cookies.iter().filter(|c| c.domain == domain).count();
        if same_domain > MAX_PER_DOMAIN {
            let oldest = self.oldest(|c| c.domain == domain);
            self.cookies.remove(oldest);
        }
        if self.cookies.len() > MAX_COOKIES {
            let oldest = self.oldest(|_| true);
            self.cookies.remove(oldest);
        }
    }

    fn oldest(&self, of: impl Fn(&Cookie) -> bool) -> usize {
        self.cookies
            .iter()
            .enumerate()
            .filter(|(_, c)| of(c))
            .min_by_key(|(_, c)| c.created)
            .map_or(0, |(i, _)| i)
    }
}

/// RFC 6265 section 5.1.3.
fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && !is_ip_address(host))
}

/// RFC 6265 section 5.1.4.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

fn is_ip_address(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// The default path of a request path (RFC 6265 section 5.1.4).
fn default_path(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(at) if path.starts_with('/') => path[..at].to_string(),
        Some(_) => "/".to_string(),
    }
}

/// One `Set-Cookie` value (RFC 6265 section 5.2), or `None` to ignore it.
fn parse_set_cookie(line: &[u8], url: &CookieUrl, now: SystemTime) -> Option<Cookie> {
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(';');
    let pair = parts.next()?;
    let (name, value) = pair.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty()
        || name.len() + value.len() > MAX_COOKIE_BYTES
        || !crate::options::is_token(name.as_bytes())
        || value.bytes().any(|b| b < 0x20 || b == 0x7f || b == b';')
    {
        return None;
    }
    let mut expires = None;
    let mut max_age = None;
    let mut domain = None;
    let mut path = None;
    let mut secure = false;
    for attribute in parts {
        let (key, val) = match attribute.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attribute.trim(), ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "expires" => expires = parse_cookie_date(val).or(expires),
            "max-age" => {
                if let Ok(seconds) = val.parse::<i64>() {
                    max_age = Some(if seconds <= 0 {
                        UNIX_EPOCH
                    } else {
                        now.checked_add(Duration::from_secs(seconds as u64))
                            .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400))
                    });
                }
            }
            "domain" if !val.is_empty() => {
                domain = Some(val.trim_start_matches('.').to_ascii_lowercase())
            }
            "path" if val.starts_with('/') => path = Some(val.to_string()),
            "secure" => secure = true,
            _ => {}
        }
    }
    let (domain, host_only) = match domain {
        Some(domain) if domain == url.host => (domain, false),
        Some(domain) => {
            // Only a parent of the request's host, with a dot in it (a
            // crude stand-in for the public suffix list), and never for an
            // IP address.
            if !domain.contains('.') || !domain_matches(&url.host, &domain) {
                return None;
            }
            (domain, false)
        }
        None => (url.host.clone(), true),
    };
    Some(Cookie {
        name: name.to_string(),
        value: value.to_string(),
        domain,
        host_only,
        path: path.unwrap_or_else(|| default_path(&url.path)),
        expires: max_age.or(expires),
        secure,
        created: 0,
    })
}

/// A cookie date (RFC 6265 section 5.1.1): lenient about the form, as
/// servers are ("Wed, 09 Jun 2021 10:18:14 GMT", "Wednesday, 09-Jun-21
/// 10:18:14 GMT", "Wed Jun  9 10:18:14 2021").
fn parse_cookie_date(text: &str) -> Option<SystemTime> {
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
    {
        if time.is_none() && token.contains(':') {
            let mut fields = token.split(':').map(|f| f.parse::<u64>().ok());
            if let (Some(Some(h)), Some(Some(m)), Some(Some(s)), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            {
                time = Some((h, m, s));
                continue;
            }
        }
        let digits = token.bytes().all(|b| b.is_ascii_digit());
        if day.is_none() && digits && token.len() <= 2 {
            day = token.parse::<u64>().ok();
            continue;
        }
        if month.is_none() && token.len() >= 3 {
            let prefix = token[..3].to_ascii_lowercase();
            let months = [
                "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
            ];
            if let Some(at) = months.iter().position(|m| *m == prefix) {
                month = Some(at as i64 + 1);
                continue;
            }
        }
        if year.is_none() && digits && (2..=4).contains(&token.len()) {
            year = token.parse::<i64>().ok();
        }
    }
    let (h, m, s) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if (0..=69).contains(&year) {
        year += 2000;
    }
    if !(1..=31).contains(&day) || year < 1601 || h > 23 || m > 59 || s > 59 {
        return None;
    }
    let days = crate::follow::days_from_civil(year, month, day as i64);
    let seconds = days * 86_400 + (h * 3600 + m * 60 + s) as i64;
    Some(if seconds <= 0 {
        UNIX_EPOCH
    } else {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(https: bool, host: &str, path: &str) -> CookieUrl {
        CookieUrl {
            https,
            host: host.to_string(),
            path: path.to_string(),
        }
    }

    fn store(jar: &CookieJar, at: &CookieUrl, lines: &[&str], now: SystemTime) {
        jar.store(at, lines.iter().map(|l| l.as_bytes()), now);
    }

    #[test]
    fn host_path_secure_and_expiry_decide_what_is_sent() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let jar = CookieJar::default();
        let site = url(true, "www.example.org", "/a/b");
        store(
            &jar,
            &site,
            &[
                "plain=1",
                "everywhere=2; Path=/; Domain=example.org",
                "safe=3; Secure; Path=/",
                "gone=4; Max-Age=0",
                "later=5; Expires=Wed, 09 Jun 2100 10:18:14 GMT; Path=/",
                "past=6; Expires=Wed, 09 Jun 2001 10:18:14 GMT",
                "tld=7; Domain=org",
                "other=8; Domain=example.com",
            ],
            now,
        );
        assert_eq!(
            jar.header(&url(true, "www.example.org", "/a/c"), now)
                .as_deref(),
            Some("plain=1; everywhere=2; safe=3; later=5")
        );
        assert_eq!(
            jar.header(&url(false, "www.example.org", "/x"), now)
                .as_deref(),
            Some("everywhere=2; later=5")
        );
        assert_eq!(
            jar.header(&url(true, "api.example.org", "/"), now)
                .as_deref(),
            Some("everywhere=2")
        );
        assert_eq!(jar.header(&url(true, "example.com", "/"), now), None);
        // Max-Age=0 and an expiry in the past remove a cookie.
        store(&jar, &site, &["plain=1; Max-Age=0"], now);
        assert_eq!(
            jar.header(&url(true, "www.example.org", "/a/c"), now)
                .as_deref(),
            Some("everywhere=2; safe=3; later=5")
        );
        let much_later = UNIX_EPOCH + Duration::from_secs(4_200_000_000);
        assert_eq!(
            jar.header(&url(true, "www.example.org", "/a/c"), much_later)
                .as_deref(),
            Some("everywhere=2; safe=3")
        );
    }

    #[test]
    fn secure_cookies_need_https_also_on_loopback() {
        let now = SystemTime::now();
        let jar = CookieJar::default();
        store(
            &jar,
            &url(false, "127.0.0.1", "/"),
            &["s=1; Secure; Path=/"],
            now,
        );
        assert_eq!(jar.header(&url(false, "127.0.0.1", "/"), now), None);
        assert_eq!(
            jar.header(&url(true, "127.0.0.1", "/"), now).as_deref(),
            Some("s=1")
        );
        assert_eq!(jar.header(&url(true, "localhost", "/"), now), None);
    }

    #[test]
    fn dates_in_the_forms_servers_send() {
        let expect = UNIX_EPOCH + Duration::from_secs(1_623_233_894); // 2021-06-09 10:18:14
        for text in [
            "Wed, 09 Jun 2021 10:18:14 GMT",
            "Wednesday, 09-Jun-21 10:18:14 GMT",
            "Wed Jun  9 10:18:14 2021",
        ] {
            assert_eq!(parse_cookie_date(text), Some(expect), "{text}");
        }
        assert_eq!(parse_cookie_date("tomorrow"), None);
    }

    #[test]
    fn paths_match_by_segments() {
        assert!(path_matches("/a/b", "/a"));
        assert!(path_matches("/a/", "/a/"));
        assert!(!path_matches("/ab", "/a"));
        assert_eq!(default_path("/a/b"), "/a");
        assert_eq!(default_path("/a"), "/");
    }
}
