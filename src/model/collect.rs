//! A visitor that keeps owned copies of every record: the simple way in for small files,
//! tests and library users who want a list rather than a stream.

use serde::Serialize;

use super::{Escaping, PayloadInfo, Place, ReadOutcome, Record, ValueKind, Visitor};
use crate::error::ReadError;
use crate::scan::Span;

/// An owned field: name, attributes, decoded text and the value's span in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedField {
    /// Column name.
    pub name: String,
    /// Attributes as `(name, unescaped value)`.
    pub attrs: Vec<(String, String)>,
    /// How the content is written.
    pub kind: ValueKind,
    /// Decoded text (see [`Record::text`]).
    pub text: String,
    /// The content's bytes in the file (for a payload record: mapped through every layer).
    pub file_span: Span,
    /// Set for payload fields.
    pub payload: Option<PayloadInfo>,
}

/// An owned record (see [`Record`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedRecord {
    /// Document order.
    pub index: usize,
    /// Table.
    pub table: String,
    /// `action` attribute.
    pub action: Option<String>,
    /// sys_id, if any.
    pub sys_id: Option<String>,
    /// Where it lives.
    pub place: Place,
    /// Layers from the file inwards.
    pub escapings: Vec<Escaping>,
    /// The whole element's bytes in the file.
    pub file_span: Span,
    /// Attributes of the record element.
    pub attrs: Vec<(String, String)>,
    /// Fields in order.
    pub fields: Vec<OwnedField>,
}

impl OwnedRecord {
    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&OwnedField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Collects [`OwnedRecord`]s in document order.
#[derive(Debug, Default, Clone)]
pub struct Collect {
    /// The records, in the order the reader hands them over (a nested record before the record
    /// holding it); call [`Collect::sort`] for document order.
    pub records: Vec<OwnedRecord>,
}

impl Collect {
    /// Reads a whole document (as [`super::read`] does) and keeps its records, in document
    /// order.
    ///
    /// ```
    /// use sn_retarget::model::Collect;
    /// let (records, outcome) = Collect::read_sorted(b"<unload><a action='INSERT'/></unload>").unwrap();
    /// assert_eq!((records.records[0].table.as_str(), outcome.records), ("a", 1));
    /// ```
    pub fn read_sorted(src: &[u8]) -> Result<(Collect, ReadOutcome), ReadError> {
        let mut c = Collect::default();
        let outcome = super::read(src, &mut c)?;
        c.sort();
        Ok((c, outcome))
    }

    /// Sorts the records into document order.
    pub fn sort(&mut self) {
        self.records.sort_by_key(|r| r.index);
    }
}

impl Visitor for Collect {
    fn record(&mut self, r: &Record<'_>) {
        let fields = r
            .fields()
            .iter()
            .map(|f| OwnedField {
                name: f.name.to_string(),
                attrs: r
                    .field_attrs(f)
                    .iter()
                    .map(|a| (a.name.to_string(), a.value().into_owned()))
                    .collect(),
                kind: f.kind,
                text: r.text(f).into_owned(),
                file_span: r.file_span(f.content),
                payload: f.payload,
            })
            .collect();
        self.records.push(OwnedRecord {
            index: r.index,
            table: r.table.to_string(),
            action: r.action.map(str::to_string),
            sys_id: r.sys_id().map(str::to_string),
            place: r.place,
            escapings: r.escapings(),
            file_span: r.file_span(r.span),
            attrs: r
                .attrs()
                .iter()
                .map(|a| (a.name.to_string(), a.value().into_owned()))
                .collect(),
            fields,
        });
    }

    fn discard_from(&mut self, first_index: usize) {
        self.records.retain(|r| r.index < first_index);
    }
}

/// The records of one document, in document order (records inside payloads included, each
/// after the record that holds it): the iterator beside [`Visitor`], for code that would rather
/// pull records than receive them. The document is read whole before the first record comes
/// out, so a malformed document is an error before any record is seen.
///
/// ```
/// use sn_retarget::model::records;
/// let xml = br#"<unload><sys_properties action="INSERT_OR_UPDATE"><name>x.url</name><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_properties></unload>"#;
/// let mut found = records(xml).unwrap();
/// assert_eq!(found.outcome().records, 1);
/// let r = found.next().unwrap();
/// assert_eq!((r.table.as_str(), r.field("name").unwrap().text.as_str()), ("sys_properties", "x.url"));
/// assert!(found.next().is_none());
/// assert!(records(b"<unload><oops></unload>").is_err());
/// ```
pub fn records(src: &[u8]) -> Result<Records, crate::ReadError> {
    let mut collect = Collect::default();
    let outcome = super::read(src, &mut collect)?;
    collect.sort();
    Ok(Records {
        outcome,
        records: collect.records.into_iter(),
    })
}

/// The iterator of [`records`].
#[derive(Debug, Clone)]
pub struct Records {
    outcome: super::ReadOutcome,
    records: std::vec::IntoIter<OwnedRecord>,
}

impl Records {
    /// What reading the document found: its shape, counts, and diagnostics that did not stop
    /// it (a malformed payload, whose records are left out).
    pub fn outcome(&self) -> &super::ReadOutcome {
        &self.outcome
    }
}

impl Iterator for Records {
    type Item = OwnedRecord;

    fn next(&mut self) -> Option<OwnedRecord> {
        self.records.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.records.size_hint()
    }
}

impl ExactSizeIterator for Records {}
