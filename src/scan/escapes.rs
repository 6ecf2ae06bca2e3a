//! Escapes that end right before a token in text: the percent-escapes of URLs (`%2F`, `%3d`,
//! `%252F` escaped twice) and the backslash escapes of JSON and script strings (`\n`). Their
//! digits or letter are no part of the host, id or name that follows: `%2Fdev1` names `dev1`,
//! `\n<id>` is a line break, then the id.

/// `true` for the letters of the backslash escapes that stand for one control character.
fn is_escape_letter(b: u8) -> bool {
    matches!(b, b'n' | b'r' | b't' | b'v' | b'b' | b'f')
}

/// Where a token starting at `start` really starts: past the hex digits of a percent-escape
/// whose `%` is right before `start`, or past the letter of a backslash escape.
pub(crate) fn past_escape(text: &[u8], mut start: usize) -> usize {
    if start == 0 {
        return start;
    }
    if text[start - 1] == b'%' {
        while let Some(pair) = text
            .get(start..start + 2)
            .filter(|p| p.iter().all(u8::is_ascii_hexdigit))
        {
            start += 2;
            if pair != b"25" {
                break; // `%25` is an escaped `%`: another pair of digits follows
            }
        }
    } else if text[start - 1] == b'\\' && text.get(start).copied().is_some_and(is_escape_letter) {
        start += 1;
    }
    start
}

/// `true` when an escape ends right before `at`: a backslash escape's letter, or a
/// percent-escape's digits (`%2F`, `%252F`).
pub(crate) fn escape_ends_at(text: &[u8], at: usize) -> bool {
    let hex2 = |k: usize| text[k..k + 2].iter().all(u8::is_ascii_hexdigit);
    (at >= 2 && text[at - 2] == b'\\' && is_escape_letter(text[at - 1]))
        || (at >= 3 && text[at - 3] == b'%' && hex2(at - 2))
        || (at >= 5 && text[at - 5] == b'%' && &text[at - 4..at - 2] == b"25" && hex2(at - 2))
}

#[cfg(test)]
mod tests {
    use super::{escape_ends_at, past_escape};

    #[test]
    fn escapes_before_a_token_are_skipped_and_seen() {
        assert_eq!(past_escape(b"%252Fdev1", 1), 5);
        assert_eq!(past_escape(b"%3ddev1", 1), 3);
        assert_eq!(past_escape(b"\\ndev1", 1), 2);
        assert_eq!(past_escape(b"\\xdev1", 1), 1);
        assert_eq!(past_escape(b"dev1", 0), 0);
        assert!(escape_ends_at(b"\\nx", 2));
        assert!(escape_ends_at(b"%2Fx", 3));
        assert!(escape_ends_at(b"%252Fx", 5));
        assert!(!escape_ends_at(b"a2Fx", 3));
        assert!(!escape_ends_at(b"x", 0));
    }
}
