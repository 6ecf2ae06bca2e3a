//! What kind of export a file is, from its root element and top-level records.

use std::fmt;

use serde::Serialize;

/// The kind of export a document is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `<unload>` with a `sys_remote_update_set` and/or `sys_update_xml` rows.
    UpdateSet,
    /// `<unload>` with one record.
    RecordExport,
    /// `<unload>` with several records of one table.
    ListExport,
    /// `<unload>` with records of several tables (no update set).
    MixedExport,
    /// `<unload>` with no record.
    EmptyUnload,
    /// `<record_update>` root: a source-control file (or a payload document).
    SourceControl,
    /// `<database>` root: a source-control dictionary file.
    Dictionary,
    /// `<update_set><record>` root written by scripts, not by ServiceNow.
    ScriptedUpdateSet,
    /// Any other root element (its name is kept); its children are read as records.
    Other(String),
}

impl Shape {
    pub(crate) fn classify(root: &str, records: usize, mixed: bool, update_set: bool) -> Shape {
        match root {
            "unload" if update_set => Shape::UpdateSet,
            "unload" if records == 0 => Shape::EmptyUnload,
            "unload" if records == 1 => Shape::RecordExport,
            "unload" if !mixed => Shape::ListExport,
            "unload" => Shape::MixedExport,
            "record_update" => Shape::SourceControl,
            "database" => Shape::Dictionary,
            "update_set" => Shape::ScriptedUpdateSet,
            other => Shape::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Shape::UpdateSet => "update set",
            Shape::RecordExport => "record export",
            Shape::ListExport => "list export",
            Shape::MixedExport => "mixed-table export",
            Shape::EmptyUnload => "empty unload",
            Shape::SourceControl => "source-control record_update",
            Shape::Dictionary => "source-control dictionary",
            Shape::ScriptedUpdateSet => "script-made update_set",
            Shape::Other(root) => return write!(f, "unknown root <{root}>"),
        };
        f.write_str(s)
    }
}
