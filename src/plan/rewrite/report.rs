//! What a rewrite tells: the report's entries, the secrets replaced, and why one stopped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Position, ReadError};
use crate::plan::records::{ClientIdChange, LeftOut, RecordNote};
use crate::plan::tokens::ChangeKind;
use crate::scan::Span;
use crate::splice::Edits;

/// One change, for the report. Secret values never appear: `old` then reads `(secret)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EditEntry {
    /// Table of the record changed.
    pub table: String,
    /// Its sys_id (before the rewrite).
    pub sys_id: Option<String>,
    /// The field (`@name` for an attribute of the record element, `field@name` for an
    /// attribute of a field).
    pub field: String,
    /// Where the record sits: `table[sys_id]`, with `> payload >` steps for payloads.
    pub path: String,
    /// Bytes before (as text).
    pub old: String,
    /// Bytes after (as text).
    pub new: String,
    /// Why.
    pub rule: ChangeKind,
    /// The bytes replaced, as offsets in the input file.
    pub at: Span,
}

/// A secret replaced or emptied: what the admin must re-enter on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SecretNote {
    /// Table of the record.
    pub table: String,
    /// Its sys_id after the rewrite.
    pub sys_id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// The field.
    pub field: String,
    /// Inside the field's value, where the secret was: the keys of a JSON value
    /// (`auth > password`) or a query parameter (`?client_secret`); `None` for the whole value.
    pub key: Option<String>,
    /// 0 = top level, 1 = inside a payload...
    pub depth: usize,
    /// What now stands in the field (the placeholder, or empty).
    pub placeholder: String,
}

/// An edit refused because the field holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{option} {column}: the field holds a secret ({why}) in {table} {record} at {position}; secrets are replaced by placeholders (re-enter them on the target after import), so it cannot be edited (or use --secrets keep)"
)]
#[non_exhaustive]
pub struct SecretEdit {
    /// `--set`, `--replace` or `--regenerate-field`.
    pub option: &'static str,
    /// The column.
    pub column: String,
    /// Why it is a secret.
    pub why: &'static str,
    /// The record's table.
    pub table: String,
    /// The record (display name or sys_id).
    pub record: String,
    /// Where.
    pub position: Position,
}

/// A value that looks like a secret (by its column's or property's name) that no rule covers:
/// the rewrite stops until the plan says whether it is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LooksSecret {
    /// Table of the record.
    pub table: String,
    /// Its sys_id.
    pub sys_id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// The field.
    pub field: String,
    /// Where the value is in the file.
    pub position: Position,
    /// What to add to the plan to say it is a secret (`secret_fields`) or not (`not_secret`).
    pub selector: String,
}

/// The edits of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rewritten {
    /// The edits, sorted and checked: the output is the input with these made
    /// ([`Edits::apply_to_vec`], [`Edits::apply`]).
    pub edits: Edits,
    /// Edits per rule.
    pub counts: BTreeMap<ChangeKind, usize>,
    /// Every edit (only when details were asked for).
    pub entries: Vec<EditEntry>,
    /// Secrets replaced, in document order.
    pub secrets: Vec<SecretNote>,
    /// Things worth a look (e.g. a `--set` field absent from records).
    pub warnings: Vec<String>,
    /// `oauth_entity.client_id` values changed, in document order.
    pub client_ids: Vec<ClientIdChange>,
    /// Top-level records left out by `--only` / `--exclude`, in document order.
    pub left_out: Vec<LeftOut>,
    /// `true` when every top-level record was left out: the file has no output.
    pub dropped: bool,
    /// Every record as the output describes it (only when details were asked for).
    pub records: Vec<RecordNote>,
}

/// Why a file could not be rewritten.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RewriteError {
    /// The input is not well-formed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Ciphertext would be left in the output (fail closed).
    #[error(
        "ciphertext left in the output, at {position} of the input (no rule covers it; add --secret-field or use --secrets keep)"
    )]
    SecretLeft {
        /// Where in the input.
        position: Position,
    },
    /// Values look like secrets (by their names) and no rule says whether they are.
    #[error("{} value(s) look like secrets but no rule covers them: {}", .0.len(), looks_list(.0))]
    LooksSecret(Vec<LooksSecret>),
    /// A payload whose records are not read (not well-formed, or nested too deep) holds a
    /// secret: it cannot be replaced there, and would be left in the output.
    #[error(
        "the payload at {position} is not read (it is not well-formed, or nested too deep) and holds a secret in {table}.{field} ({}): it cannot be replaced there; fix or re-export that update, leave its record out (--exclude), or use --secrets keep",
        .reason.describe()
    )]
    SecretInUnreadPayload {
        /// Where the payload starts in the file.
        position: Position,
        /// The record element the secret sits in, as the payload's text names it.
        table: String,
        /// The element holding the secret.
        field: String,
        /// Why it is a secret.
        reason: crate::analyze::SecretReason,
    },
    /// `--set`, `--replace` or `--regenerate-field` would write into a secret.
    #[error("{0}")]
    EditOnSecret(Box<SecretEdit>),
    /// The computed edits overlap (a bug; nothing is written).
    #[error("internal error: {0}")]
    Splice(#[from] crate::splice::SpliceError),
    /// A namespace renamed in markup lies across another edit (a bug; nothing is written).
    #[error("internal error: the namespace at bytes {start}..{end} straddles another edit")]
    NamespaceStraddles {
        /// Where the namespace starts in the file.
        start: usize,
        /// Where it ends.
        end: usize,
    },
}

/// The values that look secret, for a message: `file position: table.field (record)`.
pub(super) fn looks_list(list: &[LooksSecret]) -> String {
    let mut selectors: Vec<&str> = Vec::new();
    for l in list {
        if !selectors.contains(&l.selector.as_str()) {
            selectors.push(&l.selector);
        }
    }
    let first = &list[0];
    let more = match selectors.len() {
        1 => String::new(),
        n => format!(" and {} other field(s)", n - 1),
    };
    format!(
        "{} at {}{more}; declare each in the plan: `secret_fields` (or --secret-field) if it is a secret, else `not_secret` with a reason (or --not-secret)",
        first.selector, first.position
    )
}
