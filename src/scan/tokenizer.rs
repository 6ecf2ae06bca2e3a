//! A checking XML tokenizer over one buffer, driven by `memchr`.
//!
//! In: the bytes of one XML document (a file, or a payload decoded from one). Out: a stream of
//! [`Token`]s with byte spans into those bytes, or a [`ScanError`] at the first point where the
//! document is not well-formed. It checks what an import would choke on (balanced and matching
//! tags, one root, quoted attributes without `<`, valid references, no DOCTYPE) and never
//! allocates per token: names and values are spans; attributes go into a caller-owned vector.

use std::sync::LazyLock;

use memchr::{memchr, memchr2, memmem};

use super::Span;
use crate::error::SyntaxError;

/// The ends of a processing instruction, a comment and a CDATA section: searchers made once
/// (a payload starts with a declaration, and is often a CDATA section).
static PI_END: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("?>"));
static COMMENT_END: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("-->"));
static CDATA_END: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new("]]>"));

/// Deepest element nesting accepted (the tokenizer keeps its own stack, so this guards memory,
/// not the call stack).
pub const MAX_DEPTH: usize = 4096;

/// One attribute of a start tag: spans of its name and of its value without quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttr {
    /// The attribute name.
    pub name: Span,
    /// The value between the quotes, still entity-escaped.
    pub value: Span,
}

/// One piece of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// `<?xml ...?>` at the start.
    Declaration(Span),
    /// `<?target ...?>` elsewhere.
    ProcessingInstruction(Span),
    /// `<!-- ... -->`.
    Comment(Span),
    /// `<name attr="v">` or `<name/>`; attributes are in the vector passed to `next`.
    Start {
        /// Whole tag, `<` to `>`.
        span: Span,
        /// The element name.
        name: Span,
        /// `true` for `<name/>`.
        empty: bool,
    },
    /// `</name>`.
    End {
        /// Whole tag.
        span: Span,
        /// The element name.
        name: Span,
    },
    /// Character data between markup, references still escaped (validated).
    Text(Span),
    /// `<![CDATA[...]]>`.
    CData {
        /// Whole section including the delimiters.
        span: Span,
        /// The content between the delimiters.
        content: Span,
    },
}

/// Where and why tokenizing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// Byte offset of the problem in the scanned buffer.
    pub offset: usize,
    /// What is wrong.
    pub kind: SyntaxError,
}

fn err<T>(offset: usize, kind: SyntaxError) -> Result<T, ScanError> {
    Err(ScanError { offset, kind })
}

/// The tokenizer. Construct with [`Tokenizer::new`], call [`Tokenizer::next`] until `None`.
///
/// ```
/// use sn_retarget::scan::{Tokenizer, Token};
/// let src = b"<?xml version=\"1.0\"?><a x='1'>t<b/></a>";
/// let mut tok = Tokenizer::new(src);
/// let mut attrs = Vec::new();
/// let mut names = Vec::new();
/// while let Some(t) = tok.next(&mut attrs).unwrap() {
///     if let Token::Start { name, .. } = t { names.push(&src[name.range()]); }
/// }
/// assert_eq!(names, [&b"a"[..], &b"b"[..]]);
/// ```
#[derive(Debug)]
pub struct Tokenizer<'a> {
    src: &'a [u8],
    pos: usize,
    /// Names of the open elements.
    stack: Vec<Span>,
    seen_root: bool,
    done: bool,
    /// Reading a fragment: ends well with just the root still open.
    fragment: bool,
    /// Character references in text are not checked (see [`Tokenizer::structure_only`]).
    structure_only: bool,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `src`. A UTF-8 BOM at the start is skipped.
    pub fn new(src: &'a [u8]) -> Tokenizer<'a> {
        let pos = bom_len(src);
        Tokenizer {
            src,
            pos,
            stack: Vec::new(),
            seen_root: false,
            done: false,
            fragment: false,
            structure_only: false,
        }
    }

    /// The same tokenizer, checking the structure only: entity and character references in
    /// text are not looked at (those in attribute values still are). For a first look at a
    /// document whose text is checked again anyway.
    pub fn structure_only(mut self) -> Tokenizer<'a> {
        self.structure_only = true;
        self
    }

    /// A tokenizer over `src[start..end]`, a run of whole children of the root element whose
    /// name is at `root` (a document already checked from end to end, split between top-level
    /// elements). It ends well when only the root is still open.
    ///
    /// ```
    /// use sn_retarget::scan::{Span, Token, Tokenizer};
    /// let src = b"<unload><a/><b>t</b><c/></unload>";
    /// let mut tok = Tokenizer::fragment(src, 12, 20, Span::new(1, 7));
    /// let mut attrs = Vec::new();
    /// let mut n = 0;
    /// while let Some(t) = tok.next(&mut attrs).unwrap() { n += 1; }
    /// assert_eq!(n, 3); // <b>, t, </b>
    /// ```
    pub fn fragment(src: &'a [u8], start: usize, end: usize, root: Span) -> Tokenizer<'a> {
        let end = end.min(src.len());
        Tokenizer {
            src: &src[..end],
            pos: start.min(end),
            stack: vec![root],
            seen_root: true,
            done: false,
            fragment: true,
            structure_only: false,
        }
    }

    /// The same fragment, running to the end of the document: it ends well only once the
    /// root is closed (and what follows it is a well-formed end of document), as a tokenizer
    /// over the whole document would.
    ///
    /// ```
    /// use sn_retarget::scan::{Span, Tokenizer};
    /// let src = b"<unload><a/><b/></unload>";
    /// let mut attrs = Vec::new();
    /// let mut tok = Tokenizer::fragment(src, 12, src.len(), Span::new(1, 7)).to_document_end();
    /// while tok.next(&mut attrs).unwrap().is_some() {}
    /// let mut open = Tokenizer::fragment(src, 12, 16, Span::new(1, 7)).to_document_end();
    /// assert!(std::iter::from_fn(|| open.next(&mut attrs).transpose()).any(|t| t.is_err()));
    /// ```
    pub fn to_document_end(mut self) -> Tokenizer<'a> {
        self.fragment = false;
        self
    }

    /// Whether the rest of the input reads without an error to a well-formed end (every token
    /// read and dropped).
    ///
    /// ```
    /// use sn_retarget::scan::Tokenizer;
    /// assert!(Tokenizer::new(b"<a><b/></a>").reads_to_end());
    /// assert!(!Tokenizer::new(b"<a><b></a>").reads_to_end());
    /// ```
    pub fn reads_to_end(mut self) -> bool {
        let mut attrs = Vec::new();
        loop {
            match self.next(&mut attrs) {
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Number of elements currently open.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The next token, `Ok(None)` at a well-formed end, or the first error.
    ///
    /// `attrs` is cleared and filled for a [`Token::Start`].
    pub fn next(&mut self, attrs: &mut Vec<RawAttr>) -> Result<Option<Token>, ScanError> {
        if self.done {
            return Ok(None);
        }
        let src = self.src;
        let start = self.pos;
        if start >= src.len() {
            self.done = true;
            if self.fragment {
                // A run of children of the root: the root stays open across it.
                return match self.stack.len() {
                    1 => Ok(None),
                    0 => err(
                        src.len(),
                        SyntaxError::TrailingContent("the root closed early"),
                    ),
                    _ => err(
                        src.len(),
                        SyntaxError::UnexpectedEof("with elements still open"),
                    ),
                };
            }
            if let Some(open) = self.stack.last() {
                let _ = open;
                return err(
                    src.len(),
                    SyntaxError::UnexpectedEof("with elements still open"),
                );
            }
            if !self.seen_root {
                return err(src.len(), SyntaxError::NoRoot);
            }
            return Ok(None);
        }
        if src[start] != b'<' {
            return self.text(start).map(Some);
        }
        match src.get(start + 1) {
            Some(b'/') => self.end_tag(start).map(Some),
            Some(b'?') => self.pi(start).map(Some),
            Some(b'!') => self.bang(start).map(Some),
            Some(_) => self.start_tag(start, attrs).map(Some),
            None => err(start, SyntaxError::UnexpectedEof("after '<'")),
        }
    }

    fn text(&mut self, start: usize) -> Result<Token, ScanError> {
        let src = self.src;
        let mut i = start;
        if self.structure_only {
            i = memchr(b'<', &src[i..]).map_or(src.len(), |k| i + k);
        } else {
            loop {
                match memchr2(b'<', b'&', &src[i..]) {
                    Some(k) if src[i + k] == b'&' => {
                        i = check_reference(src, i + k)?;
                    }
                    Some(k) => {
                        i += k;
                        break;
                    }
                    None => {
                        i = src.len();
                        break;
                    }
                }
            }
        }
        self.pos = i;
        let span = Span::new(start, i);
        if self.stack.is_empty() {
            if let Some(k) = src[start..i].iter().position(|b| !is_space(*b)) {
                let kind = if self.seen_root {
                    SyntaxError::TrailingContent("text")
                } else {
                    SyntaxError::TextBeforeRoot
                };
                return err(start + k, kind);
            }
        }
        Ok(Token::Text(span))
    }

    fn pi(&mut self, start: usize) -> Result<Token, ScanError> {
        let src = self.src;
        let Some(k) = PI_END.find(&src[start + 2..]) else {
            return err(
                start,
                SyntaxError::UnexpectedEof("in a processing instruction"),
            );
        };
        let end = start + 2 + k + 2;
        let target_end = name_end(src, start + 2);
        if target_end == start + 2 {
            return err(start + 2, SyntaxError::InvalidName("after '<?'"));
        }
        self.pos = end;
        let span = Span::new(start, end);
        let target = &src[start + 2..target_end];
        if target.eq_ignore_ascii_case(b"xml") {
            if start != bom_len(src) {
                return err(start, SyntaxError::MisplacedDeclaration);
            }
            return Ok(Token::Declaration(span));
        }
        Ok(Token::ProcessingInstruction(span))
    }

    fn bang(&mut self, start: usize) -> Result<Token, ScanError> {
        let src = self.src;
        let rest = &src[start..];
        if rest.starts_with(b"<!--") {
            let Some(k) = COMMENT_END.find(&src[start + 4..]) else {
                return err(start, SyntaxError::UnexpectedEof("in a comment"));
            };
            let end = start + 4 + k + 3;
            self.pos = end;
            return Ok(Token::Comment(Span::new(start, end)));
        }
        if rest.starts_with(b"<![CDATA[") {
            if self.stack.is_empty() {
                return err(
                    start,
                    SyntaxError::TrailingContent("CDATA outside the root"),
                );
            }
            let cstart = start + 9;
            let Some(k) = CDATA_END.find(&src[cstart..]) else {
                return err(start, SyntaxError::UnexpectedEof("in a CDATA section"));
            };
            let end = cstart + k + 3;
            self.pos = end;
            return Ok(Token::CData {
                span: Span::new(start, end),
                content: Span::new(cstart, cstart + k),
            });
        }
        if rest.len() >= 9 && rest[2..9].eq_ignore_ascii_case(b"DOCTYPE") {
            return err(start, SyntaxError::Doctype);
        }
        if rest.len() < 9 && b"<!DOCTYPE".starts_with(rest) || rest.len() < 4 {
            return err(start, SyntaxError::UnexpectedEof("in a declaration"));
        }
        err(start, SyntaxError::UnknownDeclaration)
    }

    fn end_tag(&mut self, start: usize) -> Result<Token, ScanError> {
        let src = self.src;
        let name_start = start + 2;
        let name_stop = name_end(src, name_start);
        if name_stop == name_start {
            return err(name_start, SyntaxError::InvalidName("in an end tag"));
        }
        let mut i = name_stop;
        while i < src.len() && is_space(src[i]) {
            i += 1;
        }
        match src.get(i) {
            Some(b'>') => {}
            Some(_) => return err(i, SyntaxError::Expected("'>' to close the end tag")),
            None => return err(start, SyntaxError::UnexpectedEof("in an end tag")),
        }
        let name = Span::new(name_start, name_stop);
        let Some(open) = self.stack.pop() else {
            return err(
                start,
                SyntaxError::UnmatchedEndTag(lossy(&src[name.range()])),
            );
        };
        if src[open.range()] != src[name.range()] {
            return err(
                start,
                SyntaxError::MismatchedEndTag {
                    expected: lossy(&src[open.range()]),
                    found: lossy(&src[name.range()]),
                },
            );
        }
        self.pos = i + 1;
        Ok(Token::End {
            span: Span::new(start, i + 1),
            name,
        })
    }

    fn start_tag(&mut self, start: usize, attrs: &mut Vec<RawAttr>) -> Result<Token, ScanError> {
        let src = self.src;
        attrs.clear();
        if self.stack.is_empty() && self.seen_root {
            return err(start, SyntaxError::TrailingContent("a second root element"));
        }
        let name_start = start + 1;
        let name_stop = name_end(src, name_start);
        if name_stop == name_start {
            return err(name_start, SyntaxError::InvalidName("after '<'"));
        }
        let mut i = name_stop;
        let empty;
        let mut names: Option<rustc_hash::FxHashSet<&[u8]>> = None;
        loop {
            let ws = i;
            while i < src.len() && is_space(src[i]) {
                i += 1;
            }
            match src.get(i) {
                None => return err(start, SyntaxError::UnexpectedEof("in a start tag")),
                Some(b'>') => {
                    empty = false;
                    i += 1;
                    break;
                }
                Some(b'/') => {
                    if src.get(i + 1) == Some(&b'>') {
                        empty = true;
                        i += 2;
                        break;
                    }
                    return err(i, SyntaxError::BadAttribute("'/' not followed by '>'"));
                }
                Some(_) => {
                    if ws == i {
                        return err(i, SyntaxError::BadAttribute("missing space before it"));
                    }
                    let attr = parse_attr(src, i)?;
                    let name = &src[attr.0.name.range()];
                    // A few attributes are compared one by one; past that, by a set of their
                    // names (an element with 100,000 attributes stays linear).
                    let twice = if attrs.len() < 16 {
                        attrs.iter().any(|a| &src[a.name.range()] == name)
                    } else {
                        let seen = names.get_or_insert_with(|| {
                            attrs.iter().map(|a| &src[a.name.range()]).collect()
                        });
                        !seen.insert(name)
                    };
                    if twice {
                        return err(i, SyntaxError::DuplicateAttribute(lossy(name)));
                    }
                    attrs.push(attr.0);
                    i = attr.1;
                }
            }
        }
        let name = Span::new(name_start, name_stop);
        self.seen_root = true;
        if !empty {
            if self.stack.len() >= MAX_DEPTH {
                return err(start, SyntaxError::TooDeep(MAX_DEPTH));
            }
            self.stack.push(name);
        }
        self.pos = i;
        Ok(Token::Start {
            span: Span::new(start, i),
            name,
            empty,
        })
    }
}

/// Parses `name = "value"` at `i`; returns the attribute and the offset after it.
fn parse_attr(src: &[u8], i: usize) -> Result<(RawAttr, usize), ScanError> {
    let name_stop = name_end(src, i);
    if name_stop == i {
        return err(i, SyntaxError::InvalidName("for an attribute"));
    }
    let mut j = name_stop;
    while j < src.len() && is_space(src[j]) {
        j += 1;
    }
    if src.get(j) != Some(&b'=') {
        return err(j, SyntaxError::BadAttribute("expected '='"));
    }
    j += 1;
    while j < src.len() && is_space(src[j]) {
        j += 1;
    }
    let quote = match src.get(j) {
        Some(&q @ (b'"' | b'\'')) => q,
        Some(_) => return err(j, SyntaxError::BadAttribute("value not quoted")),
        None => return err(j, SyntaxError::UnexpectedEof("in an attribute")),
    };
    let vstart = j + 1;
    let Some(k) = memchr(quote, &src[vstart..]) else {
        return err(j, SyntaxError::UnexpectedEof("in an attribute value"));
    };
    let vend = vstart + k;
    let mut v = vstart;
    while let Some(k) = memchr2(b'<', b'&', &src[v..vend]) {
        if src[v + k] == b'<' {
            return err(v + k, SyntaxError::LtInAttribute);
        }
        v = check_reference(src, v + k)?;
    }
    Ok((
        RawAttr {
            name: Span::new(i, name_stop),
            value: Span::new(vstart, vend),
        },
        vend + 1,
    ))
}

/// Checks the reference starting with `&` at `amp`; returns the offset after its `;`.
#[inline]
pub(crate) fn check_reference(src: &[u8], amp: usize) -> Result<usize, ScanError> {
    // Fast path for the references escaped payloads are made of.
    if let Some(len) = common_reference(&src[amp + 1..]) {
        return Ok(amp + 1 + len);
    }
    let limit = (amp + 12).min(src.len());
    let Some(k) = memchr(b';', &src[amp + 1..limit]) else {
        return err(amp, SyntaxError::BadReference(reference_preview(src, amp)));
    };
    let body = &src[amp + 1..amp + 1 + k];
    if decode_reference(body).is_none() {
        return err(amp, SyntaxError::BadReference(reference_preview(src, amp)));
    }
    Ok(amp + 1 + k + 1)
}

fn reference_preview(src: &[u8], amp: usize) -> String {
    // What follows a bad `&` may be part of a secret value: only its shape is described.
    match src.get(amp + 1) {
        Some(b'#') => "(a malformed character reference)".to_string(),
        Some(b) if b.is_ascii_alphabetic() => "(an undefined entity name)".to_string(),
        _ => "('&' not followed by a reference; write &amp;)".to_string(),
    }
}

/// Length of a UTF-8 byte order mark at the start of `src` (0 or 3).
fn bom_len(src: &[u8]) -> usize {
    if src.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

/// Length (after the `&`, `;` included) of `lt;`, `gt;`, `amp;` or `quot;` at the start of
/// `rest`, and the character it stands for.
#[inline]
pub(crate) fn common_reference(rest: &[u8]) -> Option<usize> {
    match rest {
        [b'l' | b'g', b't', b';', ..] => Some(3),
        [b'a', b'm', b'p', b';', ..] => Some(4),
        [b'q', b'u', b'o', b't', b';', ..] => Some(5),
        _ => None,
    }
}

/// The character a reference body (between `&` and `;`) stands for.
///
/// ```
/// use sn_retarget::scan::decode_reference;
/// assert_eq!(decode_reference(b"lt"), Some('<'));
/// assert_eq!(decode_reference(b"#13"), Some('\r'));
/// assert_eq!(decode_reference(b"#x41"), Some('A'));
/// assert_eq!(decode_reference(b"nbsp"), None);
/// ```
pub fn decode_reference(body: &[u8]) -> Option<char> {
    match body {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        [b'#', b'x', hex @ ..] if !hex.is_empty() && hex.len() <= 6 => {
            let s = std::str::from_utf8(hex).ok()?;
            if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            xml_char(u32::from_str_radix(s, 16).ok()?)
        }
        [b'#', dec @ ..] if !dec.is_empty() && dec.len() <= 7 => {
            if !dec.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let s = std::str::from_utf8(dec).ok()?;
            xml_char(s.parse().ok()?)
        }
        _ => None,
    }
}

fn xml_char(code: u32) -> Option<char> {
    let c = char::from_u32(code)?;
    let ok = matches!(code, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF);
    ok.then_some(c)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_char(b: u8) -> bool {
    is_name_start(b) || b.is_ascii_digit() || b == b'-' || b == b'.'
}

/// End of the XML name starting at `i` (`i` itself when there is none).
fn name_end(src: &[u8], i: usize) -> usize {
    match src.get(i) {
        Some(&b) if is_name_start(b) => {}
        _ => return i,
    }
    let mut j = i + 1;
    while j < src.len() && is_name_char(src[j]) {
        j += 1;
    }
    j
}

fn lossy(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 64 {
        let t: String = s.chars().take(64).collect();
        format!("{t}...")
    } else {
        s.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(src: &[u8]) -> Result<Vec<Token>, ScanError> {
        let mut t = Tokenizer::new(src);
        let mut attrs = Vec::new();
        let mut out = Vec::new();
        while let Some(tok) = t.next(&mut attrs)? {
            out.push(tok);
        }
        Ok(out)
    }

    #[test]
    fn accepts_the_usual_shapes() {
        for src in [
            &b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><unload/>"[..],
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\r\n<a>\r\n<b x=\"&quot;\" y='1'></b></a>",
            b"<a><![CDATA[<x>]]]]><![CDATA[>]]>&#13;&#x41;</a>\n",
            b"<!-- c --><a/><!-- d -->\n",
        ] {
            all(src).unwrap();
        }
    }

    #[test]
    fn rejects_with_offsets() {
        let cases: &[(&[u8], usize)] = &[
            (b"<a><b></a>", 6),
            (b"<a>", 3),
            (b"<a/><b/>", 4),
            (b"<a>&nbsp;</a>", 3),
            (b"<a x=\"<\"/>", 6),
            (b"<!DOCTYPE a><a/>", 0),
            (b"<a/> x", 5),
            (b" <?xml version=\"1.0\"?><a/>", 1),
            (b"<a x=\"1\"x=\"2\"/>", 8),
            (b"<a x=\"1\" x=\"2\"/>", 9),
            (b"", 0),
        ];
        for (src, offset) in cases {
            let e = all(src).unwrap_err();
            assert_eq!(
                e.offset,
                *offset,
                "{:?}: {:?}",
                String::from_utf8_lossy(src),
                e
            );
        }
    }
}
