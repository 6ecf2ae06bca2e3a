//! Renames that are not tokens inside one value: namespaces in markup, the application's name.
//!
//! In: a file's bytes, the edits planned for one of its parts, and the rules. Out: the namespace
//! renames the values' edits do not cover (element names such as `<x_ns_table action=...>` and
//! `</x_ns_table>`, a payload's `<record_update table="x_ns_table">`, at every depth), and
//! whether a field or attribute is one where the application's display name is written.

use super::namespace::NamespaceRenames;
use super::{AppName, RewriteError};
use crate::model::{Field, Record};
use crate::scan::Span;
use crate::splice::Edits;

/// The namespace renames in `bytes[range]` that no edit of `edits` (sorted) covers: the values'
/// own renames were planned with them; what is left is markup. A rename that half overlaps an
/// edit cannot be made safely: an error.
pub(crate) fn markup_renames<'a>(
    renames: &'a NamespaceRenames,
    bytes: &[u8],
    range: Span,
    edits: &Edits,
) -> Result<Vec<(Span, &'a str)>, RewriteError> {
    let mut found = Vec::new();
    renames.find_into(&bytes[range.range()], &mut found);
    if found.is_empty() {
        return Ok(found);
    }
    let spans: Vec<Span> = edits.iter().map(|(s, _)| s).collect();
    let mut out = Vec::with_capacity(found.len());
    for (s, new) in found {
        let s = Span::new(s.start + range.start, s.end + range.start);
        // The last edit starting at or before `s`, and the first one after it.
        let k = spans.partition_point(|e| e.start <= s.start);
        let before = k.checked_sub(1).map(|k| spans[k]);
        let after = spans.get(k);
        if before.is_some_and(|e| e.start <= s.start && s.end <= e.end && !e.is_empty()) {
            continue; // inside a value already rewritten
        }
        let touches =
            before.is_some_and(|e| e.end > s.start) || after.is_some_and(|e| e.start < s.end);
        if touches {
            return Err(RewriteError::NamespaceStraddles {
                start: s.start,
                end: s.end,
            });
        }
        out.push((s, new));
    }
    out.sort_by_key(|(s, _)| (s.start, s.end));
    out.dedup_by_key(|(s, _)| s.start);
    Ok(out)
}

/// The record (index) whose element most closely holds `pos`, from `(element span, index)`
/// sorted by span start.
pub(crate) fn innermost(spans: &[(Span, usize)], pos: usize) -> Option<usize> {
    let k = spans.partition_point(|(s, _)| s.start <= pos);
    spans[..k]
        .iter()
        .rev()
        .find(|(s, _)| pos < s.end)
        .map(|&(_, i)| i)
}

/// `true` when `f` of `r` is a place where the application's name is written as a value: the
/// application record's own `name`, and an update set's `application_name` or `name` for the
/// application.
pub(crate) fn is_app_name_field(app: &AppName, r: &Record<'_>, f: &Field<'_>) -> bool {
    let id_is = |field: &str| {
        r.field(field)
            .is_some_and(|x| r.text(x).trim() == app.sys_id)
    };
    match (r.table, f.name) {
        ("sys_app" | "sys_store_app" | "sys_scope", "name") => r.sys_id() == Some(&app.sys_id),
        (_, "application_name") => id_is("application"),
        ("sys_remote_update_set", "name") => id_is("application"),
        _ => false,
    }
}

/// `true` when the attribute `attr` of `f` is the display value of a reference to the
/// application that reads its old name.
pub(crate) fn is_app_display_value(
    app: &AppName,
    r: &Record<'_>,
    f: &Field<'_>,
    attr: &crate::model::Attr<'_>,
) -> bool {
    attr.name == "display_value"
        && attr.value().trim() == app.old.trim()
        && r.text(f).trim() == app.sys_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn innermost_record_holds_the_position() {
        // 0..100 holds 10..20 and 30..90, which holds 40..50.
        let spans = [
            (Span::new(0, 100), 0),
            (Span::new(10, 20), 1),
            (Span::new(30, 90), 2),
            (Span::new(40, 50), 3),
        ];
        assert_eq!(innermost(&spans, 5), Some(0));
        assert_eq!(innermost(&spans, 15), Some(1));
        assert_eq!(innermost(&spans, 25), Some(0));
        assert_eq!(innermost(&spans, 45), Some(3));
        assert_eq!(innermost(&spans, 60), Some(2));
        assert_eq!(innermost(&spans, 100), None);
    }

    #[test]
    fn renames_inside_edits_are_theirs_and_half_overlaps_are_refused() {
        let renames = NamespaceRenames::new(vec![("x_a_b".into(), "x_c_d".into())]);
        let bytes = b"<x_a_b_t><v>x_a_b</v></x_a_b_t>";
        let mut edits = Edits::new();
        edits.replace(Span::new(12, 17), b"x_c_d");
        edits.sort_and_check(bytes.len()).unwrap();
        let found = markup_renames(&renames, bytes, Span::new(0, bytes.len()), &edits).unwrap();
        let starts: Vec<usize> = found.iter().map(|(s, _)| s.start).collect();
        assert_eq!(starts, [1, 23]);
        let mut half = Edits::new();
        half.replace(Span::new(3, 12), b"");
        half.sort_and_check(bytes.len()).unwrap();
        assert!(markup_renames(&renames, bytes, Span::new(0, bytes.len()), &half).is_err());
    }
}
