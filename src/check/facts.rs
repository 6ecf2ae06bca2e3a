//! The records of a bundle as the rules see them: every record of every file (payloads
//! included), its fields' texts and their places in the file.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::rules::RuleId;
use super::{Finding, FindingLocation};
use crate::analyze::inspect::Reference;
use crate::error::{Diagnostic, ReadError, Severity};
use crate::model::{Collect, IN_PAYLOAD, OwnedRecord, Record, Visitor, path_step};

/// One record of the bundle.
#[derive(Debug, Clone)]
pub struct BundleRecord {
    /// Index of its file in the bundle.
    pub file: usize,
    /// The record as read.
    pub record: OwnedRecord,
    /// `table[sys_id] > payload > ...`.
    pub path: String,
}

impl BundleRecord {
    /// The text of `field` (empty when absent).
    pub fn get(&self, field: &str) -> &str {
        self.record.field(field).map_or("", |f| f.text.trim())
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.record.table
    }

    /// The sys_id.
    pub fn sys_id(&self) -> Option<&str> {
        self.record.sys_id.as_deref()
    }

    /// `true` for DELETE and delete_multiple records (they define nothing on the target).
    pub fn is_deletion(&self) -> bool {
        self.record
            .action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("delete") || a == "delete_multiple")
    }

    /// Its display name.
    pub fn name(&self) -> &str {
        let n = self.get("name");
        if n.is_empty() {
            self.get("sys_name")
        } else {
            n
        }
    }
}

/// The records of a file and the references they hold, from one read.
#[derive(Default)]
struct RecordsAndReferences {
    records: Collect,
    references: Vec<Reference>,
}

impl Visitor for RecordsAndReferences {
    fn record(&mut self, r: &Record<'_>) {
        self.records.record(r);
        let references = &mut self.references;
        crate::analyze::refs::for_each_reference(r, |found| {
            references.push(Reference::of(r, found));
        });
    }

    fn discard_from(&mut self, first_index: usize) {
        self.records.discard_from(first_index);
        self.references.retain(|r| r.record < first_index);
    }
}

/// A byte of a file, and the record and field it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    /// Index of the file in the bundle.
    pub file: usize,
    /// Byte offset in the file.
    pub offset: usize,
    /// Index in [`Facts::records`] of the record.
    pub record: Option<usize>,
    /// The field.
    pub field: Option<&'a str>,
}

/// Everything the rules look at.
#[derive(Debug)]
pub struct Facts<'s> {
    /// The bundle's files.
    pub sources: &'s [(&'s str, &'s [u8])],
    /// Every record, in file order then document order.
    pub records: Vec<BundleRecord>,
    /// Every reference, with the index of the referring record in `records`.
    pub references: Vec<(usize, Reference)>,
    /// sys_id -> index in `records` of the (first) record defining it, not counting deletions
    /// and previous versions.
    pub defined: BTreeMap<String, usize>,
    /// The reader's findings (malformed payloads), by file index.
    pub diagnostics: Vec<(usize, crate::error::Diagnostic)>,
    locators: Vec<crate::error::Locator<'s>>,
    /// Per file, its records' element spans sorted by start (see [`Facts::place`]).
    spans: Vec<std::sync::OnceLock<Vec<(crate::Span, usize)>>>,
}

impl<'s> Facts<'s> {
    /// Frees what the facts own on another thread: the records of a large bundle take a while
    /// to free, and nothing needs to wait for that.
    pub(crate) fn drop_in_background(self) {
        let Facts {
            records,
            references,
            defined,
            diagnostics,
            ..
        } = self;
        rayon::spawn(move || drop((records, references, defined, diagnostics)));
    }

    /// Reads every file.
    pub fn gather(sources: &'s [(&'s str, &'s [u8])]) -> Result<Facts<'s>, ReadError> {
        // Each file alone, in parallel: its records (with their paths), the references they
        // hold (by position among them) and the reader's diagnostics.
        type FileFacts = (
            Vec<(OwnedRecord, String)>,
            Vec<(usize, Reference)>,
            Vec<Diagnostic>,
        );
        let per_file: Vec<Result<FileFacts, ReadError>> = sources
            .par_iter()
            .map(|s| {
                let (name, bytes) = *s;
                let mut read = RecordsAndReferences::default();
                let outcome =
                    crate::model::read(bytes, &mut read).map_err(|e| e.with_path(name))?;
                let RecordsAndReferences {
                    records: mut c,
                    mut references,
                } = read;
                c.sort();
                references.sort_by_key(|r| r.record);
                let (by_index, paths) = record_paths(&c.records);
                let references = references
                    .into_iter()
                    .filter_map(|r| by_index.get(&r.record).map(|&k| (k, r)))
                    .collect();
                Ok((
                    c.records.into_iter().zip(paths).collect(),
                    references,
                    outcome.diagnostics,
                ))
            })
            .collect();
        let count = |f: &Result<FileFacts, ReadError>| f.as_ref().map_or(0, |f| f.0.len());
        let mut records = Vec::with_capacity(per_file.iter().map(count).sum());
        let mut references = Vec::new();
        let mut diagnostics = Vec::new();
        for (i, f) in per_file.into_iter().enumerate() {
            let (recs, refs, diags) = f?;
            let base = records.len();
            records.extend(recs.into_iter().map(|(record, path)| BundleRecord {
                file: i,
                record,
                path,
            }));
            references.extend(refs.into_iter().map(|(k, r)| (base + k, r)));
            diagnostics.extend(diags.into_iter().map(|d| (i, d)));
        }
        // Each id with the first record defining it: the pairs found and sorted on every core,
        // the first of each id kept, the map built from them in order.
        let mut ids: Vec<(&str, usize)> = records
            .par_iter()
            .enumerate()
            .filter_map(|(k, r)| {
                let id = r.sys_id()?;
                (!r.is_deletion() && !in_version(r)).then_some((id, k))
            })
            .collect();
        ids.par_sort_unstable();
        ids.dedup_by_key(|(id, _)| *id);
        let defined = ids.into_iter().map(|(id, k)| (id.to_string(), k)).collect();
        Ok(Facts {
            sources,
            records,
            references,
            defined,
            diagnostics,
            locators: sources
                .iter()
                .map(|(_, bytes)| crate::error::Locator::new(bytes))
                .collect(),
            spans: sources.iter().map(|_| std::sync::OnceLock::new()).collect(),
        })
    }

    /// The place of field `f` of record `k` (a field of `records[k]`, at its value's start).
    pub fn field_place<'a>(&self, k: usize, f: &'a crate::model::OwnedField) -> Place<'a> {
        Place {
            file: self.records[k].file,
            offset: f.file_span.start,
            record: Some(k),
            field: Some(&f.name),
        }
    }

    /// The place of record `k`'s field `field` (or of the record itself, when `None` or
    /// absent).
    pub fn record_place<'a>(&self, k: usize, field: Option<&'a str>) -> Place<'a> {
        let r = &self.records[k];
        let offset = field
            .and_then(|f| r.record.field(f))
            .map_or(r.record.file_span.start, |f| f.file_span.start);
        Place {
            file: r.file,
            offset,
            record: Some(k),
            field,
        }
    }

    /// A finding at a byte of a file (in the record `at.record`, when there is one).
    pub fn finding(
        &self,
        at: Place<'_>,
        rule: RuleId,
        severity: Severity,
        message: String,
        instance_error: Option<&'static str>,
        hint: &str,
    ) -> Finding {
        let p = self.locators[at.file].locate(at.offset);
        let r = at.record.map(|k| &self.records[k]);
        Finding {
            rule: rule.id(),
            severity,
            message,
            instance_error,
            hint: hint.to_string(),
            location: FindingLocation {
                file: self.sources[at.file].0.to_string(),
                line: p.line,
                column: p.column,
                table: r.map(|r| r.table().to_string()),
                sys_id: r.and_then(|r| r.sys_id().map(str::to_string)),
                field: at.field.map(str::to_string),
                path: r.map(|r| r.path.clone()),
                snippet: None,
                offset: Some(at.offset),
            },
        }
    }

    /// The indexes in `records` of file `file`'s records (records are in file order).
    pub(crate) fn file_records(&self, file: usize) -> std::ops::Range<usize> {
        let first = self.records.partition_point(|r| r.file < file);
        let end = self.records.partition_point(|r| r.file <= file);
        first..end
    }

    /// Where byte `offset` of file `file` is: the innermost record whose element holds it, and
    /// that record's field whose value holds it (none for markup and attributes).
    pub fn place(&self, file: usize, offset: usize) -> Place<'_> {
        let spans = self.spans[file].get_or_init(|| {
            let mut spans: Vec<(crate::Span, usize)> = self
                .file_records(file)
                .map(|k| (self.records[k].record.file_span, k))
                .collect();
            spans.sort_by_key(|(s, _)| s.start);
            spans
        });
        let k = spans.partition_point(|(s, _)| s.start <= offset);
        let record = spans[..k]
            .iter()
            .rev()
            .find(|(s, _)| offset < s.end)
            .map(|&(_, k)| k);
        let field = record.and_then(|k| {
            self.records[k]
                .record
                .fields
                .iter()
                .find(|f| f.file_span.start <= offset && offset < f.file_span.end)
                .map(|f| f.name.as_str())
        });
        Place {
            file,
            offset,
            record,
            field,
        }
    }

    /// Records of `table`, as indexes: one per sys_id (the copy `defined` points at), no
    /// deletions, no previous versions.
    pub fn of_table<'a>(&'a self, table: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.records
            .iter()
            .enumerate()
            .filter(move |(k, r)| {
                r.table() == table
                    && !r.is_deletion()
                    && !in_version(r)
                    && r.sys_id().is_none_or(|id| self.defined.get(id) == Some(k))
            })
            .map(|(k, _)| k)
    }

    /// Instance-connection records (My SN Instances), one per sys_id.
    pub fn instance_records(&self) -> Vec<usize> {
        let tables: std::collections::BTreeSet<&str> = self
            .records
            .iter()
            .map(|r| r.table())
            .filter(|t| super::rules::is_instance_record(t))
            .collect();
        let mut out: Vec<usize> = tables.into_iter().flat_map(|t| self.of_table(t)).collect();
        out.sort_unstable();
        out
    }
}

/// `true` for a record inside a `sys_update_version` payload (a previous version, not what
/// will be imported).
pub fn in_version(r: &BundleRecord) -> bool {
    r.path.contains("sys_update_version[")
}

/// For records in document order: each one's position by its index, and its path
/// (`table[sys_id] > payload > ...`).
fn record_paths(records: &[OwnedRecord]) -> (BTreeMap<usize, usize>, Vec<String>) {
    let by_index: BTreeMap<usize, usize> = records
        .iter()
        .enumerate()
        .map(|(k, r)| (r.index, k))
        .collect();
    let mut paths: Vec<String> = Vec::with_capacity(records.len());
    for r in records {
        let me = path_step(&r.table, r.sys_id.as_deref());
        let up = r
            .place
            .payload_of
            .and_then(|p| by_index.get(&p))
            .map(|&k| paths[k].clone());
        paths.push(match up {
            Some(u) => u + IN_PAYLOAD + &me,
            None => me,
        });
    }
    (by_index, paths)
}
