//! `secret-left`, `secret-placeholder`.

use crate::analyze::secrets::{SecretRules, ciphertext_shape};
use crate::check::{CheckOptions, Facts, Finding};
use crate::error::Severity;
use crate::plan::DEFAULT_PLACEHOLDER;

pub fn check(facts: &Facts<'_>, options: &CheckOptions, out: &mut Vec<Finding>) {
    let rules = SecretRules::default();
    let prefix_of = |t: &str| t.split('{').next().unwrap_or_default().to_string();
    let mut prefixes = vec![prefix_of(DEFAULT_PLACEHOLDER)];
    if let Some(p) = &options.placeholder {
        prefixes.push(prefix_of(p));
    }
    prefixes.retain(|p| !p.is_empty());
    for (k, r) in facts.records.iter().enumerate() {
        let property_type = (r.table() == "sys_properties").then(|| r.get("type"));
        for f in &r.record.fields {
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are checked themselves
            }
            let text = f.text.trim();
            if prefixes.iter().any(|p| text.starts_with(p.as_str())) {
                out.push(facts.finding(
                    k,
                    Some(&f.name),
                    "secret-placeholder",
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
            let Some(why) = rules.classify(r.table(), &f.name, text, property_type) else {
                continue;
            };
            let what = if ciphertext_shape(text).is_some() {
                "holds ciphertext made with the source instance's key"
            } else {
                "is a secret column with a value in it"
            };
            let _ = why;
            out.push(facts.finding(
                k,
                Some(&f.name),
                "secret-left",
                Severity::Error,
                format!("{}.{} {what}", r.table(), f.name),
                Some("the value decrypts to garbage on the target (KMF)"),
                "run `sn-retarget apply` (secrets become placeholders), then re-enter the value on the target",
            ));
        }
    }
}
