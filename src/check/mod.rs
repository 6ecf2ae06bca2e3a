//! The offline doctor: lint rules over the records of a bundle.
//!
//! In: the exports of a bundle (and, after `apply`, what the rewrite was meant to remove).
//! Out: [`Finding`]s, each with a rule id, a severity, a message naming the error the user would
//! otherwise meet on the instance, a location (file, line, column, record, field, path inside
//! payloads) and a fix hint. The rules live in [`rules`]; this module gathers the records they
//! look at.

mod facts;
pub mod render;
pub mod rules;

use std::collections::BTreeSet;

use serde::Serialize;

pub use facts::{Facts, Place, Rec};

use crate::error::{ReadError, Severity, Snippet};
use crate::io::Source;
use crate::plan::Instance;

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingLocation {
    /// The file (or `archive.zip!entry`).
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// The record's table.
    pub table: Option<String>,
    /// The record's sys_id.
    pub sys_id: Option<String>,
    /// The field.
    pub field: Option<String>,
    /// Where the record sits: `table[sys_id] > payload > table[sys_id]`.
    pub path: Option<String>,
    /// The offending line (secrets masked), for a caret display.
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id, e.g. `oauth-client-id`.
    pub rule: &'static str,
    /// Error, warning or info.
    pub severity: Severity,
    /// What is wrong (never a secret value).
    pub message: String,
    /// What the instance would answer (`invalid_client`, ...), when known.
    pub instance_error: Option<&'static str>,
    /// How to fix it.
    pub hint: String,
    /// Where.
    pub location: FindingLocation,
}

/// What to check besides the bundle itself.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The instance the bundle is for.
    pub target: Option<Instance>,
    /// After `apply`: instances that should no longer be named.
    pub sources: Vec<Instance>,
    /// After `apply`: sys_ids that should no longer occur.
    pub old_ids: BTreeSet<String>,
    /// The placeholder template secrets were replaced with (the default one is always known).
    pub placeholder: Option<String>,
    /// The secret rules of the plan (its `secret_fields` and `not_secret`); the built-in rules
    /// when `None`. Dictionary records of the bundle add to them.
    pub secret_rules: Option<crate::analyze::secrets::SecretRules>,
    /// After `fork` (or `check --namespace`): namespaces that should no longer occur.
    pub old_namespaces: Vec<String>,
    /// Longer namespaces that start with an old one and are not leftovers of it (the new one,
    /// other applications').
    pub keep_namespaces: Vec<String>,
}

/// The findings for a bundle, sorted by file order, then position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Every finding.
    pub findings: Vec<Finding>,
    /// Files checked.
    pub files: usize,
    /// Records checked (payloads included).
    pub records: usize,
}

impl CheckReport {
    /// `true` when an error-level finding exists.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Findings of one rule.
    pub fn of(&self, rule: &str) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.rule == rule)
    }
}

/// Checks a bundle.
///
/// ```
/// use sn_retarget::check::{check, CheckOptions};
/// use sn_retarget::io::{load_inputs, Limits};
/// let sources = load_inputs(&["fixtures/seed000_dev".into()], &Limits::default()).unwrap();
/// let report = check(&sources, &CheckOptions::default()).unwrap();
/// // Ciphertext is still in the development export: three errors.
/// assert_eq!(report.of("secret-left").count(), 3);
/// ```
pub fn check(sources: &[Source], options: &CheckOptions) -> Result<CheckReport, ReadError> {
    let facts = Facts::gather(sources)?;
    let mut findings = Vec::new();
    rules::run_all(&facts, options, &mut findings);
    // Files by name, looked up once per finding (not once per comparison).
    let index: std::collections::HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let file_index = |name: &str| index.get(name).copied().unwrap_or(usize::MAX);
    findings.sort_by(|a, b| {
        let fa = file_index(&a.location.file);
        let fb = file_index(&b.location.file);
        (fa, a.location.line, a.location.column, a.rule).cmp(&(
            fb,
            b.location.line,
            b.location.column,
            b.rule,
        ))
    });
    findings.dedup();
    Ok(CheckReport {
        findings,
        files: sources.len(),
        records: facts.records.len(),
    })
}
