//! What a rewrite learns about records while it reads them, and the edits that follow once
//! every file has been read.
//!
//! In: each record as the planner sees it. Out, per part of a file ([`RecordsPass`]): which
//! top-level records are left out (`--only`, `--exclude`), the references whose
//! `display_value` may have to follow a renamed record, the records renamed (their old and new
//! display texts), the client_ids a derived twin changes (and on what condition), the source
//! hosts met, and how often each selector and edit rule applied. Once the files are read,
//! [`Renames`] (from every part) turns the display references into edits.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::escape::{escape_attr, through_layers};
use crate::model::{Escaping, Record};
use crate::scan::Span;

/// A record the output does not hold (`--only`, `--exclude`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LeftOut {
    /// Its table.
    pub table: String,
    /// Its sys_id (as in the input: it is not rewritten).
    pub sys_id: Option<String>,
    /// Its display name.
    pub name: Option<String>,
}

/// One record as the output describes it (report detail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordNote {
    /// Its table.
    pub table: String,
    /// Its sys_id in the output.
    pub sys_id: Option<String>,
    /// Its sys_id in the input, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_sys_id: Option<String>,
    /// Its display name in the output.
    pub name: Option<String>,
    /// Its display name in the input, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_name: Option<String>,
    /// 0 = top level, 1 = inside a payload...
    pub depth: usize,
    /// `true` when the output leaves it out.
    pub left_out: bool,
}

/// An `oauth_entity.client_id` changed in this run (client ids are not secrets).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct ClientIdChange {
    /// The value in the input.
    pub old: String,
    /// The value in the output.
    pub new: String,
}

/// How often each rule of the plan applied (a rule that applied nowhere is worth a warning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    /// Per `--set`, records it edited.
    pub set: Vec<usize>,
    /// Per `--replace` / `--replace-substring`, values it changed.
    pub replace: Vec<usize>,
    /// Per `--label`, values it renamed.
    pub labels: Vec<usize>,
    /// Per `--only` selector, records it matched.
    pub only: Vec<usize>,
    /// Per `--exclude` selector, records it matched.
    pub exclude: Vec<usize>,
}

impl Hits {
    pub(crate) fn sized(
        set: usize,
        replace: usize,
        labels: usize,
        only: usize,
        exclude: usize,
    ) -> Hits {
        Hits {
            set: vec![0; set],
            replace: vec![0; replace],
            labels: vec![0; labels],
            only: vec![0; only],
            exclude: vec![0; exclude],
        }
    }

    /// Adds `other`'s counts (same rules).
    pub fn add(&mut self, other: &Hits) {
        for (a, b) in [
            (&mut self.set, &other.set),
            (&mut self.replace, &other.replace),
            (&mut self.labels, &other.labels),
            (&mut self.only, &other.only),
            (&mut self.exclude, &other.exclude),
        ] {
            if a.len() < b.len() {
                a.resize(b.len(), 0);
            }
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }
}

/// The escaping layers of a record's document, packed: the count in the low 4 bits, then one
/// bit per layer from the file inwards (1 = escaped, 0 = CDATA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layers(u32);

impl Layers {
    pub(crate) fn pack(layers: &[Escaping]) -> Layers {
        let mut bits = layers.len().min(15) as u32;
        for (i, l) in layers.iter().take(15).enumerate() {
            if *l == Escaping::Escaped {
                bits |= 1 << (4 + i);
            }
        }
        Layers(bits)
    }

    pub(crate) fn unpack(self) -> Vec<Escaping> {
        (0..(self.0 & 15) as usize)
            .map(|i| match self.0 >> (4 + i) & 1 {
                1 => Escaping::Escaped,
                _ => Escaping::Cdata,
            })
            .collect()
    }

    fn escaped(self) -> usize {
        (self.0 >> 4).count_ones() as usize
    }
}

/// A reference written with a `display_value`: it follows its record if that is renamed.
#[derive(Debug, Clone)]
pub(crate) struct DisplayRef {
    /// The referring record.
    pub record: usize,
    /// The field (for the report).
    pub field: Box<str>,
    /// The attribute's value (or the element's text), in the file.
    pub span: Span,
    /// The sys_id referred to.
    pub target: [u8; 32],
    pub layers: Layers,
    /// The display text is an element's text (`sys_update_xml.target_name`), not an
    /// attribute.
    pub text: bool,
}

/// What one part of a file taught about its records (see the module docs). Every list is in
/// reading order and knows its record (or edit) index, so that what a left-out record or a
/// malformed payload held can be withdrawn.
#[derive(Debug, Default)]
pub(crate) struct RecordsPass {
    /// Records read since the last top-level one: (index, picked by --only, by --exclude).
    pub selection: Vec<(usize, bool, bool)>,
    /// Top-level records left out, with their index.
    pub left_out: Vec<(usize, LeftOut)>,
    /// Top-level records written.
    pub written: usize,
    pub display_refs: Vec<DisplayRef>,
    /// Records renamed: (record, sys_id, old text, new text) per changed field.
    pub renamed: Vec<(usize, [u8; 32], String, String)>,
    /// Old client_ids of the derived endpoints (a provider sharing one follows it).
    pub endpoint_ids: Vec<(usize, String)>,
    /// Edits made only if their old client_id is an endpoint's: (edit index, old client_id).
    pub conditional: Vec<(usize, String)>,
    /// Edits of `oauth_entity.client_id`: (edit index, old, new).
    pub client_ids: Vec<(usize, String, String)>,
    /// Source hosts (as the host map names them) met in the part.
    pub hosts_seen: Vec<String>,
    pub hits: Hits,
    /// Per record (with details): index, payload_of, the note (input ids).
    pub notes: Vec<(usize, RecordNote)>,
}

impl RecordsPass {
    /// Forgets what records `>= first_index` and edits `>= first_edit` taught.
    pub(crate) fn withdraw(&mut self, first_index: usize, first_edit: usize) {
        self.selection.retain(|s| s.0 < first_index);
        self.left_out.retain(|l| l.0 < first_index);
        self.display_refs.retain(|d| d.record < first_index);
        self.renamed.retain(|r| r.0 < first_index);
        self.endpoint_ids.retain(|e| e.0 < first_index);
        self.conditional.retain(|c| c.0 < first_edit);
        self.client_ids.retain(|c| c.0 < first_edit);
        self.notes.retain(|n| n.0 < first_index);
    }

    /// Notes the selectors `r` matches; for a top-level record, says whether it is written
    /// (it, or a record inside it, picked by `--only` when any is given, none by `--exclude`).
    pub(crate) fn select(
        &mut self,
        r: &Record<'_>,
        only: &[crate::model::Selector],
        exclude: &[crate::model::Selector],
    ) -> bool {
        let hit = |list: &[crate::model::Selector], counts: &mut Vec<usize>| {
            let mut any = false;
            for (k, s) in list.iter().enumerate() {
                if s.selects(r) {
                    counts[k] += 1;
                    any = true;
                }
            }
            any
        };
        let o = hit(only, &mut self.hits.only);
        let e = hit(exclude, &mut self.hits.exclude);
        if o || e {
            self.selection.push((r.index, o, e));
        }
        if r.place.depth > 0 || r.place.parent.is_some() {
            return true;
        }
        let inside = self.selection.iter().filter(|s| s.0 >= r.index);
        let (picked, excluded) = inside.fold((false, false), |(a, b), s| (a || s.1, b || s.2));
        self.selection.retain(|s| s.0 < r.index);
        (only.is_empty() || picked) && !excluded
    }

    /// Notes a source host met (`host`, as the host map names it).
    pub(crate) fn host_seen(&mut self, host: &str) {
        if !self.hosts_seen.iter().any(|h| h == host) {
            self.hosts_seen.push(host.to_string());
        }
    }
}

/// The bytes a left-out top-level record takes in its file: the element, and when it stands
/// on its own line, the indentation before it and the line end after it.
pub(crate) fn removal_span(file: &[u8], element: Span) -> Span {
    let mut start = element.start;
    while start > 0 && matches!(file[start - 1], b' ' | b'\t') {
        start -= 1;
    }
    if start > 0 && file[start - 1] != b'\n' {
        return element;
    }
    let rest = &file[element.end.min(file.len())..];
    let end = element.end
        + if rest.starts_with(b"\r\n") {
            2
        } else {
            usize::from(rest.starts_with(b"\n"))
        };
    Span::new(start, end)
}

/// Every record renamed in this run, by sys_id: the texts it had and has (any field that
/// changed, since any may be what its table displays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    by_id: FxHashMap<[u8; 32], Vec<(String, String)>>,
}

impl Renames {
    pub(crate) fn insert(&mut self, id: [u8; 32], old: String, new: String) {
        let e = self.by_id.entry(id).or_default();
        if !e.iter().any(|(o, _)| *o == old) {
            e.push((old, new));
        }
    }

    /// `true` when no record was renamed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The new text of a reference to `target` displayed as `shown`, if its record was
    /// renamed from it.
    pub fn follow(&self, target: &[u8; 32], shown: &str) -> Option<&str> {
        let shown = shown.trim();
        self.by_id
            .get(target)?
            .iter()
            .find(|(old, _)| old.trim() == shown)
            .map(|(_, new)| new.trim())
    }

    /// The renamed records, sorted (for tests and reports).
    pub fn pairs(&self) -> BTreeMap<String, Vec<(String, String)>> {
        self.by_id
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
            .collect()
    }
}

/// The new bytes of a display reference (at its span), if its record was renamed. `quot`: whether the file writes `&quot;` (asked only when the
/// new text holds a quote).
pub(crate) fn follow_edit(
    d: &DisplayRef,
    file: &[u8],
    renames: &Renames,
    quot: &dyn Fn() -> bool,
) -> Option<Vec<u8>> {
    let raw = std::str::from_utf8(&file[d.span.range()]).ok()?;
    // The attribute as it reads: once per escaped payload around it, once for itself.
    let mut shown = std::borrow::Cow::Borrowed(raw);
    for _ in 0..=d.layers.escaped() {
        shown = std::borrow::Cow::Owned(crate::scan::unescape(&shown).into_owned());
    }
    let new = renames.follow(&d.target, &shown)?;
    if new == shown.trim() {
        return None;
    }
    let layers = d.layers.unpack();
    let local = match d.text {
        true => super::escape::escape_text(new, new.contains('"') && quot()),
        false => escape_attr(new),
    };
    let bytes = through_layers(
        local.clone(),
        &layers,
        layers.contains(&Escaping::Escaped) && local.contains('"') && quot(),
    );
    Some(bytes.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_pack_both_ways() {
        use Escaping::*;
        for l in [vec![], vec![Cdata], vec![Escaped, Cdata, Escaped]] {
            assert_eq!(Layers::pack(&l).unpack(), l);
        }
    }

    #[test]
    fn a_record_on_its_own_line_takes_its_line() {
        let f = b"<unload>\n  <a>x</a>\n<b/></unload>";
        assert_eq!(removal_span(f, Span::new(11, 19)), Span::new(9, 20));
        let one = b"<unload><a>x</a><b/></unload>";
        assert_eq!(removal_span(one, Span::new(8, 16)), Span::new(8, 16));
        let crlf = b"<unload>\r\n<a/>\r\n</unload>";
        assert_eq!(removal_span(crlf, Span::new(10, 14)), Span::new(10, 16));
    }
}
