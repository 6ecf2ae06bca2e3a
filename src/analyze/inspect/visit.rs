//! Reading one file into rows: strings interned, records, references, hosts, scopes and
//! secrets noted as the reader hands records over.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use super::{FileReport, HostEntry, RecordEntry, Reference, ScopeEntry, SecretEntry};
use crate::analyze::apps::AppFinder;
use crate::analyze::hosts::{HostFinder, lowercase};
use crate::analyze::refs::{self, RefKind};
use crate::analyze::secrets::{CipherShape, DictionaryLearner, SecretReason, SecretRules};
use crate::model::{Record, Visitor};

/// Strings seen while reading, stored once; rows refer to them by number. (Lookup only: no
/// map order ever reaches the output.)
#[derive(Default)]
pub(super) struct Interner {
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

pub(super) struct FileVisitor<'i> {
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

impl<'i> FileVisitor<'i> {
    /// A visitor classifying secrets with `rules` (learning dictionaries into them), finding
    /// hosts with `hosts`.
    pub(super) fn new(rules: &'i mut SecretRules, hosts: &'i HostFinder) -> FileVisitor<'i> {
        FileVisitor {
            rules,
            hosts,
            strings: Interner::default(),
            records: Vec::new(),
            references: Vec::new(),
            host_hits: Vec::new(),
            scopes: Vec::new(),
            secrets: Vec::new(),
            dictionary: DictionaryLearner::default(),
            apps: AppFinder::default(),
        }
    }

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

    pub(super) fn finish_into(self, report: &mut FileReport) {
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

        report.records = records;
        report.references = references;
        report.hosts = host_entries(st, &self.host_hits);
        report.scopes = scope_entries(st, &self.scopes);
        report.secrets = secrets;
    }
}

impl FileVisitor<'_> {
    /// The references and scopes record `r` (at `index`, of `table`, with `sys_id`, at payload
    /// depth `depth`) names.
    fn references_and_scopes(
        &mut self,
        r: &Record<'_>,
        index: u32,
        table: u32,
        sys_id: Option<u32>,
        depth: u32,
    ) {
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
    }

    /// A bare instance name in an `instance_name` field: the host it stands for.
    fn instance_name(&mut self, index: u32, r: &Record<'_>, f: &crate::model::Field<'_>) {
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

        self.references_and_scopes(r, index, table, sys_id, depth);

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
                self.instance_name(index, r, f);
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
pub(super) fn id_lower(s: &str) -> std::borrow::Cow<'_, str> {
    lowercase(s)
}

/// The instance hosts found, each with how often and in which fields.
fn host_entries(st: &Interner, hits: &[HostRow]) -> Vec<HostEntry> {
    let mut hosts: BTreeMap<&str, (u32, usize, BTreeSet<&str>)> = BTreeMap::new();
    for h in hits {
        let e = hosts
            .entry(st.get(h.host))
            .or_insert((h.instance, 0, BTreeSet::new()));
        e.1 += 1;
        e.2.insert(st.get(h.place));
    }
    hosts
        .into_iter()
        .map(|(host, (instance, count, places))| HostEntry {
            host: host.to_string(),
            instance: st.string(instance),
            count,
            fields: places.into_iter().map(str::to_string).collect(),
        })
        .collect()
}

/// Scope mentions merged by sys_id (or namespace when no id is written).
fn scope_entries(st: &Interner, mentions: &[ScopeRow]) -> Vec<ScopeEntry> {
    let mut scopes: BTreeMap<&str, ScopeEntry> = BTreeMap::new();
    for s in mentions {
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
    scopes.into_values().collect()
}
