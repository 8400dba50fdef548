//! The header lines of a response, kept in one buffer: names and values are
//! stored NUL-terminated one after another, so a response with many headers
//! costs two allocations, and the C layer hands out pointers into it.

use std::ffi::CStr;
use std::sync::OnceLock;

#[derive(Debug, Default, Clone)]
pub struct HeaderBlock {
    /// `name\0value\0name\0value\0...`
    bytes: Vec<u8>,
    /// Offsets of each header's name and value in `bytes`.
    entries: Vec<(usize, usize)>,
}

/// Appends `text` without NUL bytes (a NUL would end the C string early).
fn push_text(bytes: &mut Vec<u8>, text: &[u8]) {
    if text.contains(&0) {
        bytes.extend(text.iter().filter(|&&b| b != 0));
    } else {
        bytes.extend_from_slice(text);
    }
    bytes.push(0);
}

impl HeaderBlock {
    /// Parses header lines as they arrived (`Name: value` with CRLF or LF,
    /// without the status line): names and values are trimmed, a line that
    /// starts with a blank continues the previous value (obsolete folding),
    /// lines without a colon are skipped.
    pub fn parse(raw: &[u8]) -> HeaderBlock {
        let mut block = HeaderBlock::default();
        for line in raw.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                block.continue_last(line.trim_ascii());
            } else if let Some(colon) = line.iter().position(|&b| b == b':') {
                block.push(line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
            }
        }
        block
    }

    /// Forgets every header, keeping the memory (a new response began).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }

    /// Adds a header; name and value are stored as given (already trimmed).
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        if self.entries.is_empty() {
            // Typical header blocks fit, so the buffers grow once or never.
            self.bytes.reserve(512);
            self.entries.reserve(16);
        }
        let name_at = self.bytes.len();
        push_text(&mut self.bytes, name);
        let value_at = self.bytes.len();
        push_text(&mut self.bytes, value);
        self.entries.push((name_at, value_at));
    }

    /// Continues the last header's value (obsolete line folding).
    pub fn continue_last(&mut self, more: &[u8]) {
        if self.entries.is_empty() {
            return;
        }
        // The last value is the end of the buffer: replace its NUL.
        self.bytes.pop();
        self.bytes.push(b' ');
        push_text(&mut self.bytes, more);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn c_str_at(&self, offset: usize) -> &CStr {
        CStr::from_bytes_until_nul(&self.bytes[offset..])
            .expect("every stored string ends with NUL")
    }

    /// The header at `index` as (name, value), in the order received.
    pub fn get(&self, index: usize) -> Option<(&CStr, &CStr)> {
        let &(name, value) = self.entries.get(index)?;
        Some((self.c_str_at(name), self.c_str_at(value)))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CStr, &CStr)> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The value of the first header called `name`, in any case.
    pub fn find(&self, name: &[u8]) -> Option<&CStr> {
        self.iter()
            .find(|(n, _)| n.to_bytes().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// The header lines of a response as they arrived, parsed at first use: a
/// program that never looks at the headers never pays for parsing them.
#[derive(Debug, Default)]
pub struct LazyHeaders {
    raw: Vec<u8>,
    parsed: OnceLock<HeaderBlock>,
}

impl LazyHeaders {
    pub fn new(raw: Vec<u8>) -> LazyHeaders {
        LazyHeaders {
            raw,
            parsed: OnceLock::new(),
        }
    }

    pub fn get(&self) -> &HeaderBlock {
        self.parsed.get_or_init(|| HeaderBlock::parse(&self.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_folds_and_skips_what_is_not_a_header() {
        let block = HeaderBlock::parse(
            b"Content-Type:  text/plain \r\nX-Folded: a\r\n\t b\r\nno colon\r\nX-Empty:\r\nX-Lf: 1\n\r\n",
        );
        let all: Vec<(&[u8], &[u8])> = block
            .iter()
            .map(|(n, v)| (n.to_bytes(), v.to_bytes()))
            .collect();
        assert_eq!(
            all,
            vec![
                (&b"Content-Type"[..], &b"text/plain"[..]),
                (b"X-Folded", b"a b"),
                (b"X-Empty", b""),
                (b"X-Lf", b"1"),
            ]
        );
        let lazy = LazyHeaders::new(b"A: 1\r\n".to_vec());
        assert_eq!(lazy.get().find(b"a").unwrap().to_bytes(), b"1");
        assert!(std::ptr::eq(lazy.get(), lazy.get()), "parsed once");
    }

    #[test]
    fn stores_finds_and_folds() {
        let mut block = HeaderBlock::default();
        block.push(b"Content-Type", b"text/plain");
        block.push(b"X-Multi", b"a");
        block.push(b"x-multi", b"b\0c");
        block.continue_last(b"folded");
        assert_eq!(block.len(), 3);
        assert_eq!(
            block.find(b"content-type").unwrap().to_bytes(),
            b"text/plain"
        );
        assert_eq!(block.find(b"X-MULTI").unwrap().to_bytes(), b"a");
        let (name, value) = block.get(2).unwrap();
        assert_eq!(
            (name.to_bytes(), value.to_bytes()),
            (&b"x-multi"[..], &b"bc folded"[..])
        );
        assert!(block.get(3).is_none());
        block.clear();
        assert!(block.is_empty());
        block.continue_last(b"ignored");
        assert!(block.is_empty());
    }
}
