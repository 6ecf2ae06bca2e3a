//! Id map files (`--map`): CSV, TOML or a JSON report, read into old-to-new sys_ids.

use std::collections::BTreeMap;

use super::PlanError;
use crate::analyze::refs::is_sys_id;

/// Reads an id map file: CSV lines `old,new` (a header line and `#` comments are skipped),
/// TOML (`old = "new"` pairs, at the top or under `[map]`), or the JSON report of `apply` or
/// `fork` (its `id_map`). `reverse` swaps every pair.
///
/// ```
/// use sn_retarget::plan::parse_id_map;
/// let a = "0123456789abcdef0123456789abcdef";
/// let b = "fedcba9876543210fedcba9876543210";
/// let csv = format!("old,new\n{a},{b}\n");
/// assert_eq!(parse_id_map(&csv, false).unwrap()[a], b);
/// let toml = format!("[map]\n{a} = \"{b}\"\n");
/// assert_eq!(parse_id_map(&toml, true).unwrap()[b], a);
/// let json = format!(r#"{{"id_map": [{{"old": "{a}", "new": "{b}"}}], "files": []}}"#);
/// assert_eq!(parse_id_map(&json, true).unwrap()[b], a);
/// ```
pub fn parse_id_map(text: &str, reverse: bool) -> Result<BTreeMap<String, String>, PlanError> {
    let mut pairs = Vec::new();
    if text.trim_start().starts_with('{') {
        // A report of `apply` or `fork`: its `id_map`.
        #[derive(serde::Deserialize)]
        struct Pair {
            old: String,
            new: String,
        }
        #[derive(serde::Deserialize)]
        struct Report {
            id_map: Vec<Pair>,
        }
        let report: Report = serde_json::from_str(text)
            .map_err(|e| PlanError::BadMapFile(format!("not a report with an id_map: {e}")))?;
        pairs.extend(report.id_map.into_iter().map(|p| (p.old, p.new)));
    } else if let Ok(table) = text.parse::<toml::Table>() {
        let table = match table.get("map") {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => table,
        };
        for (k, v) in table {
            let v = v.as_str().map(str::to_string).unwrap_or_default();
            pairs.push((k, v));
        }
    } else {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (a, b) = line
                .split_once(',')
                .map(|(a, b)| (a.trim().trim_matches('"'), b.trim().trim_matches('"')))
                .unwrap_or((line, ""));
            if pairs.is_empty() && !is_sys_id(a) && !is_sys_id(b) {
                continue; // a header
            }
            pairs.push((a.to_string(), b.to_string()));
        }
    }
    let mut map = BTreeMap::new();
    for (a, b) in pairs {
        if !is_sys_id(&a) || !is_sys_id(&b) {
            return Err(PlanError::BadMapEntry(a, b));
        }
        if reverse {
            map.insert(b, a);
        } else {
            map.insert(a, b);
        }
    }
    Ok(map)
}
