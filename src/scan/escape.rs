//! Entity-escaped text: decoding with an offset map, and plain unescaping.
//!
//! In: validated text whose references are the five predefined entities and character
//! references (as the tokenizer checked them). Out: the decoded text, and for payloads an
//! [`OffsetMap`] that turns any offset in the decoded text back into an offset in the raw text,
//! so that spans found in a payload document point at the file's own bytes.

use std::borrow::Cow;

use memchr::memchr;

use super::tokenizer::decode_reference;

/// Maps offsets in decoded text back to the raw (escaped) text it came from.
///
/// A mark `(decoded, raw)` is recorded after every reference; between marks the two texts
/// run in step, one byte for one byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    marks: Vec<(u32, u32)>,
}

impl OffsetMap {
    /// The raw offset (relative to the start of the raw text) of decoded offset `decoded`.
    ///
    /// An offset inside the expansion of a reference maps into that reference.
    pub fn to_raw(&self, decoded: usize) -> usize {
        let d = decoded as u64;
        let i = self.marks.partition_point(|&(dm, _)| u64::from(dm) <= d);
        if i == 0 {
            decoded
        } else {
            let (dm, rm) = self.marks[i - 1];
            rm as usize + (decoded - dm as usize)
        }
    }

    /// Number of references decoded.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// `true` when the text had no reference (raw and decoded offsets are equal).
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    fn clear(&mut self) {
        self.marks.clear();
    }
}

/// Decodes validated escaped `raw` into `out` (cleared first), filling `map`.
///
/// Returns `false` (leaving `out` unspecified) when `raw` holds an invalid reference or is
/// larger than 4 GiB; the tokenizer has normally rejected such text already.
///
/// ```
/// use sn_retarget::scan::{decode_escaped, OffsetMap};
/// let raw = b"&lt;a x=\"1\"&gt;&amp;amp;&lt;/a&gt;";
/// let (mut out, mut map) = (Vec::new(), OffsetMap::default());
/// assert!(decode_escaped(raw, &mut out, &mut map));
/// assert_eq!(out, b"<a x=\"1\">&amp;</a>");
/// // "&amp;" in the decoded text starts at 9; in the raw text at 15.
/// assert_eq!(map.to_raw(9), 15);
/// ```
pub fn decode_escaped(raw: &[u8], out: &mut Vec<u8>, map: &mut OffsetMap) -> bool {
    out.clear();
    map.clear();
    if raw.len() > u32::MAX as usize {
        return false;
    }
    out.reserve(raw.len());
    let mut i = 0;
    while let Some(k) = memchr(b'&', &raw[i..]) {
        let amp = i + k;
        out.extend_from_slice(&raw[i..amp]);
        let fast = match raw.get(amp + 1..amp + 3) {
            Some(b"lt") if raw.get(amp + 3) == Some(&b';') => Some((b'<', 4)),
            Some(b"gt") if raw.get(amp + 3) == Some(&b';') => Some((b'>', 4)),
            Some(b"am") if raw.get(amp + 3..amp + 5) == Some(b"p;") => Some((b'&', 5)),
            _ => None,
        };
        if let Some((c, len)) = fast {
            out.push(c);
            i = amp + len;
            map.marks.push((out.len() as u32, i as u32));
            continue;
        }
        let limit = (amp + 12).min(raw.len());
        let Some(semi) = memchr(b';', &raw[amp + 1..limit]) else {
            return false;
        };
        let Some(c) = decode_reference(&raw[amp + 1..amp + 1 + semi]) else {
            return false;
        };
        let mut tmp = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        i = amp + 1 + semi + 1;
        map.marks.push((out.len() as u32, i as u32));
    }
    out.extend_from_slice(&raw[i..]);
    true
}

/// Joins the contents of adjacent CDATA sections (`<![CDATA[a]]]]><![CDATA[>b]]>`, how a CDATA
/// value holding `]]>` is written) into `out` (cleared first), filling `map` with where each
/// section's content starts in `raw`.
///
/// Returns `false` when `raw` is not CDATA sections alone, one after the other.
///
/// ```
/// use sn_retarget::scan::{join_cdata_sections, OffsetMap};
/// let raw = b"<![CDATA[a]]]]><![CDATA[>b]]>";
/// let (mut out, mut map) = (Vec::new(), OffsetMap::default());
/// assert!(join_cdata_sections(raw, &mut out, &mut map));
/// assert_eq!(out, b"a]]>b");
/// // ">b" starts at 3 in the joined text, at 24 in the raw text.
/// assert_eq!((map.to_raw(0), map.to_raw(3)), (9, 24));
/// assert!(!join_cdata_sections(b"<![CDATA[a]]> <![CDATA[b]]>", &mut out, &mut map));
/// ```
pub fn join_cdata_sections(raw: &[u8], out: &mut Vec<u8>, map: &mut OffsetMap) -> bool {
    const OPEN: &[u8] = b"<![CDATA[";
    out.clear();
    map.clear();
    if raw.len() > u32::MAX as usize {
        return false;
    }
    let mut at = 0;
    while at < raw.len() {
        if !raw[at..].starts_with(OPEN) {
            return false;
        }
        let start = at + OPEN.len();
        let Some(k) = memchr::memmem::find(&raw[start..], b"]]>") else {
            return false;
        };
        map.marks.push((out.len() as u32, start as u32));
        out.extend_from_slice(&raw[start..start + k]);
        at = start + k + 3;
    }
    !map.marks.is_empty()
}

/// Unescapes validated text (a field value or attribute value) for reading.
///
/// Borrowed when there is nothing to decode. Text with an invalid reference is returned as it
/// is (the tokenizer rejects such documents before any value is read).
///
/// ```
/// use sn_retarget::scan::unescape;
/// assert_eq!(unescape("a &lt; b&#13;"), "a < b\r");
/// assert_eq!(unescape("plain"), "plain");
/// ```
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    match quick_xml::escape::unescape(text) {
        Ok(s) => s,
        Err(_) => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_round_trips_every_boundary() {
        let raw = "x&lt;y&#13;&#x1F600;z&quot;";
        let (mut out, mut map) = (Vec::new(), OffsetMap::default());
        assert!(decode_escaped(raw.as_bytes(), &mut out, &mut map));
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "x<y\r\u{1F600}z\"");
        // Offsets just after each decoded reference land just after the raw reference.
        assert_eq!(map.to_raw(0), 0);
        assert_eq!(map.to_raw(1), 1); // start of "<" -> start of "&lt;"
        assert_eq!(map.to_raw(2), 5); // "y"
        assert_eq!(map.to_raw(4), 11); // after "\r"
        assert_eq!(map.to_raw(8), 20); // "z"
        assert_eq!(map.to_raw(out.len()), raw.len());
    }

    #[test]
    fn invalid_reference_is_refused() {
        let (mut out, mut map) = (Vec::new(), OffsetMap::default());
        assert!(!decode_escaped(b"a &nbsp; b", &mut out, &mut map));
        assert!(!decode_escaped(b"a & b", &mut out, &mut map));
    }
}
