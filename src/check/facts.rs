//! The records of a bundle as the rules see them: every record of every file (payloads
//! included), its fields' texts and their places in the file.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::{Finding, FindingLocation};
use crate::error::{Diagnostic, ReadError, Severity, Snippet};
use crate::inspect::{Inspector, Reference};
use crate::io::Source;
use crate::model::{Collect, OwnedRecord, read};

/// One record of the bundle.
#[derive(Debug, Clone)]
pub struct Rec {
    /// Index of its file in the bundle.
    pub file: usize,
    /// The record as read.
    pub record: OwnedRecord,
    /// `table[sys_id] > payload > ...`.
    pub path: String,
}

impl Rec {
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

/// Everything the rules look at.
#[derive(Debug)]
pub struct Facts<'s> {
    /// The bundle's files.
    pub sources: &'s [Source],
    /// Every record, in file order then document order.
    pub records: Vec<Rec>,
    /// Every reference, with the index of the referring record in `records`.
    pub references: Vec<(usize, Reference)>,
    /// sys_id -> index in `records` of the (first) record defining it, not counting deletions
    /// and previous versions.
    pub defined: BTreeMap<String, usize>,
    /// The reader's findings (malformed payloads), by file index.
    pub diagnostics: Vec<(usize, crate::error::Diagnostic)>,
    locators: Vec<crate::error::Locator<'s>>,
}

impl<'s> Facts<'s> {
    /// Reads every file.
    pub fn gather(sources: &'s [Source]) -> Result<Facts<'s>, ReadError> {
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
                let mut c = Collect::default();
                let outcome = read(&s.bytes, &mut c).map_err(|e| e.with_path(&s.name))?;
                c.sort();
                let by_index: BTreeMap<usize, usize> = c
                    .records
                    .iter()
                    .enumerate()
                    .map(|(k, r)| (r.index, k))
                    .collect();
                let mut paths: Vec<String> = Vec::with_capacity(c.records.len());
                for r in &c.records {
                    let me = format!("{}[{}]", r.table, r.sys_id.as_deref().unwrap_or("-"));
                    let up = r
                        .place
                        .payload_of
                        .and_then(|p| by_index.get(&p))
                        .map(|&k| paths[k].clone());
                    paths.push(match up {
                        Some(u) => format!("{u} > payload > {me}"),
                        None => me,
                    });
                }
                let mut inspector = Inspector::new();
                inspector.add(&s.name, &s.bytes)?;
                let references = inspector
                    .into_reports()
                    .remove(0)
                    .references
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
        let mut records = Vec::new();
        let mut references = Vec::new();
        let mut diagnostics = Vec::new();
        for (i, f) in per_file.into_iter().enumerate() {
            let (recs, refs, diags) = f?;
            let base = records.len();
            records.extend(recs.into_iter().map(|(record, path)| Rec {
                file: i,
                record,
                path,
            }));
            references.extend(refs.into_iter().map(|(k, r)| (base + k, r)));
            diagnostics.extend(diags.into_iter().map(|d| (i, d)));
        }
        let mut defined = BTreeMap::new();
        for (k, r) in records.iter().enumerate() {
            if let Some(id) = r.sys_id() {
                if !r.is_deletion() && !in_version(r) {
                    defined.entry(id.to_string()).or_insert(k);
                }
            }
        }
        Ok(Facts {
            sources,
            records,
            references,
            defined,
            diagnostics,
            locators: sources
                .iter()
                .map(|s| crate::error::Locator::new(&s.bytes))
                .collect(),
        })
    }

    /// Index of the file named `name`.
    pub fn file_index(&self, name: &str) -> usize {
        self.sources
            .iter()
            .position(|s| s.name == name)
            .unwrap_or(usize::MAX)
    }

    /// A finding at record `k`, field `field` (or the record itself). (Every argument is a
    /// part of the finding the rules spell out at the call, so they stay separate.)
    #[allow(clippy::too_many_arguments)]
    pub fn finding(
        &self,
        k: usize,
        field: Option<&str>,
        rule: &'static str,
        severity: Severity,
        message: String,
        instance_error: Option<&'static str>,
        hint: &str,
    ) -> Finding {
        let r = &self.records[k];
        let offset = field
            .and_then(|f| r.record.field(f))
            .map_or(r.record.file_span.start, |f| f.file_span.start);
        self.finding_at(
            k,
            offset,
            field,
            rule,
            severity,
            message,
            instance_error,
            hint,
        )
    }

    /// [`Facts::finding`] at `offset` in the record's file (a field already in hand: a rule
    /// that looks at every field of a record need not look each up again by name).
    #[allow(clippy::too_many_arguments)]
    pub fn finding_at(
        &self,
        k: usize,
        offset: usize,
        field: Option<&str>,
        rule: &'static str,
        severity: Severity,
        message: String,
        instance_error: Option<&'static str>,
        hint: &str,
    ) -> Finding {
        let r = &self.records[k];
        let bytes = &self.sources[r.file].bytes;
        let p = self.locators[r.file].locate(offset);
        Finding {
            rule,
            severity,
            message,
            instance_error,
            hint: hint.to_string(),
            location: FindingLocation {
                file: self.sources[r.file].name.clone(),
                line: p.line,
                column: p.column,
                table: Some(r.table().to_string()),
                sys_id: r.sys_id().map(str::to_string),
                field: field.map(str::to_string),
                path: Some(r.path.clone()),
                snippet: Snippet::capture(bytes, offset),
            },
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
pub fn in_version(r: &Rec) -> bool {
    r.path.contains("sys_update_version[")
}
