//! Records plus rules to edits: what to change for the target instance, and where.
//!
//! In: a [`Plan`] (built in code, deserialized from TOML, or from command-line flags) and the
//! records of every input. Out: for each file a sorted, non-overlapping list of edits (sys_ids,
//! instance URLs, scopes, secrets, field edits), each replacement escaped in the style of the
//! place it lands, and the report entries that say why.
//!
//! ```
//! use sn_retarget::plan::Plan;
//! let plan: Plan = toml::from_str(r#"
//!     target = "acme"
//!     sources = ["https://dev12345.service-now.com/"]
//!     sys_ids = "regenerate"
//!     set = ["oauth_entity.name=OAuth Provider Prod"]
//! "#).unwrap();
//! let rules = plan.compile().unwrap();
//! assert_eq!(rules.target.as_ref().unwrap().host(), "acme.service-now.com");
//! assert_eq!(rules.sources[0].host(), "dev12345.service-now.com");
//! ```

mod ciphertext;
mod compile;
mod edits;
internal_mod!(escape);
mod existing;
pub mod fit;
mod id_map;
internal_mod!(ids);
mod infer;
mod instance;
pub mod intent;
pub mod namespace;
mod records;
mod rename;
mod rewrite;
mod spelled;
internal_mod!(tokens);
internal_mod!(unread);
mod words;

pub use compile::{AppName, PlanError, Rules};
pub use edits::{Column, FieldReplace, FieldSet};
pub use existing::Existing;
pub use id_map::parse_id_map;
pub use ids::IdMap;
pub use infer::infer_plan;
pub use instance::Instance;
pub use intent::Intent;
pub use records::{ClientIdChange, Hits, LeftOut, RecordNote, Renames};
pub use rewrite::{
    EditEntry, LooksSecret, Pass, ResolvedIds, RewriteError, Rewriter, Rewritten, SecretEdit,
    SecretNote,
};
pub use tokens::ChangeKind;
pub use words::{replace_substrings, replace_words};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What to do with sys_ids.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdMode {
    /// Keep every sys_id (apart from the `map`).
    #[default]
    Keep,
    /// Give every record defined in the input a new, deterministic sys_id.
    Regenerate,
}

/// What to do with secret values (password2 and friends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretMode {
    /// Replace each with a placeholder naming table, field and record.
    #[default]
    Placeholder,
    /// Empty them.
    Blank,
    /// Leave them (they will not decrypt on another instance).
    Keep,
}

/// The default placeholder: no character in it needs escaping anywhere.
pub const DEFAULT_PLACEHOLDER: &str = "SN-RETARGET-SECRET({table}.{field}:{sys_id})";

/// Everything `apply` can do, as written by a user (TOML or flags). [`Plan::compile`] checks
/// it and turns it into [`Rules`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Plan {
    /// What the output is for: `copy`, `move` or `derive` ([`Intent`]). Absent: `move` when
    /// hosts are mapped, ids regenerated or labels renamed, else `copy`.
    pub intent: Option<Intent>,
    /// The instance the output will be imported into (`acme`, `acme.service-now.com` or
    /// `https://acme.service-now.com`).
    pub target: Option<String>,
    /// Instances whose URLs become the target's.
    pub sources: Vec<String>,
    /// The host map: each source instance to its own target (`OLD = NEW`, as instance names,
    /// hosts or URLs).
    pub hosts: BTreeMap<String, String>,
    /// Whole-word renames (`OLD = NEW`) in the display fields (name, sys_name, label, ...) of
    /// the records the input defines.
    pub labels: BTreeMap<String, String>,
    /// Keep or regenerate sys_ids.
    pub sys_ids: IdMode,
    /// Mixed into every generated value, so that two plans can give different ids.
    pub seed: String,
    /// sys_ids to re-point: old -> new (e.g. at records that already exist on the target).
    pub map: BTreeMap<String, String>,
    /// Records of natural-key tables get new ids too (normally they keep theirs).
    pub force_natural_keys: bool,
    /// `table.field` columns whose values get new deterministic values, consistently.
    pub regenerate_fields: Vec<String>,
    /// Scope renames: `OLD=NEW`, each a sys_id or a namespace.
    pub scopes: Vec<String>,
    /// Also rename a renamed namespace where it prefixes names in text (`x_old.api` ->
    /// `x_new.api`, `x_old_table` -> `x_new_table`).
    pub scope_prefix: bool,
    /// Placeholder, blank or keep.
    pub secrets: SecretMode,
    /// More secret fields: `table.field`, or `table[field=value].field` for some records
    /// (`sys_properties[name=x.api_key].value`).
    pub secret_fields: Vec<String>,
    /// Fields named like secrets that are not secrets, each with the reason (a value named like
    /// a secret that no rule covers stops the rewrite until it is declared one or the other).
    pub not_secret: Vec<NotSecretEntry>,
    /// The placeholder; `{table}`, `{field}`, `{sys_id}` and `{name}` are filled in.
    pub placeholder: String,
    /// Field values to set: `table.field=VALUE`.
    pub set: Vec<String>,
    /// Replacements of whole words inside field values: `table.field:OLD=NEW` (the table may
    /// carry a selector: `table[field=value].field:OLD=NEW`).
    pub replace: Vec<String>,
    /// Replacements of any occurrence, inside words too: `table.field:OLD=NEW`.
    pub replace_substring: Vec<String>,
    /// Records to write (selectors: `table`, `table[sys_id]`, `table[field=value]`); none: all.
    pub only: Vec<String>,
    /// Records to leave out (selectors).
    pub exclude: Vec<String>,
    /// Records that already exist on the target: `table:name-or-sys_id`.
    pub existing: Vec<String>,
    /// More state fields a derived twin starts empty: `table.field`.
    pub reset_fields: Vec<String>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            intent: None,
            target: None,
            sources: Vec::new(),
            hosts: BTreeMap::new(),
            labels: BTreeMap::new(),
            sys_ids: IdMode::Keep,
            seed: String::new(),
            map: BTreeMap::new(),
            force_natural_keys: false,
            regenerate_fields: Vec::new(),
            scopes: Vec::new(),
            scope_prefix: false,
            secrets: SecretMode::Placeholder,
            secret_fields: Vec::new(),
            not_secret: Vec::new(),
            placeholder: DEFAULT_PLACEHOLDER.to_string(),
            set: Vec::new(),
            replace: Vec::new(),
            replace_substring: Vec::new(),
            only: Vec::new(),
            exclude: Vec::new(),
            existing: Vec::new(),
            reset_fields: Vec::new(),
        }
    }
}

/// A field declared not secret although its name looks like one (plan key `not_secret`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotSecretEntry {
    /// Which field: `table.field` or `table[field=value].field`.
    pub field: String,
    /// Why it is not a secret (required).
    pub reason: String,
}

/// Tables matched by natural key on import (their sys_ids are not what import matches on), and
/// whose ids therefore stay unless forced.
pub const NATURAL_KEY_TABLES: &[&str] = &[
    "sys_properties",
    "sys_user_group",
    "sys_user_role",
    "sys_package",
    "sys_app",
    "sys_scope",
    "sys_store_app",
    "sys_db_object",
    "sys_dictionary",
    "sys_documentation",
    "sys_choice",
    "sys_choice_set",
    "sys_ui_list",
    "sys_ui_section",
];
