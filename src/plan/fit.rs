//! Whether a plan fits the input it was run on.
//!
//! In: the rules, what reading every file found (source hosts met, how often each rule
//! applied) and the input bytes. Out: a [`MisfitError`] when the plan cannot be what the user
//! meant (a source host the input does not hold: a misspelling that would change nothing; several
//! sources the input holds, all mapped to one target: instances merged), else the warnings for
//! rules that applied nowhere (a `--set` selector that matches no record, a `--label` no
//! display field holds).

use std::collections::BTreeSet;

use super::{Hits, Rules};
use crate::analyze::hosts::HostFinder;

/// Why a plan does not fit its input (nothing is written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MisfitError {
    /// A source host the input does not name.
    #[error(
        "{}: does not name {host}, so mapping it would change nothing (a misspelling?); it names {}",
        inputs_named(inputs),
        names(found)
    )]
    HostNotFound {
        /// The source host given.
        host: String,
        /// The instance hosts the input names.
        found: Vec<String>,
        /// The inputs (their names).
        inputs: Vec<String>,
    },
    /// Several `--source` hosts the input holds, all mapped to the one target.
    #[error(
        "the input names {} instances given with --source ({}); mapping them all to {target} would merge them into one (a redirect list would name {target} several times). Map each to its own instance instead: {}",
        hosts.len(),
        hosts.join(", "),
        suggestion(hosts, target)
    )]
    SourcesMerged {
        /// The source hosts the input holds.
        hosts: Vec<String>,
        /// The one target.
        target: String,
    },
}

fn inputs_named(inputs: &[String]) -> String {
    match inputs {
        [one] => one.clone(),
        many if many.len() <= 4 => format!("the input ({})", many.join(", ")),
        many => format!(
            "the input ({}, ... {} files)",
            many[..3].join(", "),
            many.len()
        ),
    }
}

fn names(found: &[String]) -> String {
    match found.is_empty() {
        true => "no instance at all".to_string(),
        false => found.join(", "),
    }
}

fn suggestion(hosts: &[String], target: &str) -> String {
    let name = |h: &str| h.split('.').next().unwrap_or(h).to_string();
    hosts
        .iter()
        .map(|h| format!("--host {}=<instance for {}>", name(h), name(h)))
        .chain(std::iter::once(format!(
            "(one of them may be {})",
            name(target)
        )))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks the host map against what the input holds: `seen` are the source hosts the rewrite
/// met (in URLs, or as bare names); a source not met is looked for in the raw `inputs` before
/// it is refused (it may sit where nothing is rewritten: a record left out, a secret).
pub fn check_hosts(
    rules: &Rules,
    seen: &BTreeSet<&str>,
    named: &[(&str, &[u8])],
) -> Result<(), MisfitError> {
    let inputs: Vec<&[u8]> = named.iter().map(|(_, b)| *b).collect();
    let inputs = inputs.as_slice();
    let found = || instance_hosts(inputs);
    for (source, _) in &rules.host_map {
        if seen.contains(source.host()) {
            continue;
        }
        if !names_instance(inputs, source) {
            return Err(MisfitError::HostNotFound {
                host: source.host().to_string(),
                found: found(),
                inputs: named.iter().map(|(n, _)| n.to_string()).collect(),
            });
        }
    }
    let merged: Vec<String> = rules
        .many_to_one
        .iter()
        .filter(|s| seen.contains(s.host()))
        .map(|s| s.host().to_string())
        .collect();
    if merged.len() > 1 {
        return Err(MisfitError::SourcesMerged {
            hosts: merged,
            target: rules
                .target
                .as_ref()
                .map_or_else(String::new, |t| t.host().to_string()),
        });
    }
    Ok(())
}

/// `true` when `inputs` name `instance`: its host anywhere (any case), or its bare name as the
/// whole text of an element. What [`check_hosts`] looks for before refusing a source.
///
/// ```
/// use sn_retarget::plan::{fit::names_instance, Instance};
/// let dev1 = Instance::parse("dev1").unwrap();
/// assert!(names_instance(&[b"<a>https://DEV1.service-now.com/</a>"], &dev1));
/// assert!(names_instance(&[b"<instance_name>dev1</instance_name>"], &dev1));
/// assert!(!names_instance(&[b"<a>https://dev12.service-now.com/</a>"], &dev1));
/// ```
pub fn names_instance(inputs: &[&[u8]], instance: &super::Instance) -> bool {
    instance_hosts(inputs).iter().any(|h| h == instance.host())
        || bare_name_in(inputs, instance.name())
}

/// Every instance host the inputs name, lower case, sorted.
fn instance_hosts(inputs: &[&[u8]]) -> Vec<String> {
    let finder = HostFinder::new();
    let mut out: BTreeSet<String> = BTreeSet::new();
    for bytes in inputs {
        out.extend(finder.find_all(bytes).map(|m| m.host.to_ascii_lowercase()));
    }
    out.into_iter().collect()
}

/// `true` when some element holds exactly `name` (an instance's bare name, any case), at any
/// depth of escaped payloads (`>dev1<`, `&gt;dev1&lt;`, `&amp;gt;dev1&amp;lt;`).
fn bare_name_in(inputs: &[&[u8]], name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let opens = |before: &[u8]| {
        before.ends_with(b">") || before.ends_with(b"&gt;") || before.ends_with(b"amp;gt;")
    };
    // `<`, or `&` then any number of `amp;` then `lt;`.
    let closes = |after: &[u8]| {
        let Some(mut a) = after.strip_prefix(b"&") else {
            return after.starts_with(b"<");
        };
        while let Some(rest) = a.strip_prefix(b"amp;") {
            a = rest;
        }
        a.starts_with(b"lt;")
    };
    inputs.iter().any(|b| {
        let lower = b.to_ascii_lowercase();
        memchr::memmem::find_iter(&lower, name.as_bytes())
            .any(|at| opens(&lower[..at]) && closes(&lower[at + name.len()..]))
    })
}

/// Warnings for the rules that applied nowhere in the input.
pub fn unused_rules(plan: &super::Plan, rules: &Rules, hits: &Hits) -> Vec<String> {
    let mut out = Vec::new();
    let zero = |v: &[usize], k: usize| v.get(k).copied().unwrap_or(0) == 0;
    for (k, s) in plan.set.iter().enumerate() {
        if zero(&hits.set, k) {
            out.push(format!(
                "--set {s}: no record of the input has that field (or matches the selector); nothing set"
            ));
        }
    }
    let replaces = plan.replace.iter().chain(&plan.replace_substring);
    for (k, (s, r)) in replaces.zip(&rules.replace).enumerate() {
        if zero(&hits.replace, k) {
            let how = match r.whole_words {
                true => format!(
                    " as a whole word (to replace it inside words, use --replace-substring {s})"
                ),
                false => String::new(),
            };
            out.push(format!(
                "--replace {s}: {:?} is in no such value{how}; nothing replaced",
                r.old
            ));
        }
    }
    for (k, (old, new)) in rules.labels.iter().enumerate() {
        if zero(&hits.labels, k) {
            out.push(format!(
                "--label {old}={new}: no display field of the records the input defines holds the word {old:?}; nothing renamed"
            ));
        }
    }
    for (k, s) in rules.only.iter().enumerate() {
        if zero(&hits.only, k) {
            out.push(format!("--only {s}: matches no record of the input"));
        }
    }
    for (k, s) in rules.exclude.iter().enumerate() {
        if zero(&hits.exclude, k) {
            out.push(format!(
                "--exclude {s}: matches no record of the input; nothing left out"
            ));
        }
    }
    out
}
