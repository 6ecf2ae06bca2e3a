//! The record view handed to visitors: a record, its fields and attributes, all borrowed.

use std::borrow::Cow;
use std::ops::Range;

use serde::Serialize;

use crate::scan::{OffsetMap, Span, unescape};

/// How the text of a document is stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Escaping {
    /// Inside a CDATA section: bytes as they are, `]]>` must be split.
    Cdata,
    /// Entity-escaped text: `&lt; &gt; &amp;` (and possibly `&quot;`).
    Escaped,
}

/// How a payload document lies inside its enclosing buffer; links form a chain to the file.
#[derive(Debug)]
pub(crate) struct Layer<'a> {
    /// Offset of the payload text in the parent buffer.
    pub base: usize,
    /// `None` for the file itself.
    pub escaping: Option<Escaping>,
    /// Decoded-to-raw offsets for an escaped payload (empty for CDATA).
    pub map: Option<&'a OffsetMap>,
    pub parent: Option<&'a Layer<'a>>,
}

impl Layer<'_> {
    pub(crate) const FILE: Layer<'static> = Layer {
        base: 0,
        escaping: None,
        map: None,
        parent: None,
    };

    /// Maps an offset in this layer's buffer to an offset in the file.
    pub(crate) fn to_file(&self, mut pos: usize) -> usize {
        let mut layer = Some(self);
        while let Some(l) = layer {
            if let Some(map) = l.map {
                pos = map.to_raw(pos);
            }
            pos += l.base;
            layer = l.parent;
        }
        pos
    }

    /// The escapings from the file inwards (empty at the top level).
    pub(crate) fn escapings(&self) -> Vec<Escaping> {
        let mut out = Vec::new();
        let mut layer = Some(self);
        while let Some(l) = layer {
            if let Some(e) = l.escaping {
                out.push(e);
            }
            layer = l.parent;
        }
        out.reverse();
        out
    }
}

/// Where a record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Place {
    /// 0 = in the file itself, 1 = inside a payload, 2 = inside a payload inside a payload...
    pub depth: usize,
    /// Index of the record whose `payload` field holds this record's document.
    pub payload_of: Option<usize>,
    /// Index of the record element this one is nested in (e.g. `sys_choice_set` in a
    /// `sys_choice` wrapper), within the same document.
    pub parent: Option<usize>,
}

/// The shape of a field's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// `<x/>`.
    SelfClosing,
    /// `<x></x>`.
    EmptyPair,
    /// Character data (references still escaped in the file).
    Text,
    /// One CDATA section.
    Cdata,
    /// Anything else: text and CDATA pieces, child elements (`<item>` in conditions), comments.
    Mixed,
}

/// An attribute of a record or field element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// Attribute name.
    pub name: &'a str,
    /// The value as written (escaped), without quotes.
    pub raw: &'a str,
    /// Span of the value in the document's buffer.
    pub span: Span,
}

impl<'a> Attr<'a> {
    /// The value, unescaped.
    pub fn value(&self) -> Cow<'a, str> {
        unescape(self.raw)
    }
}

/// What the reader made of a `payload` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PayloadInfo {
    /// How the payload is stored in its field.
    pub escaping: Escaping,
    /// `true` when it was read as a document; `false` when malformed (passed through as text)
    /// or nested deeper than [`crate::model::MAX_PAYLOAD_DEPTH`].
    pub read: bool,
    /// Records read from it (0 when not read).
    pub records: usize,
}

/// One field of a record: a child element without an `action` attribute.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    /// Element name (the column).
    pub name: &'a str,
    /// How the content is written.
    pub kind: ValueKind,
    /// The whole element, in the document's buffer.
    pub element: Span,
    /// The content between start and end tag (empty, at the tag's end, for `<x/>`).
    pub content: Span,
    /// For [`ValueKind::Cdata`], the bytes inside `<![CDATA[` ... `]]>`.
    pub cdata: Option<Span>,
    /// Set when the field is a payload holding an XML document.
    pub payload: Option<PayloadInfo>,
    pub(crate) attrs: Range<usize>,
}

/// One record: an element naming its table, with fields (and possibly nested records).
#[derive(Debug)]
pub struct Record<'a> {
    /// Position in document order (pre-order), unique within one read.
    pub index: usize,
    /// The table: the element name, or for `<database>` dictionary files `sys_db_object`,
    /// `sys_dictionary` and `sys_choice` for the nested `<element>`s.
    pub table: &'a str,
    /// The element's own name.
    pub element_name: &'a str,
    /// The `action` attribute (`INSERT_OR_UPDATE`, `DELETE`, `delete_multiple`, ...).
    pub action: Option<&'a str>,
    /// Where the record lives.
    pub place: Place,
    /// The whole element in the document's buffer.
    pub span: Span,
    pub(crate) attrs: Vec<Attr<'a>>,
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) field_attrs: Vec<Attr<'a>>,
    pub(crate) buf: &'a [u8],
    pub(crate) layer: &'a Layer<'a>,
    /// [`Record::sys_id`], worked out once (rules ask for it once per field).
    pub(crate) sys_id: std::cell::OnceCell<Option<Span>>,
}

/// A record's step in a record path: `table[sys_id]` (`-` without a sys_id).
pub(crate) fn path_step(table: &str, sys_id: Option<&str>) -> String {
    format!("{table}[{}]", sys_id.unwrap_or("-"))
}

/// Between the path of a record and the step of a record inside its payload:
/// `sys_update_xml[id] > payload > sys_script[id]`.
pub(crate) const IN_PAYLOAD: &str = " > payload > ";

/// The fields (or attributes) a record's display name is read from, in order.
pub(crate) const DISPLAY_KEYS: [&str; 8] = [
    "name",
    "sys_name",
    "title",
    "label",
    "short_description",
    "element",
    "target_name",
    "field",
];

impl<'a> Record<'a> {
    /// The record element's attributes (`action`, `query`, `table`, ...).
    pub fn attrs(&self) -> &[Attr<'a>] {
        &self.attrs
    }

    /// An attribute of the record element.
    pub fn attr(&self, name: &str) -> Option<&Attr<'a>> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// The fields, in document order.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The attributes of `field` (`display_value`, `source`, `table`, ...).
    pub fn field_attrs(&self, field: &Field<'a>) -> &[Attr<'a>] {
        &self.field_attrs[field.attrs.clone()]
    }

    /// One attribute of `field`.
    pub fn field_attr(&self, field: &Field<'a>, name: &str) -> Option<&Attr<'a>> {
        self.field_attrs(field).iter().find(|a| a.name == name)
    }

    /// The raw bytes of the field's content, as written in the document's buffer.
    pub fn raw(&self, field: &Field<'a>) -> &'a [u8] {
        &self.buf[field.content.range()]
    }

    /// The field's text: references decoded, CDATA unwrapped; for mixed content the
    /// character data of the field itself (child elements left out).
    ///
    /// Line ends are normalized as XML prescribes (a raw CR LF or CR reads as LF; `&#13;`
    /// stays a CR).
    pub fn text(&self, field: &Field<'a>) -> Cow<'a, str> {
        match field.kind {
            ValueKind::SelfClosing | ValueKind::EmptyPair => Cow::Borrowed(""),
            ValueKind::Text => unescape_text(self.str_at(field.content)),
            ValueKind::Cdata => {
                normalize_newlines(self.str_at(field.cdata.unwrap_or(field.content)))
            }
            ValueKind::Mixed => Cow::Owned(mixed_text(&self.buf[field.content.range()])),
        }
    }

    /// The text of the field `name`, or else the record attribute `name` (dictionary files keep
    /// their columns in attributes).
    pub fn value(&self, name: &str) -> Option<Cow<'a, str>> {
        match self.field(name) {
            Some(f) => Some(self.text(f)),
            None => self.attr(name).map(|a| a.value()),
        }
    }

    /// The sys_id: the `sys_id` field's text when it is one plain token (ASCII letters,
    /// digits, `_`, `-`, `.`: 32 hex digits in practice, `global` for the global scope).
    pub fn sys_id(&self) -> Option<&'a str> {
        let span = *self.sys_id.get_or_init(|| self.sys_id_span());
        span.map(|s| self.str_at(s).trim())
    }

    /// Where the sys_id is, when there is one (see [`Record::sys_id`]).
    fn sys_id_span(&self) -> Option<Span> {
        let f = self.field("sys_id")?;
        if f.kind != ValueKind::Text {
            return None;
        }
        let s = self.str_at(f.content).trim();
        let plain = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        (!s.is_empty() && plain).then_some(f.content)
    }

    /// A name for people: the first of `name`, `sys_name`, `title`, `label`, `element`, ...
    /// (never `value`, which may hold a secret).
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        DISPLAY_KEYS
            .iter()
            .filter_map(|k| self.value(k))
            .find(|v| !v.trim().is_empty())
    }

    /// Maps a span of the document's buffer to the span of the same bytes in the file.
    pub fn file_span(&self, span: Span) -> Span {
        Span::new(self.layer.to_file(span.start), self.layer.to_file(span.end))
    }

    /// How the record's document is stored, from the file inwards (empty at the top level;
    /// `[Escaped]` inside an entity-escaped payload, `[Escaped, Cdata]` one level further...).
    pub fn escapings(&self) -> Vec<Escaping> {
        self.layer.escapings()
    }

    /// The buffer this record's spans point into (the file, or a decoded payload).
    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn str_at(&self, span: Span) -> &'a str {
        simdutf8::basic::from_utf8(&self.buf[span.range()]).unwrap_or_default()
    }
}

/// XML line-end normalization: CR LF and lone CR become LF.
fn normalize_newlines(s: &str) -> Cow<'_, str> {
    if memchr::memchr(b'\r', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Character data as it reads: line ends normalized, then references decoded.
fn unescape_text(s: &str) -> Cow<'_, str> {
    match normalize_newlines(s) {
        Cow::Borrowed(b) => unescape(b),
        Cow::Owned(o) => Cow::Owned(unescape(&o).into_owned()),
    }
}

/// Character data of mixed content: text (decoded) and CDATA at the top level of `content`.
fn mixed_text(content: &[u8]) -> String {
    use crate::scan::{Token, Tokenizer};
    // Wrap so the tokenizer sees one element; content was validated as part of the document.
    let mut doc = Vec::with_capacity(content.len() + 7);
    doc.extend_from_slice(b"<m>");
    doc.extend_from_slice(content);
    doc.extend_from_slice(b"</m>");
    let mut tok = Tokenizer::new(&doc);
    let mut attrs = Vec::new();
    let mut out = String::new();
    while let Ok(Some(t)) = tok.next(&mut attrs) {
        if tok.depth() != 1 {
            continue;
        }
        match t {
            Token::Text(s) => {
                out.push_str(&unescape_text(
                    std::str::from_utf8(&doc[s.range()]).unwrap_or(""),
                ));
            }
            Token::CData { content, .. } => {
                out.push_str(&normalize_newlines(
                    std::str::from_utf8(&doc[content.range()]).unwrap_or(""),
                ));
            }
            _ => {}
        }
    }
    out
}
