//! Where ciphertext would be left in the output of a set of edits, found without building the
//! output: the fail-closed check of every rewrite.
//!
//! In: an input, the offset the output starts from, and the edits (sorted and checked). Out:
//! whether [`find_ciphertext`](crate::redact::cipher::find_ciphertext) would find anything in
//! the output, and where (an input offset; a replacement's is where its edit starts). Every
//! match holds an anchor (a `#`, or the first byte of a KMF noncharacter): the input is
//! searched once for anchors that stay in the output, each replacement for its own, and the
//! matcher reads around each anchor through the output's pieces (input stretches and
//! replacements) as if the output had been built.

use crate::redact::cipher::{Cursor, match_at};
use crate::scan::Span;
use crate::splice::Edits;

/// Where ciphertext would be left in the output of `edits` on `input[from..]` (the edits that
/// start before `from` are not this output's), as an input offset.
pub(super) fn ciphertext_left(input: &[u8], from: usize, edits: &Edits) -> Option<usize> {
    let start = from.min(input.len());
    let anchors = cipher_anchors(&input[start..], start);
    ciphertext_left_at(input, from, edits, &anchors)
}

/// Where ciphertext may start in `part` (whose first byte is at `base` in the input): every `#`
/// and every `0xEF` (what follows a `0xEF` in the output may come from a replacement), as input
/// offsets in order.
fn cipher_anchors(part: &[u8], base: usize) -> Vec<usize> {
    memchr::memchr2_iter(b'#', 0xEF, part)
        .map(|i| base + i)
        .collect()
}

/// [`ciphertext_left`], with the input's anchors from `from` on already found
/// ([`cipher_anchors`]; others are ignored).
fn ciphertext_left_at(
    input: &[u8],
    from: usize,
    edits: &Edits,
    anchors: &[usize],
) -> Option<usize> {
    // Sorted (as `Rewriter::check_left` is given them): the output's edits are the last ones.
    debug_assert!(edits.iter().is_sorted_by_key(|(s, _)| s.start));
    let skip = edits
        .iter()
        .position(|(s, _)| s.start >= from)
        .unwrap_or(edits.len());
    let out = Output {
        input,
        from,
        edits,
        skip,
        len: edits.len() - skip,
    };
    let mut value = Vec::new();
    let mut found: Option<usize> = None;
    let mut keep = |p: Point| {
        let at = out.input_at(p);
        found = Some(found.map_or(at, |f| f.min(at)));
    };
    // Anchors in the input that stay in the output (edits walked once, in order).
    let mut j = 0;
    for &i in anchors.iter().filter(|&&i| i >= from && i < input.len()) {
        while out.edit(j).is_some_and(|(s, _)| s.end <= i) {
            j += 1;
        }
        if out.edit(j).is_some_and(|(s, _)| s.start <= i) {
            continue; // replaced
        }
        let p = (2 * j, i - out.stretch_start(j));
        if let Some(m) = match_at(&out, p, &mut value) {
            keep(m);
            break;
        }
    }
    // Anchors in the replacements.
    for (j, (_, replacement)) in edits.iter().skip(skip).enumerate() {
        for off in memchr::memchr2_iter(b'#', 0xEF, replacement) {
            if let Some(m) = match_at(&out, (2 * j + 1, off), &mut value) {
                keep(m);
                break;
            }
        }
    }
    found
}

/// The output as segments: segment `2j` is the input stretch before edit `j` (the last one
/// runs to the end), segment `2j + 1` is edit `j`'s replacement.
struct Output<'a> {
    input: &'a [u8],
    from: usize,
    /// Sorted; those from `skip` on are the output's (`len` of them).
    edits: &'a Edits,
    skip: usize,
    len: usize,
}

/// A place in the output: segment and offset in it.
type Point = (usize, usize);

impl<'a> Output<'a> {
    /// The output's edit `j`.
    fn edit(&self, j: usize) -> Option<(Span, &'a [u8])> {
        match j < self.len {
            true => self.edits.get(self.skip + j),
            false => None,
        }
    }

    fn segments(&self) -> usize {
        2 * self.len + 1
    }

    /// Where stretch `j` starts in the input.
    fn stretch_start(&self, j: usize) -> usize {
        match j.checked_sub(1).and_then(|i| self.edit(i)) {
            Some((s, _)) => s.end,
            None => self.from,
        }
    }

    fn segment(&self, k: usize) -> &'a [u8] {
        let j = k / 2;
        if k % 2 == 1 {
            return self.edit(j).map_or(&[], |e| e.1);
        }
        let end = self.edit(j).map_or(self.input.len(), |e| e.0.start);
        &self.input[self.stretch_start(j)..end]
    }

    /// The input offset a point stands for (in a replacement: where its edit starts).
    fn input_at(&self, (k, off): Point) -> usize {
        match (k % 2, self.edit(k / 2)) {
            (1, Some((s, _))) => s.start,
            _ => self.stretch_start(k / 2) + off,
        }
    }
}

impl Cursor for Output<'_> {
    type P = Point;

    fn byte(&self, (k, off): Point) -> u8 {
        self.segment(k)[off]
    }

    fn next(&self, (k, off): Point) -> Option<Point> {
        if off + 1 < self.segment(k).len() {
            return Some((k, off + 1));
        }
        (k + 1..self.segments())
            .find(|&n| !self.segment(n).is_empty())
            .map(|n| (n, 0))
    }

    fn prev(&self, (k, off): Point) -> Option<Point> {
        if off > 0 {
            return Some((k, off - 1));
        }
        (0..k)
            .rev()
            .find(|&n| !self.segment(n).is_empty())
            .map(|n| (n, self.segment(n).len() - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::cipher::find_ciphertext;

    trait Boundary {
        fn is_char_boundary_like(&self, i: usize) -> bool;
    }
    impl Boundary for Vec<u8> {
        fn is_char_boundary_like(&self, i: usize) -> bool {
            i >= self.len() || (self[i] & 0xC0) != 0x80
        }
    }

    /// Random inputs and edits (replacements, deletions, insertions) from pieces of ciphertext
    /// and of its edges: the check must say what a search of the whole output says.
    #[test]
    fn agrees_with_a_search_of_the_whole_output() {
        let pieces: [&[u8]; 27] = [
            b"&#64990;",
            b"&#x",
            b"FDDE;",
            b"&amp;",
            b"#35;",
            b")pR&#35;",
            b"&#41;",
            b"pR",
            b"&#",
            b";",
            b"<a>",
            b")pR#c2VjcmV0c2VjcmV0",
            b"</a>",
            b" text ",
            "\u{FDDE}\u{FDDF}".as_bytes(),
            b"0123456789",
            b")pR#",
            b"abcdefghij",
            b")p",
            b"R#",
            b"#",
            b"",
            b"\xEF",
            b"\xB7\x9E",
            b"\xB7\x9Eabcd",
            b"\x9Eabcd",
            b"pR#abcdefgh",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut found_some = 0;
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..next(14) {
                input.extend_from_slice(pieces[next(pieces.len())]);
            }
            let from = next(input.len() + 1).min(next(3) * input.len());
            let mut edits = Edits::new();
            let mut at = from;
            while at <= input.len() && next(4) > 0 {
                let start = at + next(input.len() - at + 1);
                let end = start + next(input.len() - start + 1).min(8);
                if !input.is_char_boundary_like(start) || !input.is_char_boundary_like(end) {
                    break;
                }
                edits.replace(Span::new(start, end), pieces[next(pieces.len())]);
                at = end + 1;
            }
            if edits.sort_and_check(input.len()).is_err() {
                continue;
            }
            // No edit starts before `from`: the output up to it is the input's.
            let output = edits.to_vec(&input).unwrap();
            let expected = find_ciphertext(&output[from..]).is_some();
            let got = ciphertext_left(&input, from, &edits);
            assert_eq!(
                got.is_some(),
                expected,
                "{:?} from {from}: {edits:?}",
                String::from_utf8_lossy(&input)
            );
            if let Some(at) = got {
                assert!(at >= from && at <= input.len());
                found_some += 1;
            }
        }
        assert!(found_some > 1000, "{found_some}");
    }
}
