//! Tokens spelled with character references.
//!
//! Hosts, sys_ids and namespaces are found in a value's raw bytes ([`super::tokens`]): the
//! usual escaping (`&lt;`, `&amp;`, `&quot;`) never touches their characters. A numeric
//! character reference can spell any of them (`dev1&#46;service-now.com`, or
//! `&amp;#x64;ev1.service-now.com` inside an escaped payload), and ServiceNow reads the
//! character on import, so such a value is searched decoded and each substitution mapped back
//! to the raw bytes it covers (the replacement is plain ASCII, right at any escaping depth).
//!
//! A reference is read at any depth (`&amp;#46;` in a value outside any payload too: a field
//! holding HTML shows it as the character), as the ciphertext scan reads them: when unsure,
//! the reading that leaves nothing of the source behind.
//!
//! In: a part of a file ([`token_refs`]: where such references are, found once) and a value's
//! raw bytes ([`Decoded`]). Out: the decoded value and where each of its bytes lies in the raw.
//! Real exports spell only `&#13;` and `&#34;` this way, so the decoded path is rare.

use crate::redact::cipher::reference_at_hash;
use crate::scan::Span;

/// `true` for the characters hosts, sys_ids and namespaces (and the percent-escapes before a
/// host) are made of.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '%')
}

/// Where `part` (whose first byte is at `base` in the file) holds a numeric character
/// reference to a token character, at any escaping depth: the offset of each one's `&`, in
/// order.
pub(crate) fn token_refs(part: &[u8], base: usize) -> Vec<usize> {
    memchr::memchr_iter(b'#', part)
        .filter_map(|hash| match reference_at_hash(part, hash) {
            Some((start, ch, _)) if is_token_char(ch) => Some(base + start),
            _ => None,
        })
        .collect()
}

/// A value's raw bytes with every numeric character reference (at any escaping depth) read as
/// the character it stands for, and where each decoded byte lies in the raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// The decoded bytes.
    pub(crate) bytes: Vec<u8>,
    /// Per decoded byte, the raw offset of the character it belongs to; then the raw length.
    starts: Vec<usize>,
}

impl Decoded {
    /// `raw` decoded.
    pub(crate) fn of(raw: &[u8]) -> Decoded {
        let mut bytes = Vec::with_capacity(raw.len());
        let mut starts = Vec::with_capacity(raw.len() + 1);
        let mut at = 0;
        for hash in memchr::memchr_iter(b'#', raw) {
            let Some((start, ch, end)) = reference_at_hash(raw, hash) else {
                continue;
            };
            if start < at {
                continue; // inside a reference already read
            }
            bytes.extend_from_slice(&raw[at..start]);
            starts.extend(at..start);
            let mut utf8 = [0u8; 4];
            for &b in ch.encode_utf8(&mut utf8).as_bytes() {
                bytes.push(b);
                starts.push(start);
            }
            at = end;
        }
        bytes.extend_from_slice(&raw[at..]);
        starts.extend(at..raw.len());
        starts.push(raw.len());
        Decoded { bytes, starts }
    }

    /// The raw bytes a span of the decoded bytes covers (a token's span: it starts and ends
    /// on whole characters).
    pub(crate) fn raw_span(&self, span: Span) -> Span {
        Span::new(self.starts[span.start], self.starts[span.end])
    }
}

#[cfg(test)]
mod tests {
    use super::{Decoded, token_refs};
    use crate::scan::Span;

    #[test]
    fn references_to_token_characters_are_found_at_any_depth() {
        let part = b"x&#46;y &#13; &#34; &amp;#x64;ev &amp;amp;#95; &#233; )pR&#35;";
        let at: Vec<usize> = token_refs(part, 100).iter().map(|a| a - 100).collect();
        assert_eq!(at, [1, 20, 33]);
        assert!(token_refs(b"#fff &#xZZ; &#;", 0).is_empty());
    }

    #[test]
    fn decoded_bytes_map_back_to_the_raw_characters() {
        let raw = b"https://dev1&#46;service-now.com &amp;#x64;&#233;v";
        let d = Decoded::of(raw);
        assert_eq!(d.bytes, "https://dev1.service-now.com d\u{e9}v".as_bytes());
        // "dev1.service-now.com" decoded -> its raw spelling.
        let host = Span::new(8, 28);
        assert_eq!(&raw[d.raw_span(host).range()], b"dev1&#46;service-now.com");
        // The whole decoded text -> the whole raw text.
        let all = Span::new(0, d.bytes.len());
        assert_eq!(d.raw_span(all), Span::new(0, raw.len()));
        // A bad reference stays as it is.
        assert_eq!(Decoded::of(b"a&#xZZ;b").bytes, b"a&#xZZ;b");
    }
}
