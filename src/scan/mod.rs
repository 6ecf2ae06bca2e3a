//! Bytes to tokens.
//!
//! In: the bytes of an XML document as ServiceNow writes it (a whole file, or a payload taken
//! from one). Out: [`Token`]s carrying byte [`Span`]s, from a checking tokenizer built on
//! `memchr`; and, for entity-escaped payloads, the decoded document with an offset map back to
//! the raw bytes ([`decode_escaped`]). Nothing here allocates per token or copies values.

mod chars;
mod escape;
pub(crate) mod escapes;
mod tokenizer;

pub use chars::{CharProblem, check_chars, cut_character, first_control};
pub use escape::{OffsetMap, decode_escaped, join_cdata_sections, unescape};
pub use tokenizer::{MAX_DEPTH, RawAttr, ScanError, Token, Tokenizer, decode_reference};

use serde::Serialize;

/// A half-open byte range `start..end` in some buffer.
///
/// ```
/// use sn_retarget::Span;
/// let s = Span::new(2, 5);
/// assert_eq!(&b"abcdefg"[s.range()], b"cde");
/// assert_eq!(s.len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (`end >= start`).
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end);
        Span { start, end }
    }

    /// As a `Range<usize>` for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// `true` when the span covers no byte.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}
