//! Ciphertext as ServiceNow exports it, in decoded values and in raw bytes at any escaping
//! depth.
//!
//! In: a decoded value ([`ciphertext_shape`]), or bytes as they lie in a file, a payload or an
//! output ([`find_ciphertext`]). Out: whether they hold ciphertext, and where.
//!
//! Two shapes are known: KMF values framed by the noncharacters U+FDD0..U+FDEF, and `)pR#`
//! followed by base64 (password2 in update-set payloads). In raw bytes either may be spelled
//! with character references (`&#64990;`, `&#xFDDE;`, `)pR&#35;...`, as Python's ElementTree
//! writes with `encoding="us-ascii"`), escaped again once per payload layer
//! (`&amp;#xFDDE;`, `&amp;amp;#35;`). The byte scan reads every such spelling as the character
//! it stands for, at whatever depth, so it finds what ServiceNow's importer would decode at
//! the layer the bytes belong to (and, conservatively, a reference one layer too deep as well).
//!
//! Every match holds an anchor byte: the `#` of a character reference or of `)pR#`, or the
//! first byte (`0xEF`) of a KMF noncharacter written as UTF-8. The scan looks only at anchors
//! and reads around each through a cursor, so the same matcher runs over one buffer and
//! over an output made of input stretches and replacements that was never built.

use serde::Serialize;

/// The ciphertext shapes ServiceNow exports.
///
/// A value is [`CipherShape::Noncharacter`] when it holds any of U+FDD0..U+FDEF (the framing of
/// KMF values, never found in real text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CipherShape {
    /// U+FDDE U+FDDF U+FDD2 + key id + ... + U+FDEE U+FDEF (source control, KMF).
    Noncharacter,
    /// `)pR#` + base64 (password2 in update-set payloads).
    PrefixPr,
}

/// `true` for the noncharacters U+FDD0..U+FDEF that frame KMF values (no real text has them).
pub fn is_kmf_char(c: char) -> bool {
    ('\u{FDD0}'..='\u{FDEF}').contains(&c)
}

/// `true` for the characters of a `)pR#` value after the prefix.
fn is_base64ish(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')
}

/// The ciphertext shape of a decoded `value`, if it has one.
///
/// ```
/// use sn_retarget::analyze::secrets::{ciphertext_shape, CipherShape};
/// assert_eq!(ciphertext_shape(")pR#nbSKvqP9LvXw/b5"), Some(CipherShape::PrefixPr));
/// assert_eq!(ciphertext_shape("\u{FDDE}\u{FDDF}\u{FDD2}1543c7e9\u{FDEE}\u{FDEF}"), Some(CipherShape::Noncharacter));
/// assert_eq!(ciphertext_shape("hello"), None);
/// ```
pub fn ciphertext_shape(value: &str) -> Option<CipherShape> {
    let v = value.trim();
    if v.contains(is_kmf_char) {
        return Some(CipherShape::Noncharacter);
    }
    let rest = v.strip_prefix(")pR#")?;
    (rest.len() >= 8 && rest.chars().all(is_base64ish)).then_some(CipherShape::PrefixPr)
}

/// `true` when raw bytes (a field's content as written, references still escaped) may hold
/// ciphertext once decoded: they hold an anchor (`#`, or a UTF-8 KMF noncharacter). A quick
/// filter before decoding; [`ciphertext_shape`] decides.
///
/// ```
/// use sn_retarget::analyze::secrets::may_hold_ciphertext;
/// assert!(may_hold_ciphertext(b"&#64990;&#64991;abc"));
/// assert!(may_hold_ciphertext(b")pR&#35;c2VjcmV0c2VjcmV0"));
/// assert!(!may_hold_ciphertext(b"https://dev1.service-now.com/oauth_token.do"));
/// ```
pub fn may_hold_ciphertext(raw: &[u8]) -> bool {
    memchr::memchr2_iter(b'#', 0xEF, raw)
        .any(|i| raw[i] == b'#' || is_kmf_utf8(raw.get(i + 1..i + 3)))
}

fn is_kmf_utf8(rest: Option<&[u8]>) -> bool {
    matches!(rest, Some([0xB7, 0x90..=0xAF]))
}

/// Where the first ciphertext is in raw `bytes` (a whole output, whatever its structure): a
/// KMF noncharacter (as UTF-8 or as a character reference at any escaping depth), or `)pR#`
/// (each character possibly a reference) followed by base64 up to the end of its value. The
/// offset is where the match starts. The fail-closed check of the rewrite.
///
/// ```
/// use sn_retarget::analyze::secrets::find_ciphertext;
/// assert_eq!(find_ciphertext(b"<v>&amp;#xFDDE;&amp;#xFDDF;</v>"), Some(3));
/// assert_eq!(find_ciphertext(b"<v>)pR&#35;c2VjcmV0c2VjcmV0</v>"), Some(3));
/// assert_eq!(find_ciphertext(b"<v>&#41;pR#c2VjcmV0c2VjcmV0</v>"), Some(3));
/// assert_eq!(find_ciphertext(b"<v>a &#35; b &#13;</v>"), None);
/// ```
pub fn find_ciphertext(bytes: &[u8]) -> Option<usize> {
    let flat = Flat(bytes);
    let mut value = Vec::new();
    memchr::memchr2_iter(b'#', 0xEF, bytes).find_map(|a| match_at(&flat, a, &mut value))
}

/// Bytes read one at a time in both directions: one buffer, or an output made of pieces.
pub(crate) trait Cursor {
    /// A place: always on a byte.
    type P: Copy;
    /// The byte at `p`.
    fn byte(&self, p: Self::P) -> u8;
    /// The place after `p`, if any.
    fn next(&self, p: Self::P) -> Option<Self::P>;
    /// The place before `p`, if any.
    fn prev(&self, p: Self::P) -> Option<Self::P>;
}

/// One buffer.
pub(crate) struct Flat<'a>(&'a [u8]);

impl Cursor for Flat<'_> {
    type P = usize;
    fn byte(&self, p: usize) -> u8 {
        self.0[p]
    }
    fn next(&self, p: usize) -> Option<usize> {
        (p + 1 < self.0.len()).then_some(p + 1)
    }
    fn prev(&self, p: usize) -> Option<usize> {
        p.checked_sub(1)
    }
}

/// One character of the text: a byte as it is, or a numeric character reference (after any
/// number of `amp;` layers) read as the character it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Byte(u8),
    Ref(char),
}

impl Unit {
    fn is(self, c: u8) -> bool {
        match self {
            Unit::Byte(b) => b == c,
            Unit::Ref(r) => r == c as char,
        }
    }
}

/// The match holding the anchor at `a` (a `#` or a `0xEF`), as the place it starts.
pub(crate) fn match_at<C: Cursor>(c: &C, a: C::P, value: &mut Vec<u8>) -> Option<C::P> {
    match c.byte(a) {
        0xEF => {
            let b1 = c.next(a)?;
            let b2 = c.next(b1)?;
            (c.byte(b1) == 0xB7 && (0x90..=0xAF).contains(&c.byte(b2))).then_some(a)
        }
        b'#' => match ref_around_hash(c, a) {
            Some((start, ch, after)) if is_kmf_char(ch) => {
                let _ = after;
                Some(start)
            }
            Some((start, '#', after)) => pr_ending(c, start, after, value),
            Some(_) => None,
            None => pr_ending(c, a, c.next(a), value),
        },
        _ => None,
    }
}

/// The `)pR#` match whose `#` unit starts at `hash` (the place after it is `after`), if the
/// three units before it are `)pR` and a base64 value follows: where it starts.
fn pr_ending<C: Cursor>(
    c: &C,
    hash: C::P,
    after: Option<C::P>,
    value: &mut Vec<u8>,
) -> Option<C::P> {
    let mut start = hash;
    for want in [b'R', b'p', b')'] {
        let (s, unit) = unit_before(c, start)?;
        if !unit.is(want) {
            return None;
        }
        start = s;
    }
    is_pr_value(c, after, value).then_some(start)
}

/// `true` when the text from `at` up to the end of its value is a `)pR#` value's base64.
fn is_pr_value<C: Cursor>(c: &C, mut at: Option<C::P>, value: &mut Vec<u8>) -> bool {
    value.clear();
    while let Some(p) = at {
        let (unit, next) = unit_at(c, p);
        let ch = match unit {
            Unit::Byte(b) => b as char,
            Unit::Ref(r) => r,
        };
        if matches!(ch, '<' | '&' | '"' | '\'' | ']') || ch.is_whitespace() {
            break;
        }
        if !is_base64ish(ch) {
            return false;
        }
        value.push(ch as u8);
        at = next;
    }
    value.len() >= 8
}

/// The unit starting at `p`, and the place after it.
fn unit_at<C: Cursor>(c: &C, p: C::P) -> (Unit, Option<C::P>) {
    let b = c.byte(p);
    if b == b'&' {
        if let Some((ch, after)) = ref_from_amp(c, p) {
            return (Unit::Ref(ch), after);
        }
    }
    (Unit::Byte(b), c.next(p))
}

/// A numeric character reference starting at the `&` at `p`: `&` (`amp;`)* `#` digits `;`
/// or `&` (`amp;`)* `#x` hex digits `;`. The character and the place after the `;`.
fn ref_from_amp<C: Cursor>(c: &C, p: C::P) -> Option<(char, Option<C::P>)> {
    let mut at = c.next(p)?;
    // `amp;` layers.
    loop {
        if c.byte(at) == b'#' {
            break;
        }
        let mut q = at;
        for (k, want) in b"amp;".iter().enumerate() {
            if c.byte(q) != *want {
                return None;
            }
            if k < 3 {
                q = c.next(q)?;
            }
        }
        at = c.next(q)?;
    }
    let (ch, after) = digits_after_hash(c, at)?;
    Some((ch, after))
}

/// After the `#` at `hash`: digits (or `x` and hex digits) and `;`. The character and the
/// place after the `;`.
fn digits_after_hash<C: Cursor>(c: &C, hash: C::P) -> Option<(char, Option<C::P>)> {
    let mut at = c.next(hash)?;
    let radix = if c.byte(at) == b'x' {
        at = c.next(at)?;
        16
    } else {
        10
    };
    let mut code: u32 = 0;
    let mut digits = 0usize;
    loop {
        let b = c.byte(at);
        if b == b';' {
            break;
        }
        let d = (b as char).to_digit(radix)?;
        code = code.saturating_mul(radix).saturating_add(d);
        digits += 1;
        at = c.next(at)?;
    }
    if digits == 0 {
        return None;
    }
    Some((char::from_u32(code)?, c.next(at)))
}

/// The numeric character reference (`&#46;`, `&#x2E;`, after any number of `amp;` layers:
/// `&amp;#46;`) whose `#` is at `hash` in `bytes`: where it starts (its `&`), the character it
/// stands for, and where it ends (after its `;`).
pub(crate) fn reference_at_hash(bytes: &[u8], hash: usize) -> Option<(usize, char, usize)> {
    let (start, ch, after) = ref_around_hash(&Flat(bytes), hash)?;
    Some((start, ch, after.unwrap_or(bytes.len())))
}

/// The numeric reference whose `#` is at `hash`: where it starts (its `&`), its character and
/// the place after its `;`.
fn ref_around_hash<C: Cursor>(c: &C, hash: C::P) -> Option<(C::P, char, Option<C::P>)> {
    let start = amp_before(c, hash)?;
    let (ch, after) = digits_after_hash(c, hash)?;
    Some((start, ch, after))
}

/// The `&` that opens a reference whose `#` is at `hash`: right before it, or before a run of
/// `amp;` layers.
fn amp_before<C: Cursor>(c: &C, hash: C::P) -> Option<C::P> {
    let mut at = c.prev(hash)?;
    loop {
        if c.byte(at) == b'&' {
            return Some(at);
        }
        // `amp;` read backwards.
        for want in b";pma" {
            if c.byte(at) != *want {
                return None;
            }
            at = c.prev(at)?;
        }
    }
}

/// The unit that ends right before `p`: its start and what it reads as.
fn unit_before<C: Cursor>(c: &C, p: C::P) -> Option<(C::P, Unit)> {
    let last = c.prev(p)?;
    if c.byte(last) == b';' {
        // A reference ends here if hex digits, `#` (or `#x`) and an `&` chain precede it.
        let mut at = c.prev(last)?;
        let mut digits = 0;
        while c.byte(at).is_ascii_hexdigit() {
            digits += 1;
            match c.prev(at) {
                Some(q) => at = q,
                None => return Some((last, Unit::Byte(b';'))),
            }
        }
        if c.byte(at) == b'x' {
            if let Some(q) = c.prev(at) {
                at = q;
            }
        }
        if digits > 0 && c.byte(at) == b'#' {
            if let Some((start, ch, _)) = ref_around_hash(c, at) {
                return Some((start, Unit::Ref(ch)));
            }
        }
        return Some((last, Unit::Byte(b';')));
    }
    Some((last, Unit::Byte(c.byte(last))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_found() {
        for hit in [
            "\u{FDDE}\u{FDDF}\u{FDD2}abc\u{FDEE}\u{FDEF}",
            "&#64990;&#64991;&#64978;abc",
            "&#xFDDE;&#xfddf;",
            "&#x0000FDDE;",
            "&amp;#xFDDE;",
            "&amp;amp;#64990;",
            ")pR#c2VjcmV0c2VjcmV0",
            ")pR&#35;c2VjcmV0c2VjcmV0",
            "&#41;&#112;&#82;&#35;c2VjcmV0c2VjcmV0",
            "&amp;#41;pR&amp;amp;#x23;c2VjcmV0&#99;2VjcmV0",
            ")pR#c2VjcmV0c2VjcmV0&amp;lt;/x",
        ] {
            let doc = format!("<a><v>{hit}</v></a>");
            assert_eq!(find_ciphertext(doc.as_bytes()), Some(6), "{hit}");
        }
        for miss in [
            "&#13;&#10;",
            "a # b",
            ")pR#short",
            ")pR#has.a.dot.in.it",
            "&#41;pR#",
            "&#xFDD;",
            "&#;",
            "&#x;",
            "&amp#64990;",
            "&ampamp;#64990;",
            "#64990;",
            "&#99999999999999999999;",
            "\u{FDCF}\u{FDF0}",
        ] {
            let doc = format!("<a><v>{miss}</v></a>");
            assert_eq!(find_ciphertext(doc.as_bytes()), None, "{miss}");
        }
    }
}
