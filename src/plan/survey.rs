//! The first pass: what the input defines, before anything is rewritten.
//!
//! In: every input file, read once. Out: a [`Rewriter`] holding the maps the rewrite needs:
//! the sys_id of every record the input defines (regenerated unless its table is matched by
//! natural key), the values of columns to regenerate, the secret columns declared by
//! dictionary records, and the host and namespace renames.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::ids::{IdGen, IdMap};
use super::rewrite::Rewriter;
use super::tokens::TokenRules;
use super::{IdMode, NATURAL_KEY_TABLES, Rules};
use crate::analyze::refs::is_sys_id;
use crate::analyze::secrets::DictionaryLearner;
use crate::error::ReadError;
use crate::model::{self, Record, Visitor};

/// A record id the input defines, and what the rewrite does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defined {
    /// Its table (the first seen).
    pub table: String,
    /// `true` when the table is matched by natural key on import.
    pub natural_key: bool,
}

/// Collects what the input defines. Add every file, then [`Survey::finish`].
///
/// ```
/// use sn_retarget::plan::{Plan, IdMode, survey::Survey};
/// let plan = Plan { target: Some("acme".into()), sys_ids: IdMode::Regenerate, ..Plan::default() };
/// let mut survey = Survey::new(plan.compile().unwrap());
/// survey.add(br#"<unload><sys_script action="INSERT_OR_UPDATE"><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_script></unload>"#).unwrap();
/// let rewriter = survey.finish();
/// assert_eq!(rewriter.id_map().len(), 1);
/// ```
#[derive(Debug)]
pub struct Survey {
    rules: Rules,
    defined: BTreeMap<String, Defined>,
    values: BTreeSet<(usize, String)>,
}

/// What one file defines (see [`Survey::scan`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFacts {
    defined: Vec<(String, String)>,
    values: Vec<(usize, String)>,
    learned: Vec<(String, String)>,
}

struct FileSurvey<'s> {
    rules: &'s Rules,
    secret_rules: &'s mut crate::analyze::secrets::SecretRules,
    dictionary: DictionaryLearner,
    defined: Vec<(usize, String, String)>,
    values: Vec<(usize, usize, String)>,
}

impl Visitor for FileSurvey<'_> {
    fn record(&mut self, r: &Record<'_>) {
        self.dictionary.learn(self.secret_rules, r);
        if let Some(id) = r.sys_id().filter(|id| is_sys_id(id)) {
            self.defined
                .push((r.index, id.to_string(), r.table.to_string()));
        }
        for (i, col) in self.rules.regenerate_fields.iter().enumerate() {
            if col.table == r.table {
                if let Some(f) = r.field(&col.field) {
                    let v = r.text(f);
                    if !v.trim().is_empty() {
                        self.values.push((r.index, i, v.into_owned()));
                    }
                }
            }
        }
    }

    fn discard_from(&mut self, first_index: usize) {
        self.defined.retain(|(i, _, _)| *i < first_index);
        self.values.retain(|(i, _, _)| *i < first_index);
        self.dictionary.discard_from(first_index);
    }
}

impl Survey {
    /// A survey for these rules.
    pub fn new(rules: Rules) -> Survey {
        Survey {
            rules,
            defined: BTreeMap::new(),
            values: BTreeSet::new(),
        }
    }

    /// Reads one input file.
    pub fn add(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let facts = self.scan(bytes)?;
        self.merge(facts);
        Ok(())
    }

    /// Reads one input file without changing the survey (files can be scanned in parallel,
    /// then merged in order with [`Survey::merge`]).
    pub fn scan(&self, bytes: &[u8]) -> Result<FileFacts, ReadError> {
        let mut secret_rules = self.rules.secret_rules.clone();
        let mut v = FileSurvey {
            rules: &self.rules,
            secret_rules: &mut secret_rules,
            dictionary: DictionaryLearner::default(),
            defined: Vec::new(),
            values: Vec::new(),
        };
        model::read(bytes, &mut v)?;
        let (defined, values) = (v.defined, v.values);
        let learned = secret_rules
            .columns()
            .filter(|(t, f)| !self.rules.secret_rules.is_secret_column(t, f))
            .map(|(t, f)| (t.to_string(), f.to_string()))
            .collect();
        Ok(FileFacts {
            defined: defined.into_iter().map(|(_, id, t)| (id, t)).collect(),
            values: values.into_iter().map(|(_, c, v)| (c, v)).collect(),
            learned,
        })
    }

    /// Adds what [`Survey::scan`] found in one file.
    pub fn merge(&mut self, facts: FileFacts) {
        for (id, table) in facts.defined {
            self.defined.entry(id).or_insert_with(|| Defined {
                natural_key: NATURAL_KEY_TABLES.contains(&table.as_str()),
                table,
            });
        }
        self.values.extend(facts.values);
        for (t, f) in facts.learned {
            self.rules.secret_rules.add_column(&t, &f);
        }
    }

    /// The record ids defined so far.
    pub fn defined(&self) -> &BTreeMap<String, Defined> {
        &self.defined
    }

    /// Builds the maps and returns the rewriter for the second pass.
    pub fn finish(self) -> Rewriter {
        let rules = self.rules;
        let target_host = rules.target.as_ref().map_or("", |t| t.host());
        let generator = IdGen::new(&rules.seed, target_host);

        let mut ids = IdMap::default();
        let mut kept_natural = Vec::new();
        if rules.sys_ids == IdMode::Regenerate {
            // Two SHA-1s per id: generated in parallel, inserted in id order.
            let defined: Vec<(&String, &Defined)> = self.defined.iter().collect();
            let fresh: Vec<Option<String>> = defined
                .par_iter()
                .map(|(id, d)| {
                    let kept = generator.is_generated(id) // made by this plan: idempotent
                        || (d.natural_key && !rules.force_natural_keys);
                    (!kept).then(|| generator.sys_id(id))
                })
                .collect();
            for ((id, d), new) in defined.into_iter().zip(fresh) {
                match new {
                    Some(new) => ids.insert(id, &new),
                    None if d.natural_key
                        && !rules.force_natural_keys
                        && !generator.is_generated(id) =>
                    {
                        kept_natural.push((d.table.clone(), id.clone()));
                    }
                    None => {}
                }
            }
        }
        for (old, new) in &rules.map {
            ids.insert(old, new);
        }

        let mut values = BTreeMap::new();
        for (col, old) in &self.values {
            let c = &rules.regenerate_fields[*col];
            if !generator.is_generated(old.trim()) {
                let new = generator.value(&c.table, &c.field, old.trim());
                values.insert((*col, old.clone()), new);
            }
        }

        let mut hosts = FxHashMap::default();
        let mut names = FxHashMap::default();
        if let Some(t) = &rules.target {
            for s in &rules.sources {
                hosts.insert(s.host().to_string(), t.host().to_string());
                names.insert(s.name().to_string(), t.name().to_string());
            }
        }
        let prefixes = if rules.scope_prefix {
            rules.namespaces.clone()
        } else {
            Vec::new()
        };
        let tokens = TokenRules::new(hosts, ids, prefixes);
        Rewriter::new(rules, tokens, names, values, kept_natural)
    }
}
