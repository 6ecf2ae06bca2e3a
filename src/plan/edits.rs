//! Field edits a plan names (`--set`, `--replace`), and the `table.field` columns they and
//! other settings point at.

use super::PlanError;
use crate::model::{RecordValues, Selector};

/// `true` when `text` holds a control character XML cannot hold at all, raw or as a reference
/// (see [`crate::scan::first_control`]): a value written with one would make the output
/// unreadable.
pub(super) fn has_control(text: &str) -> bool {
    crate::scan::first_control(text.as_bytes()).is_some()
}

/// A `table.field` column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Column {
    /// Table name.
    pub table: String,
    /// Field name.
    pub field: String,
}

impl Column {
    /// Parses `table.field`.
    pub fn parse(s: &str) -> Result<Column, PlanError> {
        let (t, f) = s
            .trim()
            .split_once('.')
            .ok_or_else(|| PlanError::BadColumn(s.to_string()))?;
        let ok = |x: &str| {
            !x.is_empty()
                && x.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !ok(t) || !ok(f) {
            return Err(PlanError::BadColumn(s.to_string()));
        }
        Ok(Column {
            table: t.to_string(),
            field: f.to_string(),
        })
    }
}

/// `table.field=VALUE` (or `table[...].field=VALUE`): set the field on every record of the
/// table (that the selector picks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSet {
    /// Where.
    pub column: Column,
    /// Which records of the table (none: all).
    pub select: Option<Selector>,
    /// The new text.
    pub value: String,
}

/// `table.field:OLD=NEW`: replace `OLD` inside the field's text with `NEW` (whole words, or
/// every occurrence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReplace {
    /// Where.
    pub column: Column,
    /// Which records of the table (none: all).
    pub select: Option<Selector>,
    /// Text to find (non-empty).
    pub old: String,
    /// Its replacement.
    pub new: String,
    /// Whole words only (`--replace`), or any occurrence (`--replace-substring`).
    pub whole_words: bool,
}

/// `true` when an edit of `column` for the records `select` picks applies to `field` of
/// `record`.
fn edit_applies(
    column: &Column,
    select: Option<&Selector>,
    record: &dyn RecordValues,
    field: &str,
) -> bool {
    column.table == record.table()
        && column.field == field
        && select.is_none_or(|s| s.selects(record))
}

impl FieldSet {
    /// `true` when the edit applies to field `field` of `record` (of its table, and picked by
    /// the selector).
    pub fn applies(&self, record: &dyn RecordValues, field: &str) -> bool {
        edit_applies(&self.column, self.select.as_ref(), record, field)
    }
}

impl FieldReplace {
    /// `true` when the edit applies to field `field` of `record` (of its table, and picked by
    /// the selector).
    pub fn applies(&self, record: &dyn RecordValues, field: &str) -> bool {
        edit_applies(&self.column, self.select.as_ref(), record, field)
    }
}

/// `table.field` or `table[...].field`, then the rest (`=VALUE`, `:OLD=NEW`): the column, the
/// records it picks (none: all) and the rest. The bracket ends at the first `].` after it.
pub(super) fn selected_column(s: &str) -> Result<(Column, Option<Selector>, &str), PlanError> {
    let t = s.trim_start();
    let name_end = t.find(['[', '.']).unwrap_or(t.len());
    let after = match (t[name_end..].starts_with('['), t[name_end..].find("].")) {
        (true, Some(e)) => name_end + e + 1,
        (true, None) => t.len(), // no `].field`: the selector says what is wrong
        (false, _) => name_end,
    };
    let end = after + t[after..].find([':', '=']).unwrap_or(t.len() - after);
    let selector = Selector::parse_field(&t[..end]).map_err(|e| PlanError::BadSelector {
        what: "--set/--replace",
        source: e,
    })?;
    let column = Column {
        table: selector.table.clone(),
        field: selector.field.clone(),
    };
    let select = selector.filter.is_some().then_some(selector);
    Ok((column, select, &t[end..]))
}
