//! Many documents to an ordered bundle: import order, manifest and re-entry checklist.
//!
//! In: the inputs of a bundle (files, folder contents, zip entries) and a [`Plan`]. Out: a
//! [`Bundle`]: the rewritten files named `NN_<original name>` in import order (or one combined
//! `<unload>`), `manifest.json` (order and why, records per file, sha256 of each output, the
//! plan, its intent and host map, edit counts, what `check` finds in the outputs),
//! `CHECKLIST.md` (the steps before, during and after import that this bundle calls for, from
//! the table of steps in [`crate::handoff`]), `review.html` (each file, record and change, the
//! findings and the checklist on one page), and `.sn-retarget-bundle`, the
//! marker by which `--force` knows a bundle it may replace ([`check_replaceable`]). Everything
//! is said of the outputs: the order, the records, their ids and names are read from the
//! rewritten files.

mod combine;
#[cfg(feature = "io")]
mod disk;
mod marker;
pub mod order;
#[cfg(feature = "io")]
mod replaceable;

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use rayon::prelude::*;

use crate::Source;
use crate::analyze::inspect::{FileReport, Inspector, Inventory};
use crate::apply::{ApplyReport, HostPair, apply_with};
use crate::check::Finding;
use crate::error::{Error, ErrorKind};
use crate::handoff::{Handoff, HandoffFile, worth_reading};
use crate::model::Shape;
use crate::plan::tokens::Rule;
use crate::plan::{ClientIdChange, Intent, Plan};
use order::{Order, Reason, Unit, UnitRef};

pub use combine::combine;
#[cfg(feature = "io")]
pub use disk::{Bundler, check_destination};
pub use marker::{MARKER, NotReplaceable};
#[cfg(feature = "io")]
pub use replaceable::check_replaceable;

/// A top-level record of a bundle file, for the manifest, as the output holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ManifestRecord {
    /// Table.
    pub table: String,
    /// sys_id in the output.
    pub sys_id: Option<String>,
    /// Its sys_id in the input, when the rewrite changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_sys_id: Option<String>,
    /// Display name in the output.
    pub name: Option<String>,
}

/// A record the bundle leaves out (`--only`, `--exclude`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ManifestLeftOut {
    /// The input it is in.
    pub input: String,
    /// The record.
    #[serde(flatten)]
    pub record: crate::plan::LeftOut,
}

/// One output of the bundle, in import order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct Manifest {
    /// The tool and its version.
    pub tool: String,
    /// The plan used.
    pub plan: Plan,
    /// What the bundle is for (as the plan says, or inferred from it).
    pub intent: Intent,
    /// The instance the bundle is for (its host).
    pub target: Option<String>,
    /// The host map in force: each source host and the host it became.
    pub hosts: Vec<HostPair>,
    /// Records said to exist on the target (`table:name-or-sys_id`).
    pub existing: Vec<String>,
    /// Records left out of the bundle.
    pub left_out: Vec<ManifestLeftOut>,
    /// `oauth_entity.client_id` values changed (client ids are not secrets).
    pub client_ids: Vec<ClientIdChange>,
    /// The outputs in import order.
    pub order: Vec<ManifestEntry>,
    /// Reference cycles found (output file names), each broken by priority.
    pub cycles: Vec<Vec<String>>,
    /// Edits per rule, all files.
    pub totals: BTreeMap<Rule, usize>,
    /// Secrets to re-enter (details in CHECKLIST.md).
    pub secrets: usize,
    /// Rules of the plan that applied nowhere.
    pub warnings: Vec<String>,
    /// What `check` finds in the outputs (they are checked up to
    /// [`crate::check::CHECK_LIMIT_BYTES`]).
    pub findings: Vec<Finding>,
    /// `false` when the outputs were too large to check here (run `sn-retarget check`).
    pub checked: bool,
}

/// A finished bundle, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bundle {
    /// `(name, bytes)` of every file to write: outputs in import order, then `manifest.json`,
    /// `CHECKLIST.md`, `review.html` and the marker ([`MARKER`]).
    pub files: Vec<(String, Vec<u8>)>,
    /// The manifest (also in `files`).
    pub manifest: Manifest,
    /// The apply report (with every edit, unless the inputs were over
    /// [`crate::check::CHECK_LIMIT_BYTES`] together).
    pub report: ApplyReport,
    /// What the checklist and the review page are made of.
    pub handoff: Handoff,
    /// Diagnostics worth a warning (malformed payloads, cycles, plan warnings).
    pub warnings: Vec<String>,
    /// What is worth knowing and was asked for (inputs left out whole by `--only` /
    /// `--exclude`).
    pub notes: Vec<String>,
}

/// The hand-off of the bundle's outputs (`files`, in import order, as the manifest lists
/// them): its checklist and review page.
fn handoff_of(
    manifest: &Manifest,
    report: &ApplyReport,
    files: &[(String, Vec<u8>)],
    kept_secrets: usize,
) -> Result<Handoff, Error> {
    let combined =
        manifest.order.len() == 1 && matches!(manifest.order[0].reason, Reason::Combined { .. });
    let with_secrets: std::collections::HashSet<&str> =
        report.secrets.iter().map(|s| s.file.as_str()).collect();
    let outputs: Vec<(HandoffFile, &[u8])> = manifest
        .order
        .iter()
        .zip(files)
        .map(|(e, (_, bytes))| {
            let mut file = HandoffFile::of(&e.file, &e.input);
            if combined {
                file.inputs = report.files.iter().map(|f| f.input.clone()).collect();
            }
            // Files with nothing a step is about are not read again.
            let secrets = file
                .inputs
                .iter()
                .any(|i| with_secrets.contains(i.as_str()));
            let tables = e.records.iter().map(|r| r.table.as_str());
            let read = secrets || worth_reading(tables, e.payload_records > 0);
            (file, if read { bytes.as_slice() } else { &[][..] })
        })
        .collect();
    Handoff::new(report, &outputs, kept_secrets)
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
pub fn order_sources(sources: &[Source]) -> Result<(Inventory, Order), Error> {
    let inventory = inventory_of(sources)?;
    let order = order::order(&file_units(&inventory));
    Ok((inventory, order))
}

/// The inventory of `sources`, each file inspected on its own (in parallel).
fn inventory_of(sources: &[Source]) -> Result<Inventory, Error> {
    let reports: Vec<Result<FileReport, Error>> = sources
        .par_iter()
        .map(|s| {
            let mut inspector = Inspector::new();
            inspector.add(&s.name, &s.bytes)?;
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
///     "review.html", ".sn-retarget-bundle"]);
/// ```
pub fn build(plan: &Plan, sources: &[Source]) -> Result<Bundle, Error> {
    build_with(plan, sources, false, &|| {})
}

/// [`build`], calling `progress` once per file rewritten; with `combine`, the outputs become
/// one `<unload>` (`01_combined.xml`, see [`combine`]), and the manifest and checklist say so.
pub fn build_with(
    plan: &Plan,
    sources: &[Source],
    combine_all: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<Bundle, Error> {
    let inputs: Vec<(&str, &[u8])> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.bytes.as_slice()))
        .collect();
    // Every edit is kept for review.html when the inputs are small enough to review edit by
    // edit; larger bundles' pages give each file's edit counts.
    let total_in: usize = inputs.iter().map(|(_, b)| b.len()).sum();
    let details = total_in <= crate::handoff::REVIEW_EDITS_LIMIT_BYTES;
    let mut applied = apply_with(plan, &inputs, details, progress)?;
    // The outputs (a file whose every record was left out has none), inventoried: the order,
    // the manifest and the checklist describe what will be imported, new ids and names.
    let kept: Vec<usize> = (0..sources.len())
        .filter(|&i| !applied.report.files[i].dropped)
        .collect();
    let outputs: Vec<Source> = kept
        .iter()
        .map(|&i| Source {
            name: sources[i].name.clone(),
            path: sources[i].path.clone(),
            relative: sources[i].relative.clone(),
            bytes: std::mem::take(&mut applied.outputs[i].bytes),
        })
        .collect();
    let inventory = inventory_of(&outputs)?;
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
            return Err(ErrorKind::NotCombinable {
                file: f.path.clone(),
                shape: f
                    .shape
                    .as_ref()
                    .map_or_else(|| "file".to_string(), ToString::to_string),
            }
            .into());
        }
    }
    let order = order::order(&file_units(&inventory));
    let count = outputs.len();
    let mut names = vec![String::new(); count];
    for (k, p) in order.sequence.iter().enumerate() {
        let original = outputs[p.unit].relative.file_name().map_or_else(
            || outputs[p.unit].name.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        names[p.unit] = numbered(k + 1, count, &original);
    }
    let input_id: std::collections::HashMap<&str, &str> = applied
        .report
        .id_map
        .iter()
        .map(|p| (p.new.as_str(), p.old.as_str()))
        .collect();
    // The entries (each with its output's digest) are made in parallel, in import order.
    let mut entries: Vec<ManifestEntry> = order
        .sequence
        .par_iter()
        .enumerate()
        .map(|(k, p)| {
            let out = &outputs[p.unit];
            let report = &inventory.files[p.unit];
            let file = &applied.report.files[kept[p.unit]];
            ManifestEntry {
                position: k + 1,
                file: names[p.unit].clone(),
                input: out.name.clone(),
                // Units by input index, as the manifest's readers know them.
                reason: p.reason.map_units(|u| kept[u]),
                records: report
                    .records
                    .iter()
                    .filter(|r| r.depth == 0)
                    .map(|r| ManifestRecord {
                        table: r.table.clone(),
                        sys_id: r.sys_id.clone(),
                        input_sys_id: r
                            .sys_id
                            .as_deref()
                            .and_then(|id| input_id.get(id))
                            .map(|id| id.to_string()),
                        name: r.name.clone(),
                    })
                    .collect(),
                payload_records: report.records.iter().filter(|r| r.depth > 0).count(),
                sha256: sha256_hex(&out.bytes),
                edits: file.edits,
                counts: file.counts.clone(),
            }
        })
        .collect();
    let mut files = Vec::with_capacity(count + 2);
    let mut warnings: Vec<String> = applied.report.warnings.clone();
    let notes = applied
        .report
        .files
        .iter()
        .filter(|f| f.dropped)
        .map(|f| {
            format!(
                "{}: every record left out (--only/--exclude); not in the bundle",
                f.input
            )
        })
        .collect();
    let mut outputs = outputs;
    for p in &order.sequence {
        let report = &inventory.files[p.unit];
        let fe = &applied.report.files[kept[p.unit]];
        let bytes = std::mem::take(&mut outputs[p.unit].bytes);
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
        let (combined, corder) = combine(&outputs)?;
        let mut counts = BTreeMap::new();
        for e in &entries {
            for (rule, n) in &e.counts {
                *counts.entry(*rule).or_insert(0) += n;
            }
        }
        let (_, records) = {
            let mut c = crate::model::Collect::default();
            let outcome =
                crate::model::read(&combined, &mut c).map_err(|e| e.with_path("combined.xml"))?;
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
                    input_sys_id: r
                        .sys_id
                        .as_deref()
                        .and_then(|id| input_id.get(id))
                        .map(|id| id.to_string()),
                    name: r.field("name").map(|f| f.text.clone()),
                })
                .collect(),
            payload_records: records.iter().filter(|r| r.place.depth > 0).count(),
            sha256: sha256_hex(&combined),
            edits: entries.iter().map(|e| e.edits).sum(),
            counts,
        }];
        files.push(("01_combined.xml".to_string(), combined));
    }
    // The same checks as `check`, on the outputs as the bundle names them (with what the
    // rewrite removed).
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let checked = total <= crate::check::CHECK_LIMIT_BYTES;
    if checked {
        let named: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        applied.report.findings = crate::apply::check_named(plan, &applied.report, &named)?;
        // A secret, a source host or an old sys_id left stops the bundle: nothing to write.
        crate::apply::refuse_left_behind(plan, &applied.report.findings)?;
    }
    let findings = applied.report.findings.clone();
    let r = &applied.report;
    let manifest = Manifest {
        tool: format!("sn-retarget {}", env!("CARGO_PKG_VERSION")),
        plan: plan.clone(),
        intent: r.intent,
        target: r.target.clone(),
        hosts: r.hosts.clone(),
        existing: r.existing.clone(),
        left_out: r
            .files
            .iter()
            .flat_map(|f| {
                f.left_out.iter().map(|l| ManifestLeftOut {
                    input: f.input.clone(),
                    record: l.clone(),
                })
            })
            .collect(),
        client_ids: r.client_ids.clone(),
        order: entries,
        cycles,
        totals: r.totals.clone(),
        secrets: r.secrets.len(),
        warnings: r.warnings.clone(),
        findings,
        checked,
    };
    let kept_secrets = match plan.secrets {
        crate::plan::SecretMode::Keep => inventory.files.iter().map(|f| f.secrets.len()).sum(),
        _ => 0,
    };
    let (manifest_json, handoff) = rayon::join(
        || serde_json::to_vec_pretty(&manifest),
        || handoff_of(&manifest, &applied.report, &files, kept_secrets),
    );
    let manifest_json = manifest_json.map_err(|source| ErrorKind::Serialize {
        what: "manifest.json",
        source,
    })?;
    let handoff = handoff?;
    let (checklist_md, review_html) = rayon::join(
        || handoff.checklist_md(&manifest.tool).into_bytes(),
        || {
            handoff
                .review_html(&manifest.tool, &applied.report)
                .into_bytes()
        },
    );
    // The marker lists every file with its digest (the outputs' are the manifest's).
    let mut listed: Vec<(&str, String)> = manifest
        .order
        .iter()
        .map(|e| (e.file.as_str(), e.sha256.clone()))
        .collect();
    listed.push(("manifest.json", sha256_hex(&manifest_json)));
    listed.push(("CHECKLIST.md", sha256_hex(&checklist_md)));
    listed.push(("review.html", sha256_hex(&review_html)));
    let marker = marker::marker(&listed);
    files.push(("manifest.json".into(), manifest_json));
    files.push(("CHECKLIST.md".into(), checklist_md));
    files.push(("review.html".into(), review_html));
    files.push((MARKER.into(), marker));
    // Freed on another thread (a few hundred thousand small allocations for a big folder).
    rayon::spawn(move || drop((inventory, order)));
    Ok(Bundle {
        files,
        manifest,
        report: applied.report,
        handoff,
        warnings,
        notes,
    })
}
