//! `duplicate-sys-id`, `several-source-instances`, `several-production`.

use std::collections::{BTreeMap, BTreeSet};

use super::RuleId;
use super::is_instance_record;
use crate::check::facts::in_version;
use crate::check::{Facts, Finding};
use crate::error::Severity;

/// Fields that differ between two exports of the same record without it being different.
const VOLATILE: [&str; 5] = [
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
    "sys_created_on",
    "sys_created_by",
];

/// Runs the three rules.
pub fn check(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    duplicate_sys_id(facts, out);
    several_source_instances(facts, out);
    several_production(facts, out);
}

/// `duplicate-sys-id`: one sys_id defined twice (same table) with different content.
fn duplicate_sys_id(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, r) in facts.records.iter().enumerate() {
        let Some(id) = r.sys_id() else { continue };
        // A previous version, a deletion, or a partial `UPDATE` of a record defined beside it
        // (flow designer appends one) is not a second definition.
        let partial = r
            .record
            .action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("update"));
        if in_version(r) || r.is_deletion() || partial {
            continue;
        }
        match seen.get(id) {
            None => {
                seen.insert(id, k);
            }
            Some(&first) => {
                let a = &facts.records[first].record;
                let content = |rec: &crate::model::OwnedRecord| -> BTreeMap<String, String> {
                    rec.fields
                        .iter()
                        .filter(|f| !VOLATILE.contains(&f.name.as_str()) && f.payload.is_none())
                        .map(|f| (f.name.clone(), f.text.clone()))
                        .collect()
                };
                if a.table == r.record.table && content(a) != content(&r.record) {
                    out.push(facts.finding(
                        facts.record_place(k, None),
                        RuleId::DuplicateSysId,
                        Severity::Error,
                        format!(
                            "{} {id} is defined twice with different content (also in {})",
                            r.table(),
                            facts.records[first].path
                        ),
                        Some("the record imported last wins"),
                        "keep one version of the record in the bundle",
                    ));
                }
            }
        }
    }
}

/// `several-source-instances`: records exported from more than one instance.
fn several_source_instances(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let mut instances: BTreeMap<String, usize> = BTreeMap::new();
    for (k, r) in facts.records.iter().enumerate() {
        let name = r.get("instance_name");
        if !name.is_empty() && !is_instance_record(r.table()) {
            instances.entry(name.to_ascii_lowercase()).or_insert(k);
        }
    }
    if instances.len() > 1 {
        let names: Vec<&str> = instances.keys().map(String::as_str).collect();
        let (_, &k) = instances.iter().nth(1).expect("two");
        out.push(facts.finding(
            facts.record_place(k, Some("instance_name")),
            RuleId::SeveralSourceInstances,
            Severity::Warning,
            format!(
                "the bundle holds records exported from several instances: {}",
                names.join(", ")
            ),
            None,
            "bundle the exports of one instance at a time, or check that mixing them is intended",
        ));
    }
}

/// `several-production`: more than one instance record marked production.
fn several_production(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let production: Vec<usize> = facts
        .instance_records()
        .into_iter()
        .filter(|&k| {
            facts.records[k]
                .get("environment")
                .eq_ignore_ascii_case("production")
        })
        .collect();
    if production.len() > 1 {
        let names: BTreeSet<&str> = production
            .iter()
            .map(|&k| facts.records[k].name())
            .collect();
        out.push(facts.finding(
            facts.record_place(production[1], Some("environment")),
            RuleId::SeveralProduction,
            Severity::Error,
            format!(
                "{} instance records are marked production ({}); only one may be",
                production.len(),
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
            Some("the integration fails"),
            "set environment to development or test on all but the production instance",
        ));
    }
}
