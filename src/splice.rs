//! Input bytes plus edits to output bytes: the only place that writes documents.
//!
//! In: the original bytes and a list of [`Edit`]s (a byte span of the input and the bytes that
//! replace it). Out: the input with exactly those spans replaced; every other byte is copied as
//! it was. With no edits the output is the input, byte for byte. Nothing is ever re-serialized.
//!
//! ```
//! use sn_retarget::splice::{Edit, Edits};
//! use sn_retarget::Span;
//! let input = b"<a>dev1.service-now.com</a>";
//! let mut edits = Edits::new();
//! edits.push(Edit::new(Span::new(3, 7), "prod"));
//! assert_eq!(edits.apply_to_vec(input).unwrap(), b"<a>prod.service-now.com</a>");
//! assert_eq!(Edits::new().apply_to_vec(input).unwrap(), input);
//! ```

use std::io::{self, Write};
use std::ops::Range;

use rustc_hash::FxHashMap;

use crate::scan::Span;

/// Replace the bytes of `span` in the input with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Bytes of the input to replace (may be empty, to insert).
    pub span: Span,
    /// What goes there instead.
    pub replacement: Vec<u8>,
}

impl Edit {
    /// An edit replacing `span` with `replacement`.
    pub fn new(span: Span, replacement: impl Into<Vec<u8>>) -> Edit {
        Edit {
            span,
            replacement: replacement.into(),
        }
    }
}

/// Why a set of edits cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpliceError {
    /// Two edits touch the same bytes.
    #[error("edits overlap at bytes {first:?} and {second:?}")]
    Overlap {
        /// The earlier edit's span.
        first: Span,
        /// The later edit's span.
        second: Span,
    },
    /// An edit reaches past the end of the input.
    #[error("edit {span:?} is outside the input ({len} bytes)")]
    OutOfBounds {
        /// The edit's span.
        span: Span,
        /// Input length.
        len: usize,
    },
}

/// A set of edits to one input, applied in order of position.
///
/// Replacement bytes are stored once however many edits use them (a rewrite repeats the same
/// host or id thousands of times), so an edit costs a span and an index.
#[derive(Debug, Clone, Default)]
pub struct Edits {
    edits: Vec<(Span, u32)>,
    pool: Vec<Box<[u8]>>,
    index: FxHashMap<Box<[u8]>, u32>,
    sorted: bool,
}

impl PartialEq for Edits {
    fn eq(&self, other: &Edits) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Edits {}

impl Edits {
    /// No edits.
    pub fn new() -> Edits {
        Edits::default()
    }

    /// Adds an edit (any order; they are sorted when applied).
    pub fn push(&mut self, edit: Edit) {
        self.replace(edit.span, &edit.replacement);
    }

    /// Adds an edit replacing `span` with `replacement`.
    pub fn replace(&mut self, span: Span, replacement: &[u8]) {
        let id = match self.index.get(replacement) {
            Some(&id) => id,
            None => {
                let id = self.pool.len() as u32;
                self.pool.push(replacement.into());
                self.index.insert(replacement.into(), id);
                id
            }
        };
        self.edits.push((span, id));
        self.sorted = false;
    }

    /// Adds every edit of `other`. Edits that were sorted and checked stay so when all of
    /// `other`'s come after all of these (as for the parts of one file, in order).
    pub fn append(&mut self, other: Edits) {
        let sorted = (self.sorted || self.edits.is_empty())
            && other.sorted
            && match (self.edits.last(), other.edits.first()) {
                (Some((a, _)), Some((b, _))) => {
                    a.end <= b.start && !(b.is_empty() && a.start == b.start)
                }
                _ => true,
            };
        if self.edits.is_empty() && self.pool.is_empty() {
            *self = Edits { sorted, ..other };
            return;
        }
        // Pools are joined, not merged: a replacement both hold is stored twice, which costs
        // less than hashing every replacement again.
        let base = self.pool.len() as u32;
        self.pool.extend(other.pool);
        self.edits
            .extend(other.edits.into_iter().map(|(s, id)| (s, base + id)));
        self.sorted = sorted;
    }

    /// Keeps the first `len` edits added (in the order they were added), drops the rest.
    #[cfg_attr(feature = "internals", visibility::make(pub))]
    pub(crate) fn truncate(&mut self, len: usize) {
        if self.sorted {
            // Insertion order is gone once sorted; only a no-op truncation is meaningful then.
            debug_assert!(len >= self.edits.len());
            return;
        }
        self.edits.truncate(len);
    }

    /// Number of edits.
    pub fn len(&self) -> usize {
        self.edits.len()
    }

    /// `true` when there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The edits as `(span, replacement)`, in the order they are held.
    pub fn iter(&self) -> impl Iterator<Item = (Span, &[u8])> {
        self.edits
            .iter()
            .map(|(s, id)| (*s, &*self.pool[*id as usize]))
    }

    /// Edit `i` as `(span, replacement)`, in the order they are held.
    pub(crate) fn get(&self, i: usize) -> Option<(Span, &[u8])> {
        let &(s, id) = self.edits.get(i)?;
        Some((s, &*self.pool[id as usize]))
    }

    /// Sorts by position (stable: equal spans keep insertion order) and checks that the edits
    /// lie inside an input of `len` bytes without overlapping.
    pub fn sort_and_check(&mut self, len: usize) -> Result<(), SpliceError> {
        if !self.sorted {
            self.edits.sort_by_key(|(s, _)| (s.start, s.end));
            self.sorted = true;
        }
        let mut prev: Option<Span> = None;
        for &(span, _) in &self.edits {
            if span.end > len || span.start > span.end {
                return Err(SpliceError::OutOfBounds { span, len });
            }
            if let Some(p) = prev {
                // Two insertions at one point, or any byte shared, is ambiguous.
                if span.start < p.end || (span.start == p.start && span.is_empty()) {
                    return Err(SpliceError::Overlap {
                        first: p,
                        second: span,
                    });
                }
            }
            prev = Some(span);
        }
        Ok(())
    }

    /// Size of the output for an input of `len` bytes.
    pub fn output_len(&self, len: usize) -> usize {
        self.iter().fold(len, |n, (s, r)| n - s.len() + r.len())
    }

    /// Writes `input` with the edits applied to `out` (sorting and checking them first).
    pub fn apply<W: Write>(&mut self, input: &[u8], out: &mut W) -> io::Result<()> {
        self.sort_and_check(input.len())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.write(input, out)
    }

    /// Writes `input` with the edits applied to `out`. The edits must be in order (as
    /// [`Edits::sort_and_check`] leaves them); an edit out of order or out of bounds is an
    /// `InvalidInput` error.
    pub fn write<W: Write + ?Sized>(&self, input: &[u8], out: &mut W) -> io::Result<()> {
        self.write_part(input, 0..self.edits.len(), 0..input.len(), out)
    }

    /// Writes the output of `input[bytes]`, made with the edits `edits` (indices, in order),
    /// to `out`: one piece of [`Edits::write`], cut where [`Edits::cut_near`] says.
    #[cfg_attr(feature = "internals", visibility::make(pub))]
    pub(crate) fn write_part<W: Write + ?Sized>(
        &self,
        input: &[u8],
        edits: Range<usize>,
        bytes: Range<usize>,
        out: &mut W,
    ) -> io::Result<()> {
        let mut at = bytes.start;
        for &(span, id) in &self.edits[edits] {
            if span.start < at || span.end > bytes.end {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    SpliceError::OutOfBounds {
                        span,
                        len: input.len(),
                    },
                ));
            }
            out.write_all(&input[at..span.start])?;
            out.write_all(&self.pool[id as usize])?;
            at = span.end;
        }
        out.write_all(&input[at..bytes.end])
    }

    /// Where to cut the output of ordered edits near input offset `near` (moved past an edit
    /// that straddles it), for writing it in two pieces with [`Edits::write_part`]:
    /// `(edits before the cut, input offset, output offset)`.
    #[cfg_attr(feature = "internals", visibility::make(pub))]
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub(crate) fn cut_near(&self, input_len: usize, near: usize) -> (usize, usize, usize) {
        self.cuts_near(input_len, &[near])[0]
    }

    /// [`Edits::cut_near`] for each of `nears` (in increasing order), in one pass.
    ///
    /// ```
    /// use sn_retarget::scan::Span;
    /// use sn_retarget::splice::Edits;
    /// let mut edits = Edits::new();
    /// edits.replace(Span::new(2, 4), b"xyz");
    /// edits.replace(Span::new(6, 7), b"");
    /// edits.sort_and_check(10).unwrap();
    /// assert_eq!(edits.cuts_near(10, &[3, 5, 9]), [(1, 4, 5), (1, 5, 6), (2, 9, 9)]);
    /// ```
    #[cfg_attr(feature = "internals", visibility::make(pub))]
    pub(crate) fn cuts_near(
        &self,
        input_len: usize,
        nears: &[usize],
    ) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::with_capacity(nears.len());
        let mut grown = 0isize;
        let mut k = 0;
        for &near in nears {
            let mut cut = near
                .min(input_len)
                .max(out.last().map_or(0, |c: &(_, usize, _)| c.1));
            while let Some(&(span, id)) = self.edits.get(k) {
                if span.start < cut && span.end > cut {
                    cut = span.end;
                }
                if span.end > cut || (span.is_empty() && span.start == cut) {
                    break;
                }
                grown += self.pool[id as usize].len() as isize - span.len() as isize;
                k += 1;
            }
            out.push((k, cut, (cut as isize + grown) as usize));
        }
        out
    }

    /// The input with the edits applied, as a new vector, without changing `self` (edits not
    /// in order are sorted in a copy); an overlap or an edit out of bounds is an error.
    ///
    /// ```
    /// use sn_retarget::Span;
    /// use sn_retarget::splice::Edits;
    /// let mut edits = Edits::new();
    /// edits.replace(Span::new(4, 5), b"X");
    /// edits.replace(Span::new(0, 1), b"<");
    /// assert_eq!(edits.to_vec(b"<ab><c/>").unwrap(), b"<ab>Xc/>");
    /// edits.replace(Span::new(4, 6), b"Y");
    /// assert!(edits.to_vec(b"<ab><c/>").is_err()); // two edits on byte 4
    /// ```
    pub fn to_vec(&self, input: &[u8]) -> Result<Vec<u8>, SpliceError> {
        let mut out = Vec::with_capacity(self.output_len(input.len()));
        match self.sorted && self.write(input, &mut out).is_ok() {
            true => Ok(out),
            false => self.clone().apply_to_vec(input),
        }
    }

    /// The input with the edits applied, as a new vector.
    pub fn apply_to_vec(&mut self, input: &[u8]) -> Result<Vec<u8>, SpliceError> {
        self.sort_and_check(input.len())?;
        let mut out = Vec::with_capacity(self.output_len(input.len()));
        let mut at = 0;
        for (span, r) in self.iter() {
            out.extend_from_slice(&input[at..span.start]);
            out.extend_from_slice(r);
            at = span.end;
        }
        out.extend_from_slice(&input[at..]);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_out_of_bounds_edits_are_refused() {
        let mut e = Edits::new();
        e.push(Edit::new(Span::new(0, 3), "x"));
        e.push(Edit::new(Span::new(2, 4), "y"));
        assert!(matches!(
            e.apply_to_vec(b"abcdef"),
            Err(SpliceError::Overlap { .. })
        ));
        let mut e = Edits::new();
        e.push(Edit::new(Span::new(5, 9), "x"));
        assert!(matches!(
            e.apply_to_vec(b"abcdef"),
            Err(SpliceError::OutOfBounds { .. })
        ));
    }

    /// An input and edits of every kind: growing, deleting, inserting, next to each other.
    fn sample() -> (&'static [u8], Edits) {
        let input = b"0123456789abcdefghij";
        let mut e = Edits::new();
        e.push(Edit::new(Span::new(2, 4), "XY_"));
        e.push(Edit::new(Span::new(8, 12), ""));
        e.push(Edit::new(Span::new(12, 12), "+"));
        e.push(Edit::new(Span::new(15, 16), "!!"));
        e.sort_and_check(input.len()).unwrap();
        (input, e)
    }

    #[test]
    fn halves_written_apart_make_the_whole_output() {
        let (input, e) = sample();
        let whole = e.to_vec(input).unwrap();
        for near in 0..=input.len() {
            let (k, cut, out_cut) = e.cut_near(input.len(), near);
            let mut a = Vec::new();
            e.write_part(input, 0..k, 0..cut, &mut a).unwrap();
            let mut b = Vec::new();
            e.write_part(input, k..e.len(), cut..input.len(), &mut b)
                .unwrap();
            assert_eq!(a.len(), out_cut, "{near}");
            assert_eq!([a, b].concat(), whole, "{near}");
        }
    }

    /// Pieces cut at any increasing offsets, each written at its output offset, make the
    /// whole output.
    #[test]
    fn pieces_written_apart_make_the_whole_output() {
        let (input, e) = sample();
        let whole = e.to_vec(input).unwrap();
        let n = input.len() + 1;
        for a in 0..n {
            for b in a..n {
                for c in b..n {
                    let mut cuts = vec![(0, 0, 0)];
                    cuts.extend(e.cuts_near(input.len(), &[a, b, c]));
                    cuts.push((e.len(), input.len(), whole.len()));
                    let mut out = vec![0u8; whole.len()];
                    for w in cuts.windows(2) {
                        let ((k0, in0, out0), (k1, in1, out1)) = (w[0], w[1]);
                        let mut piece = Vec::new();
                        e.write_part(input, k0..k1, in0..in1, &mut piece).unwrap();
                        assert_eq!(piece.len(), out1 - out0, "{a} {b} {c}");
                        out[out0..out1].copy_from_slice(&piece);
                    }
                    assert_eq!(out, whole, "{a} {b} {c}");
                }
            }
        }
    }

    #[test]
    fn adjacent_edits_and_insertions_apply_in_order() {
        let mut e = Edits::new();
        e.push(Edit::new(Span::new(3, 3), "!"));
        e.push(Edit::new(Span::new(1, 2), "B"));
        e.push(Edit::new(Span::new(2, 3), "C"));
        assert_eq!(e.apply_to_vec(b"abcd").unwrap(), b"aBC!d");
        let mut out = Vec::new();
        e.apply(b"abcd", &mut out).unwrap();
        assert_eq!(out, b"aBC!d");
    }
}
