//! [`check_outer`](super::check_outer), on a document read in pieces: constant memory, and
//! each piece can be passed on (written) as soon as it is read.
//!
//! The document is cut only after a child of the root ends (an end tag or an empty element at
//! depth 1), where a tokenizer over the whole document holds exactly the root as its open
//! elements: each piece is read by [`Tokenizer::fragment`] from there, with the root's name
//! kept at the front of the buffer, so the tokens are the ones a whole read would see. Anything
//! this cannot settle (a failure, a prolog or a record bigger than the buffer can grow to, an
//! empty root) answers "read it whole", and the whole read then reports the exact error.

use std::io::{self, Read};

use simdutf8::compat::from_utf8;

use super::reader::MAX_DOCUMENT_BYTES;
use crate::scan::{Span, Token, Tokenizer, check_chars, cut_character};

/// Bytes read at a time.
const PIECE: usize = 2 << 20;

/// The most one record (or a prolog) may take before the streamed check gives up on it.
const MAX_BUFFER: usize = 256 << 20;

/// Reads all of `input`, handing every piece (2 MB at most) to `sink` as it is read, and checks the document's
/// outer level as [`check_outer`](super::check_outer) does. `Ok(true)`: the document passed.
/// `Ok(false)`: it did not, or the check could not be made in pieces; read it whole with
/// `check_outer` for the answer (and the position of the error). Errors are `input`'s and
/// `sink`'s.
///
/// ```
/// use sn_retarget::model::check_outer_streamed;
/// let doc = b"<?xml version='1.0'?>\n<unload><a action='INSERT'/><b action='INSERT'>x</b></unload>\n";
/// let mut copy = Vec::new();
/// assert!(check_outer_streamed(&doc[..], |piece| { copy.extend_from_slice(piece); Ok(()) }).unwrap());
/// assert_eq!(copy, doc);
/// assert!(!check_outer_streamed(&b"<unload><a></unload>"[..], |_| Ok(())).unwrap());
/// ```
pub fn check_outer_streamed<R: Read>(
    input: R,
    sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<bool> {
    check_outer_streamed_with(input, sink, PIECE)
}

/// [`check_outer_streamed`], reading `piece` bytes at a time (at least 1; small pieces are
/// for tests).
///
/// ```
/// use sn_retarget::model::{check_outer, check_outer_streamed_with};
/// let doc = b"<unload><a action='INSERT'>x &amp; y</a><b action='INSERT'/></unload>";
/// for piece in [1, 3, 10, 100] {
///     assert!(check_outer_streamed_with(&doc[..], |_| Ok(()), piece).unwrap());
/// }
/// assert!(check_outer(doc).is_ok());
/// ```
pub fn check_outer_streamed_with<R: Read>(
    mut input: R,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
    piece: usize,
) -> io::Result<bool> {
    let piece = piece.max(1);
    let max_buffer = MAX_BUFFER.max(piece);
    let mut pieces = Pieces {
        input: &mut input,
        sink: &mut sink,
        piece,
        total: 0,
        utf8_tail: Vec::new(),
        chars_ok: true,
        eof: false,
    };
    // The prolog and the root's start tag, from the start of the document.
    let mut buf: Vec<u8> = Vec::with_capacity(piece);
    pieces.fill_by(&mut buf, piece)?;
    let (root_name, after_root) = loop {
        let mut tok = Tokenizer::new(&buf);
        let mut attrs = Vec::new();
        let found = loop {
            match tok.next(&mut attrs) {
                Ok(Some(Token::Start { name, empty, .. })) => break Some((name, empty)),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break None,
            }
        };
        match found {
            // An empty root: nothing to cut, the whole read settles it.
            Some((_, true)) => return pieces.drain_false(),
            Some((name, false)) => break (buf[name.range()].to_vec(), tok.offset()),
            None if pieces.eof || buf.len() >= max_buffer => return pieces.drain_false(),
            None => {}
        }
        let more = buf.len().max(piece);
        pieces.fill_by(&mut buf, more)?;
    };
    // From here on, `buf` is the root's name, then the bytes from a cut on.
    let keep = buf.split_off(after_root);
    buf = root_name;
    let root = Span::new(0, buf.len());
    buf.extend_from_slice(&keep);
    drop(keep);
    loop {
        let start = root.end;
        if pieces.eof {
            let ok = rest_is_well_formed(&buf, root);
            let chars = pieces.chars_ok && pieces.utf8_tail.is_empty();
            return Ok(ok && chars && pieces.total <= MAX_DOCUMENT_BYTES);
        }
        // Up to the last child of the root that ends in the buffer; a child cut by the end of
        // the buffer (or the root's end and what follows) waits for more bytes.
        let cut = last_child_end(&buf, root);
        // No child ended: read more at a time (a record larger than a piece), so that a large
        // record is not tokenized again for every piece.
        let more = if cut == start { buf.len() } else { piece };
        buf.drain(start..cut);
        if buf.len() >= max_buffer || pieces.total > MAX_DOCUMENT_BYTES {
            return pieces.drain_false();
        }
        pieces.fill_by(&mut buf, more.max(piece))?;
    }
}

/// Whether `buf` (the root's name at `root`, then the rest of the document from between two
/// of its children) reads to the document's end.
fn rest_is_well_formed(buf: &[u8], root: Span) -> bool {
    Tokenizer::fragment(buf, root.end, buf.len(), root)
        .to_document_end()
        .reads_to_end()
}

/// Where the last of the root's children that ends in `buf` (laid out as for
/// [`rest_is_well_formed`]) ends; `root.end` when none does.
fn last_child_end(buf: &[u8], root: Span) -> usize {
    let mut tok = Tokenizer::fragment(buf, root.end, buf.len(), root);
    let mut attrs = Vec::new();
    let mut cut = root.end;
    loop {
        match tok.next(&mut attrs) {
            Ok(Some(Token::End { .. })) if tok.depth() == 1 => cut = tok.offset(),
            Ok(Some(Token::Start { empty: true, .. })) if tok.depth() == 1 => cut = tok.offset(),
            Ok(Some(_)) if tok.depth() == 0 => return cut,
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return cut,
        }
    }
}

/// The input, read a piece at a time: each piece goes to the sink and through the UTF-8 and
/// control character checks.
struct Pieces<'a, R, S> {
    input: &'a mut R,
    sink: &'a mut S,
    /// The most the sink is given at once.
    piece: usize,
    total: u64,
    /// The first bytes of a character cut by the end of the last piece.
    utf8_tail: Vec<u8>,
    /// No invalid UTF-8 and no control character so far.
    chars_ok: bool,
    eof: bool,
}

impl<R: Read, S: FnMut(&[u8]) -> io::Result<()>> Pieces<'_, R, S> {
    /// Appends up to `n` bytes of input to `buf` (fewer only at the end of the input).
    fn fill_by(&mut self, buf: &mut Vec<u8>, n: usize) -> io::Result<()> {
        let from = buf.len();
        // `read_to_end` reads into spare capacity (no zeroing first) and retries interrupts.
        let got = self.input.by_ref().take(n as u64).read_to_end(buf)?;
        self.eof = got < n;
        let new = &buf[from..];
        self.total += new.len() as u64;
        // To the sink a piece at most at a time, however much was read (a large record).
        for piece in new.chunks(self.piece) {
            (self.sink)(piece)?;
        }
        self.check_chars(new);
        Ok(())
    }

    /// Checks the next bytes of the input for UTF-8, a character cut between pieces included,
    /// and for control characters.
    fn check_chars(&mut self, new: &[u8]) {
        if !self.chars_ok {
            return;
        }
        let mut rest = new;
        if let Some(&lead) = self.utf8_tail.first() {
            let len = match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let need = len - self.utf8_tail.len();
            if rest.len() < need {
                self.utf8_tail.extend_from_slice(rest);
                self.chars_ok = !self.eof;
                return;
            }
            self.utf8_tail.extend_from_slice(&rest[..need]);
            self.chars_ok = from_utf8(&self.utf8_tail).is_ok();
            self.utf8_tail.clear();
            rest = &rest[need..];
            if !self.chars_ok {
                return;
            }
        }
        // Whole characters in one pass over the bytes; a character cut by the end of the piece
        // (at most 3 bytes of it) waits for the next one.
        let cut = if self.eof { 0 } else { cut_character(rest) };
        let (whole, cut) = rest.split_at(rest.len() - cut);
        if check_chars(whole).is_err() {
            self.chars_ok = false;
            return;
        }
        self.utf8_tail.extend_from_slice(cut);
    }

    /// Passes the rest of the input on and answers "read it whole".
    fn drain_false(&mut self) -> io::Result<bool> {
        let mut buf = Vec::new();
        while !self.eof {
            buf.clear();
            self.fill_by(&mut buf, PIECE)?;
        }
        Ok(false)
    }
}
