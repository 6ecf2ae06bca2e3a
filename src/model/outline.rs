//! A document's outer level without its payloads: the root, its children and the shape they
//! make ([`check_outer`], [`root_element`]).

use super::Shape;
use super::input::check_input;
use super::reader::{MAX_DOCUMENT_BYTES, as_str};
use crate::error::{Location, ReadError};
use crate::scan::{ScanError, Span, Token, Tokenizer};

/// A document's outer level: its shape, the root's name, the root's content and the span of
/// every child of the root.
pub(super) struct Outline {
    pub(super) shape: Shape,
    pub(super) root: Span,
    pub(super) content: Span,
    pub(super) children: Vec<Span>,
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

/// Checks the outer level of a document, without reading payloads: what [`read`](super::read) would fail
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
pub(super) fn checked_outline(src: &[u8], references: bool) -> Result<Outline, ReadError> {
    if src.len() as u64 > MAX_DOCUMENT_BYTES {
        check_input(src)?;
    }
    let (checked, outlined) = rayon::join(|| check_input(src), || outline(src, references));
    checked?;
    outlined
}

/// The root's name and the top-level tables seen: enough to classify the shape.
#[derive(Default)]
pub(super) struct TopTables<'a> {
    pub(super) root: &'a str,
    count: usize,
    first: Option<&'a str>,
    mixed: bool,
    update_set: bool,
}

impl<'a> TopTables<'a> {
    pub(super) fn add(&mut self, table: &'a str) {
        self.count += 1;
        self.update_set |= table == "sys_remote_update_set" || table == "sys_update_xml";
        match self.first {
            None => self.first = Some(table),
            Some(t) => self.mixed |= t != table,
        }
    }

    /// Adds what a later run of the same root's children saw.
    pub(super) fn extend(&mut self, later: TopTables<'a>) {
        self.count += later.count;
        self.update_set |= later.update_set;
        self.mixed |= later.mixed;
        match (self.first, later.first) {
            (None, first) => self.first = first,
            (Some(t), Some(u)) => self.mixed |= t != u,
            (Some(_), None) => {}
        }
    }

    pub(super) fn shape(&self) -> Shape {
        Shape::classify(self.root, self.count, self.mixed, self.update_set)
    }
}
