//! After `apply` or `fork`: `source-host-left`, `old-id-left`, `old-namespace-left` (ciphertext
//! is `secret-left`).
//!
//! Old sys_ids and namespaces are searched in the files' bytes, not only in values: an
//! attribute (`db_object_id=`, `query="documentkey=..."`), an element name (`<x_ns_table>`) or a
//! payload's root is as much a leftover as a field.

use super::RuleId;
use crate::analyze::hosts::HostFinder;
use crate::check::{CheckOptions, Facts, Finding};
use crate::error::Severity;
use crate::plan::namespace::occurrences;

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    hosts_left(facts, options, out);
    let keep = kept_namespaces(facts, options);
    for (file, source) in facts.sources.iter().enumerate() {
        let bytes = source.1;
        if !options.old_ids.is_empty() {
            for span in hex32_runs(bytes) {
                let id = String::from_utf8_lossy(&bytes[span.range()]).to_ascii_lowercase();
                if options.old_ids.contains(&id) {
                    let at = facts.place(file, span.start);
                    let message = format!("{} still holds the old sys_id {id}", where_(facts, at));
                    out.push(facts.finding(
                        at,
                        RuleId::OldIdLeft,
                        Severity::Error,
                        message,
                        Some("a reference to a record that will not exist"),
                        "check how the id is written there; the rewrite only replaces whole 32-hex tokens",
                    ));
                }
            }
        }
        for ns in &options.old_namespaces {
            for span in occurrences(ns, &keep, bytes, true) {
                let at = facts.place(file, span.start);
                let written = String::from_utf8_lossy(&bytes[span.range()]);
                let message = format!(
                    "{} still names the old namespace {ns}{}",
                    where_(facts, at),
                    if written == ns.as_str() {
                        String::new()
                    } else {
                        format!(" (written {written})")
                    }
                );
                out.push(facts.finding(
                    at,
                    RuleId::OldNamespaceLeft,
                    Severity::Error,
                    message,
                    Some("a name in a scope that is not this application's"),
                    "rename it by hand (only names written in lower case, as ServiceNow writes them, are renamed)",
                ));
            }
        }
    }
}

/// The namespaces that are not leftovers though they start with an old one: those given, and
/// the scopes the bundle names itself (`sys_app.scope`, `source=` of `sys_package`,
/// `application_scope`), e.g. the new one when it starts with the old.
fn kept_namespaces(facts: &Facts<'_>, options: &CheckOptions) -> Vec<String> {
    let mut keep = options.keep_namespaces.clone();
    if options.old_namespaces.is_empty() {
        return keep;
    }
    let longer = |n: &str| {
        options
            .old_namespaces
            .iter()
            .any(|old| n.len() > old.len() && n.starts_with(old.as_str()))
    };
    for r in &facts.records {
        for f in &r.record.fields {
            let named = match f.name.as_str() {
                "scope" if crate::analyze::apps::APP_TABLES.contains(&r.table()) => Some(&f.text),
                "application_scope" => Some(&f.text),
                _ => None,
            };
            let sources = f
                .attrs
                .iter()
                .filter(|(a, _)| a == "source")
                .map(|(_, v)| v);
            for n in named.into_iter().chain(sources) {
                let n = n.trim();
                if longer(n) && !keep.iter().any(|k| k == n) {
                    keep.push(n.to_string());
                }
            }
        }
    }
    keep
}

/// `table.field`, `table (markup)` or `the file`, for messages.
fn where_(facts: &Facts<'_>, at: crate::check::Place<'_>) -> String {
    match (at.record, at.field) {
        (Some(k), Some(f)) => format!("{}.{f}", facts.records[k].table()),
        (Some(k), None) => format!("{} (an element or attribute)", facts.records[k].table()),
        (None, _) => "the file's markup".to_string(),
    }
}

fn hosts_left(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    if options.sources.is_empty() {
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
                    out.push(facts.finding(
                        facts.record_place(k, Some(&f.name)),
                        RuleId::SourceHostLeft,
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
        }
    }
}

/// Every run of exactly 32 hex digits of one case in `bytes` (wider than what the rewrite
/// replaces, so that an id it could not reach, e.g. `g<id>`, is reported), lower-case runs
/// first.
fn hex32_runs(b: &[u8]) -> impl Iterator<Item = crate::Span> + '_ {
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
                    return Some(crate::Span::new(start, i));
                }
            }
            None
        })
    };
    runs(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        .chain(runs(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)))
}
