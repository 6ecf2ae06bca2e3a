//! `sn-retarget plan`: a commented plan inferred from the input, for the user to edit.
//!
//! In: the inventory of the input and the target. Out: TOML text that [`super::Plan`] reads
//! back, with the source hosts found filled in and, as comments, what else the input holds
//! (scopes, secrets, natural-key tables, columns worth regenerating).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{DEFAULT_PLACEHOLDER, Instance, NATURAL_KEY_TABLES, PlanError};
use crate::analyze::inspect::Inventory;

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The intents, the plan's first choice, each with the seed procedure it serves.
const INTENTS: &[&str] = &[
    "# The intent: what the output is for (uncomment one; without, it is \"copy\" unless [hosts]",
    "# maps an instance, ids are regenerated or [labels] rename, then \"move\"):",
    "#   \"copy\"   the records go to the target as they are and keep describing what they describe:",
    "#            URLs and ids kept, secrets out, ordered, checklist. Seed 000 stage 3 (the dev",
    "#            records into prod, so prod can talk to dev) and stage 8 (prod records into dev).",
    "#   \"move\"   the records now describe the target: [hosts] below applies. Seeds 001/004 (a",
    "#            third-party provider on another instance, its client_id untouched), 002 (an",
    "#            endpoint for external clients on a new instance), 003 (controller, dev and test",
    "#            each mapped to its own instance in one run).",
    "#   \"derive\" a new twin beside the original. Seed 000 stage 6 (OAuth Client/Provider Prod from",
    "#            the Dev ones): every record gets a new id, [labels] rename them, a ServiceNow",
    "#            client/provider pair sharing a client_id gets one new shared client_id (a third",
    "#            party keeps its own), [hosts] applies, the original's connection status, validated",
    "#            flags and dates and tokens are reset.",
    "# intent = \"copy\"",
    "# intent = \"move\"",
    "# intent = \"derive\"",
];

/// The plan text for `inventory`, for import into `target`: the intent and the host map are
/// written commented out, with what the input holds, for the user to choose.
///
/// ```
/// use sn_retarget::analyze::inspect::Inspector;
/// use sn_retarget::plan::{infer_plan, Intent, Plan};
/// let mut i = Inspector::new();
/// i.add("a.xml", br#"<unload><oauth_entity action="INSERT_OR_UPDATE"><redirect_url>https://dev1.service-now.com/oauth_redirect.do</redirect_url></oauth_entity></unload>"#).unwrap();
/// let text = infer_plan(&i.finish(), "acme").unwrap();
/// assert!(text.contains("# \"dev1.service-now.com\" = \"acme.service-now.com\""));
/// let plan: Plan = toml::from_str(&text).unwrap();
/// assert_eq!(plan.target.as_deref(), Some("acme.service-now.com"));
/// assert!(plan.hosts.is_empty()); // nothing moves until the user says so
/// assert_eq!(plan.compile().unwrap().intent, Intent::Copy);
/// ```
pub fn infer_plan(inventory: &Inventory, target: &str) -> Result<String, PlanError> {
    let target = Instance::parse(target)?;
    let seen = Seen::of(inventory);
    let sources: Vec<&str> = seen
        .hosts
        .keys()
        .copied()
        .filter(|h| *h != target.host())
        .collect();
    let mut t = String::new();
    write_ids_scopes_secrets(&mut t, inventory.files.len(), &target, &seen);
    write_edits_and_selection(&mut t, &seen);
    write_hosts_labels_map(&mut t, &target, &seen, &sources);
    Ok(t)
}

/// What the inventory shows that a plan names: hosts (occurrences and fields), scopes, secret
/// columns, natural-key tables and the top-level records' names by table.
struct Seen<'a> {
    hosts: BTreeMap<&'a str, (usize, Vec<&'a str>)>,
    scopes: BTreeMap<String, (String, usize)>,
    secrets: BTreeMap<String, usize>,
    natural: BTreeMap<&'static str, usize>,
    records: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Seen<'a> {
    fn of(inventory: &'a Inventory) -> Seen<'a> {
        let mut hosts: BTreeMap<&str, (usize, Vec<&str>)> = BTreeMap::new();
        let mut scopes: BTreeMap<String, (String, usize)> = BTreeMap::new();
        let mut secrets: BTreeMap<String, usize> = BTreeMap::new();
        let mut natural: BTreeMap<&str, usize> = BTreeMap::new();
        let mut records: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
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
                if r.depth == 0 && r.parent.is_none() {
                    let names = records.entry(&r.table).or_default();
                    names.push(r.name.as_deref().unwrap_or("(no name)"));
                }
            }
        }
        Seen {
            hosts,
            scopes,
            secrets,
            natural,
            records,
        }
    }
}

/// The header, the target, the sys_id mode, natural keys, scopes and secrets.
fn write_ids_scopes_secrets(t: &mut String, files: usize, target: &Instance, seen: &Seen<'_>) {
    let _ = writeln!(t, "# sn-retarget plan, inferred from {files} file(s).");
    let _ = writeln!(
        t,
        "# Edit it, then: sn-retarget bundle <INPUT>... --plan <THIS FILE> --out <FOLDER>"
    );
    let _ = writeln!(
        t,
        "# (or apply ... --out <PATH>; flags given to them override what is set here)\n"
    );
    for line in INTENTS {
        let _ = writeln!(t, "{line}");
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "# The instance the output will be imported into.");
    let _ = writeln!(t, "target = {}\n", quote(target.host()));
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
    if seen.natural.is_empty() {
        let _ = writeln!(t, "#   (none in the input)");
    }
    for (table, n) in &seen.natural {
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
    for (k, (_, n)) in &seen.scopes {
        let _ = writeln!(t, "#   {k}: {n}");
    }
    let _ = writeln!(t, "scopes = []");
    let _ = writeln!(t, "scope_prefix = false\n");
    let total: usize = seen.secrets.values().sum();
    let _ = writeln!(
        t,
        "# Secret values found: {total} (values never shown). placeholder | blank | keep."
    );
    for (col, n) in &seen.secrets {
        let _ = writeln!(t, "#   {col}: {n}");
    }
    let _ = writeln!(t, "secrets = \"placeholder\"");
    let _ = writeln!(t, "placeholder = {}", quote(DEFAULT_PLACEHOLDER));
    let _ = writeln!(t, "# More secret columns, \"table.field\".");
    let _ = writeln!(t, "secret_fields = []\n");
}

/// Regenerated fields, field edits, the records to write or leave out, existing records and
/// reset fields.
fn write_edits_and_selection(t: &mut String, seen: &Seen<'_>) {
    let _ = writeln!(
        t,
        "# Columns whose values get new deterministic values, consistently across the input."
    );
    let _ = writeln!(
        t,
        "# (derive already gives a ServiceNow client/provider pair one new shared client_id and"
    );
    let _ = writeln!(
        t,
        "# keeps a third-party provider's own: \"oauth_entity.client_id\" here would change that too.)"
    );
    let _ = writeln!(t, "regenerate_fields = []\n");
    let _ = writeln!(
        t,
        "# Field edits: \"table.field=VALUE\" sets; \"table.field:OLD=NEW\" replaces whole words"
    );
    let _ = writeln!(
        t,
        "# (replace_substring: any occurrence). A selector picks records: \"table[field=value].field\""
    );
    let _ = writeln!(
        t,
        "# or \"table[sys_id].field\", e.g. \"sn_se_instance[name=Development].environment=production\"."
    );
    let _ = writeln!(t, "set = []");
    let _ = writeln!(t, "replace = []");
    let _ = writeln!(t, "replace_substring = []\n");
    let _ = writeln!(
        t,
        "# Records to write (only) or leave out (exclude), as selectors: \"table\", \"table[sys_id]\","
    );
    let _ = writeln!(t, "# \"table[field=value]\". The input's records:");
    for (table, names) in &seen.records {
        let shown: Vec<String> = names.iter().take(6).map(|n| format!("{n:?}")).collect();
        let more = names.len().saturating_sub(6);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(t, "#   {table}: {}{more}", shown.join(", "));
    }
    let _ = writeln!(t, "only = []");
    let _ = writeln!(t, "exclude = []\n");
    let _ = writeln!(
        t,
        "# Records that already exist on the target, \"table:name-or-sys_id\": references to them are"
    );
    let _ = writeln!(
        t,
        "# expected, and derive never gives them new ids (e.g. \"sys_auth_profile_oauth2:Integration Account\")."
    );
    let _ = writeln!(t, "existing = []");
    let _ = writeln!(
        t,
        "# More state columns a derived twin starts empty, \"table.field\" (besides connection status,"
    );
    let _ = writeln!(t, "# validated flags and dates, tokens).");
    let _ = writeln!(t, "reset_fields = []\n");
}

/// The host map (commented out), labels and the id map.
fn write_hosts_labels_map(t: &mut String, target: &Instance, seen: &Seen<'_>, sources: &[&str]) {
    let _ = writeln!(
        t,
        "# The host map (move and derive): each instance named in the input to its own target."
    );
    let _ = writeln!(t, "# Uncomment and edit; nothing moves until you do.");
    let _ = writeln!(t, "[hosts]");
    if sources.is_empty() {
        let _ = writeln!(
            t,
            "#   (no instance other than the target is named in the input)"
        );
    }
    for h in sources {
        let (n, fields) = &seen.hosts[h];
        let mut fields = fields.clone();
        fields.sort_unstable();
        fields.dedup();
        let _ = writeln!(t, "#   {h}: {n} occurrence(s) in {}", fields.join(", "));
        let to = match sources.len() {
            1 => target.host().to_string(),
            _ => format!("<instance for {}>", h.split('.').next().unwrap_or(h)),
        };
        let _ = writeln!(t, "# {} = {}", quote(h), quote(&to));
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "# Whole-word renames in the display fields (name, sys_name, label, title) of the records"
    );
    let _ = writeln!(
        t,
        "# the input defines (move and derive): \"Dev\" = \"Prod\" makes \"OAuth Client Dev\" \"OAuth Client"
    );
    let _ = writeln!(t, "# Prod\" and leaves \"Development\" alone.");
    let _ = writeln!(t, "[labels]\n");
    let _ = writeln!(
        t,
        "# sys_ids to re-point at records that already exist on the target: \"old\" = \"new\"."
    );
    let _ = writeln!(t, "[map]");
}
