//! What the hand-off knows of a bundle: its files in import order, the records that call for
//! a step (as the outputs hold them: new ids, new names), the secrets replaced in them, the
//! intent and the target.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::apply::{ApplyReport, FileSecret};
use crate::error::Error;
use crate::model::{Record, Visitor, read};
use crate::plan::{Instance, Intent};

use super::steps::table_matches;

/// One output file, in import order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffFile {
    /// Its name in the bundle (or its path, for `apply`).
    pub name: String,
    /// The input it came from, as shown (`3 input file(s)` for a combined file).
    pub input: String,
    /// The inputs it holds (as the report names them).
    pub inputs: Vec<String>,
}

impl HandoffFile {
    /// The output `name` of one input.
    pub fn of(name: &str, input: &str) -> HandoffFile {
        HandoffFile {
            name: name.to_string(),
            input: input.to_string(),
            inputs: vec![input.to_string()],
        }
    }
}

/// A record's application scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    /// Its namespace (`sn_se`, `x_acme_app`, `global`), when the record says it.
    pub namespace: Option<String>,
    /// Its display name (`Scan Engine`), or the namespace.
    pub name: String,
}

impl Scope {
    /// `true` for the global scope.
    pub fn is_global(&self) -> bool {
        self.namespace.as_deref() == Some("global") || self.name.eq_ignore_ascii_case("global")
    }
}

/// A secret replaced in a record: the field to retype (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retype {
    /// The field.
    pub field: String,
    /// Where inside the value (a JSON key path or a query parameter), when not the whole.
    pub key: Option<String>,
    /// What stands in the field now (the placeholder, or empty).
    pub placeholder: String,
}

/// A record that calls for a step, as the output holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFacts {
    /// Index of its file in [`Situation::files`].
    pub file: usize,
    /// Table.
    pub table: String,
    /// sys_id in the output.
    pub sys_id: Option<String>,
    /// Display name in the output.
    pub name: Option<String>,
    /// 0 = in the file, 1 = inside an update-set payload...
    pub depth: usize,
    /// Its application scope, when it says.
    pub scope: Option<Scope>,
    /// The values the steps print (`url`, `redirect_url`, `token_url`, `client_id`, `type`,
    /// `oauth_entity`, `oauth_entity_scope`).
    pub values: BTreeMap<&'static str, String>,
    /// Secrets replaced in it, in the report's order.
    pub secrets: Vec<Retype>,
}

impl RecordFacts {
    /// A value the steps print (empty when absent).
    pub fn get(&self, field: &str) -> &str {
        self.values.get(field).map_or("", |v| v.trim())
    }
}

/// Everything the checklist is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// What the bundle is for.
    pub intent: Intent,
    /// The target's host, when known.
    pub target: Option<String>,
    /// Records said to exist on the target (`table:name-or-sys_id`).
    pub existing: Vec<String>,
    /// The files, in import order.
    pub files: Vec<HandoffFile>,
    /// The records that matter, in import order.
    pub records: Vec<RecordFacts>,
    /// Encrypted values kept as they are (`--secrets keep`).
    pub kept_secrets: usize,
}

/// The values kept of a record.
const VALUES: &[&str] = &[
    "url",
    "redirect_url",
    "token_url",
    "client_id",
    "type",
    "oauth_entity",
    "oauth_entity_scope",
];

/// The tables whose records may call for a step even without a secret.
const TABLES: &[&str] = &[
    "oauth_entity",
    "oauth_entity_scope",
    "sys_auth_profile_oauth2",
    "sn_*_instance",
];

impl Situation {
    /// The situation of `report`'s outputs: `outputs` are `(file, bytes)` in import order (a
    /// file passed empty is not read: see [`worth_reading`]); `kept_secrets` counts encrypted
    /// values a `--secrets keep` run left in them.
    ///
    /// ```
    /// use sn_retarget::apply::Apply;
    /// use sn_retarget::handoff::{HandoffFile, Situation};
    /// use sn_retarget::plan::Plan;
    /// let xml = br#"<unload><oauth_entity action="INSERT_OR_UPDATE"><name>P</name><client_secret>)pR#c2VjcmV0c2VjcmV0</client_secret><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity></unload>"#;
    /// let plan = Plan { target: Some("prod1".into()), ..Plan::default() };
    /// let applied = Apply::new(plan).run(&[("a.xml", &xml[..])]).unwrap();
    /// let file = HandoffFile::of("01_a.xml", "a.xml");
    /// let s = Situation::read(&applied.report, &[(file, &applied.outputs[0].bytes[..])], 0).unwrap();
    /// assert_eq!(s.records[0].secrets[0].field, "client_secret");
    /// ```
    pub fn read(
        report: &ApplyReport,
        outputs: &[(HandoffFile, &[u8])],
        kept_secrets: usize,
    ) -> Result<Situation, Error> {
        let target = report.target.clone().or_else(|| {
            report
                .plan
                .target
                .as_deref()
                .and_then(|t| Instance::parse(t).ok())
                .map(|i| i.host().to_string())
        });
        let mut by_input: FxHashMap<&str, Vec<&FileSecret>> = FxHashMap::default();
        for s in &report.secrets {
            by_input.entry(s.file.as_str()).or_default().push(s);
        }
        // Each file read on its own (in parallel), the records kept in import order.
        let per_file: Vec<Result<Vec<RecordFacts>, Error>> = outputs
            .par_iter()
            .enumerate()
            .map(|(k, (file, bytes))| {
                let secrets: BTreeSet<(&str, &str)> = file
                    .inputs
                    .iter()
                    .flat_map(|i| by_input.get(i.as_str()).into_iter().flatten())
                    .map(|s| {
                        (
                            s.note.table.as_str(),
                            s.note.sys_id.as_deref().unwrap_or(""),
                        )
                    })
                    .collect();
                // A file left empty holds nothing a step is about (see [`worth_reading`]).
                if bytes.is_empty() {
                    return Ok(Vec::new());
                }
                let mut keep = Keep {
                    file: k,
                    secrets: &secrets,
                    out: Vec::new(),
                };
                read(bytes, &mut keep).map_err(|e| e.with_path(&file.name))?;
                keep.out.sort_by_key(|(index, _)| *index);
                Ok(keep.out.into_iter().map(|(_, r)| r).collect())
            })
            .collect();
        let mut records = Vec::new();
        for file in per_file {
            records.extend(file?);
        }
        let records = attach_secrets(report, outputs, records);
        Ok(Situation {
            intent: report.intent,
            target,
            existing: report.existing.clone(),
            files: outputs.iter().map(|(f, _)| f.clone()).collect(),
            records,
            kept_secrets,
        })
    }

    /// `true` when the application comes to the target for the first time: no record of the
    /// bundle is said to exist there, and the records are no twins of records there.
    pub fn new_to_target(&self) -> bool {
        self.intent != Intent::Derive && self.existing.is_empty()
    }
}

/// Each secret of the report on its record (a record the reader did not keep is added after
/// the records of its file).
fn attach_secrets(
    report: &ApplyReport,
    outputs: &[(HandoffFile, &[u8])],
    records: Vec<RecordFacts>,
) -> Vec<RecordFacts> {
    let mut records = records;
    let mut at: FxHashMap<(usize, String, String), usize> = FxHashMap::default();
    for (k, r) in records.iter().enumerate() {
        let id = r.sys_id.clone().unwrap_or_default();
        at.entry((r.file, r.table.clone(), id)).or_insert(k);
    }
    let mut file_of: FxHashMap<&str, usize> = FxHashMap::default();
    for (k, (f, _)) in outputs.iter().enumerate() {
        for i in &f.inputs {
            file_of.entry(i.as_str()).or_insert(k);
        }
    }
    for s in &report.secrets {
        let Some(&file) = file_of.get(s.file.as_str()) else {
            continue;
        };
        let n = &s.note;
        let key = (file, n.table.clone(), n.sys_id.clone().unwrap_or_default());
        let retype = Retype {
            field: n.field.clone(),
            key: n.key.clone(),
            placeholder: n.placeholder.clone(),
        };
        match at.get(&key) {
            Some(&k) => records[k].secrets.push(retype),
            None => {
                at.insert(key, records.len());
                records.push(RecordFacts {
                    file,
                    table: n.table.clone(),
                    sys_id: n.sys_id.clone(),
                    name: n.name.clone(),
                    depth: n.depth,
                    scope: None,
                    values: BTreeMap::new(),
                    secrets: vec![retype],
                });
            }
        }
    }
    // Stable: each file's records, then the ones added for it.
    records.sort_by_key(|r| r.file);
    records
}

/// Whether a file whose top-level records are of `tables` may hold a record a step is about
/// (a file holding payload records or a secret always may); a caller may pass the others to
/// [`Situation::read`] as empty, unread.
pub fn worth_reading<'t>(mut tables: impl Iterator<Item = &'t str>, payloads: bool) -> bool {
    payloads || tables.any(|t| table_matches(TABLES, t))
}

/// The reader's visitor: keeps the records that may call for a step.
struct Keep<'s> {
    file: usize,
    secrets: &'s BTreeSet<(&'s str, &'s str)>,
    out: Vec<(usize, RecordFacts)>,
}

impl Visitor for Keep<'_> {
    fn record(&mut self, r: &Record<'_>) {
        let id = r.sys_id().unwrap_or("");
        if !table_matches(TABLES, r.table) && !self.secrets.contains(&(r.table, id)) {
            return;
        }
        let values = VALUES
            .iter()
            .filter_map(|&f| r.value(f).map(|v| (f, v.into_owned())))
            .collect();
        let name = ["name", "sys_name"]
            .iter()
            .find_map(|f| r.value(f).filter(|v| !v.trim().is_empty()))
            .map(|v| v.trim().to_string());
        self.out.push((
            r.index,
            RecordFacts {
                file: self.file,
                table: r.table.to_string(),
                sys_id: r.sys_id().map(str::to_string),
                name,
                depth: r.place.depth,
                scope: scope_of(r),
                values,
                secrets: Vec::new(),
            },
        ));
    }

    fn discard_from(&mut self, first_index: usize) {
        self.out.retain(|(i, _)| *i < first_index);
    }
}

/// The record's scope: `sys_scope` (its display value, or `global`) and the namespace
/// `sys_package`'s `source` names.
fn scope_of(r: &Record<'_>) -> Option<Scope> {
    let scope = r.field("sys_scope")?;
    let text = r.text(scope);
    let shown = r.field_attr(scope, "display_value").map(|a| a.value());
    let namespace = r
        .field("sys_package")
        .and_then(|p| r.field_attr(p, "source"))
        .map(|a| a.value().trim().to_string())
        .filter(|n| !n.is_empty())
        .or_else(|| (text.trim() == "global").then(|| "global".to_string()));
    let name = shown
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| namespace.clone())
        .unwrap_or_else(|| text.trim().to_string());
    if name.is_empty() {
        return None;
    }
    Some(Scope { namespace, name })
}
