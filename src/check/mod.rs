//! The offline doctor: lint rules over the records of a bundle.
//!
//! In: the exports of a bundle (and, after `apply`, what the rewrite was meant to remove).
//! Out: [`Finding`]s, each with a rule id, a severity, a message naming the error the user would
//! otherwise meet on the instance, a location (file, line, column, record, field, path inside
//! payloads) and a fix hint. The rules live in `rules`; this module gathers the records they
//! look at.

mod facts;
pub mod render;
internal_mod!(rules);

use std::collections::BTreeSet;

use rayon::prelude::*;
use serde::Serialize;

#[cfg_attr(feature = "internals", visibility::make(pub))]
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub(crate) use facts::{BundleRecord, Facts, Place};

use crate::error::{ReadError, Severity, Snippet};
use crate::plan::{Existing, Instance, Intent, LeftOut};

/// `apply` and `bundle` check their outputs up to this many bytes in all (`check` holds every
/// value in memory); larger outputs are left to `sn-retarget check`.
pub const CHECK_LIMIT_BYTES: usize = 64_000_000;

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    /// The byte offset in the file (the snippet is taken from there).
    #[serde(skip)]
    pub offset: Option<usize>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    /// Records that already exist on the target (`--existing`): references to them are
    /// expected, and a copy of one in the bundle would replace it.
    pub existing: Vec<Existing>,
    /// What the run that made the bundle did, when known (after `apply` or `bundle`, or from
    /// a bundle's `manifest.json`).
    pub run: Option<RunFacts>,
}

/// What a run of `apply` or `bundle` did, for the rules that judge it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFacts {
    /// What the output was for.
    pub intent: Option<Intent>,
    /// The target it was made for (a host), and where that is said (`manifest.json`).
    pub made_for: Option<(String, String)>,
    /// sys_ids this run gave records (derived twins, regenerated records).
    pub new_ids: BTreeSet<String>,
    /// Records this run left out.
    pub left_out: Vec<LeftOut>,
    /// client_ids this run wrote.
    pub new_client_ids: BTreeSet<String>,
    /// Records the run was told exist on the target.
    pub existing: Vec<Existing>,
    /// The hosts the run moved away from (its host map's sources): still named, each is
    /// `source-host-left`, as for [`CheckOptions::sources`].
    pub sources: Vec<String>,
}

impl RunFacts {
    /// What the run that made a bundle did, from its `manifest.json` (`shown`: where it was
    /// read, for the findings' location); `None` when it is not one.
    pub fn from_manifest(shown: &str, json: &[u8]) -> Option<RunFacts> {
        let v: serde_json::Value = serde_json::from_slice(json).ok()?;
        let target = v["target"].as_str().map(str::to_string).or_else(|| {
            let t = v["plan"]["target"].as_str()?;
            Instance::parse(t).ok().map(|i| i.host().to_string())
        });
        let strings = |key: &str| -> Vec<&serde_json::Value> {
            v[key]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default()
        };
        Some(RunFacts {
            intent: serde_json::from_value(v["intent"].clone()).ok(),
            made_for: target.map(|t| (shown.to_string(), t)),
            new_ids: strings("order")
                .into_iter()
                .flat_map(|e| e["records"].as_array().cloned().unwrap_or_default())
                .filter(|r| r["input_sys_id"].is_string())
                .filter_map(|r| r["sys_id"].as_str().map(str::to_string))
                .collect(),
            left_out: serde_json::from_value(v["left_out"].clone()).unwrap_or_default(),
            new_client_ids: strings("client_ids")
                .into_iter()
                .filter_map(|c| c["new"].as_str().map(str::to_string))
                .collect(),
            existing: strings("existing")
                .into_iter()
                .filter_map(|e| Existing::parse(e.as_str()?).ok())
                .collect(),
            sources: strings("hosts")
                .into_iter()
                .filter_map(|h| h["from"].as_str().map(str::to_string))
                .collect(),
        })
    }

    /// What the run that wrote `report` did.
    pub fn of(report: &crate::apply::ApplyReport) -> RunFacts {
        RunFacts {
            intent: Some(report.intent),
            made_for: None,
            new_ids: report.id_map.iter().map(|p| p.new.clone()).collect(),
            left_out: report
                .files
                .iter()
                .flat_map(|f| f.left_out.iter().cloned())
                .collect(),
            new_client_ids: report.client_ids.iter().map(|c| c.new.clone()).collect(),
            existing: report
                .existing
                .iter()
                .filter_map(|e| Existing::parse(e).ok())
                .collect(),
            sources: report.hosts.iter().map(|h| h.from.clone()).collect(),
        }
    }
}

/// The findings for a bundle, sorted by file order, then position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
/// let named: Vec<(&str, &[u8])> = sources.iter().map(|s| (s.name.as_str(), s.bytes.as_slice())).collect();
/// let report = check(&named, &CheckOptions::default()).unwrap();
/// // Ciphertext is still in the development export: three errors.
/// assert_eq!(report.of("secret-left").count(), 3);
/// ```
pub fn check(sources: &[(&str, &[u8])], options: &CheckOptions) -> Result<CheckReport, ReadError> {
    let facts = Facts::gather(sources)?;
    // What the run that made the bundle was told exists on the target holds for the check too.
    let mut merged;
    let mut options = options;
    if let Some(run) = options.run.as_ref().filter(|r| !r.existing.is_empty()) {
        merged = options.clone();
        for e in &run.existing {
            if !merged.existing.contains(e) {
                merged.existing.push(e.clone());
            }
        }
        options = &merged;
    }
    let mut findings = Vec::new();
    rules::run_all(&facts, options, &mut findings);
    // Files by name, looked up once per finding (not once per comparison).
    let index: rustc_hash::FxHashMap<&str, usize> =
        sources.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
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
    // The offending line is shown for the first findings of each rule in each file (a bundle
    // with thousands of one finding needs its location, not thousands of snippets).
    const SNIPPETS: usize = 50;
    let mut shown: rustc_hash::FxHashMap<(&str, &str), usize> = Default::default();
    let wanted: Vec<Option<(usize, usize)>> = findings
        .iter()
        .map(|f| {
            let l = &f.location;
            let (Some(offset), None) = (l.offset, &l.snippet) else {
                return None;
            };
            let n = shown.entry((f.rule, l.file.as_str())).or_insert(0);
            *n += 1;
            let file = *index.get(l.file.as_str())?;
            (*n <= SNIPPETS).then_some((file, offset))
        })
        .collect();
    // Cut on every core (each masks the secrets of its line).
    findings.par_iter_mut().zip(wanted).for_each(|(f, wanted)| {
        if let Some((file, offset)) = wanted {
            f.location.snippet = Snippet::capture(sources[file].1, offset);
        }
    });
    let records = facts.records.len();
    facts.drop_in_background();
    Ok(CheckReport {
        findings,
        files: sources.len(),
        records,
    })
}
