//! `sn-retarget plan`: a commented plan inferred from the input, for the user to edit.
//!
//! In: the inventory of the input and the target. Out: TOML text that [`super::Plan`] reads
//! back, with the source hosts found filled in and, as comments, what else the input holds
//! (scopes, secrets, natural-key tables, columns worth regenerating).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{DEFAULT_PLACEHOLDER, Instance, NATURAL_KEY_TABLES, PlanError};
use crate::inspect::Inventory;

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The plan text for `inventory`, retargeted at `target`.
///
/// ```
/// use sn_retarget::inspect::Inspector;
/// use sn_retarget::plan::{infer_plan, Plan};
/// let mut i = Inspector::new();
/// i.add("a.xml", br#"<unload><oauth_entity action="INSERT_OR_UPDATE"><redirect_url>https://dev1.service-now.com/oauth_redirect.do</redirect_url></oauth_entity></unload>"#).unwrap();
/// let text = infer_plan(&i.finish(), "acme").unwrap();
/// let plan: Plan = toml::from_str(&text).unwrap();
/// assert_eq!(plan.sources, ["dev1.service-now.com"]);
/// assert_eq!(plan.target.as_deref(), Some("acme.service-now.com"));
/// ```
pub fn infer_plan(inventory: &Inventory, target: &str) -> Result<String, PlanError> {
    let target = Instance::parse(target)?;
    let mut hosts: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
    let mut scopes: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut secrets: BTreeMap<String, usize> = BTreeMap::new();
    let mut natural: BTreeMap<&str, usize> = BTreeMap::new();
    let mut client_ids = 0;
    for f in &inventory.files {
        for h in &f.hosts {
            let e = hosts.entry(&h.host).or_default();
            e.0 += h.count;
            e.1.extend(h.fields.iter().map(String::as_str));
        }
        for s in &f.scopes {
            let key = format!(
                "{} {:?} {}",
                s.sys_id.as_deref().unwrap_or("-"),
                s.name.as_deref().unwrap_or(""),
                s.namespace.as_deref().unwrap_or("-")
            );
            let e = scopes
                .entry(key)
                .or_insert((s.namespace.clone().unwrap_or_default(), 0));
            e.1 += s.count;
        }
        for s in &f.secrets {
            *secrets
                .entry(format!("{}.{}", s.table, s.field))
                .or_default() += 1;
        }
        for r in &f.records {
            if let Some(t) = NATURAL_KEY_TABLES.iter().find(|t| **t == r.table) {
                *natural.entry(t).or_default() += 1;
            }
            client_ids += usize::from(r.table == "oauth_entity");
        }
    }
    let sources: Vec<String> = hosts
        .keys()
        .filter(|h| **h != target.host())
        .map(|h| h.to_string())
        .collect();

    let mut t = String::new();
    let files = inventory.files.len();
    let _ = writeln!(t, "# sn-retarget plan, inferred from {files} file(s).");
    let _ = writeln!(
        t,
        "# Edit it, then: sn-retarget apply <INPUT>... --plan <THIS FILE> --out <PATH>"
    );
    let _ = writeln!(t, "# (flags given to apply override what is set here)\n");
    let _ = writeln!(t, "# The instance the output will be imported into.");
    let _ = writeln!(t, "target = {}\n", quote(target.host()));
    let _ = writeln!(
        t,
        "# Instances named in the input; their URLs (and bare names) become the target's."
    );
    for (h, (n, fields)) in &hosts {
        let mut fields = fields.clone();
        fields.sort_unstable();
        fields.dedup();
        let _ = writeln!(t, "#   {h}: {n} occurrence(s) in {}", fields.join(", "));
    }
    let _ = writeln!(t, "sources = {}\n", list(&sources));
    let _ = writeln!(
        t,
        "# keep: every sys_id stays. regenerate: every record defined in the input gets a new,"
    );
    let _ = writeln!(
        t,
        "# deterministic id (uuid v5 of the seed, the target and the old id), everywhere it occurs."
    );
    let _ = writeln!(t, "sys_ids = \"keep\"");
    let _ = writeln!(t, "seed = \"\"\n");
    let _ = writeln!(
        t,
        "# Tables import matches by natural key; their ids are kept even when regenerating:"
    );
    if natural.is_empty() {
        let _ = writeln!(t, "#   (none in the input)");
    }
    for (table, n) in &natural {
        let _ = writeln!(t, "#   {table}: {n} record(s)");
    }
    let _ = writeln!(t, "force_natural_keys = false\n");
    let _ = writeln!(
        t,
        "# Scopes referenced (sys_id, name, namespace: mentions). Rename with \"OLD=NEW\""
    );
    let _ = writeln!(
        t,
        "# (two sys_ids or two namespaces); scope_prefix also renames namespace prefixes in text."
    );
    for (k, (_, n)) in &scopes {
        let _ = writeln!(t, "#   {k}: {n}");
    }
    let _ = writeln!(t, "scopes = []");
    let _ = writeln!(t, "scope_prefix = false\n");
    let total: usize = secrets.values().sum();
    let _ = writeln!(
        t,
        "# Secret values found: {total} (values never shown). placeholder | blank | keep."
    );
    for (col, n) in &secrets {
        let _ = writeln!(t, "#   {col}: {n}");
    }
    let _ = writeln!(t, "secrets = \"placeholder\"");
    let _ = writeln!(t, "placeholder = {}", quote(DEFAULT_PLACEHOLDER));
    let _ = writeln!(t, "# More secret columns, \"table.field\".");
    let _ = writeln!(t, "secret_fields = []\n");
    let _ = writeln!(
        t,
        "# Columns whose values get new deterministic values, consistently across the input"
    );
    if client_ids > 0 {
        let _ = writeln!(
            t,
            "# (the input has {client_ids} oauth_entity record(s): \"oauth_entity.client_id\" keeps a provider"
        );
        let _ = writeln!(t, "# and its endpoint sharing one new client id).");
    }
    let _ = writeln!(t, "regenerate_fields = []\n");
    let _ = writeln!(
        t,
        "# Field edits: \"table.field=VALUE\" sets, \"table.field:OLD=NEW\" replaces inside values,"
    );
    let _ = writeln!(t, "# e.g. \"oauth_entity.name:Dev=Prod\".");
    let _ = writeln!(t, "set = []");
    let _ = writeln!(t, "replace = []\n");
    let _ = writeln!(
        t,
        "# sys_ids to re-point at records that already exist on the target: \"old\" = \"new\"."
    );
    let _ = writeln!(t, "[map]");
    Ok(t)
}
