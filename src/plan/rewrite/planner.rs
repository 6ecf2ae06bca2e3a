//! The planner: one part of a file read, the edits whose replacement is known noted as the
//! reader hands records over, and the sys_id tokens kept for later.

use std::collections::BTreeMap;

use super::Rewriter;
use super::finish::{OWN_ID, Owner, writes_quot};
use super::records::Cur;
use super::report::{LooksSecret, RewriteError, SecretEdit, SecretNote};
use crate::analyze::hosts::HostFinder;
use crate::analyze::refs::is_sys_id;
use crate::analyze::secrets::{DictionaryLearner, SecretReason, SecretRules, ciphertext_shape};
use crate::model::{Escaping, Field, Record, ValueKind};
use crate::plan::SecretMode;
use crate::plan::escape::{cdata_section, escape_attr, escape_text, through_layers};
use crate::plan::records::RecordsPass;
use crate::plan::spelled::Decoded;
use crate::plan::tokens::{ChangeKind, Subst, TokenRules, id_tokens};
use crate::scan::Span;
use crate::splice::Edits;

/// A record's display name as read and as it reads after the rewrite, by record index.
#[derive(Debug, Default)]
pub(super) struct RecordNames {
    pub(super) before: Option<(usize, Option<String>)>,
    pub(super) after: Option<(usize, Option<String>)>,
}

/// Positions in a part (file offsets, in order) and a cursor over them, to ask whether a value
/// holds one: values come mostly in document order, so the next one is usually a step or two
/// away.
#[derive(Debug, Default)]
pub(super) struct Marks {
    pub(super) at: Vec<usize>,
    pub(super) cursor: usize,
}

impl Marks {
    pub(super) fn new(at: Vec<usize>) -> Marks {
        Marks { at, cursor: 0 }
    }

    /// `true` when a position lies inside `span`.
    pub(super) fn inside(&mut self, span: Span) -> bool {
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

    /// The positions inside `span`, in order.
    pub(super) fn within(&mut self, span: Span) -> &[usize] {
        if !self.inside(span) {
            return &[];
        }
        let from = &self.at[self.cursor..];
        &from[..from.partition_point(|&p| p < span.end)]
    }
}

/// A secret found in a record: its field (and the key inside the value, for an embedded one),
/// the record's display name after the rewrite and the placeholder written in its place.
pub(super) struct SecretFound<'a> {
    pub(super) field: &'a str,
    pub(super) key: Option<String>,
    pub(super) name: Option<String>,
    pub(super) placeholder: String,
}

/// What an edit changes and how it is told: why (`rule`), the old value as reports show it
/// (`None`: the bytes replaced) and whether the replacement may hold sys_ids to map once all
/// are known (`deferred`, with the record's own old id when the replacement embeds it).
pub(super) struct Change {
    pub(super) rule: ChangeKind,
    pub(super) old_shown: Option<String>,
    pub(super) deferred: Option<Option<[u8; 32]>>,
}

impl Change {
    /// A change for `rule`, shown as the bytes it replaces, not deferred.
    pub(super) fn of(rule: ChangeKind) -> Change {
        Change {
            rule,
            old_shown: None,
            deferred: None,
        }
    }

    /// Shows the old value as `shown` (e.g. a secret's reason, never its value).
    pub(super) fn shown(self, shown: String) -> Change {
        Change {
            old_shown: Some(shown),
            ..self
        }
    }

    /// The replacement may hold sys_ids to map; `own`: the record's old id it embeds.
    pub(super) fn deferred(self, own: Option<[u8; 32]>) -> Change {
        Change {
            deferred: Some(own),
            ..self
        }
    }
}

#[derive(Default)]
pub(super) struct Draft {
    pub(super) at: Span,
    pub(super) record: usize,
    pub(super) field: String,
    pub(super) old: String,
    pub(super) new: String,
    pub(super) rule: ChangeKind,
}

/// What the reading of one part of a file found. Every list is in reading order, so that the
/// records of a malformed payload can be withdrawn from the end.
/// A sys_id a record defines.
#[derive(Debug)]
pub(super) struct Defined {
    pub(super) record: usize,
    /// 32 hex digits.
    pub(super) id: [u8; 32],
    /// Shared by the records of a table that follow one another.
    pub(super) table: std::sync::Arc<str>,
    /// Its regenerated value (two SHA-1s, made while reading, on every core); `None` when
    /// this plan generated the id itself.
    pub(super) fresh: Option<[u8; 32]>,
}

impl Defined {
    pub(super) fn id(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or_default()
    }
}

#[derive(Debug, Default)]
pub(super) struct PartPass {
    /// The bytes of the file this part covers.
    pub(super) range: Span,
    /// Edits whose replacement is known, except for sys_ids inside it (see `deferred`).
    pub(super) edits: Edits,
    /// Per edit: its rule and its record.
    pub(super) rules: Vec<ChangeKind>,
    pub(super) owner: Vec<usize>,
    /// Edits whose replacement may hold sys_ids to map (index into `edits`), and the record's
    /// own old id when the replacement holds it (a placeholder's `{sys_id}`).
    pub(super) deferred: Vec<(usize, Option<[u8; 32]>)>,
    /// Spans (in the file) of sys_id-shaped tokens in values, their record and their
    /// [`fingerprint`](crate::plan::ids::fingerprint).
    pub(super) candidates: Vec<(Span, usize, u64)>,
    /// Per candidate, the field (only with details).
    pub(super) candidate_fields: Vec<String>,
    /// Per edit (only with details).
    pub(super) drafts: Vec<Draft>,
    /// Secrets replaced: record index, note (old sys_id), the old id to map.
    pub(super) secrets: Vec<(usize, SecretNote, Option<[u8; 32]>)>,
    /// sys_ids the part defines: record index, id, table.
    pub(super) defined: Vec<Defined>,
    /// The records edits may name (only with details).
    pub(super) owners: Vec<Owner>,
    pub(super) set_missing: BTreeMap<(String, String), usize>,
    /// Values that look secret with no rule: record index, what.
    pub(super) looks: Vec<(usize, LooksSecret)>,
    /// Edits refused because they would write into a secret, and secrets in payloads that are
    /// not read: record index, why.
    pub(super) refused: Vec<(usize, RewriteError)>,
    /// Selection, renames, display references, client_ids, hosts met.
    pub(super) rec: RecordsPass,
    /// Per record (only with details): its element's span in the file and its index, to name
    /// the record of a rename in markup.
    pub(super) record_spans: Vec<(Span, usize)>,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draft")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

pub(super) struct Planner<'w, 'f> {
    pub(super) w: &'w Rewriter,
    pub(super) file: &'f [u8],
    /// Positions in the file (for what a message names).
    pub(super) locator: &'f crate::error::Locator<'f>,
    /// The display names of the record being looked at, worked out once.
    pub(super) names: RecordNames,
    /// Whether the file writes `&quot;` (see [`Planner::quot`]).
    pub(super) quot: &'f std::sync::OnceLock<bool>,
    pub(super) hosts: HostFinder,
    /// Where the part may hold a host (see [`HostFinder::candidates`]), as file offsets.
    pub(super) host_at: Marks,
    /// Where the part spells a token character with a character reference (see
    /// [`crate::plan::spelled`]), as file offsets: the values holding one are searched decoded.
    pub(super) spelled_at: Marks,
    /// Dictionary records seen: the plan's secret rules plus what they declare (made at the
    /// first one).
    pub(super) learner: DictionaryLearner,
    pub(super) learned: Option<SecretRules>,
    /// The table of the last record that defined an id (shared by the next ones).
    pub(super) last_table: Option<std::sync::Arc<str>>,
    pub(super) details: bool,
    /// Collect sys_id tokens (some id may change).
    pub(super) ids: bool,
    /// Collect display references (some record may be renamed).
    pub(super) renames: bool,
    /// The record being planned.
    pub(super) cur: Cur,
    pub(super) part: PartPass,
}

impl Planner<'_, '_> {
    /// Whether `"` in `text` is escaped as `&quot;` (as the file writes it, if it does): the
    /// file is searched once, the first time a replacement holds a `"`.
    pub(super) fn quot(&self, text: &str) -> bool {
        text.contains('"') && *self.quot.get_or_init(|| writes_quot(self.file))
    }

    /// An edit of `span` (in record `record`, field `field`) to `new`.
    pub(super) fn push(
        &mut self,
        record: usize,
        field: &str,
        span: Span,
        new: &[u8],
        change: Change,
    ) {
        let Change {
            rule,
            old_shown,
            deferred,
        } = change;
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
    /// tokens are kept as candidates until every file has been read. A value that spells a
    /// token character with a character reference is searched decoded, each substitution made
    /// on the raw bytes it covers (see [`crate::plan::spelled`]).
    pub(super) fn tokens_in(&mut self, record: usize, field: &str, file_span: Span) {
        let file = self.file;
        let shift = |s: Span| Span::new(file_span.start + s.start, file_span.start + s.end);
        if self.spelled_at.inside(file_span) {
            let decoded = Decoded::of(&file[file_span.range()]);
            let text = decoded.bytes.as_slice();
            let at = |s: Span| shift(decoded.raw_span(s));
            let found = substitutions(&self.w.tokens, &self.hosts, text);
            self.push_found(record, field, found, at);
            self.id_candidates(record, field, text, at);
            return;
        }
        let raw = &file[file_span.range()];
        let dots = self.host_at.within(file_span);
        if !self.w.tokens.namespace_prefixes.is_empty() || !dots.is_empty() {
            let mut found = Vec::new();
            let dots = dots.iter().map(|d| d - file_span.start);
            self.w
                .tokens
                .scan_into_at(raw, &self.hosts, dots, &mut found);
            self.push_found(record, field, found, shift);
        }
        self.id_candidates(record, field, raw, shift);
    }

    /// `text` with the token substitutions of the rewrite made (hosts, namespaces), its
    /// character references read as the rewrite reads them (see [`crate::plan::spelled`]).
    fn tokens_mapped(&self, text: &str) -> String {
        let decoded = Decoded::of(text.as_bytes());
        let mut edits = Edits::new();
        for s in substitutions(&self.w.tokens, &self.hosts, &decoded.bytes) {
            edits.replace(s.span, &s.new);
        }
        // (Substitutions never overlap; should they, nothing is mapped rather than half.)
        let out = edits.apply_to_vec(&decoded.bytes).unwrap_or(decoded.bytes);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The edits of substitutions found in a value (`at`: their spans in the file).
    fn push_found(
        &mut self,
        record: usize,
        field: &str,
        found: Vec<Subst<'_>>,
        at: impl Fn(Span) -> Span,
    ) {
        for s in found {
            if s.rule == ChangeKind::Host {
                // Which source host it was (no allocation for the usual lower-case one).
                if let Ok(old) = std::str::from_utf8(s.old) {
                    let key = crate::analyze::hosts::lowercase(old);
                    if self.w.tokens.hosts.contains_key(key.as_ref()) {
                        self.part.rec.host_seen(&key);
                    }
                }
            }
            self.push(record, field, at(s.span), &s.new, Change::of(s.rule));
        }
    }

    /// The sys_id-shaped tokens of a value, kept as candidates (`at`: their spans in the file).
    fn id_candidates(
        &mut self,
        record: usize,
        field: &str,
        text: &[u8],
        at: impl Fn(Span) -> Span,
    ) {
        if !self.ids || text.len() < 32 {
            return;
        }
        for s in id_tokens(text) {
            let Ok(token) = <&[u8; 32]>::try_from(&text[s.range()]) else {
                continue;
            };
            let fingerprint = crate::plan::ids::fingerprint(token);
            self.part.candidates.push((at(s), record, fingerprint));
            if self.details {
                self.part.candidate_fields.push(field.to_string());
            }
        }
    }

    /// Replaces the whole value of `f` with `text`, written in the field's own style.
    pub(super) fn whole_value(
        &mut self,
        r: &Record<'_>,
        f: &Field<'_>,
        text: &str,
        change: Change,
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
        let bytes = self.in_layers(local, &layers);
        self.push(
            r.index,
            f.name,
            r.file_span(local_span),
            bytes.as_bytes(),
            change,
        );
    }

    /// `local` (text as written in its own document) as written in the file, through the
    /// escapings of the payloads it sits in (a `"` as `&quot;` where the file writes it so).
    pub(super) fn in_layers(&self, local: String, layers: &[Escaping]) -> String {
        let quot = layers.contains(&Escaping::Escaped) && self.quot(&local);
        through_layers(local, layers, quot)
    }

    /// The record's own sys_id, as a map key (for a placeholder that embeds it).
    pub(super) fn own_id(r: &Record<'_>) -> Option<[u8; 32]> {
        r.sys_id()
            .filter(|id| is_sys_id(id))
            .and_then(|id| id.as_bytes().try_into().ok())
    }

    /// A secret replaced: the edit (given the change to make, with its deferred own id) and its
    /// note.
    pub(super) fn secret(
        &mut self,
        r: &Record<'_>,
        found: SecretFound<'_>,
        shown: String,
        edit: impl FnOnce(&mut Self, Change),
    ) {
        let own = Self::own_id(r);
        edit(
            self,
            Change::of(ChangeKind::Secret).shown(shown).deferred(own),
        );
        self.part.secrets.push((
            r.index,
            SecretNote {
                table: r.table.to_string(),
                sys_id: r.sys_id().map(str::to_string),
                name: found.name,
                field: found.field.to_string(),
                key: found.key,
                depth: r.place.depth,
                placeholder: found.placeholder,
            },
            own,
        ));
    }

    /// The option that would rewrite the whole value of `f`, if one does.
    pub(super) fn edit_option(&self, r: &Record<'_>, f: &Field<'_>) -> Option<&'static str> {
        let rules = &self.w.rules;
        let column = |c: &crate::plan::Column| {
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
    pub(super) fn refuse_edit(
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
    pub(super) fn looks_secret(&mut self, r: &Record<'_>, f: &Field<'_>) {
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
    pub(super) fn embedded(&mut self, r: &Record<'_>, f: &Field<'_>) -> bool {
        let Some((decoded, base, map)) = value_text(r, f) else {
            return false;
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
            // The key comes from the input: the hosts and namespaces it names are mapped as
            // everywhere else, so that the placeholder does not keep the source.
            let key = self.tokens_mapped(&e.path.replace(" > ", "/"));
            let field = format!("{}/{key}", f.name);
            let value = self.secret_value(r, &field, name.as_deref());
            // Inside a JSON string: no lone backslash and no bare `"` (the key named in it comes
            // from the input); then written as the field's own text is.
            let json = match e.path.starts_with('?') {
                true => value.clone(), // a query parameter: no quotes around it
                false => value.replace('\\', "\\\\").replace('"', "\\\""),
            };
            let local = match f.kind {
                ValueKind::Cdata | ValueKind::Mixed => crate::plan::escape::split_cdata_end(&json),
                _ => escape_text(&json, self.quot(&json)),
            };
            let bytes = self.in_layers(local, &layers);
            let span = r.file_span(Span::new(start, end));
            let shown = format!(
                "(secret: {} {})",
                SecretReason::EmbeddedKey.describe(),
                e.path
            );
            let found = SecretFound {
                field: f.name,
                key: Some(e.path),
                name,
                placeholder: value,
            };
            self.secret(r, found, shown, |p, change| {
                p.push(r.index, f.name, span, bytes.as_bytes(), change);
            });
        }
        self.tokens_in(r.index, f.name, r.file_span(Span::new(hole, f.content.end)));
        true
    }

    /// The record's display name as it reads after the rewrite (sys_ids in it are mapped with
    /// the placeholder that holds it), so that a second run fills in the same.
    pub(super) fn name_after(&mut self, r: &Record<'_>) -> Option<String> {
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
    pub(super) fn display_name(&mut self, r: &Record<'_>) -> Option<String> {
        if let Some((index, name)) = &self.names.before {
            if *index == r.index {
                return name.clone();
            }
        }
        let name = r.display_name().map(|n| n.trim().to_string());
        self.names.before = Some((r.index, name.clone()));
        name
    }

    pub(super) fn work_out_name_after(&mut self, r: &Record<'_>) -> Option<String> {
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

    pub(super) fn secret_value(&self, r: &Record<'_>, field: &str, name: Option<&str>) -> String {
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
    pub(super) fn attr_secret(
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
        let bytes = self.in_layers(local, &layers);
        let span = r.file_span(a.span);
        let found = SecretFound {
            field: name,
            key: None,
            name: None,
            placeholder: value,
        };
        self.secret(r, found, "(secret: ciphertext)".into(), |p, change| {
            p.push(r.index, name, span, bytes.as_bytes(), change);
        });
        true
    }
}

/// The token substitutions in `text` (hosts, namespaces), searched whole.
fn substitutions<'t>(tokens: &'t TokenRules, hosts: &HostFinder, text: &'t [u8]) -> Vec<Subst<'t>> {
    let mut found = Vec::new();
    tokens.scan_into_at(text, hosts, hosts.candidates(text), &mut found);
    found
}

/// A value's text, decoded (escaped text, one CDATA section, or CDATA sections one after the
/// other), with where it starts in the record's buffer and the map of its bytes back to it.
fn value_text(
    r: &Record<'_>,
    f: &Field<'_>,
) -> Option<(Vec<u8>, usize, Option<crate::scan::OffsetMap>)> {
    type Decode = fn(&[u8], &mut Vec<u8>, &mut crate::scan::OffsetMap) -> bool;
    let decode: Decode = match f.kind {
        ValueKind::Text => crate::scan::decode_escaped,
        // CDATA sections one after the other (the value holds `]]>`).
        ValueKind::Mixed => crate::scan::join_cdata_sections,
        ValueKind::Cdata => {
            let c = f.cdata.unwrap_or(f.content);
            return Some((r.buffer()[c.range()].to_vec(), c.start, None));
        }
        _ => return None,
    };
    let mut out = Vec::new();
    let mut map = crate::scan::OffsetMap::default();
    decode(r.raw(f), &mut out, &mut map).then_some((out, f.content.start, Some(map)))
}
