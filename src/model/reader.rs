//! The reader: drives the tokenizer over a document, builds records, descends into payloads.

use std::ops::Range;

use serde::Serialize;

use super::input::check_input;
use super::outline::TopTables;
use super::record::Layer;
use super::{Attr, Escaping, Field, PayloadInfo, Place, Record, Shape, ValueKind, Visitor};
use crate::error::{
    Diagnostic, Location, PayloadFrame, Position, ReadError, Severity, Snippet, SyntaxError,
};
use crate::scan::{
    OffsetMap, RawAttr, ScanError, Span, Token, Tokenizer, decode_escaped, join_cdata_sections,
};

/// Payloads nested deeper than this are kept as text (with a diagnostic).
pub const MAX_PAYLOAD_DEPTH: usize = 8;

/// Largest document accepted (spans in payload maps are 32-bit).
pub const MAX_DOCUMENT_BYTES: u64 = u32::MAX as u64;

/// What reading a document found besides its records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadOutcome {
    /// The kind of export.
    pub shape: Shape,
    /// Number of records, payloads included.
    pub records: usize,
    /// Number of payload documents read.
    pub payloads: usize,
    /// Findings that did not stop reading (malformed payloads, payloads nested too deep).
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a whole document, handing every record to `visitor`.
///
/// Fails on input that is not well-formed XML (with the position of the first problem), on
/// invalid UTF-8 and on DOCTYPE declarations. A malformed payload does not fail the read: it is
/// reported in [`ReadOutcome::diagnostics`] and its records are withdrawn from the visitor.
/// On error, what the visitor received is incomplete and should be dropped.
pub fn read<V: Visitor>(src: &[u8], visitor: &mut V) -> Result<ReadOutcome, ReadError> {
    read_with(src, visitor, MAX_PAYLOAD_DEPTH)
}

/// [`read`] with a payload depth limit of your own (0 reads no payload at all, and says
/// nothing about them).
pub fn read_with<V: Visitor>(
    src: &[u8],
    visitor: &mut V,
    max_payload_depth: usize,
) -> Result<ReadOutcome, ReadError> {
    check_input(src)?;
    let mut reader = Reader::new(src, visitor, max_payload_depth, 0);
    let shape = reader
        .read_doc(src, &Layer::FILE, 0, None, None)
        .map_err(|e| ReadError::new(e.kind, Location::at(src, e.offset)))?
        .shape();
    Ok(ReadOutcome {
        shape,
        records: reader.next_index,
        payloads: reader.payloads,
        diagnostics: reader.diagnostics,
    })
}

/// `true` when `raw` (a payload field's text, stored with `escaping`) holds a
/// `<record_update>` document, optionally after an XML declaration: what ServiceNow writes in
/// payloads. Other XML-looking text in a field named `payload` stays text.
/// How a payload's document is stored in its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// One CDATA section.
    Cdata,
    /// CDATA sections one after the other (the document holds `]]>`).
    Sections,
    /// Entity-escaped text.
    Escaped,
}

impl Stored {
    /// How the document's text is escaped in its field.
    fn escaping(self) -> Escaping {
        match self {
            Stored::Escaped => Escaping::Escaped,
            Stored::Cdata | Stored::Sections => Escaping::Cdata,
        }
    }
}

const CDATA_OPEN: &[u8] = b"<![CDATA[";

/// How `field` (in `buf`) stores an update document, and the span of its stored text, when it
/// holds one.
fn update_document(field: &Field<'_>, buf: &[u8]) -> Option<(Stored, Span)> {
    let content = &buf[field.content.range()];
    let (stored, text) = match field.kind {
        ValueKind::Cdata => (Stored::Cdata, field.cdata?),
        ValueKind::Text => (Stored::Escaped, field.content),
        // A CDATA payload holding `]]>` is CDATA sections one after the other.
        ValueKind::Mixed if content.starts_with(CDATA_OPEN) => (Stored::Sections, field.content),
        _ => return None,
    };
    let head = match stored {
        Stored::Sections => &content[CDATA_OPEN.len()..],
        _ => &buf[text.range()],
    };
    is_update_document(head, stored.escaping()).then_some((stored, text))
}

/// Decodes a payload's stored text into its document and the offset map back.
type Decode = fn(&[u8], &mut Vec<u8>, &mut OffsetMap) -> bool;

fn is_update_document(raw: &[u8], escaping: Escaping) -> bool {
    let lt: &[u8] = match escaping {
        Escaping::Cdata => b"<",
        Escaping::Escaped => b"&lt;",
    };
    let mut rest = raw.trim_ascii_start();
    if rest.starts_with(lt) && rest[lt.len()..].starts_with(b"?xml") {
        // The declaration ends at its first `?` (its values hold none), then `>`, escaped or
        // not (XML does not ask for it): a look at a few bytes, not a search of the payload.
        let from = lt.len() + 4;
        let Some(q) = memchr::memchr(b'?', &rest[from..]).map(|k| from + k) else {
            return false;
        };
        let after = &rest[q + 1..];
        let end = match after {
            [b'>', ..] => 1,
            [b'&', b'g', b't', b';', ..] => 4,
            _ => return false,
        };
        rest = after[end..].trim_ascii_start();
    }
    rest.starts_with(lt) && rest[lt.len()..].starts_with(b"record_update")
}

struct ChainFrame {
    table: String,
    sys_id: Option<String>,
    file_offset: usize,
}

pub(super) struct Reader<'f, 'v, V> {
    file: &'f [u8],
    visitor: &'v mut V,
    pub(super) next_index: usize,
    pub(super) payloads: usize,
    max_payload_depth: usize,
    pub(super) diagnostics: Vec<Diagnostic>,
    /// One decode buffer per payload depth, reused.
    scratch: Vec<(Vec<u8>, OffsetMap)>,
    /// The payloads being read, outermost first.
    chain: Vec<ChainFrame>,
    /// Positions in the file, for diagnostics (many malformed payloads stay linear).
    locator: crate::error::Locator<'f>,
}

struct RecordBuilder<'a> {
    index: usize,
    table: &'a str,
    element_name: &'a str,
    action: Option<&'a str>,
    parent: Option<usize>,
    start: usize,
    attrs: Vec<Attr<'a>>,
    fields: Vec<Field<'a>>,
    field_attrs: Vec<Attr<'a>>,
    diag_mark: usize,
    /// The content of its first `sys_id` field, once read.
    sys_id: Option<Span>,
}

struct FieldBuilder<'a> {
    name: &'a str,
    start: usize,
    content_start: usize,
    attrs: Range<usize>,
    kind: Option<ValueKind>,
    cdata: Option<Span>,
}

/// Where the document being read lies: its bytes, its layer in the file, its payload depth and
/// the record whose payload it is.
#[derive(Clone, Copy)]
struct Doc<'a> {
    buf: &'a [u8],
    layer: &'a Layer<'a>,
    depth: usize,
    payload_of: Option<usize>,
}

/// The elements open while a document is read, and what its top level showed so far.
#[derive(Default)]
struct OpenElements<'a> {
    stack: Vec<Frame<'a>>,
    top: TopTables<'a>,
    /// The root is `<database>` (a dictionary export).
    dictionary: bool,
}

/// Where and why a payload document failed to read.
struct PayloadFailure {
    file_offset: usize,
    inner: Position,
    snippet: Option<Snippet>,
    kind: SyntaxError,
}

/// The record holding a `payload` field.
struct PayloadOwner<'a> {
    index: usize,
    table: &'a str,
    sys_id: Option<String>,
}

enum Frame<'a> {
    Root,
    Container { name: &'a str },
    Record(RecordBuilder<'a>),
    Field(FieldBuilder<'a>),
    Inner,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent<'a> {
    None,
    Root,
    Record,
    Container(&'a str),
    Value,
}

pub(super) fn as_str(buf: &[u8], span: Span) -> &str {
    simdutf8::basic::from_utf8(&buf[span.range()]).unwrap_or_default()
}

fn convert_attrs<'a>(buf: &'a [u8], raw: &[RawAttr], out: &mut Vec<Attr<'a>>) {
    out.extend(raw.iter().map(|a| Attr {
        name: as_str(buf, a.name),
        raw: as_str(buf, a.value),
        span: a.value,
    }));
}

impl<'f, 'v, V: Visitor> Reader<'f, 'v, V> {
    pub(super) fn new(
        file: &'f [u8],
        visitor: &'v mut V,
        max_payload_depth: usize,
        first_index: usize,
    ) -> Self {
        Reader {
            file,
            visitor,
            next_index: first_index,
            payloads: 0,
            max_payload_depth,
            diagnostics: Vec::new(),
            scratch: Vec::new(),
            chain: Vec::new(),
            locator: crate::error::Locator::new(file),
        }
    }

    /// Reads one document (the file or a payload) held in `buf`; with `part` (a run of whole
    /// children of the root, and the root's name), only that run.
    pub(super) fn read_doc<'a>(
        &mut self,
        buf: &'a [u8],
        layer: &'a Layer<'a>,
        depth: usize,
        payload_of: Option<usize>,
        part: Option<(Span, Span)>,
    ) -> Result<TopTables<'a>, ScanError> {
        let doc = Doc {
            buf,
            layer,
            depth,
            payload_of,
        };
        let mut tok = match part {
            Some((run, root)) => Tokenizer::fragment(buf, run.start, run.end, root),
            None => Tokenizer::new(buf),
        };
        let mut raw_attrs: Vec<RawAttr> = Vec::new();
        let mut open = OpenElements::default();
        if let Some((_, name)) = part {
            open.stack.push(Frame::Root);
            open.top.root = as_str(buf, name);
        }
        while let Some(token) = tok.next(&mut raw_attrs)? {
            let value = open.stack.last_mut().and_then(|f| match f {
                Frame::Field(f) => Some(f),
                _ => None,
            });
            match token {
                Token::Start { span, name, empty } => {
                    let name = as_str(buf, name);
                    let Some(frame) =
                        self.open_frame(buf, name, span, empty, &raw_attrs, &mut open)
                    else {
                        continue;
                    };
                    if empty {
                        let at = Span::new(span.end, span.end);
                        self.close(frame, at, &doc, &mut open.stack);
                    } else {
                        open.stack.push(frame);
                    }
                }
                Token::End { span, .. } => {
                    let Some(frame) = open.stack.pop() else {
                        unreachable!("the tokenizer balances tags")
                    };
                    self.close(frame, span, &doc, &mut open.stack);
                }
                Token::Text(_) => {
                    if let Some(f) = value {
                        f.kind = Some(if f.kind.is_none() {
                            ValueKind::Text
                        } else {
                            ValueKind::Mixed
                        });
                    }
                }
                Token::CData { content, .. } => {
                    if let Some(f) = value {
                        if f.kind.is_none() {
                            f.kind = Some(ValueKind::Cdata);
                            f.cdata = Some(content);
                        } else {
                            f.kind = Some(ValueKind::Mixed);
                        }
                    }
                }
                Token::Comment(_) | Token::ProcessingInstruction(_) => {
                    if let Some(f) = value {
                        f.kind = Some(ValueKind::Mixed);
                    }
                }
                Token::Declaration(_) => {}
            }
        }
        Ok(open.top)
    }

    /// The frame a start tag named `name` at `span` opens: the root, a container, a record, a
    /// field or markup inside a value. `None` for a self-closing field, which joins its record
    /// at once.
    fn open_frame<'a>(
        &mut self,
        buf: &'a [u8],
        name: &'a str,
        span: Span,
        empty: bool,
        raw_attrs: &[RawAttr],
        open: &mut OpenElements<'a>,
    ) -> Option<Frame<'a>> {
        let parent = match open.stack.last() {
            None => Parent::None,
            Some(Frame::Root) => Parent::Root,
            Some(Frame::Record(_)) => Parent::Record,
            Some(Frame::Container { name }) => Parent::Container(name),
            Some(Frame::Field(_) | Frame::Inner) => Parent::Value,
        };
        let dictionary = open.dictionary;
        let is_record = match parent {
            Parent::None => {
                open.top.root = name;
                open.dictionary = name == "database";
                return Some(Frame::Root);
            }
            Parent::Value => {
                if let Some(Frame::Field(f)) = open.stack.last_mut() {
                    f.kind = Some(ValueKind::Mixed);
                }
                return Some(Frame::Inner);
            }
            Parent::Root => true,
            _ if dictionary => name == "element",
            _ => raw_attrs.iter().any(|a| &buf[a.name.range()] == b"action"),
        };
        if is_record {
            let table = match (dictionary, parent) {
                (false, _) => name,
                (true, Parent::Root) => "sys_db_object",
                (true, Parent::Container("choice")) => "sys_choice",
                (true, _) => "sys_dictionary",
            };
            if parent == Parent::Root {
                open.top.add(table);
            }
            let parent_index = open.stack.iter().rev().find_map(|f| match f {
                Frame::Record(r) => Some(r.index),
                _ => None,
            });
            let record = self.open_record(buf, name, table, parent_index, span.start, raw_attrs);
            return Some(Frame::Record(record));
        }
        if dictionary || parent != Parent::Record {
            return Some(Frame::Container { name });
        }
        let Some(Frame::Record(r)) = open.stack.last_mut() else {
            unreachable!("parent is a record")
        };
        let from = r.field_attrs.len();
        convert_attrs(buf, raw_attrs, &mut r.field_attrs);
        let attrs = from..r.field_attrs.len();
        if empty {
            r.fields.push(Field {
                name,
                kind: ValueKind::SelfClosing,
                element: span,
                content: Span::new(span.end, span.end),
                cdata: None,
                payload: None,
                attrs,
            });
            return None;
        }
        Some(Frame::Field(FieldBuilder {
            name,
            start: span.start,
            content_start: span.end,
            attrs,
            kind: None,
            cdata: None,
        }))
    }

    fn open_record<'a>(
        &mut self,
        buf: &'a [u8],
        element_name: &'a str,
        table: &'a str,
        parent: Option<usize>,
        start: usize,
        raw_attrs: &[RawAttr],
    ) -> RecordBuilder<'a> {
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        convert_attrs(buf, raw_attrs, &mut attrs);
        let action = attrs.iter().find(|a| a.name == "action").map(|a| a.raw);
        let index = self.next_index;
        self.next_index += 1;
        RecordBuilder {
            index,
            table,
            element_name,
            action,
            parent,
            start,
            attrs,
            fields: Vec::new(),
            field_attrs: Vec::new(),
            diag_mark: self.diagnostics.len(),
            sys_id: None,
        }
    }

    /// Closes a frame: a field joins its record (reading its payload first), a record goes to
    /// the visitor. `end_tag` is the end tag (an empty span after `<x/>`).
    fn close<'a>(
        &mut self,
        frame: Frame<'a>,
        end_tag: Span,
        doc: &Doc<'a>,
        stack: &mut [Frame<'a>],
    ) {
        let Doc {
            buf,
            layer,
            depth,
            payload_of,
        } = *doc;
        match frame {
            Frame::Field(f) => {
                let content = Span::new(f.content_start, end_tag.start);
                let kind = f.kind.unwrap_or(ValueKind::EmptyPair);
                let mut field = Field {
                    name: f.name,
                    kind,
                    element: Span::new(f.start, end_tag.end),
                    content,
                    cdata: f.cdata,
                    payload: None,
                    attrs: f.attrs,
                };
                let Some(Frame::Record(r)) = stack.last_mut() else {
                    unreachable!("fields only open inside records")
                };
                if field.name == "sys_id" && r.sys_id.is_none() {
                    r.sys_id = Some(field.content);
                }
                if field.name == "payload" {
                    let sys_id = r.sys_id.map(|c| as_str(buf, c).trim().to_string());
                    let owner = PayloadOwner {
                        index: r.index,
                        table: r.table,
                        sys_id,
                    };
                    field.payload = self.payload(&field, doc, owner);
                }
                r.fields.push(field);
            }
            Frame::Record(r) => {
                let record = Record {
                    index: r.index,
                    table: r.table,
                    element_name: r.element_name,
                    action: r.action,
                    place: Place {
                        depth,
                        payload_of,
                        parent: r.parent,
                    },
                    span: Span::new(r.start, end_tag.end),
                    attrs: r.attrs,
                    fields: r.fields,
                    field_attrs: r.field_attrs,
                    buf,
                    layer,
                    sys_id: std::cell::OnceCell::new(),
                };
                if self.diagnostics.len() > r.diag_mark {
                    if let Some(id) = record.sys_id() {
                        for d in &mut self.diagnostics[r.diag_mark..] {
                            if let Some(p) = d.location.payloads.get_mut(depth) {
                                p.sys_id.get_or_insert_with(|| id.to_string());
                            }
                        }
                    }
                }
                self.visitor.record(&record);
            }
            Frame::Root | Frame::Container { .. } | Frame::Inner => {}
        }
    }

    /// Reads the document in a `payload` field, if it holds one.
    fn payload<'a>(
        &mut self,
        field: &Field<'a>,
        doc: &Doc<'a>,
        owner: PayloadOwner<'_>,
    ) -> Option<PayloadInfo> {
        let (stored, text) = update_document(field, doc.buf)?;
        let escaping = stored.escaping();
        let unread = PayloadInfo {
            escaping,
            read: false,
            records: 0,
        };
        if self.max_payload_depth == 0 {
            return Some(unread);
        }
        let text_file_offset = doc.layer.to_file(text.start);
        if doc.depth >= self.max_payload_depth {
            self.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: "payload-too-deep",
                message: format!(
                    "payload nested deeper than {} levels is kept as text",
                    self.max_payload_depth
                ),
                location: self.location_at(text_file_offset, None, None),
            });
            return Some(unread);
        }
        self.chain.push(ChainFrame {
            table: owner.table.to_string(),
            sys_id: owner.sys_id.filter(|s| !s.is_empty()),
            file_offset: text_file_offset,
        });
        let first_index = self.next_index;
        let diag_mark = self.diagnostics.len();
        let result = self.read_payload_doc(doc, text, stored, owner.index);
        let chain_frame = self.chain.len() - 1;
        let info = match result {
            Ok(()) => {
                self.payloads += 1;
                PayloadInfo {
                    escaping,
                    read: true,
                    records: self.next_index - first_index,
                }
            }
            Err(failure) => {
                self.visitor.discard_from(first_index);
                self.next_index = first_index;
                self.diagnostics.truncate(diag_mark);
                let mut location =
                    self.location_at(failure.file_offset, Some(failure.inner), failure.snippet);
                location.payloads.truncate(chain_frame + 1);
                let kind = failure.kind;
                self.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "malformed-payload",
                    message: format!(
                        "payload is not well-formed ({kind}); its records are not read: it is kept as text"
                    ),
                    location,
                });
                unread
            }
        };
        self.chain.pop();
        Some(info)
    }

    /// Reads the payload document at `text` in `doc` (stored with `escaping`; escaped text is
    /// decoded into the buffer of its depth first), its records belonging to record `owner`.
    fn read_payload_doc(
        &mut self,
        doc: &Doc<'_>,
        text: Span,
        stored: Stored,
        owner: usize,
    ) -> Result<(), PayloadFailure> {
        let Doc {
            buf, layer, depth, ..
        } = *doc;
        let raw = &buf[text.range()];
        let failure = |inner: &Layer<'_>, doc: &[u8], e: ScanError| PayloadFailure {
            file_offset: inner.to_file(e.offset),
            inner: Position::locate(doc, e.offset),
            snippet: Snippet::capture(doc, e.offset),
            kind: e.kind,
        };
        let (escaping, decode): (Escaping, Decode) = match stored {
            Stored::Cdata => {
                let inner = Layer {
                    base: text.start,
                    escaping: Some(Escaping::Cdata),
                    map: None,
                    parent: Some(layer),
                };
                return self
                    .read_doc(raw, &inner, depth + 1, Some(owner), None)
                    .map(drop)
                    .map_err(|e| failure(&inner, raw, e));
            }
            Stored::Sections => (Escaping::Cdata, join_cdata_sections),
            Stored::Escaped => (Escaping::Escaped, decode_escaped),
        };
        if self.scratch.len() <= depth {
            self.scratch.resize_with(depth + 1, Default::default);
        }
        let (mut out, mut map) = std::mem::take(&mut self.scratch[depth]);
        let result = if decode(raw, &mut out, &mut map) {
            let inner = Layer {
                base: text.start,
                escaping: Some(escaping),
                map: Some(&map),
                parent: Some(layer),
            };
            self.read_doc(&out, &inner, depth + 1, Some(owner), None)
                .map(drop)
                .map_err(|e| failure(&inner, &out, e))
        } else {
            Err(PayloadFailure {
                file_offset: layer.to_file(text.start),
                inner: Position::locate(&[], 0),
                snippet: None,
                kind: SyntaxError::BadReference("in payload".into()),
            })
        };
        self.scratch[depth] = (out, map);
        result
    }

    fn location_at(
        &self,
        file_offset: usize,
        inner: Option<Position>,
        snippet: Option<Snippet>,
    ) -> Location {
        let payloads = self
            .chain
            .iter()
            .map(|c| PayloadFrame {
                table: c.table.clone(),
                sys_id: c.sys_id.clone(),
                start: self.locator.locate(c.file_offset),
            })
            .collect();
        Location {
            file: self.locator.locate(file_offset),
            payloads,
            inner,
            snippet: snippet.or_else(|| Snippet::capture(self.file, file_offset)),
        }
    }
}
