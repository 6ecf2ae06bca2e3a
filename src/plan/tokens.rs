//! Token substitutions: instance hosts, sys_ids and namespaces, found where they lie.
//!
//! In: raw bytes of a value (as stored in the file, at any escaping depth: hosts, 32-hex ids
//! and namespaces hold no character that escaping changes, so they read the same in every
//! layer; a value spelling one of their characters with a character reference is given
//! decoded by the rewrite). Out: each substitution with its span in those bytes. A sys_id is a whole token: 32
//! lowercase hex digits with no lower-case letter or digit on either side (`sys_script_<id>`,
//! `documentkey=<id>`, `sys_id=<id>` in URLs and `sys_idIN<id>,<id>` in encoded queries, whose
//! operators are upper case, all qualify).

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::ids::IdMap;
use super::namespace::NamespaceRenames;
use crate::analyze::hosts::{HostFinder, HostMatch, lowercase};
use crate::scan::Span;

/// Why a value changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A sys_id regenerated or mapped.
    #[default]
    SysId,
    /// A source instance host.
    Host,
    /// A bare source instance name (e.g. `instance_name`).
    InstanceName,
    /// A scope namespace.
    Namespace,
    /// A secret replaced or emptied.
    Secret,
    /// The application's display name (`fork --name`).
    AppName,
    /// `--set`.
    Set,
    /// `--replace`.
    Replace,
    /// `--regenerate-field`.
    RegenerateField,
    /// `--label`: a display field renamed.
    Label,
    /// `derive`: one new client_id shared by a ServiceNow-to-ServiceNow pair.
    ClientId,
    /// `derive`: state that described the original, reset.
    StateReset,
    /// A reference's `display_value`, following its record's new name.
    DisplayValue,
    /// A record left out by `--only` / `--exclude`.
    LeftOut,
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChangeKind::SysId => "sys_id",
            ChangeKind::Host => "host",
            ChangeKind::InstanceName => "instance_name",
            ChangeKind::Namespace => "namespace",
            ChangeKind::Secret => "secret",
            ChangeKind::AppName => "app_name",
            ChangeKind::Set => "set",
            ChangeKind::Replace => "replace",
            ChangeKind::RegenerateField => "regenerate_field",
            ChangeKind::Label => "label",
            ChangeKind::ClientId => "client_id",
            ChangeKind::StateReset => "state_reset",
            ChangeKind::DisplayValue => "display_value",
            ChangeKind::LeftOut => "left_out",
        })
    }
}

/// One substitution found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subst<'t> {
    /// Where, in the text scanned.
    pub span: Span,
    /// The bytes replaced.
    pub old: &'t [u8],
    /// Their replacement.
    pub new: Cow<'t, [u8]>,
    /// Why.
    pub rule: ChangeKind,
}

/// The token rules of a rewrite.
#[derive(Debug, Clone, Default)]
pub struct TokenRules {
    /// Source host -> target host (lower case).
    pub hosts: FxHashMap<String, String>,
    /// Old sys_id -> new.
    pub ids: IdMap,
    /// Namespace renames applied where the namespace starts an identifier (only with
    /// `scope_prefix`).
    pub namespace_prefixes: NamespaceRenames,
    finder: HostFinder,
}

/// Byte classes: 0 other, 1 digit, 2 lower-case hex letter, 3 other lower-case letter,
/// 4 upper-case hex letter, 5 other upper-case letter, 6 `_`.
const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() {
            1
        } else if b >= b'a' && b <= b'f' {
            2
        } else if b.is_ascii_lowercase() {
            3
        } else if b >= b'A' && b <= b'F' {
            4
        } else if b.is_ascii_uppercase() {
            5
        } else if b == b'_' {
            6
        } else {
            0
        };
        i += 1;
    }
    t
}

const CLASS: [u8; 256] = classes();

/// Hex digits of either case, and upper-case hex letters, as tables.
const ANY_HEX: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = matches!(CLASS[i], 1 | 2 | 4);
        i += 1;
    }
    t
};
const UPPER_HEX: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = CLASS[i] == 4;
        i += 1;
    }
    t
};

/// A hex digit of either case.
fn is_any_hex(b: u8) -> bool {
    ANY_HEX[b as usize]
}

/// A digit or a lower-case hex letter.
fn is_lower_hex(b: u8) -> bool {
    matches!(CLASS[b as usize], 1 | 2)
}

/// A digit or an upper-case hex letter.
fn is_upper_hex(b: u8) -> bool {
    matches!(CLASS[b as usize], 1 | 4)
}

/// Digits and lower-case letters: what may not touch a lower-case sys_id.
fn is_lower_alnum(b: u8) -> bool {
    matches!(CLASS[b as usize], 1..=3)
}

/// Every sys_id-shaped whole token in `text`, in order: 32 lower-case hex digits with no digit
/// or lower-case letter on either side, or 32 upper-case hex digits (at least one a letter)
/// with no hex digit of its case on either side (`SYS_ID=0123ABCD...`, as a hand-written
/// script or query may spell an id).
///
/// It looks at every 32nd byte first: a 32-digit run must cover it, so where that byte is not
/// a hex digit, no token starts in the 32 bytes before it.
///
/// ```
/// use sn_retarget::plan::tokens::id_tokens;
/// let text = b"sys_id=0123456789abcdef0123456789abcdef^x 0123456789abcdef0123456789abcdef0 ID=0123456789ABCDEF0123456789ABCDEF";
/// let found: Vec<_> = id_tokens(text).map(|s| s.start).collect();
/// assert_eq!(found, [7, 79]);
/// // After an escape: `\n` in a JSON string, `%3d` in a URL.
/// let text = br"a\n0123456789abcdef0123456789abcdef b=%3d0123456789abcdef0123456789abcdef";
/// let found: Vec<_> = id_tokens(text).map(|s| s.start).collect();
/// assert_eq!(found, [3, 41]);
/// ```
pub fn id_tokens(text: &[u8]) -> impl Iterator<Item = Span> + '_ {
    let n = text.len();
    // No run of hex digits (of either case) starts before `i` and continues up to it.
    let mut i = 0;
    // Tokens found in a run of both cases' digits, not yet handed out (rare).
    let mut more: Vec<Span> = Vec::new();
    std::iter::from_fn(move || {
        if !more.is_empty() {
            return Some(more.remove(0));
        }
        while i + 32 <= n {
            let probe = i + 31;
            if !is_any_hex(text[probe]) {
                i = probe + 1;
                continue;
            }
            // Upper-case hex letters seen in the run (rare): tracked without a branch.
            let mut upper = UPPER_HEX[text[probe] as usize];
            let mut start = probe;
            while start > i && is_any_hex(text[start - 1]) {
                start -= 1;
                upper |= UPPER_HEX[text[start] as usize];
            }
            let mut end = probe + 1;
            while end < n && is_any_hex(text[end]) {
                upper |= UPPER_HEX[text[end] as usize];
                end += 1;
            }
            i = end + 1; // text[end] (if any) is not a hex digit
            if end - start < 32 {
                continue;
            }
            if !upper {
                let (start, escaped) = after_escape(text, start);
                let whole = end - start == 32
                    && (start == 0 || !is_lower_alnum(text[start - 1]) || escaped)
                    && (end == n || !is_lower_alnum(text[end]));
                if whole {
                    return Some(Span::new(start, end));
                }
                continue;
            }
            tokens_in_run(text, start, end, &mut more);
            if !more.is_empty() {
                return Some(more.remove(0));
            }
        }
        None
    })
}

/// Where a run of hex digits starting at `start` really starts, and whether an escape ends
/// right before that: past the digits of a percent-escape (`%3d<id>`, `%253d<id>`, as
/// lower-case URL encoders write) or the letter of a backslash escape (`\n<id>`: a line
/// break, then the id, to JavaScript and JSON; `\b`, `\f` are hex digits themselves).
fn after_escape(text: &[u8], start: usize) -> (usize, bool) {
    use crate::scan::escapes::{escape_ends_at, past_escape};
    let past = past_escape(text, start);
    (past, past > start || escape_ends_at(text, start))
}

/// The tokens inside a run of hex digits of both cases (`text[start..end]`, at least 32 long),
/// in order: maximal runs of each case's digits, 32 long.
fn tokens_in_run(text: &[u8], start: usize, end: usize, out: &mut Vec<Span>) {
    for lower in [true, false] {
        let in_case = |b: u8| {
            if lower {
                is_lower_hex(b)
            } else {
                is_upper_hex(b)
            }
        };
        let mut a = start;
        while a < end {
            if !in_case(text[a]) {
                a += 1;
                continue;
            }
            let mut b = a;
            while b < end && in_case(text[b]) {
                b += 1;
            }
            let whole = b - a == 32
                && if lower {
                    (a == 0 || !is_lower_alnum(text[a - 1]))
                        && (b == text.len() || !is_lower_alnum(text[b]))
                } else {
                    // Digits only are a lower-case token.
                    text[a..b].iter().any(|&c| CLASS[c as usize] == 4)
                };
            if whole && !out.iter().any(|s| s.start < b && a < s.end) {
                out.push(Span::new(a, b));
            }
            a = b;
        }
    }
    out.sort_unstable();
}

/// `token` (32 hex digits of either case) mapped through `map`, written in the token's case.
pub fn map_token(map: &IdMap, token: &[u8]) -> Option<[u8; 32]> {
    if let Some(new) = map.get(token) {
        return Some(*new);
    }
    // A token is of one case: its first letter says which (digits alone are lower case).
    if !token
        .iter()
        .find(|b| !b.is_ascii_digit())
        .is_some_and(u8::is_ascii_uppercase)
    {
        return None;
    }
    let lower: [u8; 32] = token.to_ascii_lowercase().try_into().ok()?;
    map.get(&lower).map(|new| {
        let mut upper = *new;
        upper.make_ascii_uppercase();
        upper
    })
}

impl TokenRules {
    /// Rules with nothing to do.
    pub fn new(
        hosts: FxHashMap<String, String>,
        ids: IdMap,
        namespace_prefixes: Vec<(String, String)>,
    ) -> TokenRules {
        TokenRules {
            hosts,
            ids,
            namespace_prefixes: NamespaceRenames::new(namespace_prefixes),
            finder: HostFinder::new(),
        }
    }

    /// `true` when no token can change.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ids.is_empty() && self.namespace_prefixes.is_empty()
    }

    /// Every substitution in `text`, sorted by position, never overlapping.
    ///
    /// ```
    /// use rustc_hash::FxHashMap;
    /// use sn_retarget::plan::ids::IdMap;
    /// use sn_retarget::plan::tokens::TokenRules;
    /// let mut hosts = FxHashMap::default();
    /// hosts.insert("dev1.service-now.com".to_string(), "prod.service-now.com".to_string());
    /// let mut ids = IdMap::default();
    /// ids.insert("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
    /// let rules = TokenRules::new(hosts, ids, vec![]);
    /// let text = b"https://dev1.service-now.com/x.do?sys_id=0123456789abcdef0123456789abcdef";
    /// let out: Vec<_> = rules.scan(text).into_iter().map(|s| s.new.into_owned()).collect();
    /// assert_eq!(out, [b"prod.service-now.com".to_vec(), b"fedcba9876543210fedcba9876543210".to_vec()]);
    /// ```
    pub fn scan<'t>(&'t self, text: &'t [u8]) -> Vec<Subst<'t>> {
        self.scan_with(text, &self.finder)
    }

    /// [`TokenRules::scan`] with a host finder of the caller's (e.g. one made for the document
    /// with [`HostFinder::for_document`]).
    pub fn scan_with<'t>(&'t self, text: &'t [u8], finder: &HostFinder) -> Vec<Subst<'t>> {
        let mut out = Vec::new();
        self.scan_into(text, finder, true, &mut out);
        out
    }

    /// The host and namespace substitutions of [`TokenRules::scan_with`] (and the sys_id ones
    /// when `ids`), appended to `out`, sorted by position and never overlapping.
    pub fn scan_into<'t>(
        &'t self,
        text: &'t [u8],
        finder: &HostFinder,
        ids: bool,
        out: &mut Vec<Subst<'t>>,
    ) {
        self.scan_found_into(text, finder.find_all(text), ids, out);
    }

    /// [`TokenRules::scan_into`] without `ids`, the hosts found from the offsets of `text`'s
    /// candidates (see [`HostFinder::find_at`]).
    pub(crate) fn scan_into_at<'t>(
        &'t self,
        text: &'t [u8],
        finder: &HostFinder,
        dots: impl IntoIterator<Item = usize>,
        out: &mut Vec<Subst<'t>>,
    ) {
        self.scan_found_into(text, finder.find_at(text, dots), false, out);
    }

    fn scan_found_into<'t>(
        &'t self,
        text: &'t [u8],
        hosts: impl Iterator<Item = HostMatch<'t>>,
        ids: bool,
        out: &mut Vec<Subst<'t>>,
    ) {
        out.clear();
        if !self.hosts.is_empty() {
            for m in hosts {
                let key = lowercase(m.host);
                if let Some(new) = self.hosts.get(key.as_ref()) {
                    out.push(Subst {
                        span: m.span,
                        old: &text[m.span.range()],
                        new: Cow::Borrowed(new.as_bytes()),
                        rule: ChangeKind::Host,
                    });
                }
            }
        }
        if ids && !self.ids.is_empty() {
            for span in id_tokens(text) {
                if let Some(new) = map_token(&self.ids, &text[span.range()]) {
                    out.push(Subst {
                        span,
                        old: &text[span.range()],
                        new: Cow::Owned(new.to_vec()),
                        rule: ChangeKind::SysId,
                    });
                }
            }
        }
        let mut renamed = Vec::new();
        self.namespace_prefixes.find_into(text, &mut renamed);
        out.extend(renamed.into_iter().map(|(span, new)| Subst {
            span,
            old: &text[span.range()],
            new: Cow::Borrowed(new.as_bytes()),
            rule: ChangeKind::Namespace,
        }));
        if out.len() > 1 {
            out.sort_by_key(|s| (s.span.start, s.span.end));
            let mut last_end = 0;
            out.retain(|s| {
                let keep = s.span.start >= last_end;
                if keep {
                    last_end = s.span.end;
                }
                keep
            });
        }
    }

    /// `text` with every substitution made.
    pub fn apply_to(&self, text: &str) -> String {
        let subs = self.scan(text.as_bytes());
        if subs.is_empty() {
            return text.to_string();
        }
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        for s in subs {
            out.extend_from_slice(&text.as_bytes()[at..s.span.start]);
            out.extend_from_slice(&s.new);
            at = s.span.end;
        }
        out.extend_from_slice(&text.as_bytes()[at..]);
        String::from_utf8(out).unwrap_or_else(|_| text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TokenRules {
        let mut ids = IdMap::default();
        ids.insert(
            "0123456789abcdef0123456789abcdef",
            "ffffffffffffffffffffffffffffffff",
        );
        TokenRules::new(
            FxHashMap::default(),
            ids,
            vec![("x_old".into(), "x_new".into())],
        )
    }

    #[test]
    fn ids_are_whole_tokens() {
        let r = rules();
        let id = "0123456789abcdef0123456789abcdef";
        for (text, hits) in [
            (format!("sys_script_{id}"), 1),
            (format!("documentkey={id}^x"), 1),
            (format!("{id},{id}"), 2),
            (format!("a{id}"), 0),
            (format!("{id}0"), 0),
            (format!("0{id}"), 0),
            (format!("sys_idNOT IN{id},{id}^EQ"), 2),
            (format!("{id}g"), 0),
        ] {
            assert_eq!(r.scan(text.as_bytes()).len(), hits, "{text}");
        }
    }

    /// The plain left-to-right scans `id_tokens` must agree with: maximal runs of each case's
    /// digits, 32 long.
    fn naive(text: &[u8]) -> Vec<Span> {
        let runs = |in_case: fn(u8) -> bool| {
            let (n, mut i, mut out) = (text.len(), 0, Vec::new());
            while i < n {
                if !in_case(text[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < n && in_case(text[i]) {
                    i += 1;
                }
                out.push(Span::new(start, i));
            }
            out
        };
        let mut out: Vec<Span> = runs(is_lower_hex)
            .into_iter()
            .filter(|s| {
                s.len() == 32
                    && (s.start == 0 || !is_lower_alnum(text[s.start - 1]))
                    && (s.end == text.len() || !is_lower_alnum(text[s.end]))
            })
            .collect();
        for s in runs(is_upper_hex) {
            let upper = text[s.range()].iter().any(|b| b.is_ascii_uppercase());
            if s.len() == 32 && upper && !out.iter().any(|o| o.start < s.end && s.start < o.end) {
                out.push(s);
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn skipping_scan_agrees_with_the_plain_one() {
        let alphabet = b"0123456789abcdefgxyzABC_ =&;";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..3000 {
            let len = (round % 160) + 1;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Mostly hex of one case per round, so that 31-, 32- and 33-digit runs
                    // of both cases are common.
                    let k = (state % 100) as usize;
                    let upper = round % 3 == 0;
                    if k < 90 {
                        let c = alphabet[k % 16];
                        if upper { c.to_ascii_uppercase() } else { c }
                    } else {
                        alphabet[k % alphabet.len()]
                    }
                })
                .collect();
            assert_eq!(
                id_tokens(&text).collect::<Vec<_>>(),
                naive(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn namespaces_are_prefixes_of_words() {
        let r = rules();
        assert_eq!(
            r.apply_to("x_old.Api x_old_table x_old2 ax_old x_old sys_choice_x_old_t"),
            "x_new.Api x_new_table x_old2 ax_old x_new sys_choice_x_new_t"
        );
    }
}
