//! Where a large document may be cut into runs of whole top-level records, found without
//! reading it first.
//!
//! In: a document. Out: a [`Guess`]: the root's name and runs that tile the root's content,
//! each starting at what looks like the start tag of a child of the root (the end tag of one
//! child, whitespace, the start tag of another, both named as the first children are). Nothing
//! here is trusted: the prolog and what follows the root are read as a whole read would read
//! them, and each run is then read by [`Tokenizer::fragment`], which ends well only when the
//! run is whole children of the root. Since a tokenizer over the whole document holds exactly
//! the root open between two children (and is between tokens), runs that all read well are
//! read exactly as a whole read would read them; a guess that was wrong fails one of them,
//! and the caller falls back to reading the outline first.

use memchr::memmem;

use crate::scan::{Span, Token, Tokenizer};

/// A prolog longer than this is not worth guessing about.
const MAX_PROLOG: usize = 1 << 20;

/// Bytes of the root's first children looked at for their names.
const SAMPLE: usize = 1 << 20;

/// Distinct names of the root's first children kept (update sets: two).
const MAX_NAMES: usize = 8;

/// A run longer than this many parts means the names missed a kind of child (a mixed export
/// whose later tables are not among the first): the outline cuts better.
const MAX_PART_RATIO: usize = 4;

/// Runs of a document's top-level children, as guessed.
#[derive(Debug)]
pub(super) struct Guess {
    /// The root's name.
    pub root: Span,
    /// Runs tiling the root's content, in order.
    pub runs: Vec<Span>,
}

/// Runs of about `part_bytes` each, or `None` when the document does not look cuttable (no
/// root, an empty root, a wrong end, children whose names repeat too little).
pub(super) fn guess(src: &[u8], part_bytes: usize) -> Option<Guess> {
    let part_bytes = part_bytes.max(1);
    let mut attrs = Vec::new();
    // The prolog, up to the end of the root's start tag.
    let mut tok = Tokenizer::new(src);
    let (root, content_start) = loop {
        match tok.next(&mut attrs).ok()?? {
            Token::Start {
                span,
                name,
                empty: false,
            } => break (name, span.end),
            Token::Start { .. } => return None,
            _ if tok.offset() > MAX_PROLOG => return None,
            _ => {}
        }
    };
    // The root's end tag starts at the last `</`: only one tag, whitespace, comments and
    // processing instructions may follow it.
    let content_end = content_start + memmem::rfind(&src[content_start..], b"</")?;
    let mut tail = Tokenizer::fragment(src, content_end, src.len(), root).to_document_end();
    while tail.next(&mut attrs).ok()?.is_some() {}
    let names = first_children(src, Span::new(content_start, content_end), root);
    if names.is_empty() {
        return None;
    }
    let mut starts = vec![content_start];
    let mut target = content_start + part_bytes;
    // The last run is at least half a part long.
    while target.saturating_add(part_bytes / 2) < content_end {
        let window = Span::new(target, target.saturating_add(part_bytes).min(content_end));
        match next_start(src, window, content_end, &names) {
            Some(at) => {
                starts.push(at);
                target = at + part_bytes;
            }
            None => target = window.end,
        }
    }
    let ends = starts.iter().skip(1).copied().chain([content_end]);
    let runs: Vec<Span> = starts
        .iter()
        .zip(ends)
        .map(|(&s, e)| Span::new(s, e))
        .collect();
    let too_long = runs
        .iter()
        .any(|r| r.len() > part_bytes.saturating_mul(MAX_PART_RATIO));
    (runs.len() >= 2 && !too_long).then_some(Guess { root, runs })
}

/// The distinct names of the root's first children (those in the first [`SAMPLE`] bytes of
/// its content).
fn first_children(src: &[u8], content: Span, root: Span) -> Vec<&[u8]> {
    let end = content.end.min(content.start.saturating_add(SAMPLE));
    let mut tok = Tokenizer::fragment(src, content.start, end, root);
    let mut attrs = Vec::new();
    let mut names: Vec<&[u8]> = Vec::new();
    while let Ok(Some(t)) = tok.next(&mut attrs) {
        if let Token::Start { name, empty, .. } = t {
            let depth = tok.depth() - usize::from(!empty);
            let name = &src[name.range()];
            if depth == 1 && !names.contains(&name) {
                names.push(name);
                if names.len() == MAX_NAMES {
                    break;
                }
            }
        }
    }
    names
}

/// The first `<name` in `window` that follows `</name>` and whitespace, both names among
/// `names` (looking no further than `limit` for the end of the pattern).
fn next_start(src: &[u8], window: Span, limit: usize, names: &[&[u8]]) -> Option<usize> {
    let src = &src[..limit];
    let name_at = |at: usize| {
        let rest = src.get(at..)?;
        let len = rest
            .iter()
            .take(256)
            .position(|&b| b == b'>' || b == b'/' || b.is_ascii_whitespace())?;
        let name = &rest[..len];
        names.contains(&name).then_some((name, at + len))
    };
    memmem::find_iter(&src[window.range()], b"</").find_map(|i| {
        let (_, after) = name_at(window.start + i + 2)?;
        if src.get(after) != Some(&b'>') {
            return None;
        }
        let gap = src[after + 1..]
            .iter()
            .take(4096)
            .position(|b| !b.is_ascii_whitespace())?;
        let open = after + 1 + gap;
        (src[open] == b'<' && name_at(open + 1).is_some()).then_some(open)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(src: &str, part: usize) -> Option<Vec<&str>> {
        let g = guess(src.as_bytes(), part)?;
        Some(g.runs.iter().map(|r| &src[r.range()]).collect())
    }

    #[test]
    fn cuts_between_children_named_as_the_first() {
        let doc = "<?xml version='1.0'?>\n<unload a='1'>\n<x action='I'><f>1</f></x>\n<y action='I'><f>2</f></y>\n<y action='I'><f>3</f></y>\n</unload>\n<!-- end -->\n";
        let got = runs(doc, 10).unwrap();
        assert_eq!(
            got.concat(),
            &doc[doc.find("\n<x").unwrap()..doc.find("</unload>").unwrap()]
        );
        assert!(got.len() >= 2);
        for r in &got[1..] {
            assert!(r.starts_with("<x ") || r.starts_with("<y "), "{r:?}");
        }
    }

    #[test]
    fn no_guess_without_a_clean_end_or_children() {
        assert!(runs("<unload><a/><a/><a/></unload><!-- </b> -->", 2).is_none());
        assert!(runs("<unload/>", 2).is_none());
        assert!(runs("<unload>text only, long enough to cut</unload>", 2).is_none());
        assert!(runs("<unload><a/><a/><a/></unload>trailing", 2).is_none());
    }
}
