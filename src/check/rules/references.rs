//! `missing-reference`: references to records the bundle does not hold.

use std::collections::{BTreeMap, BTreeSet};

use super::RuleId;
use crate::check::facts::in_version;
use crate::check::{CheckOptions, Facts, Finding};
use crate::error::Severity;
use crate::plan::{Existing, LeftOut};

/// Reference columns whose table is known.
fn referenced_table(field: &str) -> Option<&'static str> {
    Some(match field {
        "oauth_entity" | "oauth_application_registry" => "oauth_entity",
        "oauth_entity_profile" | "oauth2_profile" => "oauth_entity_profile",
        "oauth_entity_scope" => "oauth_entity_scope",
        "oauth_user_profile" => "sys_auth_profile_oauth2",
        "basic_auth_profile" => "sys_auth_profile_basic",
        "remote_update_set" => "sys_remote_update_set",
        "rest_message" => "sys_rest_message",
        "sys_scope" | "sys_package" | "application" => "sys_scope",
        "user" | "sys_user" | "assigned_to" | "manager" | "opened_by" | "requested_for"
        | "caller_id" | "recipient_users" => "sys_user",
        "group" | "assignment_group" | "sys_user_group" => "sys_user_group",
        "role" | "sys_user_role" => "sys_user_role",
        _ => return None,
    })
}

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    let left_out = options
        .run
        .as_ref()
        .map(|r| r.left_out.as_slice())
        .unwrap_or(&[]);
    let tables: BTreeSet<&str> = facts.records.iter().map(|r| r.table()).collect();
    for (target, (k, from, display_value, field)) in missing_targets(facts) {
        let table = referenced_table(field);
        let display = display_value
            .filter(|d| !d.is_empty())
            .map(|d| format!(" \"{d}\""))
            .unwrap_or_default();
        let existing = options
            .existing
            .iter()
            .find(|e| e.is_referred(table, target, display_value));
        let left = left_out
            .iter()
            .find(|l| l.sys_id.as_deref() == Some(target));
        let missing = MissingTarget {
            target,
            display: &display,
            from: &from,
            table,
        };
        let (severity, message, hint) = verdict(&missing, existing, left, &tables);
        let instance_error = (severity != Severity::Info)
            .then_some("Could not find a record ... referenced in this update");
        out.push(facts.finding(
            facts.record_place(k, Some(field)),
            RuleId::MissingReference,
            severity,
            message,
            instance_error,
            hint,
        ));
    }
}

/// target -> (first referring record, referring columns, display value, field)
type Missing<'a> = (usize, Vec<String>, Option<&'a str>, &'a str);

/// The targets of references the bundle does not define: one each, at its first reference,
/// with every column pointing at it.
fn missing_targets<'a>(facts: &'a Facts<'_>) -> BTreeMap<&'a str, Missing<'a>> {
    let mut missing: BTreeMap<&str, Missing<'_>> = BTreeMap::new();
    for (k, r) in &facts.references {
        let rec = &facts.records[*k];
        if in_version(rec) || rec.is_deletion() || facts.defined.contains_key(&r.target) {
            continue;
        }
        let e = missing.entry(r.target.as_str()).or_insert((
            *k,
            Vec::new(),
            r.display_value.as_deref(),
            r.field.as_str(),
        ));
        let from = format!("{}.{}", r.table, r.field);
        if !e.1.contains(&from) {
            e.1.push(from);
        }
    }
    missing
}

/// A missing target as findings name it.
struct MissingTarget<'a> {
    target: &'a str,
    /// ` "display value"`, or empty.
    display: &'a str,
    /// The columns referring to it.
    from: &'a [String],
    /// Its table, when the column says.
    table: Option<&'static str>,
}

/// How bad a missing target is, what to say and the hint: a record said to exist on the target
/// is a note, one left out a warning; users, groups, roles and applications are notes; a table
/// the bundle holds other records of makes it an error.
fn verdict(
    missing: &MissingTarget<'_>,
    existing: Option<&Existing>,
    left: Option<&LeftOut>,
    tables: &BTreeSet<&str>,
) -> (Severity, String, &'static str) {
    let MissingTarget {
        target,
        display,
        from,
        table,
    } = *missing;
    match (existing, left, table) {
        (Some(e), _, _) => (
            Severity::Info,
            format!(
                "{} {target}{display} is not in the bundle: it exists on the target (--existing {e})",
                e.table
            ),
            "nothing to do, if it does exist there with this sys_id",
        ),
        (None, Some(l), _) => (
            Severity::Warning,
            format!(
                "{} {target}{display} was left out of the bundle (--only/--exclude), but {} refer to it",
                l.table,
                from.join(", ")
            ),
            "if it exists on the target, say so with --existing; else keep it in the bundle",
        ),
        (None, None, table) => match table {
            Some(t @ ("sys_user" | "sys_user_group" | "sys_user_role")) => (
                Severity::Info,
                format!(
                    "{t} {target}{display} is not in the bundle; import matches {t} references by display value"
                ),
                "make sure a record with that display value exists on the target",
            ),
            Some("sys_scope") => (
                Severity::Info,
                format!("application {target}{display} is not in the bundle"),
                "install the application on the target before importing",
            ),
            Some(t) if tables.contains(t) => (
                Severity::Error,
                format!(
                    "{t} {target}{display} is not in the bundle, which holds other {t} records (from {})",
                    from.join(", ")
                ),
                "add the record to the bundle, or map the reference to the target's record with --map",
            ),
            Some(t) => (
                Severity::Warning,
                format!(
                    "{t} {target}{display} is not in the bundle (from {})",
                    from.join(", ")
                ),
                "make sure it exists on the target with this sys_id, or map it with --map",
            ),
            None => (
                Severity::Warning,
                format!(
                    "record {target}{display} is not in the bundle (from {})",
                    from.join(", ")
                ),
                "make sure it exists on the target with this sys_id, or map it with --map",
            ),
        },
    }
}
