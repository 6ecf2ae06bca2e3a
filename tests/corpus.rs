//! The real exports in `SN_RETARGET_CORPUS` (default `../shared/corpus`), read in place.
//!
//! Every file roxmltree accepts must be read by us, written back byte for byte, and agree with
//! the oracle record for record (payloads included); every file it rejects must be refused with
//! a line and column.

use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::model::{Collect, read};

use crate::support::oracle::{check_spans, oracle, ours};
use crate::support::{collect, corpus_dir, self_splice, sn, xml_files};

#[test]
fn corpus_identity_and_oracle() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!("corpus folder {} absent: skipped", dir.display());
        return;
    }
    let files = xml_files(&dir);
    assert!(!files.is_empty(), "no *.xml in {}", dir.display());
    let (mut good, mut bad, mut records_total) = (0, 0, 0);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        match oracle(&text) {
            Ok(expected) => {
                let (_, records) = collect(&bytes);
                assert_eq!(ours(&records), expected, "{}", path.display());
                check_spans(&bytes, &records);
                assert_eq!(self_splice(&bytes, &records), bytes, "{}", path.display());
                let mut inspector = Inspector::new();
                inspector.add("x", &bytes).unwrap();
                assert_eq!(inspector.finish().files[0].records.len(), records.len());
                records_total += records.len();
                good += 1;
            }
            Err(_) => {
                let err = read(&bytes, &mut Collect::default())
                    .expect_err(&format!("{} should be refused", path.display()))
                    .with_path(path);
                let p = err.location().file;
                assert!(p.line >= 1 && p.column >= 1);
                assert!(
                    err.to_string()
                        .contains(&format!(":{}:{}: ", p.line, p.column))
                );
                bad += 1;
            }
        }
    }
    println!("corpus: {good} well-formed files ({records_total} records), {bad} refused");
    assert!(good > 0);
}

/// The Done-when of the reader, through the binary: `inspect --json` over the whole corpus
/// lists every record of every well-formed file (payloads included) and exits 2 naming
/// line:column for every malformed one.
#[test]
fn corpus_through_the_cli() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        println!("corpus folder {} absent: skipped", dir.display());
        return;
    }
    let out = sn(&[&"inspect", &"--json", &dir]);
    let v = out.json();
    let stderr = &out.stderr;
    let files = xml_files(&dir);
    let reports = v["files"].as_array().unwrap();
    assert_eq!(reports.len(), files.len());
    let mut malformed = 0;
    for (path, report) in files.iter().zip(reports) {
        let text = std::fs::read_to_string(path).unwrap();
        match oracle(&text) {
            Ok(expected) => {
                let records = report["records"].as_array().unwrap();
                assert_eq!(records.len(), expected.len(), "{}", path.display());
                for (r, e) in records.iter().zip(&expected) {
                    assert_eq!(r["table"], e.table.as_str());
                    assert_eq!(r["depth"], e.depth);
                }
            }
            Err(_) => {
                malformed += 1;
                let loc = &report["error"]["location"]["file"];
                let (line, column) = (
                    loc["line"].as_u64().unwrap(),
                    loc["column"].as_u64().unwrap(),
                );
                let needle = format!("{}:{line}:{column}: ", path.display());
                assert!(stderr.contains(&needle), "{needle} not in {stderr}");
            }
        }
    }
    assert_eq!(out.code, Some(if malformed > 0 { 2 } else { 0 }));
}
