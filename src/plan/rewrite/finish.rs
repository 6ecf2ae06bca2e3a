//! The final edits of a file once every file has been read and the ids resolved: each part
//! alone, in parallel, then merged; the report's entries and the secrets to re-enter.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::planner::{Draft, PartPass};
use super::report::{EditEntry, LooksSecret, RewriteError, Rewritten, SecretNote};
use super::{Pass, ResolvedIds, Rewriter};
use crate::model::{IN_PAYLOAD, path_step};
use crate::plan::ids::IdMap;
use crate::plan::records::{ClientIdChange, DisplayRef, LeftOut, RecordNote, follow_edit};
use crate::plan::tokens::{ChangeKind, id_tokens, map_token};
use crate::scan::Span;
use crate::splice::Edits;

impl Rewriter {
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
        let entries = match details {
            true => entries_of(drafts, owners),
            false => Vec::new(),
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
    pub(super) fn finish_part(
        &self,
        part: PartPass,
        ids: &ResolvedIds,
        bytes: &[u8],
        details: bool,
        check: bool,
    ) -> Result<PartDone, RewriteError> {
        let map = &ids.map;
        let mut done = Finished::new(details);
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
        let follows = Follows::of(&rec.display_refs, bytes, &ids.renames);
        let planned = Planned {
            edits: &part_edits,
            rules: &rules,
            deferred,
            drafts: &mut part_drafts,
            conditional: &rec.conditional,
            client_ids: &rec.client_ids,
        };
        let client_ids = done.planned(planned, ids, &follows, bytes);
        done.display_values(&follows, bytes);
        done.sys_ids(candidates, &candidate_fields, &follows, map, bytes);
        let mut mapped = Vec::new();
        let secrets = part_secrets
            .into_iter()
            .map(|(i, note, own)| (i, with_new_ids(map, note, own, &mut mapped)))
            .collect();
        done.edits.sort_and_check(bytes.len())?;
        if self.rules.scope_prefix {
            let renames = &self.tokens.namespace_prefixes;
            done.namespaces_in_markup(renames, bytes, range, record_spans)?;
        }
        if check {
            self.check_left(&bytes[..range.end], range.start, &done.edits)?;
        }
        let notes = (rec.notes.into_iter())
            .map(|(_, n)| note_with_new_id(map, n))
            .collect();
        Ok(PartDone {
            edits: done.edits,
            counts: done.counts,
            drafts: done.drafts,
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
}

/// The `display_value`s of references to records renamed in this run, with their new text.
struct Follows<'a> {
    edits: Vec<(&'a DisplayRef, Vec<u8>)>,
    /// Their spans, sorted: edits inside them give way.
    spans: Vec<Span>,
}

impl<'a> Follows<'a> {
    fn of(
        refs: &'a [DisplayRef],
        bytes: &[u8],
        renames: &crate::plan::records::Renames,
    ) -> Follows<'a> {
        if renames.is_empty() {
            return Follows {
                edits: Vec::new(),
                spans: Vec::new(),
            };
        }
        let quot = std::sync::OnceLock::new();
        let quot = || *quot.get_or_init(|| writes_quot(bytes));
        let edits: Vec<(&DisplayRef, Vec<u8>)> = refs
            .iter()
            .filter_map(|d| follow_edit(d, bytes, renames, &quot).map(|b| (d, b)))
            .collect();
        let mut spans: Vec<Span> = edits.iter().map(|f| f.0.span).collect();
        spans.sort_unstable_by_key(|s| s.start);
        Follows { edits, spans }
    }

    /// Whether `span` lies inside a followed display value.
    fn covers(&self, span: &Span) -> bool {
        let k = self.spans.partition_point(|f| f.start <= span.start);
        k > 0 && self.spans[k - 1].end >= span.end
    }
}

/// A part's final edits as they are made, counted, with their drafts when details are asked.
/// A part's planned edits, as [`Finished::planned`] takes them from its pass.
struct Planned<'p> {
    edits: &'p Edits,
    /// Per edit: its rule.
    rules: &'p [ChangeKind],
    /// Edits whose replacement may hold sys_ids to map, and the record's own old id.
    deferred: Vec<(usize, Option<[u8; 32]>)>,
    /// Per edit (only with details).
    drafts: &'p mut [Draft],
    /// Provider client_id edits (edit index, old value) written only where an endpoint's
    /// client_id changes too.
    conditional: &'p [(usize, String)],
    /// `oauth_entity.client_id` edits: edit index, old value, new value.
    client_ids: &'p [(usize, String, String)],
}

struct Finished {
    edits: Edits,
    counts: BTreeMap<ChangeKind, usize>,
    drafts: Vec<Draft>,
    details: bool,
}

impl Finished {
    fn new(details: bool) -> Finished {
        Finished {
            edits: Edits::new(),
            counts: BTreeMap::new(),
            drafts: Vec::new(),
            details,
        }
    }

    /// Replaces `span` with `new`, counted as `kind`; `draft` says it for the report.
    fn add(&mut self, span: Span, new: &[u8], kind: ChangeKind, draft: impl FnOnce() -> Draft) {
        self.edits.replace(span, new);
        *self.counts.entry(kind).or_insert(0) += 1;
        if self.details {
            self.drafts.push(draft());
        }
    }

    /// The planned edits as written: a provider's client_id only where its endpoint's changes
    /// too, none inside a display value that follows a renamed record, the sys_ids inside a
    /// replacement mapped (and an edit that then changes nothing dropped). Returns the
    /// client_ids changed.
    fn planned(
        &mut self,
        part: Planned<'_>,
        ids: &ResolvedIds,
        follows: &Follows<'_>,
        bytes: &[u8],
    ) -> Vec<ClientIdChange> {
        let mut mapped = Vec::new();
        let mut conditional = part.conditional.iter().peekable();
        let mut client_id_edits = part.client_ids.iter().peekable();
        let mut client_ids = Vec::new();
        let mut deferred = part.deferred.into_iter().peekable();
        for (k, (span, replacement)) in part.edits.iter().enumerate() {
            let mut new = replacement;
            let deferred_here = deferred.next_if(|(i, _)| *i == k);
            let client_id = client_id_edits.next_if(|(i, _, _)| *i == k);
            if let Some((_, old)) = conditional.next_if(|(i, _)| *i == k) {
                if !ids.endpoint_client_ids.contains(old) {
                    continue;
                }
            }
            if follows.covers(&span) {
                continue;
            }
            if let Some((_, own)) = deferred_here {
                mapped.clear();
                map_ids(&ids.map, replacement, own.as_ref(), &mut mapped);
                new = &mapped;
                if new == &bytes[span.range()] {
                    continue;
                }
                if self.details {
                    part.drafts[k].new = String::from_utf8_lossy(new).into_owned();
                }
            }
            self.add(span, new, part.rules[k], || {
                std::mem::take(&mut part.drafts[k])
            });
            if let Some((_, old, _)) = client_id {
                client_ids.push(ClientIdChange {
                    old: old.clone(),
                    new: String::from_utf8_lossy(new).trim().to_string(),
                });
            }
        }
        client_ids
    }

    /// The display values that follow a renamed record.
    fn display_values(&mut self, follows: &Follows<'_>, bytes: &[u8]) {
        for (d, new) in &follows.edits {
            self.add(d.span, new, ChangeKind::DisplayValue, || Draft {
                at: d.span,
                record: d.record,
                field: d.field.to_string(),
                old: String::from_utf8_lossy(&bytes[d.span.range()]).into_owned(),
                new: String::from_utf8_lossy(new).into_owned(),
                rule: ChangeKind::DisplayValue,
            });
        }
    }

    /// The sys_ids found where no rule placed them (scripts, queries, lists), mapped.
    fn sys_ids(
        &mut self,
        candidates: Vec<(Span, usize, u64)>,
        fields: &[String],
        follows: &Follows<'_>,
        map: &IdMap,
        bytes: &[u8],
    ) {
        for (k, (span, record, fingerprint)) in candidates.into_iter().enumerate() {
            // Most are not mapped: the filter says so without reading the token again.
            if !map.may_map(fingerprint) || follows.covers(&span) {
                continue;
            }
            let raw = &bytes[span.range()];
            // A token spelled with character references is longer in the file.
            let decoded;
            let old = match raw.len() {
                32 => raw,
                _ => {
                    decoded = crate::plan::spelled::Decoded::of(raw).bytes;
                    decoded.as_slice()
                }
            };
            if let Some(new) = map_token(map, old) {
                self.add(span, &new, ChangeKind::SysId, || Draft {
                    at: span,
                    record,
                    field: fields.get(k).cloned().unwrap_or_default(),
                    old: String::from_utf8_lossy(old).into_owned(),
                    new: String::from_utf8_lossy(&new).into_owned(),
                    rule: ChangeKind::SysId,
                });
            }
        }
    }

    /// A namespace renamed as a prefix, in the markup of the part (element and attribute
    /// names of dictionary files), once the other edits are sorted.
    fn namespaces_in_markup(
        &mut self,
        renames: &crate::plan::namespace::NamespaceRenames,
        bytes: &[u8],
        range: Span,
        mut spans: Vec<(Span, usize)>,
    ) -> Result<(), RewriteError> {
        let found = crate::plan::rename::markup_renames(renames, bytes, range, &self.edits)?;
        if found.is_empty() {
            return Ok(());
        }
        spans.sort_by_key(|(s, _)| s.start);
        for (span, new) in &found {
            self.add(*span, new.as_bytes(), ChangeKind::Namespace, || Draft {
                at: *span,
                record: crate::plan::rename::innermost(&spans, span.start).unwrap_or(usize::MAX),
                field: "(markup)".to_string(),
                old: String::from_utf8_lossy(&bytes[span.range()]).into_owned(),
                new: new.to_string(),
                rule: ChangeKind::Namespace,
            });
        }
        self.edits.sort_and_check(bytes.len())?;
        Ok(())
    }
}

/// `true` when the file writes `"` in text as `&quot;`: an `&quot;` outside any tag (one in an
/// attribute value, where a quote must be escaped, says nothing of how text is written). A
/// large file is searched in two halves at once.
pub(super) fn writes_quot(bytes: &[u8]) -> bool {
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
pub(super) fn map_ids(map: &IdMap, text: &[u8], own: Option<&[u8; 32]>, out: &mut Vec<u8>) {
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

/// A secret's note once the ids are known: its placeholder with the sys_ids in it mapped
/// (`own`: the record's old id, when the placeholder embeds it), and the record's new sys_id.
fn with_new_ids(
    map: &IdMap,
    mut note: SecretNote,
    own: Option<[u8; 32]>,
    mapped: &mut Vec<u8>,
) -> SecretNote {
    if let Some(own) = own {
        mapped.clear();
        map_ids(map, note.placeholder.as_bytes(), Some(&own), mapped);
        note.placeholder = String::from_utf8_lossy(mapped).into_owned();
        if let Some(new) = map.get(&own) {
            note.sys_id = Some(String::from_utf8_lossy(new).into_owned());
        }
    }
    note
}

/// A record's note with its new sys_id (and the input's kept as `input_sys_id`), unless it was
/// left out.
fn note_with_new_id(map: &IdMap, mut n: RecordNote) -> RecordNote {
    let new = (n.sys_id.as_deref())
        .and_then(|id| map.get(id.as_bytes()))
        .map(|n| String::from_utf8_lossy(n).into_owned());
    if let Some(new) = new.filter(|_| !n.left_out) {
        n.input_sys_id = n.sys_id.replace(new);
    }
    n
}

/// The report's edit entries, each naming its record, in file order.
fn entries_of(drafts: Vec<Draft>, owners: Vec<Owner>) -> Vec<EditEntry> {
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
}

/// Stands for a record's own sys_id in a placeholder until the ids are resolved: no export
/// holds it (U+FFFF is not an XML character), and no escaping changes it.
pub(super) const OWN_ID: &str = "\u{FFFF}sn-retarget:own-sys-id\u{FFFF}";

/// A record that edits name: its index, table, sys_id and the record whose payload holds it.
#[derive(Debug)]
pub(super) struct Owner {
    pub(super) index: usize,
    pub(super) table: String,
    pub(super) sys_id: Option<String>,
    pub(super) payload_of: Option<usize>,
}

/// Record index -> its [`Owner`], to name where an edit happened.
pub(super) struct Paths {
    pub(super) by_index: BTreeMap<usize, Owner>,
}

impl Paths {
    pub(super) fn new(owners: Vec<Owner>) -> Paths {
        Paths {
            by_index: owners.into_iter().map(|o| (o.index, o)).collect(),
        }
    }

    pub(super) fn table(&self, i: usize) -> &str {
        self.by_index.get(&i).map_or("", |o| o.table.as_str())
    }

    pub(super) fn sys_id(&self, i: usize) -> Option<&str> {
        self.by_index.get(&i).and_then(|o| o.sys_id.as_deref())
    }

    /// `table[sys_id]`, after the path of the record whose payload holds it.
    pub(super) fn path(&self, i: usize) -> String {
        let mut steps = Vec::new();
        let mut at = Some(i);
        while let Some(o) = at.and_then(|i| self.by_index.get(&i)) {
            steps.push(path_step(&o.table, o.sys_id.as_deref()));
            at = o.payload_of;
        }
        steps.reverse();
        steps.join(IN_PAYLOAD)
    }
}

/// One part finished.
pub(super) struct PartDone {
    pub(super) edits: Edits,
    pub(super) counts: BTreeMap<ChangeKind, usize>,
    pub(super) drafts: Vec<Draft>,
    pub(super) secrets: Vec<(usize, SecretNote)>,
    pub(super) owners: Vec<Owner>,
    pub(super) set_missing: BTreeMap<(String, String), usize>,
    pub(super) looks: Vec<(usize, LooksSecret)>,
    pub(super) refused: Vec<(usize, RewriteError)>,
    pub(super) client_ids: Vec<ClientIdChange>,
    pub(super) left_out: Vec<LeftOut>,
    pub(super) written: usize,
    pub(super) notes: Vec<RecordNote>,
}
