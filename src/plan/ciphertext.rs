//! Where ciphertext would be left in the output of a set of edits, found without building the
//! output: the fail-closed check of every rewrite.
//!
//! In: an input, the offset the output starts from, and the edits (sorted and checked). Out:
//! whether [`find_ciphertext`](crate::analyze::secrets::find_ciphertext) would find anything in
//! the output, and where (an input offset; a replacement's is where its edit starts). The
//! input is searched once where it lies: a match wholly inside an unchanged stretch is in the
//! output as it is. Each replacement is searched with the three bytes on either side of it, so
//! that a match starting in it or straddling its edges is seen. A `)pR#` value, which may run
//! on across edits, is then read from where it starts up to where it ends.

use memchr::memmem;

use crate::analyze::secrets::ciphertext_shape;
use crate::scan::Span;
use crate::splice::Edits;

/// The prefix of password2 values in update-set payloads.
const PR: &[u8] = b")pR#";

/// Where ciphertext would be left in the output of `edits` on `input[from..]` (the edits that
/// start before `from` are not this output's), as an input offset.
pub(super) fn ciphertext_left(input: &[u8], from: usize, edits: &Edits) -> Option<usize> {
    ciphertext_left_in_blocks(input, from, edits, 256 << 10)
}

/// [`ciphertext_left`], searching the input `block` bytes at a time.
fn ciphertext_left_in_blocks(
    input: &[u8],
    from: usize,
    edits: &Edits,
    block: usize,
) -> Option<usize> {
    let out = Output {
        input,
        from,
        edits: edits.iter().filter(|(s, _)| s.start >= from).collect(),
    };
    let mut value = Vec::new();
    let in_place = out.in_stretches(block.max(1), &mut value);
    let around = out.around_edits(&mut value);
    match (in_place, around) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The output as segments: segment `2j` is the input stretch before edit `j` (the last one
/// runs to the end), segment `2j + 1` is edit `j`'s replacement.
struct Output<'a> {
    input: &'a [u8],
    from: usize,
    edits: Vec<(Span, &'a [u8])>,
}

/// A place in the output: segment and offset in it.
type Point = (usize, usize);

impl<'a> Output<'a> {
    fn segments(&self) -> usize {
        2 * self.edits.len() + 1
    }

    /// Where stretch `j` starts in the input.
    fn stretch_start(&self, j: usize) -> usize {
        match j {
            0 => self.from,
            j => self.edits[j - 1].0.end,
        }
    }

    fn segment(&self, k: usize) -> &'a [u8] {
        let j = k / 2;
        if k % 2 == 1 {
            return self.edits[j].1;
        }
        let end = self.edits.get(j).map_or(self.input.len(), |e| e.0.start);
        &self.input[self.stretch_start(j)..end]
    }

    /// The input offset a point stands for (in a replacement: where its edit starts).
    fn input_at(&self, (k, off): Point) -> usize {
        match k % 2 {
            1 => self.edits[k / 2].0.start,
            _ => self.stretch_start(k / 2) + off,
        }
    }

    /// `true` when the value starting at `at` (a `)pR#`) is ciphertext: read up to its end,
    /// across segments, into `value`.
    fn is_pr_value(&self, (mut k, mut off): Point, value: &mut Vec<u8>) -> bool {
        value.clear();
        while k < self.segments() {
            let rest = &self.segment(k)[off..];
            match rest.iter().position(|&b| ends_value(b)) {
                Some(n) => {
                    value.extend_from_slice(&rest[..n]);
                    break;
                }
                None => value.extend_from_slice(rest),
            }
            k += 1;
            off = 0;
        }
        std::str::from_utf8(value).is_ok_and(|s| ciphertext_shape(s).is_some())
    }

    /// The first match wholly inside an unchanged stretch (the value of a `)pR#` may run on
    /// past the stretch). The input is searched a block at a time, both ways at once while the
    /// block is in cache.
    fn in_stretches(&self, block: usize, value: &mut Vec<u8>) -> Option<usize> {
        static PR_FINDER: std::sync::LazyLock<memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memmem::Finder::new(PR));
        let input = self.input;
        // The stretch holding `input[at..at + len]` whole, if one does; `j` is where the last
        // look ended (candidates come in order, so the edits are walked once).
        let stretch = |j: &mut usize, at: usize, len: usize| {
            while self.edits.get(*j).is_some_and(|(s, _)| s.end <= at) {
                *j += 1;
            }
            match self.edits.get(*j) {
                Some((s, _)) if s.start < at + len => None,
                _ => Some(*j),
            }
        };
        let (mut kmf_j, mut pr_j) = (0, 0);
        let mut start = self.from.min(input.len());
        while start < input.len() {
            let end = (start + block).min(input.len());
            let kmf = memchr::memchr_iter(0xEF, &input[start..end])
                .map(|i| start + i)
                .find(|&at| is_kmf(&input[at..]) && stretch(&mut kmf_j, at, 3).is_some());
            // A `)pR#` that starts in the block may end in the next (and one that starts in
            // the next does not fit in this hay).
            let hay = &input[start..(end + PR.len() - 1).min(input.len())];
            let pr = PR_FINDER.find_iter(hay).map(|i| start + i).find(|&at| {
                stretch(&mut pr_j, at, PR.len())
                    .is_some_and(|j| self.is_pr_value((2 * j, at - self.stretch_start(j)), value))
            });
            match (kmf, pr) {
                (Some(a), Some(b)) => return Some(a.min(b)),
                (None, None) => {}
                (a, b) => return a.or(b),
            }
            start = end;
        }
        None
    }

    /// The first match that starts in a replacement or straddles one of its edges.
    fn around_edits(&self, value: &mut Vec<u8>) -> Option<usize> {
        let mut window: Vec<u8> = Vec::new();
        let mut points: Vec<Point> = Vec::new();
        for (j, (_, replacement)) in self.edits.iter().enumerate() {
            if !may_touch(replacement) {
                continue;
            }
            let k = 2 * j + 1;
            window.clear();
            points.clear();
            self.before(k, &mut window, &mut points);
            window.extend_from_slice(replacement);
            points.extend((0..replacement.len()).map(|off| (k, off)));
            let starts = window.len();
            self.after(k, &mut window, &mut points);
            // Matches that start before the bytes after the replacement.
            let found = memchr::memchr2_iter(b')', 0xEF, &window[..starts]).find(|&t| {
                let rest = &window[t..];
                is_kmf(rest) || (rest.starts_with(PR) && self.is_pr_value(points[t], value))
            });
            if let Some(t) = found {
                return Some(self.input_at(points[t]));
            }
        }
        None
    }

    /// The (up to) three output bytes before segment `k`, with their points.
    fn before(&self, k: usize, window: &mut Vec<u8>, points: &mut Vec<Point>) {
        // Gathered backwards, then put in order at the end of `window`.
        let from = window.len();
        let mut seg = k;
        while window.len() - from < 3 && seg > 0 {
            seg -= 1;
            let s = self.segment(seg);
            for off in (0..s.len()).rev().take(3 - (window.len() - from)) {
                window.push(s[off]);
                points.push((seg, off));
            }
        }
        window[from..].reverse();
        points[from..].reverse();
    }

    /// The (up to) three output bytes after segment `k`, with their points.
    fn after(&self, k: usize, window: &mut Vec<u8>, points: &mut Vec<Point>) {
        let mut n = 0;
        for seg in k + 1..self.segments() {
            let s = self.segment(seg);
            for (off, &b) in s.iter().enumerate().take(3 - n) {
                window.push(b);
                points.push((seg, off));
                n += 1;
            }
            if n == 3 {
                break;
            }
        }
    }
}

/// `true` when `bytes` starts with a KMF noncharacter (UTF-8 `EF B7 90..AF`).
fn is_kmf(bytes: &[u8]) -> bool {
    matches!(bytes, [0xEF, 0xB7, 0x90..=0xAF, ..])
}

/// Where a `)pR#` value ends (as [`find_ciphertext`](crate::analyze::secrets::find_ciphertext)
/// reads it).
fn ends_value(b: u8) -> bool {
    matches!(b, b'<' | b'&' | b'"' | b'\'' | b']') || b.is_ascii_whitespace()
}

/// `false` when no match can start in `replacement` or straddle its edges: it holds no `)` or
/// `0xEF` (where matches start), and does not begin with the rest of one begun before it.
fn may_touch(replacement: &[u8]) -> bool {
    replacement.len() < PR.len()
        || memchr::memchr2(b')', 0xEF, replacement).is_some()
        || (1..PR.len()).any(|k| replacement.starts_with(&PR[k..]))
        || matches!(replacement[0], 0xB7 | 0x90..=0xAF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::secrets::find_ciphertext;

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
        let pieces: [&[u8]; 17] = [
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
            let output = edits.to_vec(&input);
            let expected = find_ciphertext(&output[from..]).is_some();
            let got = ciphertext_left(&input, from, &edits);
            assert_eq!(got.is_some(), expected, "{input:?} from {from}: {edits:?}");
            for block in [1, 2, 5] {
                let in_blocks = ciphertext_left_in_blocks(&input, from, &edits, block);
                assert_eq!(
                    in_blocks, got,
                    "{input:?} from {from}: {edits:?} by {block}"
                );
            }
            if let Some(at) = got {
                assert!(at >= from && at <= input.len());
                found_some += 1;
            }
        }
        assert!(found_some > 1000, "{found_some}");
    }
}
