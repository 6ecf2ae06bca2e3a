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
            if f.payload.is_some() {
                continue;
            }
            for m in finder.find_all(f.text.as_bytes()) {
                if options
                    .sources
                    .iter()
                    .any(|s| s.host().eq_ignore_ascii_case(m.host))
                {
                    out.push(facts.finding(
                        k,
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
            for id in &options.old_ids {
                if f.text.contains(id.as_str()) {
                    out.push(facts.finding(
                        k,
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
}
