//! What a fork did: the `--report` JSON and the one-line summary.

use std::fmt;

use serde::Serialize;

use crate::apply::ApplyReport;

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// Before.
    pub old: String,
    /// After.
    pub new: String,
}

impl Change {
    pub(crate) fn of(old: &str, new: &str) -> Change {
        Change {
            old: old.to_string(),
            new: new.to_string(),
        }
    }
}

/// What happened to a file that is not an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherAction {
    /// `sn_source_control.properties`: its `path=` follows the renamed folder.
    Rewritten,
    /// Copied byte for byte (under its renamed folder, if any).
    Copied,
    /// Not written (`checksum.txt`).
    Dropped,
}

/// A file that is not an export of the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OtherFile {
    /// Its path in the input.
    pub input: String,
    /// Its path in the output (`null` when dropped).
    pub output: Option<String>,
    /// What was done.
    pub action: OtherAction,
    /// Why.
    pub why: String,
}

/// The counts of the one-line summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Files written.
    pub files: usize,
    /// Records read (payloads included).
    pub records: usize,
    /// sys_ids changed.
    pub ids: usize,
    /// Namespace occurrences renamed in the files' contents.
    pub namespace: usize,
    /// Files whose path changed.
    pub renamed: usize,
}

/// The report of a fork (`--report FILE.json`): the application before and after, the
/// summary, the files that are not exports, and everything `apply`'s report holds
/// (`files[].input`/`output`, `id_map`, `totals`, `secrets`, `findings`...). Secret values never
/// appear in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ForkReport {
    /// The scope's namespace.
    pub namespace: Change,
    /// The application's sys_id.
    pub app_sys_id: Change,
    /// Its display name (the same before and after without `--name`).
    pub name: Change,
    /// The counts.
    pub summary: Summary,
    /// Files that are not exports (`sn_source_control.properties`, `checksum.txt`, others).
    pub other_files: Vec<OtherFile>,
    /// Entries left out of the input (names starting with `.`, symbolic links).
    pub skipped: Vec<String>,
    /// Things worth a look (copied files that name the old namespace or ids...).
    pub warnings: Vec<String>,
    /// The rewrite of the exports.
    #[serde(flatten)]
    pub apply: ApplyReport,
}

impl fmt::Display for ForkReport {
    /// The one-line summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        write!(
            f,
            "{} -> {} (application {} -> {}): {} file(s), {} record(s), {} id(s) regenerated, {} namespace occurrence(s) renamed, {} file(s) renamed",
            self.namespace.old,
            self.namespace.new,
            self.app_sys_id.old,
            self.app_sys_id.new,
            s.files,
            s.records,
            s.ids,
            s.namespace,
            s.renamed
        )?;
        if self.name.old != self.name.new {
            write!(f, ", named {:?} (was {:?})", self.name.new, self.name.old)?;
        }
        for o in &self.other_files {
            if o.action == OtherAction::Dropped {
                write!(f, "; {} dropped: {}", o.input, o.why)?;
            }
        }
        Ok(())
    }
}
