//! The second pass: one file's records to its edits, the spliced output, and what changed.
//!
//! In: the bytes of one input and the [`Rewriter`] built by the survey. Out: [`Rewritten`]: the
//! output bytes (the input plus edits), the edit count per rule, the report entries (when
//! asked for), and a note per secret replaced, for the re-entry checklist. The output is
//! checked before it is returned: no ciphertext may be left unless secrets are kept.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::escape::{cdata_section, escape_attr, escape_text, through_layers};
use super::tokens::{Rule, TokenRules};
use super::{Rules, SecretMode};
use crate::analyze::secrets::{DictionaryLearner, SecretRules, ciphertext_shape, find_ciphertext};
use crate::error::{Position, ReadError};
use crate::model::{self, Escaping, Field, Record, ValueKind, Visitor};
use crate::scan::Span;
use crate::splice::Edits;

/// One change, for the report. Secret values never appear: `old` then reads `(secret)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub rule: Rule,
    /// The bytes replaced, as offsets in the input file.
    pub at: Span,
}

/// A secret replaced or emptied: what the admin must re-enter on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretNote {
    /// Table of the record.
    pub table: String,
    /// Its sys_id after the rewrite.
    pub sys_id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// The field.
    pub field: String,
    /// 0 = top level, 1 = inside a payload...
    pub depth: usize,
    /// What now stands in the field (the placeholder, or empty).
    pub placeholder: String,
}

/// The output of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The input plus the edits.
    pub bytes: Vec<u8>,
    /// Number of edits.
    pub edits: usize,
    /// Edits per rule.
    pub counts: BTreeMap<Rule, usize>,
    /// Every edit (only when details were asked for).
    pub entries: Vec<EditEntry>,
    /// Secrets replaced, in document order.
    pub secrets: Vec<SecretNote>,
    /// Things worth a look (e.g. a `--set` field absent from records).
    pub warnings: Vec<String>,
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
        "ciphertext left in the output at {position} (no rule covers it; add --secret-field or use --secrets keep)"
    )]
    SecretLeft {
        /// Where in the output.
        position: Position,
    },
    /// The computed edits overlap (a bug; nothing is written).
    #[error("internal error: {0}")]
    Splice(#[from] crate::splice::SpliceError),
    /// Another internal failure (a bug; nothing is written).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Rewrites files with the maps a [`super::survey::Survey`] built.
#[derive(Debug)]
pub struct Rewriter {
    rules: Rules,
    tokens: TokenRules,
    /// Source instance name -> target name (fields holding a bare name).
    names: FxHashMap<String, String>,
    /// (regenerate column index, old value) -> new value.
    values: BTreeMap<(usize, String), String>,
    kept_natural: Vec<(String, String)>,
}

impl Rewriter {
    pub(crate) fn new(
        rules: Rules,
        tokens: TokenRules,
        names: FxHashMap<String, String>,
        values: BTreeMap<(usize, String), String>,
        kept_natural: Vec<(String, String)>,
    ) -> Rewriter {
        Rewriter {
            rules,
            tokens,
            names,
            values,
            kept_natural,
        }
    }

    /// The rules in force (secret columns include those learned from dictionaries).
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Old sys_id -> new sys_id.
    pub fn id_map(&self) -> &super::ids::IdMap {
        &self.tokens.ids
    }

    /// Records of natural-key tables whose ids were kept: `(table, sys_id)`.
    pub fn kept_natural_keys(&self) -> &[(String, String)] {
        &self.kept_natural
    }

    /// `true` when the plan changes nothing at all.
    pub fn is_identity(&self) -> bool {
        self.tokens.is_empty()
            && self.names.is_empty()
            && self.values.is_empty()
            && self.rules.secrets == SecretMode::Keep
            && self.rules.set.is_empty()
            && self.rules.replace.is_empty()
            && self.rules.namespaces.is_empty()
    }

    /// Rewrites one file. `details` keeps an entry per edit for the report.
    pub fn rewrite(&self, bytes: &[u8], details: bool) -> Result<Rewritten, RewriteError> {
        let mut secret_rules = self.rules.secret_rules.clone();
        let mut planner = Planner {
            w: self,
            file: bytes,
            quot: memchr::memmem::find(bytes, b"&quot;").is_some(),
            hosts: crate::analyze::hosts::HostFinder::for_document(bytes),
            details,
            secret_rules: &mut secret_rules,
            dictionary: DictionaryLearner::default(),
            edits: Edits::new(),
            edit_owner: Vec::new(),
            drafts: Vec::new(),
            secrets: Vec::new(),
            owners: Vec::new(),
            set_missing: BTreeMap::new(),
        };
        if self.is_identity() {
            // Still a read: the input must be well-formed whatever the plan.
            model::read(bytes, &mut NoVisit)?;
            return Ok(Rewritten {
                bytes: bytes.to_vec(),
                edits: 0,
                counts: BTreeMap::new(),
                entries: Vec::new(),
                secrets: Vec::new(),
                warnings: Vec::new(),
            });
        }
        model::read(bytes, &mut planner)?;
        let Planner {
            mut edits,
            drafts,
            secrets,
            owners,
            set_missing,
            ..
        } = planner;
        let output = edits.apply_to_vec(bytes)?;
        if self.rules.secrets != SecretMode::Keep {
            if let Some(at) = find_ciphertext(&output) {
                return Err(RewriteError::SecretLeft {
                    position: Position::locate(&output, at),
                });
            }
        }
        let paths = Paths::new(owners);
        let mut counts = BTreeMap::new();
        for d in &drafts {
            *counts.entry(d.rule).or_insert(0) += 1;
        }
        let entries = if details {
            drafts
                .into_iter()
                .map(|d| EditEntry {
                    table: paths.table(d.record).to_string(),
                    sys_id: paths.sys_id(d.record).map(str::to_string),
                    field: d.field,
                    path: paths.path(d.record),
                    old: d.old,
                    new: d.new,
                    rule: d.rule,
                    at: d.at,
                })
                .collect()
        } else {
            Vec::new()
        };
        let warnings = set_missing
            .into_iter()
            .map(|((t, f), n)| {
                format!("--set {t}.{f}: {n} record(s) of {t} have no {f} field; nothing added")
            })
            .collect();
        Ok(Rewritten {
            bytes: output,
            edits: edits.len(),
            counts,
            entries,
            secrets: {
                let mut secrets = secrets;
                secrets.sort_by_key(|(i, _)| *i);
                secrets.into_iter().map(|(_, n)| n).collect()
            },
            warnings,
        })
    }

    /// The record's sys_id as it reads after the rewrite.
    fn new_sys_id(&self, r: &Record<'_>) -> Option<String> {
        r.sys_id().map(|id| {
            self.tokens
                .ids
                .get(id.as_bytes())
                .map_or(id.to_string(), |n| String::from_utf8_lossy(n).into_owned())
        })
    }

    fn placeholder(
        &self,
        table: &str,
        field: &str,
        sys_id: Option<&str>,
        name: Option<&str>,
    ) -> String {
        self.rules
            .placeholder
            .replace("{table}", table)
            .replace("{field}", field)
            .replace("{sys_id}", sys_id.unwrap_or("-"))
            .replace("{name}", name.unwrap_or(""))
    }
}

struct NoVisit;

impl Visitor for NoVisit {
    fn record(&mut self, _: &Record<'_>) {}
    fn discard_from(&mut self, _: usize) {}
}

struct Draft {
    at: Span,
    record: usize,
    field: String,
    old: String,
    new: String,
    rule: Rule,
}

/// Record index -> (table, sys_id, payload_of), to name where an edit happened.
struct Paths {
    by_index: BTreeMap<usize, (String, Option<String>, Option<usize>)>,
}

impl Paths {
    fn new(owners: Vec<(usize, String, Option<String>, Option<usize>)>) -> Paths {
        Paths {
            by_index: owners
                .into_iter()
                .map(|(i, t, s, p)| (i, (t, s, p)))
                .collect(),
        }
    }

    fn table(&self, i: usize) -> &str {
        self.by_index.get(&i).map_or("", |o| o.0.as_str())
    }

    fn sys_id(&self, i: usize) -> Option<&str> {
        self.by_index.get(&i).and_then(|o| o.1.as_deref())
    }

    fn path(&self, i: usize) -> String {
        let mut steps = Vec::new();
        let mut at = Some(i);
        while let Some(i) = at {
            let Some((t, s, p)) = self.by_index.get(&i) else {
                break;
            };
            steps.push(format!("{t}[{}]", s.as_deref().unwrap_or("-")));
            at = *p;
        }
        steps.reverse();
        steps.join(" > payload > ")
    }
}

struct Planner<'w, 'f> {
    w: &'w Rewriter,
    file: &'f [u8],
    quot: bool,
    hosts: crate::analyze::hosts::HostFinder,
    details: bool,
    secret_rules: &'w mut SecretRules,
    dictionary: DictionaryLearner,
    edits: Edits,
    /// Record index of each edit, to withdraw the edits of a payload that turns out malformed.
    edit_owner: Vec<usize>,
    drafts: Vec<Draft>,
    secrets: Vec<(usize, SecretNote)>,
    owners: Vec<(usize, String, Option<String>, Option<usize>)>,
    set_missing: BTreeMap<(String, String), usize>,
}

impl Planner<'_, '_> {
    fn push(
        &mut self,
        record: usize,
        field: &str,
        span: Span,
        new: &[u8],
        rule: Rule,
        old_shown: Option<String>,
    ) {
        let old = &self.file[span.range()];
        if old == new {
            return;
        }
        self.edits.replace(span, new);
        self.edit_owner.push(record);
        self.drafts.push(Draft {
            at: span,
            record,
            field: field.to_string(),
            old: if self.details {
                old_shown.unwrap_or_else(|| String::from_utf8_lossy(old).into_owned())
            } else {
                String::new()
            },
            new: if self.details {
                String::from_utf8_lossy(new).into_owned()
            } else {
                String::new()
            },
            rule,
        });
    }

    /// Token substitutions in a value's raw bytes, at their file position.
    fn tokens_in(&mut self, record: usize, field: &str, file_span: Span) {
        let raw = &self.file[file_span.range()];
        for s in self.w.tokens.scan_with(raw, &self.hosts) {
            let span = Span::new(file_span.start + s.span.start, file_span.start + s.span.end);
            let new = s.new.into_owned();
            self.push(record, field, span, &new, s.rule, None);
        }
    }

    /// Replaces the whole value of `f` with `text`, written in the field's own style.
    fn whole_value(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        text: &str,
        rule: Rule,
        old_shown: Option<String>,
    ) {
        let layers = r.escapings();
        let (local_span, local) = match f.kind {
            ValueKind::SelfClosing if text.is_empty() => return,
            ValueKind::SelfClosing => {
                // Only the closing `/>` changes, so edits inside the tag's attributes stay
                // disjoint: `<x a="1"/>` becomes `<x a="1">value</x>`.
                let end = f.element.end;
                (
                    Span::new(end - 2, end),
                    format!(">{}</{}>", escape_text(text, self.quot), f.name),
                )
            }
            ValueKind::Cdata if !text.is_empty() => (f.content, cdata_section(text)),
            _ => (f.content, escape_text(text, self.quot)),
        };
        let bytes = through_layers(
            local,
            &layers,
            self.quot && layers.contains(&Escaping::Escaped),
        );
        self.push(
            r.index,
            f.name,
            r.file_span(local_span),
            bytes.as_bytes(),
            rule,
            old_shown,
        );
    }

    /// Replaces an attribute value shaped like ciphertext (no rule names attributes, but a
    /// secret is a secret wherever it sits). Returns `true` when it did.
    fn attr_secret(&mut self, r: &Record<'_>, name: &str, a: &crate::model::Attr<'_>) -> bool {
        if self.w.rules.secrets == SecretMode::Keep || ciphertext_shape(&a.value()).is_none() {
            return false;
        }
        let new_id = self.w.new_sys_id(r);
        let value = match self.w.rules.secrets {
            SecretMode::Blank => String::new(),
            _ => self.w.placeholder(r.table, name, new_id.as_deref(), None),
        };
        let layers = r.escapings();
        let bytes = through_layers(
            escape_attr(&value),
            &layers,
            self.quot && layers.contains(&Escaping::Escaped),
        );
        self.push(
            r.index,
            name,
            r.file_span(a.span),
            bytes.as_bytes(),
            Rule::Secret,
            Some("(secret: ciphertext)".into()),
        );
        self.secrets.push((
            r.index,
            SecretNote {
                table: r.table.to_string(),
                sys_id: new_id,
                name: None,
                field: name.to_string(),
                depth: r.place.depth,
                placeholder: value,
            },
        ));
        true
    }

    /// The value rules other than tokens: the new text and its rule, when one applies.
    fn field_rules(&mut self, r: &Record<'_>, f: &Field<'_>) -> Option<(String, Rule)> {
        let rules = &self.w.rules;
        let cur = r.text(f);
        let mut new = cur.to_string();
        let mut rule = None;
        for s in rules
            .set
            .iter()
            .filter(|s| s.column.table == r.table && s.column.field == f.name)
        {
            new.clone_from(&s.value);
            rule = Some(Rule::Set);
        }
        if rule == Some(Rule::Set) {
            return (new != cur).then_some((new, Rule::Set));
        }
        for rp in rules
            .replace
            .iter()
            .filter(|p| p.column.table == r.table && p.column.field == f.name)
        {
            if new.contains(&rp.old) {
                new = new.replace(&rp.old, &rp.new);
                rule = Some(Rule::Replace);
            }
        }
        for (i, c) in rules.regenerate_fields.iter().enumerate() {
            if c.table == r.table && c.field == f.name {
                if let Some(v) = self.w.values.get(&(i, cur.to_string())) {
                    new.clone_from(v);
                    rule = Some(Rule::RegenerateField);
                }
            }
        }
        let namespace_field = f.name == "application_scope"
            || (f.name == "scope" && matches!(r.table, "sys_app" | "sys_scope" | "sys_store_app"));
        if namespace_field {
            if let Some((_, to)) = rules.namespaces.iter().find(|(from, _)| from == new.trim()) {
                new.clone_from(to);
                rule = Some(Rule::Namespace);
            }
        }
        if f.name == "instance_name" {
            if let Some(to) = self.w.names.get(new.trim()) {
                new.clone_from(to);
                rule = Some(Rule::InstanceName);
            }
        }
        let rule = rule?;
        if f.kind == ValueKind::Mixed {
            // Rebuilding mixed content from its text would drop its child elements: only
            // --set (which replaces the value on purpose) may; tokens are edited in place.
            return None;
        }
        let new = self.w.tokens.apply_to(&new);
        (new != cur).then_some((new, rule))
    }
}

impl Visitor for Planner<'_, '_> {
    fn record(&mut self, r: &Record<'_>) {
        self.dictionary.learn(self.secret_rules, r);
        let index = r.index;
        let sys_id = r.sys_id();
        self.owners.push((
            index,
            r.table.to_string(),
            sys_id.map(str::to_string),
            r.place.payload_of,
        ));

        for a in r.attrs() {
            let name = format!("@{}", a.name);
            if !self.attr_secret(r, &name, a) {
                self.tokens_in(index, &name, r.file_span(a.span));
            }
        }
        for s in &self.w.rules.set {
            if s.column.table == r.table && r.field(&s.column.field).is_none() {
                *self
                    .set_missing
                    .entry((s.column.table.clone(), s.column.field.clone()))
                    .or_insert(0) += 1;
            }
        }
        let keep_secrets = self.w.rules.secrets == SecretMode::Keep;
        for f in r.fields() {
            for a in r.field_attrs(f) {
                let name = format!("{}@{}", f.name, a.name);
                let renamed = (a.name == "source")
                    .then(|| {
                        self.w
                            .rules
                            .namespaces
                            .iter()
                            .find(|(from, _)| from == a.raw)
                    })
                    .flatten();
                match renamed {
                    _ if self.attr_secret(r, &name, a) => {}
                    Some((_, to)) => {
                        let to = to.clone();
                        self.push(
                            index,
                            &name,
                            r.file_span(a.span),
                            to.as_bytes(),
                            Rule::Namespace,
                            None,
                        );
                    }
                    None => self.tokens_in(index, &name, r.file_span(a.span)),
                }
            }
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are rewritten themselves
            }
            let secret = self.secret_rules.field_secret(r, f);
            if let (false, Some((why, _))) = (keep_secrets, secret) {
                let new_id = self.w.new_sys_id(r);
                let name = r.display_name().map(|n| n.trim().to_string());
                let value = match self.w.rules.secrets {
                    SecretMode::Blank => String::new(),
                    _ => self
                        .w
                        .placeholder(r.table, f.name, new_id.as_deref(), name.as_deref()),
                };
                let shown = format!("(secret: {})", serde_plain(why));
                self.whole_value(r, f, &value, Rule::Secret, Some(shown));
                self.secrets.push((
                    index,
                    SecretNote {
                        table: r.table.to_string(),
                        sys_id: new_id,
                        name,
                        field: f.name.to_string(),
                        depth: r.place.depth,
                        placeholder: value,
                    },
                ));
                continue;
            }
            // A kept secret edited by --set or --replace: its old value stays out of the report.
            let shown = secret.map(|(why, _)| format!("(secret: {})", serde_plain(why)));
            match self.field_rules(r, f) {
                Some((new, rule)) => self.whole_value(r, f, &new, rule, shown),
                None => self.tokens_in(index, f.name, r.file_span(f.content)),
            }
        }
    }

    fn discard_from(&mut self, first_index: usize) {
        let keep = self
            .edit_owner
            .iter()
            .position(|&o| o >= first_index)
            .unwrap_or(self.edit_owner.len());
        self.edits.truncate(keep);
        self.edit_owner.truncate(keep);
        self.drafts.retain(|d| d.record < first_index);
        self.secrets.retain(|(i, _)| *i < first_index);
        self.owners.retain(|o| o.0 < first_index);
        self.dictionary.discard_from(first_index);
    }
}

fn serde_plain(why: crate::analyze::secrets::SecretReason) -> &'static str {
    use crate::analyze::secrets::SecretReason::*;
    match why {
        KnownColumn => "known secret column",
        PasswordProperty => "password property",
        Ciphertext => "ciphertext",
    }
}
