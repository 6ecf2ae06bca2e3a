//! A document read in parts, in parallel: runs of whole top-level records, each with its own
//! visitor ([`read_parts`]).

use super::Visitor;
use super::outline::{Outline, TopTables, checked_outline};
use super::reader::{MAX_DOCUMENT_BYTES, MAX_PAYLOAD_DEPTH, ReadOutcome, Reader, as_str, read};
use super::record::Layer;
use crate::error::{Diagnostic, ReadError};
use crate::scan::{Span, Tokenizer, check_chars};

/// The visitors of [`read_parts`], in document order, each with the bytes its part covers.
pub type Parts<V> = Vec<(Span, V)>;

/// Record indices of part `k` of a [`read_parts`] start at `k * PART_STRIDE`.
pub const PART_STRIDE: u64 = 1 << 32;

/// [`read`], in parts of about `part_bytes` read in parallel (rayon), each with its own visitor
/// from `make`. The parts are runs of whole top-level records, so each record and its payloads
/// go to exactly one visitor, and the visitors come back in document order, each with the
/// bytes it covers (the parts tile the document: the first starts at 0, the last ends at its
/// end). Record indices of part `k` start at `k * PART_STRIDE`. `<database>` dictionaries and documents smaller than two
/// parts are read in one part. Fails exactly where [`read`] fails.
///
/// ```
/// use sn_retarget::model::{read_parts, Record, Visitor};
/// #[derive(Default)]
/// struct Count(usize);
/// impl Visitor for Count {
///     fn record(&mut self, _: &Record<'_>) { self.0 += 1; }
///     fn discard_from(&mut self, _: usize) {}
/// }
/// let doc = b"<unload><a action='INSERT'/><b action='INSERT'/><c action='INSERT'/></unload>";
/// let (outcome, parts) = read_parts(doc, 20, Count::default).unwrap();
/// assert_eq!(outcome.records, 3);
/// assert!(parts.len() > 1);
/// assert_eq!(parts.iter().map(|(_, c)| c.0).sum::<usize>(), 3);
/// assert_eq!((parts[0].0.start, parts.last().unwrap().0.end), (0, doc.len()));
/// ```
pub fn read_parts<V, F>(
    src: &[u8],
    part_bytes: usize,
    make: F,
) -> Result<(ReadOutcome, Parts<V>), ReadError>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    read_parts_with(src, part_bytes, |_| make())
}

/// [`read_parts`], with each visitor made from the bytes its part covers (e.g. to look
/// through them before the part's records arrive).
///
/// The parts are first guessed (where `</name>` and whitespace are followed by `<name`, named
/// as the root's first children), and every part reads its own bytes; only when a guess
/// fails (a cut that was not between two children of the root) is the document's outer level
/// read first to find the children. Either way the result is what one read from end to end
/// gives.
pub fn read_parts_with<V, F>(
    src: &[u8],
    part_bytes: usize,
    make: F,
) -> Result<(ReadOutcome, Parts<V>), ReadError>
where
    V: Visitor + Send,
    F: Fn(Span) -> V + Sync,
{
    let whole = Span::new(0, src.len());
    let sequential = || {
        let mut v = make(whole);
        read(src, &mut v).map(|o| (o, vec![(whole, v)]))
    };
    if src.len() < part_bytes.saturating_mul(2) || src.len() as u64 > MAX_DOCUMENT_BYTES {
        return sequential();
    }
    let runnable = |root: Span, runs: &[Span]| {
        let too_many = usize::try_from(runs.len() as u64 * PART_STRIDE).is_err();
        &src[root.range()] != b"database" && runs.len() >= 2 && !too_many
    };
    if let Some(guess) = super::cuts::guess(src, part_bytes) {
        if runnable(guess.root, &guess.runs) {
            if let Some(done) = read_runs(src, guess.root, &guess.runs, true, &make) {
                return Ok(done);
            }
        }
    }
    // The outline checks the structure only: the parts check their own text, and the bytes
    // between parts are checked below. On any error, the plain read finds the first one.
    let Ok(Outline {
        root,
        content,
        children,
        ..
    }) = checked_outline(src, false)
    else {
        return sequential();
    };
    let mut parts: Vec<Span> = Vec::new();
    for c in children {
        match parts.last_mut() {
            Some(p) if p.len() < part_bytes => p.end = c.end,
            _ => parts.push(c),
        }
    }
    if !runnable(root, &parts) {
        return sequential();
    }
    // The text between parts (whitespace, comments) is checked here; inside parts, by their
    // readers.
    let mut gaps = vec![Span::new(content.start, parts[0].start)];
    gaps.extend(parts.windows(2).map(|w| Span::new(w[0].end, w[1].start)));
    gaps.push(Span::new(parts[parts.len() - 1].end, content.end));
    let gaps_ok = gaps
        .iter()
        .all(|g| Tokenizer::fragment(src, g.start, g.end, root).reads_to_end());
    match gaps_ok.then(|| read_runs(src, root, &parts, false, &make)) {
        Some(Some(done)) => Ok(done),
        // Where the first error is: the plain read says.
        _ => sequential(),
    }
}

/// Reads `runs` (whole children of the root named at `root`, in order) in parallel, each with
/// a visitor from `make` given the bytes it covers: the runs stretched to tile the document.
/// `utf8`: check those bytes as UTF-8 too (when nothing else did). `None` when any run fails.
fn read_runs<V, F>(
    src: &[u8],
    root: Span,
    runs: &[Span],
    utf8: bool,
    make: &F,
) -> Option<(ReadOutcome, Parts<V>)>
where
    V: Visitor + Send,
    F: Fn(Span) -> V + Sync,
{
    use rayon::prelude::*;
    let read: Vec<Option<(PartCounts, TopTables<'_>, Span, V)>> = runs
        .par_iter()
        .enumerate()
        .map(|(k, run)| {
            let start = if k == 0 { 0 } else { run.start };
            let end = runs.get(k + 1).map_or(src.len(), |r| r.start);
            let covers = Span::new(start, end);
            let bytes = &src[covers.range()];
            if utf8 && check_chars(bytes).is_err() {
                return None;
            }
            let mut v = make(covers);
            let base = (k as u64 * PART_STRIDE) as usize;
            let mut reader = Reader::new(src, &mut v, MAX_PAYLOAD_DEPTH, base);
            let top = reader
                .read_doc(src, &Layer::FILE, 0, None, Some((*run, root)))
                .ok()?;
            let counts = PartCounts {
                records: reader.next_index - base,
                payloads: reader.payloads,
                diagnostics: std::mem::take(&mut reader.diagnostics),
            };
            Some((counts, top, covers, v))
        })
        .collect();
    let mut tops = TopTables::default();
    tops.root = as_str(src, root);
    let mut records = 0;
    let mut payloads = 0;
    let mut diagnostics = Vec::new();
    let mut visitors = Vec::with_capacity(read.len());
    for r in read {
        let (counts, top, covers, v) = r?;
        records += counts.records;
        payloads += counts.payloads;
        diagnostics.extend(counts.diagnostics);
        tops.extend(top);
        visitors.push((covers, v));
    }
    let outcome = ReadOutcome {
        shape: tops.shape(),
        records,
        payloads,
        diagnostics,
    };
    Some((outcome, visitors))
}

/// What one part's reader counted.
struct PartCounts {
    records: usize,
    payloads: usize,
    diagnostics: Vec<Diagnostic>,
}
