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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits {
    edits: Vec<Edit>,
}

impl Edits {
    /// No edits.
    pub fn new() -> Edits {
        Edits::default()
    }

    /// Adds an edit (any order; they are sorted when applied).
    pub fn push(&mut self, edit: Edit) {
        self.edits.push(edit);
    }

    /// Number of edits.
    pub fn len(&self) -> usize {
        self.edits.len()
    }

    /// `true` when there is nothing to change.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The edits sorted by position (stable: equal spans keep insertion order), checked to
    /// lie inside an input of `len` bytes without overlapping.
    pub fn sorted(&mut self, len: usize) -> Result<&[Edit], SpliceError> {
        self.edits.sort_by_key(|e| (e.span.start, e.span.end));
        let mut prev: Option<Span> = None;
        for e in &self.edits {
            if e.span.end > len || e.span.start > e.span.end {
                return Err(SpliceError::OutOfBounds { span: e.span, len });
            }
            if let Some(p) = prev {
                // Two insertions at one point, or any byte shared, is ambiguous.
                if e.span.start < p.end || (e.span.start == p.start && e.span.is_empty()) {
                    return Err(SpliceError::Overlap {
                        first: p,
                        second: e.span,
                    });
                }
            }
            prev = Some(e.span);
        }
        Ok(&self.edits)
    }

    /// Size of the output for an input of `len` bytes.
    pub fn output_len(&self, len: usize) -> usize {
        self.edits
            .iter()
            .fold(len, |n, e| n - e.span.len() + e.replacement.len())
    }

    /// Writes `input` with the edits applied to `out`.
    pub fn apply<W: Write>(&mut self, input: &[u8], out: &mut W) -> io::Result<()> {
        let edits = self
            .sorted(input.len())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut at = 0;
        for e in edits {
            out.write_all(&input[at..e.span.start])?;
            out.write_all(&e.replacement)?;
            at = e.span.end;
        }
        out.write_all(&input[at..])
    }

    /// The input with the edits applied, as a new vector.
    pub fn apply_to_vec(&mut self, input: &[u8]) -> Result<Vec<u8>, SpliceError> {
        self.sorted(input.len())?;
        let mut out = Vec::with_capacity(self.output_len(input.len()));
        let mut at = 0;
        for e in &self.edits {
            out.extend_from_slice(&input[at..e.span.start]);
            out.extend_from_slice(&e.replacement);
            at = e.span.end;
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
