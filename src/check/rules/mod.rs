//! The rules. Each names the error the user would otherwise meet on the instance.
//!
//! | rule | severity | finds |
//! |---|---|---|
//! | `missing-reference` | error / warning / info | references to records not in the bundle |
//! | `duplicate-sys-id` | error | one sys_id defined twice with different content |
//! | `several-source-instances` | warning | records exported from more than one instance |
//! | `secret-left` | error | ciphertext, or a secret column with a value in it |
//! | `secret-placeholder` | info | a placeholder to replace (see CHECKLIST.md) |
//! | `instance-url-form` | error | an instance URL that is not bare `https://<name>.service-now.com` |
//! | `http-instance-url` | warning | `http://` to an instance |
//! | `oauth-url-path` | error | instance-to-instance OAuth URLs not ending in `/oauth_*.do` |
//! | `oauth-client-id` | error | a provider whose client_id matches no endpoint of the bundle |
//! | `oauth-token-url-host` | error | an instance record whose provider asks another host for tokens |
//! | `oauth-redirect-missing` | error | an endpoint whose redirect list misses a caller's redirect URL |
//! | `oauth-default-profile` | error | a provider with no default profile, or several |
//! | `oauth-grant-type` | error | default_grant_type unlike the default profile's grant_type |
//! | `oauth-inactive` | error | an inactive registry that something uses |
//! | `oauth-scope-undefined` | error | a profile scope naming a scope the bundle does not define |
//! | `several-production` | error | more than one instance record marked production |
//! | `malformed-payload` | warning | a payload that is not well-formed (it passes through as text) |
//! | `source-host-left`, `old-id-left` | error | after `apply`: what the rewrite should have removed |
//! | `old-namespace-left` | error | after `fork` (`check --namespace`): the old namespace, anywhere in a file |
//! | `redirect-duplicate` | error | a redirect list naming one URL twice (instances merged) |
//! | `instance-url-mismatch` | error / warning | an instance record (or provider) whose URL names another instance than its instance_name, name or environment says |
//! | `client-id-changed` | error | a provider whose client_id this run changed, with no endpoint in the bundle sharing it |
//! | `derived-state` | error / warning | a record this run gave a new id that still carries the original's state |
//! | `existing-written` | warning | a record said to exist on the target (`--existing`) that the bundle would replace |
//! | `bundle-target` | error | `check --target T` on a bundle made for another instance |

mod identity;
mod intent;
mod leftovers;
mod oauth;
mod references;
mod secrets;
mod urls;

use super::{CheckOptions, Facts, Finding};

/// Every rule's id.
pub const RULES: &[&str] = &[
    "missing-reference",
    "duplicate-sys-id",
    "several-source-instances",
    "secret-left",
    "secret-placeholder",
    "instance-url-form",
    "http-instance-url",
    "oauth-url-path",
    "oauth-client-id",
    "oauth-token-url-host",
    "oauth-redirect-missing",
    "oauth-default-profile",
    "oauth-grant-type",
    "oauth-inactive",
    "oauth-scope-undefined",
    "several-production",
    "malformed-payload",
    "source-host-left",
    "old-id-left",
    "old-namespace-left",
    "redirect-duplicate",
    "instance-url-mismatch",
    "client-id-changed",
    "derived-state",
    "existing-written",
    "bundle-target",
];

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
    references::check(facts, options, out);
    identity::check(facts, out);
    secrets::check(facts, options, out);
    urls::check(facts, out);
    oauth::check(facts, options, out);
    for (file, d) in &facts.diagnostics {
        out.push(super::Finding {
            rule: "malformed-payload",
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
