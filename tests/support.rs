//! Shared helpers: reading fixtures, self-splicing, the corpus location.

use std::path::{Path, PathBuf};

use sn_retarget::model::{Collect, OwnedRecord, ReadOutcome, read};
use sn_retarget::splice::{Edit, Edits};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.xml` under `dir`, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    sn_retarget::io::expand_inputs(&[dir.to_path_buf()]).expect("listing fixtures")
}

/// The well-formed fixtures (everything but `fixtures/malformed/`).
pub fn good_fixtures() -> Vec<PathBuf> {
    xml_files(&manifest_dir().join("fixtures"))
        .into_iter()
        .filter(|p| !p.components().any(|c| c.as_os_str() == "malformed"))
        .collect()
}

pub fn malformed_fixtures() -> Vec<PathBuf> {
    xml_files(&manifest_dir().join("fixtures/malformed"))
}

pub fn collect(bytes: &[u8]) -> (ReadOutcome, Vec<OwnedRecord>) {
    let mut c = Collect::default();
    let outcome = read(bytes, &mut c).expect("well-formed document");
    c.sort();
    (outcome, c.records)
}

/// Replaces every leaf value (fields not read as payloads) with its own bytes: the spans must
/// lie inside the input, never overlap, and the result must be the input.
pub fn self_splice(bytes: &[u8], records: &[OwnedRecord]) -> Vec<u8> {
    let mut edits = Edits::new();
    for r in records {
        for f in &r.fields {
            if f.payload.is_some_and(|p| p.read) {
                continue;
            }
            edits.push(Edit::new(f.file_span, &bytes[f.file_span.range()]));
        }
    }
    edits.apply_to_vec(bytes).expect("field spans are disjoint")
}

/// The corpus folder: `SN_RETARGET_CORPUS`, or `../shared/corpus` beside the crate.
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os("SN_RETARGET_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => manifest_dir().join("../shared/corpus"),
    }
}

/// The scoped applications: `SN_RETARGET_APPS`, or `../shared/apps` beside the crate (read in
/// place, never copied).
pub fn apps_dir() -> PathBuf {
    match std::env::var_os("SN_RETARGET_APPS") {
        Some(p) => PathBuf::from(p),
        None => manifest_dir().join("../shared/apps"),
    }
}

/// One application of [`apps_dir`], or `None` (saying so) when the folder is absent.
pub fn app(name: &str) -> Option<PathBuf> {
    let dir = apps_dir().join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("application folder {} absent: skipped", dir.display());
        None
    }
}

/// The `sn-retarget` binary.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_sn-retarget"))
}

/// A fresh, empty scratch folder for one test (`what` names it).
pub fn tmp(what: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("snr-test-{}-{what}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The plan most CLI tests run: dev12345 to acme, ids regenerated.
pub const RETARGET_ACME: [&str; 6] = [
    "--target",
    "acme",
    "--source",
    "dev12345",
    "--sys-ids",
    "regenerate",
];

/// `plan` for a second run on `outputs`: the hosts it maps that the outputs no longer name are
/// left out (`apply` refuses a source host the input does not hold, as it would a misspelling).
pub fn for_outputs(plan: &sn_retarget::plan::Plan, outputs: &[&[u8]]) -> sn_retarget::plan::Plan {
    use sn_retarget::plan::{Instance, fit::names_instance};
    let named = |h: &String| Instance::parse(h).is_ok_and(|i| names_instance(outputs, &i));
    let mut p = plan.clone();
    p.sources.retain(|s| named(s));
    p.hosts.retain(|s, _| named(s));
    p
}
