//! What the output is for, and the tables of data the intent works from.
//!
//! In: the plan's `intent` (or none) and what else it asks for. Out: the [`Intent`] in force
//! and the tables of fields it acts on, each a row of data that code walks, tests iterate and
//! the README prints: [`STATE_FIELDS`] (state that describes the original, reset on a derived
//! twin), [`LABEL_FIELDS`] (display fields `--label` renames) and [`BARE_NAME_FIELDS`] (fields
//! whose whole value may be an instance's bare name).

use serde::{Deserialize, Serialize};

/// What the output is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// The records go to the target as they are and keep describing what they describe: URLs
    /// and ids kept, secrets out (seed 000 stages 3 and 8).
    Copy,
    /// The records now describe the target: the host map applies (seeds 001/004, 002, 003).
    Move,
    /// A new twin beside the original (seed 000 stage 6): new ids, labels renamed, one new
    /// client_id per ServiceNow-to-ServiceNow pair, the host map, the original's state reset.
    Derive,
}

impl std::fmt::Display for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Intent::Copy => "copy",
            Intent::Move => "move",
            Intent::Derive => "derive",
        })
    }
}

/// Which tables a row applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    /// One table.
    Is(&'static str),
    /// Instance-connection records: My SN Instances (`sn_se_instance`) and the like
    /// (`sn_*_instance`).
    InstanceRecords,
}

impl Tables {
    /// `true` when `table` is one of them.
    pub fn contains(self, table: &str) -> bool {
        match self {
            Tables::Is(t) => t == table,
            Tables::InstanceRecords => crate::check::rules::is_instance_record(table),
        }
    }
}

impl std::fmt::Display for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tables::Is(t) => f.write_str(t),
            Tables::InstanceRecords => f.write_str("sn_*_instance (My SN Instances)"),
        }
    }
}

/// A field that describes the original record's state, and what a derived twin starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateField {
    /// The tables it is found on.
    pub tables: Tables,
    /// The column.
    pub field: &'static str,
    /// The value a new record has (empty: none yet).
    pub reset: &'static str,
    /// What it records.
    pub what: &'static str,
}

/// State a derived twin must not inherit: the original's connection checks, validations and
/// tokens. `--reset-field table.field` adds a row (reset to empty).
pub const STATE_FIELDS: &[StateField] = &[
    StateField {
        tables: Tables::InstanceRecords,
        field: "connection_status",
        reset: "",
        what: "the result of the original's last Validate Connection",
    },
    StateField {
        tables: Tables::InstanceRecords,
        field: "validated",
        reset: "false",
        what: "whether the original's connection was validated",
    },
    StateField {
        tables: Tables::InstanceRecords,
        field: "last_validated",
        reset: "",
        what: "when the original was last validated",
    },
    StateField {
        tables: Tables::InstanceRecords,
        field: "validated_on",
        reset: "",
        what: "when the original was validated",
    },
    StateField {
        tables: Tables::InstanceRecords,
        field: "last_connection_check",
        reset: "",
        what: "when the original's connection was last checked",
    },
    StateField {
        tables: Tables::InstanceRecords,
        field: "last_sync",
        reset: "",
        what: "when the original last synchronised definitions",
    },
    StateField {
        tables: Tables::Is("oauth_credential"),
        field: "token",
        reset: "",
        what: "a token the original was issued",
    },
    StateField {
        tables: Tables::Is("oauth_credential"),
        field: "refresh_token",
        reset: "",
        what: "a refresh token the original was issued",
    },
    StateField {
        tables: Tables::Is("oauth_credential"),
        field: "expires",
        reset: "",
        what: "when the original's token expires",
    },
];

/// The display fields `--label` renames, in the records the input defines.
pub const LABEL_FIELDS: &[&str] = &["name", "sys_name", "label", "title", "display_name"];

/// Fields whose whole value, when it is a source instance's bare name (`dev12345`), becomes the
/// target's (`move` and `derive`).
pub const BARE_NAME_FIELDS: &[&str] = &["instance_name", "instance", "sys_name", "name"];

/// Tables whose `name`-like fields are keys (update names, table and column names), never
/// labels: `--label` leaves them alone.
pub const KEYED_NAMES: &[&str] = &[
    "sys_update_xml",
    "sys_update_version",
    "sys_metadata_delete",
    "sys_remote_update_set",
    "sys_update_set",
];
