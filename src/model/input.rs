//! Checks made before reading a document: size, encoding (UTF-8 only) and characters.

use super::reader::MAX_DOCUMENT_BYTES;
use crate::error::{Location, ReadError, SyntaxError};
use crate::scan::{CharProblem, check_chars};

/// Size, UTF-8 and character checks before any reading.
pub(super) fn check_input(src: &[u8]) -> Result<(), ReadError> {
    if src.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ReadError::new(
            SyntaxError::TooLarge(MAX_DOCUMENT_BYTES),
            Location::at(&[], 0),
        ));
    }
    if let Some(encoding) = foreign_encoding(src) {
        // At 1:1, without a snippet (the line would be the encoding's NUL bytes).
        return Err(ReadError::new(
            SyntaxError::UnsupportedEncoding(encoding),
            Location::at(&[], 0),
        ));
    }
    check_chars(src).map_err(|(at, problem)| {
        let kind = match problem {
            CharProblem::Utf8 => SyntaxError::InvalidUtf8,
            CharProblem::Control(c) => SyntaxError::ControlCharacter(c),
        };
        ReadError::new(kind, Location::at(src, at))
    })
}

/// The encoding of a document that starts as UTF-16 or UTF-32 does: with its byte-order mark,
/// or with `<` (and the rest of the markup) in that encoding, as XML 1.0 appendix F tells them.
fn foreign_encoding(src: &[u8]) -> Option<&'static str> {
    const SIGNS: [(&[u8], &str); 8] = [
        // UTF-32 first: its little-endian mark starts like UTF-16's.
        (b"\x00\x00\xFE\xFF", "UTF-32"),
        (b"\xFF\xFE\x00\x00", "UTF-32"),
        (b"\x00\x00\x00<", "UTF-32"),
        (b"<\x00\x00\x00", "UTF-32"),
        (b"\xFE\xFF", "UTF-16"),
        (b"\xFF\xFE", "UTF-16"),
        (b"\x00<", "UTF-16"),
        (b"<\x00", "UTF-16"),
    ];
    SIGNS
        .iter()
        .find(|(sign, _)| src.starts_with(sign))
        .map(|(_, name)| *name)
}
