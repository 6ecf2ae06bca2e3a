//! What every retargeted output must keep: well-formed (by the independent oracle, payloads
//! read), no ciphertext left, only the reported bytes changed, sys_id edits following the id
//! map; and the in-memory runs the tests make ([`apply_one`], [`apply_files`]).

use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::apply::{Applied, apply};
use sn_retarget::plan::{IdMode, Plan};
use sn_retarget::splice::{Edit, Edits};

use super::collect;
use super::oracle::oracle;

/// The instance hosts `bytes` names, as `inspect` lists them.
pub fn hosts_of(bytes: &[u8]) -> Vec<String> {
    let mut i = Inspector::new();
    i.add("x", bytes).unwrap();
    i.finish().files[0]
        .hosts
        .iter()
        .map(|h| h.host.clone())
        .collect()
}

/// `apply` of `plan` to one input, every edit in the report; a refusal panics.
pub fn apply_one(plan: &Plan, name: &str, bytes: &[u8]) -> Applied {
    apply(plan, &[(name, bytes)], true).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every host in `sources` to acme (several of them: one `--host` each, as merging them is
/// asked for explicitly), ids regenerated.
pub fn regenerate_plan(sources: Vec<String>) -> Plan {
    Plan {
        target: Some("acme.service-now.com".into()),
        hosts: sources
            .into_iter()
            .map(|s| (s, "acme.service-now.com".to_string()))
            .collect(),
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    }
}

/// Output = input + exactly the report's edits.
pub fn check_locality(input: &[u8], applied: &Applied) {
    let mut edits = Edits::new();
    for e in &applied.report.files[0].entries {
        edits.push(Edit::new(e.at, e.new.as_bytes()));
    }
    assert_eq!(
        edits.apply_to_vec(input).unwrap(),
        applied.outputs[0].bytes,
        "output differs from input + report"
    );
}

/// Every sys_id edit follows the id map; every host edit names the target.
pub fn check_consistency(applied: &Applied) {
    let map: std::collections::BTreeMap<&str, &str> = applied
        .report
        .id_map
        .iter()
        .map(|p| (p.old.as_str(), p.new.as_str()))
        .collect();
    for e in &applied.report.files[0].entries {
        match e.rule {
            sn_retarget::plan::tokens::ChangeKind::SysId => {
                assert_eq!(map.get(e.old.as_str()), Some(&e.new.as_str()))
            }
            sn_retarget::plan::tokens::ChangeKind::Host => {
                assert_eq!(e.new, "acme.service-now.com")
            }
            _ => {}
        }
    }
}

/// (table, sys_id) of every record `bytes` defines.
pub fn defined_ids(bytes: &[u8]) -> Vec<(String, String)> {
    let (_, records) = collect(bytes);
    records
        .into_iter()
        .filter_map(|r| r.sys_id.map(|id| (r.table, id)))
        .filter(|(_, id)| sn_retarget::analyze::refs::is_sys_id(id))
        .collect()
}

/// `true` when `id` occurs in `text` as a whole token (no digit or lower-case letter beside it).
pub fn contains_token(text: &str, id: &str) -> bool {
    let b = text.as_bytes();
    let touching = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_digit() || c.is_ascii_lowercase());
    text.match_indices(id).any(|(i, _)| {
        !touching(i.checked_sub(1).and_then(|j| b.get(j))) && !touching(b.get(i + id.len()))
    })
}

/// Well-formed by the oracle, and every payload read (but in the `bad_payload` fixtures).
pub fn well_formed(name: &str, out: &[u8]) {
    let text = std::str::from_utf8(out).unwrap();
    oracle(text).unwrap_or_else(|e| panic!("{name}: output not well-formed: {e}"));
    let (outcome, _) = collect(out);
    assert!(
        outcome
            .diagnostics
            .iter()
            .all(|d| d.code != "malformed-payload")
            || name.contains("bad_payload"),
        "{name}: {:?}\n{}",
        outcome.diagnostics,
        String::from_utf8_lossy(out)
    );
}

/// No ciphertext (`)pR#`, or its decoded marker) left in `out`.
pub fn no_ciphertext(name: &str, out: &[u8]) {
    let text = String::from_utf8_lossy(out);
    assert!(
        !text.contains('\u{FDDE}') && !text.contains(")pR#"),
        "{name}: ciphertext left"
    );
}

/// `apply` of `plan` to `files` (name, bytes), every edit in the report; each output is
/// well-formed and holds no ciphertext. A refusal panics.
pub fn apply_files(plan: &Plan, files: &[(String, Vec<u8>)]) -> Applied {
    let inputs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let applied = apply(plan, &inputs, true).unwrap_or_else(|e| panic!("{e}"));
    for o in &applied.outputs {
        well_formed(&o.name, &o.bytes);
        no_ciphertext(&o.name, &o.bytes);
    }
    applied
}
