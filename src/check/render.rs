//! Findings for people (text with a caret under the place), and for tools (JSON, SARIF 2.1.0).

use std::fmt::Write;

use serde_json::{Value, json};

use super::{CheckReport, rules::RuleId};
use crate::error::Severity;

/// Text: one block per finding, the offending line with a caret, then the hint.
pub fn text(report: &CheckReport) -> String {
    let mut t = String::new();
    for f in &report.findings {
        let l = &f.location;
        let _ = write!(
            t,
            "{}:{}:{}: {}[{}]: {}",
            l.file, l.line, l.column, f.severity, f.rule, f.message
        );
        if let Some(e) = f.instance_error {
            let _ = write!(t, " (on the instance: {e})");
        }
        t.push('\n');
        if let Some(s) = &l.snippet {
            let _ = writeln!(t, "{s}");
        }
        if let Some(p) = &l.path {
            let _ = writeln!(t, "  record: {p}");
        }
        let _ = writeln!(t, "  hint: {}", f.hint);
    }
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        t,
        "{} file(s), {} record(s): {} error(s), {} warning(s), {} note(s)",
        report.files,
        report.records,
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    t
}

/// SARIF 2.1.0: one run, the rules as the driver's rules, one result per finding.
pub fn sarif(report: &CheckReport) -> Value {
    let level = |s: Severity| match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    };
    let rules: Vec<Value> = RuleId::ALL
        .iter()
        .map(|r| json!({ "id": r.id(), "name": r.id(), "shortDescription": { "text": r.id() } }))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let l = &f.location;
            let mut message = f.message.clone();
            if let Some(e) = f.instance_error {
                message.push_str(&format!(" (on the instance: {e})"));
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": RuleId::ALL.iter().position(|r| r.id() == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&l.file) },
                        "region": { "startLine": l.line, "startColumn": l.column }
                    },
                    "logicalLocations": [{
                        "name": l.field.clone().unwrap_or_default(),
                        "fullyQualifiedName": l.path.clone().unwrap_or_default(),
                        "kind": "member"
                    }]
                }],
                "properties": {
                    "table": l.table, "sys_id": l.sys_id, "field": l.field, "hint": f.hint
                }
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sn-retarget",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    })
}

/// A relative URI reference for a file name (spaces and other specials percent-encoded).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
