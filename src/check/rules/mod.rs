//! The rules. Each names the error the user would otherwise meet on the instance.
//!
//! Each rule's id, severities and what it finds: [`RuleId`].

mod identity;
mod ids;
mod intent;
mod leftovers;
mod oauth;
mod references;
mod secrets;
mod urls;

pub use ids::RuleId;

use super::{CheckOptions, Facts, Finding};

/// Runs every rule.
pub fn run_all(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    // The leftover scan reads every byte of every file; the other rules read the records: the
    // two on two cores, their findings in the same order as one after the other.
    let (mut records, mut bytes) = rayon::join(
        || {
            let mut out = Vec::new();
            record_rules(facts, options, &mut out);
            out
        },
        || {
            let mut out = Vec::new();
            leftovers::check(facts, options, &mut out);
            out
        },
    );
    out.append(&mut records);
    out.append(&mut bytes);
    intent::check(facts, options, out);
}

/// The rules that read the records (and the payloads that could not be read).
fn record_rules(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    // Two halves on two cores, their findings in the order of one rule after the other.
    let (mut first, mut second) = rayon::join(
        || {
            let mut out = Vec::new();
            references::check(facts, options, &mut out);
            identity::check(facts, &mut out);
            secrets::check(facts, options, &mut out);
            out
        },
        || {
            let mut out = Vec::new();
            urls::check(facts, &mut out);
            oauth::check(facts, options, &mut out);
            out
        },
    );
    out.append(&mut first);
    out.append(&mut second);
    for (file, d) in &facts.diagnostics {
        out.push(super::Finding {
            rule: RuleId::MalformedPayload.id(),
            severity: crate::error::Severity::Warning,
            message: d.message.clone(),
            instance_error: Some("the update set preview fails on this update"),
            hint: "re-export the update, or fix the payload's XML".to_string(),
            location: super::FindingLocation {
                file: facts.sources[*file].0.to_string(),
                line: d.location.file.line,
                column: d.location.file.column,
                table: d.location.payloads.first().map(|p| p.table.clone()),
                sys_id: d.location.payloads.first().and_then(|p| p.sys_id.clone()),
                field: Some("payload".into()),
                path: None,
                snippet: d.location.snippet.clone(),
                offset: None,
            },
        });
    }
}

/// My SN Instances and similar instance-connection records (used by the checklist too).
pub fn is_instance_record(table: &str) -> bool {
    table == "sn_se_instance" || (table.starts_with("sn_") && table.ends_with("_instance"))
}
