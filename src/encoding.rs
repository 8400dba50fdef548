//! Percent-encoding (RFC 3986) and `application/x-www-form-urlencoded`,
//! byte-exact in both directions.
//!
//! Every encoder comes in two parts: `*_len` computes the exact output length,
//! and `*_into` writes into a buffer of exactly that length. The C layer uses
//! them to fill one allocation of the right size; `urlencode` and friends are
//! the convenient `Vec` forms.

use crate::form::Form;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// `UNRESERVED[b]` is true for RFC 3986's unreserved set `A-Z a-z 0-9 - . _ ~`.
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

/// `HEX_VALUE[b]` is the value of the hex digit `b`, or 0xFF for other bytes.
static HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => 0xFF,
        };
        b += 1;
    }
    table
};

/// The byte an escape `%XY` starting at `input[i]` stands for, if it is one.
#[inline]
fn escape_at(input: &[u8], i: usize) -> Option<u8> {
    if input[i] == b'%' && i + 2 < input.len() {
        let (high, low) = (
            HEX_VALUE[input[i + 1] as usize],
            HEX_VALUE[input[i + 2] as usize],
        );
        if (high | low) < 16 {
            return Some(high << 4 | low);
        }
    }
    None
}

/// Index of the first `%` (or, with `plus`, `+`) in `bytes`, or its length.
/// Scans eight bytes at a time: text to decode is mostly plain runs.
#[inline]
fn find_special(bytes: &[u8], plus: bool) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Bit 7 of each byte of the result is set where `word` has byte `b` (exact
    // for the lowest such byte, which is the one used).
    let matches = |word: u64, b: u8| {
        let x = word ^ (ONES * b as u64);
        x.wrapping_sub(ONES) & !x & HIGHS
    };
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("eight bytes"));
        let mut found = matches(word, b'%');
        if plus {
            found |= matches(word, b'+');
        }
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b'%' || (plus && b == b'+'))
        .map_or(bytes.len(), |p| i + p)
}

/// Exact length of `urlencode(input)`.
pub fn urlencoded_len(input: &[u8]) -> usize {
    input
        .iter()
        .map(|&b| if UNRESERVED[b as usize] { 1 } else { 3 })
        .sum()
}

/// Percent-encodes `input` into `out` (whose length is `urlencoded_len(input)`),
/// `space_as_plus` selects the form encoding of a space.
fn encode_component_into(input: &[u8], out: &mut [u8], space_as_plus: bool) -> usize {
    let mut o = 0;
    for &b in input {
        if UNRESERVED[b as usize] {
            out[o] = b;
            o += 1;
        } else if space_as_plus && b == b' ' {
            out[o] = b'+';
            o += 1;
        } else {
            out[o] = b'%';
            out[o + 1] = HEX_UPPER[(b >> 4) as usize];
            out[o + 2] = HEX_UPPER[(b & 15) as usize];
            o += 3;
        }
    }
    o
}

/// Writes `urlencode(input)` into `out`, which must be exactly `urlencoded_len(input)` long.
pub fn urlencode_into(input: &[u8], out: &mut [u8]) {
    let written = encode_component_into(input, out, false);
    assert_eq!(written, out.len(), "output buffer has the wrong length");
}

/// Percent-encodes every byte outside RFC 3986's unreserved set, with uppercase hex.
pub fn urlencode(input: &[u8]) -> Vec<u8> {
    let mut out = vec![0; urlencoded_len(input)];
    urlencode_into(input, &mut out);
    out
}

/// Exact length of `urldecode(input)`: every valid `%XY` escape shrinks by two.
pub fn urldecoded_len(input: &[u8]) -> usize {
    let mut escapes = 0;
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && escape_at(input, i).is_some() {
            escapes += 1;
            i += 3;
        } else {
            i += 1;
        }
    }
    input.len() - 2 * escapes
}

/// Decodes `input` into `out`, which must be at least as long as `input`;
/// with `plus_as_space`, `+` becomes a space (form decoding). Returns the
/// number of bytes written, `urldecoded_len(input)`.
fn decode_into(input: &[u8], out: &mut [u8], plus_as_space: bool) -> usize {
    assert!(
        out.len() >= input.len(),
        "output buffer is shorter than the input"
    );
    let mut i = 0;
    let mut o = 0;
    loop {
        let run = find_special(&input[i..], plus_as_space);
        out[o..o + run].copy_from_slice(&input[i..i + run]);
        i += run;
        o += run;
        if i >= input.len() {
            return o;
        }
        if input[i] == b'+' {
            out[o] = b' ';
            i += 1;
        } else if let Some(decoded) = escape_at(input, i) {
            out[o] = decoded;
            i += 3;
        } else {
            out[o] = b'%';
            i += 1;
        }
        o += 1;
    }
}

/// Decodes `input` into `out`, which must be at least `input.len()` long (the
/// decoded text is never longer), and returns the decoded length.
pub fn urldecode_into(input: &[u8], out: &mut [u8]) -> usize {
    decode_into(input, out, false)
}

/// Decodes `%XY` escapes (either case). A `%` not followed by two hex digits is
/// kept as it is; `+` stays `+`.
pub fn urldecode(input: &[u8]) -> Vec<u8> {
    let mut out = vec![0; input.len()];
    let len = urldecode_into(input, &mut out);
    out.truncate(len);
    out
}

/// Exact length of a form component: like `urlencoded_len`, but a space is `+`.
fn form_component_len(input: &[u8]) -> usize {
    input
        .iter()
        .map(|&b| {
            if UNRESERVED[b as usize] || b == b' ' {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Exact length of `formencode(form)`.
pub fn formencoded_len(form: &Form) -> usize {
    let fields: usize = form
        .iter()
        .map(|(name, value)| form_component_len(name) + 1 + form_component_len(value))
        .sum();
    fields + form.len().saturating_sub(1)
}

/// Writes `formencode(form)` into `out`, which must be exactly `formencoded_len(form)` long.
pub fn formencode_into(form: &Form, out: &mut [u8]) {
    assert_eq!(
        out.len(),
        formencoded_len(form),
        "output buffer has the wrong length"
    );
    let mut o = 0;
    for (index, (name, value)) in form.iter().enumerate() {
        if index > 0 {
            out[o] = b'&';
            o += 1;
        }
        o += encode_component_into(name, &mut out[o..], true);
        out[o] = b'=';
        o += 1;
        o += encode_component_into(value, &mut out[o..], true);
    }
    assert_eq!(o, out.len(), "form length was miscomputed");
}

/// `application/x-www-form-urlencoded`: `name=value` pairs in order, joined by
/// `&`, space as `+`, everything outside the unreserved set percent-encoded.
pub fn formencode(form: &Form) -> Vec<u8> {
    let mut out = vec![0; formencoded_len(form)];
    formencode_into(form, &mut out);
    out
}

fn form_component_decode(input: &[u8]) -> Vec<u8> {
    let mut out = vec![0; input.len()];
    let len = decode_into(input, &mut out, true);
    out.truncate(len);
    out
}

/// Splits on `&`, then on the first `=`; `+` is a space and `%XY` escapes are
/// decoded. Empty pieces are skipped; a piece without `=` is a name with an
/// empty value. Order and duplicates are kept.
pub fn formdecode(input: &[u8]) -> Form {
    let mut form = Form::new();
    for piece in input
        .split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
    {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        form.add(form_component_decode(name), form_component_decode(value));
    }
    form
}
