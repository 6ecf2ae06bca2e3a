//! `secret-left`, `secret-placeholder`.

use rayon::prelude::*;

use super::RuleId;
use crate::analyze::embedded::{embedded_secrets, may_embed};
use crate::analyze::secrets::{DictionaryLearner, SecretReason, SecretRules, ciphertext_shape};
use crate::plan::unread::unread_secrets;
use crate::check::{BundleRecord, CheckOptions, Facts, Finding};
use crate::error::Severity;

/// The secret rules for a bundle: the options' (or the built-in ones), the placeholder in
/// force, and every password2 column a dictionary record of the bundle declares, wherever it
/// sits in the bundle.
pub fn rules_for(facts: &Facts<'_>, options: &CheckOptions) -> SecretRules {
    let mut rules = options.secret_rules.clone().unwrap_or_default();
    if let Some(p) = &options.placeholder {
        rules.add_placeholder(p);
    }
    // Nested dictionary columns arrive before the table record that holds them, as the
    // reader hands them over: each file's records backwards.
    let mut learner = DictionaryLearner::default();
    let mut file = usize::MAX;
    for r in facts.records.iter().rev() {
        if r.file != file {
            learner = DictionaryLearner::default();
            file = r.file;
        }
        learner.learn(&mut rules, &r.record);
    }
    rules
}

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    let rules = rules_for(facts, options);
    // The records on every core, their findings in record order.
    out.par_extend(
        facts
            .records
            .par_iter()
            .enumerate()
            .flat_map_iter(|(k, r)| {
                let mut found = Vec::new();
                record_secrets(facts, &rules, k, r, &mut found);
                found
            }),
    );
}

/// The secrets left in record `k` (`r`), placeholders included.
fn record_secrets(
    facts: &Facts<'_>,
    rules: &SecretRules,
    k: usize,
    r: &BundleRecord,
    out: &mut Vec<Finding>,
) {
    let values = crate::model::MemoValues::new(&r.record);
    for f in &r.record.fields {
        if f.payload.is_some_and(|p| p.read) {
            continue; // its records are checked themselves
        }
        if f.payload.is_some() {
            unread_payload(facts, rules, k, f, out);
        }
        let text = f.text.trim();
        if rules.is_placeholder(text) {
            out.push(facts.finding(
                facts.field_place(k, f),
                RuleId::SecretPlaceholder,
                Severity::Info,
                format!(
                    "{}.{} holds a placeholder to replace after import",
                    r.table(),
                    f.name
                ),
                None,
                "type the real value in on the target (see CHECKLIST.md)",
            ));
            continue;
        }
        let reference = f.attrs.iter().any(|(n, _)| n == "display_value");
        let what = match rules.classify(&values, &f.name, text, reference) {
            Some(SecretReason::SecretName) => {
                "is named like a secret and holds a value no rule covers".to_string()
            }
            Some(_) if ciphertext_shape(text).is_some() => {
                "holds ciphertext made with the source instance's key".to_string()
            }
            Some(_) => "is a secret column with a value in it".to_string(),
            None if may_embed(text.as_bytes()) => {
                let found = embedded_secrets(text, &|v| rules.is_placeholder(v));
                let Some(e) = found.first() else {
                    continue;
                };
                format!("holds a value under the secret-named key {}", e.path)
            }
            None => continue,
        };
        out.push(facts.finding(
            facts.field_place(k, f),
            RuleId::SecretLeft,
            Severity::Error,
            format!("{}.{} {what}", r.table(), f.name),
            Some("the value decrypts to garbage on the target (KMF), or leaks"),
            "run `sn-retarget apply` (secrets become placeholders; a value named like a secret needs `secret_fields` or `not_secret` in the plan), then re-enter the value on the target",
        ));
    }
}

/// A payload whose records are not read (see [`crate::plan::unread`]): each secret in its
/// text is left, as no rewrite can replace it there.
fn unread_payload(
    facts: &Facts<'_>,
    rules: &SecretRules,
    k: usize,
    f: &crate::model::OwnedField,
    out: &mut Vec<Finding>,
) {
    for found in unread_secrets(&f.text, rules) {
        out.push(facts.finding(
            facts.field_place(k, f),
            RuleId::SecretLeft,
            Severity::Error,
            format!(
                "a payload that is not read (not well-formed, or nested too deep) holds {}.{} ({}), which no rewrite replaces there",
                found.table,
                found.field,
                found.reason.describe()
            ),
            Some("the value leaks with the update, and its record cannot be previewed"),
            "fix or re-export that update, or leave its record out (`apply --exclude`), then re-enter the value on the target",
        ));
    }
}
