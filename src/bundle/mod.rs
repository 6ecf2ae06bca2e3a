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
use crate::apply::{Applied, ApplyReport, HostPair, apply_with};
use crate::check::Finding;
use crate::error::{Error, ErrorKind};
use crate::handoff::{Handoff, HandoffFile, worth_reading};
use crate::model::Shape;
use crate::plan::tokens::ChangeKind;
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
    pub counts: BTreeMap<ChangeKind, usize>,
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
    pub totals: BTreeMap<ChangeKind, usize>,
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
    let (kept, mut outputs) = kept_outputs(sources, &mut applied);
    let inventory = inventory_of(&outputs)?;
    if combine_all {
        refuse_uncombinable(&inventory)?;
    }
    let order = order::order(&file_units(&inventory));
    let count = outputs.len();
    let names = output_names(&order, &outputs);
    let input_ids: InputIds<'_> = applied
        .report
        .id_map
        .iter()
        .map(|p| (p.new.as_str(), p.old.as_str()))
        .collect();
    let built = Built {
        outputs: &outputs,
        kept: &kept,
        inventory: &inventory,
        report: &applied.report,
        names: &names,
        input_ids: &input_ids,
    };
    let mut entries = built.entries(&order);
    let (warnings, cycles) = built.warnings_and_cycles(&order);
    let notes = dropped_notes(&applied.report);
    let mut files = Vec::with_capacity(count + 2);
    files.extend(order.sequence.iter().map(|p| {
        let bytes = std::mem::take(&mut outputs[p.unit].bytes).into_vec();
        (names[p.unit].clone(), bytes)
    }));
    if combine_all {
        let (entry, combined) = combined_entry(
            std::mem::take(&mut files),
            &entries,
            sources.len(),
            &input_ids,
        )?;
        entries = vec![entry];
        files.push(("01_combined.xml".to_string(), combined));
    }
    let checked = check_outputs(plan, &mut applied.report, &files)?;
    let manifest = manifest_of(plan, &applied.report, entries, cycles, checked);
    let handoff = add_handoff_files(plan, &inventory, &manifest, &applied.report, &mut files)?;
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

/// New sys_id -> the sys_id it had in the input (the id map read backwards).
type InputIds<'a> = rustc_hash::FxHashMap<&'a str, &'a str>;

/// A record of the manifest: its sys_id in the output and, when the rewrite changed it, in the
/// input.
fn manifest_record(
    table: &str,
    sys_id: &Option<String>,
    name: Option<String>,
    input_ids: &InputIds<'_>,
) -> ManifestRecord {
    ManifestRecord {
        table: table.to_string(),
        sys_id: sys_id.clone(),
        input_sys_id: sys_id
            .as_deref()
            .and_then(|id| input_ids.get(id))
            .map(|id| id.to_string()),
        name,
    }
}

/// The outputs of the files not dropped (their bytes taken from `applied`), and their input
/// indices.
fn kept_outputs(sources: &[Source], applied: &mut Applied) -> (Vec<usize>, Vec<Source>) {
    let kept: Vec<usize> = (0..sources.len())
        .filter(|&i| !applied.report.files[i].dropped)
        .collect();
    let outputs = kept
        .iter()
        .map(|&i| Source {
            name: sources[i].name.clone(),
            path: sources[i].path.clone(),
            relative: sources[i].relative.clone(),
            bytes: std::mem::take(&mut applied.outputs[i].bytes).into(),
        })
        .collect();
    (kept, outputs)
}

/// The same checks as `check`, on the outputs as the bundle names them (with what the rewrite
/// removed), into the report's findings, unless the outputs are too large to check (`false`).
fn check_outputs(
    plan: &Plan,
    report: &mut ApplyReport,
    files: &[(String, Vec<u8>)],
) -> Result<bool, Error> {
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    if total > crate::check::CHECK_LIMIT_BYTES {
        return Ok(false);
    }
    let named: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    report.findings = crate::apply::check_named(plan, report, &named)?;
    // A secret, a source host or an old sys_id left stops the bundle: nothing to write.
    crate::apply::refuse_left_behind(plan, &report.findings)?;
    Ok(true)
}

/// A note per input file whose every record was left out.
fn dropped_notes(report: &ApplyReport) -> Vec<String> {
    report
        .files
        .iter()
        .filter(|f| f.dropped)
        .map(|f| {
            format!(
                "{}: every record left out (--only/--exclude); not in the bundle",
                f.input
            )
        })
        .collect()
}

/// Refuses to combine a file that is not an `<unload>` of records (a dictionary, other XML).
fn refuse_uncombinable(inventory: &Inventory) -> Result<(), Error> {
    let Some(f) = inventory.files.iter().find(|f| {
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
    }) else {
        return Ok(());
    };
    Err(ErrorKind::NotCombinable {
        file: f.path.clone(),
        shape: f
            .shape
            .as_ref()
            .map_or_else(|| "file".to_string(), ToString::to_string),
    }
    .into())
}

/// Each output's name in the bundle: its import position, then its own file name.
fn output_names(order: &Order, outputs: &[Source]) -> Vec<String> {
    let count = outputs.len();
    let mut names = vec![String::new(); count];
    for (k, p) in order.sequence.iter().enumerate() {
        let original = outputs[p.unit].relative.file_name().map_or_else(
            || outputs[p.unit].name.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        names[p.unit] = numbered(k + 1, count, &original);
    }
    names
}

/// What the bundle's outputs are: the files kept (by output index: their input index, their
/// inventory, their name) and the run's report.
struct Built<'a> {
    outputs: &'a [Source],
    /// Output index -> input index.
    kept: &'a [usize],
    inventory: &'a Inventory,
    report: &'a ApplyReport,
    names: &'a [String],
    input_ids: &'a InputIds<'a>,
}

impl Built<'_> {
    /// The run's warnings, then each output's (in import order), then the reference cycles the
    /// order broke; and those cycles, by output name.
    fn warnings_and_cycles(&self, order: &Order) -> (Vec<String>, Vec<Vec<String>>) {
        let mut warnings: Vec<String> = self.report.warnings.clone();
        for p in &order.sequence {
            let report = &self.inventory.files[p.unit];
            let fe = &self.report.files[self.kept[p.unit]];
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
            .map(|c| c.iter().map(|u| self.names[*u].clone()).collect())
            .collect();
        for c in &cycles {
            warnings.push(format!(
                "reference cycle between {}: broken by import priority",
                c.join(", ")
            ));
        }
        (warnings, cycles)
    }

    /// The manifest's entries (each with its output's digest), made in parallel, in import
    /// order.
    fn entries(&self, order: &Order) -> Vec<ManifestEntry> {
        order
            .sequence
            .par_iter()
            .enumerate()
            .map(|(k, p)| {
                let out = &self.outputs[p.unit];
                let report = &self.inventory.files[p.unit];
                let file = &self.report.files[self.kept[p.unit]];
                ManifestEntry {
                    position: k + 1,
                    file: self.names[p.unit].clone(),
                    input: out.name.clone(),
                    // Units by input index, as the manifest's readers know them.
                    reason: p.reason.map_units(|u| self.kept[u]),
                    records: report
                        .records
                        .iter()
                        .filter(|r| r.depth == 0)
                        .map(|r| {
                            manifest_record(&r.table, &r.sys_id, r.name.clone(), self.input_ids)
                        })
                        .collect(),
                    payload_records: report.records.iter().filter(|r| r.depth > 0).count(),
                    sha256: sha256_hex(&out.bytes),
                    edits: file.edits,
                    counts: file.counts.clone(),
                }
            })
            .collect()
    }
}

/// The outputs `files` combined into one `<unload>`, and its manifest entry (in place of the
/// files' `entries`).
fn combined_entry(
    files: Vec<(String, Vec<u8>)>,
    entries: &[ManifestEntry],
    inputs: usize,
    input_ids: &InputIds<'_>,
) -> Result<(ManifestEntry, Vec<u8>), Error> {
    let (combined, corder) = combine(&files)?;
    let mut counts = BTreeMap::new();
    for e in entries {
        for (rule, n) in &e.counts {
            *counts.entry(*rule).or_insert(0) += n;
        }
    }
    let records = crate::model::Collect::read_sorted(&combined)
        .map_err(|e| e.with_path("combined.xml"))?
        .0
        .records;
    let entry = ManifestEntry {
        position: 1,
        file: "01_combined.xml".into(),
        input: format!("{inputs} input file(s)"),
        reason: Reason::Combined {
            units: corder.sequence.len(),
        },
        records: records
            .iter()
            .filter(|r| r.place.depth == 0 && r.place.parent.is_none())
            .map(|r| {
                let name = r.field("name").map(|f| f.text.clone());
                manifest_record(&r.table, &r.sys_id, name, input_ids)
            })
            .collect(),
        payload_records: records.iter().filter(|r| r.place.depth > 0).count(),
        sha256: sha256_hex(&combined),
        edits: entries.iter().map(|e| e.edits).sum(),
        counts,
    };
    Ok((entry, combined))
}

/// The manifest of a bundle: the plan, what the run did and the import order.
fn manifest_of(
    plan: &Plan,
    r: &ApplyReport,
    order: Vec<ManifestEntry>,
    cycles: Vec<Vec<String>>,
    checked: bool,
) -> Manifest {
    Manifest {
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
        order,
        cycles,
        totals: r.totals.clone(),
        secrets: r.secrets.len(),
        warnings: r.warnings.clone(),
        findings: r.findings.clone(),
        checked,
    }
}

/// Adds `manifest.json`, `CHECKLIST.md`, `review.html` and the marker, which lists every file
/// with its digest (the outputs' are the manifest's), to the outputs in `files`; returns what
/// the checklist and the review page are made of.
fn add_handoff_files(
    plan: &Plan,
    inventory: &Inventory,
    manifest: &Manifest,
    report: &ApplyReport,
    files: &mut Vec<(String, Vec<u8>)>,
) -> Result<Handoff, Error> {
    let kept_secrets = match plan.secrets {
        crate::plan::SecretMode::Keep => inventory.files.iter().map(|f| f.secrets.len()).sum(),
        _ => 0,
    };
    // Each file with its digest, made on two cores.
    let hashed = |bytes: Vec<u8>| {
        let digest = sha256_hex(&bytes);
        (bytes, digest)
    };
    // The manifest's JSON on one core; the hand-off, then its two pages, on the other.
    let (manifest_json, made) = rayon::join(
        || serde_json::to_vec_pretty(manifest).map(hashed),
        || {
            let handoff = handoff_of(manifest, report, files, kept_secrets)?;
            let (checklist, review) = rayon::join(
                || hashed(handoff.checklist_md(&manifest.tool).into_bytes()),
                || hashed(handoff.review_html(&manifest.tool, report).into_bytes()),
            );
            Ok::<_, Error>((handoff, checklist, review))
        },
    );
    let (manifest_json, manifest_sha) = manifest_json.map_err(|source| ErrorKind::Serialize {
        what: "manifest.json",
        source,
    })?;
    let (handoff, (checklist_md, checklist_sha), (review_html, review_sha)) = made?;
    let mut listed: Vec<(&str, String)> = manifest
        .order
        .iter()
        .map(|e| (e.file.as_str(), e.sha256.clone()))
        .collect();
    listed.push(("manifest.json", manifest_sha));
    listed.push(("CHECKLIST.md", checklist_sha));
    listed.push(("review.html", review_sha));
    let marker = marker::marker(&listed);
    files.push(("manifest.json".into(), manifest_json));
    files.push(("CHECKLIST.md".into(), checklist_md));
    files.push(("review.html".into(), review_html));
    files.push((MARKER.into(), marker));
    Ok(handoff)
}
