//! Secrets hidden in the lines shown to people: error snippets, findings, messages.
//!
//! In: one line of raw input (file bytes, or a payload at any escaping depth). Out: the line
//! with every place that may hold a secret replaced by `***`: ciphertext in any spelling (see
//! [`crate::analyze::cipher`]), and the text of any column that is secret or looks secret,
//! written as `<name>`, `&lt;name&gt;`, `&amp;lt;name&amp;gt;` or deeper, in any letter case.
//! Columns added to any [`SecretRules`](crate::analyze::secrets::SecretRules) of the process
//! (`--secret-field`, dictionaries) are masked from then on in every line ([`mask_column`]):
//! masking more is always safe, so the set only grows.

use std::collections::BTreeSet;
use std::sync::RwLock;

use super::cipher::{Cursor, match_at};
use super::names::{KNOWN_SECRET_COLUMNS, looks_secret};

/// Column names (lower case) masked besides the known and secret-looking ones.
static EXTRA: RwLock<BTreeSet<String>> = RwLock::new(BTreeSet::new());

/// Masks the text of column `name` (any table, any letter case) in every line shown from now
/// on.
pub fn mask_column(name: &str) {
    let name = name.to_ascii_lowercase();
    let known = EXTRA.read().map(|s| s.contains(&name)).unwrap_or(false);
    if !known {
        if let Ok(mut s) = EXTRA.write() {
            s.insert(name);
        }
    }
}

/// `true` when the text of a column named `name` is masked.
fn is_masked(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "value"
        || looks_secret(&lower)
        || KNOWN_SECRET_COLUMNS.iter().any(|(_, f)| *f == lower)
        || EXTRA.read().is_ok_and(|s| s.contains(&lower))
}

/// Masks everything in `line` that may be a secret. Used for every snippet shown.
///
/// ```
/// use sn_retarget::analyze::secrets::mask_secrets;
/// let s = mask_secrets("<password>hunter2</password><v>)pR#abcdefghijkl</v>");
/// assert!(!s.contains("hunter2") && !s.contains("abcdefghijkl"));
/// let s = mask_secrets("&amp;lt;PassWord&amp;gt;hunter2&amp;lt;/PassWord&amp;gt;");
/// assert!(!s.contains("hunter2"));
/// ```
pub fn mask_secrets(line: &str) -> String {
    mask_secrets_at(line, 0).0
}

/// [`mask_secrets`], also moving byte offset `caret` to where it lands in the masked line.
pub fn mask_secrets_at(line: &str, caret: usize) -> (String, usize) {
    mask_cut_line_at(line, caret, false, false)
}

/// [`mask_secrets_at`] for a piece of a longer line: when its start (or end) was cut, the text
/// before its first (or after its last) markup may belong to a value that starts (or ends)
/// out of sight, and is masked too.
pub fn mask_cut_line_at(
    line: &str,
    caret: usize,
    cut_start: bool,
    cut_end: bool,
) -> (String, usize) {
    let mut regions = secret_regions(line);
    let marks = markers(line.as_bytes());
    if cut_start {
        let first = marks.first().map_or(line.len(), |m| m.start);
        if first > 0 {
            regions.push((0, first));
        }
    }
    if cut_end {
        let last = marks.last().map_or(0, |m| m.end);
        if last < line.len() {
            regions.push((last, line.len()));
        }
    }
    let regions = merged(regions, line);
    let mut out = String::with_capacity(line.len());
    let mut new_caret = None;
    let mut at = 0;
    for (s, e) in regions {
        if new_caret.is_none() && caret < e {
            new_caret = Some(out.len() + caret.saturating_sub(at).min(s - at));
        }
        out.push_str(&line[at..s]);
        out.push_str("***");
        at = e;
    }
    let caret = new_caret.unwrap_or(out.len() + caret.saturating_sub(at));
    out.push_str(&line[at..]);
    (out, caret)
}

/// A `<` or `>` of markup, as written at some escaping depth (`<`, `&lt;`, `&amp;lt;`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Marker {
    open: bool,
    start: usize,
    end: usize,
}

/// Every markup marker of `line`, in order.
fn markers(line: &[u8]) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(k) = memchr::memchr3(b'<', b'>', b'&', &line[i..]) {
        let at = i + k;
        match line[at] {
            b'<' | b'>' => {
                out.push(Marker {
                    open: line[at] == b'<',
                    start: at,
                    end: at + 1,
                });
                i = at + 1;
            }
            _ => {
                let mut p = at + 1;
                while line[p..].starts_with(b"amp;") {
                    p += 4;
                }
                let open = line[p..].starts_with(b"lt;");
                if open || line[p..].starts_with(b"gt;") {
                    out.push(Marker {
                        open,
                        start: at,
                        end: p + 3,
                    });
                    i = p + 3;
                } else {
                    i = at + 1;
                }
            }
        }
    }
    out
}

/// The element name right after a marker (and whether it is an end tag), if one is there.
fn name_after(line: &[u8], m: &Marker) -> Option<(bool, usize, usize)> {
    let mut s = m.end;
    let close = line.get(s) == Some(&b'/');
    if close {
        s += 1;
    }
    let len = line[s..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
        .count();
    (len > 0).then_some((close, s, s + len))
}

/// Byte ranges of `line` that may hold secrets, sorted and disjoint.
fn secret_regions(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut regions = cipher_regions(bytes);
    let marks = markers(bytes);
    for (k, m) in marks.iter().enumerate() {
        if !m.open {
            continue;
        }
        let Some((close, s, e)) = name_after(bytes, m) else {
            continue;
        };
        let name = &line[s..e];
        if !is_masked(name) {
            continue;
        }
        if !close {
            // `<name ...>` then the text up to `</name` (any case) or the end of the line.
            let Some(gt) = marks[k + 1..].iter().find(|g| !g.open) else {
                continue;
            };
            let end = marks[k + 1..]
                .iter()
                .filter(|x| x.open && x.start >= gt.end)
                .find(|x| {
                    name_after(bytes, x)
                        .is_some_and(|(c, s2, e2)| c && line[s2..e2].eq_ignore_ascii_case(name))
                })
                .map_or(line.len(), |x| x.start);
            if end > gt.end {
                regions.push((gt.end, end));
            }
        } else {
            // Back from the end tag: a damaged start tag is just where an error is shown. The
            // value starts after the last `>` before it that does not end a CDATA section.
            let before = marks[..k]
                .iter()
                .rev()
                .find(|g| !g.open && !line[..g.start].ends_with("]]"))
                .map_or(0, |g| g.end);
            if m.start > before {
                regions.push((before, m.start));
            }
        }
    }
    regions
}

/// `regions` sorted, joined where they touch, and widened to whole characters.
fn merged(mut regions: Vec<(usize, usize)>, line: &str) -> Vec<(usize, usize)> {
    for r in &mut regions {
        while !line.is_char_boundary(r.0) {
            r.0 -= 1;
        }
        while !line.is_char_boundary(r.1) {
            r.1 += 1;
        }
    }
    regions.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(regions.len());
    for (s, e) in regions {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Ciphertext runs: each match, widened to the whole value around it.
fn cipher_regions(line: &[u8]) -> Vec<(usize, usize)> {
    let flat = Slice(line);
    let mut value = Vec::new();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for a in memchr::memchr2_iter(b'#', 0xEF, line) {
        if out.last().is_some_and(|r| a < r.1) {
            continue;
        }
        let Some(start) = match_at(&flat, a, &mut value) else {
            continue;
        };
        let from = line[..start]
            .iter()
            .rposition(|&b| {
                matches!(b, b'>' | b';' | b'"' | b'\'' | b'[') || b.is_ascii_whitespace()
            })
            .map_or(0, |j| j + 1);
        let to = line[a..]
            .iter()
            .position(|&b| matches!(b, b'<' | b'"' | b'\'') || b.is_ascii_whitespace())
            .map_or(line.len(), |j| a + j);
        out.push((from, to));
    }
    out
}

/// The line as a [`Cursor`].
struct Slice<'a>(&'a [u8]);

impl Cursor for Slice<'_> {
    type P = usize;
    fn byte(&self, p: usize) -> u8 {
        self.0[p]
    }
    fn next(&self, p: usize) -> Option<usize> {
        (p + 1 < self.0.len()).then_some(p + 1)
    }
    fn prev(&self, p: usize) -> Option<usize> {
        p.checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        let line = "&lt;client_secret&gt;abc&lt;/client_secret&gt; \u{FDDE}\u{FDDF}zz\u{FDEF} ok";
        let m = mask_secrets(line);
        assert!(!m.contains("abc") && !m.contains("zz"), "{m}");
        assert!(m.ends_with(" ok"));
        // A window that starts inside a value still hides the part before the noncharacter.
        let m = mask_secrets("GVha2Vk\u{FDEE}\u{FDEF}</client_secret><name>");
        assert!(!m.contains("GVha2Vk"), "{m}");
        for line in [
            "<password>p&amp;Sup3r</password>",
            "<password><![CDATA[Sup3r]]></password>",
            "<client_secret display_value=\"\">Sup3r</client_secret>",
            "&lt;password&gt;p&amp;amp;Sup3r&lt;/password&gt;",
            "&amp;lt;password&amp;gt;Sup3r&amp;lt;/password&amp;gt;",
            "&amp;amp;lt;Password&amp;amp;gt;Sup3r&amp;amp;lt;/Password&amp;amp;gt;",
            "<CLIENT_SECRET>Sup3r</CLIENT_SECRET>",
            "<x_api_key>Sup3r</x_api_key>",
            // A damaged start tag: masked back from the end tag.
            "<passworY>Sup3r</password><x>",
            "<passworY><![CDATA[Sup3r]]></password>",
            "&lt;passwor&gt;Sup3r&lt;/password&gt;",
            "&lt;pass!word&gt;&lt;![CDATA[Sup3r]]&gt;&lt;/password&gt;",
            // Ciphertext in references, at any depth.
            "<v>&#64990;&#64991;Sup3r&#65006;</v>",
            "<v>)pR&#35;Sup3rSup3rSup3r</v>",
            "<v>&amp;amp;#xFDDE;Sup3r</v>",
        ] {
            assert!(!mask_secrets(line).contains("Sup3r"), "{line}");
        }
        let (m, c) = mask_secrets_at("<password>hunter2</password><x", 28);
        assert_eq!(&m[c..], "<x");
        assert_eq!(
            mask_secrets("<name>OAuth Client</name>"),
            "<name>OAuth Client</name>"
        );
    }

    #[test]
    fn registered_columns_are_masked() {
        assert!(mask_secrets("<x_pin_code>1234</x_pin_code>").contains("1234"));
        mask_column("X_PIN_CODE");
        assert!(!mask_secrets("<x_pin_code>1234</x_pin_code>").contains("1234"));
    }
}
