//! After `apply`: `source-host-left`, `old-id-left` (ciphertext is `secret-left`).

use crate::analyze::hosts::HostFinder;
use crate::check::{CheckOptions, Facts, Finding};
use crate::error::Severity;

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    if options.sources.is_empty() && options.old_ids.is_empty() {
        return;
    }
    let finder = HostFinder::new();
    for (k, r) in facts.records.iter().enumerate() {
        for f in &r.record.fields {
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are checked themselves
            }
            for m in finder.find_all(f.text.as_bytes()) {
                if options
                    .sources
                    .iter()
                    .any(|s| s.host().eq_ignore_ascii_case(m.host))
                {
                    out.push(facts.finding_at(
                        k,
                        f.file_span.start,
                        Some(&f.name),
                        "source-host-left",
                        Severity::Error,
                        format!(
                            "{}.{} still names the source instance {}",
                            r.table(),
                            f.name,
                            m.host
                        ),
                        Some("the target calls the source instance"),
                        "add the host to --source, or fix the value by hand",
                    ));
                }
            }
            for id in sys_id_tokens(&f.text).filter(|t| options.old_ids.contains(t)) {
                out.push(facts.finding_at(
                    k,
                    f.file_span.start,
                    Some(&f.name),
                    "old-id-left",
                    Severity::Error,
                    format!("{}.{} still holds the old sys_id {id}", r.table(), f.name),
                    Some("a reference to a record that will not exist"),
                    "check how the id is written there; the rewrite only replaces whole 32-hex tokens",
                ));
            }
        }
    }
}

/// Every run of exactly 32 hex digits of one case in `text` (whatever touches it: a leftover
/// is a leftover), in lower case.
fn sys_id_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    let b = text.as_bytes();
    let runs = move |in_case: fn(&u8) -> bool| {
        let mut i = 0;
        std::iter::from_fn(move || {
            while i < b.len() {
                if !in_case(&b[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && in_case(&b[i]) {
                    i += 1;
                }
                if i - start == 32 {
                    return Some(text[start..i].to_ascii_lowercase());
                }
            }
            None
        })
    };
    runs(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        .chain(runs(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)))
}
