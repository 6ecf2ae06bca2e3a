//! The reader: drives the tokenizer over a document, builds records, descends into payloads.

use std::ops::Range;

use serde::Serialize;

use super::record::Layer;
use super::{Attr, Escaping, Field, PayloadInfo, Place, Record, Shape, ValueKind, Visitor};
use crate::error::{
    Diagnostic, Location, PayloadFrame, Position, ReadError, Severity, Snippet, SyntaxError,
};
use crate::scan::{
    CharProblem, OffsetMap, RawAttr, ScanError, Span, Token, Tokenizer, check_chars, decode_escaped,
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
    if src.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ReadError::new(
            SyntaxError::TooLarge(MAX_DOCUMENT_BYTES),
            Location::at(&[], 0),
        ));
    }
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

/// Size, UTF-8 and character checks before any reading.
fn check_input(src: &[u8]) -> Result<(), ReadError> {
    if src.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ReadError::new(
            SyntaxError::TooLarge(MAX_DOCUMENT_BYTES),
            Location::at(&[], 0),
        ));
    }
    if let Some(encoding) = foreign_encoding(src) {
        // At 1:1, without a snippet (the line would be the encoding's NUL bytes).
        return Err(ReadError::new(
            SyntaxError::UnsupportedEncoding(encoding),
            Location::at(&[], 0),
        ));
    }
    check_chars(src).map_err(|(at, problem)| {
        let kind = match problem {
            CharProblem::Utf8 => SyntaxError::InvalidUtf8,
            CharProblem::Control(c) => SyntaxError::ControlCharacter(c),
        };
        ReadError::new(kind, Location::at(src, at))
    })
}

/// The encoding of a document that starts as UTF-16 or UTF-32 does: with its byte-order mark,
/// or with `<` (and the rest of the markup) in that encoding, as XML 1.0 appendix F tells them.
fn foreign_encoding(src: &[u8]) -> Option<&'static str> {
    const SIGNS: [(&[u8], &str); 8] = [
        // UTF-32 first: its little-endian mark starts like UTF-16's.
        (b"\x00\x00\xFE\xFF", "UTF-32"),
        (b"\xFF\xFE\x00\x00", "UTF-32"),
        (b"\x00\x00\x00<", "UTF-32"),
        (b"<\x00\x00\x00", "UTF-32"),
        (b"\xFE\xFF", "UTF-16"),
        (b"\xFF\xFE", "UTF-16"),
        (b"\x00<", "UTF-16"),
        (b"<\x00", "UTF-16"),
    ];
    SIGNS
        .iter()
        .find(|(sign, _)| src.starts_with(sign))
        .map(|(_, name)| *name)
}

/// The visitors of [`read_parts`], in document order, each with the bytes its part covers.
pub type Parts<V> = Vec<(Span, V)>;

/// Record indices of part `k` of a [`read_parts`] start at `k * PART_STRIDE`.
pub const PART_STRIDE: u64 = 1 << 32;

/// Checks a document's outer level only (payloads are not read): the errors [`read`] would
/// report, since a malformed payload never fails a read. Returns the shape, the root element's
/// name and the span of every child of the root.
/// A document's outer level: its shape, the root's name, the root's content and the span of
/// every child of the root.
struct Outline {
    shape: Shape,
    root: Span,
    content: Span,
    children: Vec<Span>,
}

fn outline(src: &[u8], references: bool) -> Result<Outline, ReadError> {
    let mut tok = Tokenizer::new(src);
    if !references {
        tok = tok.structure_only();
    }
    let mut attrs = Vec::new();
    let mut root = Span::new(0, 0);
    let mut content = Span::new(0, 0);
    let mut children = Vec::new();
    let mut top = TopTables::default();
    let mut open_at = 0;
    let fail = |e: ScanError| ReadError::new(e.kind, Location::at(src, e.offset));
    while let Some(t) = tok.next(&mut attrs).map_err(fail)? {
        match t {
            Token::Start { span, name, empty } => match tok.depth() - usize::from(!empty) {
                0 => {
                    root = name;
                    content = Span::new(span.end, span.end);
                }
                1 => {
                    top.add(as_str(src, name));
                    if empty {
                        children.push(span);
                    } else {
                        open_at = span.start;
                    }
                }
                _ => {}
            },
            Token::End { span, .. } if tok.depth() == 1 => {
                children.push(Span::new(open_at, span.end));
            }
            Token::End { span, .. } if tok.depth() == 0 => content.end = span.start,
            _ => {}
        }
    }
    let root_name = as_str(src, root);
    let shape = Shape::classify(root_name, top.count, top.mixed, top.update_set);
    Ok(Outline {
        shape,
        root,
        content,
        children,
    })
}

/// The name of the root element (reading no further than its start tag), if the document
/// gets that far.
///
/// ```
/// assert_eq!(sn_retarget::model::root_element(b"<?xml version='1.0'?><!-- x --><database/>"), Some("database"));
/// assert_eq!(sn_retarget::model::root_element(b"<!-- <database> -->"), None);
/// ```
pub fn root_element(src: &[u8]) -> Option<&str> {
    let mut tok = Tokenizer::new(src);
    let mut attrs = Vec::new();
    while let Ok(Some(t)) = tok.next(&mut attrs) {
        if let Token::Start { name, .. } = t {
            return std::str::from_utf8(&src[name.range()]).ok();
        }
    }
    None
}

/// Checks the outer level of a document, without reading payloads: what [`read`] would fail
/// on (a malformed payload never fails a read), at a fraction of the cost. Returns its shape.
///
/// ```
/// use sn_retarget::model::{check_outer, Shape};
/// assert!(check_outer(b"<unload><a action='INSERT_OR_UPDATE'/></unload>").is_ok());
/// assert!(check_outer(b"<unload><a></unload>").is_err());
/// ```
pub fn check_outer(src: &[u8]) -> Result<Shape, ReadError> {
    checked_outline(src, true).map(|o| o.shape)
}

/// [`check_input`] and [`outline`] at once (on two cores); the first one's error wins, as in a
/// plain read.
fn checked_outline(src: &[u8], references: bool) -> Result<Outline, ReadError> {
    if src.len() as u64 > MAX_DOCUMENT_BYTES {
        check_input(src)?;
    }
    let (checked, outlined) = rayon::join(|| check_input(src), || outline(src, references));
    checked?;
    outlined
}

/// [`read`], in parts of about `part_bytes` read in parallel (rayon), each with its own visitor
/// from `make`. The parts are runs of whole top-level records, so each record and its payloads
/// go to exactly one visitor, and the visitors come back in document order, each with the
/// bytes it covers (the parts tile the document: the first starts at 0, the last ends at its
/// end). Record indices of part `k` start at `k * PART_STRIDE`. `<database>` dictionaries and documents smaller than two
/// parts are read in one part. Fails exactly where [`read`] fails.
///
/// ```
/// use sn_retarget::model::{read_parts, Record, Visitor};
/// #[derive(Default)]
/// struct Count(usize);
/// impl Visitor for Count {
///     fn record(&mut self, _: &Record<'_>) { self.0 += 1; }
///     fn discard_from(&mut self, _: usize) {}
/// }
/// let doc = b"<unload><a action='INSERT'/><b action='INSERT'/><c action='INSERT'/></unload>";
/// let (outcome, parts) = read_parts(doc, 20, Count::default).unwrap();
/// assert_eq!(outcome.records, 3);
/// assert!(parts.len() > 1);
/// assert_eq!(parts.iter().map(|(_, c)| c.0).sum::<usize>(), 3);
/// assert_eq!((parts[0].0.start, parts.last().unwrap().0.end), (0, doc.len()));
/// ```
pub fn read_parts<V, F>(
    src: &[u8],
    part_bytes: usize,
    make: F,
) -> Result<(ReadOutcome, Parts<V>), ReadError>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    read_parts_with(src, part_bytes, |_| make())
}

/// [`read_parts`], with each visitor made from the bytes its part covers (e.g. to look
/// through them before the part's records arrive).
///
/// The parts are first guessed (where `</name>` and whitespace are followed by `<name`, named
/// as the root's first children), and every part reads its own bytes; only when a guess
/// fails (a cut that was not between two children of the root) is the document's outer level
/// read first to find the children. Either way the result is what one read from end to end
/// gives.
pub fn read_parts_with<V, F>(
    src: &[u8],
    part_bytes: usize,
    make: F,
) -> Result<(ReadOutcome, Parts<V>), ReadError>
where
    V: Visitor + Send,
    F: Fn(Span) -> V + Sync,
{
    let whole = Span::new(0, src.len());
    let sequential = || {
        let mut v = make(whole);
        read(src, &mut v).map(|o| (o, vec![(whole, v)]))
    };
    if src.len() < part_bytes.saturating_mul(2) || src.len() as u64 > MAX_DOCUMENT_BYTES {
        return sequential();
    }
    let runnable = |root: Span, runs: &[Span]| {
        let too_many = usize::try_from(runs.len() as u64 * PART_STRIDE).is_err();
        &src[root.range()] != b"database" && runs.len() >= 2 && !too_many
    };
    if let Some(guess) = super::cuts::guess(src, part_bytes) {
        if runnable(guess.root, &guess.runs) {
            if let Some(done) = read_runs(src, guess.root, &guess.runs, true, &make) {
                return Ok(done);
            }
        }
    }
    // The outline checks the structure only: the parts check their own text, and the bytes
    // between parts are checked below. On any error, the plain read finds the first one.
    let Ok(Outline {
        root,
        content,
        children,
        ..
    }) = checked_outline(src, false)
    else {
        return sequential();
    };
    let mut parts: Vec<Span> = Vec::new();
    for c in children {
        match parts.last_mut() {
            Some(p) if p.len() < part_bytes => p.end = c.end,
            _ => parts.push(c),
        }
    }
    if !runnable(root, &parts) {
        return sequential();
    }
    // The text between parts (whitespace, comments) is checked here; inside parts, by their
    // readers.
    let mut gaps = vec![Span::new(content.start, parts[0].start)];
    gaps.extend(parts.windows(2).map(|w| Span::new(w[0].end, w[1].start)));
    gaps.push(Span::new(parts[parts.len() - 1].end, content.end));
    let gaps_ok = gaps.iter().all(|g| {
        let mut tok = Tokenizer::fragment(src, g.start, g.end, root);
        let mut attrs = Vec::new();
        loop {
            match tok.next(&mut attrs) {
                Ok(Some(_)) => {}
                Ok(None) => break true,
                Err(_) => break false,
            }
        }
    });
    match gaps_ok.then(|| read_runs(src, root, &parts, false, &make)) {
        Some(Some(done)) => Ok(done),
        // Where the first error is: the plain read says.
        _ => sequential(),
    }
}

/// Reads `runs` (whole children of the root named at `root`, in order) in parallel, each with
/// a visitor from `make` given the bytes it covers: the runs stretched to tile the document.
/// `utf8`: check those bytes as UTF-8 too (when nothing else did). `None` when any run fails.
fn read_runs<V, F>(
    src: &[u8],
    root: Span,
    runs: &[Span],
    utf8: bool,
    make: &F,
) -> Option<(ReadOutcome, Parts<V>)>
where
    V: Visitor + Send,
    F: Fn(Span) -> V + Sync,
{
    use rayon::prelude::*;
    let read: Vec<Option<(Reader0, TopTables<'_>, Span, V)>> = runs
        .par_iter()
        .enumerate()
        .map(|(k, run)| {
            let start = if k == 0 { 0 } else { run.start };
            let end = runs.get(k + 1).map_or(src.len(), |r| r.start);
            let covers = Span::new(start, end);
            let bytes = &src[covers.range()];
            if utf8 && check_chars(bytes).is_err() {
                return None;
            }
            let mut v = make(covers);
            let base = (k as u64 * PART_STRIDE) as usize;
            let mut reader = Reader::new(src, &mut v, MAX_PAYLOAD_DEPTH, base);
            let top = reader
                .read_doc(src, &Layer::FILE, 0, None, Some((*run, root)))
                .ok()?;
            let counts = Reader0 {
                records: reader.next_index - base,
                payloads: reader.payloads,
                diagnostics: std::mem::take(&mut reader.diagnostics),
            };
            Some((counts, top, covers, v))
        })
        .collect();
    let mut tops = TopTables {
        root: as_str(src, root),
        ..TopTables::default()
    };
    let mut records = 0;
    let mut payloads = 0;
    let mut diagnostics = Vec::new();
    let mut visitors = Vec::with_capacity(read.len());
    for r in read {
        let (counts, top, covers, v) = r?;
        records += counts.records;
        payloads += counts.payloads;
        diagnostics.extend(counts.diagnostics);
        tops.extend(top);
        visitors.push((covers, v));
    }
    let outcome = ReadOutcome {
        shape: tops.shape(),
        records,
        payloads,
        diagnostics,
    };
    Some((outcome, visitors))
}

/// What one part's reader counted.
struct Reader0 {
    records: usize,
    payloads: usize,
    diagnostics: Vec<Diagnostic>,
}

/// `true` when `raw` (a payload field's text, stored with `escaping`) holds a
/// `<record_update>` document, optionally after an XML declaration: what ServiceNow writes in
/// payloads. Other XML-looking text in a field named `payload` stays text.
fn is_update_document(raw: &[u8], escaping: Escaping) -> bool {
    let (lt, gt): (&[u8], &[u8]) = match escaping {
        Escaping::Cdata => (b"<", b">"),
        Escaping::Escaped => (b"&lt;", b"&gt;"),
    };
    let mut rest = raw.trim_ascii_start();
    if rest.starts_with(lt) && rest[lt.len()..].starts_with(b"?xml") {
        let Some(end) = memchr::memmem::find(rest, gt) else {
            return false;
        };
        rest = rest[end + gt.len()..].trim_ascii_start();
    }
    rest.starts_with(lt) && rest[lt.len()..].starts_with(b"record_update")
}

struct ChainFrame {
    table: String,
    sys_id: Option<String>,
    file_offset: usize,
}

struct Reader<'f, 'v, V> {
    file: &'f [u8],
    visitor: &'v mut V,
    next_index: usize,
    payloads: usize,
    max_payload_depth: usize,
    diagnostics: Vec<Diagnostic>,
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

enum Frame<'a> {
    Root,
    Container { name: &'a str },
    Record(RecordBuilder<'a>),
    Field(FieldBuilder<'a>),
    Inner,
}

/// The root's name and the top-level tables seen: enough to classify the shape.
#[derive(Default)]
struct TopTables<'a> {
    root: &'a str,
    count: usize,
    first: Option<&'a str>,
    mixed: bool,
    update_set: bool,
}

impl<'a> TopTables<'a> {
    fn add(&mut self, table: &'a str) {
        self.count += 1;
        self.update_set |= table == "sys_remote_update_set" || table == "sys_update_xml";
        match self.first {
            None => self.first = Some(table),
            Some(t) => self.mixed |= t != table,
        }
    }

    /// Adds what a later run of the same root's children saw.
    fn extend(&mut self, later: TopTables<'a>) {
        self.count += later.count;
        self.update_set |= later.update_set;
        self.mixed |= later.mixed;
        match (self.first, later.first) {
            (None, first) => self.first = first,
            (Some(t), Some(u)) => self.mixed |= t != u,
            (Some(_), None) => {}
        }
    }

    fn shape(&self) -> Shape {
        Shape::classify(self.root, self.count, self.mixed, self.update_set)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent<'a> {
    None,
    Root,
    Record,
    Container(&'a str),
    Value,
}

fn as_str(buf: &[u8], span: Span) -> &str {
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
    fn new(
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
    fn read_doc<'a>(
        &mut self,
        buf: &'a [u8],
        layer: &'a Layer<'a>,
        depth: usize,
        payload_of: Option<usize>,
        part: Option<(Span, Span)>,
    ) -> Result<TopTables<'a>, ScanError> {
        let mut tok = match part {
            Some((run, root)) => Tokenizer::fragment(buf, run.start, run.end, root),
            None => Tokenizer::new(buf),
        };
        let mut raw_attrs: Vec<RawAttr> = Vec::new();
        let mut stack: Vec<Frame<'a>> = Vec::new();
        let mut top = TopTables::default();
        if let Some((_, name)) = part {
            stack.push(Frame::Root);
            top.root = as_str(buf, name);
        }
        let mut dictionary = false;

        while let Some(token) = tok.next(&mut raw_attrs)? {
            match token {
                Token::Start { span, name, empty } => {
                    let name = as_str(buf, name);
                    let parent = match stack.last() {
                        None => Parent::None,
                        Some(Frame::Root) => Parent::Root,
                        Some(Frame::Record(_)) => Parent::Record,
                        Some(Frame::Container { name }) => Parent::Container(name),
                        Some(Frame::Field(_) | Frame::Inner) => Parent::Value,
                    };
                    let frame = match parent {
                        Parent::None => {
                            top.root = name;
                            dictionary = name == "database";
                            Frame::Root
                        }
                        Parent::Value => {
                            if let Some(Frame::Field(f)) = stack.last_mut() {
                                f.kind = Some(ValueKind::Mixed);
                            }
                            Frame::Inner
                        }
                        _ => {
                            let is_record = match parent {
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
                                    top.add(table);
                                }
                                let parent_index = stack.iter().rev().find_map(|f| match f {
                                    Frame::Record(r) => Some(r.index),
                                    _ => None,
                                });
                                Frame::Record(self.open_record(
                                    buf,
                                    name,
                                    table,
                                    parent_index,
                                    span.start,
                                    &raw_attrs,
                                ))
                            } else if dictionary || parent != Parent::Record {
                                Frame::Container { name }
                            } else {
                                let Some(Frame::Record(r)) = stack.last_mut() else {
                                    unreachable!("parent is a record")
                                };
                                let from = r.field_attrs.len();
                                convert_attrs(buf, &raw_attrs, &mut r.field_attrs);
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
                                    continue;
                                }
                                Frame::Field(FieldBuilder {
                                    name,
                                    start: span.start,
                                    content_start: span.end,
                                    attrs,
                                    kind: None,
                                    cdata: None,
                                })
                            }
                        }
                    };
                    let at = Span::new(span.end, span.end);
                    if empty {
                        self.close(frame, at, buf, layer, depth, payload_of, &mut stack);
                    } else {
                        stack.push(frame);
                    }
                }
                Token::End { span, .. } => {
                    let Some(frame) = stack.pop() else {
                        unreachable!("the tokenizer balances tags")
                    };
                    self.close(frame, span, buf, layer, depth, payload_of, &mut stack);
                }
                Token::Text(_) => {
                    if let Some(Frame::Field(f)) = stack.last_mut() {
                        f.kind = Some(if f.kind.is_none() {
                            ValueKind::Text
                        } else {
                            ValueKind::Mixed
                        });
                    }
                }
                Token::CData { content, .. } => {
                    if let Some(Frame::Field(f)) = stack.last_mut() {
                        if f.kind.is_none() {
                            f.kind = Some(ValueKind::Cdata);
                            f.cdata = Some(content);
                        } else {
                            f.kind = Some(ValueKind::Mixed);
                        }
                    }
                }
                Token::Comment(_) | Token::ProcessingInstruction(_) => {
                    if let Some(Frame::Field(f)) = stack.last_mut() {
                        f.kind = Some(ValueKind::Mixed);
                    }
                }
                Token::Declaration(_) => {}
            }
        }
        Ok(top)
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
    #[allow(clippy::too_many_arguments)]
    fn close<'a>(
        &mut self,
        frame: Frame<'a>,
        end_tag: Span,
        buf: &'a [u8],
        layer: &'a Layer<'a>,
        depth: usize,
        payload_of: Option<usize>,
        stack: &mut [Frame<'a>],
    ) {
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
                    field.payload =
                        self.payload(&field, buf, layer, depth, r.index, r.table, sys_id);
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
    #[allow(clippy::too_many_arguments)]
    fn payload<'a>(
        &mut self,
        field: &Field<'a>,
        buf: &'a [u8],
        layer: &'a Layer<'a>,
        depth: usize,
        owner: usize,
        owner_table: &str,
        owner_sys_id: Option<String>,
    ) -> Option<PayloadInfo> {
        let (escaping, text) = match field.kind {
            ValueKind::Cdata => (Escaping::Cdata, field.cdata?),
            ValueKind::Text => (Escaping::Escaped, field.content),
            _ => return None,
        };
        let raw = &buf[text.range()];
        if !is_update_document(raw, escaping) {
            return None;
        }
        if self.max_payload_depth == 0 {
            return Some(PayloadInfo {
                escaping,
                read: false,
                records: 0,
            });
        }
        let text_file_offset = layer.to_file(text.start);
        if depth >= self.max_payload_depth {
            self.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                code: "payload-too-deep",
                message: format!(
                    "payload nested deeper than {} levels is kept as text",
                    self.max_payload_depth
                ),
                location: self.location_at(text_file_offset, None, None),
            });
            return Some(PayloadInfo {
                escaping,
                read: false,
                records: 0,
            });
        }
        self.chain.push(ChainFrame {
            table: owner_table.to_string(),
            sys_id: owner_sys_id.filter(|s| !s.is_empty()),
            file_offset: text_file_offset,
        });
        let first_index = self.next_index;
        let diag_mark = self.diagnostics.len();
        let result = match escaping {
            Escaping::Cdata => {
                let inner = Layer {
                    base: text.start,
                    escaping: Some(escaping),
                    map: None,
                    parent: Some(layer),
                };
                let doc = &buf[text.range()];
                self.read_doc(doc, &inner, depth + 1, Some(owner), None)
                    .map(drop)
                    .map_err(|e| {
                        (
                            inner.to_file(e.offset),
                            Position::locate(doc, e.offset),
                            Snippet::capture(doc, e.offset),
                            e.kind,
                        )
                    })
            }
            Escaping::Escaped => {
                if self.scratch.len() <= depth {
                    self.scratch.resize_with(depth + 1, Default::default);
                }
                let (mut out, mut map) = std::mem::take(&mut self.scratch[depth]);
                let result = if decode_escaped(raw, &mut out, &mut map) {
                    let inner = Layer {
                        base: text.start,
                        escaping: Some(escaping),
                        map: Some(&map),
                        parent: Some(layer),
                    };
                    self.read_doc(&out, &inner, depth + 1, Some(owner), None)
                        .map(drop)
                        .map_err(|e| {
                            (
                                inner.to_file(e.offset),
                                Position::locate(&out, e.offset),
                                Snippet::capture(&out, e.offset),
                                e.kind,
                            )
                        })
                } else {
                    let at = layer.to_file(text.start);
                    Err((
                        at,
                        Position::locate(&[], 0),
                        None,
                        SyntaxError::BadReference("in payload".into()),
                    ))
                };
                self.scratch[depth] = (out, map);
                result
            }
        };
        let chain_frame = self.chain.len() - 1;
        let info = match result {
            Ok(_) => {
                self.payloads += 1;
                PayloadInfo {
                    escaping,
                    read: true,
                    records: self.next_index - first_index,
                }
            }
            Err((file_offset, inner, snippet, kind)) => {
                self.visitor.discard_from(first_index);
                self.next_index = first_index;
                self.diagnostics.truncate(diag_mark);
                let mut location = self.location_at(file_offset, Some(inner), snippet);
                location.payloads.truncate(chain_frame + 1);
                self.diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "malformed-payload",
                    message: format!(
                        "payload is not well-formed ({kind}); it passes through untouched, as text"
                    ),
                    location,
                });
                PayloadInfo {
                    escaping,
                    read: false,
                    records: 0,
                }
            }
        };
        self.chain.pop();
        Some(info)
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
