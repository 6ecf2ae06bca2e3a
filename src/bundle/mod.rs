//! Many documents to an ordered bundle: import order, manifest and re-entry checklist.
//!
//! In: the inputs of a bundle (files, folder contents, zip entries) and a [`Plan`]. Out: a
//! [`Bundle`]: the rewritten files named `NN_<original name>` in import order (or one combined
//! `<unload>`), `manifest.json` (order and why, records per file, sha256 of each output, the
//! plan, edit counts) and `CHECKLIST.md` (each secret to re-enter, in import order, with the
//! link that opens its record on the target, then the follow-up steps that apply), and
//! `.sn-retarget-bundle`, the marker by which `--force` knows a bundle it may replace
//! ([`check_replaceable`]).

mod checklist;
mod combine;
mod marker;
pub mod order;

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use rayon::prelude::*;

use crate::apply::{ApplyError, ApplyReport, apply_with};
use crate::inspect::{FileReport, Inspector, Inventory};
use crate::io::Source;
use crate::model::Shape;
use crate::plan::Plan;
use crate::plan::tokens::Rule;
use order::{Order, Reason, Unit, UnitRef};

pub use checklist::checklist;
pub use combine::combine;
pub use marker::{MARKER, NotReplaceable, check_replaceable};

/// A record of a bundle file, for the manifest (before the rewrite).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestRecord {
    /// Table.
    pub table: String,
    /// sys_id in the input.
    pub sys_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// One output of the bundle, in import order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestEntry {
    /// 1-based import position.
    pub position: usize,
    /// Output file name.
    pub file: String,
    /// The input it came from.
    pub input: String,
    /// Why it is here.
    pub reason: Reason,
    /// Top-level records (payload records are counted in `payload_records`).
    pub records: Vec<ManifestRecord>,
    /// Records inside payloads.
    pub payload_records: usize,
    /// sha256 of the output bytes, hex.
    pub sha256: String,
    /// Edits made.
    pub edits: usize,
    /// Edits per rule.
    pub counts: BTreeMap<Rule, usize>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The tool and its version.
    pub tool: String,
    /// The plan used.
    pub plan: Plan,
    /// The outputs in import order.
    pub order: Vec<ManifestEntry>,
    /// Reference cycles found (output file names), each broken by priority.
    pub cycles: Vec<Vec<String>>,
    /// Edits per rule, all files.
    pub totals: BTreeMap<Rule, usize>,
    /// Secrets to re-enter (details in CHECKLIST.md).
    pub secrets: usize,
}

/// A finished bundle, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// `(name, bytes)` of every file to write: outputs in import order, then `manifest.json`,
    /// `CHECKLIST.md` and the marker ([`MARKER`]).
    pub files: Vec<(String, Vec<u8>)>,
    /// The manifest (also in `files`).
    pub manifest: Manifest,
    /// The apply report.
    pub report: ApplyReport,
    /// Diagnostics worth a warning (malformed payloads, cycles, plan warnings).
    pub warnings: Vec<String>,
}

/// The ordering units of an inventory: one per file.
pub fn file_units(inventory: &Inventory) -> Vec<Unit> {
    inventory.files.par_iter().map(unit_of).collect()
}

fn unit_of(f: &FileReport) -> Unit {
    Unit {
        name: f.path.clone(),
        defines: f.records.iter().filter_map(|r| r.sys_id.clone()).collect(),
        references: f
            .references
            .iter()
            .map(|r| UnitRef {
                from: format!("{}.{}", r.table, r.field),
                target: r.target.clone(),
                display: r.display_value.clone(),
            })
            .collect(),
        tables: f.records.iter().map(|r| r.table.clone()).collect(),
    }
}

/// Inventories `sources` (in parallel) and orders them for import.
pub fn order_sources(sources: &[Source]) -> Result<(Inventory, Order), ApplyError> {
    let inventory = inventory_of(sources)?;
    let order = order::order(&file_units(&inventory));
    Ok((inventory, order))
}

/// The inventory of `sources`, each file inspected on its own (in parallel).
fn inventory_of(sources: &[Source]) -> Result<Inventory, ApplyError> {
    let reports: Vec<Result<FileReport, ApplyError>> = sources
        .par_iter()
        .map(|s| {
            let mut inspector = Inspector::new();
            inspector.add(&s.name, &s.bytes).map_err(ApplyError::Read)?;
            Ok(inspector.into_reports().remove(0))
        })
        .collect();
    let reports = reports.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Inspector::from_reports(reports).finish())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The output name of the `position`-th file (1-based) of `count`.
fn numbered(position: usize, count: usize, original: &str) -> String {
    let width = count.to_string().len().max(2);
    format!("{position:0width$}_{original}")
}

/// Builds the bundle: order, rewrite, name, manifest, checklist.
///
/// ```
/// use sn_retarget::bundle::build;
/// use sn_retarget::io::{load_inputs, Limits};
/// use sn_retarget::plan::Plan;
/// let sources = load_inputs(&["fixtures/seed000_dev".into()], &Limits::default()).unwrap();
/// let plan = Plan { target: Some("prod1".into()), ..Plan::default() };
/// let bundle = build(&plan, &sources).unwrap();
/// let names: Vec<&str> = bundle.files.iter().map(|(n, _)| n.as_str()).collect();
/// assert_eq!(names, ["01_3_application_registries.xml", "02_4_oauth_entity_profile.xml",
///     "03_2_oauth_user_profile.xml", "04_1_my_sn_instance.xml", "manifest.json", "CHECKLIST.md",
///     ".sn-retarget-bundle"]);
/// ```
pub fn build(plan: &Plan, sources: &[Source]) -> Result<Bundle, ApplyError> {
    build_with(plan, sources, false, &|| {})
}

/// [`build`], calling `progress` once per file rewritten; with `combine`, the outputs become
/// one `<unload>` (`01_combined.xml`, see [`combine`]), and the manifest and checklist say so.
pub fn build_with(
    plan: &Plan,
    sources: &[Source],
    combine_all: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<Bundle, ApplyError> {
    let inventory = inventory_of(sources)?;
    if combine_all {
        if let Some(f) = inventory.files.iter().find(|f| {
            !matches!(
                f.shape,
                Some(
                    Shape::UpdateSet
                        | Shape::RecordExport
                        | Shape::ListExport
                        | Shape::MixedExport
                        | Shape::EmptyUnload
                )
            )
        }) {
            return Err(ApplyError::Bundle(format!(
                "{}: --combine takes <unload> exports only (this is a {})",
                f.path,
                f.shape
                    .as_ref()
                    .map_or_else(|| "file".to_string(), ToString::to_string)
            )));
        }
    }
    let inputs: Vec<(&str, &[u8])> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.bytes.as_slice()))
        .collect();
    // The order (one thread) is worked out while the files are rewritten.
    let (order, applied) = rayon::join(
        || order::order(&file_units(&inventory)),
        || apply_with(plan, &inputs, false, progress),
    );
    let mut applied = applied?;
    let count = sources.len();
    let mut names = vec![String::new(); count];
    for (k, p) in order.sequence.iter().enumerate() {
        let original = sources[p.unit].relative.file_name().map_or_else(
            || sources[p.unit].name.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        names[p.unit] = numbered(k + 1, count, &original);
    }
    // The entries (each with its output's digest) are made in parallel, in import order.
    let mut entries: Vec<ManifestEntry> = order
        .sequence
        .par_iter()
        .enumerate()
        .map(|(k, p)| {
            let out = &applied.outputs[p.unit];
            let report = &inventory.files[p.unit];
            ManifestEntry {
                position: k + 1,
                file: names[p.unit].clone(),
                input: sources[p.unit].name.clone(),
                reason: p.reason.clone(),
                records: report
                    .records
                    .iter()
                    .filter(|r| r.depth == 0)
                    .map(|r| ManifestRecord {
                        table: r.table.clone(),
                        sys_id: r.sys_id.clone(),
                        name: r.name.clone(),
                    })
                    .collect(),
                payload_records: report.records.iter().filter(|r| r.depth > 0).count(),
                sha256: sha256_hex(&out.bytes),
                edits: out.edits,
                counts: applied.report.files[p.unit].counts.clone(),
            }
        })
        .collect();
    let mut files = Vec::with_capacity(count + 2);
    let mut warnings = Vec::new();
    for p in &order.sequence {
        let report = &inventory.files[p.unit];
        let fe = &applied.report.files[p.unit];
        let bytes = std::mem::take(&mut applied.outputs[p.unit].bytes);
        files.push((names[p.unit].clone(), bytes));
        for d in &report.diagnostics {
            warnings.push(format!("{}: {d}", report.path));
        }
        for w in &fe.warnings {
            warnings.push(format!("{}: {w}", fe.input));
        }
    }
    let cycles: Vec<Vec<String>> = order
        .cycles
        .iter()
        .map(|c| c.iter().map(|u| names[*u].clone()).collect())
        .collect();
    for c in &cycles {
        warnings.push(format!(
            "reference cycle between {}: broken by import priority",
            c.join(", ")
        ));
    }
    if combine_all {
        let outputs = std::mem::take(&mut files);
        let (combined, corder) =
            combine(&outputs).map_err(|e| ApplyError::Bundle(format!("--combine: {e}")))?;
        let mut counts = BTreeMap::new();
        for e in &entries {
            for (rule, n) in &e.counts {
                *counts.entry(*rule).or_insert(0) += n;
            }
        }
        let (_, records) = {
            let mut c = crate::model::Collect::default();
            let outcome = crate::model::read(&combined, &mut c)
                .map_err(|e| ApplyError::Bundle(format!("--combine: {e}")))?;
            c.sort();
            (outcome, c.records)
        };
        entries = vec![ManifestEntry {
            position: 1,
            file: "01_combined.xml".into(),
            input: format!("{} input file(s)", sources.len()),
            reason: Reason::Combined {
                units: corder.sequence.len(),
            },
            records: records
                .iter()
                .filter(|r| r.place.depth == 0 && r.place.parent.is_none())
                .map(|r| ManifestRecord {
                    table: r.table.clone(),
                    sys_id: r.sys_id.clone(),
                    name: r.field("name").map(|f| f.text.clone()),
                })
                .collect(),
            payload_records: records.iter().filter(|r| r.place.depth > 0).count(),
            sha256: sha256_hex(&combined),
            edits: entries.iter().map(|e| e.edits).sum(),
            counts,
        }];
        names = vec!["01_combined.xml".to_string(); count];
        files.push(("01_combined.xml".to_string(), combined));
    }
    let manifest = Manifest {
        tool: format!("sn-retarget {}", env!("CARGO_PKG_VERSION")),
        plan: plan.clone(),
        order: entries,
        cycles,
        totals: applied.report.totals.clone(),
        secrets: applied.report.secrets.len(),
    };
    let (manifest_json, checklist_md) = rayon::join(
        || serde_json::to_vec_pretty(&manifest),
        || checklist(plan, &manifest, &applied.report, &inventory, &order, &names),
    );
    let manifest_json = manifest_json.map_err(|e| ApplyError::Rewrite {
        name: "manifest.json".into(),
        source: crate::plan::RewriteError::Internal(e.to_string()),
    })?;
    let checklist_md = checklist_md.into_bytes();
    // The marker lists every file with its digest (the outputs' are the manifest's).
    let mut listed: Vec<(&str, String)> = manifest
        .order
        .iter()
        .map(|e| (e.file.as_str(), e.sha256.clone()))
        .collect();
    listed.push(("manifest.json", sha256_hex(&manifest_json)));
    listed.push(("CHECKLIST.md", sha256_hex(&checklist_md)));
    let marker = marker::marker(&listed);
    files.push(("manifest.json".into(), manifest_json));
    files.push(("CHECKLIST.md".into(), checklist_md));
    files.push((MARKER.into(), marker));
    // Freed on another thread (a few hundred thousand small allocations for a big folder).
    rayon::spawn(move || drop((inventory, order)));
    Ok(Bundle {
        files,
        manifest,
        report: applied.report,
        warnings,
    })
}
