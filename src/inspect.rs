//! The inventory of a set of exports: what `sn-retarget inspect` shows.
//!
//! In: files (name and bytes), read one after another. Out: an [`Inventory`]: for each file its
//! shape, records (top level and inside payloads), references (resolved against every record of
//! the input), instance hosts, scopes and secret-bearing fields (never their values), as text
//! for people ([`std::fmt::Display`]) or JSON for tools (`serde`).
//!
//! ```
//! use sn_retarget::inspect::Inspector;
//! let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <unload unload_date="2024-01-01 00:00:00">
//! <oauth_entity action="INSERT_OR_UPDATE"><client_secret>)pR#c2VjcmV0c2VjcmV0</client_secret><name>OAuth Client Dev</name><redirect_url>https://dev1.service-now.com/oauth_redirect.do</redirect_url><sys_id>0123456789abcdef0123456789abcdef</sys_id></oauth_entity>
//! </unload>"#;
//! let mut inspector = Inspector::new();
//! inspector.add("dev.xml", xml).unwrap();
//! let inv = inspector.finish();
//! let file = &inv.files[0];
//! assert_eq!(file.records[0].name.as_deref(), Some("OAuth Client Dev"));
//! assert_eq!(file.hosts[0].host, "dev1.service-now.com");
//! assert_eq!(file.secrets[0].field, "client_secret");
//! assert!(!inv.to_string().contains("c2VjcmV0"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use std::fmt;

use serde::Serialize;

use crate::analyze::apps::{AppEntry, AppFacts, AppFinder};
use crate::analyze::hosts::{HostFinder, lowercase};
use crate::analyze::refs::{self, RefKind};
use crate::analyze::secrets::{CipherShape, DictionaryLearner, SecretReason, SecretRules};
use crate::error::{Diagnostic, Location, ReadError};
use crate::model::{self, Record, Shape, Visitor};

/// One record in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordEntry {
    /// Document order within the file.
    pub index: usize,
    /// Table.
    pub table: String,
    /// sys_id, or `null`.
    pub sys_id: Option<String>,
    /// `action` attribute, or `null`.
    pub action: Option<String>,
    /// Display name (name, sys_name, title, label, ...).
    pub name: Option<String>,
    /// 0 = top level, 1 = inside a payload, 2 = inside a payload inside a payload...
    pub depth: usize,
    /// Index of the record whose payload holds this one.
    pub payload_of: Option<usize>,
    /// Index of the record element this one is nested in.
    pub parent: Option<usize>,
}

/// A reference from a record's field to a sys_id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Index of the referring record.
    pub record: usize,
    /// Its table.
    pub table: String,
    /// Its sys_id.
    pub sys_id: Option<String>,
    /// The field holding the reference.
    pub field: String,
    /// The sys_id referred to.
    pub target: String,
    /// The display value exported beside it.
    pub display_value: Option<String>,
    /// How it is written.
    pub kind: RefKind,
    /// Depth of the referring record.
    pub depth: usize,
    /// `true` when a record of the input (any file) has the target sys_id.
    pub resolved: bool,
}

/// An instance host named in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostEntry {
    /// e.g. `dev12345.service-now.com`.
    pub host: String,
    /// e.g. `dev12345`.
    pub instance: String,
    /// Occurrences.
    pub count: usize,
    /// Where it occurs, as `table.field` (sorted, distinct).
    pub fields: Vec<String>,
}

/// A scope named in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeEntry {
    /// sys_id (or `global`).
    pub sys_id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Namespace (`x_..._...`, `sn_...`, `global`).
    pub namespace: Option<String>,
    /// Mentions.
    pub count: usize,
}

/// A field holding a secret (the value is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretEntry {
    /// Index of the record.
    pub record: usize,
    /// Table.
    pub table: String,
    /// sys_id of the record.
    pub sys_id: Option<String>,
    /// Field name.
    pub field: String,
    /// Depth of the record.
    pub depth: usize,
    /// Why it is a secret.
    pub why: SecretReason,
    /// Its ciphertext shape, when it has one.
    pub shape: Option<CipherShape>,
}

/// A file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileError {
    /// The full message (file, line:column, what is wrong).
    pub message: String,
    /// Where.
    pub location: Location,
}

/// Everything found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The name the file was given.
    pub path: String,
    /// Its size.
    pub bytes: usize,
    /// The kind of export (`null` when unreadable).
    pub shape: Option<Shape>,
    /// Records in document order.
    pub records: Vec<RecordEntry>,
    /// References in document order.
    pub references: Vec<Reference>,
    /// Instance hosts, sorted.
    pub hosts: Vec<HostEntry>,
    /// Scopes, sorted.
    pub scopes: Vec<ScopeEntry>,
    /// Secret-bearing fields in document order.
    pub secrets: Vec<SecretEntry>,
    /// Non-fatal findings.
    pub diagnostics: Vec<Diagnostic>,
    /// Set when the file is not well-formed.
    pub error: Option<FileError>,
    /// What the file says about applications (merged into [`Inventory::apps`]).
    #[serde(skip)]
    pub app_facts: AppFacts,
}

/// The inventory of every file given to an [`Inspector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// One report per file, in the order given.
    pub files: Vec<FileReport>,
    /// The scoped applications of all the files: namespace, sys_id, name, tables defined.
    pub apps: Vec<AppEntry>,
}

impl Inventory {
    /// `true` when some file could not be read.
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }
}

/// Builds an [`Inventory`] file by file.
#[derive(Debug, Default)]
pub struct Inspector {
    rules: SecretRules,
    files: Vec<FileReport>,
}

impl Inspector {
    /// An inspector with the built-in secret rules.
    pub fn new() -> Inspector {
        Inspector::default()
    }

    /// An inspector with rules of your own.
    pub fn with_rules(rules: SecretRules) -> Inspector {
        Inspector {
            rules,
            ..Inspector::default()
        }
    }

    /// Learns the password2 columns the dictionary records of one file declare, without
    /// inventorying it: call it for every file before [`Inspector::add`], so that a column
    /// declared by a file counts in every file, whatever the order they come in. Files without
    /// a dictionary record (`sys_dictionary`, `<database>`) are not read.
    pub fn learn(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let declares = memchr::memmem::find(bytes, b"sys_dictionary").is_some()
            || memchr::memmem::find(bytes, b"<database").is_some();
        if !declares {
            return Ok(());
        }
        struct Learn<'r> {
            rules: &'r mut SecretRules,
            learner: DictionaryLearner,
        }
        impl Visitor for Learn<'_> {
            fn record(&mut self, r: &Record<'_>) {
                self.learner.learn(self.rules, r);
            }
            fn discard_from(&mut self, first_index: usize) {
                self.learner.discard_from(first_index);
            }
        }
        let mut v = Learn {
            rules: &mut self.rules,
            learner: DictionaryLearner::default(),
        };
        model::read(bytes, &mut v).map(|_| ())
    }

    /// Reads one file. An unreadable file is kept in the inventory with its error, and the
    /// error is returned too.
    ///
    /// Pass the bytes by value (a `Vec<u8>`) to let the inspector free them before it builds
    /// the file's report: for a large file that keeps peak memory near the file's own size.
    pub fn add(&mut self, path: &str, bytes: impl AsRef<[u8]>) -> Result<(), ReadError> {
        let len = bytes.as_ref().len();
        let hosts = HostFinder::for_document(bytes.as_ref());
        let mut v = FileVisitor {
            rules: &mut self.rules,
            hosts: &hosts,
            strings: Interner::default(),
            records: Vec::new(),
            references: Vec::new(),
            host_hits: Vec::new(),
            scopes: Vec::new(),
            secrets: Vec::new(),
            dictionary: DictionaryLearner::default(),
            apps: AppFinder::default(),
        };
        let result = model::read(bytes.as_ref(), &mut v);
        drop(bytes);
        let mut report = FileReport {
            path: path.to_string(),
            bytes: len,
            shape: None,
            records: Vec::new(),
            references: Vec::new(),
            hosts: Vec::new(),
            scopes: Vec::new(),
            secrets: Vec::new(),
            diagnostics: Vec::new(),
            error: None,
            app_facts: AppFacts::default(),
        };
        match result {
            Ok(outcome) => {
                v.finish_into(&mut report);
                report.shape = Some(outcome.shape);
                report.diagnostics = outcome.diagnostics;
                self.files.push(report);
                Ok(())
            }
            Err(e) => {
                let e = e.with_path(path);
                report.error = Some(FileError {
                    message: e.to_string(),
                    location: e.location().clone(),
                });
                self.files.push(report);
                Err(e)
            }
        }
    }

    /// The reports so far, unresolved (to read files in parallel, each with its own
    /// inspector, then join them with [`Inspector::from_reports`]).
    pub fn into_reports(self) -> Vec<FileReport> {
        self.files
    }

    /// An inspector holding reports made elsewhere, ready for [`Inspector::finish`].
    pub fn from_reports(files: Vec<FileReport>) -> Inspector {
        Inspector {
            files,
            ..Inspector::default()
        }
    }

    /// Resolves references across all files and returns the inventory.
    pub fn finish(mut self) -> Inventory {
        let defined: BTreeSet<&str> = self
            .files
            .iter()
            .flat_map(|f| f.records.iter().filter_map(|r| r.sys_id.as_deref()))
            .collect();
        let defined: BTreeSet<String> = defined.into_iter().map(str::to_string).collect();
        for f in &mut self.files {
            for r in &mut f.references {
                r.resolved = defined.contains(&r.target);
            }
        }
        let apps = crate::analyze::apps::merge(self.files.iter().map(|f| &f.app_facts));
        Inventory {
            files: self.files,
            apps,
        }
    }
}

/// Strings seen while reading, stored once; rows refer to them by number. (Lookup only: no
/// map order ever reaches the output.)
#[derive(Default)]
struct Interner {
    ids: FxHashMap<Box<str>, u32>,
    strs: Vec<Box<str>>,
    /// `(table, field, separator)` -> id of the string `table.field` or `table@attr`.
    places: FxHashMap<(u32, u32, char), u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.strs.len() as u32;
        self.strs.push(s.into());
        self.ids.insert(s.into(), i);
        i
    }

    /// The id of the string `table<sep>field` (`sys_properties.value`, `sys_choice@table`).
    fn place(&mut self, table: u32, field: u32, sep: char) -> u32 {
        if let Some(&i) = self.places.get(&(table, field, sep)) {
            return i;
        }
        let s = format!("{}{sep}{}", self.get(table), self.get(field));
        let i = self.id(&s);
        self.places.insert((table, field, sep), i);
        i
    }

    fn get(&self, i: u32) -> &str {
        &self.strs[i as usize]
    }

    fn string(&self, i: u32) -> String {
        self.get(i).to_string()
    }

    fn opt(&self, i: Option<u32>) -> Option<String> {
        i.map(|i| self.string(i))
    }
}

// Compact rows kept while reading (a few machine words each); the report is built from them
// once the input has been freed.
struct RecRow {
    index: u32,
    table: u32,
    sys_id: Option<u32>,
    action: Option<u32>,
    name: Option<Box<str>>,
    depth: u32,
    payload_of: Option<u32>,
    parent: Option<u32>,
}

struct RefRow {
    record: u32,
    table: u32,
    sys_id: Option<u32>,
    field: u32,
    target: u32,
    display: Option<u32>,
    kind: RefKind,
    depth: u32,
}

struct HostRow {
    record: u32,
    host: u32,
    instance: u32,
    /// `table.field`, `table.field@attr` or `table@attr`.
    place: u32,
}

struct ScopeRow {
    record: u32,
    sys_id: Option<u32>,
    name: Option<u32>,
    namespace: Option<u32>,
}

struct SecretRow {
    record: u32,
    table: u32,
    sys_id: Option<u32>,
    field: u32,
    depth: u32,
    why: SecretReason,
    shape: Option<CipherShape>,
}

struct FileVisitor<'i> {
    rules: &'i mut SecretRules,
    hosts: &'i HostFinder,
    strings: Interner,
    records: Vec<RecRow>,
    references: Vec<RefRow>,
    host_hits: Vec<HostRow>,
    scopes: Vec<ScopeRow>,
    secrets: Vec<SecretRow>,
    dictionary: DictionaryLearner,
    apps: AppFinder,
}

impl FileVisitor<'_> {
    fn hosts_in(&mut self, record: u32, text: &[u8], place: impl Fn(&mut Interner) -> u32) {
        let mut place_id = None;
        for m in self.hosts.find_all(text) {
            let place = *place_id.get_or_insert_with(|| place(&mut self.strings));
            let host = self.strings.id(&lowercase(m.host));
            let instance = self.strings.id(&lowercase(m.instance));
            self.host_hits.push(HostRow {
                record,
                host,
                instance,
                place,
            });
        }
    }

    fn finish_into(self, report: &mut FileReport) {
        report.app_facts = self.apps.finish();
        let st = &self.strings;
        let mut records: Vec<RecordEntry> = self
            .records
            .into_iter()
            .map(|r| RecordEntry {
                index: r.index as usize,
                table: st.string(r.table),
                sys_id: st.opt(r.sys_id),
                action: st.opt(r.action),
                name: r.name.map(String::from),
                depth: r.depth as usize,
                payload_of: r.payload_of.map(|i| i as usize),
                parent: r.parent.map(|i| i as usize),
            })
            .collect();
        records.sort_by_key(|r| r.index);
        let mut references: Vec<Reference> = self
            .references
            .into_iter()
            .map(|r| Reference {
                record: r.record as usize,
                table: st.string(r.table),
                sys_id: st.opt(r.sys_id),
                field: st.string(r.field),
                target: st.string(r.target),
                display_value: st.opt(r.display),
                kind: r.kind,
                depth: r.depth as usize,
                resolved: false,
            })
            .collect();
        references.sort_by_key(|r| r.record);
        let mut secrets: Vec<SecretEntry> = self
            .secrets
            .into_iter()
            .map(|s| SecretEntry {
                record: s.record as usize,
                table: st.string(s.table),
                sys_id: st.opt(s.sys_id),
                field: st.string(s.field),
                depth: s.depth as usize,
                why: s.why,
                shape: s.shape,
            })
            .collect();
        secrets.sort_by_key(|s| s.record);

        let mut hosts: BTreeMap<&str, (u32, usize, BTreeSet<&str>)> = BTreeMap::new();
        for h in &self.host_hits {
            let e = hosts
                .entry(st.get(h.host))
                .or_insert((h.instance, 0, BTreeSet::new()));
            e.1 += 1;
            e.2.insert(st.get(h.place));
        }

        // Merge scope mentions by sys_id (or namespace when no id is written).
        let mut scopes: BTreeMap<&str, ScopeEntry> = BTreeMap::new();
        for s in &self.scopes {
            let key = s.sys_id.or(s.namespace).map_or("", |i| st.get(i));
            let e = scopes.entry(key).or_insert(ScopeEntry {
                sys_id: None,
                name: None,
                namespace: None,
                count: 0,
            });
            e.count += 1;
            e.sys_id = e.sys_id.take().or_else(|| st.opt(s.sys_id));
            e.name = e.name.take().or_else(|| st.opt(s.name));
            e.namespace = e.namespace.take().or_else(|| st.opt(s.namespace));
        }

        report.records = records;
        report.references = references;
        report.hosts = hosts
            .into_iter()
            .map(|(host, (instance, count, places))| HostEntry {
                host: host.to_string(),
                instance: st.string(instance),
                count,
                fields: places.into_iter().map(str::to_string).collect(),
            })
            .collect();
        report.scopes = scopes.into_values().collect();
        report.secrets = secrets;
    }
}

impl Visitor for FileVisitor<'_> {
    fn record(&mut self, r: &Record<'_>) {
        self.dictionary.learn(self.rules, r);
        self.apps.record(r);
        let index = r.index as u32;
        let depth = r.place.depth as u32;
        let table = self.strings.id(r.table);
        let sys_id = r.sys_id().map(|s| self.strings.id(s));
        let action = r.action.map(|a| self.strings.id(a));
        self.records.push(RecRow {
            index,
            table,
            sys_id,
            action,
            name: r.display_name().map(|n| n.trim().into()),
            depth,
            payload_of: r.place.payload_of.map(|i| i as u32),
            parent: r.place.parent.map(|i| i as u32),
        });

        let strings = &mut self.strings;
        let references = &mut self.references;
        refs::for_each_reference(r, |found| {
            references.push(RefRow {
                record: index,
                table,
                sys_id,
                field: strings.id(found.field),
                // Ids compare in lower case, however the reference spells them.
                target: strings.id(&id_lower(found.target)),
                display: found.display_value.map(|d| strings.id(&d)),
                kind: found.kind,
                depth,
            });
        });
        let scopes = &mut self.scopes;
        refs::for_each_scope(r, |s| {
            scopes.push(ScopeRow {
                record: index,
                sys_id: s.sys_id.map(|v| strings.id(&v)),
                name: s.name.map(|v| strings.id(&v)),
                namespace: s.namespace.map(|v| strings.id(&v)),
            });
        });

        for a in r.attrs() {
            self.hosts_in(index, a.raw.as_bytes(), |st| {
                let attr = st.id(a.name);
                st.place(table, attr, '@')
            });
        }
        let rules = &*self.rules;
        let columns = rules.table_columns(r.table).cloned();
        let columns = columns.as_ref();
        let values = crate::model::MemoValues::new(r);
        for f in r.fields() {
            for a in r.field_attrs(f) {
                self.hosts_in(index, a.raw.as_bytes(), |st| {
                    st.id(&format!("{}.{}@{}", r.table, f.name, a.name))
                });
            }
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are inventoried themselves
            }
            let raw = r.raw(f);
            self.hosts_in(index, raw, |st| {
                let field = st.id(f.name);
                st.place(table, field, '.')
            });
            if f.name == "instance_name" {
                let v = r.text(f);
                let v = v.trim();
                if !v.is_empty()
                    && v.len() <= 63
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                {
                    let v = v.to_ascii_lowercase();
                    let row = HostRow {
                        record: index,
                        host: self.strings.id(&format!("{v}.service-now.com")),
                        instance: self.strings.id(&v),
                        place: self.strings.id(&format!("{}.{}", r.table, f.name)),
                    };
                    self.host_hits.push(row);
                }
            }
            if let Some((why, shape)) = self.rules.field_secret_with(columns, r, f, &values) {
                let row = SecretRow {
                    record: index,
                    table,
                    sys_id,
                    field: self.strings.id(f.name),
                    depth,
                    why,
                    shape,
                };
                self.secrets.push(row);
            }
        }
    }

    fn discard_from(&mut self, first_index: usize) {
        let first = first_index as u32;
        self.records.retain(|r| r.index < first);
        self.references.retain(|r| r.record < first);
        self.host_hits.retain(|h| h.record < first);
        self.scopes.retain(|s| s.record < first);
        self.secrets.retain(|s| s.record < first);
        self.dictionary.discard_from(first_index);
        self.apps.discard_from(first_index);
    }
}

/// `s` in lower case (sys_ids are compared so).
fn id_lower(s: &str) -> std::borrow::Cow<'_, str> {
    lowercase(s)
}

fn short(id: &Option<String>) -> &str {
    id.as_deref().unwrap_or("-")
}

impl fmt::Display for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, file) in self.files.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{file}")?;
        }
        write_apps(f, &self.apps)
    }
}

/// The applications, for people: one line each.
pub fn write_apps(f: &mut impl fmt::Write, apps: &[AppEntry]) -> fmt::Result {
    if apps.is_empty() {
        return Ok(());
    }
    writeln!(f, "applications:")?;
    for a in apps {
        write!(
            f,
            "  {} {} {:?}: {} record(s)",
            a.namespace.as_deref().unwrap_or("-"),
            short(&a.sys_id),
            a.name.as_deref().unwrap_or(""),
            a.records
        )?;
        if !a.defined {
            write!(f, " (its sys_app record is not in the input)")?;
        }
        match a.tables.is_empty() {
            true => writeln!(f, ", no table defined")?,
            false => writeln!(f, ", tables: {}", a.tables.join(", "))?,
        }
    }
    Ok(())
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.error {
            writeln!(f, "{}: error: {}", self.path, e.message)?;
            if let Some(s) = &e.location.snippet {
                writeln!(f, "{s}")?;
            }
            return Ok(());
        }
        let shape = self
            .shape
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let nested = self.records.iter().filter(|r| r.depth > 0).count();
        writeln!(
            f,
            "{}: {shape}, {} bytes, {} records ({} inside payloads)",
            self.path,
            self.bytes,
            self.records.len(),
            nested
        )?;
        if !self.records.is_empty() {
            writeln!(f, "  records:")?;
        }
        for r in &self.records {
            let indent = "  ".repeat(r.depth);
            write!(
                f,
                "    {indent}#{} {} {} {}",
                r.index,
                r.table,
                short(&r.sys_id),
                r.action.as_deref().unwrap_or("-")
            )?;
            if let Some(n) = &r.name {
                write!(f, " {n:?}")?;
            }
            match r.payload_of {
                Some(p) => writeln!(f, " (payload of #{p}, depth {})", r.depth)?,
                None => writeln!(f)?,
            }
        }
        let outside = self.references.iter().filter(|r| !r.resolved).count();
        if !self.references.is_empty() {
            writeln!(
                f,
                "  references: {} ({} resolved in the input, {} outside it)",
                self.references.len(),
                self.references.len() - outside,
                outside
            )?;
        }
        // Grouped by target: one line per referenced record, with the fields pointing at it.
        type Sources = BTreeMap<String, usize>;
        let mut by_target: BTreeMap<(&str, &str), (bool, Sources)> = BTreeMap::new();
        for r in &self.references {
            let key = (r.target.as_str(), r.display_value.as_deref().unwrap_or(""));
            let e = by_target
                .entry(key)
                .or_insert((r.resolved, BTreeMap::new()));
            *e.1.entry(format!("{}.{}", r.table, r.field)).or_default() += 1;
        }
        for ((target, display), (resolved, fields)) in by_target {
            let from: Vec<String> = fields
                .into_iter()
                .map(|(k, n)| if n > 1 { format!("{k} x{n}") } else { k })
                .collect();
            writeln!(
                f,
                "    -> {target} {display:?} [{}] from {}",
                if resolved {
                    "in input"
                } else {
                    "outside input"
                },
                from.join(", ")
            )?;
        }
        if !self.hosts.is_empty() {
            writeln!(f, "  instance hosts:")?;
        }
        for h in &self.hosts {
            writeln!(f, "    {} x{} in {}", h.host, h.count, h.fields.join(", "))?;
        }
        if !self.scopes.is_empty() {
            writeln!(f, "  scopes:")?;
        }
        for s in &self.scopes {
            writeln!(
                f,
                "    {} {:?} {} x{}",
                short(&s.sys_id),
                s.name.as_deref().unwrap_or(""),
                s.namespace.as_deref().unwrap_or("-"),
                s.count
            )?;
        }
        if !self.secrets.is_empty() {
            writeln!(f, "  secrets (values not shown):")?;
        }
        for s in &self.secrets {
            let why = match (s.why, s.shape) {
                (SecretReason::KnownColumn, Some(_)) => "known secret column, ciphertext",
                (SecretReason::KnownColumn, None) => "known secret column",
                (SecretReason::PasswordProperty, _) => "password property",
                (SecretReason::Ciphertext, _) => "ciphertext shape, no rule",
                (SecretReason::SecretName, _) => "named like a secret, no rule",
                (SecretReason::EmbeddedKey, _) => "secret-named key in the value",
            };
            writeln!(
                f,
                "    #{} {}.{} {} depth {}: {why}",
                s.record,
                s.table,
                s.field,
                short(&s.sys_id),
                s.depth
            )?;
        }
        for d in &self.diagnostics {
            writeln!(f, "  {}:{d}", self.path)?;
        }
        Ok(())
    }
}
