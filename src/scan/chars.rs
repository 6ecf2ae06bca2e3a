//! Characters XML does not allow in a document.

/// Offset and value of the first C0 control character in `bytes` other than tab, line feed and
/// carriage return: XML 1.0 allows none of them, raw or as a character reference, and
/// ServiceNow's import stops on one ("An invalid XML character (Unicode: 0xb) was found").
///
/// ```
/// use sn_retarget::scan::first_control;
/// assert_eq!(first_control(b"<a>tab\there\r\n</a>"), None);
/// assert_eq!(first_control(b"<a>page\x0cbreak</a>"), Some((7, 0x0c)));
/// assert_eq!(first_control("<a>é\u{1}</a>".as_bytes()), Some((5, 1)));
/// ```
pub fn first_control(bytes: &[u8]) -> Option<(usize, u8)> {
    // In blocks, with no branch per byte inside one (the loop is vectorized; about 6 GB/s
    // from memory in a one-off measurement).
    const BLOCK: usize = 64;
    let is_control = |b: u8| (b < 0x20) & (b != b'\n') & ((b | 4) != b'\r');
    let found = |from: usize, block: &[u8]| {
        let at = block.iter().position(|&b| is_control(b))?;
        Some((from + at, block[at]))
    };
    let mut blocks = bytes.chunks_exact(BLOCK);
    for (k, block) in blocks.by_ref().enumerate() {
        let any = block
            .iter()
            .fold(0u8, |any, &b| any | u8::from(is_control(b)));
        if any != 0 {
            return found(k * BLOCK, block);
        }
    }
    let rest = blocks.remainder();
    found(bytes.len() - rest.len(), rest)
}

/// How many bytes at the end of `bytes` are the start of a character cut there (0 to 3): what
/// a piece of a stream holds back until the next piece completes it. Bytes that could not
/// start a character are not counted ([`check_chars`] refuses them).
///
/// ```
/// use sn_retarget::scan::cut_character;
/// let text = "a日".as_bytes(); // 61 E6 97 A5
/// assert_eq!(cut_character(&text[..3]), 2);
/// assert_eq!(cut_character(text), 0);
/// assert_eq!(cut_character(b"abc"), 0);
/// ```
pub fn cut_character(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let len = match bytes[bytes.len() - back] {
            0x80..=0xBF => continue,
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        return if len > back { back } else { 0 };
    }
    0
}

/// What [`check_chars`] found wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharProblem {
    /// The bytes are not UTF-8 from here on.
    Utf8,
    /// A control character XML does not allow ([`first_control`]).
    Control(u8),
}

/// Checks that `bytes` are UTF-8 and hold no control character XML forbids; else the first
/// problem and its offset. One pass in blocks small enough to stay in cache, so that the
/// second check of a block does not read it from memory again.
///
/// ```
/// use sn_retarget::scan::{CharProblem, check_chars};
/// assert_eq!(check_chars("<a>café</a>".as_bytes()), Ok(()));
/// assert_eq!(check_chars(b"<a>caf\xe9</a>"), Err((6, CharProblem::Utf8)));
/// assert_eq!(check_chars(b"<a>\x1b\xff</a>"), Err((3, CharProblem::Control(0x1b))));
/// ```
pub fn check_chars(bytes: &[u8]) -> Result<(), (usize, CharProblem)> {
    const BLOCK: usize = 64 << 10;
    let mut at = 0;
    while at < bytes.len() {
        let mut end = (at + BLOCK).min(bytes.len());
        // Not inside a character (a longer run of continuation bytes is not UTF-8 anyway).
        for _ in 0..3 {
            if end < bytes.len() && bytes[end] & 0xC0 == 0x80 {
                end -= 1;
            }
        }
        // Where the UTF-8 ends, counted from the start (a block's own check cannot say where
        // a character cut by its start went wrong).
        let valid = match simdutf8::basic::from_utf8(&bytes[at..end]) {
            Ok(_) => end,
            Err(_) => std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |_| end),
        };
        if let Some((k, c)) = first_control(&bytes[at..valid.clamp(at, end)]) {
            return Err((at + k, CharProblem::Control(c)));
        }
        if valid < end {
            return Err((valid, CharProblem::Utf8));
        }
        at = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{CharProblem, check_chars, first_control};

    /// Against the two checks made one after the other on the whole, with problems on both
    /// sides of block boundaries and characters cut by them.
    #[test]
    fn one_pass_finds_what_two_passes_find() {
        let base: Vec<u8> = "<a>é日本\u{1F600}x\n</a>"
            .bytes()
            .cycle()
            .take(200_000)
            .collect();
        let two_passes = |b: &[u8]| {
            let utf8 = std::str::from_utf8(b).err().map(|e| e.valid_up_to());
            let control = first_control(&b[..utf8.unwrap_or(b.len())]);
            match (control, utf8) {
                (Some((k, c)), _) => Err((k, CharProblem::Control(c))),
                (None, Some(u)) => Err((u, CharProblem::Utf8)),
                (None, None) => Ok(()),
            }
        };
        assert_eq!(check_chars(&base), Ok(()));
        for at in [0, 1, 65_535, 65_536, 65_537, 131_070, 199_999] {
            for bad in [0x00u8, 0x0b, 0x1f, 0xff, 0x80, 0xe6, 0xf0] {
                let mut b = base.clone();
                b[at] = bad;
                assert_eq!(check_chars(&b), two_passes(&b), "{bad:#x} at {at}");
                let mut both = b.clone();
                both[at / 2] = if bad < 0x80 { 0xff } else { 0x01 };
                assert_eq!(
                    check_chars(&both),
                    two_passes(&both),
                    "{bad:#x} at {at} and half"
                );
            }
        }
        // A whole four-byte character and continuation bytes past it, across a boundary.
        for at in 65_526..65_540 {
            let mut b = base.clone();
            b[at..at + 7].copy_from_slice(&[0xf0, 0x9f, 0x98, 0x80, 0x80, 0x80, 0x80]);
            assert_eq!(check_chars(&b), two_passes(&b), "at {at}");
        }
    }

    #[test]
    fn every_byte_value_at_every_place_in_a_block() {
        for b in 0..=255u8 {
            let forbidden = b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r');
            for len in [1, 63, 64, 65, 200] {
                for at in [0, len / 2, len - 1] {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    // A second one later: the first is the one found.
                    if at + 1 < len {
                        bytes[len - 1] = 0;
                    }
                    let expected = if forbidden {
                        Some((at, b))
                    } else if at + 1 < len {
                        Some((len - 1, 0))
                    } else {
                        None
                    };
                    assert_eq!(first_control(&bytes), expected, "{b:#x} at {at} of {len}");
                }
            }
        }
    }
}
