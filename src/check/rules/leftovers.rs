//! After `apply` or `fork`: `source-host-left`, `old-id-left`, `old-namespace-left` (ciphertext
//! is `secret-left`).
//!
//! Old sys_ids and namespaces are searched in the files' bytes, not only in values: an
//! attribute (`db_object_id=`, `query="documentkey=..."`), an element name (`<x_ns_table>`) or a
//! payload's root is as much a leftover as a field.

use rayon::prelude::*;

use super::RuleId;
use crate::analyze::hosts::HostFinder;
use crate::check::{CheckOptions, Facts, Finding};
use crate::error::Severity;
use crate::plan::namespace::occurrences;

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    hosts_left(facts, options, out);
    let keep = kept_namespaces(facts, options);
    // Every byte of every file: the files on every core, their findings in file order.
    let per_file: Vec<Vec<Finding>> = (0..facts.sources.len())
        .into_par_iter()
        .map(|file| {
            let mut out = Vec::new();
            file_leftovers(facts, options, &keep, file, &mut out);
            out
        })
        .collect();
    out.extend(per_file.into_iter().flatten());
}

/// The old ids and namespaces left in file `file`.
fn file_leftovers(
    facts: &Facts<'_>,
    options: &CheckOptions,
    keep: &[String],
    file: usize,
    out: &mut Vec<Finding>,
) {
    let bytes = facts.sources[file].1;
    if !options.old_ids.is_empty() {
        for span in hex32_runs(bytes) {
            let id = String::from_utf8_lossy(&bytes[span.range()]).to_ascii_lowercase();
            if options.old_ids.contains(&id) {
                let at = facts.place(file, span.start);
                old_id_left(facts, at, &id, "", out);
            }
        }
        spelled_ids_left(facts, options, file, out);
    }
    for ns in &options.old_namespaces {
        for span in occurrences(ns, keep, bytes, true) {
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

fn old_id_left(
    facts: &Facts<'_>,
    at: crate::check::Place<'_>,
    id: &str,
    spelled: &str,
    out: &mut Vec<Finding>,
) {
    let message = format!(
        "{} still holds the old sys_id {id}{spelled}",
        where_(facts, at)
    );
    out.push(facts.finding(
        at,
        RuleId::OldIdLeft,
        Severity::Error,
        message,
        Some("a reference to a record that will not exist"),
        "check how the id is written there; the rewrite only replaces whole 32-hex tokens",
    ));
}

/// Old ids a value of file `file` spells with character references (`&#48;` for `0`): read
/// as the instance reads them, in the value's text, when its bytes in the file hold a `#` and
/// not the id as it is (that one the search of the bytes reports).
fn spelled_ids_left(
    facts: &Facts<'_>,
    options: &CheckOptions,
    file: usize,
    out: &mut Vec<Finding>,
) {
    let bytes = facts.sources[file].1;
    for k in facts.file_records(file) {
        for f in &facts.records[k].record.fields {
            let raw = bytes.get(f.file_span.range()).unwrap_or_default();
            if f.payload.is_some_and(|p| p.read) || memchr::memchr(b'#', raw).is_none() {
                continue;
            }
            for span in hex32_runs(f.text.as_bytes()) {
                let id = f.text[span.range()].to_ascii_lowercase();
                let written = memchr::memmem::find(raw, f.text[span.range()].as_bytes());
                if written.is_none() && options.old_ids.contains(&id) {
                    let at = facts.field_place(k, f);
                    old_id_left(facts, at, &id, " (spelled with character references)", out);
                }
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
    // Those given, and those the run that made the bundle moved away from.
    let mut sources: Vec<&str> = options.sources.iter().map(|s| s.host()).collect();
    if let Some(run) = &options.run {
        sources.extend(run.sources.iter().map(String::as_str));
    }
    if sources.is_empty() {
        return;
    }
    let finder = HostFinder::new();
    for (k, r) in facts.records.iter().enumerate() {
        for f in &r.record.fields {
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are checked themselves
            }
            for m in finder.find_all(f.text.as_bytes()) {
                if sources.iter().any(|s| s.eq_ignore_ascii_case(m.host)) {
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
    runs_of_32(b, |c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        .chain(runs_of_32(b, |c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)))
}

/// Every run of exactly 32 bytes of `class` in `b`, in order. A run of 32 holds the 32nd
/// byte from any point before it: only that byte is looked at until one is of the class.
fn runs_of_32(b: &[u8], class: fn(&u8) -> bool) -> impl Iterator<Item = crate::Span> + '_ {
    // No run starts before `i` unreported (the byte before `i` is not of the class).
    let mut i = 0;
    std::iter::from_fn(move || {
        while i + 32 <= b.len() {
            let probe = i + 31;
            if !class(&b[probe]) {
                i = probe + 1;
                continue;
            }
            let mut start = probe;
            while start > i && class(&b[start - 1]) {
                start -= 1;
            }
            let mut end = probe + 1;
            while end < b.len() && class(&b[end]) {
                end += 1;
            }
            i = end + 1;
            if end - start == 32 {
                return Some(crate::Span::new(start, end));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::hex32_runs;
    use proptest::prelude::*;

    /// Every run of exactly 32, looked at byte by byte.
    fn naive(b: &[u8]) -> Vec<(usize, usize)> {
        let runs = |class: fn(&u8) -> bool| {
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if !class(&b[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && class(&b[i]) {
                    i += 1;
                }
                if i - start == 32 {
                    out.push((start, i));
                }
            }
            out
        };
        let mut all = runs(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        all.extend(runs(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)));
        all
    }

    proptest! {
        #[test]
        fn the_skipping_scan_finds_what_a_byte_by_byte_scan_finds(
            pieces in proptest::collection::vec(
                prop_oneof![
                    "[0-9a-f]{28,36}",
                    "[0-9A-F]{28,36}",
                    "[0-9]{30,34}",
                    "[0-9a-fA-Fg-z ]{0,40}",
                ],
                0..12,
            )
        ) {
            let text = pieces.concat();
            let got: Vec<_> = hex32_runs(text.as_bytes()).map(|s| (s.start, s.end)).collect();
            prop_assert_eq!(got, naive(text.as_bytes()));
        }
    }
}
