//! What a fork looks at besides the rewrite: a new namespace already in use, names it is not
//! sure of, files written twice, copied files naming the old application, leftovers.

use crate::error::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::error::refuse;
use super::{FileKind, ForkError, ForkedFile, Survey, shown};
use crate::error::Position;
use crate::plan::ids::IdMap;
use crate::plan::namespace::occurrences;

/// Refuses a new namespace the input already names (outside the old one, when the old one
/// starts with it).
pub(super) fn refuse_in_use(
    new: &str,
    survey: &Survey,
    keep: &[String],
    inputs: &[(&str, &[u8])],
) -> Result<(), Error> {
    let longer: Vec<String> = survey
        .namespaces
        .iter()
        .chain(keep)
        .filter(|n| n.len() > new.len() && n.starts_with(new))
        .cloned()
        .collect();
    for (name, bytes) in inputs {
        if let Some(span) = occurrences(new, &longer, bytes, true).next() {
            let p = Position::locate(bytes, span.start);
            return refuse(ForkError::NamespaceInUse {
                namespace: new.to_string(),
                at: format!("{name}:{}:{}", p.line, p.column),
            });
        }
    }
    Ok(())
}

/// A warning naming the identifiers that start with the old namespace and `_` but with no
/// table the application defines: renamed all the same (they are in its namespace), but one
/// may be another application's scope (`x_old_core`).
pub(super) fn undefined_names(
    inputs: &[(&str, &[u8])],
    old: &str,
    keep: &[String],
    tables: &[String],
) -> Option<String> {
    let mut unknown = BTreeSet::new();
    for (_, bytes) in inputs {
        for span in occurrences(old, keep, bytes, false) {
            if bytes.get(span.end) != Some(&b'_') {
                continue;
            }
            let len = bytes[span.start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let ident = String::from_utf8_lossy(&bytes[span.start..span.start + len]);
            if !tables.iter().any(|t| ident.starts_with(t.as_str())) {
                unknown.insert(ident.into_owned());
            }
        }
    }
    // The shortest of each family (`x_old_t` stands for `x_old_t_field`, `x_old_t__en`...).
    let mut roots: Vec<&str> = Vec::new();
    for u in &unknown {
        if !roots.iter().any(|r| u.starts_with(r)) {
            roots.push(u);
        }
    }
    if roots.is_empty() {
        return None;
    }
    let shown: Vec<&str> = roots.iter().take(10).copied().collect();
    let more = roots.len().saturating_sub(shown.len());
    Some(format!(
        "renamed as the application's own, though it defines no table they start with: {}{}; if one is another application's scope, fork again with --keep-scope <that namespace>",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// `true` when `bytes` name the old namespace (in any case) or an old sys_id.
pub(super) fn names_old(bytes: &[u8], old: &str, keep: &[String], ids: &IdMap) -> bool {
    occurrences(old, keep, bytes, true).next().is_some()
        || crate::plan::tokens::id_tokens(bytes).any(|s| ids.get(&bytes[s.range()]).is_some())
}

/// Refuses two files written to one path.
pub(super) fn refuse_clashes(files: &[ForkedFile]) -> Result<(), Error> {
    let mut seen: BTreeMap<&Path, &Path> = BTreeMap::new();
    for f in files {
        if let Some(first) = seen.insert(&f.output, &f.input) {
            return refuse(ForkError::PathClash(format!(
                "{} and {} would both be written to {}",
                first.display(),
                f.input.display(),
                f.output.display()
            )));
        }
    }
    Ok(())
}

/// `check` on the forked exports, with the rewrite's placeholder and secret rules: no old id,
/// no old namespace, no ciphertext...
pub(super) fn check_outputs(
    files: &[ForkedFile],
    apply: &crate::apply::ApplyReport,
    old: &str,
    new: &str,
    keep: &[String],
    rules: (String, crate::analyze::secrets::SecretRules),
) -> Result<Vec<crate::check::Finding>, Error> {
    let (placeholder, secret_rules) = rules;
    let names: Vec<(String, &[u8])> = files
        .iter()
        .filter(|f| f.kind == FileKind::Xml)
        .map(|f| (shown(&f.output), f.bytes.as_slice()))
        .collect();
    let sources: Vec<(&str, &[u8])> = names.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let options = crate::check::CheckOptions {
        old_ids: apply
            .id_map
            .iter()
            .map(|p| p.old.clone())
            .collect::<BTreeSet<_>>(),
        old_namespaces: vec![old.to_string()],
        keep_namespaces: keep.iter().cloned().chain([new.to_string()]).collect(),
        placeholder: Some(placeholder),
        secret_rules: Some(secret_rules),
        ..crate::check::CheckOptions::default()
    };
    let report = crate::check::check(&sources, &options)?;
    Ok(report.findings)
}
