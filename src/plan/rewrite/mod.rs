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

use rustc_hash::FxHashMap;

use super::ciphertext::ciphertext_left;
use super::ids::{IdGen, IdMap};
use super::intent::{Intent, STATE_FIELDS};
use super::records::{Hits, RecordsPass, Renames};
use super::tokens::{ChangeKind, TokenRules};
use super::{IdMode, NATURAL_KEY_TABLES, Rules, SecretMode};
use crate::analyze::hosts::HostFinder;
use crate::analyze::secrets::{DictionaryLearner, SecretRules};
use crate::error::Position;
use crate::model;
use crate::scan::Span;
use crate::splice::Edits;

mod finish;
mod planner;
mod records;
mod report;
mod values;
mod visit;

use planner::*;
use records::Cur;
pub use report::{EditEntry, LooksSecret, RewriteError, Rewritten, SecretEdit, SecretNote};

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
    #[cfg_attr(feature = "internals", visibility::make(pub))]
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub(crate) fn with_part_bytes(mut self, bytes: usize) -> Rewriter {
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
            let spelled_at = match self.tokens.hosts.is_empty()
                && !self.maps_ids()
                && self.tokens.namespace_prefixes.is_empty()
            {
                true => Vec::new(),
                false => crate::plan::spelled::token_refs(part, covers.start),
            };
            Planner {
                w: self,
                file: bytes,
                locator: &locator,
                names: RecordNames::default(),
                quot: &quot,
                hosts,
                host_at: Marks::new(host_at),
                spelled_at: Marks::new(spelled_at),
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
        // The first seen of each id, in the order read.
        let mut seen = rustc_hash::FxHashSet::default();
        seen.reserve(defined.len());
        defined.retain(|d| seen.insert(d.id));
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
        out.kept_natural.sort_unstable_by(|a, b| a.1.cmp(&b.1));
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
