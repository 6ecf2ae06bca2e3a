//! The mistakes of intent: records that still describe the wrong instance, state a twin
//! inherited, client_ids that no longer pair, instances merged, a bundle made for another
//! target: `redirect-duplicate`, `instance-url-mismatch`, `client-id-changed`,
//! `derived-state`, `existing-written`, `bundle-target`.

use std::collections::BTreeSet;

use super::RuleId;
use crate::analyze::hosts::{is_instance_host, shown_url as shown, urls};
use crate::check::{CheckOptions, Facts, Finding, FindingLocation};
use crate::error::Severity;
use crate::plan::Intent;
use crate::plan::intent::STATE_FIELDS;

/// An environment a name or a host says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Env {
    Development,
    Test,
    Staging,
    Production,
}

impl std::fmt::Display for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Env::Development => "development",
            Env::Test => "test",
            Env::Staging => "staging",
            Env::Production => "production",
        })
    }
}

/// Words that name an environment, as whole words of a name or an `environment` value.
const ENV_WORDS: &[(&str, Env)] = &[
    ("dev", Env::Development),
    ("development", Env::Development),
    ("test", Env::Test),
    ("testing", Env::Test),
    ("qa", Env::Test),
    ("uat", Env::Test),
    ("stage", Env::Staging),
    ("staging", Env::Staging),
    ("stg", Env::Staging),
    ("prod", Env::Production),
    ("production", Env::Production),
    ("prd", Env::Production),
];

/// The environment the words of `text` name (one, or none when several disagree).
fn env_of_words(text: &str) -> Option<Env> {
    let found: BTreeSet<u8> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter_map(|w| {
            let w = w.to_ascii_lowercase();
            ENV_WORDS
                .iter()
                .find(|(k, _)| *k == w)
                .map(|(_, e)| *e as u8)
        })
        .collect();
    only_one(&found)
}

/// The one environment of `found` (as `Env as u8`), or none when there are several or none.
fn only_one(found: &BTreeSet<u8>) -> Option<Env> {
    match found.len() {
        1 => ENV_WORDS
            .iter()
            .map(|(_, e)| *e)
            .find(|e| Some(&(*e as u8)) == found.first()),
        _ => None,
    }
}

/// The environment an instance's name says (`dev12345`, `acme-test`, `acmeprod`): a keyword
/// (three letters or more) at the start or end of one of its letter runs.
fn env_of_instance(host: &str) -> Option<Env> {
    let name = host.split('.').next().unwrap_or(host).to_ascii_lowercase();
    let mut found = BTreeSet::new();
    for run in name.split(|c: char| !c.is_ascii_alphabetic()) {
        for (k, e) in ENV_WORDS {
            let long = k.len() >= 3 && (run.starts_with(k) || run.ends_with(k));
            if run == *k || long {
                found.insert(*e as u8);
            }
        }
    }
    only_one(&found)
}

fn first_host(text: &str) -> Option<String> {
    urls(text).next().map(|(_, h)| h.to_ascii_lowercase())
}

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    redirect_duplicates(facts, out);
    url_mismatches(facts, out);
    existing_written(facts, options, out);
    let Some(run) = &options.run else { return };
    client_ids_changed(facts, &run.new_client_ids, out);
    derived_state(facts, run, out);
    if let (Some((file, made)), Some(target)) = (&run.made_for, &options.target) {
        if !made.eq_ignore_ascii_case(target.host()) {
            out.push(Finding {
                rule: RuleId::BundleTarget.id(),
                severity: Severity::Error,
                message: format!(
                    "this bundle was made for {made}, not {}: its links, checklist and (for a move or derive) its URLs name {made}",
                    target.host()
                ),
                instance_error: None,
                hint: format!(
                    "make the bundle again with --target {} (or import it into {made})",
                    target.host()
                ),
                location: FindingLocation {
                    file: file.clone(),
                    line: 1,
                    column: 1,
                    table: None,
                    sys_id: None,
                    field: None,
                    path: None,
                    snippet: None,
                    offset: None,
                },
            });
        }
    }
}

/// A redirect list naming one URL twice: two instances mapped onto one.
fn redirect_duplicates(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for k in facts.of_table("oauth_entity") {
        let r = &facts.records[k];
        let mut seen = BTreeSet::new();
        for (u, _) in urls(r.get("redirect_url")) {
            let key = u.trim_end_matches('/').to_ascii_lowercase();
            if !seen.insert(key) {
                out.push(facts.finding(
                    facts.record_place(k, Some("redirect_url")),
                    RuleId::RedirectDuplicate,
                    Severity::Error,
                    format!(
                        "the redirect list of \"{}\" names {} twice: two instances were mapped onto one",
                        r.name(),
                        shown(u)
                    ),
                    Some("the instance that was merged away can no longer be redirected to"),
                    "map each instance to its own target (--host OLD=NEW), or remove the duplicate",
                ));
                break;
            }
        }
    }
}

/// Instance records (and providers) whose URL names another instance than they say.
fn url_mismatches(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    for k in facts.instance_records() {
        let r = &facts.records[k];
        let Some(host) = first_host(r.get("url")) else {
            continue;
        };
        let instance = host.split('.').next().unwrap_or(&host);
        let named = r.get("instance_name");
        if !named.is_empty() && !named.eq_ignore_ascii_case(instance) {
            out.push(facts.finding(
                facts.record_place(k, Some("url")),
                RuleId::InstanceUrlMismatch,
                Severity::Error,
                format!(
                    "instance record \"{}\" has instance_name {named} but its URL names {host}",
                    r.name()
                ),
                Some("Validate Connection reaches another instance"),
                "a copy keeps both; a move maps both (give the host with --host OLD=NEW)",
            ));
            continue;
        }
        let said = env_of_words(r.get("environment")).or_else(|| env_of_words(r.name()));
        if let (Some(said), Some(is)) = (said, env_of_instance(&host)) {
            if said != is {
                out.push(facts.finding(
                    facts.record_place(k, Some("url")),
                    RuleId::InstanceUrlMismatch,
                    Severity::Warning,
                    format!(
                        "instance record \"{}\" says {said} but its URL names {host}, whose name says {is}",
                        r.name()
                    ),
                    Some("Validate Connection checks another instance than the record describes"),
                    "records that keep describing their instance go with --intent copy (URLs kept); a new record for the target with --intent derive and --label",
                ));
            }
        }
    }
    for k in facts.of_table("oauth_entity") {
        let r = &facts.records[k];
        if r.get("type") != "oauth_provider" {
            continue;
        }
        let Some(host) = first_host(r.get("token_url")).filter(|h| is_instance_host(h)) else {
            continue;
        };
        if let (Some(said), Some(is)) = (env_of_words(r.name()), env_of_instance(&host)) {
            if said != is {
                out.push(facts.finding(
                    facts.record_place(k, Some("token_url")),
                    RuleId::InstanceUrlMismatch,
                    Severity::Warning,
                    format!(
                        "provider \"{}\" says {said} but asks {host} for tokens, whose name says {is}",
                        r.name()
                    ),
                    Some("the provider calls another instance than its name says"),
                    "a copy keeps the URLs (--intent copy); a twin for the target gets a new name (--intent derive --label OLD=NEW)",
                ));
            }
        }
    }
}

/// Providers whose client_id this run changed, with no endpoint in the bundle sharing it.
fn client_ids_changed(facts: &Facts<'_>, new: &BTreeSet<String>, out: &mut Vec<Finding>) {
    if new.is_empty() {
        return;
    }
    let entities: Vec<usize> = facts.of_table("oauth_entity").collect();
    let endpoints: BTreeSet<&str> = entities
        .iter()
        .map(|&k| &facts.records[k])
        .filter(|r| r.get("type") == "client")
        .map(|r| r.get("client_id"))
        .collect();
    for &k in &entities {
        let r = &facts.records[k];
        let id = r.get("client_id");
        if r.get("type") != "oauth_provider" || !new.contains(id) || endpoints.contains(id) {
            continue;
        }
        let third_party = first_host(r.get("token_url")).is_some_and(|h| !is_instance_host(&h));
        let (message, hint) = match third_party {
            true => (
                format!(
                    "the client_id of \"{}\" changed in this run, but the third party issued it",
                    r.name()
                ),
                "keep the provider's client_id (drop --regenerate-field oauth_entity.client_id; derive keeps a third party's own)",
            ),
            false => (
                format!(
                    "the client_id of \"{}\" changed in this run, and no endpoint in the bundle has the new one",
                    r.name()
                ),
                "bundle the endpoint it calls so both change together, or keep the client_id",
            ),
        };
        out.push(facts.finding(
            facts.record_place(k, Some("client_id")),
            RuleId::ClientIdChanged,
            Severity::Error,
            message,
            Some("invalid_client"),
            hint,
        ));
    }
}

/// Records this run gave a new id that still carry the original's state.
fn derived_state(facts: &Facts<'_>, run: &crate::check::RunFacts, out: &mut Vec<Finding>) {
    if run.new_ids.is_empty() {
        return;
    }
    let derive = run.intent == Some(Intent::Derive);
    for (k, r) in facts.records.iter().enumerate() {
        if !r.sys_id().is_some_and(|id| run.new_ids.contains(id)) || r.is_deletion() {
            continue;
        }
        for s in STATE_FIELDS.iter().filter(|s| s.tables.contains(r.table())) {
            let value = r.get(s.field);
            if value.is_empty() || value == s.reset {
                continue;
            }
            let (severity, what) = match derive {
                true => (Severity::Error, "derived twin"),
                false => (Severity::Warning, "record given a new id in this run"),
            };
            out.push(facts.finding(
                facts.record_place(k, Some(s.field)),
                RuleId::DerivedState,
                severity,
                format!(
                    "{what} \"{}\" carries the original's {} ({value}): {}",
                    r.name(),
                    s.field,
                    s.what
                ),
                Some("the record looks validated before it ever was"),
                "derive resets it (--intent derive); or --set it to what a new record has",
            ));
        }
    }
}

/// Records said to exist on the target that the bundle would replace.
fn existing_written(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    if options.existing.is_empty() {
        return;
    }
    for (k, r) in facts.records.iter().enumerate() {
        if r.is_deletion() || crate::check::facts::in_version(r) {
            continue;
        }
        let name = r.name();
        if let Some(e) = options
            .existing
            .iter()
            .find(|e| e.matches(r.table(), r.sys_id(), Some(name)))
        {
            out.push(facts.finding(
                facts.record_place(k, None),
                RuleId::ExistingWritten,
                Severity::Warning,
                format!(
                    "{} \"{name}\" exists on the target (--existing {e}), and importing this copy replaces it (its secrets with placeholders)",
                    r.table()
                ),
                None,
                "leave it out with --exclude, or drop --existing if it should be replaced",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_of_names_and_instances() {
        assert_eq!(env_of_words("OAuth Provider Dev"), Some(Env::Development));
        assert_eq!(env_of_words("Development"), Some(Env::Development));
        assert_eq!(env_of_words("Prodelopment"), None);
        assert_eq!(env_of_words("Dev to Prod"), None);
        assert_eq!(
            env_of_instance("dev12345.service-now.com"),
            Some(Env::Development)
        );
        assert_eq!(
            env_of_instance("acmeprod.service-now.com"),
            Some(Env::Production)
        );
        assert_eq!(
            env_of_instance("acme-test.service-now.com"),
            Some(Env::Test)
        );
        assert_eq!(env_of_instance("acme.service-now.com"), None);
        assert_eq!(
            env_of_instance("prod1.service-now.com"),
            Some(Env::Production)
        );
    }
}
