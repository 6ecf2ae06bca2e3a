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

use rayon::prelude::*;

use super::{CheckOptions, Facts, Finding};

/// A rule: the findings it makes in a bundle.
type RuleFn = fn(&Facts<'_>, &CheckOptions, &mut Vec<Finding>);

/// Every rule, in the order their findings are listed before they are sorted by place (which
/// keeps this order among findings at one place).
const RULES: [RuleFn; 8] = [
    references::check,
    |facts, _, out| identity::check(facts, out),
    secrets::check,
    |facts, _, out| urls::check(facts, out),
    oauth::check,
    |facts, _, out| malformed_payloads(facts, out),
    leftovers::check,
    intent::check,
];

/// Runs every rule: the rules on every core (the largest, the leftover scan of every byte and
/// the secrets of every record, each on every core too), their findings listed rule by rule
/// in a fixed order, whatever the number of threads.
pub fn run_all(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    let found: Vec<Vec<Finding>> = RULES
        .par_iter()
        .map(|rule| {
            let mut found = Vec::new();
            rule(facts, options, &mut found);
            found
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

/// The payloads that could not be read.
fn malformed_payloads(facts: &Facts<'_>, out: &mut Vec<Finding>) {
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
