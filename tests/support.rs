//! Shared helpers: fixtures, the corpus and the applications, scratch folders, self-splicing;
//! running the binary and judging its runs ([`process`]); what every output must keep
//! ([`promises`]); the independent DOM oracle ([`oracle`]); seeded random bytes.

pub mod oracle;
mod process;
mod promises;

pub use process::*;
pub use promises::*;

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

/// The files of the fixture folder `name` (relative to `fixtures/`): (name as given to the
/// tool, bytes), sorted. `relative_to_root` names them by their path from the crate's folder
/// (`fixtures/seed000_dev/1_a.xml`), else by their file name.
pub fn fixture_files(name: &str, relative_to_root: bool) -> Vec<(String, Vec<u8>)> {
    let root = manifest_dir();
    xml_files(&root.join("fixtures").join(name))
        .into_iter()
        .map(|p| {
            let n = match relative_to_root {
                true => p.strip_prefix(&root).unwrap().display().to_string(),
                false => p.file_name().unwrap().to_string_lossy().into_owned(),
            };
            (n, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// A copy of the seed-000 bundle (four files of 1-3 KB) in `dir`, so that the checks of `dir`
/// cover these inputs too.
pub fn seed000_copy(dir: &Path) -> PathBuf {
    let to = dir.join("seed000");
    std::fs::create_dir_all(&to).unwrap();
    for f in xml_files(&manifest_dir().join("fixtures/seed000_dev")) {
        std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
    to
}

/// Writes `files` (name, text) into a fresh scratch folder named after `what`.
pub fn folder_of(what: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = tmp(what);
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    d
}

/// `p` as text (for arguments and messages).
/// `text` entity-escaped as a payload's text is (`&`, `<` and `>`).
pub fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A deterministic stream of pseudo-random bytes (xorshift64*), for the test suite's runs.
pub fn xorshift_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
