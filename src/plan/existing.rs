//! Records that already exist on the target (`--existing table:name-or-sys_id`).
//!
//! In: the text a user wrote. Out: an [`Existing`], matched against a record of the input (its
//! table, sys_id and display name) and against references (their table, target and display
//! value): references to it are expected, `derive` never gives it a new id.

use super::compile::PlanError;

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A record that already exists on the target (`--existing table:name-or-sys_id`): references
/// to it are expected, and `derive` never gives it a new id.
///
/// ```
/// use sn_retarget::plan::Existing;
/// let e = Existing::parse("sys_auth_profile_oauth2:Integration Account").unwrap();
/// assert!(e.matches("sys_auth_profile_oauth2", Some("d4f6b8ca324e5a6b7c8d9e0f1a2b3c4e"), Some("Integration Account")));
/// assert!(!e.matches("oauth_entity", None, Some("Integration Account")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// The table.
    pub table: String,
    /// Its display name or its sys_id.
    pub key: String,
}

impl Existing {
    /// Parses `table:name-or-sys_id`.
    pub fn parse(text: &str) -> Result<Existing, PlanError> {
        let bad = || PlanError::BadEdit {
            what: "--existing",
            value: text.to_string(),
            expected: "table:name or table:sys_id",
        };
        let (table, key) = text.split_once(':').ok_or_else(bad)?;
        let (table, key) = (table.trim(), key.trim());
        if !is_name(table) || key.is_empty() {
            return Err(bad());
        }
        Ok(Existing {
            table: table.to_string(),
            key: key.to_string(),
        })
    }

    /// `true` for the record of `table` with this sys_id or display name.
    pub fn matches(&self, table: &str, sys_id: Option<&str>, name: Option<&str>) -> bool {
        table == self.table
            && (sys_id == Some(self.key.as_str()) || name.map(str::trim) == Some(&self.key))
    }

    /// `true` when a reference (to a record of `table` when the referring field says, with
    /// `target` and `display`) points at this record.
    pub fn is_referred(&self, table: Option<&str>, target: &str, display: Option<&str>) -> bool {
        table.is_none_or(|t| t == self.table)
            && (target == self.key || display.map(str::trim) == Some(&self.key))
    }
}

impl std::fmt::Display for Existing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.table, self.key)
    }
}
