//! Round trips and reference comparisons for the encodings.

use nethttp::encoding::{formdecode, formencode, urldecode, urlencode};
use nethttp::Form;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use proptest::prelude::*;

/// RFC 3986's unreserved set is everything that is left unencoded.
const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn form_of(fields: &[(Vec<u8>, Vec<u8>)]) -> Form {
    let mut form = Form::new();
    for (name, value) in fields {
        form.add(name, value);
    }
    form
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn urldecode_inverts_urlencode(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(urldecode(&urlencode(&data)), data);
    }

    #[test]
    fn urlencode_matches_percent_encoding(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let reference = percent_encoding::percent_encode(&data, ENCODE_SET).to_string();
        prop_assert_eq!(urlencode(&data), reference.into_bytes());
    }

    #[test]
    fn urldecode_matches_percent_decoding(text in "[a-zA-Z0-9%+ ]{0,40}") {
        let reference: Vec<u8> = percent_encoding::percent_decode(text.as_bytes()).collect();
        prop_assert_eq!(urldecode(text.as_bytes()), reference);
    }

    #[test]
    fn urldecode_matches_percent_decoding_on_any_bytes(
        data in proptest::collection::vec(
            prop_oneof![Just(b'%'), Just(b'+'), Just(b'a'), Just(b'F'), Just(b'0'), any::<u8>()],
            0..200,
        )
    ) {
        let reference: Vec<u8> = percent_encoding::percent_decode(&data).collect();
        let decoded = urldecode(&data);
        prop_assert_eq!(decoded.len(), nethttp::encoding::urldecoded_len(&data));
        prop_assert_eq!(decoded, reference);
    }

    #[test]
    fn formdecode_inverts_formencode(
        fields in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..20), proptest::collection::vec(any::<u8>(), 0..20)),
            0..8,
        )
    ) {
        let form = form_of(&fields);
        prop_assert_eq!(formdecode(&formencode(&form)), form);
    }

    #[test]
    fn formdecode_matches_form_urlencoded_on_text(text in "[a-z=&+ %0-9A-F]{0,40}") {
        // form_urlencoded turns invalid UTF-8 into U+FFFD, so compare on text
        // whose decoded bytes are ASCII; it also keeps empty pieces' names, so
        // compare non-empty pieces only.
        let ours = formdecode(text.as_bytes());
        let decoded_is_ascii = ours.iter().all(|(n, v)| n.is_ascii() && v.is_ascii());
        prop_assume!(decoded_is_ascii);
        let reference: Vec<(Vec<u8>, Vec<u8>)> = form_urlencoded::parse(text.as_bytes())
            .map(|(n, v)| (n.into_owned().into_bytes(), v.into_owned().into_bytes()))
            .collect();
        let ours: Vec<(Vec<u8>, Vec<u8>)> = ours.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(ours, reference);
    }
}

#[test]
fn known_vectors() {
    assert_eq!(urlencode(b"Hello World!/~"), b"Hello%20World%21%2F~");
    assert_eq!(urlencode(b"\x00\xff"), b"%00%FF");
    assert_eq!(urldecode(b"%41%4a%4A%zz%"), b"AJJ%zz%");
    assert_eq!(urldecode(b"a+b"), b"a+b");
    let form = form_of(&[
        (b"a b".to_vec(), b"c&d".to_vec()),
        (b"a b".to_vec(), b"".to_vec()),
    ]);
    assert_eq!(formencode(&form), b"a+b=c%26d&a+b=");
    assert_eq!(formencode(&Form::new()), b"");
    let decoded = formdecode(b"&x=1&&y&x=2&");
    assert_eq!(decoded.len(), 3);
    assert_eq!(decoded.get(b"x"), Some(&b"2"[..]));
    assert_eq!(decoded.get(b"y"), Some(&b""[..]));
}

#[test]
fn large_input_is_linear_and_exact() {
    let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i * 31) as u8).collect();
    let encoded = urlencode(&data);
    assert_eq!(encoded.len(), nethttp::encoding::urlencoded_len(&data));
    assert_eq!(urldecode(&encoded), data);
}
