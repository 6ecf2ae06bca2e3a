//! One read of each file, then its edits.
//!
//! In: the bytes of one input and the [`Rewriter`] compiled from the plan. [`Rewriter::read`]
//! reads the file once (large files in parts, in parallel) and returns a [`Pass`]: the edits
//! whose replacement is already known (hosts, secrets, `--set`...), the spans of every
//! sys_id-shaped token in the values, and the ids the file defines. Which ids change is only
//! known once every file has been read: [`Rewriter::resolve`] builds the id map from all the
//! passes, and [`Rewriter::finish`] turns each pass into [`Rewritten`]: the final [`Edits`]
//! (the output is the input plus these), the count per rule, the report entries (when asked
//! for), and a note per secret replaced. The output is checked before it is returned: no
//! ciphertext may be left unless secrets are kept.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::ciphertext::ciphertext_left;
use super::escape::{cdata_section, escape_attr, escape_text, through_layers};
use super::ids::{IdGen, IdMap};
use super::intent::{Intent, STATE_FIELDS};
use super::records::{
    ClientIdChange, DisplayRef, Hits, LeftOut, RecordNote, RecordsPass, Renames, follow_edit,
};
use super::tokens::{Rule, TokenRules, id_tokens, map_token};
use super::{IdMode, NATURAL_KEY_TABLES, Rules, SecretMode};
use crate::analyze::embedded::may_embed;
use crate::analyze::hosts::HostFinder;
use crate::analyze::refs::is_sys_id;
use crate::analyze::secrets::{DictionaryLearner, SecretReason, SecretRules, ciphertext_shape};
use crate::error::{Position, ReadError};
use crate::model::{self, Escaping, Field, Record, ValueKind, Visitor};
use crate::scan::Span;
use crate::splice::Edits;

mod records;
mod values;

use records::Cur;

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
pub struct Rewritten {
    /// The edits, sorted and checked: the output is the input with these made
    /// ([`Edits::apply_to_vec`], [`Edits::apply`]).
    pub edits: Edits,
    /// Edits per rule.
    pub counts: BTreeMap<Rule, usize>,
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
    /// `--set`, `--replace` or `--regenerate-field` would write into a secret.
    #[error("{0}")]
    EditOnSecret(Box<SecretEdit>),
    /// The computed edits overlap (a bug; nothing is written).
    #[error("internal error: {0}")]
    Splice(#[from] crate::splice::SpliceError),
    /// Another internal failure (a bug; nothing is written).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Rewrites files: compiled from a plan, it reads each file once ([`Rewriter::read`]), builds
/// the id map from every file read ([`Rewriter::resolve`]) and gives each file its edits
/// ([`Rewriter::finish`]).
///
/// ```
/// use sn_retarget::plan::{IdMode, Plan, Rewriter};
/// let doc = br#"<unload><sys_script action="INSERT_OR_UPDATE"><sys_id>0123456789abcdef0123456789abcdef</sys_id></sys_script></unload>"#;
/// let plan = Plan { target: Some("acme".into()), sys_ids: IdMode::Regenerate, ..Plan::default() };
/// let rewriter = Rewriter::new(plan.compile().unwrap());
/// let pass = rewriter.read(doc, false).unwrap();
/// let ids = rewriter.resolve([&pass]);
/// assert_eq!(ids.map.len(), 1);
/// let rewritten = rewriter.finish(pass, &ids, doc, false).unwrap();
/// assert_eq!(rewritten.edits.len(), 1);
/// ```
#[derive(Debug)]
pub struct Rewriter {
    rules: Rules,
    tokens: TokenRules,
    /// Source instance name -> target name (fields holding a bare name).
    names: FxHashMap<String, String>,
    generator: IdGen,
    /// Files at least this large are read in parts, in parallel.
    part_bytes: usize,
}

/// The ids every file defines, resolved: what each becomes; and what else needs every file
/// read (records renamed, the client_ids of derived endpoints).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedIds {
    /// Old sys_id -> new sys_id.
    pub map: IdMap,
    /// Records of natural-key tables whose ids were kept: `(table, sys_id)`, by id.
    pub kept_natural: Vec<(String, String)>,
    /// Records whose display texts changed (references showing them follow).
    pub renames: Renames,
    /// Old client_ids of the endpoints a derive gives new ones (providers sharing one follow).
    pub endpoint_client_ids: std::collections::BTreeSet<String>,
}

/// What one read of a file found (see [`Rewriter::read`]).
#[derive(Debug, Default)]
pub struct Pass {
    parts: Vec<PartPass>,
    /// password2 columns declared by the file's dictionary records and not known when it was
    /// read.
    secret_columns: Vec<(String, String)>,
}

impl Pass {
    /// The password2 columns the file's dictionary records declare (`sys_dictionary` records
    /// at any depth, `<database>` columns) that the rewriter did not know when reading it.
    /// Such a column holds secrets in every file: when any file declares one, add them all
    /// with [`Rewriter::add_secret_columns`] and read every file again.
    pub fn secret_columns(&self) -> &[(String, String)] {
        &self.secret_columns
    }

    /// The sys_ids the file defines, with their table, in reading order.
    pub fn defined(&self) -> impl Iterator<Item = (&str, &str)> {
        self.parts
            .iter()
            .flat_map(|p| p.defined.iter().map(|d| (d.id(), &*d.table)))
    }

    /// The source hosts of the host map met in the file (as the map names them, e.g.
    /// `dev1.service-now.com`), in a URL or as a bare name.
    pub fn hosts_seen(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .parts
            .iter()
            .flat_map(|p| p.rec.hosts_seen.iter().map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How often each rule of the plan applied in the file.
    pub fn hits(&self) -> Hits {
        let mut hits = Hits::default();
        for p in &self.parts {
            hits.add(&p.rec.hits);
        }
        hits
    }
}

/// Files and parts smaller than this are read in one piece.
const PART_BYTES: usize = 4 << 20;

impl Rewriter {
    /// A rewriter for these rules.
    pub fn new(rules: Rules) -> Rewriter {
        let target_host = rules.target.as_ref().map_or("", |t| t.host());
        let generator = IdGen::new(&rules.seed, target_host);
        let mut hosts = FxHashMap::default();
        let mut names = FxHashMap::default();
        for (s, t) in &rules.host_map {
            hosts.insert(s.host().to_string(), t.host().to_string());
            names.insert(s.name().to_string(), t.name().to_string());
        }
        let prefixes = if rules.scope_prefix {
            rules.namespaces.clone()
        } else {
            Vec::new()
        };
        let mut tokens = TokenRules::new(hosts, IdMap::default(), prefixes);
        tokens.namespace_prefixes = std::mem::take(&mut tokens.namespace_prefixes)
            .protect(rules.keep_namespaces.iter().cloned());
        Rewriter {
            rules,
            tokens,
            names,
            generator,
            part_bytes: PART_BYTES,
        }
    }

    /// The same rewriter, reading files of at least `bytes` in parts (for tests).
    pub fn with_part_bytes(mut self, bytes: usize) -> Rewriter {
        self.part_bytes = bytes.max(1);
        self
    }

    /// The rules in force (secret columns include those learned from dictionaries).
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// `true` when the plan changes nothing at all: files are only checked.
    pub fn is_identity(&self) -> bool {
        self.tokens.is_empty()
            && !self.maps_ids()
            && self.names.is_empty()
            && self.rules.regenerate_fields.is_empty()
            && self.rules.secrets == SecretMode::Keep
            && self.rules.set.is_empty()
            && self.rules.replace.is_empty()
            && self.rules.namespaces.is_empty()
            && self.rules.app_name.is_none()
            && self.rules.labels.is_empty()
            && self.rules.only.is_empty()
            && self.rules.exclude.is_empty()
            && self.rules.intent != Intent::Derive
    }

    /// `true` when a record's display texts may change, so that references showing them must
    /// be followed.
    fn renames(&self) -> bool {
        self.renames_any() || !self.names.is_empty()
    }

    /// `true` when any display text may change; `false` when only an instance's bare name can
    /// (the host map), so that only references showing one need following.
    fn renames_any(&self) -> bool {
        !self.rules.labels.is_empty()
            || !self.rules.set.is_empty()
            || !self.rules.replace.is_empty()
            || !self.rules.regenerate_fields.is_empty()
            || !self.rules.namespaces.is_empty()
            || self.rules.intent == Intent::Derive
    }

    /// `true` when `raw` (a value's bytes, trimmed) is a source instance's bare name, in any
    /// case (a bare name holds nothing escaping changes).
    fn is_bare_name(&self, raw: &[u8]) -> bool {
        let t = raw.trim_ascii();
        self.names
            .keys()
            .any(|k| t.eq_ignore_ascii_case(k.as_bytes()))
    }

    /// `true` when the rule edits only the records the input defines (as a new twin).
    fn derives(&self) -> bool {
        self.rules.intent == Intent::Derive
    }

    /// The value a derived twin starts with in `table.field`, when the original's is state
    /// ([`STATE_FIELDS`], `--reset-field`).
    fn state_reset(&self, table: &str, field: &str) -> Option<&'static str> {
        STATE_FIELDS
            .iter()
            .find(|s| s.field == field && s.tables.contains(table))
            .map(|s| s.reset)
            .or_else(|| {
                (self.rules.reset_fields)
                    .iter()
                    .any(|c| c.table == table && c.field == field)
                    .then_some("")
            })
    }

    /// `true` when some sys_id may change.
    fn maps_ids(&self) -> bool {
        self.rules.sys_ids == IdMode::Regenerate || !self.rules.map.is_empty()
    }

    /// Adds secret columns (`(table, field)`, from [`Pass::secret_columns`]).
    pub fn add_secret_columns(&mut self, columns: impl IntoIterator<Item = (String, String)>) {
        for (t, f) in columns {
            self.rules.secret_rules.add_column(&t, &f);
        }
    }

    /// Reads one file. `details` keeps what the report's entries need.
    pub fn read(&self, bytes: &[u8], details: bool) -> Result<Pass, RewriteError> {
        if self.is_identity() {
            // Still checked: the input must be well-formed whatever the plan (a malformed
            // payload never fails a read, so the outer level is all there is to check).
            model::check_outer(bytes)?;
            return Ok(Pass::default());
        }
        // Whether the file writes `&quot;` is asked only when a replacement holds a `"`.
        let locator = crate::error::Locator::new(bytes);
        let quot = std::sync::OnceLock::new();
        let make = |covers: Span| {
            let part = &bytes[covers.range()];
            let (hosts, mut host_at) = match self.tokens.hosts.is_empty() {
                true => (HostFinder::new(), Vec::new()),
                false => HostFinder::scan_document(part),
            };
            host_at.iter_mut().for_each(|at| *at += covers.start);
            Planner {
                w: self,
                file: bytes,
                locator: &locator,
                names: RecordNames::default(),
                quot: &quot,
                hosts,
                host_at: Marks::new(host_at),
                learner: DictionaryLearner::default(),
                learned: None,
                last_table: None,
                details,
                ids: self.maps_ids(),
                renames: self.renames(),
                cur: Cur::default(),
                part: PartPass {
                    rec: RecordsPass {
                        hits: Hits::sized(
                            self.rules.set.len(),
                            self.rules.replace.len(),
                            self.rules.labels.len(),
                            self.rules.only.len(),
                            self.rules.exclude.len(),
                        ),
                        ..RecordsPass::default()
                    },
                    ..PartPass::default()
                },
            }
        };
        let (_, planners) = model::read_parts_with(bytes, self.part_bytes, make)?;
        let known = &self.rules.secret_rules;
        let mut secret_columns = Vec::new();
        let mut parts = Vec::with_capacity(planners.len());
        for (range, p) in planners {
            for (t, f) in p.learned.iter().flat_map(SecretRules::columns) {
                if !known.is_secret_column(t, f)
                    && !secret_columns.iter().any(|(ct, cf)| ct == t && cf == f)
                {
                    secret_columns.push((t.to_string(), f.to_string()));
                }
            }
            parts.push(PartPass { range, ..p.part });
        }
        Ok(Pass {
            parts,
            secret_columns,
        })
    }

    /// The id map, from what every file defines (in the order given: the first table seen
    /// for an id decides whether it is matched by natural key) and the plan's own map.
    pub fn resolve<'p>(&self, passes: impl IntoIterator<Item = &'p Pass>) -> ResolvedIds {
        let rules = &self.rules;
        let passes2: Vec<&Pass> = passes.into_iter().collect();
        let mut defined: Vec<&Defined> = Vec::new();
        if rules.sys_ids == IdMode::Regenerate {
            defined = passes2
                .iter()
                .flat_map(|p| p.parts.iter().flat_map(|p| &p.defined))
                .collect();
        }
        // By id; a stable sort keeps the first seen first.
        defined.par_sort_by(|a, b| a.id.cmp(&b.id));
        defined.dedup_by(|later, first| later.id == first.id);
        // Ids the plan maps to (records that exist on the target) are kept too, so that a
        // second run leaves them be.
        let map_targets: std::collections::BTreeSet<&str> =
            rules.map.values().map(String::as_str).collect();
        let natural =
            |table: &str| NATURAL_KEY_TABLES.contains(&table) && !rules.force_natural_keys;
        // New ids were made while reading (`fresh`: none for an id this plan generated).
        let mut out = ResolvedIds::default();
        out.map.reserve(defined.len() + rules.map.len());
        for d in defined {
            let id = d.id();
            match d.fresh {
                None => {} // made by this plan: idempotent
                Some(_) if map_targets.contains(id) => {}
                Some(_) if natural(&d.table) => {
                    out.kept_natural.push((d.table.to_string(), id.to_string()));
                }
                Some(new) => out.map.insert_bytes(d.id, new),
            }
        }
        for (old, new) in &rules.map {
            out.map.insert(old, new);
        }
        for p in passes2 {
            for part in &p.parts {
                for (_, id, old, new) in &part.rec.renamed {
                    out.renames.insert(*id, old.clone(), new.clone());
                }
                out.endpoint_client_ids
                    .extend(part.rec.endpoint_ids.iter().map(|(_, c)| c.clone()));
            }
        }
        out
    }

    /// The final edits of one file read into `pass`, with the resolved ids. `bytes` is the
    /// file again; `details` as given to [`Rewriter::read`].
    pub fn finish(
        &self,
        pass: Pass,
        ids: &ResolvedIds,
        bytes: &[u8],
        details: bool,
    ) -> Result<Rewritten, RewriteError> {
        self.finish_checking(pass, ids, bytes, details, true)
    }

    /// [`Rewriter::finish`], leaving the check for ciphertext left in the output to the caller
    /// ([`Rewriter::check_left`]) unless `check`.
    pub(crate) fn finish_checking(
        &self,
        pass: Pass,
        ids: &ResolvedIds,
        bytes: &[u8],
        details: bool,
        check: bool,
    ) -> Result<Rewritten, RewriteError> {
        // Each part alone (in parallel): its parts of the file are disjoint and in order.
        let done: Vec<Result<PartDone, RewriteError>> = pass
            .parts
            .into_par_iter()
            .map(|part| self.finish_part(part, ids, bytes, details, check))
            .collect();
        let mut edits = Edits::new();
        let mut counts = BTreeMap::new();
        let mut drafts = Vec::new();
        let mut secrets = Vec::new();
        let mut owners = Vec::new();
        let mut set_missing: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut looks = Vec::new();
        let mut client_ids = Vec::new();
        let mut left_out = Vec::new();
        let mut written = 0;
        let mut notes = Vec::new();
        for d in done {
            let d = d?;
            if let Some((_, e)) = d.refused.into_iter().next() {
                return Err(e);
            }
            looks.extend(d.looks.into_iter().map(|(_, l)| l));
            edits.append(d.edits);
            for (rule, n) in d.counts {
                *counts.entry(rule).or_insert(0) += n;
            }
            drafts.extend(d.drafts);
            secrets.extend(d.secrets);
            owners.extend(d.owners);
            for (k, n) in d.set_missing {
                *set_missing.entry(k).or_insert(0) += n;
            }
            client_ids.extend(d.client_ids);
            left_out.extend(d.left_out);
            written += d.written;
            notes.extend(d.notes);
        }
        if !looks.is_empty() {
            return Err(RewriteError::LooksSecret(looks));
        }
        edits.sort_and_check(bytes.len())?;
        let entries = if details {
            let paths = Paths::new(owners);
            let mut entries: Vec<EditEntry> = drafts
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
                .collect();
            entries.sort_by_key(|e| (e.at.start, e.at.end));
            entries
        } else {
            Vec::new()
        };
        let warnings = set_missing
            .into_iter()
            .map(|((t, f), n)| {
                format!("--set {t}.{f}: {n} record(s) of {t} have no {f} field; nothing added")
            })
            .collect();
        secrets.sort_by_key(|(i, _)| *i);
        Ok(Rewritten {
            edits,
            counts,
            entries,
            secrets: secrets.into_iter().map(|(_, n)| n).collect(),
            warnings,
            client_ids,
            dropped: written == 0 && !left_out.is_empty(),
            left_out,
            records: notes,
        })
    }

    /// The final edits of one part, checked (if `check`) for ciphertext over the bytes it
    /// covers.
    fn finish_part(
        &self,
        part: PartPass,
        ids: &ResolvedIds,
        bytes: &[u8],
        details: bool,
        check: bool,
    ) -> Result<PartDone, RewriteError> {
        let map = &ids.map;
        let mut mapped = Vec::new();
        let mut edits = Edits::new();
        let mut counts = BTreeMap::new();
        let mut drafts = Vec::new();
        let mut secrets = Vec::new();
        let PartPass {
            range,
            edits: part_edits,
            rules,
            deferred,
            candidates,
            candidate_fields,
            drafts: mut part_drafts,
            secrets: part_secrets,
            owners,
            set_missing,
            looks,
            refused,
            rec,
            record_spans,
            ..
        } = part;
        // References whose record was renamed show its new name; edits inside the attribute
        // (a host in it) give way.
        let quot = std::sync::OnceLock::new();
        let quot = || *quot.get_or_init(|| writes_quot(bytes));
        let follows: Vec<(&DisplayRef, Vec<u8>)> = match ids.renames.is_empty() {
            true => Vec::new(),
            false => rec
                .display_refs
                .iter()
                .filter_map(|d| follow_edit(d, bytes, &ids.renames, &quot).map(|b| (d, b)))
                .collect(),
        };
        let mut followed: Vec<Span> = follows.iter().map(|f| f.0.span).collect();
        followed.sort_unstable_by_key(|s| s.start);
        let inside_followed = |span: &Span| {
            let k = followed.partition_point(|f| f.start <= span.start);
            k > 0 && followed[k - 1].end >= span.end
        };
        let mut conditional = rec.conditional.iter().peekable();
        let mut client_id_edits = rec.client_ids.iter().peekable();
        let mut client_ids = Vec::new();
        let mut deferred = deferred.into_iter().peekable();
        for (k, (span, replacement)) in part_edits.iter().enumerate() {
            let mut new = replacement;
            let deferred_here = deferred.next_if(|(i, _)| *i == k);
            let client_id = client_id_edits.next_if(|(i, _, _)| *i == k);
            // A provider's client_id follows only an endpoint's that changes too.
            if let Some((_, old)) = conditional.next_if(|(i, _)| *i == k) {
                if !ids.endpoint_client_ids.contains(old) {
                    continue;
                }
            }
            if !followed.is_empty() && inside_followed(&span) {
                continue;
            }
            if let Some((_, own)) = deferred_here {
                mapped.clear();
                map_ids(map, replacement, own.as_ref(), &mut mapped);
                new = &mapped;
                if new == &bytes[span.range()] {
                    continue;
                }
                if details {
                    part_drafts[k].new = String::from_utf8_lossy(new).into_owned();
                }
            }
            edits.replace(span, new);
            *counts.entry(rules[k]).or_insert(0) += 1;
            if details {
                drafts.push(std::mem::take(&mut part_drafts[k]));
            }
            if let Some((_, old, _)) = client_id {
                client_ids.push(ClientIdChange {
                    old: old.clone(),
                    new: String::from_utf8_lossy(new).trim().to_string(),
                });
            }
        }
        for (d, new) in follows {
            edits.replace(d.span, &new);
            *counts.entry(Rule::DisplayValue).or_insert(0) += 1;
            if details {
                drafts.push(Draft {
                    at: d.span,
                    record: d.record,
                    field: d.field.to_string(),
                    old: String::from_utf8_lossy(&bytes[d.span.range()]).into_owned(),
                    new: String::from_utf8_lossy(&new).into_owned(),
                    rule: Rule::DisplayValue,
                });
            }
        }
        for (k, (span, record)) in candidates.into_iter().enumerate() {
            if !followed.is_empty() && inside_followed(&span) {
                continue;
            }
            let old = &bytes[span.range()];
            if let Some(new) = map_token(map, old) {
                let new = &new;
                edits.replace(span, new);
                *counts.entry(Rule::SysId).or_insert(0) += 1;
                if details {
                    drafts.push(Draft {
                        at: span,
                        record,
                        field: candidate_fields.get(k).cloned().unwrap_or_default(),
                        old: String::from_utf8_lossy(old).into_owned(),
                        new: String::from_utf8_lossy(new).into_owned(),
                        rule: Rule::SysId,
                    });
                }
            }
        }
        for (i, mut note, own) in part_secrets {
            if let Some(own) = own {
                mapped.clear();
                map_ids(map, note.placeholder.as_bytes(), Some(&own), &mut mapped);
                note.placeholder = String::from_utf8_lossy(&mapped).into_owned();
                if let Some(new) = map.get(&own) {
                    note.sys_id = Some(String::from_utf8_lossy(new).into_owned());
                }
            }
            secrets.push((i, note));
        }
        edits.sort_and_check(bytes.len())?;
        if self.rules.scope_prefix {
            let renames = &self.tokens.namespace_prefixes;
            let found = super::rename::markup_renames(renames, bytes, range, &edits)?;
            let mut spans = record_spans;
            spans.sort_by_key(|(s, _)| s.start);
            for (span, new) in &found {
                edits.replace(*span, new.as_bytes());
                *counts.entry(Rule::Namespace).or_insert(0) += 1;
                if details {
                    drafts.push(Draft {
                        at: *span,
                        record: super::rename::innermost(&spans, span.start).unwrap_or(usize::MAX),
                        field: "(markup)".to_string(),
                        old: String::from_utf8_lossy(&bytes[span.range()]).into_owned(),
                        new: new.to_string(),
                        rule: Rule::Namespace,
                    });
                }
            }
            if !found.is_empty() {
                edits.sort_and_check(bytes.len())?;
            }
        }
        if check {
            self.check_left(&bytes[..range.end], range.start, &edits)?;
        }
        let mapped_id = |id: &Option<String>| {
            id.as_deref()
                .and_then(|id| map.get(id.as_bytes()))
                .map(|n| String::from_utf8_lossy(n).into_owned())
        };
        let notes = rec
            .notes
            .into_iter()
            .map(|(_, mut n)| {
                if let Some(new) = mapped_id(&n.sys_id).filter(|_| !n.left_out) {
                    n.input_sys_id = n.sys_id.replace(new);
                }
                n
            })
            .collect();
        Ok(PartDone {
            edits,
            counts,
            drafts,
            secrets,
            owners,
            set_missing,
            looks,
            refused,
            client_ids,
            left_out: rec.left_out.into_iter().map(|(_, l)| l).collect(),
            written: rec.written,
            notes,
        })
    }

    /// Fails when the output of `edits` on `bytes[from..]` would still hold ciphertext (unless
    /// the plan keeps secrets): the fail-closed check [`Rewriter::finish`] makes.
    pub(crate) fn check_left(
        &self,
        bytes: &[u8],
        from: usize,
        edits: &Edits,
    ) -> Result<(), RewriteError> {
        if self.rules.secrets == SecretMode::Keep {
            return Ok(());
        }
        match ciphertext_left(bytes, from, edits) {
            Some(at) => Err(RewriteError::SecretLeft {
                position: Position::locate(bytes, at),
            }),
            None => Ok(()),
        }
    }

    fn placeholder(
        &self,
        table: &str,
        field: &str,
        sys_id: Option<&str>,
        name: Option<&str>,
    ) -> String {
        // The sys_id as it reads after the rewrite when a token rule changes it (a host in a
        // non-hex id); 32-hex ids are filled in later (`OWN_ID`). The name is already the
        // rewritten one (`name_after`): a second pass could rename it twice.
        let sys_id = self.tokens.apply_to(sys_id.unwrap_or("-"));
        self.rules
            .placeholder
            .replace("{table}", &self.tokens.namespace_prefixes.apply_to(table))
            .replace("{field}", field)
            .replace("{sys_id}", &sys_id)
            .replace("{name}", name.unwrap_or(""))
    }
}

/// A record's display name as read and as it reads after the rewrite, by record index.
#[derive(Debug, Default)]
struct RecordNames {
    before: Option<(usize, Option<String>)>,
    after: Option<(usize, Option<String>)>,
}

/// Positions in a part (file offsets, in order) and a cursor over them, to ask whether a value
/// holds one: values come mostly in document order, so the next one is usually a step or two
/// away.
#[derive(Debug, Default)]
struct Marks {
    at: Vec<usize>,
    cursor: usize,
}

impl Marks {
    fn new(at: Vec<usize>) -> Marks {
        Marks { at, cursor: 0 }
    }

    /// `true` when a position lies inside `span`.
    fn inside(&mut self, span: Span) -> bool {
        let at = &self.at;
        let mut k = self.cursor.min(at.len());
        if k > 0 && at[k - 1] >= span.start {
            // Back (a record's fields come after its payload's records): search.
            k = at[..k].partition_point(|&p| p < span.start);
        } else {
            // Forward: a few steps, then a search of the rest.
            let mut steps = 0;
            while k < at.len() && at[k] < span.start {
                k += 1;
                steps += 1;
                if steps == 8 {
                    k += at[k..].partition_point(|&p| p < span.start);
                    break;
                }
            }
        }
        self.cursor = k;
        at.get(k).is_some_and(|&p| p < span.end)
    }
}

/// `true` when the file writes `"` in text as `&quot;`: an `&quot;` outside any tag (one in an
/// attribute value, where a quote must be escaped, says nothing of how text is written). A
/// large file is searched in two halves at once.
fn writes_quot(bytes: &[u8]) -> bool {
    const LARGE: usize = 8 << 20;
    const NEEDLE: &[u8] = b"&quot;";
    let in_text = |from: usize, to: usize| {
        memchr::memmem::find_iter(&bytes[from..to], NEEDLE).any(|i| {
            let at = from + i;
            memchr::memrchr2(b'<', b'>', &bytes[..at]).is_none_or(|j| bytes[j] == b'>')
        })
    };
    if bytes.len() < LARGE {
        return in_text(0, bytes.len());
    }
    let mid = bytes.len() / 2;
    let overlap = (mid + NEEDLE.len()).min(bytes.len());
    let (a, b) = rayon::join(|| in_text(0, overlap), || in_text(mid, bytes.len()));
    a || b
}

/// `text` with its sys_id tokens mapped, and the [`OWN_ID`] marker replaced by `own` (a
/// record's old id) as it reads after the rewrite, into `out`.
fn map_ids(map: &IdMap, text: &[u8], own: Option<&[u8; 32]>, out: &mut Vec<u8>) {
    let mut at = 0;
    for span in id_tokens(text) {
        if let Some(new) = map_token(map, &text[span.range()]) {
            out.extend_from_slice(&text[at..span.start]);
            out.extend_from_slice(&new);
            at = span.end;
        }
    }
    out.extend_from_slice(&text[at..]);
    let own = own.map(|o| map.get(o).unwrap_or(o));
    let marker = OWN_ID.as_bytes();
    if let Some(id) = own.filter(|_| memchr::memmem::find(out, marker).is_some()) {
        let mut replaced = Vec::with_capacity(out.len());
        let mut at = 0;
        for i in memchr::memmem::find_iter(out, marker) {
            replaced.extend_from_slice(&out[at..i]);
            replaced.extend_from_slice(id);
            at = i + marker.len();
        }
        replaced.extend_from_slice(&out[at..]);
        *out = replaced;
    }
}

/// Stands for a record's own sys_id in a placeholder until the ids are resolved: no export
/// holds it (U+FFFF is not an XML character), and no escaping changes it.
const OWN_ID: &str = "\u{FFFF}sn-retarget:own-sys-id\u{FFFF}";

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

#[derive(Default)]
struct Draft {
    at: Span,
    record: usize,
    field: String,
    old: String,
    new: String,
    rule: Rule,
}

/// What the reading of one part of a file found. Every list is in reading order, so that the
/// records of a malformed payload can be withdrawn from the end.
/// A sys_id a record defines.
#[derive(Debug)]
struct Defined {
    record: usize,
    /// 32 hex digits.
    id: [u8; 32],
    /// Shared by the records of a table that follow one another.
    table: std::sync::Arc<str>,
    /// Its regenerated value (two SHA-1s, made while reading, on every core); `None` when
    /// this plan generated the id itself.
    fresh: Option<[u8; 32]>,
}

impl Defined {
    fn id(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }
}

/// One part finished.
struct PartDone {
    edits: Edits,
    counts: BTreeMap<Rule, usize>,
    drafts: Vec<Draft>,
    secrets: Vec<(usize, SecretNote)>,
    owners: Vec<(usize, String, Option<String>, Option<usize>)>,
    set_missing: BTreeMap<(String, String), usize>,
    looks: Vec<(usize, LooksSecret)>,
    refused: Vec<(usize, RewriteError)>,
    client_ids: Vec<ClientIdChange>,
    left_out: Vec<LeftOut>,
    written: usize,
    notes: Vec<RecordNote>,
}

#[derive(Debug, Default)]
struct PartPass {
    /// The bytes of the file this part covers.
    range: Span,
    /// Edits whose replacement is known, except for sys_ids inside it (see `deferred`).
    edits: Edits,
    /// Per edit: its rule and its record.
    rules: Vec<Rule>,
    owner: Vec<usize>,
    /// Edits whose replacement may hold sys_ids to map (index into `edits`), and the record's
    /// own old id when the replacement holds it (a placeholder's `{sys_id}`).
    deferred: Vec<(usize, Option<[u8; 32]>)>,
    /// Spans (in the file) of sys_id-shaped tokens in values, and their record.
    candidates: Vec<(Span, usize)>,
    /// Per candidate, the field (only with details).
    candidate_fields: Vec<String>,
    /// Per edit (only with details).
    drafts: Vec<Draft>,
    /// Secrets replaced: record index, note (old sys_id), the old id to map.
    secrets: Vec<(usize, SecretNote, Option<[u8; 32]>)>,
    /// sys_ids the part defines: record index, id, table.
    defined: Vec<Defined>,
    owners: Vec<(usize, String, Option<String>, Option<usize>)>,
    set_missing: BTreeMap<(String, String), usize>,
    /// Values that look secret with no rule: record index, what.
    looks: Vec<(usize, LooksSecret)>,
    /// Edits refused because they would write into a secret: record index, why.
    refused: Vec<(usize, RewriteError)>,
    /// Selection, renames, display references, client_ids, hosts met.
    rec: RecordsPass,
    /// Per record (only with details): its element's span in the file and its index, to name
    /// the record of a rename in markup.
    record_spans: Vec<(Span, usize)>,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draft")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

struct Planner<'w, 'f> {
    w: &'w Rewriter,
    file: &'f [u8],
    /// Positions in the file (for what a message names).
    locator: &'f crate::error::Locator<'f>,
    /// The display names of the record being looked at, worked out once.
    names: RecordNames,
    /// Whether the file writes `&quot;` (see [`Planner::quot`]).
    quot: &'f std::sync::OnceLock<bool>,
    hosts: HostFinder,
    /// Where the part may hold a host (see [`HostFinder::candidates`]), as file offsets.
    host_at: Marks,
    /// Dictionary records seen: the plan's secret rules plus what they declare (made at the
    /// first one).
    learner: DictionaryLearner,
    learned: Option<SecretRules>,
    /// The table of the last record that defined an id (shared by the next ones).
    last_table: Option<std::sync::Arc<str>>,
    details: bool,
    /// Collect sys_id tokens (some id may change).
    ids: bool,
    /// Collect display references (some record may be renamed).
    renames: bool,
    /// The record being planned.
    cur: Cur,
    part: PartPass,
}

impl Planner<'_, '_> {
    /// Whether `"` in `text` is escaped as `&quot;` (as the file writes it, if it does): the
    /// file is searched once, the first time a replacement holds a `"`.
    fn quot(&self, text: &str) -> bool {
        text.contains('"') && *self.quot.get_or_init(|| writes_quot(self.file))
    }

    /// An edit. `deferred`: the replacement may hold sys_ids to map once all are known (with
    /// the record's own old id when the replacement embeds it).
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        record: usize,
        field: &str,
        span: Span,
        new: &[u8],
        rule: Rule,
        old_shown: Option<String>,
        deferred: Option<Option<[u8; 32]>>,
    ) {
        let old = &self.file[span.range()];
        if old == new && deferred.is_none() {
            return;
        }
        let p = &mut self.part;
        if let Some(own) = deferred {
            p.deferred.push((p.edits.len(), own));
        }
        p.edits.replace(span, new);
        p.rules.push(rule);
        p.owner.push(record);
        if self.details {
            p.drafts.push(Draft {
                at: span,
                record,
                field: field.to_string(),
                old: old_shown.unwrap_or_else(|| String::from_utf8_lossy(old).into_owned()),
                new: String::from_utf8_lossy(new).into_owned(),
                rule,
            });
        }
    }

    /// Token substitutions in a value's raw bytes, at their file position; sys_id-shaped
    /// tokens are kept as candidates until every file has been read.
    fn tokens_in(&mut self, record: usize, field: &str, file_span: Span) {
        let raw = &self.file[file_span.range()];
        let at = |s: Span| Span::new(file_span.start + s.start, file_span.start + s.end);
        if !self.w.tokens.namespace_prefixes.is_empty() || self.host_at.inside(file_span) {
            let mut found = Vec::new();
            self.w.tokens.scan_into(raw, &self.hosts, false, &mut found);
            for s in found {
                if s.rule == Rule::Host {
                    // Which source host it was (no allocation for the usual lower-case one).
                    if let Ok(old) = std::str::from_utf8(s.old) {
                        let key = crate::analyze::hosts::lowercase(old);
                        if self.w.tokens.hosts.contains_key(key.as_ref()) {
                            self.part.rec.host_seen(&key);
                        }
                    }
                }
                self.push(record, field, at(s.span), &s.new, s.rule, None, None);
            }
        }
        if self.ids && raw.len() >= 32 {
            for s in id_tokens(raw) {
                self.part.candidates.push((at(s), record));
                if self.details {
                    self.part.candidate_fields.push(field.to_string());
                }
            }
        }
    }

    /// Replaces the whole value of `f` with `text`, written in the field's own style.
    #[allow(clippy::too_many_arguments)]
    fn whole_value(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        text: &str,
        rule: Rule,
        old_shown: Option<String>,
        deferred: Option<Option<[u8; 32]>>,
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
                    format!(">{}</{}>", escape_text(text, self.quot(text)), f.name),
                )
            }
            ValueKind::Cdata if !text.is_empty() => (f.content, cdata_section(text)),
            _ => (f.content, escape_text(text, self.quot(text))),
        };
        let quot = layers.contains(&Escaping::Escaped) && self.quot(&local);
        let bytes = through_layers(local, &layers, quot);
        self.push(
            r.index,
            f.name,
            r.file_span(local_span),
            bytes.as_bytes(),
            rule,
            old_shown,
            deferred,
        );
    }

    /// The record's own sys_id, as a map key (for a placeholder that embeds it).
    fn own_id(r: &Record<'_>) -> Option<[u8; 32]> {
        r.sys_id()
            .filter(|id| is_sys_id(id))
            .and_then(|id| id.as_bytes().try_into().ok())
    }

    /// A secret replaced: the edit and its note.
    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::too_many_arguments)]
    fn secret(
        &mut self,
        r: &Record<'_>,
        field: &str,
        key: Option<String>,
        name: Option<String>,
        value: String,
        shown: String,
        edit: impl FnOnce(&mut Self, Option<[u8; 32]>, String),
    ) {
        let own = Self::own_id(r);
        edit(self, own, shown);
        self.part.secrets.push((
            r.index,
            SecretNote {
                table: r.table.to_string(),
                sys_id: r.sys_id().map(str::to_string),
                name,
                field: field.to_string(),
                key,
                depth: r.place.depth,
                placeholder: value,
            },
            own,
        ));
    }

    /// The option that would rewrite the whole value of `f`, if one does.
    fn edit_option(&self, r: &Record<'_>, f: &Field<'_>) -> Option<&'static str> {
        let rules = &self.w.rules;
        let column = |c: &super::Column| {
            c.table.eq_ignore_ascii_case(r.table) && c.field.eq_ignore_ascii_case(f.name)
        };
        if rules.set.iter().any(|s| column(&s.column)) {
            Some("--set")
        } else if rules.replace.iter().any(|p| column(&p.column)) {
            Some("--replace")
        } else if rules.regenerate_fields.iter().any(column) {
            Some("--regenerate-field")
        } else {
            None
        }
    }

    /// Refuses an edit of a secret value (nothing is written; the run stops).
    fn refuse_edit(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        option: &'static str,
        why: &'static str,
    ) {
        let record = self
            .display_name(r)
            .map(|n| format!("{n:?}"))
            .or_else(|| r.sys_id().map(str::to_string))
            .unwrap_or_else(|| "-".to_string());
        let position = self.locator.locate(r.file_span(f.content).start);
        self.part.refused.push((
            r.index,
            RewriteError::EditOnSecret(Box::new(SecretEdit {
                option,
                column: format!("{}.{}", r.table, f.name),
                why,
                table: r.table.to_string(),
                record,
                position,
            })),
        ));
    }

    /// A value named like a secret that no rule covers (the run stops, naming it).
    fn looks_secret(&mut self, r: &Record<'_>, f: &Field<'_>) {
        // A property's display name is its `name` (asked once per record).
        let name = self.display_name(r);
        let property = (r.table == "sys_properties" && f.name == "value")
            .then_some(name.as_deref())
            .flatten()
            .filter(|n| {
                crate::analyze::secrets::looks_secret(n)
                    && !crate::analyze::secrets::looks_secret(f.name)
            });
        let selector = match property {
            Some(n) => format!("sys_properties[name={n}].value"),
            None => format!("{}.{}", r.table, f.name),
        };
        let position = self.locator.locate(r.file_span(f.content).start);
        self.part.looks.push((
            r.index,
            LooksSecret {
                table: r.table.to_string(),
                sys_id: r.sys_id().map(str::to_string),
                name,
                field: f.name.to_string(),
                position,
                selector,
            },
        ));
    }

    /// Secret-named keys inside the value of `f` (JSON, query string) replaced in place, and
    /// the value's other tokens rewritten around them. `false` when it holds none.
    fn embedded(&mut self, r: &Record<'_>, f: &Field<'_>) -> bool {
        // The value's text, and where each of its bytes is in the record's buffer.
        let (decoded, base, map) = match f.kind {
            ValueKind::Text => {
                let mut out = Vec::new();
                let mut map = crate::scan::OffsetMap::default();
                if !crate::scan::decode_escaped(r.raw(f), &mut out, &mut map) {
                    return false;
                }
                (out, f.content.start, Some(map))
            }
            ValueKind::Cdata => {
                let c = f.cdata.unwrap_or(f.content);
                (r.buffer()[c.range()].to_vec(), c.start, None)
            }
            _ => return false,
        };
        let Ok(text) = std::str::from_utf8(&decoded) else {
            return false;
        };
        let rules = &self.w.rules.secret_rules;
        let found = crate::analyze::embedded::embedded_secrets(text, &|v| rules.is_placeholder(v));
        if found.is_empty() {
            return false;
        }
        if let Some(option) = self.edit_option(r, f) {
            self.refuse_edit(r, f, option, "a secret-named key inside the value");
            return true;
        }
        let to_buf = |d: usize| base + map.as_ref().map_or(d, |m| m.to_raw(d));
        let layers = r.escapings();
        let mut hole = f.content.start;
        for e in found {
            let (start, end) = (to_buf(e.span.start), to_buf(e.span.end));
            self.tokens_in(r.index, f.name, r.file_span(Span::new(hole, start)));
            hole = end;
            let name = self.name_after(r);
            let key = e.path.replace(" > ", "/");
            let field = format!("{}/{key}", f.name);
            let value = self.secret_value(r, &field, name.as_deref());
            // Inside a JSON string: no `"` (placeholders hold none) and no lone backslash.
            let local = value.replace('\\', "\\\\");
            let quot = layers.contains(&Escaping::Escaped) && self.quot(&local);
            let bytes = through_layers(local, &layers, quot);
            let span = r.file_span(Span::new(start, end));
            let shown = format!(
                "(secret: {} {})",
                SecretReason::EmbeddedKey.describe(),
                e.path
            );
            self.secret(
                r,
                f.name,
                Some(e.path),
                name,
                value,
                shown,
                |p, own, shown| {
                    p.push(
                        r.index,
                        f.name,
                        span,
                        bytes.as_bytes(),
                        Rule::Secret,
                        Some(shown),
                        Some(own),
                    );
                },
            );
        }
        self.tokens_in(r.index, f.name, r.file_span(Span::new(hole, f.content.end)));
        true
    }

    /// The record's display name as it reads after the rewrite (sys_ids in it are mapped with
    /// the placeholder that holds it), so that a second run fills in the same.
    fn name_after(&mut self, r: &Record<'_>) -> Option<String> {
        // Once per record (a record with many secret fields asks for each).
        if let Some((index, name)) = &self.names.after {
            if *index == r.index {
                return name.clone();
            }
        }
        let name = self.work_out_name_after(r);
        self.names.after = Some((r.index, name.clone()));
        name
    }

    /// The record's display name as read (once per record).
    fn display_name(&mut self, r: &Record<'_>) -> Option<String> {
        if let Some((index, name)) = &self.names.before {
            if *index == r.index {
                return name.clone();
            }
        }
        let name = r.display_name().map(|n| n.trim().to_string());
        self.names.before = Some((r.index, name.clone()));
        name
    }

    fn work_out_name_after(&mut self, r: &Record<'_>) -> Option<String> {
        // As `Record::display_name` reads it, from the values after the rewrite (a `--set` may
        // fill a field that was empty).
        for key in crate::model::DISPLAY_KEYS {
            let name = match (r.field(key), r.attr(key)) {
                (Some(f), _) => match self.field_rules(r, f) {
                    Some((new, _)) => new,
                    None => self.w.tokens.apply_to(&r.text(f)),
                },
                (None, Some(a)) => self.w.tokens.apply_to(&a.value()),
                (None, None) => continue,
            };
            if !name.trim().is_empty() {
                return Some(name.trim().to_string());
            }
        }
        None
    }

    fn secret_value(&self, r: &Record<'_>, field: &str, name: Option<&str>) -> String {
        match self.w.rules.secrets {
            SecretMode::Blank => String::new(),
            // The record's own id is filled in once the ids are resolved (`map_ids`).
            _ => {
                let id = Self::own_id(r).map_or(r.sys_id(), |_| Some(OWN_ID));
                self.w.placeholder(r.table, field, id, name)
            }
        }
    }

    /// Replaces an attribute value shaped like ciphertext (no rule names attributes, but a
    /// secret is a secret wherever it sits). Returns `true` when it did.
    fn attr_secret(
        &mut self,
        r: &Record<'_>,
        name: &dyn Fn() -> String,
        a: &crate::model::Attr<'_>,
    ) -> bool {
        if self.w.rules.secrets == SecretMode::Keep || ciphertext_shape(&a.value()).is_none() {
            return false;
        }
        let name = &name();
        let value = self.secret_value(r, name, None);
        let layers = r.escapings();
        let local = escape_attr(&value);
        let quot = layers.contains(&Escaping::Escaped) && self.quot(&local);
        let bytes = through_layers(local, &layers, quot);
        let span = r.file_span(a.span);
        self.secret(
            r,
            name,
            None,
            None,
            value,
            "(secret: ciphertext)".into(),
            |p, own, shown| {
                p.push(
                    r.index,
                    name,
                    span,
                    bytes.as_bytes(),
                    Rule::Secret,
                    Some(shown),
                    Some(own),
                );
            },
        );
        true
    }
}

impl Visitor for Planner<'_, '_> {
    fn record(&mut self, r: &Record<'_>) {
        if matches!(r.table, "sys_dictionary" | "sys_db_object") {
            let rules = (self.learned).get_or_insert_with(|| self.w.rules.secret_rules.clone());
            self.learner.learn(rules, r);
        }
        let index = r.index;
        let sys_id = r.sys_id();
        let rules = &self.w.rules;
        let selects = !rules.only.is_empty() || !rules.exclude.is_empty();
        if selects && !self.part.rec.select(r, &rules.only, &rules.exclude) {
            self.leave_out(r);
            return;
        }
        if r.place.depth == 0 && r.place.parent.is_none() {
            self.part.rec.written += 1;
        }
        self.cur = self.cur_of(r);
        if self.details {
            self.part.record_spans.push((r.file_span(r.span), index));
            self.part.owners.push((
                index,
                r.table.to_string(),
                sys_id.map(str::to_string),
                r.place.payload_of,
            ));
            let name = r.display_name().map(|n| n.trim().to_string());
            let after = self.name_after(r);
            self.part.rec.notes.push((
                index,
                RecordNote {
                    table: r.table.to_string(),
                    sys_id: sys_id.map(str::to_string),
                    input_sys_id: None,
                    input_name: name.clone().filter(|n| Some(n) != after.as_ref()),
                    name: after,
                    depth: r.place.depth,
                    left_out: false,
                },
            ));
        }
        if self.renames {
            self.display_refs(r);
        }
        if let Some(id) = sys_id.filter(|id| is_sys_id(id) && !self.cur.existing) {
            if self.w.rules.sys_ids == IdMode::Regenerate {
                let g = &self.w.generator;
                let table = match &self.last_table {
                    Some(t) if **t == *r.table => t.clone(),
                    _ => self
                        .last_table
                        .insert(std::sync::Arc::from(r.table))
                        .clone(),
                };
                if let Ok(id_bytes) = id.as_bytes().try_into() {
                    self.part.defined.push(Defined {
                        record: index,
                        id: id_bytes,
                        table,
                        fresh: (!g.is_generated(id)).then(|| g.sys_id_bytes(id)),
                    });
                }
            }
        }

        // Names of attributes as the report writes them, made only when needed.
        let details = self.details;
        let shown = |name: &dyn Fn() -> String| if details { name() } else { String::new() };
        for a in r.attrs() {
            let name = || format!("@{}", a.name);
            if !self.attr_secret(r, &name, a) {
                self.tokens_in(index, &shown(&name), r.file_span(a.span));
            }
        }
        for s in &self.w.rules.set {
            if s.column.table == r.table
                && r.field(&s.column.field).is_none()
                && s.select.as_ref().is_none_or(|x| x.selects(r))
            {
                *self
                    .part
                    .set_missing
                    .entry((s.column.table.clone(), s.column.field.clone()))
                    .or_insert(0) += 1;
            }
        }
        let keep_secrets = self.w.rules.secrets == SecretMode::Keep;
        let secret_rules = &self.w.rules.secret_rules;
        let secret_columns = secret_rules.table_columns(r.table);
        let values = crate::model::MemoValues::new(r);
        for f in r.fields() {
            for a in r.field_attrs(f) {
                let name = || format!("{}@{}", f.name, a.name);
                let renamed = (a.name == "source")
                    .then(|| {
                        self.w
                            .rules
                            .namespaces
                            .iter()
                            .find(|(from, _)| from == a.raw)
                    })
                    .flatten();
                let app = self.w.rules.app_name.as_ref();
                match renamed {
                    _ if self.attr_secret(r, &name, a) => {}
                    _ if app
                        .is_some_and(|app| super::rename::is_app_display_value(app, r, f, a)) =>
                    {
                        let new = app.map(|app| app.new.as_str()).unwrap_or_default();
                        let layers = r.escapings();
                        let local = escape_attr(new);
                        let quot = layers.contains(&Escaping::Escaped) && self.quot(&local);
                        let bytes = through_layers(local, &layers, quot);
                        self.push(
                            index,
                            &shown(&name),
                            r.file_span(a.span),
                            bytes.as_bytes(),
                            Rule::AppName,
                            None,
                            None,
                        );
                    }
                    Some((_, to)) => {
                        let to = to.clone();
                        self.push(
                            index,
                            &shown(&name),
                            r.file_span(a.span),
                            to.as_bytes(),
                            Rule::Namespace,
                            None,
                            None,
                        );
                    }
                    None => self.tokens_in(index, &shown(&name), r.file_span(a.span)),
                }
            }
            if f.payload.is_some_and(|p| p.read) {
                continue; // its records are rewritten themselves
            }
            let secret = secret_rules.field_secret_with(secret_columns, r, f, &values);
            if let (false, Some((why, _))) = (keep_secrets, secret) {
                if let Some(option) = self.edit_option(r, f) {
                    self.refuse_edit(r, f, option, why.describe());
                    continue;
                }
                if why == SecretReason::SecretName {
                    self.looks_secret(r, f);
                    self.tokens_in(index, f.name, r.file_span(f.content));
                    continue;
                }
                // A derived twin's tokens are the original's: emptied, not to be re-entered.
                if self.cur.derived && self.w.state_reset(r.table, f.name).is_some() {
                    let shown = format!("(secret: {}; the original's)", why.describe());
                    self.whole_value(r, f, "", Rule::StateReset, Some(shown), Some(None));
                    continue;
                }
                let name = self.name_after(r);
                let value = self.secret_value(r, f.name, name.as_deref());
                let shown = format!("(secret: {})", why.describe());
                let text = value.clone();
                self.secret(r, f.name, None, name, value, shown, |p, own, shown| {
                    p.whole_value(r, f, &text, Rule::Secret, Some(shown), Some(own));
                });
                continue;
            }
            if !keep_secrets && may_embed(r.raw(f)) && self.embedded(r, f) {
                continue;
            }
            // A kept secret edited by --set or --replace: its old value stays out of the report.
            let shown = secret.map(|(why, _)| format!("(secret: {})", why.describe()));
            match self.field_rules(r, f) {
                Some((new, rule)) => self.rule_edit(r, f, &new, rule, shown),
                None => self.tokens_in(index, f.name, r.file_span(f.content)),
            }
        }
    }

    fn discard_from(&mut self, first_index: usize) {
        self.learner.discard_from(first_index);
        self.withdraw(first_index);
    }
}

impl Planner<'_, '_> {
    /// Forgets every edit and finding of the records `>= first_index` (a malformed payload's,
    /// or those inside a record left out).
    fn withdraw(&mut self, first_index: usize) {
        let p = &mut self.part;
        let keep = p
            .owner
            .iter()
            .position(|&o| o >= first_index)
            .unwrap_or(p.owner.len());
        p.edits.truncate(keep);
        p.rules.truncate(keep);
        p.owner.truncate(keep);
        p.drafts.truncate(if self.details { keep } else { 0 });
        p.deferred.retain(|(k, _)| *k < keep);
        let keep = p
            .candidates
            .iter()
            .position(|&(_, o)| o >= first_index)
            .unwrap_or(p.candidates.len());
        p.candidates.truncate(keep);
        p.candidate_fields
            .truncate(if self.details { keep } else { 0 });
        p.secrets.retain(|(i, _, _)| *i < first_index);
        p.looks.retain(|(i, _)| *i < first_index);
        p.refused.retain(|(i, _)| *i < first_index);
        p.owners.retain(|o| o.0 < first_index);
        p.defined.retain(|d| d.record < first_index);
        p.record_spans.retain(|s| s.1 < first_index);
        let edits = p.edits.len();
        p.rec.withdraw(first_index, edits);
    }
}

/// The values that look secret, for a message: `file position: table.field (record)`.
fn looks_list(list: &[LooksSecret]) -> String {
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
