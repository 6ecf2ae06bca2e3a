//! Records to applications: which scoped applications the input holds, and what they define.
//!
//! In: the records of each file ([`AppFinder::record`], any depth). Out, once every file is
//! read ([`merge`]): one [`AppEntry`] per application scope (not `global`) that records belong
//! to or that a `sys_app` record defines: its namespace, sys_id, display name, the tables it
//! defines (`sys_db_object` records, `<database>` dictionary files) and how many records are
//! its. A record belongs to the scope of its `sys_scope` (or `sys_package`) reference; an
//! update set's rows to their `application`.
//!
//! ```
//! use sn_retarget::analyze::apps::{merge, AppFinder};
//! use sn_retarget::model::read;
//! let app = br#"<record_update table="sys_app"><sys_app action="INSERT_OR_UPDATE"><name>NeedIt</name><scope>x_1_needit</scope><sys_id>6ead8e780f603200cd674f8ce1050ed1</sys_id></sys_app></record_update>"#;
//! let table = br#"<database><element label="NeedIt" name="x_1_needit_needit" type="collection"/></database>"#;
//! let facts: Vec<_> = [&app[..], &table[..]]
//!     .iter()
//!     .map(|bytes| {
//!         let mut finder = AppFinder::default();
//!         read(bytes, &mut finder).unwrap();
//!         finder.finish()
//!     })
//!     .collect();
//! let apps = merge(&facts);
//! assert_eq!(apps.len(), 1);
//! assert_eq!(apps[0].namespace.as_deref(), Some("x_1_needit"));
//! assert_eq!(apps[0].name.as_deref(), Some("NeedIt"));
//! assert_eq!(apps[0].tables, ["x_1_needit_needit"]);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::refs::is_sys_id;
use crate::model::{Record, Visitor};

/// An application scope of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppEntry {
    /// Its namespace (`x_58872_needit`), when the input says.
    pub namespace: Option<String>,
    /// Its sys_id (the `sys_app` record's, which is also the scope's), when the input says.
    pub sys_id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// The tables it defines, sorted.
    pub tables: Vec<String>,
    /// Records of the input that belong to it (its own record included).
    pub records: usize,
    /// `true` when the input holds its `sys_app` (`sys_store_app`, `sys_scope`) record.
    pub defined: bool,
}

/// What one file says about applications.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppFacts {
    rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Row {
    /// A record defining an application scope (`sys_app`...).
    Defines {
        record: usize,
        id: String,
        namespace: Option<String>,
        name: Option<String>,
    },
    /// A record belonging to a scope.
    Member {
        record: usize,
        id: String,
        namespace: Option<String>,
        name: Option<String>,
    },
    /// A table definition, with the scope of its record when written.
    Table {
        record: usize,
        name: String,
        scope: Option<String>,
    },
}

impl Row {
    fn record(&self) -> usize {
        match self {
            Row::Defines { record, .. }
            | Row::Member { record, .. }
            | Row::Table { record, .. } => *record,
        }
    }
}

/// Tables whose records define an application scope.
pub const APP_TABLES: &[&str] = &["sys_app", "sys_store_app", "sys_scope"];

/// Reads the application facts of one file's records.
#[derive(Debug, Default)]
pub struct AppFinder {
    facts: AppFacts,
}

fn text(r: &Record<'_>, name: &str) -> Option<String> {
    r.value(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl AppFinder {
    /// Looks at one record.
    pub fn record(&mut self, r: &Record<'_>) {
        let rows = &mut self.facts.rows;
        let record = r.index;
        let deletion = r
            .action
            .is_some_and(|a| a.eq_ignore_ascii_case("delete") || a == "delete_multiple");
        if deletion {
            return;
        }
        if APP_TABLES.contains(&r.table) {
            if let Some(id) = r.sys_id().filter(|id| is_sys_id(id)) {
                rows.push(Row::Defines {
                    record,
                    id: id.to_string(),
                    namespace: text(r, "scope"),
                    name: text(r, "name"),
                });
                return;
            }
        }
        if r.table == "sys_db_object" {
            if let Some(name) = text(r, "name") {
                rows.push(Row::Table {
                    record,
                    name,
                    scope: text(r, "sys_scope").filter(|s| is_sys_id(s)),
                });
            }
        }
        // The scope the record belongs to: `sys_scope`, else `sys_package` (with `source=`),
        // else for update sets their `application`.
        let mut member: Option<(String, Option<String>, Option<String>)> = None;
        for field in ["sys_scope", "sys_package", "application"] {
            if field == "application"
                && !matches!(
                    r.table,
                    "sys_remote_update_set" | "sys_update_xml" | "sys_update_version"
                )
            {
                continue;
            }
            let Some(f) = r.field(field) else { continue };
            let id = r.text(f).trim().to_string();
            if !is_sys_id(&id) {
                continue; // `global`, or empty
            }
            let attr = |a: &str| {
                r.field_attr(f, a)
                    .map(|a| a.value().trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let namespace = match field {
                "application" => text(r, "application_scope"),
                _ => attr("source"),
            };
            let name = attr("display_value").or_else(|| match field {
                "application" => text(r, "application_name"),
                _ => None,
            });
            match &mut member {
                None => member = Some((id, namespace, name)),
                Some((mid, mns, mname)) if *mid == id => {
                    mns.get_or_insert_with(|| namespace.unwrap_or_default());
                    mname.get_or_insert_with(|| name.unwrap_or_default());
                }
                Some(_) => {}
            }
        }
        if let Some((id, namespace, name)) = member {
            rows.push(Row::Member {
                record,
                id,
                namespace: namespace.filter(|n| !n.is_empty()),
                name: name.filter(|n| !n.is_empty()),
            });
        }
    }

    /// Forgets the records from `first_index` on (a malformed payload).
    pub fn discard_from(&mut self, first_index: usize) {
        self.facts.rows.retain(|r| r.record() < first_index);
    }

    /// What the file said.
    pub fn finish(self) -> AppFacts {
        self.facts
    }
}

impl Visitor for AppFinder {
    fn record(&mut self, r: &Record<'_>) {
        AppFinder::record(self, r);
    }

    fn discard_from(&mut self, first_index: usize) {
        AppFinder::discard_from(self, first_index);
    }
}

/// One application as [`merge`] gathers it.
#[derive(Default)]
struct Acc {
    namespace: Option<String>,
    name: Option<String>,
    defined: bool,
    records: usize,
    tables: BTreeSet<String>,
}

impl Acc {
    /// The application's own record: it says best.
    fn defines(&mut self, namespace: &Option<String>, name: &Option<String>) {
        if namespace.is_some() {
            self.namespace.clone_from(namespace);
        }
        if name.is_some() {
            self.name.clone_from(name);
        }
        self.defined = true;
        self.records += 1;
    }

    /// A record of the application: its namespace and name where none is known yet.
    fn member(&mut self, namespace: &Option<String>, name: &Option<String>) {
        if self.namespace.is_none() {
            self.namespace.clone_from(namespace);
        }
        if self.name.is_none() {
            self.name.clone_from(name);
        }
        self.records += 1;
    }
}

/// The applications of every file's facts, sorted by namespace then sys_id. A table
/// definition without a scope goes to the application whose namespace starts its name.
pub fn merge<'a>(files: impl IntoIterator<Item = &'a AppFacts>) -> Vec<AppEntry> {
    let mut by_id: BTreeMap<String, Acc> = BTreeMap::new();
    let mut loose_tables = Vec::new();
    for facts in files {
        for row in &facts.rows {
            match row {
                Row::Defines {
                    id,
                    namespace,
                    name,
                    ..
                } => by_id.entry(id.clone()).or_default().defines(namespace, name),
                Row::Member {
                    id,
                    namespace,
                    name,
                    ..
                } => by_id.entry(id.clone()).or_default().member(namespace, name),
                Row::Table { name, scope, .. } => match scope {
                    Some(id) => {
                        by_id
                            .entry(id.clone())
                            .or_default()
                            .tables
                            .insert(name.clone());
                    }
                    None => loose_tables.push(name.clone()),
                },
            }
        }
    }
    for t in loose_tables {
        let owner = by_id.values_mut().find(|a| {
            a.namespace.as_deref().is_some_and(|ns| {
                t.len() > ns.len() && t.starts_with(ns) && t.as_bytes()[ns.len()] == b'_'
            })
        });
        if let Some(a) = owner {
            a.tables.insert(t);
        }
    }
    let mut apps: Vec<AppEntry> = by_id
        .into_iter()
        .filter(|(_, a)| a.defined || a.records > 0)
        .map(|(id, a)| AppEntry {
            namespace: a.namespace,
            sys_id: Some(id),
            name: a.name,
            tables: a.tables.into_iter().collect(),
            records: a.records,
            defined: a.defined,
        })
        .collect();
    apps.sort_by(|a, b| (&a.namespace, &a.sys_id).cmp(&(&b.namespace, &b.sys_id)));
    apps
}
