//! `--combine`: one `<unload>` holding every top-level record of the bundle in import order.
//!
//! In: the rewritten outputs. Out: one document. Each top-level record is a unit (with the
//! records nested in it and in its payload), except that an update set stays one unit in its
//! own order; the units are ordered like files, and each record's bytes are copied as they
//! are: nothing is re-serialized.

use std::collections::BTreeSet;

use super::order::{self, Unit, UnitRef};
use crate::analyze::inspect::{Inspector, RecordEntry};
use crate::error::ReadError;
use crate::model::{Collect, Shape};

/// Combines `outputs` (name, bytes) into one `<unload>`. The `unload_date` is the latest of the
/// inputs' (or absent when none has one).
pub fn combine(outputs: &[(String, Vec<u8>)]) -> Result<(Vec<u8>, order::Order), ReadError> {
    let mut units: Vec<Unit> = Vec::new();
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut latest: Option<String> = None;
    for (name, bytes) in outputs {
        let (c, outcome) = Collect::read_sorted(bytes).map_err(|e| e.with_path(name))?;
        let mut inspector = Inspector::new();
        inspector.add(name, bytes)?;
        let inv = inspector.finish();
        let file = &inv.files[0];
        if let Some(d) = unload_date(bytes) {
            if latest.as_ref().is_none_or(|l| &d > l) {
                latest = Some(d);
            }
        }
        let tops: Vec<usize> = c
            .records
            .iter()
            .filter(|r| r.place.depth == 0 && r.place.parent.is_none())
            .map(|r| r.index)
            .collect();
        let groups: Vec<Vec<usize>> = if outcome.shape == Shape::UpdateSet {
            vec![tops]
        } else {
            tops.into_iter().map(|t| vec![t]).collect()
        };
        for group in groups {
            let members: BTreeSet<usize> = group
                .iter()
                .flat_map(|&t| descendants(&file.records, t))
                .collect();
            let mut unit = Unit {
                name: name.clone(),
                ..Unit::default()
            };
            for r in file.records.iter().filter(|r| members.contains(&r.index)) {
                unit.tables.insert(r.table.clone());
                if let Some(id) = &r.sys_id {
                    unit.defines.insert(id.clone());
                }
            }
            for r in file
                .references
                .iter()
                .filter(|r| members.contains(&r.record))
            {
                unit.references.push(UnitRef {
                    from: format!("{}.{}", r.table, r.field),
                    target: r.target.clone(),
                    display: r.display_value.clone(),
                });
            }
            let mut piece = Vec::new();
            for &t in &group {
                let span = c.records[t].file_span;
                piece.extend_from_slice(&bytes[span.range()]);
                piece.push(b'\n');
            }
            units.push(unit);
            pieces.push(piece);
        }
    }
    let order = order::order(&units);
    let mut out = Vec::new();
    out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match &latest {
        Some(d) => out.extend_from_slice(format!("<unload unload_date=\"{d}\">\n").as_bytes()),
        None => out.extend_from_slice(b"<unload>\n"),
    }
    for p in &order.sequence {
        out.extend_from_slice(&pieces[p.unit]);
    }
    out.extend_from_slice(b"</unload>\n");
    Ok((out, order))
}

/// `top` and every record nested in it or in its payloads.
fn descendants(records: &[RecordEntry], top: usize) -> BTreeSet<usize> {
    let mut set = BTreeSet::from([top]);
    // Records come in document order: a descendant's parent or payload owner is earlier.
    for r in records {
        let up = r.parent.or(r.payload_of);
        if up.is_some_and(|u| set.contains(&u)) {
            set.insert(r.index);
        }
    }
    set
}

/// The `unload_date` attribute of a document's `<unload>` root, if it has one.
fn unload_date(bytes: &[u8]) -> Option<String> {
    let start = memchr::memmem::find(bytes, b"<unload")?;
    let head = &bytes[start..(start + 200).min(bytes.len())];
    let at = memchr::memmem::find(head, b"unload_date=\"")? + 13;
    let end = memchr::memchr(b'"', &head[at..])?;
    let d = std::str::from_utf8(&head[at..at + end]).ok()?;
    d.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b' '))
        .then(|| d.to_string())
}
