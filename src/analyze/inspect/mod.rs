//! The inventory of a set of exports: what `sn-retarget inspect` shows.
//!
//! In: files (name and bytes), read one after another. Out: an [`Inventory`]: for each file its
//! shape, records (top level and inside payloads), references (resolved against every record of
//! the input), instance hosts, scopes and secret-bearing fields (never their values), as text
//! for people ([`std::fmt::Display`]) or JSON for tools (`serde`).
//!
//! ```
//! use sn_retarget::analyze::inspect::Inspector;
//! let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <unload unload_date="2024-01-01 00:00:00">
//! <oauth_entity action="INSERT_OR_UPDATE"><client_secret>)pR#c2VjcmV0c2VjcmV0</client_secret><name>OAuth Client Dev</name><redirect_url>https://dev1.service-now.com/oauth_redirect.do</redirect_url><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity>
//! </unload>"#;
//! let mut inspector = Inspector::new();
//! inspector.add("dev.xml", xml).unwrap();
//! let inv = inspector.finish();
//! let file = &inv.files[0];
//! assert_eq!(file.records[0].name.as_deref(), Some("OAuth Client Dev"));
//! assert_eq!(file.hosts[0].host, "dev1.service-now.com");
//! assert_eq!(file.secrets[0].field, "client_secret");
//! assert!(!inv.to_string().contains("c2VjcmV0"));
//! ```

use rayon::prelude::*;
use serde::Serialize;

use crate::analyze::apps::{AppEntry, AppFacts};
use crate::analyze::hosts::HostFinder;
use crate::analyze::refs::RefKind;
use crate::analyze::secrets::{CipherShape, DictionaryLearner, SecretReason, SecretRules};
use crate::error::{Diagnostic, Location, ReadError};
use crate::model::{self, Record, Shape, Visitor};

/// One record in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordEntry {
    /// Document order within the file.
    pub index: usize,
    /// Table.
    pub table: String,
    /// sys_id, or `null`.
    pub sys_id: Option<String>,
    /// `action` attribute, or `null`.
    pub action: Option<String>,
    /// Display name (name, sys_name, title, label, ...).
    pub name: Option<String>,
    /// 0 = top level, 1 = inside a payload, 2 = inside a payload inside a payload...
    pub depth: usize,
    /// Index of the record whose payload holds this one.
    pub payload_of: Option<usize>,
    /// Index of the record element this one is nested in.
    pub parent: Option<usize>,
}

/// A reference from a record's field to a sys_id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Reference {
    /// Index of the referring record.
    pub record: usize,
    /// Its table.
    pub table: String,
    /// Its sys_id.
    pub sys_id: Option<String>,
    /// The field holding the reference.
    pub field: String,
    /// The sys_id referred to.
    pub target: String,
    /// The display value exported beside it.
    pub display_value: Option<String>,
    /// How it is written.
    pub kind: RefKind,
    /// Depth of the referring record.
    pub depth: usize,
    /// `true` when a record of the input (any file) has the target sys_id.
    pub resolved: bool,
}

impl Reference {
    /// The reference `found` in record `r`, its target in lower case (ids compare so, however
    /// a reference spells them).
    pub(crate) fn of(r: &Record<'_>, found: crate::analyze::refs::RefFound<'_>) -> Reference {
        Reference {
            record: r.index,
            table: r.table.to_string(),
            sys_id: r.sys_id().map(str::to_string),
            field: found.field.to_string(),
            target: visit::id_lower(found.target).into_owned(),
            display_value: found.display_value.map(|d| d.into_owned()),
            kind: found.kind,
            depth: r.place.depth,
            resolved: false,
        }
    }
}

/// An instance host named in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HostEntry {
    /// e.g. `dev12345.service-now.com`.
    pub host: String,
    /// e.g. `dev12345`.
    pub instance: String,
    /// Occurrences.
    pub count: usize,
    /// Where it occurs, as `table.field` (sorted, distinct).
    pub fields: Vec<String>,
}

/// A scope named in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScopeEntry {
    /// sys_id (or `global`).
    pub sys_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Namespace (`x_..._...`, `sn_...`, `global`).
    pub namespace: Option<String>,
    /// Mentions.
    pub count: usize,
}

/// A field holding a secret (the value is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SecretEntry {
    /// Index of the record.
    pub record: usize,
    /// Table.
    pub table: String,
    /// sys_id of the record.
    pub sys_id: Option<String>,
    /// Field name.
    pub field: String,
    /// Depth of the record.
    pub depth: usize,
    /// Why it is a secret.
    pub why: SecretReason,
    /// Its ciphertext shape, when it has one.
    pub shape: Option<CipherShape>,
}

/// A file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileError {
    /// The full message (file, line:column, what is wrong).
    pub message: String,
    /// Where.
    pub location: Location,
}

/// Everything found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileReport {
    /// The name the file was given.
    pub path: String,
    /// Its size.
    pub bytes: usize,
    /// The kind of export (`null` when unreadable).
    pub shape: Option<Shape>,
    /// Records in document order.
    pub records: Vec<RecordEntry>,
    /// References in document order.
    pub references: Vec<Reference>,
    /// Instance hosts, sorted.
    pub hosts: Vec<HostEntry>,
    /// Scopes, sorted.
    pub scopes: Vec<ScopeEntry>,
    /// Secret-bearing fields in document order.
    pub secrets: Vec<SecretEntry>,
    /// Non-fatal findings.
    pub diagnostics: Vec<Diagnostic>,
    /// Set when the file is not well-formed.
    pub error: Option<FileError>,
    /// What the file says about applications (merged into [`Inventory::apps`]).
    #[serde(skip)]
    pub app_facts: AppFacts,
}

/// The inventory of every file given to an [`Inspector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Inventory {
    /// One report per file, in the order given.
    pub files: Vec<FileReport>,
    /// The scoped applications of all the files: namespace, sys_id, name, tables defined.
    pub apps: Vec<AppEntry>,
}

impl Inventory {
    /// `true` when some file could not be read.
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }
}

/// Builds an [`Inventory`] file by file.
#[derive(Debug, Default)]
pub struct Inspector {
    rules: SecretRules,
    files: Vec<FileReport>,
}

impl Inspector {
    /// An inspector with the built-in secret rules.
    pub fn new() -> Inspector {
        Inspector::default()
    }

    /// An inspector with rules of your own.
    pub fn with_rules(rules: SecretRules) -> Inspector {
        Inspector {
            rules,
            ..Inspector::default()
        }
    }

    /// Learns the password2 columns the dictionary records of one file declare, without
    /// inventorying it: call it for every file before [`Inspector::add`], so that a column
    /// declared by a file counts in every file, whatever the order they come in. Files without
    /// a dictionary record (`sys_dictionary`, `<database>`) are not read.
    pub fn learn(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let declares = memchr::memmem::find(bytes, b"sys_dictionary").is_some()
            || memchr::memmem::find(bytes, b"<database").is_some();
        if !declares {
            return Ok(());
        }
        struct Learn<'r> {
            rules: &'r mut SecretRules,
            learner: DictionaryLearner,
        }
        impl Visitor for Learn<'_> {
            fn record(&mut self, r: &Record<'_>) {
                self.learner.learn(self.rules, r);
            }
            fn discard_from(&mut self, first_index: usize) {
                self.learner.discard_from(first_index);
            }
        }
        let mut v = Learn {
            rules: &mut self.rules,
            learner: DictionaryLearner::default(),
        };
        model::read(bytes, &mut v).map(|_| ())
    }

    /// Reads one file. An unreadable file is kept in the inventory with its error, and the
    /// error is returned too.
    ///
    /// Pass the bytes by value (a `Vec<u8>`) to let the inspector free them before it builds
    /// the file's report: for a large file that keeps peak memory near the file's own size.
    pub fn add(&mut self, path: &str, bytes: impl AsRef<[u8]>) -> Result<(), ReadError> {
        let len = bytes.as_ref().len();
        let hosts = HostFinder::for_document(bytes.as_ref());
        let mut v = FileVisitor::new(&mut self.rules, &hosts);
        let result = model::read(bytes.as_ref(), &mut v);
        drop(bytes);
        let mut report = FileReport {
            path: path.to_string(),
            bytes: len,
            shape: None,
            records: Vec::new(),
            references: Vec::new(),
            hosts: Vec::new(),
            scopes: Vec::new(),
            secrets: Vec::new(),
            diagnostics: Vec::new(),
            error: None,
            app_facts: AppFacts::default(),
        };
        match result {
            Ok(outcome) => {
                v.finish_into(&mut report);
                report.shape = Some(outcome.shape);
                report.diagnostics = outcome.diagnostics;
                self.files.push(report);
                Ok(())
            }
            Err(e) => {
                let e = e.with_path(path);
                report.error = Some(FileError {
                    message: e.to_string(),
                    location: e.location().clone(),
                });
                self.files.push(report);
                Err(e)
            }
        }
    }

    /// The reports so far, unresolved (to read files in parallel, each with its own
    /// inspector, then join them with [`Inspector::from_reports`]).
    pub fn into_reports(self) -> Vec<FileReport> {
        self.files
    }

    /// An inspector holding reports made elsewhere, ready for [`Inspector::finish`].
    pub fn from_reports(files: Vec<FileReport>) -> Inspector {
        Inspector {
            files,
            ..Inspector::default()
        }
    }

    /// Resolves references across all files and returns the inventory.
    pub fn finish(mut self) -> Inventory {
        // Whether each reference's target is defined, found on every core, then noted.
        let resolved: Vec<Vec<bool>> = {
            let count = self.files.iter().map(|f| f.records.len()).sum();
            let mut defined = rustc_hash::FxHashSet::<&str>::default();
            defined.reserve(count);
            defined.extend(
                self.files
                    .iter()
                    .flat_map(|f| f.records.iter().filter_map(|r| r.sys_id.as_deref())),
            );
            self.files
                .par_iter()
                .map(|f| {
                    f.references
                        .iter()
                        .map(|r| defined.contains(r.target.as_str()))
                        .collect()
                })
                .collect()
        };
        for (f, resolved) in self.files.iter_mut().zip(resolved) {
            for (r, resolved) in f.references.iter_mut().zip(resolved) {
                r.resolved = resolved;
            }
        }
        let apps = crate::analyze::apps::merge(self.files.iter().map(|f| &f.app_facts));
        Inventory {
            files: self.files,
            apps,
        }
    }
}

mod text;
mod visit;

pub use text::write_apps;
use visit::FileVisitor;
